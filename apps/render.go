package apps

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/dashboards"
	"github.com/dohyo/dohyo/query"
)

// SearchFile is a saved search of an app.
type SearchFile struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Query       string `json:"query"`
	From        string `json:"from"`
	To          string `json:"to,omitempty"`
}

// LookupFile is a lookup table of an app.
type LookupFile struct {
	Name        string                `json:"name"`
	Description string                `json:"description,omitempty"`
	PrimaryKeys []string              `json:"primaryKeys"`
	Fields      []catalog.LookupField `json:"fields"`
	// Note tells the user what to put in the table (shown by the UI).
	Note string `json:"note,omitempty"`
}

// Rendered is an app with its parameters substituted, ready to install.
type Rendered struct {
	App        *App
	Params     map[string]string
	Dashboards []RenderedDashboard
	Searches   []RenderedSearch
	Lookups    []RenderedLookup
	Monitors   []RenderedMonitor
}

// RenderedDashboard is a dashboard of a rendered app.
type RenderedDashboard struct {
	Key       string
	Dashboard *dashboards.Dashboard
}

// RenderedSearch is a saved search of a rendered app.
type RenderedSearch struct {
	Key    string
	Search SearchFile
}

// RenderedLookup is a lookup table of a rendered app.
type RenderedLookup struct {
	Key    string
	Lookup LookupFile
	// CSV holds the initial rows (nil: none).
	CSV []byte
}

// RenderedMonitor is a monitor of a rendered app, in the monitors
// package's JSON.
type RenderedMonitor struct {
	Key        string
	Name       string
	Definition json.RawMessage
}

// RenderError lists what is wrong with an app's content.
type RenderError struct {
	App      string
	Problems []string
}

func (e *RenderError) Error() string {
	return fmt.Sprintf("app %s: %s", e.App, strings.Join(e.Problems, "; "))
}

// Render substitutes the parameters (resolved with ResolveParams) into
// every file and checks the result: dashboards validate (every panel
// query parses and compiles), saved search queries compile, lookup tables
// are well-formed. Monitors are checked by check when not nil. The error
// is a *RenderError listing every problem.
func (a *App) Render(params map[string]string, check func(def json.RawMessage) error) (*Rendered, error) {
	r := &Rendered{App: a, Params: params}
	var problems []string
	bad := func(kind, key string, err error) {
		problems = append(problems, fmt.Sprintf("%s/%s.json: %v", kind, key, err))
	}
	for _, f := range a.Dashboards {
		data, err := substituteJSON(f.Data, params)
		if err != nil {
			bad("dashboards", f.Key, err)
			continue
		}
		var d dashboards.Dashboard
		if err := decodeStrict(data, &d); err != nil {
			bad("dashboards", f.Key, err)
			continue
		}
		if d.Folder == "" {
			d.Folder = a.Manifest.Folder
		}
		dashboards.Normalize(&d)
		if err := dashboards.Validate(&d); err != nil {
			var ve *dashboards.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					bad("dashboards", f.Key, errors.New(p.String()))
				}
				continue
			}
			bad("dashboards", f.Key, err)
			continue
		}
		r.Dashboards = append(r.Dashboards, RenderedDashboard{Key: f.Key, Dashboard: &d})
	}
	for _, f := range a.Searches {
		data, err := substituteJSON(f.Data, params)
		if err != nil {
			bad("searches", f.Key, err)
			continue
		}
		var s SearchFile
		if err := decodeStrict(data, &s); err != nil {
			bad("searches", f.Key, err)
			continue
		}
		if strings.TrimSpace(s.Name) == "" || s.From == "" {
			bad("searches", f.Key, errors.New("a saved search needs a name and a from"))
			continue
		}
		if s.To == "" {
			s.To = "now"
		}
		if res := query.Check(s.Query); res.Err != nil {
			bad("searches", f.Key, res.Err)
			continue
		}
		if _, _, _, err := (dashboards.TimeRange{From: s.From, To: s.To}).Resolve(nowForCheck(), nil); err != nil {
			bad("searches", f.Key, err)
			continue
		}
		r.Searches = append(r.Searches, RenderedSearch{Key: f.Key, Search: s})
	}
	for _, f := range a.Lookups {
		data, err := substituteJSON(f.Data, params)
		if err != nil {
			bad("lookups", f.Key, err)
			continue
		}
		var l LookupFile
		if err := decodeStrict(data, &l); err != nil {
			bad("lookups", f.Key, err)
			continue
		}
		if _, err := query.NormalizeLookupName(l.Name); err != nil {
			bad("lookups", f.Key, err)
			continue
		}
		if len(l.PrimaryKeys) == 0 || len(l.Fields) == 0 {
			bad("lookups", f.Key, errors.New("a lookup table needs fields and primaryKeys"))
			continue
		}
		if len(f.CSV) > 0 {
			if err := checkCSV(f.CSV, l.Fields); err != nil {
				bad("lookups", f.Key+".csv", err)
				continue
			}
		}
		r.Lookups = append(r.Lookups, RenderedLookup{Key: f.Key, Lookup: l, CSV: f.CSV})
	}
	for _, f := range a.Monitors {
		data, err := substituteJSON(f.Data, params)
		if err != nil {
			bad("monitors", f.Key, err)
			continue
		}
		var head struct {
			Name string `json:"name"`
		}
		json.Unmarshal(data, &head)
		if check != nil {
			if err := check(data); err != nil {
				bad("monitors", f.Key, err)
				continue
			}
		}
		name := head.Name
		if name == "" {
			name = f.Key
		}
		r.Monitors = append(r.Monitors, RenderedMonitor{Key: f.Key, Name: name, Definition: data})
	}
	if len(problems) > 0 {
		return nil, &RenderError{App: a.Manifest.Name, Problems: problems}
	}
	return r, nil
}

// checkCSV checks that a lookup's CSV has the table's columns as header.
func checkCSV(data []byte, fields []catalog.LookupField) error {
	rd := csv.NewReader(bytes.NewReader(data))
	header, err := rd.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	if len(header) != len(fields) {
		return fmt.Errorf("the header has %d columns, the table %d", len(header), len(fields))
	}
	for i, h := range header {
		if !strings.EqualFold(strings.TrimSpace(h), fields[i].Name) {
			return fmt.Errorf("column %d is %q, want %q", i+1, h, fields[i].Name)
		}
	}
	return nil
}
