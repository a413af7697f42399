package series

import (
	"reflect"
	"strings"
	"testing"
)

func TestPlanCompareNames(t *testing.T) {
	const day = 24 * 3600 * 1000
	cases := []struct {
		name   string
		shifts []Timeshift
		cols   string // column names for field _count
		runs   string // run labels
	}{
		{"single", []Timeshift{{N: 1, Unit: "d"}}, "_count_target _count_1d", "1d"},
		{"multiple", []Timeshift{{N: 1, Unit: "d", Count: 3}}, "_count_target _count_1d _count_2d _count_3d", "1d 2d 3d"},
		{"avg", []Timeshift{{N: 1, Unit: "w", Count: 3, Agg: AggAvg}}, "_count_target _count_1w_3_avg", "1w 2w 3w"},
		{"min max", []Timeshift{{N: 6, Unit: "h", Count: 2, Agg: AggMin}, {N: 1, Unit: "d", Count: 2, Agg: AggMax}},
			"_count_target _count_6h_2_min _count_1d_2_max", "6h 12h 1d 2d"},
		{"multiples keep the unit", []Timeshift{{N: 12, Unit: "h", Count: 2}}, "_count_target _count_12h _count_24h", "12h 24h"},
		{"alias single", []Timeshift{{N: 1, Unit: "d", Alias: "yesterday"}}, "_count_target _count_yesterday", "1d"},
		{"alias aggregated", []Timeshift{{N: 1, Unit: "w", Count: 4, Agg: AggAvg, Alias: "last_month"}}, "_count_target _count_last_month", "1w 2w 3w 4w"},
		{"alias multiple", []Timeshift{{N: 1, Unit: "d", Count: 2, Alias: "past"}}, "_count_target _count_past_1d _count_past_2d", "1d 2d"},
		{"shared run", []Timeshift{{N: 12, Unit: "h"}, {N: 1, Unit: "d", Count: 3, Agg: AggAvg}, {N: 1, Unit: "w"}},
			"_count_target _count_12h _count_1d_3_avg _count_1w", "12h 1d 2d 3d 1w"},
		{"24h and 1d share the run", []Timeshift{{N: 24, Unit: "h"}, {N: 1, Unit: "d"}}, "_count_target _count_24h _count_1d", "24h"},
	}
	for _, c := range cases {
		p, err := PlanCompare(c.shifts)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := strings.Join(p.ColumnNames("_count"), " "); got != c.cols {
			t.Errorf("%s: columns %q, want %q", c.name, got, c.cols)
		}
		var labels []string
		for _, r := range p.Runs {
			labels = append(labels, r.Label)
			if want := int64(0); r.Offset <= want {
				t.Errorf("%s: run %s offset %d", c.name, r.Label, r.Offset)
			}
		}
		if got := strings.Join(labels, " "); got != c.runs {
			t.Errorf("%s: runs %q, want %q", c.name, got, c.runs)
		}
	}
	p, _ := PlanCompare([]Timeshift{{N: 2, Unit: "d", Count: 2}})
	if p.Runs[0].Offset != 2*day || p.Runs[1].Offset != 4*day {
		t.Errorf("offsets %+v", p.Runs)
	}
}

func TestPlanCompareErrors(t *testing.T) {
	cases := []struct {
		shifts []Timeshift
		want   string
	}{
		{nil, "no timeshift"},
		{[]Timeshift{{N: 1, Unit: "d", Count: 14}}, "at most 7"},
		{[]Timeshift{{N: 1, Unit: "d", Count: 5, Agg: AggAvg}, {N: 1, Unit: "w", Count: 4}}, "at most 7"},
		{[]Timeshift{{N: 1, Unit: "d", Count: 7, Alias: "w"}, {N: 1, Unit: "d", Count: 7, Agg: AggAvg, Alias: "w"}}, "at most 7"},
		{[]Timeshift{{N: 1, Unit: "d", Alias: "x"}, {N: 1, Unit: "w", Alias: "X"}}, "duplicate alias"},
		{[]Timeshift{{N: 1, Unit: "d", Count: 2}, {N: 2, Unit: "d"}}, `suffix "_2d"`},
		{[]Timeshift{{N: 1, Unit: "y"}}, "unknown unit"},
		{[]Timeshift{{N: 0, Unit: "d"}}, "must be positive"},
		{[]Timeshift{{N: 1, Unit: "d", Count: -1}}, "must be positive"},
		{[]Timeshift{{N: 1 << 60, Unit: "w"}}, "too far back"},
	}
	for _, c := range cases {
		_, err := PlanCompare(c.shifts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.shifts, err, c.want)
		}
	}
}

func TestCompareJoin(t *testing.T) {
	const h = int64(3600_000)
	const d = 24 * h
	p, err := PlanCompare([]Timeshift{{N: 1, Unit: "d", Count: 2}, {N: 1, Unit: "d", Count: 2, Agg: AggAvg, Alias: "avg2"}})
	if err != nil {
		t.Fatal(err)
	}
	// Runs: 1d, 2d (shared by both clauses).
	if len(p.Runs) != 2 {
		t.Fatalf("runs %+v", p.Runs)
	}
	base := int64(100 * d)
	rec := func(g string, slice int64, v ...Value) Record {
		return Record{Group: g, Slice: slice, HasSlice: true, Values: v}
	}
	current := []Record{
		rec("a", base+h, Num(10)),
		rec("a", base, Num(8)),
		rec("b", base, Value{Kind: Invalid}),
	}
	run1d := []Record{ // yesterday, slices shifted back one day
		rec("a", base-d, Num(6)),
		rec("a", base+h-d, Num(4)),
		rec("c", base-d, Num(1)),
	}
	run2d := []Record{
		rec("a", base-2*d, Num(2)),
		rec("c", base+2*h-2*d, Num(7)),
	}
	cmp, err := p.Join([]string{"_count"}, current, [][]Record{run1d, run2d})
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []string{"_count_target", "_count_1d", "_count_2d", "_count_avg2"}
	if !reflect.DeepEqual(cmp.Columns, wantCols) {
		t.Fatalf("columns %v", cmp.Columns)
	}
	type row struct {
		g     string
		slice int64
		run   int
		index int
		vals  string
	}
	want := []row{
		{"a", base + h, -1, 0, "10 4 n 4"},
		{"a", base, -1, 1, "8 6 2 4"},
		{"b", base, -1, 2, "n n n n"},
		{"c", base, 0, 2, "n 1 n 1"},
		{"c", base + 2*h, 1, 1, "n n 7 7"},
	}
	if len(cmp.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(cmp.Rows), len(want), cmp.Rows)
	}
	for i, w := range want {
		r := cmp.Rows[i]
		if r.Group != w.g || r.Slice != w.slice || r.Run != w.run || r.Index != w.index || show(r.Values) != w.vals {
			t.Errorf("row %d: %s %d run %d idx %d [%s], want %+v", i, r.Group, r.Slice, r.Run, r.Index, show(r.Values), w)
		}
	}
	if cmp.Issues.Invalid != 1 {
		t.Errorf("issues %+v", cmp.Issues)
	}
}

func TestCompareJoinNoSliceMinMax(t *testing.T) {
	p, _ := PlanCompare([]Timeshift{{N: 1, Unit: "w", Count: 3, Agg: AggMin}, {N: 1, Unit: "w", Count: 3, Agg: AggMax, Alias: "hi"}})
	cur := []Record{{Group: "ok", Values: []Value{Num(5), Num(1)}}}
	runs := [][]Record{
		{{Group: "ok", Values: []Value{Num(3), Num(9)}}},
		{{Group: "ok", Values: []Value{Value{}, Num(2)}}},
		{{Group: "ok", Values: []Value{Num(8), Num(4)}}, {Group: "fail", Values: []Value{Num(1), Num(1)}}},
	}
	cmp, err := p.Join([]string{"_count", "users"}, cur, runs)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cmp.Columns, " "); got != "_count_target _count_1w_3_min _count_hi users_target users_1w_3_min users_hi" {
		t.Fatalf("columns %s", got)
	}
	if got := show(cmp.Rows[0].Values); got != "5 3 8 1 2 9" {
		t.Errorf("ok row %s", got)
	}
	if r := cmp.Rows[1]; r.Group != "fail" || r.Run != 2 || show(r.Values) != "n 1 1 n 1 1" {
		t.Errorf("fail row %+v %s", r, show(r.Values))
	}
}

func TestCompareJoinErrors(t *testing.T) {
	p, _ := PlanCompare([]Timeshift{{N: 1, Unit: "d"}})
	if _, err := p.Join([]string{"x"}, nil, nil); err == nil {
		t.Error("missing run accepted")
	}
	dup := []Record{{Group: "a", Values: []Value{Num(1)}}, {Group: "a", Values: []Value{Num(2)}}}
	if _, err := p.Join([]string{"x"}, dup, [][]Record{nil}); err == nil {
		t.Error("duplicate key accepted")
	}
	if _, err := p.Join([]string{"x", "y"}, []Record{{Values: []Value{Num(1)}}}, [][]Record{nil}); err == nil {
		t.Error("short record accepted")
	}
	cmp, err := p.Join([]string{"x"}, nil, [][]Record{nil})
	if err != nil || len(cmp.Rows) != 0 {
		t.Errorf("empty join: %v %+v", err, cmp)
	}
}
