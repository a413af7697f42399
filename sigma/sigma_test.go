package sigma

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/dohyo/dohyo/internal/cttest"
	"github.com/dohyo/dohyo/monitors"
	"github.com/dohyo/dohyo/query"
)

func mustConvert(t *testing.T, y string) *Conversion {
	t.Helper()
	r, err := ParseRule([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Convert(r, Options{})
	if err != nil {
		t.Fatalf("Convert: %v\n%s", err, y)
	}
	return c
}

const ruleHead = "title: T\nid: 1\nlevel: high\nlogsource:\n  product: aws\n  service: cloudtrail\n"

func TestConvertQueries(t *testing.T) {
	for _, c := range []struct{ detection, want string }{
		{"  sel:\n    eventName: DeleteBucket\n  condition: sel",
			"| json field=_raw \"eventName\" as s1 nodrop\n| where toLowerCase(s1) = \"deletebucket\""},
		{"  sel:\n    eventName:\n      - A*\n      - 'b?c'\n    errorCode: null\n  condition: sel",
			`| where (s1 matches /(?si)^A.*$/ or s1 matches /(?si)^b.c$/) and isNull(s2)`},
		{"  sel:\n    userAgent|contains|all:\n      - 'x/y'\n      - '\\*lit'\n  condition: sel",
			`| where (s1 matches /(?si)^.*x\/y.*$/ and s1 matches /(?si)^.*\*lit.*$/)`},
		{"  sel:\n    a.b|re: '^x/[0-9]+'\n    c|cidr: 10.0.0.0/8\n    d|startswith: 'Up'\n    e|endswith: 'Z'\n  condition: sel",
			`| where s1 matches /^x\/[0-9]+/ and compareCIDRPrefix("10.0.0.0", s2, 8) and s3 matches /(?si)^Up.*$/ and s4 matches /(?si)^.*Z$/`},
		{"  s1:\n    a: 1\n  s2:\n    b: true\n  f:\n    - c: x\n    - d: y\n  condition: 1 of s* and not 1 of f",
			`| where (toLowerCase(s1) = "1" or toLowerCase(s2) = "true") and !(toLowerCase(s3) = "x" or toLowerCase(s4) = "y")`},
		{"  keywords:\n    - 'evil'\n    - 'bad*thing'\n  condition: keywords",
			`| where (_raw matches /(?si)^.*evil.*$/ or _raw matches /(?si)^.*bad.*thing.*$/)`},
		{"  sel:\n    userIdentity.arn|fieldref: requestParameters.userName\n    x|contains: '*'\n    y: ''\n    n|gte: 5\n    e|exists: false\n  condition: all of them",
			`| where (!isNull(s1) and toLowerCase(s1) = toLowerCase(s2)) and !isNull(s3) and isNull(s4) and num(s5) >= 5 and isNull(s6)`},
		{"  sel:\n    eventName|cased: ListBuckets\n  condition: sel | count() by sourceIPAddress > 5\n  timeframe: 10m",
			`| where s1 = "ListBuckets"`},
		{"  sel:\n    \"weird key\": 'a\"b'\n  condition: sel",
			`| json field=_raw "['weird key']" as s1 nodrop` + "\n" + `| where toLowerCase(s1) = "a\"b"`},
	} {
		conv := mustConvert(t, ruleHead+"detection:\n"+c.detection)
		if !strings.Contains(conv.Filter, c.want) {
			t.Errorf("detection\n%s\nfilter\n%s\nlacks\n%s", c.detection, conv.Filter, c.want)
		}
		if _, err := monitors.ParseSpec(mustJSON(t, conv.Spec)); err != nil {
			t.Errorf("the monitor does not validate: %v", err)
		}
	}
	// The aggregation becomes the monitor's query, window and trigger.
	conv := mustConvert(t, ruleHead+"detection:\n  sel:\n    eventName: x\n  condition: sel | count(eventName) by sourceIPAddress >= 7\n  timeframe: 30m")
	if !conv.Aggregate || conv.Spec.Window.D().Minutes() != 30 || conv.Spec.Triggers.Critical.Op != ">=" || conv.Spec.Triggers.Critical.Threshold != 7 ||
		!strings.Contains(conv.Spec.Query, "count_distinct(sigma_counted) as _count by sigma_group") {
		t.Errorf("aggregation: %+v\n%s", conv.Spec, conv.Spec.Query)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConvertUnsupported(t *testing.T) {
	for _, c := range []struct{ rule, reason string }{
		{"title: T\nlogsource:\n  product: windows\ndetection:\n  s:\n    a: b\n  condition: s", "the log source is not AWS CloudTrail"},
		{ruleHead + "detection:\n  s:\n    a|base64: b\n  condition: s", "the base64 modifier"},
		{ruleHead + "detection:\n  s:\n    a|expand: '%x%'\n  condition: s", "placeholder"},
		{ruleHead + "detection:\n  s:\n    a: '%Legit_IPs%'\n  condition: s", "placeholder"},
		{ruleHead + "detection:\n  s:\n    a: b\n  condition: s1", `names "s1"`},
		{ruleHead + "detection:\n  s:\n    a: b\n  t:\n    c: d\n  condition: s | near t", "near"},
		{ruleHead + "detection:\n  s:\n    a: b\n  condition: s | sum(x) > 5", "aggregation"},
		{ruleHead + "detection:\n  s:\n    a: b\n  condition: 1 of x*", "no search identifier matches"},
		{ruleHead + "detection:\n  s:\n    a|re: '(?<!x)y'\n  condition: s", "not RE2"},
	} {
		r, err := ParseRule([]byte(c.rule))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Convert(r, Options{})
		if err == nil || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%q: %v, want %q", c.rule, err, c.reason)
		}
	}
}

// ---- an independent matcher: evaluates a rule's detection on the JSON ----

// jsonText returns the text of the value at a dotted path of object keys,
// or null.
func jsonText(raw []byte, path string) (string, bool) {
	cur := json.RawMessage(raw)
	for _, k := range strings.Split(path, ".") {
		var obj map[string]json.RawMessage
		if json.Unmarshal(cur, &obj) != nil {
			return "", false
		}
		v, ok := obj[k]
		if !ok {
			return "", false
		}
		cur = v
	}
	t := bytes.TrimSpace(cur)
	switch {
	case len(t) == 0 || string(t) == "null":
		return "", false
	case t[0] == '"':
		var s string
		json.Unmarshal(t, &s)
		return s, s != ""
	case t[0] == '{' || t[0] == '[':
		var b bytes.Buffer
		json.Compact(&b, t)
		return b.String(), true
	}
	return string(t), true
}

// glob matches Sigma wildcards on runes, folding case unless cased.
func glob(pat []rune, s []rune) bool {
	if len(pat) == 0 {
		return len(s) == 0
	}
	switch pat[0] {
	case '\x00': // "*"
		for i := 0; i <= len(s); i++ {
			if glob(pat[1:], s[i:]) {
				return true
			}
		}
		return false
	case '\x01': // "?"
		return len(s) > 0 && glob(pat[1:], s[1:])
	}
	return len(s) > 0 && s[0] == pat[0] && glob(pat[1:], s[1:])
}

// globPattern turns a Sigma value into runes, wildcards as \x00 and \x01.
func globPattern(v string) []rune {
	var out []rune
	rs := []rune(v)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs) && strings.ContainsRune(`*?\`, rs[i+1]):
			out = append(out, rs[i+1])
			i++
		case rs[i] == '*':
			out = append(out, 0)
		case rs[i] == '?':
			out = append(out, 1)
		default:
			out = append(out, rs[i])
		}
	}
	return out
}

type directMatcher struct {
	det map[string]any
}

func (m *directMatcher) valueMatches(raw []byte, key string, want any) bool {
	parts := strings.Split(key, "|")
	field, mods := parts[0], map[string]bool{}
	for _, p := range parts[1:] {
		mods[p] = true
	}
	var got string
	var ok bool
	if field == "" {
		got, ok = string(raw), true
	} else {
		got, ok = jsonText(raw, field)
	}
	var vals []any
	if l, isList := want.([]any); isList {
		vals = l
	} else {
		vals = []any{want}
	}
	one := func(v any) bool {
		if mods["exists"] {
			return ok == (fmt.Sprint(v) == "true")
		}
		if v == nil {
			return !ok
		}
		if !ok {
			return false
		}
		w := fmt.Sprint(v)
		switch {
		case mods["fieldref"]:
			other, ok2 := jsonText(raw, w)
			return ok2 && strings.EqualFold(got, other)
		case mods["re"]:
			return regexp.MustCompile(w).MatchString(got)
		case mods["cidr"]:
			p, err := netip.ParsePrefix(w)
			a, err2 := netip.ParseAddr(got)
			return err == nil && err2 == nil && p.Contains(a)
		case mods["gt"], mods["gte"], mods["lt"], mods["lte"]:
			g, err := strconv.ParseFloat(got, 64)
			n, _ := strconv.ParseFloat(w, 64)
			return err == nil && (mods["gt"] && g > n || mods["gte"] && g >= n || mods["lt"] && g < n || mods["lte"] && g <= n)
		}
		if _, isStr := v.(string); !isStr {
			w = strings.NewReplacer(`*`, `\*`, `?`, `\?`).Replace(w) // not a wildcard in a number
		}
		if mods["contains"] {
			w = "*" + w + "*"
		} else if mods["startswith"] {
			w += "*"
		} else if mods["endswith"] {
			w = "*" + w
		}
		if !mods["cased"] {
			w, got = strings.ToLower(w), strings.ToLower(got)
		}
		return glob(globPattern(w), []rune(got))
	}
	for _, v := range vals {
		r := one(v)
		if mods["all"] && !r {
			return false
		}
		if !mods["all"] && r {
			return true
		}
	}
	return mods["all"]
}

func (m *directMatcher) search(raw []byte, name string) bool {
	switch s := m.det[name].(type) {
	case map[string]any:
		for k, v := range s {
			if !m.valueMatches(raw, k, v) {
				return false
			}
		}
		return true
	case []any:
		for _, item := range s {
			switch it := item.(type) {
			case map[string]any:
				all := true
				for k, v := range it {
					all = all && m.valueMatches(raw, k, v)
				}
				if all {
					return true
				}
			default:
				if m.valueMatches(raw, "|contains", it) {
					return true
				}
			}
		}
	}
	return false
}

// eval evaluates a condition (without its aggregation) with a tiny
// recursive descent of its own.
func (m *directMatcher) eval(raw []byte, cond string) bool {
	cond = strings.SplitN(cond, "|", 2)[0]
	toks := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(cond))
	i := 0
	var orE, andE, notE func() bool
	names := func(pat string) []string {
		var out []string
		for k := range m.det {
			if k == "condition" || k == "timeframe" {
				continue
			}
			if pat == "them" {
				out = append(out, k)
			} else if ok, _ := filepath.Match(pat, k); ok {
				out = append(out, k)
			}
		}
		return out
	}
	notE = func() bool {
		t := toks[i]
		i++
		switch strings.ToLower(t) {
		case "not":
			return !notE()
		case "(":
			v := orE()
			i++ // ")"
			return v
		case "1", "all", "any":
			i++ // "of"
			ns := names(toks[i])
			i++
			if t == "all" {
				for _, n := range ns {
					if !m.search(raw, n) {
						return false
					}
				}
				return true
			}
			for _, n := range ns {
				if m.search(raw, n) {
					return true
				}
			}
			return false
		}
		return m.search(raw, t)
	}
	andE = func() bool {
		v := notE()
		for i < len(toks) && strings.EqualFold(toks[i], "and") {
			i++
			w := notE()
			v = v && w
		}
		return v
	}
	orE = func() bool {
		v := andE()
		for i < len(toks) && strings.EqualFold(toks[i], "or") {
			i++
			w := andE()
			v = v || w
		}
		return v
	}
	return orE()
}

func directMatch(t *testing.T, ruleYAML []byte, evs []cttest.Event) map[int]bool {
	var doc struct {
		Detection map[string]any `yaml:"detection"`
	}
	if err := yaml.Unmarshal(ruleYAML, &doc); err != nil {
		t.Fatal(err)
	}
	m := &directMatcher{det: doc.Detection}
	var conds []string
	switch c := doc.Detection["condition"].(type) {
	case string:
		conds = []string{c}
	case []any:
		for _, x := range c {
			conds = append(conds, fmt.Sprint(x))
		}
	}
	out := map[int]bool{}
	for i, e := range evs {
		if !utf8.Valid(e.Raw) {
			continue
		}
		for _, c := range conds {
			if m.eval(e.Raw, c) {
				out[i] = true
			}
		}
	}
	return out
}

// TestSigmaCloudTrailRules converts SigmaHQ's CloudTrail rules and, for
// each converted rule, compares the events its query selects among the
// labelled CloudTrail events (Panther, OTRF, Stratus) with the events the
// independent matcher above selects: they must be the same.
func TestSigmaCloudTrailRules(t *testing.T) {
	data, ok := cttest.SharedData()
	if !ok {
		t.Skip("../shared/data is absent: the Sigma rules and labelled events are not available")
	}
	root := filepath.Join(data, "sigma_aws_cloudtrail")
	evs, err := cttest.All(data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cttest.Ingest(t.TempDir(), evs)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runner := &monitors.EngineRunner{Store: st.St, Env: &query.Env{}}
	rng := query.Range{Start: st.Start, End: st.End}

	var report []string
	totals := map[string][2]int{}
	reasons := map[string]int{}
	matchedRules, matchedEvents := 0, map[int]bool{}
	for _, dir := range []string{"rules", "unsupported", "rules-placeholder"} {
		results, err := ConvertDir(filepath.Join(root, dir), Options{Category: "ct/*"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			tot := totals[dir]
			tot[1]++
			if !r.Converted {
				reasons[r.Reason]++
				report = append(report, fmt.Sprintf("| %s | %s | no: %s | | |", dir, filepath.Base(r.File), r.Reason))
				totals[dir] = tot
				continue
			}
			tot[0]++
			totals[dir] = tot
			res, err := runner.Run(context.Background(), monitors.RunRequest{Query: r.Conversion.Filter, Range: rng, Now: rng.End, MaxRows: 100000})
			if err != nil {
				t.Errorf("%s: the filter fails: %v\n%s", r.File, err, r.Conversion.Filter)
				continue
			}
			got := map[int]bool{}
			for _, row := range res.Rows {
				n, err := strconv.Atoi(strings.TrimPrefix(row["_sourceCategory"], "ct/"))
				if err != nil {
					t.Fatalf("row without its event: %v", row)
				}
				got[n] = true
			}
			raw, _ := os.ReadFile(r.File)
			want := directMatch(t, raw, evs)
			if !sameSet(got, want) {
				t.Errorf("%s: the query selects %v, the direct matcher %v\n%s", filepath.Base(r.File), keys(got), keys(want), r.Conversion.Filter)
			}
			if len(got) > 0 {
				matchedRules++
			}
			for k := range got {
				matchedEvents[k] = true
			}
			note := ""
			if r.Conversion.Aggregate {
				note = "aggregation → monitor threshold; filter compared"
			}
			if len(r.Notes) > 0 {
				note = strings.Join(r.Notes, "; ")
			}
			report = append(report, fmt.Sprintf("| %s | %s | yes | %d = %d | %s |", dir, filepath.Base(r.File), len(got), len(want), note))
		}
	}
	sort.Strings(report)
	var rs []string
	for k, v := range reasons {
		rs = append(rs, fmt.Sprintf("%d × %s", v, k))
	}
	sort.Strings(rs)
	t.Logf("Sigma conversion: rules %d/%d converted, unsupported %d/%d, rules-placeholder %d/%d; %d converted rules match at least one of %d labelled events (%d events matched); reasons: %s\n| folder | rule | converted | events matched (query = direct) | notes |\n|---|---|---|---|---|\n%s",
		totals["rules"][0], totals["rules"][1], totals["unsupported"][0], totals["unsupported"][1], totals["rules-placeholder"][0], totals["rules-placeholder"][1],
		matchedRules, len(evs), len(matchedEvents), strings.Join(rs, "; "), strings.Join(report, "\n"))
	if totals["rules"][0] < totals["rules"][1]*9/10 {
		t.Errorf("only %d of %d CloudTrail rules convert", totals["rules"][0], totals["rules"][1])
	}
	if matchedRules < 10 {
		t.Errorf("only %d rules match any labelled event: the comparison proves little", matchedRules)
	}
}

func sameSet(a, b map[int]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
