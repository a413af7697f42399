package query

import (
	"context"
	"testing"
)

// ExecOptions.Progress reports the input messages counted so far: after
// every engine block for an aggregate computed in Go, after every time
// window for a message query; the last report is the run's count.
func TestExecProgress(t *testing.T) {
	tl := getTimeline(t)
	cases := []struct {
		text     string
		push     bool
		reported bool // whether Progress is called at all
	}{
		{"alpha | count", false, true},
		{"alpha | count by _sourceCategory", false, true},
		{"alpha | count", true, false}, // the engine's aggregate reports nothing
		{"alpha", true, true},
		{"alpha", false, true},
	}
	for _, c := range cases {
		q, err := Parse(c.text)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(q, CompileOptions{PushDown: c.push})
		if err != nil {
			t.Fatal(err)
		}
		var seen []int64
		opt := ExecOptions{Range: tl.rng, Progress: func(n int64) { seen = append(seen, n) }}
		stats, err := p.Execute(context.Background(), tl.st, opt, &collectSink{})
		if err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		if !c.reported {
			if len(seen) != 0 {
				t.Errorf("%s (push %v): progress %v from a pushed aggregate", c.text, c.push, seen)
			}
			continue
		}
		if len(seen) < 2 {
			t.Errorf("%s (push %v): %d progress reports, want several", c.text, c.push, len(seen))
			continue
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] < seen[i-1] {
				t.Errorf("%s (push %v): progress went down: %v", c.text, c.push, seen)
				break
			}
		}
		if last := seen[len(seen)-1]; last != stats.MessagesMatched || last != int64(len(tl.expected(t, "alpha"))) {
			t.Errorf("%s (push %v): last progress %d, matched %d, want %d", c.text, c.push, last, stats.MessagesMatched, len(tl.expected(t, "alpha")))
		}
	}
}
