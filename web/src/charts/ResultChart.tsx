import { useEffect, useRef } from 'preact/hooks';
import type { ECharts } from './echarts';
import { loadECharts, themeColors } from './load';
import { chartData, formatNumber, singleValue, type ChartKind, type FieldInfo, type Rec } from '../lib/charts';
import { formatTime } from '../lib/timerange';
import { analysisOf, analysisOption } from '../lib/analysis';

interface Props {
  kind: Exclude<ChartKind, 'table'>;
  fields: FieldInfo[];
  rows: Rec[];
  tz: string;
  theme: string;
}

/** ResultChart draws an aggregate result. Labels come from log data: they are drawn on the canvas (tooltips included), never as HTML. */
export function ResultChart(props: Props) {
  if (props.kind === 'single') {
    const v = singleValue(props.fields, props.rows);
    return (
      <div class="single-value" data-testid="chart-single">
        <div class="single-value-number">{v ? formatNumber(Number(v.value)) : '—'}</div>
        <div class="single-value-label">{v?.label ?? 'no numeric value'}</div>
      </div>
    );
  }
  return <EChart {...props} />;
}

function EChart({ kind, fields, rows, tz, theme }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);

  useEffect(() => {
    let disposed = false;
    let ro: ResizeObserver | null = null;
    void loadECharts().then(({ echarts }) => {
      if (disposed || !host.current) return;
      chart.current = echarts.init(host.current, undefined, { renderer: 'canvas' });
      ro = new ResizeObserver(() => chart.current?.resize());
      ro.observe(host.current);
      draw();
    });
    return () => {
      disposed = true;
      ro?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const draw = () => {
    const c = chart.current;
    if (!c) return;
    const col = themeColors();
    const data = chartData(fields, rows);
    const axisText = { color: col.text };
    const base = {
      animation: false,
      color: col.palette,
      textStyle: { color: col.text },
      legend: { type: 'scroll', bottom: 0, textStyle: axisText, show: data.series.length > 1 || kind === 'pie' },
      tooltip: { renderMode: 'richText', trigger: kind === 'pie' ? 'item' : 'axis', confine: true },
      grid: { left: 56, right: 36, top: 16, bottom: data.series.length > 1 ? 48 : 28, containLabel: true },
    };
    let option: Record<string, unknown>;
    // outlier / predict results: value, expected band or forecast, violations.
    const analysis = kind !== 'pie' && data.kind === 'time' ? analysisOf(fields, rows) : null;
    if (analysis) {
      option = { ...base, grid: { ...base.grid, bottom: 48 }, ...analysisOption(analysis, col, tz, kind === 'column' || kind === 'bar') };
    } else if (kind === 'pie') {
      const s = data.series[0];
      const pairs = data.kind === 'time' ? data.series.map((x) => ({ name: x.name, value: x.points.reduce((a, p) => a + p[1], 0) })) : data.categories.map((name, i) => ({ name, value: s?.values[i] ?? 0 }));
      pairs.sort((a, b) => b.value - a.value);
      const top = pairs.slice(0, 15);
      const rest = pairs.slice(15).reduce((a, p) => a + p.value, 0);
      if (rest > 0) top.push({ name: 'other', value: rest });
      option = {
        ...base,
        series: [{ type: 'pie', radius: ['35%', '70%'], data: top, label: { color: col.text, formatter: '{b}: {d}%' }, itemStyle: { borderColor: col.bg, borderWidth: 1 } }],
      };
    } else if (data.kind === 'time') {
      option = {
        ...base,
        xAxis: { type: 'time', axisLabel: { ...axisText, hideOverlap: true, alignMinLabel: 'left', alignMaxLabel: 'right', formatter: (v: number) => formatTime(v, tz, false).slice(5, 16) }, axisLine: { lineStyle: { color: col.grid } } },
        yAxis: { type: 'value', axisLabel: { ...axisText, formatter: (v: number) => formatNumber(v) }, splitLine: { lineStyle: { color: col.grid, opacity: 0.5 } } },
        series: data.series.map((s) => ({
          type: kind === 'column' || kind === 'bar' ? 'bar' : 'line',
          name: s.name,
          data: s.points,
          showSymbol: s.points.length < 60,
          stack: kind === 'area' || kind === 'column' ? 'total' : undefined,
          areaStyle: kind === 'area' ? { opacity: 0.35 } : undefined,
        })),
      };
    } else {
      const horizontal = kind === 'bar';
      const cat = { type: 'category', data: data.categories, axisLabel: { ...axisText, hideOverlap: true, width: 160, overflow: 'truncate' }, axisLine: { lineStyle: { color: col.grid } } };
      const val = { type: 'value', axisLabel: { ...axisText, formatter: (v: number) => formatNumber(v) }, splitLine: { lineStyle: { color: col.grid, opacity: 0.5 } } };
      option = {
        ...base,
        xAxis: horizontal ? val : cat,
        yAxis: horizontal ? { ...cat, inverse: true } : val,
        dataZoom: data.categories.length > 40 ? [{ type: 'inside', [horizontal ? 'yAxisIndex' : 'xAxisIndex']: 0 }] : [],
        series: data.series.map((s) => ({
          type: kind === 'line' || kind === 'area' ? 'line' : 'bar',
          name: s.name,
          data: s.values,
          areaStyle: kind === 'area' ? { opacity: 0.35 } : undefined,
        })),
      };
    }
    c.setOption(option, { notMerge: true });
  };

  useEffect(draw, [kind, fields, rows, tz, theme]);

  return <div class="result-chart" ref={host} data-testid={`chart-${kind}`} />;
}
