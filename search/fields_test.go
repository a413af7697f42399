package search_test

import (
	"fmt"
	"testing"

	"github.com/dohyo/dohyo/search"
)

func fieldByName(fs search.FieldSummary, name string) *search.FieldStats {
	for i := range fs.Fields {
		if fs.Fields[i].Name == name {
			return &fs.Fields[i]
		}
	}
	return nil
}

func TestFieldSummaryMessages(t *testing.T) {
	c := newCorpus(t)
	m := newManager(t, c.st, search.Config{})
	j, err := m.Create(alice, c.request("*"))
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, j)
	fs := j.FieldSummary(0)
	if fs.Kind != "messages" || fs.Rows != corpusSize || !fs.Complete {
		t.Fatalf("summary %+v", fs)
	}
	cat := fieldByName(fs, "_sourcecategory")
	if cat == nil {
		t.Fatalf("no _sourcecategory in %+v", fs.Fields)
	}
	want := []search.ValueCount{{Value: "prod/web", Count: 150}, {Value: "prod/db", Count: 100}, {Value: "dev/web", Count: 50}}
	if cat.Count != corpusSize || cat.Distinct != 3 || cat.DistinctCapped || cat.Approximate || cat.FieldType != "string" || fmt.Sprint(cat.TopValues) != fmt.Sprint(want) {
		t.Errorf("_sourcecategory %+v, want top values %v", *cat, want)
	}
	if env := fieldByName(fs, "env"); env == nil || env.Count != corpusSize || env.Distinct != 1 || len(env.TopValues) != 1 || env.TopValues[0] != (search.ValueCount{Value: "prod", Count: corpusSize}) {
		t.Errorf("env %+v", env)
	}
	if raw := fieldByName(fs, "_raw"); raw == nil || raw.Count != corpusSize || len(raw.TopValues) != 0 || raw.Distinct != 0 {
		t.Errorf("_raw %+v, want a count and no values", raw)
	}
	if mt := fieldByName(fs, "_messagetime"); mt == nil || mt.FieldType != "long" || mt.Distinct != corpusSize || len(mt.TopValues) != 10 {
		t.Errorf("_messagetime %+v", mt)
	}
	// Fields that are empty in every message are not listed.
	for _, f := range fs.Fields {
		if f.Count == 0 {
			t.Errorf("field %q listed with no values", f.Name)
		}
	}
	// By count, then by name.
	for i := 1; i < len(fs.Fields); i++ {
		a, b := fs.Fields[i-1], fs.Fields[i]
		if a.Count < b.Count || (a.Count == b.Count && a.Name > b.Name) {
			t.Errorf("fields out of order: %q (%d) before %q (%d)", a.Name, a.Count, b.Name, b.Count)
		}
	}
	if top := j.FieldSummary(2); len(fieldByName(top, "_sourcecategory").TopValues) != 2 {
		t.Errorf("top 2: %+v", fieldByName(top, "_sourcecategory"))
	}
	if top := j.FieldSummary(1000); len(fieldByName(top, "_messagetime").TopValues) != search.MaxTopValues {
		t.Errorf("top values not capped at %d", search.MaxTopValues)
	}
}

func TestFieldSummaryRecords(t *testing.T) {
	c := newCorpus(t)
	m := newManager(t, c.st, search.Config{})
	j, err := m.Create(alice, c.request("* | count by _sourceCategory"))
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, j)
	fs := j.FieldSummary(5)
	if fs.Kind != "records" || fs.Rows != 3 || !fs.Complete || len(fs.Fields) != 2 {
		t.Fatalf("summary %+v", fs)
	}
	cat, cnt := fieldByName(fs, "_sourcecategory"), fieldByName(fs, "_count")
	if cat == nil || !cat.KeyField || cat.Distinct != 3 || cat.Count != 3 {
		t.Errorf("_sourcecategory %+v", cat)
	}
	if cnt == nil || cnt.KeyField || cnt.FieldType != "int" || cnt.Distinct != 3 {
		t.Errorf("_count %+v", cnt)
	}
}
