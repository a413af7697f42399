package threatintel

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dohyo/dohyo/catalog"
)

const bundle = `{
  "type": "bundle", "id": "bundle--1",
  "objects": [
    {"type": "threat-actor", "id": "threat-actor--a", "name": "Sandworm"},
    {"type": "indicator", "id": "indicator--1", "spec_version": "2.1", "pattern_type": "stix", "confidence": 85,
     "pattern": "[ipv4-addr:value = '198.51.100.7'] OR [ipv4-addr:value ISSUBSET '203.0.113.0/24']"},
    {"type": "indicator", "id": "indicator--2", "pattern_type": "stix", "confidence": 50,
     "pattern": "[domain-name:value = 'Evil.Example.COM']"},
    {"type": "indicator", "id": "indicator--3", "pattern_type": "stix",
     "pattern": "[ipv6-addr:value = '2001:db8::7']"},
    {"type": "indicator", "id": "indicator--4", "pattern_type": "stix",
     "pattern": "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"},
    {"type": "indicator", "id": "indicator--5", "pattern_type": "stix", "valid_until": "2001-01-01T00:00:00Z",
     "pattern": "[ipv4-addr:value = '192.0.2.99']"},
    {"type": "relationship", "id": "relationship--1", "relationship_type": "indicates",
     "source_ref": "indicator--1", "target_ref": "threat-actor--a"}
  ]
}`

func TestParseSTIX(t *testing.T) {
	p, err := Parse([]byte(bundle), "feed.json")
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != "stix" || p.Skipped != 2 {
		t.Fatalf("format %s, skipped %d (%v)", p.Format, p.Skipped, p.Reasons)
	}
	got := map[string]string{}
	for _, in := range p.Indicators {
		got[in.Indicator] = in.Type + "|" + in.Actor + "|" + in.MaliciousConfidence
	}
	want := map[string]string{
		"198.51.100.7":     "ipv4|Sandworm|high",
		"203.0.113.0/24":   "ipv4-cidr|Sandworm|high",
		"evil.example.com": "domain||medium",
		"2001:db8::7":      "ipv6||",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if _, err := Parse([]byte(`{"type":"bundle","objects":[{"type":"indicator","id":"indicator--9","pattern":"[url:value = 'http://x']"}]}`), "u.json"); err == nil ||
		!strings.Contains(err.Error(), "no IPv4, IPv6 or domain indicator") {
		t.Fatalf("bundle without usable indicators: %v", err)
	}
	if _, err := Parse([]byte(`{"type":"report"}`), "r.json"); err == nil || !strings.Contains(err.Error(), `want "bundle"`) {
		t.Fatalf("not a bundle: %v", err)
	}
}

func TestParseCSV(t *testing.T) {
	p, err := Parse([]byte("ip,actor,confidence\n198.51.100.7,APT1,90\n# comment\n10.0.0.0/8,,low\nexample.org.,,\n"), "l.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Indicators) != 3 || p.Indicators[0].Actor != "APT1" || p.Indicators[0].MaliciousConfidence != "high" ||
		p.Indicators[1].Type != "ipv4-cidr" || p.Indicators[2].Indicator != "example.org" || p.Indicators[2].Type != "domain" {
		t.Fatalf("%+v", p.Indicators)
	}
	for _, c := range []struct{ in, want string }{
		{"name,actor\nx,y\n", "has no indicator column"},
		{"indicator\n1.2.3.4\nnot an ip\n", "line 3: \"not an ip\" is not an IPv4"},
		{"indicator,confidence\n1.2.3.4,very\n", "line 2: confidence \"very\""},
		{"indicator,type\n1.2.3.4,domain\n", "line 2: type \"domain\""},
		{"indicator\n", "no indicators"},
	} {
		if _, err := Parse([]byte(c.in), "l.csv"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.in, err, c.want)
		}
	}
}

func TestImportAndStore(t *testing.T) {
	ctx := context.Background()
	cat, err := catalog.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	st := &Store{Catalog: cat}
	set, err := st.ThreatIndicators(ctx)
	if err != nil || set.Len() != 0 {
		t.Fatalf("empty: %v %v", set.Len(), err)
	}
	p, _ := Parse([]byte(bundle), "feed.json")
	l, err := Import(ctx, cat, "feed", "", p.Indicators, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "feed" || l.Table != "/threatintel/feed" || l.RowCount != 4 {
		t.Fatalf("%+v", l)
	}
	set, err = st.ThreatIndicators(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in, ok := set.LookupIP("203.0.113.77"); !ok || in.Actor != "Sandworm" {
		t.Fatalf("network lookup: %+v %v", in, ok)
	}
	if _, ok := set.LookupIP("192.0.2.99"); ok {
		t.Fatal("an expired indicator matched")
	}
	// A second list merges; replacing a list drops its old indicators.
	p2, _ := Parse([]byte("indicator\n192.0.2.1\n"), "x.csv")
	if _, err := Import(ctx, cat, "extra", "", p2.Indicators, "admin"); err != nil {
		t.Fatal(err)
	}
	p3, _ := Parse([]byte("indicator\n198.51.100.200\n"), "y.csv")
	if _, err := Import(ctx, cat, "feed", "", p3.Indicators, "admin"); err != nil {
		t.Fatal(err)
	}
	set, _ = st.ThreatIndicators(ctx)
	for ip, want := range map[string]bool{"192.0.2.1": true, "198.51.100.200": true, "198.51.100.7": false} {
		if _, ok := set.LookupIP(ip); ok != want {
			t.Errorf("%s: matched %v, want %v", ip, ok, want)
		}
	}
	lists, err := Lists(ctx, cat)
	if err != nil || len(lists) != 2 {
		t.Fatalf("%d lists, %v", len(lists), err)
	}
	if err := Delete(ctx, cat, "extra"); err != nil {
		t.Fatal(err)
	}
	set, _ = st.ThreatIndicators(ctx)
	if _, ok := set.LookupIP("192.0.2.1"); ok {
		t.Fatal("deleted list still matches")
	}
	if _, err := Import(ctx, cat, "../x", "", p3.Indicators, "admin"); err == nil {
		t.Fatal("bad name accepted")
	}
}
