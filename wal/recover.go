package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// recoverDir reads the directory, checks the segments, repairs the tail of the
// last one and opens it for appending. Called by Open before the writer runs.
//
// Every segment holding records after the checkpoint is read in full and
// checked against the checksums. Only the last one may have a torn tail that
// is truncated away: a segment is fsynced before the next one is created, so
// damage anywhere else is corruption and an error.
func (w *WAL) recoverDir() error {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("wal: read directory: %w", err)
	}
	var firsts []uint64
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, tmpExt) {
			// A segment or checkpoint that never got its final name.
			if err := os.Remove(filepath.Join(w.dir, name)); err != nil {
				return fmt.Errorf("wal: remove leftover temporary file: %w", err)
			}
			continue
		}
		if first, ok := parseSegmentName(name); ok && e.Type().IsRegular() {
			firsts = append(firsts, first)
		}
	}
	sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })

	cp, err := readCheckpoint(w.dir)
	if err != nil {
		return err
	}
	w.checkpoint = cp

	if len(firsts) == 0 {
		return w.startFresh(cp+1, 0)
	}
	if firsts[0] > cp+1 {
		return fmt.Errorf("%w: records %d..%d are missing: the checkpoint is %d but the first segment is %s",
			ErrCorrupt, cp+1, firsts[0]-1, cp, filepath.Join(w.dir, segmentName(firsts[0])))
	}

	var base int64
	for i, first := range firsts {
		path := filepath.Join(w.dir, segmentName(first))
		if i == len(firsts)-1 {
			if err := w.recoverLast(first, path, base); err != nil {
				return err
			}
			break
		}
		last := firsts[i+1] - 1
		var size int64
		if last <= cp {
			// Wholly checkpointed, deleted below: only its size matters.
			st, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("wal: stat segment: %w", err)
			}
			size = st.Size()
		} else if size, err = checkOlderSegment(path, first, last); err != nil {
			return err
		}
		w.segs = append(w.segs, &segment{first: first, path: path, last: last, size: size, synced: size, base: base})
		base += size
	}

	if w.lastSeq < cp {
		// The log ends before the checkpoint: records the store has were
		// lost from the WAL (for instance a torn tail that was already
		// applied, which the reader's fsync rule should prevent). Continue
		// after the checkpoint so sequence numbers are never reused.
		w.log.Warn("the WAL ends before its checkpoint; continuing after the checkpoint", "last_seq", w.lastSeq, "checkpoint", cp)
		if err := w.f.Close(); err != nil {
			return fmt.Errorf("wal: close %s: %w", w.active.path, err)
		}
		w.f = nil
		if w.active.size == segmentHdrSize {
			if err := os.Remove(w.active.path); err != nil {
				return fmt.Errorf("wal: remove empty segment: %w", err)
			}
			w.segs = w.segs[:len(w.segs)-1]
		}
		var end int64
		if n := len(w.segs); n > 0 {
			end = w.segs[n-1].base + w.segs[n-1].size
		}
		if err := w.startFresh(cp+1, end); err != nil {
			return err
		}
	}

	// Drop segments the checkpoint has made useless (SetCheckpoint may have
	// been interrupted before deleting them).
	var old []*segment
	for i := 0; i+1 < len(w.segs) && w.segs[i+1].first-1 <= cp; i++ {
		old = append(old, w.segs[i])
	}
	return w.removeSegments(old)
}

// startFresh creates a new, empty active segment for first.
func (w *WAL) startFresh(first uint64, base int64) error {
	f, seg, err := w.createSegment(first, base)
	if err != nil {
		return err
	}
	w.f = f
	w.segs = append(w.segs, seg)
	w.active = seg
	w.lastSeq = first - 1
	w.durableSeq = first - 1
	return nil
}

// checkOlderSegment checks every record of a segment that is not the last
// one (it must hold first..last, intact) and returns its size. A segment is
// fsynced in full before the next one is created, so any damage here is
// corruption, never a torn write.
func checkOlderSegment(path string, first, last uint64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("wal: open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("wal: stat segment: %w", err)
	}
	h := make([]byte, segmentHdrSize)
	if _, err := f.ReadAt(h, 0); err != nil {
		return 0, fmt.Errorf("%w: segment %s at offset 0: header unreadable: %w", ErrCorrupt, path, err)
	}
	if err := checkSegmentHeader(h, first); err != nil {
		return 0, fmt.Errorf("%w: segment %s at offset 0: %w", ErrCorrupt, path, err)
	}
	end, got, problem, err := scanRecords(f, first, st.Size())
	if err != nil {
		return 0, fmt.Errorf("wal: read segment %s at offset %d: %w", path, end, err)
	}
	if problem != "" {
		return 0, fmt.Errorf("%w: segment %s at offset %d: %s (not the last segment, so this is not a torn tail)", ErrCorrupt, path, end, problem)
	}
	if got != last {
		return 0, fmt.Errorf("%w: segment %s ends with record %d at offset %d, but the next segment starts at %d", ErrCorrupt, path, got, end, last+1)
	}
	return st.Size(), nil
}

// recoverLast checks every record of the last segment, truncates a torn tail
// and leaves the segment open for appending.
func (w *WAL) recoverLast(first uint64, path string, base int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: open segment: %w", err)
	}
	w.f = f
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("wal: stat segment %s: %w", path, err)
	}
	size := st.Size()
	seg := &segment{first: first, path: path, last: first - 1, base: base}
	w.segs = append(w.segs, seg)
	w.active = seg

	h := make([]byte, segmentHdrSize)
	n, _ := f.ReadAt(h, 0)
	if herr := checkSegmentHeader(h[:n], first); herr != nil {
		if size > segmentHdrSize {
			return fmt.Errorf("%w: segment %s at offset 0: %w", ErrCorrupt, path, herr)
		}
		// Nothing but a (partial) header: a crash while the segment was
		// being created. Write the header again.
		w.log.Warn("rewriting the header of an empty segment left by a crash", "file", path, "size", size, "problem", herr)
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("wal: repair segment %s: %w", path, err)
		}
		if _, err := f.WriteAt(appendSegmentHeader(nil, first), 0); err != nil {
			return fmt.Errorf("wal: repair segment %s: %w", path, err)
		}
		size = segmentHdrSize
		w.stats.TornTailsRecovered++
	}

	end, last, problem, err := scanRecords(f, first, size)
	if err != nil {
		return fmt.Errorf("wal: read segment %s at offset %d: %w", path, end, err)
	}
	if problem != "" {
		off, seq, found, err := findSyncedRecord(f, end, size, last+1)
		if err != nil {
			return fmt.Errorf("wal: read segment %s after offset %d: %w", path, end, err)
		}
		if found {
			return fmt.Errorf("%w: segment %s at offset %d: %s; an intact record written after that data was fsynced follows at offset %d (seq %d), so this is not a torn tail: refusing to drop acknowledged records (move the file aside to inspect it)",
				ErrCorrupt, path, end, problem, off, seq)
		}
		w.log.Warn("truncating the torn tail of the last segment",
			"file", path, "offset", end, "dropped_bytes", size-end, "problem", problem, "last_seq", last)
		if err := f.Truncate(end); err != nil {
			return fmt.Errorf("wal: truncate torn tail of %s at offset %d: %w", path, end, err)
		}
		size = end
		w.stats.TornTailsRecovered++
	}
	// Whatever survived the crash may still be only in the page cache:
	// make it durable before readers (the store) may see it.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("wal: fsync %s: %w", path, err)
	}
	if err := syncDir(w.dir); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	seg.size, seg.synced, seg.last = size, size, last
	w.lastSeq, w.durableSeq = last, last
	return nil
}

// scanRecords reads the records of a segment from its header to size and
// returns the offset after the last good record, its sequence (first-1 if
// none) and, if the scan stopped at a damaged record, what was wrong. An I/O
// error is returned as such: it says nothing about the data.
func scanRecords(f *os.File, first uint64, size int64) (end int64, last uint64, problem string, err error) {
	end, last = segmentHdrSize, first-1
	br := bufio.NewReaderSize(io.NewSectionReader(f, segmentHdrSize, size-segmentHdrSize), 1<<20)
	h := make([]byte, recordHdrSize)
	var payload []byte
	for end < size {
		if size-end < recordHdrSize {
			return end, last, fmt.Sprintf("partial record header (%d bytes)", size-end), nil
		}
		if _, err := io.ReadFull(br, h); err != nil {
			return end, last, "", err
		}
		rh := parseRecordHeader(h)
		if rh.flags&^flagSyncedBefore != 0 {
			return end, last, fmt.Sprintf("unknown record flags %#x", rh.flags), nil
		}
		if rh.size > size-end-recordHdrSize {
			return end, last, fmt.Sprintf("partial record (length %d, %d bytes left)", rh.size, size-end-recordHdrSize), nil
		}
		if int64(cap(payload)) < rh.size {
			payload = make([]byte, rh.size)
		}
		payload = payload[:rh.size]
		if _, err := io.ReadFull(br, payload); err != nil {
			return end, last, "", err
		}
		if recordCRC(h, payload) != rh.crc {
			return end, last, "record checksum mismatch", nil
		}
		if rh.seq != last+1 {
			return end, last, fmt.Sprintf("record has seq %d, want %d", rh.seq, last+1), nil
		}
		end += recordHdrSize + rh.size
		last = rh.seq
	}
	return end, last, "", nil
}

// findSyncedRecord looks in [from, size) for an intact record carrying
// flagSyncedBefore with a sequence of at least minSeq. Finding one means the
// damage at from lies in data that had been fsynced: not a torn tail.
func findSyncedRecord(f *os.File, from, size int64, minSeq uint64) (off int64, seq uint64, found bool, err error) {
	const chunk = 1 << 20
	buf := make([]byte, chunk+recordHdrSize)
	// Records are at least recordHdrSize long: no sequence after the
	// damaged region can exceed this.
	maxSeq := minSeq + uint64((size-from)/recordHdrSize)
	var payload []byte
	for start := from; start+recordHdrSize <= size; start += chunk {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-start)], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, false, err
		}
		for p := 0; p+recordHdrSize <= n && p < chunk; p++ {
			h := buf[p : p+recordHdrSize]
			lf := binary.LittleEndian.Uint32(h[4:])
			if lf&^lengthMask != flagSyncedBefore {
				continue
			}
			s := binary.LittleEndian.Uint64(h[8:])
			if s < minSeq || s > maxSeq {
				continue
			}
			at := start + int64(p)
			plen := int64(lf & lengthMask)
			if plen > size-at-recordHdrSize {
				continue
			}
			if int64(cap(payload)) < plen {
				payload = make([]byte, plen)
			}
			payload = payload[:plen]
			if _, err := f.ReadAt(payload, at+recordHdrSize); err != nil && !(errors.Is(err, io.EOF) && plen == 0) {
				return 0, 0, false, err
			}
			if recordCRC(h, payload) == binary.LittleEndian.Uint32(h) {
				return at, s, true, nil
			}
		}
	}
	return 0, 0, false, nil
}
