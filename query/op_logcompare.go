package query

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/analytics/logreduce"
	"github.com/dohyo/dohyo/event"
)

// The logcompare operator (spec §10.5):
//
//	logcompare timeshift -<N><unit> [baseline (<scope>)]
//	logcompare start_time <time> end_time <time> [baseline (<scope>)]
//
// compares the signatures of the messages reaching it (the target: the
// query's range) with those of a baseline: the same stages before
// logcompare run over the range shifted back by N units (s, m, h, d or w; a
// day is 24 hours; "-0s" compares over the same range, useful with a
// baseline scope), or over [start_time, end_time) (RFC 3339, with or without
// a zone offset (UTC when absent), a date, or epoch milliseconds). With
// "baseline (<scope>)" the baseline run uses that scope (keywords and
// metadata, e.g. "baseline (_sourceHost=cluster-2)") instead of the query's;
// the stages before logcompare apply to it too. The shift may be written
// without the minus ("timeshift 1d" also looks back).
//
// Both sides are clustered together (logreduce.Compare: one template, one
// signature and one id on both sides) and each signature is reported with
//
//	_signature        the template, variable parts as "*" (as logreduce)
//	_signature_id     its id (the same as logreduce's for the same template)
//	_count            its messages in the target (0 when gone)
//	_baseline_count   its messages in the baseline
//	_deltapercentage  the change of its share of the logs in percent,
//	                  (target% - baseline%) / baseline% * 100, rounded to
//	                  2 decimals; null for a new signature (Sumo: infinity),
//	                  -100 for a gone one
//	_anomalyscore     its term of the symmetric Kullback-Leibler divergence
//	                  between the two distributions over signatures (never
//	                  negative; larger for larger changes of larger shares),
//	                  rounded to 4 significant digits
//	_isnew            1 when only in the target, else 0
//	_status           new, gone, more, less or same
//
// sorted so that the change that matters is first: by _anomalyscore, then
// by the absolute change of share, then by id. Field names are lower-cased
// like every field ("where _isNew = 1" reads _isnew): a typical alert is
// "error | logcompare timeshift -24h | where _isNew = 1".
//
// "logcompare ... details <id>" (or "logcompare ... | details <id>") keeps
// the target messages of one signature, as logreduce's drill-down does:
// both sides of the search range are mined first.
//
// logcompare is an aggregate that needs messages (it cannot follow an
// aggregate). Bounds are logreduce's: 10,000 distinct skeletons per side
// and miner. Execution: the target is mined from the engine's blocks in
// parallel when the stages before logcompare are pushed down (exec_mine.go),
// then the baseline run does the same over its range, when the target is
// complete.
//
// Deviations from Sumo: no saved baselines; _baseline_count, _status and
// _signature_id are dohyo's; _deltapercentage of a new signature is null.

func init() { registerStage("logcompare", (*parser).parseLogCompare) }

// LogCompareStage is "logcompare ...".
type LogCompareStage struct {
	Pos Pos
	// ShiftN and ShiftUnit are the timeshift ("-1d": 1, "d"); ShiftUnit is
	// "" when start_time and end_time are used.
	ShiftN    int64
	ShiftUnit string
	// Start and End are start_time and end_time, epoch milliseconds.
	Start, End int64
	// Baseline is the baseline's scope; nil means the query's.
	Baseline Expr
	// Details is the id of the signature to drill into, or "".
	Details string
}

// Position implements Node.
func (s *LogCompareStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *LogCompareStage) Name() string { return "logcompare" }

func (s *LogCompareStage) aggregate() bool           { return s.Details == "" }
func (s *LogCompareStage) walkFields(func(FieldRef)) {}

// String implements Node.
func (s *LogCompareStage) String() string {
	var b strings.Builder
	b.WriteString("logcompare")
	if s.ShiftUnit != "" {
		b.WriteString(" timeshift -" + strconv.FormatInt(s.ShiftN, 10) + s.ShiftUnit)
	} else {
		b.WriteString(" start_time " + formatISOMillis(s.Start) + " end_time " + formatISOMillis(s.End))
	}
	if s.Baseline != nil {
		b.WriteString(" baseline (" + s.Baseline.String() + ")")
	}
	if s.Details != "" {
		b.WriteString(" details " + s.Details)
	}
	return b.String()
}

// formatISOMillis writes epoch ms as RFC 3339 in UTC, with milliseconds
// only when there are some.
func formatISOMillis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.999Z07:00")
}

// shiftMillis is the timeshift in ms.
func (s *LogCompareStage) shiftMillis() int64 { return s.ShiftN * unitMillis(s.ShiftUnit) }

// ---- parsing ----

// parseLogCompare parses a logcompare stage; the current token is its name.
func (p *parser) parseLogCompare() (Stage, *Error) {
	st := &LogCompareStage{Pos: p.tok.pos}
	p.advance()
	haveRange, haveBaseline := false, false
	for {
		switch {
		case p.tok.typ == tokComma:
			p.advance()
			continue
		case p.isWord("timeshift") && !haveRange:
			p.advance()
			if err := p.parseLogCompareShift(st); err != nil {
				return nil, err
			}
			haveRange = true
			continue
		case p.isWord("start_time") && !haveRange:
			kw := p.tok
			p.advance()
			start, err := p.parseISOTime("start_time")
			if err != nil {
				return nil, err
			}
			if !p.isWord("end_time") {
				return nil, p.fail(`expected "end_time" after the start time`).withHint("write start_time <time> end_time <time>")
			}
			p.advance()
			end, err := p.parseISOTime("end_time")
			if err != nil {
				return nil, err
			}
			if end <= start {
				return nil, errorf(kw.pos, "logcompare: end_time %s is not after start_time %s", formatISOMillis(end), formatISOMillis(start))
			}
			st.Start, st.End = start, end
			haveRange = true
			continue
		case p.isWord("baseline") && !haveBaseline:
			p.advance()
			scope, err := p.parseBaselineScope()
			if err != nil {
				return nil, err
			}
			st.Baseline = scope
			haveBaseline = true
			continue
		case p.isWord("details") && st.Details == "":
			p.advance()
			var tmp LogReduceStage
			if err := p.parseSignatureID(&tmp); err != nil {
				return nil, err
			}
			st.Details = tmp.Details
			continue
		}
		break
	}
	if !haveRange {
		return nil, p.fail(`expected "timeshift" or "start_time" in logcompare`).
			withHint("write \"logcompare timeshift -1d\" or \"logcompare start_time <time> end_time <time>\"")
	}
	if p.tok.typ == tokPipe && st.Details == "" {
		if next := p.peekToken(); next.typ == tokTerm && strings.EqualFold(next.text, "details") {
			p.advance()
			p.advance()
			var tmp LogReduceStage
			if err := p.parseSignatureID(&tmp); err != nil {
				return nil, err
			}
			st.Details = tmp.Details
		}
	}
	if err := p.expectStageEnd("logcompare"); err != nil {
		return nil, err
	}
	return st, nil
}

// parseLogCompareShift parses "-<N><unit>" (the minus may be left out;
// 0 is allowed).
func (p *parser) parseLogCompareShift(st *LogCompareStage) *Error {
	if p.tok.typ == tokMinus {
		p.advance()
	}
	t := p.tok
	text := t.text
	i := 0
	for i < len(text) && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	unit := strings.ToLower(text[i:])
	n, err := strconv.ParseInt(text[:i], 10, 64)
	if (t.typ != tokTerm && t.typ != tokNumber) || i == 0 || err != nil || unitMillis(unit) == 0 || n > 1<<30 {
		return p.fail(`expected a time shift such as -1d after "timeshift"`).
			withHint("write a whole number and a unit: -30m, -24h, -1d, -1w (s, m, h, d or w)")
	}
	st.ShiftN, st.ShiftUnit = n, unit
	p.advance()
	return nil
}

// relexScope re-lexes the current token as the scope lexes it, where a
// term may hold punctuation (2016-01-06T12:00:00-08:00).
func (p *parser) relexScope() {
	t := p.tok
	l := p.lex
	if t.typ == tokEOF || t.typ == tokError {
		return
	}
	l.offset, l.line, l.col = t.pos.Offset, t.pos.Line, t.pos.Column
	l.pipeline = false
	p.tok = l.next()
	l.pipeline = true
}

// parseISOTime parses the time after start_time or end_time, as epoch ms.
func (p *parser) parseISOTime(what string) (int64, *Error) {
	p.relexScope()
	t := p.tok
	text := t.text
	if t.typ == tokString {
		text = t.val
	} else if t.typ != tokTerm {
		return 0, p.fail("expected a time after %q", what).withHint("write an RFC 3339 time such as 2024-03-04T12:00:00Z, a date, or epoch milliseconds")
	}
	ms, ok := parseTimeArg(text)
	if !ok {
		return 0, errorf(t.pos, "logcompare: %s %s is not a time", what, t.describe()).
			withHint("write an RFC 3339 time such as 2024-03-04T12:00:00Z or 2024-03-04T12:00:00-08:00, a date (2024-03-04), or epoch milliseconds")
	}
	p.advance()
	return ms, nil
}

// parseTimeArg reads an RFC 3339 time (UTC when it has no offset), a date
// or epoch milliseconds.
func parseTimeArg(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 9 {
		return n, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// parseBaselineScope parses "(<scope>)" after "baseline".
func (p *parser) parseBaselineScope() (Expr, *Error) {
	open := p.tok
	if open.typ != tokLParen {
		return nil, p.fail(`expected "(" after "baseline"`).withHint("write baseline (<keywords and metadata>), e.g. baseline (_sourceHost=cluster-2)")
	}
	p.lex.pipeline = false // the token after "(" is lexed as the scope is
	p.advance()
	defer func() { p.lex.pipeline = true }()
	if p.tok.typ == tokRParen {
		p.lex.pipeline = true
		return nil, errorf(open.pos, "empty baseline scope").withHint("write baseline (*) for every message, or leave the baseline out")
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.typ != tokRParen {
		if p.tok.typ == tokError {
			return nil, p.tok.err
		}
		return nil, errorf(p.tok.pos, `missing ")" to close the baseline scope at %s, found %s`, open.pos, p.tok.describe()).
			withHint("the baseline is a scope (keywords and metadata), without \"|\"")
	}
	p.lex.pipeline = true
	p.advance()
	return e, nil
}

// ---- compiling ----

func (s *LogCompareStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if in.records {
		return nil, errorf(s.Pos, "logcompare needs messages: it cannot follow an aggregate").
			withHint("put logcompare before any aggregate: ... | logcompare timeshift -1d")
	}
	if s.Baseline != nil {
		var perr *Error
		walkExpr(s.Baseline, func(e Expr) {
			switch n := e.(type) {
			case *Keyword:
				if n.HasParam && perr == nil {
					perr = errorf(n.Pos, "template parameter in the baseline %q has no value", n.Text)
				}
			case *FieldMatch:
				if n.HasParam && perr == nil {
					perr = errorf(n.Pos, "template parameter in the baseline %q has no value", n.String())
				}
			}
		})
		if perr != nil {
			return nil, perr
		}
	}
	impl := &logcompareImpl{st: s, text: s.String(), out: &schema{records: true, fields: logcompareColumns}}
	if s.Details != "" {
		id := s.Details
		return newDetailsImpl(s, in, impl.blockFields(), func(r *miningRunner, step int) (rowTest, error) {
			return impl.detailsTest(r, step, id)
		}), nil
	}
	return impl, nil
}

// logcompareColumns are logcompare's output columns.
var logcompareColumns = []FieldInfo{
	{Name: "_signature", Type: "string"},
	{Name: "_signature_id", Type: "string"},
	{Name: "_count", Type: "long"},
	{Name: "_baseline_count", Type: "long"},
	{Name: "_deltapercentage", Type: "double"},
	{Name: "_anomalyscore", Type: "double"},
	{Name: "_isnew", Type: "int"},
	{Name: "_status", Type: "string"},
}

// logcompareImpl is compiled logcompare.
type logcompareImpl struct {
	st   *LogCompareStage
	text string
	out  *schema
	// baseline mines the baseline; set by bindMining.
	baseline func() (*logreduce.Miner, error)
}

func (l *logcompareImpl) output() *schema              { return l.out }
func (l *logcompareImpl) aggregate() bool              { return true }
func (l *logcompareImpl) logsQL(string) (string, bool) { return "", false }
func (l *logcompareImpl) groupLimit() int              { return MaxLogReduceRecords }
func (l *logcompareImpl) blockFields() []string        { return []string{event.FieldRaw} }
func (l *logcompareImpl) newPartial() blockPartial     { return newMinerState(l.text, 0) }

func (l *logcompareImpl) explain() string {
	return l.text + " (template mining in Go of the target, then of the baseline, compared)"
}

func (l *logcompareImpl) newOperator(next rowSink) rowSink { return newBlockRowOp(l, next, nil) }

func (l *logcompareImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return newBlockRowOp(l, next, x)
}

// baselineRange is the baseline's range for a run over rng.
func (s *LogCompareStage) baselineRange(rng Range) Range {
	if s.ShiftUnit == "" {
		return Range{Start: time.UnixMilli(s.Start), End: time.UnixMilli(s.End)}
	}
	d := time.Duration(s.shiftMillis()) * time.Millisecond
	return Range{Start: rng.Start.Add(-d), End: rng.End.Add(-d)}
}

// mine runs the stages before logcompare (step) over rng, with scope
// (nil: the query's), and returns the miner of what reached it.
func (l *logcompareImpl) mine(r *miningRunner, step int, scope Expr, rng Range) (*logreduce.Miner, error) {
	var st *minerState
	holder := &mineHolder{blockAggregator: l, keep: func(parts []blockPartial) error {
		var err error
		st, err = mergeMinerStates(parts)
		return err
	}}
	if err := r.run(step, scope, rng, holder); err != nil {
		return nil, err
	}
	return st.miner(), nil
}

func (l *logcompareImpl) bindMining(r *miningRunner, step int) stageImpl {
	b := *l
	b.baseline = func() (*logreduce.Miner, error) {
		return l.mine(r, step, l.st.Baseline, l.st.baselineRange(r.searchRange()))
	}
	return &b
}

func (l *logcompareImpl) finishPartials(_ *runContext, parts []blockPartial, next rowSink) error {
	if l.baseline == nil {
		return errorf(Pos{}, "logcompare cannot run here: it needs to run the query over the baseline range")
	}
	s, err := mergeMinerStates(parts)
	if err != nil {
		return err
	}
	base, err := l.baseline()
	if err != nil {
		return err
	}
	cmp, err := logreduce.Compare(base, s.miner())
	if err != nil {
		return err
	}
	rows := make([]Row, len(cmp.Changes))
	for i, ch := range cmp.Changes {
		isNew := "0"
		if ch.Status == logreduce.StatusNew {
			isNew = "1"
		}
		rows[i] = Row{
			{"_signature", SumoSignature(ch.Cluster)},
			{"_signature_id", ch.Cluster.ID},
			{"_count", strconv.FormatInt(ch.TargetCount, 10)},
			{"_baseline_count", strconv.FormatInt(ch.BaselineCount, 10)},
			{"_deltapercentage", FormatNumber(roundTo(ch.DeltaPercentage, 2))},
			{"_anomalyscore", FormatNumber(roundSignificant(ch.AnomalyScore, 4))},
			{"_isnew", isNew},
			{"_status", ch.Status.String()},
		}
	}
	if err := next.push(rows); err != nil {
		return err
	}
	return next.finish()
}

// roundTo rounds to d decimals (infinities and NaN stay).
func roundTo(v float64, d int) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	p := math.Pow(10, float64(d))
	r := math.Round(v*p) / p
	if r == 0 {
		return 0 // no "-0"
	}
	return r
}

// roundSignificant rounds to d significant digits (infinities and NaN stay).
func roundSignificant(v float64, d int) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', d, 64), 64)
	return r
}

// detailsTest mines the target and the baseline of the search range and
// returns the test keeping the target messages of signature id.
func (l *logcompareImpl) detailsTest(r *miningRunner, step int, id string) (rowTest, error) {
	rng := r.searchRange()
	target, err := l.mine(r, step, nil, rng)
	if err != nil {
		return nil, err
	}
	base, err := l.mine(r, step, l.st.Baseline, l.st.baselineRange(rng))
	if err != nil {
		return nil, err
	}
	cmp, err := logreduce.Compare(base, target)
	if err != nil {
		return nil, err
	}
	res := cmp.Result
	return func(vals []string) bool {
		return vals[0] != "" && res.Assign(vals[0]).ID == id
	}, nil
}
