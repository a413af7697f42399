// Package httpsource is the Sumo Logic-compatible HTTP source receiver:
// POST /receiver/v1/http/{token} (or X-Sumo-Token). A request is answered 200
// only once its events are in the WAL.
package httpsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/internal/httperr"
)

// Appender makes a batch durable (the WAL).
type Appender interface {
	Append(ctx context.Context, payload []byte) (seq uint64, err error)
}

// BatchAppender is an Appender that can also hand the decoded batch to its
// reader in memory (wal.WAL.AppendWith): the applier then does not read the
// record back and decode it. The batch is not modified after the call.
type BatchAppender interface {
	AppendWith(ctx context.Context, payload []byte, v any, size int64) (seq uint64, err error)
}

// Sources resolves receiver tokens.
type Sources interface {
	SourceByToken(token string) (*catalog.Source, bool)
}

// Admission decides whether a new request may be taken now. It returns a
// non-nil Refusal when the server is behind (WAL lag, low disk).
type Admission func() *Refusal

// Refusal tells a client to come back later.
type Refusal struct {
	Reason     string // metrics label, e.g. "wal_lag"
	Message    string // for the client
	RetryAfter time.Duration
}

// Config configures the receiver.
type Config struct {
	Limits ingest.Limits
	// MaxInflightBytes bounds the memory requests hold at once: the bytes
	// read from clients, the decoded bodies, the parsed events and their
	// WAL encoding. A request that would go over it is refused with 429.
	MaxInflightBytes int64
	// RequestTimeout bounds reading and storing one request (Sumo: 30 s).
	RequestTimeout time.Duration
	// JSONMaxDepth and JSONMaxFields bound ingest-time JSON extraction.
	JSONMaxDepth, JSONMaxFields int
	// Collector is the _collector value of every event.
	Collector string
	Logger    *slog.Logger
	Metrics   *Metrics
}

// Receiver is the HTTP source handler.
type Receiver struct {
	cfg      Config
	wal      Appender
	sources  Sources
	admit    Admission
	inflight atomic.Int64
	closing  atomic.Bool

	reMu    sync.Mutex
	reCache map[string]*regexp.Regexp
}

// New returns a receiver.
func New(cfg Config, wal Appender, sources Sources, admit Admission) *Receiver {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.MaxInflightBytes <= 0 {
		cfg.MaxInflightBytes = 256 << 20
	}
	if cfg.Collector == "" {
		cfg.Collector = "dohyo"
	}
	// A zero limit means its default (ingest.Limits); ReadBody and Parse
	// apply that themselves, but the Content-Length check reads it here.
	if cfg.Limits.MaxBodyBytes <= 0 {
		cfg.Limits.MaxBodyBytes = ingest.DefaultLimits().MaxBodyBytes
	}
	return &Receiver{cfg: cfg, wal: wal, sources: sources, admit: admit, reCache: make(map[string]*regexp.Regexp)}
}

// SetClosing makes the receiver answer 503 to new requests (shutdown).
func (rc *Receiver) SetClosing() { rc.closing.Store(true) }

// Routes registers the receiver's endpoints on mux.
func (rc *Receiver) Routes(mux *http.ServeMux) {
	mux.HandleFunc("/receiver/v1/http", rc.ServeHTTP)
	mux.HandleFunc("/receiver/v1/http/{token}", rc.ServeHTTP)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	httperr.Write(w, status, code, msg)
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := rc.cfg.Metrics
	if origin := r.Header.Get("Origin"); origin != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Vary", "Origin")
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, X-Sumo-Token, X-Sumo-Category, X-Sumo-Name, X-Sumo-Host, X-Sumo-Fields")
		h.Set("Access-Control-Max-Age", "600")
	}
	switch r.Method {
	case http.MethodPost:
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		m.rejected("method")
		writeError(w, http.StatusMethodNotAllowed, "method.unsupported", fmt.Sprintf("method %s is not supported; send logs with POST", r.Method))
		return
	}
	token := r.PathValue("token")
	if token == "" {
		token = r.Header.Get("X-Sumo-Token")
	}
	src, ok := rc.sources.SourceByToken(token)
	if !ok {
		m.rejected("unauthorized")
		msg := "unknown or revoked source token"
		if token == "" {
			msg = "no source token: put it at the end of the URL or in the X-Sumo-Token header"
		}
		writeError(w, http.StatusUnauthorized, "unauthorized", msg)
		return
	}
	if rc.closing.Load() {
		m.rejected("shutting_down")
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "service.unavailable", "the server is shutting down; retry")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil && strings.HasPrefix(mt, "application/vnd.sumologic.") {
			m.rejected("metrics")
			writeError(w, http.StatusUnsupportedMediaType, "contenttype.invalid", fmt.Sprintf("metrics payloads (%s) are not supported yet; send logs", mt))
			return
		}
	}
	if rc.admit != nil {
		if ref := rc.admit(); ref != nil {
			rc.refuse(w, ref)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), rc.cfg.RequestTimeout)
	defer cancel()

	status, code, msg := rc.ingest(ctx, r, src)
	if status != http.StatusOK {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, status, code, msg)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (rc *Receiver) refuse(w http.ResponseWriter, ref *Refusal) {
	rc.cfg.Metrics.rejected(ref.Reason)
	secs := int(ref.RetryAfter.Round(time.Second) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeError(w, http.StatusTooManyRequests, "rate.limit.exceeded", ref.Message)
}

// charge is one request's share of the receiver's in-flight budget
// (Config.MaxInflightBytes).
type charge struct {
	rc *Receiver
	n  int64
}

var errBudget = errors.New("in-flight budget exhausted")

// add takes delta more bytes (gives them back when negative); it fails with
// errBudget, taking nothing, when that would put the receiver over its
// budget.
func (c *charge) add(delta int64) error {
	if c.rc.inflight.Add(delta) > c.rc.cfg.MaxInflightBytes && delta > 0 {
		c.rc.inflight.Add(-delta)
		return errBudget
	}
	c.n += delta
	return nil
}

// release gives back everything taken.
func (c *charge) release() {
	c.rc.inflight.Add(-c.n)
	c.n = 0
}

// budgetReader charges every byte read from the client.
type budgetReader struct {
	r   io.Reader
	mem *charge
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		if err := b.mem.add(int64(n)); err != nil {
			return 0, err
		}
	}
	return n, err
}

// ingest reads, parses and stores one request; it returns the status to
// answer with.
func (rc *Receiver) ingest(ctx context.Context, r *http.Request, src *catalog.Source) (int, string, string) {
	m := rc.cfg.Metrics
	receipt := time.Now()
	lim := rc.cfg.Limits
	if r.ContentLength > lim.MaxBodyBytes {
		m.rejected("too_large")
		return http.StatusRequestEntityTooLarge, "payload.too.large",
			fmt.Sprintf("request body is %d bytes, over the limit of %d bytes", r.ContentLength, lim.MaxBodyBytes)
	}
	// The request's memory is charged against the in-flight budget as it
	// is taken: the bytes read from the client as they arrive, the decoded
	// body chunk by chunk, then the parsed events and their WAL encoding.
	// The wire bytes are released once decoded (garbage by then), the rest
	// when the request is done.
	mem := &charge{rc: rc}
	defer mem.release()
	br := &budgetReader{r: r.Body, mem: &charge{rc: rc}}
	body, err := ingest.ReadBodyCharged(br, r.Header.Get("Content-Encoding"), lim, mem.add)
	br.mem.release()
	if err != nil {
		return rc.bodyError(err)
	}

	b, err := rc.batch(r, src, receipt)
	if err != nil {
		m.rejected("bad_header")
		return http.StatusBadRequest, "bad.request", err.Error()
	}
	opt, err := rc.parseOptions(src, receipt)
	if err != nil {
		m.rejected("bad_source")
		return http.StatusInternalServerError, "internal.error", err.Error()
	}
	events, stats, err := ingest.Parse(body, opt, lim)
	if err != nil {
		return rc.bodyError(err)
	}
	if len(events) == 0 {
		return http.StatusOK, "", ""
	}
	b.Events = events
	parsed := batchMemory(b)
	n := b.EncodedSize()
	if err := mem.add(parsed + int64(n)); err != nil {
		return rc.bodyError(err)
	}
	buf := payloadPool.Get().(*[]byte)
	payload := (*buf)[:0]
	if cap(payload) < n {
		// With room to spare: the next batch, a little larger, then
		// reuses the buffer instead of allocating its own.
		payload = make([]byte, 0, n+n/4)
	}
	payload = b.AppendBinary(payload)
	if ba, ok := rc.wal.(BatchAppender); ok {
		// What the handoff keeps: the parsed batch, whose text is
		// about as large as its encoding.
		_, err = ba.AppendWith(ctx, payload, b, parsed+int64(len(payload)))
	} else {
		_, err = rc.wal.Append(ctx, payload)
	}
	// The WAL has copied the payload, whatever the outcome.
	if cap(payload) <= maxPooledPayload {
		*buf = payload[:0]
		payloadPool.Put(buf)
	}
	if err != nil {
		m.rejected("wal_error")
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return http.StatusRequestTimeout, "request.timeout", "the request could not be stored in time; retry"
		}
		rc.cfg.Logger.Error("cannot write batch to the WAL", "source", src.ID, "err", err)
		return http.StatusServiceUnavailable, "service.unavailable", "cannot store data right now; retry"
	}
	m.accepted(src, len(events), b.RawBytes(), stats)
	return http.StatusOK, "", ""
}

// batchMemory estimates the memory a parsed batch holds besides its text:
// every event's field names (the encoding has each name once per batch, the
// parsed events once per event) and the event and field structs.
func batchMemory(b *event.Batch) int64 {
	n := int64(len(b.Events)) * int64(unsafe.Sizeof(event.Event{}))
	for i := range b.Events {
		for _, f := range b.Events[i].Fields {
			n += int64(unsafe.Sizeof(f)) + int64(len(f.Name))
		}
	}
	return n
}

// payloadPool keeps the buffers batches are encoded into for the WAL, which
// copies them: a request then does not allocate (and clear) one per batch.
var payloadPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledPayload = 32 << 20

func (rc *Receiver) bodyError(err error) (int, string, string) {
	m := rc.cfg.Metrics
	if errors.Is(err, errBudget) {
		m.rejected("memory")
		return http.StatusTooManyRequests, "rate.limit.exceeded", "too much data in flight on this server; retry"
	}
	var ie *ingest.Error
	if errors.As(err, &ie) {
		switch ie.Status {
		case http.StatusRequestEntityTooLarge:
			m.rejected("too_large")
			return ie.Status, "payload.too.large", ie.Msg
		case http.StatusUnsupportedMediaType:
			m.rejected("bad_encoding")
			return ie.Status, "contentencoding.invalid", ie.Msg
		default:
			m.rejected("malformed")
			return ie.Status, "bad.request", ie.Msg
		}
	}
	m.rejected("read_error")
	return http.StatusBadRequest, "bad.request", fmt.Sprintf("cannot read request body: %v", err)
}

// batch builds the batch metadata: the source's settings, overridden by the
// X-Sumo-* headers.
func (rc *Receiver) batch(r *http.Request, src *catalog.Source, receipt time.Time) (*event.Batch, error) {
	b := &event.Batch{
		Tenant:      src.Tenant,
		ReceiptTime: receipt.UnixNano(),
		Source: event.Source{
			ID: src.ID, Name: src.Name, Category: src.Category, Host: src.Host, Collector: rc.cfg.Collector,
		},
	}
	if v := r.Header.Get("X-Sumo-Category"); v != "" {
		b.Source.Category = truncate(v, catalog.MaxCategoryLen)
	}
	if v := r.Header.Get("X-Sumo-Host"); v != "" {
		b.Source.Host = truncate(v, catalog.MaxHostLen)
	}
	if v := r.Header.Get("X-Sumo-Name"); v != "" {
		b.Source.FileName = truncate(v, catalog.MaxCategoryLen)
	}
	fields := make(map[string]string, len(src.Fields))
	for k, v := range src.Fields {
		fields[k] = v
	}
	if h := r.Header.Get("X-Sumo-Fields"); h != "" {
		for i, kv := range strings.Split(h, ",") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("X-Sumo-Fields: item %d (%q) is not key=value", i+1, kv)
			}
			name, err := catalog.CheckFieldName(strings.TrimSpace(k))
			if err != nil {
				return nil, fmt.Errorf("X-Sumo-Fields: item %d: %w", i+1, err)
			}
			fields[name] = truncate(strings.TrimSpace(v), catalog.MaxFieldValueLen)
		}
		if len(fields) > catalog.MaxSourceFields*2 {
			return nil, fmt.Errorf("X-Sumo-Fields: %d fields, more than the limit of %d", len(fields), catalog.MaxSourceFields*2)
		}
	}
	for k, v := range fields {
		b.Fields = append(b.Fields, event.Field{Name: k, Value: v})
	}
	return b, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }

func (rc *Receiver) parseOptions(src *catalog.Source, receipt time.Time) (ingest.Options, error) {
	opt := ingest.Options{
		ReceiptTime:   receipt,
		JSONMaxDepth:  rc.cfg.JSONMaxDepth,
		JSONMaxFields: rc.cfg.JSONMaxFields,
		// The body was read for this request alone and is not touched
		// after Parse: the events may point into it.
		KeepBody: true,
	}
	loc, err := time.LoadLocation(src.TimeZone)
	if err != nil {
		return opt, fmt.Errorf("source %s: time zone %q: %w", src.ID, src.TimeZone, err)
	}
	opt.TimeZone = loc
	switch ml := src.Multiline; {
	case ml == "" || ml == "auto":
		opt.Multiline = ingest.MultilineAuto
	case ml == "off":
		opt.Multiline = ingest.MultilineOff
	case ml == "one-per-request":
		opt.Multiline = ingest.MultilineOnePerRequest
	case strings.HasPrefix(ml, "regex:"):
		re, err := rc.boundary(strings.TrimPrefix(ml, "regex:"))
		if err != nil {
			return opt, fmt.Errorf("source %s: multiline boundary: %w", src.ID, err)
		}
		opt.Multiline, opt.Boundary = ingest.MultilineRegex, re
	default:
		return opt, fmt.Errorf("source %s: unknown multiline setting %q", src.ID, ml)
	}
	return opt, nil
}

// boundary compiles (once) a source's multiline boundary regexp, anchored to
// match whole lines.
func (rc *Receiver) boundary(expr string) (*regexp.Regexp, error) {
	rc.reMu.Lock()
	defer rc.reMu.Unlock()
	if re, ok := rc.reCache[expr]; ok {
		return re, nil
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, err
	}
	if len(rc.reCache) > 1000 {
		clear(rc.reCache)
	}
	rc.reCache[expr] = re
	return re, nil
}
