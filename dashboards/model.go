// Package dashboards holds dohyo's dashboards: the JSON model (a grid of
// panels, each a query and a visualization, with one time range for the
// whole dashboard and template variables), its validation, storage in the
// catalog, and the runner that draws a dashboard: every panel's query run
// concurrently through the search engine (search.Manager) with a shared
// cache of results.
//
// # The JSON model
//
//	{
//	  "id": "0F3A...",                       (set by the server)
//	  "title": "AWS CloudTrail - Overview",
//	  "description": "...",
//	  "folder": "AWS CloudTrail",
//	  "timeRange": {"from": "-24h", "to": "now"},
//	  "timeZone": "",                         (empty: the viewer's)
//	  "refreshInterval": 0,                   (seconds; 0 = off)
//	  "variables": [
//	    {"name": "user", "label": "User", "kind": "query",
//	     "query": "_sourceCategory=aws/cloudtrail | json ... | count by user",
//	     "field": "user", "allowAll": true, "default": "*"},
//	    {"name": "region", "kind": "list", "values": ["us-east-1", "eu-west-1"], "allowAll": true}
//	  ],
//	  "panels": [
//	    {"id": "p1", "title": "Top 10 Users",
//	     "query": "_sourceCategory=aws/cloudtrail ... | where user matches \"{{user}}\" | top 10 user",
//	     "visualization": {"type": "column"},
//	     "timeRange": {"from": "-3h", "to": "now"},   (optional, its own)
//	     "layout": {"x": 0, "y": 0, "w": 8, "h": 6}}
//	  ],
//	  "app": {"name": "aws-cloudtrail", "version": "1.0.0"},   (read-only)
//	  "version": 3,                                             (optimistic concurrency)
//	  "createdAt": "...", "createdBy": "admin", "updatedAt": "...", "updatedBy": "admin"
//	}
//
// Layout is a grid of GridColumns (24) columns; x and w count columns, y
// and h rows (the UI picks the row height). A panel's own time range is
// evaluated relative to the end of the dashboard's range ("-3h" to "now"
// is the last three hours of whatever range the dashboard shows), unless
// the run asks to apply the dashboard's range to every panel.
//
// Template variables are written {{name}} in panel queries and replaced,
// token-aware, by query.SubstituteParams before a query runs: a value can
// never change the shape of the query. The "All" choice is "*".
package dashboards

import (
	"time"
)

// GridColumns is the width of the layout grid.
const GridColumns = 24

// Visualization types.
const (
	VizLine        = "line"         // time series: line per series
	VizArea        = "area"         // time series: filled (stackable)
	VizColumn      = "column"       // vertical bars (stackable)
	VizBar         = "bar"          // horizontal bars (stackable)
	VizPie         = "pie"          // slices of one value field by one key
	VizTable       = "table"        // records or messages as a table
	VizSingleValue = "single_value" // one number, thresholds, sparkline
	VizMap         = "map"          // world map: latitude, longitude, count
	VizHoneycomb   = "honeycomb"    // hexagon per key, coloured by value
	VizHeatmap     = "heatmap"      // two keys, cell colour by value
	VizText        = "text"         // Markdown text, no query
)

// VisualizationTypes lists every visualization type.
var VisualizationTypes = []string{VizLine, VizArea, VizColumn, VizBar, VizPie, VizTable, VizSingleValue, VizMap, VizHoneycomb, VizHeatmap, VizText}

// Dashboard is a dashboard.
type Dashboard struct {
	ID          string `json:"id,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Folder is the library folder the dashboard is listed in.
	Folder string `json:"folder,omitempty"`
	// TimeRange is the dashboard's default time range.
	TimeRange TimeRange `json:"timeRange"`
	// TimeZone is an IANA zone for clock-aligned buckets; empty means the
	// viewer's.
	TimeZone string `json:"timeZone,omitempty"`
	// RefreshInterval is the default auto-refresh period in seconds; 0
	// means off.
	RefreshInterval int        `json:"refreshInterval,omitempty"`
	Variables       []Variable `json:"variables,omitempty"`
	Panels          []Panel    `json:"panels"`

	// Read-only metadata, set by the server.
	App       *AppRef    `json:"app,omitempty"`
	Version   int64      `json:"version,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	CreatedBy string     `json:"createdBy,omitempty"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
	UpdatedBy string     `json:"updatedBy,omitempty"`
}

// AppRef names the app (and its version) that installed a dashboard.
type AppRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// TimeRange is a time range as users write it (see ParseTime): "-24h" to
// "now", "now/w" to "now" (this week), or absolute times.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// IsZero reports whether the range is unset.
func (r TimeRange) IsZero() bool { return r.From == "" && r.To == "" }

// Panel is one cell of the dashboard's grid.
type Panel struct {
	// ID identifies the panel within its dashboard (drill-down, runs and
	// the UI refer to it); the server assigns "p1", "p2", ... to panels
	// without one.
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Query is the panel's query (empty for text panels).
	Query string `json:"query,omitempty"`
	// Text is the Markdown of a text panel.
	Text          string        `json:"text,omitempty"`
	Visualization Visualization `json:"visualization"`
	// TimeRange, when set, is the panel's own range, relative to the end
	// of the dashboard's range.
	TimeRange *TimeRange `json:"timeRange,omitempty"`
	Layout    Layout     `json:"layout"`
	// EmptyText is shown when the panel's query returns nothing (why it
	// may be empty, what to set up).
	EmptyText string `json:"emptyText,omitempty"`
}

// Layout is a panel's place on the grid.
type Layout struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Visualization says how a panel draws its results.
//
// Time series (line, area, column, bar) take the x axis from XField
// (default: _timeslice when the records have it, else the first key field)
// and one series per other numeric column (after transpose: one per
// column). pie takes the first key field and the first numeric column.
// single_value shows ValueField (default: the first numeric column) of the
// last record, or, when the records have a _timeslice, reduced over them
// per ValueMode, with a sparkline of them when Sparkline is set; its
// colour is the one of the highest threshold the value reaches. map needs
// latitude and longitude columns (LatitudeField, LongitudeField) and a
// value (ValueField, default _count).
type Visualization struct {
	Type    string `json:"type"`
	Stacked bool   `json:"stacked,omitempty"`
	XField  string `json:"xField,omitempty"`
	// Series, when set, lists the columns drawn (others are left out).
	Series         []string    `json:"series,omitempty"`
	ValueField     string      `json:"valueField,omitempty"`
	ValueMode      string      `json:"valueMode,omitempty"` // sum, last, avg, min, max
	Thresholds     []Threshold `json:"thresholds,omitempty"`
	Sparkline      bool        `json:"sparkline,omitempty"`
	Unit           string      `json:"unit,omitempty"`
	LatitudeField  string      `json:"latitudeField,omitempty"`
	LongitudeField string      `json:"longitudeField,omitempty"`
	// Options hold anything else the UI wants to keep (axis titles,
	// colours, legend placement); the server keeps them as they are.
	Options map[string]any `json:"options,omitempty"`
}

// Threshold colours a single value at or above Value.
type Threshold struct {
	Value float64 `json:"value"`
	Color string  `json:"color"`
	Label string  `json:"label,omitempty"`
}

// Variable is a template variable, shown as a dropdown.
type Variable struct {
	// Name is what panel queries write between {{ and }}.
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
	// Kind is where the choices come from: "list" (Values), "query" (the
	// distinct values of Field in the records of Query, run over the
	// dashboard's time range) or "text" (typed by the user).
	Kind   string   `json:"kind"`
	Values []string `json:"values,omitempty"`
	Query  string   `json:"query,omitempty"`
	Field  string   `json:"field,omitempty"`
	// AllowAll offers the "All" choice, which substitutes *.
	AllowAll bool `json:"allowAll,omitempty"`
	// Default is the initial choice: "*" (All) when AllowAll and empty,
	// else the first value.
	Default string `json:"default,omitempty"`
}

// Variable kinds.
const (
	VarList  = "list"
	VarQuery = "query"
	VarText  = "text"
)

// DefaultValue is the variable's initial value.
func (v *Variable) DefaultValue() string {
	switch {
	case v.Default != "":
		return v.Default
	case v.AllowAll:
		return "*"
	case v.Kind == VarList && len(v.Values) > 0:
		return v.Values[0]
	}
	return "*"
}

// Summary is a dashboard as lists show it.
type Summary struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Folder      string    `json:"folder,omitempty"`
	App         *AppRef   `json:"app,omitempty"`
	PanelCount  int       `json:"panelCount"`
	Version     int64     `json:"version"`
	UpdatedAt   time.Time `json:"updatedAt"`
	UpdatedBy   string    `json:"updatedBy,omitempty"`
}
