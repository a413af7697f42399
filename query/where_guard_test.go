package query

import (
	"strings"
	"testing"
)

// TestWhereGuardDifferential proves the guarded numeric wheres
// (where_guard.go): each query runs with the where pushed in front of the
// aggregate and all-Go, over stored and extracted values of every kind
// (prefilterValues), and the records and the number of messages reaching
// the aggregate must agree. The mixed values make the engine's query find
// rows failing the guard (the split, the Go where on them); the uint and
// int categories alone do not (the results are the engine's).
func TestWhereGuardDifferential(t *testing.T) {
	st, rng, _ := prefilterStore(t)
	conds := []string{
		"num(w) > 5000", "num(w) >= 5001", "num(w) < 5000", "num(w) <= -5001", "num(w) > -5000", "num(w) > 0",
		"num(w) >= 0", "num(w) < 0", "num(w) > 123456789012344", "num(w) < -123456789012344", "5000 < num(w)",
		"-1 >= num(w)", "num(w) > 4999 and num(w) < 5002", "num(w) > 70000",
	}
	shapes := []string{
		`* | parse "v=*;" as w | where %s | count by w`,
		`* | parse "v=*;" as w | where %s | count`,
		`* | parse "v=*;" as w | where %s | sum(w), min(w), max(w), avg(w) by _sourceCategory`,
		`* | parse "v=*;" as w | where %s | count by _sourceCategory`,
		`* | parse "v=*;" as w | where %s | timeslice 10m | count by _timeslice`,
		`* | parse "v=*;" as w | timeslice 1m as ts | where %s | count_distinct(w) by ts`,
		`* | parse "v=*;" as w | where %s | where num(w) != 7 | count by _sourceCategory`,
		`* | parse "v=*;" as w | where %s | where num(w) < 99999 | count by w`,
		`_sourceCategory=tricky/uint | parse "v=*;" as w | where %s | count by w`,
		`_sourceCategory=tricky/int | parse "v=*;" as w | where %s | sum(w) by _sourceCategory`,
		`_sourceCategory=tricky/digits | parse "v=*;" as w | where %s | sum(w), min(w), max(w), avg(w) by _sourceCategory`,
		`* | where %s | count by v`,
	}
	guarded := 0
	for _, shape := range shapes {
		for _, cond := range conds {
			text := strings.Replace(shape, "%s", cond, 1)
			if strings.HasSuffix(shape, "count by v") {
				text = strings.Replace(shape, "%s", strings.ReplaceAll(cond, "num(w)", "num(v)"), 1)
			}
			p := compileText(t, text, CompileOptions{PushDown: true})
			ex := p.Explain()
			isGuarded := p.guardedPlan() != nil
			if isGuarded {
				guarded++
				if !strings.Contains(ex, ":~"+logsQLString(guardCatchRegexp)) {
					t.Errorf("%q: guarded, but no guard filter in the plan:\n%s", text, ex)
				}
			}
			opt := ExecOptions{Range: rng}
			pushed, ps := run(t, st, text, true, opt)
			goRun, gs := run(t, st, text, false, opt)
			got, want := recordsText(pushed.fields, pushed.records), recordsText(goRun.fields, goRun.records)
			if got != want || ps.MessagesMatched != gs.MessagesMatched {
				t.Errorf("%s: pushed (guarded %v) and all-Go differ\n%s\npushed (%d):\n%s\nall-Go (%d):\n%s", text, isGuarded, ex, ps.MessagesMatched, got, gs.MessagesMatched, want)
			}
		}
	}
	// Every shape but the one with a where the guard cannot take
	// (num(w) != 7) is guarded.
	if want := (len(shapes) - 1) * len(conds); guarded != want {
		t.Errorf("%d queries guarded, want %d", guarded, want)
	}
}

func TestWhereGuardForms(t *testing.T) {
	cases := []struct {
		query   string
		guarded bool
	}{
		{`* | parse "a=*;" as a | where num(a) > 5 | count`, true},
		{`* | parse "a=*;" as a | where num(a) > 5 and num(a) <= 9 | count by a`, true},
		{`* | parse "a=*;" as a | where num(a) > 5 | timeslice 1h | count by _timeslice`, true},
		{`* | parse "a=*;" as a | where num(a) > 5`, false},                                  // no aggregate: the prefilter
		{`* | parse "a=*;" as a | where num(a) > 5 or num(a) < 1 | count`, false},            // disjunction
		{`* | parse "a=*;" as a | where num(a) = 5 | count`, false},                          // equality
		{`* | parse "a=*;" as a | where num(a) > 5.5 | count`, false},                        // not an integer
		{`* | parse "a=*;" as a | where num(a) > 5 | pct(a, 50)`, false},                     // the aggregate runs in Go
		{`* | parse "a=*;" as a | where num(a) > 5 | parse "b=*;" as b | count`, false},      // a stage between
		{`* | parse "a=*;" as a | where num(a) > 5 | timeslice 1h as a | count by a`, false}, // the timeslice writes a
		{`* | parse "a=*;" as a | sort by a | where num(a) > 5 | count`, false},              // ordered messages
	}
	for _, c := range cases {
		p := compileText(t, c.query, CompileOptions{PushDown: true})
		if got := p.guardedPlan() != nil; got != c.guarded {
			t.Errorf("%s: guarded %v, want %v\n%s", c.query, got, c.guarded, p.Explain())
		}
		// The plan itself keeps the where in Go for the messages, the
		// histogram and the match counts.
		if _, isWhere := p.steps[p.pushed].stage.(*WhereStage); c.guarded && !isWhere {
			t.Errorf("%s: the plan's own Go stages start with %s, not the where", c.query, p.steps[p.pushed].stage)
		}
	}
}

// compileText parses and compiles a query, failing the test on an error.
func compileText(t *testing.T, text string, opts CompileOptions) *Plan {
	t.Helper()
	q, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	p, err := Compile(q, opts)
	if err != nil {
		t.Fatalf("Compile(%q): %v", text, err)
	}
	return p
}

// TestUncheckedParseDifferential: a parse right before guarded wheres that
// compare its last output is pushed without the check of unmatched rows
// (Plan.uncheckedParse); with the where on another output it keeps it.
// Rows the pattern misses (some with a partial capture), matches with an
// empty last output, and matches, must give Go's results either way.
func TestUncheckedParseDifferential(t *testing.T) {
	var lines []string
	for _, raw := range []string{"a=6000 b=7000;", "a=6000 b=abc;", "a=6000 b=;", "a=6000 x=1;", "a=7000 b=6000", "b=7000;",
		"a= b=8000;", "a=9000 b=9000;", "a=5 b=6001;", "a=6001 b=5;", "x a=6000 b=1e4; y", "a=6000 b=6000.5;", "a=6000 b=+6001;"} {
		lines = append(lines, "_sourceCategory=t | "+raw)
	}
	st, rng := rowOpsStore(t, lines...)
	cases := []struct {
		query     string
		unchecked bool
	}{
		{`* | parse "a=* b=*;" as a, b | where num(b) > 5000 | count by a`, true},
		{`* | parse "a=* b=*;" as a, b | where num(b) > 5000 | avg(b) by a`, true},
		{`* | parse "a=* b=*;" as a, b | where num(a) > 5000 and num(b) > 5000 | count`, true},
		{`* | parse "a=* b=*;" as a, b | where num(a) > 5000 | count by b`, false},
		{`* | parse "a=* b=*;" as a, b nodrop | where num(b) > 5000 | count by a`, false},
	}
	for _, c := range cases {
		p := compileText(t, c.query, CompileOptions{PushDown: true})
		ex := p.Explain()
		if p.guardedPlan() == nil {
			t.Fatalf("%s: not guarded:\n%s", c.query, ex)
		}
		if got := !strings.Contains(ex, `filter (!"b":=""`) && !strings.Contains(ex, srcCopy); got != c.unchecked {
			t.Errorf("%s: unchecked parse %v, want %v:\n%s", c.query, got, c.unchecked, ex)
		}
		pushed, ps := run(t, st, c.query, true, ExecOptions{Range: rng})
		goRun, gs := run(t, st, c.query, false, ExecOptions{Range: rng})
		got, want := recordsText(pushed.fields, pushed.records), recordsText(goRun.fields, goRun.records)
		if got != want || ps.MessagesMatched != gs.MessagesMatched {
			t.Errorf("%s: pushed and all-Go differ\n%s\npushed (%d):\n%s\nall-Go (%d):\n%s", c.query, ex, ps.MessagesMatched, got, gs.MessagesMatched, want)
		}
		if len(goRun.records) == 0 {
			t.Errorf("%s: no records", c.query)
		}
	}
}
