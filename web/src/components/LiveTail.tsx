import { useEffect, useRef, useState } from 'preact/hooks';
import { streamNDJSON, ApiError } from '../lib/api';
import type { Rec } from '../lib/charts';
import { VirtualList } from './VirtualList';
import { Message } from './Message';

interface Props {
  query: string;
  tz: string;
  re: RegExp | null;
  cols: string[];
  onContext: (m: Rec) => void;
  onFilter: (field: string, value: string, exclude?: boolean) => void;
}

const MAX_KEPT = 20_000;

interface TailLine {
  messages?: { map: Rec }[];
  time?: number;
  dropped?: boolean;
  error?: { code: string; message: string };
}

/** LiveTail streams the query's new matching messages as they arrive. */
export function LiveTail({ query, tz, re, cols, onContext, onFilter }: Props) {
  const [messages, setMessages] = useState<Rec[]>([]);
  const [paused, setPaused] = useState(false);
  const [status, setStatus] = useState<'connecting' | 'live' | 'stopped' | 'error'>('connecting');
  const [error, setError] = useState('');
  const [rate, setRate] = useState(0);
  const [dropped, setDropped] = useState(false);
  const [run, setRun] = useState(0);
  const buffered = useRef<Rec[]>([]);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const arrivals = useRef<{ t: number; n: number }[]>([]);
  const [selected, setSelected] = useState(-1);

  useEffect(() => {
    const ac = new AbortController();
    setStatus('connecting');
    setError('');
    setMessages([]);
    buffered.current = [];
    arrivals.current = [];
    streamNDJSON('/api/v1/search/tail', { query }, ac.signal, (v) => {
      const line = v as TailLine;
      if (line.error) {
        setStatus('error');
        setError(line.error.message);
        return;
      }
      setStatus('live');
      const now = Date.now();
      const got = (line.messages ?? []).map((m) => m.map);
      arrivals.current.push({ t: now, n: got.length });
      arrivals.current = arrivals.current.filter((a) => now - a.t <= 10_000);
      const span = Math.max(1, Math.min(10, (now - arrivals.current[0].t) / 1000 + 1));
      setRate(arrivals.current.reduce((s, a) => s + a.n, 0) / span);
      if (line.dropped) setDropped(true);
      if (!got.length) return;
      if (pausedRef.current) {
        buffered.current.push(...got);
        if (buffered.current.length > MAX_KEPT) buffered.current.splice(0, buffered.current.length - MAX_KEPT);
        setRun((r) => r); // refresh the buffered count
        setMessages((m) => m.slice());
        return;
      }
      setMessages((m) => {
        const next = m.concat(got);
        return next.length > MAX_KEPT ? next.slice(next.length - MAX_KEPT) : next;
      });
    })
      .then(() => !ac.signal.aborted && setStatus('stopped'))
      .catch((e) => {
        if (ac.signal.aborted) return;
        setStatus('error');
        setError(e instanceof ApiError ? e.message : String(e));
      });
    return () => ac.abort();
  }, [query, run]);

  const resume = () => {
    setPaused(false);
    const b = buffered.current;
    buffered.current = [];
    setMessages((m) => {
      const next = m.concat(b);
      return next.length > MAX_KEPT ? next.slice(next.length - MAX_KEPT) : next;
    });
  };

  return (
    <section class="tail" data-testid="live-tail">
      <div class="tail-bar">
        <span class={'tail-dot ' + status} aria-hidden="true" />
        <span data-testid="tail-status">{status === 'live' ? (paused ? 'Paused' : 'Live') : status === 'connecting' ? 'Connecting…' : status === 'stopped' ? 'Stopped' : 'Error'}</span>
        <span class="muted" data-testid="tail-rate">
          {rate.toFixed(rate < 10 ? 1 : 0)} messages/s
        </span>
        <span class="muted">{messages.length.toLocaleString('en-US')} shown</span>
        {paused && buffered.current.length > 0 && <span class="badge">{buffered.current.length} new</span>}
        {dropped && <span class="badge warn" title="More new messages arrived per second than live tail shows; narrow the query">some messages skipped</span>}
        <span class="spacer" />
        {status === 'stopped' || status === 'error' ? (
          <button type="button" class="btn" onClick={() => setRun((r) => r + 1)}>
            Restart
          </button>
        ) : paused ? (
          <button type="button" class="btn primary" onClick={resume} data-testid="tail-resume">
            Resume
          </button>
        ) : (
          <button type="button" class="btn" onClick={() => setPaused(true)} data-testid="tail-pause">
            Pause
          </button>
        )}
        <button type="button" class="btn" onClick={() => setMessages([])}>
          Clear
        </button>
      </div>
      {error && <p class="error-text">{error}</p>}
      {messages.length === 0 && status !== 'error' ? (
        <p class="empty">Waiting for new messages matching the query… (messages appear within about two seconds of arriving)</p>
      ) : (
        <VirtualList
          class="messages"
          count={messages.length}
          estimate={56}
          resetKey={run}
          stickToBottom={!paused}
          label="Live messages"
          renderItem={(i) => <Message msg={messages[i]} index={i} selected={i === selected} re={re} tz={tz} cols={cols} onSelect={setSelected} onContext={onContext} onFilter={onFilter} />}
        />
      )}
    </section>
  );
}
