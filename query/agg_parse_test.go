package query

import (
	"testing"
)

// aggParseCases are the parser cases of the aggregate family (aggregate
// stages, timeslice, transpose, top, fillmissing): canonical text or the
// error with its position. They also seed the fuzz targets.
var aggParseCases = []parseCase{
	// aggregate stages
	{in: "* | count, sum(bytes), avg(bytes) as a, min(bytes), max(bytes) by srv, x"},
	{in: "* | COUNT AS N, Sum(Bytes) GROUP BY Srv", out: "* | count as n, sum(bytes) by srv"},
	{in: "* | pct(latency, 50, 95.5, 99) as p50, p95, p99 by svc"},
	{in: "* | pct(latency, 95)"},
	{in: "* | median(x), stddev(x), first(x), last(x), most_recent(x), least_recent(x), values(x)"},
	{in: "* | count_distinct(user) as users by _sourceHost"},
	{in: "* | count_frequent a, b"},
	{in: "* | topk(5, sum(bytes)) by user"},
	{in: "* | topk(5, count as n) by user, host"},
	{in: "* | sum(bytes / 1024) as kb, count(if(status >= 500, 1, \"\")) as errors"},
	{in: "* | count(x) as n, count_distinct(y)"},
	{in: "* | count() as n", out: "* | count as n"},
	{in: "* | max(a, b) as m", out: "* | (max(a, b)) as m"},
	{in: "* | min(a) as m"},
	{in: `* | count by %"my field", %"by"`},
	{in: "* | count by a | count"},
	{in: "* | sum(%\"bytes sent\")"},
	{in: "* | count(", err: `line 1, column 11: expected a field name in count(...), found end of query`},
	{in: "* | sum(x", err: `line 1, column 10: missing ")" to close sum( at line 1, column 8, found end of query`},
	{in: "* | sum()", err: `line 1, column 9: sum needs an argument; write sum(<field or expression>)`},
	{in: "* | sum(x, y)", err: `line 1, column 10: sum takes one argument`},
	{in: "* | sum", err: `line 1, column 8: expected "(" after "sum", found end of query; write sum(<field or expression>)`},
	{in: "* | sum x", err: `line 1, column 9: expected "(" after "sum", found "x"; write sum(<field or expression>)`},
	{in: "* | pct(x)", err: `line 1, column 10: pct needs at least one percentile; write pct(x, 95)`},
	{in: "* | pct(x, 200)", err: `line 1, column 12: percentile 200 is not between 0 and 100; write pct(<field>, 95) for the 95th percentile`},
	{in: "* | pct(x, y)", err: `line 1, column 12: expected a percentile (a number between 0 and 100), found "y"`},
	{in: "* | pct(x, 50, 90) as a", err: `line 1, column 24: pct(...) with 2 percentiles needs 2 names after "as", found end of query`},
	{in: "* | count by a as n", err: `line 1, column 16: "as" must come before "by"; write count as <name> by <fields>`},
	{in: "* | count, sum(x) by a as n", err: `line 1, column 24: "as" must come before "by"; write sum as <name> by <fields>`},
	{in: "* | count, count_frequent a", err: `line 1, column 12: count_frequent cannot share a stage with other aggregates; run it in a stage of its own`},
	{in: "* | count_frequent a, b, count", out: "* | count_frequent a, b, count"},
	{in: "* | count_frequent(a)", err: `line 1, column 19: count_frequent takes fields without parentheses; write count_frequent a, b`},
	{in: "* | count_frequent a by b", err: `line 1, column 22: count_frequent has no "by": it groups by its own fields; write count_frequent a, b`},
	{in: "* | count_frequent a as n", err: `line 1, column 22: count_frequent's column is always _approxcount; rename it in a later stage: | _approxcount as n`},
	{in: "* | topk(5, count)", err: `line 1, column 5: topk needs "by"; write topk(N, count) by <fields>`},
	{in: "* | topk(count) by a", err: `line 1, column 10: expected the number of rows after "topk", found "count"; write topk(10, count) by <field>`},
	{in: "* | topk(5, pct(x, 5)) by a", err: `line 1, column 13: topk cannot rank by pct; rank by count, sum, avg, min, max, count_distinct, median, stddev`},
	{in: "* | count, topk(5, count) by a", err: `line 1, column 12: topk cannot share a stage with other aggregates; run it in a stage of its own`},
	{in: "* | count, sumx(a)", err: `line 1, column 12: expected an aggregate after ",", found "sumx"`},
	{in: "* | count, pct_sampling(a, 5)", err: `line 1, column 12: aggregate "pct_sampling" is not supported yet`},
	{in: "* | count by concat(a, b)", err: `line 1, column 14: group by fields only, not expressions; compute it first: | <expression> as <field> | ... by <field>`},
	{in: "* | max(bytes) foo", err: `line 1, column 16: unexpected "foo" in max; did you mean "max by foo"?`},
	{in: "* | count as a, b", err: `line 1, column 17: expected an aggregate after ",", found "b"`},
	// timeslice
	{in: "* | timeslice 1h"},
	{in: "* | timeslice 1H", out: "* | timeslice 1h"},
	{in: "* | timeslice by 15m as t", out: "* | timeslice 15m as t"},
	{in: "* | timeslice 10 buckets"},
	{in: "* | timeslice"},
	{in: "* | timeslice as t"},
	{in: "* | timeslice 1w | count by _timeslice"},
	{in: "* | timeslice 1x", err: `line 1, column 15: invalid timeslice width "1x"; write a number and a unit: 30s, 5m, 1h, 1d, 1w; or N buckets`},
	{in: "* | timeslice 5", err: `line 1, column 15: timeslice width 5 has no unit; write timeslice 5m (units s, m, h, d, w) or timeslice 5 buckets`},
	{in: "* | timeslice 0 buckets", err: `line 1, column 15: timeslice: the number of buckets must be between 1 and 10000`},
	{in: "* | timeslice 1h 2h", err: `line 1, column 18: unexpected "2h" in timeslice`},
	// transpose
	{in: "* | count by a, b | transpose row a column b"},
	{in: "* | count by a, b, c | transpose row a column b, c as x, %\"200\", 404, *", out: "* | count by a, b, c | transpose row a column b, c as x, %\"200\", %\"404\", *"},
	{in: "* | transpose column b", err: `line 1, column 15: expected "row" after "transpose", found "column"; write transpose row <field> column <field>`},
	{in: "* | transpose row a", err: `line 1, column 20: expected "column" after the row fields, found end of query; write transpose row <field> column <field>`},
	{in: "* | transpose row a column a", err: `line 1, column 28: field a is listed twice in transpose`},
	{in: "* | transpose row a column b as x, x", err: `line 1, column 36: column x is listed twice after "as"`},
	// top
	{in: "* | top 10 user"},
	{in: "* | top 10 user, host by sum(bytes)"},
	{in: "* | top 3 a by count_distinct(b) as n"},
	{in: "* | top x", err: `line 1, column 9: expected the number of rows after "top", found "x"; write top 10 <field>`},
	{in: "* | top 0 a", err: `line 1, column 9: top: the number of rows must be an integer from 1 to 100000`},
	{in: "* | top 5", err: `line 1, column 10: expected a field name in top, found end of query`},
	{in: "* | top 5 a by b", err: `line 1, column 16: expected an aggregate after "by" in top, found "b"; write top 10 user by sum(bytes)`},
	{in: "* | top 5 a, a", err: `line 1, column 14: field a is listed twice in top`},
	// fillmissing
	{in: `* | count by a | fillmissing timeslice(15m), values("a", "b") in type with 0 for _count takeLast`},
	{in: `* | count by a | fillmissing values all in a, timeslice in t with -1 for n, m with "x" for z`},
	{in: "* | count by a | fillmissing timeslice takelast", out: "* | count by a | fillmissing timeslice takeLast"},
	{in: "* | fillmissing", err: `line 1, column 16: expected a generator (timeslice, values(...) in <field>, values all in <field>) after fillmissing, found end of query`},
	{in: `* | fillmissing values("a")`, err: `line 1, column 28: expected "in" and a field after the values, found end of query; write values("a", "b") in <field>`},
	{in: `* | fillmissing values in a`, err: `line 1, column 24: expected "(" or "all" after "values", found "in"; write values("a", "b") in <field> or values all in <field>`},
	{in: "* | fillmissing timeslice(15x)", err: `line 1, column 27: invalid timeslice width "15x"; write timeslice(15m)`},
	{in: "* | fillmissing timeslice with 0", err: `line 1, column 33: expected "for" after "with 0", found end of query; write with 0 for _count`},
	{in: "* | fillmissing timeslice with x for y", err: `line 1, column 32: expected a constant (a quoted string, a number, true or false), found "x"`},
}

func TestAggregateParse(t *testing.T) {
	for _, c := range aggParseCases {
		q, err := ParseWithOptions(c.in, ParseOptions{AllowParams: c.params})
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("Parse(%q) = %v, want error %s", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		want := c.out
		if want == "" {
			want = c.in
		}
		if got := q.String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got, want)
		}
		checkRoundTrip(t, c.in, q, c.params)
	}
}

// TestAggregateCompileErrors checks errors found when planning.
func TestAggregateCompileErrors(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{"* | count, count", `line 1, column 12: two columns named "_count" in one stage; name them with "as": count as <name>`},
		{"* | sum(a) as s, avg(b) as s", `line 1, column 28: two columns named "s" in one stage; name them with "as": avg as <name>`},
		{"* | sum(a) as x by x", `line 1, column 15: the sum's column "x" is also a group-by field; name it with sum as <name>`},
		{"* | count as _raw", `line 1, column 14: _raw is a built-in field and cannot name the count`},
		{"* | count by nosuch | sum(x)", `line 1, column 27: field "x" does not exist after the aggregate; the records have nosuch, _count`},
		{"* | count by a | most_recent(a)", `line 1, column 18: most_recent needs messages: the records of an aggregate have no _messageTime; use it in the first aggregate, or first/last over sorted records`},
		{"* | count by a | timeslice 1h", `line 1, column 18: timeslice after an aggregate: the records have no _messageTime; put timeslice before the aggregate that groups by it: | timeslice 1h | count by _timeslice`},
		{"* | timeslice 1h as _raw", `line 1, column 21: _raw is a built-in field and cannot name the timeslice`},
		{"* | timeslice 1h as _ts", `line 1, column 21: field names starting with _ are reserved for built-in fields: _ts; name the timeslice without the leading _`},
		{"* | transpose row a column b", `line 1, column 5: transpose must follow an aggregate; transpose pivots records: ... | count by _timeslice, status | transpose row _timeslice column status`},
		{"* | count by a | transpose row a column _count", `line 1, column 18: transpose needs a value field besides the row and column fields; the records have a, _count`},
		{"* | fillmissing timeslice", `line 1, column 5: fillmissing must follow an aggregate; ... | timeslice 15m | count by _timeslice | fillmissing timeslice`},
		{"* | count by _sourceHost | fillmissing timeslice in _sourceHost", `line 1, column 40: fillmissing timeslice needs a width: no timeslice stage makes _sourceHost; write fillmissing timeslice(15m)`},
		{"* | count by a | fillmissing values(\"x\") in a takeLast", `line 1, column 18: takeLast needs a timeslice generator; write fillmissing timeslice takeLast`},
		{"* | count by a | fillmissing values(\"x\") in a, values all in a", `line 1, column 62: two generators fill a`},
		{"* | count by a | top 1 _count", `line 1, column 18: the count's column "_count" is also a group-by field; name it with count as <name>`},
		{"* | topk(2, count) by _count", `line 1, column 23: unknown built-in field "_count"`},
	} {
		q, err := Parse(c.in)
		if err == nil {
			_, err = Compile(q, CompileOptions{PushDown: true})
		}
		if err == nil || err.Error() != c.err {
			t.Errorf("%q: error %v\n                       want %s", c.in, err, c.err)
		}
	}
}
