package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSourceCommands(t *testing.T) {
	withEnv(t, nil)
	srv, api := newFakeServer(t)

	out, _, err := runCmd(t, newSourceCmd(), "", append([]string{"create"}, append(api, "--name", "web", "--category", "prod/web/access", "--host", "web-1", "--fields", "env=prod", "--multiline", "off")...)...)
	if err != nil {
		t.Fatal(err)
	}
	srcs := srv.Sources()
	if len(srcs) != 1 || srcs[0].Host != "web-1" || srcs[0].Fields["env"] != "prod" || srcs[0].Multiline != "off" {
		t.Fatalf("sources %+v", srcs)
	}
	id := srcs[0].ID
	if !strings.Contains(out, "Receiver URL") || !strings.Contains(out, srv.URL+"/receiver/v1/http/dhs_") || !strings.Contains(out, "dohyo ingest --url") {
		t.Errorf("create output:\n%s", out)
	}

	out, _, err = runCmd(t, newSourceCmd(), "", append([]string{"list"}, api...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ID") || !strings.Contains(out, id) || !strings.Contains(out, "prod/web/access") || !strings.Contains(out, "env=prod") || strings.Contains(out, "dhs_") {
		t.Errorf("list output:\n%s", out)
	}

	out, _, err = runCmd(t, newSourceCmd(), "", append([]string{"token", id, "--json"}, api...)...)
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ ID, URL, Token string }
	if err := json.Unmarshal([]byte(out), &s); err != nil || s.ID != id || !strings.HasSuffix(s.URL, "/"+s.Token) {
		t.Errorf("token --json %q: %v", out, err)
	}

	out, _, err = runCmd(t, newSourceCmd(), "", append([]string{"delete", id}, api...)...)
	if err != nil || !strings.Contains(out, "Deleted source "+id) {
		t.Errorf("delete: %q %v", out, err)
	}
	_, _, err = runCmd(t, newSourceCmd(), "", append([]string{"delete", id}, api...)...)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("second delete: %v", err)
	}
	_, _, err = runCmd(t, newSourceCmd(), "", append([]string{"create", "--name", "x"}, api...)...)
	if err == nil || !strings.Contains(err.Error(), "--category") {
		t.Errorf("create without category: %v", err)
	}
}
