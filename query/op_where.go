package query

import "strings"

// The where operator (spec §4.1):
//
//	where <expression>
//
// keeps the rows (messages, or records after an aggregate) for which the
// expression is true (the boolean true or the string "true"); false, null
// and values of the wrong type drop the row, without error. The expression
// language is described in expr.go and expr_eval.go. "where" must be its own
// stage: "parse ... as x where ..." is an error.
//
// Pushdown: see expr_logsql.go for the forms translated into a LogsQL
// "filter" pipe and how their equivalence was proved; any other condition
// runs in Go.

func init() { registerStage("where", (*parser).parseWhere) }

// WhereStage is "where <expression>".
type WhereStage struct {
	Pos  Pos
	Cond Expression
}

// Position implements Node.
func (s *WhereStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *WhereStage) Name() string { return "where" }

// String implements Node.
func (s *WhereStage) String() string { return "where " + s.Cond.String() }

func (s *WhereStage) aggregate() bool { return false }

func (s *WhereStage) walkFields(fn func(FieldRef)) { exprFields(s.Cond, fn) }

// parseWhere parses a where stage; the current token is "where".
func (p *parser) parseWhere() (Stage, *Error) {
	st := &WhereStage{Pos: p.tok.pos}
	p.advance()
	switch p.tok.typ {
	case tokPipe, tokEOF:
		return nil, p.fail(`expected a condition after "where"`)
	}
	cond, err := p.parseExpression()
	if err != nil {
		return nil, err
	}
	st.Cond = cond
	if err := p.expectStageEnd("where"); err != nil {
		if p.isWord("as") {
			err.Hint = `where filters rows; to set a field write "| <expression> as <field>" as a stage of its own`
		}
		return nil, err
	}
	return st, nil
}

func (s *WhereStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	ev, err := c.compileExpression(s.Cond, in)
	if err != nil {
		return nil, err
	}
	impl := &whereImpl{text: s.String(), cond: ev, in: in}
	if !in.records {
		impl.pipe, impl.pushable = whereLogsQL(s.Cond, in)
		// A regexp filter sees no value of a column the engine keeps in a
		// numeric encoding when it runs in a pipe (after extract, copy...)
		// rather than in the query's filter, which takes in the filter
		// pipes right after it (TestPushdownNumericColumns). Conservative:
		// the extractions' own outputs are text columns, but are not told
		// apart here.
		for _, d := range c.done {
			if _, filter := d.stage.(*WhereStage); !filter && strings.Contains(impl.pipe, ":~") {
				impl.pipe, impl.pushable = "", false
			}
		}
	}
	return impl, nil
}

// whereImpl is the compiled where stage.
type whereImpl struct {
	text     string
	cond     evaluator
	in       *schema
	pipe     string
	pushable bool
}

func (w *whereImpl) output() *schema { return w.in }
func (w *whereImpl) aggregate() bool { return false }
func (w *whereImpl) explain() string { return w.text }

func (w *whereImpl) logsQL(string) (string, bool) { return w.pipe, w.pushable }

func (w *whereImpl) newOperator(next rowSink) rowSink { return w.newRunOperator(next, nil) }

func (w *whereImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return &whereOp{cond: w.cond, x: x, next: next}
}

// whereOp is the Go where.
type whereOp struct {
	cond evaluator
	x    *runContext
	next rowSink
	buf  []Row
}

func (o *whereOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	for _, r := range rows {
		if o.cond(o.x, r).Bool() {
			o.buf = append(o.buf, r)
		}
	}
	if len(o.buf) == 0 {
		return nil
	}
	return o.next.push(o.buf)
}

func (o *whereOp) finish() error { return o.next.finish() }

// isWhereWord reports whether t is the word "where" (for the hint that
// where must be its own stage).
func isWhereWord(t token) bool { return t.typ == tokTerm && strings.EqualFold(t.text, "where") }
