package httpsource

import (
	"fmt"
	"strings"

	"github.com/VictoriaMetrics/metrics"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/ingest"
)

// Metrics are the receiver's Prometheus metrics, in a set the server exposes
// on /metrics.
type Metrics struct {
	Set *metrics.Set
}

// NewMetrics returns receiver metrics registered in a new set.
func NewMetrics() *Metrics { return &Metrics{Set: metrics.NewSet()} }

func (m *Metrics) rejected(reason string) {
	m.Set.GetOrCreateCounter(fmt.Sprintf(`dohyo_ingest_rejected_requests_total{reason=%q}`, reason)).Inc()
}

func (m *Metrics) accepted(src *catalog.Source, events, bytes int, st ingest.Stats) {
	labels := fmt.Sprintf(`{source_id=%q,source=%q}`, src.ID, LabelValue(src.Name))
	m.Set.GetOrCreateCounter(`dohyo_ingest_requests_total` + labels).Inc()
	m.Set.GetOrCreateCounter(`dohyo_ingest_events_total` + labels).Add(events)
	m.Set.GetOrCreateCounter(`dohyo_ingest_bytes_total` + labels).Add(bytes)
	if st.InvalidUTF8 > 0 {
		m.Set.GetOrCreateCounter(`dohyo_ingest_invalid_utf8_total` + labels).Add(st.InvalidUTF8)
	}
}

// LabelValue makes s safe inside a %q-quoted Prometheus label value: %q
// escapes quotes and backslashes, and this drops what %q would render as Go
// escapes that Prometheus does not understand.
func LabelValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return '_'
		}
		return r
	}, s)
}
