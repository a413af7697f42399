package query

import (
	"sort"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// The dedup operator (spec §6, §9.3):
//
//	dedup [<N>] [by <f1>[, <f2> ...]] [consecutive]
//
// removes duplicate rows: of the rows sharing a key it keeps the first N
// (default 1) in the current order and drops the others; the rows kept stay
// in their order. The key is the values of the by-fields (a missing field
// is the empty value, as in count's groups); without "by" it is the whole
// row: every non-empty field, names and values (for messages that includes
// _messageTime and the metadata, so only true copies are duplicates; write
// "dedup by _raw" for messages with the same text). With "consecutive"
// only adjacent duplicates count: the first N rows of each run of equal
// keys are kept, and a key may come back after a different one.
//
// Order [our choice; Sumo documents none]: "first" is the current order,
// so over messages dedup keeps the newest N per key (or, after a sort, the
// first in that order), and after an aggregate the first records in the
// order of the preceding stage (sort first to choose which). Over
// messages dedup starts the plan's message tail (exec_tail.go) and
// streams: each kept message is delivered as soon as its window is done.
// It remembers each key seen (at most ExecOptions.MaxBufferedMessages
// distinct keys over messages; "consecutive" remembers one). "consecutive"
// may also be written before "by". No pushdown.

func init() { registerStage("dedup", (*parser).parseDedup) }

// DedupStage is "dedup [N] [by f, ...] [consecutive]".
type DedupStage struct {
	Pos Pos
	// N is the number of rows kept per key; 0 when not written (1).
	N           int
	By          []FieldRef
	Consecutive bool
}

// Position implements Node.
func (s *DedupStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *DedupStage) Name() string { return "dedup" }

func (s *DedupStage) aggregate() bool { return false }

func (s *DedupStage) walkFields(fn func(FieldRef)) {
	for _, f := range s.By {
		fn(f)
	}
}

// String implements Node.
func (s *DedupStage) String() string {
	var b strings.Builder
	b.WriteString("dedup")
	if s.N > 0 {
		b.WriteString(" " + strconv.Itoa(s.N))
	}
	if len(s.By) > 0 {
		b.WriteString(" by ")
		writeFieldRefs(&b, s.By)
	}
	if s.Consecutive {
		b.WriteString(" consecutive")
	}
	return b.String()
}

// writeFieldRefs writes "a, b, c".
func writeFieldRefs(b *strings.Builder, fs []FieldRef) {
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
	}
}

// MaxDedup is the largest N of dedup.
const MaxDedup = 1 << 30

// parseDedup parses a dedup stage; the current token is "dedup".
func (p *parser) parseDedup() (Stage, *Error) {
	st := &DedupStage{Pos: p.tok.pos}
	p.advance()
	if p.tok.typ == tokNumber || p.tok.typ == tokMinus {
		n, err := p.parsePositiveInt("dedup", "the number of rows kept per key", MaxDedup)
		if err != nil {
			return nil, err
		}
		st.N = n
	}
	if p.isWord("consecutive") {
		st.Consecutive = true
		p.advance()
	}
	if p.isWord("by") {
		by, err := p.parseByList("dedup")
		if err != nil {
			return nil, err
		}
		st.By = by
	}
	if p.isWord("consecutive") && !st.Consecutive {
		st.Consecutive = true
		p.advance()
	}
	if err := p.expectStageEnd("dedup"); err != nil {
		if p.tok.typ == tokTerm && len(st.By) == 0 {
			err.Hint = "did you mean \"dedup by " + p.tok.text + "\"?"
		}
		return nil, err
	}
	return st, nil
}

// parseByList parses "by f1, f2, ..." (the current token is "by"),
// rejecting a field listed twice.
func (p *parser) parseByList(op string) ([]FieldRef, *Error) {
	by := p.tok
	p.advance()
	var out []FieldRef
	seen := map[string]bool{}
	for {
		f, err := p.parseFieldRef(`after "` + strings.ToLower(by.text) + `"`)
		if err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, errorf(f.Pos, "field %s is listed twice after \"by\" in %s", f.String(), op)
		}
		seen[f.Name] = true
		out = append(out, f)
		if p.tok.typ != tokComma {
			return out, nil
		}
		p.advance()
	}
}

func (s *DedupStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	impl := &dedupImpl{text: s.String(), in: in, n: max(s.N, 1), consecutive: s.Consecutive}
	for _, f := range s.By {
		fi, err := c.resolveField(f, in)
		if err != nil {
			return nil, err
		}
		impl.by = append(impl.by, fi.Name)
	}
	return impl, nil
}

// dedupImpl is the compiled dedup stage.
type dedupImpl struct {
	text        string
	in          *schema
	n           int
	by          []string
	consecutive bool
}

func (d *dedupImpl) output() *schema              { return d.in }
func (d *dedupImpl) aggregate() bool              { return false }
func (d *dedupImpl) logsQL(string) (string, bool) { return "", false }
func (d *dedupImpl) explain() string              { return d.text }
func (d *dedupImpl) messageOrder() orderRole      { return orderConsumer }

func (d *dedupImpl) newOperator(next rowSink) rowSink {
	o := &dedupOp{impl: d, next: next, seen: map[string]int{}}
	if !d.in.records {
		o.maxKeys = DefaultMaxBufferedMessages
	}
	return o
}

func (d *dedupImpl) newTailOperator(next rowSink, _ *runContext, t tailOptions) rowSink {
	return &dedupOp{impl: d, next: next, seen: map[string]int{}, maxKeys: t.maxBuffer}
}

// dedupOp is the Go dedup.
type dedupOp struct {
	impl    *dedupImpl
	next    rowSink
	seen    map[string]int // rows kept per key
	maxKeys int            // 0: no limit
	last    string         // consecutive: the previous key
	run     int            // consecutive: rows kept of the current run
	started bool
	key     []byte
	buf     []Row
	pairs   []Field
}

func (o *dedupOp) rowKey(r Row) []byte {
	o.key = o.key[:0]
	if len(o.impl.by) > 0 {
		for _, f := range o.impl.by {
			o.key = appendKeyPart(o.key, r.Get(f))
		}
		return o.key
	}
	o.pairs = o.pairs[:0]
	for _, f := range r {
		if f.Value == "" || strings.HasPrefix(f.Name, event.InternalFieldPrefix) || f.Name == FieldMessageID {
			continue
		}
		o.pairs = append(o.pairs, f)
	}
	sort.Slice(o.pairs, func(i, j int) bool { return o.pairs[i].Name < o.pairs[j].Name })
	for _, f := range o.pairs {
		o.key = appendKeyPart(o.key, f.Name)
		o.key = appendKeyPart(o.key, f.Value)
	}
	return o.key
}

// appendKeyPart appends a length-prefixed part of a composite key.
func appendKeyPart(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

func (o *dedupOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	for _, r := range rows {
		k := o.rowKey(r)
		if o.impl.consecutive {
			if !o.started || string(k) != o.last {
				o.started = true
				o.last = string(k)
				o.run = 0
			}
			if o.run < o.impl.n {
				o.run++
				o.buf = append(o.buf, r)
			}
			continue
		}
		n, ok := o.seen[string(k)]
		if !ok && o.maxKeys > 0 && len(o.seen) >= o.maxKeys {
			// Hand on what was kept first: the stages after may have
			// had enough (a full message cap ends the run).
			if len(o.buf) > 0 {
				if err := o.next.push(o.buf); err != nil {
					return err
				}
			}
			return errBufferLimit(o.impl.text, o.maxKeys)
		}
		if n < o.impl.n {
			o.seen[string(k)] = n + 1
			o.buf = append(o.buf, r)
		}
	}
	if len(o.buf) == 0 {
		return nil
	}
	return o.next.push(o.buf)
}

func (o *dedupOp) finish() error { return o.next.finish() }
