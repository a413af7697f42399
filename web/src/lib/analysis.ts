// Charts of the series operators' results: outlier and predict add columns
// to a time series (query/op_outlier.go, query/op_predict.go), and drawing
// every column as a line hides what they say. Here the result is shaped
// into what to draw, and the ECharts option is built from that shape (no
// chart library import: the option is plain data, unit-tested).
//
//   outlier f:  f, f_error (f − mean), f_lower, f_upper, f_indicator,
//               f_violation (1 or 0), f_std. Null (empty) in the warm-up
//               slices and the partial last slice.
//   predict f:  f, f_predicted, f_error, [f_linear with model=ar]; the
//               forecast records that follow have f empty.

import { formatNumber, keyFields, TIMESLICE, type FieldInfo, type Rec } from './charts';
import { formatTime } from './timerange';

export type Point = [number, number | null];

export interface AnalysisGroup {
  /** the group's key values ("host-a / eu"), or the field's name without by-fields */
  name: string;
  /** the series' own values (f) */
  actual: Point[];
  /** outlier: the window's mean ((lower + upper) / 2); predict: the model's value on the actual slices */
  expected: Point[];
  /** outlier: the band; empty for predict */
  lower: Point[];
  upper: Point[];
  /** outlier: the slices whose violation flag is 1, at their value */
  violations: [number, number][];
  /** predict: the forecast slices (f empty), starting at the last fitted slice so that the line joins */
  forecast: [number, number][];
  /** predict with model=ar: the linear trend */
  linear: Point[];
}

export interface Analysis {
  kind: 'outlier' | 'predict';
  field: string;
  groups: AnalysisGroup[];
  /** predict: the time of the first forecast slice (null without one) */
  forecastFrom: number | null;
  forecastTo: number | null;
}

function num(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * analysisOf recognises an outlier or predict result by its columns (a
 * _timeslice, f and f_lower/f_upper/f_violation, or f and f_predicted) and
 * shapes it per group of the other key fields. Anything else: null.
 */
export function analysisOf(fields: FieldInfo[], rows: Rec[], maxGroups = 8): Analysis | null {
  const names = new Set(fields.map((f) => f.name));
  if (!names.has(TIMESLICE) || !rows.length) return null;
  let kind: Analysis['kind'] | null = null;
  let field = '';
  for (const f of fields) {
    const n = f.name;
    if (names.has(n + '_lower') && names.has(n + '_upper') && names.has(n + '_violation')) {
      kind = 'outlier';
      field = n;
      break;
    }
    if (names.has(n + '_predicted')) {
      kind = 'predict';
      field = n;
      break;
    }
  }
  if (!kind) return null;
  const outputs = new Set(['_error', '_lower', '_upper', '_indicator', '_violation', '_std', '_predicted', '_linear'].map((s) => field + s));
  const keys = keyFields(fields, rows).filter((k) => k !== field && !outputs.has(k));
  const sorted = rows
    .map((r) => ({ r, t: Number(r[TIMESLICE]) }))
    .filter((x) => x.r[TIMESLICE] !== undefined && x.r[TIMESLICE] !== '' && Number.isFinite(x.t))
    .sort((a, b) => a.t - b.t);
  const groups = new Map<string, AnalysisGroup>();
  const total = new Map<string, number>();
  let forecastFrom: number | null = null;
  let forecastTo: number | null = null;
  for (const { r, t } of sorted) {
    const name = keys.length ? keys.map((k) => r[k] ?? '').join(' / ') || '(empty)' : field;
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, actual: [], expected: [], lower: [], upper: [], violations: [], forecast: [], linear: [] }));
    const v = num(r[field]);
    total.set(name, (total.get(name) ?? 0) + Math.abs(v ?? 0));
    if (kind === 'outlier') {
      const lo = num(r[field + '_lower']);
      const hi = num(r[field + '_upper']);
      g.actual.push([t, v]);
      g.lower.push([t, lo]);
      g.upper.push([t, hi]);
      g.expected.push([t, lo !== null && hi !== null ? (lo + hi) / 2 : null]);
      if (v !== null && r[field + '_violation'] === '1') g.violations.push([t, v]);
    } else {
      const p = num(r[field + '_predicted']);
      if (names.has(field + '_linear')) g.linear.push([t, num(r[field + '_linear'])]);
      if (v === null && p !== null) {
        // A forecast record: join the forecast line to the last fitted slice.
        if (!g.forecast.length) {
          const last = [...g.expected].reverse().find((x) => x[1] !== null);
          if (last) g.forecast.push([last[0], last[1]!]);
        }
        g.forecast.push([t, p]);
        forecastFrom = forecastFrom === null ? t : Math.min(forecastFrom, t);
        forecastTo = forecastTo === null ? t : Math.max(forecastTo, t);
      } else {
        g.actual.push([t, v]);
        g.expected.push([t, p]);
      }
    }
  }
  const list = [...groups.values()].sort((a, b) => (total.get(b.name) ?? 0) - (total.get(a.name) ?? 0)).slice(0, maxGroups);
  return { kind, field, groups: list, forecastFrom, forecastTo };
}

/**
 * bandParts are a band's lower edge (base) and its height (span = upper −
 * lower): drawn stacked, the span is the shaded band. A series that never
 * goes below zero (counts) gets its band cut at zero, so that the axis does
 * not go negative for nothing; the tooltip keeps the real bounds.
 */
export function bandParts(g: AnalysisGroup): { base: Point[]; span: Point[] } {
  const base: Point[] = [];
  const span: Point[] = [];
  const floor = g.actual.every((p) => p[1] === null || p[1] >= 0) ? 0 : -Infinity;
  g.lower.forEach(([t, lo], i) => {
    const hi = g.upper[i]?.[1] ?? null;
    const ok = lo !== null && hi !== null;
    const b = ok ? Math.min(Math.max(lo!, floor), hi!) : null;
    base.push([t, b]);
    span.push([t, ok ? hi! - b! : null]);
  });
  return { base, span };
}

/** tooltipText is the tooltip of a time slice: the group's value, what was expected and whether it is a violation. Plain text. */
export function tooltipText(a: Analysis, t: number, timeLabel: string): string {
  const lines = [timeLabel];
  const at = (pts: Point[] | [number, number][]) => {
    const p = (pts as Point[]).find((x) => x[0] === t);
    return p ? p[1] : null;
  };
  const f = (v: number | null) => (v === null ? '—' : formatNumber(Math.round(v * 1000) / 1000));
  for (const g of a.groups) {
    const prefix = a.groups.length > 1 || g.name !== a.field ? g.name + ': ' : '';
    if (a.kind === 'outlier') {
      const v = at(g.actual);
      if (v === null && at(g.expected) === null) continue;
      const viol = g.violations.some((x) => x[0] === t);
      lines.push(`${prefix}${a.field} ${f(v)}${viol ? '  ⚠ violation' : ''}`);
      const lo = at(g.lower);
      const hi = at(g.upper);
      if (lo !== null && hi !== null) lines.push(`  expected ${f(at(g.expected))} (${f(lo)} to ${f(hi)})`);
    } else {
      const fc = g.forecast.find((x) => x[0] === t && !g.actual.some((y) => y[0] === t));
      if (fc) {
        lines.push(`${prefix}forecast ${f(fc[1])}`);
        continue;
      }
      const v = at(g.actual);
      const p = at(g.expected);
      if (v === null && p === null) continue;
      lines.push(`${prefix}${a.field} ${f(v)}, predicted ${f(p)}`);
    }
  }
  return lines.join('\n');
}

export interface AnalysisColors {
  text: string;
  grid: string;
  danger: string;
  palette: string[];
}

/**
 * analysisSeries are the ECharts series of an analysis chart: per group
 * the value (a line, or bars for column charts), the expected value
 * (dashed), for outlier the band (a stacked, shaded pair for up to three
 * groups) and the violations (red dots); for predict the forecast (dotted,
 * over a shaded forecast area) and the linear trend of model=ar.
 */
export function analysisSeries(a: Analysis, col: AnalysisColors, bars = false): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const many = a.groups.length > 1;
  a.groups.forEach((g, i) => {
    // Outlier charts skip the first palette colour, too close to the violations' red.
    const color = col.palette[(a.kind === 'outlier' ? i + 1 : i) % col.palette.length] ?? '#888';
    const label = (what: string) => (many ? `${g.name} ${what}` : what);
    const valueName = many ? g.name : a.field;
    // One predicted series: the model (fitted and forecast) in a colour of its own.
    const model = a.kind === 'predict' && !many ? col.palette[1] ?? color : color;
    if (a.kind === 'outlier' && a.groups.length <= 3) {
      const { base, span } = bandParts(g);
      const stack = 'band-' + i;
      out.push({ type: 'line', name: label('expected range'), data: base, stack, stackStrategy: 'all', lineStyle: { opacity: 0 }, symbol: 'none', silent: true, tooltip: { show: false }, color });
      out.push({ type: 'line', name: label('expected range'), data: span, stack, stackStrategy: 'all', lineStyle: { opacity: 0 }, symbol: 'none', silent: true, areaStyle: { color, opacity: 0.15 }, tooltip: { show: false }, color });
    }
    out.push({
      type: bars ? 'bar' : 'line',
      name: valueName,
      data: g.actual,
      color,
      showSymbol: g.actual.length < 60,
      connectNulls: false,
      z: 3,
      triggerLineEvent: true,
    });
    out.push({ type: 'line', name: label(a.kind === 'outlier' ? 'expected' : 'predicted'), data: g.expected, color: model, lineStyle: { type: 'dashed', width: 1.5, opacity: 0.8 }, symbol: 'none', z: 2 });
    if (a.kind === 'outlier') {
      out.push({ type: 'scatter', name: label('violations'), data: g.violations, color: col.danger, symbolSize: 11, z: 5, itemStyle: { borderColor: '#fff', borderWidth: 1 } });
    } else {
      if (g.forecast.length)
        out.push({
          type: 'line',
          name: label('forecast'),
          data: g.forecast,
          color: model,
          lineStyle: { type: 'dotted', width: 2.5 },
          showSymbol: true,
          symbol: 'emptyCircle',
          z: 3,
          markArea:
            i === 0 && a.forecastTo !== null
              ? { silent: true, itemStyle: { color: col.grid, opacity: 0.35 }, label: { show: true, position: 'insideTop', color: col.text, formatter: 'forecast' }, data: [[{ xAxis: g.forecast[0][0] }, { xAxis: a.forecastTo }]] }
              : undefined,
        });
      if (g.linear.length) out.push({ type: 'line', name: label('linear trend'), data: g.linear, color: col.text, lineStyle: { type: 'dotted', width: 1, opacity: 0.6 }, symbol: 'none', z: 1 });
    }
  });
  return out;
}

/** analysisOption is the ECharts option of an analysis chart, without the caller's base (animation, palette, grid). */
export function analysisOption(a: Analysis, col: AnalysisColors, tz: string, bars = false): Record<string, unknown> {
  const axisText = { color: col.text };
  return {
    legend: { type: 'scroll', bottom: 0, textStyle: axisText, show: true },
    tooltip: {
      renderMode: 'richText',
      trigger: 'axis',
      confine: true,
      formatter: (ps: { axisValue?: number; value?: unknown }[] | { value?: unknown }) => {
        const p = Array.isArray(ps) ? ps[0] : ps;
        const t = Number((p as { axisValue?: number })?.axisValue ?? (Array.isArray(p?.value) ? p.value[0] : NaN));
        return Number.isFinite(t) ? tooltipText(a, t, formatTime(t, tz, false)) : '';
      },
    },
    xAxis: { type: 'time', axisLabel: { ...axisText, hideOverlap: true, alignMinLabel: 'left', alignMaxLabel: 'right', formatter: (v: number) => formatTime(v, tz, false).slice(5, 16) }, axisLine: { lineStyle: { color: col.grid } } },
    yAxis: { type: 'value', scale: false, axisLabel: { ...axisText, formatter: (v: number) => formatNumber(v) }, splitLine: { lineStyle: { color: col.grid, opacity: 0.5 } } },
    series: analysisSeries(a, col, bars),
  };
}
