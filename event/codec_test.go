package event

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"unsafe"
)

func sampleBatch() *Batch {
	return &Batch{
		Tenant:      7,
		ReceiptTime: 1700000000123456789,
		Source:      Source{ID: "s1", Name: "web", Category: "prod/web", Host: "h1", FileName: "/var/log/x", Collector: "c"},
		Fields:      []Field{{"env", "prod"}, {"team", "payments"}},
		Events: []Event{
			{Time: 1699999999000000000, Raw: "GET / 200", Format: "rfc3339"},
			{Time: -5, Raw: "", Fields: []Field{{JSONFieldPrefix + "a.b", "x"}}},
			{Time: 1, Raw: "invalid utf8 \xff\xfe ok"},
		},
	}
}

// jsonBatch is like what ingest makes of JSON lines: field values that are
// slices of _raw, the same names in every event, a value that is not in
// _raw (unescaped), short values, and an event with other names.
func jsonBatch() *Batch {
	b := &Batch{Tenant: 1, ReceiptTime: 5, Source: Source{ID: "s", Name: "ct"}}
	for i := range 4 {
		raw := fmt.Sprintf(`{"eventName":"DescribeInstances%d","user":{"arn":"arn:aws:iam::123456789012:user/alice"},"n":%d,"msg":"a\"b"}`, i, i)
		b.Events = append(b.Events, Event{Time: int64(i), Raw: raw, Format: "json:eventTime", Fields: []Field{
			{JSONFieldPrefix + "eventName", raw[14:32]},
			{JSONFieldPrefix + "user.arn", raw[50:87]},
			{JSONFieldPrefix + "n", raw[94:95]},
			{JSONFieldPrefix + "msg", `a"b`},
		}})
	}
	b.Events[2].Fields = []Field{{JSONFieldPrefix + "other", b.Events[2].Raw[1:12]}, {JSONFieldPrefix + "user.arn", "x"}}
	b.Events[3].Format = ""
	return b
}

func TestCodecRoundTrip(t *testing.T) {
	b := sampleBatch()
	enc := b.AppendBinary(nil)
	if len(enc) > b.EncodedSize() {
		t.Fatalf("EncodedSize %d is below the real size %d", b.EncodedSize(), len(enc))
	}
	got, err := Decode(enc)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("round trip mismatch:\n got %+v\nwant %+v", got, b)
	}
	empty := &Batch{}
	got, err = Decode(empty.AppendBinary(nil))
	if err != nil {
		t.Fatalf("Decode(empty): %v", err)
	}
	if len(got.Events) != 0 || got.Fields != nil {
		t.Fatalf("empty batch decoded as %+v", got)
	}
}

// TestCodecV2 checks the version 2 specifics: values stored as slices of
// _raw and repeated names as references decode to the same batch, the
// encoding is smaller than version 1's, and version 1 still decodes.
func TestCodecV2(t *testing.T) {
	for _, b := range []*Batch{sampleBatch(), jsonBatch()} {
		v1, v2 := b.appendBinaryV1(nil), b.AppendBinary(nil)
		if v2[0] != codecV2 || v1[0] != codecV1 {
			t.Fatalf("versions %d and %d", v2[0], v1[0])
		}
		if len(v2) > b.EncodedSize() || len(v1) > b.EncodedSize() {
			t.Fatalf("EncodedSize %d is below the real sizes %d (v2), %d (v1)", b.EncodedSize(), len(v2), len(v1))
		}
		for _, enc := range [][]byte{v1, v2} {
			got, err := Decode(enc)
			if err != nil {
				t.Fatalf("Decode version %d: %v", enc[0], err)
			}
			if !reflect.DeepEqual(got, b) {
				t.Fatalf("version %d round trip mismatch:\n got %+v\nwant %+v", enc[0], got, b)
			}
		}
	}
	b := jsonBatch()
	v1, v2 := b.appendBinaryV1(nil), b.AppendBinary(nil)
	if len(v2)*10 > len(v1)*7 {
		t.Fatalf("version 2 takes %d bytes, version 1 %d: want at least 30%% fewer", len(v2), len(v1))
	}
	// The values decoded as slices of _raw share its memory.
	got, _ := Decode(v2)
	e := &got.Events[0]
	if unsafe.StringData(e.Fields[1].Value) != unsafe.StringData(e.Raw[50:]) {
		t.Fatal("user.arn was not stored as a slice of _raw")
	}
}

func TestDecodeRejectsEveryTruncation(t *testing.T) {
	enc := sampleBatch().AppendBinary(nil)
	for n := 0; n < len(enc); n++ {
		if _, err := Decode(enc[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode of %d/%d bytes: err = %v, want ErrCorrupt", n, len(enc), err)
		}
	}
	for _, enc := range [][]byte{jsonBatch().AppendBinary(nil), jsonBatch().appendBinaryV1(nil)} {
		for n := 0; n < len(enc); n++ {
			if _, err := Decode(enc[:n]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode of %d/%d bytes of version %d: err = %v, want ErrCorrupt", n, len(enc), enc[0], err)
			}
		}
	}
	if _, err := Decode(append(enc, 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte accepted: %v", err)
	}
	bad := append([]byte{}, enc...)
	bad[0] = 99
	if _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unknown version accepted: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(sampleBatch().AppendBinary(nil))
	f.Add((&Batch{}).AppendBinary(nil))
	f.Add(jsonBatch().AppendBinary(nil))
	f.Add(jsonBatch().appendBinaryV1(nil))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Decode(data)
		if err != nil {
			return
		}
		// Whatever decodes must encode back to a batch that decodes the same.
		again, err := Decode(b.AppendBinary(nil))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(again, b) {
			t.Fatalf("re-decode mismatch")
		}
	})
}

func TestRowID(t *testing.T) {
	if RowID(3, 5) != 3<<RowIDShift|5 {
		t.Fatal("RowID layout changed")
	}
	if RowID(1, 0) <= RowID(0, MaxBatchEvents-1) {
		t.Fatal("row ids must grow with the sequence")
	}
}
