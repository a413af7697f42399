package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return -1
}

const checkInputText = `_sourceCategory=prod/web
| count by _sourceHost

# A comment block, not a query.

_sourceCategory=prod
  | cout by x

* | lookup role, role from path://"/x" on user=user

	_sourceCategory={{category}} "error"
| count by _sourceHost
`

func TestQueryCheckPlain(t *testing.T) {
	out, errOut, err := runCmd(t, newQueryCmd(), checkInputText, "check")
	want := `query 1 (line 1): _sourceCategory=prod/web
  ok
query 2 (line 6): _sourceCategory=prod
  error at line 2, column 5 (input line 7): unknown operator "cout"
      | cout by x
        ^
  hint: did you mean "count"?
query 3 (line 9): * | lookup role, role from path://"/x" on user=user
  error at line 1, column 18 (input line 9): lookup returns two fields named role
    * | lookup role, role from path://"/x" on user=user
                     ^
  hint: give one of them another name with "as"
query 4 (line 11): _sourceCategory={{category}} "error"
  ok

summary: 4 queries, 2 ok, 2 failed
errors by kind:
      1  invalid
      1  unknown operator
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if errOut != "" || exitCode(err) != 1 {
		t.Errorf("stderr %q, exit %d (%v); want nothing and 1", errOut, exitCode(err), err)
	}

	// A file; every query valid: exit 0.
	path := filepath.Join(t.TempDir(), "q.txt")
	os.WriteFile(path, []byte("* | count\r\n\r\n\r\nerror | count by _sourceCategory\r\n"), 0o644)
	out, _, err = runCmd(t, newQueryCmd(), "", "check", path)
	if err != nil || !strings.HasSuffix(out, "summary: 2 queries, 2 ok, 0 failed\n") || !strings.Contains(out, "query 2 (line 4): error | count by _sourceCategory\n  ok\n") {
		t.Errorf("all valid: %v\n%s", err, out)
	}
	// A tab before the column keeps the caret aligned; unsupported
	// operators are counted.
	out, _, err = runCmd(t, newQueryCmd(), "*\n\t| count | sessionize x\n\n* | sessionize y", "check", "-")
	if exitCode(err) != 1 || !strings.Contains(out, "    \t| count | sessionize x\n    \t          ^\n") ||
		!strings.Contains(out, "errors by kind:\n      2  not supported yet: sessionize\nunsupported operators:\n      2  sessionize\n") {
		t.Errorf("tabs and summary: %v\n%s", err, out)
	}
	// Empty input.
	out, _, err = runCmd(t, newQueryCmd(), "\n\n", "check")
	if err != nil || out != "\nsummary: 0 queries, 0 ok, 0 failed\n" {
		t.Errorf("empty input: %v %q", err, out)
	}
}

func TestQueryCheckJSONL(t *testing.T) {
	in := `{"id": 7, "query": "* | count by _sourceHost"}
{"query": "* | cout"}

{"id": {"dashboard": "d1", "panel": 2}, "query": "_sourceCategory={{cat}} | count"}
{"id": "x\"y", "query": "* | lookup a from geo://location on ip=src"}
`
	out, errOut, err := runCmd(t, newQueryCmd(), in, "check", "--jsonl")
	want := `{"id":7,"ok":true}
{"ok":false,"error":"unknown operator \"cout\"","line":1,"column":5,"hint":"did you mean \"count\"?","kind":"unknown operator"}
{"id":{"dashboard":"d1","panel":2},"ok":true}
{"id":"x\"y","ok":false,"error":"geo lookup has no field a (it has latitude, longitude, continent, country_code, country_name, region, state, city, postal_code, connection_type, country_cf, state_cf, city_cf)","line":1,"column":12,"kind":"invalid"}
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if exitCode(err) != 1 || errOut != "summary: 4 queries, 2 ok, 2 failed\nerrors by kind:\n      1  invalid\n      1  unknown operator\n" {
		t.Errorf("exit %d, stderr:\n%s", exitCode(err), errOut)
	}
	out, _, err = runCmd(t, newQueryCmd(), `{"id":1,"query":"* | count"}`, "check", "--jsonl")
	if err != nil || out != "{\"id\":1,\"ok\":true}\n" {
		t.Errorf("valid: %v %q", err, out)
	}
}

func TestQueryCheckBadInput(t *testing.T) {
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{`{"query":"* | count"}` + "\n" + `{"query": 5}`, []string{"--jsonl"}, "standard input: line 2: not a JSON object"},
		{`{"query":"* | count"}` + "\n\n" + `not json`, []string{"--jsonl"}, "line 3: not a JSON object"},
		{`{"id": 1}`, []string{"--jsonl"}, `line 1: no "query" string`},
		{`{"query": "a"} {"query": "b"}`, []string{"--jsonl"}, "line 1: more than one JSON value"},
		{"", []string{filepath.Join(t.TempDir(), "missing.txt")}, "missing.txt: no such file"},
		{"\xff\xfe", nil, "is not UTF-8 text"},
	} {
		out, _, err := runCmd(t, newQueryCmd(), c.stdin, append([]string{"check"}, c.args...)...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) || out != "" {
			t.Errorf("%q %v: exit %d, err %v, stdout %q; want 2 and %q", c.stdin, c.args, exitCode(err), err, out, c.want)
		}
	}
}

// TestQueryCheckCorpus runs the command over the query corpus.
func TestQueryCheckCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "query", "testdata", "corpus", "*.txt"))
	if len(files) == 0 {
		t.Skip("no corpus")
	}
	out, _, err := runCmd(t, newQueryCmd(), "", "check", files[0])
	if c := exitCode(err); c != 0 && c != 1 {
		t.Fatalf("exit %d: %v", c, err)
	}
	if !strings.Contains(out, "summary: ") {
		t.Errorf("no summary:\n%s", out)
	}
}
