package wal

// In-memory handoff. A writer that appends a record usually still holds the
// decoded form of its payload (the receiver has the parsed batch), and the
// applier would otherwise read the record back from the files and decode it
// again. AppendWith attaches that value to the record; once the record is
// durable, a Reader that asks for it with NextRecord gets the value instead
// of reading the payload. The files stay the source of truth: the handoff is
// bounded by Options.HandoffBytes (a record that does not fit is simply not
// handed off, unless Options.HandoffWait lets its append wait for room
// while the reader is close behind), is lost on restart, and whenever the
// reader misses it (the value was not kept, or the reader is elsewhere) the
// record is read from the files as before.

// DefaultHandoffBytes is the default of Options.HandoffBytes.
const DefaultHandoffBytes = 32 << 20

// handoffEntry is a value attached to a written record, with where the
// record lies so that a reader can step over it without reading it.
type handoffEntry struct {
	seq      uint64
	seg      *segment
	off, end int64 // the record's header offset and the offset after it, in seg
	size     int64 // charged against Options.HandoffBytes
	v        any
}

// attachment is a value given to AppendWith and the memory it holds.
type attachment struct {
	v    any
	size int64
	// reserved: AppendWith waited for room (Options.HandoffWait), and
	// size is counted in handoffReserved until the record is written or
	// refused.
	reserved bool
}

// handoffFits reports whether size more bytes fit the handoff budget.
// Called with mu held.
func (w *WAL) handoffFits(size int64) bool {
	return w.opts.HandoffBytes > 0 && w.handoffBytes+w.handoffReserved+size <= w.opts.HandoffBytes
}

// readerClose reports whether the reader is close enough behind the writers
// for a wait for handoff room to pay off: it will take the kept values
// soon, instead of first reading older records from the files. Called
// with mu held.
func (w *WAL) readerClose() bool {
	return w.lagBytes() <= 2*w.opts.HandoffBytes
}

// releaseReservation returns a's reserved budget, if any. Called with mu
// held.
func (w *WAL) releaseReservation(a *attachment) {
	if !a.reserved {
		return
	}
	a.reserved = false
	w.handoffReserved -= a.size
	w.freedHandoffRoom()
}

// freedHandoffRoom wakes the appenders waiting for handoff room. Called
// with mu held.
func (w *WAL) freedHandoffRoom() {
	close(w.handoffRoom)
	w.handoffRoom = make(chan struct{})
}

// Record is one record returned by Reader.NextRecord.
type Record struct {
	Seq uint64
	// Payload is the record's payload, nil when Value was handed off. It is
	// valid until the next call.
	Payload []byte
	// Value is the value attached with AppendWith, when it was handed off.
	Value any
}

// offerHandoff keeps a's value for the record seq written at [off, end) of
// seg, if the budget allows. Called by the writer with mu held, in sequence
// order.
func (w *WAL) offerHandoff(seq uint64, seg *segment, off, end int64, a attachment) {
	if a.reserved {
		w.handoffReserved -= a.size // the room promised is taken now
	} else if !w.handoffFits(a.size) {
		w.stats.HandoffDropped++
		return
	}
	w.handoff = append(w.handoff, handoffEntry{seq: seq, seg: seg, off: off, end: end, size: a.size, v: a.v})
	w.handoffBytes += a.size
}

// dropHandoff forgets the values of records up to seq. Called with mu held.
// w.handoff[w.handoffHead:] are the entries kept, in sequence order; the
// slice is compacted once half of it is dead, so dropping is amortised O(1).
func (w *WAL) dropHandoff(seq uint64) {
	if w.handoffHead < len(w.handoff) && w.handoff[w.handoffHead].seq <= seq {
		defer w.freedHandoffRoom()
	}
	for w.handoffHead < len(w.handoff) && w.handoff[w.handoffHead].seq <= seq {
		w.handoffBytes -= w.handoff[w.handoffHead].size
		w.handoff[w.handoffHead] = handoffEntry{}
		w.handoffHead++
	}
	switch {
	case w.handoffHead == len(w.handoff):
		w.handoff, w.handoffHead = w.handoff[:0], 0
	case w.handoffHead >= 64 && w.handoffHead*2 >= len(w.handoff):
		n := copy(w.handoff, w.handoff[w.handoffHead:])
		clear(w.handoff[n:])
		w.handoff, w.handoffHead = w.handoff[:n], 0
	}
}

// takeHandoff returns the value kept for the record the reader is about to
// read (sequence exp at offset off of seg), removing it and every older
// one. Called with mu held.
func (w *WAL) takeHandoff(seg *segment, off int64, exp uint64) (handoffEntry, bool) {
	kept := w.handoff[w.handoffHead:]
	if len(kept) == 0 || kept[0].seq > exp {
		return handoffEntry{}, false
	}
	var h handoffEntry
	for _, e := range kept {
		if e.seq >= exp {
			if e.seq == exp {
				h = e
			}
			break
		}
	}
	w.dropHandoff(exp)
	if h.v == nil || h.seg != seg || h.off != off {
		return handoffEntry{}, false
	}
	return h, true
}
