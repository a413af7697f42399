package dashboards

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/search"
)

// RunRequest says how to draw a dashboard.
type RunRequest struct {
	// TimeRange is the range for the whole dashboard; zero means the
	// dashboard's own.
	TimeRange TimeRange `json:"timeRange"`
	// TimeZone (IANA) aligns buckets and reads local times; empty means
	// the dashboard's, else UTC.
	TimeZone string `json:"timeZone"`
	// Variables are the chosen values of template variables; variables
	// left out take their default.
	Variables map[string]string `json:"variables"`
	// Panels lists the ids of the panels to run; empty means all.
	Panels []string `json:"panels"`
	// IgnorePanelRanges applies the dashboard's range to every panel,
	// also to those with a range of their own.
	IgnorePanelRanges bool `json:"ignorePanelRanges"`
	// Limit caps the records or messages per panel (default and maximum:
	// the service's PanelLimit, at most 10,000).
	Limit int `json:"limit"`
	// NoCache runs every panel's query again (results are still shared
	// with concurrent runs and cached for the next ones).
	NoCache bool `json:"noCache"`
}

// PanelResult is what one panel shows, as the run endpoint streams it.
type PanelResult struct {
	Type    string `json:"type"` // "panel"
	PanelID string `json:"panelId"`
	Title   string `json:"title"`
	// Status is "ok", "error" or "text" (a text panel: nothing to run).
	Status string `json:"status"`
	// Query is the query as run: variables substituted.
	Query string `json:"query,omitempty"`
	// From and To are the panel's range, epoch milliseconds.
	From      int64               `json:"from,omitempty"`
	To        int64               `json:"to,omitempty"`
	Aggregate bool                `json:"aggregate"`
	Fields    []search.Field      `json:"fields,omitempty"`
	Records   []map[string]string `json:"records,omitempty"`
	Messages  []map[string]string `json:"messages,omitempty"`
	// RowCount is the number of records or messages.
	RowCount  int      `json:"rowCount"`
	Truncated bool     `json:"truncated,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	// Cached says the results came from the cache (or from a search
	// another viewer had started: Shared).
	Cached bool `json:"cached"`
	Shared bool `json:"shared,omitempty"`
	// ElapsedMs is the time until the panel's results were ready, in
	// this run.
	ElapsedMs int64       `json:"elapsedMs"`
	Error     *PanelError `json:"error,omitempty"`
}

// PanelError is why a panel has no results.
type PanelError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// RunInfo describes a run before its panels come.
type RunInfo struct {
	Type        string `json:"type"` // "meta"
	DashboardID string `json:"dashboardId,omitempty"`
	From        int64  `json:"from"`
	To          int64  `json:"to"`
	TimeZone    string `json:"timeZone"`
	// Variables are the values used (defaults filled in).
	Variables map[string]string `json:"variables"`
	// Panels are the ids of the panels that will be reported, in the
	// dashboard's order.
	Panels []string `json:"panels"`
}

// RunSummary is the last event of a run.
type RunSummary struct {
	Type      string `json:"type"` // "done"
	Panels    int    `json:"panels"`
	Errors    int    `json:"errors"`
	CacheHits int    `json:"cacheHits"`
	ElapsedMs int64  `json:"elapsedMs"`
}

// RunError is a problem with the request itself (bad range, unknown
// variable or panel): nothing ran.
type RunError struct{ Msg string }

func (e *RunError) Error() string { return e.Msg }

// MaxPanelLimit is the most records or messages a panel may ask for.
const MaxPanelLimit = 10_000

// Plan resolves the run: the range, the variables and the panels to run.
// It fails with *RunError when the request is wrong.
func (s *Service) plan(d *Dashboard, req RunRequest) (*runPlan, error) {
	tz := req.TimeZone
	if tz == "" {
		tz = d.TimeZone
	}
	loc := time.UTC
	if tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return nil, &RunError{fmt.Sprintf("unknown time zone %q", tz)}
		}
	} else {
		tz = "UTC"
	}
	tr := req.TimeRange
	if tr.IsZero() {
		tr = d.TimeRange
	}
	if tr.IsZero() {
		tr = DefaultTimeRange
	}
	now := s.cfg.Now()
	from, to, relative, err := tr.Resolve(now, loc)
	if err != nil {
		return nil, &RunError{"time range: " + err.Error()}
	}
	if relative {
		// Aligned, so that runs a few seconds apart share cached results.
		from, to = align(from, to)
	}
	values := map[string]string{}
	known := map[string]bool{}
	for i := range d.Variables {
		v := &d.Variables[i]
		known[v.Name] = true
		values[v.Name] = v.DefaultValue()
		if x, ok := req.Variables[v.Name]; ok {
			values[v.Name] = x
		}
	}
	for name := range req.Variables {
		if !known[name] {
			return nil, &RunError{fmt.Sprintf("the dashboard has no variable %q", name)}
		}
	}
	limit := s.cfg.PanelLimit
	if req.Limit > 0 {
		limit = min(req.Limit, MaxPanelLimit)
	}
	want := map[string]bool{}
	for _, id := range req.Panels {
		want[id] = true
	}
	rp := &runPlan{from: from, to: to, relative: relative, loc: loc, tz: tz, values: values, limit: limit}
	found := map[string]bool{}
	for i := range d.Panels {
		p := &d.Panels[i]
		if len(want) > 0 && !want[p.ID] {
			continue
		}
		found[p.ID] = true
		rp.panels = append(rp.panels, p)
	}
	for _, id := range req.Panels {
		if !found[id] {
			return nil, &RunError{fmt.Sprintf("the dashboard has no panel %q", id)}
		}
	}
	rp.ignorePanelRanges = req.IgnorePanelRanges
	return rp, nil
}

type runPlan struct {
	from, to          time.Time
	relative          bool
	loc               *time.Location
	tz                string
	values            map[string]string
	limit             int
	panels            []*Panel
	ignorePanelRanges bool
}

// panelRange is a panel's range: its own, relative to the end of the
// dashboard's, or the dashboard's. Relative ranges are aligned (cache).
func (rp *runPlan) panelRange(p *Panel) (from, to time.Time, err error) {
	from, to, relative := rp.from, rp.to, rp.relative
	if p.TimeRange != nil && !rp.ignorePanelRanges {
		var rel bool
		if from, to, rel, err = p.TimeRange.Resolve(rp.to, rp.loc); err != nil {
			return time.Time{}, time.Time{}, err
		}
		relative = relative || rel
	}
	if relative {
		from, to = align(from, to)
	}
	return from, to, nil
}

// Run draws a dashboard: every panel's query (variables substituted) runs
// over its range through the search manager, PanelConcurrency at a time,
// each answered from the shared cache when it can be. emit receives the
// run's RunInfo first, then each panel's PanelResult as soon as it is
// ready (one call at a time), and the run returns its summary. A panel
// that fails reports its error and does not stop the others. The error is
// a *RunError for a bad request, or emit's error.
func (s *Service) Run(ctx context.Context, p *catalog.Principal, d *Dashboard, req RunRequest, emit func(any) error) (*RunSummary, error) {
	start := time.Now()
	rp, err := s.plan(d, req)
	if err != nil {
		return nil, err
	}
	info := RunInfo{Type: "meta", DashboardID: d.ID, From: rp.from.UnixMilli(), To: rp.to.UnixMilli(), TimeZone: rp.tz, Variables: rp.values, Panels: []string{}}
	for _, pn := range rp.panels {
		info.Panels = append(info.Panels, pn.ID)
	}
	if err := emit(info); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		sum     = RunSummary{Type: "done"}
		emitErr error
		wg      sync.WaitGroup
		sem     = make(chan struct{}, s.cfg.PanelConcurrency)
	)
	for _, pn := range rp.panels {
		wg.Add(1)
		go func(pn *Panel) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			res := s.runPanel(ctx, p, rp, pn, req.NoCache, start)
			<-sem
			mu.Lock()
			defer mu.Unlock()
			if emitErr != nil {
				return
			}
			sum.Panels++
			if res.Status == "error" {
				sum.Errors++
			}
			if res.Cached {
				sum.CacheHits++
			}
			if err := emit(res); err != nil {
				emitErr = err
				cancel()
			}
		}(pn)
	}
	wg.Wait()
	if emitErr != nil {
		return nil, emitErr
	}
	sum.ElapsedMs = time.Since(start).Milliseconds()
	return &sum, nil
}

// RunPanel runs one panel of a dashboard with the request's range and
// variables (the first panel of req.Panels, or the panel id given).
func (s *Service) RunPanel(ctx context.Context, p *catalog.Principal, d *Dashboard, panelID string, req RunRequest) (*PanelResult, error) {
	req.Panels = []string{panelID}
	rp, err := s.plan(d, req)
	if err != nil {
		return nil, err
	}
	res := s.runPanel(ctx, p, rp, rp.panels[0], req.NoCache, time.Now())
	return &res, nil
}

func (s *Service) runPanel(ctx context.Context, p *catalog.Principal, rp *runPlan, pn *Panel, noCache bool, start time.Time) PanelResult {
	res := PanelResult{Type: "panel", PanelID: pn.ID, Title: pn.Title, Status: "ok"}
	fail := func(code, msg string) PanelResult {
		res.Status = "error"
		res.Error = &PanelError{Code: code, Message: msg}
		res.ElapsedMs = time.Since(start).Milliseconds()
		return res
	}
	if pn.Visualization.Type == VizText {
		res.Status = "text"
		return res
	}
	from, to, err := rp.panelRange(pn)
	if err != nil {
		return fail("dashboard.invalid.range", "the panel's time range: "+err.Error())
	}
	res.From, res.To = from.UnixMilli(), to.UnixMilli()
	text, err := query.SubstituteParams(pn.Query, rp.values)
	if err != nil {
		r := fail("dashboard.variable.error", "template variables: "+err.Error())
		if qe, ok := query.AsError(err); ok {
			r.Error.Line, r.Error.Column = qe.Pos.Line, qe.Pos.Column
		}
		return r
	}
	res.Query = text
	key := strings.Join([]string{rp.tz, strconv.FormatInt(from.UnixNano(), 10), strconv.FormatInt(to.UnixNano(), 10), strconv.Itoa(rp.limit), text}, "\x00")
	r, how, err := s.cache.get(ctx, key, noCache, func(ctx context.Context) (*search.Result, error) {
		return s.search.Run(ctx, p, search.Request{Query: text, From: from, To: to, Location: rp.loc}, search.RunOptions{Limit: rp.limit, NoSave: true})
	})
	if err != nil {
		var se *search.Error
		if errors.As(err, &se) {
			r := fail(se.Code, se.Msg)
			if qe := queryErrorPos(se.Msg); qe != nil {
				r.Error.Line, r.Error.Column = qe.Line, qe.Column
			}
			return r
		}
		if ctx.Err() != nil {
			return fail("searchjob.cancelled", "the run was cancelled")
		}
		return fail(search.CodeFailed, err.Error())
	}
	res.Cached, res.Shared = how == fromCache, how == fromShared
	res.Aggregate = r.Aggregate
	res.Fields, res.Records, res.Messages = r.Fields, r.Records, r.Messages
	res.RowCount = len(r.Records) + len(r.Messages)
	res.Truncated, res.Warnings = r.Truncated, r.Warnings
	res.ElapsedMs = time.Since(start).Milliseconds()
	return res
}

// queryErrorPos finds "line L, column C" at the start of an error message.
func queryErrorPos(msg string) *query.Pos {
	var line, col int
	if n, _ := fmt.Sscanf(msg, "line %d, column %d:", &line, &col); n == 2 {
		return &query.Pos{Line: line, Column: col}
	}
	return nil
}

// VariableValues returns the choices of a variable: its list, or the
// distinct values of its field in the records (or messages) of its query
// run over the range, in the query's order, at most MaxVariableValues.
// Text variables have none.
func (s *Service) VariableValues(ctx context.Context, p *catalog.Principal, v *Variable, tr TimeRange, tz string) ([]string, error) {
	switch v.Kind {
	case VarList:
		return append([]string{}, v.Values...), nil
	case VarText:
		return []string{}, nil
	case VarQuery:
	default:
		return nil, &RunError{fmt.Sprintf("variable %q: unknown kind %q", v.Name, v.Kind)}
	}
	loc := time.UTC
	if tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return nil, &RunError{fmt.Sprintf("unknown time zone %q", tz)}
		}
	} else {
		tz = "UTC"
	}
	if tr.IsZero() {
		tr = DefaultTimeRange
	}
	from, to, relative, err := tr.Resolve(s.cfg.Now(), loc)
	if err != nil {
		return nil, &RunError{"time range: " + err.Error()}
	}
	if relative {
		from, to = align(from, to)
	}
	key := strings.Join([]string{"var", tz, strconv.FormatInt(from.UnixNano(), 10), strconv.FormatInt(to.UnixNano(), 10), v.Query}, "\x00")
	r, _, err := s.cache.get(ctx, key, false, func(ctx context.Context) (*search.Result, error) {
		return s.search.Run(ctx, p, search.Request{Query: v.Query, From: from, To: to, Location: loc}, search.RunOptions{Limit: MaxVariableValues, NoSave: true})
	})
	if err != nil {
		return nil, err
	}
	field := strings.ToLower(v.Field)
	if field == "" {
		for _, f := range r.Fields {
			if f.KeyField {
				field = f.Name
				break
			}
		}
		if field == "" && len(r.Fields) > 0 {
			field = r.Fields[0].Name
		}
	}
	if field == "" {
		return nil, &RunError{fmt.Sprintf("variable %q: say which field holds the values (\"field\")", v.Name)}
	}
	rows := r.Records
	if !r.Aggregate {
		rows = r.Messages
	}
	seen := map[string]bool{}
	out := []string{}
	for _, row := range rows {
		x := row[field]
		if x == "" || seen[x] {
			continue
		}
		seen[x] = true
		out = append(out, x)
		if len(out) == MaxVariableValues {
			break
		}
	}
	return out, nil
}
