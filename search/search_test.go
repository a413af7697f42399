package search_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/search"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

var (
	alice = &catalog.Principal{UserID: "U-ALICE", UserName: "alice", Role: catalog.RoleUser}
	bob   = &catalog.Principal{UserID: "U-BOB", UserName: "bob", Role: catalog.RoleUser}
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// corpus is the data every search test runs over: 300 events, one every 20
// seconds from base (a whole minute), so each minute holds exactly 3.
// Event i is in category prod/web when i%6 < 3, prod/db when i%6 is 3 or
// 4, dev/web when i%6 == 5.
type corpus struct {
	st       store.Store
	base     time.Time
	from, to time.Time
}

const corpusSize = 300

func category(i int) string {
	switch i % 6 {
	case 0, 1, 2:
		return "prod/web"
	case 3, 4:
		return "prod/db"
	}
	return "dev/web"
}

func eventTime(base time.Time, i int) time.Time { return base.Add(time.Duration(i) * 20 * time.Second) }

func newCorpus(t *testing.T) *corpus {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Config{Retention: 30 * 24 * time.Hour, Logger: quiet})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	base := now.Add(-2 * time.Hour).Truncate(time.Minute)
	batches := map[string]*event.Batch{}
	for i := range corpusSize {
		cat := category(i)
		b := batches[cat]
		if b == nil {
			b = &event.Batch{
				ReceiptTime: now.UnixNano(),
				Source:      event.Source{ID: "S-" + cat, Name: "src", Category: cat, Host: "host-1", Collector: "dohyo"},
				Fields:      []event.Field{{Name: "Env", Value: "prod"}},
			}
			batches[cat] = b
		}
		b.Events = append(b.Events, event.Event{
			Time: eventTime(base, i).UnixNano(),
			Raw:  fmt.Sprintf("event %03d cat=%s", i, cat),
		})
	}
	seq := uint64(0)
	for _, cat := range []string{"prod/web", "prod/db", "dev/web"} {
		seq++
		if err := st.Add(context.Background(), seq, batches[cat], nil); err != nil {
			t.Fatalf("add: %v", err)
		}
	}
	st.Flush()
	return &corpus{st: st, base: base, from: base.Add(-time.Minute), to: now.Add(time.Minute)}
}

func newManager(t *testing.T, st store.Store, cfg search.Config) *search.Manager {
	t.Helper()
	cfg.Logger = quiet
	m := search.NewManager(st, cfg)
	t.Cleanup(m.Close)
	return m
}

func (c *corpus) request(q string) search.Request {
	return search.Request{Query: q, From: c.from, To: c.to}
}

// polled is what a client gathers by polling a job until it stops.
type polled struct {
	last       search.Status
	buckets    []search.HistogramBucket
	errs, warn []string
}

func running(state string) bool {
	return state == search.StateNotStarted || state == search.StateGathering
}

// waitDone polls the job's status, accumulating the incremental parts, until
// it has stopped gathering.
func waitDone(t *testing.T, j *search.Job) polled {
	t.Helper()
	var p polled
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := j.Status()
		p.last = st
		p.buckets = append(p.buckets, st.HistogramBuckets...)
		p.errs = append(p.errs, st.PendingErrors...)
		p.warn = append(p.warn, st.PendingWarnings...)
		if !running(st.State) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %q after 60s", j.ID, st.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMessagesJob(t *testing.T) {
	c := newCorpus(t)
	m := newManager(t, c.st, search.Config{})
	j, err := m.Create(alice, c.request("*"))
	if err != nil {
		t.Fatal(err)
	}
	if j.IsAggregate() {
		t.Error("* is not an aggregate")
	}
	p := waitDone(t, j)
	if p.last.State != search.StateDone {
		t.Fatalf("state %q, want %q (errors %v)", p.last.State, search.StateDone, p.errs)
	}
	if p.last.MessageCount != corpusSize || p.last.RecordCount != 0 {
		t.Errorf("messageCount %d recordCount %d, want %d and 0", p.last.MessageCount, p.last.RecordCount, corpusSize)
	}
	if len(p.errs) != 0 || len(p.warn) != 0 {
		t.Errorf("errors %v warnings %v", p.errs, p.warn)
	}

	// Histogram: one-minute buckets (the range is about two hours), three
	// events each, newest first, summing to the message count.
	var sum int64
	for i, b := range p.buckets {
		sum += b.Count
		if b.Length != time.Minute.Milliseconds() {
			t.Fatalf("bucket %d length %d, want %d", i, b.Length, time.Minute.Milliseconds())
		}
		if b.StartTimestamp%b.Length != 0 {
			t.Errorf("bucket %d start %d is not minute-aligned", i, b.StartTimestamp)
		}
		if b.Count != 3 {
			t.Errorf("bucket %d (%s) count %d, want 3", i, time.UnixMilli(b.StartTimestamp).UTC(), b.Count)
		}
		if i > 0 && b.StartTimestamp >= p.buckets[i-1].StartTimestamp {
			t.Errorf("bucket %d not older than the one before", i)
		}
	}
	if sum != p.last.MessageCount || len(p.buckets) != corpusSize/3 {
		t.Errorf("%d buckets summing to %d, want %d summing to %d", len(p.buckets), sum, corpusSize/3, p.last.MessageCount)
	}
	if len(p.buckets) > 0 && p.buckets[0].StartTimestamp != eventTime(c.base, corpusSize-1).Truncate(time.Minute).UnixMilli() {
		t.Errorf("newest bucket starts at %d", p.buckets[0].StartTimestamp)
	}
	// Buckets are delivered once.
	if again := j.Status(); len(again.HistogramBuckets) != 0 || again.State != search.StateDone || again.MessageCount != corpusSize {
		t.Errorf("second poll after done: state %q, %d messages, %d buckets; want done, %d, none",
			again.State, again.MessageCount, len(again.HistogramBuckets), corpusSize)
	}

	page := j.Messages(0, 1000)
	if len(page.Rows) != corpusSize {
		t.Fatalf("%d messages, want %d", len(page.Rows), corpusSize)
	}
	for i, r := range page.Rows {
		want := corpusSize - 1 - i
		if r["_messagetime"] != strconv.FormatInt(eventTime(c.base, want).UnixMilli(), 10) {
			t.Fatalf("message %d: _messagetime %q, want event %d's", i, r["_messagetime"], want)
		}
		if r["_raw"] != fmt.Sprintf("event %03d cat=%s", want, category(want)) || r["_sourcecategory"] != category(want) {
			t.Fatalf("message %d: %v, want event %d", i, r, want)
		}
		if r["env"] != "prod" || r["_sourcehost"] != "host-1" || r["_collector"] != "dohyo" {
			t.Fatalf("message %d metadata: %v", i, r)
		}
		for name := range r {
			if name != strings.ToLower(name) {
				t.Fatalf("message %d has a field name with upper case: %q", i, name)
			}
			if strings.HasPrefix(name, event.InternalFieldPrefix) {
				t.Fatalf("message %d has hidden field %q", i, name)
			}
		}
	}
	types := map[string]string{}
	for _, f := range page.Fields {
		types[f.Name] = f.FieldType
		if f.KeyField {
			t.Errorf("message field %q marked as key", f.Name)
		}
	}
	for name, typ := range map[string]string{"_messagetime": "long", "_receipttime": "long", "_size": "int", "_raw": "string", "_sourcecategory": "string", "env": "string"} {
		if types[name] != typ {
			t.Errorf("field %q has type %q, want %q (fields %v)", name, types[name], typ, page.Fields)
		}
	}

	// Pages.
	tail := j.Messages(290, 50)
	if len(tail.Rows) != 10 || tail.Rows[0]["_raw"] != page.Rows[290]["_raw"] || tail.Rows[9]["_raw"] != page.Rows[299]["_raw"] {
		t.Errorf("page [290, 340): %d rows", len(tail.Rows))
	}
	if n := len(j.Messages(corpusSize, 10).Rows); n != 0 {
		t.Errorf("page past the end: %d rows", n)
	}
	if n := len(j.Messages(math.MaxInt, 10).Rows); n != 0 {
		t.Errorf("page at offset MaxInt: %d rows", n)
	}
	if n := len(j.Messages(5, math.MaxInt).Rows); n != corpusSize-5 {
		t.Errorf("page [5, MaxInt): %d rows", n)
	}
}

func TestScopedJob(t *testing.T) {
	c := newCorpus(t)
	m := newManager(t, c.st, search.Config{})
	j, err := m.Create(alice, c.request("_sourceCategory=prod/db"))
	if err != nil {
		t.Fatal(err)
	}
	p := waitDone(t, j)
	if p.last.State != search.StateDone || p.last.MessageCount != 100 {
		t.Fatalf("state %q, %d messages; want done with 100", p.last.State, p.last.MessageCount)
	}
	var sum int64
	for _, b := range p.buckets {
		sum += b.Count
	}
	if sum != 100 {
		t.Errorf("histogram sums to %d, want 100", sum)
	}
	for _, r := range j.Messages(0, 1000).Rows {
		if r["_sourcecategory"] != "prod/db" {
			t.Fatalf("message out of scope: %v", r)
		}
	}
}

func TestAggregateJob(t *testing.T) {
	c := newCorpus(t)
	// A message cap does not apply to aggregates.
	m := newManager(t, c.st, search.Config{MaxMessages: 10})
	j, err := m.Create(alice, c.request("* | count by _sourceCategory"))
	if err != nil {
		t.Fatal(err)
	}
	if !j.IsAggregate() {
		t.Fatal("count is an aggregate")
	}
	p := waitDone(t, j)
	if p.last.State != search.StateDone {
		t.Fatalf("state %q (errors %v)", p.last.State, p.errs)
	}
	if p.last.RecordCount != 3 || p.last.MessageCount != corpusSize {
		t.Errorf("recordCount %d messageCount %d, want 3 and %d", p.last.RecordCount, p.last.MessageCount, corpusSize)
	}
	page := j.Records(0, 100)
	wantFields := []search.Field{
		{Name: "_sourcecategory", FieldType: "string", KeyField: true},
		{Name: "_count", FieldType: "int", KeyField: false},
	}
	if fmt.Sprint(page.Fields) != fmt.Sprint(wantFields) {
		t.Errorf("fields %+v, want %+v", page.Fields, wantFields)
	}
	want := []map[string]string{
		{"_sourcecategory": "dev/web", "_count": "50"},
		{"_sourcecategory": "prod/db", "_count": "100"},
		{"_sourcecategory": "prod/web", "_count": "150"},
	}
	if fmt.Sprint(page.Rows) != fmt.Sprint(want) {
		t.Errorf("records %v, want %v", page.Rows, want)
	}
	if r := j.Records(1, 1).Rows; len(r) != 1 || r[0]["_sourcecategory"] != "prod/db" {
		t.Errorf("records [1, 2): %v", r)
	}
	if r := j.Records(math.MaxInt, 1).Rows; len(r) != 0 {
		t.Errorf("records at offset MaxInt: %v", r)
	}
	var sum int64
	for _, b := range p.buckets {
		sum += b.Count
	}
	if sum != corpusSize {
		t.Errorf("histogram of an aggregate sums to %d, want %d", sum, corpusSize)
	}
}

func TestCreateErrors(t *testing.T) {
	c := newCorpus(t)
	m := newManager(t, c.st, search.Config{})
	cases := []struct {
		req     search.Request
		code    string
		msgPart string
	}{
		{c.request("* | cout"), "searchjob.parse.error", `line 1, column 5: unknown operator "cout"`},
		{c.request("* | count by"), "searchjob.parse.error", "line 1, column 13: expected a field name"},
		{c.request(""), "searchjob.no.query", "the query is empty"},
		{c.request(" \n\t "), "searchjob.no.query", "the query is empty"},
		{search.Request{Query: "*", From: c.to, To: c.from}, "searchjob.to.smaller.than.from", "must be after"},
		{search.Request{Query: "*", From: c.from, To: c.from}, "searchjob.to.smaller.than.from", "must be after"},
	}
	for _, tc := range cases {
		j, err := m.Create(alice, tc.req)
		var se *search.Error
		if !errors.As(err, &se) {
			t.Errorf("%q: job %v, error %v; want a *search.Error", tc.req.Query, j, err)
			continue
		}
		if se.Code != tc.code || se.Status != 400 || !strings.Contains(se.Msg, tc.msgPart) || se.Error() != se.Msg {
			t.Errorf("%q: %+v, want code %q status 400 and a message with %q", tc.req.Query, se, tc.code, tc.msgPart)
		}
	}
	// Failed creates hold no job slot.
	for range 20 {
		j, err := m.Create(alice, c.request("*"))
		if err != nil {
			t.Fatalf("create after failures: %v", err)
		}
		if err := m.Delete(alice, j.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestForcePaused(t *testing.T) {
	c := newCorpus(t)
	m := newManager(t, c.st, search.Config{MaxMessages: 10})
	j, err := m.Create(alice, c.request("*"))
	if err != nil {
		t.Fatal(err)
	}
	p := waitDone(t, j)
	if p.last.State != search.StateForcePaused {
		t.Fatalf("state %q, want %q", p.last.State, search.StateForcePaused)
	}
	if p.last.MessageCount != 10 {
		t.Errorf("messageCount %d, want 10", p.last.MessageCount)
	}
	if len(p.warn) != 1 || !strings.Contains(p.warn[0], "stopped after 10 messages") {
		t.Errorf("warnings %q, want one about the 10-message limit", p.warn)
	}
	if again := j.Status(); len(again.PendingWarnings) != 0 || again.State != search.StateForcePaused {
		t.Errorf("second poll: %+v", again)
	}
	rows := j.Messages(0, 100).Rows
	if len(rows) != 10 {
		t.Fatalf("%d messages kept, want 10", len(rows))
	}
	for i, r := range rows {
		if want := fmt.Sprintf("event %03d cat=%s", corpusSize-1-i, category(corpusSize-1-i)); r["_raw"] != want {
			t.Errorf("message %d: %q, want the newest messages (%q)", i, r["_raw"], want)
		}
	}
}

func TestOtherUsersJobs(t *testing.T) {
	c := newCorpus(t)
	m := newManager(t, c.st, search.Config{})
	j, err := m.Create(alice, c.request("*"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(bob, j.ID); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("bob Get alice's job: %v, want ErrNotFound", err)
	}
	if err := m.Delete(bob, j.ID); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("bob Delete alice's job: %v, want ErrNotFound", err)
	}
	if got, err := m.Get(alice, j.ID); err != nil || got != j {
		t.Errorf("alice Get her job after bob's attempts: %v, %v", got, err)
	}
	if _, err := m.Get(alice, "NO-SUCH-JOB"); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("Get unknown: %v", err)
	}
	if err := m.Delete(alice, j.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(alice, j.ID); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("Get deleted: %v", err)
	}
	if err := m.Delete(alice, j.ID); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("Delete twice: %v", err)
	}
}

func wantLimit(t *testing.T, err error) {
	t.Helper()
	var se *search.Error
	if !errors.As(err, &se) || se.Status != 429 || se.Code != "rate.limit.exceeded" {
		t.Fatalf("error %v, want a 429 rate.limit.exceeded *search.Error", err)
	}
}

func TestJobLimits(t *testing.T) {
	c := newCorpus(t)
	m := newManager(t, c.st, search.Config{MaxJobs: 3, MaxJobsPerUser: 2})
	var mine []*search.Job
	for range 2 {
		j, err := m.Create(alice, c.request("*"))
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, j)
	}
	_, err := m.Create(alice, c.request("*"))
	wantLimit(t, err)
	if !strings.Contains(err.Error(), "2 of yours") {
		t.Errorf("message %q does not say how many jobs are the user's", err)
	}
	// Bob has his own allowance, within the total.
	if _, err := m.Create(bob, c.request("*")); err != nil {
		t.Fatalf("bob's first job: %v", err)
	}
	_, err = m.Create(bob, c.request("*"))
	wantLimit(t, err)
	if !strings.Contains(err.Error(), "3 in all") {
		t.Errorf("message %q does not give the total", err)
	}
	// Finished jobs count until deleted.
	waitDone(t, mine[0])
	_, err = m.Create(alice, c.request("*"))
	wantLimit(t, err)
	if err := m.Delete(alice, mine[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(alice, c.request("*")); err != nil {
		t.Errorf("create after delete: %v", err)
	}
}

func TestIdleExpiry(t *testing.T) {
	c := newCorpus(t)
	m := newManager(t, c.st, search.Config{IdleTimeout: 50 * time.Millisecond})
	j, err := m.Create(alice, c.request("*"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for m.HasJob(j.ID) {
		if time.Now().After(deadline) {
			t.Fatal("the idle job was not forgotten within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := m.Get(alice, j.ID); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("Get expired job: %v", err)
	}
	// Its slot is free again.
	if _, err := m.Create(alice, c.request("*")); err != nil {
		t.Errorf("create after expiry: %v", err)
	}
}

// blockingStore is a store whose queries run until cancelled: an
// infinitely slow engine.
type blockingStore struct {
	store.Store // nil: only Query is used
	queries     atomic.Int64

	mu   sync.Mutex
	ctxs []context.Context // of every query
}

func (b *blockingStore) Query(ctx context.Context, q store.Query, fn func(*store.Block) error) error {
	b.mu.Lock()
	b.ctxs = append(b.ctxs, ctx)
	b.mu.Unlock()
	b.queries.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// waitCancelled waits until the contexts of the first n queries the store
// received are all done: the engine was told to stop.
func (b *blockingStore) waitCancelled(t *testing.T, n int) {
	t.Helper()
	b.mu.Lock()
	ctxs := append([]context.Context(nil), b.ctxs[:n]...)
	b.mu.Unlock()
	guard := time.After(30 * time.Second)
	for i, ctx := range ctxs {
		select {
		case <-ctx.Done():
		case <-guard:
			t.Fatalf("the context of engine query %d was not cancelled", i)
		}
	}
}

func waitQueries(t *testing.T, b *blockingStore, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for b.queries.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d queries started, want %d", b.queries.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitState(t *testing.T, j *search.Job, state string) polled {
	t.Helper()
	p := waitDone(t, j)
	if p.last.State != state {
		t.Fatalf("state %q, want %q", p.last.State, state)
	}
	return p
}

func TestDeleteRunningJob(t *testing.T) {
	bs := &blockingStore{}
	m := newManager(t, bs, search.Config{})
	now := time.Now()
	j, err := m.Create(alice, search.Request{Query: "*", From: now.Add(-time.Hour), To: now})
	if err != nil {
		t.Fatal(err)
	}
	waitQueries(t, bs, 2) // the messages and the histogram
	if st := j.Status(); st.State != search.StateGathering {
		t.Fatalf("state %q while the store blocks, want %q", st.State, search.StateGathering)
	}
	if err := m.Delete(alice, j.ID); err != nil {
		t.Fatal(err)
	}
	// The engine's queries (messages and histogram) are cancelled.
	bs.waitCancelled(t, 2)
	if m.HasJob(j.ID) {
		t.Error("deleted job still held")
	}
	if _, err := m.Get(alice, j.ID); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("Get deleted job: %v", err)
	}
	p := waitState(t, j, search.StateCancelled)
	if len(p.errs) != 0 {
		t.Errorf("a cancelled job reports errors %v", p.errs)
	}
}

func TestMaxRuntime(t *testing.T) {
	bs := &blockingStore{}
	m := newManager(t, bs, search.Config{MaxRuntime: 30 * time.Millisecond})
	now := time.Now()
	j, err := m.Create(alice, search.Request{Query: "*", From: now.Add(-time.Hour), To: now})
	if err != nil {
		t.Fatal(err)
	}
	p := waitState(t, j, search.StateDone)
	if len(p.errs) != 1 || !strings.Contains(p.errs[0], "ran out of its time budget of 30ms") {
		t.Errorf("errors %q, want one about the time budget", p.errs)
	}
	if len(p.warn) != 0 {
		t.Errorf("warnings %q: the histogram's cancellation is no warning", p.warn)
	}
}

func TestCloseTwiceAndCreateAfterClose(t *testing.T) {
	bs := &blockingStore{}
	m := search.NewManager(bs, search.Config{Logger: quiet})
	now := time.Now()
	req := search.Request{Query: "*", From: now.Add(-time.Hour), To: now}
	j, err := m.Create(alice, req)
	if err != nil {
		t.Fatal(err)
	}
	waitQueries(t, bs, 2)
	closed := make(chan struct{})
	go func() {
		m.Close()
		m.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return with a running job")
	}
	if m.HasJob(j.ID) {
		t.Error("job held after Close")
	}
	if running(j.Status().State) {
		t.Errorf("job still %q after Close returned", j.Status().State)
	}
	_, err = m.Create(alice, req)
	var se *search.Error
	if !errors.As(err, &se) || se.Status != 503 || se.Code != "service.unavailable" {
		t.Errorf("Create after Close: %v, want a 503 service.unavailable *search.Error", err)
	}
}

func TestHistogramStep(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want time.Duration
	}{
		{15 * time.Minute, 10 * time.Second},
		{time.Hour, 30 * time.Second},
		{24 * time.Hour, 10 * time.Minute},
		{7 * 24 * time.Hour, 3 * time.Hour},
		{30 * 24 * time.Hour, 6 * time.Hour},
		{time.Minute, time.Second},
		{0, time.Second},
	}
	for _, c := range cases {
		got := search.HistogramStep(c.d)
		if got != c.want {
			t.Errorf("HistogramStep(%s) = %s, want %s", c.d, got, c.want)
		}
		if c.d >= 15*time.Minute {
			if n := c.d / got; n > 150 || n < 30 {
				t.Errorf("HistogramStep(%s) = %s gives %d buckets, want 30 to 150", c.d, got, n)
			}
		}
	}
	// Every range up to a couple of years gets at most 150 buckets of a
	// step from the list.
	for d := time.Second; d <= 2*365*24*time.Hour; d = d*3/2 + time.Second {
		step := search.HistogramStep(d)
		if d <= 150*7*24*time.Hour && d/step > 150 {
			t.Errorf("HistogramStep(%s) = %s gives %d buckets", d, step, d/step)
		}
	}
}

func TestExplain(t *testing.T) {
	text, err := search.Explain("_sourceCategory=prod/web | count by _sourceHost")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"mode:    push down", "engine:", "stats by", "_sourceHost string key"} {
		if !strings.Contains(text, part) {
			t.Errorf("explain lacks %q:\n%s", part, text)
		}
	}
	if _, err := search.Explain("* | cout"); err == nil || !strings.Contains(err.Error(), "line 1, column 5") {
		t.Errorf("Explain of a bad query: %v", err)
	}
}
