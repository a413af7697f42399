package main

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/internal/units"
)

// The server's garbage collector defaults: Go's own. Measured on the
// 1M-event ingest benchmark (BENCHMARKS.md, "Ingest"), once the receivers
// stopped copying each body three times the collector's mark work is about
// 0.4 CPU-s of the server's ~17 (13 cycles); --gc-percent 200 halves it
// (0.2 s, within the run-to-run noise) for 170-280 MiB more peak RSS, 400
// quarters it for 440-650 MiB more. Not worth a higher default; the flags
// are there for machines where memory is plentiful and CPU is not.
const (
	defaultGCPercent   = 100
	defaultMemoryLimit = "0"
)

// gcSettings are the Go runtime's garbage collector settings for a server.
// A field left unset keeps what the runtime has (its default, or GOGC and
// GOMEMLIMIT from the environment).
type gcSettings struct {
	percent    int // debug.SetGCPercent; -1 = off
	setPercent bool
	limit      int64 // debug.SetMemoryLimit, bytes; 0 = none
	setLimit   bool
}

// parseGCSettings reads --gc-percent and --memory-limit. A flag that was not
// given on the command line yields to its environment variable (GOGC,
// GOMEMLIMIT), which the runtime has already applied.
func parseGCSettings(percent, limit string, changed func(string) bool) (gcSettings, error) {
	var g gcSettings
	given := func(flag, env string) bool {
		return (changed != nil && changed(flag)) || os.Getenv(env) == ""
	}
	if given("gc-percent", "GOGC") {
		p := strings.TrimSpace(percent)
		if strings.EqualFold(p, "off") {
			g.percent = -1
		} else {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 {
				return g, fmt.Errorf("--gc-percent %q: want a positive percentage (e.g. 100, 400) or \"off\"", percent)
			}
			g.percent = n
		}
		g.setPercent = true
	}
	if given("memory-limit", "GOMEMLIMIT") {
		n, err := units.ParseBytes(limit)
		if err != nil {
			return g, fmt.Errorf("--memory-limit: %w", err)
		}
		if n > 0 && n < minMemoryLimit {
			return g, fmt.Errorf("--memory-limit %q: want 0 (no limit) or at least %d MiB", limit, minMemoryLimit>>20)
		}
		g.limit, g.setLimit = n, true
	}
	// "off" with no limit at all would let the heap grow without bound.
	if g.percent == -1 && g.setPercent && !g.hasLimit() {
		return g, fmt.Errorf("--gc-percent off needs a --memory-limit (or GOMEMLIMIT): without one the heap grows until the machine runs out of memory")
	}
	return g, nil
}

// minMemoryLimit is the smallest --memory-limit accepted: below it the
// collector would run without pause under any real load.
const minMemoryLimit = 64 << 20

// hasLimit reports whether the process will run with a memory limit.
func (g gcSettings) hasLimit() bool {
	if g.setLimit {
		return g.limit > 0
	}
	return debug.SetMemoryLimit(-1) != math.MaxInt64
}

// apply puts the settings into effect for the whole process.
func (g gcSettings) apply() {
	if g.setLimit {
		if g.limit > 0 {
			debug.SetMemoryLimit(g.limit)
		} else {
			debug.SetMemoryLimit(math.MaxInt64)
		}
	}
	if g.setPercent {
		debug.SetGCPercent(g.percent)
	}
}
