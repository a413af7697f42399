package event

import (
	"errors"
	"reflect"
	"testing"
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

func TestDecodeRejectsEveryTruncation(t *testing.T) {
	enc := sampleBatch().AppendBinary(nil)
	for n := 0; n < len(enc); n++ {
		if _, err := Decode(enc[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode of %d/%d bytes: err = %v, want ErrCorrupt", n, len(enc), err)
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
