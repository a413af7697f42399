package query

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/analytics/outlier"
	"github.com/dohyo/dohyo/analytics/series"
)

// The outlier operator (spec §10.2):
//
//	outlier <f> [by <k>[, ...]] [window=<n>, threshold=<t>, consecutive=<c>, direction=<+-|+|->]
//
// follows a timeslice and an aggregate by _timeslice. For every record, in
// time order and separately per group of the by-fields, it compares f with
// the mean and standard deviation of the window (default 10) preceding
// values of its series: bounds mean ± threshold (default 3) × std, an
// indicator when the value is outside them in the allowed direction (+-
// both, + above, - below), a violation when consecutive (default 1)
// indicators come in a row. It adds f_error (value − mean), f_lower,
// f_upper, f_indicator (1 or 0), f_violation (1 or 0) and f_std. The
// options may come in any order, before or after "by", separated by
// commas or spaces.
//
// The detector is analytics/outlier.Detect, whose documentation has the
// exact rules and the choices where Sumo is silent: the first points of a
// series (fewer than half the window before them) are a warm-up without
// statistics (indicator and violation 0); a null or non-numeric value
// (counted in a warning) gets the bounds of its window but no error and is
// neither an indicator nor in any window, so use fillmissing first to count
// empty timeslices as 0.
//
// The partial last timeslice [our choice of analytics/outlier's options]:
// Sumo ignores the most recent timeslice because its data is incomplete.
// dohyo ignores it only when it is incomplete: the latest timeslice of the
// records when it ends after the query's end (so a query ending on a slice
// boundary, or whose last slices are empty, loses nothing). The slice width
// is the timeslice stage's, or, for "timeslice N buckets", the smallest gap
// between two timeslices of the records. The rows of that
// slice keep the records' other columns and get null in all six outputs.
//
// Output rows keep their input order. No pushdown.

func init() { registerStage("outlier", (*parser).parseOutlier) }

// OutlierStage is "outlier f [by ...] [options]". Zero options were not
// written (defaults).
type OutlierStage struct {
	Pos         Pos
	Field       FieldRef
	By          []FieldRef
	Window      int
	Threshold   *NumberLit
	Consecutive int
	Direction   string // "", "+-", "+" or "-"
}

// Position implements Node.
func (s *OutlierStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *OutlierStage) Name() string { return "outlier" }

func (s *OutlierStage) aggregate() bool { return false }

func (s *OutlierStage) walkFields(fn func(FieldRef)) {
	fn(s.Field)
	for _, f := range s.By {
		fn(f)
	}
}

// String implements Node.
func (s *OutlierStage) String() string {
	var b strings.Builder
	b.WriteString("outlier " + s.Field.String())
	if len(s.By) > 0 {
		b.WriteString(" by ")
		writeFieldRefs(&b, s.By)
	}
	var opts []string
	if s.Window > 0 {
		opts = append(opts, "window="+strconv.Itoa(s.Window))
	}
	if s.Threshold != nil {
		opts = append(opts, "threshold="+s.Threshold.Text)
	}
	if s.Consecutive > 0 {
		opts = append(opts, "consecutive="+strconv.Itoa(s.Consecutive))
	}
	if s.Direction != "" {
		opts = append(opts, "direction="+s.Direction)
	}
	if len(opts) > 0 {
		b.WriteString(" " + strings.Join(opts, ", "))
	}
	return b.String()
}

var outlierOptions = []string{"window", "threshold", "consecutive", "direction"}

// atOption reports whether the current token starts "<name>=" for one of
// names.
func (p *parser) atOption(names []string) bool {
	if p.tok.typ != tokTerm {
		return false
	}
	for _, n := range names {
		if strings.EqualFold(p.tok.text, n) {
			return p.peekToken().typ == tokEq
		}
	}
	return false
}

// parseOutlier parses an outlier stage; the current token is "outlier".
func (p *parser) parseOutlier() (Stage, *Error) {
	st := &OutlierStage{Pos: p.tok.pos}
	p.advance()
	if p.tok.typ == tokPipe || p.tok.typ == tokEOF {
		return nil, p.fail(`expected a field after "outlier"`).withHint("write \"outlier _count\" after an aggregate by _timeslice")
	}
	f, err := p.parseFieldRef(`after "outlier"`)
	if err != nil {
		return nil, err
	}
	st.Field = f
	seen := map[string]bool{}
	for {
		switch {
		case p.tok.typ == tokComma:
			p.advance()
			if !p.atOption(outlierOptions) {
				return nil, p.fail(`expected an option (window=, threshold=, consecutive=, direction=) after ","`)
			}
			continue
		case p.isWord("by") && st.By == nil:
			by, err := p.parseOptionByList("outlier", outlierOptions)
			if err != nil {
				return nil, err
			}
			st.By = by
			continue
		case p.tok.typ == tokTerm && p.peekToken().typ == tokEq:
			name := strings.ToLower(p.tok.text)
			namePos := p.tok.pos
			if !containsString(outlierOptions, name) {
				return nil, errorf(namePos, "outlier has no option %q", p.tok.text).
					withHint("%s", optionHint(name, outlierOptions))
			}
			if seen[name] {
				return nil, errorf(namePos, "outlier: option %s is given twice", name)
			}
			seen[name] = true
			p.advance()
			p.advance() // "="
			if err := p.parseOutlierOption(st, name); err != nil {
				return nil, err
			}
			continue
		}
		break
	}
	if err := p.expectStageEnd("outlier"); err != nil {
		if p.tok.typ == tokTerm {
			err.Hint = "options are written name=value: window=10, threshold=3, consecutive=1, direction=+-"
		}
		return nil, err
	}
	return st, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// optionHint suggests an option name.
func optionHint(name string, options []string) string {
	if h := didYouMean(name, options); h != "" {
		return h
	}
	return "the options are " + strings.Join(options, ", ")
}

// parseOptionByList parses "by f1, f2" that may be followed, after a comma,
// by options ("by user, window=5").
func (p *parser) parseOptionByList(op string, options []string) ([]FieldRef, *Error) {
	by := p.tok
	p.advance()
	var out []FieldRef
	seen := map[string]bool{}
	for {
		f, err := p.parseFieldRef(`after "` + strings.ToLower(by.text) + `"`)
		if err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, errorf(f.Pos, "field %s is listed twice after \"by\" in %s", f.String(), op)
		}
		seen[f.Name] = true
		out = append(out, f)
		if p.tok.typ != tokComma {
			return out, nil
		}
		p.advance()
		if p.atOption(options) {
			return out, nil
		}
	}
}

func (p *parser) parseOutlierOption(st *OutlierStage, name string) *Error {
	switch name {
	case "window":
		n, err := p.parsePositiveInt("outlier", "window", outlier.MaxWindow)
		if err != nil {
			return err
		}
		if n < 2 {
			return errorf(p.tok.pos, "outlier: the window must be at least 2, got %d", n)
		}
		st.Window = n
	case "consecutive":
		n, err := p.parsePositiveInt("outlier", "consecutive", outlier.MaxPoints)
		if err != nil {
			return err
		}
		st.Consecutive = n
	case "threshold":
		t := p.tok
		if t.typ != tokNumber {
			return p.fail("expected a positive number after \"threshold=\"")
		}
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil || !(v > 0) || v > 1e12 {
			return errorf(t.pos, "outlier: the threshold must be a positive number, got %s", t.text)
		}
		st.Threshold = &NumberLit{Pos: t.pos, Text: t.text, Value: v, Int: !strings.ContainsAny(t.text, ".eE")}
		p.advance()
	case "direction":
		t := p.tok
		var d strings.Builder
		end := t.pos.Offset
		for (p.tok.typ == tokPlus || p.tok.typ == tokMinus) && p.tok.pos.Offset == end && d.Len() < 2 {
			d.WriteString(p.tok.text)
			end = p.tok.end
			p.advance()
		}
		dir, err := outlier.ParseDirection(d.String())
		if err != nil || d.Len() == 0 {
			return errorf(t.pos, "outlier: the direction must be +-, + or -, found %s", t.describe())
		}
		st.Direction = dir.String()
	}
	return nil
}

// timesliceBefore returns the timeslice stage before the stage being
// compiled (nil when none) and its width in ms when fixed (0 for "N
// buckets", which depends on the range, and for one bucket).
func timesliceBefore(c *compiler) (*step, int64) {
	for i := len(c.done) - 1; i >= 0; i-- {
		s := &c.done[i]
		if t, ok := s.impl.(*timesliceImpl); ok {
			return s, t.width
		}
	}
	return nil, 0
}

// checkTimesliced checks that records come from an aggregate by
// _timeslice, for op.
func checkTimesliced(op string, pos Pos, in *schema, example string) *Error {
	if !in.records {
		return errorf(pos, "%s must follow a timeslice and an aggregate by _timeslice", op).
			withHint("for example: ... | timeslice 1h | count by _timeslice | %s", example)
	}
	fi, ok := in.field("_timeslice")
	if !ok || !fi.KeyField {
		return errorf(pos, "%s needs records grouped by _timeslice; the records have %s", op, in.names()).
			withHint("aggregate by _timeslice first: ... | timeslice 1h | count by _timeslice | %s", example)
	}
	return nil
}

func (s *OutlierStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if err := checkTimesliced("outlier", s.Pos, in, "outlier _count"); err != nil {
		return nil, err
	}
	fi, err := c.resolveField(s.Field, in)
	if err != nil {
		return nil, err
	}
	if fi.Name == "_timeslice" {
		return nil, errorf(s.Field.Pos, "outlier needs a value column, not _timeslice")
	}
	impl := &outlierImpl{text: s.String(), field: fi.Name, in: in}
	for _, f := range s.By {
		bi, err := c.resolveField(f, in)
		if err != nil {
			return nil, err
		}
		impl.by = append(impl.by, bi.Name)
	}
	impl.opts = outlier.Options{Window: s.Window, Consecutive: s.Consecutive}
	if s.Threshold != nil {
		impl.opts.Threshold = s.Threshold.Value
	}
	impl.opts.Direction, _ = outlier.ParseDirection(s.Direction)
	if _, e := outlier.Detect(nil, impl.opts); e != nil {
		return nil, errorf(s.Pos, "%s", e.Error())
	}
	_, impl.width = timesliceBefore(c)
	out := in
	for i, suffix := range outlierSuffixes {
		typ := "double"
		if suffix == "_indicator" || suffix == "_violation" {
			typ = "int"
		}
		var col int
		var e *Error
		out, col, e = addColumn(out, fi.Name+suffix, typ, s.Field.Pos, false)
		if e != nil {
			return nil, e
		}
		impl.cols[i] = col
		impl.names[i] = fi.Name + suffix
	}
	impl.out = out
	return impl, nil
}

// outlierSuffixes name outlier's columns, in output order.
var outlierSuffixes = [6]string{"_error", "_lower", "_upper", "_indicator", "_violation", "_std"}

// outlierImpl is the compiled outlier stage.
type outlierImpl struct {
	text  string
	field string
	by    []string
	opts  outlier.Options
	width int64 // timeslice width in ms; 0: infer from the records
	in    *schema
	out   *schema
	cols  [6]int
	names [6]string // the columns' names
}

func (o *outlierImpl) output() *schema              { return o.out }
func (o *outlierImpl) aggregate() bool              { return false }
func (o *outlierImpl) logsQL(string) (string, bool) { return "", false }
func (o *outlierImpl) explain() string              { return o.text }

func (o *outlierImpl) newOperator(next rowSink) rowSink { return o.newRunOperator(next, nil) }

func (o *outlierImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return &outlierOp{impl: o, x: x, next: next}
}

type outlierOp struct {
	impl *outlierImpl
	x    *runContext
	next rowSink
	rows []Row
}

func (o *outlierOp) push(rows []Row) error {
	o.rows = append(o.rows, rows...)
	return nil
}

// sliceTimes returns each row's _timeslice (ok=false for a row without a
// readable one).
func sliceTimes(rows []Row) ([]int64, []bool) {
	ts := make([]int64, len(rows))
	ok := make([]bool, len(rows))
	for i, r := range rows {
		v, err := strconv.ParseInt(r.Get("_timeslice"), 10, 64)
		ts[i], ok[i] = v, err == nil
	}
	return ts, ok
}

// partialSlice returns the start of the latest timeslice when it is
// incomplete: it ends after the query's end (end, epoch ms). width 0 is
// inferred as the smallest gap between two timeslices.
func partialSlice(ts []int64, ok []bool, width, end int64) (int64, bool) {
	var distinct []int64
	seen := map[int64]bool{}
	for i, t := range ts {
		if ok[i] && !seen[t] {
			seen[t] = true
			distinct = append(distinct, t)
		}
	}
	if len(distinct) == 0 || end <= 0 {
		return 0, false
	}
	sort.Slice(distinct, func(i, j int) bool { return distinct[i] < distinct[j] })
	latest := distinct[len(distinct)-1]
	if width <= 0 {
		for i := 1; i < len(distinct); i++ {
			if d := distinct[i] - distinct[i-1]; width <= 0 || d < width {
				width = d
			}
		}
	}
	if width <= 0 {
		return 0, false
	}
	return latest, latest+width > end
}

// groupIndexes splits row indexes by group key, groups in order of first
// appearance.
func groupIndexes(keys []string, n int) [][]int {
	if keys == nil {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	}
	var groups [][]int
	at := map[string]int{}
	for i, k := range keys {
		g, ok := at[k]
		if !ok {
			g = len(groups)
			at[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

func (o *outlierOp) finish() error {
	m := o.impl
	rows := o.rows
	o.rows = nil
	ts, tsOK := sliceTimes(rows)
	opts := m.opts
	var end int64
	if o.x != nil {
		end = o.x.end
	}
	if cut, partial := partialSlice(ts, tsOK, m.width, end); partial {
		opts.IgnoreFrom = &cut
	}
	var issues series.Issues
	out := make([]Row, len(rows))
	for _, idx := range groupIndexes(groupKeys(rows, m.by), len(rows)) {
		var pts []series.Point
		var pos []int
		for _, i := range idx {
			if !tsOK[i] {
				out[i] = o.set(rows[i], nil)
				continue
			}
			pts = append(pts, series.Point{T: ts[i], V: series.Parse(rows[i].Get(m.field))})
			pos = append(pos, i)
		}
		res, err := outlier.Detect(pts, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", m.text, err)
		}
		issues.Add(res.Issues)
		for k, i := range pos {
			out[i] = o.set(rows[i], &res.Points[k])
		}
	}
	for _, w := range issues.Warnings("outlier " + m.field) {
		o.x.warn(w)
	}
	if err := o.next.push(out); err != nil {
		return err
	}
	return o.next.finish()
}

// set writes the six outputs of a point (nil or Ignored: all null).
func (o *outlierOp) set(r Row, pt *outlier.Point) Row {
	m := o.impl
	var vals [6]string
	if pt != nil && pt.State != outlier.Ignored {
		vals[0] = seriesText(pt.Error)
		vals[1] = seriesText(pt.Lower)
		vals[2] = seriesText(pt.Upper)
		vals[3] = boolDigit(pt.Indicator)
		vals[4] = boolDigit(pt.Violation)
		vals[5] = seriesText(pt.Std)
	}
	return setOutputFields(r, m.out, m.cols[:], m.names[:], vals[:])
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
