package query

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The function registry. Each family of functions lives in its own file
// (func_string.go, func_math.go, func_null.go, func_ip.go, func_json.go,
// func_time.go) and registers its functions from init with registerFunc.
// Names are case-insensitive; the parser checks the arity of every call
// and suggests the closest name for an unknown function.

// funcSpec describes one function.
type funcSpec struct {
	// name is the canonical spelling (printed by the printer).
	name string
	// minArgs, maxArgs bound the number of arguments; maxArgs < 0 means
	// any number from minArgs on.
	minArgs, maxArgs int
	// typ is the FieldInfo type of the result ("string", "long", "double",
	// "boolean"); "" means the common type of the arguments listed in
	// typeArgs (default: the first).
	typ      string
	typeArgs []int
	// regexArgs lists the argument positions that may be a /regex/.
	regexArgs []int
	// volatile marks functions whose result depends on the run (now(),
	// queryStartTime(), ...), never folded.
	volatile bool
	// build compiles a call. Most functions use one of the helpers below
	// (pure1, pure2, ...).
	build func(b *callBuilder) (evaluator, *Error)
}

// callBuilder is what a function's build hook receives: the call, its
// compiled arguments (nil for a /regex/ argument) and the compiler.
type callBuilder struct {
	c    *compiler
	in   *schema
	call *CallExpr
	args []evaluator
}

// arg returns the argument expression i.
func (b *callBuilder) arg(i int) Expression { return b.call.Args[i] }

// nargs is the number of arguments.
func (b *callBuilder) nargs() int { return len(b.call.Args) }

// constArg returns the value of argument i when it is a literal (or a
// constant expression), ok=false otherwise.
func (b *callBuilder) constArg(i int) (Value, bool) { return constValue(b.call.Args[i]) }

// errorf reports a problem with argument i (or the call when i < 0).
func (b *callBuilder) errorf(i int, format string, args ...any) *Error {
	pos := b.call.Pos
	if i >= 0 && i < len(b.call.Args) {
		pos = b.call.Args[i].Position()
	}
	return errorf(pos, "%s: %s", b.call.Name, fmt.Sprintf(format, args...))
}

var funcs = map[string]*funcSpec{}

// registerFunc makes a function known; function files call it from init.
func registerFunc(s *funcSpec) {
	key := strings.ToLower(s.name)
	if _, dup := funcs[key]; dup {
		panic("query: function " + s.name + " registered twice")
	}
	funcs[key] = s
}

// funcNames lists the canonical names of the registered functions.
func funcNames() []string {
	out := make([]string, 0, len(funcs))
	for _, s := range funcs {
		out = append(out, s.name)
	}
	sort.Strings(out)
	return out
}

// lookupFunc returns the function named by the token, or an error with a
// suggestion.
func lookupFunc(name token) (*funcSpec, *Error) {
	lower := strings.ToLower(name.text)
	if s, ok := funcs[lower]; ok {
		return s, nil
	}
	if aggregateNames[lower] {
		return nil, errorf(name.pos, "aggregate %q cannot be used inside an expression", lower).
			withHint("aggregates are stages of their own: | %s(...) by ...", lower)
	}
	if functionSet[lower] {
		return nil, errorf(name.pos, "function %q is not supported yet", name.text)
	}
	e := errorf(name.pos, "unknown function %q", name.text)
	e.Hint = didYouMean(lower, funcNames())
	return nil, e
}

// checkArity checks the number of arguments of a call, and that /regex/
// arguments stand only where the function takes one.
func (s *funcSpec) checkArity(call *CallExpr) *Error {
	n := len(call.Args)
	if n < s.minArgs || (s.maxArgs >= 0 && n > s.maxArgs) {
		return errorf(call.Pos, "%s takes %s, found %d", s.name, s.arityText(), n)
	}
	for i, a := range call.Args {
		if _, ok := a.(*RegexLit); ok && !containsInt(s.regexArgs, i) {
			return errorf(a.Position(), "%s does not take a /regular expression/ as argument %d", s.name, i+1)
		}
	}
	return nil
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (s *funcSpec) arityText() string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return fmt.Sprintf("%d arguments", n)
	}
	switch {
	case s.maxArgs < 0:
		return "at least " + plural(s.minArgs)
	case s.minArgs == s.maxArgs:
		if s.minArgs == 0 {
			return "no arguments"
		}
		return plural(s.minArgs)
	case s.maxArgs == s.minArgs+1:
		return fmt.Sprintf("%d or %s", s.minArgs, plural(s.maxArgs))
	}
	return fmt.Sprintf("%d to %s", s.minArgs, plural(s.maxArgs))
}

// checkRegex compiles a regex literal's pattern (RE2) and returns the
// error, if any, in words.
func checkRegex(pattern string) error {
	if _, err := regexp.Compile(pattern); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return nil
}

// ---- helpers for simple functions ----

// pure1 registers-builds a function of one value.
func pure1(f func(Value) Value) func(*callBuilder) (evaluator, *Error) {
	return func(b *callBuilder) (evaluator, *Error) {
		a := b.args[0]
		return func(x *runContext, r Row) Value { return f(a(x, r)) }, nil
	}
}

// pure2 builds a function of two values.
func pure2(f func(Value, Value) Value) func(*callBuilder) (evaluator, *Error) {
	return func(b *callBuilder) (evaluator, *Error) {
		a0, a1 := b.args[0], b.args[1]
		return func(x *runContext, r Row) Value { return f(a0(x, r), a1(x, r)) }, nil
	}
}

// pure3 builds a function of three values.
func pure3(f func(Value, Value, Value) Value) func(*callBuilder) (evaluator, *Error) {
	return func(b *callBuilder) (evaluator, *Error) {
		a0, a1, a2 := b.args[0], b.args[1], b.args[2]
		return func(x *runContext, r Row) Value { return f(a0(x, r), a1(x, r), a2(x, r)) }, nil
	}
}

// pureN builds a function of any number of values (they are collected in
// a slice per call: use for rarely hot functions only).
func pureN(f func([]Value) Value) func(*callBuilder) (evaluator, *Error) {
	return func(b *callBuilder) (evaluator, *Error) {
		args := b.args
		return func(x *runContext, r Row) Value {
			vals := make([]Value, len(args))
			for i, a := range args {
				vals[i] = a(x, r)
			}
			return f(vals)
		}, nil
	}
}

// byArity picks a builder by the number of arguments.
func byArity(builders ...func(*callBuilder) (evaluator, *Error)) func(*callBuilder) (evaluator, *Error) {
	return func(b *callBuilder) (evaluator, *Error) {
		return builders[b.nargs()](b)
	}
}

// stringArg returns v as text for a string function: null stays null
// (ok=false); numbers and booleans are rendered.
func stringArg(v Value) (string, bool) {
	if v.kind == KindNull {
		return "", false
	}
	return v.String(), true
}
