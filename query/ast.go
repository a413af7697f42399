package query

// Node is any node of the syntax tree.
type Node interface {
	// Position is where the node starts in the query text.
	Position() Pos
	// String is the node's canonical query text (printer.go).
	String() string
}

// Expr is a node of the scope: the keyword expression before the first "|".
type Expr interface {
	Node
	scopeExpr()
}

// And matches when all its terms match. Terms are never And themselves: the
// parser flattens "a (b c)" into one And.
type And struct {
	Pos   Pos
	Terms []Expr
}

// Or matches when any of its terms matches. Terms are never Or themselves.
type Or struct {
	Pos   Pos
	Terms []Expr
}

// Not matches when its term does not ("NOT x", "!x").
type Not struct {
	Pos  Pos
	Term Expr
}

// Keyword is an unquoted search term. Wildcard is set when Text contains * or
// ?. HasParam is set when Text contains {{template parameters}} (accepted only
// by ParseOptions.AllowParams).
type Keyword struct {
	Pos      Pos
	Text     string
	Wildcard bool
	HasParam bool
}

// Phrase is a double-quoted search phrase; Text is unescaped. * and ? in a
// phrase are literal.
type Phrase struct {
	Pos  Pos
	Text string
}

// FieldMatch is a metadata or custom field filter: Field=Value or
// Field!=Value. Field is canonical: a built-in field in its event.Field*
// spelling, a custom field lower-cased. Quoted is set when the value was a
// double-quoted string (then * and ? are literal).
type FieldMatch struct {
	Pos      Pos
	Field    string
	Value    string
	Negated  bool
	Quoted   bool
	HasParam bool // Field or Value holds a {{template parameter}}
}

// All matches every message: "*" or an empty scope.
type All struct {
	Pos Pos
}

func (n *And) Position() Pos        { return n.Pos }
func (n *Or) Position() Pos         { return n.Pos }
func (n *Not) Position() Pos        { return n.Pos }
func (n *Keyword) Position() Pos    { return n.Pos }
func (n *Phrase) Position() Pos     { return n.Pos }
func (n *FieldMatch) Position() Pos { return n.Pos }
func (n *All) Position() Pos        { return n.Pos }

func (*And) scopeExpr()        {}
func (*Or) scopeExpr()         {}
func (*Not) scopeExpr()        {}
func (*Keyword) scopeExpr()    {}
func (*Phrase) scopeExpr()     {}
func (*FieldMatch) scopeExpr() {}
func (*All) scopeExpr()        {}

// Query is a parsed query: the scope and the pipeline stages after it.
type Query struct {
	// Scope is never nil: an empty scope is *All.
	Scope  Expr
	Stages []Stage
}

// Position is the position of the scope.
func (q *Query) Position() Pos { return q.Scope.Position() }

// Stage is one pipeline stage ("| count by x"). Each operator has its own
// Stage type; its parser hook, canonical text, planning and Go operator live
// in the operator's file (op_count.go, ...).
type Stage interface {
	Node
	// Name is the operator's canonical name ("count").
	Name() string
	// compile checks the stage against the columns of its input and returns
	// its implementation.
	compile(c *compiler, in *schema) (stageImpl, *Error)
	// walkFields calls fn for every field the stage references; used to
	// reject unsubstituted template parameters before planning.
	walkFields(fn func(FieldRef))
	// aggregate reports whether the stage turns messages into records.
	aggregate() bool
}

// FieldRef names a field in a pipeline stage. Name is canonical: built-in
// fields in their event.Field* spelling, others lower-cased. Param is set
// when the name is a {{template parameter}}.
type FieldRef struct {
	Pos   Pos
	Name  string
	Param bool
}

// Aggregate stages ("count by a", "sum(x) as s, avg(y) by b", ...) are
// *AggregateStage (op_aggregate.go).

// IsAggregate reports whether the query turns messages into records.
func (q *Query) IsAggregate() bool {
	for _, s := range q.Stages {
		if isAggregateStage(s) {
			return true
		}
	}
	return false
}

func isAggregateStage(s Stage) bool { return s.aggregate() }

// walkExpr calls fn for e and every node below it, parents first.
func walkExpr(e Expr, fn func(Expr)) {
	fn(e)
	switch n := e.(type) {
	case *And:
		for _, t := range n.Terms {
			walkExpr(t, fn)
		}
	case *Or:
		for _, t := range n.Terms {
			walkExpr(t, fn)
		}
	case *Not:
		walkExpr(n.Term, fn)
	}
}
