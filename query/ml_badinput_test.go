package query

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// Bad input for the time-series operators, end to end through a query in
// both modes (pushed down and all Go): empty input, a single point and a
// constant series give sensible records (no NaN or infinity, no error),
// and non-numeric values are skipped with a warning on the job.

// seriesCheckFinite fails on a NaN or infinite value in any record.
func seriesCheckFinite(t *testing.T, query string, rows []Row) {
	t.Helper()
	for _, r := range rows {
		for _, f := range r {
			if v, err := strconv.ParseFloat(f.Value, 64); err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
				t.Errorf("%q: %s=%s", query, f.Name, f.Value)
			}
			if l := strings.ToLower(f.Value); l == "nan" || l == "inf" || l == "+inf" || l == "-inf" {
				t.Errorf("%q: %s=%s", query, f.Name, f.Value)
			}
		}
	}
}

func TestSeriesOperatorsEmptySingleConstant(t *testing.T) {
	one, rngOne := rowOpsStore(t, "repeat=3 | a")
	flat, rngFlat := rowOpsStore(t, "repeat=2 | a", "repeat=2 | a", "repeat=2 | a", "repeat=2 | a", "repeat=2 | a", "repeat=2 | a", "repeat=2 | a", "repeat=2 | a")
	const ts = "* | timeslice 1h | count by _timeslice | "
	rowOps := "accum _count as a | diff _count as d | smooth _count as s | rollingstd _count as r | total _count as t | fields a, d, s, r, t"
	cases := []struct {
		name, query string
		single      []string // records on one point (3 events in one hour)
		constant    []string // records on 8 hourly points of 2 (empty: not checked)
		warning     string   // a warning on the single point (prefix)
	}{
		{name: "outlier", query: ts + "outlier _count | fields _count, _count_error, _count_lower, _count_upper, _count_std, _count_violation",
			single: []string{"_count=3 _count_error= _count_lower= _count_upper= _count_std= _count_violation=0"}},
		{name: "predict linear", query: ts + "predict _count by 1h forecast=2 | fields _count, _count_predicted, _count_error",
			single:   []string{"_count=3 _count_predicted=3 _count_error=0", "_count= _count_predicted=3 _count_error=", "_count= _count_predicted=3 _count_error="},
			constant: []string{"_count=2 _count_predicted=2 _count_error=0"}},
		{name: "predict ar", query: ts + "predict _count by 1h model=ar, forecast=2 | fields _count, _count_predicted, _count_error",
			single:   []string{"_count=3 _count_predicted=3 _count_error=0", "_count= _count_predicted=3 _count_error=", "_count= _count_predicted=3 _count_error="},
			constant: []string{"_count=2 _count_predicted=2 _count_error=0"},
			warning:  "predict _count: only 1 slice, too few for an AR model; the linear model is used"},
		{name: "row operators", query: ts + rowOps,
			single:   []string{"a=3 d= s=3 r=0 t=3"},
			constant: []string{"a=2 d= s=2 r=0 t=16", "a=4 d=0 s=2 r=0 t=16"}},
		{name: "compare", query: ts + "compare timeshift 1h | fields _count_target, _count_1h",
			single:   []string{"_count_target=3 _count_1h="},
			constant: []string{"_count_target=2 _count_1h=", "_count_target=2 _count_1h=2"}},
	}
	for _, c := range cases {
		for _, push := range []bool{true, false} {
			// Empty: no records, no warnings, no error.
			empty := strings.Replace(c.query, "* |", "nomatch |", 1)
			s, stats := run(t, one, empty, push, ExecOptions{Range: rngOne})
			if len(s.records) != 0 || len(stats.Warnings) != 0 {
				t.Errorf("%s push=%v empty: records %q warnings %q", c.name, push, recordLines(s.records), stats.Warnings)
			}
			// A single point.
			s, stats = run(t, one, c.query, push, ExecOptions{Range: rngOne})
			seriesCheckFinite(t, c.query, s.records)
			if got := recordLines(s.records); strings.Join(got, "\n") != strings.Join(c.single, "\n") {
				t.Errorf("%s push=%v single point:\n got %q\nwant %q", c.name, push, got, c.single)
			}
			if c.warning != "" && !seriesHasWarning(stats.Warnings, c.warning) {
				t.Errorf("%s push=%v single point: warnings %q, want %q", c.name, push, stats.Warnings, c.warning)
			}
			// A constant series.
			s, _ = run(t, flat, c.query, push, ExecOptions{Range: rngFlat})
			seriesCheckFinite(t, c.query, s.records)
			got := recordLines(s.records)
			if len(got) < 8 {
				t.Errorf("%s push=%v constant: %d records, want at least 8: %q", c.name, push, len(got), got)
				continue
			}
			for i, w := range c.constant {
				if got[i] != w {
					t.Errorf("%s push=%v constant: record %d is %q, want %q", c.name, push, i, got[i], w)
				}
			}
		}
	}
	// outlier on a constant series: after the warm-up, zero spread and no
	// violation (a flat window is not an anomaly by itself).
	for _, push := range []bool{true, false} {
		q := ts + "outlier _count | where _count_std = 0 and _count_violation = 0 | count"
		s, _ := run(t, flat, q, push, ExecOptions{Range: rngFlat})
		if got := recordLines(s.records); len(got) != 1 || got[0] != "_count=3" {
			t.Errorf("outlier constant push=%v: %q, want the 3 points after the warm-up of 5", push, got)
		}
	}
}

// Non-numeric values in a numeric series are skipped (predict, whose model
// needs every slice, counts them as 0 as it does missing slices) with a
// warning on the job naming the operator and the field, in every series
// operator.
func TestSeriesOperatorsNonNumericWarnings(t *testing.T) {
	st, rng := rowOpsStore(t, "v=10 | a", "v=x | b", "v=30 | c", "v=oops | d", "v=25 | e", "v=26 | f", "v=24 | g", "v=25 | h")
	const ts = "* | timeslice 1h | first(v) as v by _timeslice | "
	for _, c := range []struct{ query, warning string }{
		{ts + "predict v by 1h forecast=1", "predict v: 2 empty or non-numeric values treated as 0"},
		{ts + "predict v by 1h model=ar, forecast=1", "predict v: 2 empty or non-numeric values treated as 0"},
		{ts + "outlier v window=3", "outlier v: 2 non-numeric values skipped"},
		{ts + "rollingstd v, 3", "rollingstd v: 2 non-numeric values skipped"},
		{ts + "diff v", "diff v: 2 non-numeric values skipped"},
		{ts + "total v", "total v: 2 non-numeric values skipped"},
	} {
		for _, push := range []bool{true, false} {
			s, stats := run(t, st, c.query, push, ExecOptions{Range: rng})
			seriesCheckFinite(t, c.query, s.records)
			if len(s.records) < 8 {
				t.Errorf("%q push=%v: %d records, want every slice", c.query, push, len(s.records))
			}
			if !seriesHasWarning(stats.Warnings, c.warning) {
				t.Errorf("%q push=%v: warnings %q, want %q", c.query, push, stats.Warnings, c.warning)
			}
		}
	}
}

func seriesHasWarning(warnings []string, prefix string) bool {
	for _, w := range warnings {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}
