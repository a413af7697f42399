package query

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dohyo/dohyo/event"
)

// scopeQueries are run against the engine corpus pushed down, in all-Go
// mode and with the pure Go matcher over the in-memory events; all three
// must select the same messages.
var scopeQueries = []string{
	"", "*", "NOT *",
	// words and case
	"error", "ERROR", "Error", "errors", "err", "test", "TEST", "testclientimpl",
	"error OR exception", "error exception", "NOT error", "error NOT errors",
	"quick fox", "quick OR fox", "NOT quick", "quick NOT fox", "(quick OR error) NOT fox",
	"the", "THE end", "a", "ab", "a_b", "aaa", "aaaa", "abc", "abcabc",
	"error42", "42error", "42", "123", "12345", "1.5", "1", "5", "3.14159", "14159",
	"2024", "03", "02T03", "05Z", "2024-01-02T03:04:05Z", "04", "2024-01-02",
	// wildcards
	"err*", "*rror", "*rro*", "e?ror", "e??or", "?rror", "error*", "a*", "a?a", "?", "??", "???",
	"*a*", "*_*", "*c", "t*t", "*.log", "*.log*", "access.log*", "*log", "log*", "*.*", "?.?",
	"10.1.2.*", "10.1.*", "10.1.2.3*", "*.2.3", "*.2.3*", "1?.1.2.3", "camel*", "*case*", "*word",
	"*Word*", "v1.*", "0x*", "*@example.com", "user@*", "foo.java*", "*éé*", "caf*", "*é",
	"ſ*", "s*", "k*", "5?", "*\u212a", "🔥*", "*🔥", "?x", "x?", "ⱥ*", "*ⱥ",
	// punctuation
	"10.1.2.3", "110.1.2.30", "192.168.0.1", "10.0.0.1", "8.8.8.8", "10.1.2.30",
	"user@example.com", "example.com", "@example.com", "/api/v1/login", "api", "v1", "login", "logins",
	`"/api/v1/login?user=x"`, "a-b-c", "d_e_f", "g.h.i", "snake_case_word", "snake", "kebab-case-word", "kebab", "case",
	"CamelCaseWord", "under_score_", "_leading", "dot.", "...", "---", `C:\Users\admin\file.txt`, `\Users`,
	"syslog.1", "auth.log", "mail.log", "#12345", "$9.99", "9.99", "50%", "a+b", "x^2", "@here", "#channel",
	"v1.2.3-beta+build.5", "1.2.3", "beta", "build.5", "0xDEADBEEF", "deadbeef",
	"java.lang.NullPointerException", "NullPointerException", "Foo.java:42", "(Foo.java:42)",
	"client=10.1.2.3:8080", "10.1.2.3:8080", "error_code", "E42",
	// phrases
	`"failed login"`, `"FAILED LOGIN"`, "failed login", "failed OR login", `"failed  login"`, `"login for"`,
	`"user@example.com"`, `"key=value"`, `"status=500"`, `"(paren)"`, `"[ERROR]"`, `"[ERROR] [main]"`,
	`"inner"`, `"\"inner\""`, `"'quoted'"`, `"ConsoleLogin"`, `"\"eventName\":\"ConsoleLogin\""`,
	`"a*b"`, `"e?r"`, `"..."`, `" "`, `"the end"`, `"Exception in thread"`, `"\"main\""`, `"prod/web"`,
	// unicode
	"café", "CAFÉ", "crème", "σίσυφος", "ΣΊΣΥΦΟΣ", "ΣΊΣΎΦΟΣ", "日本語のログ", "ログ", "ошибка", "ОШИБКА",
	"istanbul", "İstanbul", "ſtrange", "strange", "k", "5k", "5\u212a", "ⱥⱥ", "ȺȺ", "Ⱥ", "ⱥ", "x", "y",
	"🔥", "fire", "\ufffd", "replacement", "Ünïcödé",
	// field filters
	"_sourceCategory=prod/web", "_sourceCategory=Prod/Web", "_sourceCategory=prod/web*", "_sourceCategory=*web*",
	"_sourceCategory=prod/?eb", `_sourceCategory="prod/web"`, "_sourceCategory=*", `_sourceCategory=""`,
	"_sourceCategory!=prod*", `_sourceCategory!=""`, "_sourceCategory!=*", "_sourceCategory=typed/*",
	"_sourceCategory=ünïcödé/cat", "_sourceCategory=*/*/*", "_sourceCategory=?????????",
	"_sourceHost=web-*", "_sourceHost=WEB-2", "_sourceHost=*.example.com", "_sourceHost!=web*", "_sourceHost=HÔTE-1",
	"_sourceName=/var/log/*.log", "_sourceName=*.log", "_sourceName=日本.log", `_sourceName="s3://bucket/key.json"`,
	"_source=web", "_source=PAY*", "_collector=dohyo", "_collector=σίσ", "_sourceId=s1", "_format=fmt", `_format=""`,
	"_size=12", "_size=1?", "_receiptTime=*",
	"env=prod", "env=PROD", "env!=prod", "env=*", `env=""`, `env!=""`, "env=p*", "env=d?v", "env=STAGÉ",
	"team=*team", `team="web team"`, "team=web*", "region=us-*", "region=*-1", "nosuchfield=x", "nosuchfield!=x",
	// combinations
	"error _sourceCategory=prod*", "(_sourceCategory=dev* OR env=dev) error", "NOT _sourceCategory=prod*",
	"_sourceCategory=prod* NOT (error OR failed)", "env=prod (login OR GET) NOT 200", "NOT (a OR b) NOT c",
	"error OR _sourceHost=web-1 OR env=dev", "NOT NOT error", "!error !failed",
	// real data (apache, auth.log)
	"GET", `"GET /"`, "404", "200", "Mozilla", `"Mozilla/5.0"`, "*.png", "favicon.ico", "83.149.9.216",
	"sshd", `"Failed password"`, `"Accepted publickey"`, `"invalid user"`, "root", "pam_unix*", `"session opened"`,
	"_sourceCategory=security/auth sshd NOT root", "_sourceCategory=prod/web/apache 404",
}

func TestScopeDifferential(t *testing.T) {
	c := getCorpus(t)
	if c.real == 0 {
		t.Logf("skipping the real log lines: %s is absent", sharedData)
	}
	opt := ExecOptions{Range: c.rng, MaxMessages: 100000}
	matchedSome, matchedAll := 0, 0
	for _, text := range scopeQueries {
		q, err := Parse(text)
		if err != nil {
			t.Errorf("Parse(%q): %v", text, err)
			continue
		}
		m := compileMatcher(q.Scope)
		var want []string
		for _, e := range c.events {
			if m.match(e.row) {
				want = append(want, e.row[event.FieldMessageTime])
			}
		}
		sort.Strings(want)
		pushed, ps := run(t, c.st, text, true, opt)
		goRun, gs := run(t, c.st, text, false, opt)
		got, gotGo := messageTimes(pushed.messages), messageTimes(goRun.messages)
		p, _ := Compile(q, CompileOptions{PushDown: true})
		if !slices.Equal(got, want) {
			t.Errorf("%q: pushed down (%s) selects %d messages, the Go matcher %d\n%s", text, p.scopeLogsQL, len(got), len(want), diffMessages(c, got, want))
		}
		if !slices.Equal(gotGo, want) {
			t.Errorf("%q: all-Go selects %d messages, the Go matcher %d", text, len(gotGo), len(want))
		}
		if ps.MessagesMatched != int64(len(want)) || gs.MessagesMatched != int64(len(want)) {
			t.Errorf("%q: MessagesMatched pushed %d, Go %d, want %d", text, ps.MessagesMatched, gs.MessagesMatched, len(want))
		}
		if !slices.EqualFunc(pushed.messages, goRun.messages, slices.Equal) {
			t.Errorf("%q: pushed and all-Go deliver different rows", text)
		}
		if len(want) > 0 {
			matchedSome++
		}
		if len(want) == len(c.events) {
			matchedAll++
		}
	}
	t.Logf("%d scope queries over %d events (%d real log lines): %d match something, %d match everything",
		len(scopeQueries), len(c.events), c.real, matchedSome, matchedAll)
	if matchedSome < len(scopeQueries)*3/4 {
		t.Errorf("only %d of %d queries match anything: the corpus does not exercise them", matchedSome, len(scopeQueries))
	}
}

// diffMessages describes the messages in one list but not the other.
func diffMessages(c *corpus, got, want []string) string {
	byTime := map[string]string{}
	for _, e := range c.events {
		byTime[e.row[event.FieldMessageTime]] = fmt.Sprintf("%q [%s]", e.ev.Raw, e.batch.Source.Category)
	}
	in := func(xs []string, x string) bool { _, ok := slices.BinarySearch(xs, x); return ok }
	var b strings.Builder
	for _, g := range got {
		if !in(want, g) {
			fmt.Fprintf(&b, "  only pushed: %s\n", byTime[g])
		}
	}
	for _, w := range want {
		if !in(got, w) {
			fmt.Fprintf(&b, "  only Go:     %s\n", byTime[w])
		}
	}
	return b.String()
}

// countQueries are aggregate queries compared across modes and with counts
// computed here from the in-memory events.
var countQueries = []struct {
	text  string
	scope string
	arg   string
	by    []string
	as    string
}{
	{text: "* | count", scope: "*"},
	{text: "error | count", scope: "error"},
	{text: "nosuchword | count", scope: "nosuchword"},
	{text: "* | count as n", scope: "*", as: "n"},
	{text: "* | count by _sourceCategory", scope: "*", by: []string{"_sourceCategory"}},
	{text: "error OR login | count by _sourceCategory", scope: "error OR login", by: []string{"_sourceCategory"}},
	{text: "* | count by env", scope: "*", by: []string{"env"}},
	{text: "* | count by ENV, _sourcehost", scope: "*", by: []string{"env", "_sourceHost"}},
	{text: "* | count(env)", scope: "*", arg: "env"},
	{text: "* | count(team) as teams by _collector", scope: "*", arg: "team", as: "teams", by: []string{"_collector"}},
	{text: "_sourceCategory=prod* | count as hits by team, region", scope: "_sourceCategory=prod*", as: "hits", by: []string{"team", "region"}},
	{text: "* | count by _messageTime", scope: "*", by: []string{"_messageTime"}},
	{text: "* | count by _size", scope: "*", by: []string{"_size"}},
	{text: "* | count by _raw", scope: "*", by: []string{"_raw"}},
	{text: "nosuchword | count by _sourceCategory", scope: "nosuchword", by: []string{"_sourceCategory"}},
	{text: "* | count by _format, _source", scope: "*", by: []string{"_format", "_source"}},
	{text: "* | count(_raw)", scope: "*", arg: "_raw"},
}

func TestCountDifferential(t *testing.T) {
	c := getCorpus(t)
	opt := ExecOptions{Range: c.rng}
	for _, cq := range countQueries {
		q, err := Parse(cq.scope)
		if err != nil {
			t.Fatal(err)
		}
		m := compileMatcher(q.Scope)
		groups := map[string]int64{}
		var matched int64
		for _, e := range c.events {
			if !m.match(e.row) {
				continue
			}
			matched++
			var key []string
			for _, f := range cq.by {
				key = append(key, e.row[f])
			}
			k := strings.Join(key, "\x00")
			if _, ok := groups[k]; !ok {
				groups[k] = 0
			}
			if cq.arg == "" || e.row[cq.arg] != "" {
				groups[k]++
			}
		}
		if len(cq.by) == 0 && len(groups) == 0 {
			groups[""] = 0
		}
		keys := make([]string, 0, len(groups))
		for k := range groups {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		as := cq.as
		if as == "" {
			as = "_count"
		}
		var fields []FieldInfo
		for _, f := range cq.by {
			fields = append(fields, FieldInfo{Name: f, KeyField: true, Type: fieldType(f)})
		}
		fields = append(fields, FieldInfo{Name: as, Type: "int"})
		var rows []Row
		for _, k := range keys {
			var row Row
			if len(cq.by) > 0 {
				for i, v := range strings.Split(k, "\x00") {
					row = append(row, Field{cq.by[i], v})
				}
			}
			row = append(row, Field{as, strconv.FormatInt(groups[k], 10)})
			rows = append(rows, row)
		}
		want := recordsText(fields, rows)
		for _, push := range []bool{true, false} {
			s, stats := run(t, c.st, cq.text, push, opt)
			if got := recordsText(s.fields, s.records); got != want {
				t.Errorf("%q push=%v:\n got %s\nwant %s", cq.text, push, got, want)
			}
			if stats.MessagesMatched != matched || stats.RecordCount != len(rows) || s.recCalls != 1 || s.calls != 0 {
				t.Errorf("%q push=%v: stats %+v, sink calls %d/%d; want %d matched, %d records", cq.text, push, stats, s.recCalls, s.calls, matched, len(rows))
			}
		}
	}
}

func TestCountChained(t *testing.T) {
	c := getCorpus(t)
	opt := ExecOptions{Range: c.rng}
	for _, text := range []string{
		"* | count by _sourceCategory | count",
		"* | count by env, _sourceHost | count by env",
		"* | count by _sourceCategory | count(_sourceCategory) as n by _count",
	} {
		p1, s1 := run(t, c.st, text, true, opt)
		p2, s2 := run(t, c.st, text, false, opt)
		if a, b := recordsText(p1.fields, p1.records), recordsText(p2.fields, p2.records); a != b {
			t.Errorf("%q: pushed\n%s\nGo\n%s", text, a, b)
		}
		if !reflect.DeepEqual(s1, s2) || s1.MessagesMatched != int64(len(c.events)) {
			t.Errorf("%q: stats %+v / %+v", text, s1, s2)
		}
	}
	s, _ := run(t, c.st, "* | count by _sourceCategory | count", true, opt)
	n := map[string]bool{}
	for _, e := range c.events {
		n[e.batch.Source.Category] = true
	}
	if len(s.records) != 1 || s.records[0].Get("_count") != strconv.Itoa(len(n)) {
		t.Errorf("number of categories: %v, want %d", s.records, len(n))
	}
}
