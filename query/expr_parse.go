package query

import (
	"strconv"
	"strings"
)

// The expression parser (grammar in expr.go). Other stage parsers call
// parseExpression where an expression stands ("sum(<expr>)", "if(...)",
// "where <expr>"); it stops at the first token that cannot continue the
// expression ("as", "by", ",", ")", "|", the end), which the caller checks.

// exprReserved are words with a meaning inside expressions; a field with
// such a name is written %"name".
var exprReserved = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "matches": true, "contains": true,
	"true": true, "false": true, "as": true, "by": true, "group": true,
}

// peekToken returns the token after the current one without consuming it.
func (p *parser) peekToken() token {
	l := *p.lex
	return l.next()
}

// parseExpression parses an expression starting at the current token.
func (p *parser) parseExpression() (Expression, *Error) {
	cond, err := p.parseOrExpr()
	if err != nil {
		return nil, err
	}
	if p.tok.typ != tokQuestion {
		return cond, nil
	}
	q := p.tok
	p.advance()
	then, err := p.parseExpression()
	if err != nil {
		return nil, err
	}
	if p.tok.typ != tokColon {
		if p.tok.typ == tokError {
			return nil, p.tok.err
		}
		return nil, errorf(p.tok.pos, `expected ":" after the "?" at %s, found %s`, q.pos, p.tok.describe()).
			withHint("write <condition> ? <value if true> : <value if false>")
	}
	p.advance()
	els, err := p.parseExpression()
	if err != nil {
		return nil, err
	}
	return &CondExpr{Pos: cond.Position(), Cond: cond, Then: then, Else: els}, nil
}

func (p *parser) parseOrExpr() (Expression, *Error) {
	l, err := p.parseAndExpr()
	if err != nil {
		return nil, err
	}
	for p.tok.typ == tokOrOr || p.isWord("or") {
		op := p.tok
		p.advance()
		r, err := p.parseAndExpr()
		if err != nil {
			return nil, err
		}
		l = &BinaryExpr{Pos: l.Position(), OpPos: op.pos, Op: "or", L: l, R: r}
	}
	return l, nil
}

func (p *parser) parseAndExpr() (Expression, *Error) {
	l, err := p.parseNotExpr()
	if err != nil {
		return nil, err
	}
	for p.tok.typ == tokAndAnd || p.isWord("and") {
		op := p.tok
		p.advance()
		r, err := p.parseNotExpr()
		if err != nil {
			return nil, err
		}
		l = &BinaryExpr{Pos: l.Position(), OpPos: op.pos, Op: "and", L: l, R: r}
	}
	return l, nil
}

func (p *parser) parseNotExpr() (Expression, *Error) {
	if p.tok.typ == tokNot || p.isWord("not") {
		op := p.tok
		p.advance()
		x, err := p.parseNotExpr()
		if err != nil {
			return nil, err
		}
		return &UnaryExpr{Pos: op.pos, Op: "!", X: x}, nil
	}
	return p.parseComparison()
}

// comparisonOp returns the canonical comparison of the current token, or "".
func (p *parser) comparisonOp() string {
	switch p.tok.typ {
	case tokEq, tokEqEq:
		return "="
	case tokNeq, tokLTGT:
		return "!="
	case tokLT:
		return "<"
	case tokLTE:
		return "<="
	case tokGT:
		return ">"
	case tokGTE:
		return ">="
	}
	return ""
}

// atComparison reports whether the current token continues a comparison.
func (p *parser) atComparison() bool {
	if p.comparisonOp() != "" || p.isWord("matches") || p.isWord("in") || p.isWord("contains") {
		return true
	}
	if p.isWord("not") {
		n := p.peekToken()
		if n.typ == tokTerm {
			switch strings.ToLower(n.text) {
			case "matches", "in", "contains":
				return true
			}
		}
	}
	return false
}

func (p *parser) parseComparison() (Expression, *Error) {
	l, err := p.parseAdditive()
	if err != nil {
		return nil, err
	}
	if !p.atComparison() {
		return l, nil
	}
	e, err := p.parseComparisonRest(l)
	if err != nil {
		return nil, err
	}
	if p.atComparison() {
		return nil, errorf(p.tok.pos, "comparisons cannot be chained: unexpected %s", p.tok.describe()).
			withHint(`combine comparisons with "and" or "or", or use parentheses`)
	}
	return e, nil
}

func (p *parser) parseComparisonRest(l Expression) (Expression, *Error) {
	if op := p.comparisonOp(); op != "" {
		opTok := p.tok
		p.advance()
		r, err := p.parseAdditive()
		if err != nil {
			return nil, err
		}
		return &BinaryExpr{Pos: l.Position(), OpPos: opTok.pos, Op: op, L: l, R: r}, nil
	}
	var negated *token
	if p.isWord("not") {
		t := p.tok
		negated = &t
		p.advance()
	}
	wrap := func(e Expression) Expression {
		if negated != nil {
			return &UnaryExpr{Pos: l.Position(), Op: "!", X: e}
		}
		return e
	}
	word := strings.ToLower(p.tok.text)
	opTok := p.tok
	p.advance()
	switch word {
	case "matches":
		var pat Expression
		switch p.tok.typ {
		case tokString:
			pat = &StringLit{Pos: p.tok.pos, Value: p.tok.val}
			p.advance()
		case tokSlash:
			re, err := p.parseRegex()
			if err != nil {
				return nil, err
			}
			pat = re
		default:
			return nil, p.fail(`expected a quoted pattern or a /regular expression/ after "matches"`)
		}
		return wrap(&MatchesExpr{Pos: l.Position(), X: l, Pattern: pat}), nil
	case "in":
		if p.tok.typ != tokLParen {
			return nil, p.fail(`expected "(" after "in"`).withHint(`write x in ("a", "b")`)
		}
		p.advance()
		in := &InExpr{Pos: l.Position(), X: l}
		for {
			v, err := p.parseInValue()
			if err != nil {
				return nil, err
			}
			in.Values = append(in.Values, v)
			if p.tok.typ == tokComma {
				p.advance()
				continue
			}
			if p.tok.typ == tokRParen {
				p.advance()
				break
			}
			if p.tok.typ == tokError {
				return nil, p.tok.err
			}
			return nil, p.fail(`expected "," or ")" in the list after "in"`)
		}
		return wrap(in), nil
	case "contains":
		r, err := p.parseAdditive()
		if err != nil {
			return nil, err
		}
		return wrap(&BinaryExpr{Pos: l.Position(), OpPos: opTok.pos, Op: "contains", L: l, R: r}), nil
	}
	return nil, errorf(opTok.pos, "unexpected %s", opTok.describe())
}

// parseInValue parses one literal of an "in" list: a string, a number
// (optionally negated) or a boolean.
func (p *parser) parseInValue() (Expression, *Error) {
	t := p.tok
	switch {
	case t.typ == tokString:
		p.advance()
		return &StringLit{Pos: t.pos, Value: t.val}, nil
	case t.typ == tokNumber:
		p.advance()
		return numberLit(t), nil
	case t.typ == tokMinus:
		p.advance()
		if p.tok.typ != tokNumber {
			return nil, p.fail(`expected a number after "-" in the list after "in"`)
		}
		n := numberLit(p.tok)
		p.advance()
		return &UnaryExpr{Pos: t.pos, Op: "-", X: n}, nil
	case p.isWord("true"), p.isWord("false"):
		p.advance()
		return &BoolLit{Pos: t.pos, Value: strings.EqualFold(t.text, "true")}, nil
	case t.typ == tokError:
		return nil, t.err
	case t.typ == tokRParen:
		return nil, errorf(t.pos, `empty list after "in"`).withHint(`write x in ("a", "b")`)
	}
	return nil, p.fail(`expected a quoted string, a number or true/false in the list after "in"`)
}

func (p *parser) parseAdditive() (Expression, *Error) {
	l, err := p.parseMultiplicative()
	if err != nil {
		return nil, err
	}
	for p.tok.typ == tokPlus || p.tok.typ == tokMinus {
		op := p.tok
		p.advance()
		r, err := p.parseMultiplicative()
		if err != nil {
			return nil, err
		}
		l = &BinaryExpr{Pos: l.Position(), OpPos: op.pos, Op: op.text, L: l, R: r}
	}
	return l, nil
}

func (p *parser) parseMultiplicative() (Expression, *Error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.tok.typ == tokStar || p.tok.typ == tokSlash || p.tok.typ == tokPercent {
		op := p.tok
		p.advance()
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = &BinaryExpr{Pos: l.Position(), OpPos: op.pos, Op: op.text, L: l, R: r}
	}
	return l, nil
}

func (p *parser) parseUnary() (Expression, *Error) {
	switch {
	case p.tok.typ == tokMinus:
		op := p.tok
		p.advance()
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &UnaryExpr{Pos: op.pos, Op: "-", X: x}, nil
	case p.tok.typ == tokNot || p.isWord("not"):
		// "!" where an operand stands ("x = !y"): negates the operand.
		op := p.tok
		p.advance()
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &UnaryExpr{Pos: op.pos, Op: "!", X: x}, nil
	}
	return p.parsePrimaryExpr()
}

// numberLit converts a tokNumber.
func numberLit(t token) *NumberLit {
	n := &NumberLit{Pos: t.pos, Text: t.text}
	if !strings.ContainsAny(t.text, ".eE") {
		if i, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			n.Int = true
			n.Value = float64(i)
			return n
		}
	}
	n.Value, _ = strconv.ParseFloat(t.text, 64) // ±Inf on overflow
	return n
}

// parseRegex parses a /regex/ literal; the current token is its "/".
func (p *parser) parseRegex() (*RegexLit, *Error) {
	t := p.lex.relexRegex(p.tok.pos)
	p.tok = t
	if t.typ == tokError {
		return nil, t.err
	}
	if err := checkRegex(t.val); err != nil {
		return nil, errorf(t.pos, "invalid regular expression %s: %s", t.text, err)
	}
	p.advance()
	return &RegexLit{Pos: t.pos, Pattern: t.val}, nil
}

func (p *parser) parsePrimaryExpr() (Expression, *Error) {
	t := p.tok
	switch t.typ {
	case tokNumber:
		p.advance()
		return numberLit(t), nil
	case tokString:
		p.advance()
		return &StringLit{Pos: t.pos, Value: t.val}, nil
	case tokField:
		p.advance()
		return &FieldExpr{FieldRef{Pos: t.pos, Name: canonicalField(t.val)}}, nil
	case tokParam:
		if !p.opt.AllowParams {
			return nil, paramError(t)
		}
		p.advance()
		return &FieldExpr{FieldRef{Pos: t.pos, Name: t.text, Param: true}}, nil
	case tokLParen:
		p.advance()
		if p.tok.typ == tokRParen {
			return nil, errorf(t.pos, "empty parentheses")
		}
		e, err := p.parseExpression()
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
	case tokSlash:
		return nil, errorf(t.pos, `a /regular expression/ can only follow "matches" or be a function argument`)
	case tokTerm:
		return p.parseWordExpr()
	case tokError:
		return nil, t.err
	}
	return nil, p.fail("expected an expression")
}

// parseWordExpr parses a word operand: true, false, a function call or a
// field name.
func (p *parser) parseWordExpr() (Expression, *Error) {
	t := p.tok
	lower := strings.ToLower(t.text)
	if t.params {
		if !p.opt.AllowParams {
			return nil, paramError(t)
		}
		p.advance()
		return &FieldExpr{FieldRef{Pos: t.pos, Name: t.text, Param: true}}, nil
	}
	p.advance()
	if p.tok.typ == tokLParen {
		return p.parseCall(t)
	}
	switch lower {
	case "true", "false":
		return &BoolLit{Pos: t.pos, Value: lower == "true"}, nil
	}
	if exprReserved[lower] {
		return nil, errorf(t.pos, "expected an expression, found %s", t.describe()).
			withHint("write %%%s for a field named %s", quoteString(t.text), t.text)
	}
	if c := t.text[0]; c >= '0' && c <= '9' {
		return nil, errorf(t.pos, "invalid number %s", t.describe()).
			withHint("numbers are digits with an optional fraction and exponent (1, 2.5, 1e3)")
	}
	if !isPlainIdent(t.text) {
		return nil, errorf(t.pos, "invalid field name %s", t.describe()).
			withHint("write %%%s", quoteString(t.text))
	}
	return &FieldExpr{FieldRef{Pos: t.pos, Name: canonicalField(t.text)}}, nil
}

// parseCall parses the arguments of a call to the function named by the
// token name; the current token is "(".
func (p *parser) parseCall(name token) (Expression, *Error) {
	spec, err := lookupFunc(name)
	if err != nil {
		return nil, err
	}
	call := &CallExpr{Pos: name.pos, Name: spec.name}
	open := p.tok
	p.advance()
	if p.tok.typ != tokRParen {
		for {
			var arg Expression
			if p.tok.typ == tokSlash {
				re, err := p.parseRegex()
				if err != nil {
					return nil, err
				}
				arg = re
			} else {
				var err *Error
				if arg, err = p.parseExpression(); err != nil {
					return nil, err
				}
			}
			call.Args = append(call.Args, arg)
			if p.tok.typ != tokComma {
				break
			}
			p.advance()
		}
	}
	if p.tok.typ != tokRParen {
		if p.tok.typ == tokError {
			return nil, p.tok.err
		}
		return nil, errorf(p.tok.pos, `missing ")" to close %s( at %s, found %s`, spec.name, open.pos, p.tok.describe())
	}
	p.advance()
	if err := spec.checkArity(call); err != nil {
		return nil, err
	}
	return call, nil
}
