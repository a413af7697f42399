package outlier

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dohyo/dohyo/analytics/series"
)

// The evaluation: synthetic series with known anomalies, several seeds,
// precision and recall of Detect's violations (the same as its indicators
// unless consecutive > 1). Run with -v to see the table that
// BENCHMARKS.md reports:
//
//	go test -run TestEvaluation -v ./analytics/outlier/

const (
	evalPoints = 1000 // hourly slices: about six weeks
	evalBase   = 100.0
	evalSigma  = 5.0
	evalSeeds  = 20
)

type scenario struct {
	name string
	// build returns the series and the positions of the anomalies.
	build func(rng *rand.Rand) ([]float64, []int)
	// hit is the range [s, s+hit) after an anomaly at s in which an
	// indicator counts as detecting it (recall); credit is the range in which
	// an indicator is attributed to it rather than counted as a false alarm
	// (precision).
	hit, credit func(o Options) int
}

func noise(rng *rand.Rand) []float64 {
	xs := make([]float64, evalPoints)
	for i := range xs {
		xs[i] = evalBase + evalSigma*rng.NormFloat64()
	}
	return xs
}

// positions picks k positions in [lo, n) at least gap apart.
func positions(rng *rand.Rand, k, lo, n, gap int) []int {
	for {
		var ps []int
		used := map[int]bool{}
		for len(ps) < k {
			p := lo + rng.IntN(n-lo)
			ok := true
			for _, q := range ps {
				if p > q-gap && p < q+gap {
					ok = false
				}
			}
			if ok && !used[p] {
				used[p] = true
				ps = append(ps, p)
			}
		}
		return ps
	}
}

// poisson draws from a Poisson distribution (Knuth's method; small means).
func poisson(rng *rand.Rand, mean float64) float64 {
	l, k, p := math.Exp(-mean), 0.0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func magnitude(rng *rand.Rand) float64 {
	m := (6 + 4*rng.Float64()) * evalSigma // 6 to 10 sigma
	if rng.IntN(2) == 0 {
		return -m
	}
	return m
}

var scenarios = []scenario{
	{
		name: "spikes (10 single-point spikes of 6-10σ)",
		build: func(rng *rand.Rand) ([]float64, []int) {
			xs := noise(rng)
			ps := positions(rng, 10, 20, evalPoints, 25)
			for _, p := range ps {
				xs[p] += magnitude(rng)
			}
			return xs, ps
		},
		hit:    func(Options) int { return 1 },
		credit: func(Options) int { return 1 },
	},
	{
		name: "level shifts (5 persistent steps of 6-10σ)",
		build: func(rng *rand.Rand) ([]float64, []int) {
			xs := noise(rng)
			ps := positions(rng, 5, 50, evalPoints-50, 120)
			for _, p := range ps {
				m := magnitude(rng)
				for i := p; i < len(xs); i++ {
					xs[i] += m
				}
			}
			return xs, ps
		},
		hit:    func(Options) int { return 3 },
		credit: func(o Options) int { return o.Window },
	},
	{
		name: "counts Poisson(2) + 10 bursts of +10-20",
		build: func(rng *rand.Rand) ([]float64, []int) {
			xs := make([]float64, evalPoints)
			for i := range xs {
				xs[i] = poisson(rng, 2)
			}
			ps := positions(rng, 10, 20, evalPoints, 25)
			for _, p := range ps {
				xs[p] += float64(10 + rng.IntN(11))
			}
			return xs, ps
		},
		hit:    func(Options) int { return 1 },
		credit: func(Options) int { return 1 },
	},
	{
		name:   "noise only (false alarms)",
		build:  func(rng *rand.Rand) ([]float64, []int) { return noise(rng), nil },
		hit:    func(Options) int { return 1 },
		credit: func(Options) int { return 1 },
	},
}

type score struct {
	events, detected     int
	indicators, credited int
	evaluated            int
}

func (s score) precision() float64 {
	if s.indicators == 0 {
		return 1
	}
	return float64(s.credited) / float64(s.indicators)
}

func (s score) recall() float64 {
	if s.events == 0 {
		return 1
	}
	return float64(s.detected) / float64(s.events)
}

func evaluate(t testing.TB, sc scenario, o Options) score {
	var s score
	for seed := uint64(1); seed <= evalSeeds; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0xD0))
		xs, events := sc.build(rng)
		in := make([]series.Point, len(xs))
		for i, x := range xs {
			in[i] = series.Point{T: int64(i) * 3600_000, V: series.Num(x)}
		}
		r, err := Detect(in, o)
		if err != nil {
			t.Fatal(err)
		}
		oo, _ := o.withDefaults()
		hit, credit := sc.hit(oo), sc.credit(oo)
		s.events += len(events)
		s.evaluated += r.Evaluated
		for _, e := range events {
			for i := e; i < e+hit && i < len(xs); i++ {
				if r.Points[i].Violation {
					s.detected++
					break
				}
			}
		}
		for i, p := range r.Points {
			if !p.Violation {
				continue
			}
			s.indicators++
			for _, e := range events {
				if i >= e && i < e+credit {
					s.credited++
					break
				}
			}
		}
	}
	return s
}

func TestEvaluation(t *testing.T) {
	configs := []struct {
		name string
		o    Options
	}{
		{"defaults (window 10, threshold 3)", Options{}},
		{"window 30", Options{Window: 30}},
		{"window 10, threshold 4", Options{Threshold: 4}},
		{"window 30, consecutive 2", Options{Window: 30, Consecutive: 2}},
	}
	t.Logf("%d seeds x %d hourly points, noise N(%g, %g²)", evalSeeds, evalPoints, evalBase, evalSigma)
	t.Logf("%-45s %-36s %9s %7s %10s %9s", "scenario", "options", "precision", "recall", "violations", "alarms/pt")
	results := map[string]score{}
	for _, sc := range scenarios {
		for _, c := range configs {
			s := evaluate(t, sc, c.o)
			results[sc.name+"|"+c.name] = s
			alarmRate := float64(s.indicators-s.credited) / float64(s.evaluated)
			if s.events == 0 {
				t.Logf("%-45s %-36s %9s %7s %10d %9.4f", sc.name, c.name, "-", "-", s.indicators, alarmRate)
				continue
			}
			t.Logf("%-45s %-36s %9.3f %7.3f %10d %9.4f", sc.name, c.name, s.precision(), s.recall(), s.indicators, alarmRate)
		}
	}
	// Floors at the defaults, a little under the measured values.
	def := configs[0].name
	if s := results[scenarios[0].name+"|"+def]; s.recall() < 0.95 || s.precision() < 0.30 {
		t.Errorf("spikes at defaults: precision %.3f recall %.3f", s.precision(), s.recall())
	}
	if s := results[scenarios[1].name+"|"+def]; s.recall() < 0.95 || s.precision() < 0.20 {
		t.Errorf("level shifts at defaults: precision %.3f recall %.3f", s.precision(), s.recall())
	}
	if s := results[scenarios[2].name+"|"+def]; s.recall() < 0.9 {
		t.Errorf("count bursts at defaults: precision %.3f recall %.3f", s.precision(), s.recall())
	}
	if s := results[scenarios[3].name+"|"+def]; float64(s.indicators)/float64(s.evaluated) > 0.025 {
		t.Errorf("noise only at defaults: %d alarms over %d points", s.indicators, s.evaluated)
	}
}

// TestLevelShiftIsAbsorbed shows what a trailing window does to a step:
// the first point after it is flagged, the window then fills with the new
// level, and within window points the step is the new normal.
func TestLevelShiftIsAbsorbed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var in []series.Point
	for i := 0; i < 80; i++ {
		x := 100 + rng.NormFloat64()
		if i >= 40 {
			x += 50
		}
		in = append(in, series.Point{T: int64(i), V: series.Num(x)})
	}
	r, err := Detect(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Points[40].Violation {
		t.Errorf("the step itself is not flagged: %+v", r.Points[40])
	}
	for i := 41; i < 50; i++ {
		if r.Points[i].Indicator {
			t.Errorf("point %d after the step flagged (%+v): with window 10 and threshold 3 the second point of a step is inside the inflated bounds", i, r.Points[i])
		}
	}
	// Once the window holds only the new level the bounds are tight again.
	if p := r.Points[60]; !(p.Lower.F > 140 && p.Upper.F < 160) {
		t.Errorf("bounds after the window refilled: %+v", p)
	}
}

func FuzzDetect(f *testing.F) {
	f.Add([]byte{10, 3, 1, 0}, []byte("\x00\x00\x00\x00\x00\x00\xf0\x3f"))
	f.Add([]byte{2, 0, 2, 1}, make([]byte, 64))
	nan := make([]byte, 8)
	binary.LittleEndian.PutUint64(nan, math.Float64bits(math.NaN()))
	inf := make([]byte, 8)
	binary.LittleEndian.PutUint64(inf, math.Float64bits(math.Inf(1)))
	big := make([]byte, 8)
	binary.LittleEndian.PutUint64(big, math.Float64bits(math.MaxFloat64))
	f.Add([]byte{3, 1, 1, 2}, append(append(append(nan, inf...), big...), big...))
	f.Fuzz(func(t *testing.T, opts []byte, data []byte) {
		o := Options{}
		if len(opts) >= 4 {
			o.Window = int(opts[0])
			o.Threshold = float64(opts[1]) / 4
			o.Consecutive = int(opts[2] % 5)
			o.Direction = Direction(opts[3] % 3)
			o.IgnoreLatest = opts[3]&0x80 != 0
		}
		var in []series.Point
		for i := 0; i+8 <= len(data) && len(in) < 2000; i += 8 {
			bits := binary.LittleEndian.Uint64(data[i:])
			p := series.Point{T: int64(bits % 64), V: series.Num(math.Float64frombits(bits))}
			if bits%7 == 0 {
				p.V = series.Value{}
			}
			in = append(in, p)
		}
		r, err := Detect(in, o)
		if err != nil {
			return
		}
		if len(r.Points) != len(in) {
			t.Fatalf("%d outputs for %d points", len(r.Points), len(in))
		}
		checkFinite(t, r)
	})
}

func BenchmarkDetect(b *testing.B) {
	for _, n := range []int{1000, 10_000} {
		rng := rand.New(rand.NewPCG(1, 1))
		in := make([]series.Point, n)
		for i := range in {
			in[i] = series.Point{T: int64(i) * 60_000, V: series.Num(100 + 5*rng.NormFloat64())}
		}
		b.Run(fmt.Sprintf("points=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Detect(in, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
