package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Search job states.
const (
	StateNotStarted    = "NOT STARTED"
	StateGathering     = "GATHERING RESULTS"
	StateForcePaused   = "FORCE PAUSED"
	StateDone          = "DONE GATHERING RESULTS"
	StateCancelled     = "CANCELLED"
	maxSearchPageLimit = 10000
)

// JobRequest is the body of a search job creation. From and To are ISO
// local date-times ("2025-11-24T10:00:00", read in TimeZone) or epoch
// milliseconds.
type JobRequest struct {
	Query           string `json:"query"`
	From            string `json:"from"`
	To              string `json:"to"`
	TimeZone        string `json:"timeZone"`
	ByReceiptTime   bool   `json:"byReceiptTime,omitempty"`
	AutoParsingMode string `json:"autoParsingMode,omitempty"`
}

// Job is a created search job.
type Job struct {
	ID   string `json:"id"`
	Link struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"link"`
}

// HistogramBucket counts the messages of one time bucket.
type HistogramBucket struct {
	StartTimestamp int64 `json:"startTimestamp"` // epoch ms
	Length         int64 `json:"length"`         // ms
	Count          int64 `json:"count"`
}

// JobStatus is a poll answer. Histogram buckets, errors and warnings are
// incremental: each poll returns only the new ones.
type JobStatus struct {
	State            string            `json:"state"`
	MessageCount     int64             `json:"messageCount"`
	RecordCount      int64             `json:"recordCount"`
	HistogramBuckets []HistogramBucket `json:"histogramBuckets"`
	PendingErrors    []string          `json:"pendingErrors"`
	PendingWarnings  []string          `json:"pendingWarnings"`
}

// Done reports whether the job gathers no more results.
func (s *JobStatus) Done() bool {
	return s.State == StateDone || s.State == StateForcePaused || s.State == StateCancelled
}

// ResultField describes one column of a messages or records page.
type ResultField struct {
	Name      string `json:"name"`
	FieldType string `json:"fieldType"`
	KeyField  bool   `json:"keyField"`
}

// Row is one message or record: field name (lower case) to value (always a
// string).
type Row map[string]string

type rowWrapper struct {
	Map Row `json:"map"`
}

// MessagesPage is one page of raw messages, newest first.
type MessagesPage struct {
	Fields   []ResultField
	Messages []Row
}

// RecordsPage is one page of aggregate records.
type RecordsPage struct {
	Fields  []ResultField
	Records []Row
}

// CreateSearchJob starts a search job.
func (c *Client) CreateSearchJob(ctx context.Context, req JobRequest) (*Job, error) {
	if strings.TrimSpace(req.Query) == "" {
		return nil, fmt.Errorf("create search job: empty query")
	}
	var j Job
	if err := c.do(ctx, http.MethodPost, "/api/v1/search/jobs", nil, req, &j, http.StatusAccepted, http.StatusOK, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("create search job: %w", err)
	}
	if j.ID == "" {
		return nil, fmt.Errorf("create search job: the server answered without a job id")
	}
	return &j, nil
}

// SearchJobStatus polls a job; polling also keeps it alive.
func (c *Client) SearchJobStatus(ctx context.Context, id string) (*JobStatus, error) {
	var s JobStatus
	if err := c.do(ctx, http.MethodGet, "/api/v1/search/jobs/"+url.PathEscape(id), nil, nil, &s, http.StatusOK); err != nil {
		return nil, fmt.Errorf("status of search job %s: %w", id, err)
	}
	return &s, nil
}

func pageQuery(offset, limit int) url.Values {
	return url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}}
}

// SearchJobMessages fetches messages [offset, offset+limit) of a job.
func (c *Client) SearchJobMessages(ctx context.Context, id string, offset, limit int) (*MessagesPage, error) {
	var out struct {
		Fields   []ResultField `json:"fields"`
		Messages []rowWrapper  `json:"messages"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/search/jobs/"+url.PathEscape(id)+"/messages", pageQuery(offset, limit), nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("messages of search job %s (offset %d, limit %d): %w", id, offset, limit, err)
	}
	p := &MessagesPage{Fields: out.Fields, Messages: make([]Row, len(out.Messages))}
	for i, m := range out.Messages {
		p.Messages[i] = m.Map
	}
	return p, nil
}

// SearchJobRecords fetches records [offset, offset+limit) of an aggregate
// job.
func (c *Client) SearchJobRecords(ctx context.Context, id string, offset, limit int) (*RecordsPage, error) {
	var out struct {
		Fields  []ResultField `json:"fields"`
		Records []rowWrapper  `json:"records"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/search/jobs/"+url.PathEscape(id)+"/records", pageQuery(offset, limit), nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("records of search job %s (offset %d, limit %d): %w", id, offset, limit, err)
	}
	p := &RecordsPage{Fields: out.Fields, Records: make([]Row, len(out.Records))}
	for i, r := range out.Records {
		p.Records[i] = r.Map
	}
	return p, nil
}

// DeleteSearchJob cancels a job and frees it.
func (c *Client) DeleteSearchJob(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, "/api/v1/search/jobs/"+url.PathEscape(id), nil, nil, nil, http.StatusOK, http.StatusNoContent); err != nil {
		return fmt.Errorf("delete search job %s: %w", id, err)
	}
	return nil
}

// Explain returns the server's plan for a query as multi-line text. A query
// that does not parse gives an *APIError with the position of the problem.
func (c *Client) Explain(ctx context.Context, query string) (string, error) {
	var out struct {
		Explain string `json:"explain"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/query/explain", nil, map[string]string{"query": query}, &out, http.StatusOK); err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	return out.Explain, nil
}

// Result is the outcome of Search.
type Result struct {
	JobID string
	// State is the job's final state: StateDone, or StateForcePaused when a
	// non-aggregate query hit the server's message cap.
	State        string
	MessageCount int64
	RecordCount  int64
	// Aggregate is true when the query produced records (Records and
	// Fields describe them); otherwise Messages holds the raw messages,
	// newest first.
	Aggregate bool
	Fields    []ResultField
	Messages  []Row
	Records   []Row
	// Truncated is true when there were more messages or records than the
	// limit allowed to fetch.
	Truncated bool
	// Histogram accumulates the job's histogram buckets, oldest first.
	Histogram []HistogramBucket
	Errors    []string
	Warnings  []string
}

// SearchOption tunes Search.
type SearchOption func(*searchConfig)

type searchConfig struct {
	limit    int
	progress func(JobStatus)
}

// WithLimit caps how many messages or records Search fetches (default 100;
// 0 or less means all).
func WithLimit(n int) SearchOption {
	return func(c *searchConfig) { c.limit = n }
}

// WithProgress calls fn after every status poll.
func WithProgress(fn func(JobStatus)) SearchOption {
	return func(c *searchConfig) { c.progress = fn }
}

// DefaultSearchLimit is how many messages or records Search fetches unless
// WithLimit says otherwise.
const DefaultSearchLimit = 100

// Search runs a query over [from, to] from start to end: it creates a job,
// polls it until it has gathered everything, fetches the records (aggregate
// queries) or the messages, and deletes the job. tz is the IANA time zone
// the job reports in (default "UTC"). When ctx is cancelled the job is
// deleted on the server before Search returns.
func (c *Client) Search(ctx context.Context, query string, from, to time.Time, tz string, opts ...SearchOption) (res *Result, err error) {
	cfg := searchConfig{limit: DefaultSearchLimit}
	for _, o := range opts {
		o(&cfg)
	}
	if tz == "" {
		tz = "UTC"
	}
	if to.Before(from) {
		return nil, fmt.Errorf("search: the end %s is before the start %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	job, err := c.CreateSearchJob(ctx, JobRequest{
		Query:    query,
		From:     strconv.FormatInt(from.UnixMilli(), 10),
		To:       strconv.FormatInt(to.UnixMilli(), 10),
		TimeZone: tz,
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		// Always free the job; use a fresh context so that a cancelled
		// search still reaches the server.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := c.DeleteSearchJob(dctx, job.ID); derr != nil && err == nil && !IsNotFound(derr) {
			err = derr
		}
	}()

	res = &Result{JobID: job.ID}
	buckets := map[int64]HistogramBucket{}
	wait := c.pollMin
	var st *JobStatus
	for {
		st, err = c.SearchJobStatus(ctx, job.ID)
		if err != nil {
			return nil, err
		}
		for _, b := range st.HistogramBuckets {
			buckets[b.StartTimestamp] = b
		}
		res.Errors = append(res.Errors, st.PendingErrors...)
		res.Warnings = append(res.Warnings, st.PendingWarnings...)
		if cfg.progress != nil {
			cfg.progress(*st)
		}
		if st.Done() {
			break
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, fmt.Errorf("search job %s: %w", job.ID, err)
		}
		wait = min(wait*2, c.pollMax)
	}
	if st.State == StateCancelled {
		return nil, fmt.Errorf("search job %s was cancelled by the server%s", job.ID, joinMsgs(res.Errors))
	}
	if len(res.Errors) > 0 && st.MessageCount == 0 && st.RecordCount == 0 {
		return nil, fmt.Errorf("search job %s failed: %s", job.ID, strings.Join(res.Errors, "; "))
	}
	res.State, res.MessageCount, res.RecordCount = st.State, st.MessageCount, st.RecordCount
	for _, b := range buckets {
		res.Histogram = append(res.Histogram, b)
	}
	sort.Slice(res.Histogram, func(i, j int) bool { return res.Histogram[i].StartTimestamp < res.Histogram[j].StartTimestamp })

	aggregate, err := c.isAggregate(ctx, job.ID, st)
	if err != nil {
		return nil, err
	}
	res.Aggregate = aggregate
	if aggregate {
		res.Fields, res.Records, res.Truncated, err = c.fetchAll(ctx, job.ID, st.RecordCount, cfg.limit, true)
	} else {
		res.Fields, res.Messages, res.Truncated, err = c.fetchAll(ctx, job.ID, st.MessageCount, cfg.limit, false)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

func joinMsgs(msgs []string) string {
	if len(msgs) == 0 {
		return ""
	}
	return ": " + strings.Join(msgs, "; ")
}

// isAggregate tells aggregate jobs from message searches: a job with records
// is one; otherwise the records endpoint answers 400
// "no.records.not.an.aggregation.query" for message searches, and an empty
// page with columns for aggregates that produced no rows.
func (c *Client) isAggregate(ctx context.Context, id string, st *JobStatus) (bool, error) {
	if st.RecordCount > 0 {
		return true, nil
	}
	p, err := c.SearchJobRecords(ctx, id, 0, 1)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			return false, nil
		}
		return false, err
	}
	// 200: an aggregate, unless a lenient server answers an empty page for
	// a message search that found messages.
	empty := len(p.Fields) == 0 && len(p.Records) == 0
	return !(empty && st.MessageCount > 0), nil
}

// fetchAll pages through a job's records or messages, up to limit rows
// (limit <= 0: all).
func (c *Client) fetchAll(ctx context.Context, id string, count int64, limit int, records bool) ([]ResultField, []Row, bool, error) {
	want := count
	truncated := false
	if limit > 0 && int64(limit) < want {
		want = int64(limit)
		truncated = true
	}
	var fields []ResultField
	var rows []Row
	for offset := int64(0); offset < want; {
		n := int(min(want-offset, int64(c.pageSize)))
		var page []Row
		if records {
			p, err := c.SearchJobRecords(ctx, id, int(offset), n)
			if err != nil {
				return nil, nil, false, err
			}
			page, fields = p.Records, mergeFields(fields, p.Fields)
		} else {
			p, err := c.SearchJobMessages(ctx, id, int(offset), n)
			if err != nil {
				return nil, nil, false, err
			}
			page, fields = p.Messages, mergeFields(fields, p.Fields)
		}
		rows = append(rows, page...)
		offset += int64(len(page))
		if len(page) < n {
			break
		}
	}
	if !records {
		// The API promises newest first; make sure of it.
		sort.SliceStable(rows, func(i, j int) bool {
			ti, _ := strconv.ParseInt(rows[i]["_messagetime"], 10, 64)
			tj, _ := strconv.ParseInt(rows[j]["_messagetime"], 10, 64)
			return ti > tj
		})
	}
	return fields, rows, truncated, nil
}

// mergeFields appends the fields of b not yet in a.
func mergeFields(a, b []ResultField) []ResultField {
	seen := make(map[string]bool, len(a))
	for _, f := range a {
		seen[f.Name] = true
	}
	for _, f := range b {
		if !seen[f.Name] {
			a = append(a, f)
			seen[f.Name] = true
		}
	}
	return a
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
