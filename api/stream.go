package api

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/dohyo/dohyo/search"
)

// POST /api/v1/search/stream runs a search and streams its results as
// NDJSON (Content-Type application/x-ndjson): one JSON object per line,
// flushed as soon as it is written. It is dohyo's own endpoint, for the web
// UI and the command line; scripts written for Sumo Logic use the search
// job API instead.
//
// The body is the one of POST /api/v1/search/jobs (query, from, to,
// timeZone), plus:
//
//	"limit":        N     at most N messages are gathered (non-aggregate
//	                      queries: the search stops there, normally) and at
//	                      most N records are sent; 0 (the default) means the
//	                      server's message cap (100,000)
//	"fieldSummary": true  send a fieldSummary event before "done"
//	"topValues":    N     top values per field in that summary (default 10)
//
// Unknown fields are errors. Errors found before the search starts (a bad
// time, a query that does not parse, too many searches) are answered as
// usual: a 4xx/5xx status with the JSON error envelope. Once the search
// started the status is 200 and everything else, errors included, is an
// event. Every event has a "type":
//
//	{"type":"meta","query":"<canonical query>","aggregate":false,
//	 "fields":[{"name":"_sourcecategory","fieldType":"string","keyField":true},...],
//	 "from":<ms>,"to":<ms>,"timeZone":"UTC","histogramStep":<ms>,
//	 "maxMessages":100000,"timeBudgetMs":300000,"explain":"<the plan>"}
//	    first, once. fields are the record columns of an aggregate query
//	    ([] otherwise).
//	{"type":"progress","state":"GATHERING RESULTS","messageCount":N,"recordCount":M,"histogramCount":H}
//	    the job's state and counts (as the job status's messageCount: for an
//	    aggregate query, the input messages counted so far), when they
//	    changed, at most every 250 ms, and at least every 10 s as a
//	    keep-alive. state is "NOT STARTED" while the search waits for a
//	    slot (the server runs a bounded number of searches at once).
//	{"type":"histogram","buckets":[{"startTimestamp":<ms>,"length":<ms>,"count":N},...]}
//	    new histogram buckets, newest first; the histogram fills in from
//	    the end of the range backwards, window by window.
//	{"type":"messages","messages":[{"_raw":"...","_messagetime":"<ms>",...},...]}
//	    the next messages (at most 1,000 per event), newest first overall
//	    (_messagetime descending); field names lower-case, values strings,
//	    as in the job API's messages (without its {"map":...} wrapper).
//	{"type":"records","fields":[...],"records":[{...},...]}
//	    the records of an aggregate query, in the query's order, at most
//	    1,000 per event, all after the search finished.
//	{"type":"warning","message":"..."}
//	{"type":"error","code":"searchjob.too.many.groups","message":"..."}
//	    codes: searchjob.timeout (the time budget ran out; results are
//	    partial), searchjob.too.many.groups (an aggregate exceeded the group
//	    limit, which the message names), searchjob.failed,
//	    service.unavailable (the server shut down).
//	{"type":"fieldSummary","kind":"messages","rows":N,"complete":true,"fields":[...]}
//	    when asked for: the shape of GET /api/v1/search/jobs/{id}/fields.
//	{"type":"done","state":"DONE GATHERING RESULTS","messageCount":N,"recordCount":M,
//	 "histogramCount":H,"truncated":false,"elapsedMs":T}
//	    last. state is DONE GATHERING RESULTS, FORCE PAUSED (the server's
//	    message cap or memory bound stopped a non-aggregate search) or
//	    CANCELLED; truncated says there was more than was sent (more
//	    matching messages than gathered — histogramCount has them all — or
//	    more records than the limit).
//
// A stream that ends without a done event was cut off. When the client
// goes away the search is cancelled at once; it also stops at the server's
// time budget and limits, exactly as a job does.

// streamRequest is the body of POST /api/v1/search/stream.
type streamRequest struct {
	createJobRequest
	Limit        int  `json:"limit"`
	FieldSummary bool `json:"fieldSummary"`
	TopValues    int  `json:"topValues"`
}

type streamMeta struct {
	Type          string         `json:"type"`
	Query         string         `json:"query"`
	Aggregate     bool           `json:"aggregate"`
	Fields        []search.Field `json:"fields"`
	From          int64          `json:"from"`
	To            int64          `json:"to"`
	TimeZone      string         `json:"timeZone"`
	HistogramStep int64          `json:"histogramStep"`
	MaxMessages   int            `json:"maxMessages"`
	TimeBudgetMs  int64          `json:"timeBudgetMs"`
	Explain       string         `json:"explain"`
}

type streamProgress struct {
	Type           string `json:"type"`
	State          string `json:"state"`
	MessageCount   int64  `json:"messageCount"`
	RecordCount    int64  `json:"recordCount"`
	HistogramCount int64  `json:"histogramCount"`
}

type streamHistogram struct {
	Type    string                   `json:"type"`
	Buckets []search.HistogramBucket `json:"buckets"`
}

type streamMessages struct {
	Type     string              `json:"type"`
	Messages []map[string]string `json:"messages"`
}

type streamRecords struct {
	Type    string              `json:"type"`
	Fields  []search.Field      `json:"fields"`
	Records []map[string]string `json:"records"`
}

type streamWarning struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

type streamError struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

type streamFieldSummary struct {
	Type string `json:"type"`
	search.FieldSummary
}

type streamDone struct {
	Type           string `json:"type"`
	State          string `json:"state"`
	MessageCount   int64  `json:"messageCount"`
	RecordCount    int64  `json:"recordCount"`
	HistogramCount int64  `json:"histogramCount"`
	Truncated      bool   `json:"truncated"`
	ElapsedMs      int64  `json:"elapsedMs"`
}

const (
	// streamBatch is the most messages or records per event.
	streamBatch = 1000
	// progressEvery spaces progress events; keepAliveEvery is the longest
	// silence.
	progressEvery  = 250 * time.Millisecond
	keepAliveEvery = 10 * time.Second
)

// ndjsonWriter writes one JSON object per line and flushes it.
type ndjsonWriter struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	enc  *json.Encoder
	last time.Time
}

func (n *ndjsonWriter) send(v any) error {
	if err := n.enc.Encode(v); err != nil {
		return err
	}
	n.last = time.Now()
	return n.rc.Flush()
}

func (a *API) streamSearch(w http.ResponseWriter, r *http.Request) {
	var req streamRequest
	if !readJSON(w, r, &req) {
		return
	}
	// Read the body to its end, so that the server watches the connection
	// and cancels the request's context as soon as the client goes away.
	io.Copy(io.Discard, io.LimitReader(r.Body, maxJSONBody))
	if req.Limit < 0 {
		writeError(w, http.StatusBadRequest, "limit.negative", "\"limit\" must be 0 (the server's cap) or more")
		return
	}
	if req.TopValues < 0 || req.TopValues > search.MaxTopValues {
		writeError(w, http.StatusBadRequest, "topvalues.invalid", "\"topValues\" must be between 1 and 100 (0: 10)")
		return
	}
	sreq, ok := searchRequest(w, &req.createJobRequest)
	if !ok {
		return
	}
	ctx := r.Context()
	job, err := a.cfg.Search.Stream(ctx, PrincipalFrom(ctx), sreq, search.StreamOptions{Limit: req.Limit})
	if err != nil {
		a.searchError(w, err)
		return
	}
	// However the handler ends, the search ends with it.
	defer job.Cancel()

	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &ndjsonWriter{w: w, rc: http.NewResponseController(w), enc: json.NewEncoder(w)}
	out.enc.SetEscapeHTML(false)

	info := job.Info()
	meta := streamMeta{
		Type: "meta", Query: info.Query, Aggregate: info.Aggregate, Fields: info.Fields,
		From: sreq.From.UnixMilli(), To: sreq.To.UnixMilli(), TimeZone: sreq.Location.String(),
		HistogramStep: info.HistogramStep.Milliseconds(), MaxMessages: info.MaxMessages,
		TimeBudgetMs: info.TimeBudget.Milliseconds(), Explain: info.Explain,
	}
	if meta.Fields == nil {
		meta.Fields = []search.Field{}
	}
	if out.send(meta) != nil {
		return
	}

	var (
		cur          search.Cursor
		sent         streamProgress
		lastProgress time.Time
	)
	// pump sends what changed; it returns the last update.
	pump := func() (search.Update, error) {
		for {
			u := job.Updates(&cur, streamBatch)
			if len(u.Buckets) > 0 {
				if err := out.send(streamHistogram{Type: "histogram", Buckets: u.Buckets}); err != nil {
					return u, err
				}
			}
			for _, msg := range u.Warnings {
				if err := out.send(streamWarning{Type: "warning", Message: msg}); err != nil {
					return u, err
				}
			}
			if len(u.Messages) > 0 {
				if err := out.send(streamMessages{Type: "messages", Messages: u.Messages}); err != nil {
					return u, err
				}
			}
			for i := 0; i < len(u.Records); i += streamBatch {
				if err := out.send(streamRecords{Type: "records", Fields: u.RecordFields, Records: u.Records[i:min(i+streamBatch, len(u.Records))]}); err != nil {
					return u, err
				}
			}
			if u.HasRecords && len(u.Records) == 0 {
				if err := out.send(streamRecords{Type: "records", Fields: u.RecordFields, Records: []map[string]string{}}); err != nil {
					return u, err
				}
			}
			for _, p := range u.Errors {
				if err := out.send(streamError{Type: "error", Code: p.Code, Message: p.Message}); err != nil {
					return u, err
				}
			}
			if len(u.Messages) < streamBatch {
				return u, nil
			}
		}
	}
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		finished := false
		select {
		case <-ctx.Done():
			return
		case <-job.Done():
			finished = true
		case <-job.Changed():
		case <-tick.C:
		}
		u, err := pump()
		if err != nil {
			return
		}
		if finished {
			if req.FieldSummary {
				if out.send(streamFieldSummary{Type: "fieldSummary", FieldSummary: job.FieldSummary(req.TopValues)}) != nil {
					return
				}
			}
			out.send(streamDone{Type: "done", State: u.State, MessageCount: u.MessageCount, RecordCount: u.RecordCount,
				HistogramCount: u.HistogramCount, Truncated: u.Truncated, ElapsedMs: job.Elapsed().Milliseconds()})
			return
		}
		p := streamProgress{Type: "progress", State: u.State, MessageCount: u.MessageCount, RecordCount: u.RecordCount, HistogramCount: u.HistogramCount}
		now := time.Now()
		if (p != sent && now.Sub(lastProgress) >= progressEvery) || now.Sub(out.last) >= keepAliveEvery {
			if out.send(p) != nil {
				return
			}
			sent, lastProgress = p, now
		}
	}
}
