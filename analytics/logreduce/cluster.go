package logreduce

import (
	"math"
	"slices"
	"strings"
)

// Cluster is one signature: a template and the lines that match it.
type Cluster struct {
	// ID is a stable id: 16 hex digits, the FNV-1a 64 hash of Canonical.
	// The same template has the same id in every run, process and merge
	// order.
	ID string
	// Template is the signature text for display. Variable parts are
	// Wildcard ("<*>"), with the constant text the sample lines share
	// around them ("blk_<*>", "(uid=<*>)"). Parts lists the same text in
	// pieces, with the variables flagged, for highlighting.
	Template string
	Parts    []Part
	// Canonical is the template the id is computed from: the words joined
	// by single spaces, variables as <*> (with the key in front, "uid=<*>").
	// It does not depend on which sample lines were kept.
	Canonical string
	// Count is the number of lines in the cluster.
	Count int64
	// Samples are a few lines of the cluster, chosen by hash (the same lines
	// whatever the input order).
	Samples []string
	// Score ranks clusters by interest, 0 to 100; see Score.
	Score float64
	// Severity is 2 when the template has an error word (error, failed,
	// exception, denied, ...), 1 for a warning word (warn, retry, timeout,
	// ...), else 0.
	Severity int
	// Overflow marks the cluster that holds the lines beyond the cap on
	// skeletons (ID OverflowID).
	Overflow bool

	words []string // canonical words
	skels []*skeleton
}

// Part is a piece of a template's display text.
type Part struct {
	Text string
	Var  bool
}

// OverflowID is the id of the overflow cluster.
const OverflowID = "0000000000000000"

// Order is an order of clusters.
type Order int

const (
	// ByScore puts the most interesting clusters first: highest Score, then
	// larger Count, then ID. It is the default of logreduce.
	ByScore Order = iota
	// MostCommon puts the largest clusters first (criteria=mostcommon).
	MostCommon
	// LeastCommon puts the smallest clusters first (criteria=leastcommon).
	LeastCommon
)

// Sort sorts clusters in place in the given order. Ties always end with the
// ID, so the order is total and deterministic.
func Sort(cs []*Cluster, o Order) {
	slices.SortStableFunc(cs, func(a, b *Cluster) int {
		switch o {
		case MostCommon:
			if a.Count != b.Count {
				return cmpInt64(b.Count, a.Count)
			}
		case LeastCommon:
			if a.Count != b.Count {
				return cmpInt64(a.Count, b.Count)
			}
		default:
			if a.Score != b.Score {
				if a.Score > b.Score {
					return -1
				}
				return 1
			}
			if a.Count != b.Count {
				return cmpInt64(b.Count, a.Count)
			}
		}
		return strings.Compare(a.ID, b.ID)
	})
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Score is the interest of a template of count lines out of total, and
// severity sev (0, 1 or 2): the mean of its rarity and its severity, as a
// number from 0 to 100.
//
// Rarity is ln(total/count)/ln(total): 1 for a line seen once, 0 for a
// template that is every line. Severity weighs 1 for error words, 0.5 for
// warning words, 0 else. So an error seen once scores 100, an error that is
// half of the lines about 55 when total is 2,000, a rare info line about
// 50, and the bulk of routine lines near 0: rare and error-like first.
func Score(count, total int64, sev int) float64 {
	rarity := 0.0
	if total > 1 && count > 0 && count < total {
		rarity = math.Log(float64(total)/float64(count)) / math.Log(float64(total))
	}
	s := 50 * (rarity + float64(sev)/2)
	return math.Round(s*100) / 100
}

// Result computes the clusters of everything mined so far. It does not
// change the miner, which can go on mining.
func (m *Miner) Result() *Result {
	r := newResult(m.cfg, m.lines)
	for _, pr := range m.group() {
		c := buildCluster(pr, m.cfg.MaxSamples)
		r.add(c)
	}
	if m.overflow > 0 {
		r.overflow = overflowCluster(m.overflow, m.ovSample)
		r.add(r.overflow)
	}
	r.finish()
	return r
}

// Clusters returns the clusters of everything mined so far, most
// interesting first. It is Result().Clusters.
func (m *Miner) Clusters() []*Cluster { return m.Result().Clusters }

func buildCluster(pr *proto, maxSamples int) *Cluster {
	c := &Cluster{words: pr.toks, skels: pr.skels, Count: pr.count}
	c.Canonical = strings.Join(pr.toks, " ")
	c.ID = signatureID(c.Canonical)
	var s samples
	for _, sk := range pr.skels {
		s.merge(&sk.samples, maxSamples)
	}
	c.Samples = s.lines()
	c.Parts = displayParts(pr)
	var b strings.Builder
	for _, p := range c.Parts {
		b.WriteString(p.Text)
	}
	c.Template = b.String()
	c.Severity = severity(pr.toks)
	return c
}

func overflowCluster(n int64, s samples) *Cluster {
	const t = "<lines beyond the cap on distinct templates>"
	return &Cluster{
		ID:        OverflowID,
		Template:  t,
		Canonical: t,
		Parts:     []Part{{Text: t, Var: true}},
		Count:     n,
		Samples:   s.lines(),
		Overflow:  true,
	}
}

// displayParts builds the display text of a template: the words of its
// first skeleton and their spacing, and at each variable the constant text
// that all its sample lines share around the value.
func displayParts(pr *proto) []Part {
	first := pr.skels[0]
	n := len(pr.toks)
	// the words of the sample lines, by position
	var words [][]string
	var tz tokenizer
	tz.maxTokens = n + 1
	for _, sk := range pr.skels {
		for _, smp := range sk.samples {
			toks := tz.tokenize(smp.line)
			if len(toks) != n {
				continue // a truncated sample
			}
			w := make([]string, n)
			for i := range toks {
				w[i] = smp.line[toks[i].start:toks[i].end]
			}
			words = append(words, w)
		}
		if len(words) >= 32 {
			break
		}
	}
	var parts []Part
	emit := func(text string, v bool) {
		if text == "" {
			return
		}
		if len(parts) > 0 && parts[len(parts)-1].Var == v {
			parts[len(parts)-1].Text += text
			return
		}
		parts = append(parts, Part{text, v})
	}
	for i, t := range pr.toks {
		if i > 0 && !first.glue[i] {
			emit(" ", false)
		}
		if !strings.Contains(t, Wildcard) {
			emit(t, false)
			continue
		}
		pre, suf := varContext(words, i, t)
		emit(pre, false)
		emit(Wildcard, true)
		emit(suf, false)
	}
	return parts
}

// varContext returns the constant text around the variable at position i:
// the longest prefix and suffix that all sample words share, without digits
// and ending at punctuation (so "blk_" of "blk_123" and "blk_-9", "(uid=" and
// ")" of "(uid=0)"). With one distinct value it is the prefix and suffix of
// the canonical word instead, which never includes the value.
func varContext(words [][]string, i int, canonical string) (string, string) {
	k := strings.Index(canonical, Wildcard)
	cpre, csuf := canonical[:k], canonical[k+len(Wildcard):]
	if len(words) == 0 {
		return cpre, csuf
	}
	w0 := words[0][i]
	pre, suf := w0, w0
	distinct := false
	for _, w := range words[1:] {
		v := w[i]
		if v != w0 {
			distinct = true
		}
		pre = pre[:commonPrefix(pre, v)]
		suf = suf[len(suf)-commonSuffix(suf, v):]
	}
	if !distinct {
		// only one value was sampled: keep the canonical context when the
		// word has it
		if strings.HasPrefix(w0, cpre) && strings.HasSuffix(w0, csuf) && len(cpre)+len(csuf) < len(w0) {
			return cpre, csuf
		}
		return "", ""
	}
	// No digits, no path or domain pieces (a few samples sharing a
	// directory say little of the others), no sign, and a boundary at
	// punctuation.
	if d := strings.IndexAny(pre, "0123456789./\\"); d >= 0 {
		pre = pre[:d]
	}
	for len(pre) > 0 && isAlnumByte(pre[len(pre)-1]) {
		pre = pre[:len(pre)-1]
	}
	// a sign: "=-<*>" of negative numbers
	if k := len(pre) - 1; k >= 0 && (pre[k] == '-' || pre[k] == '+') && (k == 0 || !isAlnumByte(pre[k-1])) {
		pre = pre[:k]
	}
	if d := strings.LastIndexAny(suf, "0123456789./\\"); d >= 0 {
		suf = suf[d+1:]
	}
	for len(suf) > 0 && isAlnumByte(suf[0]) {
		suf = suf[1:]
	}
	// never less than the canonical context, never more than a short
	// word piece ("blk_", "worker-", "(uid=")
	if len(pre) < len(cpre) || !strings.HasPrefix(pre, cpre) || len(pre)-len(cpre) > 24 ||
		strings.ContainsAny(pre[len(cpre):], " \t") {
		pre = cpre
	}
	if len(suf) < len(csuf) || !strings.HasSuffix(suf, csuf) || len(suf)-len(csuf) > 24 ||
		strings.ContainsAny(suf[:len(suf)-len(csuf)], " \t") {
		suf = csuf
	}
	// the value keeps at least one byte of every word
	for _, w := range words {
		if len(pre)+len(suf) >= len(w[i]) {
			return cpre, csuf
		}
	}
	return pre, suf
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for k := 0; k < n; k++ {
		if a[k] != b[k] {
			return k
		}
	}
	return n
}

func commonSuffix(a, b string) int {
	n := min(len(a), len(b))
	for k := 0; k < n; k++ {
		if a[len(a)-1-k] != b[len(b)-1-k] {
			return k
		}
	}
	return n
}

func isAlnumByte(c byte) bool { return ctab[c]&(cAlpha|cDigit) != 0 }

// severity looks for error and warning words among the constant words of a
// template (split at anything but letters and apostrophes, any case).
func severity(words []string) int {
	sev := 0
	for _, t := range words {
		if strings.Contains(t, Wildcard) {
			if k := strings.Index(t, Wildcard); k > 0 {
				t = t[:k] // the key of a value: "error=<*>"
			} else {
				continue
			}
		}
		start := -1
		for k := 0; k <= len(t); k++ {
			if k < len(t) && (ctab[t[k]]&cAlpha != 0 || t[k] == '\'') {
				if start < 0 {
					start = k
				}
				continue
			}
			if start >= 0 {
				if s := wordSeverity(t[start:k]); s > sev {
					sev = s
					if sev == 2 {
						return 2
					}
				}
				start = -1
			}
		}
	}
	return sev
}

func wordSeverity(w string) int {
	if len(w) < 3 || len(w) > 14 {
		return 0
	}
	var buf [14]byte
	for k := 0; k < len(w); k++ {
		buf[k] = w[k] | 0x20
	}
	switch string(buf[:len(w)]) {
	case "error", "errors", "err", "fail", "fails", "failed", "failure", "failures", "fatal",
		"panic", "exception", "exceptions", "crash", "crashed", "critical", "crit", "emerg",
		"emergency", "alert", "denied", "refused", "unreachable", "abort", "aborted", "aborting",
		"corrupt", "corrupted", "killed", "segfault", "invalid", "unable", "cannot", "can't",
		"couldn't", "severe", "violation", "unauthorized", "forbidden", "broken", "unavailable":
		return 2
	case "warn", "warning", "warnings", "retry", "retrying", "deprecated", "timeout",
		"timed", "unknown", "mismatch", "expired", "exceeded", "exceeds", "degraded", "dropped",
		"rejected", "missing", "lost", "slow", "interrupted", "skipping", "unexpected":
		return 1
	}
	return 0
}
