// Package apps is dohyo's app catalog: ready-made content for a kind of
// logs (AWS CloudTrail first) — dashboards, saved searches, lookup tables
// and monitors — kept as plain files in the repository, one folder per app,
// embedded in the binary, and installed with one click (the UI's catalog
// page), one command (dohyo app install aws-cloudtrail --param
// category=aws/cloudtrail) or one call (POST /api/v1/apps/{name}/install).
//
// # An app's folder
//
//	apps/<name>/
//	  manifest.json        the app's name, title, version, description and
//	                       install-time parameters (Manifest)
//	  dashboards/*.json    dashboards (package dashboards' JSON model)
//	  searches/*.json      saved searches: {"name", "description", "query",
//	                       "from", "to"}
//	  lookups/*.json       lookup tables: {"name", "description",
//	                       "primaryKeys", "fields", "note"}, with their
//	                       initial rows in lookups/<same name>.csv (a header
//	                       line, optional)
//	  monitors/*.json      monitors, in the monitors package's JSON
//	                       (shipped disabled), created through
//	                       MonitorInstaller
//
// Each file's name (without .json) is its key: it identifies the item
// across versions, so that an upgrade replaces each dashboard in place
// (same id, links keep working).
//
// # Parameters
//
// ${name} in any string of an app file is replaced by the parameter's
// value at install time, quoted safely inside queries (params.go):
// "_sourceCategory=${category} | json ...". {{name}} is left alone for
// dashboard template variables.
//
// # Installing
//
// Install renders the app with its parameters, validates everything
// (every query must parse and compile), then creates the lookup tables
// (an existing table of the same name is kept, with its rows, and not
// claimed by the app), the dashboards (tagged with the app's name and
// version, in the app's folder), the saved searches (owned by the
// installing user) and the monitors, and records what it created
// (catalog.AppInstall). When a step fails, what was created is removed
// again. Uninstall removes exactly what was recorded. Upgrade re-renders
// the app at the embedded version with the recorded parameters (or new
// ones) and replaces each item by key, creating new ones and removing
// those the new version dropped; lookup tables keep their rows.
package apps

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// content holds the app folders. Add a new app's folder here.
//
//go:embed aws-cloudtrail aws-vpc-flow aws-alb aws-s3-access aws-cloudfront
var content embed.FS

// Manifest describes an app.
type Manifest struct {
	// Name is the app's id: lower-case letters, digits and -.
	Name    string `json:"name"`
	Title   string `json:"title"`
	Version string `json:"version"`
	// Description says what the app shows, in a few sentences.
	Description string `json:"description"`
	// Category groups apps in the catalog ("Security", "Networking").
	Category string `json:"category,omitempty"`
	// Folder is the library folder of its dashboards (default: Title).
	Folder string  `json:"folder,omitempty"`
	Params []Param `json:"params"`
	// SourceCategoryParam names the parameter holding the source category
	// of the app's logs (the data the app needs).
	SourceCategoryParam string `json:"sourceCategoryParam,omitempty"`
	// DataFormat describes the logs the app reads.
	DataFormat string `json:"dataFormat,omitempty"`
	// Setup tells, in Markdown, how to send the logs and finish setting up.
	Setup string `json:"setup,omitempty"`
}

// Param is an install-time parameter.
type Param struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Default     string `json:"default,omitempty"`
	Required    bool   `json:"required,omitempty"`
}

// App is an app of the catalog: its manifest and its files, not yet
// rendered with parameters.
type App struct {
	Manifest   Manifest
	Dashboards []File
	Searches   []File
	Lookups    []File
	Monitors   []File
}

// File is one item of an app.
type File struct {
	// Key is the file's name without .json.
	Key  string
	Data []byte
	// CSV holds a lookup table's initial rows (lookups only).
	CSV []byte
}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	versionRE = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	paramRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Load reads every app of a file system laid out as apps/ is (one folder
// per app with a manifest.json).
func Load(fsys fs.FS) (map[string]*App, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	out := map[string]*App{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		a, err := loadApp(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", e.Name(), err)
		}
		if a == nil {
			continue
		}
		out[a.Manifest.Name] = a
	}
	return out, nil
}

func loadApp(fsys fs.FS, dir string) (*App, error) {
	data, err := fs.ReadFile(fsys, path.Join(dir, "manifest.json"))
	if err != nil {
		if _, statErr := fs.Stat(fsys, path.Join(dir, "manifest.json")); statErr != nil {
			return nil, nil // not an app folder
		}
		return nil, err
	}
	a := &App{}
	if err := decodeStrict(data, &a.Manifest); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	m := &a.Manifest
	switch {
	case !nameRE.MatchString(m.Name):
		return nil, fmt.Errorf("manifest.json: name %q: want lower-case letters, digits and -", m.Name)
	case m.Name != dir:
		return nil, fmt.Errorf("manifest.json: name %q differs from the folder's name", m.Name)
	case strings.TrimSpace(m.Title) == "":
		return nil, fmt.Errorf("manifest.json: no title")
	case !versionRE.MatchString(m.Version):
		return nil, fmt.Errorf("manifest.json: version %q: want MAJOR.MINOR.PATCH", m.Version)
	case strings.TrimSpace(m.Description) == "":
		return nil, fmt.Errorf("manifest.json: no description")
	}
	if m.Folder == "" {
		m.Folder = m.Title
	}
	seen := map[string]bool{}
	for _, p := range m.Params {
		if !paramRE.MatchString(p.Name) || seen[p.Name] {
			return nil, fmt.Errorf("manifest.json: parameter %q: not a name, or defined twice", p.Name)
		}
		seen[p.Name] = true
	}
	if m.SourceCategoryParam != "" && !seen[m.SourceCategoryParam] {
		return nil, fmt.Errorf("manifest.json: sourceCategoryParam %q is not a parameter", m.SourceCategoryParam)
	}
	read := func(sub string, csv bool) ([]File, error) {
		entries, err := fs.ReadDir(fsys, path.Join(dir, sub))
		if err != nil {
			return nil, nil // no such folder
		}
		var out []File
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".json") {
				if csv && strings.HasSuffix(name, ".csv") {
					continue
				}
				return nil, fmt.Errorf("%s/%s: only .json files belong there", sub, name)
			}
			data, err := fs.ReadFile(fsys, path.Join(dir, sub, name))
			if err != nil {
				return nil, err
			}
			f := File{Key: strings.TrimSuffix(name, ".json"), Data: data}
			if csv {
				if c, err := fs.ReadFile(fsys, path.Join(dir, sub, f.Key+".csv")); err == nil {
					f.CSV = c
				}
			}
			out = append(out, f)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out, nil
	}
	if a.Dashboards, err = read("dashboards", false); err != nil {
		return nil, err
	}
	if a.Searches, err = read("searches", false); err != nil {
		return nil, err
	}
	if a.Lookups, err = read("lookups", true); err != nil {
		return nil, err
	}
	if a.Monitors, err = read("monitors", false); err != nil {
		return nil, err
	}
	return a, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

var builtin map[string]*App

// Builtin returns the apps embedded in the binary, by name.
func Builtin() map[string]*App {
	return builtin
}

func init() {
	var err error
	if builtin, err = Load(content); err != nil {
		// The embedded apps are part of the source tree; their tests
		// (TestBuiltinApps) catch a broken one before it ships.
		panic("apps: " + err.Error())
	}
}

// Names returns the names of the builtin apps, sorted.
func Names() []string {
	out := make([]string, 0, len(builtin))
	for n := range builtin {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ResolveParams merges values over the manifest's defaults: an unknown
// parameter or a required one without a value is an error.
func (a *App) ResolveParams(values map[string]string) (map[string]string, error) {
	out := map[string]string{}
	known := map[string]bool{}
	for _, p := range a.Manifest.Params {
		known[p.Name] = true
		if p.Default != "" {
			out[p.Name] = p.Default
		}
	}
	var unknown []string
	for k, v := range values {
		if !known[k] {
			unknown = append(unknown, k)
			continue
		}
		if strings.TrimSpace(v) == "" {
			delete(out, k)
			continue
		}
		out[k] = strings.TrimSpace(v)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		var names []string
		for _, p := range a.Manifest.Params {
			names = append(names, p.Name)
		}
		return nil, fmt.Errorf("app %s has no parameter %s (its parameters: %s)", a.Manifest.Name, strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	for _, p := range a.Manifest.Params {
		if _, ok := out[p.Name]; !ok {
			if p.Required {
				return nil, fmt.Errorf("app %s needs a value for the parameter %s (%s)", a.Manifest.Name, p.Name, p.Description)
			}
			out[p.Name] = ""
		}
	}
	for k, v := range out {
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return nil, fmt.Errorf("parameter %s: control characters are not allowed", k)
			}
		}
	}
	return out, nil
}
