package query

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// The regex parse operator (spec §3.2) and its synonym extract:
//
//	parse regex [field=<f>] "<regex with (?<name>...) groups>" [multi] [nodrop]
//	extract [field=<f>] "<regex>" [multi] [nodrop]
//
// The regex is RE2 (Go's regexp) written between double quotes exactly as it
// reaches the regexp engine: backslashes are not string escapes, so
// "\d+\.\d+" and "C:\\Users" mean what they say (\" is a quote, which RE2
// reads as a literal quote too). Java's (?<name>...) and RE2's (?P<name>...)
// both name a group; each named group becomes a field, its name lower-cased
// like every field name. At least one named group is required; unnamed
// capturing groups are rejected (write (?:...)), as are nested named groups
// and two groups naming the same field (Sumo rejects them too; RE2 would
// accept them). Matching is a case-sensitive unanchored search, "." does not
// match a newline; (?i), (?s), (?m) work as inline flags.
//
// Each message is searched once (the leftmost match); a group that did not
// take part in the match, or matched empty text, is null. Without nodrop a
// message without a match is dropped; with nodrop it is kept with the fields
// null. multi emits one copy of the message per non-overlapping match, in
// order (a message without a match: dropped, or one copy with null fields
// under nodrop).
//
// # Push-down
//
// The engine's extract_regexp pipe runs Go's regexp too (it is the same
// library), with two differences handled here: it compiles "(?s)(?:re)", so
// the regex is sent inside (?-s:...) to restore "." not matching newlines,
// and it names fields after the groups, so the groups are renamed to the
// lower-cased field names. On a row without a match it sets every group's
// field to "", i.e. null: exactly nodrop. Without nodrop the rows without a
// match must go, and extract_regexp cannot tell them from matches whose
// groups are all empty; so the whole regex becomes a marker group whose
// text is not empty exactly when the regex matched, which holds when no
// match can be empty (the regex's minimum length is not 0):
//
//	extract_regexp "(?-s:(?P<_dohyo_m>re))" from "f" | filter "_dohyo_m":* | delete "_dohyo_m"
//
// A regex that can match the empty text runs in Go without nodrop (the
// engine's regexp filter could select the rows, but its literal
// optimisations are not Go's regexp and are not proven equivalent). multi
// runs in Go (the engine has no fan-out), as does field=_messageTime and
// parsing records. TestRegexDifferential proves the translations.

func init() {
	registerStage("extract", func(p *parser) (Stage, *Error) {
		start := p.tok
		return p.parseRegexStage(start, "extract")
	})
}

// RegexStage is "parse regex ..." or "extract ...".
type RegexStage struct {
	Pos Pos
	// Keyword is "parse regex" or "extract", as written.
	Keyword string
	// Field is the parsed field; nil means _raw.
	Field *FieldRef
	// Regex is the regex as written between the quotes.
	Regex    string
	RegexPos Pos
	Multi    bool
	NoDrop   bool
	// Names are the fields of the named groups, lower-cased, in order.
	Names []string
}

// Position implements Node.
func (s *RegexStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *RegexStage) Name() string { return s.Keyword }

func (s *RegexStage) aggregate() bool { return false }

func (s *RegexStage) walkFields(fn func(FieldRef)) {
	if s.Field != nil {
		fn(*s.Field)
	}
}

// String implements Node.
func (s *RegexStage) String() string {
	var b strings.Builder
	b.WriteString(s.Keyword + " ")
	writeFieldOption(&b, s.Field)
	b.WriteString(`"` + s.Regex + `"`)
	if s.Multi {
		b.WriteString(" multi")
	}
	if s.NoDrop {
		b.WriteString(" nodrop")
	}
	return b.String()
}

// parseRegexStage parses the rest of "parse regex ..." (the current token
// is "regex") or "extract ..." (the current token is "extract").
func (p *parser) parseRegexStage(start token, keyword string) (Stage, *Error) {
	p.advance()
	st := &RegexStage{Pos: start.pos, Keyword: keyword}
	if _, err := p.parseFieldOption(keyword, &st.Field); err != nil {
		return nil, err
	}
	t, err := p.patternToken("a regular expression")
	if err != nil {
		return nil, err
	}
	body, _ := stringBody(t)
	names, rerr := checkParseRegex(t, body, keyword)
	if rerr != nil {
		return nil, rerr
	}
	st.Regex, st.RegexPos, st.Names = body, t.pos, names
	p.advance()
	if p.isWord("as") {
		return nil, errorf(p.tok.pos, "%s takes the field names from the regex's named groups, not from \"as\"", keyword).
			withHint(`name each group: "(?<user>\w+)"`)
	}
	if p.isWord("field") {
		return nil, errorf(p.tok.pos, "field= goes before the regex").withHint(`write %s field=<f> "<regex>"`, keyword)
	}
	if err := p.parseStageOptions(keyword, &optionWord{"multi", &st.Multi}, &optionWord{"nodrop", &st.NoDrop}); err != nil {
		return nil, err
	}
	if err := p.expectStageEnd(keyword); err != nil {
		return nil, err
	}
	return st, nil
}

// regexGroup is a group opening found in the regex source.
type regexGroup struct {
	off     int    // byte offset of "("
	name    string // "" for an unnamed capturing group
	nameOff int    // byte offset of the name
	nameEnd int
}

// scanRegexGroups lists the capturing groups of a regex source in order,
// skipping escapes, \Q...\E and character classes.
func scanRegexGroups(s string) []regexGroup {
	var gs []regexGroup
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && s[i+1] == 'Q' {
				end := strings.Index(s[i+2:], `\E`)
				if end < 0 {
					return gs
				}
				i += 2 + end + 1
				continue
			}
			i++
		case '[':
			i = regexClassEnd(s, i)
		case '(':
			rest := s[i+1:]
			switch {
			case strings.HasPrefix(rest, "?P<"), strings.HasPrefix(rest, "?<") && !strings.HasPrefix(rest, "?<=") && !strings.HasPrefix(rest, "?<!"):
				n := i + 3
				if rest[1] == 'P' {
					n++
				}
				end := strings.IndexByte(s[n:], '>')
				if end < 0 {
					return gs
				}
				gs = append(gs, regexGroup{off: i, name: s[n : n+end], nameOff: n, nameEnd: n + end})
			case strings.HasPrefix(rest, "?"):
			default:
				gs = append(gs, regexGroup{off: i})
			}
		}
	}
	return gs
}

// classEnd returns the offset of the "]" closing the class at s[i] == '['
// (or the last offset when it is not closed).
func regexClassEnd(s string, i int) int {
	j := i + 1
	if j < len(s) && s[j] == '^' {
		j++
	}
	if j < len(s) && s[j] == ']' {
		j++
	}
	for ; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '[':
			if j+1 < len(s) && s[j+1] == ':' {
				if end := strings.Index(s[j+2:], ":]"); end >= 0 {
					j += 2 + end + 1
				}
			}
		case ']':
			return j
		}
	}
	return len(s) - 1
}

// checkRegex validates a regex for parse regex / extract and returns the
// field names of its groups.
func checkParseRegex(t token, re, op string) ([]string, *Error) {
	tree, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		pos := t.pos
		msg := err.Error()
		if se, ok := err.(*syntax.Error); ok {
			msg = "invalid regular expression: " + se.Code.String()
			if se.Expr != "" {
				msg += ": `" + se.Expr + "`"
				if i := strings.Index(re, se.Expr); i >= 0 {
					pos = posInString(t, i)
				}
			}
		}
		e := errorf(pos, "%s", msg)
		switch {
		case strings.Contains(msg, "(?<=") || strings.Contains(msg, "(?<!") || strings.Contains(msg, "(?=") || strings.Contains(msg, "(?!"):
			e.Hint = "lookaround assertions are not supported (RE2 syntax)"
		case strings.Contains(msg, `\1`) || strings.Contains(msg, "escape sequence"):
			e.Hint = "backreferences and Java-only escapes are not supported (RE2 syntax)"
		}
		return nil, e
	}
	groups := scanRegexGroups(re)
	var names []string
	seen := map[string]bool{}
	for _, g := range groups {
		if g.name == "" {
			return nil, errorf(posInString(t, g.off), "unnamed group in the regex of %s", op).
				withHint("name it (?<field>...) to extract it, or write (?:...) to only group")
		}
		name := strings.ToLower(g.name)
		if err := checkOutputName(name, posInString(t, g.nameOff), op, false); err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, errorf(posInString(t, g.nameOff), "two groups name the field %s", fieldText(name))
		}
		seen[name] = true
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errorf(t.pos, "the regex of %s has no named group to extract", op).
			withHint(`name the part to extract: "user=(?<user>\w+)"`)
	}
	if len(names) != tree.MaxCap() {
		return nil, errorf(t.pos, "the regex's groups could not be read").withHint("simplify the regex")
	}
	if nested := regexNestedCapture(tree, false); nested > 0 && nested <= len(groups) {
		g := groups[nested-1]
		return nil, errorf(posInString(t, g.off), "nested named group (?<%s>...) in %s is not supported", g.name, op).
			withHint("extract the inner and the outer parts with separate groups")
	}
	return names, nil
}

// nestedCapture returns the index of the first capture inside another
// capture, or 0.
func regexNestedCapture(re *syntax.Regexp, inside bool) int {
	if re.Op == syntax.OpCapture {
		if inside {
			return re.Cap
		}
		inside = true
	}
	for _, sub := range re.Sub {
		if n := regexNestedCapture(sub, inside); n > 0 {
			return n
		}
	}
	return 0
}

// engineRegex rewrites the group names of re to the field names.
func regexForEngine(re string, names []string) string {
	var b strings.Builder
	last := 0
	for i, g := range scanRegexGroups(re) {
		b.WriteString(re[last:g.off])
		b.WriteString("(?P<" + names[i] + ">")
		last = g.nameEnd + 1
	}
	b.WriteString(re[last:])
	return b.String()
}

// regexMinLen is a lower bound of the length of any match of re (0 when a
// match may be empty).
func regexMinLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL, syntax.OpNoMatch:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return regexMinLen(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * regexMinLen(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n += regexMinLen(s)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range re.Sub {
			if m := regexMinLen(s); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0
}

func (s *RegexStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	x, err := compileExtraction(c, in, s.Keyword, s.String(), s.Field, s.Pos, s.Names)
	if err != nil {
		return nil, err
	}
	x.nodrop = s.NoDrop
	re, rerr := regexp.Compile(s.Regex)
	if rerr != nil {
		return nil, errorf(s.RegexPos, "invalid regular expression: %v", rerr)
	}
	impl := &regexImpl{extraction: x, re: re, multi: s.Multi, source: s.Regex}
	if tree, err := syntax.Parse(s.Regex, syntax.Perl); err == nil {
		impl.minLen = regexMinLen(tree.Simplify())
	}
	return impl, nil
}

// regexImpl is the compiled parse regex.
type regexImpl struct {
	*extraction
	re     *regexp.Regexp
	source string
	multi  bool
	minLen int
}

func (c *regexImpl) explain() string { return c.text }

func (c *regexImpl) newOperator(next rowSink) rowSink {
	if c.multi {
		return &regexMultiOp{c: c, next: next, vals: make([]string, len(c.outs))}
	}
	var locs []int
	return newExtractOp(c.extraction, func(s string, _ Row, vals []string) bool {
		locs = c.re.FindStringSubmatchIndex(s)
		if locs == nil {
			return false
		}
		for i := range vals {
			if a := locs[2*i+2]; a >= 0 {
				vals[i] = s[a:locs[2*i+3]]
			}
		}
		return true
	}, next)
}

// regexMultiOp emits a copy of each row per match.
type regexMultiOp struct {
	c    *regexImpl
	next rowSink
	vals []string
	buf  []Row
}

func (o *regexMultiOp) push(rows []Row) error {
	x := o.c.extraction
	o.buf = o.buf[:0]
	for _, r := range rows {
		s := x.source(r)
		all := o.c.re.FindAllStringSubmatchIndex(s, -1)
		if len(all) == 0 {
			if x.nodrop {
				clear(o.vals)
				o.buf = append(o.buf, x.set(r, o.vals))
			}
			continue
		}
		for _, locs := range all {
			clear(o.vals)
			for i := range o.vals {
				if a := locs[2*i+2]; a >= 0 {
					o.vals[i] = s[a:locs[2*i+3]]
				}
			}
			o.buf = append(o.buf, x.set(r, o.vals))
		}
	}
	if len(o.buf) == 0 {
		return nil
	}
	return o.next.push(o.buf)
}

func (o *regexMultiOp) finish() error { return o.next.finish() }

// regexMarker names the group that marks a match in the pushed form.
const regexMarker = "_dohyo_m"

func (c *regexImpl) logsQL(string) (string, bool) {
	x := c.extraction
	if c.multi || !x.pushableSource() {
		return "", false
	}
	re := regexForEngine(c.source, x.outs)
	from := " from " + logsQLString(storageField(x.src))
	if x.nodrop {
		return "extract_regexp " + logsQLString("(?-s:"+re+")") + from, true
	}
	if c.minLen == 0 {
		return "", false
	}
	marker := logsQLString(regexMarker)
	return "extract_regexp " + logsQLString("(?-s:(?P<"+regexMarker+">"+re+"))") + from +
		" | filter " + marker + ":* | delete " + marker, true
}
