package query

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/dohyo/dohyo/store"
)

// copyingStore hides store.TransientQuerier, so the executor reads the
// engine through the copying Query.
type copyingStore struct{ store.Store }

// TestTransientBlocksEqualCopied: all-Go pipelines that keep their rows
// past the engine's callback (sort, messages, parse) give the same results
// from the engine's own blocks (rows copy what they use) as from copied
// blocks, over thousands of events in many engine blocks.
func TestTransientBlocksEqualCopied(t *testing.T) {
	tl := getTimeline(t)
	if _, ok := store.Store(tl.st).(store.TransientQuerier); !ok {
		t.Fatal("the embedded store does not implement store.TransientQuerier")
	}
	run := func(st store.Store, text string) string {
		t.Helper()
		p := compileText(t, text, CompileOptions{PushDown: false})
		s := &collectSink{}
		if _, err := p.Execute(context.Background(), st, ExecOptions{Range: tl.rng, Location: time.UTC}, s); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		var b strings.Builder
		for _, m := range s.messages {
			fmt.Fprintf(&b, "%q\n", m)
		}
		b.WriteString(recordsText(s.fields, s.records))
		return b.String()
	}
	for _, text := range []string{
		`evt`,
		`evt | parse "#*" as n | sort by n`,
		`alpha | parse "evt * #*" as w, n | where num(n) > 100 | fields w, n, _sourceCategory`,
		`* | parse "#*" as n nodrop | count by _sourceCategory`,
		`evt | parse regex "#(?<n>\d+)" | sort by n asc | limit 3000`,
	} {
		got, want := run(tl.st, text), run(copyingStore{tl.st}, text)
		if got != want {
			t.Errorf("%s: the engine's blocks and copied blocks differ", text)
		}
		if len(got) < 100 {
			t.Errorf("%s: almost empty result %q", text, got)
		}
	}
}

// scribblingStore hands out the engine's blocks as copies that it
// overwrites as soon as the callback returns, as the engine may reuse its
// memory: a row, key or value kept past the callback reads garbage.
type scribblingStore struct{ store.Store }

func (s scribblingStore) QueryTransient(ctx context.Context, q store.Query, fn func(*store.Block) error) error {
	return s.Query(ctx, q, func(b *store.Block) error {
		own := b.Clone()
		err := fn(own)
		// Clone's strings lie in one writable buffer of its own.
		scribble := func(v string) {
			clear(unsafe.Slice(unsafe.StringData(v), len(v)))
		}
		for _, c := range own.Columns {
			scribble(c.Name)
			for _, v := range c.Values {
				scribble(v)
			}
		}
		return err
	})
}

// TestBorrowedRowsOutliveNothing: the rows of pruned Go pipelines borrow
// the engine's block (runCompactMessages); every aggregate and every stage
// a pruned plan runs gives the same results when each block is overwritten
// right after its callback.
func TestBorrowedRowsOutliveNothing(t *testing.T) {
	tl := getTimeline(t)
	run := func(st store.Store, text string) (string, bool) {
		t.Helper()
		p := compileText(t, text, CompileOptions{PushDown: false})
		_, pruned := p.pruneColumns()
		s := &collectSink{}
		res, err := p.Execute(context.Background(), st, ExecOptions{Range: tl.rng, Location: time.UTC}, s)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		return recordsText(s.fields, s.records) + strings.Join(res.Warnings, "\n"), pruned
	}
	for _, text := range []string{
		`evt | parse "evt * #" as w | count by w`,
		`* | parse "#*" as n | where num(n) > 100 | count by _sourceCategory`,
		`* | parse "evt * #*" as w, n | first(n), last(n), most_recent(w), least_recent(n), values(n), count_distinct(n) by w`,
		`* | parse regex "#(?<n>\d+)" | n % 7 as d | concat(d, "-", _sourceCategory) as k | sum(n), avg(n), min(n), max(n), pct(n, 50), stddev(n) by d`,
		`* | parse regex "#(?<n>\d+)" | n % 7 as d | concat(d, "-", _sourceCategory) as k | count_frequent k`,
		`* | parse "#*" as n | timeslice 1h | count by _timeslice, _sourceCategory`,
		`* | parse "evt * #" as w | top 3 w, _sourceCategory`,
		`* | parse "#*" as n | substring(n, 0, 2) as p | topk(3, count) by p`,
		`* | parse "evt *" as w | num(w) as x | sum(x) by w`,
		`* | parse "#*" as n | where n matches "1*" | count by n | sort by _count | limit 5`,
	} {
		got, pruned := run(scribblingStore{tl.st}, text)
		want, _ := run(copyingStore{tl.st}, text)
		if !pruned {
			t.Errorf("%s: not a pruned plan, so its rows do not borrow", text)
		}
		if got != want {
			t.Errorf("%s: results differ when blocks are overwritten after their callback:\n%s\nwant\n%s", text, got, want)
		}
		if len(want) < 20 {
			t.Errorf("%s: almost empty result %q", text, want)
		}
	}
}
