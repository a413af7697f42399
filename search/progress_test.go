package search_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/search"
	"github.com/dohyo/dohyo/store"
)

// gatedStore passes queries to a real store but holds them where the test
// says: a whole query until a token arrives on its query gate, or each of
// its result blocks until a token arrives on its block gate. Every hold is
// announced on arrived first. The test decides when the engine advances,
// so progress is observed without timing assumptions.
type gatedStore struct {
	store.Store
	queryGate func(q store.Query) chan struct{} // nil chan: not held
	blockGate func(q store.Query) chan struct{}
	arrived   chan arrival
}

type arrival struct {
	q     store.Query
	block bool
}

func newGatedStore(st store.Store) *gatedStore {
	return &gatedStore{Store: st, arrived: make(chan arrival, 10000),
		queryGate: func(store.Query) chan struct{} { return nil },
		blockGate: func(store.Query) chan struct{} { return nil }}
}

func (g *gatedStore) Query(ctx context.Context, q store.Query, fn func(*store.Block) error) error {
	if c := g.queryGate(q); c != nil {
		g.arrived <- arrival{q: q}
		select {
		case <-c:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if c := g.blockGate(q); c != nil {
		inner := fn
		fn = func(b *store.Block) error {
			g.arrived <- arrival{q: q, block: true}
			select {
			case <-c:
			case <-ctx.Done():
				return ctx.Err()
			}
			return inner(b)
		}
	}
	return g.Store.Query(ctx, q, fn)
}

func isHistogramQuery(q store.Query) bool { return strings.Contains(q.LogsQL, "stats by (_time:") }

// poller polls a job and keeps what the incremental parts delivered.
type poller struct {
	t       *testing.T
	j       *search.Job
	buckets []search.HistogramBucket
	errs    []string
	warns   []string
}

func (p *poller) status() search.Status {
	st := p.j.Status()
	p.buckets = append(p.buckets, st.HistogramBuckets...)
	p.errs = append(p.errs, st.PendingErrors...)
	p.warns = append(p.warns, st.PendingWarnings...)
	return st
}

// until polls until cond holds (a 60 s guard against hanging, not a timing
// assertion).
func (p *poller) until(what string, cond func(search.Status) bool) search.Status {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := p.status()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("job never reached %s; last status %+v", what, st)
		}
		time.Sleep(time.Millisecond)
	}
}

func (p *poller) done() search.Status {
	p.t.Helper()
	return p.until("a final state", func(st search.Status) bool { return !running(st.State) })
}

// checkGrowth checks that counts never decrease, end at want, and pass
// through at least minBetween distinct values strictly between 0 and want.
func checkGrowth(t *testing.T, seen []int64, want int64, minBetween int) {
	t.Helper()
	t.Logf("messageCount over polls: %v", seen)
	between := map[int64]bool{}
	for i, n := range seen {
		if i > 0 && n < seen[i-1] {
			t.Fatalf("messageCount went down: %v", seen)
		}
		if n > 0 && n < want {
			between[n] = true
		}
	}
	if len(seen) == 0 || seen[len(seen)-1] != want {
		t.Fatalf("messageCount ended at %v, want %d", seen, want)
	}
	if len(between) < minBetween {
		t.Fatalf("messageCount took %d values between 0 and %d (%v), want at least %d", len(between), want, seen, minBetween)
	}
}

// An aggregate the engine computes reports no progress of its own: the
// job's messageCount follows the histogram, which is computed newest time
// window first, each window one engine query.
func TestProgressPushedAggregate(t *testing.T) {
	c := newCorpus(t)
	g := newGatedStore(c.st)
	execGate, histGate := make(chan struct{}), make(chan struct{})
	g.queryGate = func(q store.Query) chan struct{} {
		if isHistogramQuery(q) {
			return histGate
		}
		return execGate
	}
	m := newManager(t, g, search.Config{})
	j, err := m.Create(alice, c.request("* | count by _sourceCategory"))
	if err != nil {
		t.Fatal(err)
	}
	p := &poller{t: t, j: j}
	var seen []int64
	windows := 0
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case a := <-g.arrived:
			if isHistogramQuery(a.q) {
				// The previous window is counted before the next starts.
				seen = append(seen, p.status().MessageCount)
				windows++
				histGate <- struct{}{}
			}
			continue
		default:
		}
		if st := p.status(); st.MessageCount == corpusSize {
			seen = append(seen, st.MessageCount)
			// The engine's aggregate is still held: the count came from
			// the histogram, and no records are known yet.
			if st.State != search.StateGathering || st.RecordCount != 0 {
				t.Fatalf("status %+v while the aggregate is held, want gathering without records", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("histogram incomplete after 60s: %v", seen)
		}
		time.Sleep(time.Millisecond)
	}
	checkGrowth(t, seen, corpusSize, 2)
	if windows < 4 {
		t.Errorf("the histogram ran in %d windows, want several", windows)
	}
	close(execGate)
	close(histGate)
	st := p.done()
	if st.State != search.StateDone || st.MessageCount != corpusSize || st.RecordCount != 3 {
		t.Fatalf("final status %+v (errors %v)", st, p.errs)
	}
	checkBuckets(t, p.buckets, corpusSize)
}

// checkBuckets checks histogram buckets as a client accumulates them:
// newest first, each bucket once, summing to want.
func checkBuckets(t *testing.T, buckets []search.HistogramBucket, want int64) {
	t.Helper()
	var sum int64
	for i, b := range buckets {
		sum += b.Count
		if i > 0 && b.StartTimestamp >= buckets[i-1].StartTimestamp {
			t.Fatalf("bucket %d (%d) is not older than bucket %d (%d)", i, b.StartTimestamp, i-1, buckets[i-1].StartTimestamp)
		}
	}
	if sum != want {
		t.Errorf("buckets sum to %d, want %d", sum, want)
	}
}

// An aggregate computed in Go reports the input messages it counted after
// every engine block.
func TestProgressGoAggregate(t *testing.T) {
	c := newCorpus(t)
	g := newGatedStore(c.st)
	isExec := func(q store.Query) bool { return q.Start == c.from.UnixNano() && q.End == c.to.UnixNano()-1 }
	histGate, blockGate := make(chan struct{}), make(chan struct{})
	g.queryGate = func(q store.Query) chan struct{} {
		if isExec(q) {
			return nil
		}
		return histGate // the histogram waits until the end
	}
	g.blockGate = func(q store.Query) chan struct{} {
		if isExec(q) {
			return blockGate
		}
		return nil
	}
	m := newManager(t, g, search.Config{AllGo: true})
	j, err := m.Create(alice, c.request("* | count by _sourceCategory"))
	if err != nil {
		t.Fatal(err)
	}
	p := &poller{t: t, j: j}
	var seen []int64
	var last int64
	for last < corpusSize {
		var a arrival
		select {
		case a = <-g.arrived:
		case <-time.After(60 * time.Second):
			t.Fatalf("no engine block arrived; seen %v", seen)
		}
		if !a.block {
			continue
		}
		blockGate <- struct{}{}
		prev := last
		last = p.until("a count above "+strconv.FormatInt(prev, 10), func(st search.Status) bool { return st.MessageCount > prev }).MessageCount
		seen = append(seen, last)
	}
	checkGrowth(t, seen, corpusSize, 2)
	// The records are known before the (held) histogram is done.
	st := p.until("its records", func(st search.Status) bool { return st.RecordCount == 3 })
	if st.State != search.StateGathering {
		t.Errorf("state %q with the histogram held", st.State)
	}
	close(histGate)
	st = p.done()
	if st.State != search.StateDone || st.MessageCount != corpusSize || st.RecordCount != 3 {
		t.Fatalf("final status %+v (errors %v)", st, p.errs)
	}
	checkBuckets(t, p.buckets, corpusSize)
}

// A non-aggregate search delivers its messages time window by time window,
// newest first: messageCount grows with each window.
func TestProgressMessages(t *testing.T) {
	c := newCorpus(t)
	g := newGatedStore(c.st)
	isWindow := func(q store.Query) bool { return strings.Contains(q.LogsQL, "sort by") }
	windowGate := make(chan struct{})
	g.queryGate = func(q store.Query) chan struct{} {
		if isWindow(q) {
			return windowGate
		}
		return nil
	}
	m := newManager(t, g, search.Config{})
	j, err := m.Create(alice, c.request("*"))
	if err != nil {
		t.Fatal(err)
	}
	p := &poller{t: t, j: j}
	var seen []int64
	for {
		var a arrival
		select {
		case a = <-g.arrived:
		case <-j.Done():
		case <-time.After(60 * time.Second):
			t.Fatalf("no window query arrived; seen %v", seen)
		}
		if a.q.LogsQL == "" {
			break // done
		}
		// The windows run one after the other: the previous one's
		// messages are in.
		n := p.status().MessageCount
		seen = append(seen, n)
		// The field summary follows the messages gathered so far.
		if fs := j.FieldSummary(3); fs.Rows != n || fs.Complete || fs.Kind != "messages" {
			t.Errorf("field summary of a running job with %d messages: rows %d, complete %v, kind %q", n, fs.Rows, fs.Complete, fs.Kind)
		}
		windowGate <- struct{}{}
	}
	st := p.done()
	seen = append(seen, st.MessageCount)
	if st.State != search.StateDone {
		t.Fatalf("final status %+v (errors %v)", st, p.errs)
	}
	checkGrowth(t, seen, corpusSize, 1)
	if fs := j.FieldSummary(3); fs.Rows != corpusSize || !fs.Complete {
		t.Errorf("field summary of the finished job: rows %d, complete %v", fs.Rows, fs.Complete)
	}
}

// The histogram computed window by window equals the one-query histogram,
// bucket for bucket, in a zone whose offset is not a whole number of
// buckets.
func TestHistogramWindowsMatchOneQuery(t *testing.T) {
	c := newCorpus(t)
	for _, tc := range []struct {
		zone string
		span time.Duration
	}{
		{"Asia/Kathmandu", 48 * time.Hour},        // +5:45, 30 min buckets
		{"America/St_Johns", 10 * 24 * time.Hour}, // -3:30 (or -2:30), 3 h buckets
		{"UTC", 3 * time.Hour},
	} {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Skipf("no time zone database: %v", err)
		}
		from, to := c.to.Add(-tc.span), c.to
		g := newGatedStore(c.st)
		var windows atomic.Int64
		g.queryGate = func(q store.Query) chan struct{} {
			if isHistogramQuery(q) {
				windows.Add(1)
			}
			return nil
		}
		m := newManager(t, g, search.Config{})
		j, err := m.Create(alice, search.Request{Query: "_sourceCategory=prod/*", From: from, To: to, Location: loc})
		if err != nil {
			t.Fatal(err)
		}
		p := &poller{t: t, j: j}
		p.done()
		if windows.Load() < 3 {
			t.Errorf("%s: the histogram ran in %d windows, want several", tc.zone, windows.Load())
		}

		q, err := query.Parse("_sourceCategory=prod/*")
		if err != nil {
			t.Fatal(err)
		}
		plan, err := query.Compile(q, query.CompileOptions{PushDown: true})
		if err != nil {
			t.Fatal(err)
		}
		step := search.HistogramStep(to.Sub(from))
		want, err := plan.Histogram(context.Background(), c.st, query.ExecOptions{Range: query.Range{Start: from, End: to}, Location: loc}, step)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]int64{}
		for _, b := range p.buckets {
			if _, dup := got[b.StartTimestamp]; dup {
				t.Errorf("%s: bucket %d delivered twice", tc.zone, b.StartTimestamp)
			}
			got[b.StartTimestamp] = b.Count
			if b.Length != step.Milliseconds() {
				t.Errorf("%s: bucket length %d, want %d", tc.zone, b.Length, step.Milliseconds())
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d buckets, want %d", tc.zone, len(got), len(want))
		}
		for _, b := range want {
			if got[b.Start.UnixMilli()] != b.Count {
				t.Errorf("%s: bucket %s has %d, want %d", tc.zone, b.Start, got[b.Start.UnixMilli()], b.Count)
			}
		}
		checkBuckets(t, p.buckets, 250)
	}
}

// MaxRunning searches run at once; the others wait in NOT STARTED without
// touching the engine, and start in turn.
func TestConcurrencyCap(t *testing.T) {
	bs := &blockingStore{}
	m := newManager(t, bs, search.Config{MaxRunning: 1})
	now := time.Now()
	req := search.Request{Query: "*", From: now.Add(-time.Hour), To: now}
	a, err := m.Create(alice, req)
	if err != nil {
		t.Fatal(err)
	}
	waitQueries(t, bs, 2)
	b, err := m.Create(alice, req)
	if err != nil {
		t.Fatal(err)
	}
	queued, err := m.Create(bob, req)
	if err != nil {
		t.Fatal(err)
	}
	if st := b.Status(); st.State != search.StateNotStarted {
		t.Fatalf("second search %q while the first runs, want %q", st.State, search.StateNotStarted)
	}
	// A queued search can be deleted; it never reaches the engine.
	if err := m.Delete(bob, queued.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, queued, search.StateCancelled)
	if n := bs.queries.Load(); n != 2 {
		t.Fatalf("%d engine queries with one search running, want 2", n)
	}
	if err := m.Delete(alice, a.ID); err != nil {
		t.Fatal(err)
	}
	waitQueries(t, bs, 4)
	if st := b.Status(); st.State != search.StateGathering {
		t.Fatalf("second search %q after the first was deleted, want %q", st.State, search.StateGathering)
	}
	if n := bs.queries.Load(); n != 4 {
		t.Errorf("%d engine queries, want 4", n)
	}
}

// A group-by exceeding the group limit stops with an error naming the
// limit, whether the engine or Go computes it.
func TestGroupLimit(t *testing.T) {
	c := newCorpus(t)
	for _, allGo := range []bool{false, true} {
		m := newManager(t, c.st, search.Config{MaxGroups: 25, AllGo: allGo})
		if text, err := m.Explain("* | count by _raw"); err != nil || !strings.Contains(text, "limit 26") && !strings.Contains(text, "at most 25 groups") {
			t.Errorf("explain with the server's group limit: %q, %v", text, err)
		}
		j, err := m.Create(alice, c.request("* | count by _raw"))
		if err != nil {
			t.Fatal(err)
		}
		p := waitDone(t, j)
		if p.last.State != search.StateDone || p.last.RecordCount != 0 {
			t.Errorf("allGo=%v: status %+v", allGo, p.last)
		}
		if len(p.errs) != 1 || !strings.Contains(p.errs[0], `"count by _raw" produces more than 25 groups`) || !strings.Contains(p.errs[0], "group limit is 25") {
			t.Errorf("allGo=%v: errors %q, want one naming the limit of 25 groups", allGo, p.errs)
		}
		// Under the limit, the same query works.
		j, err = m.Create(alice, c.request("_sourceCategory=prod/db | count by _sourceCategory"))
		if err != nil {
			t.Fatal(err)
		}
		if p := waitDone(t, j); p.last.RecordCount != 1 || len(p.errs) != 0 {
			t.Errorf("allGo=%v: %+v %v", allGo, p.last, p.errs)
		}
	}
}

// A stream with a limit stops there normally, is not addressable by id,
// and is forgotten when done.
func TestStreamLimit(t *testing.T) {
	c := newCorpus(t)
	m := newManager(t, c.st, search.Config{})
	j, err := m.Stream(context.Background(), alice, c.request("*"), search.StreamOptions{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(alice, j.ID); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("Get of a stream's job: %v, want ErrNotFound", err)
	}
	if err := m.Delete(alice, j.ID); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("Delete of a stream's job: %v, want ErrNotFound", err)
	}
	<-j.Done()
	var cur search.Cursor
	u := j.Updates(&cur, 4)
	if u.State != search.StateDone || u.Running || !u.Truncated || u.MessageCount != 10 || u.HistogramCount != corpusSize {
		t.Errorf("update %+v, want done, truncated, 10 messages of %d", u, corpusSize)
	}
	if len(u.Warnings) != 0 || len(u.Errors) != 0 {
		t.Errorf("a client's limit gives warnings %v errors %v", u.Warnings, u.Errors)
	}
	n := len(u.Messages)
	for len(u.Messages) == 4 {
		u = j.Updates(&cur, 4)
		n += len(u.Messages)
	}
	if n != 10 {
		t.Errorf("%d messages through the cursor, want 10", n)
	}
	if u := j.Updates(&cur, 0); len(u.Messages) != 0 || len(u.Buckets) != 0 || u.HasRecords {
		t.Errorf("a second pass of the cursor returned %+v", u)
	}
	if m.HasJob(j.ID) {
		t.Error("a finished stream's job is still held")
	}
}

// A stream's search ends with its context: the engine's queries are
// cancelled. While it runs it counts against the user's searches.
func TestStreamCancelledWithContext(t *testing.T) {
	bs := &blockingStore{}
	m := newManager(t, bs, search.Config{MaxJobsPerUser: 1})
	now := time.Now()
	req := search.Request{Query: "* | count", From: now.Add(-time.Hour), To: now}
	ctx, cancel := context.WithCancel(context.Background())
	j, err := m.Stream(ctx, alice, req, search.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitQueries(t, bs, 2)
	_, err = m.Create(alice, req)
	wantLimit(t, err)
	cancel()
	bs.waitCancelled(t, 2)
	<-j.Done()
	var cur search.Cursor
	if u := j.Updates(&cur, 0); u.State != search.StateCancelled || len(u.Errors) != 0 {
		t.Errorf("after the context ended: %+v", u)
	}
	if _, err := m.Create(alice, req); err != nil {
		t.Errorf("the ended stream still counts: %v", err)
	}
}

// Closing the manager (server shutdown) ends a stream with an error saying
// so.
func TestStreamShutdown(t *testing.T) {
	bs := &blockingStore{}
	m := search.NewManager(bs, search.Config{Logger: quiet})
	now := time.Now()
	j, err := m.Stream(context.Background(), alice, search.Request{Query: "*", From: now.Add(-time.Hour), To: now}, search.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitQueries(t, bs, 2)
	m.Close()
	<-j.Done()
	var cur search.Cursor
	u := j.Updates(&cur, 0)
	if u.State != search.StateCancelled || len(u.Errors) != 1 || u.Errors[0].Code != search.CodeShutdown || !strings.Contains(u.Errors[0].Message, "shutting down") {
		t.Errorf("after Close: %+v", u)
	}
}

// The time budget counts from the moment a search runs, not while it waits
// for a slot, and ends it with an error coded searchjob.timeout.
func TestTimeBudgetCode(t *testing.T) {
	bs := &blockingStore{}
	m := newManager(t, bs, search.Config{MaxRuntime: 20 * time.Millisecond})
	now := time.Now()
	j, err := m.Stream(context.Background(), alice, search.Request{Query: "* | count", From: now.Add(-time.Hour), To: now}, search.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-j.Done()
	var cur search.Cursor
	u := j.Updates(&cur, 0)
	if u.State != search.StateDone || len(u.Errors) != 1 || u.Errors[0].Code != search.CodeTimeout || !strings.Contains(u.Errors[0].Message, "results are partial") {
		t.Errorf("over budget: %+v", u)
	}
	if j.Elapsed() <= 0 {
		t.Errorf("elapsed %s", j.Elapsed())
	}
}
