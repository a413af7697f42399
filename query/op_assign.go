package query

import (
	"sort"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// The assignment stage ("as", spec §2 and §6):
//
//	<expression> as <field>
//
// evaluates the expression for every row and sets the field to its value,
// creating it or overwriting it: "| bytes / 1024 as kb",
// "| if(status >= 500, "error", "ok") as level", "| a ? b : c as x",
// "| concat(a, "-", b) as k", "| x matches "a*" as ok", and "| f as g",
// which copies f into g (f stays). Values are rendered as field values
// (Value.String): numbers without exponent, booleans as "true"/"false".
//
// On messages a null (or empty) result removes the field: dohyo does not
// keep empty fields (the engine cannot store them), so a message never
// carries an empty field. On records the column is added at the end (or
// overwritten in place, keeping its position and key flag), and a null
// result is an empty value. The new column's type is the expression's
// (compiler.expressionType).
//
// Built-in fields (_raw, _sourceCategory, ...) cannot be assigned. Names
// starting with "_" can be assigned only when they are an existing column of
// records (e.g. "| _count * 2 as _count").
//
// Pushdown: none; the Go operator runs (expressions are cheap next to the
// engine's output conversion).

// AssignStage is "<expression> as <field>".
type AssignStage struct {
	Pos  Pos
	Expr Expression
	As   FieldRef
}

// Position implements Node.
func (s *AssignStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *AssignStage) Name() string { return "as" }

func (s *AssignStage) aggregate() bool { return false }

func (s *AssignStage) walkFields(fn func(FieldRef)) {
	exprFields(s.Expr, fn)
	fn(s.As)
}

// String implements Node. An expression whose first word would read as an
// operator ("limit as x", "min(a, b) as m") is put in parentheses.
func (s *AssignStage) String() string {
	e := s.Expr.String()
	if startsWithOperatorWord(s.Expr) {
		e = "(" + e + ")"
	}
	return e + " as " + s.As.String()
}

// startsWithOperatorWord reports whether the printed expression starts
// with a word that names an operator.
func startsWithOperatorWord(e Expression) bool {
	for {
		switch n := e.(type) {
		case *BinaryExpr:
			e = n.L
			continue
		case *MatchesExpr:
			e = n.X
			continue
		case *InExpr:
			e = n.X
			continue
		case *CondExpr:
			e = n.Cond
			if exprPrec(n.Cond) < precOr {
				return false // printed in parentheses
			}
			continue
		case *FieldExpr:
			name := strings.ToLower(n.Name)
			return !n.Param && isPlainIdent(n.Name) && !exprReserved[name] && isOperatorWord(name)
		case *CallExpr:
			return isOperatorWord(strings.ToLower(n.Name))
		}
		return false
	}
}

// isOperatorWord reports whether a stage starting with the word would be
// parsed as that operator.
func isOperatorWord(lower string) bool {
	_, ok := stageParsers[lower]
	return ok || operatorSet[lower]
}

// parseAssignStage parses "<expression> as <field>" at the start of a
// stage. A lone word that is no field assignment is reported as an unknown
// operator.
func (p *parser) parseAssignStage() (Stage, *Error) {
	start := p.tok
	e, err := p.parseExpression()
	if err != nil {
		return nil, err
	}
	if !p.isWord("as") {
		if f, ok := e.(*FieldExpr); ok && start.typ == tokTerm && !f.Param {
			switch p.tok.typ {
			case tokPipe, tokEOF, tokTerm, tokString, tokNumber, tokComma:
				lower := strings.ToLower(start.text)
				e := errorf(start.pos, "unknown operator %q", start.text)
				e.Hint = didYouMean(lower, operatorNames)
				return nil, e
			}
		}
		if p.tok.typ == tokError {
			return nil, p.tok.err
		}
		return nil, errorf(p.tok.pos, `expected "as" after the expression %s, found %s`, e.String(), p.tok.describe()).
			withHint("a stage that computes a value names its field: <expression> as <field>")
	}
	p.advance()
	as, err := p.parseFieldRef(`after "as"`)
	if err != nil {
		return nil, err
	}
	if as.Param {
		return nil, errorf(as.Pos, "a template parameter cannot name a field")
	}
	st := &AssignStage{Pos: start.pos, Expr: e, As: as}
	if err := p.expectStageEnd("the assignment"); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *AssignStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	ev, err := c.compileExpression(s.Expr, in)
	if err != nil {
		return nil, err
	}
	name := s.As.Name
	if b := lookupBuiltin(name); b != nil {
		return nil, errorf(s.As.Pos, "%s is a built-in field and cannot be assigned", b.name).
			withHint("name the result otherwise")
	}
	idx := -1
	for i, f := range in.fields {
		if f.Name == name {
			idx = i
		}
	}
	if strings.HasPrefix(name, "_") && !(in.records && idx >= 0) {
		return nil, errorf(s.As.Pos, "field names starting with _ are reserved for built-in fields: %s", name).
			withHint("name the result without the leading _")
	}
	out := &schema{records: in.records, fields: append([]FieldInfo(nil), in.fields...), dynamic: in.dynamic, dynamicType: in.dynamicType}
	typ := c.expressionType(s.Expr, in)
	if idx >= 0 {
		out.fields[idx].Type = typ
	} else {
		out.fields = append(out.fields, FieldInfo{Name: name, Type: typ})
		if in.records {
			idx = len(out.fields) - 1
		}
	}
	return &assignImpl{text: s.String(), ev: ev, name: name, out: out, col: idx}, nil
}

// assignImpl is the compiled assignment.
type assignImpl struct {
	text string
	ev   evaluator
	name string
	out  *schema
	col  int // records: the column's index in out
}

func (a *assignImpl) output() *schema              { return a.out }
func (a *assignImpl) aggregate() bool              { return false }
func (a *assignImpl) explain() string              { return a.text }
func (a *assignImpl) logsQL(string) (string, bool) { return "", false }

func (a *assignImpl) newOperator(next rowSink) rowSink { return a.newRunOperator(next, nil) }

func (a *assignImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return &assignOp{impl: a, x: x, next: next}
}

// assignOp is the Go assignment. It never changes the rows it receives:
// each output row is a new slice.
type assignOp struct {
	impl *assignImpl
	x    *runContext
	next rowSink
	buf  []Row
}

func (o *assignOp) push(rows []Row) error {
	a := o.impl
	o.buf = o.buf[:0]
	for _, r := range rows {
		v := a.ev(o.x, r).String()
		if a.out.dynamic {
			o.buf = append(o.buf, setDynamicRecordField(r, a.name, v)) // op_transpose.go
		} else if a.out.records {
			o.buf = append(o.buf, setRecordField(r, a.col, a.name, v))
		} else {
			o.buf = append(o.buf, setMessageField(r, a.name, v))
		}
	}
	return o.next.push(o.buf)
}

func (o *assignOp) finish() error { return o.next.finish() }

// setRecordField returns a copy of the record r with column col (its index
// in the schema) set to value; a column past the end of r is appended.
func setRecordField(r Row, col int, name, value string) Row {
	n := len(r)
	if col >= n {
		n = col + 1
	}
	out := make(Row, n)
	copy(out, r)
	for i := len(r); i < n; i++ {
		out[i].Name = name // only col, in a well-formed record
	}
	out[col] = Field{Name: name, Value: value}
	return out
}

// setMessageField returns a copy of the message r with the field name set
// to value (removed when value is ""). A new field goes where messages keep
// their fields: after the fixed fields, in name order, before the hidden
// fields (_dohyo.*) that trail every message. Operators that add fields to
// messages (parse, json, ...) may use it.
func setMessageField(r Row, name, value string) Row {
	// The fixed fields lead the row; the other fields are sorted by name;
	// the hidden ones trail.
	lo := fixedPrefix(r)
	hi := len(r)
	for hi > lo && strings.HasPrefix(r[hi-1].Name, event.InternalFieldPrefix) {
		hi--
	}
	// Existing field (anywhere, in case a row does not follow the layout).
	for i := range r {
		if r[i].Name == name {
			if value == "" {
				out := make(Row, 0, len(r)-1)
				out = append(out, r[:i]...)
				return append(out, r[i+1:]...)
			}
			out := make(Row, len(r))
			copy(out, r)
			out[i].Value = value
			return out
		}
	}
	if value == "" {
		return r
	}
	at := lo + sort.Search(hi-lo, func(i int) bool { return r[lo+i].Name > name })
	out := make(Row, len(r)+1)
	copy(out, r[:at])
	out[at] = Field{Name: name, Value: value}
	copy(out[at+1:], r[at:])
	return out
}
