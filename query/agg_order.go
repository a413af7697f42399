package query

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// The aggregates that pick values (spec §5; the stage is described in
// op_aggregate.go):
//
//	first(<expr>), last(<expr>)   → _first, _last
//	most_recent(<expr>)           → _most_recent
//	least_recent(<expr>)          → _least_recent
//	values(<expr>)                → _values
//
// Null values are skipped by all of them.
//
// first and last take the first and the last non-null value in the current
// order of the rows: over messages that is newest first unless an earlier
// stage sorted them (the order of that sort), so without a sort first is
// the value of the newest message and last that of the oldest; over records
// it is the order of the records (by their key fields, or a later sort's).
// Messages are ordered by _messageTime, then by their ingestion order (the
// row id), like the message list.
//
// most_recent and least_recent take the value of the newest and the oldest
// message (by _messageTime, then row id), whatever the order; they need
// messages (records have no _messageTime).
//
// values lists the distinct values as a JSON array of strings sorted in
// string (byte) order: ["GET","POST"] [our choice: Sumo's separator is not
// documented; a JSON array is unambiguous when values hold commas]. A group
// keeps the MaxValues smallest distinct values; beyond, the list is cut and
// a warning says so. A group without values gives null.
//
// Pushdown: values(f) is the engine's uniq_values(f) (the distinct
// non-empty values, which Go sorts again in byte order and cuts as above);
// the others run in Go (the engine's row_min/row_max do not break ties of
// _time as the message order does).

// MaxValues is the most distinct values values() lists per group.
const MaxValues = 10000

func init() {
	registerAgg(&aggKind{name: "first", defaultNames: fixedNames("_first"), build: buildPick})
	registerAgg(&aggKind{name: "last", defaultNames: fixedNames("_last"), build: buildPick})
	registerAgg(&aggKind{name: "most_recent", defaultNames: fixedNames("_most_recent"), build: buildPick})
	registerAgg(&aggKind{name: "least_recent", defaultNames: fixedNames("_least_recent"), build: buildPick})
	registerAgg(&aggKind{name: "values", defaultNames: fixedNames("_values"), build: buildValues})
}

// ---- first, last, most_recent, least_recent ----

type pickFn struct {
	col FieldInfo
	arg evaluator
	// newest picks the newest (first, most_recent) rather than the oldest.
	newest bool
	// byTime: always by message time (most_recent, least_recent).
	byTime bool
}

func buildPick(b *aggBuild) (aggFn, *Error) {
	f := &pickFn{col: FieldInfo{Name: b.names[0], Type: b.argType}, arg: b.arg}
	switch b.call.Func {
	case "first":
		f.newest = true
	case "most_recent":
		f.newest, f.byTime = true, true
	case "least_recent":
		f.byTime = true
	}
	if f.col.Type == "" {
		f.col.Type = "string"
	}
	if f.byTime && b.in.records {
		return nil, errorf(b.call.Pos, "%s needs messages: the records of an aggregate have no _messageTime", b.call.Func).
			withHint("use it in the first aggregate, or first/last over sorted records")
	}
	return f, nil
}

func (f *pickFn) columns() []FieldInfo      { return []FieldInfo{f.col} }
func (f *pickFn) engine() (aggEngine, bool) { return aggEngine{}, false }
func (f *pickFn) usesOrder() bool           { return !f.byTime }

func (f *pickFn) newAcc() aggAcc { return &pickAcc{fn: f, byTime: f.byTime} }

type pickAcc struct {
	fn     *pickFn
	byTime bool
	has    bool
	val    string
	ts     int64
	rid    uint64
}

func (a *pickAcc) orderByTime() { a.byTime = true }

func (a *pickAcc) add(_ *runContext, arg *aggArg, r Row) {
	v := arg.v
	if v.IsNull() {
		return
	}
	if !a.byTime {
		// Arrival order: first keeps the first value, last the last.
		if a.fn.newest && a.has {
			return
		}
		a.val, a.has = strings.Clone(v.String()), true
		return
	}
	ts, rid := messageOrderKey(r)
	if a.has {
		newer := ts > a.ts || ts == a.ts && rid > a.rid
		if newer != a.fn.newest {
			return
		}
		if ts == a.ts && rid == a.rid {
			return // a copy of the same message: keep the first
		}
	}
	a.val, a.ts, a.rid, a.has = strings.Clone(v.String()), ts, rid, true
}

func (a *pickAcc) appendResult(_ *runContext, dst []string) []string { return append(dst, a.val) }

// messageOrderKey returns the time (ns) and row id that order a message:
// the hidden fields trailing it, else its _messageTime.
func messageOrderKey(r Row) (int64, uint64) {
	var ts int64
	var rid uint64
	found := false
	for i := len(r) - 1; i >= 0 && strings.HasPrefix(r[i].Name, event.InternalFieldPrefix); i-- {
		switch r[i].Name {
		case hiddenTimeField:
			ts, _ = strconv.ParseInt(r[i].Value, 10, 64)
			found = true
		case hiddenRowID:
			rid, _ = strconv.ParseUint(r[i].Value, 10, 64)
		}
	}
	if !found {
		ms, _ := strconv.ParseInt(r.Get(event.FieldMessageTime), 10, 64)
		ts = ms * 1e6
	}
	return ts, rid
}

// ---- values ----

type valuesFn struct {
	col   FieldInfo
	arg   evaluator
	field string
	warn  string
}

func buildValues(b *aggBuild) (aggFn, *Error) {
	return &valuesFn{col: FieldInfo{Name: b.names[0], Type: "string"}, arg: b.arg, field: b.argField(),
		warn: "values(" + exprText(b.call.Arg) + "): more than " + strconv.Itoa(MaxValues) + " distinct values in a group; the list keeps the smallest"}, nil
}

func (f *valuesFn) columns() []FieldInfo { return []FieldInfo{f.col} }

func (f *valuesFn) newAcc() aggAcc {
	return &distinctAcc{arg: f.arg, set: make(map[string]struct{}), json: true, keep: MaxValues, warn: f.warn}
}

func (f *valuesFn) engine() (aggEngine, bool) {
	if f.field == "" || f.field == event.FieldMessageTime {
		return aggEngine{}, false
	}
	return aggEngine{parts: []string{"uniq_values(" + logsQLString(storageField(f.field)) + ")"}}, true
}

// valuesJSON renders the distinct values as a sorted JSON array, cut at
// a.keep values.
func (a *distinctAcc) valuesJSON(x *runContext) string {
	if len(a.set) == 0 {
		return ""
	}
	list := make([]string, 0, len(a.set))
	for s := range a.set {
		list = append(list, s)
	}
	sort.Strings(list)
	if a.keep > 0 && len(list) > a.keep {
		list = list[:a.keep]
		a.truncated = true
	}
	if a.truncated {
		x.warn(a.warn)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(list)
	return strings.TrimSuffix(b.String(), "\n")
}
