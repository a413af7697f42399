// The monitor editor: query (the search page's editor), window, frequency,
// triggers, grouping and notification targets. The server validates; its
// problems are shown at the fields they name.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { QueryEditor } from '../../editor/QueryEditor';
import { ApiError, parseQueryError, post, type QueryProblem } from '../../lib/api';
import {
  api,
  emptyForm,
  formFromSpec,
  OPS,
  problemsByField,
  ProblemsError,
  searchLink,
  specFromForm,
  parseDuration,
  type ConditionForm,
  type Monitor,
  type MonitorForm as Form,
  type Problem,
  type Target,
} from '../../lib/monitors';
import { FieldError, Link, navigate } from './common';

const SEVERITIES = [
  ['critical', 'Critical'],
  ['warning', 'Warning'],
  ['missingData', 'Missing data'],
  ['error', 'Error'],
] as const;

const CONDITION_HELP: Record<string, string> = {
  critical: 'Critical when',
  warning: 'Warning when',
  resolution: 'Resolved when',
};

function ConditionRow({ name, c, set, problems }: { name: 'critical' | 'warning' | 'resolution'; c: ConditionForm; set: (c: ConditionForm) => void; problems: Map<string, Problem[]> }) {
  const p = (k: string) => problems.get(`triggers.${name}${k}`);
  return (
    <div class="mon-cond" data-testid={'cond-' + name}>
      <label class="mon-check">
        <input type="checkbox" checked={c.on} data-testid={`cond-${name}-on`} onChange={(e) => set({ ...c, on: (e.target as HTMLInputElement).checked })} />
        {CONDITION_HELP[name]}
      </label>
      <select
        class="mon-select"
        aria-label={`${name}: compare`}
        disabled={!c.on}
        value={c.subject}
        data-testid={`cond-${name}-subject`}
        onChange={(e) => set({ ...c, subject: (e.target as HTMLSelectElement).value as 'count' | 'field' })}
      >
        <option value="count">the number of results</option>
        <option value="field">the field</option>
      </select>
      {c.subject === 'field' && (
        <input
          type="text"
          class="mon-input mono"
          aria-label={`${name}: field`}
          placeholder="_count"
          disabled={!c.on}
          value={c.field}
          data-testid={`cond-${name}-field`}
          onInput={(e) => set({ ...c, field: (e.target as HTMLInputElement).value })}
        />
      )}
      <select class="mon-select" aria-label={`${name}: operator`} disabled={!c.on} value={c.op} data-testid={`cond-${name}-op`} onChange={(e) => set({ ...c, op: (e.target as HTMLSelectElement).value })}>
        {OPS.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
      <input
        type="text"
        inputMode="decimal"
        class="mon-input num"
        aria-label={`${name}: threshold`}
        disabled={!c.on}
        value={c.threshold}
        data-testid={`cond-${name}-threshold`}
        onInput={(e) => set({ ...c, threshold: (e.target as HTMLInputElement).value })}
      />
      <div class="mon-cond-errors">
        <FieldError problems={[...(problems.get(`triggers.${name}`) ?? []), ...(p('.field') ?? []), ...(p('.op') ?? []), ...(p('.threshold') ?? [])]} />
      </div>
    </div>
  );
}

export function MonitorFormPage({ id }: { id: string | null }) {
  const [form, setForm] = useState<Form | null>(id ? null : emptyForm());
  const [orig, setOrig] = useState<Monitor | null>(null);
  const [targets, setTargets] = useState<Target[]>([]);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState('');
  const [saving, setSaving] = useState(false);
  const [external, setExternal] = useState({ text: '', seq: 0 });
  const [queryProblem, setQueryProblem] = useState<QueryProblem | null>(null);

  useEffect(() => {
    api.targets().then(setTargets, () => setTargets([]));
    if (!id) return;
    api.monitor(id).then(
      (m) => {
        setOrig(m);
        const f = formFromSpec(m);
        setForm(f);
        setExternal({ text: f.query, seq: 1 });
      },
      (e) => setError((e as Error).message),
    );
  }, [id]);

  // The query is checked as it is typed, like on the search page.
  const query = form?.query ?? '';
  useEffect(() => {
    if (!query.trim()) {
      setQueryProblem(null);
      return;
    }
    const ac = new AbortController();
    const t = setTimeout(() => {
      post('/api/v1/query/explain', { query }, ac.signal)
        .then(() => setQueryProblem(null))
        .catch((e) => {
          if (ac.signal.aborted || !(e instanceof ApiError) || e.status !== 400) return;
          setQueryProblem(parseQueryError(e.message));
        });
    }, 500);
    return () => {
      clearTimeout(t);
      ac.abort();
    };
  }, [query]);

  const byField = useMemo(() => problemsByField(problems), [problems]);
  const serverQueryProblem = useMemo((): QueryProblem | null => {
    const p = byField.get('query')?.find((x) => x.line);
    return p ? { line: p.line!, column: p.column ?? 1, message: p.message, hint: '' } : null;
  }, [byField]);

  if (error && !form) return <div class="error-text">{error}</div>;
  if (!form) return <div class="empty">Loading…</div>;
  const set = (patch: Partial<Form>) => setForm({ ...form, ...patch });

  const save = async () => {
    setError('');
    const { spec, problems: local } = specFromForm(form);
    if (local.length) {
      setProblems(local);
      return;
    }
    setSaving(true);
    try {
      const m = id && orig ? await api.update(id, spec, orig.version) : await api.create(spec);
      navigate('/monitors/' + encodeURIComponent(m.id));
    } catch (e) {
      if (e instanceof ProblemsError) {
        setProblems(e.problems);
        setError(e.problems.some((p) => !byFieldKnown(p)) ? '' : 'The monitor has problems: see the fields marked below.');
      } else {
        setProblems([]);
        setError((e as Error).message);
      }
    } finally {
      setSaving(false);
    }
  };
  const general = byField.get('') ?? [];
  const windowMs = parseDuration(form.window) ?? 15 * 60_000;

  return (
    <form
      class="mon-form"
      data-testid="monitor-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div class="mon-head">
        <h1>{id ? 'Edit monitor' : 'New monitor'}</h1>
        <span class="spacer" />
        <Link href={id ? '/monitors/' + encodeURIComponent(id) : '/monitors'} class="btn">
          Cancel
        </Link>
        <button type="submit" class="btn primary" disabled={saving} data-testid="monitor-save">
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
      {error && (
        <div class="problem" role="alert" data-testid="form-error">
          {error}
        </div>
      )}
      {general.length > 0 && (
        <div class="problem" role="alert" data-testid="form-problems">
          {general.map((p, i) => (
            <div key={i}>
              {p.field ? <code>{p.field}</code> : null} {p.message}
            </div>
          ))}
        </div>
      )}
      {orig?.app && <div class="warning">This monitor belongs to the app {orig.app}: upgrading the app replaces your changes.</div>}

      <section class="mon-section">
        <label class="mon-field">
          <span>Name</span>
          <input type="text" class="mon-input wide" value={form.name} data-testid="monitor-name" onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} />
          <FieldError problems={byField.get('name')} />
        </label>
        <label class="mon-field">
          <span>Description</span>
          <input type="text" class="mon-input wide" value={form.description} onInput={(e) => set({ description: (e.target as HTMLInputElement).value })} />
          <FieldError problems={byField.get('description')} />
        </label>
        <div class="mon-field">
          <span>Query</span>
          <div class="mon-query">
            <QueryEditor
              value={form.query}
              external={external}
              onChange={(q) => {
                setForm((f) => (f ? { ...f, query: q } : f));
                setProblems((ps) => (ps.some((p) => p.field === 'query') ? ps.filter((p) => p.field !== 'query') : ps));
              }}
              onRun={() => void save()}
              problem={serverQueryProblem ?? queryProblem}
              fields={() => []}
            />
            <a class="btn" href={searchLink(form.query, Date.now() - windowMs, Date.now(), 'UTC')} target="_blank" rel="noopener noreferrer" title="Run the query over the last window in a new tab">
              Preview
            </a>
          </div>
          {queryProblem && !serverQueryProblem && (
            <div class="field-error">
              {queryProblem.message}
              {queryProblem.hint && <span class="muted"> — {queryProblem.hint}</span>}
            </div>
          )}
          <FieldError problems={byField.get('query')} />
        </div>
      </section>

      <section class="mon-section mon-row">
        <label class="mon-field">
          <span>Window</span>
          <input type="text" class="mon-input" list="mon-durations" value={form.window} data-testid="monitor-window" onInput={(e) => set({ window: (e.target as HTMLInputElement).value })} />
          <small class="muted">each evaluation covers this much time</small>
          <FieldError problems={byField.get('window')} />
        </label>
        <label class="mon-field">
          <span>Frequency</span>
          <input type="text" class="mon-input" list="mon-durations" value={form.frequency} data-testid="monitor-frequency" onInput={(e) => set({ frequency: (e.target as HTMLInputElement).value })} />
          <small class="muted">evaluated this often (at least 1m)</small>
          <FieldError problems={byField.get('frequency')} />
        </label>
        <label class="mon-field">
          <span>Delay</span>
          <input type="text" class="mon-input" list="mon-durations" value={form.delay} data-testid="monitor-delay" onInput={(e) => set({ delay: (e.target as HTMLInputElement).value })} />
          <small class="muted">waits for late events</small>
          <FieldError problems={byField.get('delay')} />
        </label>
        <label class="mon-field grow">
          <span>Group by</span>
          <input type="text" class="mon-input wide mono" placeholder="user, src_ip" value={form.groupBy} data-testid="monitor-groupby" onInput={(e) => set({ groupBy: (e.target as HTMLInputElement).value })} />
          <small class="muted">one alert per value of these result fields; empty: one alert for the monitor</small>
          <FieldError problems={byField.get('groupBy')} />
        </label>
        <datalist id="mon-durations">
          {['0s', '30s', '1m', '5m', '10m', '15m', '30m', '1h', '4h', '1d'].map((d) => (
            <option key={d} value={d} />
          ))}
        </datalist>
      </section>

      <section class="mon-section">
        <h2>Trigger conditions</h2>
        <FieldError problems={byField.get('triggers')} />
        <ConditionRow name="critical" c={form.critical} set={(c) => set({ critical: c })} problems={byField} />
        <ConditionRow name="warning" c={form.warning} set={(c) => set({ warning: c })} problems={byField} />
        <div class="mon-cond">
          <label class="mon-check">
            <input type="checkbox" checked={form.missingData} data-testid="cond-missing-on" onChange={(e) => set({ missingData: (e.target as HTMLInputElement).checked })} />
            Missing data (a window without any result) is
          </label>
          <select class="mon-select" aria-label="missing data severity" disabled={!form.missingData} value={form.missingSeverity} onChange={(e) => set({ missingSeverity: (e.target as HTMLSelectElement).value })}>
            <option value="critical">critical</option>
            <option value="warning">warning</option>
          </select>
          <div class="mon-cond-errors">
            <FieldError problems={byField.get('triggers.missingData.severity')} />
          </div>
        </div>
        <ConditionRow name="resolution" c={form.resolution} set={(c) => set({ resolution: c })} problems={byField} />
        <small class="muted">Without a resolution condition, an alert resolves as soon as neither trigger holds. Field conditions hold when one result of the group satisfies them.</small>
      </section>

      <section class="mon-section">
        <h2>Notifications</h2>
        <label class="mon-field">
          <span>Message</span>
          <textarea
            class="mon-input wide mono"
            rows={2}
            placeholder="{{.Group.user}} failed to log in {{.Value}} times"
            value={form.message}
            data-testid="monitor-message"
            onInput={(e) => set({ message: (e.target as HTMLTextAreaElement).value })}
          />
          <FieldError problems={byField.get('message')} />
        </label>
        <FieldError problems={byField.get('notifications')} />
        {form.notifications.map((n, i) => (
          <div class="mon-notify" key={i} data-testid="notify-row">
            <select
              class="mon-select"
              aria-label="notification target"
              value={n.target}
              data-testid="notify-target"
              onChange={(e) => {
                const l = [...form.notifications];
                l[i] = { ...n, target: (e.target as HTMLSelectElement).value };
                set({ notifications: l });
              }}
            >
              <option value="">— choose a target —</option>
              {targets.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name} ({t.type})
                </option>
              ))}
              {n.target && !targets.some((t) => t.id === n.target || t.name === n.target) && <option value={n.target}>{n.target}</option>}
            </select>
            <span class="muted small">for</span>
            {SEVERITIES.map(([sev, label]) => (
              <label class="mon-check small" key={sev}>
                <input
                  type="checkbox"
                  checked={n.severities.length === 0 || n.severities.includes(sev)}
                  onChange={(e) => {
                    const all = SEVERITIES.map((s) => s[0]) as string[];
                    let sevs = n.severities.length === 0 ? [...all] : [...n.severities];
                    sevs = (e.target as HTMLInputElement).checked ? [...sevs, sev] : sevs.filter((s) => s !== sev);
                    if (all.every((s) => sevs.includes(s))) sevs = [];
                    const l = [...form.notifications];
                    l[i] = { ...n, severities: sevs };
                    set({ notifications: l });
                  }}
                />
                {label}
              </label>
            ))}
            <button type="button" class="btn small" aria-label="Remove the target" onClick={() => set({ notifications: form.notifications.filter((_, j) => j !== i) })}>
              Remove
            </button>
            <FieldError problems={byField.get(`notifications[${i}]`)} />
          </div>
        ))}
        <div class="mon-row">
          <button type="button" class="btn small" data-testid="notify-add" onClick={() => set({ notifications: [...form.notifications, { target: targets[0]?.id ?? '', severities: [] }] })}>
            Add a notification target
          </button>
          {targets.length === 0 && (
            <span class="muted small">
              No targets yet: <Link href="/monitors/targets">create one</Link>.
            </span>
          )}
        </div>
      </section>

      <section class="mon-section">
        <label class="mon-check">
          <input type="checkbox" checked={form.enabled} data-testid="monitor-enabled" onChange={(e) => set({ enabled: (e.target as HTMLInputElement).checked })} />
          Enabled (evaluated on schedule)
        </label>
        {Object.keys(form.labels).length > 0 && (
          <div class="mon-labels">
            <span class="muted small">Labels:</span>
            {Object.entries(form.labels).map(([k, v]) => (
              <span class="badge" key={k}>
                {k}={v}
              </span>
            ))}
          </div>
        )}
      </section>
    </form>
  );
}

/** byFieldKnown reports whether the form shows a problem at a field (else it is in the general list). */
function byFieldKnown(p: Problem): boolean {
  return problemsByField([p]).has('') === false;
}
