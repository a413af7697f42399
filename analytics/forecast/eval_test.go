package forecast

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dohyo/dohyo/analytics/series"
)

// The evaluation: hourly series with a daily pattern, a trend and noise;
// the models train on the first days and forecast the next ones, scored by
// MAPE on the held-out points against two baselines (the last value, and
// the value one day earlier). Run with -v to see the table that
// BENCHMARKS.md reports:
//
//	go test -run TestEvaluation -v ./analytics/forecast/

const hour = int64(3600_000)

type seasonal struct {
	name       string
	trainDays  int
	horizon    int     // forecast points (hours)
	trend      float64 // per hour
	noise      float64 // standard deviation
	amplitude  float64 // of the daily cycle
	weeklyDrop float64 // fraction removed on days 6 and 7 of each week
}

func (s seasonal) value(rng *rand.Rand, h int) float64 {
	return s.mean(h) + s.noise*rng.NormFloat64()
}

// mean is the noiseless signal: forecasting it exactly is the best any
// model can do (the "oracle" column).
func (s seasonal) mean(h int) float64 {
	hod := float64(h % 24)
	// Business-hours shape: two harmonics of the day.
	daily := math.Sin(2*math.Pi*(hod-8)/24) + 0.4*math.Sin(4*math.Pi*(hod-8)/24+0.5)
	v := 200 + s.trend*float64(h) + s.amplitude*daily
	if s.weeklyDrop > 0 && (h/24)%7 >= 5 {
		v *= 1 - s.weeklyDrop
	}
	return v
}

var seasonals = []seasonal{
	{name: "daily cycle + trend + noise, 14d train, 24h ahead", trainDays: 14, horizon: 24, trend: 0.1, noise: 6, amplitude: 80},
	{name: "daily cycle + trend + noise, 14d train, 48h ahead", trainDays: 14, horizon: 48, trend: 0.1, noise: 6, amplitude: 80},
	{name: "daily cycle, strong noise, 7d train, 24h ahead", trainDays: 7, horizon: 24, trend: 0, noise: 20, amplitude: 60},
	{name: "daily + weekend dip, 28d train, 72h ahead", trainDays: 28, horizon: 72, trend: 0.05, noise: 6, amplitude: 80, weeklyDrop: 0.3},
}

type mapes struct{ ar, arYW, linear, naive, seasonalNaive, oracle float64 }

func mape(pred, actual []float64) float64 {
	var s float64
	for i := range actual {
		s += math.Abs(pred[i]-actual[i]) / math.Abs(actual[i])
	}
	return 100 * s / float64(len(actual))
}

func evalSeasonal(t testing.TB, s seasonal, seeds int) (m mapes, orders []int) {
	for seed := 1; seed <= seeds; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 0xF0))
		n := s.trainDays * 24
		all := make([]float64, n+s.horizon)
		for h := range all {
			all[h] = s.value(rng, h)
		}
		train := make([]series.Point, n)
		for h := 0; h < n; h++ {
			train[h] = series.Point{T: int64(h) * hour, V: series.Num(all[h])}
		}
		actual := all[n:]
		ar, err := Predict(train, Options{Model: AR, Step: hour, Forecast: s.horizon})
		if err != nil {
			t.Fatal(err)
		}
		// The same model with Yule–Walker estimates, for comparison.
		yw, err := Predict(train, Options{Model: AR, Step: hour, Forecast: s.horizon, method: yuleWalker})
		if err != nil {
			t.Fatal(err)
		}
		lin, err := Predict(train, Options{Model: Linear, Step: hour, Forecast: s.horizon})
		if err != nil {
			t.Fatal(err)
		}
		get := func(ps []Point) []float64 {
			out := make([]float64, len(ps))
			for i, p := range ps {
				out[i] = p.Predicted.F
			}
			return out
		}
		naive := make([]float64, s.horizon)
		snaive := make([]float64, s.horizon)
		oracle := make([]float64, s.horizon)
		for i := range naive {
			naive[i] = all[n-1]
			snaive[i] = all[n-24+i%24]
			oracle[i] = s.mean(n + i)
		}
		m.ar += mape(get(ar.Future), actual) / float64(seeds)
		m.arYW += mape(get(yw.Future), actual) / float64(seeds)
		m.linear += mape(get(lin.Future), actual) / float64(seeds)
		m.naive += mape(naive, actual) / float64(seeds)
		m.seasonalNaive += mape(snaive, actual) / float64(seeds)
		m.oracle += mape(oracle, actual) / float64(seeds)
		orders = append(orders, ar.Order)
	}
	return m, orders
}

func TestEvaluation(t *testing.T) {
	const seeds = 20
	t.Logf("MAPE (%%) over the held-out points, mean of %d seeds", seeds)
	t.Logf("%-52s %7s %7s %7s %7s %9s %7s  %s", "series", "AR", "AR(YW)", "linear", "naive", "naive-1d", "oracle", "AR orders chosen")
	for _, s := range seasonals {
		m, orders := evalSeasonal(t, s, seeds)
		lo, hi := orders[0], orders[0]
		for _, o := range orders {
			lo, hi = min(lo, o), max(hi, o)
		}
		t.Logf("%-52s %7.2f %7.2f %7.2f %7.2f %9.2f %7.2f  %d-%d", s.name, m.ar, m.arYW, m.linear, m.naive, m.seasonalNaive, m.oracle, lo, hi)
		if !(m.ar < m.linear && m.ar < m.naive && m.ar < m.seasonalNaive) {
			t.Errorf("%s: AR MAPE %.2f is not the lowest (linear %.2f, naive %.2f, naive-1d %.2f)", s.name, m.ar, m.linear, m.naive, m.seasonalNaive)
		}
	}
}

func FuzzPredict(f *testing.F) {
	f.Add(byte(0), byte(3), byte(0), []byte("\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00\x40"))
	f.Add(byte(1), byte(10), byte(2), make([]byte, 80))
	nan := make([]byte, 8)
	binary.LittleEndian.PutUint64(nan, math.Float64bits(math.NaN()))
	big := make([]byte, 8)
	binary.LittleEndian.PutUint64(big, math.Float64bits(-math.MaxFloat64))
	f.Add(byte(1), byte(5), byte(0), append(append(append(nan, big...), big...), nan...))
	f.Fuzz(func(t *testing.T, model, forecast, window byte, data []byte) {
		o := Options{Model: Model(model % 2), Step: 1000, Forecast: int(forecast % 120), ARWindow: int(window % 8)}
		if o.Model == Linear {
			o.ARWindow = 0
		}
		var in []series.Point
		for i := 0; i+8 <= len(data) && len(in) < 3000; i += 8 {
			bits := binary.LittleEndian.Uint64(data[i:])
			tm := int64(len(in)) * 1000
			if bits%5 == 0 {
				tm += int64(bits%4) * 1000 // gaps (and collisions: an error)
			}
			in = append(in, series.Point{T: tm, V: series.Num(math.Float64frombits(bits))})
		}
		r, err := Predict(in, o)
		if err != nil {
			return
		}
		if len(r.Points) != len(in) {
			t.Fatalf("%d outputs for %d points", len(r.Points), len(in))
		}
		checkFinite(t, r)
	})
}

func BenchmarkPredict(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := seasonals[0]
	const n = 10_000
	in := make([]series.Point, n)
	for h := range in {
		in[h] = series.Point{T: int64(h) * hour, V: series.Num(s.value(rng, h))}
	}
	cases := []struct {
		name string
		o    Options
	}{
		{"linear", Options{Model: Linear, Step: hour, Forecast: 100}},
		{"ar-auto", Options{Model: AR, Step: hour, Forecast: 100}},
		{"ar-window=48", Options{Model: AR, Step: hour, Forecast: 100, ARWindow: 48}},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("%s/points=%d", c.name, n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Predict(in, c.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
