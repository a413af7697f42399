package query

import (
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/event"
)

// The timeslice operator (spec §5.1):
//
//	timeslice <N><unit> [as <name>]      unit: s, m, h, d, w
//	timeslice <N> buckets [as <name>]
//	timeslice [as <name>]
//	timeslice by 1h                      ("by" is a noise word)
//
// adds _timeslice (or <name>) to every message: the start, in epoch
// milliseconds, of the time bucket holding its _messageTime. Buckets are
// aligned to the clock of the query's time zone (ExecOptions.Location,
// UTC by default): 1h buckets start on the hour, 1d buckets at local
// midnight, 1w buckets on Monday at local midnight, other widths at
// multiples of the width from the Unix epoch in local time (7m buckets
// start at 00:00, 00:07, ... of 1970-01-01 local time, continued).
//
// "N buckets" picks, for the query's time range, the smallest width of
// 1s 2s 5s 10s 15s 30s 1m 2m 5m 10m 15m 30m 1h 2h 3h 6h 12h 1d 1w (then
// whole weeks) that gives at most N buckets of the range's length; it is
// aligned as above. Without a width there is one bucket: the query's time
// range, starting at the range's start (not clock-aligned).
//
// Daylight saving time: a message's bucket is computed with the zone's
// offset at the message's own instant, so every bucket is aligned to the
// local clock, and an hour repeated when clocks go back forms two buckets
// (01:00 in summer time and 01:00 in winter time, an hour apart). Buckets
// longer than the shift are split on the day of a change: in
// America/New_York the 1d bucket of 2024-03-10 starts at 00:00 EST for
// the messages before 03:00 EDT and at "00:00 EDT" (23:00 EST the day
// before) for those after, like Sumo's odd buckets on DST days.
//
// timeslice needs messages: after an aggregate it is an error (put it
// before the aggregate that groups by _timeslice).
//
// Pushdown: on its own the stage runs in Go. When an aggregate pushed to
// the engine groups by the timeslice, every stage between them is pushed
// too and none reads the timeslice, the engine computes the buckets in its
// stats by-list, `stats by (_time:<width> offset <zone offset>) ...`, whose
// buckets are floor((t + offset) / width) · width − offset: the Go rule
// with a fixed offset. A zone whose offset changes within the query's
// range (a DST change) has no single offset: the run then computes the
// timeslice and everything after it in Go.

func init() { registerStage("timeslice", (*parser).parseTimeslice) }

// TimesliceStage is "timeslice [<width> | <N> buckets] [as <name>]".
type TimesliceStage struct {
	Pos Pos
	// Width is the bucket width as written ("15m"), "" for none.
	Width string
	// Buckets is N of "N buckets", 0 for none.
	Buckets int
	// As is the field's name; empty means _timeslice.
	As FieldRef
}

// Position implements Node.
func (s *TimesliceStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *TimesliceStage) Name() string { return "timeslice" }

func (s *TimesliceStage) aggregate() bool { return false }

func (s *TimesliceStage) walkFields(fn func(FieldRef)) {}

// String implements Node.
func (s *TimesliceStage) String() string {
	var b strings.Builder
	b.WriteString("timeslice")
	switch {
	case s.Width != "":
		b.WriteString(" " + s.Width)
	case s.Buckets > 0:
		b.WriteString(" " + strconv.Itoa(s.Buckets) + " buckets")
	}
	if s.As.Name != "" {
		b.WriteString(" as " + s.As.String())
	}
	return b.String()
}

// MaxTimesliceBuckets is the largest N of "timeslice N buckets".
const MaxTimesliceBuckets = 10000

// sliceUnits are the units of a timeslice width, in milliseconds.
var sliceUnits = map[string]int64{"s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 7 * 86400000}

// parseSliceWidth parses "<N><unit>"; ok=false when text is not one.
func parseSliceWidth(text string) (ms int64, canon string, ok bool) {
	i := 0
	for i < len(text) && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	if i == 0 || i == len(text) {
		return 0, "", false
	}
	unit := strings.ToLower(text[i:])
	size, known := sliceUnits[unit]
	if !known {
		return 0, "", false
	}
	n, err := strconv.ParseInt(text[:i], 10, 64)
	if err != nil || n <= 0 || n > 1<<40/size {
		return 0, "", false
	}
	return n * size, strconv.FormatInt(n, 10) + unit, true
}

// parseTimeslice parses a timeslice stage; the current token is
// "timeslice".
func (p *parser) parseTimeslice() (Stage, *Error) {
	st := &TimesliceStage{Pos: p.tok.pos}
	p.advance()
	if p.isWord("by") {
		p.advance()
	}
	switch {
	case p.tok.typ == tokNumber && !strings.ContainsAny(p.tok.text, ".eE"):
		t := p.tok
		p.advance()
		if !p.isWord("buckets") {
			if p.tok.typ == tokTerm && sliceUnits[strings.ToLower(p.tok.text)] > 0 {
				return nil, errorf(t.pos, "write the width without a space: %s%s", t.text, strings.ToLower(p.tok.text))
			}
			return nil, errorf(t.pos, "timeslice width %s has no unit", t.text).
				withHint("write timeslice %sm (units s, m, h, d, w) or timeslice %s buckets", t.text, t.text)
		}
		n, err := strconv.Atoi(t.text)
		if err != nil || n < 1 || n > MaxTimesliceBuckets {
			return nil, errorf(t.pos, "timeslice: the number of buckets must be between 1 and %d", MaxTimesliceBuckets)
		}
		st.Buckets = n
		p.advance()
	case p.tok.typ == tokTerm || p.tok.typ == tokNumber:
		if p.isWord("as") {
			break
		}
		_, canon, ok := parseSliceWidth(p.tok.text)
		if !ok {
			return nil, errorf(p.tok.pos, "invalid timeslice width %s", p.tok.describe()).
				withHint("write a number and a unit: 30s, 5m, 1h, 1d, 1w; or N buckets")
		}
		st.Width = canon
		p.advance()
	}
	if p.isWord("as") {
		p.advance()
		f, err := p.parseFieldRef(`after "as"`)
		if err != nil {
			return nil, err
		}
		if f.Param {
			return nil, errorf(f.Pos, "a template parameter cannot name a field")
		}
		st.As = f
	}
	if err := p.expectStageEnd("timeslice"); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *TimesliceStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if in.records {
		return nil, errorf(s.Pos, "timeslice after an aggregate: the records have no _messageTime").
			withHint("put timeslice before the aggregate that groups by it: | timeslice 1h | count by _timeslice")
	}
	name := "_timeslice"
	if s.As.Name != "" {
		name = s.As.Name
		if b := lookupBuiltin(name); b != nil {
			return nil, errorf(s.As.Pos, "%s is a built-in field and cannot name the timeslice", b.name)
		}
		if strings.HasPrefix(name, "_") && name != "_timeslice" {
			return nil, errorf(s.As.Pos, "field names starting with _ are reserved for built-in fields: %s", name).
				withHint("name the timeslice without the leading _")
		}
	}
	impl := &timesliceImpl{text: s.String(), name: name, buckets: s.Buckets, in: in}
	if s.Width != "" {
		impl.width, _, _ = parseSliceWidth(s.Width)
	}
	out := &schema{fields: append([]FieldInfo(nil), in.fields...)}
	replaced := false
	for i, f := range out.fields {
		if f.Name == name {
			out.fields[i].Type = "long"
			replaced = true
		}
	}
	if !replaced {
		out.fields = append(out.fields, FieldInfo{Name: name, Type: "long"})
	}
	impl.out = out
	return impl, nil
}

// timesliceImpl is the compiled timeslice stage.
type timesliceImpl struct {
	text    string
	name    string
	width   int64 // ms; 0 for "N buckets" and for one bucket
	buckets int
	in, out *schema
	// fused is set when the aggregate after it computes the buckets in
	// the engine (op_aggregate.go): the stage's pipe is then empty.
	fused bool
}

func (t *timesliceImpl) output() *schema { return t.out }
func (t *timesliceImpl) aggregate() bool { return false }

func (t *timesliceImpl) explain() string { return t.text }

func (t *timesliceImpl) logsQL(string) (string, bool) { return "", t.fused }

func (t *timesliceImpl) newOperator(next rowSink) rowSink { return t.newRunOperator(next, nil) }

func (t *timesliceImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return &timesliceOp{impl: t, b: t.bind(x), next: next}
}

// sliceBinding is a timeslice's buckets for one run.
type sliceBinding struct {
	width int64 // ms
	// off is the fixed offset: bucket(t) = floor((t+off)/width)·width − off.
	off int64
	// loc, when not nil, gives the offset at each instant (a zone with
	// DST changes within the range).
	loc *time.Location
	// week: widths of whole weeks start on Monday.
	week bool
	// zoneStart, zoneEnd bound the instants (ms) whose offset is off when
	// loc is set.
	zoneStart, zoneEnd int64
}

// niceWidths are the widths "N buckets" chooses from, in ms.
var niceWidths = []int64{
	1000, 2000, 5000, 10000, 15000, 30000,
	60000, 120000, 300000, 600000, 900000, 1800000,
	3600000, 7200000, 10800000, 21600000, 43200000,
	86400000, 7 * 86400000,
}

// niceWidth is the smallest nice width giving at most n buckets of span ms.
func niceWidth(span int64, n int) int64 {
	target := (span + int64(n) - 1) / int64(n)
	for _, w := range niceWidths {
		if w >= target {
			return w
		}
	}
	week := int64(7 * 86400000)
	return (target + week - 1) / week * week
}

// weekOffset shifts week buckets from Thursdays (1970-01-01) to Mondays.
const weekOffset = -4 * 86400000

// bind computes the buckets of a run.
func (t *timesliceImpl) bind(x *runContext) sliceBinding {
	start, end := int64(0), int64(86400000)
	if x != nil && x.end > x.start {
		start, end = x.start, x.end
	}
	if t.width == 0 && t.buckets == 0 {
		w := end - start
		return sliceBinding{width: w, off: mod(-start, w)}
	}
	w := t.width
	if w == 0 {
		w = niceWidth(end-start, t.buckets)
	}
	b := sliceBinding{width: w, week: w%(7*86400000) == 0}
	loc := x.location()
	st := time.UnixMilli(start).In(loc)
	_, off := st.Zone()
	zs, ze := st.ZoneBounds()
	b.off = b.weekAdjust(int64(off) * 1000)
	if !ze.IsZero() && ze.UnixMilli() < end {
		b.loc = loc
		b.zoneStart, b.zoneEnd = minInt64, ze.UnixMilli()
		if !zs.IsZero() {
			b.zoneStart = zs.UnixMilli()
		}
	}
	return b
}

const minInt64 = -1 << 63

func (b *sliceBinding) weekAdjust(off int64) int64 {
	if b.week {
		return off + weekOffset
	}
	return off
}

// fixed reports whether every bucket of the run has the same offset.
func (b *sliceBinding) fixed() bool { return b.loc == nil }

// bucket returns the start (ms) of the bucket of t (ms).
func (b *sliceBinding) bucket(t int64) int64 {
	off := b.off
	if b.loc != nil && (t < b.zoneStart || t >= b.zoneEnd) {
		lt := time.UnixMilli(t).In(b.loc)
		_, o := lt.Zone()
		zs, ze := lt.ZoneBounds()
		b.off = b.weekAdjust(int64(o) * 1000)
		b.zoneStart, b.zoneEnd = minInt64, 1<<62
		if !zs.IsZero() {
			b.zoneStart = zs.UnixMilli()
		}
		if !ze.IsZero() {
			b.zoneEnd = ze.UnixMilli()
		}
		off = b.off
	}
	return floorDiv(t+off, b.width)*b.width - off
}

func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

// engineBy is the stats by-item computing the buckets (fixed offsets only).
func (b *sliceBinding) engineBy() string {
	s := engineTimeField + ":" + logsQLDuration(b.width*1e6)
	if off := mod(b.off, b.width); off != 0 {
		s += " offset " + logsQLDuration(off*1e6)
	}
	return s
}

// timesliceOp is the Go timeslice.
type timesliceOp struct {
	impl *timesliceImpl
	b    sliceBinding
	next rowSink
	buf  []Row
	num  []byte
}

func (o *timesliceOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	for _, r := range rows {
		ms, err := strconv.ParseInt(r.Get(event.FieldMessageTime), 10, 64)
		if err != nil {
			o.buf = append(o.buf, setMessageField(r, o.impl.name, ""))
			continue
		}
		o.num = strconv.AppendInt(o.num[:0], o.b.bucket(ms), 10)
		o.buf = append(o.buf, setMessageField(r, o.impl.name, string(o.num)))
	}
	return o.next.push(o.buf)
}

func (o *timesliceOp) finish() error { return o.next.finish() }
