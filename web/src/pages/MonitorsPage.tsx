// The monitors page (loaded on demand): the list of monitors with their
// state, the editor, a monitor's history, notification targets and threat
// lists. Its own routes, under /monitors:
//
//   /monitors                   the list (?app=NAME filters)
//   /monitors/new               a new monitor
//   /monitors/targets           notification targets
//   /monitors/threat-lists      threat intelligence lists
//   /monitors/{id}              a monitor: state, history, delivery log
//   /monitors/{id}/edit         its editor

import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, agoText, routeOf, displayState, groupText, severityRank, type Monitor, type MonitorAlert, STATE_LABEL, type DisplayState } from '../lib/monitors';
import { Link, MonitorState, MuteControl, navigate, time } from '../components/monitors/common';
import { MonitorFormPage } from '../components/monitors/MonitorForm';
import { MonitorDetail } from '../components/monitors/MonitorDetail';
import { TargetsPanel, ThreatListsPanel } from '../components/monitors/Targets';
import { NAV_EVENT } from '../lib/nav';
import './monitors.css';

export default function MonitorsPage() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    addEventListener('popstate', on);
    addEventListener(NAV_EVENT, on);
    return () => {
      removeEventListener('popstate', on);
      removeEventListener(NAV_EVENT, on);
    };
  }, []);
  const r = routeOf(path);
  const tab = r.page === 'targets' ? 'targets' : r.page === 'threats' ? 'threats' : 'monitors';
  return (
    <div class="monitors-page" data-testid="monitors-page">
      <nav class="tabs mon-tabs">
        <Link href="/monitors" class={'tab' + (tab === 'monitors' ? ' active' : '')} testid="tab-monitors">
          Monitors
        </Link>
        <Link href="/monitors/targets" class={'tab' + (tab === 'targets' ? ' active' : '')} testid="tab-targets">
          Notification targets
        </Link>
        <Link href="/monitors/threat-lists" class={'tab' + (tab === 'threats' ? ' active' : '')} testid="tab-threats">
          Threat lists
        </Link>
      </nav>
      <div class="mon-body">
        {r.page === 'list' && <MonitorList />}
        {r.page === 'new' && <MonitorFormPage key="new" id={null} />}
        {r.page === 'edit' && <MonitorFormPage key={'edit' + r.id} id={r.id} />}
        {r.page === 'detail' && <MonitorDetail key={r.id} id={r.id} />}
        {r.page === 'targets' && <TargetsPanel />}
        {r.page === 'threats' && <ThreatListsPanel />}
      </div>
    </div>
  );
}

const APP_TITLES: Record<string, string> = { 'aws-cloudtrail': 'AWS CloudTrail' };
const appTitle = (a: string) => APP_TITLES[a] ?? a;

function MonitorList() {
  const [all, setAll] = useState<Monitor[] | null>(null);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [app, setApp] = useState(() => new URLSearchParams(location.search).get('app') ?? '');
  const [text, setText] = useState('');
  const [stateFilter, setStateFilter] = useState<DisplayState | ''>('');
  const [open, setOpen] = useState<Record<string, MonitorAlert[] | 'loading'>>({});
  const [tick, setTick] = useState(0);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let stop = false;
    const load = () =>
      api.monitors().then(
        (l) => !stop && (setAll(l), setError('')),
        (e) => !stop && setError((e as Error).message),
      );
    void load();
    const t = setInterval(load, 5000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [tick]);

  // The groups of an opened row follow the list's refreshes.
  useEffect(() => {
    for (const id of Object.keys(open)) {
      api.monitor(id).then(
        (m) => setOpen((o) => (id in o ? { ...o, [id]: m.status.alerts ?? [] } : o)),
        () => undefined,
      );
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [all]);

  const apps = useMemo(() => [...new Set((all ?? []).map((m) => m.app ?? '').filter(Boolean))].sort(), [all]);
  const shown = useMemo(() => {
    const t = text.trim().toLowerCase();
    return (all ?? [])
      .filter((m) => (app === '' ? true : app === '-' ? !m.app : m.app === app))
      .filter((m) => !t || m.name.toLowerCase().includes(t) || (m.description ?? '').toLowerCase().includes(t))
      .filter((m) => !stateFilter || displayState(m) === stateFilter)
      .sort((a, b) => severityRank(displayState(a)) - severityRank(displayState(b)) || a.name.localeCompare(b.name));
  }, [all, app, text, stateFilter]);
  const counts = useMemo(() => {
    const c: Partial<Record<DisplayState, number>> = {};
    for (const m of all ?? []) c[displayState(m)] = (c[displayState(m)] ?? 0) + 1;
    return c;
  }, [all]);

  const act = async (fn: () => Promise<unknown>) => {
    try {
      setError('');
      await fn();
    } catch (e) {
      setError((e as Error).message);
    }
    setTick((t) => t + 1);
  };
  const setAppFilter = (a: string) => {
    setApp(a);
    history.replaceState(null, '', '/monitors' + (a ? '?app=' + encodeURIComponent(a) : ''));
  };
  const appMonitors = app && app !== '-' ? (all ?? []).filter((m) => m.app === app) : [];
  const appDisabled = appMonitors.filter((m) => !m.enabled).length;

  return (
    <div class="mon-list">
      <div class="mon-head">
        <h1>Monitors</h1>
        <span class="muted small" data-testid="state-counts">
          {(Object.keys(STATE_LABEL) as DisplayState[])
            .filter((s) => counts[s])
            .sort((a, b) => severityRank(a) - severityRank(b))
            .map((s) => `${counts[s]} ${STATE_LABEL[s].toLowerCase()}`)
            .join(' · ')}
        </span>
        <span class="spacer" />
        <Link href="/monitors/new" class="btn primary" testid="new-monitor">
          New monitor
        </Link>
      </div>
      <div class="mon-toolbar">
        <input type="search" class="mon-input" placeholder="Filter by name" aria-label="Filter by name" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <select class="mon-select" aria-label="App" value={app} data-testid="app-filter" onChange={(e) => setAppFilter((e.target as HTMLSelectElement).value)}>
          <option value="">All monitors</option>
          <option value="-">Not from an app</option>
          {apps.map((a) => (
            <option key={a} value={a}>
              App: {appTitle(a)}
            </option>
          ))}
        </select>
        <select class="mon-select" aria-label="State" value={stateFilter} onChange={(e) => setStateFilter((e.target as HTMLSelectElement).value as DisplayState | '')}>
          <option value="">Any state</option>
          {(Object.keys(STATE_LABEL) as DisplayState[]).map((s) => (
            <option key={s} value={s}>
              {STATE_LABEL[s]}
            </option>
          ))}
        </select>
        <span class="spacer" />
        {appMonitors.length > 0 && (
          <>
            <button
              type="button"
              class="btn"
              data-testid="enable-app"
              disabled={busy || appDisabled === 0}
              title={appDisabled === 0 ? 'Every detection of the app is enabled' : ''}
              onClick={() => {
                setBusy(true);
                void act(async () => {
                  const r = await api.setAppEnabled(app, true);
                  setNote(`Enabled ${r.changed ?? appDisabled} detections of ${appTitle(app)}.`);
                }).finally(() => setBusy(false));
              }}
            >
              Enable all {appMonitors.length} detections of {appTitle(app)}
            </button>
            <button
              type="button"
              class="btn"
              disabled={busy || appDisabled === appMonitors.length}
              onClick={() => {
                if (!confirm(`Disable every monitor of ${appTitle(app)}? Their alerts are forgotten.`)) return;
                setBusy(true);
                void act(async () => {
                  const r = await api.setAppEnabled(app, false);
                  setNote(`Disabled ${r.changed ?? ''} monitors of ${appTitle(app)}.`);
                }).finally(() => setBusy(false));
              }}
            >
              Disable all
            </button>
          </>
        )}
      </div>
      {!app &&
        apps
          .map((a) => ({ a, total: (all ?? []).filter((m) => m.app === a).length, off: (all ?? []).filter((m) => m.app === a && !m.enabled).length }))
          .filter((x) => x.off > 0)
          .map((x) => (
            <div class="mon-note mon-app-note" key={x.a} data-testid="app-disabled-note">
              {x.off} of {x.total} detections of {appTitle(x.a)} are disabled.{' '}
              <button type="button" class="link" onClick={() => setAppFilter(x.a)}>
                Show them
              </button>{' '}
              or{' '}
              <button
                type="button"
                class="link"
                disabled={busy}
                data-testid="enable-app-all"
                onClick={() => {
                  setBusy(true);
                  void act(async () => {
                    const r = await api.setAppEnabled(x.a, true);
                    setNote(`Enabled ${r.changed ?? x.off} detections of ${appTitle(x.a)}.`);
                  }).finally(() => setBusy(false));
                }}
              >
                enable them all
              </button>
              .
            </div>
          ))}
      {note && (
        <div class="mon-note" data-testid="list-note">
          {note}
        </div>
      )}
      {error && <div class="error-text">{error}</div>}
      {all === null && !error && <div class="empty">Loading…</div>}
      {all && all.length === 0 && (
        <div class="empty">
          No monitors yet. <Link href="/monitors/new">Create one</Link>, or install the AWS CloudTrail app to get its security detections.
        </div>
      )}
      {all && all.length > 0 && (
        <div class="table-wrap">
          <table class="result-table mon-table" data-testid="monitor-list">
            <thead>
              <tr>
                <th class="th-plain">State</th>
                <th class="th-plain">Name</th>
                <th class="th-plain">Firing</th>
                <th class="th-plain">Last evaluation</th>
                <th class="th-plain">Schedule</th>
                <th class="th-plain" />
              </tr>
            </thead>
            <tbody>
              {shown.map((m) => {
                const groups = open[m.id];
                return [
                  <tr key={m.id} data-testid="monitor-row" data-id={m.id} data-name={m.name}>
                    <td>
                      <MonitorState m={m} />
                    </td>
                    <td class="mon-name">
                      <Link href={'/monitors/' + encodeURIComponent(m.id)} testid="monitor-link">
                        {m.name}
                      </Link>
                      {m.app && <span class="badge">{appTitle(m.app)}</span>}
                      {m.muted && <span class="muted small"> muted until {time(m.mutedUntil)}</span>}
                      {m.status.error && <div class="mon-bad small">{m.status.error.message}</div>}
                    </td>
                    <td class="num">
                      {m.status.firing > 0 ? (
                        <button
                          type="button"
                          class="link"
                          data-testid="firing-count"
                          aria-expanded={!!groups}
                          onClick={() => {
                            if (groups) {
                              const o = { ...open };
                              delete o[m.id];
                              setOpen(o);
                              return;
                            }
                            setOpen((o) => ({ ...o, [m.id]: 'loading' }));
                            api.monitor(m.id).then(
                              (d) => setOpen((o) => ({ ...o, [m.id]: d.status.alerts ?? [] })),
                              (e) => setError((e as Error).message),
                            );
                          }}
                        >
                          {m.status.firing} {m.status.firing === 1 ? 'group' : 'groups'}
                        </button>
                      ) : (
                        <span class="muted">0</span>
                      )}
                    </td>
                    <td title={time(m.status.lastEvaluatedAt)}>
                      {m.status.lastEvaluatedAt ? `${agoText(m.status.lastEvaluatedAt)} · ${m.status.lastResultCount} results` : <span class="muted">not yet</span>}
                    </td>
                    <td class="muted small">
                      every {m.frequency} over {m.window}
                    </td>
                    <td class="mon-actions">
                      <button type="button" class="btn small" data-testid="toggle-enabled" onClick={() => act(() => api.setEnabled(m.id, !m.enabled))}>
                        {m.enabled ? 'Disable' : 'Enable'}
                      </button>
                      <MuteControl m={m} onMute={(u) => act(() => api.mute(m.id, u))} />
                      <button type="button" class="btn small" onClick={() => navigate(`/monitors/${encodeURIComponent(m.id)}/edit`)}>
                        Edit
                      </button>
                    </td>
                  </tr>,
                  groups ? (
                    <tr key={m.id + '-groups'} class="mon-groups">
                      <td />
                      <td colSpan={5}>
                        {groups === 'loading' ? (
                          <span class="spinner" />
                        ) : (
                          <ul data-testid="firing-groups">
                            {groups.map((g) => (
                              <li key={g.groupKey}>
                                <span class={'mon-sev s-' + g.state}>{STATE_LABEL[g.state as DisplayState] ?? g.state}</span> {groupText(g.group)} — value {g.value}, since {time(g.since)}
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                    </tr>
                  ) : null,
                ];
              })}
            </tbody>
          </table>
          {shown.length === 0 && <div class="empty">No monitor matches the filters.</div>}
        </div>
      )}
    </div>
  );
}
