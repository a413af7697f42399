package query

import (
	"strconv"

	"github.com/dohyo/dohyo/analytics/logreduce"
	"github.com/dohyo/dohyo/event"
)

// logreduce keys (spec §10.4, op_logreduce.go has the grammar):
//
//	logreduce keys [parser=json|keyvalue] [maxdepth=<n>] [field=<f>] [noaggregate]
//
// groups structured messages by the set of their keys (their schema),
// whatever the values: the field (default _raw) is read as a JSON object
// (parser=json, the default) or as key=value pairs (parser=keyvalue), see
// logreduce.KeySchema: nested objects give dotted paths down to maxdepth
// levels (default 5), arrays are leaves, at most 100 keys. Output, most
// common schema first (ties by id):
//
//	_signature_id  16 hex digits, a hash of the schema; 0000000000000000
//	               for messages without keys (not JSON, no key=value)
//	_schema        the JSON array of the sorted key paths, or "unknown"
//	_count         the messages of the schema
//
// A message without the field (null) is left out. With noaggregate, the
// stage is not an aggregate: every message keeps flowing with the fields
// _signature_id and _schema added (so "logreduce keys noaggregate | where
// _signature_id = ..." works). "logreduce keys ... details <id>" keeps the
// messages of one schema (no mining needed: the id is a function of the
// message).
//
// At most 10,000 schemas per engine worker (logreduce.KeyMiner); the
// messages of further schemas are counted under the unknown schema.
// Deviation from Sumo: Sumo requires logreduce keys to be the last stage
// unless noaggregate; dohyo lets later stages (where, sort...) follow.

func (s *LogReduceStage) compileKeys(c *compiler, in *schema) (stageImpl, *Error) {
	impl := &keysImpl{text: s.String(), field: event.FieldRaw, depth: s.MaxDepth}
	if s.Parser == "keyvalue" {
		impl.parser = logreduce.ParseKeyValue
	}
	if s.Field != nil {
		if _, err := c.resolveField(*s.Field, in); err != nil {
			return nil, err
		}
		impl.field = s.Field.Name
	}
	switch {
	case s.Details != "":
		id := s.Details
		return newDetailsImpl(s, in, []string{impl.field}, func(*miningRunner, int) (rowTest, error) {
			return func(vals []string) bool {
				if vals[0] == "" {
					return false
				}
				_, got, _ := logreduce.KeySchema(vals[0], impl.parser, impl.depth)
				return got == id
			}, nil
		}), nil
	case s.NoAggregate:
		out := &schema{fields: append([]FieldInfo(nil), in.fields...)}
		for _, name := range []string{"_schema", "_signature_id"} {
			if _, ok := out.field(name); !ok {
				out.fields = append(out.fields, FieldInfo{Name: name, Type: "string"})
			}
		}
		impl.out = out
		return &keysTagImpl{keysImpl: impl}, nil
	}
	impl.out = &schema{records: true, fields: []FieldInfo{
		{Name: "_signature_id", Type: "string"},
		{Name: "_schema", Type: "string"},
		{Name: "_count", Type: "long"},
	}}
	return impl, nil
}

// keysImpl is compiled logreduce keys.
type keysImpl struct {
	text   string
	field  string
	parser logreduce.KeyParser
	depth  int
	out    *schema
}

func (k *keysImpl) output() *schema              { return k.out }
func (k *keysImpl) aggregate() bool              { return true }
func (k *keysImpl) logsQL(string) (string, bool) { return "", false }
func (k *keysImpl) groupLimit() int              { return MaxLogReduceRecords }
func (k *keysImpl) explain() string              { return k.text + " (schemas in Go, merged per engine worker)" }
func (k *keysImpl) blockFields() []string        { return []string{k.field} }

func (k *keysImpl) newOperator(next rowSink) rowSink { return newBlockRowOp(k, next, nil) }

func (k *keysImpl) newRunOperator(next rowSink, x *runContext) rowSink {
	return newBlockRowOp(k, next, x)
}

func (k *keysImpl) newPartial() blockPartial {
	return &keysPartial{m: &logreduce.KeyMiner{Parser: k.parser, MaxDepth: k.depth}}
}

// keysPartial counts schemas.
type keysPartial struct{ m *logreduce.KeyMiner }

func (p *keysPartial) add(vals []string) error {
	if vals[0] != "" {
		p.m.Add(vals[0])
	}
	return nil
}

func (k *keysImpl) finishPartials(_ *runContext, parts []blockPartial, next rowSink) error {
	m := &logreduce.KeyMiner{Parser: k.parser, MaxDepth: k.depth}
	for _, p := range parts {
		m.Merge(p.(*keysPartial).m)
	}
	cs := m.Clusters()
	if len(cs) > MaxLogReduceRecords {
		return tooManyGroups(k.text, MaxLogReduceRecords)
	}
	rows := make([]Row, len(cs))
	for i, c := range cs {
		rows[i] = Row{{"_signature_id", c.ID}, {"_schema", c.Schema}, {"_count", strconv.FormatInt(c.Count, 10)}}
	}
	if err := next.push(rows); err != nil {
		return err
	}
	return next.finish()
}

// keysTagImpl is logreduce keys noaggregate: it adds each message's schema.
type keysTagImpl struct{ *keysImpl }

func (k *keysTagImpl) aggregate() bool { return false }
func (k *keysTagImpl) explain() string { return k.text + " (adds each message's schema, in Go)" }

func (k *keysTagImpl) newOperator(next rowSink) rowSink {
	return &keysTagOp{impl: k.keysImpl, next: next}
}

func (k *keysTagImpl) newRunOperator(next rowSink, _ *runContext) rowSink {
	return k.newOperator(next)
}

// keysTagOp sets _schema and _signature_id on every message.
type keysTagOp struct {
	impl *keysImpl
	next rowSink
	buf  []Row
}

var keysTagNames = []string{"_schema", "_signature_id"}

func (o *keysTagOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	order := []int{0, 1}
	vals := make([]string, 2)
	for _, r := range rows {
		v := r.Get(o.impl.field)
		if v == "" {
			vals[0], vals[1] = "", ""
		} else {
			vals[0], vals[1], _ = logreduce.KeySchema(v, o.impl.parser, o.impl.depth)
		}
		o.buf = append(o.buf, setSortedFields(r, keysTagNames, order, vals))
	}
	return o.next.push(o.buf)
}

func (o *keysTagOp) finish() error { return o.next.finish() }
