package monitors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/query"
)

// alignDown returns the latest multiple of freq (counted from the Unix
// epoch, so UTC-aligned) at or before t.
func alignDown(t time.Time, freq time.Duration) time.Time {
	n := t.UnixNano()
	f := int64(freq)
	r := n % f
	if r < 0 {
		r += f
	}
	return time.Unix(0, n-r).UTC()
}

// nextWindowEnd returns the end of the next window to evaluate: the first
// aligned end after the last one evaluated, or, for a monitor that has
// none yet, the latest complete window at now.
func nextWindowEnd(sp *Spec, last, now time.Time) time.Time {
	f := sp.Frequency.D()
	if last.IsZero() {
		return alignDown(now.Add(-sp.Delay.D()), f)
	}
	return alignDown(last, f).Add(f)
}

// nextDue returns when the monitor's next evaluation is due.
func nextDue(sp *Spec, rec *catalog.MonitorRecord, now time.Time, errorRetry time.Duration) time.Time {
	end := nextWindowEnd(sp, rec.Schedule.LastWindowEnd, now)
	due := end.Add(sp.Delay.D())
	if rec.Schedule.LastError != "" {
		if retry := rec.Schedule.LastEvalAt.Add(min(sp.Frequency.D(), errorRetry)); retry.After(due) {
			due = retry
		}
	}
	return due
}

// Start runs the scheduler and the notifier in the background until Stop.
func (s *Service) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.schedulerLoop(ctx)
	}()
	go func() {
		defer s.wg.Done()
		s.notifierLoop(ctx)
	}()
}

// Stop stops the background loops and waits for running evaluations and
// deliveries to end (an evaluation cut short commits nothing: its window
// is evaluated again at the next start).
func (s *Service) Stop() {
	if s.stop != nil {
		s.stop()
	}
	s.wg.Wait()
}

func (s *Service) schedulerLoop(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		s.dispatch(ctx, &wg)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-s.clock.After(s.cfg.Tick):
		}
	}
}

// RunOnce evaluates every window that is due now, of every enabled
// monitor, and returns when done. The background loop does the same on
// every tick; tests call it with a fake clock.
func (s *Service) RunOnce(ctx context.Context) error {
	var wg sync.WaitGroup
	err := s.dispatch(ctx, &wg)
	wg.Wait()
	return err
}

// dispatch starts the evaluation of each enabled monitor with due windows
// that is not being evaluated already.
func (s *Service) dispatch(ctx context.Context, wg *sync.WaitGroup) error {
	recs, err := s.cat.ListMonitors(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("monitors: cannot list monitors", "err", err)
		}
		return err
	}
	now := s.clock.Now()
	for _, rec := range recs {
		if !rec.Enabled {
			continue
		}
		sp, err := decodeSpec(rec)
		if err != nil {
			s.mu.Lock()
			logged := s.badSpecs[rec.ID] == rec.Spec
			s.badSpecs[rec.ID] = rec.Spec
			s.mu.Unlock()
			if !logged {
				s.log.Error("monitors: bad stored definition; the monitor is not evaluated until it is fixed", "id", rec.ID, "err", err)
			}
			continue
		}
		if nextDue(sp, rec, now, s.cfg.ErrorRetry).After(now) {
			continue
		}
		s.mu.Lock()
		busy := s.inflight[rec.ID]
		if !busy {
			s.inflight[rec.ID] = true
		}
		s.mu.Unlock()
		if busy {
			continue
		}
		wg.Add(1)
		go func(rec *catalog.MonitorRecord, sp *Spec) {
			defer wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.inflight, rec.ID)
				s.mu.Unlock()
			}()
			select {
			case s.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-s.sem }()
			if err := s.evaluateDue(ctx, rec, sp); err != nil && ctx.Err() == nil {
				s.log.Warn("monitors: evaluation stopped", "monitor", rec.Name, "id", rec.ID, "err", err)
			}
		}(rec, sp)
	}
	return nil
}

// evaluateDue evaluates the due windows of one monitor, oldest first.
func (s *Service) evaluateDue(ctx context.Context, rec *catalog.MonitorRecord, sp *Spec) error {
	f := sp.Frequency.D()
	now := s.clock.Now()
	latest := alignDown(now.Add(-sp.Delay.D()), f)
	next := nextWindowEnd(sp, rec.Schedule.LastWindowEnd, now)
	if next.After(latest) {
		return nil
	}
	pending := int(latest.Sub(next)/f) + 1
	if pending > s.cfg.MaxCatchUp {
		// Skip the oldest windows beyond the catch-up bound, and say so.
		first := latest.Add(-time.Duration(s.cfg.MaxCatchUp-1) * f)
		skipped := pending - s.cfg.MaxCatchUp
		sched := rec.Schedule
		sched.LastWindowEnd = first.Add(-f)
		from := next.Add(-sp.Window.D())
		details, _ := json.Marshal(map[string]any{"windows": skipped, "from": from.UTC(), "to": sched.LastWindowEnd.UTC()})
		ev := catalog.MonitorEvent{At: now, Kind: KindSkipped, WindowStart: from, WindowEnd: sched.LastWindowEnd, Details: details,
			Message: fmt.Sprintf("skipped %d windows ending %s to %s: more than %d were due (the server was down, or the monitor failing)",
				skipped, next.UTC().Format(time.RFC3339), sched.LastWindowEnd.UTC().Format(time.RFC3339), s.cfg.MaxCatchUp)}
		if _, err := s.cat.CommitMonitorEvaluation(ctx, &catalog.MonitorCommit{MonitorID: rec.ID, Version: rec.Version,
			PrevWindowEnd: rec.Schedule.LastWindowEnd, Schedule: sched, Events: []catalog.MonitorEvent{ev}}); err != nil {
			return err
		}
		s.log.Warn("monitors: skipped windows", "monitor", rec.Name, "windows", skipped)
		rec.Schedule = sched
		next = first
	}
	for end := next; !end.After(latest); end = end.Add(f) {
		ok, err := s.evaluateWindow(ctx, rec, sp, end)
		if err != nil || !ok {
			return err
		}
	}
	return nil
}

// evaluateWindow evaluates the window ending at end and commits the
// outcome. ok=false when the evaluation failed (the failure is recorded
// and the window will be retried).
func (s *Service) evaluateWindow(ctx context.Context, rec *catalog.MonitorRecord, sp *Spec, end time.Time) (bool, error) {
	win := query.Range{Start: end.Add(-sp.Window.D()), End: end}
	prev, err := s.cat.MonitorAlerts(ctx, rec.ID)
	if err != nil {
		return false, err
	}
	var firing []string
	for _, a := range prev {
		firing = append(firing, a.GroupKey)
	}
	res, runErr := s.cfg.Runner.Run(ctx, RunRequest{Query: sp.Query, Range: win, Now: end, User: rec.CreatedBy})
	if ctx.Err() != nil {
		return false, ctx.Err() // shutting down: commit nothing
	}
	now := s.clock.Now()
	muted := rec.MutedUntil.After(now)
	cm := &catalog.MonitorCommit{MonitorID: rec.ID, Version: rec.Version, PrevWindowEnd: rec.Schedule.LastWindowEnd}
	sched := rec.Schedule
	sched.LastEvalAt = now
	var tr *transition
	if runErr != nil {
		msg := runErr.Error()
		if sched.LastError == "" {
			sched.ErrorSince = now
			tr = &transition{}
			ev := catalog.MonitorEvent{At: now, Kind: KindError, Severity: SevError, WindowStart: win.Start, WindowEnd: win.End, Message: msg}
			tr.events = append(tr.events, ev)
			tr.notices = append(tr.notices, notice{kind: KindError, severity: SevError, alert: &catalog.MonitorAlert{GroupKey: "#error", Value: msg, Since: now}, event: 0})
		}
		sched.LastError, sched.ErrorCount = msg, sched.ErrorCount+1
		if sched.LastWindowEnd.IsZero() {
			// A new monitor's first window failed: make it the next one
			// (instead of starting over at the latest window).
			sched.LastWindowEnd = end.Add(-sp.Frequency.D())
		}
		s.log.Warn("monitors: evaluation failed", "monitor", rec.Name, "id", rec.ID, "window_end", end, "err", runErr)
	} else {
		out := Decide(sp, res, firing)
		tr = applyOutcome(sp, now, win, prev, out, muted)
		if sched.LastError != "" {
			msg := fmt.Sprintf("evaluations succeed again after %d failures since %s", sched.ErrorCount, sched.ErrorSince.UTC().Format(time.RFC3339))
			tr.events = append(tr.events, catalog.MonitorEvent{At: now, Kind: KindRecovered, Severity: SevError, WindowStart: win.Start, WindowEnd: win.End, Message: msg})
			tr.notices = append(tr.notices, notice{kind: KindRecovered, severity: SevError, alert: &catalog.MonitorAlert{GroupKey: "#error", Value: sched.LastError, Since: sched.ErrorSince}, event: len(tr.events) - 1})
		}
		sched.LastWindowEnd, sched.LastResultCount = end, out.ResultCount
		sched.LastError, sched.ErrorSince, sched.ErrorCount = "", time.Time{}, 0
		s.attachOutcome(tr, out)
	}
	cm.Schedule = sched
	if tr != nil {
		if err := s.fanOut(ctx, rec, sp, tr, win, muted); err != nil {
			return false, err
		}
		for _, a := range tr.upserts {
			cm.Upserts = append(cm.Upserts, *a)
		}
		cm.Deletes, cm.Events = tr.deletes, tr.events
		cm.Notifications = tr.outbox
	}
	if _, err := s.cat.CommitMonitorEvaluation(ctx, cm); err != nil {
		if errors.Is(err, catalog.ErrConflict) {
			return false, nil // changed meanwhile: the next pass starts over
		}
		return false, err
	}
	rec.Schedule = sched
	if len(cm.Notifications) > 0 {
		signal(s.notify)
	}
	return runErr == nil, nil
}

// attachOutcome keeps the outcome's totals for the payloads.
func (s *Service) attachOutcome(tr *transition, out *Outcome) { tr.outcome = out }
