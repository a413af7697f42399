package wal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// recordOffsets returns the offset of every record 1..n of a single-segment
// WAL written with payloadFor, plus the end offset.
func recordOffsets(n uint64) []int64 {
	offs := []int64{segmentHdrSize}
	for seq := uint64(1); seq <= n; seq++ {
		offs = append(offs, offs[len(offs)-1]+recordHdrSize+int64(len(payloadFor(seq))))
	}
	return offs // offs[i] is the start of record i+1; offs[n] the end
}

// writeSegment writes a single segment file holding data into a new dir.
func writeSegment(t *testing.T, data []byte) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, segmentName(1))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func makeWAL(t *testing.T, opts Options, n uint64) []byte {
	t.Helper()
	opts.Dir = t.TempDir()
	w := openWAL(t, opts)
	appendN(t, w, 1, n)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := segmentFiles(t, opts.Dir)
	if len(files) != 1 {
		t.Fatalf("%d segments, want 1", len(files))
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkRecovered opens dir and checks that records 1..want survived, that
// the next append gets want+1 and that a further reopen is clean.
func checkRecovered(t *testing.T, dir string, want uint64, torn uint64) {
	t.Helper()
	w, err := Open(Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if st := w.Stats(); st.LastSeq != want || st.TornTailsRecovered != torn {
		w.Close()
		t.Fatalf("after recovery: LastSeq %d (want %d), TornTailsRecovered %d (want %d)", st.LastSeq, want, st.TornTailsRecovered, torn)
	}
	expectRecords(t, w, 0, want)
	appendN(t, w, want+1, want+1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w, err = Open(Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer w.Close()
	if st := w.Stats(); st.LastSeq != want+1 || st.TornTailsRecovered != 0 {
		t.Fatalf("second reopen: %+v", st)
	}
	expectRecords(t, w, 0, want+1)
}

func TestTornTailEveryOffset(t *testing.T) {
	const n = 6
	data := makeWAL(t, Options{}, n)
	offs := recordOffsets(n)
	if int64(len(data)) != offs[n] {
		t.Fatalf("segment is %d bytes, want %d", len(data), offs[n])
	}
	start := offs[n-1]
	for cut := start; cut < offs[n]; cut++ {
		dir, _ := writeSegment(t, data[:cut])
		torn := uint64(1)
		if cut == start {
			torn = 0 // a clean end, nothing to repair
		}
		t.Run("cut="+strconv.FormatInt(cut, 10), func(t *testing.T) {
			checkRecovered(t, dir, n-1, torn)
		})
	}
}

func TestTornTailBitFlips(t *testing.T) {
	const n = 6
	data := makeWAL(t, Options{}, n)
	offs := recordOffsets(n)
	for at := offs[n-1]; at < offs[n]; at++ {
		for _, bit := range []uint{0, 7} {
			bad := append([]byte(nil), data...)
			bad[at] ^= 1 << bit
			dir, _ := writeSegment(t, bad)
			t.Run("byte="+strconv.FormatInt(at, 10)+"/bit="+strconv.Itoa(int(bit)), func(t *testing.T) {
				checkRecovered(t, dir, n-1, 1)
			})
		}
	}
	// Garbage appended after the last record (a torn write of a record
	// whose header never made it).
	dir, _ := writeSegment(t, append(append([]byte(nil), data...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
	checkRecovered(t, dir, n, 1)
}

func TestCorruptionBeforeSyncedRecordsIsAnError(t *testing.T) {
	// Under the Always policy every group starts with a record flagged
	// "everything before me was fsynced": damage followed by such a record
	// is not a torn tail.
	const n = 6
	data := makeWAL(t, Options{}, n)
	offs := recordOffsets(n)
	bad := append([]byte(nil), data...)
	at := offs[2] + recordHdrSize + 3 // inside record 3's payload
	bad[at] ^= 0x10
	dir, path := writeSegment(t, bad)
	_, err := Open(Options{Dir: dir, Logger: quietLogger()})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
	for _, want := range []string{path, "offset " + strconv.FormatInt(offs[2], 10), "checksum"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// The file was left alone.
	if got, _ := os.ReadFile(path); string(got) != string(bad) {
		t.Error("the corrupt segment was modified")
	}
}

func TestCorruptionInUnsyncedRegionIsTruncated(t *testing.T) {
	// Under the interval policy records written between two fsyncs carry no
	// flag: damage among them is indistinguishable from a torn write, so
	// the tail from the damage on is dropped.
	const n = 6
	data := makeWAL(t, Options{Fsync: FsyncPolicy{Interval: time.Hour}}, n)
	offs := recordOffsets(n)
	bad := append([]byte(nil), data...)
	bad[offs[2]+recordHdrSize] ^= 1
	dir, _ := writeSegment(t, bad)
	checkRecovered(t, dir, 2, 1)
}

func TestCorruptOlderSegmentIsAnError(t *testing.T) {
	dir := t.TempDir()
	w := openWAL(t, Options{Dir: dir, SegmentSize: 1024})
	appendN(t, w, 1, 40)
	w.Close()
	files := segmentFiles(t, dir)
	if len(files) < 3 {
		t.Fatalf("%d segments, want several", len(files))
	}
	data, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	orig := append([]byte(nil), data...)
	// Damage the last record of an older segment: in the last segment
	// this would be a torn tail, here it is corruption.
	data[len(data)-2] ^= 0xff
	if err := os.WriteFile(files[1], data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(Options{Dir: dir, Logger: quietLogger()})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), files[1]) || !strings.Contains(err.Error(), "at offset") {
		t.Fatalf("Open with a corrupt older segment: %v", err)
	}

	// A truncated older segment is an error too.
	if err := os.WriteFile(files[1], orig[:len(orig)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(Options{Dir: dir, Logger: quietLogger()})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), files[1]) {
		t.Fatalf("Open with a truncated older segment: %v", err)
	}

	// Corruption in a segment wholly below the checkpoint does not matter:
	// the segment is deleted.
	if err := os.WriteFile(files[1], orig, 0o644); err != nil {
		t.Fatal(err)
	}
	third, _ := parseSegmentName(filepath.Base(files[2]))
	if err := writeCheckpoint(dir, third-1); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[0], []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	w = openWAL(t, Options{Dir: dir})
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Fatalf("checkpointed segment not deleted: %v", err)
	}
	expectRecords(t, w, third-1, 40)
}

func TestCrashDuringRoll(t *testing.T) {
	hdr := appendSegmentHeader(nil, 41)
	for _, tc := range []struct {
		name string
		data []byte // content of segment 41, nil for none
		tmp  bool   // leave a temporary segment behind instead
		torn uint64
	}{
		{name: "empty file", data: []byte{}, torn: 1},
		{name: "partial header", data: hdr[:10], torn: 1},
		{name: "header only", data: hdr, torn: 0},
		{name: "temporary file", tmp: true, torn: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w := openWAL(t, Options{Dir: dir, SegmentSize: 1024})
			appendN(t, w, 1, 40)
			w.Close()
			name := filepath.Join(dir, segmentName(41))
			if tc.tmp {
				name += tmpExt
				tc.data = hdr[:20]
			}
			if err := os.WriteFile(name, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			w = openWAL(t, Options{Dir: dir, SegmentSize: 1024})
			if st := w.Stats(); st.LastSeq != 40 || st.TornTailsRecovered != tc.torn {
				t.Fatalf("after recovery: %+v", st)
			}
			appendN(t, w, 41, 60)
			expectRecords(t, w, 0, 60)
			if tc.tmp {
				if _, err := os.Stat(name); !os.IsNotExist(err) {
					t.Errorf("temporary segment left behind: %v", err)
				}
			}
		})
	}
}

// faultyFile injects errors into the active segment's file.
type faultyFile struct {
	segmentFile
	writeErr    error // WriteAt writes half the bytes, then fails
	syncErr     error
	truncateErr error
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	if f.writeErr != nil {
		n, _ := f.segmentFile.WriteAt(p[:len(p)/2], off)
		return n, f.writeErr
	}
	return f.segmentFile.WriteAt(p, off)
}

func (f *faultyFile) Sync() error {
	if f.syncErr != nil {
		return f.syncErr
	}
	return f.segmentFile.Sync()
}

func (f *faultyFile) Truncate(size int64) error {
	if f.truncateErr != nil {
		return f.truncateErr
	}
	return f.segmentFile.Truncate(size)
}

// injectFaults wraps the active file. The writer is idle between appends
// (Always policy), and the next Append orders this write before its use.
func injectFaults(w *WAL) *faultyFile {
	ff := &faultyFile{segmentFile: w.f}
	w.f = ff
	return ff
}

func TestWriteErrorTruncatesBack(t *testing.T) {
	dir := t.TempDir()
	w := openWAL(t, Options{Dir: dir})
	appendN(t, w, 1, 3)
	ff := injectFaults(w)
	ff.writeErr = syscall.ENOSPC
	_, err := w.Append(context.Background(), payloadFor(4))
	if !errors.Is(err, syscall.ENOSPC) || errors.Is(err, ErrFailed) {
		t.Fatalf("Append on a full disk: %v", err)
	}
	if !strings.Contains(err.Error(), filepath.Join(dir, segmentName(1))) || !strings.Contains(err.Error(), "offset") {
		t.Errorf("error does not name the file and offset: %v", err)
	}
	if st := w.Stats(); st.WriteErrors != 1 || st.Failed || st.LastSeq != 3 {
		t.Fatalf("after the write error: %+v", st)
	}
	ff.writeErr = nil // space freed
	appendN(t, w, 4, 6)
	expectRecords(t, w, 0, 6)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkRecovered(t, dir, 6, 0)
}

func TestWriteErrorWithFailedTruncateFails(t *testing.T) {
	dir := t.TempDir()
	w := openWAL(t, Options{Dir: dir})
	appendN(t, w, 1, 3)
	ff := injectFaults(w)
	ff.writeErr = syscall.EIO
	ff.truncateErr = syscall.EIO
	_, err := w.Append(context.Background(), payloadFor(4))
	if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append: %v, want ErrFailed and EIO", err)
	}
	ff.writeErr, ff.truncateErr = nil, nil
	if _, err := w.Append(context.Background(), payloadFor(4)); !errors.Is(err, ErrFailed) {
		t.Fatalf("Append in the failed state: %v", err)
	}
	if err := w.Sync(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Sync in the failed state: %v", err)
	}
	if !w.Stats().Failed {
		t.Fatal("Stats().Failed is false")
	}
	if err := w.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Close in the failed state: %v", err)
	}
	// The half-written record is a torn tail.
	checkRecovered(t, dir, 3, 1)
}

func TestFsyncErrorFails(t *testing.T) {
	dir := t.TempDir()
	w := openWAL(t, Options{Dir: dir})
	appendN(t, w, 1, 3)
	r := w.NewReader(0)
	defer r.Close()
	ff := injectFaults(w)
	ff.syncErr = syscall.EIO
	_, err := w.Append(context.Background(), payloadFor(4))
	if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append with a failing fsync: %v", err)
	}
	if _, err := w.Append(context.Background(), payloadFor(5)); !errors.Is(err, ErrFailed) {
		t.Fatalf("Append in the failed state: %v", err)
	}
	// Readers never see the record whose fsync failed.
	ctx := testCtx(t)
	for want := uint64(1); want <= 3; want++ {
		if seq, _, err := r.Next(ctx); err != nil || seq != want {
			t.Fatalf("Next = %d, %v", seq, err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if seq, _, err := r.Next(short); err == nil {
		t.Fatalf("reader saw record %d whose fsync failed", seq)
	}
	if err := w.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Close: %v", err)
	}
	// Record 4 reached the page cache, so it is recovered (its caller got an
	// error: at-least-once).
	checkRecovered(t, dir, 4, 0)
}

func TestCheckpointAheadOfLog(t *testing.T) {
	// A log that ends before its checkpoint (records the store has were
	// lost from the WAL) continues after the checkpoint, so no sequence
	// number is ever reused.
	dir := t.TempDir()
	w := openWAL(t, Options{Dir: dir})
	appendN(t, w, 1, 10)
	w.Close()
	if err := writeCheckpoint(dir, 15); err != nil {
		t.Fatal(err)
	}
	w = openWAL(t, Options{Dir: dir})
	if w.LastSeq() != 15 || w.Checkpoint() != 15 {
		t.Fatalf("LastSeq %d, Checkpoint %d; want 15, 15", w.LastSeq(), w.Checkpoint())
	}
	if files := segmentFiles(t, dir); len(files) != 1 || filepath.Base(files[0]) != segmentName(16) {
		t.Fatalf("segments %v, want only %s", files, segmentName(16))
	}
	appendN(t, w, 16, 20)
	expectRecords(t, w, 15, 20)
}

func TestReaderDetectsCorruption(t *testing.T) {
	// Damage that appears after Open (the files are re-checked as they are
	// read) stops the reader with an error naming the file and offset.
	dir := t.TempDir()
	w := openWAL(t, Options{Dir: dir, SegmentSize: 1024})
	appendN(t, w, 1, 20)
	files := segmentFiles(t, dir)
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	at := int64(segmentHdrSize + recordHdrSize + len(payloadFor(1)) + recordHdrSize + 1) // record 2's payload
	data[at] ^= 0x40
	if err := os.WriteFile(files[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := w.NewReader(0)
	defer r.Close()
	ctx := testCtx(t)
	if seq, _, err := r.Next(ctx); err != nil || seq != 1 {
		t.Fatalf("Next = %d, %v", seq, err)
	}
	_, _, err = r.Next(ctx)
	want := "offset " + strconv.FormatInt(at-recordHdrSize-1, 10)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), files[0]) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Next over a damaged record: %v (want ErrCorrupt, %s, %s)", err, files[0], want)
	}
	if _, _, err2 := r.Next(ctx); !errors.Is(err2, ErrCorrupt) {
		t.Fatalf("the error is not sticky: %v", err2)
	}
	// Skipping past the damage reads on (records before `after` are not
	// checksummed).
	expectRecords(t, w, 2, 20)
}
