// Notification targets (webhook, Slack-compatible webhook, email over SMTP)
// with a test send, and the threat intelligence lists (CSV or STIX 2.1
// uploads) that threatip and the CloudTrail detections read.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ProblemsError, threatFormat, type Problem, type Target, type TargetSpec, type TestResult, type ThreatList, type ThreatUpload } from '../../lib/monitors';
import { FieldError, time } from './common';

interface TargetForm {
  id: string;
  name: string;
  type: 'webhook' | 'slack' | 'email';
  url: string;
  method: string;
  headers: string;
  bodyTemplate: string;
  channel: string;
  username: string;
  textTemplate: string;
  host: string;
  port: string;
  tls: string;
  password: string;
  from: string;
  to: string;
  subjectTemplate: string;
}

const blank = (): TargetForm => ({
  id: '',
  name: '',
  type: 'webhook',
  url: '',
  method: 'POST',
  headers: '',
  bodyTemplate: '',
  channel: '',
  username: '',
  textTemplate: '',
  host: '',
  port: '',
  tls: 'starttls',
  password: '',
  from: '',
  to: '',
  subjectTemplate: '',
});

function formOf(t: Target): TargetForm {
  const f = { ...blank(), id: t.id, name: t.name, type: t.type };
  if (t.webhook) {
    f.url = t.webhook.url;
    f.method = t.webhook.method || 'POST';
    f.headers = Object.entries(t.webhook.headers ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n');
    f.bodyTemplate = t.webhook.bodyTemplate ?? '';
  }
  if (t.slack) {
    f.url = t.slack.url;
    f.channel = t.slack.channel ?? '';
    f.username = t.slack.username ?? '';
    f.textTemplate = t.slack.textTemplate ?? '';
  }
  if (t.email) {
    f.host = t.email.host;
    f.port = t.email.port ? String(t.email.port) : '';
    f.tls = t.email.tls || 'starttls';
    f.username = t.email.username ?? '';
    f.password = t.email.password ?? '';
    f.from = t.email.from;
    f.to = (t.email.to ?? []).join(', ');
    f.subjectTemplate = t.email.subjectTemplate ?? '';
    f.bodyTemplate = t.email.bodyTemplate ?? '';
  }
  return f;
}

/** specOf builds the target to send; header lines that are not "Name: value" are problems. */
export function targetSpecOf(f: TargetForm): { spec: TargetSpec; problems: Problem[] } {
  const problems: Problem[] = [];
  const spec: TargetSpec = { name: f.name.trim(), type: f.type };
  if (f.type === 'webhook') {
    const headers: Record<string, string> = {};
    f.headers.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      const c = line.indexOf(':');
      if (c <= 0) problems.push({ field: 'webhook.headers', message: `line ${i + 1}: write a header as "Name: value"` });
      else headers[line.slice(0, c).trim()] = line.slice(c + 1).trim();
    });
    spec.webhook = { url: f.url.trim(), method: f.method };
    if (Object.keys(headers).length) spec.webhook.headers = headers;
    if (f.bodyTemplate.trim()) spec.webhook.bodyTemplate = f.bodyTemplate;
  } else if (f.type === 'slack') {
    spec.slack = { url: f.url.trim() };
    if (f.channel.trim()) spec.slack.channel = f.channel.trim();
    if (f.username.trim()) spec.slack.username = f.username.trim();
    if (f.textTemplate.trim()) spec.slack.textTemplate = f.textTemplate;
  } else {
    const port = f.port.trim() ? Number(f.port) : 0;
    if (f.port.trim() && !Number.isInteger(port)) problems.push({ field: 'email.port', message: `"${f.port}" is not a port number` });
    spec.email = {
      host: f.host.trim(),
      tls: f.tls,
      from: f.from.trim(),
      to: f.to
        .split(/[,;\s]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    };
    if (port) spec.email.port = port;
    if (f.username.trim()) spec.email.username = f.username.trim();
    if (f.password) spec.email.password = f.password;
    if (f.subjectTemplate.trim()) spec.email.subjectTemplate = f.subjectTemplate;
    if (f.bodyTemplate.trim()) spec.email.bodyTemplate = f.bodyTemplate;
  }
  return { spec, problems };
}

function TargetEditor({ initial, onDone }: { initial: TargetForm; onDone: (saved: boolean) => void }) {
  const [f, setF] = useState(initial);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState('');
  const [saving, setSaving] = useState(false);
  const by = useMemo(() => {
    const m = new Map<string, Problem[]>();
    for (const p of problems) {
      const k = p.field.replace(/\[\d+\]$/, '');
      m.set(k, [...(m.get(k) ?? []), p]);
    }
    return m;
  }, [problems]);
  const known = new Set(['name', 'type', 'webhook', 'webhook.url', 'webhook.method', 'webhook.headers', 'webhook.bodyTemplate', 'slack', 'slack.url', 'slack.textTemplate', 'email', 'email.host', 'email.port', 'email.tls', 'email.from', 'email.to', 'email.subjectTemplate', 'email.bodyTemplate']);
  const general = problems.filter((p) => !known.has(p.field.replace(/\[\d+\]$/, '')));
  const set = (patch: Partial<TargetForm>) => setF({ ...f, ...patch });
  const text = (label: string, key: keyof TargetForm, field: string, opts: { placeholder?: string; type?: string; area?: boolean; testid?: string } = {}) => (
    <label class="mon-field">
      <span>{label}</span>
      {opts.area ? (
        <textarea class="mon-input wide mono" rows={3} placeholder={opts.placeholder} value={f[key]} onInput={(e) => set({ [key]: (e.target as HTMLTextAreaElement).value } as Partial<TargetForm>)} />
      ) : (
        <input
          type={opts.type ?? 'text'}
          class="mon-input wide"
          placeholder={opts.placeholder}
          value={f[key]}
          data-testid={opts.testid}
          autoComplete={opts.type === 'password' ? 'new-password' : 'off'}
          onInput={(e) => set({ [key]: (e.target as HTMLInputElement).value } as Partial<TargetForm>)}
        />
      )}
      <FieldError problems={by.get(field)} />
    </label>
  );
  const save = async () => {
    setError('');
    const { spec, problems: local } = targetSpecOf(f);
    if (local.length) return setProblems(local);
    setSaving(true);
    try {
      if (f.id) await api.updateTarget(f.id, spec);
      else await api.createTarget(spec);
      onDone(true);
    } catch (e) {
      if (e instanceof ProblemsError) setProblems(e.problems);
      else setError((e as Error).message);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form
      class="mon-section mon-target-form"
      data-testid="target-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2>{f.id ? 'Edit target' : 'New notification target'}</h2>
      {error && <div class="problem">{error}</div>}
      {general.length > 0 && (
        <div class="problem">
          {general.map((p, i) => (
            <div key={i}>
              {p.field ? <code>{p.field}</code> : null} {p.message}
            </div>
          ))}
        </div>
      )}
      <div class="mon-row">
        {text('Name', 'name', 'name', { testid: 'target-name' })}
        <label class="mon-field">
          <span>Type</span>
          <select class="mon-select" value={f.type} data-testid="target-type" onChange={(e) => set({ type: (e.target as HTMLSelectElement).value as TargetForm['type'] })}>
            <option value="webhook">Webhook (JSON)</option>
            <option value="slack">Slack-compatible webhook</option>
            <option value="email">Email (SMTP)</option>
          </select>
          <FieldError problems={by.get('type')} />
        </label>
      </div>
      {f.type === 'webhook' && (
        <>
          <FieldError problems={by.get('webhook')} />
          <div class="mon-row">
            {text('URL', 'url', 'webhook.url', { placeholder: 'https://hooks.example.com/dohyo', testid: 'target-url' })}
            <label class="mon-field">
              <span>Method</span>
              <select class="mon-select" value={f.method} onChange={(e) => set({ method: (e.target as HTMLSelectElement).value })}>
                <option>POST</option>
                <option>PUT</option>
              </select>
              <FieldError problems={by.get('webhook.method')} />
            </label>
          </div>
          {text('Headers (one "Name: value" a line)', 'headers', 'webhook.headers', { area: true, placeholder: 'Authorization: Bearer …' })}
          {text('Body template (empty: the alert as JSON)', 'bodyTemplate', 'webhook.bodyTemplate', { area: true, placeholder: '{"text": {{json .Title}}}' })}
        </>
      )}
      {f.type === 'slack' && (
        <>
          <FieldError problems={by.get('slack')} />
          {text('Incoming webhook URL', 'url', 'slack.url', { placeholder: 'https://hooks.slack.com/services/…', testid: 'target-url' })}
          <div class="mon-row">
            {text('Channel', 'channel', 'slack.channel')}
            {text('User name', 'username', 'slack.username')}
          </div>
          {text('Text template (empty: title and message)', 'textTemplate', 'slack.textTemplate', { area: true })}
        </>
      )}
      {f.type === 'email' && (
        <>
          <FieldError problems={by.get('email')} />
          <div class="mon-row">
            {text('SMTP host', 'host', 'email.host', { placeholder: 'smtp.example.com', testid: 'target-host' })}
            {text('Port', 'port', 'email.port', { placeholder: '587' })}
            <label class="mon-field">
              <span>TLS</span>
              <select class="mon-select" value={f.tls} onChange={(e) => set({ tls: (e.target as HTMLSelectElement).value })}>
                <option value="starttls">STARTTLS</option>
                <option value="tls">TLS (SMTPS)</option>
                <option value="none">none (loopback only)</option>
              </select>
              <FieldError problems={by.get('email.tls')} />
            </label>
          </div>
          <div class="mon-row">
            {text('User name', 'username', 'email.username')}
            {text('Password', 'password', 'email.password', { type: 'password' })}
          </div>
          <div class="mon-row">
            {text('From', 'from', 'email.from', { placeholder: 'dohyo@example.com' })}
            {text('To (comma-separated)', 'to', 'email.to', { placeholder: 'oncall@example.com' })}
          </div>
          {text('Subject template', 'subjectTemplate', 'email.subjectTemplate')}
          {text('Body template', 'bodyTemplate', 'email.bodyTemplate', { area: true })}
        </>
      )}
      <div class="mon-row">
        <button type="submit" class="btn primary" disabled={saving} data-testid="target-save">
          {saving ? 'Saving…' : 'Save'}
        </button>
        <button type="button" class="btn" onClick={() => onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function destination(t: Target): string {
  if (t.webhook) return `${t.webhook.method || 'POST'} ${t.webhook.url}`;
  if (t.slack) return t.slack.url + (t.slack.channel ? ` (${t.slack.channel})` : '');
  if (t.email) return `${(t.email.to ?? []).join(', ')} via ${t.email.host}:${t.email.port ?? ''}`;
  return '';
}

export function TargetsPanel() {
  const [targets, setTargets] = useState<Target[] | null>(null);
  const [error, setError] = useState('');
  const [editing, setEditing] = useState<TargetForm | null>(null);
  const [tests, setTests] = useState<Record<string, TestResult | 'running' | string>>({});
  const load = () =>
    api.targets().then(
      (t) => (setTargets(t), setError('')),
      (e) => setError((e as Error).message),
    );
  useEffect(() => {
    void load();
  }, []);
  const test = async (t: Target) => {
    setTests((x) => ({ ...x, [t.id]: 'running' }));
    try {
      const r = await api.testTarget(t.id);
      setTests((x) => ({ ...x, [t.id]: r }));
    } catch (e) {
      setTests((x) => ({ ...x, [t.id]: (e as Error).message }));
    }
  };
  return (
    <div class="mon-panel" data-testid="targets">
      <div class="mon-head">
        <h2>Notification targets</h2>
        <span class="spacer" />
        {!editing && (
          <button type="button" class="btn primary" data-testid="target-new" onClick={() => setEditing(blank())}>
            New target
          </button>
        )}
      </div>
      {error && <div class="error-text">{error}</div>}
      {editing && (
        <TargetEditor
          key={editing.id || 'new'}
          initial={editing}
          onDone={(saved) => {
            setEditing(null);
            if (saved) void load();
          }}
        />
      )}
      {targets && targets.length === 0 && <div class="muted">No notification targets yet. Monitors without targets still record their alerts.</div>}
      {targets && targets.length > 0 && (
        <div class="table-wrap">
          <table class="result-table" data-testid="targets-table">
            <thead>
              <tr>
                <th class="th-plain">Name</th>
                <th class="th-plain">Type</th>
                <th class="th-plain">Destination</th>
                <th class="th-plain">Test</th>
                <th class="th-plain" />
              </tr>
            </thead>
            <tbody>
              {targets.map((t) => {
                const r = tests[t.id];
                return (
                  <tr key={t.id} data-testid="target-row">
                    <td>{t.name}</td>
                    <td>{t.type}</td>
                    <td class="mon-msg">{destination(t)}</td>
                    <td data-testid="target-test-result">
                      {r === 'running' ? (
                        <span class="spinner" />
                      ) : typeof r === 'string' ? (
                        <span class="up">{r}</span>
                      ) : r ? (
                        <span class={r.ok ? 'mon-ok' : 'mon-bad'}>
                          {r.ok ? 'Delivered' : 'Failed'}
                          {r.statusCode ? ` (HTTP ${r.statusCode})` : ''} in {r.durationMs} ms{r.error ? `: ${r.error}` : ''}
                        </span>
                      ) : null}
                    </td>
                    <td class="mon-actions">
                      <button type="button" class="btn small" data-testid="target-test" onClick={() => void test(t)}>
                        Send a test
                      </button>
                      <button type="button" class="btn small" onClick={() => setEditing(formOf(t))}>
                        Edit
                      </button>
                      <button
                        type="button"
                        class="btn small danger"
                        onClick={() => {
                          if (confirm(`Delete the notification target "${t.name}"?`)) void api.removeTarget(t.id).then(load, (e) => setError((e as Error).message));
                        }}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function ThreatListsPanel() {
  const [lists, setLists] = useState<ThreatList[] | null>(null);
  const [error, setError] = useState('');
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ThreatUpload | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const byField = useMemo(() => {
    const m = new Map<string, Problem[]>();
    for (const p of problems) m.set(p.field === 'name' ? 'name' : 'file', [...(m.get(p.field === 'name' ? 'name' : 'file') ?? []), p]);
    return m;
  }, [problems]);
  const load = () =>
    api.threatLists().then(
      (l) => (setLists(l), setError('')),
      (e) => setError((e as Error).message),
    );
  useEffect(() => {
    void load();
  }, []);
  const upload = async () => {
    setError('');
    setResult(null);
    setProblems([]);
    if (!file) return setProblems([{ field: 'file', message: 'choose a CSV file or a STIX 2.1 bundle (JSON)' }]);
    const listName = name.trim() || file.name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-');
    setBusy(true);
    try {
      const content = await file.text();
      const r = await api.uploadThreatList(listName, threatFormat(file.name, content), content);
      setResult(r);
      setName('');
      setFile(null);
      void load();
    } catch (e) {
      if (e instanceof ProblemsError) setProblems(e.problems);
      else setProblems([{ field: 'file', message: (e as Error).message }]);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="mon-panel" data-testid="threat-lists">
      <div class="mon-head">
        <h2>Threat intelligence lists</h2>
      </div>
      <p class="muted small">
        Indicator lists (IPv4/IPv6 addresses, networks, domains) as CSV with an <code>indicator</code> column (optional <code>type</code>, <code>actor</code>, <code>malicious_confidence</code>), or STIX 2.1 bundles. Queries match them with{' '}
        <code>| threatip src_ip</code>; the CloudTrail app's detection fires on any API call from a listed address. Uploading a list with an existing name replaces it.
      </p>
      <form
        class="mon-row mon-upload"
        onSubmit={(e) => {
          e.preventDefault();
          void upload();
        }}
      >
        <label class="mon-field">
          <span>List name</span>
          <input type="text" class="mon-input" placeholder="from the file name" value={name} data-testid="threat-name" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          <FieldError problems={byField.get('name')} />
        </label>
        <label class="mon-field grow">
          <span>File (CSV or STIX JSON)</span>
          <input type="file" accept=".csv,.json,.txt,text/csv,application/json" data-testid="threat-file" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
          <FieldError problems={byField.get('file')} />
        </label>
        <button type="submit" class="btn primary" disabled={busy} data-testid="threat-upload">
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </form>
      {result && (
        <div class="mon-note" data-testid="threat-result">
          Uploaded {result.list?.name ?? result.name ?? ''}: {result.indicators ?? result.list?.rowCount ?? '?'} indicators
          {result.skipped ? `, ${result.skipped} entries skipped (${(result.skipReasons ?? []).join('; ')})` : ''}.
        </div>
      )}
      {error && <div class="error-text">{error}</div>}
      {lists && lists.length === 0 && <div class="muted">No threat lists yet.</div>}
      {lists && lists.length > 0 && (
        <div class="table-wrap">
          <table class="result-table" data-testid="threat-table">
            <thead>
              <tr>
                <th class="th-plain">Name</th>
                <th class="th-plain">Lookup table</th>
                <th class="th-plain">Indicators</th>
                <th class="th-plain">Updated</th>
                <th class="th-plain" />
              </tr>
            </thead>
            <tbody>
              {lists.map((l) => (
                <tr key={l.name} data-testid="threat-row">
                  <td>{l.name}</td>
                  <td>{l.table ?? ''}</td>
                  <td class="num">{l.rowCount ?? ''}</td>
                  <td>
                    {time(l.updatedAt)}
                    {l.updatedBy ? ` by ${l.updatedBy}` : ''}
                  </td>
                  <td class="mon-actions">
                    <button
                      type="button"
                      class="btn small danger"
                      data-testid="threat-delete"
                      onClick={() => {
                        if (confirm(`Delete the threat list "${l.name}"?`)) void api.removeThreatList(l.name).then(load, (e) => setError((e as Error).message));
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
