package query

import (
	"strconv"
	"testing"
	"time"

	"github.com/dohyo/dohyo/store"
)

// TestBuildMessagesTimes: _messageTime is the epoch milliseconds of the
// engine's _time and the hidden time its nanoseconds, for times before,
// at and after the points where the text of the milliseconds is not a
// prefix of the nanoseconds' text.
func TestBuildMessagesTimes(t *testing.T) {
	for _, ns := range []int64{0, 1, 999999, 1000000, 1000001, 123456789, 1748822400123456789, -1, -1000000, -1500000} {
		text := time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
		for _, own := range []bool{false, true} {
			rows, err := buildMessages(&store.Block{Columns: []store.Column{{Name: "_time", Values: []string{text, text}}}}, own)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if got, want := r.Get("_messageTime"), strconv.FormatInt(time.Unix(0, ns).UnixMilli(), 10); got != want {
					t.Errorf("%d: _messageTime %q, want %q", ns, got, want)
				}
				if got, want := r.Get(hiddenTimeField), strconv.FormatInt(ns, 10); got != want {
					t.Errorf("%d: hidden time %q, want %q", ns, got, want)
				}
			}
		}
	}
}
