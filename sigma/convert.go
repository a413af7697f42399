package sigma

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/monitors"
)

// Options tune a conversion.
type Options struct {
	// Category is the source category of the CloudTrail events (default
	// aws/cloudtrail); it may be an app parameter such as ${category}.
	Category string
	// Frequency and Window of the monitors (default 1m and 15m; a rule's
	// timeframe sets the window of its aggregation).
	Frequency, Window time.Duration
	// Enabled makes the monitors enabled (default: disabled).
	Enabled bool
}

// Conversion is a converted rule.
type Conversion struct {
	Rule *Rule
	// Filter is the query selecting the events the rule matches (its
	// detection, without aggregation).
	Filter string
	// Spec is the monitor.
	Spec *monitors.Spec
	// Aggregate: the rule counts events (| count() ... > N).
	Aggregate bool
	// Notes are caveats of the conversion.
	Notes []string
}

// converter builds the query of one rule.
type converter struct {
	fields map[string]string // JSON path → field name
	order  []string          // paths in order of first use
}

func (c *converter) field(path string) string {
	if f, ok := c.fields[path]; ok {
		return f
	}
	f := "s" + strconv.Itoa(len(c.order)+1)
	c.fields[path] = f
	c.order = append(c.order, path)
	return f
}

// jsonPath writes a Sigma field name as a json operator path: dotted keys,
// bracket-quoted when a key holds other characters.
func jsonPath(field string) string {
	var b strings.Builder
	for i, k := range strings.Split(field, ".") {
		if plainKey(k) {
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
			continue
		}
		b.WriteString("['" + strings.ReplaceAll(k, "'", `\'`) + "']")
	}
	return b.String()
}

func plainKey(k string) bool {
	if k == "" || k[0] == '$' {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// quote writes a string literal of the query language.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// regexLiteral writes /re/, escaping the slashes and line breaks the
// literal cannot hold.
func regexLiteral(re string) string {
	var b strings.Builder
	b.WriteByte('/')
	for i := 0; i < len(re); i++ {
		c := re[i]
		switch {
		case c == '\\' && i+1 < len(re):
			b.WriteByte(c)
			i++
			switch re[i] {
			case '\n':
				b.WriteString("n")
			case '\r':
				b.WriteString("r")
			default:
				b.WriteByte(re[i])
			}
		case c == '/':
			b.WriteString(`\/`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('/')
	return b.String()
}

// pattern is a Sigma string value: literal runs and wildcards.
type pattern []patPart

type patPart struct {
	lit  string
	wild byte // '*' or '?'; 0 for a literal
}

// parsePattern reads a Sigma value: * and ? are wildcards, \* \? \\ their
// literal characters; any other backslash is literal.
func parsePattern(s string) pattern {
	var p pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p = append(p, patPart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			i++
		case c == '*' || c == '?':
			flush()
			p = append(p, patPart{wild: c})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return p
}

func (p pattern) hasWild() bool {
	for _, x := range p {
		if x.wild != 0 {
			return true
		}
	}
	return false
}

// onlyStars reports whether the pattern matches any text.
func (p pattern) onlyStars() bool {
	for _, x := range p {
		if x.wild != '*' {
			return false
		}
	}
	return len(p) > 0
}

func (p pattern) literal() string {
	var b strings.Builder
	for _, x := range p {
		b.WriteString(x.lit)
	}
	return b.String()
}

func (p pattern) regex(cased bool) string {
	var b strings.Builder
	b.WriteString("(?s")
	if !cased {
		b.WriteString("i")
	}
	b.WriteString(")^")
	for _, x := range p {
		switch x.wild {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(x.lit))
		}
	}
	b.WriteString("$")
	return b.String()
}

func parseCIDR(s string) (netip.Prefix, bool, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, false, fmt.Errorf("%q is not a network (CIDR)", s)
	}
	return p.Masked(), p.Addr().Is4(), nil
}

// valueExpr is the expression of one value of a matcher.
func (c *converter) valueExpr(m *matcher, f string, v value) string {
	switch {
	case m.has("exists"):
		if v.s == "true" {
			return "!isNull(" + f + ")"
		}
		return "isNull(" + f + ")"
	case v.null:
		return "isNull(" + f + ")"
	case m.has("fieldref"):
		g := c.field(v.s)
		if m.has("cased") {
			return fmt.Sprintf("(!isNull(%s) and %s = %s)", f, f, g)
		}
		return fmt.Sprintf("(!isNull(%s) and toLowerCase(%s) = toLowerCase(%s))", f, f, g)
	case m.has("re"):
		return f + " matches " + regexLiteral(v.s)
	case m.has("cidr"):
		p, _, _ := parseCIDR(v.s)
		return fmt.Sprintf("compareCIDRPrefix(%s, %s, %d)", quote(p.Addr().String()), f, p.Bits())
	}
	for _, op := range []struct{ mod, op string }{{"gt", ">"}, {"gte", ">="}, {"lt", "<"}, {"lte", "<="}} {
		if m.has(op.mod) {
			return fmt.Sprintf("num(%s) %s %s", f, op.op, v.s)
		}
	}
	var p pattern
	if v.str {
		p = parsePattern(v.s)
	} else {
		p = pattern{{lit: v.s}}
	}
	switch {
	case m.has("contains"):
		p = append(append(pattern{{wild: '*'}}, p...), patPart{wild: '*'})
	case m.has("startswith"):
		p = append(p, patPart{wild: '*'})
	case m.has("endswith"):
		p = append(pattern{{wild: '*'}}, p...)
	}
	cased := m.has("cased")
	switch {
	case len(p) == 0:
		return "isNull(" + f + ")" // '' is null
	case p.onlyStars():
		return "!isNull(" + f + ")"
	case !p.hasWild() && cased:
		return f + " = " + quote(p.literal())
	case !p.hasWild():
		return "toLowerCase(" + f + ") = " + quote(strings.ToLower(p.literal()))
	}
	return f + " matches " + regexLiteral(p.regex(cased))
}

func (c *converter) matcherExpr(m *matcher) string {
	f := "_raw"
	if m.field != "" {
		f = c.field(m.field)
	}
	var parts []string
	for _, v := range m.values {
		parts = append(parts, c.valueExpr(m, f, v))
	}
	op := " or "
	if m.all {
		op = " and "
	}
	return join(parts, op)
}

func join(parts []string, op string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, op) + ")"
}

// joinTop joins parts with op, parenthesized unless top (the whole where
// clause needs no parentheses).
func joinTop(parts []string, op string, top bool) string {
	if top || len(parts) == 1 {
		return strings.Join(parts, op)
	}
	return "(" + strings.Join(parts, op) + ")"
}

func (c *converter) selectionExpr(s *selection, top bool) string {
	var alts []string
	for _, alt := range s.alts {
		var ands []string
		for i := range alt {
			ands = append(ands, c.matcherExpr(&alt[i]))
		}
		alts = append(alts, joinTop(ands, " and ", top && len(s.alts) == 1))
	}
	return joinTop(alts, " or ", top)
}

// condExpr writes a condition; top: it is the whole where clause.
func (c *converter) condExpr(x *cond, d *detection, top bool) string {
	switch x.op {
	case "ref":
		return c.selectionExpr(d.selections[x.ref], top)
	case "not":
		return "!(" + c.condExpr(x.kids[0], d, true) + ")"
	}
	var parts []string
	for _, k := range x.kids {
		parts = append(parts, c.condExpr(k, d, false))
	}
	return joinTop(parts, " "+x.op+" ", top)
}

// Convert converts a rule.
func Convert(r *Rule, opt Options) (*Conversion, error) {
	if opt.Category == "" {
		opt.Category = "aws/cloudtrail"
	}
	if opt.Frequency <= 0 {
		opt.Frequency = time.Minute
	}
	if opt.Window <= 0 {
		opt.Window = 15 * time.Minute
	}
	if !strings.EqualFold(r.LogSource.Product, "aws") || !strings.EqualFold(r.LogSource.Service, "cloudtrail") {
		return nil, unsupported("the log source is not AWS CloudTrail (product %q, service %q, category %q)", r.LogSource.Product, r.LogSource.Service, r.LogSource.Category)
	}
	d, err := parseDetection(&r.Detection)
	if err != nil {
		return nil, err
	}
	c := &converter{fields: map[string]string{}}
	var exprs []string
	var agg *aggregation
	for _, text := range d.conditions {
		main, pipe, hasPipe := strings.Cut(text, "|")
		x, err := parseCondition(main, d)
		if err != nil {
			return nil, err
		}
		if hasPipe {
			if len(d.conditions) > 1 {
				return nil, unsupported("several conditions with an aggregation")
			}
			if agg, err = parseAggregation(pipe); err != nil {
				return nil, err
			}
		}
		exprs = append(exprs, c.condExpr(x, d, len(d.conditions) == 1))
	}
	where := joinTop(exprs, " or ", true)
	conv := &Conversion{Rule: r}
	var b strings.Builder
	b.WriteString("_sourceCategory=" + opt.Category)
	if len(c.order) > 0 {
		b.WriteString("\n| json field=_raw ")
		for i, p := range c.order {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quote(jsonPath(p)))
		}
		b.WriteString(" as ")
		for i, p := range c.order {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.fields[p])
		}
		b.WriteString(" nodrop")
	}
	b.WriteString("\n| where " + where)
	conv.Filter = b.String()

	sev := "warning"
	if l := strings.ToLower(r.Level); l == "high" || l == "critical" {
		sev = "critical"
	}
	window := opt.Window
	q := conv.Filter
	var groupBy []string
	cnd := &monitors.Condition{Field: "_count", Op: ">=", Threshold: 1}
	if agg != nil {
		conv.Aggregate = true
		if d.timeframe > 0 {
			window = d.timeframe
		}
		count := "count as _count"
		if agg.field != "" {
			count = "count_distinct(sigma_counted) as _count"
			q += "\n| json field=_raw " + quote(jsonPath(agg.field)) + " as sigma_counted nodrop"
		}
		if agg.by != "" {
			q += "\n| json field=_raw " + quote(jsonPath(agg.by)) + " as sigma_group nodrop\n| if(isBlank(sigma_group), \"(none)\", sigma_group) as sigma_group"
			q += "\n| " + count + " by sigma_group"
			groupBy = []string{"sigma_group"}
		} else {
			q += "\n| " + count
		}
		cnd = &monitors.Condition{Field: "_count", Op: agg.op, Threshold: agg.n}
	} else {
		if d.timeframe > 0 {
			conv.Notes = append(conv.Notes, "timeframe "+monitors.FormatDuration(d.timeframe)+" ignored: the condition has no aggregation, so each event is judged alone")
		}
		q += "\n| json field=_raw \"userIdentity.arn\", \"sourceIPAddress\", \"eventName\" as principal_arn, src_ip, event_name nodrop" +
			"\n| if(isBlank(principal_arn), \"(unknown)\", principal_arn) as principal_arn" +
			"\n| count as _count, values(event_name) as events, values(src_ip) as source_ips by principal_arn"
		groupBy = []string{"principal_arn"}
	}
	if window < opt.Frequency {
		window = opt.Frequency
	}
	desc := strings.TrimSpace(r.Description)
	meta := []string{fmt.Sprintf("Sigma rule %s", r.ID)}
	if r.Author != "" {
		meta = append(meta, "by "+r.Author)
	}
	meta = append(meta, "(Detection Rule License 1.1)")
	desc += "\n\n" + strings.Join(meta, " ") + "."
	if len(r.FalsePositives) > 0 {
		desc += " False positives: " + strings.Join(r.FalsePositives, "; ") + "."
	}
	if len(r.References) > 0 {
		desc += " References: " + strings.Join(r.References, " ")
	}
	labels := map[string]string{"source": "sigma", "sigma_id": r.ID, "severity": strings.ToLower(r.Level)}
	if r.Status != "" {
		labels["sigma_status"] = r.Status
	}
	if len(r.Tags) > 0 {
		labels["tags"] = strings.Join(r.Tags, ",")
	}
	if r.Author != "" {
		labels["author"] = r.Author
	}
	sp := &monitors.Spec{
		Name: "Sigma - " + strings.TrimSpace(r.Title), Description: desc, Query: q,
		Window: monitors.Duration(window), Frequency: monitors.Duration(opt.Frequency), Delay: monitors.Duration(15 * time.Second),
		GroupBy: groupBy, Labels: labels, Enabled: opt.Enabled,
	}
	if sev == "critical" {
		sp.Triggers.Critical = cnd
	} else {
		sp.Triggers.Warning = cnd
	}
	if err := sp.Validate(); err != nil && !strings.Contains(opt.Category, "${") {
		return nil, fmt.Errorf("the converted query does not compile (a converter bug): %w\n%s", err, q)
	}
	conv.Spec = sp
	return conv, nil
}

// Result is the outcome of converting one rule file.
type Result struct {
	File  string `json:"file"`
	Title string `json:"title,omitempty"`
	ID    string `json:"id,omitempty"`
	Level string `json:"level,omitempty"`
	// Converted reports success; Reason says why not.
	Converted  bool        `json:"converted"`
	Reason     string      `json:"reason,omitempty"`
	Notes      []string    `json:"notes,omitempty"`
	Conversion *Conversion `json:"-"`
}

// ConvertFile converts one rule file.
func ConvertFile(path string, opt Options) Result {
	res := Result{File: path}
	data, err := os.ReadFile(path)
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	r, err := ParseRule(data)
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	res.Title, res.ID, res.Level = r.Title, r.ID, r.Level
	conv, err := Convert(r, opt)
	if err != nil {
		var u *Unsupported
		if errors.As(err, &u) {
			res.Reason = u.Reason
		} else {
			res.Reason = err.Error()
		}
		return res
	}
	res.Converted, res.Notes, res.Conversion = true, conv.Notes, conv
	return res
}

// ConvertDir converts every .yml and .yaml file under dir (recursively),
// in name order.
func ConvertDir(dir string, opt Options) ([]Result, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := make([]Result, 0, len(files))
	for _, f := range files {
		out = append(out, ConvertFile(f, opt))
	}
	return out, nil
}
