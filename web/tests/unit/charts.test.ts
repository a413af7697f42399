import { describe, expect, it } from 'vitest';
import { chartData, chooseChart, compareValues, toCSV, singleValue } from '../../src/lib/charts';
import { summarizeFields } from '../../src/lib/fields';
import { signatureParts, signatureQuery } from '../../src/components/LogReduce';

const F = (name: string, keyField = false) => ({ name, fieldType: 'string', keyField });

describe('chart choice', () => {
  it('picks a line chart for time slices', () => {
    const fields = [F('_timeslice', true), F('_sourcecategory', true), F('_count')];
    const rows = [
      { _timeslice: '1000', _sourcecategory: 'a', _count: '3' },
      { _timeslice: '2000', _sourcecategory: 'a', _count: '4' },
      { _timeslice: '1000', _sourcecategory: 'b', _count: '1' },
    ];
    expect(chooseChart(fields, rows)).toBe('line');
    const d = chartData(fields, rows);
    expect(d.kind).toBe('time');
    expect(d.series.map((s) => s.name)).toEqual(['a', 'b']);
    expect(d.series[1].points).toEqual([
      [1000, 1],
      [2000, 0],
    ]);
  });

  it('picks a single value, columns, bars or a table', () => {
    expect(chooseChart([F('_count')], [{ _count: '42' }])).toBe('single');
    expect(singleValue([F('_count')], [{ _count: '42' }])).toEqual({ label: '_count', value: '42' });
    const cats = Array.from({ length: 5 }, (_, i) => ({ host: 'h' + i, _count: String(i) }));
    expect(chooseChart([F('host', true), F('_count')], cats)).toBe('column');
    const many = Array.from({ length: 40 }, (_, i) => ({ host: 'h' + i, _count: String(i) }));
    expect(chooseChart([F('host', true), F('_count')], many)).toBe('bar');
    expect(chooseChart([F('a'), F('b')], [{ a: 'x', b: 'y' }])).toBe('table');
    expect(chooseChart([F('a', true), F('_count')], [])).toBe('table');
    expect(chartData([F('host', true), F('_count')], cats).categories).toEqual(['h0', 'h1', 'h2', 'h3', 'h4']);
  });
});

describe('tables', () => {
  it('sorts numbers as numbers', () => {
    expect(['10', '9', 'b', 'a', '100'].sort(compareValues)).toEqual(['9', '10', '100', 'a', 'b']);
  });

  it('exports CSV safely', () => {
    const csv = toCSV(['a', 'b'], [{ a: 'x,y', b: '=cmd()' }, { a: 'q"t', b: '-5' }]);
    expect(csv).toBe('a,b\r\n"x,y",\'=cmd()\r\n"q""t",-5\r\n');
  });
});

describe('field summary', () => {
  it('counts fields and top values', () => {
    const msgs: Record<string, string>[] = [
      { _raw: 'x', _sourcehost: 'a', status: '200' },
      { _raw: 'y', _sourcehost: 'a', status: '500' },
      { _raw: 'z', _sourcehost: 'b' },
    ];
    const s = summarizeFields(msgs);
    expect(s.map((f) => f.name)).toEqual(['_sourcehost', 'status']);
    expect(s[0]).toMatchObject({ count: 3, distinct: 2, top: [{ value: 'a', count: 2 }, { value: 'b', count: 1 }] });
  });
});

describe('signatures', () => {
  it('marks variable parts', () => {
    expect(signatureParts('user * logged in from $ip')).toEqual([
      { text: 'user ', variable: false },
      { text: '*', variable: true },
      { text: ' logged in from ', variable: false },
      { text: '$ip', variable: true },
    ]);
    expect(signatureQuery('user * logged in from *')).toBe('"user" "logged" "from"');
  });
});
