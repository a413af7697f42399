package client

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/internal/units"
)

// ParseTime reads a time as users type it on the command line:
//
//   - "now"
//   - a relative offset from now: "-15m", "-1h", "-7d", "-2w", "-1h30m",
//     "now-1h", "+10m"; a bare "15m" means 15 minutes ago. Units: s, m, h,
//     d (24 h), w (7 d).
//   - RFC 3339: "2025-11-24T10:00:00Z", "2025-11-24T10:00:00.5+01:00"
//   - a local date-time in loc: "2025-11-24T10:00:00", "2025-11-24 10:00",
//     "2025-11-24"
//   - epoch milliseconds: "1732442400000"
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	in := strings.TrimSpace(s)
	if in == "" {
		return time.Time{}, fmt.Errorf("time %q: empty", s)
	}
	lower := strings.ToLower(in)
	if lower == "now" {
		return now, nil
	}
	if rest, ok := strings.CutPrefix(lower, "now"); ok {
		if rest[0] != '-' && rest[0] != '+' {
			return time.Time{}, fmt.Errorf("time %q: after \"now\" expected - or + and an offset such as now-1h", s)
		}
		d, err := parseRelative(rest)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		return now.Add(d), nil
	}
	if isDigits(in) {
		ms, err := parseEpochMillis(in)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		if ms < 100_000_000_000 { // before 1973 in ms: almost surely seconds
			return time.Time{}, fmt.Errorf("time %q: epoch times are milliseconds; this looks like seconds (append 000)", s)
		}
		return time.UnixMilli(ms).In(loc), nil
	}
	if c := lower[0]; c == '-' || c == '+' || (c >= '0' && c <= '9' && looksRelative(lower)) {
		d, err := parseRelative(lower)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, in); err == nil {
		return t, nil
	}
	for _, layout := range []string{
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04",
		"2006-01-02 15:04",
		"2006-01-02",
	} {
		if t, err := time.ParseInLocation(layout, in, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want now, a relative offset (-15m, -1h, -7d), RFC 3339 (2025-11-24T10:00:00Z), a local date-time (2025-11-24 10:00:00) or epoch milliseconds", s)
}

// looksRelative reports whether s (starting with a digit) is a duration
// such as "15m" rather than a date such as "2025-11-24".
func looksRelative(s string) bool {
	last := s[len(s)-1]
	return strings.IndexByte("smhdw", last) >= 0 && !strings.ContainsAny(s, "-:T ")
}

// parseRelative parses "-15m", "+1h30m", "7d" (no sign means "ago").
func parseRelative(s string) (time.Duration, error) {
	sign := time.Duration(-1)
	switch s[0] {
	case '-':
		s = s[1:]
	case '+':
		sign = 1
		s = s[1:]
	}
	d, err := units.ParseOffset(s)
	return sign * d, err
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseEpochMillis parses a string of digits as epoch milliseconds.
func parseEpochMillis(s string) (int64, error) {
	if !isDigits(s) {
		return 0, fmt.Errorf("%q is not epoch milliseconds", s)
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("epoch milliseconds %q: %w", s, err)
	}
	return ms, nil
}
