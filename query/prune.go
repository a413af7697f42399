package query

import (
	"strings"

	"github.com/dohyo/dohyo/event"
)

// Column pruning: an aggregate query whose stages before (and including)
// the first aggregate run in Go never delivers whole messages, so the
// engine need only send the columns those stages read. Reading fewer
// columns spares the engine unpacking them and dohyo copying them into
// store.Block and Rows (the larger part of the cost of a Go pipeline).
//
// The set is computed conservatively from the stages' syntax:
//
//   - only stages whose every read is a field named in walkFields (plus
//     the parse source _raw when none is given) are understood: parse,
//     parse regex, where, "<expr> as f", the aggregates (count, sum, avg,
//     first, ..., top) and timeslice. Any other stage between the pushed
//     part and the first aggregate (json, kv, fields, lookup, logreduce,
//     sort, dedup, ...), which may read fields implicitly or by pattern,
//     turns pruning off;
//   - walkFields lists the fields a stage writes as well as those it reads,
//     so the set is a superset of the reads;
//   - the runtime's own fields, _time (_messageTime, the order of
//     messages, timeslice) and the row id (ties, first/last), are kept
//     unless the stages need neither (orderFree): then the engine neither
//     formats each row's time as text nor reads the row ids, and the rows
//     carry neither.
//
// A Row field is found by its exact name (Row.Get, rowValue, the scope's
// matchField); names in stages are canonical (lower-cased customs, the
// event.Field* spelling of built-ins) and map to engine columns with
// storageField, and the engine's fields pipe matches names exactly. So a
// stored column a Go stage could read is always kept, and a column it
// could not read (another name, or another case) is never looked at with
// or without pruning: results are identical (TestPruneDifferential and
// the golden files' third mode, all-Go without pruning, check it).

// pruneColumns returns the engine columns the Go stages of the plan read
// (storage names), or ok=false when the plan delivers messages or a Go
// stage may read fields it does not name.
func (p *Plan) pruneColumns() (cols []string, ok bool) {
	if p.opts.noPrune || p.firstAgg < 0 || p.pushed > p.firstAgg {
		return nil, false
	}
	seen := map[string]bool{}
	add := func(name string) {
		c := storageField(name)
		if !seen[c] {
			seen[c] = true
			cols = append(cols, c)
		}
	}
	if !p.orderFree() {
		add(engineTimeField)
		add(event.FieldRowID)
	}
	if !p.scopePushed && p.query.Scope != nil {
		walkExpr(p.query.Scope, func(e Expr) {
			switch n := e.(type) {
			case *Keyword, *Phrase:
				add(event.FieldRaw)
			case *FieldMatch:
				add(n.Field)
			}
		})
	}
	for i := p.pushed; i <= p.firstAgg; i++ {
		reads, known := stageReads(p.steps[i].stage)
		if !known {
			return nil, false
		}
		for _, r := range reads {
			add(r)
		}
	}
	if len(cols) == 0 {
		// The stages read nothing ("* | count"): a column the engine
		// has for every block, not for every row.
		cols = append(cols, engineStreamIDField)
	}
	return cols, true
}

// orderFree reports whether the Go stages up to the first aggregate read
// neither a message's time nor its row id: no timeslice, no _messageTime
// among the fields they name, and no aggregate that picks values by the
// order of messages (first, last, most_recent, least_recent) or is not
// known here.
func (p *Plan) orderFree() bool {
	if p.timed {
		return false
	}
	if !p.scopePushed && p.query.Scope != nil {
		readsTime := false
		walkExpr(p.query.Scope, func(e Expr) {
			if m, ok := e.(*FieldMatch); ok && m.Field == event.FieldMessageTime {
				readsTime = true
			}
		})
		if readsTime {
			return false
		}
	}
	for i := p.pushed; i <= p.firstAgg; i++ {
		var calls []*AggCall
		switch st := p.steps[i].stage.(type) {
		case *TimesliceStage:
			return false
		case *AggregateStage:
			calls = st.Funcs
		case *TopStage:
			if st.By != nil {
				calls = []*AggCall{st.By}
			}
		}
		for len(calls) > 0 {
			c := calls[0]
			calls = calls[1:]
			switch c.Func {
			case "count", "count_distinct", "count_frequent", "sum", "avg", "min", "max",
				"pct", "pct_sampling", "median", "stddev", "values":
			case "topk":
				calls = append(calls, c.Inner)
			default:
				return false
			}
		}
		readsTime := false
		p.steps[i].stage.walkFields(func(f FieldRef) {
			readsTime = readsTime || f.Name == event.FieldMessageTime
		})
		if readsTime {
			return false
		}
	}
	return true
}

// stageReads returns the fields a stage may read (and those it writes),
// or known=false when the stage may read fields it does not name.
func stageReads(s Stage) (names []string, known bool) {
	switch st := s.(type) {
	case *ParseStage:
		if st.Field == nil {
			names = append(names, event.FieldRaw)
		}
	case *RegexStage:
		if st.Field == nil {
			names = append(names, event.FieldRaw)
		}
	case *WhereStage, *AssignStage, *AggregateStage, *TopStage, *TimesliceStage:
	default:
		return nil, false
	}
	s.walkFields(func(f FieldRef) { names = append(names, f.Name) })
	return names, true
}

// prunePipe is the fields pipe keeping the columns the Go stages read and
// the hidden copies of ingest-time JSON fields (copies), or "".
func (p *Plan) prunePipe(copies []string) string {
	cols, ok := p.pruneColumns()
	if !ok {
		return ""
	}
	quoted := make([]string, 0, len(cols)+len(copies))
	for _, c := range cols {
		if c == engineTimeField || c == engineStreamIDField {
			quoted = append(quoted, c)
			continue
		}
		quoted = append(quoted, logsQLString(c))
	}
	quoted = append(quoted, copies...)
	return " | fields " + strings.Join(quoted, ", ")
}
