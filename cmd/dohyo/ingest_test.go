package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dohyo/dohyo/client"
	"github.com/dohyo/dohyo/client/clienttest"
)

func TestIngestFilesAndStdin(t *testing.T) {
	withEnv(t, nil)
	srv, _ := newFakeServer(t)
	url, id := createSource(t, srv, "web")
	dir := t.TempDir()
	var want []string
	var a, b bytes.Buffer
	for i := 0; i < 300; i++ {
		l := fmt.Sprintf("10.0.0.%d - - [24/Nov/2025:10:00:%02d +0000] \"GET /p/%d HTTP/1.1\" 200 %d", i%255, i%60, i, 100+i)
		want = append(want, l)
		if i < 200 {
			a.WriteString(l + "\r\n") // CRLF is accepted
		} else {
			b.WriteString(l + "\n")
		}
	}
	fa := filepath.Join(dir, "a.log")
	if err := os.WriteFile(fa, a.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The second file is gzip-compressed: read transparently.
	fb := filepath.Join(dir, "b.log.gz")
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b.Bytes())
	zw.Close()
	if err := os.WriteFile(fb, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin := "from stdin 1\n\nfrom stdin 2" // no final newline, one empty line
	out, errOut, err := runCmd(t, newIngestCmd(), stdin, "--url", url, "--category", "prod/web", "--host", "web-9", "--fields", "env=test,team=web",
		"--batch-bytes", "2000", fa, fb, "-")
	if err != nil {
		t.Fatalf("ingest: %v\n%s%s", err, out, errOut)
	}
	want = append(want, "from stdin 1", "from stdin 2")
	// Two requests are in flight at a time: compare without order.
	got := srv.SortedLines(id)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("server got %d lines, want %d", len(got), len(want))
	}
	reqs := srv.Requests()
	if len(reqs) < 10 {
		t.Errorf("%d requests for ~25 kB with --batch-bytes 2000", len(reqs))
	}
	for _, r := range reqs {
		if r.Category != "prod/web" || r.Host != "web-9" || r.Fields != "env=test,team=web" || r.Encoding != "gzip" {
			t.Fatalf("request metadata %+v", r)
		}
	}
	for _, w := range []string{"3 files", "302 events", "retries: 0", "rejected: 0 batches"} {
		if !strings.Contains(out, w) {
			t.Errorf("summary lacks %q:\n%s", w, out)
		}
	}
}

func TestIngestReportsRejectionsAndFails(t *testing.T) {
	withEnv(t, nil)
	srv, _ := newFakeServer(t)
	url, id := createSource(t, srv, "app")
	srv.Receiver = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return false
		}
		data, _ := io.ReadAll(zr)
		if len(data) > 5000 {
			clienttest.WriteError(w, 413, "payload.too.large", fmt.Sprintf("request body of %d bytes exceeds the limit", len(data)))
			return true
		}
		// Let the fake handle it normally: rebuild the body.
		r.Body = io.NopCloser(bytes.NewReader(clienttest.Gzip(data)))
		return false
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "app.log")
	huge := strings.Repeat("Z", 6000)
	content := "ok line 1\n" + huge + "\nok line 2\n"
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCmd(t, newIngestCmd(), "", "--url", url, "--batch-bytes", "4096", "--no-gzip=false", f)
	if err == nil || !strings.Contains(err.Error(), "rejected 1 event") {
		t.Fatalf("error %v\n%s", err, out)
	}
	if !strings.Contains(errOut, "app.log:2: line of 6.0 kB is larger than the batch budget") {
		t.Errorf("no warning for the long line:\n%s", errOut)
	}
	if !strings.Contains(out, "payload.too.large") || !strings.Contains(out, "exceeds the limit") {
		t.Errorf("summary lacks the reason:\n%s", out)
	}
	if got := srv.SortedLines(id); strings.Join(got, ",") != "ok line 1,ok line 2" {
		t.Errorf("server got %v", got)
	}
}

func TestIngestChecksFilesFirst(t *testing.T) {
	withEnv(t, nil)
	srv, _ := newFakeServer(t)
	url, _ := createSource(t, srv, "x")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.log")
	os.WriteFile(good, []byte("a\n"), 0o644)
	_, _, err := runCmd(t, newIngestCmd(), "", "--url", url, good, filepath.Join(dir, "missing.log"))
	if err == nil || !strings.Contains(err.Error(), "missing.log") {
		t.Fatalf("error %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent before the missing file was noticed", n)
	}
	_, _, err = runCmd(t, newIngestCmd(), "", "--url", url, dir)
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestIngestGivesUpWhenServerIsDown(t *testing.T) {
	withEnv(t, map[string]string{cfEnvReceiverURL: "http://127.0.0.1:1/receiver/v1/http/tok"})
	done := make(chan error, 1)
	go func() {
		_, _, err := runCmd(t, newIngestCmd(), "one line\n", "--max-attempts", "1")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "gave up") {
			t.Errorf("error %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ingest did not give up")
	}
}

func TestProgressLinesWhenNotATerminal(t *testing.T) {
	old := cfProgressEvery
	cfProgressEvery = 10 * time.Millisecond
	defer func() { cfProgressEvery = old }()
	var b bytes.Buffer
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	w := writerFunc(func(p []byte) (int, error) { <-mu; defer func() { mu <- struct{}{} }(); return b.Write(p) })
	p := cfStartProgress(w, "events", 1000, func() int64 { return 500 }, func() client.Stats { return client.Stats{Events: 10, Bytes: 2000, Requests: 1} })
	time.Sleep(50 * time.Millisecond)
	p.stop()
	<-mu
	if !strings.Contains(b.String(), "progress: read 500 B of 1.0 kB; 10 events sent") {
		t.Errorf("progress output %q", b.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
