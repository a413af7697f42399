import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ECharts } from '../charts/echarts';
import { loadECharts, loadWorld, themeColors } from '../charts/load';
import { chartData, formatNumber, TIMESLICE, type FieldInfo, type Rec } from '../lib/charts';
import { heatCells, hexagon, hexLayout, honeyCells, mapPoints, singleValueOf, type PanelResult, type Visualization } from '../lib/dashboards';
import { cleanText } from '../lib/text';
import { formatTime } from '../lib/timerange';
import { analysisOf, analysisOption } from '../lib/analysis';

/** A click on a panel: the record's row, or a time slice and a series. */
export interface PanelClick {
  row?: number;
  time?: number;
  series?: string;
  values?: Record<string, string>;
}

interface Props {
  viz: Visualization;
  result: PanelResult;
  tz: string;
  theme: string;
  onClick: (c: PanelClick) => void;
}

const THRESHOLD_COLORS: Record<string, string> = { green: 'var(--ok)', yellow: 'var(--warn)', orange: 'var(--warn)', red: 'var(--danger)' };

/**
 * PanelView draws a panel's results. Everything from the logs is text:
 * table cells are text nodes, chart labels and tooltips are drawn on the
 * canvas (ECharts' richText tooltips), never HTML.
 */
export function PanelView({ viz, result, tz, theme, onClick }: Props) {
  const fields = result.fields ?? [];
  const rows = result.records ?? result.messages ?? [];
  if (result.status === 'text') return null;
  if (!rows.length) return null;
  switch (viz.type) {
    case 'table':
      return <PanelTable fields={fields} rows={rows} tz={tz} onClick={onClick} />;
    case 'single_value':
      return <SingleValueView viz={viz} fields={fields} rows={rows} theme={theme} onClick={onClick} />;
    default:
      return <PanelChart viz={viz} fields={fields} rows={rows} tz={tz} theme={theme} onClick={onClick} />;
  }
}

function PanelTable({ fields, rows, tz, onClick }: { fields: FieldInfo[]; rows: Rec[]; tz: string; onClick: (c: PanelClick) => void }) {
  const names = fields.length ? fields.map((f) => f.name) : Object.keys(rows[0] ?? {});
  return (
    <div class="panel-table-wrap">
      <table class="result-table panel-table">
        <thead>
          <tr>
            {names.map((n) => (
              <th key={n} class="panel-th">
                {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, 500).map((r, i) => (
            <tr key={i} class="panel-row" tabIndex={0} onClick={() => onClick({ row: i })} onKeyDown={(e) => e.key === 'Enter' && onClick({ row: i })} title="Open the messages behind this row">
              {names.map((n) => (
                <td key={n} class={n !== TIMESLICE && r[n] && Number.isFinite(Number(r[n])) ? 'num' : ''}>
                  {n === TIMESLICE && r[n] ? formatTime(Number(r[n]), tz, false) : cleanText((r[n] ?? '').slice(0, 2000))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SingleValueView({ viz, fields, rows, theme, onClick }: { viz: Visualization; fields: FieldInfo[]; rows: Rec[]; theme: string; onClick: (c: PanelClick) => void }) {
  const sv = useMemo(() => singleValueOf(viz, fields, rows), [viz, fields, rows]);
  const color = sv.threshold ? THRESHOLD_COLORS[sv.threshold.color] ?? '' : '';
  const num = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // A CSS colour from the dashboard's JSON: set through the CSSOM (no inline style attribute, allowed by the CSP).
    if (num.current) num.current.style.color = color || (sv.threshold && CSS.supports('color', sv.threshold.color) ? sv.threshold.color : '');
  }, [color, sv.threshold]);
  return (
    <div class="panel-single">
      <button type="button" ref={num} class="panel-single-number" data-testid="single-value" onClick={() => onClick({})} title="Open the messages behind this value">
        {sv.value === null ? '—' : formatNumber(sv.value)}
        {viz.unit ? <span class="panel-unit"> {viz.unit}</span> : null}
      </button>
      <div class="muted small">
        {sv.threshold?.label ?? sv.field}
      </div>
      {viz.sparkline && sv.spark.length > 1 && <Sparkline values={sv.spark} theme={theme} />}
    </div>
  );
}

function Sparkline({ values }: { values: number[]; theme: string }) {
  const w = 200;
  const h = 36;
  const max = Math.max(...values, 1);
  const min = Math.min(...values, 0);
  const pts = values.map((v, i) => `${((i / (values.length - 1)) * w).toFixed(1)},${(h - ((v - min) / (max - min || 1)) * (h - 2) - 1).toFixed(1)}`).join(' ');
  return (
    <svg class="sparkline" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" aria-hidden="true">
      <polyline points={pts} fill="none" stroke-width="1.5" />
    </svg>
  );
}

function PanelChart({ viz, fields, rows, tz, theme, onClick }: { viz: Visualization; fields: FieldInfo[]; rows: Rec[]; tz: string; theme: string; onClick: (c: PanelClick) => void }) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const [ready, setReady] = useState(false);
  const clickRef = useRef(onClick);
  clickRef.current = onClick;
  const meta = useRef<ChartMeta>({ kind: '' });

  useEffect(() => {
    let disposed = false;
    let ro: ResizeObserver | null = null;
    const needsWorld = viz.type === 'map';
    void Promise.all([loadECharts(), needsWorld ? loadWorld() : Promise.resolve()]).then(([{ echarts }]) => {
      if (disposed || !host.current) return;
      const c = echarts.init(host.current, undefined, { renderer: 'canvas' });
      chart.current = c;
      c.on('click', (p: unknown) => {
        const e = p as { seriesName?: string; value?: unknown; dataIndex?: number; data?: unknown; seriesType?: string };
        const m = meta.current;
        const d = e.data as { row?: number; name?: string; values?: Record<string, string> } | undefined;
        if (m.kind === 'honeycomb' && d && typeof d === 'object' && d.values) {
          clickRef.current(Object.keys(d.values).length ? { values: d.values } : {});
        } else if (d && typeof d === 'object' && !Array.isArray(d) && typeof d.row === 'number') {
          clickRef.current({ row: d.row });
        } else if (m.kind === 'pie-series' && d?.name) {
          clickRef.current({ series: d.name });
        } else if (m.kind === 'time' && Array.isArray(e.value)) {
          clickRef.current({ time: Number(e.value[0]), series: e.seriesName });
        } else if (m.kind === 'category' && typeof e.dataIndex === 'number') {
          clickRef.current({ row: e.dataIndex, series: e.seriesName });
        } else if (m.kind === 'heat' && Array.isArray(e.value)) {
          const [x, y] = e.value as number[];
          const values: Record<string, string> = {};
          if (m.xKey) values[m.xKey] = m.xs?.[x] ?? '';
          if (m.yKey) values[m.yKey] = m.ys?.[y] ?? '';
          clickRef.current({ values });
        }
      });
      // A click on a time chart away from its points (a line without symbols): the nearest time slice.
      c.getZr().on('click', (ev: { target?: unknown; offsetX: number; offsetY: number }) => {
        const m = meta.current;
        if (ev.target || m.kind !== 'time' || !m.times?.length) return;
        if (!c.containPixel({ gridIndex: 0 }, [ev.offsetX, ev.offsetY])) return;
        const v = c.convertFromPixel({ gridIndex: 0 }, [ev.offsetX, ev.offsetY]) as number[] | number;
        const t = Array.isArray(v) ? v[0] : v;
        let best = m.times[0];
        for (const x of m.times) if (Math.abs(x - t) < Math.abs(best - t)) best = x;
        clickRef.current({ time: best });
      });
      ro = new ResizeObserver(() => c.resize());
      ro.observe(host.current);
      setReady(true);
    });
    return () => {
      disposed = true;
      ro?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [viz.type === 'map']);

  useEffect(() => {
    const c = chart.current;
    if (!c || !ready) return;
    c.setOption(buildOption(viz, fields, rows, tz, meta.current) as Parameters<ECharts['setOption']>[0], { notMerge: true });
    host.current?.setAttribute('data-drawn', '1');
  }, [ready, viz, fields, rows, tz, theme]);

  return <div class="panel-chart" ref={host} data-testid={`panel-chart-${viz.type}`} />;
}

interface ChartMeta {
  kind: string;
  xs?: string[];
  ys?: string[];
  xKey?: string;
  yKey?: string;
  /** the time slices of a time chart, sorted */
  times?: number[];
}

/** pieSeries is a donut whose labels stay inside small panels: short, and none for thin slices. */
function pieSeries(col: ReturnType<typeof themeColors>) {
  return {
    type: 'pie',
    radius: ['30%', '58%'],
    minShowLabelAngle: 12,
    // Labels along the panel's edges, cut to fit: never clipped by the panel.
    label: { color: col.text, formatter: '{b}: {d}%', overflow: 'truncate', width: 90, alignTo: 'edge', edgeDistance: 6 },
    labelLine: { length: 6, length2: 6 },
    itemStyle: { borderColor: col.bg, borderWidth: 1 },
  };
}

function buildOption(viz: Visualization, fields: FieldInfo[], rows: Rec[], tz: string, meta: ChartMeta): Record<string, unknown> {
  const col = themeColors();
  const axisText = { color: col.text };
  const base = {
    animation: false,
    color: col.palette,
    textStyle: { color: col.text },
    tooltip: { renderMode: 'richText', trigger: 'item', confine: true },
  };
  if (viz.type === 'map') {
    const pts = mapPoints(viz, fields, rows);
    const max = Math.max(1, ...pts.map((p) => p.value));
    meta.kind = 'map';
    return {
      ...base,
      geo: { map: 'world', roam: true, silent: true, itemStyle: { areaColor: col.grid, borderColor: col.bg }, emphasis: { disabled: true }, left: 4, right: 4, top: 4, bottom: 4 },
      tooltip: { ...base.tooltip, formatter: (p: { data: { label: string; value: number[] } }) => `${p.data.label}: ${formatNumber(p.data.value[2])}` },
      series: [
        {
          type: 'scatter',
          coordinateSystem: 'geo',
          data: pts.map((p) => ({ value: [p.lon, p.lat, p.value], label: p.label, row: p.row })),
          symbolSize: (v: number[]) => 5 + 20 * Math.sqrt(v[2] / max),
          itemStyle: { color: col.bar, opacity: 0.75 },
        },
      ],
    };
  }
  if (viz.type === 'honeycomb') {
    // One hexagon per group, coloured by its value, packed to fill the panel.
    const cells = honeyCells(viz, fields, rows);
    meta.kind = 'honeycomb';
    const max = Math.max(1, ...cells.map((c) => c.value));
    const min = Math.min(0, ...cells.map((c) => c.value));
    let cache: { w: number; h: number; l: ReturnType<typeof hexLayout> } | null = null;
    const legendH = 30;
    return {
      ...base,
      tooltip: { ...base.tooltip, formatter: (p: { data: { name: string; value: number[] } }) => `${p.data.name}: ${formatNumber(p.data.value[1])}` },
      visualMap: { min, max, dimension: 1, seriesIndex: 0, calculable: false, text: [formatNumber(max), formatNumber(min)], orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 80, textStyle: axisText, inRange: { color: [col.grid, col.bar] } },
      series: [
        {
          type: 'custom',
          coordinateSystem: 'none',
          data: cells.map((c, i) => ({ name: cleanText(c.name), value: [i, c.value], values: c.values })),
          renderItem: (params: { dataIndex: number }, api: { value: (d: number) => number; visual: (k: string) => string; getWidth: () => number; getHeight: () => number }) => {
            const w = api.getWidth();
            const h = Math.max(0, api.getHeight() - legendH);
            if (!cache || cache.w !== w || cache.h !== h) cache = { w, h, l: hexLayout(cells.length, w - 8, h - 8) };
            const l = cache.l;
            const c = l.centers[params.dataIndex];
            if (!c) return null;
            const [cx, cy] = [c[0] + 4, c[1] + 4];
            const cell = cells[params.dataIndex];
            const children: Record<string, unknown>[] = [
              { type: 'polygon', shape: { points: hexagon(cx, cy, l.r) }, style: { fill: api.visual('color'), stroke: col.bg, lineWidth: 1 } },
            ];
            if (l.r >= 30) {
              // Name and value inside the hexagon, cut to its width; dark text on the light cells, white on the dark ones.
              const fontSize = l.r >= 44 ? 12 : 10;
              const maxChars = Math.max(3, Math.floor((l.r * 1.45) / (fontSize * 0.62)));
              const name = cleanText(cell.name);
              const fill = (cell.value - min) / (max - min || 1) > 0.5 ? '#fff' : col.text;
              const text = (y: number, t: string, bold: boolean) => ({ type: 'text', silent: true, style: { x: cx, y, text: t, align: 'center', verticalAlign: 'middle', fill, fontSize, fontWeight: bold ? 'bold' : 'normal' } });
              children.push(text(cy - fontSize * 0.7, name.length > maxChars ? name.slice(0, maxChars - 1) + '…' : name, false));
              children.push(text(cy + fontSize * 0.7, formatNumber(cell.value), true));
            }
            return { type: 'group', children };
          },
        },
      ],
    };
  }
  if (viz.type === 'heatmap') {
    const h = heatCells(fields, rows);
    Object.assign(meta, { kind: 'heat', xs: h.xs, ys: h.ys, xKey: h.xKey, yKey: h.yKey });
    const timed = h.xKey === TIMESLICE;
    return {
      ...base,
      grid: { left: 8, right: 12, top: 8, bottom: 40, containLabel: true },
      xAxis: { type: 'category', data: h.xs.map((x) => (timed ? formatTime(Number(x), tz, false).slice(5, 16) : cleanText(x))), axisLabel: { ...axisText, hideOverlap: true } },
      yAxis: { type: 'category', data: h.ys.map(cleanText), axisLabel: { ...axisText, width: 120, overflow: 'truncate' } },
      visualMap: { min: 0, max: Math.max(1, h.max), calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 80, textStyle: axisText, inRange: { color: [col.bg, col.bar] } },
      series: [{ type: 'heatmap', data: h.cells }],
    };
  }
  const data = chartData(fields, rows);
  const kind = viz.type;
  const legend = { type: 'scroll', bottom: 0, textStyle: axisText, show: data.series.length > 1 || kind === 'pie' };
  if (kind === 'pie') {
    if (data.kind === 'time') {
      meta.kind = 'pie-series';
      const pairs = data.series.map((x) => ({ name: x.name, value: x.points.reduce((a, p) => a + p[1], 0) }));
      return { ...base, legend, series: [{ ...pieSeries(col), data: pairs }] };
    }
    meta.kind = 'pie';
    const s = data.series[0];
    const pairs: { name: string; value: number; row?: number }[] = data.categories.map((name, i) => ({ name: cleanText(name), value: s?.values[i] ?? 0, row: i }));
    pairs.sort((a, b) => b.value - a.value);
    const top = pairs.slice(0, 12);
    const rest = pairs.slice(12).reduce((a, p) => a + p.value, 0);
    if (rest > 0) top.push({ name: 'other', value: rest });
    return { ...base, legend: { ...legend, show: false }, series: [{ ...pieSeries(col), data: top }] };
  }
  const stacked = viz.stacked || kind === 'area';
  // Counts: no 0.5 steps on the value axis.
  const integral = data.series.every((s) => (data.kind === 'time' ? s.points.every((p) => Number.isInteger(p[1])) : s.values.every(Number.isInteger)));
  // Time axes: room at both ends for the first and last time labels, which containLabel does not count.
  const timed = data.kind === 'time';
  const grid = { left: timed ? 26 : 8, right: timed ? 34 : 16, top: 12, bottom: data.series.length > 1 ? 34 : 8, containLabel: true };
  if (data.kind === 'time') {
    meta.kind = 'time';
    meta.times = [...new Set(data.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    // outlier / predict results: value, expected band or forecast, violations.
    const analysis = analysisOf(fields, rows);
    if (analysis) {
      meta.times = [...new Set([...meta.times, ...analysis.groups.flatMap((g) => g.forecast.map((p) => p[0]))])].sort((a, b) => a - b);
      return { ...base, grid: { ...grid, bottom: 34 }, ...analysisOption(analysis, col, tz, kind === 'column' || kind === 'bar') };
    }
    return {
      ...base,
      legend,
      grid,
      tooltip: { ...base.tooltip, trigger: 'axis' },
      xAxis: { type: 'time', axisLabel: { ...axisText, hideOverlap: true, alignMinLabel: 'left', alignMaxLabel: 'right', formatter: (v: number) => formatTime(v, tz, false).slice(5, 16) }, axisLine: { lineStyle: { color: col.grid } } },
      yAxis: { type: 'value', minInterval: integral ? 1 : 0, axisLabel: { ...axisText, formatter: (v: number) => formatNumber(v) }, splitLine: { lineStyle: { color: col.grid, opacity: 0.5 } } },
      series: data.series.map((s) => ({
        type: kind === 'column' || kind === 'bar' ? 'bar' : 'line',
        name: cleanText(s.name),
        data: s.points,
        showSymbol: s.points.length < 60,
        stack: stacked ? 'total' : undefined,
        areaStyle: kind === 'area' ? { opacity: 0.35 } : undefined,
        triggerLineEvent: true,
      })),
    };
  }
  meta.kind = 'category';
  const horizontal = kind === 'bar';
  // Many categories under a column chart: slanted labels, so more of them fit.
  const slant = !horizontal && data.categories.length > 4;
  const cat = { type: 'category', data: data.categories.map(cleanText), axisLabel: { ...axisText, hideOverlap: true, width: slant ? 90 : 140, overflow: 'truncate', rotate: slant ? 30 : 0, interval: slant ? 0 : 'auto' }, axisLine: { lineStyle: { color: col.grid } } };
  const val = { type: 'value', minInterval: integral ? 1 : 0, axisLabel: { ...axisText, formatter: (v: number) => formatNumber(v) }, splitLine: { lineStyle: { color: col.grid, opacity: 0.5 } } };
  return {
    ...base,
    legend,
    grid,
    tooltip: { ...base.tooltip, trigger: 'axis' },
    xAxis: horizontal ? val : cat,
    yAxis: horizontal ? { ...cat, inverse: true } : val,
    series: data.series.map((s) => ({
      type: kind === 'line' || kind === 'area' ? 'line' : 'bar',
      name: s.name,
      data: s.values,
      stack: stacked ? 'total' : undefined,
      areaStyle: kind === 'area' ? { opacity: 0.35 } : undefined,
    })),
  };
}
