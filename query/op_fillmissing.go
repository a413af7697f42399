package query

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/analytics/series"
)

// The fillmissing operator (spec §6.1):
//
//	fillmissing <gen>[, <gen>...] [with <const> for <f>[, ...]]... [takeLast]
//	gen := timeslice[(<N><unit>)] [in <f>]
//	     | values("<v1>", "<v2>", ...) in <f>
//	     | values all in <f>
//
// adds the records an aggregate did not produce: every combination of the
// generators' values that no record has gets a record. Generators:
//
//   - timeslice: every timeslice of the query's range in field f (default
//     _timeslice), with the width written, or else the width of the
//     timeslice stage before the aggregate, aligned and zoned as that stage
//     aligns (op_timeslice.go);
//   - values("a", "b") in f: those values;
//   - values all in f: the values of f the records have.
//
// Key fields of the records that no generator names keep the combinations
// the records have: "count by _timeslice, host | fillmissing timeslice"
// fills the missing timeslices of every host seen. A new record's other
// fields are 0 (integer and double columns), false (booleans) or null
// (strings), unless "with <const> for <f>" says otherwise, or takeLast
// copies them from the previous record of the same group in time order
// (it needs a timeslice generator; before the first, the defaults apply).
//
// At most series.MaxFill (10,000) combinations: beyond, the enumeration is
// cut and a warning says so. The records come out ordered by their key
// fields. fillmissing needs records (after an aggregate) and runs in Go.

func init() { registerStage("fillmissing", (*parser).parseFillmissing) }

// FillStage is a fillmissing stage.
type FillStage struct {
	Pos  Pos
	Gens []*FillGen
	// With are the "with <const> for <fields>" clauses.
	With     []*FillWith
	TakeLast bool
}

// FillGen is one generator of fillmissing.
type FillGen struct {
	Pos Pos
	// Kind is "timeslice", "values" or "all".
	Kind string
	// Width is the timeslice width as written, "" for the default.
	Width string
	// Values are the listed values.
	Values []Expression
	// In is the generated field; empty for a timeslice's default.
	In FieldRef
}

// FillWith is "with <const> for <fields>".
type FillWith struct {
	Value  Expression
	Fields []FieldRef
}

// Position implements Node.
func (s *FillStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *FillStage) Name() string { return "fillmissing" }

func (s *FillStage) aggregate() bool { return false }

func (s *FillStage) walkFields(fn func(FieldRef)) {
	for _, g := range s.Gens {
		if g.In.Name != "" {
			fn(g.In)
		}
	}
	for _, w := range s.With {
		for _, f := range w.Fields {
			fn(f)
		}
	}
}

// String implements Node.
func (s *FillStage) String() string {
	var b strings.Builder
	b.WriteString("fillmissing ")
	for i, g := range s.Gens {
		if i > 0 {
			b.WriteString(", ")
		}
		switch g.Kind {
		case "timeslice":
			b.WriteString("timeslice")
			if g.Width != "" {
				b.WriteString("(" + g.Width + ")")
			}
		case "values":
			b.WriteString("values(")
			for j, v := range g.Values {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(v.String())
			}
			b.WriteString(")")
		case "all":
			b.WriteString("values all")
		}
		if g.In.Name != "" {
			b.WriteString(" in " + g.In.String())
		}
	}
	for _, w := range s.With {
		b.WriteString(" with " + w.Value.String() + " for ")
		writeFieldList(&b, w.Fields)
	}
	if s.TakeLast {
		b.WriteString(" takeLast")
	}
	return b.String()
}

// parseFillmissing parses a fillmissing stage; the current token is
// "fillmissing".
func (p *parser) parseFillmissing() (Stage, *Error) {
	st := &FillStage{Pos: p.tok.pos}
	p.advance()
	for {
		g, err := p.parseFillGen()
		if err != nil {
			return nil, err
		}
		st.Gens = append(st.Gens, g)
		if p.tok.typ != tokComma {
			break
		}
		p.advance()
	}
	for p.isWord("with") {
		p.advance()
		v, err := p.parseFillConst()
		if err != nil {
			return nil, err
		}
		if !p.isWord("for") {
			return nil, p.fail(`expected "for" after "with %s"`, v.String()).withHint("write with 0 for _count")
		}
		p.advance()
		w := &FillWith{Value: v}
		for {
			f, err := p.parseFieldRef(`after "for"`)
			if err != nil {
				return nil, err
			}
			w.Fields = append(w.Fields, f)
			if p.tok.typ != tokComma {
				break
			}
			p.advance()
		}
		st.With = append(st.With, w)
	}
	if p.isWord("takelast") {
		st.TakeLast = true
		p.advance()
	}
	if err := p.expectStageEnd("fillmissing"); err != nil {
		return nil, err
	}
	return st, nil
}

func (p *parser) parseFillGen() (*FillGen, *Error) {
	g := &FillGen{Pos: p.tok.pos}
	switch {
	case p.isWord("timeslice"):
		g.Kind = "timeslice"
		p.advance()
		if p.tok.typ == tokLParen {
			p.advance()
			t := p.tok
			text := t.text
			p.advance()
			if t.typ == tokNumber && p.tok.typ == tokTerm && sliceUnits[strings.ToLower(p.tok.text)] > 0 && p.tok.pos.Offset == t.end {
				text += p.tok.text
				p.advance()
			}
			_, canon, ok := parseSliceWidth(text)
			if !ok {
				return nil, errorf(t.pos, "invalid timeslice width %s", t.describe()).withHint("write timeslice(15m)")
			}
			g.Width = canon
			if p.tok.typ != tokRParen {
				return nil, p.fail(`expected ")" after timeslice(%s`, canon)
			}
			p.advance()
		}
		if p.isWord("in") {
			p.advance()
			f, err := p.parseFieldRef(`after "in"`)
			if err != nil {
				return nil, err
			}
			g.In = f
		}
		return g, nil
	case p.isWord("values"):
		p.advance()
		if p.isWord("all") {
			g.Kind = "all"
			p.advance()
		} else {
			g.Kind = "values"
			if p.tok.typ != tokLParen {
				return nil, p.fail(`expected "(" or "all" after "values"`).withHint(`write values("a", "b") in <field> or values all in <field>`)
			}
			p.advance()
			for {
				v, err := p.parseFillConst()
				if err != nil {
					return nil, err
				}
				g.Values = append(g.Values, v)
				if p.tok.typ != tokComma {
					break
				}
				p.advance()
			}
			if p.tok.typ != tokRParen {
				return nil, p.fail(`expected "," or ")" in values(...)`)
			}
			p.advance()
		}
		if !p.isWord("in") {
			return nil, p.fail(`expected "in" and a field after the values`).withHint(`write values("a", "b") in <field>`)
		}
		p.advance()
		f, err := p.parseFieldRef(`after "in"`)
		if err != nil {
			return nil, err
		}
		g.In = f
		return g, nil
	}
	return nil, p.fail("expected a generator (timeslice, values(...) in <field>, values all in <field>) after fillmissing")
}

// parseFillConst parses a constant: a string, a number or true/false.
func (p *parser) parseFillConst() (Expression, *Error) {
	t := p.tok
	switch {
	case t.typ == tokString:
		p.advance()
		return &StringLit{Pos: t.pos, Value: t.val}, nil
	case t.typ == tokNumber:
		p.advance()
		return numberLit(t), nil
	case t.typ == tokMinus:
		p.advance()
		if p.tok.typ != tokNumber {
			return nil, p.fail(`expected a number after "-"`)
		}
		n := numberLit(p.tok)
		p.advance()
		return &UnaryExpr{Pos: t.pos, Op: "-", X: n}, nil
	case p.isWord("true"), p.isWord("false"):
		p.advance()
		return &BoolLit{Pos: t.pos, Value: strings.EqualFold(t.text, "true")}, nil
	}
	return nil, p.fail("expected a constant (a quoted string, a number, true or false)")
}

func (s *FillStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if !in.records {
		return nil, errorf(s.Pos, "fillmissing must follow an aggregate").
			withHint("... | timeslice 15m | count by _timeslice | fillmissing timeslice")
	}
	impl := &fillImpl{text: s.String(), in: in, with: map[string]string{}, takeLast: s.TakeLast}
	genField := map[string]bool{}
	for _, g := range s.Gens {
		fg := fillGenImpl{kind: g.Kind}
		name := g.In
		if g.Kind == "timeslice" && name.Name == "" {
			name = FieldRef{Pos: g.Pos, Name: "_timeslice"}
		}
		if _, err := c.resolveField(name, in); err != nil {
			return nil, err
		}
		if genField[name.Name] {
			return nil, errorf(name.Pos, "two generators fill %s", name.String())
		}
		genField[name.Name] = true
		fg.field = name.Name
		switch g.Kind {
		case "timeslice":
			fg.slice = &timesliceImpl{name: name.Name}
			if g.Width != "" {
				fg.slice.width, _, _ = parseSliceWidth(g.Width)
			} else {
				var prev *timesliceImpl
				for _, d := range c.done {
					if t, ok := d.impl.(*timesliceImpl); ok && t.name == name.Name {
						prev = t
					}
				}
				if prev == nil {
					return nil, errorf(g.Pos, "fillmissing timeslice needs a width: no timeslice stage makes %s", name.String()).
						withHint("write fillmissing timeslice(15m)")
				}
				fg.slice = prev
			}
			impl.slices = true
		case "values":
			for _, v := range g.Values {
				cv, _ := constValue(v)
				fg.values = append(fg.values, cv.String())
			}
		}
		impl.gens = append(impl.gens, fg)
	}
	if s.TakeLast && !impl.slices {
		return nil, errorf(s.Pos, "takeLast needs a timeslice generator").withHint("write fillmissing timeslice takeLast")
	}
	for _, w := range s.With {
		cv, _ := constValue(w.Value)
		for _, f := range w.Fields {
			if _, err := c.resolveField(f, in); err != nil {
				return nil, err
			}
			if genField[f.Name] {
				return nil, errorf(f.Pos, "%s is filled by a generator; \"with\" sets the other fields", f.String())
			}
			impl.with[f.Name] = cv.String()
		}
	}
	for _, f := range in.fields {
		if f.KeyField && !genField[f.Name] {
			impl.others = append(impl.others, f.Name)
		}
	}
	impl.warn = "fillmissing: more than " + strconv.Itoa(series.MaxFill) + " combinations; the others were not filled"
	return impl, nil
}

type fillGenImpl struct {
	kind   string
	field  string
	values []string
	slice  *timesliceImpl
}

// fillImpl is the compiled fillmissing.
type fillImpl struct {
	text     string
	in       *schema
	gens     []fillGenImpl
	others   []string // key fields no generator names
	with     map[string]string
	takeLast bool
	slices   bool
	warn     string
}

func (f *fillImpl) output() *schema              { return f.in }
func (f *fillImpl) aggregate() bool              { return false }
func (f *fillImpl) explain() string              { return f.text }
func (f *fillImpl) logsQL(string) (string, bool) { return "", false }

func (f *fillImpl) newOperator(next rowSink) rowSink { return f.newRunOperator(next, nil) }

func (f *fillImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return &fillOp{impl: f, x: x, next: next}
}

// fillOp is the Go fillmissing.
type fillOp struct {
	impl *fillImpl
	x    *runContext
	next rowSink
	rows []Row
}

func (o *fillOp) push(rows []Row) error {
	o.rows = append(o.rows, rows...)
	return nil
}

// sliceStarts lists the bucket starts of b overlapping [start, end) (ms).
func sliceStarts(b sliceBinding, start, end int64, limit int) ([]int64, bool, error) {
	if b.fixed() {
		return series.Slices(start, end, b.width, -b.off, limit)
	}
	// A zone with DST changes: enumerate each period of a fixed offset.
	seen := map[int64]bool{}
	var out []int64
	truncated := false
	for t := start; t < end; {
		lt := time.UnixMilli(t).In(b.loc)
		_, off := lt.Zone()
		_, ze := lt.ZoneBounds()
		pe := end
		if !ze.IsZero() && ze.UnixMilli() < end {
			pe = ze.UnixMilli()
		}
		o := b.weekAdjust(int64(off) * 1000)
		ss, tr, err := series.Slices(t, pe, b.width, -o, limit)
		if err != nil {
			return nil, false, err
		}
		truncated = truncated || tr
		for _, s := range ss {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
		t = pe
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	if len(out) > limit {
		out, truncated = out[:limit], true
	}
	return out, truncated, nil
}

func (o *fillOp) finish() error {
	f := o.impl
	fields := f.in.fields
	// The values of each generator.
	gens := make([][]string, len(f.gens))
	truncated := false
	for i, g := range f.gens {
		switch g.kind {
		case "timeslice":
			b := g.slice.bind(o.x)
			start, end := int64(0), int64(0)
			if o.x != nil {
				start, end = o.x.start, o.x.end
			}
			starts, tr, err := sliceStarts(b, start, end, series.MaxFill)
			if err != nil {
				return err
			}
			truncated = truncated || tr
			for _, s := range starts {
				gens[i] = append(gens[i], strconv.FormatInt(s, 10))
			}
		case "values":
			gens[i] = g.values
		case "all":
			seen := map[string]bool{}
			for _, r := range o.rows {
				v := r.Get(g.field)
				if !seen[v] {
					seen[v] = true
					gens[i] = append(gens[i], v)
				}
			}
			sort.Strings(gens[i])
		}
	}
	// The combinations of the other key fields the records have.
	var combos [][]string
	seenCombo := map[string]bool{}
	present := map[string]bool{}
	for _, r := range o.rows {
		c := make([]string, len(f.others))
		for i, k := range f.others {
			c[i] = r.Get(k)
		}
		if k := fillKey(c); !seenCombo[k] {
			seenCombo[k] = true
			combos = append(combos, c)
		}
		present[o.rowKey(r)] = true
	}
	if len(f.others) == 0 && len(combos) == 0 {
		combos = [][]string{{}}
	}
	total := len(combos)
	for _, g := range gens {
		total *= len(g)
		if total > series.MaxFill {
			break
		}
	}
	var added []Row
	if total > series.MaxFill || truncated {
		o.x.warn(f.warn)
	}
	if total <= series.MaxFill {
		idx := make([]int, len(gens))
		for _, c := range combos {
			for {
				done := false
				for _, g := range gens {
					if len(g) == 0 {
						done = true
					}
				}
				if done {
					break
				}
				row := make(Row, len(fields))
				for j, fi := range fields {
					row[j] = Field{Name: fi.Name, Value: fillDefault(fi, f.with)}
				}
				for gi, g := range f.gens {
					setField(row, g.field, gens[gi][idx[gi]])
				}
				for k, name := range f.others {
					setField(row, name, c[k])
				}
				if !present[o.rowKey(row)] {
					added = append(added, row)
				}
				// next combination
				k := len(idx) - 1
				for k >= 0 {
					idx[k]++
					if idx[k] < len(gens[k]) {
						break
					}
					idx[k] = 0
					k--
				}
				if k < 0 {
					break
				}
			}
		}
	}
	if f.takeLast && len(added) > 0 {
		o.takeLast(added)
	}
	rows := append(o.rows, added...)
	sortRecords(rows, f.in)
	if err := o.next.push(rows); err != nil {
		return err
	}
	return o.next.finish()
}

// rowKey is the key of a record: its generated and other key fields.
func (o *fillOp) rowKey(r Row) string {
	f := o.impl
	vals := make([]string, 0, len(f.gens)+len(f.others))
	for _, g := range f.gens {
		vals = append(vals, r.Get(g.field))
	}
	for _, k := range f.others {
		vals = append(vals, r.Get(k))
	}
	return fillKey(vals)
}

func fillKey(vals []string) string {
	var b []byte
	for _, v := range vals {
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
	}
	return string(b)
}

func setField(r Row, name, v string) {
	for i := range r {
		if r[i].Name == name {
			r[i].Value = v
			return
		}
	}
}

// fillDefault is the value of a filled record's field.
func fillDefault(fi FieldInfo, with map[string]string) string {
	if v, ok := with[fi.Name]; ok {
		return v
	}
	switch fi.Type {
	case "int", "long", "double":
		return "0"
	case "boolean":
		return "false"
	}
	return ""
}

// takeLast copies into the added records the non-key values of the
// previous record of their group in time order.
func (o *fillOp) takeLast(added []Row) {
	f := o.impl
	var slice string
	var group []string
	for _, g := range f.gens {
		if g.kind == "timeslice" && slice == "" {
			slice = g.field
		} else {
			group = append(group, g.field)
		}
	}
	group = append(group, f.others...)
	isAdded := map[*Field]bool{}
	all := make([]Row, 0, len(o.rows)+len(added))
	all = append(all, o.rows...)
	for _, r := range added {
		isAdded[&r[0]] = true
		all = append(all, r)
	}
	groupKey := func(r Row) string {
		vals := make([]string, len(group))
		for i, g := range group {
			vals[i] = r.Get(g)
		}
		return fillKey(vals)
	}
	ts := func(r Row) int64 { n, _ := strconv.ParseInt(r.Get(slice), 10, 64); return n }
	sort.SliceStable(all, func(i, j int) bool {
		gi, gj := groupKey(all[i]), groupKey(all[j])
		if gi != gj {
			return gi < gj
		}
		return ts(all[i]) < ts(all[j])
	})
	keyField := map[string]bool{}
	for _, fi := range f.in.fields {
		if fi.KeyField {
			keyField[fi.Name] = true
		}
	}
	for _, g := range f.gens {
		keyField[g.field] = true
	}
	var prev Row
	prevGroup := ""
	for _, r := range all {
		g := groupKey(r)
		if g != prevGroup {
			prev, prevGroup = nil, g
		}
		if isAdded[&r[0]] && prev != nil {
			for i := range r {
				if !keyField[r[i].Name] {
					if _, set := f.with[r[i].Name]; !set {
						r[i].Value = prev.Get(r[i].Name)
					}
				}
			}
		}
		prev = r
	}
}
