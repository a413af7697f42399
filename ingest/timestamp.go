package ingest

import (
	"math"
	"strconv"
	"time"
)

// Timestamp formats: the stable names stored in _format. They name the
// pattern found, not the exact layout (a fraction or zone may be present or
// not), so that a search on _format groups events the way a person would.
const (
	FormatRFC3339      = "rfc3339"         // 2006-01-02T15:04:05.999Z07:00, zone required
	FormatISO8601      = "iso8601"         // 2006-01-02T15:04:05, no zone or a comma fraction
	FormatISO8601Space = "iso8601-space"   // 2006-01-02 15:04:05[.999][ zone]
	FormatISO8601Comma = "iso8601-comma"   // 2006-01-02 15:04:05,999 (log4j, Hadoop, Zookeeper)
	FormatYMDSlash     = "ymd-slash"       // 2006/01/02 15:04:05
	FormatYMDSlash2    = "yy/mm/dd"        // 06/01/02 15:04:05 (log4j yy/MM/dd, Spark)
	FormatYYMMDD       = "yymmdd-hhmmss"   // 060102 150405 (HDFS), first token only
	FormatCompact      = "yyyymmdd-hhmmss" // 20060102-15:04:05:999 (HealthApp)
	FormatLogcat       = "logcat"          // 01-02 15:04:05.999 (Android), no year
	FormatSyslog3164   = "syslog-rfc3164"  // Jan _2 15:04:05, no year
	FormatSyslog5424   = "syslog-rfc5424"  // <34>1 2003-10-11T22:14:15.003Z
	FormatCLF          = "apache-clf"      // 10/Oct/2000:13:55:36 -0700
	FormatCtime        = "ctime"           // Mon Jan _2 15:04:05[.999] 2006 (Apache error log)
	FormatUnixDate     = "unix-date"       // Mon Jan _2 15:04:05 UTC 2006 (date(1)), UTC/GMT only
	FormatRFC1123      = "rfc1123"         // Mon, 02 Jan 2006 15:04:05 GMT
	FormatEpochS       = "epoch-s"         // 1136214245[.999], first token only
	FormatEpochMS      = "epoch-ms"        // 1136214245999, first token only
)

const (
	// formatJSONPrefix + key is the format of a time read from a JSON
	// event's top-level key ("json:eventTime").
	formatJSONPrefix = "json:"
	// scanWindow bounds where a timestamp may start: past it, a date is
	// more likely part of the message than the event's time.
	scanWindow = 256
	nsPerSec   = int64(time.Second)
)

// Timestamp is a time found in a text.
type Timestamp struct {
	UnixNano int64
	Format   string
	// Start and End delimit the timestamp's text.
	Start, End int
}

// TimestampDetector finds timestamps in event text. It is not safe for
// concurrent use (it caches zone offsets); make one per request.
type TimestampDetector struct {
	loc         *time.Location
	utc         bool
	receipt     int64 // ns
	receiptYear int   // in loc

	// A named zone's offset depends on the date; looking it up costs a
	// time.Date call, so the last local minute's offset is remembered.
	// Zone transitions fall on whole minutes, so this is exact.
	cacheMin int64
	cacheOff int64
	cacheOK  bool
}

// NewTimestampDetector returns a detector that reads zone-less times in loc
// (nil = UTC) and places year-less times relative to receipt.
func NewTimestampDetector(loc *time.Location, receipt time.Time) *TimestampDetector {
	if loc == nil {
		loc = time.UTC
	}
	return &TimestampDetector{
		loc:         loc,
		utc:         loc == time.UTC,
		receipt:     receipt.UnixNano(),
		receiptYear: receipt.In(loc).Year(),
	}
}

// DetectTimestamp is a one-off Detect with a fresh detector.
func DetectTimestamp(text string, loc *time.Location, receipt time.Time) (Timestamp, bool) {
	return NewTimestampDetector(loc, receipt).Detect(text)
}

// charClass marks the bytes at which a timestamp may start: digits, and the
// capitals that begin English month and weekday names. Every other byte is
// skipped with one table lookup.
var charClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	for _, c := range "ADFJMNOSTW" {
		t[c] = classUpper
	}
	return t
}()

const (
	classDigit = 1
	classUpper = 2
)

// Detect returns the first timestamp that starts within the first 256
// bytes of text, scanning left to right.
func (d *TimestampDetector) Detect(text string) (Timestamp, bool) {
	p := firstTokenPos(text)
	if ts, ok := d.detectFrom(text, p); ok {
		return ts, true
	}
	n := min(len(text), scanWindow)
	for i := 0; i < n; i++ {
		cls := charClass[text[i]]
		if cls == 0 || i == p || i > 0 && !startOK(text, i) {
			continue
		}
		var ts Timestamp
		var ok bool
		if cls == classDigit {
			ts, ok = d.atDigit(text, i, false)
		} else {
			ts, ok = d.atUpper(text, i)
		}
		if ok {
			return ts, true
		}
	}
	return Timestamp{}, false
}

// DetectAtStart reports whether text begins with a timestamp: one that
// starts at its first byte, after an optional "[" or a syslog "<pri>" (and
// RFC 5424 version). This is the multiline boundary test.
func (d *TimestampDetector) DetectAtStart(text string) (Timestamp, bool) {
	return d.detectFrom(text, firstTokenPos(text))
}

// firstTokenPos skips what may precede a line's leading timestamp: a
// syslog priority "<34>" with an optional RFC 5424 version "1 ", or "[".
func firstTokenPos(s string) int {
	p := 0
	if len(s) > 2 && s[0] == '<' {
		j := 1
		for j < len(s) && j <= 4 && isDigit(s[j]) {
			j++
		}
		if j > 1 && j < len(s) && s[j] == '>' {
			p = j + 1
			if len(s) > p+1 && s[p] == '1' && s[p+1] == ' ' {
				p += 2
			}
		}
	}
	if p < len(s) && s[p] == '[' {
		p++
	}
	return p
}

func (d *TimestampDetector) detectFrom(s string, p int) (Timestamp, bool) {
	if p >= len(s) {
		return Timestamp{}, false
	}
	switch charClass[s[p]] {
	case classDigit:
		ts, ok := d.atDigit(s, p, true)
		if ok && (ts.Format == FormatRFC3339 || ts.Format == FormatISO8601) &&
			p > 2 && s[0] == '<' && s[p-2] == '1' && s[p-1] == ' ' {
			ts.Format = FormatSyslog5424
		}
		return ts, ok
	case classUpper:
		return d.atUpper(s, p)
	}
	return Timestamp{}, false
}

// startOK reports whether a timestamp may start at s[i], i > 0: at a word
// start, and not inside a dotted or dashed number such as a version or an
// IP address, where a later piece could look like a date.
func startOK(s string, i int) bool {
	p := s[i-1]
	if isAlnum(p) {
		return false
	}
	if (p == '-' || p == '.' || p == '/' || p == ':') && i >= 2 && isDigit(s[i-2]) {
		return false
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// digitsAt returns the value of the n digits at s[i:], or ok=false.
func digitsAt(s string, i, n int) (v int, ok bool) {
	if i < 0 || i+n > len(s) {
		return 0, false
	}
	for k := i; k < i+n; k++ {
		c := s[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// atDigit tries the numeric formats at s[i]. first says s[i] is the line's
// first token, the only place where bare epoch numbers and HDFS's
// "yymmdd hhmmss" are believed.
func (d *TimestampDetector) atDigit(s string, i int, first bool) (Timestamp, bool) {
	n := 0
	for i+n < len(s) && n < 14 && isDigit(s[i+n]) {
		n++
	}
	next := byteAt(s, i+n)
	switch n {
	case 4:
		switch next {
		case '-':
			return d.iso(s, i)
		case '/':
			return d.ymdSlash(s, i)
		}
	case 2:
		switch next {
		case '/':
			if ts, ok := d.clf(s, i); ok {
				return ts, true
			}
			return d.ymdSlash2(s, i)
		case '-':
			return d.logcat(s, i)
		}
	case 8:
		if next == '-' {
			return d.compact(s, i)
		}
	case 6:
		if first && next == ' ' {
			return d.yymmdd(s, i)
		}
	case 10, 13:
		if first {
			return epochToken(s, i, n)
		}
	}
	return Timestamp{}, false
}

// atUpper tries the formats that start with an English month or weekday.
func (d *TimestampDetector) atUpper(s string, i int) (Timestamp, bool) {
	if m := monthAt(s, i); m > 0 {
		if byteAt(s, i+3) == ' ' {
			return d.syslog(s, i, m)
		}
		return Timestamp{}, false
	}
	if weekdayAt(s, i) {
		switch byteAt(s, i+3) {
		case ' ':
			return d.ctime(s, i)
		case ',':
			return d.rfc1123(s, i)
		}
	}
	return Timestamp{}, false
}

// monthAt returns 1..12 for a three-letter English month name at s[i]
// ("Jan" or "JAN"), followed by a non-letter; else 0. Every capital of a
// text is a candidate, so the name is matched as one packed key.
func monthAt(s string, i int) int {
	if i+3 > len(s) || isLetter(byteAt(s, i+3)) {
		return 0
	}
	switch key3(s, i) {
	case 'J'<<16 | 'a'<<8 | 'n':
		return 1
	case 'F'<<16 | 'e'<<8 | 'b':
		return 2
	case 'M'<<16 | 'a'<<8 | 'r':
		return 3
	case 'A'<<16 | 'p'<<8 | 'r':
		return 4
	case 'M'<<16 | 'a'<<8 | 'y':
		return 5
	case 'J'<<16 | 'u'<<8 | 'n':
		return 6
	case 'J'<<16 | 'u'<<8 | 'l':
		return 7
	case 'A'<<16 | 'u'<<8 | 'g':
		return 8
	case 'S'<<16 | 'e'<<8 | 'p':
		return 9
	case 'O'<<16 | 'c'<<8 | 't':
		return 10
	case 'N'<<16 | 'o'<<8 | 'v':
		return 11
	case 'D'<<16 | 'e'<<8 | 'c':
		return 12
	}
	return 0
}

func weekdayAt(s string, i int) bool {
	if i+3 > len(s) {
		return false
	}
	switch key3(s, i) {
	case 'M'<<16 | 'o'<<8 | 'n', 'T'<<16 | 'u'<<8 | 'e', 'W'<<16 | 'e'<<8 | 'd', 'T'<<16 | 'h'<<8 | 'u',
		'F'<<16 | 'r'<<8 | 'i', 'S'<<16 | 'a'<<8 | 't', 'S'<<16 | 'u'<<8 | 'n':
		return true
	}
	return false
}

// key3 packs s[i:i+3] with the last two letters lowered.
func key3(s string, i int) uint32 {
	return uint32(s[i])<<16 | uint32(lower(s[i+1]))<<8 | uint32(lower(s[i+2]))
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// clock is a parsed time of day with what followed it.
type clock struct {
	h, mi, sec, ns int
	comma          bool // the fraction was written with a comma
	zoned          bool
	off            int // zone offset in seconds, when zoned
}

// parseClock reads hh:mm:ss[.frac|,frac] at s[j], and a zone after it if
// zone is set. It returns the offset just past what it read.
func parseClock(s string, j int, zone bool) (c clock, end int, ok bool) {
	var ok1, ok2, ok3 bool
	c.h, ok1 = digitsAt(s, j, 2)
	c.mi, ok2 = digitsAt(s, j+3, 2)
	c.sec, ok3 = digitsAt(s, j+6, 2)
	if !ok1 || !ok2 || !ok3 || s[j+2] != ':' || s[j+5] != ':' || c.h > 23 || c.mi > 59 || c.sec > 60 {
		return c, 0, false
	}
	j += 8
	if f := byteAt(s, j); (f == '.' || f == ',') && isDigit(byteAt(s, j+1)) {
		c.comma = f == ','
		c.ns, j = parseFraction(s, j+1)
	}
	if zone {
		c.off, c.zoned, j = parseZone(s, j)
	}
	if isDigit(byteAt(s, j)) {
		return c, 0, false
	}
	return c, j, true
}

// parseFraction reads the digits at s[j] as a fraction of a second: any
// number of digits, nanosecond precision.
func parseFraction(s string, j int) (ns, end int) {
	scale := int(nsPerSec)
	for j < len(s) && isDigit(s[j]) {
		if scale > 1 {
			scale /= 10
			ns += int(s[j]-'0') * scale
		}
		j++
	}
	return ns, j
}

// parseZone reads an optional zone at s[j]: Z, ±hh:mm, ±hhmm, ±hh, or after
// one space ±hhmm, ±hh:mm, UTC or GMT.
func parseZone(s string, j int) (off int, ok bool, end int) {
	c := byteAt(s, j)
	switch c {
	case 'Z', 'z':
		if !isLetter(byteAt(s, j+1)) {
			return 0, true, j + 1
		}
	case '+', '-':
		return parseOffset(s, j, true)
	case ' ':
		switch byteAt(s, j+1) {
		case '+', '-':
			if off, ok, end := parseOffset(s, j+1, false); ok {
				return off, true, end
			}
		case 'U', 'G':
			if hasAt(s, j+1, "UTC") || hasAt(s, j+1, "GMT") {
				if !isAlnum(byteAt(s, j+4)) {
					return 0, true, j + 4
				}
			}
		}
	}
	return 0, false, j
}

// parseOffset reads ±hh:mm or ±hhmm (or ±hh when short is allowed) at s[j].
func parseOffset(s string, j int, short bool) (off int, ok bool, end int) {
	h, ok := digitsAt(s, j+1, 2)
	if !ok || h > 23 {
		return 0, false, j
	}
	k := j + 3
	m := 0
	if byteAt(s, k) == ':' {
		k++
	}
	if mm, ok := digitsAt(s, k, 2); ok {
		m, k = mm, k+2
	} else if !short || k != j+3 {
		return 0, false, j // "+05:" or a bare "+05" where it is not allowed
	}
	if m > 59 || isDigit(byteAt(s, k)) {
		return 0, false, j
	}
	off = h*3600 + m*60
	if s[j] == '-' {
		off = -off
	}
	return off, true, k
}

func hasAt(s string, i int, p string) bool { return len(s)-i >= len(p) && s[i:i+len(p)] == p }

// iso reads yyyy-mm-dd[T ]hh:mm:ss[frac][zone] at s[i].
func (d *TimestampDetector) iso(s string, i int) (Timestamp, bool) {
	y, _ := digitsAt(s, i, 4)
	mo, ok1 := digitsAt(s, i+5, 2)
	dd, ok2 := digitsAt(s, i+8, 2)
	if !ok1 || !ok2 || s[i+7] != '-' {
		return Timestamp{}, false
	}
	sep := byteAt(s, i+10)
	if sep != 'T' && sep != ' ' && sep != 't' {
		return Timestamp{}, false
	}
	c, end, ok := parseClock(s, i+11, true)
	if !ok {
		return Timestamp{}, false
	}
	var f string
	switch {
	case sep != ' ' && c.zoned && !c.comma:
		f = FormatRFC3339
	case sep != ' ':
		f = FormatISO8601
	case c.comma:
		f = FormatISO8601Comma
	default:
		f = FormatISO8601Space
	}
	return d.make(y, mo, dd, c, f, i, end)
}

// ymdSlash reads yyyy/mm/dd hh:mm:ss[frac][zone] at s[i].
func (d *TimestampDetector) ymdSlash(s string, i int) (Timestamp, bool) {
	y, _ := digitsAt(s, i, 4)
	mo, ok1 := digitsAt(s, i+5, 2)
	dd, ok2 := digitsAt(s, i+8, 2)
	if !ok1 || !ok2 || s[i+7] != '/' || byteAt(s, i+10) != ' ' {
		return Timestamp{}, false
	}
	c, end, ok := parseClock(s, i+11, true)
	if !ok {
		return Timestamp{}, false
	}
	return d.make(y, mo, dd, c, FormatYMDSlash, i, end)
}

// ymdSlash2 reads yy/mm/dd hh:mm:ss at s[i], the log4j yy/MM/dd layout.
func (d *TimestampDetector) ymdSlash2(s string, i int) (Timestamp, bool) {
	y, _ := digitsAt(s, i, 2)
	mo, ok1 := digitsAt(s, i+3, 2)
	dd, ok2 := digitsAt(s, i+6, 2)
	if !ok1 || !ok2 || s[i+5] != '/' || byteAt(s, i+8) != ' ' {
		return Timestamp{}, false
	}
	c, end, ok := parseClock(s, i+9, true)
	if !ok {
		return Timestamp{}, false
	}
	return d.make(2000+y, mo, dd, c, FormatYMDSlash2, i, end)
}

// clf reads the Common Log Format time dd/Mon/yyyy:hh:mm:ss[ ±hhmm] at s[i].
func (d *TimestampDetector) clf(s string, i int) (Timestamp, bool) {
	dd, _ := digitsAt(s, i, 2)
	mo := monthAt(s, i+3)
	y, ok := digitsAt(s, i+7, 4)
	if mo == 0 || !ok || byteAt(s, i+6) != '/' || byteAt(s, i+11) != ':' {
		return Timestamp{}, false
	}
	c, end, ok := parseClock(s, i+12, true)
	if !ok {
		return Timestamp{}, false
	}
	return d.make(y, mo, dd, c, FormatCLF, i, end)
}

// logcat reads Android's mm-dd hh:mm:ss.SSS at s[i]; the year is inferred.
func (d *TimestampDetector) logcat(s string, i int) (Timestamp, bool) {
	mo, _ := digitsAt(s, i, 2)
	dd, ok := digitsAt(s, i+3, 2)
	if !ok || byteAt(s, i+5) != ' ' {
		return Timestamp{}, false
	}
	c, end, ok := parseClock(s, i+6, false)
	if !ok {
		return Timestamp{}, false
	}
	return d.makeNoYear(mo, dd, c, FormatLogcat, i, end)
}

// compact reads yyyymmdd-H:m:s[:SSS|.frac] at s[i]. HealthApp writes it
// with unpadded fields and milliseconds after a colon: 20171223-22:16:0:119.
func (d *TimestampDetector) compact(s string, i int) (Timestamp, bool) {
	y, _ := digitsAt(s, i, 4)
	mo, _ := digitsAt(s, i+4, 2)
	dd, _ := digitsAt(s, i+6, 2)
	var c clock
	j := i + 9
	var ok bool
	for k, p := range [...]*int{&c.h, &c.mi, &c.sec} {
		if k > 0 {
			if byteAt(s, j) != ':' {
				return Timestamp{}, false
			}
			j++
		}
		if *p, j, ok = shortNumber(s, j); !ok {
			return Timestamp{}, false
		}
	}
	if c.h > 23 || c.mi > 59 || c.sec > 60 {
		return Timestamp{}, false
	}
	switch f := byteAt(s, j); {
	case f == '.' && isDigit(byteAt(s, j+1)):
		c.ns, j = parseFraction(s, j+1)
	case f == ':' && isDigit(byteAt(s, j+1)):
		// Java's unpadded "S": a count of milliseconds, so ":8" is 8 ms.
		ms, n := 0, 0
		for j++; j < len(s) && isDigit(s[j]) && n < 3; j, n = j+1, n+1 {
			ms = ms*10 + int(s[j]-'0')
		}
		c.ns = ms * int(time.Millisecond)
	}
	if isDigit(byteAt(s, j)) {
		return Timestamp{}, false
	}
	return d.make(y, mo, dd, c, FormatCompact, i, j)
}

// shortNumber reads one or two digits at s[j].
func shortNumber(s string, j int) (v, end int, ok bool) {
	if !isDigit(byteAt(s, j)) {
		return 0, j, false
	}
	v, j = int(s[j]-'0'), j+1
	if isDigit(byteAt(s, j)) {
		v, j = v*10+int(s[j]-'0'), j+1
	}
	return v, j, true
}

// yymmdd reads HDFS's "yymmdd hhmmss" at s[i], trusted only as a line's
// first token: two 6-digit numbers are too common elsewhere.
func (d *TimestampDetector) yymmdd(s string, i int) (Timestamp, bool) {
	y, _ := digitsAt(s, i, 2)
	mo, _ := digitsAt(s, i+2, 2)
	dd, _ := digitsAt(s, i+4, 2)
	var c clock
	var ok1, ok2, ok3 bool
	c.h, ok1 = digitsAt(s, i+7, 2)
	c.mi, ok2 = digitsAt(s, i+9, 2)
	c.sec, ok3 = digitsAt(s, i+11, 2)
	end := i + 13
	if !ok1 || !ok2 || !ok3 || isAlnum(byteAt(s, end)) || c.h > 23 || c.mi > 59 || c.sec > 60 {
		return Timestamp{}, false
	}
	return d.make(2000+y, mo, dd, c, FormatYYMMDD, i, end)
}

// syslog reads the RFC 3164 time "Jan _2 15:04:05" (also with one space
// or a fraction) at s[i]; the year is inferred.
func (d *TimestampDetector) syslog(s string, i, mo int) (Timestamp, bool) {
	dd, j, ok := dayOfMonth(s, i+4)
	if !ok || byteAt(s, j) != ' ' {
		return Timestamp{}, false
	}
	c, end, ok := parseClock(s, j+1, false)
	if !ok {
		return Timestamp{}, false
	}
	return d.makeNoYear(mo, dd, c, FormatSyslog3164, i, end)
}

// dayOfMonth reads "02", " 2" or "2" at s[j].
func dayOfMonth(s string, j int) (dd, end int, ok bool) {
	if byteAt(s, j) == ' ' {
		j++
	}
	if dd, ok := digitsAt(s, j, 2); ok {
		return dd, j + 2, true
	}
	if dd, ok := digitsAt(s, j, 1); ok {
		return dd, j + 1, true
	}
	return 0, 0, false
}

// ctime reads "Mon Jan _2 15:04:05[.frac] 2006" (asctime, the Apache error
// log) or "Mon Jan _2 15:04:05 UTC 2006" (date(1)) at s[i].
func (d *TimestampDetector) ctime(s string, i int) (Timestamp, bool) {
	mo := monthAt(s, i+4)
	if mo == 0 || byteAt(s, i+7) != ' ' {
		return Timestamp{}, false
	}
	dd, j, ok := dayOfMonth(s, i+8)
	if !ok || byteAt(s, j) != ' ' {
		return Timestamp{}, false
	}
	c, j, ok := parseClock(s, j+1, false)
	if !ok || byteAt(s, j) != ' ' {
		return Timestamp{}, false
	}
	f := FormatCtime
	if hasAt(s, j+1, "UTC ") || hasAt(s, j+1, "GMT ") {
		c.zoned, f = true, FormatUnixDate
		j += 4
	}
	y, ok := digitsAt(s, j+1, 4)
	if !ok || isAlnum(byteAt(s, j+5)) {
		return Timestamp{}, false
	}
	return d.make(y, mo, dd, c, f, i, j+5)
}

// rfc1123 reads "Mon, 02 Jan 2006 15:04:05 GMT" (or a numeric zone) at s[i].
func (d *TimestampDetector) rfc1123(s string, i int) (Timestamp, bool) {
	if byteAt(s, i+4) != ' ' {
		return Timestamp{}, false
	}
	dd, j, ok := dayOfMonth(s, i+5)
	if !ok || byteAt(s, j) != ' ' {
		return Timestamp{}, false
	}
	mo := monthAt(s, j+1)
	y, ok := digitsAt(s, j+5, 4)
	if mo == 0 || !ok || byteAt(s, j+4) != ' ' || byteAt(s, j+9) != ' ' {
		return Timestamp{}, false
	}
	c, end, ok := parseClock(s, j+10, true)
	if !ok {
		return Timestamp{}, false
	}
	return d.make(y, mo, dd, c, FormatRFC1123, i, end)
}

// epochToken reads a bare epoch at s[i] of n digits: 10 digits (seconds,
// with an optional fraction) or 13 (milliseconds), ending the token.
func epochToken(s string, i, n int) (Timestamp, bool) {
	v, _ := strconv.ParseInt(s[i:i+n], 10, 64)
	end := i + n
	var ns int64
	f := FormatEpochS
	if n == 10 {
		if byteAt(s, end) == '.' && isDigit(byteAt(s, end+1)) {
			var frac int
			frac, end = parseFraction(s, end+1)
			ns = int64(frac)
		}
		if v > math.MaxInt64/nsPerSec-1 {
			return Timestamp{}, false
		}
		ns += v * nsPerSec
	} else {
		f = FormatEpochMS
		if v > math.MaxInt64/int64(time.Millisecond) {
			return Timestamp{}, false
		}
		ns = v * int64(time.Millisecond)
	}
	if isAlnum(byteAt(s, end)) {
		return Timestamp{}, false
	}
	return Timestamp{UnixNano: ns, Format: f, Start: i, End: end}, true
}

// Years outside this range are not believed (and later ones would overflow
// int64 nanoseconds).
const minYear, maxYear = 1900, 2261

// make validates a civil date and time and converts it to a Timestamp; a
// time without a zone is in the detector's zone.
func (d *TimestampDetector) make(y, mo, dd int, c clock, f string, start, end int) (Timestamp, bool) {
	if y < minYear || y > maxYear || mo < 1 || mo > 12 || dd < 1 || dd > daysIn(y, mo) {
		return Timestamp{}, false
	}
	var ns int64
	if c.zoned {
		ns = civilUnix(y, mo, dd, c.h, c.mi, c.sec) - int64(c.off)
		ns = ns*nsPerSec + int64(c.ns)
	} else {
		ns = d.local(y, mo, dd, c)
	}
	return Timestamp{UnixNano: ns, Format: f, Start: start, End: end}, true
}

// makeNoYear places a year-less date in the year that puts it closest to
// the receipt time without being more than a day after it: logs are not
// from the future, but clocks drift and zones may be misconfigured.
func (d *TimestampDetector) makeNoYear(mo, dd int, c clock, f string, start, end int) (Timestamp, bool) {
	if mo < 1 || mo > 12 || dd < 1 || dd > 31 {
		return Timestamp{}, false
	}
	limit := d.receipt + int64(24*time.Hour)
	// Feb 29 may need to go back up to 8 years (1900 and 2100 are not leap years).
	for y := d.receiptYear + 1; y >= d.receiptYear-8; y-- {
		if y < minYear || y > maxYear || dd > daysIn(y, mo) {
			continue
		}
		if ns := d.local(y, mo, dd, c); ns <= limit {
			return Timestamp{UnixNano: ns, Format: f, Start: start, End: end}, true
		}
	}
	return Timestamp{}, false
}

// local converts a zone-less civil time in the detector's zone.
func (d *TimestampDetector) local(y, mo, dd int, c clock) int64 {
	secs := civilUnix(y, mo, dd, c.h, c.mi, c.sec)
	if !d.utc {
		minute := secs / 60
		if secs < 0 && secs%60 != 0 {
			minute-- // floor, so that every minute has its own key
		}
		if !d.cacheOK || minute != d.cacheMin {
			t := time.Date(y, time.Month(mo), dd, c.h, c.mi, 0, 0, d.loc)
			d.cacheMin, d.cacheOff, d.cacheOK = minute, minute*60-t.Unix(), true
		}
		secs -= d.cacheOff
	}
	return secs*nsPerSec + int64(c.ns)
}

// civilUnix returns the seconds since the Unix epoch of a proleptic
// Gregorian date and time in UTC. Days are counted from 0000-03-01 so that
// the leap day is the last day of each counted year.
func civilUnix(y, mo, dd, h, mi, sec int) int64 {
	if mo <= 2 {
		y--
		mo += 12
	}
	// y >= minYear-1 > 0, so plain division floors.
	days := 365*y + y/4 - y/100 + y/400 + (153*(mo-3)+2)/5 + dd - 1
	const epochDays = 719468 // days from 0000-03-01 to 1970-01-01
	return int64(days-epochDays)*86400 + int64(h*3600+mi*60+sec)
}

func daysIn(y, mo int) int {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// jsonTimeKeys are the top-level keys whose value is a JSON event's time,
// most trusted first. jsonTimeFormats holds their _format values, built
// once so that no event allocates one.
var jsonTimeKeys = [...]string{"timestamp", "@timestamp", "time", "eventTime", "ts", "date", "datetime", "_time", "Timestamp", "EventTime"}

var jsonTimeFormats = func() (f [len(jsonTimeKeys)]string) {
	for i, k := range jsonTimeKeys {
		f[i] = formatJSONPrefix + k
	}
	return f
}()

// jsonTimeKeyRank returns the rank of key in jsonTimeKeys, or -1. It is
// asked for every top-level key of every JSON event, hence the switch.
func jsonTimeKeyRank(key string) int {
	switch key {
	case "timestamp":
		return 0
	case "@timestamp":
		return 1
	case "time":
		return 2
	case "eventTime":
		return 3
	case "ts":
		return 4
	case "date":
		return 5
	case "datetime":
		return 6
	case "_time":
		return 7
	case "Timestamp":
		return 8
	case "EventTime":
		return 9
	}
	return -1
}

// ParseTimeValue reads the value of a JSON time field: a number (or a
// string of digits) is an epoch in seconds, milliseconds, microseconds or
// nanoseconds by magnitude; any other string must begin with one of the
// formats Detect knows.
func (d *TimestampDetector) ParseTimeValue(v string, isNumber bool) (int64, bool) {
	if isNumber || looksNumeric(v) {
		return epochByMagnitude(v)
	}
	for len(v) > 0 && v[0] == ' ' {
		v = v[1:]
	}
	if v == "" {
		return 0, false
	}
	switch charClass[v[0]] {
	case classDigit:
		ts, ok := d.atDigit(v, 0, false)
		return ts.UnixNano, ok
	case classUpper:
		ts, ok := d.atUpper(v, 0)
		return ts.UnixNano, ok
	}
	return 0, false
}

// looksNumeric reports a string of digits with an optional fraction.
func looksNumeric(v string) bool {
	dot := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isDigit(c):
		case c == '.' && !dot && i > 0 && i < len(v)-1:
			dot = true
		default:
			return false
		}
	}
	return len(v) > 0
}

// epochByMagnitude reads a positive epoch number and picks its unit by size:
// below 1e11 seconds (up to year 5138), below 1e14 milliseconds, below 1e17
// microseconds, else nanoseconds.
func epochByMagnitude(v string) (int64, bool) {
	intPart, frac := v, ""
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+' {
			if c != '.' || !looksNumeric(v) {
				return epochFloat(v)
			}
			intPart, frac = v[:i], v[i+1:]
			break
		}
	}
	n, err := strconv.ParseUint(intPart, 10, 64)
	if err != nil || n == 0 && frac == "" {
		return 0, false
	}
	var unit int64
	switch {
	case n < 1e11:
		unit = nsPerSec
	case n < 1e14:
		unit = 1e6
	case n < 1e17:
		unit = 1e3
	default:
		unit = 1
	}
	if n > uint64(math.MaxInt64/unit)-1 {
		return 0, false
	}
	ns := int64(n) * unit
	// The fraction is in the same unit: scale its first digits to ns.
	scale := unit
	for i := 0; i < len(frac) && scale > 1; i++ {
		scale /= 10
		ns += int64(frac[i]-'0') * scale
	}
	return ns, true
}

func epochFloat(v string) (int64, bool) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) {
		return 0, false
	}
	var unit float64
	switch {
	case f < 1e11:
		unit = 1e9
	case f < 1e14:
		unit = 1e6
	case f < 1e17:
		unit = 1e3
	default:
		unit = 1
	}
	ns := f * unit
	if ns >= math.MaxInt64 {
		return 0, false
	}
	return int64(ns), true
}
