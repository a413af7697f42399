import { useMemo, useState } from 'preact/hooks';
import { CHART_KINDS, chooseChart, compareValues, toCSV, type ChartKind, type FieldInfo, type Rec, TIMESLICE } from '../lib/charts';
import { cleanText } from '../lib/text';
import { formatTime } from '../lib/timerange';
import { ResultChart } from '../charts/ResultChart';

interface Props {
  fields: FieldInfo[];
  rows: Rec[];
  tz: string;
  theme: string;
  query: string;
}

/** Aggregates shows an aggregate result as a chart and a sortable table. */
export function Aggregates({ fields, rows, tz, theme, query }: Props) {
  const auto = useMemo(() => chooseChart(fields, rows), [fields, rows]);
  const [picked, setPicked] = useState<ChartKind | null>(null);
  const kind = picked ?? auto;
  const [sort, setSort] = useState<{ field: string; desc: boolean } | null>(null);
  const sorted = useMemo(() => {
    if (!sort) return rows;
    const out = rows.slice();
    out.sort((a, b) => compareValues(a[sort.field], b[sort.field]) * (sort.desc ? -1 : 1));
    return out;
  }, [rows, sort]);
  const names = fields.map((f) => f.name);

  const exportCSV = () => {
    const blob = new Blob([toCSV(names, sorted)], { type: 'text/csv;charset=utf-8' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `dohyo-${query.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40) || 'results'}.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  return (
    <section class="aggregates" data-testid="aggregates">
      <div class="agg-toolbar" role="toolbar" aria-label="Chart type">
        {CHART_KINDS.map((c) => (
          <button type="button" key={c.kind} class={'seg' + (kind === c.kind ? ' active' : '')} aria-pressed={kind === c.kind} data-testid={`chart-type-${c.kind}`} onClick={() => setPicked(c.kind)}>
            {c.label}
            {auto === c.kind && picked === null ? ' ·' : ''}
          </button>
        ))}
        <span class="spacer" />
        <span class="muted">{rows.length.toLocaleString('en-US')} rows</span>
        <button type="button" class="btn" onClick={exportCSV} data-testid="export-csv">
          Export CSV
        </button>
      </div>
      {kind !== 'table' && <ResultChart kind={kind} fields={fields} rows={rows} tz={tz} theme={theme} />}
      <div class="table-wrap">
        <table class="result-table" data-testid="result-table">
          <thead>
            <tr>
              {fields.map((f) => {
                const active = sort?.field === f.name;
                return (
                  <th key={f.name} aria-sort={active ? (sort!.desc ? 'descending' : 'ascending') : 'none'}>
                    <button type="button" class="th-sort" onClick={() => setSort({ field: f.name, desc: active ? !sort!.desc : true })}>
                      {f.name}
                      {f.keyField ? <span class="key-mark" title="group-by field">●</span> : null}
                      <span class="sort-mark">{active ? (sort!.desc ? '▼' : '▲') : ''}</span>
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {sorted.slice(0, 2000).map((r, i) => (
              <tr key={i}>
                {fields.map((f) => (
                  <td key={f.name} class={f.name !== TIMESLICE && /^-?\d/.test(r[f.name] ?? '') ? 'num' : ''}>
                    {f.name === TIMESLICE && r[f.name] ? formatTime(Number(r[f.name]), tz, false) : cleanText(r[f.name] ?? '')}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {sorted.length > 2000 && <p class="muted">Showing the first 2,000 of {sorted.length.toLocaleString('en-US')} rows; export CSV for all.</p>}
      </div>
    </section>
  );
}
