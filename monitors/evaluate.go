package monitors

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/store"
)

// RunRequest is one run of a monitor's query.
type RunRequest struct {
	Query string
	Range query.Range
	// Now is the run's clock (now(), queryEndTime()): the window's end.
	Now time.Time
	// MaxRows caps the results kept (the count of results stays exact
	// for a query without grouping).
	MaxRows int
	// User names who the query runs for (the monitor's owner).
	User string
}

// RunResult is what a run found.
type RunResult struct {
	Aggregate bool
	// Fields are the record columns of an aggregate query.
	Fields []string
	// Rows are the records, or the messages newest first; field names
	// as the query language spells them (custom fields lower-cased).
	Rows []map[string]string
	// Matched is the number of messages matching the query (for an
	// aggregate, entering its first aggregate).
	Matched int64
	// Truncated: there were more results than MaxRows.
	Truncated bool
	Warnings  []string
}

// Runner runs monitor queries.
type Runner interface {
	Run(ctx context.Context, req RunRequest) (*RunResult, error)
}

// EngineRunner runs queries on a store with the query package, the way
// search jobs do: pushed down to the engine where exact, with the
// execution environment (lookup tables, GeoIP, threat intelligence).
type EngineRunner struct {
	Store store.Store
	// Env is the execution environment; each run gets a copy naming its
	// user, without the right to save.
	Env *query.Env
	// AllGo runs everything in Go operators (a diagnostic mode).
	AllGo bool
	// MaxGroups is the aggregates' group limit (0: the query default).
	MaxGroups int
	// Timeout bounds one run (default 2 minutes).
	Timeout time.Duration

	mu    sync.Mutex
	plans map[string]*query.Plan
}

// DefaultMaxRows is how many results an evaluation keeps.
const DefaultMaxRows = 10000

// Run implements Runner.
func (r *EngineRunner) Run(ctx context.Context, req RunRequest) (*RunResult, error) {
	plan, err := r.plan(req.Query)
	if err != nil {
		return nil, err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	env := &query.Env{}
	if r.Env != nil {
		e := *r.Env
		env = &e
	}
	env.User, env.AllowSave = req.User, false
	maxRows := req.MaxRows
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	sink := &collectSink{max: maxRows}
	stats, err := plan.Execute(ctx, r.Store, query.ExecOptions{
		Range:       req.Range,
		Now:         req.Now,
		MaxMessages: maxRows,
		Env:         env,
	}, sink)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("the query ran out of its time budget (%s): %w", timeout, err)
		}
		return nil, err
	}
	res := &RunResult{Aggregate: plan.IsAggregate(), Rows: sink.rows, Matched: stats.MessagesMatched, Truncated: sink.truncated, Warnings: stats.Warnings}
	if res.Aggregate {
		for _, f := range sink.fields {
			res.Fields = append(res.Fields, f.Name)
		}
	} else if stats.MessagesMatched > int64(len(sink.rows)) {
		res.Truncated = true
	}
	return res, nil
}

// plan compiles a query once per text.
func (r *EngineRunner) plan(text string) (*query.Plan, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.plans[text]; p != nil {
		return p, nil
	}
	q, err := query.Parse(text)
	if err != nil {
		return nil, err
	}
	p, err := query.Compile(q, query.CompileOptions{PushDown: !r.AllGo, MaxGroups: r.MaxGroups})
	if err != nil {
		return nil, err
	}
	if r.plans == nil || len(r.plans) > 1000 {
		r.plans = map[string]*query.Plan{}
	}
	r.plans[text] = p
	return p, nil
}

type collectSink struct {
	max       int
	rows      []map[string]string
	fields    []query.FieldInfo
	truncated bool
}

func rowMap(r query.Row) map[string]string {
	m := make(map[string]string, len(r))
	for _, f := range r {
		if f.Value != "" {
			m[f.Name] = f.Value
		}
	}
	return m
}

func (s *collectSink) Messages(rows []query.Row) error {
	for _, r := range rows {
		if len(s.rows) >= s.max {
			s.truncated = true
			return nil
		}
		s.rows = append(s.rows, rowMap(r))
	}
	return nil
}

func (s *collectSink) Records(fields []query.FieldInfo, rows []query.Row) error {
	s.fields = fields
	for _, r := range rows {
		if len(s.rows) >= s.max {
			s.truncated = true
			break
		}
		s.rows = append(s.rows, rowMap(r))
	}
	return nil
}

// ---- conditions over results ----

// GroupOutcome is how one group fared in an evaluation.
type GroupOutcome struct {
	Key   string
	Group map[string]string
	// Count is the number of results of the group.
	Count int64
	// Severity is critical or warning when a trigger holds, else "".
	Severity string
	// Condition is the trigger that holds (or, for a group that holds
	// none, the most severe one), as text, and Value the value it saw.
	Condition string
	Value     string
	// Resolved reports whether the resolution condition holds (without
	// one: whether no trigger holds).
	Resolved bool
	// Rows are the group's results (at most sampleRows).
	Rows []map[string]string
}

// Outcome is an evaluation's verdict.
type Outcome struct {
	// Groups are the groups with results, and the firing groups without,
	// in a stable order.
	Groups []*GroupOutcome
	// NoData: the query matched nothing in the window.
	NoData      bool
	ResultCount int64
	Truncated   bool
	Warnings    []string
}

// sampleRows is how many results of a group an outcome keeps.
const sampleRows = 5

// GroupKey returns the key of the group of a result: the JSON array of
// its groupBy values ("" without grouping).
func GroupKey(groupBy []string, values []string) string {
	if len(groupBy) == 0 {
		return ""
	}
	b, _ := json.Marshal(values)
	return string(b)
}

// missingDataKey is the group of the missing data alert.
const missingDataKey = "#missingData"

// fieldValue returns a result's value of a field, matching names without
// regard to case.
func fieldValue(row map[string]string, name string) string {
	if v, ok := row[name]; ok {
		return v
	}
	for k, v := range row {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Decide applies a monitor's conditions to a run's results. firing lists
// the groups currently firing (they are judged even without results).
func Decide(spec *Spec, res *RunResult, firing []string) *Outcome {
	out := &Outcome{NoData: res.Matched == 0 && len(res.Rows) == 0, Truncated: res.Truncated, Warnings: res.Warnings}
	type acc struct {
		g    *GroupOutcome
		rows []map[string]string
	}
	groups := map[string]*acc{}
	var order []string
	vals := make([]string, len(spec.GroupBy))
	for _, r := range res.Rows {
		for i, f := range spec.GroupBy {
			vals[i] = fieldValue(r, f)
		}
		k := GroupKey(spec.GroupBy, vals)
		a := groups[k]
		if a == nil {
			g := &GroupOutcome{Key: k, Group: map[string]string{}}
			for i, f := range spec.GroupBy {
				g.Group[f] = vals[i]
			}
			a = &acc{g: g}
			groups[k] = a
			order = append(order, k)
		}
		a.rows = append(a.rows, r)
	}
	// Without grouping, a monitor has one group, which counts every
	// matching message (not only those kept).
	if len(spec.GroupBy) == 0 {
		if groups[""] == nil {
			groups[""] = &acc{g: &GroupOutcome{Key: "", Group: map[string]string{}}}
			order = append(order, "")
		}
	}
	for _, k := range firing {
		if k == missingDataKey || groups[k] != nil {
			continue
		}
		g := &GroupOutcome{Key: k, Group: map[string]string{}}
		var vs []string
		if json.Unmarshal([]byte(k), &vs) == nil && len(vs) == len(spec.GroupBy) {
			for i, f := range spec.GroupBy {
				g.Group[f] = vs[i]
			}
		}
		groups[k] = &acc{g: g}
		order = append(order, k)
	}
	for _, k := range order {
		a := groups[k]
		g := a.g
		g.Count = int64(len(a.rows))
		if len(spec.GroupBy) == 0 {
			if res.Aggregate {
				g.Count = int64(len(res.Rows))
			} else {
				g.Count = max(res.Matched, int64(len(res.Rows)))
			}
		}
		out.ResultCount += g.Count
		g.Rows = a.rows[:min(len(a.rows), sampleRows)]
		t := spec.Triggers
		fired := false
		for _, c := range []struct {
			sev string
			c   *Condition
		}{{SevCritical, t.Critical}, {SevWarning, t.Warning}} {
			if c.c == nil {
				continue
			}
			ok, v := judge(c.c, g.Count, a.rows)
			if ok {
				g.Severity, g.Condition, g.Value, fired = c.sev, c.c.String(), v, true
				break
			}
			if g.Condition == "" {
				g.Condition, g.Value = c.c.String(), v
			}
		}
		switch {
		case fired:
			g.Resolved = false
		case t.Resolution != nil:
			if len(a.rows) == 0 && !t.Resolution.countBased() {
				g.Resolved = true // no results: nothing left to hold it
			} else {
				g.Resolved, _ = judge(t.Resolution, g.Count, a.rows)
			}
		default:
			g.Resolved = true
		}
		out.Groups = append(out.Groups, g)
	}
	sort.SliceStable(out.Groups, func(i, j int) bool { return out.Groups[i].Key < out.Groups[j].Key })
	return out
}

// judge evaluates a condition on a group: on its number of results, or on
// the field of each of its results (holding when one does). It returns
// the value seen: the count, the value of the first result satisfying the
// condition, or else of the first result.
func judge(c *Condition, count int64, rows []map[string]string) (bool, string) {
	if c.countBased() {
		return c.holds(float64(count)), strconv.FormatInt(count, 10)
	}
	first := ""
	for i, r := range rows {
		s := fieldValue(r, c.Field)
		if i == 0 {
			first = s
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			continue
		}
		if c.holds(v) {
			return true, s
		}
	}
	return false, first
}
