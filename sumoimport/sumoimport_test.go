package sumoimport

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/dashboards"
	"github.com/dohyo/dohyo/search"
	"github.com/dohyo/dohyo/store/embedded"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// notImported returns the report's entries of a kind and name.
func notImported(r *Report, kind, name string) []NotImported {
	var out []NotImported
	for _, n := range r.NotImported {
		if n.Kind == kind && (name == "" || n.Name == name) {
			out = append(out, n)
		}
	}
	return out
}

func wantNotImported(t *testing.T, r *Report, kind, name, reasonPart string) NotImported {
	t.Helper()
	got := notImported(r, kind, name)
	for _, n := range got {
		if strings.Contains(n.Reason, reasonPart) {
			return n
		}
	}
	t.Errorf("no not-imported %s %q with a reason containing %q; report: %+v", kind, name, reasonPart, r.NotImported)
	return NotImported{}
}

func TestConvertClassicFolder(t *testing.T) {
	c, err := Convert(readFixture(t, "classic-folder.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Report
	if len(c.Dashboards) != 1 || len(c.Searches) != 2 {
		t.Fatalf("%d dashboards and %d searches, want 1 and 2: %+v", len(c.Dashboards), len(c.Searches), r.Imported)
	}
	d := c.Dashboards[0].Dashboard
	if d.Title != "Storefront Health" || d.Folder != "Sumo import/Web Operations" {
		t.Errorf("dashboard %q in %q", d.Title, d.Folder)
	}
	if d.TimeRange != (dashboards.TimeRange{From: "-24h", To: "now"}) {
		t.Errorf("time range %+v, want the panels' -24h", d.TimeRange)
	}
	want := []struct {
		title, viz string
		layout     dashboards.Layout
		ownRange   string
	}{
		{"Requests per Hour by Status", "line", dashboards.Layout{X: 0, Y: 0, W: 12, H: 10}, ""},
		{"Server Errors", "single_value", dashboards.Layout{X: 12, Y: 0, W: 6, H: 10}, ""},
		{"Top Error Paths", "table", dashboards.Layout{X: 18, Y: 0, W: 6, H: 10}, "-3h"},
		{"Visitors by Country", "map", dashboards.Layout{X: 0, Y: 10, W: 12, H: 12}, ""},
		{"Runbook", "text", dashboards.Layout{X: 12, Y: 22, W: 12, H: 10}, ""},
		{"Error Rate by Host", "table", dashboards.Layout{X: 0, Y: 32, W: 24, H: 8}, ""},
	}
	if len(d.Panels) != len(want) {
		t.Fatalf("%d panels, want %d: %+v", len(d.Panels), len(want), d.Panels)
	}
	for i, w := range want {
		p := d.Panels[i]
		own := ""
		if p.TimeRange != nil {
			own = p.TimeRange.From
		}
		if p.Title != w.title || p.Visualization.Type != w.viz || p.Layout != w.layout || own != w.ownRange {
			t.Errorf("panel %d: %q %s %+v range %q; want %q %s %+v range %q", i+1, p.Title, p.Visualization.Type, p.Layout, own, w.title, w.viz, w.layout, w.ownRange)
		}
	}
	if d.Panels[4].Text != "Page the on-call engineer when Server Errors turns red." {
		t.Errorf("text panel: %q", d.Panels[4].Text)
	}
	imp := r.Imported[c.Dashboards[0].Index]
	if imp.Format != "classic" || imp.Panels != 6 || imp.Dropped != 2 || len(imp.Notes) != 1 || !strings.Contains(imp.Notes[0], "bubble chart is shown as a table") {
		t.Errorf("imported dashboard %+v", imp)
	}

	// What was not brought over, and why.
	q := wantNotImported(t, r, "query", "Checkout Sessions", `operator "transactionize" is not supported yet`)
	if q.Line != 2 || q.Column != 3 || q.Item != "Storefront Health" {
		t.Errorf("transactionize at line %d, column %d of %q, want line 2, column 3", q.Line, q.Column, q.Item)
	}
	wantNotImported(t, r, "panel", "CPU of the Web Hosts", "metrics panels are not supported")
	wantNotImported(t, r, "filter", "_sourceHost", "template variables")
	wantNotImported(t, r, "schedule", "5xx burst", "monitors")
	j := wantNotImported(t, r, "search", "Sessions joined with orders", `operator "join" is not supported yet`)
	if j.Line != 2 {
		t.Errorf("join at line %d, want 2", j.Line)
	}
	wantNotImported(t, r, "LookupTableSyncDefinition", "Known crawlers", "lookup tables")
	md := wantNotImported(t, r, "MetricsSearchSyncDefinition", "Disk usage", "metrics searches")
	if md.Path != "Web Operations/Drafts" {
		t.Errorf("metrics search path %q", md.Path)
	}

	// Saved searches: range and notes.
	var slow ConvertedSearch
	for _, s := range c.Searches {
		if s.Name == "Slow checkouts" {
			slow = s
		}
	}
	if slow.From != "-2h" || slow.To != "-1h" {
		t.Errorf("Slow checkouts range %q to %q, want -2h to -1h", slow.From, slow.To)
	}
	if n := r.Imported[slow.Index].Notes; len(n) != 1 || !strings.Contains(n[0], "receipt time") {
		t.Errorf("Slow checkouts notes %v", n)
	}
}

func TestConvertNewDashboard(t *testing.T) {
	c, err := Convert(readFixture(t, "new-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Report
	if len(c.Dashboards) != 1 || len(c.Searches) != 0 {
		t.Fatalf("%d dashboards, %d searches", len(c.Dashboards), len(c.Searches))
	}
	d := c.Dashboards[0].Dashboard
	if d.Title != "Console Sign-ins" || d.Folder != "Sumo import" || d.RefreshInterval != 300 || d.TimeRange.From != "-24h" {
		t.Errorf("dashboard %q folder %q refresh %d range %+v", d.Title, d.Folder, d.RefreshInterval, d.TimeRange)
	}
	titles := []string{}
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
	}
	if got := strings.Join(titles, "|"); got != "Sign-ins per Hour|Failed Sign-ins|Sign-ins and CPU|About|Sign-in Flows|Sign-ins by Account" {
		t.Errorf("panels %s", got)
	}
	byTitle := map[string]dashboards.Panel{}
	for _, p := range d.Panels {
		byTitle[p.Title] = p
	}
	if p := byTitle["Sign-ins per Hour"]; p.Visualization.Type != "column" || !p.Visualization.Stacked || p.Layout != (dashboards.Layout{X: 0, Y: 0, W: 12, H: 7}) {
		t.Errorf("Sign-ins per Hour: %+v %+v", p.Visualization, p.Layout)
	}
	sv := byTitle["Failed Sign-ins"].Visualization
	if sv.Type != "single_value" || !sv.Sparkline || len(sv.Thresholds) != 3 || sv.Thresholds[2].Value != 5 || sv.Thresholds[2].Color != "#BF2121" {
		t.Errorf("Failed Sign-ins: %+v", sv)
	}
	if p := byTitle["Sign-ins and CPU"]; p.Visualization.Type != "pie" || p.TimeRange == nil || p.TimeRange.From != "now/d" || strings.Contains(p.Query, "metric=") {
		t.Errorf("Sign-ins and CPU: %+v range %+v query %q", p.Visualization, p.TimeRange, p.Query)
	}
	if p := byTitle["About"]; p.Visualization.Type != "text" || !strings.HasPrefix(p.Text, "## Console sign-ins") {
		t.Errorf("About: %+v %q", p.Visualization, p.Text)
	}
	if p := byTitle["Sign-in Flows"]; p.Visualization.Type != "table" {
		t.Errorf("Sign-in Flows: %+v", p.Visualization)
	}
	if p := byTitle["Sign-ins by Account"]; p.Visualization.Type != "bar" || p.TimeRange == nil || p.TimeRange.From != "-7d" {
		t.Errorf("Sign-ins by Account: %+v %+v", p.Visualization, p.TimeRange)
	}

	vars := map[string]dashboards.Variable{}
	for _, v := range d.Variables {
		vars[v.Name] = v
	}
	if v := vars["user"]; v.Kind != "query" || v.Field != "user" || !v.AllowAll || !strings.Contains(v.Query, "| count by user") {
		t.Errorf("user variable %+v", v)
	}
	if v := vars["region"]; v.Kind != "list" || strings.Join(v.Values, ",") != "us-east-1,us-west-2,eu-west-1" || v.Default != "us-east-1" {
		t.Errorf("region variable %+v", v)
	}
	if v := vars["host"]; v.Kind != "query" || v.Query != "_sourceCategory=aws/* | count by _sourceHost | sort by _count" {
		t.Errorf("host variable %+v", v)
	}
	if v := vars["account"]; v.Kind != "text" || v.Default != "*" {
		t.Errorf("account variable (undefined in Sumo, used by a panel) %+v", v)
	}

	imp := r.Imported[0]
	if imp.Format != "new" || imp.Panels != 6 || imp.Variables != 4 || imp.Dropped != 2 {
		t.Errorf("imported %+v", imp)
	}
	wantNotImported(t, r, "query", "Sign-ins and CPU / B", "Metrics queries are not supported")
	wantNotImported(t, r, "query", "Sessions", `"transactionize" is not supported yet`)
	wantNotImported(t, r, "query", "EC2 CPU / A", "Metrics queries")
	wantNotImported(t, r, "panel", "EC2 CPU", "no log query")
	wantNotImported(t, r, "variable", "region", "multi-select")
}

func TestConvertErrors(t *testing.T) {
	for _, in := range []string{`not json`, `{"title": "no type"}`, `[1, 2`} {
		if _, err := Convert([]byte(in)); err == nil {
			t.Errorf("Convert(%q) did not fail", in)
		}
	}
	c, err := Convert([]byte(`[{"type": "DashboardV2SyncDefinition", "title": "Empty", "panels": [], "variables": []}, {"type": "ScheduledViewSyncDefinition", "name": "v"}, {"name": "untyped"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Dashboards) != 1 || len(c.Report.NotImported) != 2 {
		t.Errorf("array export: %d dashboards, not imported %+v", len(c.Dashboards), c.Report.NotImported)
	}
}

// TestImportCreates imports both fixtures into a catalog: the dashboards
// and saved searches exist afterwards, a dry run creates nothing, and a
// saved search whose name is taken is renamed.
func TestImportCreates(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	cat, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if _, err := cat.Bootstrap(ctx, catalog.BootstrapOptions{AdminPassword: "pw-pw-pw-pw", AccessID: "DKADMINADMINADMIN000", AccessKey: "admin-key-admin-key-admin-key-00"}); err != nil {
		t.Fatal(err)
	}
	p, err := cat.Authenticate(ctx, "DKADMINADMINADMIN000", "admin-key-admin-key-admin-key-00")
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(dir, "engine"), embedded.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mgr := search.NewManager(st, search.Config{Logger: quiet})
	defer mgr.Close()
	dash := dashboards.New(cat, mgr, dashboards.Config{})

	dry, err := Import(ctx, dash, cat, p, readFixture(t, "new-dashboard.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := dash.List(ctx, ""); !dry.DryRun || len(list) != 0 || dry.Imported[0].ID != "" {
		t.Errorf("dry run created %d dashboards", len(list))
	}
	if _, err := cat.CreateSavedSearch(ctx, p.UserID, catalog.SearchSpec{Name: "5xx burst", Query: "error", From: "-15m"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"classic-folder.json", "new-dashboard.json"} {
		rep, err := Import(ctx, dash, cat, p, readFixture(t, f), false)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range rep.Imported {
			if imp.ID == "" {
				t.Errorf("%s: %s %q has no id", f, imp.Kind, imp.Name)
			}
		}
		out, _ := json.MarshalIndent(rep, "", "  ")
		t.Logf("%s:\n%s", f, out)
	}
	list, err := dash.List(ctx, "")
	if err != nil || len(list) != 2 {
		t.Fatalf("%d dashboards (%v), want 2", len(list), err)
	}
	searches, _ := cat.ListSavedSearches(ctx, p.UserID)
	names := []string{}
	for _, s := range searches {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, "|"); got != "5xx burst|5xx burst (imported)|Slow checkouts" {
		t.Errorf("saved searches %s", got)
	}
	// The imported dashboards run (over an empty store): no panel fails.
	for _, s := range list {
		d, err := dash.Get(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = dash.Run(ctx, p, d, dashboards.RunRequest{TimeRange: dashboards.TimeRange{From: "-1h", To: "now"}}, func(v any) error {
			// Without a GeoIP database the map panel fails, saying so.
			if r, ok := v.(dashboards.PanelResult); ok && r.Status == "error" && !strings.Contains(r.Error.Message, "GeoIP") {
				t.Errorf("%s / %s: %+v", d.Title, r.Title, r.Error)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
