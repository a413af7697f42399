package query

import (
	"slices"
	"strings"
)

// Guarded numeric where before a pushed aggregate.
//
// "where num(f) > N" is not pushed as a filter of its own (expr_logsql.go:
// no LogsQL filter follows Go's number rules on every value), which sends
// every row to Go when the where stands between the extraction and the
// aggregate:
//
//	parse "\" * * \"" as status, size | where num(size) > 5000 | avg(size) by status
//
// The engine's range filter decides exactly as Go on the rows whose value
// of f is empty or a plain integer (numericCond, the condition the numeric
// aggregates already carry): both read the same integer, exact below 2^53,
// and N is an integer below 10^15. On every other value it may differ, so
// a where made of such comparisons is pushed, only in front of a pushed
// aggregate, as a filter keeping a superset of Go's rows
//
//	filter (f:>N or f:~"\\.|e|E|\\+")
//
// and adds the condition to the aggregate's condition G (agg_pushdown.go),
// in the cheaper form guardCond(f) that the filter makes exact, which also
// replaces the aggregate's own numericCond(f).
// The engine's query counts the rows failing G as it does for the
// aggregate's own conditions; none, the common case: every row reaching
// the stats had a value on which the filter was exact, and so did every row
// it dropped (see below), so the results are Go's. Some: the run splits as
// for any row failing G — the engine recomputes the groups over the rows
// satisfying G, and the rows failing it stream through the Go where (the
// exact one) into the Go aggregate. A group that only rows failing G made
// is never created from the first query (mergeBlock skips them).
//
// Why the filter keeps every row the Go where keeps: Go keeps a value only
// if it is a number in Go's grammar, [+-]digits[.digits][e[+-]digits]. One
// with a '.', 'e', 'E' or '+' is kept by the second branch. The others are
// integers written with digits and an optional minus; the engine reads them
// (tryParseUint64, or strconv.ParseFloat for leading zeros and long ones)
// as the nearest float64, which is on the same side of N as the integer
// (N is exact, rounding is monotonic). A column the engine keeps in a
// numeric encoding is invisible to the regexp in a pipe (numericCond), but
// its values are the integers and round-tripping floats the engine compares
// exactly; an IPv4 or timestamp column fails G wherever the range filter
// keeps it, and Go, reading no number there, drops it on either side.
// TestWhereGuardDifferential checks all of it on tricky values in every
// encoding.
//
// The guard applies when the stages from the first one the engine cannot
// run up to the first aggregate are such wheres and fused timeslices, the
// aggregate is a pushable stage of op_aggregate.go and the messages are
// not ordered (no tail). The plan itself keeps the where in Go (messages,
// histogram, match counts stay exact); executeAggregate and Explain use
// guardedPlan.

// guardCatchRegexp matches the values in Go's number grammar that are not
// integers without a plus sign: '.', 'e', 'E' or '+'. Literals joined by
// '|' the engine tests as substrings; a character class goes through Go's
// regexp engine (4% of the query above, bench/query -try).
const guardCatchRegexp = `\.|e|E|\+`

// guardCond is the condition G holds for a guarded field f in place of
// numericCond(f), which costs a regexp per row (a third of the time of
// 'parse | where num(size) > 5000 | avg(size) by status', bench/query -try).
// It is weaker, and exact only on the rows the guard's superset filter
// kept, which the engine read as a number (its range filter held) or
// which hold '.', 'e', 'E' or '+':
//
//   - pattern_match_full("<N>") holds for digits, and for runs of hex
//     digits with a letter and an even length of at least 4 (the engine's
//     collapse_nums rule), nothing else: no sign, '.', '_', space or other
//     letter;
//   - of the hex letters, only these make a number for the engine: 'd' (a
//     duration, "1d1d"), 'B' (bytes, "100B"), 'b' and 'B' (a binary
//     "0b101..." through strconv.ParseInt base 0), 'e' and 'E' (exponents:
//     "1e3090" overflows for the engine, not for Go); they are excluded;
//   - so a kept row satisfying G holds digits only, or a value the engine
//     does not read as a number, which its range filter dropped and which
//     no '.', 'e', 'E' or '+' kept. Digits only (leading zeros and any
//     length) read as the same number in Go and in the engine, and sums
//     of them are monotonic, checked below 2^53 (agg_numeric.go);
//   - no empty value passes the filter, so G need not accept one, and
//     the field's count is the rows' count.
//
// The value_type alternatives are numericCond's: the engine's filters in
// a pipe see no value of a column in a numeric encoding.
// TestWhereGuardDifferential checks it all, with such values.
func guardCond(f string) string {
	q := logsQLString(storageField(f))
	// One regexp of literals, which the engine runs as substring tests
	// (regexutil's "or values"), costs half as much as five filters.
	// No empty value passes the superset filter: no test for one.
	return "((" + q + `:pattern_match_full("<N>") !` + q + `:~"b|B|d|e|E") or ` +
		q + ":value_type(uint8) or " + q + ":value_type(uint16) or " + q + ":value_type(uint32))"
}

// whereGuard is the guarded part of a plan.
type whereGuard struct {
	from    int            // the index of the first guarded step (the plan's pushed)
	filters map[int]string // the superset filter of each guarded where step
	fields  []string       // the fields the wheres read
}

// guardFilter returns the superset filter of cond and the fields it reads,
// or ok=false when cond is not a conjunction of num(f) <op> N comparisons.
func guardFilter(cond Expression) (filter string, fields []string, ok bool) {
	n, isBin := cond.(*BinaryExpr)
	if !isBin {
		return "", nil, false
	}
	if n.Op == "and" {
		l, lf, okL := guardFilter(n.L)
		r, rf, okR := guardFilter(n.R)
		if !okL || !okR {
			return "", nil, false
		}
		return l + " " + r, append(lf, rf...), true
	}
	f, op, lit, ok := numComparison(n) // where_prefilter.go
	if !ok {
		return "", nil, false
	}
	q := logsQLString(storageField(f))
	return "(" + q + ":" + op + lit + " or " + q + ":~" + logsQLString(guardCatchRegexp) + ")", []string{f}, true
}

// guardableWhere reports whether s is a where the guard can push (a fused
// timeslice may follow it: the engine computes its buckets when it does,
// and the Go timeslice operator when the where runs in Go).
func guardableWhere(s Stage) bool {
	w, ok := s.(*WhereStage)
	if !ok {
		return false
	}
	_, _, ok = guardFilter(w.Cond)
	return ok
}

// planGuard sets p.guard when the stages from p.pushed to the first
// aggregate can run in the engine under the guard.
func (p *Plan) planGuard() {
	if !p.opts.PushDown || !p.scopePushed || p.firstAgg < 0 || p.pushed >= p.firstAgg || p.tail >= 0 {
		return
	}
	a, ok := p.steps[p.firstAgg].impl.(*aggImpl)
	if !ok || !a.pushable {
		return
	}
	g := &whereGuard{from: p.pushed, filters: map[int]string{}}
	seen := map[string]bool{}
	var sliceNames []string
	for i := p.pushed; i < p.firstAgg; i++ {
		switch s := p.steps[i].stage.(type) {
		case *WhereStage:
			filter, fields, ok := guardFilter(s.Cond)
			if !ok {
				return
			}
			g.filters[i] = filter
			for _, f := range fields {
				if !seen[f] {
					seen[f] = true
					g.fields = append(g.fields, f)
				}
			}
		default:
			// A fused timeslice (its buckets are computed in the stats
			// by-list) writes a field no guarded where reads: numField
			// takes no built-in and no name with a leading underscore,
			// and a named timeslice's field is checked here.
			t, ok := p.steps[i].impl.(*timesliceImpl)
			if !ok || !t.fused {
				return
			}
			sliceNames = append(sliceNames, t.name)
		}
	}
	if len(g.filters) == 0 {
		return
	}
	for _, f := range g.fields {
		for _, t := range sliceNames {
			if strings.EqualFold(f, t) {
				return
			}
		}
	}
	p.guard = g
}

// guardedPlan is the plan running the guarded stages and the aggregate in
// the engine, or nil when p has no guard (or has already left it behind:
// a fallback pushing fewer stages).
func (p *Plan) guardedPlan() *Plan {
	if p.guard == nil || p.pushed != p.guard.from {
		return nil
	}
	d := *p
	d.pushed = p.firstAgg + 1
	return &d
}

// guarding reports whether the plan runs guarded stages in the engine.
func (p *Plan) guarding() bool { return p.guard != nil && p.pushed > p.guard.from }

// guardedFields are the fields of the guarded wheres when the plan runs
// them in the engine (their rows satisfy guardCond).
func (p *Plan) guardedFields() []string {
	if !p.guarding() {
		return nil
	}
	return p.guard.fields
}

// uncheckedParse reports whether parse step i needs no check of the rows
// its pattern does not match (unmatchedLogsQL): it comes right before the
// guarded wheres, which compare its last output. The extract leaves that
// output empty on such rows, and every guarded where's superset filter is
// a conjunction holding a term (f:op N or f:~guardCatchRegexp) for it,
// false on an empty value, so the engine drops them; Go drops them too,
// in the parse, or in the where (num of an empty value is null), like the
// rows the pattern matches with an empty last output. Saves a test and a
// copy per row (bench/query -try).
func (p *Plan) uncheckedParse(i int, c *parseImpl) bool {
	if !p.guarding() || i != p.guard.from-1 || c.extraction.nodrop {
		return false
	}
	outs := c.extraction.outs
	return len(outs) > 0 && slices.Contains(p.guard.fields, outs[len(outs)-1])
}

// guardedPipe is the pushed pipe of guarded step i, if it is one.
func (p *Plan) guardedPipe(i int) (string, bool) {
	if !p.guarding() {
		return "", false
	}
	f, ok := p.guard.filters[i]
	if !ok {
		return "", false
	}
	return "filter " + f, true
}

// unguarded caps a fallback's pushed steps below the guarded ones: a plan
// whose aggregate runs in Go must run the wheres in Go too.
func (p *Plan) unguarded(pushed int) int {
	if p.guard != nil && pushed > p.guard.from {
		return p.guard.from
	}
	return pushed
}

// aggCond is the condition of the pushed aggregate a: its own (engineCond)
// and the guard's.
func (p *Plan) aggCond(a *aggImpl) string { return p.aggCondKeys(a, !a.keyCheck) }

// aggCondKeys is aggCond, with the single by-field's guard when keyGuard
// is set (checked keys, agg_pushdown.go).
func (p *Plan) aggCondKeys(a *aggImpl, keyGuard bool) string {
	// A guarded field's guardCond replaces the aggregate's numericCond
	// of it: the rows reaching the aggregate are those the superset
	// filter kept.
	conds := a.engineConds(keyGuard, p.guardedFields())
	if p.cond != nil && p.cond.optimistic && !p.condInKeys(a) {
		conds = append(conds, p.cond.condFilter()) // pushdown_cond.go
	}
	for _, f := range p.guardedFields() {
		if c := guardCond(f); !slices.Contains(conds, c) {
			conds = append(conds, c)
		}
	}
	return joinConds(conds)
}

// guardSteps returns the guarded where steps, in order.
func (p *Plan) guardSteps() []int {
	if !p.guarding() {
		return nil
	}
	var out []int
	for i := p.guard.from; i < p.firstAgg; i++ {
		if _, ok := p.guard.filters[i]; ok {
			out = append(out, i)
		}
	}
	return out
}
