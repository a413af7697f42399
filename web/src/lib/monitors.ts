// Monitors, notification targets and threat intelligence lists: the API's
// shapes (package monitors), the calls the monitors page makes, and the
// pure logic of its form (a definition ⇄ what the form edits, the server's
// validation problems ⇄ the form's fields).
//
// Routes (api/monitors.go):
//
//	GET    /api/v1/monitors[?app=NAME]              {"monitors": [monitor, ...]}
//	POST   /api/v1/monitors                         a definition → 201 the monitor (400 "problems")
//	GET    /api/v1/monitors/{id}                    the monitor with its firing groups
//	PUT    /api/v1/monitors/{id}?version=N          a definition → the monitor (409 when changed meanwhile)
//	DELETE /api/v1/monitors/{id}
//	POST   /api/v1/monitors/{id}/enable|disable     → the monitor
//	POST   /api/v1/monitors/{id}/mute               {"until": RFC 3339} → the monitor; /unmute
//	GET    /api/v1/monitors/{id}/history            {"events": [...]}
//	POST   /api/v1/monitors/enable-app              {"app", "enabled"} → {"changed": n}
//	GET    /api/v1/notification-deliveries?monitor= {"deliveries": [...]}
//	GET|POST /api/v1/notification-targets, GET|PUT|DELETE /api/v1/notification-targets/{id},
//	POST   /api/v1/notification-targets/{id}/test   {"ok", "statusCode", "error", "durationMs"}
//	GET    /api/v1/threatintel                      {"lists": [...]}
//	PUT    /api/v1/threatintel/{name}               the file (CSV or STIX JSON) → {"list", "format", "indicators", "skipped", "skipReasons"}
//	DELETE /api/v1/threatintel/{name}

import { ApiError, del, get, headers, post } from './api';

// ---- shapes ----

export type Op = '>' | '>=' | '<' | '<=' | '==';
export const OPS: Op[] = ['>', '>=', '<', '<=', '=='];
export const RESULT_COUNT = '_resultcount';

export interface Condition {
  field?: string;
  op: string;
  threshold: number;
}

export interface Triggers {
  critical?: Condition;
  warning?: Condition;
  resolution?: Condition;
  missingData?: { severity?: string };
}

export interface NotifyRef {
  target: string;
  severities?: string[];
}

/** Spec is a monitor's definition (monitors.Spec). */
export interface Spec {
  name: string;
  description?: string;
  query: string;
  window?: string;
  frequency?: string;
  delay?: string;
  groupBy?: string[];
  triggers: Triggers;
  message?: string;
  notifications?: NotifyRef[];
  labels?: Record<string, string>;
  enabled: boolean;
}

export interface MonitorAlert {
  monitorId: string;
  groupKey: string;
  group: Record<string, string> | null;
  state: string;
  value: string;
  alertId: string;
  since: string;
  updatedAt: string;
  targets?: string[];
}

export interface Status {
  state: string;
  firing: number;
  alerts?: MonitorAlert[];
  lastEvaluatedAt?: string;
  lastWindow?: { from: string; to: string };
  nextEvaluationAt?: string;
  lastResultCount: number;
  error?: { message: string; since: string; count: number };
}

/** Monitor is a monitor as the API shows it (monitors.Monitor). */
export interface Monitor extends Spec {
  id: string;
  muted: boolean;
  mutedUntil?: string;
  app?: string;
  appVersion?: string;
  version: number;
  createdAt: string;
  createdBy?: string;
  updatedAt: string;
  updatedBy?: string;
  status: Status;
}

export interface MonitorEvent {
  id: number;
  monitorId: string;
  at: string;
  kind: string;
  severity?: string;
  groupKey?: string;
  group?: Record<string, string> | null;
  value?: string;
  alertId?: string;
  windowStart?: string;
  windowEnd?: string;
  message?: string;
  details?: unknown;
  by?: string;
}

export interface Delivery {
  id: number;
  notificationId: number;
  monitorId: string;
  targetId: string;
  kind: string;
  attempt: number;
  at: string;
  ok: boolean;
  statusCode?: number;
  error?: string;
  durationMs: number;
  status: string;
}

export interface WebhookConfig {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  bodyTemplate?: string;
  contentType?: string;
}
export interface SlackConfig {
  url: string;
  channel?: string;
  username?: string;
  iconEmoji?: string;
  textTemplate?: string;
}
export interface EmailConfig {
  host: string;
  port?: number;
  tls?: string;
  username?: string;
  password?: string;
  from: string;
  to: string[];
  subjectTemplate?: string;
  bodyTemplate?: string;
}

export interface TargetSpec {
  name: string;
  type: 'webhook' | 'slack' | 'email';
  webhook?: WebhookConfig;
  slack?: SlackConfig;
  email?: EmailConfig;
}

export interface Target extends TargetSpec {
  id: string;
  createdAt: string;
  updatedAt: string;
}

export interface TestResult {
  ok: boolean;
  statusCode?: number;
  error?: string;
  durationMs: number;
}

/** ThreatList is an uploaded indicator list (threatintel.List: a lookup table under /threatintel/). */
export interface ThreatList {
  id?: string;
  name: string;
  table?: string;
  description?: string;
  rowCount?: number;
  sizeBytes?: number;
  createdAt?: string;
  createdBy?: string;
  updatedAt?: string;
  updatedBy?: string;
}

/** ThreatUpload is the answer to an upload: the list, and what the file held that is not an indicator. */
export interface ThreatUpload {
  list?: ThreatList;
  name?: string;
  format?: string;
  indicators?: number;
  skipped?: number;
  skipReasons?: string[];
}

/** Problem is one thing wrong with a definition (monitors.Problem). */
export interface Problem {
  field: string;
  message: string;
  line?: number;
  column?: number;
  offset?: number;
}

/** ProblemsError is a 400 answer listing the problems of a definition. */
export class ProblemsError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    public problems: Problem[],
  ) {
    super(status, code, message);
  }
}

// ---- calls ----

/** list reads a list answer: {"<key>": [...]} or a bare array. */
export function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    const v = (body as Record<string, unknown>)[key];
    if (Array.isArray(v)) return v as T[];
    if (v === null) return [];
  }
  throw new Error(`unexpected answer: no "${key}" list`);
}

const enc = encodeURIComponent;

/**
 * send makes a state-changing request whose 400 answers carry "problems";
 * other errors are ApiErrors as from request().
 */
async function send<T>(method: string, path: string, body?: unknown, raw?: { text: string; type: string }): Promise<T> {
  const h = headers(method, body !== undefined);
  if (raw) h['Content-Type'] = raw.type;
  const res = await fetch(path, {
    method,
    headers: h,
    body: raw ? raw.text : body !== undefined ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
  });
  let data: unknown = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const o = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
    const code = String(o.code ?? 'error');
    const message = String(o.message ?? `${res.status} ${res.statusText}`);
    if (res.status === 401) {
      // Let the app notice the session is gone (request() calls its handler).
      void get('/api/v1/me').catch(() => undefined);
    }
    if (Array.isArray(o.problems)) throw new ProblemsError(res.status, code, message, o.problems as Problem[]);
    throw new ApiError(res.status, code, message);
  }
  return data as T;
}

export const api = {
  monitors: async (app = '') => listOf<Monitor>(await get(`/api/v1/monitors${app ? '?app=' + enc(app) : ''}`), 'monitors'),
  monitor: (id: string) => get<Monitor>(`/api/v1/monitors/${enc(id)}`),
  create: (s: Spec) => send<Monitor>('POST', '/api/v1/monitors', s),
  update: (id: string, s: Spec, version: number) => send<Monitor>('PUT', `/api/v1/monitors/${enc(id)}?version=${version}`, s),
  remove: (id: string) => del<unknown>(`/api/v1/monitors/${enc(id)}`),
  setEnabled: (id: string, on: boolean) => post<Monitor>(`/api/v1/monitors/${enc(id)}/${on ? 'enable' : 'disable'}`, {}),
  mute: (id: string, until: Date | null) => (until ? post<Monitor>(`/api/v1/monitors/${enc(id)}/mute`, { until: until.toISOString() }) : post<Monitor>(`/api/v1/monitors/${enc(id)}/unmute`, {})),
  history: async (id: string, limit = 200) => listOf<MonitorEvent>(await get(`/api/v1/monitors/${enc(id)}/history?limit=${limit}`), 'events'),
  deliveries: async (id: string, limit = 200) => listOf<Delivery>(await get(`/api/v1/notification-deliveries?monitor=${enc(id)}&limit=${limit}`), 'deliveries'),
  setAppEnabled: (app: string, enabled: boolean) => post<{ changed?: number }>('/api/v1/monitors/enable-app', { app, enabled }),

  targets: async () => listOf<Target>(await get('/api/v1/notification-targets'), 'targets'),
  createTarget: (t: TargetSpec) => send<Target>('POST', '/api/v1/notification-targets', t),
  updateTarget: (id: string, t: TargetSpec) => send<Target>('PUT', `/api/v1/notification-targets/${enc(id)}`, t),
  removeTarget: (id: string) => del<unknown>(`/api/v1/notification-targets/${enc(id)}`),
  testTarget: (id: string) => post<TestResult>(`/api/v1/notification-targets/${enc(id)}/test`, {}),

  threatLists: async () => listOf<ThreatList>(await get('/api/v1/threatintel'), 'lists'),
  uploadThreatList: (name: string, format: 'csv' | 'stix', content: string) =>
    send<ThreatUpload>('PUT', `/api/v1/threatintel/${enc(name)}`, undefined, { text: content, type: format === 'stix' ? 'application/json' : 'text/csv' }),
  removeThreatList: (name: string) => del<unknown>(`/api/v1/threatintel/${enc(name)}`),
};

// ---- states ----

/** DisplayState is what the list shows: the server's state, with muting on top of a firing one. */
export type DisplayState = 'ok' | 'critical' | 'warning' | 'missingData' | 'error' | 'disabled' | 'muted';

export const STATE_LABEL: Record<DisplayState, string> = {
  ok: 'OK',
  critical: 'Critical',
  warning: 'Warning',
  missingData: 'Missing data',
  error: 'Error',
  disabled: 'Disabled',
  muted: 'Muted',
};

/** displayState maps a monitor's status to one of the list's states. */
export function displayState(m: Pick<Monitor, 'enabled' | 'muted' | 'status'>): DisplayState {
  const s = m.status?.state ?? '';
  if (s === 'disabled' || !m.enabled) return 'disabled';
  if (m.muted) return 'muted';
  switch (s) {
    case 'critical':
    case 'warning':
    case 'missingData':
    case 'error':
      return s;
  }
  return 'ok';
}

/** severityRank orders states for sorting: the most urgent first. */
export function severityRank(s: DisplayState): number {
  return { critical: 0, error: 1, warning: 2, missingData: 3, muted: 4, ok: 5, disabled: 6 }[s];
}

/** groupText describes an alert's group: "user=alice, src_ip=1.2.3.4" (keys sorted), or "(whole monitor)". */
export function groupText(g: Record<string, string> | null | undefined): string {
  if (!g) return '(whole monitor)';
  const keys = Object.keys(g).sort();
  if (keys.length === 0) return '(whole monitor)';
  return keys.map((k) => `${k}=${g[k]}`).join(', ');
}

// ---- durations ----

const DUR = /^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?!s))?\s*(?:(\d+)\s*s)?\s*$/i;

/** parseDuration reads "15m", "1h30m", "1d", "90s" into milliseconds; null when it is not one. */
export function parseDuration(s: string): number | null {
  const m = DUR.exec(s);
  if (!m || !s.trim() || m.slice(1).every((x) => x === undefined)) return null;
  const [d, h, mi, sec] = m.slice(1).map((x) => Number(x ?? 0));
  return (((d * 24 + h) * 60 + mi) * 60 + sec) * 1000;
}

/** formatDuration writes milliseconds in the server's compact form: 1d, 1h30m, 15m, 30s. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let out = '';
  let rest = Math.round(ms / 1000);
  for (const [n, u] of [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ] as [number, string][]) {
    if (rest >= n) {
      out += Math.floor(rest / n) + u;
      rest %= n;
    }
  }
  return out;
}

/** agoText describes how long ago (or in how long) an instant is: "3m ago", "in 40s". */
export function agoText(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const d = now - t;
  const abs = Math.abs(d);
  const txt = abs < 1000 ? 'now' : formatDuration(abs >= 3_600_000 ? Math.floor(abs / 60_000) * 60_000 : Math.floor(abs / 1000) * 1000);
  if (txt === 'now') return 'just now';
  return d >= 0 ? `${txt} ago` : `in ${txt}`;
}

// ---- the form ----

export interface ConditionForm {
  on: boolean;
  /** what is compared: the number of results or a field */
  subject: 'count' | 'field';
  field: string;
  op: string;
  threshold: string;
}

export interface TargetRefForm {
  target: string;
  /** empty: every severity */
  severities: string[];
}

export interface MonitorForm {
  name: string;
  description: string;
  query: string;
  window: string;
  frequency: string;
  delay: string;
  groupBy: string;
  critical: ConditionForm;
  warning: ConditionForm;
  resolution: ConditionForm;
  missingData: boolean;
  missingSeverity: string;
  message: string;
  notifications: TargetRefForm[];
  labels: Record<string, string>;
  enabled: boolean;
}

const noCondition = (): ConditionForm => ({ on: false, subject: 'count', field: '', op: '>', threshold: '0' });

export function emptyForm(): MonitorForm {
  return {
    name: '',
    description: '',
    query: '',
    window: '15m',
    frequency: '5m',
    delay: '1m',
    groupBy: '',
    critical: { ...noCondition(), on: true },
    warning: noCondition(),
    resolution: noCondition(),
    missingData: false,
    missingSeverity: 'critical',
    message: '',
    notifications: [],
    labels: {},
    enabled: true,
  };
}

function conditionForm(c: Condition | undefined): ConditionForm {
  if (!c) return noCondition();
  const count = !c.field || c.field.toLowerCase() === RESULT_COUNT;
  return { on: true, subject: count ? 'count' : 'field', field: count ? '' : c.field!, op: c.op, threshold: String(c.threshold) };
}

/** formFromSpec fills the form from a definition. */
export function formFromSpec(s: Spec): MonitorForm {
  return {
    name: s.name ?? '',
    description: s.description ?? '',
    query: s.query ?? '',
    window: s.window ?? '15m',
    frequency: s.frequency ?? '5m',
    delay: s.delay ?? '1m',
    groupBy: (s.groupBy ?? []).join(', '),
    critical: conditionForm(s.triggers?.critical),
    warning: conditionForm(s.triggers?.warning),
    resolution: conditionForm(s.triggers?.resolution),
    missingData: !!s.triggers?.missingData,
    missingSeverity: s.triggers?.missingData?.severity || 'critical',
    message: s.message ?? '',
    notifications: (s.notifications ?? []).map((n) => ({ target: n.target, severities: [...(n.severities ?? [])] })),
    labels: { ...(s.labels ?? {}) },
    enabled: s.enabled,
  };
}

/**
 * specFromForm builds the definition to send. Problems the browser can see
 * without the server (a threshold that is not a number) are returned with
 * the same field names as the server's.
 */
export function specFromForm(f: MonitorForm): { spec: Spec; problems: Problem[] } {
  const problems: Problem[] = [];
  const cond = (name: string, c: ConditionForm): Condition | undefined => {
    if (!c.on) return undefined;
    const t = c.threshold.trim();
    const n = Number(t);
    if (t === '' || !Number.isFinite(n)) problems.push({ field: `triggers.${name}.threshold`, message: `"${c.threshold}" is not a number` });
    if (c.subject === 'field' && !c.field.trim()) problems.push({ field: `triggers.${name}.field`, message: 'name the result field to compare (or compare the number of results)' });
    const out: Condition = { op: c.op, threshold: Number.isFinite(n) ? n : 0 };
    if (c.subject === 'field') out.field = c.field.trim();
    return out;
  };
  const triggers: Triggers = {};
  const cr = cond('critical', f.critical);
  const wa = cond('warning', f.warning);
  const re = cond('resolution', f.resolution);
  if (cr) triggers.critical = cr;
  if (wa) triggers.warning = wa;
  if (re) triggers.resolution = re;
  if (f.missingData) triggers.missingData = { severity: f.missingSeverity };
  const spec: Spec = {
    name: f.name.trim(),
    query: f.query,
    window: f.window.trim(),
    frequency: f.frequency.trim(),
    delay: f.delay.trim(),
    triggers,
    enabled: f.enabled,
  };
  if (f.description.trim()) spec.description = f.description.trim();
  const groupBy = f.groupBy
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  if (groupBy.length) spec.groupBy = groupBy;
  if (f.message.trim()) spec.message = f.message;
  const notes = f.notifications.filter((n) => n.target.trim());
  if (notes.length) spec.notifications = notes.map((n) => (n.severities.length ? { target: n.target, severities: [...n.severities] } : { target: n.target }));
  if (Object.keys(f.labels).length) spec.labels = { ...f.labels };
  for (const [field, v] of [
    ['window', spec.window],
    ['frequency', spec.frequency],
    ['delay', spec.delay],
  ] as [string, string][]) {
    if (v && parseDuration(v) === null) problems.push({ field, message: `"${v}" is not a duration such as 30s, 5m, 1h or 1d` });
  }
  return { spec, problems };
}

/** FORM_FIELDS are the fields the form shows problems at; others are listed at its top. */
export const FORM_FIELDS = [
  'name',
  'description',
  'query',
  'window',
  'frequency',
  'delay',
  'groupBy',
  'triggers',
  'triggers.critical',
  'triggers.critical.field',
  'triggers.critical.op',
  'triggers.critical.threshold',
  'triggers.warning',
  'triggers.warning.field',
  'triggers.warning.op',
  'triggers.warning.threshold',
  'triggers.resolution',
  'triggers.resolution.field',
  'triggers.resolution.op',
  'triggers.resolution.threshold',
  'triggers.missingData.severity',
  'message',
  'notifications',
];

/**
 * formFieldOf maps a problem's field to where the form shows it:
 * "groupBy[1]" → "groupBy", "notifications[0].target" → "notifications[0]";
 * "" when the form has no such field.
 */
export function formFieldOf(field: string): string {
  if (/^groupBy(\[\d+\])?$/.test(field)) return 'groupBy';
  const n = /^(notifications\[\d+\])(\.|$)/.exec(field);
  if (n) return n[1];
  if (field === 'notifications') return field;
  return FORM_FIELDS.includes(field) ? field : '';
}

/** problemsByField groups problems by where the form shows them ("" for the general list). */
export function problemsByField(ps: Problem[]): Map<string, Problem[]> {
  const out = new Map<string, Problem[]>();
  for (const p of ps) {
    const k = formFieldOf(p.field);
    out.set(k, [...(out.get(k) ?? []), p]);
  }
  return out;
}

// ---- links ----

/**
 * searchLink opens the search page with a monitor's query over a window
 * (epoch milliseconds, so the link shows exactly what was evaluated).
 */
export function searchLink(query: string, from: string | number, to: string | number, tz = 'UTC'): string {
  const ms = (v: string | number) => (typeof v === 'number' ? v : Date.parse(v));
  const p = new URLSearchParams();
  p.set('q', query);
  p.set('from', String(ms(from)));
  p.set('to', String(ms(to)));
  p.set('tz', tz);
  return '/search?' + p.toString();
}

/** muteUntil computes when a mute of a period ("1h", "1d") ends. */
export function muteUntil(period: string, now = Date.now()): Date | null {
  const ms = parseDuration(period);
  return ms && ms > 0 ? new Date(now + ms) : null;
}

/** THREAT_FORMAT guesses an upload's format from its file name and content. */
export function threatFormat(fileName: string, content: string): 'csv' | 'stix' {
  if (/\.json$/i.test(fileName)) return 'stix';
  if (/\.csv$/i.test(fileName)) return 'csv';
  return content.trimStart().startsWith('{') ? 'stix' : 'csv';
}

// ---- the page's routes ----

export type MonitorsRoute = { page: 'list' } | { page: 'new' } | { page: 'targets' } | { page: 'threats' } | { page: 'detail'; id: string } | { page: 'edit'; id: string };

/** routeOf reads the monitors page's route from a path under /monitors. */
export function routeOf(path: string): MonitorsRoute {
  const parts = path.replace(/^\/monitors\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: 'list' };
  if (parts[0] === 'new') return { page: 'new' };
  if (parts[0] === 'targets') return { page: 'targets' };
  if (parts[0] === 'threat-lists') return { page: 'threats' };
  if (parts[1] === 'edit') return { page: 'edit', id: parts[0] };
  return { page: 'detail', id: parts[0] };
}
