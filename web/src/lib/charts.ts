// Aggregate results as charts: which chart fits a result's shape, and the
// series to draw. No chart library here: the ECharts options are built from
// these plain structures in chart.tsx.

export type ChartKind = 'table' | 'line' | 'area' | 'column' | 'bar' | 'pie' | 'single';

export const CHART_KINDS: { kind: ChartKind; label: string }[] = [
  { kind: 'table', label: 'Table' },
  { kind: 'line', label: 'Line' },
  { kind: 'area', label: 'Area' },
  { kind: 'column', label: 'Column' },
  { kind: 'bar', label: 'Bar' },
  { kind: 'pie', label: 'Pie' },
  { kind: 'single', label: 'Single value' },
];

export interface FieldInfo {
  name: string;
  fieldType?: string;
  keyField?: boolean;
}

export type Rec = Record<string, string>;

export const TIMESLICE = '_timeslice';

function isNum(v: string | undefined): boolean {
  return v !== undefined && v !== '' && Number.isFinite(Number(v));
}

/** numericFields are the non-key fields whose values are numbers (in every non-empty row). */
export function numericFields(fields: FieldInfo[], rows: Rec[]): string[] {
  return fields
    .filter((f) => !f.keyField && f.name !== TIMESLICE)
    .map((f) => f.name)
    .filter((name) => {
      let seen = 0;
      for (const r of rows.slice(0, 500)) {
        const v = r[name];
        if (v === undefined || v === '') continue;
        if (!isNum(v)) return false;
        seen++;
      }
      return seen > 0;
    });
}

/** keyFields are the group-by fields (without _timeslice). */
export function keyFields(fields: FieldInfo[], rows: Rec[]): string[] {
  const nums = new Set(numericFields(fields, rows));
  const keys = fields.filter((f) => f.keyField && f.name !== TIMESLICE).map((f) => f.name);
  if (keys.length) return keys;
  // Results without keyField marks: the non-numeric columns.
  return fields.filter((f) => f.name !== TIMESLICE && !nums.has(f.name)).map((f) => f.name);
}

/** chooseChart picks a sensible chart for a result's shape. */
export function chooseChart(fields: FieldInfo[], rows: Rec[]): ChartKind {
  if (!rows.length) return 'table';
  const nums = numericFields(fields, rows);
  if (!nums.length) return 'table';
  if (fields.some((f) => f.name === TIMESLICE)) return 'line';
  const keys = keyFields(fields, rows);
  if (keys.length === 0 && rows.length === 1) return 'single';
  if (keys.length >= 1) return rows.length > 25 ? 'bar' : 'column';
  return 'table';
}

export interface Series {
  name: string;
  /** for time series: [epoch ms, value]; for categories: value per category */
  points: [number, number][];
  values: number[];
}

export interface ChartData {
  kind: 'time' | 'category';
  categories: string[];
  series: Series[];
}

/**
 * chartData lays a result out as series. Time series (a _timeslice column)
 * get one series per numeric field, or one per combination of the other key
 * fields when there are any (count by _timeslice, host → one line per host);
 * other results get categories from their key fields.
 */
export function chartData(fields: FieldInfo[], rows: Rec[], maxSeries = 20): ChartData {
  const nums = numericFields(fields, rows);
  const keys = keyFields(fields, rows);
  if (fields.some((f) => f.name === TIMESLICE)) {
    const times = [...new Set(rows.map((r) => Number(r[TIMESLICE])).filter(Number.isFinite))].sort((a, b) => a - b);
    const series = new Map<string, Map<number, number>>();
    const total = new Map<string, number>();
    for (const r of rows) {
      const t = Number(r[TIMESLICE]);
      if (!Number.isFinite(t)) continue;
      const group = keys.map((k) => r[k] ?? '').join(' / ');
      for (const n of keys.length ? nums.slice(0, 1) : nums) {
        const name = keys.length ? group || '(empty)' : n;
        let s = series.get(name);
        if (!s) series.set(name, (s = new Map()));
        const v = Number(r[n] || 0);
        s.set(t, (s.get(t) ?? 0) + v);
        total.set(name, (total.get(name) ?? 0) + v);
      }
    }
    const names = [...series.keys()].sort((a, b) => (total.get(b) ?? 0) - (total.get(a) ?? 0)).slice(0, maxSeries);
    return {
      kind: 'time',
      categories: [],
      series: names.map((name) => {
        const s = series.get(name)!;
        return { name, points: times.map((t) => [t, s.get(t) ?? 0] as [number, number]), values: [] };
      }),
    };
  }
  const categories = rows.map((r) => (keys.length ? keys.map((k) => r[k] ?? '').join(' / ') : '') || '(empty)');
  return {
    kind: 'category',
    categories,
    series: nums.slice(0, maxSeries).map((n) => ({ name: n, points: [], values: rows.map((r) => Number(r[n] || 0)) })),
  };
}

/** singleValue is the value a single-value chart shows. */
export function singleValue(fields: FieldInfo[], rows: Rec[]): { label: string; value: string } | null {
  const nums = numericFields(fields, rows);
  if (!rows.length || !nums.length) return null;
  return { label: nums[0], value: rows[0][nums[0]] };
}

/** formatNumber writes a number compactly (1,234 / 1.5M). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 0 : 1) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

/** compareValues orders table cells: numbers numerically, then text. */
export function compareValues(a: string | undefined, b: string | undefined): number {
  const an = isNum(a);
  const bn = isNum(b);
  if (an && bn) return Number(a) - Number(b);
  if (an !== bn) return an ? -1 : 1;
  return (a ?? '').localeCompare(b ?? '');
}

/** toCSV writes a result as RFC 4180 CSV. Cells that a spreadsheet would run as formulas are prefixed with a quote. */
export function toCSV(fields: string[], rows: Rec[]): string {
  const cell = (v: string | undefined) => {
    let s = v ?? '';
    if (/^[=+\-@\t\r]/.test(s) && !isNum(s)) s = "'" + s;
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  const lines = [fields.map(cell).join(',')];
  for (const r of rows) lines.push(fields.map((f) => cell(r[f])).join(','));
  return lines.join('\r\n') + '\r\n';
}
