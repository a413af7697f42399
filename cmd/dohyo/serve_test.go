package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/store/embedded"
)

// serveConfig parses args as dohyo serve's flags and returns the
// configuration they make.
func serveConfig(t *testing.T, args ...string) (time.Duration, error) {
	t.Helper()
	var f serveFlags
	cmd := &cobra.Command{Use: "serve"}
	f.register(cmd, t.TempDir())
	if err := cmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.config(io.Discard)
	return cfg.EngineFlushInterval, err
}

func TestServeEngineFlushInterval(t *testing.T) {
	if got, err := serveConfig(t); err != nil || got != embedded.DefaultFlushInterval {
		t.Fatalf("default: %v, %v; want %v", got, err, embedded.DefaultFlushInterval)
	}
	if got, err := serveConfig(t, "--engine-flush-interval", "30s"); err != nil || got != 30*time.Second {
		t.Fatalf("30s: %v, %v", got, err)
	}
	for _, bad := range []string{"500ms", "0", "-1s", "soon"} {
		_, err := serveConfig(t, "--engine-flush-interval", bad)
		if err == nil || !strings.Contains(err.Error(), "--engine-flush-interval") || !strings.Contains(err.Error(), "at least 1s") {
			t.Errorf("%q: error %v, want one naming the flag and its minimum", bad, err)
		}
	}
}
