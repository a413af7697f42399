import { useState } from 'preact/hooks';
import type { FieldSummary } from '../lib/fields';
import { cleanText } from '../lib/text';
import { formatNumber } from '../lib/charts';

interface Props {
  fields: FieldSummary[];
  sampled: number;
  total: number;
  cols: string[];
  onToggleColumn: (name: string) => void;
  onFilter: (field: string, value: string, exclude?: boolean) => void;
}

/** FieldBrowser lists the fields of the results with counts and top values. */
export function FieldBrowser({ fields, sampled, total, cols, onToggleColumn, onFilter }: Props) {
  const [open, setOpen] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const shown = filter ? fields.filter((f) => f.name.toLowerCase().includes(filter.toLowerCase())) : fields;
  return (
    <aside class="field-browser" aria-label="Fields" data-testid="field-browser">
      <div class="fb-head">
        <h2>Fields</h2>
        <span class="muted" title="Field counts come from the first messages of the results">
          {sampled < total ? `in the first ${formatNumber(sampled)}` : `${formatNumber(sampled)} messages`}
        </span>
      </div>
      <input class="fb-filter" type="search" placeholder="Filter fields" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} aria-label="Filter fields" />
      <ul class="fb-list">
        {shown.map((f) => {
          const isOpen = open === f.name;
          const pct = sampled ? Math.round((100 * f.count) / sampled) : 0;
          return (
            <li key={f.name} class={isOpen ? 'open' : ''}>
              <div class="fb-field">
                <input type="checkbox" checked={cols.includes(f.name)} title="Show as a column" aria-label={`Show ${f.name} as a column`} onChange={() => onToggleColumn(f.name)} />
                <button type="button" class="fb-name" aria-expanded={isOpen} onClick={() => setOpen(isOpen ? null : f.name)} data-testid="field-name">
                  <span class="fb-name-text">{f.name}</span>
                  <span class="fb-count">{pct}%</span>
                </button>
              </div>
              {isOpen && (
                <ul class="fb-values">
                  {f.top.map((t) => (
                    <li key={t.value}>
                      <button
                        type="button"
                        class="fb-value"
                        data-testid="field-value"
                        title={`Add ${f.name}=${t.value} to the query (Alt+click excludes it)`}
                        onClick={(e) => onFilter(f.name, t.value, e.altKey)}
                      >
                        <span class="fb-value-text">{cleanText(t.value) || '(empty)'}</span>
                        <span class="fb-bar" style={{ width: `${Math.max(2, (100 * t.count) / Math.max(1, f.count))}%` }} />
                        <span class="fb-count">{formatNumber(t.count)}</span>
                      </button>
                    </li>
                  ))}
                  {f.distinct > f.top.length && <li class="muted fb-more">{f.moreValues ? 'over 1000' : f.distinct} distinct values</li>}
                </ul>
              )}
            </li>
          );
        })}
        {!shown.length && <li class="muted">No fields yet.</li>}
      </ul>
    </aside>
  );
}
