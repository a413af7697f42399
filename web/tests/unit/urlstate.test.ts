import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, searchURL } from '../../src/lib/urlstate';

describe('search state in the URL', () => {
  it('round-trips', () => {
    const s = { q: '_sourceCategory=prod/web "a b" | count by x & y', from: '-3h', to: '-1h', tz: 'Europe/Paris', tab: 'aggregates' as const, cols: ['status', 'path'], run: true };
    const back = decodeState(encodeState(s), 'UTC');
    expect(back).toEqual(s);
  });

  it('has defaults', () => {
    expect(decodeState('', 'Asia/Tokyo')).toEqual({ q: '', from: '-15m', to: 'now', tz: 'Asia/Tokyo', tab: 'messages', cols: [], run: false });
    expect(decodeState('?q=error&tab=bogus', 'UTC').tab).toBe('messages');
    expect(decodeState('?q=error', 'UTC').run).toBe(true);
    expect(decodeState('?q=error&run=0', 'UTC').run).toBe(false);
  });

  it('leaves defaults out of links and escapes the query', () => {
    const url = searchURL({ q: 'a&b=c', from: '-15m', to: 'now', tz: 'UTC', tab: 'messages', cols: [], run: true });
    expect(url).toBe('/search?q=a%26b%3Dc&from=-15m&to=now&tz=UTC');
  });
});
