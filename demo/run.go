package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dohyo/dohyo/client"
)

// Config configures Run. Zero values mean the defaults.
type Config struct {
	// APIURL, AccessID and AccessKey reach the dohyo API (sources are
	// created through it; events go to the receiver URLs it returns).
	APIURL, AccessID, AccessKey string

	// Backfill is how far back history is generated on the first run
	// (default 7 days). It also bounds the gap filled after a restart.
	// Negative: no backfill and no gap filling.
	Backfill time.Duration
	// BackfillEvents is about how many events the backfill holds (default
	// 1,000,000, plus the suspicious activity). Gaps are filled at the same
	// density.
	BackfillEvents int
	// LiveRate is the live traffic in events per second (default 20).
	// Negative: Run returns after the backfill.
	LiveRate float64
	// SuspiciousEvery is the period of the live suspicious bursts (default
	// 5 minutes); each burst is the next scenario in Scenarios.
	SuspiciousEvery time.Duration

	// StateFile remembers, between runs, up to when events have been
	// delivered. Empty: no memory, every run backfills.
	StateFile string
	// Out receives progress lines (default: discarded).
	Out io.Writer

	// Seed fixes the generated data (default 1).
	Seed uint64
	// Concurrency is the requests in flight per uploader (default 2; there
	// is one uploader per host: 3 web, 2 app, 1 CloudTrail).
	Concurrency int
	// HTTPClient is used for the API and the receivers (default: the
	// client package's).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time

	// tick is the live generation period (tests shorten it).
	tick time.Duration
	// progressEvery is the period of progress lines.
	progressEvery time.Duration
}

// Source names and categories of the demo.
const (
	CategoryWeb        = "demo/web/access"
	CategoryApp        = "demo/app/payments"
	CategoryCloudTrail = "aws/cloudtrail"
)

var demoSources = []struct {
	stream Stream
	spec   client.SourceSpec
}{
	{StreamWeb, client.SourceSpec{Name: "demo-web", Category: CategoryWeb, Multiline: client.MultilineOff, Fields: map[string]string{"env": "demo"}}},
	{StreamApp, client.SourceSpec{Name: "demo-payments", Category: CategoryApp, Multiline: client.MultilineAuto, Fields: map[string]string{"env": "demo"}}},
	{StreamCloudTrail, client.SourceSpec{Name: "demo-cloudtrail", Category: CategoryCloudTrail, Multiline: client.MultilineOff}},
}

// state is what the StateFile holds.
type state struct {
	Version int `json:"version"`
	// CoveredUntil: every event before it has been delivered.
	CoveredUntil time.Time         `json:"coveredUntil"`
	Seed         uint64            `json:"seed"`
	Sources      map[string]string `json:"sources,omitempty"` // category -> source id
	UpdatedAt    time.Time         `json:"updatedAt"`
}

// Run feeds a dohyo server with demo traffic through its real ingest path:
//
//  1. It creates three HTTP sources through the API, or reuses them (found
//     by name and category; their token is regenerated to learn the
//     receiver URL, which revokes the previous one): demo/web/access
//     (Apache access logs of web-1..web-3), demo/app/payments (a Java
//     service's logs with multi-line stack traces; multiline auto) and
//     aws/cloudtrail (CloudTrail records, one JSON object per line).
//  2. It backfills history: cfg.BackfillEvents events over the last
//     cfg.Backfill, suspicious activity spread over it (about one of each
//     scenario per day) and one of each within the last hour. With a
//     StateFile from an earlier run it instead fills the gap since that run
//     (at most cfg.Backfill, same density).
//  3. It generates live traffic at cfg.LiveRate events per second, with a
//     burst of suspicious activity every cfg.SuspiciousEvery, until ctx is
//     cancelled.
//
// Events go through client.Uploader (batching, gzip, retries). Progress
// lines go to cfg.Out. The state file is updated as data is delivered. Run
// returns nil when ctx is cancelled and what was generated has been
// delivered (or after the backfill when LiveRate is negative).
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	out := cfg.Out
	c, err := client.New(cfg.APIURL, cfg.AccessID, cfg.AccessKey, client.WithHTTPClient(cfg.HTTPClient), client.WithUserAgent("dohyo-demo"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	st, err := loadState(cfg.StateFile)
	if err != nil {
		return err
	}
	urls, ids, err := ensureSources(ctx, c, out)
	if err != nil {
		return err
	}
	st.Sources, st.Seed = ids, cfg.Seed

	s := newSender(cfg, urls)
	defer s.abort()
	g := NewGenerator(cfg.Seed)

	// Backfill, or fill the gap since the last run.
	now := cfg.Now()
	if cfg.Backfill > 0 {
		start := now.Add(-cfg.Backfill)
		first := st.CoveredUntil.IsZero()
		if !first && st.CoveredUntil.After(start) {
			start = st.CoveredUntil
		}
		if start.Before(now) {
			n := int(float64(cfg.BackfillEvents) * float64(now.Sub(start)) / float64(cfg.Backfill))
			what := "backfill"
			if !first {
				what = "gap fill"
			}
			fmt.Fprintf(out, "demo: %s %s → %s UTC: about %s events\n", what, start.UTC().Format("2006-01-02 15:04"), now.UTC().Format("2006-01-02 15:04"), count(int64(n)))
			opt := RangeOptions{Incidents: true, RecentWave: now.Sub(start) >= 6*time.Hour}
			if err := s.history(ctx, g, start, now, n, opt, &st, what); err != nil {
				return s.finish(ctx, err)
			}
		}
	}
	if err := s.flush(ctx); err != nil {
		return s.finish(ctx, err)
	}
	st.CoveredUntil = now
	if err := saveState(cfg.StateFile, &st); err != nil {
		return s.finish(ctx, err)
	}
	if cfg.LiveRate < 0 {
		return s.finish(ctx, nil)
	}
	fmt.Fprintf(out, "demo: live traffic at %g events/s, a suspicious burst every %s, the first in %s (until stopped)\n", cfg.LiveRate, cfg.SuspiciousEvery, min(time.Minute, cfg.SuspiciousEvery))
	return s.finish(ctx, s.live(ctx, g, now, &st))
}

func (cfg *Config) defaults() {
	if cfg.Backfill == 0 {
		cfg.Backfill = 7 * 24 * time.Hour
	}
	if cfg.BackfillEvents <= 0 {
		cfg.BackfillEvents = 1_000_000
	}
	if cfg.LiveRate == 0 {
		cfg.LiveRate = 20
	}
	if cfg.SuspiciousEvery <= 0 {
		cfg.SuspiciousEvery = 5 * time.Minute
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.tick <= 0 {
		cfg.tick = time.Second
	}
	if cfg.progressEvery <= 0 {
		cfg.progressEvery = 5 * time.Second
	}
}

// ensureSources creates the demo sources or takes over existing ones.
func ensureSources(ctx context.Context, c *client.Client, out io.Writer) (map[Stream]string, map[string]string, error) {
	existing, err := c.ListSources(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	urls := map[Stream]string{}
	ids := map[string]string{}
	for _, d := range demoSources {
		var src *client.Source
		for i := range existing {
			e := &existing[i]
			if e.Name == d.spec.Name && e.Category == d.spec.Category {
				if src, err = c.RegenerateToken(ctx, e.ID); err != nil {
					return nil, nil, fmt.Errorf("demo: reuse source %s: %w", d.spec.Category, err)
				}
				fmt.Fprintf(out, "demo: reusing source %s (id %s, new token)\n", d.spec.Category, src.ID)
				break
			}
		}
		if src == nil {
			if src, err = c.CreateSource(ctx, d.spec); err != nil {
				return nil, nil, fmt.Errorf("demo: %w", err)
			}
			fmt.Fprintf(out, "demo: created source %s (id %s)\n", d.spec.Category, src.ID)
		}
		if src.URL == "" {
			return nil, nil, fmt.Errorf("demo: source %s (id %s): the server returned no receiver URL", d.spec.Category, src.ID)
		}
		urls[d.stream] = src.URL
		ids[d.spec.Category] = src.ID
	}
	return urls, ids, nil
}

// sender routes events to one uploader per stream and host.
type sender struct {
	cfg  Config
	urls map[Stream]string
	mu   sync.Mutex
	ups  map[string]*client.Uploader
	err  error // first uploader creation error
}

func newSender(cfg Config, urls map[Stream]string) *sender {
	return &sender{cfg: cfg, urls: urls, ups: map[string]*client.Uploader{}}
}

func (s *sender) uploader(ev Event) (*client.Uploader, error) {
	key := ev.Stream.String() + "/" + ev.Host
	s.mu.Lock()
	defer s.mu.Unlock()
	if up := s.ups[key]; up != nil {
		return up, nil
	}
	out := s.cfg.Out
	up, err := client.NewUploader(client.UploaderConfig{
		URL:           s.urls[ev.Stream],
		Host:          ev.Host,
		Concurrency:   s.cfg.Concurrency,
		MaxAttempts:   20, // ride out long back-pressure during a big backfill
		FlushInterval: 2 * time.Second,
		HTTPClient:    s.cfg.HTTPClient,
		UserAgent:     "dohyo-demo",
		OnRejected: func(r client.Rejection) {
			fmt.Fprintf(out, "demo: %s: a batch of %d events was rejected: %s\n", key, r.Events, r.Reason())
		},
	})
	if err != nil {
		return nil, fmt.Errorf("demo: uploader for %s: %w", key, err)
	}
	s.ups[key] = up
	return up, nil
}

func (s *sender) add(ctx context.Context, ev Event) error {
	up, err := s.uploader(ev)
	if err != nil {
		return err
	}
	return up.AddString(ctx, ev.Raw)
}

func (s *sender) stats() client.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t client.Stats
	for _, up := range s.ups {
		st := up.Stats()
		t.Added += st.Added
		t.Events += st.Events
		t.Bytes += st.Bytes
		t.WireBytes += st.WireBytes
		t.Requests += st.Requests
		t.Retries += st.Retries
		t.Rejected += st.Rejected
		t.RejectedEvents += st.RejectedEvents
		t.FailedEvents += st.FailedEvents
	}
	return t
}

func (s *sender) all() []*client.Uploader {
	s.mu.Lock()
	defer s.mu.Unlock()
	ups := make([]*client.Uploader, 0, len(s.ups))
	for _, up := range s.ups {
		ups = append(ups, up)
	}
	return ups
}

// flush waits until everything added has been delivered or rejected.
func (s *sender) flush(ctx context.Context) error {
	for _, up := range s.all() {
		if err := up.Flush(ctx); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}

// finish closes the uploaders (giving them a few seconds after ctx is
// cancelled) and returns the outcome: err, or nil for a cancellation.
func (s *sender) finish(ctx context.Context, err error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	var closeErr error
	for _, up := range s.all() {
		if cerr := up.Close(cctx); cerr != nil && closeErr == nil {
			closeErr = fmt.Errorf("demo: %w", cerr)
		}
	}
	t := s.stats()
	fmt.Fprintf(s.cfg.Out, "demo: stopped: %s events delivered (%s), %s rejected, %s not delivered\n",
		count(t.Events), bytesStr(t.Bytes), count(t.RejectedEvents), count(t.FailedEvents))
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		err = nil // stopped by the caller: the normal end
	}
	if err == nil {
		err = closeErr
	}
	return err
}

// abort stops the uploaders at once (deferred safety net).
func (s *sender) abort() {
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, up := range s.all() {
		_ = up.Close(cctx)
	}
}

// history sends a generated time range, saving the state at checkpoints.
func (s *sender) history(ctx context.Context, g *Generator, from, to time.Time, n int, opt RangeOptions, st *state, what string) error {
	const checkpointEvery = 6 * time.Hour
	nextCheckpoint := from.Add(checkpointEvery)
	started := time.Now()
	lastReport := started
	var generated int64
	err := g.Range(from, to, n, opt, func(ev Event) error {
		if !ev.Time.Before(nextCheckpoint) {
			if err := s.flush(ctx); err != nil {
				return err
			}
			st.CoveredUntil = nextCheckpoint
			if err := saveState(s.cfg.StateFile, st); err != nil {
				return err
			}
			for !ev.Time.Before(nextCheckpoint) {
				nextCheckpoint = nextCheckpoint.Add(checkpointEvery)
			}
		}
		if err := s.add(ctx, ev); err != nil {
			return err
		}
		generated++
		if now := time.Now(); now.Sub(lastReport) >= s.cfg.progressEvery {
			lastReport = now
			t := s.stats()
			el := now.Sub(started).Seconds()
			pct := 100 * float64(ev.Time.Sub(from)) / float64(to.Sub(from))
			fmt.Fprintf(s.cfg.Out, "demo: %s %3.0f%% (at %s): %s events generated, %s delivered, %s events/s, %s/s\n",
				what, pct, ev.Time.UTC().Format("2006-01-02 15:04"), count(generated), count(t.Events),
				count(int64(float64(t.Events)/el)), bytesStr(int64(float64(t.Bytes)/el)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.flush(ctx); err != nil {
		return err
	}
	t := s.stats()
	fmt.Fprintf(s.cfg.Out, "demo: %s done: %s events delivered in %s\n", what, count(t.Events), time.Since(started).Round(time.Second))
	return nil
}

// live generates traffic until ctx is cancelled.
func (s *sender) live(ctx context.Context, g *Generator, from time.Time, st *state) error {
	tick := time.NewTicker(s.cfg.tick)
	defer tick.Stop()
	last := from
	// The first burst comes a minute after the live traffic starts (then
	// one every SuspiciousEvery), so that detections fire early.
	lastBurst := from.Add(min(time.Minute, s.cfg.SuspiciousEvery) - s.cfg.SuspiciousEvery)
	lastSave := time.Now()
	lastReport := time.Now()
	scenario := 0
	carry := 0.0
	for {
		select {
		case <-ctx.Done():
			// Save what has been delivered up to the last complete tick.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
			err := s.flush(fctx)
			cancel()
			if err == nil {
				st.CoveredUntil = last
				if serr := saveState(s.cfg.StateFile, st); serr != nil {
					return serr
				}
			}
			return ctx.Err()
		case <-tick.C:
		}
		now := s.cfg.Now()
		if !now.After(last) {
			continue
		}
		want := s.cfg.LiveRate*now.Sub(last).Seconds() + carry
		n := int(want)
		carry = want - float64(n)
		err := g.Range(last, now, n, RangeOptions{}, func(ev Event) error { return s.add(ctx, ev) })
		if err == nil && now.Sub(lastBurst) >= s.cfg.SuspiciousEvery {
			kind := Scenarios[scenario%len(Scenarios)]
			scenario++
			lastBurst = now
			var evs []Event
			if evs, err = g.Incident(kind, now); err == nil {
				for _, ev := range evs {
					if err = s.add(ctx, ev); err != nil {
						break
					}
				}
				fmt.Fprintf(s.cfg.Out, "demo: suspicious burst: %s (%d events)\n", kind, len(evs))
				// Send the burst at once (the uploaders batch), for the
				// detections to see it within their evaluation delay.
				if err == nil {
					err = s.flush(ctx)
				}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				continue // report through the ctx.Done branch
			}
			return err
		}
		last = now
		if time.Since(lastSave) >= 30*time.Second {
			lastSave = time.Now()
			if err := s.flush(ctx); err != nil {
				if ctx.Err() != nil {
					continue
				}
				return err
			}
			st.CoveredUntil = last
			if err := saveState(s.cfg.StateFile, st); err != nil {
				return err
			}
		}
		if time.Since(lastReport) >= 12*s.cfg.progressEvery {
			lastReport = time.Now()
			t := s.stats()
			fmt.Fprintf(s.cfg.Out, "demo: live: %s events delivered in total, %s retries, %s rejected\n", count(t.Events), count(t.Retries), count(t.RejectedEvents))
		}
	}
}

func loadState(path string) (state, error) {
	st := state{Version: 1}
	if path == "" {
		return st, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("demo: state file: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("demo: state file %s: %w (delete it to start over)", path, err)
	}
	return st, nil
}

func saveState(path string, st *state) error {
	if path == "" {
		return nil
	}
	st.Version = 1
	st.UpdatedAt = time.Now().UTC()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("demo: state: %w", err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("demo: state file: %w", err)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("demo: state file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("demo: state file: %w", err)
	}
	return nil
}

func count(n int64) string {
	s := fmt.Sprint(n)
	var b []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

func bytesStr(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
