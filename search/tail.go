package search

import (
	"context"
	"strings"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/query"
)

// TailConfig tunes a live tail.
type TailConfig struct {
	// Interval is the time between two looks for new messages (default 1s).
	Interval time.Duration
	// Lookback is how far behind now a new message's _messageTime may be and
	// still be seen (default 5 minutes).
	Lookback time.Duration
	// MaxPerTick bounds the messages one look returns (default 2000); more
	// new messages than that in one interval are dropped and counted.
	MaxPerTick int
	// MaxDuration ends the tail (default 1 hour).
	MaxDuration time.Duration
}

// TailUpdate is what a live tail delivers after each look: the new
// messages, oldest first.
type TailUpdate struct {
	Messages []map[string]string
	// Dropped counts new messages that did not fit in this update.
	Dropped bool
	// Time is when the look ran.
	Time time.Time
}

// Tail runs a live tail of a non-aggregate query: every interval it looks
// for matching messages that it has not seen yet and hands them to fn, until
// ctx ends, fn fails or the tail's time is up. The messages that exist when
// the tail starts are not delivered.
func (m *Manager) Tail(ctx context.Context, p *catalog.Principal, text string, cfg TailConfig, fn func(TailUpdate) error) error {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = 5 * time.Minute
	}
	if cfg.MaxPerTick <= 0 {
		cfg.MaxPerTick = 2000
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = time.Hour
	}
	if strings.TrimSpace(text) == "" {
		text = "*"
	}
	q, err := query.Parse(text)
	if err != nil {
		return &Error{Code: "searchjob.parse.error", Msg: err.Error(), Status: 400}
	}
	plan, err := query.Compile(q, query.CompileOptions{PushDown: true})
	if err != nil {
		return &Error{Code: "searchjob.parse.error", Msg: err.Error(), Status: 400}
	}
	if plan.IsAggregate() {
		return &Error{Code: "searchjob.tail.aggregate", Msg: "live tail shows messages: remove the aggregate operators from the query", Status: 400}
	}
	// A live tail runs its query again and again: it may read lookup
	// tables, never write them.
	tailEnv := m.envFor(p)
	tailEnv.AllowSave = false
	if err := m.checkEnv(ctx, plan, tailEnv); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxDuration)
	defer cancel()
	// The server's shutdown ends live tails (Close closes m.stop).
	go func() {
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()

	// seen holds the ids of the messages in the look-back window, with
	// their time, to tell new ones.
	seen := map[string]int64{}
	first := true
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		now := time.Now()
		var sink rowsSink
		opt := query.ExecOptions{
			Range:          query.Range{Start: now.Add(-cfg.Lookback), End: now.Add(cfg.Lookback)},
			MaxMessages:    cfg.MaxPerTick,
			SkipMatchCount: true,
			Now:            now,
			Env:            tailEnv,
		}
		if _, err := plan.Execute(ctx, m.store, opt, &sink); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		up := TailUpdate{Time: now}
		fresh := 0
		for i := len(sink.rows) - 1; i >= 0; i-- {
			r := sink.rows[i]
			id := r.Get(query.FieldMessageID)
			if id == "" {
				id = r.Get(event.FieldMessageTime) + "\x00" + r.Get(event.FieldRaw)
			}
			if _, ok := seen[id]; ok {
				continue
			}
			ms := int64(0)
			if v := r.Get(event.FieldMessageTime); v != "" {
				ms = parseInt(v)
			}
			seen[id] = ms
			fresh++
			if !first {
				up.Messages = append(up.Messages, rowMap(r))
			}
		}
		// A full look may have left new messages out.
		up.Dropped = !first && len(sink.rows) == cfg.MaxPerTick && fresh == len(sink.rows)
		floor := now.Add(-cfg.Lookback).UnixMilli()
		for id, ms := range seen {
			if ms < floor {
				delete(seen, id)
			}
		}
		if err := fn(up); err != nil {
			return err
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func parseInt(s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
