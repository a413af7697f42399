// Command ingest measures dohyo's ingest path against the storage engine's
// own, in one process per mode so peak RSS is per mode:
//
//	engine-ingest  the engine's own ingest of the lines, as VictoriaLogs'
//	        JSON-lines endpoint does it (its JSON parser), from 2 goroutines
//	native  the engine fed the rows dohyo builds, pre-parsed (untimed), from
//	        2 goroutines
//	store   dohyo's store (its engine writers) fed the parsed batches from
//	        one goroutine, as the WAL applier feeds it: the engine's cost
//	        inside dohyo, without HTTP, the WAL or the receivers
//	http    the whole dohyo path: 1 MB gzip batches POSTed over loopback on
//	        2 connections to the HTTP source, WAL on, until every event is
//	        applied to the engine
//	overload dohyo under a producer far faster than it absorbs, for a fixed
//	        time: reports peak RSS and how many requests were refused
//
// The same events (a mix of web access lines and CloudTrail JSON records,
// generated from a fixed seed) are used in every mode. bench/ingest.sh runs
// the modes and prints the ratios recorded in BENCHMARKS.md.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

func main() {
	mode := flag.String("mode", "all", "all (each mode in its own process, then a report), engine-ingest, native, store, http or overload")
	events := flag.Int("events", 1_000_000, "events to ingest (native, http)")
	dir := flag.String("dir", "", "data folder (default: a new temporary one, removed afterwards)")
	fsync := flag.String("fsync", "always", "WAL fsync policy (http, overload)")
	duration := flag.Duration("duration", 60*time.Second, "overload: how long the producer runs")
	rate := flag.Float64("rate", 0, "overload: events/s the producer aims at (0 = as fast as it can)")
	bin := flag.String("dohyo", "bin/dohyo", "dohyo binary (http, overload)")
	conns := flag.Int("conns", 2, "overload: concurrent connections of the producer")
	drop := flag.String("drop", "", "native: comma-separated fields left out of dohyo's rows (\"_json.*\" = every extracted JSON field), to measure what each costs the engine")
	onHeap := flag.Bool("input-on-heap", false, "engine-ingest: keep the input lines on the Go heap, where their ~360 MB per 1M events hold the collector off for the whole run (how it was measured before session 7)")
	flag.Parse()

	if *mode == "all" {
		runAll(*events, *bin, *fsync, *duration)
		return
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "dohyo-bench-ingest")
		check(err)
		defer os.RemoveAll(d)
		*dir = d
	}
	lines := generate(*events)
	var res map[string]any
	switch *mode {
	case "native":
		res = runNative(*dir, lines, *drop)
	case "engine-ingest":
		if !*onHeap {
			lines = offHeap(lines)
		}
		res = runEngineIngest(*dir, lines)
		res["input_on_heap"] = *onHeap
	case "store":
		res = runStore(*dir, lines)
	case "http":
		res = runHTTP(*bin, *dir, lines, *fsync, 0, 0, 2)
	case "overload":
		res = runHTTP(*bin, *dir, lines, *fsync, *duration, *rate, max(*conns, 1))
	default:
		check(fmt.Errorf("unknown -mode %q", *mode))
	}
	res["mode"] = *mode
	res["bench_process_peak_rss_mib"] = peakRSSMiB()
	res["gomaxprocs"] = runtime.GOMAXPROCS(0)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

// runAll runs each mode in its own process and prints the report.
func runAll(events int, bin, fsync string, duration time.Duration) {
	self, err := os.Executable()
	check(err)
	run := func(args ...string) map[string]any {
		cmd := exec.Command(self, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		check(err)
		var res map[string]any
		check(json.Unmarshal(out, &res))
		fmt.Fprintf(os.Stderr, "%s\n", out)
		return res
	}
	ev := fmt.Sprint(events)
	native := run("-mode", "native", "-events", ev)
	engineIngest := run("-mode", "engine-ingest", "-events", ev)
	httpRes := run("-mode", "http", "-events", ev, "-dohyo", bin, "-fsync", fsync)
	httpInterval := run("-mode", "http", "-events", ev, "-dohyo", bin, "-fsync", "100ms")
	f := func(m map[string]any, k string) float64 { v, _ := m[k].(float64); return v }
	base := f(engineIngest, "events_per_s")
	fmt.Printf("| path | events/s | MB/s | ratio to the engine's own ingest | peak RSS (MiB) | disk bytes/event |\n|---|---|---|---|---|---|\n")
	fmt.Printf("| engine's own ingest: its JSON parser, rows added from 2 goroutines | %.0f | %.1f | 1.00 | %.0f (incl. the input held in memory) | %.1f |\n",
		base, f(engineIngest, "mb_per_s"), f(engineIngest, "bench_process_peak_rss_mib"), f(engineIngest, "disk_bytes_per_event"))
	fmt.Printf("| engine fed dohyo's pre-built rows (parsing not timed), 2 goroutines | %.0f | %.1f | %.2f | %.0f (incl. 1M parsed events held in memory) | %.1f |\n",
		f(native, "events_per_s"), f(native, "mb_per_s"), f(native, "events_per_s")/base, f(native, "bench_process_peak_rss_mib"), f(native, "disk_bytes_per_event"))
	for _, r := range []struct {
		name string
		m    map[string]any
	}{{"dohyo HTTP source, 1 MB gzip batches, 2 connections, fsync " + fsync, httpRes}, {"dohyo HTTP source, same, fsync 100ms", httpInterval}} {
		fmt.Printf("| %s | %.0f | %.1f | %.2f | %.0f (server) | %.1f |\n", r.name, f(r.m, "events_per_s"), f(r.m, "mb_per_s"),
			f(r.m, "events_per_s")/base, f(r.m, "server_peak_rss_mib"), f(r.m, "disk_bytes_per_event"))
	}
	// Overload: the producer at 10x the sustainable rate measured above.
	sustainable := f(httpRes, "events_per_s")
	// 2 connections are paced by the server's answers (a request waits
	// for the engine, --wal-handoff-wait); 16 are more than that wait can
	// pace, so the WAL absorbs the rest until --max-wal-lag, then 429s.
	for _, conns := range []int{2, 16} {
		over := run("-mode", "overload", "-events", fmt.Sprint(min(events, 500_000)), "-dohyo", bin, "-fsync", fsync,
			"-duration", duration.String(), "-rate", fmt.Sprint(int(10*sustainable)), "-conns", fmt.Sprint(conns))
		fmt.Printf("\noverload, %d connections: producer aiming at %.0f events/s (10x) for %s: %.0f events/s acknowledged, %.0f requests ok, %.0f refused with 429, %.0f failed, %.0f waited for the engine, server peak RSS %.0f MiB\n",
			conns, 10*sustainable, duration, f(over, "events_per_s"), f(over, "requests_ok"), f(over, "requests_429"), f(over, "requests_failed"), f(over, "handoff_waits"), f(over, "server_peak_rss_mib"))
	}
}

// atExit are run by check before it exits: os.Exit skips deferred calls,
// and a dohyo server left running would keep the data folder (and any lock
// the caller holds, such as flock's) until killed by hand.
var atExit []func()

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		for i := len(atExit) - 1; i >= 0; i-- {
			atExit[i]()
		}
		os.Exit(1)
	}
}

// generate returns n events as lines: 70% web access log lines, 30%
// CloudTrail records (JSON, so ingest extracts their fields).
func generate(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Now().Add(-6 * time.Hour)
	paths := []string{"/", "/api/v1/orders", "/api/v1/login", "/static/app.js", "/healthz", "/api/v1/cart/items", "/search?q=shoes"}
	agents := []string{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0", "curl/8.5.0", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)"}
	names := []string{"DescribeInstances", "GetObject", "AssumeRole", "ConsoleLogin", "ListBuckets", "PutObject", "CreateUser"}
	users := []string{"alice", "bob", "carol", "deploy-bot", "ci-runner"}
	out := make([]string, n)
	for i := range out {
		t := base.Add(time.Duration(i) * 6 * time.Hour / time.Duration(n))
		if r.IntN(10) < 7 {
			out[i] = fmt.Sprintf(`%d.%d.%d.%d - - [%s] "GET %s HTTP/1.1" %d %d "-" "%s"`,
				r.IntN(223)+1, r.IntN(256), r.IntN(256), r.IntN(256), t.Format("02/Jan/2006:15:04:05 -0700"),
				paths[r.IntN(len(paths))], []int{200, 200, 200, 301, 404, 500}[r.IntN(6)], r.IntN(50000), agents[r.IntN(len(agents))])
		} else {
			out[i] = fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA%016X","arn":"arn:aws:iam::123456789012:user/%s","accountId":"123456789012","userName":"%s"},"eventTime":"%s","eventSource":"ec2.amazonaws.com","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"%d.%d.%d.%d","userAgent":"aws-cli/2.15.0","requestParameters":{"instancesSet":{"items":[{"instanceId":"i-%012x"}]}},"responseElements":null,"requestID":"%016x","eventID":"%016x","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"123456789012"}`,
				r.Uint64(), users[r.IntN(len(users))], users[r.IntN(len(users))], t.UTC().Format(time.RFC3339), names[r.IntN(len(names))],
				r.IntN(223)+1, r.IntN(256), r.IntN(256), r.IntN(256), r.Uint64()&0xffffffffffff, r.Uint64(), r.Uint64())
		}
	}
	return out
}

func rawBytes(lines []string) int64 {
	var n int64
	for _, l := range lines {
		n += int64(len(l)) + 1
	}
	return n
}

// runNative hands the events, parsed the way dohyo parses them and laid out
// as the same rows dohyo stores, straight to the engine from 2 goroutines:
// the engine's own ingest rate for exactly what dohyo asks of it.
//
// drop names fields left out of the rows (a name ending in "*" is a
// prefix), to measure what each costs the engine.
func runNative(dir string, lines []string, drop string) map[string]any {
	var dropNames, dropPrefixes []string
	for _, d := range strings.Split(drop, ",") {
		if p, ok := strings.CutSuffix(strings.TrimSpace(d), "*"); ok {
			dropPrefixes = append(dropPrefixes, p)
		} else if d != "" {
			dropNames = append(dropNames, strings.TrimSpace(d))
		}
	}
	dropped := func(name string) bool {
		for _, p := range dropPrefixes {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return slices.Contains(dropNames, name)
	}
	// Parse first (not timed): the engine's own ingest would also get
	// parsed fields.
	recv := time.Now()
	evs, _, err := ingest.Parse([]byte(strings.Join(lines, "\n")), ingest.Options{ReceiptTime: recv, Multiline: ingest.MultilineOff}, ingest.Limits{
		MaxBodyBytes: 1 << 40, MaxDecompressedBytes: 1 << 40, MaxLineBytes: 1 << 20, MaxEvents: len(lines) + 1,
	})
	check(err)
	check(flagParseOnce())
	src := event.Source{ID: "0123456789ABCDEF", Name: "bench", Category: "bench/mixed", Collector: "dohyo"}
	s, stopProfile := openEngine(dir)
	defer stopProfile()
	start, cpu0, gc0 := time.Now(), selfCPUSeconds(), gcCycles()
	var wg sync.WaitGroup
	const workers = 2
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lr := logstorage.GetLogRows(nil, nil, nil, nil, "")
			defer logstorage.PutLogRows(lr)
			// The same rows dohyo stores: its guard lays them out.
			g := store.Guard{Retention: 30 * 24 * time.Hour, FutureRetention: 48 * time.Hour, Now: time.Now}
			var fs []logstorage.Field
			const chunk = 1000
			for lo := w * chunk; lo < len(evs); lo += workers * chunk {
				b := &event.Batch{ReceiptTime: recv.UnixNano(), Source: src, Events: evs[lo:min(lo+chunk, len(evs))]}
				g.Rows(uint64(lo/chunk+1), b, 0, len(b.Events), nil, func(r *store.Row) {
					fs = fs[:0]
					for i, f := range r.Fields {
						if i >= store.StreamFieldCount && dropped(f.Name) {
							continue
						}
						fs = append(fs, logstorage.Field{Name: f.Name, Value: f.Value})
					}
					lr.MustAdd(logstorage.TenantID{}, r.Time, fs, store.StreamFieldCount)
					if lr.NeedFlush() {
						s.MustAddRows(lr)
						lr.ResetKeepSettings()
					}
				})
			}
			s.MustAddRows(lr)
		}()
	}
	wg.Wait()
	s.DebugFlush()
	elapsed := time.Since(start)
	cpu, gcs := selfCPUSeconds()-cpu0, gcCycles()-gc0
	merged := engineRowsMerged(s)
	s.MustClose()
	disk := dirSize(filepath.Join(dir, "engine"))
	return map[string]any{
		"events": len(lines), "seconds": elapsed.Seconds(), "cpu_seconds": cpu, "gc_cycles": gcs, "engine_rows_merged": merged,
		"events_per_s":         float64(len(lines)) / elapsed.Seconds(),
		"mb_per_s":             float64(rawBytes(lines)) / 1e6 / elapsed.Seconds(),
		"disk_bytes_per_event": float64(disk) / float64(len(lines)),
	}
}

// runStore feeds the events, parsed as dohyo parses them (untimed), in
// batches the size of the HTTP mode's requests to dohyo's store (its engine
// writers), from one goroutine as the WAL applier does: the engine's cost
// inside dohyo without HTTP, the WAL or receivers running beside it.
func runStore(dir string, lines []string) map[string]any {
	recv := time.Now()
	src := event.Source{ID: "0123456789ABCDEF", Name: "bench", Category: "bench/mixed", Collector: "dohyo"}
	var bs []*event.Batch
	per := (len(lines) + 33) / 34 // the HTTP mode's 34 requests
	for lo := 0; lo < len(lines); lo += per {
		evs, _, err := ingest.Parse([]byte(strings.Join(lines[lo:min(lo+per, len(lines))], "\n")), ingest.Options{ReceiptTime: recv, Multiline: ingest.MultilineOff}, ingest.Limits{
			MaxBodyBytes: 1 << 40, MaxDecompressedBytes: 1 << 40, MaxLineBytes: 1 << 20, MaxEvents: len(lines) + 1,
		})
		check(err)
		bs = append(bs, &event.Batch{ReceiptTime: recv.UnixNano(), Source: src, Events: evs})
	}
	st, err := embedded.Open(filepath.Join(dir, "engine"), embedded.Config{Retention: 30 * 24 * time.Hour})
	check(err)
	stop := func() {}
	if p := os.Getenv("DOHYO_BENCH_CPU_PROFILE"); p != "" {
		f, err := os.Create(p)
		check(err)
		check(pprof.StartCPUProfile(f))
		stop = pprof.StopCPUProfile
	}
	defer stop()
	start, cpu0, gc0 := time.Now(), selfCPUSeconds(), gcCycles()
	for i, b := range bs {
		check(st.Add(context.Background(), uint64(i+1), b, nil))
	}
	st.Flush()
	elapsed := time.Since(start)
	cpu, gcs := selfCPUSeconds()-cpu0, gcCycles()-gc0
	m := st.Stats().RowsMerged
	check(st.Close())
	return map[string]any{
		"events": len(lines), "seconds": elapsed.Seconds(), "cpu_seconds": cpu, "gc_cycles": gcs,
		"engine_rows_merged":   map[string]uint64{"inmemory": m.InMemory, "small": m.Small, "big": m.Big},
		"events_per_s":         float64(len(lines)) / elapsed.Seconds(),
		"mb_per_s":             float64(rawBytes(lines)) / 1e6 / elapsed.Seconds(),
		"disk_bytes_per_event": float64(dirSize(filepath.Join(dir, "engine"))) / float64(len(lines)),
	}
}

// runEngineIngest is the engine's own ingest of the same lines, timed from
// the raw text as VictoriaLogs' JSON-lines endpoint does it: a JSON line is
// parsed into flattened fields by the engine's own parser, a text line is
// stored as the message; rows get the same times and metadata fields as
// dohyo's. Compared with
// runNative, this includes turning text into fields, which dohyo's HTTP path
// does too.
func runEngineIngest(dir string, lines []string) map[string]any {
	// The engine does not find timestamps in text; give its rows the same
	// times dohyo's rows get (found here, untimed), so both store the same
	// data.
	recv := time.Now()
	evs, _, err := ingest.Parse([]byte(strings.Join(lines, "\n")), ingest.Options{ReceiptTime: recv, Multiline: ingest.MultilineOff, NoTimestampParse: false}, ingest.Limits{
		MaxBodyBytes: 1 << 40, MaxDecompressedBytes: 1 << 40, MaxLineBytes: 1 << 20, MaxEvents: len(lines) + 1,
	})
	check(err)
	times := make([]int64, len(evs))
	for i := range evs {
		times[i] = evs[i].Time
	}
	evs = nil
	runtime.GC()
	check(flagParseOnce())
	s, stopProfile := openEngine(dir)
	defer stopProfile()
	start, cpu0, gc0 := time.Now(), selfCPUSeconds(), gcCycles()
	var wg sync.WaitGroup
	const workers = 2
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lr := logstorage.GetLogRows(nil, nil, nil, nil, "")
			defer logstorage.PutLogRows(lr)
			p := logstorage.GetJSONParser()
			defer logstorage.PutJSONParser(p)
			var fs []logstorage.Field
			recvMs := strconv.FormatInt(recv.UnixMilli(), 10)
			for i := w; i < len(lines); i += workers {
				line := lines[i]
				fs = append(fs[:0],
					logstorage.Field{Name: event.FieldSourceCategory, Value: "bench/mixed"},
					logstorage.Field{Name: event.FieldSourceHost, Value: ""},
					logstorage.Field{Name: event.FieldSource, Value: "bench"},
					logstorage.Field{Name: event.FieldCollector, Value: "dohyo"},
					logstorage.Field{Name: "_msg", Value: line},
					logstorage.Field{Name: event.FieldSourceID, Value: "0123456789ABCDEF"},
					logstorage.Field{Name: event.FieldReceiptTime, Value: recvMs},
					logstorage.Field{Name: event.FieldSize, Value: strconv.Itoa(len(line))},
					logstorage.Field{Name: event.FieldRowID, Value: strconv.Itoa(i)},
				)
				if strings.HasPrefix(line, "{") && p.ParseLogMessage([]byte(line), nil, event.JSONFieldPrefix) == nil {
					for _, f := range p.Fields {
						fs = append(fs, logstorage.Field{Name: f.Name, Value: f.Value})
					}
				}
				ts := times[i]
				lr.MustAdd(logstorage.TenantID{}, ts, fs, 4)
				if lr.NeedFlush() {
					s.MustAddRows(lr)
					lr.ResetKeepSettings()
				}
			}
			s.MustAddRows(lr)
		}()
	}
	wg.Wait()
	s.DebugFlush()
	elapsed := time.Since(start)
	cpu, gcs := selfCPUSeconds()-cpu0, gcCycles()-gc0
	merged := engineRowsMerged(s)
	s.MustClose()
	return map[string]any{
		"events": len(lines), "seconds": elapsed.Seconds(), "cpu_seconds": cpu, "gc_cycles": gcs, "engine_rows_merged": merged,
		"events_per_s":         float64(len(lines)) / elapsed.Seconds(),
		"mb_per_s":             float64(rawBytes(lines)) / 1e6 / elapsed.Seconds(),
		"disk_bytes_per_event": float64(dirSize(filepath.Join(dir, "engine"))) / float64(len(lines)),
	}
}

var flagOnce sync.Once

// flagParseOnce satisfies the engine's need for parsed flags.
func flagParseOnce() error {
	var err error
	flagOnce.Do(func() {
		if !flag.Parsed() {
			err = flag.CommandLine.Parse(nil)
		}
	})
	return err
}

// batches gzips lines into requests of about 1 MB compressed.
func batches(lines []string) [][]byte {
	var out [][]byte
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	raw := 0
	flush := func() {
		zw.Close()
		out = append(out, append([]byte(nil), buf.Bytes()...))
		buf.Reset()
		zw.Reset(&buf)
		raw = 0
	}
	for _, l := range lines {
		zw.Write([]byte(l))
		zw.Write([]byte{'\n'})
		raw += len(l) + 1
		// JSON and access lines compress about 8x: 8 MB raw is ~1 MB gzip.
		if raw >= 8<<20 {
			flush()
		}
	}
	if raw > 0 {
		flush()
	}
	return out
}

// runHTTP starts the dohyo binary on the data folder and posts the events to
// it over loopback. With duration > 0 it is the overload mode: the producer
// posts for that long, looping over the batches, at rate events/s (0 =
// unthrottled). The server runs as its own process so its peak RSS is its
// own, not the generator's.
func runHTTP(bin, dir string, lines []string, fsync string, duration time.Duration, rate float64, conns int) map[string]any {
	args := []string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--fsync", fsync, "--min-free-disk", "256MiB", "--log-level", "warn"}
	if duration > 0 {
		// A small lag allowance shows the back-pressure within the run.
		args = append(args, "--max-wal-lag", "256MiB")
	}
	if extra := os.Getenv("DOHYO_BENCH_SERVE_ARGS"); extra != "" {
		args = append(args, strings.Fields(extra)...)
	}
	if p := os.Getenv("DOHYO_BENCH_CPU_PROFILE"); p != "" {
		args = append(args, "--cpu-profile", p)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DOHYO_BOOTSTRAP_ACCESS_KEY=bench-access:bench-access-key-0123456789")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	check(cmd.Start())
	kill := func() { cmd.Process.Kill(); cmd.Wait() }
	atExit = append(atExit, kill)
	defer func() { atExit = atExit[:len(atExit)-1]; kill() }()
	var base string
	for deadline := time.Now().Add(time.Minute); ; {
		if b, err := os.ReadFile(filepath.Join(dir, "server.addr")); err == nil && len(b) > 0 {
			base = strings.TrimSpace(string(b))
			if resp, err := http.Get(base + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			check(fmt.Errorf("dohyo did not start"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/sources", strings.NewReader(`{"name":"bench","category":"bench/mixed","multiline":"off"}`))
	req.SetBasicAuth("bench-access", "bench-access-key-0123456789")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	check(err)
	var src struct {
		URL string `json:"url"`
	}
	check(json.NewDecoder(resp.Body).Decode(&src))
	resp.Body.Close()

	reqs := batches(lines)
	perReq := (len(lines) + len(reqs) - 1) / len(reqs)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	var sent, refused, failed atomic.Int64
	post := func(body []byte) {
		req, _ := http.NewRequest("POST", src.URL, bytes.NewReader(body))
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			failed.Add(1)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case 200:
			sent.Add(1)
		case 429:
			refused.Add(1)
			time.Sleep(100 * time.Millisecond)
		default:
			failed.Add(1)
		}
	}

	start, cpu0, gc0 := time.Now(), procCPUSeconds(cmd.Process.Pid), metric(base, "go_gc_duration_seconds_count")
	alloc0 := metric(base, "go_memstats_alloc_bytes_total")
	var wg sync.WaitGroup
	var next atomic.Int64
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if duration == 0 {
					if int(i) >= len(reqs) {
						return
					}
				} else {
					elapsed := time.Since(start)
					if elapsed >= duration {
						return
					}
					if rate > 0 {
						due := time.Duration(float64(i*int64(perReq)) / rate * float64(time.Second))
						if d := due - elapsed; d > 0 {
							time.Sleep(d)
						}
					}
				}
				post(reqs[int(i)%len(reqs)])
			}
		}()
	}
	wg.Wait()
	produced := time.Since(start)
	// Done when the engine has taken every acknowledged event.
	for metric(base, "dohyo_wal_lag_bytes") > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu := procCPUSeconds(cmd.Process.Pid) - cpu0
	gcs := metric(base, "go_gc_duration_seconds_count") - gc0
	allocMB := (metric(base, "go_memstats_alloc_bytes_total") - alloc0) / (1 << 20)
	rss := procKiB(cmd.Process.Pid, "VmHWM") / 1024
	hits, misses := optMetric(base, `dohyo_wal_handoff_records_total{result="hit"}`), optMetric(base, `dohyo_wal_handoff_records_total{result="miss"}`)
	waits := optMetric(base, `dohyo_wal_handoff_waits_total`)
	// The engine's stats are cached for a second.
	time.Sleep(1100 * time.Millisecond)
	merged := map[string]float64{}
	for _, kind := range []string{"inmemory", "small", "big"} {
		merged[kind] = optMetric(base, fmt.Sprintf(`dohyo_engine_rows_merged_total{type=%q}`, kind))
	}
	cmd.Process.Signal(syscall.SIGTERM)
	check(cmd.Wait())
	res := map[string]any{
		"requests_ok": sent.Load(), "requests_429": refused.Load(), "requests_failed": failed.Load(),
		"events_acknowledged": sent.Load() * int64(perReq),
		"seconds":             elapsed.Seconds(), "producer_seconds": produced.Seconds(),
		"server_cpu_seconds":  cpu,
		"gc_cycles":           gcs,
		"server_alloc_mib":    allocMB,
		"events_per_s":        float64(sent.Load()*int64(perReq)) / elapsed.Seconds(),
		"mb_per_s":            float64(rawBytes(lines)) / float64(len(reqs)) * float64(sent.Load()) / 1e6 / elapsed.Seconds(),
		"server_peak_rss_mib": rss,
		// Batches the applier got from the receivers in memory vs read
		// back from the WAL.
		"handoff_hits": hits, "handoff_misses": misses,
		// Requests that waited for the engine to catch up to be handed
		// over in memory (--wal-handoff-wait).
		"handoff_waits": waits,
		// Rows the engine's merges rewrote by the end (its write
		// amplification), to compare with the engine-side modes.
		"engine_rows_merged": merged,
	}
	if duration == 0 {
		res["events"] = len(lines)
		res["disk_bytes_per_event"] = float64(dirSize(filepath.Join(dir, "engine"))) / float64(len(lines))
	}
	return res
}

// metric reads one metric from /metrics.
func metric(base, name string) float64 {
	v, ok := readMetric(base, name)
	if !ok {
		check(fmt.Errorf("metric %s not found", name))
	}
	return v
}

// optMetric is metric for a metric older binaries do not have (-1 then).
func optMetric(base, name string) float64 {
	if v, ok := readMetric(base, name); ok {
		return v
	}
	return -1
}

func readMetric(base, name string) (float64, bool) {
	resp, err := http.Get(base + "/metrics")
	check(err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f, true
		}
	}
	return 0, false
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}

func procKiB(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			var kib int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kib)
			return kib
		}
	}
	return 0
}

func peakRSSMiB() int64 { return procKiB(os.Getpid(), "VmHWM") / 1024 }

// selfCPUSeconds is the CPU time (user and system) this process has used.
// openEngine opens the engine of an engine-side mode in dir/engine and
// starts the CPU profile DOHYO_BENCH_CPU_PROFILE names, if any; stop ends
// the profile.
func openEngine(dir string) (s *logstorage.Storage, stop func()) {
	// The same flush interval as dohyo's engine (and VictoriaLogs' own
	// default).
	s = logstorage.MustOpenStorage(filepath.Join(dir, "engine"), &logstorage.StorageConfig{Retention: 30 * 24 * time.Hour, FlushInterval: embedded.DefaultFlushInterval})
	stop = func() {}
	if p := os.Getenv("DOHYO_BENCH_CPU_PROFILE"); p != "" {
		f, err := os.Create(p)
		check(err)
		check(pprof.StartCPUProfile(f))
		stop = pprof.StopCPUProfile
	}
	return s, stop
}

func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// procCPUSeconds is the CPU time (user and system) process pid has used,
// from /proc/<pid>/stat (clock ticks of 1/100 s).
func procCPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	// The command name (field 2) may hold spaces; fields after it are
	// plain numbers: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		check(fmt.Errorf("/proc/%d/stat: too few fields", pid))
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	check(errors.Join(err1, err2))
	return (ut + st) / 100
}

// engineRowsMerged returns the rows the engine's merges have rewritten so
// far, by the kind of part written.
func engineRowsMerged(s *logstorage.Storage) map[string]uint64 {
	var ss logstorage.StorageStats
	s.UpdateStats(&ss)
	return map[string]uint64{"inmemory": ss.InmemoryRowsMerged, "small": ss.SmallRowsMerged, "big": ss.BigRowsMerged}
}

// gcCycles is the number of garbage collections this process has run.
func gcCycles() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NumGC
}

// offHeap returns lines copied into memory mapped outside the Go heap. The
// engine's own ingest in a server holds a request at a time, not the whole
// input: with the input on the heap, the collector's goal (twice the live
// heap) is so high that the engine runs about one collection per million
// events, against ten or more in a server's heap (dohyo's or VictoriaLogs').
// The mapping lives until the process exits.
func offHeap(lines []string) []string {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	if n == 0 {
		return lines
	}
	buf, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	check(err)
	out := make([]string, len(lines))
	off := 0
	for i, l := range lines {
		copy(buf[off:], l)
		out[i] = unsafe.String(unsafe.SliceData(buf[off:]), len(l))
		off += len(l)
	}
	return out
}
