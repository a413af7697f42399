package units

import (
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "512": 512, "1KiB": 1024, "16MiB": 16 << 20, "16mib": 16 << 20, "2GB": 2e9,
		"1.5G": 3 << 29, "10 MB": 10e6, "7B": 7,
	} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "12XB", "1..2M"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) succeeded", bad)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30d": 30 * 24 * time.Hour, "1w": 7 * 24 * time.Hour, "1w2d": 9 * 24 * time.Hour,
		"36h": 36 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute, "100ms": 100 * time.Millisecond,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "30x", "abc", "1d1"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
}

func TestParseOffset(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"15m": 15 * time.Minute, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "45s": 45 * time.Second,
	} {
		got, err := ParseOffset(in)
		if err != nil || got != want {
			t.Errorf("ParseOffset(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "m", "15", "15x", "1.5h", "-15m", "99999999w", "99999999999999999999s"} {
		if _, err := ParseOffset(bad); err == nil {
			t.Errorf("ParseOffset(%q) succeeded", bad)
		}
	}
}
