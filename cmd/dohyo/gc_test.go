package main

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func TestParseGCSettings(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	given := func(names ...string) func(string) bool {
		return func(n string) bool {
			for _, m := range names {
				if m == n {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		percent, limit string
		want           gcSettings
		err            string
	}{
		{"100", "0", gcSettings{percent: 100, setPercent: true, setLimit: true}, ""},
		{"400", "1GiB", gcSettings{percent: 400, setPercent: true, limit: 1 << 30, setLimit: true}, ""},
		{" OFF ", "512MiB", gcSettings{percent: -1, setPercent: true, limit: 512 << 20, setLimit: true}, ""},
		{"off", "0", gcSettings{}, "--gc-percent off needs a --memory-limit"},
		{"0", "0", gcSettings{}, `--gc-percent "0": want a positive percentage`},
		{"-5", "0", gcSettings{}, `--gc-percent "-5": want a positive percentage`},
		{"lots", "0", gcSettings{}, `--gc-percent "lots": want a positive percentage`},
		{"100", "1MiB", gcSettings{}, `--memory-limit "1MiB": want 0 (no limit) or at least 64 MiB`},
		{"100", "two gigs", gcSettings{}, `--memory-limit: size "two gigs"`},
	} {
		got, err := parseGCSettings(tc.percent, tc.limit, given("gc-percent", "memory-limit"))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q %q: error %v, want one containing %q", tc.percent, tc.limit, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q %q: %+v, %v; want %+v", tc.percent, tc.limit, got, err, tc.want)
		}
	}
}

// A flag left at its default yields to the environment variable the runtime
// has already applied; a flag given on the command line wins over it.
func TestParseGCSettingsEnvironment(t *testing.T) {
	t.Setenv("GOGC", "250")
	t.Setenv("GOMEMLIMIT", "2GiB")
	got, err := parseGCSettings("100", "0", func(string) bool { return false })
	if err != nil || got.setPercent || got.setLimit {
		t.Fatalf("defaults with GOGC and GOMEMLIMIT set: %+v, %v; want nothing set", got, err)
	}
	got, err = parseGCSettings("300", "1GiB", func(n string) bool { return n == "gc-percent" })
	if err != nil || !got.setPercent || got.percent != 300 || got.setLimit {
		t.Fatalf("--gc-percent given, GOMEMLIMIT set: %+v, %v; want the percentage only", got, err)
	}
}

func TestGCSettingsApply(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})
	gcSettings{percent: 300, setPercent: true, limit: 700 << 20, setLimit: true}.apply()
	if p := debug.SetGCPercent(-1); p != 300 {
		t.Errorf("GC percent %d after apply, want 300", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 700<<20 {
		t.Errorf("memory limit %d after apply, want %d", l, 700<<20)
	}
	gcSettings{percent: 100, setPercent: true, setLimit: true}.apply()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GC percent %d after the second apply, want 100", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("memory limit %d after applying none, want none", l)
	}
	// Unset fields leave the runtime alone.
	debug.SetGCPercent(150)
	gcSettings{}.apply()
	if p := debug.SetGCPercent(100); p != 150 {
		t.Errorf("GC percent %d after applying nothing, want 150 kept", p)
	}
}
