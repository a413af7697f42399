package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/event"
)

// Golden-format extension: events at chosen times (golden_test.go
// describes the format).
//
//	load start=2024-03-04T00:00:00Z step=1h range=2024-03-05T00:00:00Z/2024-03-06T00:00:00Z
//	  at=30m repeat=3 | three events at 00:30
//	  | the next line's slot: 01:00 (slot i is start + i*step)
//
// Without options a load keeps the default: events one second apart from
// an hour ago, the range from a minute before the first to 30 minutes
// after it. start= (RFC 3339) places event i at start + i×step (step
// default 1s, Go duration syntax); the range is then [start, start +
// n×step) for n lines, unless range=<from>/<to> (RFC 3339) says otherwise.
// On a line, at= overrides that event's time (a duration after start, or
// RFC 3339) and repeat=N loads N copies of it (same time, consecutive row
// ids). zone=<IANA name> runs the evals after the load in that time zone
// (ExecOptions.Location; default UTC).

type goldenLoad struct {
	start     time.Time
	step      time.Duration
	rng       Range
	retention time.Duration
	loc       *time.Location
}

// goldenLocation is the time zone of the evals of the current load
// (zone=); nil is UTC.
var goldenLocation *time.Location

func parseGoldenLoad(arg string, n int) (goldenLoad, error) {
	lo := goldenLoad{step: time.Second}
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	lo.start = base
	lo.rng = Range{Start: base.Add(-time.Minute), End: base.Add(30 * time.Minute)}
	custom, haveRange := false, false
	for _, kv := range strings.Fields(arg) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "start":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return lo, fmt.Errorf("load start=%s: %w", v, err)
			}
			lo.start, custom = t, true
		case "step":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return lo, fmt.Errorf("load step=%s: not a positive duration", v)
			}
			lo.step = d
		case "range":
			a, b, ok := strings.Cut(v, "/")
			from, err1 := time.Parse(time.RFC3339Nano, a)
			to, err2 := time.Parse(time.RFC3339Nano, b)
			if !ok || err1 != nil || err2 != nil {
				return lo, fmt.Errorf("load range=%s: want <RFC 3339>/<RFC 3339>", v)
			}
			lo.rng, haveRange = Range{Start: from, End: to}, true
		case "zone":
			loc, err := time.LoadLocation(v)
			if err != nil {
				return lo, fmt.Errorf("load zone=%s: %w", v, err)
			}
			lo.loc = loc
		default:
			return lo, fmt.Errorf("load: unknown option %q", k)
		}
	}
	if custom && !haveRange {
		lo.rng = Range{Start: lo.start, End: lo.start.Add(time.Duration(n) * lo.step)}
	}
	// Keep everything from the oldest time involved (and a month before,
	// for events placed before start).
	oldest := lo.start
	if lo.rng.Start.Before(oldest) {
		oldest = lo.rng.Start
	}
	lo.retention = max(time.Since(oldest)+30*24*time.Hour, 24*time.Hour)
	return lo, nil
}

// event builds the batch of load line i.
func (lo goldenLoad) event(line string, i int) (*event.Batch, error) {
	ts := lo.start.Add(time.Duration(i) * lo.step)
	repeat := 1
	meta, raw, hasRaw := strings.Cut(line, " | ")
	if !hasRaw {
		meta = strings.TrimSuffix(line, " |")
	}
	var kept []string
	for _, kv := range strings.Fields(meta) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "at":
			if d, err := time.ParseDuration(v); err == nil {
				ts = lo.start.Add(d)
			} else if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				ts = t
			} else {
				return nil, fmt.Errorf("at=%s: want a duration after start or an RFC 3339 time", v)
			}
		case "repeat":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100000 {
				return nil, fmt.Errorf("repeat=%s: want a count from 1 to 100000", v)
			}
			repeat = n
		default:
			kept = append(kept, kv)
		}
	}
	l := strings.Join(kept, " ")
	if hasRaw {
		l += " | " + raw
	} else {
		l += " |"
	}
	b, err := goldenEvent(l, ts)
	if err != nil {
		return nil, err
	}
	for len(b.Events) < repeat {
		b.Events = append(b.Events, b.Events[0])
	}
	return b, nil
}
