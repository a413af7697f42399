package query

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/store/embedded"
)

func TestJSONPathParse(t *testing.T) {
	tests := []struct {
		path   string
		dump   string // segments: k(key) i(index) * ; ~ marks recursive
		multi  bool
		simple bool
		last   string
	}{
		{"eventName", "k(eventName)", false, true, "eventName"},
		{"a.b.c", "k(a) k(b) k(c)", false, true, "c"},
		{"$.a.b", "k(a) k(b)", false, true, "b"},
		{"$['a.b'].c", "k(a.b) k(c)", false, false, "c"},
		{`a["x y"]`, "k(a) k(x y)", false, true, "x y"},
		{"a[0]", "k(a) i(0)", false, false, "a"},
		{"a[12].b", "k(a) i(12) k(b)", false, false, "b"},
		{"a[*].b", "k(a) * k(b)", true, false, "b"},
		{"a.*", "k(a) *", true, false, "a"},
		{"a..b", "k(a) ~k(b)", true, false, "b"},
		{"..b", "~k(b)", true, false, "b"},
		{"$..*", "~*", true, false, ""},
		{"[0]", "i(0)", false, false, ""},
		{"@timestamp", "k(@timestamp)", false, true, "@timestamp"},
		{"a b.c", "k(a b) k(c)", false, true, "c"},
		{`['it\'s']`, "k(it's)", false, true, "it's"},
	}
	for _, tc := range tests {
		jp, err := parseJSONPath(tc.path)
		if err != nil {
			t.Errorf("%q: %s", tc.path, err.msg)
			continue
		}
		var parts []string
		for _, s := range jp.segs {
			p := ""
			if s.recursive {
				p = "~"
			}
			switch s.kind {
			case segKey:
				p += "k(" + s.key + ")"
			case segIndex:
				p += fmt.Sprintf("i(%d)", s.index)
			case segWildcard:
				p += "*"
			}
			parts = append(parts, p)
		}
		if got := strings.Join(parts, " "); got != tc.dump || jp.multi != tc.multi || jp.simple() != tc.simple || jp.lastKey() != tc.last {
			t.Errorf("%q = %s multi=%v simple=%v last=%q; want %s %v %v %q", tc.path, got, jp.multi, jp.simple(), jp.lastKey(), tc.dump, tc.multi, tc.simple, tc.last)
		}
	}
	for _, bad := range []string{"", "$", ".a", "a.", "a..", "a[", "a[x]", "a[0", "a[*", "a]", "a[1,2]", "a['b',", "a.b*", "*x"} {
		if _, err := parseJSONPath(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestJSONEval(t *testing.T) {
	doc := `{"a":{"b":[1,{"c":"x\"y"},null],"n":1.50,"e":"","t":true,"o":{ "k" : [ 1 , 2 ] },"z":null},` +
		`"dup":1,"dup":{"v":2},"arr":[{"id":1,"tags":["p","q"]},{"id":2},{"id":3,"tags":[]}],"a.b":"dotted","u":"\u00e9\ud83d\ude00"}`
	tests := []struct {
		path  string
		want  string
		found bool
		null  bool
	}{
		{"a.n", "1.50", true, false},
		{"a.e", "", true, false},
		{"a.t", "true", true, false},
		{"a.z", "", true, true},
		{"a.o", `{"k":[1,2]}`, true, false},
		{"a.o.k", `[1,2]`, true, false},
		{"a.o.k[1]", `2`, true, false},
		{"a.o.k[2]", "", false, false},
		{"a.b[1].c", `x"y`, true, false},
		{"a.b[2]", "", true, true},
		{"a.b[0].c", "", false, false},
		{"a.missing", "", false, false},
		{"a.n.x", "", false, false},
		{"dup", `{"v":2}`, true, false},
		{"dup.v", `2`, true, false},
		{"['a.b']", "dotted", true, false},
		{"u", "é😀", true, false},
		{"arr[*].id", "[1,2,3]", true, false},
		{"arr[*].tags", `[["p","q"],[]]`, true, false},
		{"arr[*].tags[*]", `["p","q"]`, true, false},
		{"arr[*].nothing", "", false, false},
		{"..id", "[1,2,3]", true, false},
		{"..c", `["x\"y"]`, true, false},
		{"a.o.*", `[[1,2]]`, true, false},
		{"a..k[0]", `[1]`, true, false},
	}
	for _, tc := range tests {
		jp, perr := parseJSONPath(tc.path)
		if perr != nil {
			t.Fatalf("%q: %s", tc.path, perr.msg)
		}
		got, found, null := jp.eval(doc)
		if got != tc.want || found != tc.found || null != tc.null {
			t.Errorf("eval(%q) = %q, found=%v, null=%v; want %q, %v, %v", tc.path, got, found, null, tc.want, tc.found, tc.null)
		}
	}
}

func TestLocateJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`},
		{"  {\"a\":1}\n", `{"a":1}`},
		{`[1,2]`, `[1,2]`},
		{`"str"`, `"str"`},
		{`2024-01-02 INFO {"a":1}`, `{"a":1}`},
		{`x {"a":1} y {"b":{"c":2}} z`, `{"b":{"c":2}}`},
		{`{"a":1} trailing`, `{"a":1}`},
		{`{"a":{"b":1} broken`, `{"b":1}`},
		{`{{{{`, ""},
		{`plain text`, ""},
		{`{"a":1}{"b":2}`, `{"b":2}`},
		{``, ""},
	}
	for _, tc := range tests {
		got, ok := locateJSON(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("locateJSON(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	// Hostile text: many failed starts stay bounded.
	hostile := strings.Repeat(`{"a":`, 20000)
	start := time.Now()
	if _, ok := locateJSON(hostile); ok {
		t.Error("hostile text located")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("locating in hostile text took %s", d)
	}
}

// sharedDataDir finds ../shared/data by walking up from the working
// directory; "" when it is absent.
func sharedDataDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", "data")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// realJSONEvents are the JSON events of ../shared/data, split and given
// their ingest-time fields by ingest.Parse as an HTTP source would: the
// CloudTrail samples (NDJSON and {"Records":[...]} files), the Panther test
// events and the AWS service records. nil when the data is absent.
func realJSONEvents(t testing.TB) map[string][]event.Event {
	t.Helper()
	dir := sharedDataDir()
	if dir == "" {
		return nil
	}
	files := map[string]string{
		"otrf":      "cloudtrail_otrf_security_datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json",
		"panther":   "cloudtrail_panther_rule_tests/panther_cloudtrail_rule_tests.jsonl",
		"guardduty": "aws_misc_samples_panther_rule_tests/panther_guardduty_rule_tests.jsonl",
		"vpcflow":   "aws_misc_samples_panther_rule_tests/panther_vpcflow_rule_tests.jsonl",
		"s3access":  "aws_misc_samples_panther_rule_tests/panther_s3access_rule_tests.jsonl",
		"waf":       "aws_misc_samples_panther_rule_tests/panther_waf_rule_tests.jsonl",
	}
	stratus, _ := filepath.Glob(filepath.Join(dir, "cloudtrail_stratus_samples_cloudtrail2sightings", "*.json"))
	for _, f := range stratus {
		rel, _ := filepath.Rel(dir, f)
		files["stratus/"+filepath.Base(f)] = rel
	}
	out := map[string][]event.Event{}
	for name, rel := range files {
		body, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		evs, _, err := ingest.Parse(body, ingest.Options{ReceiptTime: time.Now()}, ingest.Limits{})
		if err != nil {
			continue // the malformed upstream file
		}
		out[name] = evs
	}
	return out
}

// TestJSONIngestEquivalence: on real and synthetic JSON, every ingest-time
// field _json.<path> holds exactly what the json operator computes from
// _raw for that path, which is what lets it read the field instead.
func TestJSONIngestEquivalence(t *testing.T) {
	sets := realJSONEvents(t)
	if sets == nil {
		t.Logf("skipping the real data: %s is absent", sharedData)
		sets = map[string][]event.Event{}
	}
	var synth []event.Event
	for _, raw := range syntheticJSON {
		for _, bounds := range [][2]int{{0, 0}, {2, 0}, {8, 3}, {1, 1}} {
			fs, ok := ingest.FlattenJSON([]byte(raw), bounds[0], bounds[1])
			if ok {
				synth = append(synth, event.Event{Raw: raw, Fields: fs})
			}
		}
	}
	sets["synthetic"] = synth
	fields, events := 0, 0
	for name, evs := range sets {
		for _, e := range evs {
			if len(e.Fields) > 0 {
				events++
			}
			doc, ok := locateJSON(e.Raw)
			for _, f := range e.Fields {
				if !strings.HasPrefix(f.Name, event.JSONFieldPrefix) {
					continue
				}
				fields++
				path := strings.TrimPrefix(f.Name, event.JSONFieldPrefix)
				jp, perr := parseJSONPath(path)
				if perr != nil || !jp.simple() || jp.ingestName() != path {
					// Keys with "[" or "]" are stored but cannot be a
					// plain path; the operator never reads them.
					continue
				}
				if !ok || doc != trimJSONSpaceStr(e.Raw) {
					t.Fatalf("%s: an event with ingest fields is not one JSON document: %.200s", name, e.Raw)
				}
				got, found, null := jp.eval(doc)
				if !found || null || got != f.Value {
					t.Errorf("%s: %s = %q at ingest, the json operator gives %q (found=%v null=%v) in %.300s", name, path, f.Value, got, found, null, e.Raw)
				}
			}
		}
	}
	t.Logf("%d ingest-time fields of %d events checked against the json operator", fields, events)
	if fields < 100 {
		t.Errorf("only %d fields checked", fields)
	}
}

// syntheticJSON are JSON events with the cases the conditional push-down
// must get right.
var syntheticJSON = []string{
	`{"k":"v1","n":1,"o":{"p":"x"}}`,
	`{"k":"v2","n":1.50,"o":{"p":"y","q":[1,2]}}`,
	`{"k":{"obj":true},"n":-0}`,          // k is an object
	`{"k":"","n":1e3}`,                   // k is ""
	`{"k":null}`,                         // k is null
	`{"n":2}`,                            // no k
	`{"k":"a","k":"b"}`,                  // repeated key: the last wins
	`{"k":"dup","n":1,"k":{"x":1}}`,      // repeated key, last is an object
	`{"k":"esc\"aped \u00e9\n","n":0.1}`, // escapes
	`{"k":["a",{"b":1}],"n":3}`,          // an array
	`{"k.x":"dotted","k":"plain"}`,       // a key with a dot
	`{"o":{"p":{"q":{"r":{"s":"deep"}}}},"k":"deep"}`,
	`{ "k" : "spaced" , "o" : { "p" : "s" } }`,
	`{"a":1,"b":2,"c":3,"d":4,"k":"late"}`, // beyond a field limit of 3
	`{"k":"v1","o":{"p":"x"},"k":"v3"}`,
	`{"k":"` + strings.Repeat("long", 100) + `"}`,
	`{"k":true,"n":false}`,
	`{"k":12345678901234567890}`,
}

// jsonCorpus is a store with JSON events (synthetic, with ingest bounds
// varied, and real), plain text, and JSON after a preamble.
type jsonCorpusT struct {
	st  *embedded.Store
	rng Range
	n   int
}

var (
	jsonCorpusOnce sync.Once
	jsonCorpusVal  *jsonCorpusT
	jsonCorpusErr  error
)

func getJSONCorpus(t testing.TB) *jsonCorpusT {
	t.Helper()
	jsonCorpusOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dohyo-json-corpus-")
		if err != nil {
			jsonCorpusErr = err
			return
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		st, err := embedded.Open(dir, embedded.Config{Retention: 30 * 24 * time.Hour})
		if err != nil {
			jsonCorpusErr = err
			return
		}
		cleanups = append(cleanups, func() { st.Close() })
		c := &jsonCorpusT{st: st}
		base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
		c.rng = Range{Start: base.Add(-time.Minute), End: base.Add(time.Hour)}
		seq := uint64(0)
		add := func(cat string, evs []event.Event) {
			seq++
			b := &event.Batch{ReceiptTime: base.UnixNano(), Source: event.Source{Category: cat, Host: "h"}}
			for _, e := range evs {
				e.Time = base.Add(time.Duration(c.n) * time.Millisecond).UnixNano()
				c.n++
				b.Events = append(b.Events, e)
			}
			if err := st.Add(context.Background(), seq, b, nil); err != nil {
				jsonCorpusErr = err
			}
		}
		// Synthetic: every event with full extraction, with tight bounds,
		// without extraction, after a preamble.
		for _, v := range []struct {
			cat           string
			depth, fields int
			none          bool
			prefix        string
		}{{"synth/full", 0, 0, false, ""}, {"synth/depth2", 2, 0, false, ""}, {"synth/fields3", 0, 3, false, ""},
			{"synth/none", 0, 0, true, ""}, {"synth/preamble", 0, 0, false, "2024-01-02 INFO "}} {
			var evs []event.Event
			for _, raw := range syntheticJSON {
				raw = v.prefix + raw
				var fs []event.Field
				if !v.none {
					fs, _ = ingest.FlattenJSON([]byte(raw), v.depth, v.fields)
				}
				evs = append(evs, event.Event{Raw: raw, Fields: fs})
			}
			add(v.cat, evs)
		}
		add("text", []event.Event{{Raw: "k=v1 not json"}, {Raw: `{"k": broken`}, {Raw: ""}, {Raw: "[1,2,3]"}})
		// Only events having k as a plain value: the condition holds.
		var good []event.Event
		for _, raw := range []string{`{"k":"g1","o":{"p":"x"}}`, `{"k":"g2","o":{"p":"y"}}`, `{"k":"g1","o":{"p":"z"}}`} {
			fs, _ := ingest.FlattenJSON([]byte(raw), 0, 0)
			good = append(good, event.Event{Raw: raw, Fields: fs})
		}
		add("good", good)
		for name, evs := range realJSONEvents(t) {
			add("real/"+name, evs)
		}
		st.Flush()
		jsonCorpusVal = c
	})
	if jsonCorpusErr != nil {
		t.Fatalf("json corpus: %v", jsonCorpusErr)
	}
	return jsonCorpusVal
}

// runModes runs a query pushed down, all-Go, and all-Go parsing _raw.
func runJSONModes(t *testing.T, c *jsonCorpusT, text string) (pushed *Plan, results [3]*collectSink) {
	t.Helper()
	q, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	opt := ExecOptions{Range: c.rng, MaxMessages: 100000}
	for i, o := range []CompileOptions{{PushDown: true}, {PushDown: false}, {PushDown: false, noIngestJSON: true}} {
		p, err := Compile(q, o)
		if err != nil {
			t.Fatalf("Compile(%q): %v", text, err)
		}
		if i == 0 {
			pushed = p
		}
		s := &collectSink{}
		if _, err := p.Execute(context.Background(), c.st, opt, s); err != nil {
			t.Fatalf("Execute(%q, %+v): %v", text, o, err)
		}
		results[i] = s
	}
	return pushed, results
}

func sameResults(a, b *collectSink) bool {
	return slices.EqualFunc(a.messages, b.messages, slices.Equal) && recordsText(a.fields, a.records) == recordsText(b.fields, b.records)
}

// TestJSONConditionalPushdown runs json queries over events that have the
// ingest-time fields, lack them, have them as objects, "", null, beyond
// the extraction's bounds or are not JSON: pushed down (conditionally),
// all-Go (reading the fields) and all-Go parsing _raw agree, and the
// condition decides as expected.
func TestJSONConditionalPushdown(t *testing.T) {
	c := getJSONCorpus(t)
	queries := []struct {
		text   string
		pushed bool // the condition holds over the scope
	}{
		{`* | json "k" | count by k`, false},
		{`* | json "k" nodrop | count by k`, false},
		{`* | json "k", "n" | count by k, n`, false},
		{`* | json "o.p" as p | count by p`, false},
		{`* | json "o.p", "k" as p, key nodrop`, false},
		{`* | json "k" as x`, false},
		{`* | json "o.q" as q nodrop | count by q`, false},
		{`* | json "o.p.q.r.s" as s nodrop | count by s`, false},
		{`* | json "k[1].b" as b | count by b`, false},
		{`* | json "['k.x']" as kx | count by kx`, false},
		{`* | json "..p" as ps | count by ps`, false},
		{`* | json auto | count by k`, false},
		{`* | json auto maxdepth 1 | count by o`, false},
		{`* | json auto extractarrays | count by %"k[0]"`, false},
		{`* | json auto keys "K" as kk refonly | count by kk`, false},
		{`_sourceCategory=good | json "k" | count by k`, true},
		{`_sourceCategory=good | json "k", "o.p" | count by k, p`, true},
		{`_sourceCategory=good | json "o.p" as k | json "k" as k2 | count by k, k2`, true},
		{`_sourceCategory=good | json "k" as user | parse field=user "g*" as n | count by n`, true},
		{`_sourceCategory=good | json "k" | count`, true},
		{`_sourceCategory=good | json "o" as o`, false},
		{`_sourceCategory=good | json "k"`, true},
		// Messages, not count by n: the engine's "stats by" groups "-0"
		// with "0" (it reads numbers), a problem of the pushed count.
		{`_sourceCategory=synth/full | json "n"`, false},
		// A checked key (agg_pushdown.go): integer keys of the engine's
		// output ("-0" read as 0) make the run start again with the guard.
		{`_sourceCategory=synth/full | json "n" nodrop | count by n`, false},
		{`_sourceCategory=synth/full | json "n" | count by n`, false},
		{`_sourceCategory=real/otrf | json "eventName" | count by eventname`, true},
		{`_sourceCategory=real/otrf | json "userIdentity.type", "eventSource" as type, src | count by type, src`, true},
		{`_sourceCategory=real/otrf | json "userIdentity.userName" as user nodrop | count by user`, false},
		{`_sourceCategory=real/otrf | json "requestParameters.bucketName" as bucket nodrop | count by bucket`, false},
		{`_sourceCategory=real/* | json "eventName" | count by eventname`, false},
		{`_sourceCategory=real/* | json "log.eventName" as e nodrop | count by e`, false},
		{`_sourceCategory=real/* | json "Records[0].eventName" as e nodrop | count by e`, false},
		{`_sourceCategory=real/stratus* | json "eventName", "userIdentity.arn" as e, arn | count by e, arn`, true},
		{`_sourceCategory=real/* | json "log.requestParameters.ipPermissions.items[*].ipRanges.items[*].cidrIp" as cidrs | count by cidrs`, false},
		{`_sourceCategory=real/* | json "..cidrIp" as cidrs | count by cidrs`, false},
	}
	for _, tc := range queries {
		p, res := runJSONModes(t, c, tc.text)
		if !sameResults(res[0], res[1]) {
			t.Errorf("%s: pushed and all-Go differ\n%s\npushed %s\ngo %s", tc.text, p.Explain(), firstDiff(res[0].messages, res[1].messages), recordsText(res[0].fields, res[0].records)+"\n"+recordsText(res[1].fields, res[1].records))
		}
		if !sameResults(res[1], res[2]) {
			t.Errorf("%s: reading the ingest fields and parsing _raw differ\n%s\n%s", tc.text, firstDiff(res[1].messages, res[2].messages), recordsText(res[1].fields, res[1].records)+"\n"+recordsText(res[2].fields, res[2].records))
		}
		explain, err := p.ExplainRun(context.Background(), c.st, ExecOptions{Range: c.rng})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(explain, "holds for every message"); got != tc.pushed {
			t.Errorf("%s: condition holds = %v, want %v\n%s", tc.text, got, tc.pushed, explain)
		}
		if tc.pushed && !strings.Contains(explain, "go:      (none)") && strings.Contains(tc.text, "count") {
			t.Errorf("%s: not entirely in the engine:\n%s", tc.text, explain)
		}
		if len(res[0].messages)+len(res[0].records) == 0 {
			t.Errorf("%s: no result", tc.text)
		}
		for _, r := range res {
			for _, m := range r.messages {
				for _, f := range m {
					if strings.HasPrefix(f.Name, event.JSONFieldPrefix) || strings.HasPrefix(f.Name, event.InternalFieldPrefix) {
						t.Fatalf("%s: a delivered message has the hidden field %s", tc.text, f.Name)
					}
				}
			}
		}
	}
	// The histogram of a query with a conditional stage.
	for _, text := range []string{`* | json "k" | where k != "x"`, `_sourceCategory=good | json "k"`} {
		q, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		var hs [2][]Bucket
		for i, push := range []bool{true, false} {
			p, err := Compile(q, CompileOptions{PushDown: push})
			if err != nil {
				t.Fatal(err)
			}
			if hs[i], err = p.Histogram(context.Background(), c.st, ExecOptions{Range: c.rng}, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(hs[0]) != fmt.Sprint(hs[1]) || len(hs[0]) == 0 {
			t.Errorf("%s: histogram pushed %v, all-Go %v", text, hs[0], hs[1])
		}
	}
}

// TestJSONIngestNames: names the engine's copy would read as prefix
// filters are not pushed.
func TestJSONIngestNames(t *testing.T) {
	for _, tc := range []struct {
		query  string
		ingest bool
		cond   bool
	}{
		{`* | json "k" as x`, true, true},
		{`* | json "['a*']" as x`, false, false},
		{`* | json "k" as %"x*"`, true, false},
		{`* | json field=f "k"`, false, false},
		{`* | json "k[0]"`, false, false},
		{`* | json "k", "a[*]" as a, b`, true, false},
	} {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(q, CompileOptions{PushDown: true})
		if err != nil {
			t.Fatal(err)
		}
		impl := p.steps[0].impl.(*jsonImpl)
		_, _, cond := impl.condLogsQL()
		if got := len(impl.ingestFields()) > 0; got != tc.ingest || cond != tc.cond {
			t.Errorf("%s: reads ingest fields %v, conditional %v; want %v, %v", tc.query, got, cond, tc.ingest, tc.cond)
		}
	}
}

// TestJSONExplain shows the condition and both plans.
func TestJSONExplain(t *testing.T) {
	q, err := Parse(`_sourceCategory=trail | json "eventName" | count by eventname`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(q, CompileOptions{PushDown: true})
	if err != nil {
		t.Fatal(err)
	}
	ex := p.Explain()
	for _, want := range []string{
		`condition: every message has "_json.eventName":*   (counted by the aggregate's query of the first plan; when some message fails it or G, checked: {_sourceCategory=~`,
		`| filter not ("_json.eventName":*) | limit 1 | fields _time)`,
		// First, one query: no filter, the rows lacking the field counted.
		"first:\n",
		`| copy "_json.eventName" as "eventname" | stats by ("eventname") count() as "_count" | limit 10001`,
		`check:   when a group's key copied from an ingest-time field is empty (rows failing "_json.eventName":*)`,
		"when the check holds:\n",
		`| filter "_json.eventName":* | copy "_json.eventName" as "eventname" | stats by ("eventname") count() as "_count" | limit 10001`,
		"otherwise:\n",
		`| copy "_json.eventName" as "_dohyo.json.eventName" | delete "_json.*"`,
		`json "eventName" (reading _json.eventName when extracted at ingest)`,
	} {
		if !strings.Contains(ex, want) {
			t.Errorf("Explain lacks %q:\n%s", want, ex)
		}
	}
}

// TestJSONAutoSemantics pins json auto's flattening.
func TestJSONAutoSemantics(t *testing.T) {
	raw := `pre {"User Name":"al","A":{"B":1,"C":{"D":[1,2]},"E":null,"F":""},"_id":"x","arr":[1,"two"],"mix":[{"a":1}],"a":{"b":2}}`
	tests := []struct {
		stage string
		want  string
	}{
		{`json auto`, `a.b=2 a.c.d=[1,2] arr=[1,"two"] mix=[{"a":1}] user_name=al`},
		{`json auto maxdepth 1`, `a={"b":2} arr=[1,"two"] mix=[{"a":1}] user_name=al`},
		{`json auto maxdepth 2 extractarrays`, `a.b=2 a.c={"D":[1,2]} arr[0]=1 arr[1]=two mix=[{"a":1}] user_name=al`},
		{`json auto keys "user name" as u refonly`, `u=al`},
		{`json auto keys "a.c.d"`, `a.b=2 a.c.d=[1,2] arr=[1,"two"] mix=[{"a":1}] user_name=al`},
	}
	for _, tc := range tests {
		q, err := Parse("* | " + tc.stage)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(q, CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := &recordCollector{}
		op := p.steps[0].impl.newOperator(out)
		row := testMessage(raw)
		if err := op.push([]Row{row}); err != nil {
			t.Fatal(err)
		}
		got := goldenMessageFields(out.rows[0])
		if got != strings.ReplaceAll(tc.want, `"`, `\"`) && got != tc.want && !sameFieldText(got, tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.stage, got, tc.want)
		}
	}
}

// sameFieldText compares golden field text ignoring value quoting.
func sameFieldText(got, want string) bool {
	var g []string
	for _, f := range strings.Split(got, " ") {
		g = append(g, strings.Trim(strings.ReplaceAll(f, `\"`, `"`), `"`))
	}
	return strings.Join(g, " ") == strings.ReplaceAll(want, `"`, "") || strings.ReplaceAll(strings.Join(g, " "), `"`, "") == strings.ReplaceAll(want, `"`, "")
}

// testMessage builds an in-memory message with the layout of the
// engine's rows.
func testMessage(raw string, extra ...Field) Row {
	r := Row{{event.FieldRaw, raw}}
	for _, f := range fixedMessageFields[1:] {
		r = append(r, Field{f, ""})
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	r = append(r, extra...)
	return append(r, Field{hiddenTimeField, "1"}, Field{hiddenRowID, "1"})
}
