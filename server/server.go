// Package server assembles dohyo's parts into one running server: the
// catalog, the WAL and its applier, the storage engine, the HTTP source
// receiver, the search job manager and the HTTP API, all under one data
// folder.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/dohyo/dohyo/api"
	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/geoip"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/ingest/httpsource"
	"github.com/dohyo/dohyo/monitors"
	"github.com/dohyo/dohyo/search"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
	"github.com/dohyo/dohyo/wal"
	"github.com/dohyo/dohyo/web"
)

// Config configures a server. Zero values take the defaults of
// DefaultConfig.
type Config struct {
	DataDir   string
	Listen    string
	PublicURL string
	TLSCert   string
	TLSKey    string

	Retention time.Duration
	Fsync     wal.FsyncPolicy
	Limits    ingest.Limits
	// MaxInflightBytes bounds the memory requests hold at once (bodies,
	// parsed events, WAL encoding).
	MaxInflightBytes int64
	// MaxWALLag is how far (bytes) the engine may fall behind the WAL before
	// receivers answer 429.
	MaxWALLag int64
	// MinFreeDisk is the free-space floor of the data folder below which
	// receivers answer 429; the engine crashes the process when the disk
	// fills, so it must leave real headroom.
	MinFreeDisk int64
	// EngineMemory caps the engine's caches (bytes); 0 = engine default.
	EngineMemory int64
	// SyncInterval spaces the engine durability barriers.
	SyncInterval time.Duration
	// EngineFlushInterval is how long the engine keeps new rows in memory
	// before writing them to disk (embedded.Config.FlushInterval).
	EngineFlushInterval time.Duration
	// HandoffWait is how long a request may wait, when the engine is just
	// behind, for its batch to be handed to the engine in memory rather
	// than read back from the WAL (wal.Options.HandoffWait); 0 never waits.
	HandoffWait time.Duration
	// ShutdownTimeout bounds the drain on SIGTERM.
	ShutdownTimeout time.Duration
	Search          search.Config
	// GeoIPDB is the MaxMind-format City database (GeoLite2-City.mmdb,
	// dbip-city-lite.mmdb) behind geo lookup; empty means none, and
	// queries using geo lookup fail saying how to configure one.
	GeoIPDB string
	// MaxLookupTableBytes is the size limit of a lookup table; 0 means
	// catalog.DefaultMaxLookupTableBytes (100 MB).
	MaxLookupTableBytes int64
	// Monitors configures the evaluation of monitors.
	Monitors MonitorsConfig

	// Bootstrap credentials for a new data folder; empty values are
	// generated (DOHYO_BOOTSTRAP_ACCESS_KEY, DOHYO_ADMIN_PASSWORD).
	BootstrapAccessID, BootstrapAccessKey, BootstrapAdminPassword string

	Logger *slog.Logger
}

// MonitorsConfig configures the monitors' scheduler and notifier.
type MonitorsConfig struct {
	// Disabled keeps monitors from being evaluated (they can still be
	// managed).
	Disabled bool
	// MaxCatchUp bounds the windows evaluated per monitor after a
	// downtime (0: monitors.Config's default).
	MaxCatchUp int
	// Concurrency bounds the monitors evaluated at once (0: default).
	Concurrency int
	// AllowPlainSMTP permits email without TLS to non-loopback hosts.
	AllowPlainSMTP bool
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		DataDir:             "./dohyo-data",
		Listen:              "127.0.0.1:9300",
		Retention:           30 * 24 * time.Hour,
		Fsync:               wal.FsyncPolicy{Always: true},
		Limits:              ingest.DefaultLimits(),
		MaxInflightBytes:    256 << 20,
		MaxWALLag:           1 << 30,
		MinFreeDisk:         1 << 30,
		SyncInterval:        15 * time.Second,
		EngineFlushInterval: embedded.DefaultFlushInterval,
		HandoffWait:         time.Second,
		ShutdownTimeout:     30 * time.Second,
		Search:              search.DefaultConfig(),
	}
}

// Server is a running dohyo.
type Server struct {
	cfg     Config
	log     *slog.Logger
	lock    *os.File
	catalog *catalog.Catalog
	store   store.Store
	wal     *wal.WAL
	applier *wal.Applier
	recv    *httpsource.Receiver
	search  *search.Manager
	http    *http.Server
	ln      net.Listener
	metrics *metrics.Set
	geoip   *geoip.DB // nil when none is configured
	// monitors evaluates monitors and sends their notifications.
	monitors *monitors.Service

	diskFree atomic.Int64
	closing  atomic.Bool
	runErr   chan error
	bg       sync.WaitGroup
	stopBg   context.CancelFunc

	// Credentials is set when this start bootstrapped a new data folder.
	Credentials *catalog.Credentials
}

// New opens the data folder and prepares every part; Start serves.
func New(cfg Config) (_ *Server, err error) {
	def := DefaultConfig()
	if cfg.DataDir == "" {
		cfg.DataDir = def.DataDir
	}
	if cfg.Listen == "" {
		cfg.Listen = def.Listen
	}
	if cfg.Retention <= 0 {
		cfg.Retention = def.Retention
	}
	if !cfg.Fsync.Always && cfg.Fsync.Interval <= 0 {
		cfg.Fsync = def.Fsync
	}
	if cfg.Limits == (ingest.Limits{}) {
		cfg.Limits = def.Limits
	}
	if cfg.MaxInflightBytes <= 0 {
		cfg.MaxInflightBytes = def.MaxInflightBytes
	}
	if cfg.MaxWALLag <= 0 {
		cfg.MaxWALLag = def.MaxWALLag
	}
	if cfg.MinFreeDisk < 0 {
		cfg.MinFreeDisk = 0
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = def.SyncInterval
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = def.ShutdownTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: metrics.NewSet(), runErr: make(chan error, 2)}
	defer func() {
		if err != nil {
			s.closeParts()
		}
	}()

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	if s.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if s.catalog, err = catalog.Open(ctx, filepath.Join(cfg.DataDir, "catalog.db")); err != nil {
		return nil, err
	}
	if err := s.bootstrap(ctx); err != nil {
		return nil, err
	}
	if err := s.updateDiskFree(); err != nil {
		return nil, err
	}
	if s.store, err = embedded.Open(filepath.Join(cfg.DataDir, "engine"), embedded.Config{
		Retention:        cfg.Retention,
		MemoryLimit:      cfg.EngineMemory,
		FlushInterval:    cfg.EngineFlushInterval,
		MinFreeDiskSpace: cfg.MinFreeDisk / 2,
		Logger:           cfg.Logger,
	}); err != nil {
		return nil, err
	}
	if s.wal, err = wal.Open(wal.Options{Dir: filepath.Join(cfg.DataDir, "wal"), Fsync: cfg.Fsync, HandoffWait: cfg.HandoffWait, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	s.applier = wal.NewApplier(wal.ApplierOptions{
		WAL: s.wal, Store: s.store, SyncInterval: cfg.SyncInterval, Logger: cfg.Logger,
		OnApplied: s.onApplied,
	})
	s.recv = httpsource.New(httpsource.Config{
		Limits:           cfg.Limits,
		MaxInflightBytes: cfg.MaxInflightBytes,
		Logger:           cfg.Logger,
		Metrics:          &httpsource.Metrics{Set: s.metrics},
	}, s.wal, s.catalog, s.admit)
	sc := cfg.Search
	sc.Logger, sc.Metrics = cfg.Logger, s.metrics
	if sc.Env, err = s.queryEnv(); err != nil {
		return nil, err
	}
	s.search = search.NewManager(s.store, sc)
	s.monitors = monitors.New(monitors.Config{
		Catalog: s.catalog,
		Runner:  &monitors.EngineRunner{Store: s.store, Env: sc.Env, MaxGroups: sc.MaxGroups, Timeout: sc.MaxRuntime},
		Logger:  cfg.Logger, BaseURL: cfg.PublicURL,
		MaxCatchUp: cfg.Monitors.MaxCatchUp, Concurrency: cfg.Monitors.Concurrency,
		Delivery: monitors.DeliveryConfig{AllowPlainSMTP: cfg.Monitors.AllowPlainSMTP},
	})
	s.registerGauges()

	mux := http.NewServeMux()
	s.recv.Routes(mux)
	api.New(api.Config{Catalog: s.catalog, Search: s.search, PublicURL: cfg.PublicURL, Logger: cfg.Logger, GeoIP: s.geoip, Monitors: s.monitors}).Routes(mux)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	// The web UI, with its security headers; client routes fall back to
	// index.html.
	mux.Handle("/", web.Handler())
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	// Streamed searches hold their request open until they finish: cancel
	// every search as soon as the drain begins so that they end (with an
	// error event saying the server shuts down) instead of holding it up.
	s.http.RegisterOnShutdown(s.search.Close)
	return s, nil
}

// bootstrap creates the first admin on an empty catalog and writes the
// credentials file.
func (s *Server) bootstrap(ctx context.Context) error {
	cr, err := s.catalog.Bootstrap(ctx, catalog.BootstrapOptions{
		AccessID: s.cfg.BootstrapAccessID, AccessKey: s.cfg.BootstrapAccessKey, AdminPassword: s.cfg.BootstrapAdminPassword,
	})
	if err != nil {
		return fmt.Errorf("bootstrap the first admin: %w", err)
	}
	if cr == nil {
		return nil
	}
	s.Credentials = cr
	return nil
}

// WriteCredentials writes the bootstrap credentials file (mode 0600) once
// the server knows its URL.
func (s *Server) writeCredentials() error {
	cr := s.Credentials
	if cr == nil {
		return nil
	}
	path := filepath.Join(s.cfg.DataDir, "bootstrap-credentials")
	body := fmt.Sprintf("# dohyo bootstrap credentials, created %s. Keep this file secret.\n"+
		"DOHYO_API_URL=%s\nDOHYO_ACCESS_ID=%s\nDOHYO_ACCESS_KEY=%s\nDOHYO_ADMIN_USER=%s\nDOHYO_ADMIN_PASSWORD=%s\n",
		time.Now().UTC().Format(time.RFC3339), s.URL(), cr.AccessID, cr.AccessKey, cr.AdminName, cr.AdminPassword)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CredentialsPath is where the bootstrap credentials are written.
func (s *Server) CredentialsPath() string {
	return filepath.Join(s.cfg.DataDir, "bootstrap-credentials")
}

// Start listens and serves in the background; Wait returns when the server
// fails, Shutdown stops it.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	if s.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.ln = ln
	if err := s.writeCredentials(); err != nil {
		ln.Close()
		return err
	}
	// Tests listen on port 0 and read the real address here.
	if err := os.WriteFile(filepath.Join(s.cfg.DataDir, "server.addr"), []byte(s.URL()+"\n"), 0o644); err != nil {
		ln.Close()
		return fmt.Errorf("write server address: %w", err)
	}

	bgCtx, cancel := context.WithCancel(context.Background())
	s.stopBg = cancel
	s.bg.Add(2)
	go func() {
		defer s.bg.Done()
		if err := s.applier.Run(bgCtx); err != nil {
			s.runErr <- fmt.Errorf("WAL applier: %w", err)
		}
	}()
	go func() {
		defer s.bg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-bgCtx.Done():
				return
			case <-t.C:
				if err := s.updateDiskFree(); err != nil {
					s.log.Warn("cannot read free disk space", "err", err)
				}
			}
		}
	}()
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.runErr <- fmt.Errorf("HTTP server: %w", err)
		}
	}()
	s.monitors.SetBaseURL(s.URL())
	if !s.cfg.Monitors.Disabled {
		s.monitors.Start()
	}
	s.log.Info("dohyo is listening", "url", s.URL(), "data", s.cfg.DataDir)
	return nil
}

// URL is the base URL the server listens at.
func (s *Server) URL() string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if s.cfg.TLSCert != "" {
		scheme = "https"
	}
	addr := s.cfg.Listen
	if s.ln != nil {
		addr = s.ln.Addr().String()
	}
	return scheme + "://" + addr
}

// Ready is closed once the WAL replay is done and searches see all data.
func (s *Server) Ready() <-chan struct{} { return s.applier.Ready() }

// Err returns a channel that delivers a fatal background error.
func (s *Server) Err() <-chan error { return s.runErr }

// Shutdown stops accepting data, drains in-flight requests, applies and
// persists everything in the WAL and closes the data folder.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.closing.CompareAndSwap(false, true) {
		return nil
	}
	s.log.Info("shutting down: draining requests and flushing data")
	s.recv.SetClosing()
	var errs []error
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("drain HTTP requests: %w", err))
	}
	// Monitors read the engine too: stop their evaluations (a window cut
	// short commits nothing and is evaluated at the next start) and
	// deliveries before the engine and the catalog close.
	s.monitors.Stop()
	// Searches read the engine, which Drain closes.
	s.search.Close()
	if err := s.applier.Drain(ctx); err != nil {
		errs = append(errs, fmt.Errorf("drain WAL into the engine: %w", err))
	}
	if s.stopBg != nil {
		s.stopBg()
	}
	s.bg.Wait()
	errs = append(errs, s.closeParts())
	err := errors.Join(errs...)
	if err == nil {
		s.log.Info("shutdown complete")
	}
	return err
}

// closeParts closes whatever New opened, in reverse order.
func (s *Server) closeParts() error {
	var errs []error
	if s.monitors != nil {
		s.monitors.Stop()
	}
	if s.search != nil {
		s.search.Close()
	}
	if s.wal != nil {
		if err := s.wal.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close WAL: %w", err))
		}
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close engine: %w", err))
		}
	}
	if s.catalog != nil {
		if err := s.catalog.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close catalog: %w", err))
		}
	}
	if s.geoip != nil {
		s.geoip.Close()
	}
	if s.lock != nil {
		s.lock.Close()
	}
	return errors.Join(errs...)
}

// Catalog returns the server's catalog (for in-process callers such as the
// demo).
func (s *Server) Catalog() *catalog.Catalog { return s.catalog }

// Monitors returns the server's monitors service (for in-process callers
// such as the demo).
func (s *Server) Monitors() *monitors.Service { return s.monitors }

func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "dohyo.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data folder %s is in use by another dohyo process (lock %s): %w", dir, path, err)
	}
	return f, nil
}

func (s *Server) updateDiskFree() error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.cfg.DataDir, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", s.cfg.DataDir, err)
	}
	s.diskFree.Store(int64(st.Bavail) * int64(st.Bsize))
	return nil
}

// admit is the receivers' back-pressure check.
func (s *Server) admit() *httpsource.Refusal {
	if free := s.diskFree.Load(); free < s.cfg.MinFreeDisk {
		return &httpsource.Refusal{
			Reason:     "disk_low",
			Message:    fmt.Sprintf("the server's disk is nearly full (%d MiB free, floor %d MiB); retry later", free>>20, s.cfg.MinFreeDisk>>20),
			RetryAfter: 30 * time.Second,
		}
	}
	if lag := s.wal.Stats().LagBytes; lag > s.cfg.MaxWALLag {
		return &httpsource.Refusal{
			Reason:     "wal_lag",
			Message:    fmt.Sprintf("the server is catching up (%d MiB waiting to be indexed, limit %d MiB); retry shortly", lag>>20, s.cfg.MaxWALLag>>20),
			RetryAfter: 5 * time.Second,
		}
	}
	return nil
}

func (s *Server) onApplied(b *event.Batch, skipped int) {
	if skipped > 0 {
		s.metrics.GetOrCreateCounter(`dohyo_wal_replay_skipped_events_total`).Add(skipped)
	}
	s.metrics.GetOrCreateCounter(`dohyo_wal_applied_events_total`).Add(len(b.Events) - skipped)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case s.closing.Load():
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"status":"shutting down"}`)
	default:
		select {
		case <-s.applier.Ready():
			fmt.Fprintln(w, `{"status":"ok"}`)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, `{"status":"replaying the WAL"}`)
		}
	}
}
