import { describe, expect, it } from 'vitest';
import {
  addPanel,
  hexagon,
  hexLayout,
  honeyCells,
  clickValues,
  decodeDashState,
  duplicatePanel,
  encodeDashState,
  fitLayout,
  gridHeight,
  heatCells,
  mapPoints,
  movePanel,
  resizePanel,
  routeOf,
  settle,
  singleValueOf,
  thresholdFor,
  type Panel,
} from '../../src/lib/dashboards';

const F = (name: string, keyField = false) => ({ name, fieldType: 'string', keyField });
const P = (id: string, x: number, y: number, w: number, h: number): Panel => ({ id, title: id, query: '*', visualization: { type: 'table' }, layout: { x, y, w, h } });

function noOverlap(ps: Panel[]) {
  for (const a of ps)
    for (const b of ps) {
      if (a === b) continue;
      const o = a.layout.x < b.layout.x + b.layout.w && b.layout.x < a.layout.x + a.layout.w && a.layout.y < b.layout.y + b.layout.h && b.layout.y < a.layout.y + a.layout.h;
      expect(o, `${a.id} overlaps ${b.id}`).toBe(false);
    }
}

describe('grid layout', () => {
  it('keeps layouts inside the 24 columns', () => {
    expect(fitLayout({ x: 30, y: -2, w: 40, h: 1 })).toEqual({ x: 0, y: 0, w: 24, h: 3 });
    expect(fitLayout({ x: 20, y: 1.4, w: 8, h: 6 })).toEqual({ x: 16, y: 1, w: 8, h: 6 });
  });

  it('moves a panel and pushes the ones it lands on down', () => {
    const ps = [P('a', 0, 0, 12, 4), P('b', 12, 0, 12, 4), P('c', 0, 4, 24, 4)];
    const out = movePanel(ps, 'a', 12, 0);
    const by = Object.fromEntries(out.map((p) => [p.id, p.layout]));
    expect(by.a).toEqual({ x: 12, y: 0, w: 12, h: 4 });
    expect(by.b.y).toBeGreaterThanOrEqual(4);
    noOverlap(out);
    // Moving left of column 0 is clamped.
    expect(movePanel(ps, 'a', -5, 0).find((p) => p.id === 'a')!.layout.x).toBe(0);
  });

  it('resizes within the grid and settles the others', () => {
    const ps = [P('a', 0, 0, 12, 4), P('b', 12, 0, 12, 4)];
    const wider = resizePanel(ps, 'a', 4, 0);
    expect(wider.find((p) => p.id === 'a')!.layout.w).toBe(16);
    noOverlap(wider);
    const narrow = resizePanel(ps, 'a', -20, -20);
    expect(narrow.find((p) => p.id === 'a')!.layout).toEqual({ x: 0, y: 0, w: 3, h: 3 });
    // b at x=12 cannot grow past the right edge.
    expect(resizePanel(ps, 'b', 10, 0).find((p) => p.id === 'b')!.layout.w).toBe(12);
  });

  it('adds panels into free room and duplicates below the original', () => {
    const ps = [P('p1', 0, 0, 12, 8)];
    const added = addPanel(ps, { title: 'new', query: '*', visualization: { type: 'line' } });
    expect(added[1].id).toBe('p2');
    expect(added[1].layout).toEqual({ x: 12, y: 0, w: 12, h: 8 });
    const dup = duplicatePanel(added, 'p1');
    const copy = dup.find((p) => p.title === 'p1 (copy)')!;
    expect(copy.id).toBe('p3');
    expect(copy.layout.y).toBe(8);
    noOverlap(dup);
    expect(gridHeight(dup)).toBe(16);
  });

  it('settle resolves a pile of overlapping panels', () => {
    const out = settle([P('a', 0, 0, 24, 4), P('b', 0, 0, 24, 4), P('c', 4, 2, 8, 4)], 'a');
    noOverlap(out);
    expect(out.find((p) => p.id === 'a')!.layout.y).toBe(0);
  });
});

describe('drill-down clicks', () => {
  const fields = [F('_timeslice', true), F('user', true), F('region', true), F('_count')];
  const rows = [
    { _timeslice: '1000', user: 'alice', region: 'eu', _count: '3' },
    { _timeslice: '2000', user: 'bob', region: 'us', _count: '4' },
  ];
  it('takes a row\'s key fields', () => {
    expect(clickValues(fields, rows, { row: 1 })).toEqual({ values: { user: 'bob', region: 'us', _timeslice: '2000' }, series: '' });
  });
  it('maps a time series click to its slice and group', () => {
    expect(clickValues(fields, rows, { time: 1000, series: 'alice / eu' })).toEqual({ values: { _timeslice: '1000', user: 'alice', region: 'eu' }, series: '' });
  });
  it('passes a series that is not a group as the series (transpose)', () => {
    const f = [F('_timeslice', true), F('accepted'), F('rejected')];
    const r = [{ _timeslice: '1000', accepted: '1', rejected: '2' }];
    expect(clickValues(f, r, { time: 1000, series: 'rejected' })).toEqual({ values: { _timeslice: '1000' }, series: 'rejected' });
  });
});

describe('single value', () => {
  it('reduces a time series and picks the highest threshold reached', () => {
    const fields = [F('_timeslice', true), F('_count')];
    const rows = [
      { _timeslice: '2000', _count: '4' },
      { _timeslice: '1000', _count: '3' },
    ];
    const th = [
      { value: 5, color: 'red' },
      { value: 0, color: 'green' },
      { value: 1, color: 'yellow' },
    ];
    const v = singleValueOf({ type: 'single_value', thresholds: th, valueMode: 'sum' }, fields, rows);
    expect(v.value).toBe(7);
    expect(v.spark).toEqual([3, 4]);
    expect(v.threshold?.color).toBe('red');
    expect(singleValueOf({ type: 'single_value', valueMode: 'max' }, fields, rows).value).toBe(4);
    expect(singleValueOf({ type: 'single_value', valueMode: 'last' }, fields, rows).value).toBe(4);
    expect(thresholdFor(th, 0.5)?.color).toBe('green');
    expect(thresholdFor(th, -1)).toBeNull();
  });
  it('reads the last record without time slices', () => {
    expect(singleValueOf({ type: 'single_value' }, [F('n')], [{ n: '12' }]).value).toBe(12);
  });
});

describe('map and heat map', () => {
  it('keeps only rows with valid coordinates', () => {
    const fields = [F('latitude', true), F('longitude', true), F('country_name', true), F('_count')];
    const rows = [
      { latitude: '48.85', longitude: '2.35', country_name: 'France', _count: '5' },
      { latitude: '', longitude: '2', country_name: 'x', _count: '1' },
      { latitude: '100', longitude: '2', country_name: 'y', _count: '1' },
      { latitude: 'abc', longitude: '2', country_name: 'z', _count: '1' },
    ];
    const pts = mapPoints({ type: 'map' }, fields, rows);
    expect(pts).toEqual([{ lat: 48.85, lon: 2.35, value: 5, label: 'France', row: 0 }]);
  });
  it('lays out two keys as cells', () => {
    const fields = [F('user', true), F('region', true), F('_count')];
    const rows = [
      { user: 'a', region: 'eu', _count: '1' },
      { user: 'a', region: 'us', _count: '2' },
      { user: 'b', region: 'eu', _count: '3' },
    ];
    const h = heatCells(fields, rows);
    expect(h.xKey).toBe('user');
    expect(h.yKey).toBe('region');
    expect(h.xs).toEqual(['a', 'b']);
    expect(h.ys).toEqual(['eu', 'us']);
    expect(h.cells).toContainEqual([1, 0, 3]);
    expect(h.max).toBe(3);
  });
});

describe('state in the URL', () => {
  it('round-trips range, zone, refresh, variables and edit mode', () => {
    const s = { from: '-7d', to: 'now', tz: 'Europe/Paris', refresh: 60, vars: { user: 'alice & bob', region: '*' }, edit: true };
    expect(decodeDashState(encodeDashState(s), null, 'UTC')).toEqual(s);
  });
  it('falls back to the dashboard\'s defaults', () => {
    const s = decodeDashState('', { timeRange: { from: '-3h', to: 'now' }, refreshInterval: 30 }, 'UTC');
    expect(s).toEqual({ from: '-3h', to: 'now', tz: 'UTC', refresh: 30, vars: {}, edit: false });
    expect(decodeDashState('?refresh=-5', null, 'UTC').refresh).toBe(0);
  });
  it('routes paths to pages', () => {
    expect(routeOf('/dashboards')).toEqual({ page: 'dashboards' });
    expect(routeOf('/dashboards/01AB%2F')).toEqual({ page: 'dashboard', id: '01AB/' });
    expect(routeOf('/apps')).toEqual({ page: 'apps' });
    expect(routeOf('/')).toEqual({ page: 'search' });
    expect(routeOf('/nope/x')).toEqual({ page: 'other', path: '/nope/x' });
  });
});

describe('honeycomb', () => {
  const F2 = (name: string, keyField = false) => ({ name, fieldType: 'string', keyField });

  it('has one hexagon per group, summed over the time slices, largest first', () => {
    const fields = [F2('_timeslice', true), F2('region', true), F2('_count')];
    const rows = [
      { _timeslice: '1', region: 'eu', _count: '2' },
      { _timeslice: '2', region: 'eu', _count: '3' },
      { _timeslice: '1', region: 'us', _count: '9' },
    ];
    expect(honeyCells({ type: 'honeycomb' }, fields, rows)).toEqual([
      { name: 'us', value: 9, values: { region: 'us' } },
      { name: 'eu', value: 5, values: { region: 'eu' } },
    ]);
    expect(honeyCells({ type: 'honeycomb' }, [F2('a'), F2('b')], [{ a: '1', b: '2' }]).map((c) => c.name)).toEqual(['a', 'b']);
    expect(honeyCells({ type: 'honeycomb' }, [F2('host', true)], [{ host: 'x' }])).toEqual([]);
  });

  it('packs hexagons into the box without overlap', () => {
    for (const [n, w, h] of [
      [1, 300, 200],
      [7, 300, 200],
      [40, 600, 220],
      [3, 100, 400],
    ]) {
      const l = hexLayout(n, w, h, 0);
      expect(l.centers).toHaveLength(n);
      for (const [x, y] of l.centers) {
        // inside the box (corners at r above and below, √3/2·r to the sides)
        expect(x - (Math.sqrt(3) / 2) * l.r).toBeGreaterThanOrEqual(-1e-6);
        expect(x + (Math.sqrt(3) / 2) * l.r).toBeLessThanOrEqual(w + 1e-6);
        expect(y - l.r).toBeGreaterThanOrEqual(-1e-6);
        expect(y + l.r).toBeLessThanOrEqual(h + 1e-6);
      }
      // neighbours are at least one hexagon width (√3·r) apart
      for (let i = 0; i < n; i++)
        for (let j = i + 1; j < n; j++) {
          const d = Math.hypot(l.centers[i][0] - l.centers[j][0], l.centers[i][1] - l.centers[j][1]);
          expect(d).toBeGreaterThanOrEqual(Math.sqrt(3) * l.r - 1e-6);
        }
    }
    // a wide box: one row
    expect(hexLayout(4, 1000, 100).cols).toBe(4);
    expect(hexLayout(0, 100, 100).centers).toEqual([]);
    expect(hexagon(0, 0, 10)[0]).toEqual([expect.closeTo(0, 6), -10]);
  });
});
