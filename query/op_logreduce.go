package query

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/analytics/logreduce"
	"github.com/dohyo/dohyo/event"
)

// The logreduce operator (spec §10.4; "summarize" is its legacy synonym):
//
//	logreduce [field=<f>] [by <k>[, ...]] [limit=<n>] [criteria=mostcommon|leastcommon] [optimize]
//	logreduce keys [parser=json|keyvalue] [maxdepth=<n>] [field=<f>] [noaggregate]
//	logreduce values on <f>[, ...] [output_threshold=<x>]
//
// and the drill-down into one signature, which turns the stage into a
// filter of messages:
//
//	logreduce ... details <id>     (also written "logreduce ... | details <id>")
//
// Options may come in any order, separated by spaces or commas.
//
// # Signatures
//
// logreduce clusters the messages reaching it (the values of field, _raw by
// default; a message without the field is left out) into signatures with
// the template miner of analytics/logreduce, whose package documentation
// describes the algorithm, the guarantees (the result does not depend on
// the order of the messages or on how they were split between workers) and
// the bounds (at most 10,000 distinct skeletons per miner; the lines of
// further ones are counted in one overflow signature, id 0000000000000000).
// It outputs one record per signature:
//
//	_signature     the template, Sumo-style: each variable part is "*"
//	               (the library writes "<*>"; the constant text around a
//	               variable, "blk_*", "(uid=*)", stays). A literal "*" of the
//	               messages stays "*" too: the UI highlights both alike.
//	_count         the messages of the signature
//	_score         relevance from 0 to 100: the mean of rarity and severity
//	               (error words) of the template (logreduce.Score)
//	_signature_id  16 hex digits, a hash of the template: the same template
//	               has the same id in every run, which the drill-down uses
//
// sorted by _score (highest first, then larger _count, then id), or with
// criteria=mostcommon by _count descending, leastcommon ascending (ties by
// id). limit=n keeps the first n signatures (of each group). With "by" the
// messages of each combination of the by-fields are clustered separately;
// the records come group by group (by-field values in string order), keys
// first. optimize is accepted and ignored (dohyo keeps no learned model).
// No sample messages are in the records (they stay small): the drill-down
// lists the messages of a signature.
//
// logreduce is an aggregate that needs messages: it cannot follow another
// aggregate (spec §11.7). Bounds: with "by", at most MaxLogReduceGroups
// groups and MaxLogReduceSkeletons skeletons in all, and at most
// MaxLogReduceRecords records; beyond, the query fails naming the limit.
//
// # Drill-down
//
// "logreduce [field=f] [by ...] details <id>" keeps the messages (newest
// first, all their fields) whose line the signatures of the search's whole
// range assign to the signature id, in their group: the stages before
// logreduce are first run over the range into the miner (exec_mine.go),
// then every message is assigned with logreduce.Result.Assign, which for a
// mined line returns exactly the signature that counted it. So the
// drill-down of a signature returns _count messages. limit, criteria and
// optimize do not change it. The UI (or the API, api/signatures.go) builds
// it from the logreduce query with DrillDownQuery.
//
// # Keys and values
//
// op_logreduce_keys.go and op_logreduce_values.go describe the other two
// modes.
//
// # Execution
//
// No pushdown: the engine has nothing like it. But when every stage before
// logreduce runs in the engine, the engine sends only the fields logreduce
// reads, and each engine worker feeds its own miner straight from its
// blocks; the miners are merged at the end (exec_mine.go). The all-Go mode
// feeds one miner row by row; the tests demand the same records.
//
// Deviations from Sumo: the clustering is dohyo's (see analytics/logreduce);
// signatures cannot be promoted, demoted, split or edited; optimize does
// nothing; _signature_id is our field name (Sumo hides its id).

func init() {
	registerStage("logreduce", (*parser).parseLogReduce)
	registerStage("summarize", (*parser).parseLogReduce)
	registerStage("details", (*parser).parseDetailsAlone)
}

// Bounds of logreduce with "by".
const (
	// MaxLogReduceGroups is the most groups of "logreduce by".
	MaxLogReduceGroups = 1000
	// MaxLogReduceSkeletons bounds the distinct skeletons (the unit the
	// miners keep, about 1 KiB each) of all groups together.
	MaxLogReduceSkeletons = 100000
	// MaxLogReduceRecords is the most records logreduce outputs.
	MaxLogReduceRecords = 100000
	// MaxLogReduceLimit is the largest limit=.
	MaxLogReduceLimit = 100000
)

// LogReduceStage is "logreduce ..." in one of its modes.
type LogReduceStage struct {
	Pos Pos
	// Mode is "" (signatures), "keys" or "values".
	Mode string
	// Field is field=, nil when not written.
	Field *FieldRef
	// By are the group-by fields (signatures).
	By []FieldRef
	// Limit is limit= (signatures), 0 when not written.
	Limit int
	// Criteria is "", "mostcommon" or "leastcommon" (signatures).
	Criteria string
	// Optimize was written (signatures).
	Optimize bool
	// Parser is "", "json" or "keyvalue"; MaxDepth 0 when not written;
	// NoAggregate (keys).
	Parser      string
	MaxDepth    int
	NoAggregate bool
	// On are the fields of values; Threshold its output_threshold.
	On        []FieldRef
	Threshold *NumberLit
	// Details is the id of the signature (or cluster) to drill into, ""
	// when the stage is not a drill-down.
	Details string
}

// Position implements Node.
func (s *LogReduceStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *LogReduceStage) Name() string { return "logreduce" }

func (s *LogReduceStage) aggregate() bool { return s.Details == "" && !s.NoAggregate }

func (s *LogReduceStage) walkFields(fn func(FieldRef)) {
	if s.Field != nil {
		fn(*s.Field)
	}
	for _, f := range s.By {
		fn(f)
	}
	for _, f := range s.On {
		fn(f)
	}
}

// String implements Node.
func (s *LogReduceStage) String() string {
	var b strings.Builder
	b.WriteString("logreduce")
	switch s.Mode {
	case "keys":
		b.WriteString(" keys")
		if s.Parser != "" {
			b.WriteString(" parser=" + s.Parser)
		}
		if s.MaxDepth > 0 {
			b.WriteString(" maxdepth=" + strconv.Itoa(s.MaxDepth))
		}
		if s.Field != nil {
			b.WriteString(" field=" + s.Field.String())
		}
		if s.NoAggregate {
			b.WriteString(" noaggregate")
		}
	case "values":
		b.WriteString(" values on ")
		writeLogReduceFields(&b, s.On)
		if s.Threshold != nil {
			b.WriteString(" output_threshold=" + s.Threshold.Text)
		}
	default:
		if s.Field != nil {
			b.WriteString(" field=" + s.Field.String())
		}
		if len(s.By) > 0 {
			b.WriteString(" by ")
			writeLogReduceFields(&b, s.By)
		}
		if s.Limit > 0 {
			b.WriteString(" limit=" + strconv.Itoa(s.Limit))
		}
		if s.Criteria != "" {
			b.WriteString(" criteria=" + s.Criteria)
		}
		if s.Optimize {
			b.WriteString(" optimize")
		}
	}
	if s.Details != "" {
		b.WriteString(" details " + s.Details)
	}
	return b.String()
}

// writeLogReduceFields writes a list of fields, quoting the names that
// would read as a flag or as details ("by a, %\"optimize\"").
func writeLogReduceFields(b *strings.Builder, fs []FieldRef) {
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		switch strings.ToLower(f.Name) {
		case "optimize", "noaggregate", "details", "output_threshold", "field", "limit", "criteria":
			if !f.Param {
				b.WriteString("%" + quoteString(f.Name))
				continue
			}
		}
		b.WriteString(f.String())
	}
}

// ---- parsing ----

// logreduceOptions are the name=value options of each mode.
var logreduceOptions = map[string][]string{
	"":       {"field", "limit", "criteria"},
	"keys":   {"parser", "maxdepth", "field"},
	"values": {"output_threshold"},
}

// logreduceFlags are the bare words of each mode.
var logreduceFlags = map[string]string{"": "optimize", "keys": "noaggregate"}

// parseLogReduce parses a logreduce (or summarize) stage; the current token
// is its name.
func (p *parser) parseLogReduce() (Stage, *Error) {
	st := &LogReduceStage{Pos: p.tok.pos}
	p.advance()
	if (p.isWord("keys") || p.isWord("values")) && p.peekToken().typ != tokEq {
		st.Mode = strings.ToLower(p.tok.text)
		p.advance()
	}
	if st.Mode == "values" {
		if !p.isWord("on") {
			return nil, p.fail(`expected "on" after "logreduce values"`).withHint("write \"logreduce values on <field>[, <field>...]\"")
		}
		p.advance()
		seen := map[string]bool{}
		for {
			f, err := p.parseFieldRef(`after "on"`)
			if err != nil {
				return nil, err
			}
			if seen[f.Name] {
				return nil, errorf(f.Pos, "field %s is listed twice in logreduce values", f.String())
			}
			seen[f.Name] = true
			st.On = append(st.On, f)
			if p.tok.typ != tokComma {
				break
			}
			lex, tok := *p.lex, p.tok
			p.advance()
			if p.logreduceOptionNext(st.Mode) {
				*p.lex, p.tok = lex, tok // the comma separates options
				break
			}
		}
		if len(st.On) > MaxValuesFields {
			return nil, errorf(st.On[MaxValuesFields].Pos, "logreduce values takes at most %d fields", MaxValuesFields)
		}
	}
	options := logreduceOptions[st.Mode]
	seen := map[string]bool{}
	for {
		switch {
		case p.tok.typ == tokComma:
			p.advance()
			if !p.logreduceOptionNext(st.Mode) && !(st.Mode == "" && p.isWord("by")) {
				return nil, p.fail(`expected an option after ","`).withHint("%s", logreduceHint(st.Mode))
			}
			continue
		case st.Mode == "" && p.isWord("by") && st.By == nil:
			by, err := p.parseLogReduceBy()
			if err != nil {
				return nil, err
			}
			st.By = by
			continue
		case p.tok.typ == tokTerm && (p.peekToken().typ == tokEq || (st.Mode == "values" && strings.EqualFold(p.tok.text, "output_threshold") && p.peekToken().typ == tokNumber)):
			name := strings.ToLower(p.tok.text)
			namePos := p.tok.pos
			if !containsString(options, name) {
				e := errorf(namePos, "logreduce%s has no option %q", modeSuffix(st.Mode), p.tok.text)
				return nil, e.withHint("%s", optionHint(name, options))
			}
			if seen[name] {
				return nil, errorf(namePos, "logreduce: option %s is given twice", name)
			}
			seen[name] = true
			p.advance()
			if p.tok.typ == tokEq {
				p.advance()
			}
			if err := p.parseLogReduceOption(st, name); err != nil {
				return nil, err
			}
			continue
		case p.isWord("details") && st.Details == "":
			p.advance()
			if err := p.parseSignatureID(st); err != nil {
				return nil, err
			}
			continue
		case logreduceFlags[st.Mode] != "" && p.isWord(logreduceFlags[st.Mode]):
			if st.Mode == "keys" {
				st.NoAggregate = true
			} else {
				st.Optimize = true
			}
			p.advance()
			continue
		}
		break
	}
	// The spec's form of the drill-down: "logreduce | details <id>".
	if p.tok.typ == tokPipe && st.Details == "" {
		if next := p.peekToken(); next.typ == tokTerm && strings.EqualFold(next.text, "details") {
			p.advance()
			p.advance()
			if err := p.parseSignatureID(st); err != nil {
				return nil, err
			}
		}
	}
	if st.NoAggregate && st.Details != "" {
		return nil, errorf(st.Pos, "logreduce keys: details and noaggregate cannot be combined").withHint("drop noaggregate")
	}
	if err := p.expectStageEnd("logreduce"); err != nil {
		if p.tok.typ == tokTerm {
			err.Hint = logreduceHint(st.Mode)
		}
		return nil, err
	}
	return st, nil
}

func modeSuffix(mode string) string {
	if mode == "" {
		return ""
	}
	return " " + mode
}

func logreduceHint(mode string) string {
	switch mode {
	case "keys":
		return "write logreduce keys [parser=json|keyvalue] [maxdepth=5] [field=<field>] [noaggregate]"
	case "values":
		return "write logreduce values on <field>[, <field>...] [output_threshold=0.1]"
	}
	return "write logreduce [field=<field>] [by <field>, ...] [limit=<n>] [criteria=mostcommon|leastcommon] [optimize]"
}

// logreduceOptionNext reports whether the current token starts an option,
// a flag or details of the mode (which end a list of fields).
func (p *parser) logreduceOptionNext(mode string) bool {
	if p.tok.typ != tokTerm {
		return false
	}
	next := p.peekToken()
	if next.typ == tokEq && containsString(logreduceOptions[mode], strings.ToLower(p.tok.text)) {
		return true
	}
	if mode == "values" && strings.EqualFold(p.tok.text, "output_threshold") && next.typ == tokNumber {
		return true
	}
	end := next.typ == tokEOF || next.typ == tokPipe || next.typ == tokComma
	if f := logreduceFlags[mode]; f != "" && p.isWord(f) && end {
		return true
	}
	return p.isWord("details") && (next.typ == tokTerm || next.typ == tokNumber || next.typ == tokString)
}

// parseLogReduceBy parses "by f1, f2" that options may follow.
func (p *parser) parseLogReduceBy() ([]FieldRef, *Error) {
	p.advance()
	var out []FieldRef
	seen := map[string]bool{}
	for {
		f, err := p.parseFieldRef(`after "by"`)
		if err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, errorf(f.Pos, "field %s is listed twice after \"by\" in logreduce", f.String())
		}
		seen[f.Name] = true
		out = append(out, f)
		if p.tok.typ != tokComma {
			return out, nil
		}
		lex, tok := *p.lex, p.tok
		p.advance()
		if p.logreduceOptionNext("") {
			*p.lex, p.tok = lex, tok // the comma separates options
			return out, nil
		}
	}
}

func (p *parser) parseLogReduceOption(st *LogReduceStage, name string) *Error {
	switch name {
	case "field":
		f, err := p.parseFieldRef(`after "field="`)
		if err != nil {
			return err
		}
		st.Field = &f
	case "limit":
		n, err := p.parsePositiveInt("logreduce", "limit", MaxLogReduceLimit)
		if err != nil {
			return err
		}
		st.Limit = n
	case "criteria":
		t := p.tok
		w := strings.ToLower(t.text)
		if t.typ != tokTerm || (w != "mostcommon" && w != "leastcommon") {
			return p.fail("expected mostcommon or leastcommon after \"criteria=\"").
				withHint("criteria=mostcommon lists the largest signatures first, leastcommon the smallest; without criteria the most relevant come first")
		}
		st.Criteria = w
		p.advance()
	case "parser":
		t := p.tok
		w := strings.ToLower(t.text)
		if w == "kv" {
			w = "keyvalue"
		}
		if t.typ != tokTerm || (w != "json" && w != "keyvalue") {
			return p.fail("expected json or keyvalue after \"parser=\"")
		}
		st.Parser = w
		p.advance()
	case "maxdepth":
		n, err := p.parsePositiveInt("logreduce keys", "maxdepth", 100)
		if err != nil {
			return err
		}
		st.MaxDepth = n
	case "output_threshold":
		t := p.tok
		if t.typ != tokNumber {
			return p.fail("expected a number from 0 to 1 after \"output_threshold=\"")
		}
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil || !(v >= 0 && v <= 1) {
			return errorf(t.pos, "logreduce values: output_threshold must be a number from 0 to 1, got %s", t.text).
				withHint("0.1 shows the values of at least 10%% of a cluster's messages")
		}
		st.Threshold = &NumberLit{Pos: t.pos, Text: t.text, Value: v, Int: !strings.ContainsAny(t.text, ".eE")}
		p.advance()
	}
	return nil
}

// parseSignatureID parses the id after "details": 16 hex digits, bare or
// quoted.
func (p *parser) parseSignatureID(st *LogReduceStage) *Error {
	t := p.tok
	id := ""
	switch t.typ {
	case tokTerm, tokNumber:
		id = t.text
	case tokString:
		id = t.val
	default:
		return p.fail(`expected a signature id after "details"`).withHint("write \"details <_signature_id>\" with the 16 hex digits of a logreduce record")
	}
	if !isSignatureID(id) {
		return errorf(t.pos, "%s is not a signature id", t.describe()).
			withHint("a signature id is 16 hex digits, the _signature_id (or _cluster_id) of a logreduce record")
	}
	st.Details = strings.ToLower(id)
	p.advance()
	return nil
}

// isSignatureID reports whether s is 16 hex digits.
func isSignatureID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// parseDetailsAlone reports a details stage that does not follow logreduce.
func (p *parser) parseDetailsAlone() (Stage, *Error) {
	return nil, errorf(p.tok.pos, "details must follow logreduce or logcompare").
		withHint("write \"... | logreduce | details <signature id>\" to list the messages of a signature")
}

// ---- compiling ----

func (s *LogReduceStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if in.records {
		return nil, errorf(s.Pos, "logreduce needs messages: it cannot follow an aggregate").
			withHint("put logreduce before any aggregate: ... | logreduce")
	}
	switch s.Mode {
	case "keys":
		return s.compileKeys(c, in) // op_logreduce_keys.go
	case "values":
		return s.compileValues(c, in) // op_logreduce_values.go
	}
	impl := &logreduceImpl{text: s.String(), field: event.FieldRaw, limit: s.Limit, out: &schema{records: true}}
	if s.Field != nil {
		if _, err := c.resolveField(*s.Field, in); err != nil {
			return nil, err
		}
		impl.field = s.Field.Name
	}
	for _, f := range s.By {
		fi, err := c.resolveField(f, in)
		if err != nil {
			return nil, err
		}
		typ := fi.Type
		if typ == "" {
			typ = "string"
		}
		impl.keys = append(impl.keys, f.Name)
		impl.out.fields = append(impl.out.fields, FieldInfo{Name: f.Name, KeyField: true, Type: typ})
		if strings.HasPrefix(f.Name, "_signature") || f.Name == "_count" || f.Name == "_score" {
			return nil, errorf(f.Pos, "logreduce cannot group by %s, one of its output columns", f.Name)
		}
	}
	switch s.Criteria {
	case "mostcommon":
		impl.order = logreduce.MostCommon
	case "leastcommon":
		impl.order = logreduce.LeastCommon
	}
	impl.out.fields = append(impl.out.fields, signatureColumns...)
	if s.Details != "" {
		return newDetailsImpl(s, in, impl.blockFields(), func(r *miningRunner, step int) (rowTest, error) {
			return impl.detailsTest(r, step, s.Details)
		}), nil
	}
	return impl, nil
}

// signatureColumns are logreduce's output columns after the by-fields.
var signatureColumns = []FieldInfo{
	{Name: "_signature", Type: "string"},
	{Name: "_count", Type: "long"},
	{Name: "_score", Type: "double"},
	{Name: "_signature_id", Type: "string"},
}

// logreduceImpl is compiled logreduce (signatures).
type logreduceImpl struct {
	text  string
	field string   // the clustered field
	keys  []string // by-fields
	out   *schema
	limit int
	order logreduce.Order
}

func (l *logreduceImpl) output() *schema              { return l.out }
func (l *logreduceImpl) aggregate() bool              { return true }
func (l *logreduceImpl) logsQL(string) (string, bool) { return "", false }
func (l *logreduceImpl) groupLimit() int              { return MaxLogReduceRecords }

func (l *logreduceImpl) explain() string {
	return l.text + " (template mining in Go, one miner per engine worker, merged)"
}

func (l *logreduceImpl) newOperator(next rowSink) rowSink { return newBlockRowOp(l, next, nil) }

func (l *logreduceImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return newBlockRowOp(l, next, x)
}

func (l *logreduceImpl) blockFields() []string {
	return append([]string{l.field}, l.keys...)
}

func (l *logreduceImpl) newPartial() blockPartial { return newMinerState(l.text, len(l.keys)) }

func (l *logreduceImpl) finishPartials(x *runContext, parts []blockPartial, next rowSink) error {
	s, err := mergeMinerStates(parts)
	if err != nil {
		return err
	}
	var rows []Row
	for _, g := range s.sortedGroups() {
		res := g.m.Result()
		cs := res.Clusters
		if l.order != logreduce.ByScore {
			cs = res.Sorted(l.order)
		}
		if l.limit > 0 && len(cs) > l.limit {
			cs = cs[:l.limit]
		}
		for _, c := range cs {
			if len(rows) >= MaxLogReduceRecords {
				return tooManyGroups(l.text, MaxLogReduceRecords)
			}
			row := make(Row, 0, len(l.out.fields))
			for i, k := range l.keys {
				row = append(row, Field{k, g.vals[i]})
			}
			rows = append(rows, append(row, signatureFields(c)...))
		}
	}
	if err := next.push(rows); err != nil {
		return err
	}
	return next.finish()
}

// signatureFields are the record fields of a cluster.
func signatureFields(c *logreduce.Cluster) []Field {
	return []Field{
		{"_signature", SumoSignature(c)},
		{"_count", strconv.FormatInt(c.Count, 10)},
		{"_score", FormatNumber(c.Score)},
		{"_signature_id", c.ID},
	}
}

// SumoSignature is the text of a signature as logreduce outputs it: the
// template with each variable part written "*" (Sumo's notation) instead
// of the library's "<*>". The overflow signature keeps its text.
func SumoSignature(c *logreduce.Cluster) string {
	if c.Overflow {
		return c.Template
	}
	var b strings.Builder
	for _, p := range c.Parts {
		if p.Var {
			b.WriteByte('*')
		} else {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// minerConfig is the configuration of every miner of logreduce and
// logcompare (the library's defaults), so that their states merge.
var minerConfig = logreduce.Config{}

// minerState is the state of logreduce (signatures) over a part of its
// input: one miner per group of the by-fields. It is a blockPartial: add
// receives the clustered field, then the by-fields.
type minerState struct {
	stage  string
	nkeys  int
	groups map[string]*minerGroup
	single *minerGroup
	skels  int // skeletons of all groups, counted with "by" only
	key    []byte
}

type minerGroup struct {
	vals []string
	m    *logreduce.Miner
}

func newMinerState(stage string, nkeys int) *minerState {
	return &minerState{stage: stage, nkeys: nkeys, groups: map[string]*minerGroup{}}
}

func (s *minerState) add(vals []string) error {
	line := vals[0]
	if line == "" {
		return nil // null: the message has nothing to cluster
	}
	if s.nkeys == 0 {
		if s.single == nil {
			s.single = &minerGroup{m: logreduce.New(minerConfig)}
			s.groups[""] = s.single
		}
		s.single.m.Add(line)
		return nil
	}
	s.key = groupKey(s.key[:0], vals[1:])
	g := s.groups[string(s.key)]
	if g == nil {
		if len(s.groups) >= MaxLogReduceGroups {
			return tooManyGroups(s.stage, MaxLogReduceGroups)
		}
		g = &minerGroup{vals: cloneStrings(vals[1:]), m: logreduce.New(minerConfig)}
		s.groups[string(s.key)] = g
	}
	before := g.m.Skeletons()
	g.m.Add(line)
	if g.m.Skeletons() != before {
		s.skels++
		if s.skels > MaxLogReduceSkeletons {
			return errTooManySkeletons(s.stage)
		}
	}
	return nil
}

func errTooManySkeletons(stage string) error {
	return fmt.Errorf("%w: %q keeps more than %d distinct message skeletons over all its groups; group by fewer fields or narrow the query", ErrTooManyGroups, stage, MaxLogReduceSkeletons)
}

func cloneStrings(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Clone(v)
	}
	return out
}

// mergeMinerStates merges the partial states of one stage.
func mergeMinerStates(parts []blockPartial) (*minerState, error) {
	var s *minerState
	for _, bp := range parts {
		o := bp.(*minerState)
		if s == nil {
			s = o
			continue
		}
		for k, og := range o.groups {
			g := s.groups[k]
			if g == nil {
				if len(s.groups) >= MaxLogReduceGroups {
					return nil, tooManyGroups(s.stage, MaxLogReduceGroups)
				}
				s.groups[k] = og
				continue
			}
			if err := g.m.Merge(og.m); err != nil {
				return nil, err
			}
		}
	}
	if s == nil {
		return newMinerState("", 0), nil
	}
	if s.nkeys > 0 {
		n := 0
		for _, g := range s.groups {
			n += g.m.Skeletons()
		}
		if n > MaxLogReduceSkeletons {
			return nil, errTooManySkeletons(s.stage)
		}
	}
	s.single = s.groups[""]
	return s, nil
}

// sortedGroups returns the groups by their values in string order.
func (s *minerState) sortedGroups() []*minerGroup {
	gs := make([]*minerGroup, 0, len(s.groups))
	for _, g := range s.groups {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool {
		a, b := gs[i].vals, gs[j].vals
		for k := range a {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return false
	})
	return gs
}

// miner returns the miner of the single group (logcompare), empty when
// nothing was mined.
func (s *minerState) miner() *logreduce.Miner {
	if g := s.groups[""]; g != nil {
		return g.m
	}
	return logreduce.New(minerConfig)
}

// detailsTest mines the signatures of the search range and returns the
// test keeping the messages of signature id.
func (l *logreduceImpl) detailsTest(r *miningRunner, step int, id string) (rowTest, error) {
	var st *minerState
	holder := &mineHolder{blockAggregator: l, keep: func(parts []blockPartial) error {
		var err error
		st, err = mergeMinerStates(parts)
		return err
	}}
	if err := r.run(step, nil, r.searchRange(), holder); err != nil {
		return nil, err
	}
	results := make(map[string]*logreduce.Result, len(st.groups))
	for k, g := range st.groups {
		results[k] = g.m.Result()
	}
	return func(vals []string) bool {
		if vals[0] == "" {
			return false
		}
		var buf [128]byte
		res := results[string(groupKey(buf[:0], vals[1:]))]
		return res != nil && res.Assign(vals[0]).ID == id
	}, nil
}

// ---- the drill-down: a filter of messages ----

// rowTest tells whether a message (the values of the fields a drill-down
// reads) belongs to the signature. It is safe for concurrent use (the runs
// of one search share it).
type rowTest func(vals []string) bool

// detailsImpl is a drill-down: logreduce ... details <id> (and logreduce
// keys, values and logcompare ... details <id>). It keeps the messages the
// test built by prepare accepts; prepare mines what it needs with the
// run's miningRunner, once per search range (cached).
type detailsImpl struct {
	text    string
	out     *schema
	fields  []string
	prepare func(r *miningRunner, step int) (rowTest, error)
	cache   *mineCache
	// test returns the run's test; set by bindMining.
	test func() (rowTest, error)
}

func newDetailsImpl(s Stage, in *schema, fields []string, prepare func(r *miningRunner, step int) (rowTest, error)) *detailsImpl {
	return &detailsImpl{text: s.String(), out: in, fields: fields, prepare: prepare, cache: &mineCache{}}
}

func (d *detailsImpl) output() *schema              { return d.out }
func (d *detailsImpl) aggregate() bool              { return false }
func (d *detailsImpl) logsQL(string) (string, bool) { return "", false }

func (d *detailsImpl) explain() string {
	return d.text + " (mines the search range first, then keeps the messages of the signature)"
}

func (d *detailsImpl) bindMining(r *miningRunner, step int) stageImpl {
	b := *d
	b.test = func() (rowTest, error) {
		// The signatures are the same for every run over the range; the
		// test itself holds per-operator scratch space.
		v, err := d.cache.get(r.cacheKey(), func() (any, error) {
			return d.prepare(r, step)
		})
		if err != nil {
			return nil, err
		}
		return v.(rowTest), nil
	}
	return &b
}

func (d *detailsImpl) newOperator(next rowSink) rowSink {
	return &detailsOp{impl: d, next: next, vals: make([]string, len(d.fields))}
}

// detailsOp is the drill-down's Go operator.
type detailsOp struct {
	impl *detailsImpl
	next rowSink
	test rowTest
	vals []string
	buf  []Row
}

func (o *detailsOp) push(rows []Row) error {
	if o.test == nil {
		if o.impl.test == nil {
			return errorf(Pos{}, "%s cannot run here: it needs to mine the whole range first", o.impl.text)
		}
		t, err := o.impl.test()
		if err != nil {
			return err
		}
		o.test = t
	}
	o.buf = o.buf[:0]
	for _, r := range rows {
		for i, f := range o.impl.fields {
			o.vals[i] = r.Get(f)
		}
		if o.test(o.vals) {
			o.buf = append(o.buf, r)
		}
	}
	if len(o.buf) == 0 {
		return nil
	}
	return o.next.push(o.buf)
}

func (o *detailsOp) finish() error { return o.next.finish() }

// DrillDownQuery returns the query listing the messages of one signature
// of a logreduce or logcompare query: text up to its first logreduce
// (signatures, keys or values) or logcompare stage, that stage drilling
// into id ("... | logreduce details <id>"). The stages after it shaped the
// records, not the messages, and are left out. id is a _signature_id (or a
// _cluster_id of logreduce values): 16 hex digits.
func DrillDownQuery(text, id string) (string, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if !isSignatureID(id) {
		return "", &Error{Msg: fmt.Sprintf("%q is not a signature id", id), Hint: "a signature id is 16 hex digits, the _signature_id (or _cluster_id) of a logreduce record"}
	}
	q, err := Parse(text)
	if err != nil {
		return "", err
	}
	for i, st := range q.Stages {
		var drill Stage
		switch s := st.(type) {
		case *LogReduceStage:
			if s.NoAggregate {
				continue
			}
			c := *s
			c.Details = id
			drill = &c
		case *LogCompareStage:
			c := *s
			c.Details = id
			drill = &c
		default:
			continue
		}
		out := &Query{Scope: q.Scope, Stages: append(q.Stages[:i:i], drill)}
		if _, err := Compile(out, CompileOptions{PushDown: true}); err != nil {
			return "", err
		}
		return out.String(), nil
	}
	return "", &Error{Pos: q.Position(), Msg: "the query has no logreduce or logcompare stage to drill into", Hint: "drill into the signatures of a query such as \"error | logreduce\""}
}
