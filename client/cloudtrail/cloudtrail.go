// Package cloudtrail reads AWS CloudTrail log files as they are delivered
// to S3 ({"Records":[...]} objects, usually gzip-compressed) and as
// exported by other tools (one record per line, a JSON array, or records
// simply concatenated), and hands over each record as compact JSON: the
// record's own bytes with insignificant whitespace removed, key order and
// values untouched.
//
// Reading is streaming: a Records array of any size is decoded one record
// at a time.
package cloudtrail

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// SyntaxError is a file that is not valid CloudTrail JSON, with the
// position of the problem.
type SyntaxError struct {
	File   string // file name, empty for Read
	Offset int64  // byte offset in the (decompressed) input
	Line   int    // 1-based line of Offset; 0 when not known
	Column int    // 1-based column (in bytes) of Offset; 0 when not known
	Record int    // records read successfully before the error
	Err    error

	// atValue: Offset is before the value the error is in; the position
	// skips the white space there to point at the value's first byte.
	atValue bool
}

func (e *SyntaxError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d", e.Line, e.Column)
	} else {
		fmt.Fprintf(&b, "byte offset %d", e.Offset)
	}
	fmt.Fprintf(&b, " (after %d record(s)): %v", e.Record, e.Err)
	return b.String()
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// ReadFile reads a CloudTrail file (gzip-compressed or not, detected from
// its content) and calls fn for each record. The slice passed to fn is only
// valid during the call. It returns the number of records handed to fn. A
// malformed file gives a *SyntaxError with the line and column; an error
// returned by fn stops reading and is returned as is.
func ReadFile(path string, fn func(record []byte) error) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open CloudTrail file: %w", err)
	}
	defer f.Close()
	n, err := read(f, fn)
	var ce *callbackError
	var se *SyntaxError
	switch {
	case err == nil:
		return n, nil
	case errors.As(err, &ce):
		return n, ce.err
	case errors.As(err, &se):
		se.File = path
		if line, col, perr := positionInFile(path, se.Offset, se.atValue); perr == nil {
			se.Line, se.Column = line, col
		}
		return n, se
	}
	return n, fmt.Errorf("%s: %w", path, err)
}

// callbackError carries an error returned by the caller's fn untouched.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }
func (e *callbackError) Unwrap() error { return e.err }

// Read reads CloudTrail records from r; see ReadFile. Errors in the JSON
// are *SyntaxError with the byte offset only (no line or column).
func Read(r io.Reader, fn func(record []byte) error) (int, error) {
	n, err := read(r, fn)
	var ce *callbackError
	if errors.As(err, &ce) {
		return n, ce.err
	}
	return n, err
}

// read is Read with the caller's errors wrapped in callbackError.
func read(r io.Reader, fn func(record []byte) error) (int, error) {
	in, closeIn, err := decompress(r)
	if err != nil {
		return 0, err
	}
	defer closeIn()
	rd := &reader{fn: fn}
	err = rd.read(in)
	return rd.n, err
}

// decompress returns r itself or, when r starts with the gzip magic bytes, a
// gzip reader over it.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return bufio.NewReaderSize(zr, 64<<10), func() { zr.Close() }, nil
	}
	return br, func() {}, nil
}

type reader struct {
	fn  func([]byte) error
	n   int
	buf bytes.Buffer
	dec *json.Decoder
}

func (rd *reader) syntax(err error) error {
	off := rd.dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &SyntaxError{Offset: off, Record: rd.n, Err: fmt.Errorf("the input ends inside the value that starts here: %w", io.ErrUnexpectedEOF), atValue: true}
	}
	return &SyntaxError{Offset: off, Record: rd.n, Err: err}
}

// emit compacts one record and hands it over.
func (rd *reader) emit(raw json.RawMessage, requireRecord bool) error {
	if len(raw) == 0 || raw[0] != '{' {
		return &SyntaxError{Offset: rd.dec.InputOffset(), Record: rd.n, Err: fmt.Errorf("record %d is not a JSON object", rd.n+1)}
	}
	if requireRecord && !looksLikeRecord(raw) {
		return &SyntaxError{Offset: rd.dec.InputOffset(), Record: rd.n, Err: fmt.Errorf("object %d is not a CloudTrail record (no eventName, eventSource or eventTime)", rd.n+1)}
	}
	rd.buf.Reset()
	if err := json.Compact(&rd.buf, raw); err != nil {
		return rd.syntax(err)
	}
	if err := rd.fn(rd.buf.Bytes()); err != nil {
		return &callbackError{err}
	}
	rd.n++
	return nil
}

// looksLikeRecord checks the top-level keys of an object for the fields
// every CloudTrail record has.
func looksLikeRecord(raw []byte) bool {
	var probe struct {
		EventName   *json.RawMessage `json:"eventName"`
		EventSource *json.RawMessage `json:"eventSource"`
		EventTime   *json.RawMessage `json:"eventTime"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return false
	}
	return probe.EventName != nil || probe.EventSource != nil || probe.EventTime != nil
}

func (rd *reader) read(in io.Reader) error {
	br, ok := in.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(in, 64<<10)
	}
	rd.dec = json.NewDecoder(br)
	for {
		// Look at the next top-level value: a {"Records":[...]} object is
		// streamed record by record; an array is streamed element by
		// element; any other object is one record (NDJSON, concatenated).
		first, wrapped, err := peekValue(br, rd.dec)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return rd.syntax(err)
		}
		switch {
		case first == '{' && wrapped:
			if err := rd.readWrapped(); err != nil {
				return err
			}
		case first == '{':
			var raw json.RawMessage
			if err := rd.dec.Decode(&raw); err != nil {
				return rd.syntax(err)
			}
			if !looksLikeRecord(raw) {
				// A Records object whose "Records" key is not the first.
				var w struct {
					Records []json.RawMessage `json:"Records"`
				}
				if json.Unmarshal(raw, &w) == nil && w.Records != nil {
					for _, rec := range w.Records {
						if err := rd.emit(rec, false); err != nil {
							return err
						}
					}
					continue
				}
			}
			if err := rd.emit(raw, true); err != nil {
				return err
			}
		case first == '[':
			if err := rd.readArray(true); err != nil {
				return err
			}
		default:
			return &SyntaxError{Offset: rd.dec.InputOffset(), Record: rd.n, Err: fmt.Errorf("unexpected %q: expected a JSON object or array", first)}
		}
	}
}

// readWrapped streams one {"Records":[...], ...} object.
func (rd *reader) readWrapped() error {
	if _, err := rd.dec.Token(); err != nil { // {
		return rd.syntax(err)
	}
	sawRecords := false
	for rd.dec.More() {
		tok, err := rd.dec.Token()
		if err != nil {
			return rd.syntax(err)
		}
		key, _ := tok.(string)
		if key == "Records" && !sawRecords {
			sawRecords = true
			t, err := rd.dec.Token()
			if err != nil {
				return rd.syntax(err)
			}
			if d, ok := t.(json.Delim); !ok || d != '[' {
				if t == nil { // "Records": null
					continue
				}
				return &SyntaxError{Offset: rd.dec.InputOffset(), Record: rd.n, Err: fmt.Errorf("\"Records\" is not an array")}
			}
			if err := rd.readArrayBody(false); err != nil {
				return err
			}
			continue
		}
		var skip json.RawMessage
		if err := rd.dec.Decode(&skip); err != nil {
			return rd.syntax(err)
		}
	}
	if _, err := rd.dec.Token(); err != nil { // }
		return rd.syntax(err)
	}
	return nil
}

// readArray streams a top-level array of records.
func (rd *reader) readArray(requireRecord bool) error {
	if _, err := rd.dec.Token(); err != nil { // [
		return rd.syntax(err)
	}
	return rd.readArrayBody(requireRecord)
}

// readArrayBody reads elements up to and including the closing ].
func (rd *reader) readArrayBody(requireRecord bool) error {
	for rd.dec.More() {
		var raw json.RawMessage
		if err := rd.dec.Decode(&raw); err != nil {
			return rd.syntax(err)
		}
		if err := rd.emit(raw, requireRecord); err != nil {
			return err
		}
	}
	if _, err := rd.dec.Token(); err != nil { // ]
		return rd.syntax(err)
	}
	return nil
}

// peekValue returns the first byte of the next top-level value and, for an
// object, whether its first key is "Records". It returns io.EOF at the end
// of the input.
func peekValue(br *bufio.Reader, dec *json.Decoder) (byte, bool, error) {
	// The decoder may have buffered input already: look there first.
	rest := dec.Buffered()
	var head []byte
	if b, ok := rest.(*bytes.Reader); ok && b.Len() > 0 {
		head = make([]byte, b.Len())
		_, _ = b.ReadAt(head, 0)
	}
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 || (head[0] == '{' && len(head) < 64) {
		// Not enough buffered: ask the decoder for a token-free look by
		// peeking the underlying reader (the decoder has consumed
		// everything before it).
		more, _ := br.Peek(4096)
		head = append(head, more...)
		head = bytes.TrimLeft(head, " \t\r\n")
	}
	if len(head) == 0 {
		return 0, false, io.EOF
	}
	if head[0] != '{' {
		return head[0], false, nil
	}
	key, ok := firstKey(head[1:])
	return '{', ok && key == "Records", nil
}

// firstKey returns the first key of an object whose text (after the opening
// brace) starts b, when it fits in b.
func firstKey(b []byte) (string, bool) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '"' {
		return "", false
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			var s string
			if err := json.Unmarshal(b[:i+1], &s); err != nil {
				return "", false
			}
			return s, true
		}
	}
	return "", false
}

// positionInFile converts a byte offset of the decompressed file to a line
// and column; skipSpace moves on over white space at the offset.
func positionInFile(path string, offset int64, skipSpace bool) (int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	in, closeIn, err := decompress(f)
	if err != nil {
		return 0, 0, err
	}
	defer closeIn()
	line, col := 1, 1
	br := bufio.NewReaderSize(in, 64<<10)
	for i := int64(0); ; i++ {
		if i >= offset {
			if !skipSpace {
				break
			}
			if b, err := br.Peek(1); err != nil || (b[0] != ' ' && b[0] != '\t' && b[0] != '\r' && b[0] != '\n') {
				break
			}
		}
		c, err := br.ReadByte()
		if err != nil {
			break
		}
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col, nil
}

// IsCandidate reports whether a file found while walking a directory is a
// CloudTrail log file: *.json or *.json.gz, excluding CloudTrail digest
// files (which hold hashes, not records).
func IsCandidate(path string) bool {
	lower := strings.ToLower(filepath.Base(path))
	if !strings.HasSuffix(lower, ".json") && !strings.HasSuffix(lower, ".json.gz") {
		return false
	}
	if strings.Contains(lower, "cloudtrail-digest") {
		return false
	}
	return !strings.Contains(filepath.ToSlash(path), "/CloudTrail-Digest/")
}

// FindFiles expands the arguments of an import: a directory is walked
// recursively for CloudTrail files (IsCandidate), a file is taken as
// given. The result is sorted within each directory and free of duplicates.
func FindFiles(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("find CloudTrail files: %w", err)
		}
		if !info.IsDir() {
			add(arg)
			continue
		}
		var found []string
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("walk %s: %w", p, err)
			}
			if d.Type().IsRegular() && IsCandidate(p) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find CloudTrail files under %s: %w", arg, err)
		}
		sort.Strings(found)
		for _, p := range found {
			add(p)
		}
	}
	return out, nil
}
