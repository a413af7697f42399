package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dohyo/dohyo/apps"
	"github.com/dohyo/dohyo/dashboards"
)

const testDashboard = `{
  "title": "API health",
  "description": "test",
  "timeRange": {"from": "-3h", "to": "now"},
  "variables": [{"name": "cat", "kind": "list", "values": ["api/web", "api/db"], "allowAll": true}],
  "panels": [
    {"title": "Web events", "query": "_sourceCategory=api/web | count", "visualization": {"type": "single_value", "thresholds": [{"value": 0, "color": "green"}]}},
    {"title": "Over time", "query": "_sourceCategory=api/* | timeslice 10m | count by _timeslice, _sourceCategory | transpose row _timeslice column _sourceCategory", "visualization": {"type": "column", "stacked": true}},
    {"title": "By category", "query": "_sourceCategory={{cat}} | count by _sourceCategory", "visualization": {"type": "pie"}},
    {"title": "Broken lookup", "query": "* | lookup x from path://\"/no/such/table\" on a=x", "visualization": {"type": "table"}},
    {"title": "Notes", "text": "Read me", "visualization": {"type": "text"}},
    {"title": "Last half hour", "query": "_sourceCategory=api/db | count", "visualization": {"type": "single_value"}, "timeRange": {"from": "-30m", "to": "now"}}
  ]
}`

func decodeDashboard(t *testing.T, r response) dashboards.Dashboard {
	t.Helper()
	var d dashboards.Dashboard
	r.json(t, &d)
	return d
}

func (e *env) putJSON(path string, c *creds, body string) response {
	e.t.Helper()
	return e.do(http.MethodPut, path, c, "application/json", body)
}

// runEvents runs a dashboard and returns its NDJSON events.
func (e *env) runEvents(path string, c *creds, body string) (int, []map[string]any) {
	e.t.Helper()
	r := e.postJSON(path, c, body)
	if r.status != http.StatusOK {
		return r.status, []map[string]any{{"body": string(r.body)}}
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		e.t.Fatalf("Content-Type %q", ct)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			e.t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return r.status, out
}

func panelsByID(evs []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, ev := range evs {
		if ev["type"] == "panel" {
			out[ev["panelId"].(string)] = ev
		}
	}
	return out
}

func firstRecord(p map[string]any) map[string]any {
	recs, _ := p["records"].([]any)
	if len(recs) == 0 {
		return nil
	}
	return recs[0].(map[string]any)
}

func TestDashboardCRUD(t *testing.T) {
	e := newEnv(t, publicURL)
	// Create.
	r := e.postJSON("/api/v1/dashboards", e.user, testDashboard)
	wantStatus(t, r, http.StatusCreated)
	d := decodeDashboard(t, r)
	if d.ID == "" || d.Version != 1 || len(d.Panels) != 6 || d.Panels[2].ID != "p3" || d.CreatedBy != "bob" {
		t.Fatalf("created %+v", d)
	}
	if d.Panels[0].Layout != (dashboards.Layout{X: 0, Y: 0, W: 8, H: 6}) || d.Panels[3].Layout != (dashboards.Layout{X: 0, Y: 6, W: 8, H: 6}) {
		t.Errorf("default layout %+v %+v", d.Panels[0].Layout, d.Panels[3].Layout)
	}
	// List and get.
	var list struct{ Dashboards []dashboards.Summary }
	e.do("GET", "/api/v1/dashboards", adminCreds, "", "").json(t, &list)
	if len(list.Dashboards) != 1 || list.Dashboards[0].PanelCount != 6 || list.Dashboards[0].Title != "API health" {
		t.Errorf("list %+v", list)
	}
	got := decodeDashboard(t, e.do("GET", "/api/v1/dashboards/"+d.ID, adminCreds, "", ""))
	if got.Panels[2].Query != d.Panels[2].Query || got.Variables[0].Name != "cat" {
		t.Errorf("get %+v", got)
	}
	wantError(t, e.do("GET", "/api/v1/dashboards/NOPE", adminCreds, "", ""), 404, "notfound", "NOPE")

	// Update with optimistic concurrency.
	got.Title = "API health (edited)"
	got.Panels[0].Layout = dashboards.Layout{X: 4, Y: 2, W: 10, H: 5}
	body, _ := json.Marshal(got)
	r = e.putJSON("/api/v1/dashboards/"+d.ID, e.user, string(body))
	wantStatus(t, r, http.StatusOK)
	v2 := decodeDashboard(t, r)
	if v2.Version != 2 || v2.Title != "API health (edited)" || v2.Panels[0].Layout.W != 10 {
		t.Errorf("updated %+v", v2)
	}
	wantError(t, e.putJSON("/api/v1/dashboards/"+d.ID, e.user, string(body)), 409, "dashboard.version.conflict", "version 2, not 1")
	got.Version = 0
	body, _ = json.Marshal(got)
	wantError(t, e.putJSON("/api/v1/dashboards/"+d.ID, e.user, string(body)), 400, "dashboard.version.required", "version")
	// Another user may not change it, but an admin may; anyone may copy it.
	v2b, _ := json.Marshal(v2)
	other := e.postJSON("/api/v1/dashboards/"+d.ID+"/duplicate", adminCreds, `{"title": "Mine"}`)
	wantStatus(t, other, http.StatusCreated)
	cp := decodeDashboard(t, other)
	if cp.ID == d.ID || cp.Title != "Mine" || cp.CreatedBy != "admin" || len(cp.Panels) != 6 || cp.Version != 1 {
		t.Errorf("copy %+v", cp)
	}
	cpBody, _ := json.Marshal(cp)
	wantError(t, e.putJSON("/api/v1/dashboards/"+cp.ID, e.user, string(cpBody)), 403, "forbidden", "belongs to admin")
	wantStatus(t, e.putJSON("/api/v1/dashboards/"+d.ID, adminCreds, string(v2b)), 200)

	// Validation: problems with the panel's position and the query's.
	bad := strings.Replace(testDashboard, `_sourceCategory=api/web | count"`, `_sourceCategory=api/web | cout"`, 1)
	bad = strings.Replace(bad, `{{cat}}`, `{{category}}`, 1)
	r = e.postJSON("/api/v1/dashboards", e.user, bad)
	wantStatus(t, r, 400)
	var verr struct {
		Code     string
		Message  string
		Problems []dashboards.Problem
	}
	r.json(t, &verr)
	if verr.Code != "dashboard.invalid" || len(verr.Problems) != 2 {
		t.Fatalf("validation error %+v", verr)
	}
	if p := verr.Problems[0]; p.Panel != 1 || p.PanelTitle != "Web events" || p.Line != 1 || p.Column != 27 || !strings.Contains(p.Message, `did you mean "count"`) {
		t.Errorf("problem %+v", p)
	}
	if p := verr.Problems[1]; p.Panel != 3 || !strings.Contains(p.Message, "{{category}}") {
		t.Errorf("problem %+v", p)
	}
	var vres struct {
		Valid    bool
		Problems []dashboards.Problem
	}
	e.postJSON("/api/v1/dashboards/validate", e.user, bad).json(t, &vres)
	if vres.Valid || len(vres.Problems) != 2 {
		t.Errorf("validate %+v", vres)
	}
	wantError(t, e.postJSON("/api/v1/dashboards", e.user, `{"title": "x", "panels": [], "bogus": 1}`), 400, "bad.request", "bogus")

	// Export and import.
	var exp dashboards.ExportDocument
	ex := e.do("GET", "/api/v1/dashboards/"+d.ID+"/export", e.user, "", "")
	wantStatus(t, ex, 200)
	if !strings.Contains(ex.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export disposition %q", ex.header.Get("Content-Disposition"))
	}
	ex.json(t, &exp)
	if exp.Format != dashboards.ExportFormat || len(exp.Dashboards) != 1 || exp.Dashboards[0].ID != "" || exp.Dashboards[0].Version != 0 {
		t.Errorf("export %+v", exp)
	}
	r = e.postJSON("/api/v1/dashboards/import", e.user, string(ex.body))
	wantStatus(t, r, http.StatusCreated)
	var imp struct{ Dashboards []dashboards.Dashboard }
	r.json(t, &imp)
	if len(imp.Dashboards) != 1 || imp.Dashboards[0].ID == d.ID || imp.Dashboards[0].Title != "API health (edited)" {
		t.Errorf("import %+v", imp)
	}

	// Delete.
	wantError(t, e.do("DELETE", "/api/v1/dashboards/"+cp.ID, e.user, "", ""), 403, "forbidden", "")
	wantStatus(t, e.do("DELETE", "/api/v1/dashboards/"+d.ID, e.user, "", ""), 200)
	wantError(t, e.do("GET", "/api/v1/dashboards/"+d.ID, e.user, "", ""), 404, "notfound", "")
}

func TestDashboardRun(t *testing.T) {
	e := newEnv(t, publicURL)
	d := decodeDashboard(t, e.postJSON("/api/v1/dashboards", e.user, testDashboard))
	path := "/api/v1/dashboards/" + d.ID + "/run"

	// Concurrent first opens share the searches (single flight): three
	// distinct panel queries run once each across 8 concurrent runs.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, evs := e.runEvents(path, e.user, `{"timeRange": {"from": "-4h", "to": "now"}}`); st != 200 || len(evs) != 8 {
				t.Errorf("concurrent run: %d, %d events", st, len(evs))
			}
		}()
	}
	wg.Wait()
	var cache dashboards.CacheStats
	e.do("GET", "/api/v1/dashboards/cache", e.user, "", "").json(t, &cache)
	// 4 panels search (the broken lookup fails before caching, once per
	// run); the 4 others are shared or cached.
	if cache.Misses+cache.Shared+cache.Hits != 8*5 || cache.Entries != 4 {
		t.Errorf("cache after 8 concurrent runs: %+v", cache)
	}

	st, evs := e.runEvents(path, e.user, `{"timeRange": {"from": "-3h", "to": "now"}, "variables": {"cat": "api/db"}}`)
	if st != 200 {
		t.Fatalf("run: %d %v", st, evs)
	}
	if evs[0]["type"] != "meta" || evs[len(evs)-1]["type"] != "done" || len(evs) != 8 {
		t.Fatalf("events %v", evs)
	}
	meta := evs[0]
	if meta["variables"].(map[string]any)["cat"] != "api/db" || len(meta["panels"].([]any)) != 6 {
		t.Errorf("meta %v", meta)
	}
	ps := panelsByID(evs)
	if rec := firstRecord(ps["p1"]); rec["_count"] != fmt.Sprint(nEvents/2) {
		t.Errorf("p1 %v", ps["p1"])
	}
	if p := ps["p2"]; p["status"] != "ok" || p["rowCount"].(float64) < 10 || p["aggregate"] != true {
		t.Errorf("p2 %v", p)
	}
	if rec := firstRecord(ps["p3"]); rec["_sourcecategory"] != "api/db" || ps["p3"]["query"] != "_sourceCategory=api/db | count by _sourceCategory" {
		t.Errorf("p3 %v", ps["p3"])
	}
	if p := ps["p4"]; p["status"] != "error" || !strings.Contains(p["error"].(map[string]any)["message"].(string), "lookup") || p["error"].(map[string]any)["column"] != 19.0 {
		t.Errorf("p4 %v", p)
	}
	if ps["p5"]["status"] != "text" {
		t.Errorf("p5 %v", ps["p5"])
	}
	p6 := ps["p6"]
	if span := p6["to"].(float64) - p6["from"].(float64); span != 30*60*1000 || p6["to"] != meta["to"] {
		t.Errorf("p6 range [%v, %v), dashboard to %v", p6["from"], p6["to"], meta["to"])
	}
	done := evs[len(evs)-1]
	if done["panels"].(float64) != 6 || done["errors"].(float64) != 1 {
		t.Errorf("done %v", done)
	}

	// Again: the panels come from the cache.
	_, evs = e.runEvents(path, e.user, `{"timeRange": {"from": "-3h", "to": "now"}, "variables": {"cat": "api/db"}}`)
	if done := evs[len(evs)-1]; done["cacheHits"].(float64) != 4 {
		t.Errorf("second run: %v", done)
	}
	for _, id := range []string{"p1", "p2", "p3", "p6"} {
		if panelsByID(evs)[id]["cached"] != true {
			t.Errorf("%s not cached", id)
		}
	}
	_, evs = e.runEvents(path, e.user, `{"timeRange": {"from": "-3h", "to": "now"}, "variables": {"cat": "api/db"}, "noCache": true, "panels": ["p1"]}`)
	if done := evs[len(evs)-1]; done["cacheHits"].(float64) != 0 || done["panels"].(float64) != 1 {
		t.Errorf("noCache run: %v", done)
	}
	// The dashboard's range on every panel.
	_, evs = e.runEvents(path, e.user, `{"timeRange": {"from": "-3h", "to": "now"}, "ignorePanelRanges": true, "panels": ["p6"]}`)
	if rec := firstRecord(panelsByID(evs)["p6"]); rec["_count"] != fmt.Sprint(nEvents/2) {
		t.Errorf("p6 over the dashboard's range: %v", rec)
	}

	// Bad requests are answered before the stream.
	for _, c := range []struct{ body, code, msg string }{
		{`{"variables": {"nope": "x"}}`, "dashboard.run.invalid", `no variable "nope"`},
		{`{"panels": ["p9"]}`, "dashboard.run.invalid", `no panel "p9"`},
		{`{"timeRange": {"from": "yesterday"}}`, "dashboard.run.invalid", "time range"},
		{`{"timeZone": "Mars/Olympus"}`, "dashboard.run.invalid", "time zone"},
	} {
		wantError(t, e.postJSON(path, e.user, c.body), 400, c.code, c.msg)
	}

	// An unsaved dashboard (the editor's preview).
	st, evs = e.runEvents("/api/v1/dashboards/run", e.user, `{"dashboard": {"title": "draft", "panels": [{"title": "n", "query": "_sourceCategory=api/web | count", "visualization": {"type": "table"}}]}, "timeRange": {"from": "-3h"}}`)
	if st != 200 || len(evs) != 3 || firstRecord(panelsByID(evs)["p1"])["_count"] != fmt.Sprint(nEvents/2) {
		t.Errorf("unsaved run: %d %v", st, evs)
	}
	wantError(t, e.postJSON("/api/v1/dashboards/run", e.user, `{"dashboard": {"title": "draft", "panels": [{"title": "n", "query": "| | |", "visualization": {"type": "table"}}]}}`), 400, "dashboard.invalid", "panel 1")
}

func TestDashboardVariablesAndDrillDown(t *testing.T) {
	e := newEnv(t, publicURL)
	d := decodeDashboard(t, e.postJSON("/api/v1/dashboards", e.user, `{"title": "vars", "timeRange": {"from": "-3h"},
	  "variables": [{"name": "cat", "kind": "query", "query": "_sourceCategory=api/* | count by _sourceCategory | sort by _sourceCategory asc", "allowAll": true},
	                {"name": "host", "kind": "list", "values": ["h1", "h2"]}],
	  "panels": [{"title": "x", "query": "_sourceCategory={{cat}} _sourceHost={{host}} | count", "visualization": {"type": "table"}}]}`))
	var vals struct {
		Values   []string
		AllowAll bool
		Default  string
	}
	e.do("GET", "/api/v1/dashboards/"+d.ID+"/variables/cat/values", e.user, "", "").json(t, &vals)
	if strings.Join(vals.Values, ",") != "api/db,api/web" || !vals.AllowAll || vals.Default != "*" {
		t.Errorf("query variable values %+v", vals)
	}
	e.do("GET", "/api/v1/dashboards/"+d.ID+"/variables/host/values", e.user, "", "").json(t, &vals)
	if strings.Join(vals.Values, ",") != "h1,h2" || vals.Default != "h1" {
		t.Errorf("list variable values %+v", vals)
	}
	wantError(t, e.do("GET", "/api/v1/dashboards/"+d.ID+"/variables/nope/values", e.user, "", ""), 404, "notfound", "nope")
	e.postJSON("/api/v1/dashboards/variable-values", e.user, `{"variable": {"name": "c", "kind": "query", "query": "* | count by _sourceCategory"}, "timeRange": {"from": "-3h"}}`).json(t, &vals)
	if len(vals.Values) != 2 {
		t.Errorf("unsaved variable values %+v", vals)
	}

	var dd dashboards.DrillDownResult
	r := e.postJSON("/api/v1/dashboards/drilldown", e.user, `{"query": "_sourceCategory={{cat}} | count by _sourceCategory", "variables": {"cat": "api/*"}, "from": 1000, "to": 2000, "values": {"_sourcecategory": "api/web", "_count": "100"}}`)
	wantStatus(t, r, 200)
	r.json(t, &dd)
	if dd.Query != "_sourceCategory=api/*\n| where _sourceCategory = \"api/web\"" || dd.From != 1000 || dd.To != 2000 {
		t.Errorf("drill-down %+v", dd)
	}
	// The drill-down query runs as a search.
	id := e.createJob(e.user, fmt.Sprintf(`{"query": %q, "from": "%d", "to": "%d"}`, dd.Query, e.from.UnixMilli(), e.to.UnixMilli()))
	if st, _ := e.poll(e.user, id); st.MessageCount != nEvents/2 {
		t.Errorf("drill-down search found %d messages, want %d", st.MessageCount, nEvents/2)
	}
}

func TestAppsAPI(t *testing.T) {
	e := newEnv(t, publicURL)
	var list struct {
		Apps []apps.Info
	}
	e.do("GET", "/api/v1/apps", e.user, "", "").json(t, &list)
	names := []string{}
	for _, a := range list.Apps {
		names = append(names, a.Manifest.Name)
	}
	if strings.Join(names, ",") != "aws-alb,aws-cloudfront,aws-cloudtrail,aws-s3-access,aws-vpc-flow" {
		t.Errorf("apps %v", names)
	}
	var ct apps.Info
	e.do("GET", "/api/v1/apps/aws-cloudtrail", e.user, "", "").json(t, &ct)
	panels := 0
	for _, d := range ct.Contents.Dashboards {
		panels += d.Panels
	}
	if len(ct.Contents.Dashboards) != 6 || panels != 44 || ct.Installed != nil || len(ct.Contents.Lookups) != 1 {
		t.Errorf("aws-cloudtrail info: %d dashboards, %d panels, installed %v", len(ct.Contents.Dashboards), panels, ct.Installed)
	}
	wantError(t, e.postJSON("/api/v1/apps/aws-cloudtrail/install", e.user, `{}`), 403, "forbidden", "install apps")
	wantError(t, e.postJSON("/api/v1/apps/aws-nothing/install", adminCreds, `{}`), 404, "app.notfound", "aws-nothing")
	wantError(t, e.postJSON("/api/v1/apps/aws-cloudtrail/install", adminCreds, `{"params": {"bucket": "x"}}`), 400, "app.params.invalid", "no parameter bucket")

	r := e.postJSON("/api/v1/apps/aws-cloudtrail/install", adminCreds, `{"params": {"category": "prod aws/cloudtrail"}}`)
	wantStatus(t, r, http.StatusCreated)
	var rep apps.Report
	r.json(t, &rep)
	kinds := map[string]int{}
	for _, it := range rep.Created {
		kinds[it.Kind]++
	}
	if kinds["dashboard"] != 6 || kinds["search"] != 5 || kinds["lookup"] != 1 || rep.Params["category"] != "prod aws/cloudtrail" {
		t.Errorf("install report %+v", rep)
	}
	var dl struct{ Dashboards []dashboards.Summary }
	e.do("GET", "/api/v1/dashboards?app=aws-cloudtrail", e.user, "", "").json(t, &dl)
	if len(dl.Dashboards) != 6 || dl.Dashboards[0].Folder != "AWS CloudTrail" || dl.Dashboards[0].App.Version != "1.0.0" {
		t.Errorf("app dashboards %+v", dl)
	}
	// The category was quoted for the query language.
	d := decodeDashboard(t, e.do("GET", "/api/v1/dashboards/"+dl.Dashboards[0].ID, e.user, "", ""))
	if !strings.HasPrefix(d.Panels[0].Query, `_sourceCategory="prod aws/cloudtrail"`) {
		t.Errorf("query %q", d.Panels[0].Query)
	}
	// Only admins change app dashboards.
	body, _ := json.Marshal(d)
	wantError(t, e.putJSON("/api/v1/dashboards/"+d.ID, e.user, string(body)), 403, "forbidden", "installed by the app aws-cloudtrail")
	wantError(t, e.postJSON("/api/v1/apps/aws-cloudtrail/install", adminCreds, `{}`), 409, "app.installed", "upgrade it")

	// Upgrade in place: same ids, new parameter.
	r = e.postJSON("/api/v1/apps/aws-cloudtrail/upgrade", adminCreds, `{"params": {"category": "aws/cloudtrail"}}`)
	wantStatus(t, r, 200)
	rep = apps.Report{}
	r.json(t, &rep)
	if len(rep.Created) != 0 || len(rep.Updated) != 11 || len(rep.Removed) != 0 {
		t.Errorf("upgrade report: created %d updated %d removed %d", len(rep.Created), len(rep.Updated), len(rep.Removed))
	}
	d2 := decodeDashboard(t, e.do("GET", "/api/v1/dashboards/"+d.ID, e.user, "", ""))
	if !strings.HasPrefix(d2.Panels[0].Query, `_sourceCategory=aws/cloudtrail`) || d2.Version != 2 {
		t.Errorf("upgraded dashboard v%d %q", d2.Version, d2.Panels[0].Query)
	}

	// Uninstall removes exactly what the app created.
	r = e.postJSON("/api/v1/apps/aws-cloudtrail/uninstall", adminCreds, ``)
	wantStatus(t, r, 200)
	e.do("GET", "/api/v1/dashboards?app=aws-cloudtrail", e.user, "", "").json(t, &dl)
	if len(dl.Dashboards) != 0 {
		t.Errorf("%d dashboards left after uninstall", len(dl.Dashboards))
	}
	var lk struct {
		Lookups []map[string]any
	}
	e.do("GET", "/api/v1/lookups", adminCreds, "", "").json(t, &lk)
	if len(lk.Lookups) != 0 {
		t.Errorf("lookups left: %v", lk)
	}
	wantError(t, e.do("DELETE", "/api/v1/apps/aws-cloudtrail", adminCreds, "", ""), 409, "app.not.installed", "")

	var geo map[string]any
	e.do("GET", "/api/v1/geoip", e.user, "", "").json(t, &geo)
	if geo["configured"] != false {
		t.Errorf("geoip %v", geo)
	}
}

func TestSumoImportAPI(t *testing.T) {
	e := newEnv(t, publicURL)
	data, err := os.ReadFile(filepath.Join("..", "sumoimport", "testdata", "new-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.do("POST", "/api/v1/sumo/import?dryRun=maybe", e.user, "application/json", string(data)), 400)
	r := e.do("POST", "/api/v1/sumo/import?dryRun=true", e.user, "application/json", string(data))
	wantStatus(t, r, 200)
	var rep struct {
		DryRun      bool
		Imported    []map[string]any
		NotImported []map[string]any
	}
	r.json(t, &rep)
	if !rep.DryRun || len(rep.Imported) != 1 || len(rep.NotImported) == 0 {
		t.Errorf("dry run %+v", rep)
	}
	var dl struct{ Dashboards []dashboards.Summary }
	e.do("GET", "/api/v1/dashboards", e.user, "", "").json(t, &dl)
	if len(dl.Dashboards) != 0 {
		t.Errorf("the dry run created dashboards")
	}
	r = e.do("POST", "/api/v1/sumo/import", e.user, "application/json", string(data))
	wantStatus(t, r, 200)
	r.json(t, &rep)
	if rep.DryRun || rep.Imported[0]["id"] == nil {
		t.Errorf("import %+v", rep)
	}
	e.do("GET", "/api/v1/dashboards", e.user, "", "").json(t, &dl)
	if len(dl.Dashboards) != 1 || dl.Dashboards[0].Folder != "Sumo import" {
		t.Errorf("imported dashboards %+v", dl)
	}
	wantError(t, e.do("POST", "/api/v1/sumo/import", e.user, "application/json", `{"title": "x"}`), 400, "sumo.import.invalid", "type")
}
