package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestUploadFormatsAndSearchBack(t *testing.T) {
	p := startServer(t, "")
	src := p.createSource("e2e", "e2e/app", map[string]any{"host": "h1", "fields": map[string]string{"env": "test"}})
	if !strings.HasPrefix(src.URL, p.url+"/receiver/v1/http/") || src.Token == "" {
		t.Fatalf("source URL %q token %q", src.URL, src.Token)
	}
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04:05.000Z") }

	// Plain lines with timestamps.
	plain := fmt.Sprintf("%s INFO plainmarker one\n%s WARN plainmarker two\n", ts(-3*time.Minute), ts(-2*time.Minute))
	if code, body := post(t, src.URL, []byte(plain), nil); code != 200 {
		t.Fatalf("plain upload: %d %s", code, body)
	}
	// Gzip with header overrides and the header form of the token.
	gzLines := fmt.Sprintf("%s ERROR gzipmarker a\n%s ERROR gzipmarker b\n%s ERROR gzipmarker c\n", ts(-time.Minute), ts(-time.Minute), ts(-time.Minute))
	code, body := post(t, p.url+"/receiver/v1/http", gz(t, []byte(gzLines)), map[string]string{
		"X-Sumo-Token": src.Token, "Content-Encoding": "gzip", "X-Sumo-Category": "e2e/override", "X-Sumo-Fields": "team=core",
	})
	if code != 200 {
		t.Fatalf("gzip upload: %d %s", code, body)
	}
	// A multiline event: a stack trace continues the line before it.
	multi := fmt.Sprintf("%s ERROR multimarker failed\njava.lang.IllegalStateException: boom\n\tat a.b.C.d(C.java:10)\n%s INFO multimarker next\n", ts(-50*time.Second), ts(-40*time.Second))
	if code, body := post(t, src.URL, []byte(multi), nil); code != 200 {
		t.Fatalf("multiline upload: %d %s", code, body)
	}
	// A CloudTrail delivery file.
	ct := fmt.Sprintf(`{"Records":[{"eventVersion":"1.08","eventTime":"%s","eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","userIdentity":{"type":"IAMUser","userName":"alice"}},`+
		`{"eventVersion":"1.08","eventTime":"%s","eventName":"CreateUser","eventSource":"iam.amazonaws.com","userIdentity":{"type":"IAMUser","userName":"bob"}}]}`,
		now.Add(-30*time.Second).Format(time.RFC3339), now.Add(-20*time.Second).Format(time.RFC3339))
	if code, body := post(t, src.URL, gz(t, []byte(ct)), map[string]string{"Content-Encoding": "gzip", "X-Sumo-Category": "aws/cloudtrail"}); code != 200 {
		t.Fatalf("cloudtrail upload: %d %s", code, body)
	}

	from, to := now.Add(-time.Hour), now.Add(time.Minute)
	if n := p.waitCount("*", from, to, 9); n != 9 {
		t.Fatalf("* | count = %d, want 9 (2 plain + 3 gzip + 2 multiline + 2 cloudtrail)", n)
	}
	// The engine indexes a new stream (here: a new category) on its own
	// schedule, up to about a second after the stream's rows are
	// searchable; wait for the index too.
	for scope, n := range map[string]int{"_sourceCategory=e2e/app": 4, "_sourceCategory=e2e/override": 3, "_sourceCategory=aws/cloudtrail": 2} {
		p.waitCount(scope, from, to, n)
	}
	p.waitMessages("*", from, to, 9)
	checks := []struct {
		q    string
		want int
	}{
		{"plainmarker", 2},
		{"PLAINMARKER two", 1},
		{"gzipmarker", 3},
		{"_sourceCategory=e2e/override", 3},
		{"_sourcecategory=E2E/OVERRIDE gzipmarker", 3},
		{"_sourceCategory=e2e*", 7},
		{"_sourceCategory=aws/cloudtrail", 2},
		{"team=core", 3},
		{"env=test", 9},
		{"multimarker", 2},
		{"IllegalStateException", 1},
		{"ConsoleLogin OR CreateUser", 2},
		{"_sourceCategory=aws/cloudtrail NOT alice", 1},
		{`"gzipmarker a"`, 1},
		{"gzip*", 3},
		{"nosuchword", 0},
	}
	for _, c := range checks {
		if got := p.count(c.q, from, to); got != c.want {
			t.Errorf("%s | count = %d, want %d", c.q, got, c.want)
		}
	}

	// Messages: newest first, metadata as Sumo's API names it, _raw intact.
	res := p.search("multimarker OR _sourceCategory=aws/cloudtrail", from, to)
	if len(res.messages) != 4 || res.buckets != 4 {
		t.Fatalf("got %d messages and %d in the histogram, want 4 and 4", len(res.messages), res.buckets)
	}
	var prev int64 = 1 << 62
	for _, m := range res.messages {
		var mt int64
		fmt.Sscan(m["_messagetime"], &mt)
		if mt > prev {
			t.Errorf("messages not newest first: %d after %d", mt, prev)
		}
		prev = mt
		if m["_sourcehost"] != "h1" || m["_receipttime"] == "" || m["_collector"] == "" {
			t.Errorf("metadata missing: %v", m)
		}
	}
	var trace map[string]string
	for _, m := range res.messages {
		if strings.Contains(m["_raw"], "failed") {
			trace = m
		}
	}
	if trace == nil || !strings.Contains(trace["_raw"], "\tat a.b.C.d(C.java:10)") {
		t.Errorf("multiline event not kept whole: %v", trace)
	}
	wantTime := now.Add(-20 * time.Second).Truncate(time.Second).UnixMilli()
	if got := res.messages[0]["_messagetime"]; got != fmt.Sprint(wantTime) {
		t.Errorf("newest CloudTrail record has _messagetime %s, want its eventTime %d", got, wantTime)
	}

	// Aggregate records.
	res = p.search("* | count by _sourceCategory", from, to)
	got := map[string]string{}
	for _, r := range res.records {
		got[r["_sourcecategory"]] = r["_count"]
	}
	if got["e2e/app"] != "4" || got["e2e/override"] != "3" || got["aws/cloudtrail"] != "2" {
		t.Errorf("count by _sourceCategory = %v", got)
	}
}

func TestReceiverErrors(t *testing.T) {
	p := startServer(t, "", "--max-body", "64KiB", "--max-decompressed", "256KiB", "--max-line", "8KiB")
	src := p.createSource("errs", "e2e/errs", nil)

	cases := []struct {
		name    string
		url     string
		body    []byte
		headers map[string]string
		status  int
		msg     string
	}{
		{"unknown token", p.url + "/receiver/v1/http/dhs_nope", []byte("x\n"), nil, 401, "unknown or revoked"},
		{"no token", p.url + "/receiver/v1/http", []byte("x\n"), nil, 401, "no source token"},
		{"corrupt gzip", src.URL, []byte("this is not gzip"), map[string]string{"Content-Encoding": "gzip"}, 400, "gzip"},
		{"unknown encoding", src.URL, []byte("x\n"), map[string]string{"Content-Encoding": "br"}, 415, "br"},
		{"body too large", src.URL, bytes.Repeat([]byte("a b c d\n"), 10000), nil, 413, "limit"},
		{"gzip bomb", src.URL, gz(t, make([]byte, 50<<20)), map[string]string{"Content-Encoding": "gzip"}, 413, "limit"},
		{"line too long", src.URL, []byte(strings.Repeat("x", 9000) + "\n"), nil, 413, "line"},
		{"bad fields header", src.URL, []byte("x\n"), map[string]string{"X-Sumo-Fields": "novalue"}, 400, "X-Sumo-Fields"},
		{"metrics", src.URL, []byte("a.b 1 1700000000\n"), map[string]string{"Content-Type": "application/vnd.sumologic.graphite"}, 415, "metrics"},
	}
	for _, c := range cases {
		code, body := post(t, c.url, c.body, c.headers)
		if code != c.status || !strings.Contains(strings.ToLower(body), strings.ToLower(c.msg)) {
			t.Errorf("%s: %d %s; want %d mentioning %q", c.name, code, body, c.status, c.msg)
		}
	}
	// GET is not an upload.
	resp, err := testClient.Get(src.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}

	// The API refuses callers without valid credentials and touches nothing.
	for _, auth := range [][2]string{{"", ""}, {testAccessID, "wrong"}} {
		req, _ := http.NewRequest("POST", p.url+"/api/v1/sources", strings.NewReader(`{"name":"x","category":"y"}`))
		if auth[0] != "" {
			req.SetBasicAuth(auth[0], auth[1])
		}
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("API with credentials %q: %d, want 401", auth, resp.StatusCode)
		}
	}
	var list struct {
		Sources []source `json:"sources"`
	}
	p.api("GET", "/api/v1/sources", nil, &list)
	if len(list.Sources) != 1 {
		t.Errorf("%d sources after refused creates, want 1", len(list.Sources))
	}

	// Nothing rejected was stored.
	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Minute)
	if code, _ := post(t, src.URL, []byte("goodmarker\n"), nil); code != 200 {
		t.Fatal("good upload refused")
	}
	if n := p.waitCount("*", from, to, 1); n != 1 {
		t.Errorf("%d events stored, want only the good one", n)
	}

	// Deleting the source revokes its token at once.
	p.api("DELETE", "/api/v1/sources/"+src.ID, nil, nil)
	if code, _ := post(t, src.URL, []byte("late\n"), nil); code != 401 {
		t.Errorf("upload after source delete: %d, want 401", code)
	}

	// Rejections are counted by reason.
	resp, err = testClient.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var mb bytes.Buffer
	mb.ReadFrom(resp.Body)
	for _, reason := range []string{"unauthorized", "too_large", "bad_encoding", "malformed"} {
		if !strings.Contains(mb.String(), fmt.Sprintf(`dohyo_ingest_rejected_requests_total{reason=%q}`, reason)) {
			t.Errorf("/metrics has no rejection count for %q", reason)
		}
	}
	// The engine's parts and merges (its write amplification).
	for _, name := range []string{`dohyo_engine_rows_merged_total{type="inmemory"}`, `dohyo_engine_merges_total{type="small"}`, `dohyo_engine_parts{type="big"}`, `dohyo_engine_pending_rows`} {
		if !strings.Contains(mb.String(), name+" ") {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

func TestBackPressureOnLowDisk(t *testing.T) {
	// A floor above any real free space makes every upload a 429.
	p := startServer(t, "", "--min-free-disk", "1000TiB")
	src := p.createSource("bp", "e2e/bp", nil)
	req, _ := http.NewRequest("POST", src.URL, strings.NewReader("x\n"))
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("upload under the disk floor: %d Retry-After=%q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestBootstrapCredentialsFile(t *testing.T) {
	p := startServer(t, "")
	path := filepath.Join(p.dataDir, "bootstrap-credentials")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "DOHYO_ACCESS_ID="+testAccessID) || !strings.Contains(string(b), "DOHYO_ACCESS_KEY="+testAccessKey) {
		t.Errorf("credentials file does not hold the bootstrap key:\n%s", b)
	}
}
