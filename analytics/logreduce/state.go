package logreduce

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The binary form of a Miner, so that partial states can travel between
// processes (cluster workers) and be merged where the query runs:
//
//	"LRM1"
//	config: MaxSkeletons MaxSamples MaxLineBytes MaxTokens MaxSampleBytes (uvarint)
//	lines overflow (uvarint)
//	overflow samples
//	skeleton count (uvarint), then per skeleton, in key order:
//	  key (8 bytes LE) count (uvarint) words (uvarint n, then n strings)
//	  spacing (ceil(n/8) bytes, bit i set: word i follows without space)
//	  samples
//	samples: count (uvarint), then per sample hash (8 bytes LE) and string
//	string: length (uvarint) and bytes
//
// The encoding of a state is deterministic: equal states encode to equal
// bytes.

const stateMagic = "LRM1"

// MarshalBinary encodes the miner's state.
func (m *Miner) MarshalBinary() ([]byte, error) {
	b := []byte(stateMagic)
	for _, v := range []int{m.cfg.MaxSkeletons, m.cfg.MaxSamples, m.cfg.MaxLineBytes, m.cfg.MaxTokens, m.cfg.MaxSampleBytes} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = binary.AppendUvarint(b, uint64(m.lines))
	b = binary.AppendUvarint(b, uint64(m.overflow))
	b = appendSamples(b, m.ovSample)
	keys := make([]uint64, 0, len(m.skels))
	for k := range m.skels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		sk := m.skels[k]
		b = binary.LittleEndian.AppendUint64(b, k)
		b = binary.AppendUvarint(b, uint64(sk.count))
		b = binary.AppendUvarint(b, uint64(len(sk.toks)))
		for _, t := range sk.toks {
			b = appendString(b, t)
		}
		glue := make([]byte, (len(sk.toks)+7)/8)
		for i, g := range sk.glue {
			if g {
				glue[i/8] |= 1 << (i % 8)
			}
		}
		b = append(b, glue...)
		b = appendSamples(b, sk.samples)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendSamples(b []byte, s samples) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	for _, x := range s {
		b = binary.LittleEndian.AppendUint64(b, x.h)
		b = appendString(b, x.line)
	}
	return b
}

// limits of a decoded configuration, so that a corrupt state cannot ask for
// absurd amounts of memory
const (
	maxStateSkeletons = 1 << 24
	maxStateInt       = 1 << 30
)

// UnmarshalBinary replaces the miner's state with a decoded one. It checks
// every length against the input and the configuration, and returns an
// error, never panics, on corrupt data.
func (m *Miner) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if len(data) < len(stateMagic) || string(data[:len(stateMagic)]) != stateMagic {
		return errors.New("logreduce: not a miner state")
	}
	d.b = d.b[len(stateMagic):]
	var cfg Config
	for _, p := range []*int{&cfg.MaxSkeletons, &cfg.MaxSamples, &cfg.MaxLineBytes, &cfg.MaxTokens, &cfg.MaxSampleBytes} {
		*p = int(d.uvarint(maxStateInt))
	}
	if d.err == nil && (cfg.MaxSkeletons > maxStateSkeletons || cfg.MaxSamples > 1<<10 || cfg.MaxTokens > 1<<16) {
		d.fail("configuration out of range")
	}
	if d.err == nil && cfg.withDefaults() != cfg {
		d.fail("configuration without defaults")
	}
	n := New(cfg)
	n.lines = int64(d.uvarint(1 << 62))
	n.overflow = int64(d.uvarint(1 << 62))
	n.ovSample = d.samples(cfg)
	count := int(d.uvarint(uint64(cfg.MaxSkeletons)))
	var prev uint64
	for i := 0; i < count && d.err == nil; i++ {
		key := d.uint64()
		if i > 0 && key <= prev {
			d.fail("skeletons out of order")
			break
		}
		prev = key
		sk := &skeleton{key: key, count: int64(d.uvarint(1 << 62))}
		nt := int(d.uvarint(uint64(cfg.MaxTokens)))
		sk.toks = make([]string, 0, nt)
		for k := 0; k < nt && d.err == nil; k++ {
			sk.toks = append(sk.toks, d.string(cfg.MaxLineBytes+len(Wildcard)))
		}
		glue := d.bytes((nt + 7) / 8)
		sk.glue = make([]bool, nt)
		for k := 0; k < nt && d.err == nil; k++ {
			sk.glue[k] = glue[k/8]&(1<<(k%8)) != 0
		}
		sk.samples = d.samples(cfg)
		n.skels[key] = sk
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return d.err
	}
	*m = *n
	return nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("logreduce: corrupt miner state: %s", msg)
	}
}

func (d *decoder) uvarint(max uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	if v > max {
		d.fail("number out of range")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uint64() uint64 {
	b := d.bytes(8)
	if d.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return make([]byte, n)
	}
	if n < 0 || n > len(d.b) {
		d.fail("truncated")
		return make([]byte, max(n, 0))
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

func (d *decoder) string(max int) string {
	n := int(d.uvarint(uint64(max)))
	return string(d.bytes(n))
}

func (d *decoder) samples(cfg Config) samples {
	n := int(d.uvarint(uint64(cfg.MaxSamples)))
	var s samples
	for i := 0; i < n && d.err == nil; i++ {
		h := d.uint64()
		line := d.string(cfg.MaxSampleBytes)
		if i > 0 && h <= s[i-1].h {
			d.fail("samples out of order")
		}
		s = append(s, sample{h, line})
	}
	return s
}
