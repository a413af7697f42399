package search

import (
	"fmt"
	"testing"

	"github.com/dohyo/dohyo/query"
)

func statsOf(s *summarizer, name string, top int) FieldStats {
	for _, f := range s.summary(top, func(string) (string, bool) { return "string", false }) {
		if f.Name == name {
			return f
		}
	}
	return FieldStats{}
}

// Beyond TrackedValues distinct values, the frequent values are still
// found, with counts that overstate by at most rows/TrackedValues.
func TestSummarizerHeavyHitters(t *testing.T) {
	s := newSummarizer()
	// alpha 1 row in 10, beta 1 in 20, gamma 1 in 40; the rest distinct.
	var rows []query.Row
	rare := 0
	for i := 0; i < 20000; i++ {
		var v string
		switch {
		case i%10 == 0:
			v = "alpha"
		case i%20 == 7:
			v = "beta"
		case i%40 == 13:
			v = "gamma"
		default:
			v = fmt.Sprintf("rare-%d", rare)
			rare++
		}
		rows = append(rows, query.Row{{Name: "User", Value: v}, {Name: "_raw", Value: v}, {Name: "empty", Value: ""}})
	}
	s.add(rows)
	want := map[string]int64{}
	for _, r := range rows {
		want[r[0].Value]++
	}
	st := statsOf(s, "user", 3)
	if st.Count != 20000 || st.Distinct != TrackedValues || !st.DistinctCapped || !st.Approximate {
		t.Fatalf("stats %+v", st)
	}
	if len(st.TopValues) != 3 {
		t.Fatalf("top values %v", st.TopValues)
	}
	bound := int64(len(rows) / TrackedValues)
	for i, name := range []string{"alpha", "beta", "gamma"} {
		v := st.TopValues[i]
		if v.Value != name || v.Count < want[name] || v.Count > want[name]+bound {
			t.Errorf("top value %d: %+v, want %s with a count in [%d, %d]", i, v, name, want[name], want[name]+bound)
		}
	}
	if raw := statsOf(s, "_raw", 3); raw.Count != 20000 || len(raw.TopValues) != 0 {
		t.Errorf("_raw %+v", raw)
	}
	if e := statsOf(s, "empty", 3); e.Name != "" {
		t.Errorf("a field with only empty values is listed: %+v", e)
	}
}

// Up to TrackedValues distinct values everything is exact, and summaries
// continue incrementally.
func TestSummarizerExact(t *testing.T) {
	s := newSummarizer()
	for round := 0; round < 2; round++ {
		var rows []query.Row
		for i := 0; i < TrackedValues; i++ {
			rows = append(rows, query.Row{{Name: "k", Value: fmt.Sprint("v", i%TrackedValues)}})
		}
		rows = append(rows, query.Row{{Name: "k", Value: "v7"}})
		s.add(rows)
	}
	st := statsOf(s, "k", 2)
	if st.Count != 2*TrackedValues+2 || st.Distinct != TrackedValues || st.DistinctCapped || st.Approximate {
		t.Fatalf("stats %+v", st)
	}
	if fmt.Sprint(st.TopValues) != "[{v7 4} {v0 2}]" {
		t.Errorf("top values %v", st.TopValues)
	}
}
