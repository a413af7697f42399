package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dohyo/dohyo/client"
	"github.com/dohyo/dohyo/demo"
	"github.com/dohyo/dohyo/geoip"
	"github.com/dohyo/dohyo/server"
)

func TestDemoGeoIP(t *testing.T) {
	// Never the real registry: an address nothing listens on.
	dead := httptest.NewServer(nil)
	dead.Close()
	old := demoGeoRegistry
	demoGeoRegistry = dead.URL
	t.Cleanup(func() { demoGeoRegistry = old })
	ctx := context.Background()

	// A configured database is kept.
	cfg := server.Config{DataDir: t.TempDir(), GeoIPDB: "/x/city.mmdb"}
	var out bytes.Buffer
	demoGeoIP(ctx, &cfg, true, &out)
	if cfg.GeoIPDB != "/x/city.mmdb" || out.Len() != 0 {
		t.Errorf("configured: %q, %q", cfg.GeoIPDB, out.String())
	}

	// --geoip-fetch=false: the demo's own database, no warning.
	cfg = server.Config{DataDir: t.TempDir()}
	out.Reset()
	demoGeoIP(ctx, &cfg, false, &out)
	if want := filepath.Join(cfg.DataDir, "geoip", "demo-city.mmdb"); cfg.GeoIPDB != want || strings.Contains(out.String(), "warning") {
		t.Errorf("no fetch: %q (want %q), %q", cfg.GeoIPDB, want, out.String())
	}
	db, err := geoip.Open(cfg.GeoIPDB)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	// The fetch fails: a warning, and the demo's own database.
	cfg = server.Config{DataDir: t.TempDir()}
	out.Reset()
	demoGeoIP(ctx, &cfg, true, &out)
	if cfg.GeoIPDB != filepath.Join(cfg.DataDir, "geoip", "demo-city.mmdb") ||
		!strings.Contains(out.String(), "demo: warning: fetch GeoIP database: ") || !strings.Contains(out.String(), "--geoip-db FILE.mmdb") {
		t.Errorf("failed fetch: %q, %q", cfg.GeoIPDB, out.String())
	}

	// A database fetched by an earlier run is reused without the registry.
	cfg = server.Config{DataDir: t.TempDir()}
	for _, f := range geoip.DBIPFiles {
		if err := demo.WriteGeoDB(filepath.Join(cfg.DataDir, "geoip", f)); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	demoGeoIP(ctx, &cfg, true, &out)
	want, _ := geoip.DBIPPaths(filepath.Join(cfg.DataDir, "geoip"))
	if cfg.GeoIPDB != want || !strings.Contains(out.String(), "DB-IP City Lite") || strings.Contains(out.String(), "warning") {
		t.Errorf("reuse: %q (want %q), %q", cfg.GeoIPDB, want, out.String())
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "geoip", "demo-city.mmdb")); err == nil {
		t.Errorf("the demo database was written although DB-IP's is there")
	}
}

func TestDemoApps(t *testing.T) {
	withEnv(t, nil)
	cat, flags := newLookupAPI(t)
	creds := client.Credentials{AccessID: flags[3], AccessKey: flags[5]}
	var out bytes.Buffer
	if err := demoApps(context.Background(), flags[1], creds, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "demo: app aws-cloudtrail 1.0.0 installed on aws/cloudtrail: 6 dashboards") {
		t.Errorf("first run: %q", out.String())
	}
	inst, err := cat.GetAppInstall(context.Background(), "aws-cloudtrail")
	if err != nil || inst.Params["category"] != demo.CategoryCloudTrail {
		t.Fatalf("installation: %+v %v", inst, err)
	}
	// The administrators table lists the demo's administrators.
	tab, err := cat.GetLookupByName(context.Background(), demoAdminsTable)
	if err != nil || tab.RowCount != int64(len(demo.AdminUsers())) || !strings.Contains(out.String(), "listed the demo's administrators (alice.nguyen, ") {
		t.Errorf("admin_users: %+v %v\n%s", tab, err, out.String())
	}
	// A later run keeps it.
	out.Reset()
	if err := demoApps(context.Background(), flags[1], creds, &out); err != nil || !strings.Contains(out.String(), "demo: app aws-cloudtrail 1.0.0 is installed (on aws/cloudtrail)") ||
		strings.Contains(out.String(), "listed") {
		t.Errorf("second run: %v %q", err, out.String())
	}
	// A server that refuses: an error saying which app.
	if err := demoApps(context.Background(), flags[1], client.Credentials{AccessID: "nope", AccessKey: "nope"}, &out); err == nil || !strings.Contains(err.Error(), "app aws-cloudtrail is not installed") {
		t.Errorf("bad credentials: %v", err)
	}
}
