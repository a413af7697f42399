package ingest

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// lineIter walks the lines of s: each line without its "\n" or "\r\n".
// It allocates nothing; lines are substrings of s.
type lineIter struct {
	s    string
	pos  int // start of the next line
	num  int // number of the line last returned, 1-based
	line string
	// start and end delimit line in s (end excludes the line ending).
	start, end int
}

func (it *lineIter) next() bool {
	if it.pos >= len(it.s) {
		return false
	}
	it.start = it.pos
	nl := strings.IndexByte(it.s[it.pos:], '\n')
	if nl < 0 {
		it.end, it.pos = len(it.s), len(it.s)
	} else {
		it.end, it.pos = it.pos+nl, it.pos+nl+1
	}
	if it.end > it.start && it.s[it.end-1] == '\r' {
		it.end--
	}
	it.line = it.s[it.start:it.end]
	it.num++
	return true
}

// isBlank reports a line of nothing but white space, which makes no event.
// Nearly every line fails on its first byte, so the Unicode-aware check
// only runs for the rare line that starts with non-ASCII.
func isBlank(line string) bool {
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
		case c >= utf8.RuneSelf:
			return strings.TrimSpace(line[i:]) == ""
		default:
			return false
		}
	}
	return true
}

// lines splits the body into events per the multiline mode.
func (p *parser) lines() error {
	if p.opt.Multiline == MultilineOff || !p.anyBoundary() {
		return p.eachLine()
	}
	return p.grouped()
}

// eachLine makes every non-blank line an event.
func (p *parser) eachLine() error {
	it := lineIter{s: p.s}
	for it.next() {
		line := it.line
		if isBlank(line) {
			continue
		}
		if len(line) > p.lim.MaxLineBytes {
			return tooLong("line "+strconv.Itoa(it.num), len(line), p.lim)
		}
		if err := p.add(line, p.jsonLine(line), nil); err != nil {
			return err
		}
	}
	return nil
}

// jsonLine reports a line that is a JSON object, leaving its fields in
// p.fl. Only lines that start with "{" are tried.
func (p *parser) jsonLine(line string) bool {
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	end, err := p.fl.object(line, 0)
	return err == nil && skipSpace(line, end) == len(line)
}

// boundaryAt reports whether line starts an event: it begins with a
// timestamp (returned, in auto mode) or matches the boundary regex.
func (p *parser) boundaryAt(line string) (Timestamp, bool) {
	if p.boundary != nil {
		return Timestamp{}, p.boundary.MatchString(line)
	}
	return p.startDet.DetectAtStart(line)
}

// anyBoundary reports whether some line starts an event. If none does,
// grouping would glue the whole body into one event, so every line is one.
func (p *parser) anyBoundary() bool {
	it := lineIter{s: p.s}
	for it.next() {
		if !isBlank(it.line) {
			if _, ok := p.boundaryAt(it.line); ok {
				return true
			}
		}
	}
	return false
}

// grouped makes an event of each boundary line and the lines that follow
// it up to the next boundary. Lines before the first boundary form one
// event. A line that is a JSON object is an event of its own: it neither
// continues the event before it nor is continued.
func (p *parser) grouped() error {
	var (
		open       bool // an event is being collected
		start, end int  // its extent in p.s: first line start to last non-blank line end
		first      int  // its first line's number
		multi      bool // it has more than one line
		ts         Timestamp
		tsOK       bool
	)
	closeEvent := func() error {
		if !open {
			return nil
		}
		open = false
		raw := p.s[start:end]
		if multi {
			raw = stripCR(raw)
		}
		if len(raw) > p.lim.MaxLineBytes {
			what := "line " + strconv.Itoa(first)
			if multi {
				what = "the event starting at line " + strconv.Itoa(first)
			}
			return tooLong(what, len(raw), p.lim)
		}
		var tp *Timestamp
		if tsOK && p.opt.Multiline == MultilineAuto {
			tp = &ts
		}
		return p.add(raw, false, tp)
	}
	it := lineIter{s: p.s}
	for it.next() {
		line := it.line
		if isBlank(line) {
			continue
		}
		if len(line) > p.lim.MaxLineBytes {
			return tooLong("line "+strconv.Itoa(it.num), len(line), p.lim)
		}
		if p.jsonLine(line) {
			if err := closeEvent(); err != nil {
				return err
			}
			if err := p.add(line, true, nil); err != nil {
				return err
			}
			continue
		}
		t, boundary := p.boundaryAt(line)
		if open && !boundary {
			end, multi = it.end, true
			continue
		}
		if err := closeEvent(); err != nil {
			return err
		}
		open, start, end, first, multi, ts, tsOK = true, it.start, it.end, it.num, false, t, boundary
	}
	return closeEvent()
}
