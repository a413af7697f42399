package query

import (
	"strings"
	"testing"
)

// applyStage runs the Go operators of "* | <stages>" over in-memory
// messages with the given raws and returns each output message's fields
// (goldenMessageFields), or "dropped".
func applyStage(t *testing.T, stages string, raws ...string) []string {
	t.Helper()
	q, err := Parse("* | " + stages)
	if err != nil {
		t.Fatalf("%s: %v", stages, err)
	}
	p, err := Compile(q, CompileOptions{})
	if err != nil {
		t.Fatalf("%s: %v", stages, err)
	}
	var out []string
	for _, raw := range raws {
		coll := &recordCollector{}
		chain := p.buildChain(coll, len(p.steps), nil, nil)
		if err := chain.push([]Row{testMessage(raw)}); err != nil {
			t.Fatal(err)
		}
		if len(coll.rows) == 0 {
			out = append(out, "dropped")
		}
		for _, r := range coll.rows {
			out = append(out, goldenMessageFields(r))
		}
	}
	return out
}

func checkStage(t *testing.T, stages string, cases [][2]string) {
	t.Helper()
	for _, c := range cases {
		got := applyStage(t, stages, c[0])
		if len(got) != 1 || got[0] != c[1] {
			t.Errorf("%s on %q:\n got %q\nwant %q", stages, c[0], got, c[1])
		}
	}
}

func TestKeyValueInference(t *testing.T) {
	checkStage(t, `kv "user", "action"`, [][2]string{
		{`user=alice action=login`, `action=login user=alice`},
		{`user: bob, action -> logout;`, `action=logout user=bob`},
		{`user="carol smith" action='sign in'`, `action="sign in" user="carol smith"`},
		{`user = dave`, `user=dave`},
		{`user=eve user=frank`, `user=eve`},
		{`xuser=no action=yes`, `action=yes`},
		{`nothing here`, `dropped`},
		{`user= action=x`, `action=x`},
		{`at 10:00:01 user=g (action=h)`, `action=h user=g`},
		{`User=upper`, `dropped`},
		{`msg="say \"hi\"" user=i`, `user=i`},
		{`{user=j, action=k}`, `action=k user=j`},
	})
	checkStage(t, `kv "user" nodrop`, [][2]string{{`nothing`, `-`}, {`user=x`, `user=x`}})
	checkStage(t, `kv "serviceinfo.IP", "perf.x"`, [][2]string{
		{`{perf.x=129, serviceinfo.IP=10.2.3.4}`, `perf_x=129 serviceinfo_ip=10.2.3.4`},
	})
	checkStage(t, `kv keyvaluedelimiter ":" pairdelimiter "|" "a", "b c"`, [][2]string{
		{`a: 1 | b c : two words | d:4`, `a=1 b_c="two words"`},
		{`a:"q|uoted"`, `a="\"q"`},
	})
	checkStage(t, `kv delim "=" "a"`, [][2]string{{`a:1 a=2`, `a=2`}})
}

func TestKeyValueAuto(t *testing.T) {
	checkStage(t, `kv auto`, [][2]string{
		{`a=1 b=2 a=3 C-D=4 _x=5`, `a=3 b=2 c_d=4`},
		{`no pairs`, `dropped`},
	})
	checkStage(t, `kv auto nodrop`, [][2]string{{`no pairs`, `-`}})
	checkStage(t, `kv auto keys "a" as first refonly`, [][2]string{{`a=1 b=2`, `first=1`}})
	checkStage(t, `kv auto keys "a" as first`, [][2]string{{`a=1 b=2`, `b=2 first=1`}})
	var many string
	for i := range 120 {
		many += "k" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "=v "
	}
	got := applyStage(t, `kv auto`, many)
	if n := len(strings.Fields(got[0])); n != maxAutoKeys {
		t.Errorf("kv auto extracted %d of 120 keys, want %d", n, maxAutoKeys)
	}
}

func TestKeyValueRegex(t *testing.T) {
	line := `2017-09-08 INFO [log] reqId=b588 {perf.response_time_ms=129, request.trace_local_flag=true, serviceinfo.IP=10.211.77.111, request.method=GET}`
	checkStage(t, `keyvalue regex "\s(.*?)=(.*?)," "serviceinfo.IP", "perf.response_time_ms" as ip, ms`, [][2]string{{line, `ip=10.211.77.111`}})
	checkStage(t, `keyvalue regex "=(.*?)," "serviceinfo.IP", "request.trace_local_flag"`, [][2]string{{line, `request_trace_local_flag=true serviceinfo_ip=10.211.77.111`}})
	checkStage(t, `keyvalue regex "(\w+)=(\d+)"`, [][2]string{{`a=1 b=x c=3`, `a=1 c=3`}, {`none`, `dropped`}})
}

func TestCSVAndSplit(t *testing.T) {
	checkStage(t, `csv _raw extract 1 as a, 3 as c`, [][2]string{
		{`x,y,z`, `a=x c=z`},
		{`"x,1",y,"z ""q"""`, `a=x,1 c="z \"q\""`},
		{`x,y`, `dropped`},
		{``, `dropped`},
		{`a\,b,c,d`, `a=a,b c=d`},
		{`,,z`, `c=z`},
		{` x , y , z `, `a=" x " c=" z "`},
	})
	checkStage(t, `csv extract a, _, c nodrop`, [][2]string{{`1`, `a=1`}, {`1,2,3,4`, `a=1 c=3`}})
	checkStage(t, `split _raw delim='|' extract 2 as level, 4 as msg`, [][2]string{
		{`2024|WARN|x|disk full`, `level=WARN msg="disk full"`},
		{`2024|"WARN|X"|x|m`, `level=WARN|X msg=m`},
	})
	checkStage(t, `split _raw delim=':' escape='\\' quote='\'' extract a, b, 5 as e, f`, [][2]string{
		{`1:2:3:4:5:6`, `a=1 b=2 e=5 f=6`},
		{`'a:b':c\:d:3:4:5:6`, `a=a:b b=c:d e=5 f=6`},
	})
	checkStage(t, `split _raw delim='\t' extract 2 as b`, [][2]string{{"a\tb\tc", `b=b`}})
	checkStage(t, `split _raw delim=' ' extract 2 as b | split field=b delim='.' extract 1 as x`, [][2]string{{"a 1.2 c", `b=1.2 x=1`}})
}
