// The search page's whole state lives in the URL, so that a search can be
// shared by link and the browser's back button works:
//
//   /search?q=<query>&from=-15m&to=now&tz=Europe/Paris&tab=messages&cols=a,b

export type Tab = 'messages' | 'aggregates' | 'fields' | 'logreduce' | 'tail';

export const TABS: Tab[] = ['messages', 'aggregates', 'logreduce', 'tail'];

export interface SearchState {
  q: string;
  from: string;
  to: string;
  tz: string;
  tab: Tab;
  /** fields shown as columns in the messages view */
  cols: string[];
  /** run: whether opening the link runs the search (default yes when q is set) */
  run: boolean;
}

export const DEFAULT_FROM = '-15m';
export const DEFAULT_TO = 'now';

export function defaultState(tz: string): SearchState {
  return { q: '', from: DEFAULT_FROM, to: DEFAULT_TO, tz, tab: 'messages', cols: [], run: false };
}

function isTab(s: string | null): s is Tab {
  return s === 'messages' || s === 'aggregates' || s === 'fields' || s === 'logreduce' || s === 'tail';
}

/** decodeState reads the state from a URL's query string. */
export function decodeState(search: string, defaultTz: string): SearchState {
  const p = new URLSearchParams(search);
  const s = defaultState(defaultTz);
  s.q = p.get('q') ?? '';
  s.from = p.get('from') || DEFAULT_FROM;
  s.to = p.get('to') || DEFAULT_TO;
  s.tz = p.get('tz') || defaultTz;
  const tab = p.get('tab');
  if (isTab(tab)) s.tab = tab;
  const cols = p.get('cols');
  s.cols = cols ? cols.split(',').map((c) => c.trim()).filter(Boolean) : [];
  s.run = s.q !== '' && p.get('run') !== '0';
  return s;
}

/** encodeState writes the state as a query string (with the leading "?"). */
export function encodeState(s: SearchState): string {
  const p = new URLSearchParams();
  p.set('q', s.q);
  p.set('from', s.from);
  p.set('to', s.to);
  p.set('tz', s.tz);
  if (s.tab !== 'messages') p.set('tab', s.tab);
  if (s.cols.length) p.set('cols', s.cols.join(','));
  return '?' + p.toString();
}

/** searchURL is a link to a search. */
export function searchURL(s: SearchState): string {
  return '/search' + encodeState(s);
}
