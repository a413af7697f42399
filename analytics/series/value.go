package series

import (
	"fmt"
	"math"
	"strconv"
)

// Kind says what a Value holds.
type Kind uint8

const (
	// Null is an absent or null value. The zero Value is Null.
	Null Kind = iota
	// Number is a finite float64.
	Number
	// Invalid is a value that is present but not a finite number (a string
	// that does not parse, NaN, +Inf, -Inf). It is skipped like Null but
	// counted separately, for the operator's warning.
	Invalid
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Number:
		return "number"
	case Invalid:
		return "invalid"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Value is a number that may be missing. Outputs of this package and of
// analytics/outlier and analytics/forecast are only ever Null or a finite
// Number.
type Value struct {
	F    float64
	Kind Kind
}

// Num returns f as a Value: a Number when f is finite, else Invalid.
func Num(f float64) Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{Kind: Invalid}
	}
	return Value{F: f, Kind: Number}
}

// Parse reads a field's text as a Value with the query language's rule for
// numeric-looking strings: an optional sign, digits with an optional
// fraction (5, 5., .5, -1.25) and an optional exponent (1e3, 2.5E-2);
// nothing else (no spaces, hexadecimal, "NaN", "Infinity" or separators).
// The empty string is Null, a numeric string a Number, and everything else
// Invalid, as are numbers beyond the range of a float64 ("1e999"). The
// operators may equally convert with the query package's own numeric rules
// and pass the float to Num: the two agree.
func Parse(s string) Value {
	if s == "" {
		return Value{}
	}
	if !numeric(s) {
		return Value{Kind: Invalid}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Value{Kind: Invalid}
	}
	return Num(f)
}

// numeric reports whether s has the shape [+-]digits[.digits][(e|E)[+-]digits]
// with at least one digit before the exponent.
func numeric(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// Float returns the number and whether the Value holds one.
func (v Value) Float() (float64, bool) { return v.F, v.Kind == Number }

// OK reports whether the Value is a Number.
func (v Value) OK() bool { return v.Kind == Number }

// String formats the value for tests and debugging: the shortest decimal
// form of a Number, "null" or "invalid".
func (v Value) String() string {
	if v.Kind == Number {
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	}
	return v.Kind.String()
}

// Out turns a computed float into an output Value: Null when the result
// is not finite (an overflow, or 0/0), a Number otherwise. Outputs never
// hold NaN or an infinity.
func Out(f float64) Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}
	}
	return Value{F: f, Kind: Number}
}

// Point is one observation of a time series: a time (epoch milliseconds,
// like _timeslice) and a value.
type Point struct {
	T int64
	V Value
}

// Issues counts the inputs a computation skipped or could not represent.
type Issues struct {
	// Null is the number of Null inputs (skipped silently: aggregates skip
	// nulls without a warning).
	Null int
	// Invalid is the number of present but non-numeric inputs (skipped,
	// worth a warning).
	Invalid int
	// Overflow is the number of outputs that overflowed float64 and were
	// returned as Null.
	Overflow int
}

// Note counts v if it is not a Number and reports whether it is one.
func (is *Issues) Note(v Value) bool {
	switch v.Kind {
	case Number:
		return true
	case Invalid:
		is.Invalid++
	default:
		is.Null++
	}
	return false
}

// Add adds other's counts to is.
func (is *Issues) Add(other Issues) {
	is.Null += other.Null
	is.Invalid += other.Invalid
	is.Overflow += other.Overflow
}

// Warnings turns the counts into the messages an operator shows, naming
// the field; none when nothing needs saying (nulls are silent).
func (is Issues) Warnings(field string) []string {
	var w []string
	if is.Invalid > 0 {
		w = append(w, fmt.Sprintf("%s: %d non-numeric %s skipped", field, is.Invalid, plural(is.Invalid, "value", "values")))
	}
	if is.Overflow > 0 {
		w = append(w, fmt.Sprintf("%s: %d %s out of the range of a double, left empty", field, is.Overflow, plural(is.Overflow, "result", "results")))
	}
	return w
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
