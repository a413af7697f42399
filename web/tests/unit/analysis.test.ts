import { describe, expect, it } from 'vitest';
import { analysisOf, analysisSeries, bandParts, tooltipText } from '../../src/lib/analysis';

const F = (name: string, keyField = false) => ({ name, fieldType: 'string', keyField });
const COL = { text: '#555', grid: '#ddd', danger: '#f00', palette: ['#a', '#b', '#c'] };

// Rows as `count by _timeslice | outlier _count` emits them (query/op_outlier.go).
const outFields = ['_count', '_count_error', '_count_lower', '_count_upper', '_count_indicator', '_count_violation', '_count_std'].map((n) => F(n));
const outRows = [
  { _timeslice: '3000', _count: '237', _count_error: '110.3', _count_lower: '25', _count_upper: '227', _count_indicator: '1', _count_violation: '1', _count_std: '33.6' },
  { _timeslice: '1000', _count: '10', _count_error: '', _count_lower: '', _count_upper: '', _count_indicator: '0', _count_violation: '0', _count_std: '' },
  { _timeslice: '2000', _count: '118', _count_error: '26.2', _count_lower: '-66', _count_upper: '250', _count_indicator: '0', _count_violation: '0', _count_std: '52.8' },
  { _timeslice: '4000', _count: '', _count_error: '', _count_lower: '', _count_upper: '', _count_indicator: '', _count_violation: '', _count_std: '' },
];

describe('outlier results', () => {
  it('draws the value, the expected band and the violations, not every column', () => {
    const a = analysisOf([F('_timeslice', true), ...outFields], outRows)!;
    expect(a.kind).toBe('outlier');
    expect(a.field).toBe('_count');
    expect(a.groups).toHaveLength(1);
    const g = a.groups[0];
    expect(g.name).toBe('_count');
    expect(g.actual).toEqual([
      [1000, 10],
      [2000, 118],
      [3000, 237],
      [4000, null],
    ]);
    expect(g.expected).toEqual([
      [1000, null],
      [2000, 92],
      [3000, 126],
      [4000, null],
    ]);
    expect(g.violations).toEqual([[3000, 237]]);
    expect(bandParts(g)).toEqual({
      base: [
        [1000, null],
        [2000, 0],
        [3000, 25],
        [4000, null],
      ],
      span: [
        [1000, null],
        [2000, 250],
        [3000, 202],
        [4000, null],
      ],
    });
    const names = analysisSeries(a, COL).map((s) => `${s.type}:${s.name}`);
    expect(names).toEqual(['line:expected range', 'line:expected range', 'line:_count', 'line:expected', 'scatter:violations']);
    expect(names.join()).not.toMatch(/_std|_error|_indicator/);
    // A series with negative values keeps its band below zero.
    const neg = analysisOf([F('_timeslice', true), ...outFields], outRows.map((r) => ({ ...r, _count: r._count && String(-Number(r._count)) })))!;
    expect(bandParts(neg.groups[0]).base[1]).toEqual([2000, -66]);
    const band = analysisSeries(a, COL)[1] as { stack: string; areaStyle: unknown; color: string };
    expect(band.color).toBe('#b');
    expect(band.stack).toBe('band-0');
    expect(band.areaStyle).toBeTruthy();
    expect(analysisSeries(a, COL, true)[2].type).toBe('bar');
    expect(tooltipText(a, 3000, 'T')).toBe('T\n_count 237  ⚠ violation\n  expected 126 (25 to 227)');
    expect(tooltipText(a, 2000, 'T')).toBe('T\n_count 118\n  expected 92 (-66 to 250)');
  });

  it('keeps one series per group of the other key fields, bands for at most three', () => {
    const rows = ['a', 'b', 'c', 'd'].flatMap((host, i) =>
      outRows.slice(0, 3).map((r) => ({ ...r, host, _count: String(Number(r._count) * (i + 1)), _count_violation: host === 'b' ? r._count_violation : '0' })),
    );
    const a = analysisOf([F('_timeslice', true), F('host', true), ...outFields], rows)!;
    expect(a.groups.map((g) => g.name)).toEqual(['d', 'c', 'b', 'a']);
    expect(a.groups[2].violations).toEqual([[3000, 474]]);
    expect(a.groups[0].violations).toEqual([]);
    const series = analysisSeries(a, COL);
    expect(series.filter((s) => s.stack)).toHaveLength(0);
    expect(series.filter((s) => s.type === 'scatter').map((s) => s.name)).toEqual(['d violations', 'c violations', 'b violations', 'a violations']);
    expect(analysisSeries(analysisOf([F('_timeslice', true), F('host', true), ...outFields], rows.filter((r) => r.host !== 'd'))!, COL).filter((s) => s.stack)).toHaveLength(6);
  });
});

describe('predict results', () => {
  const fields = [F('_timeslice', true), F('_count'), F('_count_predicted'), F('_count_error'), F('_count_linear')];
  const rows = [
    { _timeslice: '1000', _count: '180', _count_predicted: '252.9', _count_error: '72.9', _count_linear: '300' },
    { _timeslice: '2000', _count: '247', _count_predicted: '223.7', _count_error: '-23.3', _count_linear: '310' },
    { _timeslice: '3000', _count: '', _count_predicted: '274.6', _count_error: '', _count_linear: '320' },
    { _timeslice: '4000', _count: '', _count_predicted: '297.1', _count_error: '', _count_linear: '330' },
  ];

  it('separates the actual values, the fitted values and the forecast', () => {
    const a = analysisOf(fields, rows)!;
    expect(a.kind).toBe('predict');
    const g = a.groups[0];
    expect(g.actual).toEqual([
      [1000, 180],
      [2000, 247],
    ]);
    expect(g.expected).toEqual([
      [1000, 252.9],
      [2000, 223.7],
    ]);
    // The forecast starts at the last fitted slice, so the two lines join.
    expect(g.forecast).toEqual([
      [2000, 223.7],
      [3000, 274.6],
      [4000, 297.1],
    ]);
    expect(g.linear).toHaveLength(4);
    expect([a.forecastFrom, a.forecastTo]).toEqual([3000, 4000]);
    const series = analysisSeries(a, COL);
    expect(series.map((s) => s.name)).toEqual(['_count', 'predicted', 'forecast', 'linear trend']);
    const fc = series[2] as { lineStyle: { type: string }; markArea: { data: { xAxis: number }[][] } };
    expect(fc.lineStyle.type).toBe('dotted');
    // the model's lines in a colour of their own, the actual values solid
    expect([series[0].color, series[1].color, series[2].color]).toEqual(['#a', '#b', '#b']);
    expect(fc.markArea.data[0].map((x) => x.xAxis)).toEqual([2000, 4000]);
    expect(tooltipText(a, 3000, 'T')).toBe('T\nforecast 274.6');
    expect(tooltipText(a, 1000, 'T')).toBe('T\n_count 180, predicted 252.9');
  });

  it('leaves other results alone', () => {
    expect(analysisOf([F('_timeslice', true), F('_count'), F('errors')], [{ _timeslice: '1', _count: '1', errors: '2' }])).toBeNull();
    expect(analysisOf([F('host', true), F('_count'), F('_count_predicted')], [{ host: 'a', _count: '1', _count_predicted: '2' }])).toBeNull();
    expect(analysisOf([F('_timeslice', true), F('_count'), F('_count_predicted')], [])).toBeNull();
  });
});
