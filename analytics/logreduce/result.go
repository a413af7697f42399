package logreduce

import (
	"strings"
	"sync"
)

// Result is the output of a Miner: its clusters, and the means to assign
// any line to one of them (per-line output, drill-down, or matching new lines
// against learned signatures). A Result is immutable and safe for concurrent
// use.
type Result struct {
	// Clusters in the default order, ByScore.
	Clusters []*Cluster
	// Lines is the number of lines mined.
	Lines int64

	cfg      Config
	byKey    map[uint64]*Cluster
	byID     map[string]*Cluster
	byLen    map[int][]*Cluster // clusters by number of words, for matching
	overflow *Cluster
	pool     sync.Pool
}

func newResult(cfg Config, lines int64) *Result {
	return &Result{
		Lines: lines,
		cfg:   cfg,
		byKey: map[uint64]*Cluster{},
		byID:  map[string]*Cluster{},
		byLen: map[int][]*Cluster{},
	}
}

func (r *Result) add(c *Cluster) {
	r.Clusters = append(r.Clusters, c)
	for _, sk := range c.skels {
		r.byKey[sk.key] = c
	}
	if !c.Overflow {
		r.byLen[len(c.words)] = append(r.byLen[len(c.words)], c)
	}
}

func (r *Result) finish() {
	for _, c := range r.Clusters {
		c.Score = Score(c.Count, r.Lines, c.Severity)
	}
	Sort(r.Clusters, ByScore)
	for _, c := range r.Clusters {
		if r.byID[c.ID] == nil { // ids are unique but for a 64-bit hash collision
			r.byID[c.ID] = c
		}
	}
	if r.overflow == nil {
		r.overflow = overflowCluster(0, nil)
	}
}

// ByID returns the cluster with the given id, or nil.
func (r *Result) ByID(id string) *Cluster { return r.byID[id] }

// Sorted returns the clusters in the given order (a new slice).
func (r *Result) Sorted(o Order) []*Cluster {
	cs := append([]*Cluster(nil), r.Clusters...)
	Sort(cs, o)
	return cs
}

// Assign returns the cluster of line: the cluster of its skeleton when the
// miner saw it, else the cluster whose template matches it (same number of
// words, equal constant words, compatible variables; the most specific one),
// else the overflow cluster (an empty one, Count 0, when the miner had no
// overflow). For a line the miner mined, Assign returns the cluster that
// counted it (unless the line went to the overflow cluster).
func (r *Result) Assign(line string) *Cluster {
	line = trimLine(line, r.cfg.MaxLineBytes)
	tz, _ := r.pool.Get().(*tokenizer)
	if tz == nil {
		tz = &tokenizer{maxTokens: r.cfg.MaxTokens}
	}
	defer r.pool.Put(tz)
	toks := tz.tokenize(line)
	if c := r.byKey[skeletonKey(toks)]; c != nil {
		return c
	}
	if c := r.match(line, toks); c != nil {
		return c
	}
	return r.overflow
}

// match finds the template that line matches best: every constant word
// equal, every variable compatible (the same key, if any); among several,
// the one with the most constant words, then the first in order.
func (r *Result) match(line string, toks []token) *Cluster {
	var best *Cluster
	bestLits := -1
next:
	for _, c := range r.byLen[len(toks)] {
		lits := 0
		for i, w := range c.words {
			tk := &toks[i]
			k := strings.Index(w, Wildcard)
			if k < 0 {
				if tk.isVar || line[tk.start:tk.end] != w {
					continue next
				}
				lits++
				continue
			}
			// a variable: the word must start and end like it
			pre, suf := w[:k], w[k+len(Wildcard):]
			text := line[tk.start:tk.end]
			if len(text) < len(pre)+len(suf) || !strings.HasPrefix(text, pre) || !strings.HasSuffix(text, suf) {
				continue next
			}
		}
		if lits > bestLits {
			best, bestLits = c, lits
		}
	}
	return best
}
