package apps_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/dashboards"
)

// awsSampleApps maps each AWS log app to its sample files in
// shared/data/aws_misc_samples_elastic_integrations, and the panels that
// must stay empty on them (every other panel must show rows).
var awsSampleApps = []struct {
	app, category string
	files         []string
	empty         map[string]string // panel title → why it is empty
}{
	{"aws-vpc-flow", "aws/vpc/flowlogs", []string{"vpcflow_v2_extra_samples.log", "vpcflow_v5_all_fields.log"}, nil},
	{"aws-alb", "aws/elb/alb", []string{"elb_alb_nlb_samples.log"}, map[string]string{
		"5xx Errors": "no sample request got a 5xx answer",
	}},
	{"aws-s3-access", "aws/s3/access", []string{"s3_server_access_samples.log"}, map[string]string{
		"Anonymous Requests": "every sample request is signed",
		"Errors":             "no sample request failed",
	}},
	{"aws-cloudfront", "aws/cloudfront", []string{"cloudfront_standard_samples.log"}, nil},
}

// TestAWSLogAppsOnSamples installs each AWS log app over the AWS sample
// logs of shared/data and runs its overview dashboard: no panel may fail,
// and the panels whose data the samples hold must show it (so every
// query parses its format). It prints what each panel returns.
func TestAWSLogAppsOnSamples(t *testing.T) {
	root := filepath.Join(sharedData(t), "aws_misc_samples_elastic_integrations")
	for _, a := range awsSampleApps {
		t.Run(a.app, func(t *testing.T) {
			e := newEnv(t, writeGeoDB(t, map[string]string{
				"89.160.20.0/24": "SE", "81.2.69.0/24": "GB", "67.43.156.0/24": "SG", "78.24.182.0/24": "RU",
				"2a02:cf40::/32": "NL", "175.16.199.0/24": "CN", "216.160.83.0/24": "US",
			}))
			for _, f := range a.files {
				data, err := os.ReadFile(filepath.Join(root, f))
				if err != nil {
					t.Fatal(err)
				}
				e.add(t, a.category, parse(t, data))
			}
			rep, err := e.inst.Install(context.Background(), e.admin, a.app, map[string]string{"category": a.category})
			if err != nil {
				t.Fatal(err)
			}
			ds := installedDashboards(t, e, rep)
			d := ds["overview"]
			if d == nil {
				t.Fatalf("no overview dashboard")
			}
			req := dashboards.RunRequest{
				TimeRange:         dashboards.TimeRange{From: "2000-01-01T00:00:00Z", To: time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)},
				IgnorePanelRanges: true,
			}
			var table strings.Builder
			fmt.Fprintf(&table, "\n%s (%s)\n", d.Title, strings.Join(a.files, ", "))
			for i, r := range runDashboard(t, e, d, req) {
				p := d.Panels[i]
				fmt.Fprintf(&table, "  %-40s %-13s %s\n", p.Title, p.Visualization.Type, summary(r))
				if r.Status != "ok" {
					t.Errorf("%s: %s: %s\nquery:\n%s", p.Title, r.Error.Code, r.Error.Message, r.Query)
					continue
				}
				_, wantEmpty := a.empty[p.Title]
				if has := hasEvents(r); has == wantEmpty {
					t.Errorf("%s: shows events: %v, want %v\nquery:\n%s", p.Title, has, !wantEmpty, r.Query)
				}
			}
			t.Log(table.String())
		})
	}
}
