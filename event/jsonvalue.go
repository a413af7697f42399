package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrInvalidJSON is wrapped by every JSON syntax error of this package.
var ErrInvalidJSON = errors.New("invalid JSON")

// JSONSyntaxError says where a JSON text is malformed.
type JSONSyntaxError struct {
	Offset int // byte offset of the problem in the text given
	Msg    string
}

func (e *JSONSyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// Unwrap lets errors.Is(err, ErrInvalidJSON) hold.
func (e *JSONSyntaxError) Unwrap() error { return ErrInvalidJSON }

// JSONValueText returns the text under which one JSON value is stored when
// JSON fields are extracted at ingest, and compared by the query language's
// json operator. Both sides call this function (or JSONValueTextAt), so a
// search over the extracted fields and a search that parses _raw give the
// same answer.
//
//   - a string is its unescaped text (invalid UTF-8 and unpaired surrogates
//     become U+FFFD, as encoding/json does);
//   - a number is its literal text as written ("1.50", "-0", "1e3"), so no
//     precision is lost and nothing is reformatted;
//   - true and false are "true" and "false";
//   - null reports isNull and no text: a null value is no field at all;
//   - an array or object is its compact JSON text (json.Compact of the
//     original bytes: number spellings and string escapes are kept).
//
// Whitespace around the value is ignored; anything else is a
// *JSONSyntaxError.
func JSONValueText(raw []byte) (text string, isNull bool, err error) {
	return JSONValueTextString(string(raw))
}

// JSONValueTextString is JSONValueText for a value held in a string. The text
// returned may share memory with raw (it does for plain strings, numbers and
// already-compact arrays and objects), which lets the ingest path extract
// fields without copying them.
func JSONValueTextString(raw string) (text string, isNull bool, err error) {
	text, isNull, end, err := JSONValueTextAt(raw, 0)
	if err != nil {
		return "", false, err
	}
	for end < len(raw) && isJSONSpace(raw[end]) {
		end++
	}
	if end < len(raw) {
		return "", false, jsonErr(end, "invalid character %q after the value", raw[end])
	}
	return text, isNull, nil
}

// JSONValueTextAt reads the JSON value that starts at s[i] (after optional
// whitespace) and returns its text as JSONValueText defines it, and the
// offset just past the value. Error offsets are offsets in s. It is the
// building block for walking an object key by key in one pass.
func JSONValueTextAt(s string, i int) (text string, isNull bool, end int, err error) {
	for i < len(s) && isJSONSpace(s[i]) {
		i++
	}
	if i >= len(s) {
		return "", false, 0, jsonErr(i, "unexpected end of input, expected a value")
	}
	switch c := s[i]; {
	case c == '"':
		end, plain, err := jsonStringEnd(s, i)
		if err != nil {
			return "", false, 0, err
		}
		if plain {
			return s[i+1 : end-1], false, end, nil
		}
		return unquoteJSON(s[i+1 : end-1]), false, end, nil
	case c == '{' || c == '[':
		end, spaced, err := jsonContainerEnd(s, i, 0)
		if err != nil {
			return "", false, 0, err
		}
		if !spaced {
			return s[i:end], false, end, nil
		}
		var b bytes.Buffer
		if err := json.Compact(&b, []byte(s[i:end])); err != nil {
			// Unreachable: the value was just validated.
			return "", false, 0, fmt.Errorf("%w: %w", ErrInvalidJSON, err)
		}
		return b.String(), false, end, nil
	case c == '-' || isDigit(c):
		end, err := jsonNumberEnd(s, i)
		if err != nil {
			return "", false, 0, err
		}
		return s[i:end], false, end, nil
	case c == 't' && hasPrefixAt(s, i, "true"):
		return "true", false, i + 4, nil
	case c == 'f' && hasPrefixAt(s, i, "false"):
		return "false", false, i + 5, nil
	case c == 'n' && hasPrefixAt(s, i, "null"):
		return "", true, i + 4, nil
	}
	return "", false, 0, expected(s, i, "the beginning of a value")
}

// JSONValueEnd validates the JSON value that starts at s[i] (after optional
// whitespace) and returns the offset just past it, without computing its
// text: the way to skip a value that is not wanted.
func JSONValueEnd(s string, i int) (int, error) {
	for i < len(s) && isJSONSpace(s[i]) {
		i++
	}
	if i >= len(s) {
		return 0, jsonErr(i, "unexpected end of input, expected a value")
	}
	switch c := s[i]; {
	case c == '"':
		end, _, err := jsonStringEnd(s, i)
		return end, err
	case c == '{' || c == '[':
		end, _, err := jsonContainerEnd(s, i, 0)
		return end, err
	case c == '-' || isDigit(c):
		return jsonNumberEnd(s, i)
	case c == 't' && hasPrefixAt(s, i, "true"):
		return i + 4, nil
	case c == 'f' && hasPrefixAt(s, i, "false"):
		return i + 5, nil
	case c == 'n' && hasPrefixAt(s, i, "null"):
		return i + 4, nil
	}
	return 0, expected(s, i, "the beginning of a value")
}

func jsonErr(off int, format string, args ...any) error {
	return &JSONSyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trimJSONSpace(s string) string {
	for len(s) > 0 && isJSONSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isJSONSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// jsonStringEnd validates the string that starts at s[i] == '"' and returns
// the offset just past its closing quote. plain reports that the string's
// content can be used as it is: no escapes and valid UTF-8.
//
// Strings are most of a JSON text, so the loop skips 8 ordinary bytes at a
// time and only looks at the bytes that matter one by one.
func jsonStringEnd(s string, i int) (end int, plain bool, err error) {
	plain = true
	ascii := true
	j := i + 1
	for {
		special := uint64(hi8)
		if !ascii {
			special = 0 // once a non-ASCII byte is seen, utf8.ValidString decides
		}
		for j+8 <= len(s) && !hasStringSpecial(load64(s, j), special) {
			j += 8
		}
		if j >= len(s) {
			return 0, false, jsonErr(len(s), "unexpected end of input in a string")
		}
		switch c := s[j]; {
		case c == '"':
			if !ascii && !utf8.ValidString(s[i+1:j]) {
				plain = false
			}
			return j + 1, plain, nil
		case c == '\\':
			plain = false
			j++
			if j >= len(s) {
				return 0, false, jsonErr(j, "unexpected end of input in a string")
			}
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s) {
					return 0, false, jsonErr(len(s), "unexpected end of input in a string")
				}
				for k := j + 1; k <= j+4; k++ {
					if hexVal(s[k]) < 0 {
						return 0, false, jsonErr(k, "invalid character %q in \\u escape", s[k])
					}
				}
				j += 4
			default:
				return 0, false, jsonErr(j, "invalid escape character %q in a string", s[j])
			}
		case c < 0x20:
			return 0, false, jsonErr(j, "invalid control character %q in a string", c)
		case c >= 0x80:
			ascii = false
		}
		j++
	}
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// load64 reads 8 bytes of s as a little-endian word; the compiler turns
// it into one load.
func load64(s string, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// hasStringSpecial reports whether the word x holds a byte a JSON string
// scanner must look at: a quote, a backslash, a control character, or (if
// special is hi8) a non-ASCII byte. The tests are the classic exact
// "has a byte less than n" / "has a zero byte" bit tricks.
func hasStringSpecial(x, special uint64) bool {
	q := x ^ '"'*lo8
	b := x ^ '\\'*lo8
	t := (x-0x20*lo8)&^x | (q-lo8)&^q | (b-lo8)&^b | x&special
	return t&hi8 != 0
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// unquoteJSON decodes the content of a validated JSON string the way
// encoding/json does, including its replacement of invalid UTF-8 bytes and
// unpaired surrogates by U+FFFD.
func unquoteJSON(s string) string {
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			e := s[i+1]
			i += 2
			switch e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s[i:])
				i += 4
				if utf16.IsSurrogate(r) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if d := utf16.DecodeRune(r, hex4(s[i+2:])); d != utf8.RuneError {
							b = utf8.AppendRune(b, d)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default: // '"', '\\', '/'
				b = append(b, e)
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
		}
	}
	return string(b)
}

// hex4 reads four validated hex digits.
func hex4(s string) rune {
	var r rune
	for k := 0; k < 4; k++ {
		r = r<<4 | rune(hexVal(s[k]))
	}
	return r
}

// jsonNumberEnd validates the number that starts at s[i] and returns the
// offset just past it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumberEnd(s string, i int) (int, error) {
	j := i
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && s[j] >= '1' && s[j] <= '9':
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	default:
		return 0, badNumber(s, j)
	}
	if j < len(s) && s[j] == '.' {
		j++
		if j >= len(s) || !isDigit(s[j]) {
			return 0, badNumber(s, j)
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j >= len(s) || !isDigit(s[j]) {
			return 0, badNumber(s, j)
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	return j, nil
}

func badNumber(s string, j int) error {
	if j >= len(s) {
		return jsonErr(j, "unexpected end of input in a number")
	}
	return jsonErr(j, "invalid character %q in a number", s[j])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// maxJSONNesting matches encoding/json's limit, so that every value it
// accepts is accepted here and the other way round.
const maxJSONNesting = 10000

// jsonContainerEnd validates the array or object that starts at s[i] and
// returns the offset just past it. spaced reports whitespace between its
// tokens, i.e. that compacting it would change it.
func jsonContainerEnd(s string, i, depth int) (end int, spaced bool, err error) {
	depth++
	if depth > maxJSONNesting {
		return 0, false, jsonErr(i, "nesting deeper than %d levels", maxJSONNesting)
	}
	open := s[i]
	closer := byte(']')
	if open == '{' {
		closer = '}'
	}
	j := i + 1
	skip := func() {
		for j < len(s) && isJSONSpace(s[j]) {
			j++
			spaced = true
		}
	}
	skip()
	if j < len(s) && s[j] == closer {
		return j + 1, spaced, nil
	}
	for {
		if open == '{' {
			if j >= len(s) || s[j] != '"' {
				return 0, false, expected(s, j, "a string for an object key")
			}
			if j, _, err = jsonStringEnd(s, j); err != nil {
				return 0, false, err
			}
			skip()
			if j >= len(s) || s[j] != ':' {
				return 0, false, expected(s, j, "':' after an object key")
			}
			j++
			skip()
		}
		if j >= len(s) {
			return 0, false, expected(s, j, "a value")
		}
		switch c := s[j]; {
		case c == '"':
			j, _, err = jsonStringEnd(s, j)
		case c == '{' || c == '[':
			var sp bool
			j, sp, err = jsonContainerEnd(s, j, depth)
			spaced = spaced || sp
		case c == '-' || isDigit(c):
			j, err = jsonNumberEnd(s, j)
		case c == 't' && hasPrefixAt(s, j, "true"):
			j += 4
		case c == 'f' && hasPrefixAt(s, j, "false"):
			j += 5
		case c == 'n' && hasPrefixAt(s, j, "null"):
			j += 4
		default:
			return 0, false, expected(s, j, "a value")
		}
		if err != nil {
			return 0, false, err
		}
		skip()
		if j < len(s) && s[j] == ',' {
			j++
			skip()
			continue
		}
		if j < len(s) && s[j] == closer {
			return j + 1, spaced, nil
		}
		return 0, false, expected(s, j, fmt.Sprintf("',' or '%c'", closer))
	}
}

func hasPrefixAt(s string, i int, p string) bool {
	return len(s)-i >= len(p) && s[i:i+len(p)] == p
}

func expected(s string, j int, what string) error {
	if j >= len(s) {
		return jsonErr(j, "unexpected end of input, expected %s", what)
	}
	return jsonErr(j, "expected %s, found %q", what, s[j])
}
