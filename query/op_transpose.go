package query

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The transpose operator (spec §5.2):
//
//	transpose row <f>[, ...] column <f>[, ...] [as <name>[, ...][, *]]
//
// pivots records: one output record per distinct combination of the row
// fields (key fields, in the records' order: by their values), one column
// per distinct value of the column fields, holding the remaining field's
// value (the "value field": every field that is neither a row nor a column
// field). Typical use: "timeslice 1h | count by _timeslice, status |
// transpose row _timeslice column status".
//
//   - Column names come from the data: the column fields' values joined
//     with "_" (an empty value is "null"), lower-cased like every field
//     name (reference them as %"200" or %"get"). With several value fields
//     each gets its own column, "<value>_<field>". Two records giving the
//     same cell keep the first value.
//   - Columns are in string order; "as a, b" lists the columns wanted, in
//     that order (a listed column the data lacks is all null), and a final
//     "*" adds the others after them in string order. Without "*" only the
//     listed columns come out.
//   - A missing cell is null. At most MaxTransposeColumns generated columns:
//     the others are left out and a warning says so.
//
// transpose needs records (after an aggregate). Its columns are known only
// when the query runs (unless "as" lists them without "*"): later stages
// may name any column, and the records delivered have the columns the data
// gave. It runs in Go.

func init() { registerStage("transpose", (*parser).parseTranspose) }

// MaxTransposeColumns is the most columns transpose generates (Sumo's).
const MaxTransposeColumns = 300

// TransposeStage is "transpose row ... column ... [as ...]".
type TransposeStage struct {
	Pos    Pos
	Row    []FieldRef
	Column []FieldRef
	// As are the listed output columns; a FieldRef named "*" stands for
	// the others.
	As []FieldRef
}

// Position implements Node.
func (s *TransposeStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *TransposeStage) Name() string { return "transpose" }

func (s *TransposeStage) aggregate() bool { return false }

func (s *TransposeStage) walkFields(fn func(FieldRef)) {
	for _, f := range s.Row {
		fn(f)
	}
	for _, f := range s.Column {
		fn(f)
	}
}

// String implements Node.
func (s *TransposeStage) String() string {
	var b strings.Builder
	b.WriteString("transpose row ")
	writeFieldList(&b, s.Row)
	b.WriteString(" column ")
	writeFieldList(&b, s.Column)
	if len(s.As) > 0 {
		b.WriteString(" as ")
		for i, f := range s.As {
			if i > 0 {
				b.WriteString(", ")
			}
			if f.Name == "*" {
				b.WriteString("*")
			} else {
				b.WriteString(f.String())
			}
		}
	}
	return b.String()
}

// parseTranspose parses a transpose stage; the current token is
// "transpose".
func (p *parser) parseTranspose() (Stage, *Error) {
	st := &TransposeStage{Pos: p.tok.pos}
	p.advance()
	list := func(what string) ([]FieldRef, *Error) {
		var out []FieldRef
		for {
			f, err := p.parseFieldRef(`after "` + what + `"`)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
			if p.tok.typ != tokComma {
				return out, nil
			}
			p.advance()
		}
	}
	if !p.isWord("row") {
		return nil, p.fail(`expected "row" after "transpose"`).withHint("write transpose row <field> column <field>")
	}
	p.advance()
	var err *Error
	if st.Row, err = list("row"); err != nil {
		return nil, err
	}
	if !p.isWord("column") {
		return nil, p.fail(`expected "column" after the row fields`).withHint("write transpose row <field> column <field>")
	}
	p.advance()
	if st.Column, err = list("column"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, f := range append(append([]FieldRef(nil), st.Row...), st.Column...) {
		if seen[f.Name] {
			return nil, errorf(f.Pos, "field %s is listed twice in transpose", f.String())
		}
		seen[f.Name] = true
	}
	if p.isWord("as") {
		p.advance()
		names := map[string]bool{}
		for {
			var f FieldRef
			switch {
			case p.tok.typ == tokStar:
				f = FieldRef{Pos: p.tok.pos, Name: "*"}
				p.advance()
			case p.tok.typ == tokNumber:
				f = FieldRef{Pos: p.tok.pos, Name: strings.ToLower(p.tok.text)}
				p.advance()
			default:
				if f, err = p.parseFieldRef(`after "as"`); err != nil {
					return nil, err
				}
			}
			if names[f.Name] {
				return nil, errorf(f.Pos, "column %s is listed twice after \"as\"", f.Name)
			}
			names[f.Name] = true
			st.As = append(st.As, f)
			if p.tok.typ != tokComma {
				break
			}
			p.advance()
		}
	}
	if err := p.expectStageEnd("transpose"); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *TransposeStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if !in.records {
		return nil, errorf(s.Pos, "transpose must follow an aggregate").
			withHint("transpose pivots records: ... | count by _timeslice, status | transpose row _timeslice column status")
	}
	impl := &transposeImpl{text: s.String(), in: in}
	used := map[string]bool{}
	out := &schema{records: true}
	for _, f := range s.Row {
		fi, err := c.resolveField(f, in)
		if err != nil {
			return nil, err
		}
		impl.row = append(impl.row, f.Name)
		used[f.Name] = true
		out.fields = append(out.fields, FieldInfo{Name: f.Name, Type: fi.Type, KeyField: true})
	}
	for _, f := range s.Column {
		if _, err := c.resolveField(f, in); err != nil {
			return nil, err
		}
		impl.column = append(impl.column, f.Name)
		used[f.Name] = true
	}
	typ := ""
	for _, f := range in.fields {
		if !used[f.Name] {
			impl.values = append(impl.values, f.Name)
			if typ == "" || typ == f.Type {
				typ = f.Type
			} else {
				typ = "string"
			}
		}
	}
	if len(impl.values) == 0 && !in.dynamic {
		return nil, errorf(s.Pos, "transpose needs a value field besides the row and column fields; the records have %s", in.names())
	}
	if typ == "" {
		typ = "string"
	}
	impl.typ = typ
	star := len(s.As) == 0
	for _, f := range s.As {
		if f.Name == "*" {
			star = true
			continue
		}
		name := strings.ToLower(f.Name)
		impl.listed = append(impl.listed, name)
		if used[name] {
			return nil, errorf(f.Pos, "column %s would repeat a row field", f.Name)
		}
		out.fields = append(out.fields, FieldInfo{Name: name, Type: typ})
	}
	impl.star = star
	if star {
		out.dynamic, out.dynamicType = true, typ
	}
	impl.out = out
	impl.warn = "transpose: more than " + strconv.Itoa(MaxTransposeColumns) + " columns; the others were left out"
	return impl, nil
}

// transposeImpl is the compiled transpose.
type transposeImpl struct {
	text   string
	in     *schema
	out    *schema
	row    []string
	column []string
	values []string
	typ    string
	listed []string
	star   bool
	warn   string
}

func (t *transposeImpl) output() *schema              { return t.out }
func (t *transposeImpl) aggregate() bool              { return false }
func (t *transposeImpl) explain() string              { return t.text }
func (t *transposeImpl) logsQL(string) (string, bool) { return "", false }

func (t *transposeImpl) newOperator(next rowSink) rowSink { return t.newRunOperator(next, nil) }

func (t *transposeImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return &transposeOp{impl: t, x: x, next: next, rows: map[string]*transposeRow{}}
}

type transposeRow struct {
	keys  []string
	cells map[string]string
}

// transposeOp is the Go transpose.
type transposeOp struct {
	impl  *transposeImpl
	x     *runContext
	next  rowSink
	rows  map[string]*transposeRow
	order []*transposeRow
	cols  map[string]bool
	key   []byte
}

func (o *transposeOp) push(rows []Row) error {
	t := o.impl
	if o.cols == nil {
		o.cols = map[string]bool{}
	}
	for _, r := range rows {
		o.key = o.key[:0]
		for _, f := range t.row {
			v := r.Get(f)
			o.key = strconv.AppendInt(o.key, int64(len(v)), 10)
			o.key = append(o.key, ':')
			o.key = append(o.key, v...)
		}
		tr := o.rows[string(o.key)]
		if tr == nil {
			tr = &transposeRow{cells: map[string]string{}}
			for _, f := range t.row {
				tr.keys = append(tr.keys, r.Get(f))
			}
			o.rows[string(o.key)] = tr
			o.order = append(o.order, tr)
		}
		parts := make([]string, len(t.column))
		for i, f := range t.column {
			v := r.Get(f)
			if v == "" {
				v = "null"
			}
			parts[i] = v
		}
		col := strings.ToLower(strings.Join(parts, "_"))
		values := t.values
		if len(values) == 0 {
			values = recordValueFields(r, t)
		}
		for _, vf := range values {
			name := col
			if len(values) > 1 {
				name = col + "_" + strings.ToLower(vf)
			}
			o.cols[name] = true
			if _, ok := tr.cells[name]; !ok || tr.cells[name] == "" {
				tr.cells[name] = r.Get(vf)
			}
		}
	}
	return nil
}

// recordValueFields are the value fields of a record whose schema is known
// only at run time.
func recordValueFields(r Row, t *transposeImpl) []string {
	var out []string
	for _, f := range r {
		if !slices.Contains(t.row, f.Name) && !slices.Contains(t.column, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

func (o *transposeOp) finish() error {
	t := o.impl
	var cols []string
	listed := map[string]bool{}
	for _, c := range t.listed {
		cols = append(cols, c)
		listed[c] = true
	}
	if t.star {
		var rest []string
		for c := range o.cols {
			if !listed[c] && !slices.Contains(t.row, c) {
				rest = append(rest, c)
			}
		}
		sort.Strings(rest)
		cols = append(cols, rest...)
	}
	if len(cols) > MaxTransposeColumns {
		cols = cols[:MaxTransposeColumns]
		o.x.warn(t.warn)
	}
	out := make([]Row, 0, len(o.order))
	for _, tr := range o.order {
		row := make(Row, 0, len(t.row)+len(cols))
		for i, f := range t.row {
			row = append(row, Field{f, tr.keys[i]})
		}
		for _, c := range cols {
			row = append(row, Field{c, tr.cells[c]})
		}
		out = append(out, row)
	}
	sortRecords(out, t.out)
	if err := o.next.push(out); err != nil {
		return err
	}
	return o.next.finish()
}

// recordFields returns the columns of the records delivered: the output
// schema's, or for records with run-time columns (transpose) those of the
// rows, in their order (then the schema's others).
func (p *Plan) recordFields(rows []Row) []FieldInfo {
	if !p.out.dynamic {
		return append([]FieldInfo(nil), p.out.fields...)
	}
	var fields []FieldInfo
	have := map[string]bool{}
	add := func(name string) {
		if have[name] {
			return
		}
		have[name] = true
		fi, ok := p.out.field(name)
		if !ok {
			fi = FieldInfo{Name: name, Type: p.out.dynamicType}
		}
		fields = append(fields, fi)
	}
	for _, r := range rows {
		for _, f := range r {
			add(f.Name)
		}
	}
	for _, f := range p.out.fields {
		add(f.Name)
	}
	return fields
}

// setDynamicRecordField returns a copy of the record r (whose columns are
// known only at run time) with the named column set, appended when new.
func setDynamicRecordField(r Row, name, value string) Row {
	out := make(Row, len(r), len(r)+1)
	copy(out, r)
	for i := range out {
		if out[i].Name == name {
			out[i].Value = value
			return out
		}
	}
	return append(out, Field{name, value})
}
