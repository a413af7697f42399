package ingest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

func gzipBytes(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func zlibBytes(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func flateBytes(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	w.Write(data)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func zstdBytes(tb testing.TB, data []byte) []byte {
	tb.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(data, nil)
}

func TestReadBodyEncodings(t *testing.T) {
	data := []byte(strings.Repeat("2025-01-02 03:04:05 hello world\n", 1000))
	tests := []struct {
		enc  string
		body []byte
	}{
		{"", data},
		{"identity", data},
		{"gzip", gzipBytes(t, data)},
		{"GZip", gzipBytes(t, data)},
		{"x-gzip", gzipBytes(t, data)},
		{"deflate", zlibBytes(t, data)},
		{"deflate", flateBytes(t, data)}, // raw deflate, as some clients send
		{"zstd", zstdBytes(t, data)},
		{"gzip, identity", gzipBytes(t, data)},
		{"identity,gzip", gzipBytes(t, data)},
		{" gzip ,  ", gzipBytes(t, data)},
		// Codings are listed in the order applied: gzip first, then zstd.
		{"gzip, zstd", zstdBytes(t, gzipBytes(t, data))},
		{"zstd, deflate", zlibBytes(t, zstdBytes(t, data))},
		{"gzip, gzip", gzipBytes(t, gzipBytes(t, data))},
	}
	for _, tc := range tests {
		got, err := ReadBody(bytes.NewReader(tc.body), tc.enc, DefaultLimits())
		if err != nil {
			t.Errorf("%q: %v", tc.enc, err)
			continue
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%q: got %d bytes, want %d", tc.enc, len(got), len(data))
		}
	}
}

// Gzip allows concatenated members (as from cat a.gz b.gz).
func TestReadBodyGzipMultistream(t *testing.T) {
	body := append(gzipBytes(t, []byte("a\n")), gzipBytes(t, []byte("b\n"))...)
	got, err := ReadBody(bytes.NewReader(body), "gzip", DefaultLimits())
	if err != nil || string(got) != "a\nb\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestReadBodyEmpty(t *testing.T) {
	for _, enc := range []string{"", "gzip", "deflate", "zstd", "gzip, zstd"} {
		got, err := ReadBody(bytes.NewReader(nil), enc, DefaultLimits())
		if err != nil || len(got) != 0 {
			t.Errorf("%q: got %q, %v; want an empty body", enc, got, err)
		}
	}
}

func wantClientError(t *testing.T, err error, status int, msg string) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want *Error", err, err)
	}
	if ce.Status != status {
		t.Errorf("status = %d, want %d (%s)", ce.Status, status, ce.Msg)
	}
	if msg != "" && !strings.Contains(ce.Msg, msg) {
		t.Errorf("message = %q, want it to contain %q", ce.Msg, msg)
	}
}

func TestReadBodyErrors(t *testing.T) {
	data := []byte(strings.Repeat("some log line\n", 200))
	gz := gzipBytes(t, data)
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-6] ^= 0xff
	zs := zstdBytes(t, data)
	badZstd := bytes.Clone(zs)
	badZstd[len(badZstd)/2] ^= 0xff
	small := Limits{MaxBodyBytes: 100, MaxDecompressedBytes: 1000}
	tests := []struct {
		name   string
		enc    string
		body   []byte
		lim    Limits
		status int
		msg    string
	}{
		{"brotli", "br", gz, DefaultLimits(), http.StatusUnsupportedMediaType,
			`unsupported Content-Encoding "br": use gzip, deflate, zstd or identity`},
		{"compress", "gzip, compress", gz, DefaultLimits(), http.StatusUnsupportedMediaType, `"compress"`},
		{"not gzip", "gzip", data, DefaultLimits(), http.StatusBadRequest, "corrupt gzip body: gzip: invalid header"},
		{"truncated gzip", "gzip", gz[:len(gz)/2], DefaultLimits(), http.StatusBadRequest,
			"corrupt gzip body: the compressed data ends early"},
		{"gzip checksum", "gzip", badCRC, DefaultLimits(), http.StatusBadRequest, "corrupt gzip body: gzip: invalid checksum"},
		{"gzip trailing junk", "gzip", append(bytes.Clone(gz), "junk!junk!"...), DefaultLimits(), http.StatusBadRequest,
			"corrupt gzip body"},
		{"not zstd", "zstd", data, DefaultLimits(), http.StatusBadRequest, "corrupt zstd body: "},
		{"corrupt zstd", "zstd", badZstd, DefaultLimits(), http.StatusBadRequest, "corrupt zstd body: "},
		{"not deflate", "deflate", data, DefaultLimits(), http.StatusBadRequest, "corrupt deflate body: "},
		{"inner layer corrupt", "gzip, zstd", zstdBytes(t, data), DefaultLimits(), http.StatusBadRequest,
			"corrupt gzip body: gzip: invalid header"},
		{"wire limit identity", "", data, small, http.StatusRequestEntityTooLarge,
			"request body is over the 100 B limit"},
		{"wire limit gzip", "gzip", gzipBytes(t, []byte(strings.Repeat("x", 100)+string(data))), Limits{MaxBodyBytes: 20}, http.StatusRequestEntityTooLarge,
			"request body is over the 20 B limit"},
		{"decoded limit", "gzip", gz, small, http.StatusRequestEntityTooLarge,
			"request body decompresses to more than the 1000 B limit (Content-Encoding gzip;"},
		{"decoded limit identity", "", data, Limits{MaxDecompressedBytes: 1000}, http.StatusRequestEntityTooLarge,
			"request body is over the 1000 B limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadBody(bytes.NewReader(tc.body), tc.enc, tc.lim)
			if err == nil {
				t.Fatalf("got %d bytes and no error", len(got))
			}
			wantClientError(t, err, tc.status, tc.msg)
		})
	}
}

func TestReadBodyExactLimits(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 1000)
	if _, err := ReadBody(bytes.NewReader(data), "", Limits{MaxBodyBytes: 1000}); err != nil {
		t.Errorf("body of exactly MaxBodyBytes: %v", err)
	}
	if _, err := ReadBody(bytes.NewReader(gzipBytes(t, data)), "gzip", Limits{MaxDecompressedBytes: 1000}); err != nil {
		t.Errorf("decoded body of exactly MaxDecompressedBytes: %v", err)
	}
	if _, err := ReadBody(bytes.NewReader(gzipBytes(t, append(data, 'x'))), "gzip", Limits{MaxDecompressedBytes: 1000}); err == nil {
		t.Errorf("decoded body of MaxDecompressedBytes+1: no error")
	}
}

// countingReader counts what ReadBody pulls from the client.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// zeroReader yields n zero bytes.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

// A compression bomb must be refused after inflating only the limit: the
// test checks how much of the compressed body was read and how much memory
// was allocated, which both stay near the limit instead of the 1 GiB the
// bomb inflates to.
func TestReadBodyBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 1 GiB")
	}
	const inflated = 1 << 30
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if _, err := io.Copy(w, &zeroReader{n: inflated}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithWindowSize(8<<20))
	var zs bytes.Buffer
	enc.Reset(&zs)
	if _, err := io.Copy(enc, &zeroReader{n: inflated}); err != nil {
		t.Fatal(err)
	}
	enc.Close()

	lim := Limits{MaxBodyBytes: 16 << 20, MaxDecompressedBytes: 8 << 20}
	for _, tc := range []struct {
		enc  string
		body []byte
	}{{"gzip", gz.Bytes()}, {"zstd", zs.Bytes()}} {
		t.Run(tc.enc, func(t *testing.T) {
			t.Logf("1 GiB of zeros is %d bytes as %s", len(tc.body), tc.enc)
			cr := &countingReader{r: bytes.NewReader(tc.body)}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := ReadBody(cr, tc.enc, lim)
			runtime.ReadMemStats(&after)
			wantClientError(t, err, http.StatusRequestEntityTooLarge, "decompresses to more than the 8 MiB limit")
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("read %d of %d compressed bytes, allocated %d bytes", cr.n, len(tc.body), allocated)
			// The output buffer doubles up to limit+1, so about twice the
			// limit is allocated; zstd adds a history of up to twice its
			// window, which ReadBody caps at the limit. 1 GiB is far away.
			if max := uint64(4*lim.MaxDecompressedBytes + 4<<20); allocated > max {
				t.Errorf("allocated %d bytes, over %d", allocated, max)
			}
			// Inflating 8 MiB of the bomb needs under 1% of it.
			if ratio := float64(cr.n) / float64(len(tc.body)); ratio > 0.05 && cr.n > 256<<10 {
				t.Errorf("read %d of %d compressed bytes (%.0f%%): the decoder did not stop at the limit", cr.n, len(tc.body), 100*ratio)
			}
		})
	}
}

// A zstd frame whose window is larger than the decoded-size limit is
// refused before its window is allocated.
func TestReadBodyZstdWindow(t *testing.T) {
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(i * 7919 >> 3)
	}
	w, _ := zstd.NewWriter(nil, zstd.WithWindowSize(8<<20))
	body := w.EncodeAll(data, nil)
	_, err := ReadBody(bytes.NewReader(body), "zstd", Limits{MaxDecompressedBytes: 1 << 20})
	wantClientError(t, err, http.StatusRequestEntityTooLarge, "zstd body needs a decoding window over the 1 MiB limit")
	got, err := ReadBody(bytes.NewReader(body), "zstd", DefaultLimits())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("within the limits: %v", err)
	}
}

// A client that keeps sending is cut off one byte after the wire limit.
func TestReadBodyStopsReadingAtWireLimit(t *testing.T) {
	cr := &countingReader{r: &zeroReader{n: 1 << 30}}
	_, err := ReadBody(cr, "", Limits{MaxBodyBytes: 1 << 20})
	wantClientError(t, err, http.StatusRequestEntityTooLarge, "over the 1 MiB limit")
	if cr.n > 1<<20+1 {
		t.Errorf("read %d bytes, want at most the limit + 1", cr.n)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReadBodyReadError(t *testing.T) {
	data := []byte(strings.Repeat("line\n", 1000))
	for enc, body := range map[string][]byte{"": data, "gzip": gzipBytes(t, data), "zstd": zstdBytes(t, data)} {
		r := io.MultiReader(bytes.NewReader(body[:len(body)/2]), failingReader{})
		_, err := ReadBody(r, enc, DefaultLimits())
		var ce *Error
		if err == nil || errors.As(err, &ce) || !strings.Contains(err.Error(), "reading request body: connection reset") {
			t.Errorf("%q: error = %v; want the reader's error, not a client error", enc, err)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 512: "512 B", 1024: "1 KiB", 1536: "1.5 KiB", 1 << 20: "1 MiB",
		1468006: "1.4 MiB", 16 << 20: "16 MiB", 64 << 20: "64 MiB", 3 << 30: "3 GiB",
	} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func FuzzReadBody(f *testing.F) {
	data := []byte("2025-01-02 03:04:05 line one\nline two\n")
	f.Add(data, uint8(0))
	f.Add(gzipBytes(f, data), uint8(1))
	f.Add(zlibBytes(f, data), uint8(2))
	f.Add(flateBytes(f, data), uint8(2))
	f.Add(zstdBytes(f, data), uint8(3))
	f.Add(zstdBytes(f, gzipBytes(f, data)), uint8(4))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, uint8(1))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0}, uint8(3))
	encodings := []string{"", "gzip", "deflate", "zstd", "gzip, zstd", "identity, gzip", "br"}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		enc := encodings[int(which)%len(encodings)]
		lim := Limits{MaxBodyBytes: 4096, MaxDecompressedBytes: 1 << 16}
		got, err := ReadBody(bytes.NewReader(body), enc, lim)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("%q: error %v is not a client error", enc, err)
			}
			switch ce.Status {
			case 400, 413, 415:
			default:
				t.Fatalf("%q: status %d", enc, ce.Status)
			}
			if ce.Msg == "" {
				t.Fatalf("%q: empty message", enc)
			}
			return
		}
		if int64(len(got)) > lim.MaxDecompressedBytes {
			t.Fatalf("%q: %d bytes, over the limit", enc, len(got))
		}
		if (enc == "" || enc == "identity") && !bytes.Equal(got, body) {
			t.Fatalf("identity changed the body")
		}
		// Whatever decodes must round-trip through the same encoding.
		if enc == "gzip" {
			again, err := ReadBody(bytes.NewReader(gzipBytes(t, got)), "gzip", lim)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("gzip round trip: %v", err)
			}
		}
	})
}

// Bodies read in several chunks reuse the chunks of earlier ones: a body
// handed out must never share memory with a chunk that goes back to the
// pool, whatever is read after it.
func TestReadBodyChunkReuse(t *testing.T) {
	sizes := []int{minChunk - 1, minChunk, minChunk + 1, 3*minChunk + 7, 5 << 20, 20 << 20, 100}
	lim := DefaultLimits()
	lim.MaxDecompressedBytes, lim.MaxBodyBytes = 64<<20, 64<<20
	var bodies [][]byte
	var want [][]byte
	for i, n := range sizes {
		data := bytes.Repeat([]byte{'a' + byte(i)}, n)
		for j := 0; j < n; j += 4093 {
			data[j] = '\n'
		}
		// gzip as well as identity: the decoder reads in its own pieces.
		for _, enc := range []string{"", "gzip"} {
			body := data
			if enc == "gzip" {
				body = gzipBytes(t, data)
			}
			got, err := ReadBody(bytes.NewReader(body), enc, lim)
			if err != nil {
				t.Fatalf("%d bytes, %q: %v", n, enc, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%d bytes, %q: got %d bytes, not the body sent", n, enc, len(got))
			}
			bodies, want = append(bodies, got), append(want, bytes.Clone(data))
		}
	}
	// Read more, so pooled chunks are written over; then every body
	// handed out earlier must still be what it was.
	for range 3 {
		if _, err := ReadBody(bytes.NewReader(bytes.Repeat([]byte("z\n"), 10<<20)), "", lim); err != nil {
			t.Fatal(err)
		}
	}
	for i := range bodies {
		if !bytes.Equal(bodies[i], want[i]) {
			t.Fatalf("body %d (%d bytes) changed after later reads", i, len(want[i]))
		}
	}
}

// A body of many chunks allocates the body once, not its chunks again: they
// come from the pool.
func TestReadBodyChunksPooled(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef\n"), (12<<20)/17)
	lim := DefaultLimits()
	read := func() {
		got, err := ReadBody(bytes.NewReader(data), "", lim)
		if err != nil || len(got) != len(data) {
			t.Fatalf("%d bytes, %v", len(got), err)
		}
	}
	// A collection empties pools; the server's heap is large enough that
	// they come seldom, this test's is not. And a pool's item put on one
	// P is not always found from another.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	read() // fills the pool
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	read()
	runtime.ReadMemStats(&after)
	// The body itself plus a little; without the pool the chunks add
	// about as much again.
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(len(data)+len(data)/2) {
		t.Errorf("reading a %d-byte body allocated %d bytes", len(data), got)
	}
}

// TestReadBodyCharged: the charges add up to the memory of the body
// returned, a charge refused stops the read with that error, and what was
// charged before the refusal is given back.
func TestReadBodyCharged(t *testing.T) {
	data := bytes.Repeat([]byte("GET /index.html 200 1234\n"), 40_000) // 1 MB: several chunks
	for _, enc := range []string{"", "gzip"} {
		body := data
		if enc == "gzip" {
			body = gzipBytes(t, data)
		}
		var net, peak int64
		got, err := ReadBodyCharged(bytes.NewReader(body), enc, Limits{}, func(d int64) error {
			net += d
			peak = max(peak, net)
			return nil
		})
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%q: err %v, %d bytes", enc, err, len(got))
		}
		if net != int64(cap(got)) || peak < net {
			t.Fatalf("%q: charges add up to %d (peak %d), want cap(body) %d", enc, net, peak, cap(got))
		}

		refused := errors.New("over budget")
		net = 0
		_, err = ReadBodyCharged(bytes.NewReader(body), enc, Limits{}, func(d int64) error {
			if d > 0 && net+d > 300_000 {
				return refused
			}
			net += d
			return nil
		})
		if !errors.Is(err, refused) {
			t.Fatalf("%q: a refused charge gave %v", enc, err)
		}
		if net != 0 {
			t.Fatalf("%q: %d bytes still charged after the refusal", enc, net)
		}
	}
}
