package ingest

import (
	"reflect"
	"testing"
)

// TestFlattenJSONRepeatedKeyAfterLimit: once the field limit is reached
// nothing more is stored, but a key that repeats still drops the fields of
// its earlier occurrence, so that every stored field holds the value the
// document has at its path (the query's json operator relies on it).
func TestFlattenJSONRepeatedKeyAfterLimit(t *testing.T) {
	tests := []struct {
		raw       string
		maxFields int
		want      []string
	}{
		{`{"a":{"b":1},"c":1,"d":2,"a":2}`, 2, []string{"c=1"}},
		{`{"a":1,"c":1,"a":{"b":2}}`, 2, []string{"c=1"}},
		{`{"x":{"a":1,"c":1,"a":3}}`, 2, []string{"x.c=1"}},
		{`{"a":1,"c":1,"d":1,"e":1}`, 2, []string{"a=1", "c=1"}},
		{`{"a":1,"a":2,"c":3}`, 2, []string{"a=2", "c=3"}},
	}
	for _, tc := range tests {
		got, ok := FlattenJSON([]byte(tc.raw), 8, tc.maxFields)
		if !ok || !reflect.DeepEqual(fieldsOf(got), tc.want) {
			t.Errorf("FlattenJSON(%s, fields %d) = %q, %v; want %q", tc.raw, tc.maxFields, fieldsOf(got), ok, tc.want)
		}
		ref, _ := flattenWithTokens([]byte(tc.raw), 8, tc.maxFields)
		if !reflect.DeepEqual(fieldsOf(got), fieldsOf(ref)) {
			t.Errorf("%s: reference gives %q", tc.raw, fieldsOf(ref))
		}
	}
}
