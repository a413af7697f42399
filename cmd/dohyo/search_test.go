package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/client/clienttest"
)

func fixedNow(t *testing.T) time.Time {
	now := time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)
	old := cfNow
	cfNow = func() time.Time { return now }
	t.Cleanup(func() { cfNow = old })
	return now
}

var testMessages = []map[string]string{
	{"_messagetime": "1763985600000", "_sourcecategory": "demo/app", "_raw": "2025-11-24 12:00:00.000 ERROR boom\n\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)", "_sourcehost": "payments-1"},
	{"_messagetime": "1763985660000", "_sourcecategory": "demo/web", "_raw": "1.2.3.4 - - \"GET / HTTP/1.1\" 500 12", "_sourcehost": "web-1"},
}

func TestSearchTableJSONCSV(t *testing.T) {
	withEnv(t, nil)
	now := fixedNow(t)
	srv, api := newFakeServer(t)
	srv.Search = func(q string) clienttest.Job {
		return clienttest.Job{Gathering: 1, Messages: testMessages, Fields: []map[string]any{
			{"name": "_messagetime", "fieldType": "long"}, {"name": "_raw", "fieldType": "string"}, {"name": "_sourcecategory", "fieldType": "string"},
		}}
	}
	out, errOut, err := runCmd(t, newSearchCmd(), "", append(api, "--from", "-1h", "error OR 500")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("table:\n%s", out)
	}
	if !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[0], "CATEGORY") || !strings.Contains(lines[0], "MESSAGE") {
		t.Errorf("header %q", lines[0])
	}
	// Newest first; continuation lines of a multi-line message are
	// indented under the message column.
	if !strings.HasPrefix(lines[1], "2025-11-24 12:01:00.000  demo/web") || !strings.HasPrefix(lines[2], "2025-11-24 12:00:00.000  demo/app") {
		t.Errorf("rows:\n%s", out)
	}
	col := strings.Index(lines[2], "2025-11-24 12:00:00.000 ERROR")
	if col <= 0 || strings.Index(lines[3], "at a.B.c") != col+4 {
		t.Errorf("continuation not aligned (message column %d):\n%s", col, out)
	}
	if !strings.Contains(errOut, "2 messages") {
		t.Errorf("stderr %q", errOut)
	}
	for _, j := range srv.Jobs() {
		if j.Request["from"] != "1763982000000" || j.Request["to"] != "1763985600000" || j.Request["query"] != "error OR 500" || j.Request["timeZone"] != "UTC" {
			t.Errorf("job request %v (now %v)", j.Request, now)
		}
		if !j.Deleted {
			t.Error("job not deleted")
		}
	}

	out, _, err = runCmd(t, newSearchCmd(), "", append(api, "--output", "json", "x")...)
	if err != nil {
		t.Fatal(err)
	}
	jl := strings.Split(strings.TrimSpace(out), "\n")
	if len(jl) != 2 {
		t.Fatalf("json output:\n%s", out)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(jl[0]), &m); err != nil || m["_sourcehost"] != "web-1" {
		t.Errorf("json line %q: %v", jl[0], err)
	}
	if !strings.HasPrefix(jl[0], `{"_messagetime":`) {
		t.Errorf("json keys not in field order: %s", jl[0])
	}

	out, _, err = runCmd(t, newSearchCmd(), "", append(api, "-o", "csv", "x")...)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != "_messagetime,_raw,_sourcecategory,_sourcehost" || !strings.Contains(rows[2][1], "\n\tat a.B.c") {
		t.Errorf("csv %q: %v", rows, err)
	}
}

func TestSearchRecordsTable(t *testing.T) {
	withEnv(t, nil)
	fixedNow(t)
	srv, api := newFakeServer(t)
	srv.Search = func(string) clienttest.Job {
		return clienttest.Job{
			Fields:   []map[string]any{{"name": "event_name", "fieldType": "string", "keyField": true}, {"name": "_count", "fieldType": "int"}},
			Records:  []map[string]string{{"event_name": "ConsoleLogin", "_count": "12"}, {"event_name": "AuthorizeSecurityGroupIngress", "_count": "3"}},
			Messages: []map[string]string{{"_raw": "x"}},
		}
	}
	out, errOut, err := runCmd(t, newSearchCmd(), "", append(api, "--from", "-24h", "_sourceCategory=aws/cloudtrail | count by event_name")...)
	if err != nil {
		t.Fatal(err)
	}
	want := "event_name                     _count\nConsoleLogin                   12\nAuthorizeSecurityGroupIngress  3\n"
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(errOut, "2 records") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestSearchErrors(t *testing.T) {
	withEnv(t, nil)
	fixedNow(t)
	srv, api := newFakeServer(t)
	srv.Search = func(string) clienttest.Job {
		return clienttest.Job{Error: `line 1, column 17: unknown operator "cout"; did you mean "count"?`}
	}
	_, _, err := runCmd(t, newSearchCmd(), "", append(api, "_sourceCategory=x | cout")...)
	if err == nil || !strings.Contains(err.Error(), `line 1, column 17: unknown operator "cout"`) {
		t.Errorf("parse error: %v", err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "yesterday", "x"}, "--from"},
		{[]string{"--to", "-2h", "--from", "-1h", "x"}, "is not before"},
		{[]string{"--output", "xml", "x"}, "--output"},
		{[]string{"--tz", "Mars/Olympus", "x"}, "--tz"},
		{[]string{"--limit", "-1", "x"}, "--limit"},
	} {
		_, _, err := runCmd(t, newSearchCmd(), "", append(api, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
	_, _, err = runCmd(t, newSearchCmd(), "", api...)
	if err == nil {
		t.Error("no query accepted")
	}
}

func TestSearchExplain(t *testing.T) {
	withEnv(t, nil)
	srv, api := newFakeServer(t)
	srv.Explain = func(q string) (string, error) {
		if strings.Contains(q, "cout") {
			return "", errors.New("line 1, column 5: unknown operator")
		}
		return "engine: _sourceCategory:demo/web | stats count()\ngo: (none)\n", nil
	}
	out, _, err := runCmd(t, newSearchCmd(), "", append(api, "--explain", "_sourceCategory=demo/web | count")...)
	if err != nil || out != "engine: _sourceCategory:demo/web | stats count()\ngo: (none)\n" {
		t.Errorf("explain %q, %v", out, err)
	}
	if len(srv.Jobs()) != 0 {
		t.Error("--explain ran a search job")
	}
	_, _, err = runCmd(t, newSearchCmd(), "", append(api, "--explain", "x | cout")...)
	if err == nil || !strings.Contains(err.Error(), "column 5") {
		t.Errorf("explain error %v", err)
	}
}
