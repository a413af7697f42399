package query

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
)

// Execution support for the mining operators (logreduce, logcompare and
// their drill-downs; op_logreduce.go, op_logcompare.go).
//
// # Fed from the engine's blocks
//
// A blockAggregator is an aggregate whose state is built from a few fields
// of each message and merges: logreduce's template miners, logreduce keys'
// schema counts, logreduce values' value counts. When every stage before
// it runs in the engine, the executor does not convert the engine's rows
// into messages: it asks the engine for those fields only ("| fields
// _msg"), and each engine worker feeds its own partial state straight from
// the blocks it produces, in parallel; the partial states are merged at the
// end (the miners guarantee that the merged result does not depend on how
// the rows were split). Otherwise the same partial state is fed row by row
// by the stage's Go operator (blockRowOp), so the all-Go mode of the tests
// checks the block path against the row path.
//
// # Mining before the run
//
// A stage whose rows depend on the whole input (logreduce details keeps the
// messages of one signature, which needs the signatures of the whole range;
// logcompare mines a baseline over another range) is bound before each run
// (Plan.bindMining) to a miningRunner, which runs the stages before it over
// a range into a mining aggregate (miningRunner.run), the block path
// included. The signatures of the whole search range are mined once per
// run and cached on the compiled stage (mineCache), so that a search job's
// histogram, which runs over windows of the range (ExecOptions.SearchRange),
// sees the same signatures as its messages.

// blockAggregator is an aggregate stageImpl built from mergeable partial
// states fed with the values of a few fields per message.
type blockAggregator interface {
	aggregateImpl
	// blockFields are the fields read per message, in the order add
	// receives them.
	blockFields() []string
	// newPartial returns an empty partial state; one per engine worker.
	newPartial() blockPartial
	// finishPartials merges the partial states (of disjoint parts of the
	// input, in any order), pushes the stage's records to next and
	// finishes next.
	finishPartials(x *runContext, parts []blockPartial, next rowSink) error
}

// blockPartial is the partial state of a blockAggregator. add receives the
// values of blockFields of one message ("" for null); vals is reused after
// the call.
type blockPartial interface {
	add(vals []string) error
}

// blockRowOp is the Go operator of a blockAggregator: one partial state fed
// row by row.
type blockRowOp struct {
	impl   blockAggregator
	x      *runContext
	next   rowSink
	part   blockPartial
	fields []string
	vals   []string
}

func newBlockRowOp(impl blockAggregator, next rowSink, x *runContext) *blockRowOp {
	fields := impl.blockFields()
	return &blockRowOp{impl: impl, x: x, next: next, part: impl.newPartial(), fields: fields, vals: make([]string, len(fields))}
}

func (o *blockRowOp) push(rows []Row) error {
	for _, r := range rows {
		for i, f := range o.fields {
			o.vals[i] = r.Get(f)
		}
		if err := o.part.add(o.vals); err != nil {
			return err
		}
	}
	return nil
}

func (o *blockRowOp) finish() error {
	return o.impl.finishPartials(o.x, []blockPartial{o.part}, o.next)
}

// blockAggregate returns the plan's first aggregate when the engine can
// feed it its fields directly: every stage before it (and the scope) runs
// in the engine, and the engine's columns hold exactly the values the Go
// rows would (not _messageTime, which Go formats from _time).
func (p *Plan) blockAggregate() (blockAggregator, bool) {
	if p.firstAgg < 0 || p.tail >= 0 || !p.scopePushed || p.pushed != p.firstAgg || (p.cond != nil && !p.cond.decided) {
		return nil, false
	}
	ba, ok := p.steps[p.firstAgg].impl.(blockAggregator)
	if !ok {
		return nil, false
	}
	for _, f := range ba.blockFields() {
		if f == event.FieldMessageTime || strings.HasPrefix(storageField(f), event.InternalFieldPrefix) {
			return nil, false
		}
	}
	return ba, true
}

// blockLogsQL is the engine query feeding a blockAggregator: the pushed
// stages, then only the fields it reads.
func (p *Plan) blockLogsQL(ba blockAggregator) string {
	var cols []string
	seen := map[string]bool{}
	for _, f := range ba.blockFields() {
		c := storageField(f)
		if !seen[c] {
			seen[c] = true
			cols = append(cols, logsQLString(c))
		}
	}
	return p.messagesLogsQL() + " | fields " + strings.Join(cols, ", ")
}

// runBlockAggregate runs the plan's first aggregate (a blockAggregator) fed
// by the engine's blocks in parallel, then the stages after it, into out.
func (p *Plan) runBlockAggregate(ctx context.Context, st store.Store, opt ExecOptions, ba blockAggregator, out rowSink, stats *Stats) error {
	fields := ba.blockFields()
	var (
		mu        sync.Mutex // guards free, all and the progress calls
		free, all []blockPartial
		n         atomic.Int64
	)
	err := st.Query(ctx, store.Query{
		Tenant:       opt.Tenant,
		LogsQL:       p.blockLogsQL(ba),
		Start:        opt.Range.Start.UnixNano(),
		End:          opt.Range.End.UnixNano() - 1,
		ShowInternal: true,
		Now:          opt.Now,
	}, func(b *store.Block) error {
		mu.Lock()
		var part blockPartial
		if k := len(free); k > 0 {
			part, free = free[k-1], free[:k-1]
		} else {
			part = ba.newPartial()
			all = append(all, part)
		}
		mu.Unlock()
		cols := make([][]string, len(fields))
		for i, f := range fields {
			if c := b.Column(storageField(f)); c != nil {
				cols[i] = c.Values
			}
		}
		vals := make([]string, len(fields))
		rows := b.Rows()
		var err error
		for r := 0; r < rows && err == nil; r++ {
			for i, c := range cols {
				if c != nil {
					vals[i] = c[r]
				}
			}
			err = part.add(vals)
		}
		total := n.Add(int64(rows))
		mu.Lock()
		free = append(free, part)
		if opt.Progress != nil && err == nil {
			opt.Progress(total)
		}
		mu.Unlock()
		return err
	})
	if err == nil {
		err = ctx.Err()
	}
	stats.MessagesMatched += n.Load()
	if err != nil {
		return err
	}
	after := *p
	after.pushed, after.scopePushed = p.firstAgg+1, true
	next := after.buildChain(out, len(p.steps), nil, opt.run)
	return ba.finishPartials(opt.run, all, next)
}

// ---- mining before the run ----

// miningBinder is implemented by the stageImpls that need runs of the
// stages before them (drill-downs, logcompare's baseline) before or while
// they run.
type miningBinder interface {
	bindMining(r *miningRunner, step int) stageImpl
}

// miningRunner runs prefixes of a plan for one run (Execute or Histogram).
type miningRunner struct {
	p   *Plan // the plan with its mining stages bound
	ctx context.Context
	st  store.Store
	opt ExecOptions
}

// bindMining returns the plan to run with its mining stages bound to a
// runner of its prefixes (p itself when there is none).
func (p *Plan) bindMining(ctx context.Context, st store.Store, opt ExecOptions) *Plan {
	var idx []int
	for i, s := range p.steps {
		if _, ok := s.impl.(miningBinder); ok {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return p
	}
	cp := *p
	cp.steps = append([]step(nil), p.steps...)
	r := &miningRunner{p: &cp, ctx: ctx, st: st, opt: opt}
	for _, i := range idx {
		cp.steps[i].impl = p.steps[i].impl.(miningBinder).bindMining(r, i)
	}
	return &cp
}

// searchRange is the range whose signatures a drill-down keeps: the whole
// search's (ExecOptions.SearchRange) when this run covers a part of it.
func (r *miningRunner) searchRange() Range {
	if sr := r.opt.SearchRange; sr.End.After(sr.Start) {
		return sr
	}
	return r.opt.Range
}

// cacheKey identifies the data a mining over the search range sees: the
// tenant, the range and the query's clock (a search job's messages and
// histogram share them).
func (r *miningRunner) cacheKey() string {
	sr := r.searchRange()
	var now int64
	if r.opt.run != nil {
		now = r.opt.run.now
	}
	return fmt.Sprintf("%d/%d/%d/%d", r.opt.Tenant, sr.Start.UnixNano(), sr.End.UnixNano(), now)
}

// run runs the message stages before step n over rng into agg, an
// aggregate whose operator keeps what it mined (its records are dropped).
// scope, when not nil, replaces the query's scope (logcompare's baseline).
// The run has its own range but shares the query's clock and warnings.
func (r *miningRunner) run(n int, scope Expr, rng Range, agg aggregateImpl) error {
	if err := checkRange(rng); err != nil {
		return err
	}
	p := r.p
	cp := *p
	cp.steps = append(p.steps[:n:n], step{stage: p.steps[n].stage, impl: agg, in: p.steps[n].in})
	cp.firstAgg = n
	cp.out = agg.output()
	cp.pushed = min(p.pushed, n)
	cp.tail = cp.findTail()
	if scope != nil {
		cp.matcher, cp.scopeLogsQL = compileMatcher(scope), scopeLogsQL(scope)
		q := *p.query
		q.Scope = scope
		cp.query = &q
	}
	so := r.opt
	so.Range = rng
	so.MaxMessages, so.Progress, so.SkipMatchCount = 0, nil, false
	rc := newRunContext(so)
	if r.opt.run != nil {
		rc.now, rc.warns = r.opt.run.now, r.opt.run.warns
	}
	so.run = rc
	dp, err := cp.decideConditional(r.ctx, r.st, so)
	if err != nil {
		return err
	}
	bp, _, err := dp.bindEnv(r.ctx, so, false)
	if err != nil {
		return err
	}
	sink := &recordsSink{}
	if bp.tail >= 0 {
		_, err = bp.executeTail(r.ctx, r.st, so, sink)
	} else {
		_, err = bp.executeAggregate(r.ctx, r.st, so, sink)
	}
	return err
}

// mineCache remembers the results of minings over a search range, so that
// the runs of one search (messages, histogram windows) mine once. Safe for
// concurrent use: a second caller of a key being computed waits for it.
type mineCache struct {
	mu      sync.Mutex
	entries []*mineEntry
}

type mineEntry struct {
	key  string
	done chan struct{}
	val  any
	err  error
}

// mineCacheSize is how many results a compiled stage remembers.
const mineCacheSize = 4

// get returns the value of key, computing it with fn when it is not known.
// A failed computation is forgotten.
func (c *mineCache) get(key string, fn func() (any, error)) (any, error) {
	c.mu.Lock()
	for _, e := range c.entries {
		if e.key == key {
			c.mu.Unlock()
			<-e.done
			return e.val, e.err
		}
	}
	e := &mineEntry{key: key, done: make(chan struct{})}
	if len(c.entries) >= mineCacheSize {
		c.entries = c.entries[1:]
	}
	c.entries = append(c.entries, e)
	c.mu.Unlock()
	e.val, e.err = fn()
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		for i, x := range c.entries {
			if x == e {
				c.entries = append(c.entries[:i:i], c.entries[i+1:]...)
				break
			}
		}
		c.mu.Unlock()
	}
	return e.val, e.err
}

// mineHolder is the aggregate of a mining run: it merges the partial states
// of a blockAggregator into dst instead of emitting records.
type mineHolder struct {
	blockAggregator
	// keep receives the partial states when the run finishes.
	keep func(parts []blockPartial) error
}

func (h *mineHolder) newOperator(next rowSink) rowSink { return newBlockRowOp(h, next, nil) }

func (h *mineHolder) newRunOperator(next rowSink, x *runContext) rowSink {
	return newBlockRowOp(h, next, x)
}

func (h *mineHolder) finishPartials(_ *runContext, parts []blockPartial, next rowSink) error {
	if err := h.keep(parts); err != nil {
		return err
	}
	return next.finish()
}

// groupKey appends the key of a group of values (the by-fields of a row)
// to dst: each value with its length, so that no two lists share a key.
func groupKey(dst []byte, vals []string) []byte {
	for _, v := range vals {
		dst = strconv.AppendInt(dst, int64(len(v)), 10)
		dst = append(dst, ':')
		dst = append(dst, v...)
	}
	return dst
}

// blockAggregateExplain writes the engine line of a plan whose first
// aggregate is fed from the engine's blocks, and reports whether it is one.
func (p *Plan) blockAggregateExplain(b *strings.Builder) bool {
	ba, ok := p.blockAggregate()
	if !ok {
		return false
	}
	fmt.Fprintf(b, "engine:  %s   (blocks fed to %q in parallel, one partial state per engine worker)\n", p.blockLogsQL(ba), p.steps[p.firstAgg].stage.Name())
	return true
}
