package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones by name on machines without a zoneinfo database
)

// Time functions (spec §7.3). Times are epoch milliseconds.
//
//	now()               the query's execution time (ExecOptions.Now), the
//	                    same for every row of a run.
//	queryStartTime(), queryEndTime()  the bounds of the query's time range.
//	queryTimeRange()    queryEndTime() - queryStartTime().
//	formatDate(ms[, "pattern"[, "zone"]])
//	                    ms (a number; doubles are truncated) as text in a
//	                    Java SimpleDateFormat pattern (default
//	                    "MM/dd/yyyy HH:mm:ss.SSS Z") in the zone (default: the
//	                    query's, ExecOptions.Location).
//	parseDate(s, "pattern"[, "zone"])
//	                    the text s read with the pattern, as epoch ms; a time
//	                    without a zone in s is in the zone argument (default:
//	                    the query's). Null when s does not match.
//
// Patterns (SimpleDateFormat): G era; y year (yy: two digits); Y as y; M or
// L month (M, MM numbers, MMM short name, MMMM full name); d day; D day of
// year; E day name (EEE short, EEEE full); u day of week (1 = Monday); a
// AM/PM; H hour 0-23; k hour 1-24; K hour 0-11; h hour 1-12; m minute; s
// second; S millisecond; z zone abbreviation (UTC, PST; zzzz is the same);
// Z offset -0800; X ISO offset (X -08, XX -0800, XXX -08:00; Z for UTC);
// 'text' literal text; '' a quote. Other letters are errors. Numbers are
// zero-padded to the letter count.
//
// Zones: IANA names (America/New_York), UTC, GMT, and fixed offsets
// (+05:30, -0800, GMT+5, UTC-03:00). An unknown zone in a literal is an
// error at compile time; in a field, the row's result is null with a
// warning.

func init() {
	registerFunc(&funcSpec{name: "now", maxArgs: 0, typ: "long", volatile: true, build: func(*callBuilder) (evaluator, *Error) {
		return func(x *runContext, _ Row) Value { return IntValue(x.nowMillis()) }, nil
	}})
	registerFunc(&funcSpec{name: "queryStartTime", maxArgs: 0, typ: "long", volatile: true, build: func(*callBuilder) (evaluator, *Error) {
		return func(x *runContext, _ Row) Value {
			if x == nil {
				return NullValue
			}
			return IntValue(x.start)
		}, nil
	}})
	registerFunc(&funcSpec{name: "queryEndTime", maxArgs: 0, typ: "long", volatile: true, build: func(*callBuilder) (evaluator, *Error) {
		return func(x *runContext, _ Row) Value {
			if x == nil {
				return NullValue
			}
			return IntValue(x.end)
		}, nil
	}})
	registerFunc(&funcSpec{name: "queryTimeRange", maxArgs: 0, typ: "long", volatile: true, build: func(*callBuilder) (evaluator, *Error) {
		return func(x *runContext, _ Row) Value {
			if x == nil {
				return NullValue
			}
			return IntValue(x.end - x.start)
		}, nil
	}})
	registerFunc(&funcSpec{name: "formatDate", minArgs: 1, maxArgs: 3, typ: "string", build: buildFormatDate})
	registerFunc(&funcSpec{name: "parseDate", minArgs: 2, maxArgs: 3, typ: "long", build: buildParseDate})
}

// defaultDatePattern is formatDate's default (Sumo's US style).
const defaultDatePattern = "MM/dd/yyyy HH:mm:ss.SSS Z"

// datePatternArg compiles argument i as a date pattern: a literal is
// compiled once; a field is compiled per row (cached).
func datePatternArg(b *callBuilder, i int) (func(x *runContext, r Row) (*datePattern, error), *Error) {
	if i >= b.nargs() {
		p, _ := compileDatePattern(defaultDatePattern)
		return func(*runContext, Row) (*datePattern, error) { return p, nil }, nil
	}
	if v, ok := b.constArg(i); ok {
		p, err := compileDatePattern(v.String())
		if err != nil {
			return nil, b.errorf(i, "%v", err)
		}
		return func(*runContext, Row) (*datePattern, error) { return p, nil }, nil
	}
	ev := b.args[i]
	return func(x *runContext, r Row) (*datePattern, error) { return cachedDatePattern(ev(x, r).String()) }, nil
}

// zoneArg compiles argument i as a zone; nil location means the query's.
func zoneArg(b *callBuilder, i int) (func(x *runContext, r Row) (*time.Location, error), *Error) {
	if i >= b.nargs() {
		return func(x *runContext, _ Row) (*time.Location, error) { return x.location(), nil }, nil
	}
	if v, ok := b.constArg(i); ok {
		loc, err := loadZone(v.String())
		if err != nil {
			return nil, b.errorf(i, "%v", err)
		}
		return func(*runContext, Row) (*time.Location, error) { return loc, nil }, nil
	}
	ev := b.args[i]
	return func(x *runContext, r Row) (*time.Location, error) {
		v := ev(x, r)
		if v.IsNull() {
			return x.location(), nil
		}
		return loadZone(v.String())
	}, nil
}

func buildFormatDate(b *callBuilder) (evaluator, *Error) {
	pat, err := datePatternArg(b, 1)
	if err != nil {
		return nil, err
	}
	zone, err := zoneArg(b, 2)
	if err != nil {
		return nil, err
	}
	ms := b.args[0]
	warn := "formatDate in " + quoteString(b.call.String()) + ": "
	return func(x *runContext, r Row) Value {
		n, ok := ms(x, r).Int()
		if !ok {
			return NullValue
		}
		p, err := pat(x, r)
		if err != nil {
			x.warn(warn + err.Error())
			return NullValue
		}
		loc, err := zone(x, r)
		if err != nil {
			x.warn(warn + err.Error())
			return NullValue
		}
		return StringValue(p.format(time.UnixMilli(n).In(loc)))
	}, nil
}

func buildParseDate(b *callBuilder) (evaluator, *Error) {
	pat, err := datePatternArg(b, 1)
	if err != nil {
		return nil, err
	}
	zone, err := zoneArg(b, 2)
	if err != nil {
		return nil, err
	}
	src := b.args[0]
	warn := "parseDate in " + quoteString(b.call.String()) + ": "
	return func(x *runContext, r Row) Value {
		s, ok := stringArg(src(x, r))
		if !ok {
			return NullValue
		}
		p, err := pat(x, r)
		if err != nil {
			x.warn(warn + err.Error())
			return NullValue
		}
		loc, err := zone(x, r)
		if err != nil {
			x.warn(warn + err.Error())
			return NullValue
		}
		t, ok := p.parse(s, loc, x.nowMillis())
		if !ok {
			return NullValue
		}
		return IntValue(t.UnixMilli())
	}, nil
}

// ---- zones ----

var zoneCache sync.Map // name → *time.Location

// loadZone returns the zone named s: an IANA name, UTC/GMT/Z, or a fixed
// offset (+05:30, -0800, +05, GMT+5, UTC-03:00).
func loadZone(s string) (*time.Location, error) {
	if v, ok := zoneCache.Load(s); ok {
		return v.(*time.Location), nil
	}
	loc, err := loadZoneUncached(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	zoneCache.Store(s, loc)
	return loc, nil
}

func loadZoneUncached(s string) (*time.Location, error) {
	upper := strings.ToUpper(s)
	switch upper {
	case "", "UTC", "GMT", "Z", "UT":
		return time.UTC, nil
	}
	rest := s
	for _, p := range []string{"UTC", "GMT", "UT"} {
		if strings.HasPrefix(upper, p) && len(s) > len(p) && (s[len(p)] == '+' || s[len(p)] == '-') {
			rest = s[len(p):]
			break
		}
	}
	if rest[0] == '+' || rest[0] == '-' {
		if off, ok := parseOffset(rest, true); ok {
			return time.FixedZone(offsetName(off), off), nil
		}
		return nil, fmt.Errorf("invalid time zone offset %q; write +hh:mm", s)
	}
	loc, err := time.LoadLocation(s)
	if err != nil || strings.ContainsAny(s, " \\") {
		return nil, fmt.Errorf("unknown time zone %q; use a name such as America/New_York or an offset such as +05:30", s)
	}
	return loc, nil
}

// parseOffset reads a whole offset: ±h, ±hh, ±hhmm, ±hh:mm (lenient: one
// hour digit allowed).
func parseOffset(s string, whole bool) (int, bool) {
	off, n := scanOffset(s)
	if n == 0 || (whole && n != len(s)) {
		return 0, false
	}
	return off, true
}

// scanOffset reads an offset at the start of s; n is its length (0: none).
func scanOffset(s string) (off, n int) {
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return 0, 0
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	i := 1
	digits := func(max int) (int, int) {
		v, k := 0, 0
		for i+k < len(s) && k < max && s[i+k] >= '0' && s[i+k] <= '9' {
			v = v*10 + int(s[i+k]-'0')
			k++
		}
		return v, k
	}
	h, k := digits(2)
	if k == 0 {
		return 0, 0
	}
	i += k
	m := 0
	if i < len(s) && s[i] == ':' {
		i++
		var k2 int
		m, k2 = digits(2)
		if k2 != 2 {
			return 0, 0
		}
		i += 2
	} else if k == 2 {
		if mm, k2 := digits(2); k2 == 2 {
			m = mm
			i += 2
		}
	}
	if h > 18 || m > 59 {
		return 0, 0
	}
	return sign * (h*3600 + m*60), i
}

func offsetName(off int) string {
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off/60%60)
}

// ---- SimpleDateFormat ----

// dateElem is a run of one pattern letter (count times) or literal text.
type dateElem struct {
	letter byte
	count  int
	lit    string
}

// datePattern is a compiled SimpleDateFormat pattern.
type datePattern struct {
	text  string
	elems []dateElem
}

var datePatternCache sync.Map // pattern → *datePattern

func cachedDatePattern(s string) (*datePattern, error) {
	if v, ok := datePatternCache.Load(s); ok {
		return v.(*datePattern), nil
	}
	p, err := compileDatePattern(s)
	if err != nil {
		return nil, err
	}
	datePatternCache.Store(s, p)
	return p, nil
}

const dateLetters = "GyYMLdDEuaHkKhmsSzZX"

// compileDatePattern parses a SimpleDateFormat pattern.
func compileDatePattern(s string) (*datePattern, error) {
	p := &datePattern{text: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.elems = append(p.elems, dateElem{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated quote in the date pattern %q", s)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(s[j])
				j++
			}
			i = j + 1
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			if strings.IndexByte(dateLetters, c) < 0 {
				return nil, fmt.Errorf("unsupported letter %q in the date pattern %q; quote literal text with '...'", string(c), s)
			}
			j := i
			for j < len(s) && s[j] == c {
				j++
			}
			flush()
			p.elems = append(p.elems, dateElem{letter: c, count: j - i})
			i = j
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return p, nil
}

func padInt(b []byte, v, width int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	s := strconv.Itoa(v)
	for k := len(s); k < width; k++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// format renders t.
func (p *datePattern) format(t time.Time) string {
	b := make([]byte, 0, 32)
	for _, e := range p.elems {
		if e.letter == 0 {
			b = append(b, e.lit...)
			continue
		}
		n := e.count
		switch e.letter {
		case 'G':
			if t.Year() > 0 {
				b = append(b, "AD"...)
			} else {
				b = append(b, "BC"...)
			}
		case 'y', 'Y':
			if n == 2 {
				b = padInt(b, t.Year()%100, 2)
			} else {
				b = padInt(b, t.Year(), n)
			}
		case 'M', 'L':
			switch {
			case n >= 4:
				b = append(b, t.Month().String()...)
			case n == 3:
				b = append(b, t.Month().String()[:3]...)
			default:
				b = padInt(b, int(t.Month()), n)
			}
		case 'd':
			b = padInt(b, t.Day(), n)
		case 'D':
			b = padInt(b, t.YearDay(), n)
		case 'E':
			if n >= 4 {
				b = append(b, t.Weekday().String()...)
			} else {
				b = append(b, t.Weekday().String()[:3]...)
			}
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b = padInt(b, wd, n)
		case 'a':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'H':
			b = padInt(b, t.Hour(), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b = padInt(b, h, n)
		case 'K':
			b = padInt(b, t.Hour()%12, n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b = padInt(b, h, n)
		case 'm':
			b = padInt(b, t.Minute(), n)
		case 's':
			b = padInt(b, t.Second(), n)
		case 'S':
			b = padInt(b, t.Nanosecond()/1e6, n)
		case 'z':
			name, off := t.Zone()
			if name == "" || name[0] == '+' || name[0] == '-' {
				name = "GMT" + offsetName(off)
				if off == 0 {
					name = "GMT"
				}
			}
			b = append(b, name...)
		case 'Z':
			_, off := t.Zone()
			b = appendOffset(b, off, false, false)
		case 'X':
			_, off := t.Zone()
			if off == 0 {
				b = append(b, 'Z')
				break
			}
			b = appendOffset(b, off, n >= 3, n == 1)
		}
	}
	return string(b)
}

// appendOffset writes ±hhmm (±hh:mm with colon, ±hh with hoursOnly).
func appendOffset(b []byte, off int, colon, hoursOnly bool) []byte {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = padInt(b, off/3600, 2)
	if hoursOnly {
		return b
	}
	if colon {
		b = append(b, ':')
	}
	return padInt(b, off/60%60, 2)
}

var (
	monthNames = []string{"january", "february", "march", "april", "may", "june", "july",
		"august", "september", "october", "november", "december"}
	dayNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
)

// isNumericLetter reports whether the element is read as a number.
func (e dateElem) numeric() bool {
	switch e.letter {
	case 0, 'G', 'E', 'a', 'z', 'Z', 'X':
		return false
	case 'M', 'L':
		return e.count <= 2
	}
	return true
}

var errDate = errors.New("no match")

// parse reads s with the pattern. A time without a zone in s is in loc.
// Two-digit years (yy) fall within 80 years before and 20 years after now
// (Java's rule). Missing fields default to 1970-01-01 00:00:00.000.
func (p *datePattern) parse(s string, loc *time.Location, nowMs int64) (time.Time, bool) {
	year, month, day, hour, minute, sec, ms := 1970, 1, 1, 0, 0, 0, 0
	pm, hasAmPm, hour12 := false, false, false
	yearDigits := 0
	zone := (*time.Location)(nil)
	i := 0
	readNum := func(maxDigits int) (int, error) {
		j := i
		if j < len(s) && (s[j] == '-' || s[j] == '+') && maxDigits < 0 {
			j++
		}
		start := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' && (maxDigits <= 0 || j-start < maxDigits) {
			j++
		}
		if j == start {
			return 0, errDate
		}
		v, err := strconv.Atoi(s[i:j])
		if err != nil {
			return 0, errDate
		}
		i = j
		return v, nil
	}
	readName := func(names []string) (int, error) {
		rest := strings.ToLower(s[i:])
		for k, n := range names {
			if strings.HasPrefix(rest, n) {
				i += len(n)
				return k, nil
			}
		}
		for k, n := range names {
			if strings.HasPrefix(rest, n[:3]) {
				i += 3
				return k, nil
			}
		}
		return 0, errDate
	}
	for k, e := range p.elems {
		if e.letter == 0 {
			if !strings.HasPrefix(s[i:], e.lit) {
				return time.Time{}, false
			}
			i += len(e.lit)
			continue
		}
		// A number followed directly by another number reads exactly its
		// letter count of digits ("yyyyMMdd").
		width := 0
		if k+1 < len(p.elems) && p.elems[k+1].letter != 0 && p.elems[k+1].numeric() {
			width = e.count
		}
		var err error
		switch e.letter {
		case 'G':
			if strings.HasPrefix(s[i:], "AD") || strings.HasPrefix(s[i:], "BC") {
				i += 2
			} else {
				err = errDate
			}
		case 'y', 'Y':
			start := i
			year, err = readNum(width)
			yearDigits = i - start
		case 'M', 'L':
			if e.count >= 3 {
				var m int
				m, err = readName(monthNames)
				month = m + 1
			} else {
				month, err = readNum(width)
			}
		case 'd':
			day, err = readNum(width)
		case 'D':
			var yd int
			yd, err = readNum(width)
			month, day = 1, yd
		case 'E':
			_, err = readName(dayNames)
		case 'u':
			_, err = readNum(width)
		case 'a':
			switch {
			case strings.HasPrefix(strings.ToUpper(s[i:]), "AM"):
				i += 2
			case strings.HasPrefix(strings.ToUpper(s[i:]), "PM"):
				pm = true
				i += 2
			default:
				err = errDate
			}
			hasAmPm = true
		case 'H', 'k':
			hour, err = readNum(width)
			if e.letter == 'k' && hour == 24 {
				hour = 0
			}
		case 'K', 'h':
			hour, err = readNum(width)
			hour12 = true
			if e.letter == 'h' && hour == 12 {
				hour = 0
			}
		case 'm':
			minute, err = readNum(width)
		case 's':
			sec, err = readNum(width)
		case 'S':
			ms, err = readNum(width)
		case 'z', 'Z', 'X':
			rest := s[i:]
			switch {
			case strings.HasPrefix(rest, "Z"):
				zone = time.UTC
				i++
			case strings.HasPrefix(rest, "UTC") || strings.HasPrefix(rest, "GMT"):
				i += 3
				if off, n := scanOffset(s[i:]); n > 0 {
					zone = time.FixedZone(offsetName(off), off)
					i += n
				} else {
					zone = time.UTC
				}
			default:
				if off, n := scanOffset(rest); n > 0 {
					zone = time.FixedZone(offsetName(off), off)
					i += n
				} else if e.letter == 'z' {
					// An IANA name (America/New_York).
					j := i
					for j < len(s) && s[j] != ' ' {
						j++
					}
					if l, lerr := loadZone(s[i:j]); lerr == nil && j > i {
						zone = l
						i = j
					} else {
						err = errDate
					}
				} else {
					err = errDate
				}
			}
		}
		if err != nil {
			return time.Time{}, false
		}
	}
	if i != len(s) {
		return time.Time{}, false
	}
	if hasAmPm && pm && (hour12 || hour < 12) {
		hour += 12
	}
	if yearDigits == 2 && p.hasLetterCount('y', 2) {
		now := time.UnixMilli(nowMs).UTC().Year()
		year += now / 100 * 100
		if year > now+20 {
			year -= 100
		} else if year <= now-80 {
			year += 100
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 366 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	if zone != nil {
		loc = zone
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc)
	return t.Add(time.Duration(ms) * time.Millisecond), true
}

func (p *datePattern) hasLetterCount(letter byte, count int) bool {
	for _, e := range p.elems {
		if e.letter == letter && e.count == count {
			return true
		}
	}
	return false
}
