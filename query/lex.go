package query

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenType identifies the kind of a token.
type tokenType int

const (
	tokEOF   tokenType = iota
	tokError           // a lexical error; token.err says what
	// tokTerm is a search term in the scope (letters, digits, the wildcards *
	// and ?, and the punctuation Sumo allows in unquoted terms), and an
	// identifier (or a number with a unit, such as 1h) after the first "|".
	tokTerm
	tokNumber // a number after the first "|": 12, 1.5, 2e3
	tokString // "..." (and '...' after the first "|"); val holds the contents
	tokField  // %"field name"; val holds the name
	tokParam  // {{name}}: a dashboard template parameter; val holds the name
	tokPipe   // |
	tokLParen
	tokRParen
	tokComma
	tokEq    // =
	tokNeq   // !=
	tokNot   // !
	tokEqEq  // ==
	tokLT    // <
	tokLTE   // <=
	tokGT    // >
	tokGTE   // >=
	tokLTGT  // <>
	tokPlus  // +
	tokMinus // -
	tokStar  // *
	tokSlash // /
	tokPercent
	tokAndAnd // &&
	tokOrOr   // ||
	tokQuestion
	tokColon
	tokDot
	tokLBracket
	tokRBracket
	// tokRegex is a /regular expression/ literal; val holds the pattern
	// between the slashes, as written. The lexer never produces it on its
	// own: a "/" lexes as tokSlash, and the expression parser, where it
	// expects an operand, asks for the regex there (lexer.relexRegex).
	tokRegex
)

var tokenNames = map[tokenType]string{
	tokEOF: "end of query", tokError: "error", tokTerm: "term", tokNumber: "number",
	tokString: "string", tokField: "field name", tokParam: "template parameter",
	tokPipe: `"|"`, tokLParen: `"("`, tokRParen: `")"`, tokComma: `","`, tokEq: `"="`,
	tokNeq: `"!="`, tokNot: `"!"`, tokEqEq: `"=="`, tokLT: `"<"`, tokLTE: `"<="`, tokGT: `">"`,
	tokGTE: `">="`, tokLTGT: `"<>"`, tokPlus: `"+"`, tokMinus: `"-"`, tokStar: `"*"`,
	tokSlash: `"/"`, tokPercent: `"%"`, tokAndAnd: `"&&"`, tokOrOr: `"||"`, tokQuestion: `"?"`,
	tokColon: `":"`, tokDot: `"."`, tokLBracket: `"["`, tokRBracket: `"]"`,
	tokRegex: "regular expression",
}

func (t tokenType) String() string {
	if s, ok := tokenNames[t]; ok {
		return s
	}
	return fmt.Sprintf("token(%d)", int(t))
}

// token is one lexical unit with its position.
type token struct {
	typ    tokenType
	pos    Pos
	end    int    // byte offset just after the token
	text   string // the token's source text
	val    string // term text, string contents, field name or parameter name
	params bool   // a term with embedded {{parameters}}
	single bool   // a single-quoted string
	err    *Error // set for tokError
}

// describe names the token for error messages: `"cout"`, `"|"`, `end of query`.
func (t token) describe() string {
	switch t.typ {
	case tokEOF:
		return "end of query"
	case tokTerm, tokNumber, tokString, tokField, tokParam, tokRegex:
		s := t.text
		if utf8.RuneCountInString(s) > 40 {
			s = string([]rune(s)[:37]) + "..."
		}
		return fmt.Sprintf("%q", s)
	}
	return t.typ.String()
}

// lexer turns query text into tokens on demand. It starts in scope mode, where
// terms may contain punctuation, and switches to pipeline mode at the first
// "|", where words are identifiers and punctuation are operators.
type lexer struct {
	input     string
	offset    int
	line, col int
	pipeline  bool
	failed    bool
}

func newLexer(input string) *lexer {
	return &lexer{input: input, line: 1, col: 1}
}

func (l *lexer) here() Pos { return Pos{Offset: l.offset, Line: l.line, Column: l.col} }

// peek decodes the rune at offset+ahead bytes; at the end it returns -1.
func (l *lexer) peekAt(ahead int) (rune, int) {
	i := l.offset + ahead
	if i >= len(l.input) {
		return -1, 0
	}
	c := l.input[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(l.input[i:])
}

func (l *lexer) peek() (rune, int) { return l.peekAt(0) }

// advance moves past one rune of width w.
func (l *lexer) advance(r rune, w int) {
	l.offset += w
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
}

func (l *lexer) errorToken(pos Pos, format string, args ...any) token {
	l.failed = true
	return token{typ: tokError, pos: pos, end: l.offset, err: errorf(pos, format, args...)}
}

func (l *lexer) token(typ tokenType, start Pos) token {
	text := l.input[start.Offset:l.offset]
	return token{typ: typ, pos: start, end: l.offset, text: text, val: text}
}

// next returns the next token. After an error or the end it keeps
// returning the same kind of token.
func (l *lexer) next() token {
	if l.failed {
		return token{typ: tokError, pos: l.here(), end: l.offset, err: errorf(l.here(), "lexer stopped after an error")}
	}
	if t, ok := l.skipSpaceAndComments(); !ok {
		return t
	}
	start := l.here()
	r, w := l.peek()
	if r < 0 {
		return token{typ: tokEOF, pos: start, end: l.offset}
	}
	if r == utf8.RuneError && w == 1 {
		return l.errorToken(start, "invalid UTF-8 in the query")
	}
	r2, _ := l.peekAt(w)
	switch {
	case r == '"':
		return l.lexString(start, '"', tokString)
	case r == '%' && r2 == '"':
		l.advance(r, w)
		t := l.lexString(start, '"', tokField)
		if t.typ == tokField && t.val == "" {
			return l.errorToken(start, "empty field name %%\"\"")
		}
		return t
	case r == '{' && r2 == '{' && l.pipeline:
		return l.lexParamToken(start)
	case r == '|':
		l.advance(r, w)
		if l.pipeline && r2 == '|' {
			l.advance(r2, 1)
			return l.token(tokOrOr, start)
		}
		l.pipeline = true
		return l.token(tokPipe, start)
	case r == '(':
		l.advance(r, w)
		return l.token(tokLParen, start)
	case r == ')':
		l.advance(r, w)
		return l.token(tokRParen, start)
	case r == ',':
		l.advance(r, w)
		return l.token(tokComma, start)
	case r == '=':
		l.advance(r, w)
		if r2 == '=' {
			l.advance(r2, 1)
			return l.token(tokEqEq, start)
		}
		return l.token(tokEq, start)
	case r == '!':
		l.advance(r, w)
		if r2 == '=' {
			l.advance(r2, 1)
			return l.token(tokNeq, start)
		}
		return l.token(tokNot, start)
	case r == '<':
		l.advance(r, w)
		switch r2 {
		case '=':
			l.advance(r2, 1)
			return l.token(tokLTE, start)
		case '>':
			l.advance(r2, 1)
			return l.token(tokLTGT, start)
		}
		return l.token(tokLT, start)
	case r == '>':
		l.advance(r, w)
		if r2 == '=' {
			l.advance(r2, 1)
			return l.token(tokGTE, start)
		}
		return l.token(tokGT, start)
	case r == '\'' && l.pipeline:
		return l.lexString(start, '\'', tokString)
	case r == '\'':
		return l.errorToken(start, "unexpected single quote").withHint("put phrases in double quotes")
	}
	if !l.pipeline {
		if isScopeTermRune(r) || (r == '{' && r2 == '{') {
			return l.lexScopeTerm(start)
		}
		return l.unexpected(start, r)
	}
	return l.lexPipelineToken(start, r, w, r2)
}

func (l *lexer) unexpected(start Pos, r rune) token {
	if unicode.IsControl(r) {
		return l.errorToken(start, "unexpected control character %U", r)
	}
	t := l.errorToken(start, "unexpected character %q", r)
	if !l.pipeline {
		t.err.Hint = "put terms with special characters in double quotes"
	}
	return t
}

func (t token) withHint(format string, args ...any) token {
	if t.err != nil {
		t.err.withHint(format, args...)
	}
	return t
}

// skipSpaceAndComments skips whitespace, // line comments and /* block
// comments */. A comment starts wherever a token could: between tokens,
// never inside a term (http://host/path is one term) or a string; a term
// therefore never begins with // or /*. It returns ok=false and an error
// token for an unterminated block comment.
func (l *lexer) skipSpaceAndComments() (token, bool) {
	for {
		r, w := l.peek()
		switch {
		case r < 0:
			return token{}, true
		case unicode.IsSpace(r):
			l.advance(r, w)
		case r == '/':
			r2, _ := l.peekAt(1)
			switch r2 {
			case '/':
				for {
					r, w := l.peek()
					if r < 0 || r == '\n' {
						break
					}
					l.advance(r, w)
				}
			case '*':
				start := l.here()
				end := strings.Index(l.input[l.offset+2:], "*/")
				if end < 0 {
					return l.errorToken(start, "unterminated comment: /* without */"), false
				}
				stop := l.offset + 2 + end + 2
				for l.offset < stop {
					r, w := l.peek()
					l.advance(r, w)
				}
			default:
				return token{}, true
			}
		default:
			return token{}, true
		}
	}
}

// isScopeTermRune reports whether r may appear in an unquoted scope term:
// letters, digits, the wildcards * and ?, the punctuation Sumo allows
// (- _ : / . + @ # $ % ^ \) and any other non-ASCII character that is not a
// space or a control character.
func isScopeTermRune(r rune) bool {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return true
		}
		return strings.ContainsRune("_*?-:/.+@#$%^\\", r)
	}
	return !unicode.IsSpace(r) && !unicode.IsControl(r)
}

// isIdentRune reports whether r may appear in an identifier after the first
// "|": letters, digits and underscore.
func isIdentRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// lexScopeTerm lexes a scope term, which may embed {{parameters}}. A term
// that is exactly one parameter is a tokParam.
func (l *lexer) lexScopeTerm(start Pos) token {
	params := 0
	onlyParam := true
	for {
		r, w := l.peek()
		if r == '{' {
			if r2, _ := l.peekAt(1); r2 == '{' {
				ps := l.here()
				if t, ok := l.lexParam(ps); !ok {
					return t
				}
				params++
				continue
			}
			break
		}
		if r == utf8.RuneError && w == 1 {
			return l.errorToken(l.here(), "invalid UTF-8 in the query")
		}
		if r < 0 || !isScopeTermRune(r) {
			break
		}
		onlyParam = false
		l.advance(r, w)
	}
	t := l.token(tokTerm, start)
	if n := utf8.RuneCountInString(t.text); n > MaxTokenLength {
		return l.errorToken(start, "term is %d characters long; the limit is %d", n, MaxTokenLength)
	}
	if params > 0 {
		if params == 1 && onlyParam {
			t.typ = tokParam
			t.val = paramName(t.text)
		} else {
			t.params = true
		}
	}
	return t
}

func (l *lexer) lexParamToken(start Pos) token {
	if t, ok := l.lexParam(start); !ok {
		return t
	}
	t := l.token(tokParam, start)
	t.val = paramName(t.text)
	return t
}

// paramName returns the name inside "{{ name }}".
func paramName(text string) string {
	return strings.TrimSpace(text[2 : len(text)-2])
}

// lexParam consumes "{{name}}" at the current offset.
func (l *lexer) lexParam(start Pos) (token, bool) {
	rest := l.input[l.offset+2:]
	end := strings.Index(rest, "}}")
	if end < 0 || strings.IndexByte(rest[:end], '\n') >= 0 {
		return l.errorToken(start, "unterminated template parameter: {{ without }}"), false
	}
	name := strings.TrimSpace(rest[:end])
	if name == "" {
		return l.errorToken(start, "empty template parameter {{}}"), false
	}
	for _, r := range name {
		if !isIdentRune(r) && r != '-' && r != '.' {
			return l.errorToken(start, "invalid template parameter name %q", name).
				withHint("names may contain letters, digits, _, - and ."), false
		}
	}
	stop := l.offset + 2 + end + 2
	for l.offset < stop {
		r, w := l.peek()
		l.advance(r, w)
	}
	return token{}, true
}

// lexString lexes a quoted string starting at the current offset (the
// opening quote). The only escapes are \<quote> and \\; any other backslash
// is kept as is.
func (l *lexer) lexString(start Pos, quote rune, typ tokenType) token {
	l.advance(quote, 1)
	var b strings.Builder
	for {
		r, w := l.peek()
		switch {
		case r < 0:
			what := "string"
			if typ == tokField {
				what = "field name"
			}
			return l.errorToken(start, "unterminated %s: missing closing %c", what, quote)
		case r == utf8.RuneError && w == 1:
			return l.errorToken(l.here(), "invalid UTF-8 in the query")
		case r == '\\':
			r2, w2 := l.peekAt(1)
			if r2 == quote || r2 == '\\' {
				l.advance(r, w)
				l.advance(r2, w2)
				b.WriteRune(r2)
				continue
			}
			l.advance(r, w)
			b.WriteRune(r)
		case r == quote:
			l.advance(r, w)
			t := l.token(typ, start)
			t.val = b.String()
			t.single = quote == '\''
			if n := utf8.RuneCountInString(t.val); n > MaxTokenLength {
				return l.errorToken(start, "string is %d characters long; the limit is %d", n, MaxTokenLength)
			}
			return t
		default:
			l.advance(r, w)
			b.WriteRune(r)
		}
	}
}

// lexPipelineToken lexes identifiers, numbers and operators after the first
// "|".
func (l *lexer) lexPipelineToken(start Pos, r rune, w int, r2 rune) token {
	one := func(typ tokenType) token {
		l.advance(r, w)
		return l.token(typ, start)
	}
	two := func(typ tokenType) token {
		l.advance(r, w)
		l.advance(r2, 1)
		return l.token(typ, start)
	}
	switch {
	case isIdentRune(r):
		digit := '0' <= r && r <= '9'
		if digit {
			if t, ok := l.lexNumber(start); ok {
				return t
			}
		}
		for {
			r, w := l.peek()
			if r < 0 || !(isIdentRune(r) || (digit && r == '.')) {
				break
			}
			l.advance(r, w)
		}
		if !digit && strings.HasPrefix(l.input[l.offset:], "://") {
			// A URI scheme (geo://location, path://"..."): keep "://"
			// with the word so that it does not start a comment.
			for range 3 {
				l.advance('/', 1)
			}
			for {
				r, w := l.peek()
				if r < 0 || !(isIdentRune(r) || strings.ContainsRune("/.-_", r)) {
					break
				}
				l.advance(r, w)
			}
		}
		t := l.token(tokTerm, start)
		if n := utf8.RuneCountInString(t.text); n > MaxTokenLength {
			return l.errorToken(start, "word is %d characters long; the limit is %d", n, MaxTokenLength)
		}
		if digit && isNumber(t.text) {
			t.typ = tokNumber
		}
		return t
	case r == '+':
		return one(tokPlus)
	case r == '-':
		return one(tokMinus)
	case r == '*':
		return one(tokStar)
	case r == '/':
		return one(tokSlash)
	case r == '%':
		return one(tokPercent)
	case r == '&' && r2 == '&':
		return two(tokAndAnd)
	case r == '?':
		return one(tokQuestion)
	case r == ':':
		return one(tokColon)
	case r == '.':
		return one(tokDot)
	case r == '[':
		return one(tokLBracket)
	case r == ']':
		return one(tokRBracket)
	}
	return l.unexpected(start, r)
}

// lexNumber lexes a number at the current offset (which holds a digit):
// digits, an optional fraction (.digits) and an optional exponent
// (e or E, an optional sign, digits). It returns ok=false, consuming
// nothing, when letters, digits or a dot follow the number (1h, 5m,
// 1.2.3.4): the caller then lexes a word.
func (l *lexer) lexNumber(start Pos) (token, bool) {
	s := l.input[l.offset:]
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	if i < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[i:]); isIdentRune(r) || r == '.' {
			return token{}, false
		}
	}
	if i > MaxTokenLength {
		return token{}, false // the word lexer reports the length
	}
	for k := 0; k < i; k++ {
		l.advance(rune(s[k]), 1)
	}
	return l.token(tokNumber, start), true
}

// relexRegex re-lexes the input from start (the position of a "/" token
// the parser just received) as a /regular expression/ literal: everything
// up to the next "/" that is neither escaped by a backslash nor inside a
// [character class], on one line. The pattern keeps its backslashes (\/
// stays \/, which RE2 reads as "/").
func (l *lexer) relexRegex(start Pos) token {
	l.offset, l.line, l.col = start.Offset, start.Line, start.Column
	l.failed = false
	l.advance('/', 1)
	inClass := false
	for {
		r, w := l.peek()
		switch {
		case r < 0 || r == '\n' || r == '\r':
			return l.errorToken(start, "unterminated regular expression: missing closing /")
		case r == utf8.RuneError && w == 1:
			return l.errorToken(l.here(), "invalid UTF-8 in the query")
		case r == '\\':
			l.advance(r, w)
			if r2, w2 := l.peek(); r2 >= 0 && r2 != '\n' && r2 != '\r' {
				l.advance(r2, w2)
			}
		case r == '[' && !inClass:
			inClass = true
			l.advance(r, w)
			// A "]" right after "[" or "[^" is a literal.
			if r2, _ := l.peek(); r2 == '^' {
				l.advance(r2, 1)
			}
			if r2, _ := l.peek(); r2 == ']' {
				l.advance(r2, 1)
			}
		case r == ']' && inClass:
			inClass = false
			l.advance(r, w)
		case r == '/' && !inClass:
			l.advance(r, w)
			t := l.token(tokRegex, start)
			t.val = t.text[1 : len(t.text)-1]
			if n := utf8.RuneCountInString(t.val); n > MaxTokenLength {
				return l.errorToken(start, "regular expression is %d characters long; the limit is %d", n, MaxTokenLength)
			}
			return t
		default:
			l.advance(r, w)
		}
	}
}

// isNumber reports whether s is digits with an optional fraction and
// exponent.
func isNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// lexAll returns every token up to the end, or the first error.
func lexAll(input string) ([]token, *Error) {
	l := newLexer(input)
	var toks []token
	for {
		t := l.next()
		switch t.typ {
		case tokError:
			return toks, t.err
		case tokEOF:
			return toks, nil
		}
		toks = append(toks, t)
	}
}
