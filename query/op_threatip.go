package query

import (
	"context"
	"net/netip"
	"sort"
	"strings"
)

// Threat intelligence (spec §7.5):
//
//	threatip <ip field>
//
// looks the address in the field up in the threat intelligence indicators
// of the execution environment (Env.ThreatIntel: the indicator lists
// uploaded as CSV files or STIX 2.1 bundles, package threatintel) and sets
// four fields: actor (who the indicator is attributed to), malicious_confidence
// (high, medium or low), raw_threat (the indicator as its list holds it,
// usually JSON) and type (the indicator type: ipv4, ipv6, ipv4-cidr,
// ipv6-cidr). An address that no list holds gives nulls, so the idiom is
//
//	| threatip src_ip | where !isNull(malicious_confidence)
//
// An address matches an indicator of the same address, or of a network
// (CIDR) holding it; the most specific indicator wins (an address over the
// longest prefix), and between lists holding the same indicator the one
// with the highest confidence. IPv4-mapped IPv6 addresses are looked up as
// IPv4. Text that is not an address (a host name such as
// ec2.amazonaws.com in CloudTrail's sourceIPAddress) matches nothing.
//
// Works on messages and after an aggregate. Go only. Sumo's threatip reads
// CrowdStrike's feed; ours reads the lists the users upload, with the same
// output fields. A run using threatip without a threat intelligence store
// in its environment fails at its start (never silent nulls).

func init() { registerStage("threatip", (*parser).parseThreatIP) }

// ThreatIntelStore gives threatip the indicators.
type ThreatIntelStore interface {
	// ThreatIndicators returns every indicator of every list, merged. The
	// set must not be modified by the caller nor by the store afterwards
	// (a store may hand the same set to several runs).
	ThreatIndicators(ctx context.Context) (*ThreatIndicators, error)
}

// ThreatIndicator is one indicator of compromise.
type ThreatIndicator struct {
	// Indicator is the address or network ("198.51.100.7",
	// "203.0.113.0/24", "2001:db8::/32") or a domain name.
	Indicator string
	// Type is ipv4, ipv6, ipv4-cidr, ipv6-cidr or domain.
	Type string
	// Actor is who the indicator is attributed to; may be empty.
	Actor string
	// MaliciousConfidence is high, medium or low.
	MaliciousConfidence string
	// RawThreat is the indicator as its source holds it (JSON).
	RawThreat string
}

// ThreatIndicators is a set of indicators indexed for lookups.
type ThreatIndicators struct {
	addrs    map[netip.Addr]*ThreatIndicator
	prefixes map[netip.Prefix]*ThreatIndicator
	bits     []int // prefix lengths present, longest first
	domains  map[string]*ThreatIndicator
	n        int
}

// confidenceRank orders confidences: high > medium > low > anything else.
func confidenceRank(c string) int {
	switch strings.ToLower(c) {
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}

// NewThreatIndicators indexes indicators. Indicators that are neither an
// address, a network nor a domain name are ignored. When several hold the
// same address, network or domain, the most confident one is kept.
func NewThreatIndicators(list []ThreatIndicator) *ThreatIndicators {
	t := &ThreatIndicators{addrs: map[netip.Addr]*ThreatIndicator{}, prefixes: map[netip.Prefix]*ThreatIndicator{}, domains: map[string]*ThreatIndicator{}}
	better := func(old, cand *ThreatIndicator) bool {
		return old == nil || confidenceRank(cand.MaliciousConfidence) > confidenceRank(old.MaliciousConfidence)
	}
	bits := map[int]bool{}
	for i := range list {
		ind := &list[i]
		s := strings.TrimSpace(ind.Indicator)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				continue
			}
			p = p.Masked()
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked()
			}
			if p.IsSingleIP() {
				if better(t.addrs[p.Addr()], ind) {
					t.addrs[p.Addr()] = ind
				}
				continue
			}
			if better(t.prefixes[p], ind) {
				t.prefixes[p] = ind
			}
			bits[p.Bits()<<1|boolBit(p.Addr().Is4())] = true
			continue
		}
		if ip, ok := threatAddr(s); ok {
			if better(t.addrs[ip], ind) {
				t.addrs[ip] = ind
			}
			continue
		}
		if d := strings.ToLower(strings.TrimSuffix(s, ".")); d != "" && strings.Contains(d, ".") && !strings.ContainsAny(d, " \t/:@") {
			if better(t.domains[d], ind) {
				t.domains[d] = ind
			}
		}
	}
	for b := range bits {
		t.bits = append(t.bits, b)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(t.bits)))
	t.n = len(t.addrs) + len(t.prefixes) + len(t.domains)
	return t
}

func boolBit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Len returns the number of distinct indicators.
func (t *ThreatIndicators) Len() int {
	if t == nil {
		return 0
	}
	return t.n
}

// threatAddr parses an address; IPv4-mapped IPv6 becomes IPv4, zones are
// dropped, brackets allowed.
func threatAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap().WithZone(""), true
}

// LookupIP returns the indicator matching the address text s: the address
// itself, else the longest network holding it.
func (t *ThreatIndicators) LookupIP(s string) (*ThreatIndicator, bool) {
	if t == nil {
		return nil, false
	}
	ip, ok := threatAddr(s)
	if !ok {
		return nil, false
	}
	if ind := t.addrs[ip]; ind != nil {
		return ind, true
	}
	v4 := boolBit(ip.Is4())
	for _, b := range t.bits {
		if b&1 != v4 {
			continue
		}
		p, err := ip.Prefix(b >> 1)
		if err != nil {
			continue
		}
		if ind := t.prefixes[p]; ind != nil {
			return ind, true
		}
	}
	return nil, false
}

// LookupDomain returns the indicator of a domain name or of a parent
// domain of it.
func (t *ThreatIndicators) LookupDomain(s string) (*ThreatIndicator, bool) {
	if t == nil {
		return nil, false
	}
	d := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	for d != "" {
		if ind := t.domains[d]; ind != nil {
			return ind, true
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok || !strings.Contains(rest, ".") {
			break
		}
		d = rest
	}
	return nil, false
}

// threatFields are threatip's output fields, in order.
var threatFields = []string{"actor", "malicious_confidence", "raw_threat", "type"}

func threatValues(ind *ThreatIndicator) []string {
	return []string{ind.Actor, ind.MaliciousConfidence, ind.RawThreat, ind.Type}
}

// ThreatIPStage is "threatip <field>".
type ThreatIPStage struct {
	Pos   Pos
	Field FieldRef
}

// Position implements Node.
func (s *ThreatIPStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *ThreatIPStage) Name() string { return "threatip" }

func (s *ThreatIPStage) aggregate() bool { return false }

func (s *ThreatIPStage) walkFields(fn func(FieldRef)) { fn(s.Field) }

// String implements Node.
func (s *ThreatIPStage) String() string { return "threatip " + s.Field.String() }

// parseThreatIP parses a threatip stage; the current token is "threatip".
func (p *parser) parseThreatIP() (Stage, *Error) {
	st := &ThreatIPStage{Pos: p.tok.pos}
	p.advance()
	f, err := p.parseFieldRef("holding the IP address after threatip")
	if err != nil {
		return nil, err.withHint("write threatip <field>, e.g. threatip src_ip")
	}
	st.Field = f
	if err := p.expectStageEnd("threatip"); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *ThreatIPStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	if _, err := c.resolveField(s.Field, in); err != nil {
		return nil, err
	}
	t := &threatImpl{text: s.String(), pos: s.Pos, ipField: s.Field.Name, in: in}
	out := &schema{records: in.records, fields: append([]FieldInfo(nil), in.fields...)}
	for _, n := range threatFields {
		out.fields = setSchemaField(out.fields, FieldInfo{Name: n, Type: "string"})
	}
	t.out = out
	return t, nil
}

// threatImpl is a compiled threatip.
type threatImpl struct {
	text    string
	pos     Pos
	ipField string
	in, out *schema
}

func (t *threatImpl) output() *schema              { return t.out }
func (t *threatImpl) aggregate() bool              { return false }
func (t *threatImpl) logsQL(string) (string, bool) { return "", false }
func (t *threatImpl) explain() string              { return t.text }
func (t *threatImpl) newOperator(next rowSink) rowSink {
	return &unboundOp{what: "threatip", next: next}
}

// ThreatIntelNotConfigured is the message of a run that uses threatip
// without a threat intelligence store.
const ThreatIntelNotConfigured = "threatip needs threat intelligence indicators, and none are available here"

func (t *threatImpl) bind(ctx context.Context, b *binding) (stageImpl, error) {
	if b.env.ThreatIntel == nil {
		return nil, errorf(t.pos, ThreatIntelNotConfigured).
			withHint("upload an indicator list with 'dohyo threat import FILE --name NAME' (CSV or a STIX 2.1 bundle)")
	}
	set, err := b.env.ThreatIntel.ThreatIndicators(ctx)
	if err != nil {
		return nil, err
	}
	return &boundThreat{threatImpl: t, set: set}, nil
}

// boundThreat is threatip bound to the indicators of a run.
type boundThreat struct {
	*threatImpl
	set *ThreatIndicators
}

func (t *boundThreat) newOperator(next rowSink) rowSink {
	op := &threatOp{t: t, next: next, nulls: make([]string, len(threatFields))}
	if t.out.records {
		op.rec = newRecordSetter(t.in, t.out, threatFields)
	}
	return op
}

// threatOp is the Go threatip.
type threatOp struct {
	t     *boundThreat
	next  rowSink
	rec   *recordSetter
	nulls []string
	buf   []Row
}

func (o *threatOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	for _, r := range rows {
		vals := o.nulls
		if v := r.Get(o.t.ipField); v != "" {
			if ind, ok := o.t.set.LookupIP(v); ok {
				vals = threatValues(ind)
			}
		}
		if o.rec != nil {
			o.buf = append(o.buf, o.rec.set(r, vals))
		} else {
			o.buf = append(o.buf, setMessageFields(r, threatFields, vals))
		}
	}
	return o.next.push(o.buf)
}

func (o *threatOp) finish() error { return o.next.finish() }
