// Client-side navigation between the app's pages: history.pushState plus
// an event the app listens to (the browser's back button fires popstate).

export const NAV_EVENT = 'dohyo:navigate';

/** navigate opens a client route (a path with its query string). */
export function navigate(to: string, replace = false) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAV_EVENT));
}

/** navClick makes a plain link navigate in the app (new tabs and modified clicks keep the browser's behaviour). */
export function navClick(e: MouseEvent) {
  const a = e.currentTarget as HTMLAnchorElement;
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return;
  e.preventDefault();
  navigate(a.getAttribute('href') || '/');
}
