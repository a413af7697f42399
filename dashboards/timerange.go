package dashboards

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/internal/units"
)

// ParseTime reads one end of a time range:
//
//   - "now"; a relative offset from now: "-15m", "-24h", "-7d", "-2w",
//     "-1h30m", "now-1h" (units s, m, h, d = 24 h, w = 7 d);
//   - any of those followed by a rounding to the start of a calendar unit
//     in loc: "now/d" (today at 00:00), "now/w" (this week: Monday 00:00),
//     "now/M" (this month), "now-1d/d" (yesterday at 00:00), "now/h";
//   - an absolute time: RFC 3339 ("2025-11-24T10:00:00Z"), a local
//     date-time in loc ("2025-11-24T10:00:00", "2025-11-24 10:00",
//     "2025-11-24") or epoch milliseconds.
//
// relative reports whether the time depends on now.
func ParseTime(s string, now time.Time, loc *time.Location) (t time.Time, relative bool, err error) {
	if loc == nil {
		loc = time.UTC
	}
	in := strings.TrimSpace(s)
	if in == "" {
		return time.Time{}, false, fmt.Errorf("time %q: empty", s)
	}
	base, round, hasRound := strings.Cut(in, "/")
	if hasRound && !(strings.HasPrefix(base, "now") || strings.HasPrefix(base, "-") || strings.HasPrefix(base, "+")) {
		// An absolute time has no "/"; report it as such.
		base, hasRound = in, false
	}
	lower := strings.ToLower(base)
	switch {
	case lower == "now":
		t, relative = now, true
	case strings.HasPrefix(lower, "now"):
		d, err := parseOffset(lower[3:])
		if err != nil {
			return time.Time{}, false, fmt.Errorf("time %q: %w", s, err)
		}
		t, relative = now.Add(d), true
	case strings.HasPrefix(lower, "-") || strings.HasPrefix(lower, "+"):
		d, err := parseOffset(lower)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("time %q: %w", s, err)
		}
		t, relative = now.Add(d), true
	default:
		var ok bool
		if t, ok = parseAbsolute(base, loc); !ok {
			return time.Time{}, false, fmt.Errorf("time %q: want now, a relative offset (-15m, -24h, -7d), a rounding (now/d, now/w), RFC 3339 (2025-11-24T10:00:00Z), a local date-time (2025-11-24 10:00) or epoch milliseconds", s)
		}
	}
	if hasRound {
		if t, err = roundDown(t.In(loc), round); err != nil {
			return time.Time{}, false, fmt.Errorf("time %q: %w", s, err)
		}
	}
	return t, relative, nil
}

func parseAbsolute(s string, loc *time.Location) (time.Time, bool) {
	if isDigits(s) {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms < 100_000_000_000 {
			return time.Time{}, false
		}
		return time.UnixMilli(ms), true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
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

// parseOffset parses "-15m", "+1h30m" ("" is 0).
func parseOffset(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	sign := time.Duration(1)
	switch s[0] {
	case '-':
		sign = -1
	case '+':
	default:
		return 0, fmt.Errorf("expected - or + before the offset")
	}
	d, err := units.ParseOffset(s[1:])
	return sign * d, err
}

// roundDown rounds t (in its location) down to the start of a unit.
func roundDown(t time.Time, unit string) (time.Time, error) {
	y, mo, d := t.Date()
	loc := t.Location()
	switch unit {
	case "m":
		return t.Truncate(time.Minute), nil
	case "h":
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc), nil
	case "d":
		return time.Date(y, mo, d, 0, 0, 0, 0, loc), nil
	case "w":
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, mo, d-back, 0, 0, 0, 0, loc), nil
	case "M":
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc), nil
	case "y":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), nil
	}
	return time.Time{}, fmt.Errorf("unknown rounding /%s (want /m, /h, /d, /w, /M or /y)", unit)
}

// Resolve turns a range into times. now is the reference of relative
// times. relative reports whether the end depends on now.
func (r TimeRange) Resolve(now time.Time, loc *time.Location) (from, to time.Time, relative bool, err error) {
	toExpr := r.To
	if strings.TrimSpace(toExpr) == "" {
		toExpr = "now"
	}
	if from, _, err = ParseTime(r.From, now, loc); err != nil {
		return time.Time{}, time.Time{}, false, fmt.Errorf("from: %w", err)
	}
	if to, relative, err = ParseTime(toExpr, now, loc); err != nil {
		return time.Time{}, time.Time{}, false, fmt.Errorf("to: %w", err)
	}
	if !to.After(from) {
		return time.Time{}, time.Time{}, false, fmt.Errorf("the range %s to %s is empty: 'from' (%s) must be before 'to' (%s)",
			r.From, toExpr, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	return from, to, relative, nil
}

// Check reports whether the range can be resolved.
func (r TimeRange) Check() error {
	_, _, _, err := r.Resolve(time.Now(), time.UTC)
	return err
}

// alignStep is the step a relative range is aligned to, so that the
// panels of dashboards opened a few seconds apart share cached results:
// about 1/360 of the range, at least a second, at most a minute.
func alignStep(d time.Duration) time.Duration {
	steps := []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute}
	want := d / 360
	out := steps[0]
	for _, s := range steps {
		if s <= want {
			out = s
		}
	}
	return out
}

// align rounds a relative range down to its alignment step.
func align(from, to time.Time) (time.Time, time.Time) {
	step := alignStep(to.Sub(from))
	return from.Truncate(step), to.Truncate(step)
}
