// The monitors page is loaded on demand: its code stays out of the initial
// bundle until someone opens /monitors.

import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** isMonitorsPath reports whether a path is one of the monitors page's routes. */
export function isMonitorsPath(path: string): boolean {
  return path === '/monitors' || path.startsWith('/monitors/');
}

let loaded: FunctionComponent | null = null;

export function MonitorsRoute() {
  const [Page, setPage] = useState<FunctionComponent | null>(() => loaded);
  const [error, setError] = useState('');
  useEffect(() => {
    if (Page) return;
    import('./MonitorsPage').then(
      (m) => {
        loaded = m.default;
        setPage(() => m.default);
      },
      (e) => setError(`The monitors page did not load: ${(e as Error).message}`),
    );
  }, []);
  if (error) return <div class="error-text">{error}</div>;
  return Page ? <Page /> : <div class="empty">Loading…</div>;
}
