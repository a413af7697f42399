package query

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// Parsing, printing and errors of lookup, geoip and save; their semantics
// are in testdata/lookup.test.

var lookupParseCases = []parseCase{
	{in: `* | lookup role from path://"/Library/Users/me/admins" on user=user`},
	{in: `* | LOOKUP Role AS R, level FROM path://"/a b/c" ON userName=Email`, out: `* | lookup role as r, level from path://"/a b/c" on username=email`},
	{in: `* | lookup * from shared/teams on team=team and env = env`, out: `* | lookup * from path://"/shared/teams" on team=team, env=env`},
	{in: `* | lookup owner from /shared/aws/cloudtrail/admin-users.v2 on user`, out: `* | lookup owner from path://"/shared/aws/cloudtrail/admin-users.v2" on user`},
	{in: `* | lookup owner from teams on %"odd name"=col`, out: `* | lookup owner from path://"/teams" on %"odd name"=col`},
	{in: `* | lookup owner from path://"//x//y/ " on a=b`, out: `* | lookup owner from path://"/x/y" on a=b`},
	{in: `* | lookup a as %"by" from path://"/x" on a=b`},
	{in: `* | lookup latitude, longitude from geo://location on ip=src_ip | count by latitude, longitude`},
	{in: `* | lookup * from GEO://Location on ip=ip`, out: `* | lookup * from geo://location on ip=ip`},
	{in: `* | lookup country_code from geo://location on src_ip=ip`},
	{in: `* | geoip src_ip`},
	{in: `* | geoip src_ip, region, continent`, out: `* | geoip src_ip region, continent`},
	{in: `* | geoip %"client ip" postal_code`},
	{in: `* | count by user | save path://"/shared/users"`},
	{in: `* | count by user | save append /shared/users`, out: `* | count by user | save append path://"/shared/users"`},
	{in: `* | save append`, out: `* | save path://"/append"`},
	{in: `* | lookup a from path://"/{{t}}" on {{f}}=a`, params: true},

	{in: `* | lookup`, err: `line 1, column 11: expected a field name to look up, found end of query`},
	{in: `* | lookup from x on a`, err: `line 1, column 12: expected the columns to return (or *) before "from"`},
	{in: `* | lookup a`, err: `line 1, column 13: expected "from" and the lookup table in lookup, found end of query`},
	{in: `* | lookup a, a as b, b from x on c`, err: `line 1, column 23: lookup returns two fields named b; give one of them another name with "as"`},
	{in: `* | lookup a from`, err: `line 1, column 18: expected a lookup table (path://"<path>") in lookup, found end of query`},
	{in: `* | lookup a from path:// on b`, err: `line 1, column 27: expected the table's path in double quotes after path://, found "on"`},
	{in: `* | lookup a from path://"" on b`, err: `line 1, column 26: lookup table name "" is empty`},
	{in: `* | lookup a from path://"/a/../b" on b`, err: `line 1, column 26: lookup table name "/a/../b": ".." is not a valid path segment`},
	{in: `* | lookup a from x`, err: `line 1, column 20: expected "on" and the join condition in lookup, found end of query; write on <field>=<column>[, ...]`},
	{in: `* | lookup a from x on`, err: `line 1, column 23: expected a field name in the join condition after "on", found end of query`},
	{in: `* | lookup a from x on b=`, err: `line 1, column 26: expected a field name after "=" in the join condition, found end of query`},
	{in: `* | lookup a from x on b=c d`, err: `line 1, column 28: unexpected "d" in lookup`},
	{in: `* | lookup a from https://x.example/u.csv on b=c`, err: `line 1, column 19: lookups from CSV files on web servers are not supported; upload the file as a lookup table (dohyo lookup create and upload, or PUT /api/v1/lookups/{id}/csv) and use path://"<name>"`},
	{in: `* | lookup asn from asn://default on ip=x`, err: `line 1, column 21: ASN lookup (asn://default) is not supported yet`},
	{in: `* | lookup type from sumo://threat/cs on threat=ip`, err: `line 1, column 22: threat intelligence lookup (sumo://threat/cs) is not supported yet`},
	{in: `* | lookup a from ftp://x on b`, err: `line 1, column 19: unknown lookup source "ftp://x"; name a lookup table with path://"<path>"`},
	{in: `* | lookup a from {{t}} on b`, params: true, err: `line 1, column 19: a template parameter cannot name a lookup table`},
	{in: `* | lookup a from x on b`, err: ``},
	{in: `* | lookup latitud from geo://location on ip=x`, err: `line 1, column 12: geo lookup has no field latitud (it has latitude, longitude, continent, country_code, country_name, region, state, city, postal_code, connection_type, country_cf, state_cf, city_cf); did you mean "latitude"?`},
	{in: `* | lookup city from geo://location on ip=x, y=z`, err: `line 1, column 37: geo lookup takes one condition, on ip=<field>`},
	{in: `* | lookup city from geo://place on ip=x`, err: `line 1, column 22: unknown geo lookup source "geo://place"; write geo://location`},
	{in: `* | geoip`, err: `line 1, column 10: expected a field name holding the IP address after geoip, found end of query`},
	{in: `* | geoip x city`, err: `line 1, column 13: geoip already returns city`},
	{in: `* | geoip x contry`, err: `line 1, column 13: geo lookup has no field contry (it has latitude, longitude, continent, country_code, country_name, region, state, city, postal_code, connection_type, country_cf, state_cf, city_cf)`},
	{in: `* | save`, err: `line 1, column 9: expected the lookup table to save to (path://"<path>"), found end of query`},
	{in: `* | save x | count`, err: `line 1, column 12: operators after save are not run; save must be the last stage of the query`},
	{in: `* | save append x y`, err: `line 1, column 19: unexpected "y" in save`},
	{in: `* | save geo://location`, err: `line 1, column 10: save writes lookup tables, not geo://location`},
}

func TestLookupParse(t *testing.T) {
	for _, c := range lookupParseCases {
		if c.err == "" && strings.Contains(c.in, " on b") && !strings.Contains(c.in, "=") {
			// "on b" is short for "on b=b".
			c.out = strings.Replace(c.in, "from x", `from path://"/x"`, 1)
		}
		q, err := ParseWithOptions(c.in, ParseOptions{AllowParams: c.params})
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("Parse(%q):\n got error %v\nwant error %s", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
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
		checkRoundTrip(t, c.in, q, c.params)
	}
}

func TestLookupCompileErrors(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{`* | lookup a as _raw from x on b=c`, `line 1, column 17: lookup cannot set the built-in field _raw; give the column another name with "as"`},
		{`* | count by x | lookup a from t on y=z`, `line 1, column 37: field "y" does not exist after the aggregate; the records have x, _count`},
		{`* | count by x | geoip y`, `line 1, column 24: field "y" does not exist after the aggregate; the records have x, _count`},
		{`* | lookup city from geo://location on ip=_nope`, `line 1, column 43: unknown built-in field "_nope"`},
		{`* | lookup city as _sourceHost from geo://location on ip=x`, `line 1, column 20: lookup cannot set the built-in field _sourceHost`},
	} {
		q, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		_, err = Compile(q, CompileOptions{PushDown: true})
		if err == nil || !strings.HasPrefix(err.Error(), c.err) {
			t.Errorf("Compile(%q):\n got %v\nwant %s", c.in, err, c.err)
		}
	}
}

func TestLookupExplain(t *testing.T) {
	q, _ := Parse(`_sourceCategory=x | count by user | lookup role from /admins on user=user | save /saved`)
	p, err := Compile(q, CompileOptions{PushDown: true})
	if err != nil {
		t.Fatal(err)
	}
	ex := p.Explain()
	if !strings.Contains(ex, `go:      lookup role from path://"/admins" on user=user -> save path://"/saved" (after the query finished)`) ||
		!strings.Contains(ex, `stats by ("user") count()`) {
		t.Errorf("explain:\n%s", ex)
	}
}

func TestNormalizeLookupName(t *testing.T) {
	for in, want := range map[string]string{
		"admins": "/admins", "/shared/admins": "/shared/admins", "shared/admins/": "/shared/admins",
		"/Library/Users/me@x.com/Suspicious Users": "/Library/Users/me@x.com/Suspicious Users",
		" / a //  b c / ":                          "/a/b c",
	} {
		if got, err := NormalizeLookupName(in); err != nil || got != want {
			t.Errorf("NormalizeLookupName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/", " / / ", "a/./b", "a\x00b", `a"b`, `a\b`, "/" + strings.Repeat("x", MaxLookupNameLength)} {
		if got, err := NormalizeLookupName(bad); err == nil {
			t.Errorf("NormalizeLookupName(%q) = %q, want an error", bad, got)
		}
	}
}

func TestLookupKeyValue(t *testing.T) {
	for _, c := range []struct {
		typ, a, b string
		same      bool
	}{
		{LookupString, "Bob", "BOB", true},
		{LookupString, "Élan", "élan", true},
		{LookupString, "a", "a ", false},
		{LookupLong, "42", "42.0", true},
		{LookupLong, "42", " 42", true},
		{LookupDouble, "-0", "0", true},
		{LookupDouble, "1e3", "1000", true},
		{LookupLong, "7", "8", false},
		{LookupBoolean, "TRUE", "true", true},
	} {
		a, _ := LookupKeyValue(c.typ, c.a)
		b, _ := LookupKeyValue(c.typ, c.b)
		if (a == b) != c.same {
			t.Errorf("%s: %q vs %q: same=%v, want %v", c.typ, c.a, c.b, a == b, c.same)
		}
	}
	if _, ok := LookupKeyValue(LookupLong, "x"); ok {
		t.Error("a word is a long key")
	}
	// Keys of several columns cannot collide by concatenation.
	k1, _ := LookupRowKey([]string{"string", "string"}, []string{"ab", "c"})
	k2, _ := LookupRowKey([]string{"string", "string"}, []string{"a", "bc"})
	if k1 == k2 {
		t.Error("composite keys collide")
	}
}

func TestSplitQueries(t *testing.T) {
	in := "# header\n# more\n\na | count\n\n\n  b\r\n| count by x\r\n \t \nc\n# not a comment block\n"
	got := SplitQueries(in)
	want := []QueryText{{4, "a | count"}, {7, "  b\n| count by x"}, {10, "c\n# not a comment block"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SplitQueries = %+v, want %+v", got, want)
	}
	if got := SplitQueries(""); len(got) != 0 {
		t.Errorf("SplitQueries(\"\") = %+v", got)
	}
}

func TestErrorKind(t *testing.T) {
	for _, c := range []struct{ query, kind, unsupported string }{
		{"* | cout", KindUnknownOperator, ""},
		{"* | threatlookup x", "not supported yet: threatlookup", "threatlookup"},
		{"* | lookup a from asn://default on ip=x", "not supported yet: ASN lookup", ""},
		{`* | count by "x`, KindSyntax, ""},
		{"* | count by", KindSyntax, ""},
		{"* | count by x | count by y", KindUnknownField, ""},
		{"* | count by _nope", KindUnknownField, ""},
		{"* | count as x by x", KindInvalid, ""},
		{"_sourceCategory={{c}} | count by {{f}} | count by {{g}}", "", ""},
	} {
		r := Check(c.query)
		if c.kind == "" {
			if r.Err != nil {
				t.Errorf("Check(%q) = %v", c.query, r.Err)
			}
			continue
		}
		if r.Err == nil {
			t.Errorf("Check(%q) passed", c.query)
			continue
		}
		kind, op := ErrorKind(r.Err)
		if kind != c.kind || op != c.unsupported {
			t.Errorf("ErrorKind(%q: %v) = %q, %q; want %q, %q", c.query, r.Err, kind, op, c.kind, c.unsupported)
		}
	}
	for msg, want := range map[string]string{
		`function "concat" is not supported yet`:                              "not supported yet: concat()",
		`expression stages ("<expression> as <field>") are not supported yet`: "not supported yet: expression stage",
		`several aggregates in one stage (count, sum) are not supported yet`:  "not supported yet: several aggregates in one stage",
		`_index is not supported yet`:                                         "not supported yet: _index",
		`template parameter {{x}} has no value`:                               KindParam,
		`unknown function "foo"`:                                              KindUnknownFunction,
		`unterminated string: missing closing "`:                              KindSyntax,
		`the count's column "x" is also a group-by field`:                     KindInvalid,
		`lookup table "/x" has no column y (it has a, b)`:                     KindInvalid,
		`field "y" does not exist after the aggregate; the records have x`:    KindUnknownField,
		`expected a field name after "by", found end of query`:                KindSyntax,
		`operator "logreduce" is not supported yet`:                           "not supported yet: logreduce",
	} {
		if got, _ := ErrorKind(&Error{Msg: msg}); got != want {
			t.Errorf("ErrorKind(%q) = %q, want %q", msg, got, want)
		}
	}
}

// TestLookupBinding covers what the golden tests cannot see: tables are
// loaded once per run, a run without an environment fails clearly, the
// histogram never saves, and a save is not made when the query fails.
func TestLookupBinding(t *testing.T) {
	c := getCorpus(t)
	env, tables := newTestEnv()
	if err := tables.addGoldenTable(`/cats key=category`, []string{"category,team", "prod/web,web", "aws/cloudtrail,sec"}); err != nil {
		t.Fatal(err)
	}
	counting := &countingLookups{memLookups: tables}
	env.Lookups = counting
	compile := func(text string) *Plan {
		q, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(q, CompileOptions{PushDown: true})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Messages are read in many windows; the table is loaded once.
	p := compile(`* | lookup team from /cats on _sourceCategory=category`)
	s := &collectSink{}
	if _, err := p.Execute(context.Background(), c.st, ExecOptions{Range: c.rng, Env: env}, s); err != nil {
		t.Fatal(err)
	}
	teams := 0
	for _, m := range s.messages {
		if m.Get("team") != "" {
			teams++
			if cat := m.Get(event_sourceCategory); strings.EqualFold(cat, "prod/web") != (m.Get("team") == "web") {
				t.Errorf("message of %s got team %s", cat, m.Get("team"))
			}
		}
	}
	if counting.loads != 1 || teams == 0 || len(s.messages) != len(c.events) {
		t.Errorf("loads %d, %d messages with a team of %d (%d events)", counting.loads, teams, len(s.messages), len(c.events))
	}
	// No environment: a clear error at the position of the table.
	_, err := p.Execute(context.Background(), c.st, ExecOptions{Range: c.rng}, &collectSink{})
	if err == nil || err.Error() != "line 1, column 22: lookup tables are not available here" {
		t.Errorf("without an environment: %v", err)
	}
	if err := p.CheckEnv(context.Background(), env); err != nil {
		t.Errorf("CheckEnv: %v", err)
	}
	if err := compile(`* | lookup team from /nope on a=b`).CheckEnv(context.Background(), env); err == nil || !strings.Contains(err.Error(), `"/nope" does not exist`) {
		t.Errorf("CheckEnv of a missing table: %v", err)
	}
	// save: not from the histogram, not from CheckEnv, not without the
	// right, not when the sink fails.
	sp := compile(`* | save /saved/all_messages`)
	before := tables.saves
	if _, err := sp.Histogram(context.Background(), c.st, ExecOptions{Range: c.rng, Env: env}, 60e9); err != nil {
		t.Fatal(err)
	}
	if err := sp.CheckEnv(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	noSave := *env
	noSave.AllowSave = false
	if err := sp.CheckEnv(context.Background(), &noSave); err == nil || !strings.Contains(err.Error(), "admin role") {
		t.Errorf("save without the right: %v", err)
	}
	if _, err := sp.Execute(context.Background(), c.st, ExecOptions{Range: c.rng, Env: env}, failingSink{}); err == nil {
		t.Error("the failing sink did not fail the run")
	}
	if tables.saves != before {
		t.Errorf("%d saves without a successful run", tables.saves-before)
	}
	if _, err := sp.Execute(context.Background(), c.st, ExecOptions{Range: c.rng, Env: env, MaxMessages: 5}, &collectSink{}); err != nil {
		t.Fatal(err)
	}
	saved, err := tables.LoadLookup(context.Background(), "/saved/all_messages")
	if err != nil || tables.saves != before+1 || len(saved.Rows) == 0 || len(saved.Rows) > 5 {
		t.Fatalf("saved %+v, %v (saves %d)", saved, err, tables.saves-before)
	}
	// The messages' own fields, not the built-ins, make the columns.
	for _, col := range saved.Columns {
		if strings.HasPrefix(col.Name, "_") {
			t.Errorf("saved column %s", col.Name)
		}
	}
}

const event_sourceCategory = "_sourceCategory"

type countingLookups struct {
	*memLookups
	loads int
}

func (c *countingLookups) LoadLookup(ctx context.Context, name string) (*LookupTable, error) {
	c.loads++
	return c.memLookups.LoadLookup(ctx, name)
}

type failingSink struct{}

func (failingSink) Messages([]Row) error             { return fmt.Errorf("sink failed") }
func (failingSink) Records([]FieldInfo, []Row) error { return fmt.Errorf("sink failed") }

func TestGeoAddr(t *testing.T) {
	for in, want := range map[string]string{
		"81.2.69.142": "81.2.69.142", " 81.2.69.142 ": "81.2.69.142", "::ffff:81.2.69.142": "81.2.69.142",
		"[2001:218::1]": "2001:218::1", "fe80::1%eth0": "", "10.0.0.1": "", "192.168.1.1": "", "127.0.0.1": "",
		"::1": "", "0.0.0.0": "", "fd00::1": "", "224.0.0.1": "", "x": "", "1.2.3": "", "8.8.8.8:53": "",
	} {
		ip, ok := geoAddr(in)
		got := ""
		if ok {
			got = ip.String()
		}
		if got != want {
			t.Errorf("geoAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkLookupOp measures the Go lookup over messages: a 100,000-row
// table, keys hitting half the time.
func BenchmarkLookupOp(b *testing.B) {
	t := &LookupTable{Name: "/bench", Columns: []LookupColumn{{"user", LookupString}, {"team", LookupString}}, PrimaryKey: []string{"user"}}
	for i := range 100000 {
		t.Rows = append(t.Rows, []string{"User" + strconv.Itoa(i*2), "team" + strconv.Itoa(i%50)})
	}
	env := &Env{Lookups: &fixedLookups{t}}
	rows := benchRows(1000, func(i int) []Field { return []Field{{"user", "user" + strconv.Itoa(i*7%200000)}} })
	benchStage(b, `* | lookup team from /bench on user=user | count by team`, env, rows)
}

// BenchmarkGeoLookupOp measures geo lookup with the per-run cache: 1000
// distinct addresses.
func BenchmarkGeoLookupOp(b *testing.B) {
	env := &Env{GeoIP: newFakeGeo()}
	rows := benchRows(1000, func(i int) []Field {
		return []Field{{"ip", netip.AddrFrom4([4]byte{81, 2, 69, byte(i)}).String()}}
	})
	benchStage(b, `* | lookup country_code, city from geo://location on ip=ip | count by country_code`, env, rows)
}

type fixedLookups struct{ t *LookupTable }

func (f *fixedLookups) LoadLookup(context.Context, string) (*LookupTable, error) { return f.t, nil }
func (f *fixedLookups) SaveLookup(context.Context, *LookupSave) error            { return nil }

func benchRows(n int, fields func(i int) []Field) []Row {
	rows := make([]Row, n)
	for i := range rows {
		r := Row{{"_raw", "message " + strconv.Itoa(i)}, {"_messageTime", "1700000000000"}}
		r = append(r, fields(i)...)
		rows[i] = append(r, Field{hiddenTimeField, "1700000000000000000"}, Field{hiddenRowID, strconv.Itoa(i)})
	}
	return rows
}

// benchStage pushes rows through the Go chain of a query (all its stages
// in Go) and reports rows per second.
func benchStage(b *testing.B, text string, env *Env, rows []Row) {
	q, err := Parse(text)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(q, CompileOptions{PushDown: false})
	if err != nil {
		b.Fatal(err)
	}
	bp, _, err := p.bindEnv(context.Background(), ExecOptions{Env: env}, false)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		coll := &recordCollector{}
		chain := bp.buildChain(coll, len(bp.steps), nil, newRunContext(ExecOptions{}))
		for range 100 {
			if err := chain.push(rows); err != nil {
				b.Fatal(err)
			}
			n += len(rows)
		}
		if err := chain.finish(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}
