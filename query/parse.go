package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ParseOptions tune the parser.
type ParseOptions struct {
	// AllowParams accepts {{template parameters}} where a term, a field
	// value or a field name may stand, so that a dashboard query can be
	// checked without values. A query holding parameters cannot be compiled;
	// substitute them first (SubstituteParams).
	AllowParams bool
}

// Parse parses a query. Template parameters are rejected: substitute them
// first. The error, if any, is an *Error that gives the position of the
// first problem.
func Parse(text string) (*Query, error) {
	return ParseWithOptions(text, ParseOptions{})
}

// ParseWithOptions parses a query with options.
func ParseWithOptions(text string, opt ParseOptions) (*Query, error) {
	q, err := parse(text, opt)
	if err != nil {
		return nil, err
	}
	return q, nil
}

func parse(text string, opt ParseOptions) (*Query, *Error) {
	if n := utf8.RuneCountInString(text); n > MaxQueryLength {
		return nil, errorf(posAt(text, runeOffset(text, MaxQueryLength)),
			"the query is %d characters long; the limit is %d", n, MaxQueryLength)
	}
	p := &parser{lex: newLexer(text), opt: opt}
	p.advance()
	return p.parseQuery()
}

// stageParser parses one stage. It is called with the operator's name as the
// current token and must leave the parser at the "|" or the end after it.
type stageParser func(p *parser) (Stage, *Error)

var stageParsers = map[string]stageParser{}

// registerStage makes an operator known to the parser. Operator files call
// it from init.
func registerStage(name string, fn stageParser) { stageParsers[name] = fn }

// parser is a recursive-descent parser with one token of lookahead.
type parser struct {
	lex *lexer
	tok token
	opt ParseOptions
}

func (p *parser) advance() { p.tok = p.lex.next() }

// isWord reports whether the current token is the word w (any case).
func (p *parser) isWord(w string) bool {
	return p.tok.typ == tokTerm && !p.tok.params && strings.EqualFold(p.tok.text, w)
}

// fail turns the current token into the error: the lexer's own error, or
// "expected <what>, found <token>".
func (p *parser) fail(format string, args ...any) *Error {
	if p.tok.typ == tokError {
		return p.tok.err
	}
	return errorf(p.tok.pos, "%s, found %s", fmt.Sprintf(format, args...), p.tok.describe())
}

func (p *parser) parseQuery() (*Query, *Error) {
	scope, err := p.parseScope()
	if err != nil {
		return nil, err
	}
	q := &Query{Scope: scope}
	for p.tok.typ == tokPipe {
		pipe := p.tok
		p.advance()
		st, err := p.parseStage(pipe)
		if err != nil {
			return nil, err
		}
		q.Stages = append(q.Stages, st)
	}
	switch p.tok.typ {
	case tokEOF:
		return q, nil
	case tokError:
		return nil, p.tok.err
	}
	return nil, p.fail(`expected "|" or the end of the query`)
}

// ---- scope ----

func (p *parser) parseScope() (Expr, *Error) {
	switch p.tok.typ {
	case tokError:
		return nil, p.tok.err
	case tokPipe, tokEOF:
		return &All{Pos: p.tok.pos}, nil
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch p.tok.typ {
	case tokPipe, tokEOF:
		return e, nil
	case tokRParen:
		return nil, errorf(p.tok.pos, `unexpected ")" without a matching "("`)
	}
	return nil, p.fail("expected a search term")
}

// startsTerm reports whether the current token can start a scope term.
func (p *parser) startsTerm() bool {
	switch p.tok.typ {
	case tokTerm:
		return !p.isWord("and") && !p.isWord("or")
	case tokString, tokLParen, tokNot, tokParam, tokField:
		return true
	}
	return false
}

func (p *parser) parseOr() (Expr, *Error) {
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	terms := appendFlat(nil, first, false)
	for p.isWord("or") {
		op := p.tok
		p.advance()
		if !p.startsTerm() {
			return nil, p.fail("expected a search term after %s", strings.ToUpper(op.text))
		}
		t, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		terms = appendFlat(terms, t, false)
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &Or{Pos: first.Position(), Terms: terms}, nil
}

func (p *parser) parseAnd() (Expr, *Error) {
	first, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	terms := appendFlat(nil, first, true)
	for {
		if p.isWord("and") {
			op := p.tok
			p.advance()
			if !p.startsTerm() {
				return nil, p.fail("expected a search term after %s", strings.ToUpper(op.text))
			}
		} else if !p.startsTerm() {
			break
		}
		t, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		terms = appendFlat(terms, t, true)
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &And{Pos: first.Position(), Terms: terms}, nil
}

// appendFlat appends e to terms, splicing in the terms of a nested And
// (and=true) or Or (and=false) that came from parentheses.
func appendFlat(terms []Expr, e Expr, and bool) []Expr {
	if and {
		if a, ok := e.(*And); ok {
			return append(terms, a.Terms...)
		}
	} else if o, ok := e.(*Or); ok {
		return append(terms, o.Terms...)
	}
	return append(terms, e)
}

func (p *parser) parseNot() (Expr, *Error) {
	if p.tok.typ == tokNot || p.isWord("not") {
		op := p.tok
		p.advance()
		if !p.startsTerm() {
			what := "NOT"
			if op.typ == tokNot {
				what = `"!"`
			}
			return nil, p.fail("expected a search term after %s", what)
		}
		t, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &Not{Pos: op.pos, Term: t}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (Expr, *Error) {
	t := p.tok
	switch t.typ {
	case tokLParen:
		p.advance()
		if p.tok.typ == tokRParen {
			return nil, errorf(t.pos, "empty parentheses")
		}
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.typ != tokRParen {
			if p.tok.typ == tokError {
				return nil, p.tok.err
			}
			return nil, errorf(p.tok.pos, `missing ")" to close the "(" at %s, found %s`, t.pos, p.tok.describe())
		}
		p.advance()
		return e, nil
	case tokString:
		p.advance()
		if p.tok.typ == tokEq || p.tok.typ == tokNeq {
			return nil, errorf(t.pos, "a quoted phrase cannot be a field name").
				withHint("write %%%s%s... for a field with an unusual name", t.text, p.tok.text)
		}
		if t.val == "" {
			return nil, errorf(t.pos, `empty phrase ""`)
		}
		return &Phrase{Pos: t.pos, Text: t.val}, nil
	case tokField:
		p.advance()
		if p.tok.typ != tokEq && p.tok.typ != tokNeq {
			return nil, p.fail(`expected "=" or "!=" after the field name %s`, t.text)
		}
		return p.parseFieldMatch(t)
	case tokTerm, tokParam:
		if p.isWord("and") || p.isWord("or") {
			return nil, errorf(t.pos, "unexpected %s", strings.ToUpper(t.text)).withHint("put it in double quotes to search for the word")
		}
		p.advance()
		if p.tok.typ == tokEq || p.tok.typ == tokNeq {
			return p.parseFieldMatch(t)
		}
		hasParam := t.typ == tokParam || t.params
		if hasParam && !p.opt.AllowParams {
			return nil, paramError(t)
		}
		if strings.Trim(t.text, "*") == "" {
			return &All{Pos: t.pos}, nil
		}
		return &Keyword{Pos: t.pos, Text: t.text, Wildcard: strings.ContainsAny(t.text, "*?"), HasParam: hasParam}, nil
	case tokError:
		return nil, t.err
	case tokEq, tokNeq:
		return nil, errorf(t.pos, "%s without a field name before it", t.describe())
	}
	return nil, p.fail("expected a search term")
}

func paramError(t token) *Error {
	name := t.val
	if t.typ != tokParam {
		name = t.text
	}
	return errorf(t.pos, "template parameter %s has no value", paramDisplay(t)).
		withHint("substitute dashboard parameters before running the query (%s)", name)
}

func paramDisplay(t token) string {
	if t.typ == tokParam {
		return "{{" + t.val + "}}"
	}
	i := strings.Index(t.text, "{{")
	j := strings.Index(t.text[i:], "}}")
	return t.text[i : i+j+2]
}

// parseFieldMatch parses "= value" or "!= value" after the field name token.
func (p *parser) parseFieldMatch(nameTok token) (Expr, *Error) {
	fm := &FieldMatch{Pos: nameTok.pos}
	switch {
	case nameTok.typ == tokParam || nameTok.params:
		if !p.opt.AllowParams {
			return nil, paramError(nameTok)
		}
		fm.Field = nameTok.text
		fm.HasParam = true
	case nameTok.typ == tokField:
		fm.Field = canonicalField(nameTok.val)
	default:
		if !isPlainIdent(nameTok.text) {
			return nil, errorf(nameTok.pos, "invalid field name %s", nameTok.describe()).
				withHint("field names are letters, digits and _; write %%%s%s... for other names", quoteString(nameTok.text), p.tok.text)
		}
		fm.Field = canonicalField(nameTok.text)
	}
	if !fm.HasParam {
		if err := checkScopeField(fm.Field, nameTok.pos); err != nil {
			return nil, err
		}
	}
	fm.Negated = p.tok.typ == tokNeq
	op := p.tok
	p.advance()
	v := p.tok
	switch {
	case v.typ == tokString:
		fm.Value, fm.Quoted = v.val, true
	case v.typ == tokParam || (v.typ == tokTerm && v.params):
		if !p.opt.AllowParams {
			return nil, paramError(v)
		}
		fm.Value, fm.HasParam = v.text, true
	case v.typ == tokTerm:
		fm.Value = v.text
	default:
		return nil, p.fail("expected a value after %s", op.describe())
	}
	p.advance()
	return fm, nil
}

// checkScopeField rejects fields a scope filter cannot use.
func checkScopeField(name string, pos Pos) *Error {
	if b := lookupBuiltin(name); b != nil {
		if b.noScope != "" {
			return errorf(pos, "%s cannot be used in the scope: %s", b.name, b.noScope)
		}
		return nil
	}
	if strings.HasPrefix(name, "_") {
		e := errorf(pos, "unknown built-in field %q", name)
		e.Hint = didYouMean(name, builtinNames())
		return e
	}
	return nil
}

// ---- pipeline ----

// expressionStart reports whether t, after a word at the start of a stage,
// makes the stage an expression ("x as y", "a - b as c").
func expressionStart(t token) bool {
	switch t.typ {
	case tokPlus, tokMinus, tokStar, tokSlash, tokPercent, tokEq, tokEqEq, tokNeq,
		tokLT, tokLTE, tokGT, tokGTE, tokLTGT, tokAndAnd, tokOrOr, tokQuestion, tokDot, tokLBracket:
		return true
	case tokTerm:
		return strings.EqualFold(t.text, "as") || strings.EqualFold(t.text, "matches") || strings.EqualFold(t.text, "in")
	}
	return false
}

func (p *parser) parseStage(pipe token) (Stage, *Error) {
	t := p.tok
	switch t.typ {
	case tokEOF, tokPipe:
		return nil, errorf(pipe.pos, `missing operator after "|"`)
	case tokError:
		return nil, t.err
	case tokTerm:
		name := strings.ToLower(t.text)
		if hook, ok := stageParsers[name]; ok {
			return hook(p)
		}
		if operatorSet[name] {
			return nil, errorf(t.pos, "operator %q is not supported yet", name)
		}
		// "<expression> as <field>" (op_assign.go); a lone unknown word
		// is reported as an unknown operator there.
		return p.parseAssignStage()
	case tokField, tokNumber, tokString, tokLParen, tokMinus, tokNot:
		return p.parseAssignStage()
	case tokParam:
		return nil, errorf(t.pos, "a template parameter cannot stand for an operator")
	}
	return nil, p.fail(`expected an operator after "|"`)
}

// parseFieldRef parses a field name in a stage: an identifier, %"name" or,
// with AllowParams, a {{parameter}}.
func (p *parser) parseFieldRef(context string) (FieldRef, *Error) {
	t := p.tok
	switch t.typ {
	case tokTerm:
		if reservedWords[strings.ToLower(t.text)] {
			return FieldRef{}, p.fail("expected a field name %s", context).withHint("write %%%s for a field named %s", quoteString(t.text), t.text)
		}
		if !isPlainIdent(t.text) {
			return FieldRef{}, errorf(t.pos, "invalid field name %s", t.describe()).
				withHint("field names start with a letter or _; write %%%s", quoteString(t.text))
		}
		p.advance()
		return FieldRef{Pos: t.pos, Name: canonicalField(t.text)}, nil
	case tokField:
		p.advance()
		return FieldRef{Pos: t.pos, Name: canonicalField(t.val)}, nil
	case tokParam:
		if !p.opt.AllowParams {
			return FieldRef{}, paramError(t)
		}
		p.advance()
		return FieldRef{Pos: t.pos, Name: t.text, Param: true}, nil
	}
	return FieldRef{}, p.fail("expected a field name %s", context)
}

// expectStageEnd checks that the stage ends here.
func (p *parser) expectStageEnd(op string) *Error {
	switch p.tok.typ {
	case tokPipe, tokEOF:
		return nil
	case tokError:
		return p.tok.err
	}
	if isWhereWord(p.tok) {
		return errorf(p.tok.pos, `"where" must be its own stage`).
			withHint(`separate it with "|": ... | where <condition>`)
	}
	return errorf(p.tok.pos, "unexpected %s in %s", p.tok.describe(), op)
}

// posAt returns the position of byte offset off in text.
func posAt(text string, off int) Pos {
	p := Pos{Line: 1, Column: 1}
	for i, r := range text {
		if i >= off {
			break
		}
		if r == '\n' {
			p.Line++
			p.Column = 1
		} else {
			p.Column++
		}
	}
	p.Offset = off
	return p
}

// runeOffset returns the byte offset of the n-th rune (0-based) of s.
func runeOffset(s string, n int) int {
	i := 0
	for off := range s {
		if i == n {
			return off
		}
		i++
	}
	return len(s)
}
