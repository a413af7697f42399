package query

import (
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// The count operator:
//
//	count                     rows → _count
//	count(f)                  rows where f is not empty → _count
//	count as n                the output column is n
//	count [as n] [group] by f1, f2
//
// Output: one record per distinct combination of the by-fields (marked
// KeyField), then the count. Without "by", exactly one record, even when no
// message matched. A missing field groups as the empty value.
//
// Sumo counts the non-null values of f; the engine stores an empty value as
// missing, so dohyo cannot tell "" from null and count(f) counts non-empty
// values (an ingested empty string is not counted).
//
// Pushed down as `stats [by (f1, f2)] count([f]) as "<name>"`; a by-field
// _messageTime groups by the millisecond (_time:1ms), as the Go operator does
// with the epoch-millisecond value. The Go operator holds at most the group
// limit of groups and fails beyond it, as does the pushed form.

func init() { registerStage("count", (*parser).parseCount) }

// parseCount parses a count stage; the current token is "count".
func (p *parser) parseCount() (Stage, *Error) {
	st := &CountStage{Pos: p.tok.pos}
	p.advance()
	if p.tok.typ == tokLParen {
		p.advance()
		if p.tok.typ != tokRParen {
			f, err := p.parseFieldRef(`in count(...)`)
			if err != nil {
				return nil, err
			}
			st.Arg = &f
		}
		if p.tok.typ == tokComma {
			return nil, errorf(p.tok.pos, "count takes at most one field")
		}
		if p.tok.typ != tokRParen {
			return nil, p.fail(`expected ")" after count(%s`, fieldRefText(st.Arg))
		}
		p.advance()
	}
	if p.isWord("as") {
		p.advance()
		f, err := p.parseFieldRef(`after "as"`)
		if err != nil {
			return nil, err
		}
		if f.Param {
			return nil, errorf(f.Pos, "a template parameter cannot name an output column")
		}
		st.As, st.AsPos = f.Name, f.Pos
	}
	if p.tok.typ == tokComma {
		p.advance()
		if p.tok.typ == tokTerm && aggregateNames[strings.ToLower(p.tok.text)] {
			return nil, errorf(p.tok.pos, "several aggregates in one stage (count, %s) are not supported yet", strings.ToLower(p.tok.text))
		}
		return nil, p.fail(`expected an aggregate after ","`)
	}
	if p.isWord("group") {
		p.advance()
		if !p.isWord("by") {
			return nil, p.fail(`expected "by" after "group"`)
		}
	}
	if p.isWord("by") {
		by := p.tok
		p.advance()
		seen := map[string]bool{}
		for {
			f, err := p.parseFieldRef(`after "` + strings.ToLower(by.text) + `"`)
			if err != nil {
				return nil, err
			}
			if seen[f.Name] {
				return nil, errorf(f.Pos, "field %s is listed twice after \"by\"", f.String())
			}
			seen[f.Name] = true
			st.By = append(st.By, f)
			if p.tok.typ != tokComma {
				break
			}
			p.advance()
		}
		if p.isWord("as") {
			return nil, errorf(p.tok.pos, `"as" must come before "by"`).withHint("write count as <name> by <fields>")
		}
	}
	if err := p.expectStageEnd("count"); err != nil {
		if p.tok.typ == tokTerm && len(st.By) == 0 {
			err.Hint = "did you mean \"count by " + p.tok.text + "\"?"
		}
		return nil, err
	}
	return st, nil
}

func fieldRefText(f *FieldRef) string {
	if f == nil {
		return ""
	}
	return f.String()
}

// String implements Node.
func (s *CountStage) String() string {
	var b strings.Builder
	b.WriteString("count")
	if s.Arg != nil {
		b.WriteString("(" + s.Arg.String() + ")")
	}
	if s.As != "" {
		b.WriteString(" as " + fieldText(s.As))
	}
	if len(s.By) > 0 {
		b.WriteString(" by ")
		for i, f := range s.By {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.String())
		}
	}
	return b.String()
}

func (s *CountStage) aggregate() bool { return true }

func (s *CountStage) walkFields(fn func(FieldRef)) {
	if s.Arg != nil {
		fn(*s.Arg)
	}
	for _, f := range s.By {
		fn(f)
	}
}

// outputName is the count's column.
func (s *CountStage) outputName() string {
	if s.As != "" {
		return s.As
	}
	return "_count"
}

func (s *CountStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	impl := &countImpl{text: s.String(), in: in, limit: c.maxGroups(), out: &schema{records: true}}
	if s.Arg != nil {
		if _, err := c.resolveField(*s.Arg, in); err != nil {
			return nil, err
		}
		impl.arg = s.Arg.Name
	}
	seen := map[string]bool{}
	for _, f := range s.By {
		fi, err := c.resolveField(f, in)
		if err != nil {
			return nil, err
		}
		impl.by = append(impl.by, f.Name)
		impl.out.fields = append(impl.out.fields, FieldInfo{Name: f.Name, KeyField: true, Type: fi.Type})
		seen[f.Name] = true
	}
	name := s.outputName()
	if s.As != "" && lookupBuiltin(s.As) != nil {
		return nil, errorf(s.AsPos, "%s is a built-in field and cannot name the count", lookupBuiltin(s.As).name)
	}
	if seen[name] {
		pos := s.AsPos
		if !pos.IsValid() {
			pos = s.Pos
		}
		return nil, errorf(pos, "the count's column %q is also a group-by field", name).withHint("name it with count as <name>")
	}
	impl.as = name
	impl.out.fields = append(impl.out.fields, FieldInfo{Name: name, Type: "int"})
	return impl, nil
}

// countImpl is the compiled count stage.
type countImpl struct {
	text  string
	arg   string   // canonical counted field, "" for rows
	as    string   // output column
	by    []string // canonical group-by fields
	in    *schema
	out   *schema
	limit int
}

func (c *countImpl) output() *schema { return c.out }
func (c *countImpl) aggregate() bool { return true }
func (c *countImpl) groupLimit() int { return c.limit }

func (c *countImpl) explain() string {
	return c.text + " (at most " + strconv.Itoa(c.limit) + " groups)"
}

func (c *countImpl) logsQL(rowsCounter string) (string, bool) {
	if c.in.records {
		return "", false
	}
	var b strings.Builder
	b.WriteString("stats ")
	if len(c.by) > 0 {
		b.WriteString("by (")
		for i, f := range c.by {
			if i > 0 {
				b.WriteString(", ")
			}
			if f == event.FieldMessageTime {
				b.WriteString(engineTimeField + ":1ms")
			} else {
				b.WriteString(strconv.Quote(storageField(f)))
			}
		}
		b.WriteString(") ")
	}
	switch c.arg {
	case "", event.FieldMessageTime:
		b.WriteString("count()")
	default:
		b.WriteString("count(" + strconv.Quote(storageField(c.arg)) + ")")
	}
	b.WriteString(" as " + strconv.Quote(c.as))
	if rowsCounter != "" {
		b.WriteString(", count() as " + strconv.Quote(rowsCounter))
	}
	return b.String(), true
}

func (c *countImpl) newOperator(next rowSink) rowSink {
	return &countOp{impl: c, next: next, groups: make(map[string]*countGroup)}
}

type countGroup struct {
	keys []string
	n    int64
}

// countOp is the Go count.
type countOp struct {
	impl   *countImpl
	next   rowSink
	groups map[string]*countGroup
	key    []byte
	vals   []string
}

func (o *countOp) push(rows []Row) error {
	c := o.impl
	for _, r := range rows {
		o.key = o.key[:0]
		o.vals = o.vals[:0]
		for _, f := range c.by {
			v := r.Get(f)
			o.vals = append(o.vals, v)
			o.key = strconv.AppendInt(o.key, int64(len(v)), 10)
			o.key = append(o.key, ':')
			o.key = append(o.key, v...)
		}
		g := o.groups[string(o.key)]
		if g == nil {
			if len(o.groups) >= c.limit {
				return tooManyGroups(c.text, c.limit)
			}
			g = &countGroup{keys: append([]string(nil), o.vals...)}
			o.groups[string(o.key)] = g
		}
		if c.arg == "" || r.Get(c.arg) != "" {
			g.n++
		}
	}
	return nil
}

func (o *countOp) finish() error {
	c := o.impl
	if len(c.by) == 0 && len(o.groups) == 0 {
		o.groups[""] = &countGroup{}
	}
	rows := make([]Row, 0, len(o.groups))
	for _, g := range o.groups {
		row := make(Row, 0, len(c.by)+1)
		for i, f := range c.by {
			row = append(row, Field{f, g.keys[i]})
		}
		row = append(row, Field{c.as, strconv.FormatInt(g.n, 10)})
		rows = append(rows, row)
	}
	sortRecords(rows, c.out)
	if err := o.next.push(rows); err != nil {
		return err
	}
	return o.next.finish()
}
