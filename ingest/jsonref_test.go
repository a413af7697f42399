package ingest

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/dohyo/dohyo/event"
)

// flattenWithTokens is FlattenJSON written the obvious way, with
// encoding/json's Decoder.Token. It is the reference the tests and the
// fuzz target compare FlattenJSON with, and the baseline of
// BenchmarkFlattenJSON.
func flattenWithTokens(raw []byte, maxDepth, maxFields int) ([]event.Field, bool) {
	if !json.Valid(raw) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return nil, false
	}
	var fields []event.Field
	full := false
	skip := func() {
		for n := 1; n > 0; {
			t, _ := dec.Token()
			switch t {
			case json.Delim('{'), json.Delim('['):
				n++
			case json.Delim('}'), json.Delim(']'):
				n--
			}
		}
	}
	add := func(name, value string) {
		fields = append(fields, event.Field{Name: name, Value: value})
		if len(fields) >= maxFields {
			full = true
		}
	}
	var walk func(prefix string, depth int)
	walk = func(prefix string, depth int) {
		for dec.More() {
			kt, _ := dec.Token()
			key := kt.(string)
			name := prefix + key
			store := !full && key != "" && !strings.Contains(key, ".")
			if key != "" && !strings.Contains(key, ".") { // a repeated key drops its earlier fields, even when full
				kept := fields[:0]
				for _, f := range fields {
					if f.Name != name && !strings.HasPrefix(f.Name, name+".") {
						kept = append(kept, f)
					}
				}
				fields = kept
			}
			start := dec.InputOffset()
			vt, _ := dec.Token()
			switch v := vt.(type) {
			case json.Delim:
				if v == '{' && store && depth < maxDepth {
					walk(name+".", depth+1)
					dec.Token()
					continue
				}
				skip()
				if v == '[' && store {
					var b bytes.Buffer
					json.Compact(&b, bytes.TrimLeft(raw[start:dec.InputOffset()], " \t\r\n:,"))
					add(name, b.String())
				}
			case string:
				if store {
					add(name, v)
				}
			case json.Number:
				if store {
					add(name, v.String())
				}
			case bool:
				if store {
					add(name, map[bool]string{true: "true", false: "false"}[v])
				}
			}
		}
	}
	walk(event.JSONFieldPrefix, 1)
	return fields, true
}
