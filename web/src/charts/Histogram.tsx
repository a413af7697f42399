import { useEffect, useRef, useState } from 'preact/hooks';
import type { ECharts } from './echarts';
import { loadECharts, themeColors } from './load';
import type { Bucket } from '../lib/job';
import { formatTime } from '../lib/timerange';
import { formatNumber } from '../lib/charts';

interface Props {
  buckets: Bucket[];
  start: number;
  end: number;
  tz: string;
  theme: string;
  onZoom: (start: number, end: number) => void;
}

/**
 * Histogram draws the matching messages over time. Dragging across it
 * selects a time range to zoom into.
 */
export function Histogram({ buckets, start, end, tz, theme, onZoom }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const [sel, setSel] = useState<{ x0: number; x1: number } | null>(null);
  const drag = useRef<{ x0: number } | null>(null);
  const props = useRef({ onZoom, start, end });
  props.current = { onZoom, start, end };

  useEffect(() => {
    let disposed = false;
    let ro: ResizeObserver | null = null;
    void loadECharts().then(({ echarts }) => {
      if (disposed || !host.current) return;
      const c = echarts.init(host.current, undefined, { renderer: 'canvas' });
      chart.current = c;
      ro = new ResizeObserver(() => c.resize());
      ro.observe(host.current);
      const zr = c.getZr();
      const toTime = (x: number) => {
        const v = c.convertFromPixel({ xAxisIndex: 0 }, x) as unknown as number;
        return Math.min(Math.max(Number(v), props.current.start), props.current.end);
      };
      zr.on('mousedown', (e: { offsetX: number }) => {
        drag.current = { x0: e.offsetX };
        setSel({ x0: e.offsetX, x1: e.offsetX });
      });
      zr.on('mousemove', (e: { offsetX: number }) => {
        if (drag.current) setSel({ x0: drag.current.x0, x1: e.offsetX });
      });
      const finish = (e: { offsetX: number }) => {
        const d = drag.current;
        drag.current = null;
        setSel(null);
        if (!d || Math.abs(e.offsetX - d.x0) < 5) return;
        const a = toTime(Math.min(d.x0, e.offsetX));
        const b = toTime(Math.max(d.x0, e.offsetX));
        if (b - a >= 1000) props.current.onZoom(Math.floor(a / 1000) * 1000, Math.ceil(b / 1000) * 1000);
      };
      zr.on('mouseup', finish);
      zr.on('globalout', () => {
        drag.current = null;
        setSel(null);
      });
      render();
    });
    return () => {
      disposed = true;
      ro?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const render = () => {
    const c = chart.current;
    if (!c) return;
    const col = themeColors();
    const step = buckets.length ? buckets[0].length : 60_000;
    c.setOption(
      {
        animation: false,
        grid: { left: 48, right: 12, top: 8, bottom: 22 },
        tooltip: {
          trigger: 'axis',
          renderMode: 'richText',
          axisPointer: { type: 'shadow' },
          formatter: (ps: { value: [number, number] }[]) => {
            const p = ps[0];
            if (!p) return '';
            return `${formatTime(p.value[0] - step / 2, tz, false)}\n${formatNumber(p.value[1])} messages`;
          },
        },
        xAxis: {
          type: 'time',
          min: start,
          max: end,
          axisLabel: { color: col.text, hideOverlap: true, formatter: (v: number) => axisLabel(v, end - start, tz) },
          axisLine: { lineStyle: { color: col.grid } },
          splitLine: { show: false },
        },
        yAxis: {
          type: 'value',
          minInterval: 1,
          axisLabel: { color: col.text, formatter: (v: number) => formatNumber(v) },
          splitLine: { lineStyle: { color: col.grid, opacity: 0.5 } },
        },
        series: [
          {
            type: 'bar',
            name: 'messages',
            barCategoryGap: '10%',
            barMaxWidth: 40,
            itemStyle: { color: col.bar },
            data: buckets.map((b) => [b.startTimestamp + b.length / 2, b.count]),
          },
        ],
      },
      { notMerge: true },
    );
  };

  useEffect(render, [buckets, start, end, tz, theme]);

  const left = sel ? Math.min(sel.x0, sel.x1) : 0;
  const width = sel ? Math.abs(sel.x1 - sel.x0) : 0;
  return (
    <div class="histogram" data-testid="histogram" title="Drag across the histogram to zoom into a time range">
      <div class="histogram-chart" ref={host} />
      {sel && width > 0 && <div class="histogram-selection" style={{ left: `${left}px`, width: `${width}px` }} />}
    </div>
  );
}

function axisLabel(v: number, span: number, tz: string): string {
  const s = formatTime(v, tz, false); // 2024-05-01 10:00:00
  if (span <= 2 * 86_400_000) return s.slice(11, 16);
  return s.slice(5, 10) + ' ' + s.slice(11, 16);
}
