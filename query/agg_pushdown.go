package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
)

// Pushing aggregates down, with split and merge.
//
// Each aggregate function says how the engine computes its partial state
// (aggFn.engine): one or more functions of the stats pipe (count(),
// sum(f), uniq_values(f)...) and, when the engine's result is exact only on
// some rows, a LogsQL condition on the rows (cond: for sum, avg, min and
// max, "the field is empty or a plain integer", agg_numeric.go). A stage is
// pushable when every function has an engine form and its input is
// messages. The engine then computes, per group,
//
//	<messages> [| filter G] | stats by (<keys>) <parts> as "_dohyo.a0", ..., count() as "_dohyo.rows" | limit <groups+1>
//
// and Go merges each group's parts into the state of the Go operator
// (mergeEngine), which renders the records as if it had seen the rows.
//
// Split and merge. Rows can fail two kinds of conditions:
//
//   - G, the conjunction of the functions' conditions (and, for a stage
//     grouping by one field, of the field's: the engine rewrites some
//     integer-looking values when it groups by one field or counts
//     distinct values, "1_000" as 1000 and "-0" as 0). The engine's query
//     also counts the rows failing G (count() if (not (G))). None, the
//     common case: its results are exact and the run ends there. Some: the
//     engine computes the partial groups again over the rows satisfying G
//     (filter G), and the rows failing it, <messages> | filter not (G),
//     stream into the Go operator, which adds them to the same groups.
//   - the conditions of conditionally pushed stages before the aggregate
//     (json, pushdown_cond.go). When the check of decideConditional finds
//     rows failing them, the plan no longer falls back to Go from the first
//     conditional stage: it keeps the pushed plan for the rows satisfying
//     them (the pushed pipes filter on them) and streams the other rows,
//     <scope> | <pipes before the first conditional stage> | filter not (C),
//     through the Go operators of the stages from the first conditional one
//     into the same Go aggregate.
//
// The three sets of rows (engine, failing G, failing C) are disjoint and
// cover the input. Every pushable function merges: counts and sums add
// (avg is a sum and a count), min and max compare, count_distinct and
// values unite the value sets (count_distinct asks the engine for its
// values, uniq_values, rather than count_uniq when rows are split), and
// count_frequent and top add counts per combination before ranking. The
// functions without an engine form (first, last, most_recent,
// least_recent, stddev, pct, median) make the whole stage run in Go.
//
// A sum the engine may not have computed exactly (a group whose count
// times its largest absolute value reaches 2^53) makes the run discard the
// engine's results and compute the aggregate in Go.
//
// The group limit holds for the merged groups: the engine returns at most
// the limit plus one group, and the Go operator fails when the merge would
// exceed the limit.
//
// A timeslice the aggregate groups by is computed in the stats by-list
// (op_timeslice.go); the Go streams of a split compute it in Go before the
// aggregate.

// aggEngine is how the engine computes the partial state of an aggregate
// function.
type aggEngine struct {
	// parts are stats functions computing the partial state, in the order
	// the state's mergeEngine expects their values.
	parts []string
	// split, when not nil, replaces parts when the rows are split between
	// the engine and Go (count_distinct: the values rather than their
	// number).
	split []string
	// cond is a LogsQL filter on the rows entering the aggregate under
	// which the engine's result is exact ("" when it always is).
	cond string
	// field, when cond is numericCond(field): behind guarded wheres on
	// it (where_guard.go) its rows satisfy guardCond(field) instead, and
	// guarded, when not nil, replaces parts.
	field   string
	guarded []string
}

// engineMerger is implemented by the states of pushable functions: merge
// the engine's partial values (one per part) into the state.
type engineMerger interface {
	mergeEngine(vals []string, split bool) error
}

// errInexactPush says that the engine's partial result cannot be trusted
// (a sum reaching 2^53): the aggregate runs again in Go.
var errInexactPush = errors.New("the engine's partial aggregate is not exact")

// failColumn counts the rows failing the functions' conditions.
var failColumn = event.InternalFieldPrefix + "fail"

// partialColumn is the engine's column of part i of a pushed aggregate.
func partialColumn(i int) string { return event.InternalFieldPrefix + "a" + strconv.Itoa(i) }

// enginePlan is a pushed aggregate's stats pipe for one run.
type enginePlan struct {
	pipe string
	// cols[f] are the engine columns of function f's parts.
	cols [][]string
	// keyCols are the engine columns of the keys; keyTime marks those
	// holding RFC3339 times to convert to epoch ms.
	keyCols []string
	keyTime []bool
	// counter is the column counting each group's input rows: the
	// counter asked for, or a function's own count() (one count per row
	// fewer: 10% of '* | timeslice 1h | count by _timeslice').
	counter string
}

// rewrittenIntRegexp matches the values the engine reads as integers and
// writes back otherwise when it groups by a single field or counts
// distinct values (tryParseUint64 skips underscores: "1_000" is 1000, "_"
// is 0; "-0" is 0).
const rewrittenIntRegexp = `^-?[0-9_]*_[0-9_]*$`

// canonicalCond is the LogsQL condition under which the engine keeps the
// values of field f as they are when grouping by it alone or counting its
// distinct values: f is not one it rewrites.
func canonicalCond(f string) string {
	q := logsQLString(storageField(f))
	// The substring test first: the engine runs the anchored regexp (no
	// fast path) only on the values holding an underscore, which every
	// value it matches has; on every row, it was a third of the query's
	// time (bench/query).
	return "not ((" + q + `:~"_" ` + q + ":~" + logsQLString(rewrittenIntRegexp) + ") or " + q + `:="-0")`
}

// engineCond is the conjunction of the functions' conditions (and of the
// by-field's, when the stage groups by one field and no check of the
// engine's output replaces it).
func (a *aggImpl) engineCond() string { return joinConds(a.engineConds(!a.keyCheck, nil)) }

// engineConds are the conditions engineCond joins; keyGuard adds the
// single by-field's, and a function's condition on one of the guarded
// fields is guardCond's (Plan.guardedFields).
func (a *aggImpl) engineConds(keyGuard bool, guarded []string) []string {
	var conds []string
	seen := map[string]bool{}
	if keyGuard && a.singleKey() && !a.verbatimKey() {
		c := canonicalCond(a.keys[0].name)
		seen[c] = true
		conds = append(conds, c)
	}
	for _, fn := range a.funcs {
		e, _ := fn.engine()
		c := e.cond
		if e.field != "" && slices.Contains(guarded, e.field) {
			c = guardCond(e.field)
		}
		if c != "" && !seen[c] {
			seen[c] = true
			conds = append(conds, c)
		}
	}
	return conds
}

// joinConds is the conjunction of LogsQL conditions.
func joinConds(conds []string) string {
	out := make([]string, len(conds))
	for i, c := range conds {
		out[i] = c
		if !strings.HasPrefix(c, "(") {
			out[i] = "(" + c + ")"
		}
	}
	return strings.Join(out, " ")
}

// verbatimKeyColumn is a column no row has: grouping by it besides a
// field makes the engine group by two fields, whose values it keeps as
// they are (only a single by-field's integer-looking values are read as
// numbers, pipe_stats.go getPipeStatsGroupGeneric), so no row can fail the
// key's canonicalCond.
const verbatimKeyColumn = event.InternalFieldPrefix + "verbatim"

// verbatimKey reports whether the stage's single key is grouped with
// verbatimKeyColumn rather than guarded by canonicalCond: when an earlier
// stage makes the key (json, parse...), whose values the engine computes
// in a pipe. For a stored column (_sourceHost) the engine's single-field
// grouping is much faster (it reads per-block constant and dictionary
// values once) and the guard costs little, so it stays (bench/query -try).
func (a *aggImpl) verbatimKey() bool {
	if !a.singleKey() || a.in.records || a.keyCheck {
		return false
	}
	_, made := a.in.field(a.keys[0].name)
	return made
}

// singleKey reports whether the stage groups by one field of the rows.
func (a *aggImpl) singleKey() bool {
	return len(a.keys) == 1 && a.keys[0].virtual == nil && a.keys[0].name != event.FieldMessageTime
}

// Checked keys. Grouping by a single stored column (or a pushed copy of
// one: json "eventName" reading _json.eventName) is fastest without a
// per-row guard: the engine reads each block's dictionary or constant
// values once, and the guard's test of every row took a third of the time
// of 'json "eventName" | count by eventName' (bench/query -try). The rows
// the engine would rewrite ("1_000" as 1000, "_" and "-0" as 0) come out
// as keys that are integers, and only then: a run with keyCheck set groups
// without canonicalCond and, when a key of the engine's output is an
// integer, runs again with it (errKeyRewritten). Keys of other kinds
// (eventName, _sourceHost) never pay for the guard; integer keys pay for
// one cheap query more.

// errKeyRewritten says that a checked key may have been rewritten.
var errKeyRewritten = errors.New("a key of the engine's output may be rewritten")

// intKey reports whether the engine may have written key k for a value it
// read as an integer: digits with an optional minus.
func intKey(k string) bool {
	k = strings.TrimPrefix(k, "-")
	return k != "" && strings.Trim(k, "0123456789") == ""
}

// markKeyCheck sets keyCheck on the plan's first aggregate when its single
// key is a stored column or a copy a conditionally pushed json step makes
// of one, with only such steps and fused timeslices after it.
func (p *Plan) markKeyCheck() {
	if p.firstAgg < 0 {
		return
	}
	a, ok := p.steps[p.firstAgg].impl.(*aggImpl)
	if !ok || !a.singleKey() || a.in.records {
		return
	}
	key := a.keys[0].name
	if _, made := a.in.field(key); !made {
		a.keyCheck = true
		return
	}
	for i := p.firstAgg - 1; i >= 0; i-- {
		if t, ok := p.steps[i].impl.(*timesliceImpl); ok && t.fused && !strings.EqualFold(t.name, key) {
			continue
		}
		j, ok := p.steps[i].impl.(*jsonImpl)
		if !ok {
			return
		}
		if _, _, ok := j.condLogsQL(); !ok {
			return
		}
		if slices.Contains(j.outs, key) {
			a.keyCheck = true
			return
		}
	}
}

// statsPipe builds the stats pipe; binds gives the timeslice keys' buckets
// (nil renders them for a one-day range in UTC, for Explain).
//
// With fail set, the pipe also counts the rows failing that condition
// (failColumn).
//
// guarded are the fields of the guarded wheres in front of the aggregate
// (Plan.guardedFields).
func (a *aggImpl) statsPipe(split bool, binds map[*timesliceImpl]sliceBinding, counter, fail string, guarded []string) enginePlan {
	var ep enginePlan
	var by []string
	for _, k := range a.keys {
		switch {
		case k.virtual != nil:
			b, ok := binds[k.virtual]
			if !ok {
				b = k.virtual.bind(nil)
			}
			by = append(by, b.engineBy())
			ep.keyCols = append(ep.keyCols, engineTimeField)
			ep.keyTime = append(ep.keyTime, true)
		case k.name == event.FieldMessageTime:
			by = append(by, engineTimeField+":1ms")
			ep.keyCols = append(ep.keyCols, engineTimeField)
			ep.keyTime = append(ep.keyTime, true)
		default:
			by = append(by, logsQLString(storageField(k.name)))
			ep.keyCols = append(ep.keyCols, storageField(k.name))
			ep.keyTime = append(ep.keyTime, false)
		}
	}
	if a.verbatimKey() {
		by = append(by, logsQLString(verbatimKeyColumn))
	}
	var funcs []string
	index := map[string]string{}
	usedCol := map[string]bool{}
	for _, fn := range a.funcs {
		e, _ := fn.engine()
		parts := e.parts
		switch {
		case e.guarded != nil && slices.Contains(guarded, e.field):
			parts = e.guarded
		case split && e.split != nil:
			parts = e.split
		}
		var cols []string
		for _, part := range parts {
			col, ok := index[part]
			if !ok {
				col = partialColumn(len(index))
				if len(parts) == 1 && !usedCol[fn.columns()[0].Name] {
					col = fn.columns()[0].Name // the value itself: name it so
				}
				usedCol[col] = true
				index[part] = col
				funcs = append(funcs, part+" as "+logsQLString(col))
			}
			cols = append(cols, col)
		}
		ep.cols = append(ep.cols, cols)
	}
	if col, ok := index["count()"]; ok && counter != "" {
		ep.counter = col
	} else if counter != "" {
		ep.counter = counter
		funcs = append(funcs, "count() as "+logsQLString(counter))
	}
	if fail != "" {
		funcs = append(funcs, "count() if (not ("+fail+")) as "+logsQLString(failColumn))
	}
	var b strings.Builder
	b.WriteString("stats ")
	if len(by) > 0 {
		b.WriteString("by (" + strings.Join(by, ", ") + ") ")
	}
	b.WriteString(strings.Join(funcs, ", "))
	ep.pipe = b.String()
	return ep
}

// logsQL is the pipe of the stage pushed entirely (no split).
func (a *aggImpl) logsQL(rowsCounter string) (string, bool) {
	if !a.pushable {
		return "", false
	}
	fail := ""
	if rowsCounter != "" {
		fail = a.engineCond() // as the run does (runPushedAggregate)
	}
	return a.statsPipe(false, nil, rowsCounter, fail, nil).pipe, true
}

// pushedAggregate returns the first aggregate when it is pushed and is an
// aggregate stage of op_aggregate.go.
func (p *Plan) pushedAggregate() (*aggImpl, bool) {
	if !p.aggregatePushed() {
		return nil, false
	}
	a, ok := p.steps[p.firstAgg].impl.(*aggImpl)
	return a, ok
}

// canSplit reports whether the plan's rows failing the conditions of its
// conditionally pushed stages can run in Go while the engine computes the
// aggregate over the others.
func (p *Plan) canSplit() bool {
	_, ok := p.pushedAggregate()
	return ok
}

// virtualSteps returns the fused timeslice steps before step end.
func (p *Plan) virtualSteps(end int) []int {
	var out []int
	for i := 0; i < end && i < len(p.steps); i++ {
		if t, ok := p.steps[i].impl.(*timesliceImpl); ok && t.fused {
			out = append(out, i)
		}
	}
	return out
}

// bindTimeslices computes the fused timeslices' buckets for the run; ok is
// false when one of them has no fixed offset over the range, then the
// index of the first such step.
func (p *Plan) bindTimeslices(x *runContext) (map[*timesliceImpl]sliceBinding, int, bool) {
	binds := map[*timesliceImpl]sliceBinding{}
	for _, i := range p.virtualSteps(p.firstAgg) {
		t := p.steps[i].impl.(*timesliceImpl)
		b := t.bind(x)
		if !b.fixed() {
			return nil, i, false
		}
		binds[t] = b
	}
	return binds, 0, true
}

// runPushedAggregate runs a plan whose first aggregate is pushed: the
// engine's partial groups, the Go streams of a split, the merge and the
// stages after the aggregate, whose records it collects into coll.
func (p *Plan) runPushedAggregate(ctx context.Context, st store.Store, opt ExecOptions, a *aggImpl, coll *recordCollector, stats *Stats) error {
	err := p.runPushedAggregateKeys(ctx, st, opt, a, coll, stats, !a.keyCheck)
	if errors.Is(err, errKeyRewritten) {
		// An integer key: again with the guard (checked keys, above).
		err = p.runPushedAggregateKeys(ctx, st, opt, a, coll, stats, true)
	}
	return err
}

// runPushedAggregateKeys is runPushedAggregate, with the single by-field's
// guard when keyGuard is set; without it, errKeyRewritten when a key of
// the engine's output is an integer.
func (p *Plan) runPushedAggregateKeys(ctx context.Context, st store.Store, opt ExecOptions, a *aggImpl, coll *recordCollector, stats *Stats, keyGuard bool) error {
	optimistic := p.cond != nil && p.cond.optimistic
	emptyKeyFails := optimistic && p.condInKeys(a)
	condOuts := map[string]bool{}
	if emptyKeyFails {
		for _, i := range p.cond.steps {
			for _, out := range p.steps[i].impl.(*jsonImpl).outs {
				condOuts[out] = true
			}
		}
	}
	binds, unfused, ok := p.bindTimeslices(opt.run)
	if !ok && optimistic {
		return errConditionFails
	}
	if !ok {
		// A DST change in the range: the timeslice and everything
		// after it run in Go.
		d := *p
		d.pushed = p.unguarded(unfused)
		if d.cond != nil && d.cond.split {
			d.pushed = min(d.pushed, d.cond.first)
			d.cond = nil
		}
		return d.runGoAggregate(ctx, st, opt, coll, stats)
	}
	start, end := opt.Range.Start.UnixNano(), opt.Range.End.UnixNano()
	g := p.aggCondKeys(a, keyGuard) // with the guarded wheres' (where_guard.go)
	failC := p.cond != nil && p.cond.split
	msgs := p.messagesLogsQL()
	after := p.buildChain(coll, len(p.steps), nil, opt.run)
	var op *aggOp
	var merged, failing int64
	// partial runs the engine's part: over every row, or with filterG over
	// those satisfying G; countFails counts the rows failing G.
	partial := func(split, filterG, countFails bool) error {
		op = a.newAggOp(after, opt.run)
		merged, failing = 0, 0
		fail := ""
		if countFails {
			fail = g
		}
		ep := a.statsPipe(split, binds, rowsCounterColumn, fail, p.guardedFields())
		q := msgs
		if filterG {
			q += " | filter " + g
		}
		q += " | " + ep.pipe + " | limit " + strconv.Itoa(a.limit+1)
		return runEngine(ctx, st, opt, q, start, end, func(b *store.Block) error {
			if !keyGuard {
				if c := b.Column(ep.keyCols[0]); c != nil && slices.ContainsFunc(c.Values, intKey) {
					return errKeyRewritten
				}
			}
			if emptyKeyFails {
				// Rows failing the conditions (pushdown_cond.go condInKeys).
				for k, name := range ep.keyCols {
					if ep.keyTime[k] || !condOuts[a.keys[k].name] {
						continue
					}
					if c := b.Column(name); c == nil || slices.Contains(c.Values[:b.Rows()], "") {
						return errConditionFails
					}
				}
			}
			n, f, err := op.mergeBlock(b, &ep, split)
			merged += n
			failing += f
			if (optimistic || !keyGuard) && errors.Is(err, ErrTooManyGroups) {
				// The limit may be reached only through groups the
				// checks would have discarded (an empty key, a
				// rewritten one): decide as without the shortcut.
				if optimistic {
					return errConditionFails
				}
				return errKeyRewritten
			}
			return err
		})
	}
	failG := false
	var err error
	switch {
	case g == "":
		err = partial(failC, false, false)
	case !failC:
		// One query when every row satisfies G (the common case); its
		// count of failing rows says whether to split.
		if err = partial(false, false, true); err == nil && failing > 0 {
			if optimistic {
				return errConditionFails // pushdown_cond.go
			}
			failG = true
			err = partial(true, true, false)
		}
	default:
		failG = true
		err = partial(true, true, false)
	}
	if errors.Is(err, errInexactPush) && optimistic {
		return errConditionFails
	}
	if errors.Is(err, errInexactPush) {
		d := *p
		d.pushed = p.firstAgg
		if vs := p.virtualSteps(p.firstAgg); len(vs) > 0 {
			d.pushed = vs[0]
		}
		d.pushed = p.unguarded(d.pushed)
		if d.cond != nil && d.cond.split {
			d.pushed = min(d.pushed, d.cond.first)
			d.cond = nil
		}
		return d.runGoAggregate(ctx, st, opt, coll, stats)
	}
	if err != nil {
		return err
	}
	stats.MessagesMatched += merged
	if failG {
		// The rows failing G, from the engine's pipes through the
		// guarded wheres, exact in Go, into the Go aggregate (computing
		// the fused timeslices first).
		var head rowSink = &countingOp{n: &stats.MessagesMatched, next: op}
		for _, i := range reverse(p.guardSteps()) {
			head = newStageOperator(p.steps[i].impl, head, opt.run)
		}
		for _, i := range reverse(p.virtualSteps(p.firstAgg)) {
			head = newStageOperator(p.steps[i].impl, head, opt.run)
		}
		gq := msgs + " | filter not (" + g + ")" + p.goFieldsPipe(a)
		if err := runCompactMessages(ctx, st, opt, gq, start, end, head); err != nil { // only the aggregate, guarded wheres and timeslices see them
			return err
		}
	}
	if failC {
		// The rows failing the conditional stages' conditions, through
		// the Go stages from the first conditional one.
		d := *p
		d.pushed = p.cond.first
		d.cond = nil
		var head rowSink = &countingOp{n: &stats.MessagesMatched, next: op}
		for i := p.firstAgg - 1; i >= d.pushed; i-- {
			head = newStageOperator(p.steps[i].impl, head, opt.run)
		}
		// Fused timeslices before the first conditional stage: their
		// field is computed in Go (it commutes with the stages between).
		for _, i := range reverse(p.virtualSteps(d.pushed)) {
			head = newStageOperator(p.steps[i].impl, head, opt.run)
		}
		cq := d.goMessagesLogsQLFiltered(p.cond.complementFilter())
		if err := d.runPlanMessages(ctx, st, opt, cq, start, end, head); err != nil {
			return err
		}
	}
	return op.finish()
}

func reverse(xs []int) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[len(xs)-1-i] = x
	}
	return out
}

// goFieldsPipe keeps only the fields the Go aggregate and the guarded
// wheres read (the engine then sends little): the keys, the arguments
// (plain fields, since the stage is pushable) and what orders messages.
func (p *Plan) goFieldsPipe(a *aggImpl) string {
	fields := []string{engineTimeField, logsQLString(event.FieldRowID)}
	seen := map[string]bool{}
	add := func(name string) {
		if name == event.FieldMessageTime || seen[name] {
			return
		}
		seen[name] = true
		fields = append(fields, logsQLString(storageField(name)))
	}
	for _, k := range a.keys {
		if k.virtual == nil {
			add(k.name)
		}
	}
	for _, f := range a.fieldsRead {
		add(f)
	}
	if p.guarding() {
		for _, f := range p.guard.fields {
			add(f)
		}
	}
	return " | fields " + strings.Join(fields, ", ")
}

// runGoAggregate runs the plan with its aggregate in Go over the messages
// the engine (or Go) computes, collecting the records into coll.
func (p *Plan) runGoAggregate(ctx context.Context, st store.Store, opt ExecOptions, coll *recordCollector, stats *Stats) error {
	start, end := opt.Range.Start.UnixNano(), opt.Range.End.UnixNano()
	chain := p.buildChain(coll, len(p.steps), &stats.MessagesMatched, opt.run)
	var src rowSink = chain
	if opt.Progress != nil {
		src = &progressOp{n: &stats.MessagesMatched, fn: opt.Progress, next: chain}
	}
	if err := p.runPlanMessages(ctx, st, opt, p.goMessagesLogsQL(), start, end, src); err != nil {
		return err
	}
	return chain.finish()
}

// mergeBlock merges the engine's partial groups into the operator's groups
// and returns the sums of their input counters and of their counts of rows
// failing the conditions.
func (o *aggOp) mergeBlock(b *store.Block, ep *enginePlan, split bool) (int64, int64, error) {
	n := b.Rows()
	keyCols := make([]*store.Column, len(ep.keyCols))
	for i, name := range ep.keyCols {
		keyCols[i] = b.Column(name)
	}
	partCols := make([][]*store.Column, len(ep.cols))
	for f, cols := range ep.cols {
		for _, name := range cols {
			partCols[f] = append(partCols[f], b.Column(name))
		}
	}
	var counter *store.Column
	if ep.counter != "" {
		counter = b.Column(ep.counter)
	}
	failCol := b.Column(failColumn)
	var inputs, fails int64
	keys := make([]string, len(keyCols))
	var vals []string
	for i := 0; i < n; i++ {
		for k, c := range keyCols {
			v := ""
			if c != nil {
				v = c.Values[i]
			}
			if ep.keyTime[k] && v != "" {
				ns, err := parseEngineTime(v)
				if err != nil {
					return inputs, fails, err
				}
				v = strconv.FormatInt(time.Unix(0, ns).UnixMilli(), 10)
			}
			keys[k] = v
		}
		if failCol != nil && failCol.Values[i] != "0" {
			// Rows of this group fail G: the run discards these
			// results and splits, and the partial values need not be
			// readable (min and max of a non-numeric value). The
			// group is not made: only rows a guarded where drops may
			// have made it (where_guard.go).
			k, err := engineInt(failCol.Values[i])
			if err != nil {
				return inputs, fails, err
			}
			fails += k
			continue
		}
		g, err := o.groupOf(keys)
		if err != nil {
			return inputs, fails, err
		}
		for f, cols := range partCols {
			vals = vals[:0]
			for _, c := range cols {
				v := ""
				if c != nil {
					v = c.Values[i]
				}
				vals = append(vals, v)
			}
			m, ok := g.accs[f].(engineMerger)
			if !ok {
				return inputs, fails, fmt.Errorf("aggregate function %d cannot merge the engine's results", f)
			}
			if err := m.mergeEngine(vals, split); err != nil {
				return inputs, fails, err
			}
		}
		if counter != nil {
			k, err := engineInt(counter.Values[i])
			if err != nil {
				return inputs, fails, err
			}
			inputs += k
		}
		if failCol != nil {
			k, err := engineInt(failCol.Values[i])
			if err != nil {
				return inputs, fails, err
			}
			fails += k
		}
	}
	return inputs, fails, nil
}

// explainSplit describes how a pushed aggregate splits its rows.
func (a *aggImpl) explainSplit(p *Plan) string {
	var b strings.Builder
	msgs := p.messagesLogsQL()
	for _, i := range p.virtualSteps(p.firstAgg) {
		fmt.Fprintf(&b, "zone:    %s: in the stats by-list when the time zone's offset is fixed over the range, else it and the stages after it run in Go\n", p.steps[i].impl.explain())
	}
	if a.keyCheck {
		fmt.Fprintf(&b, "keys:    when a key of the engine's output is an integer (it may have read \"1_000\" as 1000), the run starts again with %s\n", canonicalCond(a.keys[0].name))
	}
	if p.cond != nil && p.cond.optimistic && p.condInKeys(a) {
		fmt.Fprintf(&b, "check:   when a group's key copied from an ingest-time field is empty (rows failing %s) or a row fails %s (counted above), the run starts again as below\n", p.cond.condFilter(), p.aggCond(a))
		return b.String()
	}
	if p.cond != nil && p.cond.optimistic {
		fmt.Fprintf(&b, "check:   when a row fails %s (the engine's query above counts them), the run starts again as below\n", p.aggCond(a))
		return b.String()
	}
	if g := p.aggCond(a); g != "" {
		ep := a.statsPipe(true, nil, rowsCounterColumn, "", p.guardedFields())
		var ops []string
		for _, i := range p.guardSteps() {
			ops = append(ops, p.steps[i].impl.explain())
		}
		ops = append(ops, a.text)
		fmt.Fprintf(&b, "split:   when a row fails %s (the engine's query above also counts them: count() if (not (...))), instead:\n", g)
		fmt.Fprintf(&b, "           engine: %s | filter %s | %s\n", msgs, g, ep.pipe)
		fmt.Fprintf(&b, "           go:     %s | filter not (%s)%s -> %s\n", msgs, g, p.goFieldsPipe(a), strings.Join(ops, " -> "))
		b.WriteString("           merged group by group\n")
	}
	if p.cond != nil && p.cond.split {
		d := *p
		d.pushed = p.cond.first
		d.cond = nil
		var ops []string
		for _, i := range p.virtualSteps(d.pushed) {
			ops = append(ops, p.steps[i].impl.explain())
		}
		for i := d.pushed; i < p.firstAgg; i++ {
			ops = append(ops, p.steps[i].impl.explain())
		}
		ops = append(ops, a.text)
		fmt.Fprintf(&b, "split:   rows failing %s run in Go: %s -> %s; merged group by group\n",
			p.cond.condFilter(), d.goMessagesLogsQLFiltered(p.cond.complementFilter()), strings.Join(ops, " -> "))
	}
	return b.String()
}
