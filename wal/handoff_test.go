package wal

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"
)

// handoffValue is what the tests attach: the seq it was appended as, so a
// value returned for the wrong record is caught.
type handoffValue struct{ seq uint64 }

// TestHandoff appends records with values under a budget too small for all
// of them, across segment rolls and from concurrent writers, and reads them
// with NextRecord while they are written: every record comes back once, in
// order, either as its own value or as its own payload read from the files.
func TestHandoff(t *testing.T) {
	for _, policy := range []FsyncPolicy{{Always: true}, {Interval: 5 * time.Millisecond}} {
		t.Run(policy.String(), func(t *testing.T) {
			dir := t.TempDir()
			// Payloads are up to 300 bytes: about 10 fit in the budget
			// (a size of 0 means the payload's).
			w := openWAL(t, Options{Dir: dir, SegmentSize: 4096, Fsync: policy, HandoffBytes: 3000})
			ctx := testCtx(t)
			const n = 600
			payloads := sync.Map{} // seq -> payload
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range n / 4 {
						p := payloadFor(uint64(g*1000 + i))
						// Every fifth record is appended without a value.
						var v *handoffValue
						if i%5 != 0 {
							v = &handoffValue{}
						}
						var seq uint64
						var err error
						if v != nil {
							// The value learns its seq only after the
							// append; the reader checks it below, after
							// every append has returned.
							seq, err = w.AppendWith(ctx, p, v, 0)
						} else {
							seq, err = w.Append(ctx, p)
						}
						if err != nil {
							t.Errorf("append: %v", err)
							return
						}
						if v != nil {
							v.seq = seq
						}
						payloads.Store(seq, p)
					}
				})
			}
			r := w.NewReader(0)
			defer r.Close()
			var got []Record
			for want := uint64(1); want <= n; want++ {
				rec, err := r.NextRecord(ctx)
				if err != nil {
					t.Fatalf("NextRecord (want seq %d): %v", want, err)
				}
				if rec.Seq != want {
					t.Fatalf("NextRecord returned seq %d, want %d", rec.Seq, want)
				}
				if (rec.Value == nil) == (rec.Payload == nil) {
					t.Fatalf("seq %d: want exactly one of value and payload, got %v and %d bytes", rec.Seq, rec.Value, len(rec.Payload))
				}
				rec.Payload = bytes.Clone(rec.Payload)
				got = append(got, rec)
			}
			wg.Wait()
			hits := 0
			for _, rec := range got {
				p, _ := payloads.Load(rec.Seq)
				if rec.Value != nil {
					hits++
					if v := rec.Value.(*handoffValue); v.seq != rec.Seq {
						t.Fatalf("seq %d: got the value appended as seq %d", rec.Seq, v.seq)
					}
				} else if !bytes.Equal(rec.Payload, p.([]byte)) {
					t.Fatalf("seq %d: payload %q, want %q", rec.Seq, rec.Payload, p)
				}
			}
			st := w.Stats()
			if hits == 0 || st.HandoffHits != uint64(hits) || st.HandoffMisses != uint64(n-hits) {
				t.Fatalf("%d of %d records handed off; stats %+v", hits, n, st)
			}
			if st.Segments < 10 {
				t.Fatalf("%d segments, want rolls", st.Segments)
			}
			if st.HandoffBytes != 0 {
				t.Fatalf("%d handoff bytes kept after every record was read", st.HandoffBytes)
			}
		})
	}
}

// TestHandoffBudgetAndMarkApplied: values beyond the budget are not kept,
// plain Next readers never take them, and MarkApplied releases them.
func TestHandoffBudgetAndMarkApplied(t *testing.T) {
	w := openWAL(t, Options{Dir: t.TempDir(), HandoffBytes: 1000})
	ctx := testCtx(t)
	// Each value is said to hold 300 bytes, more than its payload.
	p := bytes.Repeat([]byte("x"), 100)
	for i := range 5 {
		if _, err := w.AppendWith(ctx, p, &handoffValue{seq: uint64(i + 1)}, 300); err != nil {
			t.Fatal(err)
		}
	}
	st := w.Stats()
	if st.HandoffBytes != 900 || st.HandoffDropped != 2 {
		t.Fatalf("after 5 appends of 300 bytes under a 1000-byte budget: %+v", st)
	}
	expectPayloads := func(r *Reader, from, to uint64, handoff bool) {
		t.Helper()
		for want := from; want <= to; want++ {
			var rec Record
			var err error
			if handoff {
				rec, err = r.NextRecord(ctx)
			} else {
				rec.Seq, rec.Payload, err = r.Next(ctx)
			}
			if err != nil || rec.Seq != want || rec.Value != nil || !bytes.Equal(rec.Payload, p) {
				t.Fatalf("want seq %d read from the files, got %d, %v, %d bytes, err %v", want, rec.Seq, rec.Value, len(rec.Payload), err)
			}
		}
	}
	r := w.NewReader(0)
	expectPayloads(r, 1, 5, false)
	r.Close()
	if st := w.Stats(); st.HandoffBytes != 900 || st.HandoffHits != 0 {
		t.Fatalf("a plain reader took handed-off values: %+v", st)
	}
	w.MarkApplied(2)
	if st := w.Stats(); st.HandoffBytes != 300 {
		t.Fatalf("after MarkApplied(2): %d handoff bytes, want 300", st.HandoffBytes)
	}
	r = w.NewReader(2)
	defer r.Close()
	rec, err := r.NextRecord(ctx)
	if err != nil || rec.Seq != 3 || rec.Value.(*handoffValue).seq != 3 {
		t.Fatalf("NextRecord = %+v, %v; want seq 3 from memory", rec, err)
	}
	expectPayloads(r, 4, 5, true)
	if st := w.Stats(); st.HandoffBytes != 0 || st.HandoffHits != 1 || st.HandoffMisses != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestHandoffWait covers Options.HandoffWait: an append whose value does not
// fit the budget waits for the reader to free room instead of giving up its
// handoff, but only for so long, only while the reader is close behind, and
// never past its context; room it reserved is returned when its record is
// not written.
func TestHandoffWait(t *testing.T) {
	p := bytes.Repeat([]byte("x"), 100)
	// Each value holds 300 bytes: one fits a 500-byte budget, two do not.
	const size, budget = 300, 500
	appendAsync := func(w *WAL, ctx context.Context, seq uint64) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := w.AppendWith(ctx, p, &handoffValue{seq: seq}, size)
			done <- err
		}()
		return done
	}
	// appendValues appends records from..to, each with its value.
	appendValues := func(t *testing.T, w *WAL, ctx context.Context, from, to uint64) {
		t.Helper()
		for seq := from; seq <= to; seq++ {
			if _, err := w.AppendWith(ctx, p, &handoffValue{seq: seq}, size); err != nil {
				t.Fatalf("append %d: %v", seq, err)
			}
		}
	}
	next := func(t *testing.T, r *Reader, want uint64, fromMemory bool) {
		t.Helper()
		rec, err := r.NextRecord(testCtx(t))
		if err != nil || rec.Seq != want {
			t.Fatalf("NextRecord = seq %d, %v; want seq %d", rec.Seq, err, want)
		}
		if got := rec.Value != nil; got != fromMemory {
			t.Fatalf("seq %d: handed off in memory = %v, want %v", want, got, fromMemory)
		}
		if fromMemory && rec.Value.(*handoffValue).seq != want {
			t.Fatalf("seq %d: got the value of seq %d", want, rec.Value.(*handoffValue).seq)
		}
	}

	// waiting fills a WAL's budget of budget bytes with records 1..full
	// and starts appending the next under waitCtx: it returns once that
	// append waits for room, with the channel its result comes on.
	waiting := func(t *testing.T, budget int64, full uint64, waitCtx context.Context) (*WAL, <-chan error) {
		t.Helper()
		w := openWAL(t, Options{Dir: t.TempDir(), HandoffBytes: budget, HandoffWait: time.Hour})
		appendValues(t, w, testCtx(t), 1, full)
		done := appendAsync(w, waitCtx, full+1)
		waitFor(t, "the append to wait for room", func() bool { return w.Stats().HandoffWaits == 1 })
		return w, done
	}

	t.Run("waits for the reader", func(t *testing.T) {
		w, second := waiting(t, budget, 1, testCtx(t))
		r := w.NewReader(0)
		defer r.Close()
		// Taking record 1 frees the room record 2 waits for; without
		// the wait it would have been appended without its value.
		next(t, r, 1, true)
		if err := <-second; err != nil {
			t.Fatal(err)
		}
		next(t, r, 2, true)
		if st := w.Stats(); st.HandoffHits != 2 || st.HandoffDropped != 0 {
			t.Fatalf("stats %+v", st)
		}
	})

	t.Run("no wait without the option", func(t *testing.T) {
		w := openWAL(t, Options{Dir: t.TempDir(), HandoffBytes: budget})
		ctx := testCtx(t)
		appendValues(t, w, ctx, 1, 2)
		r := w.NewReader(0)
		defer r.Close()
		next(t, r, 1, true)
		next(t, r, 2, false)
	})

	t.Run("gives up after the wait", func(t *testing.T) {
		w := openWAL(t, Options{Dir: t.TempDir(), HandoffBytes: budget, HandoffWait: 20 * time.Millisecond})
		// Nothing reads: records 2 and 3 wait out the 20 ms, then are
		// appended without their values.
		appendValues(t, w, testCtx(t), 1, 3)
		r := w.NewReader(0)
		defer r.Close()
		next(t, r, 1, true)
		next(t, r, 2, false)
		next(t, r, 3, false)
		if st := w.Stats(); st.HandoffDropped != 2 || st.HandoffWaits != 2 {
			t.Fatalf("stats %+v", st)
		}
	})

	t.Run("no wait when the reader is far behind", func(t *testing.T) {
		w := openWAL(t, Options{Dir: t.TempDir(), HandoffBytes: budget, HandoffWait: time.Hour})
		// A backlog of more than twice the budget that nothing reads.
		for seq := uint64(1); seq <= 12; seq++ {
			if _, err := w.Append(testCtx(t), p); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for seq := uint64(13); seq <= 14; seq++ {
			// Were it to wait for room, the hour-long wait would end
			// with the context's deadline.
			if _, err := w.AppendWith(ctx, p, &handoffValue{seq: seq}, size); err != nil {
				t.Fatalf("append %d behind a backlog: %v", seq, err)
			}
		}
		if st := w.Stats(); st.HandoffBytes != size || st.HandoffDropped != 1 || st.HandoffWaits != 0 {
			t.Fatalf("stats %+v", st)
		}
	})

	t.Run("context ends the wait and frees nothing twice", func(t *testing.T) {
		cctx, cancel := context.WithCancel(testCtx(t))
		w, third := waiting(t, 2*size, 2, cctx)
		cancel()
		if err := <-third; !errors.Is(err, context.Canceled) {
			t.Fatalf("append with a cancelled context while waiting: %v", err)
		}
		if st := w.Stats(); st.LastSeq != 2 || st.HandoffBytes != 2*size || w.handoffReservedNow() != 0 {
			t.Fatalf("after the cancelled wait: %+v, %d reserved", st, w.handoffReservedNow())
		}
	})

	t.Run("close ends the wait", func(t *testing.T) {
		w, second := waiting(t, budget, 1, testCtx(t))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		// Left waiting, it would end only with the test's context.
		if err := <-second; !errors.Is(err, ErrClosed) {
			t.Fatalf("append waiting for room when the WAL closed: %v", err)
		}
	})

	t.Run("a failed write returns its room", func(t *testing.T) {
		w := openWAL(t, Options{Dir: t.TempDir(), HandoffBytes: budget, HandoffWait: time.Hour})
		ctx := testCtx(t)
		ff := injectFaults(w)
		ff.writeErr = syscall.ENOSPC
		// The room is free: the append reserves it at once, and its
		// write fails.
		if _, err := w.AppendWith(ctx, p, &handoffValue{seq: 1}, size); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("append on a full disk: %v", err)
		}
		if got := w.handoffReservedNow(); got != 0 {
			t.Fatalf("%d bytes still reserved after the failed write", got)
		}
		ff.writeErr = nil
		if _, err := w.AppendWith(ctx, p, &handoffValue{seq: 1}, size); err != nil {
			t.Fatal(err)
		}
		r := w.NewReader(0)
		defer r.Close()
		next(t, r, 1, true)
	})
}

// handoffReservedNow is the budget reserved by waiting appends.
func (w *WAL) handoffReservedNow() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.handoffReserved
}
