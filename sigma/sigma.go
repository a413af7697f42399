// Package sigma converts Sigma rules (https://sigmahq.io) whose log source
// is AWS CloudTrail into dohyo monitors: the rule's detection becomes a
// query in the Sumo query language over the CloudTrail events, and the rule
// a monitor (package monitors) alerting on every match.
//
// # What converts
//
//   - Log source: product aws, service cloudtrail. Other rules are
//     reported as not converted.
//   - Search identifiers: maps (field conditions, all must hold) and lists
//     of maps (one must hold); lists of plain values under "keywords" (or
//     any identifier) search the whole event text.
//   - Values: strings with the wildcards * and ? (\* \? \\ escape them),
//     numbers, booleans, null (the field is absent or empty), lists (one
//     must match; all with the "all" modifier).
//   - Modifiers: contains, startswith, endswith, all, re, cidr, exists,
//     cased, gt, gte, lt, lte, fieldref.
//   - Conditions: and, or, not, parentheses, "1 of x*", "all of x*", "1 of
//     them", "all of them", several conditions (a list: any), and the
//     aggregation "| count([field]) [by field] op N" with the rule's
//     timeframe as the monitor's window.
//   - Not converted (and reported why): other log sources, placeholders
//     (%name%, expand), base64/base64offset/utf16/windash modifiers, near,
//     other aggregations.
//
// # Semantics
//
// Field names are CloudTrail JSON paths (userIdentity.arn): a dotted path
// of object keys (arrays are not traversed). The value compared is the
// JSON value as text: strings unescaped, numbers as written, true/false,
// objects and arrays as compact JSON. Strings match without regard to case
// (Sigma's default), except with re (a case-sensitive RE2 search) and
// cased. A field that is absent, JSON null or "" is null: it matches null
// only (dohyo stores an empty value as missing). A condition on a null
// field is false, so "not" of it is true.
package sigma

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Rule is a parsed Sigma rule.
type Rule struct {
	Title          string   `yaml:"title"`
	ID             string   `yaml:"id"`
	Status         string   `yaml:"status"`
	Description    string   `yaml:"description"`
	Author         string   `yaml:"author"`
	References     []string `yaml:"references"`
	Tags           []string `yaml:"tags"`
	Level          string   `yaml:"level"`
	FalsePositives []string `yaml:"falsepositives"`
	LogSource      struct {
		Product  string `yaml:"product"`
		Service  string `yaml:"service"`
		Category string `yaml:"category"`
	} `yaml:"logsource"`
	Detection yaml.Node `yaml:"detection"`
}

// ParseRule parses a rule's YAML.
func ParseRule(data []byte) (*Rule, error) {
	var r Rule
	if err := yaml.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a valid Sigma rule: %w", err)
	}
	if r.Detection.Kind == 0 {
		return nil, errors.New("the rule has no detection")
	}
	return &r, nil
}

// Unsupported is the error of a rule that cannot be converted; Reason
// says why.
type Unsupported struct{ Reason string }

func (e *Unsupported) Error() string { return e.Reason }

func unsupported(format string, args ...any) error {
	return &Unsupported{Reason: fmt.Sprintf(format, args...)}
}

// ---- the detection's model ----

// matcher is one comparison of a field (or of the whole event text).
type matcher struct {
	field string // JSON path; "" for keywords (the whole event)
	mods  []string
	// values are the alternatives (or all of them, with "all").
	values []value
	all    bool
}

// value is one value of a field condition.
type value struct {
	null bool
	s    string // the text; for strings, with Sigma escapes kept
	str  bool   // a YAML string (wildcards apply)
}

// selection is a search identifier: maps, each an AND of matchers, ORed.
type selection struct {
	alts [][]matcher
}

// detection is a rule's searches and conditions.
type detection struct {
	names      []string // in the rule's order
	selections map[string]*selection
	conditions []string
	timeframe  time.Duration
}

var knownMods = map[string]bool{"contains": true, "startswith": true, "endswith": true, "all": true, "re": true, "cidr": true,
	"exists": true, "cased": true, "gt": true, "gte": true, "lt": true, "lte": true, "fieldref": true}

var unsupportedMods = map[string]string{
	"base64": "base64", "base64offset": "base64offset", "utf16le": "UTF-16", "utf16be": "UTF-16", "utf16": "UTF-16", "wide": "UTF-16",
	"windash": "windash", "expand": "placeholder expansion (expand)", "i": "regex flags", "m": "regex flags", "s": "regex flags",
}

func scalarValue(n *yaml.Node) (value, error) {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return value{null: true}, nil
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		return value{s: n.Value, str: true}, nil
	case n.Kind == yaml.ScalarNode:
		return value{s: n.Value}, nil
	}
	return value{}, unsupported("a value that is a %s, not a plain value", kindName(n))
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "map"
	case yaml.SequenceNode:
		return "list"
	}
	return "scalar"
}

// parseMatcher reads "field|mod|mod: value(s)".
func parseMatcher(key string, v *yaml.Node) (matcher, error) {
	parts := strings.Split(key, "|")
	m := matcher{field: strings.TrimSpace(parts[0])}
	for _, mod := range parts[1:] {
		mod = strings.ToLower(strings.TrimSpace(mod))
		if what, bad := unsupportedMods[mod]; bad {
			return m, unsupported("the %s modifier (%s) is not supported", what, key)
		}
		if !knownMods[mod] {
			return m, unsupported("unknown modifier %q in %s", mod, key)
		}
		if mod == "all" {
			m.all = true
			continue
		}
		m.mods = append(m.mods, mod)
	}
	if m.field == "" {
		return m, unsupported("an empty field name")
	}
	var nodes []*yaml.Node
	if v.Kind == yaml.SequenceNode {
		nodes = v.Content
	} else {
		nodes = []*yaml.Node{v}
	}
	if len(nodes) == 0 {
		return m, unsupported("%s has an empty list of values", key)
	}
	for _, n := range nodes {
		val, err := scalarValue(n)
		if err != nil {
			return m, err
		}
		if val.str && strings.Count(val.s, "%") >= 2 && placeholderRE.MatchString(val.s) {
			return m, unsupported("the value %q of %s is a placeholder", val.s, key)
		}
		m.values = append(m.values, val)
	}
	if err := m.check(key); err != nil {
		return m, err
	}
	return m, nil
}

var placeholderRE = regexp.MustCompile(`%[A-Za-z0-9_]+%`)

func (m *matcher) has(mod string) bool {
	for _, x := range m.mods {
		if x == mod {
			return true
		}
	}
	return false
}

// check rejects combinations that make no sense.
func (m *matcher) check(key string) error {
	n := 0
	for _, mod := range []string{"contains", "startswith", "endswith", "re", "cidr", "exists", "gt", "gte", "lt", "lte", "fieldref"} {
		if m.has(mod) {
			n++
		}
	}
	if n > 1 {
		return unsupported("%s combines modifiers that exclude each other", key)
	}
	for _, v := range m.values {
		if v.null && len(m.mods) > 0 && !m.has("cased") {
			return unsupported("%s compares null with a modifier", key)
		}
		if m.has("re") {
			if _, err := regexp.Compile(v.s); err != nil {
				return unsupported("%s: the regular expression %q is not RE2: %v", key, v.s, err)
			}
		}
		if m.has("cidr") {
			if _, _, err := parseCIDR(v.s); err != nil {
				return unsupported("%s: %v", key, err)
			}
		}
		for _, mod := range []string{"gt", "gte", "lt", "lte"} {
			if m.has(mod) {
				if _, err := strconv.ParseFloat(v.s, 64); err != nil {
					return unsupported("%s: %q is not a number", key, v.s)
				}
			}
		}
		if m.has("exists") && v.s != "true" && v.s != "false" {
			return unsupported("%s: exists takes true or false", key)
		}
		if m.has("fieldref") && (v.null || v.s == "") {
			return unsupported("%s: fieldref needs a field name", key)
		}
	}
	return nil
}

func parseSelection(name string, n *yaml.Node) (*selection, error) {
	sel := &selection{}
	switch n.Kind {
	case yaml.MappingNode:
		alt, err := parseMap(n)
		if err != nil {
			return nil, err
		}
		sel.alts = append(sel.alts, alt)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, unsupported("the search %s is an empty list", name)
		}
		var keywords []value
		for _, item := range n.Content {
			switch item.Kind {
			case yaml.MappingNode:
				alt, err := parseMap(item)
				if err != nil {
					return nil, err
				}
				sel.alts = append(sel.alts, alt)
			case yaml.ScalarNode:
				v, err := scalarValue(item)
				if err != nil {
					return nil, err
				}
				if v.null {
					return nil, unsupported("the search %s has a null keyword", name)
				}
				keywords = append(keywords, value{s: v.s, str: true})
			default:
				return nil, unsupported("the search %s has a nested list", name)
			}
		}
		if len(keywords) > 0 {
			sel.alts = append(sel.alts, []matcher{{mods: []string{"contains"}, values: keywords}})
		}
	default:
		return nil, unsupported("the search %s is a %s, not a map or a list", name, kindName(n))
	}
	return sel, nil
}

func parseMap(n *yaml.Node) ([]matcher, error) {
	if len(n.Content) == 0 {
		return nil, unsupported("an empty map of field conditions")
	}
	var out []matcher
	for i := 0; i+1 < len(n.Content); i += 2 {
		m, err := parseMatcher(n.Content[i].Value, n.Content[i+1])
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func parseDetection(n *yaml.Node) (*detection, error) {
	if n.Kind != yaml.MappingNode {
		return nil, unsupported("the detection is not a map")
	}
	d := &detection{selections: map[string]*selection{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, v := n.Content[i].Value, n.Content[i+1]
		switch key {
		case "condition":
			switch v.Kind {
			case yaml.ScalarNode:
				d.conditions = []string{v.Value}
			case yaml.SequenceNode:
				for _, c := range v.Content {
					d.conditions = append(d.conditions, c.Value)
				}
			}
			continue
		case "timeframe":
			tf, err := parseTimeframe(v.Value)
			if err != nil {
				return nil, err
			}
			d.timeframe = tf
			continue
		}
		sel, err := parseSelection(key, v)
		if err != nil {
			return nil, err
		}
		d.names = append(d.names, key)
		d.selections[key] = sel
	}
	if len(d.conditions) == 0 {
		return nil, unsupported("the detection has no condition")
	}
	return d, nil
}

func parseTimeframe(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, unsupported("timeframe %q", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, unsupported("timeframe %q", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'M': 30 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, unsupported("timeframe %q", s)
	}
	return time.Duration(n) * unit, nil
}

// ---- conditions ----

// cond is a condition's syntax tree.
type cond struct {
	op   string // "and", "or", "not", "ref"
	kids []*cond
	ref  string
}

type condParser struct {
	toks []string
	i    int
	d    *detection
}

var condTokenRE = regexp.MustCompile(`\(|\)|[^\s()]+`)

// parseCondition parses a condition without its aggregation part.
func parseCondition(text string, d *detection) (*cond, error) {
	p := &condParser{toks: condTokenRE.FindAllString(text, -1), d: d}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, unsupported("condition %q: unexpected %q", text, p.toks[p.i])
	}
	return c, nil
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return strings.ToLower(p.toks[p.i])
	}
	return ""
}

func (p *condParser) or() (*cond, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek() == "or" {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &cond{op: "or", kids: []*cond{l, r}}
	}
	return l, nil
}

func (p *condParser) and() (*cond, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peek() == "and" {
		p.i++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &cond{op: "and", kids: []*cond{l, r}}
	}
	return l, nil
}

func (p *condParser) not() (*cond, error) {
	if p.peek() == "not" {
		p.i++
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return &cond{op: "not", kids: []*cond{c}}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (*cond, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, unsupported("the condition ends too early")
	case t == "(":
		p.i++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, unsupported("the condition misses a closing parenthesis")
		}
		p.i++
		return c, nil
	case t == "near":
		return nil, unsupported("the near correlation is not supported")
	case t == "1" || t == "all" || t == "any":
		p.i++
		if p.peek() != "of" {
			return nil, unsupported("expected \"of\" after %q in the condition", t)
		}
		p.i++
		if p.i >= len(p.toks) {
			return nil, unsupported("the condition ends after \"of\"")
		}
		pat := p.toks[p.i]
		p.i++
		names := p.d.match(pat)
		if len(names) == 0 {
			return nil, unsupported("no search identifier matches %q", pat)
		}
		op := "or"
		if t == "all" {
			op = "and"
		}
		c := &cond{op: op}
		for _, n := range names {
			c.kids = append(c.kids, &cond{op: "ref", ref: n})
		}
		if len(c.kids) == 1 {
			return c.kids[0], nil
		}
		return c, nil
	}
	name := p.toks[p.i]
	p.i++
	if _, ok := p.d.selections[name]; !ok {
		return nil, unsupported("the condition names %q, which the detection does not define", name)
	}
	return &cond{op: "ref", ref: name}, nil
}

// match returns the search identifiers a pattern (with * wildcards, or
// "them") names, in the rule's order.
func (d *detection) match(pat string) []string {
	var out []string
	for _, n := range d.names {
		if pat == "them" || globMatch(pat, n) {
			out = append(out, n)
		}
	}
	return out
}

// globMatch matches a name against a pattern with * (any run) and ?
// (one character), case-sensitive.
func globMatch(pat, s string) bool {
	if pat == "" {
		return s == ""
	}
	switch pat[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(pat[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globMatch(pat[1:], s[1:])
	}
	return s != "" && s[0] == pat[0] && globMatch(pat[1:], s[1:])
}

// aggregation is "| count([field]) [by field] op N".
type aggregation struct {
	field, by, op string
	n             float64
}

var aggRE = regexp.MustCompile(`^count\(\s*([A-Za-z0-9_.\-]*)\s*\)\s*(?:by\s+([A-Za-z0-9_.\-]+)\s*)?(>=|<=|>|<|=)\s*(\d+(?:\.\d+)?)$`)

func parseAggregation(s string) (*aggregation, error) {
	m := aggRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil, unsupported("the aggregation %q is not supported (only count([field]) [by field] <op> N)", strings.TrimSpace(s))
	}
	n, _ := strconv.ParseFloat(m[4], 64)
	op := m[3]
	if op == "=" {
		op = "=="
	}
	return &aggregation{field: m[1], by: m[2], op: op, n: n}, nil
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
