// Package ingest holds the layer every receiver shares, below HTTP: decoding a
// request body (Content-Encoding, size limits) and splitting it into events
// (lines, multiline grouping, CloudTrail delivery files, JSON field
// extraction, timestamp detection). The HTTP handler calls ReadBody, then
// Parse, and answers with the status of any *Error they return.
package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/dohyo/dohyo/event"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Error is a client error with the HTTP status the receiver must answer.
type Error struct {
	Status int    // 400 malformed, 413 too large, 415 unsupported encoding
	Msg    string // what was wrong and where, e.g. `line 17 is 1.4 MiB, over the 1 MiB line limit`
	Err    error  // the underlying cause, if any (a decoder's or JSON scanner's error)
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func clientError(status int, cause error, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// Limits bound what one request may cost. A zero field means its default.
type Limits struct {
	MaxBodyBytes         int64 // bytes on the wire (compressed), default 16 MiB
	MaxDecompressedBytes int64 // after decompression, default 64 MiB
	MaxLineBytes         int   // one event's raw text, default 1 MiB
	MaxEvents            int   // events per request, default event.MaxBatchEvents
}

// DefaultLimits returns the limits used when a source sets none.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes:         16 << 20,
		MaxDecompressedBytes: 64 << 20,
		MaxLineBytes:         1 << 20,
		MaxEvents:            event.MaxBatchEvents,
	}
}

// withDefaults fills the zero fields, so that Limits{} means "the defaults"
// rather than "refuse everything".
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = d.MaxDecompressedBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = d.MaxLineBytes
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = d.MaxEvents
	}
	return l
}

// errWireLimit is what the wire reader returns once the body is over
// MaxBodyBytes. Decoders may wrap or replace it, so the reader also keeps a
// flag that ReadBody checks first.
var errWireLimit = errors.New("request body over the size limit")

// wireReader counts the bytes read from the request and refuses to read past
// the limit: a client cannot make us read more than limit+1 bytes.
type wireReader struct {
	r     io.Reader
	n     int64 // bytes read so far
	limit int64
	over  bool  // the client sent more than limit bytes
	eof   bool  // the client's body ended
	err   error // the first read error other than EOF: the connection's, not the data's
}

func (w *wireReader) Read(p []byte) (int, error) {
	if w.over {
		return 0, errWireLimit
	}
	if room := w.limit + 1 - w.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := w.r.Read(p)
	w.n += int64(n)
	if err == io.EOF {
		w.eof = true
	} else if err != nil && w.err == nil {
		w.err = err
	}
	if w.n > w.limit {
		w.over = true
		return n, errWireLimit
	}
	return n, err
}

// parseContentEncoding returns the codings of a Content-Encoding header in
// the order they must be undone (the last one applied first), without
// identity. HTTP allows a list ("gzip, identity") and repeated headers.
func parseContentEncoding(h string) ([]string, error) {
	var codings []string
	for _, c := range strings.Split(h, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		switch c {
		case "", "identity":
			continue
		case "x-gzip":
			c = "gzip"
		case "gzip", "deflate", "zstd":
		default:
			return nil, clientError(http.StatusUnsupportedMediaType, nil,
				"unsupported Content-Encoding %q: use gzip, deflate, zstd or identity", c)
		}
		codings = append(codings, c)
	}
	for i, j := 0, len(codings)-1; i < j; i, j = i+1, j-1 {
		codings[i], codings[j] = codings[j], codings[i]
	}
	return codings, nil
}

// ReadBody reads a request body, undoing its Content-Encoding (gzip, deflate
// with or without the zlib wrapper, zstd, identity, or a comma-separated
// chain of them), and returns the decoded bytes.
//
// It never holds more than the limits in memory: the wire is read through a
// counter that stops one byte past MaxBodyBytes, and the decoded stream one
// byte past MaxDecompressedBytes, so a compression bomb costs at most the
// limit. Errors are *Error: 415 for an unknown coding, 413 for a body over a
// limit, 400 for data the decoder rejects.
func ReadBody(r io.Reader, contentEncoding string, lim Limits) ([]byte, error) {
	return ReadBodyCharged(r, contentEncoding, lim, nil)
}

// ReadBodyCharged is ReadBody that accounts for the memory it holds while
// decoding: charge is called with the size of each buffer before it is
// allocated, and with a negative size when a buffer is let go, so that the
// charges add up to cap of the body returned. An error from charge stops the
// read and is returned as it is. A nil charge is ReadBody.
func ReadBodyCharged(r io.Reader, contentEncoding string, lim Limits, charge func(delta int64) error) ([]byte, error) {
	lim = lim.withDefaults()
	var chargeErr error
	if charge != nil {
		c := charge
		charge = func(delta int64) error {
			if err := c(delta); err != nil {
				chargeErr = err
				return err
			}
			return nil
		}
	}
	codings, err := parseContentEncoding(contentEncoding)
	if err != nil {
		return nil, err
	}
	wire := &wireReader{r: r, limit: lim.MaxBodyBytes}
	var src io.Reader = wire
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, c := range codings {
		d, err := newDecoder(c, src, lim)
		if err != nil && wire.empty() {
			return nil, nil
		}
		if err != nil {
			return nil, decodeError(wire, c, lim, err)
		}
		if cl, ok := d.(io.Closer); ok {
			closers = append(closers, cl)
		}
		src = &codingReader{r: d, coding: c}
	}
	limit := lim.MaxDecompressedBytes
	if len(codings) == 0 && lim.MaxBodyBytes < limit {
		limit = lim.MaxBodyBytes
	}
	body, err := readAtMost(src, limit, charge)
	if chargeErr != nil {
		return nil, chargeErr
	}
	if wire.over {
		return nil, tooLargeWire(lim)
	}
	if err != nil && wire.empty() {
		return nil, nil
	}
	switch {
	case err == nil:
		return body, nil
	case errors.Is(err, errDecodedLimit) && len(codings) == 0:
		return nil, clientError(http.StatusRequestEntityTooLarge, nil,
			"request body is over the %s limit", formatSize(limit))
	case errors.Is(err, errDecodedLimit):
		return nil, clientError(http.StatusRequestEntityTooLarge, nil,
			"request body decompresses to more than the %s limit (Content-Encoding %s; %d bytes read on the wire)",
			formatSize(limit), strings.Join(codings, ", "), wire.n)
	case len(codings) == 0:
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	return nil, decodeError(wire, codings[len(codings)-1], lim, err)
}

// codingReader tags a decoder's errors with its coding, so that in a chain
// ("gzip, zstd") the 400 names the layer that is corrupt, even though the
// error surfaces through the decoders stacked on top of it.
type codingReader struct {
	r      io.Reader
	coding string
}

type codingError struct {
	coding string
	err    error
}

func (e *codingError) Error() string { return e.coding + ": " + e.err.Error() }
func (e *codingError) Unwrap() error { return e.err }

func (c *codingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		var ce *codingError
		if !errors.As(err, &ce) {
			err = &codingError{coding: c.coding, err: err}
		}
	}
	return n, err
}

// empty reports an empty request body: an empty upload whatever coding it
// claims, since curl sends one for an empty file with the header set.
func (w *wireReader) empty() bool { return w.n == 0 && w.eof }

func tooLargeWire(lim Limits) *Error {
	return clientError(http.StatusRequestEntityTooLarge, nil,
		"request body is over the %s limit", formatSize(lim.MaxBodyBytes))
}

// decodeError turns a decoder's complaint into a 400, unless the real
// reason is that the wire limit cut the stream short or that reading the
// request failed (a dropped connection is not corrupt data).
func decodeError(wire *wireReader, coding string, lim Limits, err error) error {
	if wire.over || errors.Is(err, errWireLimit) {
		return tooLargeWire(lim)
	}
	if wire.err != nil {
		return fmt.Errorf("reading request body: %w", wire.err)
	}
	var ce *codingError
	if errors.As(err, &ce) {
		coding, err = ce.coding, ce.err
	}
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		// The frame asks for more memory than a body may decode to.
		return clientError(http.StatusRequestEntityTooLarge, err,
			"zstd body needs a decoding window over the %s limit: %v", formatSize(zstdWindow(lim)), err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return clientError(http.StatusBadRequest, err,
			"corrupt %s body: the compressed data ends early (after %d bytes on the wire)", coding, wire.n)
	}
	return clientError(http.StatusBadRequest, err, "corrupt %s body: %v", coding, err)
}

func newDecoder(coding string, src io.Reader, lim Limits) (io.Reader, error) {
	switch coding {
	case "gzip":
		return gzip.NewReader(src)
	case "deflate":
		return newDeflateReader(src)
	case "zstd":
		// Concurrency 1 keeps the decoding in this goroutine, with one
		// block in flight; the window cap keeps a forged frame header from
		// making us allocate gigabytes.
		d, err := zstd.NewReader(src,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(uint64(zstdWindow(lim))),
			zstd.WithDecodeBuffersBelow(0),
		)
		if err != nil {
			return nil, err
		}
		return zstdReader{d}, nil
	}
	// Unreachable: parseContentEncoding lets no other coding through.
	return nil, fmt.Errorf("ingest: no decoder for %q", coding)
}

// zstdWindow is the largest zstd window accepted: a frame's window is
// what the decoder allocates up front, and no legitimate body needs one
// larger than what it may decode to (zstd's own default cap is 512 MB).
func zstdWindow(lim Limits) int64 {
	return min(max(lim.MaxDecompressedBytes, zstd.MinWindowSize), 128<<20)
}

// zstdReader adapts *zstd.Decoder, whose Close has no error result.
type zstdReader struct{ *zstd.Decoder }

func (z zstdReader) Close() error { z.Decoder.Close(); return nil }

// newDeflateReader accepts both forms clients send for "deflate": the zlib
// stream RFC 9110 means, and the raw deflate stream some clients (and old
// browsers) send instead. A zlib stream starts with a 2-byte header whose
// compression method is 8 and whose value is a multiple of 31; a raw stream
// matches that by chance with low odds, and zlib's checksum would then fail
// loudly rather than yield wrong data.
func newDeflateReader(src io.Reader) (io.Reader, error) {
	br := bufio.NewReader(src)
	h, err := br.Peek(2)
	if err != nil && len(h) == 0 {
		return nil, err
	}
	if len(h) == 2 && h[0]&0x0f == 8 && h[0]>>4 <= 7 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// errDecodedLimit reports a decoded stream longer than the limit.
var errDecodedLimit = errors.New("decoded body over the size limit")

// readAtMost reads r to the end, but fails with errDecodedLimit as soon as
// it has seen limit+1 bytes: the extra byte proves the body is too large
// without inflating any more of it.
//
// charge, when not nil, is told of every chunk before it is allocated and of
// the chunks let go after the join (ReadBodyCharged).
func readAtMost(r io.Reader, limit int64, charge func(delta int64) error) ([]byte, error) {
	// Read into a list of chunks that grow geometrically and join them
	// once at the end: every byte is copied once, not at every doubling.
	// The chunks of a joined body are garbage at once, so they go back to
	// a pool for the next body instead of to the garbage collector.
	var chunks [][]byte
	charged := int64(0) // the chunks' capacities
	keep := false       // chunks[0] is the body
	defer func() {
		if keep {
			return
		}
		for _, c := range chunks {
			putChunk(c)
		}
		if charge != nil && charged > 0 {
			charge(-charged)
		}
	}()
	total := int64(0)
	size := min(limit+1, minChunk)
	for {
		if total > limit {
			return nil, errDecodedLimit
		}
		if charge != nil {
			if err := charge(size); err != nil {
				return nil, err
			}
			charged += size
		}
		buf := getChunk(size)
		n, err := io.ReadFull(r, buf)
		chunks = append(chunks, buf[:n])
		total += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
		size = min(size*2, maxChunk, limit+1-total+1)
		if size <= 0 {
			size = 1
		}
	}
	if total > limit {
		return nil, errDecodedLimit
	}
	if len(chunks) == 1 {
		keep = true
		return chunks[0], nil
	}
	if charge != nil {
		if err := charge(total); err != nil {
			return nil, err
		}
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// The chunks readAtMost reads into: minChunk doubled up to maxChunk.
const (
	minChunk = 64 << 10
	maxChunk = 8 << 20
)

// chunkPools hold readAtMost's chunks by size, minChunk<<i in pool i.
var chunkPools [8]sync.Pool

// chunkPool returns the pool for chunks of exactly size bytes, or nil for
// a size readAtMost does not reuse (a first chunk cut short by a small
// limit, or the last one before the limit).
func chunkPool(size int64) *sync.Pool {
	for i := range chunkPools {
		if size == minChunk<<i {
			return &chunkPools[i]
		}
	}
	return nil
}

func getChunk(size int64) []byte {
	if p := chunkPool(size); p != nil {
		if b, ok := p.Get().(*[]byte); ok {
			return (*b)[:size]
		}
	}
	return make([]byte, size)
}

func putChunk(b []byte) {
	if p := chunkPool(int64(cap(b))); p != nil {
		b = b[:cap(b)]
		p.Put(&b)
	}
}

// formatSize renders a byte count the way limits are spoken of: "16 MiB",
// "1.4 MiB", "512 B".
func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + [...]string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}[exp]
}
