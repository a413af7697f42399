package query

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
)

// Conditional push-down.
//
// Some stages give the Go results in the engine only on some rows: json
// "a.b" as x is a copy of the ingest-time field _json.a.b on the rows that
// have it, and needs _raw parsed on the others (not JSON, an object at a.b,
// beyond the extraction's bounds...). Such a stage implements condPusher:
// a LogsQL condition C and the pipe that computes the stage on the rows
// satisfying C.
//
// The planner pushes a conditional stage like any other (and goes on
// pushing the stages after it), remembering the conditions in Plan.cond;
// the pushed pipe of such a stage is "filter C | <pipe>". Before running,
// the executor (decideConditional) asks the engine whether any row reaching
// the first conditional stage fails a condition:
//
//	<scope> | <pushed pipes before it> | filter not (C1 C2 ...) | limit 1
//
// which costs little (it stops at the first such row, and the filter on the
// presence of a column mostly reads column headers). No row: every row
// satisfies every condition (the conditions only read ingest-time fields,
// which no stage changes, so a later stage's condition holds wherever it
// held at the first), the filters keep every row, and the pushed plan is
// exact; it runs, entirely in the engine when the rest is pushable. Some
// row: the plan falls back to pushing only the stages before the first
// conditional one, and the rest runs in Go over all rows (where the json
// operator still reads the ingest-time field of each row that has it).
// Explain shows both plans and the check; ExplainRun makes the check and
// shows the plan chosen. Rows added between the check and the run are the
// usual race of a search over a range still being written.
//
// # Split and merge (for later)
//
// When the check finds rows failing a condition, the rows that satisfy it
// could still be computed by the engine: an aggregate whose partial results
// merge (count, sum, min, max, count_distinct by exact sets...) can run as
//
//	engine: <scope> | <pipes> | filter C | <pipe> | ... | stats ...   (partial groups)
//	go:     <scope> | <pipes> | filter not (C)  → Go stages → the same aggregate
//
// and merge the two tables group by group. condPlan keeps what that needs:
// the index of the first conditional step, the conditions (condFilter) and
// the complement filter (complementFilter); an aggregate would add a merge
// method to aggregateImpl, and executeAggregate would run both halves.

// condPusher is implemented by stageImpls that the engine computes exactly
// on the rows satisfying a LogsQL condition.
type condPusher interface {
	// condLogsQL returns the condition (a LogsQL filter) and the pipe
	// computing the stage on the rows satisfying it, or ok=false.
	condLogsQL() (cond, pipe string, ok bool)
}

// ingestJSONUser is implemented by stageImpls whose Go operator reads
// ingest-time JSON fields (with the _json. prefix) from rows; the executor
// copies them into hidden fields (hiddenJSONField) of the messages.
type ingestJSONUser interface {
	ingestFields() []string
}

// condPlan records the conditionally pushed steps of a plan.
type condPlan struct {
	first int      // index of the first conditionally pushed step
	steps []int    // the conditional steps
	conds []string // their conditions
	// decided is set once the check found that every row satisfies the
	// conditions.
	decided bool
	// split is set when the check found rows failing them and the pushed
	// aggregate after the steps runs on the others while Go computes it
	// over the failing rows, the results merged (agg_pushdown.go).
	split bool
	// optimistic is set on the plan that runs without the check: the
	// conditional steps' pipes leave their filters out and the pushed
	// aggregate counts the rows failing the conditions with those failing
	// its own (optimisticPlan).
	optimistic bool
}

// pushConditionally adds step i to the pushed steps when it can be pushed
// under a condition.
func (p *Plan) pushConditionally(i int) bool {
	impl := p.steps[i].impl
	cp, ok := impl.(condPusher)
	if !ok || impl.aggregate() {
		return false
	}
	cond, _, ok := cp.condLogsQL()
	if !ok {
		return false
	}
	if p.cond == nil {
		p.cond = &condPlan{first: i}
	}
	p.cond.steps = append(p.cond.steps, i)
	p.cond.conds = append(p.cond.conds, cond)
	return true
}

// pushedPipe is the LogsQL of pushed step i.
func (p *Plan) pushedPipe(i int) string {
	if pipe, ok := p.guardedPipe(i); ok {
		return pipe // where_guard.go
	}
	if p.cond != nil {
		for k, j := range p.cond.steps {
			if j == i {
				_, pipe, _ := p.steps[i].impl.(condPusher).condLogsQL()
				if p.cond.optimistic {
					return pipe
				}
				return "filter " + p.cond.conds[k] + " | " + pipe
			}
		}
	}
	if c, ok := p.steps[i].impl.(*parseImpl); ok && p.uncheckedParse(i, c) {
		pipe, _ := c.pushedLogsQL(false)
		return pipe
	}
	pipe, _ := p.steps[i].impl.logsQL("")
	return pipe
}

// condFilter is the conjunction of the conditions.
func (c *condPlan) condFilter() string {
	if len(c.conds) == 1 {
		return c.conds[0]
	}
	return "(" + strings.Join(c.conds, ") (") + ")"
}

// complementFilter selects the rows failing some condition.
func (c *condPlan) complementFilter() string { return "not (" + c.condFilter() + ")" }

// complementLogsQL finds a row reaching the first conditional step that
// fails a condition.
func (p *Plan) complementLogsQL() string {
	var b strings.Builder
	b.WriteString(p.engineFilter())
	for i := 0; i < p.cond.first; i++ {
		if pipe := p.pushedPipe(i); pipe != "" { // a fused timeslice has none (op_timeslice.go)
			b.WriteString(" | " + pipe)
		}
	}
	b.WriteString(" | filter " + p.cond.complementFilter() + " | limit 1 | fields " + engineTimeField)
	return b.String()
}

// decideConditional checks the conditions of a plan with conditional steps
// over the run's range and returns the plan to run: the pushed plan when
// every row satisfies them, else the plan pushing only the steps before
// the first conditional one.
func (p *Plan) decideConditional(ctx context.Context, st store.Store, opt ExecOptions) (*Plan, error) {
	if p.cond == nil || p.cond.decided {
		return p, nil
	}
	failing := false
	err := runEngine(ctx, st, opt, p.complementLogsQL(), opt.Range.Start.UnixNano(), opt.Range.End.UnixNano(), func(b *store.Block) error {
		if b.Rows() > 0 {
			failing = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if failing {
		return p.withoutConditional(), nil
	}
	d := *p
	c := *p.cond
	c.decided = true
	d.cond = &c
	return &d, nil
}

// errConditionFails ends the run of an optimistic plan when some row fails
// a condition (or the aggregate leaves the engine): the run starts again
// with the check.
var errConditionFails = errors.New("some rows fail the conditions of the pushed stages")

// optimisticPlan is the plan running without the check of the conditions,
// or nil: when the messages are not ordered (no tail), the first aggregate
// is pushed and the steps from the first
// conditional one up to it are conditional or fused timeslices, the
// aggregate's query counts the rows failing the conditions (with those
// failing its own, agg_pushdown.go) instead of a query of its own
// beforehand. The conditions read ingest-time fields no stage in between
// writes (json writes the fields it names, never _json.*), so they hold at
// the aggregate where they held at the first conditional step. None fails,
// the common case: one query, exact. Some: errConditionFails, and the run
// goes on as without it (the check, then the chosen plan).
func (p *Plan) optimisticPlan() *Plan {
	if p.cond == nil || p.cond.decided || !p.canSplit() || p.tail >= 0 {
		return nil
	}
	isCond := map[int]bool{}
	for _, i := range p.cond.steps {
		isCond[i] = true
	}
	for i := p.cond.first; i < p.firstAgg; i++ {
		if t, ok := p.steps[i].impl.(*timesliceImpl); !isCond[i] && !(ok && t.fused) {
			return nil
		}
	}
	d := *p
	c := *p.cond
	c.decided, c.optimistic = true, true
	d.cond = &c
	return &d
}

// condInKeys reports whether every field the conditional steps copy is a
// key of the pushed aggregate a, under the name of the copy. A row failing
// a condition lacks the ingest-time field, so its copy is empty, and the
// engine groups it under an empty key: an optimistic run then finds the
// rows failing the conditions among the engine's groups (a group with an
// empty key) instead of counting them row by row. A row whose field is
// there but empty is such a row too: the engine keeps no empty value.
func (p *Plan) condInKeys(a *aggImpl) bool {
	keys := map[string]bool{}
	for _, k := range a.keys {
		if k.virtual == nil {
			keys[k.name] = true
		}
	}
	for _, i := range p.cond.steps {
		j, ok := p.steps[i].impl.(*jsonImpl)
		if !ok {
			return false
		}
		for _, out := range j.outs {
			if !keys[out] {
				return false
			}
		}
	}
	return true
}

// withoutConditional is the plan for rows failing the conditions: the one
// pushing only the steps before the first conditional one, or, when the
// aggregate after them can split its rows, the pushed plan with the
// failing rows computed in Go and merged (agg_pushdown.go).
func (p *Plan) withoutConditional() *Plan {
	d := *p
	if p.canSplit() {
		c := *p.cond
		c.decided, c.split = true, true
		d.cond = &c
		return &d
	}
	d.pushed = p.cond.first
	d.cond = nil
	return &d
}

// goMessagesLogsQL is the engine query of the messages entering Go
// operators: the ingest-time JSON fields the Go operators read are copied
// into hidden fields and the others deleted, so that the engine neither
// reads nor sends them.
func (p *Plan) goMessagesLogsQL() string { return p.goMessagesLogsQLFiltered("") }

// goMessagesLogsQLFiltered is goMessagesLogsQL keeping only the rows
// satisfying the LogsQL filter (none when ""), which may read ingest-time
// JSON fields.
func (p *Plan) goMessagesLogsQLFiltered(filter string) string {
	var copies, hidden []string
	seen := map[string]bool{}
	for i := p.pushed; i < p.messageSteps(); i++ {
		u, ok := p.steps[i].impl.(ingestJSONUser)
		if !ok {
			continue
		}
		for _, f := range u.ingestFields() {
			if !seen[f] {
				seen[f] = true
				h := logsQLString(hiddenJSONField(strings.TrimPrefix(f, event.JSONFieldPrefix)))
				copies = append(copies, logsQLString(f)+" as "+h)
				hidden = append(hidden, h)
			}
		}
	}
	q := p.messagesLogsQL() + p.prefilterPipe() // where_prefilter.go
	if filter != "" {
		q += " | filter " + filter
	}
	if len(copies) > 0 {
		q += " | copy " + strings.Join(copies, ", ")
	}
	if pipe := p.prunePipe(hidden); pipe != "" {
		return q + pipe // only the columns the Go stages read (prune.go)
	}
	return q + " | delete " + logsQLString(event.JSONFieldPrefix+"*")
}

// explainConditional describes a plan with conditional steps: the check
// and the two plans it chooses between.
func (p *Plan) explainConditional() string {
	held := *p
	c := *p.cond
	c.decided = true
	held.cond = &c
	var b strings.Builder
	if o := p.optimisticPlan(); o != nil {
		fmt.Fprintf(&b, "condition: every message has %s   (counted by the aggregate's query of the first plan; when some message fails it or G, checked: %s)\n", p.cond.condFilter(), p.complementLogsQL())
		b.WriteString("first:\n")
		b.WriteString(indentLines(o.Explain()))
		b.WriteString("when the check holds:\n")
	} else {
		fmt.Fprintf(&b, "condition: every message has %s   (checked before running: %s)\n", p.cond.condFilter(), p.complementLogsQL())
		b.WriteString("when it holds:\n")
	}
	b.WriteString(indentLines(held.Explain()))
	b.WriteString("otherwise:\n")
	b.WriteString(indentLines(p.withoutConditional().Explain()))
	return b.String()
}

func indentLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString("  " + l)
		}
	}
	return b.String()
}

// ExplainRun is Explain after the run-time checks of the plan (conditional
// push-down) over the range of opt: it says which plan a run would use.
func (p *Plan) ExplainRun(ctx context.Context, st store.Store, opt ExecOptions) (string, error) {
	if p.cond == nil {
		return p.Explain(), nil
	}
	d, err := p.decideConditional(ctx, st, opt)
	if err != nil {
		return "", err
	}
	verdict := "holds for every message: pushed down"
	if d.cond != nil && d.cond.split {
		verdict = "fails for some messages: they run in Go and the aggregate's results merge"
	} else if d.cond == nil {
		verdict = "fails for some messages: run in Go from stage " + fmt.Sprint(p.cond.first+1)
	}
	return fmt.Sprintf("condition: every message has %s: %s\n", p.cond.condFilter(), verdict) + d.Explain(), nil
}
