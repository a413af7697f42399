package query

import (
	"container/heap"
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
)

// The sort operator (spec §6), also spelled "order":
//
//	sort [by] <key> [asc|desc][, <key> [asc|desc] ...]
//
// A key is a field or any expression ("sort by num(bytes)"). The default
// direction is descending. Rows are ordered by the first key, ties by the
// next, and rows equal on every key keep their input order (the sort is
// stable).
//
// Ordering of values [our choice where Sumo is silent]: two numbers (or
// numeric strings, ParseNumber) compare numerically, integers exactly;
// other values compare as strings, byte by byte (code point order, case
// sensitive); a number sorts before a non-numeric string in ascending
// order (so after it in descending order, the exact reverse). Null (an
// absent or empty field) sorts last in both directions, so that "sort by
// x" and "sort by x asc" both begin with real values. Booleans compare as
// the strings "true" and "false".
//
// Over records (after an aggregate) this is a simple Go sort. Over
// messages it sorts the whole stream (exec_tail.go: the stages from the
// sort on see the whole range in order) and its output order is the order
// the messages are delivered in. Sorting messages by _messageTime uses the
// full precision of the time and breaks ties by the row id (the default
// order's rule, reversed for asc), so "sort by _messageTime" (descending)
// is the default order and costs nothing, and "sort by _messageTime asc"
// (oldest first) is pushed to the engine when everything before it is:
// sort by (_time, _dohyo.rid) limit N over the whole range, exactly the
// Go order. Sumo's docs describe no tie rule; ours is deterministic.
//
// Memory: a messages-level sort followed by "limit N", or that is the last
// stage of a query with a message cap (ExecOptions.MaxMessages), keeps only
// its first N messages; any other holds at most
// ExecOptions.MaxBufferedMessages and fails beyond with an error naming the
// limit. Other sort pushdown (by a field) is not done: the engine's
// ordering of mixed and textual values (natural order, "a9" < "a10") is
// not ours.

func init() {
	registerStage("sort", (*parser).parseSort)
	registerStage("order", (*parser).parseSort)
}

// SortKey is one key of a sort.
type SortKey struct {
	Expr Expression
	// Asc is set for "asc"; the default is descending.
	Asc bool
}

// SortStage is "sort by k1 [asc|desc], k2 ...". "order" parses to the same
// stage; the canonical text says "sort by" and writes each direction.
type SortStage struct {
	Pos  Pos
	Keys []SortKey
}

// Position implements Node.
func (s *SortStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *SortStage) Name() string { return "sort" }

func (s *SortStage) aggregate() bool { return false }

func (s *SortStage) walkFields(fn func(FieldRef)) {
	for _, k := range s.Keys {
		exprFields(k.Expr, fn)
	}
}

// String implements Node.
func (s *SortStage) String() string {
	var b strings.Builder
	b.WriteString("sort by ")
	for i, k := range s.Keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(sortKeyText(k.Expr))
		if k.Asc {
			b.WriteString(" asc")
		} else {
			b.WriteString(" desc")
		}
	}
	return b.String()
}

// sortKeyText prints a key; a key that would read as a direction word or
// start with one is put in parentheses.
func sortKeyText(e Expression) string {
	t := e.String()
	if f, ok := e.(*FieldExpr); ok && isDirectionWord(f.Name) {
		return "(" + t + ")"
	}
	return t
}

func isDirectionWord(s string) bool {
	return strings.EqualFold(s, "asc") || strings.EqualFold(s, "desc")
}

// parseSort parses a sort (or order) stage; the current token is the
// operator's name.
func (p *parser) parseSort() (Stage, *Error) {
	op := strings.ToLower(p.tok.text)
	st := &SortStage{Pos: p.tok.pos}
	p.advance()
	if p.isWord("by") {
		p.advance()
		if p.tok.typ == tokPipe || p.tok.typ == tokEOF {
			return nil, p.fail(`expected a field after "%s by"`, op)
		}
	}
	switch {
	case p.tok.typ == tokPipe || p.tok.typ == tokEOF:
		return nil, errorf(st.Pos, `%q needs "by" and a field`, op).withHint(`write "%s by <field> [asc|desc]"`, op)
	case p.tok.typ == tokTerm && isDirectionWord(p.tok.text):
		return nil, errorf(p.tok.pos, `%q needs "by" and a field before %q`, op, strings.ToLower(p.tok.text)).
			withHint(`write "%s by <field> %s"`, op, strings.ToLower(p.tok.text))
	}
	for {
		e, err := p.parseExpression()
		if err != nil {
			return nil, err
		}
		k := SortKey{Expr: e}
		switch {
		case p.isWord("asc"):
			k.Asc = true
			p.advance()
		case p.isWord("desc"):
			p.advance()
		}
		st.Keys = append(st.Keys, k)
		if p.tok.typ != tokComma {
			break
		}
		p.advance()
	}
	if err := p.expectStageEnd(op); err != nil {
		if p.tok.typ == tokTerm || p.tok.typ == tokField {
			err.Hint = `separate sort keys with ","`
		}
		return nil, err
	}
	return st, nil
}

func (s *SortStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	impl := &sortImpl{text: s.String(), in: in}
	for _, k := range s.Keys {
		ev, err := c.compileExpression(k.Expr, in)
		if err != nil {
			return nil, err
		}
		key := sortKeyImpl{eval: ev, desc: !k.Asc}
		if f, ok := k.Expr.(*FieldExpr); ok && !in.records && f.Name == event.FieldMessageTime {
			key.timeKey = true
		}
		impl.keys = append(impl.keys, key)
	}
	return impl, nil
}

type sortKeyImpl struct {
	eval evaluator
	desc bool
	// timeKey: _messageTime over messages, compared by the hidden time
	// (ns) and row id.
	timeKey bool
}

// sortImpl is the compiled sort stage.
type sortImpl struct {
	text string
	in   *schema
	keys []sortKeyImpl
}

func (s *sortImpl) output() *schema                  { return s.in }
func (s *sortImpl) aggregate() bool                  { return false }
func (s *sortImpl) logsQL(string) (string, bool)     { return "", false }
func (s *sortImpl) newOperator(next rowSink) rowSink { return s.newRunOperator(next, nil) }

func (s *sortImpl) explain() string {
	if !s.in.records && s.identity() {
		return s.text + " (the default order)"
	}
	return s.text
}

// identity reports whether the sort is the default order of messages:
// _messageTime alone, descending.
func (s *sortImpl) identity() bool {
	return len(s.keys) == 1 && s.keys[0].timeKey && s.keys[0].desc
}

func (s *sortImpl) messageOrder() orderRole {
	if s.identity() {
		return orderFree
	}
	return orderProducer
}

func (s *sortImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	if !s.in.records && s.identity() {
		return passOp{next}
	}
	o := &sortOp{impl: s, x: x, next: next}
	if !s.in.records {
		o.maxBuf = DefaultMaxBufferedMessages
	}
	return o
}

func (s *sortImpl) newTailOperator(next rowSink, x *runContext, t tailOptions) rowSink {
	if (s.identity() && t.defaultOrder) || t.unordered {
		return passOp{next}
	}
	return &sortOp{impl: s, x: x, next: next, topK: t.topK, maxBuf: t.maxBuffer}
}

// passOp passes rows through.
type passOp struct{ next rowSink }

func (o passOp) push(rows []Row) error { return o.next.push(rows) }
func (o passOp) finish() error         { return o.next.finish() }

// sortKey is a key value prepared for comparison: its class (numbers
// before strings, null last) and its number or text.
type sortKey struct {
	class uint8 // keyNumber, keyString or keyNull
	num   Value // keyNumber: the number (KindNumber)
	str   string
}

const (
	keyNumber uint8 = iota
	keyString
	keyNull
)

func makeSortKey(v Value) sortKey {
	if sortNull(v) {
		return sortKey{class: keyNull}
	}
	if n, ok := v.Numeric(); ok {
		if f, _ := n.Number(); f == f { // not NaN
			return sortKey{class: keyNumber, num: n}
		}
		return sortKey{class: keyNull}
	}
	return sortKey{class: keyString, str: v.String()}
}

// compareSortKeys is compareSortValues over prepared keys.
func compareSortKeys(a, b *sortKey, desc bool) int {
	if a.class == keyNull || b.class == keyNull {
		return int(a.class/keyNull) - int(b.class/keyNull)
	}
	var c int
	switch {
	case a.class != b.class:
		c = int(a.class) - int(b.class)
	case a.class == keyNumber:
		c = compareNumbers(a.num, b.num)
	default:
		c = strings.Compare(a.str, b.str)
	}
	if desc {
		return -c
	}
	return c
}

// sortItem is a row with its sort keys.
type sortItem struct {
	row  Row
	keys []sortKey
	ts   int64
	rid  uint64
	seq  int64
}

// sortOp is the Go sort: all rows, or the first topK in a heap.
type sortOp struct {
	impl    *sortImpl
	x       *runContext
	next    rowSink
	topK    int
	maxBuf  int // 0: no limit
	items   []*sortItem
	seq     int64
	scratch sortItem
	slab    []sortItem // allocation of items in blocks
	keySlab []sortKey
}

// fill sets it to row r's keys.
func (o *sortOp) fill(it *sortItem, r Row) {
	it.row, it.seq = r, o.seq
	o.seq++
	if cap(it.keys) < len(o.impl.keys) {
		it.keys = make([]sortKey, len(o.impl.keys))
	}
	it.keys = it.keys[:len(o.impl.keys)]
	for i, k := range o.impl.keys {
		if k.timeKey {
			it.ts, it.rid = hiddenOrder(r)
			continue
		}
		it.keys[i] = makeSortKey(k.eval(o.x, r))
	}
}

// less orders two items: by the keys, then by arrival.
func (o *sortOp) less(a, b *sortItem) bool {
	for i, k := range o.impl.keys {
		var c int
		if k.timeKey {
			c = cmpInt(a.ts, b.ts)
			if c == 0 {
				c = cmpUint(a.rid, b.rid)
			}
			if k.desc {
				c = -c
			}
		} else {
			c = compareSortKeys(&a.keys[i], &b.keys[i], k.desc)
		}
		if c != 0 {
			return c < 0
		}
	}
	return a.seq < b.seq
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (o *sortOp) push(rows []Row) error {
	for _, r := range rows {
		if o.topK > 0 {
			h := (*sortHeap)(o)
			if len(o.items) < o.topK {
				it := &sortItem{}
				o.fill(it, r)
				heap.Push(h, it)
				continue
			}
			// Compare in place; copy only a row that enters the heap.
			o.fill(&o.scratch, r)
			if o.less(&o.scratch, o.items[0]) {
				root := o.items[0]
				root.row, root.seq, root.ts, root.rid = o.scratch.row, o.scratch.seq, o.scratch.ts, o.scratch.rid
				root.keys = append(root.keys[:0], o.scratch.keys...)
				heap.Fix(h, 0)
			}
			continue
		}
		if o.maxBuf > 0 && len(o.items) >= o.maxBuf {
			return errBufferLimit(o.impl.text, o.maxBuf)
		}
		if len(o.slab) == 0 {
			o.slab = make([]sortItem, 256)
			o.keySlab = make([]sortKey, 256*len(o.impl.keys))
		}
		it := &o.slab[0]
		o.slab = o.slab[1:]
		it.keys = o.keySlab[:len(o.impl.keys):len(o.impl.keys)]
		o.keySlab = o.keySlab[len(o.impl.keys):]
		o.fill(it, r)
		o.items = append(o.items, it)
	}
	return nil
}

func (o *sortOp) finish() error {
	// less breaks ties by arrival: an unstable sort gives the stable order.
	slices.SortFunc(o.items, func(a, b *sortItem) int {
		if o.less(a, b) {
			return -1
		}
		return 1
	})
	rows := make([]Row, len(o.items))
	for i, it := range o.items {
		rows[i] = it.row
	}
	o.items = nil
	for i := 0; i < len(rows); i += messageBatch {
		if err := o.next.push(rows[i:min(i+messageBatch, len(rows))]); err != nil {
			return err
		}
	}
	return o.next.finish()
}

// sortHeap keeps the last kept item (in sort order) at the root.
type sortHeap sortOp

func (h *sortHeap) Len() int           { return len(h.items) }
func (h *sortHeap) Less(i, j int) bool { return (*sortOp)(h).less(h.items[j], h.items[i]) }
func (h *sortHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *sortHeap) Push(x any)         { h.items = append(h.items, x.(*sortItem)) }
func (h *sortHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// compareSortValues orders two values for sort: negative when a comes
// first. Null (and NaN) comes last in both directions; otherwise desc
// reverses the ascending order of SortValueLess.
func compareSortValues(a, b Value, desc bool) int {
	an, bn := sortNull(a), sortNull(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	c := compareSortAsc(a, b)
	if desc {
		return -c
	}
	return c
}

func sortNull(v Value) bool {
	if v.Kind() == KindNumber {
		f, _ := v.Number()
		return math.IsNaN(f)
	}
	return v.Kind() == KindNull
}

// compareSortAsc is the ascending order of non-null values: numbers (and
// numeric strings) numerically, before other values, which compare as
// strings.
func compareSortAsc(a, b Value) int {
	an, aok := a.Numeric()
	bn, bok := b.Numeric()
	switch {
	case aok && bok:
		return compareNumbers(an, bn)
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(a.String(), b.String())
}

// SortValueLess reports whether field value a sorts before b in ascending
// order (sort's rule: numbers numerically and first, then strings, empty
// values last); other operators that order rows (top) share it.
func SortValueLess(a, b string) bool {
	return compareSortValues(StringValue(a), StringValue(b), false) < 0
}

// ---- engine sort of messages by time, oldest first ----

// engineSortable returns the sort the engine computes for a plan whose
// tail starts with "sort by _messageTime asc" after a pushed head.
func (p *Plan) engineSortable() *sortImpl {
	if p.tail < 0 || !p.opts.PushDown || !p.headPushed() {
		return nil
	}
	s, ok := p.steps[p.tail].impl.(*sortImpl)
	if !ok || s.in.records || len(s.keys) != 1 || !s.keys[0].timeKey || s.keys[0].desc {
		return nil
	}
	return s
}

// engineSortLogsQL is the engine query of an engine-computed sort keeping
// its first k messages.
func (p *Plan) engineSortLogsQL(s *sortImpl, k int) string {
	q := p.messagesLogsQL() + " | sort by (" + engineTimeField + ", " + strconv.Quote(hiddenRowID) + ")"
	if k > 0 {
		q += " limit " + strconv.Itoa(k)
	}
	return q
}

// engineSortLimit is the number of messages an engine-computed sort must
// return: a following limit's, or the message cap (maxMessages) when the
// sort is the last stage; 0 means all.
func (p *Plan) engineSortLimit(maxMessages int) int {
	if next := p.tail + 1; next < len(p.steps) {
		if l, ok := p.steps[next].impl.(*limitImpl); ok && !l.in.records {
			return l.n
		}
	} else if !p.IsAggregate() && maxMessages > 0 {
		return maxMessages
	}
	return 0
}

// engineSortedRows runs an engine-computed sort over the whole range and
// returns its messages in order, with their hidden fields.
func (p *Plan) engineSortedRows(ctx context.Context, st store.Store, opt ExecOptions, s *sortImpl) ([]Row, error) {
	k := p.engineSortLimit(opt.MaxMessages)
	limit := k
	if k == 0 {
		limit = maxBuffered(opt) + 1
	}
	var items []*sortItem
	err := runEngine(ctx, st, opt, p.engineSortLogsQL(s, limit), opt.Range.Start.UnixNano(), opt.Range.End.UnixNano(), func(b *store.Block) error {
		rows, err := blockMessages(b)
		if err != nil {
			return err
		}
		for _, r := range rows {
			it := &sortItem{row: r}
			it.ts, it.rid = hiddenOrder(r)
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if k == 0 && len(items) > maxBuffered(opt) {
		return nil, errBufferLimit(s.text, maxBuffered(opt))
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].ts != items[j].ts {
			return items[i].ts < items[j].ts
		}
		return items[i].rid < items[j].rid
	})
	rows := make([]Row, len(items))
	for i, it := range items {
		rows[i] = it.row
	}
	return rows, nil
}
