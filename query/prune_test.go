package query

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

// TestPruneDifferential runs aggregate queries whose Go stages read only
// some columns with and without column pruning (prune.go), pushed down and
// all-Go, over the shared corpus and over events whose custom fields differ
// from the queried names only in case, and demands identical records,
// match counts and histograms.
func TestPruneDifferential(t *testing.T) {
	c := getCorpus(t)
	mixed := mixedCaseStore(t)
	queries := []struct {
		text  string
		prune bool // the all-Go plan prunes
	}{
		{`* | count by env`, true},
		{`* | count by ENV, Team`, true},
		{`* | parse "* *" as a, b | count by a`, true},
		{`error or GET | parse regex "(?<w>[a-z]+)" | count by w, env`, true},
		{`* | where env = "prod" or isNull(region) | count by _sourceCategory`, true},
		{`_sourceCategory=prod* | count by _sourceHost, _collector`, true},
		{`* | num(_size) as s | sum(s), avg(s), max(s) by _format`, true},
		{`* | timeslice 1h | count by _timeslice, env`, true},
		{`* | first(_raw), last(_raw), most_recent(env), least_recent(env) by team`, true},
		{`* | top 5 _sourceName`, true},
		{`* | count_distinct(_sourceId) by region`, true},
		{`* | where _raw matches "*error*" | count`, true},
		{`* | parse field=env "*d" as p nodrop | count by p`, true},
		{`* | parse "user=*" as size | count by size, status`, true},
		{`* | where num(size) > 10 | count by status`, true},
		{`* | status as env | count by env`, true},
		{`* | pct(_size, 50) by env`, true},
		{`error | values(_sourceHost) by _messageTime`, true},
		{`* | json auto | count by env`, false},
		{`* | fields env | count by env`, false},
	}
	nonEmpty := map[string]bool{}
	for _, st := range []struct {
		name string
		st   store.Store
		rng  Range
	}{{"corpus", c.st, c.rng}, {"mixed case", mixed.st, mixed.rng}} {
		for _, qc := range queries {
			q, err := Parse(qc.text)
			if err != nil {
				t.Fatalf("Parse(%q): %v", qc.text, err)
			}
			var want string
			for _, opts := range []CompileOptions{{PushDown: false, noPrune: true}, {PushDown: false}, {PushDown: true}, {PushDown: true, noPrune: true}} {
				p, err := Compile(q, opts)
				if err != nil {
					t.Fatalf("Compile(%q): %v", qc.text, err)
				}
				if _, ok := p.pruneColumns(); !opts.PushDown && ok != (qc.prune && !opts.noPrune) {
					t.Errorf("%q %+v: prunes %v, want %v\n%s", qc.text, opts, ok, qc.prune, p.Explain())
				}
				s := &collectSink{}
				opt := ExecOptions{Range: st.rng}
				stats, err := p.Execute(context.Background(), st.st, opt, s)
				if err != nil {
					t.Fatalf("%s: Execute(%q, %+v): %v\n%s", st.name, qc.text, opts, err, p.Explain())
				}
				hist, err := p.Histogram(context.Background(), st.st, opt, 10*time.Minute)
				if err != nil {
					t.Fatalf("%s: Histogram(%q, %+v): %v", st.name, qc.text, opts, err)
				}
				got := fmt.Sprintf("matched %d\nhistogram %v\n%s", stats.MessagesMatched, hist, recordsText(s.fields, s.records))
				if want == "" {
					want = got
					if stats.MessagesMatched > 0 && len(s.records) > 0 {
						nonEmpty[qc.text] = true
					}
					continue
				}
				if got != want {
					t.Errorf("%s: %q %+v differs from all-Go reading every column\n%s\ngot:\n%s\nwant:\n%s", st.name, qc.text, opts, p.Explain(), got, want)
				}
			}
		}
	}
	for _, qc := range queries {
		if !nonEmpty[qc.text] {
			t.Errorf("%q matches nothing in either store; the test would prove nothing", qc.text)
		}
	}
}

type testStore struct {
	st  *embedded.Store
	rng Range
}

// mixedCaseStore holds events whose custom fields are spelt in several
// cases (Status and status, SIZE, Env), which the engine keeps apart.
func mixedCaseStore(t *testing.T) testStore {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Config{Retention: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	fieldSets := [][]event.Field{
		{{Name: "Status", Value: "500"}, {Name: "size", Value: "12"}},
		{{Name: "status", Value: "200"}, {Name: "SIZE", Value: "99"}, {Name: "Env", Value: "Prod"}},
		{{Name: "status", Value: "404"}, {Name: "size", Value: "7"}, {Name: "env", Value: "dev"}, {Name: "TEAM", Value: "x"}},
		{{Name: "STATUS", Value: "301"}, {Name: "Size", Value: "1e3"}, {Name: "env", Value: "prod"}},
		{{Name: "status", Value: "200"}, {Name: "size", Value: "20"}, {Name: "team", Value: "web"}, {Name: "region", Value: "eu"}},
	}
	raws := []string{"GET /a user=alice error", "POST /b user=bob", "error GET user=carol size=5", "plain line", "GET user=dave"}
	for i := range 40 {
		b := &event.Batch{
			ReceiptTime: base.UnixNano(),
			Source:      event.Source{Category: []string{"prod/web", "Prod/API", "dev/x"}[i%3], Host: fmt.Sprintf("h-%d", i%4), Name: "n", Collector: "c"},
			Fields:      fieldSets[i%len(fieldSets)],
		}
		b.Events = []event.Event{{Time: base.Add(time.Duration(i) * 37 * time.Second).UnixNano(), Raw: raws[i%len(raws)] + strings.Repeat(" x", i%3)}}
		if err := st.Add(context.Background(), uint64(i+1), b, nil); err != nil {
			t.Fatal(err)
		}
	}
	st.Flush()
	return testStore{st: st, rng: Range{Start: base.Add(-time.Minute), End: base.Add(time.Hour)}}
}

// TestVerbatimKeyDifferential proves grouping by a key an earlier stage
// makes with verbatimKeyColumn (agg_pushdown.go): the engine keeps values
// it would read as integers when grouping by the key alone ("1_000" and
// "1000", "-0" and "0", "_" and "0") apart, as Go does.
func TestVerbatimKeyDifferential(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Config{Retention: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	values := []string{"1000", "1_000", "_", "0", "-0", "00", "-1_0", "-10", "1__0", "10", "abc", "", "18446744073709551615",
		"18_446_744_073_709_551_615", "-9223372036854775808", "1.0", "1e3", " 7", "7"}
	b := &event.Batch{ReceiptTime: base.UnixNano(), Source: event.Source{Category: "keys", Host: "h"}}
	for i, v := range values {
		for j := range 2 {
			b.Events = append(b.Events, event.Event{Time: base.Add(time.Duration(2*i+j) * time.Second).UnixNano(),
				Raw: fmt.Sprintf(`k=%s; {"k": %q}`, v, v)})
		}
	}
	if err := st.Add(context.Background(), 1, b, nil); err != nil {
		t.Fatal(err)
	}
	st.Flush()
	rng := Range{Start: base.Add(-time.Minute), End: base.Add(time.Hour)}
	for _, text := range []string{
		`* | parse "k=*;" as k | count by k`,
		`* | parse "k=*;" as k nodrop | count, count_distinct(k) by k`,
		`* | parse regex "k=(?<k>[^;]*);" | top 50 k`,
		`* | parse "k=*;" as k | count_frequent k`,
	} {
		q, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(q, CompileOptions{PushDown: true})
		if err != nil {
			t.Fatal(err)
		}
		if ex := p.Explain(); !strings.Contains(ex, `"_dohyo.verbatim")`) {
			t.Errorf("%s: not grouped with the verbatim column:\n%s", text, ex)
		}
		pushed, ps := run(t, st, text, true, ExecOptions{Range: rng})
		goRun, gs := run(t, st, text, false, ExecOptions{Range: rng})
		if got, want := recordsText(pushed.fields, pushed.records), recordsText(goRun.fields, goRun.records); got != want || ps.MessagesMatched != gs.MessagesMatched {
			t.Errorf("%s: pushed and all-Go differ\n%s\npushed:\n%s\nall-Go:\n%s", text, p.Explain(), got, want)
		}
		if len(goRun.records) < 15 {
			t.Errorf("%s: %d records; the values should stay apart", text, len(goRun.records))
		}
	}
}
