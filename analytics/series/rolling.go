package series

import "math"

// Rolling is a window over the last n numbers pushed, giving their mean and
// sample standard deviation in O(1) per push and O(n) memory.
//
// Sums are kept as deviations from a reference value taken from the window
// and recomputed exactly every n pushes, so rounding error cannot build up
// over a long series. A window whose values are all equal reports exactly
// that value as its mean and exactly 0 as its standard deviation (callers
// rely on this to recognise a flat window without a tolerance).
type Rolling struct {
	buf    []float64
	next   int // slot of the next push
	count  int // values in the window
	ref    float64
	s1, s2 float64 // Σ(x-ref) and Σ(x-ref)² over the window
	since  int     // pushes since the last exact recompute
	run    int     // how many of the latest values equal last
	last   float64
}

// NewRolling returns an empty window of n values; n < 1 is taken as 1.
func NewRolling(n int) *Rolling {
	if n < 1 {
		n = 1
	}
	return &Rolling{buf: make([]float64, n)}
}

// Cap returns the window size.
func (r *Rolling) Cap() int { return len(r.buf) }

// Len returns the number of values in the window (at most Cap).
func (r *Rolling) Len() int { return r.count }

// Reset empties the window.
func (r *Rolling) Reset() {
	*r = Rolling{buf: r.buf}
}

// Push adds x, evicting the oldest value when the window is full. x must be
// finite (callers skip non-numbers before pushing).
func (r *Rolling) Push(x float64) {
	if r.count == 0 {
		r.ref, r.s1, r.s2 = x, 0, 0
	}
	if r.count == len(r.buf) {
		d := r.buf[r.next] - r.ref
		r.s1 -= d
		r.s2 -= d * d
	} else {
		r.count++
	}
	r.buf[r.next] = x
	r.next++
	if r.next == len(r.buf) {
		r.next = 0
	}
	d := x - r.ref
	r.s1 += d
	r.s2 += d * d
	if r.count > 1 && x == r.last {
		if r.run < len(r.buf) {
			r.run++
		}
	} else {
		r.run = 1
	}
	r.last = x
	r.since++
	if r.since >= len(r.buf) || r.lossy() {
		r.recompute()
	}
}

// maxLoss bounds the cancellation in s2 - s1²/n: when the raw sum of
// squares exceeds the centred one by this factor (the window moved far from
// the reference, or a large value left it), the sums are rebuilt.
const maxLoss = 1e4

func (r *Rolling) lossy() bool {
	if math.IsNaN(r.s2) || math.IsInf(r.s2, 0) || math.IsInf(r.s1, 0) {
		return true
	}
	if r.count < 2 || r.Flat() {
		return false
	}
	m2 := r.s2 - r.s1*r.s1/float64(r.count)
	return m2 <= 0 || r.s2 > maxLoss*m2
}

// recompute rebuilds the sums exactly around the window's mean.
func (r *Rolling) recompute() {
	// Until the window first fills, the values sit in buf[0:count]; after,
	// they fill buf. Either way they are buf[0:count].
	var sum float64
	for _, x := range r.buf[:r.count] {
		sum += x
	}
	r.ref = sum / float64(r.count)
	if math.IsInf(r.ref, 0) || math.IsNaN(r.ref) {
		r.ref = r.last
	}
	r.s1, r.s2 = 0, 0
	for _, x := range r.buf[:r.count] {
		d := x - r.ref
		r.s1 += d
		r.s2 += d * d
	}
	r.since = 0
}

// Flat reports whether the window is non-empty and all its values are equal.
func (r *Rolling) Flat() bool { return r.count > 0 && r.run >= r.count }

// Mean returns the mean of the window (0 when empty). The result may be
// ±Inf for values near the float64 limits; callers pass it through Out.
func (r *Rolling) Mean() float64 {
	if r.count == 0 {
		return 0
	}
	if r.Flat() {
		return r.last
	}
	return r.ref + r.s1/float64(r.count)
}

// Var returns the sample variance (divided by n-1) of the window: 0 for
// fewer than two values or a flat window, never negative.
func (r *Rolling) Var() float64 {
	if r.count < 2 || r.Flat() {
		return 0
	}
	n := float64(r.count)
	v := (r.s2 - r.s1*r.s1/n) / (n - 1)
	if v < 0 {
		return 0
	}
	return v
}

// Std returns the sample standard deviation of the window (see Var).
func (r *Rolling) Std() float64 { return math.Sqrt(r.Var()) }
