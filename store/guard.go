package store

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dohyo/dohyo/event"
)

// Engine limits, measured and read from the engine's code
// (../shared/notes/victorialogs-embedding.md). The engine silently drops a row
// that breaks any of them; the Guard changes such rows so they are kept.
const (
	// MaxFieldNameLen is the longest field name the engine keeps.
	MaxFieldNameLen = 128
	// MaxFieldsPerRow is the largest number of fields in one row.
	MaxFieldsPerRow = 2000
	// MaxRowSize is the largest row, estimated as JSON, the engine keeps.
	MaxRowSize = 2 << 20
	// rowSizeHeadroom leaves room for the estimate's fixed parts and for the
	// fields the guard itself adds.
	rowSizeHeadroom = 4 << 10
)

// Guard turns a batch into engine rows that the engine will keep, following
// the rule that nothing accepted is dropped:
//
//   - a message time before the retention window or too far in the future is
//     replaced by the receipt time, and the original kept in
//     event.FieldOriginalTime;
//   - a row over the size limit loses its ingest-time JSON fields first (they
//     are an index; _raw still has them), then has _raw truncated, marked by
//     event.FieldTruncated holding the original size;
//   - a field name over the length limit is shortened with a hash suffix that
//     keeps distinct names distinct;
//   - fields beyond the per-row count limit are left out, JSON fields first.
type Guard struct {
	// Retention is how long the engine keeps data.
	Retention time.Duration
	// FutureRetention is how far ahead of now a message time may lie.
	FutureRetention time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

const nsPerDay = int64(24 * time.Hour)

// timeBounds returns the smallest and largest message times, in Unix ns, that
// the engine keeps now. One day of margin on the old side keeps rows out of
// the oldest day, which the retention watcher may be dropping.
func (g *Guard) timeBounds() (minT, maxT int64) {
	now := g.Now().UnixNano()
	minDay := (now-g.Retention.Nanoseconds())/nsPerDay + 1
	maxDay := (now + g.FutureRetention.Nanoseconds()) / nsPerDay
	return minDay * nsPerDay, (maxDay+1)*nsPerDay - 1
}

// Row is one engine row: its time and its fields, stream fields first.
type Row struct {
	Time   int64
	Fields []Field
}

// Field is a name/value pair in an engine row.
type Field struct{ Name, Value string }

// StreamFieldCount is the number of leading fields of every Row that form the
// engine's stream (event.StreamFields).
var StreamFieldCount = len(event.StreamFields)

// MessageField is the engine's name for the message (_raw).
const MessageField = "_msg"

// messageFieldIndex is the position of MessageField in every Row.
const messageFieldIndex = 4

// Rows converts events [lo, hi) of the batch with WAL sequence seq into
// engine rows, calling emit for each; the row is only valid during the call.
// Events whose row id skip reports (when skip is not nil) are left out.
func (g *Guard) Rows(seq uint64, b *event.Batch, lo, hi int, skip func(rowID uint64) bool, emit func(*Row)) Adjustments {
	var adj Adjustments
	minT, maxT := g.timeBounds()
	receiptMs := strconv.FormatInt(b.ReceiptTime/int64(time.Millisecond), 10)
	src := &b.Source
	var row Row
	for i := lo; i < hi; i++ {
		e := &b.Events[i]
		rid := event.RowID(seq, i)
		if skip != nil && skip(rid) {
			adj.Skipped++
			continue
		}
		row.Fields = append(row.Fields[:0],
			Field{event.FieldSourceCategory, src.Category},
			Field{event.FieldSourceHost, src.Host},
			Field{event.FieldSource, src.Name},
			Field{event.FieldCollector, src.Collector},
			Field{MessageField, e.Raw},
			Field{event.FieldSourceName, src.FileName},
			Field{event.FieldSourceID, src.ID},
			Field{event.FieldReceiptTime, receiptMs},
			Field{event.FieldFormat, e.Format},
			Field{event.FieldSize, strconv.Itoa(len(e.Raw))},
			Field{event.FieldRowID, strconv.FormatUint(rid, 10)},
		)
		fixed := len(row.Fields)
		row.Time = e.Time
		if row.Time < minT || row.Time > maxT {
			if row.Time < minT {
				adj.TimeTooOld++
			} else {
				adj.TimeTooNew++
			}
			row.Fields = append(row.Fields, Field{event.FieldOriginalTime, strconv.FormatInt(e.Time/int64(time.Millisecond), 10)})
			row.Time = b.ReceiptTime
		}
		for _, f := range b.Fields {
			row.Fields = append(row.Fields, Field{f.Name, f.Value})
		}
		custom := len(row.Fields)
		for _, f := range e.Fields {
			row.Fields = append(row.Fields, Field{f.Name, f.Value})
		}
		g.fit(&row, fixed, custom, &adj)
		emit(&row)
	}
	return adj
}

// fit applies the name, count and size limits to row. Fields before fixed are
// dohyo's own; fields from custom on are the event's JSON fields.
func (g *Guard) fit(row *Row, fixed, custom int, adj *Adjustments) {
	fs := row.Fields
	// Names. JSON fields with long names are dropped: _raw has them.
	out := fs[:fixed]
	for i := fixed; i < len(fs); i++ {
		f := fs[i]
		if len(f.Name) > MaxFieldNameLen {
			if i >= custom {
				adj.FieldsDropped++
				continue
			}
			f.Name = ShortenFieldName(f.Name)
			adj.Renamed++
		}
		out = append(out, f)
	}
	// Only JSON fields (after custom) were dropped, so custom still marks
	// the boundary.
	fs = out
	// Count.
	if len(fs) > MaxFieldsPerRow {
		adj.FieldsDropped += len(fs) - MaxFieldsPerRow
		fs = fs[:MaxFieldsPerRow]
	}
	// Size, estimated the way the engine estimates it.
	size := estimateRowSize(fs)
	if size > MaxRowSize-rowSizeHeadroom {
		for len(fs) > custom && size > MaxRowSize-rowSizeHeadroom {
			last := fs[len(fs)-1]
			size -= estimateFieldSize(last)
			fs = fs[:len(fs)-1]
			adj.FieldsDropped++
		}
		if size > MaxRowSize-rowSizeHeadroom {
			msg := &fs[messageFieldIndex]
			over := size - (MaxRowSize - rowSizeHeadroom)
			orig := len(msg.Value)
			keep := max(orig-over, 0)
			for keep > 0 && !utf8.RuneStart(msg.Value[keep]) {
				keep--
			}
			msg.Value = msg.Value[:keep]
			fs = append(fs, Field{event.FieldTruncated, strconv.Itoa(orig)})
			adj.Truncated++
		}
	}
	row.Fields = fs
}

func estimateFieldSize(f Field) int {
	if f.Value == "" {
		return 0
	}
	return len(`,"":""`) + len(f.Name) + len(f.Value)
}

func estimateRowSize(fs []Field) int {
	n := len("{}\n") + len(`"_time":""`) + len(time.RFC3339Nano)
	for _, f := range fs {
		n += estimateFieldSize(f)
	}
	return n
}

// ShortenFieldName cuts a name to MaxFieldNameLen bytes, replacing the tail
// with a hash of the whole name so that distinct long names stay distinct.
func ShortenFieldName(name string) string {
	if len(name) <= MaxFieldNameLen {
		return name
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	suffix := fmt.Sprintf("~%016x", h.Sum64())
	keep := MaxFieldNameLen - len(suffix)
	for keep > 0 && !utf8.RuneStart(name[keep]) {
		keep--
	}
	return strings.Clone(name[:keep]) + suffix
}
