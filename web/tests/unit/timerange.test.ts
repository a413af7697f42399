import { describe, expect, it } from 'vitest';
import { fromWallTime, isoLocal, parseRangeText, rangeLabel, relativeMs, resolveRange, resolveTime, formatTime, wallTime } from '../../src/lib/timerange';

const NOW = Date.UTC(2024, 4, 15, 12, 30, 0); // Wednesday 2024-05-15 12:30 UTC

describe('time ranges', () => {
  it('reads relative expressions', () => {
    expect(relativeMs('-15m')).toBe(15 * 60_000);
    expect(relativeMs('-1h30m')).toBe(90 * 60_000);
    expect(relativeMs('-7d')).toBe(7 * 86_400_000);
    expect(relativeMs('-2w')).toBe(14 * 86_400_000);
    expect(relativeMs('15m')).toBeNull();
    expect(relativeMs('-3x')).toBeNull();
  });

  it('resolves ranges against now', () => {
    expect(resolveRange({ from: '-15m', to: 'now' }, 'UTC', NOW)).toEqual({ start: NOW - 15 * 60_000, end: NOW });
    expect(resolveRange({ from: '-3h', to: '-1h' }, 'UTC', NOW)).toEqual({ start: NOW - 3 * 3_600_000, end: NOW - 3_600_000 });
    expect(() => resolveRange({ from: '-1h', to: '-3h' }, 'UTC', NOW)).toThrow(/empty/);
    expect(() => resolveTime('yesterday-ish', 'UTC', NOW)).toThrow(/not a time/);
  });

  it('resolves this week and today in the time zone', () => {
    // Monday 2024-05-13 00:00 in Paris (UTC+2 in May).
    expect(resolveTime('week', 'Europe/Paris', NOW)).toBe(Date.UTC(2024, 4, 12, 22, 0, 0));
    expect(resolveTime('today', 'America/New_York', NOW)).toBe(Date.UTC(2024, 4, 15, 4, 0, 0));
    expect(resolveTime('week', 'UTC', NOW)).toBe(Date.UTC(2024, 4, 13));
  });

  it('reads absolute times in the time zone, across DST', () => {
    expect(resolveTime('2024-05-01T10:00:00', 'UTC', NOW)).toBe(Date.UTC(2024, 4, 1, 10));
    expect(resolveTime('2024-05-01 10:00', 'Europe/Paris', NOW)).toBe(Date.UTC(2024, 4, 1, 8));
    expect(resolveTime('2024-01-01T10:00:00.250', 'Europe/Paris', NOW)).toBe(Date.UTC(2024, 0, 1, 9, 0, 0, 250));
    expect(resolveTime('1715776200000', 'UTC', NOW)).toBe(1715776200000);
    // 2024-03-31 03:30 Paris is just after the spring-forward change.
    expect(fromWallTime(2024, 3, 31, 3, 30, 0, 0, 'Europe/Paris')).toBe(Date.UTC(2024, 2, 31, 1, 30));
  });

  it('round-trips absolute bounds written by the histogram zoom', () => {
    const t = Date.UTC(2024, 4, 15, 9, 5, 7, 120);
    for (const tz of ['UTC', 'Asia/Kolkata', 'America/Los_Angeles']) {
      expect(resolveTime(isoLocal(t, tz), tz, NOW)).toBe(t);
    }
    expect(formatTime(t, 'Asia/Kolkata')).toBe('2024-05-15 14:35:07.120');
    expect(wallTime(t, 'UTC').weekday).toBe(2);
  });

  it('reads the custom range box', () => {
    expect(parseRangeText('-3h')).toEqual({ from: '-3h', to: 'now' });
    expect(parseRangeText('-3h -1h')).toEqual({ from: '-3h', to: '-1h' });
    expect(parseRangeText('-3h to -1h')).toEqual({ from: '-3h', to: '-1h' });
    expect(parseRangeText('2024-05-01 10:00 to 2024-05-01 12:00')).toEqual({ from: '2024-05-01 10:00', to: '2024-05-01 12:00' });
    expect(parseRangeText('yesterday at noon')).toBeNull();
  });

  it('labels ranges', () => {
    expect(rangeLabel({ from: '-15m', to: 'now' })).toBe('Last 15 minutes');
    expect(rangeLabel({ from: '-3h', to: 'now' })).toBe('Last 3 hours');
    expect(rangeLabel({ from: '-2d', to: 'now' })).toBe('Last 2 days');
    expect(rangeLabel({ from: 'week', to: 'now' })).toBe('This week');
    expect(rangeLabel({ from: '-3h', to: '-1h' })).toBe('-3h → -1h');
  });
});
