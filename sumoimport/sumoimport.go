// Package sumoimport brings Sumo Logic content into dohyo: it reads a
// content export (the JSON of the Library's "Export" or of the Content
// Management API's export job) — folders of saved searches and dashboards,
// classic dashboards ("panels" with "queryString", "viewerType" and a
// 12-column layout) and new dashboards ("panels" with "queries",
// "visualSettings", a 24-column "layout" and template "variables") — and
// converts what dohyo can show: dashboards (their panels, chart types,
// layout, time ranges and variables) and saved searches. Every query goes
// through query.Check (template parameters allowed); every item, panel,
// query or setting that is not brought over is reported with the reason.
//
// Conversion rules:
//
//   - Folders (FolderSyncDefinition) are walked; their path becomes the
//     dashboards' folder ("Sumo import/AWS/CloudTrail").
//   - Classic dashboards (DashboardSyncDefinition): each panel's
//     queryString, viewerType (table, svv → single value, line, area,
//     column, bar, pie, map, text) and x/y/width/height (12 columns, scaled
//     to dohyo's 24). Dashboard filters apply implicitly to panels in Sumo;
//     they are reported, not converted. Metrics panels are reported.
//   - New dashboards (DashboardV2SyncDefinition, and the deprecated
//     MewboardSyncDefinition): panels of type SumoSearchPanel with one Logs
//     query (further queries, and Metrics or Traces queries, are reported),
//     TextPanel as text panels; the chart type from visualSettings'
//     general.type (line, area, column, bar, pie, table, svp → single
//     value, map, honeyComb, heatMap; stacked when displayType is
//     "stacked"); layout from layoutStructures; variables from
//     LogQueryVariableSourceDefinition (query variable), CsvVariableSource
//     Definition (list) and MetadataVariableSourceDefinition (a query on
//     the metadata field); includeAllOption allows "All"; multi-select is
//     reported (dohyo's variables take one value).
//   - Saved searches (SavedSearchWithScheduleSyncDefinition): name, query
//     and default time range; a schedule is reported (schedules are
//     monitors in dohyo).
//   - Time ranges: relative ("-15m"), literal ("today", "week", ...),
//     epoch and ISO-8601 boundaries.
//   - A panel whose query does not pass query.Check is left out and
//     reported with the error's line and column; a {{parameter}} the
//     dashboard does not define becomes a text variable (default *).
//   - Any other content type (lookup tables, metrics searches, scheduled
//     views, links, ...) is reported.
package sumoimport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/dashboards"
	"github.com/dohyo/dohyo/query"
)

// Report says what an import brought over and what it did not.
type Report struct {
	DryRun bool `json:"dryRun"`
	// Imported lists the dashboards and saved searches created (or, in a
	// dry run, that would be).
	Imported []Imported `json:"imported"`
	// NotImported lists every item, panel, query, variable or setting not
	// brought over, and why.
	NotImported []NotImported `json:"notImported"`
}

// Imported is a dashboard or saved search brought over.
type Imported struct {
	// Kind is "dashboard" or "search".
	Kind string `json:"kind"`
	// Format is the Sumo format: "classic" or "new" for dashboards.
	Format string `json:"format,omitempty"`
	// Path is the folder path in the export.
	Path string `json:"path"`
	Name string `json:"name"`
	// ID is the created dashboard's or saved search's id (empty in a dry
	// run).
	ID string `json:"id,omitempty"`
	// Panels and Variables count what the dashboard got; Dropped counts
	// its panels left out (each in NotImported).
	Panels    int `json:"panels,omitempty"`
	Variables int `json:"variables,omitempty"`
	Dropped   int `json:"droppedPanels,omitempty"`
	// Notes tell what was adapted (a chart type mapped to another, ...).
	Notes []string `json:"notes,omitempty"`
}

// NotImported is something not brought over.
type NotImported struct {
	// Kind is "dashboard", "panel", "query", "variable", "filter",
	// "search", "schedule" or the Sumo content type of another item.
	Kind string `json:"kind"`
	// Path is the folder path; Item names the dashboard or search it
	// belongs to; Name is the thing itself (a panel's title).
	Path  string `json:"path"`
	Item  string `json:"item,omitempty"`
	Name  string `json:"name"`
	Query string `json:"query,omitempty"`
	// Line and Column locate a query problem.
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Reason string `json:"reason"`
}

// Converted is the content an export converts into.
type Converted struct {
	Dashboards []ConvertedDashboard
	Searches   []ConvertedSearch
	Report     *Report
}

// ConvertedDashboard is a dashboard to create; Index is its entry in
// Report.Imported.
type ConvertedDashboard struct {
	Dashboard *dashboards.Dashboard
	Index     int
}

// ConvertedSearch is a saved search to create.
type ConvertedSearch struct {
	Name, Query, From, To string
	Index                 int
}

// item is any content item of an export.
type item struct {
	Type        string            `json:"type"`
	Name        string            `json:"name"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Children    []json.RawMessage `json:"children"`
	// Classic dashboards.
	Panels  []json.RawMessage `json:"panels"`
	Filters []struct {
		FieldName    string `json:"fieldName"`
		Label        string `json:"label"`
		DefaultValue string `json:"defaultValue"`
	} `json:"filters"`
	// New dashboards.
	Layout *struct {
		LayoutStructures []struct {
			Key       string `json:"key"`
			Structure string `json:"structure"`
		} `json:"layoutStructures"`
	} `json:"layout"`
	Variables       []variable      `json:"variables"`
	TimeRange       json.RawMessage `json:"timeRange"`
	RefreshInterval int             `json:"refreshInterval"`
	// Saved searches.
	Search *struct {
		QueryText        string `json:"queryText"`
		DefaultTimeRange string `json:"defaultTimeRange"`
		ByReceiptTime    bool   `json:"byReceiptTime"`
		QueryParameters  []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"queryParameters"`
	} `json:"search"`
	SearchSchedule json.RawMessage `json:"searchSchedule"`
}

type classicPanel struct {
	Name           string            `json:"name"`
	ViewerType     string            `json:"viewerType"`
	QueryString    string            `json:"queryString"`
	MetricsQueries []json.RawMessage `json:"metricsQueries"`
	TimeRange      json.RawMessage   `json:"timeRange"`
	X              float64           `json:"x"`
	Y              float64           `json:"y"`
	Width          float64           `json:"width"`
	Height         float64           `json:"height"`
	Properties     string            `json:"properties"`
}

type newPanel struct {
	ID             string `json:"id"`
	Key            string `json:"key"`
	Title          string `json:"title"`
	Description    string `json:"description"`
	PanelType      string `json:"panelType"`
	Text           string `json:"text"`
	VisualSettings string `json:"visualSettings"`
	Queries        []struct {
		QueryString string `json:"queryString"`
		QueryType   string `json:"queryType"`
		QueryKey    string `json:"queryKey"`
	} `json:"queries"`
	TimeRange json.RawMessage `json:"timeRange"`
}

type variable struct {
	Name             string `json:"name"`
	DisplayName      string `json:"displayName"`
	DefaultValue     string `json:"defaultValue"`
	AllowMultiSelect bool   `json:"allowMultiSelect"`
	IncludeAllOption bool   `json:"includeAllOption"`
	SourceDefinition struct {
		VariableSourceType string `json:"variableSourceType"`
		Query              string `json:"query"`
		Field              string `json:"field"`
		Values             string `json:"values"`
		Filter             string `json:"filter"`
		Key                string `json:"key"`
	} `json:"sourceDefinition"`
}

// RootFolder is the folder imported dashboards go under.
const RootFolder = "Sumo import"

// Convert reads a Sumo Logic content export — one item (a folder, a
// dashboard, a saved search) or an array of items — and converts it. It
// fails only when the file is not a content export at all.
func Convert(data []byte) (*Converted, error) {
	data = bytes.TrimSpace(data)
	c := &Converted{Report: &Report{Imported: []Imported{}, NotImported: []NotImported{}}}
	var roots []json.RawMessage
	if len(data) > 0 && data[0] == '[' {
		if err := json.Unmarshal(data, &roots); err != nil {
			return nil, fmt.Errorf("not a Sumo Logic content export: %w", err)
		}
	} else {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(data, &probe); err != nil {
			return nil, fmt.Errorf("not a Sumo Logic content export: %w", err)
		}
		if _, ok := probe["type"]; !ok {
			return nil, fmt.Errorf(`not a Sumo Logic content export: the top-level object has no "type" (FolderSyncDefinition, DashboardV2SyncDefinition, DashboardSyncDefinition, SavedSearchWithScheduleSyncDefinition, ...)`)
		}
		roots = []json.RawMessage{data}
	}
	for _, r := range roots {
		c.walk(r, nil)
	}
	return c, nil
}

func (c *Converted) skip(n NotImported) { c.Report.NotImported = append(c.Report.NotImported, n) }

func (c *Converted) walk(raw json.RawMessage, path []string) {
	var it item
	p := strings.Join(path, "/")
	if err := json.Unmarshal(raw, &it); err != nil {
		c.skip(NotImported{Kind: "item", Path: p, Reason: "not a content item: " + err.Error()})
		return
	}
	name := it.Name
	if name == "" {
		name = it.Title
	}
	switch it.Type {
	case "FolderSyncDefinition":
		for _, ch := range it.Children {
			c.walk(ch, append(append([]string(nil), path...), name))
		}
	case "DashboardSyncDefinition":
		c.classic(&it, name, path)
	case "DashboardV2SyncDefinition", "MewboardSyncDefinition":
		c.newDashboard(&it, raw, name, path)
	case "SavedSearchWithScheduleSyncDefinition", "SavedSearchSyncDefinition":
		c.savedSearch(&it, name, path)
	case "LookupTableSyncDefinition":
		c.skip(NotImported{Kind: it.Type, Path: p, Name: name, Reason: "lookup tables are exported without their rows: create the table in dohyo (dohyo lookup create) and upload its CSV"})
	case "MetricsSearchSyncDefinition", "MetricsSearchV1SyncDefinition":
		c.skip(NotImported{Kind: it.Type, Path: p, Name: name, Reason: "metrics searches are not supported: dohyo stores logs only"})
	case "":
		c.skip(NotImported{Kind: "item", Path: p, Name: name, Reason: `the item has no "type"`})
	default:
		c.skip(NotImported{Kind: it.Type, Path: p, Name: name, Reason: fmt.Sprintf("content type %s is not supported (dohyo imports folders, dashboards and saved searches)", it.Type)})
	}
}

func folderOf(path []string) string {
	return strings.Join(append([]string{RootFolder}, path...), "/")
}

// classic converts a classic dashboard.
func (c *Converted) classic(it *item, name string, path []string) {
	p := strings.Join(path, "/")
	d := &dashboards.Dashboard{Title: name, Description: it.Description, Folder: folderOf(path), Panels: []dashboards.Panel{}}
	imp := Imported{Kind: "dashboard", Format: "classic", Path: p, Name: name}
	defined := map[string]bool{}
	dashRange := ""
	for i, raw := range it.Panels {
		var cp classicPanel
		if err := json.Unmarshal(raw, &cp); err != nil {
			c.skip(NotImported{Kind: "panel", Path: p, Item: name, Name: fmt.Sprintf("panel %d", i+1), Reason: "not a panel: " + err.Error()})
			imp.Dropped++
			continue
		}
		title := cp.Name
		if title == "" {
			title = fmt.Sprintf("Panel %d", i+1)
		}
		viz, note, ok := classicViz(cp.ViewerType)
		if !ok {
			c.skip(NotImported{Kind: "panel", Path: p, Item: name, Name: title, Reason: note})
			imp.Dropped++
			continue
		}
		if note != "" {
			imp.Notes = append(imp.Notes, fmt.Sprintf("panel %q: %s", title, note))
		}
		panel := dashboards.Panel{Title: title, Visualization: viz, Layout: scaleLayout(cp.X, cp.Y, cp.Width, cp.Height, 2)}
		if viz.Type == dashboards.VizText {
			panel.Text = textFromProperties(cp.Properties)
		} else {
			q := strings.TrimSpace(cp.QueryString)
			if q == "" {
				reason := "the panel has no log query"
				if len(cp.MetricsQueries) > 0 {
					reason = "metrics panels are not supported: dohyo stores logs only"
				}
				c.skip(NotImported{Kind: "panel", Path: p, Item: name, Name: title, Reason: reason})
				imp.Dropped++
				continue
			}
			if !c.checkQuery(q, p, name, title, &d.Variables, defined) {
				imp.Dropped++
				continue
			}
			panel.Query = q
		}
		if tr, ok := c.timeRange(cp.TimeRange, p, name, title); ok && tr != nil {
			panel.TimeRange = tr
			if dashRange == "" {
				dashRange = tr.From
			}
		}
		d.Panels = append(d.Panels, panel)
	}
	for _, f := range it.Filters {
		c.skip(NotImported{Kind: "filter", Path: p, Item: name, Name: f.FieldName,
			Reason: "classic dashboard filters apply to every panel implicitly; dohyo's are template variables: add a variable and {{" + f.FieldName + "}} to the panels' queries"})
	}
	// Classic dashboards have no range of their own: use the first
	// panel's, and drop the panels' ranges equal to it.
	if dashRange != "" {
		d.TimeRange = dashboards.TimeRange{From: dashRange, To: "now"}
		for i := range d.Panels {
			if tr := d.Panels[i].TimeRange; tr != nil && tr.From == dashRange && tr.To == "now" {
				d.Panels[i].TimeRange = nil
			}
		}
	}
	c.addDashboard(d, imp)
}

// newDashboard converts a new dashboard.
func (c *Converted) newDashboard(it *item, raw json.RawMessage, name string, path []string) {
	p := strings.Join(path, "/")
	title := it.Title
	if title == "" {
		title = name
	}
	d := &dashboards.Dashboard{Title: title, Description: it.Description, Folder: folderOf(path), Panels: []dashboards.Panel{}}
	imp := Imported{Kind: "dashboard", Format: "new", Path: p, Name: title}
	if it.RefreshInterval > 0 {
		d.RefreshInterval = max(it.RefreshInterval, dashboards.MinRefreshInterval)
	}
	if tr, ok := c.timeRange(it.TimeRange, p, title, "dashboard time range"); ok && tr != nil {
		d.TimeRange = *tr
	}
	layout := map[string]dashboards.Layout{}
	if it.Layout != nil {
		for _, ls := range it.Layout.LayoutStructures {
			var s struct{ X, Y, Width, Height float64 }
			if json.Unmarshal([]byte(ls.Structure), &s) == nil {
				layout[ls.Key] = scaleLayout(s.X, s.Y, s.Width, s.Height, 1)
			}
		}
	}
	defined := map[string]bool{}
	for _, v := range it.Variables {
		if dv, ok := c.variable(v, p, title); ok {
			d.Variables = append(d.Variables, dv)
			defined[dv.Name] = true
		}
	}
	for i, raw := range it.Panels {
		var np newPanel
		if err := json.Unmarshal(raw, &np); err != nil {
			c.skip(NotImported{Kind: "panel", Path: p, Item: title, Name: fmt.Sprintf("panel %d", i+1), Reason: "not a panel: " + err.Error()})
			imp.Dropped++
			continue
		}
		ptitle := np.Title
		if ptitle == "" {
			ptitle = fmt.Sprintf("Panel %d", i+1)
		}
		panel := dashboards.Panel{Title: ptitle, Description: np.Description, Layout: layout[np.Key]}
		switch np.PanelType {
		case "TextPanel":
			panel.Visualization = dashboards.Visualization{Type: dashboards.VizText}
			panel.Text = np.Text
			if panel.Text == "" {
				panel.Text = " "
			}
		case "SumoSearchPanel", "":
			viz, note, ok := newViz(np.VisualSettings)
			if !ok {
				c.skip(NotImported{Kind: "panel", Path: p, Item: title, Name: ptitle, Reason: note})
				imp.Dropped++
				continue
			}
			if note != "" {
				imp.Notes = append(imp.Notes, fmt.Sprintf("panel %q: %s", ptitle, note))
			}
			panel.Visualization = viz
			q := ""
			for _, qq := range np.Queries {
				switch {
				case !strings.EqualFold(qq.QueryType, "Logs") && qq.QueryType != "":
					c.skip(NotImported{Kind: "query", Path: p, Item: title, Name: ptitle + " / " + qq.QueryKey, Query: qq.QueryString,
						Reason: fmt.Sprintf("%s queries are not supported: dohyo stores logs only", qq.QueryType)})
				case q == "" && strings.TrimSpace(qq.QueryString) != "":
					q = strings.TrimSpace(qq.QueryString)
				default:
					c.skip(NotImported{Kind: "query", Path: p, Item: title, Name: ptitle + " / " + qq.QueryKey, Query: qq.QueryString,
						Reason: "a dohyo panel has one query: the panel keeps its first log query"})
				}
			}
			if q == "" {
				c.skip(NotImported{Kind: "panel", Path: p, Item: title, Name: ptitle, Reason: "the panel has no log query"})
				imp.Dropped++
				continue
			}
			if !c.checkQuery(q, p, title, ptitle, &d.Variables, defined) {
				imp.Dropped++
				continue
			}
			panel.Query = q
		default:
			c.skip(NotImported{Kind: "panel", Path: p, Item: title, Name: ptitle, Reason: fmt.Sprintf("panel type %s is not supported", np.PanelType)})
			imp.Dropped++
			continue
		}
		if tr, ok := c.timeRange(np.TimeRange, p, title, ptitle); ok && tr != nil {
			panel.TimeRange = tr
		}
		d.Panels = append(d.Panels, panel)
	}
	c.addDashboard(d, imp)
}

// addDashboard validates a converted dashboard and records it.
func (c *Converted) addDashboard(d *dashboards.Dashboard, imp Imported) {
	dashboards.Normalize(d)
	if err := dashboards.Validate(d); err != nil {
		// Leave out what validation refuses, panel by panel.
		if ve, ok := err.(*dashboards.ValidationError); ok {
			bad := map[int]bool{}
			for _, pr := range ve.Problems {
				if pr.Panel > 0 {
					bad[pr.Panel-1] = true
					c.skip(NotImported{Kind: "panel", Path: imp.Path, Item: imp.Name, Name: pr.PanelTitle, Reason: pr.String()})
				}
			}
			var keep []dashboards.Panel
			for i, p := range d.Panels {
				if !bad[i] {
					keep = append(keep, p)
				}
			}
			imp.Dropped += len(d.Panels) - len(keep)
			d.Panels = keep
			if d.Panels == nil {
				d.Panels = []dashboards.Panel{}
			}
		}
		if err := dashboards.Validate(d); err != nil {
			c.skip(NotImported{Kind: "dashboard", Path: imp.Path, Name: imp.Name, Reason: err.Error()})
			return
		}
	}
	imp.Panels, imp.Variables = len(d.Panels), len(d.Variables)
	c.Report.Imported = append(c.Report.Imported, imp)
	c.Dashboards = append(c.Dashboards, ConvertedDashboard{Dashboard: d, Index: len(c.Report.Imported) - 1})
}

// checkQuery runs query.Check; a {{parameter}} that is not a variable
// becomes a text variable.
func (c *Converted) checkQuery(q, path, item, name string, vars *[]dashboards.Variable, defined map[string]bool) bool {
	res := query.Check(q)
	if res.Err != nil {
		msg := res.Err.Msg
		if res.Err.Hint != "" {
			msg += "; " + res.Err.Hint
		}
		c.skip(NotImported{Kind: "query", Path: path, Item: item, Name: name, Query: q, Line: res.Err.Pos.Line, Column: res.Err.Pos.Column,
			Reason: "the query is not supported by dohyo: " + msg})
		return false
	}
	for _, param := range res.Params {
		if !defined[param] {
			defined[param] = true
			*vars = append(*vars, dashboards.Variable{Name: param, Label: param, Kind: dashboards.VarText, AllowAll: true, Default: "*"})
		}
	}
	return true
}

// variable converts a new dashboard's variable.
func (c *Converted) variable(v variable, path, item string) (dashboards.Variable, bool) {
	dv := dashboards.Variable{Name: v.Name, Label: v.DisplayName, AllowAll: v.IncludeAllOption, Default: v.DefaultValue}
	sd := v.SourceDefinition
	switch sd.VariableSourceType {
	case "LogQueryVariableSourceDefinition":
		res := query.Check(sd.Query)
		if res.Err != nil {
			c.skip(NotImported{Kind: "variable", Path: path, Item: item, Name: v.Name, Query: sd.Query, Line: res.Err.Pos.Line, Column: res.Err.Pos.Column,
				Reason: "its query is not supported by dohyo: " + res.Err.Msg + "; the variable became a text variable"})
			dv.Kind = dashboards.VarText
			break
		}
		dv.Kind, dv.Query, dv.Field = dashboards.VarQuery, sd.Query, strings.ToLower(sd.Field)
		if !res.Aggregate && dv.Field != "" {
			// Sumo takes the values of the field in the query's results;
			// dohyo reads them from records.
			dv.Query = sd.Query + "\n| count by " + fieldRef(dv.Field) + "\n| sort by _count"
			if query.Check(dv.Query).Err != nil {
				dv.Query = sd.Query
			}
		}
	case "CsvVariableSourceDefinition":
		dv.Kind = dashboards.VarList
		for _, x := range strings.Split(sd.Values, ",") {
			if x = strings.TrimSpace(x); x != "" {
				dv.Values = append(dv.Values, x)
			}
		}
		if len(dv.Values) == 0 {
			dv.Kind = dashboards.VarText
		}
	case "MetadataVariableSourceDefinition":
		key := strings.TrimSpace(sd.Key)
		if key == "" {
			dv.Kind = dashboards.VarText
			break
		}
		scope := strings.TrimSpace(sd.Filter)
		if scope == "" {
			scope = "*"
		}
		dv.Kind, dv.Field = dashboards.VarQuery, strings.ToLower(key)
		dv.Query = scope + " | count by " + fieldRef(key) + " | sort by _count"
		if res := query.Check(dv.Query); res.Err != nil {
			c.skip(NotImported{Kind: "variable", Path: path, Item: item, Name: v.Name, Reason: fmt.Sprintf("its values come from the metadata field %q, which dohyo cannot list (%s); the variable became a text variable", key, res.Err.Msg)})
			dv.Kind, dv.Query, dv.Field = dashboards.VarText, "", ""
		}
	default:
		c.skip(NotImported{Kind: "variable", Path: path, Item: item, Name: v.Name, Reason: fmt.Sprintf("variable source %q is not supported; the variable became a text variable", sd.VariableSourceType)})
		dv.Kind = dashboards.VarText
	}
	if v.AllowMultiSelect {
		c.skip(NotImported{Kind: "variable", Path: path, Item: item, Name: v.Name, Reason: "multi-select is not supported: the variable takes one value (or All)"})
	}
	if dv.Default == "" && dv.AllowAll {
		dv.Default = "*"
	}
	return dv, true
}

func fieldRef(name string) string {
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return `%"` + strings.ReplaceAll(name, `"`, `\"`) + `"`
		}
	}
	return name
}

// savedSearch converts a saved search.
func (c *Converted) savedSearch(it *item, name string, path []string) {
	p := strings.Join(path, "/")
	if it.Search == nil || strings.TrimSpace(it.Search.QueryText) == "" {
		c.skip(NotImported{Kind: "search", Path: p, Name: name, Reason: "the saved search has no query"})
		return
	}
	q := strings.TrimSpace(it.Search.QueryText)
	res := query.Check(q)
	if res.Err != nil {
		c.skip(NotImported{Kind: "search", Path: p, Name: name, Query: q, Line: res.Err.Pos.Line, Column: res.Err.Pos.Column,
			Reason: "the query is not supported by dohyo: " + res.Err.Msg})
		return
	}
	from := strings.TrimSpace(it.Search.DefaultTimeRange)
	if from == "" {
		from = "-15m"
	}
	to := "now"
	if f, t, ok := splitRange(from); ok {
		from, to = f, t
	}
	imp := Imported{Kind: "search", Path: p, Name: name}
	if _, _, _, err := (dashboards.TimeRange{From: from, To: to}).Resolve(nowRef(), nil); err != nil {
		imp.Notes = append(imp.Notes, fmt.Sprintf("its time range %q is not understood; it uses the last 15 minutes", it.Search.DefaultTimeRange))
		from, to = "-15m", "now"
	}
	if it.Search.ByReceiptTime {
		imp.Notes = append(imp.Notes, "it searched by receipt time; dohyo searches by message time")
	}
	if len(res.Params) > 0 {
		imp.Notes = append(imp.Notes, "it uses the parameters "+strings.Join(res.Params, ", ")+": give their values when you run it")
	}
	if s := bytes.TrimSpace(it.SearchSchedule); len(s) > 0 && string(s) != "null" {
		c.skip(NotImported{Kind: "schedule", Path: p, Item: name, Name: name, Reason: "scheduled searches become monitors in dohyo: create a monitor with this query"})
	}
	c.Report.Imported = append(c.Report.Imported, imp)
	c.Searches = append(c.Searches, ConvertedSearch{Name: name, Query: q, From: from, To: to, Index: len(c.Report.Imported) - 1})
}

// splitRange reads Sumo's "from to" ranges such as "-2h -1h".
func splitRange(s string) (string, string, bool) {
	f := strings.Fields(s)
	if len(f) == 2 {
		return f[0], f[1], true
	}
	return "", "", false
}

// classicViz maps a classic viewerType.
func classicViz(t string) (dashboards.Visualization, string, bool) {
	switch strings.ToLower(t) {
	case "table", "":
		return dashboards.Visualization{Type: dashboards.VizTable}, "", true
	case "svv", "singlevalue", "single_value":
		return dashboards.Visualization{Type: dashboards.VizSingleValue}, "", true
	case "line":
		return dashboards.Visualization{Type: dashboards.VizLine}, "", true
	case "area":
		return dashboards.Visualization{Type: dashboards.VizArea}, "", true
	case "column":
		return dashboards.Visualization{Type: dashboards.VizColumn}, "", true
	case "bar":
		return dashboards.Visualization{Type: dashboards.VizBar}, "", true
	case "pie":
		return dashboards.Visualization{Type: dashboards.VizPie}, "", true
	case "map":
		return dashboards.Visualization{Type: dashboards.VizMap}, "", true
	case "text", "title":
		return dashboards.Visualization{Type: dashboards.VizText}, "", true
	case "scatter", "box", "bubble", "combo":
		return dashboards.Visualization{Type: dashboards.VizTable}, fmt.Sprintf("the %s chart is shown as a table", t), true
	}
	return dashboards.Visualization{}, fmt.Sprintf("viewer type %q is not supported", t), false
}

// newViz maps a new dashboard panel's visualSettings.
func newViz(settings string) (dashboards.Visualization, string, bool) {
	var vs struct {
		General struct {
			Mode        string `json:"mode"`
			Type        string `json:"type"`
			DisplayType string `json:"displayType"`
		} `json:"general"`
		SVP struct {
			Sparkline struct {
				Show bool `json:"show"`
			} `json:"sparkline"`
			Thresholds []struct {
				From  *float64 `json:"from"`
				To    *float64 `json:"to"`
				Color string   `json:"color"`
			} `json:"thresholds"`
		} `json:"svp"`
	}
	if strings.TrimSpace(settings) != "" {
		if err := json.Unmarshal([]byte(settings), &vs); err != nil {
			// Some exports hold Python-style booleans: be lenient.
			fixed := strings.NewReplacer(":True", ":true", ":False", ":false", ": True", ": true", ": False", ": false").Replace(settings)
			json.Unmarshal([]byte(fixed), &vs)
		}
	}
	v := dashboards.Visualization{Stacked: strings.EqualFold(vs.General.DisplayType, "stacked")}
	note := ""
	t := strings.ToLower(vs.General.Type)
	switch {
	case t == "line":
		v.Type = dashboards.VizLine
	case t == "area":
		v.Type = dashboards.VizArea
	case t == "column":
		v.Type = dashboards.VizColumn
	case t == "bar":
		v.Type = dashboards.VizBar
	case t == "pie" || t == "donut":
		v.Type = dashboards.VizPie
	case t == "table" || t == "" && vs.General.Mode == "":
		v.Type = dashboards.VizTable
	case t == "svp" || strings.HasPrefix(strings.ToLower(vs.General.Mode), "singlevalue"):
		v.Type = dashboards.VizSingleValue
		v.Sparkline = vs.SVP.Sparkline.Show
		for _, th := range vs.SVP.Thresholds {
			if th.From != nil && !math.IsNaN(*th.From) && th.Color != "" {
				v.Thresholds = append(v.Thresholds, dashboards.Threshold{Value: *th.From, Color: th.Color})
			}
		}
		sort.Slice(v.Thresholds, func(i, j int) bool { return v.Thresholds[i].Value < v.Thresholds[j].Value })
	case strings.HasPrefix(t, "map") || strings.Contains(t, "geo"):
		v.Type = dashboards.VizMap
	case t == "honeycomb":
		v.Type = dashboards.VizHoneycomb
	case t == "heatmap":
		v.Type = dashboards.VizHeatmap
	case t == "scatter" || t == "box" || t == "bubble" || t == "sankey" || t == "combo":
		v.Type = dashboards.VizTable
		note = fmt.Sprintf("the %s chart is shown as a table", vs.General.Type)
	default:
		if t == "" {
			v.Type = dashboards.VizTable
			note = fmt.Sprintf("the chart mode %q is shown as a table", vs.General.Mode)
			break
		}
		return v, fmt.Sprintf("chart type %q is not supported", vs.General.Type), false
	}
	return v, note, true
}

// scaleLayout turns a Sumo layout into dohyo's 24-column grid (classic
// dashboards have 12 columns: factor 2).
func scaleLayout(x, y, w, h, factor float64) dashboards.Layout {
	if w <= 0 || h <= 0 {
		return dashboards.Layout{} // Normalize places it
	}
	l := dashboards.Layout{X: int(x * factor), Y: int(y * factor), W: int(math.Max(1, w*factor)), H: int(math.Max(1, h*factor))}
	if factor == 1 {
		l.Y, l.H = int(y), int(math.Max(1, h))
	}
	if l.W > dashboards.GridColumns {
		l.W = dashboards.GridColumns
	}
	if l.X+l.W > dashboards.GridColumns {
		l.X = dashboards.GridColumns - l.W
	}
	if l.H > 100 {
		l.H = 100
	}
	return l
}

// textFromProperties reads a classic text panel's text.
func textFromProperties(props string) string {
	var p struct {
		Text     string `json:"text"`
		Settings struct {
			Text string `json:"text"`
		} `json:"settings"`
	}
	json.Unmarshal([]byte(props), &p)
	switch {
	case p.Text != "":
		return p.Text
	case p.Settings.Text != "":
		return p.Settings.Text
	}
	return " "
}

// timeRange converts a Sumo time range object (or string); ok=false when
// it was reported as not understood.
func (c *Converted) timeRange(raw json.RawMessage, path, item, name string) (*dashboards.TimeRange, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if f, t, ok := splitRange(s); ok {
			return &dashboards.TimeRange{From: f, To: t}, true
		}
		return &dashboards.TimeRange{From: s, To: "now"}, true
	}
	var tr struct {
		Type      string          `json:"type"`
		RangeName string          `json:"rangeName"`
		From      json.RawMessage `json:"from"`
		To        json.RawMessage `json:"to"`
	}
	if err := json.Unmarshal(raw, &tr); err != nil {
		c.skip(NotImported{Kind: "timeRange", Path: path, Item: item, Name: name, Reason: "time range not understood: " + err.Error()})
		return nil, false
	}
	if tr.Type == "CompleteLiteralTimeRange" {
		f, t, ok := literalRange(tr.RangeName)
		if !ok {
			c.skip(NotImported{Kind: "timeRange", Path: path, Item: item, Name: name, Reason: fmt.Sprintf("time range %q is not supported; the dashboard's is used", tr.RangeName)})
			return nil, false
		}
		return &dashboards.TimeRange{From: f, To: t}, true
	}
	from, ok1 := boundary(tr.From, true)
	to, ok2 := boundary(tr.To, false)
	if !ok1 || !ok2 {
		c.skip(NotImported{Kind: "timeRange", Path: path, Item: item, Name: name, Reason: fmt.Sprintf("time range %s is not supported; the default is used", string(raw))})
		return nil, false
	}
	if to == "" {
		to = "now"
	}
	r := &dashboards.TimeRange{From: from, To: to}
	if err := r.Check(); err != nil {
		c.skip(NotImported{Kind: "timeRange", Path: path, Item: item, Name: name, Reason: err.Error()})
		return nil, false
	}
	return r, true
}

// boundary converts one end of a BeginBoundedTimeRange.
func boundary(raw json.RawMessage, from bool) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", !from
	}
	var b struct {
		Type         string          `json:"type"`
		RelativeTime string          `json:"relativeTime"`
		RangeName    string          `json:"rangeName"`
		EpochMillis  json.RawMessage `json:"epochMillis"`
		ISO8601Time  string          `json:"iso8601Time"`
	}
	if json.Unmarshal(raw, &b) != nil {
		return "", false
	}
	switch b.Type {
	case "RelativeTimeRangeBoundary":
		if b.RelativeTime == "" {
			return "", false
		}
		if _, _, err := dashboards.ParseTime(b.RelativeTime, nowRef(), nil); err != nil {
			return "", false
		}
		return b.RelativeTime, true
	case "LiteralTimeRangeBoundary":
		f, t, ok := literalRange(b.RangeName)
		if from {
			return f, ok
		}
		return t, ok
	case "EpochTimeRangeBoundary":
		var ms int64
		if err := json.Unmarshal(b.EpochMillis, &ms); err != nil {
			var s string
			if json.Unmarshal(b.EpochMillis, &s) != nil {
				return "", false
			}
			if ms, err = strconv.ParseInt(s, 10, 64); err != nil {
				return "", false
			}
		}
		return strconv.FormatInt(ms, 10), true
	case "Iso8601TimeRangeBoundary":
		return b.ISO8601Time, b.ISO8601Time != ""
	}
	return "", false
}

// literalRange maps Sumo's named ranges.
func literalRange(name string) (from, to string, ok bool) {
	switch strings.ToLower(name) {
	case "now":
		return "now", "now", true
	case "second":
		return "-1s", "now", true
	case "minute":
		return "now/m", "now", true
	case "hour":
		return "now/h", "now", true
	case "today", "day":
		return "now/d", "now", true
	case "yesterday":
		return "now-1d/d", "now/d", true
	case "week":
		return "now/w", "now", true
	case "previous_week":
		return "now-1w/w", "now/w", true
	case "month":
		return "now/M", "now", true
	case "year":
		return "now/y", "now", true
	}
	return "", "", false
}
