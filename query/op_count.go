package query

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// The counting aggregates (spec §5; the stage's grammar, output and
// pushdown are described in op_aggregate.go):
//
//	count                     rows → _count
//	count(<expr>)             rows where the expression is not null → _count
//	count_distinct(<expr>)    distinct non-null values → _count_distinct
//	count_frequent f[, f2...] the most frequent combinations → f, f2, _approxcount
//
// count(f) counts the non-null values of f. The engine stores an empty
// value as missing, so dohyo cannot tell "" from null: count(f) counts
// non-empty values (an ingested empty string is not counted).
//
// count_distinct is exact: it counts distinct values (compared as strings,
// case-sensitively: "1" and "1.0" are two values), however many there are.
// Sumo is exact up to 100 distinct values and approximate (about 2%) beyond;
// dohyo pays the memory of the values instead. An empty string is null and
// not counted (Sumo counts it).
//
// count_frequent counts every combination of its fields (a missing field
// counts as the empty value) and keeps the 10,000 most frequent, largest
// count first, ties by the fields' values in string order; the column is
// _approxcount. dohyo's counts are exact (Sumo's may over-count); it holds
// at most MaxFrequentGroups combinations and fails beyond. It cannot share
// its stage with other aggregates and has no "by".
//
// Pushdown: count() and count(f) (f a field) are the engine's count() and
// count(f), which count rows and non-empty values; count_distinct(f) is
// count_uniq(f) (distinct non-empty values, exact), or uniq_values(f) when
// the rows are split between the engine and Go, merged as sets;
// count_frequent is stats by (fields) count(), ranked in Go.

// MaxFrequentGroups is the most combinations count_frequent and top hold.
const MaxFrequentGroups = 1000000

// countFrequentKeep is the number of combinations count_frequent keeps.
const countFrequentKeep = 10000

func init() {
	registerAgg(&aggKind{name: "count", defaultNames: fixedNames("_count"), build: buildCount})
	registerAgg(&aggKind{name: "count_distinct", defaultNames: fixedNames("_count_distinct"), build: buildCountDistinct})
	registerAgg(&aggKind{name: "count_frequent", defaultNames: fixedNames("_approxcount"), build: buildCount})
}

func fixedNames(name string) func(*AggCall) []string {
	return func(*AggCall) []string { return []string{name} }
}

// ---- count ----

type countFn struct {
	col   FieldInfo
	arg   evaluator // nil counts rows
	field string    // the counted field when it is a plain field
}

func buildCount(b *aggBuild) (aggFn, *Error) {
	typ := "int"
	if b.call.Func == "count_frequent" {
		typ = "long"
	}
	f := &countFn{col: FieldInfo{Name: b.names[0], Type: typ}, arg: b.arg}
	if b.arg != nil {
		f.field = b.argField()
	}
	return f, nil
}

func (f *countFn) columns() []FieldInfo { return []FieldInfo{f.col} }

func (f *countFn) newAcc() aggAcc {
	if f.arg == nil {
		return &countRowsAcc{}
	}
	return &countAcc{arg: f.arg}
}

func (f *countFn) engine() (aggEngine, bool) {
	switch {
	case f.arg == nil, f.field == event.FieldMessageTime:
		return aggEngine{parts: []string{"count()"}}, true
	case f.field != "":
		return aggEngine{parts: []string{"count(" + logsQLString(storageField(f.field)) + ")"}}, true
	}
	return aggEngine{}, false
}

type countRowsAcc struct{ n int64 }

func (a *countRowsAcc) add(*runContext, *aggArg, Row) { a.n++ }

func (a *countRowsAcc) appendResult(_ *runContext, dst []string) []string {
	return append(dst, strconv.FormatInt(a.n, 10))
}

func (a *countRowsAcc) mergeEngine(vals []string, _ bool) error {
	n, err := engineInt(vals[0])
	a.n += n
	return err
}

type countAcc struct {
	arg evaluator
	n   int64
}

func (a *countAcc) add(_ *runContext, arg *aggArg, _ Row) {
	if !arg.v.IsNull() {
		a.n++
	}
}

func (a *countAcc) appendResult(_ *runContext, dst []string) []string {
	return append(dst, strconv.FormatInt(a.n, 10))
}

func (a *countAcc) mergeEngine(vals []string, _ bool) error {
	n, err := engineInt(vals[0])
	a.n += n
	return err
}

// ---- count_distinct ----

type countDistinctFn struct {
	col   FieldInfo
	arg   evaluator
	field string
}

func buildCountDistinct(b *aggBuild) (aggFn, *Error) {
	return &countDistinctFn{col: FieldInfo{Name: b.names[0], Type: "long"}, arg: b.arg, field: b.argField()}, nil
}

func (f *countDistinctFn) columns() []FieldInfo { return []FieldInfo{f.col} }

func (f *countDistinctFn) newAcc() aggAcc {
	return &distinctAcc{arg: f.arg, set: make(map[string]struct{})}
}

func (f *countDistinctFn) engine() (aggEngine, bool) {
	if f.field == "" || f.field == event.FieldMessageTime {
		return aggEngine{}, false
	}
	sf := logsQLString(storageField(f.field))
	return aggEngine{parts: []string{"count_uniq(" + sf + ")"}, split: []string{"uniq_values(" + sf + ")"}, cond: canonicalCond(f.field)}, true
}

// distinctAcc collects distinct values (count_distinct, values).
type distinctAcc struct {
	arg evaluator
	set map[string]struct{}
	// engineN is the engine's count of a pushed count_distinct that ran
	// entirely in the engine.
	engineN int64
	// values: the most values kept and the warning when there are
	// more; cut, once set, is the largest value still kept.
	keep      int
	warn      string
	json      bool
	cut       string
	truncated bool
}

func (a *distinctAcc) add(_ *runContext, arg *aggArg, _ Row) {
	v := arg.v
	if v.IsNull() {
		return
	}
	a.addString(v.String())
}

func (a *distinctAcc) addString(s string) {
	if s == "" {
		return
	}
	if a.truncated && s > a.cut {
		return
	}
	if _, ok := a.set[s]; !ok {
		a.set[strings.Clone(s)] = struct{}{}
		if a.keep > 0 && len(a.set) >= 2*a.keep {
			a.trim()
		}
	}
}

// trim keeps the a.keep smallest values.
func (a *distinctAcc) trim() {
	list := make([]string, 0, len(a.set))
	for s := range a.set {
		list = append(list, s)
	}
	sort.Strings(list)
	for _, s := range list[a.keep:] {
		delete(a.set, s)
	}
	a.cut, a.truncated = list[a.keep-1], true
}

func (a *distinctAcc) mergeEngine(vals []string, split bool) error {
	if !split && !a.json {
		n, err := engineInt(vals[0])
		a.engineN += n
		return err
	}
	if vals[0] == "" {
		return nil
	}
	var list []string
	if err := json.Unmarshal([]byte(vals[0]), &list); err != nil {
		return engineValueError(vals[0], err)
	}
	for _, s := range list {
		a.addString(s)
	}
	return nil
}

func (a *distinctAcc) appendResult(x *runContext, dst []string) []string {
	if a.json {
		return append(dst, a.valuesJSON(x))
	}
	return append(dst, strconv.FormatInt(int64(len(a.set))+a.engineN, 10))
}

// engineInt parses an integer the engine computed.
func engineInt(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, engineValueError(s, err)
	}
	return n, nil
}
