package store

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestBlockClone: the copy is equal and shares no memory with the original,
// so overwriting the original's bytes leaves it intact.
func TestBlockClone(t *testing.T) {
	buf := []byte("_msgGET /a200")
	// The original's strings point into buf, as an engine block's do.
	view := func(lo, hi int) string { return unsafe.String(&buf[lo], hi-lo) }
	b := &Block{Columns: []Column{
		{Name: view(0, 4), Values: []string{view(4, 10), ""}},
		{Name: "status", Values: []string{view(10, 13), "404"}},
	}}
	c := b.Clone()
	if !reflect.DeepEqual(c, b) {
		t.Fatalf("clone %+v, want %+v", c, b)
	}
	clear(buf)
	if c.Columns[0].Name != "_msg" || c.Columns[0].Values[0] != "GET /a" || c.Columns[1].Values[0] != "200" {
		t.Fatalf("the clone changed with the original: %+v", c)
	}
	if (&Block{}).Clone().Rows() != 0 {
		t.Fatal("clone of an empty block has rows")
	}
}
