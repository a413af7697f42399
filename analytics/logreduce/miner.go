package logreduce

import (
	"errors"
	"slices"
	"strings"
	"unsafe"
)

// Wildcard marks a variable part in a template's text.
const Wildcard = "<*>"

// Config bounds a Miner. The zero value of a field means its default.
type Config struct {
	// MaxSkeletons caps the number of distinct skeletons (masked lines, the
	// unit the miner counts) one Miner keeps. A line whose skeleton is new
	// once the cap is reached is counted in the overflow cluster. Default
	// 10,000.
	MaxSkeletons int
	// MaxSamples is the number of sample lines kept per skeleton and per
	// cluster. Default 3.
	MaxSamples int
	// MaxLineBytes: longer lines are truncated before mining. Default
	// 65,536 (what Sumo Logic does for LogCompare).
	MaxLineBytes int
	// MaxTokens: the words of a line after this many form one variable.
	// Default 96.
	MaxTokens int
	// MaxSampleBytes: sample lines are truncated to this many bytes.
	// Default 1,024.
	MaxSampleBytes int
}

func (c Config) withDefaults() Config {
	if c.MaxSkeletons <= 0 {
		c.MaxSkeletons = 10000
	}
	if c.MaxSamples <= 0 {
		c.MaxSamples = 3
	}
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = 65536
	}
	if c.MaxTokens <= 1 {
		c.MaxTokens = 96
	}
	if c.MaxSampleBytes <= 0 {
		c.MaxSampleBytes = 1024
	}
	// token offsets are 32-bit
	c.MaxLineBytes = min(c.MaxLineBytes, 1<<30)
	c.MaxTokens = min(c.MaxTokens, 1<<16)
	c.MaxSampleBytes = min(c.MaxSampleBytes, c.MaxLineBytes)
	return c
}

// skeleton is the set of lines that have the same masked token sequence.
type skeleton struct {
	key     uint64
	toks    []string // canonical text of each token, variables as prefix<*>suffix
	glue    []bool   // token follows the previous one without white space
	count   int64
	samples samples
}

// newSkeleton builds the skeleton of line: its canonical words share one
// allocation.
func newSkeleton(key uint64, line string, toks []token) *skeleton {
	size := 0
	for k := range toks {
		tk := &toks[k]
		if tk.isVar {
			size += int(tk.pre-tk.start) + len(Wildcard) + int(tk.end-tk.post)
		} else {
			size += int(tk.end - tk.start)
		}
	}
	var b strings.Builder
	b.Grow(size)
	ends := make([]int, len(toks))
	for k := range toks {
		tk := &toks[k]
		if tk.isVar {
			b.WriteString(line[tk.start:tk.pre])
			b.WriteString(Wildcard)
			b.WriteString(line[tk.post:tk.end])
		} else {
			b.WriteString(line[tk.start:tk.end])
		}
		ends[k] = b.Len()
	}
	all := b.String()
	sk := &skeleton{key: key, toks: make([]string, len(toks)), glue: make([]bool, len(toks))}
	start := 0
	for k := range toks {
		sk.toks[k] = all[start:ends[k]]
		sk.glue[k] = toks[k].glued
		start = ends[k]
	}
	return sk
}

// Miner mines templates from a stream of lines. It is also the mergeable
// state: miners that saw disjoint parts of the input can be merged with
// Merge, and the merged miner's Result is the same as that of one miner that
// saw all the lines (as long as the cap on skeletons was not reached; see
// Merge). A Miner is not safe for concurrent use; run one per worker.
type Miner struct {
	cfg      Config
	tz       tokenizer
	skels    map[uint64]*skeleton
	lines    int64
	overflow int64
	ovSample samples
}

// New returns an empty Miner.
func New(cfg Config) *Miner {
	cfg = cfg.withDefaults()
	return &Miner{
		cfg:   cfg,
		tz:    tokenizer{maxTokens: cfg.MaxTokens},
		skels: make(map[uint64]*skeleton),
	}
}

// Config returns the miner's configuration with defaults filled in.
func (m *Miner) Config() Config { return m.cfg }

// Lines returns the number of lines added (directly or through Merge).
func (m *Miner) Lines() int64 { return m.lines }

// Skeletons returns the number of distinct skeletons held.
func (m *Miner) Skeletons() int { return len(m.skels) }

// Add mines one line. A trailing newline or carriage return is ignored.
func (m *Miner) Add(line string) {
	line = trimLine(line, m.cfg.MaxLineBytes)
	m.lines++
	key, toks := m.skeletonOf(line)
	sk := m.skels[key]
	if sk == nil {
		if len(m.skels) >= m.cfg.MaxSkeletons {
			m.overflow++
			m.ovSample.add(hashString(line, seedLine), line, m.cfg.MaxSamples, m.cfg.MaxSampleBytes)
			return
		}
		sk = newSkeleton(key, line, toks)
		m.skels[key] = sk
	}
	sk.count++
	sk.samples.add(hashString(line, seedLine), line, m.cfg.MaxSamples, m.cfg.MaxSampleBytes)
}

// AddBytes mines one line given as bytes. The bytes are not retained.
func (m *Miner) AddBytes(line []byte) {
	if len(line) == 0 {
		m.Add("")
		return
	}
	m.Add(unsafe.String(&line[0], len(line)))
}

// trimLine drops a line terminator and truncates to max bytes.
func trimLine(line string, max int) string {
	if len(line) > max {
		line = line[:max]
	}
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line
}

// skeletonOf tokenizes line and returns its skeleton key and tokens. The
// tokens are valid until the next call.
func (m *Miner) skeletonOf(line string) (uint64, []token) {
	toks := m.tz.tokenize(line)
	return skeletonKey(toks), toks
}

// Merge adds the state of o to m. Both must have the same configuration.
// When the union of skeletons fits in MaxSkeletons, the result is exactly the
// state one miner would have after seeing the lines of both, in any order.
// Otherwise the skeletons with the largest counts (ties: smaller key) are
// kept and the rest are folded into the overflow cluster.
func (m *Miner) Merge(o *Miner) error {
	if o == nil {
		return nil
	}
	if m.cfg != o.cfg {
		return errors.New("logreduce: cannot merge miners with different configurations")
	}
	m.lines += o.lines
	m.overflow += o.overflow
	m.ovSample.merge(&o.ovSample, m.cfg.MaxSamples)
	for key, osk := range o.skels {
		sk := m.skels[key]
		if sk == nil {
			sk = &skeleton{key: key, toks: osk.toks, glue: osk.glue}
			m.skels[key] = sk
		}
		sk.count += osk.count
		sk.samples.merge(&osk.samples, m.cfg.MaxSamples)
	}
	m.enforceCap()
	return nil
}

// enforceCap folds the smallest skeletons into the overflow cluster when
// there are more than MaxSkeletons.
func (m *Miner) enforceCap() {
	if len(m.skels) <= m.cfg.MaxSkeletons {
		return
	}
	all := make([]*skeleton, 0, len(m.skels))
	for _, sk := range m.skels {
		all = append(all, sk)
	}
	slices.SortFunc(all, func(a, b *skeleton) int {
		if a.count != b.count {
			if a.count > b.count {
				return -1
			}
			return 1
		}
		if a.key < b.key {
			return -1
		}
		if a.key > b.key {
			return 1
		}
		return 0
	})
	for _, sk := range all[m.cfg.MaxSkeletons:] {
		m.overflow += sk.count
		m.ovSample.merge(&sk.samples, m.cfg.MaxSamples)
		delete(m.skels, sk.key)
	}
}

// Clone returns a deep copy of m.
func (m *Miner) Clone() *Miner {
	c := New(m.cfg)
	c.lines, c.overflow = m.lines, m.overflow
	c.ovSample = m.ovSample.clone()
	for key, sk := range m.skels {
		c.skels[key] = &skeleton{key: key, toks: sk.toks, glue: sk.glue, count: sk.count, samples: sk.samples.clone()}
	}
	return c
}

// sample is a kept line and its hash.
type sample struct {
	h    uint64
	line string
}

// samples keeps the lines with the smallest hashes (a bottom-k sample): the
// choice does not depend on the order of the lines, and the sample of a union
// is the sample of the union of the samples, so it merges exactly.
type samples []sample

func (s *samples) add(h uint64, line string, k, maxBytes int) {
	ss := *s
	if len(ss) == k && h >= ss[k-1].h {
		return
	}
	i := 0
	for i < len(ss) && ss[i].h < h {
		i++
	}
	if i < len(ss) && ss[i].h == h {
		return // the same line again
	}
	if len(line) > maxBytes {
		line = line[:maxBytes]
	}
	line = strings.Clone(line)
	if len(ss) < k {
		ss = append(ss, sample{})
	}
	copy(ss[i+1:], ss[i:])
	ss[i] = sample{h, line}
	*s = ss
}

func (s *samples) merge(o *samples, k int) {
	for _, x := range *o {
		s.add(x.h, x.line, k, len(x.line))
	}
}

func (s samples) clone() samples { return slices.Clone(s) }

func (s samples) lines() []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.line
	}
	return out
}

// skeletonKey hashes a token sequence: the key of a skeleton.
func skeletonKey(toks []token) uint64 {
	h := uint64(seedSkel) ^ uint64(len(toks))
	for k := range toks {
		h = combine(h, toks[k].hash)
	}
	return mix(h)
}
