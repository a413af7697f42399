package query

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// The lookup operator (spec §8.1) enriches rows from a lookup table:
//
//	lookup <col> [as <field>][, ...] from <table> on <field>=<col>[, ...]
//	lookup * from <table> on ...
//
// <table> is path://"/Library/Users/me/admins" (new lookup tables),
// shared/<name> or /shared/<name> (classic), or a bare name; all are
// normalised to one name (NormalizeLookupName). The join conditions are
// separated by "," or "and"; "on f" is short for "on f=f". Each condition
// pairs an event field with a table column: the side that names a column of
// the table is the column (Sumo writes event=column, some classic examples
// column=event; both work), the other side the event field.
//
// Semantics: a left-outer join on the table's primary key. Every primary key
// column must be used, and only those (an error names what is missing). A
// row whose key fields equal a table row's key — strings and booleans
// compared without regard to case, numbers by value — gets the requested
// columns (under their alias); a row without a match, or with a null key
// field, gets nulls, which removes fields of those names that it had. "*"
// returns every column of the table but the key columns matched with an
// event field of the same name (which holds the value already, and keeps
// it when nothing matches). Two outputs with the same name are an
// error. Works on messages and on records (after an aggregate the outputs
// are new columns of the records; "lookup *" over records must then be the
// last stage, but for save, since the columns are known only when the query
// runs).
//
// The table is loaded once per run (bounded by the table size limit of the
// catalog) and indexed by its primary key; a run fails at its start, with
// the position of the table's name, when the table does not exist, a
// column is unknown or the key is not fully used. Go only: the engine knows
// nothing of lookup tables.
//
// geo://location is the GeoIP database (op_geo.go):
//
//	lookup latitude, longitude, country_code from geo://location on ip=src_ip
//
// Other sources (asn://, sumo://threat/..., https:// CSV files) are not
// supported.

func init() { registerStage("lookup", (*parser).parseLookup) }

// LookupSource names where a lookup reads: a lookup table (Table set) or
// the GeoIP database (Geo set).
type LookupSource struct {
	Pos Pos
	// Table is the canonical table name (NormalizeLookupName).
	Table string
	// Geo is set for geo://location.
	Geo bool
}

// String returns the canonical text of the source.
func (s LookupSource) String() string {
	if s.Geo {
		return "geo://location"
	}
	return "path://" + quoteString(s.Table)
}

// LookupOutput is one requested column and the field it becomes.
type LookupOutput struct {
	Column FieldRef // the table column (lower-case)
	As     *FieldRef
}

// name is the output field's name.
func (o LookupOutput) name() string {
	if o.As != nil {
		return o.As.Name
	}
	return strings.ToLower(o.Column.Name)
}

// LookupJoin is one condition of "on": Left=Right as written. Which side
// is the table's column is decided against the table.
type LookupJoin struct {
	Left, Right FieldRef
	// Short is set for "on f" (Right repeats Left).
	Short bool
}

func (j LookupJoin) String() string {
	if j.Short {
		return j.Left.String()
	}
	return j.Left.String() + "=" + j.Right.String()
}

// LookupStage is "lookup ... from ... on ...".
type LookupStage struct {
	Pos Pos
	// All is set for "lookup *".
	All     bool
	Outputs []LookupOutput
	From    LookupSource
	OnPos   Pos
	On      []LookupJoin
}

// Position implements Node.
func (s *LookupStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *LookupStage) Name() string { return "lookup" }

func (s *LookupStage) aggregate() bool { return false }

func (s *LookupStage) walkFields(fn func(FieldRef)) {
	for _, o := range s.Outputs {
		fn(o.Column)
		if o.As != nil {
			fn(*o.As)
		}
	}
	for _, j := range s.On {
		fn(j.Left)
		if !j.Short {
			fn(j.Right)
		}
	}
}

// String implements Node.
func (s *LookupStage) String() string {
	var b strings.Builder
	b.WriteString("lookup ")
	if s.All {
		b.WriteString("*")
	}
	for i, o := range s.Outputs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o.Column.String())
		if o.As != nil {
			b.WriteString(" as " + o.As.String())
		}
	}
	b.WriteString(" from " + s.From.String() + " on ")
	for i, j := range s.On {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(j.String())
	}
	return b.String()
}

// parseLookup parses a lookup stage; the current token is "lookup".
func (p *parser) parseLookup() (Stage, *Error) {
	st := &LookupStage{Pos: p.tok.pos}
	p.advance()
	if p.isWord("from") {
		return nil, errorf(p.tok.pos, `expected the columns to return (or *) before "from"`)
	}
	if p.tok.typ == tokStar {
		st.All = true
		p.advance()
	} else {
		seen := map[string]bool{}
		for {
			col, err := p.parseFieldRef("to look up")
			if err != nil {
				if p.isWord("from") {
					err.Hint = `name the columns to return, or * for all: lookup <column>[, ...] from ...`
				}
				return nil, err
			}
			out := LookupOutput{Column: col}
			if p.isWord("as") {
				p.advance()
				as, err := p.parseFieldRef(`after "as"`)
				if err != nil {
					return nil, err
				}
				if as.Param {
					return nil, errorf(as.Pos, "a template parameter cannot name an output field")
				}
				out.As = &as
			}
			if !col.Param {
				name, pos := out.name(), col.Pos
				if out.As != nil {
					pos = out.As.Pos
				}
				if seen[name] {
					return nil, errorf(pos, "lookup returns two fields named %s", fieldText(name)).
						withHint("give one of them another name with \"as\"")
				}
				seen[name] = true
			}
			st.Outputs = append(st.Outputs, out)
			if p.tok.typ != tokComma {
				break
			}
			p.advance()
		}
	}
	if !p.isWord("from") {
		return nil, p.fail(`expected "from" and the lookup table in lookup`)
	}
	p.advance()
	src, err := p.parseTableRef("lookup")
	if err != nil {
		return nil, err
	}
	st.From = src
	if !p.isWord("on") {
		e := p.fail(`expected "on" and the join condition in lookup`)
		if e.Hint == "" {
			e.Hint = `write on <field>=<column>[, ...]`
		}
		return nil, e
	}
	st.OnPos = p.tok.pos
	p.advance()
	for {
		left, err := p.parseFieldRef(`in the join condition after "on"`)
		if err != nil {
			return nil, err
		}
		j := LookupJoin{Left: left, Right: left, Short: true}
		if p.tok.typ == tokEq || p.tok.typ == tokEqEq {
			p.advance()
			right, err := p.parseFieldRef(`after "=" in the join condition`)
			if err != nil {
				return nil, err
			}
			j.Right, j.Short = right, false
		}
		st.On = append(st.On, j)
		if p.tok.typ == tokComma || p.isWord("and") {
			p.advance()
			continue
		}
		break
	}
	if err := p.expectStageEnd("lookup"); err != nil {
		return nil, err
	}
	if st.From.Geo {
		if err := checkGeoLookup(st); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// parseTableRef parses where a lookup or save reads or writes:
// path://"...", geo://location, or a classic path (shared/name, /shared/name,
// name), whose tokens must touch one another.
func (p *parser) parseTableRef(op string) (LookupSource, *Error) {
	t := p.tok
	src := LookupSource{Pos: t.pos}
	if t.typ == tokTerm && !t.params {
		if scheme, rest, ok := strings.Cut(t.text, "://"); ok {
			scheme = strings.ToLower(scheme)
			switch {
			case scheme == "path" && rest == "":
				p.advance()
				if p.tok.typ != tokString {
					return src, p.fail(`expected the table's path in double quotes after path://`)
				}
				name, err := NormalizeLookupName(p.tok.val)
				if err != nil {
					return src, errorf(p.tok.pos, "%v", err)
				}
				p.advance()
				src.Table = name
				return src, nil
			case scheme == "geo":
				if !strings.EqualFold(rest, "location") {
					return src, errorf(t.pos, "unknown geo lookup source %q", t.text).withHint("write geo://location")
				}
				if op == "save" {
					return src, errorf(t.pos, "save writes lookup tables, not %s", t.text)
				}
				p.advance()
				src.Geo = true
				return src, nil
			case scheme == "asn":
				return src, errorf(t.pos, "ASN lookup (%s) is not supported yet", t.text)
			case scheme == "sumo":
				return src, errorf(t.pos, "threat intelligence lookup (%s) is not supported yet", t.text)
			case scheme == "http" || scheme == "https":
				return src, errorf(t.pos, "lookups from CSV files on web servers are not supported").
					withHint("upload the file as a lookup table (dohyo lookup create and upload, or PUT /api/v1/lookups/{id}/csv) and use path://\"<name>\"")
			}
			return src, errorf(t.pos, "unknown %s source %q", op, t.text).
				withHint(`name a lookup table with path://"<path>"`)
		}
	}
	if t.typ == tokParam || (t.typ == tokTerm && t.params) {
		return src, errorf(t.pos, "a template parameter cannot name a lookup table")
	}
	if t.typ != tokTerm && t.typ != tokSlash {
		return src, p.fail(`expected a lookup table (path://"<path>") in %s`, op)
	}
	start, end := t.pos.Offset, t.end
	p.advance()
	for p.tok.pos.Offset == end {
		switch p.tok.typ {
		case tokTerm, tokSlash, tokMinus, tokDot, tokNumber:
			if p.tok.params {
				return src, errorf(p.tok.pos, "a template parameter cannot name a lookup table")
			}
			end = p.tok.end
			p.advance()
			continue
		}
		break
	}
	name, err := NormalizeLookupName(p.lex.input[start:end])
	if err != nil {
		return src, errorf(t.pos, "%v", err)
	}
	src.Table = name
	return src, nil
}

// ---- compile ----

func (s *LookupStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if s.From.Geo {
		return compileGeoLookup(c, s, in)
	}
	impl := &lookupImpl{stage: s, in: in}
	// Outputs known now: the named columns, typed string until the table
	// says otherwise (records only learn the types at run time).
	out := &schema{records: in.records, fields: append([]FieldInfo(nil), in.fields...)}
	for _, o := range s.Outputs {
		name := o.name()
		if b := lookupBuiltin(name); b != nil {
			pos := o.Column.Pos
			if o.As != nil {
				pos = o.As.Pos
			}
			return nil, errorf(pos, "lookup cannot set the built-in field %s", b.name).withHint("give the column another name with \"as\"")
		}
		out.fields = setSchemaField(out.fields, FieldInfo{Name: name, Type: "string"})
	}
	if in.records {
		// The event side of each condition must be a column of the records;
		// when only one side is, it is the event side.
		for _, j := range s.On {
			_, lok := in.field(j.Left.Name)
			_, rok := in.field(j.Right.Name)
			if !lok && !rok {
				_, err := c.resolveField(j.Left, in)
				return nil, err
			}
		}
	} else {
		for _, j := range s.On {
			for _, f := range []FieldRef{j.Left, j.Right} {
				if b := lookupBuiltin(f.Name); b != nil && b.storage == "" {
					_, err := c.resolveField(f, in)
					return nil, err
				}
			}
		}
	}
	impl.out = out
	return impl, nil
}

// setSchemaField replaces the field of the same name or appends f.
func setSchemaField(fields []FieldInfo, f FieldInfo) []FieldInfo {
	for i := range fields {
		if fields[i].Name == f.Name {
			fields[i].Type = f.Type
			return fields
		}
	}
	return append(fields, f)
}

// lookupImpl is a compiled table lookup, before it is bound to its table.
type lookupImpl struct {
	stage *LookupStage
	in    *schema
	out   *schema
}

func (l *lookupImpl) output() *schema                  { return l.out }
func (l *lookupImpl) aggregate() bool                  { return false }
func (l *lookupImpl) logsQL(string) (string, bool)     { return "", false }
func (l *lookupImpl) explain() string                  { return l.stage.String() }
func (l *lookupImpl) newOperator(next rowSink) rowSink { return &unboundOp{what: "lookup", next: next} }

// unboundOp stands for an operator whose stage was not bound to the
// environment; the planner always binds, so it only reports the bug.
type unboundOp struct {
	what string
	next rowSink
}

func (o *unboundOp) push([]Row) error {
	return fmt.Errorf("internal error: %s ran without its execution environment", o.what)
}
func (o *unboundOp) finish() error { return o.next.finish() }

// bind loads the table and resolves the stage against it.
func (l *lookupImpl) bind(ctx context.Context, b *binding) (stageImpl, error) {
	s := l.stage
	if b.env.Lookups == nil {
		return nil, errorf(s.From.Pos, "lookup tables are not available here")
	}
	t, err := b.env.Lookups.LoadLookup(ctx, s.From.Table)
	if errors.Is(err, ErrLookupNotFound) {
		return nil, errorf(s.From.Pos, "lookup table %q does not exist", s.From.Table).
			withHint("create it with 'dohyo lookup create' or POST /api/v1/lookups, or list the tables with 'dohyo lookup list'")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: lookup table %q: %w", s.From.Pos, s.From.Table, err)
	}
	bl := &boundLookup{impl: l, table: t}
	// Join conditions: pair each primary key column with an event field.
	keyEvent := make([]string, len(t.PrimaryKey))
	keyPos := make([]Pos, len(t.PrimaryKey))
	for _, j := range s.On {
		col, ev := strings.ToLower(j.Right.Name), j.Left
		if t.Column(col) < 0 {
			if lc := strings.ToLower(j.Left.Name); t.Column(lc) >= 0 {
				col, ev = lc, j.Right
			} else {
				e := errorf(j.Right.Pos, "lookup table %q has no column %s (it has %s)", t.Name, fieldText(col), columnNames(t))
				e.Hint = didYouMean(col, columnList(t))
				return nil, e
			}
		}
		if l.in.records {
			if _, ok := l.in.field(ev.Name); !ok {
				return nil, errorf(ev.Pos, "field %q does not exist after the aggregate; the records have %s", ev.Name, l.in.names())
			}
		} else if _, ok := l.in.field(ev.Name); !ok && strings.HasPrefix(ev.Name, "_") && lookupBuiltin(ev.Name) == nil {
			e := errorf(ev.Pos, "unknown built-in field %q", ev.Name)
			e.Hint = didYouMean(ev.Name, builtinNames())
			return nil, e
		}
		k := -1
		for i, pk := range t.PrimaryKey {
			if pk == col {
				k = i
			}
		}
		if k < 0 {
			return nil, errorf(j.Left.Pos, "column %s of lookup table %q is not part of its primary key (%s)", fieldText(col), t.Name, strings.Join(t.PrimaryKey, ", ")).
				withHint("a lookup matches on the primary key columns only")
		}
		if keyEvent[k] != "" {
			return nil, errorf(j.Left.Pos, "the key column %s is matched twice", fieldText(col))
		}
		keyEvent[k], keyPos[k] = ev.Name, ev.Pos
	}
	var missing []string
	for i, pk := range t.PrimaryKey {
		if keyEvent[i] == "" {
			missing = append(missing, pk)
		}
	}
	if len(missing) > 0 {
		return nil, errorf(s.OnPos, "the lookup must match every primary key column of table %q; missing: %s", t.Name, strings.Join(missing, ", ")).
			withHint("add %s=<field> to the conditions after \"on\"", missing[0])
	}
	bl.keyFields = keyEvent
	// Outputs.
	if s.All {
		for i, c := range t.Columns {
			if k := lookupNameIndex(t.PrimaryKey, c.Name); k >= 0 && keyEvent[k] == c.Name {
				continue // the event field it matched holds the same value
			}
			bl.outCols = append(bl.outCols, i)
			bl.outNames = append(bl.outNames, c.Name)
		}
	} else {
		for _, o := range s.Outputs {
			col := strings.ToLower(o.Column.Name)
			i := t.Column(col)
			if i < 0 {
				e := errorf(o.Column.Pos, "lookup table %q has no column %s (it has %s)", t.Name, fieldText(col), columnNames(t))
				e.Hint = didYouMean(col, columnList(t))
				return nil, e
			}
			bl.outCols = append(bl.outCols, i)
			bl.outNames = append(bl.outNames, o.name())
		}
	}
	for _, n := range bl.outNames {
		if b := lookupBuiltin(n); b != nil {
			return nil, errorf(s.Pos, "lookup cannot set the built-in field %s (a column of table %q)", b.name, t.Name)
		}
	}
	// The output schema, with the table's types.
	out := &schema{records: l.in.records, fields: append([]FieldInfo(nil), l.in.fields...)}
	for k, n := range bl.outNames {
		out.fields = setSchemaField(out.fields, FieldInfo{Name: n, Type: lookupFieldType(t.Columns[bl.outCols[k]].Type)})
	}
	if l.in.records && s.All && !b.last(b.step) {
		return nil, errorf(s.Pos, "lookup * after an aggregate must be the last stage").
			withHint("list the columns (lookup a, b from ...) to use them in later stages")
	}
	if l.in.records && !s.All {
		// Keep the compiled column order (later stages were compiled
		// against it); only the types change.
		out = &schema{records: true, fields: append([]FieldInfo(nil), l.out.fields...)}
		for k, n := range bl.outNames {
			out.fields = setSchemaField(out.fields, FieldInfo{Name: n, Type: lookupFieldType(t.Columns[bl.outCols[k]].Type)})
		}
	}
	bl.out = out
	if l.in.records && b.last(b.step) {
		// The records' columns (lookup *) and types are known now; save,
		// which may follow, passes them through.
		b.out = out
	}
	t.buildIndex()
	return bl, nil
}

// lookupFieldType is the FieldInfo type of a lookup column type.
func lookupFieldType(t string) string {
	switch t {
	case LookupLong:
		return "long"
	case LookupDouble:
		return "double"
	}
	return "string"
}

func columnList(t *LookupTable) []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

func columnNames(t *LookupTable) string { return strings.Join(columnList(t), ", ") }

// boundLookup is a lookup bound to its loaded table.
type boundLookup struct {
	impl      *lookupImpl
	table     *LookupTable
	keyFields []string // event field per primary key column
	outCols   []int    // table column per output
	outNames  []string // output field names
	out       *schema
}

func (l *boundLookup) output() *schema              { return l.out }
func (l *boundLookup) aggregate() bool              { return false }
func (l *boundLookup) logsQL(string) (string, bool) { return "", false }
func (l *boundLookup) explain() string              { return l.impl.explain() }

func (l *boundLookup) newOperator(next rowSink) rowSink {
	op := &lookupOp{l: l, next: next, vals: make([]string, len(l.keyFields)), outVals: make([]string, len(l.outNames))}
	if l.out.records {
		op.rec = newRecordSetter(l.impl.in, l.out, l.outNames)
	}
	return op
}

// lookupOp is the Go lookup.
type lookupOp struct {
	l       *boundLookup
	next    rowSink
	rec     *recordSetter
	vals    []string
	outVals []string
	key     []byte
	buf     []Row
}

func (o *lookupOp) push(rows []Row) error {
	l := o.l
	o.buf = o.buf[:0]
	for _, r := range rows {
		match := -1
		null := false
		for i, f := range l.keyFields {
			v := r.Get(f)
			if v == "" {
				null = true
				break
			}
			o.vals[i] = v
		}
		if !null {
			o.key, match = l.table.find(o.key, o.vals)
		}
		for k := range o.outVals {
			o.outVals[k] = ""
			if match >= 0 {
				if row := l.table.Rows[match]; l.outCols[k] < len(row) {
					o.outVals[k] = row[l.outCols[k]]
				}
			}
		}
		if o.rec != nil {
			o.buf = append(o.buf, o.rec.set(r, o.outVals))
		} else {
			o.buf = append(o.buf, setMessageFields(r, l.outNames, o.outVals))
		}
	}
	return o.next.push(o.buf)
}

func (o *lookupOp) finish() error { return o.next.finish() }

// setMessageFields returns a copy of the message r with the fields names set
// to vals: an empty value removes the field (null). Existing fields keep
// their place; new ones go before the hidden fields, which trail a message.
func setMessageFields(r Row, names, vals []string) Row {
	hidden := len(r)
	for hidden > 0 && strings.HasPrefix(r[hidden-1].Name, event.InternalFieldPrefix) {
		hidden--
	}
	out := make(Row, 0, len(r)+len(names))
	done := make([]bool, len(names))
	for _, f := range r[:hidden] {
		k := lookupNameIndex(names, f.Name)
		if k < 0 {
			out = append(out, f)
			continue
		}
		done[k] = true
		if vals[k] != "" {
			out = append(out, Field{f.Name, vals[k]})
		}
	}
	for k, n := range names {
		if !done[k] && vals[k] != "" {
			out = append(out, Field{n, vals[k]})
		}
	}
	return append(out, r[hidden:]...)
}

func lookupNameIndex(names []string, n string) int {
	for i, s := range names {
		if s == n {
			return i
		}
	}
	return -1
}

// recordSetter builds records of schema out from records of schema in and
// the values of named columns.
type recordSetter struct {
	names []string // out column names
	from  []int    // out column → in column, or -1
	slots []int    // named value k → out column
}

func newRecordSetter(in, out *schema, names []string) *recordSetter {
	rs := &recordSetter{names: make([]string, len(out.fields)), from: make([]int, len(out.fields)), slots: make([]int, len(names))}
	for i, f := range out.fields {
		rs.names[i] = f.Name
		rs.from[i] = -1
		for j, g := range in.fields {
			if g.Name == f.Name {
				rs.from[i] = j
			}
		}
	}
	for k, n := range names {
		for i, f := range out.fields {
			if f.Name == n {
				rs.slots[k] = i
			}
		}
	}
	return rs
}

// set returns the record of the out schema holding r's values and vals.
func (rs *recordSetter) set(r Row, vals []string) Row {
	out := make(Row, len(rs.names))
	for i, j := range rs.from {
		out[i].Name = rs.names[i]
		if j >= 0 && j < len(r) {
			out[i].Value = r[j].Value
		}
	}
	for k, i := range rs.slots {
		out[i].Value = vals[k]
	}
	return out
}
