package query

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// scopeLogsQL translates a scope expression into a LogsQL filter that
// selects exactly the rows compileMatcher's matcher accepts (scope_match.go
// states the rules). The translations:
//
//	*, empty scope              *
//	a b, a AND b                a b
//	a OR b                      (a or b)
//	NOT a, !a                   !a  /  !(...)
//	error (token runes only)    i("error")         phrase filter, any case
//	10.1.2.3, "failed login"    i("10.1.2.3")      phrase filter, any case
//	err*, 10.1.*                i("err"*)          prefix filter, any case
//	other wildcards             _msg:~"<regexp>"   explicit boundary classes
//	stream field f=v            {f=~"<regexp>"}    stream filter (anchored)
//	other field f=v             "f":~"^(?:<regexp>)$"
//	f=* / f="" / caseless f=v   {f!=""} "f":*  /  {f=""} "f":=""  /  {f="v"} "f":="v"
//	f!=v                        {f!~...}  /  !"f":~...
//
// Regexps never use (?i): Go's case folding (unicode.SimpleFold) and the
// engine's lower-casing (unicode.ToLower) differ for a few runes (ſ, K, İ...),
// so each literal rune becomes the class of every rune whose lower case it
// is ([eE], [kKK]). They never use a bare "." either, which the engine's
// regexp optimiser and Go's regexp treat differently around newlines: "*"
// in field values is (?s:.*).
func scopeLogsQL(e Expr) string {
	var b strings.Builder
	writeLogsQL(&b, e, false)
	return b.String()
}

// tokenClass is the regexp class of token runes; notBlocking the class of
// runes that allow a token boundary.
const (
	tokenClass  = `[\p{L}\p{Nd}_]`
	notBlocking = `[^\p{L}\p{Nd}_\x{FFFD}]`
)

func writeLogsQL(b *strings.Builder, e Expr, nested bool) {
	switch n := e.(type) {
	case *All:
		b.WriteString("*")
	case *And:
		for i, t := range n.Terms {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeLogsQL(b, t, true)
		}
	case *Or:
		if nested {
			b.WriteByte('(')
		}
		for i, t := range n.Terms {
			if i > 0 {
				b.WriteString(" or ")
			}
			writeLogsQL(b, t, true)
		}
		if nested {
			b.WriteByte(')')
		}
	case *Not:
		b.WriteByte('!')
		switch n.Term.(type) {
		case *And, *Or:
			b.WriteByte('(')
			writeLogsQL(b, n.Term, false)
			b.WriteByte(')')
		default:
			writeLogsQL(b, n.Term, true)
		}
	case *Phrase:
		b.WriteString("i(" + strconv.Quote(n.Text) + ")")
	case *Keyword:
		k := classifyKeyword(n.Text)
		switch k.kind {
		case kwAll:
			b.WriteString("*")
		case kwPhrase:
			b.WriteString("i(" + strconv.Quote(k.text) + ")")
		case kwPrefix:
			b.WriteString("i(" + strconv.Quote(k.text) + "*)")
		default:
			b.WriteString("_msg:~" + strconv.Quote(keywordRegexp(k)))
		}
	case *FieldMatch:
		b.WriteString(fieldMatchLogsQL(n))
	default:
		panic("query: unknown scope node")
	}
}

// keywordRegexp is the unanchored regexp of a wildcard keyword.
func keywordRegexp(k keyword) string {
	var b strings.Builder
	if k.left {
		b.WriteString(`(?:^|` + notBlocking + `)`)
	}
	for _, e := range k.pat {
		switch {
		case e.star:
			b.WriteString(tokenClass + "*")
		case e.any:
			b.WriteString(tokenClass)
		default:
			b.WriteString(caseClass(e.r))
		}
	}
	if k.right {
		b.WriteString(`(?:$|` + notBlocking + `)`)
	}
	return b.String()
}

// valueRegexp is the (unanchored) regexp body of a whole-value pattern.
func valueRegexp(vp valuePattern) string {
	var b strings.Builder
	for _, e := range vp.pat {
		switch {
		case e.star:
			b.WriteString(`(?s:.*)`)
		case e.any:
			b.WriteString(`(?s:.)`)
		default:
			b.WriteString(caseClass(e.r))
		}
	}
	return b.String()
}

// caselessLiteral returns the pattern's text when it has no wildcards and no
// rune with another case, so that an exact comparison is enough.
func caselessLiteral(vp valuePattern) (string, bool) {
	var b strings.Builder
	for _, e := range vp.pat {
		if e.star || e.any || len(caseVariants(e.r)) > 1 {
			return "", false
		}
		b.WriteRune(e.r)
	}
	return b.String(), true
}

func fieldMatchLogsQL(n *FieldMatch) string {
	vp := compileValuePattern(n.Value, n.Quoted)
	name := storageField(n.Field)
	lit, caseless := caselessLiteral(vp)
	if isStreamField(n.Field) {
		// Stream filters compare whole values; =~ and !~ are anchored.
		var op, val string
		switch {
		case vp.empty():
			op, val = "=", ""
		case vp.onlyStars():
			op, val = "!=", ""
		case caseless:
			op, val = "=", lit
		default:
			op, val = "=~", valueRegexp(vp)
		}
		if n.Negated {
			op = map[string]string{"=": "!=", "!=": "=", "=~": "!~"}[op]
		}
		return "{" + name + op + strconv.Quote(val) + "}"
	}
	var f string
	q := strconv.Quote(name)
	switch {
	case vp.empty():
		f = q + `:=""`
	case vp.onlyStars():
		f = q + ":*"
	case caseless:
		f = q + ":=" + strconv.Quote(lit)
	default:
		f = q + ":~" + strconv.Quote("^(?:"+valueRegexp(vp)+")$")
	}
	if n.Negated {
		return "!" + f
	}
	return f
}

// caseClass returns a regexp matching exactly the runes whose lower case
// (unicode.ToLower) is c.
func caseClass(c rune) string {
	vs := caseVariants(c)
	if len(vs) == 1 {
		return regexpRune(c, false)
	}
	var b strings.Builder
	b.WriteByte('[')
	for _, r := range vs {
		b.WriteString(regexpRune(r, true))
	}
	b.WriteByte(']')
	return b.String()
}

// regexpRune writes r as a regexp literal, inside a class or not.
func regexpRune(r rune, inClass bool) string {
	switch {
	case r < utf8.RuneSelf && isTokenRune(r):
		return string(r)
	case 0x20 <= r && r < 0x7f:
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) || (inClass && r == '-') {
			return `\` + string(r)
		}
		return string(r)
	case r >= utf8.RuneSelf && !inClass && unicode.IsPrint(r):
		return string(r)
	}
	return `\x{` + strconv.FormatInt(int64(r), 16) + `}`
}

// caseVariants returns the runes whose lower case is c, c first (c is
// itself lower case: unicode.ToLower is idempotent).
func caseVariants(c rune) []rune {
	if vs, ok := lowerPreimages()[c]; ok {
		return vs
	}
	return []rune{c}
}

// lowerPreimages maps each rune that is the lower case of another rune to
// itself and all those runes.
var lowerPreimages = sync.OnceValue(func() map[rune][]rune {
	m := make(map[rune][]rune)
	for _, cr := range unicode.CaseRanges {
		for r := rune(cr.Lo); r <= rune(cr.Hi); r++ {
			if l := unicode.ToLower(r); l != r {
				m[l] = append(m[l], r)
			}
		}
	}
	for l, rs := range m {
		sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
		m[l] = append([]rune{l}, rs...)
	}
	return m
})
