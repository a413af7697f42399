package query

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store/embedded"
)

// prefilterValues are values of v, each group stored in its own stream so
// that the engine keeps the all-numeric ones in numeric encodings.
var prefilterValues = map[string][]string{
	"tricky/mixed": {"5001", "5000", "4999", "05001", "+5001", " 5001", "5001 ", "5e3", "5.001e3", "5000.5", "5_001",
		"1_000", "10_000", "0x1389", "inf", "Infinity", "+Inf", "nan", "NaN", "5KB", "6kb", "5s", "2h", "1.2.3.4", "10.0.0.1",
		"2025-06-02T10:00:00Z", "-5001", "-0", "0", "", "123456789012345", "1234567890123456", "99999999999999999999",
		"-9999999999999999", "5001\n", "١٢٣", "5001.0", "5000.0000000000001", "5001.", ".5e4", "abc", "-", "--5", "5 001",
		"9007199254740993", "-123456789012345", "1e400", "-1e400",
		// Hex-digit runs (guardCond): numbers for the engine, not for Go.
		"1d1d", "100d", "5001d", "100B", "5001B", "1B1B", "0b1010000000000", "0b10100000000000", "0B10100000000000", "12e3", "12E3",
		"1e3090", "1E3090", "acfa", "5dd5", "DDDD", "0000005001", "00000000000000000000005001"},
	// Digits only, some with leading zeros or long: the guard's engine
	// path (no row fails it), read as Go does.
	"tricky/digits": {"5001", "0000005001", "00000000000000000000005001", "70000", "7", "0", "123456789012345"},
	"tricky/uint":   {"5001", "4999", "5000", "0", "123", "70000", "123456789012345", "18446744073709551615"},
	"tricky/int":    {"-5001", "-3", "5001", "-123456789012345", "0"},
	"tricky/float":  {"5000.5", "4999.5", "-5000.25", "5001.75", "0.5"},
	"tricky/ipv4":   {"1.2.3.4", "10.0.0.1", "255.255.255.255"},
	"tricky/time":   {"2025-06-02T10:00:00Z", "2025-06-02T10:00:01.5Z"},
}

// TestWherePrefilterDifferential proves the numeric where prefilters
// (where_prefilter.go): each query runs pushed down (with the prefilter)
// and all-Go over stored and extracted values of every kind, which must
// agree, and the prefilter must be in the pushed plan.
// prefilterStore stores one event per value of prefilterValues (the value
// as field v and in _raw as "v=<value>;") and returns the store, the range
// holding them and their number.
func prefilterStore(t *testing.T) (*embedded.Store, Range, int) {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Config{Retention: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var seq uint64
	n := 0
	cats := make([]string, 0, len(prefilterValues))
	for c := range prefilterValues {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	for _, cat := range cats {
		b := &event.Batch{ReceiptTime: base.UnixNano(), Source: event.Source{Category: cat, Host: "h"}}
		for _, v := range prefilterValues[cat] {
			// One event per value, the value stored as field v (a
			// batch's fields are the batch's) and written in _raw.
			one := *b
			one.Fields = []event.Field{{Name: "v", Value: v}}
			one.Events = []event.Event{{Time: base.Add(time.Duration(n) * time.Second).UnixNano(), Raw: "v=" + v + ";"}}
			n++
			seq++
			if err := st.Add(context.Background(), seq, &one, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Flush()
	return st, Range{Start: base.Add(-time.Minute), End: base.Add(time.Hour)}, n
}

func TestWherePrefilterDifferential(t *testing.T) {
	st, rng, n := prefilterStore(t)

	var queries []string
	for _, cond := range []string{
		"num(v) > 5000", "num(v) >= 5001", "num(v) < 5000", "num(v) <= -5001", "num(v) > -5000", "num(v) > 0",
		"num(v) >= 0", "num(v) < 0", "num(v) > 123456789012344", "num(v) < -123456789012344", "5000 < num(v)",
		"-1 >= num(v)", "num(v) > 4999 and num(v) < 5002", "num(v) > 5000 and v != \"5001\"", "num(v) > 70000",
	} {
		queries = append(queries,
			"* | where "+cond+" | count by v",
			`* | parse "v=*;" as v | where `+cond+" | count by v, _sourceCategory",
			`* | parse "v=*;" as w | where `+strings.ReplaceAll(cond, "num(v)", "num(w)")+" | count by w",
			"* | where "+cond,
			`_sourceCategory=tricky/uint | parse "v=*;" as w | where `+strings.ReplaceAll(cond, "num(v)", "num(w)")+" | count by w",
			`_sourceCategory=tricky/int | parse "v=*;" as w | where `+strings.ReplaceAll(cond, "num(v)", "num(w)"),
		)
	}
	someFiltered := false
	for _, text := range queries {
		p := compileText(t, text, CompileOptions{PushDown: true})
		ex := p.Explain()
		// Before a pushed aggregate the where is guarded instead
		// (where_guard.go, TestWhereGuardDifferential).
		if !strings.Contains(ex, `:~"^(0|-?[1-9][0-9]{0,14})$"`) && !strings.Contains(ex, ":~"+logsQLString(guardCatchRegexp)) {
			t.Errorf("%q: neither a prefilter nor a guard in the plan:\n%s", text, ex)
		}
		opt := ExecOptions{Range: rng}
		pushed, ps := run(t, st, text, true, opt)
		goRun, gs := run(t, st, text, false, opt)
		got, want := recordsText(pushed.fields, pushed.records)+rowsRaw(pushed.messages), recordsText(goRun.fields, goRun.records)+rowsRaw(goRun.messages)
		if got != want || ps.MessagesMatched != gs.MessagesMatched {
			t.Errorf("%s: pushed (with the prefilter) and all-Go differ\n%s\npushed (%d):\n%s\nall-Go (%d):\n%s", text, ex, ps.MessagesMatched, got, gs.MessagesMatched, want)
		}
		if gs.MessagesMatched > 0 && gs.MessagesMatched < int64(n) {
			someFiltered = true
		}
	}
	if !someFiltered {
		t.Error("no query kept some rows and dropped others; the test proves nothing")
	}
}

func rowsRaw(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%q\n", r.Get(event.FieldRaw))
	}
	return b.String()
}

func TestWherePrefilterForms(t *testing.T) {
	cases := []struct{ cond, want string }{
		{"num(size) > 5000", `("size":>5000 or !"size":~"^(0|-?[1-9][0-9]{0,14})$")`},
		{"num(size) <= -3", `("size":<=-3 or !"size":~"^(0|-?[1-9][0-9]{0,14})$")`},
		{"5000 < num(size)", `("size":>5000 or !"size":~"^(0|-?[1-9][0-9]{0,14})$")`},
		{"num(size) > 5000 and status = \"200\"", `("size":>5000 or !"size":~"^(0|-?[1-9][0-9]{0,14})$")`},
		{"num(size) > 5000.5", ""},              // not an integer
		{"num(size) > 1000000000000000", ""},    // 10^15
		{"num(size) = 5000", ""},                // equality: not a range
		{"size > 5000", ""},                     // text compared as text when not numeric
		{"num(_size) > 5000", ""},               // built-in
		{"num(size) > 5000 or num(x) > 1", ""},  // disjunction
		{"not (num(size) > 5000)", ""},          // negation
		{"num(concat(size, \"1\")) > 5000", ""}, // not a field
		{"num(size) > 5000 and num(b) < 2", `("size":>5000 or !"size":~"^(0|-?[1-9][0-9]{0,14})$") ("b":<2 or !"b":~"^(0|-?[1-9][0-9]{0,14})$")`},
	}
	for _, c := range cases {
		q, err := Parse("* | where " + c.cond)
		if err != nil {
			t.Fatalf("%s: %v", c.cond, err)
		}
		if got := wherePrefilter(q.Stages[0].(*WhereStage).Cond); got != c.want {
			t.Errorf("%s: prefilter %s, want %s", c.cond, got, c.want)
		}
	}
}
