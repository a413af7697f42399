package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestJSONValueText(t *testing.T) {
	tests := []struct {
		raw    string
		text   string
		isNull bool
		err    string // substring of the error, "" for none
	}{
		{raw: `"plain"`, text: "plain"},
		{raw: `  "spaced"  `, text: "spaced"},
		{raw: `""`, text: ""},
		{raw: `"a\"b\\c\/d\b\f\n\r\t"`, text: "a\"b\\c/d\b\f\n\r\t"},
		{raw: `"\u00e9\u4e2d"`, text: "é中"},
		{raw: `"\ud83d\ude00"`, text: "😀"},
		{raw: `"\ud83d"`, text: "\uFFFD"},           // unpaired high surrogate
		{raw: `"\ude00x"`, text: "\uFFFDx"},         // unpaired low surrogate
		{raw: `"\ud83d\u0041"`, text: "\uFFFDA"},    // high surrogate + non-surrogate
		{raw: "\"a\xffb\"", text: "a\uFFFDb"},       // invalid UTF-8
		{raw: "\"\xe2\x82\"", text: "\uFFFD\uFFFD"}, // truncated sequence
		{raw: `"日本語"`, text: "日本語"},
		{raw: `0`, text: "0"},
		{raw: `-0`, text: "-0"},
		{raw: `1.50`, text: "1.50"},
		{raw: `1E+3`, text: "1E+3"},
		{raw: `-12.5e-7`, text: "-12.5e-7"},
		{raw: `123456789012345678901234567890`, text: "123456789012345678901234567890"},
		{raw: `true`, text: "true"},
		{raw: `false`, text: "false"},
		{raw: `null`, isNull: true},
		{raw: ` [1, 2.0 ,"a b", {"k" : null}] `, text: `[1,2.0,"a b",{"k":null}]`},
		{raw: `{"a":[],"b":{}}`, text: `{"a":[],"b":{}}`},
		{raw: `{"s":"\u003c\"x\""}`, text: `{"s":"\u003c\"x\""}`}, // escapes kept
		{raw: "[\n\t1\r\n]", text: "[1]"},
		{raw: ``, err: "unexpected end of input, expected a value"},
		{raw: `   `, err: "at byte 3: unexpected end of input"},
		{raw: `tru`, err: "expected the beginning of a value, found 't'"},
		{raw: `nul`, err: "beginning of a value"},
		{raw: `"abc`, err: "end of input in a string"},
		{raw: `"a\x"`, err: `invalid escape character 'x'`},
		{raw: `"\u12g4"`, err: `invalid character 'g' in \u escape`},
		{raw: "\"a\x01\"", err: "invalid control character"},
		{raw: `01`, err: "after the value"},
		{raw: `1.`, err: "in a number"},
		{raw: `-`, err: "in a number"},
		{raw: `1e`, err: "in a number"},
		{raw: `+1`, err: "beginning of a value"},
		{raw: `[1,]`, err: "expected a value"},
		{raw: `[1 2]`, err: "expected ',' or ']'"},
		{raw: `{"a" 1}`, err: "expected ':' after an object key"},
		{raw: `{a:1}`, err: "expected a string for an object key"},
		{raw: `{"a":1,}`, err: "expected a string for an object key"},
		{raw: `"a" "b"`, err: "invalid character '\"' after the value"},
		{raw: `truex`, err: "after the value"},
	}
	for _, tc := range tests {
		text, isNull, err := JSONValueText([]byte(tc.raw))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("JSONValueText(%q) error = %v, want one containing %q", tc.raw, err, tc.err)
			}
			if err != nil && !errors.Is(err, ErrInvalidJSON) {
				t.Errorf("JSONValueText(%q) error %v does not wrap ErrInvalidJSON", tc.raw, err)
			}
			continue
		}
		if err != nil || text != tc.text || isNull != tc.isNull {
			t.Errorf("JSONValueText(%q) = %q, %v, %v; want %q, %v", tc.raw, text, isNull, err, tc.text, tc.isNull)
		}
	}
}

func TestJSONSyntaxErrorOffset(t *testing.T) {
	_, _, err := JSONValueTextString(`{"a": [1, 2 x]}`)
	var se *JSONSyntaxError
	if !errors.As(err, &se) || se.Offset != 12 {
		t.Fatalf("error = %v, want a *JSONSyntaxError at offset 12", err)
	}
	if got, want := err.Error(), `invalid JSON at byte 12: expected ',' or ']', found 'x'`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestJSONValueTextAt(t *testing.T) {
	s := `{"k": "v\n", "n": 12 }`
	text, _, end, err := JSONValueTextAt(s, 5)
	if err != nil || text != "v\n" || end != 11 {
		t.Fatalf("JSONValueTextAt = %q, %d, %v", text, end, err)
	}
	end, err = JSONValueEnd(s, 17)
	if err != nil || end != 20 {
		t.Fatalf("JSONValueEnd = %d, %v, want 20", end, err)
	}
}

func TestJSONNestingLimit(t *testing.T) {
	deep := strings.Repeat("[", maxJSONNesting) + strings.Repeat("]", maxJSONNesting)
	if _, _, err := JSONValueTextString(deep); err != nil {
		t.Errorf("%d levels: %v", maxJSONNesting, err)
	}
	deeper := "[" + deep + "]"
	if _, _, err := JSONValueTextString(deeper); err == nil || json.Valid([]byte(deeper)) {
		t.Errorf("%d levels: err = %v, json.Valid = %v; want both to refuse", maxJSONNesting+1, err, json.Valid([]byte(deeper)))
	}
}

// hasStringSpecial must never miss a byte the scanner has to look at.
func TestHasStringSpecial(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c < 0x20 || c == '"' || c == '\\'
		for pos := 0; pos < 8; pos++ {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			x := load64(string(w), 0)
			if got := hasStringSpecial(x, 0); want && !got {
				t.Fatalf("byte %#x at %d: missed", c, pos)
			}
			if got := hasStringSpecial(x, hi8); (want || c >= 0x80) && !got {
				t.Fatalf("byte %#x at %d: missed with non-ASCII detection", c, pos)
			}
			if !want && c < 0x80 && hasStringSpecial(x, hi8) {
				t.Fatalf("byte %#x at %d: false alarm in an all-ASCII word", c, pos)
			}
		}
	}
}

// FuzzJSONValueText checks JSONValueText against encoding/json, the
// definition of JSON the rest of the system (and its users) rely on.
func FuzzJSONValueText(f *testing.F) {
	for _, s := range []string{`"a\u00e9\ud83d\ude00"`, `1.5e3`, `[1, {"a" : "b"}]`, `null`, `true`, "\"\xff\"", `"\ud800"`, `{"a":[1,2,{"b":null}]}`, `-0.0`, ` "x" `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		text, isNull, err := JSONValueText(raw)
		valid := json.Valid(raw)
		if (err == nil) != valid {
			t.Fatalf("JSONValueText(%q) err = %v but json.Valid = %v", raw, err, valid)
		}
		if err != nil {
			return
		}
		trimmed := bytes.TrimSpace(raw)
		switch trimmed[0] {
		case '"':
			var want string
			if err := json.Unmarshal(raw, &want); err != nil || text != want {
				t.Fatalf("string %q: got %q, encoding/json %q (%v)", raw, text, want, err)
			}
		case '[', '{':
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err != nil || text != b.String() {
				t.Fatalf("container %q: got %q, json.Compact %q (%v)", raw, text, b.String(), err)
			}
		case 'n':
			if !isNull || text != "" {
				t.Fatalf("null: got %q, %v", text, isNull)
			}
		default:
			if text != string(trimmed) {
				t.Fatalf("literal %q: got %q", raw, text)
			}
		}
	})
}
