package dashboards

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/dohyo/dohyo/query"
)

// Limits of a dashboard.
const (
	MaxPanels          = 100
	MaxVariables       = 20
	MaxVariableValues  = 1000
	MaxRefreshInterval = 24 * 60 * 60
	MinRefreshInterval = 5
	maxTitle           = 300
	maxText            = 64 << 10
)

// DefaultTimeRange is a dashboard's range when it has none.
var DefaultTimeRange = TimeRange{From: "-24h", To: "now"}

// Problem is one thing wrong with a dashboard.
type Problem struct {
	// Panel is the panel's position (1-based) for a panel's problem, 0
	// otherwise; PanelID and PanelTitle name it.
	Panel      int    `json:"panel,omitempty"`
	PanelID    string `json:"panelId,omitempty"`
	PanelTitle string `json:"panelTitle,omitempty"`
	// Variable names the template variable, for a variable's problem.
	Variable string `json:"variable,omitempty"`
	// Field is the property at fault ("query", "layout", "title", ...).
	Field string `json:"field"`
	// Line and Column locate a query problem in the query text.
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Panel > 0:
		fmt.Fprintf(&b, "panel %d %q", p.Panel, p.PanelTitle)
		if p.PanelID != "" {
			fmt.Fprintf(&b, " (%s)", p.PanelID)
		}
		b.WriteString(": ")
	case p.Variable != "":
		fmt.Fprintf(&b, "variable %q: ", p.Variable)
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", p.Line, p.Column)
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists what is wrong with a dashboard.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	const show = 5
	parts := make([]string, 0, show)
	for i, p := range e.Problems {
		if i == show {
			parts = append(parts, fmt.Sprintf("and %d more", len(e.Problems)-show))
			break
		}
		parts = append(parts, p.String())
	}
	return "invalid dashboard: " + strings.Join(parts, "; ")
}

// Normalize fills what a dashboard may leave out: the default time range,
// panel ids (p1, p2, ... skipping those taken) and the layout of panels
// without one (8 by 6 cells, three a row, below the others). It trims
// titles.
func Normalize(d *Dashboard) {
	d.Title = strings.TrimSpace(d.Title)
	if d.TimeRange.IsZero() {
		d.TimeRange = DefaultTimeRange
	}
	if d.TimeRange.To == "" {
		d.TimeRange.To = "now"
	}
	if d.Panels == nil {
		d.Panels = []Panel{}
	}
	taken := map[string]bool{}
	for _, p := range d.Panels {
		if p.ID != "" {
			taken[p.ID] = true
		}
	}
	next := 1
	bottom := 0
	for _, p := range d.Panels {
		if p.Layout.W > 0 {
			bottom = max(bottom, p.Layout.Y+p.Layout.H)
		}
	}
	col := 0
	for i := range d.Panels {
		p := &d.Panels[i]
		p.Title = strings.TrimSpace(p.Title)
		if p.ID == "" {
			for taken["p"+strconv.Itoa(next)] {
				next++
			}
			p.ID = "p" + strconv.Itoa(next)
			taken[p.ID] = true
		}
		if p.Layout == (Layout{}) {
			if col+8 > GridColumns {
				col = 0
				bottom += 6
			}
			p.Layout = Layout{X: col, Y: bottom, W: 8, H: 6}
			col += 8
		}
		if p.TimeRange != nil && p.TimeRange.IsZero() {
			p.TimeRange = nil
		}
		if p.TimeRange != nil && p.TimeRange.To == "" {
			p.TimeRange.To = "now"
		}
	}
}

// Validate checks a dashboard (normalize it first): its title, time
// range, variables and every panel. Every panel query must parse
// ({{variables}} allowed, if the dashboard defines them) and, with each
// variable at its default value, compile. The error is a
// *ValidationError listing every problem, with the panel's position and
// title and the line and column in its query.
func Validate(d *Dashboard) error {
	var ps []Problem
	add := func(p Problem) { ps = append(ps, p) }
	if d.Title == "" {
		add(Problem{Field: "title", Message: "a dashboard needs a title"})
	} else if err := checkText(d.Title, maxTitle); err != "" {
		add(Problem{Field: "title", Message: err})
	}
	if len(d.Description) > maxText {
		add(Problem{Field: "description", Message: fmt.Sprintf("longer than %d bytes", maxText)})
	}
	if err := d.TimeRange.Check(); err != nil {
		add(Problem{Field: "timeRange", Message: err.Error()})
	}
	if d.TimeZone != "" {
		if _, err := time.LoadLocation(d.TimeZone); err != nil {
			add(Problem{Field: "timeZone", Message: fmt.Sprintf("unknown time zone %q", d.TimeZone)})
		}
	}
	if d.RefreshInterval < 0 || d.RefreshInterval > MaxRefreshInterval || (d.RefreshInterval > 0 && d.RefreshInterval < MinRefreshInterval) {
		add(Problem{Field: "refreshInterval", Message: fmt.Sprintf("%d seconds: want 0 (off) or %d to %d seconds", d.RefreshInterval, MinRefreshInterval, MaxRefreshInterval)})
	}

	// Variables.
	vars := map[string]*Variable{}
	if len(d.Variables) > MaxVariables {
		add(Problem{Field: "variables", Message: fmt.Sprintf("%d variables; at most %d", len(d.Variables), MaxVariables)})
	}
	for i := range d.Variables {
		v := &d.Variables[i]
		vp := func(field, format string, args ...any) {
			add(Problem{Variable: v.Name, Field: field, Message: fmt.Sprintf(format, args...)})
		}
		if !validVarName(v.Name) {
			vp("name", "%q is not a variable name: use letters, digits, _, - and .", v.Name)
			continue
		}
		if vars[v.Name] != nil {
			vp("name", "defined twice")
			continue
		}
		vars[v.Name] = v
		switch v.Kind {
		case VarList:
			if len(v.Values) == 0 {
				vp("values", "a list variable needs values")
			}
			if len(v.Values) > MaxVariableValues {
				vp("values", "%d values; at most %d", len(v.Values), MaxVariableValues)
			}
		case VarQuery:
			if strings.TrimSpace(v.Query) == "" {
				vp("query", "a query variable needs a query")
				break
			}
			res := query.Check(v.Query)
			if res.Err != nil {
				add(Problem{Variable: v.Name, Field: "query", Line: res.Err.Pos.Line, Column: res.Err.Pos.Column, Message: errText(res.Err)})
			} else if len(res.Params) > 0 {
				vp("query", "a variable's query cannot use template variables ({{%s}})", res.Params[0])
			}
		case VarText:
		default:
			vp("kind", "%q: want list, query or text", v.Kind)
		}
	}
	defaults := map[string]string{}
	for name, v := range vars {
		defaults[name] = v.DefaultValue()
	}

	// Panels.
	if len(d.Panels) > MaxPanels {
		add(Problem{Field: "panels", Message: fmt.Sprintf("%d panels; at most %d", len(d.Panels), MaxPanels)})
	}
	ids := map[string]int{}
	for i := range d.Panels {
		p := &d.Panels[i]
		pp := func(field string, line, col int, format string, args ...any) {
			add(Problem{Panel: i + 1, PanelID: p.ID, PanelTitle: p.Title, Field: field, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
		}
		if p.ID == "" || len(p.ID) > 64 || strings.ContainsFunc(p.ID, func(r rune) bool { return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') }) {
			pp("id", 0, 0, "%q is not a panel id: use up to 64 letters, digits, - and _", p.ID)
		} else if j, dup := ids[p.ID]; dup {
			pp("id", 0, 0, "the id %q is also the id of panel %d", p.ID, j)
		} else {
			ids[p.ID] = i + 1
		}
		if p.Title == "" {
			pp("title", 0, 0, "a panel needs a title")
		} else if err := checkText(p.Title, maxTitle); err != "" {
			pp("title", 0, 0, "%s", err)
		}
		if len(p.Text) > maxText || len(p.Description) > maxText || len(p.EmptyText) > maxText {
			pp("text", 0, 0, "longer than %d bytes", maxText)
		}
		viz := p.Visualization
		if !slices.Contains(VisualizationTypes, viz.Type) {
			pp("visualization.type", 0, 0, "%q: want one of %s", viz.Type, strings.Join(VisualizationTypes, ", "))
		}
		switch viz.ValueMode {
		case "", "sum", "last", "first", "avg", "min", "max":
		default:
			pp("visualization.valueMode", 0, 0, "%q: want sum, last, first, avg, min or max", viz.ValueMode)
		}
		for _, t := range viz.Thresholds {
			if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
				pp("visualization.thresholds", 0, 0, "a threshold must be a finite number")
			}
		}
		l := p.Layout
		if l.X < 0 || l.Y < 0 || l.W < 1 || l.H < 1 || l.X+l.W > GridColumns || l.H > 100 || l.Y > 10000 {
			pp("layout", 0, 0, "x=%d y=%d w=%d h=%d does not fit the grid: want 0 ≤ x, x + w ≤ %d, w ≥ 1, 1 ≤ h ≤ 100, y ≥ 0", l.X, l.Y, l.W, l.H, GridColumns)
		}
		if p.TimeRange != nil {
			if err := p.TimeRange.Check(); err != nil {
				pp("timeRange", 0, 0, "%s", err.Error())
			}
		}
		if viz.Type == VizText {
			if strings.TrimSpace(p.Query) != "" {
				pp("query", 0, 0, "a text panel has no query")
			}
			continue
		}
		if strings.TrimSpace(p.Query) == "" {
			pp("query", 0, 0, "the panel has no query")
			continue
		}
		res := query.Check(p.Query)
		if res.Err != nil {
			pp("query", res.Err.Pos.Line, res.Err.Pos.Column, "%s", errText(res.Err))
			continue
		}
		var missing []string
		for _, name := range res.Params {
			if vars[name] == nil {
				missing = append(missing, "{{"+name+"}}")
			}
		}
		if len(missing) > 0 {
			pp("query", 0, 0, "uses %s, which the dashboard does not define as a variable", strings.Join(missing, ", "))
			continue
		}
		if len(res.Params) > 0 {
			// Compile it with the variables' default values.
			text, err := query.SubstituteParams(p.Query, defaults)
			if err != nil {
				if qe, ok := query.AsError(err); ok {
					pp("query", qe.Pos.Line, qe.Pos.Column, "%s", errText(qe))
				} else {
					pp("query", 0, 0, "%s", err.Error())
				}
				continue
			}
			if r2 := query.Check(text); r2.Err != nil {
				pp("query", 0, 0, "with the variables at their defaults (%s): %s", describeDefaults(res.Params, defaults), r2.Err.Error())
			}
		}
	}
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

func describeDefaults(names []string, values map[string]string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("{{%s}} = %q", n, values[n])
	}
	return strings.Join(parts, ", ")
}

// errText is a query error without its position (reported apart).
func errText(e *query.Error) string {
	s := e.Msg
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func validVarName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func checkText(s string, maxLen int) string {
	if len(s) > maxLen {
		return fmt.Sprintf("%d bytes, longer than the limit of %d", len(s), maxLen)
	}
	for i, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Sprintf("a control character at byte %d", i)
		}
	}
	return ""
}
