// Package embedded runs the VictoriaLogs storage engine
// (github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage) inside the dohyo
// process. It is the only package that calls the engine.
//
// The engine keeps process-global state (flags, logger, memory limit); Open
// initialises it once per process. Its background goroutines panic on disk
// errors, which no caller can recover: the layers above keep a free-disk
// floor so that never happens in normal operation.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
)

// Config configures the embedded engine.
type Config struct {
	// Retention is how long data is kept (at least 24h).
	Retention time.Duration
	// FutureRetention is how far ahead of now message times may lie (at
	// least 24h).
	FutureRetention time.Duration
	// MemoryLimit caps the engine's caches, in bytes; 0 leaves the engine's
	// default (60% of RAM).
	MemoryLimit int64
	// FlushInterval is how long the engine keeps newly added rows in
	// memory (searchable, merged there) before writing them to disk; 0
	// means DefaultFlushInterval, less than a second means a second (the
	// engine's minimum). Durability does not rest on it: the WAL keeps
	// every row until a Sync barrier has persisted it.
	FlushInterval time.Duration
	// MinFreeDiskSpace is passed to the engine, which stops accepting data
	// below it. dohyo's own floor (higher) keeps writers away before that.
	MinFreeDiskSpace int64
	// Logger receives the engine's log messages.
	Logger *slog.Logger
}

// DefaultFlushInterval is Config.FlushInterval's default, the engine's own
// (VictoriaLogs' -inmemoryDataFlushInterval). Rows that stay in memory
// longer are merged there into fewer, larger parts before they reach the
// disk: measured against 1 s, ingest took about 3% less CPU and ran about
// 4% faster (BENCHMARKS.md).
const DefaultFlushInterval = 5 * time.Second

// Store is the embedded engine.
type Store struct {
	path  string
	s     *logstorage.Storage
	guard store.Guard
	log   *slog.Logger

	mu      sync.Mutex // guards touched, closed
	touched map[string]struct{}
	closed  bool

	// Rows are converted and handed to the engine by writer goroutines: the
	// engine turns rows into in-memory parts (tokenising, compressing) in
	// the goroutine that adds them, so several writers use several cores
	// even when one goroutine (the WAL applier) calls Add. pending counts
	// the chunks not yet taken; Sync, Flush and Close wait for it to reach
	// zero. addLock is held shared by Add and exclusively by Close, so that
	// Close never closes work under a running Add.
	addLock     sync.RWMutex
	work        chan chunk
	writers     sync.WaitGroup
	pendingMu   sync.Mutex
	pendingCond *sync.Cond
	pending     int

	rowsAdded atomic.Uint64
	adjMu     sync.Mutex
	adj       store.Adjustments
}

var (
	_ store.Store            = (*Store)(nil)
	_ store.TransientQuerier = (*Store)(nil)
)

// Open opens (creating if needed) the engine's data directory.
func Open(path string, cfg Config) (st *Store, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Retention < 24*time.Hour {
		cfg.Retention = 24 * time.Hour
	}
	if cfg.FutureRetention < 24*time.Hour {
		cfg.FutureRetention = 24 * time.Hour
	}
	switch {
	case cfg.FlushInterval == 0:
		cfg.FlushInterval = DefaultFlushInterval
	case cfg.FlushInterval < time.Second:
		cfg.FlushInterval = time.Second
	}
	if err := initEngine(cfg); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("create engine directory: %w", err)
	}
	// The engine panics in the caller's goroutine when the directory is
	// locked by another process or read-only; turn that into an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open storage engine at %s: %v", path, r)
		}
	}()
	s := logstorage.MustOpenStorage(path, &logstorage.StorageConfig{
		Retention:             cfg.Retention,
		FutureRetention:       cfg.FutureRetention,
		FlushInterval:         cfg.FlushInterval,
		MinFreeDiskSpaceBytes: cfg.MinFreeDiskSpace,
	})
	st = &Store{
		path: path,
		s:    s,
		guard: store.Guard{
			Retention:       cfg.Retention,
			FutureRetention: cfg.FutureRetention,
			Now:             time.Now,
		},
		log:     cfg.Logger,
		touched: make(map[string]struct{}),
	}
	st.pendingCond = sync.NewCond(&st.pendingMu)
	n := max(runtime.GOMAXPROCS(0), 2)
	st.work = make(chan chunk, n)
	for range n {
		st.writers.Add(1)
		go st.writer()
	}
	return st, nil
}

// chunk is a slice of a batch's events for a writer.
type chunk struct {
	seq    uint64
	b      *event.Batch
	lo, hi int
	skip   func(uint64) bool
}

// chunkEvents is how many events a writer takes at once: enough to make
// the per-chunk costs small, few enough to spread a big batch over writers.
const chunkEvents = 2048

// writer converts chunks into engine rows and adds them.
//
// Rows are handed to the engine in blocks as large as its own ingest uses
// (LogRows.NeedFlush), not one per chunk: every MustAddRows takes a lock on
// one of the engine's row buffers, which a writer turning a full buffer
// into an in-memory part holds for tens of milliseconds, so fewer calls
// leave fewer chances for the other writer to wait on it. Rows are held
// only while more chunks are queued: a writer that finds the queue empty
// adds what it holds before it waits. A chunk counts as pending until its
// rows are in the engine.
func (st *Store) writer() {
	defer st.writers.Done()
	lr := logstorage.GetLogRows(nil, nil, nil, nil, "")
	defer logstorage.PutLogRows(lr)
	var fs []logstorage.Field
	held, heldRows := 0, uint64(0) // chunks and rows taken, not yet all in the engine
	flush := func() {
		if lr.RowsCount() > 0 {
			st.s.MustAddRows(lr)
			lr.ResetKeepSettings()
		}
		if held == 0 {
			return
		}
		st.rowsAdded.Add(heldRows)
		st.pendingMu.Lock()
		st.pending -= held
		if st.pending == 0 {
			st.pendingCond.Broadcast()
		}
		st.pendingMu.Unlock()
		held, heldRows = 0, 0
	}
	for {
		var c chunk
		var ok bool
		select {
		case c, ok = <-st.work:
		default:
			flush()
			c, ok = <-st.work
		}
		if !ok {
			flush()
			return
		}
		tenant := logstorage.TenantID{AccountID: c.b.Tenant}
		adj := st.guard.Rows(c.seq, c.b, c.lo, c.hi, c.skip, func(r *store.Row) {
			fs = fs[:0]
			for _, f := range r.Fields {
				fs = append(fs, logstorage.Field{Name: f.Name, Value: f.Value})
			}
			// MustAdd copies the row: r is reused for the next one.
			lr.MustAdd(tenant, r.Time, fs, store.StreamFieldCount)
			if lr.NeedFlush() {
				st.s.MustAddRows(lr)
				lr.ResetKeepSettings()
			}
		})
		held++
		heldRows += uint64(c.hi - c.lo - adj.Skipped)
		if adj != (store.Adjustments{}) {
			st.adjMu.Lock()
			st.adj = st.adj.Add(adj)
			st.adjMu.Unlock()
		}
	}
}

// submit queues a chunk for the writers; it blocks while they are busy,
// which bounds the batches held in memory.
func (st *Store) submit(c chunk) {
	st.pendingMu.Lock()
	st.pending++
	st.pendingMu.Unlock()
	st.work <- c
}

// waitPending returns once every chunk submitted before the call is in the
// engine.
func (st *Store) waitPending() {
	st.pendingMu.Lock()
	for st.pending > 0 {
		st.pendingCond.Wait()
	}
	st.pendingMu.Unlock()
}

// Add implements store.Store.
func (st *Store) Add(ctx context.Context, seq uint64, b *event.Batch, skip func(uint64) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st.addLock.RLock()
	defer st.addLock.RUnlock()
	st.mu.Lock()
	closed := st.closed
	st.mu.Unlock()
	if closed {
		return store.ErrClosed
	}
	// Mark the partitions first: Sync snapshots the ones marked, after
	// waiting for the queued chunks. The guard may store a row at its
	// receipt time instead, so mark that day too.
	days := map[int64]struct{}{b.ReceiptTime / nsPerDay: {}}
	for i := range b.Events {
		days[b.Events[i].Time/nsPerDay] = struct{}{}
	}
	st.mu.Lock()
	for d := range days {
		st.touched[partitionName(d)] = struct{}{}
	}
	st.mu.Unlock()
	for lo := 0; lo < len(b.Events); lo += chunkEvents {
		st.submit(chunk{seq: seq, b: b, lo: lo, hi: min(lo+chunkEvents, len(b.Events)), skip: skip})
	}
	return nil
}

const nsPerDay = int64(24 * time.Hour)

// partitionName is the engine's name for the per-day partition of day d.
func partitionName(day int64) string {
	return time.Unix(day*24*3600, 0).UTC().Format("20060102")
}

// Sync implements store.Store. It flushes the engine's buffers and snapshots
// the partitions written since the last Sync: creating a snapshot writes
// every in-memory part of the partition to disk and syncs it. The snapshot
// itself is deleted at once.
func (st *Store) Sync(ctx context.Context) error {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return store.ErrClosed
	}
	touched := st.touched
	st.touched = make(map[string]struct{})
	st.mu.Unlock()
	if len(touched) == 0 {
		return nil
	}
	st.waitPending()
	st.s.DebugFlush()
	active := make(map[string]bool)
	for _, name := range st.s.PartitionList() {
		active[name] = true
	}
	for name := range touched {
		if err := ctx.Err(); err != nil {
			// Put the partitions back so the next Sync covers them.
			st.mu.Lock()
			for n := range touched {
				st.touched[n] = struct{}{}
			}
			st.mu.Unlock()
			return err
		}
		if !active[name] {
			continue // dropped by retention meanwhile
		}
		for _, p := range st.s.PartitionSnapshotMustCreate(name) {
			if err := st.s.PartitionSnapshotDelete(p); err != nil {
				st.log.Warn("cannot delete engine snapshot", "path", p, "err", err)
			}
		}
	}
	return nil
}

// Flush implements store.Store.
func (st *Store) Flush() {
	st.waitPending()
	st.s.DebugFlush()
}

// hidePipe drops the bookkeeping and ingest-time JSON fields from results.
// Filters before it may still use them, which the engine's own hidden-field
// mechanism would not allow.
var hidePipe = fmt.Sprintf(" | delete %q, %q", event.InternalFieldPrefix+"*", event.JSONFieldPrefix+"*")

func (st *Store) queryContext(ctx context.Context, q store.Query) (*logstorage.QueryContext, error) {
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	text := q.LogsQL
	if !q.ShowInternal {
		text += hidePipe
	}
	pq, err := logstorage.ParseQueryAtTimestamp(text, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("engine query %q: %w", q.LogsQL, err)
	}
	pq.AddTimeFilter(q.Start, q.End)
	return logstorage.NewQueryContext(ctx, &logstorage.QueryStats{}, []logstorage.TenantID{{AccountID: q.Tenant}}, pq, false, nil), nil
}

// Query implements store.Store.
func (st *Store) Query(ctx context.Context, q store.Query, fn func(*store.Block) error) error {
	return st.query(ctx, q, fn, copyBlock)
}

// QueryTransient implements store.TransientQuerier: fn sees the engine's
// own columns, valid until it returns.
func (st *Store) QueryTransient(ctx context.Context, q store.Query, fn func(*store.Block) error) error {
	return st.query(ctx, q, fn, viewBlock)
}

func (st *Store) query(ctx context.Context, q store.Query, fn func(*store.Block) error, block func(*logstorage.DataBlock) *store.Block) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	qctx, err := st.queryContext(ctx, q)
	if err != nil {
		return err
	}
	var fnErr error
	var errOnce sync.Once
	err = st.s.RunQuery(qctx, func(_ uint, db *logstorage.DataBlock) {
		if ctx.Err() != nil {
			return
		}
		b := block(db)
		if b.Rows() == 0 {
			return
		}
		if err := fn(b); err != nil {
			errOnce.Do(func() { fnErr = err })
			cancel(err)
		}
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		if c := context.Cause(ctx); c != nil && errors.Is(err, context.Canceled) {
			return c
		}
		return fmt.Errorf("engine query: %w", err)
	}
	return nil
}

// copyBlock copies an engine block, whose values the engine reuses after the
// callback returns, into one allocation.
func copyBlock(db *logstorage.DataBlock) *store.Block {
	return viewBlock(db).Clone()
}

// viewBlock wraps an engine block's columns without copying them: the
// result is only valid until the engine's callback returns.
func viewBlock(db *logstorage.DataBlock) *store.Block {
	cols := db.GetColumns(false)
	b := &store.Block{Columns: make([]store.Column, len(cols))}
	for i, c := range cols {
		b.Columns[i] = store.Column{Name: c.Name, Values: c.Values}
	}
	return b
}

// FieldNames implements store.Store.
func (st *Store) FieldNames(ctx context.Context, q store.Query) ([]store.ValueHits, error) {
	qctx, err := st.queryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	vs, err := st.s.GetFieldNames(qctx, "")
	if err != nil {
		return nil, fmt.Errorf("engine field names: %w", err)
	}
	return valueHits(vs, q.ShowInternal), nil
}

// FieldValues implements store.Store.
func (st *Store) FieldValues(ctx context.Context, q store.Query, field string, limit int) ([]store.ValueHits, error) {
	qctx, err := st.queryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	vs, err := st.s.GetFieldValues(qctx, field, "", uint64(max(limit, 0)))
	if err != nil {
		return nil, fmt.Errorf("engine field values: %w", err)
	}
	return valueHits(vs, true), nil
}

func valueHits(vs []logstorage.ValueWithHits, showInternal bool) []store.ValueHits {
	out := make([]store.ValueHits, 0, len(vs))
	for _, v := range vs {
		if !showInternal && (strings.HasPrefix(v.Value, event.InternalFieldPrefix) || strings.HasPrefix(v.Value, event.JSONFieldPrefix)) {
			continue
		}
		out = append(out, store.ValueHits{Value: strings.Clone(v.Value), Hits: v.Hits})
	}
	return out
}

// RowIDsAtOrAbove implements store.Store.
func (st *Store) RowIDsAtOrAbove(ctx context.Context, tenant uint32, minID uint64, start, end int64) (map[uint64]struct{}, error) {
	q := store.Query{
		Tenant:       tenant,
		LogsQL:       fmt.Sprintf(`%q:>=%d | fields %q`, event.FieldRowID, minID, event.FieldRowID),
		Start:        start,
		End:          end,
		ShowInternal: true,
	}
	var mu sync.Mutex
	ids := make(map[uint64]struct{})
	err := st.Query(ctx, q, func(b *store.Block) error {
		c := b.Column(event.FieldRowID)
		if c == nil {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		for _, v := range c.Values {
			id, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("row id %q is not a number: %w", v, err)
			}
			ids[id] = struct{}{}
		}
		return nil
	})
	return ids, err
}

// Stats implements store.Store.
func (st *Store) Stats() store.Stats {
	var ss logstorage.StorageStats
	st.s.UpdateStats(&ss)
	ps := &ss.PartitionStats
	return store.Stats{
		Rows:           ps.RowsCount() + ps.PendingRows,
		CompressedSize: ps.CompressedSmallPartSize + ps.CompressedBigPartSize,
		Partitions:     int(ss.PartitionsCount),
		ReadOnly:       ss.IsReadOnly,
		DroppedTooOld:  ss.RowsDroppedTooSmallTimestamp,
		DroppedTooNew:  ss.RowsDroppedTooBigTimestamp,
		RowsAdded:      st.rowsAdded.Load(),
		Adjustments:    st.adjustments(),
		Merges:         store.PartCounts{InMemory: ps.InmemoryMergesCount, Small: ps.SmallMergesCount, Big: ps.BigMergesCount},
		RowsMerged:     store.PartCounts{InMemory: ps.InmemoryRowsMerged, Small: ps.SmallRowsMerged, Big: ps.BigRowsMerged},
		Parts:          store.PartCounts{InMemory: ps.InmemoryParts, Small: ps.SmallParts, Big: ps.BigParts},
		PendingRows:    ps.PendingRows,
	}
}

func (st *Store) adjustments() store.Adjustments {
	st.adjMu.Lock()
	defer st.adjMu.Unlock()
	return st.adj
}

// Close implements store.Store.
func (st *Store) Close() error {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	st.mu.Unlock()
	// Wait for running Adds; what they queued is added before the engine
	// closes.
	st.addLock.Lock()
	close(st.work)
	st.addLock.Unlock()
	st.writers.Wait()
	st.s.MustClose()
	return nil
}

// Path returns the engine's data directory.
func (st *Store) Path() string { return filepath.Clean(st.path) }
