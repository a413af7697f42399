package query

import (
	"math/rand"
	"testing"
	"time"
)

// TestFastEngineTime checks fastEngineTime against time.Parse: the same
// result whenever it accepts a text, and acceptance of every time the
// engine writes in its range.
func TestFastEngineTime(t *testing.T) {
	check := func(s string) bool {
		t.Helper()
		got, ok := fastEngineTime(s)
		want, err := time.Parse(time.RFC3339Nano, s)
		if ok && (err != nil || got != want.UnixNano()) {
			t.Errorf("fastEngineTime(%q) = %d, time.Parse: %d, %v", s, got, want.UnixNano(), err)
		}
		return ok
	}
	rng := rand.New(rand.NewSource(1))
	lo, hi := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), time.Date(2199, 12, 31, 23, 59, 59, 999999999, time.UTC).UnixNano()
	for i := range 200000 {
		ns := lo + rng.Int63n(hi-lo)
		switch i % 4 {
		case 1:
			ns -= ns % 1e9 // no fraction
		case 2:
			ns -= ns % 1e6 // milliseconds
		}
		s := time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
		if !check(s) {
			t.Fatalf("fastEngineTime rejects %q", s)
		}
	}
	for _, s := range []string{
		"1970-01-01T00:00:00Z", "2199-12-31T23:59:59.999999999Z", "2024-02-29T12:00:00Z", "2000-02-29T00:00:00.5Z",
		"2100-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2023-04-31T00:00:00Z", "2023-13-01T00:00:00Z", "2023-00-01T00:00:00Z",
		"2023-01-00T00:00:00Z", "2023-01-01T24:00:00Z", "2023-01-01T23:60:00Z", "2023-01-01T23:59:60Z", "2023-01-01T00:00:00.Z",
		"2023-01-01T00:00:00.1234567890Z", "2023-01-01T00:00:00+01:00", "2023-01-01 00:00:00Z", "1969-12-31T23:59:59Z",
		"2200-01-01T00:00:00Z", "2023-01-01T00:00:00.12a4Z", "+023-01-01T00:00:00Z", "2023-1-01T00:00:00Z", "",
		"2023-01-01T00:00:00.000000001Z", "2023-01-01T00:00:00.100Z",
	} {
		check(s)
	}
}
