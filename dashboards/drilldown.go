package dashboards

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/query"
)

// DrillDownRequest is a click on a panel: the panel's query, the
// variables, the range shown, and what was clicked.
type DrillDownRequest struct {
	// Query is the panel's query, as stored ({{variables}} allowed).
	Query     string            `json:"query"`
	Variables map[string]string `json:"variables"`
	// From and To are the panel's range, epoch milliseconds.
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Values are the clicked record's key fields (lower-case names, as
	// the panel's results have them): a bar's category, a slice, a map
	// point's fields, a table row.
	Values map[string]string `json:"values"`
	// Series is the clicked series' name, a column of the records (after
	// transpose: a value of the transposed field).
	Series string `json:"series"`
}

// DrillDownResult is the search to open.
type DrillDownResult struct {
	// Query lists the messages behind the clicked value: the panel's
	// query up to its first aggregate, variables substituted, and a where
	// per clicked value.
	Query string `json:"query"`
	// From and To are the range to search (a clicked _timeslice narrows
	// it to that slice).
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Filters describe the added conditions.
	Filters []string `json:"filters"`
}

// DrillDown turns a click on a panel into a search for the messages
// behind it. The query keeps its stages before the first aggregate (the
// messages that were counted) and gets "| where field = "value"" for each
// clicked group-by field that existed before the aggregate; a clicked
// transposed series filters on the transposed field (compared without
// regard to case, as transpose lower-cases the column names); a clicked
// _timeslice narrows the range to its slice. A query without aggregate is
// kept and filtered the same way.
func DrillDown(req DrillDownRequest) (*DrillDownResult, error) {
	text := req.Query
	if len(req.Variables) > 0 || strings.Contains(text, "{{") {
		var err error
		if text, err = query.SubstituteParams(text, req.Variables); err != nil {
			return nil, fmt.Errorf("template variables: %w", err)
		}
	}
	q, err := query.Parse(text)
	if err != nil {
		return nil, err
	}
	out := &DrillDownResult{From: req.From, To: req.To, Filters: []string{}}
	cut := len(q.Stages)
	for i := range q.Stages {
		if (&query.Query{Scope: q.Scope, Stages: q.Stages[:i+1]}).IsAggregate() {
			cut = i
			break
		}
	}
	base := text
	if cut < len(q.Stages) {
		off := q.Stages[cut].Position().Offset
		pipe := strings.LastIndexByte(text[:off], '|')
		if pipe < 0 {
			pipe = off
		}
		base = strings.TrimRight(text[:pipe], " \t\r\n")
	}
	// Fields the aggregate grouped by (lower-case name → as written), and
	// the timeslice width.
	keys := map[string]string{}
	var sliceWidth time.Duration
	var transposed []query.FieldRef
	for i, st := range q.Stages {
		switch s := st.(type) {
		case *query.AggregateStage:
			if i == cut {
				for _, f := range s.By {
					keys[strings.ToLower(f.Name)] = f.Name
				}
			}
		case *query.TopStage:
			if i == cut {
				for _, f := range s.Fields {
					keys[strings.ToLower(f.Name)] = f.Name
				}
			}
		case *query.TimesliceStage:
			if d, err := parseWidth(s.Width); err == nil {
				sliceWidth = d
			}
		case *query.TransposeStage:
			transposed = s.Column
		}
	}
	if cut == len(q.Stages) {
		// No aggregate: every clicked field of the messages filters.
		for k := range req.Values {
			keys[strings.ToLower(k)] = k
		}
	}
	var conds []string
	names := make([]string, 0, len(req.Values))
	for k := range req.Values {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := req.Values[k]
		lk := strings.ToLower(k)
		if lk == "_timeslice" {
			ms, err := strconv.ParseInt(v, 10, 64)
			if err == nil && sliceWidth > 0 {
				out.From = max(out.From, ms)
				end := ms + sliceWidth.Milliseconds()
				if out.To == 0 || end < out.To {
					out.To = end
				}
				out.Filters = append(out.Filters, fmt.Sprintf("time slice %s", time.UnixMilli(ms).UTC().Format(time.RFC3339)))
			}
			continue
		}
		name, ok := keys[lk]
		if !ok || strings.HasPrefix(lk, "_") && !isMetadataField(lk) {
			continue
		}
		if canon, ok := metadataFields[lk]; ok {
			name = canon
		}
		c, err := condition(name, v, false)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	if req.Series != "" && len(transposed) == 1 && !strings.HasPrefix(transposed[0].Name, "_") {
		c, err := condition(transposed[0].Name, req.Series, true)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	for _, c := range conds {
		base += "\n| " + c
		out.Filters = append(out.Filters, c)
	}
	if _, err := query.Parse(base); err != nil {
		return nil, fmt.Errorf("the drill-down query does not parse: %w", err)
	}
	out.Query = base
	return out, nil
}

// metadataFields spells the metadata fields a drill-down may filter on.
var metadataFields = map[string]string{
	"_sourcecategory": "_sourceCategory", "_sourcehost": "_sourceHost", "_sourcename": "_sourceName",
	"_source": "_source", "_collector": "_collector",
}

func isMetadataField(lk string) bool {
	_, ok := metadataFields[lk]
	return ok
}

// condition builds "where <field> = "<value>"" with the value quoted by
// the query language's own substitution (it can never change the query's
// shape); an empty value matches a null field; fold compares without
// regard to case.
func condition(field, value string, fold bool) (string, error) {
	ref := field
	if !isIdent(field) {
		ref = `%"{{f}}"`
	}
	var tmpl string
	switch {
	case value == "" || value == "null" && fold:
		tmpl = "where isBlank(" + ref + ")"
	case fold:
		tmpl = "where toLowerCase(" + ref + `) = "{{v}}"`
		value = strings.ToLower(value)
	default:
		tmpl = "where " + ref + ` = "{{v}}"`
	}
	s, err := query.SubstituteParams("* | "+tmpl, map[string]string{"f": field, "v": value})
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(s, "* | "), nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// parseWidth reads a timeslice width such as "1h" or "15m".
func parseWidth(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("no width")
	}
	return parseOffset("+" + s)
}
