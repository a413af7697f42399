package query

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store/embedded"
)

// TestSumPushdownExact checks pushed sums and averages against Go's exact
// ones where the engine's float64 sums stop being exact: running sums past
// 2^53 of either sign, signs mixed and cancelling, values near the 15-digit
// bound, empty values. The engine's parts (the non-negative and the
// negative values summed apart, agg_numeric.go) must either give Go's
// result or make the run compute it in Go.
func TestSumPushdownExact(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Config{Retention: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	groups := map[string][]string{
		"small":    {"1", "2", "3", "-4", "0", ""},
		"neg":      {"-1", "-999999999999999", "-7"},
		"bigpos":   repeat("999999999999999", 20), // 2*10^16 > 2^53
		"bigneg":   repeat("-999999999999999", 20),
		"cancel":   append(repeat("999999999999999", 10), repeat("-999999999999999", 10)...),
		"nearpos":  {"999999999999999", "999999999999999", "999999999999999", "999999999999999", "999999999999999", "999999999999999", "999999999999999", "999999999999999", "999999999999999"}, // 9*10^15 > 2^53
		"under":    {"4503599627370495", "4503599627370495", "1"},                                                                                                                               // 2^53-1 in all
		"mixedbig": {"999999999999999", "-1", "999999999999999", "-1"},
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	b := &event.Batch{ReceiptTime: base.UnixNano(), Source: event.Source{Category: "sums", Host: "h"}}
	n := 0
	for g, vals := range groups {
		for _, v := range vals {
			b.Events = append(b.Events, event.Event{Time: base.Add(time.Duration(n) * time.Millisecond).UnixNano(), Raw: fmt.Sprintf("g=%s x=%s;", g, v)})
			n++
		}
	}
	if err := st.Add(context.Background(), 1, b, nil); err != nil {
		t.Fatal(err)
	}
	st.Flush()
	opt := ExecOptions{Range: Range{Start: base.Add(-time.Minute), End: base.Add(time.Hour)}}
	for _, text := range []string{
		`* | parse "g=* x=*;" as g, x | sum(x), avg(x) by g`,
		`* | parse "g=* x=*;" as g, x | sum(x) by g`,
		`* | parse "g=* x=*;" as g, x | where num(x) > -5 | sum(x), avg(x), count by g`,
		`* | parse "g=* x=*;" as g, x | where g = "small" or g = "neg" or g = "under" | sum(x), avg(x) by g`,
		`* | parse "g=* x=*;" as g, x | avg(x)`,
	} {
		pushed, ps := run(t, st, text, true, opt)
		goRun, gs := run(t, st, text, false, opt)
		got, want := recordsText(pushed.fields, pushed.records), recordsText(goRun.fields, goRun.records)
		if got != want || ps.MessagesMatched != gs.MessagesMatched {
			t.Errorf("%s: pushed and all-Go differ\npushed (%d):\n%s\nall-Go (%d):\n%s", text, ps.MessagesMatched, got, gs.MessagesMatched, want)
		}
		if !strings.Contains(want, "\n") {
			t.Errorf("%s: no records", text)
		}
	}
	// The exact sums themselves (Go's): 20 * 999999999999999.
	r, _ := run(t, st, `* | parse "g=* x=*;" as g, x | where g = "bigpos" | sum(x)`, true, opt)
	if got := recordsText(r.fields, r.records); !strings.Contains(got, "19999999999999980") {
		t.Errorf("sum of bigpos: %s, want 19999999999999980", got)
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
