package series

import (
	"fmt"
	"sort"
	"strings"
)

// This file is the pure computation behind compare (spec §10.1):
//
//	| compare [with] timeshift <N><unit> [<count> [avg|min|max]] [as <alias>][, timeshift ...]
//
// The operator parses the clauses into Timeshifts, asks PlanCompare which
// shifted runs of the query to execute (Runs, each with its offset) and
// which columns come out, runs the query once per Run over the range moved
// back by the Run's offset, and hands the current and shifted records to
// Join, which aligns them on the group key and the shifted timeslice.
//
// Column names ([our choice] where Sumo's docs are silent, see the spec):
//
//	current period                      <f>_target
//	timeshift 1d                        <f>_1d
//	timeshift 1d 3                      <f>_1d, <f>_2d, <f>_3d
//	timeshift 1w 3 avg                  <f>_1w_3_avg   (min, max alike)
//	timeshift 1d as yesterday           <f>_yesterday
//	timeshift 1w 4 avg as last_month    <f>_last_month
//	timeshift 1d 3 as past              <f>_past_1d, <f>_past_2d, <f>_past_3d
//
// The shift of the j-th run of a clause is j times the clause's amount,
// written in the clause's unit ("12h 2" gives _12h and _24h, not _1d).
// Two clauses giving the same column name, or the same alias, are an
// error; so are more than MaxCompareRuns shifted runs in all (counted as
// Sumo counts them: the sum of the clauses' counts, even when two clauses
// share a run; Join runs a shared run only once).

// MaxCompareRuns is the number of shifted queries compare may add (Sumo's
// limit: seven).
const MaxCompareRuns = 7

// Agg combines the runs of one timeshift clause into one column.
type Agg uint8

// The combinations of a multi-run timeshift.
const (
	AggNone Agg = iota // one column per run
	AggAvg
	AggMin
	AggMax
)

// String returns the keyword of the combination ("" for AggNone).
func (a Agg) String() string {
	switch a {
	case AggAvg:
		return "avg"
	case AggMin:
		return "min"
	case AggMax:
		return "max"
	}
	return ""
}

// ParseAgg reads "avg", "min" or "max" (any case).
func ParseAgg(s string) (Agg, error) {
	switch strings.ToLower(s) {
	case "avg":
		return AggAvg, nil
	case "min":
		return AggMin, nil
	case "max":
		return AggMax, nil
	}
	return AggNone, fmt.Errorf("compare: unknown combination %q: use avg, min or max", s)
}

// unitMillis are the units a timeshift may use.
var unitMillis = map[string]int64{
	"s": 1000,
	"m": 60 * 1000,
	"h": 60 * 60 * 1000,
	"d": 24 * 60 * 60 * 1000,
	"w": 7 * 24 * 60 * 60 * 1000,
}

// Timeshift is one "timeshift <N><unit> [<count> [avg|min|max]] [as <alias>]"
// clause of compare.
type Timeshift struct {
	N     int64  // the amount as written: 1 in "1d"
	Unit  string // s, m, h, d or w
	Count int    // number of runs; 0 means 1
	Agg   Agg    // how to combine the runs into one column; AggNone keeps one column per run
	Alias string // replaces the shift in the column names
}

// Run is one shifted execution of the query.
type Run struct {
	Offset int64  // how far back the range moves, in milliseconds
	Label  string // the shift as written: "1d", "2d", "12h"
}

// CompareColumn is one output column of compare, named field+Suffix.
type CompareColumn struct {
	Suffix string // "_target", "_1d", "_1d_3_avg", "_yesterday"
	Runs   []int  // indexes into ComparePlan.Runs feeding the column; nil for the target
	Agg    Agg    // how Runs combine when there are several
}

// ComparePlan is what a compare stage needs to run: the shifted runs and
// the columns.
type ComparePlan struct {
	Runs    []Run
	Columns []CompareColumn // Columns[0] is the target (current period)
}

// PlanCompare validates the clauses of one compare stage and lists its runs
// and columns.
func PlanCompare(shifts []Timeshift) (*ComparePlan, error) {
	if len(shifts) == 0 {
		return nil, fmt.Errorf("compare: no timeshift given")
	}
	p := &ComparePlan{Columns: []CompareColumn{{Suffix: "_target"}}}
	runOf := map[int64]int{}
	suffixes := map[string]bool{"_target": true}
	aliases := map[string]bool{}
	total := 0
	for _, ts := range shifts {
		unit, ok := unitMillis[strings.ToLower(ts.Unit)]
		if !ok {
			return nil, fmt.Errorf("compare: timeshift %d%s: unknown unit %q: use s, m, h, d or w", ts.N, ts.Unit, ts.Unit)
		}
		label := func(j int64) string { return fmt.Sprintf("%d%s", ts.N*j, strings.ToLower(ts.Unit)) }
		if ts.N <= 0 {
			return nil, fmt.Errorf("compare: timeshift %s: the shift must be positive", label(1))
		}
		count := ts.Count
		if count == 0 {
			count = 1
		}
		if count < 0 {
			return nil, fmt.Errorf("compare: timeshift %s %d: the number of shifts must be positive", label(1), ts.Count)
		}
		total += count
		if total > MaxCompareRuns {
			return nil, fmt.Errorf("compare: at most %d shifted queries are allowed, these timeshifts need %d or more", MaxCompareRuns, total)
		}
		if ts.N > (1<<62)/unit/int64(count) {
			return nil, fmt.Errorf("compare: timeshift %s is too far back", label(1))
		}
		alias := ts.Alias
		if alias != "" {
			key := strings.ToLower(alias)
			if aliases[key] {
				return nil, fmt.Errorf("compare: duplicate alias %q", alias)
			}
			aliases[key] = true
		}
		runs := make([]int, count)
		for j := 1; j <= count; j++ {
			off := ts.N * int64(j) * unit
			r, ok := runOf[off]
			if !ok {
				r = len(p.Runs)
				runOf[off] = r
				p.Runs = append(p.Runs, Run{Offset: off, Label: label(int64(j))})
			}
			runs[j-1] = r
		}
		var cols []CompareColumn
		switch {
		case ts.Agg != AggNone:
			suffix := fmt.Sprintf("_%s_%d_%s", label(1), count, ts.Agg)
			if alias != "" {
				suffix = "_" + alias
			}
			cols = append(cols, CompareColumn{Suffix: suffix, Runs: runs, Agg: ts.Agg})
		case count == 1:
			suffix := "_" + label(1)
			if alias != "" {
				suffix = "_" + alias
			}
			cols = append(cols, CompareColumn{Suffix: suffix, Runs: runs})
		default:
			for j, r := range runs {
				suffix := "_" + label(int64(j+1))
				if alias != "" {
					suffix = "_" + alias + suffix
				}
				cols = append(cols, CompareColumn{Suffix: suffix, Runs: []int{r}})
			}
		}
		for _, c := range cols {
			key := strings.ToLower(c.Suffix)
			if suffixes[key] {
				return nil, fmt.Errorf("compare: two timeshifts produce the column suffix %q; give one of them an alias with \"as\"", c.Suffix)
			}
			suffixes[key] = true
		}
		p.Columns = append(p.Columns, cols...)
	}
	return p, nil
}

// ColumnNames returns the output column names for one value field, in
// column order: field_target first.
func (p *ComparePlan) ColumnNames(field string) []string {
	names := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		names[i] = field + c.Suffix
	}
	return names
}

// Record is one record of the current or a shifted run, as compare sees it.
type Record struct {
	// Group is the record's group-by key, built by the operator from the
	// key fields other than _timeslice (opaque here; "" when the only key
	// is _timeslice).
	Group string
	// Slice is the record's _timeslice (epoch ms) when HasSlice.
	Slice    int64
	HasSlice bool
	// Values holds the value fields compared, in the order of Join's fields.
	Values []Value
}

// ComparedRow is one output row of Join.
type ComparedRow struct {
	Group    string
	Slice    int64 // in the current period's time (shifted slices moved forward by their run's offset)
	HasSlice bool
	// Run is -1 when the row comes from the current records, else the run
	// whose record supplied the key first; Index is the record's position
	// in current or in runs[Run]. The operator copies the key fields from
	// that record.
	Run, Index int
	// Values holds, for each field, its columns in ColumnNames order:
	// len(fields) * len(Columns) values, field-major.
	Values []Value
}

// Comparison is the output of Join.
type Comparison struct {
	Columns []string // field-major: f1_target, f1_1d, ..., f2_target, ...
	Rows    []ComparedRow
	Issues  Issues
}

type compareKey struct {
	group    string
	slice    int64
	hasSlice bool
}

// Join aligns the current records with the shifted runs' records (runs[i]
// is the output of Runs[i]) on the group key and the timeslice, a shifted
// record's slice being moved forward by its run's offset. The output has
// every key present in any of them (a full outer join): first the current
// records in their order, then keys seen only in shifted runs, by slice and
// group. Missing values are Null. An aggregated column (avg, min, max) is
// computed over the runs that have a numeric value and is Null when none
// has. A key appearing twice in one record set is an error (compare follows
// an aggregate, whose keys are unique).
func (p *ComparePlan) Join(fields []string, current []Record, runs [][]Record) (*Comparison, error) {
	if len(runs) != len(p.Runs) {
		return nil, fmt.Errorf("compare: %d shifted results for %d runs", len(runs), len(p.Runs))
	}
	nf := len(fields)
	cmp := &Comparison{}
	for _, f := range fields {
		cmp.Columns = append(cmp.Columns, p.ColumnNames(f)...)
	}
	// byRun[r][key] = record values of run r (r = 0 is current, r = i+1 is runs[i]).
	byRun := make([]map[compareKey]int, len(runs)+1)
	sets := append([][]Record{current}, runs...)
	var order []ComparedRow
	seen := map[compareKey]bool{}
	for r, recs := range sets {
		var off int64
		if r > 0 {
			off = p.Runs[r-1].Offset
		}
		m := make(map[compareKey]int, len(recs))
		for i, rec := range recs {
			if len(rec.Values) != nf {
				return nil, fmt.Errorf("compare: record %d has %d values for %d fields", i, len(rec.Values), nf)
			}
			k := compareKey{group: rec.Group, hasSlice: rec.HasSlice}
			if rec.HasSlice {
				k.slice = rec.Slice + off
			}
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("compare: two records with the same key (group %q, slice %d) in one result", rec.Group, k.slice)
			}
			m[k] = i
			for _, v := range rec.Values {
				cmp.Issues.Note(v)
			}
			if !seen[k] {
				seen[k] = true
				order = append(order, ComparedRow{Group: k.group, Slice: k.slice, HasSlice: k.hasSlice, Run: r - 1, Index: i})
			}
		}
		byRun[r] = m
	}
	// Current rows keep their order; the rest go by slice, then group.
	nCur := len(current)
	rest := order[nCur:]
	sort.SliceStable(rest, func(i, j int) bool {
		a, b := rest[i], rest[j]
		if a.HasSlice != b.HasSlice {
			return !a.HasSlice
		}
		if a.Slice != b.Slice {
			return a.Slice < b.Slice
		}
		return a.Group < b.Group
	})
	ncol := len(p.Columns)
	for ri := range order {
		row := &order[ri]
		k := compareKey{group: row.Group, slice: row.Slice, hasSlice: row.HasSlice}
		row.Values = make([]Value, nf*ncol)
		// value of field f in set r (0 current, i+1 runs[i])
		get := func(r, f int) Value {
			i, ok := byRun[r][k]
			if !ok {
				return Value{}
			}
			if v := sets[r][i].Values[f]; v.OK() {
				return v
			}
			return Value{}
		}
		for f := 0; f < nf; f++ {
			for c, col := range p.Columns {
				dst := &row.Values[f*ncol+c]
				if col.Runs == nil {
					*dst = get(0, f)
					continue
				}
				if col.Agg == AggNone {
					*dst = get(col.Runs[0]+1, f)
					continue
				}
				var acc ksum
				n := 0
				var best float64
				for _, r := range col.Runs {
					v := get(r+1, f)
					if !v.OK() {
						continue
					}
					switch {
					case n == 0:
						best = v.F
					case col.Agg == AggMin && v.F < best:
						best = v.F
					case col.Agg == AggMax && v.F > best:
						best = v.F
					}
					acc.add(v.F)
					n++
				}
				if n == 0 {
					continue
				}
				res := best
				if col.Agg == AggAvg {
					res = acc.value() / float64(n)
				}
				*dst = Out(res)
				if !dst.OK() {
					cmp.Issues.Overflow++
				}
			}
		}
	}
	cmp.Rows = order
	return cmp, nil
}
