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
	"time"

	"github.com/dohyo/dohyo/query"
)

// Job is one running or finished search.
type Job struct {
	ID string

	owner   string
	req     Request
	plan    *query.Plan
	cancel  context.CancelFunc
	created time.Time
	m       *Manager

	mu           sync.Mutex
	state        string
	touched      time.Time
	messages     []query.Row
	messageBytes int64
	matched      int64 // input messages, for aggregate jobs
	recFields    []query.FieldInfo
	records      []query.Row
	histogram    []HistogramBucket
	histSent     int
	errs, warns  []string
	errsSent     int
	warnsSent    int
	userCancel   bool
}

// HistogramBucket is a count of messages in [Start, Start+Length).
type HistogramBucket struct {
	StartTimestamp int64 `json:"startTimestamp"`
	Length         int64 `json:"length"`
	Count          int64 `json:"count"`
}

// Status is what a poll returns. Histogram buckets, errors and warnings are
// incremental: each is returned by one poll only.
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

// IsAggregate reports whether the job's query produces records.
func (j *Job) IsAggregate() bool { return j.plan.IsAggregate() }

func (j *Job) run(ctx context.Context) {
	defer j.cancel()
	start := time.Now()
	j.mu.Lock()
	j.state = StateGathering
	j.mu.Unlock()
	opt := query.ExecOptions{
		Range:       query.Range{Start: j.req.From, End: j.req.To},
		MaxMessages: j.m.cfg.MaxMessages,
		Location:    j.req.Location,
		Now:         start,
		// The histogram counts every match; the job keeps what it shows.
		SkipMatchCount: true,
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		step := HistogramStep(j.req.To.Sub(j.req.From))
		buckets, err := j.plan.Histogram(ctx, j.m.store, opt, step)
		j.mu.Lock()
		defer j.mu.Unlock()
		if err != nil {
			if ctx.Err() == nil {
				j.warns = append(j.warns, "histogram: "+err.Error())
			}
			return
		}
		// Newest first, as Sumo's backwards scan delivers them.
		for i := len(buckets) - 1; i >= 0; i-- {
			b := buckets[i]
			j.histogram = append(j.histogram, HistogramBucket{StartTimestamp: b.Start.UnixMilli(), Length: step.Milliseconds(), Count: b.Count})
		}
	}()
	stats, err := j.plan.Execute(ctx, j.m.store, opt, (*jobSink)(j))
	wg.Wait()

	j.mu.Lock()
	defer j.mu.Unlock()
	j.matched = stats.MessagesMatched
	elapsed := time.Since(start)
	status := "ok"
	switch {
	case j.userCancel:
		j.state = StateCancelled
		status = "cancelled"
	case errors.Is(err, errJobFull):
		j.state = StateForcePaused
		j.warns = append(j.warns, fmt.Sprintf("the search stopped after %d messages (%d MiB); narrow the time range or the query", len(j.messages), j.messageBytes>>20))
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		j.state = StateDone
		j.errs = append(j.errs, fmt.Sprintf("the search ran out of its time budget of %s; results are partial", j.m.cfg.MaxRuntime))
		status = "timeout"
	case err != nil:
		j.state = StateDone
		j.errs = append(j.errs, err.Error())
		status = "error"
		j.m.cfg.Logger.Warn("search job failed", "id", j.ID, "err", err)
	case !j.plan.IsAggregate() && len(j.messages) >= j.m.cfg.MaxMessages && j.histogramTotal() > int64(len(j.messages)):
		j.state = StateForcePaused
		j.warns = append(j.warns, fmt.Sprintf("the search stopped after %d messages, the limit for non-aggregate searches; narrow the time range or add an aggregate", len(j.messages)))
	default:
		j.state = StateDone
	}
	ms := j.m.cfg.Metrics
	ms.GetOrCreateCounter(fmt.Sprintf(`dohyo_search_jobs_finished_total{status=%q}`, status)).Inc()
	ms.GetOrCreateHistogram(`dohyo_search_job_duration_seconds`).Update(elapsed.Seconds())
}

var errJobFull = errors.New("job result limit reached")

// histogramTotal is the number of matching messages the histogram counted.
// The caller holds j.mu.
func (j *Job) histogramTotal() int64 {
	var n int64
	for _, b := range j.histogram {
		n += b.Count
	}
	return n
}

// jobSink receives the plan's output.
type jobSink Job

func (s *jobSink) Messages(rows []query.Row) error {
	j := (*Job)(s)
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, r := range rows {
		if len(j.messages) >= j.m.cfg.MaxMessages {
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
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recFields, j.records = fields, rows
	return nil
}

// Status returns the job's state and whatever histogram buckets, errors and
// warnings the previous poll did not return.
func (j *Job) Status() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := Status{
		State:            j.state,
		HistogramBuckets: append([]HistogramBucket{}, j.histogram[j.histSent:]...),
		PendingErrors:    append([]string{}, j.errs[j.errsSent:]...),
		PendingWarnings:  append([]string{}, j.warns[j.warnsSent:]...),
	}
	j.histSent, j.errsSent, j.warnsSent = len(j.histogram), len(j.errs), len(j.warns)
	if j.plan.IsAggregate() {
		st.MessageCount = j.matched
		st.RecordCount = int64(len(j.records))
	} else {
		st.MessageCount = int64(len(j.messages))
	}
	return st
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

// pageBounds returns [offset, offset+limit) clipped to [0, n), without
// overflowing for a huge offset or limit.
func pageBounds(offset, limit, n int) (lo, hi int) {
	lo = min(max(offset, 0), n)
	return lo, lo + min(max(limit, 0), n-lo)
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
		m := make(map[string]string, len(r))
		for _, f := range r {
			name := strings.ToLower(f.Name)
			m[name] = f.Value
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
		page.Rows[i] = m
	}
	sort.Strings(names)
	for _, n := range names {
		t := standardTypes[n]
		if t == "" {
			t = "string"
		}
		page.Fields = append(page.Fields, Field{Name: n, FieldType: t})
	}
	return page
}

// Records returns records [offset, offset+limit) in the query's order.
func (j *Job) Records(offset, limit int) Page {
	j.mu.Lock()
	lo, hi := pageBounds(offset, limit, len(j.records))
	rows := j.records[lo:hi]
	fields := j.recFields
	j.mu.Unlock()
	page := Page{Rows: make([]map[string]string, len(rows))}
	for _, f := range fields {
		t := f.Type
		if t == "" {
			t = "string"
		}
		page.Fields = append(page.Fields, Field{Name: strings.ToLower(f.Name), FieldType: t, KeyField: f.KeyField})
	}
	for i, r := range rows {
		m := make(map[string]string, len(r))
		for _, f := range r {
			m[strings.ToLower(f.Name)] = f.Value
		}
		page.Rows[i] = m
	}
	return page
}
