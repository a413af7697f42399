package apps_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/dashboards"
	"github.com/dohyo/dohyo/demo"
	"github.com/dohyo/dohyo/event"
)

// demoEnv loads a day of the demo's CloudTrail traffic (with its
// suspicious activity spread over the day and once more within the last
// hour) into an engine whose GeoIP database locates the demo's address
// blocks in their countries, installs the CloudTrail app and lists the
// demo's administrators, as dohyo demo does.
func demoEnv(t testing.TB, n int, span time.Duration) (*env, map[string]*dashboards.Dashboard, int) {
	t.Helper()
	// The database dohyo demo --geoip-fetch=false uses (and the browser
	// tests): it locates the demo's address blocks in their countries.
	geo := filepath.Join(t.TempDir(), "demo-city.mmdb")
	if err := demo.WriteGeoDB(geo); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, geo)
	now := time.Now()
	var raws [][]byte
	err := demo.NewGenerator(7).Range(now.Add(-span), now, n, demo.RangeOptions{Incidents: true, RecentWave: true}, func(ev demo.Event) error {
		if ev.Stream == demo.StreamCloudTrail {
			raws = append(raws, []byte(ev.Raw))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var events []event.Event
	for len(raws) > 0 {
		k := min(len(raws), 20000)
		events = append(events, parse(t, bytes.Join(raws[:k], []byte("\n")))...)
		raws = raws[k:]
	}
	e.add(t, demo.CategoryCloudTrail, events)
	rep, err := e.inst.Install(context.Background(), e.admin, "aws-cloudtrail", map[string]string{"category": demo.CategoryCloudTrail})
	if err != nil {
		t.Fatal(err)
	}
	// As dohyo demo does: list the demo's administrators.
	tab, err := e.cat.GetLookupByName(context.Background(), "/Library/Admin Recommended/cloudtrail/admin_users")
	if err != nil {
		t.Fatal(err)
	}
	csv := "admin_user\n" + strings.Join(demo.AdminUsers(), "\n") + "\n"
	if _, err := e.cat.UploadLookupCSV(context.Background(), tab.ID, strings.NewReader(csv), false, e.admin.UserName); err != nil {
		t.Fatal(err)
	}
	return e, installedDashboards(t, e, rep), len(events)
}

// find returns the rows of a panel's records where every field matches
// (a value ending in * matches a prefix, one starting with * a suffix,
// *x* a substring).
func find(r dashboards.PanelResult, want map[string]string) []map[string]string {
	var out []map[string]string
	rows := r.Records
	if !r.Aggregate {
		rows = r.Messages
	}
	for _, row := range rows {
		ok := true
		for k, w := range want {
			if !globMatch(w, row[k]) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, row)
		}
	}
	return out
}

func globMatch(pattern, s string) bool {
	switch {
	case strings.HasPrefix(pattern, "*") && strings.HasSuffix(pattern, "*") && len(pattern) > 1:
		return strings.Contains(s, pattern[1:len(pattern)-1])
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(s, pattern[:len(pattern)-1])
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(s, pattern[1:])
	}
	return s == pattern
}

// TestCloudTrailAppOnDemoData is the acceptance test of the CloudTrail app
// on the demo's generated traffic: every panel runs without error over the
// last 24 hours (panels keep their own ranges), and the suspicious
// activity the demo generates shows on the right panels: failed console
// logins from abroad on the Console Logins map and in "Logins from Outside
// the USA", port 22 opened to the world among the security group changes,
// new IAM users, and public buckets and objects on the S3 dashboard.
func TestCloudTrailAppOnDemoData(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the demo data acceptance test in -short mode")
	}
	e, ds, nEvents := demoEnv(t, 150_000, 24*time.Hour)
	results := map[string]map[string]dashboards.PanelResult{}
	var table strings.Builder
	fmt.Fprintf(&table, "demo CloudTrail traffic: %d events over the last 24 hours\n", nEvents)
	for _, key := range dashboardOrder {
		d := ds[key]
		results[key] = map[string]dashboards.PanelResult{}
		fmt.Fprintf(&table, "\n%s\n", d.Title)
		for i, r := range runDashboard(t, e, d, dashboards.RunRequest{}) {
			p := d.Panels[i]
			title := p.Title
			if _, dup := results[key][title]; dup {
				title += " (" + p.Visualization.Type + ")"
			}
			results[key][title] = r
			fmt.Fprintf(&table, "  %-48s %-13s %s\n", p.Title, p.Visualization.Type, summary(r))
			if r.Status != "ok" {
				t.Errorf("%s / %s: %s: %s\nquery:\n%s", d.Title, p.Title, r.Error.Code, r.Error.Message, r.Query)
			}
		}
	}
	t.Logf("\n%s", table.String())

	attackers := map[string]bool{}
	for _, g := range demo.GeoNetworks() {
		if g.Attacker {
			attackers[g.Country] = true
		}
	}
	check := func(dash, panel string, want map[string]string, why string) []map[string]string {
		t.Helper()
		r, ok := results[dash][panel]
		if !ok {
			t.Fatalf("no panel %q on %s", panel, dash)
		}
		rows := find(r, want)
		if len(rows) == 0 {
			t.Errorf("%s / %s: no row with %v (%s); got %d rows: %v", dash, panel, want, why, r.RowCount, firstRows(r, 5))
		}
		return rows
	}

	// Failed logins from abroad.
	cl := results["console-logins"]
	abroad := 0
	for _, row := range check("console-logins", "Logins from Outside the USA", map[string]string{"login_result": "Failure"}, "failed logins from abroad") {
		if attackers[row["country_code"]] {
			abroad++
		}
	}
	if abroad == 0 {
		t.Errorf("Logins from Outside the USA: no failed login from an attacker country %v", attackers)
	}
	points := 0
	for _, row := range cl["Geo Location of All Users"].Records {
		if attackers[row["country_code"]] {
			points++
		}
	}
	if points == 0 {
		t.Errorf("Console Logins map: no point in an attacker country: %v", firstRows(cl["Geo Location of All Users"], 10))
	}
	if !hasEvents(results["overview"]["Failed Logins"]) {
		t.Errorf("Overview / Failed Logins: none")
	}
	check("console-logins", "Logins without MFA", map[string]string{"login_result": "Success"}, "a login without MFA")

	// Port 22 open to the world.
	check("network-and-security", "Recent Security Group and Network ACL Changes",
		map[string]string{"event_name": "AuthorizeSecurityGroupIngress", "rule": "*ports [22]-[22] from [\"0.0.0.0/0\"]*"}, "port 22 opened to 0.0.0.0/0")
	check("network-and-security", "Network ACL with All Allowed Ingress/Egress", map[string]string{"cidr": "0.0.0.0/0", "protocol": "-1"}, "a network ACL allowing everything")
	check("network-and-security", "Recent Authorization Failures", map[string]string{"error_code": "*AccessDenied*"}, "unauthorized API calls")

	// New IAM users.
	check("overview", "Created Resources", map[string]string{"resource_type": "User"}, "IAM users created")
	check("operations", "Action Events", map[string]string{"event_name": "CreateUser", "user": "ci-deploy"}, "the backdoor user created with the CI key")
	check("network-and-security", "Short Lived Critical Operations", map[string]string{"kind": "User", "target": "tmp-audit-*"}, "a user deleted minutes after its creation")

	// The administrators' activity (the demo lists them in admin_users).
	for _, p := range []string{"Top 10 Activities by Administrative Users", "Recent Activity by Administrative Users", "Administrative Activities Over Time"} {
		if !hasEvents(results["user-monitoring"][p]) {
			t.Errorf("User Monitoring / %s: empty although admin_users lists %v", p, demo.AdminUsers())
		}
	}
	check("user-monitoring", "Recent Activity by Administrative Users", map[string]string{"user": "alice.nguyen*"}, "the administrator alice's activity")
	// One series per administrator, nothing else.
	for _, f := range results["user-monitoring"]["Administrative Activities Over Time"].Fields {
		if f.Name != "_timeslice" && !slices.Contains(demo.AdminUsers(), f.Name) {
			t.Errorf("User Monitoring / Administrative Activities Over Time: series %q is not an administrator", f.Name)
		}
	}

	// Public buckets and objects.
	check("s3-public-objects-and-buckets", "Public Buckets Table", map[string]string{"bucket": "dohyo-demo-marketing-assets", "public_by": "ACL grants READ to AllUsers*"}, "PutBucketAcl granting AllUsers READ")
	check("s3-public-objects-and-buckets", "Public Buckets Table", map[string]string{"bucket": "dohyo-demo-customer-exports", "public_by": "*AuthenticatedUsers*"}, "PutBucketAcl granting AuthenticatedUsers")
	check("s3-public-objects-and-buckets", "Public Buckets Table", map[string]string{"public_by": "bucket policy allows Principal *"}, "PutBucketPolicy with Principal *")
	check("s3-public-objects-and-buckets", "Public Buckets Table", map[string]string{"public_by": "Block Public Access*"}, "Block Public Access removed")
	check("s3-public-objects-and-buckets", "New Public Objects Table", map[string]string{"object_key": "exports/customers-*", "public_by": "x-amz-grant-read: AllUsers"}, "PutObject with x-amz-grant-read AllUsers")
	check("s3-public-objects-and-buckets", "New Public Objects Table", map[string]string{"public_by": "x-amz-acl: public-read"}, "PutObject with a public-read canned ACL")
	check("s3-public-objects-and-buckets", "Modified Public Objects Table", map[string]string{"object": "dohyo-demo-customer-exports/reports/q3-revenue.pdf"}, "PutObjectAcl granting AllUsers READ")
	for _, sv := range []string{"Public Buckets (single_value)", "New Public Objects", "Modified Public Objects"} {
		r, ok := results["s3-public-objects-and-buckets"][sv]
		if !ok {
			r = results["s3-public-objects-and-buckets"][strings.TrimSuffix(sv, " (single_value)")]
		}
		if !hasEvents(r) {
			t.Errorf("S3 / %s: no public bucket or object counted: %v", sv, firstRows(r, 3))
		}
	}
}

func firstRows(r dashboards.PanelResult, n int) []map[string]string {
	rows := r.Records
	if !r.Aggregate {
		rows = r.Messages
	}
	return rows[:min(n, len(rows))]
}
