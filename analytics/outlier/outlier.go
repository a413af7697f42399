// Package outlier is the algorithm behind the query language's outlier
// operator (spec §10.2):
//
//	| outlier <f> [by <k>...] [window=<n>, threshold=<t>, consecutive=<c>, direction=<+-|+|->]
//
// Detect takes one series (one group of the operator's "by"; the operator
// calls it once per group) of (timeslice, value) points and returns, for
// every point, the fields the operator writes as <f>_error, <f>_lower,
// <f>_upper, <f>_indicator, <f>_violation and <f>_std.
//
// # Semantics
//
// Points are taken in time order (stable: points with equal times keep
// their input order). For each point, the mean and the sample standard
// deviation (divided by n-1) of the numeric values of the window points
// before it — not including it — give the bounds mean ± threshold·std.
// The point is an indicator when its value is above the upper bound (for
// direction + or +-) or below the lower bound (for - or +-), strictly. It is
// a violation when it is an indicator and so were the consecutive-1
// evaluated points before it (a run of at least consecutive indicators; every
// indicator of a long run is a violation). Outputs:
//
//	Error      value - mean
//	Lower      mean - threshold·std'   (std' below)
//	Upper      mean + threshold·std'
//	Std        the window's standard deviation, std
//	Indicator  outside the bounds in the allowed direction
//	Violation  end of a run of at least consecutive indicators
//
// Decisions where Sumo's documentation is silent [our choice]:
//
//   - Warm-up. The first points have fewer than window points before them.
//     Bounds are computed from the points available once there are at least
//     MinHistory of them (default: half the window rounded up, at least 2:
//     5 for the default window of 10). Before that a point is in WarmUp: its
//     statistics are Null and it is neither an indicator nor a violation. (A
//     standard deviation from few points is so unsteady that a 3-sigma test
//     on it flags Gaussian noise often: a quarter of the points with 2
//     points of history, an eighth with 3, about 5% with 5, about 2% with
//     the full 10 — the last is the false-alarm floor of Sumo's defaults,
//     see the evaluation.)
//   - Flat windows. When the window's values are all equal the standard
//     deviation is exactly 0 and the bounds collapse onto the mean, so any
//     different value is an indicator: a series that has been perfectly flat
//     and moves is the clearest change there is (a count of failed logins
//     that goes from 0 to 1). To keep float noise from aggregates (an
//     average of 0.30000000000000004 against 0.3) from being flagged, the
//     bounds use std' = max(std, 1e-9·|mean|); Std still reports std itself,
//     so Std may be 0 (guard divisions by it, as Sumo's own example does
//     with "where _count_std > 0").
//   - Missing values. A point whose value is Null or not a number (counted
//     in Issues; Invalid ones deserve a warning) is Missing: it is not in
//     any window, has no error, is neither indicator nor violation, and does
//     not break or extend a run of indicators; it still gets the bounds its
//     preceding window gives, so a chart's band has no hole. The window
//     therefore counts data points, not timeslices: use fillmissing first to
//     treat empty slices as 0.
//   - The most recent (partial) timeslice. Sumo ignores it because its data
//     is incomplete. Options.IgnoreFrom marks the start of the partial slice
//     (the operator knows the query's end and the slice width); with
//     IgnoreLatest the series' own latest timeslice is taken instead. Such
//     points are Ignored: no outputs at all and not in any window.
//   - Bounds and errors that overflow float64 are Null, never ±Inf.
package outlier

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/dohyo/dohyo/analytics/series"
)

// Defaults and limits.
const (
	DefaultWindow      = 10
	DefaultThreshold   = 3.0
	DefaultConsecutive = 1
	// MaxWindow is the largest window accepted.
	MaxWindow = 10_000
	// MaxPoints is the largest series Detect accepts (one group). Detect is
	// linear in time and memory; the limit keeps one group's output bounded.
	MaxPoints = 100_000
	// flatFloor is the relative floor of the standard deviation used for
	// the bounds (see the package documentation).
	flatFloor = 1e-9
)

// Direction says which side of the bounds makes an indicator.
type Direction uint8

// Directions, as written in the query.
const (
	Both Direction = iota // +- (the default)
	Up                    // +: only values above the upper bound
	Down                  // -: only values below the lower bound
)

// ParseDirection reads "+-" (or "-+"), "+" or "-".
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "+-", "-+", "":
		return Both, nil
	case "+":
		return Up, nil
	case "-":
		return Down, nil
	}
	return Both, fmt.Errorf("outlier: direction must be +-, + or -, got %q", s)
}

// String returns the direction as written in a query.
func (d Direction) String() string {
	switch d {
	case Up:
		return "+"
	case Down:
		return "-"
	}
	return "+-"
}

// Options are the operator's parameters. The zero value means Sumo's
// defaults (window 10, threshold 3, consecutive 1, direction +-); a zero
// field takes its default, so the operator must reject "threshold=0" or
// "window=0" itself if it wants them to be errors rather than defaults.
type Options struct {
	Window      int       // trailing points for mean and std (2..MaxWindow)
	Threshold   float64   // number of standard deviations (> 0, finite)
	Consecutive int       // indicators in a row for a violation (>= 1)
	Direction   Direction // which deviations count
	// MinHistory is the number of preceding points needed before bounds
	// are computed (2..Window); 0 means max(2, ceil(Window/2)).
	MinHistory int
	// IgnoreFrom, when not nil, is the start of the partial timeslice:
	// points at or after it are Ignored.
	IgnoreFrom *int64
	// IgnoreLatest ignores the points at the series' latest time.
	IgnoreLatest bool
}

// withDefaults fills in defaults and validates.
func (o Options) withDefaults() (Options, error) {
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Window < 2 || o.Window > MaxWindow {
		return o, fmt.Errorf("outlier: window must be between 2 and %d, got %d", MaxWindow, o.Window)
	}
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if !(o.Threshold > 0) || math.IsInf(o.Threshold, 0) {
		return o, fmt.Errorf("outlier: threshold must be a positive number, got %v", o.Threshold)
	}
	if o.Consecutive == 0 {
		o.Consecutive = DefaultConsecutive
	}
	if o.Consecutive < 1 || o.Consecutive > MaxPoints {
		return o, fmt.Errorf("outlier: consecutive must be between 1 and %d, got %d", MaxPoints, o.Consecutive)
	}
	if o.Direction > Down {
		return o, fmt.Errorf("outlier: unknown direction %d", o.Direction)
	}
	if o.MinHistory == 0 {
		o.MinHistory = max(2, (o.Window+1)/2)
	}
	if o.MinHistory < 2 || o.MinHistory > o.Window {
		return o, fmt.Errorf("outlier: the minimum history must be between 2 and the window (%d), got %d", o.Window, o.MinHistory)
	}
	return o, nil
}

// State says how a point was treated.
type State uint8

// Point states.
const (
	// Evaluated: the point was tested against bounds from its window.
	Evaluated State = iota
	// WarmUp: fewer than MinHistory points precede it; no statistics.
	WarmUp
	// Missing: its value is Null or not a number; bounds only.
	Missing
	// Ignored: the partial timeslice; no outputs at all.
	Ignored
)

// String names the state.
func (s State) String() string {
	switch s {
	case Evaluated:
		return "evaluated"
	case WarmUp:
		return "warm-up"
	case Missing:
		return "missing"
	case Ignored:
		return "ignored"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Point is the outcome for one input point. Statistics that do not apply
// are Null; the operator writes Indicator and Violation as 1 or 0 (and may
// leave all fields out for Ignored points).
type Point struct {
	State State
	// Mean is the window's mean (the expected value; not a Sumo field).
	Mean                     series.Value
	Error, Lower, Upper, Std series.Value
	Indicator, Violation     bool
}

// Result is the outcome for a series: Points[i] belongs to the i-th input
// point.
type Result struct {
	Points []Point
	// Issues counts the Null and non-numeric input values (Missing points)
	// and the outputs that overflowed.
	Issues series.Issues
	// Evaluated, Indicators and Violations count the points in those states.
	Evaluated, Indicators, Violations int
}

// Detect runs outlier detection over one series. points need not be sorted.
func Detect(points []series.Point, opts Options) (*Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(points) > MaxPoints {
		return nil, fmt.Errorf("outlier: %d points in one series, the limit is %d: use a wider timeslice", len(points), MaxPoints)
	}
	res := &Result{Points: make([]Point, len(points))}
	if len(points) == 0 {
		return res, nil
	}
	order := make([]int, len(points))
	for i := range order {
		order[i] = i
	}
	if !slices.IsSortedFunc(points, func(a, b series.Point) int { return cmp.Compare(a.T, b.T) }) {
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(points[a].T, points[b].T) })
	}

	cutoff, cut := int64(0), false
	if o.IgnoreFrom != nil {
		cutoff, cut = *o.IgnoreFrom, true
	}
	if o.IgnoreLatest {
		latest := points[order[len(order)-1]].T
		if !cut || latest < cutoff {
			cutoff, cut = latest, true
		}
	}

	win := series.NewRolling(o.Window)
	run := 0
	for _, idx := range order {
		p := points[idx]
		out := &res.Points[idx]
		if cut && p.T >= cutoff {
			out.State = Ignored
			continue
		}
		var mean, lower, upper float64
		haveBounds := win.Len() >= o.MinHistory
		if haveBounds {
			mean = win.Mean()
			sd := win.Std()
			eff := math.Max(sd, flatFloor*math.Abs(mean))
			lower = mean - o.Threshold*eff
			upper = mean + o.Threshold*eff
			out.Mean = res.value(mean)
			out.Std = res.value(sd)
			out.Lower = res.value(lower)
			out.Upper = res.value(upper)
		}
		if !res.Issues.Note(p.V) {
			out.State = Missing
			continue
		}
		v := p.V.F
		if !haveBounds {
			out.State = WarmUp
			run = 0
			win.Push(v)
			continue
		}
		out.State = Evaluated
		res.Evaluated++
		out.Error = res.value(v - mean)
		switch o.Direction {
		case Both:
			out.Indicator = v > upper || v < lower
		case Up:
			out.Indicator = v > upper
		case Down:
			out.Indicator = v < lower
		}
		if out.Indicator {
			res.Indicators++
			run++
			if run >= o.Consecutive {
				out.Violation = true
				res.Violations++
			}
		} else {
			run = 0
		}
		win.Push(v)
	}
	return res, nil
}

// value turns a computed statistic into an output, counting overflows.
func (r *Result) value(f float64) series.Value {
	v := series.Out(f)
	if !v.OK() {
		r.Issues.Overflow++
	}
	return v
}
