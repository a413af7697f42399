package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohyo/dohyo/search"
	"github.com/dohyo/dohyo/store"
)

// streamEvent is any event of the NDJSON stream.
type streamEvent struct {
	Type           string                   `json:"type"`
	Query          string                   `json:"query"`
	Aggregate      bool                     `json:"aggregate"`
	Fields         json.RawMessage          `json:"fields"`
	HistogramStep  int64                    `json:"histogramStep"`
	MaxMessages    int                      `json:"maxMessages"`
	TimeBudgetMs   int64                    `json:"timeBudgetMs"`
	Explain        string                   `json:"explain"`
	State          string                   `json:"state"`
	MessageCount   int64                    `json:"messageCount"`
	RecordCount    int64                    `json:"recordCount"`
	HistogramCount int64                    `json:"histogramCount"`
	Truncated      bool                     `json:"truncated"`
	ElapsedMs      *int64                   `json:"elapsedMs"`
	Buckets        []search.HistogramBucket `json:"buckets"`
	Messages       []map[string]string      `json:"messages"`
	Records        []map[string]string      `json:"records"`
	Code           string                   `json:"code"`
	Message        string                   `json:"message"`
	Kind           string                   `json:"kind"`
	Rows           int64                    `json:"rows"`
}

func (ev streamEvent) recordFields(t *testing.T) []search.Field {
	t.Helper()
	var f []search.Field
	if err := json.Unmarshal(ev.Fields, &f); err != nil {
		t.Fatalf("fields %s: %v", ev.Fields, err)
	}
	return f
}

func (ev streamEvent) summaryFields(t *testing.T) []search.FieldStats {
	t.Helper()
	var f []search.FieldStats
	if err := json.Unmarshal(ev.Fields, &f); err != nil {
		t.Fatalf("fields %s: %v", ev.Fields, err)
	}
	return f
}

// stream runs a streamed search to its end and returns its events, after
// checking the framing: 200, NDJSON, one object per line, meta first, done
// last and only last.
func (e *env) stream(c *creds, body string) []streamEvent {
	e.t.Helper()
	r := e.postJSON("/api/v1/search/stream", c, body)
	wantStatus(e.t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		e.t.Errorf("Content-Type %q", ct)
	}
	if !strings.HasSuffix(string(r.body), "\n") {
		e.t.Errorf("the stream does not end with a newline")
	}
	var events []streamEvent
	for i, line := range strings.Split(strings.TrimSuffix(string(r.body), "\n"), "\n") {
		var ev streamEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			e.t.Fatalf("line %d %q is not JSON: %v", i, line, err)
		}
		events = append(events, ev)
	}
	if len(events) < 2 || events[0].Type != "meta" || events[len(events)-1].Type != "done" {
		e.t.Fatalf("events %+v: want meta first and done last", events)
	}
	for _, ev := range events[1 : len(events)-1] {
		switch ev.Type {
		case "progress", "histogram", "messages", "records", "warning", "error", "fieldSummary":
		default:
			e.t.Errorf("unexpected event %+v", ev)
		}
	}
	return events
}

func ofType(events []streamEvent, typ string) []streamEvent {
	var out []streamEvent
	for _, ev := range events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func TestStreamMessages(t *testing.T) {
	e := newEnv(t, publicURL)
	events := e.stream(e.user, e.msBody("*"))
	meta, done := events[0], events[len(events)-1]
	if meta.Query != "*" || meta.Aggregate || string(meta.Fields) != "[]" || meta.HistogramStep != time.Minute.Milliseconds() ||
		meta.MaxMessages != search.DefaultConfig().MaxMessages || meta.TimeBudgetMs != search.DefaultConfig().MaxRuntime.Milliseconds() || !strings.Contains(meta.Explain, "engine:") {
		t.Errorf("meta %+v", meta)
	}
	if done.State != search.StateDone || done.MessageCount != nEvents || done.HistogramCount != nEvents || done.RecordCount != 0 || done.Truncated || done.ElapsedMs == nil {
		t.Errorf("done %+v", done)
	}
	var msgs []map[string]string
	for _, ev := range ofType(events, "messages") {
		if len(ev.Messages) == 0 || len(ev.Messages) > 1000 {
			t.Errorf("a messages event with %d messages", len(ev.Messages))
		}
		msgs = append(msgs, ev.Messages...)
	}
	if len(msgs) != nEvents {
		t.Fatalf("%d messages, want %d", len(msgs), nEvents)
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("event %03d", nEvents-1-i); m["_raw"] != want {
			t.Fatalf("message %d: %q, want %q (newest first)", i, m["_raw"], want)
		}
	}
	var sum int64
	var buckets []search.HistogramBucket
	for _, ev := range ofType(events, "histogram") {
		buckets = append(buckets, ev.Buckets...)
	}
	for i, b := range buckets {
		sum += b.Count
		if i > 0 && b.StartTimestamp >= buckets[i-1].StartTimestamp {
			t.Errorf("histogram bucket %d is not older than the one before", i)
		}
	}
	if sum != nEvents {
		t.Errorf("histogram sums to %d, want %d", sum, nEvents)
	}
	if n := len(ofType(events, "error")) + len(ofType(events, "warning")); n != 0 {
		t.Errorf("%d errors and warnings", n)
	}
}

func TestStreamLimitAndFieldSummary(t *testing.T) {
	e := newEnv(t, publicURL)
	body := fmt.Sprintf(`{"query":"*","from":"%d","to":"%d","limit":50,"fieldSummary":true,"topValues":2}`, e.from.UnixMilli(), e.to.UnixMilli())
	events := e.stream(e.user, body)
	done := events[len(events)-1]
	if done.State != search.StateDone || done.MessageCount != 50 || done.HistogramCount != nEvents || !done.Truncated {
		t.Errorf("done %+v, want done with 50 messages of %d, truncated", done, nEvents)
	}
	var n int
	for _, ev := range ofType(events, "messages") {
		for _, m := range ev.Messages {
			if want := fmt.Sprintf("event %03d", nEvents-1-n); m["_raw"] != want {
				t.Fatalf("message %d: %q, want %q", n, m["_raw"], want)
			}
			n++
		}
	}
	if n != 50 {
		t.Errorf("%d messages, want 50", n)
	}
	if w := ofType(events, "warning"); len(w) != 0 {
		t.Errorf("warnings %+v: the client's limit is no warning", w)
	}
	sums := ofType(events, "fieldSummary")
	if len(sums) != 1 || events[len(events)-2].Type != "fieldSummary" {
		t.Fatalf("want one fieldSummary event, just before done: %+v", sums)
	}
	fs := sums[0]
	if fs.Kind != "messages" || fs.Rows != 50 {
		t.Errorf("summary %+v", fs)
	}
	found := false
	for _, f := range fs.summaryFields(t) {
		if f.Name == "_sourcecategory" {
			found = true
			if f.Count != 50 || f.Distinct != 2 || len(f.TopValues) != 2 || f.TopValues[0].Count != 25 {
				t.Errorf("_sourcecategory %+v", f)
			}
		}
	}
	if !found {
		t.Errorf("no _sourcecategory in the summary")
	}
}

func TestStreamRecords(t *testing.T) {
	e := newEnv(t, publicURL)
	events := e.stream(e.user, e.msBody("* | count by _sourceCategory"))
	meta, done := events[0], events[len(events)-1]
	wantFields := []search.Field{{Name: "_sourcecategory", FieldType: "string", KeyField: true}, {Name: "_count", FieldType: "int"}}
	if !meta.Aggregate || fmt.Sprint(meta.recordFields(t)) != fmt.Sprint(wantFields) {
		t.Errorf("meta %+v", meta)
	}
	recs := ofType(events, "records")
	if len(recs) != 1 || fmt.Sprint(recs[0].recordFields(t)) != fmt.Sprint(wantFields) {
		t.Fatalf("records events %+v", recs)
	}
	if fmt.Sprint(recs[0].Records) != "[map[_count:100 _sourcecategory:api/db] map[_count:100 _sourcecategory:api/web]]" {
		t.Errorf("records %v", recs[0].Records)
	}
	if done.State != search.StateDone || done.RecordCount != 2 || done.MessageCount != nEvents || done.Truncated {
		t.Errorf("done %+v", done)
	}
	if len(ofType(events, "messages")) != 0 {
		t.Errorf("an aggregate stream sent messages")
	}
	// A limit below the record count truncates the records sent.
	events = e.stream(e.user, fmt.Sprintf(`{"query":"* | count by _sourceCategory","from":"%d","to":"%d","limit":1}`, e.from.UnixMilli(), e.to.UnixMilli()))
	recs, done = ofType(events, "records"), events[len(events)-1]
	if len(recs) != 1 || len(recs[0].Records) != 1 || !done.Truncated || done.RecordCount != 2 {
		t.Errorf("with limit 1: records %+v, done %+v", recs, done)
	}
}

func TestStreamRequestErrors(t *testing.T) {
	e := newEnv(t, publicURL)
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	for _, c := range []struct {
		body        string
		status      int
		code, part  string
		contentType string
	}{
		{e.msBody("* | cout"), 400, "searchjob.parse.error", `line 1, column 5: unknown operator "cout"`, ""},
		{fmt.Sprintf(`{"query":"*","from":"%d","to":"%d","nope":1}`, ms(e.from), ms(e.to)), 400, "bad.request", `unknown field "nope"`, ""},
		{fmt.Sprintf(`{"query":"*","from":"%d","to":"%d","limit":-1}`, ms(e.from), ms(e.to)), 400, "limit.negative", "limit", ""},
		{fmt.Sprintf(`{"query":"*","from":"%d","to":"%d","topValues":101}`, ms(e.from), ms(e.to)), 400, "topvalues.invalid", "topValues", ""},
		{fmt.Sprintf(`{"query":"*","from":"x","to":"%d"}`, ms(e.to)), 400, "searchjob.invalid.timestamp.from", "'from'", ""},
		{fmt.Sprintf(`{"query":"*","from":"%d","to":"%d","timeZone":"Mars/Olympus"}`, ms(e.from), ms(e.to)), 400, "searchjob.unknown.timezone", "Mars", ""},
		{fmt.Sprintf(`{"query":"","from":"%d","to":"%d"}`, ms(e.from), ms(e.to)), 400, "searchjob.no.query", "empty", ""},
		{e.msBody("*"), 415, "contenttype.invalid", "text/plain", "text/plain"},
	} {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		wantError(t, e.do(http.MethodPost, "/api/v1/search/stream", e.user, ct, c.body), c.status, c.code, c.part)
	}
	wantError(t, e.postJSON("/api/v1/search/stream", noCreds, e.msBody("*")), http.StatusUnauthorized, "unauthorized", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/search/stream", e.user, "", ""), http.StatusMethodNotAllowed, "method.unsupported", "")
}

// A group-by over more groups than --max-groups stops with an error naming
// the limit, through both APIs.
func TestGroupLimitThroughAPI(t *testing.T) {
	e := newEnvWith(t, publicURL, search.Config{MaxGroups: 10}, nil)
	events := e.stream(e.user, e.msBody("* | count by _raw"))
	errs, done := ofType(events, "error"), events[len(events)-1]
	if len(errs) != 1 || errs[0].Code != "searchjob.too.many.groups" || !strings.Contains(errs[0].Message, "produces more than 10 groups") || !strings.Contains(errs[0].Message, "group limit is 10") {
		t.Errorf("error events %+v, want one naming the limit of 10 groups", errs)
	}
	if done.State != search.StateDone || done.RecordCount != 0 || len(ofType(events, "records")) != 0 {
		t.Errorf("done %+v", done)
	}

	id := e.createJob(e.user, e.msBody("* | count by _raw"))
	st, _ := e.poll(e.user, id)
	if st.State != search.StateDone || st.RecordCount != 0 || len(st.PendingErrors) != 1 || !strings.Contains(st.PendingErrors[0], "produces more than 10 groups") {
		t.Errorf("job status %+v", st)
	}
	// Within the limit the same grouping works.
	id = e.createJob(e.user, e.msBody("event 00* | count by _raw"))
	if st, _ := e.poll(e.user, id); st.RecordCount != 10 || len(st.PendingErrors) != 0 {
		t.Errorf("job within the limit: %+v", st)
	}
}

// slowStore is an infinitely slow engine: its queries run until cancelled.
// It records their contexts.
type slowStore struct {
	store.Store // nil: only Query is used
	queries     atomic.Int64
	mu          sync.Mutex
	ctxs        []context.Context
}

func (s *slowStore) Query(ctx context.Context, q store.Query, fn func(*store.Block) error) error {
	s.mu.Lock()
	s.ctxs = append(s.ctxs, ctx)
	s.mu.Unlock()
	s.queries.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

func (s *slowStore) waitQueries(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.queries.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d engine queries started, want %d", s.queries.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitCancelled waits until the contexts of the first n engine queries are
// done (a guard against hanging, not a timing assertion).
func (s *slowStore) waitCancelled(t *testing.T, n int) {
	t.Helper()
	s.mu.Lock()
	ctxs := append([]context.Context(nil), s.ctxs[:n]...)
	s.mu.Unlock()
	guard := time.After(30 * time.Second)
	for i, ctx := range ctxs {
		select {
		case <-ctx.Done():
		case <-guard:
			t.Fatalf("the context of engine query %d was not cancelled", i)
		}
	}
}

// openStream starts a streamed search and returns a reader of its events;
// cancel disconnects.
func (e *env) openStream(ctx context.Context, c *creds, body string) (*bufio.Scanner, func()) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/api/v1/search/stream", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(c.id, c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("stream: status %d", resp.StatusCode)
	}
	return bufio.NewScanner(resp.Body), func() { resp.Body.Close() }
}

func nextEvent(t *testing.T, sc *bufio.Scanner) streamEvent {
	t.Helper()
	if !sc.Scan() {
		t.Fatalf("the stream ended: %v", sc.Err())
	}
	var ev streamEvent
	if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
		t.Fatalf("event %q: %v", sc.Bytes(), err)
	}
	return ev
}

// When the client goes away, the engine query is cancelled at once: its
// context ends (no wall-clock assertion: the engine never returns on its
// own).
func TestStreamClientDisconnectCancelsEngineQuery(t *testing.T) {
	ss := &slowStore{}
	e := newEnvWith(t, publicURL, search.Config{}, ss)
	ctx, cancel := context.WithCancel(context.Background())
	sc, closeBody := e.openStream(ctx, e.user, e.msBody("* | count by _sourceCategory"))
	defer closeBody()
	if ev := nextEvent(t, sc); ev.Type != "meta" || !ev.Aggregate {
		t.Fatalf("first event %+v", ev)
	}
	ss.waitQueries(t, 2) // the aggregate and the first histogram window
	if ev := nextEvent(t, sc); ev.Type != "progress" || ev.State != search.StateGathering {
		t.Fatalf("event %+v, want progress while gathering", ev)
	}
	cancel()
	ss.waitCancelled(t, 2)
	// The stream's slot is free again: the user may run the maximum.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.postJSON("/api/v1/search/jobs", e.user, e.msBody("*"))
		if r.status == http.StatusAccepted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a job cannot be created after the stream ended: %d %s", r.status, r.body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// DELETE on a running job cancels its engine queries.
func TestDeleteJobCancelsEngineQuery(t *testing.T) {
	ss := &slowStore{}
	e := newEnvWith(t, publicURL, search.Config{}, ss)
	id := e.createJob(e.user, e.msBody("*"))
	ss.waitQueries(t, 2)
	r := e.do(http.MethodGet, "/api/v1/search/jobs/"+id, e.user, "", "")
	var st jobStatus
	r.json(t, &st)
	if st.State != search.StateGathering {
		t.Fatalf("state %q while the engine works", st.State)
	}
	wantStatus(t, e.do(http.MethodDelete, "/api/v1/search/jobs/"+id, e.user, "", ""), http.StatusOK)
	ss.waitCancelled(t, 2)
}

// With every running slot taken a stream waits, saying NOT STARTED, and
// runs once a slot frees.
func TestStreamWaitsForASlot(t *testing.T) {
	ss := &slowStore{}
	e := newEnvWith(t, publicURL, search.Config{MaxRunning: 1}, ss)
	id := e.createJob(e.user, e.msBody("*"))
	ss.waitQueries(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sc, closeBody := e.openStream(ctx, adminCreds, e.msBody("*"))
	defer closeBody()
	nextEvent(t, sc) // meta
	if ev := nextEvent(t, sc); ev.Type != "progress" || ev.State != search.StateNotStarted {
		t.Fatalf("event %+v, want progress NOT STARTED", ev)
	}
	if n := ss.queries.Load(); n != 2 {
		t.Fatalf("%d engine queries with the stream waiting, want 2", n)
	}
	wantStatus(t, e.do(http.MethodDelete, "/api/v1/search/jobs/"+id, e.user, "", ""), http.StatusOK)
	for {
		ev := nextEvent(t, sc)
		if ev.Type == "progress" && ev.State == search.StateGathering {
			break
		}
	}
	ss.waitQueries(t, 4)
}

func TestJobFields(t *testing.T) {
	e := newEnv(t, publicURL)
	id := e.createJob(e.user, e.msBody("*"))
	e.poll(e.user, id)
	r := e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/fields", e.user, "", "")
	wantStatus(t, r, http.StatusOK)
	var fs search.FieldSummary
	r.json(t, &fs)
	if fs.Kind != "messages" || fs.Rows != nEvents || !fs.Complete {
		t.Fatalf("summary %+v", fs)
	}
	var cat *search.FieldStats
	for i := range fs.Fields {
		if fs.Fields[i].Name == "_sourcecategory" {
			cat = &fs.Fields[i]
		}
		if fs.Fields[i].TopValues == nil {
			t.Errorf("field %q: topValues is not a list", fs.Fields[i].Name)
		}
	}
	if cat == nil || cat.Count != nEvents || cat.Distinct != 2 || len(cat.TopValues) != 2 || cat.TopValues[0] != (search.ValueCount{Value: "api/db", Count: 100}) {
		t.Errorf("_sourcecategory %+v", cat)
	}
	r = e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/fields?top=1", e.user, "", "")
	wantStatus(t, r, http.StatusOK)
	r.json(t, &fs)
	for _, f := range fs.Fields {
		if len(f.TopValues) > 1 {
			t.Errorf("top=1: %q has %d values", f.Name, len(f.TopValues))
		}
	}
	for _, q := range []string{"top=0", "top=101", "top=x"} {
		wantError(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/fields?"+q, e.user, "", ""), http.StatusBadRequest, "top.invalid", "top")
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/fields", adminCreds, "", ""), http.StatusNotFound, "jobid.invalid", id)

	id = e.createJob(e.user, e.msBody("* | count by _sourceCategory"))
	e.poll(e.user, id)
	r = e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/fields", e.user, "", "")
	wantStatus(t, r, http.StatusOK)
	r.json(t, &fs)
	if fs.Kind != "records" || fs.Rows != 2 || len(fs.Fields) != 2 {
		t.Errorf("records summary %+v", fs)
	}
}
