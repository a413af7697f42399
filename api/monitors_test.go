package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/api"
	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/monitors"
	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/search"
	"github.com/dohyo/dohyo/threatintel"
)

// newMonitorEnv is newEnv with a monitors service (on a fake clock set to
// now) whose searches see the catalog's threat lists.
func newMonitorEnv(t *testing.T) (*env, *monitors.Service, *monitors.FakeClock) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	if _, err := cat.Bootstrap(ctx, catalog.BootstrapOptions{AdminPassword: "admin-password", AccessID: adminID, AccessKey: adminKey}); err != nil {
		t.Fatal(err)
	}
	u, err := cat.CreateUser(ctx, "bob", catalog.RoleUser, "bob-password")
	if err != nil {
		t.Fatal(err)
	}
	uid, ukey, err := cat.CreateAccessKey(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	base := now.Add(-2 * time.Hour).Truncate(time.Minute)
	st := newCorpusStore(t, dir, now, base)
	qenv := &query.Env{Lookups: cat, ThreatIntel: &threatintel.Store{Catalog: cat}}
	mgr := search.NewManager(st, search.Config{Logger: quiet, Env: qenv})
	t.Cleanup(mgr.Close)
	clock := monitors.NewFakeClock(now)
	svc := monitors.New(monitors.Config{Catalog: cat, Runner: &monitors.EngineRunner{Store: st, Env: qenv}, Clock: clock, Logger: quiet, BaseURL: publicURL})
	mux := http.NewServeMux()
	api.New(api.Config{Catalog: cat, Search: mgr, PublicURL: publicURL, Logger: quiet, Monitors: svc}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, cat: cat, user: &creds{uid, ukey}, base: base, from: base.Add(-time.Minute), to: now.Add(time.Minute), search: mgr}, svc, clock
}

// receiver is a local webhook receiver.
type receiver struct {
	mu       sync.Mutex
	payloads []monitors.Payload
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var p monitors.Payload
	if err := json.Unmarshal(b, &p); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	rc.mu.Lock()
	rc.payloads = append(rc.payloads, p)
	rc.mu.Unlock()
}

func (rc *receiver) got() []monitors.Payload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]monitors.Payload(nil), rc.payloads...)
}

func TestMonitorAPI(t *testing.T) {
	e, svc, _ := newMonitorEnv(t)
	ctx := context.Background()
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	defer hook.Close()

	// Targets: admins only; secrets redacted.
	target := fmt.Sprintf(`{"name":"hook","type":"webhook","webhook":{"url":%q,"headers":{"Authorization":"Bearer s3cret"}}}`, hook.URL)
	wantError(t, e.postJSON("/api/v1/notification-targets", e.user, target), 403, "forbidden", "only admins")
	r := e.postJSON("/api/v1/notification-targets", adminCreds, target)
	wantStatus(t, r, 201)
	var tg monitors.Target
	r.json(t, &tg)
	if tg.Webhook.Headers["Authorization"] != monitors.Redacted || strings.Contains(string(r.body), "s3cret") {
		t.Fatalf("secret not redacted: %s", r.body)
	}
	r = e.postJSON("/api/v1/notification-targets", adminCreds, `{"name":"bad","type":"webhook","webhook":{"url":"ftp://x"}}`)
	wantStatus(t, r, 400)
	if !strings.Contains(string(r.body), `"field":"webhook.url"`) {
		t.Fatalf("problems: %s", r.body)
	}
	r = e.postJSON("/api/v1/notification-targets/"+tg.ID+"/test", adminCreds, "")
	wantStatus(t, r, 200)
	var tr monitors.TestResult
	r.json(t, &tr)
	if !tr.OK || len(rc.got()) != 1 || rc.got()[0].Kind != "test" {
		t.Fatalf("test send: %+v, received %d", tr, len(rc.got()))
	}

	// An invalid monitor lists its problems with their fields.
	r = e.postJSON("/api/v1/monitors", e.user, `{"name":"x","query":"_sourceCategory=api/web | count by","triggers":{}}`)
	wantStatus(t, r, 400)
	var verr struct {
		Code     string             `json:"code"`
		Problems []monitors.Problem `json:"problems"`
	}
	r.json(t, &verr)
	fields := map[string]bool{}
	for _, p := range verr.Problems {
		fields[p.Field] = true
	}
	if verr.Code != "monitor.invalid" || !fields["query"] || !fields["triggers"] {
		t.Fatalf("problems: %s", r.body)
	}
	wantStatus(t, e.postJSON("/api/v1/monitors", e.user, `{"name":"x","qurey":"a"}`), 400)
	// A dry run validates without creating.
	def := `{"name":"web events","query":"_sourceCategory=api/web event","window":"3h","frequency":"1m","delay":"1m",
		"triggers":{"critical":{"op":">","threshold":0}},"notifications":[{"target":"hook"}],"enabled":true}`
	wantStatus(t, e.postJSON("/api/v1/monitors?dryRun=true", e.user, def), 200)
	// A dry run asked for in a way that is not a boolean creates nothing
	// either: it is refused.
	if r := e.postJSON("/api/v1/monitors?dryRun=yes", e.user, def); r.status != 400 || !strings.Contains(string(r.body), `dryRun=\"yes\"`) {
		t.Fatalf("dryRun=yes: %d %s", r.status, r.body)
	}

	// bob creates a monitor; it fires at the next evaluation and the
	// webhook hears of it once.
	r = e.postJSON("/api/v1/monitors", e.user, def)
	wantStatus(t, r, 201)
	var m monitors.Monitor
	r.json(t, &m)
	if m.CreatedBy != "bob" || !m.Enabled || len(m.Notifications) != 1 || m.Notifications[0].Target != tg.ID {
		t.Fatalf("created: %s", r.body)
	}
	if err := svc.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeliverOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got := rc.got()
	if len(got) != 2 || got[1].Kind != "fired" || got[1].Monitor.ID != m.ID || got[1].Severity != "critical" {
		t.Fatalf("webhook got %+v", got)
	}
	r = e.do("GET", "/api/v1/monitors/"+m.ID, e.user, "", "")
	wantStatus(t, r, 200)
	r.json(t, &m)
	if m.Status.State != "critical" || m.Status.Firing != 1 || len(m.Status.Alerts) != 1 || m.Status.LastWindow == nil {
		t.Fatalf("status: %s", r.body)
	}
	var list struct{ Monitors []monitors.Monitor }
	e.do("GET", "/api/v1/monitors", e.user, "", "").json(t, &list)
	if len(list.Monitors) != 1 || list.Monitors[0].Status.State != "critical" {
		t.Fatalf("list: %+v", list)
	}
	var alerts struct{ Alerts []catalog.MonitorAlert }
	e.do("GET", "/api/v1/monitors/alerts", e.user, "", "").json(t, &alerts)
	if len(alerts.Alerts) != 1 || alerts.Alerts[0].MonitorID != m.ID {
		t.Fatalf("alerts: %+v", alerts)
	}
	var hist struct{ Events []catalog.MonitorEvent }
	r = e.do("GET", "/api/v1/monitors/"+m.ID+"/history?kind=fired", e.user, "", "")
	wantStatus(t, r, 200)
	r.json(t, &hist)
	if len(hist.Events) != 1 || hist.Events[0].Kind != "fired" {
		t.Fatalf("history: %s", r.body)
	}
	wantError(t, e.do("GET", "/api/v1/monitors/nope/history", e.user, "", ""), 404, "notfound", "")
	wantStatus(t, e.do("GET", "/api/v1/monitors/history?limit=5000", e.user, "", ""), 400)
	var dl struct{ Deliveries []catalog.DeliveryAttempt }
	e.do("GET", "/api/v1/notification-deliveries?monitor="+m.ID, e.user, "", "").json(t, &dl)
	if len(dl.Deliveries) != 1 || !dl.Deliveries[0].OK {
		t.Fatalf("deliveries: %+v", dl)
	}

	// Mute, unmute, update with a stale version, disable.
	r = e.postJSON("/api/v1/monitors/"+m.ID+"/mute", e.user, `{"for":"2h"}`)
	wantStatus(t, r, 200)
	r.json(t, &m)
	if !m.Muted || m.MutedUntil == nil {
		t.Fatalf("mute: %s", r.body)
	}
	wantStatus(t, e.postJSON("/api/v1/monitors/"+m.ID+"/mute", e.user, `{"for":"soon"}`), 400)
	e.postJSON("/api/v1/monitors/"+m.ID+"/unmute", e.user, "").json(t, &m)
	if m.Muted {
		t.Fatal("still muted")
	}
	upd := strings.Replace(def, `"web events"`, `"web events (renamed)"`, 1)
	wantError(t, e.do("PUT", fmt.Sprintf("/api/v1/monitors/%s?version=%d", m.ID, m.Version+5), e.user, "application/json", upd), 409, "conflict", "changed meanwhile")
	r = e.do("PUT", fmt.Sprintf("/api/v1/monitors/%s?version=%d", m.ID, m.Version), e.user, "application/json", upd)
	wantStatus(t, r, 200)
	r.json(t, &m)
	if m.Name != "web events (renamed)" {
		t.Fatalf("update: %s", r.body)
	}
	e.postJSON("/api/v1/monitors/"+m.ID+"/disable", e.user, "").json(t, &m)
	if m.Status.State != "disabled" || m.Enabled {
		t.Fatalf("disable: %+v", m.Status)
	}

	// Another user's monitor: bob may read it, not change it.
	r = e.postJSON("/api/v1/monitors", adminCreds, strings.Replace(def, `"web events"`, `"admin's"`, 1))
	wantStatus(t, r, 201)
	var am monitors.Monitor
	r.json(t, &am)
	wantStatus(t, e.do("GET", "/api/v1/monitors/"+am.ID, e.user, "", ""), 200)
	wantError(t, e.do("DELETE", "/api/v1/monitors/"+am.ID, e.user, "", ""), 403, "forbidden", "only its creator or an admin")
	wantError(t, e.postJSON("/api/v1/monitors/"+am.ID+"/disable", e.user, ""), 403, "forbidden", "")

	// An app's monitors: shipped disabled, enabled at once.
	p := &catalog.Principal{UserName: "admin", Role: catalog.RoleAdmin}
	appDef := json.RawMessage(`{"name":"app det","query":"_sourceCategory=api/db","window":"5m","frequency":"5m","triggers":{"critical":{"op":">","threshold":0}},"enabled":false}`)
	if _, _, err := svc.CreateMonitor(ctx, p, appDef, "testapp", "1.0.0"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.postJSON("/api/v1/monitors/enable-app", e.user, `{"app":"testapp"}`), 403)
	wantError(t, e.postJSON("/api/v1/monitors/enable-app", adminCreds, `{"app":"nope"}`), 404, "notfound", "no monitors of app")
	wantError(t, e.postJSON("/api/v1/monitors/enable-app", adminCreds, `{"app":"testapp","notify":["nope"]}`), 404, "notfound", `no notification target "nope"`)
	r = e.postJSON("/api/v1/monitors/enable-app", adminCreds, `{"app":"testapp","notify":["hook"]}`)
	wantStatus(t, r, 200)
	var en struct {
		Changed  int
		Monitors []monitors.Monitor
	}
	r.json(t, &en)
	if en.Changed != 1 || len(en.Monitors) != 1 || !en.Monitors[0].Enabled || en.Monitors[0].App != "testapp" ||
		len(en.Monitors[0].Notifications) != 1 || en.Monitors[0].Notifications[0].Target != tg.ID {
		t.Fatalf("enable-app: %s", r.body)
	}

	// Delete.
	wantStatus(t, e.do("DELETE", "/api/v1/monitors/"+m.ID, e.user, "", ""), 200)
	wantError(t, e.do("GET", "/api/v1/monitors/"+m.ID, e.user, "", ""), 404, "notfound", "")
	wantStatus(t, e.do("DELETE", "/api/v1/notification-targets/"+tg.ID, adminCreds, "", ""), 200)
	wantStatus(t, e.do("DELETE", "/api/v1/monitors/"+m.ID, noCreds, "", ""), 401)
}

func TestThreatIntelAPI(t *testing.T) {
	e, _, _ := newMonitorEnv(t)
	csv := "indicator,actor,confidence\n198.51.100.7,APT-X,high\n203.0.113.0/24,,50\n"
	wantError(t, e.do("PUT", "/api/v1/threatintel/feed", e.user, "text/csv", csv), 403, "forbidden", "")
	r := e.do("PUT", "/api/v1/threatintel/feed", adminCreds, "text/csv", csv)
	wantStatus(t, r, 200)
	var up struct {
		List       threatintel.List
		Format     string
		Indicators int
	}
	r.json(t, &up)
	if up.Format != "csv" || up.Indicators != 2 || up.List.Name != "feed" || up.List.Table != "/threatintel/feed" {
		t.Fatalf("upload: %s", r.body)
	}
	wantError(t, e.do("PUT", "/api/v1/threatintel/feed", adminCreds, "text/csv", "indicator\nnot-an-ip!\n"), 400, "threatintel.invalid", "line 2")
	wantError(t, e.do("PUT", "/api/v1/threatintel/..bad", adminCreds, "text/csv", csv), 400, "bad.request", "threat list name")
	stix := `{"type":"bundle","objects":[{"type":"indicator","id":"indicator--1","pattern_type":"stix","pattern":"[ipv6-addr:value = '2001:db8::1']"}]}`
	r = e.do("PUT", "/api/v1/threatintel/stixfeed", adminCreds, "application/json", stix)
	wantStatus(t, r, 200)
	var lists struct{ Lists []threatintel.List }
	e.do("GET", "/api/v1/threatintel", e.user, "", "").json(t, &lists)
	if len(lists.Lists) != 2 {
		t.Fatalf("lists: %+v", lists)
	}
	// threatip sees the uploaded lists in searches; lookup reads a list
	// as a table.
	for _, c := range []struct{ ip, actor, conf, a2 string }{
		{"198.51.100.7", "APT-X", "high", "APT-X"},
		{"203.0.113.9", "", "medium", ""},
		{"192.0.2.1", "", "", ""},
	} {
		q := `_sourceCategory=api/web | limit 1 | "` + c.ip + `" as ip | threatip ip | lookup actor as a2 from /threatintel/feed on ip=indicator | fields ip, actor, malicious_confidence, a2`
		res := runQuery(t, e, q)
		if len(res) != 1 || res[0]["actor"] != c.actor || res[0]["malicious_confidence"] != c.conf || res[0]["a2"] != c.a2 {
			t.Errorf("%s: got %v", c.ip, res)
		}
	}
	wantStatus(t, e.do("DELETE", "/api/v1/threatintel/stixfeed", adminCreds, "", ""), 200)
	wantError(t, e.do("DELETE", "/api/v1/threatintel/stixfeed", adminCreds, "", ""), 404, "notfound", "")
}

// runQuery runs a query through the monitors' runner path (a search job
// over the whole corpus) and returns its records or messages.
func runQuery(t *testing.T, e *env, q string) []map[string]string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q, "from": e.from.Format(time.RFC3339), "to": e.to.Format(time.RFC3339)})
	r := e.postJSON("/api/v1/search/jobs", adminCreds, string(body))
	wantStatus(t, r, 202)
	var job struct{ ID string }
	r.json(t, &job)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st struct {
			State       string
			RecordCount int
		}
		e.do("GET", "/api/v1/search/jobs/"+job.ID, adminCreds, "", "").json(t, &st)
		if st.State == "DONE GATHERING RESULTS" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search job state %s", st.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var msgs struct {
		Messages []struct{ Map map[string]string }
	}
	e.do("GET", "/api/v1/search/jobs/"+job.ID+"/messages?offset=0&limit=10", adminCreds, "", "").json(t, &msgs)
	var out []map[string]string
	for _, m := range msgs.Messages {
		out = append(out, m.Map)
	}
	return out
}

func TestMonitorsUnavailable(t *testing.T) {
	e := newEnv(t, publicURL)
	wantError(t, e.do("GET", "/api/v1/monitors", e.user, "", ""), 503, "monitors.unavailable", "not available")
}
