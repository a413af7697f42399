// Time ranges as users write them: relative ("-15m", "-1h30m", "now"),
// named ("week": this week so far, "today"), absolute local date-times in a
// time zone ("2024-05-01T10:00:00", "2024-05-01 10:00") or epoch
// milliseconds. A range is kept as the user wrote it (so a shared link to
// "last 15 minutes" stays relative) and resolved to epoch milliseconds when
// a search runs.

export interface RangeSpec {
  from: string;
  to: string;
}

export interface Resolved {
  start: number;
  end: number;
}

export const PRESETS: { label: string; from: string; to: string; key?: string }[] = [
  { label: 'Last 15 minutes', from: '-15m', to: 'now', key: '1' },
  { label: 'Last 60 minutes', from: '-1h', to: 'now', key: '2' },
  { label: 'Last 3 hours', from: '-3h', to: 'now', key: '3' },
  { label: 'Last 24 hours', from: '-24h', to: 'now', key: '4' },
  { label: 'Last 7 days', from: '-7d', to: 'now', key: '5' },
  { label: 'Today', from: 'today', to: 'now' },
  { label: 'This week', from: 'week', to: 'now' },
];

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const RELATIVE = /^-\s*((?:\d+(?:ms|s|m|h|d|w)\s*)+)$/i;
const REL_PART = /(\d+)(ms|s|m|h|d|w)/gi;
const ABSOLUTE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

/** relativeMs returns the length of a relative expression like "-1h30m", or null. */
export function relativeMs(s: string): number | null {
  const m = RELATIVE.exec(s.trim());
  if (!m) return null;
  let total = 0;
  for (const p of m[1].matchAll(REL_PART)) total += Number(p[1]) * UNIT_MS[p[2].toLowerCase()];
  return total;
}

/** isValidTime reports whether s is a time expression this module understands. */
export function isValidTime(s: string): boolean {
  const t = s.trim().toLowerCase();
  if (t === 'now' || t === 'today' || t === 'week' || t === 'yesterday') return true;
  if (relativeMs(t) !== null) return true;
  if (/^\d{10,16}$/.test(t)) return true;
  return ABSOLUTE.test(s.trim());
}

// ---- time zones ----

const partsCache = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(tz: string): Intl.DateTimeFormat {
  let f = partsCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    partsCache.set(tz, f);
  }
  return f;
}

export interface WallTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  weekday: number; // 0 = Monday
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** wallTime returns the local date and time of an instant in a zone. */
export function wallTime(ms: number, tz: string): WallTime {
  const parts = partsFormatter(tz).formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '0';
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')) % 24,
    minute: Number(get('minute')),
    second: Number(get('second')),
    ms: ((ms % 1000) + 1000) % 1000,
    weekday: WEEKDAYS.indexOf(get('weekday')),
  };
}

/** zoneOffset returns the zone's offset from UTC (ms) at an instant. */
export function zoneOffset(ms: number, tz: string): number {
  const w = wallTime(ms, tz);
  const asUTC = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.ms);
  return asUTC - ms;
}

/** fromWallTime converts a local date-time in a zone to epoch milliseconds. */
export function fromWallTime(y: number, mo: number, d: number, h: number, mi: number, s: number, msec: number, tz: string): number {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s, msec);
  let t = guess - zoneOffset(guess, tz);
  // Around a DST change the offset at t may differ from the one at guess.
  const off2 = zoneOffset(t, tz);
  t = guess - off2;
  return t;
}

export function isValidZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

// ---- resolving ----

function startOfDay(now: number, tz: string, daysBack = 0): number {
  const w = wallTime(now, tz);
  return fromWallTime(w.year, w.month, w.day - daysBack, 0, 0, 0, 0, tz);
}

/** resolveTime turns one time expression into epoch milliseconds. */
export function resolveTime(s: string, tz: string, now: number): number {
  const t = s.trim();
  const lower = t.toLowerCase();
  if (lower === 'now' || lower === '') return now;
  if (lower === 'today') return startOfDay(now, tz);
  if (lower === 'yesterday') return startOfDay(now, tz, 1);
  if (lower === 'week') {
    const w = wallTime(now, tz);
    return fromWallTime(w.year, w.month, w.day - w.weekday, 0, 0, 0, 0, tz);
  }
  const rel = relativeMs(t);
  if (rel !== null) return now - rel;
  if (/^\d{10,16}$/.test(t)) return Number(t);
  const m = ABSOLUTE.exec(t);
  if (m) {
    return fromWallTime(
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      Number(m[6] ?? 0),
      Number((m[7] ?? '0').padEnd(3, '0')),
      tz,
    );
  }
  throw new Error(`"${s}" is not a time: use -15m, -3h, -7d, now, today, week, or 2024-05-01T10:00:00`);
}

/** resolveRange resolves a range; it throws when the range is empty or unreadable. */
export function resolveRange(r: RangeSpec, tz: string, now = Date.now()): Resolved {
  const start = resolveTime(r.from, tz, now);
  const end = resolveTime(r.to || 'now', tz, now);
  if (!(end > start)) throw new Error(`the range is empty: "${r.to}" is not after "${r.from}"`);
  return { start, end };
}

/**
 * parseRangeText reads what a user types in the custom range box: "-3h",
 * "-3h -1h", "-3h to -1h", "2024-05-01 10:00 to 2024-05-01 12:00".
 */
export function parseRangeText(text: string): RangeSpec | null {
  const t = text.trim();
  if (!t) return null;
  const parts = t.split(/\s+(?:to|-|–|→)\s+/i);
  if (parts.length === 2 && isValidTime(parts[0]) && isValidTime(parts[1])) return { from: parts[0].trim(), to: parts[1].trim() };
  if (isValidTime(t)) return { from: t, to: 'now' };
  // "-3h -1h": two relative expressions separated by a space.
  const two = /^(-\S+)\s+(-\S+|now)$/i.exec(t);
  if (two && isValidTime(two[1]) && isValidTime(two[2])) return { from: two[1], to: two[2] };
  return null;
}

// ---- labels and formatting ----

export function rangeLabel(r: RangeSpec): string {
  const p = PRESETS.find((p) => p.from === r.from && p.to === r.to);
  if (p) return p.label;
  if ((r.to === 'now' || r.to === '') && relativeMs(r.from) !== null) return `Last ${humanDuration(relativeMs(r.from)!)}`;
  return `${r.from} → ${r.to}`;
}

export function humanDuration(ms: number): string {
  const units: [number, string][] = [
    [UNIT_MS.w, 'week'],
    [UNIT_MS.d, 'day'],
    [UNIT_MS.h, 'hour'],
    [UNIT_MS.m, 'minute'],
    [UNIT_MS.s, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** formatTime writes an instant as "2024-05-01 10:00:00.123" in a zone. */
export function formatTime(ms: number, tz: string, withMs = true): string {
  const w = wallTime(ms, tz);
  const s = `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
  return withMs ? `${s}.${pad(w.ms, 3)}` : s;
}

/** isoLocal writes an instant as an absolute range bound "2024-05-01T10:00:00" in a zone. */
export function isoLocal(ms: number, tz: string): string {
  const w = wallTime(ms, tz);
  const base = `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
  return w.ms ? `${base}.${pad(w.ms, 3)}` : base;
}
