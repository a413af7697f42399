import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, ApiError } from '../lib/api';
import type { Rec } from '../lib/charts';
import { cleanText } from '../lib/text';
import { formatTime } from '../lib/timerange';
import { Highlighted } from './Message';

/** Modal is a dialog that traps nothing but Escape closes and focus starts inside. */
export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  // What had the focus before the dialog opened (read while rendering,
  // before the dialog is in the page), to give it back on close.
  const opener = useRef(document.activeElement as HTMLElement | null);
  useEffect(() => {
    // The browser honours autofocus only once per page, so focus the
    // dialog's autofocus field, or the dialog itself. The effect runs after
    // the first paint: a field of the dialog that has the focus by then (a
    // fast typist) keeps it; taking it would send the next keys, Enter
    // included, nowhere.
    const el = ref.current;
    if (el && !el.contains(document.activeElement)) (el.querySelector<HTMLElement>('[autofocus]') ?? el).focus();
    const prev = opener.current;
    return () => prev?.focus();
  }, []);
  return (
    <div class="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        class={'modal' + (wide ? ' wide' : '')}
        role="dialog"
        aria-modal="true"
        aria-label={title}
        tabIndex={-1}
        ref={ref}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            onClose();
          }
        }}
      >
        <div class="modal-head">
          <h2>{title}</h2>
          <button type="button" class="btn icon" aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </div>
        <div class="modal-body">{children}</div>
      </div>
    </div>
  );
}

interface ContextResponse {
  before: { map: Rec }[];
  message: { map: Rec };
  after: { map: Rec }[];
}

/** ContextDialog shows the messages before and after a message from the same source. */
export function ContextDialog({ msg, tz, re, onClose }: { msg: Rec; tz: string; re: RegExp | null; onClose: () => void }) {
  const [data, setData] = useState<ContextResponse | null>(null);
  const [error, setError] = useState('');
  const [n, setN] = useState(20);
  const anchor = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const ac = new AbortController();
    setError('');
    const id = msg._messageid;
    if (!id) {
      setError('this message has no _messageId, so its surroundings cannot be found');
      return;
    }
    get<ContextResponse>(`/api/v1/messages/context?id=${encodeURIComponent(id)}&time=${encodeURIComponent(msg._messagetime)}&before=${n}&after=${n}`, ac.signal)
      .then(setData)
      .catch((e) => !ac.signal.aborted && setError(e instanceof ApiError ? e.message : String(e)));
    return () => ac.abort();
  }, [msg, n]);
  useEffect(() => {
    anchor.current?.scrollIntoView({ block: 'center' });
  }, [data]);
  const line = (m: Rec, cls: string, ref?: preact.Ref<HTMLDivElement>) => (
    <div class={'ctx-line ' + cls} ref={ref} key={m._messageid}>
      <span class="msg-time">{formatTime(Number(m._messagetime), tz)}</span>
      <pre>
        <Highlighted text={cleanText(m._raw ?? '').slice(0, 4000)} re={cls === 'anchor' ? re : null} />
      </pre>
    </div>
  );
  return (
    <Modal title={`Surrounding messages — ${cleanText(msg._sourcecategory ?? '')} ${cleanText(msg._sourcehost ?? '')} ${cleanText(msg._sourcename ?? '')}`} onClose={onClose} wide>
      <div class="ctx" data-testid="context-dialog">
        {error && <p class="error-text">{error}</p>}
        {!data && !error && <p class="muted">Loading…</p>}
        {data && (
          <>
            <button type="button" class="btn small" onClick={() => setN(n * 2)} disabled={data.before.length < n}>
              Earlier
            </button>
            {data.before.map((m) => line(m.map, 'before'))}
            {line(data.message.map, 'anchor', anchor)}
            {data.after.map((m) => line(m.map, 'after'))}
            <button type="button" class="btn small" onClick={() => setN(n * 2)} disabled={data.after.length < n}>
              Later
            </button>
          </>
        )}
      </div>
    </Modal>
  );
}
