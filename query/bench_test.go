package query

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

// The benchmarks compare a query run through the compiler (parse, plan,
// push down, convert rows, deliver) with the same LogsQL written by hand and
// run directly through the store, on 200,000 access-log events over a day
// in which 1% mention "timeout". They report the ratio dohyo/LogsQL.

const benchEvents = 200000

var (
	benchOnce sync.Once
	benchSt   *embedded.Store
	benchRng  Range
)

func benchStore(b *testing.B) (*embedded.Store, Range) {
	b.Helper()
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dohyo-query-bench-")
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
		step := end.Sub(start) / benchEvents
		methods := []string{"GET", "POST", "PUT", "DELETE"}
		paths := []string{"/api/v1/login", "/api/v1/orders", "/static/app.js", "/healthz", "/api/v2/users/42"}
		const per = 10000
		for seq := 0; seq < benchEvents/per; seq++ {
			bt := &event.Batch{ReceiptTime: end.UnixNano(), Source: event.Source{Category: fmt.Sprintf("prod/web/%d", seq%4), Host: fmt.Sprintf("web-%d", seq%8), Collector: "bench"}}
			for j := 0; j < per; j++ {
				i := seq*per + j
				x := uint32(i) * 2654435761
				msg := fmt.Sprintf("10.%d.%d.%d - - %s %s %d %dms", x>>24, x>>16&255, x>>8&255, methods[x%4], paths[x%5], 200+int(x%5)*100, x%997)
				if i%100 == 7 {
					msg += " upstream timeout"
				}
				bt.Events = append(bt.Events, event.Event{Time: start.Add(time.Duration(i) * step).UnixNano(), Raw: msg})
			}
			if err := st.Add(context.Background(), uint64(seq+1), bt, nil); err != nil {
				b.Fatal(err)
			}
		}
		// Let the engine write its in-memory parts before measuring.
		if err := st.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		benchSt, benchRng = st, Range{Start: start, End: end}
	})
	if benchSt == nil {
		b.Fatal("benchmark store not available")
	}
	return benchSt, benchRng
}

type countingSink struct {
	n     atomic.Int64
	first time.Time // when the first messages arrived
}

func (s *countingSink) Messages(rows []Row) error {
	if s.first.IsZero() {
		s.first = time.Now()
	}
	s.n.Add(int64(len(rows)))
	return nil
}
func (s *countingSink) Records(_ []FieldInfo, rows []Row) error {
	s.n.Add(int64(len(rows)))
	return nil
}

// benchPair times the compiled query and the hand-written LogsQL
// alternately and reports both and their ratio.
func benchPair(b *testing.B, text string, maxMessages int, logsql string) {
	st, rng := benchStore(b)
	ctx := context.Background()
	var dohyo, native, first time.Duration
	var nd, nn int64
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		q, err := Parse(text)
		if err != nil {
			b.Fatal(err)
		}
		p, err := Compile(q, CompileOptions{PushDown: true})
		if err != nil {
			b.Fatal(err)
		}
		s := &countingSink{}
		if _, err := p.Execute(ctx, st, ExecOptions{Range: rng, MaxMessages: maxMessages}, s); err != nil {
			b.Fatal(err)
		}
		nd = s.n.Load()
		t1 := time.Now()
		if !s.first.IsZero() {
			first += s.first.Sub(t0)
		}
		var n atomic.Int64
		err = st.Query(ctx, store.Query{LogsQL: logsql, Start: rng.Start.UnixNano(), End: rng.End.UnixNano() - 1}, func(bl *store.Block) error {
			n.Add(int64(bl.Rows()))
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		nn = n.Load()
		dohyo += t1.Sub(t0)
		native += time.Since(t1)
	}
	if nd != nn && maxMessages >= 0 {
		b.Logf("%q: dohyo delivered %d rows, LogsQL %d", text, nd, nn)
	}
	b.ReportMetric(float64(dohyo.Nanoseconds())/float64(b.N), "dohyo-ns/op")
	b.ReportMetric(float64(native.Nanoseconds())/float64(b.N), "logsql-ns/op")
	if first > 0 {
		b.ReportMetric(float64(first.Nanoseconds())/float64(b.N), "dohyo-first-page-ns/op")
	}
	b.ReportMetric(float64(dohyo)/float64(native), "ratio")
}

// BenchmarkKeywordFirstPage: the first 100 messages, newest first.
func BenchmarkKeywordFirstPage(b *testing.B) {
	benchPair(b, "timeout", 100, `i("timeout") | sort by (_time desc) limit 100`)
}

// BenchmarkKeywordAll: every matching message (2,000).
func BenchmarkKeywordAll(b *testing.B) {
	benchPair(b, "timeout", 0, `i("timeout") | sort by (_time desc)`)
}

// BenchmarkKeywordCount: the number of matching messages.
func BenchmarkKeywordCount(b *testing.B) {
	benchPair(b, "timeout | count", 0, `i("timeout") | stats count() as "_count"`)
}

// BenchmarkCountByCategory: a pushed-down group-by over every message.
func BenchmarkCountByCategory(b *testing.B) {
	benchPair(b, "* | count by _sourceCategory", 0, `* | stats by (_sourceCategory) count() as "_count"`)
}
