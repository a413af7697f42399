package query

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dohyo/dohyo/event"
)

// The anchor parse operator (spec §3.1):
//
//	parse [field=<f>] "<pattern with * holes>" as <f1>[, <f2>...] [nodrop]
//
// The pattern is literal text with holes (*). Matching, on the text of the
// field (_raw by default):
//
//   - the literal before the first hole is searched from the start of the
//     text (unanchored: its first occurrence); a leading hole starts at the
//     start of the text;
//   - each hole captures the shortest text up to the first occurrence of
//     the literal after it; a trailing hole captures to the end of the text;
//     text after the last literal is ignored;
//   - anchors are case-sensitive; a message matches when every literal is
//     found in order. Each capture becomes a string field; an empty capture
//     is null (the package rule: empty == null).
//
// Escapes in the pattern: \" (quote), \\ (backslash), \n, \r, \t (newline,
// carriage return, tab) and \* (a literal asterisk, a dohyo extension); any
// other backslash is literal. The number of holes must equal the number of
// names, holes cannot touch (**), names are unique and cannot be built-in
// or start with "_".
//
// Without nodrop a message that does not match is dropped (parse is then a
// filter); with nodrop it is kept and the named fields are set to null
// (Sumo's documented behaviour: a failed extraction nulls its fields,
// overwriting earlier values of the same names). After an aggregate the
// operator works on records and needs field=<record column>.
//
// # Push-down
//
// The engine's extract pipe ("extract '<pattern with <fields>>' from f")
// follows the same rules when every field is <plain:name> (without "plain"
// it unquotes a value that starts with a quote, which Sumo does not):
// prefixes are found with strings.Index, a field takes the text up to the
// first occurrence of the next prefix, the last field takes the rest, text
// after the last prefix is ignored. It differs on messages that do not
// match: it keeps the captures made before the missing anchor and leaves the
// others empty, and it keeps every row. So the pushed form selects the
// matching rows first, with a regexp filter that is true exactly when the
// literals occur in order without overlapping (QuoteMeta'd literals joined
// by (?s:.*), which the greedy first-occurrence search finds whenever any
// placement exists):
//
//	filter "<f>":~"L0(?s:.*)L1(?s:.*)L2" | extract "L0<plain:a>L1<plain:b>L2" from "<f>"
//
// With nodrop every row is kept and non-matching rows must end with null
// fields: the fields are deleted first and the extract only runs on the
// matching rows (extract if (...) leaves the other rows' fields alone):
//
//	delete "a", "b" | extract if ("<f>":~"...") "..." from "<f>"
//
// The pattern's literals go through html.UnescapeString in the engine, so &
// and < are written &amp; and &lt;. Not pushed: patterns whose literals hold
// U+FFFD (Go's regexp reads an invalid UTF-8 byte as U+FFFD, strings.Index
// does not), field names the extract syntax cannot carry (">" or surrounding
// spaces), field=_messageTime (the engine's _time is RFC 3339, not epoch
// milliseconds), parsing records, and nodrop with the source field among the
// outputs (the delete would remove the source). Every translation is proven
// by TestParseDifferential against the embedded engine.
//
// An anchor pattern over JSON ("\"eventName\":\"*\"") is not read from the
// ingest-time JSON fields, unlike json: it captures the text after the
// first occurrence of the literal, which may be a nested key of the same
// name, or text inside an earlier string, and it captures JSON escapes as
// written and stops at an escaped quote; nothing in the ingest-time fields
// proves that the first occurrence is the top-level key with a plain value.
// It is pushed down as any pattern (extract), which is as fast.

func init() {
	registerStage("parse", (*parser).parseParseStage)
}

// ParseStage is the anchor parse: "parse [field=f] "pattern" as a, b [nodrop]".
type ParseStage struct {
	Pos Pos
	// Field is the parsed field; nil means _raw.
	Field *FieldRef
	// Literals are the pattern's literal parts around its holes: holes + 1
	// of them; the first and the last may be empty (a leading or trailing
	// hole), the others are not.
	Literals []string
	PatPos   Pos
	As       []FieldRef
	NoDrop   bool
}

// Position implements Node.
func (s *ParseStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *ParseStage) Name() string { return "parse" }

func (s *ParseStage) aggregate() bool { return false }

func (s *ParseStage) walkFields(fn func(FieldRef)) {
	if s.Field != nil {
		fn(*s.Field)
	}
	for _, f := range s.As {
		fn(f)
	}
}

// String implements Node.
func (s *ParseStage) String() string {
	var b strings.Builder
	b.WriteString("parse ")
	writeFieldOption(&b, s.Field)
	b.WriteString(anchorPatternText(s.Literals))
	b.WriteString(" as ")
	writeOutputList(&b, s.As)
	if s.NoDrop {
		b.WriteString(" nodrop")
	}
	return b.String()
}

// anchorPatternText is the canonical quoted text of an anchor pattern.
func anchorPatternText(lits []string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, l := range lits {
		if i > 0 {
			b.WriteByte('*')
		}
		for _, r := range l {
			switch r {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '*':
				b.WriteString(`\*`)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ---- parse family: shared parsing helpers ----

// writeFieldOption writes "field=<f> " when f is set.
func writeFieldOption(b *strings.Builder, f *FieldRef) {
	if f != nil {
		b.WriteString("field=" + f.String() + " ")
	}
}

func writeOutputList(b *strings.Builder, fs []FieldRef) {
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
	}
}

// parseFieldOption parses "field=<f>" when the current token is the word
// "field" followed by "="; it reports whether it consumed anything.
func (p *parser) parseFieldOption(op string, f **FieldRef) (bool, *Error) {
	if !p.isWord("field") {
		return false, nil
	}
	saveLex, saveTok := *p.lex, p.tok
	p.advance()
	if p.tok.typ != tokEq {
		*p.lex, p.tok = saveLex, saveTok
		return false, nil
	}
	if *f != nil {
		return false, errorf(saveTok.pos, "%s: field= is given twice", op)
	}
	p.advance()
	ref, err := p.parseFieldRef(`after "field="`)
	if err != nil {
		return false, err
	}
	*f = &ref
	return true, nil
}

// parseOutputNames parses "<f1>, <f2>, ..." after "as": new field names,
// unique, not built-in and not starting with "_" (allowSkip accepts "_" as
// a placeholder that names nothing).
func (p *parser) parseOutputNames(op string, allowSkip bool) ([]FieldRef, *Error) {
	var out []FieldRef
	seen := map[string]bool{}
	for {
		f, err := p.parseOutputName(op, allowSkip)
		if err != nil {
			return nil, err
		}
		if f.Name != "_" {
			if seen[f.Name] {
				return nil, errorf(f.Pos, "field %s is named twice in %s", f.String(), op)
			}
			seen[f.Name] = true
		}
		out = append(out, f)
		if p.tok.typ != tokComma {
			return out, nil
		}
		p.advance()
	}
}

// parseOutputName parses one name of a field an operator creates.
func (p *parser) parseOutputName(op string, allowSkip bool) (FieldRef, *Error) {
	f, err := p.parseFieldRef("to extract into")
	if err != nil {
		return f, err
	}
	if f.Param {
		return f, errorf(f.Pos, "a template parameter cannot name a field %s creates", op)
	}
	if err := checkOutputName(f.Name, f.Pos, op, allowSkip); err != nil {
		return f, err
	}
	return f, nil
}

// checkOutputName rejects names an extraction cannot create.
func checkOutputName(name string, pos Pos, op string, allowSkip bool) *Error {
	if name == "_" && allowSkip {
		return nil
	}
	if b := lookupBuiltin(name); b != nil {
		return errorf(pos, "%s cannot overwrite the built-in field %s", op, b.name).withHint("choose another name")
	}
	if strings.HasPrefix(name, "_") {
		e := errorf(pos, "field names starting with \"_\" are reserved for built-in fields; %s cannot create %q", op, name)
		if allowSkip {
			e.Hint = `"_" alone skips a position`
		}
		return e
	}
	return nil
}

// parseStageOptions parses trailing option words (nodrop, multi, ...) in
// any order, each at most once.
func (p *parser) parseStageOptions(op string, words ...*optionWord) *Error {
	for p.tok.typ == tokTerm {
		matched := false
		for _, w := range words {
			if p.isWord(w.word) {
				if *w.set {
					return errorf(p.tok.pos, "%s: %s is given twice", op, w.word)
				}
				*w.set = true
				matched = true
				p.advance()
				break
			}
		}
		if !matched {
			break
		}
	}
	return nil
}

type optionWord struct {
	word string
	set  *bool
}

// patternToken returns the current token as a double-quoted string, or an
// error saying what was expected.
func (p *parser) patternToken(what string) (token, *Error) {
	t := p.tok
	if t.typ != tokString {
		return t, p.fail("expected %s in double quotes", what)
	}
	if t.single {
		return t, errorf(t.pos, "%s must be in double quotes, not single quotes", what)
	}
	return t, nil
}

// stringBody returns the source text between a string token's quotes and
// the byte offset (in the query) where it starts.
func stringBody(t token) (string, int) {
	s := t.text
	off := t.pos.Offset
	if strings.HasPrefix(s, "%") {
		s, off = s[1:], off+1
	}
	return s[1 : len(s)-1], off + 1
}

// posInString returns the position of byte offset i of a string token's
// body (the text between the quotes).
func posInString(t token, i int) Pos {
	body, start := stringBody(t)
	p := t.pos
	p.Column += start - t.pos.Offset // the opening quote (and a leading %)
	for j, r := range body {
		if j >= i {
			break
		}
		if r == '\n' {
			p.Line++
			p.Column = 1
		} else {
			p.Column++
		}
	}
	p.Offset = start + min(i, len(body))
	return p
}

// ---- parse family: shared compile helpers ----

// extraction is what every operator of the parse family shares once
// compiled: the source field, the outputs, nodrop, and the schemas.
type extraction struct {
	op     string // the operator's name for messages ("parse", "json", ...)
	text   string // the stage's canonical text
	src    string // canonical source field
	outs   []string
	nodrop bool
	in     *schema
	out    *schema
	// srcIdx is the index of src in records (in.records), else -1.
	srcIdx int
	// rec builds records; nil for messages.
	rec *recordSetter
	// order lists the indexes of outs in name order (messages keep their
	// fields sorted by name).
	order []int
}

// compileExtraction resolves the source field and the outputs of a parse
// family stage against its input.
func compileExtraction(c *compiler, in *schema, op, text string, field *FieldRef, pos Pos, outs []string) (*extraction, *Error) {
	x := &extraction{op: op, text: text, src: event.FieldRaw, in: in, srcIdx: -1}
	if field != nil {
		x.src = field.Name
	}
	if in.records {
		if field == nil {
			return nil, errorf(pos, "%s after an aggregate needs field=<column>: records have no _raw (they have %s)", op, in.names()).
				withHint("parse the messages before the aggregate, or name a record column with field=")
		}
		fi, err := c.resolveField(*field, in)
		if err != nil {
			return nil, err
		}
		for i, f := range in.fields {
			if f.Name == fi.Name {
				x.srcIdx = i
			}
		}
	} else if field != nil {
		if _, err := c.resolveField(*field, in); err != nil {
			return nil, err
		}
	}
	for _, o := range outs {
		if o != "_" {
			x.outs = append(x.outs, o)
		}
	}
	fields := append([]FieldInfo(nil), in.fields...)
	for _, o := range x.outs {
		fields = setSchemaField(fields, FieldInfo{Name: o, Type: "string"})
	}
	x.out = &schema{records: in.records, fields: fields}
	x.order = sortedOrder(x.outs)
	if in.records {
		x.rec = newRecordSetter(in, x.out, x.outs)
	}
	return x, nil
}

func (x *extraction) output() *schema { return x.out }
func (x *extraction) aggregate() bool { return false }

// source returns the text the stage parses in row r.
func (x *extraction) source(r Row) string {
	if x.srcIdx >= 0 {
		if x.srcIdx < len(r) {
			return r[x.srcIdx].Value
		}
		return ""
	}
	if x.src == event.FieldRaw && len(r) > 0 && r[0].Name == event.FieldRaw {
		return r[0].Value
	}
	return r.Get(x.src)
}

// set returns row r with the outputs set to vals ("" is null).
func (x *extraction) set(r Row, vals []string) Row {
	return x.setIn(nil, 0, r, vals)
}

// setIn is set taking a message's new row from chunks (nil: its own
// allocation); rest is how many more rows the caller may set.
func (x *extraction) setIn(chunks *fieldChunks, rest int, r Row, vals []string) Row {
	if x.rec != nil {
		return x.rec.set(r, vals)
	}
	return setSortedFieldsIn(chunks, rest, r, x.outs, x.order, vals)
}

// sortedOrder returns the indexes of names in name order.
func sortedOrder(names []string) []int {
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })
	return order
}

// setMessageFieldsSorted is setSortedFields for names in any order.
func setMessageFieldsSorted(r Row, names, vals []string) Row {
	return setSortedFields(r, names, sortedOrder(names), vals)
}

// setSortedFields returns a copy of message r with the fields names set to
// vals (an empty value removes the field: null), keeping the layout of a
// message: the fixed built-in fields, the other fields sorted by name, the
// hidden fields. order lists the indexes of names in name order.
func setSortedFields(r Row, names []string, order []int, vals []string) Row {
	return setSortedFieldsIn(nil, 0, r, names, order, vals)
}

// setSortedFieldsIn is setSortedFields taking the new row from chunks (nil:
// its own allocation); rest is passed to fieldChunks.alloc.
func setSortedFieldsIn(chunks *fieldChunks, rest int, r Row, names []string, order []int, vals []string) Row {
	nFixed := fixedPrefix(r)
	hidden := len(r)
	for hidden > nFixed && strings.HasPrefix(r[hidden-1].Name, event.InternalFieldPrefix) {
		hidden--
	}
	var out Row
	if chunks != nil {
		out = chunks.alloc(len(r)+len(names), rest)
	} else {
		out = make(Row, 0, len(r)+len(names))
	}
	out = append(out, r[:nFixed]...)
	i, k := nFixed, 0
	for i < hidden || k < len(order) {
		if i < hidden && slices.Contains(names, r[i].Name) {
			i++ // replaced
			continue
		}
		if k < len(order) && vals[order[k]] == "" {
			k++
			continue
		}
		if k >= len(order) || (i < hidden && r[i].Name < names[order[k]]) {
			out = append(out, r[i])
			i++
		} else {
			out = append(out, Field{names[order[k]], vals[order[k]]})
			k++
		}
	}
	return append(out, r[hidden:]...)
}

// pushableSource reports whether the engine's column for the source field
// holds the same text as the Go rows.
func (x *extraction) pushableSource() bool {
	return !x.in.records && x.src != event.FieldMessageTime
}

// extractOp is the Go operator of a one-row-in, at-most-one-row-out
// extraction: match fills vals (one per output) and reports whether the row
// matched.
type extractOp struct {
	x     *extraction
	match func(text string, r Row, vals []string) bool
	next  rowSink
	vals  []string
	buf   []Row
	// rows holds the new rows of one push: one chunk per few rows instead
	// of an allocation per row.
	rows fieldChunks
}

func newExtractOp(x *extraction, match func(string, Row, []string) bool, next rowSink) *extractOp {
	return &extractOp{x: x, match: match, next: next, vals: make([]string, len(x.outs))}
}

func (o *extractOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	o.rows.reset()
	for i, r := range rows {
		clear(o.vals)
		if !o.match(o.x.source(r), r, o.vals) {
			if !o.x.nodrop {
				continue
			}
			clear(o.vals)
		}
		o.buf = append(o.buf, o.x.setIn(&o.rows, len(rows)-i, r, o.vals))
	}
	o.rows.reset()
	if len(o.buf) == 0 {
		return nil
	}
	return o.next.push(o.buf)
}

func (o *extractOp) finish() error { return o.next.finish() }

// logsQLString quotes s for LogsQL.
func logsQLString(s string) string { return strconv.Quote(s) }

// logsQLFieldList is `"a", "b"`.
func logsQLFieldList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = logsQLString(storageField(n))
	}
	return strings.Join(q, ", ")
}

// ---- anchor parse ----

// parseParseStage parses "parse ..." (anchor) and hands "parse regex" to
// the regex operator.
func (p *parser) parseParseStage() (Stage, *Error) {
	start := p.tok
	p.advance()
	st := &ParseStage{Pos: start.pos}
	for p.isWord("field") {
		if ok, err := p.parseFieldOption("parse", &st.Field); err != nil {
			return nil, err
		} else if !ok {
			break
		}
	}
	if p.isWord("regex") {
		if st.Field != nil {
			return nil, errorf(p.tok.pos, `"regex" comes right after "parse"`).withHint(`write parse regex field=%s "..."`, st.Field.String())
		}
		return p.parseRegexStage(start, "parse regex")
	}
	t, err := p.patternToken("a pattern")
	if err != nil {
		if p.tok.typ == tokTerm && !p.isWord("field") {
			err.Hint = `write parse "<pattern with * holes>" as <fields>, or parse regex "<regex>"`
		}
		return nil, err
	}
	lits, perr := parseAnchorPattern(t)
	if perr != nil {
		return nil, perr
	}
	st.Literals, st.PatPos = lits, t.pos
	p.advance()
	if p.isWord("field") {
		return nil, errorf(p.tok.pos, "field= goes before the pattern").withHint(`write parse field=<f> "<pattern>" as ...`)
	}
	if !p.isWord("as") {
		return nil, p.fail(`expected "as" and the names of the %d fields the pattern extracts`, len(lits)-1)
	}
	asTok := p.tok
	p.advance()
	names, err := p.parseOutputNames("parse", false)
	if err != nil {
		return nil, err
	}
	if holes := len(lits) - 1; len(names) != holes {
		return nil, errorf(asTok.pos, "the pattern has %d %s but %d %s follow \"as\"", holes, plural(holes, "*", "*s"), len(names), plural(len(names), "name", "names")).
			withHint("each * extracts one field")
	}
	st.As = names
	if err := p.parseStageOptions("parse", &optionWord{"nodrop", &st.NoDrop}); err != nil {
		return nil, err
	}
	if err := p.expectStageEnd("parse"); err != nil {
		return nil, err
	}
	return st, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// parseAnchorPattern splits the pattern of string token t into its literal
// parts, decoding the escapes; errors point into the pattern.
func parseAnchorPattern(t token) ([]string, *Error) {
	body, _ := stringBody(t)
	var lits []string
	var cur strings.Builder
	lastHole := -1 // byte offset of the previous hole when it ended the last literal
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body):
			e := body[i+1]
			switch e {
			case '"', '\\', '*':
				cur.WriteByte(e)
			case 'n':
				cur.WriteByte('\n')
			case 'r':
				cur.WriteByte('\r')
			case 't':
				cur.WriteByte('\t')
			default:
				cur.WriteByte('\\')
				i++
				continue
			}
			i += 2
			continue
		case c == '*':
			if lastHole >= 0 && cur.Len() == 0 {
				return nil, errorf(posInString(t, lastHole), "two holes in a row (**) in the pattern").
					withHint("put a literal between the holes, or use parse regex")
			}
			lits = append(lits, cur.String())
			cur.Reset()
			lastHole = i
			i++
			continue
		}
		_, w := utf8.DecodeRuneInString(body[i:])
		cur.WriteString(body[i : i+w])
		i += w
	}
	lits = append(lits, cur.String())
	if len(lits) == 1 {
		return nil, errorf(t.pos, "the pattern has no * to extract").withHint(`mark each value to extract with *: parse "user=* " as user`)
	}
	return lits, nil
}

func (s *ParseStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	names := make([]string, len(s.As))
	for i, f := range s.As {
		names[i] = f.Name
	}
	x, err := compileExtraction(c, in, "parse", s.String(), s.Field, s.Pos, names)
	if err != nil {
		return nil, err
	}
	x.nodrop = s.NoDrop
	return &parseImpl{extraction: x, pat: anchorPattern{lits: s.Literals}, first: inQueryFilter(c)}, nil
}

// inQueryFilter reports whether a stage's pushed pipe follows only filter
// pipes (where), which the engine merges into the query's filter: there a
// regexp filter sees every column, while after another pipe it sees no
// value of a column kept in a numeric encoding (TestPushdownNumericColumns).
func inQueryFilter(c *compiler) bool {
	for _, d := range c.done {
		if _, ok := d.stage.(*WhereStage); !ok {
			return false
		}
	}
	return true
}

// anchorPattern matches the literals of an anchor pattern.
type anchorPattern struct{ lits []string }

// match fills vals with the captures and reports whether s matches.
func (a *anchorPattern) match(s string, vals []string) bool {
	lits := a.lits
	pos := 0
	if l := lits[0]; l != "" {
		i := strings.Index(s, l)
		if i < 0 {
			return false
		}
		pos = i + len(l)
	}
	for h := 1; h < len(lits); h++ {
		l := lits[h]
		if l == "" { // trailing hole
			vals[h-1] = s[pos:]
			return true
		}
		i := strings.Index(s[pos:], l)
		if i < 0 {
			return false
		}
		vals[h-1] = s[pos : pos+i]
		pos += i + len(l)
	}
	return true
}

// parseImpl is the compiled anchor parse.
type parseImpl struct {
	*extraction
	pat anchorPattern
	// first is set when the pushed pipe runs in the query's filter
	// (inQueryFilter).
	first bool
}

func (c *parseImpl) explain() string { return c.text }

func (c *parseImpl) newOperator(next rowSink) rowSink {
	return newExtractOp(c.extraction, func(s string, _ Row, vals []string) bool { return c.pat.match(s, vals) }, next)
}

func (c *parseImpl) logsQL(string) (string, bool) { return c.pushedLogsQL(true) }

// pushedLogsQL is logsQL; without check, the rows the pattern does not
// match are left for a later filter to drop (Plan.uncheckedParse).
func (c *parseImpl) pushedLogsQL(check bool) (string, bool) {
	x := c.extraction
	if !x.pushableSource() {
		return "", false
	}
	for _, l := range c.pat.lits {
		if strings.ContainsRune(l, utf8.RuneError) {
			return "", false
		}
	}
	for _, o := range x.outs {
		// ">" ends a field of the extract pattern, spaces are trimmed, and
		// a trailing "*" makes a field name a prefix filter (in delete).
		if strings.ContainsAny(o, ">*") || strings.TrimSpace(o) != o {
			return "", false
		}
	}
	src := logsQLString(storageField(x.src))
	var pat strings.Builder
	for i, l := range c.pat.lits {
		if i > 0 {
			pat.WriteString("<plain:" + x.outs[i-1] + ">")
		}
		pat.WriteString(extractLiteral(l))
	}
	extract := "extract " + logsQLString(pat.String()) + " from " + src
	cond := ""
	if re := literalSequenceRegexp(c.pat.lits); re != "" {
		cond = src + ":~" + logsQLString(re)
	}
	switch {
	case cond == "":
		return extract, true
	case !slices.Contains(x.outs, x.src) && formatFieldName(storageField(x.src)):
		return unmatchedLogsQL(c.pat.lits, storageField(x.src), x.outs, extract, c.first, x.nodrop, check), true
	case !x.nodrop && c.first:
		return "filter " + cond + " | " + extract, true
	}
	return "", false
}

// formatFieldName reports whether a field name can be written as <name> in
// the engine's format pipe.
func formatFieldName(name string) bool {
	return name != "" && strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == ""
}

// srcCopy is the hidden field holding a text copy of the parsed field on
// the rows whose match the extract leaves open (unmatchedLogsQL).
var srcCopy = event.InternalFieldPrefix + "src"

// unmatchedLogsQL is the pushed form of a parse whose source is not among
// its outputs. A regexp filter on the whole literal sequence before the
// extract would run Go's regexp on every row (its fast paths do not cover
// "L0(?s:.*)L1"; several times slower than the extract itself), and after
// another pipe it sees no value of a column the engine keeps in a numeric
// encoding (a field, or _msg, that holds only numbers in a block). So the
// extract runs first, and decides most rows itself: with <plain:...>
// fields it sets the last field only after every anchor before it was
// found (and its own end anchor, when there is one), so a non-empty last
// field means the message matches. On the other rows (empty last field)
// the regexp decides, over a text copy of the source (format), which it
// sees whatever the encoding:
//
//	[filter "<f>":~"<longest literal>" |] extract "..." from "<f>"
//	| format if ("<last>":="") "<<f>>" as "_dohyo.src"
//	| filter (!"<last>":="" or "_dohyo.src":~"L0(?s:.*)L1...")      (without nodrop)
//	| format if ("<last>":="" !"_dohyo.src":~"...") "<_dohyo.none>" as "<out>"   (nodrop: each output but the last)
//	| delete "_dohyo.src"
//
// With nodrop the extract has overwritten every output on every row; on
// the rows that do not match, the outputs it may have set (captures made
// before the missing anchor) are emptied, and the last is empty already.
// The first filter, implied by the regexp (the longest literal must
// occur), only runs in the query's filter (first): there it makes the
// engine skip blocks by their bloom filters, as the regexp filter did.
// The bloom filters hold words, so a literal without a letter or digit
// (`" `, `] `) skips no block and only makes the engine search every
// message once more before the extract searches it again: then there is
// no such filter (parse | where | avg in bench/query: 1.26–1.50 s with
// it, 1.06–1.10 s without).
//
// Without check (and without nodrop) only the extract remains: the caller
// knows that a later filter drops every row whose last output is empty.
func unmatchedLogsQL(lits []string, src string, outs []string, extract string, first, nodrop, check bool) string {
	q := logsQLString(src)
	re := logsQLString(literalSequenceRegexp(lits))
	last := logsQLString(outs[len(outs)-1])
	var b strings.Builder
	if first && !nodrop {
		longest := ""
		for _, l := range lits {
			if len(l) > len(longest) && hasWordChar(l) {
				longest = l
			}
		}
		if longest != "" {
			b.WriteString("filter " + q + ":~" + logsQLString(regexp.QuoteMeta(longest)) + " | ")
		}
	}
	b.WriteString(extract)
	if nodrop && len(outs) == 1 || !nodrop && !check {
		return b.String()
	}
	if !nodrop && slices.ContainsFunc(lits, notInNumericText) {
		// The regexp needs a character that no value of a numeric
		// encoding has, so the values it cannot see after a pipe are
		// values it would not match: the source itself, no copy (the
		// copy and its deletion were a tenth of 'parse | top 10 url',
		// bench/query -try).
		b.WriteString(" | filter (!" + last + `:="" or ` + q + ":~" + re + ")")
		return b.String()
	}
	copyTo := logsQLString(srcCopy)
	b.WriteString(" | format if (" + last + `:="") ` + logsQLString("<"+src+">") + " as " + copyTo)
	if !nodrop {
		b.WriteString(" | filter (!" + last + `:="" or ` + copyTo + ":~" + re + ")")
	} else {
		for _, o := range outs[:len(outs)-1] {
			b.WriteString(" | format if (" + last + `:="" !` + copyTo + ":~" + re + ") " +
				logsQLString("<"+event.InternalFieldPrefix+"none>") + " as " + logsQLString(o))
		}
	}
	b.WriteString(" | delete " + copyTo)
	return b.String()
}

// notInNumericText reports whether literal l has a character that the text
// of no value of the engine's numeric encodings has (unsigned and signed
// integers, floats with exponents, Inf and NaN, IPv4 addresses, ISO 8601
// times): a value in such an encoding cannot match a regexp requiring l.
func notInNumericText(l string) bool {
	return strings.Trim(l, "0123456789.+-:eETZInfNa") != ""
}

// extractLiteral escapes a literal for the engine's extract pattern, whose
// literal parts are HTML-unescaped and where "<" starts a field.
func extractLiteral(s string) string {
	s = strings.ReplaceAll(s, "&", "&amp;")
	return strings.ReplaceAll(s, "<", "&lt;")
}

// literalSequenceRegexp is a regexp matching exactly the texts where the
// non-empty literals occur in order without overlapping; "" when every
// literal is empty (everything matches).
func literalSequenceRegexp(lits []string) string {
	var parts []string
	for _, l := range lits {
		if l != "" {
			parts = append(parts, regexp.QuoteMeta(l))
		}
	}
	return strings.Join(parts, "(?s:.*)")
}

// hasWordChar reports whether s holds a letter or a digit: a part of a
// word the engine's bloom filters index.
func hasWordChar(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}
