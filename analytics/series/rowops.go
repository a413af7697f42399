package series

import (
	"fmt"
	"math"
)

// MaxWindow is the largest window of Smooth and RollingStd and the largest
// shift of Backshift: Sumo's documented maximum window length.
const MaxWindow = 1000

// DefaultWindow is the window of smooth and rollingstd when none is given;
// DefaultShift the shift of backshift.
const (
	DefaultWindow = 10
	DefaultShift  = 1
)

// Result is the output of a row operator: one Value per input row, in the
// input order, and the counts of skipped inputs.
type Result struct {
	Values []Value
	Issues Issues
}

// grouping maps each row to a dense group number.
type grouping struct {
	ids []int32 // nil: one group
	n   int
}

func groupRows(nrows int, groups []string) (grouping, error) {
	if groups == nil {
		return grouping{n: 1}, nil
	}
	if len(groups) != nrows {
		return grouping{}, fmt.Errorf("series: %d group keys for %d rows", len(groups), nrows)
	}
	seen := make(map[string]int32)
	ids := make([]int32, nrows)
	for i, g := range groups {
		id, ok := seen[g]
		if !ok {
			id = int32(len(seen))
			seen[g] = id
		}
		ids[i] = id
	}
	return grouping{ids: ids, n: len(seen)}, nil
}

func (g grouping) of(i int) int {
	if g.ids == nil {
		return 0
	}
	return int(g.ids[i])
}

// ksum is a compensated (Neumaier) running sum: adding 0.1 ten times gives 1.
type ksum struct{ sum, c float64 }

func (k *ksum) add(x float64) {
	t := k.sum + x
	if math.Abs(k.sum) >= math.Abs(x) {
		k.c += (k.sum - t) + x
	} else {
		k.c += (x - t) + k.sum
	}
	k.sum = t
}

func (k ksum) value() float64 {
	if math.IsInf(k.sum, 0) || math.IsNaN(k.sum) {
		return k.sum
	}
	return k.sum + k.c
}

// emit stores f as an output, counting an overflow.
func emit(res *Result, i int, f float64) {
	v := Out(f)
	if !v.OK() {
		res.Issues.Overflow++
	}
	res.Values[i] = v
}

// Accum returns the running sum of each group's numeric values, in row
// order (Sumo's accum, output _accum). Rows whose value is Null or Invalid
// are skipped: their output is Null and the sum carries on past them.
// groups gives each row's group key; nil means a single group.
func Accum(values []Value, groups []string) (Result, error) {
	g, err := groupRows(len(values), groups)
	if err != nil {
		return Result{}, err
	}
	res := Result{Values: make([]Value, len(values))}
	sums := make([]ksum, g.n)
	for i, v := range values {
		if !res.Issues.Note(v) {
			continue
		}
		s := &sums[g.of(i)]
		s.add(v.F)
		emit(&res, i, s.value())
	}
	return res, nil
}

// Diff returns, for each row, its value minus the previous numeric value of
// its group (Sumo's diff, output _diff). The group's first numeric row gets
// Null; rows whose value is Null or Invalid are skipped (Null output, and
// the next row is compared with the last numeric one before them).
func Diff(values []Value, groups []string) (Result, error) {
	g, err := groupRows(len(values), groups)
	if err != nil {
		return Result{}, err
	}
	res := Result{Values: make([]Value, len(values))}
	prev := make([]Value, g.n)
	for i, v := range values {
		if !res.Issues.Note(v) {
			continue
		}
		id := g.of(i)
		if prev[id].OK() {
			emit(&res, i, v.F-prev[id].F)
		}
		prev[id] = v
	}
	return res, nil
}

// Total returns, on every row, the sum of all numeric values of the row's
// group (Sumo's total, output _total). Rows whose value is Null or Invalid
// do not count towards the sum but still receive it. A group without any
// numeric value gets Null on all its rows.
func Total(values []Value, groups []string) (Result, error) {
	g, err := groupRows(len(values), groups)
	if err != nil {
		return Result{}, err
	}
	res := Result{Values: make([]Value, len(values))}
	sums := make([]ksum, g.n)
	have := make([]bool, g.n)
	for i, v := range values {
		if !res.Issues.Note(v) {
			continue
		}
		id := g.of(i)
		sums[id].add(v.F)
		have[id] = true
	}
	totals := make([]Value, g.n)
	for id := range totals {
		if have[id] {
			totals[id] = Out(sums[id].value())
		}
	}
	for i := range values {
		t := totals[g.of(i)]
		if have[g.of(i)] && !t.OK() {
			res.Issues.Overflow++
		}
		res.Values[i] = t
	}
	return res, nil
}

func checkWindow(what string, w int) error {
	if w < 1 || w > MaxWindow {
		return fmt.Errorf("%s must be between 1 and %d, got %d", what, MaxWindow, w)
	}
	return nil
}

// rolling runs a per-group Rolling window of w values over the rows and
// emits stat for every numeric row.
func rolling(values []Value, groups []string, w int, stat func(*Rolling) float64) (Result, error) {
	if err := checkWindow("window", w); err != nil {
		return Result{}, err
	}
	g, err := groupRows(len(values), groups)
	if err != nil {
		return Result{}, err
	}
	res := Result{Values: make([]Value, len(values))}
	wins := make([]*Rolling, g.n)
	for i, v := range values {
		if !res.Issues.Note(v) {
			continue
		}
		id := g.of(i)
		if wins[id] == nil {
			wins[id] = NewRolling(w)
		}
		wins[id].Push(v.F)
		emit(&res, i, stat(wins[id]))
	}
	return res, nil
}

// Smooth returns the rolling mean over the last window numeric values of
// each row's group, the row's own value included (Sumo's smooth, output
// _smooth). Until the group has window values, the mean is over the values
// so far. Rows whose value is Null or Invalid are skipped (Null output) and
// do not take a place in the window. window runs from 1 to MaxWindow.
func Smooth(values []Value, groups []string, window int) (Result, error) {
	return rolling(values, groups, window, (*Rolling).Mean)
}

// RollingStd returns the rolling sample standard deviation (divided by
// n-1) over the same window as Smooth (Sumo's rollingstd, output
// _rollingstd). A window holding a single value gives 0, as Sumo documents.
func RollingStd(values []Value, groups []string, window int) (Result, error) {
	return rolling(values, groups, window, (*Rolling).Std)
}

// Backshift returns, for each numeric row, the numeric value shift data
// points earlier in its group (Sumo's backshift, output _backshift): Null
// for the group's first shift numeric rows. Rows whose value is Null or
// Invalid are skipped (Null output) and are not counted as data points.
// shift runs from 1 to MaxWindow.
func Backshift(values []Value, groups []string, shift int) (Result, error) {
	if err := checkWindow("shift", shift); err != nil {
		return Result{}, err
	}
	g, err := groupRows(len(values), groups)
	if err != nil {
		return Result{}, err
	}
	res := Result{Values: make([]Value, len(values))}
	type ring struct {
		buf  []float64
		next int
		n    int
	}
	rings := make([]*ring, g.n)
	for i, v := range values {
		if !res.Issues.Note(v) {
			continue
		}
		id := g.of(i)
		r := rings[id]
		if r == nil {
			r = &ring{buf: make([]float64, shift)}
			rings[id] = r
		}
		// buf[next] holds the value pushed shift data points ago once the
		// ring is full.
		if r.n == shift {
			res.Values[i] = Value{F: r.buf[r.next], Kind: Number}
		} else {
			r.n++
		}
		r.buf[r.next] = v.F
		r.next = (r.next + 1) % shift
	}
	return res, nil
}
