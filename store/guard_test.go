package store

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dohyo/dohyo/event"
)

func testGuard(now time.Time) *Guard {
	return &Guard{Retention: 30 * 24 * time.Hour, FutureRetention: 48 * time.Hour, Now: func() time.Time { return now }}
}

// rows runs the guard and copies the emitted rows.
func rows(g *Guard, seq uint64, b *event.Batch, skip func(uint64) bool) ([]Row, Adjustments) {
	var out []Row
	adj := g.Rows(seq, b, 0, len(b.Events), skip, func(r *Row) {
		out = append(out, Row{Time: r.Time, Fields: append([]Field(nil), r.Fields...)})
	})
	return out, adj
}

func field(r Row, name string) (string, bool) {
	for _, f := range r.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

func TestGuardLayoutAndRowIDs(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	b := &event.Batch{
		ReceiptTime: now.UnixNano(),
		Source:      event.Source{ID: "s1", Name: "web", Category: "prod/web", Host: "h", FileName: "/x", Collector: "c"},
		Fields:      []event.Field{{Name: "env", Value: "prod"}},
		Events:      []event.Event{{Time: now.Add(-time.Minute).UnixNano(), Raw: "a", Format: "rfc3339"}, {Time: now.UnixNano(), Raw: "bb"}},
	}
	out, adj := rows(testGuard(now), 7, b, nil)
	if adj != (Adjustments{}) || len(out) != 2 {
		t.Fatalf("adj %+v, %d rows", adj, len(out))
	}
	for i, name := range event.StreamFields {
		if out[0].Fields[i].Name != name {
			t.Fatalf("stream field %d is %q, want %q", i, out[0].Fields[i].Name, name)
		}
	}
	if out[0].Fields[messageFieldIndex].Name != MessageField || out[1].Fields[messageFieldIndex].Value != "bb" {
		t.Fatalf("message field misplaced: %+v", out[1].Fields)
	}
	for i, r := range out {
		if id, _ := field(r, event.FieldRowID); id != fmt.Sprint(event.RowID(7, i)) {
			t.Errorf("row %d id %s", i, id)
		}
		if v, _ := field(r, "env"); v != "prod" {
			t.Errorf("row %d lost the custom field", i)
		}
		if v, _ := field(r, event.FieldReceiptTime); v != fmt.Sprint(now.UnixMilli()) {
			t.Errorf("row %d receipt time %s", i, v)
		}
	}
	if v, _ := field(out[1], event.FieldSize); v != "2" {
		t.Errorf("_size = %s", v)
	}

	// Skipped rows keep the ids of the others.
	out, adj = rows(testGuard(now), 7, b, func(id uint64) bool { return id == event.RowID(7, 0) })
	if adj.Skipped != 1 || len(out) != 1 {
		t.Fatalf("skip: adj %+v, %d rows", adj, len(out))
	}
	if id, _ := field(out[0], event.FieldRowID); id != fmt.Sprint(event.RowID(7, 1)) {
		t.Fatalf("remaining row has id %s", id)
	}
}

func TestGuardTimeBounds(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	g := testGuard(now)
	cases := []struct {
		name     string
		t        time.Time
		adjusted bool
	}{
		{"now", now, false},
		{"29 days ago", now.Add(-29 * 24 * time.Hour), false},
		// The oldest retained day may be dropped by retention any moment.
		{"30 days ago", now.Add(-30 * 24 * time.Hour), true},
		{"a year ago", now.Add(-365 * 24 * time.Hour), true},
		{"zero", time.Unix(0, 0), true},
		{"tomorrow", now.Add(24 * time.Hour), false},
		{"in 3 days", now.Add(3 * 24 * time.Hour), true},
	}
	for _, c := range cases {
		b := &event.Batch{ReceiptTime: now.UnixNano(), Events: []event.Event{{Time: c.t.UnixNano(), Raw: "x"}}}
		out, adj := rows(g, 1, b, nil)
		orig, has := field(out[0], event.FieldOriginalTime)
		if c.adjusted {
			if out[0].Time != now.UnixNano() || !has || orig != fmt.Sprint(c.t.UnixMilli()) || adj.TimeTooOld+adj.TimeTooNew != 1 {
				t.Errorf("%s: time %v, original %q, adj %+v; want receipt time and the original kept", c.name, time.Unix(0, out[0].Time), orig, adj)
			}
		} else if out[0].Time != c.t.UnixNano() || has {
			t.Errorf("%s: time changed to %v", c.name, time.Unix(0, out[0].Time))
		}
	}
}

func TestGuardSizeNameAndCountLimits(t *testing.T) {
	now := time.Now()
	g := testGuard(now)

	// An oversized row loses its JSON fields first.
	bigJSON := strings.Repeat("j", 1<<20)
	b := &event.Batch{ReceiptTime: now.UnixNano(), Events: []event.Event{{
		Time: now.UnixNano(), Raw: strings.Repeat("r", 1<<20),
		Fields: []event.Field{{Name: event.JSONFieldPrefix + "a", Value: bigJSON}, {Name: event.JSONFieldPrefix + "b", Value: "small"}},
	}}}
	out, adj := rows(g, 1, b, nil)
	if adj.FieldsDropped == 0 || adj.Truncated != 0 {
		t.Fatalf("adj %+v: want JSON fields dropped, raw kept", adj)
	}
	if v, _ := field(out[0], MessageField); len(v) != 1<<20 {
		t.Fatal("raw changed although dropping JSON fields was enough")
	}
	if estimateRowSize(out[0].Fields) > MaxRowSize {
		t.Fatal("row still over the limit")
	}

	// Raw alone over the limit is cut on a rune boundary and marked.
	raw := strings.Repeat("é", MaxRowSize)
	b = &event.Batch{ReceiptTime: now.UnixNano(), Events: []event.Event{{Time: now.UnixNano(), Raw: raw}}}
	out, adj = rows(g, 1, b, nil)
	msg, _ := field(out[0], MessageField)
	if adj.Truncated != 1 || !utf8.ValidString(msg) || len(msg) >= len(raw) || estimateRowSize(out[0].Fields) > MaxRowSize {
		t.Fatalf("truncation: adj %+v, %d bytes valid=%v", adj, len(msg), utf8.ValidString(msg))
	}
	if v, _ := field(out[0], event.FieldTruncated); v != fmt.Sprint(len(raw)) {
		t.Fatalf("truncation marker %q", v)
	}

	// Long custom names are shortened, distinctly; long JSON names dropped.
	long1, long2 := strings.Repeat("a", 200)+"1", strings.Repeat("a", 200)+"2"
	b = &event.Batch{ReceiptTime: now.UnixNano(),
		Fields: []event.Field{{Name: long1, Value: "1"}, {Name: long2, Value: "2"}},
		Events: []event.Event{{Time: now.UnixNano(), Raw: "x", Fields: []event.Field{{Name: event.JSONFieldPrefix + long1, Value: "j"}}}}}
	out, adj = rows(g, 1, b, nil)
	s1, s2 := ShortenFieldName(long1), ShortenFieldName(long2)
	if s1 == s2 || len(s1) > MaxFieldNameLen || adj.Renamed != 2 || adj.FieldsDropped != 1 {
		t.Fatalf("names %q %q, adj %+v", s1, s2, adj)
	}
	if v, _ := field(out[0], s1); v != "1" {
		t.Fatal("renamed field lost its value")
	}

	// More fields than the engine takes: JSON fields beyond the limit go.
	var fs []event.Field
	for i := 0; i < MaxFieldsPerRow+10; i++ {
		fs = append(fs, event.Field{Name: fmt.Sprintf("%sf%d", event.JSONFieldPrefix, i), Value: "v"})
	}
	b = &event.Batch{ReceiptTime: now.UnixNano(), Events: []event.Event{{Time: now.UnixNano(), Raw: "x", Fields: fs}}}
	out, adj = rows(g, 1, b, nil)
	if len(out[0].Fields) != MaxFieldsPerRow || adj.FieldsDropped == 0 {
		t.Fatalf("%d fields, adj %+v", len(out[0].Fields), adj)
	}
}
