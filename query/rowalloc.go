package query

import (
	"strconv"
	"unsafe"
)

// Row storage in chunks. Building a Row per message with its own make() was
// a fifth of the CPU time of an all-Go pipeline over the store (allocation
// and the garbage collector's work on millions of small slices); the types
// below carve rows and short strings out of chunks allocated per block.
//
// Every row handed out has cap == the size asked for, so an append by any
// later stage copies it instead of writing into its neighbour; the values of
// a chunk are never overwritten once handed out. A row kept by a later stage
// keeps its chunk alive, as its strings already keep the engine block they
// point into alive (store/embedded copies a block into one allocation).

// fieldChunks hands out rows from chunks of Fields.
type fieldChunks struct {
	buf []Field
	// next is the size of the next chunk when the hint is not known.
	next int
}

// reset forgets the current chunk, so that rows built for the next block do
// not share a chunk with this one.
func (c *fieldChunks) reset() {
	c.buf = nil
	c.next = 0
}

// alloc returns an empty row with room for exactly n fields. rest is how
// many more rows of about this size the caller may still ask for (the
// block's remaining rows), which bounds the next chunk; chunks start small
// and double, so a stage that keeps few of its rows wastes little.
func (c *fieldChunks) alloc(n, rest int) Row {
	if cap(c.buf)-len(c.buf) < n {
		rows := max(c.next, 16)
		c.next = min(rows*2, 1024)
		rows = min(rows, max(rest, 1))
		c.buf = make([]Field, 0, max(rows*n, n))
	}
	start := len(c.buf)
	c.buf = c.buf[:start+n]
	return c.buf[start : start : start+n]
}

// byteChunk holds the text of numbers formatted for one block.
type byteChunk struct{ buf []byte }

// formatInt returns the decimal text of v, stored in the chunk. The chunk
// never grows in place (it would move the bytes earlier strings point to):
// when it is full a new one is allocated.
func (c *byteChunk) formatInt(v int64, rest int) string {
	const maxLen = 20 // -9223372036854775808
	if cap(c.buf)-len(c.buf) < maxLen {
		c.buf = make([]byte, 0, maxLen*max(min(rest, 4096), 1))
	}
	start := len(c.buf)
	c.buf = strconv.AppendInt(c.buf, v, 10)
	return unsafe.String(&c.buf[start], len(c.buf)-start)
}

// stringChunk copies strings into one allocation (sized by the caller), so
// that rows built from an engine block whose memory the engine reuses own
// their text.
type stringChunk struct{ buf []byte }

// copy returns a copy of s held in the chunk. Like formatInt it never grows
// the chunk in place; a string that does not fit gets its own allocation.
func (c *stringChunk) copy(s string) string {
	if s == "" {
		return ""
	}
	if cap(c.buf)-len(c.buf) < len(s) {
		return string([]byte(s))
	}
	start := len(c.buf)
	c.buf = append(c.buf, s...)
	return unsafe.String(&c.buf[start], len(s))
}
