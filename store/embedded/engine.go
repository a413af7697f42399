package embedded

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/logger"
)

// The engine reads its settings from flags registered on flag.CommandLine at
// import time and refuses to work before flag parsing ("memory.Allowed must
// be called only after flag.Parse"). dohyo's own command line is parsed by
// cobra, so the standard flag set is parsed here, once, with no arguments,
// after setting the few engine flags dohyo controls.
var (
	initOnce sync.Once
	initErr  error
)

func initEngine(cfg Config) error {
	initOnce.Do(func() {
		set := map[string]string{
			"loggerLevel":               "WARN",
			"loggerDisableTimestamps":   "true",
			"loggerWarnsPerSecondLimit": "10",
		}
		if cfg.MemoryLimit > 0 {
			set["memory.allowedBytes"] = strconv.FormatInt(cfg.MemoryLimit, 10)
		}
		for k, v := range set {
			if err := flag.Set(k, v); err != nil {
				initErr = fmt.Errorf("configure storage engine: flag %s=%s: %w", k, v, err)
				return
			}
		}
		if !flag.Parsed() {
			if err := flag.CommandLine.Parse(nil); err != nil {
				initErr = fmt.Errorf("configure storage engine: %w", err)
				return
			}
		}
		// The engine's logger writes text lines to an io.Writer; this is its
		// only redirection hook.
		logger.SetOutputForTests(&slogWriter{log: cfg.Logger.With("component", "engine")})
	})
	return initErr
}

// slogWriter turns the engine's log lines ("level\tcaller\tmessage") into
// slog records.
type slogWriter struct {
	log *slog.Logger
}

func (w *slogWriter) Write(p []byte) (int, error) {
	n := len(p)
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		parts := bytes.SplitN(line, []byte("\t"), 3)
		level, caller, msg := slog.LevelInfo, "", string(line)
		if len(parts) == 3 {
			switch string(parts[0]) {
			case "warn":
				level = slog.LevelWarn
			case "error", "fatal", "panic":
				level = slog.LevelError
			}
			caller, msg = string(parts[1]), string(parts[2])
		}
		w.log.Log(context.Background(), level, msg, "caller", caller)
	}
	return n, nil
}
