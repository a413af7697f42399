package logreduce

import (
	"encoding/json"
	"slices"
	"strings"
)

// logreduce keys: structured events grouped by the set of their keys.
//
// The schema of an event is the sorted list of its key paths: nested
// objects give dotted paths ("userIdentity.type") down to maxDepth levels
// (deeper objects count as one key); arrays are leaves (their contents are
// not looked into); at most MaxSchemaKeys keys are kept (the first in
// order). Its id is the FNV-1a 64 hash of the schema text. An event that is
// not a JSON object (or, with the key=value parser, has no key=value pair)
// has the schema "unknown" and the id UnstructuredID.

// UnstructuredID is the signature id of events with no schema.
const UnstructuredID = "0000000000000000"

// MaxSchemaKeys is the most keys a schema lists.
const MaxSchemaKeys = 100

// KeyParser selects how KeySchema finds the keys of an event.
type KeyParser int

const (
	ParseJSON     KeyParser = iota // a JSON object
	ParseKeyValue                  // key=value pairs anywhere in the text
)

// KeySchema returns the schema of an event and its id. ok is false (schema
// "unknown", id UnstructuredID) when the event has no keys.
func KeySchema(event string, parser KeyParser, maxDepth int) (schema, id string, ok bool) {
	if maxDepth <= 0 {
		maxDepth = 5
	}
	var keys []string
	switch parser {
	case ParseKeyValue:
		keys = keyValueKeys(event)
	default:
		var obj map[string]any
		if err := json.Unmarshal([]byte(event), &obj); err == nil && obj != nil {
			keys = jsonKeys(obj, "", maxDepth, keys)
		}
	}
	if len(keys) == 0 {
		return "unknown", UnstructuredID, false
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) > MaxSchemaKeys {
		keys = keys[:MaxSchemaKeys]
	}
	b, _ := json.Marshal(keys)
	schema = string(b)
	return schema, signatureID(schema), true
}

func jsonKeys(obj map[string]any, prefix string, depth int, keys []string) []string {
	for k, v := range obj {
		path := prefix + k
		if sub, ok := v.(map[string]any); ok && depth > 1 && len(sub) > 0 {
			keys = jsonKeys(sub, path+".", depth-1, keys)
			continue
		}
		keys = append(keys, path)
	}
	return keys
}

// keyValueKeys finds the keys of key=value pairs: a name of letters,
// digits, '_', '-' and '.', starting with a letter, right before '='.
func keyValueKeys(s string) []string {
	var keys []string
	for i := 0; i < len(s); i++ {
		if s[i] != '=' || i == 0 {
			continue
		}
		j := i
		for j > 0 {
			c := s[j-1]
			if ctab[c]&(cAlpha|cDigit) != 0 || c == '_' || c == '-' || c == '.' {
				j--
				continue
			}
			break
		}
		if j < i && ctab[s[j]]&cAlpha != 0 {
			keys = append(keys, s[j:i])
		}
	}
	return keys
}

// KeyCluster is the events of one schema.
type KeyCluster struct {
	ID      string // 16 hex digits; UnstructuredID for events without keys
	Schema  string // JSON array of the sorted key paths, or "unknown"
	Keys    []string
	Count   int64
	Samples []string // a few events, chosen by hash
}

// KeyMiner groups events by schema. Like Miner, states of workers merge
// with Merge; counts are exact, samples are the events with the smallest
// hashes, so the result does not depend on the order or split of the input.
type KeyMiner struct {
	Parser     KeyParser
	MaxDepth   int // default 5
	MaxSamples int // default 3
	// MaxSchemas caps the distinct schemas Add keeps; events of further
	// schemas are counted under UnstructuredID. Default 10,000.
	MaxSchemas int

	byID map[string]*keyCluster
}

type keyCluster struct {
	schema  string
	count   int64
	samples samples
}

// Add adds one event.
func (k *KeyMiner) Add(event string) {
	if k.byID == nil {
		k.byID = map[string]*keyCluster{}
	}
	schema, id, _ := KeySchema(event, k.Parser, k.MaxDepth)
	c := k.byID[id]
	if c == nil {
		if len(k.byID) >= k.maxSchemas() && id != UnstructuredID {
			schema, id = "unknown", UnstructuredID
			c = k.byID[id]
		}
		if c == nil {
			c = &keyCluster{schema: schema}
			k.byID[id] = c
		}
	}
	c.count++
	c.samples.add(hashString(event, seedLine), event, k.maxSamples(), 1024)
}

func (k *KeyMiner) maxSchemas() int {
	if k.MaxSchemas > 0 {
		return k.MaxSchemas
	}
	return 10000
}

func (k *KeyMiner) maxSamples() int {
	if k.MaxSamples > 0 {
		return k.MaxSamples
	}
	return 3
}

// Merge adds the counts of o.
func (k *KeyMiner) Merge(o *KeyMiner) {
	if k.byID == nil {
		k.byID = map[string]*keyCluster{}
	}
	for id, oc := range o.byID {
		c := k.byID[id]
		if c == nil {
			c = &keyCluster{schema: oc.schema}
			k.byID[id] = c
		}
		c.count += oc.count
		c.samples.merge(&oc.samples, k.maxSamples())
	}
}

// Clusters returns the schemas, most common first (ties by id).
func (k *KeyMiner) Clusters() []KeyCluster {
	out := make([]KeyCluster, 0, len(k.byID))
	for id, c := range k.byID {
		kc := KeyCluster{ID: id, Schema: c.schema, Count: c.count, Samples: c.samples.lines()}
		if id != UnstructuredID {
			_ = json.Unmarshal([]byte(c.schema), &kc.Keys)
		}
		out = append(out, kc)
	}
	slices.SortFunc(out, func(a, b KeyCluster) int {
		if a.Count != b.Count {
			return cmpInt64(b.Count, a.Count)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
