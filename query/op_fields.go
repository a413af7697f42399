package query

import (
	"strings"

	"github.com/dohyo/dohyo/event"
)

// The fields operator (spec §6):
//
//	fields <f1>[, <f2> ...]        keep only these fields
//	fields - <f1>[, <f2> ...]      drop these fields ("fields -f" too)
//
// Over records (after an aggregate) "fields a, b" gives records of exactly
// a and b, in that order (each keeps its key flag and type); "fields - a"
// removes the column. Naming a column the records do not have is an error
// that lists the columns; listing one twice is an error.
//
// Over messages [our choice, Sumo shows the message and its time whatever
// fields says]: a message always keeps _raw and _messageTime (and its
// identity, _messageId), listed or not, and they cannot be dropped ("fields
// - _raw" is an error); the other built-in fields (_sourceCategory,
// _sourceHost, ...) and every parsed or custom field are kept only when
// listed (keep) or unless listed (drop). A message keeps its layout (the
// built-in fields first, empty when not kept), so the listed order does not
// reorder a message's fields. A field a message does not have is simply
// absent; the schema of later stages still accepts any field name (messages
// are an open set of fields).
//
// Pushdown (messages): "fields - a, b" is the engine's `delete "a", "b"`
// and "fields a, b" is `fields _time, _msg, "_dohyo.*", "_json.*", "a",
// "b"` (the hidden row id, and the ingest-time JSON fields the json
// operator may read later, are kept; the engine then returns exactly the
// message the Go operator makes). Records: Go only.

func init() { registerStage("fields", (*parser).parseFields) }

// FieldsStage is "fields a, b" or "fields - a, b".
type FieldsStage struct {
	Pos    Pos
	Drop   bool
	Fields []FieldRef
}

// Position implements Node.
func (s *FieldsStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *FieldsStage) Name() string { return "fields" }

func (s *FieldsStage) aggregate() bool { return false }

func (s *FieldsStage) walkFields(fn func(FieldRef)) {
	for _, f := range s.Fields {
		fn(f)
	}
}

// String implements Node.
func (s *FieldsStage) String() string {
	var b strings.Builder
	b.WriteString("fields ")
	if s.Drop {
		b.WriteString("- ")
	}
	writeFieldRefs(&b, s.Fields)
	return b.String()
}

// parseFields parses a fields stage; the current token is "fields".
func (p *parser) parseFields() (Stage, *Error) {
	st := &FieldsStage{Pos: p.tok.pos}
	p.advance()
	if p.tok.typ == tokMinus {
		st.Drop = true
		p.advance()
	}
	if p.tok.typ == tokPipe || p.tok.typ == tokEOF {
		e := p.fail("expected a field name after %q", map[bool]string{false: "fields", true: "fields -"}[st.Drop])
		return nil, e.withHint(`write "fields a, b" to keep fields or "fields - a, b" to drop them`)
	}
	seen := map[string]bool{}
	for {
		f, err := p.parseFieldRef(`in "fields"`)
		if err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, errorf(f.Pos, "field %s is listed twice in \"fields\"", f.String())
		}
		seen[f.Name] = true
		st.Fields = append(st.Fields, f)
		if p.tok.typ != tokComma {
			break
		}
		p.advance()
	}
	if err := p.expectStageEnd("fields"); err != nil {
		if p.tok.typ == tokTerm || p.tok.typ == tokField {
			err.Hint = `separate the fields with ","`
		}
		return nil, err
	}
	return st, nil
}

// alwaysKept are the message fields fields never removes.
func alwaysKept(name string) bool {
	return name == event.FieldRaw || name == event.FieldMessageTime
}

func (s *FieldsStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	impl := &fieldsImpl{text: s.String(), drop: s.Drop, in: in, listed: map[string]bool{}}
	var infos []FieldInfo
	for _, f := range s.Fields {
		fi, err := c.resolveField(f, in)
		if err != nil {
			return nil, err
		}
		if !in.records && s.Drop && alwaysKept(fi.Name) {
			return nil, errorf(f.Pos, "fields cannot remove %s from messages", fi.Name).
				withHint("a message always keeps _raw and _messageTime; aggregate first to get records without them")
		}
		if impl.listed[fi.Name] {
			return nil, errorf(f.Pos, "field %s is listed twice in \"fields\"", f.String())
		}
		impl.listed[fi.Name] = true
		impl.names = append(impl.names, fi.Name)
		infos = append(infos, fi)
	}
	out := &schema{records: in.records}
	switch {
	case in.records && !s.Drop:
		out.fields = infos
	default:
		for _, fi := range in.fields {
			if impl.listed[fi.Name] == s.Drop {
				continue
			}
			out.fields = append(out.fields, fi)
		}
	}
	impl.out = out
	if in.records {
		impl.index = make([]int, len(out.fields))
		for j, fi := range out.fields {
			impl.index[j] = -1
			for i, f := range in.fields {
				if f.Name == fi.Name {
					impl.index[j] = i
				}
			}
		}
	}
	return impl, nil
}

// fieldsImpl is the compiled fields stage.
type fieldsImpl struct {
	text   string
	drop   bool
	in     *schema
	out    *schema
	names  []string        // canonical listed fields
	listed map[string]bool // the same, as a set
	index  []int           // records: the input column of each output column
}

func (f *fieldsImpl) output() *schema { return f.out }
func (f *fieldsImpl) aggregate() bool { return false }
func (f *fieldsImpl) explain() string { return f.text }

func (f *fieldsImpl) logsQL(string) (string, bool) {
	if f.in.records {
		return "", false
	}
	if f.drop {
		return "delete " + logsQLFieldList(f.names), true
	}
	cols := []string{engineTimeField, logsQLString(storageField(event.FieldRaw)),
		logsQLString(event.InternalFieldPrefix + "*"), logsQLString(event.JSONFieldPrefix + "*")}
	for _, n := range f.names {
		if !alwaysKept(n) {
			cols = append(cols, logsQLString(storageField(n)))
		}
	}
	return "fields " + strings.Join(cols, ", "), true
}

func (f *fieldsImpl) newOperator(next rowSink) rowSink {
	if f.in.records {
		return &fieldsRecordsOp{impl: f, next: next}
	}
	return &fieldsMessagesOp{impl: f, next: next}
}

// fieldsRecordsOp builds the records of the listed columns.
type fieldsRecordsOp struct {
	impl *fieldsImpl
	next rowSink
	buf  []Row
}

func (o *fieldsRecordsOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	cols := o.impl.out.fields
	for _, r := range rows {
		out := make(Row, len(cols))
		for j, c := range cols {
			i := o.impl.index[j]
			if i >= 0 && i < len(r) && r[i].Name == c.Name {
				out[j] = r[i]
			} else {
				out[j] = Field{c.Name, r.Get(c.Name)}
			}
		}
		o.buf = append(o.buf, out)
	}
	return o.next.push(o.buf)
}

func (o *fieldsRecordsOp) finish() error { return o.next.finish() }

// fieldsMessagesOp keeps or drops message fields.
type fieldsMessagesOp struct {
	impl *fieldsImpl
	next rowSink
	buf  []Row
}

// keep reports whether a message field stays (with its value).
func (o *fieldsMessagesOp) keep(name string) bool {
	if alwaysKept(name) || strings.HasPrefix(name, event.InternalFieldPrefix) {
		return true
	}
	return o.impl.listed[name] != o.impl.drop
}

func (o *fieldsMessagesOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	for _, r := range rows {
		out := make(Row, 0, len(r))
		for i, f := range r {
			switch {
			case o.keep(f.Name):
				out = append(out, f)
			case i < len(fixedMessageFields) && fixedMessageFields[i] == f.Name:
				out = append(out, Field{f.Name, ""})
			}
		}
		o.buf = append(o.buf, out)
	}
	return o.next.push(o.buf)
}

func (o *fieldsMessagesOp) finish() error { return o.next.finish() }
