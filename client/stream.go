package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// StreamRequest is the body of POST /api/v1/search/stream: the search job's
// fields, plus what only the stream knows.
type StreamRequest struct {
	JobRequest
	// Limit caps the messages gathered (the search stops there, normally)
	// and the records sent; 0 means the server's cap.
	Limit int `json:"limit,omitempty"`
	// FieldSummary asks for a fieldSummary event before done, with
	// TopValues values per field (0: the server's default, 10).
	FieldSummary bool `json:"fieldSummary,omitempty"`
	TopValues    int  `json:"topValues,omitempty"`
}

// Stream event types.
const (
	EventMeta         = "meta"
	EventProgress     = "progress"
	EventHistogram    = "histogram"
	EventMessages     = "messages"
	EventRecords      = "records"
	EventWarning      = "warning"
	EventError        = "error"
	EventFieldSummary = "fieldSummary"
	EventDone         = "done"
)

// StreamEvent is one line of a search stream; Type says which fields are
// set (see the server's api/stream.go for the protocol).
type StreamEvent struct {
	Type string `json:"type"`

	// meta
	Query         string `json:"query"`
	Aggregate     bool   `json:"aggregate"`
	From          int64  `json:"from"`
	To            int64  `json:"to"`
	TimeZone      string `json:"timeZone"`
	HistogramStep int64  `json:"histogramStep"`
	MaxMessages   int    `json:"maxMessages"`
	TimeBudgetMs  int64  `json:"timeBudgetMs"`
	Explain       string `json:"explain"`
	// Fields are the record columns (meta of an aggregate query, records).
	Fields []ResultField `json:"-"`

	// progress and done
	State          string `json:"state"`
	MessageCount   int64  `json:"messageCount"`
	RecordCount    int64  `json:"recordCount"`
	HistogramCount int64  `json:"histogramCount"`
	Truncated      bool   `json:"truncated"`
	ElapsedMs      int64  `json:"elapsedMs"`

	// histogram: new buckets, newest first
	Buckets []HistogramBucket `json:"buckets"`
	// messages (newest first) and records
	Messages []Row `json:"messages"`
	Records  []Row `json:"records"`

	// warning and error
	Code    string `json:"code"`
	Message string `json:"message"`

	// fieldSummary
	Summary *FieldSummary `json:"-"`
}

// FieldSummary describes the fields of a search's messages (or records):
// the answer of GET /api/v1/search/jobs/{id}/fields and the stream's
// fieldSummary event.
type FieldSummary struct {
	Kind     string       `json:"kind"`
	Rows     int64        `json:"rows"`
	Complete bool         `json:"complete"`
	Fields   []FieldStats `json:"fields"`
}

// FieldStats describes one field of a FieldSummary.
type FieldStats struct {
	Name           string       `json:"name"`
	FieldType      string       `json:"fieldType"`
	KeyField       bool         `json:"keyField"`
	Count          int64        `json:"count"`
	Distinct       int          `json:"distinct"`
	DistinctCapped bool         `json:"distinctCapped"`
	TopValues      []ValueCount `json:"topValues"`
	Approximate    bool         `json:"approximate"`
}

// ValueCount is a value and how many rows have it.
type ValueCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// decodeEvent parses one line of a stream.
func decodeEvent(line []byte) (*StreamEvent, error) {
	var ev StreamEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		return nil, err
	}
	if ev.Type == "" {
		return nil, errors.New(`no "type"`)
	}
	switch ev.Type {
	case EventFieldSummary:
		var s FieldSummary
		if err := json.Unmarshal(line, &s); err != nil {
			return nil, err
		}
		ev.Summary = &s
	case EventMeta, EventRecords:
		var f struct {
			Fields []ResultField `json:"fields"`
		}
		if err := json.Unmarshal(line, &f); err != nil {
			return nil, err
		}
		ev.Fields = f.Fields
	}
	return &ev, nil
}

// ErrStreamCut is returned by SearchStream when the stream ended without
// its done event (the server or the connection went away).
var ErrStreamCut = errors.New("the search stream ended before the search was done")

// maxStreamLine bounds one event (a batch of 1,000 messages).
const maxStreamLine = 256 << 20

// SearchStream runs a search through the streaming endpoint and calls fn
// with every event as it arrives, the done event last. It returns nil after
// the done event, fn's error if fn fails, ctx's error when ctx ends (the
// server then cancels the search at once), an *APIError when the server
// refuses the search (a query that does not parse, bad times, too many
// searches), or an error wrapping ErrStreamCut when the stream breaks off.
// Error events (the time budget ran out, too many groups) are events, not
// errors: the done event follows them.
func (c *Client) SearchStream(ctx context.Context, req StreamRequest, fn func(*StreamEvent) error) error {
	const path = "/api/v1/search/stream"
	if strings.TrimSpace(req.Query) == "" {
		return fmt.Errorf("search: empty query")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("POST %s: encode request: %w", path, err)
	}
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	hr.SetBasicAuth(c.accessID, c.accessKey)
	hr.Header.Set("Accept", "application/x-ndjson")
	hr.Header.Set("Content-Type", "application/json")
	if c.userAgent != "" {
		hr.Header.Set("User-Agent", c.userAgent)
	}
	// A stream lasts as long as the search: no overall client timeout,
	// ctx governs.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(hr)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		ae := parseErrorBody(resp.StatusCode, data)
		ae.Method, ae.Path = http.MethodPost, path
		return ae
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxStreamLine)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, err := decodeEvent(line)
		if err != nil {
			return fmt.Errorf("POST %s: unreadable event %.200q: %w", path, line, err)
		}
		if err := fn(ev); err != nil {
			return err
		}
		if ev.Type == EventDone {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("POST %s: %w: %w", path, ErrStreamCut, err)
	}
	return fmt.Errorf("POST %s: %w", path, ErrStreamCut)
}

// SearchJobFields fetches the field summary of a job's messages (records
// for an aggregate query), with top values per field (0: the server's
// default).
func (c *Client) SearchJobFields(ctx context.Context, id string, top int) (*FieldSummary, error) {
	var q url.Values
	if top > 0 {
		q = url.Values{"top": {strconv.Itoa(top)}}
	}
	var s FieldSummary
	if err := c.do(ctx, http.MethodGet, "/api/v1/search/jobs/"+url.PathEscape(id)+"/fields", q, nil, &s, http.StatusOK); err != nil {
		return nil, fmt.Errorf("fields of search job %s: %w", id, err)
	}
	return &s, nil
}
