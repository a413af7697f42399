package ingest

import (
	"fmt"
	"strings"
	"sync"

	"github.com/dohyo/dohyo/event"
)

// Defaults for Options.JSONMaxDepth and JSONMaxFields.
const (
	DefaultJSONMaxDepth  = 8
	DefaultJSONMaxFields = 200
)

// FlattenJSON extracts the fields of a JSON object as event fields named
// event.JSONFieldPrefix + dotted path ("_json.userIdentity.arn"), valued by
// event.JSONValueText. The bool reports that raw is one valid JSON object
// (surrounding whitespace allowed); if not, there are no fields.
//
// Objects are descended into up to maxDepth levels (a path has at most
// maxDepth parts; an object that would need more is not stored, it stays in
// _raw only). Arrays are not descended into: an array is one field holding
// its compact JSON text. Null values make no field. Keys that contain a dot,
// and empty keys, are skipped, since their path would be ambiguous. When a
// key repeats in an object the last occurrence wins, as in encoding/json.
// After maxFields fields the rest is only validated. maxDepth and maxFields
// <= 0 mean the defaults (8 and 200).
func FlattenJSON(raw []byte, maxDepth, maxFields int) ([]event.Field, bool) {
	f := flattenerPool.Get().(*flattener)
	defer flattenerPool.Put(f)
	f.init(maxDepth, maxFields)
	s := string(raw)
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return nil, false
	}
	end, err := f.object(s, i)
	if err != nil || skipSpace(s, end) != len(s) {
		return nil, false
	}
	return f.take(), true
}

// flattenerPool keeps FlattenJSON's buffers from call to call; the query
// side calls it once per event it reads.
var flattenerPool = sync.Pool{New: func() any { return new(flattener) }}

// flattener walks JSON objects in one pass, validating as it goes and
// collecting fields. One flattener serves a whole request: its buffers are
// reused from event to event, so an event costs two allocations (its
// fields and, unless an earlier event had the same field names, one string
// holding all its field names) plus the values that had to be unescaped or
// compacted.
type flattener struct {
	maxDepth, maxFields int

	s     string
	path  []byte // JSONFieldPrefix + the current key path
	names []byte // the names of the pending fields, end to end
	pend  []pendingField
	full  bool

	// seen is a Bloom filter over the hashes of the key paths met so far.
	// Repeated keys are rare; the filter lets the common case skip the
	// search for an earlier occurrence.
	seen [32]uint64

	// times holds the top-level values of the keys in jsonTimeKeys.
	times [len(jsonTimeKeys)]jsonTime

	// shapes holds the field-name strings handed out, keyed by
	// themselves: events of the same shape (most of a source's) then
	// share one string instead of allocating their own.
	shapes map[string]string
}

// maxShapes bounds flattener.shapes; when full it starts over.
const maxShapes = 256

type pendingField struct {
	nameOff, nameLen int
	value            string
}

type jsonTime struct {
	text     string
	isNumber bool
	present  bool
}

func (f *flattener) init(maxDepth, maxFields int) {
	if maxDepth <= 0 {
		maxDepth = DefaultJSONMaxDepth
	}
	if maxFields <= 0 {
		maxFields = DefaultJSONMaxFields
	}
	f.maxDepth, f.maxFields = maxDepth, maxFields
}

// object flattens the object at s[i] == '{' and returns the offset just
// past it. Errors are *event.JSONSyntaxError with offsets in s.
func (f *flattener) object(s string, i int) (int, error) {
	f.s = s
	f.path = append(f.path[:0], event.JSONFieldPrefix...)
	f.names = f.names[:0]
	f.pend = f.pend[:0]
	f.full = false
	f.seen = [32]uint64{}
	f.times = [len(jsonTimeKeys)]jsonTime{}
	return f.walk(i, 1, pathSeed)
}

// take returns the fields collected by the last object call.
func (f *flattener) take() []event.Field {
	if len(f.pend) == 0 {
		return nil
	}
	names, ok := f.shapes[string(f.names)]
	if !ok {
		if f.shapes == nil || len(f.shapes) >= maxShapes {
			f.shapes = make(map[string]string, maxShapes)
		}
		names = string(f.names)
		f.shapes[names] = names
	}
	fields := make([]event.Field, len(f.pend))
	for k, p := range f.pend {
		fields[k] = event.Field{Name: names[p.nameOff : p.nameOff+p.nameLen], Value: p.value}
	}
	return fields
}

func syntaxError(s string, i int, what string) error {
	if i >= len(s) {
		return &event.JSONSyntaxError{Offset: i, Msg: "unexpected end of input, expected " + what}
	}
	return &event.JSONSyntaxError{Offset: i, Msg: fmt.Sprintf("expected %s, found %q", what, s[i])}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

// walk flattens the object at s[i] == '{' whose keys are at the given depth
// (1 = top level) and whose path hash is h.
func (f *flattener) walk(i, depth int, h uint64) (int, error) {
	s := f.s
	base := len(f.path)
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return 0, syntaxError(s, i, "a string for an object key")
		}
		key, _, j, err := event.JSONValueTextAt(s, i)
		if err != nil {
			return 0, err
		}
		j = skipSpace(s, j)
		if j >= len(s) || s[j] != ':' {
			return 0, syntaxError(s, j, "':' after an object key")
		}
		j = skipSpace(s, j+1)
		if j >= len(s) {
			return 0, syntaxError(s, j, "a value")
		}
		rank := -1
		if depth == 1 {
			if rank = jsonTimeKeyRank(key); rank >= 0 {
				f.times[rank] = jsonTime{} // a repeated key's last value wins
			}
		}
		c := s[j]
		store := !f.full && key != "" && strings.IndexByte(key, '.') < 0
		if f.full && key != "" && strings.IndexByte(key, '.') < 0 {
			// Past the field limit nothing more is stored, but a repeated
			// key still replaces its earlier value: drop what was stored
			// for it, so that no field holds a value the key no longer
			// has (the query side reads these fields instead of _raw).
			f.enter(key, depth, h)
			f.path = f.path[:base]
		}
		switch {
		case !store && (rank < 0 || c == '{' || c == '['):
			j, err = event.JSONValueEnd(s, j)
		case c == '{':
			kh := f.enter(key, depth, h)
			if depth < f.maxDepth {
				j, err = f.walk(j, depth+1, kh)
			} else {
				j, err = event.JSONValueEnd(s, j)
			}
			f.path = f.path[:base]
		default:
			var text string
			var isNull bool
			text, isNull, j, err = event.JSONValueTextAt(s, j)
			if err != nil {
				break
			}
			if rank >= 0 && (c == '"' || c == '-' || c >= '0' && c <= '9') {
				f.times[rank] = jsonTime{text: text, isNumber: c != '"', present: true}
			}
			if store {
				f.enter(key, depth, h)
				if !isNull {
					f.add(text)
				}
				f.path = f.path[:base]
			}
		}
		if err != nil {
			return 0, err
		}
		j = skipSpace(s, j)
		if j < len(s) && s[j] == ',' {
			i = skipSpace(s, j+1)
			continue
		}
		if j < len(s) && s[j] == '}' {
			return j + 1, nil
		}
		return 0, syntaxError(s, j, "',' or '}' after an object value")
	}
}

// enter appends key to the path and returns the new path's hash. If the
// path was met before in this object, the key repeats: the fields of its
// earlier occurrence are dropped, so that the last occurrence wins.
//
// The hash only needs to be equal for equal paths: a false match costs a
// search that finds nothing to drop. So it mixes the key's length and three
// of its bytes into the parent's hash instead of reading every byte.
func (f *flattener) enter(key string, depth int, h uint64) uint64 {
	if depth > 1 {
		f.path = append(f.path, '.')
	}
	f.path = append(f.path, key...)
	k := uint64(len(key))
	if len(key) > 0 {
		k |= uint64(key[0])<<16 | uint64(key[len(key)/2])<<24 | uint64(key[len(key)-1])<<32
	}
	h = (h ^ k) * mixPrime
	b1, b2 := h>>53, (h>>42)&2047
	if f.seen[b1>>6]&(1<<(b1&63)) != 0 && f.seen[b2>>6]&(1<<(b2&63)) != 0 {
		f.dropUnder()
	}
	f.seen[b1>>6] |= 1 << (b1 & 63)
	f.seen[b2>>6] |= 1 << (b2 & 63)
	return h
}

// dropUnder removes the pending fields at the current path or below it.
func (f *flattener) dropUnder() {
	p := f.path
	out := f.pend[:0]
	for _, pf := range f.pend {
		name := f.names[pf.nameOff : pf.nameOff+pf.nameLen]
		if len(name) >= len(p) && string(name[:len(p)]) == string(p) && (len(name) == len(p) || name[len(p)] == '.') {
			continue
		}
		out = append(out, pf)
	}
	f.pend = out
}

func (f *flattener) add(value string) {
	off := len(f.names)
	f.names = append(f.names, f.path...)
	f.pend = append(f.pend, pendingField{nameOff: off, nameLen: len(f.path), value: value})
	if len(f.pend) >= f.maxFields {
		f.full = true
	}
}

// pathSeed and mixPrime make the key path hashes of enter: a large odd
// multiplier carries every input bit into the top bits the filter uses.
const (
	pathSeed = 0x9e3779b97f4a7c15
	mixPrime = 0xff51afd7ed558ccd
)
