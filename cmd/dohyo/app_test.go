package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppCommands(t *testing.T) {
	withEnv(t, nil)
	cat, apiFlags := newLookupAPI(t)
	ctx := context.Background()
	app := func(args ...string) (string, error) {
		t.Helper()
		out, _, err := runCmd(t, newAppCmd(), "", append(args, apiFlags...)...)
		return out, err
	}

	out, err := app("list")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, want := range []string{"NAME", "aws-cloudtrail", "aws-vpc-flow", "aws-alb", "aws-s3-access", "aws-cloudfront", "AWS CloudTrail"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "aws-cloudtrail  1.0.0    -") {
		t.Errorf("list does not show aws-cloudtrail as not installed:\n%s", out)
	}

	out, err = app("show", "aws-cloudtrail")
	if err != nil {
		t.Fatalf("show: %v", err)
	}
	for _, want := range []string{"aws-cloudtrail 1.0.0: AWS CloudTrail", "Not installed", "category (default aws/cloudtrail) required",
		"Dashboards:", "Console Logins (", "S3 Public Objects and Buckets (", "Setup:"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if _, err := app("show", "nope"); err == nil || !strings.Contains(err.Error(), `unknown app "nope"`) {
		t.Errorf("show of an unknown app: %v", err)
	}

	// Bad --param values are refused before any request.
	for _, bad := range [][]string{{"--param", "category"}, {"--param", "=x"}, {"--param", "category=a", "--param", "category=b"}} {
		if _, err := app(append([]string{"install", "aws-cloudtrail"}, bad...)...); err == nil || !strings.Contains(err.Error(), "--param") {
			t.Errorf("install %v: %v", bad, err)
		}
	}
	if _, err := app("install", "aws-cloudtrail", "--param", "nosuch=1"); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("install with an unknown parameter: %v", err)
	}

	out, err = app("install", "aws-cloudtrail", "--param", "category=prod/cloudtrail")
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	for _, want := range []string{"Installed aws-cloudtrail 1.0.0 with category=prod/cloudtrail.", "Created:", "dashboard", "Console Logins", "lookup"} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "  dashboard "); n != 6 {
		t.Errorf("install created %d dashboards, want 6:\n%s", n, out)
	}
	inst, err := cat.GetAppInstall(ctx, "aws-cloudtrail")
	if err != nil || inst.Params["category"] != "prod/cloudtrail" {
		t.Fatalf("installation: %+v, %v", inst, err)
	}
	if _, err := app("install", "aws-cloudtrail"); err == nil || !strings.Contains(err.Error(), "already installed") {
		t.Errorf("second install: %v", err)
	}

	out, err = app("list")
	if err != nil || !strings.Contains(out, "1.0.0 (prod/cloudtrail)") {
		t.Errorf("list after install: %v\n%s", err, out)
	}
	out, err = app("show", "aws-cloudtrail")
	if err != nil || !strings.Contains(out, "Installed: version 1.0.0") || !strings.Contains(out, "category = prod/cloudtrail") {
		t.Errorf("show after install: %v\n%s", err, out)
	}

	// Upgrade re-applies with a new category, keeping the dashboards' ids.
	out, err = app("upgrade", "aws-cloudtrail", "--param", "category=aws/ct", "--json")
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	var rep struct {
		Params  map[string]string
		Updated []struct{ Kind, ID string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Params["category"] != "aws/ct" {
		t.Fatalf("upgrade --json: %v\n%s", err, out)
	}
	dash := 0
	for _, it := range rep.Updated {
		if it.Kind == "dashboard" {
			dash++
		}
	}
	if dash != 6 {
		t.Errorf("upgrade updated %d dashboards, want 6:\n%s", dash, out)
	}

	out, err = app("uninstall", "aws-cloudtrail")
	if err != nil || !strings.Contains(out, "Uninstalled aws-cloudtrail 1.0.0.") || !strings.Contains(out, "Removed:") {
		t.Errorf("uninstall: %v\n%s", err, out)
	}
	if _, err := cat.GetAppInstall(ctx, "aws-cloudtrail"); err == nil {
		t.Errorf("still installed after uninstall")
	}
	if _, err := app("uninstall", "aws-cloudtrail"); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("second uninstall: %v", err)
	}
}

func TestSumoImportCommand(t *testing.T) {
	withEnv(t, nil)
	_, apiFlags := newLookupAPI(t)
	export := filepath.Join("..", "..", "sumoimport", "testdata", "classic-folder.json")
	sumo := func(stdin string, args ...string) (string, error) {
		t.Helper()
		out, _, err := runCmd(t, newSumoCmd(), stdin, append(append([]string{"import"}, args...), apiFlags...)...)
		return out, err
	}

	out, err := sumo("", export, "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	for _, want := range []string{"Would create 3 items (dry run: nothing was created):", `dashboard (classic) "Web Operations/Storefront Health"`,
		"Not imported (7):", `operator "transactionize" is not supported yet`, "(query line ", "query: _sourceCategory=",
		"metrics panels are not supported"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, ", id ") || strings.Contains(out, "/: ") {
		t.Errorf("a dry run printed ids:\n%s", out)
	}

	// The newer dashboard format: panels, queries, layout and variables.
	out, err = sumo("", filepath.Join("..", "..", "sumoimport", "testdata", "new-dashboard.json"), "--dry-run")
	if err != nil || !strings.Contains(out, "dashboard (new) ") || !strings.Contains(out, " variables") || !strings.Contains(out, `variable "`) {
		t.Errorf("new format: %v\n%s", err, out)
	}

	data, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	out, err = sumo(string(data), "-")
	if err != nil {
		t.Fatalf("import from stdin: %v", err)
	}
	if !strings.Contains(out, "Created 3 items:") || !strings.Contains(out, `"Web Operations/Storefront Health": `) || !strings.Contains(out, ", id ") {
		t.Errorf("import output:\n%s", out)
	}

	_, _, err = runCmd(t, newSumoCmd(), "", append([]string{"import", filepath.Join(t.TempDir(), "missing.json")}, apiFlags...)...)
	if err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := sumo("not json", "-"); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("not JSON: %v", err)
	}
	// An item of another kind is reported, not an error.
	out, err = sumo(`{"type":"Nope"}`, "-")
	if err != nil || !strings.Contains(out, "Created 0 items:") || !strings.Contains(out, "  Nope: content type Nope is not supported") {
		t.Errorf("unsupported item: %v\n%s", err, out)
	}
}
