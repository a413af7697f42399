package wal

import (
	"bytes"
	"sync"
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
