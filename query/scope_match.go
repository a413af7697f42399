package query

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dohyo/dohyo/event"
)

// Scope semantics. This file is their definition; scope_logsql.go translates
// each rule into a LogsQL filter that selects exactly the same rows, and the
// differential tests run both against the engine on a varied corpus.
//
// Text. Matching is case-insensitive: the message and the search text are
// both lower-cased rune by rune with unicode.ToLower (an invalid UTF-8 byte
// becomes U+FFFD), as the engine does.
//
// Tokens. A token rune is a Unicode letter, a Unicode decimal digit or "_"
// (the engine's tokenizer, isTokenRune). A token is a maximal run of token
// runes. "Blocking" runes are token runes and U+FFFD: a search text that
// begins (ends) with a token rune matches only where the rune before (after)
// it is not blocking. (The engine treats U+FFFD as blocking; mirrored here.)
//
// Keywords without wildcards and quoted phrases ("phrase semantics") match
// where the lower-cased message contains the lower-cased text with a token
// boundary on each side that begins or ends with a token rune. A keyword of
// token runes therefore matches a whole token ("error" matches "Error:" but
// not "errors"); a keyword with punctuation (10.1.2.3, user@example.com,
// /api/v1/login) matches that exact run of characters, starting and ending at
// token boundaries ("10.1.2.3" does not match "110.1.2.30"). A phrase is the
// same rule for quoted text: whitespace is literal (Sumo normalises runs of
// whitespace inside phrases; dohyo does not) and * and ? are literal (Sumo
// makes * in a phrase stand for one whole term).
//
// Wildcards in keywords. "*" matches any run, possibly empty, of token runes
// and "?" exactly one token rune; the rest of the keyword is literal (with
// punctuation). Boundaries as above: a keyword beginning with a token rune or
// "?" must start at a token boundary, and one ending with a token rune or "?"
// must end at one; a leading (trailing) "*" lifts that condition, since it may
// absorb the rest of the token. So "err*" is a token starting with "err",
// "*err" one ending with it, "*err*" any text containing "err", "e?r" a
// three-rune token, "10.1.*" the text "10.1." at the start of a token
// (10.1.2.3, and also the tail of 10.10.1.1), "*.log" the text ".log"
// ending at a token boundary (access.log, not access.logs), and "a*b" a
// single token from a to b ("a-b" does not match: "*" never crosses
// punctuation). A keyword of only "*" is All.
//
// Field filters. f=value compares the whole field value, case-insensitively,
// with "*" matching any run of any runes and "?" any one rune. An empty or
// missing field (the engine stores empty as missing) matches only the quoted
// empty value f="". A quoted value is literal (no wildcards). f!=value is
// NOT (f=value), so a message without the field matches f!=value.
//
// Engine quirks mirrored so that both sides agree exactly: a phrase or
// prefix whose lower-cased text is longer in bytes than the (not lower-cased)
// message never matches (this differs from the rule above only for messages
// with characters whose lower case is longer in UTF-8, such as "Ⱥ").

// fieldGetter gives a matcher the values of a row by canonical field name.
type fieldGetter interface {
	fieldValue(name string) string
}

// matcher is the Go implementation of a scope expression.
type matcher interface {
	match(r fieldGetter) bool
}

type matchAll struct{}

func (matchAll) match(fieldGetter) bool { return true }

type matchAnd []matcher

func (m matchAnd) match(r fieldGetter) bool {
	for _, x := range m {
		if !x.match(r) {
			return false
		}
	}
	return true
}

type matchOr []matcher

func (m matchOr) match(r fieldGetter) bool {
	for _, x := range m {
		if x.match(r) {
			return true
		}
	}
	return false
}

type matchNot struct{ m matcher }

func (m matchNot) match(r fieldGetter) bool { return !m.m.match(r) }

// compileMatcher returns the Go matcher for a scope expression.
func compileMatcher(e Expr) matcher {
	switch n := e.(type) {
	case *All:
		return matchAll{}
	case *And:
		ms := make(matchAnd, len(n.Terms))
		for i, t := range n.Terms {
			ms[i] = compileMatcher(t)
		}
		return ms
	case *Or:
		ms := make(matchOr, len(n.Terms))
		for i, t := range n.Terms {
			ms[i] = compileMatcher(t)
		}
		return ms
	case *Not:
		return matchNot{compileMatcher(n.Term)}
	case *Phrase:
		return newPhraseMatcher(n.Text)
	case *Keyword:
		k := classifyKeyword(n.Text)
		switch k.kind {
		case kwAll:
			return matchAll{}
		case kwPhrase:
			return newPhraseMatcher(k.text)
		case kwPrefix:
			return newPrefixMatcher(k.text)
		}
		return &matchWildcard{pat: k.pat, left: k.left, right: k.right}
	case *FieldMatch:
		var m matcher = &matchField{field: n.Field, pat: compileValuePattern(n.Value, n.Quoted)}
		if n.Negated {
			m = matchNot{m}
		}
		return m
	}
	panic("query: unknown scope node")
}

// ---- text helpers ----

// isTokenRune is the engine's notion of a word character.
func isTokenRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}

// isBlocking reports whether r prevents a token boundary.
func isBlocking(r rune) bool { return r == utf8.RuneError || isTokenRune(r) }

// lowerText lower-cases s rune by rune; invalid UTF-8 bytes become U+FFFD.
func lowerText(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// ---- keywords ----

type keywordKind int

const (
	kwAll      keywordKind = iota // only "*"
	kwPhrase                      // no wildcards: phrase semantics
	kwPrefix                      // only trailing "*": prefix at a token start
	kwWildcard                    // anything else with "*" or "?"
)

// patElem is one element of a wildcard pattern.
type patElem struct {
	star, any bool // "*" or "?"; else the literal r
	r         rune // lower-cased literal
}

// keyword is a classified keyword.
type keyword struct {
	kind        keywordKind
	text        string    // kwPhrase, kwPrefix: the (not lower-cased) text
	pat         []patElem // kwWildcard: lower-cased, leading/trailing stars removed
	left, right bool      // kwWildcard: boundary required before/after
}

// classifyKeyword decides how a keyword matches; the Go matcher and the
// LogsQL translation both follow it.
func classifyKeyword(text string) keyword {
	if strings.Trim(text, "*") == "" {
		return keyword{kind: kwAll}
	}
	if !strings.ContainsAny(text, "*?") {
		return keyword{kind: kwPhrase, text: text}
	}
	if p := strings.TrimRight(text, "*"); !strings.ContainsAny(p, "*?") {
		return keyword{kind: kwPrefix, text: p}
	}
	var pat []patElem
	for _, r := range lowerText(text) {
		switch r {
		case '*':
			if len(pat) > 0 && pat[len(pat)-1].star {
				continue
			}
			pat = append(pat, patElem{star: true})
		case '?':
			pat = append(pat, patElem{any: true})
		default:
			pat = append(pat, patElem{r: r})
		}
	}
	k := keyword{kind: kwWildcard}
	if pat[0].star {
		pat = pat[1:]
	} else {
		k.left = pat[0].any || isTokenRune(pat[0].r)
	}
	if pat[len(pat)-1].star {
		pat = pat[:len(pat)-1]
	} else {
		last := pat[len(pat)-1]
		k.right = last.any || isTokenRune(last.r)
	}
	k.pat = pat
	return k
}

// matchPhrase is phrase semantics on _raw (the engine's i("...") filter).
type matchPhrase struct {
	lower            string
	startTok, endTok bool
}

func newPhraseMatcher(text string) *matchPhrase {
	l := lowerText(text)
	first, _ := utf8.DecodeRuneInString(l)
	last, _ := utf8.DecodeLastRuneInString(l)
	return &matchPhrase{lower: l, startTok: isTokenRune(first), endTok: isTokenRune(last)}
}

func (m *matchPhrase) match(r fieldGetter) bool {
	raw := r.fieldValue(event.FieldRaw)
	if len(m.lower) > len(raw) {
		return false
	}
	s := lowerText(raw)
	for from := 0; from <= len(s)-len(m.lower); {
		i := strings.Index(s[from:], m.lower)
		if i < 0 {
			return false
		}
		at := from + i
		from = at + 1
		if m.startTok && at > 0 {
			if prev, _ := utf8.DecodeLastRuneInString(s[:at]); isBlocking(prev) {
				continue
			}
		}
		if end := at + len(m.lower); m.endTok && end < len(s) {
			if next, _ := utf8.DecodeRuneInString(s[end:]); isBlocking(next) {
				continue
			}
		}
		return true
	}
	return false
}

// newPrefixMatcher matches a keyword with only a trailing "*" (the engine's
// i("..."*)): a phrase whose end need not be a token boundary.
func newPrefixMatcher(text string) *matchPhrase {
	m := newPhraseMatcher(text)
	m.endTok = false
	return m
}

// matchWildcard is a keyword with wildcards anywhere, simulated as an NFA
// over the lower-cased message in one pass.
type matchWildcard struct {
	pat         []patElem
	left, right bool
}

func (m *matchWildcard) match(r fieldGetter) bool {
	return m.matchText(lowerText(r.fieldValue(event.FieldRaw)))
}

func (m *matchWildcard) matchText(s string) bool {
	n := len(m.pat)
	cur := make([]bool, n+1)
	next := make([]bool, n+1)
	// add puts state k and what it reaches without input (a star may match
	// nothing) into set.
	add := func(set []bool, k int) {
		for {
			set[k] = true
			if k < n && m.pat[k].star {
				k++
				continue
			}
			return
		}
	}
	prev := rune(-1)
	i := 0
	for {
		if !m.left || prev < 0 || !isBlocking(prev) {
			add(cur, 0)
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if cur[n] && (!m.right || w == 0 || !isBlocking(r)) {
			return true
		}
		if w == 0 {
			return false
		}
		clear(next)
		for k := 0; k < n; k++ {
			if !cur[k] {
				continue
			}
			e := m.pat[k]
			switch {
			case e.star:
				if isTokenRune(r) {
					add(next, k)
				}
			case e.any:
				if isTokenRune(r) {
					add(next, k+1)
				}
			case e.r == r:
				add(next, k+1)
			}
		}
		cur, next = next, cur
		prev = r
		i += w
	}
}

// ---- field filters ----

// valuePattern is a lower-cased whole-value pattern.
type valuePattern struct {
	pat []patElem // stars and "?" only when not quoted
}

func compileValuePattern(value string, quoted bool) valuePattern {
	var vp valuePattern
	for _, r := range lowerText(value) {
		switch {
		case !quoted && r == '*':
			if len(vp.pat) > 0 && vp.pat[len(vp.pat)-1].star {
				continue
			}
			vp.pat = append(vp.pat, patElem{star: true})
		case !quoted && r == '?':
			vp.pat = append(vp.pat, patElem{any: true})
		default:
			vp.pat = append(vp.pat, patElem{r: r})
		}
	}
	return vp
}

// empty reports whether the pattern is the quoted empty value.
func (vp valuePattern) empty() bool { return len(vp.pat) == 0 }

// onlyStars reports whether the pattern matches every non-empty value.
func (vp valuePattern) onlyStars() bool { return len(vp.pat) == 1 && vp.pat[0].star }

// hasWildcards reports whether the pattern has "*" or "?".
func (vp valuePattern) hasWildcards() bool {
	for _, e := range vp.pat {
		if e.star || e.any {
			return true
		}
	}
	return false
}

// matchValue matches a whole field value.
func (vp valuePattern) matchValue(v string) bool {
	if v == "" {
		return vp.empty()
	}
	if vp.empty() {
		return false
	}
	if isASCII(v) {
		// Without copying v: lowerText of ASCII text lowers each byte and
		// its runes are its bytes.
		return globASCII(vp.pat, v)
	}
	return globRunes(vp.pat, []rune(lowerText(v)))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// globASCII is globRunes over the lower-cased bytes of ASCII text s.
func globASCII(pat []patElem, s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		switch {
		case p < len(pat) && pat[p].star:
			starP, starI = p, i
			p++
		case p < len(pat) && (pat[p].any || pat[p].r == rune(lowerASCII(s[i]))):
			p++
			i++
		case starP >= 0:
			starI++
			p, i = starP+1, starI
		default:
			return false
		}
	}
	for p < len(pat) && pat[p].star {
		p++
	}
	return p == len(pat)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// globRunes matches a star/any/literal pattern against the whole of s, with
// the usual single-backtrack-point algorithm (linear for one star, at most
// len(pat)*len(s) steps).
func globRunes(pat []patElem, s []rune) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		switch {
		case p < len(pat) && pat[p].star:
			starP, starI = p, i
			p++
		case p < len(pat) && (pat[p].any || pat[p].r == s[i]):
			p++
			i++
		case starP >= 0:
			starI++
			p, i = starP+1, starI
		default:
			return false
		}
	}
	for p < len(pat) && pat[p].star {
		p++
	}
	return p == len(pat)
}

type matchField struct {
	field string
	pat   valuePattern
}

func (m *matchField) match(r fieldGetter) bool { return m.pat.matchValue(r.fieldValue(m.field)) }
