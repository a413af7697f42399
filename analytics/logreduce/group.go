package logreduce

// Stage 2 of mining: the skeletons (lines with their variables masked, as
// counted by Add) are grouped into templates. It runs on the whole state when
// the result is asked for, never per line, and depends only on the set of
// skeletons and their counts, not on the order in which lines came or
// miners were merged: the skeletons are sorted first, and every step scans
// them in that order.
//
// Skeletons of the same number of words are candidates for one template. Two
// operations join them, repeated until nothing changes:
//
//   - families: skeletons that are equal but at one position p are a
//     family; generalize decides from the values at p whether p is a
//     variable of one template (then they are merged, p becomes <*>) or the
//     place where two templates differ;
//   - absorption: a skeleton joins a template that already has variables
//     when it matches the template's constant words (but at most one, which
//     generalize accepts) and has compatible values at its variables.
//
// generalize says "variable" when
//   - some values are variables already (numbers, ids, paths) and the
//     others are values of the same key or without a key: "rhost=<*>" and
//     "rhost=zummit.com", "(<*>)" and "()";
//   - the values are values of the same key and there are at least
//     minKeyValues of them ("name=a", "name=b", ...): fewer are states or
//     kinds (user=root vs user=guest, isOverlap:true vs isOverlap:false);
//   - the values are free words, at least minFreeWords distinct, not all
//     capitalised or upper case (states such as "Started", "RUNNING"),
//     after a constant word of the message, and half of the words of the
//     template stay constant words: "session closed for user cyrus|news|test".
// It never generalizes the first word of a message (after a header of
// timestamps, levels, bracketed fields and "component:"), which names the
// event, and never leaves a template without a constant word.

import (
	"slices"
	"strings"
)

const (
	minKeyValues = 4
	minFreeWords = 3
	maxRounds    = 16
)

func (m *Miner) group() []*proto {
	byLen := map[int][]*skeleton{}
	for _, sk := range m.skels {
		byLen[len(sk.toks)] = append(byLen[len(sk.toks)], sk)
	}
	lens := make([]int, 0, len(byLen))
	for n := range byLen {
		lens = append(lens, n)
	}
	slices.Sort(lens)
	var out []*proto
	byText := map[string]*proto{}
	for _, n := range lens {
		for _, pr := range mergeSameLength(byLen[n]) {
			// one cluster per canonical text, so one cluster per id (two
			// protos can meet: "[a b]" is one word or two)
			text := strings.Join(pr.toks, " ")
			if first := byText[text]; first != nil {
				first.absorb(pr)
				continue
			}
			byText[text] = pr
			out = append(out, pr)
		}
	}
	return out
}

// proto is a cluster being built in stage 2.
type proto struct {
	toks  []string
	th    []uint64 // position-salted hash of each word
	sum   uint64   // sum of th: context hashes are sums minus a few terms
	skels []*skeleton
	count int64
	dead  bool
}

func newProto(sk *skeleton) *proto {
	pr := &proto{toks: slices.Clone(sk.toks), th: make([]uint64, len(sk.toks)), skels: []*skeleton{sk}, count: sk.count}
	for i, t := range pr.toks {
		pr.th[i] = termHash(i, t)
		pr.sum += pr.th[i]
	}
	return pr
}

func termHash(i int, t string) uint64 {
	return mix(hashString(t, seedLit) ^ (uint64(i)+1)*prime2)
}

// set replaces the word at p.
func (pr *proto) set(p int, t string) {
	pr.sum -= pr.th[p]
	pr.toks[p], pr.th[p] = t, termHash(p, t)
	pr.sum += pr.th[p]
}

// sameExcept reports whether a and b have the same words but at p.
func sameExcept(a, b *proto, p int) bool {
	for i := range a.toks {
		if i != p && a.toks[i] != b.toks[i] {
			return false
		}
	}
	return true
}

func mergeSameLength(sks []*skeleton) []*proto {
	slices.SortFunc(sks, compareSkeletons)
	var ps []*proto
	for _, sk := range sks {
		if len(ps) > 0 && slices.Equal(ps[len(ps)-1].toks, sk.toks) {
			// the same words, only the spacing differs
			last := ps[len(ps)-1]
			last.skels = append(last.skels, sk)
			last.count += sk.count
			continue
		}
		ps = append(ps, newProto(sk))
	}
	n := len(sks[0].toks)
	// Each round merges something or ends; the bound on rounds only caps
	// the time on pathological inputs (in practice 2 or 3 rounds).
	for round := 0; round < maxRounds; round++ {
		familyMerge(ps, n)
		ps = live(ps)
		if !absorb(ps, n) {
			break
		}
		ps = live(ps)
	}
	return ps
}

func live(ps []*proto) []*proto {
	out := ps[:0]
	for _, pr := range ps {
		if !pr.dead {
			out = append(out, pr)
		}
	}
	return out
}

func (pr *proto) absorb(o *proto) {
	pr.skels = append(pr.skels, o.skels...)
	pr.count += o.count
	o.dead = true
}

// familyMerge merges, until nothing changes, the families of protos that
// differ at one position only, when generalize says that position is a
// variable.
func familyMerge(ps []*proto, n int) {
	for pass, changed := 0, true; changed && pass < maxRounds; pass++ {
		changed = false
		for p := 0; p < n; p++ {
			fam := map[uint64][]*proto{}
			var order []uint64
			for _, pr := range ps {
				if pr.dead {
					continue
				}
				h := pr.sum - pr.th[p]
				if _, ok := fam[h]; !ok {
					order = append(order, h)
				}
				fam[h] = append(fam[h], pr)
			}
			for _, h := range order {
				f := fam[h]
				if len(f) < 2 {
					continue
				}
				k := 1 // keep the members that really share the context
				for _, pr := range f[1:] {
					if sameExcept(f[0], pr, p) {
						f[k] = pr
						k++
					}
				}
				f = f[:k]
				if len(f) < 2 {
					continue
				}
				tok, ok := generalize(f, p)
				if !ok {
					continue
				}
				f[0].set(p, tok)
				for _, o := range f[1:] {
					f[0].absorb(o)
				}
				changed = true
			}
		}
	}
}

// absorb merges a proto into a more general one whose template it matches:
// it agrees with the general one on all its constant words, but at most one
// where generalize accepts the pair, and has compatible values at its
// variables. This joins lines in which two fields vary together ("name=a
// ws=null" and "name=b ws=WorkSource{1}"), which the one-position families
// cannot see.
func absorb(ps []*proto, n int) bool {
	type index struct {
		mask  []bool
		exact map[uint64]*proto
		minus []map[uint64]*proto
	}
	var idxs []*index
	byMask := map[string]*index{}
	mk := make([]byte, n)
	for _, a := range ps {
		// an absorber has variables, and at least half of its words are
		// constant or keys of values; one of them a constant word
		vars, lits, keys := 0, 0, 0
		for i, t := range a.toks {
			mk[i] = '0'
			if strings.Contains(t, Wildcard) {
				mk[i] = '1'
				vars++
				if tokenKey(t) != "" {
					keys++
				}
			} else if isWord(t) {
				lits++
			}
		}
		if vars == 0 || lits == 0 || 2*(lits+keys) < n {
			continue
		}
		ix := byMask[string(mk)]
		if ix == nil {
			ix = &index{mask: make([]bool, n), exact: map[uint64]*proto{}, minus: make([]map[uint64]*proto, n)}
			for i := range mk {
				ix.mask[i] = mk[i] == '1'
				if !ix.mask[i] {
					ix.minus[i] = map[uint64]*proto{}
				}
			}
			byMask[string(mk)] = ix
			idxs = append(idxs, ix)
		}
		base := maskBase(a, ix.mask)
		if ix.exact[base] == nil {
			ix.exact[base] = a
		}
		for q := range n {
			if !ix.mask[q] {
				if h := base - a.th[q]; ix.minus[q][h] == nil {
					ix.minus[q][h] = a
				}
			}
		}
	}
	changed := false
	pair := make([]*proto, 2)
	// bound the work on pathological inputs: as many masks as fit a budget
	if budget := 4 << 20; len(ps)*len(idxs)*n > budget {
		idxs = idxs[:max(1, budget/(len(ps)*n))]
	}
	for _, b := range ps {
	next:
		for _, ix := range idxs {
			if b.dead {
				break
			}
			base := maskBase(b, ix.mask)
			if a := ix.exact[base]; a != nil && a != b && !a.dead &&
				matches(a, b, ix.mask, -1) {
				a.absorb(b)
				changed = true
				break next
			}
			for q := range n {
				if ix.mask[q] {
					continue
				}
				a := ix.minus[q][base-b.th[q]]
				if a == nil || a == b || a.dead || !matches(a, b, ix.mask, q) {
					continue
				}
				pair[0], pair[1] = a, b
				if tok, ok := generalize(pair, q); ok {
					a.set(q, tok)
					a.absorb(b)
					changed = true
					break next
				}
			}
		}
	}
	return changed
}

// maskBase hashes the words of pr outside the mask.
func maskBase(pr *proto, mask []bool) uint64 {
	h := pr.sum
	for i, m := range mask {
		if m {
			h -= pr.th[i]
		}
	}
	return h
}

// matches reports whether b fits the template of a: equal words outside
// the mask (but at skip), values with a compatible key inside it.
func matches(a, b *proto, mask []bool, skip int) bool {
	for i, at := range a.toks {
		bt := b.toks[i]
		switch {
		case i == skip || at == bt:
		case mask[i] && !strings.Contains(bt, Wildcard) && messageStart(a.toks, i, bt) == i:
			return false // the first word of a message is not a variable
		case mask[i]:
			if k := tokenKey(at); k != "" && tokenKey(bt) != k {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// generalize decides whether the members of a family, which differ only at
// position p, are one template with a variable at p. It returns the token
// for the variable.
func generalize(f []*proto, p int) (string, bool) {
	// what stays constant must include a word
	lit, before := 0, false
	for i, t := range f[0].toks {
		if i != p && isWord(t) {
			lit++
			if i < p {
				before = true
			}
		}
	}
	if lit == 0 {
		return "", false
	}
	// The first word of a message names the event, it is not a variable.
	val := f[0].toks[p]
	for _, pr := range f {
		if !strings.Contains(pr.toks[p], Wildcard) {
			val = pr.toks[p]
			break
		}
	}
	m := messageStart(f[0].toks, p, val)
	if p == m {
		return "", false
	}
	key, keyed, keyless, anyVar := "", 0, 0, false
	distinct := map[string]bool{}
	for _, pr := range f {
		t := pr.toks[p]
		if k := tokenKey(t); k == "" {
			keyless++
		} else if keyed == 0 || k == key {
			key = k
			keyed++
		} else {
			return "", false // two different keys: two different fields
		}
		if strings.Contains(t, Wildcard) {
			anyVar = true
		} else {
			distinct[t] = true
		}
	}
	tok := Wildcard
	if keyless == 0 {
		tok = key + Wildcard
	}
	tok = wrap(f, p, tok)
	if anyVar {
		// numbers, ids or paths in some lines, other values in others
		return tok, true
	}
	if keyed > 0 && keyless > 0 {
		return "", false
	}
	if key != "" {
		// key=value: a few values are states or kinds, many are data
		return tok, len(distinct) >= minKeyValues
	}
	// A free word: at least half of the words must stay constant, one of
	// them before it; and capitalised or upper-case words are states, not
	// names.
	if !before || p < m || 2*lit < len(f[0].toks) {
		return "", false
	}
	enum := true
	for t := range distinct {
		if !isEnumWord(t) {
			enum = false
			break
		}
	}
	return tok, !enum && len(distinct) >= minFreeWords
}

// wrap puts around tok the opening and closing punctuation that all the
// values at p share: "(" and ")" of "(<*>)" and "()", "," of "a," and "b,".
func wrap(f []*proto, p int, tok string) string {
	t0 := f[0].toks[p]
	lead, trail := wrappers(t0)
	for _, pr := range f[1:] {
		t := pr.toks[p]
		l, r := wrappers(t)
		lead = min(lead, l, commonPrefix(t0, t))
		trail = min(trail, r, commonSuffix(t0, t))
	}
	return t0[:lead] + tok + t0[len(t0)-trail:]
}

// wrappers returns the number of leading opening and trailing closing
// punctuation bytes of t, not counting a wildcard's brackets.
func wrappers(t string) (lead, trail int) {
	k := strings.Index(t, Wildcard)
	end, start := len(t), 0
	if k >= 0 {
		end, start = k, k+len(Wildcard)
	}
	for lead < end && ctab[t[lead]]&cOpen != 0 {
		lead++
	}
	for trail < len(t)-max(start, lead) && ctab[t[len(t)-1-trail]]&cClose != 0 {
		trail++
	}
	return lead, trail
}

// tokenKey returns the key of a key=value or key:value token, "" if none.
func tokenKey(t string) string {
	a := 0
	for a < len(t) && ctab[t[a]]&cOpen != 0 {
		a++
	}
	k := keyEnd(t[a:])
	if k == 0 || a+k == len(t) {
		return ""
	}
	return t[a : a+k]
}

// compareSkeletons orders skeletons by their words, then spacing, then key.
func compareSkeletons(a, b *skeleton) int {
	if c := slices.Compare(a.toks, b.toks); c != 0 {
		return c
	}
	for i := range a.glue {
		if a.glue[i] != b.glue[i] {
			if !a.glue[i] {
				return -1
			}
			return 1
		}
	}
	if a.key < b.key {
		return -1
	}
	if a.key > b.key {
		return 1
	}
	return 0
}

// isEnumWord reports whether t (wrapping punctuation aside) is an upper-case
// or capitalised word, the way states and kinds are written ("RUNNING",
// "Started"), rather than a name ("root", "cyrus", "host.example.com").
func isEnumWord(t string) bool {
	a, b := 0, len(t)
	for a < b && ctab[t[a]]&cOpen != 0 {
		a++
	}
	for b > a && ctab[t[b-1]]&cClose != 0 {
		b--
	}
	if a == b || t[a] < 'A' || t[a] > 'Z' {
		return false
	}
	upper, lower := true, true
	for k := a + 1; k < b; k++ {
		c := t[k]
		switch {
		case c >= 'A' && c <= 'Z':
			lower = false
		case c >= 'a' && c <= 'z':
			upper = false
		case c == '_':
			lower = false
		default:
			return false
		}
	}
	return upper || lower
}

// isWord reports whether t is a constant word: no variable in it, and at
// least one letter (punctuation such as "-" or "|" says little).
func isWord(t string) bool {
	if strings.Contains(t, Wildcard) {
		return false
	}
	for k := 0; k < len(t); k++ {
		if ctab[t[k]]&cAlpha != 0 {
			return true
		}
	}
	return false
}

// messageStart returns the index of the first word of the message in toks,
// after a header of variables (timestamps, ids), levels, punctuation,
// bracketed or '|'-ended fields, maybe a host name, and a "component:" that
// follows them. The word at p is taken to be val.
func messageStart(toks []string, p int, val string) int {
	at := func(i int) string {
		if i == p {
			return val
		}
		return toks[i]
	}
	i := 0
	header := func() {
		for i < len(toks) && i < headerWords && isHeaderToken(at(i)) {
			i++
		}
	}
	header()
	if i == 0 {
		return 0
	}
	// a host name between the time and the program: "Jun 14 15:16:01 combo
	// sshd[1]: ..."
	if i+1 < len(toks) && i+1 < headerWords && isWord(at(i)) &&
		(isHeaderToken(at(i+1)) || isComponent(at(i+1))) {
		i++
		header()
	}
	if i < len(toks)-1 && i < headerWords && isComponent(at(i)) {
		i++ // "WindowManager:", "dfs.DataNode$PacketResponder:"
	}
	return i
}

// isComponent reports whether t is a "name:" that ends a header.
func isComponent(t string) bool {
	return len(t) > 1 && t[len(t)-1] == ':' && !strings.Contains(t, Wildcard)
}

func isHeaderToken(t string) bool {
	if strings.Contains(t, Wildcard) {
		return true
	}
	if t[len(t)-1] == '|' {
		return true
	}
	if t[0] == '[' && (t[len(t)-1] == ']' || strings.HasSuffix(t, "]:")) {
		return true
	}
	if !isWord(t) {
		return true // punctuation
	}
	return isLevel(t)
}

var levels = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range []string{
		"trace", "debug", "info", "notice", "warn", "warning", "error", "err", "fatal",
		"crit", "critical", "alert", "emerg", "emergency", "severe", "fine", "finer", "finest",
		"v", "d", "i", "w", "e", "f",
	} {
		m[l] = true
	}
	return m
}()

// isLevel reports whether t is a log level, in any case, maybe in brackets.
func isLevel(t string) bool {
	t = strings.Trim(t, "[]<>():,")
	if len(t) == 0 || len(t) > 9 {
		return false
	}
	return levels[strings.ToLower(t)]
}
