package apps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/dashboards"
)

func nowForCheck() time.Time { return time.Now() }

// MonitorInstaller creates and removes the monitors an app ships. The
// monitors package implements it; without one (nil), an app's monitors
// are reported as not installed.
type MonitorInstaller interface {
	// CheckMonitor validates a monitor definition of an app (its
	// parameters already substituted) without creating anything.
	CheckMonitor(def json.RawMessage) error
	// CreateMonitor creates a monitor from an app's definition, owned by
	// p, tagged with the app's name and version, and returns its id and
	// name.
	CreateMonitor(ctx context.Context, p *catalog.Principal, def json.RawMessage, appName, appVersion string) (id, name string, err error)
	// DeleteMonitor removes a monitor an app created. A monitor that no
	// longer exists is not an error.
	DeleteMonitor(ctx context.Context, id string) error
}

// Item kinds of catalog.AppItem.
const (
	KindDashboard = "dashboard"
	KindSearch    = "search"
	KindLookup    = "lookup"
	KindMonitor   = "monitor"
)

// Errors callers distinguish.
var (
	ErrUnknownApp       = errors.New("unknown app")
	ErrAlreadyInstalled = errors.New("already installed")
	ErrNotInstalled     = errors.New("not installed")
)

// Installer installs, upgrades and uninstalls apps.
type Installer struct {
	cat      *catalog.Catalog
	dash     *dashboards.Service
	monitors MonitorInstaller
	apps     map[string]*App
}

// NewInstaller returns an installer of the builtin apps. monitors may be
// nil.
func NewInstaller(cat *catalog.Catalog, dash *dashboards.Service, monitors MonitorInstaller) *Installer {
	return &Installer{cat: cat, dash: dash, monitors: monitors, apps: builtin}
}

// WithApps returns a copy of the installer over other apps (tests).
func (in *Installer) WithApps(apps map[string]*App) *Installer {
	c := *in
	c.apps = apps
	return &c
}

// SetMonitors sets the monitor installer (the monitors package, once the
// server has one).
func (in *Installer) SetMonitors(m MonitorInstaller) { in.monitors = m }

// Report says what an install, upgrade or uninstall did.
type Report struct {
	App     string            `json:"app"`
	Version string            `json:"version"`
	Params  map[string]string `json:"params"`
	// Created, Updated and Removed list the items.
	Created []catalog.AppItem `json:"created"`
	Updated []catalog.AppItem `json:"updated"`
	Removed []catalog.AppItem `json:"removed"`
	// Skipped lists what was not done, and why.
	Skipped []Skipped `json:"skipped"`
}

// Skipped is an item an install left out.
type Skipped struct {
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func newReport(a *App, params map[string]string) *Report {
	return &Report{App: a.Manifest.Name, Version: a.Manifest.Version, Params: params,
		Created: []catalog.AppItem{}, Updated: []catalog.AppItem{}, Removed: []catalog.AppItem{}, Skipped: []Skipped{}}
}

// Info describes an app of the catalog and its installation.
type Info struct {
	Manifest  Manifest            `json:"manifest"`
	Installed *catalog.AppInstall `json:"installed,omitempty"`
	// UpgradeAvailable is set when the installed version differs from the
	// embedded one.
	UpgradeAvailable bool `json:"upgradeAvailable"`
	// Contents lists the app's items.
	Contents Contents `json:"contents"`
}

// Contents lists an app's items by kind.
type Contents struct {
	Dashboards []ContentItem `json:"dashboards"`
	Searches   []ContentItem `json:"searches"`
	Lookups    []ContentItem `json:"lookups"`
	Monitors   []ContentItem `json:"monitors"`
}

// ContentItem is one item of an app.
type ContentItem struct {
	Key         string `json:"key"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Panels counts a dashboard's panels.
	Panels int `json:"panels,omitempty"`
}

// App returns a builtin app.
func (in *Installer) App(name string) (*App, error) {
	a := in.apps[name]
	if a == nil {
		names := make([]string, 0, len(in.apps))
		for n := range in.apps {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%w %q (the apps: %v)", ErrUnknownApp, name, names)
	}
	return a, nil
}

func (in *Installer) check() func(json.RawMessage) error {
	if in.monitors == nil {
		return nil
	}
	return in.monitors.CheckMonitor
}

// Info describes an app and whether it is installed.
func (in *Installer) Info(ctx context.Context, name string) (*Info, error) {
	a, err := in.App(name)
	if err != nil {
		return nil, err
	}
	inst, err := in.cat.GetAppInstall(ctx, name)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return nil, err
	}
	return in.info(a, inst), nil
}

func (in *Installer) info(a *App, inst *catalog.AppInstall) *Info {
	i := &Info{Manifest: a.Manifest, Installed: inst, Contents: Contents{Dashboards: []ContentItem{}, Searches: []ContentItem{}, Lookups: []ContentItem{}, Monitors: []ContentItem{}}}
	if inst != nil {
		i.UpgradeAvailable = inst.Version != a.Manifest.Version
	}
	// Describe the content from the raw files (titles do not depend on
	// parameters in practice; substitute defaults where they do).
	params, _ := a.ResolveParams(nil)
	for _, f := range a.Dashboards {
		var d struct {
			Title, Description string
			Panels             []json.RawMessage
		}
		data, _ := substituteJSON(f.Data, params)
		json.Unmarshal(data, &d)
		i.Contents.Dashboards = append(i.Contents.Dashboards, ContentItem{Key: f.Key, Title: d.Title, Description: d.Description, Panels: len(d.Panels)})
	}
	for _, f := range a.Searches {
		var s SearchFile
		json.Unmarshal(f.Data, &s)
		i.Contents.Searches = append(i.Contents.Searches, ContentItem{Key: f.Key, Title: s.Name, Description: s.Description})
	}
	for _, f := range a.Lookups {
		var l LookupFile
		json.Unmarshal(f.Data, &l)
		i.Contents.Lookups = append(i.Contents.Lookups, ContentItem{Key: f.Key, Title: l.Name, Description: l.Description})
	}
	for _, f := range a.Monitors {
		var m struct{ Name, Description string }
		json.Unmarshal(f.Data, &m)
		i.Contents.Monitors = append(i.Contents.Monitors, ContentItem{Key: f.Key, Title: m.Name, Description: m.Description})
	}
	return i
}

// List describes every app of the catalog, by name.
func (in *Installer) List(ctx context.Context) ([]*Info, error) {
	installed, err := in.cat.ListAppInstalls(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*catalog.AppInstall{}
	for _, a := range installed {
		byName[a.Name] = a
	}
	names := make([]string, 0, len(in.apps))
	for n := range in.apps {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*Info, 0, len(names))
	for _, n := range names {
		out = append(out, in.info(in.apps[n], byName[n]))
	}
	return out, nil
}

// Install installs an app with parameter values (the others take their
// defaults).
func (in *Installer) Install(ctx context.Context, p *catalog.Principal, name string, values map[string]string) (*Report, error) {
	a, err := in.App(name)
	if err != nil {
		return nil, err
	}
	if cur, err := in.cat.GetAppInstall(ctx, name); err == nil {
		return nil, fmt.Errorf("%w: app %s %s is installed (since %s): upgrade it or uninstall it first", ErrAlreadyInstalled, name, cur.Version, cur.InstalledAt.Format(time.RFC3339))
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return nil, err
	}
	params, err := a.ResolveParams(values)
	if err != nil {
		return nil, err
	}
	r, err := a.Render(params, in.check())
	if err != nil {
		return nil, err
	}
	rep := newReport(a, params)
	var items []catalog.AppItem
	ok := false
	defer func() {
		if !ok {
			in.removeItems(context.WithoutCancel(ctx), items, true)
		}
	}()
	if items, err = in.create(ctx, p, r, nil, rep); err != nil {
		return nil, err
	}
	if err := in.cat.PutAppInstall(ctx, &catalog.AppInstall{Name: name, Version: a.Manifest.Version, Params: params, Items: items}, p.UserName); err != nil {
		return nil, err
	}
	ok = true
	return rep, nil
}

// create creates the rendered app's items; old holds the items of the
// installed version (upgrade), replaced by key. It returns the items the
// app owns afterwards. On error, the items returned are the ones created
// so far (for the caller to remove).
func (in *Installer) create(ctx context.Context, p *catalog.Principal, r *Rendered, old map[string]catalog.AppItem, rep *Report) ([]catalog.AppItem, error) {
	a := r.App
	ref := &dashboards.AppRef{Name: a.Manifest.Name, Version: a.Manifest.Version}
	var items []catalog.AppItem
	var created []catalog.AppItem // new items only, for rollback
	fail := func(err error) ([]catalog.AppItem, error) { return created, err }
	prev := func(kind, key string) (catalog.AppItem, bool) {
		it, ok := old[kind+"/"+key]
		return it, ok
	}
	for _, l := range r.Lookups {
		if it, ok := prev(KindLookup, l.Key); ok {
			if _, err := in.cat.GetLookup(ctx, it.ID); err == nil {
				items = append(items, it) // keep the table and its rows
				continue
			}
		}
		if t, err := in.cat.GetLookupByName(ctx, l.Lookup.Name); err == nil {
			rep.Skipped = append(rep.Skipped, Skipped{Kind: KindLookup, Key: l.Key, Name: t.Name,
				Reason: "a lookup table of that name exists already: it is used as it is and stays when the app is uninstalled"})
			continue
		}
		t, err := in.cat.CreateLookup(ctx, catalog.LookupSpec{Name: l.Lookup.Name, Description: l.Lookup.Description, PrimaryKeys: l.Lookup.PrimaryKeys, Fields: l.Lookup.Fields}, p.UserName)
		if err != nil {
			return fail(fmt.Errorf("create lookup table %s: %w", l.Lookup.Name, err))
		}
		it := catalog.AppItem{Kind: KindLookup, Key: l.Key, ID: t.ID, Name: t.Name}
		items, created = append(items, it), append(created, it)
		rep.Created = append(rep.Created, it)
		if len(bytes.TrimSpace(l.CSV)) > 0 {
			if _, err := in.cat.UploadLookupCSV(ctx, t.ID, bytes.NewReader(l.CSV), false, p.UserName); err != nil {
				return fail(fmt.Errorf("fill lookup table %s: %w", l.Lookup.Name, err))
			}
		}
	}
	for _, d := range r.Dashboards {
		id := ""
		it, replacing := prev(KindDashboard, d.Key)
		if replacing {
			id = it.ID
		}
		got, err := in.dash.Put(ctx, p.UserName, id, d.Dashboard, ref)
		if err != nil {
			return fail(fmt.Errorf("dashboard %s: %w", d.Key, err))
		}
		it = catalog.AppItem{Kind: KindDashboard, Key: d.Key, ID: got.ID, Name: got.Title}
		items = append(items, it)
		if replacing {
			rep.Updated = append(rep.Updated, it)
		} else {
			created = append(created, it)
			rep.Created = append(rep.Created, it)
		}
	}
	for _, s := range r.Searches {
		spec := catalog.SearchSpec{Name: s.Search.Name, Query: s.Search.Query, From: s.Search.From, To: s.Search.To}
		if it, ok := prev(KindSearch, s.Key); ok {
			got, err := in.cat.UpdateSavedSearch(ctx, it.Owner, it.ID, spec)
			if err == nil {
				it = catalog.AppItem{Kind: KindSearch, Key: s.Key, ID: got.ID, Name: got.Name, Owner: it.Owner}
				items = append(items, it)
				rep.Updated = append(rep.Updated, it)
				continue
			}
			if !errors.Is(err, catalog.ErrNotFound) {
				return fail(fmt.Errorf("saved search %s: %w", s.Key, err))
			}
		}
		got, err := in.cat.CreateSavedSearch(ctx, p.UserID, spec)
		if errors.Is(err, catalog.ErrConflict) {
			rep.Skipped = append(rep.Skipped, Skipped{Kind: KindSearch, Key: s.Key, Name: s.Search.Name,
				Reason: "you already have a saved search of that name: rename or delete it and upgrade the app"})
			continue
		}
		if err != nil {
			return fail(fmt.Errorf("saved search %s: %w", s.Key, err))
		}
		it := catalog.AppItem{Kind: KindSearch, Key: s.Key, ID: got.ID, Name: got.Name, Owner: p.UserID}
		items, created = append(items, it), append(created, it)
		rep.Created = append(rep.Created, it)
	}
	for _, m := range r.Monitors {
		if in.monitors == nil {
			rep.Skipped = append(rep.Skipped, Skipped{Kind: KindMonitor, Key: m.Key, Name: m.Name, Reason: "monitors are not available on this server"})
			continue
		}
		if it, ok := prev(KindMonitor, m.Key); ok {
			if err := in.monitors.DeleteMonitor(ctx, it.ID); err != nil {
				return fail(fmt.Errorf("replace monitor %s: %w", m.Key, err))
			}
			rep.Removed = append(rep.Removed, it)
		}
		id, name, err := in.monitors.CreateMonitor(ctx, p, m.Definition, a.Manifest.Name, a.Manifest.Version)
		if err != nil {
			return fail(fmt.Errorf("monitor %s: %w", m.Key, err))
		}
		it := catalog.AppItem{Kind: KindMonitor, Key: m.Key, ID: id, Name: name}
		items, created = append(items, it), append(created, it)
		rep.Created = append(rep.Created, it)
	}
	return items, nil
}

// removeItems deletes items; gone ones are fine. keepLookups leaves the
// lookup tables (their rows are the user's).
func (in *Installer) removeItems(ctx context.Context, items []catalog.AppItem, lookupsToo bool) []error {
	var errs []error
	for _, it := range items {
		var err error
		switch it.Kind {
		case KindDashboard:
			err = in.dash.Remove(ctx, it.ID)
		case KindSearch:
			err = in.cat.DeleteSavedSearch(ctx, it.Owner, it.ID)
		case KindLookup:
			if lookupsToo {
				err = in.cat.DeleteLookup(ctx, it.ID)
			}
		case KindMonitor:
			if in.monitors != nil {
				err = in.monitors.DeleteMonitor(ctx, it.ID)
			}
		}
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			errs = append(errs, fmt.Errorf("remove %s %s (%s): %w", it.Kind, it.Name, it.ID, err))
		}
	}
	return errs
}

// Uninstall removes everything the app created (dashboards, saved
// searches, lookup tables with their rows, monitors) and forgets it.
func (in *Installer) Uninstall(ctx context.Context, p *catalog.Principal, name string) (*Report, error) {
	inst, err := in.cat.GetAppInstall(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, fmt.Errorf("%w: app %s", ErrNotInstalled, name)
	} else if err != nil {
		return nil, err
	}
	rep := &Report{App: name, Version: inst.Version, Params: inst.Params, Created: []catalog.AppItem{}, Updated: []catalog.AppItem{}, Removed: inst.Items, Skipped: []Skipped{}}
	if inst.Items == nil {
		rep.Removed = []catalog.AppItem{}
	}
	if errs := in.removeItems(ctx, inst.Items, true); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := in.cat.DeleteAppInstall(ctx, name); err != nil {
		return nil, err
	}
	return rep, nil
}

// Upgrade replaces an installed app's content with the embedded version,
// with its recorded parameters overridden by values. Items are replaced
// by key (dashboards keep their ids, lookup tables their rows); items the
// new version no longer has are removed. The same version may be
// re-applied (to restore edited dashboards or change parameters).
func (in *Installer) Upgrade(ctx context.Context, p *catalog.Principal, name string, values map[string]string) (*Report, error) {
	a, err := in.App(name)
	if err != nil {
		return nil, err
	}
	inst, err := in.cat.GetAppInstall(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, fmt.Errorf("%w: app %s: install it first", ErrNotInstalled, name)
	} else if err != nil {
		return nil, err
	}
	merged := map[string]string{}
	known := map[string]bool{}
	for _, pr := range a.Manifest.Params {
		known[pr.Name] = true
	}
	for k, v := range inst.Params {
		if known[k] && v != "" {
			merged[k] = v
		}
	}
	for k, v := range values {
		merged[k] = v
	}
	params, err := a.ResolveParams(merged)
	if err != nil {
		return nil, err
	}
	r, err := a.Render(params, in.check())
	if err != nil {
		return nil, err
	}
	old := map[string]catalog.AppItem{}
	for _, it := range inst.Items {
		old[it.Kind+"/"+it.Key] = it
	}
	rep := newReport(a, params)
	items, err := in.create(ctx, p, r, old, rep)
	if err != nil {
		in.removeItems(context.WithoutCancel(ctx), items, true)
		return nil, err
	}
	keep := map[string]bool{}
	for _, it := range items {
		keep[it.Kind+"/"+it.Key] = true
	}
	var gone []catalog.AppItem
	for _, it := range inst.Items {
		if !keep[it.Kind+"/"+it.Key] && !(it.Kind == KindMonitor && containsRemoved(rep.Removed, it)) {
			gone = append(gone, it)
		}
	}
	if errs := in.removeItems(ctx, gone, true); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	rep.Removed = append(rep.Removed, gone...)
	if err := in.cat.PutAppInstall(ctx, &catalog.AppInstall{Name: name, Version: a.Manifest.Version, Params: params, Items: items}, p.UserName); err != nil {
		return nil, err
	}
	return rep, nil
}

func containsRemoved(list []catalog.AppItem, it catalog.AppItem) bool {
	for _, x := range list {
		if x.Kind == it.Kind && x.ID == it.ID {
			return true
		}
	}
	return false
}
