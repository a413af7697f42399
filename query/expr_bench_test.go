package query

import (
	"strconv"
	"testing"
)

// exprBenchRows builds n messages laid out as the executor builds them (fixed
// fields, custom fields in name order, hidden fields).
func exprBenchRows(n int) []Row {
	users := []string{"alice", "Bob", "carol", "dave"}
	rows := make([]Row, n)
	for i := range rows {
		x := uint32(i) * 2654435761
		rows[i] = Row{
			{"_raw", "GET /api/v1/login 200"}, {"_messageTime", strconv.Itoa(1700000000000 + i)},
			{"_receiptTime", strconv.Itoa(1700000000000 + i)}, {"_sourceCategory", "prod/web"},
			{"_sourceHost", "web-1"}, {"_sourceName", ""}, {"_source", ""}, {"_collector", "bench"},
			{"_size", "21"}, {"_format", ""},
			{"bytes", strconv.Itoa(int(x % 100000))}, {"ms", strconv.Itoa(int(x % 997))},
			{"status", strconv.Itoa(200 + int(x%5)*100)}, {"user", users[x%4]},
			{"_dohyo.time", "1"}, {"_dohyo.rid", "2"},
		}
	}
	return rows
}

// exprBenchStage runs the compiled stage of query (its first stage) over rows,
// in batches of 1000 as the engine delivers them, and reports rows/s.
func exprBenchStage(b *testing.B, query string, rows []Row) {
	q, err := Parse(query)
	if err != nil {
		b.Fatal(err)
	}
	impl, cerr := q.Stages[0].compile(&compiler{}, messagesSchema)
	if cerr != nil {
		b.Fatal(cerr)
	}
	x := newRunContext(ExecOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sink := &countSink{}
		op := newStageOperator(impl, sink, x)
		for i := 0; i < len(rows); i += 1000 {
			if err := op.push(rows[i:min(i+1000, len(rows))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := op.finish(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

var benchRowsCache []Row

func millionRows() []Row {
	if benchRowsCache == nil {
		benchRowsCache = exprBenchRows(1_000_000)
	}
	return benchRowsCache
}

// BenchmarkWhereArithmetic: where with arithmetic, a comparison on a
// numeric string and a function, over 1M messages.
func BenchmarkWhereArithmetic(b *testing.B) {
	exprBenchStage(b, `* | where bytes / 1024 > 50 and toLowerCase(user) = "bob" or ms * 2 + 1 < 100`, millionRows())
}

// BenchmarkWhereSimple: where with one comparison.
func BenchmarkWhereSimple(b *testing.B) {
	exprBenchStage(b, `* | where status >= 500`, millionRows())
}

// BenchmarkWhereMatches: where with a glob and an in list.
func BenchmarkWhereMatches(b *testing.B) {
	exprBenchStage(b, `* | where _raw matches "GET *login*" and user in ("alice", "carol")`, millionRows())
}

// BenchmarkAssign: an assignment (copies every row).
func BenchmarkAssign(b *testing.B) {
	exprBenchStage(b, `* | bytes / 1024 as kb`, millionRows())
}
