package query

import (
	"math"
	"math/big"
	"strconv"
)

// Math functions (spec §7.2). Arguments are numbers or numeric strings;
// anything else (null, text, booleans) gives null. Results that are NaN or
// infinite stay numbers inside an expression (isNaN and isInfinity can test
// them) and render as null in fields.
//
//	num(x)                 x as a number; null when x is not numeric.
//	toLong(x)              x truncated toward zero to a long (Java's cast);
//	                       null when not numeric or out of range.
//	toDouble(x)            x as a double.
//	round(x)               the nearest long, halves up (Java's Math.round:
//	                       round(2.5) = 3, round(-2.5) = -2).
//	round(x, n)            x rounded to n decimal places, halves up.
//	abs, ceil, floor, sqrt, cbrt, exp, expm1, log (natural), log10, log1p,
//	sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, toDegrees, toRadians
//	                       as in java.lang.Math (abs keeps integers exact).
//	atan2(y, x), hypot(x, y), pow(x, y)
//	min(a, b), max(a, b)   the smaller / larger of two numbers (inside
//	                       expressions; at the start of a stage, min and max
//	                       are the aggregates).
//	isNaN(x), isInfinity(x)  whether x is a NaN / an infinite number.

func init() {
	registerFunc(&funcSpec{name: "num", minArgs: 1, maxArgs: 1, typ: "double", build: pure1(func(v Value) Value {
		n, ok := v.Numeric()
		if !ok {
			return NullValue
		}
		return n
	})})
	registerFunc(&funcSpec{name: "toLong", minArgs: 1, maxArgs: 1, typ: "long", build: pure1(func(v Value) Value {
		i, ok := v.Int()
		if !ok {
			return NullValue
		}
		return IntValue(i)
	})})
	registerFunc(&funcSpec{name: "toDouble", minArgs: 1, maxArgs: 1, typ: "double", build: pure1(func(v Value) Value {
		f, ok := v.Number()
		if !ok {
			return NullValue
		}
		return FloatValue(f)
	})})
	registerFunc(&funcSpec{name: "round", minArgs: 1, maxArgs: 2, typ: "double", build: byArity(nil, pure1(round1), pure2(round2))})
	registerFunc(&funcSpec{name: "abs", minArgs: 1, maxArgs: 1, typeArgs: []int{0}, build: pure1(func(v Value) Value {
		n, ok := v.Numeric()
		if !ok {
			return NullValue
		}
		if n.isInt && n.ival() != math.MinInt64 {
			return IntValue(iabs(n.ival()))
		}
		return FloatValue(math.Abs(n.fval()))
	})})
	for name, f := range map[string]func(float64) float64{
		"ceil": math.Ceil, "floor": math.Floor, "sqrt": math.Sqrt, "cbrt": math.Cbrt,
		"exp": math.Exp, "expm1": math.Expm1, "log": math.Log, "log10": math.Log10, "log1p": math.Log1p,
		"sin": math.Sin, "cos": math.Cos, "tan": math.Tan, "asin": math.Asin, "acos": math.Acos, "atan": math.Atan,
		"sinh": math.Sinh, "cosh": math.Cosh, "tanh": math.Tanh,
		"toDegrees": func(x float64) float64 { return x * 180 / math.Pi },
		"toRadians": func(x float64) float64 { return x / 180 * math.Pi },
	} {
		registerFunc(&funcSpec{name: name, minArgs: 1, maxArgs: 1, typ: "double", build: pure1(math1(f))})
	}
	for name, f := range map[string]func(float64, float64) float64{
		"atan2": math.Atan2, "hypot": math.Hypot, "pow": math.Pow,
	} {
		registerFunc(&funcSpec{name: name, minArgs: 2, maxArgs: 2, typ: "double", build: pure2(math2(f))})
	}
	registerFunc(&funcSpec{name: "min", minArgs: 2, maxArgs: 2, typeArgs: []int{0, 1}, build: pure2(func(a, b Value) Value { return minMax(a, b, -1) })})
	registerFunc(&funcSpec{name: "max", minArgs: 2, maxArgs: 2, typeArgs: []int{0, 1}, build: pure2(func(a, b Value) Value { return minMax(a, b, 1) })})
	registerFunc(&funcSpec{name: "isNaN", minArgs: 1, maxArgs: 1, typ: "boolean", build: pure1(func(v Value) Value {
		f, ok := v.Number()
		return BoolValue(ok && v.kind == KindNumber && math.IsNaN(f))
	})})
	registerFunc(&funcSpec{name: "isInfinity", minArgs: 1, maxArgs: 1, typ: "boolean", build: pure1(func(v Value) Value {
		f, ok := v.Number()
		return BoolValue(ok && math.IsInf(f, 0))
	})})
}

func math1(f func(float64) float64) func(Value) Value {
	return func(v Value) Value {
		x, ok := v.Number()
		if !ok {
			return NullValue
		}
		return FloatValue(f(x))
	}
}

func math2(f func(float64, float64) float64) func(Value, Value) Value {
	return func(a, b Value) Value {
		x, ok := a.Number()
		if !ok {
			return NullValue
		}
		y, ok := b.Number()
		if !ok {
			return NullValue
		}
		return FloatValue(f(x, y))
	}
}

// round1 is Java's Math.round: floor(x + 0.5) as a long.
func round1(v Value) Value {
	n, ok := v.Numeric()
	if !ok {
		return NullValue
	}
	if n.isInt {
		return n
	}
	r := math.Floor(n.fval() + 0.5)
	if math.IsNaN(r) || r >= 9.223372036854775807e18 || r < -9.223372036854775808e18 {
		return FloatValue(r)
	}
	return IntValue(int64(r))
}

// round2 rounds x to n decimal places, halves up (toward +Inf, as
// round(x) does). It rounds the shortest decimal text of x, so that
// round(1.005, 2) is 1.01 although the double 1.005 is slightly below it.
func round2(v, places Value) Value {
	n, ok := v.Numeric()
	if !ok {
		return NullValue
	}
	p, ok := places.Int()
	if !ok {
		return NullValue
	}
	if n.isInt && p >= 0 {
		return n
	}
	if math.IsNaN(n.fval()) || math.IsInf(n.fval(), 0) || p > 300 || p < -300 {
		return FloatValue(n.fval())
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(n.fval(), 'g', -1, 64))
	if !ok {
		return FloatValue(n.fval())
	}
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(iabs(p)), nil))
	if p >= 0 {
		r.Mul(r, scale)
	} else {
		r.Quo(r, scale)
	}
	r.Add(r, big.NewRat(1, 2))
	fl := new(big.Int).Div(r.Num(), r.Denom()) // floor (Denom > 0, Div is Euclidean)
	r.SetInt(fl)
	if p >= 0 {
		r.Quo(r, scale)
	} else {
		r.Mul(r, scale)
	}
	f, _ := r.Float64()
	return FloatValue(f)
}

func minMax(a, b Value, sign int) Value {
	x, ok := a.Numeric()
	if !ok {
		return NullValue
	}
	y, ok := b.Numeric()
	if !ok {
		return NullValue
	}
	c := compareNumbers(x, y)
	if c == 2 {
		return FloatValue(math.NaN())
	}
	if c*sign >= 0 {
		return x
	}
	return y
}
