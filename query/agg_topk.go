package query

import "strings"

// topk (spec §5, P2):
//
//	topk(<N>, <aggregate>) by <field>[, ...]
//
// computes the aggregate (count, sum(x), ...) per group and keeps the N
// groups with the largest values, largest first, adding _rank (1 to N).
// Ties are ordered by the group-by fields in string order; a null value
// ranks last. Columns: the group-by fields, the aggregate's, _rank. topk
// needs "by" and cannot share its stage; it holds up to MaxFrequentGroups
// groups. Pushdown as the aggregate alone (agg_pushdown.go), ranked in Go.

// parseTopk parses topk's arguments: "(N, <aggregate>)"; the current token
// is "(".
func (p *parser) parseTopk(call *AggCall) *Error {
	if p.tok.typ != tokLParen {
		return p.fail(`expected "(" after "topk"`).withHint("write topk(10, count) by <field>")
	}
	p.advance()
	t := p.tok
	if _, err := p.parseTopN("topk", "write topk(10, count) by <field>"); err != nil {
		return err
	}
	call.Params = []*NumberLit{numberLit(t)}
	if p.tok.typ != tokComma {
		return p.fail(`expected "," and an aggregate after topk(%s`, t.text)
	}
	p.advance()
	if p.tok.typ != tokTerm || !aggregateNames[strings.ToLower(p.tok.text)] {
		return p.fail("expected an aggregate in topk(...)").withHint("write topk(10, count) by <field>")
	}
	inner, err := p.parseAggCall()
	if err != nil {
		return err
	}
	switch inner.Func {
	case "count_frequent", "topk", "pct", "values", "first", "last", "most_recent", "least_recent":
		return errorf(inner.Pos, "topk cannot rank by %s", inner.Func).withHint("rank by count, sum, avg, min, max, count_distinct, median, stddev")
	}
	call.Inner = inner
	if p.tok.typ != tokRParen {
		if p.tok.typ == tokError {
			return p.tok.err
		}
		return p.fail(`expected ")" to close topk(`)
	}
	p.advance()
	if p.isWord("as") {
		return errorf(p.tok.pos, `topk's columns are named by its aggregate`).withHint("write topk(10, count as n) by <field>")
	}
	return nil
}

// compileTopk compiles a topk stage.
func compileTopk(c *compiler, s *AggregateStage, in *schema) (stageImpl, *Error) {
	call := s.Funcs[0]
	agg := &AggregateStage{Pos: s.Pos, Funcs: []*AggCall{call.Inner}, By: s.By}
	impl, err := agg.compile(c, in)
	if err != nil {
		return nil, err
	}
	a := impl.(*aggImpl)
	if _, dup := a.out.field("_rank"); dup {
		return nil, errorf(call.Pos, `topk adds the column _rank, which the stage already has`)
	}
	a.text = s.String()
	a.limit = MaxFrequentGroups
	a.rank = &aggRank{col: len(s.By), n: int(call.Params[0].Value), addRank: true}
	out := &schema{records: true, fields: append(append([]FieldInfo(nil), a.out.fields...), FieldInfo{Name: "_rank", Type: "int"})}
	a.out = out
	return a, nil
}
