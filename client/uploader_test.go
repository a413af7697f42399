package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// recv is a receiver that records what it got and answers through a
// scripted handler.
type recv struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	bodies   [][]string // accepted bodies, as lines
	attempts atomic.Int64
	inflight atomic.Int64
	peak     atomic.Int64
	headers  http.Header
	// answer decides the status of an attempt (1-based) with the given
	// lines; 0 means 200. It may set headers on w.
	answer func(w http.ResponseWriter, attempt int64, lines []string) int
	delay  time.Duration
}

func newRecv(t *testing.T, answer func(w http.ResponseWriter, attempt int64, lines []string) int) *recv {
	rv := &recv{t: t, answer: answer}
	rv.srv = httptest.NewServer(http.HandlerFunc(rv.serve))
	t.Cleanup(rv.srv.Close)
	return rv
}

func (rv *recv) url() string { return rv.srv.URL + "/receiver/v1/http/SECRETTOKEN123456" }

func (rv *recv) serve(w http.ResponseWriter, r *http.Request) {
	n := rv.inflight.Add(1)
	defer rv.inflight.Add(-1)
	for {
		p := rv.peak.Load()
		if n <= p || rv.peak.CompareAndSwap(p, n) {
			break
		}
	}
	attempt := rv.attempts.Add(1)
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			rv.t.Errorf("bad gzip body: %v", err)
			w.WriteHeader(400)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		rv.t.Errorf("read body: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if rv.delay > 0 {
		time.Sleep(rv.delay)
	}
	status := 0
	if rv.answer != nil {
		status = rv.answer(w, attempt, lines)
	}
	if status == 0 || status == 200 {
		rv.mu.Lock()
		rv.bodies = append(rv.bodies, lines)
		rv.headers = r.Header.Clone()
		rv.mu.Unlock()
		w.WriteHeader(200)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "id": "E1", "code": fmt.Sprintf("test.%d", status), "message": fmt.Sprintf("scripted %d on attempt %d", status, attempt)})
}

func (rv *recv) all() []string {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	var out []string
	for _, b := range rv.bodies {
		out = append(out, b...)
	}
	return out
}

// fakeSleep records the back-off waits without waiting.
type fakeSleep struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.delays = append(f.delays, d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeSleep) got() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.delays...)
}

func newTestUploader(t *testing.T, cfg UploaderConfig, fs *fakeSleep) *Uploader {
	t.Helper()
	if fs != nil {
		cfg.Sleep = fs.sleep
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func() float64 { return 0 }
	}
	u, err := NewUploader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = u.Close(ctx)
	})
	return u
}

func closeOK(t *testing.T, u *Uploader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestUploaderBatchesWithoutSplittingEvents(t *testing.T) {
	rv := newRecv(t, nil)
	u := newTestUploader(t, UploaderConfig{URL: rv.url(), BatchBytes: 1000, Concurrency: 1, Category: "cat/a", Host: "h1", Name: "file.log", Fields: map[string]string{"b": "2", "a": "1"}}, nil)
	ctx := context.Background()
	var want []string
	for i := 0; i < 500; i++ {
		ev := fmt.Sprintf("event %03d %s", i, strings.Repeat("x", i%50))
		if i%97 == 0 {
			// A multi-line event (stack trace): its lines must stay together.
			ev = fmt.Sprintf("event %03d boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)", i)
		}
		want = append(want, strings.Split(ev, "\n")...)
		if err := u.AddString(ctx, ev+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	closeOK(t, u)
	got := rv.all()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("received %d lines, want %d in the same order", len(got), len(want))
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	for i, b := range rv.bodies {
		size := 0
		for _, l := range b {
			size += len(l) + 1
		}
		if size > 1000 {
			t.Errorf("batch %d holds %d bytes, budget 1000", i, size)
		}
		if strings.HasPrefix(b[0], "\tat ") {
			t.Errorf("batch %d starts with a continuation line: an event was split", i)
		}
	}
	if len(rv.bodies) < 10 {
		t.Errorf("only %d requests for ~20 kB with a 1000-byte budget", len(rv.bodies))
	}
	h := rv.headers
	if h.Get("Content-Encoding") != "gzip" || h.Get("X-Sumo-Category") != "cat/a" || h.Get("X-Sumo-Host") != "h1" ||
		h.Get("X-Sumo-Name") != "file.log" || h.Get("X-Sumo-Fields") != "a=1,b=2" {
		t.Errorf("headers: %v", h)
	}
	s := u.Stats()
	if s.Events != 500 || s.Added != 500 || s.Requests != int64(len(rv.bodies)) || s.Retries != 0 || s.Rejected != 0 || s.Pending() != 0 {
		t.Errorf("stats %+v", s)
	}
	if s.WireBytes >= s.Bytes {
		t.Errorf("gzip did not shrink: %d on the wire for %d bytes", s.WireBytes, s.Bytes)
	}
}

func TestUploaderNoGzipAndOversizedEvent(t *testing.T) {
	rv := newRecv(t, nil)
	u := newTestUploader(t, UploaderConfig{URL: rv.url(), BatchBytes: 100, NoGzip: true, Concurrency: 1}, nil)
	ctx := context.Background()
	big := strings.Repeat("B", 250)
	for _, ev := range []string{"small one", big, "small two", "", "small three"} {
		if err := u.AddString(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	closeOK(t, u)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.headers.Get("Content-Encoding") != "" {
		t.Errorf("Content-Encoding %q with NoGzip", rv.headers.Get("Content-Encoding"))
	}
	var sawBigAlone bool
	for _, b := range rv.bodies {
		for _, l := range b {
			if l == big && len(b) == 1 {
				sawBigAlone = true
			}
		}
	}
	if !sawBigAlone {
		t.Errorf("the oversized event was not sent alone: %q", rv.bodies)
	}
	if got := u.Stats().Events; got != 4 {
		t.Errorf("delivered %d events, want 4 (the empty one is skipped)", got)
	}
}

func TestUploaderRetriesHonourRetryAfter(t *testing.T) {
	rv := newRecv(t, func(w http.ResponseWriter, attempt int64, _ []string) int {
		if attempt <= 2 {
			w.Header().Set("Retry-After", "7")
			return 429
		}
		return 200
	})
	fs := &fakeSleep{}
	u := newTestUploader(t, UploaderConfig{URL: rv.url(), Concurrency: 1}, fs)
	if err := u.AddString(context.Background(), "hello"); err != nil {
		t.Fatal(err)
	}
	closeOK(t, u)
	d := fs.got()
	if len(d) != 2 {
		t.Fatalf("slept %v, want 2 waits", d)
	}
	for _, x := range d {
		if x < 7*time.Second || x > 8*time.Second {
			t.Errorf("wait %v does not honour Retry-After: 7", x)
		}
	}
	s := u.Stats()
	if s.Retries != 2 || s.Requests != 3 || s.Events != 1 || len(rv.all()) != 1 {
		t.Errorf("stats %+v, received %v", s, rv.all())
	}
}

func TestUploaderBackoffIsExponentialAndCapped(t *testing.T) {
	statuses := []int{503, 500, 408, 502, 504, 503, 503}
	rv := newRecv(t, func(_ http.ResponseWriter, attempt int64, _ []string) int {
		if int(attempt) <= len(statuses) {
			return statuses[attempt-1]
		}
		return 200
	})
	fs := &fakeSleep{}
	var retries []Retry
	var mu sync.Mutex
	u := newTestUploader(t, UploaderConfig{URL: rv.url(), Concurrency: 1, MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second,
		OnRetry: func(r Retry) { mu.Lock(); retries = append(retries, r); mu.Unlock() }}, fs)
	if err := u.AddString(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	closeOK(t, u)
	// Jitter 0: each wait is half the exponential step: 50ms, 100ms, ... capped at 1s.
	want := []time.Duration{50, 100, 200, 400, 800, 1000, 1000}
	d := fs.got()
	if len(d) != len(want) {
		t.Fatalf("waits %v, want %d", d, len(want))
	}
	for i := range want {
		if d[i] != want[i]*time.Millisecond {
			t.Errorf("wait %d = %v, want %v", i+1, d[i], want[i]*time.Millisecond)
		}
	}
	if len(retries) != 7 || !strings.Contains(retries[2].Reason, "408") || retries[2].Attempt != 3 {
		t.Errorf("OnRetry calls: %+v", retries)
	}
	if u.Stats().Events != 1 {
		t.Errorf("not delivered after the retries: %+v", u.Stats())
	}
}

func TestUploaderJitterStaysInRange(t *testing.T) {
	u := &Uploader{cfg: UploaderConfig{MinBackoff: time.Second, MaxBackoff: 8 * time.Second, MaxRetryAfter: time.Minute}}
	for _, j := range []float64{0, 0.5, 0.999} {
		u.cfg.Jitter = func() float64 { return j }
		for attempt := 1; attempt <= 6; attempt++ {
			step := min(time.Second<<(attempt-1), 8*time.Second)
			d := u.backoff(attempt, attemptResult{})
			if d < step/2 || d >= step {
				t.Errorf("jitter %v attempt %d: %v not in [%v, %v)", j, attempt, d, step/2, step)
			}
		}
		if d := u.backoff(1, attemptResult{retryAfter: 10 * time.Minute}); d < time.Minute || d > time.Minute+6*time.Second {
			t.Errorf("Retry-After of 10m not capped to 1m: %v", d)
		}
	}
}

func TestUploaderRetriesConnectionErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			// Drop the connection without an answer.
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Error("no hijacker")
				return
			}
			conn, _, err := hj.Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(200)
	}))
	defer srv.Close()
	fs := &fakeSleep{}
	u := newTestUploader(t, UploaderConfig{URL: srv.URL + "/receiver/v1/http/tok", Concurrency: 1}, fs)
	if err := u.AddString(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	closeOK(t, u)
	if s := u.Stats(); s.Retries != 2 || s.Events != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestUploaderGivesUpWithClearError(t *testing.T) {
	rv := newRecv(t, func(http.ResponseWriter, int64, []string) int { return 503 })
	fs := &fakeSleep{}
	u := newTestUploader(t, UploaderConfig{URL: rv.url(), Concurrency: 1, MaxAttempts: 3, BatchBytes: 10}, fs)
	ctx := context.Background()
	if err := u.AddString(ctx, "first event"); err != nil {
		t.Fatal(err)
	}
	if err := u.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded against a server that always answers 503")
	}
	err := u.AddString(ctx, "later")
	if err == nil || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("Add after giving up: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = u.Close(cctx)
	if err == nil {
		t.Fatal("Close returned no error")
	}
	msg := err.Error()
	for _, want := range []string{"gave up", "after 3 attempts", "503", "scripted 503", "receiver/v1/http/SECRET…"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "SECRETTOKEN123456") {
		t.Errorf("error leaks the token: %q", msg)
	}
	if s := u.Stats(); s.Requests != 3 || s.FailedEvents != 1 || s.Events != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestUploaderReportsRejectedBatchesAndGoesOn(t *testing.T) {
	rv := newRecv(t, func(_ http.ResponseWriter, _ int64, lines []string) int {
		for _, l := range lines {
			if strings.HasPrefix(l, "bad") {
				return 400
			}
			if strings.HasPrefix(l, "huge") {
				return 413
			}
		}
		return 200
	})
	fs := &fakeSleep{}
	var cb []Rejection
	var mu sync.Mutex
	u := newTestUploader(t, UploaderConfig{URL: rv.url(), Concurrency: 1, BatchBytes: 8,
		OnRejected: func(r Rejection) { mu.Lock(); cb = append(cb, r); mu.Unlock() }}, fs)
	ctx := context.Background()
	for _, ev := range []string{"good 1", "bad 1", "good 2", "huge 1", "good 3"} {
		if err := u.AddString(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	closeOK(t, u) // rejections are not fatal
	if got := rv.all(); strings.Join(got, ",") != "good 1,good 2,good 3" {
		t.Errorf("delivered %v", got)
	}
	if len(fs.got()) != 0 {
		t.Errorf("4xx answers were retried: waits %v", fs.got())
	}
	rej := u.Rejections()
	if len(rej) != 2 || len(cb) != 2 {
		t.Fatalf("rejections %+v (callback %d)", rej, len(cb))
	}
	if rej[0].Status != 400 || rej[0].Code != "test.400" || !strings.Contains(rej[0].Message, "scripted 400") || rej[0].Sample != "bad 1" || rej[0].Events != 1 {
		t.Errorf("rejection %+v", rej[0])
	}
	if !strings.Contains(rej[1].Reason(), "413 Request Entity Too Large (test.413): scripted 413") {
		t.Errorf("reason %q", rej[1].Reason())
	}
	if s := u.Stats(); s.Rejected != 2 || s.RejectedEvents != 2 || s.Events != 3 || s.Requests != 5 {
		t.Errorf("stats %+v", s)
	}
}

func TestUploaderStopsOnUnauthorized(t *testing.T) {
	rv := newRecv(t, func(http.ResponseWriter, int64, []string) int { return 401 })
	u := newTestUploader(t, UploaderConfig{URL: rv.url(), Concurrency: 1}, &fakeSleep{})
	ctx := context.Background()
	_ = u.AddString(ctx, "x")
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := u.Close(cctx)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "token") {
		t.Fatalf("Close: %v", err)
	}
	if s := u.Stats(); s.Requests != 1 || s.Rejected != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestUploaderConcurrency(t *testing.T) {
	rv := newRecv(t, nil)
	rv.delay = 30 * time.Millisecond
	u := newTestUploader(t, UploaderConfig{URL: rv.url(), Concurrency: 3, BatchBytes: 10}, nil)
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		if err := u.AddString(ctx, fmt.Sprintf("event-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	closeOK(t, u)
	if p := rv.peak.Load(); p != 3 {
		t.Errorf("peak concurrent requests %d, want 3", p)
	}
	if got := len(rv.all()); got != 30 {
		t.Errorf("received %d events", got)
	}
}

func TestUploaderFlushIntervalSendsPartialBatches(t *testing.T) {
	rv := newRecv(t, nil)
	u := newTestUploader(t, UploaderConfig{URL: rv.url(), FlushInterval: 50 * time.Millisecond}, nil)
	if err := u.AddString(context.Background(), "lonely"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(rv.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := rv.all(); len(got) != 1 || got[0] != "lonely" {
		t.Fatalf("partial batch not sent by the flush interval: %v", got)
	}
}

func TestUploaderFlushWaitsForDelivery(t *testing.T) {
	rv := newRecv(t, nil)
	rv.delay = 20 * time.Millisecond
	u := newTestUploader(t, UploaderConfig{URL: rv.url(), BatchBytes: 20}, nil)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		_ = u.AddString(ctx, fmt.Sprintf("e%d", i))
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(rv.all()); got != 10 {
		t.Fatalf("after Flush the server has %d events, want 10", got)
	}
	// The uploader keeps working after a flush.
	_ = u.AddString(ctx, "after")
	closeOK(t, u)
	if got := len(rv.all()); got != 11 {
		t.Fatalf("after Close the server has %d events, want 11", got)
	}
	if err := u.AddString(ctx, "closed"); err != ErrUploaderClosed {
		t.Errorf("Add after Close: %v", err)
	}
}

func TestUploaderCloseDeadlineAbortsSending(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	u, err := NewUploader(UploaderConfig{URL: srv.URL + "/receiver/v1/http/t"})
	if err != nil {
		t.Fatal(err)
	}
	_ = u.AddString(context.Background(), "stuck")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = u.Close(ctx)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Close with an expired context: err %v after %v", err, time.Since(start))
	}
	if s := u.Stats(); s.FailedEvents != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestUploaderAddRespectsContextUnderBackPressure(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	u, err := NewUploader(UploaderConfig{URL: srv.URL + "/receiver/v1/http/t", BatchBytes: 4, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = u.Close(ctx)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var addErr error
	for i := 0; i < 100 && addErr == nil; i++ {
		addErr = u.AddString(ctx, "abcd")
	}
	if addErr != context.DeadlineExceeded {
		t.Fatalf("Add under back-pressure returned %v, want the context's error", addErr)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"3", 3 * time.Second}, {"0", 0}, {"-1", 0}, {"1.5", 1500 * time.Millisecond},
		{"Mon, 24 Nov 2025 10:00:30 GMT", 30 * time.Second}, {"Mon, 24 Nov 2025 09:00:00 GMT", 0}, {"soon", 0},
	} {
		if got := parseRetryAfter(c.in, now); got != c.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestMaskURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://h:1/receiver/v1/http/dhs_ABCDEFGHIJ":     "http://h:1/receiver/v1/http/dhs_AB…",
		"http://h:1/receiver/v1/http/abc":                "http://h:1/receiver/v1/http/abc…",
		"http://h:1/receiver/v1/http":                    "http://h:1/receiver/v1/http",
		"http://h:1/receiver/v1/http/dhs_ABCDEFGHIJ?x=1": "http://h:1/receiver/v1/http/dhs_AB…",
	} {
		if got := MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewUploaderRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "receiver/v1/http/x", "ftp://h/x", "http://"} {
		if _, err := NewUploader(UploaderConfig{URL: u}); err == nil {
			t.Errorf("NewUploader(%q) accepted", u)
		}
	}
}

func TestUploaderHeaderToken(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("X-Sumo-Token") + " " + r.URL.Path)
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	u := newTestUploader(t, UploaderConfig{URL: srv.URL + "/receiver/v1/http", Token: "tok123"}, nil)
	_ = u.AddString(context.Background(), "x")
	closeOK(t, u)
	if got.Load() != "tok123 /receiver/v1/http" {
		t.Errorf("got %v", got.Load())
	}
}

// A connection error must be retried even when the server is entirely
// unreachable at first.
func TestUploaderUnreachableThenUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens now
	var received bytes.Buffer
	var mu sync.Mutex
	var srv *httptest.Server
	fs := &fakeSleep{}
	sleep := func(ctx context.Context, d time.Duration) error {
		_ = fs.sleep(ctx, d)
		if srv == nil {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				zr, _ := gzip.NewReader(r.Body)
				mu.Lock()
				_, _ = io.Copy(&received, zr)
				mu.Unlock()
			}))
			srv.Listener.Close()
			srv.Listener = l
			srv.Start()
		}
		return nil
	}
	u, err := NewUploader(UploaderConfig{URL: "http://" + addr + "/receiver/v1/http/t", Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	_ = u.AddString(context.Background(), "finally")
	closeOK(t, u)
	if srv != nil {
		srv.Close()
	}
	if received.String() != "finally\n" || len(fs.got()) != 1 {
		t.Errorf("received %q after waits %v", received.String(), fs.got())
	}
}
