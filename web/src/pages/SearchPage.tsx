import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { QueryEditor, focusEditor } from '../editor/QueryEditor';
import { TimeRangePicker } from '../components/TimeRangePicker';
import { Histogram } from '../charts/Histogram';
import { VirtualList } from '../components/VirtualList';
import { Message } from '../components/Message';
import { FieldBrowser } from '../components/FieldBrowser';
import { Aggregates } from '../components/Aggregates';
import { LiveTail } from '../components/LiveTail';
import { ContextDialog } from '../components/Dialogs';
import { Library, SaveDialog } from '../components/Library';
import { Signatures, isSignatureResult, LogReduceHint, signatureQuery } from '../components/LogReduce';
import { SearchJob, isFinished, type Bucket } from '../lib/job';
import { ApiError, get, parseQueryError, post, type QueryProblem } from '../lib/api';
import { decodeState, encodeState, type SearchState, type Tab } from '../lib/urlstate';
import { resolveRange, isoLocal, browserZone, formatTime } from '../lib/timerange';
import { searchTerms, termsRegExp, addFilter, scopeOf } from '../lib/text';
import { summarizeFields, type FieldSummary } from '../lib/fields';
import { formatNumber, type Rec } from '../lib/charts';

const AGGREGATE_OPS = /\|\s*(count|count_distinct|count_frequent|sum|avg|min|max|pct|median|stddev|first|last|most_recent|least_recent|values|topk|top|logreduce|summarize|logcompare|transpose)\b/i;

interface ServerFields {
  rows: number;
  complete: boolean;
  fields: { name: string; count: number; distinct: number; distinctCapped: boolean; topValues: { value: string; count: number }[] | null }[];
}

export function SearchPage({ theme }: { theme: string }) {
  const [st, setSt] = useState<SearchState>(() => decodeState(location.search, browserZone()));
  const [draft, setDraft] = useState(st.q);
  // Texts put into the editor from outside (not typed).
  const [external, setExternal] = useState({ text: st.q, seq: 0 });
  const setQueryText = (q: string) => {
    setDraft(q);
    setExternal((e) => ({ text: q, seq: e.seq + 1 }));
  };
  const [problem, setProblem] = useState<QueryProblem | null>(null);
  const [error, setError] = useState('');
  const [job, setJob] = useState<SearchJob | null>(null);
  const [, setVersion] = useState(0);
  const [ranQuery, setRanQuery] = useState('');
  const [range, setRange] = useState<{ start: number; end: number } | null>(null);
  const [selected, setSelected] = useState(-1);
  const [scrollTo, setScrollTo] = useState<{ index: number; seq: number } | null>(null);
  const [context, setContext] = useState<Rec | null>(null);
  const [library, setLibrary] = useState(false);
  const [saving, setSaving] = useState(false);
  const [libRefresh, setLibRefresh] = useState(0);
  const [fieldSummary, setFieldSummary] = useState<{ fields: FieldSummary[]; rows: number }>({ fields: [], rows: 0 });
  const [firstPageMs, setFirstPageMs] = useState(-1);
  const jobRef = useRef<SearchJob | null>(null);

  // ---- URL state ----
  const pushState = (s: SearchState, replace = false) => {
    const url = '/search' + encodeState(s);
    if (url !== location.pathname + location.search) {
      if (replace) history.replaceState(null, '', url);
      else history.pushState(null, '', url);
    }
    setSt(s);
  };

  // ---- running ----
  const run = useCallback(
    async (s: SearchState) => {
      setError('');
      setProblem(null);
      setSelected(-1);
      setFirstPageMs(-1);
      jobRef.current?.dispose();
      jobRef.current = null;
      setJob(null);
      setFieldSummary({ fields: [], rows: 0 });
      let r: { start: number; end: number };
      try {
        r = resolveRange(s, s.tz);
      } catch (e) {
        setError((e as Error).message);
        return;
      }
      setRange(r);
      setRanQuery(s.q);
      if (s.tab === 'tail') return;
      if (!s.q.trim()) return;
      const j = new SearchJob({ query: s.q, from: r.start, to: r.end, timeZone: s.tz });
      jobRef.current = j;
      j.onChange(() => {
        setVersion((v) => v + 1);
        if (j.firstPageMs >= 0) setFirstPageMs(j.firstPageMs);
      });
      setJob(j);
      try {
        await j.start();
        // The first page right away: no waiting for the first poll.
        void j.loadPage(0);
      } catch (e) {
        if (jobRef.current !== j) return;
        const msg = e instanceof ApiError ? e.message : String(e);
        const p = parseQueryError(msg);
        if (p) setProblem(p);
        setError(msg);
        setJob(null);
        return;
      }
      void post('/api/v1/recent-searches', { query: s.q, from: s.from, to: s.to, timeZone: s.tz }).catch(() => undefined);
    },
    [],
  );

  const runDraft = (patch: Partial<SearchState> = {}) => {
    let tab = patch.tab ?? st.tab;
    const q = patch.q ?? draft;
    if (tab !== 'tail') tab = AGGREGATE_OPS.test(q) ? (/\|\s*(logreduce|summarize|logcompare)\b/i.test(q) ? 'logreduce' : 'aggregates') : 'messages';
    const s = { ...st, ...patch, q, tab, run: true };
    if (q !== draft) setQueryText(q);
    pushState(s);
    void run(s);
  };

  // Run what the URL says on load, and on back/forward.
  useEffect(() => {
    if (st.run || st.tab === 'tail') void run(st);
    const onPop = () => {
      const s = decodeState(location.search, browserZone());
      setSt(s);
      setQueryText(s.q);
      void run(s);
    };
    addEventListener('popstate', onPop);
    return () => {
      removeEventListener('popstate', onPop);
      jobRef.current?.dispose();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Release the job when the page goes away.
  useEffect(() => {
    const onHide = () => jobRef.current?.dispose();
    addEventListener('pagehide', onHide);
    return () => removeEventListener('pagehide', onHide);
  }, []);

  // ---- validation as you type ----
  useEffect(() => {
    if (!draft.trim()) {
      setProblem(null);
      return;
    }
    const ac = new AbortController();
    const t = setTimeout(() => {
      post('/api/v1/query/explain', { query: draft }, ac.signal)
        .then(() => setProblem(null))
        .catch((e) => {
          if (ac.signal.aborted || !(e instanceof ApiError) || e.status !== 400) return;
          setProblem(parseQueryError(e.message));
        });
    }, 500);
    return () => {
      clearTimeout(t);
      ac.abort();
    };
  }, [draft]);

  // ---- field summary ----
  const count = job?.messageCount ?? 0;
  const finished = job ? isFinished(job.state) : true;
  useEffect(() => {
    const j = job;
    if (!j || !j.id) return;
    let stop = false;
    const load = async () => {
      try {
        const r = await get<ServerFields>(`/api/v1/search/jobs/${j.id}/fields?top=10`);
        if (stop) return;
        setFieldSummary({
          rows: r.rows,
          fields: r.fields
            .filter((f) => f.name !== '_raw' && f.name !== '_messageid' && f.name !== '_messagetime' && f.name !== '_receipttime' && f.name !== '_size' && f.name !== '_format')
            .map((f) => ({ name: f.name, count: f.count, distinct: f.distinct, moreValues: f.distinctCapped, top: f.topValues ?? [] })),
        });
      } catch {
        // Older servers: summarize the messages fetched so far.
        const msgs = j.loadedMessages(5000);
        if (!stop) setFieldSummary({ fields: summarizeFields(msgs), rows: msgs.length });
      }
    };
    const t = setTimeout(load, finished ? 0 : 400);
    return () => {
      stop = true;
      clearTimeout(t);
    };
  }, [job, job?.id, finished, Math.floor(Math.log2(count + 1))]);

  const fieldsForEditor = useCallback(() => fieldSummary.fields, [fieldSummary]);

  // ---- derived ----
  const re = useMemo(() => termsRegExp(searchTerms(ranQuery)), [ranQuery]);
  let histTotal = 0;
  job?.buckets.forEach((b) => (histTotal += b.count));
  // A new array only when the histogram changed: redrawing the chart on
  // every keystroke would be wasted work.
  const buckets: Bucket[] = useMemo(
    () => (job ? [...job.buckets.values()].sort((a, b) => a.startTimestamp - b.startTimestamp) : []),
    [job, job?.buckets.size, histTotal],
  );
  const isAgg = AGGREGATE_OPS.test(ranQuery);

  const setTab = (tab: Tab) => {
    const s = { ...st, tab };
    pushState(s, true);
    if (tab === 'tail' || st.tab === 'tail') void run({ ...s, q: draft });
  };

  const onFilter = (field: string, value: string, exclude = false) => {
    const q = addFilter(draft || ranQuery, field, value, exclude);
    runDraft({ q });
  };

  const filterRef = useRef(onFilter);
  filterRef.current = onFilter;
  const stableFilter = useCallback((field: string, value: string, exclude?: boolean) => filterRef.current(field, value, exclude), []);

  const toggleColumn = (name: string) => {
    const cols = st.cols.includes(name) ? st.cols.filter((c) => c !== name) : [...st.cols, name];
    pushState({ ...st, cols }, true);
  };

  const zoom = (start: number, end: number) => {
    runDraft({ from: isoLocal(start, st.tz), to: isoLocal(end, st.tz) });
  };

  // ---- keyboard ----
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      const typing = t.closest('input, textarea, select, .cm-editor, [contenteditable]');
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
        e.preventDefault();
        if (draft.trim()) setSaving(true);
        return;
      }
      if (e.altKey && /^[1-4]$/.test(e.key)) {
        e.preventDefault();
        setTab((['messages', 'aggregates', 'logreduce', 'tail'] as Tab[])[Number(e.key) - 1]);
        return;
      }
      if (typing) return;
      if (e.key === '/') {
        e.preventDefault();
        focusEditor();
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });

  const onListKey = (e: KeyboardEvent) => {
    if (!job) return;
    const n = job.messageCount;
    let i = selected;
    if (e.key === 'j' || e.key === 'ArrowDown') i = Math.min(n - 1, i + 1);
    else if (e.key === 'k' || e.key === 'ArrowUp') i = Math.max(0, i - 1);
    else if (e.key === 'Home') i = 0;
    else if (e.key === 'End') i = n - 1;
    else if (e.key === 'c' && i >= 0) {
      const m = job.message(i);
      if (m) setContext(m);
      return;
    } else return;
    e.preventDefault();
    setSelected(i);
    setScrollTo({ index: i, seq: Date.now() });
  };

  const openSignature = (row: Rec) => {
    const base = scopeOf(ranQuery).trim();
    const words = signatureQuery(row._signature ?? '');
    runDraft({ q: [base && base !== '*' ? base : '', words].filter(Boolean).join(' ') || '*', tab: 'messages' });
  };

  const runWithOp = (op: 'logreduce' | 'logcompare') => {
    const base = scopeOf(draft || ranQuery).trim() || '*';
    runDraft({ q: op === 'logreduce' ? `${base} | logreduce` : `${base} | logcompare timeshift -24h` });
  };

  const records = job?.records ?? null;
  const recordFields = job?.recordFields ?? [];
  const state = job?.state ?? '';
  const progress = job && !finished;

  return (
    <div class="search-page">
      <div class="search-bar">
        <QueryEditor value={st.q} external={external} onChange={setDraft} onRun={() => runDraft()} problem={problem} fields={fieldsForEditor} />
        <div class="search-actions">
          <TimeRangePicker range={{ from: st.from, to: st.to }} tz={st.tz} onChange={(r, tz) => runDraft({ from: r.from, to: r.to, tz })} />
          {progress ? (
            <button type="button" class="btn danger" onClick={() => void job!.cancel()} data-testid="cancel">
              Cancel
            </button>
          ) : (
            <button type="button" class="btn primary" onClick={() => runDraft()} data-testid="run" title="Run (Ctrl+Enter)">
              Search
            </button>
          )}
          <button type="button" class="btn" onClick={() => setSaving(true)} disabled={!draft.trim()} title="Save this search (Ctrl+S)" data-testid="save">
            Save
          </button>
          <button type="button" class="btn" onClick={() => setLibrary(true)} title="Saved and recent searches" data-testid="open-library">
            Searches
          </button>
        </div>
      </div>
      {problem && (
        <div class="problem" role="alert" data-testid="query-problem">
          <strong>
            Line {problem.line}, column {problem.column}:
          </strong>{' '}
          {problem.message}
          {problem.hint && <span class="hint"> — {problem.hint}</span>}
        </div>
      )}
      {error && !problem && (
        <div class="problem" role="alert">
          {error}
        </div>
      )}
      {job && (job.errors.length > 0 || job.warnings.length > 0) && (
        <div class="notices">
          {job.errors.map((e, i) => (
            <div class="problem" key={'e' + i}>
              {e}
            </div>
          ))}
          {job.warnings.map((w, i) => (
            <div class="warning" key={'w' + i}>
              {w}
            </div>
          ))}
        </div>
      )}

      <div class="tabs" role="tablist">
        {(
          [
            ['messages', `Messages${job && !isAgg ? ` (${formatNumber(job.messageCount)})` : ''}`],
            ['aggregates', `Aggregates${records ? ` (${formatNumber(records.length)})` : ''}`],
            ['logreduce', 'LogReduce'],
            ['tail', 'Live tail'],
          ] as [Tab, string][]
        ).map(([t, label], i) => (
          <button type="button" role="tab" key={t} aria-selected={st.tab === t} class={'tab' + (st.tab === t ? ' active' : '')} onClick={() => setTab(t)} title={`Alt+${i + 1}`} data-testid={`tab-${t}`}>
            {label}
          </button>
        ))}
        <span class="spacer" />
        {job && (
          <span class="status" data-testid="job-status">
            {progress && <span class="spinner" aria-hidden="true" />}
            {progress ? 'Searching…' : state === 'CANCELLED' ? 'Cancelled' : state === 'FORCE PAUSED' ? 'Stopped at the result limit' : 'Done'}{' '}
            {formatNumber(isAgg ? job.messageCount : Math.max(job.messageCount, histTotal))} messages
            {firstPageMs >= 0 && <span class="muted" data-testid="first-page-ms"> · first page {Math.round(firstPageMs)} ms</span>}
          </span>
        )}
      </div>

      {st.tab !== 'tail' && range && job && (
        <Histogram buckets={buckets} start={range.start} end={range.end} tz={st.tz} theme={theme} onZoom={zoom} />
      )}

      <div class="results">
        {st.tab === 'messages' && (
          <>
            <FieldBrowser fields={fieldSummary.fields} sampled={fieldSummary.rows} total={count} cols={st.cols} onToggleColumn={toggleColumn} onFilter={onFilter} />
            <div class="messages-pane">
              {!job && !error && <Welcome onPick={(q) => runDraft({ q })} />}
              {job && count === 0 && finished && <p class="empty">No messages match in {range ? `${formatTime(range.start, st.tz, false)} → ${formatTime(range.end, st.tz, false)}` : 'this range'}.</p>}
              {job && count > 0 && (
                <VirtualList
                  class="messages"
                  count={count}
                  estimate={60}
                  resetKey={job}
                  label="Messages"
                  scrollTo={scrollTo}
                  onKeyDown={onListKey}
                  renderItem={(i) => (
                    <Message msg={job.message(i)} index={i} selected={i === selected} re={re} tz={st.tz} cols={st.cols} onSelect={setSelected} onContext={setContext} onFilter={stableFilter} />
                  )}
                />
              )}
            </div>
          </>
        )}
        {st.tab === 'aggregates' && (
          <div class="agg-pane">
            {records && records.length > 0 ? (
              isSignatureResult(recordFields) ? (
                <Signatures rows={records} onOpen={openSignature} />
              ) : (
                <Aggregates fields={recordFields} rows={records} tz={st.tz} theme={theme} query={ranQuery} />
              )
            ) : (
              <p class="empty">{progress ? 'Aggregating…' : isAgg ? 'No records.' : 'This query has no aggregate. Add one, for example | count by _sourceCategory, or | timeslice 1h | count by _timeslice.'}</p>
            )}
          </div>
        )}
        {st.tab === 'logreduce' && (
          <div class="agg-pane">
            {records && isSignatureResult(recordFields) ? <Signatures rows={records} onOpen={openSignature} /> : progress ? <p class="empty">Reducing…</p> : <LogReduceHint onRun={runWithOp} />}
          </div>
        )}
        {st.tab === 'tail' && (
          <div class="messages-pane">
            <LiveTail query={ranQuery || '*'} tz={st.tz} re={re} cols={st.cols} onContext={setContext} onFilter={stableFilter} />
          </div>
        )}
      </div>

      {context && <ContextDialog msg={context} tz={st.tz} re={re} onClose={() => setContext(null)} />}
      {library && (
        <Library
          refresh={libRefresh}
          onClose={() => setLibrary(false)}
          onPick={(s) => {
            setLibrary(false);
            runDraft({ q: s.query, from: s.from, to: s.to, tz: s.timeZone || st.tz });
          }}
        />
      )}
      {saving && <SaveDialog search={{ query: draft, from: st.from, to: st.to, timeZone: st.tz }} onClose={() => setSaving(false)} onSaved={() => setLibRefresh((n) => n + 1)} />}
    </div>
  );
}

const EXAMPLES = [
  ['Errors in the payments app', '_sourceCategory=demo/app/payments error'],
  ['Web requests by status', '_sourceCategory=demo/web/access | count by status'],
  ['Console logins', '_sourceCategory=aws/cloudtrail ConsoleLogin'],
  ['Messages per source over time', '* | timeslice 1h | count by _timeslice, _sourceCategory'],
];

function Welcome({ onPick }: { onPick: (q: string) => void }) {
  return (
    <div class="welcome">
      <h2>Search your logs</h2>
      <p class="muted">
        Type a query and press <kbd>Ctrl</kbd>+<kbd>Enter</kbd>. <kbd>/</kbd> focuses the query, <kbd>j</kbd>/<kbd>k</kbd> move through messages,{' '}
        <kbd>c</kbd> shows a message's surroundings, <kbd>Alt</kbd>+<kbd>1</kbd>…<kbd>4</kbd> switch tabs, <kbd>Ctrl</kbd>+<kbd>S</kbd> saves.
      </p>
      <ul>
        {EXAMPLES.map(([label, q]) => (
          <li key={q}>
            <button type="button" class="link" onClick={() => onPick(q)}>
              {label}
            </button>{' '}
            <code>{q}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}
