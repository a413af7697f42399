// Package event defines the unit of data that flows from the receivers through
// the WAL into the store: a Batch of Events that share their source metadata.
//
// The package also owns the names under which events are stored, so that the
// store (which writes them) and the query compiler (which reads them) agree.
package event

import "strings"

// Built-in field names, spelled as Sumo Logic spells them. Field names are
// case-insensitive in the query language; these are the canonical spellings
// used in storage.
const (
	FieldRaw            = "_raw"
	FieldMessageTime    = "_messageTime"
	FieldReceiptTime    = "_receiptTime"
	FieldSourceCategory = "_sourceCategory"
	FieldSourceHost     = "_sourceHost"
	FieldSourceName     = "_sourceName"
	FieldSource         = "_source"
	FieldSourceID       = "_sourceId"
	FieldCollector      = "_collector"
	FieldFormat         = "_format"
	FieldSize           = "_size"

	// FieldOriginalTime keeps the message time found in the event when it
	// could not be used as _messageTime (outside the retention window or too
	// far in the future); the event is then stored at its receipt time.
	FieldOriginalTime = "_originalMessageTime"
	// FieldTruncated marks an event whose _raw was cut to fit the engine's
	// row size limit; its value is the original size in bytes.
	FieldTruncated = "_truncated"
)

// JSONFieldPrefix prefixes the fields extracted from JSON events at ingest
// ("_json.userIdentity.arn"). They are an index for the query language's json
// operator, not user-visible fields: the prefix keeps them apart from custom
// fields and built-ins.
const JSONFieldPrefix = "_json."

// InternalFieldPrefix prefixes bookkeeping fields that users never see.
const InternalFieldPrefix = "_dohyo."

// FieldRowID is the hidden per-row identity (WAL sequence << RowIDShift | row
// index) that lets a WAL replay skip rows the engine already has.
const FieldRowID = InternalFieldPrefix + "rid"

// RowIDShift is the number of low bits of a row id that hold the row's index
// in its batch; a batch therefore holds at most 1<<RowIDShift events.
const RowIDShift = 20

// MaxBatchEvents is the largest number of events one Batch may hold.
const MaxBatchEvents = 1 << RowIDShift

// RowID returns the hidden id of the i-th event of the batch with sequence seq.
func RowID(seq uint64, i int) uint64 { return seq<<RowIDShift | uint64(i) }

// StreamFields are the metadata fields the engine indexes as stream fields:
// low-cardinality values that scope most searches.
var StreamFields = []string{FieldSourceCategory, FieldSourceHost, FieldSource, FieldCollector}

// Field is one name/value pair.
type Field struct {
	Name  string
	Value string
}

// Source is the metadata shared by every event of a batch: the configured
// source, overridden per request by the X-Sumo-* headers.
type Source struct {
	ID        string // the source's id in the catalog
	Name      string // _source: the configured source name
	Category  string // _sourceCategory
	Host      string // _sourceHost
	FileName  string // _sourceName
	Collector string // _collector
}

// Event is one log message.
type Event struct {
	// Time is _messageTime in Unix nanoseconds.
	Time int64
	// Raw is the message exactly as received.
	Raw string
	// Format names the timestamp pattern found in Raw; empty when none was
	// found and Time is the receipt time.
	Format string
	// Fields are the event's own fields: JSON fields extracted at ingest
	// (names start with JSONFieldPrefix).
	Fields []Field
}

// Batch is what one request hands to the WAL: events that share a source,
// custom fields and a receipt time.
type Batch struct {
	// Tenant is the engine tenant the events belong to.
	Tenant uint32
	// ReceiptTime is _receiptTime in Unix nanoseconds.
	ReceiptTime int64
	Source      Source
	// Fields are custom fields set on the source or with X-Sumo-Fields; they
	// apply to every event of the batch.
	Fields []Field
	Events []Event
}

// RawBytes returns the total size of the events' raw text.
func (b *Batch) RawBytes() int {
	n := 0
	for i := range b.Events {
		n += len(b.Events[i].Raw)
	}
	return n
}

// IsReservedName reports whether name is reserved for built-in fields
// (Sumo reserves every name that starts with an underscore).
func IsReservedName(name string) bool { return strings.HasPrefix(name, "_") }
