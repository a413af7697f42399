package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
	"github.com/dohyo/dohyo/client/clienttest"
)

// runCmd executes a freshly built command with args and stdin, returning
// its stdout, stderr and error.
func runCmd(t *testing.T, cmd *cobra.Command, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// newFakeServer starts a fake dohyo server and returns it with the flags
// that reach it.
func newFakeServer(t *testing.T) (*clienttest.Server, []string) {
	t.Helper()
	srv := clienttest.NewServer("id-1", "key-1")
	t.Cleanup(srv.Close)
	return srv, []string{"--api", srv.URL, "--access-id", "id-1", "--access-key", "key-1"}
}

// withEnv replaces the environment seen by the commands.
func withEnv(t *testing.T, env map[string]string) {
	t.Helper()
	old := cfGetenv
	cfGetenv = func(k string) string { return env[k] }
	t.Cleanup(func() { cfGetenv = old })
}

// createSource makes a source on the fake and returns its receiver URL.
func createSource(t *testing.T, srv *clienttest.Server, name string) (string, string) {
	t.Helper()
	c, err := client.New(srv.URL, "id-1", "key-1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CreateSource(context.Background(), client.SourceSpec{Name: name, Category: "test/" + name})
	if err != nil {
		t.Fatal(err)
	}
	return s.URL, s.ID
}

func TestAPIFlagsResolution(t *testing.T) {
	srv, _ := newFakeServer(t)
	withEnv(t, map[string]string{client.EnvAPIURL: srv.URL, client.EnvAccessID: "id-1", client.EnvAccessKey: "key-1"})
	out, _, err := runCmd(t, newSourceCmd(), "", "list", "--credentials", "/nonexistent/creds")
	if err != nil {
		t.Fatalf("env credentials: %v", err)
	}
	if !strings.Contains(out, "No sources yet") {
		t.Errorf("output %q", out)
	}
	// Flags beat the environment: a wrong key from the flags fails.
	_, _, err = runCmd(t, newSourceCmd(), "", "list", "--access-id", "id-1", "--access-key", "wrong")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("flags did not win over the environment: %v", err)
	}
	withEnv(t, nil)
	_, _, err = runCmd(t, newSourceCmd(), "", "list", "--api", srv.URL, "--credentials", "/nonexistent/creds")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/creds") {
		t.Errorf("missing explicit credentials file: %v", err)
	}
}

func TestUploadFlagsValidation(t *testing.T) {
	withEnv(t, nil)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"x.log"}, "--url is required"},
		{[]string{"--url", "http://h/receiver/v1/http/t", "--concurrency", "0", "x.log"}, "--concurrency"},
		{[]string{"--url", "http://h/receiver/v1/http/t", "--batch-bytes", "-1", "x.log"}, "--batch-bytes"},
		{[]string{"--url", "http://h/receiver/v1/http/t", "--fields", "novalue", "x.log"}, "--fields"},
	} {
		_, _, err := runCmd(t, newIngestCmd(), "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := cfCount(n); got != want {
			t.Errorf("cfCount(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{12: "12 B", 1500: "1.5 kB", 2_500_000: "2.5 MB", 3_210_000_000: "3.21 GB"} {
		if got := cfBytes(n); got != want {
			t.Errorf("cfBytes(%d) = %q, want %q", n, got, want)
		}
	}
	if cfPlural(1, "batch", "batches") != "1 batch" || cfPlural(2, "batch", "batches") != "2 batches" {
		t.Error("cfPlural")
	}
	var b bytes.Buffer
	n := cfReportRejections(&b, []client.Rejection{
		{Status: 413, Code: "payload.too.large", Message: "body over 10 MiB", Events: 1, Sample: "AAAA"},
		{Status: 400, Code: "body.invalid", Message: "line 3: not UTF-8", Events: 5},
		{Status: 413, Code: "payload.too.large", Message: "body over 10 MiB", Events: 1},
	})
	if n != 7 || !strings.Contains(b.String(), "2 batches (2 events) — 413 Request Entity Too Large (payload.too.large): body over 10 MiB") ||
		!strings.Contains(b.String(), `"AAAA"`) {
		t.Errorf("report (%d events):\n%s", n, b.String())
	}
	if cfIsTerminal(io.Discard) || cfIsTerminal(&b) {
		t.Error("a buffer is not a terminal")
	}
}
