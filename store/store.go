// Package store is the boundary between dohyo and its storage engine.
//
// Everything above this package speaks in event batches and LogsQL query
// text; nothing above it knows whether the engine runs in-process (package
// store/embedded, the default) or as a cluster on other machines.
package store

import (
	"context"
	"errors"
	"time"
	"unsafe"

	"github.com/dohyo/dohyo/event"
)

// Store is a log storage engine.
type Store interface {
	// Add hands the batch with WAL sequence seq to the engine. Each row
	// carries event.RowID(seq, i) in event.FieldRowID. The rows may still be
	// on their way into the engine when Add returns (b must not change
	// afterwards); they become searchable within seconds, and durable after
	// the next Sync. Add adjusts rows the engine would drop (see Guard) and
	// counts the changes in Stats().Adjustments. When skip is not nil,
	// events whose row id it reports are left out (a WAL replay skips the
	// rows the engine already has); it may be called from other goroutines.
	Add(ctx context.Context, seq uint64, b *event.Batch, skip func(rowID uint64) bool) error

	// Sync makes every row of every Add that returned before the call
	// durable: after it returns, a crash loses none of them.
	Sync(ctx context.Context) error

	// Flush makes every row of every Add that returned before the call
	// searchable (not durable).
	Flush()

	// Query runs a LogsQL query and streams result blocks to fn. fn may be
	// called concurrently from several goroutines; the block and its values
	// stay valid after fn returns. An error from fn stops the query and is
	// returned.
	Query(ctx context.Context, q Query, fn func(*Block) error) error

	// FieldNames lists the fields present in rows matching the LogsQL filter.
	FieldNames(ctx context.Context, q Query) ([]ValueHits, error)

	// FieldValues lists up to limit values of field in rows matching the
	// LogsQL filter, most frequent first.
	FieldValues(ctx context.Context, q Query, field string, limit int) ([]ValueHits, error)

	// RowIDsAtOrAbove returns the ids (event.FieldRowID) of stored rows whose
	// id is >= minID and whose time lies in [start, end]. The WAL uses it
	// when replaying, to skip rows the engine already persisted.
	RowIDsAtOrAbove(ctx context.Context, tenant uint32, minID uint64, start, end int64) (map[uint64]struct{}, error)

	// Stats reports the engine's size and health.
	Stats() Stats

	// Close flushes everything to disk and releases the engine.
	Close() error
}

// TransientQuerier is a Store that can also run a query without copying the
// engine's result blocks: the block handed to fn, its names and its values
// are only valid until fn returns (the engine reuses their memory), so fn
// must copy what it keeps. Otherwise it behaves as Query. The query package
// uses it to build its rows straight from the engine's columns, copying the
// values once instead of twice.
type TransientQuerier interface {
	QueryTransient(ctx context.Context, q Query, fn func(*Block) error) error
}

// Query is a LogsQL query over a time range.
type Query struct {
	Tenant uint32
	// LogsQL is the query text in the engine's language.
	LogsQL string
	// Start and End bound _time, inclusive, in Unix nanoseconds.
	Start, End int64
	// ShowInternal includes the bookkeeping fields (event.InternalFieldPrefix)
	// and the JSON fields extracted at ingest (event.JSONFieldPrefix) in
	// results. They are hidden by default.
	ShowInternal bool
	// Now is the time relative filters in LogsQL are resolved against; zero
	// means the time the query starts.
	Now time.Time
}

// Block is a set of result rows in columnar form. Every column has one value
// per row; a missing value is the empty string.
type Block struct {
	Columns []Column
}

// Column is one named column of a Block.
type Column struct {
	Name   string
	Values []string
}

// Rows returns the number of rows in the block.
func (b *Block) Rows() int {
	if len(b.Columns) == 0 {
		return 0
	}
	return len(b.Columns[0].Values)
}

// Clone returns a copy of b that shares no memory with it: every name and
// value is copied into one allocation.
func (b *Block) Clone() *Block {
	size := 0
	for _, c := range b.Columns {
		size += len(c.Name)
		for _, v := range c.Values {
			size += len(v)
		}
	}
	arena := make([]byte, 0, size)
	str := func(s string) string {
		if s == "" {
			return ""
		}
		start := len(arena)
		arena = append(arena, s...)
		return unsafe.String(&arena[start], len(s))
	}
	out := &Block{Columns: make([]Column, len(b.Columns))}
	for i, c := range b.Columns {
		vals := make([]string, len(c.Values))
		for j, v := range c.Values {
			vals[j] = str(v)
		}
		out.Columns[i] = Column{Name: str(c.Name), Values: vals}
	}
	return out
}

// Column returns the column with the given name, or nil.
func (b *Block) Column(name string) *Column {
	for i := range b.Columns {
		if b.Columns[i].Name == name {
			return &b.Columns[i]
		}
	}
	return nil
}

// ValueHits is a value and the number of rows that have it.
type ValueHits struct {
	Value string
	Hits  uint64
}

// Stats describes the engine's state.
type Stats struct {
	Rows           uint64 // rows stored, including not yet merged ones
	CompressedSize uint64 // bytes on disk
	Partitions     int
	ReadOnly       bool
	// DroppedTooOld and DroppedTooNew count rows the engine dropped for
	// their timestamp despite the guard (should stay zero).
	DroppedTooOld, DroppedTooNew uint64
	// RowsAdded counts rows handed to the engine since the store opened.
	RowsAdded uint64
	// Adjustments counts, since the store opened, what the guard changed so
	// the engine would keep rows.
	Adjustments Adjustments
	// Merges counts the engine's merges since it opened and RowsMerged the
	// rows they rewrote, by the kind of part they produced: the engine's
	// write amplification. Parts is the number of parts of each kind now.
	Merges, RowsMerged, Parts PartCounts
	// PendingRows counts rows added but not yet searchable.
	PendingRows uint64
}

// PartCounts holds one number per kind of engine part: in memory, small
// files, big files.
type PartCounts struct{ InMemory, Small, Big uint64 }

// Adjustments counts what Add changed so the engine would keep the rows.
type Adjustments struct {
	TimeTooOld    int // stored at receipt time: message time before retention
	TimeTooNew    int // stored at receipt time: message time too far ahead
	Truncated     int // _raw cut to fit the row size limit
	FieldsDropped int // ingest-time JSON fields left out to fit the limits
	Renamed       int // field names shortened to fit the name length limit
	Skipped       int // rows left out because skip reported them
}

// Add returns the sum of two sets of adjustments.
func (a Adjustments) Add(b Adjustments) Adjustments {
	return Adjustments{
		TimeTooOld:    a.TimeTooOld + b.TimeTooOld,
		TimeTooNew:    a.TimeTooNew + b.TimeTooNew,
		Truncated:     a.Truncated + b.Truncated,
		FieldsDropped: a.FieldsDropped + b.FieldsDropped,
		Renamed:       a.Renamed + b.Renamed,
		Skipped:       a.Skipped + b.Skipped,
	}
}

// ErrClosed is returned by calls on a closed store.
var ErrClosed = errors.New("store is closed")
