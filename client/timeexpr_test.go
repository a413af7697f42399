package client

import (
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	cases := []struct {
		in   string
		loc  *time.Location
		want time.Time
	}{
		{"now", nil, now},
		{"NOW", nil, now},
		{"-15m", nil, now.Add(-15 * time.Minute)},
		{"-1h", nil, now.Add(-time.Hour)},
		{"-7d", nil, now.Add(-7 * 24 * time.Hour)},
		{"-2w", nil, now.Add(-14 * 24 * time.Hour)},
		{"-1h30m", nil, now.Add(-90 * time.Minute)},
		{"-90s", nil, now.Add(-90 * time.Second)},
		{"15m", nil, now.Add(-15 * time.Minute)},
		{"+10m", nil, now.Add(10 * time.Minute)},
		{"now-1d", nil, now.Add(-24 * time.Hour)},
		{"now+5m", nil, now.Add(5 * time.Minute)},
		{" -5m ", nil, now.Add(-5 * time.Minute)},
		{"2025-11-20T08:30:00Z", nil, time.Date(2025, 11, 20, 8, 30, 0, 0, time.UTC)},
		{"2025-11-20T08:30:00.250+01:00", nil, time.Date(2025, 11, 20, 7, 30, 0, 250e6, time.UTC)},
		{"2025-11-20T08:30:00", berlin, time.Date(2025, 11, 20, 7, 30, 0, 0, time.UTC)},
		{"2025-11-20 08:30:00", nil, time.Date(2025, 11, 20, 8, 30, 0, 0, time.UTC)},
		{"2025-11-20 08:30", berlin, time.Date(2025, 11, 20, 7, 30, 0, 0, time.UTC)},
		{"2025-11-20", nil, time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)},
		{"1763971200000", nil, time.Date(2025, 11, 24, 8, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		got, err := ParseTime(c.in, now, c.loc)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("ParseTime(%q) = %v, want %v", c.in, got, c.want)
		}
	}

	for in, want := range map[string]string{
		"":            "empty",
		"-15":         "no unit",
		"-15x":        "unknown unit",
		"-":           "missing offset",
		"now*2":       "after \"now\"",
		"yesterday":   "want now",
		"1763971200":  "seconds",
		"2025-13-01":  "want now",
		"-m":          "expected a number",
		"-999999999w": "too large",
	} {
		_, err := ParseTime(in, now, nil)
		if err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "time \""+in) {
			t.Errorf("ParseTime(%q): error %q, want it to quote the input and mention %q", in, err, want)
		}
	}
}

func TestTimestampJSON(t *testing.T) {
	for in, want := range map[string]time.Time{
		`"2025-11-24T10:00:00Z"`:      time.Date(2025, 11, 24, 10, 0, 0, 0, time.UTC),
		`"2025-11-24T10:00:00.5Z"`:    time.Date(2025, 11, 24, 10, 0, 0, 5e8, time.UTC),
		`1763978400000`:               time.Date(2025, 11, 24, 10, 0, 0, 0, time.UTC),
		`"1763978400000"`:             time.Date(2025, 11, 24, 10, 0, 0, 0, time.UTC),
		`null`:                        {},
		`"2025-11-24T11:00:00+01:00"`: time.Date(2025, 11, 24, 10, 0, 0, 0, time.UTC),
	} {
		var ts Timestamp
		if err := ts.UnmarshalJSON([]byte(in)); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !ts.Equal(want) {
			t.Errorf("%s: got %v, want %v", in, ts.Time, want)
		}
	}
	var ts Timestamp
	if err := ts.UnmarshalJSON([]byte(`"yesterday"`)); err == nil {
		t.Error("bad timestamp accepted")
	}
}
