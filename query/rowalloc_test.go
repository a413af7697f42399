package query

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/store"
)

// TestBuildMessagesTimes: _messageTime is the epoch milliseconds of the
// engine's _time and the hidden time its nanoseconds, for times before,
// at and after the points where the text of the milliseconds is not a
// prefix of the nanoseconds' text.
func TestBuildMessagesTimes(t *testing.T) {
	for _, ns := range []int64{0, 1, 999999, 1000000, 1000001, 123456789, 1748822400123456789, -1, -1000000, -1500000} {
		text := time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
		for _, own := range []bool{false, true} {
			rows, err := buildMessages(&store.Block{Columns: []store.Column{{Name: "_time", Values: []string{text, text}}}}, own, own, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if got, want := r.Get("_messageTime"), strconv.FormatInt(time.Unix(0, ns).UnixMilli(), 10); got != want {
					t.Errorf("%d: _messageTime %q, want %q", ns, got, want)
				}
				if got, want := r.Get(hiddenTimeField), strconv.FormatInt(ns, 10); got != want {
					t.Errorf("%d: hidden time %q, want %q", ns, got, want)
				}
			}
		}
	}
}

// TestCompactRows: a compact row has the fixed fields with a value, in
// their order, then the others and the hidden ones; parse and assignments
// on it keep that layout and the values of a full row.
func TestCompactRows(t *testing.T) {
	if isFixedField("_dohyo.rid") || isFixedField("size") {
		t.Error("isFixedField takes a field that is not fixed")
	}
	b := &store.Block{Columns: []store.Column{
		{Name: "_time", Values: []string{"2025-06-02T10:00:00Z", "2025-06-02T10:00:01Z"}},
		{Name: store.MessageField, Values: []string{`"GET /a" 200 5123`, ""}},
		{Name: storageField("_sourceHost"), Values: []string{"", "h2"}},
		{Name: "zz", Values: []string{"1", ""}},
	}}
	full, err := buildMessages(b, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	compact, err := buildMessages(b, true, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantNames := [][]string{
		{"_raw", "_messageTime", "zz", hiddenTimeField, hiddenRowID},
		{"_messageTime", "_sourceHost", hiddenTimeField, hiddenRowID},
	}
	for i, r := range compact {
		var names []string
		for _, f := range r {
			names = append(names, f.Name)
		}
		if strings.Join(names, " ") != strings.Join(wantNames[i], " ") {
			t.Errorf("row %d: fields %v, want %v", i, names, wantNames[i])
		}
		if fixedPrefix(r) != map[int]int{0: 2, 1: 2}[i] || fixedPrefix(full[i]) != len(fixedMessageFields) {
			t.Errorf("row %d: fixed prefix %d (full %d)", i, fixedPrefix(r), fixedPrefix(full[i]))
		}
		for _, f := range full[i] {
			if r.Get(f.Name) != f.Value {
				t.Errorf("row %d: %s = %q, full row %q", i, f.Name, r.Get(f.Name), f.Value)
			}
		}
		// New fields go after the fixed ones, in name order, before
		// the hidden ones; a replaced field is not duplicated.
		p := setSortedFields(r, []string{"zz", "a"}, []int{1, 0}, []string{"y", "x"})
		if p.Get("a") != "x" || p.Get("zz") != "y" || len(p) != len(r)+2-boolInt(r.Get("zz") != "") || p.Get("_messageTime") != r.Get("_messageTime") {
			t.Errorf("row %d: parse on a compact row: %v", i, p)
		}
		if p[len(p)-1].Name != hiddenRowID {
			t.Errorf("row %d: hidden fields no longer trail: %v", i, p)
		}
		q := setMessageField(r, "m", "v")
		if q.Get("m") != "v" || q[len(q)-1].Name != hiddenRowID {
			t.Errorf("row %d: assignment on a compact row: %v", i, q)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
