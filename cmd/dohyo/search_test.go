package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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
	// The command streams: no search job is created.
	if len(srv.Jobs()) != 0 {
		t.Errorf("search created jobs: %v", srv.Jobs())
	}
	streams := srv.Streams()
	if len(streams) != 1 {
		t.Fatalf("%d stream requests, want 1", len(streams))
	}
	if r := streams[0]; r["from"] != "1763982000000" || r["to"] != "1763985600000" || r["query"] != "error OR 500" || r["timeZone"] != "UTC" || r["limit"] != float64(100) {
		t.Errorf("stream request %v (now %v)", r, now)
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

// syncWriter is a writer the test can watch while a command runs.
type syncWriter struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{}
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// Messages are printed as they arrive: the first batch is on stdout while
// the server still holds the rest of the stream.
func TestSearchPrintsRowsAsTheyArrive(t *testing.T) {
	withEnv(t, nil)
	fixedNow(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		rc := http.NewResponseController(w)
		io.WriteString(w, `{"type":"meta","aggregate":false,"fields":[]}`+"\n")
		io.WriteString(w, `{"type":"messages","messages":[{"_messagetime":"1763985660000","_sourcecategory":"demo/web","_raw":"first batch"}]}`+"\n")
		rc.Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, `{"type":"messages","messages":[{"_messagetime":"1763985600000","_sourcecategory":"demo/a-longer-category","_raw":"second batch"}]}`+"\n")
		io.WriteString(w, `{"type":"warning","message":"careful"}`+"\n")
		io.WriteString(w, `{"type":"done","state":"DONE GATHERING RESULTS","messageCount":2,"histogramCount":7,"truncated":true}`+"\n")
	}))
	defer srv.Close()
	out := &syncWriter{changed: make(chan struct{}, 1)}
	var errOut bytes.Buffer
	cmd := newSearchCmd()
	cmd.SetArgs([]string{"--api", srv.URL, "--access-id", "id-1", "--access-key", "key-1", "--limit", "2", "x"})
	cmd.SetOut(out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	res := make(chan error, 1)
	go func() { res <- cmd.ExecuteContext(context.Background()) }()
	guard := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "first batch") {
		select {
		case <-out.changed:
		case err := <-res:
			t.Fatalf("the command ended before the stream did: %v", err)
		case <-guard:
			close(release)
			t.Fatalf("the first batch was not printed while the stream was open; stdout %q", out.String())
		}
	}
	close(release)
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], "demo/web  first batch") || !strings.Contains(lines[2], "demo/a-longer-category  second batch") {
		t.Errorf("output:\n%s", out.String())
	}
	if e := errOut.String(); !strings.Contains(e, "warning: careful") || !strings.Contains(e, "7 messages, showing 2 (raise --limit to see more)") {
		t.Errorf("stderr %q", e)
	}
}

func TestSearchErrorEvents(t *testing.T) {
	withEnv(t, nil)
	fixedNow(t)
	body := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	api := []string{"--api", srv.URL, "--access-id", "id-1", "--access-key", "key-1"}
	// An error and nothing found: the command fails with the error.
	body = `{"type":"meta","aggregate":true,"fields":[]}` + "\n" +
		`{"type":"error","code":"searchjob.too.many.groups","message":"too many groups: \"count by _raw\" produces more than 10 groups"}` + "\n" +
		`{"type":"done","state":"DONE GATHERING RESULTS","messageCount":0,"recordCount":0}` + "\n"
	_, errOut, err := runCmd(t, newSearchCmd(), "", append(api, "x | count by _raw")...)
	if err == nil || !strings.Contains(err.Error(), "more than 10 groups") || !strings.Contains(errOut, "error: too many groups") {
		t.Errorf("error %v, stderr %q", err, errOut)
	}
	// Partial results with an error: printed, the error on stderr.
	body = `{"type":"meta","aggregate":true,"fields":[{"name":"_count","fieldType":"int"}]}` + "\n" +
		`{"type":"records","fields":[{"name":"_count","fieldType":"int"}],"records":[{"_count":"5"}]}` + "\n" +
		`{"type":"error","code":"searchjob.timeout","message":"the search ran out of its time budget of 5m0s; results are partial"}` + "\n" +
		`{"type":"done","state":"DONE GATHERING RESULTS","messageCount":9,"recordCount":1}` + "\n"
	out, errOut, err := runCmd(t, newSearchCmd(), "", append(api, "x | count")...)
	if err != nil || out != "_count\n5\n" || !strings.Contains(errOut, "results are partial") || !strings.Contains(errOut, "1 record") {
		t.Errorf("partial: %v, out %q, stderr %q", err, out, errOut)
	}
	// Cancelled by the server.
	body = `{"type":"meta"}` + "\n" + `{"type":"error","code":"service.unavailable","message":"the server is shutting down"}` + "\n" + `{"type":"done","state":"CANCELLED"}` + "\n"
	if _, _, err := runCmd(t, newSearchCmd(), "", append(api, "x")...); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("cancelled: %v", err)
	}
	// A stream cut short is an error.
	body = `{"type":"meta"}` + "\n"
	if _, _, err := runCmd(t, newSearchCmd(), "", append(api, "x")...); err == nil || !strings.Contains(err.Error(), "ended before") {
		t.Errorf("cut: %v", err)
	}
	// No messages: the table header alone.
	body = `{"type":"meta"}` + "\n" + `{"type":"done","state":"DONE GATHERING RESULTS"}` + "\n"
	if out, errOut, err := runCmd(t, newSearchCmd(), "", append(api, "x")...); err != nil || !strings.HasPrefix(out, "TIME") || strings.Count(out, "\n") != 1 || !strings.Contains(errOut, "0 messages") {
		t.Errorf("empty: %v, out %q, stderr %q", err, out, errOut)
	}
}
