package query

import (
	"strconv"
	"strings"
)

// Expressions (spec §2): the language of where, if, assignments ("<expr> as
// <field>") and aggregate arguments ("sum(bytes / 1024)"). They have their
// own node interface, Expression, separate from the scope's Expr.
//
// Grammar, lowest precedence first (expr_parse.go):
//
//	expr       := or [ "?" expr ":" expr ]                 ternary, right-associative
//	or         := and ( ("or" | "||") and )*
//	and        := not ( ("and" | "&&") not )*
//	not        := ("not" | "!") not | comparison
//	comparison := additive [ cmp additive
//	                       | ["not"] "matches" (string | /regex/)
//	                       | ["not"] "in" "(" literal ("," literal)* ")"
//	                       | ["not"] "contains" additive ]
//	additive   := multiplicative ( ("+" | "-") multiplicative )*
//	multiplicative := unary ( ("*" | "/" | "%") unary )*
//	unary      := "-" unary | primary
//	primary    := number | string | true | false | field | %"field"
//	            | function "(" [expr ("," expr)*] ")" | "(" expr ")"
//	cmp        := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//
// "!" binds like "not", below the comparisons: "!x matches "a*"" is
// "!(x matches "a*")". Comparisons do not chain ("a < b < c" is an error).
// "x not in (...)", "x not matches ..." and "x not contains y" are accepted
// and mean "!(x in (...))" etc.; the printer writes the "!( ... )" form.
// Regex literals (/.../) are accepted after matches and as function
// arguments (replace).

// Expression is a node of an expression.
type Expression interface {
	Node
	exprNode()
}

// StringLit is a quoted string literal; Value is unescaped.
type StringLit struct {
	Pos   Pos
	Value string
}

// NumberLit is a number literal. Text is the literal as written (the
// printer writes it back); Value its value; Int is set when Text is an
// integer without fraction or exponent.
type NumberLit struct {
	Pos   Pos
	Text  string
	Value float64
	Int   bool
}

// BoolLit is true or false.
type BoolLit struct {
	Pos   Pos
	Value bool
}

// RegexLit is a /regular expression/ literal (RE2 syntax), allowed after
// matches and as a function argument (replace).
type RegexLit struct {
	Pos     Pos
	Pattern string
}

// FieldExpr reads a field.
type FieldExpr struct {
	FieldRef
}

// UnaryExpr is "-x" (Op "-") or "!x" / "not x" (Op "!").
type UnaryExpr struct {
	Pos Pos
	Op  string
	X   Expression
}

// BinaryExpr is a binary operation. Op is canonical: "or", "and", "=",
// "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%" or "contains".
type BinaryExpr struct {
	Pos   Pos // of the left operand
	OpPos Pos
	Op    string
	L, R  Expression
}

// MatchesExpr is "x matches pattern": Pattern is a *StringLit (a glob where
// only * is a wildcard, matched against the whole value, case-sensitively)
// or a *RegexLit (RE2, found anywhere in the value unless anchored).
type MatchesExpr struct {
	Pos     Pos
	X       Expression
	Pattern Expression
}

// InExpr is "x in (v1, v2, ...)"; the values are literals (strings,
// numbers, booleans, negated numbers).
type InExpr struct {
	Pos    Pos
	X      Expression
	Values []Expression
}

// CondExpr is "cond ? then : else".
type CondExpr struct {
	Pos              Pos
	Cond, Then, Else Expression
}

// CallExpr is a function call. Name is the function's canonical spelling
// (funcs registry, expr_func.go).
type CallExpr struct {
	Pos  Pos
	Name string
	Args []Expression
}

func (*StringLit) exprNode()   {}
func (*NumberLit) exprNode()   {}
func (*BoolLit) exprNode()     {}
func (*RegexLit) exprNode()    {}
func (*FieldExpr) exprNode()   {}
func (*UnaryExpr) exprNode()   {}
func (*BinaryExpr) exprNode()  {}
func (*MatchesExpr) exprNode() {}
func (*InExpr) exprNode()      {}
func (*CondExpr) exprNode()    {}
func (*CallExpr) exprNode()    {}

func (n *StringLit) Position() Pos   { return n.Pos }
func (n *NumberLit) Position() Pos   { return n.Pos }
func (n *BoolLit) Position() Pos     { return n.Pos }
func (n *RegexLit) Position() Pos    { return n.Pos }
func (n *FieldExpr) Position() Pos   { return n.Pos }
func (n *UnaryExpr) Position() Pos   { return n.Pos }
func (n *BinaryExpr) Position() Pos  { return n.Pos }
func (n *MatchesExpr) Position() Pos { return n.Pos }
func (n *InExpr) Position() Pos      { return n.Pos }
func (n *CondExpr) Position() Pos    { return n.Pos }
func (n *CallExpr) Position() Pos    { return n.Pos }

// Precedence levels, lowest first; the printer parenthesises an operand
// whose level is below what its position needs.
const (
	precTernary = iota + 1
	precOr
	precAnd
	precNot
	precCmp
	precAdd
	precMul
	precUnary
	precPrimary
)

var binaryPrec = map[string]int{
	"or": precOr, "and": precAnd,
	"=": precCmp, "!=": precCmp, "<": precCmp, "<=": precCmp, ">": precCmp, ">=": precCmp, "contains": precCmp,
	"+": precAdd, "-": precAdd,
	"*": precMul, "/": precMul, "%": precMul,
}

// exprPrec is the precedence level of e's top operator.
func exprPrec(e Expression) int {
	switch n := e.(type) {
	case *CondExpr:
		return precTernary
	case *BinaryExpr:
		return binaryPrec[n.Op]
	case *MatchesExpr, *InExpr:
		return precCmp
	case *UnaryExpr:
		if n.Op == "!" {
			return precNot
		}
		return precUnary
	}
	return precPrimary
}

// operand prints e, in parentheses when its precedence is below min.
func operand(e Expression, min int) string {
	if exprPrec(e) < min {
		return "(" + e.String() + ")"
	}
	return e.String()
}

// The canonical text: operators spelled "and", "or", "=", "!=", "!",
// spaces around binary operators, parentheses only where precedence needs
// them (and around the operand of "!" when it is an operation), strings in
// double quotes, numbers as written, functions in their canonical spelling.

func (n *StringLit) String() string { return quoteString(n.Value) }
func (n *NumberLit) String() string { return n.Text }
func (n *BoolLit) String() string   { return strconv.FormatBool(n.Value) }
func (n *RegexLit) String() string  { return "/" + n.Pattern + "/" }
func (n *FieldExpr) String() string { return exprFieldText(n.FieldRef) }

// exprFieldText is the text of a field in an expression: words that mean
// something in an expression (true, false, and, in, ...) need %"...".
func exprFieldText(f FieldRef) string {
	if !f.Param && exprReserved[strings.ToLower(f.Name)] {
		return "%" + quoteString(f.Name)
	}
	return f.String()
}

func (n *UnaryExpr) String() string {
	if n.Op == "!" {
		if exprPrec(n.X) < precPrimary && exprPrec(n.X) != precNot {
			return "!(" + n.X.String() + ")"
		}
		return "!" + n.X.String()
	}
	return "-" + operand(n.X, precUnary)
}

func (n *BinaryExpr) String() string {
	p := binaryPrec[n.Op]
	// Left-associative: the left operand may have the same level, the
	// right one must bind tighter. Comparisons do not chain: both sides
	// must bind tighter.
	lmin, rmin := p, p+1
	if p == precCmp {
		lmin = p + 1
	}
	return operand(n.L, lmin) + " " + n.Op + " " + operand(n.R, rmin)
}

func (n *MatchesExpr) String() string {
	return operand(n.X, precAdd) + " matches " + n.Pattern.String()
}

func (n *InExpr) String() string {
	parts := make([]string, len(n.Values))
	for i, v := range n.Values {
		parts[i] = v.String()
	}
	return operand(n.X, precAdd) + " in (" + strings.Join(parts, ", ") + ")"
}

func (n *CondExpr) String() string {
	return operand(n.Cond, precOr) + " ? " + operand(n.Then, precTernary) + " : " + operand(n.Else, precTernary)
}

func (n *CallExpr) String() string {
	parts := make([]string, len(n.Args))
	for i, a := range n.Args {
		parts[i] = a.String()
	}
	return n.Name + "(" + strings.Join(parts, ", ") + ")"
}

// WalkExpression calls fn for e and every node below it, parents first.
func WalkExpression(e Expression, fn func(Expression)) {
	if e == nil {
		return
	}
	fn(e)
	switch n := e.(type) {
	case *UnaryExpr:
		WalkExpression(n.X, fn)
	case *BinaryExpr:
		WalkExpression(n.L, fn)
		WalkExpression(n.R, fn)
	case *MatchesExpr:
		WalkExpression(n.X, fn)
		WalkExpression(n.Pattern, fn)
	case *InExpr:
		WalkExpression(n.X, fn)
		for _, v := range n.Values {
			WalkExpression(v, fn)
		}
	case *CondExpr:
		WalkExpression(n.Cond, fn)
		WalkExpression(n.Then, fn)
		WalkExpression(n.Else, fn)
	case *CallExpr:
		for _, a := range n.Args {
			WalkExpression(a, fn)
		}
	}
}

// exprFields calls fn for every field the expression reads; stages use it
// in walkFields.
func exprFields(e Expression, fn func(FieldRef)) {
	WalkExpression(e, func(n Expression) {
		if f, ok := n.(*FieldExpr); ok {
			fn(f.FieldRef)
		}
	})
}
