package query

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

var posType = reflect.TypeOf(Pos{})

// zeroPositions clears every Pos field reachable from v (pointers, structs,
// slices, interfaces), for comparing trees apart from positions.
func zeroPositions(v any) { zeroPosValue(reflect.ValueOf(v)) }

func zeroPosValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			zeroPosValue(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == posType {
			if v.CanSet() {
				v.Set(reflect.Zero(posType))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() || v.Field(i).CanSet() {
				zeroPosValue(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			zeroPosValue(v.Index(i))
		}
	}
}

// dumpExpr prints an expression tree with its structure explicit.
func dumpExpr(e Expression) string {
	switch n := e.(type) {
	case *StringLit:
		return "s(" + quoteString(n.Value) + ")"
	case *NumberLit:
		if n.Int {
			return "i(" + n.Text + ")"
		}
		return "f(" + n.Text + ")"
	case *BoolLit:
		if n.Value {
			return "true"
		}
		return "false"
	case *RegexLit:
		return "re(" + n.Pattern + ")"
	case *FieldExpr:
		return n.Name
	case *UnaryExpr:
		return n.Op + "(" + dumpExpr(n.X) + ")"
	case *BinaryExpr:
		return n.Op + "(" + dumpExpr(n.L) + ", " + dumpExpr(n.R) + ")"
	case *MatchesExpr:
		return "matches(" + dumpExpr(n.X) + ", " + dumpExpr(n.Pattern) + ")"
	case *InExpr:
		parts := []string{dumpExpr(n.X)}
		for _, v := range n.Values {
			parts = append(parts, dumpExpr(v))
		}
		return "in(" + strings.Join(parts, ", ") + ")"
	case *CondExpr:
		return "?(" + dumpExpr(n.Cond) + ", " + dumpExpr(n.Then) + ", " + dumpExpr(n.Else) + ")"
	case *CallExpr:
		parts := make([]string, len(n.Args))
		for i, a := range n.Args {
			parts[i] = dumpExpr(a)
		}
		return n.Name + "[" + strings.Join(parts, ", ") + "]"
	}
	return "?"
}

// parseExpr parses text as a whole expression (in pipeline mode).
func parseExpr(text string) (Expression, *Error) {
	p := &parser{lex: newLexer(text)}
	p.lex.pipeline = true
	p.advance()
	e, err := p.parseExpression()
	if err != nil {
		return nil, err
	}
	if p.tok.typ != tokEOF {
		if p.tok.typ == tokError {
			return nil, p.tok.err
		}
		return nil, errorf(p.tok.pos, "unexpected %s after the expression", p.tok.describe())
	}
	return e, nil
}

type exprParseCase struct {
	in   string
	tree string // dump; "" when err is set
	out  string // canonical text; "" means the input
	err  string
}

var exprParseCases = []exprParseCase{
	// literals and fields
	{in: `1`, tree: "i(1)"},
	{in: `1.5`, tree: "f(1.5)"},
	{in: `2e3`, tree: "f(2e3)"},
	{in: `2E-3`, tree: "f(2E-3)"},
	{in: `1.5e+10`, tree: "f(1.5e+10)"},
	{in: `99999999999999999999`, tree: "f(99999999999999999999)"},
	{in: `"a \"b\" \\ c"`, tree: `s("a \"b\" \\ c")`},
	{in: `'single'`, tree: `s("single")`, out: `"single"`},
	{in: `true`, tree: "true"},
	{in: `FALSE`, tree: "false", out: "false"},
	{in: `x`, tree: "x"},
	{in: `srcIP`, tree: "srcip", out: "srcip"},
	{in: `_SOURCEHOST`, tree: "_sourceHost", out: "_sourceHost"},
	{in: `%"odd name"`, tree: "odd name"},
	{in: `%"true"`, tree: "true"[:0] + "true", out: `%"true"`},
	{in: `%"in"`, tree: "in"},
	// arithmetic and precedence
	{in: `a + b * c`, tree: "+(a, *(b, c))"},
	{in: `(a + b) * c`, tree: "*(+(a, b), c)"},
	{in: `a - b - c`, tree: "-(-(a, b), c)"},
	{in: `a - (b - c)`, tree: "-(a, -(b, c))"},
	{in: `a-b`, tree: "-(a, b)", out: "a - b"},
	{in: `a/b%c`, tree: "%(/(a, b), c)", out: "a / b % c"},
	{in: `-x`, tree: "-(x)"},
	{in: `--x`, tree: "-(-(x))"},
	{in: `-(a + b)`, tree: "-(+(a, b))"},
	{in: `a * -b`, tree: "*(a, -(b))"},
	{in: `-2 * 3`, tree: "*(-(i(2)), i(3))"},
	{in: `bytes / 1024`, tree: "/(bytes, i(1024))"},
	{in: `_receiptTime - _messageTime`, tree: "-(_receiptTime, _messageTime)"},
	// comparisons
	{in: `a = 1`, tree: "=(a, i(1))"},
	{in: `a == 1`, tree: "=(a, i(1))", out: "a = 1"},
	{in: `a != "x"`, tree: `!=(a, s("x"))`},
	{in: `a <> "x"`, tree: `!=(a, s("x"))`, out: `a != "x"`},
	{in: `a<b`, tree: "<(a, b)", out: "a < b"},
	{in: `a <= b`, tree: "<=(a, b)"},
	{in: `a > b + 1`, tree: ">(a, +(b, i(1)))"},
	{in: `a >= b`, tree: ">=(a, b)"},
	{in: `(a = b) = c`, tree: "=(=(a, b), c)"},
	// logic
	{in: `a and b or c`, tree: "or(and(a, b), c)"},
	{in: `a or b and c`, tree: "or(a, and(b, c))"},
	{in: `a && b || c`, tree: "or(and(a, b), c)", out: "a and b or c"},
	{in: `(a or b) and c`, tree: "and(or(a, b), c)"},
	{in: `a AND b`, tree: "and(a, b)", out: "a and b"},
	{in: `not a`, tree: "!(a)", out: "!a"},
	{in: `!a = 1`, tree: "!(=(a, i(1)))", out: "!(a = 1)"},
	{in: `!(a = 1) and b`, tree: "and(!(=(a, i(1))), b)"},
	{in: `not a and b`, tree: "and(!(a), b)", out: "!a and b"},
	{in: `!!a`, tree: "!(!(a))"},
	{in: `!(a or b)`, tree: "!(or(a, b))"},
	{in: `x = !y`, tree: "=(x, !(y))", out: "x = (!y)"},
	{in: `!isNull(x)`, tree: "!(isNull[x])"},
	// matches, in, contains
	{in: `x matches "a*"`, tree: `matches(x, s("a*"))`},
	{in: `x MATCHES /^10\./`, tree: `matches(x, re(^10\.))`, out: `x matches /^10\./`},
	{in: `x matches /a\/b/`, tree: `matches(x, re(a\/b))`},
	{in: `x matches /a[/]b/`, tree: `matches(x, re(a[/]b))`},
	{in: `x matches /[^]/]/`, tree: `matches(x, re([^]/]))`},
	{in: `!(path matches "/health*")`, tree: `!(matches(path, s("/health*")))`},
	{in: `x not matches "a*"`, tree: `!(matches(x, s("a*")))`, out: `!(x matches "a*")`},
	{in: `x in ("a", 3, -1.5, true)`, tree: `in(x, s("a"), i(3), -(f(1.5)), true)`},
	{in: `x IN ("a")`, tree: `in(x, s("a"))`, out: `x in ("a")`},
	{in: `x not in (1, 2)`, tree: `!(in(x, i(1), i(2)))`, out: `!(x in (1, 2))`},
	{in: `a contains "b"`, tree: `contains(a, s("b"))`},
	{in: `a not contains b`, tree: `!(contains(a, b))`, out: `!(a contains b)`},
	{in: `a + 1 in (2, 3) and b`, tree: `and(in(+(a, i(1)), i(2), i(3)), b)`},
	// ternary
	{in: `a ? b : c`, tree: "?(a, b, c)"},
	{in: `a > 1 ? "big" : "small"`, tree: `?(>(a, i(1)), s("big"), s("small"))`},
	{in: `a ? b : c ? d : e`, tree: "?(a, b, ?(c, d, e))"},
	{in: `a ? b ? c : d : e`, tree: "?(a, ?(b, c, d), e)"},
	{in: `(a ? b : c) ? d : e`, tree: "?(?(a, b, c), d, e)"},
	{in: `a or b ? 1 : 2`, tree: "?(or(a, b), i(1), i(2))"},
	{in: `(a ? b : c) + 1`, tree: "+(?(a, b, c), i(1))"},
	// calls
	{in: `concat(a, "-", b)`, tree: `concat[a, s("-"), b]`},
	{in: `CONCAT(a)`, tree: `concat[a]`, out: "concat(a)"},
	{in: `if(isNull(x), "unknown", x)`, tree: `if[isNull[x], s("unknown"), x]`},
	{in: `IF(a, b, c)`, tree: `if[a, b, c]`, out: "if(a, b, c)"},
	{in: `replace(s, /a(b)/, "$1")`, tree: `replace[s, re(a(b)), s("$1")]`},
	{in: `now()`, tree: `now[]`},
	{in: `round(x / 3, 2)`, tree: `round[/(x, i(3)), i(2)]`},
	{in: `toLowerCase(x) = "a"`, tree: `=(toLowerCase[x], s("a"))`},
	{in: `if(a > 1, b ? c : d, e)`, tree: `if[>(a, i(1)), ?(b, c, d), e]`},
	// errors
	{in: `a +`, err: `line 1, column 4: expected an expression, found end of query`},
	{in: `a < b < c`, err: `line 1, column 7: comparisons cannot be chained: unexpected "<"; combine comparisons with "and" or "or", or use parentheses`},
	{in: `a = b = c`, err: `line 1, column 7: comparisons cannot be chained: unexpected "="; combine comparisons with "and" or "or", or use parentheses`},
	{in: `(a`, err: `line 1, column 3: missing ")" to close the "(" at line 1, column 1, found end of query`},
	{in: `()`, err: `line 1, column 1: empty parentheses`},
	{in: `a ? b`, err: `line 1, column 6: expected ":" after the "?" at line 1, column 3, found end of query; write <condition> ? <value if true> : <value if false>`},
	{in: `x matches a`, err: `line 1, column 11: expected a quoted pattern or a /regular expression/ after "matches", found "a"`},
	{in: `x matches /a(/`, err: `line 1, column 11: invalid regular expression /a(/: missing closing ): ` + "`a(`"},
	{in: `x matches /abc`, err: `line 1, column 11: unterminated regular expression: missing closing /`},
	{in: `x = /a/`, err: `line 1, column 5: a /regular expression/ can only follow "matches" or be a function argument`},
	{in: `x in "a"`, err: `line 1, column 6: expected "(" after "in", found "\"a\""; write x in ("a", "b")`},
	{in: `x in ()`, err: `line 1, column 7: empty list after "in"; write x in ("a", "b")`},
	{in: `x in (a)`, err: `line 1, column 7: expected a quoted string, a number or true/false in the list after "in", found "a"`},
	{in: `x in ("a" "b")`, err: `line 1, column 11: expected "," or ")" in the list after "in", found "\"b\""`},
	{in: `concta(a, b)`, err: `line 1, column 1: unknown function "concta"; did you mean "concat"?`},
	{in: `isnul(a)`, err: `line 1, column 1: unknown function "isnul"; did you mean "isNull"?`},
	{in: `sum(a) > 1`, err: `line 1, column 1: aggregate "sum" cannot be used inside an expression; aggregates are stages of their own: | sum(...) by ...`},
	{in: `if(a, b)`, err: `line 1, column 1: if takes 3 arguments, found 2`},
	{in: `isNull()`, err: `line 1, column 1: isNull takes 1 argument, found 0`},
	{in: `round(1, 2, 3)`, err: `line 1, column 1: round takes 1 or 2 arguments, found 3`},
	{in: `concat()`, err: `line 1, column 1: concat takes at least 1 argument, found 0`},
	{in: `length(/a/)`, err: `line 1, column 8: length does not take a /regular expression/ as argument 1`},
	{in: `concat(a, b`, err: `line 1, column 12: missing ")" to close concat( at line 1, column 7, found end of query`},
	{in: `a and`, err: `line 1, column 6: expected an expression, found end of query`},
	{in: `and`, err: `line 1, column 1: expected an expression, found "and"; write %"and" for a field named and`},
	{in: `1h > 2`, err: `line 1, column 1: invalid number "1h"; numbers are digits with an optional fraction and exponent (1, 2.5, 1e3)`},
	{in: `a = `, err: `line 1, column 5: expected an expression, found end of query`},
	{in: `a.b = 1`, err: `line 1, column 2: unexpected "." after the expression`},
}

func TestParseExpression(t *testing.T) {
	for _, c := range exprParseCases {
		e, err := parseExpr(c.in)
		if c.err != "" {
			if err == nil {
				t.Errorf("%s: parsed as %s, want error %s", c.in, dumpExpr(e), c.err)
			} else if err.Error() != c.err {
				t.Errorf("%s:\n got error %s\nwant error %s", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got := dumpExpr(e); got != c.tree {
			t.Errorf("%s: tree %s, want %s", c.in, got, c.tree)
		}
		want := c.out
		if want == "" {
			want = c.in
		}
		if got := e.String(); got != want {
			t.Errorf("%s: printed %s, want %s", c.in, got, want)
		}
		checkExprRoundTrip(t, c.in, e)
	}
}

// checkExprRoundTrip checks that the printed expression parses to the same
// tree and prints the same.
func checkExprRoundTrip(t testing.TB, in string, e Expression) {
	t.Helper()
	printed := e.String()
	e2, err := parseExpr(printed)
	if err != nil {
		t.Fatalf("re-parsing %q (printed from %q): %v", printed, in, err)
	}
	if again := e2.String(); again != printed {
		t.Fatalf("printing is not idempotent: %q -> %q", printed, again)
	}
	if a, b := dumpExpr(e), dumpExpr(e2); a != b {
		t.Fatalf("round trip changed the tree of %q: %s -> %s", in, a, b)
	}
	zeroPositions(e)
	zeroPositions(e2)
	if !reflect.DeepEqual(e, e2) {
		t.Fatalf("round trip changed the tree of %q", in)
	}
}

func TestExpressionPositions(t *testing.T) {
	e, err := parseExpr("a +\n  concat(b, c) > 1")
	if err != nil {
		t.Fatal(err)
	}
	cmp := e.(*BinaryExpr)
	add := cmp.L.(*BinaryExpr)
	call := add.R.(*CallExpr)
	if add.OpPos != (Pos{Offset: 2, Line: 1, Column: 3}) || call.Pos != (Pos{Offset: 6, Line: 2, Column: 3}) ||
		call.Args[1].Position() != (Pos{Offset: 16, Line: 2, Column: 13}) || cmp.OpPos.Column != 16 {
		t.Errorf("positions: + %v, call %v, arg %v, > %v", add.OpPos, call.Pos, call.Args[1].Position(), cmp.OpPos)
	}
}

func FuzzParseExpression(f *testing.F) {
	for _, c := range exprParseCases {
		f.Add(c.in)
	}
	for _, c := range evalCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > MaxQueryLength {
			return
		}
		start := time.Now()
		e, err := parseExpr(s)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("parsing took %s", d)
		}
		if err != nil {
			if !err.Pos.IsValid() || err.Pos.Offset > len(s) || err.Msg == "" {
				t.Fatalf("error without a valid position: %#v", err)
			}
			return
		}
		checkExprRoundTrip(t, s, e)
		// Compiling and evaluating never panics.
		ev, cerr := (&compiler{}).compileExpression(e, evalSchema)
		if cerr == nil {
			_ = ev(evalCtx, evalRow)
			_ = ev(nil, nil)
		}
		_ = (&compiler{}).expressionType(e, evalSchema)
		// As a stage: parse, print, compile.
		for _, q := range []string{"* | where " + s, "* | " + s + " as x"} {
			if pq, err := Parse(q); err == nil {
				checkRoundTrip(t, q, pq, false)
				if p, err := Compile(pq, CompileOptions{PushDown: true}); err == nil {
					_ = p.Explain()
				}
			}
		}
	})
}

func TestLexPipelineNumbersAndRegex(t *testing.T) {
	toks, err := lexAll(`x | a-b 1.5e3 2E-2 3e+1 1h 1.2.3.4 5. 7e 'q\'s' %"f g" <> != == && || ? : a.b`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range toks[2:] {
		got = append(got, tk.typ.String()+":"+tk.val)
	}
	want := []string{`term:a`, `"-":-`, `term:b`, `number:1.5e3`, `number:2E-2`, `number:3e+1`, `term:1h`,
		`term:1.2.3.4`, `term:5.`, `term:7e`, `string:q's`, `field name:f g`, `"<>":<>`, `"!=":!=`, `"==":==`,
		`"&&":&&`, `"||":||`, `"?":?`, `":"::`, `term:a`, `".":.`, `term:b`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tokens\n got %s\nwant %s", strings.Join(got, " "), strings.Join(want, " "))
	}
	// A regex is lexed where the parser asks for one, from the "/".
	l := newLexer("| x matches /a\\/b[/]c/ and y")
	for l.next().typ != tokSlash {
	}
	re := l.relexRegex(Pos{Offset: 12, Line: 1, Column: 13})
	if re.typ != tokRegex || re.val != `a\/b[/]c` || re.end != 22 {
		t.Errorf("regex token %+v", re)
	}
	if nx := l.next(); nx.text != "and" {
		t.Errorf("after the regex: %+v", nx)
	}
	l = newLexer("/abc\ndef/")
	if re := l.relexRegex(Pos{Line: 1, Column: 1}); re.typ != tokError || !strings.Contains(re.err.Msg, "unterminated regular expression") {
		t.Errorf("regex across lines: %+v", re)
	}
}
