package query

import (
	"strings"
	"unicode/utf8"
)

// Dashboard and saved-search queries hold {{name}} template parameters,
// replaced by the chosen values before the query is parsed. The
// substitution is token-aware, so that a value can never change the shape of
// the query:
//
//   - a parameter standing alone becomes exactly one term: the value as is
//     when it consists of term characters (after the first "|": identifier
//     characters), else a double-quoted string with " and \ escaped; the
//     "All" choice, *, stays *;
//   - a parameter inside a term (prod/{{env}}/web) must have a value of term
//     characters, else it is an error;
//   - a parameter inside a quoted string or %"field" is replaced by the
//     value with " and \ escaped;
//   - parameters in comments are left alone.
//
// A parameter without a value is an error at its position.

// SubstituteParams replaces the {{name}} parameters of query with values.
func SubstituteParams(query string, values map[string]string) (string, error) {
	out, err := substituteParams(query, values)
	if err != nil {
		return "", err
	}
	return out, nil
}

func substituteParams(query string, values map[string]string) (string, *Error) {
	var b strings.Builder
	last := 0
	// A /regex/ literal's text may hold anything: scanTokens skips it whole.
	err := scanTokens(query, func(t token, pipeline bool) *Error {
		var repl string
		switch {
		case t.typ == tokParam:
			v, ok := values[t.val]
			if !ok {
				return missingParam(t.pos, t.val)
			}
			repl = renderParam(v, pipeline)
		case t.typ == tokTerm && t.params:
			s, err := replaceParams(query, t.pos, t.text, values, func(name, v string, pos func() Pos) (string, *Error) {
				if v == "" || !allRunes(v, isScopeTermRune) {
					return "", errorf(pos(), "the value %q of {{%s}} cannot be part of the term %q", v, name, t.text).
						withHint("values inside a term may only hold letters, digits, wildcards and - _ : / . + @ # $ %% ^ \\")
				}
				return v, nil
			})
			if err != nil {
				return err
			}
			repl = s
		case (t.typ == tokString || t.typ == tokField) && strings.Contains(t.text, "{{"):
			quote := byte('"')
			if t.single {
				quote = '\''
			}
			s, err := replaceParams(query, t.pos, t.text, values, func(_, v string, _ func() Pos) (string, *Error) {
				return escapeQuoted(v, quote), nil
			})
			if err != nil {
				return err
			}
			repl = s
		default:
			return nil
		}
		b.WriteString(query[last:t.pos.Offset])
		b.WriteString(repl)
		last = t.end
		return nil
	})
	if err != nil {
		return "", err
	}
	b.WriteString(query[last:])
	return b.String(), nil
}

func missingParam(pos Pos, name string) *Error {
	return errorf(pos, "no value for template parameter {{%s}}", name)
}

// replaceParams replaces each well-formed {{name}} in text (a token that
// starts at pos) with render's result; render gets the parameter's position
// as a function, computed only for errors.
func replaceParams(query string, pos Pos, text string, values map[string]string,
	render func(name, value string, pos func() Pos) (string, *Error)) (string, *Error) {
	var b strings.Builder
	rest := text
	off := 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		name := strings.TrimSpace(rest[i+2 : i+j])
		b.WriteString(rest[:i])
		ppos := func() Pos { return posAt(query, pos.Offset+off+i) }
		if !validParamName(name) {
			b.WriteString(rest[i : i+j+2])
		} else {
			v, ok := values[name]
			if !ok {
				return "", missingParam(ppos(), name)
			}
			s, err := render(name, v, ppos)
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		}
		off += i + j + 2
		rest = rest[i+j+2:]
	}
}

func validParamName(name string) bool {
	return name != "" && allRunes(name, func(r rune) bool { return isIdentRune(r) || r == '-' || r == '.' })
}

func allRunes(s string, ok func(rune) bool) bool {
	for _, r := range s {
		if !ok(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// renderParam renders a standalone parameter's value as one term.
func renderParam(v string, pipeline bool) string {
	if v == "*" {
		return "*"
	}
	if pipeline {
		if v != "" && allRunes(v, isIdentRune) && !reservedWords[strings.ToLower(v)] {
			return v
		}
		return quoteString(v)
	}
	if v != "" && allRunes(v, isScopeTermRune) && !reservedWords[strings.ToLower(v)] &&
		!strings.HasPrefix(v, "//") && !strings.HasPrefix(v, "/*") && !strings.Contains(v, "{{") {
		return v
	}
	return quoteString(v)
}

// escapeQuoted escapes v for the inside of a string with the given quote.
func escapeQuoted(v string, quote byte) string {
	var b strings.Builder
	for _, r := range v {
		if r == rune(quote) || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// queryParams lists the template parameters of a query, in order of first
// use, or nil when it does not lex.
func queryParams(query string) []string {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	toks, err := lexWithRegexes(query)
	if err != nil {
		return nil
	}
	for _, t := range toks {
		switch {
		case t.typ == tokParam:
			add(t.val)
		case strings.Contains(t.text, "{{") && (t.params || t.typ == tokString || t.typ == tokField):
			rest := t.text
			for {
				i := strings.Index(rest, "{{")
				if i < 0 {
					break
				}
				j := strings.Index(rest[i:], "}}")
				if j < 0 {
					break
				}
				if name := strings.TrimSpace(rest[i+2 : i+j]); validParamName(name) {
					add(name)
				}
				rest = rest[i+j+2:]
			}
		}
	}
	return names
}

// endsOperand reports whether token t can end an operand, so that a "/"
// after it is a division rather than the start of a regex (after
// "matches", "and", "(", "=", ... an operand is expected).
func endsOperand(t token) bool {
	switch t.typ {
	case tokTerm:
		switch strings.ToLower(t.text) {
		case "matches", "and", "or", "not", "in":
			return false
		}
		return true
	case tokNumber, tokString, tokField, tokParam, tokRegex, tokRParen, tokRBracket:
		return true
	}
	return false
}

// lexWithRegexes is lexAll with /regex/ literals read where an operand is
// expected, as the parser reads them.
func lexWithRegexes(input string) ([]token, *Error) {
	var toks []token
	err := scanTokens(input, func(t token, _ bool) *Error {
		toks = append(toks, t)
		return nil
	})
	return toks, err
}

// scanTokens calls fn with each token of input up to the end, reading a
// /regex/ literal where an operand is expected (the parser's rule), and
// whether the token is in the pipeline (after the first "|"). It stops at
// the first error, the lexer's or fn's.
func scanTokens(input string, fn func(t token, pipeline bool) *Error) *Error {
	l := newLexer(input)
	prev := token{typ: tokPipe}
	for {
		pipeline := l.pipeline
		t := l.next()
		if t.typ == tokSlash && pipeline && !endsOperand(prev) {
			t = l.relexRegex(t.pos)
		}
		switch t.typ {
		case tokError:
			return t.err
		case tokEOF:
			return nil
		}
		if err := fn(t, pipeline); err != nil {
			return err
		}
		prev = t
	}
}
