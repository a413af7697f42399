package query

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String functions (spec §7.1). Arguments are used as text: numbers and
// booleans are rendered (Value.String). A null argument gives null unless
// said otherwise; so does an empty result (an empty string is null).
// Positions and lengths count characters (Unicode code points), not bytes.
//
//	concat(a, b, ...)         the arguments joined; null arguments add nothing.
//	format(fmt, a, ...)       Java printf subset (formatJava): %s %d %f %e %g
//	                          %x %X %o %c %b %% %n, with flags - 0 + space , #,
//	                          width, precision and argument indexes (%2$s).
//	length(s)                 number of characters.
//	substring(s, start[, end])  characters [start, end), 0-based; indexes
//	                          are clamped to the string; start >= end gives null.
//	toLowerCase(s), toUpperCase(s), trim(s)  (trim strips white space at
//	                          both ends).
//	replace(s, "lit", "new")  every occurrence of the literal replaced.
//	replace(s, /re/, "new")   every match of the RE2 regex replaced; the
//	                          replacement uses Java's syntax: $1 or ${name}
//	                          for groups, \$ for a dollar.
//	indexOf(s, sub[, from])   index of the first sub at or after from, or -1.
//	contains(s, sub)          whether sub occurs in s (case-sensitive).
//	urlEncode(s), urlDecode(s)  application/x-www-form-urlencoded (Java's
//	                          URLEncoder: space is "+"); bad input decodes to null.
//	base64Encode(s), base64Decode(s)  standard alphabet with padding; bad
//	                          input decodes to null.
//	hexToAscii(h)             the bytes of the hex string h as text; null if h
//	                          is not hex.
//	hexToDec(h), parseHex(h)  the hex string (optional 0x) as a long; 16 digits
//	                          are read as two's complement (FFFFFFFFFFFFFFFF = -1).
//	decToHex(n)               the long n in upper-case hex, two's complement for
//	                          negatives (-1 = FFFFFFFFFFFFFFFF).
//	hash(s[, alg])            hex digest: "md5" (default), "sha1", "sha2_256".
//	luhn(s)                   whether the digits of s (other characters are
//	                          ignored; at least 2 digits) pass the Luhn check.
//	tourl(url[, label])       a link for tables: [label](url) (label defaults
//	                          to the url).

func init() {
	registerFunc(&funcSpec{name: "concat", minArgs: 1, maxArgs: -1, typ: "string", build: buildConcat})
	registerFunc(&funcSpec{name: "format", minArgs: 1, maxArgs: -1, typ: "string", build: buildFormat})
	registerFunc(&funcSpec{name: "length", minArgs: 1, maxArgs: 1, typ: "long", build: pure1(strLength)})
	registerFunc(&funcSpec{name: "substring", minArgs: 2, maxArgs: 3, typ: "string",
		build: byArity(nil, nil, pure2(func(s, a Value) Value { return substring(s, a, NullValue) }), pure3(substring))})
	registerFunc(&funcSpec{name: "toLowerCase", minArgs: 1, maxArgs: 1, typ: "string", build: pure1(stringFunc(strings.ToLower))})
	registerFunc(&funcSpec{name: "toUpperCase", minArgs: 1, maxArgs: 1, typ: "string", build: pure1(stringFunc(strings.ToUpper))})
	registerFunc(&funcSpec{name: "trim", minArgs: 1, maxArgs: 1, typ: "string",
		build: pure1(stringFunc(func(s string) string { return strings.TrimFunc(s, unicode.IsSpace) }))})
	registerFunc(&funcSpec{name: "replace", minArgs: 3, maxArgs: 3, typ: "string", regexArgs: []int{1}, build: buildReplace})
	registerFunc(&funcSpec{name: "indexOf", minArgs: 2, maxArgs: 3, typ: "long",
		build: byArity(nil, nil, pure2(func(s, sub Value) Value { return strIndexOf(s, sub, IntValue(0)) }), pure3(strIndexOf))})
	registerFunc(&funcSpec{name: "contains", minArgs: 2, maxArgs: 2, typ: "boolean", build: pure2(func(s, sub Value) Value {
		a, ok1 := stringArg(s)
		b, ok2 := stringArg(sub)
		return BoolValue(ok1 && ok2 && strings.Contains(a, b))
	})})
	registerFunc(&funcSpec{name: "urlEncode", minArgs: 1, maxArgs: 1, typ: "string", build: pure1(stringFunc(url.QueryEscape))})
	registerFunc(&funcSpec{name: "urlDecode", minArgs: 1, maxArgs: 1, typ: "string", build: pure1(stringFuncErr(url.QueryUnescape))})
	registerFunc(&funcSpec{name: "base64Encode", minArgs: 1, maxArgs: 1, typ: "string",
		build: pure1(stringFunc(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }))})
	registerFunc(&funcSpec{name: "base64Decode", minArgs: 1, maxArgs: 1, typ: "string", build: pure1(stringFuncErr(func(s string) (string, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		return string(b), err
	}))})
	registerFunc(&funcSpec{name: "hexToAscii", minArgs: 1, maxArgs: 1, typ: "string", build: pure1(stringFuncErr(func(s string) (string, error) {
		b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
		return string(b), err
	}))})
	registerFunc(&funcSpec{name: "hexToDec", minArgs: 1, maxArgs: 1, typ: "long", build: pure1(hexToDec)})
	registerFunc(&funcSpec{name: "parseHex", minArgs: 1, maxArgs: 1, typ: "long", build: pure1(hexToDec)})
	registerFunc(&funcSpec{name: "decToHex", minArgs: 1, maxArgs: 1, typ: "string", build: pure1(func(v Value) Value {
		n, ok := v.Int()
		if !ok {
			return NullValue
		}
		return StringValue(strings.ToUpper(strconv.FormatUint(uint64(n), 16)))
	})})
	registerFunc(&funcSpec{name: "hash", minArgs: 1, maxArgs: 2, typ: "string", build: buildHash})
	registerFunc(&funcSpec{name: "luhn", minArgs: 1, maxArgs: 1, typ: "boolean", build: pure1(func(v Value) Value {
		s, ok := stringArg(v)
		return BoolValue(ok && luhnValid(s))
	})})
	registerFunc(&funcSpec{name: "tourl", minArgs: 1, maxArgs: 2, typ: "string", build: byArity(nil,
		pure1(func(u Value) Value { return toURL(u, u) }), pure2(toURL))})
}

// stringFunc lifts a string transformation to values (null stays null).
func stringFunc(f func(string) string) func(Value) Value {
	return func(v Value) Value {
		s, ok := stringArg(v)
		if !ok {
			return NullValue
		}
		return StringValue(f(s))
	}
}

// stringFuncErr lifts a transformation that may fail (failure gives null).
func stringFuncErr(f func(string) (string, error)) func(Value) Value {
	return func(v Value) Value {
		s, ok := stringArg(v)
		if !ok {
			return NullValue
		}
		out, err := f(s)
		if err != nil {
			return NullValue
		}
		return StringValue(out)
	}
}

func buildConcat(b *callBuilder) (evaluator, *Error) {
	args := b.args
	return func(x *runContext, r Row) Value {
		var buf []byte
		for _, a := range args {
			buf = a(x, r).appendTo(buf)
		}
		return StringValue(string(buf))
	}, nil
}

func strLength(v Value) Value {
	s, ok := stringArg(v)
	if !ok {
		return NullValue
	}
	return IntValue(int64(utf8.RuneCountInString(s)))
}

// substring takes characters [start, end) of s (end null: to the end).
func substring(sv, startv, endv Value) Value {
	s, ok := stringArg(sv)
	if !ok {
		return NullValue
	}
	start, ok := startv.Int()
	if !ok {
		return NullValue
	}
	n := int64(utf8.RuneCountInString(s))
	end := n
	if endv.kind != KindNull {
		if end, ok = endv.Int(); !ok {
			return NullValue
		}
	}
	start = max(start, 0)
	end = min(end, n)
	if start >= end {
		return NullValue
	}
	if n == int64(len(s)) { // ASCII
		return StringValue(s[start:end])
	}
	rs := []rune(s)
	return StringValue(string(rs[start:end]))
}

// strIndexOf returns the character index of sub in s at or after from.
func strIndexOf(sv, subv, fromv Value) Value {
	s, ok1 := stringArg(sv)
	sub, ok2 := stringArg(subv)
	from, ok3 := fromv.Int()
	if !ok1 || !ok2 || !ok3 {
		return NullValue
	}
	from = max(from, 0)
	// byte offset of character from
	off := 0
	for i := int64(0); i < from && off < len(s); i++ {
		_, w := utf8.DecodeRuneInString(s[off:])
		off += w
	}
	if from > int64(utf8.RuneCountInString(s)) {
		return IntValue(-1)
	}
	i := strings.Index(s[off:], sub)
	if i < 0 {
		return IntValue(-1)
	}
	return IntValue(from + int64(utf8.RuneCountInString(s[off:off+i])))
}

func buildReplace(b *callBuilder) (evaluator, *Error) {
	src, repl := b.args[0], b.args[2]
	if re, ok := b.arg(1).(*RegexLit); ok {
		rx, err := regexp.Compile(re.Pattern)
		if err != nil {
			return nil, b.errorf(1, "invalid regular expression: %v", err)
		}
		constRepl := ""
		replConst := false
		if v, ok := b.constArg(2); ok {
			constRepl, replConst = javaReplacement(v.String()), true
		}
		return func(x *runContext, r Row) Value {
			s, ok := stringArg(src(x, r))
			if !ok {
				return NullValue
			}
			rp := constRepl
			if !replConst {
				rp = javaReplacement(repl(x, r).String())
			}
			return StringValue(rx.ReplaceAllString(s, rp))
		}, nil
	}
	old := b.args[1]
	return func(x *runContext, r Row) Value {
		s, ok := stringArg(src(x, r))
		if !ok {
			return NullValue
		}
		o, ok := stringArg(old(x, r))
		if !ok {
			return StringValue(s)
		}
		return StringValue(strings.ReplaceAll(s, o, repl(x, r).String()))
	}, nil
}

// javaReplacement converts a Java replacement string ($1, ${name}, \$,
// \\) into Go's regexp.Expand syntax (${1}, ${name}, $$, \).
func javaReplacement(s string) string {
	if !strings.ContainsAny(s, `$\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(s[i])
			}
		case c == '$' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString("$$")
				continue
			}
			b.WriteString(s[i : i+end+1])
			i += end
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hexToDec(v Value) Value {
	s, ok := stringArg(v)
	if !ok {
		return NullValue
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if s == "" || len(s) > 16 {
		return NullValue
	}
	u, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return NullValue
	}
	return IntValue(int64(u))
}

var hashes = map[string]func() hash.Hash{"md5": md5.New, "sha1": sha1.New, "sha2_256": sha256.New, "sha256": sha256.New}

func buildHash(b *callBuilder) (evaluator, *Error) {
	src := b.args[0]
	newHash := md5.New
	if b.nargs() == 2 {
		v, ok := b.constArg(1)
		if !ok {
			return nil, b.errorf(1, `the algorithm must be a quoted name ("md5", "sha1" or "sha2_256")`)
		}
		h, ok := hashes[strings.ToLower(v.String())]
		if !ok {
			return nil, b.errorf(1, `unknown algorithm %q; use "md5", "sha1" or "sha2_256"`, v.String())
		}
		newHash = h
	}
	return func(x *runContext, r Row) Value {
		s, ok := stringArg(src(x, r))
		if !ok {
			return NullValue
		}
		h := newHash()
		h.Write([]byte(s))
		return StringValue(hex.EncodeToString(h.Sum(nil)))
	}, nil
}

// luhnValid runs the Luhn checksum over the digits of s.
func luhnValid(s string) bool {
	sum, n := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if n%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
	}
	return n >= 2 && sum%10 == 0
}

func toURL(u, label Value) Value {
	us, ok := stringArg(u)
	if !ok {
		return NullValue
	}
	ls, ok := stringArg(label)
	if !ok {
		ls = us
	}
	return StringValue("[" + ls + "](" + us + ")")
}
