package query

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// Aggregate stages (spec §5): one or more aggregate functions sharing a
// group-by,
//
//	<agg>[(<expr>)] [as <name>] [, <agg>... ] [ [group] by <field>[, ...] ]
//	count_frequent <field>[, <field>...]
//
// e.g. "count as hits, avg(latency) as avg_ms, pct(latency, 95) by service".
// The functions and their semantics are listed in aggregate families:
// op_count.go (count, count_distinct, count_frequent), agg_numeric.go (sum,
// avg, min, max, stddev, pct, median), agg_order.go (first, last,
// most_recent, least_recent, values) and agg_topk.go (topk). Arguments are
// expressions ("sum(bytes / 1024)"); "count" may omit its parentheses.
//
// Output: one record per distinct combination of the by-fields (key
// fields, with the type of the field) followed by the functions' columns in
// the order written; without "by", exactly one record, even when no row
// entered the stage. A missing by-field groups as the empty value (an empty
// string is null). Default column names: _count, _count_distinct, _sum,
// _avg, _min, _max, _stddev, _median, _pct_<p> (a fractional percentile
// writes its point as "_": _pct_99_9), _first, _last, _most_recent,
// _least_recent, _values, _approxcount; two columns of the same name are an
// error that asks for "as". Records come ordered by their key fields
// (string order) unless the stage orders them itself (count_frequent, top,
// topk) or a later stage sorts them.
//
// The Go operator holds at most CompileOptions.MaxGroups groups and fails
// beyond it (ErrTooManyGroups, naming the limit), as the pushed form does;
// count_frequent and top, meant for many groups, hold up to
// MaxFrequentGroups. Aggregating records again works: "count by user |
// count" counts users.
//
// Pushdown (agg_pushdown.go): the engine's stats pipe computes the stage
// when every function has an exact engine form; run-time conditions on the
// values split the rows between the engine and Go, and the partial results
// merge group by group.

func init() {
	for _, name := range []string{"count", "count_distinct", "count_frequent", "sum", "avg", "min", "max",
		"pct", "median", "stddev", "first", "last", "most_recent", "least_recent", "values", "topk"} {
		registerStage(name, (*parser).parseAggregate)
	}
}

// AggregateStage is an aggregate stage: its functions and its group-by
// fields.
type AggregateStage struct {
	Pos   Pos
	Funcs []*AggCall
	// By are the group-by fields, in order.
	By []FieldRef
}

// AggCall is one aggregate function of a stage.
type AggCall struct {
	Pos Pos
	// Func is the function's canonical (lower-case) name: count, sum, ...
	Func string
	// Arg is the function's argument; nil for count without one.
	Arg Expression
	// Fields are count_frequent's fields.
	Fields []FieldRef
	// Params are pct's percentiles, or topk's N.
	Params []*NumberLit
	// Inner is topk's ranking aggregate.
	Inner *AggCall
	// As are the names given with "as" (none, or one per output column).
	As []FieldRef
}

// Position implements Node.
func (s *AggregateStage) Position() Pos { return s.Pos }

// Name implements Stage: the first function's name.
func (s *AggregateStage) Name() string { return s.Funcs[0].Func }

func (s *AggregateStage) aggregate() bool { return true }

func (s *AggregateStage) walkFields(fn func(FieldRef)) {
	for _, f := range s.Funcs {
		f.walkFields(fn)
	}
	for _, f := range s.By {
		fn(f)
	}
}

func (c *AggCall) walkFields(fn func(FieldRef)) {
	if c.Arg != nil {
		exprFields(c.Arg, fn)
	}
	for _, f := range c.Fields {
		fn(f)
	}
	if c.Inner != nil {
		c.Inner.walkFields(fn)
	}
}

// String implements Node.
func (s *AggregateStage) String() string {
	var b strings.Builder
	for i, f := range s.Funcs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
	}
	if len(s.By) > 0 {
		b.WriteString(" by ")
		writeFieldList(&b, s.By)
	}
	return b.String()
}

// String is the call's canonical text.
func (c *AggCall) String() string {
	var b strings.Builder
	b.WriteString(c.Func)
	switch {
	case c.Func == "count_frequent":
		b.WriteString(" ")
		writeFieldList(&b, c.Fields)
	case c.Func == "topk":
		b.WriteString("(" + c.Params[0].String() + ", " + c.Inner.String() + ")")
	case c.Arg != nil:
		b.WriteString("(" + c.Arg.String())
		for _, p := range c.Params {
			b.WriteString(", " + p.String())
		}
		b.WriteString(")")
	}
	if len(c.As) > 0 {
		b.WriteString(" as ")
		writeFieldList(&b, c.As)
	}
	return b.String()
}

func writeFieldList(b *strings.Builder, fs []FieldRef) {
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
	}
}

// ---- parsing ----

// parseAggregate parses an aggregate stage; the current token is the name
// of its first function. "min(a, b) as m" and "max(a, b) as m" (the scalar
// functions) are assignment stages.
func (p *parser) parseAggregate() (Stage, *Error) {
	if p.isWord("min") || p.isWord("max") {
		lex, tok := *p.lex, p.tok
		if p.scalarMinMax() {
			*p.lex, p.tok = lex, tok
			return p.parseAssignStage()
		}
		*p.lex, p.tok = lex, tok
	}
	st := &AggregateStage{Pos: p.tok.pos}
	for {
		call, err := p.parseAggCall()
		if err != nil {
			return nil, err
		}
		if len(st.Funcs) > 0 && (call.Func == "count_frequent" || call.Func == "topk") {
			return nil, errorf(call.Pos, "%s cannot share a stage with other aggregates", call.Func).
				withHint("run it in a stage of its own")
		}
		st.Funcs = append(st.Funcs, call)
		if p.tok.typ != tokComma {
			break
		}
		if call.Func == "count_frequent" || call.Func == "topk" {
			return nil, errorf(p.tok.pos, "%s cannot share a stage with other aggregates", call.Func).
				withHint("run it in a stage of its own")
		}
		p.advance()
		if p.tok.typ != tokTerm || p.tok.params || stageParsers[strings.ToLower(p.tok.text)] == nil || !aggregateNames[strings.ToLower(p.tok.text)] {
			e := p.fail(`expected an aggregate after ","`)
			if p.tok.typ == tokTerm && aggregateNames[strings.ToLower(p.tok.text)] {
				e = errorf(p.tok.pos, "aggregate %q is not supported yet", strings.ToLower(p.tok.text))
			}
			return nil, e
		}
	}
	if p.isWord("group") {
		p.advance()
		if !p.isWord("by") {
			return nil, p.fail(`expected "by" after "group"`)
		}
	}
	if p.isWord("by") {
		if st.Funcs[0].Func == "count_frequent" {
			return nil, errorf(p.tok.pos, "count_frequent has no \"by\": it groups by its own fields").
				withHint("write count_frequent a, b")
		}
		by := p.tok
		p.advance()
		seen := map[string]bool{}
		for {
			f, err := p.parseFieldRef(`after "` + strings.ToLower(by.text) + `"`)
			if err != nil {
				if p.tok.typ == tokLParen || (p.tok.typ != tokPipe && p.tok.typ != tokEOF && p.tok.typ != tokComma && err.Pos == p.tok.pos && p.peekToken().typ == tokLParen) {
					err.Hint = "group by fields only; compute an expression first: | <expression> as <field> | ... by <field>"
				}
				return nil, err
			}
			if p.tok.typ == tokLParen {
				return nil, errorf(f.Pos, "group by fields only, not expressions").
					withHint("compute it first: | <expression> as <field> | ... by <field>")
			}
			if seen[f.Name] {
				return nil, errorf(f.Pos, "field %s is listed twice after \"by\"", f.String())
			}
			seen[f.Name] = true
			st.By = append(st.By, f)
			if p.tok.typ != tokComma {
				break
			}
			p.advance()
		}
		if p.isWord("as") {
			return nil, errorf(p.tok.pos, `"as" must come before "by"`).withHint("write %s as <name> by <fields>", st.Funcs[len(st.Funcs)-1].Func)
		}
	}
	if st.Funcs[0].Func == "topk" && len(st.By) == 0 {
		return nil, errorf(st.Pos, `topk needs "by"`).withHint("write topk(N, count) by <fields>")
	}
	name := st.Funcs[len(st.Funcs)-1].Func
	if err := p.expectStageEnd(name); err != nil {
		if p.tok.typ == tokTerm && len(st.By) == 0 {
			err.Hint = "did you mean \"" + name + " by " + p.tok.text + "\"?"
		}
		return nil, err
	}
	return st, nil
}

// scalarMinMax reports whether the "min"/"max" at the current token is a
// two-argument call (the scalar function). It consumes tokens; the caller
// restores the parser.
func (p *parser) scalarMinMax() bool {
	p.advance()
	if p.tok.typ != tokLParen {
		return false
	}
	p.advance()
	if _, err := p.parseExpression(); err != nil {
		return false
	}
	return p.tok.typ == tokComma
}

// parseAggCall parses one aggregate function with its "as".
func (p *parser) parseAggCall() (*AggCall, *Error) {
	t := p.tok
	call := &AggCall{Pos: t.pos, Func: strings.ToLower(t.text)}
	p.advance()
	switch call.Func {
	case "count_frequent":
		if p.tok.typ == tokLParen {
			return nil, errorf(p.tok.pos, "count_frequent takes fields without parentheses").withHint("write count_frequent a, b")
		}
		for {
			f, err := p.parseFieldRef(`after "count_frequent"`)
			if err != nil {
				return nil, err
			}
			for _, g := range call.Fields {
				if g.Name == f.Name {
					return nil, errorf(f.Pos, "field %s is listed twice in count_frequent", f.String())
				}
			}
			call.Fields = append(call.Fields, f)
			if p.tok.typ != tokComma {
				break
			}
			p.advance()
		}
		if p.isWord("as") {
			return nil, errorf(p.tok.pos, "count_frequent's column is always _approxcount").withHint("rename it in a later stage: | _approxcount as n")
		}
		return call, nil
	case "topk":
		if err := p.parseTopk(call); err != nil {
			return nil, err
		}
	case "count":
		if p.tok.typ == tokLParen {
			p.advance()
			if p.tok.typ != tokRParen {
				if !startsExpression(p.tok) {
					return nil, p.fail("expected a field name in count(...)")
				}
				arg, err := p.parseExpression()
				if err != nil {
					return nil, err
				}
				call.Arg = arg
			}
			if p.tok.typ == tokComma {
				return nil, errorf(p.tok.pos, "count takes at most one field")
			}
			if p.tok.typ != tokRParen {
				if p.tok.typ == tokError {
					return nil, p.tok.err
				}
				return nil, p.fail(`expected ")" after count(%s`, exprText(call.Arg))
			}
			p.advance()
		}
	default:
		if p.tok.typ != tokLParen {
			return nil, p.fail(`expected "(" after %q`, call.Func).withHint("write %s(<field or expression>)", call.Func)
		}
		open := p.tok
		p.advance()
		if p.tok.typ == tokRParen {
			return nil, errorf(p.tok.pos, "%s needs an argument", call.Func).withHint("write %s(<field or expression>)", call.Func)
		}
		if !startsExpression(p.tok) {
			return nil, p.fail("expected a field or an expression in %s(...)", call.Func)
		}
		arg, err := p.parseExpression()
		if err != nil {
			return nil, err
		}
		call.Arg = arg
		if call.Func == "pct" {
			if p.tok.typ == tokRParen {
				return nil, errorf(p.tok.pos, "pct needs at least one percentile").withHint("write pct(%s, 95)", arg.String())
			}
			if p.tok.typ != tokComma {
				return nil, p.fail(`expected "," and a percentile after pct(%s`, arg.String()).withHint("write pct(<field>, 95)")
			}
			for p.tok.typ == tokComma {
				p.advance()
				n, err := p.parsePercentile()
				if err != nil {
					return nil, err
				}
				call.Params = append(call.Params, n)
			}
		}
		if p.tok.typ == tokComma {
			return nil, errorf(p.tok.pos, "%s takes one argument", call.Func)
		}
		if p.tok.typ != tokRParen {
			if p.tok.typ == tokError {
				return nil, p.tok.err
			}
			return nil, errorf(p.tok.pos, `missing ")" to close %s( at %s, found %s`, call.Func, open.pos, p.tok.describe())
		}
		p.advance()
	}
	if p.isWord("as") {
		p.advance()
		n := 1
		if call.Func == "pct" {
			n = len(call.Params)
		}
		for i := 0; i < n; i++ {
			if i > 0 {
				if p.tok.typ != tokComma {
					return nil, p.fail("pct(...) with %d percentiles needs %d names after \"as\"", n, n)
				}
				p.advance()
			}
			f, err := p.parseFieldRef(`after "as"`)
			if err != nil {
				return nil, err
			}
			if f.Param {
				return nil, errorf(f.Pos, "a template parameter cannot name an output column")
			}
			call.As = append(call.As, f)
		}
	}
	return call, nil
}

// startsExpression reports whether t can start an expression.
func startsExpression(t token) bool {
	switch t.typ {
	case tokTerm, tokField, tokNumber, tokString, tokLParen, tokMinus, tokNot, tokParam:
		return true
	}
	return false
}

func exprText(e Expression) string {
	if e == nil {
		return ""
	}
	return e.String()
}

// parsePercentile parses a percentile of pct: a number in (0, 100).
func (p *parser) parsePercentile() (*NumberLit, *Error) {
	t := p.tok
	if t.typ != tokNumber {
		return nil, p.fail("expected a percentile (a number between 0 and 100)")
	}
	n := numberLit(t)
	if !(n.Value > 0 && n.Value < 100) || strings.ContainsAny(t.text, "eE") {
		return nil, errorf(t.pos, "percentile %s is not between 0 and 100", t.text).withHint("write pct(<field>, 95) for the 95th percentile")
	}
	p.advance()
	return n, nil
}

// pctName is the default column of percentile n: _pct_95, _pct_99_9.
func pctName(n *NumberLit) string {
	s := strconv.FormatFloat(n.Value, 'f', -1, 64)
	return "_pct_" + strings.ReplaceAll(s, ".", "_")
}

// ---- compiling ----

// aggKind is an aggregate function: how it compiles.
type aggKind struct {
	name string
	// build compiles a call for rows of schema in; arg is the compiled
	// argument (nil without one) and argType its FieldInfo type.
	build func(b *aggBuild) (aggFn, *Error)
	// defaultNames are the columns without "as".
	defaultNames func(call *AggCall) []string
}

var aggKinds = map[string]*aggKind{}

// registerAgg makes an aggregate function known; family files call it from
// init.
func registerAgg(k *aggKind) { aggKinds[k.name] = k }

// aggBuild is what an aggregate function's build hook receives.
type aggBuild struct {
	c       *compiler
	in      *schema
	call    *AggCall
	arg     evaluator
	argType string
	names   []string // the output columns
}

// argField returns the canonical name of the argument when it is a plain
// field, else "".
func (b *aggBuild) argField() string {
	if f, ok := b.call.Arg.(*FieldExpr); ok && !f.Param {
		return f.Name
	}
	return ""
}

// aggFn is a compiled aggregate function.
type aggFn interface {
	// columns are the function's output columns.
	columns() []FieldInfo
	// newAcc returns the state of one group.
	newAcc() aggAcc
	// engine returns how the engine computes the function's partial state
	// (agg_pushdown.go), or ok=false.
	engine() (e aggEngine, ok bool)
}

// aggArg is a function's argument evaluated for one row; functions
// sharing an argument ("sum(x), avg(x)") share it, and its numeric value
// is parsed once.
type aggArg struct {
	v      Value
	num    Value
	parsed uint8 // 0: not yet, 1: numeric, 2: not numeric
}

// numeric returns the argument as a number (not NaN), parsing it once.
func (a *aggArg) numeric() (Value, bool) {
	if a.parsed == 0 {
		a.parsed = 2
		if n, ok := a.v.Numeric(); ok && (n.isInt || !math.IsNaN(n.f)) {
			a.num, a.parsed = n, 1
		}
	}
	return a.num, a.parsed == 1
}

// aggAcc is the state of one function in one group.
type aggAcc interface {
	// add takes one input row and its argument (null without one).
	add(x *runContext, arg *aggArg, r Row)
	// appendResult appends the function's output values.
	appendResult(x *runContext, dst []string) []string
}

// aggImpl is a compiled aggregate stage.
type aggImpl struct {
	text  string
	in    *schema
	out   *schema
	funcs []aggFn
	keys  []aggKey
	limit int
	// rank, when set, orders the records by one of their columns and keeps
	// the first n (count_frequent, top, topk).
	rank *aggRank
	// ordered is set when the input is in a defined order (a sort before
	// the stage, or records): first and last take the arrival order.
	ordered bool
	// orderUser is set when a function depends on the order of the rows.
	orderUser bool
	// pushable is set when every function has an engine form.
	pushable bool
	// keyCheck is set when the single key is a stored column, or a pushed
	// copy of one, whose rewriting by the engine the run checks on the
	// engine's output instead of per row (agg_pushdown.go).
	keyCheck bool
	// fieldsRead are the fields the functions read.
	fieldsRead []string
	// args are the distinct arguments of the functions; argOf[i] is the
	// index of function i's (-1 for none).
	args  []evaluator
	argOf []int
}

// aggKey is a group-by field.
type aggKey struct {
	name string
	typ  string
	// virtual, when set, is the timeslice stage whose field this is and
	// that the engine computes in its stats by-list (op_timeslice.go).
	virtual *timesliceImpl
}

// aggRank keeps the first n records ordered by column col descending
// (numerically), ties by key fields ascending; addRank, when set, adds a
// _rank column.
type aggRank struct {
	col     int
	n       int
	addRank bool
}

func (s *AggregateStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if s.Funcs[0].Func == "topk" {
		return compileTopk(c, s, in)
	}
	impl := &aggImpl{text: s.String(), in: in, limit: c.maxGroups(), out: &schema{records: true}, ordered: in.records}
	by := s.By
	if s.Funcs[0].Func == "count_frequent" {
		by = s.Funcs[0].Fields
		impl.limit = MaxFrequentGroups
		impl.rank = &aggRank{col: len(by), n: countFrequentKeep}
	}
	for _, f := range by {
		fi, err := c.resolveField(f, in)
		if err != nil {
			return nil, err
		}
		typ := fi.Type
		if typ == "" {
			typ = "string"
		}
		impl.keys = append(impl.keys, aggKey{name: f.Name, typ: typ})
		impl.out.fields = append(impl.out.fields, FieldInfo{Name: f.Name, KeyField: true, Type: typ})
	}
	isKey := func(name string) bool {
		for _, k := range impl.keys {
			if k.name == name {
				return true
			}
		}
		return false
	}
	argIndex := map[string]int{}
	for _, call := range s.Funcs {
		fn, err := compileAggCall(c, call, in, impl, isKey)
		if err != nil {
			return nil, err
		}
		impl.funcs = append(impl.funcs, fn)
		k := -1
		if call.Arg != nil {
			text := call.Arg.String()
			var ok bool
			if k, ok = argIndex[text]; !ok {
				ev, _ := c.compileExpression(call.Arg, in)
				k = len(impl.args)
				argIndex[text] = k
				impl.args = append(impl.args, ev)
			}
		}
		impl.argOf = append(impl.argOf, k)
		for _, col := range fn.columns() {
			impl.out.fields = append(impl.out.fields, col)
		}
	}
	seenField := map[string]bool{}
	for _, call := range s.Funcs {
		call.walkFields(func(f FieldRef) {
			if !seenField[f.Name] {
				seenField[f.Name] = true
				impl.fieldsRead = append(impl.fieldsRead, f.Name)
			}
		})
	}
	impl.pushable = !in.records
	for _, fn := range impl.funcs {
		if _, ok := fn.engine(); !ok {
			impl.pushable = false
		}
		if o, ok := fn.(orderedFn); ok && o.usesOrder() {
			impl.orderUser = true
		}
	}
	for _, d := range c.done {
		if o, ok := d.impl.(messageOrderer); ok && !d.in.records && o.messageOrder() != orderFree {
			impl.ordered = true // a tail stage feeds the aggregate in its order
		}
	}
	if c.opts.PushDown && impl.pushable && !impl.ordered {
		impl.fuseTimeslice(c, seenField)
	}
	return impl, nil
}

// fuseTimeslice lets the engine compute a timeslice the stage groups by in
// its stats by-list (op_timeslice.go): when every stage before the
// aggregate is pushable (perhaps under a condition, pushdown_cond.go) and
// none after the timeslice reads its field.
func (a *aggImpl) fuseTimeslice(c *compiler, read map[string]bool) {
	for _, k := range a.keys {
		if k.name == event.FieldMessageTime {
			return // the by-list can bucket _time once only
		}
	}
	for ki, k := range a.keys {
		if read[k.name] {
			continue
		}
		at := -1
		for j := len(c.done) - 1; j >= 0; j-- {
			if t, ok := c.done[j].impl.(*timesliceImpl); ok && t.name == k.name {
				at = j
				break
			}
		}
		if at < 0 {
			continue
		}
		ok := true
		for j, d := range c.done {
			if j == at {
				continue
			}
			if _, pushable := d.impl.logsQL(""); !pushable && !guardableWhere(d.stage) {
				cp, isCond := d.impl.(condPusher)
				if !isCond {
					ok = false
				} else if _, _, pushable := cp.condLogsQL(); !pushable {
					ok = false
				}
			}
			if j > at {
				if _, has := d.impl.output().field(k.name); !has {
					ok = false
				}
				d.stage.walkFields(func(f FieldRef) {
					if f.Name == k.name {
						ok = false
					}
				})
			}
		}
		if !ok {
			continue
		}
		t := c.done[at].impl.(*timesliceImpl)
		t.fused = true
		a.keys[ki].virtual = t
		return
	}
}

// compileAggCall compiles one function of the stage, checking its output
// names against the stage's other columns.
func compileAggCall(c *compiler, call *AggCall, in *schema, impl *aggImpl, isKey func(string) bool) (aggFn, *Error) {
	kind := aggKinds[call.Func]
	if kind == nil {
		return nil, errorf(call.Pos, "aggregate %q is not supported yet", call.Func)
	}
	b := &aggBuild{c: c, in: in, call: call}
	if call.Arg != nil {
		ev, err := c.compileExpression(call.Arg, in)
		if err != nil {
			return nil, err
		}
		b.arg, b.argType = ev, c.expressionType(call.Arg, in)
	}
	for _, f := range call.Fields {
		if _, err := c.resolveField(f, in); err != nil {
			return nil, err
		}
	}
	names := kind.defaultNames(call)
	if len(call.As) > 0 {
		names = names[:0:0]
		for _, a := range call.As {
			if bf := lookupBuiltin(a.Name); bf != nil {
				return nil, errorf(a.Pos, "%s is a built-in field and cannot name the %s", bf.name, call.Func)
			}
			names = append(names, a.Name)
		}
	}
	for i, name := range names {
		pos := call.Pos
		if i < len(call.As) {
			pos = call.As[i].Pos
		}
		if isKey(name) {
			return nil, errorf(pos, "the %s's column %q is also a group-by field", call.Func, name).withHint("name it with %s as <name>", call.Func)
		}
		if _, dup := impl.out.field(name); dup {
			return nil, errorf(pos, "two columns named %q in one stage", name).withHint("name them with \"as\": %s as <name>", call.Func)
		}
	}
	b.names = names
	fn, err := kind.build(b)
	if err != nil {
		return nil, err
	}
	return fn, nil
}

func (a *aggImpl) output() *schema { return a.out }
func (a *aggImpl) aggregate() bool { return true }
func (a *aggImpl) groupLimit() int { return a.limit }

func (a *aggImpl) explain() string {
	return a.text + " (at most " + strconv.Itoa(a.limit) + " groups)"
}

// orderedFn is implemented by functions whose result depends on the order
// of the rows (first, last).
type orderedFn interface{ usesOrder() bool }

func (a *aggImpl) newOperator(next rowSink) rowSink { return a.newRunOperator(next, nil) }

func (a *aggImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return a.newAggOp(next, x)
}

func (a *aggImpl) newAggOp(next rowSink, x *runContext) *aggOp {
	o := &aggOp{impl: a, x: x, next: next, groups: make(map[string]*aggGroup), args: make([]aggArg, len(a.args)+1), hints: make([]int, len(a.keys))}
	if a.orderUser && !a.ordered {
		o.byTime = true
	}
	return o
}

// aggGroup is the state of one group.
type aggGroup struct {
	keys []string
	accs []aggAcc
}

// aggOp is the Go aggregate.
type aggOp struct {
	impl   *aggImpl
	x      *runContext
	next   rowSink
	groups map[string]*aggGroup
	single *aggGroup
	key    []byte
	// byTime: first/last follow the default order (newest first) rather
	// than the arrival order, which is the engine's block order.
	byTime bool
	// args are the arguments of the current row; the last stays null.
	args []aggArg
	// hints are where each key field was in the last row (rows of one
	// source share their layout).
	hints []int
}

// keyValue returns key field k of r, trying where it was in the last row.
func (o *aggOp) keyValue(r Row, k int) string {
	name := o.impl.keys[k].name
	if h := o.hints[k]; h < len(r) && r[h].Name == name {
		return r[h].Value
	}
	for i := range r {
		if r[i].Name == name {
			o.hints[k] = i
			return r[i].Value
		}
	}
	return ""
}

func (o *aggOp) newGroup(keys []string) *aggGroup {
	g := &aggGroup{keys: keys, accs: make([]aggAcc, len(o.impl.funcs))}
	for i, fn := range o.impl.funcs {
		g.accs[i] = fn.newAcc()
		if o.byTime {
			if t, ok := g.accs[i].(timeOrdered); ok {
				t.orderByTime()
			}
		}
	}
	return g
}

// timeOrdered is implemented by the states of first and last.
type timeOrdered interface{ orderByTime() }

// group returns the group of r, creating it within the limit.
func (o *aggOp) group(r Row) (*aggGroup, error) {
	keys := o.impl.keys
	switch len(keys) {
	case 0:
		if o.single == nil {
			o.single = o.newGroup(nil)
			o.groups[""] = o.single
		}
		return o.single, nil
	case 1:
		v := o.keyValue(r, 0)
		if g := o.groups[v]; g != nil {
			return g, nil
		}
		v = strings.Clone(v)
		return o.addGroup(v, []string{v})
	}
	o.key = o.key[:0]
	for k := range keys {
		v := o.keyValue(r, k)
		o.key = strconv.AppendInt(o.key, int64(len(v)), 10)
		o.key = append(o.key, ':')
		o.key = append(o.key, v...)
	}
	if g := o.groups[string(o.key)]; g != nil {
		return g, nil
	}
	vals := make([]string, len(keys))
	for k := range keys {
		vals[k] = strings.Clone(o.keyValue(r, k))
	}
	return o.addGroup(string(o.key), vals)
}

// groupOf returns the group of the key values, creating it within the
// limit.
func (o *aggOp) groupOf(vals []string) (*aggGroup, error) {
	var key string
	switch len(vals) {
	case 0:
		if o.single == nil {
			o.single = o.newGroup(nil)
			o.groups[""] = o.single
		}
		return o.single, nil
	case 1:
		key = vals[0]
	default:
		o.key = o.key[:0]
		for _, v := range vals {
			o.key = strconv.AppendInt(o.key, int64(len(v)), 10)
			o.key = append(o.key, ':')
			o.key = append(o.key, v...)
		}
		key = string(o.key)
	}
	if g := o.groups[key]; g != nil {
		return g, nil
	}
	cp := make([]string, len(vals))
	for i, v := range vals {
		cp[i] = strings.Clone(v)
	}
	return o.addGroup(strings.Clone(key), cp)
}

func (o *aggOp) addGroup(key string, vals []string) (*aggGroup, error) {
	if len(o.groups) >= o.impl.limit {
		return nil, tooManyGroups(o.impl.text, o.impl.limit)
	}
	g := o.newGroup(vals)
	o.groups[key] = g
	return g, nil
}

func (o *aggOp) push(rows []Row) error {
	a := o.impl
	null := &o.args[len(a.args)]
	for _, r := range rows {
		g, err := o.group(r)
		if err != nil {
			return err
		}
		for k, ev := range a.args {
			o.args[k] = aggArg{v: ev(o.x, r)}
		}
		for i, acc := range g.accs {
			arg := null
			if k := a.argOf[i]; k >= 0 {
				arg = &o.args[k]
			}
			acc.add(o.x, arg, r)
		}
	}
	return nil
}

func (o *aggOp) finish() error {
	rows := o.records()
	if err := o.next.push(rows); err != nil {
		return err
	}
	return o.next.finish()
}

// records returns the stage's output.
func (o *aggOp) records() []Row {
	a := o.impl
	if len(a.keys) == 0 && o.single == nil {
		o.single = o.newGroup(nil)
		o.groups[""] = o.single
	}
	rows := make([]Row, 0, len(o.groups))
	vals := make([]string, 0, len(a.out.fields))
	for _, g := range o.groups {
		vals = append(vals[:0], g.keys...)
		for _, acc := range g.accs {
			vals = acc.appendResult(o.x, vals)
		}
		row := make(Row, len(vals))
		for i, v := range vals {
			row[i] = Field{a.out.fields[i].Name, v}
		}
		rows = append(rows, row)
	}
	if a.rank != nil {
		return rankRecords(rows, a.out, a.rank)
	}
	sortRecords(rows, a.out)
	return rows
}

// rankRecords orders records by column r.col, largest first (numerically;
// null last), ties by the key fields in string order, and keeps the first
// r.n; with r.addRank each gets its _rank (1, 2, ...).
func rankRecords(rows []Row, s *schema, r *aggRank) []Row {
	sortRecords(rows, s)
	nums := make([]Value, len(rows))
	for i, row := range rows {
		nums[i], _ = StringValue(row[r.col].Value).Numeric()
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := nums[idx[i]], nums[idx[j]]
		if a.kind == KindNull || b.kind == KindNull {
			return a.kind != KindNull && b.kind == KindNull
		}
		return compareNumbers(a, b) == 1
	})
	if len(idx) > r.n {
		idx = idx[:r.n]
	}
	out := make([]Row, len(idx))
	for i, k := range idx {
		out[i] = rows[k]
		if r.addRank {
			out[i] = append(out[i][:len(out[i]):len(out[i])], Field{"_rank", strconv.Itoa(i + 1)})
		}
	}
	return out
}
