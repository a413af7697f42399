package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Uploader defaults.
const (
	DefaultBatchBytes     = 1 << 20 // uncompressed bytes per request
	DefaultConcurrency    = 2
	DefaultMaxAttempts    = 8
	DefaultMinBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultMaxRetryAfter  = 5 * time.Minute
	DefaultRequestTimeout = time.Minute
)

// UploaderConfig configures an Uploader. Only URL is required.
type UploaderConfig struct {
	// URL is the receiver URL of an HTTP source, normally with the token as
	// its last path segment (.../receiver/v1/http/<token>).
	URL string
	// Token, when set, is sent in the X-Sumo-Token header (for a URL
	// without the token).
	Token string

	// Metadata headers: X-Sumo-Category, X-Sumo-Name, X-Sumo-Host and
	// X-Sumo-Fields (k=v,...). Empty values are not sent, so the source's
	// own settings apply.
	Category, Name, Host string
	Fields               map[string]string

	// BatchBytes is the uncompressed size budget of one request (default
	// 1 MiB). An event is never split: an event larger than the budget is
	// sent alone.
	BatchBytes int
	// Concurrency is the number of requests in flight (default 2).
	Concurrency int
	// MaxAttempts bounds the attempts per batch (default 8); after that the
	// Uploader gives up and every later call returns the error.
	MaxAttempts int
	// NoGzip sends bodies uncompressed (default: gzip).
	NoGzip bool
	// FlushInterval, when positive, sends a partly filled batch once its
	// first event is that old (for live streams); otherwise batches go when
	// full or on Flush/Close.
	FlushInterval time.Duration

	// Back-off between attempts: exponential from MinBackoff (default
	// 500 ms) to MaxBackoff (default 30 s) with jitter. A 429 or 503
	// Retry-After is honoured as a lower bound, capped at MaxRetryAfter
	// (default 5 min).
	MinBackoff, MaxBackoff, MaxRetryAfter time.Duration
	// RequestTimeout bounds one attempt (default 1 min).
	RequestTimeout time.Duration

	// HTTPClient sends the requests (default: a client with its own
	// connection pool).
	HTTPClient *http.Client
	UserAgent  string

	// OnRejected, when set, is called (from a sending goroutine) for each
	// batch the server refused.
	OnRejected func(Rejection)
	// OnRetry, when set, is called (from a sending goroutine) before each
	// back-off sleep.
	OnRetry func(Retry)

	// Sleep waits between attempts (tests inject a fake); default: a timer
	// that stops when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1) (tests inject a constant); default
	// math/rand/v2.
	Jitter func() float64
}

// Rejection is a batch the server refused with a non-retryable answer
// (a 4xx other than 408 and 429).
type Rejection struct {
	Status  int    // HTTP status
	Code    string // the server's error code, e.g. "payload.too.large"
	Message string // the server's message
	Events  int    // events in the batch
	Bytes   int    // uncompressed size of the batch
	Sample  string // the start of the batch's first event
}

// Reason is the status, code and message as one line.
func (r Rejection) Reason() string {
	s := strconv.Itoa(r.Status) + " " + http.StatusText(r.Status)
	if r.Code != "" {
		s += " (" + r.Code + ")"
	}
	if r.Message != "" {
		s += ": " + r.Message
	}
	return s
}

// Retry describes a failed attempt that will be retried.
type Retry struct {
	Attempt int           // the attempt that failed, from 1
	Delay   time.Duration // the wait before the next attempt
	Reason  string        // what went wrong
	Events  int           // events in the batch
}

// Stats are the Uploader's counters.
type Stats struct {
	Added     int64 // events accepted by Add
	Events    int64 // events delivered (acknowledged with 2xx)
	Bytes     int64 // uncompressed bytes delivered
	WireBytes int64 // bytes sent on the wire (compressed, retries included)
	Batches   int64 // batches delivered
	Requests  int64 // HTTP requests sent, retries included
	Retries   int64 // attempts retried after 429, 408, 5xx or connection errors
	// Rejected and RejectedEvents count batches the server refused.
	Rejected       int64
	RejectedEvents int64
	// FailedEvents were in batches given up on (attempts exhausted or the
	// upload aborted).
	FailedEvents int64
}

// Pending is the number of accepted events not yet delivered, rejected or
// given up on.
func (s Stats) Pending() int64 { return s.Added - s.Events - s.RejectedEvents - s.FailedEvents }

// ErrUploaderClosed is returned by Add after Close.
var ErrUploaderClosed = errors.New("uploader is closed")

// Uploader sends events to an HTTP source receiver in batches: newline
// separated, gzip-compressed, several requests in flight, retried on
// back-pressure and transient errors. Delivery is at least once: a batch
// whose answer is lost is sent again as a whole. Add, Flush, Close and Stats
// are safe for concurrent use.
type Uploader struct {
	cfg      UploaderConfig
	target   string // URL for error messages, token masked
	headers  http.Header
	maxReady int

	ctx    context.Context // cancelled to abort in-flight requests
	cancel context.CancelFunc
	wg     sync.WaitGroup
	tick   *time.Ticker
	done   chan struct{} // closed by Close: stops the ticker

	mu          sync.Mutex
	cond        *sync.Cond // ready/inflight/closed/fatal changed
	cur         *batch
	ready       []*batch
	inflight    int
	closing     bool
	closed      bool
	fatal       error
	rejections  []Rejection
	closeResult error

	added, events, bytes, wire, batches, requests, retries atomic.Int64
	rejected, rejectedEvents, failedEvents                 atomic.Int64
}

type batch struct {
	buf     bytes.Buffer
	n       int
	started time.Time
}

// NewUploader starts an Uploader. Call Close to send what is left and stop
// its goroutines.
func NewUploader(cfg UploaderConfig) (*Uploader, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("receiver URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("receiver URL %q: want an absolute http(s) URL such as http://127.0.0.1:9300/receiver/v1/http/<token>", MaskURL(cfg.URL))
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = DefaultBatchBytes
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Concurrency + 1
		cfg.HTTPClient = &http.Client{Transport: tr}
	}
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if cfg.UserAgent != "" {
		h.Set("User-Agent", cfg.UserAgent)
	} else {
		h.Set("User-Agent", "dohyo-uploader")
	}
	if cfg.Token != "" {
		h.Set("X-Sumo-Token", cfg.Token)
	}
	if cfg.Category != "" {
		h.Set("X-Sumo-Category", cfg.Category)
	}
	if cfg.Name != "" {
		h.Set("X-Sumo-Name", cfg.Name)
	}
	if cfg.Host != "" {
		h.Set("X-Sumo-Host", cfg.Host)
	}
	if len(cfg.Fields) > 0 {
		h.Set("X-Sumo-Fields", FormatFields(cfg.Fields))
	}
	if !cfg.NoGzip {
		h.Set("Content-Encoding", "gzip")
	}
	up := &Uploader{
		cfg:      cfg,
		target:   MaskURL(cfg.URL),
		headers:  h,
		maxReady: cfg.Concurrency,
		cur:      &batch{},
		done:     make(chan struct{}),
	}
	up.cond = sync.NewCond(&up.mu)
	up.ctx, up.cancel = context.WithCancel(context.Background())
	for i := 0; i < cfg.Concurrency; i++ {
		up.wg.Add(1)
		go up.worker()
	}
	if cfg.FlushInterval > 0 {
		up.tick = time.NewTicker(max(cfg.FlushInterval/4, 10*time.Millisecond))
		up.wg.Add(1)
		go up.ticker()
	}
	return up, nil
}

// MaskURL hides the secret token of a receiver URL for messages and logs.
func MaskURL(raw string) string {
	const marker = "/receiver/v1/http/"
	i := strings.Index(raw, marker)
	if i < 0 {
		return raw
	}
	tok := raw[i+len(marker):]
	if j := strings.IndexAny(tok, "/?#"); j >= 0 {
		tok = tok[:j]
	}
	shown := tok
	if len(shown) > 6 {
		shown = shown[:6]
	}
	return raw[:i+len(marker)] + shown + "…"
}

// Add queues one event. The event may hold newlines (a stack trace); it is
// never split across requests. One trailing newline is dropped and empty
// events are skipped. Add copies event, so the caller may reuse its buffer.
// It blocks while enough batches wait for sending (back-pressure) and
// returns the Uploader's fatal error once it has given up.
func (u *Uploader) Add(ctx context.Context, event []byte) error {
	event = bytes.TrimSuffix(event, []byte{'\n'})
	event = bytes.TrimSuffix(event, []byte{'\r'})
	if len(event) == 0 {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		if u.fatal != nil {
			return u.fatal
		}
		if u.closing || u.closed {
			return ErrUploaderClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(u.ready) < u.maxReady {
			break
		}
		if stop == nil {
			stop = context.AfterFunc(ctx, u.wake)
		}
		u.cond.Wait()
	}
	if u.cur.n > 0 && u.cur.buf.Len()+len(event)+1 > u.cfg.BatchBytes {
		u.sealLocked()
	}
	if u.cur.n == 0 {
		u.cur.started = time.Now()
	}
	u.cur.buf.Write(event)
	u.cur.buf.WriteByte('\n')
	u.cur.n++
	u.added.Add(1)
	if u.cur.buf.Len() >= u.cfg.BatchBytes {
		u.sealLocked()
	}
	return nil
}

// AddString is Add for a string.
func (u *Uploader) AddString(ctx context.Context, event string) error {
	return u.Add(ctx, []byte(event))
}

func (u *Uploader) wake() {
	u.mu.Lock()
	u.cond.Broadcast()
	u.mu.Unlock()
}

// sealLocked moves the current batch to the send queue.
func (u *Uploader) sealLocked() {
	if u.cur.n == 0 {
		return
	}
	u.ready = append(u.ready, u.cur)
	u.cur = &batch{}
	u.cond.Broadcast()
}

// Flush sends the current batch and waits until every batch added so far
// has been delivered, rejected or given up on. It returns the fatal error,
// if any, or ctx's error when ctx ends first (sending goes on).
func (u *Uploader) Flush(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.sealLocked()
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		if u.fatal != nil {
			return u.fatal
		}
		if len(u.ready) == 0 && u.inflight == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("flush to %s: %d batches not sent yet: %w", u.target, len(u.ready)+u.inflight, err)
		}
		if stop == nil {
			stop = context.AfterFunc(ctx, u.wake)
		}
		u.cond.Wait()
	}
}

// Close sends what is left, waits for it, and stops the Uploader. If ctx
// ends first, requests in flight are aborted and their events counted as
// failed. Close returns the fatal error, if any; calling it again returns
// the same result.
func (u *Uploader) Close(ctx context.Context) error {
	u.mu.Lock()
	if u.closed {
		err := u.closeResult
		u.mu.Unlock()
		return err
	}
	u.closing = true
	u.mu.Unlock()

	err := u.Flush(ctx)
	if err != nil {
		// Out of time, or given up: abort the requests still in flight.
		u.cancel()
	}
	u.mu.Lock()
	u.closed = true
	// Batches never sent (abort or fatal error) count as failed.
	for _, b := range u.ready {
		u.failedEvents.Add(int64(b.n))
	}
	u.ready = nil
	if u.cur.n > 0 {
		u.failedEvents.Add(int64(u.cur.n))
		u.cur = &batch{}
	}
	u.cond.Broadcast()
	u.mu.Unlock()
	if u.tick != nil {
		u.tick.Stop()
	}
	close(u.done)
	u.wg.Wait()
	u.cancel()
	u.mu.Lock()
	u.closeResult = err
	u.mu.Unlock()
	return err
}

// Err returns the fatal error once the Uploader has given up, else nil.
func (u *Uploader) Err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.fatal
}

// Stats returns a snapshot of the counters.
func (u *Uploader) Stats() Stats {
	return Stats{
		Added:          u.added.Load(),
		Events:         u.events.Load(),
		Bytes:          u.bytes.Load(),
		WireBytes:      u.wire.Load(),
		Batches:        u.batches.Load(),
		Requests:       u.requests.Load(),
		Retries:        u.retries.Load(),
		Rejected:       u.rejected.Load(),
		RejectedEvents: u.rejectedEvents.Load(),
		FailedEvents:   u.failedEvents.Load(),
	}
}

// Rejections returns the batches the server refused so far.
func (u *Uploader) Rejections() []Rejection {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Rejection(nil), u.rejections...)
}

func (u *Uploader) ticker() {
	defer u.wg.Done()
	for {
		select {
		case <-u.done:
			return
		case now := <-u.tick.C:
			u.mu.Lock()
			if u.closed {
				u.mu.Unlock()
				return
			}
			if u.cur.n > 0 && now.Sub(u.cur.started) >= u.cfg.FlushInterval && len(u.ready) < u.maxReady {
				u.sealLocked()
			}
			u.mu.Unlock()
		}
	}
}

func (u *Uploader) worker() {
	defer u.wg.Done()
	for {
		u.mu.Lock()
		for len(u.ready) == 0 && !u.closed {
			u.cond.Wait()
		}
		if len(u.ready) == 0 {
			u.mu.Unlock()
			return
		}
		b := u.ready[0]
		u.ready[0] = nil
		u.ready = u.ready[1:]
		u.inflight++
		u.cond.Broadcast()
		u.mu.Unlock()

		u.send(b)

		u.mu.Lock()
		u.inflight--
		u.cond.Broadcast()
		u.mu.Unlock()
	}
}

// setFatal records the error that stops the Uploader and drops the batches
// still queued (counted as failed).
func (u *Uploader) setFatal(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.fatal == nil {
		u.fatal = err
	}
	for _, b := range u.ready {
		u.failedEvents.Add(int64(b.n))
	}
	u.ready = nil
	u.cond.Broadcast()
}

var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

func gzipBytes(raw []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(raw)/4 + 64)
	zw := gzipPool.Get().(*gzip.Writer)
	defer gzipPool.Put(zw)
	zw.Reset(&out)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// attemptResult is the outcome of one POST.
type attemptResult struct {
	status     int
	retryAfter time.Duration // from the Retry-After header, 0 when absent
	apiErr     *APIError     // parsed error body of a non-2xx answer
	err        error         // transport error
}

func (u *Uploader) send(b *batch) {
	raw := b.buf.Bytes()
	body := raw
	if !u.cfg.NoGzip {
		z, err := gzipBytes(raw)
		if err != nil {
			u.failedEvents.Add(int64(b.n))
			u.setFatal(fmt.Errorf("upload to %s: gzip a batch of %d events: %w", u.target, b.n, err))
			return
		}
		body = z
	}
	for attempt := 1; ; attempt++ {
		if u.ctx.Err() != nil {
			u.failedEvents.Add(int64(b.n))
			return
		}
		r := u.post(body)
		switch {
		case r.err == nil && r.status >= 200 && r.status < 300:
			u.events.Add(int64(b.n))
			u.bytes.Add(int64(len(raw)))
			u.batches.Add(1)
			return
		case r.err == nil && !retryable(r.status):
			u.reject(b, r)
			return
		}
		if u.ctx.Err() != nil { // aborted by Close: not the server's fault
			u.failedEvents.Add(int64(b.n))
			return
		}
		reason := r.describe()
		if u.Err() != nil {
			// Another batch made the Uploader give up: do not insist.
			u.failedEvents.Add(int64(b.n))
			return
		}
		if attempt >= u.cfg.MaxAttempts {
			u.failedEvents.Add(int64(b.n))
			u.setFatal(fmt.Errorf("upload to %s: gave up on a batch of %d events (%d bytes) after %d attempts; last error: %s", u.target, b.n, len(raw), attempt, reason))
			return
		}
		delay := u.backoff(attempt, r)
		u.retries.Add(1)
		if u.cfg.OnRetry != nil {
			u.cfg.OnRetry(Retry{Attempt: attempt, Delay: delay, Reason: reason, Events: b.n})
		}
		if err := u.cfg.Sleep(u.ctx, delay); err != nil {
			u.failedEvents.Add(int64(b.n))
			return
		}
	}
}

// retryable reports whether an answer is worth sending the batch again.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
}

func (r attemptResult) describe() string {
	if r.err != nil {
		return r.err.Error()
	}
	if r.apiErr != nil {
		return r.apiErr.Error()
	}
	return strconv.Itoa(r.status) + " " + http.StatusText(r.status)
}

// backoff is the wait before attempt+1: exponential with jitter in
// [d/2, d), and never less than the server's Retry-After.
func (u *Uploader) backoff(attempt int, r attemptResult) time.Duration {
	d := u.cfg.MinBackoff
	for i := 1; i < attempt && d < u.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, u.cfg.MaxBackoff)
	d = d/2 + time.Duration(u.cfg.Jitter()*float64(d/2))
	if r.retryAfter > 0 {
		ra := min(r.retryAfter, u.cfg.MaxRetryAfter)
		// A little jitter on top so that many clients told the same
		// Retry-After do not come back at the same instant.
		ra += time.Duration(u.cfg.Jitter() * float64(ra/10))
		d = max(d, ra)
	}
	return d
}

func (u *Uploader) reject(b *batch, r attemptResult) {
	rej := Rejection{Status: r.status, Events: b.n, Bytes: b.buf.Len()}
	if r.apiErr != nil {
		rej.Code, rej.Message = r.apiErr.Code, r.apiErr.Message
	}
	first, _, _ := bytes.Cut(b.buf.Bytes(), []byte{'\n'})
	if len(first) > 80 {
		first = append(first[:80:80], "..."...)
	}
	rej.Sample = string(first)
	u.rejected.Add(1)
	u.rejectedEvents.Add(int64(b.n))
	u.mu.Lock()
	u.rejections = append(u.rejections, rej)
	u.mu.Unlock()
	if u.cfg.OnRejected != nil {
		u.cfg.OnRejected(rej)
	}
	switch r.status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		// Every later batch would meet the same answer: stop.
		u.setFatal(fmt.Errorf("upload to %s: %s; the source may have been deleted or its token regenerated", u.target, rej.Reason()))
	}
}

func (u *Uploader) post(body []byte) attemptResult {
	ctx, cancel := context.WithTimeout(u.ctx, u.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return attemptResult{err: err}
	}
	for k, v := range u.headers {
		req.Header[k] = v
	}
	u.requests.Add(1)
	u.wire.Add(int64(len(body)))
	resp, err := u.cfg.HTTPClient.Do(req)
	if err != nil {
		// The URL in a *url.Error holds the token: report the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s %s: %w", ue.Op, u.target, ue.Err)
		}
		return attemptResult{err: err}
	}
	defer resp.Body.Close()
	res := attemptResult{status: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return res
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res.apiErr = parseErrorBody(resp.StatusCode, data)
	res.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return res
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
