package httpsource_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/ingest/httpsource"
	"github.com/dohyo/dohyo/internal/httperr"
)

const (
	goodToken  = catalog.TokenPrefix + "good-token"
	regexToken = catalog.TokenPrefix + "regex-token"
)

// fakeWAL records the payloads appended to it. It fails with err when set;
// with hold set, Append announces itself on entered and waits for release
// (or the request's context).
type fakeWAL struct {
	mu       sync.Mutex
	payloads [][]byte
	err      error

	hold     bool
	entered  chan struct{}
	release  chan struct{}
	waitCtx  bool // block until the request's context is done
	appendsN atomic.Int64
}

func (f *fakeWAL) Append(ctx context.Context, payload []byte) (uint64, error) {
	f.appendsN.Add(1)
	if f.waitCtx {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	if f.hold {
		f.entered <- struct{}{}
		select {
		case <-f.release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if f.err != nil {
		return 0, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.payloads = append(f.payloads, append([]byte(nil), payload...))
	return uint64(len(f.payloads)), nil
}

func (f *fakeWAL) batches(t *testing.T) []*event.Batch {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*event.Batch
	for i, p := range f.payloads {
		b, err := event.Decode(p)
		if err != nil {
			t.Fatalf("payload %d does not decode: %v", i, err)
		}
		out = append(out, b)
	}
	return out
}

type fakeSources map[string]*catalog.Source

func (s fakeSources) SourceByToken(token string) (*catalog.Source, bool) {
	src, ok := s[token]
	return src, ok
}

// recordingBody is a request body that counts the reads made on it.
type recordingBody struct {
	r     io.Reader
	reads atomic.Int64
}

func (b *recordingBody) Read(p []byte) (int, error) {
	b.reads.Add(1)
	return b.r.Read(p)
}

func (b *recordingBody) Close() error { return nil }

type fixture struct {
	wal     *fakeWAL
	metrics *httpsource.Metrics
	rc      *httpsource.Receiver
	mux     *http.ServeMux
	admits  atomic.Int64
	refusal atomic.Pointer[httpsource.Refusal]
}

func newFixture(t *testing.T, cfg httpsource.Config) *fixture {
	t.Helper()
	f := &fixture{wal: &fakeWAL{}, metrics: httpsource.NewMetrics()}
	cfg.Metrics = f.metrics
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srcs := fakeSources{
		goodToken: {
			ID: "S1", Name: "web", Category: "prod/web", Host: "host-1",
			Fields: map[string]string{"env": "prod", "team": "core"}, Multiline: "auto", TimeZone: "UTC",
		},
		regexToken: {
			ID: "S2", Name: "java", Category: "prod/java", Multiline: "regex:^START.*", TimeZone: "UTC",
		},
	}
	admit := func() *httpsource.Refusal {
		f.admits.Add(1)
		return f.refusal.Load()
	}
	f.rc = httpsource.New(cfg, f.wal, srcs, admit)
	f.mux = http.NewServeMux()
	f.rc.Routes(f.mux)
	return f
}

func (f *fixture) do(req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, req)
	return w
}

func (f *fixture) post(path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return f.do(req)
}

func (f *fixture) metricsText(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	f.metrics.Set.WritePrometheus(&buf)
	return buf.String()
}

// wantError checks the status and the JSON error envelope.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code, msgPart string) httperr.Error {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d (body %s)", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e httperr.Error
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", w.Body, err)
	}
	if e.Status != status || e.Code != code || e.ID == "" {
		t.Errorf("error envelope %+v, want status %d code %q and an id", e, status, code)
	}
	if !strings.Contains(e.Message, msgPart) {
		t.Errorf("error message %q does not contain %q", e.Message, msgPart)
	}
	return e
}

func wantMetric(t *testing.T, text, line string) {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return
		}
	}
	t.Errorf("metric line %q missing from:\n%s", line, text)
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnauthorizedReadsNothing(t *testing.T) {
	cases := []struct {
		name, path, header, msg string
	}{
		{"no token", "/receiver/v1/http", "", "no source token"},
		{"bad path token", "/receiver/v1/http/" + catalog.TokenPrefix + "nope", "", "unknown or revoked source token"},
		{"bad header token", "/receiver/v1/http", catalog.TokenPrefix + "nope", "unknown or revoked source token"},
		// A path token wins over the header: a bad path token is refused
		// even with a good header token.
		{"bad path, good header", "/receiver/v1/http/wrong", goodToken, "unknown or revoked source token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, httpsource.Config{})
			body := &recordingBody{r: strings.NewReader("a log line\n")}
			req := httptest.NewRequest(http.MethodPost, c.path, body)
			if c.header != "" {
				req.Header.Set("X-Sumo-Token", c.header)
			}
			w := f.do(req)
			wantError(t, w, http.StatusUnauthorized, "unauthorized", c.msg)
			if n := body.reads.Load(); n != 0 {
				t.Errorf("the body was read %d times before authentication", n)
			}
			if n := f.wal.appendsN.Load(); n != 0 {
				t.Errorf("the WAL saw %d appends", n)
			}
			if n := f.admits.Load(); n != 0 {
				t.Errorf("admission was asked %d times for an unauthenticated request", n)
			}
			wantMetric(t, f.metricsText(t), `dohyo_ingest_rejected_requests_total{reason="unauthorized"} 1`)
		})
	}
}

func TestTokenForms(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	if w := f.post("/receiver/v1/http/"+goodToken, "one\n", nil); w.Code != http.StatusOK {
		t.Fatalf("path token: status %d, body %s", w.Code, w.Body)
	}
	if w := f.post("/receiver/v1/http", "two\n", map[string]string{"x-sumo-token": goodToken}); w.Code != http.StatusOK {
		t.Fatalf("header token: status %d, body %s", w.Code, w.Body)
	}
	// Query parameters are ignored.
	if w := f.post("/receiver/v1/http/"+goodToken+"?foo=bar", "three\n", nil); w.Code != http.StatusOK {
		t.Fatalf("path token with query string: status %d, body %s", w.Code, w.Body)
	}
	bs := f.wal.batches(t)
	if len(bs) != 3 {
		t.Fatalf("%d batches appended, want 3", len(bs))
	}
	for i, want := range []string{"one", "two", "three"} {
		if len(bs[i].Events) != 1 || bs[i].Events[0].Raw != want || bs[i].Source.ID != "S1" {
			t.Errorf("batch %d: %+v, want one event %q of source S1", i, bs[i], want)
		}
	}
}

func TestCORS(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	req := httptest.NewRequest(http.MethodOptions, "/receiver/v1/http/"+goodToken, nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	w := f.do(req)
	if w.Code != http.StatusNoContent {
		t.Fatalf("preflight: status %d, want 204", w.Code)
	}
	h := w.Header()
	if got := h.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Access-Control-Allow-Origin %q", got)
	}
	if got := h.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "POST") || !strings.Contains(got, "OPTIONS") {
		t.Errorf("Access-Control-Allow-Methods %q", got)
	}
	for _, hdr := range []string{"X-Sumo-Token", "X-Sumo-Category", "Content-Encoding", "X-Sumo-Fields"} {
		if !strings.Contains(h.Get("Access-Control-Allow-Headers"), hdr) {
			t.Errorf("Access-Control-Allow-Headers %q lacks %s", h.Get("Access-Control-Allow-Headers"), hdr)
		}
	}
	if h.Get("Vary") != "Origin" {
		t.Errorf("Vary %q, want Origin", h.Get("Vary"))
	}
	if f.wal.appendsN.Load() != 0 {
		t.Error("a preflight appended data")
	}

	// A POST with an Origin gets the headers too; one without gets none.
	w = f.post("/receiver/v1/http/"+goodToken, "hello\n", map[string]string{"Origin": "https://app.example.com"})
	if w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("POST with Origin: status %d, Allow-Origin %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
	w = f.post("/receiver/v1/http/"+goodToken, "hello\n", nil)
	if w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("POST without Origin: status %d, Allow-Origin %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
	// Even an unauthenticated POST carries them, so the browser can read the 401.
	w = f.post("/receiver/v1/http/bad", "hello\n", map[string]string{"Origin": "https://app.example.com"})
	if w.Code != http.StatusUnauthorized || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("401 with Origin: status %d, Allow-Origin %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		body := &recordingBody{r: strings.NewReader("x\n")}
		w := f.do(httptest.NewRequest(m, "/receiver/v1/http/"+goodToken, body))
		wantError(t, w, http.StatusMethodNotAllowed, "method.unsupported", "method "+m+" is not supported")
		if got := w.Header().Get("Allow"); got != "POST, OPTIONS" {
			t.Errorf("%s: Allow %q, want %q", m, got, "POST, OPTIONS")
		}
		if body.reads.Load() != 0 {
			t.Errorf("%s: body read", m)
		}
	}
	if f.wal.appendsN.Load() != 0 {
		t.Error("data appended")
	}
	wantMetric(t, f.metricsText(t), `dohyo_ingest_rejected_requests_total{reason="method"} 3`)
}

func TestClosing(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	f.rc.SetClosing()
	w := f.post("/receiver/v1/http/"+goodToken, "x\n", nil)
	wantError(t, w, http.StatusServiceUnavailable, "service.unavailable", "shutting down")
	if got := w.Header().Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	// Authentication still comes first.
	w = f.post("/receiver/v1/http/bad", "x\n", nil)
	wantError(t, w, http.StatusUnauthorized, "unauthorized", "")
	if f.wal.appendsN.Load() != 0 {
		t.Error("data appended while closing")
	}
	wantMetric(t, f.metricsText(t), `dohyo_ingest_rejected_requests_total{reason="shutting_down"} 1`)
}

func TestAdmissionRefusal(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	f.refusal.Store(&httpsource.Refusal{Reason: "wal_lag", Message: "catching up; retry shortly", RetryAfter: 7 * time.Second})
	body := &recordingBody{r: strings.NewReader("x\n")}
	w := f.do(httptest.NewRequest(http.MethodPost, "/receiver/v1/http/"+goodToken, body))
	wantError(t, w, http.StatusTooManyRequests, "rate.limit.exceeded", "catching up; retry shortly")
	if got := w.Header().Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After %q, want 7", got)
	}
	if body.reads.Load() != 0 {
		t.Error("a refused request's body was read")
	}
	// A refusal without a delay still tells the client to wait a second.
	f.refusal.Store(&httpsource.Refusal{Reason: "disk_low", Message: "disk full"})
	w = f.post("/receiver/v1/http/"+goodToken, "x\n", nil)
	wantError(t, w, http.StatusTooManyRequests, "rate.limit.exceeded", "disk full")
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	if f.wal.appendsN.Load() != 0 {
		t.Error("refused data appended")
	}
	text := f.metricsText(t)
	wantMetric(t, text, `dohyo_ingest_rejected_requests_total{reason="wal_lag"} 1`)
	wantMetric(t, text, `dohyo_ingest_rejected_requests_total{reason="disk_low"} 1`)

	f.refusal.Store(nil)
	if w := f.post("/receiver/v1/http/"+goodToken, "x\n", nil); w.Code != http.StatusOK {
		t.Errorf("after the refusal lifted: status %d", w.Code)
	}
}

func TestMetricsContentType(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	for _, ct := range []string{
		"application/vnd.sumologic.graphite",
		"application/vnd.sumologic.carbon2; charset=utf-8",
		"application/vnd.sumologic.prometheus",
	} {
		body := &recordingBody{r: strings.NewReader("cpu.load 1 1700000000\n")}
		req := httptest.NewRequest(http.MethodPost, "/receiver/v1/http/"+goodToken, body)
		req.Header.Set("Content-Type", ct)
		w := f.do(req)
		wantError(t, w, http.StatusUnsupportedMediaType, "contenttype.invalid", "metrics payloads")
		if body.reads.Load() != 0 {
			t.Errorf("%s: body read", ct)
		}
	}
	// Other content types are logs.
	for _, ct := range []string{"text/plain", "application/json", "application/x-www-form-urlencoded"} {
		if w := f.post("/receiver/v1/http/"+goodToken, "x\n", map[string]string{"Content-Type": ct}); w.Code != http.StatusOK {
			t.Errorf("%s: status %d, body %s", ct, w.Code, w.Body)
		}
	}
	if n := len(f.wal.batches(t)); n != 3 {
		t.Errorf("%d batches, want 3", n)
	}
	wantMetric(t, f.metricsText(t), `dohyo_ingest_rejected_requests_total{reason="metrics"} 3`)
}

func TestTooLarge(t *testing.T) {
	lim := ingest.Limits{MaxBodyBytes: 4096, MaxDecompressedBytes: 64 << 10}
	f := newFixture(t, httpsource.Config{Limits: lim})

	// A declared Content-Length over the limit: refused unread.
	body := &recordingBody{r: strings.NewReader(strings.Repeat("x", 5000))}
	req := httptest.NewRequest(http.MethodPost, "/receiver/v1/http/"+goodToken, body)
	req.ContentLength = 5000
	w := f.do(req)
	wantError(t, w, http.StatusRequestEntityTooLarge, "payload.too.large", "request body is 5000 bytes, over the limit of 4096 bytes")
	if body.reads.Load() != 0 {
		t.Error("an over-long body was read")
	}

	// No Content-Length (chunked): the body is cut at the limit.
	req = httptest.NewRequest(http.MethodPost, "/receiver/v1/http/"+goodToken, &recordingBody{r: strings.NewReader(strings.Repeat("y\n", 2500))})
	req.ContentLength = -1
	wantError(t, f.do(req), http.StatusRequestEntityTooLarge, "payload.too.large", "over the 4 KiB limit")

	// A gzip bomb: a small wire size decompressing past the limit.
	bomb := gzipBytes(t, bytes.Repeat([]byte("0"), 2<<20))
	if len(bomb) > 4096 {
		t.Fatalf("bomb of %d bytes does not fit the wire limit", len(bomb))
	}
	w = f.post("/receiver/v1/http/"+goodToken, string(bomb), map[string]string{"Content-Encoding": "gzip"})
	wantError(t, w, http.StatusRequestEntityTooLarge, "payload.too.large", "decompresses to more than the 64 KiB limit")

	if f.wal.appendsN.Load() != 0 {
		t.Error("over-limit data appended")
	}
	wantMetric(t, f.metricsText(t), `dohyo_ingest_rejected_requests_total{reason="too_large"} 3`)
}

func TestCompression(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	w := f.post("/receiver/v1/http/"+goodToken, "this is not gzip at all", map[string]string{"Content-Encoding": "gzip"})
	wantError(t, w, http.StatusBadRequest, "bad.request", "corrupt gzip body")

	gz := gzipBytes(t, []byte("line one\nline two\n"))
	w = f.post("/receiver/v1/http/"+goodToken, string(gz[:len(gz)-6]), map[string]string{"Content-Encoding": "gzip"})
	wantError(t, w, http.StatusBadRequest, "bad.request", "corrupt gzip body")

	w = f.post("/receiver/v1/http/"+goodToken, "x", map[string]string{"Content-Encoding": "br"})
	wantError(t, w, http.StatusUnsupportedMediaType, "contentencoding.invalid", `unsupported Content-Encoding "br"`)

	if f.wal.appendsN.Load() != 0 {
		t.Fatal("bad data appended")
	}
	w = f.post("/receiver/v1/http/"+goodToken, string(gz), map[string]string{"Content-Encoding": "gzip"})
	if w.Code != http.StatusOK {
		t.Fatalf("valid gzip: status %d, body %s", w.Code, w.Body)
	}
	bs := f.wal.batches(t)
	if len(bs) != 1 || len(bs[0].Events) != 2 || bs[0].Events[0].Raw != "line one" || bs[0].Events[1].Raw != "line two" {
		t.Fatalf("gzip batch: %+v", bs)
	}
	text := f.metricsText(t)
	wantMetric(t, text, `dohyo_ingest_rejected_requests_total{reason="malformed"} 2`)
	wantMetric(t, text, `dohyo_ingest_rejected_requests_total{reason="bad_encoding"} 1`)
}

func sortedFields(fs []event.Field) []event.Field {
	out := append([]event.Field(nil), fs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func TestHeadersOverrideSource(t *testing.T) {
	f := newFixture(t, httpsource.Config{Collector: "col-1"})
	before := time.Now()
	w := f.post("/receiver/v1/http/"+goodToken,
		"2024-05-01T10:00:00Z first event\n2024-05-01T10:00:05.250Z second event\n  continued\n",
		map[string]string{
			"X-Sumo-Category": "staging/api",
			"X-Sumo-Host":     "host-override",
			"X-Sumo-Name":     "/var/log/app.log",
			"X-Sumo-Fields":   "Env=Staging, Region=eu-west-1,,TEAM=payments",
		})
	after := time.Now()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", w.Code, w.Body)
	}
	if w.Body.Len() != 0 {
		t.Errorf("a 200 has body %q", w.Body)
	}
	bs := f.wal.batches(t)
	if len(bs) != 1 {
		t.Fatalf("%d batches, want 1", len(bs))
	}
	b := bs[0]
	wantSrc := event.Source{ID: "S1", Name: "web", Category: "staging/api", Host: "host-override", FileName: "/var/log/app.log", Collector: "col-1"}
	if b.Source != wantSrc {
		t.Errorf("source %+v, want %+v", b.Source, wantSrc)
	}
	wantFields := []event.Field{{Name: "env", Value: "Staging"}, {Name: "region", Value: "eu-west-1"}, {Name: "team", Value: "payments"}}
	if got := sortedFields(b.Fields); !equalFields(got, wantFields) {
		t.Errorf("fields %v, want %v", got, wantFields)
	}
	if b.ReceiptTime < before.UnixNano() || b.ReceiptTime > after.UnixNano() {
		t.Errorf("receipt time %d outside the request [%d, %d]", b.ReceiptTime, before.UnixNano(), after.UnixNano())
	}
	if len(b.Events) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(b.Events), b.Events)
	}
	// The line without a timestamp continues the event before it (auto
	// multiline).
	wantRaw := []string{"2024-05-01T10:00:00Z first event", "2024-05-01T10:00:05.250Z second event\n  continued"}
	wantTime := []int64{
		time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).UnixNano(),
		time.Date(2024, 5, 1, 10, 0, 5, 250e6, time.UTC).UnixNano(),
	}
	for i, e := range b.Events {
		if e.Raw != wantRaw[i] || e.Time != wantTime[i] {
			t.Errorf("event %d: raw %q time %d, want %q %d", i, e.Raw, e.Time, wantRaw[i], wantTime[i])
		}
	}
	if b.Events[0].Format == "" || b.Events[1].Format == "" {
		t.Errorf("formats %q, %q: want detected formats", b.Events[0].Format, b.Events[1].Format)
	}

	// Without headers the source's own metadata applies.
	f.post("/receiver/v1/http/"+goodToken, "plain\n", nil)
	b = f.wal.batches(t)[1]
	wantSrc = event.Source{ID: "S1", Name: "web", Category: "prod/web", Host: "host-1", Collector: "col-1"}
	if b.Source != wantSrc {
		t.Errorf("source %+v, want %+v", b.Source, wantSrc)
	}
	if got, want := sortedFields(b.Fields), []event.Field{{Name: "env", Value: "prod"}, {Name: "team", Value: "core"}}; !equalFields(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	// An event without a timestamp gets the receipt time.
	if len(b.Events) != 1 || b.Events[0].Raw != "plain" || b.Events[0].Time != b.ReceiptTime || b.Events[0].Format != "" {
		t.Errorf("untimed event %+v, want \"plain\" at the receipt time %d", b.Events, b.ReceiptTime)
	}

	text := f.metricsText(t)
	wantMetric(t, text, `dohyo_ingest_events_total{source_id="S1",source="web"} 3`)
	wantMetric(t, text, `dohyo_ingest_requests_total{source_id="S1",source="web"} 2`)
	wantMetric(t, text, `dohyo_ingest_bytes_total{source_id="S1",source="web"} 86`)
}

func equalFields(a, b []event.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBadSumoFields(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	cases := []struct{ header, msg string }{
		{"env=prod,oops", `X-Sumo-Fields: item 2 ("oops") is not key=value`},
		{"env=prod, bad-name=1", `X-Sumo-Fields: item 2: invalid: field name "bad-name"`},
		{"_hidden=1", `X-Sumo-Fields: item 1: invalid: field name "_hidden"`},
	}
	for _, c := range cases {
		w := f.post("/receiver/v1/http/"+goodToken, "x\n", map[string]string{"X-Sumo-Fields": c.header})
		wantError(t, w, http.StatusBadRequest, "bad.request", c.msg)
	}
	if f.wal.appendsN.Load() != 0 {
		t.Error("data with bad fields appended")
	}
	wantMetric(t, f.metricsText(t), `dohyo_ingest_rejected_requests_total{reason="bad_header"} 3`)
}

func TestInflightBudget(t *testing.T) {
	// A request holds the 64 KiB buffer its body is decoded into, its
	// parsed event and its encoding while it waits in the WAL: about 65
	// KiB of the 100, so a second one does not fit.
	f := newFixture(t, httpsource.Config{MaxInflightBytes: 100 << 10})
	f.wal.hold = true
	f.wal.entered = make(chan struct{})
	f.wal.release = make(chan struct{})

	line := strings.Repeat("a", 39) + "\n"
	first := make(chan *httptest.ResponseRecorder, 1)
	go func() { first <- f.post("/receiver/v1/http/"+goodToken, line, nil) }()
	select {
	case <-f.wal.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first request never reached the WAL")
	}

	w := f.post("/receiver/v1/http/"+goodToken, line, nil)
	wantError(t, w, http.StatusTooManyRequests, "rate.limit.exceeded", "too much data in flight")
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}

	close(f.wal.release)
	if w := <-first; w.Code != http.StatusOK {
		t.Fatalf("held request: status %d, body %s", w.Code, w.Body)
	}
	// The budget is released once a request is done.
	go func() { <-f.wal.entered }()
	if w := f.post("/receiver/v1/http/"+goodToken, line, nil); w.Code != http.StatusOK {
		t.Fatalf("after release: status %d, body %s", w.Code, w.Body)
	}
	if n := len(f.wal.batches(t)); n != 2 {
		t.Errorf("%d batches, want 2", n)
	}
	wantMetric(t, f.metricsText(t), `dohyo_ingest_rejected_requests_total{reason="memory"} 1`)
}

// TestInflightBudgetCountsParsedEvents: the budget covers what a body
// turns into, not only the body. 4,000 one-byte lines fit a 100 KiB budget
// as text (a 64 KiB buffer) but not as 4,000 parsed events.
func TestInflightBudgetCountsParsedEvents(t *testing.T) {
	f := newFixture(t, httpsource.Config{MaxInflightBytes: 100 << 10})
	w := f.post("/receiver/v1/http/"+goodToken, strings.Repeat("a\n", 4000), nil)
	wantError(t, w, http.StatusTooManyRequests, "rate.limit.exceeded", "too much data in flight")
	if f.wal.appendsN.Load() != 0 {
		t.Fatal("a request over the budget was appended")
	}
	// Everything it took was given back: a small request fits again.
	if w := f.post("/receiver/v1/http/"+goodToken, "a\n", nil); w.Code != http.StatusOK {
		t.Fatalf("after the refusal: status %d, body %s", w.Code, w.Body)
	}
	wantMetric(t, f.metricsText(t), `dohyo_ingest_rejected_requests_total{reason="memory"} 1`)
}

func TestWALFailure(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	f.wal.err = errors.New("disk on fire")
	w := f.post("/receiver/v1/http/"+goodToken, "x\n", nil)
	e := wantError(t, w, http.StatusServiceUnavailable, "service.unavailable", "cannot store data right now")
	if strings.Contains(e.Message, "disk on fire") {
		t.Errorf("internal error leaked to the client: %q", e.Message)
	}
	wantMetric(t, f.metricsText(t), `dohyo_ingest_rejected_requests_total{reason="wal_error"} 1`)
	if strings.Contains(f.metricsText(t), "dohyo_ingest_events_total") {
		t.Error("events counted as accepted after a WAL failure")
	}
}

func TestWALTimeout(t *testing.T) {
	f := newFixture(t, httpsource.Config{RequestTimeout: 20 * time.Millisecond})
	f.wal.waitCtx = true
	w := f.post("/receiver/v1/http/"+goodToken, "x\n", nil)
	wantError(t, w, http.StatusRequestTimeout, "request.timeout", "could not be stored in time")
	wantMetric(t, f.metricsText(t), `dohyo_ingest_rejected_requests_total{reason="wal_error"} 1`)
}

func TestEmptyBody(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	for _, body := range []string{"", "\n\n", "   \n\t\n"} {
		if w := f.post("/receiver/v1/http/"+goodToken, body, nil); w.Code != http.StatusOK {
			t.Errorf("body %q: status %d, body %s", body, w.Code, w.Body)
		}
	}
	// An empty upload that claims gzip (curl with an empty file) too.
	if w := f.post("/receiver/v1/http/"+goodToken, "", map[string]string{"Content-Encoding": "gzip"}); w.Code != http.StatusOK {
		t.Errorf("empty gzip: status %d, body %s", w.Code, w.Body)
	}
	if n := f.wal.appendsN.Load(); n != 0 {
		t.Errorf("%d appends for empty bodies", n)
	}
}

func TestZeroLimitsMeanDefaults(t *testing.T) {
	// ingest.Limits documents a zero field as "the default".
	f := newFixture(t, httpsource.Config{Limits: ingest.Limits{}})
	w := f.post("/receiver/v1/http/"+goodToken, "hello\n", nil) // Content-Length 6
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", w.Code, w.Body)
	}
	if n := len(f.wal.batches(t)); n != 1 {
		t.Fatalf("%d batches, want 1", n)
	}
}

func TestMultilineRegexSource(t *testing.T) {
	f := newFixture(t, httpsource.Config{})
	body := "START job 1\n  at step a\n  at step b\nSTART job 2\nnot START a new one\n"
	w := f.post("/receiver/v1/http/"+regexToken, body, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", w.Code, w.Body)
	}
	bs := f.wal.batches(t)
	if len(bs) != 1 {
		t.Fatalf("%d batches", len(bs))
	}
	want := []string{"START job 1\n  at step a\n  at step b", "START job 2\nnot START a new one"}
	if len(bs[0].Events) != len(want) {
		t.Fatalf("%d events %+v, want %d", len(bs[0].Events), bs[0].Events, len(want))
	}
	for i, e := range bs[0].Events {
		if e.Raw != want[i] {
			t.Errorf("event %d: %q, want %q", i, e.Raw, want[i])
		}
	}
	if bs[0].Source.Category != "prod/java" {
		t.Errorf("category %q", bs[0].Source.Category)
	}

	// The auto source splits the same body on lines (no timestamps).
	w = f.post("/receiver/v1/http/"+goodToken, body, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if n := len(f.wal.batches(t)[1].Events); n != 5 {
		t.Errorf("auto source: %d events, want 5", n)
	}
}

func TestLabelValue(t *testing.T) {
	if got := httpsource.LabelValue("web\n\"srv\"\x7fé"); got != "web_\"srv\"__" {
		t.Errorf("LabelValue = %q", got)
	}
}

// handoffWAL is a fakeWAL that also takes batches in memory, as the WAL's
// AppendWith does.
type handoffWAL struct {
	fakeWAL
	values []any
	sizes  []int64
}

func (h *handoffWAL) AppendWith(ctx context.Context, payload []byte, v any, size int64) (uint64, error) {
	seq, err := h.Append(ctx, payload)
	if err == nil {
		h.mu.Lock()
		h.values, h.sizes = append(h.values, v), append(h.sizes, size)
		h.mu.Unlock()
	}
	return seq, err
}

// TestHandsBatchToWAL: with a WAL that takes batches in memory, the receiver
// hands over the same batch the payload encodes, sized at least as large.
func TestHandsBatchToWAL(t *testing.T) {
	h := &handoffWAL{}
	rc := httpsource.New(httpsource.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, h,
		fakeSources{goodToken: {ID: "S1", Name: "web", Category: "prod/web", TimeZone: "UTC"}}, nil)
	mux := http.NewServeMux()
	rc.Routes(mux)
	body := `{"eventTime":"2026-11-25T10:00:00Z","user":{"arn":"arn:aws:iam::1:user/a"},"n":3}` + "\n" + `2026-11-25T10:00:01Z plain line`
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/receiver/v1/http/"+goodToken, strings.NewReader(body)))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	decoded := h.batches(t)
	if len(decoded) != 1 || len(h.values) != 1 {
		t.Fatalf("%d payloads, %d handed-over values; want 1 each", len(decoded), len(h.values))
	}
	b, ok := h.values[0].(*event.Batch)
	if !ok {
		t.Fatalf("handed over a %T, want *event.Batch", h.values[0])
	}
	if !reflect.DeepEqual(b, decoded[0]) {
		t.Fatalf("handed-over batch differs from the payload:\n got %+v\nwant %+v", b, decoded[0])
	}
	if len(b.Events) != 2 || len(b.Events[0].Fields) == 0 {
		t.Fatalf("batch %+v: want 2 events, the first with JSON fields", b)
	}
	if h.sizes[0] < int64(len(h.payloads[0])) {
		t.Fatalf("handed-over batch sized %d bytes, below its %d-byte payload", h.sizes[0], len(h.payloads[0]))
	}
}
