package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/internal/units"
	"github.com/dohyo/dohyo/server"
	"github.com/dohyo/dohyo/wal"
)

// serveFlags are the server's command-line settings, shared by serve and demo.
type serveFlags struct {
	dataDir, listen, publicURL, tlsCert, tlsKey string
	retention, fsync                            string
	maxBody, maxDecompressed, maxLine           string
	maxInflight, maxWALLag, minFreeDisk         string
	engineMemory, syncInterval, flushInterval   string
	handoffWait                                 string
	logLevel, logFormat                         string
	cpuProfile                                  string
	gcPercent, memoryLimit                      string
	searchTimeout                               string
	maxGroups, maxSearches                      int
	geoipDB, maxLookupSize                      string
	monitors, smtpAllowPlain                    bool
	monitorCatchUp                              int

	// changed reports whether a flag was given on the command line.
	changed func(name string) bool
	// gc is what config parsed from --gc-percent and --memory-limit;
	// applyGC puts it into effect.
	gc gcSettings
}

func (f *serveFlags) register(cmd *cobra.Command, defaultDataDir string) {
	def := server.DefaultConfig()
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "data folder (catalog, WAL, engine)")
	fl.StringVar(&f.listen, "listen", def.Listen, "address to listen on (host:port; port 0 picks a free one)")
	fl.StringVar(&f.publicURL, "public-url", "", "base URL clients reach this server at (default: from each request's Host)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file (PEM); serve HTTPS with --tls-key")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fl.StringVar(&f.retention, "retention", "30d", "how long data is kept (e.g. 7d, 30d, 52w)")
	fl.StringVar(&f.fsync, "fsync", "always", `WAL fsync policy: "always" (fsync before acknowledging) or an interval such as "100ms" (acknowledge after write, fsync periodically)`)
	fl.StringVar(&f.maxBody, "max-body", "16MiB", "largest request body on the wire (compressed)")
	fl.StringVar(&f.maxDecompressed, "max-decompressed", "64MiB", "largest request body after decompression")
	fl.StringVar(&f.maxLine, "max-line", "1MiB", "largest single event")
	fl.StringVar(&f.maxInflight, "max-inflight", "256MiB", "memory held by requests in flight at once (bytes read, decoded bodies, parsed events and their WAL encoding); a request that would go over it is refused with 429")
	fl.StringVar(&f.maxWALLag, "max-wal-lag", "1GiB", "how far the engine may fall behind the WAL before ingest answers 429")
	fl.StringVar(&f.minFreeDisk, "min-free-disk", "1GiB", "free space floor of the data folder; below it ingest answers 429")
	fl.StringVar(&f.engineMemory, "engine-memory", "0", "cap on the storage engine's caches (0 = 60% of RAM)")
	fl.StringVar(&f.flushInterval, "engine-flush-interval", def.EngineFlushInterval.String(), "how long the storage engine keeps new data in memory (searchable) before writing it to disk, at least 1s; longer means fewer, larger writes and less merge work, for more memory (the WAL keeps the data safe meanwhile)")
	fl.StringVar(&f.handoffWait, "wal-handoff-wait", def.HandoffWait.String(), "when the engine is just behind ingest, how long a request may wait for it before being acknowledged from the WAL alone (its events are then read back from disk and decoded again, which costs CPU the engine could use); 0 never waits")
	fl.StringVar(&f.syncInterval, "engine-sync-interval", "15s", "spacing of the engine's durability barriers (each forces its in-memory data to disk, which costs merge work); the WAL keeps the data of the last two intervals and replays it after a crash")
	fl.StringVar(&f.geoipDB, "geoip-db", "", "MaxMind-format City database for geo lookup (GeoLite2-City.mmdb or DB-IP's dbip-city-lite.mmdb; default $DOHYO_GEOIP_DB); without one, queries using geo lookup fail")
	fl.StringVar(&f.maxLookupSize, "max-lookup-size", "100MiB", "size limit of one lookup table")
	fl.StringVar(&f.searchTimeout, "search-timeout", "5m", "time budget of one search; a search that runs out of it stops with partial results and an error saying so")
	fl.IntVar(&f.maxGroups, "max-groups", def.Search.MaxGroups, "most groups an aggregate (count by ...) may produce; a query producing more stops with an error naming this limit")
	fl.IntVar(&f.maxSearches, "max-concurrent-searches", def.Search.MaxRunning, "searches running at once; more wait in line (state NOT STARTED)")
	fl.BoolVar(&f.monitors, "monitors", true, "evaluate monitors and send their notifications (--monitors=false keeps them defined but idle)")
	fl.IntVar(&f.monitorCatchUp, "monitor-max-catch-up", 10, "most windows of one monitor evaluated after a downtime; older ones are skipped and the skip recorded in its history")
	fl.BoolVar(&f.smtpAllowPlain, "smtp-allow-plain", false, "allow email notifications without TLS to SMTP servers other than loopback ones")
	fl.StringVar(&f.gcPercent, "gc-percent", strconv.Itoa(defaultGCPercent), "Go garbage collector target: the heap may grow by this percentage of the live heap before a collection (higher = less CPU spent collecting, more memory), or \"off\" to collect only at --memory-limit; the GOGC environment variable is used when this flag is not given")
	fl.StringVar(&f.memoryLimit, "memory-limit", defaultMemoryLimit, "soft limit on the memory of the Go runtime (heap, stacks; not the storage engine's zstd buffers), at which the garbage collector runs whatever --gc-percent says (0 = none); the GOMEMLIMIT environment variable is used when this flag is not given")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fl.StringVar(&f.cpuProfile, "cpu-profile", "", "write a CPU profile of the whole run to this file, and its allocation and lock contention profiles to the file + \".allocs\" and \".mutex\" (for performance work)")
	fl.MarkHidden("cpu-profile")
	f.changed = fl.Changed
}

// config turns the flags into a server configuration.
func (f *serveFlags) config(stderr io.Writer) (server.Config, error) {
	cfg := server.DefaultConfig()
	cfg.DataDir, cfg.Listen, cfg.PublicURL = f.dataDir, f.listen, f.publicURL
	cfg.TLSCert, cfg.TLSKey = f.tlsCert, f.tlsKey
	var err error
	if cfg.Retention, err = units.ParseDuration(f.retention); err != nil {
		return cfg, fmt.Errorf("--retention: %w", err)
	}
	if cfg.Fsync, err = wal.ParseFsyncPolicy(f.fsync); err != nil {
		return cfg, fmt.Errorf("--fsync: %w", err)
	}
	sizes := []struct {
		flag, val string
		dst       *int64
	}{
		{"--max-body", f.maxBody, &cfg.Limits.MaxBodyBytes},
		{"--max-decompressed", f.maxDecompressed, &cfg.Limits.MaxDecompressedBytes},
		{"--max-inflight", f.maxInflight, &cfg.MaxInflightBytes},
		{"--max-wal-lag", f.maxWALLag, &cfg.MaxWALLag},
		{"--min-free-disk", f.minFreeDisk, &cfg.MinFreeDisk},
		{"--engine-memory", f.engineMemory, &cfg.EngineMemory},
	}
	for _, s := range sizes {
		if *s.dst, err = units.ParseBytes(s.val); err != nil {
			return cfg, fmt.Errorf("%s: %w", s.flag, err)
		}
	}
	if cfg.Search.MaxRuntime, err = units.ParseDuration(f.searchTimeout); err != nil || cfg.Search.MaxRuntime <= 0 {
		return cfg, fmt.Errorf("--search-timeout %q: want a positive duration (e.g. 30s, 5m)", f.searchTimeout)
	}
	if f.maxGroups <= 0 || f.maxSearches <= 0 {
		return cfg, fmt.Errorf("--max-groups and --max-concurrent-searches must be positive")
	}
	cfg.Search.MaxGroups, cfg.Search.MaxRunning = f.maxGroups, f.maxSearches
	if cfg.SyncInterval, err = units.ParseDuration(f.syncInterval); err != nil || cfg.SyncInterval <= 0 {
		return cfg, fmt.Errorf("--engine-sync-interval %q: want a positive duration", f.syncInterval)
	}
	if cfg.EngineFlushInterval, err = units.ParseDuration(f.flushInterval); err != nil || cfg.EngineFlushInterval < time.Second {
		return cfg, fmt.Errorf("--engine-flush-interval %q: want a duration of at least 1s (the engine's minimum)", f.flushInterval)
	}
	if cfg.HandoffWait, err = units.ParseDuration(f.handoffWait); err != nil || cfg.HandoffWait < 0 {
		return cfg, fmt.Errorf("--wal-handoff-wait %q: want a duration (0 never waits)", f.handoffWait)
	}
	line, err := units.ParseBytes(f.maxLine)
	if err != nil {
		return cfg, fmt.Errorf("--max-line: %w", err)
	}
	cfg.Limits.MaxLineBytes = int(line)
	if cfg.Limits.MaxBodyBytes <= 0 || cfg.Limits.MaxDecompressedBytes <= 0 || cfg.Limits.MaxLineBytes <= 0 {
		return cfg, fmt.Errorf("--max-body, --max-decompressed and --max-line must be positive")
	}
	if cfg.Logger, err = newLogger(stderr, f.logLevel, f.logFormat); err != nil {
		return cfg, err
	}
	if v := os.Getenv("DOHYO_BOOTSTRAP_ACCESS_KEY"); v != "" {
		id, key, ok := strings.Cut(v, ":")
		if !ok || id == "" || key == "" {
			return cfg, fmt.Errorf("DOHYO_BOOTSTRAP_ACCESS_KEY must be <access id>:<access key>")
		}
		cfg.BootstrapAccessID, cfg.BootstrapAccessKey = id, key
	}
	cfg.BootstrapAdminPassword = os.Getenv("DOHYO_ADMIN_PASSWORD")
	cfg.GeoIPDB = f.geoipDB
	if cfg.GeoIPDB == "" {
		cfg.GeoIPDB = os.Getenv("DOHYO_GEOIP_DB")
	}
	if cfg.MaxLookupTableBytes, err = units.ParseBytes(f.maxLookupSize); err != nil || cfg.MaxLookupTableBytes <= 0 {
		return cfg, fmt.Errorf("--max-lookup-size %q: want a positive size (e.g. 100MiB)", f.maxLookupSize)
	}
	if f.monitorCatchUp <= 0 {
		return cfg, fmt.Errorf("--monitor-max-catch-up %d: want a positive number of windows", f.monitorCatchUp)
	}
	cfg.Monitors = server.MonitorsConfig{Disabled: !f.monitors, MaxCatchUp: f.monitorCatchUp, AllowPlainSMTP: f.smtpAllowPlain}
	if f.gc, err = parseGCSettings(f.gcPercent, f.memoryLimit, f.changed); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// runServer starts a server and runs until SIGINT/SIGTERM or a fatal error;
// started is called once it listens.
func runServer(ctx context.Context, cfg server.Config, stdout io.Writer, started func(ctx context.Context, s *server.Server) error) error {
	slog.SetDefault(cfg.Logger)
	s, err := server.New(cfg)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		s.Shutdown(context.Background())
		return err
	}
	if cr := s.Credentials; cr != nil {
		fmt.Fprintf(stdout, "\nA new data folder: created the admin user and an access key (shown once; also in %s):\n"+
			"  access id:  %s\n  access key: %s\n  admin user: %s\n  password:   %s\n\n",
			s.CredentialsPath(), cr.AccessID, cr.AccessKey, cr.AdminName, cr.AdminPassword)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var runErr error
	if started != nil {
		go func() {
			if err := started(ctx, s); err != nil && ctx.Err() == nil {
				cfg.Logger.Error("demo traffic stopped", "err", err)
			}
		}()
	}
	select {
	case <-ctx.Done():
	case runErr = <-s.Err():
		cfg.Logger.Error("fatal", "err", runErr)
	}
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return runErr
}

func init() {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the dohyo server",
		Long: `Run the dohyo server: the Sumo Logic-compatible HTTP source receiver,
the search job API and the web UI, over one data folder.

On the first start with an empty data folder it creates an admin user and
an access key, prints them once and writes them to <data-dir>/bootstrap-credentials
(mode 0600). Set DOHYO_BOOTSTRAP_ACCESS_KEY=<id>:<key> and DOHYO_ADMIN_PASSWORD
to choose them instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			f.gc.apply()
			if f.cpuProfile != "" {
				pf, err := os.Create(f.cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpu-profile: %w", err)
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					return fmt.Errorf("--cpu-profile: %w", err)
				}
				defer pprof.StopCPUProfile()
				// The allocations of the same run, for the garbage
				// collector's share of the CPU, and the time goroutines
				// waited on each other's locks.
				runtime.SetMutexProfileFraction(10)
				defer func() {
					for _, p := range []string{"allocs", "mutex"} {
						if err := writeProfile(f.cpuProfile+"."+p, p); err != nil {
							cfg.Logger.Error("--cpu-profile", "profile", p, "err", err)
						}
					}
				}()
			}
			return runServer(cmd.Context(), cfg, cmd.OutOrStdout(), nil)
		},
	}
	f.register(cmd, "./dohyo-data")
	rootCmd.AddCommand(cmd)
}

// writeProfile writes the runtime profile name (pprof.Lookup) to path.
func writeProfile(path, name string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
