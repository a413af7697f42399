package query

import (
	"strings"
	"unicode/utf8"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
)

// builtinField describes a built-in field: its canonical (Sumo) spelling,
// where the engine keeps it and whether the scope may filter on it.
type builtinField struct {
	name    string // canonical spelling, as in event.Field*
	storage string // engine column; "" when dohyo does not store it
	typ     string // FieldInfo.Type
	// noScope, when set, says why the field cannot be used in a scope filter.
	noScope string
}

// engineTimeField is the engine's name for _messageTime.
const engineTimeField = "_time"

// engineStreamIDField is the engine's column of a row's stream id, the same
// for every row of a block.
const engineStreamIDField = "_stream_id"

var builtinFields = []builtinField{
	{name: event.FieldRaw, storage: store.MessageField, typ: "string",
		noScope: "search _raw with keywords and phrases, not with _raw=..."},
	{name: event.FieldMessageTime, storage: engineTimeField, typ: "long",
		noScope: "select messages by _messageTime with the time range"},
	{name: event.FieldReceiptTime, storage: event.FieldReceiptTime, typ: "long"},
	{name: event.FieldSourceCategory, storage: event.FieldSourceCategory, typ: "string"},
	{name: event.FieldSourceHost, storage: event.FieldSourceHost, typ: "string"},
	{name: event.FieldSourceName, storage: event.FieldSourceName, typ: "string"},
	{name: event.FieldSource, storage: event.FieldSource, typ: "string"},
	{name: event.FieldCollector, storage: event.FieldCollector, typ: "string"},
	{name: event.FieldSourceID, storage: event.FieldSourceID, typ: "string"},
	{name: event.FieldFormat, storage: event.FieldFormat, typ: "string"},
	{name: event.FieldSize, storage: event.FieldSize, typ: "int"},
	{name: "_index", typ: "string", noScope: "partitions (_index) are not supported yet"},
	{name: "_view", typ: "string", noScope: "scheduled views (_view) are not supported yet"},
	{name: "_messageCount", typ: "int", noScope: "_messageCount is not supported yet"},
	{name: "_messageId", typ: "string", noScope: "_messageId is not supported yet"},
	{name: "_collectorId", typ: "string", noScope: "_collectorId is not supported yet"},
	{name: "_blockId", typ: "string", noScope: "_blockId is not supported yet"},
}

var builtinByLower = func() map[string]*builtinField {
	m := make(map[string]*builtinField, len(builtinFields))
	for i := range builtinFields {
		m[strings.ToLower(builtinFields[i].name)] = &builtinFields[i]
	}
	return m
}()

// lookupBuiltin returns the built-in field named name (any case).
func lookupBuiltin(name string) *builtinField { return builtinByLower[strings.ToLower(name)] }

// canonicalField returns the canonical spelling of a field name: built-ins
// as event.Field* spells them, every other name lower-cased (field names are
// case-insensitive; custom fields are stored lower-case).
func canonicalField(name string) string {
	if b := lookupBuiltin(name); b != nil {
		return b.name
	}
	return strings.ToLower(name)
}

// isStreamField reports whether the canonical field is one of the engine's
// stream fields.
func isStreamField(name string) bool {
	for _, f := range event.StreamFields {
		if f == name {
			return true
		}
	}
	return false
}

// storageField returns the engine column of a canonical field name.
func storageField(name string) string {
	if b := builtinByLower[strings.ToLower(name)]; b != nil && b.storage != "" {
		return b.storage
	}
	return name
}

// isPlainIdent reports whether name can be written without %"...": letters,
// digits and underscores, not starting with a digit.
func isPlainIdent(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		if !isIdentRune(r) {
			return false
		}
		if i == 0 && '0' <= r && r <= '9' {
			return false
		}
	}
	return true
}

// reservedWords must be written %"..." when used as field names.
var reservedWords = map[string]bool{"and": true, "or": true, "not": true, "by": true, "as": true, "group": true}

// fieldText is the canonical text for a field name.
func fieldText(name string) string {
	if isPlainIdent(name) && !reservedWords[strings.ToLower(name)] {
		return name
	}
	return "%" + quoteString(name)
}

// quoteString returns s in double quotes, escaping " and \.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// builtinNames lists the canonical built-in names, for suggestions.
func builtinNames() []string {
	out := make([]string, len(builtinFields))
	for i, f := range builtinFields {
		out[i] = f.name
	}
	return out
}

// fieldType returns the FieldInfo type of a canonical field name.
func fieldType(name string) string {
	if b := lookupBuiltin(name); b != nil {
		return b.typ
	}
	return "string"
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }
