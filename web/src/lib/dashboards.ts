// Dashboards: the JSON model the server speaks (dashboards/model.go), and
// the pure logic of the dashboard pages: the grid layout and its editing,
// what a click on a panel drills down into, single values and thresholds,
// map points, heat map cells, and the page's state in the URL.

import { chartData, keyFields, numericFields, TIMESLICE, type FieldInfo, type Rec } from './charts';

export const GRID_COLUMNS = 24;
export const MIN_W = 3;
export const MIN_H = 3;
export const MAX_H = 40;

export interface TimeRangeJSON {
  from: string;
  to: string;
}

export interface Layout {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Threshold {
  value: number;
  color: string;
  label?: string;
}

export type VizType = 'line' | 'area' | 'column' | 'bar' | 'pie' | 'table' | 'single_value' | 'map' | 'honeycomb' | 'heatmap' | 'text';

export const VIZ_TYPES: { type: VizType; label: string }[] = [
  { type: 'line', label: 'Line' },
  { type: 'area', label: 'Area' },
  { type: 'column', label: 'Column' },
  { type: 'bar', label: 'Bar' },
  { type: 'pie', label: 'Pie' },
  { type: 'table', label: 'Table' },
  { type: 'single_value', label: 'Single value' },
  { type: 'map', label: 'World map' },
  { type: 'heatmap', label: 'Heat map' },
  { type: 'honeycomb', label: 'Honeycomb' },
  { type: 'text', label: 'Text' },
];

export interface Visualization {
  type: VizType;
  stacked?: boolean;
  xField?: string;
  series?: string[];
  valueField?: string;
  valueMode?: string;
  thresholds?: Threshold[];
  sparkline?: boolean;
  unit?: string;
  latitudeField?: string;
  longitudeField?: string;
  options?: Record<string, unknown>;
}

export interface Panel {
  id: string;
  title: string;
  description?: string;
  query?: string;
  text?: string;
  visualization: Visualization;
  timeRange?: TimeRangeJSON;
  layout: Layout;
  emptyText?: string;
}

export interface Variable {
  name: string;
  label?: string;
  kind: 'list' | 'query' | 'text';
  values?: string[];
  query?: string;
  field?: string;
  allowAll?: boolean;
  default?: string;
}

export interface AppRef {
  name: string;
  version: string;
}

export interface Dashboard {
  id?: string;
  title: string;
  description?: string;
  folder?: string;
  timeRange: TimeRangeJSON;
  timeZone?: string;
  refreshInterval?: number;
  variables?: Variable[];
  panels: Panel[];
  app?: AppRef;
  version?: number;
  updatedAt?: string;
  updatedBy?: string;
}

export interface DashboardSummary {
  id: string;
  title: string;
  description?: string;
  folder?: string;
  app?: AppRef;
  panelCount: number;
  version: number;
  updatedAt: string;
  updatedBy?: string;
}

export interface PanelError {
  code: string;
  message: string;
  line?: number;
  column?: number;
}

/** PanelResult is one "panel" event of a dashboard run. */
export interface PanelResult {
  type: 'panel';
  panelId: string;
  title: string;
  status: 'ok' | 'error' | 'text';
  query?: string;
  from?: number;
  to?: number;
  aggregate: boolean;
  fields?: FieldInfo[];
  records?: Rec[];
  messages?: Rec[];
  rowCount: number;
  truncated?: boolean;
  warnings?: string[];
  cached: boolean;
  elapsedMs: number;
  error?: PanelError;
}

export interface GeoAttribution {
  text: string;
  url?: string;
  license?: string;
  licenseUrl?: string;
}

export interface RunMeta {
  type: 'meta';
  from: number;
  to: number;
  timeZone: string;
  variables: Record<string, string>;
  panels: string[];
  geoAttribution?: GeoAttribution;
}

export interface RunDone {
  type: 'done';
  panels: number;
  errors: number;
  cacheHits: number;
  elapsedMs: number;
}

// ---- the grid

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/** fitLayout keeps a layout inside the grid: whole numbers, at least MIN_W × MIN_H, at most GRID_COLUMNS wide. */
export function fitLayout(l: Layout): Layout {
  const w = clamp(Math.round(l.w) || MIN_W, MIN_W, GRID_COLUMNS);
  const h = clamp(Math.round(l.h) || MIN_H, MIN_H, MAX_H);
  return { x: clamp(Math.round(l.x) || 0, 0, GRID_COLUMNS - w), y: Math.max(0, Math.round(l.y) || 0), w, h };
}

function overlaps(a: Layout, b: Layout): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * settle resolves overlaps after panel `fixedId` moved or grew: panels it
 * overlaps are pushed down below it, and so on, so that no two panels share
 * a cell. The fixed panel keeps its place.
 */
export function settle(panels: Panel[], fixedId: string): Panel[] {
  const out = panels.map((p) => ({ ...p, layout: fitLayout(p.layout) }));
  const placed: Layout[] = [];
  const fixed = out.find((p) => p.id === fixedId);
  if (fixed) placed.push(fixed.layout);
  const others = out.filter((p) => p.id !== fixedId).sort((a, b) => a.layout.y - b.layout.y || a.layout.x - b.layout.x);
  for (const p of others) {
    let l = p.layout;
    for (let guard = 0; guard < 1000; guard++) {
      const hit = placed.find((q) => overlaps(l, q));
      if (!hit) break;
      l = { ...l, y: hit.y + hit.h };
    }
    p.layout = l;
    placed.push(l);
  }
  return out;
}

/** movePanel moves a panel by whole cells (dx columns, dy rows) and settles the others around it. */
export function movePanel(panels: Panel[], id: string, dx: number, dy: number): Panel[] {
  const moved = panels.map((p) => (p.id === id ? { ...p, layout: fitLayout({ ...p.layout, x: p.layout.x + dx, y: p.layout.y + dy }) } : p));
  return settle(moved, id);
}

/** resizePanel grows or shrinks a panel by whole cells and settles the others. */
export function resizePanel(panels: Panel[], id: string, dw: number, dh: number): Panel[] {
  const resized = panels.map((p) => {
    if (p.id !== id) return p;
    const w = clamp(p.layout.w + dw, MIN_W, GRID_COLUMNS - p.layout.x);
    return { ...p, layout: fitLayout({ ...p.layout, w, h: p.layout.h + dh }) };
  });
  return settle(resized, id);
}

/** gridHeight is the number of rows the panels take. */
export function gridHeight(panels: Panel[]): number {
  return panels.reduce((m, p) => Math.max(m, p.layout.y + p.layout.h), 0);
}

/** nextPanelId is an id no panel has yet: p1, p2, ... */
export function nextPanelId(panels: Panel[]): string {
  const ids = new Set(panels.map((p) => p.id));
  for (let i = panels.length + 1; ; i++) if (!ids.has('p' + i)) return 'p' + i;
}

/** addPanel appends a panel below the others (or beside the last row's panels when there is room). */
export function addPanel(panels: Panel[], p: Omit<Panel, 'id' | 'layout'> & { layout?: Partial<Layout> }): Panel[] {
  const w = clamp(p.layout?.w ?? 12, MIN_W, GRID_COLUMNS);
  const h = clamp(p.layout?.h ?? 8, MIN_H, MAX_H);
  let best: Layout | null = null;
  for (let y = 0; y <= gridHeight(panels) && !best; y++) {
    for (let x = 0; x + w <= GRID_COLUMNS; x++) {
      const l = { x, y, w, h };
      if (!panels.some((q) => overlaps(l, fitLayout(q.layout)))) {
        best = l;
        break;
      }
    }
  }
  const panel: Panel = { ...p, id: nextPanelId(panels), layout: best ?? { x: 0, y: gridHeight(panels), w, h } } as Panel;
  return [...panels, panel];
}

/** duplicatePanel copies a panel (new id, "(copy)" title) below the original. */
export function duplicatePanel(panels: Panel[], id: string): Panel[] {
  const p = panels.find((q) => q.id === id);
  if (!p) return panels;
  const copy: Panel = { ...structuredCloneJSON(p), id: nextPanelId(panels), title: p.title + ' (copy)', layout: { ...p.layout, y: p.layout.y + p.layout.h } };
  return settle([...panels, copy], copy.id);
}

function structuredCloneJSON<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

// ---- drill-down

export interface DrillDownRequest {
  query: string;
  variables: Record<string, string>;
  from: number;
  to: number;
  values: Record<string, string>;
  series: string;
}

export interface DrillDownResult {
  query: string;
  from: number;
  to: number;
  filters: string[];
}

/**
 * clickedRecord names what a click on a chart hit: the key fields of the
 * record behind a bar, slice, point or row, and the series clicked.
 *
 * For time series, `time` is the clicked slice and `series` the series'
 * name: a group of key values ("alice / us-east-1") or a numeric column.
 * For category charts and tables, `row` is the record's index.
 */
export function clickValues(fields: FieldInfo[], rows: Rec[], click: { row?: number; time?: number; series?: string }): { values: Record<string, string>; series: string } {
  const keys = keyFields(fields, rows);
  const values: Record<string, string> = {};
  let series = '';
  if (click.row !== undefined && rows[click.row]) {
    const r = rows[click.row];
    for (const k of keys) if (r[k] !== undefined) values[k] = r[k];
    if (r[TIMESLICE] !== undefined) values[TIMESLICE] = r[TIMESLICE];
    if (click.series && !keys.includes(click.series)) series = click.series;
    return { values, series };
  }
  if (click.time !== undefined) values[TIMESLICE] = String(click.time);
  if (click.series !== undefined) {
    const row = keys.length ? rows.find((r) => keys.map((k) => r[k] ?? '').join(' / ') === click.series) : undefined;
    if (row) for (const k of keys) values[k] = row[k] ?? '';
    else series = click.series;
  }
  return { values, series };
}

// ---- single value, map, heat map

export function reduceValues(vals: number[], mode: string | undefined): number | null {
  if (!vals.length) return null;
  switch (mode) {
    case 'sum':
      return vals.reduce((a, b) => a + b, 0);
    case 'avg':
      return vals.reduce((a, b) => a + b, 0) / vals.length;
    case 'min':
      return Math.min(...vals);
    case 'max':
      return Math.max(...vals);
    case 'first':
      return vals[0];
    default:
      return vals[vals.length - 1];
  }
}

export interface SingleValue {
  value: number | null;
  field: string;
  spark: number[];
  threshold: Threshold | null;
}

/**
 * singleValueOf is what a single-value panel shows: ValueField (default:
 * the first numeric column) of the last record, or, for a time series,
 * reduced over the slices per ValueMode (default sum) with the slices as
 * the sparkline; the threshold is the highest one the value reaches.
 */
export function singleValueOf(v: Visualization, fields: FieldInfo[], rows: Rec[]): SingleValue {
  const nums = numericFields(fields, rows);
  const field = v.valueField && fields.some((f) => f.name === v.valueField) ? v.valueField : nums[0] ?? '';
  const timed = fields.some((f) => f.name === TIMESLICE);
  let value: number | null = null;
  let spark: number[] = [];
  if (field && rows.length) {
    if (timed) {
      const sorted = [...rows].sort((a, b) => Number(a[TIMESLICE]) - Number(b[TIMESLICE]));
      spark = sorted.map((r) => Number(r[field] || 0));
      value = reduceValues(spark, v.valueMode || 'sum');
    } else {
      const n = Number(rows[rows.length - 1][field]);
      value = Number.isFinite(n) ? n : null;
    }
  } else if (!rows.length && field === '' && fields.length) {
    value = 0;
  }
  return { value, field, spark, threshold: value === null ? null : thresholdFor(v.thresholds, value) };
}

/** thresholdFor is the highest threshold a value reaches (thresholds in any order). */
export function thresholdFor(ts: Threshold[] | undefined, value: number): Threshold | null {
  let best: Threshold | null = null;
  for (const t of ts ?? []) if (value >= t.value && (!best || t.value >= best.value)) best = t;
  return best;
}

export interface MapPoint {
  lat: number;
  lon: number;
  value: number;
  label: string;
  row: number;
}

function findField(fields: FieldInfo[], wanted: string | undefined, names: string[]): string {
  if (wanted) return wanted;
  const have = new Map(fields.map((f) => [f.name.toLowerCase(), f.name]));
  for (const n of names) if (have.has(n)) return have.get(n)!;
  return names[0];
}

/** mapPoints reads latitude, longitude and a value from each record. */
export function mapPoints(v: Visualization, fields: FieldInfo[], rows: Rec[]): MapPoint[] {
  const lat = findField(fields, v.latitudeField, ['latitude', 'lat']);
  const lon = findField(fields, v.longitudeField, ['longitude', 'lon', 'lng']);
  const val = v.valueField || numericFields(fields, rows).find((n) => n !== lat && n !== lon) || '_count';
  const labelFields = keyFields(fields, rows).filter((k) => k !== lat && k !== lon);
  const out: MapPoint[] = [];
  rows.forEach((r, i) => {
    const la = Number(r[lat]);
    const lo = Number(r[lon]);
    if (r[lat] === undefined || r[lon] === undefined || r[lat] === '' || r[lon] === '' || !Number.isFinite(la) || !Number.isFinite(lo)) return;
    if (Math.abs(la) > 90 || Math.abs(lo) > 180) return;
    const label = labelFields.map((k) => r[k]).filter((s) => s) .join(', ');
    out.push({ lat: la, lon: lo, value: Number(r[val] || 0), label: label || `${la.toFixed(2)}, ${lo.toFixed(2)}`, row: i });
  });
  return out;
}

export interface HeatCells {
  xKey: string;
  yKey: string;
  xs: string[];
  ys: string[];
  cells: [number, number, number][];
  max: number;
}

/** heatCells lays out two keys (or the time slices and one key) as a grid of values. */
export function heatCells(fields: FieldInfo[], rows: Rec[]): HeatCells {
  const keys = keyFields(fields, rows);
  const timed = fields.some((f) => f.name === TIMESLICE);
  const val = numericFields(fields, rows)[0];
  const xk = timed ? TIMESLICE : keys[0];
  const yk = timed ? keys[0] : keys[1];
  const xs: string[] = [];
  const ys: string[] = [];
  const xi = new Map<string, number>();
  const yi = new Map<string, number>();
  const sums = new Map<string, number>();
  let max = 0;
  if (!xk || !val) return { xKey: '', yKey: '', xs, ys, cells: [], max };
  const xvals = [...new Set(rows.map((r) => r[xk] ?? ''))];
  if (timed) xvals.sort((a, b) => Number(a) - Number(b));
  for (const x of xvals) {
    xi.set(x, xs.length);
    xs.push(x);
  }
  for (const r of rows) {
    const y = yk ? r[yk] ?? '' : val;
    if (!yi.has(y)) {
      yi.set(y, ys.length);
      ys.push(y);
    }
    const k = `${xi.get(r[xk] ?? '')},${yi.get(y)}`;
    sums.set(k, (sums.get(k) ?? 0) + Number(r[val] || 0));
  }
  const cells: [number, number, number][] = [];
  for (const [k, v] of sums) {
    const [x, y] = k.split(',').map(Number);
    cells.push([x, y, v]);
    max = Math.max(max, v);
  }
  return { xKey: xk, yKey: yk ?? '', xs, ys, cells, max };
}

export interface HoneyCell {
  name: string;
  value: number;
  /** the key fields' values of the group, for drill-down */
  values: Record<string, string>;
}

/**
 * honeyCells are a honeycomb's hexagons: one per group of the key fields
 * (summed over the time slices when there are any), valued by ValueField
 * or the first numeric column, largest first. Without key fields, one
 * hexagon per numeric column.
 */
export function honeyCells(v: Visualization, fields: FieldInfo[], rows: Rec[], max = 500): HoneyCell[] {
  const nums = numericFields(fields, rows);
  const keys = keyFields(fields, rows);
  const val = v.valueField && fields.some((f) => f.name === v.valueField) ? v.valueField : nums[0];
  if (!val) return [];
  if (!keys.length) return nums.slice(0, max).map((n) => ({ name: n, value: rows.reduce((a, r) => a + (Number(r[n]) || 0), 0), values: {} }));
  const cells = new Map<string, HoneyCell>();
  for (const r of rows) {
    const name = keys.map((k) => r[k] ?? '').join(' / ') || '(empty)';
    let c = cells.get(name);
    if (!c) cells.set(name, (c = { name, value: 0, values: Object.fromEntries(keys.map((k) => [k, r[k] ?? ''])) }));
    c.value += Number(r[val]) || 0;
  }
  return [...cells.values()].sort((a, b) => b.value - a.value).slice(0, max);
}

/**
 * hexLayout places n pointy-top hexagons in rows (odd rows shifted by half
 * a hexagon) inside a w × h box: the number of columns that gives the
 * largest hexagons, their radius (centre to corner) and centres, the whole
 * grid centred in the box.
 */
export function hexLayout(n: number, w: number, h: number, gap = 2): { cols: number; r: number; centers: [number, number][] } {
  if (n <= 0 || w <= 0 || h <= 0) return { cols: 0, r: 0, centers: [] };
  const s3 = Math.sqrt(3);
  let best = { cols: 1, r: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const r = Math.min(w / (s3 * (cols + (rows > 1 ? 0.5 : 0))), h / (2 + 1.5 * (rows - 1)));
    if (r > best.r) best = { cols, r };
  }
  const { cols, r } = best;
  const rows = Math.ceil(n / cols);
  const hw = s3 * r;
  const gridW = hw * (cols + (rows > 1 ? 0.5 : 0));
  const gridH = 2 * r + 1.5 * r * (rows - 1);
  const x0 = (w - gridW) / 2 + hw / 2;
  const y0 = (h - gridH) / 2 + r;
  const centers: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const row = Math.floor(i / cols);
    const col = i % cols;
    centers.push([x0 + col * hw + (row % 2 ? hw / 2 : 0), y0 + row * 1.5 * r]);
  }
  return { cols, r: Math.max(0, r - gap / 2), centers };
}

/** hexagon is the corners of a pointy-top hexagon. */
export function hexagon(cx: number, cy: number, r: number): [number, number][] {
  return [0, 1, 2, 3, 4, 5].map((k) => {
    const a = (Math.PI / 180) * (60 * k - 90);
    return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  });
}

/** seriesCount is how many series a time or category chart of the result draws. */
export function seriesCount(fields: FieldInfo[], rows: Rec[]): number {
  return chartData(fields, rows).series.length;
}

// ---- the page's state in the URL
//
//   /dashboards/<id>?from=-24h&to=now&tz=UTC&refresh=60&var.user=alice&edit=1

export interface DashState {
  from: string;
  to: string;
  tz: string;
  refresh: number;
  vars: Record<string, string>;
  edit: boolean;
}

export const REFRESH_CHOICES = [0, 30, 60, 300, 900];

export function decodeDashState(search: string, d: { timeRange: TimeRangeJSON; timeZone?: string; refreshInterval?: number } | null, defaultTz: string): DashState {
  const p = new URLSearchParams(search);
  const vars: Record<string, string> = {};
  for (const [k, v] of p) if (k.startsWith('var.')) vars[k.slice(4)] = v;
  const refresh = Number(p.get('refresh') ?? d?.refreshInterval ?? 0);
  return {
    from: p.get('from') || d?.timeRange.from || '-24h',
    to: p.get('to') || d?.timeRange.to || 'now',
    tz: p.get('tz') || d?.timeZone || defaultTz,
    refresh: Number.isFinite(refresh) && refresh >= 0 ? Math.floor(refresh) : 0,
    vars,
    edit: p.get('edit') === '1',
  };
}

export function encodeDashState(s: DashState): string {
  const p = new URLSearchParams();
  p.set('from', s.from);
  p.set('to', s.to);
  p.set('tz', s.tz);
  if (s.refresh) p.set('refresh', String(s.refresh));
  for (const k of Object.keys(s.vars).sort()) p.set('var.' + k, s.vars[k]);
  if (s.edit) p.set('edit', '1');
  return '?' + p.toString();
}

/** route reads the client route from a path. */
export type Route = { page: 'search' } | { page: 'dashboards' } | { page: 'dashboard'; id: string } | { page: 'apps' } | { page: 'other'; path: string };

export function routeOf(pathname: string): Route {
  if (pathname === '/' || pathname === '/search') return { page: 'search' };
  if (pathname === '/dashboards' || pathname === '/dashboards/') return { page: 'dashboards' };
  const m = /^\/dashboards\/([^/]+)$/.exec(pathname);
  if (m) return { page: 'dashboard', id: decodeURIComponent(m[1]) };
  if (pathname === '/apps' || pathname === '/apps/') return { page: 'apps' };
  return { page: 'other', path: pathname };
}
