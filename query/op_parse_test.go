package query

import (
	"reflect"
	"strings"
	"testing"
)

// parseFamilyCases are the syntax of the parsing operators: canonical text
// (out, "" = the input) or the error with its position.
var parseFamilyCases = []parseCase{
	// parse (anchor)
	{in: `* | parse "user=*: severity=*:" as user, severity`},
	{in: `* | PARSE "a=*," AS A NODROP`, out: `* | parse "a=*," as a nodrop`},
	{in: `* | parse field=url "?q=*&" as q`},
	{in: `* | parse field=%"my url" "?q=*&" as q`},
	{in: `* | parse "\"eventName\":\"*\"" as event_name nodrop`},
	{in: `* | parse "*\t*\t*" as a, b, c`},
	{in: `* | parse "a\*b=*" as x`},
	{in: `* | parse "C:\\*\\" as dir`},
	{in: `* | parse "\d=*" as x`, out: `* | parse "\\d=*" as x`},
	{in: `* | parse "*" as all`},
	{in: "* | parse \"line1\\n*\" as rest"},
	{in: `* | parse "a=*" as %"odd name"`},
	{in: `* | parse "a=*" as x | parse "b=*" as y nodrop | count by x, y`},
	{in: `* | parse "a=**" as x, y`, err: `line 1, column 14: two holes in a row (**) in the pattern; put a literal between the holes, or use parse regex`},
	{in: `* | parse "x=* y=**" as x, y, z`, err: `line 1, column 18: two holes in a row (**) in the pattern; put a literal between the holes, or use parse regex`},
	{in: `* | parse "no holes" as x`, err: `line 1, column 11: the pattern has no * to extract; mark each value to extract with *: parse "user=* " as user`},
	{in: `* | parse "a=* b=*" as x`, err: `line 1, column 21: the pattern has 2 *s but 1 name follow "as"; each * extracts one field`},
	{in: `* | parse "a=*" as x, y`, err: `line 1, column 17: the pattern has 1 * but 2 names follow "as"; each * extracts one field`},
	{in: `* | parse "a=*"`, err: `line 1, column 16: expected "as" and the names of the 1 fields the pattern extracts, found end of query`},
	{in: `* | parse "a=* b=*" as x, x`, err: `line 1, column 27: field x is named twice in parse`},
	{in: `* | parse "a=*" as _raw`, err: `line 1, column 20: parse cannot overwrite the built-in field _raw; choose another name`},
	{in: `* | parse "a=*" as _x`, err: `line 1, column 20: field names starting with "_" are reserved for built-in fields; parse cannot create "_x"`},
	{in: `* | parse a=* as x`, err: `line 1, column 11: expected a pattern in double quotes, found "a"; write parse "<pattern with * holes>" as <fields>, or parse regex "<regex>"`},
	{in: `* | parse 'a=*' as x`, err: `line 1, column 11: a pattern must be in double quotes, not single quotes`},
	{in: `* | parse "a=*" field=x as y`, err: `line 1, column 17: field= goes before the pattern; write parse field=<f> "<pattern>" as ...`},
	{in: `* | parse "a=*" as x nodrop nodrop`, err: `line 1, column 29: parse: nodrop is given twice`},
	{in: `* | parse "a=*" as x where x > 1`, err: `line 1, column 22: "where" must be its own stage; separate it with "|": ... | where <condition>`},
	{in: `* | parse field=a field=b "a=*" as x`, err: ``},
	{in: "* | parse \"a\nb=*\" as x, y", err: `line 2, column 6: the pattern has 1 * but 2 names follow "as"; each * extracts one field`},
	// parse regex / extract
	{in: `* | parse regex "(?<src_ip>\d{1,3}(?:\.\d{1,3}){3})"`},
	{in: `* | parse regex "(?P<ip>\S+) (?<Method>[A-Z]+)" nodrop`},
	{in: `* | parse regex field=event_name "^(?<verb>[A-Z][a-z]+?)[A-Z]"`},
	{in: `* | parse regex "id=(?<id>\w+)" multi`},
	{in: `* | parse regex "id=(?<id>\w+)" nodrop multi`, out: `* | parse regex "id=(?<id>\w+)" multi nodrop`},
	{in: `* | extract "(?i)user=(?<user>\w+)"`},
	{in: `* | EXTRACT field=x "C:\\(?<dir>\w+)"`, out: `* | extract field=x "C:\\(?<dir>\w+)"`},
	{in: `* | parse regex "quote \"(?<q>[^\"]*)\""`},
	{in: `* | parse regex "(\d+)"`, err: `line 1, column 18: unnamed group in the regex of parse regex; name it (?<field>...) to extract it, or write (?:...) to only group`},
	{in: `* | parse regex "(?<a>x)(y)"`, err: `line 1, column 25: unnamed group in the regex of parse regex; name it (?<field>...) to extract it, or write (?:...) to only group`},
	{in: `* | parse regex "[(]x(?<a>y)"`},
	{in: `* | parse regex "\(x(?<a>y)"`},
	{in: `* | parse regex "\Q(\E(?<a>y)"`},
	{in: `* | extract "\d+"`, err: `line 1, column 13: the regex of extract has no named group to extract; name the part to extract: "user=(?<user>\w+)"`},
	{in: `* | parse regex "(?<a>(?<b>x))"`, err: `line 1, column 23: nested named group (?<b>...) in parse regex is not supported; extract the inner and the outer parts with separate groups`},
	{in: `* | parse regex "(?<a>x)(?<A>y)"`, err: `line 1, column 28: two groups name the field a`},
	{in: `* | parse regex "(?<_x>x)"`, err: `line 1, column 21: field names starting with "_" are reserved for built-in fields; parse regex cannot create "_x"`},
	{in: `* | parse regex "(?<a>x" `, err: "line 1, column 18: invalid regular expression: missing closing ): `(?<a>x`"},
	{in: `* | parse regex "(?<=a)(?<b>x)"`, err: "line 1, column 18: invalid regular expression: invalid named capture: `(?<=a)(?<b>`; lookaround assertions are not supported (RE2 syntax)"},
	{in: `* | parse regex "a(?<b>x)\1"`, err: "line 1, column 26: invalid regular expression: invalid escape sequence: `\\1`; backreferences and Java-only escapes are not supported (RE2 syntax)"},
	{in: `* | parse regex "(?<a>x)" as a`, err: `line 1, column 27: parse regex takes the field names from the regex's named groups, not from "as"; name each group: "(?<user>\w+)"`},
	{in: `* | parse field=x regex "(?<a>x)"`, err: `line 1, column 19: "regex" comes right after "parse"; write parse regex field=x "..."`},
	{in: `* | parse regex "(?<a>x)" field=y`, err: `line 1, column 27: field= goes before the regex; write parse regex field=<f> "<regex>"`},
	{in: `* | parse regex "(?<a>x)" multi multi`, err: `line 1, column 33: parse regex: multi is given twice`},
	// json
	{in: `* | json "eventName"`},
	{in: `* | json field=_raw "eventName", "userIdentity.userName" as event_name, user nodrop`},
	{in: `* | json "requestParameters.ipPermissions.items[*].ipRanges.items[*].cidrIp" as cidrs nodrop`},
	{in: `* | json "$.a['b.c'][0]" as x`},
	{in: `* | json "a..b"`},
	{in: `* | json "a.*" as all`},
	{in: `* | json "['@timestamp']" as ts`},
	{in: `* | json auto`},
	{in: `* | JSON AUTO FIELD=x MAXDEPTH 2 EXTRACTARRAYS`, out: `* | json auto field=x maxdepth 2 extractarrays`},
	{in: `* | json field=x auto`, out: `* | json auto field=x`},
	{in: `* | json auto keys "a", "b c" refonly as x, y`},
	{in: `* | json auto keys "User Name"`},
	{in: `* | json ""`, err: `line 1, column 11: invalid JSON path "": the path is empty`},
	{in: `* | json "a..."`, err: `line 1, column 14: invalid JSON path "a...": empty key between "."`},
	{in: `* | json "a[1:2]"`, err: `line 1, column 14: invalid JSON path "a[1:2]": array slices and unions are not supported; use one index ("a[0]") or a wildcard ("a[*]")`},
	{in: `* | json "a[-1]"`, err: `line 1, column 13: invalid JSON path "a[-1]": negative indexes are not supported`},
	{in: `* | json "a['b"`, err: `line 1, column 13: invalid JSON path "a['b": unterminated quoted key`},
	{in: `* | json "a[?(@.x)]"`, err: `line 1, column 13: invalid JSON path "a[?(@.x)]": filter and script expressions are not supported`},
	{in: `* | json "[0]"`, err: `line 1, column 10: the JSON path "[0]" has no key to name its field; name it: json "[0]" as <field>`},
	{in: `* | json "a.x", "b.x"`, err: `line 1, column 17: two paths give the field name x; name the fields with "as"`},
	{in: `* | json "a", "b" as x`, err: `line 1, column 19: 2 paths but 1 name follow "as"; give one name per path`},
	{in: `* | json "_id"`, err: `line 1, column 10: field names starting with "_" are reserved for built-in fields; json cannot create "_id"; name the field with "as"`},
	{in: `* | json "a" field=x`, err: `line 1, column 14: field= goes before the paths; write json field=<f> "<path>"`},
	{in: `* | json a`, err: `line 1, column 10: expected a JSON path in double quotes, found "a"`},
	{in: `* | json auto maxdepth 0`, err: `line 1, column 24: expected a depth from 1 to 100 after maxdepth, found "0"`},
	// keyvalue
	{in: `* | keyvalue infer "user", "action"`},
	{in: `* | kv "user", "action" as u, a nodrop`},
	{in: `* | kv auto`},
	{in: `* | kv auto keys "a" refonly`},
	{in: `* | keyvalue regex "\s(.*?)=(.*?)," "serviceinfo.IP", "perf.x" as ip, x`},
	{in: `* | keyvalue regex "=(.*?)," "serviceinfo.IP"`},
	{in: `* | kv field=msg keyvaluedelimiter ":" pairdelimiter "|" "a"`},
	{in: `* | kv delim ":" "a"`, out: `* | kv keyvaluedelimiter ":" "a"`},
	{in: `* | kv "serviceinfo.IP"`},
	{in: `* | kv`, err: `line 1, column 7: expected the keys to extract, or "auto", found end of query`},
	{in: `* | kv regex "(a)(b)(c)" "x"`, err: `line 1, column 14: the keyvalue regex has 3 capturing groups; it needs 2 (key and value) or 1 (value); make other groups non-capturing: (?:...)`},
	{in: `* | kv regex "=(\w+)"`, err: `line 1, column 14: a regex with one group matches values: name the keys to find; write kv regex "..." "key1", "key2"`},
	{in: `* | kv "a", "b" as x`, err: `line 1, column 17: 2 keys but 1 name follow "as"`},
	{in: `* | kv "_a"`, err: `line 1, column 8: field names starting with "_" are reserved for built-in fields; kv cannot create "_a"; name the field with "as"`},
	{in: `* | kv auto infer`, err: `line 1, column 13: kv: infer cannot be combined with auto or regex`},
	{in: `* | kv "a" refonly`, err: `line 1, column 5: kv: refonly goes with auto`},
	// csv and split
	{in: `* | csv _raw extract 1 as a, 3 as b`},
	{in: `* | csv extract a, _, b`},
	{in: `* | csv field=_raw extract 2 as b`},
	{in: `* | csv query escape='\\', quote='\'' extract a, b`, out: `* | csv query escape='\\' quote='\'' extract a, b`},
	{in: `* | split _raw delim='|' extract 2 as level, 4 as msg`},
	{in: `* | split x delim='\t' extract a, b, 5 as e, f`},
	{in: `* | split x delim=":" extract a`, out: `* | split x delim=':' extract a`},
	{in: `* | split x extract a nodrop`},
	{in: `* | csv _raw extract 0 as a`, err: `line 1, column 22: column numbers start at 1 (got 0)`},
	{in: `* | csv _raw extract 1 a`, err: `line 1, column 24: expected "as" after the column number, found "a"`},
	{in: `* | csv _raw 1 as a`, err: `line 1, column 14: expected "extract" and the columns to extract, found "1"`},
	{in: `* | csv _raw extract _, _`, err: `line 1, column 5: csv extracts nothing: every column is skipped`},
	{in: `* | split x delim='ab' extract a`, err: `line 1, column 19: delim must be one character, not "ab"`},
	{in: `* | split x delim=',' extract a`, out: `* | split x delim=',' extract a`},
	{in: `* | split x quote='|' delim='|' extract a`, err: `line 1, column 5: split: the delimiter, escape and quote characters must all be different`},
	{in: `* | split x extract a, a`, err: `line 1, column 24: field a is named twice in split`},
	{in: `* | split x extract _raw`, err: `line 1, column 21: split cannot overwrite the built-in field _raw; choose another name`},
}

func TestParseFamilySyntax(t *testing.T) {
	for _, c := range parseFamilyCases {
		q, err := Parse(c.in)
		if c.err != "" {
			if err == nil {
				t.Errorf("Parse(%q) = %q, want error %q", c.in, q.String(), c.err)
			} else if err.Error() != c.err {
				t.Errorf("Parse(%q):\n got error %s\nwant error %s", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			if c.err == "" && strings.Contains(c.in, "field=a field=b") {
				continue // checked below
			}
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		want := c.out
		if want == "" {
			want = c.in
		}
		if got := q.String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got, want)
		}
		checkRoundTrip(t, c.in, q, false)
	}
	if _, err := Parse(`* | parse field=a field=b "a=*" as x`); err == nil || !strings.Contains(err.Error(), "field= is given twice") {
		t.Errorf("field= twice: %v", err)
	}
}

// parseFamilyCompileErrors are errors found when planning.
var parseFamilyCompileErrors = []struct{ in, err string }{
	{`* | count by _sourceHost | parse "a=*" as x`, `line 1, column 28: parse after an aggregate needs field=<column>: records have no _raw (they have _sourceHost, _count); parse the messages before the aggregate, or name a record column with field=`},
	{`* | count by _sourceHost | json "a"`, `line 1, column 28: json after an aggregate needs field=<column>`},
	{`* | count by _sourceHost | parse field=x "a=*" as y`, `line 1, column 40: field "x" does not exist after the aggregate; the records have _sourceHost, _count`},
	{`* | count by _sourceHost | json auto field=_sourceHost`, `line 1, column 28: json auto works on messages, not on the records of an aggregate`},
	{`* | count by _sourceHost | kv auto field=_sourceHost`, `line 1, column 28: kv auto works on messages`},
	{`* | parse field=_nosuch "a=*" as x`, `line 1, column 17: unknown built-in field "_nosuch"`},
}

func TestParseFamilyCompileErrors(t *testing.T) {
	for _, c := range parseFamilyCompileErrors {
		q, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		_, err = Compile(q, CompileOptions{PushDown: true})
		if err == nil || !strings.HasPrefix(err.Error(), c.err) {
			t.Errorf("Compile(%q):\n got %v\nwant %s...", c.in, err, c.err)
		}
	}
	// On records with field=<column>: allowed.
	for _, in := range []string{
		`* | count by _sourceHost | parse field=_sourceHost "web-*" as n`,
		`* | count by _sourceHost | parse regex field=_sourceHost "(?<n>\d+)"`,
		`* | count by _sourceHost | csv field=_sourceHost delim='-' extract 2 as n`,
		`* | count by _sourceHost | kv field=_sourceHost "n"`,
		`* | count by _sourceHost | json field=_sourceHost "n"`,
	} {
		q, err := Parse(in)
		if err == nil {
			_, err = Compile(q, CompileOptions{PushDown: true})
		}
		if err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func TestAnchorMatch(t *testing.T) {
	tests := []struct {
		pattern string
		text    string
		want    []string // nil: no match
	}{
		{`user=*: severity=*:`, `x user=alice: severity=high: y`, []string{"alice", "high"}},
		{`user=*:`, `user=: other`, []string{""}},
		{`user=*:`, `user=a`, nil},
		{`*=*`, `a=b=c`, []string{"a", "b=c"}},
		{`*,`, `a,b,`, []string{"a"}},
		{`[*]`, `[a] [b]`, []string{"a"}},
		{`a*b*c`, `xxaYbZc`, []string{"Y", "Z"}},
		{`a*b*c`, `abc`, []string{"", ""}},
		{`a*a`, `aaa`, []string{""}},
		{`a*a`, `a`, nil},
		{`x*`, `yyx`, []string{""}},
		{`*`, ``, []string{""}},
		{`*`, `all of it`, []string{"all of it"}},
		{`é*ü`, `aé1üb`, []string{"1"}},
		{`"k":"*"`, `{"k":"v","k":"w"}`, []string{"v"}},
	}
	for _, tc := range tests {
		q, err := Parse(`* | parse ` + quoteString(tc.pattern) + ` as ` + strings.Repeat("f, ", strings.Count(tc.pattern, "*")-1) + "g")
		if err != nil {
			// duplicate names: use distinct ones
			names := make([]string, strings.Count(tc.pattern, "*"))
			for i := range names {
				names[i] = string(rune('a' + i))
			}
			q, err = Parse(`* | parse ` + quoteString(tc.pattern) + ` as ` + strings.Join(names, ", "))
			if err != nil {
				t.Fatalf("%s: %v", tc.pattern, err)
			}
		}
		a := anchorPattern{lits: q.Stages[0].(*ParseStage).Literals}
		vals := make([]string, len(a.lits)-1)
		ok := a.match(tc.text, vals)
		if tc.want == nil {
			if ok {
				t.Errorf("%q on %q matched: %q", tc.pattern, tc.text, vals)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(vals, tc.want) {
			t.Errorf("%q on %q = %q, %v; want %q", tc.pattern, tc.text, vals, ok, tc.want)
		}
	}
}
