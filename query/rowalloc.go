package query

import (
	"strconv"
	"strings"
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

// textChunk holds the text of the rows built from one block: copies of the
// engine's values and formatted numbers, in one allocation that
// strings.Builder does not zero. Its strings stay valid and unchanged: the
// builder only appends, and if it has to grow it copies into a new buffer
// and leaves the old one to the strings that point into it.
type textChunk struct{ b strings.Builder }

// grow makes room for n more bytes.
func (c *textChunk) grow(n int) { c.b.Grow(n) }

// copy returns a copy of s held in the chunk.
func (c *textChunk) copy(s string) string {
	if s == "" {
		return ""
	}
	start := c.b.Len()
	c.b.WriteString(s)
	return c.b.String()[start:]
}

// formatInt returns the decimal text of v, held in the chunk.
func (c *textChunk) formatInt(v int64) string {
	var d [20]byte // -9223372036854775808
	start := c.b.Len()
	c.b.Write(strconv.AppendInt(d[:0], v, 10))
	return c.b.String()[start:]
}
