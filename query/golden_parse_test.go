package query

import (
	"slices"
	"strconv"
	"strings"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/ingest"
)

// Golden-format extensions for the parsing operators (golden_test.go
// describes the format): eval_fields, ingest-time JSON fields on load, and
// the third run of json queries.

// goldenMode is one way a golden eval runs.
type goldenMode struct {
	push    bool // CompileOptions.PushDown
	rawJSON bool // the json operator parses _raw, ignoring ingest-time fields
	fields  bool // messages are shown by their fields (eval_fields)
	noPrune bool // all-Go reading every column (CompileOptions.noPrune)
}

func (m goldenMode) String() string {
	if m.rawJSON {
		return "false, parsing _raw"
	}
	if m.noPrune {
		return "false, all columns"
	}
	return strconv.FormatBool(m.push)
}

// goldenModes are the runs of an eval: pushed down, all-Go, for a query
// using json also all-Go parsing _raw, and for a query whose Go stages read
// only some columns (prune.go) also all-Go reading every column.
func goldenModes(c goldenCmd) []goldenMode {
	fields := c.kind == "eval_fields"
	ms := []goldenMode{{push: true, fields: fields}, {push: false, fields: fields}}
	if strings.Contains(strings.ToLower(c.arg), "json") {
		ms = append(ms, goldenMode{rawJSON: true, fields: fields})
	}
	if q, err := Parse(c.arg); err == nil {
		if p, err := Compile(q, CompileOptions{}); err == nil {
			if _, ok := p.pruneColumns(); ok {
				ms = append(ms, goldenMode{noPrune: true, fields: fields})
			}
		}
	}
	return ms
}

// goldenMessageFields renders the non-built-in fields of a message.
func goldenMessageFields(m Row) string {
	var parts []string
	for _, f := range m {
		if slices.Contains(fixedMessageFields, f.Name) || f.Name == FieldMessageID || strings.HasPrefix(f.Name, event.InternalFieldPrefix) {
			continue
		}
		parts = append(parts, f.Name+"="+goldenValue(f.Value))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// goldenJSONFields are the ingest-time JSON fields of a raw message, as
// ingest extracts them, unless opts (from the load line) say nojson;
// jsondepth and jsonfields set ingest's bounds.
func goldenJSONFields(raw string, opts map[string]string) []event.Field {
	if _, ok := opts["nojson"]; ok {
		return nil
	}
	depth, _ := strconv.Atoi(opts["jsondepth"])
	fields, _ := strconv.Atoi(opts["jsonfields"])
	fs, ok := ingest.FlattenJSON([]byte(raw), depth, fields)
	if !ok {
		return nil
	}
	return fs
}
