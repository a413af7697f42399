import { useEffect, useRef, useState } from 'preact/hooks';
import { PRESETS, isValidZone, parseRangeText, rangeLabel, resolveRange, formatTime, type RangeSpec } from '../lib/timerange';

interface Props {
  range: RangeSpec;
  tz: string;
  onChange: (r: RangeSpec, tz: string) => void;
}

let zones: string[] | null = null;
function allZones(): string[] {
  if (!zones) {
    try {
      zones = (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
    } catch {
      zones = ['UTC'];
    }
    if (!zones.includes('UTC')) zones.unshift('UTC');
  }
  return zones;
}

/** TimeRangePicker picks a relative or absolute time range and a time zone. */
export function TimeRangePicker({ range, tz, onChange }: Props) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [from, setFrom] = useState(range.from);
  const [to, setTo] = useState(range.to);
  const [zone, setZone] = useState(tz);
  const [error, setError] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!open) return;
    setFrom(range.from);
    setTo(range.to);
    setZone(tz);
    setText('');
    setError('');
    setTimeout(() => input.current?.focus(), 0);
    const onDoc = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDoc);
    return () => document.removeEventListener('mousedown', onDoc);
  }, [open]);

  const apply = (r: RangeSpec, z = zone) => {
    if (!isValidZone(z)) {
      setError(`unknown time zone "${z}"`);
      return;
    }
    try {
      resolveRange(r, z);
    } catch (e) {
      setError((e as Error).message);
      return;
    }
    setOpen(false);
    onChange(r, z);
  };

  const applyText = () => {
    const r = parseRangeText(text);
    if (!r) {
      setError(`"${text}" is not a range: try -3h, -3h to -1h, or 2024-05-01 10:00 to 2024-05-01 12:00`);
      return;
    }
    apply(r);
  };

  let resolved = '';
  try {
    const r = resolveRange(range, tz);
    resolved = `${formatTime(r.start, tz, false)} → ${formatTime(r.end, tz, false)} (${tz})`;
  } catch {
    resolved = '';
  }

  return (
    <div class="trp" ref={box} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <button type="button" class="btn trp-button" aria-haspopup="dialog" aria-expanded={open} title={resolved} onClick={() => setOpen(!open)} data-testid="time-range">
        {rangeLabel(range)} ▾
      </button>
      {open && (
        <div class="trp-pop" role="dialog" aria-label="Time range">
          <div class="trp-cols">
            <ul class="trp-presets">
              {PRESETS.map((p) => (
                <li key={p.label}>
                  <button type="button" class={'trp-preset' + (p.from === range.from && p.to === range.to ? ' active' : '')} onClick={() => apply({ from: p.from, to: p.to })}>
                    {p.label}
                  </button>
                </li>
              ))}
            </ul>
            <div class="trp-custom">
              <label>
                Custom range
                <input
                  ref={input}
                  type="text"
                  placeholder="-3h   or   -3h to -1h"
                  value={text}
                  onInput={(e) => setText((e.target as HTMLInputElement).value)}
                  onKeyDown={(e) => e.key === 'Enter' && applyText()}
                  data-testid="range-text"
                />
              </label>
              <div class="trp-abs">
                <label>
                  From
                  <input type="text" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} placeholder="2024-05-01T10:00:00 or -1h" />
                </label>
                <label>
                  To
                  <input type="text" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} placeholder="now" onKeyDown={(e) => e.key === 'Enter' && apply({ from, to })} />
                </label>
              </div>
              <label>
                Time zone
                <input type="text" list="dohyo-zones" value={zone} onInput={(e) => setZone((e.target as HTMLInputElement).value)} />
                <datalist id="dohyo-zones">
                  {allZones().map((z) => (
                    <option key={z} value={z} />
                  ))}
                </datalist>
              </label>
              {error && <p class="error-text">{error}</p>}
              <div class="trp-actions">
                <button type="button" class="btn" onClick={() => setOpen(false)}>
                  Cancel
                </button>
                <button type="button" class="btn primary" onClick={() => (text.trim() ? applyText() : apply({ from, to }))}>
                  Apply
                </button>
              </div>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
