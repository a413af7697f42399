package monitors

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/dohyo/dohyo/internal/units"
	"github.com/dohyo/dohyo/query"
)

// Spec is a monitor's definition: the JSON body of POST /api/v1/monitors
// and the format of an app's monitor files.
//
//	{
//	  "name": "Console login failures per user",
//	  "description": "...",
//	  "query": "_sourceCategory=aws/cloudtrail ConsoleLogin | ... | count by user",
//	  "window": "15m", "frequency": "1m", "delay": "30s",
//	  "groupBy": ["user"],
//	  "triggers": {
//	    "critical": {"field": "_count", "op": ">=", "threshold": 10},
//	    "warning":  {"field": "_count", "op": ">=", "threshold": 5},
//	    "resolution": {"field": "_count", "op": "<", "threshold": 3},
//	    "missingData": {"severity": "warning"}
//	  },
//	  "message": "{{.Group.user}} failed to log in {{.Value}} times",
//	  "notifications": [{"target": "security-webhook", "severities": ["critical"]}],
//	  "labels": {"severity": "medium", "check": "S2"},
//	  "enabled": true
//	}
type Spec struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Query is the Sumo query the monitor runs over each window. It may
	// aggregate (its records are the results) or not (its messages are).
	Query string `json:"query"`
	// Window is the time range each evaluation covers (default 15m).
	Window Duration `json:"window,omitzero"`
	// Frequency is how often the monitor is evaluated (default 5m, at
	// least 1m); windows end on multiples of it.
	Frequency Duration `json:"frequency,omitzero"`
	// Delay is how long after a window's end it is evaluated, so that
	// events arriving late are counted (default 1m).
	Delay Duration `json:"delay,omitzero"`
	// GroupBy names the result fields whose values make one alert each;
	// empty means one alert for the whole monitor.
	GroupBy  []string `json:"groupBy,omitempty"`
	Triggers Triggers `json:"triggers"`
	// Message is a text/template rendered into each notification
	// (Payload.Message); it sees the Payload.
	Message string `json:"message,omitempty"`
	// Notifications are the targets told of the alerts.
	Notifications []NotifyRef `json:"notifications,omitempty"`
	// Labels are free key-value pairs carried into notifications
	// (severity, MITRE technique, the check's id...).
	Labels map[string]string `json:"labels,omitempty"`
	// Enabled: a disabled monitor is not evaluated. App monitors are
	// shipped disabled.
	Enabled bool `json:"enabled"`
}

// Triggers are a monitor's conditions.
type Triggers struct {
	Critical *Condition `json:"critical,omitempty"`
	Warning  *Condition `json:"warning,omitempty"`
	// Resolution, when set, is what a firing alert needs to resolve;
	// without it an alert resolves as soon as neither trigger holds.
	Resolution *Condition `json:"resolution,omitempty"`
	// MissingData fires when a window has no results at all (the source
	// went silent).
	MissingData *MissingData `json:"missingData,omitempty"`
}

// Condition compares a value of each group with a threshold.
type Condition struct {
	// Field is a result field (numeric), compared on each result of the
	// group (the condition holds when one result satisfies it). Empty (or
	// "_resultcount") compares the number of results of the group.
	Field     string  `json:"field,omitempty"`
	Op        string  `json:"op"`
	Threshold float64 `json:"threshold"`
}

// MissingData configures the missing data trigger.
type MissingData struct {
	// Severity of the alert: critical or warning (default critical).
	Severity string `json:"severity,omitempty"`
}

// NotifyRef sends a monitor's alerts to a target.
type NotifyRef struct {
	// Target is the target's id or name.
	Target string `json:"target"`
	// Severities filters what is sent: critical, warning, missingData,
	// error. Empty means all. Resolutions follow their alerts.
	Severities []string `json:"severities,omitempty"`
}

// Severities and alert states.
const (
	SevCritical    = "critical"
	SevWarning     = "warning"
	SevMissingData = "missingData"
	SevError       = "error"
)

// ResultCountField names the number of results in a condition.
const ResultCountField = "_resultcount"

// Defaults and limits.
const (
	DefaultWindow    = 15 * time.Minute
	DefaultFrequency = 5 * time.Minute
	DefaultDelay     = time.Minute
	MinFrequency     = time.Minute
	MaxWindow        = 31 * 24 * time.Hour
	MaxDelay         = 24 * time.Hour
	maxQueryBytes    = 64 << 10
	maxMessageBytes  = 8 << 10
)

var validOps = []string{">", ">=", "<", "<=", "=="}

// Duration is a time.Duration written in JSON as text: "30s", "5m", "1h",
// "1d".
type Duration time.Duration

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration compactly: 1d, 90m, 1h30m, 30s.
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// FormatDuration formats a duration compactly in the largest exact units:
// 1d, 2h, 90m is 1h30m, 30s, 1m30s.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	neg := d < 0
	if neg {
		d = -d
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for _, u := range []struct {
		n time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d >= u.n {
			b.WriteString(strconv.FormatInt(int64(d/u.n), 10) + u.s)
			d %= u.n
		}
	}
	if d > 0 {
		b.WriteString(strconv.FormatInt(int64(d), 10) + "ns")
	}
	return b.String()
}

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "5m", "1d", "90s" (or a number of seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n float64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("want a duration such as \"5m\" or \"1h\"")
		}
		*d = Duration(n * float64(time.Second))
		return nil
	}
	v, err := units.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Problem is one thing wrong with a monitor definition: the JSON field
// ("query", "triggers.critical.op", "notifications[0].target") and what;
// for the query, the line, column and byte offset of the problem in it.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Offset  int    `json:"offset,omitempty"`
}

// ValidationError lists the problems of a definition.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		parts = append(parts, p.Field+": "+p.Message)
	}
	return "invalid monitor: " + strings.Join(parts, "; ")
}

// AsValidationError returns the *ValidationError inside err.
func AsValidationError(err error) (*ValidationError, bool) {
	var ve *ValidationError
	ok := errors.As(err, &ve)
	return ve, ok
}

// ParseSpec decodes a monitor definition (unknown fields are errors) and
// validates it; see Validate.
func ParseSpec(data []byte) (*Spec, error) {
	var s Spec
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, &ValidationError{Problems: []Problem{{Field: "", Message: "not a valid monitor definition: " + err.Error()}}}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Normalize fills in the defaults.
func (s *Spec) Normalize() {
	s.Name = strings.TrimSpace(s.Name)
	if s.Window == 0 {
		s.Window = Duration(DefaultWindow)
	}
	if s.Frequency == 0 {
		s.Frequency = Duration(DefaultFrequency)
	}
	if s.Delay == 0 {
		s.Delay = Duration(DefaultDelay)
	}
	for i, g := range s.GroupBy {
		s.GroupBy[i] = strings.TrimSpace(g)
	}
	for _, c := range []*Condition{s.Triggers.Critical, s.Triggers.Warning, s.Triggers.Resolution} {
		if c != nil {
			c.Field = strings.TrimSpace(c.Field)
			c.Op = strings.TrimSpace(c.Op)
			if c.Op == "=" {
				c.Op = "=="
			}
		}
	}
	if md := s.Triggers.MissingData; md != nil && md.Severity == "" {
		md.Severity = SevCritical
	}
}

// Validate normalizes the definition and checks it, compiling its query;
// the error is a *ValidationError listing every problem.
func (s *Spec) Validate() error {
	s.Normalize()
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if s.Name == "" {
		add("name", "a monitor needs a name")
	} else if len(s.Name) > 300 {
		add("name", "the name is %d bytes long; the limit is 300", len(s.Name))
	}
	var plan *query.Plan
	switch {
	case strings.TrimSpace(s.Query) == "":
		add("query", "a monitor needs a query")
	case len(s.Query) > maxQueryBytes:
		add("query", "the query is %d bytes long; the limit is %d", len(s.Query), maxQueryBytes)
	default:
		var err error
		plan, err = compileQuery(s.Query)
		if err != nil {
			p := Problem{Field: "query", Message: err.Error()}
			if qe, ok := query.AsError(err); ok {
				p.Message = qe.Msg
				if qe.Hint != "" {
					p.Message += "; " + qe.Hint
				}
				p.Line, p.Column, p.Offset = qe.Pos.Line, qe.Pos.Column, qe.Pos.Offset
			}
			ps = append(ps, p)
		}
	}
	if f := s.Frequency.D(); f < MinFrequency {
		add("frequency", "the frequency is %s; monitors run at most every %s", FormatDuration(f), FormatDuration(MinFrequency))
	} else if f%time.Second != 0 {
		add("frequency", "the frequency must be whole seconds")
	} else if f > 24*time.Hour {
		add("frequency", "the frequency is %s; the longest is 1d", FormatDuration(f))
	}
	if w := s.Window.D(); w <= 0 {
		add("window", "the window must be positive")
	} else if w > MaxWindow {
		add("window", "the window is %s; the longest is %s", FormatDuration(w), FormatDuration(MaxWindow))
	} else if w < s.Frequency.D() {
		add("window", "the window (%s) is shorter than the frequency (%s): events between windows would never be seen", FormatDuration(w), s.Frequency)
	}
	if d := s.Delay.D(); d < 0 || d > MaxDelay {
		add("delay", "the delay must be between 0s and %s", FormatDuration(MaxDelay))
	}
	var outFields map[string]bool
	if plan != nil && plan.IsAggregate() {
		outFields = map[string]bool{}
		for _, f := range plan.OutputFields() {
			outFields[strings.ToLower(f.Name)] = true
		}
	}
	names := func() string {
		var l []string
		for _, f := range plan.OutputFields() {
			l = append(l, f.Name)
		}
		return strings.Join(l, ", ")
	}
	seen := map[string]bool{}
	for i, g := range s.GroupBy {
		switch {
		case g == "":
			add(fmt.Sprintf("groupBy[%d]", i), "empty field name")
		case seen[strings.ToLower(g)]:
			add(fmt.Sprintf("groupBy[%d]", i), "%s is listed twice", g)
		case outFields != nil && !outFields[strings.ToLower(g)]:
			add(fmt.Sprintf("groupBy[%d]", i), "the query's results have no field %s (they have %s)", g, names())
		}
		seen[strings.ToLower(g)] = true
	}
	t := s.Triggers
	if t.Critical == nil && t.Warning == nil && t.MissingData == nil {
		add("triggers", "a monitor needs a trigger: critical, warning or missingData")
	}
	if t.Resolution != nil && t.Critical == nil && t.Warning == nil {
		add("triggers.resolution", "a resolution condition needs a critical or warning trigger")
	}
	for _, c := range []struct {
		name string
		c    *Condition
	}{{"critical", t.Critical}, {"warning", t.Warning}, {"resolution", t.Resolution}} {
		if c.c == nil {
			continue
		}
		f := "triggers." + c.name
		if !contains(validOps, c.c.Op) {
			add(f+".op", "operator %q: want one of %s", c.c.Op, strings.Join(validOps, " "))
		}
		if math.IsNaN(c.c.Threshold) || math.IsInf(c.c.Threshold, 0) {
			add(f+".threshold", "the threshold must be a number")
		}
		if fl := strings.ToLower(c.c.Field); fl != "" && fl != ResultCountField && outFields != nil && !outFields[fl] {
			add(f+".field", "the query's results have no field %s (they have %s)", c.c.Field, names())
		}
	}
	if md := t.MissingData; md != nil && md.Severity != SevCritical && md.Severity != SevWarning {
		add("triggers.missingData.severity", "severity %q: want critical or warning", md.Severity)
	}
	if s.Message != "" {
		if len(s.Message) > maxMessageBytes {
			add("message", "the message template is longer than %d bytes", maxMessageBytes)
		} else if _, err := parseTemplate("message", s.Message); err != nil {
			add("message", "%v", err)
		}
	}
	for i, n := range s.Notifications {
		f := fmt.Sprintf("notifications[%d]", i)
		if strings.TrimSpace(n.Target) == "" {
			add(f+".target", "a notification needs a target (its id or name)")
		}
		for _, sev := range n.Severities {
			if !contains([]string{SevCritical, SevWarning, SevMissingData, SevError}, sev) {
				add(f+".severities", "severity %q: want critical, warning, missingData or error", sev)
			}
		}
	}
	for k := range s.Labels {
		if strings.TrimSpace(k) == "" {
			add("labels", "a label needs a name")
		}
	}
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compileQuery parses and plans a monitor's query.
func compileQuery(text string) (*query.Plan, error) {
	q, err := query.Parse(text)
	if err != nil {
		return nil, err
	}
	return query.Compile(q, query.CompileOptions{PushDown: true})
}

// String describes a condition: "_count >= 5", "results > 0".
func (c *Condition) String() string {
	f := c.Field
	if f == "" || strings.EqualFold(f, ResultCountField) {
		f = "results"
	}
	return fmt.Sprintf("%s %s %s", f, c.Op, query.FormatNumber(c.Threshold))
}

// holds compares v with the threshold.
func (c *Condition) holds(v float64) bool {
	switch c.Op {
	case ">":
		return v > c.Threshold
	case ">=":
		return v >= c.Threshold
	case "<":
		return v < c.Threshold
	case "<=":
		return v <= c.Threshold
	case "==":
		return v == c.Threshold
	}
	return false
}

// countBased reports whether the condition compares the number of results.
func (c *Condition) countBased() bool {
	return c.Field == "" || strings.EqualFold(c.Field, ResultCountField)
}

func parseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(templateFuncs).Option("missingkey=zero").Parse(text)
}
