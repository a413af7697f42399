package apps_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/apps"
	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/dashboards"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/geoip"
	"github.com/dohyo/dohyo/geoip/geoiptest"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/search"
	"github.com/dohyo/dohyo/store/embedded"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// sharedData finds ../shared/data by walking up from the working
// directory; tests that need it skip when it is absent.
func sharedData(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("skipping: shared/data (the public data sets) is not found above the working directory")
		}
		dir = parent
	}
}

// env is a catalog, an embedded engine with long retention, a search
// manager with the catalog's lookup tables and a GeoIP database, the
// dashboards service and the app installer: the server's parts, in
// process.
type env struct {
	cat   *catalog.Catalog
	st    *embedded.Store
	mgr   *search.Manager
	dash  *dashboards.Service
	inst  *apps.Installer
	admin *catalog.Principal
	seq   uint64
}

func newEnv(t testing.TB, geoDB string) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	if _, err := cat.Bootstrap(ctx, catalog.BootstrapOptions{AdminPassword: "admin-password", AccessID: "DKADMINADMINADMIN000", AccessKey: "admin-key-admin-key-admin-key-00"}); err != nil {
		t.Fatal(err)
	}
	admin, err := cat.Authenticate(ctx, "DKADMINADMINADMIN000", "admin-key-admin-key-admin-key-00")
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(dir, "engine"), embedded.Config{Retention: 100 * 365 * 24 * time.Hour, FutureRetention: 365 * 24 * time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	qenv := &query.Env{Lookups: cat}
	if geoDB != "" {
		db, err := geoip.Open(geoDB)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		qenv.GeoIP = db
	}
	scfg := search.DefaultConfig()
	scfg.Env, scfg.Logger = qenv, quiet
	mgr := search.NewManager(st, scfg)
	t.Cleanup(mgr.Close)
	dash := dashboards.New(cat, mgr, dashboards.Config{})
	return &env{cat: cat, st: st, mgr: mgr, dash: dash, inst: apps.NewInstaller(cat, dash, nil), admin: admin}
}

// add stores events under a category.
func (e *env) add(t testing.TB, category string, events []event.Event) {
	t.Helper()
	const batch = 5000
	for len(events) > 0 {
		n := min(batch, len(events))
		e.seq++
		b := &event.Batch{ReceiptTime: time.Now().UnixNano(), Source: event.Source{ID: "S1", Name: category, Category: category, Host: "test", Collector: "dohyo"}, Events: events[:n]}
		if err := e.st.Add(context.Background(), e.seq, b, nil); err != nil {
			t.Fatal(err)
		}
		events = events[n:]
	}
	e.st.Flush()
}

// parse turns a body into events as the HTTP source does.
func parse(t testing.TB, body []byte) []event.Event {
	t.Helper()
	evs, _, err := ingest.Parse(body, ingest.Options{Multiline: ingest.MultilineOff}, ingest.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// cloudTrailDatasets reads the CloudTrail records of shared/data: the
// Stratus Red Team samples (their malformed file read leniently), the
// OTRF data set and the "log" records of the Panther rule tests.
func cloudTrailDatasets(t testing.TB) (events []event.Event, counts map[string]int) {
	t.Helper()
	root := sharedData(t)
	counts = map[string]int{}
	files, _ := filepath.Glob(filepath.Join(root, "cloudtrail_stratus_samples_cloudtrail2sightings", "*.json"))
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var lines [][]byte
		for _, rec := range lenientRecords(t, data) {
			var buf bytes.Buffer
			if err := json.Compact(&buf, rec); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, buf.Bytes())
		}
		evs := parse(t, bytes.Join(lines, []byte("\n")))
		counts["stratus"] += len(evs)
		events = append(events, evs...)
	}
	otrf, err := os.ReadFile(filepath.Join(root, "cloudtrail_otrf_security_datasets", "ec2_proxy_s3_exfiltration_2020-09-14011940.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs := parse(t, otrf)
	counts["otrf"] = len(evs)
	events = append(events, evs...)
	f, err := os.Open(filepath.Join(root, "cloudtrail_panther_rule_tests", "panther_cloudtrail_rule_tests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	var lines [][]byte
	for sc.Scan() {
		var test struct {
			Log json.RawMessage `json:"log"`
		}
		if err := json.Unmarshal(sc.Bytes(), &test); err != nil {
			t.Fatal(err)
		}
		if len(test.Log) == 0 || test.Log[0] != '{' {
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, test.Log); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, buf.Bytes())
	}
	evs = parse(t, bytes.Join(lines, []byte("\n")))
	counts["panther"] = len(evs)
	events = append(events, evs...)
	evs = honeyBucketRecords(t, filepath.Join(root, "cloudtrail_otrf_security_datasets", "AWS_S3_HoneyBucketLogs.csv"))
	counts["honeybucket"] = len(evs)
	events = append(events, evs...)
	return events, counts
}

// honeyBucketRecords turns OTRF's AWS_S3_HoneyBucketLogs.csv (S3 data
// events of a public honey bucket, one CSV row each, with python-dict
// style userIdentity and requestParameters) back into CloudTrail records:
// the fields the CSV keeps, at their CloudTrail names, the region read
// from the request's Host.
func honeyBucketRecords(t testing.TB, path string) []event.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(rows) < 2 {
		t.Fatalf("%s: no rows", path)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"Event Type", "Event Name", "Request ID", "User ID", "Request Parameters", "Event ID", "Event DateTime", "Source IP", "Request User Agent"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("%s: no column %q", path, h)
		}
	}
	// pyDict reads a python dict literal of plain strings as JSON.
	pyDict := func(line int, name, s string) json.RawMessage {
		if strings.Contains(s, `"`) || strings.Contains(s, `\`) {
			t.Fatalf("%s line %d: %s %q: quotes inside values are not handled", path, line, name, s)
		}
		js := strings.ReplaceAll(s, "'", `"`)
		if !json.Valid([]byte(js)) {
			t.Fatalf("%s line %d: %s %q does not read as a dict of strings", path, line, name, s)
		}
		return json.RawMessage(js)
	}
	var lines [][]byte
	for i, r := range rows[1:] {
		get := func(h string) string { return r[col[h]] }
		params := pyDict(i+2, "Request Parameters", get("Request Parameters"))
		var p struct{ Host string }
		json.Unmarshal(params, &p)
		region := "us-east-1"
		if m := regexp.MustCompile(`\.s3[.-]([a-z]{2}-[a-z]+-\d)\.`).FindStringSubmatch(p.Host); m != nil {
			region = m[1]
		}
		rec := map[string]any{
			"eventVersion": "1.08", "eventType": get("Event Type"), "eventCategory": "Data", "managementEvent": false,
			"eventTime": get("Event DateTime"), "eventSource": "s3.amazonaws.com", "eventName": get("Event Name"),
			"awsRegion": region, "sourceIPAddress": get("Source IP"), "userAgent": get("Request User Agent"),
			"userIdentity": pyDict(i+2, "User ID", get("User ID")), "requestParameters": params,
			"requestID": get("Request ID"), "eventID": get("Event ID"), "readOnly": get("Event Name") != "PutObject",
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b)
	}
	return parse(t, bytes.Join(lines, []byte("\n")))
}

// lenientRecords returns the objects of a {"Records":[...]} file, also
// when they are concatenated without commas (one Stratus file is).
func lenientRecords(t testing.TB, data []byte) []json.RawMessage {
	t.Helper()
	i := bytes.Index(data, []byte(`"Records"`))
	if i < 0 {
		t.Fatalf("no Records array")
	}
	i += bytes.IndexByte(data[i:], '[') + 1
	var out []json.RawMessage
	for {
		for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t' || data[i] == ',') {
			i++
		}
		if i >= len(data) || data[i] == ']' {
			return out
		}
		dec := json.NewDecoder(bytes.NewReader(data[i:]))
		var rec json.RawMessage
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("record at byte %d: %v", i, err)
		}
		out = append(out, rec)
		i += int(dec.InputOffset())
	}
}

// country is a made-up location of a country for test GeoIP databases.
type country struct {
	name, continent, code string
	lat, lon              float64
}

var countries = map[string]country{
	"US": {"United States", "North America", "NA", 39.8, -98.6},
	"CA": {"Canada", "North America", "NA", 56.1, -106.3},
	"DE": {"Germany", "Europe", "EU", 51.2, 10.4},
	"GB": {"United Kingdom", "Europe", "EU", 54.0, -2.0},
	"FR": {"France", "Europe", "EU", 46.2, 2.2},
	"JP": {"Japan", "Asia", "AS", 36.2, 138.3},
	"IN": {"India", "Asia", "AS", 20.6, 79.0},
	"BR": {"Brazil", "South America", "SA", -14.2, -51.9},
	"AU": {"Australia", "Oceania", "OC", -25.3, 133.8},
	"KR": {"South Korea", "Asia", "AS", 35.9, 127.8},
	"CN": {"China", "Asia", "AS", 35.9, 104.2},
	"RU": {"Russia", "Europe", "EU", 61.5, 105.3},
	"VN": {"Vietnam", "Asia", "AS", 14.1, 108.3},
	"NG": {"Nigeria", "Africa", "AF", 9.1, 8.7},
	"RO": {"Romania", "Europe", "EU", 45.9, 24.97},
	"NL": {"Netherlands", "Europe", "EU", 52.1, 5.3},
	"SG": {"Singapore", "Asia", "AS", 1.35, 103.8},
	"SE": {"Sweden", "Europe", "EU", 60.1, 18.6},
}

// writeGeoDB writes a test GeoIP database locating each network (CIDR →
// country code) at its country's made-up centre.
func writeGeoDB(t testing.TB, nets map[string]string) string {
	t.Helper()
	var list []geoiptest.Network
	cidrs := make([]string, 0, len(nets))
	for c := range nets {
		cidrs = append(cidrs, c)
	}
	sort.Strings(cidrs)
	for _, cidr := range cidrs {
		cc := nets[cidr]
		c, ok := countries[cc]
		if !ok {
			t.Fatalf("no test location for country %s", cc)
		}
		list = append(list, geoiptest.Network{CIDR: cidr, Continent: c.name, ContinentCode: c.code, CountryCode: cc, CountryName: c.name,
			City: c.name + " City", Latitude: c.lat, Longitude: c.lon})
	}
	p := filepath.Join(t.TempDir(), "test-city.mmdb")
	if err := geoiptest.WriteNetworks(p, list); err != nil {
		t.Fatal(err)
	}
	return p
}

// runDashboard runs every panel of a dashboard and returns the results by
// panel id, in the dashboard's order.
func runDashboard(t testing.TB, e *env, d *dashboards.Dashboard, req dashboards.RunRequest) []dashboards.PanelResult {
	t.Helper()
	byID := map[string]dashboards.PanelResult{}
	_, err := e.dash.Run(context.Background(), e.admin, d, req, func(v any) error {
		if r, ok := v.(dashboards.PanelResult); ok {
			byID[r.PanelID] = r
		}
		return nil
	})
	if err != nil {
		t.Fatalf("run %s: %v", d.Title, err)
	}
	out := make([]dashboards.PanelResult, 0, len(d.Panels))
	for _, p := range d.Panels {
		r, ok := byID[p.ID]
		if !ok {
			t.Fatalf("%s: panel %s %q got no result", d.Title, p.ID, p.Title)
		}
		out = append(out, r)
	}
	return out
}

// installedDashboards returns the app's dashboards by key.
func installedDashboards(t testing.TB, e *env, rep *apps.Report) map[string]*dashboards.Dashboard {
	t.Helper()
	out := map[string]*dashboards.Dashboard{}
	for _, it := range rep.Created {
		if it.Kind != apps.KindDashboard {
			continue
		}
		d, err := e.dash.Get(context.Background(), it.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[it.Key] = d
	}
	return out
}

// summary describes a panel's result in a few words.
func summary(r dashboards.PanelResult) string {
	if r.Status == "error" {
		return "ERROR " + r.Error.Message
	}
	if r.RowCount == 0 {
		return "no matching events in the data"
	}
	rows := r.Records
	if !r.Aggregate {
		rows = r.Messages
	}
	var cols []string
	if len(r.Fields) > 0 {
		for _, f := range r.Fields {
			cols = append(cols, f.Name)
		}
	}
	first := ""
	if len(rows) > 0 {
		var parts []string
		for _, c := range cols {
			if v := rows[0][c]; v != "" && c != "_timeslice" {
				if len(v) > 40 {
					v = v[:37] + "..."
				}
				parts = append(parts, c+"="+v)
			}
			if len(parts) == 4 {
				break
			}
		}
		first = "; first: " + strings.Join(parts, " ")
	}
	return fmt.Sprintf("%d rows (%s)%s", r.RowCount, strings.Join(cols, ","), first)
}

// hasEvents reports whether a panel shows events: rows, and for a single
// record of counts (single values), a count that is not 0.
func hasEvents(r dashboards.PanelResult) bool {
	if r.RowCount == 0 {
		return false
	}
	if r.RowCount > 1 || !r.Aggregate {
		return true
	}
	for _, f := range r.Fields {
		if f.KeyField {
			return true
		}
	}
	for _, v := range r.Records[0] {
		if v != "" && v != "0" {
			return true
		}
	}
	return false
}
