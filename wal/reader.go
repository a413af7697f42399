package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// readBufSize is the size of a Reader's read buffer; larger payloads are
// read on their own.
const readBufSize = 1 << 20

// Reader iterates over the records of a WAL straight from its files, in
// sequence order, following the tail: when it has read everything durable it
// waits for more. It sees a record only once the record is fsynced. A Reader
// is not safe for concurrent use.
type Reader struct {
	w    *WAL
	next uint64 // the first sequence still wanted

	seg *segment
	f   *os.File
	off int64  // offset of the next record in f
	exp uint64 // sequence expected at off

	buf    []byte // bytes of f from bufOff on
	bufOff int64
	big    []byte // payloads larger than the buffer
	err    error  // sticky
}

// NewReader returns a reader of the records with sequence > after.
func (w *WAL) NewReader(after uint64) *Reader {
	return &Reader{w: w, next: after + 1}
}

// Next returns the next record. The payload is valid until the next call.
// It blocks until a record is available; it returns ctx.Err() when ctx ends
// first, ErrClosed when the WAL is closed and every record has been read,
// and an error wrapping ErrCorrupt (naming the file and offset) when a
// record is damaged.
func (r *Reader) Next(ctx context.Context) (uint64, []byte, error) {
	rec, err := r.next1(ctx, false)
	return rec.Seq, rec.Payload, err
}

// NextRecord is Next that takes the record's value from the in-memory
// handoff when AppendWith attached one and it is still kept (see
// handoff.go); the record is then not read from the files, and Payload is
// nil. Otherwise the payload is read as Next reads it. Use it from one
// reader per WAL: it consumes the values it passes.
func (r *Reader) NextRecord(ctx context.Context) (Record, error) {
	return r.next1(ctx, true)
}

func (r *Reader) next1(ctx context.Context, handoff bool) (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	w := r.w
	for {
		if err := ctx.Err(); err != nil {
			return Record{}, err
		}
		if r.f == nil {
			if err := r.openSegment(); err != nil {
				r.err = err
				return Record{}, err
			}
		}
		w.mu.Lock()
		limit := r.seg.synced
		complete := r.seg != w.active
		stopped := w.stopped
		notify := w.notify
		if handoff && r.off < limit && r.exp >= r.next {
			if h, ok := w.takeHandoff(r.seg, r.off, r.exp); ok && h.end <= limit {
				r.off = h.end
				r.exp++
				r.next = h.seq + 1
				w.ring[h.seq%ringSize] = ringEntry{seq: h.seq, end: r.seg.base + r.off}
				w.stats.HandoffHits++
				w.mu.Unlock()
				return Record{Seq: h.seq, Value: h.v}, nil
			}
		}
		w.mu.Unlock()

		if r.off < limit {
			seq, payload, err := r.readRecord(limit)
			if err != nil {
				r.err = err
				return Record{}, err
			}
			if seq < r.next {
				continue
			}
			r.next = seq + 1
			w.noteRead(seq, r.seg.base+r.off, handoff)
			return Record{Seq: seq, Payload: payload}, nil
		}
		if complete {
			// Read to the end of a full segment: go on with the next.
			r.closeFile()
			continue
		}
		if stopped {
			return Record{}, ErrClosed
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return Record{}, ctx.Err()
		}
	}
}

// Close releases the reader's file and buffers. A later Next starts again
// from the record after the last one returned.
func (r *Reader) Close() error {
	r.closeFile()
	r.seg, r.buf, r.big = nil, nil, nil
	return nil
}

func (r *Reader) closeFile() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	r.buf = r.buf[:0]
}

// openSegment opens the segment holding the next record to read: the one
// holding r.next for a new reader, the one after r.seg otherwise.
func (r *Reader) openSegment() error {
	w := r.w
	target := r.next
	if r.seg != nil {
		target = r.exp
	}
	w.mu.Lock()
	i := sort.Search(len(w.segs), func(i int) bool { return w.segs[i].first > target }) - 1
	var seg *segment
	if i >= 0 {
		seg = w.segs[i]
	}
	oldest := w.segs[0].first
	w.mu.Unlock()
	if seg == nil {
		return fmt.Errorf("wal: cannot read record %d: it was deleted (the oldest segment starts at %d)", target, oldest)
	}
	if r.seg != nil && seg.first != target {
		return fmt.Errorf("%w: segment %s ends before record %d, and the next segment starts at %d",
			ErrCorrupt, r.seg.path, target, seg.first)
	}
	f, err := os.Open(seg.path)
	if err != nil {
		return fmt.Errorf("wal: open segment for reading (records after %d): %w", target-1, err)
	}
	h := make([]byte, segmentHdrSize)
	if _, err := f.ReadAt(h, 0); err != nil {
		f.Close()
		return fmt.Errorf("wal: read segment %s at offset 0: %w", seg.path, err)
	}
	if err := checkSegmentHeader(h, seg.first); err != nil {
		f.Close()
		return fmt.Errorf("%w: segment %s at offset 0: %w", ErrCorrupt, seg.path, err)
	}
	r.seg, r.f, r.off, r.exp = seg, f, segmentHdrSize, seg.first
	r.buf, r.bufOff = r.buf[:0], 0
	return nil
}

func (r *Reader) corrupt(off int64, format string, args ...any) error {
	return fmt.Errorf("%w: segment %s at offset %d: %s", ErrCorrupt, r.seg.path, off, fmt.Sprintf(format, args...))
}

// readRecord reads the record at r.off, which lies before limit. Records
// before r.next are skipped without reading their payload.
func (r *Reader) readRecord(limit int64) (uint64, []byte, error) {
	start := r.off
	if limit-start < recordHdrSize {
		return 0, nil, r.corrupt(start, "partial record header (%d bytes)", limit-start)
	}
	hb, err := r.bytes(start, recordHdrSize, limit)
	if err != nil {
		return 0, nil, err
	}
	var h [recordHdrSize]byte
	copy(h[:], hb)
	rh := parseRecordHeader(h[:])
	if rh.flags&^flagSyncedBefore != 0 {
		return 0, nil, r.corrupt(start, "unknown record flags %#x", rh.flags)
	}
	if rh.size > limit-start-recordHdrSize {
		return 0, nil, r.corrupt(start, "record length %d runs past the end of the data (%d bytes left)", rh.size, limit-start-recordHdrSize)
	}
	if rh.seq != r.exp {
		return 0, nil, r.corrupt(start, "record has seq %d, want %d", rh.seq, r.exp)
	}
	r.off = start + recordHdrSize + rh.size
	r.exp++
	if rh.seq < r.next {
		return rh.seq, nil, nil
	}
	payload, err := r.bytes(start+recordHdrSize, rh.size, limit)
	if err != nil {
		return 0, nil, err
	}
	if recordCRC(h[:], payload) != rh.crc {
		return 0, nil, r.corrupt(start, "checksum mismatch in record %d", rh.seq)
	}
	return rh.seq, payload, nil
}

// bytes returns n bytes of the file at off (off+n <= limit), from the
// buffer when it has them. Only bytes before limit (durable, never
// rewritten) are ever buffered.
func (r *Reader) bytes(off, n, limit int64) ([]byte, error) {
	if off >= r.bufOff && off+n <= r.bufOff+int64(len(r.buf)) {
		return r.buf[off-r.bufOff : off-r.bufOff+n], nil
	}
	if n > readBufSize {
		if int64(cap(r.big)) < n {
			r.big = make([]byte, n)
		}
		r.big = r.big[:n]
		if _, err := r.f.ReadAt(r.big, off); err != nil {
			return nil, r.readErr(off, err)
		}
		return r.big, nil
	}
	if r.buf == nil {
		r.buf = make([]byte, 0, readBufSize)
	}
	m := min(int64(readBufSize), limit-off)
	got, err := r.f.ReadAt(r.buf[:m], off)
	if int64(got) < n {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		r.buf = r.buf[:0]
		return nil, r.readErr(off, err)
	}
	r.buf, r.bufOff = r.buf[:got], off
	return r.buf[:n], nil
}

func (r *Reader) readErr(off int64, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.corrupt(off, "file is shorter than the WAL wrote it")
	}
	return fmt.Errorf("wal: read segment %s at offset %d: %w", r.seg.path, off, err)
}
