import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';

interface Props {
  count: number;
  /** estimated height of an item not measured yet */
  estimate: number;
  /** changing it forgets the measured heights and scrolls to the top */
  resetKey: unknown;
  renderItem: (i: number) => ComponentChildren;
  /** called with the first visible index when the visible range changes */
  onRange?: (first: number, last: number) => void;
  /** scroll so that this index is visible (changes trigger a scroll) */
  scrollTo?: { index: number; seq: number } | null;
  class?: string;
  onKeyDown?: (e: KeyboardEvent) => void;
  label?: string;
  /** stay at the bottom when items are added there (live tail) */
  stickToBottom?: boolean;
}

const OVERSCAN = 600; // px rendered above and below the viewport

/**
 * VirtualList renders only the items in and near the viewport, measuring
 * each rendered item's real height, so that lists of 100,000 messages of
 * any length scroll smoothly.
 */
export function VirtualList(props: Props) {
  const { count, estimate, resetKey, renderItem } = props;
  const outer = useRef<HTMLDivElement>(null);
  const heights = useRef<Float64Array>(new Float64Array(0));
  const offsets = useRef<Float64Array>(new Float64Array(1));
  const dirty = useRef(true);
  const [, setTick] = useState(0);
  const [view, setView] = useState({ top: 0, height: 600 });
  const frame = useRef(0);
  const observer = useRef<ResizeObserver | null>(null);
  const atBottom = useRef(true);

  // Grow (or reset) the height table.
  useMemo(() => {
    heights.current = new Float64Array(0);
    dirty.current = true;
  }, [resetKey]);
  if (heights.current.length < count) {
    const h = new Float64Array(Math.max(count, heights.current.length * 2, 64));
    h.set(heights.current);
    h.fill(-1, heights.current.length);
    heights.current = h;
    dirty.current = true;
  }

  const rerender = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      setTick((t) => t + 1);
    });
  };

  if (dirty.current) {
    const h = heights.current;
    const o = new Float64Array(count + 1);
    for (let i = 0; i < count; i++) o[i + 1] = o[i] + (h[i] >= 0 ? h[i] : estimate);
    offsets.current = o;
    dirty.current = false;
  }
  const o = offsets.current;
  const total = o[count] ?? 0;

  useEffect(() => {
    if (outer.current) outer.current.scrollTop = 0;
    atBottom.current = true;
  }, [resetKey]);

  const propsRef = useRef(props);
  propsRef.current = props;
  if (!observer.current && typeof ResizeObserver !== 'undefined') {
    observer.current = new ResizeObserver((entries) => {
      const el = outer.current;
      let changed = false;
      let shift = 0;
      const firstVisible = el ? findIndex(offsets.current, el.scrollTop) : 0;
      for (const e of entries) {
        const t = e.target as HTMLElement;
        const i = Number(t.dataset.index);
        if (!(i >= 0)) continue;
        const hgt = e.borderBoxSize?.[0]?.blockSize ?? t.offsetHeight;
        const old = heights.current[i];
        if (hgt > 0 && Math.abs(hgt - old) > 0.5) {
          const prev = old >= 0 ? old : estimate;
          heights.current[i] = hgt;
          if (i < firstVisible) shift += hgt - prev;
          changed = true;
        }
      }
      if (changed) {
        dirty.current = true;
        // Keep what the user looks at in place when items above it change.
        if (el && shift && !(propsRef.current.stickToBottom && atBottom.current)) el.scrollTop += shift;
        rerender();
      }
    });
  }

  useEffect(() => {
    const onResize = () => outer.current && setView((v) => ({ ...v, height: outer.current!.clientHeight }));
    onResize();
    const ro = new ResizeObserver(onResize);
    if (outer.current) ro.observe(outer.current);
    return () => {
      observer.current?.disconnect();
      ro.disconnect();
      if (frame.current) cancelAnimationFrame(frame.current);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Live tail: follow the bottom while the user is there.
  useLayoutEffect(() => {
    const el = outer.current;
    if (el && props.stickToBottom && atBottom.current) el.scrollTop = el.scrollHeight;
  });

  useEffect(() => {
    const s = props.scrollTo;
    const el = outer.current;
    if (!s || !el || s.index < 0 || s.index >= count) return;
    const top = o[s.index];
    const bottom = o[s.index + 1];
    if (top < el.scrollTop) el.scrollTop = top;
    else if (bottom > el.scrollTop + el.clientHeight) el.scrollTop = bottom - el.clientHeight;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.scrollTo?.seq]);

  const onScroll = () => {
    const el = outer.current!;
    atBottom.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
    setView({ top: el.scrollTop, height: el.clientHeight });
  };

  const first = Math.max(0, findIndex(o, view.top - OVERSCAN));
  const last = Math.min(count - 1, findIndex(o, view.top + view.height + OVERSCAN));
  const firstShown = Math.max(0, findIndex(o, view.top));
  const lastShown = Math.min(count - 1, findIndex(o, view.top + view.height));
  useEffect(() => {
    props.onRange?.(firstShown, lastShown);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [firstShown, lastShown, count]);

  const items = [];
  for (let i = first; i <= last && count > 0; i++) {
    items.push(
      <Item key={i} index={i} top={o[i]} observer={observer.current}>
        {renderItem(i)}
      </Item>,
    );
  }
  return (
    <div
      class={'vlist ' + (props.class ?? '')}
      ref={outer}
      onScroll={onScroll}
      tabIndex={0}
      role="list"
      aria-label={props.label}
      onKeyDown={props.onKeyDown}
    >
      <div class="vlist-spacer" style={{ height: `${total}px` }}>
        {items}
      </div>
    </div>
  );
}

function Item({ index, top, observer, children }: { index: number; top: number; observer: ResizeObserver | null; children: ComponentChildren }) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !observer) return;
    observer.observe(el);
    return () => observer.unobserve(el);
  }, [observer]);
  return (
    <div class="vlist-item" ref={ref} data-index={index} role="listitem" style={{ transform: `translateY(${top}px)` }}>
      {children}
    </div>
  );
}

/** findIndex returns the index of the item at vertical position y. */
function findIndex(o: Float64Array, y: number): number {
  let lo = 0;
  let hi = o.length - 2;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (o[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
