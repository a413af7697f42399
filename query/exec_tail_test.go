package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
)

// Messages-level sort, limit and dedup over the timeline store (thousands
// of events over three days, with ties), which the executor walks in many
// time windows: exact order and counts, pushed down and all-Go.

// timelineNum is the event number in a timeline raw ("evt alpha #12").
func timelineNum(raw string) int {
	_, n, _ := strings.Cut(raw, "#")
	i, _ := strconv.Atoi(n)
	return i
}

// runBoth runs text pushed and all-Go and demands the same messages.
func runBoth(t *testing.T, text string, opt ExecOptions) ([]Row, Stats) {
	t.Helper()
	tl := getTimeline(t)
	var res [2][]Row
	var stats Stats
	for k, push := range []bool{true, false} {
		s, st := run(t, tl.st, text, push, opt)
		res[k] = s.messages
		if k == 0 {
			stats = st
		} else if st.MessagesMatched != stats.MessagesMatched {
			t.Errorf("%q: MessagesMatched %d pushed, %d all-Go", text, stats.MessagesMatched, st.MessagesMatched)
		}
		if s.maxBatchOK() != nil {
			t.Errorf("%q: %v", text, s.maxBatchOK())
		}
	}
	if !slices.EqualFunc(res[0], res[1], slices.Equal) {
		t.Errorf("%q: pushed and all-Go messages differ (%d and %d)", text, len(res[0]), len(res[1]))
	}
	return res[0], stats
}

func (s *collectSink) maxBatchOK() error {
	if s.calls > 0 && len(s.messages) > s.calls*messageBatch {
		return fmt.Errorf("%d messages in %d calls", len(s.messages), s.calls)
	}
	return nil
}

func raws(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Get(event.FieldRaw)
	}
	return out
}

func eventRaws(es []timelineEvent) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.raw
	}
	return out
}

func checkRaws(t *testing.T, what string, got []Row, want []string) {
	t.Helper()
	g := raws(got)
	if len(g) != len(want) {
		t.Fatalf("%s: %d messages, want %d", what, len(g), len(want))
	}
	for i := range g {
		if g[i] != want[i] {
			t.Fatalf("%s: message %d is %q, want %q", what, i, g[i], want[i])
		}
	}
}

func TestMessagesLimitStage(t *testing.T) {
	tl := getTimeline(t)
	for _, text := range []string{"*", "alpha", "beta", "gamma", "nomatch"} {
		want := eventRaws(tl.expected(t, text))
		for _, n := range []int{1, 137, 1000, 2500, 10000} {
			q := fmt.Sprintf("%s | limit %d", text, n)
			got, stats := runBoth(t, q, ExecOptions{Range: tl.rng})
			w := want[:min(n, len(want))]
			checkRaws(t, q, got, w)
			if stats.MessagesMatched != int64(len(w)) {
				t.Errorf("%q: MessagesMatched %d, want %d", q, stats.MessagesMatched, len(w))
			}
			// The job's cap cuts the delivery, not the limit's count.
			got, stats = runBoth(t, q, ExecOptions{Range: tl.rng, MaxMessages: 100})
			checkRaws(t, q+" (cap 100)", got, w[:min(100, len(w))])
			if stats.MessagesMatched != int64(len(w)) {
				t.Errorf("%q cap 100: MessagesMatched %d, want %d", q, stats.MessagesMatched, len(w))
			}
		}
	}
	// Stages after the limit see its messages only.
	want := eventRaws(tl.expected(t, "*"))[:500]
	var alpha []string
	for _, r := range want {
		if strings.Contains(r, "alpha") {
			alpha = append(alpha, r)
		}
	}
	got, _ := runBoth(t, "* | limit 500 | where _raw matches \"*alpha*\"", ExecOptions{Range: tl.rng})
	checkRaws(t, "limit then where", got, alpha)
	// An aggregate after the limit counts the newest messages.
	for _, push := range []bool{true, false} {
		s, stats := run(t, tl.st, "* | limit 500 | count", push, ExecOptions{Range: tl.rng})
		if s.records[0].Get("_count") != "500" || stats.MessagesMatched != 500 {
			t.Errorf("limit 500 | count push=%v: %v, matched %d", push, s.records, stats.MessagesMatched)
		}
	}
}

// A limit at the head of the tail stops the walk early: the pushed plan
// asks the engine for the newest N per window and the windows stop once N
// are known.
func TestMessagesLimitStopsEarly(t *testing.T) {
	tl := getTimeline(t)
	for _, push := range []bool{true, false} {
		rs := &recordingStore{Store: tl.st}
		q, _ := Parse("* | limit 10")
		p, _ := Compile(q, CompileOptions{PushDown: push})
		if _, err := p.Execute(context.Background(), rs, ExecOptions{Range: tl.rng}, &collectSink{}); err != nil {
			t.Fatal(err)
		}
		oldest := rs.queries[len(rs.queries)-1].Start
		if oldest <= tl.rng.Start.UnixNano() {
			t.Errorf("push=%v: the walk went back to the start of the range (%d queries)", push, len(rs.queries))
		}
		if push != strings.Contains(rs.queries[0].LogsQL, "limit 10") {
			t.Errorf("push=%v: engine query %q", push, rs.queries[0].LogsQL)
		}
	}
	// dedup then limit: the walk stops when the limit is reached.
	rs := &recordingStore{Store: tl.st}
	q, _ := Parse("* | dedup by _sourceCategory | limit 2")
	p, _ := Compile(q, CompileOptions{PushDown: true})
	s := &collectSink{}
	if _, err := p.Execute(context.Background(), rs, ExecOptions{Range: tl.rng}, s); err != nil {
		t.Fatal(err)
	}
	if len(s.messages) != 2 || rs.queries[len(rs.queries)-1].Start <= tl.rng.Start.UnixNano() {
		t.Errorf("dedup | limit 2: %d messages, %d queries", len(s.messages), len(rs.queries))
	}
}

func TestMessagesSortStage(t *testing.T) {
	tl := getTimeline(t)
	for _, text := range []string{"*", "alpha", "beta", "gamma"} {
		newest := eventRaws(tl.expected(t, text))
		oldest := slices.Clone(newest)
		slices.Reverse(oldest)
		q := text + " | sort by _messageTime asc"
		got, stats := runBoth(t, q, ExecOptions{Range: tl.rng})
		checkRaws(t, q, got, oldest)
		if stats.MessagesMatched != int64(len(oldest)) {
			t.Errorf("%q: MessagesMatched %d", q, stats.MessagesMatched)
		}
		for _, n := range []int{1, 250, 4000} {
			q := fmt.Sprintf("%s | sort by _messageTime asc | limit %d", text, n)
			got, _ := runBoth(t, q, ExecOptions{Range: tl.rng})
			checkRaws(t, q, got, oldest[:min(n, len(oldest))])
		}
		// The job's cap keeps the first messages of the sort's order.
		got, _ = runBoth(t, q, ExecOptions{Range: tl.rng, MaxMessages: 30})
		checkRaws(t, q+" (cap 30)", got, oldest[:min(30, len(oldest))])
		// The default order costs nothing.
		got, _ = runBoth(t, text+" | sort by _messageTime", ExecOptions{Range: tl.rng, MaxMessages: 50})
		checkRaws(t, text+" | sort by _messageTime", got, newest[:min(50, len(newest))])
	}

	// By a parsed number: ascending, descending, several keys.
	all := tl.expected(t, "*")
	byNum := func(desc bool) []string {
		es := slices.Clone(all)
		sort.SliceStable(es, func(i, j int) bool {
			a, b := timelineNum(es[i].raw), timelineNum(es[j].raw)
			if desc {
				return a > b
			}
			return a < b
		})
		return eventRaws(es)
	}
	got, _ := runBoth(t, `* | parse "#*" as n | sort by n asc | limit 300`, ExecOptions{Range: tl.rng})
	checkRaws(t, "sort by n asc", got, byNum(false)[:300])
	got, _ = runBoth(t, `* | parse "#*" as n | sort by n`, ExecOptions{Range: tl.rng, MaxMessages: 200})
	checkRaws(t, "sort by n (cap 200)", got, byNum(true)[:200])
	got, _ = runBoth(t, `* | parse "#*" as n | sort by n`, ExecOptions{Range: tl.rng})
	checkRaws(t, "sort by n", got, byNum(true))
	// Ties keep the newest first: sort by the words, then the whole stream.
	es := slices.Clone(all)
	sort.SliceStable(es, func(i, j int) bool {
		wi, _, _ := strings.Cut(es[i].raw, " #")
		wj, _, _ := strings.Cut(es[j].raw, " #")
		return wi < wj
	})
	got, _ = runBoth(t, `* | parse "* #" as words | sort by words asc | limit 3000`, ExecOptions{Range: tl.rng})
	checkRaws(t, "sort by words asc", got, eventRaws(es)[:3000])

	// A sort that needs all its messages has a bound.
	for _, push := range []bool{true, false} {
		for _, text := range []string{`* | parse "#*" as n | sort by n | where n > 5`, `* | sort by _messageTime asc | count`} {
			q, _ := Parse(text)
			p, _ := Compile(q, CompileOptions{PushDown: push})
			_, err := p.Execute(context.Background(), tl.st, ExecOptions{Range: tl.rng, MaxBufferedMessages: 1000}, &collectSink{})
			if err == nil || !strings.Contains(err.Error(), "more than 1000") || !strings.Contains(err.Error(), "MaxBufferedMessages") {
				t.Errorf("%q push=%v: error %v, want one naming the limit", text, push, err)
			}
		}
	}
}

// The pushed "sort by _messageTime asc" is one engine query over the whole
// range.
func TestEngineSort(t *testing.T) {
	tl := getTimeline(t)
	rs := &recordingStore{Store: tl.st}
	q, _ := Parse("alpha | sort by _messageTime asc | limit 20")
	p, _ := Compile(q, CompileOptions{PushDown: true})
	if !strings.Contains(p.Explain(), `sort by (_time, "_dohyo.rid")`) {
		t.Errorf("explain:\n%s", p.Explain())
	}
	s := &collectSink{}
	if _, err := p.Execute(context.Background(), rs, ExecOptions{Range: tl.rng}, s); err != nil {
		t.Fatal(err)
	}
	if len(rs.queries) != 1 || !strings.HasSuffix(rs.queries[0].LogsQL, `sort by (_time, "_dohyo.rid") limit 20`) {
		t.Errorf("engine queries: %+v", rs.queries)
	}
	if len(s.messages) != 20 || s.messages[0].Get(FieldMessageID) == "" {
		t.Errorf("%d messages: %v", len(s.messages), s.messages[:1])
	}
}

func TestMessagesDedupStage(t *testing.T) {
	tl := getTimeline(t)
	all := tl.expected(t, "*")
	seen := map[string]int{}
	var first, two []string
	for _, e := range all {
		w, _, _ := strings.Cut(e.raw, " #")
		seen[w]++
		if seen[w] == 1 {
			first = append(first, e.raw)
		}
		if seen[w] <= 2 {
			two = append(two, e.raw)
		}
	}
	if len(first) < 4 {
		t.Fatalf("only %d distinct word sets", len(first))
	}
	got, stats := runBoth(t, `* | parse "* #" as words | dedup by words`, ExecOptions{Range: tl.rng})
	checkRaws(t, "dedup by words", got, first)
	if stats.MessagesMatched != int64(len(first)) {
		t.Errorf("MessagesMatched %d", stats.MessagesMatched)
	}
	got, _ = runBoth(t, `* | parse "* #" as words | dedup 2 by words`, ExecOptions{Range: tl.rng})
	checkRaws(t, "dedup 2 by words", got, two)
	// consecutive: runs in the newest-first stream
	var runs []string
	prev := ""
	for i, e := range all {
		w, _, _ := strings.Cut(e.raw, " #")
		if i == 0 || w != prev {
			runs = append(runs, e.raw)
		}
		prev = w
	}
	got, _ = runBoth(t, `* | parse "* #" as words | dedup by words consecutive`, ExecOptions{Range: tl.rng})
	checkRaws(t, "dedup consecutive", got, runs)
}

func TestHistogramTail(t *testing.T) {
	tl := getTimeline(t)
	all := tl.expected(t, "*")
	cases := []struct {
		text string
		want []timelineEvent
	}{
		{"* | limit 250", all[:250]},
		{"* | parse \"#*\" as n | sort by n | where n < 3000", nil},
		{"* | sort by _messageTime asc | limit 40", all[len(all)-40:]},
	}
	for _, e := range all {
		if timelineNum(e.raw) < 3000 {
			cases[1].want = append(cases[1].want, e)
		}
	}
	for _, c := range cases {
		want := map[int64]int64{}
		for _, e := range c.want {
			want[truncateTime(e.ts, int64(time.Hour), 0)]++
		}
		for _, push := range []bool{true, false} {
			q, _ := Parse(c.text)
			p, _ := Compile(q, CompileOptions{PushDown: push})
			// A sort that nothing after it observes passes through: no
			// buffer limit applies.
			bs, err := p.Histogram(context.Background(), tl.st, ExecOptions{Range: tl.rng, MaxBufferedMessages: 100}, time.Hour)
			if err != nil {
				t.Fatalf("%q push=%v: %v", c.text, push, err)
			}
			got := map[int64]int64{}
			for _, b := range bs {
				got[b.Start.UnixNano()] = b.Count
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%q push=%v: histogram %v, want %v", c.text, push, got, want)
			}
		}
	}
}

func TestTailExplain(t *testing.T) {
	cases := []struct{ text, want string }{
		{"error | limit 10", `sort by (_time desc, "_dohyo.rid" desc) limit 10   (per time window, newest window first, until 10 messages`},
		{"error | sort by x | limit 10", `the stages from "sort" on see the whole range in order`},
		{"error | sort by _messageTime asc", `| sort by (_time, "_dohyo.rid") limit <messages wanted>`},
		{"error | sort by _messageTime", "sort by _messageTime desc (the default order)"},
		{"error | fields a | where a = \"x\"", `fields _time, "_msg", "_dohyo.*", "_json.*", "a" | filter`},
		{"error | fields - a, b", `delete "a", "b"`},
	}
	for _, c := range cases {
		q, err := Parse(c.text)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(q, CompileOptions{PushDown: true})
		if err != nil {
			t.Fatal(err)
		}
		if e := p.Explain(); !strings.Contains(e, c.want) {
			t.Errorf("%q: explain lacks %q:\n%s", c.text, c.want, e)
		}
	}
}

// TestMessagesBufferErrors: dedup over messages bounds its keys.
func TestMessagesBufferErrors(t *testing.T) {
	tl := getTimeline(t)
	for _, push := range []bool{true, false} {
		q, _ := Parse(`* | parse "#*" as n | dedup by n`)
		p, _ := Compile(q, CompileOptions{PushDown: push})
		_, err := p.Execute(context.Background(), tl.st, ExecOptions{Range: tl.rng, MaxBufferedMessages: 500}, &collectSink{})
		if err == nil || !strings.Contains(err.Error(), "more than 500") {
			t.Errorf("push=%v: %v", push, err)
		}
		// The search job's setting (SkipMatchCount) stops at the cap
		// instead.
		s := &collectSink{}
		_, err = p.Execute(context.Background(), tl.st, ExecOptions{Range: tl.rng, MaxBufferedMessages: 500, MaxMessages: 100, SkipMatchCount: true}, s)
		if err != nil || len(s.messages) != 100 {
			t.Errorf("push=%v with a cap: %d messages, %v", push, len(s.messages), err)
		}
	}
	var e *Error
	if errors.As(errBufferLimit("x", 1), &e) {
		t.Error("the buffer error is a run-time error, not a query error")
	}
}
