package search

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/query"
)

// Surrounding is a message with the messages before and after it from the
// same source (same _sourceCategory, _sourceHost and _sourceName), in time
// order.
type Surrounding struct {
	Before  []map[string]string
	Message map[string]string
	After   []map[string]string
}

// surroundingSpan bounds how far from the message its neighbours are
// looked for.
const surroundingSpan = 24 * time.Hour

// maxSurrounding bounds before and after.
const maxSurrounding = 1000

// ErrMessageNotFound is returned when no message has the id at the time.
var ErrMessageNotFound = fmt.Errorf("message not found")

// FindSurrounding returns the message with the given _messageId at the given
// time (epoch milliseconds, its _messageTime) and up to before and after
// messages of the same source around it.
func (m *Manager) FindSurrounding(ctx context.Context, p *catalog.Principal, id string, at time.Time, before, after int) (*Surrounding, error) {
	before, after = min(max(before, 0), maxSurrounding), min(max(after, 0), maxSurrounding)
	ctx, cancel := context.WithTimeout(ctx, m.cfg.MaxRuntime)
	defer cancel()
	at = at.Truncate(time.Millisecond)
	anchorMs := at.UnixMilli()
	anchorRid, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil, &Error{Code: "bad.request", Msg: fmt.Sprintf("message id %q is not a message id", id), Status: 400}
	}
	// The message itself: every message of that millisecond.
	rows, err := m.collect(ctx, "*", at, at.Add(time.Millisecond), 100_000)
	if err != nil {
		return nil, err
	}
	var anchor query.Row
	for _, r := range rows {
		if r.Get(query.FieldMessageID) == id {
			anchor = r
			break
		}
	}
	if anchor == nil {
		return nil, ErrMessageNotFound
	}
	var scope []string
	for _, f := range []string{event.FieldSourceCategory, event.FieldSourceHost, event.FieldSourceName} {
		if v := anchor.Get(f); v != "" {
			scope = append(scope, f+"="+quoteValue(v))
		}
	}
	q := strings.Join(scope, " ")
	if q == "" {
		q = "*"
	}
	key := func(r query.Row) (int64, uint64) {
		ms, _ := strconv.ParseInt(r.Get(event.FieldMessageTime), 10, 64)
		rid, _ := strconv.ParseUint(r.Get(query.FieldMessageID), 10, 64)
		return ms, rid
	}
	older := func(r query.Row) bool {
		ms, rid := key(r)
		return ms < anchorMs || ms == anchorMs && rid < anchorRid
	}
	out := &Surrounding{Message: rowMap(anchor), Before: []map[string]string{}, After: []map[string]string{}}
	if before > 0 {
		// Newest first, up to the anchor's millisecond included.
		rows, err := m.collect(ctx, q, at.Add(-surroundingSpan), at.Add(time.Millisecond), before+1000)
		if err != nil {
			return nil, err
		}
		var bs []query.Row
		for _, r := range rows {
			if older(r) {
				bs = append(bs, r)
				if len(bs) == before {
					break
				}
			}
		}
		for i := len(bs) - 1; i >= 0; i-- {
			out.Before = append(out.Before, rowMap(bs[i]))
		}
	}
	if after > 0 {
		// Searches return the newest messages first, so widen a window after
		// the message until it holds enough of them.
		var as []query.Row
		for _, w := range []time.Duration{time.Second, 10 * time.Second, time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour, surroundingSpan} {
			rows, err := m.collect(ctx, q, at, at.Add(w), 50_000)
			if err != nil {
				return nil, err
			}
			as = as[:0]
			for _, r := range rows {
				if r.Get(query.FieldMessageID) != id && !older(r) {
					as = append(as, r)
				}
			}
			if len(as) >= after {
				break
			}
		}
		sort.SliceStable(as, func(i, j int) bool {
			mi, ri := key(as[i])
			mj, rj := key(as[j])
			if mi != mj {
				return mi < mj
			}
			return ri < rj
		})
		for _, r := range as[:min(after, len(as))] {
			out.After = append(out.After, rowMap(r))
		}
	}
	return out, nil
}

// collect runs a non-aggregate query over [from, to) and returns its newest
// limit messages, newest first.
func (m *Manager) collect(ctx context.Context, text string, from, to time.Time, limit int) ([]query.Row, error) {
	q, err := query.Parse(text)
	if err != nil {
		return nil, &Error{Code: "searchjob.parse.error", Msg: err.Error(), Status: 400}
	}
	plan, err := query.Compile(q, query.CompileOptions{PushDown: true})
	if err != nil {
		return nil, &Error{Code: "searchjob.parse.error", Msg: err.Error(), Status: 400}
	}
	if plan.IsAggregate() {
		return nil, &Error{Code: "bad.request", Msg: "this needs a query without aggregates", Status: 400}
	}
	var sink rowsSink
	_, err = plan.Execute(ctx, m.store, query.ExecOptions{Range: query.Range{Start: from, End: to}, MaxMessages: limit, SkipMatchCount: true, Now: time.Now()}, &sink)
	return sink.rows, err
}

// rowsSink keeps the messages it receives.
type rowsSink struct{ rows []query.Row }

func (s *rowsSink) Messages(rows []query.Row) error { s.rows = append(s.rows, rows...); return nil }
func (s *rowsSink) Records([]query.FieldInfo, []query.Row) error {
	return nil
}

// rowMap turns a message into the API's map of lower-cased names.
func rowMap(r query.Row) map[string]string {
	m := make(map[string]string, len(r))
	for _, f := range r {
		m[strings.ToLower(f.Name)] = f.Value
	}
	return m
}

// quoteValue quotes a value for the query language.
func quoteValue(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
