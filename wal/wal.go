// Package wal is the durable queue between dohyo's receivers and the store.
//
// A receiver encodes a batch (event.Batch.AppendBinary) and calls
// WAL.Append (AppendWith, to also hand the parsed batch over in memory);
// once it returns, the batch is durable per the fsync policy and the client
// may be acknowledged. An Applier reads the WAL (taking a handed-over batch
// instead of reading and decoding the record when one is kept, see
// handoff.go) and hands the batches to the store, calls the store's Sync barrier
// periodically and advances the WAL's checkpoint; segments wholly below the
// checkpoint are deleted. After a crash, the Applier replays the batches after
// the checkpoint, skipping rows the store already has (by row id).
//
// # Group commit
//
// One goroutine owns the active segment file. Append copies the payload into
// the group being formed and waits for that group's completion; the writer
// takes the whole group, writes it with one write(2) and, under the Always
// policy, one fsync. The bytes queued for the writer are bounded
// (Options.MaxPending): Append waits for room, so memory stays bounded.
//
// # Visibility
//
// Readers see a record only once it is fsynced, whatever the policy. Under the
// interval policy an acknowledged record therefore reaches the store up to one
// interval later, but the store can never hold a row that a power loss could
// take out of the WAL, so sequence numbers are never reused for different
// data.
//
// # Write errors
//
// A failed write(2) (disk full, I/O error, short write) fails only the group
// being written: the segment is truncated back to its last good offset, the
// group's callers get the error and later appends are tried again, so a WAL
// on a full disk recovers by itself once space is freed. If that truncation
// fails, or an fsync fails (after which Linux may have dropped the dirty
// pages, leaving the file in an unknown state), the WAL enters a failed state:
// every later Append, Sync and Close returns an error wrapping ErrFailed,
// nothing more is acknowledged, and only reopening the WAL (which checks every
// record of the tail against its checksum) recovers.
package wal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

var (
	// ErrClosed is returned by Append after Close, and by Reader.Next once a
	// closed WAL has been read to its end.
	ErrClosed = errors.New("wal: closed")
	// ErrFailed is wrapped by every error returned after an I/O error left
	// the WAL in an unknown state; reopen the WAL to recover.
	ErrFailed = errors.New("wal: failed after an I/O error, reopen to recover")
	// ErrTooLarge is returned by Append for a payload over Options.MaxRecord.
	ErrTooLarge = errors.New("wal: record too large")
	// ErrCorrupt is wrapped by errors about damaged WAL files.
	ErrCorrupt = errors.New("wal: corrupt")
)

// Defaults for Options.
const (
	DefaultSegmentSize = 64 << 20
	DefaultMaxRecord   = 128 << 20
	DefaultMaxPending  = 64 << 20
)

// FsyncPolicy says when appended records are fsynced.
//
// Always: every group commit is fsynced before its callers are acknowledged.
// Otherwise: callers are acknowledged once the group is written (it survives
// the process being killed, since the page cache does) and the file is
// fsynced every Interval, so a power loss may lose up to Interval of
// acknowledged records. The zero value means Always.
type FsyncPolicy struct {
	Always   bool
	Interval time.Duration
}

func (p FsyncPolicy) always() bool { return p.Always || p.Interval <= 0 }

// String returns the policy in the form ParseFsyncPolicy accepts.
func (p FsyncPolicy) String() string {
	if p.always() {
		return "always"
	}
	return p.Interval.String()
}

// ParseFsyncPolicy parses "always" or a positive duration such as "100ms".
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "always") {
		return FsyncPolicy{Always: true}, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return FsyncPolicy{}, fmt.Errorf("fsync policy %q: want \"always\" or an interval such as \"100ms\"", s)
	}
	if d <= 0 {
		return FsyncPolicy{}, fmt.Errorf("fsync policy %q: the interval must be positive", s)
	}
	return FsyncPolicy{Interval: d}, nil
}

// Options configures a WAL.
type Options struct {
	// Dir holds the segment files and the checkpoint; created if missing.
	Dir string
	// SegmentSize: a new segment file is started when a group would take the
	// active one past this size. Default 64 MiB.
	SegmentSize int64
	// Fsync is the fsync policy; default Always.
	Fsync FsyncPolicy
	// MaxRecord is the largest payload Append accepts; default 128 MiB, at
	// most 1 GiB - 1.
	MaxRecord int64
	// MaxPending bounds the bytes queued for the writer; Append waits while
	// the queue is full. Default 64 MiB. A single record larger than this is
	// accepted when the queue is empty.
	MaxPending int64
	// Logger receives recovery and error messages; default slog.Default().
	Logger *slog.Logger
	// HandoffBytes bounds the memory of the values AppendWith keeps for a
	// reader (see NextRecord), as sized by its callers; default
	// DefaultHandoffBytes, negative to keep none.
	HandoffBytes int64
	// HandoffWait is how long AppendWith may wait for room in the handoff
	// budget before it appends without keeping its value; 0 never waits.
	// It waits only while the reader is close behind (Stats.LagBytes at
	// most twice HandoffBytes): a record that waits a little for the
	// reader is then handed over in memory, where one that does not would
	// be read back from the files and decoded again, work that competes
	// with the store for the CPU. When the reader is further behind (a
	// backlog, a replay), nothing waits and the files absorb the burst.
	HandoffWait time.Duration
}

// segmentFile is what the writer needs of the active segment's file (an
// *os.File; tests put faults in between).
type segmentFile interface {
	WriteAt(p []byte, off int64) (int, error)
	Truncate(size int64) error
	Sync() error
	Close() error
}

// segment describes one segment file. Fields other than first and path are
// guarded by WAL.mu and written only by the writer goroutine (and Open).
type segment struct {
	first uint64
	path  string
	// last is the sequence of the last record in the active segment
	// (first-1 when it has none). Older segments end at next.first-1.
	last uint64
	// size is the number of bytes written, synced the number known durable
	// (what readers may read).
	size, synced int64
	// base is the position of the segment's first byte in the WAL's byte
	// stream since Open (the sum of the sizes of the segments before it).
	base int64
}

// group is one group commit: the records queued while the writer was busy.
type group struct {
	// buf holds the records back to back. Until the writer fills the
	// header, its first 4 bytes hold the payload's CRC32C and bytes 4..8
	// its length.
	buf    []byte
	recs   []int        // offset of each record in buf
	attach []attachment // AppendWith's value of each record (nil values for Append); nil if none
	sync   bool         // a Sync call waits on this group: fsync even under the interval policy

	done  chan struct{}
	first uint64 // sequence of recs[0], set before done is closed
	err   error
}

const ringSize = 4096

// ringEntry maps a recent sequence number to the byte position just after it.
type ringEntry struct {
	seq uint64
	end int64
}

// WAL is a write-ahead log of opaque payloads with dense sequence numbers.
type WAL struct {
	opts Options
	dir  string
	log  *slog.Logger
	lock *os.File

	// Written by Open only.
	openSeq uint64 // last sequence when opened: what a replay covers

	mu         sync.Mutex
	segs       []*segment // by first; the last one is active
	active     *segment
	lastSeq    uint64 // last sequence written
	durableSeq uint64 // last sequence fsynced (visible to readers)
	checkpoint uint64
	applied    uint64
	appliedEnd int64 // stream position just after the applied record
	cur        *group
	spare      []byte
	space      chan struct{} // closed when the writer takes a group
	notify     chan struct{} // closed when readers may have new data
	closed     bool          // Close was called: no more appends
	stopped    bool          // the writer has finished: nothing more will come
	failed     error
	ring       [ringSize]ringEntry
	stats      Stats

	// In-memory handoff (handoff.go): values attached to durable-to-be
	// records, in sequence order from handoffHead.
	handoff      []handoffEntry
	handoffHead  int
	handoffBytes int64
	// handoffReserved is the budget promised to records that waited for
	// room and are queued but not yet written; handoffRoom is closed when
	// budget is freed.
	handoffReserved int64
	handoffRoom     chan struct{}

	cpMu sync.Mutex // serialises SetCheckpoint

	// Owned by the writer goroutine.
	f          segmentFile
	work       chan struct{}
	writerDone chan struct{}
}

// Stats describes the WAL's state.
type Stats struct {
	Segments  int   // segment files
	DiskBytes int64 // bytes in segment files
	LastSeq   uint64
	// DurableSeq is the last sequence known fsynced; readers see up to it.
	DurableSeq uint64
	Checkpoint uint64
	// AppliedSeq is the progress reported with MarkApplied.
	AppliedSeq uint64
	// LagBytes is the number of bytes appended after AppliedSeq. It is exact
	// while the applier is less than a few thousand records behind and
	// estimated (to within one segment) beyond that.
	LagBytes int64
	// PendingBytes are queued for the writer.
	PendingBytes int64
	// TornTailsRecovered counts damaged tails truncated away at Open
	// (including segments left header-less by a crash during a roll).
	TornTailsRecovered uint64
	GroupCommits       uint64
	Fsyncs             uint64
	Appends            uint64
	// HandoffHits counts records NextRecord returned from memory,
	// HandoffMisses those it read from the files, HandoffDropped values
	// AppendWith could not keep (over Options.HandoffBytes).
	HandoffHits, HandoffMisses, HandoffDropped uint64
	// HandoffWaits counts appends that waited for handoff room
	// (Options.HandoffWait).
	HandoffWaits uint64
	// HandoffBytes is the memory of the values kept now, as AppendWith's
	// callers sized it.
	HandoffBytes int64
	WriteErrors  uint64
	Failed       bool
}

// Open opens the WAL in opts.Dir, creating it if needed, and recovers it: a
// torn or corrupt tail of the last segment is truncated away, and every other
// inconsistency is an error naming the file and offset.
func Open(opts Options) (*WAL, error) {
	if opts.Dir == "" {
		return nil, errors.New("wal: Options.Dir is empty")
	}
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.MaxRecord <= 0 {
		opts.MaxRecord = DefaultMaxRecord
	}
	if opts.MaxRecord > maxRecordLimit {
		return nil, fmt.Errorf("wal: Options.MaxRecord %d is over the format's limit of %d", opts.MaxRecord, maxRecordLimit)
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.HandoffBytes == 0 {
		opts.HandoffBytes = DefaultHandoffBytes
	}
	if opts.Fsync.always() {
		opts.Fsync = FsyncPolicy{Always: true}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: create directory: %w", err)
	}
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	w := &WAL{
		opts:        opts,
		dir:         opts.Dir,
		log:         opts.Logger.With("component", "wal", "dir", opts.Dir),
		lock:        lock,
		space:       make(chan struct{}),
		handoffRoom: make(chan struct{}),
		notify:      make(chan struct{}),
		work:        make(chan struct{}, 1),
		writerDone:  make(chan struct{}),
	}
	if err := w.recoverDir(); err != nil {
		if w.f != nil {
			w.f.Close()
		}
		lock.Close()
		return nil, err
	}
	w.cur = w.newGroup()
	w.openSeq = w.lastSeq
	w.applied = w.checkpoint
	w.appliedEnd = w.endAfter(w.checkpoint)
	go w.writeLoop()
	return w, nil
}

// LastSeq returns the sequence of the last record appended.
func (w *WAL) LastSeq() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastSeq
}

// Checkpoint returns the highest sequence known persisted by the store.
func (w *WAL) Checkpoint() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.checkpoint
}

// Dir returns the WAL's directory.
func (w *WAL) Dir() string { return w.dir }

// Append writes payload as the next record and returns its sequence number
// once the record is durable per the fsync policy. Concurrent calls are
// committed together. The payload is copied; the caller may reuse it.
//
// If ctx ends while the record is queued, Append returns the context's error,
// but the record may still be written (the caller cannot tell; a retry may
// duplicate it).
func (w *WAL) Append(ctx context.Context, payload []byte) (uint64, error) {
	return w.AppendWith(ctx, payload, nil, 0)
}

// AppendWith is Append that also attaches v, the caller's decoded form of
// payload, to the record: a reader calling NextRecord may get v instead of
// reading and decoding the payload (handoff.go). v must not be modified
// afterwards. A nil v attaches nothing. size is the memory v holds, charged
// against Options.HandoffBytes while v is kept (at least len(payload)).
func (w *WAL) AppendWith(ctx context.Context, payload []byte, v any, size int64) (uint64, error) {
	if int64(len(payload)) > w.opts.MaxRecord {
		return 0, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(payload), w.opts.MaxRecord)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	crc := crc32.Checksum(payload, castagnoli)
	need := recordHdrSize + len(payload)
	att := attachment{v: v, size: max(size, int64(len(payload)))}
	var waitUntil time.Time
	waited := false
	if v != nil && w.opts.HandoffWait > 0 {
		waitUntil = time.Now().Add(w.opts.HandoffWait)
	}
	w.mu.Lock()
	for {
		if w.closed || w.failed != nil {
			w.releaseReservation(&att)
			err := w.failed
			if w.closed {
				err = ErrClosed
			}
			w.mu.Unlock()
			return 0, err
		}
		var wake <-chan struct{}
		var timeout time.Duration
		switch {
		case !waitUntil.IsZero() && !att.reserved:
			// Options.HandoffWait: reserve room in the handoff budget,
			// waiting for it while that may help.
			if w.handoffFits(att.size) {
				w.handoffReserved += att.size
				att.reserved = true
				continue
			}
			timeout = time.Until(waitUntil)
			if timeout <= 0 || att.size > w.opts.HandoffBytes || !w.readerClose() {
				// Stop waiting: v is kept only if room happens to be
				// free when the record is written.
				waitUntil = time.Time{}
				continue
			}
			wake = w.handoffRoom
			if !waited {
				waited = true
				w.stats.HandoffWaits++
			}
		case len(w.cur.recs) > 0 && int64(len(w.cur.buf)+need) > w.opts.MaxPending:
			wake = w.space
		}
		if wake == nil {
			break
		}
		w.mu.Unlock()
		var expired <-chan time.Time
		var t *time.Timer
		if timeout > 0 {
			t = time.NewTimer(timeout)
			expired = t.C
		}
		select {
		case <-wake:
		case <-expired:
		case <-ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
		w.mu.Lock()
		if err := ctx.Err(); err != nil {
			w.releaseReservation(&att)
			w.mu.Unlock()
			return 0, err
		}
	}
	g := w.cur
	idx := len(g.recs)
	off := len(g.buf)
	g.buf = append(g.buf, make([]byte, recordHdrSize)...)
	g.buf = append(g.buf, payload...)
	binary.LittleEndian.PutUint32(g.buf[off:], crc)
	binary.LittleEndian.PutUint32(g.buf[off+4:], uint32(len(payload)))
	g.recs = append(g.recs, off)
	if v != nil && g.attach == nil {
		g.attach = make([]attachment, idx, idx+1)
	}
	if g.attach != nil {
		g.attach = append(g.attach, att)
	}
	if idx == 0 {
		w.kick()
	}
	w.mu.Unlock()

	select {
	case <-g.done:
	case <-ctx.Done():
		return 0, fmt.Errorf("wal: stopped waiting for the commit (the record may still be written): %w", ctx.Err())
	}
	if g.err != nil {
		return 0, g.err
	}
	return g.first + uint64(idx), nil
}

// Sync writes every queued record and fsyncs the active segment, whatever
// the policy; the records appended before the call are then visible to
// readers.
func (w *WAL) Sync() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	if w.failed != nil {
		err := w.failed
		w.mu.Unlock()
		return err
	}
	g := w.cur
	g.sync = true
	w.kick()
	w.mu.Unlock()
	<-g.done
	return g.err
}

// kick wakes the writer. Called with mu held.
func (w *WAL) kick() {
	select {
	case w.work <- struct{}{}:
	default:
	}
}

// broadcast wakes the readers. Called with mu held.
func (w *WAL) broadcast() {
	close(w.notify)
	w.notify = make(chan struct{})
}

func (w *WAL) newGroup() *group {
	g := &group{buf: w.spare[:0], done: make(chan struct{})}
	w.spare = nil
	return g
}

// maxSpare is the largest group buffer kept for reuse.
const maxSpare = 16 << 20

func (w *WAL) writeLoop() {
	defer close(w.writerDone)
	var tick <-chan time.Time
	if !w.opts.Fsync.always() {
		t := time.NewTicker(w.opts.Fsync.Interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-w.work:
		case <-tick:
			if err := w.syncActive(); err != nil {
				w.log.Error("periodic fsync failed", "err", err)
			}
			continue
		}
		for {
			w.mu.Lock()
			g := w.cur
			if len(g.recs) == 0 && !g.sync {
				closing := w.closed
				w.mu.Unlock()
				if closing {
					w.finish()
					return
				}
				break
			}
			w.cur = w.newGroup()
			close(w.space)
			w.space = make(chan struct{})
			w.mu.Unlock()

			w.commit(g)

			if cap(g.buf) <= maxSpare {
				w.mu.Lock()
				w.spare = g.buf[:0]
				w.mu.Unlock()
			}
		}
	}
}

// commit writes one group and completes it.
func (w *WAL) commit(g *group) {
	defer close(g.done)
	if err := w.failedErr(); err != nil {
		g.err = err
		w.releaseGroup(g)
		return
	}
	if len(g.recs) > 0 {
		if err := w.writeGroup(g); err != nil {
			g.err = err
			w.releaseGroup(g)
			return
		}
	}
	if w.opts.Fsync.always() || g.sync {
		if err := w.syncActive(); err != nil {
			g.err = err
		}
	}
}

// releaseGroup returns the handoff room reserved by the records of a
// group that was not written.
func (w *WAL) releaseGroup(g *group) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range g.attach {
		w.releaseReservation(&g.attach[i])
	}
}

func (w *WAL) failedErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// fail puts the WAL in the failed state.
func (w *WAL) fail(cause error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed == nil {
		w.failed = fmt.Errorf("%w: %w", ErrFailed, cause)
		w.stats.Failed = true
		w.log.Error("WAL failed; appends are refused until it is reopened", "err", cause)
		close(w.space)
		w.space = make(chan struct{})
		w.freedHandoffRoom()
	}
	return w.failed
}

// writeGroup writes the group's records to the active segment, rolling to a
// new segment first if the group would take the active one past the size.
func (w *WAL) writeGroup(g *group) error {
	seg := w.active
	need := int64(len(g.buf))
	if seg.size > segmentHdrSize && seg.size+need > w.opts.SegmentSize {
		if err := w.roll(); err != nil {
			return err
		}
		seg = w.active
	}
	first := w.lastSeq + 1
	var flags uint32
	if seg.synced == seg.size {
		flags = flagSyncedBefore
	}
	for i, off := range g.recs {
		end := len(g.buf)
		if i+1 < len(g.recs) {
			end = g.recs[i+1]
		}
		h := g.buf[off : off+recordHdrSize]
		putRecordHeader(h, binary.LittleEndian.Uint32(h), flags, end-off-recordHdrSize, first+uint64(i))
		flags = 0
	}
	if _, err := w.f.WriteAt(g.buf, seg.size); err != nil {
		werr := fmt.Errorf("wal: write %d bytes to %s at offset %d: %w", need, seg.path, seg.size, err)
		w.mu.Lock()
		w.stats.WriteErrors++
		w.mu.Unlock()
		if terr := w.f.Truncate(seg.size); terr != nil {
			return w.fail(fmt.Errorf("%w; truncating back to offset %d failed too: %w", werr, seg.size, terr))
		}
		w.log.Error("write failed; the group was refused and the segment truncated back", "file", seg.path, "offset", seg.size, "err", err)
		return werr
	}
	n := uint64(len(g.recs))
	w.mu.Lock()
	for i := range g.recs {
		end := int64(len(g.buf))
		if i+1 < len(g.recs) {
			end = int64(g.recs[i+1])
		}
		seq := first + uint64(i)
		w.ring[seq%ringSize] = ringEntry{seq: seq, end: seg.base + seg.size + end}
		if g.attach != nil && g.attach[i].v != nil {
			w.offerHandoff(seq, seg, seg.size+int64(g.recs[i]), seg.size+end, g.attach[i])
			g.attach[i] = attachment{}
		}
	}
	seg.size += need
	seg.last = first + n - 1
	w.lastSeq = seg.last
	w.stats.GroupCommits++
	w.stats.Appends += n
	w.mu.Unlock()
	g.first = first
	return nil
}

// syncActive fsyncs the active segment if it has unsynced bytes and makes
// them visible to readers.
func (w *WAL) syncActive() error {
	if err := w.failedErr(); err != nil {
		return err
	}
	seg := w.active
	if seg.synced == seg.size {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return w.fail(fmt.Errorf("fsync %s: %w", seg.path, err))
	}
	w.mu.Lock()
	seg.synced = seg.size
	w.durableSeq = seg.last
	w.stats.Fsyncs++
	w.broadcast()
	w.mu.Unlock()
	return nil
}

// roll fsyncs the active segment and starts a new one after it.
func (w *WAL) roll() error {
	if err := w.syncActive(); err != nil {
		return err
	}
	old := w.active
	first := old.last + 1
	f, seg, err := w.createSegment(first, old.base+old.size)
	if err != nil {
		return err
	}
	if err := w.f.Close(); err != nil {
		w.log.Warn("closing a full segment failed", "file", old.path, "err", err)
	}
	w.f = f
	w.mu.Lock()
	w.segs = append(w.segs, seg)
	w.active = seg
	w.broadcast()
	w.mu.Unlock()
	return nil
}

// createSegment creates the segment file for first durably: written under a
// temporary name, fsynced, renamed, and the directory fsynced. Errors before
// the rename leave the WAL as it was; an error after it is a failure.
func (w *WAL) createSegment(first uint64, base int64) (segmentFile, *segment, error) {
	path := filepath.Join(w.dir, segmentName(first))
	tmp := path + tmpExt
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("wal: create segment %s: %w", tmp, err)
	}
	undo := func(err error) (segmentFile, *segment, error) {
		f.Close()
		os.Remove(tmp)
		return nil, nil, fmt.Errorf("wal: create segment %s: %w", tmp, err)
	}
	if _, err := f.WriteAt(appendSegmentHeader(nil, first), 0); err != nil {
		return undo(err)
	}
	if err := f.Sync(); err != nil {
		return undo(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return undo(err)
	}
	if err := syncDir(w.dir); err != nil {
		f.Close()
		return nil, nil, w.fail(fmt.Errorf("create segment %s: %w", path, err))
	}
	seg := &segment{first: first, path: path, last: first - 1, size: segmentHdrSize, synced: segmentHdrSize, base: base}
	return f, seg, nil
}

// finish is the writer's last act: fsync and close the active segment.
func (w *WAL) finish() {
	if err := w.syncActive(); err != nil {
		w.log.Error("final fsync failed", "err", err)
	}
	if err := w.f.Close(); err != nil {
		if w.failedErr() == nil {
			w.fail(fmt.Errorf("close %s: %w", w.active.path, err))
		}
	}
	w.mu.Lock()
	w.stopped = true
	w.broadcast()
	w.mu.Unlock()
}

// Close writes and fsyncs every queued record and stops the WAL. Readers can
// still read what was written; their Next returns ErrClosed at the end.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.writerDone
		return nil
	}
	w.closed = true
	w.kick()
	w.freedHandoffRoom() // appends waiting for room give up now
	w.mu.Unlock()
	<-w.writerDone
	w.lock.Close()
	return w.failedErr()
}

// SetCheckpoint records that the store has persisted every record up to seq:
// it writes the checkpoint file atomically and deletes the segment files
// whose records are all at or below seq (never the active one). A seq at or
// below the current checkpoint is ignored.
func (w *WAL) SetCheckpoint(seq uint64) error {
	w.cpMu.Lock()
	defer w.cpMu.Unlock()
	w.mu.Lock()
	cur, durable, closed := w.checkpoint, w.durableSeq, w.stopped
	w.mu.Unlock()
	if seq <= cur {
		return nil
	}
	if closed {
		return ErrClosed
	}
	if seq > durable {
		return fmt.Errorf("wal: checkpoint %d is beyond the last durable record %d", seq, durable)
	}
	if err := writeCheckpoint(w.dir, seq); err != nil {
		return err
	}
	w.mu.Lock()
	w.checkpoint = seq
	if w.applied < seq {
		w.applied = seq
		w.appliedEnd = w.endAfter(seq)
	}
	w.dropHandoff(seq)
	var old []*segment
	for i := 0; i+1 < len(w.segs) && w.segs[i+1].first-1 <= seq; i++ {
		old = append(old, w.segs[i])
	}
	w.mu.Unlock()
	return w.removeSegments(old)
}

// removeSegments deletes segment files and drops them from the list.
func (w *WAL) removeSegments(old []*segment) error {
	var firstErr error
	gone := make(map[*segment]bool, len(old))
	for _, s := range old {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.log.Warn("cannot delete a checkpointed segment", "file", s.path, "err", err)
			if firstErr == nil {
				firstErr = fmt.Errorf("wal: delete checkpointed segment: %w", err)
			}
			continue
		}
		gone[s] = true
	}
	if len(gone) > 0 {
		w.mu.Lock()
		kept := w.segs[:0]
		for _, s := range w.segs {
			if !gone[s] {
				kept = append(kept, s)
			}
		}
		clear(w.segs[len(kept):])
		w.segs = kept
		w.mu.Unlock()
	}
	return firstErr
}

// MarkApplied records the applier's progress: every record up to seq is in
// the store (not necessarily durable there). It drives Stats.LagBytes.
func (w *WAL) MarkApplied(seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seq > w.applied {
		w.applied = seq
		w.appliedEnd = w.endAfter(seq)
	}
	w.dropHandoff(seq)
}

// endAfter returns the stream position just after the record seq: exact for
// recent records, else interpolated within its segment. Called with mu held.
func (w *WAL) endAfter(seq uint64) int64 {
	if e := w.ring[seq%ringSize]; e.seq == seq && seq != 0 {
		return e.end
	}
	if len(w.segs) == 0 {
		return 0
	}
	i := sort.Search(len(w.segs), func(i int) bool { return w.segs[i].first > seq }) - 1
	if i < 0 {
		return w.segs[0].base + segmentHdrSize
	}
	s := w.segs[i]
	last := s.last
	if i+1 < len(w.segs) {
		last = w.segs[i+1].first - 1
	}
	if seq >= last || last < s.first {
		return s.base + s.size
	}
	body := s.size - segmentHdrSize
	return s.base + segmentHdrSize + int64(float64(body)*float64(seq-s.first+1)/float64(last-s.first+1))
}

// noteRead records the position after a record a reader has read, so that
// MarkApplied can map it exactly.
// A handoff reader's read counts as a handoff miss.
func (w *WAL) noteRead(seq uint64, end int64, handoffMiss bool) {
	w.mu.Lock()
	w.ring[seq%ringSize] = ringEntry{seq: seq, end: end}
	if handoffMiss {
		w.stats.HandoffMisses++
	}
	w.mu.Unlock()
}

// lagBytes is Stats.LagBytes. Called with mu held.
func (w *WAL) lagBytes() int64 {
	if w.applied < w.lastSeq && w.active != nil {
		return max(w.active.base+w.active.size-w.appliedEnd, 0)
	}
	return 0
}

// Stats returns the WAL's counters and sizes.
func (w *WAL) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats
	s.Segments = len(w.segs)
	for _, seg := range w.segs {
		s.DiskBytes += seg.size
	}
	s.LastSeq = w.lastSeq
	s.DurableSeq = w.durableSeq
	s.Checkpoint = w.checkpoint
	s.AppliedSeq = w.applied
	s.LagBytes = w.lagBytes()
	s.PendingBytes = int64(len(w.cur.buf))
	s.HandoffBytes = w.handoffBytes
	return s
}
