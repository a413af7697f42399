package event

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// codecVersion is the first byte of every encoded batch. Bump it when the
// layout changes and keep decoding the old one: WAL files outlive binaries.
//
// Version 1: the batch header (tenant, receipt time, source, custom fields),
// then per event its time, _raw, format and fields, every string written
// out in full.
//
// Version 2 (written since): the same header; per event its time and _raw
// in full, then the format and the field names as symbols (a string is
// written in full the first time it occurs in the batch and by its index
// afterwards: CloudTrail records repeat the same ~16 names), and field
// values that lie inside the event's _raw (most ingest-time JSON values are
// slices of it) as an offset and length into it. For JSON events that is
// about 40% fewer bytes to encode, checksum, write and read back.
const (
	codecV1      = 1
	codecV2      = 2
	codecVersion = codecV2
)

// EncodedSize returns an upper bound of the length of b's binary encoding,
// to size the buffer AppendBinary fills without growing it.
func (b *Batch) EncodedSize() int {
	const varint = binary.MaxVarintLen64
	n := 1 + 2*varint
	s := &b.Source
	n += 6*varint + len(s.ID) + len(s.Name) + len(s.Category) + len(s.Host) + len(s.FileName) + len(s.Collector)
	fields := func(fs []Field) int {
		m := varint
		for _, f := range fs {
			m += 2*varint + len(f.Name) + len(f.Value)
		}
		return m
	}
	n += fields(b.Fields) + varint
	for i := range b.Events {
		e := &b.Events[i]
		n += 3*varint + len(e.Raw) + len(e.Format) + fields(e.Fields)
	}
	return n
}

// AppendBinary appends the binary encoding of b to dst and returns the result.
// The encoding is what the WAL stores; Decode reverses it.
func (b *Batch) AppendBinary(dst []byte) []byte {
	dst = appendHeader(dst, codecV2, b)
	dst = binary.AppendUvarint(dst, uint64(len(b.Events)))
	var sy symbols
	for i := range b.Events {
		e := &b.Events[i]
		dst = binary.AppendVarint(dst, e.Time)
		dst = appendString(dst, e.Raw)
		dst = sy.append(dst, e.Format, -1)
		dst = binary.AppendUvarint(dst, uint64(len(e.Fields)))
		for k, f := range e.Fields {
			dst = sy.append(dst, f.Name, k)
			dst = appendValue(dst, f.Value, e.Raw)
		}
		sy.endEvent(len(e.Fields))
	}
	return dst
}

// appendBinaryV1 appends the version 1 encoding (kept to test that WAL
// files written by older binaries still decode).
func (b *Batch) appendBinaryV1(dst []byte) []byte {
	dst = appendHeader(dst, codecV1, b)
	dst = binary.AppendUvarint(dst, uint64(len(b.Events)))
	for i := range b.Events {
		e := &b.Events[i]
		dst = binary.AppendVarint(dst, e.Time)
		dst = appendString(dst, e.Raw)
		dst = appendString(dst, e.Format)
		dst = appendFields(dst, e.Fields)
	}
	return dst
}

func appendHeader(dst []byte, version byte, b *Batch) []byte {
	dst = append(dst, version)
	dst = binary.AppendUvarint(dst, uint64(b.Tenant))
	dst = binary.AppendVarint(dst, b.ReceiptTime)
	s := &b.Source
	for _, v := range [...]string{s.ID, s.Name, s.Category, s.Host, s.FileName, s.Collector} {
		dst = appendString(dst, v)
	}
	return appendFields(dst, b.Fields)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendFields(dst []byte, fs []Field) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(fs)))
	for _, f := range fs {
		dst = appendString(dst, f.Name)
		dst = appendString(dst, f.Value)
	}
	return dst
}

// symbols is the encoder's table of the strings written as symbols. A
// symbol is a uvarint x: 0 is the empty string; odd x is a new string of
// x>>1 bytes that follow, which gets the next index; even x is the string
// at index x>>1 - 1.
type symbols struct {
	index map[string]int
	n     int
	// The previous event's field names and their indexes: consecutive
	// events usually have the same names in the same order, which a string
	// comparison finds without hashing.
	prev, cur       []string
	prevIdx, curIdx []int
}

// append writes s as a symbol; k >= 0 is its position among the event's
// field names.
func (sy *symbols) append(dst []byte, s string, k int) []byte {
	if s == "" {
		return append(dst, 0)
	}
	idx := -1
	if k >= 0 && k < len(sy.prev) && sy.prev[k] == s {
		idx = sy.prevIdx[k]
	} else if i, ok := sy.index[s]; ok {
		idx = i
	}
	if k >= 0 {
		sy.cur = append(sy.cur, s)
	}
	if idx >= 0 {
		if k >= 0 {
			sy.curIdx = append(sy.curIdx, idx)
		}
		return binary.AppendUvarint(dst, uint64(idx+1)<<1)
	}
	if sy.index == nil {
		sy.index = make(map[string]int)
	}
	sy.index[s] = sy.n
	if k >= 0 {
		sy.curIdx = append(sy.curIdx, sy.n)
	}
	sy.n++
	dst = binary.AppendUvarint(dst, uint64(len(s))<<1|1)
	return append(dst, s...)
}

// endEvent makes the event's names the ones the next event is compared to.
func (sy *symbols) endEvent(n int) {
	if n == 0 {
		return
	}
	sy.prev, sy.cur = sy.cur, sy.prev[:0]
	sy.prevIdx, sy.curIdx = sy.curIdx, sy.prevIdx[:0]
}

// appendValue writes a field value: a uvarint x, odd for a slice of raw
// (offset x>>1, then a uvarint length), even for x>>1 bytes that follow. A
// slice is used only when it is shorter, so the encoding is never longer
// than a plain string (EncodedSize stays an upper bound).
func appendValue(dst []byte, v, raw string) []byte {
	if len(v) > 0 && len(raw) > 0 {
		vp := uintptr(unsafe.Pointer(unsafe.StringData(v)))
		rp := uintptr(unsafe.Pointer(unsafe.StringData(raw)))
		if vp >= rp && vp+uintptr(len(v)) <= rp+uintptr(len(raw)) {
			off := uint64(vp - rp)
			if uvarintLen(off<<1|1)+uvarintLen(uint64(len(v))) < uvarintLen(uint64(len(v))<<1)+len(v) {
				dst = binary.AppendUvarint(dst, off<<1|1)
				return binary.AppendUvarint(dst, uint64(len(v)))
			}
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(v))<<1)
	return append(dst, v...)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// ErrCorrupt is wrapped by every Decode error.
var ErrCorrupt = errors.New("corrupt batch encoding")

// Decode parses a batch encoded by AppendBinary. The returned batch does not
// reference src: all its strings share one copy of it.
func Decode(src []byte) (*Batch, error) {
	d := decoder{buf: string(src)}
	b := &Batch{}
	version := d.byte()
	if version != codecV1 && version != codecV2 {
		if d.err != nil {
			return nil, d.err
		}
		return nil, fmt.Errorf("%w: unknown version %d", ErrCorrupt, version)
	}
	b.Tenant = uint32(d.uvarint(1 << 32))
	b.ReceiptTime = d.varint()
	s := &b.Source
	for _, p := range [...]*string{&s.ID, &s.Name, &s.Category, &s.Host, &s.FileName, &s.Collector} {
		*p = d.string()
	}
	b.Fields = d.fields()
	n := d.uvarint(MaxBatchEvents + 1)
	if d.err == nil && n > MaxBatchEvents {
		return nil, fmt.Errorf("%w: %d events in one batch, over the limit of %d", ErrCorrupt, n, MaxBatchEvents)
	}
	if d.err == nil && n > uint64(len(d.buf)-d.pos) {
		// Every event takes at least a byte: refuse absurd counts before allocating.
		return nil, fmt.Errorf("%w: %d events announced in %d bytes", ErrCorrupt, n, len(d.buf)-d.pos)
	}
	if d.err != nil {
		return nil, d.err
	}
	b.Events = make([]Event, n)
	for i := range b.Events {
		e := &b.Events[i]
		e.Time = d.varint()
		e.Raw = d.string()
		if version == codecV1 {
			e.Format = d.string()
			e.Fields = d.fields()
		} else {
			e.Format = d.symbol()
			e.Fields = d.fieldsV2(e.Raw)
		}
		if d.err != nil {
			return nil, d.err
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.pos != len(d.buf) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.buf)-d.pos)
	}
	return b, nil
}

type decoder struct {
	buf  string
	pos  int
	err  error
	syms []string // version 2: the symbols read so far
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or invalid %s at byte %d", ErrCorrupt, what, d.pos)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || d.pos >= len(d.buf) {
		d.fail("header")
		return 0
	}
	c := d.buf[d.pos]
	d.pos++
	return c
}

func (d *decoder) uvarint(limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := uvarintString(d.buf[d.pos:])
	if n <= 0 || v > limit {
		d.fail("length")
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) varint() int64 {
	ux := d.uvarint(^uint64(0))
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) string() string {
	n := d.uvarint(uint64(len(d.buf)))
	if d.err != nil {
		return ""
	}
	return d.take(n, "string")
}

// take returns the next n bytes of the buffer, or fails on what when
// fewer are left.
func (d *decoder) take(n uint64, what string) string {
	if n > uint64(len(d.buf)-d.pos) {
		d.fail(what)
		return ""
	}
	s := d.buf[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

// fieldCount reads the number of fields that follow (each takes at least
// two bytes), 0 after an error.
func (d *decoder) fieldCount() int {
	n := d.uvarint(uint64(len(d.buf)))
	if d.err != nil || n == 0 {
		return 0
	}
	if n > uint64(len(d.buf)-d.pos)/2 {
		d.fail("field count")
		return 0
	}
	return int(n)
}

func (d *decoder) fields() []Field {
	n := d.fieldCount()
	if n == 0 {
		return nil
	}
	fs := make([]Field, n)
	for i := range fs {
		fs[i].Name = d.string()
		fs[i].Value = d.string()
	}
	return fs
}

// symbol reads a string written by symbols.append.
func (d *decoder) symbol() string {
	x := d.uvarint(uint64(len(d.buf))<<1 | 1)
	switch {
	case d.err != nil || x == 0:
		return ""
	case x&1 == 1:
		s := d.take(x>>1, "symbol")
		if d.err != nil {
			return ""
		}
		d.syms = append(d.syms, s)
		return s
	default:
		i := x>>1 - 1
		if i >= uint64(len(d.syms)) {
			d.fail("symbol reference")
			return ""
		}
		return d.syms[i]
	}
}

// fieldsV2 reads fields written by AppendBinary, values relative to raw.
func (d *decoder) fieldsV2(raw string) []Field {
	n := d.fieldCount()
	if n == 0 {
		return nil
	}
	fs := make([]Field, n)
	for i := range fs {
		fs[i].Name = d.symbol()
		x := d.uvarint(^uint64(0))
		if d.err != nil {
			return nil
		}
		if x&1 == 0 {
			if fs[i].Value = d.take(x>>1, "field value"); d.err != nil {
				return nil
			}
			continue
		}
		off, m := x>>1, d.uvarint(uint64(len(raw)))
		if d.err != nil {
			return nil
		}
		if off > uint64(len(raw)) || m > uint64(len(raw))-off {
			d.fail("field value reference")
			return nil
		}
		fs[i].Value = raw[off : off+m]
	}
	return fs
}

// uvarintString is binary.Uvarint over a string, to avoid converting the
// shared buffer back to bytes.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		if i == binary.MaxVarintLen64 {
			return 0, -(i + 1)
		}
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}
