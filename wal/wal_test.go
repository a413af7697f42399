package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 20 * time.Second

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func openWAL(t testing.TB, opts Options) *WAL {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	w, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", opts.Dir, err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// payloadFor returns a deterministic payload of varying size for seq.
func payloadFor(seq uint64) []byte {
	n := int(seq*37) % 300
	p := []byte(fmt.Sprintf("record-%d:", seq))
	for len(p) < n {
		p = append(p, byte('a'+(seq+uint64(len(p)))%26))
	}
	return p
}

func appendN(t testing.TB, w *WAL, from, to uint64) {
	t.Helper()
	ctx := testCtx(t)
	for seq := from; seq <= to; seq++ {
		got, err := w.Append(ctx, payloadFor(seq))
		if err != nil {
			t.Fatalf("Append(%d): %v", seq, err)
		}
		if got != seq {
			t.Fatalf("Append returned seq %d, want %d", got, seq)
		}
	}
}

// expectRecords reads records after `after` up to `to` and checks them.
func expectRecords(t testing.TB, w *WAL, after, to uint64) {
	t.Helper()
	ctx := testCtx(t)
	r := w.NewReader(after)
	defer r.Close()
	for want := after + 1; want <= to; want++ {
		seq, p, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("Next (want seq %d): %v", want, err)
		}
		if seq != want {
			t.Fatalf("Next returned seq %d, want %d", seq, want)
		}
		if !bytes.Equal(p, payloadFor(seq)) {
			t.Fatalf("seq %d: payload %q, want %q", seq, p, payloadFor(seq))
		}
	}
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

func TestParseFsyncPolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want FsyncPolicy
		err  string
	}{
		{in: "always", want: FsyncPolicy{Always: true}},
		{in: " Always ", want: FsyncPolicy{Always: true}},
		{in: "100ms", want: FsyncPolicy{Interval: 100 * time.Millisecond}},
		{in: "2s", want: FsyncPolicy{Interval: 2 * time.Second}},
		{in: "", err: `want "always" or an interval`},
		{in: "sometimes", err: `fsync policy "sometimes": want "always" or an interval`},
		{in: "0s", err: "must be positive"},
		{in: "-1s", err: "must be positive"},
	} {
		got, err := ParseFsyncPolicy(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseFsyncPolicy(%q) error = %v, want it to contain %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseFsyncPolicy(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if back, err := ParseFsyncPolicy(got.String()); err != nil || back != got {
			t.Errorf("round trip of %q via %q = %+v, %v", tc.in, got.String(), back, err)
		}
	}
}

func TestRoundTripAcrossRollsAndReopen(t *testing.T) {
	for _, policy := range []FsyncPolicy{{Always: true}, {Interval: 5 * time.Millisecond}} {
		t.Run(policy.String(), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Dir: dir, SegmentSize: 2048, Fsync: policy, Logger: quietLogger()}
			w, err := Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, w, 1, 300)
			if n := len(segmentFiles(t, dir)); n < 10 {
				t.Fatalf("%d segment files, want many (rolls)", n)
			}
			expectRecords(t, w, 0, 300)
			expectRecords(t, w, 137, 300)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Append(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
				t.Fatalf("Append after Close: %v, want ErrClosed", err)
			}

			w = openWAL(t, opts)
			if got := w.LastSeq(); got != 300 {
				t.Fatalf("LastSeq after reopen = %d, want 300", got)
			}
			expectRecords(t, w, 0, 300)
			appendN(t, w, 301, 350)
			expectRecords(t, w, 290, 350)
			st := w.Stats()
			if st.LastSeq != 350 || st.DurableSeq != 350 || st.Segments != len(segmentFiles(t, dir)) || st.TornTailsRecovered != 0 {
				t.Fatalf("stats = %+v", st)
			}
		})
	}
}

func TestEmptyAndLargeRecords(t *testing.T) {
	dir := t.TempDir()
	w := openWAL(t, Options{Dir: dir, SegmentSize: 1 << 10, MaxRecord: 4 << 20})
	ctx := testCtx(t)
	big := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB: larger than the read buffer
	payloads := [][]byte{{}, big, []byte("small"), {}, big[:readBufSize], big[:readBufSize+1]}
	for i, p := range payloads {
		seq, err := w.Append(ctx, p)
		if err != nil || seq != uint64(i+1) {
			t.Fatalf("Append #%d = %d, %v", i, seq, err)
		}
	}
	if _, err := w.Append(ctx, make([]byte, 4<<20+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append over MaxRecord: %v, want ErrTooLarge", err)
	}
	r := w.NewReader(0)
	defer r.Close()
	for i, want := range payloads {
		seq, p, err := r.Next(ctx)
		if err != nil || seq != uint64(i+1) || !bytes.Equal(p, want) {
			t.Fatalf("record %d: seq %d, %d bytes, %v", i+1, seq, len(p), err)
		}
	}
}

func TestReaderFollowsTail(t *testing.T) {
	w := openWAL(t, Options{Dir: t.TempDir(), SegmentSize: 512})
	appendN(t, w, 1, 3)
	ctx := testCtx(t)
	r := w.NewReader(0)
	defer r.Close()
	for want := uint64(1); want <= 3; want++ {
		if seq, _, err := r.Next(ctx); err != nil || seq != want {
			t.Fatalf("Next = %d, %v; want %d", seq, err, want)
		}
	}

	// At the end: Next blocks until ctx ends.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, _, err := r.Next(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next at the end: %v, want context.DeadlineExceeded", err)
	}

	// A blocked Next wakes up on Append, including across a roll.
	type result struct {
		seq uint64
		p   []byte
		err error
	}
	for want := uint64(4); want <= 12; want++ {
		ch := make(chan result, 1)
		go func() {
			seq, p, err := r.Next(ctx)
			ch <- result{seq, bytes.Clone(p), err}
		}()
		select {
		case res := <-ch:
			t.Fatalf("Next returned before the append: %+v", res)
		case <-time.After(5 * time.Millisecond):
		}
		appendN(t, w, want, want)
		res := <-ch
		if res.err != nil || res.seq != want || !bytes.Equal(res.p, payloadFor(want)) {
			t.Fatalf("woken Next = %d, %q, %v; want %d", res.seq, res.p, res.err, want)
		}
	}

	// Close: a blocked reader returns ErrClosed; a new reader reads
	// everything, then ErrClosed.
	ch := make(chan error, 1)
	go func() {
		_, _, err := r.Next(ctx)
		ch <- err
	}()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-ch; !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v, want ErrClosed", err)
	}
	expectRecords(t, w, 0, 12)
	r2 := w.NewReader(12)
	defer r2.Close()
	if _, _, err := r2.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next at the end of a closed WAL: %v, want ErrClosed", err)
	}
}

func TestIntervalPolicyVisibility(t *testing.T) {
	// Under the interval policy, Append returns after write(2); readers see
	// the record once the periodic fsync (or Sync) ran.
	w := openWAL(t, Options{Dir: t.TempDir(), Fsync: FsyncPolicy{Interval: time.Hour}})
	appendN(t, w, 1, 5)
	if st := w.Stats(); st.LastSeq != 5 || st.DurableSeq != 0 || st.Fsyncs != 0 {
		t.Fatalf("before Sync: %+v", st)
	}
	r := w.NewReader(0)
	defer r.Close()
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := r.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next before fsync: %v, want to wait", err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.DurableSeq != 5 || st.Fsyncs != 1 {
		t.Fatalf("after Sync: %+v", st)
	}
	expectRecords(t, w, 0, 5)

	w2 := openWAL(t, Options{Dir: t.TempDir(), Fsync: FsyncPolicy{Interval: 5 * time.Millisecond}})
	appendN(t, w2, 1, 5)
	expectRecords(t, w2, 0, 5) // waits for the ticker
}

func TestCheckpointAndSegmentDeletion(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentSize: 1024}
	w := openWAL(t, opts)
	appendN(t, w, 1, 100)
	before := segmentFiles(t, dir)
	if err := w.SetCheckpoint(101); err == nil {
		t.Fatal("SetCheckpoint beyond the last record succeeded")
	}
	if err := w.SetCheckpoint(50); err != nil {
		t.Fatal(err)
	}
	if got := w.Checkpoint(); got != 50 {
		t.Fatalf("Checkpoint = %d", got)
	}
	after := segmentFiles(t, dir)
	if len(after) >= len(before) {
		t.Fatalf("no segment deleted: %d before, %d after", len(before), len(after))
	}
	// Every segment left holds a record > 50; every deleted one only <= 50.
	firstKept, _ := parseSegmentName(filepath.Base(after[0]))
	if firstKept > 51 {
		t.Fatalf("first kept segment starts at %d: record 51 was deleted", firstKept)
	}
	if len(after) > 1 {
		second, _ := parseSegmentName(filepath.Base(after[1]))
		if second <= 51 {
			t.Fatalf("segment %s was kept though all its records are <= 50", after[0])
		}
	}
	expectRecords(t, w, 50, 100)
	if _, _, err := w.NewReader(0).Next(testCtx(t)); err == nil || !strings.Contains(err.Error(), "deleted") {
		t.Fatalf("reading deleted records: %v", err)
	}
	// Lower checkpoints are ignored.
	if err := w.SetCheckpoint(10); err != nil || w.Checkpoint() != 50 {
		t.Fatalf("lower SetCheckpoint: %v, checkpoint %d", err, w.Checkpoint())
	}
	// Checkpointing everything keeps the active segment.
	if err := w.SetCheckpoint(100); err != nil {
		t.Fatal(err)
	}
	if n := len(segmentFiles(t, dir)); n != 1 {
		t.Fatalf("%d segments after checkpointing everything, want the active one", n)
	}
	st := w.Stats()
	if st.Checkpoint != 100 || st.AppliedSeq != 100 || st.LagBytes != 0 || st.Segments != 1 {
		t.Fatalf("stats: %+v", st)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	w = openWAL(t, opts)
	if w.Checkpoint() != 100 || w.LastSeq() != 100 {
		t.Fatalf("after reopen: checkpoint %d, last %d", w.Checkpoint(), w.LastSeq())
	}
	appendN(t, w, 101, 120)
	expectRecords(t, w, 100, 120)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// A checkpoint file whose segments were all deleted (the active one
	// included, by hand) still continues the sequence after it.
	for _, f := range segmentFiles(t, dir) {
		os.Remove(f)
	}
	if err := writeCheckpoint(dir, 120); err != nil {
		t.Fatal(err)
	}
	w = openWAL(t, opts)
	appendN(t, w, 121, 121)
}

func TestMissingSegmentIsAnError(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentSize: 512}
	w := openWAL(t, opts)
	appendN(t, w, 1, 60)
	w.Close()
	files := segmentFiles(t, dir)
	if len(files) < 4 {
		t.Fatalf("want several segments, have %d", len(files))
	}
	if err := os.Remove(files[1]); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Dir: dir, Logger: quietLogger()})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), files[0]) {
		t.Fatalf("Open with a missing middle segment: %v", err)
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	_, err = Open(Options{Dir: dir, Logger: quietLogger()})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Open with the first segments missing: %v", err)
	}
}

func TestLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	w := openWAL(t, Options{Dir: dir})
	if _, err := Open(Options{Dir: dir, Logger: quietLogger()}); err == nil {
		t.Fatal("second Open of the same directory succeeded")
	}
	w.Close()
	w2 := openWAL(t, Options{Dir: dir})
	w2.Close()
}

func TestConcurrentAppends(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"always", Options{SegmentSize: 64 << 10}},
		{"interval", Options{SegmentSize: 64 << 10, Fsync: FsyncPolicy{Interval: 2 * time.Millisecond}}},
		{"tiny-queue", Options{SegmentSize: 64 << 10, MaxPending: 1024}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Dir = t.TempDir()
			w := openWAL(t, opts)
			ctx := testCtx(t)
			const writers, perWriter = 32, 100
			var mu sync.Mutex
			got := make(map[uint64]string)
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for g := range writers {
				wg.Go(func() {
					for i := range perWriter {
						p := fmt.Sprintf("writer %d record %d %s", g, i, strings.Repeat("x", (g*i)%200))
						seq, err := w.Append(ctx, []byte(p))
						if err != nil {
							errs <- err
							return
						}
						mu.Lock()
						if prev, dup := got[seq]; dup {
							mu.Unlock()
							errs <- fmt.Errorf("seq %d returned twice (%q and %q)", seq, prev, p)
							return
						}
						got[seq] = p
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			const total = writers * perWriter
			if len(got) != total {
				t.Fatalf("%d distinct seqs, want %d", len(got), total)
			}
			r := w.NewReader(0)
			defer r.Close()
			for want := uint64(1); want <= total; want++ {
				seq, p, err := r.Next(ctx)
				if err != nil || seq != want {
					t.Fatalf("Next = %d, %v; want %d", seq, err, want)
				}
				if string(p) != got[seq] {
					t.Fatalf("seq %d: read %q, Append returned it for %q", seq, p, got[seq])
				}
			}
			st := w.Stats()
			t.Logf("%d appends in %d group commits, %d fsyncs, %d segments", st.Appends, st.GroupCommits, st.Fsyncs, st.Segments)
			if st.Appends != total || st.GroupCommits >= st.Appends {
				t.Fatalf("no batching: %+v", st)
			}
		})
	}
}

func TestAppendContextCancelled(t *testing.T) {
	w := openWAL(t, Options{Dir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Append(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v", err)
	}
	appendN(t, w, 1, 1)
}

func TestLagBytes(t *testing.T) {
	w := openWAL(t, Options{Dir: t.TempDir()})
	appendN(t, w, 1, 100)
	var total int64
	for seq := uint64(1); seq <= 100; seq++ {
		total += int64(recordHdrSize + len(payloadFor(seq)))
	}
	if got := w.Stats().LagBytes; got != total {
		t.Fatalf("LagBytes with nothing applied = %d, want %d", got, total)
	}
	w.MarkApplied(60)
	var want int64
	for seq := uint64(61); seq <= 100; seq++ {
		want += int64(recordHdrSize + len(payloadFor(seq)))
	}
	if got := w.Stats().LagBytes; got != want {
		t.Fatalf("LagBytes after MarkApplied(60) = %d, want %d", got, want)
	}
	w.MarkApplied(100)
	if st := w.Stats(); st.LagBytes != 0 || st.AppliedSeq != 100 {
		t.Fatalf("after applying everything: %+v", st)
	}
}
