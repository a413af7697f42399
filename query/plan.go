package query

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// CompileOptions control planning.
type CompileOptions struct {
	// PushDown hands the engine everything it can compute with exactly the
	// results of the Go operators. False is the "all-Go" mode: the engine
	// only selects the time range and Go runs the whole query; tests run
	// both and demand identical results.
	PushDown bool
	// MaxGroups limits the groups of an aggregate; 0 means
	// DefaultMaxGroups. A query that would produce more fails with an error
	// wrapping ErrTooManyGroups rather than use unbounded memory.
	MaxGroups int

	// noIngestJSON makes the json operator parse _raw even where the
	// ingest-time JSON fields have the values (tests prove both agree).
	noIngestJSON bool
	// noPrune asks the engine for every column even where the Go stages
	// read only some (prune.go; tests prove both agree).
	noPrune bool
}

// DefaultMaxGroups is the group limit of an aggregate (Sumo's).
const DefaultMaxGroups = 10000

// FieldInfo describes a column of records.
type FieldInfo struct {
	Name     string
	KeyField bool
	// Type is "string", "long", "double" or "int".
	Type string
}

// schema describes the rows flowing between two stages: messages (an open
// set of fields: the built-ins, custom fields, and the fields listed, which
// earlier stages added) or records (exactly the fields listed).
type schema struct {
	records bool
	fields  []FieldInfo
	// aliases are names that resolve to another column of records
	// (compare's <f> for <f>_target, op_compare.go); rows carry them as
	// trailing fields, which are not delivered.
	aliases map[string]string
	// dynamic records have, after fields, columns known only at run time
	// (transpose's, op_transpose.go), of type dynamicType: any name
	// resolves, and the records delivered have the columns of their rows.
	dynamic     bool
	dynamicType string
}

var messagesSchema = &schema{}

func (s *schema) field(name string) (FieldInfo, bool) {
	for _, f := range s.fields {
		if f.Name == name {
			return f, true
		}
	}
	return FieldInfo{}, false
}

func (s *schema) names() string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// compiler carries what stages need while compiling.
type compiler struct {
	opts CompileOptions
	// done are the steps compiled so far: the stages before the one
	// being compiled (outlier, predict and compare look for the
	// aggregate and timeslice before them).
	done []step
}

func (c *compiler) maxGroups() int {
	if c.opts.MaxGroups > 0 {
		return c.opts.MaxGroups
	}
	return DefaultMaxGroups
}

// resolveField checks that a field can be read from rows of schema in.
func (c *compiler) resolveField(f FieldRef, in *schema) (FieldInfo, *Error) {
	if in.records {
		fi, ok := in.field(f.Name)
		if real, isAlias := in.aliases[f.Name]; !ok && isAlias {
			fi, ok = in.field(real)
		}
		if !ok && in.dynamic {
			return FieldInfo{Name: f.Name, Type: in.dynamicType}, nil
		}
		if !ok {
			return FieldInfo{}, errorf(f.Pos, "field %q does not exist after the aggregate; the records have %s", f.Name, in.names())
		}
		return fi, nil
	}
	if b := lookupBuiltin(f.Name); b != nil {
		if b.storage == "" {
			return FieldInfo{}, errorf(f.Pos, "%s is not supported yet", b.name)
		}
		return FieldInfo{Name: f.Name, Type: b.typ}, nil
	}
	if fi, ok := in.field(f.Name); ok {
		return fi, nil // added by an earlier stage
	}
	if strings.HasPrefix(f.Name, "_") {
		e := errorf(f.Pos, "unknown built-in field %q", f.Name)
		e.Hint = didYouMean(f.Name, builtinNames())
		return FieldInfo{}, e
	}
	return FieldInfo{Name: f.Name, Type: "string"}, nil
}

// stageImpl is a compiled stage. Each operator file provides one.
type stageImpl interface {
	// output is the schema of the stage's output.
	output() *schema
	// aggregate reports whether the stage turns its input into records.
	aggregate() bool
	// logsQL returns the LogsQL pipe computing the stage in the engine with
	// exactly the results of its Go operator, or ok=false when the engine
	// cannot. For an aggregate, rowsCounter (when not "") names an extra
	// output column counting the input rows of each group.
	logsQL(rowsCounter string) (pipe string, ok bool)
	// newOperator returns a fresh Go operator that feeds next.
	newOperator(next rowSink) rowSink
	// explain describes the stage for Plan.Explain.
	explain() string
}

// aggregateImpl is a stageImpl of an aggregate.
type aggregateImpl interface {
	stageImpl
	// groupLimit is the most groups (output records) the stage may produce.
	groupLimit() int
}

type step struct {
	stage Stage
	impl  stageImpl
	in    *schema
}

// Plan is a compiled query: what the engine computes (as LogsQL) and what
// runs as Go operators.
type Plan struct {
	query *Query
	opts  CompileOptions

	matcher     matcher // the scope in Go
	scopeLogsQL string  // the scope in LogsQL
	scopePushed bool

	steps    []step
	pushed   int // steps[:pushed] run in the engine
	firstAgg int // index of the first aggregate step, -1 for none
	// tail is the index of the first message step needing the whole
	// stream in order (sort, limit, dedup... over messages), -1 for none;
	// see exec_tail.go.
	tail int
	out  *schema

	// cond, when not nil, says that some of steps[:pushed] run in the
	// engine only on rows satisfying a condition, checked at run time
	// (pushdown_cond.go).
	cond *condPlan
	// guard, when not nil, says that the numeric wheres from steps[pushed]
	// to the first aggregate can run in the engine in front of it, their
	// exactness checked by the aggregate's query (where_guard.go).
	guard *whereGuard
	// timed: the run needs each row's time even when the stages do not
	// (the histogram of an aggregate query's messages; orderFree).
	timed bool
}

// rowsCounterColumn is the hidden column a pushed aggregate adds to count
// its input messages.
const rowsCounterColumn = event.InternalFieldPrefix + "rows"

// Compile plans a parsed query.
func Compile(q *Query, opts CompileOptions) (*Plan, error) {
	p, err := compile(q, opts)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func compile(q *Query, opts CompileOptions) (*Plan, *Error) {
	if err := checkNoParams(q); err != nil {
		return nil, err
	}
	scope := q.Scope
	if scope == nil {
		scope = &All{}
	}
	p := &Plan{
		query:       q,
		opts:        opts,
		matcher:     compileMatcher(scope),
		scopeLogsQL: scopeLogsQL(scope),
		scopePushed: opts.PushDown,
		firstAgg:    -1,
	}
	c := &compiler{opts: opts}
	in := messagesSchema
	for i, st := range q.Stages {
		c.done = p.steps
		impl, err := st.compile(c, in)
		if err != nil {
			return nil, err
		}
		p.steps = append(p.steps, step{stage: st, impl: impl, in: in})
		if impl.aggregate() && p.firstAgg < 0 {
			p.firstAgg = i
		}
		in = impl.output()
	}
	p.out = in
	p.tail = p.findTail()
	if opts.PushDown {
		// Push stages while the engine can compute them, up to and
		// including the first aggregate: records are at most a few
		// thousand rows, which Go handles as well as the engine.
		for i, s := range p.steps {
			if _, ok := s.impl.logsQL(""); !ok && !p.pushConditionally(i) {
				break
			}
			p.pushed++
			if s.impl.aggregate() {
				break
			}
		}
		p.planGuard()    // where_guard.go
		p.markKeyCheck() // agg_pushdown.go
	}
	return p, nil
}

// checkNoParams rejects template parameters, which must be substituted
// before a query can run.
func checkNoParams(q *Query) *Error {
	var err *Error
	report := func(pos Pos, text string) {
		if err == nil {
			err = errorf(pos, "template parameter in %q has no value", text).
				withHint("substitute dashboard parameters before running the query")
		}
	}
	if q.Scope != nil {
		walkExpr(q.Scope, func(e Expr) {
			switch n := e.(type) {
			case *Keyword:
				if n.HasParam {
					report(n.Pos, n.Text)
				}
			case *FieldMatch:
				if n.HasParam {
					report(n.Pos, n.String())
				}
			}
		})
	}
	for _, s := range q.Stages {
		s.walkFields(func(f FieldRef) {
			if f.Param {
				report(f.Pos, f.Name)
			}
		})
	}
	return err
}

// IsAggregate reports whether the query produces records (Sink.Records)
// rather than messages (Sink.Messages).
func (p *Plan) IsAggregate() bool { return p.firstAgg >= 0 }

// Query returns the compiled query.
func (p *Plan) Query() *Query { return p.query }

// OutputFields returns the columns of the query's output: for an aggregate
// query, the fields of its records in order (what Sink.Records receives);
// for a message query, the fields its stages add to messages besides the
// built-in and ingest-time ones.
func (p *Plan) OutputFields() []FieldInfo { return append([]FieldInfo(nil), p.out.fields...) }

// messagesPushed reports whether the engine computes everything before the
// first aggregate (the whole query when there is none).
func (p *Plan) messagesPushed() bool {
	n := len(p.steps)
	if p.firstAgg >= 0 {
		n = p.firstAgg
	}
	return p.scopePushed && p.pushed >= n
}

// aggregatePushed reports whether the engine computes the first aggregate.
func (p *Plan) aggregatePushed() bool { return p.firstAgg >= 0 && p.pushed > p.firstAgg }

// engineFilter is the LogsQL the engine runs before any pipe.
func (p *Plan) engineFilter() string {
	if p.scopePushed {
		return p.scopeLogsQL
	}
	return "*"
}

// messagePipes is the LogsQL of the pushed steps before the first aggregate.
func (p *Plan) messagePipes() string {
	var b strings.Builder
	for i := 0; i < p.pushed; i++ {
		if p.steps[i].impl.aggregate() {
			break
		}
		if pipe := p.pushedPipe(i); pipe != "" { // a fused timeslice has none (op_timeslice.go)
			b.WriteString(" | " + pipe)
		}
	}
	return b.String()
}

// messagesLogsQL is the engine query producing the messages that enter the
// Go part of the pipeline (or the first pushed aggregate).
func (p *Plan) messagesLogsQL() string { return p.engineFilter() + p.messagePipes() }

// aggregateLogsQL is the engine query of a pushed aggregate: the messages,
// the aggregate with its input counter, and a limit one above the group
// limit so that exceeding it is detected.
func (p *Plan) aggregateLogsQL() string {
	impl := p.steps[p.firstAgg].impl.(aggregateImpl)
	pipe, _ := impl.logsQL(rowsCounterColumn)
	if a, ok := impl.(*aggImpl); ok {
		// With the conditions the run counts (guarded wheres, unchecked
		// conditional stages).
		pipe = a.statsPipe(false, nil, rowsCounterColumn, p.aggCond(a), p.guardedFields()).pipe
	}
	return p.messagesLogsQL() + " | " + pipe + " | limit " + strconv.Itoa(impl.groupLimit()+1)
}

// sortPipe orders messages newest first; the row id breaks ties.
var sortPipe = fmt.Sprintf(" | sort by (_time desc, %q desc)", event.FieldRowID)

// Explain describes the plan: the LogsQL pushed to the engine and the chain
// of Go operators.
func (p *Plan) Explain() string {
	if p.cond != nil && !p.cond.decided {
		return p.explainConditional()
	}
	if g := p.guardedPlan(); g != nil {
		return g.Explain()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "query:   %s\n", p.query.String())
	mode := "push down"
	if !p.opts.PushDown {
		mode = "all Go (the engine only selects the time range)"
	}
	fmt.Fprintf(&b, "mode:    %s\n", mode)
	var goOps []string
	if !p.scopePushed {
		goOps = append(goOps, "filter "+p.query.Scope.String())
	}
	switch {
	case p.tail >= 0:
		p.explainTail(&b)
	case !p.IsAggregate() && p.messagesPushed():
		fmt.Fprintf(&b, "engine:  %s%s limit <messages wanted>   (per time window, newest window first)\n", p.messagesLogsQL(), sortPipe)
	case !p.IsAggregate():
		fmt.Fprintf(&b, "engine:  %s   (per time window, newest window first)\n", p.goMessagesLogsQL())
	case p.aggregatePushed():
		fmt.Fprintf(&b, "engine:  %s\n", p.aggregateLogsQL())
		if a, ok := p.pushedAggregate(); ok {
			b.WriteString(a.explainSplit(p)) // agg_pushdown.go
		}
	case p.blockAggregateExplain(&b): // exec_mine.go
	default:
		fmt.Fprintf(&b, "engine:  %s\n", p.goMessagesLogsQL())
	}
	for i := p.pushed; i < len(p.steps); i++ {
		goOps = append(goOps, p.steps[i].impl.explain())
	}
	if !p.IsAggregate() && !p.messagesPushed() && p.tail < 0 {
		goOps = append(goOps, "keep the newest messages")
	}
	if len(goOps) == 0 {
		goOps = []string{"(none)"}
	}
	fmt.Fprintf(&b, "go:      %s\n", strings.Join(goOps, " -> "))
	if p.IsAggregate() {
		cols := make([]string, len(p.out.fields))
		for i, f := range p.out.fields {
			c := f.Name + " " + f.Type
			if f.KeyField {
				c += " key"
			}
			cols[i] = c
		}
		fmt.Fprintf(&b, "output:  records (%s)\n", strings.Join(cols, ", "))
	} else if p.tail >= 0 {
		b.WriteString("output:  messages, in the order of the stages\n")
	} else {
		b.WriteString("output:  messages, newest first\n")
	}
	return b.String()
}
