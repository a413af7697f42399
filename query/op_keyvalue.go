package query

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The keyvalue operator, or kv (spec §3.4):
//
//	keyvalue [field=<f>] [infer] [keys] "<k1>"[, ...] [as <f1>[, ...]] [nodrop]
//	keyvalue [field=<f>] regex "<regex>" [keys] "<k1>"[, ...] [as ...] [nodrop]
//	keyvalue auto [field=<f>] [keys "<k1>"[, ...] [refonly] [as ...]] [nodrop]
//
// with, in the inference forms, keyvaluedelimiter "<d>" (or delim "<d>")
// and pairdelimiter "<d>". "kv" is the same operator.
//
// # Inference (the default, and auto)
//
// The text is read left to right as pairs key<delimiter>value:
//
//   - a key is a run of letters, digits, "_", "." and "-" that starts with a
//     letter or "_" and follows the start of the text or a character that
//     cannot be in a key (so times and addresses are not keys);
//   - the delimiter is keyvaluedelimiter, by default any of "=", ":" and
//     "->", with optional spaces or tabs around it;
//   - a value in double or single quotes runs to the closing quote (a
//     backslash escapes the quote or itself; the quotes are not part of the
//     value); an unquoted value runs to the next space, tab, newline, ",",
//     ";", ")", "]" or "}". With pairdelimiter, the text is instead cut at
//     each occurrence of it, and each piece is key<delimiter>value, both
//     trimmed of spaces (quotes still honoured around the value).
//
// Explicit keys match keys exactly (case-sensitive) and take their first
// occurrence. auto extracts every pair, the last occurrence of a repeated
// key, at most 100 keys in order of first appearance, besides the keys it
// is given.
//
// # Regex mode
//
// With two capturing groups the regex matches key and value: every match
// is a pair. With one group it matches the value: for each key, the key's
// first occurrence in the text is found, then the regex's first match after
// it gives the value. Explicit keys select pairs as above; without keys
// every pair is extracted (auto rules).
//
// # Fields and dropping
//
// A field is named with "as", else after its key: every character other
// than a-z, A-Z, 0-9 and "_" becomes "_", lower-cased (Sumo's rule, plus
// the package's lower-case names); keys whose name would start with "_"
// need "as" (auto skips them). An empty value is null. Without nodrop a
// message where no requested key (auto: no pair at all) is found is
// dropped; found keys are set and the others nulled.
//
// # Push-down
//
// None: the engine's unpack_logfmt follows logfmt's rules (keys and values
// split at spaces, different quoting), and its extract patterns cannot say
// "this key anywhere"; the operator runs in Go.

func init() {
	registerStage("keyvalue", (*parser).parseKeyValueStage)
	registerStage("kv", (*parser).parseKeyValueStage)
}

// KeyValueStage is "keyvalue ..." / "kv ...".
type KeyValueStage struct {
	Pos Pos
	// Keyword is "keyvalue" or "kv", as written.
	Keyword string
	Field   *FieldRef
	Auto    bool
	Infer   bool
	// Regex is the regex of regex mode ("" otherwise), as written.
	Regex    string
	RegexPos Pos
	// Keys are the keys asked for.
	Keys    []string
	KeysPos []Pos
	RefOnly bool
	As      []FieldRef
	NoDrop  bool
	// KVDelim and PairDelim are the delimiters ("" for the defaults).
	KVDelim   string
	PairDelim string

	// Names are the fields of the keys.
	Names []string
}

// Position implements Node.
func (s *KeyValueStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *KeyValueStage) Name() string { return s.Keyword }

func (s *KeyValueStage) aggregate() bool { return false }

func (s *KeyValueStage) walkFields(fn func(FieldRef)) {
	if s.Field != nil {
		fn(*s.Field)
	}
	for _, f := range s.As {
		fn(f)
	}
}

// String implements Node.
func (s *KeyValueStage) String() string {
	var b strings.Builder
	b.WriteString(s.Keyword)
	if s.Auto {
		b.WriteString(" auto")
	}
	if s.Field != nil {
		b.WriteString(" field=" + s.Field.String())
	}
	if s.Infer {
		b.WriteString(" infer")
	}
	if s.Regex != "" {
		b.WriteString(` regex "` + s.Regex + `"`)
	}
	if s.KVDelim != "" {
		b.WriteString(" keyvaluedelimiter " + quoteString(s.KVDelim))
	}
	if s.PairDelim != "" {
		b.WriteString(" pairdelimiter " + quoteString(s.PairDelim))
	}
	if len(s.Keys) > 0 {
		if s.Auto {
			b.WriteString(" keys")
		}
		for i, k := range s.Keys {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(" " + quoteString(k))
		}
	}
	if s.RefOnly {
		b.WriteString(" refonly")
	}
	if len(s.As) > 0 {
		b.WriteString(" as ")
		writeOutputList(&b, s.As)
	}
	if s.NoDrop {
		b.WriteString(" nodrop")
	}
	return b.String()
}

func (p *parser) parseKeyValueStage() (Stage, *Error) {
	st := &KeyValueStage{Pos: p.tok.pos, Keyword: strings.ToLower(p.tok.text)}
	op := st.Keyword
	p.advance()
	sawKeys := false
	for {
		switch {
		case p.isWord("field"):
			ok, err := p.parseFieldOption(op, &st.Field)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, p.fail(`expected "=" after "field"`)
			}
			continue
		case p.isWord("auto"):
			if st.Auto || st.Infer || st.Regex != "" {
				return nil, errorf(p.tok.pos, "%s: auto cannot be combined with infer or regex", op)
			}
			st.Auto = true
			p.advance()
			continue
		case p.isWord("infer"):
			if st.Auto || st.Infer || st.Regex != "" {
				return nil, errorf(p.tok.pos, "%s: infer cannot be combined with auto or regex", op)
			}
			st.Infer = true
			p.advance()
			continue
		case p.isWord("regex"):
			if st.Auto || st.Infer || st.Regex != "" {
				return nil, errorf(p.tok.pos, "%s: regex cannot be combined with auto or infer", op)
			}
			p.advance()
			t, err := p.patternToken("a regular expression")
			if err != nil {
				return nil, err
			}
			body, _ := stringBody(t)
			if err := checkKVRegex(t, body); err != nil {
				return nil, err
			}
			st.Regex, st.RegexPos = body, t.pos
			p.advance()
			continue
		case p.isWord("keyvaluedelimiter"), p.isWord("delim"), p.isWord("pairdelimiter"):
			word := strings.ToLower(p.tok.text)
			p.advance()
			if p.tok.typ == tokEq {
				p.advance()
			}
			if p.tok.typ != tokString || p.tok.val == "" {
				return nil, p.fail("expected a quoted delimiter after %s", word)
			}
			d := unescapeDelimiter(p.tok.val)
			if word == "pairdelimiter" {
				st.PairDelim = d
			} else {
				st.KVDelim = d
			}
			p.advance()
			continue
		case p.isWord("keys"):
			if sawKeys {
				return nil, errorf(p.tok.pos, "%s: keys is given twice", op)
			}
			p.advance()
			if p.tok.typ != tokString {
				return nil, p.fail(`expected quoted keys after "keys"`)
			}
			continue
		case p.tok.typ == tokString:
			if sawKeys {
				return nil, p.fail(`expected "as", an option or the end of the stage`)
			}
			sawKeys = true
			for {
				t := p.tok
				if t.typ != tokString || t.val == "" {
					return nil, p.fail("expected a quoted key")
				}
				st.Keys = append(st.Keys, t.val)
				st.KeysPos = append(st.KeysPos, t.pos)
				p.advance()
				if p.tok.typ != tokComma {
					break
				}
				p.advance()
			}
			continue
		case p.isWord("refonly"):
			st.RefOnly = true
			p.advance()
			continue
		}
		break
	}
	if st.Regex != "" && (st.KVDelim != "" || st.PairDelim != "") {
		return nil, errorf(st.RegexPos, "%s: delimiters cannot be combined with regex", op)
	}
	if !st.Auto && len(st.Keys) == 0 && st.Regex == "" {
		return nil, p.fail(`expected the keys to extract, or "auto"`)
	}
	if st.RefOnly && !st.Auto {
		return nil, errorf(st.Pos, "%s: refonly goes with auto", op)
	}
	if st.Regex != "" && len(st.Keys) == 0 {
		if re := regexp.MustCompile(st.Regex); re.NumSubexp() == 1 {
			return nil, errorf(st.RegexPos, "a regex with one group matches values: name the keys to find").withHint(`write %s regex "..." "key1", "key2"`, op)
		}
	}
	if p.isWord("as") {
		asTok := p.tok
		p.advance()
		names, err := p.parseOutputNames(op, false)
		if err != nil {
			return nil, err
		}
		if len(names) != len(st.Keys) {
			return nil, errorf(asTok.pos, "%d %s but %d %s follow \"as\"", len(st.Keys), plural(len(st.Keys), "key", "keys"), len(names), plural(len(names), "name", "names"))
		}
		st.As = names
		for _, n := range names {
			st.Names = append(st.Names, n.Name)
		}
	} else {
		seen := map[string]bool{}
		for i, k := range st.Keys {
			name := kvFieldName(k)
			if err := checkOutputName(name, st.KeysPos[i], op, false); err != nil {
				err.Hint = `name the field with "as"`
				return nil, err
			}
			if seen[name] {
				return nil, errorf(st.KeysPos[i], "two keys give the field name %s", fieldText(name)).withHint(`name the fields with "as"`)
			}
			seen[name] = true
			st.Names = append(st.Names, name)
		}
	}
	if err := p.parseStageOptions(op, &optionWord{"refonly", &st.RefOnly}, &optionWord{"nodrop", &st.NoDrop}); err != nil {
		return nil, err
	}
	if st.RefOnly && !st.Auto {
		return nil, errorf(st.Pos, "%s: refonly goes with auto", op)
	}
	if err := p.expectStageEnd(op); err != nil {
		return nil, err
	}
	return st, nil
}

// unescapeDelimiter reads \t, \n, \r in a delimiter option.
func unescapeDelimiter(s string) string {
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n", `\r`, "\r").Replace(s)
}

// checkKVRegex validates the regex of regex mode: one or two groups.
func checkKVRegex(t token, re string) *Error {
	r, err := regexp.Compile(re)
	if err != nil {
		return errorf(t.pos, "invalid regular expression: %v", err)
	}
	if n := r.NumSubexp(); n != 1 && n != 2 {
		return errorf(t.pos, "the keyvalue regex has %d capturing groups; it needs 2 (key and value) or 1 (value)", n).
			withHint("make other groups non-capturing: (?:...)")
	}
	return nil
}

// kvFieldName is the field name of a key: characters other than a-z, A-Z,
// 0-9 and _ become _, lower-cased.
func kvFieldName(key string) string {
	var b strings.Builder
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func (s *KeyValueStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if s.Auto && in.records {
		return nil, errorf(s.Pos, "%s auto works on messages, not on the records of an aggregate", s.Keyword).
			withHint("name the keys to extract from a record column")
	}
	x, err := compileExtraction(c, in, s.Keyword, s.String(), s.Field, s.Pos, s.Names)
	if err != nil {
		return nil, err
	}
	x.nodrop = s.NoDrop
	impl := &kvImpl{extraction: x, stage: s, keys: s.Keys}
	if s.Regex != "" {
		impl.re = regexp.MustCompile(s.Regex)
	}
	return impl, nil
}

type kvImpl struct {
	*extraction
	stage *KeyValueStage
	keys  []string
	re    *regexp.Regexp
}

func (c *kvImpl) explain() string                  { return c.text }
func (c *kvImpl) logsQL(string) (string, bool)     { return "", false }
func (c *kvImpl) newOperator(next rowSink) rowSink { return &kvOp{c: c, next: next} }

// kvPair is a key and its value found in a text.
type kvPair struct{ key, value string }

type kvOp struct {
	c     *kvImpl
	next  rowSink
	buf   []Row
	pairs []kvPair
	vals  []string
	names []string
}

func (o *kvOp) push(rows []Row) error {
	c := o.c
	o.buf = o.buf[:0]
	for _, r := range rows {
		text := c.source(r)
		o.pairs = o.pairs[:0]
		if c.re == nil || c.re.NumSubexp() == 2 {
			o.pairs = c.findPairs(text, o.pairs)
		}
		o.vals = o.vals[:0]
		o.names = o.names[:0]
		found := false
		for _, k := range c.keys {
			v, ok := "", false
			if c.re != nil && c.re.NumSubexp() == 1 {
				v, ok = c.regexValue(text, k)
			} else {
				for _, p := range o.pairs {
					if p.key == k {
						v, ok = p.value, true
						break
					}
				}
			}
			found = found || ok
			o.vals = append(o.vals, v)
		}
		o.names = append(o.names, c.outs...)
		if c.stage.Auto || (len(c.keys) == 0 && c.re != nil) {
			found = found || len(o.pairs) > 0
			if !c.stage.RefOnly {
				o.addAuto()
			}
		}
		if !found && !c.nodrop {
			continue
		}
		if c.rec != nil {
			o.buf = append(o.buf, c.rec.set(r, o.vals[:len(c.outs)]))
		} else {
			o.buf = append(o.buf, setMessageFieldsSorted(r, o.names, o.vals))
		}
	}
	if len(o.buf) == 0 {
		return nil
	}
	return o.next.push(o.buf)
}

func (o *kvOp) finish() error { return o.next.finish() }

// maxAutoKeys is the most keys auto extracts besides the named ones.
const maxAutoKeys = 100

// addAuto appends the auto fields: each key's last value, at most
// maxAutoKeys keys in order of first appearance.
func (o *kvOp) addAuto() {
	c := o.c
	n := 0
	first := len(o.names)
	for _, p := range o.pairs {
		if slicesIndex(c.keys, p.key) >= 0 {
			continue
		}
		name := kvFieldName(p.key)
		if name == "" || strings.HasPrefix(name, "_") {
			continue
		}
		if k := slicesIndex(o.names[first:], name); k >= 0 {
			o.vals[first+k] = p.value
			continue
		}
		if n >= maxAutoKeys || slicesIndex(o.names[:first], name) >= 0 {
			continue
		}
		o.names = append(o.names, name)
		o.vals = append(o.vals, p.value)
		n++
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// regexValue finds key's first occurrence and the regex's first match
// after it (one-group regex mode).
func (c *kvImpl) regexValue(text, key string) (string, bool) {
	i := strings.Index(text, key)
	if i < 0 {
		return "", false
	}
	rest := text[i+len(key):]
	m := c.re.FindStringSubmatchIndex(rest)
	if m == nil || m[2] < 0 {
		return "", false
	}
	return rest[m[2]:m[3]], true
}

// findPairs appends the key-value pairs of text, in order.
func (c *kvImpl) findPairs(text string, out []kvPair) []kvPair {
	if c.re != nil {
		for _, m := range c.re.FindAllStringSubmatchIndex(text, -1) {
			if m[2] < 0 {
				continue
			}
			v := ""
			if m[4] >= 0 {
				v = text[m[4]:m[5]]
			}
			out = append(out, kvPair{text[m[2]:m[3]], v})
		}
		return out
	}
	if d := c.stage.PairDelim; d != "" {
		for _, piece := range strings.Split(text, d) {
			k, v, ok := cutKVDelimiter(piece, c.stage.KVDelim)
			if !ok {
				continue
			}
			k = strings.TrimSpace(k)
			v = strings.TrimSpace(v)
			if k == "" {
				continue
			}
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
				if q, n := kvQuoted(v); n == len(v) {
					v = q
				}
			}
			out = append(out, kvPair{k, v})
		}
		return out
	}
	return scanKVPairs(text, c.stage.KVDelim, out)
}

// cutKVDelimiter splits a piece at its first key-value delimiter.
func cutKVDelimiter(s, delim string) (string, string, bool) {
	if delim != "" {
		return strings.Cut(s, delim)
	}
	best := -1
	w := 0
	for _, d := range []string{"=", ":", "->"} {
		if i := strings.Index(s, d); i >= 0 && (best < 0 || i < best) {
			best, w = i, len(d)
		}
	}
	if best < 0 {
		return "", "", false
	}
	return s[:best], s[best+w:], true
}

func isKVKeyRune(r rune) bool {
	return r == '_' || r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// scanKVPairs reads pairs left to right (inference rules).
func scanKVPairs(s, delim string, out []kvPair) []kvPair {
	i := 0
	prevKeyRune := false
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !isKVKeyRune(r) || prevKeyRune {
			prevKeyRune = isKVKeyRune(r)
			i += w
			continue
		}
		// A key may start here.
		start := i
		j := i
		for j < len(s) {
			r2, w2 := utf8.DecodeRuneInString(s[j:])
			if !isKVKeyRune(r2) || (r2 == '-' && strings.HasPrefix(s[j:], "->") && delim == "") {
				break
			}
			j += w2
		}
		key := s[start:j]
		first, _ := utf8.DecodeRuneInString(key)
		k := skipSpacesTabs(s, j)
		dl := kvDelimAt(s, k, delim)
		if dl == 0 || !(first == '_' || unicode.IsLetter(first)) {
			i = j
			prevKeyRune = true
			continue
		}
		v := skipSpacesTabs(s, k+dl)
		if v > k+dl && kvPairAt(s, v, delim) {
			v = k + dl // "a= b=1": a is empty, b a pair of its own
		}
		var value string
		var end int
		if v < len(s) && (s[v] == '"' || s[v] == '\'') {
			q, n := kvQuoted(s[v:])
			if n > 0 {
				value, end = q, v+n
			}
		}
		if end == 0 {
			end = v
			for end < len(s) && !strings.ContainsRune(" \t\r\n,;)]}", rune(s[end])) {
				_, w3 := utf8.DecodeRuneInString(s[end:])
				end += w3
			}
			value = s[v:end]
		}
		out = append(out, kvPair{key, value})
		i = end
		prevKeyRune = false
	}
	return out
}

// kvPairAt reports whether a key and its delimiter start at s[i].
func kvPairAt(s string, i int, delim string) bool {
	j := i
	for j < len(s) {
		r, w := utf8.DecodeRuneInString(s[j:])
		if !isKVKeyRune(r) || (r == '-' && strings.HasPrefix(s[j:], "->") && delim == "") {
			break
		}
		j += w
	}
	if j == i {
		return false
	}
	first, _ := utf8.DecodeRuneInString(s[i:])
	return (first == '_' || unicode.IsLetter(first)) && kvDelimAt(s, skipSpacesTabs(s, j), delim) > 0
}

func skipSpacesTabs(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// kvDelimAt returns the length of the key-value delimiter at s[i], or 0.
func kvDelimAt(s string, i int, delim string) int {
	if delim != "" {
		if strings.HasPrefix(s[i:], delim) {
			return len(delim)
		}
		return 0
	}
	switch {
	case strings.HasPrefix(s[i:], "->"):
		return 2
	case strings.HasPrefix(s[i:], "="), strings.HasPrefix(s[i:], ":"):
		return 1
	}
	return 0
}

// kvQuoted reads a quoted value at s[0] and returns it unescaped and the
// length read, or n=0 when the quote is not closed.
func kvQuoted(s string) (string, int) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == q || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteByte('\\')
		case q:
			return b.String(), i + 1
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0
}
