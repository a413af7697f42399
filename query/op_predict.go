package query

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/analytics/forecast"
	"github.com/dohyo/dohyo/analytics/series"
)

// The predict operator (spec §10.3):
//
//	predict <f> by <N><unit> [model=linear|ar, ar.window=<n>, forecast=<n | N<unit>>]
//
// follows a timeslice and an aggregate by _timeslice; "by" gives the
// timeslice width. It fits a model to the series of f over time and adds
// f_predicted (the model's value for the slice) and f_error (predicted −
// actual), and with model=ar also f_linear (the linear trend under the AR
// model); then it appends forecast records: the next forecast slices
// (default 3, at most 100; "forecast=30m" is rounded up to whole slices)
// with their _timeslice and f_predicted (and f_linear), every other
// column null. The model is analytics/forecast.Predict, whose documentation
// has the rules: the slices form a regular grid from the first one; a
// missing slice or a value that is not a number counts as 0 with a warning
// (use fillmissing first); two records in one slice are an error; at most
// 10,000 points and 20,000 slices; the AR model's order is ar.window or
// chosen automatically, with a warning below 100 slices.
//
// [our choice] When the records have other key fields besides _timeslice
// ("count by _timeslice, host"), each combination is its own series,
// forecast separately; its forecast records carry its key values. The
// input records keep their order; the forecast records follow all of them,
// series by series in order of first appearance, in time order. The width
// after "by" must match the timeslice's when the timeslice stage tells it.
// Options may be separated by commas or spaces. No pushdown.

func init() { registerStage("predict", (*parser).parsePredict) }

// PredictStage is "predict f by <N><unit> [options]".
type PredictStage struct {
	Pos   Pos
	Field FieldRef
	// StepN and StepUnit are the slice width ("1h": 1, "h").
	StepN    int64
	StepUnit string
	Model    string // "", "linear" or "ar"
	ARWindow int    // 0 when not written
	// Forecast is a number of slices (ForecastUnit "") or a duration.
	Forecast     int64
	ForecastUnit string
}

// Position implements Node.
func (s *PredictStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *PredictStage) Name() string { return "predict" }

func (s *PredictStage) aggregate() bool              { return false }
func (s *PredictStage) walkFields(fn func(FieldRef)) { fn(s.Field) }

// String implements Node.
func (s *PredictStage) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "predict %s by %d%s", s.Field.String(), s.StepN, s.StepUnit)
	var opts []string
	if s.Model != "" {
		opts = append(opts, "model="+s.Model)
	}
	if s.ARWindow > 0 {
		opts = append(opts, "ar.window="+strconv.Itoa(s.ARWindow))
	}
	if s.Forecast > 0 {
		opts = append(opts, "forecast="+strconv.FormatInt(s.Forecast, 10)+s.ForecastUnit)
	}
	if len(opts) > 0 {
		b.WriteString(" " + strings.Join(opts, ", "))
	}
	return b.String()
}

var predictOptions = []string{"model", "ar.window", "forecast"}

// parsePredict parses a predict stage; the current token is "predict".
func (p *parser) parsePredict() (Stage, *Error) {
	st := &PredictStage{Pos: p.tok.pos}
	p.advance()
	if p.tok.typ == tokPipe || p.tok.typ == tokEOF {
		return nil, p.fail(`expected a field after "predict"`).withHint("write \"predict _count by 1h\" after an aggregate by _timeslice")
	}
	f, err := p.parseFieldRef(`after "predict"`)
	if err != nil {
		return nil, err
	}
	st.Field = f
	if !p.isWord("by") {
		return nil, p.fail(`expected "by" and the timeslice width after "predict %s"`, f.String()).
			withHint("write \"predict %s by 1h\" with the width of the timeslice", f.String())
	}
	p.advance()
	st.StepN, st.StepUnit, _, err = p.parseDurationArg("predict", "by")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for {
		if p.tok.typ == tokComma {
			p.advance()
			if p.tok.typ != tokTerm {
				return nil, p.fail(`expected an option (model=, ar.window=, forecast=) after ","`)
			}
			continue
		}
		if p.tok.typ != tokTerm {
			break
		}
		namePos := p.tok.pos
		name := strings.ToLower(p.tok.text)
		if name == "ar" && p.peekToken().typ == tokDot {
			p.advance()
			p.advance()
			if !p.isWord("window") {
				return nil, p.fail(`expected "window" after "ar."`)
			}
			name = "ar.window"
		}
		if p.peekToken().typ != tokEq {
			break
		}
		if !containsString(predictOptions, name) {
			return nil, errorf(namePos, "predict has no option %q", name).withHint("%s", optionHint(name, predictOptions))
		}
		if seen[name] {
			return nil, errorf(namePos, "predict: option %s is given twice", name)
		}
		seen[name] = true
		p.advance()
		p.advance() // "="
		switch name {
		case "model":
			if !p.isWord("linear") && !p.isWord("ar") {
				return nil, p.fail(`expected "linear" or "ar" after "model="`)
			}
			st.Model = strings.ToLower(p.tok.text)
			p.advance()
		case "ar.window":
			n, err := p.parsePositiveInt("predict", "ar.window", forecast.MaxGridPoints)
			if err != nil {
				return nil, err
			}
			st.ARWindow = n
		case "forecast":
			if p.tok.typ == tokNumber {
				n, err := p.parsePositiveInt("predict", "forecast", forecast.MaxForecast)
				if err != nil {
					return nil, err
				}
				st.Forecast = int64(n)
				break
			}
			n, unit, _, err := p.parseDurationArg("predict", "forecast=")
			if err != nil {
				return nil, err
			}
			st.Forecast, st.ForecastUnit = n, unit
		}
	}
	if err := p.expectStageEnd("predict"); err != nil {
		if p.tok.typ == tokTerm {
			err.Hint = "options are written name=value: model=ar, ar.window=24, forecast=12"
		}
		return nil, err
	}
	return st, nil
}

func (s *PredictStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if err := checkTimesliced("predict", s.Pos, in, "predict _count by 1h"); err != nil {
		return nil, err
	}
	fi, err := c.resolveField(s.Field, in)
	if err != nil {
		return nil, err
	}
	if fi.Name == "_timeslice" {
		return nil, errorf(s.Field.Pos, "predict needs a value column, not _timeslice")
	}
	step := s.StepN * unitMillis(s.StepUnit)
	if _, w := timesliceBefore(c); w > 0 && w != step {
		return nil, errorf(s.Pos, "predict by %d%s does not match the timeslice width (%s)", s.StepN, s.StepUnit, millisText(w)).
			withHint("write \"predict %s by %s\"", s.Field.String(), millisText(w))
	}
	model, _ := forecast.ParseModel(s.Model)
	if s.ARWindow > 0 && model != forecast.AR {
		return nil, errorf(s.Pos, "predict: ar.window needs model=ar")
	}
	impl := &predictImpl{text: s.String(), field: fi.Name, in: in,
		opts: forecast.Options{Model: model, Step: step, ARWindow: s.ARWindow}}
	switch {
	case s.Forecast > 0 && s.ForecastUnit == "":
		impl.opts.Forecast = int(s.Forecast)
	case s.Forecast > 0:
		n, e := forecast.ForecastPoints(s.Forecast*unitMillis(s.ForecastUnit), step)
		if e != nil {
			return nil, errorf(s.Pos, "%s", e.Error())
		}
		impl.opts.Forecast = n
	}
	for _, f := range in.fields {
		if f.KeyField && f.Name != "_timeslice" {
			impl.by = append(impl.by, f.Name)
		}
	}
	suffixes := []string{"_predicted", "_error"}
	if model == forecast.AR {
		suffixes = append(suffixes, "_linear")
	}
	out := in
	for _, suffix := range suffixes {
		var col int
		var e *Error
		out, col, e = addColumn(out, fi.Name+suffix, "double", s.Field.Pos, false)
		if e != nil {
			return nil, e
		}
		impl.cols = append(impl.cols, col)
		impl.names = append(impl.names, fi.Name+suffix)
	}
	impl.out = out
	return impl, nil
}

// millisText writes a width in ms as a duration word (1h, 90s, 1500ms).
func millisText(ms int64) string {
	for _, u := range []string{"w", "d", "h", "m", "s"} {
		if m := unitMillis(u); ms%m == 0 {
			return strconv.FormatInt(ms/m, 10) + u
		}
	}
	return strconv.FormatInt(ms, 10) + "ms"
}

// predictImpl is the compiled predict stage.
type predictImpl struct {
	text  string
	field string
	by    []string // key fields other than _timeslice
	opts  forecast.Options
	in    *schema
	out   *schema
	cols  []int    // predicted, error[, linear]
	names []string // their names
}

func (p *predictImpl) output() *schema              { return p.out }
func (p *predictImpl) aggregate() bool              { return false }
func (p *predictImpl) logsQL(string) (string, bool) { return "", false }
func (p *predictImpl) explain() string              { return p.text }

func (p *predictImpl) newOperator(next rowSink) rowSink { return p.newRunOperator(next, nil) }

func (p *predictImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return &predictOp{impl: p, x: x, next: next}
}

type predictOp struct {
	impl *predictImpl
	x    *runContext
	next rowSink
	rows []Row
}

func (o *predictOp) push(rows []Row) error {
	o.rows = append(o.rows, rows...)
	return nil
}

func (o *predictOp) finish() error {
	m := o.impl
	rows := o.rows
	o.rows = nil
	ts, tsOK := sliceTimes(rows)
	out := make([]Row, len(rows))
	var future []Row
	for _, idx := range groupIndexes(groupKeys(rows, m.by), len(rows)) {
		var pts []series.Point
		var pos []int
		for _, i := range idx {
			if !tsOK[i] {
				out[i] = o.set(rows[i], forecast.Point{})
				continue
			}
			pts = append(pts, series.Point{T: ts[i], V: series.Parse(rows[i].Get(m.field))})
			pos = append(pos, i)
		}
		if len(pts) == 0 {
			continue
		}
		res, err := forecast.Predict(pts, m.opts)
		if err != nil {
			return fmt.Errorf("%s: %w", m.text, err)
		}
		// The model's warnings cover the values it could not use (empty,
		// non-numeric, out of range): one warning each, not also
		// series.Issues' "skipped", which would contradict them.
		for _, w := range res.Warnings {
			o.x.warn("predict " + m.field + ": " + strings.TrimPrefix(w, "predict: "))
		}
		for k, i := range pos {
			out[i] = o.set(rows[i], res.Points[k])
		}
		for _, fp := range res.Future {
			future = append(future, o.forecastRow(rows[pos[0]], fp))
		}
	}
	out = append(out, future...)
	if err := o.next.push(out); err != nil {
		return err
	}
	return o.next.finish()
}

// set writes the outputs of a point.
func (o *predictOp) set(r Row, pt forecast.Point) Row {
	m := o.impl
	vals := []string{seriesText(pt.Predicted), seriesText(pt.Error), seriesText(pt.Linear)}
	return setOutputFields(r, m.out, m.cols, m.names, vals[:len(m.cols)])
}

// forecastRow builds a forecast record of the series of record like.
func (o *predictOp) forecastRow(like Row, pt forecast.Point) Row {
	m := o.impl
	row := make(Row, 0, len(m.out.fields))
	for _, f := range m.out.fields {
		v := ""
		switch {
		case f.Name == "_timeslice":
			v = strconv.FormatInt(pt.T, 10)
		case f.Name == m.names[0]:
			v = seriesText(pt.Predicted)
		case len(m.names) > 2 && f.Name == m.names[2]:
			v = seriesText(pt.Linear)
		case f.KeyField:
			v = like.Get(f.Name)
		}
		row = append(row, Field{f.Name, v})
	}
	for alias, real := range m.out.aliases {
		row = append(row, Field{alias, row.Get(real)})
	}
	return row
}
