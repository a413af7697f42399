package query

import (
	"context"
	"strings"
	"testing"
)

type memThreats struct {
	set   *ThreatIndicators
	loads int
}

func (m *memThreats) ThreatIndicators(context.Context) (*ThreatIndicators, error) {
	m.loads++
	return m.set, nil
}

func TestThreatIndicatorsLookup(t *testing.T) {
	set := NewThreatIndicators([]ThreatIndicator{
		{Indicator: "198.51.100.7", Type: "ipv4", Actor: "A", MaliciousConfidence: "low"},
		{Indicator: "198.51.100.7", Type: "ipv4", Actor: "B", MaliciousConfidence: "high"},
		{Indicator: "198.51.100.0/24", Type: "ipv4-cidr", Actor: "C", MaliciousConfidence: "medium"},
		{Indicator: "198.51.0.0/16", Type: "ipv4-cidr", Actor: "D", MaliciousConfidence: "high"},
		{Indicator: "2001:db8::/32", Type: "ipv6-cidr", Actor: "E", MaliciousConfidence: "high"},
		{Indicator: "2001:db8::1", Type: "ipv6", Actor: "F", MaliciousConfidence: "medium"},
		{Indicator: "203.0.113.9/32", Type: "ipv4-cidr", Actor: "G", MaliciousConfidence: "low"},
		{Indicator: "evil.example.com", Type: "domain", Actor: "H", MaliciousConfidence: "high"},
		{Indicator: "not an indicator", Type: "x"},
	})
	for _, c := range []struct{ ip, actor string }{
		{"198.51.100.7", "B"},             // the most confident of the same address
		{"198.51.100.8", "C"},             // the longest prefix
		{"198.51.7.1", "D"},               // a shorter one
		{"::ffff:198.51.100.9", "C"},      // IPv4-mapped
		{"2001:db8::1", "F"},              // the address over its network
		{"[2001:db8:1::2]", "E"},          // brackets
		{"203.0.113.9", "G"},              // a /32 is an address
		{"203.0.113.10", ""},              // nothing
		{"ec2.amazonaws.com", ""},         // not an address
		{"", ""},                          // null
		{"evil.example.com", ""},          // domains are not IPs
		{"2001:db9::1", ""},               // outside
		{" 198.51.100.7 ", "B"},           // spaces
		{"0:0:0:0:0:ffff:c633:6407", "B"}, // mapped, spelled out
	} {
		ind, ok := set.LookupIP(c.ip)
		got := ""
		if ok {
			got = ind.Actor
		}
		if got != c.actor {
			t.Errorf("LookupIP(%q) = %q, want %q", c.ip, got, c.actor)
		}
	}
	for _, c := range []struct{ d, actor string }{
		{"evil.example.com", "H"}, {"EVIL.example.com.", "H"}, {"a.b.evil.example.com", "H"}, {"example.com", ""}, {"good.example.com", ""},
	} {
		ind, ok := set.LookupDomain(c.d)
		got := ""
		if ok {
			got = ind.Actor
		}
		if got != c.actor {
			t.Errorf("LookupDomain(%q) = %q, want %q", c.d, got, c.actor)
		}
	}
	if set.Len() != 7 {
		t.Errorf("Len = %d, want 7", set.Len())
	}
	var nilSet *ThreatIndicators
	if _, ok := nilSet.LookupIP("1.2.3.4"); ok || nilSet.Len() != 0 {
		t.Error("a nil set matched")
	}
}

func TestThreatIPParse(t *testing.T) {
	for _, c := range []struct{ q, want, err string }{
		{"* | threatip src_ip", "* | threatip src_ip", ""},
		{"* | THREATIP %\"src ip\"", "* | threatip %\"src ip\"", ""},
		{"* | threatip", "", "line 1, column 13: expected a field name holding the IP address after threatip, found end of query; write threatip <field>, e.g. threatip src_ip"},
		{"* | threatip a b", "", "line 1, column 16: unexpected"},
	} {
		q, err := Parse(c.q)
		if c.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), c.err) {
				t.Errorf("Parse(%q) error %v, want %q", c.q, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.q, err)
			continue
		}
		if got := q.String(); got != c.want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.q, got, c.want)
		}
	}
}

// TestThreatIPRun runs threatip over the corpus pushed down and all-Go,
// on messages and after an aggregate.
func TestThreatIPRun(t *testing.T) {
	c := getCorpus(t)
	threats := &memThreats{set: NewThreatIndicators([]ThreatIndicator{
		{Indicator: "10.1.2.0/24", Type: "ipv4-cidr", Actor: "lab", MaliciousConfidence: "medium", RawThreat: `{"id":"x"}`},
		{Indicator: "10.1.2.3", Type: "ipv4", Actor: "mallory", MaliciousConfidence: "high", RawThreat: `{"id":"y"}`},
	})}
	env := &Env{ThreatIntel: threats}
	queries := []string{
		`* | parse regex "(?<ip>\b\d+\.\d+\.\d+\.\d+\b)" | threatip ip | where !isNull(malicious_confidence) | count by ip, actor, malicious_confidence, type | sort by ip`,
		`* | parse regex "(?<ip>\b\d+\.\d+\.\d+\.\d+\b)" | count by ip | threatip ip | where actor = "mallory" | fields ip, actor, raw_threat`,
	}
	for _, text := range queries {
		var outs [2]string
		for i, push := range []bool{true, false} {
			q, err := Parse(text)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Compile(q, CompileOptions{PushDown: push})
			if err != nil {
				t.Fatal(err)
			}
			s := &collectSink{}
			if _, err := p.Execute(context.Background(), c.st, ExecOptions{Range: c.rng, Env: env}, s); err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			var b strings.Builder
			for _, r := range s.records {
				for _, f := range r {
					b.WriteString(f.Name + "=" + f.Value + " ")
				}
				b.WriteString("\n")
			}
			outs[i] = b.String()
		}
		if outs[0] != outs[1] {
			t.Errorf("%s: pushed\n%s\nall-Go\n%s", text, outs[0], outs[1])
		}
		if !strings.Contains(outs[0], "actor=mallory") {
			t.Errorf("%s: no match for 10.1.2.3:\n%s", text, outs[0])
		}
		if strings.Contains(text, "count by ip, actor") && !strings.Contains(outs[0], "ip=10.1.2.30 actor=lab malicious_confidence=medium type=ipv4-cidr") {
			t.Errorf("%s: no network match for 10.1.2.30:\n%s", text, outs[0])
		}
	}
	// Without indicators: an error at the stage, at the start.
	q, _ := Parse(`* | threatip ip`)
	p, _ := Compile(q, CompileOptions{PushDown: true})
	if err := p.CheckEnv(context.Background(), &Env{}); err == nil || !strings.Contains(err.Error(), "line 1, column 5: "+ThreatIntelNotConfigured) {
		t.Errorf("without a store: %v", err)
	}
	if err := p.CheckEnv(context.Background(), env); err != nil {
		t.Errorf("CheckEnv: %v", err)
	}
}
