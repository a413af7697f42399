package query

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
)

// Field is one name/value pair of a result row.
type Field struct{ Name, Value string }

// Row is a message or a record. A message has _raw, _messageTime (epoch
// milliseconds), _receiptTime, _sourceCategory, _sourceHost, _sourceName,
// _source, _collector, _size and _format, then its other non-empty fields
// sorted by name. A record has its key fields, then the aggregate outputs,
// in the order of its FieldInfo list.
type Row []Field

// Get returns the value of the named field, or "".
func (r Row) Get(name string) string {
	for _, f := range r {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

func (r Row) fieldValue(name string) string { return r.Get(name) }

// Range is a time range [Start, End).
type Range struct{ Start, End time.Time }

// ExecOptions parameterise a run.
type ExecOptions struct {
	Tenant uint32
	Range  Range
	// MaxMessages stops a non-aggregate query once that many messages were
	// delivered; 0 means no limit.
	MaxMessages int
	// Location is the time zone that clock-aligned buckets follow; nil is
	// UTC.
	Location *time.Location
	// Now is the query's execution time; zero means time.Now.
	Now time.Time
	// SkipMatchCount spares a non-aggregate query that stops at MaxMessages
	// the extra engine query counting every match (Stats.MessagesMatched is
	// then a lower bound). Search jobs set it: their histogram counts.
	SkipMatchCount bool
	// MaxBufferedMessages bounds the messages a messages-level stage that
	// needs its whole input holds (a sort not followed by a limit, accum
	// or total over messages, the distinct keys of dedup; exec_tail.go);
	// such a query fails beyond it, naming the limit. 0 means
	// DefaultMaxBufferedMessages.
	MaxBufferedMessages int
	// Progress, when not nil, is told how far a run got: the number of
	// input messages counted so far — for an aggregate computed in Go, the
	// messages that entered the first aggregate (after each engine block);
	// for a non-aggregate query, the messages matched so far (after each
	// time window). An aggregate pushed down to the engine reports nothing
	// until it finishes (search jobs use the histogram instead). It is
	// called from the executing goroutine, never concurrently, and must be
	// quick and must not block.
	Progress func(messages int64)
	// Env is the execution environment: lookup tables, the GeoIP
	// database, whether save may write (env.go). nil is an empty one: a
	// query that needs it fails at start with an error saying what is
	// missing.
	Env *Env
	// SearchRange, when set, is the range of the whole search of which
	// this run covers a part (a search job's histogram windows): a
	// drill-down into the signatures of a logreduce keeps the messages of
	// the signatures of the whole search (exec_mine.go). Zero means Range.
	SearchRange Range

	// run is the run's context (the clock, zone and warnings of
	// expressions, expr_context.go); Execute and Histogram set it.
	run *runContext
}

// Sink receives results. Execute calls it from one goroutine at a time.
type Sink interface {
	// Messages receives messages of a non-aggregate query, newest first
	// (_messageTime descending; ties in a fixed order) unless a stage
	// orders them otherwise (sort), in batches, until MaxMessages were
	// delivered.
	Messages(rows []Row) error
	// Records receives the final table of an aggregate query, once.
	Records(fields []FieldInfo, rows []Row) error
}

// Stats describes a finished run.
type Stats struct {
	// MessagesMatched is the number of messages matching the query; for an
	// aggregate query, the number of messages entering the first aggregate.
	MessagesMatched int64
	// RecordCount is the number of records delivered.
	RecordCount int
	// Warnings are the distinct warnings of the run (division by zero,
	// values an operator had to skip, ...), each with its count when it
	// occurred more than once, in the order they first occurred.
	Warnings []string
}

// Bucket is the number of matching messages in [Start, Start+bucket).
type Bucket struct {
	Start time.Time
	Count int64
}

// Hidden fields carried by messages between the engine and the Go operators
// and removed before delivery: the message time in nanoseconds and the row
// id, which together order messages.
var (
	hiddenTimeField = event.InternalFieldPrefix + "time"
	hiddenRowID     = event.FieldRowID
)

// fixedMessageFields lead every message, in this order.
var fixedMessageFields = []string{
	event.FieldRaw, event.FieldMessageTime, event.FieldReceiptTime,
	event.FieldSourceCategory, event.FieldSourceHost, event.FieldSourceName,
	event.FieldSource, event.FieldCollector, event.FieldSize, event.FieldFormat,
}

// fixedPrefix is the number of fixed fields leading message r: all of
// them, or those a compact row has (buildMessages).
func fixedPrefix(r Row) int {
	n := 0
	for n < len(r) && n < len(fixedMessageFields) && isFixedField(r[n].Name) {
		n++
	}
	return n
}

// isFixedField reports whether name is one of fixedMessageFields.
func isFixedField(name string) bool { return slices.Contains(fixedMessageFields, name) }

// rowSink is a Go operator, or the end of a chain of them. push is never
// called concurrently.
type rowSink interface {
	push(rows []Row) error
	// finish signals the end of the input; aggregates emit their records.
	finish() error
}

// messageBatch is how many messages Sink.Messages receives at most per call.
const messageBatch = 1000

// Execute runs the plan over the time range and hands the results to sink.
// A non-aggregate query walks the range backwards in time windows, so that
// the newest messages arrive first and quickly; an aggregate query runs once
// over the range. An error from the sink stops the run and is returned as is.
func (p *Plan) Execute(ctx context.Context, st store.Store, opt ExecOptions, sink Sink) (Stats, error) {
	if err := checkRange(opt.Range); err != nil {
		return Stats{}, err
	}
	opt.run = newRunContext(opt)
	p = p.bindPrefixRuns(ctx, st, opt) // compare (op_compare.go)
	p = p.bindMining(ctx, st, opt)     // logreduce details, logcompare (exec_mine.go)
	if o := p.optimisticPlan(); o != nil {
		// The conditions counted by the aggregate's query
		// (pushdown_cond.go); when some row fails them, as below.
		stats, err := o.runWithEnv(ctx, opt, sink, func(p *Plan, sink Sink) (Stats, error) {
			return p.executeAggregate(ctx, st, opt, sink)
		})
		if !errors.Is(err, errConditionFails) {
			stats.Warnings = opt.run.warningList()
			return stats, err
		}
	}
	p, err := p.decideConditional(ctx, st, opt)
	if err != nil {
		return Stats{}, err
	}
	stats, err := p.runWithEnv(ctx, opt, sink, func(p *Plan, sink Sink) (Stats, error) {
		if p.tail >= 0 {
			return p.executeTail(ctx, st, opt, sink) // exec_tail.go
		}
		if p.IsAggregate() {
			return p.executeAggregate(ctx, st, opt, sink)
		}
		return p.executeMessages(ctx, st, opt, sink)
	})
	stats.Warnings = opt.run.warningList()
	return stats, err
}

func checkRange(r Range) error {
	if !r.End.After(r.Start) {
		return fmt.Errorf("empty time range: %s is not after %s", r.End.Format(time.RFC3339Nano), r.Start.Format(time.RFC3339Nano))
	}
	return nil
}

// ---- engine access ----

// runEngine runs LogsQL over [from, to) (Unix ns) and hands the blocks to fn,
// one at a time.
func runEngine(ctx context.Context, st store.Store, opt ExecOptions, logsql string, from, to int64, fn func(*store.Block) error) error {
	return queryDone(ctx, st.Query(ctx, engineQuery(opt, logsql, from, to), serially(fn)))
}

// serially wraps fn so that the store's concurrent callbacks call it one
// at a time.
func serially(fn func(*store.Block) error) func(*store.Block) error {
	var mu sync.Mutex
	return func(b *store.Block) error {
		mu.Lock()
		defer mu.Unlock()
		return fn(b)
	}
}

// queryDone is a store query's error, or the context's when the query
// ended early because it was cancelled.
func queryDone(ctx context.Context, err error) error {
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// engineQuery is the store query for LogsQL over [from, to) (Unix ns).
func engineQuery(opt ExecOptions, logsql string, from, to int64) store.Query {
	return store.Query{
		Tenant:       opt.Tenant,
		LogsQL:       logsql,
		Start:        from,
		End:          to - 1,
		ShowInternal: true,
		Now:          opt.Now,
	}
}

// runMessages streams the messages of an engine query into sink.
//
// When the store can hand out the engine's own block (store.TransientQuerier),
// the rows are built from it, copying the values they use once, instead of
// from a copy of the whole block.
func runMessages(ctx context.Context, st store.Store, opt ExecOptions, logsql string, from, to int64, sink rowSink) error {
	return runMessagesRows(ctx, st, opt, logsql, from, to, sink, false)
}

// runCompactMessages is runMessages for rows that only Go stages reading
// fields by name see before an aggregate (a pruned plan, prune.go): a row
// leaves out the fixed fields it has no value for (buildMessages).
//
// The rows also borrow the engine's block instead of copying from it:
// the stages a pruned plan runs before its aggregate (parse, parse regex,
// where, assignments, timeslice; stageReads) pass each row on within the
// call that got it, and the aggregate copies what it keeps (group keys,
// first/last and distinct values), so nothing of a row outlives the
// engine's callback. Copying _raw out of the block was a fifth of the
// time of a Go pipeline (bench/query); TestBorrowedRowsOutliveNothing
// overwrites every block after its callback to prove nothing keeps it.
func runCompactMessages(ctx context.Context, st store.Store, opt ExecOptions, logsql string, from, to int64, sink rowSink) error {
	return runMessagesRows(ctx, st, opt, logsql, from, to, sink, true)
}

// runPlanMessages runs the plan's engine query for its Go stages: compact
// rows when the plan is pruned.
func (p *Plan) runPlanMessages(ctx context.Context, st store.Store, opt ExecOptions, logsql string, from, to int64, sink rowSink) error {
	if _, pruned := p.pruneColumns(); pruned {
		return runCompactMessages(ctx, st, opt, logsql, from, to, sink)
	}
	return runMessages(ctx, st, opt, logsql, from, to, sink)
}

func runMessagesRows(ctx context.Context, st store.Store, opt ExecOptions, logsql string, from, to int64, sink rowSink, compact bool) error {
	push := func(own bool, reuse *rowBuffers) func(b *store.Block) error {
		return func(b *store.Block) error {
			rows, err := buildMessages(b, own, compact, reuse)
			if err != nil {
				return err
			}
			return sink.push(rows)
		}
	}
	tq, ok := st.(store.TransientQuerier)
	if !ok {
		return runEngine(ctx, st, opt, logsql, from, to, push(false, nil))
	}
	var reuse *rowBuffers // one block at a time (serially)
	if compact {
		reuse = &rowBuffers{}
	}
	return queryDone(ctx, tq.QueryTransient(ctx, engineQuery(opt, logsql, from, to), serially(push(!compact, reuse))))
}

// parseEngineTime parses the engine's _time text.
func parseEngineTime(s string) (int64, error) {
	if ns, ok := fastEngineTime(s); ok { // enginetime.go
		return ns, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("engine returned an unreadable _time %q: %w", s, err)
	}
	return t.UnixNano(), nil
}

// blockMessages converts engine rows into messages.
func blockMessages(b *store.Block) ([]Row, error) { return buildMessages(b, false, false, nil) }

// rowBuffers are the slices of the rows of one block, reused for the next
// block when the rows borrow the block (runCompactMessages): nothing of
// them outlives the callback either.
type rowBuffers struct {
	fields []Field
	rows   []Row
}

// buildMessages converts engine rows into messages. With own, the block's
// names and values are only valid during the call (store.TransientQuerier)
// and the rows get copies of the ones they use, in one allocation.
//
// A compact row leaves out the fixed fields without a value (the columns a
// pruned query did not ask for): its fixed fields are those it has, in
// their order, and it never reaches a stage that reads a message's layout
// (runCompactMessages).
//
// With reuse, the rows are built in its slices, grown as needed.
func buildMessages(b *store.Block, own, compact bool, reuse *rowBuffers) ([]Row, error) {
	n := b.Rows()
	timeCol := b.Column(engineTimeField)
	if timeCol == nil && !compact {
		return nil, errors.New("engine returned messages without _time")
	}
	fixed := make([]*store.Column, len(fixedMessageFields))
	for i, name := range fixedMessageFields {
		if name != event.FieldMessageTime {
			fixed[i] = b.Column(storageField(name))
		}
	}
	var others, hiddenJSON []*store.Column
	for i := range b.Columns {
		c := &b.Columns[i]
		switch {
		case strings.HasPrefix(c.Name, hiddenJSONPrefix):
			// Ingest-time JSON fields copied for the json operator
			// (pushdown_cond.go): hidden, trailing the message.
			hiddenJSON = append(hiddenJSON, c)
			continue
		case c.Name == store.MessageField, c.Name == engineTimeField, c.Name == "_stream", c.Name == engineStreamIDField,
			strings.HasPrefix(c.Name, event.JSONFieldPrefix), strings.HasPrefix(c.Name, event.InternalFieldPrefix):
			continue
		}
		if lookupFixed(c.Name) {
			continue
		}
		others = append(others, c)
	}
	sort.Slice(others, func(i, j int) bool { return others[i].Name < others[j].Name })
	ridCol := b.Column(hiddenRowID)
	// One allocation for the fields of every row of the block (each row
	// gets exactly its own fields: cap == len), and one for the text of
	// the times, instead of three allocations per row.
	perRow := len(fixedMessageFields) + 2
	total := perRow * n
	for _, cs := range [][]*store.Column{others, hiddenJSON} {
		for _, c := range cs {
			for _, v := range c.Values[:n] {
				if v != "" {
					total++
				}
			}
		}
	}
	var fields []Field
	if reuse != nil && cap(reuse.fields) >= total {
		fields = reuse.fields[:0]
	} else {
		fields = make([]Field, 0, total)
	}
	// The text of the times: 19 digits until the year 2286.
	var text textChunk
	size := 0
	if timeCol != nil {
		size = 20 * n
	}
	if own {
		for _, c := range fixed {
			if c != nil {
				for _, v := range c.Values[:n] {
					size += len(v)
				}
			}
		}
		for _, cs := range [][]*store.Column{others, hiddenJSON} {
			for _, c := range cs {
				size += len(c.Name)
				for _, v := range c.Values[:n] {
					size += len(v)
				}
			}
		}
		if ridCol != nil {
			for _, v := range ridCol.Values[:n] {
				size += len(v)
			}
		}
	}
	text.grow(size)
	if own {
		others = ownNames(others, &text)
		hiddenJSON = ownNames(hiddenJSON, &text)
	}
	str := func(s string) string {
		if own {
			return text.copy(s)
		}
		return s
	}
	var rows []Row
	if reuse != nil && cap(reuse.rows) >= n {
		rows = reuse.rows[:n]
	} else {
		rows = make([]Row, n)
	}
	if reuse != nil {
		reuse.fields, reuse.rows = fields, rows
	}
	for i := range n {
		// Compact rows of stages that read neither the time nor the row
		// id go without both (Plan.orderFree).
		var ns int64
		nsText := ""
		if timeCol != nil {
			var err error
			if ns, err = parseEngineTime(timeCol.Values[i]); err != nil {
				return nil, err
			}
			nsText = text.formatInt(ns)
		}
		start := len(fields)
		for j, name := range fixedMessageFields {
			v := ""
			switch {
			case name == event.FieldMessageTime && timeCol == nil:
			case name == event.FieldMessageTime:
				if ns >= 1e6 {
					// The milliseconds are the nanoseconds' text without
					// its last 6 digits.
					v = nsText[:len(nsText)-6]
				} else {
					v = text.formatInt(time.Unix(0, ns).UnixMilli())
				}
			case fixed[j] != nil:
				v = str(fixed[j].Values[i])
			}
			if compact && v == "" {
				continue
			}
			fields = append(fields, Field{name, v})
		}
		for _, c := range others {
			if v := c.Values[i]; v != "" {
				fields = append(fields, Field{c.Name, str(v)})
			}
		}
		if timeCol != nil {
			rid := ""
			if ridCol != nil {
				rid = str(ridCol.Values[i])
			}
			fields = append(fields, Field{hiddenTimeField, nsText}, Field{hiddenRowID, rid})
		}
		for _, c := range hiddenJSON {
			if v := c.Values[i]; v != "" {
				fields = append(fields, Field{c.Name, str(v)})
			}
		}
		rows[i] = Row(fields[start:len(fields):len(fields)])
	}
	return rows, nil
}

// ownNames returns cols with their names copied into text (the values are
// left to the caller).
func ownNames(cols []*store.Column, text *textChunk) []*store.Column {
	out := make([]*store.Column, len(cols))
	for i, c := range cols {
		out[i] = &store.Column{Name: text.copy(c.Name), Values: c.Values}
	}
	return out
}

func lookupFixed(storageName string) bool {
	for _, name := range fixedMessageFields {
		if storageField(name) == storageName {
			return true
		}
	}
	return false
}

// blockRecords converts the engine's output of a pushed aggregate into
// records of schema out, and sums the hidden input counter.
func blockRecords(b *store.Block, out *schema, counter string) ([]Row, int64, error) {
	n := b.Rows()
	cols := make([]*store.Column, len(out.fields))
	for i, f := range out.fields {
		cols[i] = b.Column(storageField(f.Name))
	}
	var inputs int64
	cc := b.Column(counter)
	rows := make([]Row, n)
	for i := range n {
		row := make(Row, len(out.fields))
		for j, f := range out.fields {
			v := ""
			if cols[j] != nil {
				v = cols[j].Values[i]
				if cols[j].Name == engineTimeField && v != "" {
					ns, err := parseEngineTime(v)
					if err != nil {
						return nil, 0, err
					}
					v = strconv.FormatInt(time.Unix(0, ns).UnixMilli(), 10)
				}
			}
			row[j] = Field{f.Name, v}
		}
		rows[i] = row
		if cc != nil {
			k, err := strconv.ParseInt(cc.Values[i], 10, 64)
			if err != nil {
				return nil, 0, fmt.Errorf("engine returned an unreadable count %q: %w", cc.Values[i], err)
			}
			inputs += k
		}
	}
	return rows, inputs, nil
}

// ---- Go chains ----

// buildChain builds the Go operators of steps [p.pushed, end) feeding tail,
// preceded by the scope filter when the engine does not apply it. When
// counter is not nil, it counts the rows entering the first aggregate.
func (p *Plan) buildChain(tail rowSink, end int, counter *int64, run *runContext) rowSink {
	head := tail
	for i := end - 1; i >= p.pushed; i-- {
		head = newStageOperator(p.steps[i].impl, head, run)
		if i == p.firstAgg && counter != nil {
			head = &countingOp{n: counter, next: head}
		}
	}
	if !p.scopePushed {
		head = &filterOp{m: p.matcher, next: head}
	}
	return head
}

// messageSteps is the number of steps before the first aggregate.
func (p *Plan) messageSteps() int {
	if p.firstAgg >= 0 {
		return p.firstAgg
	}
	return len(p.steps)
}

// filterOp applies the scope in Go.
type filterOp struct {
	m    matcher
	next rowSink
	buf  []Row
}

func (o *filterOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	for i := range rows {
		// A *Row, not a Row: a slice in an interface is a heap
		// allocation per row (5% of a Go pipeline, bench/query).
		if o.m.match(&rows[i]) {
			o.buf = append(o.buf, rows[i])
		}
	}
	if len(o.buf) == 0 {
		return nil
	}
	return o.next.push(o.buf)
}

func (o *filterOp) finish() error { return o.next.finish() }

// countingOp counts the rows passing through.
type countingOp struct {
	n    *int64
	next rowSink
}

func (o *countingOp) push(rows []Row) error {
	*o.n += int64(len(rows))
	return o.next.push(rows)
}

func (o *countingOp) finish() error { return o.next.finish() }

// progressOp reports the counter *n to fn after every push (ExecOptions.Progress).
type progressOp struct {
	n    *int64
	fn   func(int64)
	next rowSink
}

func (o *progressOp) push(rows []Row) error {
	err := o.next.push(rows)
	o.fn(*o.n)
	return err
}

func (o *progressOp) finish() error { return o.next.finish() }

// countSink counts rows and drops them.
type countSink struct{ n int64 }

func (s *countSink) push(rows []Row) error { s.n += int64(len(rows)); return nil }
func (s *countSink) finish() error         { return nil }

// recordCollector keeps the final records.
type recordCollector struct{ rows []Row }

func (s *recordCollector) push(rows []Row) error { s.rows = append(s.rows, rows...); return nil }
func (s *recordCollector) finish() error         { return nil }

// sortRecords orders records by their key fields (string order), the order
// of aggregate output until later stages sort otherwise.
func sortRecords(rows []Row, s *schema) {
	var keys []int
	for i, f := range s.fields {
		if f.KeyField {
			keys = append(keys, i)
		}
	}
	if len(keys) == 0 {
		return
	}
	sort.SliceStable(rows, func(a, b int) bool {
		for _, k := range keys {
			if x, y := rows[a][k].Value, rows[b][k].Value; x != y {
				return x < y
			}
		}
		return false
	})
}

// tooManyGroups is the error of an aggregate exceeding its group limit, the
// same whether the engine or Go computes it.
func tooManyGroups(stage string, limit int) error {
	return fmt.Errorf("%w: %q produces more than %d groups; narrow the query or group by fewer fields", ErrTooManyGroups, stage, limit)
}

// ---- messages ----

// message is a message with its ordering key.
type message struct {
	ts  int64
	rid uint64
	// seq is the arrival order, which orders the copies of one message
	// (parse regex ... multi) as they were made.
	seq int64
	row Row
}

// newer reports whether a sorts before b (newest first).
func (a *message) newer(b *message) bool {
	if a.ts != b.ts {
		return a.ts > b.ts
	}
	if a.rid != b.rid {
		return a.rid > b.rid
	}
	return a.seq < b.seq
}

// messageHeap keeps the oldest kept message at the root.
type messageHeap []*message

func (h messageHeap) Len() int           { return len(h) }
func (h messageHeap) Less(i, j int) bool { return h[j].newer(h[i]) }
func (h messageHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *messageHeap) Push(x any)        { *h = append(*h, x.(*message)) }
func (h *messageHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// messageCollector keeps the newest limit messages (all when limit is 0)
// and counts every message it receives.
type messageCollector struct {
	limit int
	h     messageHeap
	n     int64
}

func (c *messageCollector) push(rows []Row) error {
	for _, r := range rows {
		c.n++
		m := &message{row: r, seq: c.n}
		for i := len(r) - 1; i >= 0 && strings.HasPrefix(r[i].Name, event.InternalFieldPrefix); i-- {
			switch r[i].Name {
			case hiddenTimeField:
				m.ts, _ = strconv.ParseInt(r[i].Value, 10, 64)
			case hiddenRowID:
				m.rid, _ = strconv.ParseUint(r[i].Value, 10, 64)
			}
		}
		switch {
		case c.limit <= 0 || len(c.h) < c.limit:
			heap.Push(&c.h, m)
		case m.newer(c.h[0]):
			c.h[0] = m
			heap.Fix(&c.h, 0)
		}
	}
	return nil
}

func (c *messageCollector) finish() error { return nil }

// sorted returns the kept messages, newest first, without hidden fields.
func (c *messageCollector) sorted() []Row {
	ms := []*message(c.h)
	sort.Slice(ms, func(i, j int) bool { return ms[i].newer(ms[j]) })
	rows := make([]Row, len(ms))
	for i, m := range ms {
		rows[i] = stripHidden(m.row)
	}
	return rows
}

// FieldMessageID is the message's stable identity (the hidden row id),
// delivered last in every message: the web UI uses it to find a message's
// surrounding messages.
const FieldMessageID = "_messageId"

// stripHidden removes the hidden fields, which trail every message, and
// exposes the row id as _messageId.
func stripHidden(r Row) Row {
	n := len(r)
	rid := ""
	for n > 0 && strings.HasPrefix(r[n-1].Name, event.InternalFieldPrefix) {
		if r[n-1].Name == hiddenRowID {
			rid = r[n-1].Value
		}
		n--
	}
	if rid == "" {
		return r[:n:n]
	}
	out := make(Row, n, n+1)
	copy(out, r[:n])
	return append(out, Field{FieldMessageID, rid})
}

const (
	// windowTarget is how many messages a window aims at when there is no
	// limit.
	windowTarget = 10000
	minWindow    = int64(time.Millisecond)
)

func (p *Plan) executeMessages(ctx context.Context, st store.Store, opt ExecOptions, sink Sink) (Stats, error) {
	start, end := opt.Range.Start.UnixNano(), opt.Range.End.UnixNano()
	var stats Stats
	remaining := opt.MaxMessages
	w := max((end-start)/64, minWindow)
	cursor := end
	for cursor > start {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		from := max(cursor-w, start)
		rows, matched, complete, err := p.window(ctx, st, opt, from, cursor, remaining)
		if err != nil {
			return stats, err
		}
		for i := 0; i < len(rows); i += messageBatch {
			if err := sink.Messages(rows[i:min(i+messageBatch, len(rows))]); err != nil {
				return stats, err
			}
		}
		if opt.MaxMessages > 0 {
			remaining -= len(rows)
			if remaining <= 0 {
				if (!complete || from > start) && !opt.SkipMatchCount {
					// Stopped early: count what the windows did not.
					n, err := p.countMatches(ctx, st, opt, start, cursor)
					if err != nil {
						return stats, err
					}
					stats.MessagesMatched += n
				} else {
					stats.MessagesMatched += matched
				}
				return stats, nil
			}
		}
		stats.MessagesMatched += matched
		if opt.Progress != nil {
			opt.Progress(stats.MessagesMatched)
		}
		cursor = from
		w = nextWindow(w, matched, remaining, end-start)
	}
	return stats, nil
}

// nextWindow sizes the next window from the density of the last one: large
// enough to hold the messages still wanted at that density, at most four
// times larger and at least eight times smaller than the last.
func nextWindow(w, matched int64, remaining int, span int64) int64 {
	target := int64(remaining)
	if target <= 0 {
		target = windowTarget
	}
	next := w * 4
	if matched > 0 {
		est := float64(w) * float64(target) / float64(matched) * 1.25
		next = int64(min(max(est, float64(w)/8), float64(w)*4))
	}
	return min(max(next, minWindow), span)
}

// window returns the newest limit messages (all when 0) in [from, to),
// newest first, the number of matching messages and whether that number is
// exact.
func (p *Plan) window(ctx context.Context, st store.Store, opt ExecOptions, from, to int64, limit int) ([]Row, int64, bool, error) {
	coll := &messageCollector{limit: limit}
	if p.messagesPushed() {
		q := p.messagesLogsQL() + sortPipe
		if limit > 0 {
			q += " limit " + strconv.Itoa(limit)
		}
		if err := runMessages(ctx, st, opt, q, from, to, coll); err != nil {
			return nil, 0, false, err
		}
		rows := coll.sorted()
		return rows, int64(len(rows)), limit <= 0 || len(rows) < limit, nil
	}
	chain := p.buildChain(coll, len(p.steps), nil, opt.run)
	if err := runMessages(ctx, st, opt, p.goMessagesLogsQL(), from, to, chain); err != nil {
		return nil, 0, false, err
	}
	if err := chain.finish(); err != nil {
		return nil, 0, false, err
	}
	return coll.sorted(), coll.n, true, nil
}

// countMatches counts the messages in [from, to) that reach the first
// aggregate (or the end).
func (p *Plan) countMatches(ctx context.Context, st store.Store, opt ExecOptions, from, to int64) (int64, error) {
	if p.messagesPushed() {
		var n int64
		err := runEngine(ctx, st, opt, p.messagesLogsQL()+` | stats count() as "n"`, from, to, func(b *store.Block) error {
			c := b.Column("n")
			if c == nil {
				return errors.New("engine returned no count")
			}
			for _, v := range c.Values {
				k, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return fmt.Errorf("engine returned an unreadable count %q: %w", v, err)
				}
				n += k
			}
			return nil
		})
		return n, err
	}
	cs := &countSink{}
	chain := p.buildChain(cs, p.messageSteps(), nil, opt.run)
	if err := p.runPlanMessages(ctx, st, opt, p.goMessagesLogsQL(), from, to, chain); err != nil {
		return 0, err
	}
	if err := chain.finish(); err != nil {
		return 0, err
	}
	return cs.n, nil
}

// ---- aggregates ----

func (p *Plan) executeAggregate(ctx context.Context, st store.Store, opt ExecOptions, sink Sink) (Stats, error) {
	start, end := opt.Range.Start.UnixNano(), opt.Range.End.UnixNano()
	var stats Stats
	coll := &recordCollector{}
	if g := p.guardedPlan(); g != nil {
		p = g // the numeric wheres in front of the aggregate in the engine (where_guard.go)
	}
	if a, ok := p.pushedAggregate(); ok {
		// Conditions, split and merge: agg_pushdown.go.
		if err := p.runPushedAggregate(ctx, st, opt, a, coll, &stats); err != nil {
			return stats, err
		}
	} else if p.aggregatePushed() {
		agg := p.steps[p.firstAgg].impl.(aggregateImpl)
		out := agg.output()
		var recs []Row
		err := runEngine(ctx, st, opt, p.aggregateLogsQL(), start, end, func(b *store.Block) error {
			rows, n, err := blockRecords(b, out, rowsCounterColumn)
			if err != nil {
				return err
			}
			recs = append(recs, rows...)
			stats.MessagesMatched += n
			return nil
		})
		if err != nil {
			return stats, err
		}
		if len(recs) > agg.groupLimit() {
			return stats, tooManyGroups(p.steps[p.firstAgg].stage.String(), agg.groupLimit())
		}
		sortRecords(recs, out)
		chain := p.buildChain(coll, len(p.steps), nil, opt.run)
		if err := chain.push(recs); err != nil {
			return stats, err
		}
		if err := chain.finish(); err != nil {
			return stats, err
		}
	} else if ba, ok := p.blockAggregate(); ok {
		// Fed from the engine's blocks in parallel (exec_mine.go).
		if err := p.runBlockAggregate(ctx, st, opt, ba, coll, &stats); err != nil {
			return stats, err
		}
	} else {
		chain := p.buildChain(coll, len(p.steps), &stats.MessagesMatched, opt.run)
		var src rowSink = chain
		if opt.Progress != nil {
			src = &progressOp{n: &stats.MessagesMatched, fn: opt.Progress, next: chain}
		}
		if err := p.runPlanMessages(ctx, st, opt, p.goMessagesLogsQL(), start, end, src); err != nil {
			return stats, err
		}
		if err := chain.finish(); err != nil {
			return stats, err
		}
	}
	fields := p.recordFields(coll.rows) // op_transpose.go
	rows := conformRecords(coll.rows, fields)
	stats.RecordCount = len(rows)
	if err := sink.Records(fields, rows); err != nil {
		return stats, err
	}
	return stats, nil
}

// ---- histogram ----

// Histogram counts the messages matching the part of the query before the
// first aggregate per bucket of the given width, aligned to the clock of
// opt.Location (the zone's offset at the start of the range). It runs in the
// engine (stats by (_time:<bucket>)) when that part is pushed down, else in
// Go. Empty buckets are left out; buckets are in time order.
func (p *Plan) Histogram(ctx context.Context, st store.Store, opt ExecOptions, bucket time.Duration) ([]Bucket, error) {
	if err := checkRange(opt.Range); err != nil {
		return nil, err
	}
	if bucket <= 0 {
		return nil, fmt.Errorf("histogram bucket %s is not positive", bucket)
	}
	opt.run = newRunContext(opt)
	p = p.bindMining(ctx, st, opt) // logreduce details (exec_mine.go)
	p, _, err := p.bindEnv(ctx, opt, false)
	if err != nil {
		return nil, err
	}
	if p, err = p.decideConditional(ctx, st, opt); err != nil {
		return nil, err
	}
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	start, end := opt.Range.Start.UnixNano(), opt.Range.End.UnixNano()
	size := int64(bucket)
	_, zoneOff := opt.Range.Start.In(loc).Zone()
	off := (int64(zoneOff) * int64(time.Second)) % size
	if off < 0 {
		off += size
	}
	counts := make(map[int64]int64)
	if p.tail >= 0 {
		if err := p.histogramTail(ctx, st, opt, &bucketSink{size: size, off: off, counts: counts}); err != nil {
			return nil, err
		}
	} else if p.messagesPushed() {
		by := "_time:" + logsQLDuration(size)
		if off != 0 {
			by += " offset " + logsQLDuration(off)
		}
		q := p.messagesLogsQL() + " | stats by (" + by + `) count() as "n"`
		err := runEngine(ctx, st, opt, q, start, end, func(b *store.Block) error {
			tc, nc := b.Column(engineTimeField), b.Column("n")
			if tc == nil || nc == nil {
				return errors.New("engine returned an incomplete histogram")
			}
			for i := range tc.Values {
				ts, err := parseEngineTime(tc.Values[i])
				if err != nil {
					return err
				}
				k, err := strconv.ParseInt(nc.Values[i], 10, 64)
				if err != nil {
					return fmt.Errorf("engine returned an unreadable count %q: %w", nc.Values[i], err)
				}
				counts[ts] += k
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	} else {
		bs := &bucketSink{size: size, off: off, counts: counts}
		chain := p.buildChain(bs, p.messageSteps(), nil, opt.run)
		timed := *p // the buckets need every row's time
		timed.timed = true
		if err := p.runPlanMessages(ctx, st, opt, timed.goMessagesLogsQL(), start, end, chain); err != nil {
			return nil, err
		}
		if err := chain.finish(); err != nil {
			return nil, err
		}
	}
	out := make([]Bucket, 0, len(counts))
	for ts, n := range counts {
		if n > 0 {
			out = append(out, Bucket{Start: time.Unix(0, ts).In(loc), Count: n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// truncateTime returns the start of the bucket of width size, shifted by
// off, holding ts (the engine's rule for stats by (_time:size offset off)).
func truncateTime(ts, size, off int64) int64 {
	r := (ts + off) % size
	if r < 0 {
		r += size
	}
	return ts - r
}

// bucketSink counts messages per bucket.
type bucketSink struct {
	size, off int64
	counts    map[int64]int64
}

func (s *bucketSink) push(rows []Row) error {
	for _, r := range rows {
		ns, err := strconv.ParseInt(r.Get(hiddenTimeField), 10, 64)
		if err != nil {
			return fmt.Errorf("message without its time: %w", err)
		}
		s.counts[truncateTime(ns, s.size, s.off)]++
	}
	return nil
}

func (s *bucketSink) finish() error { return nil }

// logsQLDuration writes a duration in LogsQL's syntax (1h, 90s, 1500ms, ...).
func logsQLDuration(ns int64) string {
	units := []struct {
		name string
		size int64
	}{
		{"h", int64(time.Hour)}, {"m", int64(time.Minute)}, {"s", int64(time.Second)},
		{"ms", int64(time.Millisecond)}, {"us", int64(time.Microsecond)}, {"ns", 1},
	}
	for _, u := range units {
		if ns%u.size == 0 {
			return strconv.FormatInt(ns/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(ns, 10) + "ns"
}
