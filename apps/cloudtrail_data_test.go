package apps_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/dashboards"
)

// dataGeoNetworks locates the public source addresses of the CloudTrail
// data sets (made-up test locations; a real database would differ).
var dataGeoNetworks = map[string]string{
	"1.2.3.0/24":       "AU",
	"111.111.111.0/24": "JP",
	"1.1.1.0/24":       "AU",
	"123.123.123.0/24": "CN",
	"73.252.165.0/24":  "US",
	"45.33.32.0/24":    "US",
	"100.1.114.0/24":   "US",
	"157.130.196.0/24": "US",
	"205.251.233.0/24": "US",
	"64.25.27.0/24":    "US",
	"136.25.37.0/24":   "US",
	"40.185.186.0/24":  "US",
	"72.21.217.0/24":   "US",
	"46.91.25.0/24":    "DE",
	"185.220.101.0/24": "DE",
	"8.8.8.0/24":       "US",
	"161.97.249.0/24":  "DE",
	"136.32.237.0/24":  "US",
	"12.12.12.0/24":    "US",
	"52.42.146.0/24":   "US",
	"178.253.78.0/24":  "RU",
	"54.90.94.0/24":    "US",
	"12.34.56.0/24":    "US",
	"3.10.107.0/24":    "GB",
}

// cloudTrailDataExpect lists, per dashboard and panel title, whether the
// events the panel looks for occur in the data sets (true: the panel must
// show rows). Panels whose events do not occur must still run without
// error. The reasons:
//   - Overview: every panel's events occur (ConsoleLogin failures from the
//     Panther tests, Create*/Run*/Delete* calls, CreateNetworkAclEntry,
//     CreateSecurityGroup).
//   - Console Logins: 24 ConsoleLogin records (5 failures, 14 without
//     MFA, several users from abroad); the outliers and the one-day
//     compare run over the whole range. No user logs in from more than one
//     address (Logins from Multiple IP is empty).
//   - User Monitoring: the admin users table is empty at install, so the
//     three administrator panels have no rows (their empty-state says
//     why); RunInstances and TerminateInstances occur.
//   - Network and Security: AccessDenied and UnauthorizedOperation errors
//     occur; CreateNetworkAclEntry allowing all protocols (Panther) and
//     CreateUser/DeleteUser pairs... no IAM object is created and deleted
//     within 10 minutes in these data sets: Short Lived Critical
//     Operations is empty.
//   - Operations: Elastic IP operations (AllocateAddress, ...) do not
//     occur; the rest does.
//   - S3: bucket policies with Principal {"AWS":"*"} and
//     DeleteBucketPublicAccessBlock occur (Public Buckets); no object is
//     uploaded or changed with a public ACL.
var cloudTrailDataExpect = map[string]map[string]bool{
	"overview": {
		"Geo Location of All Users":                       true,
		"Created Resources":                               true,
		"Failed Logins":                                   true,
		"Deleted Resources Over Time":                     true,
		"Top 10 Users":                                    true,
		"Created and Deleted Network and Security Events": true,
	},
	"console-logins": {
		"Geo Location of All Users":            true,
		"Login Events By User":                 true,
		"Logins Over Time":                     true,
		"Logins from Multiple IP":              false,
		"Logins from Outside the USA":          true,
		"Outlier - Success Login":              true,
		"Login Results - One Day Time Compare": true,
		"Outlier - Failed Login":               true,
		"Logins without MFA":                   true,
	},
	"user-monitoring": {
		"Geo Location of All Users":                 true,
		"Administrative Activities Over Time":       false,
		"Top 10 Activities by Administrative Users": false,
		"Top 10 Users": true,
		"Launched and Terminated Instances by User": true,
		"Recent Activity by Administrative Users":   false,
	},
	"network-and-security": {
		"Authorization Failures from All Countries":       true,
		"Recent Authorization Failures":                   true,
		"Authorization Failures Over Time":                true,
		"Network and Security Events Over Time":           true,
		"Recent Security Group and Network ACL Changes":   true,
		"Network ACL with All Allowed Ingress/Egress":     true,
		"Created and Deleted Network and Security Events": true,
		"Short Lived Critical Operations":                 false,
	},
	"operations": {
		"Action Events":                        true,
		"Requested AWS Services Over Time":     true,
		"Events by AWS Region":                 true,
		"Recent Elastic IP Address Operations": false,
		"Created Resources Over Time":          true,
		"Deleted Resources Over Time":          true,
	},
	"s3-public-objects-and-buckets": {
		"New Public Objects":                  false,
		"New Public Objects by Object-Bucket": false,
		"New Public Objects Table":            false,
		"Public Buckets":                      true,
		"Public Buckets Table":                true,
		"Modified Public Objects":             false,
		"Modified Public Objects-Bucket":      false,
		"Modified Public Objects Table":       false,
	},
}

var dashboardOrder = []string{"overview", "console-logins", "user-monitoring", "network-and-security", "operations", "s3-public-objects-and-buckets"}

// TestCloudTrailAppOnDataSets is the acceptance test of the CloudTrail app
// on real data: the CloudTrail data sets of shared/data imported into an
// embedded engine with a long retention, the app installed, every panel
// of the six dashboards run over a range covering the data. No panel may
// fail; the panels whose events occur in the data must show them. It
// prints the table of panels and what they return (go test -v -run
// TestCloudTrailAppOnDataSets ./apps). The data sets are every CloudTrail
// data set there: the Stratus samples, OTRF's ec2_proxy_s3_exfiltration,
// Panther's rule tests, and OTRF's AWS_S3_HoneyBucketLogs.csv (S3 data
// events of a public honey bucket kept as CSV rows, turned back into
// CloudTrail records: anonymous HeadBucket and ListObjects calls, and
// PutObject without an ACL, so no new public object).
func TestCloudTrailAppOnDataSets(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the CloudTrail data acceptance test in -short mode")
	}
	events, counts := cloudTrailDatasets(t)
	e := newEnv(t, writeGeoDB(t, dataGeoNetworks))
	e.add(t, "aws/cloudtrail", events)
	ctx := context.Background()
	rep, err := e.inst.Install(ctx, e.admin, "aws-cloudtrail", map[string]string{"category": "aws/cloudtrail"})
	if err != nil {
		t.Fatal(err)
	}
	ds := installedDashboards(t, e, rep)
	if len(ds) != 6 {
		t.Fatalf("installed %d dashboards, want 6", len(ds))
	}
	req := dashboards.RunRequest{
		TimeRange:         dashboards.TimeRange{From: "2015-01-01T00:00:00Z", To: time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)},
		IgnorePanelRanges: true,
	}
	var table strings.Builder
	fmt.Fprintf(&table, "CloudTrail data sets: %d events (stratus %d, OTRF %d, OTRF honey bucket %d, Panther %d)\n", len(events), counts["stratus"], counts["otrf"], counts["honeybucket"], counts["panther"])
	total := 0
	for _, key := range dashboardOrder {
		d := ds[key]
		if d == nil {
			t.Fatalf("no dashboard %s", key)
		}
		expect := cloudTrailDataExpect[key]
		fmt.Fprintf(&table, "\n%s\n", d.Title)
		for i, r := range runDashboard(t, e, d, req) {
			total++
			p := d.Panels[i]
			fmt.Fprintf(&table, "  %-48s %-13s %s\n", p.Title, p.Visualization.Type, summary(r))
			if r.Status != "ok" {
				t.Errorf("%s / %s: %s: %s\nquery:\n%s", d.Title, p.Title, r.Error.Code, r.Error.Message, r.Query)
				continue
			}
			want, ok := expect[p.Title]
			if !ok {
				t.Errorf("%s / %s: not in the expected list", d.Title, p.Title)
			}
			has := hasEvents(r)
			if want && !has {
				t.Errorf("%s / %s: no rows, but its events occur in the data\nquery:\n%s", d.Title, p.Title, r.Query)
			}
			if key == "overview" && p.Title == "Top 10 Users" && len(find(r, map[string]string{"user": "AWSAccount"})) == 0 {
				t.Errorf("%s / %s: the honey bucket's callers (userIdentity.type AWSAccount) are missing: %v", d.Title, p.Title, firstRows(r, 10))
			}
			if !want && has {
				t.Errorf("%s / %s: %d rows, expected none (update the expected list if the data changed)", d.Title, p.Title, r.RowCount)
			}
		}
	}
	if total != 44 {
		t.Errorf("%d panels, want 44", total)
	}
	t.Logf("\n%s", table.String())
}
