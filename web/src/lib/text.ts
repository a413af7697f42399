// Log text is hostile: it is only ever put into the page as text nodes
// (never as HTML), and before that, terminal escape sequences are removed,
// control and bidirectional-override characters are made visible, and very
// long messages are cut for display.

// ANSI / VT escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or
// ESC \), other two-character escapes, and the 8-bit CSI.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// C0 controls other than tab and newline, DEL, C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// Bidirectional overrides and isolates (they could reorder the text around
// them) and other invisible formatting characters.
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/** cleanText makes a log message safe and readable as plain text. */
export function cleanText(s: string): string {
  let out = s;
  if (out.includes('\r\n')) out = out.replace(/\r\n/g, '\n');
  if (out.includes('\x1b') || out.includes('\x9b')) out = out.replace(ANSI, '');
  out = out.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code); // ␀..␟
    if (code === 0x7f) return '\u2421'; // ␡
    return '\ufffd';
  });
  out = out.replace(BIDI, '\ufffd');
  return out;
}

/** DISPLAY_LIMIT is how many characters of a message are shown before "show all". */
export const DISPLAY_LIMIT = 3000;
/** LINE_LIMIT is how many lines of a message are shown before "show all". */
export const LINE_LIMIT = 40;

/** clip cuts a message for display; cut tells whether it was. */
export function clip(s: string, chars = DISPLAY_LIMIT, lines = LINE_LIMIT): { text: string; cut: boolean } {
  let end = Math.min(s.length, chars);
  let nl = -1;
  for (let i = 0; i < lines; i++) {
    nl = s.indexOf('\n', nl + 1);
    if (nl < 0 || nl >= end) break;
    if (i === lines - 1) end = nl;
  }
  return end < s.length ? { text: s.slice(0, end), cut: true } : { text: s, cut: false };
}

// ---- search terms ----

/**
 * searchTerms returns the keywords and phrases of a query's scope (the part
 * before the first "|") that a matching message contains: not field=value
 * filters, not AND/OR/NOT, not negated terms.
 */
export function searchTerms(query: string): string[] {
  const scope = scopeOf(query);
  const tokens = tokenize(scope);
  const out: string[] = [];
  let negate = false;
  let depth = 0;
  let negDepth = -1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'open') {
      if (negate) {
        negDepth = depth;
        negate = false;
      }
      depth++;
      continue;
    }
    if (t.kind === 'close') {
      depth--;
      if (negDepth === depth) negDepth = -1;
      continue;
    }
    const word = t.text;
    if (t.kind === 'word') {
      const up = word.toUpperCase();
      if (up === 'AND' || up === 'OR') continue;
      if (up === 'NOT' || word === '!') {
        negate = true;
        continue;
      }
    }
    const inNeg = negDepth >= 0 || negate;
    negate = false;
    if (inNeg) continue;
    if (t.kind === 'field') continue;
    if (t.kind === 'word' && word.startsWith('!')) continue;
    const term = t.kind === 'phrase' ? word : word;
    if (term.replace(/[*?]/g, '') === '') continue;
    if (!out.includes(term)) out.push(term);
  }
  return out;
}

/** scopeOf returns the text before the first "|" outside quotes and comments. */
export function scopeOf(query: string): string {
  let inStr = false;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '|') return query.slice(0, i);
    else if (c === '/' && query[i + 1] === '/') {
      const nl = query.indexOf('\n', i);
      if (nl < 0) return query.slice(0, i);
      i = nl;
    }
  }
  return query;
}

interface Token {
  kind: 'word' | 'phrase' | 'field' | 'open' | 'close';
  text: string;
}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      i = end < 0 ? s.length : end + 2;
      continue;
    }
    if (c === '(') {
      out.push({ kind: 'open', text: c });
      i++;
      continue;
    }
    if (c === ')') {
      out.push({ kind: 'close', text: c });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        text += s[j];
        j++;
      }
      out.push({ kind: 'phrase', text });
      i = j + 1;
      continue;
    }
    // A word runs to whitespace or a parenthesis; a word with "=" (outside
    // quotes) is a field filter, whose quoted value belongs to it.
    let j = i;
    let field = false;
    while (j < s.length && !/[\s()]/.test(s[j])) {
      if (s[j] === '=' || (s[j] === '!' && s[j + 1] === '=')) field = true;
      if (s[j] === '"') {
        j++;
        while (j < s.length && s[j] !== '"') {
          if (s[j] === '\\') j++;
          j++;
        }
      }
      j++;
    }
    const text = s.slice(i, j);
    if (text === '!' || text === 'NOT') out.push({ kind: 'word', text });
    else out.push({ kind: field ? 'field' : 'word', text });
    i = j;
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** termsRegExp builds the case-insensitive pattern that finds the terms (null when none). */
export function termsRegExp(terms: string[]): RegExp | null {
  // Terms match whole tokens, as the search does: "error" is not marked
  // inside "receiveErrorResponse".
  const tok = '[\\p{L}\\p{N}_]';
  const parts = terms
    .filter((t) => t.replace(/[*?]/g, '') !== '')
    .map((t) => {
      const body = t
        .split(/([*?])/)
        .map((p) => (p === '*' ? tok + '*' : p === '?' ? tok : escapeRegExp(p)))
        .join('');
      const before = /^[\p{L}\p{N}_]/u.test(t) ? `(?<!${tok})` : '';
      const after = /[\p{L}\p{N}_]$/u.test(t) ? `(?!${tok})` : '';
      return before + body + after;
    })
    // Longer terms first, so that "error code" wins over "error".
    .sort((a, b) => b.length - a.length);
  if (!parts.length) return null;
  try {
    return new RegExp(parts.join('|'), 'giu');
  } catch {
    return null;
  }
}

export interface Segment {
  text: string;
  hit: boolean;
}

/** segments splits text into runs, marking those that match re. */
export function segments(text: string, re: RegExp | null, maxHits = 500): Segment[] {
  if (!re || !text) return [{ text, hit: false }];
  const out: Segment[] = [];
  re.lastIndex = 0;
  let last = 0;
  let hits = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0] === '') {
      re.lastIndex++;
      continue;
    }
    if (m.index > last) out.push({ text: text.slice(last, m.index), hit: false });
    out.push({ text: m[0], hit: true });
    last = m.index + m[0].length;
    if (++hits >= maxHits) break;
  }
  if (last < text.length) out.push({ text: text.slice(last), hit: false });
  return out;
}

// ---- JSON ----

/** parseJSONMessage returns the parsed value of a JSON object or array message, else undefined. */
export function parseJSONMessage(raw: string): unknown {
  const t = raw.trim();
  if (t.length < 2 || t.length > 500_000) return undefined;
  const first = t[0];
  const last = t[t.length - 1];
  if (!((first === '{' && last === '}') || (first === '[' && last === ']'))) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

// ---- query editing ----

/** quoteValue writes a value for the query language (quoted when needed). */
export function quoteValue(v: string): string {
  if (/^[A-Za-z0-9_./:@-]+$/.test(v) && !/^(and|or|not)$/i.test(v)) return v;
  return '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** fieldRef writes a field name for the query language. */
export function fieldRef(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `%"${name.replace(/"/g, '\\"')}"`;
}

/**
 * addFilter narrows a query to messages whose field has the value: in the
 * scope (before the first "|") when the query has no operators or the field
 * is source metadata, otherwise as a "| where" after them.
 */
export function addFilter(query: string, field: string, value: string, exclude = false): string {
  const scope = scopeOf(query);
  const rest = query.slice(scope.length);
  const isMeta = /^_(source|collector|sourcecategory|sourcehost|sourcename)/i.test(field);
  const op = exclude ? '!=' : '=';
  if (rest === '' || isMeta) {
    const term = `${fieldRef(field)}${op}${quoteValue(value)}`;
    const s = scope.trim();
    const base = s === '' || s === '*' ? term : `${term} ${s}`;
    return rest === '' ? base : `${base} ${rest.replace(/^\s*/, '')}`;
  }
  const v = '"' + value.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  return `${query.trimEnd()}\n| where ${fieldRef(field)} ${op} ${v}`;
}
