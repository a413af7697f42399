import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, del, get, post, put, streamNDJSON } from '../lib/api';
import {
  addPanel,
  clickValues,
  decodeDashState,
  duplicatePanel,
  encodeDashState,
  gridHeight,
  movePanel,
  REFRESH_CHOICES,
  resizePanel,
  VIZ_TYPES,
  type Dashboard,
  type DashState,
  type DrillDownResult,
  type Panel,
  type PanelResult,
  type RunDone,
  type RunMeta,
  type Threshold,
  type Variable,
  type Visualization,
  type VizType,
} from '../lib/dashboards';
import { navClick, navigate } from '../lib/nav';
import { browserZone, isoLocal } from '../lib/timerange';
import { searchURL, defaultState } from '../lib/urlstate';
import { TimeRangePicker } from '../components/TimeRangePicker';
import { PanelView, type PanelClick } from '../components/PanelView';
import { QueryEditor } from '../editor/QueryEditor';
import { GeoCredit } from '../components/GeoCredit';

interface Props {
  id: string;
  theme: string;
}

type PanelState = { state: 'loading' } | { state: 'done'; result: PanelResult };

const ROW_PX = 34;

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** DashboardPage shows a dashboard: its panels on a grid, one time range, variables, auto-refresh, drill-down and editing. */
export function DashboardPage({ id, theme }: Props) {
  const [dash, setDash] = useState<Dashboard | null>(null);
  const [loadError, setLoadError] = useState('');
  const [st, setSt] = useState<DashState | null>(null);
  const [draft, setDraft] = useState<Dashboard | null>(null);
  const [panels, setPanels] = useState<Record<string, PanelState>>({});
  const [meta, setMeta] = useState<RunMeta | null>(null);
  const [done, setDone] = useState<RunDone | null>(null);
  const [runError, setRunError] = useState('');
  const [notice, setNotice] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const [varValues, setVarValues] = useState<Record<string, string[]>>({});
  const [runSeq, setRunSeq] = useState(0);
  const [saving, setSaving] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const previewAbort = useRef<AbortController | null>(null);

  const shown = draft ?? dash;

  // Load the dashboard; the URL's state wins over its defaults.
  useEffect(() => {
    let live = true;
    setDash(null);
    setLoadError('');
    get<Dashboard>(`/api/v1/dashboards/${encodeURIComponent(id)}`)
      .then((d) => {
        if (!live) return;
        setDash(d);
        const s = decodeDashState(location.search, d, browserZone());
        setSt(s);
        if (s.edit) setDraft(structuredClone(d));
      })
      .catch((e) => live && setLoadError(errMessage(e)));
    return () => {
      live = false;
      abort.current?.abort();
      previewAbort.current?.abort();
    };
  }, [id]);

  // Keep the state in the URL.
  useEffect(() => {
    if (!st) return;
    const url = location.pathname + encodeDashState(st);
    if (url !== location.pathname + location.search) history.replaceState(null, '', url);
  }, [st]);

  const run = useCallback(
    async (only?: string[]) => {
      const d = draft ?? dash;
      if (!d || !st) return;
      const ac = new AbortController();
      if (!only) {
        abort.current?.abort();
        abort.current = ac;
        setDone(null);
        setRunError('');
      } else {
        // A newer preview replaces the one still running.
        previewAbort.current?.abort();
        previewAbort.current = ac;
      }
      const ids = only ?? d.panels.map((p) => p.id);
      setPanels((prev) => {
        const next = only ? { ...prev } : {};
        for (const pid of ids) next[pid] = { state: 'loading' };
        return next;
      });
      const body: Record<string, unknown> = { timeRange: { from: st.from, to: st.to }, timeZone: st.tz, variables: st.vars };
      if (only) body.panels = only;
      const path = draft ? '/api/v1/dashboards/run' : `/api/v1/dashboards/${encodeURIComponent(d.id!)}/run`;
      if (draft) body.dashboard = d;
      try {
        await streamNDJSON(path, body, ac.signal, (line) => {
          const ev = line as { type: string } & Record<string, unknown>;
          if (ev.type === 'meta') setMeta(ev as unknown as RunMeta);
          else if (ev.type === 'panel') {
            const r = ev as unknown as PanelResult;
            setPanels((prev) => ({ ...prev, [r.panelId]: { state: 'done', result: r } }));
          } else if (ev.type === 'done') {
            if (!only) setDone(ev as unknown as RunDone);
          } else if (ev.type === 'error') setRunError(String(ev.message ?? 'the run failed'));
        });
      } catch (e) {
        if (ac.signal.aborted) return;
        const msg = e instanceof ApiError ? e.message : errMessage(e);
        setRunError(msg);
        setPanels((prev) => {
          const next = { ...prev };
          for (const pid of ids) if (next[pid]?.state === 'loading') delete next[pid];
          return next;
        });
      }
    },
    [dash, draft, st],
  );

  // Run on load and whenever the range, zone or variables change.
  useEffect(() => {
    if (dash && st) void run();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dash?.id, dash?.version, st?.from, st?.to, st?.tz, JSON.stringify(st?.vars ?? {}), runSeq]);

  // Auto-refresh.
  useEffect(() => {
    if (!st?.refresh) return;
    const t = setInterval(() => setRunSeq((n) => n + 1), st.refresh * 1000);
    return () => clearInterval(t);
  }, [st?.refresh]);

  // Template variables' choices.
  useEffect(() => {
    if (!shown || !st) return;
    for (const v of shown.variables ?? []) {
      if (v.kind === 'list') setVarValues((p) => ({ ...p, [v.name]: v.values ?? [] }));
      else if (v.kind === 'query') {
        const req = dash?.id && !draft ? get<{ values: string[] }>(`/api/v1/dashboards/${encodeURIComponent(dash.id)}/variables/${encodeURIComponent(v.name)}/values?` + new URLSearchParams({ from: st.from, to: st.to, timeZone: st.tz })) : post<{ values: string[] }>('/api/v1/dashboards/variable-values', { variable: v, timeRange: { from: st.from, to: st.to }, timeZone: st.tz });
        req.then((r) => setVarValues((p) => ({ ...p, [v.name]: r.values ?? [] }))).catch(() => setVarValues((p) => ({ ...p, [v.name]: [] })));
      }
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shown?.variables, st?.from, st?.to, st?.tz]);

  const drill = async (p: Panel, c: PanelClick) => {
    const r = panels[p.id];
    if (!r || r.state !== 'done' || !p.query) return;
    const res = r.result;
    const fields = res.fields ?? [];
    const rows = res.records ?? res.messages ?? [];
    const cv = c.values ? { values: c.values, series: '' } : clickValues(fields, rows, c);
    try {
      const dd = await post<DrillDownResult>('/api/v1/dashboards/drilldown', {
        query: p.query,
        variables: meta?.variables ?? st?.vars ?? {},
        from: res.from ?? meta?.from ?? 0,
        to: res.to ?? meta?.to ?? 0,
        values: cv.values,
        series: cv.series,
      });
      const tz = st?.tz ?? browserZone();
      const s = defaultState(tz);
      s.q = dd.query;
      // Absolute bounds in the dashboard's zone: the range the panel showed (or the clicked slice).
      s.from = isoLocal(dd.from, tz);
      s.to = isoLocal(dd.to, tz);
      navigate(searchURL(s));
    } catch (e) {
      setNotice('Drill-down: ' + errMessage(e));
    }
  };

  const updateSt = (patch: Partial<DashState>) => setSt((s) => (s ? { ...s, ...patch } : s));

  const startEdit = () => {
    if (!dash) return;
    setDraft(structuredClone(dash));
    updateSt({ edit: true });
  };
  const cancelEdit = () => {
    setDraft(null);
    setEditing(null);
    updateSt({ edit: false });
    setRunSeq((n) => n + 1);
  };
  const save = async () => {
    if (!draft || !dash?.id) return;
    setSaving(true);
    try {
      const saved = await put<Dashboard>(`/api/v1/dashboards/${encodeURIComponent(dash.id)}`, draft);
      setDash(saved);
      setDraft(null);
      setEditing(null);
      updateSt({ edit: false });
      setNotice('Saved.');
    } catch (e) {
      setNotice('Save failed: ' + errMessage(e));
    } finally {
      setSaving(false);
    }
  };
  const changePanels = (f: (ps: Panel[]) => Panel[]) => setDraft((d) => (d ? { ...d, panels: f(d.panels) } : d));

  const exportJSON = async () => {
    if (!dash?.id) return;
    try {
      const doc = await get<unknown>(`/api/v1/dashboards/${encodeURIComponent(dash.id)}/export`);
      const blob = new Blob([JSON.stringify(doc, null, 2) + '\n'], { type: 'application/json' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = (dash.title.replace(/[^A-Za-z0-9_-]+/g, '-') || 'dashboard') + '.dashboard.json';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } catch (e) {
      setNotice('Export failed: ' + errMessage(e));
    }
  };
  const duplicateDash = async () => {
    if (!dash?.id) return;
    try {
      const copy = await post<Dashboard>(`/api/v1/dashboards/${encodeURIComponent(dash.id)}/duplicate`, {});
      navigate(`/dashboards/${encodeURIComponent(copy.id!)}`);
    } catch (e) {
      setNotice('Duplicate failed: ' + errMessage(e));
    }
  };
  const deleteDash = async () => {
    if (!dash?.id || !confirm(`Delete the dashboard "${dash.title}"?`)) return;
    try {
      await del(`/api/v1/dashboards/${encodeURIComponent(dash.id)}`);
      navigate('/dashboards');
    } catch (e) {
      setNotice('Delete failed: ' + errMessage(e));
    }
  };

  const rows = useMemo(() => (shown ? gridHeight(shown.panels) : 0), [shown]);
  const allDone = !!shown && shown.panels.every((p) => panels[p.id]?.state === 'done');
  const hasMap = !!shown?.panels.some((p) => p.visualization.type === 'map');

  if (loadError)
    return (
      <div class="page">
        <p class="error-text">{loadError}</p>
        <a href="/dashboards" onClick={navClick}>
          All dashboards
        </a>
      </div>
    );
  if (!shown || !st) return <div class="page muted">Loading…</div>;
  const editPanel = editing && draft ? draft.panels.find((p) => p.id === editing) : null;

  return (
    <div class={'page dash-page' + (editPanel ? ' with-editor' : '')} data-testid="dashboard-page">
      <div class="dash-toolbar">
        <a href="/dashboards" onClick={navClick} class="muted small">
          Dashboards
        </a>
        <span class="muted">/</span>
        {draft ? (
          <input type="text" class="dash-title-input" aria-label="Dashboard title" value={draft.title} onInput={(e) => setDraft({ ...draft, title: (e.target as HTMLInputElement).value })} />
        ) : (
          <h1 class="dash-title" data-testid="dashboard-title">
            {shown.title}
          </h1>
        )}
        {shown.app && <span class="badge">app {shown.app.name}</span>}
        <span class="spacer" />
        <TimeRangePicker range={{ from: st.from, to: st.to }} tz={st.tz} onChange={(r, tz) => updateSt({ from: r.from, to: r.to, tz })} />
        <label class="inline-label">
          Refresh
          <select data-testid="refresh" value={String(st.refresh)} onChange={(e) => updateSt({ refresh: Number((e.target as HTMLSelectElement).value) })}>
            {[...new Set([...REFRESH_CHOICES, st.refresh])].map((n) => (
              <option key={n} value={String(n)}>
                {n === 0 ? 'Off' : n < 60 ? `${n}s` : `${n / 60}m`}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="btn icon" title="Run again" aria-label="Run again" data-testid="dash-rerun" onClick={() => setRunSeq((n) => n + 1)}>
          ↻
        </button>
        {draft ? (
          <>
            <button type="button" class="btn" data-testid="add-panel" onClick={() => changePanels((ps) => addPanel(ps, { title: 'New panel', query: '* | timeslice 1h | count by _timeslice', visualization: { type: 'line' } }))}>
              Add panel
            </button>
            <button type="button" class="btn primary" data-testid="dash-save" disabled={saving} onClick={save}>
              Save
            </button>
            <button type="button" class="btn" data-testid="dash-cancel" onClick={cancelEdit}>
              Cancel
            </button>
          </>
        ) : (
          <>
            <button type="button" class="btn" data-testid="dash-edit" onClick={startEdit}>
              Edit
            </button>
            <button type="button" class="btn" onClick={duplicateDash}>
              Duplicate
            </button>
            <button type="button" class="btn" onClick={exportJSON} data-testid="dash-export">
              Export
            </button>
            <button type="button" class="btn danger" onClick={deleteDash}>
              Delete
            </button>
          </>
        )}
      </div>
      {(shown.variables?.length ?? 0) > 0 && (
        <div class="dash-vars">
          {shown.variables!.map((v) => (
            <VariableInput key={v.name} v={v} values={varValues[v.name] ?? []} value={st.vars[v.name] ?? meta?.variables?.[v.name] ?? v.default ?? (v.allowAll ? '*' : '')} onChange={(val) => updateSt({ vars: { ...st.vars, [v.name]: val } })} />
          ))}
        </div>
      )}
      {shown.description && !draft && <p class="muted small dash-desc">{shown.description}</p>}
      {notice && (
        <div class="warning" role="status">
          {notice}{' '}
          <button type="button" class="link" onClick={() => setNotice('')}>
            dismiss
          </button>
        </div>
      )}
      {runError && <div class="problem">{runError}</div>}
      <div class="dash-status muted small" data-testid="dash-status" data-done={allDone && done ? '1' : '0'} data-from={meta ? String(meta.from) : ''} data-vars={meta ? JSON.stringify(meta.variables ?? {}) : ''}>
        {done ? `${done.panels} panels in ${done.elapsedMs} ms · ${done.errors} errors · ${done.cacheHits} from cache` : allDone ? '' : 'Running…'}
      </div>
      <div class={'dash-grid' + (draft ? ' editing' : '')} data-testid="dash-grid" style={{ gridTemplateRows: `repeat(${Math.max(rows, 1)}, ${ROW_PX}px)` }}>
        {shown.panels.map((p) => (
          <PanelBox
            key={p.id}
            panel={p}
            ps={panels[p.id]}
            tz={st.tz}
            theme={theme}
            editing={!!draft}
            onDrill={(c) => void drill(p, c)}
            onMove={(dx, dy) => changePanels((ps) => movePanel(ps, p.id, dx, dy))}
            onResize={(dw, dh) => changePanels((ps) => resizePanel(ps, p.id, dw, dh))}
            onEdit={() => setEditing(p.id)}
            onDuplicate={() => changePanels((ps) => duplicatePanel(ps, p.id))}
            onDelete={() => changePanels((ps) => ps.filter((q) => q.id !== p.id))}
          />
        ))}
      </div>
      {hasMap && <GeoCredit attribution={meta?.geoAttribution} />}
      {editPanel && draft && (
        <PanelEditor
          panel={editPanel}
          fieldNames={(() => {
            const ps = panels[editPanel.id];
            return ps?.state === 'done' ? (ps.result.fields ?? []).map((f) => f.name) : [];
          })()}
          onChange={(np) => changePanels((ps) => ps.map((q) => (q.id === np.id ? np : q)))}
          onPreview={() => void run([editPanel.id])}
          onClose={() => setEditing(null)}
        />
      )}
    </div>
  );
}

function VariableInput({ v, values, value, onChange }: { v: Variable; values: string[]; value: string; onChange: (s: string) => void }) {
  const label = v.label || v.name;
  if (v.kind === 'text')
    return (
      <label class="inline-label">
        {label}
        <input type="text" value={value} data-testid={`var-${v.name}`} onChange={(e) => onChange((e.target as HTMLInputElement).value)} />
      </label>
    );
  const opts = [...(v.allowAll ? ['*'] : []), ...values.filter((x) => x !== '*')];
  if (value && !opts.includes(value)) opts.push(value);
  return (
    <label class="inline-label">
      {label}
      <select value={value} data-testid={`var-${v.name}`} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {opts.map((o) => (
          <option key={o} value={o}>
            {o === '*' ? 'All' : o}
          </option>
        ))}
      </select>
    </label>
  );
}

interface BoxProps {
  panel: Panel;
  ps: PanelState | undefined;
  tz: string;
  theme: string;
  editing: boolean;
  onDrill: (c: PanelClick) => void;
  onMove: (dx: number, dy: number) => void;
  onResize: (dw: number, dh: number) => void;
  onEdit: () => void;
  onDuplicate: () => void;
  onDelete: () => void;
}

function PanelBox({ panel, ps, tz, theme, editing, onDrill, onMove, onResize, onEdit, onDuplicate, onDelete }: BoxProps) {
  const l = panel.layout;
  const res = ps?.state === 'done' ? ps.result : null;
  const rows = res ? (res.records ?? res.messages ?? []) : [];
  const state = !ps ? 'idle' : ps.state === 'loading' ? 'loading' : res!.status === 'error' ? 'error' : res!.status === 'text' || panel.visualization.type === 'text' ? 'text' : rows.length ? 'ok' : 'empty';
  const onKey = (e: KeyboardEvent) => {
    if (!editing || !(e.altKey || e.shiftKey)) return;
    const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    if (!d) return;
    e.preventDefault();
    if (e.shiftKey) onResize(d[0], d[1]);
    else onMove(d[0], d[1]);
  };
  return (
    <section
      class={'dash-panel state-' + state}
      data-testid="dash-panel"
      data-panel-id={panel.id}
      data-state={state}
      aria-label={panel.title}
      style={{ gridColumn: `${l.x + 1} / span ${l.w}`, gridRow: `${l.y + 1} / span ${l.h}` }}
      tabIndex={editing ? 0 : undefined}
      onKeyDown={onKey}
    >
      <header class="panel-head">
        <h3 class="panel-title" title={panel.description || panel.title}>
          {panel.title}
        </h3>
        {state === 'loading' && <span class="spinner" aria-label="running" />}
        {res?.truncated && <span class="badge warn">truncated</span>}
        {editing && (
          <span class="panel-tools" role="toolbar" aria-label={`Arrange ${panel.title}`}>
            <button type="button" class="btn small" data-testid="panel-edit" onClick={onEdit}>
              Edit
            </button>
            <button type="button" class="btn small icon" aria-label="Move left" title="Move left (Alt+←)" onClick={() => onMove(-1, 0)}>
              ←
            </button>
            <button type="button" class="btn small icon" aria-label="Move right" title="Move right (Alt+→)" onClick={() => onMove(1, 0)}>
              →
            </button>
            <button type="button" class="btn small icon" aria-label="Move up" title="Move up (Alt+↑)" onClick={() => onMove(0, -1)}>
              ↑
            </button>
            <button type="button" class="btn small icon" aria-label="Move down" title="Move down (Alt+↓)" onClick={() => onMove(0, 1)}>
              ↓
            </button>
            <button type="button" class="btn small icon" aria-label="Narrower" title="Narrower (Shift+←)" onClick={() => onResize(-1, 0)}>
              ⇤
            </button>
            <button type="button" class="btn small icon" aria-label="Wider" title="Wider (Shift+→)" onClick={() => onResize(1, 0)}>
              ⇥
            </button>
            <button type="button" class="btn small icon" aria-label="Shorter" title="Shorter (Shift+↑)" onClick={() => onResize(0, -1)}>
              ⤒
            </button>
            <button type="button" class="btn small icon" aria-label="Taller" title="Taller (Shift+↓)" onClick={() => onResize(0, 1)}>
              ⤓
            </button>
            <button type="button" class="btn small icon" data-testid="panel-duplicate" aria-label="Duplicate panel" title="Duplicate" onClick={onDuplicate}>
              ⧉
            </button>
            <button type="button" class="btn small icon danger" data-testid="panel-delete" aria-label="Delete panel" title="Delete" onClick={onDelete}>
              ✕
            </button>
          </span>
        )}
      </header>
      <div class="panel-body">
        {panel.visualization.type === 'text' ? (
          <div class="panel-text">{panel.text ?? ''}</div>
        ) : state === 'error' ? (
          <div class="panel-error" data-testid="panel-error">
            {res!.error?.message ?? 'the query failed'}
            {res!.error?.line ? <span class="muted"> (line {res!.error.line}, column {res!.error.column})</span> : null}
          </div>
        ) : state === 'empty' ? (
          <div class="panel-empty muted small">{panel.emptyText || 'No results in this time range.'}</div>
        ) : res ? (
          <PanelView viz={panel.visualization} result={res} tz={tz} theme={theme} onClick={onDrill} />
        ) : null}
      </div>
    </section>
  );
}

function PanelEditor({ panel, fieldNames, onChange, onPreview, onClose }: { panel: Panel; fieldNames: string[]; onChange: (p: Panel) => void; onPreview: () => void; onClose: () => void }) {
  const [seq] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(onPreview);
  latest.current = onPreview;
  const first = useRef(true);
  // Live preview: the panel runs again shortly after its query or type changes.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => latest.current(), 700);
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
  }, [panel.query, panel.visualization.type]);
  return (
    <div class="panel-editor" role="dialog" aria-label={`Edit panel ${panel.title}`} data-testid="panel-editor">
      <div class="panel-editor-head">
        <strong>Edit panel</strong>
        <span class="spacer" />
        <button type="button" class="btn" data-testid="panel-editor-close" onClick={onClose}>
          Done
        </button>
      </div>
      <label class="field">
        Title
        <input type="text" value={panel.title} data-testid="panel-title-input" onInput={(e) => onChange({ ...panel, title: (e.target as HTMLInputElement).value })} />
      </label>
      <label class="field">
        Description
        <textarea rows={2} value={panel.description ?? ''} data-testid="panel-description" placeholder="Shown as the title's tooltip" onInput={(e) => onChange({ ...panel, description: (e.target as HTMLTextAreaElement).value || undefined })} />
      </label>
      <label class="field">
        Chart type
        <select data-testid="panel-type" value={panel.visualization.type} onChange={(e) => onChange({ ...panel, visualization: { ...panel.visualization, type: (e.target as HTMLSelectElement).value as VizType } })}>
          {VIZ_TYPES.map((v) => (
            <option key={v.type} value={v.type}>
              {v.label}
            </option>
          ))}
        </select>
      </label>
      {panel.visualization.type === 'text' ? (
        <label class="field">
          Text
          <textarea rows={6} value={panel.text ?? ''} onInput={(e) => onChange({ ...panel, text: (e.target as HTMLTextAreaElement).value })} />
        </label>
      ) : (
        <div class="field">
          <span>Query (Ctrl+Enter previews)</span>
          <div class="query-editor" data-testid="panel-query">
            <QueryEditor value={panel.query ?? ''} external={{ text: '', seq }} onChange={(q) => onChange({ ...panel, query: q })} onRun={() => latest.current()} problem={null} fields={() => []} />
          </div>
        </div>
      )}
      {panel.visualization.type === 'single_value' && <SingleValueSettings viz={panel.visualization} fieldNames={fieldNames} onChange={(v) => onChange({ ...panel, visualization: v })} />}
    </div>
  );
}


const VALUE_MODES = [
  { mode: '', label: 'Sum of the slices (default)' },
  { mode: 'last', label: 'Last slice' },
  { mode: 'first', label: 'First slice' },
  { mode: 'avg', label: 'Average' },
  { mode: 'min', label: 'Minimum' },
  { mode: 'max', label: 'Maximum' },
];
const THRESHOLD_CHOICES = ['green', 'yellow', 'orange', 'red'];

/** SingleValueSettings edits a single-value panel: the value's field, how time slices are reduced, unit, sparkline and thresholds. */
function SingleValueSettings({ viz, fieldNames, onChange }: { viz: Visualization; fieldNames: string[]; onChange: (v: Visualization) => void }) {
  const ts = viz.thresholds ?? [];
  const setTs = (next: Threshold[]) => onChange({ ...viz, thresholds: next.length ? next : undefined });
  const setT = (i: number, patch: Partial<Threshold>) => setTs(ts.map((t, j) => (j === i ? { ...t, ...patch } : t)));
  const choices = fieldNames.filter((n) => n !== '_timeslice');
  return (
    <fieldset class="field sv-settings" data-testid="single-value-settings">
      <legend>Single value</legend>
      <label class="field">
        Value field
        <select data-testid="panel-value-field" value={viz.valueField ?? ''} onChange={(e) => onChange({ ...viz, valueField: (e.target as HTMLSelectElement).value || undefined })}>
          <option value="">First numeric column</option>
          {[...new Set([...choices, ...(viz.valueField ? [viz.valueField] : [])])].map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <div class="sv-row">
        <label class="field">
          Over time slices
          <select data-testid="panel-value-mode" value={viz.valueMode ?? ''} onChange={(e) => onChange({ ...viz, valueMode: (e.target as HTMLSelectElement).value || undefined })}>
            {VALUE_MODES.map((m) => (
              <option key={m.mode} value={m.mode}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          Unit
          <input type="text" size={6} value={viz.unit ?? ''} data-testid="panel-unit" onInput={(e) => onChange({ ...viz, unit: (e.target as HTMLInputElement).value || undefined })} />
        </label>
        <label class="inline-label">
          <input type="checkbox" checked={!!viz.sparkline} data-testid="panel-sparkline" onChange={(e) => onChange({ ...viz, sparkline: (e.target as HTMLInputElement).checked || undefined })} />
          Sparkline
        </label>
      </div>
      <div class="sv-thresholds" data-testid="panel-thresholds">
        <span class="muted small">Thresholds: the value takes the colour of the highest one it reaches.</span>
        {ts.map((t, i) => (
          <div class="sv-threshold" key={i} data-testid="panel-threshold">
            <input
              type="number"
              aria-label={`Threshold ${i + 1} value`}
              data-testid="threshold-value"
              value={String(t.value)}
              onInput={(e) => {
                const n = Number((e.target as HTMLInputElement).value);
                if ((e.target as HTMLInputElement).value !== '' && Number.isFinite(n)) setT(i, { value: n });
              }}
            />
            <select aria-label={`Threshold ${i + 1} colour`} data-testid="threshold-color" value={t.color} onChange={(e) => setT(i, { color: (e.target as HTMLSelectElement).value })}>
              {[...new Set([...THRESHOLD_CHOICES, t.color])].map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
            <input type="text" placeholder="label" aria-label={`Threshold ${i + 1} label`} data-testid="threshold-label" value={t.label ?? ''} onInput={(e) => setT(i, { label: (e.target as HTMLInputElement).value || undefined })} />
            <button type="button" class="btn small icon danger" aria-label={`Remove threshold ${i + 1}`} onClick={() => setTs(ts.filter((_, j) => j !== i))}>
              ✕
            </button>
          </div>
        ))}
        <button
          type="button"
          class="btn small"
          data-testid="threshold-add"
          onClick={() => setTs([...ts, { value: ts.length ? Math.max(...ts.map((t) => t.value)) + 1 : 0, color: THRESHOLD_CHOICES[Math.min(ts.length, THRESHOLD_CHOICES.length - 1)] }])}
        >
          Add threshold
        </button>
      </div>
    </fieldset>
  );
}
