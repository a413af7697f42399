package query

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/demo"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/store/embedded"
)

// BenchmarkLogReduceQuery runs "* | logreduce" over about a million stored
// demo events (a week of the demo generator: web access lines, payment
// service logs with stack traces, CloudTrail records), as "make run"
// stores them: through ingest.Parse and the embedded engine. The store is
// generated once into $TMPDIR/dohyo-bench-logreduce/<key> (a minute or
// two) and reused; DOHYO_BENCH_LOGREDUCE_EVENTS changes the count. Run
// with -cpu 2 for the "2 cores" figure; it reports events/s.
//
//	go test -run XXX -bench LogReduceQuery -benchtime 3x -cpu 2 ./query
func BenchmarkLogReduceQuery(b *testing.B) {
	benchMiningQuery(b, "* | logreduce")
}

// BenchmarkLogReduceQueryAllGo is the same query with the rows converted
// to messages and fed to one miner (CompileOptions.PushDown false), the
// path of a query whose stages before logreduce do not all run in the
// engine.
func BenchmarkLogReduceQueryAllGo(b *testing.B) {
	benchMiningQueryMode(b, "* | logreduce", false)
}

// BenchmarkLogCompareQuery compares the last 3.5 days of the demo week
// with the 3.5 days before ("logcompare timeshift -84h").
func BenchmarkLogCompareQuery(b *testing.B) {
	st, rng, n := logreduceBenchStore(b)
	half := Range{Start: rng.Start.Add(rng.End.Sub(rng.Start) / 2), End: rng.End}
	benchRun(b, st, half, "* | logcompare timeshift -84h", true, n)
}

func benchMiningQuery(b *testing.B, text string) { benchMiningQueryMode(b, text, true) }

func benchMiningQueryMode(b *testing.B, text string, push bool) {
	st, rng, n := logreduceBenchStore(b)
	benchRun(b, st, rng, text, push, n)
}

func benchRun(b *testing.B, st *embedded.Store, rng Range, text string, push bool, events int64) {
	q, err := Parse(text)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(q, CompileOptions{PushDown: push})
	if err != nil {
		b.Fatal(err)
	}
	var matched int64
	var records int
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		s := &collectSink{}
		stats, err := p.Execute(context.Background(), st, ExecOptions{Range: rng}, s)
		if err != nil {
			b.Fatal(err)
		}
		matched, records = stats.MessagesMatched, len(s.records)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(matched)*float64(b.N)/el.Seconds(), "events/s")
	b.ReportMetric(float64(records), "signatures")
	b.Logf("%s over %d events (%d in the range), GOMAXPROCS=%d: %.2fs per run, %d signatures",
		text, events, matched, runtime.GOMAXPROCS(0), el.Seconds()/float64(b.N), records)
}

var (
	lrBenchOnce sync.Once
	lrBenchSt   *embedded.Store
	lrBenchRng  Range
	lrBenchN    int64
	lrBenchErr  error
)

// The demo week the benchmark generates: fixed, so the data depends only
// on the event count.
var lrBenchEnd = time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC)

const lrBenchRetention = 20 * 365 * 24 * time.Hour

func logreduceBenchStore(b *testing.B) (*embedded.Store, Range, int64) {
	b.Helper()
	lrBenchOnce.Do(func() {
		events := 1_000_000
		if v := os.Getenv("DOHYO_BENCH_LOGREDUCE_EVENTS"); v != "" {
			fmt.Sscan(v, &events)
		}
		dir := filepath.Join(os.TempDir(), "dohyo-bench-logreduce", fmt.Sprintf("v1-seed1-events%d-days7", events))
		lrBenchRng = Range{Start: lrBenchEnd.Add(-7 * 24 * time.Hour), End: lrBenchEnd}
		if _, err := os.Stat(filepath.Join(dir, "done.json")); err != nil {
			b.Logf("generating %d demo events into %s", events, dir)
			if lrBenchErr = generateDemoStore(dir, events, lrBenchRng); lrBenchErr != nil {
				return
			}
		}
		lrBenchSt, lrBenchErr = embedded.Open(filepath.Join(dir, "engine"), embedded.Config{Retention: lrBenchRetention, FutureRetention: 48 * time.Hour})
		if lrBenchErr == nil {
			cleanups = append(cleanups, func() { lrBenchSt.Close() })
		}
		data, _ := os.ReadFile(filepath.Join(dir, "done.json"))
		json.Unmarshal(data, &lrBenchN)
	})
	if lrBenchErr != nil {
		b.Fatal(lrBenchErr)
	}
	return lrBenchSt, lrBenchRng, lrBenchN
}

// generateDemoStore stores about n demo events over rng in dir/engine, as
// the demo's HTTP sources would (ingest.Parse: times from the text, JSON
// fields extracted), multi-line events joined with spaces.
func generateDemoStore(dir string, n int, rng Range) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	st, err := embedded.Open(filepath.Join(dir, "engine"), embedded.Config{Retention: lrBenchRetention, FutureRetention: 48 * time.Hour})
	if err != nil {
		return err
	}
	defer st.Close()
	sources := map[demo.Stream]event.Source{
		demo.StreamWeb:        {ID: "B0000000000000001", Name: "demo-web", Category: demo.CategoryWeb, Collector: "dohyo"},
		demo.StreamApp:        {ID: "B0000000000000002", Name: "demo-payments", Category: demo.CategoryApp, Collector: "dohyo"},
		demo.StreamCloudTrail: {ID: "B0000000000000003", Name: "demo-cloudtrail", Category: demo.CategoryCloudTrail, Collector: "dohyo"},
	}
	type pending struct {
		stream demo.Stream
		host   string
		lines  []string
	}
	bufs := map[string]*pending{}
	var seq uint64
	var total int64
	lim := ingest.Limits{MaxBodyBytes: 1 << 40, MaxDecompressedBytes: 1 << 40, MaxLineBytes: 1 << 20, MaxEvents: 1 << 30}
	ctx := context.Background()
	flush := func(p *pending) error {
		if len(p.lines) == 0 {
			return nil
		}
		evs, _, err := ingest.Parse([]byte(strings.Join(p.lines, "\n")), ingest.Options{Multiline: ingest.MultilineOff, ReceiptTime: rng.End}, lim)
		if err != nil {
			return err
		}
		src := sources[p.stream]
		src.Host = p.host
		seq++
		p.lines = p.lines[:0]
		return st.Add(ctx, seq, &event.Batch{ReceiptTime: rng.End.UnixNano(), Source: src, Events: evs}, nil)
	}
	err = demo.NewGenerator(1).Range(rng.Start, rng.End, n, demo.RangeOptions{Incidents: true}, func(e demo.Event) error {
		line := strings.ReplaceAll(strings.ReplaceAll(e.Raw, "\r\n", " "), "\n", " ")
		k := e.Stream.String() + "/" + e.Host
		p := bufs[k]
		if p == nil {
			p = &pending{stream: e.Stream, host: e.Host}
			bufs[k] = p
		}
		p.lines = append(p.lines, line)
		total++
		if len(p.lines) >= 5000 {
			return flush(p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range bufs {
		if err := flush(p); err != nil {
			return err
		}
	}
	if err := st.Sync(ctx); err != nil {
		return err
	}
	data, _ := json.Marshal(total)
	return os.WriteFile(filepath.Join(dir, "done.json"), data, 0o644)
}
