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
	"github.com/dohyo/dohyo/search"
)

// newLookupAPI serves the real API over a fresh catalog on loopback and
// returns the flags that reach it as the admin.
func newLookupAPI(t *testing.T) (*catalog.Catalog, []string) {
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
	mux := http.NewServeMux()
	api.New(api.Config{Catalog: cat, Search: mgr, Logger: quiet}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return cat, []string{"--api", srv.URL, "--access-id", "ADMIN-ID-0001", "--access-key", "admin-key-0123456789abcdef"}
}

func TestLookupCommands(t *testing.T) {
	withEnv(t, nil)
	cat, apiFlags := newLookupAPI(t)
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "admins.csv")
	os.WriteFile(csvPath, []byte("user,role,level\nalice,admin,3\nbob,dev,x\n"), 0o644)

	out, errOut, err := runCmd(t, newLookupCmd(), "", append([]string{"create", "shared/admins", "--key", "user", "--fields", "user:string,role,level:long", "--file", csvPath}, apiFlags...)...)
	if err != nil {
		t.Fatalf("create: %v\n%s", err, errOut)
	}
	for _, want := range []string{"Created lookup table /shared/admins (id ", "key user", "Read 2 rows, wrote 1; the table holds 1 rows",
		`Skipped 1 rows whose values do not suit the column types (lines 3); first: line 3: value "x" of column level is not a long`,
		`| lookup <column> from path://"/shared/admins" on <field>=user`} {
		if !strings.Contains(out, want) {
			t.Errorf("create output lacks %q:\n%s", want, out)
		}
	}
	_, _, err = runCmd(t, newLookupCmd(), "", append([]string{"create", "x"}, apiFlags...)...)
	if err == nil || !strings.Contains(err.Error(), "--key is required") {
		t.Errorf("create without --key: %v", err)
	}

	// Merge from standard input, by name in another spelling.
	out, _, err = runCmd(t, newLookupCmd(), "user,role,level\ncarol,ops,2\n", append([]string{"upload", "/SHARED/admins/", "-", "--merge"}, apiFlags...)...)
	if err != nil || !strings.Contains(out, "the table holds 2 rows") {
		t.Errorf("upload --merge: %v\n%s", err, out)
	}
	_, _, err = runCmd(t, newLookupCmd(), "user,role\nx\n", append([]string{"upload", "/shared/admins", "-"}, apiFlags...)...)
	if err == nil || !strings.Contains(err.Error(), "line 2: 1 fields, but the header has 2") {
		t.Errorf("bad upload: %v", err)
	}
	_, _, err = runCmd(t, newLookupCmd(), "a\n", append([]string{"upload", "/nope", "-"}, apiFlags...)...)
	if err == nil || !strings.Contains(err.Error(), `no lookup table named "/nope"`) {
		t.Errorf("upload to an unknown table: %v", err)
	}

	out, _, err = runCmd(t, newLookupCmd(), "", append([]string{"list"}, apiFlags...)...)
	if err != nil || !strings.Contains(out, "NAME") || !strings.Contains(out, "/shared/admins") || !strings.Contains(out, "user:string,role:string,level:long") {
		t.Errorf("list: %v\n%s", err, out)
	}
	out, _, err = runCmd(t, newLookupCmd(), "", append([]string{"list", "--json"}, apiFlags...)...)
	var list []struct {
		ID       string
		RowCount int64
	}
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].RowCount != 2 {
		t.Errorf("list --json: %v\n%s", err, out)
	}

	// Delete by id.
	out, _, err = runCmd(t, newLookupCmd(), "", append([]string{"delete", list[0].ID}, apiFlags...)...)
	if err != nil || !strings.Contains(out, "Deleted lookup table /shared/admins") {
		t.Errorf("delete: %v\n%s", err, out)
	}
	if all, _ := cat.ListLookups(context.Background()); len(all) != 0 {
		t.Errorf("tables left: %+v", all)
	}
}
