package query

import (
	"strconv"
	"strings"
)

// The top operator (spec §6):
//
//	top <N> <field>[, <field>...] [by <aggregate>]
//
// is "<aggregate> by <fields> | sort by <its column> desc | limit N": the N
// most frequent combinations of the fields (by count, or by another
// aggregate: "top 10 user by sum(bytes)"), largest first. Columns: the
// fields (key fields) then the aggregate's (_count by default). Ties are
// ordered by the fields' values in string order, so the N kept are always
// the same; a null aggregate value ranks last. A missing field counts as
// the empty value, as in count by. Over records (after an aggregate) it
// aggregates the records ("count by user | top 3 _count" counts records).
//
// top holds up to MaxFrequentGroups combinations (not the group limit of
// aggregates: it is meant for many) and fails beyond.
//
// Pushdown: the aggregate is pushed like "count by <fields>"
// (agg_pushdown.go), the engine returning every group; Go ranks them. The
// engine's top pipe is not used: its order of ties differs.

func init() { registerStage("top", (*parser).parseTop) }

// MaxTop is the largest N of top and topk.
const MaxTop = 100000

// TopStage is "top N fields [by aggregate]".
type TopStage struct {
	Pos    Pos
	N      int
	Fields []FieldRef
	// By is the ranking aggregate; nil means count.
	By *AggCall
}

// Position implements Node.
func (s *TopStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *TopStage) Name() string { return "top" }

func (s *TopStage) aggregate() bool { return true }

func (s *TopStage) walkFields(fn func(FieldRef)) {
	for _, f := range s.Fields {
		fn(f)
	}
	if s.By != nil {
		s.By.walkFields(fn)
	}
}

// String implements Node.
func (s *TopStage) String() string {
	var b strings.Builder
	b.WriteString("top " + strconv.Itoa(s.N) + " ")
	writeFieldList(&b, s.Fields)
	if s.By != nil {
		b.WriteString(" by " + s.By.String())
	}
	return b.String()
}

// parseTopN parses N of top or topk.
func (p *parser) parseTopN(op, hint string) (int, *Error) {
	t := p.tok
	if t.typ != tokNumber {
		return 0, p.fail("expected the number of rows after %q", op).withHint("%s", hint)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 1 || n > MaxTop {
		return 0, errorf(t.pos, "%s: the number of rows must be an integer from 1 to %d", op, MaxTop)
	}
	p.advance()
	return n, nil
}

// parseTop parses a top stage; the current token is "top".
func (p *parser) parseTop() (Stage, *Error) {
	st := &TopStage{Pos: p.tok.pos}
	p.advance()
	n, err := p.parseTopN("top", "write top 10 <field>")
	if err != nil {
		return nil, err
	}
	st.N = n
	for {
		f, err := p.parseFieldRef(`in top`)
		if err != nil {
			return nil, err
		}
		for _, g := range st.Fields {
			if g.Name == f.Name {
				return nil, errorf(f.Pos, "field %s is listed twice in top", f.String())
			}
		}
		st.Fields = append(st.Fields, f)
		if p.tok.typ != tokComma {
			break
		}
		p.advance()
	}
	if p.isWord("by") {
		p.advance()
		if p.tok.typ != tokTerm || !aggregateNames[strings.ToLower(p.tok.text)] {
			return nil, p.fail(`expected an aggregate after "by" in top`).withHint("write top 10 user by sum(bytes)")
		}
		call, err := p.parseAggCall()
		if err != nil {
			return nil, err
		}
		switch call.Func {
		case "count_frequent", "topk", "pct":
			return nil, errorf(call.Pos, "top cannot rank by %s", call.Func).withHint("rank by count, sum, avg, min, max, count_distinct, median, stddev")
		}
		st.By = call
	}
	if err := p.expectStageEnd("top"); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *TopStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	by := s.By
	if by == nil {
		by = &AggCall{Pos: s.Pos, Func: "count"}
	}
	agg := &AggregateStage{Pos: s.Pos, Funcs: []*AggCall{by}, By: s.Fields}
	impl, err := agg.compile(c, in)
	if err != nil {
		return nil, err
	}
	a := impl.(*aggImpl)
	a.text = s.String()
	a.limit = MaxFrequentGroups
	a.rank = &aggRank{col: len(s.Fields), n: s.N}
	return a, nil
}
