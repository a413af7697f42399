package search

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohyo/dohyo/query"
)

// Job is one running or finished search: a job of the search job API, or a
// streamed search (Manager.Stream).
type Job struct {
	ID string

	owner   string
	req     Request
	plan    *query.Plan
	cancel  context.CancelFunc
	created time.Time
	m       *Manager
	// stream marks a streamed search: not addressable by id, not expired.
	stream bool
	// maxMessages is how many messages a non-aggregate search gathers;
	// clientLimit says it is the client's limit (reaching it is normal)
	// rather than the server's cap (reaching it force-pauses the job).
	maxMessages int
	clientLimit bool
	// limit is the stream's limit (0: none), which also caps records sent.
	limit int
	// env is the query's execution environment (Manager.envFor).
	env *query.Env

	changed chan struct{} // holds a token when something changed
	done    chan struct{} // closed once the job stopped gathering

	// scanned is the executor's progress (query.ExecOptions.Progress).
	scanned atomic.Int64

	mu                sync.Mutex
	state             string
	touched           time.Time
	started, finished time.Time
	messages          []query.Row
	messageBytes      int64
	matched           int64 // input messages, for aggregate jobs
	recFields         []query.FieldInfo
	records           []query.Row
	histogram         []HistogramBucket
	histTotal         int64 // sum of histogram
	histSent          int
	errs              []Problem
	warns             []string
	errsSent          int
	warnsSent         int
	userCancel        bool
	shutdown          bool

	// sum is the field summary of the messages, folded in on demand.
	sumMu sync.Mutex
	sum   *summarizer
}

// Problem codes of errors a running search reports.
const (
	// CodeTimeout: the search ran out of its time budget.
	CodeTimeout = "searchjob.timeout"
	// CodeTooManyGroups: an aggregate exceeded the group limit.
	CodeTooManyGroups = "searchjob.too.many.groups"
	// CodeFailed: the search failed otherwise.
	CodeFailed = "searchjob.failed"
	// CodeShutdown: the server shut down while the search ran.
	CodeShutdown = "service.unavailable"
)

// Problem is an error a search ran into while running.
type Problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// HistogramBucket is a count of messages in [Start, Start+Length).
type HistogramBucket struct {
	StartTimestamp int64 `json:"startTimestamp"`
	Length         int64 `json:"length"`
	Count          int64 `json:"count"`
}

// Status is what a poll returns. Histogram buckets, errors and warnings are
// incremental: each is returned by one poll only.
//
// While the job runs, MessageCount grows: for a non-aggregate query it is
// the number of messages gathered so far (they arrive newest first, time
// window by time window); for an aggregate query it is the number of input
// messages counted so far (by the Go operators as they read the engine's
// blocks, or by the histogram, which fills in newest window first, when the
// engine computes the aggregate). RecordCount is set when the records are.
type Status struct {
	State            string            `json:"state"`
	MessageCount     int64             `json:"messageCount"`
	RecordCount      int64             `json:"recordCount"`
	HistogramBuckets []HistogramBucket `json:"histogramBuckets"`
	PendingErrors    []string          `json:"pendingErrors"`
	PendingWarnings  []string          `json:"pendingWarnings"`
}

func newJobID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

func (j *Job) touch() {
	j.mu.Lock()
	j.touched = time.Now()
	j.mu.Unlock()
}

func (j *Job) lastTouched() time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.touched
}

func (j *Job) cancelByUser() {
	j.mu.Lock()
	j.userCancel = true
	j.mu.Unlock()
	j.cancel()
}

func (j *Job) cancelShutdown() {
	j.mu.Lock()
	j.shutdown = true
	j.mu.Unlock()
	j.cancel()
}

// Cancel stops the search; its state becomes CANCELLED.
func (j *Job) Cancel() { j.cancelByUser() }

// notify signals Changed without blocking.
func (j *Job) notify() {
	select {
	case j.changed <- struct{}{}:
	default:
	}
}

// Changed delivers a token after the job changed (new messages, histogram
// buckets, progress, state); several changes may share one token.
func (j *Job) Changed() <-chan struct{} { return j.changed }

// Done is closed once the job stopped gathering (any final state).
func (j *Job) Done() <-chan struct{} { return j.done }

// IsAggregate reports whether the job's query produces records.
func (j *Job) IsAggregate() bool { return j.plan.IsAggregate() }

// Info describes a job's query and limits.
type Info struct {
	// Query is the query in canonical form.
	Query     string
	Aggregate bool
	// Explain is the plan (query.Plan.Explain).
	Explain string
	// Fields are the record fields of an aggregate query (empty otherwise).
	Fields []Field
	// HistogramStep is the width of the histogram buckets.
	HistogramStep time.Duration
	// MaxMessages is how many messages a non-aggregate search gathers.
	MaxMessages int
	// TimeBudget is the search's time budget (Config.MaxRuntime).
	TimeBudget time.Duration
}

// Info describes the job's query and limits.
func (j *Job) Info() Info {
	in := Info{
		Query:         j.plan.Query().String(),
		Aggregate:     j.plan.IsAggregate(),
		Explain:       j.plan.Explain(),
		HistogramStep: HistogramStep(j.req.To.Sub(j.req.From)),
		MaxMessages:   j.maxMessages,
		TimeBudget:    j.m.cfg.MaxRuntime,
	}
	if in.Aggregate {
		in.Fields = recordFields(j.plan.OutputFields())
	}
	return in
}

// Elapsed is how long the job ran (so far), not counting its wait for a
// slot.
func (j *Job) Elapsed() time.Duration {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.started.IsZero():
		return 0
	case j.finished.IsZero():
		return time.Since(j.started)
	}
	return j.finished.Sub(j.started)
}

func (j *Job) run(ctx context.Context) {
	defer func() {
		j.cancel()
		if j.stream {
			j.m.forget(j)
		}
		close(j.done)
		j.notify()
	}()
	ms := j.m.cfg.Metrics
	if !j.m.acquire(ctx) {
		j.mu.Lock()
		j.state = StateCancelled
		if j.shutdown {
			j.errs = append(j.errs, Problem{CodeShutdown, "the server is shutting down; the search was cancelled"})
		}
		j.mu.Unlock()
		ms.GetOrCreateCounter(`dohyo_search_jobs_finished_total{status="cancelled"}`).Inc()
		return
	}
	defer j.m.release()
	rctx, rcancel := context.WithTimeout(ctx, j.m.cfg.MaxRuntime)
	defer rcancel()

	start := time.Now()
	j.mu.Lock()
	j.state = StateGathering
	j.started = start
	j.mu.Unlock()
	j.notify()
	opt := query.ExecOptions{
		Range:       query.Range{Start: j.req.From, End: j.req.To},
		MaxMessages: j.maxMessages,
		Location:    j.req.Location,
		Now:         start,
		Env:         j.env,
		// The histogram counts every match; the job keeps what it shows.
		SkipMatchCount: true,
		Progress: func(n int64) {
			j.scanned.Store(n)
			j.notify()
		},
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		j.runHistogram(rctx, opt)
	}()
	stats, err := j.plan.Execute(rctx, j.m.store, opt, (*jobSink)(j))
	wg.Wait()

	j.mu.Lock()
	defer j.mu.Unlock()
	j.matched = stats.MessagesMatched
	j.finished = time.Now()
	status := "ok"
	overBudget := errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	switch {
	case j.userCancel || ctx.Err() != nil:
		j.state = StateCancelled
		status = "cancelled"
		if j.shutdown {
			j.errs = append(j.errs, Problem{CodeShutdown, "the server is shutting down; the search was cancelled and its results are partial"})
		}
	case errors.Is(err, errJobFull):
		j.state = StateForcePaused
		j.warns = append(j.warns, fmt.Sprintf("the search stopped after %d messages (%d MiB); narrow the time range or the query", len(j.messages), j.messageBytes>>20))
	case overBudget:
		j.state = StateDone
		j.errs = append(j.errs, Problem{CodeTimeout, fmt.Sprintf("the search ran out of its time budget of %s; results are partial", j.m.cfg.MaxRuntime)})
		status = "timeout"
	case errors.Is(err, query.ErrTooManyGroups):
		j.state = StateDone
		j.errs = append(j.errs, Problem{CodeTooManyGroups, err.Error() + fmt.Sprintf(" (the server's group limit is %d)", j.m.cfg.MaxGroups)})
		status = "error"
	case err != nil:
		j.state = StateDone
		j.errs = append(j.errs, Problem{CodeFailed, err.Error()})
		status = "error"
		j.m.cfg.Logger.Warn("search job failed", "id", j.ID, "err", err)
	case !j.plan.IsAggregate() && !j.clientLimit && len(j.messages) >= j.maxMessages && j.histTotal > int64(len(j.messages)):
		j.state = StateForcePaused
		j.warns = append(j.warns, fmt.Sprintf("the search stopped after %d messages, the limit for non-aggregate searches; narrow the time range or add an aggregate", len(j.messages)))
	default:
		j.state = StateDone
	}
	ms.GetOrCreateCounter(fmt.Sprintf(`dohyo_search_jobs_finished_total{status=%q}`, status)).Inc()
	ms.GetOrCreateHistogram(`dohyo_search_job_duration_seconds`).Update(j.finished.Sub(start).Seconds())
}

var errJobFull = errors.New("job result limit reached")

// histogramFirstWindow is how many buckets the first (newest) histogram
// window holds; each next window is twice as large.
const histogramFirstWindow = 4

// runHistogram counts the matches per bucket, newest time window first, so
// that the histogram fills in progressively: windows of 4, 8, 16, ...
// buckets, each one engine query. Window edges are bucket edges, so every
// bucket is counted by one query, and every window uses the clock alignment
// of the whole range (the zone's offset at its start).
func (j *Job) runHistogram(ctx context.Context, opt query.ExecOptions) {
	from, to := j.req.From, j.req.To
	step := HistogramStep(to.Sub(from))
	_, zoneOff := from.In(opt.Location).Zone()
	opt.Location = time.FixedZone("", zoneOff)
	opt.Progress = nil
	// The windows are parts of one search: a drill-down into logreduce
	// signatures keeps the signatures of the whole range.
	opt.SearchRange = query.Range{Start: from, End: to}
	size := int64(step)
	off := (int64(zoneOff) * int64(time.Second)) % size
	if off < 0 {
		off += size
	}
	start, end := from.UnixNano(), to.UnixNano()
	n := int64(histogramFirstWindow)
	for hi := end; hi > start; n *= 2 {
		lo := max(bucketStart(hi-1, size, off)-(n-1)*size, start)
		opt.Range = query.Range{Start: time.Unix(0, lo), End: time.Unix(0, hi)}
		buckets, err := j.plan.Histogram(ctx, j.m.store, opt, step)
		if err != nil {
			if ctx.Err() == nil {
				j.mu.Lock()
				j.warns = append(j.warns, "histogram: "+err.Error())
				j.mu.Unlock()
			}
			return
		}
		j.mu.Lock()
		// Newest first, as Sumo's backwards scan delivers them.
		for i := len(buckets) - 1; i >= 0; i-- {
			b := buckets[i]
			j.histogram = append(j.histogram, HistogramBucket{StartTimestamp: b.Start.UnixMilli(), Length: step.Milliseconds(), Count: b.Count})
			j.histTotal += b.Count
		}
		j.mu.Unlock()
		j.notify()
		hi = lo
	}
}

// bucketStart is the start of the bucket of width size, shifted by off,
// holding ts (the rule of query.Plan.Histogram).
func bucketStart(ts, size, off int64) int64 {
	r := (ts + off) % size
	if r < 0 {
		r += size
	}
	return ts - r
}

// jobSink receives the plan's output.
type jobSink Job

func (s *jobSink) Messages(rows []query.Row) error {
	j := (*Job)(s)
	defer j.notify()
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, r := range rows {
		if len(j.messages) >= j.maxMessages {
			return errJobFull
		}
		for _, f := range r {
			j.messageBytes += int64(len(f.Name) + len(f.Value))
		}
		j.messages = append(j.messages, r)
		if j.messageBytes > j.m.cfg.MaxMessageBytes {
			return errJobFull
		}
	}
	return nil
}

func (s *jobSink) Records(fields []query.FieldInfo, rows []query.Row) error {
	j := (*Job)(s)
	defer j.notify()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recFields, j.records = fields, rows
	return nil
}

// messageCount is the job's message count (see Status). The caller holds
// j.mu.
func (j *Job) messageCount() int64 {
	if j.plan.IsAggregate() {
		return max(j.matched, j.scanned.Load(), j.histTotal)
	}
	return int64(len(j.messages))
}

// Status returns the job's state and whatever histogram buckets, errors and
// warnings the previous poll did not return.
func (j *Job) Status() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := Status{
		State:            j.state,
		MessageCount:     j.messageCount(),
		RecordCount:      int64(len(j.records)),
		HistogramBuckets: append([]HistogramBucket{}, j.histogram[j.histSent:]...),
		PendingErrors:    []string{},
		PendingWarnings:  append([]string{}, j.warns[j.warnsSent:]...),
	}
	for _, p := range j.errs[j.errsSent:] {
		st.PendingErrors = append(st.PendingErrors, p.Message)
	}
	j.histSent, j.errsSent, j.warnsSent = len(j.histogram), len(j.errs), len(j.warns)
	return st
}

// Cursor remembers what a reader of Updates has seen. The zero value
// starts at the beginning.
type Cursor struct {
	messages, buckets, errs, warns int
	records                        bool
}

// Update is what changed since a Cursor.
type Update struct {
	State   string
	Running bool
	// MessageCount and RecordCount are as in Status; HistogramCount is the
	// sum of all histogram buckets so far.
	MessageCount, RecordCount, HistogramCount int64
	// Buckets are the new histogram buckets, newest first.
	Buckets []HistogramBucket
	// Messages are the new messages, newest first, as in Messages.
	Messages []map[string]string
	Errors   []Problem
	Warnings []string
	// HasRecords is set once, when the job has finished with its records
	// (an aggregate query that did not fail): RecordFields and Records
	// (at most the stream's limit) hold them.
	HasRecords   bool
	RecordFields []Field
	Records      []map[string]string
	// Truncated says that the results go beyond what the job kept or the
	// stream sends: more matching messages than gathered, or more records
	// than the limit. Only meaningful once the job stopped running.
	Truncated bool
}

// Updates returns what changed since c and advances c. Messages are
// returned in batches of at most maxMessages (0: all); call again while
// Messages is full to get the rest.
func (j *Job) Updates(c *Cursor, maxMessages int) Update {
	j.mu.Lock()
	u := Update{
		State:          j.state,
		Running:        j.state == StateNotStarted || j.state == StateGathering,
		MessageCount:   j.messageCount(),
		RecordCount:    int64(len(j.records)),
		HistogramCount: j.histTotal,
		Buckets:        append([]HistogramBucket(nil), j.histogram[c.buckets:]...),
		Errors:         append([]Problem(nil), j.errs[c.errs:]...),
		Warnings:       append([]string(nil), j.warns[c.warns:]...),
	}
	c.buckets, c.errs, c.warns = len(j.histogram), len(j.errs), len(j.warns)
	hi := len(j.messages)
	if maxMessages > 0 {
		hi = min(hi, c.messages+maxMessages)
	}
	rows := j.messages[c.messages:hi]
	c.messages = hi
	var recs []query.Row
	var fields []query.FieldInfo
	if !u.Running && !c.records && j.recFields != nil {
		u.HasRecords, c.records = true, true
		recs, fields = j.records, j.recFields
	}
	if !u.Running {
		if j.plan.IsAggregate() {
			u.Truncated = j.limit > 0 && len(j.records) > j.limit
		} else {
			u.Truncated = j.histTotal > int64(len(j.messages))
		}
	}
	j.mu.Unlock()

	if len(rows) > 0 {
		u.Messages = make([]map[string]string, len(rows))
		for i, r := range rows {
			u.Messages[i] = apiRow(r)
		}
	}
	if u.HasRecords {
		if j.limit > 0 && len(recs) > j.limit {
			recs = recs[:j.limit]
		}
		u.RecordFields = recordFields(fields)
		u.Records = make([]map[string]string, len(recs))
		for i, r := range recs {
			u.Records[i] = apiRow(r)
		}
	}
	return u
}

// Field describes a result column.
type Field struct {
	Name      string `json:"name"`
	FieldType string `json:"fieldType"`
	KeyField  bool   `json:"keyField"`
}

// Page is a slice of messages or records, each a map of lower-cased field
// names to string values, as Sumo's API returns them.
type Page struct {
	Fields []Field
	Rows   []map[string]string
}

// standardTypes are the types of the built-in message fields.
var standardTypes = map[string]string{
	"_messagetime":  "long",
	"_receipttime":  "long",
	"_size":         "int",
	"_messagecount": "int",
}

// messageFieldType is the type of a message field (lower-cased name).
func messageFieldType(name string) string {
	if t := standardTypes[name]; t != "" {
		return t
	}
	return "string"
}

// pageBounds returns [offset, offset+limit) clipped to [0, n), without
// overflowing for a huge offset or limit.
func pageBounds(offset, limit, n int) (lo, hi int) {
	lo = min(max(offset, 0), n)
	return lo, lo + min(max(limit, 0), n-lo)
}

// apiRow turns a row into a map of lower-cased names to values.
func apiRow(r query.Row) map[string]string {
	m := make(map[string]string, len(r))
	for _, f := range r {
		m[strings.ToLower(f.Name)] = f.Value
	}
	return m
}

// Messages returns messages [offset, offset+limit), newest first.
func (j *Job) Messages(offset, limit int) Page {
	j.mu.Lock()
	lo, hi := pageBounds(offset, limit, len(j.messages))
	rows := j.messages[lo:hi]
	j.mu.Unlock()
	var names []string
	seen := map[string]bool{}
	page := Page{Rows: make([]map[string]string, len(rows))}
	for i, r := range rows {
		m := apiRow(r)
		for name := range m {
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
		page.Rows[i] = m
	}
	sort.Strings(names)
	for _, n := range names {
		page.Fields = append(page.Fields, Field{Name: n, FieldType: messageFieldType(n)})
	}
	return page
}

// recordFields describes record columns in the API's terms.
func recordFields(fields []query.FieldInfo) []Field {
	out := make([]Field, 0, len(fields))
	for _, f := range fields {
		t := f.Type
		if t == "" {
			t = "string"
		}
		out = append(out, Field{Name: strings.ToLower(f.Name), FieldType: t, KeyField: f.KeyField})
	}
	return out
}

// Records returns records [offset, offset+limit) in the query's order.
func (j *Job) Records(offset, limit int) Page {
	j.mu.Lock()
	lo, hi := pageBounds(offset, limit, len(j.records))
	rows := j.records[lo:hi]
	fields := j.recFields
	j.mu.Unlock()
	page := Page{Fields: recordFields(fields), Rows: make([]map[string]string, len(rows))}
	if len(page.Fields) == 0 {
		page.Fields = nil
	}
	for i, r := range rows {
		page.Rows[i] = apiRow(r)
	}
	return page
}
