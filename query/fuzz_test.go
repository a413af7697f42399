package query

import (
	"strings"
	"testing"
	"time"
)

// fuzzSeeds are the seed corpus of the parser fuzz targets.
func fuzzSeeds() []string {
	seeds := []string{
		"_sourceCategory=prod/web* (error OR exception) NOT healthcheck | count by _sourceHost",
		`"a \"b\" \\ c" | count(f) as n by %"x.y", z`,
		"a /* c */ b // d\n| count",
		"{{p}} prod/{{env}}/x _sourceCategory={{c}} | count by {{f}}",
		"NOT NOT !x OR (y z) | count | count",
		"x | where a > 1 and b <= 2 || c != \"d\" | sort by x desc | limit 10",
		"x | parse regex \"(?<a>\\d+)\" | json auto | split _raw delim='|' extract 1 as a",
		"x | foo(1.5e3, -2) as y | count as n, sum(x) by a",
		"%\"odd\"=\"v\" a!=b c=*",
	}
	for _, c := range parseCases {
		seeds = append(seeds, c.in)
	}
	for _, c := range lookupParseCases { // op_lookup_test.go
		seeds = append(seeds, c.in)
	}
	for _, c := range rowOpsParseCases { // op_rowops_test.go
		seeds = append(seeds, c.in)
	}
	for _, c := range aggParseCases { // agg_parse_test.go
		seeds = append(seeds, c.in)
	}
	seeds = append(seeds, scopeQueries...)
	return seeds
}

func FuzzLex(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := newLexer(s)
		prevEnd := 0
		// pos tracks the expected position incrementally (posAt on every
		// token would make long inputs quadratic).
		pos := Pos{Line: 1, Column: 1}
		advanceTo := func(off int) {
			for _, r := range s[pos.Offset:off] {
				if r == '\n' {
					pos.Line++
					pos.Column = 1
				} else {
					pos.Column++
				}
			}
			pos.Offset = off
		}
		for i := 0; ; i++ {
			if i > len(s)+1 {
				t.Fatalf("lexer does not advance on %q", s)
			}
			tok := l.next()
			if tok.pos.Offset < prevEnd || tok.pos.Offset > len(s) {
				t.Fatalf("token %+v starts before the previous one ended (%d)", tok, prevEnd)
			}
			advanceTo(tok.pos.Offset)
			if tok.pos != pos {
				t.Fatalf("token at %+v, computed position %+v", tok.pos, pos)
			}
			if tok.typ == tokError {
				if tok.err == nil || !tok.err.Pos.IsValid() {
					t.Fatalf("error token without a positioned error: %+v", tok)
				}
				if l.next().typ != tokError {
					t.Fatal("lexer continued after an error")
				}
				return
			}
			if tok.typ == tokEOF {
				if strings.TrimSpace(s[prevEnd:]) != "" && !strings.Contains(s[prevEnd:], "/") {
					t.Fatalf("EOF with text left: %q", s[prevEnd:])
				}
				return
			}
			if tok.end <= tok.pos.Offset || tok.end > len(s) || s[tok.pos.Offset:tok.end] != tok.text {
				t.Fatalf("token %+v does not cover its text", tok)
			}
			prevEnd = tok.end
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, params := range []bool{false, true} {
			start := time.Now()
			q, err := ParseWithOptions(s, ParseOptions{AllowParams: params})
			if d := time.Since(start); d > time.Second {
				t.Fatalf("parsing took %s", d)
			}
			if err != nil {
				e, ok := AsError(err)
				if !ok || !e.Pos.IsValid() || e.Pos.Offset > len(s) || e.Msg == "" {
					t.Fatalf("error without a valid position: %#v", err)
				}
				continue
			}
			checkRoundTrip(t, s, q, params)
			if p, err := Compile(q, CompileOptions{PushDown: true}); err == nil {
				_ = p.Explain()
				_ = p.aggregateLogsQLIfAny()
			} else if _, ok := AsError(err); !ok {
				t.Fatalf("compile error is not an *Error: %v", err)
			}
		}
		// Substitution never panics, and a successful one leaves no
		// parameters behind.
		vals := map[string]string{}
		for _, n := range queryParams(s) {
			vals[n] = "v a\"l\\"
		}
		if out, err := SubstituteParams(s, vals); err == nil && len(vals) > 0 {
			if ps := queryParams(out); len(ps) > 0 && Check(out).OK() {
				t.Fatalf("parameters %v left in %q", ps, out)
			}
		}
	})
}

// aggregateLogsQLIfAny exercises the LogsQL builders of a plan.
func (p *Plan) aggregateLogsQLIfAny() string {
	if p.aggregatePushed() {
		return p.aggregateLogsQL()
	}
	return p.messagesLogsQL()
}
