package query

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store/embedded"
)

// Parsing of fields, sort, limit, dedup, the row-window operators,
// outlier, predict and compare: canonical text (round-trip tested) and
// errors with their positions.

var rowOpsParseCases = []parseCase{
	{in: "* | fields a, b"},
	{in: "* | fields - a, b"},
	{in: "* | fields -a,b", out: "* | fields - a, b"},
	{in: "* | fields %\"odd name\", _sourceHost"},
	{in: "* | sort by _count desc"},
	{in: "* | sort _count", out: "* | sort by _count desc"},
	{in: "* | order by a asc, b", out: "* | sort by a asc, b desc"},
	{in: "* | SORT BY num(x) * 2 ASC", out: "* | sort by num(x) * 2 asc"},
	{in: "* | sort by %\"asc\"", out: "* | sort by (asc) desc"},
	{in: "* | limit 10"},
	{in: "* | limit {{n}}", params: true},
	{in: "* | dedup"},
	{in: "* | dedup 3 by a, b consecutive"},
	{in: "* | dedup consecutive by a", out: "* | dedup by a consecutive"},
	{in: "* | accum x"},
	{in: "* | accum x as y by a, b"},
	{in: "* | diff x by a as d", out: "* | diff x as d by a"},
	{in: "* | smooth daily, 7 as daily_smoothed"},
	{in: "* | rollingstd x,5", out: "* | rollingstd x, 5"},
	{in: "* | backshift x, 2 by k", out: "* | backshift x, 2 by k"},
	{in: "* | total x"},
	{in: "* | outlier _count"},
	{in: "* | outlier _count by user window=5, threshold=2.5, consecutive=2, direction=+"},
	{in: "* | outlier _count window=5 threshold=3 direction=-+ by user", out: "* | outlier _count by user window=5, threshold=3, direction=+-"},
	{in: "* | outlier _count by a, b, window=5,consecutive=2", out: "* | outlier _count by a, b window=5, consecutive=2"},
	{in: "* | predict _count by 1h"},
	{in: "* | predict _count by 5M model=AR, ar.window=12 forecast=30m", out: "* | predict _count by 5m model=ar, ar.window=12, forecast=30m"},
	{in: "* | predict _count by 1d forecast=7"},
	{in: "* | compare with timeshift 1d"},
	{in: "* | compare timeshift 1w 3 AVG as last_weeks, timeshift 1d", out: "* | compare with timeshift 1w 3 avg as last_weeks, timeshift 1d"},
	{in: "* | compare with timeshift 1d, 2d", out: "* | compare with timeshift 1d, timeshift 2d"},

	{in: "* | sort", err: `line 1, column 5: "sort" needs "by" and a field; write "sort by <field> [asc|desc]"`},
	{in: "* | order desc", err: `line 1, column 11: "order" needs "by" and a field before "desc"; write "order by <field> desc"`},
	{in: "* | sort by a b", err: `line 1, column 15: unexpected "b" in sort; separate sort keys with ","`},
	{in: "* | limit x", err: `line 1, column 11: expected the number of rows to keep after "limit", found "x"`},
	{in: "* | limit {{n}}", err: `line 1, column 11: template parameter {{n}} has no value; substitute dashboard parameters before running the query (n)`},
	{in: "* | fields", err: `line 1, column 11: expected a field name after "fields", found end of query; write "fields a, b" to keep fields or "fields - a, b" to drop them`},
	{in: "* | fields a, a", err: `line 1, column 15: field a is listed twice in "fields"`},
	{in: "* | dedup -1", err: `line 1, column 11: dedup: the number of rows kept per key must be a positive integer`},
	{in: "* | smooth x, 2000", err: `line 1, column 15: smooth: the window 2000 is too large; the limit is 1000`},
	{in: "* | diff x, 2", err: `line 1, column 11: diff takes one field and no window; write "diff <field> [as <name>] [by <fields>]"`},
	{in: "* | outlier _count treshold=3", err: `line 1, column 20: outlier has no option "treshold"; did you mean "threshold"?`},
	{in: "* | outlier _count window=5,", err: `line 1, column 29: expected an option (window=, threshold=, consecutive=, direction=) after ",", found end of query`},
	{in: "* | outlier _count direction=+ +", err: `line 1, column 32: unexpected "+" in outlier`},
	{in: "* | predict _count", err: `line 1, column 19: expected "by" and the timeslice width after "predict _count", found end of query; write "predict _count by 1h" with the width of the timeslice`},
	{in: "* | predict _count by 1h ar.windo=3", err: `line 1, column 29: expected "window" after "ar.", found "windo"`},
	{in: "* | compare timeshift", err: `line 1, column 22: expected a duration such as 1d after "timeshift", found end of query`},
	{in: "* | compare timeshift 1d 3 median", err: `line 1, column 28: unexpected "median" in compare`},
}

func TestRowOpsParse(t *testing.T) {
	for _, c := range rowOpsParseCases {
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

// rowOpsStore loads a small store: events at fixed times.
func rowOpsStore(t *testing.T, lines ...string) (*embedded.Store, Range) {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Config{Retention: 3650 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	lo := goldenLoad{start: start, step: time.Hour}
	for i, l := range lines {
		b, err := lo.event(l, i)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Add(context.Background(), uint64(i+1), b, nil); err != nil {
			t.Fatal(err)
		}
	}
	st.Flush()
	return st, Range{Start: start, End: start.Add(time.Duration(len(lines)) * time.Hour)}
}

func TestRowOpsWarnings(t *testing.T) {
	st, rng := rowOpsStore(t,
		"v=10 | a", "v=x | b", "v=30 | c", "v=oops | d", "v=25 | e", "v=26 | f", "v=24 | g", "v=25 | h")
	cases := []struct{ query, warning string }{
		{"* | count by _messageTime, v | sort by _messageTime asc | accum v", "accum v: 2 non-numeric values skipped"},
		{"* | smooth v, 3", "smooth v: 2 non-numeric values skipped"},
		{"* | timeslice 1h | count by _timeslice, v | outlier v window=3", "outlier v: 2 non-numeric values skipped"},
		{"* | where v != \"c\" | timeslice 1h | count by _timeslice | where _count > 0 and _timeslice != 1709517600000 | predict _count by 1h", "predict _count: "},
		{`* | timeslice 1h | count by _timeslice | if(_count > 0, "n/a", "0") as s | compare timeshift 1d`, "compare: 8 non-numeric values skipped"},
	}
	for _, c := range cases {
		for _, push := range []bool{true, false} {
			_, stats := run(t, st, c.query, push, ExecOptions{Range: rng})
			found := false
			for _, w := range stats.Warnings {
				found = found || strings.HasPrefix(w, c.warning)
			}
			if !found {
				t.Errorf("%q push=%v: warnings %q, want %q", c.query, push, stats.Warnings, c.warning)
			}
		}
	}
}

// compare's shifted runs query the engine over the shifted ranges, each
// pushing down what it can.
func TestCompareShiftedRuns(t *testing.T) {
	st, rng := rowOpsStore(t, "| a", "| b", "at=-24h | c", "at=-48h | d")
	rs := &recordingStore{Store: st}
	q, _ := Parse("* | count | compare timeshift 1d 2")
	p, err := Compile(q, CompileOptions{PushDown: true})
	if err != nil {
		t.Fatal(err)
	}
	s := &collectSink{}
	if _, err := p.Execute(context.Background(), rs, ExecOptions{Range: rng}, s); err != nil {
		t.Fatal(err)
	}
	if len(rs.queries) != 3 {
		t.Fatalf("%d engine queries, want 3", len(rs.queries))
	}
	day := int64(24 * time.Hour)
	for i, q := range rs.queries {
		if q.Start != rng.Start.UnixNano()-int64(i)*day || !strings.Contains(q.LogsQL, "stats") {
			t.Errorf("query %d: %+v", i, q)
		}
	}
	r := s.records[0]
	if r.Get("_count_target") != "2" || r.Get("_count_1d") != "1" || r.Get("_count_2d") != "1" || len(r) != 3 {
		t.Errorf("record %v", r)
	}
	if !strings.Contains(p.Explain(), "re-runs the stages before it shifted back 1d, 2d") {
		t.Errorf("explain:\n%s", p.Explain())
	}
	// The alias of the current value is not delivered, and the records'
	// fields are exactly the schema's.
	if fs := p.OutputFields(); len(fs) != 3 || fs[0].Name != "_count_target" {
		t.Errorf("output fields %v", fs)
	}
	_ = event.FieldRaw
}
