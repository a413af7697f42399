package query

import (
	"strconv"
	"strings"
)

// The limit operator (spec §6):
//
//	limit <N>
//
// keeps the first N rows in the current order (N from 1 to MaxLimit):
// after an aggregate the first N records (normally after a sort), over
// messages the first N messages of the stream — newest first unless an
// earlier stage sorted them.
//
// Over messages, "limit N" needs the stream in order, so it starts the
// plan's message tail (exec_tail.go); when it is the first such stage the
// time windows stop as soon as the N newest messages are known, and when
// everything before it is pushed down the engine computes each window's
// newest messages (sort by (_time desc, _dohyo.rid desc) limit N), exactly
// the Go order. A limit after dedup or other streaming stages stops the walk
// once reached; a sort followed by a limit keeps only N messages.

func init() { registerStage("limit", (*parser).parseLimit) }

// MaxLimit is the largest N of limit.
const MaxLimit = 1 << 30

// LimitStage is "limit N". With ParseOptions.AllowParams N may be a
// {{template parameter}} (Param holds it, N is 0); such a query must be
// substituted before it compiles.
type LimitStage struct {
	Pos   Pos
	N     int
	Param string
}

// Position implements Node.
func (s *LimitStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *LimitStage) Name() string { return "limit" }

// String implements Node.
func (s *LimitStage) String() string {
	if s.Param != "" {
		return "limit " + s.Param
	}
	return "limit " + strconv.Itoa(s.N)
}

func (s *LimitStage) aggregate() bool { return false }

// walkFields reports a template parameter standing for N, so that
// planning rejects it unsubstituted.
func (s *LimitStage) walkFields(fn func(FieldRef)) {
	if s.Param != "" {
		fn(FieldRef{Pos: s.Pos, Name: s.Param, Param: true})
	}
}

// parseLimit parses a limit stage; the current token is "limit".
func (p *parser) parseLimit() (Stage, *Error) {
	st := &LimitStage{Pos: p.tok.pos}
	p.advance()
	if t := p.tok; t.typ == tokParam || (t.typ == tokTerm && t.params) {
		if !p.opt.AllowParams {
			return nil, paramError(t)
		}
		st.Param = t.text
		p.advance()
		if err := p.expectStageEnd("limit"); err != nil {
			return nil, err
		}
		return st, nil
	}
	n, err := p.parsePositiveInt("limit", "the number of rows to keep", MaxLimit)
	if err != nil {
		return nil, err
	}
	st.N = n
	if err := p.expectStageEnd("limit"); err != nil {
		return nil, err
	}
	return st, nil
}

// parsePositiveInt parses a positive integer at most max (an operator's
// count, window or shift); what names it in errors.
func (p *parser) parsePositiveInt(op, what string, max int) (int, *Error) {
	t := p.tok
	switch t.typ {
	case tokNumber:
	case tokMinus:
		return 0, errorf(t.pos, "%s: %s must be a positive integer", op, what)
	case tokPipe, tokEOF:
		return 0, p.fail("expected %s after %q", what, op).withHint("write \"%s <N>\"", op)
	default:
		return 0, p.fail("expected %s after %q", what, op)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || strings.ContainsAny(t.text, ".eE") {
		if err != nil && !strings.ContainsAny(t.text, ".eE") {
			return 0, errorf(t.pos, "%s: %s %s is too large; the limit is %d", op, what, t.text, max)
		}
		return 0, errorf(t.pos, "%s: %s must be a whole number, got %s", op, what, t.text)
	}
	if n <= 0 {
		return 0, errorf(t.pos, "%s: %s must be a positive integer, got %s", op, what, t.text)
	}
	if n > max {
		return 0, errorf(t.pos, "%s: %s %s is too large; the limit is %d", op, what, t.text, max)
	}
	p.advance()
	return n, nil
}

func (s *LimitStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if s.Param != "" {
		return nil, errorf(s.Pos, "template parameter %s has no value", s.Param).
			withHint("substitute dashboard parameters before running the query")
	}
	return &limitImpl{n: s.N, in: in}, nil
}

// limitImpl is the compiled limit stage.
type limitImpl struct {
	n  int
	in *schema
}

func (l *limitImpl) output() *schema              { return l.in }
func (l *limitImpl) aggregate() bool              { return false }
func (l *limitImpl) logsQL(string) (string, bool) { return "", false }
func (l *limitImpl) explain() string              { return "limit " + strconv.Itoa(l.n) }
func (l *limitImpl) messageOrder() orderRole      { return orderConsumer }

func (l *limitImpl) newOperator(next rowSink) rowSink { return &limitOp{n: l.n, next: next} }

// limitOp passes the first n rows.
type limitOp struct {
	n    int
	seen int
	next rowSink
}

func (o *limitOp) push(rows []Row) error {
	if o.seen >= o.n {
		return nil
	}
	if k := o.n - o.seen; len(rows) > k {
		rows = rows[:k]
	}
	o.seen += len(rows)
	return o.next.push(rows)
}

func (o *limitOp) finish() error   { return o.next.finish() }
func (o *limitOp) saturated() bool { return o.seen >= o.n }
