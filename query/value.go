package query

import (
	"math"
	"strconv"
	"strings"
)

// Values of expressions (spec §0.1). Field values in rows are strings; an
// expression computes with dynamically typed Values:
//
//   - null: an absent field, an empty string (dohyo does not tell "" from
//     null, see the package conventions), a failed conversion, arithmetic
//     with null, division by zero, NaN or ±Inf when rendered;
//   - string: case-sensitive; a numeric-looking string (ParseNumber) is used
//     as a number in numeric contexts (arithmetic, math functions) and in
//     comparisons with another number or numeric string;
//   - number: an integer (exact int64) or a double;
//   - boolean: the result of comparisons and logical operators; rendered
//     "true"/"false". The strings "true" and "false" (any case) are
//     booleans where a condition is expected, so that a field holding the
//     result of an earlier "... as ok" can be tested with "where ok".
//
// Values are small structs passed by value; evaluation allocates nothing
// for fields, literals, comparisons, logic and arithmetic.

// ValueKind is the dynamic type of a Value.
type ValueKind uint8

// The kinds of values.
const (
	KindNull ValueKind = iota
	KindString
	KindNumber
	KindBool
)

// Value is the result of an expression.
//
// Inside the package the fields may be read directly (i and f of a number
// are always consistent); build values with the constructors.
type Value struct {
	kind  ValueKind
	isInt bool    // a KindNumber holding the exact integer i
	i     int64   // the integer of an integer number; 1/0 for booleans
	f     float64 // the number as a double (float64(i) for integers)
	s     string  // the string of a KindString
}

// ival is the integer of an integer number (or 1/0 of a boolean).
func (v Value) ival() int64 { return v.i }

// fval is the number as a double.
func (v Value) fval() float64 { return v.f }

// NullValue is null.
var NullValue = Value{}

// StringValue returns s as a string value; the empty string is null.
func StringValue(s string) Value {
	if s == "" {
		return Value{}
	}
	return Value{kind: KindString, s: s}
}

// IntValue returns the integer i.
func IntValue(i int64) Value { return Value{kind: KindNumber, isInt: true, i: i, f: float64(i)} }

// FloatValue returns the double f. Integral doubles stay doubles (their
// text is the same; only their type differs).
func FloatValue(f float64) Value { return Value{kind: KindNumber, f: f} }

// BoolValue returns a boolean.
func BoolValue(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.i = 1
	}
	return v
}

// Kind returns the value's dynamic type.
func (v Value) Kind() ValueKind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// IsInt reports whether v is an integer number.
func (v Value) IsInt() bool { return v.kind == KindNumber && v.isInt }

// String renders v as a field value: "" for null, numbers by FormatNumber
// (NaN and ±Inf give ""), booleans as "true"/"false".
func (v Value) String() string {
	switch v.kind {
	case KindString:
		return v.s
	case KindNumber:
		if v.isInt {
			return strconv.FormatInt(v.ival(), 10)
		}
		return FormatNumber(v.fval())
	case KindBool:
		if v.i != 0 {
			return "true"
		}
		return "false"
	}
	return ""
}

// appendTo appends the rendering of v to b.
func (v Value) appendTo(b []byte) []byte {
	switch v.kind {
	case KindString:
		return append(b, v.s...)
	case KindNumber:
		if v.isInt {
			return strconv.AppendInt(b, v.ival(), 10)
		}
		return appendNumber(b, v.fval())
	}
	return append(b, v.String()...)
}

// Number returns v as a float64 in a numeric context: a number, or a
// numeric string. Null, booleans and other strings give ok=false.
func (v Value) Number() (float64, bool) {
	switch v.kind {
	case KindNumber:
		return v.fval(), true
	case KindString:
		n, ok := ParseNumber(v.s)
		return n.fval(), ok
	}
	return 0, false
}

// Numeric returns v as a number Value (KindNumber), converting numeric
// strings; ok=false when v is not numeric.
func (v Value) Numeric() (Value, bool) {
	switch v.kind {
	case KindNumber:
		return v, true
	case KindString:
		return ParseNumber(v.s)
	}
	return Value{}, false
}

// Int returns v as an int64: integers as they are, doubles truncated
// toward zero (Java's long cast), numeric strings converted. ok=false for
// null, non-numeric values, NaN and values out of the int64 range.
func (v Value) Int() (int64, bool) {
	n, ok := v.Numeric()
	if !ok {
		return 0, false
	}
	if n.isInt {
		return n.ival(), true
	}
	f := n.fval()
	if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return 0, false
	}
	return int64(f), true
}

// Bool returns the truth of v where a condition is expected: true for the
// boolean true and the string "true" (any case); false for everything
// else, null included.
func (v Value) Bool() bool {
	switch v.kind {
	case KindBool:
		return v.i != 0
	case KindString:
		return len(v.s) == 4 && strings.EqualFold(v.s, "true")
	}
	return false
}

// boolOf returns v as a boolean and whether it is one (a boolean or the
// string "true"/"false" in any case).
func (v Value) boolOf() (bool, bool) {
	switch v.kind {
	case KindBool:
		return v.i != 0, true
	case KindString:
		if strings.EqualFold(v.s, "true") {
			return true, true
		}
		if strings.EqualFold(v.s, "false") {
			return false, true
		}
	}
	return false, false
}

// FieldType is the FieldInfo type of a value: "long" for integers,
// "double" for other numbers, "boolean", else "string".
func (v Value) FieldType() string {
	switch v.kind {
	case KindNumber:
		if v.isInt {
			return "long"
		}
		return "double"
	case KindBool:
		return "boolean"
	}
	return "string"
}

// FormatNumber renders a double as a field value: Go's shortest decimal
// representation without exponent (strconv 'f', -1): 3, 2.5, 0.001,
// 1000000000000000000000. NaN and ±Inf render as "" (null); -0 as 0.
func FormatNumber(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	if f == 0 {
		return "0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func appendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b
	}
	if f == 0 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// ParseNumber parses a numeric-looking string: an optional sign, digits
// with an optional fraction (at least one digit in all: 5, 5., .5, -1.25),
// and an optional exponent (1e3, 2.5E-2). Nothing else is numeric: no
// spaces, no hexadecimal, no "NaN" or "Infinity", no digit separators.
// Integers that fit in an int64 give exact integer values; other numbers
// give doubles (±Inf when out of range).
func ParseNumber(s string) (Value, bool) {
	if len(s) == 0 || len(s) > 400 {
		return Value{}, false
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	digits, intOnly := 0, true
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		intOnly = false
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return Value{}, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		intOnly = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			e++
		}
		if e == 0 {
			return Value{}, false
		}
	}
	if i != len(s) {
		return Value{}, false
	}
	if intOnly {
		if digits <= 18 { // fits: no overflow check needed
			var n int64
			j := 0
			if s[0] == '+' || s[0] == '-' {
				j = 1
			}
			for ; j < len(s); j++ {
				n = n*10 + int64(s[j]-'0')
			}
			if s[0] == '-' {
				n = -n
			}
			return IntValue(n), true
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return IntValue(n), true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return Value{}, false
	}
	return FloatValue(f), true
}

// IsNumeric reports whether s is numeric-looking (ParseNumber).
func IsNumeric(s string) bool {
	_, ok := ParseNumber(s)
	return ok
}

// compareValues compares two non-null values: numerically when both are
// numbers or numeric strings, else as strings (byte order, which is code
// point order). ok=false when either is null.
func compareValues(a, b Value) (int, bool) {
	if a.kind == KindNull || b.kind == KindNull {
		return 0, false
	}
	if an, ok := a.Numeric(); ok {
		if bn, ok := b.Numeric(); ok {
			return compareNumbers(an, bn), true
		}
	}
	return strings.Compare(a.String(), b.String()), true
}

// compareNumbers compares two KindNumber values; integers exactly. NaN
// compares unequal to everything: the result is then 2 (neither <, = nor
// >; callers treat it as false for every operator).
func compareNumbers(a, b Value) int {
	if a.isInt && b.isInt {
		x, y := a.ival(), b.ival()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	x, y := a.fval(), b.fval()
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	case x == y:
		return 0
	}
	return 2
}

// valuesEqual reports whether two values are equal under compareValues.
func valuesEqual(a, b Value) bool {
	c, ok := compareValues(a, b)
	return ok && c == 0
}
