package query

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// runContext carries what expression evaluation needs from one run of a
// plan (one Plan.Execute or Plan.Histogram): the query's clock and time
// range, its time zone, and the warnings collected while running. Execute
// makes one per run and hands it to every Go operator (see
// runOperatorMaker); all evaluators of the run receive it. A nil
// *runContext is valid: the clock is then time.Now, the range empty, the
// zone UTC, and warnings are dropped.
type runContext struct {
	now        int64 // epoch ms
	start, end int64 // epoch ms, [start, end)
	loc        *time.Location
	warns      *warnings
}

// newRunContext makes the context of a run with options opt.
func newRunContext(opt ExecOptions) *runContext {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	return &runContext{
		now:   now.UnixMilli(),
		start: opt.Range.Start.UnixMilli(),
		end:   opt.Range.End.UnixMilli(),
		loc:   loc,
		warns: &warnings{},
	}
}

// nowMillis is the query's execution time (now()), epoch ms.
func (x *runContext) nowMillis() int64 {
	if x == nil {
		return time.Now().UnixMilli()
	}
	return x.now
}

// location is the query's time zone.
func (x *runContext) location() *time.Location {
	if x == nil || x.loc == nil {
		return time.UTC
	}
	return x.loc
}

// warn records a warning for the user. Identical messages are counted, not
// repeated, so operators may call it once per row: build the message at
// compile time (no formatting per row) and pass it here.
func (x *runContext) warn(msg string) {
	if x != nil && x.warns != nil {
		x.warns.add(msg)
	}
}

// warnf formats and records a warning; for rare events only.
func (x *runContext) warnf(format string, args ...any) {
	if x != nil && x.warns != nil {
		x.warns.add(fmt.Sprintf(format, args...))
	}
}

// warningList returns the warnings of the run, in the order they first
// occurred, each with its count when it occurred more than once.
func (x *runContext) warningList() []string {
	if x == nil || x.warns == nil {
		return nil
	}
	return x.warns.list()
}

// maxWarnings bounds the distinct warnings of a run.
const maxWarnings = 100

// warnings collects distinct warning messages with their counts. Safe for
// concurrent use.
type warnings struct {
	mu     sync.Mutex
	counts map[string]int64
	order  []string
	lost   int64
}

func (w *warnings) add(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.counts == nil {
		w.counts = make(map[string]int64)
	}
	if _, ok := w.counts[msg]; !ok {
		if len(w.order) >= maxWarnings {
			w.lost++
			return
		}
		// A message may hold a row's value, which may borrow the
		// engine's block (runCompactMessages).
		msg = strings.Clone(msg)
		w.order = append(w.order, msg)
	}
	w.counts[msg]++
}

func (w *warnings) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.order) == 0 {
		return nil
	}
	out := make([]string, 0, len(w.order)+1)
	for _, m := range w.order {
		if n := w.counts[m]; n > 1 {
			m = fmt.Sprintf("%s (%d times)", m, n)
		}
		out = append(out, m)
	}
	if w.lost > 0 {
		out = append(out, fmt.Sprintf("%d more warnings of other kinds", w.lost))
	}
	return out
}

// sortedWarnings is list() sorted, for tests.
func sortedWarnings(ws []string) []string {
	out := append([]string(nil), ws...)
	sort.Strings(out)
	return out
}

// runOperatorMaker is implemented by the stageImpls whose Go operator needs
// the run's context (expressions: now(), formatDate's zone, warnings). The
// executor calls newRunOperator instead of newOperator when it is there.
type runOperatorMaker interface {
	newRunOperator(next rowSink, x *runContext) rowSink
}

// newStageOperator makes the Go operator of impl for a run.
func newStageOperator(impl stageImpl, next rowSink, x *runContext) rowSink {
	if m, ok := impl.(runOperatorMaker); ok {
		return m.newRunOperator(next, x)
	}
	return impl.newOperator(next)
}
