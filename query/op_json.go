package query

import (
	"slices"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// The json operator (spec §3.3):
//
//	json [field=<f>] "<path>"[, "<path>"...] [as <f1>[, ...]] [nodrop]
//	json auto [field=<f>] [maxdepth <n>] [extractarrays] [keys "<k1>"[, ...] [refonly] [as <f1>[, ...]]]
//
// # Locating the JSON
//
// The parsed text (_raw by default) is used whole when it is one valid JSON
// value (whitespace around it allowed). Otherwise the JSON object is
// searched inside it, as Sumo does for messages with a preamble ("2024-01-02
// INFO {...}"): every "{" from the left is tried as the start of an object;
// a valid object is kept and the search goes on after it, so the object
// found is the last complete one, the one nearest the end. At most 256
// failed starts are tried (a bound on the work for hostile text); a text
// with no valid object is not JSON.
//
// # Paths
//
// A JSONPath subset: dotted keys (a.b.c, with an optional leading $),
// array indexes a[0], wildcards a[*].b and a.*, recursive descent a..b, and
// bracket quoting for odd keys ['a.b'], ["@x"]. A bare key runs to the next
// "." or "["; keys are case-sensitive. A path that only holds keys and
// indexes selects one value; a path with a wildcard or recursive descent
// selects a list of values, rendered as a JSON array of them (an empty list
// is a missing value). When a key repeats in an object, its last
// occurrence counts (encoding/json's rule, and the ingest-time extraction's).
//
// # Values
//
// event.JSONValueText renders a value, the function the ingest-time
// extraction uses: strings unescaped, numbers as written, true/false,
// objects and arrays as compact JSON; JSON null is null, and so is "" (the
// package rule).
//
// # Output names
//
// With "as", the fields are named in order (one name per path). Without it,
// each field is named after the last key of its path, lower-cased:
// "userIdentity.arn" → arn, "Records[0].eventName" → eventname, "a[*].b" →
// b. A path whose last key starts with "_", or that has no key ("[0]"),
// needs "as". Two paths giving the same name are an error.
//
// # Dropping
//
// Without nodrop, a message is dropped when the text holds no JSON or when
// any path is missing (absent key, index out of range, wrong type); a key
// holding null is not missing (its field is null). With nodrop the message
// is kept and missing paths give null fields. Values found are set, missing
// ones nulled (overwriting earlier fields of the same names).
//
// # json auto
//
// Extracts every key path of the located object (never drops): names are
// the dotted key path, lower-cased with spaces turned into "_" (keys are
// case-insensitive; on a clash the later key wins); objects are descended
// into up to maxdepth levels (default: no limit), an object at the limit
// becomes its compact JSON; arrays are compact JSON, or with extractarrays
// a flat array (no objects or arrays inside) gives one field per element,
// name[0], name[1], ...; null and "" give no field. At most 100 fields are
// extracted, in document order; names starting with "_" are skipped
// (reserved for built-ins). "keys" names keys to extract whatever the
// limit, matched case-insensitively against the flattened names and
// renamed with "as"; "refonly" extracts only them. json auto works on
// messages only.
//
// # Ingest-time fields and push-down
//
// A JSON event gets, at ingest, fields _json.<dotted path> for its scalar
// and array values (ingest.FlattenJSON: objects descended up to a depth
// bound, at most a number of fields, keys with dots skipped, null and ""
// not stored). Such a field exists only when _raw is one valid JSON object,
// and then holds event.JSONValueText of the value at that path, which is
// what the path evaluation over _raw gives (the last occurrence of a
// repeated key on both sides). So for a path of plain keys on _raw:
//
//   - Go reads _json.<path> when the row has it (the executor copies the
//     needed columns into hidden _dohyo.json.<path> fields) and parses _raw
//     otherwise: the same result by construction, including for events
//     where the field was not extracted (not JSON, beyond the bounds, an
//     object, null or "");
//   - the engine can compute the stage on the rows that have every field:
//     condition "_json.<p1>":* "_json.<p2>":* ..., pipe copy "_json.<p>" as
//     <field>, ... (pushdown_cond.go runs it when no row of the scope lacks
//     the fields, else runs the stage in Go).
//
// json auto, paths with indexes, wildcards or recursive descent, keys with
// dots and field=<other field> are computed in Go from the text. The
// engine's unpack_json is not used: its flattening and value rendering are
// not Sumo's (TestJSONIngestEquivalence and TestJSONConditionalPushdown
// prove the rest).

func init() { registerStage("json", (*parser).parseJSONStage) }

// JSONStage is "json ..." (paths) or "json auto ...".
type JSONStage struct {
	Pos   Pos
	Field *FieldRef
	// Paths are the paths of "json <paths>", or the keys of "json auto keys".
	Paths []JSONPathArg
	// As are the names given with "as"; nil derives them.
	As     []FieldRef
	NoDrop bool

	Auto          bool
	MaxDepth      int // 0: no limit
	ExtractArrays bool
	RefOnly       bool

	// Names are the output fields, one per path.
	Names []string
}

// JSONPathArg is one quoted path (or json auto key).
type JSONPathArg struct {
	Pos  Pos
	Text string
	path jsonPath
}

// Position implements Node.
func (s *JSONStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *JSONStage) Name() string { return "json" }

func (s *JSONStage) aggregate() bool { return false }

func (s *JSONStage) walkFields(fn func(FieldRef)) {
	if s.Field != nil {
		fn(*s.Field)
	}
	for _, f := range s.As {
		fn(f)
	}
}

// String implements Node.
func (s *JSONStage) String() string {
	var b strings.Builder
	b.WriteString("json ")
	if s.Auto {
		b.WriteString("auto ")
	}
	writeFieldOption(&b, s.Field)
	if s.Auto {
		if s.MaxDepth > 0 {
			b.WriteString("maxdepth " + strconv.Itoa(s.MaxDepth) + " ")
		}
		if s.ExtractArrays {
			b.WriteString("extractarrays ")
		}
		if len(s.Paths) > 0 {
			b.WriteString("keys ")
		}
	}
	for i, p := range s.Paths {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteString(p.Text))
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
	return strings.TrimRight(b.String(), " ")
}

func (p *parser) parseJSONStage() (Stage, *Error) {
	st := &JSONStage{Pos: p.tok.pos}
	p.advance()
	if _, err := p.parseFieldOption("json", &st.Field); err != nil {
		return nil, err
	}
	if p.isWord("auto") {
		st.Auto = true
		p.advance()
		return p.parseJSONAuto(st)
	}
	for {
		t, err := p.patternToken("a JSON path")
		if err != nil {
			if len(st.Paths) == 0 && p.isWord("field") {
				err.Hint = "field= is given once, before the paths"
			}
			return nil, err
		}
		path, perr := parseJSONPath(t.val)
		if perr != nil {
			return nil, errorf(posInString(t, perr.off), "invalid JSON path %s: %s", quoteString(t.val), perr.msg).withHint("%s", perr.hint)
		}
		st.Paths = append(st.Paths, JSONPathArg{Pos: t.pos, Text: t.val, path: path})
		p.advance()
		if p.tok.typ != tokComma {
			break
		}
		p.advance()
	}
	if p.isWord("field") {
		return nil, errorf(p.tok.pos, "field= goes before the paths").withHint(`write json field=<f> "<path>"`)
	}
	if err := p.parseJSONAs(st, "json"); err != nil {
		return nil, err
	}
	if err := p.parseStageOptions("json", &optionWord{"nodrop", &st.NoDrop}); err != nil {
		return nil, err
	}
	if err := p.expectStageEnd("json"); err != nil {
		return nil, err
	}
	return st, nil
}

// parseJSONAs parses the optional "as" list and derives the output names.
func (p *parser) parseJSONAs(st *JSONStage, op string) *Error {
	if p.isWord("as") {
		asTok := p.tok
		p.advance()
		names, err := p.parseOutputNames(op, false)
		if err != nil {
			return err
		}
		if len(names) != len(st.Paths) {
			return errorf(asTok.pos, "%d %s but %d %s follow \"as\"", len(st.Paths), plural(len(st.Paths), "path", "paths"), len(names), plural(len(names), "name", "names")).
				withHint("give one name per path")
		}
		st.As = names
		for _, n := range names {
			st.Names = append(st.Names, n.Name)
		}
		return nil
	}
	seen := map[string]bool{}
	for _, a := range st.Paths {
		var name string
		if st.Auto {
			name = autoFieldName(a.Text)
		} else {
			last := a.path.lastKey()
			if last == "" {
				return errorf(a.Pos, "the JSON path %s has no key to name its field", quoteString(a.Text)).withHint(`name it: json %s as <field>`, quoteString(a.Text))
			}
			name = strings.ToLower(last)
		}
		if err := checkOutputName(name, a.Pos, op, false); err != nil {
			err.Hint = `name the field with "as"`
			return err
		}
		if seen[name] {
			return errorf(a.Pos, "two paths give the field name %s", fieldText(name)).withHint(`name the fields with "as"`)
		}
		seen[name] = true
		st.Names = append(st.Names, name)
	}
	return nil
}

// parseJSONAuto parses the options of "json auto".
func (p *parser) parseJSONAuto(st *JSONStage) (Stage, *Error) {
	for {
		switch {
		case p.isWord("field"):
			ok, err := p.parseFieldOption("json auto", &st.Field)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, p.fail(`expected "=" after "field"`)
			}
			continue
		case p.isWord("maxdepth"):
			if st.MaxDepth > 0 {
				return nil, errorf(p.tok.pos, "json auto: maxdepth is given twice")
			}
			p.advance()
			if p.tok.typ == tokEq {
				p.advance()
			}
			n, err := strconv.Atoi(p.tok.text)
			if p.tok.typ != tokNumber || err != nil || n < 1 || n > 100 {
				return nil, p.fail("expected a depth from 1 to 100 after maxdepth")
			}
			st.MaxDepth = n
			p.advance()
			continue
		case p.isWord("extractarrays"):
			if st.ExtractArrays {
				return nil, errorf(p.tok.pos, "json auto: extractarrays is given twice")
			}
			st.ExtractArrays = true
			p.advance()
			continue
		case p.isWord("keys"):
			p.advance()
			for {
				t, err := p.patternToken("a key")
				if err != nil {
					return nil, err
				}
				if t.val == "" {
					return nil, errorf(t.pos, "empty key")
				}
				st.Paths = append(st.Paths, JSONPathArg{Pos: t.pos, Text: t.val})
				p.advance()
				if p.tok.typ != tokComma {
					break
				}
				p.advance()
			}
			if p.isWord("refonly") {
				st.RefOnly = true
				p.advance()
			}
			if err := p.parseJSONAs(st, "json auto"); err != nil {
				return nil, err
			}
			if !st.RefOnly && p.isWord("refonly") {
				st.RefOnly = true
				p.advance()
			}
		}
		break
	}
	if p.isWord("nodrop") {
		st.NoDrop = true // accepted: json auto never drops
		p.advance()
	}
	if err := p.expectStageEnd("json auto"); err != nil {
		return nil, err
	}
	return st, nil
}

// autoFieldName is the field name json auto gives a key path.
func autoFieldName(path string) string {
	return strings.ReplaceAll(strings.ToLower(path), " ", "_")
}

// ---- paths ----

type jsonSegKind uint8

const (
	segKey jsonSegKind = iota
	segIndex
	segWildcard
)

type jsonSeg struct {
	kind      jsonSegKind
	recursive bool // reached by ".." (any depth)
	key       string
	index     int
}

// jsonPath is a parsed path; multi reports a wildcard or recursive
// descent (the path selects a list).
type jsonPath struct {
	segs  []jsonSeg
	multi bool
}

// simple reports whether the path is plain keys without dots, the paths
// the ingest-time extraction stores (as _json.<ingestName>).
func (jp jsonPath) simple() bool {
	if jp.multi || len(jp.segs) == 0 {
		return false
	}
	for _, s := range jp.segs {
		if s.kind != segKey || s.key == "" || strings.IndexByte(s.key, '.') >= 0 {
			return false
		}
	}
	return true
}

// ingestName is the dotted path of a simple path.
func (jp jsonPath) ingestName() string {
	parts := make([]string, len(jp.segs))
	for i, s := range jp.segs {
		parts[i] = s.key
	}
	return strings.Join(parts, ".")
}

// lastKey is the last key of the path, or "".
func (jp jsonPath) lastKey() string {
	for i := len(jp.segs) - 1; i >= 0; i-- {
		if jp.segs[i].kind == segKey {
			return jp.segs[i].key
		}
	}
	return ""
}

type jsonPathError struct {
	off       int
	msg, hint string
}

// parseJSONPath parses a path; errors give the byte offset in s.
func parseJSONPath(s string) (jsonPath, *jsonPathError) {
	var jp jsonPath
	fail := func(off int, msg, hint string) (jsonPath, *jsonPathError) {
		return jsonPath{}, &jsonPathError{off: off, msg: msg, hint: hint}
	}
	if s == "" {
		return fail(0, "the path is empty", "")
	}
	i := 0
	if s[0] == '$' {
		i = 1
		if len(s) == 1 {
			return fail(0, "the path selects the whole document", `name a key: "$.key"`)
		}
	}
	first := true
	for i < len(s) {
		recursive := false
		switch {
		case strings.HasPrefix(s[i:], ".."):
			recursive = true
			jp.multi = true
			i += 2
		case s[i] == '.':
			if first && i == 0 {
				return fail(i, `the path starts with "."`, `write "a.b", not ".a.b"`)
			}
			i++
		case s[i] == '[':
		case first:
		default:
			return fail(i, "unexpected "+strconv.QuoteRune(rune(s[i])), `separate keys with "."`)
		}
		first = false
		if i >= len(s) {
			return fail(i, "the path ends after a separator", "")
		}
		switch c := s[i]; {
		case c == '[':
			seg, n, err := parseJSONBracket(s, i)
			if err != nil {
				return jsonPath{}, err
			}
			seg.recursive = recursive
			if seg.kind == segWildcard {
				jp.multi = true
			}
			jp.segs = append(jp.segs, seg)
			i = n
		case c == '*':
			jp.segs = append(jp.segs, jsonSeg{kind: segWildcard, recursive: recursive})
			jp.multi = true
			i++
			if i < len(s) && s[i] != '.' && s[i] != '[' {
				return fail(i, "unexpected text after *", `use * alone for every key, or quote the key: ['a*']`)
			}
		case c == '.':
			return fail(i, `empty key between "."`, "")
		case c == ']':
			return fail(i, `unexpected "]"`, "")
		default:
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' && s[j] != ']' {
				if s[j] == '*' {
					return fail(j, "* inside a key", `use * alone for every key, or quote the key: ['a*']`)
				}
				j++
			}
			jp.segs = append(jp.segs, jsonSeg{kind: segKey, key: s[i:j], recursive: recursive})
			i = j
		}
	}
	return jp, nil
}

// parseJSONBracket parses "[n]", "[*]" or "['key']" at s[i] == '['.
func parseJSONBracket(s string, i int) (jsonSeg, int, *jsonPathError) {
	j := i + 1
	fail := func(off int, msg, hint string) (jsonSeg, int, *jsonPathError) {
		return jsonSeg{}, 0, &jsonPathError{off: off, msg: msg, hint: hint}
	}
	if j >= len(s) {
		return fail(i, `unterminated "["`, "")
	}
	switch c := s[j]; {
	case c == '*':
		if j+1 >= len(s) || s[j+1] != ']' {
			return fail(j+1, `expected "]" after "[*"`, "")
		}
		return jsonSeg{kind: segWildcard}, j + 2, nil
	case c == '\'' || c == '"':
		var key strings.Builder
		k := j + 1
		for ; k < len(s) && s[k] != c; k++ {
			if s[k] == '\\' && k+1 < len(s) {
				k++
			}
			key.WriteByte(s[k])
		}
		if k >= len(s) {
			return fail(j, "unterminated quoted key", "")
		}
		if k+1 >= len(s) || s[k+1] != ']' {
			if k+1 < len(s) && s[k+1] == ',' {
				return fail(k+1, "unions of keys are not supported", "extract each key with its own path")
			}
			return fail(k+1, `expected "]" after the quoted key`, "")
		}
		return jsonSeg{kind: segKey, key: key.String()}, k + 2, nil
	case c >= '0' && c <= '9':
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k >= len(s) || s[k] != ']' {
			if k < len(s) && (s[k] == ':' || s[k] == ',') {
				return fail(k, "array slices and unions are not supported", `use one index ("a[0]") or a wildcard ("a[*]")`)
			}
			return fail(k, `expected "]" after the index`, "")
		}
		n, err := strconv.Atoi(s[j:k])
		if err != nil || n > 1<<30 {
			return fail(j, "index out of range", "")
		}
		return jsonSeg{kind: segIndex, index: n}, k + 1, nil
	case c == '-':
		return fail(j, "negative indexes are not supported", "")
	case c == '?' || c == '(':
		return fail(j, "filter and script expressions are not supported", "")
	}
	return fail(j, `expected an index, "*" or a quoted key after "["`, `quote odd keys: ['a.b']`)
}

// ---- evaluation ----

// locateJSON returns the JSON document in s: s itself (trimmed) when it is
// one valid JSON value, else the last valid object inside it; ok=false when
// there is none.
func locateJSON(s string) (string, bool) {
	t := trimJSONSpaceStr(s)
	if t == "" {
		return "", false
	}
	if c := t[0]; c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n' {
		if end, err := event.JSONValueEnd(t, 0); err == nil && end == len(t) {
			return t, true
		}
	}
	var found string
	failed := 0
	for i := 0; i < len(s) && failed < maxJSONStarts; {
		k := strings.IndexByte(s[i:], '{')
		if k < 0 {
			break
		}
		i += k
		end, err := event.JSONValueEnd(s, i)
		if err != nil {
			failed++
			i++
			continue
		}
		found = s[i:end]
		i = end
	}
	return found, found != ""
}

// maxJSONStarts bounds the failed object starts locateJSON tries.
const maxJSONStarts = 256

func trimJSONSpaceStr(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// jsonEachEntry calls fn for each key of the (valid) object at s[i] == '{'
// with the offsets of its value, and returns the offset past the object.
func jsonEachEntry(s string, i int, fn func(key string, vs, ve int)) (int, error) {
	j := skipJSONSpace(s, i+1)
	if j < len(s) && s[j] == '}' {
		return j + 1, nil
	}
	for {
		key, _, ke, err := event.JSONValueTextAt(s, j)
		if err != nil {
			return 0, err
		}
		ke = skipJSONSpace(s, ke)
		if ke >= len(s) || s[ke] != ':' {
			return 0, &event.JSONSyntaxError{Offset: ke, Msg: "expected ':'"}
		}
		vs := skipJSONSpace(s, ke+1)
		ve, err := event.JSONValueEnd(s, vs)
		if err != nil {
			return 0, err
		}
		fn(key, vs, ve)
		j = skipJSONSpace(s, ve)
		if j < len(s) && s[j] == ',' {
			j = skipJSONSpace(s, j+1)
			continue
		}
		if j < len(s) && s[j] == '}' {
			return j + 1, nil
		}
		return 0, &event.JSONSyntaxError{Offset: j, Msg: "expected ',' or '}'"}
	}
}

// jsonEachElement calls fn for each element of the (valid) array at
// s[i] == '['.
func jsonEachElement(s string, i int, fn func(idx, vs, ve int)) (int, error) {
	j := skipJSONSpace(s, i+1)
	if j < len(s) && s[j] == ']' {
		return j + 1, nil
	}
	for n := 0; ; n++ {
		ve, err := event.JSONValueEnd(s, j)
		if err != nil {
			return 0, err
		}
		fn(n, j, ve)
		j = skipJSONSpace(s, ve)
		if j < len(s) && s[j] == ',' {
			j = skipJSONSpace(s, j+1)
			continue
		}
		if j < len(s) && s[j] == ']' {
			return j + 1, nil
		}
		return 0, &event.JSONSyntaxError{Offset: j, Msg: "expected ',' or ']'"}
	}
}

func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// eval returns the text of the path's value in the (valid) document doc:
// found=false when the path is missing; null=true for JSON null.
func (jp jsonPath) eval(doc string) (text string, found, null bool) {
	if !jp.multi {
		vs, ve, ok := jp.single(doc, 0)
		if !ok {
			return "", false, false
		}
		t, isNull, _, err := event.JSONValueTextAt(doc[:ve], vs)
		if err != nil {
			return "", false, false
		}
		return t, true, isNull
	}
	var matches []string
	jp.collect(doc, 0, jp.segs, &matches)
	if len(matches) == 0 {
		return "", false, false
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, m := range matches {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m)
	}
	b.WriteByte(']')
	t, _, err := event.JSONValueTextString(b.String())
	if err != nil {
		return "", false, false
	}
	return t, true, false
}

// single walks a path of keys and indexes from the value at doc[i];
// it returns the offsets of the value found.
func (jp jsonPath) single(doc string, i int) (vs, ve int, ok bool) {
	i = skipJSONSpace(doc, i)
	for _, seg := range jp.segs {
		if i >= len(doc) {
			return 0, 0, false
		}
		found := -1
		var err error
		switch {
		case seg.kind == segKey && doc[i] == '{':
			_, err = jsonEachEntry(doc, i, func(key string, s, e int) {
				if key == seg.key {
					found = s // the last occurrence wins
				}
			})
		case seg.kind == segIndex && doc[i] == '[':
			_, err = jsonEachElement(doc, i, func(n, s, e int) {
				if n == seg.index {
					found = s
				}
			})
		default:
			return 0, 0, false
		}
		if err != nil || found < 0 {
			return 0, 0, false
		}
		i = found
	}
	end, err := event.JSONValueEnd(doc, i)
	if err != nil {
		return 0, 0, false
	}
	return i, end, true
}

// collect appends the JSON text of every value segs selects from the value
// at doc[i].
func (jp jsonPath) collect(doc string, i int, segs []jsonSeg, out *[]string) {
	i = skipJSONSpace(doc, i)
	if i >= len(doc) {
		return
	}
	if len(segs) == 0 {
		if end, err := event.JSONValueEnd(doc, i); err == nil {
			*out = append(*out, doc[i:end])
		}
		return
	}
	seg, rest := segs[0], segs[1:]
	c := doc[i]
	// The children of the value, last occurrence of each key.
	type child struct {
		key   string
		index int
		vs    int
	}
	var kids []child
	switch c {
	case '{':
		jsonEachEntry(doc, i, func(key string, s, e int) {
			for k := range kids {
				if kids[k].key == key {
					kids = append(kids[:k], kids[k+1:]...)
					break
				}
			}
			kids = append(kids, child{key: key, index: -1, vs: s})
		})
	case '[':
		jsonEachElement(doc, i, func(n, s, e int) { kids = append(kids, child{index: n, vs: s}) })
	}
	for _, k := range kids {
		match := false
		switch seg.kind {
		case segWildcard:
			match = true
		case segKey:
			match = k.index < 0 && k.key == seg.key
		case segIndex:
			match = k.index == seg.index
		}
		if match {
			jp.collect(doc, k.vs, rest, out)
		}
		if seg.recursive {
			jp.collect(doc, k.vs, segs, out)
		}
	}
}

// ---- compile ----

func (s *JSONStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if s.Auto && in.records {
		return nil, errorf(s.Pos, "json auto works on messages, not on the records of an aggregate").
			withHint("extract the fields before the aggregate, or name them: json field=<column> \"<path>\"")
	}
	x, err := compileExtraction(c, in, "json", s.String(), s.Field, s.Pos, s.Names)
	if err != nil {
		return nil, err
	}
	x.nodrop = s.NoDrop
	impl := &jsonImpl{extraction: x, stage: s}
	if s.Auto {
		impl.maxDepth = s.MaxDepth
		impl.extractArrays = s.ExtractArrays
		impl.refOnly = s.RefOnly
		for _, a := range s.Paths {
			impl.keys = append(impl.keys, autoFieldName(a.Text))
		}
		return impl, nil
	}
	for _, a := range s.Paths {
		impl.paths = append(impl.paths, a.path)
	}
	if s.Field == nil && !c.opts.noIngestJSON {
		impl.ingest = make([]string, len(impl.paths))
		for i, jp := range impl.paths {
			// A "*" in a name would make it a prefix filter in the
			// engine's copy and delete pipes.
			if jp.simple() && !strings.Contains(jp.ingestName(), "*") {
				impl.ingest[i] = jp.ingestName()
			}
		}
	}
	return impl, nil
}

// jsonImpl is the compiled json stage.
type jsonImpl struct {
	*extraction
	stage *JSONStage
	paths []jsonPath
	// ingest[i] is the ingest-time field name (without _json.) of path i
	// when Go may read it from the row, else "".
	ingest []string

	maxDepth      int
	extractArrays bool
	refOnly       bool
	keys          []string
}

func (c *jsonImpl) explain() string {
	if names := c.ingestFields(); len(names) > 0 {
		return c.text + " (reading " + strings.Join(names, ", ") + " when extracted at ingest)"
	}
	return c.text
}

// ingestFields lists the ingest-time fields (with the _json. prefix) the
// Go operator reads when the row has them.
func (c *jsonImpl) ingestFields() []string {
	var out []string
	for _, n := range c.ingest {
		if n != "" {
			out = append(out, event.JSONFieldPrefix+n)
		}
	}
	return out
}

// hiddenJSONField is the hidden field of a message holding the ingest-time
// field _json.<name> (pushdown_cond.go copies it there).
func hiddenJSONField(name string) string { return hiddenJSONPrefix + name }

const hiddenJSONPrefix = event.InternalFieldPrefix + "json."

func (c *jsonImpl) logsQL(string) (string, bool) { return "", false }

// condLogsQL implements condPusher: on rows having every path's ingest-time
// field, the stage is copying those fields.
func (c *jsonImpl) condLogsQL() (cond, pipe string, ok bool) {
	if c.stage.Auto || c.in.records || len(c.ingest) == 0 {
		return "", "", false
	}
	var conds, copies []string
	for i, n := range c.ingest {
		if n == "" || strings.Contains(c.outs[i], "*") {
			return "", "", false
		}
		src := logsQLString(event.JSONFieldPrefix + n)
		conds = append(conds, src+":*")
		copies = append(copies, src+" as "+logsQLString(c.outs[i]))
	}
	return strings.Join(conds, " "), "copy " + strings.Join(copies, ", "), true
}

func (c *jsonImpl) newOperator(next rowSink) rowSink {
	if c.stage.Auto {
		return &jsonAutoOp{c: c, next: next}
	}
	n := len(c.paths)
	ingest := make([]string, n)
	for i, name := range c.ingest {
		if name != "" {
			ingest[i] = hiddenJSONField(name)
		}
	}
	found := make([]bool, n)
	return newExtractOp(c.extraction, func(s string, r Row, vals []string) bool {
		missing := 0
		for i := range vals {
			found[i] = false
			if ingest[i] != "" {
				if v := hiddenValue(r, ingest[i]); v != "" {
					vals[i], found[i] = v, true
					continue
				}
			}
			missing++
		}
		if missing == 0 {
			return true
		}
		doc, ok := locateJSON(s)
		if !ok {
			return false
		}
		all := true
		for i, jp := range c.paths {
			if found[i] {
				continue
			}
			t, ok, _ := jp.eval(doc)
			if !ok {
				all = false
				continue
			}
			vals[i] = t
		}
		if !all && c.nodrop {
			return true // the found values are kept, the missing are null
		}
		return all
	}, next)
}

// hiddenValue returns the hidden field name of message r (hidden fields
// trail a message), or "".
func hiddenValue(r Row, name string) string {
	for i := len(r) - 1; i >= 0 && strings.HasPrefix(r[i].Name, event.InternalFieldPrefix); i-- {
		if r[i].Name == name {
			return r[i].Value
		}
	}
	return ""
}

// ---- json auto ----

// maxAutoFields is the most fields json auto extracts (besides its keys).
const maxAutoFields = 100

type jsonAutoOp struct {
	c     *jsonImpl
	next  rowSink
	buf   []Row
	names []string
	vals  []string
}

func (o *jsonAutoOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	for _, r := range rows {
		doc, ok := locateJSON(o.c.source(r))
		if !ok || doc[0] != '{' {
			o.buf = append(o.buf, r)
			continue
		}
		o.names, o.vals = o.names[:0], o.vals[:0]
		o.flatten(doc, 0, "", 1)
		o.buf = append(o.buf, o.apply(r))
	}
	if len(o.buf) == 0 {
		return nil
	}
	return o.next.push(o.buf)
}

func (o *jsonAutoOp) finish() error { return o.next.finish() }

// flatten collects the fields of the object at doc[i] whose keys are at
// the given depth.
func (o *jsonAutoOp) flatten(doc string, i int, prefix string, depth int) {
	jsonEachEntry(doc, i, func(key string, vs, ve int) {
		name := autoFieldName(key)
		if prefix != "" {
			name = prefix + "." + name
		}
		c := doc[vs]
		switch {
		case c == '{' && (o.c.maxDepth == 0 || depth < o.c.maxDepth):
			o.flatten(doc, vs, name, depth+1)
		case c == '[' && o.c.extractArrays && flatJSONArray(doc, vs):
			jsonEachElement(doc, vs, func(n, s, e int) {
				t, null, _, _ := event.JSONValueTextAt(doc[:e], s)
				if !null {
					o.add(name+"["+strconv.Itoa(n)+"]", t)
				}
			})
		default:
			t, null, _, err := event.JSONValueTextAt(doc[:ve], vs)
			if err == nil && !null {
				o.add(name, t)
			}
		}
	})
}

// add records a field; a name seen before takes the later value.
func (o *jsonAutoOp) add(name, value string) {
	for i, n := range o.names {
		if n == name {
			o.vals[i] = value
			return
		}
	}
	o.names = append(o.names, name)
	o.vals = append(o.vals, value)
}

// flatJSONArray reports whether the array at doc[i] holds no array or
// object.
func flatJSONArray(doc string, i int) bool {
	flat := true
	jsonEachElement(doc, i, func(_, s, _ int) {
		if doc[s] == '{' || doc[s] == '[' {
			flat = false
		}
	})
	return flat
}

// apply sets the collected fields on r: the keys (renamed), then up to
// maxAutoFields others unless refonly.
func (o *jsonAutoOp) apply(r Row) Row {
	c := o.c
	var names, vals []string
	for k, key := range c.keys {
		v := ""
		for i, n := range o.names {
			if n == key {
				v = o.vals[i]
			}
		}
		names = append(names, c.outs[k])
		vals = append(vals, v)
	}
	if !c.refOnly {
		n := 0
		for i, name := range o.names {
			if n >= maxAutoFields {
				break
			}
			if strings.HasPrefix(name, "_") || o.vals[i] == "" || slices.Contains(c.keys, name) {
				continue
			}
			names = append(names, name)
			vals = append(vals, o.vals[i])
			n++
		}
	}
	if len(names) == 0 {
		return r
	}
	return setMessageFieldsSorted(r, names, vals)
}
