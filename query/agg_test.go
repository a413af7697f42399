package query

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store/embedded"
)

// Differential tests of the aggregates: every query runs pushed down (the
// engine's stats pipe, with split and merge where values or conditional
// stages require it) and all-Go over the same events, and both must give
// identical records; some results are also checked against a computation
// made here from the generated events.

// aggEvent is one generated event, its fields by name ("" = absent).
type aggEvent struct {
	ts     time.Time
	raw    string
	fields map[string]string
}

var aggOnce sync.Once
var aggSt *embedded.Store
var aggEvents []aggEvent
var aggRng Range

// xValues are values of x, a field mixing integers, decimals and values
// the engine reads as numbers but Go does not (and the reverse).
var xValues = []string{
	"1", "2", "3", "10", "-7", "0", "42", "100", "2.5", "0.1", "0.2", "0.3", "-1.25", "1e3", "+5", "007", "-0",
	"abc", "1h", "10KB", "0x10", "1_000", " 5", "NaN", "inf", "1.0", "3.14159", "999999999999999", "12345678901234567890",
}

func aggStore(t testing.TB) (*embedded.Store, []aggEvent, Range) {
	t.Helper()
	aggOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dohyo-agg-test-")
		if err != nil {
			t.Fatal(err)
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		st, err := embedded.Open(dir, embedded.Config{Retention: 30 * 24 * time.Hour}) // a day's retention would move the events of yesterday (before 02:00 UTC)
		if err != nil {
			t.Fatal(err)
		}
		cleanups = append(cleanups, func() { st.Close() })
		r := rand.New(rand.NewSource(7))
		base := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
		users := []string{"alice", "Alice", "bob", "carol", "dave", "Eve", "a,b", `q"uote`, "ü"}
		b := &event.Batch{ReceiptTime: base.UnixNano(), Source: event.Source{Category: "test/agg", Host: "h1"}}
		for i := 0; i < 3000; i++ {
			e := aggEvent{ts: base.Add(time.Duration(i) * 1300 * time.Millisecond), fields: map[string]string{}}
			if i%7 != 0 {
				e.fields["g"] = []string{"a", "b", "c"}[r.Intn(3)]
			}
			e.fields["h"] = "h" + strconv.Itoa(r.Intn(20))
			if i%5 != 0 {
				e.fields["n"] = strconv.Itoa(r.Intn(1000) - 100)
			}
			if i%3 != 0 {
				e.fields["x"] = xValues[r.Intn(len(xValues))]
			}
			if i%11 == 0 {
				e.fields["big"] = "999999999999999"
			} else if i%2 == 0 {
				e.fields["big"] = strconv.Itoa(r.Intn(100))
			}
			e.fields["user"] = users[r.Intn(len(users))]
			if i%4 == 0 {
				e.raw = fmt.Sprintf("plain text %d v=%d end", i, r.Intn(50))
			} else {
				e.raw = fmt.Sprintf(`{"a": %q, "k": %d, "v": %s}`, []string{"x", "y", "z", "1", "2.5"}[r.Intn(5)], r.Intn(5), []string{"1", "2", "\"s\"", "3.5", "null"}[r.Intn(5)])
			}
			ev := event.Event{Time: e.ts.UnixNano(), Raw: e.raw, Fields: goldenJSONFields(e.raw, nil)}
			for _, k := range []string{"g", "h", "n", "x", "big", "user"} {
				if v := e.fields[k]; v != "" {
					ev.Fields = append(ev.Fields, event.Field{Name: k, Value: v})
				}
			}
			b.Events = append(b.Events, ev)
			aggEvents = append(aggEvents, e)
		}
		if err := st.Add(context.Background(), 1, b, nil); err != nil {
			t.Fatal(err)
		}
		st.Flush()
		aggSt = st
		aggRng = Range{Start: base.Add(-time.Minute), End: base.Add(2 * time.Hour)}
	})
	if aggSt == nil {
		t.Fatal("aggregate test store not available")
	}
	return aggSt, aggEvents, aggRng
}

// aggQueries run both ways; pushed says whether the aggregate must reach
// the engine.
var aggQueries = []struct {
	q      string
	pushed bool
}{
	{"* | count", true},
	{"* | count by g", true},
	{"* | count as n by g, h", true},
	{"* | count(x) by g", true},
	{"* | count(x), count(n) as cn, count(nosuch) as none by g", true},
	{"* | count by x", true},
	{"* | count_distinct(x)", true},
	{"* | count by x, g", true},
	{"* | sum(n), avg(n), min(n), max(n) by g", true},
	{"* | sum(x), avg(x), min(x), max(x) by g", true},
	{"* | sum(x) as s, count by h", true},
	{"* | sum(big), avg(big) by g", true},
	{"* | sum(big), min(big), max(big), avg(big)", true},
	{"* | min(x) by h", true},
	{"* | count_distinct(x), values(x) by g", true},
	{"* | count_distinct(user), values(user)", true},
	{"* | count_distinct(user), sum(x) by g", true},
	{"* | values(user) by g, h", true},
	{"* | count_frequent g, h", true},
	{"* | count_frequent x", true},
	{"* | top 5 h", true},
	{"* | top 3 h by sum(n)", true},
	{"* | top 4 g, h by avg(x)", true},
	{"* | topk(3, sum(n)) by h", true},
	{"* | topk(2, count as c) by g, h", true},
	{"* | min(_messageTime), max(_messageTime) by g", true},
	{"* | count by _messageTime | count", true},
	{"* | timeslice 10m | count by _timeslice, g", true},
	{"* | timeslice 7m | sum(n) by _timeslice", true},
	{"* | timeslice 5 buckets | count by _timeslice", true},
	{"* | timeslice | count by _timeslice", true},
	{"* | timeslice 1h as t | count by t, g | count by t", true},
	{"* | timeslice 10m | sum(x), count_distinct(x) by _timeslice, g", true},
	{"* | timeslice 15m | min(x), values(user) by _timeslice", true},
	{`* | timeslice 30m | json "a" as a | count by _timeslice, a`, true},
	{`* | json "a" as a | timeslice 20m | count_distinct(user), sum(n) by _timeslice, a`, true},
	{`* | json "v" as v nodrop | timeslice 1h | sum(v), avg(v) by _timeslice`, true},
	{`* | parse "v=* " as v | sum(v), count by g`, true},
	{`* | json "a" as a | count by a`, true},
	{`* | json "a" as a nodrop | count, count_distinct(a) by a`, true},
	{`* | json "a", "v" as a, v | sum(v), min(v), max(v), count by a`, true},
	{`* | json "k" as k | where k > 1 | sum(k), count_distinct(x) by g`, false},
	{`* | json "k" as k | where k = "2" | sum(k), count_distinct(x) by g`, false},
	{`* | where n > 100 | count by g`, false},
	{`* | where g = "a" | count by h`, true},
	{"* | sum(n / 10) by g", false},
	{"* | pct(n, 50, 90), median(n), stddev(n) by g", false},
	{"* | first(n), last(n), most_recent(x), least_recent(x) by g", false},
	{"* | stddev(x), pct(x, 99.9) by h", false},
	{"* | count by g | sum(_count), max(_count)", true},
	{"* | count by h | top 3 h by sum(_count)", true},
	{"* | timeslice 10m | count by _timeslice | first(_count), last(_count), sum(_count)", true},
	{"* | sum(n) as s by g | where s > 0 | count", true},
	{"* | count by g, h | transpose row h column g", true},
}

func TestAggregateDifferential(t *testing.T) {
	st, _, rng := aggStore(t)
	opt := ExecOptions{Range: rng}
	for _, c := range aggQueries {
		q, err := Parse(c.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.q, err)
			continue
		}
		p, err := Compile(q, CompileOptions{PushDown: true})
		if err != nil {
			t.Errorf("Compile(%q): %v", c.q, err)
			continue
		}
		if got := p.aggregatePushed(); got != c.pushed {
			t.Errorf("%q: aggregate pushed = %v, want %v\n%s", c.q, got, c.pushed, p.Explain())
		}
		pushed, ps := run(t, st, c.q, true, opt)
		goRun, gs := run(t, st, c.q, false, opt)
		if !sameRecords(pushed.records, goRun.records) {
			t.Errorf("%q: pushed and all-Go differ\npushed:\n%s\nGo:\n%s\n%s", c.q, dumpRecords(pushed.records), dumpRecords(goRun.records), p.Explain())
		}
		if ps.MessagesMatched != gs.MessagesMatched {
			t.Errorf("%q: MessagesMatched pushed %d, Go %d", c.q, ps.MessagesMatched, gs.MessagesMatched)
		}
		if len(goRun.records) == 0 {
			t.Errorf("%q: no records", c.q)
		}
	}
}

func sameRecords(a, b []Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func dumpRecords(rows []Row) string {
	var b strings.Builder
	for i, r := range rows {
		if i == 20 {
			fmt.Fprintf(&b, "  ... %d more\n", len(rows)-i)
			break
		}
		parts := make([]string, len(r))
		for j, f := range r {
			parts[j] = f.Name + "=" + goldenValue(f.Value)
		}
		b.WriteString("  " + strings.Join(parts, " ") + "\n")
	}
	return b.String()
}

// TestAggregateReference checks results against sums computed here.
func TestAggregateReference(t *testing.T) {
	st, events, rng := aggStore(t)
	type acc struct {
		count, countX, sumN int64
		minN, maxN          int64
		hasN                bool
		users               map[string]bool
	}
	want := map[string]*acc{}
	for _, e := range events {
		g := e.fields["g"]
		a := want[g]
		if a == nil {
			a = &acc{users: map[string]bool{}}
			want[g] = a
		}
		a.count++
		if e.fields["x"] != "" {
			a.countX++
		}
		if s := e.fields["n"]; s != "" {
			n, _ := strconv.ParseInt(s, 10, 64)
			a.sumN += n
			if !a.hasN || n < a.minN {
				a.minN = n
			}
			if !a.hasN || n > a.maxN {
				a.maxN = n
			}
			a.hasN = true
		}
		a.users[e.fields["user"]] = true
	}
	var groups []string
	for g := range want {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var lines []string
	for _, g := range groups {
		a := want[g]
		var users []string
		for u := range a.users {
			users = append(users, u)
		}
		sort.Strings(users)
		lines = append(lines, fmt.Sprintf("g=%s _count=%d _count_1=%d _sum=%d _min=%d _max=%d _count_distinct=%d", g, a.count, a.countX, a.sumN, a.minN, a.maxN, len(users)))
	}
	q := "* | count, count(x) as _count_1, sum(n), min(n), max(n), count_distinct(user) by g"
	for _, push := range []bool{true, false} {
		s, _ := run(t, st, q, push, ExecOptions{Range: rng})
		var got []string
		for _, r := range s.records {
			parts := make([]string, len(r))
			for i, f := range r {
				parts[i] = f.Name + "=" + f.Value
			}
			got = append(got, strings.Join(parts, " "))
		}
		if strings.Join(got, "\n") != strings.Join(lines, "\n") {
			t.Errorf("push=%v:\n got:\n%s\nwant:\n%s", push, strings.Join(got, "\n"), strings.Join(lines, "\n"))
		}
	}
}

// TestAggregateGroupLimit checks that both ways fail beyond the group limit
// with the same error, and succeed at it.
func TestAggregateGroupLimit(t *testing.T) {
	st, _, rng := aggStore(t)
	for _, c := range []struct {
		q     string
		limit int
		fail  bool
	}{
		{"* | count by h", 20, false},
		{"* | count by h", 19, true},
		{"* | sum(x) by h", 19, true},                  // split: engine and Go partial groups
		{`* | json "a" as a | count by a, h`, 5, true}, // split by the json condition
		{"* | pct(n, 50) by h", 19, true},              // Go only
		{"* | count by g, h", 80, false},
	} {
		for _, push := range []bool{true, false} {
			q, _ := Parse(c.q)
			p, err := Compile(q, CompileOptions{PushDown: push, MaxGroups: c.limit})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Execute(context.Background(), st, ExecOptions{Range: rng}, &collectSink{})
			if c.fail {
				if !errors.Is(err, ErrTooManyGroups) || !strings.Contains(err.Error(), "more than "+strconv.Itoa(c.limit)+" groups") {
					t.Errorf("%q limit %d push=%v: error %v, want too many groups naming the limit", c.q, c.limit, push, err)
				}
			} else if err != nil {
				t.Errorf("%q limit %d push=%v: %v", c.q, c.limit, push, err)
			}
		}
	}
}

// TestAggregateSplitExplain shows the split in Explain and ExplainRun.
func TestAggregateSplitExplain(t *testing.T) {
	st, _, rng := aggStore(t)
	q, _ := Parse("* | sum(x)")
	p, _ := Compile(q, CompileOptions{PushDown: true})
	ex := p.Explain()
	g := `("x":"" or "x":~"^(0|-?[1-9][0-9]{0,14})$" or "x":value_type(uint8) or "x":value_type(uint16) or "x":value_type(uint32))`
	for _, want := range []string{`split:   when a row fails ` + g, `| filter not (("x":"" or`, "merged group by group", `count() if (not (` + g + `)) as "_dohyo.fail"`} {
		if !strings.Contains(ex, want) {
			t.Errorf("Explain lacks %q:\n%s", want, ex)
		}
	}
	q, _ = Parse(`* | json "a" as a | count by a`)
	p, _ = Compile(q, CompileOptions{PushDown: true})
	run, err := p.ExplainRun(context.Background(), st, ExecOptions{Range: rng})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"they run in Go and the aggregate's results merge", `split:   rows failing "_json.a":* run in Go`} {
		if !strings.Contains(run, want) {
			t.Errorf("ExplainRun lacks %q:\n%s", want, run)
		}
	}
}

// TestAggregateWarnings checks the warnings of skipped values.
func TestAggregateWarnings(t *testing.T) {
	st, _, rng := aggStore(t)
	for _, push := range []bool{true, false} {
		_, stats := run(t, st, "* | sum(x), max(x) by g", push, ExecOptions{Range: rng})
		w := strings.Join(stats.Warnings, "\n")
		if !strings.Contains(w, "sum(x): non-numeric values were skipped (") || !strings.Contains(w, "max(x): non-numeric values were skipped") {
			t.Errorf("push=%v: warnings %q", push, stats.Warnings)
		}
	}
}

// TestExactSum checks the order independence of sums of doubles.
func TestExactSum(t *testing.T) {
	vals := []float64{0.1, 0.2, 0.3, 1e16, 1, -1e16, 3.14159, 1e-300, -0.3}
	r := rand.New(rand.NewSource(1))
	var first string
	for k := 0; k < 50; k++ {
		r.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		var s exactSum
		for _, v := range vals {
			s.add(FloatValue(v))
		}
		got := FormatNumber(s.round())
		if k == 0 {
			first = got
		} else if got != first {
			t.Fatalf("order %d: %s, first %s", k, got, first)
		}
	}
	if first != "4.44159" {
		t.Errorf("sum = %s, want 4.44159", first)
	}
	var s exactSum
	s.add(IntValue(1 << 62))
	s.add(IntValue(1 << 62))
	s.add(IntValue(-(1 << 62)))
	s.add(IntValue(3))
	if v := s.value(); v.String() != "4611686018427387907" {
		t.Errorf("overflowing integer sum = %s", v.String())
	}
}

// TestValuesCut checks that values keeps the smallest values of a group
// and warns when it cuts.
func TestValuesCut(t *testing.T) {
	x := newRunContext(ExecOptions{})
	a := &distinctAcc{set: map[string]struct{}{}, json: true, keep: 3, warn: "cut"}
	for i := 20; i >= 0; i-- {
		a.add(x, &aggArg{v: StringValue(strconv.Itoa(i))}, nil)
	}
	if got := a.appendResult(x, nil); got[0] != `["0","1","10"]` {
		t.Errorf("values = %s", got[0])
	}
	if w := x.warningList(); len(w) != 1 || w[0] != "cut" {
		t.Errorf("warnings %q", w)
	}
}

// TestTransposeColumnLimit checks the cut at MaxTransposeColumns columns.
func TestTransposeColumnLimit(t *testing.T) {
	q, _ := Parse("* | count by a, b | transpose row a column b")
	p, err := Compile(q, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := newRunContext(ExecOptions{})
	coll := &recordCollector{}
	op := newStageOperator(p.steps[1].impl, coll, x)
	var rows []Row
	for i := 0; i < MaxTransposeColumns+5; i++ {
		rows = append(rows, Row{{"a", "r"}, {"b", fmt.Sprintf("c%03d", i)}, {"_count", "1"}})
	}
	if err := op.push(rows); err != nil {
		t.Fatal(err)
	}
	if err := op.finish(); err != nil {
		t.Fatal(err)
	}
	if len(coll.rows) != 1 || len(coll.rows[0]) != 1+MaxTransposeColumns || coll.rows[0][MaxTransposeColumns].Name != "c299" {
		t.Errorf("transposed to %d columns, last %v", len(coll.rows[0]), coll.rows[0][len(coll.rows[0])-1])
	}
	if w := x.warningList(); len(w) != 1 || !strings.Contains(w[0], "more than 300 columns") {
		t.Errorf("warnings %q", w)
	}
}

// TestFillmissingLimit checks the warning beyond series.MaxFill
// combinations, both ways.
func TestFillmissingLimit(t *testing.T) {
	st, _, rng := aggStore(t)
	for _, push := range []bool{true, false} {
		s, stats := run(t, st, `* | timeslice 1s | count by _timeslice, g | fillmissing timeslice, values all in g`, push, ExecOptions{Range: rng})
		if w := strings.Join(stats.Warnings, "\n"); !strings.Contains(w, "fillmissing: more than 10000 combinations") {
			t.Errorf("push=%v: warnings %q", push, stats.Warnings)
		}
		if len(s.records) != 3000 {
			t.Errorf("push=%v: %d records, want the 3000 unfilled", push, len(s.records))
		}
	}
}
