package query

import (
	"strconv"
	"testing"
)

// Throughput of the Go operators of sort, limit, dedup, fields and the
// row-window operators: rows pushed through the plan's tail chain (the
// messages-level path) or, after an aggregate, through its records.
//
//	go test ./query -run XXX -bench 'Sort|Dedup|Fields|Accum|Outlier' -benchtime 2x

// benchTail pushes rows (in batches of messageBatch) through the Go chain
// of a non-aggregate query from its tail on, total rows in all, and reports
// rows per second.
func benchTail(b *testing.B, text string, rows []Row, total int, opt ExecOptions) {
	q, err := Parse(text)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(q, CompileOptions{PushDown: false})
	if err != nil {
		b.Fatal(err)
	}
	if p.tail < 0 {
		p.tail = p.pushed // a row-by-row query: its whole chain
	}
	opt.run = newRunContext(ExecOptions{})
	n := 0
	for b.Loop() {
		coll := &countSink{}
		chain, _ := p.buildTailChain(coll, len(p.steps), opt, nil, false, false)
		for sent := 0; sent < total; {
			for i := 0; i < len(rows) && sent < total; i += messageBatch {
				batch := rows[i:min(i+messageBatch, len(rows))]
				if err := chain.push(batch); err != nil {
					b.Fatal(err)
				}
				sent += len(batch)
			}
		}
		if err := chain.finish(); err != nil {
			b.Fatal(err)
		}
		n += total
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}

func rowOpsBenchRows(n int) []Row {
	return benchRows(n, func(i int) []Field {
		return []Field{
			{"bytes", strconv.Itoa(i * 7919 % 100003)},
			{"status", strconv.Itoa(200 + i%5*100)},
			{"user", "user" + strconv.Itoa(i%1000)},
		}
	})
}

func BenchmarkSortMessagesTop100(b *testing.B) {
	benchTail(b, "* | sort by bytes | limit 100", rowOpsBenchRows(100000), 1000000, ExecOptions{})
}

func BenchmarkSortMessagesAll(b *testing.B) {
	benchTail(b, "* | sort by user asc, bytes", rowOpsBenchRows(100000), 100000, ExecOptions{})
}

func BenchmarkDedupMessages(b *testing.B) {
	benchTail(b, "* | dedup 2 by user", rowOpsBenchRows(100000), 1000000, ExecOptions{})
}

func BenchmarkLimitMessages(b *testing.B) {
	benchTail(b, "* | where status = 200 | limit 1000000", rowOpsBenchRows(100000), 1000000, ExecOptions{})
}

func BenchmarkFieldsMessages(b *testing.B) {
	benchTail(b, "* | fields user, status", rowOpsBenchRows(100000), 1000000, ExecOptions{})
}

func BenchmarkAccumMessages(b *testing.B) {
	benchTail(b, "* | accum bytes by user", rowOpsBenchRows(100000), 100000, ExecOptions{})
}

// Records: 10,000 groups (the group limit), sorted, accumulated and
// tested for outliers.
func benchRecords(b *testing.B, text string) {
	benchTail(b, "* | count by user, status"+text, rowOpsBenchRows(10000), 10000, ExecOptions{})
}

func BenchmarkSortRecords(b *testing.B) { benchRecords(b, " | sort by _count, user asc") }
func BenchmarkSmoothRecords(b *testing.B) {
	benchRecords(b, " | sort by user asc | smooth _count, 5 by status")
}

func BenchmarkOutlierRecords(b *testing.B) {
	rows := benchRows(10000, func(i int) []Field {
		return []Field{{"ts", strconv.Itoa(i * 60000)}, {"v", strconv.Itoa(100 + i*7919%13)}}
	})
	// count by the slice, then outlier by the value series (one group per
	// slice value is too few; use the records directly)
	q, _ := Parse("* | timeslice 1m | count by _timeslice | outlier _count")
	p, err := Compile(q, CompileOptions{PushDown: false})
	if err != nil {
		b.Fatal(err)
	}
	var impl *outlierImpl
	for _, s := range p.steps {
		if o, ok := s.impl.(*outlierImpl); ok {
			impl = o
		}
	}
	recs := make([]Row, len(rows))
	for i, r := range rows {
		recs[i] = Row{{"_timeslice", r.Get("ts")}, {"_count", r.Get("v")}}
	}
	n := 0
	for b.Loop() {
		op := impl.newRunOperator(&countSink{}, newRunContext(ExecOptions{}))
		if err := op.push(recs); err != nil {
			b.Fatal(err)
		}
		if err := op.finish(); err != nil {
			b.Fatal(err)
		}
		n += len(recs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}
