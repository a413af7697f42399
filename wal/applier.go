package wal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
)

// DefaultSyncInterval is the default minimum spacing of store.Sync barriers.
const DefaultSyncInterval = 15 * time.Second

// ApplierOptions configures an Applier.
type ApplierOptions struct {
	WAL   *WAL
	Store store.Store
	// SyncInterval is the minimum spacing of store.Sync barriers; default 15s.
	SyncInterval time.Duration
	Logger       *slog.Logger
	// OnApplied, if set, is called after each batch is handed to the store,
	// with the number of its rows a replay skipped.
	OnApplied func(b *event.Batch, skipped int)
}

// Applier moves batches from the WAL into the store.
//
// Checkpoint rule. The store's Sync is a barrier, but the engine may leave an
// in-memory part that is being merged at that moment out of it, so a Sync
// does not prove that the rows added before it are on disk. The applier
// therefore calls Sync at least SyncInterval apart, remembers the last
// sequence applied before each Sync, and after a successful Sync moves the
// checkpoint to the sequence remembered at the previous one: every row below
// the checkpoint has been through a barrier and at least SyncInterval of the
// engine's own flushing since, and then through another barrier.
//
// Replay. Rows above the checkpoint may or may not be in the engine. On start
// the applier reads the records after the checkpoint that were in the WAL
// when it was opened, asks the store once per tenant for the row ids at or
// above the first replayed one (over a time range covering the events'
// message times and their batches' receipt times, since the store may have
// stored a row at its receipt time), and applies them skipping those rows.
type Applier struct {
	o     ApplierOptions
	w     *WAL
	log   *slog.Logger
	ready chan struct{}

	mu       sync.Mutex
	running  bool
	draining bool
	wake     context.CancelFunc // interrupts Run's waits
	drained  chan struct{}      // closed when Drain has finished
	drainErr error

	// own is held by whoever applies: Run, or Drain once Run has let go.
	// The fields below belong to its holder.
	own          sync.Mutex
	r            *Reader
	applied      uint64
	replayDone   bool
	replayEnd    uint64
	skip         map[uint32]map[uint64]struct{} // during replay: row ids the store has, per tenant
	prevCaptured uint64                         // last sequence applied before the previous Sync
	lastSync     time.Time

	nBatches, nRows, nReplayed, nSkipped, nSyncs, nDecodeErrors atomic.Uint64
	appliedSeq                                                  atomic.Uint64
}

// ApplierStats counts what the applier did since it was created.
type ApplierStats struct {
	AppliedSeq        uint64
	Batches           uint64 // handed to the store (replayed ones included)
	Rows              uint64 // rows handed to the store
	ReplayedBatches   uint64
	ReplaySkippedRows uint64 // rows the store already had when replaying
	Syncs             uint64
	DecodeErrors      uint64 // records that were not a valid batch (logged and skipped)
}

// NewApplier returns an applier; call Run to start it.
func NewApplier(o ApplierOptions) *Applier {
	if o.SyncInterval <= 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	a := &Applier{
		o:       o,
		w:       o.WAL,
		log:     o.Logger.With("component", "wal-applier"),
		ready:   make(chan struct{}),
		drained: make(chan struct{}),
	}
	a.applied = a.w.Checkpoint()
	a.prevCaptured = a.applied
	a.appliedSeq.Store(a.applied)
	return a
}

// Ready is closed when the replay is done: everything that was in the WAL
// when it was opened has been handed to the store.
func (a *Applier) Ready() <-chan struct{} { return a.ready }

// Stats returns the applier's counters.
func (a *Applier) Stats() ApplierStats {
	return ApplierStats{
		AppliedSeq:        a.appliedSeq.Load(),
		Batches:           a.nBatches.Load(),
		Rows:              a.nRows.Load(),
		ReplayedBatches:   a.nReplayed.Load(),
		ReplaySkippedRows: a.nSkipped.Load(),
		Syncs:             a.nSyncs.Load(),
		DecodeErrors:      a.nDecodeErrors.Load(),
	}
}

// Run replays the WAL after its checkpoint, then applies new batches as they
// are appended, syncing the store and advancing the checkpoint every
// SyncInterval while there is new data. It returns nil when ctx is cancelled
// or the WAL is closed (without a final sync: what was not checkpointed is
// replayed next time, like after a crash) or, after Drain was called, once
// the drain has completed; it returns an error if the store fails or a WAL
// record cannot be read.
func (a *Applier) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return errors.New("wal: Applier.Run is already running")
	}
	if a.draining {
		a.mu.Unlock()
		<-a.drained
		return nil
	}
	a.running = true
	loopCtx, cancel := context.WithCancel(ctx)
	a.wake = cancel
	a.mu.Unlock()
	defer cancel()

	a.own.Lock()
	err := a.loop(ctx, loopCtx)
	a.dropReader()
	a.own.Unlock()

	a.mu.Lock()
	a.running = false
	a.wake = nil
	draining := a.draining
	a.mu.Unlock()
	if err != nil {
		a.log.Error("applier stopped", "err", err)
		return err
	}
	if draining {
		<-a.drained
	}
	return nil
}

// Drain stops the applier gracefully: it applies every record appended so
// far, closes the store (which persists everything), moves the checkpoint to
// the last applied record (so a restart replays nothing) and makes Run
// return. The store cannot be used after Drain. Stop the receivers first; records appended after Drain started
// are left for the next start. The applier cannot be restarted after Drain.
func (a *Applier) Drain(ctx context.Context) error {
	a.mu.Lock()
	if a.draining {
		a.mu.Unlock()
		<-a.drained
		return a.drainErr
	}
	a.draining = true
	if a.wake != nil {
		a.wake()
	}
	a.mu.Unlock()
	defer close(a.drained)

	a.own.Lock()
	defer a.own.Unlock()
	err := a.drain(ctx)
	a.dropReader()
	if err != nil {
		err = fmt.Errorf("wal: drain: %w", err)
	}
	a.drainErr = err
	return err
}

func (a *Applier) drain(ctx context.Context) error {
	if !a.replayDone {
		if err := a.replay(ctx, ctx); err != nil {
			return err
		}
	}
	target := a.w.LastSeq()
	walErr := a.w.Sync()
	if errors.Is(walErr, ErrClosed) {
		walErr = nil // Close wrote and fsynced everything
	}
	if walErr != nil {
		// The WAL failed: apply and checkpoint what is durable, and
		// report the failure. The rest stays in the files for the next
		// start to recover.
		target = a.w.Stats().DurableSeq
	}
	for a.applied < target {
		rec, err := a.reader().NextRecord(ctx)
		if err != nil {
			return err
		}
		if err := a.apply(ctx, rec); err != nil {
			return err
		}
	}
	// Closing the engine writes every part to disk, including in-memory
	// parts a background merge held back from the last barrier; only then
	// is everything applied known to be persisted.
	if err := a.o.Store.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	a.nSyncs.Add(1)
	if err := a.w.SetCheckpoint(a.applied); err != nil {
		return err
	}
	a.log.Info("drained", "checkpoint", a.applied)
	return walErr
}

// loop is Run's body. Store calls use ctx; waits use loopCtx, which Drain
// cancels too.
func (a *Applier) loop(ctx, loopCtx context.Context) error {
	// Once loopCtx is done (ctx cancelled or Drain called), an error is the
	// interruption, not a failure: whatever was not applied is applied by
	// Drain or replayed next time.
	stopped := func(error) bool { return loopCtx.Err() != nil }
	if !a.replayDone {
		if err := a.replay(ctx, loopCtx); err != nil {
			if stopped(err) {
				return nil
			}
			return err
		}
	}
	a.lastSync = time.Now()
	for {
		if loopCtx.Err() != nil {
			return nil
		}
		var rec Record
		var err error
		if a.applied > a.prevCaptured || a.prevCaptured > a.w.Checkpoint() {
			// Something to sync: wait for records at most until it is due.
			wait := a.o.SyncInterval - time.Since(a.lastSync)
			if wait <= 0 {
				if err := a.sync(ctx); err != nil {
					if stopped(err) {
						return nil
					}
					return err
				}
				continue
			}
			waitCtx, cancel := context.WithTimeout(loopCtx, wait)
			rec, err = a.reader().NextRecord(waitCtx)
			cancel()
			if err != nil && loopCtx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				continue
			}
		} else {
			rec, err = a.reader().NextRecord(loopCtx)
		}
		if err != nil {
			if stopped(err) {
				return nil
			}
			if errors.Is(err, ErrClosed) {
				// Everything written has been applied; what was not
				// checkpointed is replayed next time.
				a.log.Info("the WAL was closed; the applier stops without a final sync", "applied", a.applied)
				return nil
			}
			return fmt.Errorf("wal applier: %w", err)
		}
		if err := a.apply(ctx, rec); err != nil {
			if stopped(err) {
				return nil
			}
			return err
		}
	}
}

// sync is one store barrier and the conservative checkpoint step.
func (a *Applier) sync(ctx context.Context) error {
	captured := a.applied
	if err := a.o.Store.Sync(ctx); err != nil {
		return fmt.Errorf("wal applier: store sync: %w", err)
	}
	a.nSyncs.Add(1)
	a.lastSync = time.Now()
	cp := a.prevCaptured
	a.prevCaptured = captured
	if cp > a.w.Checkpoint() {
		if err := a.w.SetCheckpoint(cp); err != nil {
			return fmt.Errorf("wal applier: %w", err)
		}
	}
	return nil
}

// reader returns the applier's WAL reader, positioned after the last applied
// record.
func (a *Applier) reader() *Reader {
	if a.r == nil {
		a.r = a.w.NewReader(a.applied)
	}
	return a.r
}

// dropReader forgets the reader: it may have returned a record that was not
// applied, so the next holder starts again after the last applied one.
func (a *Applier) dropReader() {
	if a.r != nil {
		a.r.Close()
		a.r = nil
	}
}

// replay applies the records after the checkpoint that were in the WAL when
// it was opened, skipping the rows the store already has. Store calls use
// ctx, reads use readCtx. If interrupted, a later call resumes it.
func (a *Applier) replay(ctx, readCtx context.Context) error {
	if a.skip == nil {
		a.replayEnd = a.w.openSeq
		if a.replayEnd <= a.applied {
			a.finishReplay(time.Now())
			return nil
		}
		start := time.Now()
		skip, err := a.storedRowIDs(readCtx)
		if err != nil {
			return err
		}
		a.skip = skip
		n := 0
		for _, ids := range skip {
			n += len(ids)
		}
		a.log.Info("replaying the WAL", "from", a.applied+1, "to", a.replayEnd, "rows_already_stored", n, "lookup_time", time.Since(start))
	}
	start := time.Now()
	for a.applied < a.replayEnd {
		rec, err := a.reader().NextRecord(readCtx)
		if err != nil {
			return fmt.Errorf("wal replay: %w", err)
		}
		if err := a.apply(ctx, rec); err != nil {
			return err
		}
		a.nReplayed.Add(1)
	}
	a.finishReplay(start)
	return nil
}

func (a *Applier) finishReplay(start time.Time) {
	if a.skip != nil {
		a.log.Info("replay done", "batches", a.nReplayed.Load(), "rows_skipped", a.nSkipped.Load(), "time", time.Since(start))
	}
	a.skip = nil
	a.replayDone = true
	close(a.ready)
}

// storedRowIDs reads the records to replay once to find their tenants and
// time ranges, then asks the store which of their row ids it already has.
// Everything here only reads, so it all runs under readCtx, which Drain may
// cancel.
func (a *Applier) storedRowIDs(readCtx context.Context) (map[uint32]map[uint64]struct{}, error) {
	type span struct{ min, max int64 }
	spans := make(map[uint32]*span)
	r := a.w.NewReader(a.applied)
	defer r.Close()
	for {
		seq, payload, err := r.Next(readCtx)
		if err != nil {
			return nil, fmt.Errorf("wal replay: %w", err)
		}
		b, err := event.Decode(payload)
		if err == nil {
			s := spans[b.Tenant]
			if s == nil {
				s = &span{b.ReceiptTime, b.ReceiptTime}
				spans[b.Tenant] = s
			}
			s.min, s.max = min(s.min, b.ReceiptTime), max(s.max, b.ReceiptTime)
			for i := range b.Events {
				t := b.Events[i].Time
				s.min, s.max = min(s.min, t), max(s.max, t)
			}
		}
		if seq >= a.replayEnd {
			break
		}
	}
	minID := event.RowID(a.applied+1, 0)
	skip := make(map[uint32]map[uint64]struct{}, len(spans))
	for tenant, s := range spans {
		ids, err := a.o.Store.RowIDsAtOrAbove(readCtx, tenant, minID, s.min, s.max)
		if err != nil {
			return nil, fmt.Errorf("wal replay: look up stored row ids of tenant %d: %w", tenant, err)
		}
		skip[tenant] = ids
	}
	return skip, nil
}

// apply hands one record to the store: the batch the receiver handed off
// with it (AppendWith), or else its payload decoded.
func (a *Applier) apply(ctx context.Context, rec Record) error {
	seq, payload := rec.Seq, rec.Payload
	b, err := a.batch(rec)
	if err != nil {
		// Not a batch this binary can read; blocking on it forever would
		// stop ingestion, so log it loudly and go on. The record stays in
		// the WAL files until the checkpoint passes it.
		a.log.Error("skipping a WAL record that is not a valid batch", "seq", seq, "bytes", len(payload), "err", err)
		a.nDecodeErrors.Add(1)
		a.markApplied(seq)
		return nil
	}
	// The rows to skip are known here, before the store takes the batch,
	// so that they are counted when it is handed over.
	var skip func(uint64) bool
	skipped := 0
	if a.skip != nil && seq <= a.replayEnd {
		if ids := a.skip[b.Tenant]; len(ids) > 0 {
			for i := range b.Events {
				if _, ok := ids[event.RowID(seq, i)]; ok {
					skipped++
				}
			}
			if skipped > 0 {
				skip = func(id uint64) bool {
					_, ok := ids[id]
					return ok
				}
			}
		}
	}
	if err := a.o.Store.Add(ctx, seq, b, skip); err != nil {
		return fmt.Errorf("wal applier: store add (seq %d): %w", seq, err)
	}
	a.nBatches.Add(1)
	a.nRows.Add(uint64(len(b.Events) - skipped))
	a.nSkipped.Add(uint64(skipped))
	a.markApplied(seq)
	if a.o.OnApplied != nil {
		a.o.OnApplied(b, skipped)
	}
	return nil
}

func (a *Applier) batch(rec Record) (*event.Batch, error) {
	if rec.Value != nil {
		if b, ok := rec.Value.(*event.Batch); ok {
			return b, nil
		}
		return nil, fmt.Errorf("the value appended with the record is a %T, not an *event.Batch", rec.Value)
	}
	return event.Decode(rec.Payload)
}

func (a *Applier) markApplied(seq uint64) {
	a.applied = seq
	a.appliedSeq.Store(seq)
	a.w.MarkApplied(seq)
}
