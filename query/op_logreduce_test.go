package query

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/analytics/logreduce"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

// logreduce, logreduce keys and values, logcompare: canonical text (round
// trip tested), errors with positions, the block path against the row
// path on demo data, the drill-down round trip, and bad input.

var logreduceParseCases = []parseCase{
	{in: "* | logreduce"},
	{in: "* | summarize", out: "* | logreduce"},
	{in: "* | LogReduce field=msg by host, svc limit=10 criteria=MostCommon optimize", out: "* | logreduce field=msg by host, svc limit=10 criteria=mostcommon optimize"},
	{in: "* | logreduce by host, limit=10, criteria=leastcommon", out: "* | logreduce by host limit=10 criteria=leastcommon"},
	{in: "* | logreduce limit=5, by a, b", out: "* | logreduce by a, b limit=5"},
	{in: "* | logreduce by a, optimize", out: "* | logreduce by a optimize"},
	{in: "* | logreduce by a, %\"optimize\"", out: "* | logreduce by a, %\"optimize\""},
	{in: "* | logreduce details 0123456789ABCDEF", out: "* | logreduce details 0123456789abcdef"},
	{in: "* | logreduce | details 0123456789abcdef", out: "* | logreduce details 0123456789abcdef"},
	{in: "* | logreduce field=f by k | details \"0000000000000000\" | count", out: "* | logreduce field=f by k details 0000000000000000 | count"},
	{in: "* | logreduce details 1234567890123456"},
	{in: "* | logreduce keys"},
	{in: "* | logreduce keys parser=kv maxdepth=2, field=m noaggregate", out: "* | logreduce keys parser=keyvalue maxdepth=2 field=m noaggregate"},
	{in: "* | logreduce keys | details 0000000000000000", out: "* | logreduce keys details 0000000000000000"},
	{in: "* | logreduce values on a"},
	{in: "* | logreduce values on a, b output_threshold 0.25", out: "* | logreduce values on a, b output_threshold=0.25"},
	{in: "* | logreduce values on a, output_threshold=1 details 00000000000000aa", out: "* | logreduce values on a output_threshold=1 details 00000000000000aa"},
	{in: "* | logcompare timeshift -1d"},
	{in: "* | logcompare timeshift 24h", out: "* | logcompare timeshift -24h"},
	{in: "* | logcompare timeshift -0s baseline(_sourceHost=cluster-2)", out: "* | logcompare timeshift -0s baseline (_sourceHost=cluster-2)"},
	{in: "* | logcompare timeshift -1w baseline (a OR b (c \"d e\"))", out: "* | logcompare timeshift -1w baseline (a OR b c \"d e\")"},
	{in: "* | logcompare start_time 2016-01-06T12:00:00-08:00 end_time 2016-01-07T12:00:00.5-08:00", out: "* | logcompare start_time 2016-01-06T20:00:00Z end_time 2016-01-07T20:00:00.5Z"},
	{in: "* | logcompare start_time \"2016-01-06\" end_time 1452211200000", out: "* | logcompare start_time 2016-01-06T00:00:00Z end_time 2016-01-08T00:00:00Z"},
	{in: "* | logcompare timeshift -1d | details abcdefabcdefabcd | where x = 1", out: "* | logcompare timeshift -1d details abcdefabcdefabcd | where x = 1"},
	{in: "* | logcompare timeshift -1d baseline (x) | count"},

	{in: "* | logreduce limit=0", err: "line 1, column 21: logreduce: limit must be a positive integer, got 0"},
	{in: "* | logreduce criteria=rare", err: `line 1, column 24: expected mostcommon or leastcommon after "criteria=", found "rare"; criteria=mostcommon lists the largest signatures first, leastcommon the smallest; without criteria the most relevant come first`},
	{in: "* | logreduce feild=x", err: `line 1, column 15: logreduce has no option "feild"; did you mean "field"?`},
	{in: "* | logreduce keys limit=3", err: `line 1, column 20: logreduce keys has no option "limit"; the options are parser, maxdepth, field`},
	{in: "* | logreduce by", err: `line 1, column 17: expected a field name after "by", found end of query`},
	{in: "* | logreduce x", err: `line 1, column 15: unexpected "x" in logreduce; write logreduce [field=<field>] [by <field>, ...] [limit=<n>] [criteria=mostcommon|leastcommon] [optimize]`},
	{in: "* | logreduce details", err: `line 1, column 22: expected a signature id after "details", found end of query; write "details <_signature_id>" with the 16 hex digits of a logreduce record`},
	{in: "* | logreduce details 12g4567890123456", err: `line 1, column 23: "12g4567890123456" is not a signature id; a signature id is 16 hex digits, the _signature_id (or _cluster_id) of a logreduce record`},
	{in: "* | logreduce values", err: `line 1, column 21: expected "on" after "logreduce values", found end of query; write "logreduce values on <field>[, <field>...]"`},
	{in: "* | logreduce values on a, b, c, d, e, f, g, h, i, j, k", err: "line 1, column 55: logreduce values takes at most 10 fields"},
	{in: "* | details 0123456789abcdef", err: `line 1, column 5: details must follow logreduce or logcompare; write "... | logreduce | details <signature id>" to list the messages of a signature`},
	{in: "* | logcompare timeshift", err: `line 1, column 25: expected a time shift such as -1d after "timeshift", found end of query; write a whole number and a unit: -30m, -24h, -1d, -1w (s, m, h, d or w)`},
	{in: "* | logcompare timeshift -1y", err: `line 1, column 27: expected a time shift such as -1d after "timeshift", found "1y"; write a whole number and a unit: -30m, -24h, -1d, -1w (s, m, h, d or w)`},
	{in: "* | logcompare start_time 2016-01-06", err: `line 1, column 37: expected "end_time" after the start time, found end of query; write start_time <time> end_time <time>`},
	{in: "* | logcompare timeshift -1d baseline x", err: `line 1, column 39: expected "(" after "baseline", found "x"; write baseline (<keywords and metadata>), e.g. baseline (_sourceHost=cluster-2)`},
	{in: "* | logcompare timeshift -1d baseline (a", err: `line 1, column 41: missing ")" to close the baseline scope at line 1, column 39, found end of query; the baseline is a scope (keywords and metadata), without "|"`},
	{in: "* | logcompare timeshift -1d x", err: `line 1, column 30: unexpected "x" in logcompare`},
}

func TestLogReduceParse(t *testing.T) {
	for _, c := range logreduceParseCases {
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

// Every 16-hex id parses as one token, bare or quoted.
func TestSignatureIDTokens(t *testing.T) {
	for i := 0; i < 2000; i++ {
		x := uint64(i) * 0x9e3779b97f4a7c15
		if i%7 == 0 {
			x = uint64(i) * 1000003 // digits only, or with a short hex tail
		}
		id := fmt.Sprintf("%016x", x)
		for _, text := range []string{"* | logreduce details " + id, "* | logreduce | details " + strings.ToUpper(id) + " | count", "* | logcompare timeshift -1d details \"" + id + "\""} {
			q, err := Parse(text)
			if err != nil {
				t.Fatalf("Parse(%q): %v", text, err)
			}
			var got string
			switch s := q.Stages[0].(type) {
			case *LogReduceStage:
				got = s.Details
			case *LogCompareStage:
				got = s.Details
			}
			if got != id {
				t.Fatalf("Parse(%q): id %q", text, got)
			}
		}
	}
}

func TestLogReduceCompileErrors(t *testing.T) {
	cases := []struct{ in, err string }{
		{"* | count | logreduce", "line 1, column 13: logreduce needs messages: it cannot follow an aggregate; put logreduce before any aggregate: ... | logreduce"},
		{"* | count by a | logreduce keys", "line 1, column 18: logreduce needs messages: it cannot follow an aggregate"},
		{"* | logreduce | logreduce", "line 1, column 17: logreduce needs messages: it cannot follow an aggregate"},
		{"* | count | logcompare timeshift -1d", "line 1, column 13: logcompare needs messages: it cannot follow an aggregate"},
		{"* | logreduce by _count", "line 1, column 18: unknown built-in field \"_count\""},
		{"* | logreduce field=_sourcehostx", "unknown built-in field \"_sourcehostx\""},
		{"* | logreduce values on _x", "unknown built-in field \"_x\""},
	}
	for _, c := range cases {
		q, err := Parse(c.in)
		if err == nil {
			_, err = Compile(q, CompileOptions{PushDown: true})
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.err)
		}
	}
	// The drill-down is a message stage, logreduce keys noaggregate too.
	for _, text := range []string{"* | logreduce details 0123456789abcdef | count", "* | logreduce keys noaggregate | count by _schema", "* | logcompare timeshift -1d details 0123456789abcdef | logreduce"} {
		q, _ := Parse(text)
		if _, err := Compile(q, CompileOptions{}); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}

func TestDrillDownQuery(t *testing.T) {
	cases := []struct{ in, id, want, err string }{
		{"error | logreduce", "0123456789ABCDEF", "error | logreduce details 0123456789abcdef", ""},
		{"error | parse \"a=*\" as a | logreduce field=a by b limit=3 | where _count > 5 | sort by _count", "0123456789abcdef", "error | parse \"a=*\" as a | logreduce field=a by b limit=3 details 0123456789abcdef", ""},
		{"* | summarize criteria=mostcommon", "0000000000000000", "* | logreduce criteria=mostcommon details 0000000000000000", ""},
		{"* | logreduce keys noaggregate | logreduce keys | count", "0000000000000000", "* | logreduce keys noaggregate | logreduce keys details 0000000000000000", ""},
		{"* | logreduce values on a, b | fields _count", "00000000000000ff", "* | logreduce values on a, b details 00000000000000ff", ""},
		{"x | logcompare timeshift -1d baseline (y) | where _isnew = 1", "00000000000000ff", "x | logcompare timeshift -1d baseline (y) details 00000000000000ff", ""},
		{"* | logreduce details 0123456789abcdef", "00000000000000ff", "* | logreduce details 00000000000000ff", ""},
		{"* | count", "0123456789abcdef", "", "no logreduce or logcompare stage"},
		{"* | logreduce", "xyz", "", "\"xyz\" is not a signature id"},
		{"* | cout", "0123456789abcdef", "", "unknown operator"},
	}
	for _, c := range cases {
		got, err := DrillDownQuery(c.in, c.id)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("DrillDownQuery(%q, %q) = %q, %v, want error %q", c.in, c.id, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("DrillDownQuery(%q, %q) = %q, %v, want %q", c.in, c.id, got, err, c.want)
		}
	}
}

// ---- on demo data ----

var (
	demoOnce sync.Once
	demoSt   *embedded.Store
	demoRng  Range
	demoErr  error
)

// demoStore is a day of demo traffic (web, payments, CloudTrail): 20,000
// events stored as the demo's sources store them.
func demoStore(t *testing.T) (*embedded.Store, Range) {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dohyo-query-demo-")
		if err != nil {
			demoErr = err
			return
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		end := time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC)
		demoRng = Range{Start: end.Add(-24 * time.Hour), End: end}
		if demoErr = generateDemoStore(dir, 20000, demoRng); demoErr != nil {
			return
		}
		demoSt, demoErr = embedded.Open(filepath.Join(dir, "engine"), embedded.Config{Retention: lrBenchRetention, FutureRetention: 48 * time.Hour})
		if demoErr == nil {
			cleanups = append(cleanups, func() { demoSt.Close() })
		}
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoSt, demoRng
}

func recordLines(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r))
		for j, f := range r {
			parts[j] = f.Name + "=" + f.Value
		}
		out[i] = strings.Join(parts, " ")
	}
	return out
}

// The block path (the engine feeding one miner per worker) gives exactly
// the records of the row path (one miner fed in Go), on enough data for
// the engine to use several workers.
func TestLogReduceBlockPathMatchesRowPath(t *testing.T) {
	st, rng := demoStore(t)
	queries := []string{
		"* | logreduce",
		"* | logreduce by _sourceCategory",
		"* | logreduce by _sourceHost criteria=mostcommon limit=5",
		"_sourceCategory=demo/app/payments | logreduce criteria=leastcommon",
		`_sourceCategory=demo/web/access | parse "\"* " as method | logreduce field=method`,
		"* | logreduce keys",
		"* | logreduce keys parser=keyvalue",
		`_sourceCategory=demo/web/access | parse "* - - [" as ip | parse "\" * " as status | logreduce values on ip, status`,
		`_sourceCategory=demo/web/access | parse "\" * " as status | parse "\"* " as method | logreduce values on method, status output_threshold=0.05`,
		"* | logcompare timeshift -12h",
		"error | logcompare timeshift -6h baseline (_sourceCategory=demo/web/access)",
	}
	half := Range{Start: rng.Start.Add(12 * time.Hour), End: rng.End}
	for _, text := range queries {
		q, _ := Parse(text)
		pushed, err := Compile(q, CompileOptions{PushDown: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(pushed.Explain(), "in parallel") {
			t.Errorf("%q does not use the block path:\n%s", text, pushed.Explain())
		}
		r := rng
		if strings.Contains(text, "logcompare") {
			r = half
		}
		a, sa := run(t, st, text, true, ExecOptions{Range: r})
		b, sb := run(t, st, text, false, ExecOptions{Range: r})
		if len(a.records) == 0 {
			t.Errorf("%q: no records", text)
		}
		if sa.MessagesMatched != sb.MessagesMatched || sa.MessagesMatched == 0 {
			t.Errorf("%q: %d messages pushed, %d all-Go", text, sa.MessagesMatched, sb.MessagesMatched)
		}
		if x, y := strings.Join(recordLines(a.records), "\n"), strings.Join(recordLines(b.records), "\n"); x != y {
			t.Errorf("%q: the block path and the row path differ:\npushed:\n%s\nall-Go:\n%s", text, x, y)
		}
		if fmt.Sprint(sa.Warnings) != fmt.Sprint(sb.Warnings) {
			t.Errorf("%q: warnings %q pushed, %q all-Go", text, sa.Warnings, sb.Warnings)
		}
	}
}

// The drill-down of every signature returns exactly its _count messages,
// each of which the signatures of the range assign to it; together they
// are every message, each once.
func TestLogReduceDrillDownRoundTrip(t *testing.T) {
	st, rng := demoStore(t)
	for _, text := range []string{"* | logreduce", "_sourceCategory=demo/app/payments | logreduce by _sourceHost", "* | logcompare timeshift -12h", "* | logreduce keys", `_sourceCategory=demo/web/access | parse "\" * " as status | parse "\"* " as method | logreduce values on method, status`} {
		r := rng
		if strings.Contains(text, "logcompare") {
			r = Range{Start: rng.Start.Add(12 * time.Hour), End: rng.End}
		}
		recs, stats := run(t, st, text, true, ExecOptions{Range: r})
		idField := "_signature_id"
		if strings.Contains(text, "values") {
			idField = "_cluster_id"
		}
		// One miner over the same lines, to check the assignment.
		var check *logreduce.Result
		if text == "* | logreduce" {
			m := logreduce.New(logreduce.Config{})
			all, _ := run(t, st, "*", true, ExecOptions{Range: r})
			for _, msg := range all.messages {
				m.Add(msg.Get(event.FieldRaw))
			}
			check = m.Result()
		}
		seen := map[string]string{}
		var total int64
		done := map[string]bool{}
		// Each drill-down mines the range again, so a query with hundreds
		// of signatures (over 100) drills a deterministic sample of about 30;
		// the sums are then checked only when every signature was drilled.
		stride := 1
		if len(recs.records) > 100 {
			stride = len(recs.records) / 30
		}
		for i, rec := range recs.records {
			id := rec.Get(idField)
			if done[id] || i%stride != 0 {
				continue // one signature in several groups: drilled once
			}
			done[id] = true
			want := int64(0)
			for _, other := range recs.records {
				if other.Get(idField) == id {
					n, _ := strconv.ParseInt(other.Get("_count"), 10, 64)
					want += n
				}
			}
			dq, err := DrillDownQuery(text, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, push := range []bool{true, false} {
				if !push && len(done) > 3 {
					continue // all-Go agrees on a few; the partition check needs pushed runs only
				}
				msgs, _ := run(t, st, dq, push, ExecOptions{Range: r})
				if int64(len(msgs.messages)) != want {
					t.Errorf("%q: %d messages, want %d (_count)", dq, len(msgs.messages), want)
				}
				if !push {
					continue
				}
				for _, m := range msgs.messages {
					mid := m.Get(FieldMessageID)
					if prev, ok := seen[mid]; ok {
						t.Errorf("%q: message %s also in signature %s", dq, mid, prev)
					}
					seen[mid] = id
					if check != nil {
						if got := check.Assign(m.Get(event.FieldRaw)).ID; got != id {
							t.Errorf("%q: message %q is assigned to %s", dq, m.Get(event.FieldRaw), got)
						}
					}
				}
			}
			total += want
		}
		if stride > 1 {
			continue
		}
		if !strings.Contains(text, "logcompare") && total != stats.MessagesMatched {
			t.Errorf("%q: the signatures count %d messages, the query matched %d", text, total, stats.MessagesMatched)
		}
		if int64(len(seen)) != total {
			t.Errorf("%q: %d distinct messages in the drill-downs, want %d", text, len(seen), total)
		}
	}
}

// A search job's histogram runs over windows of the range: with
// SearchRange, each window keeps the messages of the signatures of the
// whole range, so the buckets add up to the signature's count, and the
// signatures are mined once for all the runs.
func TestLogReduceDrillDownHistogram(t *testing.T) {
	st, rng := demoStore(t)
	recs, _ := run(t, st, "_sourceCategory=demo/app/payments | logreduce", true, ExecOptions{Range: rng})
	rec := recs.records[len(recs.records)/2]
	want, _ := strconv.ParseInt(rec.Get("_count"), 10, 64)
	dq, _ := DrillDownQuery("_sourceCategory=demo/app/payments | logreduce", rec.Get("_signature_id"))
	q, _ := Parse(dq)
	p, err := Compile(q, CompileOptions{PushDown: true})
	if err != nil {
		t.Fatal(err)
	}
	rs := &recordingStore{Store: st}
	now := time.Now()
	var total int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			win := Range{Start: rng.Start.Add(time.Duration(w) * 6 * time.Hour), End: rng.Start.Add(time.Duration(w+1) * 6 * time.Hour)}
			bs, err := p.Histogram(context.Background(), rs, ExecOptions{Range: win, SearchRange: rng, Now: now}, time.Hour)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for _, b := range bs {
				total += b.Count
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	if total != want {
		t.Errorf("histogram of %q: %d messages, want %d", dq, total, want)
	}
	mining := 0
	for _, q := range rs.queries {
		if strings.Contains(q.LogsQL, "| fields ") && q.Start == rng.Start.UnixNano() {
			mining++
		}
	}
	if mining != 1 {
		t.Errorf("%d minings of the whole range, want 1", mining)
	}
}

// ---- bad input ----

// A field with unique values (an id) is bounded: its values are not told
// apart beyond MaxValuesDistinct, with a warning naming the limit.
func TestLogReduceValuesUniqueIDs(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Config{Retention: 3650 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	const n = MaxValuesDistinct + 500
	b := &event.Batch{ReceiptTime: start.UnixNano()}
	for i := 0; i < n; i++ {
		status := []string{"ok", "ok", "fail"}[i%3]
		b.Events = append(b.Events, event.Event{Time: start.Add(time.Duration(i) * time.Second).UnixNano(), Raw: fmt.Sprintf("request id=req-%05d status=%s", i, status)})
	}
	if err := st.Add(context.Background(), 1, b, nil); err != nil {
		t.Fatal(err)
	}
	st.Flush()
	rng := Range{Start: start, End: start.Add(time.Hour)}
	for _, push := range []bool{true, false} {
		s, stats := run(t, st, "* | keyvalue \"id\", \"status\" | logreduce values on id", push, ExecOptions{Range: rng})
		if len(s.records) != 1 || s.records[0].Get("_signature") != `{"id":[[null,1500,100]]}` || s.records[0].Get("_count") != "1500" {
			t.Errorf("push=%v: records %v", push, s.records)
		}
		want := fmt.Sprintf("logreduce values: field id has more than %d distinct values; they are not told apart (null in _signature)", MaxValuesDistinct)
		if len(stats.Warnings) != 1 || stats.Warnings[0] != want {
			t.Errorf("push=%v: warnings %q, want %q", push, stats.Warnings, want)
		}
		s, _ = run(t, st, "* | keyvalue \"id\", \"status\" | logreduce values on id, status", push, ExecOptions{Range: rng})
		if got := strings.Join(recordLines(s.records), "\n"); !strings.Contains(got, `{"id":[[null,1000,100]],"status":[["ok",1000,100]]}`) || len(s.records) != 2 {
			t.Errorf("push=%v: records\n%s", push, got)
		}
		// Every message its own signature, and still bounded.
		s, _ = run(t, st, "* | logreduce", push, ExecOptions{Range: rng})
		if len(s.records) != 2 {
			t.Errorf("push=%v: logreduce records %v", push, recordLines(s.records))
		}
	}
}

// The combinations of values are bounded, with an error naming the limit.
func TestLogReduceValuesCombinationLimit(t *testing.T) {
	v := &valuesImpl{text: "logreduce values on a, b", fields: []string{"a", "b"}}
	p := v.newPartial()
	vals := make([]string, 2)
	for a := 0; a < 400; a++ {
		for b := 0; b < 300; b++ {
			vals[0], vals[1] = strconv.Itoa(a), strconv.Itoa(b)
			if err := p.add(vals); err != nil {
				t.Fatal(err)
			}
		}
	}
	err := v.finishPartials(nil, []blockPartial{p}, &recordCollector{})
	want := fmt.Sprintf(`too many groups: "logreduce values on a, b" sees more than %d distinct combinations of values; cluster on fewer fields or narrow the query`, MaxValuesCombinations)
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

// The groups of logreduce by are bounded, with an error naming the limit.
func TestLogReduceGroupLimit(t *testing.T) {
	s := newMinerState("logreduce by id", 1)
	var err error
	for i := 0; i <= MaxLogReduceGroups && err == nil; i++ {
		err = s.add([]string{"a line", strconv.Itoa(i)})
	}
	want := fmt.Sprintf(`too many groups: "logreduce by id" produces more than %d groups; narrow the query or group by fewer fields`, MaxLogReduceGroups)
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	// Partial states of several workers are bounded when merged too.
	a, b := newMinerState("logreduce by id", 1), newMinerState("logreduce by id", 1)
	for i := 0; i < MaxLogReduceGroups; i++ {
		a.add([]string{"a line", "a" + strconv.Itoa(i)})
		b.add([]string{"a line", "b" + strconv.Itoa(i)})
	}
	if _, err := mergeMinerStates([]blockPartial{a, b}); err == nil || err.Error() != want {
		t.Errorf("merge: error %v, want %s", err, want)
	}
}

// Empty input and a single message give sensible records (no NaN, no
// panic), in every mode.
func TestLogReduceEmptyAndSingle(t *testing.T) {
	st, rng := rowOpsStore(t, "k=1 | just one line 42")
	for _, push := range []bool{true, false} {
		for _, c := range []struct{ query, want string }{
			{"nomatch | logreduce", ""},
			{"nomatch | logreduce by _sourceHost", ""},
			{"nomatch | logreduce keys", ""},
			{"nomatch | logreduce values on x", ""},
			{"nomatch | logcompare timeshift -1d", ""},
			{"* | logreduce", "_signature=just one line * _count=1 _score=0 _signature_id=" + logreduceID(t, "just one line 42")},
			{"* | logreduce keys", "_signature_id=0000000000000000 _schema=unknown _count=1"},
			{"* | logcompare timeshift -1h | fields _count, _baseline_count, _deltapercentage, _anomalyscore, _isnew, _status", "_count=1 _baseline_count=0 _deltapercentage= _anomalyscore=0 _isnew=1 _status=new"},
			{"* | logcompare timeshift -0s | fields _count, _baseline_count, _deltapercentage, _anomalyscore, _isnew, _status", "_count=1 _baseline_count=1 _deltapercentage=0 _anomalyscore=0 _isnew=0 _status=same"},
		} {
			s, _ := run(t, st, c.query, push, ExecOptions{Range: rng})
			if got := strings.Join(recordLines(s.records), "\n"); got != c.want {
				t.Errorf("%q push=%v: %q, want %q", c.query, push, got, c.want)
			}
		}
	}
	// An empty time range is an error of the run, named.
	q, _ := Parse("* | logreduce")
	p, _ := Compile(q, CompileOptions{PushDown: true})
	if _, err := p.Execute(context.Background(), st, ExecOptions{Range: Range{Start: rng.Start, End: rng.Start}}, &collectSink{}); err == nil || !strings.Contains(err.Error(), "empty time range") {
		t.Errorf("empty range: %v", err)
	}
}

func logreduceID(t *testing.T, lines ...string) string {
	m := logreduce.New(logreduce.Config{})
	for _, l := range lines {
		m.Add(l)
	}
	cs := m.Clusters()
	if len(cs) != 1 {
		t.Fatalf("%d clusters", len(cs))
	}
	return cs[0].ID
}

// The engine query of the block path reads only the fields the stage
// needs, after the pushed stages.
func TestLogReduceBlockQuery(t *testing.T) {
	st, rng := rowOpsStore(t, "k=a | x 1", "k=b | y 2")
	rs := &recordingStore{Store: st}
	q, _ := Parse(`* | where k != "c" | logreduce by k`)
	p, _ := Compile(q, CompileOptions{PushDown: true})
	if _, err := p.Execute(context.Background(), rs, ExecOptions{Range: rng}, &collectSink{}); err != nil {
		t.Fatal(err)
	}
	if len(rs.queries) != 1 || !strings.HasSuffix(rs.queries[0].LogsQL, `| fields "_msg", "k"`) {
		t.Errorf("engine queries %+v", rs.queries)
	}
	var _ store.Store = rs
	// _messageTime is computed in Go: no block path.
	q, _ = Parse(`* | logreduce by _messageTime`)
	p, _ = Compile(q, CompileOptions{PushDown: true})
	if strings.Contains(p.Explain(), "in parallel") {
		t.Errorf("block path for _messageTime:\n%s", p.Explain())
	}
}
