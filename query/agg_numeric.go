package query

import (
	"math"
	"math/big"
	"sort"
	"strconv"

	"github.com/dohyo/dohyo/event"
)

// The numeric aggregates (spec §5; the stage is described in
// op_aggregate.go):
//
//	sum(<expr>)           → _sum      the sum of the numeric values
//	avg(<expr>)           → _avg      their mean
//	min(<expr>), max(...) → _min, _max
//	stddev(<expr>)        → _stddev   the sample standard deviation (n-1)
//	pct(<expr>, p1, ...)  → _pct_<p>  percentiles
//	median(<expr>)        → _median   the 50th percentile
//
// Values are numbers or numeric strings (value.go's ParseNumber: 42, -1.5,
// 2e3; not "1,000", "0x10", "1h" or "NaN"). Null values are skipped
// silently; other non-numeric values are skipped with a warning naming the
// function. With no numeric value in a group every function gives null.
//
// The results do not depend on the order of the rows (the engine and Go
// see them in different orders): sums of integers are exact int64 sums
// (a sum beyond the int64 range continues as a double); any other sum is
// the exact sum of the doubles rounded once (Shewchuk's partials, as
// Python's math.fsum), so sum(0.1, 0.2, 0.3) is 0.6 whatever the order.
// avg is that sum divided by the count; stddev is computed from the exact
// sums of the values and of their squares (sqrt((n·Σx² − (Σx)²) / (n·(n−1)))
// with the numerator computed exactly): 0 for one value. min and max keep
// the value as written when it is an integer (42) and its shortest decimal
// otherwise; they are typed double, like Sumo's (use toLong before
// formatDate). A sum overflowing the doubles (±Inf) is null.
//
// pct and median hold every numeric value of the group and interpolate
// linearly between the two nearest ranks: with the n values sorted, the
// p-th percentile is at rank p/100·(n−1) (numpy's default, Excel's
// PERCENTILE.INC); the median of 1, 2, 3, 4 is 2.5. Sumo's pct is an
// estimate; dohyo's is exact and pays the memory (8 bytes a value).
//
// Pushdown (agg_pushdown.go): the engine parses numbers its own way (it
// also reads "1h", "10KB", "0x10" and "1_000" as numbers, orders
// non-numeric strings among numbers in min/max, sums doubles in block
// order and parses decimals with rounding of its own), so sum, avg, min and
// max are pushed only over the rows where the field is empty or a plain
// integer of at most 15 digits (^(0|-?[1-9][0-9]{0,14})$), where the
// engine's results are exact; the other rows run in Go and the partial
// results merge (split and merge). A sum is exact in the engine while no
// partial sum reaches 2^53; the engine also reports the count, minimum and
// maximum, and a group with count·max(|min|, |max|) ≥ 2^53 makes the whole
// aggregate run again in Go. min/max(_messageTime) push as min/max(_time).
// stddev, pct and median always run in Go: the engine's stddev is not
// order-independent and its quantile samples.

func init() {
	registerAgg(&aggKind{name: "sum", defaultNames: fixedNames("_sum"), build: buildSum})
	registerAgg(&aggKind{name: "avg", defaultNames: fixedNames("_avg"), build: buildSum})
	registerAgg(&aggKind{name: "min", defaultNames: fixedNames("_min"), build: buildMinMax})
	registerAgg(&aggKind{name: "max", defaultNames: fixedNames("_max"), build: buildMinMax})
	registerAgg(&aggKind{name: "stddev", defaultNames: fixedNames("_stddev"), build: buildStddev})
	registerAgg(&aggKind{name: "median", defaultNames: fixedNames("_median"), build: buildPct})
	registerAgg(&aggKind{name: "pct", defaultNames: func(c *AggCall) []string {
		names := make([]string, len(c.Params))
		for i, p := range c.Params {
			names[i] = pctName(p)
		}
		return names
	}, build: buildPct})
}

// plainIntRegexp matches the integers whose engine results are exact.
const plainIntRegexp = `^(0|-?[1-9][0-9]{0,14})$`

// numericCond is the LogsQL condition under which the engine computes a
// numeric aggregate of field f exactly: f empty or a plain integer.
//
// The engine keeps a column whose values in a block are all unsigned
// integers in a numeric encoding, and its regexp filter sees no value of
// such a column in a pipe (stats ... if, a filter after extract), while
// it does in the query's filter (an engine quirk found by
// TestPropertyPushdownEqualsGo). Every value of a uint8, uint16 or uint32
// column is a plain integer (at most 10 digits, no sign, no leading zero),
// so the value_type alternatives make the condition hold for them in both
// places; without them, every such row counted as failing and went
// through Go (exact, but slow).
func numericCond(f string) string {
	q := logsQLString(storageField(f))
	return "(" + q + `:"" or ` + q + ":~" + logsQLString(plainIntRegexp) + " or " + q + ":value_type(uint8) or " +
		q + ":value_type(uint16) or " + q + ":value_type(uint32))"
}

// nonEmpty is the engine's "if" of the min and max parts: on the rows
// satisfying numericCond, which are the only rows whose engine results are
// used (the run checks that none fails it, or filters on it), a non-empty
// value is a plain integer. A regexp would see no value of a column in a
// numeric encoding (numericCond); an exact comparison with "" does.
func nonEmpty(q string) string { return "!" + q + `:=""` }

// nonNumericWarning is the warning of a function skipping a value.
func nonNumericWarning(call *AggCall) string {
	return call.Func + "(" + exprText(call.Arg) + "): non-numeric values were skipped"
}

// numericArg returns the argument as a number: ok=false for null
// (silently) and non-numeric values (with the warning).
func numericArg(x *runContext, v *aggArg, warn string) (Value, bool) {
	if v.v.kind == KindNull {
		return v.v, false
	}
	n, ok := v.numeric()
	if !ok {
		x.warn(warn)
	}
	return n, ok
}

// ---- sum, avg ----

type sumFn struct {
	col   FieldInfo
	avg   bool
	arg   evaluator
	warn  string
	field string
}

func buildSum(b *aggBuild) (aggFn, *Error) {
	return &sumFn{col: FieldInfo{Name: b.names[0], Type: "double"}, avg: b.call.Func == "avg", arg: b.arg,
		warn: nonNumericWarning(b.call), field: b.argField()}, nil
}

func (f *sumFn) columns() []FieldInfo { return []FieldInfo{f.col} }
func (f *sumFn) newAcc() aggAcc       { return &sumAcc{fn: f} }

func (f *sumFn) engine() (aggEngine, bool) {
	if f.field == "" || f.field == event.FieldMessageTime {
		return aggEngine{}, false
	}
	q := logsQLString(storageField(f.field))
	return aggEngine{
		// The non-negative and the negative values summed apart: each
		// sum is then monotonic, exact when it stays below 2^53 in
		// magnitude (mergeEngine). A substring test sorts the values
		// (every value satisfying numericCond is a plain integer, or a
		// uint column the regexp cannot see, never negative); min and
		// max bounds instead cost two number parses per row more
		// (bench/query -try).
		parts: []string{"sum(" + q + ") if (!" + q + `:~"-")`, "sum(" + q + ") if (" + q + `:~"-")`, "count(" + q + ")"},
		cond:  numericCond(f.field),
		// A guarded where's field holds digits only (guardCond): one
		// sum, never negative, and the count, of every row (none is
		// empty), which also counts the input (statsPipe); two
		// substring tests and a count per row fewer (bench/query -try).
		guarded: []string{"sum(" + q + ")", "count()"},
		field:   f.field,
	}, true
}

type sumAcc struct {
	fn *sumFn
	s  exactSum
	n  int64
}

func (a *sumAcc) add(x *runContext, arg *aggArg, _ Row) {
	v, ok := numericArg(x, arg, a.fn.warn)
	if !ok {
		return
	}
	a.s.add(v)
	a.n++
}

func (a *sumAcc) appendResult(_ *runContext, dst []string) []string {
	if a.n == 0 {
		return append(dst, "")
	}
	if !a.fn.avg {
		return append(dst, a.s.value().String())
	}
	if !a.s.float {
		return append(dst, FormatNumber(float64(a.s.i)/float64(a.n)))
	}
	return append(dst, FormatNumber(a.s.round()/float64(a.n)))
}

// mergeEngine adds the engine's sums of plain integers (parts: the sum of
// the non-negative values, the sum of the negative ones, the count; or,
// over a guarded field, the sum of the non-negative values and the count), after
// checking that the engine summed them exactly. The engine adds float64s;
// integers of the same sign whose exact running sum stays below 2^53 in
// magnitude add exactly, and a running sum reaching 2^53 rounds to at
// least 2^53 and stays there (rounding is monotonic), so a sum below 2^53
// in magnitude is exact.
func (a *sumAcc) mergeEngine(vals []string, _ bool) error {
	n, err := engineInt(vals[len(vals)-1])
	if err != nil || n == 0 {
		return err
	}
	for k, v := range vals[:len(vals)-1] {
		if v == "NaN" {
			continue // no value of that sign
		}
		s, ok := ParseNumber(v)
		if !ok {
			return errInexactPush
		}
		f := s.f
		wrongSign := k == 0 && f < 0 || k == 1 && f > 0
		if wrongSign || f != math.Trunc(f) || math.Abs(f) >= 1<<53 {
			return errInexactPush
		}
		a.s.add(IntValue(int64(f)))
	}
	a.n += n
	return nil
}

// ---- min, max ----

type minMaxFn struct {
	col   FieldInfo
	max   bool
	arg   evaluator
	warn  string
	field string
}

func buildMinMax(b *aggBuild) (aggFn, *Error) {
	return &minMaxFn{col: FieldInfo{Name: b.names[0], Type: "double"}, max: b.call.Func == "max", arg: b.arg,
		warn: nonNumericWarning(b.call), field: b.argField()}, nil
}

func (f *minMaxFn) columns() []FieldInfo { return []FieldInfo{f.col} }
func (f *minMaxFn) newAcc() aggAcc       { return &minMaxAcc{fn: f} }

func (f *minMaxFn) engine() (aggEngine, bool) {
	name := "min"
	if f.max {
		name = "max"
	}
	switch {
	case f.field == event.FieldMessageTime:
		return aggEngine{parts: []string{name + "(" + engineTimeField + ")"}}, true
	case f.field == "":
		return aggEngine{}, false
	}
	q := logsQLString(storageField(f.field))
	return aggEngine{
		parts: []string{name + "(" + q + ") if (" + nonEmpty(q) + ")"},
		cond:  numericCond(f.field),
		field: f.field,
	}, true
}

type minMaxAcc struct {
	fn   *minMaxFn
	best Value
	has  bool
}

func (a *minMaxAcc) add(x *runContext, arg *aggArg, _ Row) {
	v, ok := numericArg(x, arg, a.fn.warn)
	if ok {
		a.offer(v)
	}
}

func (a *minMaxAcc) offer(v Value) {
	if !a.has {
		a.best, a.has = v, true
		return
	}
	c := compareNumbers(v, a.best)
	if a.fn.max && c == 1 || !a.fn.max && c == -1 {
		a.best = v
	}
}

func (a *minMaxAcc) appendResult(_ *runContext, dst []string) []string {
	if !a.has {
		return append(dst, "")
	}
	return append(dst, a.best.String())
}

func (a *minMaxAcc) mergeEngine(vals []string, _ bool) error {
	s := vals[0]
	if s == "" {
		return nil
	}
	if a.fn.field == event.FieldMessageTime {
		ns, err := parseEngineTime(s)
		if err != nil {
			return err
		}
		a.offer(IntValue(floorDiv(ns, 1e6)))
		return nil
	}
	v, ok := ParseNumber(s)
	if !ok {
		return engineValueError(s, nil)
	}
	a.offer(v)
	return nil
}

// floorDiv divides rounding towards minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// ---- stddev ----

type stddevFn struct {
	col  FieldInfo
	arg  evaluator
	warn string
}

func buildStddev(b *aggBuild) (aggFn, *Error) {
	return &stddevFn{col: FieldInfo{Name: b.names[0], Type: "double"}, arg: b.arg, warn: nonNumericWarning(b.call)}, nil
}

func (f *stddevFn) columns() []FieldInfo      { return []FieldInfo{f.col} }
func (f *stddevFn) newAcc() aggAcc            { return &stddevAcc{fn: f} }
func (f *stddevFn) engine() (aggEngine, bool) { return aggEngine{}, false }

type stddevAcc struct {
	fn     *stddevFn
	s1, s2 exactSum
	n      int64
}

func (a *stddevAcc) add(x *runContext, arg *aggArg, _ Row) {
	v, ok := numericArg(x, arg, a.fn.warn)
	if !ok {
		return
	}
	a.n++
	a.s1.add(v)
	f := v.f
	sq := f * f
	a.s2.addFloat(sq)
	if !math.IsInf(sq, 0) {
		a.s2.addFloat(math.FMA(f, f, -sq))
	}
}

func (a *stddevAcc) appendResult(_ *runContext, dst []string) []string {
	switch {
	case a.n == 0:
		return append(dst, "")
	case a.n == 1:
		if math.IsInf(a.s1.round(), 0) {
			return append(dst, "")
		}
		return append(dst, "0")
	}
	if a.s1.special != 0 || a.s2.special != 0 {
		return append(dst, "")
	}
	// n·Σx² − (Σx)², exactly.
	var num exactSum
	n := float64(a.n)
	for _, p := range a.s2.terms() {
		h := n * p
		num.addFloat(h)
		num.addFloat(math.FMA(n, p, -h))
	}
	t1 := a.s1.terms()
	for _, p := range t1 {
		for _, q := range t1 {
			h := p * q
			num.addFloat(-h)
			num.addFloat(-math.FMA(p, q, -h))
		}
	}
	v := num.round() / (n * float64(a.n-1))
	if v < 0 || math.IsNaN(v) {
		v = 0
	}
	return append(dst, FormatNumber(math.Sqrt(v)))
}

// ---- pct, median ----

type pctFn struct {
	cols []FieldInfo
	ps   []float64
	arg  evaluator
	warn string
}

func buildPct(b *aggBuild) (aggFn, *Error) {
	f := &pctFn{arg: b.arg, warn: nonNumericWarning(b.call)}
	if b.call.Func == "median" {
		f.ps = []float64{50}
	}
	for _, p := range b.call.Params {
		f.ps = append(f.ps, p.Value)
	}
	for _, n := range b.names {
		f.cols = append(f.cols, FieldInfo{Name: n, Type: "double"})
	}
	return f, nil
}

func (f *pctFn) columns() []FieldInfo      { return f.cols }
func (f *pctFn) newAcc() aggAcc            { return &pctAcc{fn: f} }
func (f *pctFn) engine() (aggEngine, bool) { return aggEngine{}, false }

type pctAcc struct {
	fn     *pctFn
	vals   []float64
	sorted bool
}

func (a *pctAcc) add(x *runContext, arg *aggArg, _ Row) {
	v, ok := numericArg(x, arg, a.fn.warn)
	if ok {
		a.vals = append(a.vals, v.f)
		a.sorted = false
	}
}

func (a *pctAcc) appendResult(_ *runContext, dst []string) []string {
	if !a.sorted {
		sort.Float64s(a.vals)
		a.sorted = true
	}
	for _, p := range a.fn.ps {
		dst = append(dst, percentile(a.vals, p))
	}
	return dst
}

// percentile is the p-th percentile of sorted values, interpolated
// linearly between the nearest ranks; "" for none.
func percentile(vals []float64, p float64) string {
	n := len(vals)
	if n == 0 {
		return ""
	}
	// rank = p/100·(n−1), with the fraction computed from p·(n−1) so
	// that whole percentiles interpolate without rounding noise.
	num := p * float64(n-1)
	lo := int(math.Floor(num / 100))
	if lo >= n-1 {
		return FormatNumber(vals[n-1])
	}
	frac := (num - 100*float64(lo)) / 100
	a, b := vals[lo], vals[lo+1]
	if frac == 0 || a == b {
		return FormatNumber(a)
	}
	return FormatNumber(a + (b-a)*frac)
}

// ---- exact sums ----

// exactSum adds numbers exactly: integers as an int64 while they fit, then
// (or as soon as a double arrives) as Shewchuk's non-overlapping partials,
// whose sum is exact; round gives it rounded once to the nearest double.
type exactSum struct {
	i     int64
	float bool
	// doubles is set once a value that is not an integer was added.
	doubles  bool
	partials []float64
	// special is the sum of the infinite values added (and of sums that
	// overflowed); NaN when +Inf and -Inf met.
	special float64
}

// add adds a number (a KindNumber value).
func (s *exactSum) add(v Value) {
	if v.isInt {
		s.addInt(v.i)
		return
	}
	s.addFloat(v.f)
}

func (s *exactSum) addInt(i int64) {
	if !s.float {
		sum := s.i + i
		if (sum > s.i) == (i > 0) {
			s.i = sum
			return
		}
		s.toFloat()
	}
	s.addSplitInt(i)
}

// toFloat moves the integer sum into the partials.
func (s *exactSum) toFloat() {
	s.float = true
	s.addSplitInt(s.i)
	s.i = 0
}

// addSplitInt adds an int64 as two doubles, each exact.
func (s *exactSum) addSplitInt(i int64) {
	hi := i >> 32 << 32
	s.addPartial(float64(hi))
	s.addPartial(float64(i - hi))
}

func (s *exactSum) addFloat(f float64) {
	s.doubles = true
	if !s.float {
		s.toFloat()
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		s.special += f
		return
	}
	s.addPartial(f)
}

func (s *exactSum) addPartial(x float64) {
	if x == 0 {
		return
	}
	i := 0
	for _, y := range s.partials {
		if math.Abs(x) < math.Abs(y) {
			x, y = y, x
		}
		hi := x + y
		if math.IsInf(hi, 0) {
			s.special += hi
			s.partials = s.partials[:0]
			return
		}
		lo := y - (hi - x)
		if lo != 0 {
			s.partials[i] = lo
			i++
		}
		x = hi
	}
	s.partials = append(s.partials[:i], x)
}

// round returns the sum rounded once to the nearest double (ties to even).
func (s *exactSum) round() float64 {
	if !s.float {
		return float64(s.i)
	}
	if s.special != 0 || math.IsNaN(s.special) {
		return s.special
	}
	p := s.partials
	n := len(p)
	if n == 0 {
		return 0
	}
	n--
	hi, lo := p[n], 0.0
	for n > 0 {
		x := hi
		n--
		y := p[n]
		hi = x + y
		yr := hi - x
		lo = y - yr
		if lo != 0 {
			break
		}
	}
	if n > 0 && (lo < 0 && p[n-1] < 0 || lo > 0 && p[n-1] > 0) {
		y := lo * 2
		x := hi + y
		if y == x-hi {
			hi = x
		}
	}
	return hi
}

// value is the sum as a value: an integer when only integers were added
// and the sum fits an int64 (even if partial sums did not).
func (s *exactSum) value() Value {
	if !s.float {
		return IntValue(s.i)
	}
	if !s.doubles && s.special == 0 {
		sum := new(big.Int)
		for _, p := range s.partials {
			n, _ := big.NewFloat(p).Int(nil)
			sum.Add(sum, n)
		}
		if sum.IsInt64() {
			return IntValue(sum.Int64())
		}
	}
	return FloatValue(s.round())
}

// terms returns doubles whose exact sum is the sum (finite sums only).
func (s *exactSum) terms() []float64 {
	if !s.float {
		hi := s.i >> 32 << 32
		return []float64{float64(hi), float64(s.i - hi)}
	}
	return s.partials
}

// engineValueError reports an engine result dohyo cannot read.
func engineValueError(s string, err error) error {
	if err != nil {
		return &engineResultError{text: s, err: err}
	}
	return &engineResultError{text: s}
}

type engineResultError struct {
	text string
	err  error
}

func (e *engineResultError) Error() string {
	s := "engine returned an unreadable aggregate value " + strconv.Quote(e.text)
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *engineResultError) Unwrap() error { return e.err }
