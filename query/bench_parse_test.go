package query

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/store/embedded"
)

// Benchmarks of the parsing operators.
//
// BenchmarkParseAnchorCount and BenchmarkParseWhereCount run the Go
// operators alone over 1M in-memory access-log messages (one core) and
// report rows/s. BenchmarkJSONCountPushedVsGo compares, over ~200k
// CloudTrail events in the embedded engine, json "eventName" | count by
// eventname pushed down through the ingest-time fields with the same query
// parsing _raw in Go, and reports both times and their ratio.

const benchParseRows = 1000000

var (
	benchMsgsOnce sync.Once
	benchMsgs     []Row
)

// benchMessages are 1M messages with the layout of the engine's rows.
func benchMessages() []Row {
	benchMsgsOnce.Do(func() {
		methods := []string{"GET", "POST", "PUT", "DELETE"}
		paths := []string{"/api/v1/login", "/api/v1/orders", "/static/app.js", "/healthz", "/api/v2/users/42"}
		benchMsgs = make([]Row, benchParseRows)
		for i := range benchMsgs {
			x := uint32(i) * 2654435761
			raw := fmt.Sprintf(`10.%d.%d.%d - - [17/May/2015:10:05:03 +0000] "%s %s HTTP/1.1" %d %d "-" "Mozilla/5.0"`,
				x>>24, x>>16&255, x>>8&255, methods[x%4], paths[x%5], 200+int(x%5)*100, x%99991)
			r := testMessage(raw)
			r[len(r)-1].Value = strconv.Itoa(i)
			benchMsgs[i] = r
		}
	})
	return benchMsgs
}

// benchGoChain runs the Go operators of "* | <stages>" over the messages
// in batches of 1000, as the executor does.
func benchGoChain(b *testing.B, stages string) {
	rows := benchMessages()
	q, err := Parse("* | " + stages)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(q, CompileOptions{PushDown: true})
	if err != nil {
		b.Fatal(err)
	}
	p.pushed = 0 // the operators in Go, even where the engine could run them
	p.scopePushed = true
	var groups int
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	for range b.N {
		coll := &recordCollector{}
		chain := p.buildChain(coll, len(p.steps), nil, newRunContext(ExecOptions{}))
		for i := 0; i < len(rows); i += 1000 {
			if err := chain.push(rows[i:min(i+1000, len(rows))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := chain.finish(); err != nil {
			b.Fatal(err)
		}
		groups = len(coll.rows)
	}
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(len(rows))*float64(b.N)/el.Seconds(), "rows/s")
	// rows per second of CPU time (this process, all threads, GC
	// included): rows/s per core, whatever else loads the machine.
	b.ReportMetric(float64(len(rows))*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(groups), "groups")
}

// BenchmarkParseAnchorCount: parse (anchor) + count by, in Go.
func BenchmarkParseAnchorCount(b *testing.B) {
	benchGoChain(b, `parse "\"* * HTTP/1.1\" * " as method, path, status | count by method, status`)
}

// BenchmarkParseWhereCount: parse + where + count by, in Go.
func BenchmarkParseWhereCount(b *testing.B) {
	benchGoChain(b, `parse "\"* * HTTP/1.1\" * " as method, path, status | where status >= 400 | count by method, status`)
}

// BenchmarkParseRegexCount: parse regex + count by, in Go.
func BenchmarkParseRegexCount(b *testing.B) {
	benchGoChain(b, `parse regex "\"(?<method>[A-Z]+) (?<path>\S+) HTTP/1\.1\" (?<status>\d+)" | count by method, status`)
}

// BenchmarkSplitCount: split + count by, in Go.
func BenchmarkSplitCount(b *testing.B) {
	benchGoChain(b, `split _raw delim=' ' extract 6 as method, 9 as status | count by method, status`)
}

// cpuTime is the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const benchTrailEvents = 200000

var (
	benchTrailOnce sync.Once
	benchTrailSt   *embedded.Store
	benchTrailRng  Range
)

// benchTrailStore holds ~200k CloudTrail events made from the OTRF
// samples' shape, with their ingest-time fields, 40 event names.
func benchTrailStore(b *testing.B) (*embedded.Store, Range) {
	benchTrailOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dohyo-query-bench-trail-")
		if err != nil {
			b.Fatal(err)
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		st, err := embedded.Open(dir, embedded.Config{Retention: 7 * 24 * time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		cleanups = append(cleanups, func() { st.Close() })
		end := time.Now().Truncate(time.Minute)
		start := end.Add(-24 * time.Hour)
		step := end.Sub(start) / benchTrailEvents
		const per = 10000
		for seq := 0; seq < benchTrailEvents/per; seq++ {
			bt := &event.Batch{ReceiptTime: end.UnixNano(), Source: event.Source{Category: "aws/cloudtrail", Host: "trail", Collector: "bench"}}
			for j := 0; j < per; j++ {
				i := seq*per + j
				x := uint32(i) * 2654435761
				raw := fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA%08X","arn":"arn:aws:iam::123456789123:user/u%d","accountId":"123456789123","accessKeyId":"ASIA%08X","userName":"u%d","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"2020-09-13T17:16:47Z","mfaAuthenticated":"%t"}}},"eventTime":"2020-09-14T00:%02d:%02dZ","eventSource":"ec2.amazonaws.com","eventName":"Describe%s%d","awsRegion":"us-east-%d","sourceIPAddress":"10.%d.%d.%d","userAgent":"console.ec2.amazonaws.com","requestParameters":{"instancesSet":{"items":[{"instanceId":"i-%016x"}]},"filterSet":{}},"responseElements":null,"requestID":"%08x-876c-4995-8258-e6f09d9ef934","eventID":"%08x-c7f6-4107-a6ee-d841d92596e7","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789123","eventCategory":"Management"}`,
					x, x%50, x, x%50, x%2 == 0, i/60%60, i%60, []string{"Instances", "Volumes", "Snapshots", "Images"}[x%4], x%10, 1+x%2, x>>24, x>>16&255, x>>8&255, uint64(x)*7919, x, x^0x5bd1e995)
				fs, _ := ingest.FlattenJSON([]byte(raw), 0, 0)
				bt.Events = append(bt.Events, event.Event{Time: start.Add(time.Duration(i) * step).UnixNano(), Raw: raw, Fields: fs})
			}
			if err := st.Add(context.Background(), uint64(seq+1), bt, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := st.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		benchTrailSt, benchTrailRng = st, Range{Start: start, End: end}
	})
	if benchTrailSt == nil {
		b.Fatal("benchmark store not available")
	}
	return benchTrailSt, benchTrailRng
}

// BenchmarkJSONCountPushedVsGo times json "eventName" | count by eventname
// pushed down through the ingest-time fields, all-Go reading those fields,
// and all-Go parsing _raw.
func BenchmarkJSONCountPushedVsGo(b *testing.B) {
	st, rng := benchTrailStore(b)
	q, err := Parse(`_sourceCategory=aws/cloudtrail | json "eventName" | count by eventname`)
	if err != nil {
		b.Fatal(err)
	}
	modes := []struct {
		name string
		opt  CompileOptions
	}{
		{"pushed", CompileOptions{PushDown: true}},
		{"go-ingest-fields", CompileOptions{PushDown: false}},
		{"go-parse-raw", CompileOptions{PushDown: false, noIngestJSON: true}},
	}
	times := make([]time.Duration, len(modes))
	results := make([]string, len(modes))
	b.ResetTimer()
	for range b.N {
		for i, m := range modes {
			p, err := Compile(q, m.opt)
			if err != nil {
				b.Fatal(err)
			}
			s := &collectSink{}
			t0 := time.Now()
			stats, err := p.Execute(context.Background(), st, ExecOptions{Range: rng}, s)
			if err != nil {
				b.Fatal(err)
			}
			times[i] += time.Since(t0)
			results[i] = recordsText(s.fields, s.records)
			if stats.MessagesMatched != benchTrailEvents {
				b.Fatalf("%s: %d messages counted, want %d", m.name, stats.MessagesMatched, benchTrailEvents)
			}
		}
	}
	for i := range modes {
		if results[i] != results[0] {
			b.Fatalf("%s gives other records than %s", modes[i].name, modes[0].name)
		}
		b.ReportMetric(float64(times[i].Nanoseconds())/float64(b.N), modes[i].name+"-ns/op")
	}
	b.ReportMetric(float64(times[2])/float64(times[0]), "raw/pushed")
	b.ReportMetric(float64(times[1])/float64(times[0]), "ingest/pushed")
}
