import { useEffect, useState } from 'preact/hooks';
import { get, post } from '../lib/api';
import { navClick } from '../lib/nav';
import { GeoCredit } from '../components/GeoCredit';

interface Param {
  name: string;
  title?: string;
  description?: string;
  default?: string;
  required?: boolean;
}

interface AppItem {
  kind: string;
  key: string;
  id: string;
  name: string;
}

interface AppInfo {
  manifest: { name: string; title: string; version: string; description: string; category?: string; folder?: string; params: Param[]; dataFormat?: string; setup?: string };
  installed?: { name: string; version: string; params: Record<string, string>; items: AppItem[]; installedAt: string; installedBy: string };
  upgradeAvailable: boolean;
  contents: Record<'dashboards' | 'searches' | 'lookups' | 'monitors', { key: string; title: string; description?: string; panels?: number }[]>;
}

interface Report {
  app: string;
  version: string;
  created: AppItem[];
  updated: AppItem[];
  removed: AppItem[];
  skipped: { kind: string; key: string; name: string; reason: string }[];
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** AppsPage is the app catalog: what each app brings, its parameters, install, upgrade and uninstall. */
export function AppsPage() {
  const [apps, setApps] = useState<AppInfo[] | null>(null);
  const [error, setError] = useState('');
  const [seq, setSeq] = useState(0);
  useEffect(() => {
    get<{ apps: AppInfo[] }>('/api/v1/apps')
      .then((r) => setApps(r.apps ?? []))
      .catch((e) => setError(errMessage(e)));
  }, [seq]);
  const hasGeo = apps?.some((a) => a.contents.dashboards.length > 0);
  return (
    <div class="page list-page" data-testid="apps-page">
      <div class="page-head">
        <h1>App catalog</h1>
        <span class="muted small">Ready-made dashboards, searches, lookups and detections for common log sources.</span>
      </div>
      {error && <p class="error-text">{error}</p>}
      {!apps && !error && <p class="muted">Loading…</p>}
      <div class="app-grid">
        {apps?.map((a) => (
          <AppCard key={a.manifest.name} app={a} onChanged={() => setSeq((n) => n + 1)} />
        ))}
      </div>
      {hasGeo && <GeoCredit />}
    </div>
  );
}

function AppCard({ app, onChanged }: { app: AppInfo; onChanged: () => void }) {
  const m = app.manifest;
  const inst = app.installed;
  const [params, setParams] = useState<Record<string, string>>(() => Object.fromEntries(m.params.map((p) => [p.name, inst?.params?.[p.name] ?? p.default ?? ''])));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [report, setReport] = useState<Report | null>(null);
  const [showSetup, setShowSetup] = useState(false);

  const act = async (what: 'install' | 'upgrade' | 'uninstall') => {
    if (what === 'uninstall' && !confirm(`Uninstall ${m.title}? Its dashboards, searches, lookups and monitors are removed.`)) return;
    setBusy(true);
    setError('');
    try {
      const body = what === 'uninstall' ? {} : { params };
      const r = await post<Report>(`/api/v1/apps/${encodeURIComponent(m.name)}/${what}`, body);
      setReport(r);
      onChanged();
    } catch (e) {
      setError(errMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const dashIds = new Map((inst?.items ?? []).filter((i) => i.kind === 'dashboard').map((i) => [i.key, i.id]));
  return (
    <article class="app-card" data-testid={`app-${m.name}`} data-installed={inst ? '1' : '0'}>
      <header class="app-head">
        <h2>{m.title}</h2>
        <span class="badge">{m.version}</span>
        {m.category && <span class="badge">{m.category}</span>}
        {inst ? (
          <span class="badge ok" data-testid="app-installed">
            installed {inst.version}
          </span>
        ) : null}
        {app.upgradeAvailable && <span class="badge warn">upgrade available</span>}
      </header>
      <p class="small">{m.description}</p>
      <p class="muted small">
        {app.contents.dashboards.length} dashboards · {app.contents.searches.length} saved searches · {app.contents.lookups.length} lookup tables · {app.contents.monitors.length} monitors
      </p>
      <ul class="app-dashboards small">
        {app.contents.dashboards.map((d) => (
          <li key={d.key}>
            {dashIds.has(d.key) ? (
              <a href={`/dashboards/${encodeURIComponent(dashIds.get(d.key)!)}`} onClick={navClick} data-testid="app-dashboard-link">
                {d.title}
              </a>
            ) : (
              d.title
            )}
            {d.panels ? <span class="muted"> · {d.panels} panels</span> : null}
          </li>
        ))}
      </ul>
      <form
        class="app-params"
        onSubmit={(e) => {
          e.preventDefault();
          void act(inst ? 'upgrade' : 'install');
        }}
      >
        {m.params.map((p) => (
          <label key={p.name} class="field">
            {p.title || p.name}
            {p.required ? ' *' : ''}
            <input type="text" name={p.name} data-testid={`app-param-${p.name}`} value={params[p.name] ?? ''} required={p.required} onInput={(e) => setParams({ ...params, [p.name]: (e.target as HTMLInputElement).value })} />
            {p.description && <span class="muted small">{p.description}</span>}
          </label>
        ))}
        <div class="app-actions">
          {!inst && (
            <button type="submit" class="btn primary" disabled={busy} data-testid="app-install">
              Install
            </button>
          )}
          {inst && (
            <button type="submit" class="btn" disabled={busy} data-testid="app-upgrade">
              {app.upgradeAvailable ? 'Upgrade' : 'Reinstall with these parameters'}
            </button>
          )}
          {inst && (
            <button type="button" class="btn danger" disabled={busy} data-testid="app-uninstall" onClick={() => void act('uninstall')}>
              Uninstall
            </button>
          )}
          {busy && <span class="spinner" aria-label="working" />}
          {m.setup && (
            <button type="button" class="link" onClick={() => setShowSetup(!showSetup)} aria-expanded={showSetup}>
              Setup
            </button>
          )}
        </div>
      </form>
      {showSetup && m.setup && <pre class="app-setup small">{m.setup}</pre>}
      {error && <p class="error-text">{error}</p>}
      {report && (
        <div class="app-report small" data-testid="app-report">
          {report.app} {report.version}: {report.created.length} created, {report.updated.length} updated, {report.removed.length} removed
          {report.skipped.length > 0 && (
            <ul>
              {report.skipped.map((s, i) => (
                <li key={i}>
                  skipped {s.kind} {s.name || s.key}: {s.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </article>
  );
}
