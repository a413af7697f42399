package query

import (
	"strings"
	"unicode"
)

// Null and type checks, and the conditional (spec §4.4, §4.5):
//
//	isNull(x)     true when x is null. An empty string is null in dohyo, so
//	              isNull("") is true (Sumo: false).
//	isEmpty(x)    true when x is null or "" (the same test in dohyo).
//	isBlank(x)    true when x is null, empty or only white space.
//	isNumeric(x)  true when x is a number or a numeric-looking string
//	              (ParseNumber: 12, -1.5, 2e3; not " 12", "0x1F", "NaN").
//	if(c, a, b)   a when c is true, else b; only the chosen branch is
//	              evaluated. c is true for true and the string "true".
//	toString(x)   x as a string: numbers and booleans rendered.

func init() {
	registerFunc(&funcSpec{name: "isNull", minArgs: 1, maxArgs: 1, typ: "boolean",
		build: pure1(func(v Value) Value { return BoolValue(v.kind == KindNull) })})
	registerFunc(&funcSpec{name: "isEmpty", minArgs: 1, maxArgs: 1, typ: "boolean",
		build: pure1(func(v Value) Value { return BoolValue(v.kind == KindNull) })})
	registerFunc(&funcSpec{name: "isBlank", minArgs: 1, maxArgs: 1, typ: "boolean",
		build: pure1(func(v Value) Value {
			return BoolValue(v.kind == KindNull || strings.TrimFunc(v.String(), unicode.IsSpace) == "")
		})})
	registerFunc(&funcSpec{name: "isNumeric", minArgs: 1, maxArgs: 1, typ: "boolean",
		build: pure1(func(v Value) Value {
			_, ok := v.Numeric()
			return BoolValue(ok)
		})})
	registerFunc(&funcSpec{name: "if", minArgs: 3, maxArgs: 3, typeArgs: []int{1, 2}, build: buildIf})
	registerFunc(&funcSpec{name: "toString", minArgs: 1, maxArgs: 1, typ: "string",
		build: pure1(func(v Value) Value { return StringValue(v.String()) })})
}

func buildIf(b *callBuilder) (evaluator, *Error) {
	cond, then, els := b.args[0], b.args[1], b.args[2]
	return func(x *runContext, r Row) Value {
		if cond(x, r).Bool() {
			return then(x, r)
		}
		return els(x, r)
	}, nil
}
