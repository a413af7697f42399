package logreduce

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeySchema(t *testing.T) {
	for _, tc := range []struct {
		event  string
		parser KeyParser
		depth  int
		schema string
	}{
		{`{"b":1,"a":{"y":2,"x":[1,2]},"c":null}`, ParseJSON, 5, `["a.x","a.y","b","c"]`},
		{`{"b":1,"a":{"y":2,"x":{"z":1}}}`, ParseJSON, 2, `["a.x","a.y","b"]`},
		{`{"a":{}}`, ParseJSON, 5, `["a"]`},
		{`not json`, ParseJSON, 5, "unknown"},
		{`[1,2]`, ParseJSON, 5, "unknown"},
		{`user=bob action=login user=x ip=1.2.3.4`, ParseKeyValue, 5, `["action","ip","user"]`},
		{`no pairs = here`, ParseKeyValue, 5, "unknown"},
	} {
		schema, id, ok := KeySchema(tc.event, tc.parser, tc.depth)
		if schema != tc.schema {
			t.Errorf("%s: schema %s, want %s", tc.event, schema, tc.schema)
		}
		if ok != (schema != "unknown") || (ok && id != signatureID(schema)) || (!ok && id != UnstructuredID) {
			t.Errorf("%s: id %s ok %v", tc.event, id, ok)
		}
	}
	// key order does not matter
	a, _, _ := KeySchema(`{"x":1,"y":2}`, ParseJSON, 0)
	b, _, _ := KeySchema(`{"y":"v","x":[]}`, ParseJSON, 0)
	if a != b {
		t.Errorf("%s != %s", a, b)
	}
	// at most MaxSchemaKeys keys
	var sb strings.Builder
	sb.WriteString("{")
	for i := 0; i < 150; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`"k` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `":1`)
	}
	sb.WriteString("}")
	s, _, _ := KeySchema(sb.String(), ParseJSON, 0)
	if n := strings.Count(s, ",") + 1; n != MaxSchemaKeys {
		t.Errorf("%d keys in the schema", n)
	}
}

func TestKeyMiner(t *testing.T) {
	var m, a, b KeyMiner
	events := []string{
		`{"eventName":"ConsoleLogin","userIdentity":{"type":"IAMUser"}}`,
		`{"eventName":"GetObject","userIdentity":{"type":"Root"}}`,
		`{"eventName":"PutObject","requestParameters":{"bucketName":"x"}}`,
		`plain text`,
	}
	for i, e := range events {
		m.Add(e)
		if i%2 == 0 {
			a.Add(e)
		} else {
			b.Add(e)
		}
	}
	a.Merge(&b)
	got, merged := m.Clusters(), a.Clusters()
	if len(got) != 3 || got[0].Count != 2 || got[0].Schema != `["eventName","userIdentity.type"]` {
		t.Fatalf("%+v", got)
	}
	for i := range got {
		if got[i].ID != merged[i].ID || got[i].Count != merged[i].Count || strings.Join(got[i].Samples, "|") != strings.Join(merged[i].Samples, "|") {
			t.Errorf("merged %+v, want %+v", merged[i], got[i])
		}
	}
	if got[0].Keys[1] != "userIdentity.type" {
		t.Errorf("keys %v", got[0].Keys)
	}
}

// TestKeyMinerCloudTrail groups the OTRF CloudTrail events by schema.
func TestKeyMinerCloudTrail(t *testing.T) {
	dir := filepath.Dir(loghubDir(t))
	b, err := os.ReadFile(filepath.Join(dir, "cloudtrail_otrf_security_datasets", "ec2_proxy_s3_exfiltration_2020-09-14011940.json"))
	if err != nil {
		t.Skip(err)
	}
	var m KeyMiner
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		m.Add(l)
		n++
	}
	cs := m.Clusters()
	var total int64
	for _, c := range cs {
		total += c.Count
		if c.ID == UnstructuredID {
			t.Errorf("%d events without a schema", c.Count)
		}
	}
	if total != int64(n) || len(cs) < 2 || len(cs) >= n {
		t.Errorf("%d events in %d schemas", total, len(cs))
	}
	t.Logf("%d CloudTrail events, %d schemas; the largest: %d events, %.200s", n, len(cs), cs[0].Count, cs[0].Schema)
}
