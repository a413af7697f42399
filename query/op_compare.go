package query

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/analytics/series"
	"github.com/dohyo/dohyo/store"
)

// The compare operator (spec §10.1):
//
//	compare [with] timeshift <N><unit> [<count> [avg|min|max]] [as <alias>][, timeshift ...]
//
// follows an aggregate. For each timeshift it runs the query's stages
// before compare again over the time range moved back by the shift (count
// times: shifts of N, 2N, ... units), and joins the shifted records with
// the current ones on their key fields, _timeslice moved forward by the
// shift (a full outer join: a key present in any run gives a row; the
// current records come first in their order, then keys seen only in
// shifted runs, by time then key). Units: s, m, h, d, w (a day is 24 hours,
// also across a daylight-saving change).
//
// Every non-key column f of the records is compared; the output has the key
// fields, then for each f the columns analytics/series.PlanCompare names:
// f_target (the current value), f_1d, f_2d... (one per shift), or one
// combined column f_1w_3_avg (avg, min or max over the runs that have a
// value), or the alias' names (f_<alias>, f_<alias>_1d...). A missing value
// is null; values that are not numbers are null with a warning.
//
// [our choice] f itself stays resolvable for later stages as an alias of
// f_target ("compare timeshift 1d | where _count > _count_1d"): the rows
// carry it as a trailing field and the schema resolves the name, but it is
// not delivered. A stage that rebuilds the columns (fields, an aggregate,
// transpose) ends the alias.
//
// Limits: at most series.MaxCompareRuns (7) shifted runs in all, compare
// once per query, no duplicate aliases or column names, and the timeslice
// (if any) must keep its name _timeslice. The shifted runs see the same
// query clock (now()) and warnings; queryStartTime() and queryEndTime() are
// the shifted range's. A save before compare writes only for the current
// run. No pushdown: the shifted runs each push down what they can, as the
// query itself does.
//
// Execution (exec.go, bindPrefixRuns): before a run, the plan binds
// compare to a runner that executes the plan's prefix (the steps before
// compare, Plan.prefixPlan) over a shifted range and returns its records;
// compare's Go operator calls it once per shifted run when its input is
// complete.

func init() { registerStage("compare", (*parser).parseCompare) }

// TimeshiftClause is one "timeshift <N><unit> [<count> [avg|min|max]] [as
// <alias>]" of compare.
type TimeshiftClause struct {
	Pos   Pos
	N     int64
	Unit  string // s, m, h, d or w
	Count int    // 0 when not written
	Agg   string // "", "avg", "min" or "max"
	Alias string
}

// CompareStage is "compare with timeshift ...".
type CompareStage struct {
	Pos    Pos
	Shifts []TimeshiftClause
}

// Position implements Node.
func (s *CompareStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *CompareStage) Name() string { return "compare" }

func (s *CompareStage) aggregate() bool           { return false }
func (s *CompareStage) walkFields(func(FieldRef)) {}

// String implements Node.
func (s *CompareStage) String() string {
	var b strings.Builder
	b.WriteString("compare with ")
	for i, ts := range s.Shifts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("timeshift " + strconv.FormatInt(ts.N, 10) + ts.Unit)
		if ts.Count > 0 {
			b.WriteString(" " + strconv.Itoa(ts.Count))
		}
		if ts.Agg != "" {
			b.WriteString(" " + ts.Agg)
		}
		if ts.Alias != "" {
			b.WriteString(" as " + fieldText(ts.Alias))
		}
	}
	return b.String()
}

// durationWord splits a duration written as one word ("1d", "15m") into
// its amount and unit (s, m, h, d or w, lower-cased).
func durationWord(text string) (int64, string, bool) {
	i := 0
	for i < len(text) && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	if i == 0 || i == len(text) {
		return 0, "", false
	}
	unit := strings.ToLower(text[i:])
	switch unit {
	case "s", "m", "h", "d", "w":
	default:
		return 0, "", false
	}
	n, err := strconv.ParseInt(text[:i], 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return 0, "", false
	}
	return n, unit, true
}

// unitMillis is the length of a duration unit.
func unitMillis(unit string) int64 {
	switch unit {
	case "s":
		return 1000
	case "m":
		return 60 * 1000
	case "h":
		return 3600 * 1000
	case "d":
		return 24 * 3600 * 1000
	case "w":
		return 7 * 24 * 3600 * 1000
	}
	return 0
}

// parseDurationArg parses a duration word ("1d") for op, after what.
func (p *parser) parseDurationArg(op, after string) (int64, string, Pos, *Error) {
	t := p.tok
	if t.typ == tokMinus {
		return 0, "", t.pos, errorf(t.pos, "%s: the duration after %q must be positive", op, after).
			withHint("write the amount and unit without a sign: 1d, 12h, 30m")
	}
	if t.typ != tokTerm && t.typ != tokNumber {
		return 0, "", t.pos, p.fail("expected a duration such as 1d after %q", after)
	}
	n, unit, ok := durationWord(t.text)
	if !ok {
		if t.typ == tokNumber {
			return 0, "", t.pos, errorf(t.pos, "%s: the duration %s has no unit", op, t.text).
				withHint("write %ss, %sm, %sh, %sd or %sw", t.text, t.text, t.text, t.text, t.text)
		}
		return 0, "", t.pos, errorf(t.pos, "%s: %s is not a duration", op, t.describe()).
			withHint("write a positive whole number and a unit: s, m, h, d or w (1d, 12h, 30m)")
	}
	p.advance()
	return n, unit, t.pos, nil
}

// parseCompare parses a compare stage; the current token is "compare".
func (p *parser) parseCompare() (Stage, *Error) {
	st := &CompareStage{Pos: p.tok.pos}
	p.advance()
	if p.isWord("with") {
		p.advance()
	}
	for {
		if !p.isWord("timeshift") {
			if len(st.Shifts) == 0 || !(p.tok.typ == tokTerm || p.tok.typ == tokNumber) {
				return nil, p.fail(`expected "timeshift" in compare`).withHint("write \"compare with timeshift 1d\"")
			}
		} else {
			p.advance()
		}
		var ts TimeshiftClause
		var err *Error
		ts.N, ts.Unit, ts.Pos, err = p.parseDurationArg("compare", "timeshift")
		if err != nil {
			return nil, err
		}
		if p.tok.typ == tokNumber {
			n, err := p.parsePositiveInt("compare", "the number of shifts", series.MaxCompareRuns)
			if err != nil {
				return nil, err
			}
			ts.Count = n
			switch {
			case p.isWord("avg"), p.isWord("min"), p.isWord("max"):
				ts.Agg = strings.ToLower(p.tok.text)
				p.advance()
			}
		} else if p.isWord("avg") || p.isWord("min") || p.isWord("max") {
			return nil, errorf(p.tok.pos, "compare: %q needs a number of shifts before it", strings.ToLower(p.tok.text)).
				withHint("write \"timeshift %d%s 3 %s\"", ts.N, ts.Unit, strings.ToLower(p.tok.text))
		}
		if p.isWord("as") {
			p.advance()
			f, err := p.parseFieldRef(`after "as"`)
			if err != nil {
				return nil, err
			}
			if f.Param {
				return nil, errorf(f.Pos, "a template parameter cannot name compare's columns")
			}
			ts.Alias = f.Name
		}
		st.Shifts = append(st.Shifts, ts)
		if p.tok.typ != tokComma {
			break
		}
		p.advance()
	}
	if err := p.expectStageEnd("compare"); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *CompareStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if !in.records {
		return nil, errorf(s.Pos, "compare must follow an aggregate").
			withHint("compare re-runs an aggregate over earlier time: ... | timeslice 1h | count by _timeslice | compare with timeshift 1d")
	}
	for _, d := range c.done {
		switch d.stage.Name() {
		case "compare":
			return nil, errorf(s.Pos, "compare can be used only once in a query").
				withHint("list several timeshifts in one compare: compare with timeshift 1d, timeshift 1w")
		}
		if t, ok := d.impl.(*timesliceImpl); ok && t.name != "_timeslice" {
			return nil, errorf(s.Pos, "compare needs the timeslice under its own name, _timeslice").
				withHint("remove the alias of %q", d.stage.String())
		}
	}
	shifts := make([]series.Timeshift, len(s.Shifts))
	for i, ts := range s.Shifts {
		agg := series.AggNone
		if ts.Agg != "" {
			agg, _ = series.ParseAgg(ts.Agg)
		}
		shifts[i] = series.Timeshift{N: ts.N, Unit: ts.Unit, Count: ts.Count, Agg: agg, Alias: ts.Alias}
	}
	cp, err := series.PlanCompare(shifts)
	if err != nil {
		return nil, errorf(s.Pos, "%s", strings.TrimPrefix(err.Error(), "compare: ")).withHint("see the compare clause")
	}
	impl := &compareImpl{text: s.String(), in: in, plan: cp, out: &schema{records: true, aliases: map[string]string{}}}
	for _, f := range in.fields {
		if f.KeyField {
			impl.keys = append(impl.keys, f.Name)
			impl.out.fields = append(impl.out.fields, f)
			if f.Name == "_timeslice" {
				impl.slice = f.Name
			}
		}
	}
	taken := map[string]bool{}
	for _, f := range impl.out.fields {
		taken[f.Name] = true
	}
	for _, f := range in.fields {
		if f.KeyField {
			continue
		}
		impl.values = append(impl.values, f.Name)
		for k, name := range cp.ColumnNames(f.Name) {
			if taken[name] {
				return nil, errorf(s.Pos, "compare would make the column %q twice", name).withHint("give the timeshift an alias with \"as\"")
			}
			taken[name] = true
			typ := f.Type
			if cp.Columns[k].Agg == series.AggAvg {
				typ = "double"
			}
			impl.out.fields = append(impl.out.fields, FieldInfo{Name: name, Type: typ})
		}
		impl.out.aliases[f.Name] = f.Name + "_target"
	}
	if len(impl.values) == 0 {
		return nil, errorf(s.Pos, "compare needs a value column besides the group-by fields; the records have %s", in.names())
	}
	return impl, nil
}

// compareImpl is the compiled compare stage.
type compareImpl struct {
	text   string
	in     *schema
	out    *schema
	plan   *series.ComparePlan
	keys   []string // key fields, in order
	slice  string   // "_timeslice" when it is a key
	values []string // the compared fields
	// run executes the query before compare over the range moved back by
	// offset ms and returns its records; set by Plan.bindPrefixRuns.
	run func(offset int64) ([]Row, error)
}

func (c *compareImpl) output() *schema              { return c.out }
func (c *compareImpl) aggregate() bool              { return false }
func (c *compareImpl) logsQL(string) (string, bool) { return "", false }

func (c *compareImpl) explain() string {
	labels := make([]string, len(c.plan.Runs))
	for i, r := range c.plan.Runs {
		labels[i] = r.Label
	}
	return c.text + " (re-runs the stages before it shifted back " + strings.Join(labels, ", ") + ")"
}

func (c *compareImpl) newOperator(next rowSink) rowSink { return c.newRunOperator(next, nil) }

func (c *compareImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return &compareOp{impl: c, x: x, next: next}
}

// compareOp collects the current records and joins them with the shifted
// runs' at the end.
type compareOp struct {
	impl *compareImpl
	x    *runContext
	next rowSink
	rows []Row
}

func (o *compareOp) push(rows []Row) error {
	o.rows = append(o.rows, rows...)
	return nil
}

// records turns rows into compare's records.
func (c *compareImpl) records(rows []Row) []series.Record {
	out := make([]series.Record, len(rows))
	var key []byte
	for i, r := range rows {
		key = key[:0]
		rec := series.Record{Values: make([]series.Value, len(c.values))}
		for _, k := range c.keys {
			v := r.Get(k)
			if k == c.slice {
				if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
					rec.Slice, rec.HasSlice = ms, true
				}
				continue
			}
			key = appendKeyPart(key, v)
		}
		rec.Group = string(key)
		for j, f := range c.values {
			rec.Values[j] = series.Parse(r.Get(f))
		}
		out[i] = rec
	}
	return out
}

func (o *compareOp) finish() error {
	c := o.impl
	if c.run == nil {
		return errorf(Pos{}, "compare cannot run here: it needs to re-run the query over earlier time")
	}
	shifted := make([][]Row, len(c.plan.Runs))
	recs := make([][]series.Record, len(c.plan.Runs))
	for i, r := range c.plan.Runs {
		rows, err := c.run(r.Offset)
		if err != nil {
			return err
		}
		shifted[i] = rows
		recs[i] = c.records(rows)
	}
	cmp, err := c.plan.Join(c.values, c.records(o.rows), recs)
	if err != nil {
		return err
	}
	for _, w := range cmp.Issues.Warnings("compare") {
		o.x.warn(w)
	}
	ncol := len(c.plan.Columns)
	out := make([]Row, len(cmp.Rows))
	for i, cr := range cmp.Rows {
		src := o.rows
		if cr.Run >= 0 {
			src = shifted[cr.Run]
		}
		origin := src[cr.Index]
		row := make(Row, 0, len(c.out.fields)+len(c.values))
		for _, k := range c.keys {
			v := origin.Get(k)
			if k == c.slice && cr.HasSlice {
				v = strconv.FormatInt(cr.Slice, 10)
			}
			row = append(row, Field{k, v})
		}
		for j, v := range cr.Values {
			row = append(row, Field{cmp.Columns[j], seriesText(v)})
		}
		// The trailing aliases: f is f_target.
		for j, f := range c.values {
			row = append(row, Field{f, seriesText(cr.Values[j*ncol])})
		}
		out[i] = row
	}
	o.rows = nil
	if err := o.next.push(out); err != nil {
		return err
	}
	return o.next.finish()
}

// seriesText renders an analytics value as a field value ("" for null).
func seriesText(v series.Value) string {
	if !v.OK() {
		return ""
	}
	return FormatNumber(v.F)
}

// ---- running the query before compare over a shifted range ----

// bindPrefixRuns returns the plan to run with compare bound to runners of
// the plan's prefix over shifted ranges (p itself when there is no
// compare). p is the compiled plan; each shifted run makes its own
// run-time decisions (conditional pushdown, environment) over its range.
func (p *Plan) bindPrefixRuns(ctx context.Context, st store.Store, opt ExecOptions) *Plan {
	for i, s := range p.steps {
		c, ok := s.impl.(*compareImpl)
		if !ok {
			continue
		}
		cp := *p
		cp.steps = append([]step(nil), p.steps...)
		bound := *c
		bound.run = func(offset int64) ([]Row, error) { return p.runPrefix(ctx, st, opt, i, offset) }
		cp.steps[i].impl = &bound
		return &cp
	}
	return p
}

// prefixPlan is the plan of steps [0, n): the query up to (not including)
// step n, which must follow an aggregate.
func (p *Plan) prefixPlan(n int) *Plan {
	cp := *p
	cp.steps = p.steps[:n:n]
	cp.pushed = min(p.pushed, n)
	cp.out = p.steps[n-1].impl.output()
	if cp.tail >= n {
		cp.tail = -1
	}
	return &cp
}

// runPrefix runs the steps before step n over the run's range moved back
// by offset ms and returns the records, laid out as step n's input.
func (p *Plan) runPrefix(ctx context.Context, st store.Store, opt ExecOptions, n int, offset int64) ([]Row, error) {
	pre := p.prefixPlan(n)
	so := opt
	d := time.Duration(offset) * time.Millisecond
	so.Range = Range{Start: opt.Range.Start.Add(-d), End: opt.Range.End.Add(-d)}
	so.MaxMessages, so.Progress, so.SkipMatchCount = 0, nil, false
	rc := newRunContext(so)
	if opt.run != nil {
		rc.now, rc.warns = opt.run.now, opt.run.warns
	}
	so.run = rc
	pre, err := pre.decideConditional(ctx, st, so)
	if err != nil {
		return nil, err
	}
	bp, _, err := pre.bindEnv(ctx, so, false)
	if err != nil {
		return nil, err
	}
	sink := &recordsSink{}
	if bp.tail >= 0 {
		_, err = bp.executeTail(ctx, st, so, sink)
	} else {
		_, err = bp.executeAggregate(ctx, st, so, sink)
	}
	return sink.rows, err
}

// recordsSink keeps the records of a run.
type recordsSink struct{ rows []Row }

func (s *recordsSink) Messages([]Row) error { return nil }
func (s *recordsSink) Records(_ []FieldInfo, rows []Row) error {
	s.rows = rows
	return nil
}
