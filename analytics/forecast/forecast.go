// Package forecast is the algorithm behind the query language's predict
// operator (spec §10.3):
//
//	| predict <f> by <N><unit> [model=linear|ar, ar.window=<n>, forecast=<n | N<unit>>]
//
// Predict takes one series of (timeslice, value) points and the slice
// width, fits a model and returns, for every input point, the fields the
// operator writes as <f>_predicted, <f>_error and (model=ar) <f>_linear,
// plus the forecast points that extend the series past its last slice.
//
// # The series
//
// The points are placed on a regular grid of the given step starting at
// the earliest point: a point belongs to the slice nearest its time
// (timeslices of a day across a daylight-saving change, 23 or 25 hours
// long, still land one slice apart). Slices with no point are "phantom"
// points with the value 0, and so are points whose value is Null or not a
// number; Sumo does the same and warns, and so do we (Result.Warnings): use
// fillmissing first to choose other values. Two points in one slice are an
// error (aggregate by _timeslice first). Limits, as errors: at most
// MaxInputPoints points, at most MaxGridPoints slices from first to last,
// forecast at most MaxForecast points.
//
// # Linear model (the default)
//
// Least squares y = a + b·k over the slice index k. Predicted is a + b·k
// for every input point and the forecast continues the line. Error is
// Predicted - actual (Sumo's sign), Null where the input value was not a
// number.
//
// # Auto-regressive model
//
// The linear trend above is fitted first and reported as Linear; the
// residuals r = y - linear (mean zero: the de-meaned, de-trended series) are
// modelled as AR(p):
//
//	r[k] = φ1·r[k-1] + ... + φp·r[k-p] + noise
//
// fitted by Burg's method: the Levinson–Durbin recursion with each order's
// reflection coefficient chosen to minimise the sum of squared forward and
// backward one-step prediction errors (a least-squares fit constrained to
// keep the model stable, so forecasts never blow up). Yule–Walker, the same
// recursion fed with the sample autocovariances, is kept for comparison: on
// seasonal series it shrinks the cycle (its autocovariances are tapered by
// (n-lag)/n) and forecasts markedly worse (see the evaluation in
// eval_test.go). Predicted is the one-step-ahead prediction Linear[k] +
// Σ φi·r[k-i] for k >= p and Null for the first p slices (there are no p
// earlier values: Sumo's AR model has no predictions in its first window
// either). The forecast applies the recursion to its own predictions.
// Error is AR Predicted - actual. (Sumo's documentation describes the AR
// model's _error as the linear prediction minus the actual value; that
// reads as a copy-paste slip, and an error column that ignores the model it
// sits next to would mislead, so [our choice] it is the AR model's.)
//
// ar.window is the order p, the number of preceding slices a prediction is
// based on (Sumo: "the number of consecutive data points on which to base
// the prediction"); it must be at most half the slices, Sumo's stated
// maximum. Without it the order is chosen automatically: the p from 0 to
// min(slices/2, MaxAutoOrder) that minimises Akaike's information criterion
// n·ln(σ²_p) + 2p, σ²_p being the recursion's prediction error variance. The
// recursion gives every order's σ² in one pass, so the search costs no more
// than fitting the largest order: O(slices · max order), about 50 ms for
// 10,000 slices on one core (an explicit ar.window of 48: 2 ms). A daily
// cycle of hourly slices is lag 24, of 5-minute slices lag 288, of 1-minute
// slices lag 1440: all within reach, so seasonal series get a seasonal
// model. With fewer than 100
// slices the result carries Sumo's warning that the model may not be
// optimal; with fewer than 4 slices (or a series that is exactly linear)
// there is nothing to fit and the AR model is the linear one.
package forecast

import (
	"fmt"
	"math"
	"strings"

	"github.com/dohyo/dohyo/analytics/series"
)

// Defaults and limits.
const (
	DefaultForecast = 3
	MaxForecast     = 100
	// MaxInputPoints is the most points predict accepts for one series.
	MaxInputPoints = 10_000
	// MaxGridPoints is the most slices from the first point to the last,
	// phantom slices included.
	MaxGridPoints = 20_000
	// MaxAutoOrder caps the automatic AR order: a day of 1-minute slices.
	MaxAutoOrder = 1440
	// ARAdvisedPoints is the number of slices below which the AR model
	// comes with a warning.
	ARAdvisedPoints = 100
	// minARPoints is the number of slices below which no AR term is fitted.
	minARPoints = 4
)

// Model is the kind of model predict fits.
type Model uint8

// Models, as written in the query (model=linear, model=ar).
const (
	Linear Model = iota
	AR
)

// ParseModel reads "linear" or "ar" (any case).
func ParseModel(s string) (Model, error) {
	switch strings.ToLower(s) {
	case "linear", "":
		return Linear, nil
	case "ar":
		return AR, nil
	}
	return Linear, fmt.Errorf("predict: unknown model %q: use linear or ar", s)
}

// String returns the model's name in the query language.
func (m Model) String() string {
	if m == AR {
		return "ar"
	}
	return "linear"
}

// Options are the operator's parameters.
type Options struct {
	Model Model
	// Step is the slice width in milliseconds (the "by <N><unit>").
	Step int64
	// Forecast is the number of points to predict past the last slice:
	// 0 means DefaultForecast; at most MaxForecast. ForecastPoints turns
	// "forecast=30m" into points.
	Forecast int
	// ARWindow is the AR order p; 0 chooses it automatically.
	ARWindow int

	method arMethod // the AR estimator; tests compare Yule–Walker with it
}

// ForecastPoints converts a forecast given as a duration (forecast=30m) into
// a number of slices of width step, rounding up.
func ForecastPoints(durationMillis, step int64) (int, error) {
	if step <= 0 {
		return 0, fmt.Errorf("predict: the slice width must be positive")
	}
	if durationMillis <= 0 {
		return 0, fmt.Errorf("predict: the forecast must be positive")
	}
	n := durationMillis / step
	if durationMillis%step != 0 {
		n++
	}
	if n > MaxForecast {
		return 0, fmt.Errorf("predict: a forecast of %dms is %d slices of %dms; at most %d can be forecast", durationMillis, n, step, MaxForecast)
	}
	return int(n), nil
}

// Point is the outcome for one slice: an input point or a forecast point.
type Point struct {
	T int64
	// Predicted is the model's value for the slice.
	Predicted series.Value
	// Error is Predicted minus the actual value (input points only).
	Error series.Value
	// Linear is the linear model's value (model=ar only).
	Linear series.Value
}

// Result is the outcome for one series.
type Result struct {
	// Points[i] belongs to the i-th input point.
	Points []Point
	// Future holds the forecast, one slice apart after the last slice.
	Future []Point
	// Intercept and Slope describe the linear model: the value at the first
	// slice and the change per slice.
	Intercept, Slope float64
	// Order and Coefficients describe the AR model (Order 0: none).
	Order        int
	Coefficients []float64
	// Slices is the length of the grid the model was fitted on; Filled the
	// number of its slices without an input point (treated as 0).
	Slices, Filled int
	// Issues counts input values that were Null or not numbers (treated as
	// 0) and outputs that overflowed.
	Issues series.Issues
	// Warnings are the messages the operator should show.
	Warnings []string
}

// Predict fits the model to one series and forecasts it. points need not be
// sorted.
func Predict(points []series.Point, o Options) (*Result, error) {
	if o.Step <= 0 {
		return nil, fmt.Errorf("predict: the slice width must be positive, got %dms", o.Step)
	}
	if o.Forecast == 0 {
		o.Forecast = DefaultForecast
	}
	if o.Forecast < 0 || o.Forecast > MaxForecast {
		return nil, fmt.Errorf("predict: forecast must be between 1 and %d points, got %d", MaxForecast, o.Forecast)
	}
	if o.Model > AR {
		return nil, fmt.Errorf("predict: unknown model %d", o.Model)
	}
	if o.ARWindow < 0 {
		return nil, fmt.Errorf("predict: ar.window must be positive, got %d", o.ARWindow)
	}
	if o.ARWindow > 0 && o.Model != AR {
		return nil, fmt.Errorf("predict: ar.window needs model=ar")
	}
	if len(points) > MaxInputPoints {
		return nil, fmt.Errorf("predict: %d points in one series, the limit is %d: use a wider timeslice or a shorter range", len(points), MaxInputPoints)
	}
	res := &Result{Points: make([]Point, len(points))}
	if len(points) == 0 {
		return res, nil
	}

	// Place the points on the grid.
	t0 := points[0].T
	for _, p := range points {
		t0 = min(t0, p.T)
	}
	cells := make([]int, len(points))
	n := 0
	step := uint64(o.Step)
	for i, p := range points {
		d := uint64(p.T) - uint64(t0) // exact even when p.T-t0 overflows int64
		c, rem := d/step, d%step
		if rem >= step-rem {
			c++ // nearest slice, halves up
		}
		if c >= MaxGridPoints {
			return nil, fmt.Errorf("predict: the points span more than %d slices of %dms (phantom slices included): use a wider slice or a shorter range", MaxGridPoints, o.Step)
		}
		cells[i] = int(c)
		n = max(n, int(c)+1)
	}
	y := make([]float64, n)
	owner := make([]int, n)
	for c := range owner {
		owner[c] = -1
	}
	for i, p := range points {
		c := cells[i]
		if owner[c] >= 0 {
			a, b := points[owner[c]].T, p.T
			return nil, fmt.Errorf("predict: two points in one %dms slice (at %d and %d): predict needs one value per slice, aggregate by _timeslice first", o.Step, min(a, b), max(a, b))
		}
		owner[c] = i
		if res.Issues.Note(p.V) {
			y[c] = p.V.F
		}
	}
	res.Slices = n
	for _, i := range owner {
		if i < 0 {
			res.Filled++
		}
	}

	// Fit.
	lin := make([]float64, n+o.Forecast)
	res.Intercept, res.Slope = fitLine(y)
	for k := range lin {
		lin[k] = res.Intercept + res.Slope*float64(k)
	}
	pred := lin // the linear model's predictions, in sample and ahead
	first := 0  // first slice with a prediction
	if o.Model == AR {
		r := make([]float64, n+o.Forecast)
		for k := 0; k < n; k++ {
			r[k] = y[k] - lin[k]
		}
		p := o.ARWindow
		if p > 0 && p > n/2 {
			if n/2 == 0 {
				return nil, fmt.Errorf("predict: ar.window=%d needs at least %d slices, the series has %d", p, 2*p, n)
			}
			return nil, fmt.Errorf("predict: ar.window=%d is more than half of the %d slices of the series; use at most %d", p, n, n/2)
		}
		phi := fitAR(r[:n], p, o.method)
		res.Order, res.Coefficients = len(phi), phi
		pred = make([]float64, n+o.Forecast)
		for k := range pred {
			if k < len(phi) {
				pred[k] = math.NaN()
				continue
			}
			var s float64
			for j, f := range phi {
				s += f * r[k-1-j]
			}
			if k >= n {
				r[k] = s // the forecast feeds on its own predictions
			}
			pred[k] = lin[k] + s
		}
		first = len(phi)
		if n < ARAdvisedPoints {
			res.Warnings = append(res.Warnings, fmt.Sprintf("predict: the AR model was trained on %d slices; with fewer than %d the model may not be optimal", n, ARAdvisedPoints))
		}
		switch {
		case len(phi) > 0:
		case n < minARPoints:
			res.Warnings = append(res.Warnings, fmt.Sprintf("predict: only %d %s, too few for an AR model; the linear model is used", n, plural(n, "slice", "slices")))
		default:
			res.Warnings = append(res.Warnings, "predict: no auto-regressive structure found; the AR model is the linear one")
		}
	}

	for i, p := range points {
		c := cells[i]
		out := &res.Points[i]
		out.T = p.T
		if c >= first {
			out.Predicted = res.value(pred[c])
			if out.Predicted.OK() && p.V.OK() {
				out.Error = res.value(pred[c] - p.V.F)
			}
		}
		if o.Model == AR {
			out.Linear = res.value(lin[c])
		}
	}
	res.Future = make([]Point, o.Forecast)
	for h := range res.Future {
		k := n + h
		f := &res.Future[h]
		f.T = t0 + int64(k)*o.Step
		f.Predicted = res.value(pred[k])
		if o.Model == AR {
			f.Linear = res.value(lin[k])
		}
	}

	if res.Filled > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("predict: %d missing %s treated as 0; use fillmissing to choose their values", res.Filled, plural(res.Filled, "timeslice", "timeslices")))
	}
	if bad := res.Issues.Null + res.Issues.Invalid; bad > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("predict: %d empty or non-numeric %s treated as 0", bad, plural(bad, "value", "values")))
	}
	if res.Issues.Overflow > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("predict: %d %s out of the range of a double, left empty", res.Issues.Overflow, plural(res.Issues.Overflow, "result", "results")))
	}
	return res, nil
}

// value turns a computed float into an output (Null for NaN, which marks
// "no prediction", and for overflows, which are counted).
func (r *Result) value(f float64) series.Value {
	if math.IsNaN(f) {
		return series.Value{}
	}
	v := series.Out(f)
	if !v.OK() {
		r.Issues.Overflow++
	}
	return v
}

// fitLine returns the least-squares intercept and slope of y over 0..n-1.
func fitLine(y []float64) (a, b float64) {
	n := float64(len(y))
	if len(y) == 0 {
		return 0, 0
	}
	var my float64
	for _, v := range y {
		my += v
	}
	my /= n
	if len(y) == 1 {
		return my, 0
	}
	mx := (n - 1) / 2
	var sxy, sxx float64
	for k, v := range y {
		dx := float64(k) - mx
		sxy += dx * (v - my)
		sxx += dx * dx
	}
	b = sxy / sxx
	return my - b*mx, b
}

// arMethod is how the reflection coefficients of the AR recursion are
// estimated.
type arMethod uint8

const (
	burg       arMethod = iota // from forward and backward prediction errors (the default)
	yuleWalker                 // from the biased autocovariances (for comparison in tests)
)

// fitAR fits AR coefficients to the (mean-zero) residuals r: order p when
// p > 0, else the order minimising AIC up to min(len(r)/2, MaxAutoOrder).
// It returns φ1..φp (possibly none). Both methods run the Levinson–Durbin
// recursion, differing only in how each order's reflection coefficient κ
// is estimated; both keep |κ| < 1, so the model is stable.
func fitAR(r []float64, p int, method arMethod) []float64 {
	n := len(r)
	if n < minARPoints {
		return nil
	}
	maxP := p
	if maxP == 0 {
		maxP = min(n/2, MaxAutoOrder)
	}
	var c0, scale float64
	for _, v := range r {
		c0 += v * v
		scale = max(scale, math.Abs(v))
	}
	c0 /= float64(n)
	if !(c0 > 1e-24*scale*scale) || math.IsInf(c0, 0) {
		return nil // a flat residual (exactly linear series) or overflow
	}
	var c, f, b []float64
	var num, den float64 // Burg: the sums giving the next κ
	switch method {
	case yuleWalker:
		// Biased autocovariances c[0..maxP] (dividing by n keeps the
		// Toeplitz matrix positive definite).
		c = make([]float64, maxP+1)
		c[0] = c0
		for lag := 1; lag <= maxP; lag++ {
			var s float64
			for k := lag; k < n; k++ {
				s += r[k] * r[k-lag]
			}
			c[lag] = s / float64(n)
		}
	case burg:
		// f[k] and b[k] are the forward and backward prediction errors of
		// the current order at slice k.
		f = append([]float64(nil), r...)
		b = append([]float64(nil), r...)
	}
	phi := make([]float64, maxP) // the order-m coefficients φ1..φm
	tmp := make([]float64, maxP)
	sigma2 := c0
	best := []float64{}
	bestAIC := float64(n) * math.Log(sigma2)
	order := 0 // the order phi holds
	for m := 1; m <= maxP; m++ {
		var kappa float64
		switch method {
		case yuleWalker:
			acc := c[m]
			for j := 1; j < m; j++ {
				acc -= phi[j-1] * c[m-j]
			}
			kappa = acc / sigma2
		case burg:
			if m == 1 {
				num, den = 0, 0
				for k := 1; k < n; k++ {
					num += f[k] * b[k-1]
					den += f[k]*f[k] + b[k-1]*b[k-1]
				}
			}
			kappa = 2 * num / den
		}
		if !(math.Abs(kappa) < 1) {
			break // numerically singular: stop at the last stable order
		}
		copy(tmp, phi[:m-1])
		for j := 1; j < m; j++ {
			phi[j-1] = tmp[j-1] - kappa*tmp[m-j-1]
		}
		phi[m-1] = kappa
		order = m
		if method == burg {
			// Update the errors to order m and, in the same pass, sum the
			// products order m+1 needs: f[k]·b[k-1] for k from m+1 (going
			// down, b[k-1] is new once f[k] is).
			num, den = 0, 0
			for k := n - 1; k >= m; k-- {
				fk := f[k]
				f[k] = fk - kappa*b[k-1]
				b[k] = b[k-1] - kappa*fk
				if k+1 < n {
					num += f[k+1] * b[k]
					den += f[k+1]*f[k+1] + b[k]*b[k]
				}
			}
		}
		sigma2 *= 1 - kappa*kappa
		if !(sigma2 > 0) {
			// A perfect fit: no higher order can improve on it.
			if p == 0 {
				best = append(best[:0], phi[:m]...)
			}
			break
		}
		if p > 0 {
			continue
		}
		if aic := float64(n)*math.Log(sigma2) + 2*float64(m); aic < bestAIC {
			bestAIC = aic
			best = append(best[:0], phi[:m]...)
		}
	}
	if p > 0 {
		// Order p, or the highest stable order below it if the recursion
		// had to stop early.
		return append([]float64(nil), phi[:order]...)
	}
	return best
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
