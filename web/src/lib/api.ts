// The API client: same-origin requests with the session cookie, the CSRF
// token on every state-changing request, errors as ApiError.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface User {
  id: string;
  name: string;
  role: string;
}

export interface Me {
  user: User;
  csrfToken: string;
}

let csrfToken = '';
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(t: string) {
  csrfToken = t;
}

export function setUnauthorizedHandler(fn: () => void) {
  onUnauthorized = fn;
}

export function headers(method: string, json: boolean): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json', 'X-Dohyo-UI': '1' };
  if (json) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  return h;
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = 'error';
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && typeof body === 'object') {
      code = String(body.code ?? code);
      message = String(body.message ?? message);
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, code, message);
}

export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: headers(method, body !== undefined),
    body: body !== undefined ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
    signal,
  });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401 && path !== '/api/v1/login' && onUnauthorized) onUnauthorized();
    throw err;
  }
  return (await res.json()) as T;
}

export const get = <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal);
export const post = <T>(path: string, body: unknown, signal?: AbortSignal) => request<T>('POST', path, body, signal);
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
export const del = <T>(path: string) => request<T>('DELETE', path);

export async function login(username: string, password: string): Promise<Me> {
  const me = await post<Me>('/api/v1/login', { username, password });
  setCsrfToken(me.csrfToken);
  return me;
}

export async function logout(): Promise<void> {
  try {
    await post('/api/v1/logout', {});
  } finally {
    setCsrfToken('');
  }
}

export async function me(): Promise<Me> {
  const m = await get<Me>('/api/v1/me');
  setCsrfToken(m.csrfToken);
  return m;
}

/** stream POSTs and calls onLine for every NDJSON line of the answer. */
export async function streamNDJSON(path: string, body: unknown, signal: AbortSignal, onLine: (v: unknown) => void): Promise<void> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { ...headers('POST', true), Accept: 'application/x-ndjson' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
    signal,
  });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401 && onUnauthorized) onUnauthorized();
    throw err;
  }
  if (!res.body) throw new ApiError(0, 'stream', 'the browser cannot read streamed answers');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
  if (buf.trim()) onLine(JSON.parse(buf));
}

// ---- query errors ----

export interface QueryProblem {
  line: number;
  column: number;
  message: string;
  hint: string;
}

/**
 * parseQueryError reads the server's query error text, "line 1, column 17:
 * unknown operator "cout"; did you mean "count"?", into its parts.
 */
export function parseQueryError(text: string): QueryProblem | null {
  const m = /^line (\d+), column (\d+): ([\s\S]*)$/.exec(text.trim());
  if (!m) return null;
  let message = m[3];
  let hint = '';
  // The hint follows the last "; " outside quotes.
  let inStr = false;
  for (let i = 0; i < message.length; i++) {
    const c = message[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '"') inStr = !inStr;
    else if (!inStr && c === ';' && message[i + 1] === ' ') {
      hint = message.slice(i + 2);
      message = message.slice(0, i);
      break;
    }
  }
  return { line: Number(m[1]), column: Number(m[2]), message, hint };
}

/**
 * problemOffset converts a problem's line and column (1-based, columns in
 * Unicode code points) into a UTF-16 offset in the text.
 */
export function problemOffset(text: string, line: number, column: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  for (let c = 1; c < column && off < text.length; c++) {
    const code = text.charCodeAt(off);
    if (text[off] === '\n') break;
    off += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
  }
  return off;
}
