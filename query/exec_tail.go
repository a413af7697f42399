package query

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
)

// Ordered message stages: sort, limit, dedup and the row-window operators
// over messages.
//
// A query over messages normally runs in time windows, newest window first
// (exec.go): each window's messages go through the stages row by row and
// the window's output, sorted newest first, is delivered before the next
// (older) window runs. That is exact only for stages that look at one
// message at a time. A stage whose result depends on the order of its input
// (limit, dedup, accum...) or that changes the order (sort) needs the whole
// stream in its order; such a stage starts the plan's message tail
// (Plan.tail):
//
//   - the head (the stages before it, pushed to the engine or in Go) runs in
//     windows as before, newest window first, each window's output sorted
//     newest first (time, then row id), so that the head's output is the
//     whole stream in the default order;
//   - the tail (that stage and every stage after it, including aggregates)
//     is one chain of Go operators built once for the run and fed the
//     head's output window by window; its output is delivered in its own
//     order (Sink.Messages), or, for an aggregate query, the records at
//     the end.
//
// The walk stops early when nothing later can change the result: when the
// tail starts with "limit N" the head only needs its first N messages (the
// engine computes them per window with sort ... limit N when the head is
// pushed); a limit reached inside the tail (after streaming stages such as
// dedup) stops the walk; and so does a full MaxMessages when
// SkipMatchCount is set.
//
// Stages that need their whole input before emitting anything (sort, the
// row-window operators) hold at most ExecOptions.MaxBufferedMessages
// messages and fail beyond, naming the limit, rather than use unbounded
// memory; a sort followed by "limit N" (or, as the last stage, bounded by
// MaxMessages) keeps only its first N messages (a top-N heap) and has no
// such limit. A sort by _messageTime alone, newest first, is the default
// order and is not a tail stage. A sort by _messageTime oldest first after
// a pushed head is computed by the engine over the whole range (sort by
// (_time, row id) limit N), see sortImpl.
//
// Histogram over a plan with a tail counts the tail's output (a sort
// whose order no later message stage observes passes its messages through
// unsorted there).

// orderRole says how a stage over messages relates to their order.
type orderRole uint8

const (
	// orderFree: row by row, the order does not matter.
	orderFree orderRole = iota
	// orderProducer: the stage reorders its input (sort).
	orderProducer
	// orderConsumer: the stage's result depends on the order of its input
	// (limit, dedup, accum...).
	orderConsumer
)

// messageOrderer is implemented by the stageImpls whose result over
// messages depends on or changes their order. It is asked only of stages
// whose input is messages.
type messageOrderer interface {
	messageOrder() orderRole
}

// tailOptions configure a tail operator.
type tailOptions struct {
	// maxBuffer is the most messages an operator needing all its input
	// may hold.
	maxBuffer int
	// topK, for a sort, is the number of leading messages of its order
	// anything after it can observe (a following limit, or MaxMessages
	// for the last stage); 0 means all.
	topK int
	// unordered, for a sort, says that nothing after it observes its
	// order (Histogram): it may pass its input through.
	unordered bool
	// defaultOrder says that the operator's input is in the default order
	// (newest first): no stage before it in the tail reorders.
	defaultOrder bool
}

// tailOperatorMaker is implemented by the stageImpls whose Go operator over
// messages takes tail options.
type tailOperatorMaker interface {
	newTailOperator(next rowSink, x *runContext, o tailOptions) rowSink
}

// tailStopper is implemented by tail operators that can tell that they
// will not let anything more through (a reached limit).
type tailStopper interface {
	saturated() bool
}

// DefaultMaxBufferedMessages is the most messages a messages-level sort (or
// another stage that needs its whole input: accum, total, ... over
// messages) holds when ExecOptions.MaxBufferedMessages is 0.
const DefaultMaxBufferedMessages = 100000

// errBufferLimit is the error of a tail stage holding too many messages.
func errBufferLimit(stage string, limit int) error {
	return fmt.Errorf("%q over messages needs all of them in memory and there are more than %d (ExecOptions.MaxBufferedMessages); add \"| limit N\" after it, narrow the query, or aggregate first", stage, limit)
}

// findTail returns the index of the first message step that needs the
// ordered stream, or -1.
func (p *Plan) findTail() int {
	for i := 0; i < p.messageSteps(); i++ {
		if o, ok := p.steps[i].impl.(messageOrderer); ok && !p.steps[i].in.records && o.messageOrder() != orderFree {
			return i
		}
	}
	return -1
}

// headPushed reports whether the engine computes every stage before the
// tail.
func (p *Plan) headPushed() bool { return p.scopePushed && p.pushed >= p.tail }

// headLimit is N when the tail starts with "limit N", else 0.
func (p *Plan) headLimit() int {
	if l, ok := p.steps[p.tail].impl.(*limitImpl); ok && !l.in.records {
		return l.n
	}
	return 0
}

func maxBuffered(opt ExecOptions) int {
	if opt.MaxBufferedMessages > 0 {
		return opt.MaxBufferedMessages
	}
	return DefaultMaxBufferedMessages
}

// buildTailChain builds the Go operators of steps [p.tail, end) feeding
// out. counter, when not nil, counts the rows entering the first aggregate.
// It returns the chain and the operators that can stop the walk.
//
// With skipFirst the first tail stage (a sort the engine computes) is left
// out.
func (p *Plan) buildTailChain(out rowSink, end int, opt ExecOptions, counter *int64, histogram, skipFirst bool) (rowSink, []tailStopper) {
	var stoppers []tailStopper
	if s, ok := out.(tailStopper); ok {
		stoppers = append(stoppers, s)
	}
	head := out
	for i := end - 1; i >= p.tail; i-- {
		s := p.steps[i]
		if i == p.tail && skipFirst {
			break
		}
		if m, ok := s.impl.(tailOperatorMaker); ok && !s.in.records {
			o := tailOptions{maxBuffer: maxBuffered(opt)}
			if next := i + 1; next < end {
				if l, ok := p.steps[next].impl.(*limitImpl); ok && !l.in.records {
					o.topK = l.n
				}
			} else if !histogram && !p.IsAggregate() && opt.MaxMessages > 0 {
				o.topK = opt.MaxMessages
			}
			o.defaultOrder = true
			for j := p.tail; j < i; j++ {
				if om, ok := p.steps[j].impl.(messageOrderer); ok && om.messageOrder() == orderProducer {
					o.defaultOrder = false
				}
			}
			if histogram {
				o.unordered = true
				for j := i + 1; j < end; j++ {
					if om, ok := p.steps[j].impl.(messageOrderer); ok && !p.steps[j].in.records && om.messageOrder() == orderConsumer {
						o.unordered = false
					}
				}
			}
			head = m.newTailOperator(head, opt.run, o)
		} else {
			head = newStageOperator(s.impl, head, opt.run)
		}
		if st, ok := head.(tailStopper); ok {
			stoppers = append(stoppers, st)
		}
		if i == p.firstAgg && counter != nil {
			head = &countingOp{n: counter, next: head}
		}
	}
	return head, stoppers
}

// executeTail runs a plan with a message tail.
func (p *Plan) executeTail(ctx context.Context, st store.Store, opt ExecOptions, sink Sink) (Stats, error) {
	var stats Stats
	var out rowSink
	var coll *recordCollector
	var deliver *messageDeliverer
	var counter *int64
	if p.IsAggregate() {
		coll = &recordCollector{}
		out = coll
		counter = &stats.MessagesMatched
	} else {
		deliver = &messageDeliverer{sink: sink, max: opt.MaxMessages, stopWhenFull: opt.SkipMatchCount}
		out = deliver
	}
	eng := p.engineSortable()
	chain, stoppers := p.buildTailChain(out, len(p.steps), opt, counter, false, eng != nil)
	err := func() error {
		if eng != nil {
			rows, err := p.engineSortedRows(ctx, st, opt, eng)
			if err != nil {
				return err
			}
			if err := chain.push(rows); err != nil {
				return err
			}
		} else if err := p.feedTail(ctx, st, opt, chain, stoppers); err != nil {
			return err
		}
		return chain.finish()
	}()
	if err != nil && !errors.Is(err, errDeliveryFull) {
		return stats, err
	}
	if deliver != nil {
		if err := deliver.flush(); err != nil {
			return stats, err
		}
		stats.MessagesMatched = deliver.n
		return stats, nil
	}
	fields := p.recordFields(coll.rows) // op_transpose.go
	rows := conformRecords(coll.rows, fields)
	stats.RecordCount = len(rows)
	if err := sink.Records(fields, rows); err != nil {
		return stats, err
	}
	return stats, nil
}

// histogramTail counts the output of the message part of a plan with a
// tail per bucket.
func (p *Plan) histogramTail(ctx context.Context, st store.Store, opt ExecOptions, bs *bucketSink) error {
	chain, stoppers := p.buildTailChain(bs, p.messageSteps(), opt, nil, true, false)
	if err := p.feedTail(ctx, st, opt, chain, stoppers); err != nil {
		return err
	}
	return chain.finish()
}

// feedTail walks the range newest window first and pushes the head's
// output into the tail chain, until the range is done, the head's limit is
// reached or a stopper is saturated.
func (p *Plan) feedTail(ctx context.Context, st store.Store, opt ExecOptions, chain rowSink, stoppers []tailStopper) error {
	start, end := opt.Range.Start.UnixNano(), opt.Range.End.UnixNano()
	limit := p.headLimit()
	remaining := limit
	var fed int64
	w := max((end-start)/64, minWindow)
	cursor := end
	for cursor > start {
		if err := ctx.Err(); err != nil {
			return err
		}
		from := max(cursor-w, start)
		rows, err := p.headWindow(ctx, st, opt, from, cursor, remaining)
		if err != nil {
			return err
		}
		fed += int64(len(rows))
		for i := 0; i < len(rows); i += messageBatch {
			if err := chain.push(rows[i:min(i+messageBatch, len(rows))]); err != nil {
				return err
			}
		}
		if opt.Progress != nil {
			opt.Progress(fed)
		}
		if limit > 0 {
			remaining -= len(rows)
			if remaining <= 0 {
				return nil
			}
		}
		for _, s := range stoppers {
			if s.saturated() {
				return nil
			}
		}
		cursor = from
		w = nextWindow(w, int64(len(rows)), remaining, end-start)
	}
	return nil
}

// headWindow returns the newest limit (all when 0) messages of the head in
// [from, to), newest first, with their hidden fields.
func (p *Plan) headWindow(ctx context.Context, st store.Store, opt ExecOptions, from, to int64, limit int) ([]Row, error) {
	coll := &messageCollector{limit: limit}
	if p.headPushed() {
		// The collector orders the window; the engine sorts only to
		// return just the newest limit messages.
		q := p.messagesLogsQL()
		if limit > 0 {
			q += sortPipe + " limit " + strconv.Itoa(limit)
		}
		if err := runMessages(ctx, st, opt, q, from, to, coll); err != nil {
			return nil, err
		}
	} else {
		chain := p.buildChain(coll, p.tail, nil, opt.run)
		if err := runMessages(ctx, st, opt, p.goMessagesLogsQL(), from, to, chain); err != nil {
			return nil, err
		}
		if err := chain.finish(); err != nil {
			return nil, err
		}
	}
	return coll.sortedWithHidden(), nil
}

// sortedWithHidden returns the kept messages, newest first, hidden fields
// kept.
func (c *messageCollector) sortedWithHidden() []Row {
	ms := []*message(c.h)
	sort.Slice(ms, func(i, j int) bool { return ms[i].newer(ms[j]) })
	rows := make([]Row, len(ms))
	for i, m := range ms {
		rows[i] = m.row
	}
	return rows
}

// messageDeliverer hands a tail's output messages to the sink in batches,
// without their hidden fields, up to max (0: all), counting them all.
type messageDeliverer struct {
	sink         Sink
	max          int
	stopWhenFull bool
	n            int64 // messages received
	sent         int
	buf          []Row
}

func (d *messageDeliverer) push(rows []Row) error {
	for _, r := range rows {
		d.n++
		if d.max > 0 && d.sent+len(d.buf) >= d.max {
			continue
		}
		d.buf = append(d.buf, stripHidden(r))
		if len(d.buf) >= messageBatch {
			if err := d.flush(); err != nil {
				return err
			}
		}
	}
	if d.saturated() {
		return errDeliveryFull
	}
	return nil
}

// errDeliveryFull ends a run whose message cap is reached when the
// matches need not be counted (SkipMatchCount): the stages before the
// deliverer return it as is and executeTail stops without error.
var errDeliveryFull = errors.New("the message cap is reached")

func (d *messageDeliverer) flush() error {
	if len(d.buf) == 0 {
		return nil
	}
	err := d.sink.Messages(d.buf)
	d.sent += len(d.buf)
	d.buf = nil
	return err
}

func (d *messageDeliverer) finish() error { return d.flush() }

func (d *messageDeliverer) saturated() bool {
	return d.stopWhenFull && d.max > 0 && d.sent+len(d.buf) >= d.max
}

// conformRecords returns rows laid out exactly as fields: stages may leave
// extra trailing fields in records (compare's aliases, op_compare.go),
// which are not delivered.
func conformRecords(rows []Row, fields []FieldInfo) []Row {
	for i, r := range rows {
		if sameLayout(r, fields) {
			continue
		}
		out := make(Row, len(fields))
		for j, f := range fields {
			out[j] = Field{f.Name, r.Get(f.Name)}
		}
		rows[i] = out
	}
	return rows
}

func sameLayout(r Row, fields []FieldInfo) bool {
	if len(r) != len(fields) {
		return false
	}
	for j, f := range fields {
		if r[j].Name != f.Name {
			return false
		}
	}
	return true
}

// explainTail describes how a plan with a message tail runs.
func (p *Plan) explainTail(b *strings.Builder) {
	head := "(per time window, newest window first"
	if n := p.headLimit(); n > 0 {
		head += fmt.Sprintf(", until %d messages", n)
	}
	head += "; the stages from \"" + p.steps[p.tail].stage.Name() + "\" on see the whole range in order)"
	switch {
	case p.engineSortable() != nil:
		q := p.engineSortLogsQL(p.engineSortable(), p.engineSortLimit(0))
		if p.engineSortLimit(0) == 0 {
			q += " limit <messages wanted>"
		}
		fmt.Fprintf(b, "engine:  %s   (the whole range at once; the engine sorts)\n", q)
	case p.headPushed():
		q := p.messagesLogsQL()
		if n := p.headLimit(); n > 0 {
			q += sortPipe + " limit " + strconv.Itoa(n)
		}
		fmt.Fprintf(b, "engine:  %s   %s\n", q, head)
	default:
		fmt.Fprintf(b, "engine:  %s   %s\n", p.goMessagesLogsQL(), head)
	}
}

// hiddenOrder reads the hidden time (ns) and row id of a message.
func hiddenOrder(r Row) (ts int64, rid uint64) {
	for i := len(r) - 1; i >= 0 && strings.HasPrefix(r[i].Name, event.InternalFieldPrefix); i-- {
		switch r[i].Name {
		case hiddenTimeField:
			ts, _ = strconv.ParseInt(r[i].Value, 10, 64)
		case hiddenRowID:
			rid, _ = strconv.ParseUint(r[i].Value, 10, 64)
		}
	}
	return ts, rid
}
