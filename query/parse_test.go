package query

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// dump prints a scope tree with its structure explicit.
func dump(e Expr) string {
	switch n := e.(type) {
	case *All:
		return "all"
	case *And:
		return "and(" + dumpList(n.Terms) + ")"
	case *Or:
		return "or(" + dumpList(n.Terms) + ")"
	case *Not:
		return "not(" + dump(n.Term) + ")"
	case *Keyword:
		s := "kw"
		if n.Wildcard {
			s = "wc"
		}
		if n.HasParam {
			s += "P"
		}
		return s + "(" + n.Text + ")"
	case *Phrase:
		return fmt.Sprintf("ph(%q)", n.Text)
	case *FieldMatch:
		op := "="
		if n.Negated {
			op = "!="
		}
		v := n.Value
		if n.Quoted {
			v = fmt.Sprintf("%q", v)
		}
		return "f(" + n.Field + op + v + ")"
	}
	return fmt.Sprintf("?%T", e)
}

func dumpList(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = dump(e)
	}
	return strings.Join(parts, ", ")
}

// zeroPos clears every position in the query, for structural comparison.
func zeroPos(q *Query) {
	var z func(e Expr)
	z = func(e Expr) {
		switch n := e.(type) {
		case *All:
			n.Pos = Pos{}
		case *And:
			n.Pos = Pos{}
			for _, t := range n.Terms {
				z(t)
			}
		case *Or:
			n.Pos = Pos{}
			for _, t := range n.Terms {
				z(t)
			}
		case *Not:
			n.Pos = Pos{}
			z(n.Term)
		case *Keyword:
			n.Pos = Pos{}
		case *Phrase:
			n.Pos = Pos{}
		case *FieldMatch:
			n.Pos = Pos{}
		}
	}
	z(q.Scope)
	for _, s := range q.Stages {
		zeroPositions(s) // every Pos field, by reflection (expr_test.go)
	}
}

// sameAST reports whether two queries are equal apart from positions.
func sameAST(a, b *Query) bool {
	zeroPos(a)
	zeroPos(b)
	return reflect.DeepEqual(a, b)
}

type parseCase struct {
	in     string
	out    string // canonical text; "" means the input itself
	tree   string // dump of the scope, when given
	err    string // the expected error, position included
	params bool   // ParseOptions.AllowParams
}

var parseCases = []parseCase{
	// empty and all
	{in: "", out: "*", tree: "all"},
	{in: "   \n\t ", out: "*", tree: "all"},
	{in: "*", tree: "all"},
	{in: "**", out: "*", tree: "all"},
	// keywords, case and precedence
	{in: "error", tree: "kw(error)"},
	{in: "ERROR", tree: "kw(ERROR)"},
	{in: "error exception", tree: "and(kw(error), kw(exception))"},
	{in: "error AND exception", out: "error exception", tree: "and(kw(error), kw(exception))"},
	{in: "error and exception", out: "error exception"},
	{in: "error aNd exception", out: "error exception"},
	{in: "error OR exception", tree: "or(kw(error), kw(exception))"},
	{in: "error or exception", out: "error OR exception"},
	{in: "a OR b c", tree: "or(kw(a), and(kw(b), kw(c)))"},
	{in: "a b OR c", tree: "or(and(kw(a), kw(b)), kw(c))"},
	{in: "a OR b AND c OR d", out: "a OR b c OR d", tree: "or(kw(a), and(kw(b), kw(c)), kw(d))"},
	{in: "(a OR b) c", tree: "and(or(kw(a), kw(b)), kw(c))"},
	{in: "(a OR b) OR c", out: "a OR b OR c", tree: "or(kw(a), kw(b), kw(c))"},
	{in: "a OR (b OR c)", out: "a OR b OR c", tree: "or(kw(a), kw(b), kw(c))"},
	{in: "(a b) (c d)", out: "a b c d", tree: "and(kw(a), kw(b), kw(c), kw(d))"},
	{in: "a AND (b OR (c AND d))", out: "a (b OR c d)", tree: "and(kw(a), or(kw(b), and(kw(c), kw(d))))"},
	{in: "((a))", out: "a", tree: "kw(a)"},
	{in: "((a OR b)) ((c))", out: "(a OR b) c", tree: "and(or(kw(a), kw(b)), kw(c))"},
	{in: "NOT a b", tree: "and(not(kw(a)), kw(b))"},
	{in: "NOT (a b)", tree: "not(and(kw(a), kw(b)))"},
	{in: "NOT (a OR b) c", tree: "and(not(or(kw(a), kw(b))), kw(c))"},
	{in: "NOT NOT x", tree: "not(not(kw(x)))"},
	{in: "not not x", out: "NOT NOT x"},
	{in: "!x", out: "NOT x", tree: "not(kw(x))"},
	{in: "!!x", out: "NOT NOT x", tree: "not(not(kw(x)))"},
	{in: "! x", out: "NOT x"},
	{in: "a !b", out: "a NOT b", tree: "and(kw(a), not(kw(b)))"},
	{in: "a ! b", out: "a NOT b"},
	{in: "a OR NOT b", tree: "or(kw(a), not(kw(b)))"},
	{in: "NOT a OR b", tree: "or(not(kw(a)), kw(b))"},
	{in: "a AND NOT b", out: "a NOT b", tree: "and(kw(a), not(kw(b)))"},
	{in: "(NOT a)", out: "NOT a"},
	{in: "NOT *", tree: "not(all)"},
	{in: "error *", tree: "and(kw(error), all)"},
	// terms with punctuation, wildcards, unicode
	{in: "10.1.2.3", tree: "kw(10.1.2.3)"},
	{in: "user@example.com", tree: "kw(user@example.com)"},
	{in: "/api/v1/login", tree: "kw(/api/v1/login)"},
	{in: "a-b_c:d/e.f+g@h#i$j%k^l\\m", tree: `kw(a-b_c:d/e.f+g@h#i$j%k^l\m)`},
	{in: "err*", tree: "wc(err*)"},
	{in: "*err*", tree: "wc(*err*)"},
	{in: "e?r", tree: "wc(e?r)"},
	{in: "10.1.*", tree: "wc(10.1.*)"},
	{in: "café Ünïcödé", tree: "and(kw(café), kw(Ünïcödé))"},
	{in: "日本語 ログ", tree: "and(kw(日本語), kw(ログ))"},
	{in: "-foo", tree: "kw(-foo)"},
	{in: "http://host/path", tree: "kw(http://host/path)"},
	// phrases
	{in: `"failed login"`, tree: `ph("failed login")`},
	{in: `"say \"hi\""`, tree: `ph("say \"hi\"")`},
	{in: `"C:\Users\x"`, out: `"C:\\Users\\x"`, tree: `ph("C:\\Users\\x")`},
	{in: `"C:\\Users"`, tree: `ph("C:\\Users")`},
	{in: `"a*b?"`, tree: `ph("a*b?")`},
	{in: "\"multi\nline\"", tree: `ph("multi\nline")`},
	{in: `"a|b" | count`, tree: `ph("a|b")`},
	{in: `"(x)" OR "[y]"`, tree: `or(ph("(x)"), ph("[y]"))`},
	{in: `error"quoted"`, out: `error "quoted"`, tree: `and(kw(error), ph("quoted"))`},
	// field filters
	{in: "_sourceCategory=prod/web*", tree: "f(_sourceCategory=prod/web*)"},
	{in: "_SOURCECATEGORY=prod/web*", out: "_sourceCategory=prod/web*"},
	{in: "_sourcecategory != prod", out: "_sourceCategory!=prod", tree: "f(_sourceCategory!=prod)"},
	{in: "_sourcehost = web-*", out: "_sourceHost=web-*"},
	{in: `_sourceHost=web-* "POST /login"`, tree: `and(f(_sourceHost=web-*), ph("POST /login"))`},
	{in: "_sourceName=/var/log/*.log _source=s _collector=c _sourceId=1 _format=x _size=10 _receiptTime=1",
		tree: "and(f(_sourceName=/var/log/*.log), f(_source=s), f(_collector=c), f(_sourceId=1), f(_format=x), f(_size=10), f(_receiptTime=1))"},
	{in: "env=prod", tree: "f(env=prod)"},
	{in: "ENV=Prod", out: "env=Prod", tree: "f(env=Prod)"},
	{in: `%"odd.field"=x`, tree: "f(odd.field=x)"},
	{in: `%"Odd.Field"!="a b"`, out: `%"odd.field"!="a b"`, tree: `f(odd.field!="a b")`},
	{in: `%"_SourceCategory"=x`, out: "_sourceCategory=x"},
	{in: `%"and"=x`, tree: "f(and=x)"},
	{in: `_sourceCategory="prod web"`, tree: `f(_sourceCategory="prod web")`},
	{in: `_sourceCategory=""`, tree: `f(_sourceCategory="")`},
	{in: `env="*"`, tree: `f(env="*")`},
	{in: "_sourceCategory=and", tree: "f(_sourceCategory=and)"},
	{in: "a!=b", tree: "f(a!=b)"},
	{in: "a != b", out: "a!=b"},
	{in: "(_sourceCategory=a* OR _sourceCategory=b) error NOT debug",
		out:  "(_sourceCategory=a* OR _sourceCategory=b) error NOT debug",
		tree: "and(or(f(_sourceCategory=a*), f(_sourceCategory=b)), kw(error), not(kw(debug)))"},
	{in: "_sourceCategory=prod/payments (error OR exception) NOT healthcheck",
		tree: "and(f(_sourceCategory=prod/payments), or(kw(error), kw(exception)), not(kw(healthcheck)))"},
	// comments and layout
	{in: "error // comment", out: "error"},
	{in: "error /* c */ exception", out: "error exception"},
	{in: "/* lead */ error", out: "error"},
	{in: "// only a comment", out: "*"},
	{in: "error\n// comment line\n| count", out: "error | count"},
	{in: "error /* a | b */ | count", out: "error | count"},
	{in: "http://x//y", tree: "kw(http://x//y)"},
	{in: "a(//c\n b)", out: "a b"},
	{in: "!/*c*/x", out: "NOT x"},
	{in: "x=y//z", tree: "f(x=y//z)"},
	{in: `error"a"//c`, out: `error "a"`},
	{in: "error\n| count\n| count", out: "error | count | count"},
	// count
	{in: "error | count"},
	{in: "error | COUNT", out: "error | count"},
	{in: "| count", out: "* | count"},
	{in: "error|count", out: "error | count"},
	{in: "error | count as n"},
	{in: "error | count as N", out: "error | count as n"},
	{in: "error | count by _sourceCategory"},
	{in: "error | count by _sourcecategory, ENV", out: "error | count by _sourceCategory, env"},
	{in: "error | count(env)"},
	{in: "error | count(env) as n by _sourceHost"},
	{in: "error | count()", out: "error | count"},
	{in: "error | count group by env", out: "error | count by env"},
	{in: "error | count BY env", out: "error | count by env"},
	{in: `error | count by %"my.field"`},
	{in: `error | count by %"by"`},
	{in: `error | count as %"hits per host" by _sourceHost`},
	{in: "error | count by a | count"},
	{in: "error | count by _messageTime"},
	{in: "_sourceCategory=a (x OR y) NOT z | count by _sourceHost"},
	// template parameters (only with AllowParams)
	{in: "{{user}}", params: true, tree: "kwP({{user}})"},
	{in: "_sourceCategory={{cat}} {{kw}}", params: true},
	{in: "prod/{{env}}/web*", params: true, tree: "wcP(prod/{{env}}/web*)"},
	{in: "{{ name }}", params: true},
	{in: "error | count by {{f}}", params: true},
	{in: `"{{x}}"`, tree: `ph("{{x}}")`},

	// errors: operators
	{in: "error | cout", err: `line 1, column 9: unknown operator "cout"; did you mean "count"?`},
	{in: "error | parse \"a=*\" as a"},
	{in: "error | PARSE regex \"x\"", err: `line 1, column 21: the regex of parse regex has no named group to extract; name the part to extract: "user=(?<user>\w+)"`},
	{in: "error | logexplain", err: `line 1, column 9: operator "logexplain" is not supported yet`},
	{in: "error | timeslic 1h", err: `line 1, column 9: unknown operator "timeslic"; did you mean "timeslice"?`},
	{in: "error | sumarize", err: `line 1, column 9: unknown operator "sumarize"; did you mean "summarize"?`},
	{in: "error | xyzzy", err: `line 1, column 9: unknown operator "xyzzy"`},
	{in: "error | concta(a, b) as c", err: `line 1, column 9: unknown function "concta"; did you mean "concat"?`},
	{in: "error | where x > 5"},
	{in: "error | concat(a, b) as c"},
	{in: "error | foo as bar"},
	{in: "error | _receiptTime - _messageTime as lag"},
	{in: "error | (bytes / 1024) as kb", out: "error | bytes / 1024 as kb"},
	{in: "a | count | cout", err: `line 1, column 13: unknown operator "cout"; did you mean "count"?`},
	{in: "error |", err: `line 1, column 7: missing operator after "|"`},
	{in: "error | | count", err: `line 1, column 7: missing operator after "|"`},
	{in: "error | count |", err: `line 1, column 15: missing operator after "|"`},
	{in: "error |\n\n   ", err: `line 1, column 7: missing operator after "|"`},
	{in: "error | {{op}}", params: true, err: `line 1, column 9: a template parameter cannot stand for an operator`},
	// errors: count
	{in: "error | count by", err: `line 1, column 17: expected a field name after "by", found end of query`},
	{in: "error | COUNT BY", err: `line 1, column 17: expected a field name after "by", found end of query`},
	{in: "error | count by | count", err: `line 1, column 18: expected a field name after "by", found "|"`},
	{in: "error | count by a,", err: `line 1, column 20: expected a field name after "by", found end of query`},
	{in: "error | count foo", err: `line 1, column 15: unexpected "foo" in count; did you mean "count by foo"?`},
	{in: "error | count by a, A", err: `line 1, column 21: field a is listed twice after "by"`},
	{in: "error | count by a as n", err: `line 1, column 20: "as" must come before "by"; write count as <name> by <fields>`},
	{in: "error | count(a, b)", err: `line 1, column 16: count takes at most one field`},
	{in: "error | count(", err: `line 1, column 15: expected a field name in count(...), found end of query`},
	{in: "error | count(a", err: `line 1, column 16: expected ")" after count(a, found end of query`},
	{in: "error | count as n, sum(x)"},
	{in: "error | count as", err: `line 1, column 17: expected a field name after "as", found end of query`},
	{in: "error | count as as", err: `line 1, column 18: expected a field name after "as", found "as"; write %"as" for a field named as`},
	{in: "error | count by 1h", err: `line 1, column 18: invalid field name "1h"; field names start with a letter or _; write %"1h"`},
	{in: `error | count by %""`, err: `line 1, column 18: empty field name %""`},
	{in: "error | count group env", err: `line 1, column 21: expected "by" after "group", found "env"`},
	{in: "error | count by {{f}}", err: `line 1, column 18: template parameter {{f}} has no value; substitute dashboard parameters before running the query (f)`},
	// errors: scope
	{in: `"unterminated`, err: `line 1, column 1: unterminated string: missing closing "`},
	{in: "a\nb \"cd", err: `line 2, column 3: unterminated string: missing closing "`},
	{in: "a /* never closed", err: `line 1, column 3: unterminated comment: /* without */`},
	{in: "a (b", err: `line 1, column 5: missing ")" to close the "(" at line 1, column 3, found end of query`},
	{in: "a (b | count", err: `line 1, column 6: missing ")" to close the "(" at line 1, column 3, found "|"`},
	{in: "a )", err: `line 1, column 3: unexpected ")" without a matching "("`},
	{in: "()", err: `line 1, column 1: empty parentheses`},
	{in: "NOT", err: `line 1, column 4: expected a search term after NOT, found end of query`},
	{in: "a NOT", err: `line 1, column 6: expected a search term after NOT, found end of query`},
	{in: "a !", err: `line 1, column 4: expected a search term after "!", found end of query`},
	{in: "a OR", err: `line 1, column 5: expected a search term after OR, found end of query`},
	{in: "a and", err: `line 1, column 6: expected a search term after AND, found end of query`},
	{in: "a OR OR b", err: `line 1, column 6: expected a search term after OR, found "OR"`},
	{in: "OR a", err: `line 1, column 1: unexpected OR; put it in double quotes to search for the word`},
	{in: "(and)", err: `line 1, column 2: unexpected AND; put it in double quotes to search for the word`},
	{in: `""`, err: `line 1, column 1: empty phrase ""`},
	{in: "_index=sumologic_default", err: `line 1, column 1: _index cannot be used in the scope: partitions (_index) are not supported yet`},
	{in: "error _view=daily", err: `line 1, column 7: _view cannot be used in the scope: scheduled views (_view) are not supported yet`},
	{in: "_sourceCategroy=x", err: `line 1, column 1: unknown built-in field "_sourcecategroy"; did you mean "_sourceCategory"?`},
	{in: "_foo=x", err: `line 1, column 1: unknown built-in field "_foo"`},
	{in: "_raw=foo", err: `line 1, column 1: _raw cannot be used in the scope: search _raw with keywords and phrases, not with _raw=...`},
	{in: "_messageTime=1", err: `line 1, column 1: _messageTime cannot be used in the scope: select messages by _messageTime with the time range`},
	{in: "a.b=c", err: `line 1, column 1: invalid field name "a.b"; field names are letters, digits and _; write %"a.b"=... for other names`},
	{in: "web*=c", err: `line 1, column 1: invalid field name "web*"; field names are letters, digits and _; write %"web*"=... for other names`},
	{in: `"a"="b"`, err: `line 1, column 1: a quoted phrase cannot be a field name; write %"a"=... for a field with an unusual name`},
	{in: `%"f" x`, err: `line 1, column 6: expected "=" or "!=" after the field name %"f", found "x"`},
	{in: "env=", err: `line 1, column 5: expected a value after "=", found end of query`},
	{in: "_sourceName=//server/share", err: `line 1, column 27: expected a value after "=", found end of query`},
	{in: "env!=)", err: `line 1, column 6: expected a value after "!=", found ")"`},
	{in: "=x", err: `line 1, column 1: "=" without a field name before it`},
	{in: "a=b=c", err: `line 1, column 4: expected a search term, found "="`},
	{in: "a < b", err: `line 1, column 3: expected a search term, found "<"`},
	{in: "[error]", err: `line 1, column 1: unexpected character '['; put terms with special characters in double quotes`},
	{in: "error;", err: `line 1, column 6: unexpected character ';'; put terms with special characters in double quotes`},
	{in: "'single'", err: `line 1, column 1: unexpected single quote; put phrases in double quotes`},
	{in: "a\xffb", err: `line 1, column 2: invalid UTF-8 in the query`},
	{in: "a\x00", err: `line 1, column 2: unexpected control character U+0000`},
	{in: "{{user}}", err: `line 1, column 1: template parameter {{user}} has no value; substitute dashboard parameters before running the query (user)`},
	{in: "prod/{{env}}", err: `line 1, column 1: template parameter {{env}} has no value; substitute dashboard parameters before running the query (prod/{{env}})`},
	{in: "x {{unterminated", params: true, err: `line 1, column 3: unterminated template parameter: {{ without }}`},
	{in: "{{a b}}", params: true, err: `line 1, column 1: invalid template parameter name "a b"; names may contain letters, digits, _, - and .`},
	{in: "x {{}}", params: true, err: `line 1, column 3: empty template parameter {{}}`},
	{in: "日本 \"語", err: `line 1, column 4: unterminated string: missing closing "`},
	{in: "x\r\ny OR", err: `line 2, column 5: expected a search term after OR, found end of query`},
}

func TestParse(t *testing.T) {
	long := strings.Repeat("a ", MaxQueryLength/2+1)
	longTerm := strings.Repeat("x", MaxTokenLength+1)
	cases := append([]parseCase{
		{in: long, err: fmt.Sprintf("line 1, column %d: the query is %d characters long; the limit is %d", MaxQueryLength+1, len(long), MaxQueryLength)},
		{in: "a " + longTerm, err: fmt.Sprintf("line 1, column 3: term is %d characters long; the limit is %d", MaxTokenLength+1, MaxTokenLength)},
		{in: `"` + longTerm + `"`, err: fmt.Sprintf("line 1, column 1: string is %d characters long; the limit is %d", MaxTokenLength+1, MaxTokenLength)},
		{in: strings.Repeat("y", MaxTokenLength), out: strings.Repeat("y", MaxTokenLength)},
	}, parseCases...)
	ok, bad := 0, 0
	for _, c := range cases {
		name := c.in
		if len(name) > 60 {
			name = name[:60]
		}
		q, err := ParseWithOptions(c.in, ParseOptions{AllowParams: c.params})
		if c.err != "" {
			bad++
			if err == nil {
				t.Errorf("Parse(%q) = %q, want error %q", name, q.String(), c.err)
				continue
			}
			if _, isErr := AsError(err); !isErr {
				t.Errorf("Parse(%q): error %T is not *Error", name, err)
			}
			if err.Error() != c.err {
				t.Errorf("Parse(%q):\n got error %s\nwant error %s", name, err, c.err)
			}
			continue
		}
		ok++
		if err != nil {
			t.Errorf("Parse(%q): %v", name, err)
			continue
		}
		want := c.out
		if want == "" {
			want = c.in
		}
		if got := q.String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", name, got, want)
		}
		if c.tree != "" {
			if got := dump(q.Scope); got != c.tree {
				t.Errorf("Parse(%q) tree = %s, want %s", name, got, c.tree)
			}
		}
		checkRoundTrip(t, c.in, q, c.params)
	}
	t.Logf("%d cases: %d valid, %d errors", ok+bad, ok, bad)
}

// checkRoundTrip checks that the printed query parses to the same tree and
// prints the same again.
func checkRoundTrip(t testing.TB, in string, q *Query, params bool) {
	t.Helper()
	printed := q.String()
	q2, err := ParseWithOptions(printed, ParseOptions{AllowParams: params})
	if err != nil {
		t.Fatalf("re-parsing %q (printed from %q): %v", printed, in, err)
	}
	if again := q2.String(); again != printed {
		t.Fatalf("printing is not idempotent: %q -> %q", printed, again)
	}
	q1, err := ParseWithOptions(in, ParseOptions{AllowParams: params})
	if err != nil {
		t.Fatalf("re-parsing %q: %v", in, err)
	}
	if !sameAST(q1, q2) {
		t.Fatalf("round trip changed the tree:\n in:  %q -> %s\n out: %q -> %s", in, dump(q1.Scope), printed, dump(q2.Scope))
	}
}

func TestParsePositions(t *testing.T) {
	q, err := Parse("a OR\n  _sourceHost=x | count(f) as n by g")
	if err != nil {
		t.Fatal(err)
	}
	or := q.Scope.(*Or)
	fm := or.Terms[1].(*FieldMatch)
	if fm.Pos != (Pos{Offset: 7, Line: 2, Column: 3}) {
		t.Errorf("field match at %+v", fm.Pos)
	}
	c := q.Stages[0].(*AggregateStage)
	if c.Pos != (Pos{Offset: 23, Line: 2, Column: 19}) || c.Funcs[0].Arg.Position().Column != 25 || c.Funcs[0].As[0].Pos.Column != 31 || c.By[0].Pos.Column != 36 {
		t.Errorf("count positions %+v %+v %+v %+v", c.Pos, c.Funcs[0].Arg.Position(), c.Funcs[0].As, c.By[0].Pos)
	}
}

func TestCheck(t *testing.T) {
	r := Check("_sourceCategory={{cat}} error | count by {{field}}")
	if !r.OK() || strings.Join(r.Params, ",") != "cat,field" || !r.Aggregate {
		t.Errorf("Check with params: %+v", r)
	}
	r = Check("error | cout")
	if r.OK() || r.Err.Pos.Column != 9 || r.Err.Hint != `did you mean "count"?` {
		t.Errorf("Check typo: %+v", r)
	}
	r = Check("error | count by _index")
	if r.OK() || r.Err.Error() != "line 1, column 18: _index is not supported yet" {
		t.Errorf("Check compile error: %+v", r)
	}
	r = Check("  error   OR  x ")
	if !r.OK() || r.Canonical != "error OR x" || r.Aggregate {
		t.Errorf("Check ok: %+v", r)
	}
	rs := CheckAll("a", "a |")
	if !rs[0].OK() || rs[1].OK() {
		t.Errorf("CheckAll: %+v", rs)
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ in, err string }{
		{"error | count by _index", "line 1, column 18: _index is not supported yet"},
		{"error | count by a | count by b", `line 1, column 31: field "b" does not exist after the aggregate; the records have a, _count`},
		{"error | count | count(x)", `line 1, column 23: field "x" does not exist after the aggregate; the records have _count`},
		{"error | count as a by a", `line 1, column 18: the count's column "a" is also a group-by field; name it with count as <name>`},
		{"error | count by _count", `line 1, column 18: unknown built-in field "_count"`},
		{"error | count by a | count by _count", `line 1, column 22: the count's column "_count" is also a group-by field; name it with count as <name>`},
		{"error | count as _raw", "line 1, column 18: _raw is a built-in field and cannot name the count"},
		{"error | count by _sourcecategroy", `line 1, column 18: unknown built-in field "_sourcecategroy"; did you mean "_sourceCategory"?`},
		{`error | count(%"_dohyo.rid")`, `line 1, column 15: unknown built-in field "_dohyo.rid"`},
	}
	for _, c := range cases {
		q, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		_, err = Compile(q, CompileOptions{PushDown: true})
		if err == nil || err.Error() != c.err {
			t.Errorf("Compile(%q) = %v, want %s", c.in, err, c.err)
		}
	}
	q, _ := ParseWithOptions("{{x}} | count", ParseOptions{AllowParams: true})
	if _, err := Compile(q, CompileOptions{}); err == nil || !strings.Contains(err.Error(), "template parameter") {
		t.Errorf("Compile with params: %v", err)
	}
}

func TestLexURIs(t *testing.T) {
	toks, err := lexAll("x | lookup latitude from geo://location on ip=src_ip | save path://\"/a/b\" // note")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, tk := range toks {
		texts = append(texts, tk.text)
	}
	want := `x | lookup latitude from geo://location on ip = src_ip | save path:// "/a/b"`
	if got := strings.Join(texts, " "); got != want {
		t.Errorf("tokens %q, want %q", got, want)
	}
}

func TestSuggest(t *testing.T) {
	cases := map[string]string{"cout": "count", "prase": "parse", "jsno": "json", "timeslic": "timeslice", "wher": "where", "xyzzy": "", "a": ""}
	for in, want := range cases {
		if got := suggest(in, operatorNames); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
