package wal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

const eventsPerBatch = 5

func openStore(t *testing.T, dir string) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(dir, embedded.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("embedded.Open: %v", err)
	}
	return st
}

// testBatch returns batch number i. Every third batch has an event whose
// message time is outside the retention window, which the store keeps at the
// batch's receipt time. Every fourth batch belongs to tenant 1 and has only
// such events, so that tenant's rows all lie at receipt times, far from the
// message times.
func testBatch(i int, now time.Time) *event.Batch {
	b := &event.Batch{
		Tenant:      uint32(min(i%4, 1)) ^ 1,
		ReceiptTime: now.UnixNano(),
		Source:      event.Source{ID: "s1", Name: "web", Category: "prod/web", Host: "h1", Collector: "c1"},
		Fields:      []event.Field{{Name: "env", Value: "test"}},
	}
	for j := range eventsPerBatch {
		ts := now.Add(-time.Duration(j) * time.Second)
		if i%3 == 0 && j == 0 || b.Tenant == 1 {
			ts = now.Add(-400*24*time.Hour - time.Duration(j)*time.Minute)
		}
		b.Events = append(b.Events, event.Event{Time: ts.UnixNano(), Raw: fmt.Sprintf("batch %d event %d", i, j)})
	}
	return b
}

func appendBatches(t *testing.T, w *WAL, from, to int, now time.Time) {
	t.Helper()
	ctx := testCtx(t)
	for i := from; i <= to; i++ {
		seq, err := w.Append(ctx, testBatch(i, now).AppendBinary(nil))
		if err != nil {
			t.Fatalf("Append batch %d: %v", i, err)
		}
		if seq != uint64(i) {
			t.Fatalf("batch %d got seq %d", i, seq)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// countRows returns the number of rows (of both test tenants) whose row id
// lies in [minID, maxID) and the number of distinct row ids among them.
func countRows(t *testing.T, st store.Store, now time.Time, minID, maxID uint64) (n, uniq int) {
	t.Helper()
	for tenant := range uint32(2) {
		a, b := countTenantRows(t, st, tenant, now, minID, maxID)
		n += a
		uniq += b
	}
	return n, uniq
}

func countTenantRows(t *testing.T, st store.Store, tenant uint32, now time.Time, minID, maxID uint64) (n, uniq int) {
	t.Helper()
	q := store.Query{
		Tenant: tenant,
		LogsQL: fmt.Sprintf(`%q:>=%d %q:<%d | stats count() as n, count_uniq(%q) as u`,
			event.FieldRowID, minID, event.FieldRowID, maxID, event.FieldRowID),
		Start:        now.Add(-48 * time.Hour).UnixNano(),
		End:          now.Add(time.Hour).UnixNano(),
		ShowInternal: true,
	}
	var mu sync.Mutex
	err := st.Query(context.Background(), q, func(b *store.Block) error {
		mu.Lock()
		defer mu.Unlock()
		for i := range b.Rows() {
			a, _ := strconv.Atoi(b.Column("n").Values[i])
			c, _ := strconv.Atoi(b.Column("u").Values[i])
			n += a
			uniq += c
		}
		return nil
	})
	if err != nil {
		t.Fatalf("count query: %v", err)
	}
	return n, uniq
}

// checkExactlyOnce checks that every batch 1..last has all its rows stored
// exactly once.
func checkExactlyOnce(t *testing.T, st store.Store, now time.Time, last int) {
	t.Helper()
	st.Flush()
	n, u := countRows(t, st, now, 0, event.RowID(uint64(last)+1, 0))
	if want := last * eventsPerBatch; n != want || u != want {
		t.Errorf("%d rows with %d distinct ids, want %d of each", n, u, want)
	}
	for seq := 1; seq <= last; seq++ {
		n, u := countRows(t, st, now, event.RowID(uint64(seq), 0), event.RowID(uint64(seq)+1, 0))
		if n != eventsPerBatch || u != eventsPerBatch {
			t.Errorf("batch %d: %d rows, %d distinct ids; want %d", seq, n, u, eventsPerBatch)
		}
	}
}

func startApplier(t *testing.T, a *Applier) (cancel func(), done <-chan error) {
	t.Helper()
	ctx, cancelFn := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- a.Run(ctx) }()
	t.Cleanup(cancelFn)
	return cancelFn, ch
}

func waitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(testTimeout):
		t.Fatal("Run did not return")
		return nil
	}
}

func TestApplierAppliesAndCheckpoints(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	w := openWAL(t, Options{Dir: t.TempDir(), SegmentSize: 1024})
	var hooked atomic.Int64
	a := NewApplier(ApplierOptions{
		WAL: w, Store: st, SyncInterval: 20 * time.Millisecond, Logger: quietLogger(),
		OnApplied: func(b *event.Batch, skipped int) {
			hooked.Add(int64(len(b.Events)))
			if skipped != 0 {
				t.Errorf("live batch had %d rows skipped", skipped)
			}
		},
	})
	cancel, done := startApplier(t, a)
	select {
	case <-a.Ready():
	case <-time.After(testTimeout):
		t.Fatal("not ready")
	}
	now := time.Now()
	appendBatches(t, w, 1, 20, now)
	waitFor(t, "batches applied", func() bool { return a.Stats().AppliedSeq == 20 })
	checkExactlyOnce(t, st, now, 20)
	if got := hooked.Load(); got != 20*eventsPerBatch {
		t.Errorf("OnApplied saw %d events", got)
	}
	// Two syncs at least SyncInterval apart move the checkpoint to the end
	// and delete every segment but the active one.
	waitFor(t, "checkpoint", func() bool { s := w.Stats(); return s.Checkpoint == 20 && s.Segments == 1 })
	if s := w.Stats(); s.LagBytes != 0 || s.AppliedSeq != 20 {
		t.Errorf("WAL stats: %+v", s)
	}
	if s := a.Stats(); s.Syncs < 2 || s.Batches != 20 || s.Rows != 20*eventsPerBatch || s.ReplayedBatches != 0 {
		t.Errorf("applier stats: %+v", s)
	}
	// Idle: no more syncs.
	syncs := a.Stats().Syncs
	time.Sleep(60 * time.Millisecond)
	if got := a.Stats().Syncs; got != syncs {
		t.Errorf("%d syncs while idle", got-syncs)
	}
	cancel()
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// lossyStore simulates an engine that lost some rows in a crash: the rows
// of the batches in drop never reach it, nor the odd rows of those in
// dropOdd.
type lossyStore struct {
	store.Store
	mu      sync.Mutex
	drop    map[uint64]bool
	dropOdd map[uint64]bool
	addErr  error
}

func (l *lossyStore) Add(ctx context.Context, seq uint64, b *event.Batch, skip func(uint64) bool) error {
	l.mu.Lock()
	drop, odd, addErr := l.drop[seq], l.dropOdd[seq], l.addErr
	l.mu.Unlock()
	if addErr != nil {
		return addErr
	}
	if drop {
		return nil
	}
	if odd {
		inner := skip
		skip = func(id uint64) bool { return id&1 == 1 || (inner != nil && inner(id)) }
	}
	return l.Store.Add(ctx, seq, b, skip)
}

func TestApplierReplayAfterCrash(t *testing.T) {
	storeDir, walDir := t.TempDir(), t.TempDir()
	now := time.Now()

	// Before the crash: batches 1..10 applied and synced, the checkpoint at
	// 5 (older than what the engine has, as the conservative rule leaves
	// it); then 11..15 applied, of which the engine "loses" 12's odd rows
	// and all of 14.
	st1 := openStore(t, storeDir)
	lossy := &lossyStore{Store: st1, drop: map[uint64]bool{14: true}, dropOdd: map[uint64]bool{12: true}}
	w1, err := Open(Options{Dir: walDir, SegmentSize: 1024, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	a1 := NewApplier(ApplierOptions{WAL: w1, Store: lossy, SyncInterval: time.Hour, Logger: quietLogger()})
	cancel1, done1 := startApplier(t, a1)
	appendBatches(t, w1, 1, 10, now)
	waitFor(t, "first batches applied", func() bool { return a1.Stats().AppliedSeq == 10 })
	if err := st1.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w1.SetCheckpoint(5); err != nil {
		t.Fatal(err)
	}
	appendBatches(t, w1, 11, 15, now)
	waitFor(t, "more batches applied", func() bool { return a1.Stats().AppliedSeq == 15 })
	// "Crash": close the WAL under the applier, without Drain.
	if err := w1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := waitRun(t, done1); err != nil {
		t.Fatalf("Run after the WAL was closed: %v", err)
	}
	cancel1()
	if w1.Checkpoint() != 5 {
		t.Fatalf("checkpoint moved to %d", w1.Checkpoint())
	}
	st1.Close() // persists everything the engine has

	// Restart: replay 6..15, skipping the rows the engine has.
	st2 := openStore(t, storeDir)
	defer st2.Close()
	w2 := openWAL(t, Options{Dir: walDir, SegmentSize: 1024})
	if w2.Checkpoint() != 5 || w2.LastSeq() != 15 {
		t.Fatalf("reopened WAL: checkpoint %d, last %d", w2.Checkpoint(), w2.LastSeq())
	}
	a2 := NewApplier(ApplierOptions{WAL: w2, Store: st2, SyncInterval: 10 * time.Millisecond, Logger: quietLogger()})
	cancel2, done2 := startApplier(t, a2)
	select {
	case <-a2.Ready():
	case err := <-done2:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(testTimeout):
		t.Fatal("replay did not finish")
	}
	s := a2.Stats()
	// Present before the restart: 6..11, 13, 15 whole, and 12's even rows.
	wantSkipped := uint64(8*eventsPerBatch + (eventsPerBatch+1)/2)
	if s.ReplayedBatches != 10 || s.ReplaySkippedRows != wantSkipped || s.AppliedSeq != 15 {
		t.Fatalf("after replay: %+v, want 10 batches replayed and %d rows skipped", s, wantSkipped)
	}
	checkExactlyOnce(t, st2, now, 15)

	// Live batches after the replay are not filtered.
	appendBatches(t, w2, 16, 18, now)
	waitFor(t, "live batches applied", func() bool { return a2.Stats().AppliedSeq == 18 })
	checkExactlyOnce(t, st2, now, 18)
	waitFor(t, "checkpoint after replay", func() bool { return w2.Checkpoint() == 18 })
	cancel2()
	if err := waitRun(t, done2); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestDrainThenReopenReplaysNothing(t *testing.T) {
	storeDir, walDir := t.TempDir(), t.TempDir()
	now := time.Now()
	st := openStore(t, storeDir)
	w, err := Open(Options{Dir: walDir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	a := NewApplier(ApplierOptions{WAL: w, Store: st, SyncInterval: time.Hour, Logger: quietLogger()})
	_, done := startApplier(t, a)
	appendBatches(t, w, 1, 10, now)
	// Drain applies whatever was appended, even what Run has not reached.
	if err := a.Drain(testCtx(t)); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run after Drain: %v", err)
	}
	if w.Checkpoint() != 10 || a.Stats().AppliedSeq != 10 {
		t.Fatalf("after Drain: checkpoint %d, applied %d", w.Checkpoint(), a.Stats().AppliedSeq)
	}
	if err := a.Run(context.Background()); err != nil {
		t.Fatalf("Run after Drain: %v", err)
	}
	w.Close()
	st.Close()

	st = openStore(t, storeDir)
	w = openWAL(t, Options{Dir: walDir})
	var applied atomic.Int64
	a = NewApplier(ApplierOptions{WAL: w, Store: st, Logger: quietLogger(),
		OnApplied: func(*event.Batch, int) { applied.Add(1) }})
	cancel, done := startApplier(t, a)
	<-a.Ready()
	if s := a.Stats(); s.ReplayedBatches != 0 || applied.Load() != 0 {
		t.Fatalf("replayed after a drained shutdown: %+v", s)
	}
	checkExactlyOnce(t, st, now, 10)
	cancel()
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}

	// Drain without Run applies everything itself.
	appendBatches(t, w, 11, 13, now)
	a = NewApplier(ApplierOptions{WAL: w, Store: st, Logger: quietLogger()})
	if err := a.Drain(testCtx(t)); err != nil {
		t.Fatalf("Drain without Run: %v", err)
	}
	select {
	case <-a.Ready():
	default:
		t.Fatal("not ready after Drain")
	}
	if w.Checkpoint() != 13 {
		t.Fatalf("checkpoint %d after Drain, want 13", w.Checkpoint())
	}
	// Drain closed the store; what it applied is on disk.
	st = openStore(t, storeDir)
	defer st.Close()
	checkExactlyOnce(t, st, now, 13)
}

func TestApplierStoreErrorStopsRun(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	boom := errors.New("engine on fire")
	lossy := &lossyStore{Store: st, addErr: boom}
	w := openWAL(t, Options{Dir: t.TempDir()})
	a := NewApplier(ApplierOptions{WAL: w, Store: lossy, Logger: quietLogger()})
	_, done := startApplier(t, a)
	appendBatches(t, w, 1, 1, time.Now())
	if err := waitRun(t, done); !errors.Is(err, boom) {
		t.Fatalf("Run: %v, want the store's error", err)
	}
	if w.Checkpoint() != 0 {
		t.Fatalf("checkpoint moved past a failed batch: %d", w.Checkpoint())
	}
}

// recordingStore notes, for every Sync, when it started, the last sequence
// added before it and the WAL's checkpoint at that moment.
type recordingStore struct {
	store.Store
	w     *WAL
	mu    sync.Mutex
	added uint64
	syncs []syncNote
}

type syncNote struct {
	start      time.Time
	captured   uint64
	checkpoint uint64
}

func (r *recordingStore) Add(ctx context.Context, seq uint64, b *event.Batch, skip func(uint64) bool) error {
	err := r.Store.Add(ctx, seq, b, skip)
	r.mu.Lock()
	r.added = seq
	r.mu.Unlock()
	return err
}

func (r *recordingStore) Sync(ctx context.Context) error {
	r.mu.Lock()
	r.syncs = append(r.syncs, syncNote{start: time.Now(), captured: r.added, checkpoint: r.w.Checkpoint()})
	r.mu.Unlock()
	return r.Store.Sync(ctx)
}

func TestApplierCheckpointTrailsOneSync(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	w := openWAL(t, Options{Dir: t.TempDir()})
	rec := &recordingStore{Store: st, w: w}
	const interval = 15 * time.Millisecond
	a := NewApplier(ApplierOptions{WAL: w, Store: rec, SyncInterval: interval, Logger: quietLogger()})
	cancel, done := startApplier(t, a)
	now := time.Now()
	for i := 1; i <= 60; i++ {
		appendBatches(t, w, i, i, now)
		time.Sleep(time.Millisecond)
	}
	waitFor(t, "final checkpoint", func() bool { return w.Checkpoint() == 60 })
	cancel()
	if err := waitRun(t, done); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.syncs) < 2 {
		t.Fatalf("only %d syncs", len(rec.syncs))
	}
	for k := 1; k < len(rec.syncs); k++ {
		prev, cur := rec.syncs[k-1], rec.syncs[k]
		if gap := cur.start.Sub(prev.start); gap < interval {
			t.Errorf("syncs %d and %d only %v apart", k-1, k, gap)
		}
		// At the start of sync k the checkpoint is what sync k-1 set: the
		// sequence captured at sync k-2.
		want := uint64(0)
		if k >= 2 {
			want = rec.syncs[k-2].captured
		}
		if cur.checkpoint != want {
			t.Errorf("at sync %d the checkpoint is %d, want %d (captured two syncs earlier)", k, cur.checkpoint, want)
		}
	}
}
