// The Sumo Logic query language for CodeMirror 6: highlighting (a stream
// tokenizer), completion of operators, field names and values, and the
// server's query errors as diagnostics.

import { StreamLanguage, type StringStream } from '@codemirror/language';
import type { CompletionContext, CompletionResult, Completion } from '@codemirror/autocomplete';
import type { Diagnostic } from '@codemirror/lint';
import type { QueryProblem } from '../lib/api';
import { problemOffset } from '../lib/api';
import { fieldRef, quoteValue } from '../lib/text';

export const OPERATORS = [
  'parse', 'extract', 'json', 'keyvalue', 'kv', 'csv', 'split', 'xml', 'where', 'filter',
  'count', 'count_distinct', 'count_frequent', 'sum', 'avg', 'min', 'max', 'pct', 'median', 'stddev',
  'first', 'last', 'most_recent', 'least_recent', 'values', 'topk',
  'timeslice', 'transpose', 'bin', 'fields', 'sort', 'order', 'limit', 'top', 'dedup', 'accum', 'diff', 'total',
  'rollingstd', 'smooth', 'backshift', 'fillmissing', 'sessionize', 'transactionize', 'merge', 'trace',
  'lookup', 'geoip', 'threatip', 'save', 'join', 'cat', 'details',
  'compare', 'outlier', 'predict', 'logreduce', 'logcompare',
];

const OPERATOR_INFO: Record<string, string> = {
  count: 'count [by field, ...]',
  parse: 'parse "start*end" as field',
  json: 'json field=_raw "key" [as name]',
  where: 'where <condition>',
  timeslice: 'timeslice 5m',
  sort: 'sort by field [asc|desc]',
  top: 'top 10 field [by count]',
  logreduce: 'logreduce — cluster messages into signatures',
  logcompare: 'logcompare timeshift -24h',
  fields: 'fields a, b  /  fields - a',
  limit: 'limit 100',
};

export const FUNCTIONS = [
  'if', 'isNull', 'isEmpty', 'isBlank', 'isNumeric', 'isValidIP', 'isPrivateIP', 'isPublicIP', 'contains', 'matches',
  'concat', 'format', 'length', 'substring', 'toLowerCase', 'toUpperCase', 'trim', 'replace', 'indexOf', 'urlDecode',
  'urlEncode', 'base64Decode', 'num', 'toLong', 'round', 'abs', 'ceil', 'floor', 'now', 'formatDate', 'parseDate',
];

const KEYWORDS = new Set(['and', 'or', 'not']);
const MODIFIERS = new Set(['as', 'by', 'on', 'in', 'from', 'nodrop', 'asc', 'desc', 'multi', 'field', 'timeshift', 'baseline']);
const OPERATOR_SET = new Set(OPERATORS);
const METADATA = ['_sourceCategory', '_sourceHost', '_sourceName', '_source', '_collector', '_raw', '_messageTime', '_receiptTime', '_size', '_format', '_view', '_index'];

interface State {
  afterPipe: boolean;
  inComment: boolean;
}

export const sumoLanguage = StreamLanguage.define<State>({
  name: 'sumo',
  startState: () => ({ afterPipe: false, inComment: false }),
  token(stream: StringStream, state: State): string | null {
    if (state.inComment) {
      if (stream.skipTo('*/')) {
        stream.pos += 2;
        state.inComment = false;
      } else stream.skipToEnd();
      return 'comment';
    }
    if (stream.eatSpace()) return null;
    if (stream.match('//')) {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.match('/*')) {
      state.inComment = true;
      return 'comment';
    }
    const ch = stream.peek();
    if (ch === '"') {
      stream.next();
      let escaped = false;
      let c: string | void;
      while ((c = stream.next()) != null) {
        if (c === '"' && !escaped) break;
        escaped = !escaped && c === '\\';
      }
      return 'string';
    }
    if (ch === '|') {
      stream.next();
      state.afterPipe = true;
      return 'operator';
    }
    if (ch === '%' && stream.match(/^%"(?:[^"\\]|\\.)*"/)) return 'propertyName';
    if (stream.match(/^(?:!=|<=|>=|==|<>|[=<>!+\-*/,()[\]])/)) {
      return stream.current() === '(' || stream.current() === ')' || stream.current() === ',' ? 'punctuation' : 'operator';
    }
    if (stream.match(/^-?\d+(?:\.\d+)?(?:[smhdw]|ms)?\b/)) {
      state.afterPipe = false;
      return 'number';
    }
    if (stream.match(/^[^\s|"()=<>!,]+/)) {
      const word = stream.current();
      const lower = word.toLowerCase();
      const wasAfterPipe = state.afterPipe;
      state.afterPipe = false;
      if (wasAfterPipe && OPERATOR_SET.has(lower)) return 'keyword';
      if (KEYWORDS.has(lower)) return 'keyword';
      if (MODIFIERS.has(lower)) return 'modifier';
      if (stream.peek() === '(') return 'function';
      if (/^_[A-Za-z]/.test(word)) return 'propertyName';
      if (/^\s*!?=/.test(stream.string.slice(stream.pos))) return 'propertyName';
      if (word.includes('*') || word.includes('?')) return 'regexp';
      return 'variableName';
    }
    stream.next();
    return null;
  },
  languageData: { commentTokens: { line: '//', block: { open: '/*', close: '*/' } } },
});

// ---- completion ----

export interface FieldSuggestion {
  name: string;
  count: number;
  top: { value: string; count: number }[];
}

/** completeSumo returns a completion source fed by the current results' fields. */
export function completeSumo(fields: () => FieldSuggestion[]) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const line = ctx.state.doc.lineAt(ctx.pos);
    const before = line.text.slice(0, ctx.pos - line.from);
    // field=value: complete the value from the field's top values.
    const valueMatch = /([A-Za-z_][\w.]*|%"[^"]*")\s*(!?=)\s*("?[^\s"|()]*)$/.exec(before);
    if (valueMatch) {
      const name = valueMatch[1].replace(/^%"|"$/g, '').toLowerCase();
      const f = fields().find((f) => f.name.toLowerCase() === name);
      if (f && f.top.length) {
        const typed = valueMatch[3];
        return {
          from: ctx.pos - typed.length,
          options: f.top.map((t, i) => ({ label: quoteValue(t.value), detail: `${t.count}`, type: 'text', boost: -i })),
          validFor: /^"?[^\s"|()]*$/,
        };
      }
    }
    const word = ctx.matchBefore(/[%\w.]*/);
    if (!word || (word.from === word.to && !ctx.explicit)) return null;
    // Right after a pipe: operators.
    const head = before.slice(0, before.length - (word.to - word.from));
    if (/\|\s*$/.test(head) || (/^\s*$/.test(head) && line.number > 1 && /\|\s*$/.test(ctx.state.doc.line(line.number - 1).text))) {
      return {
        from: word.from,
        options: OPERATORS.map((op) => ({ label: op, type: 'keyword', detail: OPERATOR_INFO[op] ?? '' })),
        validFor: /^\w*$/,
      };
    }
    const opts: Completion[] = [];
    const seen = new Set<string>();
    for (const f of fields()) {
      seen.add(f.name.toLowerCase());
      opts.push({ label: fieldRef(f.name), type: 'property', detail: `${f.count} messages`, boost: 2 });
    }
    for (const m of METADATA) if (!seen.has(m.toLowerCase())) opts.push({ label: m, type: 'property', detail: 'metadata' });
    if (/\|/.test(head)) for (const fn of FUNCTIONS) opts.push({ label: fn, type: 'function', apply: fn + '(' });
    for (const k of ['AND', 'OR', 'NOT']) opts.push({ label: k, type: 'keyword', boost: -5 });
    return { from: word.from, options: opts, validFor: /^[%\w.]*$/ };
  };
}

// ---- diagnostics ----

/** problemDiagnostic turns a server query error into an underline at its position. */
export function problemDiagnostic(doc: string, p: QueryProblem): Diagnostic {
  const from = Math.min(problemOffset(doc, p.line, p.column), doc.length);
  // Underline the token at the position (at least one character).
  let to = from;
  while (to < doc.length && !/[\s|()]/.test(doc[to])) to++;
  if (to === from) to = Math.min(doc.length, from + 1);
  const start = to === from && from > 0 ? from - 1 : from;
  return {
    from: start,
    to,
    severity: 'error',
    message: p.message + (p.hint ? ` — ${p.hint}` : ''),
    source: 'dohyo',
  };
}
