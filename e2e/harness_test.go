// Package e2e tests the real dohyo binary as a process on loopback ports:
// what a user and a client see, including crashes.
package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the dohyo binary built once for all tests.
var binary string

// testClient talks to the servers under test; it accepts their self-signed
// certificates (they listen on 127.0.0.1 only).
var testClient = &http.Client{
	Timeout:   60 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dohyo-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dohyo")
	build := exec.Command("go", "build", "-o", binary, "github.com/dohyo/dohyo/cmd/dohyo")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dohyo:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	testAccessID  = "e2e-access-id"
	testAccessKey = "e2e-access-key-0123456789"
)

// proc is a running dohyo server.
type proc struct {
	t       *testing.T
	dataDir string
	args    []string
	cmd     *exec.Cmd
	url     string
	logs    *syncBuffer
	exited  chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer starts `dohyo serve` on a free loopback port over dataDir
// (a new temporary folder when empty) and waits until /healthz is 200.
func startServer(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	p := &proc{t: t, dataDir: dataDir, args: extra}
	p.start()
	t.Cleanup(func() { p.stop() })
	return p
}

func (p *proc) start() {
	t := p.t
	t.Helper()
	os.Remove(filepath.Join(p.dataDir, "server.addr"))
	args := append([]string{"serve", "--data-dir", p.dataDir, "--listen", "127.0.0.1:0", "--min-free-disk", "64MiB"}, p.args...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "DOHYO_BOOTSTRAP_ACCESS_KEY="+testAccessID+":"+testAccessKey, "DOHYO_ADMIN_PASSWORD=e2e-admin-password")
	p.logs = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dohyo: %v", err)
	}
	p.cmd = cmd
	p.exited = make(chan struct{})
	go func() { cmd.Wait(); close(p.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(p.dataDir, "server.addr")); err == nil && len(b) > 0 {
			p.url = strings.TrimSpace(string(b))
			if resp, err := testClient.Get(p.url + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return
				}
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("dohyo exited during start:\n%s", p.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dohyo not healthy after 60s:\n%s", p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to die.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		p.t.Errorf("dohyo did not stop within 60s of SIGTERM:\n%s", p.logs)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 && !p.t.Failed() {
		p.t.Errorf("dohyo exited with status %d after SIGTERM:\n%s", code, p.logs)
	}
}

// api performs an authenticated API call and decodes the JSON answer.
func (p *proc) api(method, path string, body, out any) int {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	req.SetBasicAuth(testAccessID, testAccessKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := testClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			p.t.Fatalf("%s %s: status %d, body is not JSON: %v\n%s", method, path, resp.StatusCode, err, b)
		}
	}
	return resp.StatusCode
}

type source struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	Token string `json:"token"`
}

func (p *proc) createSource(name, category string, extra map[string]any) source {
	p.t.Helper()
	body := map[string]any{"name": name, "category": category}
	for k, v := range extra {
		body[k] = v
	}
	var s source
	if code := p.api("POST", "/api/v1/sources", body, &s); code != 201 {
		p.t.Fatalf("create source: status %d", code)
	}
	return s
}

// post sends a body to a receiver URL.
func post(t *testing.T, url string, body []byte, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type jobStatus struct {
	State            string `json:"state"`
	MessageCount     int    `json:"messageCount"`
	RecordCount      int    `json:"recordCount"`
	HistogramBuckets []struct {
		StartTimestamp int64 `json:"startTimestamp"`
		Length         int64 `json:"length"`
		Count          int64 `json:"count"`
	} `json:"histogramBuckets"`
	PendingErrors   []string `json:"pendingErrors"`
	PendingWarnings []string `json:"pendingWarnings"`
}

type resultPage struct {
	Fields []struct {
		Name     string `json:"name"`
		KeyField bool   `json:"keyField"`
	} `json:"fields"`
	Messages []struct {
		Map map[string]string `json:"map"`
	} `json:"messages"`
	Records []struct {
		Map map[string]string `json:"map"`
	} `json:"records"`
}

// searchResult is a finished search job's output.
type searchResult struct {
	status   jobStatus
	messages []map[string]string
	records  []map[string]string
	buckets  int64 // sum of histogram counts
}

// search runs a search job over [from, to) to completion, as a Sumo API
// script would: create, poll, page, delete.
func (p *proc) search(q string, from, to time.Time) searchResult {
	p.t.Helper()
	var created struct {
		ID string `json:"id"`
	}
	body := map[string]any{"query": q, "from": fmt.Sprint(from.UnixMilli()), "to": fmt.Sprint(to.UnixMilli()), "timeZone": "UTC"}
	if code := p.api("POST", "/api/v1/search/jobs", body, &created); code != 202 {
		p.t.Fatalf("create search job %q: status %d", q, code)
	}
	var res searchResult
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st jobStatus
		if code := p.api("GET", "/api/v1/search/jobs/"+created.ID, nil, &st); code != 200 {
			p.t.Fatalf("job status: %d", code)
		}
		for _, b := range st.HistogramBuckets {
			res.buckets += b.Count
		}
		if len(st.PendingErrors) > 0 {
			p.t.Fatalf("search %q failed: %v", q, st.PendingErrors)
		}
		if st.State == "DONE GATHERING RESULTS" || st.State == "FORCE PAUSED" || st.State == "CANCELLED" {
			res.status = st
			break
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("search %q not done after 60s: %+v", q, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for off := 0; off < res.status.MessageCount; off += 10000 {
		var page resultPage
		p.api("GET", fmt.Sprintf("/api/v1/search/jobs/%s/messages?offset=%d&limit=10000", created.ID, off), nil, &page)
		for _, m := range page.Messages {
			res.messages = append(res.messages, m.Map)
		}
	}
	for off := 0; off < res.status.RecordCount; off += 10000 {
		var page resultPage
		p.api("GET", fmt.Sprintf("/api/v1/search/jobs/%s/records?offset=%d&limit=10000", created.ID, off), nil, &page)
		for _, m := range page.Records {
			res.records = append(res.records, m.Map)
		}
	}
	p.api("DELETE", "/api/v1/search/jobs/"+created.ID, nil, nil)
	return res
}

// count runs `<scope> | count` and returns _count.
func (p *proc) count(scope string, from, to time.Time) int {
	p.t.Helper()
	res := p.search(scope+" | count", from, to)
	if len(res.records) != 1 {
		p.t.Fatalf("%s | count: %d records", scope, len(res.records))
	}
	var n int
	fmt.Sscan(res.records[0]["_count"], &n)
	return n
}

// waitCount polls until `<scope> | count` reaches want (data becomes
// searchable within seconds of its acknowledgement).
func (p *proc) waitCount(scope string, from, to time.Time, want int) int {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := p.count(scope, from, to)
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitMessages polls until a message search finds want messages. The
// engine counts freshly added rows (stats) up to about a second before it
// returns them as rows, so a count alone does not show that messages
// searches will see them.
func (p *proc) waitMessages(scope string, from, to time.Time, want int) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var created struct {
			ID string `json:"id"`
		}
		body := map[string]any{"query": scope, "from": fmt.Sprint(from.UnixMilli()), "to": fmt.Sprint(to.UnixMilli()), "timeZone": "UTC"}
		if code := p.api("POST", "/api/v1/search/jobs", body, &created); code != 202 {
			p.t.Fatalf("create search job %q: status %d", scope, code)
		}
		var st jobStatus
		for {
			p.api("GET", "/api/v1/search/jobs/"+created.ID, nil, &st)
			if st.State != "GATHERING RESULTS" && st.State != "NOT STARTED" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		p.api("DELETE", "/api/v1/search/jobs/"+created.ID, nil, nil)
		if st.MessageCount >= want {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: %d messages found after 30s, want %d", scope, st.MessageCount, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var _ = context.Background
