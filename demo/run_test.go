package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/client/clienttest"
)

// syncBuffer is a goroutine-safe progress sink.
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

func TestRunBackfillLiveAndRestart(t *testing.T) {
	srv := clienttest.NewServer("demo-id", "demo-key")
	defer srv.Close()
	statePath := filepath.Join(t.TempDir(), "state", "demo-state.json")
	var out syncBuffer
	cfg := Config{
		APIURL: srv.URL, AccessID: "demo-id", AccessKey: "demo-key",
		BackfillEvents:  4000,
		LiveRate:        200,
		SuspiciousEvery: 50 * time.Millisecond,
		StateFile:       statePath,
		Out:             &out,
		tick:            20 * time.Millisecond,
		progressEvery:   10 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()

	// Wait for the live phase and a few bursts, then stop.
	deadline := time.Now().Add(60 * time.Second)
	for strings.Count(out.String(), "suspicious burst") < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	log := out.String()
	for _, w := range []string{"created source demo/web/access", "created source demo/app/payments", "created source aws/cloudtrail", "backfill", "live traffic at 200 events/s", "suspicious burst: console-login-failures"} {
		if !strings.Contains(log, w) {
			t.Errorf("progress lacks %q:\n%s", w, log)
		}
	}

	sources := srv.Sources()
	if len(sources) != 3 {
		t.Fatalf("sources %+v", sources)
	}
	byCat := map[string]clienttest.Source{}
	for _, s := range sources {
		byCat[s.Category] = s
	}
	if byCat[CategoryApp].Multiline != "auto" || byCat[CategoryWeb].Fields["env"] != "demo" {
		t.Errorf("source settings %+v", sources)
	}
	hosts := map[string]bool{}
	counts := map[string]int{}
	for _, r := range srv.Requests() {
		src := ""
		for _, s := range sources {
			if s.ID == r.SourceID {
				src = s.Category
			}
		}
		counts[src] += len(r.Lines())
		hosts[src+" "+r.Host] = true
		if r.Encoding != "gzip" {
			t.Errorf("request without gzip")
		}
		if src == CategoryApp && (strings.HasPrefix(r.Body, "\tat ") || strings.HasPrefix(r.Body, "Caused by")) {
			t.Errorf("an app request starts inside a stack trace: an event was split")
		}
		if src == CategoryCloudTrail {
			for _, l := range r.Lines() {
				if !json.Valid([]byte(l)) {
					t.Fatalf("CloudTrail line is not JSON: %.200s", l)
				}
			}
		}
	}
	for _, h := range []string{CategoryWeb + " web-1", CategoryWeb + " web-2", CategoryWeb + " web-3", CategoryApp + " payments-1", CategoryCloudTrail + " "} {
		if !hosts[h] {
			t.Errorf("no requests for %q (got %v)", h, hosts)
		}
	}
	if counts[CategoryWeb] < 2500 || counts[CategoryCloudTrail] < 300 {
		t.Errorf("received %v", counts)
	}

	var st state
	data, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	if time.Since(st.CoveredUntil) > 30*time.Second || len(st.Sources) != 3 {
		t.Errorf("state %+v", st)
	}

	// Restart: no second backfill, only the short gap; the sources are
	// reused with a new token.
	before := len(srv.Lines(""))
	var out2 syncBuffer
	cfg.Out, cfg.LiveRate = &out2, -1
	if err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("second Run: %v\n%s", err, out2.String())
	}
	log2 := out2.String()
	if !strings.Contains(log2, "reusing source demo/web/access") || strings.Contains(log2, "demo: backfill ") || strings.Contains(log2, "created source") {
		t.Errorf("second run:\n%s", log2)
	}
	if len(srv.Sources()) != 3 {
		t.Errorf("sources after restart: %d", len(srv.Sources()))
	}
	if added := len(srv.Lines("")) - before; added > 200 {
		t.Errorf("the restart sent %d lines: it backfilled again", added)
	}
}

func TestRunFillsGapBoundedByBackfill(t *testing.T) {
	srv := clienttest.NewServer("a", "b")
	defer srv.Close()
	state := filepath.Join(t.TempDir(), "s.json")
	now := time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)
	// The last run ended 2 hours ago.
	old := state0(now.Add(-2 * time.Hour))
	if err := saveState(state, &old); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	err := Run(context.Background(), Config{APIURL: srv.URL, AccessID: "a", AccessKey: "b", Backfill: 10 * time.Hour, BackfillEvents: 5000,
		LiveRate: -1, StateFile: state, Out: &out, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "gap fill 2025-11-24 10:00 → 2025-11-24 12:00 UTC: about 1,000 events") {
		t.Errorf("progress:\n%s", out.String())
	}
	st, err := loadState(state)
	if err != nil || !st.CoveredUntil.Equal(now) {
		t.Errorf("state %+v %v", st, err)
	}
	// A gap longer than Backfill is cut to Backfill.
	old = state0(now.Add(-30 * 24 * time.Hour))
	saveState(state, &old)
	var out2 syncBuffer
	err = Run(context.Background(), Config{APIURL: srv.URL, AccessID: "a", AccessKey: "b", Backfill: 3 * time.Hour, BackfillEvents: 300,
		LiveRate: -1, StateFile: state, Out: &out2, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out2.String(), "gap fill 2025-11-24 09:00 → 2025-11-24 12:00 UTC: about 300 events") {
		t.Errorf("progress:\n%s", out2.String())
	}
}

func state0(covered time.Time) state { return state{Version: 1, CoveredUntil: covered} }

func TestRunReportsAPIErrors(t *testing.T) {
	srv := clienttest.NewServer("a", "b")
	defer srv.Close()
	err := Run(context.Background(), Config{APIURL: srv.URL, AccessID: "a", AccessKey: "wrong", LiveRate: -1})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("error %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	err = Run(context.Background(), Config{APIURL: srv.URL, AccessID: "a", AccessKey: "b", StateFile: bad, LiveRate: -1})
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad state file: %v", err)
	}
}
