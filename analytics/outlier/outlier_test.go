package outlier

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dohyo/dohyo/analytics/series"
)

const minute = int64(60_000)

// pts builds a series one minute apart from "n" (Null), "x" (Invalid) and
// numbers.
func pts(spec string) []series.Point {
	var out []series.Point
	for i, f := range strings.Fields(spec) {
		p := series.Point{T: int64(i) * minute}
		switch f {
		case "n":
		case "x":
			p.V = series.Value{Kind: series.Invalid}
		default:
			p.V = series.Parse(f)
		}
		out = append(out, p)
	}
	return out
}

// flags renders each point as one letter: w warm-up, . evaluated, i
// indicator, V violation, m missing, - ignored.
func flags(r *Result) string {
	var b strings.Builder
	for _, p := range r.Points {
		switch {
		case p.State == WarmUp:
			b.WriteByte('w')
		case p.State == Missing:
			b.WriteByte('m')
		case p.State == Ignored:
			b.WriteByte('-')
		case p.Violation:
			b.WriteByte('V')
		case p.Indicator:
			b.WriteByte('i')
		default:
			b.WriteByte('.')
		}
	}
	return b.String()
}

func TestDetectSemantics(t *testing.T) {
	ptr := func(v int64) *int64 { return &v }
	cases := []struct {
		name string
		in   string
		opts Options
		want string
	}{
		{"defaults warm up for 5 points", "10 11 10 11 10 11 10 11 10 11 10 40", Options{}, "wwwww......V"},
		{"window 3 warms up for 2", "10 12 11 50 11 12", Options{Window: 3}, "ww.V.."},
		{"min history = window", "10 12 11 50 11 12", Options{Window: 3, MinHistory: 3}, "wwwV.."},
		{"downward spike, both", "10 11 10 11 10 11 -30 10", Options{Window: 5}, "www...V."},
		{"downward spike, direction +", "10 11 10 11 10 11 -30 10", Options{Window: 5, Direction: Up}, "www....."},
		{"downward spike, direction -", "10 11 10 11 10 11 -30 10", Options{Window: 5, Direction: Down}, "www...V."},
		{"upward spike, direction -", "10 11 10 11 10 11 60 10", Options{Window: 5, Direction: Down}, "www....."},
		{"consecutive 2 on a ramp", "10 10 10 10 10 100 300", Options{Window: 5, Consecutive: 2}, "www..iV"},
		{"consecutive 2 resets", "10 10 10 10 10 100 10 10 10 10 10 10 10 10 10 10 100 300", Options{Window: 5, Consecutive: 2},
			"www..i..........iV"},
		{"flat window: any change is an indicator", "5 5 5 5 5 5 6", Options{}, "wwwww.V"},
		{"flat window of zeros", "0 0 0 0 0 0 0 1", Options{}, "wwwww..V"},
		{"float noise on a flat window is not", "0.3 0.3 0.3 0.3 0.3 0.30000000000000004", Options{Window: 4}, "ww...."},
		{"missing points are transparent", "10 11 n 10 11 x 10 11 10 40", Options{Window: 5}, "wwmw.m...V"},
		{"missing point does not break a run", "10 10 10 10 10 100 n 300", Options{Window: 5, Consecutive: 2}, "www..imV"},
		{"ignore latest", "10 11 10 11 10 11 10 40", Options{Window: 5, IgnoreLatest: true}, "www....-"},
		{"ignore from", "10 11 10 11 10 11 10 40", Options{Window: 5, IgnoreFrom: ptr(6 * minute)}, "www...--"},
		{"all null", "n n n", Options{}, "mmm"},
		{"single point", "7", Options{}, "w"},
		{"empty", "", Options{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Detect(pts(c.in), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := flags(r); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			checkFinite(t, r)
		})
	}
}

func TestDetectValues(t *testing.T) {
	r, err := Detect(pts("10 12 11 50 n"), Options{Window: 3})
	if err != nil {
		t.Fatal(err)
	}
	p := r.Points[3] // window 10 12 11: mean 11, std 1
	if !near(p.Mean, 11) || !near(p.Std, 1) || !near(p.Lower, 8) || !near(p.Upper, 14) || !near(p.Error, 39) || !p.Violation {
		t.Errorf("point 3: %+v", p)
	}
	p = r.Points[2] // window 10 12: mean 11, std √2
	if !near(p.Error, 0) || !near(p.Upper, 11+3*math.Sqrt2) || p.Indicator {
		t.Errorf("point 2: %+v", p)
	}
	p = r.Points[4] // missing: bounds from 12 11 50, no error
	if p.State != Missing || p.Error.OK() || !near(p.Mean, 73.0/3) || p.Indicator {
		t.Errorf("point 4: %+v", p)
	}
	for _, i := range []int{0, 1} {
		if p := r.Points[i]; p.Mean.OK() || p.Error.OK() || p.Lower.OK() || p.Upper.OK() || p.Std.OK() {
			t.Errorf("warm-up point %d has statistics: %+v", i, p)
		}
	}
	if r.Issues.Null != 1 || r.Evaluated != 2 || r.Indicators != 1 || r.Violations != 1 {
		t.Errorf("counts %+v", r)
	}
	// A flat window reports Std 0 and bounds at (almost exactly) the mean.
	r, _ = Detect(pts("4 4 4 4 4 4 4"), Options{})
	if p := r.Points[6]; !near(p.Std, 0) || p.Std.F != 0 || math.Abs(p.Upper.F-4) > 1e-7 || p.Indicator {
		t.Errorf("flat: %+v", p)
	}
}

func TestDetectUnsortedInput(t *testing.T) {
	in := pts("10 11 10 11 10 11 10 40")
	// Reverse the input: outputs must still follow time order.
	rev := make([]series.Point, len(in))
	for i := range in {
		rev[len(in)-1-i] = in[i]
	}
	r, err := Detect(rev, Options{Window: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := flags(r); got != "V....www" {
		t.Errorf("reversed: %s", got)
	}
}

func TestDetectErrors(t *testing.T) {
	bad := []Options{
		{Window: 1},
		{Window: -3},
		{Window: MaxWindow + 1},
		{Threshold: -1},
		{Threshold: math.NaN()},
		{Threshold: math.Inf(1)},
		{Consecutive: -1},
		{MinHistory: 1},
		{Window: 4, MinHistory: 5},
		{Direction: 7},
	}
	for _, o := range bad {
		if _, err := Detect(nil, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if _, err := Detect(make([]series.Point, MaxPoints+1), Options{}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("too many points: %v", err)
	}
	for _, s := range []string{"+-", "-+", "+", "-", ""} {
		if _, err := ParseDirection(s); err != nil {
			t.Errorf("ParseDirection(%q): %v", s, err)
		}
	}
	if _, err := ParseDirection("up"); err == nil {
		t.Error(`ParseDirection("up") accepted`)
	}
}

func TestDetectHugeValues(t *testing.T) {
	in := []series.Point{}
	for i, f := range []float64{1e308, -1e308, 1e308, -1e308, 1e308, -1e308, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13} {
		in = append(in, series.Point{T: int64(i), V: series.Num(f)})
	}
	r, err := Detect(in, Options{Window: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkFinite(t, r)
	if r.Issues.Overflow == 0 {
		t.Error("no overflow counted")
	}
	if last := r.Points[len(in)-1]; !last.Mean.OK() || !near(last.Mean, 11) {
		t.Errorf("window did not recover: %+v", last)
	}
}

// TestDetectMatchesNaive compares Detect with a direct implementation of the
// documented rules on random series with gaps.
func TestDetectMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for iter := 0; iter < 300; iter++ {
		n := rng.IntN(120)
		in := make([]series.Point, n)
		for i := range in {
			in[i].T = int64(i) * minute
			switch r := rng.Float64(); {
			case r < 0.05:
			case r < 0.08:
				in[i].V = series.Value{Kind: series.Invalid}
			case r < 0.12:
				in[i].V = series.Num(50 + 40*rng.NormFloat64())
			case r < 0.2:
				in[i].V = series.Num(10) // flat stretches
			default:
				in[i].V = series.Num(10 + rng.NormFloat64())
			}
		}
		o := Options{
			Window:      2 + rng.IntN(12),
			Threshold:   0.5 + 3*rng.Float64(),
			Consecutive: 1 + rng.IntN(3),
			Direction:   Direction(rng.IntN(3)),
		}
		got, err := Detect(in, o)
		if err != nil {
			t.Fatal(err)
		}
		want := naive(in, o)
		for i := range in {
			g, w := got.Points[i], want[i]
			if g.State != w.State || g.Indicator != w.Indicator || g.Violation != w.Violation ||
				!same(g.Error, w.Error) || !same(g.Lower, w.Lower) || !same(g.Upper, w.Upper) || !same(g.Std, w.Std) {
				t.Fatalf("iter %d opts %+v point %d:\n got  %+v\n want %+v", iter, o, i, g, w)
			}
		}
	}
}

// naive recomputes every window from scratch (sorted input assumed).
func naive(in []series.Point, o Options) []Point {
	o, _ = o.withDefaults()
	out := make([]Point, len(in))
	var hist []float64
	run := 0
	for i, p := range in {
		lo := max(0, len(hist)-o.Window)
		win := hist[lo:]
		have := len(win) >= o.MinHistory
		var mean, lower, upper float64
		if have {
			for _, x := range win {
				mean += x
			}
			mean /= float64(len(win))
			var ss float64
			for _, x := range win {
				ss += (x - mean) * (x - mean)
			}
			sd := math.Sqrt(ss / float64(len(win)-1))
			eff := math.Max(sd, flatFloor*math.Abs(mean))
			lower, upper = mean-o.Threshold*eff, mean+o.Threshold*eff
			out[i].Mean, out[i].Std = series.Num(mean), series.Num(sd)
			out[i].Lower, out[i].Upper = series.Num(lower), series.Num(upper)
		}
		if !p.V.OK() {
			out[i].State = Missing
			continue
		}
		v := p.V.F
		hist = append(hist, v)
		if !have {
			out[i].State = WarmUp
			run = 0
			continue
		}
		out[i].Error = series.Num(v - mean)
		ind := (o.Direction != Down && v > upper) || (o.Direction != Up && v < lower)
		out[i].Indicator = ind
		if ind {
			run++
			out[i].Violation = run >= o.Consecutive
		} else {
			run = 0
		}
	}
	return out
}

func same(a, b series.Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	return !a.OK() || math.Abs(a.F-b.F) <= 1e-9*math.Max(1, math.Abs(b.F))
}

func near(v series.Value, f float64) bool {
	return v.OK() && math.Abs(v.F-f) <= 1e-9*math.Max(1, math.Abs(f))
}

func checkFinite(t *testing.T, r *Result) {
	t.Helper()
	for i, p := range r.Points {
		for _, v := range []series.Value{p.Mean, p.Error, p.Lower, p.Upper, p.Std} {
			if v.Kind == series.Invalid || (v.OK() && (math.IsNaN(v.F) || math.IsInf(v.F, 0))) {
				t.Fatalf("point %d: non-finite output %+v", i, p)
			}
			if !v.OK() && v.F != 0 {
				t.Fatalf("point %d: null output carries %v", i, v.F)
			}
		}
		if p.Violation && !p.Indicator {
			t.Fatalf("point %d: violation without indicator", i)
		}
	}
}
