package series

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// vals builds Values from a compact notation: numbers, "n" for Null, "x"
// for Invalid.
func vals(spec string) []Value {
	var out []Value
	for _, f := range strings.Fields(spec) {
		switch f {
		case "n":
			out = append(out, Value{})
		case "x":
			out = append(out, Value{Kind: Invalid})
		default:
			v := Parse(f)
			if !v.OK() {
				panic("bad test value " + f)
			}
			out = append(out, v)
		}
	}
	return out
}

// close compares Values, numbers to 1e-12 relative.
func close(got, want []Value) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Kind != want[i].Kind {
			return false
		}
		if got[i].OK() && math.Abs(got[i].F-want[i].F) > 1e-12*math.Max(1, math.Abs(want[i].F)) {
			return false
		}
	}
	return true
}

func show(vs []Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		if v.Kind == Null {
			parts[i] = "n"
		} else {
			parts[i] = v.String()
		}
	}
	return strings.Join(parts, " ")
}

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Value
	}{
		{"", Value{}},
		{"   ", Value{Kind: Invalid}},
		{"42", Value{F: 42, Kind: Number}},
		{"-1.5e3", Value{F: -1500, Kind: Number}},
		{"+.5", Value{F: 0.5, Kind: Number}},
		{"5.", Value{F: 5, Kind: Number}},
		{"2.5E-2", Value{F: 0.025, Kind: Number}},
		{" 42", Value{Kind: Invalid}},
		{"0x10", Value{Kind: Invalid}},
		{"0x1p4", Value{Kind: Invalid}},
		{"1_000", Value{Kind: Invalid}},
		{".", Value{Kind: Invalid}},
		{"-", Value{Kind: Invalid}},
		{"1e", Value{Kind: Invalid}},
		{"e5", Value{Kind: Invalid}},
		{"abc", Value{Kind: Invalid}},
		{"NaN", Value{Kind: Invalid}},
		{"Inf", Value{Kind: Invalid}},
		{"-infinity", Value{Kind: Invalid}},
		{"1e999", Value{Kind: Invalid}},
		{"12ms", Value{Kind: Invalid}},
	}
	for _, c := range cases {
		if got := Parse(c.in); got != c.want {
			t.Errorf("Parse(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
	if Num(math.NaN()).Kind != Invalid || Num(math.Inf(-1)).Kind != Invalid || Num(3).F != 3 {
		t.Error("Num does not classify NaN/Inf/finite")
	}
	if Out(math.NaN()).OK() || Out(math.Inf(1)).OK() || !Out(0).OK() {
		t.Error("Out must turn non-finite results into Null")
	}
}

func TestRowOperators(t *testing.T) {
	type op func([]Value, []string) (Result, error)
	win := func(f func([]Value, []string, int) (Result, error), w int) op {
		return func(v []Value, g []string) (Result, error) { return f(v, g, w) }
	}
	cases := []struct {
		name    string
		op      op
		in      string
		groups  string // space-separated keys, "" = one group
		want    string
		invalid int
		null    int
	}{
		{"accum", Accum, "1 2 3 4", "", "1 3 6 10", 0, 0},
		{"accum skips null and invalid", Accum, "1 n 2 x 3", "", "1 n 3 n 6", 1, 1},
		{"accum by group", Accum, "1 10 2 20 3", "a b a b a", "1 10 3 30 6", 0, 0},
		{"accum compensated", Accum, "0.1 0.1 0.1 0.1 0.1 0.1 0.1 0.1 0.1 0.1", "", "0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1", 0, 0},
		{"accum empty", Accum, "", "", "", 0, 0},
		{"accum all null", Accum, "n n", "", "n n", 0, 2},
		{"diff", Diff, "5 7 4 4", "", "n 2 -3 0", 0, 0},
		{"diff skips to previous numeric row", Diff, "5 x n 8", "", "n n n 3", 1, 1},
		{"diff by group", Diff, "1 10 4 30 9", "a b a b a", "n n 3 20 5", 0, 0},
		{"diff single", Diff, "3", "", "n", 0, 0},
		{"total", Total, "1 2 n 3", "", "6 6 6 6", 0, 1},
		{"total by group", Total, "1 10 2 x", "a b a b", "3 10 3 10", 1, 0},
		{"total of no numbers", Total, "n x", "", "n n", 1, 1},
		{"smooth w3", win(Smooth, 3), "3 6 9 12 15", "", "3 4.5 6 9 12", 0, 0},
		{"smooth skips", win(Smooth, 2), "2 n 4 x 8", "", "2 n 3 n 6", 1, 1},
		{"smooth w1", win(Smooth, 1), "2 4 8", "", "2 4 8", 0, 0},
		{"smooth by group", win(Smooth, 2), "1 100 3 300 5", "a b a b a", "1 100 2 200 4", 0, 0},
		{"rollingstd w3", win(RollingStd, 3), "2 4 6 8 8 8", "", "0 1.4142135623730951 2 2 1.1547005383792515 0", 0, 0},
		{"rollingstd single value is 0", win(RollingStd, 10), "7", "", "0", 0, 0},
		{"rollingstd constant", win(RollingStd, 4), "0.1 0.1 0.1 0.1 0.1", "", "0 0 0 0 0", 0, 0},
		{"backshift 1", win(Backshift, 1), "1 2 3", "", "n 1 2", 0, 0},
		{"backshift 2 skips", win(Backshift, 2), "1 n 2 3 x 4", "", "n n n 1 n 2", 1, 1},
		{"backshift by group", win(Backshift, 1), "1 10 2 20", "a b a b", "n n 1 10", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var groups []string
			if c.groups != "" {
				groups = strings.Fields(c.groups)
			}
			res, err := c.op(vals(c.in), groups)
			if err != nil {
				t.Fatal(err)
			}
			if !close(res.Values, vals(c.want)) {
				t.Errorf("got  %s\nwant %s", show(res.Values), c.want)
			}
			if res.Issues.Invalid != c.invalid || res.Issues.Null != c.null {
				t.Errorf("issues %+v, want invalid %d null %d", res.Issues, c.invalid, c.null)
			}
		})
	}
}

func TestRowOperatorErrors(t *testing.T) {
	v := vals("1 2")
	if _, err := Accum(v, []string{"a"}); err == nil {
		t.Error("mismatched group keys accepted")
	}
	for _, w := range []int{0, -1, MaxWindow + 1} {
		if _, err := Smooth(v, nil, w); err == nil {
			t.Errorf("smooth window %d accepted", w)
		}
		if _, err := RollingStd(v, nil, w); err == nil {
			t.Errorf("rollingstd window %d accepted", w)
		}
		if _, err := Backshift(v, nil, w); err == nil {
			t.Errorf("backshift %d accepted", w)
		}
	}
	if _, err := Smooth(v, nil, MaxWindow); err != nil {
		t.Error(err)
	}
}

func TestOverflowIsNull(t *testing.T) {
	big := []Value{Num(math.MaxFloat64), Num(math.MaxFloat64), Num(1)}
	res, _ := Accum(big, nil)
	if !res.Values[0].OK() || res.Values[1].OK() || res.Issues.Overflow == 0 {
		t.Errorf("accum overflow: %s %+v", show(res.Values), res.Issues)
	}
	res, _ = Total(big, nil)
	for _, v := range res.Values {
		if v.OK() {
			t.Errorf("total overflow gave %v", v)
		}
	}
	res, _ = Diff([]Value{Num(-math.MaxFloat64), Num(math.MaxFloat64)}, nil)
	if res.Values[1].OK() {
		t.Errorf("diff overflow gave %v", res.Values[1])
	}
	for _, f := range []func([]Value, []string, int) (Result, error){Smooth, RollingStd} {
		res, _ = f([]Value{Num(math.MaxFloat64), Num(-math.MaxFloat64), Num(1), Num(2), Num(3)}, nil, 2)
		for _, v := range res.Values {
			if v.OK() && (math.IsNaN(v.F) || math.IsInf(v.F, 0)) {
				t.Fatalf("non-finite output %v", v.F)
			}
		}
		// Once the huge values left the window, results are exact again.
		if got := res.Values[4]; !got.OK() {
			t.Errorf("window recovered after overflow: got %v", got)
		}
	}
}

// TestRollingMatchesTwoPass checks the O(1) window against a direct
// two-pass computation on long, drifting, badly scaled series.
func TestRollingMatchesTwoPass(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, w := range []int{1, 2, 3, 10, 64, 500} {
		r := NewRolling(w)
		var hist []float64
		for i := 0; i < 5000; i++ {
			x := 1e9 + float64(i)*1e3 + rng.NormFloat64()*0.5
			if i%700 < 50 {
				x = 42 // flat stretches
			}
			r.Push(x)
			hist = append(hist, x)
			lo := len(hist) - w
			if lo < 0 {
				lo = 0
			}
			win := hist[lo:]
			mean, sd := twoPass(win)
			if r.Len() != len(win) {
				t.Fatalf("w=%d i=%d: len %d, want %d", w, i, r.Len(), len(win))
			}
			if d := math.Abs(r.Mean() - mean); d > 1e-9*math.Max(1, math.Abs(mean)) {
				t.Fatalf("w=%d i=%d: mean %v, want %v", w, i, r.Mean(), mean)
			}
			if d := math.Abs(r.Std() - sd); d > 1e-6*math.Max(1, sd) {
				t.Fatalf("w=%d i=%d: std %v, want %v", w, i, r.Std(), sd)
			}
			if sd == 0 && r.Std() != 0 {
				t.Fatalf("w=%d i=%d: flat window std %v", w, i, r.Std())
			}
		}
	}
}

func twoPass(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

func TestSlices(t *testing.T) {
	const h = int64(3600_000)
	cases := []struct {
		name                      string
		start, end, width, offset int64
		limit                     int
		want                      []int64
		truncated                 bool
	}{
		{"aligned", 0, 3 * h, h, 0, 0, []int64{0, h, 2 * h}, false},
		{"unaligned start includes the slice holding it", h / 2, 2*h + 1, h, 0, 0, []int64{0, h, 2 * h}, false},
		{"end exclusive", 0, 2 * h, h, 0, 0, []int64{0, h}, false},
		{"empty range", h, h, h, 0, 0, nil, false},
		{"reversed range", 2 * h, h, h, 0, 0, nil, false},
		{"offset (UTC+2 days)", 0, 48 * h, 24 * h, -2 * h, 0, []int64{-2 * h, 22 * h, 46 * h}, false},
		{"negative times", -3 * h, -h, h, 0, 0, []int64{-3 * h, -2 * h}, false},
		{"limit", 0, 10 * h, h, 0, 3, []int64{0, h, 2 * h}, true},
	}
	for _, c := range cases {
		got, tr, err := Slices(c.start, c.end, c.width, c.offset, c.limit)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !equalInts(got, c.want) || tr != c.truncated {
			t.Errorf("%s: got %v %v, want %v %v", c.name, got, tr, c.want, c.truncated)
		}
	}
	if _, _, err := Slices(0, 10, 0, 0, 0); err == nil {
		t.Error("width 0 accepted")
	}
	all, tr, _ := Slices(0, 1<<40, 1, 0, 0)
	if len(all) != MaxFill || !tr {
		t.Errorf("default limit: %d slices, truncated %v", len(all), tr)
	}
	if _, _, err := SlicesFunc(0, 10, func(s int64) int64 { return s }, 0); err == nil {
		t.Error("non-advancing next accepted")
	}
}

func TestMissingSlices(t *testing.T) {
	const m = int64(60_000)
	miss, tr, err := MissingSlices([]int64{3 * m, 0, 99 * m, m}, 0, 5*m, m, 0, 0)
	if err != nil || tr {
		t.Fatal(err, tr)
	}
	if want := []int64{2 * m, 4 * m}; !equalInts(miss, want) {
		t.Errorf("missing %v, want %v", miss, want)
	}
	if miss := Missing([]int64{1, 2}, nil); !equalInts(miss, []int64{1, 2}) {
		t.Errorf("nothing present: %v", miss)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzRowOperators(f *testing.F) {
	f.Add(uint8(3), []byte("\x01\x02\x03\x04\x05\x06\x07\x08\xff\xff\xff\xff\xff\xff\xef\x7f"))
	f.Fuzz(func(t *testing.T, w uint8, data []byte) {
		var values []Value
		var groups []string
		for i := 0; i+8 <= len(data); i += 8 {
			bits := uint64(0)
			for j := 0; j < 8; j++ {
				bits |= uint64(data[i+j]) << (8 * j)
			}
			v := Num(math.Float64frombits(bits))
			if bits%11 == 0 {
				v = Value{}
			}
			values = append(values, v)
			groups = append(groups, string(rune('a'+bits%3)))
		}
		window := int(w%20) + 1
		ops := []func() (Result, error){
			func() (Result, error) { return Accum(values, groups) },
			func() (Result, error) { return Diff(values, nil) },
			func() (Result, error) { return Total(values, groups) },
			func() (Result, error) { return Smooth(values, groups, window) },
			func() (Result, error) { return RollingStd(values, nil, window) },
			func() (Result, error) { return Backshift(values, groups, window) },
		}
		for k, op := range ops {
			res, err := op()
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Values) != len(values) {
				t.Fatalf("op %d: %d outputs for %d rows", k, len(res.Values), len(values))
			}
			for i, v := range res.Values {
				if v.Kind == Invalid || math.IsNaN(v.F) || math.IsInf(v.F, 0) {
					t.Fatalf("op %d row %d: %+v", k, i, v)
				}
				if k != 2 && !values[i].OK() && v.OK() {
					t.Fatalf("op %d row %d: skipped row got %v", k, i, v)
				}
			}
		}
	})
}
