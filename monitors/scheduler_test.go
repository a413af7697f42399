package monitors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/query"
)

// fakeRunner answers runs with fn and records the windows it saw.
type fakeRunner struct {
	mu    sync.Mutex
	calls []query.Range
	fn    func(req RunRequest) (*RunResult, error)
}

func (f *fakeRunner) Run(_ context.Context, req RunRequest) (*RunResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req.Range)
	fn := f.fn
	f.mu.Unlock()
	if fn == nil {
		return &RunResult{}, nil
	}
	return fn(req)
}

func (f *fakeRunner) ends() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.End.UTC().Format("15:04"))
	}
	return out
}

func (f *fakeRunner) reset() {
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func testCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestService(t *testing.T, cat *catalog.Catalog, clock *FakeClock, r Runner) *Service {
	t.Helper()
	return New(Config{Catalog: cat, Runner: r, Clock: clock, Logger: quietLogger(), MaxCatchUp: 10,
		Delivery: DeliveryConfig{Backoff: 10 * time.Second, MaxAttempts: 4, Timeout: 5 * time.Second}})
}

func mustCreate(t *testing.T, s *Service, sp *Spec) *Monitor {
	t.Helper()
	m, err := s.Create(context.Background(), sp, CreateOptions{By: "tester"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return m
}

func simpleSpec() *Spec {
	return &Spec{Name: "errors", Query: "_sourceCategory=app error | count by host", Window: Duration(5 * time.Minute),
		Frequency: Duration(time.Minute), Delay: Duration(30 * time.Second), GroupBy: []string{"host"},
		Triggers: Triggers{Critical: &Condition{Field: "_count", Op: ">=", Threshold: 5}}, Enabled: true}
}

func events(t *testing.T, s *Service, id string, kinds ...string) []catalog.MonitorEvent {
	t.Helper()
	evs, err := s.History(context.Background(), catalog.EventFilter{MonitorID: id, Kinds: kinds, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(evs)
	return evs
}

func kinds(evs []catalog.MonitorEvent) string {
	var ks []string
	for _, e := range evs {
		k := e.Kind
		if e.Severity != "" {
			k += ":" + e.Severity
		}
		if e.GroupKey != "" {
			k += ":" + e.GroupKey
		}
		ks = append(ks, k)
	}
	return strings.Join(ks, " ")
}

// TestScheduleAcrossRestarts: windows end on multiples of the frequency,
// each is evaluated once, after its delay, and a restarted scheduler (a
// new Service on the same catalog) neither skips nor repeats one; two
// schedulers racing on the same catalog evaluate each window once.
func TestScheduleAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(20 * time.Second)) // 10:00:20
	r := &fakeRunner{}
	s := newTestService(t, cat, clock, r)
	m := mustCreate(t, s, simpleSpec())

	// 10:00:20 - 30s delay = 09:59:50: the latest complete window ends 09:59.
	if err := s.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.ends(), " "); got != "09:59" {
		t.Fatalf("first pass evaluated %q, want the latest complete window 09:59", got)
	}
	if w := r.calls[0]; !w.Start.Equal(t0.Add(-6*time.Minute)) || !w.End.Equal(t0.Add(-time.Minute)) {
		t.Errorf("window %v, want [09:54, 09:59)", w)
	}
	// 10:00:29: the window ending 10:00 is not due before 10:00:30.
	clock.Set(t0.Add(29 * time.Second))
	s.RunOnce(ctx)
	if len(r.calls) != 1 {
		t.Fatalf("evaluated before the delay passed: %v", r.ends())
	}
	clock.Set(t0.Add(30 * time.Second))
	s.RunOnce(ctx)
	if got := strings.Join(r.ends(), " "); got != "09:59 10:00" {
		t.Fatalf("evaluated %q", got)
	}
	// Running again at the same time does nothing.
	s.RunOnce(ctx)
	if len(r.calls) != 2 {
		t.Fatalf("a window was evaluated twice: %v", r.ends())
	}

	// "Restart": a new service on the same catalog, 3 minutes later.
	clock.Set(t0.Add(3*time.Minute + 40*time.Second))
	s2 := newTestService(t, cat, clock, r)
	s2.RunOnce(ctx)
	if got := strings.Join(r.ends(), " "); got != "09:59 10:00 10:01 10:02 10:03" {
		t.Fatalf("after the restart: %q", got)
	}
	// Two schedulers at once on the same catalog: each window once.
	clock.Set(t0.Add(8*time.Minute + 40*time.Second))
	s3 := newTestService(t, cat, clock, r)
	var wg sync.WaitGroup
	for _, sv := range []*Service{s2, s3} {
		wg.Add(1)
		go func() { defer wg.Done(); sv.RunOnce(ctx) }()
	}
	wg.Wait()
	got := r.ends()
	seen := map[string]int{}
	for _, e := range got {
		seen[e]++
	}
	// A racing scheduler may run a window whose commit then fails (it is
	// not applied); what counts is the committed schedule and history.
	for _, e := range []string{"10:04", "10:05", "10:06", "10:07", "10:08"} {
		if seen[e] == 0 {
			t.Errorf("window %s never evaluated: %v", e, got)
		}
	}
	mon, err := s.Get(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mon.Status.LastWindow == nil || !mon.Status.LastWindow.To.Equal(t0.Add(8*time.Minute)) {
		t.Errorf("last window %+v, want one ending 10:08", mon.Status.LastWindow)
	}
	if mon.Status.NextEvaluationAt == nil || !mon.Status.NextEvaluationAt.Equal(t0.Add(9*time.Minute+30*time.Second)) {
		t.Errorf("next evaluation %v, want 10:09:30", mon.Status.NextEvaluationAt)
	}
	if mon.Status.State != "normal" {
		t.Errorf("state %s", mon.Status.State)
	}
}

// TestRacingCommits: when two evaluations of the same window race, only
// one commit applies; the other fails with ErrConflict.
func TestRacingCommits(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(40 * time.Second))
	block := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	r := &fakeRunner{fn: func(RunRequest) (*RunResult, error) {
		started.Done()
		<-block
		return &RunResult{Aggregate: true, Fields: []string{"host", "_count"}, Rows: []map[string]string{{"host": "a", "_count": "9"}}, Matched: 9}, nil
	}}
	s1 := newTestService(t, cat, clock, r)
	s2 := newTestService(t, cat, clock, r)
	m := mustCreate(t, s1, simpleSpec())
	var wg sync.WaitGroup
	for _, sv := range []*Service{s1, s2} {
		wg.Add(1)
		go func() { defer wg.Done(); sv.RunOnce(ctx) }()
	}
	started.Wait()
	close(block)
	wg.Wait()
	if got := kinds(events(t, s1, m.ID, KindFired)); got != `fired:critical:["a"]` {
		t.Errorf("fired events %q, want one", got)
	}
}

// TestCatchUpIsBounded: after a long downtime the newest MaxCatchUp
// windows are evaluated and the skip is recorded.
func TestCatchUpIsBounded(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(30 * time.Second))
	r := &fakeRunner{}
	s := newTestService(t, cat, clock, r)
	m := mustCreate(t, s, simpleSpec())
	s.RunOnce(ctx) // evaluates 10:00
	clock.Set(t0.Add(30*time.Minute + 30*time.Second))
	r.reset()
	s.RunOnce(ctx)
	got := r.ends()
	if len(got) != 10 || got[0] != "10:21" || got[9] != "10:30" {
		t.Fatalf("after 30 minutes down: evaluated %v, want 10:21..10:30", got)
	}
	sk := events(t, s, m.ID, KindSkipped)
	if len(sk) != 1 || !strings.Contains(sk[0].Message, "skipped 20 windows") {
		t.Fatalf("skip events %+v", sk)
	}
	var d map[string]any
	json.Unmarshal(sk[0].Details, &d)
	if d["windows"] != float64(20) {
		t.Errorf("skip details %s", sk[0].Details)
	}
}

// result builds an aggregate result of counts per host.
func counts(kv ...any) *RunResult {
	res := &RunResult{Aggregate: true, Fields: []string{"host", "_count"}}
	for i := 0; i < len(kv); i += 2 {
		n := kv[i+1].(int)
		res.Rows = append(res.Rows, map[string]string{"host": kv[i].(string), "_count": strconv.Itoa(n)})
		res.Matched += int64(n)
	}
	return res
}

// webhookSink is a local webhook receiver.
type webhookSink struct {
	mu       sync.Mutex
	payloads []Payload
	bodies   []string
	headers  []http.Header
	fail     int // answer 503 to this many requests first
	status   int // answer this instead of 200 (after fail)
}

func (w *webhookSink) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail > 0 {
		w.fail--
		http.Error(rw, "try later", http.StatusServiceUnavailable)
		return
	}
	if w.status != 0 {
		http.Error(rw, "no", w.status)
		return
	}
	w.bodies = append(w.bodies, string(body))
	w.headers = append(w.headers, r.Header.Clone())
	var p Payload
	if json.Unmarshal(body, &p) == nil {
		w.payloads = append(w.payloads, p)
	}
}

func (w *webhookSink) kinds() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, p := range w.payloads {
		out = append(out, p.Kind+":"+p.Severity+":"+p.GroupText())
	}
	return strings.Join(out, " ")
}

func newWebhook(t *testing.T) (*webhookSink, string) {
	sink := &webhookSink{}
	srv := httptest.NewServer(sink) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return sink, srv.URL
}

// TestAlertStateMachine: per group, a firing alert notifies once,
// escalation notifies, de-escalation does not, resolution does; with a
// resolution condition an alert stays firing until it holds.
func TestAlertStateMachine(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(30 * time.Second))
	var mu sync.Mutex
	next := counts()
	r := &fakeRunner{fn: func(RunRequest) (*RunResult, error) { mu.Lock(); defer mu.Unlock(); return next, nil }}
	s := newTestService(t, cat, clock, r)
	sink, url := newWebhook(t)
	if _, err := s.CreateTarget(ctx, &TargetSpec{Name: "hook", Type: TargetWebhook, Webhook: &WebhookConfig{URL: url}}, "tester"); err != nil {
		t.Fatal(err)
	}
	sp := simpleSpec()
	sp.Triggers.Warning = &Condition{Field: "_count", Op: ">=", Threshold: 3}
	sp.Triggers.Resolution = &Condition{Field: "_count", Op: "<", Threshold: 2}
	sp.Notifications = []NotifyRef{{Target: "hook"}}
	sp.Message = "{{.Group.host}} logged {{.Value}} errors"
	m := mustCreate(t, s, sp)

	step := func(res *RunResult) {
		t.Helper()
		mu.Lock()
		next = res
		mu.Unlock()
		if err := s.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeliverOnce(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	step(counts("a", 6, "b", 1))  // a fires critical
	step(counts("a", 7, "b", 3))  // a stays (no notification); b fires warning
	step(counts("a", 4, "b", 3))  // a de-escalates to warning: recorded, not sent
	step(counts("a", 9))          // a escalates (sent); b has no results: resolves
	step(counts("a", 2))          // below warning, not yet < 2: stays firing
	step(counts("a", 1))          // resolution holds: resolved
	step(counts())                // nothing
	step(counts("a", 5, "c", 12)) // a fires again (a new alert), c too

	wantEvents := `fired:critical:["a"] fired:warning:["b"] deescalated:warning:["a"] escalated:critical:["a"] resolved:warning:["b"] resolved:critical:["a"] fired:critical:["a"] fired:critical:["c"]`
	if got := kinds(events(t, s, m.ID, KindFired, KindEscalated, KindDeescalated, KindResolved)); got != wantEvents {
		t.Errorf("history:\n got %s\nwant %s", got, wantEvents)
	}
	wantSent := "fired:critical:host=a fired:warning:host=b escalated:critical:host=a resolved:warning:host=b resolved:critical:host=a fired:critical:host=a fired:critical:host=c"
	if got := sink.kinds(); got != wantSent {
		t.Errorf("sent:\n got %s\nwant %s", got, wantSent)
	}
	sink.mu.Lock()
	p := sink.payloads[0]
	sink.mu.Unlock()
	if p.Message != "a logged 6 errors" || p.Monitor.ID != m.ID || p.Condition != "_count >= 5" || p.Value != "6" || p.Title != "[CRITICAL] errors (host=a)" ||
		p.State != "firing" || p.AlertID == "" || !p.Window.To.Equal(t0) {
		t.Errorf("first payload %+v", p)
	}
	sink.mu.Lock()
	resolvedA := sink.payloads[4]
	sink.mu.Unlock()
	if resolvedA.AlertID != p.AlertID || resolvedA.State != "resolved" {
		t.Errorf("the resolution of a carries alert id %q, want %q (%+v)", resolvedA.AlertID, p.AlertID, resolvedA)
	}
	mon, _ := s.Get(ctx, m.ID)
	if mon.Status.State != SevCritical || mon.Status.Firing != 2 || len(mon.Status.Alerts) != 2 {
		t.Errorf("status %+v", mon.Status)
	}
	// The delivery log has every attempt.
	log, err := s.Deliveries(ctx, catalog.DeliveryFilter{MonitorID: m.ID})
	if err != nil || len(log) != 7 {
		t.Fatalf("delivery log %d entries, %v", len(log), err)
	}
	for _, d := range log {
		if !d.OK || d.Status != catalog.NotificationDelivered || d.StatusCode != 200 {
			t.Errorf("delivery %+v", d)
		}
	}
}

// TestUngroupedAndMessages: a monitor without grouping over a
// non-aggregate query counts every matching message.
func TestUngroupedAndMessages(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(30 * time.Second))
	r := &fakeRunner{fn: func(RunRequest) (*RunResult, error) {
		return &RunResult{Rows: []map[string]string{{"_raw": "x"}}, Matched: 250, Truncated: true}, nil
	}}
	s := newTestService(t, cat, clock, r)
	sp := &Spec{Name: "many", Query: "error", Frequency: Duration(time.Minute), Window: Duration(time.Minute), Delay: Duration(30 * time.Second),
		Triggers: Triggers{Critical: &Condition{Op: ">", Threshold: 200}}, Enabled: true}
	m := mustCreate(t, s, sp)
	s.RunOnce(ctx)
	evs := events(t, s, m.ID, KindFired)
	if len(evs) != 1 || evs[0].Value != "250" || evs[0].Message != "results > 200" {
		t.Fatalf("fired %+v", evs)
	}
}

// TestMissingData: a window without results fires the missing data alert;
// results resolve it.
func TestMissingData(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(30 * time.Second))
	var mu sync.Mutex
	next := counts()
	r := &fakeRunner{fn: func(RunRequest) (*RunResult, error) { mu.Lock(); defer mu.Unlock(); return next, nil }}
	s := newTestService(t, cat, clock, r)
	sp := simpleSpec()
	sp.Triggers = Triggers{MissingData: &MissingData{Severity: SevWarning}}
	m := mustCreate(t, s, sp)
	for _, res := range []*RunResult{counts("a", 1), counts(), counts(), counts("b", 2)} {
		mu.Lock()
		next = res
		mu.Unlock()
		s.RunOnce(ctx)
		clock.Advance(time.Minute)
	}
	if got := kinds(events(t, s, m.ID, KindFired, KindResolved)); got != "fired:missingData:#missingData resolved:missingData:#missingData" {
		t.Errorf("history %s", got)
	}
}

// TestErrorsReported: a failing evaluation is recorded and notified once
// per streak, its window retried until it succeeds.
func TestErrorsReported(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(30 * time.Second))
	var mu sync.Mutex
	fail := 3
	r := &fakeRunner{fn: func(req RunRequest) (*RunResult, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail > 0 {
			fail--
			return nil, fmt.Errorf("line 1, column 5: lookup table \"/nope\" does not exist")
		}
		return counts("a", 1), nil
	}}
	s := newTestService(t, cat, clock, r)
	sink, url := newWebhook(t)
	if _, err := s.CreateTarget(ctx, &TargetSpec{Name: "hook", Type: TargetWebhook, Webhook: &WebhookConfig{URL: url}}, "tester"); err != nil {
		t.Fatal(err)
	}
	sp := simpleSpec()
	sp.Notifications = []NotifyRef{{Target: "hook", Severities: []string{SevError}}}
	m := mustCreate(t, s, sp)
	s.RunOnce(ctx)
	mon, _ := s.Get(ctx, m.ID)
	if mon.Status.State != "error" || mon.Status.Error == nil || mon.Status.Error.Count != 1 || !strings.Contains(mon.Status.Error.Message, "/nope") {
		t.Fatalf("status after a failure: %+v", mon.Status)
	}
	// Not retried before ErrorRetry (30s); then retried, failing again.
	clock.Advance(10 * time.Second)
	s.RunOnce(ctx)
	clock.Advance(30 * time.Second)
	s.RunOnce(ctx)
	clock.Advance(30 * time.Second)
	s.RunOnce(ctx) // third failure
	clock.Advance(30 * time.Second)
	s.RunOnce(ctx) // success: the failed window, then the next one
	s.DeliverOnce(ctx)
	if got := strings.Join(r.ends(), " "); got != "10:00 10:00 10:00 10:00 10:01" {
		t.Errorf("windows %s", got)
	}
	if got := kinds(events(t, s, m.ID, KindError, KindRecovered)); got != "error:error recovered:error" {
		t.Errorf("history %s", got)
	}
	if got := sink.kinds(); got != "error:error: recovered:error:" {
		t.Errorf("sent %s", got)
	}
	mon, _ = s.Get(ctx, m.ID)
	if mon.Status.Error != nil || mon.Status.State != "normal" {
		t.Errorf("status after recovery %+v", mon.Status)
	}
}

// TestMuteAndDisable: a muted monitor keeps its history but sends
// nothing; a disabled one is not evaluated and forgets its alerts.
func TestMuteAndDisable(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(30 * time.Second))
	r := &fakeRunner{fn: func(RunRequest) (*RunResult, error) { return counts("a", 9), nil }}
	s := newTestService(t, cat, clock, r)
	sink, url := newWebhook(t)
	s.CreateTarget(ctx, &TargetSpec{Name: "hook", Type: TargetWebhook, Webhook: &WebhookConfig{URL: url}}, "tester")
	sp := simpleSpec()
	sp.Notifications = []NotifyRef{{Target: "hook"}}
	m := mustCreate(t, s, sp)
	if _, err := s.Mute(ctx, m.ID, clock.Now().Add(time.Hour), "tester"); err != nil {
		t.Fatal(err)
	}
	s.RunOnce(ctx)
	s.DeliverOnce(ctx)
	if got := kinds(events(t, s, m.ID, KindFired)); got != `fired:critical:["a"]` {
		t.Errorf("muted history %s", got)
	}
	if n := sink.kinds(); n != "" {
		t.Errorf("a muted monitor sent %s", n)
	}
	mon, _ := s.Get(ctx, m.ID)
	if !mon.Muted || mon.MutedUntil == nil {
		t.Errorf("not muted: %+v", mon)
	}
	if _, err := s.SetEnabled(ctx, m.ID, false, "tester"); err != nil {
		t.Fatal(err)
	}
	r.reset()
	clock.Advance(5 * time.Minute)
	s.RunOnce(ctx)
	if len(r.calls) != 0 {
		t.Errorf("a disabled monitor was evaluated: %v", r.ends())
	}
	mon, _ = s.Get(ctx, m.ID)
	if mon.Status.State != "disabled" || mon.Status.Firing != 0 {
		t.Errorf("disabled status %+v", mon.Status)
	}
	// Enabling starts at the current window.
	s.SetEnabled(ctx, m.ID, true, "tester")
	s.RunOnce(ctx)
	if got := strings.Join(r.ends(), " "); got != "10:05" {
		t.Errorf("after enabling: %s", got)
	}
	want := "created muted fired disabled enabled fired"
	var got []string
	for _, e := range events(t, s, m.ID) {
		got = append(got, e.Kind)
	}
	if strings.Join(got, " ") != want {
		t.Errorf("history %v, want %s", got, want)
	}
}

func TestValidation(t *testing.T) {
	for _, c := range []struct {
		spec string
		want []string
	}{
		{`{"name":"x","query":"_sourceCategory=a | cout by user","triggers":{"critical":{"op":">","threshold":0}}}`,
			[]string{`query: unknown operator "cout"; did you mean "count"? (1:21)`}},
		{`{"name":"x","query":"* | count by user","groupBy":["usr"],"triggers":{"critical":{"field":"count","op":"~","threshold":0}}}`,
			[]string{"groupBy[0]: the query's results have no field usr (they have user, _count)", `triggers.critical.op: operator "~"`, "triggers.critical.field: the query's results have no field count"}},
		{`{"name":"","query":"*","frequency":"30s","window":"10s","triggers":{}}`,
			[]string{"name: a monitor needs a name", "frequency: the frequency is 30s", "window: the window (10s) is shorter", "triggers: a monitor needs a trigger"}},
		{`{"name":"x","query":"*","triggers":{"critical":{"op":">","threshold":0}},"message":"{{.Nope"}`, []string{"message: template"}},
		{`{"name":"x","query":"*","triggers":{"critical":{"op":">","threshold":0}},"nope":1}`, []string{`unknown field "nope"`}},
		{`{"name":"x","query":"*","window":"1d","frequency":"1h","delay":"5m","triggers":{"critical":{"op":"=","threshold":0}}}`, nil},
	} {
		_, err := ParseSpec([]byte(c.spec))
		if c.want == nil {
			if err != nil {
				t.Errorf("%s: %v", c.spec, err)
			}
			continue
		}
		ve, ok := AsValidationError(err)
		if !ok {
			t.Errorf("%s: error %v", c.spec, err)
			continue
		}
		var got []string
		for _, p := range ve.Problems {
			s := p.Field + ": " + p.Message
			if p.Line > 0 {
				s += fmt.Sprintf(" (%d:%d)", p.Line, p.Column)
			}
			got = append(got, s)
		}
		text := strings.Join(got, "\n")
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s:\nproblems:\n%s\nmissing %q", c.spec, text, w)
			}
		}
	}
	// Durations print back compactly.
	sp, _ := ParseSpec([]byte(`{"name":"x","query":"*","window":"90m","frequency":"1m","delay":"90s","triggers":{"critical":{"op":">","threshold":0}}}`))
	b, _ := json.Marshal(sp)
	if !strings.Contains(string(b), `"window":"1h30m","frequency":"1m","delay":"1m30s"`) {
		t.Errorf("JSON %s", b)
	}
}

func TestAlignDown(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		f    time.Duration
		want time.Time
	}{
		{t0.Add(59 * time.Second), time.Minute, t0},
		{t0.Add(7 * time.Minute), 5 * time.Minute, t0.Add(5 * time.Minute)},
		{t0.Add(90 * time.Minute), 24 * time.Hour, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{t0.In(time.FixedZone("x", 3600)), time.Hour, t0},
	} {
		if got := alignDown(c.t, c.f); !got.Equal(c.want) {
			t.Errorf("alignDown(%v, %v) = %v, want %v", c.t, c.f, got, c.want)
		}
	}
}

func TestDeleteMonitor(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	s := newTestService(t, cat, NewFakeClock(t0), &fakeRunner{})
	m := mustCreate(t, s, simpleSpec())
	if err := s.Delete(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, m.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := s.DeleteMonitor(ctx, m.ID); err != nil {
		t.Errorf("deleting a deleted app monitor: %v", err)
	}
}

// A stored definition the scheduler cannot decode is not evaluated, and is
// logged once rather than on every tick; a new definition is logged again.
func TestBadStoredDefinitionLoggedOnce(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	var logs strings.Builder
	r := &fakeRunner{}
	s := New(Config{Catalog: cat, Runner: r, Clock: NewFakeClock(t0), Logger: slog.New(slog.NewTextHandler(&logs, nil)), MaxCatchUp: 10})
	rec := &catalog.MonitorRecord{Name: "broken", Spec: `{"query": 5}`, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	if err := cat.CreateMonitor(ctx, rec); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "bad stored definition"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs.String())
	}
	if len(r.calls) != 0 {
		t.Errorf("the broken monitor was evaluated %d times", len(r.calls))
	}
}
