package ingest

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/dohyo/dohyo/event"
)

// MultilineMode says how lines are grouped into events.
type MultilineMode int

const (
	// MultilineAuto (the default) starts a new event at each line that
	// begins with a timestamp; other lines continue the event before them.
	// If no line of a body begins with a timestamp, every line is an event.
	MultilineAuto MultilineMode = iota
	// MultilineOff makes every line an event.
	MultilineOff
	// MultilineRegex starts a new event at each line that Options.Boundary
	// matches as a whole.
	MultilineRegex
	// MultilineOnePerRequest makes the whole body one event.
	MultilineOnePerRequest
)

// Options are a source's processing settings.
type Options struct {
	Multiline        MultilineMode
	Boundary         *regexp.Regexp // for MultilineRegex; matched against the whole line
	TimeZone         *time.Location // for timestamps without a zone; nil = UTC
	NoTimestampParse bool           // always use the receipt time
	JSONMaxDepth     int            // default 8
	JSONMaxFields    int            // default 200
	ReceiptTime      time.Time      // _receiptTime, the fallback message time; zero = now
	// KeepBody lets Parse keep the body it is given: the events' strings
	// then point into it instead of into a copy, and the caller must never
	// modify the body afterwards. For bodies read for the purpose (the HTTP
	// receiver's), where the copy would be pure waste.
	KeepBody bool
}

// Stats describe what Parse found, for metrics and the request log.
type Stats struct {
	Events, Lines, InvalidUTF8, TimestampsFound, JSONEvents, CloudTrailRecords int
}

// ErrNoBoundary is returned for MultilineRegex without a Boundary: a
// source configuration error, not the client's.
var ErrNoBoundary = errors.New("ingest: MultilineRegex needs Options.Boundary")

// Parse splits a decoded body into events:
//
//   - a CloudTrail delivery file ({"Records":[...]}) gives one event per
//     record, its _raw the record's bytes as received;
//   - a body that is JSON objects of which the first spans several lines
//     (pretty-printed) gives one event per object;
//   - anything else is split into lines, grouped per opt.Multiline.
//
// Invalid UTF-8 is replaced by U+FFFD. Every event gets a time (found in it
// unless opt.NoTimestampParse, else the receipt time) and, if it is a JSON
// object, its JSON fields. Client errors are *Error (400 for malformed
// CloudTrail JSON, 413 for an event or a request over lim).
func Parse(body []byte, opt Options, lim Limits) ([]event.Event, Stats, error) {
	lim = lim.withDefaults()
	if opt.ReceiptTime.IsZero() {
		opt.ReceiptTime = time.Now()
	}
	p := &parser{opt: opt, lim: lim, receipt: opt.ReceiptTime.UnixNano(), preferTime: -1}
	if opt.Multiline == MultilineRegex {
		if opt.Boundary == nil {
			return nil, Stats{}, ErrNoBoundary
		}
		p.boundary = anchored(opt.Boundary)
	}
	p.startDet = NewTimestampDetector(opt.TimeZone, opt.ReceiptTime)
	if !opt.NoTimestampParse {
		p.det = p.startDet
	}
	p.fl.init(opt.JSONMaxDepth, opt.JSONMaxFields)
	p.s, p.st.InvalidUTF8 = validUTF8(body, opt.KeepBody)
	p.st.Lines = countLines(p.s)
	err := p.run()
	p.st.Events = len(p.events)
	if err != nil {
		return nil, p.st, err
	}
	return p.events, p.st, nil
}

type parser struct {
	s       string
	opt     Options
	lim     Limits
	receipt int64
	det     *TimestampDetector // nil when timestamps are not parsed
	// startDet finds where multiline events start, which timestamps say
	// even when they are not parsed for the event time.
	startDet *TimestampDetector
	boundary *regexp.Regexp
	fl       flattener
	// preferTime is the rank of the JSON time key to try first (eventTime
	// in CloudTrail records), or -1 for jsonTimeKeys' order.
	preferTime int
	events     []event.Event
	st         Stats
}

func (p *parser) run() error {
	s := p.s
	if p.opt.Multiline == MultilineOnePerRequest {
		return p.onePerRequest()
	}
	if i := skipSpace(s, 0); i < len(s) && s[i] == '{' {
		done, err := p.cloudTrail(i)
		if done || err != nil {
			return err
		}
		if p.jsonObjects(i) {
			return p.addJSONObjects(i)
		}
	}
	p.events = make([]event.Event, 0, min(p.st.Lines, p.lim.MaxEvents))
	return p.lines()
}

// onePerRequest makes the body one event, newlines included.
func (p *parser) onePerRequest() error {
	raw := strings.TrimRight(p.s, "\r\n")
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	raw = stripCR(raw)
	if len(raw) > p.lim.MaxLineBytes {
		return tooLong("the request body, as one event,", len(raw), p.lim)
	}
	isJSON := false
	if i := skipSpace(raw, 0); i < len(raw) && raw[i] == '{' {
		end, err := p.fl.object(raw, i)
		isJSON = err == nil && skipSpace(raw, end) == len(raw)
	}
	return p.add(raw, isJSON, nil)
}

// add appends the event raw. isJSON says p.fl holds raw's JSON fields; ts
// is the timestamp already found at its start, if any.
func (p *parser) add(raw string, isJSON bool, ts *Timestamp) error {
	if len(p.events) >= p.lim.MaxEvents {
		return &Error{Status: http.StatusRequestEntityTooLarge,
			Msg: "the request has more than " + strconv.Itoa(p.lim.MaxEvents) + " events, over the limit; send smaller batches"}
	}
	e := event.Event{Raw: raw, Time: p.receipt}
	if isJSON {
		e.Fields = p.fl.take()
		p.st.JSONEvents++
	}
	if p.det != nil {
		switch {
		case ts != nil:
			e.Time, e.Format = ts.UnixNano, ts.Format
		case isJSON && p.jsonTime(&e, p.preferTime):
		default:
			if t, ok := p.det.Detect(raw); ok {
				e.Time, e.Format = t.UnixNano, t.Format
			}
		}
		if e.Format != "" {
			p.st.TimestampsFound++
		}
	}
	p.events = append(p.events, e)
	return nil
}

// jsonTime sets e's time from the top-level time keys p.fl found: the
// first key of jsonTimeKeys (or the preferred one, if >= 0) whose value
// reads as a time.
func (p *parser) jsonTime(e *event.Event, preferred int) bool {
	if preferred >= 0 {
		if t := p.fl.times[preferred]; t.present {
			if ns, ok := p.det.ParseTimeValue(t.text, t.isNumber); ok {
				e.Time, e.Format = ns, jsonTimeFormats[preferred]
				return true
			}
		}
	}
	for k, t := range p.fl.times {
		if !t.present || k == preferred {
			continue
		}
		if ns, ok := p.det.ParseTimeValue(t.text, t.isNumber); ok {
			e.Time, e.Format = ns, jsonTimeFormats[k]
			return true
		}
	}
	return false
}

func tooLong(what string, n int, lim Limits) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge,
		Msg: what + " is " + formatSize(int64(n)) + ", over the " + formatSize(int64(lim.MaxLineBytes)) + " line limit"}
}

// validUTF8 returns body as a string with every invalid byte replaced by
// U+FFFD (as utf8.DecodeRune reads it), and the number of replacements.
// Valid bodies, nearly all of them, cost one copy, or none if keep (the
// string is then body's memory, which must not change afterwards).
func validUTF8(body []byte, keep bool) (string, int) {
	if utf8.Valid(body) {
		if keep && len(body) > 0 {
			return unsafe.String(&body[0], len(body)), 0
		}
		return string(body), 0
	}
	var b strings.Builder
	b.Grow(len(body) + len(body)/8)
	bad := 0
	for i := 0; i < len(body); {
		c := body[i]
		if c < utf8.RuneSelf {
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
			bad++
		} else {
			b.Write(body[i : i+n])
		}
		i += n
	}
	return b.String(), bad
}

// countLines counts the lines of s; a final newline does not start one.
func countLines(s string) int {
	n := strings.Count(s, "\n")
	if len(s) > 0 && s[len(s)-1] != '\n' {
		n++
	}
	return n
}

// stripCR turns the CRLF line ends inside a multiline event into LF, as
// they are for single lines.
func stripCR(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// anchored returns re matching only whole lines. Sources keep their
// compiled boundary for their lifetime, so the anchored copy is cached by
// expression instead of being compiled for every request.
func anchored(re *regexp.Regexp) *regexp.Regexp {
	expr := re.String()
	if v, ok := anchoredCache.Load(expr); ok {
		return v.(*regexp.Regexp)
	}
	a, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		// Cannot happen for an expression that compiled, but a wrong
		// boundary is better than none.
		return re
	}
	anchoredCache.Store(expr, a)
	return a
}

var anchoredCache sync.Map // expression -> *regexp.Regexp
