package query

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

// timeline is a store with thousands of events at many different times,
// some sharing a timestamp, for ordering, limits and histograms.
type timeline struct {
	st     *embedded.Store
	rng    Range
	events []timelineEvent
}

type timelineEvent struct {
	ts  int64
	rid uint64
	raw string
}

var (
	timelineOnce sync.Once
	timelineVal  *timeline
)

func getTimeline(t testing.TB) *timeline {
	t.Helper()
	timelineOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dohyo-query-timeline-")
		if err != nil {
			t.Fatal(err)
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		st, err := embedded.Open(dir, embedded.Config{Retention: 30 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		cleanups = append(cleanups, func() { st.Close() })
		tl := &timeline{st: st}
		end := time.Now().Truncate(time.Hour)
		start := end.Add(-72 * time.Hour)
		tl.rng = Range{Start: start, End: end}
		span := end.Sub(start).Nanoseconds()
		words := func(i int) string {
			w := []string{"evt"}
			if i%2 == 0 {
				w = append(w, "alpha")
			}
			if i%20 == 3 {
				w = append(w, "beta")
			}
			if i%997 == 5 {
				w = append(w, "gamma")
			}
			return strings.Join(w, " ")
		}
		const batches, perBatch = 12, 500
		i := 0
		for seq := 1; seq <= batches; seq++ {
			b := &event.Batch{ReceiptTime: end.UnixNano(), Source: event.Source{Category: fmt.Sprintf("c%d", seq%3), Host: "h"}}
			for j := 0; j < perBatch; j++ {
				// A spread of times, denser towards the end; every 7th
				// event reuses the time of an earlier one (a tie).
				x := uint64(i) * 2654435761 % 1000003
				ts := start.UnixNano() + int64(float64(span)*(1-float64(x*x)/float64(1000003*1000003)))
				if i%7 == 6 && len(tl.events) > 0 {
					ts = tl.events[len(tl.events)-3].ts
				}
				ts = min(ts, end.UnixNano()-1)
				raw := fmt.Sprintf("%s #%d", words(i), i)
				b.Events = append(b.Events, event.Event{Time: ts, Raw: raw})
				tl.events = append(tl.events, timelineEvent{ts: ts, rid: event.RowID(uint64(seq), j), raw: raw})
				i++
			}
			if err := st.Add(context.Background(), uint64(seq), b, nil); err != nil {
				t.Fatal(err)
			}
		}
		st.Flush()
		timelineVal = tl
	})
	if timelineVal == nil {
		t.Fatal("timeline store not available")
	}
	return timelineVal
}

// expected returns the raw texts of the events matching text, newest
// first.
func (tl *timeline) expected(t testing.TB, text string) []timelineEvent {
	q, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	m := compileMatcher(q.Scope)
	var out []timelineEvent
	for _, e := range tl.events {
		if m.match(memRow{event.FieldRaw: e.raw}) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ts != out[j].ts {
			return out[i].ts > out[j].ts
		}
		return out[i].rid > out[j].rid
	})
	return out
}

// batchSink records the batches it receives.
type batchSink struct {
	collectSink
	maxBatch int
}

func (s *batchSink) Messages(rows []Row) error {
	s.maxBatch = max(s.maxBatch, len(rows))
	return s.collectSink.Messages(rows)
}

func TestMessagesOrderAndLimit(t *testing.T) {
	tl := getTimeline(t)
	ties := 0
	for i := 3; i < len(tl.events); i++ {
		if tl.events[i].ts == tl.events[i-3].ts {
			ties++
		}
	}
	if ties < 100 {
		t.Fatalf("only %d ties in the timeline", ties)
	}
	for _, text := range []string{"*", "alpha", "beta", "gamma", "NOT alpha", "nomatch"} {
		want := tl.expected(t, text)
		for _, limit := range []int{0, 1, 137, 1000, 2500, 100000} {
			var results [2][]Row
			for k, push := range []bool{true, false} {
				q, _ := Parse(text)
				p, err := Compile(q, CompileOptions{PushDown: push})
				if err != nil {
					t.Fatal(err)
				}
				s := &batchSink{}
				stats, err := p.Execute(context.Background(), tl.st, ExecOptions{Range: tl.rng, MaxMessages: limit}, s)
				if err != nil {
					t.Fatalf("%q limit %d push=%v: %v", text, limit, push, err)
				}
				n := len(want)
				if limit > 0 {
					n = min(n, limit)
				}
				if len(s.messages) != n {
					t.Fatalf("%q limit %d push=%v: %d messages, want %d", text, limit, push, len(s.messages), n)
				}
				for i, r := range s.messages {
					if r.Get(event.FieldRaw) != want[i].raw {
						t.Fatalf("%q limit %d push=%v: message %d is %q, want %q", text, limit, push, i, r.Get(event.FieldRaw), want[i].raw)
					}
					if ms := strconv.FormatInt(time.Unix(0, want[i].ts).UnixMilli(), 10); r.Get(event.FieldMessageTime) != ms {
						t.Fatalf("%q: _messageTime %s, want %s", text, r.Get(event.FieldMessageTime), ms)
					}
				}
				if stats.MessagesMatched != int64(len(want)) {
					t.Errorf("%q limit %d push=%v: MessagesMatched %d, want %d", text, limit, push, stats.MessagesMatched, len(want))
				}
				if s.maxBatch > messageBatch {
					t.Errorf("a batch of %d messages", s.maxBatch)
				}
				results[k] = s.messages
			}
			if !slices.EqualFunc(results[0], results[1], slices.Equal) {
				t.Errorf("%q limit %d: pushed and all-Go rows differ", text, limit)
			}
		}
	}
	s, _ := run(t, tl.st, "gamma", true, ExecOptions{Range: tl.rng, MaxMessages: 1})
	r := s.messages[0]
	for i, name := range fixedMessageFields {
		if r[i].Name != name {
			t.Fatalf("field %d is %q, want %q: %v", i, r[i].Name, name, r)
		}
	}
	for _, f := range r {
		if strings.HasPrefix(f.Name, event.InternalFieldPrefix) || f.Name == "_msg" || f.Name == "_time" || strings.HasPrefix(f.Name, "_stream") {
			t.Errorf("internal field %q delivered", f.Name)
		}
	}
}

// recordingStore records the time ranges of the queries it runs.
type recordingStore struct {
	store.Store
	mu      sync.Mutex
	queries []store.Query
	events  []string
}

func (s *recordingStore) Query(ctx context.Context, q store.Query, fn func(*store.Block) error) error {
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.events = append(s.events, "query")
	s.mu.Unlock()
	return s.Store.Query(ctx, q, fn)
}

type eventSink struct {
	collectSink
	rs *recordingStore
}

func (s *eventSink) Messages(rows []Row) error {
	s.rs.mu.Lock()
	s.rs.events = append(s.rs.events, fmt.Sprintf("messages(%d)", len(rows)))
	s.rs.mu.Unlock()
	return s.collectSink.Messages(rows)
}

func TestMessagesWindows(t *testing.T) {
	tl := getTimeline(t)
	for _, push := range []bool{true, false} {
		rs := &recordingStore{Store: tl.st}
		q, _ := Parse("alpha")
		p, _ := Compile(q, CompileOptions{PushDown: push})
		s := &eventSink{rs: rs}
		stats, err := p.Execute(context.Background(), rs, ExecOptions{Range: tl.rng, MaxMessages: 100}, s)
		if err != nil {
			t.Fatal(err)
		}
		first := rs.queries[0]
		span := tl.rng.End.UnixNano() - tl.rng.Start.UnixNano()
		if first.End != tl.rng.End.UnixNano()-1 || first.End-first.Start+1 != span/64 {
			t.Errorf("push=%v: first window [%d, %d] is not the last 1/64 of the range", push, first.Start, first.End)
		}
		if rs.events[1] != "messages(100)" {
			t.Errorf("push=%v: the first page did not come from the first window: %v", push, rs.events)
		}
		last := rs.queries[len(rs.queries)-1]
		if !strings.Contains(last.LogsQL, "stats count()") && push {
			t.Errorf("push=%v: the total was not counted by the engine: %q", push, last.LogsQL)
		}
		if stats.MessagesMatched != int64(len(tl.expected(t, "alpha"))) {
			t.Errorf("push=%v: matched %d", push, stats.MessagesMatched)
		}
		t.Logf("push=%v: %v", push, rs.events)
	}
	// A rare term over the whole range: windows grow.
	rs := &recordingStore{Store: tl.st}
	q, _ := Parse("gamma")
	p, _ := Compile(q, CompileOptions{PushDown: true})
	if _, err := p.Execute(context.Background(), rs, ExecOptions{Range: tl.rng, MaxMessages: 1000}, &collectSink{}); err != nil {
		t.Fatal(err)
	}
	if len(rs.queries) > 8 {
		t.Errorf("%d windows for a rare term", len(rs.queries))
	}
}

func TestHistogram(t *testing.T) {
	tl := getTimeline(t)
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		kolkata = time.FixedZone("IST", 5*3600+1800)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		newYork = time.FixedZone("EST", -5*3600)
	}
	cases := []struct {
		text   string
		bucket time.Duration
		loc    *time.Location
	}{
		{"*", time.Hour, nil},
		{"alpha", time.Hour, kolkata},
		{"beta", 24 * time.Hour, newYork},
		{"NOT alpha", 7 * time.Minute, nil},
		{"gamma", 1500 * time.Millisecond, kolkata},
		{"* | count by _sourceCategory", 6 * time.Hour, newYork},
		{"nomatch", time.Hour, nil},
	}
	for _, c := range cases {
		want := tl.expected(t, strings.Split(c.text, "|")[0])
		var res [2][]Bucket
		for k, push := range []bool{true, false} {
			q, _ := Parse(c.text)
			p, _ := Compile(q, CompileOptions{PushDown: push})
			rs := &recordingStore{Store: tl.st}
			bs, err := p.Histogram(context.Background(), rs, ExecOptions{Range: tl.rng, Location: c.loc}, c.bucket)
			if err != nil {
				t.Fatalf("%q: %v", c.text, err)
			}
			if len(rs.queries) != 1 || push != strings.Contains(rs.queries[0].LogsQL, "_time:") {
				t.Errorf("%q push=%v: engine queries %v", c.text, push, rs.queries)
			}
			var total int64
			for i, b := range bs {
				total += b.Count
				if b.Count <= 0 || (i > 0 && !b.Start.After(bs[i-1].Start)) {
					t.Errorf("%q: bad bucket %d %+v", c.text, i, b)
				}
				loc := c.loc
				if loc == nil {
					loc = time.UTC
				}
				_, off0 := tl.rng.Start.In(loc).Zone()
				// Clock-aligned: the local wall time is a multiple of the
				// bucket since the Unix epoch.
				if (b.Start.UnixNano()+int64(off0)*int64(time.Second))%int64(c.bucket) != 0 {
					t.Errorf("%q: bucket %s is not aligned to %s in %s", c.text, b.Start, c.bucket, loc)
				}
			}
			if total != int64(len(want)) {
				t.Errorf("%q push=%v: %d messages in buckets, want %d", c.text, push, total, len(want))
			}
			res[k] = bs
		}
		if fmt.Sprint(res[0]) != fmt.Sprint(res[1]) {
			t.Errorf("%q: pushed and Go histograms differ:\n%v\n%v", c.text, res[0], res[1])
		}
	}
}

func TestTruncateTime(t *testing.T) {
	h := int64(time.Hour)
	cases := []struct{ ts, size, off, want int64 }{
		{5*h + 10, h, 0, 5 * h},
		{-10, h, 0, -h},
		{5*h + 10, h, h / 2, 4*h + h/2},
		{5*h + h/2, h, h / 2, 5*h + h/2},
	}
	for _, c := range cases {
		if got := truncateTime(c.ts, c.size, c.off); got != c.want {
			t.Errorf("truncateTime(%d, %d, %d) = %d, want %d", c.ts, c.size, c.off, got, c.want)
		}
	}
	for ns, want := range map[int64]string{int64(time.Hour): "1h", int64(90 * time.Second): "90s", int64(1500 * time.Millisecond): "1500ms", 1500: "1500ns", 2000: "2us"} {
		if got := logsQLDuration(ns); got != want {
			t.Errorf("logsQLDuration(%d) = %q, want %q", ns, got, want)
		}
	}
}

var errStop = errors.New("stop")

type stoppingSink struct {
	collectSink
	after  int
	cancel context.CancelFunc
	err    error
}

func (s *stoppingSink) Messages(rows []Row) error {
	_ = s.collectSink.Messages(rows)
	if s.calls >= s.after {
		if s.cancel != nil {
			s.cancel()
		}
		return s.err
	}
	return nil
}

func TestCancelAndSinkErrors(t *testing.T) {
	tl := getTimeline(t)
	for _, push := range []bool{true, false} {
		q, _ := Parse("evt")
		p, _ := Compile(q, CompileOptions{PushDown: push})
		// A sink error stops the run and comes back as is.
		s := &stoppingSink{after: 1, err: errStop}
		_, err := p.Execute(context.Background(), tl.st, ExecOptions{Range: tl.rng}, s)
		if !errors.Is(err, errStop) || s.calls != 1 {
			t.Errorf("push=%v: sink error: %v after %d calls", push, err, s.calls)
		}
		// A cancelled context stops the run promptly.
		ctx, cancel := context.WithCancel(context.Background())
		s = &stoppingSink{after: 1, cancel: cancel}
		start := time.Now()
		_, err = p.Execute(ctx, tl.st, ExecOptions{Range: tl.rng}, s)
		if !errors.Is(err, context.Canceled) || s.calls != 1 {
			t.Errorf("push=%v: cancel: %v after %d calls", push, err, s.calls)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("cancel took %s", d)
		}
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		for _, text := range []string{"evt", "evt | count"} {
			q, _ := Parse(text)
			p, _ := Compile(q, CompileOptions{PushDown: push})
			if _, err := p.Execute(ctx, tl.st, ExecOptions{Range: tl.rng}, &collectSink{}); !errors.Is(err, context.Canceled) {
				t.Errorf("%q push=%v: cancelled before the start: %v", text, push, err)
			}
			if _, err := p.Histogram(ctx, tl.st, ExecOptions{Range: tl.rng}, time.Hour); !errors.Is(err, context.Canceled) {
				t.Errorf("%q push=%v: histogram cancelled: %v", text, push, err)
			}
		}
	}
	q, _ := Parse("evt")
	p, _ := Compile(q, CompileOptions{PushDown: true})
	if _, err := p.Execute(context.Background(), tl.st, ExecOptions{Range: Range{tl.rng.End, tl.rng.Start}}, &collectSink{}); err == nil {
		t.Error("an empty range was accepted")
	}
	if _, err := p.Histogram(context.Background(), tl.st, ExecOptions{Range: tl.rng}, 0); err == nil {
		t.Error("a zero bucket was accepted")
	}
}

func TestGroupLimit(t *testing.T) {
	tl := getTimeline(t)
	var msgs []string
	for _, push := range []bool{true, false} {
		for _, text := range []string{"* | count by _raw", "beta | count by _messageTime"} {
			q, _ := Parse(text)
			p, _ := Compile(q, CompileOptions{PushDown: push, MaxGroups: 50})
			_, err := p.Execute(context.Background(), tl.st, ExecOptions{Range: tl.rng}, &collectSink{})
			if !errors.Is(err, ErrTooManyGroups) {
				t.Fatalf("%q push=%v: %v", text, push, err)
			}
			msgs = append(msgs, err.Error())
		}
		// At the limit exactly, no error.
		q, _ := Parse("* | count by _sourceCategory")
		p, _ := Compile(q, CompileOptions{PushDown: push, MaxGroups: 3})
		s := &collectSink{}
		if _, err := p.Execute(context.Background(), tl.st, ExecOptions{Range: tl.rng}, s); err != nil || len(s.records) != 3 {
			t.Errorf("push=%v: 3 groups with a limit of 3: %v %v", push, err, s.records)
		}
	}
	if msgs[0] != msgs[2] || msgs[1] != msgs[3] {
		t.Errorf("different errors: %q", msgs)
	}
	t.Log(msgs[0])
}

func TestExplain(t *testing.T) {
	cases := []struct {
		text string
		push bool
		want []string
	}{
		{"_sourceCategory=prod/web* error", true, []string{
			`engine:  {_sourceCategory=~"[pP][rR][oO][dD]/[wW][eE][bB](?s:.*)"} i("error") | sort by (_time desc, "_dohyo.rid" desc) limit <messages wanted>`,
			"go:      (none)", "output:  messages"}},
		{"error | count by _sourceHost", true, []string{
			`engine:  i("error") | stats by ("_sourceHost") count() as "_count" | limit 10001`,
			`keys:    when a key of the engine's output is an integer (it may have read "1_000" as 1000), the run starts again with not (("_sourceHost":~"_" "_sourceHost":~"^-?[0-9_]*_[0-9_]*$") or "_sourceHost":="-0")`,
			"go:      (none)", "output:  records (_sourceHost string key, _count int)"}},
		{"error | count by _sourceHost | count", true, []string{
			`| limit 10001`, "go:      count (at most 10000 groups)"}},
		{"error | count by _sourceHost", false, []string{
			"engine:  *", "go:      filter error -> count by _sourceHost (at most 10000 groups)"}},
		{"error", false, []string{"engine:  *", "go:      filter error -> keep the newest messages"}},
	}
	for _, c := range cases {
		q, _ := Parse(c.text)
		p, _ := Compile(q, CompileOptions{PushDown: c.push})
		ex := p.Explain()
		for _, w := range c.want {
			if !strings.Contains(ex, w) {
				t.Errorf("Explain(%q, push=%v) lacks %q:\n%s", c.text, c.push, w, ex)
			}
		}
	}
}

// TestConcurrentUse runs one plan's Execute and Histogram at the same time,
// as the search API does.
func TestConcurrentUse(t *testing.T) {
	tl := getTimeline(t)
	for _, text := range []string{"alpha NOT beta", "alpha | count by _sourceCategory"} {
		for _, push := range []bool{true, false} {
			q, _ := Parse(text)
			p, _ := Compile(q, CompileOptions{PushDown: push})
			var wg sync.WaitGroup
			var hist []Bucket
			var herr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				hist, herr = p.Histogram(context.Background(), tl.st, ExecOptions{Range: tl.rng}, time.Hour)
			}()
			s := &collectSink{}
			stats, err := p.Execute(context.Background(), tl.st, ExecOptions{Range: tl.rng, MaxMessages: 500}, s)
			wg.Wait()
			if err != nil || herr != nil {
				t.Fatalf("%q: %v / %v", text, err, herr)
			}
			var total int64
			for _, b := range hist {
				total += b.Count
			}
			if total != stats.MessagesMatched {
				t.Errorf("%q push=%v: histogram total %d, matched %d", text, push, total, stats.MessagesMatched)
			}
		}
	}
}
