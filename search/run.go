package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/query"
)

// Result is the outcome of Run: the records of an aggregate query, or the
// newest messages of a non-aggregate one.
type Result struct {
	// Query is the query in canonical form.
	Query     string
	Aggregate bool
	// Fields are the record columns of an aggregate query.
	Fields []Field
	// Records (aggregate queries) or Messages (others), each a map of
	// lower-cased field names to values, as the search job API returns
	// them. Messages are newest first.
	Records  []map[string]string
	Messages []map[string]string
	// MessagesMatched is the number of messages entering the first
	// aggregate (aggregate queries) or a lower bound of the matching
	// messages (others).
	MessagesMatched int64
	// Truncated says there was more than returned: more records than the
	// limit, or (non-aggregate queries) the limit of messages was reached.
	Truncated bool
	Warnings  []string
	// Elapsed is how long the query ran, not counting its wait for a slot.
	Elapsed time.Duration
}

// RunOptions tune Run.
type RunOptions struct {
	// Limit caps the records returned and the messages gathered; 0 means
	// 1,000.
	Limit int
	// NoSave refuses queries with the save operator (a dashboard panel
	// must not write lookup tables each time it is drawn).
	NoSave bool
}

// DefaultRunLimit is Run's default limit of records and messages.
const DefaultRunLimit = 1000

// Run runs one query to completion and returns its results: the way
// dashboard panels and template variables run their queries. Unlike a job
// or a stream it computes no histogram and is not addressable; it waits
// for one of the manager's running slots (Config.MaxRunning) like every
// search, and has the same time budget, group limit and execution
// environment. Client errors (a query that does not parse, a missing
// lookup table) are *Error with Status 400; a failure while running is an
// *Error whose Code is one of the Problem codes (CodeTimeout,
// CodeTooManyGroups, CodeFailed, CodeShutdown) and Status 0.
func (m *Manager) Run(ctx context.Context, p *catalog.Principal, req Request, opt RunOptions) (*Result, error) {
	if strings.TrimSpace(req.Query) == "" {
		return nil, &Error{Code: "searchjob.no.query", Msg: "the query is empty", Status: 400}
	}
	if !req.To.After(req.From) {
		return nil, &Error{Code: "searchjob.to.smaller.than.from", Msg: fmt.Sprintf("'to' (%s) must be after 'from' (%s)", req.To.Format(time.RFC3339), req.From.Format(time.RFC3339)), Status: 400}
	}
	limit := opt.Limit
	if limit <= 0 {
		limit = DefaultRunLimit
	}
	plan, err := m.compile(req.Query)
	if err != nil {
		return nil, &Error{Code: "searchjob.parse.error", Msg: err.Error(), Status: 400}
	}
	if opt.NoSave {
		for _, st := range plan.Query().Stages {
			if st.Name() == "save" {
				return nil, &Error{Code: "searchjob.parse.error", Msg: fmt.Sprintf("%s: save is not allowed here: it would write the lookup table each time the query runs", st.Position()), Status: 400}
			}
		}
	}
	env := m.envFor(p)
	if err := m.checkEnv(ctx, plan, env); err != nil {
		return nil, err
	}
	if req.Location == nil {
		req.Location = time.UTC
	}
	select {
	case <-m.stop:
		return nil, &Error{Code: CodeShutdown, Msg: "the server is shutting down"}
	default:
	}
	// Stop when the manager closes, as jobs do.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if !m.acquire(ctx) {
		return nil, runCtxError(ctx, m)
	}
	defer m.release()
	rctx, rcancel := context.WithTimeout(ctx, m.cfg.MaxRuntime)
	defer rcancel()
	start := time.Now()
	sink := &runSink{limit: limit}
	stats, err := plan.Execute(rctx, m.store, query.ExecOptions{
		Range:          query.Range{Start: req.From, End: req.To},
		MaxMessages:    limit + 1,
		Location:       req.Location,
		Now:            start,
		Env:            env,
		SkipMatchCount: true,
	}, sink)
	elapsed := time.Since(start)
	m.cfg.Metrics.GetOrCreateCounter(`dohyo_search_jobs_total{kind="run"}`).Inc()
	m.cfg.Metrics.GetOrCreateHistogram(`dohyo_search_run_duration_seconds`).Update(elapsed.Seconds())
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, runCtxError(ctx, m)
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		return nil, &Error{Code: CodeTimeout, Msg: fmt.Sprintf("the search ran out of its time budget of %s", m.cfg.MaxRuntime)}
	case errors.Is(err, query.ErrTooManyGroups):
		return nil, &Error{Code: CodeTooManyGroups, Msg: err.Error() + fmt.Sprintf(" (the server's group limit is %d)", m.cfg.MaxGroups)}
	default:
		if _, ok := query.AsError(err); ok {
			return nil, &Error{Code: "searchjob.parse.error", Msg: err.Error(), Status: 400}
		}
		return nil, &Error{Code: CodeFailed, Msg: err.Error()}
	}
	res := &Result{
		Query:           plan.Query().String(),
		Aggregate:       plan.IsAggregate(),
		MessagesMatched: stats.MessagesMatched,
		Warnings:        stats.Warnings,
		Elapsed:         elapsed,
	}
	if res.Aggregate {
		res.Fields = recordFields(sink.fields)
		recs := sink.records
		if len(recs) > limit {
			recs, res.Truncated = recs[:limit], true
		}
		res.Records = make([]map[string]string, len(recs))
		for i, r := range recs {
			res.Records[i] = apiRow(r)
		}
	} else {
		msgs := sink.messages
		if len(msgs) > limit {
			msgs, res.Truncated = msgs[:limit], true
		}
		res.Messages = make([]map[string]string, len(msgs))
		for i, r := range msgs {
			res.Messages[i] = apiRow(r)
		}
	}
	return res, nil
}

func runCtxError(ctx context.Context, m *Manager) error {
	select {
	case <-m.stop:
		return &Error{Code: CodeShutdown, Msg: "the server is shutting down; the search was cancelled"}
	default:
	}
	return &Error{Code: "searchjob.cancelled", Msg: "the search was cancelled: " + context.Cause(ctx).Error()}
}

// runSink keeps what Run returns.
type runSink struct {
	limit    int
	messages []query.Row
	fields   []query.FieldInfo
	records  []query.Row
}

func (s *runSink) Messages(rows []query.Row) error {
	s.messages = append(s.messages, rows...)
	return nil
}

func (s *runSink) Records(fields []query.FieldInfo, rows []query.Row) error {
	s.fields, s.records = fields, rows
	return nil
}
