package apps_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dohyo/dohyo/dashboards"
	"github.com/dohyo/dohyo/demo"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/search"
)

// BenchmarkDashboardOpen measures opening a dashboard of 12 panels over
// the last 7 days of demo data (what make run generates: about a million
// events of web, application and CloudTrail traffic; DOHYO_BENCH_EVENTS
// changes the number):
//
//   - dashboard-cold: the 12 panels through the dashboards service,
//     concurrently, with the result cache bypassed (NoCache): a dashboard
//     opened for the first time in a minute;
//   - dashboard-warm: the same, its results cached by an earlier open
//     (reopening it, another user opening it, a second browser tab);
//   - sequential-search: the same 12 queries one after another through
//     the search service (search.Manager.Run, what each panel calls), as
//     running them by hand in the search page would.
//
// The dashboard is the CloudTrail app's Console Logins (9 panels) and the
// first 3 panels of Network and Security, every panel over "Last 7 days"
// (panel ranges ignored). The engine's own caches are warm in every case
// (the first open, before the timings, is logged).
//
//	go test ./apps -run '^$' -bench BenchmarkDashboardOpen -benchtime 5x
func BenchmarkDashboardOpen(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("DOHYO_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("DOHYO_BENCH_EVENTS=%q: want a positive number of events", v)
		}
	}
	geo := filepath.Join(b.TempDir(), "demo-city.mmdb")
	if err := demo.WriteGeoDB(geo); err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, geo)
	t0 := time.Now()
	counts := loadDemoWeek(b, e, n)
	b.Logf("loaded 7 days of demo traffic in %s: %v", time.Since(t0).Round(time.Millisecond), counts)

	rep, err := e.inst.Install(context.Background(), e.admin, "aws-cloudtrail", map[string]string{"category": demo.CategoryCloudTrail})
	if err != nil {
		b.Fatal(err)
	}
	ds := installedDashboards(b, e, rep)
	d := twelvePanels(b, ds["console-logins"], ds["network-and-security"])
	req := dashboards.RunRequest{TimeRange: dashboards.TimeRange{From: "-7d", To: "now"}, IgnorePanelRanges: true}

	open := func(noCache bool) ([]dashboards.PanelResult, *dashboards.RunSummary) {
		r := req
		r.NoCache = noCache
		var res []dashboards.PanelResult
		sum, err := e.dash.Run(context.Background(), e.admin, d, r, func(v any) error {
			if p, ok := v.(dashboards.PanelResult); ok {
				res = append(res, p)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range res {
			if p.Status != "ok" {
				b.Fatalf("panel %s: %s %+v", p.Title, p.Status, p.Error)
			}
		}
		if sum.Panels != 12 {
			b.Fatalf("%d panels ran, want 12", sum.Panels)
		}
		return res, sum
	}
	t0 = time.Now()
	first, _ := open(true)
	var table strings.Builder
	fmt.Fprintf(&table, "first open (engine caches cold): %s\n", time.Since(t0).Round(time.Millisecond))
	sort.Slice(first, func(i, j int) bool { return first[i].ElapsedMs < first[j].ElapsedMs })
	for _, p := range first {
		fmt.Fprintf(&table, "  %-48s drawn after %5d ms, %d rows\n", p.Title, p.ElapsedMs, p.RowCount)
	}
	b.Logf("\n%s", table.String())

	// The 12 queries, as the dashboards service runs them.
	from, to := time.Now().Add(-7*24*time.Hour), time.Now()
	b.Run("dashboard-cold", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, sum := open(true); sum.CacheHits != 0 {
				b.Fatalf("cold run: %d cache hits", sum.CacheHits)
			}
		}
	})
	b.Run("dashboard-warm", func(b *testing.B) {
		open(false)
		for b.Loop() {
			if _, sum := open(false); sum.CacheHits != 12 {
				b.Fatalf("warm run: %d cache hits of 12", sum.CacheHits)
			}
		}
	})
	b.Run("sequential-search", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			for _, p := range d.Panels {
				if _, err := e.mgr.Run(context.Background(), e.admin, search.Request{Query: p.Query, From: from, To: to}, search.RunOptions{Limit: 1000, NoSave: true}); err != nil {
					b.Fatalf("%s: %v", p.Title, err)
				}
			}
		}
	})
}

// cpuPerOp reports the process's CPU time per operation (cpu-s/op) and
// how many cores that kept busy on average (cores): queries that already
// use every core gain nothing from running concurrently.
func cpuPerOp(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	c0, t0 := cpu(), time.Now()
	return func() {
		c, t := cpu()-c0, time.Since(t0)
		b.ReportMetric(c.Seconds()/float64(b.N), "cpu-s/op")
		b.ReportMetric(c.Seconds()/t.Seconds(), "cores")
	}
}

// twelvePanels makes one dashboard of a's panels and the first panels of
// c, 12 in all, with distinct queries.
func twelvePanels(b *testing.B, a, c *dashboards.Dashboard) *dashboards.Dashboard {
	b.Helper()
	d := &dashboards.Dashboard{Title: "Benchmark: 12 panels", TimeRange: dashboards.TimeRange{From: "-7d", To: "now"}}
	seen := map[string]bool{}
	for _, src := range [][]dashboards.Panel{a.Panels, c.Panels} {
		for _, p := range src {
			if len(d.Panels) == 12 || seen[p.Query] {
				continue
			}
			seen[p.Query] = true
			p.ID = fmt.Sprintf("b%d", len(d.Panels)+1)
			p.Layout = dashboards.Layout{X: len(d.Panels) % 3 * 4, Y: len(d.Panels) / 3 * 4, W: 4, H: 4}
			d.Panels = append(d.Panels, p)
		}
	}
	if len(d.Panels) != 12 {
		b.Fatalf("%d distinct panels, want 12", len(d.Panels))
	}
	dashboards.Normalize(d)
	if err := dashboards.Validate(d); err != nil {
		b.Fatal(err)
	}
	return d
}

// loadDemoWeek stores about n events of the demo's traffic over the last 7
// days (all three streams, incidents included, as dohyo demo's backfill)
// and returns the events stored per category.
func loadDemoWeek(b *testing.B, e *env, n int) map[string]int {
	b.Helper()
	cats := map[demo.Stream]string{demo.StreamWeb: demo.CategoryWeb, demo.StreamApp: demo.CategoryApp, demo.StreamCloudTrail: demo.CategoryCloudTrail}
	raws := map[demo.Stream][][]byte{}
	counts := map[string]int{}
	flush := func(s demo.Stream) {
		if len(raws[s]) == 0 {
			return
		}
		opt := ingest.Options{Multiline: ingest.MultilineOff}
		if s == demo.StreamApp {
			opt.Multiline = ingest.MultilineAuto
		}
		evs, _, err := ingest.Parse(bytes.Join(raws[s], []byte("\n")), opt, ingest.DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		e.add(b, cats[s], evs)
		counts[cats[s]] += len(evs)
		raws[s] = raws[s][:0]
	}
	now := time.Now()
	err := demo.NewGenerator(1).Range(now.Add(-7*24*time.Hour), now, n, demo.RangeOptions{Incidents: true, RecentWave: true}, func(ev demo.Event) error {
		raws[ev.Stream] = append(raws[ev.Stream], []byte(ev.Raw))
		if len(raws[ev.Stream]) == 20000 {
			flush(ev.Stream)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for s := range cats {
		flush(s)
	}
	return counts
}
