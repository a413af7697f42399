package search

import (
	"container/heap"
	"sort"
	"strings"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/query"
)

// The field summary (GET /api/v1/search/jobs/{id}/fields, and the
// fieldSummary event of a stream) lists the fields present in a job's
// messages — or in its records, for an aggregate query — with how many
// rows have a value, how many distinct values there are and the most
// frequent values.
//
// Per field it keeps at most TrackedValues values with their counts (the
// "space-saving" heavy-hitters algorithm): while a field has no more
// distinct values than that, every number is exact; beyond, Distinct stops
// at TrackedValues with DistinctCapped set, and the top values are the
// algorithm's estimates (Approximate set): each count is an upper bound
// that overstates by at most rows/TrackedValues, and every value more
// frequent than that is listed. The messages are folded in as they arrive
// (on demand, when the summary is asked for), so a summary of a running job
// covers the messages gathered so far and the next one continues from
// there.

// TrackedValues is how many distinct values the summary tracks per field.
const TrackedValues = 1000

// DefaultTopValues and MaxTopValues bound the top values listed per field.
const (
	DefaultTopValues = 10
	MaxTopValues     = 100
)

// FieldSummary is the summary of a job's fields.
type FieldSummary struct {
	// Kind is "messages" or "records": what was summarized.
	Kind string `json:"kind"`
	// Rows is the number of messages or records summarized.
	Rows int64 `json:"rows"`
	// Complete is false while the job still gathers: the summary covers
	// the rows gathered so far.
	Complete bool `json:"complete"`
	// Fields are ordered by Count, highest first, then by name.
	Fields []FieldStats `json:"fields"`
}

// FieldStats describes one field.
type FieldStats struct {
	Name      string `json:"name"`
	FieldType string `json:"fieldType"`
	// KeyField marks the group-by fields of records.
	KeyField bool `json:"keyField"`
	// Count is the number of rows where the field has a value (an empty
	// value is no value).
	Count int64 `json:"count"`
	// Distinct is the number of distinct values, exact unless
	// DistinctCapped (then: more than TrackedValues).
	Distinct       int  `json:"distinct"`
	DistinctCapped bool `json:"distinctCapped"`
	// TopValues are the most frequent values, most frequent first (ties by
	// value). _raw has none: its values are the messages.
	TopValues []ValueCount `json:"topValues"`
	// Approximate says that TopValues' counts are estimates (see above).
	Approximate bool `json:"approximate"`
}

// ValueCount is a value and the number of rows that have it.
type ValueCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// noTopValues are the fields whose values are not tracked.
var noTopValues = map[string]bool{"_raw": true}

// summarizer accumulates field statistics over rows.
type summarizer struct {
	rows   int64
	fields map[string]*fieldCounter
}

func newSummarizer() *summarizer { return &summarizer{fields: map[string]*fieldCounter{}} }

// add folds rows in. Rows are immutable; the counters keep references to
// their values rather than copies.
func (s *summarizer) add(rows []query.Row) {
	for _, r := range rows {
		s.rows++
		for _, f := range r {
			if f.Value == "" || strings.HasPrefix(f.Name, event.InternalFieldPrefix) {
				continue
			}
			name := f.Name
			fc := s.fields[name]
			if fc == nil {
				lower := strings.ToLower(name)
				fc = &fieldCounter{name: lower, noValues: noTopValues[lower]}
				s.fields[name] = fc
			}
			fc.add(f.Value)
		}
	}
}

// summary returns the statistics, with top values per field.
func (s *summarizer) summary(top int, types func(name string) (string, bool)) []FieldStats {
	// Fields differing only by case (not expected: names are canonical)
	// are merged by their lower-case name, keeping the first.
	out := make([]FieldStats, 0, len(s.fields))
	seen := map[string]bool{}
	names := make([]string, 0, len(s.fields))
	for n := range s.fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fc := s.fields[n]
		if seen[fc.name] {
			continue
		}
		seen[fc.name] = true
		st := fc.stats(top)
		st.FieldType, st.KeyField = types(fc.name)
		out = append(out, st)
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Count != out[b].Count {
			return out[a].Count > out[b].Count
		}
		return out[a].Name < out[b].Name
	})
	return out
}

// fieldCounter counts one field's values with the space-saving algorithm:
// up to TrackedValues counters; a new value when all are taken replaces the
// smallest counter and inherits its count plus one.
type fieldCounter struct {
	name     string
	noValues bool
	count    int64
	values   map[string]*valueCounter
	// minHeap orders the counters by count once they are all taken.
	minHeap  counterHeap
	capped   bool
	heapInit bool
}

type valueCounter struct {
	value string
	n     int64
	idx   int
}

type counterHeap []*valueCounter

func (h counterHeap) Len() int           { return len(h) }
func (h counterHeap) Less(i, j int) bool { return h[i].n < h[j].n }
func (h counterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *counterHeap) Push(x any) { c := x.(*valueCounter); c.idx = len(*h); *h = append(*h, c) }
func (h *counterHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

func (fc *fieldCounter) add(v string) {
	fc.count++
	if fc.noValues {
		return
	}
	if fc.values == nil {
		fc.values = make(map[string]*valueCounter)
	}
	if c := fc.values[v]; c != nil {
		c.n++
		if fc.heapInit {
			heap.Fix(&fc.minHeap, c.idx)
		}
		return
	}
	if len(fc.values) < TrackedValues {
		c := &valueCounter{value: v, n: 1}
		fc.values[v] = c
		if fc.heapInit {
			heap.Push(&fc.minHeap, c)
		}
		return
	}
	if !fc.heapInit {
		fc.minHeap = make(counterHeap, 0, len(fc.values))
		for _, c := range fc.values {
			fc.minHeap = append(fc.minHeap, c)
		}
		for i, c := range fc.minHeap {
			c.idx = i
		}
		heap.Init(&fc.minHeap)
		fc.heapInit = true
	}
	fc.capped = true
	c := fc.minHeap[0]
	delete(fc.values, c.value)
	c.value = v
	c.n++
	fc.values[v] = c
	heap.Fix(&fc.minHeap, 0)
}

func (fc *fieldCounter) stats(top int) FieldStats {
	st := FieldStats{Name: fc.name, Count: fc.count, Distinct: len(fc.values), DistinctCapped: fc.capped, Approximate: fc.capped, TopValues: []ValueCount{}}
	if fc.noValues {
		st.Distinct, st.DistinctCapped, st.Approximate = 0, false, false
		return st
	}
	all := make([]*valueCounter, 0, len(fc.values))
	for _, c := range fc.values {
		all = append(all, c)
	}
	sort.Slice(all, func(a, b int) bool {
		if all[a].n != all[b].n {
			return all[a].n > all[b].n
		}
		return all[a].value < all[b].value
	})
	for _, c := range all[:min(top, len(all))] {
		st.TopValues = append(st.TopValues, ValueCount{Value: c.value, Count: c.n})
	}
	return st
}

// FieldSummary summarizes the fields of the job's messages (records for an
// aggregate query) with at most top values per field (DefaultTopValues when
// top <= 0, at most MaxTopValues). Messages are folded in incrementally:
// each call only reads the messages that arrived since the previous one.
func (j *Job) FieldSummary(top int) FieldSummary {
	if top <= 0 {
		top = DefaultTopValues
	}
	top = min(top, MaxTopValues)
	j.mu.Lock()
	running := j.state == StateNotStarted || j.state == StateGathering
	if j.plan.IsAggregate() {
		recs, fields := j.records, j.recFields
		j.mu.Unlock()
		s := newSummarizer()
		s.add(recs)
		info := map[string]Field{}
		for _, f := range recordFields(fields) {
			info[f.Name] = f
		}
		return FieldSummary{Kind: "records", Rows: s.rows, Complete: !running, Fields: s.summary(top, func(name string) (string, bool) {
			f, ok := info[name]
			if !ok {
				return "string", false
			}
			return f.FieldType, f.KeyField
		})}
	}
	msgs := j.messages
	j.mu.Unlock()

	j.sumMu.Lock()
	defer j.sumMu.Unlock()
	if j.sum == nil {
		j.sum = newSummarizer()
	}
	if n := int(j.sum.rows); n < len(msgs) {
		j.sum.add(msgs[n:])
	}
	return FieldSummary{Kind: "messages", Rows: j.sum.rows, Complete: !running && int(j.sum.rows) == len(msgs), Fields: j.sum.summary(top, func(name string) (string, bool) {
		return messageFieldType(name), false
	})}
}
