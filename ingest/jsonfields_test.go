package ingest

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/dohyo/dohyo/event"
)

// fieldsOf renders fields as "name=value" lines without the prefix, for
// readable test tables.
func fieldsOf(fs []event.Field) []string {
	var out []string
	for _, f := range fs {
		out = append(out, strings.TrimPrefix(f.Name, event.JSONFieldPrefix)+"="+f.Value)
	}
	return out
}

func TestFlattenJSON(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		maxDepth  int
		maxFields int
		want      []string // nil with ok=false: not an object
		notObject bool
	}{
		{name: "scalars", raw: `{"a":1,"b":"x","c":true,"d":false,"e":null}`,
			want: []string{"a=1", "b=x", "c=true", "d=false"}},
		{name: "nested", raw: `{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","sessionContext":{"attributes":{"mfa":"false"}}}}`,
			want: []string{"userIdentity.type=IAMUser", "userIdentity.arn=arn:aws:iam::1:user/a", "userIdentity.sessionContext.attributes.mfa=false"}},
		{name: "numbers as written", raw: `{"n":1.50,"z":-0,"e":1E+3,"big":123456789012345678901234567890}`,
			want: []string{"n=1.50", "z=-0", "e=1E+3", "big=123456789012345678901234567890"}},
		{name: "escapes", raw: `{"s":"a\"b\u00e9\n\ud83d\ude00","k\u00e9y":"v"}`,
			want: []string{"s=a\"bé\n😀", "kéy=v"}},
		{name: "arrays are leaves", raw: `{"r":[ {"a" : 1}, [2, "x"] ], "e":[]}`,
			want: []string{`r=[{"a":1},[2,"x"]]`, "e=[]"}},
		{name: "empty string kept", raw: `{"a":""}`, want: []string{"a="}},
		{name: "empty object", raw: `{"a":{},"b":1}`, want: []string{"b=1"}},
		{name: "whitespace", raw: " \n{ \"a\" :\t1 ,\r\n\"b\":{ \"c\" : [ 1 , 2 ] } }\n ", want: []string{"a=1", "b.c=[1,2]"}},
		{name: "depth 2", raw: `{"a":{"b":{"c":1},"d":2},"e":3}`, maxDepth: 2,
			want: []string{"a.d=2", "e=3"}},
		{name: "depth 1", raw: `{"a":{"b":1},"c":2}`, maxDepth: 1, want: []string{"c=2"}},
		{name: "depth default 8", raw: `{"1":{"2":{"3":{"4":{"5":{"6":{"7":{"8":"deep","x":{"9":"deeper"}}}}}}}}}`,
			want: []string{"1.2.3.4.5.6.7.8=deep"}},
		{name: "max fields", raw: `{"a":1,"b":{"c":2,"d":3},"e":4}`, maxFields: 2, want: []string{"a=1", "b.c=2"}},
		{name: "dotted keys skipped", raw: `{"a.b":1,"c":{"d.e":2,"f":3},"g\u002eh":4}`, want: []string{"c.f=3"}},
		{name: "empty key skipped", raw: `{"":1,"x":{"":2,"y":3}}`, want: []string{"x.y=3"}},
		{name: "duplicate leaf", raw: `{"a":1,"b":2,"a":3}`, want: []string{"b=2", "a=3"}},
		{name: "duplicate object", raw: `{"a":{"b":1,"c":2},"a":{"c":3}}`, want: []string{"a.c=3"}},
		{name: "duplicate becomes null", raw: `{"a":{"b":1},"x":0,"a":null}`, want: []string{"x=0"}},
		{name: "duplicate at depth", raw: `{"o":{"k":1,"k":{"z":true}}}`, want: []string{"o.k.z=true"}},
		{name: "same key in different objects", raw: `{"a":{"id":1},"b":{"id":2}}`, want: []string{"a.id=1", "b.id=2"}},
		{name: "unicode", raw: `{"ключ":"значение"}`, want: []string{"ключ=значение"}},
		{name: "not object: array", raw: `[1,2]`, notObject: true},
		{name: "not object: string", raw: `"x"`, notObject: true},
		{name: "not object: empty", raw: ``, notObject: true},
		{name: "truncated", raw: `{"a":1`, notObject: true},
		{name: "trailing data", raw: `{"a":1} x`, notObject: true},
		{name: "two objects", raw: `{"a":1}{"b":2}`, notObject: true},
		{name: "leading zero", raw: `{"a":01}`, notObject: true},
		{name: "control char", raw: "{\"a\":\"x\x01\"}", notObject: true},
		{name: "single quotes", raw: `{'a':1}`, notObject: true},
		{name: "bad in skipped part", raw: `{"a.b":[1,}`, notObject: true},
		{name: "bad after max fields", raw: `{"a":1,"b":tru}`, maxFields: 1, notObject: true},
		{name: "bad beyond depth", raw: `{"a":{"b":{"c":[1 2]}}}`, maxDepth: 1, notObject: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, ok := FlattenJSON([]byte(tc.raw), tc.maxDepth, tc.maxFields)
			if ok == tc.notObject {
				t.Fatalf("ok = %v, want %v", ok, !tc.notObject)
			}
			if got := fieldsOf(fs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fields = %q\n          want %q", got, tc.want)
			}
			// The reference implementation agrees.
			ref, refOK := flattenWithTokens([]byte(tc.raw), defaultInt(tc.maxDepth, 8), defaultInt(tc.maxFields, 200))
			if refOK != ok || !reflect.DeepEqual(fieldsOf(ref), fieldsOf(fs)) {
				t.Errorf("reference: %q, %v", fieldsOf(ref), refOK)
			}
		})
	}
}

func defaultInt(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// Every value FlattenJSON stores is what event.JSONValueText says for the
// value's text, so ingest and the query side cannot disagree.
func TestFlattenJSONUsesJSONValueText(t *testing.T) {
	raw := `{"s":"a\tb","n":-1.0e2,"t":true,"arr":[1, {"x":"\u0041"}]}`
	fs, ok := FlattenJSON([]byte(raw), 8, 200)
	if !ok {
		t.Fatal("not an object")
	}
	values := map[string]string{"s": `"a\tb"`, "n": `-1.0e2`, "t": `true`, "arr": `[1, {"x":"\u0041"}]`}
	for _, f := range fs {
		want, _, err := event.JSONValueText([]byte(values[strings.TrimPrefix(f.Name, event.JSONFieldPrefix)]))
		if err != nil || f.Value != want {
			t.Errorf("%s = %q, JSONValueText gives %q (%v)", f.Name, f.Value, want, err)
		}
	}
}

func TestFlattenJSONFieldNamesShareOneString(t *testing.T) {
	fs, _ := FlattenJSON([]byte(`{"a":"x","b":{"c":"y"}}`), 0, 0)
	if len(fs) != 2 || fs[0].Name != "_json.a" || fs[1].Name != "_json.b.c" {
		t.Fatalf("fields = %v", fs)
	}
}

func FuzzFlattenJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":{"c":"x","d":[1,2]},"e":null}`,
		`{"a":{"b":1},"a":{"c":2}}`,
		`{"a.b":1,"":2,"c":{"d":{"e":{"f":1}}}}`,
		`{"s":"\ud83d\ude00\u00e9\"","n":-1.5e3,"t":true}`,
		"{\"x\":\"\xff\"}",
		`{"Records":[{"eventTime":"2025-01-01T00:00:00Z"}]}`,
		`[1,2]`, `{"a":`, `{"a":1} `,
	} {
		f.Add([]byte(s), uint8(8), uint8(200))
	}
	f.Fuzz(func(t *testing.T, raw []byte, depth, fields uint8) {
		maxDepth, maxFields := int(depth%10)+1, int(fields%50)+1
		got, ok := FlattenJSON(raw, maxDepth, maxFields)
		want, wantOK := flattenWithTokens(raw, maxDepth, maxFields)
		if ok != wantOK {
			t.Fatalf("%q: ok = %v, encoding/json says %v", raw, ok, wantOK)
		}
		if !reflect.DeepEqual(fieldsOf(got), fieldsOf(want)) {
			t.Fatalf("%q (depth %d, fields %d):\n got %q\nwant %q", raw, maxDepth, maxFields, fieldsOf(got), fieldsOf(want))
		}
		if len(got) > maxFields {
			t.Fatalf("%d fields, over %d", len(got), maxFields)
		}
		if utf8.Valid(raw) {
			for _, f := range got {
				if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
					t.Fatalf("invalid UTF-8 in %q=%q", f.Name, f.Value)
				}
			}
		}
	})
}

// Events with the same field names share one string of names; others get
// their own, and the names stay right either way, also once the table of
// shapes has started over.
func TestFlattenSharesFieldNames(t *testing.T) {
	var body strings.Builder
	for i := range 2*maxShapes + 10 {
		fmt.Fprintf(&body, "{\"a\":%d,\"b\":{\"c\":\"x\"}}\n{\"k%d\":1,\"a\":2}\n", i, i)
	}
	evs, _, err := Parse([]byte(body.String()), Options{Multiline: MultilineOff}, Limits{})
	if err != nil || len(evs) != 2*(2*maxShapes+10) {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	strs := map[*byte]bool{}
	for i := 0; i < len(evs); i += 2 {
		same, other := evs[i].Fields, evs[i+1].Fields
		strs[unsafe.StringData(same[0].Name)] = true
		if len(same) != 2 || same[0].Name != "_json.a" || same[1].Name != "_json.b.c" || same[0].Value != strconv.Itoa(i/2) {
			t.Fatalf("event %d: %+v", i, same)
		}
		if want := fmt.Sprintf("_json.k%d", i/2); len(other) != 2 || other[0].Name != want || other[1].Name != "_json.a" {
			t.Fatalf("event %d: %+v, want %s and _json.a", i+1, other, want)
		}
	}
	// One string per start of the table (every maxShapes-1 new shapes).
	if n, most := len(strs), 1+len(evs)/2/(maxShapes-1); n > most {
		t.Errorf("%d events of one shape have %d strings of field names, want at most %d", len(evs)/2, n, most)
	}
}
