package query

import (
	"maps"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/analytics/series"
)

// The row-window operators (spec §6):
//
//	accum <f> [as <a>] [by <k>, ...]                running sum            → _accum
//	diff <f> [as <a>] [by <k>, ...]                 change from previous   → _diff
//	total <f> [as <a>] [by <k>, ...]                grand total            → _total
//	rollingstd <f>[, <window>] [as <a>] [by <k>...] rolling std-dev        → _rollingstd
//	smooth <f>[, <window>] [as <a>] [by <k>...]     rolling mean           → _smooth
//	backshift <f>[, <shift>] [as <a>] [by <k>...]   value shift rows back  → _backshift
//
// Each runs over the rows in their current order (normally after an
// aggregate and "sort by _timeslice asc"), separately per group of the
// by-fields, and adds its column (or overwrites a column of that name) to
// every row. The computation is analytics/series' (Accum, Diff, Total,
// RollingStd, Smooth, Backshift), whose package documentation has the exact
// rules: a value that is null or not a number is skipped (its row gets a
// null output and does not take a place in the window, so diff compares
// with the previous numeric row) and each non-numeric value is counted in
// a warning ("accum bytes: 2 non-numeric values skipped"); windows count
// data points and default to 10 (smooth, rollingstd), the shift to 1
// (backshift), both from 1 to 1000; the first window-1 rows of smooth and
// rollingstd use the values so far; rollingstd of one value is 0; total
// puts the group's sum on every row of the group, skipped ones included.
//
// Types: accum, diff, total and backshift of an integer column are
// integers (long), otherwise doubles; smooth and rollingstd are doubles.
// Outputs never hold NaN or infinities (null instead).
//
// Over messages these work on the stream in its order (newest first
// unless sorted): they start the plan's message tail (exec_tail.go) and
// hold the messages until the end, at most
// ExecOptions.MaxBufferedMessages. A null output leaves the message
// without the field. The by-fields may be written before "as" too.
// No pushdown.

func init() {
	for _, op := range []string{"accum", "diff", "total", "rollingstd", "smooth", "backshift"} {
		registerStage(op, (*parser).parseSeriesStage)
	}
}

// SeriesStage is one of the row-window operators.
type SeriesStage struct {
	Pos Pos
	// Op is accum, diff, total, rollingstd, smooth or backshift.
	Op    string
	Field FieldRef
	// Window is the window (rollingstd, smooth) or shift (backshift); 0
	// when not written.
	Window int
	// As names the output column; "" means the default (_accum, ...).
	As    string
	AsPos Pos
	By    []FieldRef
}

// Position implements Node.
func (s *SeriesStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *SeriesStage) Name() string { return s.Op }

func (s *SeriesStage) aggregate() bool { return false }

func (s *SeriesStage) walkFields(fn func(FieldRef)) {
	fn(s.Field)
	for _, f := range s.By {
		fn(f)
	}
}

// String implements Node.
func (s *SeriesStage) String() string {
	var b strings.Builder
	b.WriteString(s.Op + " " + s.Field.String())
	if s.Window > 0 {
		b.WriteString(", " + strconv.Itoa(s.Window))
	}
	if s.As != "" {
		b.WriteString(" as " + fieldText(s.As))
	}
	if len(s.By) > 0 {
		b.WriteString(" by ")
		writeFieldRefs(&b, s.By)
	}
	return b.String()
}

// seriesWindowed reports whether op takes a window (or shift).
func seriesWindowed(op string) bool {
	return op == "rollingstd" || op == "smooth" || op == "backshift"
}

// parseSeriesStage parses a row-window operator; the current token is its
// name.
func (p *parser) parseSeriesStage() (Stage, *Error) {
	op := strings.ToLower(p.tok.text)
	st := &SeriesStage{Pos: p.tok.pos, Op: op}
	p.advance()
	if p.tok.typ == tokPipe || p.tok.typ == tokEOF {
		return nil, p.fail("expected a field after %q", op).withHint("write \"%s <field>\"", op)
	}
	f, err := p.parseFieldRef("after \"" + op + "\"")
	if err != nil {
		return nil, err
	}
	st.Field = f
	if p.tok.typ == tokComma {
		comma := p.tok
		p.advance()
		if !seriesWindowed(op) {
			return nil, errorf(comma.pos, "%s takes one field and no window", op).withHint("write \"%s <field> [as <name>] [by <fields>]\"", op)
		}
		what := "the window"
		if op == "backshift" {
			what = "the shift"
		}
		n, err := p.parsePositiveInt(op, what, series.MaxWindow)
		if err != nil {
			return nil, err
		}
		st.Window = n
	}
	for p.isWord("as") || p.isWord("by") {
		if p.isWord("as") {
			if st.As != "" {
				return nil, errorf(p.tok.pos, "%s has two \"as\"", op)
			}
			p.advance()
			f, err := p.parseFieldRef(`after "as"`)
			if err != nil {
				return nil, err
			}
			if f.Param {
				return nil, errorf(f.Pos, "a template parameter cannot name an output column")
			}
			st.As, st.AsPos = f.Name, f.Pos
			continue
		}
		if st.By != nil {
			return nil, errorf(p.tok.pos, "%s has two \"by\"", op)
		}
		by, err := p.parseByList(op)
		if err != nil {
			return nil, err
		}
		st.By = by
	}
	if err := p.expectStageEnd(op); err != nil {
		if p.tok.typ == tokNumber && seriesWindowed(op) {
			err.Hint = "write the window after a comma: " + op + " " + st.Field.String() + ", " + p.tok.text
		}
		return nil, err
	}
	return st, nil
}

// outputName is the stage's column.
func (s *SeriesStage) outputName() string {
	if s.As != "" {
		return s.As
	}
	return "_" + s.Op
}

func (s *SeriesStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	fi, err := c.resolveField(s.Field, in)
	if err != nil {
		return nil, err
	}
	impl := &seriesImpl{text: s.String(), op: s.Op, field: fi.Name, in: in, window: s.Window}
	for _, f := range s.By {
		bi, err := c.resolveField(f, in)
		if err != nil {
			return nil, err
		}
		impl.by = append(impl.by, bi.Name)
	}
	typ := "double"
	if s.Op != "smooth" && s.Op != "rollingstd" && isIntegerType(fi.Type) {
		typ = "long"
	}
	name := s.outputName()
	pos := s.AsPos
	if !pos.IsValid() {
		pos = s.Pos
	}
	out, col, e := addColumn(in, name, typ, pos, s.As != "")
	if e != nil {
		return nil, e
	}
	impl.out, impl.name, impl.col = out, name, col
	return impl, nil
}

// addColumn returns the schema of in with column name added (or, for an
// existing column of records, retyped in place) and its index (records).
// explicit says the user chose the name (with "as").
func addColumn(in *schema, name, typ string, pos Pos, explicit bool) (*schema, int, *Error) {
	if b := lookupBuiltin(name); b != nil && (!in.records || explicit) {
		if _, ok := in.field(name); !ok {
			return nil, 0, errorf(pos, "%s is a built-in field and cannot be an output column", b.name).withHint("name the output with \"as\"")
		}
	}
	out := &schema{records: in.records, fields: append([]FieldInfo(nil), in.fields...)}
	if len(in.aliases) > 0 {
		out.aliases = maps.Clone(in.aliases)
		delete(out.aliases, name)
	}
	for i, f := range out.fields {
		if f.Name == name {
			if f.KeyField {
				return nil, 0, errorf(pos, "the output column %q is a group-by field", name).withHint("name the output with \"as\"")
			}
			out.fields[i].Type = typ
			return out, i, nil
		}
	}
	out.fields = append(out.fields, FieldInfo{Name: name, Type: typ})
	return out, len(out.fields) - 1, nil
}

// seriesImpl is the compiled row-window operator.
type seriesImpl struct {
	text   string
	op     string
	field  string
	by     []string
	window int
	in     *schema
	out    *schema
	name   string // the output column
	col    int    // records: its index
}

func (s *seriesImpl) output() *schema              { return s.out }
func (s *seriesImpl) aggregate() bool              { return false }
func (s *seriesImpl) logsQL(string) (string, bool) { return "", false }
func (s *seriesImpl) explain() string              { return s.text }
func (s *seriesImpl) messageOrder() orderRole      { return orderConsumer }

func (s *seriesImpl) newOperator(next rowSink) rowSink { return s.newRunOperator(next, nil) }

func (s *seriesImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	o := &seriesOp{impl: s, x: x, next: next}
	if !s.in.records {
		o.maxBuf = DefaultMaxBufferedMessages
	}
	return o
}

func (s *seriesImpl) newTailOperator(next rowSink, x *runContext, t tailOptions) rowSink {
	return &seriesOp{impl: s, x: x, next: next, maxBuf: t.maxBuffer}
}

// compute runs the operator's function.
func (s *seriesImpl) compute(vals []series.Value, groups []string) (series.Result, error) {
	w := s.window
	switch s.op {
	case "accum":
		return series.Accum(vals, groups)
	case "diff":
		return series.Diff(vals, groups)
	case "total":
		return series.Total(vals, groups)
	case "rollingstd":
		if w == 0 {
			w = series.DefaultWindow
		}
		return series.RollingStd(vals, groups, w)
	case "smooth":
		if w == 0 {
			w = series.DefaultWindow
		}
		return series.Smooth(vals, groups, w)
	}
	if w == 0 {
		w = series.DefaultShift
	}
	return series.Backshift(vals, groups, w)
}

// groupKeys returns each row's group key (nil without by-fields).
func groupKeys(rows []Row, by []string) []string {
	if len(by) == 0 {
		return nil
	}
	keys := make([]string, len(rows))
	var b []byte
	for i, r := range rows {
		b = b[:0]
		for _, f := range by {
			b = appendKeyPart(b, r.Get(f))
		}
		keys[i] = string(b)
	}
	return keys
}

// seriesOp holds the rows and computes at the end.
type seriesOp struct {
	impl   *seriesImpl
	x      *runContext
	next   rowSink
	maxBuf int
	rows   []Row
}

func (o *seriesOp) push(rows []Row) error {
	if o.maxBuf > 0 && len(o.rows)+len(rows) > o.maxBuf {
		return errBufferLimit(o.impl.text, o.maxBuf)
	}
	o.rows = append(o.rows, rows...)
	return nil
}

func (o *seriesOp) finish() error {
	s := o.impl
	vals := make([]series.Value, len(o.rows))
	for i, r := range o.rows {
		vals[i] = series.Parse(r.Get(s.field))
	}
	res, err := s.compute(vals, groupKeys(o.rows, s.by))
	if err != nil {
		return err
	}
	for _, w := range res.Issues.Warnings(s.op + " " + s.field) {
		o.x.warn(w)
	}
	for i, r := range o.rows {
		o.rows[i] = setOutputField(r, s.out, s.col, s.name, seriesText(res.Values[i]))
	}
	rows := o.rows
	o.rows = nil
	for i := 0; i < len(rows); i += messageBatch {
		if err := o.next.push(rows[i:min(i+messageBatch, len(rows))]); err != nil {
			return err
		}
	}
	return o.next.finish()
}

// setOutputField sets an operator's output column on a row of schema out:
// on a record, column col (overwritten when it holds name, else inserted
// there, before any trailing alias fields); on a message, the field (a
// null value removes it).
func setOutputField(r Row, out *schema, col int, name, value string) Row {
	if !out.records {
		return setMessageField(r, name, value)
	}
	at := -1
	if col < len(r) && r[col].Name == name {
		at = col
	} else {
		for i := range r {
			if r[i].Name == name {
				at = i
			}
		}
	}
	if at >= 0 {
		nr := make(Row, len(r))
		copy(nr, r)
		nr[at].Value = value
		return nr
	}
	if col > len(r) {
		col = len(r)
	}
	nr := make(Row, 0, len(r)+1)
	nr = append(nr, r[:col]...)
	nr = append(nr, Field{name, value})
	return append(nr, r[col:]...)
}

// setOutputFields sets several output columns at once (cols, names and
// vals in parallel, cols increasing): see setOutputField.
func setOutputFields(r Row, out *schema, cols []int, names, vals []string) Row {
	if !out.records {
		return setMessageFieldsSorted(r, names, vals)
	}
	// The usual case: new columns appended to a well-formed record.
	appended := len(cols) > 0 && cols[0] == len(r)
	for k := range cols {
		appended = appended && cols[k] == cols[0]+k
	}
	if appended {
		nr := make(Row, len(r), len(r)+len(cols))
		copy(nr, r)
		for k := range cols {
			nr = append(nr, Field{names[k], vals[k]})
		}
		return nr
	}
	for k := range cols {
		r = setOutputField(r, out, cols[k], names[k], vals[k])
	}
	return r
}
