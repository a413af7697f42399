import { useMemo, useState } from 'preact/hooks';
import { memo } from 'preact/compat';
import { cleanText, clip, parseJSONMessage, segments } from '../lib/text';
import { formatTime } from '../lib/timerange';
import type { Rec } from '../lib/charts';
import { METADATA_FIELDS } from '../lib/fields';

/** Highlighted renders text with the search terms marked; text only, never HTML. */
export function Highlighted({ text, re }: { text: string; re: RegExp | null }) {
  const segs = useMemo(() => segments(text, re), [text, re]);
  return (
    <>
      {segs.map((s, i) =>
        s.hit ? (
          <mark key={i} class="hit">
            {s.text}
          </mark>
        ) : (
          s.text
        ),
      )}
    </>
  );
}

interface MessageProps {
  msg: Rec | undefined;
  index: number;
  selected: boolean;
  re: RegExp | null;
  tz: string;
  cols: string[];
  onSelect: (i: number) => void;
  onContext: (m: Rec) => void;
  onFilter: (field: string, value: string, exclude?: boolean) => void;
}

export const Message = memo(function Message({ msg, index, selected, re, tz, cols, onSelect, onContext, onFilter }: MessageProps) {
  const [showAll, setShowAll] = useState(false);
  const [asJSON, setAsJSON] = useState(true);
  const raw = msg?._raw ?? '';
  const clean = useMemo(() => cleanText(raw), [raw]);
  const json = useMemo(() => (msg ? parseJSONMessage(raw) : undefined), [raw, msg]);
  if (!msg) {
    return (
      <div class="msg msg-loading" aria-busy="true">
        <div class="msg-head">
          <span class="msg-time skeleton">loading…</span>
        </div>
      </div>
    );
  }
  const shown = showAll ? { text: clean, cut: false } : clip(clean);
  const time = Number(msg._messagetime);
  return (
    <div class={'msg' + (selected ? ' selected' : '')} data-testid="message" onClick={() => onSelect(index)}>
      <div class="msg-head">
        <span class="msg-time" title={`received ${formatTime(Number(msg._receipttime), tz)}`}>
          {Number.isFinite(time) ? formatTime(time, tz) : '?'}
        </span>
        {METADATA_FIELDS.map((f) =>
          msg[f] ? (
            <button type="button" key={f} class="chip" title={`${f}=${msg[f]} — click to filter, Alt+click to exclude`} onClick={(e) => { e.stopPropagation(); onFilter(f, msg[f], e.altKey); }}>
              {cleanText(msg[f])}
            </button>
          ) : null,
        )}
        {cols.map((c) => (
          <span class="col" key={c}>
            <span class="col-name">{c}</span>=<span class="col-value">{cleanText(msg[c.toLowerCase()] ?? '')}</span>
          </span>
        ))}
        <span class="msg-actions">
          {json !== undefined && (
            <button type="button" class="link" onClick={(e) => { e.stopPropagation(); setAsJSON(!asJSON); }}>
              {asJSON ? 'raw' : 'JSON'}
            </button>
          )}
          <button type="button" class="link" data-testid="show-context" title="Show the messages before and after this one from the same source (c)" onClick={(e) => { e.stopPropagation(); onContext(msg); }}>
            surrounding
          </button>
        </span>
      </div>
      {json !== undefined && asJSON ? (
        <div class="msg-body json">
          <JsonNode value={json} re={re} depth={0} name={null} last />
        </div>
      ) : (
        <pre class="msg-body" data-testid="message-text">
          <Highlighted text={shown.text} re={re} />
          {shown.cut && (
            <button type="button" class="link more" onClick={(e) => { e.stopPropagation(); setShowAll(true); }}>
              … show all {clean.length.toLocaleString('en-US')} characters
            </button>
          )}
        </pre>
      )}
    </div>
  );
});

/** JsonNode renders a JSON value as a collapsible tree. */
function JsonNode({ value, re, depth, name, last }: { value: unknown; re: RegExp | null; depth: number; name: string | null; last: boolean }) {
  const [open, setOpen] = useState(depth < 2);
  const comma = last ? '' : ',';
  const key = name !== null ? (
    <>
      <span class="j-key">"<Highlighted text={cleanText(name)} re={re} />"</span>:{' '}
    </>
  ) : null;
  if (value === null || typeof value !== 'object') {
    let cls = 'j-num';
    let text = String(value);
    if (typeof value === 'string') {
      cls = 'j-str';
      const c = clip(cleanText(value), 2000, 20);
      text = JSON.stringify(c.text) + (c.cut ? '…' : '');
    } else if (typeof value === 'boolean' || value === null) cls = 'j-lit';
    return (
      <div class="j-line">
        {key}
        <span class={cls}>
          <Highlighted text={text} re={re} />
        </span>
        {comma}
      </div>
    );
  }
  const isArr = Array.isArray(value);
  const entries = isArr ? (value as unknown[]).map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
  const [o, c] = isArr ? ['[', ']'] : ['{', '}'];
  if (!entries.length)
    return (
      <div class="j-line">
        {key}
        {o}
        {c}
        {comma}
      </div>
    );
  const shown = entries.slice(0, 500);
  return (
    <div class="j-node">
      <div class="j-line">
        <button type="button" class="j-toggle" aria-expanded={open} onClick={(e) => { e.stopPropagation(); setOpen(!open); }}>
          {open ? '▾' : '▸'}
        </button>
        {key}
        {o}
        {!open && (
          <span class="j-summary">
            {' '}
            {entries.length} {isArr ? 'items' : 'keys'} {c}
            {comma}
          </span>
        )}
      </div>
      {open && (
        <>
          <div class="j-children">
            {shown.map(([k, v], i) => (
              <JsonNode key={k} value={v} re={re} depth={depth + 1} name={isArr ? null : k} last={i === shown.length - 1 && shown.length === entries.length} />
            ))}
            {shown.length < entries.length && <div class="j-line j-summary">… {entries.length - shown.length} more</div>}
          </div>
          <div class="j-line">
            {c}
            {comma}
          </div>
        </>
      )}
    </div>
  );
}
