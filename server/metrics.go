package server

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/dohyo/dohyo/store"
)

// registerGauges exposes the state of the WAL, the engine and the disk.
func (s *Server) registerGauges() {
	m := s.metrics
	walGauge := func(name string, f func() float64) { m.NewGauge(name, f) }
	walGauge(`dohyo_wal_last_sequence`, func() float64 { return float64(s.wal.Stats().LastSeq) })
	walGauge(`dohyo_wal_applied_sequence`, func() float64 { return float64(s.wal.Stats().AppliedSeq) })
	walGauge(`dohyo_wal_checkpoint_sequence`, func() float64 { return float64(s.wal.Stats().Checkpoint) })
	walGauge(`dohyo_wal_lag_records`, func() float64 {
		st := s.wal.Stats()
		return float64(st.LastSeq - min(st.AppliedSeq, st.LastSeq))
	})
	walGauge(`dohyo_wal_lag_bytes`, func() float64 { return float64(s.wal.Stats().LagBytes) })
	walGauge(`dohyo_wal_disk_bytes`, func() float64 { return float64(s.wal.Stats().DiskBytes) })
	walGauge(`dohyo_wal_segments`, func() float64 { return float64(s.wal.Stats().Segments) })
	// Batches the applier took from the receivers in memory, or had to read
	// back from the WAL files (after a restart, or past the handoff budget).
	walGauge(`dohyo_wal_handoff_records_total{result="hit"}`, func() float64 { return float64(s.wal.Stats().HandoffHits) })
	walGauge(`dohyo_wal_handoff_records_total{result="miss"}`, func() float64 { return float64(s.wal.Stats().HandoffMisses) })
	walGauge(`dohyo_wal_handoff_bytes`, func() float64 { return float64(s.wal.Stats().HandoffBytes) })
	// Requests that waited (--wal-handoff-wait) for the engine to catch up
	// so that their batch could be handed over in memory.
	walGauge(`dohyo_wal_handoff_waits_total`, func() float64 { return float64(s.wal.Stats().HandoffWaits) })
	m.NewGauge(fmt.Sprintf(`dohyo_disk_free_bytes{path=%q}`, s.cfg.DataDir), func() float64 { return float64(s.diskFree.Load()) })
	m.NewGauge(`dohyo_disk_free_floor_bytes`, func() float64 { return float64(s.cfg.MinFreeDisk) })

	// Engine stats walk every partition; compute them once per scrape.
	var (
		mu      sync.Mutex
		cached  store.Stats
		cacheAt time.Time
	)
	engine := func() store.Stats {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(cacheAt) > time.Second {
			cached, cacheAt = s.store.Stats(), time.Now()
		}
		return cached
	}
	m.NewGauge(`dohyo_engine_rows`, func() float64 { return float64(engine().Rows) })
	m.NewGauge(`dohyo_engine_disk_bytes`, func() float64 { return float64(engine().CompressedSize) })
	m.NewGauge(`dohyo_engine_partitions`, func() float64 { return float64(engine().Partitions) })
	m.NewGauge(`dohyo_engine_dropped_rows_too_old`, func() float64 { return float64(engine().DroppedTooOld) })
	m.NewGauge(`dohyo_engine_dropped_rows_too_new`, func() float64 { return float64(engine().DroppedTooNew) })
	m.NewGauge(`dohyo_engine_rows_added`, func() float64 { return float64(engine().RowsAdded) })
	m.NewGauge(`dohyo_engine_pending_rows`, func() float64 { return float64(engine().PendingRows) })
	// The engine's merges, by the kind of part they write: rows merged per
	// row added is its write amplification.
	for kind, get := range map[string]func(store.PartCounts) uint64{
		"inmemory": func(c store.PartCounts) uint64 { return c.InMemory },
		"small":    func(c store.PartCounts) uint64 { return c.Small },
		"big":      func(c store.PartCounts) uint64 { return c.Big },
	} {
		m.NewGauge(fmt.Sprintf(`dohyo_engine_merges_total{type=%q}`, kind), func() float64 { return float64(get(engine().Merges)) })
		m.NewGauge(fmt.Sprintf(`dohyo_engine_rows_merged_total{type=%q}`, kind), func() float64 { return float64(get(engine().RowsMerged)) })
		m.NewGauge(fmt.Sprintf(`dohyo_engine_parts{type=%q}`, kind), func() float64 { return float64(get(engine().Parts)) })
	}
	// What the guard changed so the engine keeps rows it would drop
	// (monotonic, though exposed as gauges read from the store).
	for kind, get := range map[string]func(store.Adjustments) int{
		"time_too_old":   func(a store.Adjustments) int { return a.TimeTooOld },
		"time_too_new":   func(a store.Adjustments) int { return a.TimeTooNew },
		"truncated":      func(a store.Adjustments) int { return a.Truncated },
		"fields_dropped": func(a store.Adjustments) int { return a.FieldsDropped },
		"field_renamed":  func(a store.Adjustments) int { return a.Renamed },
	} {
		m.NewGauge(fmt.Sprintf(`dohyo_ingest_adjusted_events_total{kind=%q}`, kind), func() float64 { return float64(get(engine().Adjustments)) })
	}
	m.NewGauge(`dohyo_ready`, func() float64 {
		select {
		case <-s.applier.Ready():
			return 1
		default:
			return 0
		}
	})
}

// serveMetrics writes dohyo's metrics, the engine's own (registered in the
// process-wide default set) and the Go process metrics.
func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s.metrics.WritePrometheus(w)
	metrics.WritePrometheus(w, true)
}
