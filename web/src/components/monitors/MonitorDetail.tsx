// A monitor's page: its definition and state, the groups firing now, its
// alert history (fired and resolved per group, with values, times and a
// link to the search the evaluation ran) and the delivery log.

import { useEffect, useState } from 'preact/hooks';
import { api, agoText, groupText, searchLink, type Delivery, type Monitor, type MonitorEvent, type Target, type Condition } from '../../lib/monitors';
import { navClick } from '../../lib/nav';
import { Link, MonitorState, MuteControl, navigate, time } from './common';

const ALERT_KINDS = new Set(['fired', 'escalated', 'deescalated', 'resolved', 'error', 'recovered', 'skipped']);

function condText(c: Condition | undefined): string {
  if (!c) return '';
  const f = !c.field || c.field.toLowerCase() === '_resultcount' ? 'results' : c.field;
  return `${f} ${c.op} ${c.threshold}`;
}

export function MonitorDetail({ id }: { id: string }) {
  const [m, setM] = useState<Monitor | null>(null);
  const [events, setEvents] = useState<MonitorEvent[]>([]);
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [deliveryError, setDeliveryError] = useState('');
  const [targets, setTargets] = useState<Target[]>([]);
  const [error, setError] = useState('');
  const [alertsOnly, setAlertsOnly] = useState(false);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let stop = false;
    const load = async () => {
      try {
        const [mm, ev] = await Promise.all([api.monitor(id), api.history(id)]);
        if (stop) return;
        setM(mm);
        setEvents(ev);
        setError('');
      } catch (e) {
        if (!stop) setError((e as Error).message);
      }
      api.deliveries(id).then(
        (d) => !stop && (setDeliveries(d), setDeliveryError('')),
        (e) => !stop && setDeliveryError((e as Error).message),
      );
    };
    void load();
    const t = setInterval(load, 5000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [id, tick]);

  useEffect(() => {
    api.targets().then(setTargets, () => undefined);
  }, []);

  if (!m) return error ? <div class="error-text">{error}</div> : <div class="empty">Loading…</div>;
  const act = async (fn: () => Promise<unknown>) => {
    try {
      setError('');
      await fn();
      setTick((t) => t + 1);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const targetName = (ref: string) => targets.find((t) => t.id === ref)?.name ?? ref;
  const winMs = (() => {
    const w = m.status.lastWindow;
    return w ? Date.parse(w.to) - Date.parse(w.from) : 15 * 60_000;
  })();
  const shown = alertsOnly ? events.filter((e) => ALERT_KINDS.has(e.kind)) : events;
  const alerts = m.status.alerts ?? [];

  return (
    <div class="mon-detail" data-testid="monitor-detail">
      <div class="mon-head">
        <Link href="/monitors" class="link">
          ← Monitors
        </Link>
      </div>
      <div class="mon-head">
        <h1 data-testid="monitor-title">{m.name}</h1>
        <MonitorState m={m} />
        {m.app && <span class="badge">{m.app}</span>}
        <span class="spacer" />
        <a class="btn" href={searchLink(m.query, m.status.lastWindow?.from ?? Date.now() - winMs, m.status.lastWindow?.to ?? Date.now())} data-testid="open-search" onClick={navClick}>
          Open in search
        </a>
        <button type="button" class="btn" data-testid="toggle-enabled" onClick={() => act(() => api.setEnabled(m.id, !m.enabled))}>
          {m.enabled ? 'Disable' : 'Enable'}
        </button>
        <MuteControl m={m} onMute={(u) => act(() => api.mute(m.id, u))} />
        <Link href={`/monitors/${encodeURIComponent(m.id)}/edit`} class="btn" testid="edit-monitor">
          Edit
        </Link>
        <button
          type="button"
          class="btn danger"
          onClick={() => {
            if (confirm(`Delete the monitor "${m.name}" and its history?`)) void api.remove(m.id).then(() => navigate('/monitors'), (e) => setError((e as Error).message));
          }}
        >
          Delete
        </button>
      </div>
      {error && <div class="error-text">{error}</div>}
      {m.muted && <div class="warning">Muted until {time(m.mutedUntil)}: alerts are evaluated and recorded, notifications are not sent.</div>}
      {m.status.error && (
        <div class="problem" data-testid="monitor-error">
          The evaluation fails ({m.status.error.count} times since {time(m.status.error.since)}): {m.status.error.message}
        </div>
      )}
      {m.description && <p class="muted">{m.description}</p>}

      <section class="mon-section">
        <pre class="mon-query-text" data-testid="monitor-query">
          {m.query}
        </pre>
        <dl class="mon-facts">
          <dt>Window</dt>
          <dd>{m.window}</dd>
          <dt>Frequency</dt>
          <dd>every {m.frequency}</dd>
          <dt>Delay</dt>
          <dd>{m.delay}</dd>
          <dt>Group by</dt>
          <dd>{m.groupBy?.length ? m.groupBy.join(', ') : '—'}</dd>
          <dt>Triggers</dt>
          <dd>
            {[
              m.triggers.critical && `critical: ${condText(m.triggers.critical)}`,
              m.triggers.warning && `warning: ${condText(m.triggers.warning)}`,
              m.triggers.missingData && `missing data: ${m.triggers.missingData.severity ?? 'critical'}`,
              m.triggers.resolution && `resolved: ${condText(m.triggers.resolution)}`,
            ]
              .filter(Boolean)
              .join(' · ')}
          </dd>
          <dt>Notifies</dt>
          <dd>{m.notifications?.length ? m.notifications.map((n) => targetName(n.target) + (n.severities?.length ? ` (${n.severities.join(', ')})` : '')).join(', ') : '—'}</dd>
          <dt>Last evaluation</dt>
          <dd data-testid="last-eval">
            {m.status.lastEvaluatedAt ? `${time(m.status.lastEvaluatedAt)} (${agoText(m.status.lastEvaluatedAt)}), ${m.status.lastResultCount} results` : 'not yet'}
            {m.status.lastWindow && ` over ${time(m.status.lastWindow.from)} → ${time(m.status.lastWindow.to)}`}
          </dd>
          <dt>Next evaluation</dt>
          <dd>{m.status.nextEvaluationAt ? `${time(m.status.nextEvaluationAt)} (${agoText(m.status.nextEvaluationAt)})` : '—'}</dd>
          {m.labels && Object.keys(m.labels).length > 0 && (
            <>
              <dt>Labels</dt>
              <dd>
                {Object.entries(m.labels)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(', ')}
              </dd>
            </>
          )}
        </dl>
      </section>

      <section class="mon-section">
        <h2>Firing now ({alerts.length})</h2>
        {alerts.length === 0 ? (
          <div class="muted">Nothing is firing.</div>
        ) : (
          <div class="table-wrap">
            <table class="result-table" data-testid="firing-groups">
              <thead>
                <tr>
                  <th class="th-plain">Group</th>
                  <th class="th-plain">Severity</th>
                  <th class="th-plain">Value</th>
                  <th class="th-plain">Since</th>
                </tr>
              </thead>
              <tbody>
                {alerts.map((a) => (
                  <tr key={a.groupKey}>
                    <td>{groupText(a.group)}</td>
                    <td>
                      <span class={'mon-sev s-' + a.state}>{a.state}</span>
                    </td>
                    <td class="num">{a.value}</td>
                    <td>{time(a.since)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="mon-section">
        <div class="mon-head">
          <h2>History</h2>
          <label class="mon-check small">
            <input type="checkbox" checked={alertsOnly} onChange={(e) => setAlertsOnly((e.target as HTMLInputElement).checked)} />
            alerts only
          </label>
        </div>
        {shown.length === 0 ? (
          <div class="muted">No history yet.</div>
        ) : (
          <div class="table-wrap">
            <table class="result-table" data-testid="monitor-history">
              <thead>
                <tr>
                  <th class="th-plain">Time</th>
                  <th class="th-plain">Event</th>
                  <th class="th-plain">Group</th>
                  <th class="th-plain">Value</th>
                  <th class="th-plain">Window</th>
                  <th class="th-plain">Message</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((e) => (
                  <tr key={e.id} data-kind={e.kind} class={'ev-' + e.kind}>
                    <td>{time(e.at)}</td>
                    <td>
                      <span class={'mon-sev s-' + (e.kind === 'resolved' || e.kind === 'recovered' ? 'ok' : (e.severity ?? ''))}>{e.kind}</span>
                      {e.severity && e.kind !== 'resolved' ? <span class="muted small"> {e.severity}</span> : null}
                    </td>
                    <td>{ALERT_KINDS.has(e.kind) && e.kind !== 'skipped' ? groupText(e.group) : ''}</td>
                    <td class="num">{e.value ?? ''}</td>
                    <td>
                      {e.windowStart && e.windowEnd ? (
                        <a href={searchLink(m.query, e.windowStart, e.windowEnd)} title="Search the window this evaluation covered" data-testid="history-search" onClick={navClick}>
                          {time(e.windowStart)} → {time(e.windowEnd).slice(11)}
                        </a>
                      ) : (
                        ''
                      )}
                    </td>
                    <td class="mon-msg">
                      {e.message ?? ''}
                      {e.by ? <span class="muted small"> — {e.by}</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="mon-section">
        <h2>Delivery log</h2>
        {deliveryError && <div class="error-text">{deliveryError}</div>}
        {deliveries && deliveries.length === 0 && <div class="muted">No notifications sent yet.</div>}
        {deliveries && deliveries.length > 0 && (
          <div class="table-wrap">
            <table class="result-table" data-testid="delivery-log">
              <thead>
                <tr>
                  <th class="th-plain">Time</th>
                  <th class="th-plain">Target</th>
                  <th class="th-plain">Notification</th>
                  <th class="th-plain">Attempt</th>
                  <th class="th-plain">Result</th>
                  <th class="th-plain">Duration</th>
                  <th class="th-plain">Status</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr key={d.id}>
                    <td>{time(d.at)}</td>
                    <td>{targetName(d.targetId)}</td>
                    <td>{d.kind}</td>
                    <td class="num">{d.attempt}</td>
                    <td class={d.ok ? 'down' : 'up'}>{d.ok ? `OK${d.statusCode ? ' ' + d.statusCode : ''}` : `${d.statusCode ? d.statusCode + ' ' : ''}${d.error ?? 'failed'}`}</td>
                    <td class="num">{d.durationMs} ms</td>
                    <td>{d.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
