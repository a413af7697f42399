// Small pieces the monitors page shares. Everything that comes from the
// server (names, group values, alert values, errors) is rendered as text.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { navigate } from '../../lib/nav';
import { displayState, STATE_LABEL, muteUntil, type DisplayState, type Monitor, type Problem } from '../../lib/monitors';
import { browserZone, formatTime } from '../../lib/timerange';

export const zone = browserZone();

/** time writes an RFC 3339 instant in the browser's zone, to the second. */
export function time(iso: string | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '—' : formatTime(t, zone, false);
}

export function StateBadge({ state }: { state: DisplayState }) {
  return (
    <span class={'mon-state s-' + state} data-testid="monitor-state" data-state={state}>
      {STATE_LABEL[state]}
    </span>
  );
}

export function MonitorState({ m }: { m: Monitor }) {
  return <StateBadge state={displayState(m)} />;
}

/** FieldError lists the problems the server found at one field. */
export function FieldError({ problems }: { problems: Problem[] | undefined }) {
  if (!problems?.length) return null;
  return (
    <div class="field-error" role="alert" data-testid="field-error">
      {problems.map((p, i) => (
        <div key={i}>{p.message}</div>
      ))}
    </div>
  );
}

export const MUTE_PERIODS: { label: string; period: string }[] = [
  { label: '15 minutes', period: '15m' },
  { label: '1 hour', period: '1h' },
  { label: '4 hours', period: '4h' },
  { label: '1 day', period: '1d' },
  { label: '1 week', period: '7d' },
];

/** MuteControl mutes a monitor for a period, or unmutes it. */
export function MuteControl({ m, onMute }: { m: Monitor; onMute: (until: Date | null) => void }) {
  const [period, setPeriod] = useState('');
  if (m.muted)
    return (
      <button type="button" class="btn small" data-testid="unmute" title={'Muted until ' + time(m.mutedUntil)} onClick={() => onMute(null)}>
        Unmute
      </button>
    );
  return (
    <select
      class="mon-select small"
      aria-label={'Mute ' + m.name}
      data-testid="mute"
      value={period}
      onChange={(e) => {
        const v = (e.target as HTMLSelectElement).value;
        setPeriod('');
        const until = muteUntil(v);
        if (until) onMute(until);
      }}
    >
      <option value="">Mute…</option>
      {MUTE_PERIODS.map((p) => (
        <option key={p.period} value={p.period}>
          for {p.label}
        </option>
      ))}
    </select>
  );
}

export { navigate };

/** Link is an <a> that navigates inside the app on a plain click. */
export function Link({ href, children, class: cls, testid, title }: { href: string; children: ComponentChildren; class?: string; testid?: string; title?: string }) {
  return (
    <a
      href={href}
      class={cls}
      data-testid={testid}
      title={title}
      onClick={(e) => {
        if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
