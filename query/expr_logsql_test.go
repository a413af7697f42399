package query

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store/embedded"
)

// whereValues are the values of the fields v and w in the differential
// corpus: case, spaces, unicode, newlines, regex and glob metacharacters,
// numbers in several spellings, timestamps, IPs, unit-like text. "" means
// the field is absent.
var whereValues = []string{
	"", "abc", "ABC", "Abc", "abc ", " abc", "a*c", "a.c", "a\nc", "ab\"c", `a\b`, "é", "É", "e\u0301",
	"200", "200.0", "0200", "2e2", "-1", "+5", ".5", "true", "TRUE", "false", "a", "abcabc", "x/y", "x y",
	"10.1.2.3", "2024-01-02T03:04:05Z", "1h", "5KB", "日本語", "%", "null", "*", "?", "[a]", "prod/web",
	"error", "Error: boom", "line1\nline2", "tab\there", "ß", "ſ", "K", "\u212a",
}

// whereLiterals are compared with the fields.
var whereLiterals = []string{
	"abc", "ABC", "a*c", "a.c", "a\nc", `ab"c`, `a\b`, "é", "200", "true", "false", "TRUE", "zzz", "",
	"1h", "10.1.2.3", "x y", "*", "日本語", "ſ", "k",
}

var whereGlobs = []string{
	"*", "**", "", "abc", "a*", "*c", "*b*", "a*c", "A*", "a.c", "*.*", "a?c", "*\n*", "line1*", "*é*",
	"*/*", "[a]", "%", "*e*", "ab*bc", "a**c", "*abc*abc*",
}

var whereRegexes = []string{
	`a`, `^a`, `c$`, `^abc$`, `(?i)^abc$`, `\d`, `^\d+$`, `^$`, `.*`, `x*`, `\.`, `^.$`, `(?s)^line1.line2$`,
	`line2`, `[[:upper:]]`, `é`, `^[^a-z]`, `\n`, `b|y`, `\/`,
}

// whereConds returns the conditions the differential test runs.
func whereConds() []string {
	var conds []string
	q := strconv.Quote
	for _, l := range whereLiterals {
		conds = append(conds,
			"v = "+q(l), "v != "+q(l), q(l)+" = v", "!(v = "+q(l)+")", "v in ("+q(l)+", \"abc\")",
			"v = "+q(l)+" or w = "+q(l), "v != "+q(l)+" and w != "+q(l), "not v = "+q(l),
			"_raw = "+q(l), "_sourceHost != "+q(l))
	}
	for _, g := range whereGlobs {
		conds = append(conds, "v matches "+q(g), "!(v matches "+q(g)+")", "_raw matches "+q(g),
			"_sourceCategory matches "+q(g), "v matches "+q(g)+" or w matches "+q(g))
	}
	for _, r := range whereRegexes {
		conds = append(conds, "v matches /"+r+"/", "not (w matches /"+r+"/)", "_raw matches /"+r+"/")
	}
	conds = append(conds,
		"isNull(v)", "!isNull(v)", "isEmpty(w)", "v = \"\"", "v != \"\"", "\"\" = v", "isNull(v) and isNull(w)",
		"v = true", "v = false", "v != true", "v in (true, \"abc\")", "v in (\"abc\", \"ABC\", \"é\")",
		"_sourceCategory = \"prod/web\"", "_sourceCategory != \"prod/web\"", "_sourceHost in (\"web-1\", \"db-1\")",
		"_collector = \"c1\"", "_sourceName matches \"/var/log/*\"", "_source = \"s1\"",
		"v = \"abc\" and (w = \"ABC\" or !isNull(w))", "!(v = \"abc\" or w = \"abc\") and v matches \"*\"",
		"true", "false", "v = \"abc\" or true", "!true",
		// not pushed: numbers, functions, arithmetic, contains, truth of fields
		"v = 200", "v = \"200\"", "v > \"abc\"", "v < 5", "v in (200, \"abc\")", "length(v) > 2", "v contains \"b\"",
		"v", "toLowerCase(v) = \"abc\"", "_messageTime > 0", "v = w", "isBlank(v)",
	)
	return conds
}

type whereEvent struct {
	batch *event.Batch
	row   Row // as the executor builds it
}

// whereCorpus loads one event per combination of v and w values (a sample
// of the cross product) into an embedded store.
func whereCorpus(t *testing.T) (*embedded.Store, Range, []whereEvent) {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Config{Retention: 30 * 24 * time.Hour}) // a day's retention would move the events of yesterday (before 02:00 UTC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	cats := []string{"prod/web", "Prod/Web", "prod/db", "", "日本/x", "prod/web\nx"}
	hosts := []string{"web-1", "WEB-1", "db-1", "", "abc", "é"}
	var evs []whereEvent
	i := 0
	for vi, v := range whereValues {
		for wi := 0; wi < len(whereValues); wi += 7 {
			w := whereValues[(wi+vi)%len(whereValues)]
			raw := whereValues[(vi*3+wi)%len(whereValues)]
			if raw == "" {
				raw = "raw " + strconv.Itoa(i)
			}
			b := &event.Batch{ReceiptTime: base.UnixNano(), Source: event.Source{
				Category: cats[i%len(cats)], Host: hosts[i%len(hosts)], Collector: "c1", Name: "s1", FileName: "/var/log/x.log",
			}}
			if v != "" {
				b.Fields = append(b.Fields, event.Field{Name: "v", Value: v})
			}
			if w != "" {
				b.Fields = append(b.Fields, event.Field{Name: "w", Value: w})
			}
			ts := base.Add(time.Duration(i) * time.Millisecond)
			b.Events = []event.Event{{Time: ts.UnixNano(), Raw: raw}}
			if err := st.Add(context.Background(), uint64(i+1), b, nil); err != nil {
				t.Fatal(err)
			}
			row := Row{{event.FieldRaw, raw}, {event.FieldMessageTime, strconv.FormatInt(ts.UnixMilli(), 10)},
				{event.FieldSourceCategory, b.Source.Category}, {event.FieldSourceHost, b.Source.Host},
				{event.FieldCollector, "c1"}, {event.FieldSource, "s1"}, {event.FieldSourceName, "/var/log/x.log"}}
			if v != "" {
				row = append(row, Field{"v", v})
			}
			if w != "" {
				row = append(row, Field{"w", w})
			}
			evs = append(evs, whereEvent{batch: b, row: row})
			i++
		}
	}
	st.Flush()
	return st, Range{Start: base.Add(-time.Minute), End: base.Add(time.Hour)}, evs
}

// TestWherePushdownDifferential runs every condition pushed down, all-Go
// and as a direct evaluation over the in-memory rows; all three must keep
// the same messages. It also checks which conditions are pushed.
func TestWherePushdownDifferential(t *testing.T) {
	st, rng, evs := whereCorpus(t)
	pushed := 0
	for _, cond := range whereConds() {
		text := "* | where " + cond
		q, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		p, err := Compile(q, CompileOptions{PushDown: true})
		if err != nil {
			t.Fatalf("Compile(%q): %v", text, err)
		}
		isPushed := p.pushed == len(p.steps)
		if isPushed {
			pushed++
		}
		// Expected: the Go evaluator over the in-memory rows.
		ev, cerr := (&compiler{}).compileExpression(q.Stages[0].(*WhereStage).Cond, messagesSchema)
		if cerr != nil {
			t.Fatal(cerr)
		}
		var want []string
		for _, e := range evs {
			if ev(nil, e.row).Bool() {
				want = append(want, e.row.Get(event.FieldMessageTime))
			}
		}
		sort.Strings(want)
		for _, push := range []bool{true, false} {
			s, _ := run(t, st, text, push, ExecOptions{Range: rng})
			got := messageTimes(s.messages)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s (push=%v, pushed=%v): %d messages, want %d\n%s", text, push, isPushed, len(got), len(want),
					whereDiff(evs, got, want))
				if push {
					t.Logf("%s", p.Explain())
				}
			}
		}
	}
	t.Logf("%d conditions over %d events, %d pushed down", len(whereConds()), len(evs), pushed)
}

func whereDiff(evs []whereEvent, got, want []string) string {
	byTime := map[string]Row{}
	for _, e := range evs {
		byTime[e.row.Get(event.FieldMessageTime)] = e.row
	}
	in := func(xs []string, x string) bool {
		i := sort.SearchStrings(xs, x)
		return i < len(xs) && xs[i] == x
	}
	var b strings.Builder
	n := 0
	for _, g := range got {
		if !in(want, g) && n < 5 {
			fmt.Fprintf(&b, "  extra:   %q\n", byTime[g])
			n++
		}
	}
	for _, w := range want {
		if !in(got, w) && n < 10 {
			fmt.Fprintf(&b, "  missing: %q\n", byTime[w])
			n++
		}
	}
	return b.String()
}

func TestWhereLogsQL(t *testing.T) {
	cases := []struct{ cond, pipe string }{
		{`v = "abc"`, `filter "v":="abc"`},
		{`"abc" = V`, `filter "v":="abc"`},
		{`v != "abc"`, `filter (!"v":="" !"v":="abc")`},
		{`v = ""`, `filter "v":=""`},
		{`isNull(v) or v = true`, `filter ("v":="" or "v":="true")`},
		{`v in ("a", "b\"")`, `filter "v":in("a","b\"")`},
		{`v matches "a*b"`, `filter (!"v":="" "v":~"^a(?s:.*)b$")`},
		{`v matches "a.b"`, `filter "v":="a.b"`},
		{`v matches "*"`, `filter !"v":=""`},
		{`_raw matches /^x\d/`, `filter (!"_msg":="" "_msg":~"^x\\d")`},
		{`not (_sourceHost = "a" and v = "b")`, `filter !("_sourceHost":="a" "v":="b")`},
		{`v = 200`, ``}, {`v = "200"`, ``}, {`v > "a"`, ``}, {`_messageTime = "x"`, ``}, {`v`, ``},
		{`v in ("a", 1)`, ``}, {`length(v) = 1`, ``}, {`v = w`, ``},
		// the engine reads these as integers in a numeric column
		{`v = "1_000"`, ``}, {`v = "_"`, ``}, {`v in ("a", "-1_0")`, ``}, {`v matches "1_0"`, ``},
	}
	for _, c := range cases {
		e, err := parseExpr(c.cond)
		if err != nil {
			t.Fatal(err)
		}
		pipe, ok := whereLogsQL(e, messagesSchema)
		if pipe != c.pipe || ok != (c.pipe != "") {
			t.Errorf("%s: %q %v, want %q", c.cond, pipe, ok, c.pipe)
		}
	}
	e, _ := parseExpr(`v = "a"`)
	if _, ok := whereLogsQL(e, &schema{records: true}); ok {
		t.Error("where over records pushed")
	}
}

// TestExecuteWarnings checks that warnings from expressions reach
// Stats.Warnings, in both modes, and that now() is the run's clock.
func TestExecuteWarnings(t *testing.T) {
	st, rng, _ := whereCorpus(t)
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, push := range []bool{true, false} {
		s, stats := run(t, st, `* | where v = "200" | v / 0 as x | now() as n`, push, ExecOptions{Range: rng, Now: now})
		if len(s.messages) == 0 || len(stats.Warnings) != 1 ||
			!strings.HasPrefix(stats.Warnings[0], `division by zero in "v / 0" gives null`) {
			t.Errorf("push=%v: %d messages, warnings %q", push, len(s.messages), stats.Warnings)
		}
		for _, m := range s.messages {
			if m.Get("x") != "" || m.Get("n") != strconv.FormatInt(now.UnixMilli(), 10) {
				t.Errorf("push=%v: message %v", push, m)
			}
		}
	}
}
