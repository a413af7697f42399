package query

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
)

// logreduce values (spec §10.4, op_logreduce.go has the grammar):
//
//	logreduce values on <f>[, <f>...] [output_threshold=<x>]
//
// clusters messages by the values of already-parsed fields (Sumo's
// LogReduce Values; dohyo's algorithm, deterministic):
//
//  1. Count the messages of each combination of values (a missing field
//     is the empty value; a message missing all of them is left out).
//  2. A field with more than MaxValuesDistinct distinct values (an id, a
//     timestamp) does not tell clusters apart: its values are merged into
//     one ("many values") and a warning names the field and the limit.
//  3. Combinations, most frequent first (ties by their values), join the
//     first cluster whose first (leading) combination has the same values
//     in all the remaining fields but a third of them (rounded down: all of
//     one or two fields, so that "values on status" makes one cluster per
//     status; all of three fields but one), else start a cluster of their
//     own.
//
// Output, largest cluster first (ties by id):
//
//	_cluster_id  16 hex digits, a hash of the fields and the leading
//	             combination: stable from run to run while the data is
//	_signature   a JSON object: for each field (in the order of "on"), its
//	             values in the cluster as [value, count, percentage of the
//	             cluster] arrays, most frequent first; values under
//	             output_threshold (a fraction of the cluster, default 0) and
//	             beyond the 10 most frequent are summed in one [null, count,
//	             percentage] entry, which is also how a field with too many
//	             values shows
//	_count       the messages of the cluster
//
// Bounds: at most MaxValuesFields fields, and MaxValuesCombinations
// distinct combinations of the values once fields with too many values are
// merged; beyond, the query fails naming the limit. "... details
// <_cluster_id>" keeps the messages of one cluster (the clusters of the
// search range are computed first, exec_mine.go).
//
// Deviation from Sumo: Sumo's clustering is its own; its drill-down is
// "logreduce values-details", dohyo's is "details <id>" like the other
// modes.

// Bounds of logreduce values.
const (
	// MaxValuesFields is the most fields of "logreduce values on".
	MaxValuesFields = 10
	// MaxValuesDistinct is the most distinct values a field of logreduce
	// values tells apart.
	MaxValuesDistinct = 1000
	// MaxValuesCombinations is the most distinct combinations of values
	// logreduce values holds.
	MaxValuesCombinations = 100000
	// valuesShown is how many values of a field a signature lists.
	valuesShown = 10
)

func (s *LogReduceStage) compileValues(c *compiler, in *schema) (stageImpl, *Error) {
	impl := &valuesImpl{text: s.String()}
	for _, f := range s.On {
		if _, err := c.resolveField(f, in); err != nil {
			return nil, err
		}
		impl.fields = append(impl.fields, f.Name)
	}
	if s.Threshold != nil {
		impl.threshold = s.Threshold.Value
	}
	impl.out = &schema{records: true, fields: []FieldInfo{
		{Name: "_cluster_id", Type: "string"},
		{Name: "_signature", Type: "string"},
		{Name: "_count", Type: "long"},
	}}
	if s.Details != "" {
		id := s.Details
		return newDetailsImpl(s, in, impl.fields, func(r *miningRunner, step int) (rowTest, error) {
			return impl.detailsTest(r, step, id)
		}), nil
	}
	return impl, nil
}

// valuesImpl is compiled logreduce values.
type valuesImpl struct {
	text      string
	fields    []string
	threshold float64
	out       *schema
}

func (v *valuesImpl) output() *schema              { return v.out }
func (v *valuesImpl) aggregate() bool              { return true }
func (v *valuesImpl) logsQL(string) (string, bool) { return "", false }
func (v *valuesImpl) groupLimit() int              { return MaxValuesCombinations }
func (v *valuesImpl) blockFields() []string        { return v.fields }

func (v *valuesImpl) explain() string {
	return v.text + " (value clusters in Go, counted per engine worker, merged)"
}

func (v *valuesImpl) newOperator(next rowSink) rowSink { return newBlockRowOp(v, next, nil) }

func (v *valuesImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return newBlockRowOp(v, next, x)
}

func (v *valuesImpl) newPartial() blockPartial {
	n := len(v.fields)
	p := &valuesPartial{stage: v.text, tuples: map[string]*valueTuple{}, distinct: make([]map[string]struct{}, n), masked: make([]bool, n)}
	for i := range p.distinct {
		p.distinct[i] = map[string]struct{}{}
	}
	return p
}

// valuesPartial counts the combinations of values of a part of the input.
type valuesPartial struct {
	stage    string
	tuples   map[string]*valueTuple
	distinct []map[string]struct{} // per field; nil once masked
	masked   []bool
	key      []byte
}

type valueTuple struct {
	vals  []string // "" for a masked field
	count int64
}

// valuesKey appends the key of a combination: each value with its length,
// "*" for a masked field.
func valuesKey(dst []byte, vals []string, masked []bool) []byte {
	for i, v := range vals {
		if masked[i] {
			dst = append(dst, '*')
			continue
		}
		dst = strconv.AppendInt(dst, int64(len(v)), 10)
		dst = append(dst, ':')
		dst = append(dst, v...)
	}
	return dst
}

func (p *valuesPartial) add(vals []string) error {
	empty := true
	for i, v := range vals {
		if v != "" {
			empty = false
		}
		if p.masked[i] {
			continue
		}
		if _, ok := p.distinct[i][v]; !ok {
			p.distinct[i][strings.Clone(v)] = struct{}{}
			if len(p.distinct[i]) > MaxValuesDistinct {
				p.mask(i)
			}
		}
	}
	if empty {
		return nil
	}
	p.key = valuesKey(p.key[:0], vals, p.masked)
	t := p.tuples[string(p.key)]
	if t == nil {
		// A partial may hold more combinations than the final limit
		// (fields it has not seen enough of to merge), within bounds.
		if len(p.tuples) >= 4*MaxValuesCombinations {
			return errTooManyCombinations(p.stage)
		}
		t = &valueTuple{vals: cloneStrings(vals)}
		for i := range t.vals {
			if p.masked[i] {
				t.vals[i] = ""
			}
		}
		p.tuples[string(p.key)] = t
	}
	t.count++
	return nil
}

func errTooManyCombinations(stage string) error {
	return fmt.Errorf("%w: %q sees more than %d distinct combinations of values; cluster on fewer fields or narrow the query", ErrTooManyGroups, stage, MaxValuesCombinations)
}

// mask stops telling the values of field i apart.
func (p *valuesPartial) mask(i int) {
	p.masked[i] = true
	p.distinct[i] = nil
	old := p.tuples
	p.tuples = make(map[string]*valueTuple, len(old))
	for _, t := range old {
		t.vals[i] = ""
		p.insert(t)
	}
}

// insert adds a combination's count (its values already masked).
func (p *valuesPartial) insert(t *valueTuple) {
	p.key = valuesKey(p.key[:0], t.vals, p.masked)
	if u := p.tuples[string(p.key)]; u != nil {
		u.count += t.count
		return
	}
	p.tuples[string(p.key)] = &valueTuple{vals: t.vals, count: t.count}
}

// merge adds o to p. A field is masked when either side masked it or the
// union of their distinct values is too large, so the result does not
// depend on how the input was split.
func (p *valuesPartial) merge(o *valuesPartial) {
	for i := range p.masked {
		if p.masked[i] {
			continue
		}
		if o.masked[i] {
			p.mask(i)
			continue
		}
		for v := range o.distinct[i] {
			p.distinct[i][v] = struct{}{}
		}
		if len(p.distinct[i]) > MaxValuesDistinct {
			p.mask(i)
		}
	}
	for _, t := range o.tuples {
		vals := append([]string(nil), t.vals...)
		for i := range vals {
			if p.masked[i] {
				vals[i] = ""
			}
		}
		p.insert(&valueTuple{vals: vals, count: t.count})
	}
}

func (v *valuesImpl) mergePartials(parts []blockPartial) (*valuesPartial, error) {
	var s *valuesPartial
	for _, bp := range parts {
		if s == nil {
			s = bp.(*valuesPartial)
			continue
		}
		s.merge(bp.(*valuesPartial))
	}
	if s == nil {
		s = v.newPartial().(*valuesPartial)
	}
	if len(s.tuples) > MaxValuesCombinations {
		return nil, errTooManyCombinations(v.text)
	}
	return s, nil
}

// valueCluster is a cluster of combinations.
type valueCluster struct {
	id     string
	leader []string
	count  int64
	dists  []map[string]int64 // per field, value -> messages
	tuples []*valueTuple
}

// cluster groups the combinations of s (see the rules above).
func (v *valuesImpl) cluster(s *valuesPartial) []*valueCluster {
	tuples := make([]*valueTuple, 0, len(s.tuples))
	for _, t := range s.tuples {
		tuples = append(tuples, t)
	}
	sort.Slice(tuples, func(i, j int) bool {
		a, b := tuples[i], tuples[j]
		if a.count != b.count {
			return a.count > b.count
		}
		for k := range a.vals {
			if a.vals[k] != b.vals[k] {
				return a.vals[k] < b.vals[k]
			}
		}
		return false
	})
	var open []int // the fields that tell clusters apart
	for i, m := range s.masked {
		if !m {
			open = append(open, i)
		}
	}
	need := len(open) - len(open)/3
	index := make([]map[string][]int, len(s.masked))
	for _, i := range open {
		index[i] = map[string][]int{}
	}
	var clusters []*valueCluster
	hits := []int{}
	var touched []int
	for _, t := range tuples {
		best := -1
		if len(open) == 0 && len(clusters) > 0 {
			best = 0
		}
		touched = touched[:0]
		for _, i := range open {
			for _, c := range index[i][t.vals[i]] {
				if hits[c] == 0 {
					touched = append(touched, c)
				}
				hits[c]++
			}
		}
		for _, c := range touched {
			if hits[c] >= need && (best < 0 || c < best) {
				best = c
			}
			hits[c] = 0
		}
		if best < 0 {
			best = len(clusters)
			c := &valueCluster{leader: t.vals, dists: make([]map[string]int64, len(t.vals))}
			for i := range c.dists {
				c.dists[i] = map[string]int64{}
			}
			c.id = valuesClusterID(v.fields, t.vals, s.masked)
			clusters = append(clusters, c)
			hits = append(hits, 0)
			for _, i := range open {
				index[i][t.vals[i]] = append(index[i][t.vals[i]], best)
			}
		}
		c := clusters[best]
		c.count += t.count
		c.tuples = append(c.tuples, t)
		for i, val := range t.vals {
			c.dists[i][val] += t.count
		}
	}
	sort.SliceStable(clusters, func(i, j int) bool {
		if clusters[i].count != clusters[j].count {
			return clusters[i].count > clusters[j].count
		}
		return clusters[i].id < clusters[j].id
	})
	return clusters
}

// valuesClusterID hashes the fields and a cluster's leading combination.
func valuesClusterID(fields, vals []string, masked []bool) string {
	h := fnv.New64a()
	for i, f := range fields {
		h.Write([]byte(f))
		h.Write([]byte{0})
		if masked[i] {
			h.Write([]byte{1})
		} else {
			h.Write([]byte(vals[i]))
		}
		h.Write([]byte{0})
	}
	s := strconv.FormatUint(h.Sum64(), 16)
	return strings.Repeat("0", 16-len(s)) + s
}

// signature renders a cluster's value distribution.
func (v *valuesImpl) signature(c *valueCluster, masked []bool) string {
	var b strings.Builder
	b.WriteByte('{')
	pct := func(n int64) string {
		return FormatNumber(math.Round(10000*float64(n)/float64(c.count)) / 100)
	}
	for i, f := range v.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(f)
		b.Write(name)
		b.WriteString(":[")
		type vc struct {
			v string
			n int64
		}
		var list []vc
		for val, n := range c.dists[i] {
			list = append(list, vc{val, n})
		}
		sort.Slice(list, func(a, b int) bool {
			if list[a].n != list[b].n {
				return list[a].n > list[b].n
			}
			return list[a].v < list[b].v
		})
		var rest int64
		shown := 0
		for _, e := range list {
			if masked[i] || shown >= valuesShown || float64(e.n) < v.threshold*float64(c.count) {
				rest += e.n
				continue
			}
			if shown > 0 {
				b.WriteByte(',')
			}
			val, _ := json.Marshal(e.v)
			b.WriteByte('[')
			b.Write(val)
			b.WriteString("," + strconv.FormatInt(e.n, 10) + "," + pct(e.n) + "]")
			shown++
		}
		if rest > 0 {
			if shown > 0 {
				b.WriteByte(',')
			}
			b.WriteString("[null," + strconv.FormatInt(rest, 10) + "," + pct(rest) + "]")
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.String()
}

func (v *valuesImpl) finishPartials(x *runContext, parts []blockPartial, next rowSink) error {
	s, err := v.mergePartials(parts)
	if err != nil {
		return err
	}
	for i, m := range s.masked {
		if m {
			x.warnf("logreduce values: field %s has more than %d distinct values; they are not told apart (null in _signature)", v.fields[i], MaxValuesDistinct)
		}
	}
	clusters := v.cluster(s)
	rows := make([]Row, len(clusters))
	for i, c := range clusters {
		rows[i] = Row{{"_cluster_id", c.id}, {"_signature", v.signature(c, s.masked)}, {"_count", strconv.FormatInt(c.count, 10)}}
	}
	if err := next.push(rows); err != nil {
		return err
	}
	return next.finish()
}

// detailsTest computes the clusters of the search range and returns the
// test keeping the messages of cluster id.
func (v *valuesImpl) detailsTest(r *miningRunner, step int, id string) (rowTest, error) {
	var s *valuesPartial
	holder := &mineHolder{blockAggregator: v, keep: func(parts []blockPartial) error {
		var err error
		s, err = v.mergePartials(parts)
		return err
	}}
	if err := r.run(step, nil, r.searchRange(), holder); err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, c := range v.cluster(s) {
		if c.id != id {
			continue
		}
		for _, t := range c.tuples {
			keep[string(valuesKey(nil, t.vals, s.masked))] = true
		}
	}
	masked := s.masked
	return func(vals []string) bool {
		var buf [256]byte
		return keep[string(valuesKey(buf[:0], vals, masked))]
	}, nil
}
