package event

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// codecVersion is the first byte of every encoded batch. Bump it when the
// layout changes and keep decoding the old one: WAL files outlive binaries.
const codecVersion = 1

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
	dst = append(dst, codecVersion)
	dst = binary.AppendUvarint(dst, uint64(b.Tenant))
	dst = binary.AppendVarint(dst, b.ReceiptTime)
	s := &b.Source
	for _, v := range [...]string{s.ID, s.Name, s.Category, s.Host, s.FileName, s.Collector} {
		dst = appendString(dst, v)
	}
	dst = appendFields(dst, b.Fields)
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

// ErrCorrupt is wrapped by every Decode error.
var ErrCorrupt = errors.New("corrupt batch encoding")

// Decode parses a batch encoded by AppendBinary. The returned batch does not
// reference src: all its strings share one copy of it.
func Decode(src []byte) (*Batch, error) {
	d := decoder{buf: string(src)}
	b := &Batch{}
	if v := d.byte(); v != codecVersion {
		if d.err != nil {
			return nil, d.err
		}
		return nil, fmt.Errorf("%w: unknown version %d", ErrCorrupt, v)
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
		e.Format = d.string()
		e.Fields = d.fields()
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
	buf string
	pos int
	err error
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
	if n > uint64(len(d.buf)-d.pos) {
		d.fail("string")
		return ""
	}
	s := d.buf[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

func (d *decoder) fields() []Field {
	n := d.uvarint(uint64(len(d.buf)))
	if d.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(d.buf)-d.pos)/2 {
		d.fail("field count")
		return nil
	}
	fs := make([]Field, n)
	for i := range fs {
		fs[i].Name = d.string()
		fs[i].Value = d.string()
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
