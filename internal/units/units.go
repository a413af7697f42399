// Package units parses the sizes and durations users type on command lines
// and in configuration: "16MiB", "1.5GB", "30d", "2w".
package units

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

var sizeSuffixes = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseBytes parses a byte size: a number with an optional unit (B, KB, MB,
// GB, TB in powers of 1000; KiB, MiB, GiB, TiB or K, M, G, T in powers of
// 1024).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	for _, u := range sizeSuffixes {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("size %q: want a non-negative number with an optional unit such as 512KiB, 16MiB or 2GB", s)
	}
	return int64(v * mult), nil
}

// ParseDuration parses a Go duration extended with days (d) and weeks (w):
// "30d", "1w2d", "36h", "90m".
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("duration is empty: want a duration such as 30d, 12h or 90m")
	}
	var total time.Duration
	for t != "" {
		i := 0
		for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
			i++
		}
		if i == 0 || i == len(t) {
			break
		}
		var unit time.Duration
		switch t[i] {
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		}
		if unit == 0 || (i+1 < len(t) && t[i+1] >= 'a' && t[i+1] <= 'z') {
			break
		}
		n, err := strconv.ParseFloat(t[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		total += time.Duration(n * float64(unit))
		t = t[i+1:]
	}
	if t != "" {
		d, err := time.ParseDuration(t)
		if err != nil {
			return 0, fmt.Errorf("duration %q: want a duration such as 30d, 12h or 90m", s)
		}
		total += d
	}
	return total, nil
}

// ParseOffset parses the unsigned body of a time offset as users write it
// in time ranges: whole numbers with the units s, m, h, d and w, combined
// ("15m", "1h30m", "7d"). The sign, and what no sign means, is the
// caller's.
func ParseOffset(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("missing offset after the sign")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("expected a number at %q", s)
		}
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("number %q: %w", s[:i], err)
		}
		if i == len(s) {
			return 0, fmt.Errorf("number %d has no unit (s, m, h, d or w)", n)
		}
		var unit time.Duration
		switch s[i] {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("unknown unit %q (want s, m, h, d or w)", s[i:i+1])
		}
		if n > int64(100*365*24*time.Hour/unit) {
			return 0, fmt.Errorf("offset %d%c is too large", n, s[i])
		}
		total += time.Duration(n) * unit
		s = s[i+1:]
	}
	return total, nil
}
