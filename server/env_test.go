package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/geoip/geoiptest"
)

const (
	testID  = "SERVER-ENV-ID1"
	testKey = "server-env-key-0123456789"
)

// startTestServer starts a server on a loopback port over a fresh data
// folder.
func startTestServer(t *testing.T, geoDB string) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	cfg.MinFreeDisk = 0
	cfg.GeoIPDB = geoDB
	cfg.MaxLookupTableBytes = 1 << 20
	cfg.BootstrapAccessID, cfg.BootstrapAccessKey = testID, testKey
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func createJob(t *testing.T, s *Server, query string) (int, string) {
	t.Helper()
	now := time.Now()
	body := fmt.Sprintf(`{"query":%q,"from":"%d","to":"%d"}`, query, now.Add(-time.Hour).UnixMilli(), now.UnixMilli())
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/v1/search/jobs", strings.NewReader(body))
	req.SetBasicAuth(testID, testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestQueryEnvWiring checks that searches reach the catalog's lookup
// tables and the configured GeoIP database.
func TestQueryEnvWiring(t *testing.T) {
	s := startTestServer(t, geoiptest.Path(t))
	if s.catalog.MaxLookupTableBytes() != 1<<20 {
		t.Errorf("lookup size limit %d", s.catalog.MaxLookupTableBytes())
	}
	if code, body := createJob(t, s, `* | geoip _sourceHost | count by country_code`); code != http.StatusAccepted {
		t.Errorf("geo lookup job: %d %s", code, body)
	}
	if code, body := createJob(t, s, `* | lookup a from /shared/none on b=c`); code != http.StatusBadRequest || !strings.Contains(body, `lookup table \"/shared/none\" does not exist`) {
		t.Errorf("missing table: %d %s", code, body)
	}
	if code, body := createJob(t, s, `* | count by _sourceHost | save /shared/hosts`); code != http.StatusAccepted {
		t.Errorf("save as admin: %d %s", code, body)
	}
}

func TestNoGeoIPDatabase(t *testing.T) {
	s := startTestServer(t, "")
	code, body := createJob(t, s, `* | lookup city from geo://location on ip=_sourceHost`)
	if code != http.StatusBadRequest || !strings.Contains(body, "--geoip-db") || !strings.Contains(body, "DOHYO_GEOIP_DB") {
		t.Errorf("geo lookup without a database: %d %s", code, body)
	}
}

func TestBadGeoIPDatabase(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	os.WriteFile(bad, []byte("not a database"), 0o644)
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.MinFreeDisk = 0
	cfg.GeoIPDB = bad
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if s, err := New(cfg); err == nil || !strings.Contains(err.Error(), "bad.mmdb") {
		if s != nil {
			s.Shutdown(context.Background())
		}
		t.Errorf("New with a bad GeoIP database: %v", err)
	}
}
