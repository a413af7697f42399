package query

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// Benchmarks of the Go aggregates over 1M in-memory messages (one core),
// reporting rows/s (see benchGoChain in bench_parse_test.go). The
// parse + where + count by pipeline is BenchmarkParseWhereCount; the
// benchmarks here measure the aggregation alone, over messages whose
// fields are already extracted, to give its share of that pipeline.

var (
	aggBenchOnce sync.Once
	aggBenchRows []Row
)

// aggBenchMessages are benchMessages with method, status and bytes
// extracted, as parse leaves them.
func aggBenchMessages() []Row {
	aggBenchOnce.Do(func() {
		methods := []string{"GET", "POST", "PUT", "DELETE"}
		aggBenchRows = make([]Row, benchParseRows)
		for i := range aggBenchRows {
			x := uint32(i) * 2654435761
			aggBenchRows[i] = testMessage("m",
				Field{"bytes", strconv.Itoa(int(x % 99991))},
				Field{"method", methods[x%4]},
				Field{"status", strconv.Itoa(200 + int(x%5)*100)},
				Field{"ts", strconv.Itoa(i)})
		}
	})
	return aggBenchRows
}

// benchAggregate runs the Go operators of "* | <stages>" over the
// extracted messages in batches of 1000, as the executor does.
func benchAggregate(b *testing.B, stages string) {
	rows := aggBenchMessages()
	q, err := Parse("* | " + stages)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(q, CompileOptions{PushDown: false})
	if err != nil {
		b.Fatal(err)
	}
	p.scopePushed = true // no scope filter: "*"
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
	}
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(len(rows))*float64(b.N)/el.Seconds(), "rows/s")
	b.ReportMetric(float64(len(rows))*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
}

// BenchmarkAggCountBy: count by two fields.
func BenchmarkAggCountBy(b *testing.B) { benchAggregate(b, "count by method, status") }

// BenchmarkAggCountByOne: count by one field.
func BenchmarkAggCountByOne(b *testing.B) { benchAggregate(b, "count by status") }

// BenchmarkAggSumAvgBy: numeric aggregates (parsing the values).
func BenchmarkAggSumAvgBy(b *testing.B) {
	benchAggregate(b, "count, sum(bytes), avg(bytes), min(bytes), max(bytes) by status")
}

// BenchmarkAggCountDistinct: distinct values (a set per group).
func BenchmarkAggCountDistinct(b *testing.B) { benchAggregate(b, "count_distinct(bytes) by method") }

// BenchmarkAggPct: percentiles (every value held and sorted).
func BenchmarkAggPct(b *testing.B) { benchAggregate(b, "pct(bytes, 50, 95) by method") }

// BenchmarkAggTimeslice: timeslice (a field added to every message) + count.
func BenchmarkAggTimeslice(b *testing.B) { benchAggregate(b, "timeslice 1m | count by _timeslice") }
