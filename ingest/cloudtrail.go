package ingest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dohyo/dohyo/event"
)

// cloudTrail reads a CloudTrail delivery file, {"Records":[{...},...]}, at
// s[i] == '{': one event per record, its _raw the record's bytes exactly as
// received. Files that were concatenated (one per line, as some forwarders
// do) are read one after the other.
//
// done reports that the body was a delivery file. The body counts as one
// from the moment a top-level "Records" array is seen to hold an object (or
// nothing); after that, malformed JSON is a 400 that says where. Before
// that, the body is left to the other readers untouched.
//
// The records are walked in place over the body: nothing is decoded into
// maps or copied, so a 50 MB file costs its events and their fields.
func (p *parser) cloudTrail(i int) (done bool, err error) {
	s := p.s
	committed := false
	for {
		end, isTrail, err := p.trailObject(i, &committed)
		if err != nil {
			if !committed {
				return false, nil
			}
			var se *event.JSONSyntaxError
			if errors.As(err, &se) {
				return true, p.malformed(se)
			}
			return true, err
		}
		if !isTrail {
			if !committed {
				return false, nil
			}
			line, col := lineCol(s, i)
			return true, &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(
				"malformed CloudTrail file: the object at line %d, column %d (byte %d) has no \"Records\" array of objects",
				line, col, i)}
		}
		i = skipSpace(s, end)
		if i == len(s) {
			return true, nil
		}
		if s[i] != '{' {
			return true, p.malformed(&event.JSONSyntaxError{Offset: i,
				Msg: fmt.Sprintf("expected the end of the file or another {\"Records\":[...]} object, found %q", s[i])})
		}
	}
}

func (p *parser) malformed(se *event.JSONSyntaxError) *Error {
	line, col := lineCol(p.s, se.Offset)
	return &Error{Status: http.StatusBadRequest, Err: se, Msg: fmt.Sprintf(
		"malformed CloudTrail JSON at line %d, column %d (byte %d): %s", line, col, se.Offset, se.Msg)}
}

// lineCol returns the 1-based line and column (in characters) of s[off].
func lineCol(s string, off int) (line, col int) {
	off = min(off, len(s))
	line = strings.Count(s[:off], "\n") + 1
	ls := strings.LastIndexByte(s[:off], '\n') + 1
	return line, utf8.RuneCountInString(s[ls:off]) + 1
}

// trailObject walks the top-level object at s[i] == '{', reading the
// records of its "Records" key and skipping every other key.
func (p *parser) trailObject(i int, committed *bool) (end int, isTrail bool, err error) {
	s := p.s
	j := skipSpace(s, i+1)
	if j < len(s) && s[j] == '}' {
		return j + 1, false, nil
	}
	for {
		if j >= len(s) || s[j] != '"' {
			return 0, false, syntaxError(s, j, "a string for an object key")
		}
		var key string
		key, _, j, err = event.JSONValueTextAt(s, j)
		if err != nil {
			return 0, false, err
		}
		j = skipSpace(s, j)
		if j >= len(s) || s[j] != ':' {
			return 0, false, syntaxError(s, j, "':' after an object key")
		}
		j = skipSpace(s, j+1)
		if key == "Records" && j < len(s) && s[j] == '[' {
			if k := skipSpace(s, j+1); k < len(s) && (s[k] == '{' || s[k] == ']') {
				*committed, isTrail = true, true
				j, err = p.records(j)
			} else {
				j, err = event.JSONValueEnd(s, j)
			}
		} else {
			j, err = event.JSONValueEnd(s, j)
		}
		if err != nil {
			return 0, false, err
		}
		j = skipSpace(s, j)
		if j < len(s) && s[j] == ',' {
			j = skipSpace(s, j+1)
			continue
		}
		if j < len(s) && s[j] == '}' {
			return j + 1, isTrail, nil
		}
		return 0, false, syntaxError(s, j, "',' or '}' after an object value")
	}
}

// records adds an event for each object of the array at s[j] == '['.
func (p *parser) records(j int) (int, error) {
	s := p.s
	k := skipSpace(s, j+1)
	if k < len(s) && s[k] == ']' {
		return k + 1, nil
	}
	p.preferTime = jsonTimeKeyRank("eventTime")
	defer func() { p.preferTime = -1 }()
	for n := 0; ; n++ {
		if k >= len(s) || s[k] != '{' {
			return 0, syntaxError(s, k, "an object for Records["+strconv.Itoa(n)+"]")
		}
		end, err := p.fl.object(s, k)
		if err != nil {
			return 0, err
		}
		raw := s[k:end]
		if len(raw) > p.lim.MaxLineBytes {
			line, _ := lineCol(s, k)
			return 0, tooLong(fmt.Sprintf("CloudTrail record %d (Records[%d], line %d)", n+1, n, line), len(raw), p.lim)
		}
		if err := p.add(raw, true, nil); err != nil {
			return 0, err
		}
		p.st.CloudTrailRecords++
		k = skipSpace(s, end)
		if k < len(s) && s[k] == ',' {
			k = skipSpace(s, k+1)
			continue
		}
		if k < len(s) && s[k] == ']' {
			return k + 1, nil
		}
		return 0, syntaxError(s, k, "',' or ']' after Records["+strconv.Itoa(n)+"]")
	}
}

// jsonObjects reads a body of JSON objects of which the first spans
// several lines (pretty-printed, as from jq or an SDK's debug output), one
// event per object. Objects on one line each are NDJSON and go through the
// line reader instead, which also handles the odd line that is not JSON.
// It reports false, adding nothing, unless the whole body is objects.
func (p *parser) jsonObjects(i int) bool {
	s := p.s
	end, err := event.JSONValueEnd(s, i)
	if err != nil || strings.IndexByte(s[i:end], '\n') < 0 {
		return false
	}
	for k := skipSpace(s, end); k < len(s); k = skipSpace(s, end) {
		if s[k] != '{' {
			return false
		}
		if end, err = event.JSONValueEnd(s, k); err != nil {
			return false
		}
	}
	return true
}

// addJSONObjects adds the events of a body jsonObjects accepted.
func (p *parser) addJSONObjects(i int) error {
	s := p.s
	for i < len(s) {
		end, err := p.fl.object(s, i)
		if err != nil {
			return err // unreachable: jsonObjects validated the body
		}
		raw := s[i:end]
		if len(raw) > p.lim.MaxLineBytes {
			line, _ := lineCol(s, i)
			return tooLong("the JSON object starting at line "+strconv.Itoa(line), len(raw), p.lim)
		}
		if err := p.add(raw, true, nil); err != nil {
			return err
		}
		i = skipSpace(s, end)
	}
	return nil
}
