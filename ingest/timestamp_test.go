package ingest

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testReceipt = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

func utc(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
}

func TestDetectTimestamp(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no zoneinfo:", err)
	}
	long := strings.Repeat("x", 240) + " 2015-01-01 12:00:00 late"
	tooLate := strings.Repeat("x", 260) + " 2015-01-01 12:00:00"
	tests := []struct {
		text    string
		want    time.Time // zero: no timestamp
		format  string
		start   int
		loc     *time.Location
		receipt time.Time
	}{
		// ISO 8601 / RFC 3339
		{text: "2015-10-18 18:01:47,978 INFO [main]", want: utc(2015, 10, 18, 18, 1, 47, 978e6), format: FormatISO8601Comma},
		{text: "2024-03-01T12:34:56.789123Z level=info", want: utc(2024, 3, 1, 12, 34, 56, 789123000), format: FormatRFC3339},
		{text: "2024-03-01T12:34:56+05:30 x", want: utc(2024, 3, 1, 7, 4, 56, 0), format: FormatRFC3339},
		{text: "2024-03-01T12:34:56+0530", want: utc(2024, 3, 1, 7, 4, 56, 0), format: FormatRFC3339},
		{text: "2024-03-01T12:34:56-07 x", want: utc(2024, 3, 1, 19, 34, 56, 0), format: FormatRFC3339},
		{text: "2024-03-01t12:34:56z", want: utc(2024, 3, 1, 12, 34, 56, 0), format: FormatRFC3339},
		{text: "2024-03-01T12:34:56.123456789123Z", want: utc(2024, 3, 1, 12, 34, 56, 123456789), format: FormatRFC3339},
		{text: "2024-03-01T12:34:56", want: utc(2024, 3, 1, 12, 34, 56, 0), format: FormatISO8601},
		{text: "2024-03-01T12:34:56,5Z", want: utc(2024, 3, 1, 12, 34, 56, 5e8), format: FormatISO8601},
		{text: "2024-03-01 12:34:56 +0200 msg", want: utc(2024, 3, 1, 10, 34, 56, 0), format: FormatISO8601Space},
		{text: "2024-03-01 12:34:56 -02:30 msg", want: utc(2024, 3, 1, 15, 4, 56, 0), format: FormatISO8601Space},
		{text: "2024-03-01 12:34:56 UTC msg", want: utc(2024, 3, 1, 12, 34, 56, 0), format: FormatISO8601Space},
		{text: "2024-03-01 12:34:56.5", want: utc(2024, 3, 1, 12, 34, 56, 5e8), format: FormatISO8601Space},
		{text: "2015-07-29 17:41:44,747 - INFO  [QuorumPeer", want: utc(2015, 7, 29, 17, 41, 44, 747e6), format: FormatISO8601Comma},
		{text: "2016-09-28 04:30:30, Info    CBS", want: utc(2016, 9, 28, 4, 30, 30, 0), format: FormatISO8601Space},
		{text: "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO", want: utc(2017, 5, 16, 0, 0, 0, 8e6), format: FormatISO8601Space, start: 35},
		{text: "2015-07-01 12:00:00 in New York", want: utc(2015, 7, 1, 16, 0, 0, 0), format: FormatISO8601Space, loc: ny},
		{text: "2015-01-01 12:00:00 in New York", want: utc(2015, 1, 1, 17, 0, 0, 0), format: FormatISO8601Space, loc: ny},
		{text: "2015-01-01T12:00:00Z zone wins", want: utc(2015, 1, 1, 12, 0, 0, 0), format: FormatRFC3339, loc: ny},
		{text: "id=2015-01-01T00:00:00Z", want: utc(2015, 1, 1, 0, 0, 0, 0), format: FormatRFC3339, start: 3},
		{text: `{"when":"2015-01-01T00:00:00Z"}`, want: utc(2015, 1, 1, 0, 0, 0, 0), format: FormatRFC3339, start: 9},
		{text: long, want: utc(2015, 1, 1, 12, 0, 0, 0), format: FormatISO8601Space, start: 241},
		{text: tooLate},
		// Other layouts.
		{text: "2006/01/02 15:04:05 msg", want: utc(2006, 1, 2, 15, 4, 5, 0), format: FormatYMDSlash},
		{text: "17/06/09 20:10:40 INFO executor", want: utc(2017, 6, 9, 20, 10, 40, 0), format: FormatYMDSlash2},
		{text: "081109 203615 148 INFO dfs.DataNode", want: utc(2008, 11, 9, 20, 36, 15, 0), format: FormatYYMMDD},
		{text: "20171223-22:15:29:606|Step_LSC|30002312", want: utc(2017, 12, 23, 22, 15, 29, 606e6), format: FormatCompact},
		{text: "20171223-22:16:0:8|Step_LSC", want: utc(2017, 12, 23, 22, 16, 0, 8e6), format: FormatCompact},
		{text: "20171224-0:28:0:83|Step_LSC", want: utc(2017, 12, 24, 0, 28, 0, 83e6), format: FormatCompact},
		{text: "03-17 16:13:38.811  1702  2395 D WindowManager", want: utc(2025, 3, 17, 16, 13, 38, 811e6), format: FormatLogcat},
		{text: "Jun 14 15:16:01 combo sshd(pam_unix)[19939]", want: utc(2025, 6, 14, 15, 16, 1, 0), format: FormatSyslog3164},
		{text: "Jun  4 15:16:01 host x", want: utc(2025, 6, 4, 15, 16, 1, 0), format: FormatSyslog3164},
		{text: "Jun 4 15:16:01 host x", want: utc(2025, 6, 4, 15, 16, 1, 0), format: FormatSyslog3164},
		{text: "JUN 14 15:16:01.250 host", want: utc(2025, 6, 14, 15, 16, 1, 25e7), format: FormatSyslog3164},
		{text: "<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47", want: utc(2003, 10, 11, 22, 14, 15, 3e6), format: FormatSyslog5424, start: 6},
		{text: "<13>Oct 11 22:14:15 mymachine su", want: utc(2025, 10, 11, 22, 14, 15, 0), format: FormatSyslog3164, start: 4},
		{text: `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326`, want: utc(2000, 10, 10, 20, 55, 36, 0), format: FormatCLF, start: 19},
		{text: "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok", want: utc(2005, 12, 4, 4, 47, 44, 0), format: FormatCtime, start: 1},
		{text: "[Wed Oct 11 14:32:52.123456 2000] [core:error]", want: utc(2000, 10, 11, 14, 32, 52, 123456000), format: FormatCtime, start: 1},
		{text: "Mon Jan  2 15:04:05 UTC 2006 boot", want: utc(2006, 1, 2, 15, 4, 5, 0), format: FormatUnixDate},
		{text: "Date: Mon, 02 Jan 2006 15:04:05 GMT", want: utc(2006, 1, 2, 15, 4, 5, 0), format: FormatRFC1123, start: 6},
		{text: "Mon, 02 Jan 2006 15:04:05 +0100", want: utc(2006, 1, 2, 14, 4, 5, 0), format: FormatRFC1123},
		// Epochs: only as the first token.
		{text: "1700000000 foo", want: time.Unix(1700000000, 0), format: FormatEpochS},
		{text: "1700000000.123456 foo", want: time.Unix(1700000000, 123456000), format: FormatEpochS},
		{text: "1700000000123 foo", want: time.Unix(1700000000, 123e6), format: FormatEpochMS},
		{text: "[1700000000] foo", want: time.Unix(1700000000, 0), format: FormatEpochS, start: 1},
		{text: "foo 1700000000"},
		{text: "1700000000123abc"},
		{text: "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component"},
		// Year inference.
		{text: "Dec 31 23:59:59 host", want: utc(2025, 12, 31, 23, 59, 59, 0), format: FormatSyslog3164, receipt: utc(2026, 1, 1, 0, 10, 0, 0)},
		{text: "Jan  1 00:00:05 host", want: utc(2026, 1, 1, 0, 0, 5, 0), format: FormatSyslog3164, receipt: utc(2025, 12, 31, 23, 30, 0, 0)},
		{text: "Nov 26 11:00:00 host (less than a day ahead)", want: utc(2025, 11, 26, 11, 0, 0, 0), format: FormatSyslog3164},
		{text: "Nov 26 13:00:00 host (more than a day ahead)", want: utc(2024, 11, 26, 13, 0, 0, 0), format: FormatSyslog3164},
		{text: "Feb 29 12:00:00 leap", want: utc(2024, 2, 29, 12, 0, 0, 0), format: FormatSyslog3164},
		// Not timestamps.
		{text: "no timestamp here, just 12:00:00 and 2015"},
		{text: "v1.2015-01-01 12:00:00"},
		{text: "abc2015-01-01 12:00:00"},
		{text: "2015-13-01 12:00:00"},
		{text: "2015-02-30 12:00:00"},
		{text: "2015-01-01 24:00:00"},
		{text: "2015-01-01 12:60:00"},
		{text: "2015-01-01 12:00:001"},
		{text: "2015-01-01"},
		{text: "1850-01-01 00:00:00"},
		{text: "<34>1 - host app - - msg"},
		{text: "Jan 32 12:00:00 x"},
		{text: "June 14 15:16:01"},
		{text: "x 081109 203615 not first"},
		{text: ""},
	}
	for _, tc := range tests {
		receipt := testReceipt
		if !tc.receipt.IsZero() {
			receipt = tc.receipt
		}
		ts, ok := DetectTimestamp(tc.text, tc.loc, receipt)
		if tc.want.IsZero() {
			if ok {
				t.Errorf("%q: found %v (%s) at %d, want nothing", tc.text, time.Unix(0, ts.UnixNano).UTC(), ts.Format, ts.Start)
			}
			continue
		}
		if !ok {
			t.Errorf("%q: no timestamp, want %v", tc.text, tc.want)
			continue
		}
		if ts.UnixNano != tc.want.UnixNano() || ts.Format != tc.format || ts.Start != tc.start {
			t.Errorf("%q: got %v %s at %d, want %v %s at %d", tc.text,
				time.Unix(0, ts.UnixNano).UTC(), ts.Format, ts.Start, tc.want.UTC(), tc.format, tc.start)
		}
		if ts.End <= ts.Start || ts.End > len(tc.text) {
			t.Errorf("%q: bad extent [%d,%d)", tc.text, ts.Start, ts.End)
		}
	}
}

func TestDetectAtStart(t *testing.T) {
	d := NewTimestampDetector(nil, testReceipt)
	for text, want := range map[string]bool{
		"2015-01-01 12:00:00 start":           true,
		"[2015-01-01 12:00:00] start":         true,
		"<34>1 2003-10-11T22:14:15.003Z host": true,
		"<13>Oct 11 22:14:15 host":            true,
		"Oct 11 22:14:15 host":                true,
		"\tat com.example.Foo(Foo.java:12)":   false,
		"  2015-01-01 12:00:00 indented":      false,
		"Caused by: x at 2015-01-01 12:00:00": false,
		"host 2015-01-01 12:00:00":            false,
		"1700000000 epoch first":              true,
		"{\"time\":\"2015-01-01T00:00:00Z\"}": false,
		"":                                    false,
	} {
		if _, got := d.DetectAtStart(text); got != want {
			t.Errorf("DetectAtStart(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestParseTimeValue(t *testing.T) {
	d := NewTimestampDetector(nil, testReceipt)
	tests := []struct {
		v        string
		isNumber bool
		want     time.Time
	}{
		{"1700000000", true, time.Unix(1700000000, 0)},
		{"1700000000.25", true, time.Unix(1700000000, 25e7)},
		{"1700000000123", true, time.Unix(1700000000, 123e6)},
		{"1700000000123.5", true, time.Unix(1700000000, 123500000)},
		{"1700000000123456", true, time.Unix(1700000000, 123456000)},
		{"1700000000123456789", true, time.Unix(1700000000, 123456789)},
		{"1.7e9", true, time.Unix(1700000000, 0)},
		{"1700000000", false, time.Unix(1700000000, 0)}, // digits in a string
		{"2020-09-14T01:19:40.123Z", false, utc(2020, 9, 14, 1, 19, 40, 123e6)},
		{"Mon, 02 Jan 2006 15:04:05 GMT", false, utc(2006, 1, 2, 15, 4, 5, 0)},
		{" 2020-09-14 01:19:40", false, utc(2020, 9, 14, 1, 19, 40, 0)},
		{"0", true, time.Time{}},
		{"-5", true, time.Time{}},
		{"99999999999999999999", true, time.Time{}},
		{"1e300", true, time.Time{}},
		{"yesterday", false, time.Time{}},
		{"", false, time.Time{}},
		{"at 2020-09-14T01:19:40Z", false, time.Time{}},
	}
	for _, tc := range tests {
		ns, ok := d.ParseTimeValue(tc.v, tc.isNumber)
		if tc.want.IsZero() {
			if ok {
				t.Errorf("ParseTimeValue(%q) = %v, want no time", tc.v, time.Unix(0, ns).UTC())
			}
			continue
		}
		if !ok || ns != tc.want.UnixNano() {
			t.Errorf("ParseTimeValue(%q) = %v, %v; want %v", tc.v, time.Unix(0, ns).UTC(), ok, tc.want.UTC())
		}
	}
}

// civilUnix must agree with time.Date over the whole supported range.
func TestCivilUnix(t *testing.T) {
	for y := minYear; y <= maxYear; y += 7 {
		for mo := 1; mo <= 12; mo++ {
			for _, d := range []int{1, 15, daysIn(y, mo)} {
				want := time.Date(y, time.Month(mo), d, 13, 14, 15, 0, time.UTC).Unix()
				if got := civilUnix(y, mo, d, 13, 14, 15); got != want {
					t.Fatalf("civilUnix(%d-%02d-%02d) = %d, want %d", y, mo, d, got, want)
				}
			}
		}
	}
}

// TestLoghubTimestampCoverage reports how many lines of each Loghub set get
// a timestamp, and guards the sets that are fully covered.
func TestLoghubTimestampCoverage(t *testing.T) {
	dir := sharedData(t, "loghub_2k")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*_2k.log"))
	if len(files) == 0 {
		t.Skip("no Loghub sets in " + dir)
	}
	// HPC's only time is an epoch in the fifth column, which is trusted
	// only as the first token of a line.
	expectNone := map[string]bool{"HPC": true}
	for _, f := range files {
		set := filepath.Base(filepath.Dir(f))
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		d := NewTimestampDetector(nil, testReceipt)
		lines, found := 0, 0
		formats := map[string]int{}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		var missed string
		for sc.Scan() {
			lines++
			if ts, ok := d.Detect(sc.Text()); ok {
				found++
				formats[ts.Format]++
			} else if missed == "" {
				missed = sc.Text()
			}
		}
		fh.Close()
		t.Logf("%-10s %4d/%4d lines (%5.1f%%) %v", set, found, lines, 100*float64(found)/float64(lines), formats)
		switch {
		case expectNone[set] && found != 0:
			t.Errorf("%s: %d lines got a timestamp, want none", set, found)
		case !expectNone[set] && found != lines:
			t.Errorf("%s: %d of %d lines; first miss: %.100q", set, found, lines, missed)
		}
	}
}

func FuzzDetectTimestamp(f *testing.F) {
	for _, s := range []string{
		"2015-10-18 18:01:47,978 INFO", "2024-03-01T12:34:56.789123+05:30", "Jun 14 15:16:01 combo",
		"<34>1 2003-10-11T22:14:15.003Z", "[10/Oct/2000:13:55:36 -0700]", "[Sun Dec 04 04:47:44 2005]",
		"1700000000.5 x", "1700000000123", "081109 203615 148", "20171223-22:16:0:8|x", "03-17 16:13:38.811",
		"17/06/09 20:10:40", "Mon, 02 Jan 2006 15:04:05 GMT", "Mon Jan  2 15:04:05 UTC 2006", "<13>Feb 29 00:00:00",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, ny bool) {
		var loc *time.Location
		if ny {
			loc, _ = time.LoadLocation("America/New_York")
		}
		d := NewTimestampDetector(loc, testReceipt)
		ts, ok := d.Detect(s)
		if !ok {
			if _, ok := d.DetectAtStart(s); ok {
				t.Fatalf("%q: DetectAtStart finds a timestamp Detect does not", s)
			}
			return
		}
		if ts.Format == "" || ts.Start < 0 || ts.Start >= scanWindow || ts.End <= ts.Start || ts.End > len(s) {
			t.Fatalf("%q: bad result %+v", s, ts)
		}
		if st, ok := d.DetectAtStart(s); ok && st != ts {
			t.Fatalf("%q: DetectAtStart %+v, Detect %+v", s, st, ts)
		}
		tm := time.Unix(0, ts.UnixNano).UTC()
		if tm.Year() < minYear-1 || tm.Year() > maxYear+1 {
			t.Fatalf("%q: year %d", s, tm.Year())
		}
		// Where Go's own parser reads the same text, it must agree.
		if ts.Format == FormatRFC3339 {
			if want, err := time.Parse(time.RFC3339Nano, s[ts.Start:ts.End]); err == nil && want.UnixNano() != ts.UnixNano {
				t.Fatalf("%q: %v, time.Parse says %v", s, tm, want.UTC())
			}
		}
		// Parsing the timestamp's own text alone gives the same time.
		again, ok := d.Detect(s[ts.Start:ts.End])
		if !ok || again.UnixNano != ts.UnixNano {
			t.Fatalf("%q: alone %q gives %+v, %v; in context %+v", s, s[ts.Start:ts.End], again, ok, ts)
		}
	})
}
