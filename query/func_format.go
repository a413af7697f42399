package query

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// format(fmt, args...) (spec §7.1): Java's String.format, the subset logs
// need. A conversion is
//
//	%[index$][flags][width][.precision]conversion
//
// conversions: s S (text; precision truncates), d (integer), x X o
// (integer in hex/octal; negatives in two's complement, as Java does for
// longs), f e E g G (floating point; Java's %g: precision = significant
// digits, default 6, scientific below 10^-4 or from 10^precision), c
// (character: a code point or a one-character string), b B (boolean:
// false for null and false, else true), %% and %n. Flags: - (left-justify),
// 0 (zero padding), + (sign), space, "," (grouping, for d and f), # (0x/0
// prefix for x/o). index$ picks an argument (1-based); %<s reuses the
// previous one.
//
// Arguments convert as in the rest of the language: numeric strings are
// numbers for d/f/x...; a null argument prints "null" (Java's rule). A
// number conversion of a non-numeric argument, a missing argument or an
// unknown conversion makes the result null and adds a warning; a constant
// format with an unknown conversion is an error at compile time.

func buildFormat(b *callBuilder) (evaluator, *Error) {
	if v, ok := b.constArg(0); ok {
		if _, err := parseJavaFormat(v.String()); err != nil {
			return nil, b.errorf(0, "%v", err)
		}
	}
	f, args := b.args[0], b.args[1:]
	warnPrefix := "format" + " in " + quoteString(b.call.String()) + ": "
	return func(x *runContext, r Row) Value {
		vals := make([]Value, len(args))
		for i, a := range args {
			vals[i] = a(x, r)
		}
		s, err := formatJava(f(x, r).String(), vals)
		if err != nil {
			x.warn(warnPrefix + err.Error())
			return NullValue
		}
		return StringValue(s)
	}, nil
}

// maxFormatWidth bounds widths and precisions, so that a format cannot
// make huge strings.
const maxFormatWidth = 1000

// fmtSpec is one parsed conversion; lit holds the literal text before it.
type fmtSpec struct {
	lit       string
	index     int // 1-based argument index; 0: next; -1: previous (%<)
	flags     string
	width     int // -1: none
	precision int // -1: none
	conv      byte
}

// parseJavaFormat splits a Java format string into literal text and
// conversions. The last spec may have conv 0: trailing literal text only.
func parseJavaFormat(f string) ([]fmtSpec, error) {
	var specs []fmtSpec
	var lit strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		i++
		sp := fmtSpec{width: -1, precision: -1}
		// index$ or <
		j := i
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			j++
		}
		if j < len(f) && f[j] == '$' && j > i {
			n, _ := strconv.Atoi(f[i:j])
			if n == 0 {
				return nil, errors.New("argument index 0 in the format; indexes start at 1")
			}
			sp.index = n
			i = j + 1
		} else if i < len(f) && f[i] == '<' {
			sp.index = -1
			i++
		}
		for i < len(f) && strings.IndexByte("-0+ ,#", f[i]) >= 0 {
			sp.flags += string(f[i])
			i++
		}
		j = i
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			j++
		}
		if j > i {
			sp.width, _ = strconv.Atoi(f[i:j])
			if j-i > 4 || sp.width > maxFormatWidth {
				return nil, fmt.Errorf("width %s in the format is above %d", f[i:j], maxFormatWidth)
			}
			i = j
		}
		if i < len(f) && f[i] == '.' {
			j = i + 1
			for j < len(f) && f[j] >= '0' && f[j] <= '9' {
				j++
			}
			if j == i+1 {
				return nil, errors.New(`"." without a precision in the format`)
			}
			sp.precision, _ = strconv.Atoi(f[i+1 : j])
			if j-i > 5 || sp.precision > maxFormatWidth {
				return nil, fmt.Errorf("precision %s in the format is above %d", f[i+1:j], maxFormatWidth)
			}
			i = j
		}
		if i >= len(f) {
			return nil, errors.New(`the format ends inside a conversion ("%" at the end)`)
		}
		sp.conv = f[i]
		i++
		switch sp.conv {
		case '%', 'n':
			if sp.conv == '%' {
				lit.WriteByte('%')
			} else {
				lit.WriteByte('\n')
			}
			continue
		case 's', 'S', 'd', 'x', 'X', 'o', 'f', 'e', 'E', 'g', 'G', 'c', 'b', 'B':
		default:
			r, _ := utf8.DecodeRuneInString(f[i-1:])
			return nil, fmt.Errorf("unsupported conversion %%%c in the format", r)
		}
		sp.lit = lit.String()
		lit.Reset()
		specs = append(specs, sp)
	}
	specs = append(specs, fmtSpec{lit: lit.String()})
	return specs, nil
}

// formatJava formats args by the Java format f.
func formatJava(f string, args []Value) (string, error) {
	specs, err := parseJavaFormat(f)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	next, prev := 0, -1
	for _, sp := range specs {
		b.WriteString(sp.lit)
		if sp.conv == 0 {
			continue
		}
		var ai int
		switch {
		case sp.index > 0:
			ai = sp.index - 1
		case sp.index < 0:
			if prev < 0 {
				return "", errors.New("%< without a previous argument")
			}
			ai = prev
		default:
			ai = next
			next++
		}
		if ai >= len(args) {
			return "", fmt.Errorf("the format needs argument %d, the call has %d", ai+1, len(args))
		}
		prev = ai
		s, err := formatOne(sp, args[ai])
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func formatOne(sp fmtSpec, v Value) (string, error) {
	has := func(flag byte) bool { return strings.IndexByte(sp.flags, flag) >= 0 }
	var body string
	numeric := false
	switch sp.conv {
	case 's', 'S':
		body = "null"
		if v.kind != KindNull {
			body = v.String()
		}
		if sp.precision >= 0 && utf8.RuneCountInString(body) > sp.precision {
			body = string([]rune(body)[:sp.precision])
		}
		if sp.conv == 'S' {
			body = strings.ToUpper(body)
		}
	case 'b', 'B':
		body = "true"
		if v.kind == KindNull || (v.kind == KindBool && !v.Bool()) {
			body = "false"
		}
		if sp.conv == 'B' {
			body = strings.ToUpper(body)
		}
	case 'c':
		switch {
		case v.kind == KindNull:
			body = "null"
		case v.kind == KindString && utf8.RuneCountInString(v.s) == 1:
			body = v.s
		default:
			n, ok := v.Int()
			if !ok || n < 0 || n > utf8.MaxRune {
				return "", fmt.Errorf("%%c needs a character, found %q", v.String())
			}
			body = string(rune(n))
		}
	case 'd', 'x', 'X', 'o':
		if v.kind == KindNull {
			body = "null"
			break
		}
		n, ok := v.Numeric()
		if !ok {
			return "", fmt.Errorf("%%%c needs a number, found %q", sp.conv, v.String())
		}
		i, ok := n.Int()
		if !ok || (!n.isInt && float64(i) != n.fval()) {
			return "", fmt.Errorf("%%%c needs an integer, found %s", sp.conv, n.String())
		}
		numeric = true
		switch sp.conv {
		case 'd':
			body = strconv.FormatUint(absInt64(i), 10)
			if has(',') {
				body = groupDigits(body)
			}
			body = signed(body, i < 0, has)
		case 'x', 'X':
			body = strconv.FormatUint(uint64(i), 16)
			if has('#') {
				body = "0x" + body
			}
			if sp.conv == 'X' {
				body = strings.ToUpper(body)
			}
		case 'o':
			body = strconv.FormatUint(uint64(i), 8)
			if has('#') {
				body = "0" + body
			}
		}
	case 'f', 'e', 'E', 'g', 'G':
		if v.kind == KindNull {
			body = "null"
			break
		}
		x, ok := v.Number()
		if !ok {
			return "", fmt.Errorf("%%%c needs a number, found %q", sp.conv, v.String())
		}
		numeric = true
		if math.IsNaN(x) || math.IsInf(x, 0) {
			body = "NaN"
			if math.IsInf(x, 1) {
				body = "Infinity"
			} else if math.IsInf(x, -1) {
				body = "-Infinity"
			}
			break
		}
		p := sp.precision
		if p < 0 {
			p = 6
		}
		a := math.Abs(x)
		switch sp.conv {
		case 'f':
			body = strconv.FormatFloat(a, 'f', p, 64)
			if has(',') {
				intPart, frac, _ := strings.Cut(body, ".")
				body = groupDigits(intPart)
				if frac != "" {
					body += "." + frac
				}
			}
		case 'e', 'E':
			body = strconv.FormatFloat(a, 'e', p, 64)
		case 'g', 'G':
			if p == 0 {
				p = 1
			}
			r, _ := strconv.ParseFloat(strconv.FormatFloat(a, 'e', p-1, 64), 64)
			if r != 0 && (r < 1e-4 || r >= math.Pow10(p)) {
				body = strconv.FormatFloat(a, 'e', p-1, 64)
			} else {
				digits := p - 1
				if r != 0 {
					digits = p - 1 - int(math.Floor(math.Log10(r)))
				}
				body = strconv.FormatFloat(a, 'f', max(digits, 0), 64)
			}
		}
		if sp.conv == 'E' || sp.conv == 'G' {
			body = strings.ToUpper(body)
		}
		body = signed(body, math.Signbit(x) && x != 0, has)
	}
	return pad(body, sp.width, has('-'), numeric && has('0')), nil
}

func absInt64(i int64) uint64 {
	if i < 0 {
		return uint64(-(i + 1)) + 1
	}
	return uint64(i)
}

// signed adds the sign (or the + / space flag's) to a number's digits.
func signed(body string, neg bool, has func(byte) bool) string {
	switch {
	case neg:
		return "-" + body
	case has('+'):
		return "+" + body
	case has(' '):
		return " " + body
	}
	return body
}

// groupDigits inserts "," every three digits from the right.
func groupDigits(d string) string {
	if len(d) <= 3 {
		return d
	}
	var b strings.Builder
	pre := len(d) % 3
	if pre > 0 {
		b.WriteString(d[:pre])
	}
	for i := pre; i < len(d); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d[i : i+3])
	}
	return b.String()
}

// pad pads s to width characters: spaces on the left (right with left),
// or zeros after the sign with zero.
func pad(s string, width int, left, zero bool) string {
	n := utf8.RuneCountInString(s)
	if width <= n {
		return s
	}
	fill := width - n
	switch {
	case left:
		return s + strings.Repeat(" ", fill)
	case zero:
		sign := ""
		if s != "" && (s[0] == '-' || s[0] == '+' || s[0] == ' ') {
			sign, s = s[:1], s[1:]
		}
		if strings.HasPrefix(s, "0x") {
			sign, s = sign+"0x", s[2:]
		}
		return sign + strings.Repeat("0", fill) + s
	}
	return strings.Repeat(" ", fill) + s
}
