package query

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
		q, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(q, CompileOptions{PushDown: false})
		if err != nil {
			t.Fatal(err)
		}
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
