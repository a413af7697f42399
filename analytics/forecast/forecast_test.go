package forecast

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dohyo/dohyo/analytics/series"
)

const minute = int64(60_000)

func line(n int, a, b float64) []series.Point {
	out := make([]series.Point, n)
	for i := range out {
		out[i] = series.Point{T: int64(i) * minute, V: series.Num(a + b*float64(i))}
	}
	return out
}

func near(v series.Value, f float64) bool {
	return v.OK() && math.Abs(v.F-f) <= 1e-9*math.Max(1, math.Abs(f))
}

func checkFinite(t *testing.T, r *Result) {
	t.Helper()
	for _, ps := range [][]Point{r.Points, r.Future} {
		for i, p := range ps {
			for _, v := range []series.Value{p.Predicted, p.Error, p.Linear} {
				if v.Kind == series.Invalid || (v.OK() && (math.IsNaN(v.F) || math.IsInf(v.F, 0))) {
					t.Fatalf("point %d: non-finite output %+v", i, p)
				}
			}
		}
	}
	for _, c := range r.Coefficients {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			t.Fatalf("coefficient %v", c)
		}
	}
}

func TestLinear(t *testing.T) {
	in := line(10, 5, 2)
	in[3].V = series.Num(in[3].V.F + 1) // actual off the line by +1 (the line moves a little)
	r, err := Predict(in, Options{Step: minute})
	if err != nil {
		t.Fatal(err)
	}
	checkFinite(t, r)
	// Exact least squares with one point raised by 1: slope and intercept.
	// x̄ = 4.5, Σ(x-x̄)² = 82.5; the bump adds (3-4.5)·1/82.5 to the slope.
	wantB := 2 + (3-4.5)/82.5
	wantA := 5 + 0.1 - wantB*4.5 + 2*4.5
	if math.Abs(r.Slope-wantB) > 1e-12 || math.Abs(r.Intercept-wantA) > 1e-12 {
		t.Errorf("fit a=%v b=%v, want %v %v", r.Intercept, r.Slope, wantA, wantB)
	}
	for i, p := range r.Points {
		want := wantA + wantB*float64(i)
		if p.T != in[i].T || !near(p.Predicted, want) || !near(p.Error, want-in[i].V.F) || p.Linear.OK() {
			t.Errorf("point %d: %+v, want predicted %v", i, p, want)
		}
	}
	if len(r.Future) != DefaultForecast {
		t.Fatalf("%d future points", len(r.Future))
	}
	for h, p := range r.Future {
		k := 10 + h
		if p.T != int64(k)*minute || !near(p.Predicted, wantA+wantB*float64(k)) || p.Error.OK() {
			t.Errorf("future %d: %+v", h, p)
		}
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings %v", r.Warnings)
	}
}

func TestEdgeCases(t *testing.T) {
	// Empty: nothing to say, no error.
	r, err := Predict(nil, Options{Step: minute, Model: AR})
	if err != nil || len(r.Points) != 0 || len(r.Future) != 0 {
		t.Errorf("empty: %v %+v", err, r)
	}
	// One point: a flat line through it.
	for _, m := range []Model{Linear, AR} {
		r, err = Predict([]series.Point{{T: 5 * minute, V: series.Num(7)}}, Options{Step: minute, Model: m, Forecast: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !near(r.Points[0].Predicted, 7) || !near(r.Points[0].Error, 0) || !near(r.Future[1].Predicted, 7) || r.Future[1].T != 7*minute {
			t.Errorf("%v single point: %+v %+v", m, r.Points, r.Future)
		}
		if m == AR && !hasWarning(r, "only 1 slice, too few for an AR model") {
			t.Errorf("single point AR warnings: %v", r.Warnings)
		}
	}
	// Constant series: AR finds nothing to model and equals the line.
	r, err = Predict(line(200, 3, 0), Options{Step: minute, Model: AR})
	if err != nil {
		t.Fatal(err)
	}
	if r.Order != 0 || !near(r.Future[0].Predicted, 3) || !near(r.Points[0].Predicted, 3) || !hasWarning(r, "no auto-regressive structure") {
		t.Errorf("constant: order %d %+v %v", r.Order, r.Future, r.Warnings)
	}
	// All null: zeros with a warning.
	in := line(5, 0, 0)
	for i := range in {
		in[i].V = series.Value{}
	}
	r, err = Predict(in, Options{Step: minute})
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.Future[0].Predicted, 0) || r.Points[0].Error.OK() || !hasWarning(r, "5 empty or non-numeric values treated as 0") {
		t.Errorf("all null: %+v %v", r.Points[0], r.Warnings)
	}
	checkFinite(t, r)
	// NaN/Inf inputs are non-numbers: treated as 0, counted.
	in = line(6, 1, 1)
	in[2].V = series.Num(math.NaN())
	in[4].V = series.Num(math.Inf(1))
	r, _ = Predict(in, Options{Step: minute, Model: AR})
	if r.Issues.Invalid != 2 {
		t.Errorf("issues %+v", r.Issues)
	}
	checkFinite(t, r)
}

func TestGrid(t *testing.T) {
	// Unsorted input with a gap: the gap is a phantom 0.
	in := []series.Point{
		{T: 3 * minute, V: series.Num(3)},
		{T: 0, V: series.Num(0)},
		{T: 1 * minute, V: series.Num(1)},
		{T: 4*minute + 20_000, V: series.Num(4)}, // 20s late: nearest slice is 4
	}
	r, err := Predict(in, Options{Step: minute, Forecast: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Slices != 5 || r.Filled != 1 || !hasWarning(r, "1 missing timeslice treated as 0") {
		t.Errorf("slices %d filled %d warnings %v", r.Slices, r.Filled, r.Warnings)
	}
	// y = 0 1 0 3 4 over 0..4: mean 1.6, slope Σdx·dy/Σdx² = 10/10 = 1,
	// intercept 1.6 - 1·2 = -0.4.
	if math.Abs(r.Slope-1) > 1e-12 || math.Abs(r.Intercept+0.4) > 1e-12 {
		t.Errorf("fit %v %v", r.Intercept, r.Slope)
	}
	if r.Points[0].T != 3*minute || !near(r.Points[0].Predicted, -0.4+3) || !near(r.Points[0].Error, -0.4+3-3) {
		t.Errorf("outputs follow input order: %+v", r.Points[0])
	}
	if r.Future[0].T != 5*minute || !near(r.Future[0].Predicted, -0.4+5) {
		t.Errorf("future %+v", r.Future[0])
	}
	// 23- and 25-hour "days" still land one slice apart.
	day := 24 * 60 * minute
	in = []series.Point{{T: 0, V: series.Num(1)}, {T: day - 60*minute, V: series.Num(2)}, {T: 2*day - 60*minute + 60*minute, V: series.Num(3)}}
	r, err = Predict(in, Options{Step: day})
	if err != nil || r.Slices != 3 || r.Filled != 0 {
		t.Errorf("DST days: %v %+v", err, r)
	}
}

func TestErrors(t *testing.T) {
	ok := line(300, 1, 1)
	cases := []struct {
		in   []series.Point
		o    Options
		want string
	}{
		{ok, Options{}, "slice width must be positive"},
		{ok, Options{Step: minute, Forecast: 101}, "forecast must be between 1 and 100"},
		{ok, Options{Step: minute, Forecast: -1}, "forecast must be between"},
		{ok, Options{Step: minute, ARWindow: 5}, "ar.window needs model=ar"},
		{ok, Options{Step: minute, Model: AR, ARWindow: 151}, "more than half of the 300 slices"},
		{ok, Options{Step: minute, Model: AR, ARWindow: -2}, "ar.window must be positive"},
		{ok[:1], Options{Step: minute, Model: AR, ARWindow: 1}, "ar.window=1 needs at least 2 slices, the series has 1"},
		{ok, Options{Step: minute, Model: 9}, "unknown model"},
		{line(MaxInputPoints+1, 0, 1), Options{Step: minute}, "limit is 10000"},
		{[]series.Point{{T: 0}, {T: int64(MaxGridPoints) * minute}}, Options{Step: minute}, "more than 20000 slices"},
		{[]series.Point{{T: 0}, {T: 10_000}}, Options{Step: minute}, "two points in one 60000ms slice"},
		{[]series.Point{{T: math.MinInt64}, {T: math.MaxInt64}}, Options{Step: minute}, "more than 20000 slices"},
	}
	for _, c := range cases {
		_, err := Predict(c.in, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.o, err, c.want)
		}
	}
	// The widest allowed grid works.
	if _, err := Predict([]series.Point{{T: 0}, {T: int64(MaxGridPoints-1) * minute}}, Options{Step: minute, Model: AR}); err != nil {
		t.Error(err)
	}
	// Extreme times with a huge step do not overflow into a panic.
	if _, err := Predict([]series.Point{{T: math.MinInt64}, {T: math.MaxInt64}}, Options{Step: math.MaxInt64}); err != nil {
		t.Error(err)
	}
	if _, err := ParseModel("arima"); err == nil {
		t.Error("arima accepted")
	}
	if m, _ := ParseModel("AR"); m != AR {
		t.Error("AR not parsed")
	}
}

func TestForecastPoints(t *testing.T) {
	cases := []struct {
		d, step int64
		want    int
		err     bool
	}{
		{30 * minute, 5 * minute, 6, false},
		{31 * minute, 5 * minute, 7, false},
		{minute, 5 * minute, 1, false},
		{101 * minute, minute, 0, true},
		{0, minute, 0, true},
		{minute, 0, 0, true},
	}
	for _, c := range cases {
		got, err := ForecastPoints(c.d, c.step)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("ForecastPoints(%d, %d) = %d, %v", c.d, c.step, got, err)
		}
	}
}

// TestAR checks the AR model on an AR(2) process around a constant,
// r[k] = 1.6 r[k-1] - 0.8 r[k-2] + e[k], e ~ N(0, 1).
func TestAR(t *testing.T) {
	const n = 400
	in := make([]series.Point, n)
	r := make([]float64, n)
	rng := rand.New(rand.NewPCG(4, 2))
	for k := 2; k < n; k++ {
		r[k] = 1.6*r[k-1] - 0.8*r[k-2] + rng.NormFloat64()
	}
	for k := range in {
		in[k] = series.Point{T: int64(k) * minute, V: series.Num(100 + r[k])}
	}
	res, err := Predict(in, Options{Step: minute, Model: AR, ARWindow: 2, Forecast: 5})
	if err != nil {
		t.Fatal(err)
	}
	checkFinite(t, res)
	if res.Order != 2 || math.Abs(res.Coefficients[0]-1.6) > 0.1 || math.Abs(res.Coefficients[1]+0.8) > 0.1 {
		t.Errorf("coefficients %v", res.Coefficients)
	}
	// The first p slices have no prediction; later ones do, with Linear.
	for k := 0; k < 2; k++ {
		if p := res.Points[k]; p.Predicted.OK() || p.Error.OK() || !p.Linear.OK() {
			t.Errorf("point %d: %+v", k, p)
		}
	}
	// One-step predictions follow the series far better than the line does
	// (the process's standard deviation is about 4.5, its innovations' 1).
	var arErr, linErr float64
	for k := 2; k < n; k++ {
		p := res.Points[k]
		arErr += math.Abs(p.Error.F)
		linErr += math.Abs(p.Linear.F - in[k].V.F)
	}
	if arErr > linErr/2.5 {
		t.Errorf("AR in-sample error %.1f vs linear %.1f", arErr, linErr)
	}
	for _, f := range res.Future {
		if !f.Predicted.OK() || !f.Linear.OK() || f.Error.OK() {
			t.Errorf("future %+v", f)
		}
	}
	// Automatic order on the same series finds at least the two lags.
	res, err = Predict(in, Options{Step: minute, Model: AR})
	if err != nil {
		t.Fatal(err)
	}
	if res.Order < 2 {
		t.Errorf("auto order %d", res.Order)
	}
	if hasWarning(res, "may not be optimal") {
		t.Errorf("warning with %d points: %v", n, res.Warnings)
	}
	res, _ = Predict(in[:50], Options{Step: minute, Model: AR})
	if !hasWarning(res, "trained on 50 slices") {
		t.Errorf("no small-sample warning: %v", res.Warnings)
	}
}

func hasWarning(r *Result, s string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}
