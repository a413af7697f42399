package threatintel

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dohyo/dohyo/query"
)

// stixObject is the part of a STIX 2.1 object the import reads.
type stixObject struct {
	Type        string   `json:"type"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Pattern     string   `json:"pattern"`
	PatternType string   `json:"pattern_type"`
	Confidence  *float64 `json:"confidence"`
	ValidUntil  string   `json:"valid_until"`
	Revoked     bool     `json:"revoked"`
	Labels      []string `json:"labels"`
	// Relationships.
	RelationshipType string `json:"relationship_type"`
	SourceRef        string `json:"source_ref"`
	TargetRef        string `json:"target_ref"`
	// Cyber observables (ipv4-addr, ipv6-addr, domain-name).
	Value string `json:"value"`
}

// patternTerm matches a comparison of an address or domain observable in
// a STIX pattern: [ipv4-addr:value = '198.51.100.7'],
// [ipv4-addr:value ISSUBSET '203.0.113.0/24'], [domain-name:value = 'x'].
var patternTerm = regexp.MustCompile(`(?i)\b(ipv4-addr|ipv6-addr|domain-name):value\s*(=|ISSUBSET|IN)\s*(\('(?:[^'\\]|\\.)*'(?:\s*,\s*'(?:[^'\\]|\\.)*')*\)|'(?:[^'\\]|\\.)*')`)
var quoted = regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`)

// ParseSTIX reads a STIX 2.1 bundle: its indicator objects whose STIX
// pattern compares ipv4-addr, ipv6-addr or domain-name values (an
// indicator's other terms are ignored; one without such a term is
// skipped), and its ipv4-addr, ipv6-addr and domain-name observables.
// The actor is the name of the threat-actor, intrusion-set, campaign or
// malware an "indicates" relationship points to; the confidence maps
// STIX's 0–100 scale to high (75+), medium (40+) and low. Expired and
// revoked indicators are skipped.
func ParseSTIX(data []byte, source string) (*Parsed, error) {
	var bundle struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &bundle); err != nil {
		return nil, fmt.Errorf("%s: not a STIX 2.1 bundle (JSON): %v", source, err)
	}
	if bundle.Type != "bundle" {
		return nil, fmt.Errorf("%s: not a STIX 2.1 bundle: its \"type\" is %q, want \"bundle\"", source, bundle.Type)
	}
	objs := make([]stixObject, len(bundle.Objects))
	names := map[string]string{}
	for i, raw := range bundle.Objects {
		if err := json.Unmarshal(raw, &objs[i]); err != nil {
			return nil, fmt.Errorf("%s: objects[%d]: %v", source, i, err)
		}
		switch objs[i].Type {
		case "threat-actor", "intrusion-set", "campaign", "malware":
			names[objs[i].ID] = objs[i].Name
		}
	}
	actors := map[string]string{}
	for _, o := range objs {
		if o.Type == "relationship" && o.RelationshipType == "indicates" && names[o.TargetRef] != "" && actors[o.SourceRef] == "" {
			actors[o.SourceRef] = names[o.TargetRef]
		}
	}
	out := &Parsed{Format: "stix"}
	now := time.Now()
	for i, o := range objs {
		switch o.Type {
		case "indicator":
		case "ipv4-addr", "ipv6-addr", "domain-name":
			canon, typ, err := Classify(o.Value)
			if err != nil {
				out.skip("objects[%d] (%s): %v", i, o.ID, err)
				continue
			}
			out.Indicators = append(out.Indicators, query.ThreatIndicator{Indicator: canon, Type: typ, RawThreat: clip(compactRaw(bundle.Objects[i]))})
			continue
		default:
			continue
		}
		where := fmt.Sprintf("objects[%d] (%s)", i, o.ID)
		if o.PatternType != "" && o.PatternType != "stix" {
			out.skip("%s: pattern_type %q is not stix", where, o.PatternType)
			continue
		}
		if o.Revoked {
			out.skip("%s: revoked", where)
			continue
		}
		if o.ValidUntil != "" {
			if t, err := time.Parse(time.RFC3339Nano, o.ValidUntil); err == nil && t.Before(now) {
				out.skip("%s: expired (valid_until %s)", where, o.ValidUntil)
				continue
			}
		}
		conf := ""
		if o.Confidence != nil {
			c, err := Confidence(fmt.Sprint(*o.Confidence))
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", source, where, err)
			}
			conf = c
		}
		terms := patternTerm.FindAllStringSubmatch(o.Pattern, -1)
		if len(terms) == 0 {
			out.skip("%s: its pattern %q has no ipv4-addr, ipv6-addr or domain-name value", where, o.Pattern)
			continue
		}
		raw := clip(compactRaw(bundle.Objects[i]))
		if len(raw) >= maxRaw {
			raw = clip(compactJSON(map[string]string{"type": "indicator", "id": o.ID, "name": o.Name, "pattern": o.Pattern}))
		}
		for _, t := range terms {
			for _, q := range quoted.FindAllStringSubmatch(t[3], -1) {
				v := strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(q[1])
				canon, typ, err := Classify(v)
				if err != nil {
					out.skip("%s: %v", where, err)
					continue
				}
				out.Indicators = append(out.Indicators, query.ThreatIndicator{Indicator: canon, Type: typ, Actor: actors[o.ID],
					MaliciousConfidence: conf, RawThreat: raw})
			}
		}
	}
	if len(out.Indicators) == 0 {
		msg := fmt.Sprintf("%s: the bundle holds no IPv4, IPv6 or domain indicator", source)
		if len(out.Reasons) > 0 {
			msg += " (" + strings.Join(out.Reasons, "; ") + ")"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	return out, nil
}

func compactRaw(raw json.RawMessage) string {
	var b strings.Builder
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return strings.TrimSpace(b.String())
}

func compactJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return strings.TrimSpace(b.String())
}
