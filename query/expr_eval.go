package query

import (
	"math"
	"math/bits"
	"regexp"
	"strings"
)

// Compiling expressions to closures. compileExpression resolves every field
// against the input schema once and returns an evaluator: a function of the
// run's context and a row, allocation-free for fields, literals,
// comparisons, logic, matches, in and arithmetic.
//
// Semantics (value.go has the value rules):
//
//   - Comparisons (= != < <= > >=): numeric when both sides are numbers or
//     numeric strings, else string comparisons (case-sensitive, byte
//     order). Any comparison with null is false, != included. "x = """ and
//     "x != """ are rewritten to isEmpty(x) and !isEmpty(x) (an empty
//     string is null).
//   - and, or, !, the ternary and if() test truth (Value.Bool): only true
//     and the string "true" (any case) are true; null is false. They never
//     yield null.
//   - Arithmetic (+ - * / % and unary -) works on numbers and numeric
//     strings; anything else (null, text, booleans) gives null. Integers
//     stay exact (int64) under + - * % until they overflow, then become
//     doubles; "/" always gives a double (7 / 2 = 3.5). Division or modulo
//     by zero gives null and a warning.
//   - "x matches "glob"": the whole value against the glob, case-sensitive,
//     where only * is a wildcard; "x matches /re/": RE2, found anywhere in
//     the value (anchor with ^ and $). Null never matches.
//   - "x in (a, b)": x equal (as for =) to one of the values.
//   - "a contains b": b is a substring of a (case-sensitive); false when
//     either is null.

// evaluator computes an expression for a row. x is the run's context
// (may be nil in tests). Evaluators hold no mutable state: one may run in
// several goroutines at once.
type evaluator func(x *runContext, r Row) Value

// compileExpression compiles e for rows of schema in. Fields are resolved
// with resolveField (so an unknown field after an aggregate is an error at
// its position).
func (c *compiler) compileExpression(e Expression, in *schema) (evaluator, *Error) {
	switch n := e.(type) {
	case *StringLit, *NumberLit, *BoolLit:
		v, _ := constValue(e)
		return constEval(v), nil
	case *RegexLit:
		return nil, errorf(n.Pos, `a /regular expression/ can only follow "matches" or be a function argument`)
	case *FieldExpr:
		return c.compileField(n.FieldRef, in)
	case *UnaryExpr:
		if v, ok := constValue(e); ok {
			return constEval(v), nil
		}
		x, err := c.compileExpression(n.X, in)
		if err != nil {
			return nil, err
		}
		if n.Op == "!" {
			return func(ctx *runContext, r Row) Value { return BoolValue(!x(ctx, r).Bool()) }, nil
		}
		return func(ctx *runContext, r Row) Value { return negate(x(ctx, r)) }, nil
	case *BinaryExpr:
		return c.compileBinary(n, in)
	case *MatchesExpr:
		return c.compileMatches(n, in)
	case *InExpr:
		return c.compileIn(n, in)
	case *CondExpr:
		cond, err := c.compileExpression(n.Cond, in)
		if err != nil {
			return nil, err
		}
		then, err := c.compileExpression(n.Then, in)
		if err != nil {
			return nil, err
		}
		els, err := c.compileExpression(n.Else, in)
		if err != nil {
			return nil, err
		}
		return func(x *runContext, r Row) Value {
			if cond(x, r).Bool() {
				return then(x, r)
			}
			return els(x, r)
		}, nil
	case *CallExpr:
		return c.compileCall(n, in)
	}
	return nil, errorf(e.Position(), "unsupported expression %s", e.String())
}

// constEval returns an evaluator of a constant.
func constEval(v Value) evaluator { return func(*runContext, Row) Value { return v } }

// constValue returns the value of a literal (or a negated number).
func constValue(e Expression) (Value, bool) {
	switch n := e.(type) {
	case *StringLit:
		return StringValue(n.Value), true
	case *NumberLit:
		if n.Int {
			return IntValue(int64(n.Value)), true
		}
		return FloatValue(n.Value), true
	case *BoolLit:
		return BoolValue(n.Value), true
	case *UnaryExpr:
		if n.Op == "-" {
			if v, ok := constValue(n.X); ok && v.kind == KindNumber {
				return negate(v), true
			}
		}
	}
	return Value{}, false
}

// compileField returns the reader of a field. The field is looked up by
// name in each row, first at the index it has in the schema (records) or
// in the fixed layout of messages, then by a scan.
func (c *compiler) compileField(f FieldRef, in *schema) (evaluator, *Error) {
	if f.Param {
		return nil, errorf(f.Pos, "template parameter %s has no value", f.Name).
			withHint("substitute dashboard parameters before running the query")
	}
	if _, err := c.resolveField(f, in); err != nil {
		return nil, err
	}
	return fieldReader(f.Name, fieldHint(f.Name, in)), nil
}

// fieldHint is where the field usually is in rows of schema in, or -1.
func fieldHint(name string, in *schema) int {
	if in.records {
		for i, fi := range in.fields {
			if fi.Name == name {
				return i
			}
		}
		return -1
	}
	for i, n := range fixedMessageFields {
		if n == name {
			return i
		}
	}
	return -1
}

// fieldReader reads the named field, trying index hint first.
func fieldReader(name string, hint int) evaluator {
	if hint >= 0 {
		return func(_ *runContext, r Row) Value {
			if hint < len(r) && r[hint].Name == name {
				return StringValue(r[hint].Value)
			}
			return StringValue(rowValue(r, name))
		}
	}
	return func(_ *runContext, r Row) Value { return StringValue(rowValue(r, name)) }
}

// rowValue returns the named field of r, or "".
func rowValue(r Row, name string) string {
	for i := range r {
		if r[i].Name == name {
			return r[i].Value
		}
	}
	return ""
}

// negate is unary minus.
func negate(v Value) Value {
	n, ok := v.Numeric()
	if !ok {
		return NullValue
	}
	if n.isInt && n.ival() != math.MinInt64 {
		return IntValue(-n.ival())
	}
	return FloatValue(-n.fval())
}

func (c *compiler) compileBinary(n *BinaryExpr, in *schema) (evaluator, *Error) {
	// x = "" and x != "": emptiness tests (an empty string is null).
	if n.Op == "=" || n.Op == "!=" {
		other := Expression(nil)
		if s, ok := n.R.(*StringLit); ok && s.Value == "" {
			other = n.L
		} else if s, ok := n.L.(*StringLit); ok && s.Value == "" {
			other = n.R
		}
		if other != nil {
			x, err := c.compileExpression(other, in)
			if err != nil {
				return nil, err
			}
			want := n.Op == "="
			return func(ctx *runContext, r Row) Value { return BoolValue(x(ctx, r).IsNull() == want) }, nil
		}
	}
	l, err := c.compileExpression(n.L, in)
	if err != nil {
		return nil, err
	}
	r, err := c.compileExpression(n.R, in)
	if err != nil {
		return nil, err
	}
	switch n.Op {
	case "and":
		return func(x *runContext, row Row) Value { return BoolValue(l(x, row).Bool() && r(x, row).Bool()) }, nil
	case "or":
		return func(x *runContext, row Row) Value { return BoolValue(l(x, row).Bool() || r(x, row).Bool()) }, nil
	case "contains":
		return func(x *runContext, row Row) Value {
			a, b := l(x, row), r(x, row)
			if a.kind == KindNull || b.kind == KindNull {
				return BoolValue(false)
			}
			return BoolValue(strings.Contains(a.String(), b.String()))
		}, nil
	case "=", "!=", "<", "<=", ">", ">=":
		return compileComparison(n.Op, l, r, n.R), nil
	case "+", "-", "*", "/", "%":
		return compileArithmetic(n, l, r), nil
	}
	return nil, errorf(n.OpPos, "unsupported operator %q", n.Op)
}

func compileComparison(op string, l, r evaluator, rExpr Expression) evaluator {
	var test func(c int) bool
	switch op {
	case "=":
		test = func(c int) bool { return c == 0 }
	case "!=":
		test = func(c int) bool { return c != 0 && c != 2 }
	case "<":
		test = func(c int) bool { return c == -1 }
	case "<=":
		test = func(c int) bool { return c == -1 || c == 0 }
	case ">":
		test = func(c int) bool { return c == 1 }
	default: // ">="
		test = func(c int) bool { return c == 0 || c == 1 }
	}
	if cv, ok := constValue(rExpr); ok {
		if cv.kind == KindNull {
			return constEval(BoolValue(false))
		}
		if cn, numeric := cv.Numeric(); numeric {
			// A number (or numeric string) literal: numeric comparison
			// for numeric values, else a string one.
			text := cv.String()
			return func(x *runContext, row Row) Value {
				a := l(x, row)
				switch a.kind {
				case KindNull:
					return BoolValue(false)
				case KindNumber:
					return BoolValue(test(compareNumbers(a, cn)))
				}
				if an, ok := a.Numeric(); ok {
					return BoolValue(test(compareNumbers(an, cn)))
				}
				return BoolValue(test(strings.Compare(a.String(), text)))
			}
		}
		// A non-numeric literal: always a string comparison.
		text := cv.String()
		return func(x *runContext, row Row) Value {
			a := l(x, row)
			if a.kind == KindNull {
				return BoolValue(false)
			}
			return BoolValue(test(strings.Compare(a.String(), text)))
		}
	}
	return func(x *runContext, row Row) Value {
		c, ok := compareValues(l(x, row), r(x, row))
		return BoolValue(ok && test(c))
	}
}

func compileArithmetic(n *BinaryExpr, l, r evaluator) evaluator {
	op := n.Op[0]
	var warnZero string
	if op == '/' || op == '%' {
		what := "division"
		if op == '%' {
			what = "modulo"
		}
		warnZero = what + " by zero in " + quoteString(n.String()) + " gives null"
	}
	if cv, ok := constValue(n.R); ok {
		// A constant right operand (bytes / 1024, ms * 2): evaluated once.
		b, numeric := cv.Numeric()
		switch {
		case !numeric:
			return constEval(NullValue)
		case op == '/' && b.f != 0:
			bf := b.f
			return func(x *runContext, row Row) Value {
				a, ok := l(x, row).Numeric()
				if !ok {
					return NullValue
				}
				return FloatValue(a.f / bf)
			}
		}
		return func(x *runContext, row Row) Value {
			a, ok := l(x, row).Numeric()
			if !ok {
				return NullValue
			}
			v, zero := arith(op, a, b)
			if zero {
				x.warn(warnZero)
			}
			return v
		}
	}
	return func(x *runContext, row Row) Value {
		a, ok := l(x, row).Numeric()
		if !ok {
			return NullValue
		}
		b, ok := r(x, row).Numeric()
		if !ok {
			return NullValue
		}
		v, zero := arith(op, a, b)
		if zero {
			x.warn(warnZero)
		}
		return v
	}
}

// arith applies + - * / % to two numbers; zero reports a division by zero
// (the result is then null).
func arith(op byte, a, b Value) (v Value, zero bool) {
	if a.isInt && b.isInt {
		switch op {
		case '+':
			s := a.ival() + b.ival()
			if (a.ival()^s)&(b.ival()^s) >= 0 {
				return IntValue(s), false
			}
		case '-':
			s := a.ival() - b.ival()
			if (a.ival()^b.ival())&(a.ival()^s) >= 0 {
				return IntValue(s), false
			}
		case '*':
			hi, lo := bits.Mul64(uint64(iabs(a.ival())), uint64(iabs(b.ival())))
			if hi == 0 && lo <= math.MaxInt64 && a.ival() != math.MinInt64 && b.ival() != math.MinInt64 {
				p := int64(lo)
				if (a.ival() < 0) != (b.ival() < 0) {
					p = -p
				}
				return IntValue(p), false
			}
		case '%':
			if b.ival() == 0 {
				return NullValue, true
			}
			return IntValue(a.ival() % b.ival()), false
		}
	}
	switch op {
	case '+':
		return FloatValue(a.fval() + b.fval()), false
	case '-':
		return FloatValue(a.fval() - b.fval()), false
	case '*':
		return FloatValue(a.fval() * b.fval()), false
	case '/':
		if b.fval() == 0 {
			return NullValue, true
		}
		return FloatValue(a.fval() / b.fval()), false
	case '%':
		if b.fval() == 0 {
			return NullValue, true
		}
		return FloatValue(math.Mod(a.fval(), b.fval())), false
	}
	return NullValue, false
}

// iabs is |i| (MinInt64 stays negative; callers check).
func iabs(i int64) int64 {
	if i < 0 {
		return -i
	}
	return i
}

func (c *compiler) compileMatches(n *MatchesExpr, in *schema) (evaluator, *Error) {
	x, err := c.compileExpression(n.X, in)
	if err != nil {
		return nil, err
	}
	var match func(string) bool
	switch p := n.Pattern.(type) {
	case *StringLit:
		match = newGlob(p.Value).match
	case *RegexLit:
		re, err := regexp.Compile(p.Pattern)
		if err != nil {
			return nil, errorf(p.Pos, "invalid regular expression %s: %v", p.String(), err)
		}
		match = re.MatchString
	default:
		return nil, errorf(n.Pattern.Position(), `"matches" needs a quoted pattern or a /regular expression/`)
	}
	return func(ctx *runContext, r Row) Value {
		v := x(ctx, r)
		if v.kind == KindNull {
			return BoolValue(false)
		}
		if v.kind == KindString {
			return BoolValue(match(v.s))
		}
		return BoolValue(match(v.String()))
	}, nil
}

// glob is a "matches" pattern: the whole value, case-sensitive, * matches
// any run of characters (none included); nothing else is special.
type glob struct {
	parts []string // the literal pieces between the *s
	stars bool
}

func newGlob(p string) glob {
	return glob{parts: strings.Split(p, "*"), stars: strings.Contains(p, "*")}
}

func (g glob) match(s string) bool {
	if !g.stars {
		return s == g.parts[0]
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, mid := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

func (c *compiler) compileIn(n *InExpr, in *schema) (evaluator, *Error) {
	x, err := c.compileExpression(n.X, in)
	if err != nil {
		return nil, err
	}
	vals := make([]Value, 0, len(n.Values))
	for _, e := range n.Values {
		v, ok := constValue(e)
		if !ok {
			return nil, errorf(e.Position(), `the list after "in" holds literal values only`)
		}
		if v.kind != KindNull {
			vals = append(vals, v)
		}
	}
	return func(ctx *runContext, r Row) Value {
		v := x(ctx, r)
		if v.kind == KindNull {
			return BoolValue(false)
		}
		for _, w := range vals {
			if valuesEqual(v, w) {
				return BoolValue(true)
			}
		}
		return BoolValue(false)
	}, nil
}

func (c *compiler) compileCall(n *CallExpr, in *schema) (evaluator, *Error) {
	spec := funcs[strings.ToLower(n.Name)]
	if spec == nil {
		return nil, errorf(n.Pos, "unknown function %q", n.Name)
	}
	if err := spec.checkArity(n); err != nil {
		return nil, err
	}
	b := &callBuilder{c: c, in: in, call: n, args: make([]evaluator, len(n.Args))}
	for i, a := range n.Args {
		if _, ok := a.(*RegexLit); ok {
			continue
		}
		ev, err := c.compileExpression(a, in)
		if err != nil {
			return nil, err
		}
		b.args[i] = ev
	}
	return spec.build(b)
}

// expressionType is the FieldInfo type of e's values: "long" (integers),
// "double", "boolean" or "string". Stages use it for the columns they add
// to records.
func (c *compiler) expressionType(e Expression, in *schema) string {
	switch n := e.(type) {
	case *StringLit, *RegexLit:
		return "string"
	case *NumberLit:
		if n.Int {
			return "long"
		}
		return "double"
	case *BoolLit, *MatchesExpr, *InExpr:
		return "boolean"
	case *FieldExpr:
		if fi, err := c.resolveField(n.FieldRef, in); err == nil && fi.Type != "" {
			return fi.Type
		}
		return "string"
	case *UnaryExpr:
		if n.Op == "!" {
			return "boolean"
		}
		if t := c.expressionType(n.X, in); isIntegerType(t) {
			return "long"
		}
		return "double"
	case *BinaryExpr:
		switch n.Op {
		case "+", "-", "*", "%":
			if isIntegerType(c.expressionType(n.L, in)) && isIntegerType(c.expressionType(n.R, in)) {
				return "long"
			}
			return "double"
		case "/":
			return "double"
		}
		return "boolean"
	case *CondExpr:
		return commonType(c.expressionType(n.Then, in), c.expressionType(n.Else, in))
	case *CallExpr:
		spec := funcs[strings.ToLower(n.Name)]
		if spec == nil {
			return "string"
		}
		if spec.typ != "" {
			return spec.typ
		}
		typeArgs := spec.typeArgs
		if typeArgs == nil {
			typeArgs = []int{0}
		}
		t := ""
		for _, i := range typeArgs {
			if i < len(n.Args) {
				if t == "" {
					t = c.expressionType(n.Args[i], in)
				} else {
					t = commonType(t, c.expressionType(n.Args[i], in))
				}
			}
		}
		if t == "" {
			return "string"
		}
		return t
	}
	return "string"
}

// commonType is the type of a value that is of type a or of type b.
func commonType(a, b string) string {
	switch {
	case a == b:
		return a
	case isIntegerType(a) && isIntegerType(b):
		return "long"
	case isNumericType(a) && isNumericType(b):
		return "double"
	}
	return "string"
}

func isIntegerType(t string) bool { return t == "long" || t == "int" }

func isNumericType(t string) bool { return t == "long" || t == "int" || t == "double" }
