package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dohyo/dohyo/api"
	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/monitors"
	"github.com/dohyo/dohyo/search"
)

// newMonitorAPI serves the real API with a monitors service (which never
// evaluates here) and returns the flags that reach it as the admin.
func newMonitorAPI(t *testing.T) (*monitors.Service, []string) {
	t.Helper()
	ctx := context.Background()
	cat, err := catalog.Open(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	if _, err := cat.Bootstrap(ctx, catalog.BootstrapOptions{AdminPassword: "admin-password", AccessID: "ADMIN-ID-0001", AccessKey: "admin-key-0123456789abcdef"}); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := search.NewManager(nil, search.Config{Logger: quiet})
	t.Cleanup(mgr.Close)
	svc := monitors.New(monitors.Config{Catalog: cat, Logger: quiet})
	mux := http.NewServeMux()
	api.New(api.Config{Catalog: cat, Search: mgr, Logger: quiet, Monitors: svc}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return svc, []string{"--api", srv.URL, "--access-id", "ADMIN-ID-0001", "--access-key", "admin-key-0123456789abcdef"}
}

func TestMonitorCommands(t *testing.T) {
	withEnv(t, nil)
	svc, apiFlags := newMonitorAPI(t)
	dir := t.TempDir()
	def := filepath.Join(dir, "m.json")
	os.WriteFile(def, []byte(`{"name":"Root use","query":"_sourceCategory=aws/cloudtrail root","frequency":"1m","window":"5m",
		"triggers":{"critical":{"op":">","threshold":0}}}`), 0o644)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"name":"ok","query":"x","triggers":{"critical":{"op":">","threshold":0}}},{"name":"b","query":"x | count by","triggers":{}}]`), 0o644)

	run := func(stdin string, args ...string) (string, error) {
		t.Helper()
		out, _, err := runCmd(t, newMonitorCmd(), stdin, append(args, apiFlags...)...)
		return out, err
	}
	out, err := run("", "create", "-f", def, "--dry-run")
	if err != nil || !strings.Contains(out, "Valid: Root use") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	_, err = run("", "create", "-f", bad)
	if err == nil || !strings.Contains(err.Error(), "monitor 2") || !strings.Contains(err.Error(), "triggers") {
		t.Fatalf("bad file: %v", err)
	}
	out, err = run("", "create", "-f", def)
	if err != nil || !strings.Contains(out, "Created monitor Root use (id ") || !strings.Contains(out, "disabled") {
		t.Fatalf("create: %v\n%s", err, out)
	}
	out, err = run("", "enable", "root use")
	if err != nil || !strings.Contains(out, "Enabled monitor Root use") {
		t.Fatalf("enable: %v\n%s", err, out)
	}
	out, err = run("", "mute", "Root use", "--for", "2h")
	if err != nil || !strings.Contains(out, "Muted monitor Root use until ") {
		t.Fatalf("mute: %v\n%s", err, out)
	}
	_, err = run("", "mute", "Root use", "--for", "never")
	if err == nil || !strings.Contains(err.Error(), "--for") {
		t.Fatalf("mute --for never: %v", err)
	}
	out, err = run("", "list")
	if err != nil || !strings.Contains(out, "Root use") || !strings.Contains(out, "muted") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = run("", "get", "Root use")
	if err != nil || !strings.Contains(out, "Schedule:  every 1m over the last 5m") || !strings.Contains(out, "_sourceCategory=aws/cloudtrail root") {
		t.Fatalf("get: %v\n%s", err, out)
	}
	out, err = run("", "history", "Root use")
	if err != nil || !strings.Contains(out, "muted") || !strings.Contains(out, "enabled") {
		t.Fatalf("history: %v\n%s", err, out)
	}
	_, err = run("", "get", "nope")
	if err == nil || !strings.Contains(err.Error(), `no monitor with the id or name "nope"`) {
		t.Fatalf("get nope: %v", err)
	}

	// An app's detections, enabled at once.
	p := &catalog.Principal{UserName: "admin", Role: catalog.RoleAdmin}
	for _, n := range []string{"d1", "d2"} {
		d := json.RawMessage(`{"name":"` + n + `","query":"_sourceCategory=aws/cloudtrail","triggers":{"critical":{"op":">","threshold":0}}}`)
		if _, _, err := svc.CreateMonitor(context.Background(), p, d, "aws-cloudtrail", "1.0.0"); err != nil {
			t.Fatal(err)
		}
	}
	out, err = run("", "enable", "--app", "aws-cloudtrail")
	if err != nil || !strings.Contains(out, "Enabled 2 of the 2 monitors of app aws-cloudtrail.") {
		t.Fatalf("enable --app: %v\n%s", err, out)
	}
	_, err = run("", "enable")
	if err == nil || !strings.Contains(err.Error(), "give monitor ids or names, or --app") {
		t.Fatalf("enable without args: %v", err)
	}
	out, err = run("", "delete", "Root use")
	if err != nil || !strings.Contains(out, "Deleted monitor Root use") {
		t.Fatalf("delete: %v\n%s", err, out)
	}
}

func TestSigmaImportCommand(t *testing.T) {
	withEnv(t, nil)
	svc, apiFlags := newMonitorAPI(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "stop.yml"), []byte(`title: CloudTrail stopped
id: 11111111-1111-1111-1111-111111111111
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventSource: cloudtrail.amazonaws.com
    eventName: [StopLogging, DeleteTrail]
  condition: sel
level: high
`), 0o644)
	os.WriteFile(filepath.Join(dir, "win.yml"), []byte(`title: Windows thing
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4625}
  condition: sel
`), 0o644)
	out, _, err := runCmd(t, newSigmaCmd(), "", "import", dir, "--dry-run")
	if err != nil || !strings.Contains(out, "converted      CloudTrail stopped") || !strings.Contains(out, "not converted  Windows thing") ||
		!strings.Contains(out, "2 rules: 1 converted, 1 not.") || !strings.Contains(out, "the log source is not AWS CloudTrail") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if l, _ := svc.List(context.Background(), ""); len(l) != 0 {
		t.Fatal("dry run created monitors")
	}
	out, _, err = runCmd(t, newSigmaCmd(), "", append([]string{"import", dir}, apiFlags...)...)
	if err != nil || !strings.Contains(out, "created        CloudTrail stopped → monitor ") || !strings.Contains(out, "1 monitors created") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	l, _ := svc.List(context.Background(), "")
	if len(l) != 1 || l[0].Enabled || !strings.Contains(l[0].Query, `"stoplogging"`) {
		t.Fatalf("created: %d, %+v", len(l), l[0])
	}
}

func TestThreatCommands(t *testing.T) {
	withEnv(t, nil)
	_, apiFlags := newMonitorAPI(t)
	out, _, err := runCmd(t, newThreatCmd(), "indicator,actor\n198.51.100.7,X\n", append([]string{"import", "-", "--name", "bad-ips"}, apiFlags...)...)
	if err != nil || !strings.Contains(out, "Imported 1 indicators (csv) into the threat list bad-ips (lookup table /threatintel/bad-ips).") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	_, _, err = runCmd(t, newThreatCmd(), "indicator\nnope nope\n", append([]string{"import", "-", "--name", "bad-ips"}, apiFlags...)...)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad import: %v", err)
	}
	_, _, err = runCmd(t, newThreatCmd(), "", append([]string{"import", "x.csv"}, apiFlags...)...)
	if err == nil || !strings.Contains(err.Error(), "--name is required") {
		t.Fatalf("no name: %v", err)
	}
	out, _, err = runCmd(t, newThreatCmd(), "", append([]string{"list"}, apiFlags...)...)
	if err != nil || !strings.Contains(out, "bad-ips") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, _, err = runCmd(t, newThreatCmd(), "", append([]string{"delete", "bad-ips"}, apiFlags...)...)
	if err != nil || !strings.Contains(out, "Deleted the threat list bad-ips.") {
		t.Fatalf("delete: %v\n%s", err, out)
	}
}

func TestMonitorTargetCommands(t *testing.T) {
	withEnv(t, nil)
	_, apiFlags := newMonitorAPI(t)
	got := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got++ }))
	defer hook.Close()
	run := func(stdin string, args ...string) (string, error) {
		t.Helper()
		out, _, err := runCmd(t, newMonitorCmd(), stdin, append(append([]string{"target"}, args...), apiFlags...)...)
		return out, err
	}
	out, err := run(`{"name":"hook","type":"webhook","webhook":{"url":"`+hook.URL+`"}}`, "create", "-f", "-")
	if err != nil || !strings.Contains(out, "Created notification target hook (webhook, id ") {
		t.Fatalf("create: %v\n%s", err, out)
	}
	_, err = run(`{"name":"x","type":"pager"}`, "create", "-f", "-")
	if err == nil || !strings.Contains(err.Error(), "want webhook, slack or email") {
		t.Fatalf("bad type: %v", err)
	}
	out, err = run("", "test", "hook")
	if err != nil || !strings.Contains(out, "Delivered a test notification to hook") || got != 1 {
		t.Fatalf("test: %v, %d received\n%s", err, got, out)
	}
	out, err = run("", "list")
	if err != nil || !strings.Contains(out, "webhook  hook") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err = run("", "delete", "hook"); err != nil || !strings.Contains(out, "Deleted notification target hook") {
		t.Fatalf("delete: %v\n%s", err, out)
	}
}
