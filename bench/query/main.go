// Command query measures dohyo's query language on millions of realistic
// events (bench/query.sh runs it; the results are in BENCHMARKS.md):
//
//   - each pushed-down query against the equivalent hand-written LogsQL run
//     directly on the same engine and data (the target: at most 1.2x);
//   - a rare keyword over every event against grep over the raw text,
//     zstd -dc | grep over its compressed copy, and the engine's own
//     case-insensitive and case-sensitive word searches;
//   - a pipeline the engine cannot run (all Go: parse, where, count by) in
//     rows per second and per CPU-second.
//
// The events come from the demo generator (web access lines, payment service
// logs, CloudTrail records) over a fixed week, plus a rare scanner user
// agent ("Nikto") in 0.01% of the web lines. They are written once as a
// text file (one event per line: the lines of a multi-line event joined
// with a space, the same text stored), its zstd copy, and an engine data
// folder filled through ingest.Parse and the embedded store, under
// -dir/<key>, the key naming the generator's parameters: re-runs reuse them.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dohyo/dohyo/demo"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

// The generated week: fixed, so the data depends only on the flags.
var rangeEnd = time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC)

// The rare keyword: a scanner user agent no other line mentions.
const (
	rareKeyword = "nikto"
	rareAgent   = "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:Port Check)"
	rareOneIn   = 10000 // of the web lines
)

// retention keeps the fixed week searchable whatever today's date.
const retention = 20 * 365 * 24 * time.Hour

func main() {
	events := flag.Int("events", 5_000_000, "events to generate")
	seed := flag.Uint64("seed", 1, "generator seed")
	days := flag.Int("days", 7, "days the events span (ending "+rangeEnd.Format(time.DateOnly)+")")
	root := flag.String("dir", filepath.Join(os.TempDir(), "dohyo-bench-query"), "cache folder for the generated data (never the repository)")
	runs := flag.Int("runs", 5, "measured runs per query (the median is reported)")
	goEvents := flag.Int("go-events", 1_000_000, "events the all-Go pipeline reads")
	only := flag.String("only", "", "run only the measurements whose name matches this regular expression")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file: of the selected pairs (both sides) or, when no pair is selected (-only 'go pipeline'), of the one-core all-Go pipeline runs")
	try := flag.Bool("try", false, "time the LogsQL queries given as arguments over the whole range instead (to compare variants)")
	flag.Parse()

	key := fmt.Sprintf("v1-seed%d-events%d-days%d-rare%d", *seed, *events, *days, rareOneIn)
	dir := filepath.Join(*root, key)
	ds, err := loadDataset(dir)
	if err != nil {
		logf("generating %d events into %s", *events, dir)
		ds, err = generate(dir, *seed, *events, *days)
		check(err)
	} else {
		logf("reusing the data in %s", dir)
	}
	st, err := embedded.Open(filepath.Join(dir, "engine"), embedded.Config{Retention: retention, FutureRetention: 48 * time.Hour})
	check(err)
	defer st.Close()

	sel := regexp.MustCompile(*only)
	b := &bench{st: st, ds: ds, dir: dir, runs: *runs, sel: sel}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		check(err)
		b.profile = f
	}
	b.header()
	if *try {
		// Rounds alternate the queries so that machine noise spreads over
		// all of them; the first round warms the caches and is dropped.
		qs := flag.Args()
		walls := make([][]time.Duration, len(qs))
		cpus := make([][]time.Duration, len(qs))
		rows := make([]int64, len(qs))
		b.startProfile() // -cpuprofile: the tried queries' CPU
		for round := range b.runs + 1 {
			for i, l := range qs {
				c0, t0 := cpuTime(), time.Now()
				rows[i], err = b.runLogsQL(l, b.rng())
				check(err)
				if round > 0 {
					walls[i] = append(walls[i], time.Since(t0))
					cpus[i] = append(cpus[i], cpuTime()-c0)
				}
			}
		}
		for i, l := range qs {
			fmt.Printf("%s wall  %s CPU  %d rows  %s\n", ms(median(walls[i])), ms(median(cpus[i])), rows[i], l)
		}
		b.stopProfile()
		return
	}
	b.pairs()
	b.tools()
	b.goPipeline(*goEvents)
	if b.profiling {
		pprof.StopCPUProfile()
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// ---- the data ----

// dataset describes the generated data (meta.json, written last).
type dataset struct {
	Events    int64            `json:"events"`
	Rare      int64            `json:"rare"`
	RawBytes  int64            `json:"rawBytes"`
	ZstdBytes int64            `json:"zstdBytes"`
	Streams   map[string]int64 `json:"streams"`
	From      time.Time        `json:"from"`
	To        time.Time        `json:"to"`
	IngestSec float64          `json:"ingestSeconds"`
}

func loadDataset(dir string) (*dataset, error) {
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return nil, err
	}
	ds := &dataset{}
	return ds, json.Unmarshal(b, ds)
}

// sources are the demo's HTTP sources (demo/run.go), one per stream.
var sources = map[demo.Stream]struct {
	src    event.Source
	fields []event.Field
}{
	demo.StreamWeb:        {event.Source{ID: "B0000000000000001", Name: "demo-web", Category: demo.CategoryWeb, Collector: "dohyo"}, []event.Field{{Name: "env", Value: "demo"}}},
	demo.StreamApp:        {event.Source{ID: "B0000000000000002", Name: "demo-payments", Category: demo.CategoryApp, Collector: "dohyo"}, []event.Field{{Name: "env", Value: "demo"}}},
	demo.StreamCloudTrail: {event.Source{ID: "B0000000000000003", Name: "demo-cloudtrail", Category: demo.CategoryCloudTrail, Collector: "dohyo"}, nil},
}

// withRareAgent replaces the user agent (the last quoted string) of an
// access log line.
func withRareAgent(line string) string {
	end := strings.LastIndexByte(line, '"')
	start := strings.LastIndexByte(line[:max(end, 0)], '"')
	if start < 0 {
		return line
	}
	return line[:start+1] + rareAgent + line[end:]
}

func generate(dir string, seed uint64, n, days int) (*dataset, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	st, err := embedded.Open(filepath.Join(dir, "engine"), embedded.Config{Retention: retention, FutureRetention: 48 * time.Hour})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	txtPath := filepath.Join(dir, "events.txt")
	f, err := os.Create(txtPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)

	ds := &dataset{Streams: map[string]int64{}, From: rangeEnd.Add(-time.Duration(days) * 24 * time.Hour), To: rangeEnd}
	ctx := context.Background()
	rare := rand.New(rand.NewPCG(seed, 0x5ca9))
	type pending struct {
		stream demo.Stream
		host   string
		lines  []string
	}
	bufs := map[string]*pending{}
	var seq uint64
	lim := ingest.Limits{MaxBodyBytes: 1 << 40, MaxDecompressedBytes: 1 << 40, MaxLineBytes: 1 << 20, MaxEvents: 1 << 30}
	flush := func(p *pending) error {
		if len(p.lines) == 0 {
			return nil
		}
		// The events as the HTTP source makes them: times found in the
		// text, JSON fields extracted at ingest.
		evs, _, err := ingest.Parse([]byte(strings.Join(p.lines, "\n")), ingest.Options{Multiline: ingest.MultilineOff, ReceiptTime: rangeEnd}, lim)
		if err != nil {
			return err
		}
		if len(evs) != len(p.lines) {
			return fmt.Errorf("ingest.Parse made %d events of %d lines", len(evs), len(p.lines))
		}
		s := sources[p.stream]
		src := s.src
		src.Host = p.host
		seq++
		p.lines = p.lines[:0]
		return st.Add(ctx, seq, &event.Batch{ReceiptTime: rangeEnd.UnixNano(), Source: src, Fields: s.fields, Events: evs}, nil)
	}
	start := time.Now()
	err = demo.NewGenerator(seed).Range(ds.From, ds.To, n, demo.RangeOptions{Incidents: true}, func(e demo.Event) error {
		line := strings.ReplaceAll(strings.ReplaceAll(e.Raw, "\r\n", " "), "\n", " ")
		if e.Stream == demo.StreamWeb && rare.IntN(rareOneIn) == 0 {
			line = withRareAgent(line)
			ds.Rare++
		}
		ds.Events++
		ds.RawBytes += int64(len(line)) + 1
		ds.Streams[e.Stream.String()]++
		w.WriteString(line)
		w.WriteByte('\n')
		k := e.Stream.String() + "/" + e.Host
		p := bufs[k]
		if p == nil {
			p = &pending{stream: e.Stream, host: e.Host}
			bufs[k] = p
		}
		p.lines = append(p.lines, line)
		if len(p.lines) >= 5000 {
			return flush(p)
		}
		if ds.Events%500000 == 0 {
			logf("%d events", ds.Events)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(bufs))
	for k := range bufs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := flush(bufs[k]); err != nil {
			return nil, err
		}
	}
	if err := st.Sync(ctx); err != nil {
		return nil, err
	}
	ds.IngestSec = time.Since(start).Seconds()
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	logf("generated and ingested %d events in %.0fs; compressing", ds.Events, ds.IngestSec)
	cmd := exec.Command("zstd", "-q", "-f", "-T0", txtPath, "-o", txtPath+".zst")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	fi, err := os.Stat(txtPath + ".zst")
	if err != nil {
		return nil, err
	}
	ds.ZstdBytes = fi.Size()
	if err := st.Close(); err != nil {
		return nil, err
	}
	meta, _ := json.MarshalIndent(ds, "", "  ")
	return ds, os.WriteFile(filepath.Join(dir, "meta.json"), meta, 0o644)
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// ---- measuring ----

type bench struct {
	st        *embedded.Store
	ds        *dataset
	dir       string
	runs      int
	sel       *regexp.Regexp
	profile   *os.File
	profiling bool
}

func (b *bench) rng() query.Range { return query.Range{Start: b.ds.From, End: b.ds.To} }

func loadavg() string {
	s, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(s))[:min(3, len(strings.Fields(string(s))))], " ")
}

func (b *bench) header() {
	fmt.Printf("data: %d events over %s .. %s (web %d, app %d, cloudtrail %d), %d with the rare keyword %q\n",
		b.ds.Events, b.ds.From.Format(time.DateOnly), b.ds.To.Format(time.DateOnly),
		b.ds.Streams["web"], b.ds.Streams["app"], b.ds.Streams["cloudtrail"], b.ds.Rare, rareKeyword)
	fmt.Printf("sizes: raw text %s, zstd %s (%.1fx), engine on disk %s (%.1fx, %.0f bytes/event)\n",
		mib(b.ds.RawBytes), mib(b.ds.ZstdBytes), float64(b.ds.RawBytes)/float64(b.ds.ZstdBytes),
		mib(dirSize(filepath.Join(b.dir, "engine"))), float64(b.ds.RawBytes)/float64(dirSize(filepath.Join(b.dir, "engine"))),
		float64(dirSize(filepath.Join(b.dir, "engine")))/float64(b.ds.Events))
	if b.ds.IngestSec > 0 {
		fmt.Printf("generation and ingest (first run only): %.0fs\n", b.ds.IngestSec)
	}
	fmt.Printf("machine: %d cores, GOMAXPROCS %d, load average at start %s\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), loadavg())
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// sink consumes dohyo's results.
type sink struct {
	n     atomic.Int64
	first time.Time
}

func (s *sink) Messages(rows []query.Row) error {
	if s.first.IsZero() {
		s.first = time.Now()
	}
	s.n.Add(int64(len(rows)))
	return nil
}

func (s *sink) Records(_ []query.FieldInfo, rows []query.Row) error {
	s.n.Add(int64(len(rows)))
	return nil
}

// runDohyo parses, compiles and runs a query; it returns the rows delivered.
func (b *bench) runDohyo(text string, opt query.ExecOptions, push bool) (int64, time.Duration, error) {
	q, err := query.Parse(text)
	if err != nil {
		return 0, 0, err
	}
	p, err := query.Compile(q, query.CompileOptions{PushDown: push})
	if err != nil {
		return 0, 0, err
	}
	s := &sink{}
	t0 := time.Now()
	_, err = p.Execute(context.Background(), b.st, opt, s)
	var first time.Duration
	if !s.first.IsZero() {
		first = s.first.Sub(t0)
	}
	return s.n.Load(), first, err
}

// runLogsQL runs LogsQL directly; it returns the rows received.
func (b *bench) runLogsQL(logsql string, r query.Range) (int64, error) {
	var n atomic.Int64
	err := b.st.Query(context.Background(), store.Query{LogsQL: logsql, Start: r.Start.UnixNano(), End: r.End.UnixNano() - 1}, func(bl *store.Block) error {
		n.Add(int64(bl.Rows()))
		return nil
	})
	return n.Load(), err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) string {
	v := float64(d) / 1e6
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func (b *bench) startProfile() {
	if b.profile != nil && !b.profiling {
		check(pprof.StartCPUProfile(b.profile))
		b.profiling = true
	}
}

func (b *bench) stopProfile() {
	if b.profiling {
		pprof.StopCPUProfile()
		b.profiling = false
		b.profile.Close()
		b.profile = nil
	}
}

// pair is a dohyo query and the LogsQL an expert would write for it.
type pair struct {
	name        string
	text        string
	maxMessages int
	logsql      string
}

// engineLines returns the engine queries of an explanation.
func engineLines(explain string) string {
	var out []string
	for _, l := range strings.Split(explain, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "engine:") || strings.HasPrefix(t, "condition:") {
			out = append(out, strings.TrimSpace(strings.TrimPrefix(t, "engine:")))
		}
	}
	return strings.Join(out, " ; ")
}

func (b *bench) pairs() {
	pairs := []pair{
		{"rare keyword, first page (100 newest)", rareKeyword, 100,
			`i("nikto") | sort by (_time desc) limit 100`},
		{"rare keyword, all matches newest first", rareKeyword, 0,
			`i("nikto") | sort by (_time desc)`},
		{"rare keyword | count", rareKeyword + " | count", 0,
			`i("nikto") | stats count() as _count`},
		{"common keyword | count", "GET | count", 0,
			`i("GET") | stats count() as _count`},
		{"json eventName | count by eventName (CloudTrail)", `_sourceCategory=aws/cloudtrail | json "eventName" | count by eventName`, 0,
			`_sourceCategory:="aws/cloudtrail" | stats by (_json.eventName) count() as _count`},
		{"timeslice 1h | count by _timeslice", `* | timeslice 1h | count by _timeslice`, 0,
			`* | stats by (_time:1h) count() as _count`},
		{"parse | where numeric | avg by (access log)",
			`_sourceCategory=demo/web/access | parse "\" * * \"" as status, size | where num(size) > 5000 | avg(size) by status`, 0,
			`_sourceCategory:="demo/web/access" | extract "\" <status> <size> \"" | filter size:>5000 | stats by (status) avg(size) as _avg`},
		{"parse | top 10 (access log)",
			`_sourceCategory=demo/web/access | parse "\"GET * HTTP" as url | top 10 url`, 0,
			`_sourceCategory:="demo/web/access" | extract "\"GET <url> HTTP" | filter url:* | top 10 (url)`},
		{"top 10 _sourceHost", `* | top 10 _sourceHost`, 0,
			`* | top 10 (_sourceHost)`},
	}
	if !slices.ContainsFunc(pairs, func(p pair) bool { return b.sel.MatchString(p.name) }) {
		return
	}
	r := b.rng()
	ctx := context.Background()
	fmt.Printf("### Pushed-down queries vs hand-written LogsQL (median of %d runs, alternated; queries under 100 ms: as many runs as fill about a second)\n\n", b.runs)
	fmt.Printf("| query | dohyo | hand-written LogsQL | ratio | rows |\n|---|---|---|---|---|\n")
	var explains []string
	for _, pr := range pairs {
		if !b.sel.MatchString(pr.name) {
			continue
		}
		opt := query.ExecOptions{Range: r, MaxMessages: pr.maxMessages, SkipMatchCount: pr.maxMessages > 0}
		q, err := query.Parse(pr.text)
		check(err)
		p, err := query.Compile(q, query.CompileOptions{PushDown: true})
		check(err)
		ex, err := p.ExplainRun(ctx, b.st, opt)
		check(err)
		explains = append(explains, fmt.Sprintf("- %s\n  - query: `%s`\n  - dohyo: `%s`\n  - hand-written: `%s`", pr.name, pr.text, engineLines(ex), pr.logsql))
		// Warm up both (page cache, engine caches).
		w0 := time.Now()
		_, _, err = b.runDohyo(pr.text, opt, true)
		check(err)
		warm := time.Since(w0)
		_, err = b.runLogsQL(pr.logsql, r)
		check(err)
		var dt, lt, ft []time.Duration
		var dn, ln int64
		for range shortRuns(b.runs, warm) {
			b.startProfile()
			t0 := time.Now()
			n, first, err := b.runDohyo(pr.text, opt, true)
			check(err)
			dt = append(dt, time.Since(t0))
			ft = append(ft, first)
			dn = n
			t1 := time.Now()
			n, err = b.runLogsQL(pr.logsql, r)
			check(err)
			lt = append(lt, time.Since(t1))
			ln = n
		}
		rows := fmt.Sprint(dn)
		if dn != ln {
			rows = fmt.Sprintf("%d (LogsQL: %d)", dn, ln)
		}
		d, l := median(dt), median(lt)
		extra := ""
		if pr.maxMessages > 0 {
			extra = fmt.Sprintf(" (first page after %s)", ms(median(ft)))
		}
		fmt.Printf("| `%s`%s | %s%s | %s | %.2f | %s |\n", cell(pr.text), maxNote(pr.maxMessages), ms(d), extra, ms(l), float64(d)/float64(l), rows)
	}
	fmt.Printf("\nThe LogsQL dohyo ran (Plan.ExplainRun) and the hand-written LogsQL:\n\n%s\n\n", strings.Join(explains, "\n"))
}

// shortRuns is the number of runs of a query that took d once: runs, or
// for a query under 100 ms as many as fill about a second (at most 200),
// whose median a millisecond of the machine's noise moves less.
func shortRuns(runs int, d time.Duration) int {
	if d <= 0 || d >= 100*time.Millisecond {
		return runs
	}
	return max(runs, min(200, int(time.Second/d)))
}

// cell escapes the pipes of a markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func maxNote(n int) string {
	if n > 0 {
		return fmt.Sprintf(" (first %d)", n)
	}
	return ""
}

// tools compares the rare keyword search with grep and zstd | grep.
func (b *bench) tools() {
	if !b.sel.MatchString("grep") {
		return
	}
	b.stopProfile()
	txt := filepath.Join(b.dir, "events.txt")
	r := b.rng()
	type tool struct {
		name string
		cmd  string
	}
	tools := []tool{
		{"`grep -c -i -w nikto events.txt`", "grep -c -i -w nikto " + txt},
		{"`grep -c Nikto events.txt`", "grep -c Nikto " + txt},
		{"`zstd -dc events.txt.zst | grep -c -i -w nikto`", "zstd -dc " + txt + ".zst | grep -c -i -w nikto"},
		{"`zstd -dc events.txt.zst | grep -c Nikto`", "zstd -dc " + txt + ".zst | grep -c Nikto"},
	}
	times := map[string]time.Duration{}
	counts := map[string]string{}
	for _, t := range tools {
		var ds []time.Duration
		for i := range b.runs + 1 {
			t0 := time.Now()
			out, err := exec.Command("bash", "-c", "set -o pipefail; "+t.cmd).Output()
			if err != nil {
				check(fmt.Errorf("%s: %w", t.cmd, err))
			}
			if i > 0 { // the first run fills the page cache
				ds = append(ds, time.Since(t0))
			}
			counts[t.name] = strings.TrimSpace(string(out))
		}
		times[t.name] = median(ds)
	}
	// The engine itself, hand-written LogsQL: the case-insensitive word
	// dohyo's keyword needs (every _msg decompressed and scanned: the
	// engine's bloom filters hold case-sensitive tokens), and the
	// case-sensitive word, which the bloom filters answer.
	engine := []tool{
		{"engine, hand-written `i(\"nikto\") | stats count()`", `i("nikto") | stats count() as n`},
		{"engine, hand-written `\"Nikto\" | stats count()` (case-sensitive: bloom filters)", `"Nikto" | stats count() as n`},
	}
	for _, t := range engine {
		var ds []time.Duration
		for i := range b.runs + 1 {
			var n atomic.Pointer[string] // the callback may run on several goroutines
			t0 := time.Now()
			err := b.st.Query(context.Background(), store.Query{LogsQL: t.cmd, Start: r.Start.UnixNano(), End: r.End.UnixNano() - 1}, func(bl *store.Block) error {
				if c := bl.Column("n"); c != nil && len(c.Values) > 0 {
					n.Store(&c.Values[0])
				}
				return nil
			})
			check(err)
			if i > 0 {
				ds = append(ds, time.Since(t0))
			}
			if v := n.Load(); v != nil {
				counts[t.name] = *v
			}
		}
		times[t.name] = median(ds)
	}
	tools = append(tools, engine...)
	var dAll, dCount []time.Duration
	var nAll, nCount int64
	for i := range b.runs + 1 {
		t0 := time.Now()
		n, _, err := b.runDohyo(rareKeyword, query.ExecOptions{Range: r}, true)
		check(err)
		t1 := time.Now()
		m, err := b.countQuery(rareKeyword + " | count")
		check(err)
		if i > 0 {
			dAll = append(dAll, t1.Sub(t0))
			dCount = append(dCount, time.Since(t1))
		}
		nAll, nCount = n, m
	}
	locale := os.Getenv("LC_ALL")
	if locale == "" {
		locale = os.Getenv("LANG")
	}
	if locale == "" {
		locale = "unset (C)"
	}
	fmt.Printf("### Rare keyword over every event vs grep (median of %d runs, files in the page cache, locale %s)\n\n", b.runs, locale)
	fmt.Printf("| tool | time | matches | dohyo `nikto` (all %d messages, newest first): %s | dohyo `nikto \\| count`: %s |\n|---|---|---|---|---|\n", nAll, ms(median(dAll)), ms(median(dCount)))
	for _, t := range tools {
		fmt.Printf("| %s | %s | %s | %.3f | %.3f |\n", cell(t.name), ms(times[t.name]), counts[t.name],
			float64(median(dAll))/float64(times[t.name]), float64(median(dCount))/float64(times[t.name]))
	}
	fmt.Printf("\n(ratio columns: dohyo's time / the tool's time; `nikto | count` counted %d)\n\n", nCount)
}

// countQuery runs an aggregate returning one count.
func (b *bench) countQuery(text string) (int64, error) {
	q, err := query.Parse(text)
	if err != nil {
		return 0, err
	}
	p, err := query.Compile(q, query.CompileOptions{PushDown: true})
	if err != nil {
		return 0, err
	}
	var n int64
	_, err = p.Execute(context.Background(), b.st, query.ExecOptions{Range: b.rng()}, recordsFunc(func(rows []query.Row) {
		if len(rows) == 1 {
			fmt.Sscan(rows[0].Get("_count"), &n)
		}
	}))
	return n, err
}

type recordsFunc func([]query.Row)

func (f recordsFunc) Messages([]query.Row) error { return nil }
func (f recordsFunc) Records(_ []query.FieldInfo, rows []query.Row) error {
	f(rows)
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// goPipeline runs parse + where + count by in Go over about n events.
func (b *bench) goPipeline(n int) {
	if !b.sel.MatchString("go pipeline") {
		return
	}
	b.stopProfile()
	// The newest hours holding about n events.
	per := map[int64]int64{}
	var perMu sync.Mutex // Query calls fn from several goroutines
	err := b.st.Query(context.Background(), store.Query{LogsQL: `* | stats by (_time:1h) count() as n`, Start: b.ds.From.UnixNano(), End: b.ds.To.UnixNano() - 1}, func(bl *store.Block) error {
		perMu.Lock()
		defer perMu.Unlock()
		tc, nc := bl.Column("_time"), bl.Column("n")
		for i := range bl.Rows() {
			t, err := time.Parse(time.RFC3339Nano, tc.Values[i])
			if err != nil {
				return err
			}
			var k int64
			fmt.Sscan(nc.Values[i], &k)
			per[t.Unix()] = k
		}
		return nil
	})
	check(err)
	start := b.ds.To
	var rows int64
	for rows < int64(n) && start.After(b.ds.From) {
		start = start.Add(-time.Hour)
		rows += per[start.Unix()]
	}
	r := query.Range{Start: start, End: b.ds.To}
	text := `_sourceCategory=demo/web/access | parse "\" * * \"" as status, size | where num(size) > 5000 | count by status`
	fmt.Printf("### All-Go pipeline (CompileOptions{PushDown: false}), end to end from the engine (median of %d runs)\n\n", b.runs)
	fmt.Printf("`%s` over the newest %s: %d stored events, all read from the engine and filtered, parsed and counted in Go.\n\n",
		text, b.ds.To.Sub(start), rows)
	fmt.Printf("| GOMAXPROCS | wall | CPU time (process) | rows/s (wall) | rows per CPU-second |\n|---|---|---|---|---|\n")
	for _, procs := range []int{runtime.NumCPU(), 1} {
		old := runtime.GOMAXPROCS(procs)
		_, _, err := b.runDohyo(text, query.ExecOptions{Range: r}, false) // warm up
		check(err)
		var walls, cpus []time.Duration
		for range b.runs {
			if procs == 1 {
				b.startProfile() // one core: the profile is the CPU breakdown per row
			}
			runtime.GC()
			c0, t0 := cpuTime(), time.Now()
			_, _, err := b.runDohyo(text, query.ExecOptions{Range: r}, false)
			check(err)
			walls = append(walls, time.Since(t0))
			cpus = append(cpus, cpuTime()-c0)
		}
		b.stopProfile()
		runtime.GOMAXPROCS(old)
		w, c := median(walls), median(cpus)
		fmt.Printf("| %d | %s | %s | %.2fM | %.2fM |\n", procs, ms(w), ms(c), float64(rows)/w.Seconds()/1e6, float64(rows)/c.Seconds()/1e6)
	}
	fmt.Printf("\nload average at the end: %s\n", loadavg())
}
