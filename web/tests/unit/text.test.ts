import { describe, expect, it } from 'vitest';
import { addFilter, cleanText, clip, parseJSONMessage, searchTerms, segments, termsRegExp } from '../../src/lib/text';
import { parseQueryError, problemOffset } from '../../src/lib/api';

describe('search terms', () => {
  it('takes keywords and phrases from the scope only', () => {
    expect(searchTerms('_sourceCategory=prod/web error "connection refused" | count by host')).toEqual(['error', 'connection refused']);
    expect(searchTerms('error AND (timeout OR fail*) NOT healthcheck')).toEqual(['error', 'timeout', 'fail*']);
    expect(searchTerms('error NOT (a OR b) c')).toEqual(['error', 'c']);
    expect(searchTerms('host="a b" !debug x // comment | y')).toEqual(['x']);
    expect(searchTerms('*')).toEqual([]);
    expect(searchTerms('"a | b" c | count')).toEqual(['a | b', 'c']);
  });

  it('highlights case-insensitively, wildcards included, as text segments', () => {
    const re = termsRegExp(['error', 'fail*']);
    expect(segments('An ERROR: failed to <b>fail</b>', re)).toEqual([
      { text: 'An ', hit: false },
      { text: 'ERROR', hit: true },
      { text: ': ', hit: false },
      { text: 'failed', hit: true },
      { text: ' to <b>', hit: false },
      { text: 'fail', hit: true },
      { text: '</b>', hit: false },
    ]);
    // Regexp metacharacters in terms are literal.
    expect(segments('a (b) c', termsRegExp(['(b)']))).toEqual([
      { text: 'a ', hit: false },
      { text: '(b)', hit: true },
      { text: ' c', hit: false },
    ]);
    expect(termsRegExp(['*'])).toBeNull();
    // Whole tokens only.
    expect(segments('receiveErrorResponse error_code error.', termsRegExp(['error'])).filter((x) => x.hit).length).toBe(1);
    expect(segments('myerror', termsRegExp(['*error'])).filter((x) => x.hit).map((x) => x.text)).toEqual(['myerror']);
    expect(segments('x', null)).toEqual([{ text: 'x', hit: false }]);
  });

  it('bounds the work on huge messages', () => {
    const s = 'a '.repeat(100_000);
    const segs = segments(s, termsRegExp(['a']), 500);
    expect(segs.filter((x) => x.hit).length).toBe(500);
    expect(segs.map((x) => x.text).join('')).toBe(s);
  });
});

describe('hostile text', () => {
  it('removes ANSI escapes and shows control characters', () => {
    expect(cleanText('\x1b[31mRED\x1b[0m plain')).toBe('RED plain');
    expect(cleanText('\x1b]0;title\x07after')).toBe('after');
    expect(cleanText('bell\x07 nul\x00')).toBe('bell\u2407 nul\u2400');
    expect(cleanText('a\u202eb')).toBe('a\ufffdb');
    expect(cleanText('line1\r\nline2\ttab')).toBe('line1\nline2\ttab');
    expect(cleanText('<script>alert(1)</script>')).toBe('<script>alert(1)</script>');
  });

  it('clips long messages by characters and lines', () => {
    expect(clip('x'.repeat(10), 5)).toEqual({ text: 'xxxxx', cut: true });
    expect(clip('a\nb\nc\nd', 100, 2)).toEqual({ text: 'a\nb', cut: true });
    expect(clip('short')).toEqual({ text: 'short', cut: false });
  });

  it('recognises JSON messages', () => {
    expect(parseJSONMessage(' {"a":1} ')).toEqual({ a: 1 });
    expect(parseJSONMessage('[1,2]')).toEqual([1, 2]);
    expect(parseJSONMessage('{not json}')).toBeUndefined();
    expect(parseJSONMessage('plain')).toBeUndefined();
  });
});

describe('query editing', () => {
  it('adds field filters in the scope or as where', () => {
    expect(addFilter('error', '_sourcehost', 'web-1')).toBe('_sourcehost=web-1 error');
    expect(addFilter('', 'env', 'prod')).toBe('env=prod');
    expect(addFilter('*', 'env', 'a "b"')).toBe('env="a \\"b\\""');
    expect(addFilter('error | parse "x=*" as x', '_sourcehost', 'h')).toBe('_sourcehost=h error | parse "x=*" as x');
    expect(addFilter('error | json "user"', 'user', 'bob')).toBe('error | json "user"\n| where user = "bob"');
    expect(addFilter('error', 'env', 'prod', true)).toBe('env!=prod error');
    expect(addFilter('error', 'odd-name', 'x')).toBe('%"odd-name"=x error');
  });
});

describe('query errors', () => {
  it('reads the position and hint', () => {
    expect(parseQueryError('line 1, column 9: unknown operator "cout"; did you mean "count"?')).toEqual({ line: 1, column: 9, message: 'unknown operator "cout"', hint: 'did you mean "count"?' });
    expect(parseQueryError('line 2, column 3: unexpected "; x"')).toEqual({ line: 2, column: 3, message: 'unexpected "; x"', hint: '' });
    expect(parseQueryError('the query is empty')).toBeNull();
  });

  it('maps columns (code points) to editor offsets', () => {
    expect(problemOffset('error | cout', 1, 9)).toBe(8);
    expect(problemOffset('a\nbc | x', 2, 4)).toBe(5);
    expect(problemOffset('😀 | x', 1, 5)).toBe(5); // the emoji is 2 UTF-16 units
  });
});
