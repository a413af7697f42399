package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// On-disk format.
//
// The WAL directory holds segment files named by the sequence number of
// their first record ("%020d.wal"), a checkpoint file and a lock file.
//
// A segment starts with a 32-byte header:
//
//	0  8  magic "DOHYOWAL"
//	8  4  format version (little endian), currently 1
//	12 4  reserved, zero
//	16 8  sequence number of the first record (equals the file name)
//	24 4  CRC32C (Castagnoli) of bytes 0..24
//	28 4  reserved, zero
//
// followed by records, back to back, each a 16-byte header and the payload:
//
//	0  4  CRC32C of the payload followed by header bytes 4..16
//	4  4  flags (top 2 bits) | payload length (low 30 bits)
//	8  8  sequence number
//	16 …  payload
//
// Sequence numbers are dense: record i of a segment has sequence first+i,
// and a segment starts with the sequence after the last record of the one
// before it.
//
// flagSyncedBefore on a record says that every byte before it in the file had
// been fsynced when it was written. Recovery uses it to tell a torn tail
// (damage confined to bytes that were never fsynced, which a crash may leave
// half-written) from corruption of fsynced data (followed by an intact record
// carrying the flag), which is an error.
//
// The checkpoint file ("checkpoint") is 16 bytes: magic "DWCK", the
// checkpoint sequence (8 bytes) and the CRC32C of the first 12 bytes. It is
// replaced atomically (write a temporary file, fsync, rename, fsync the
// directory).
const (
	segmentMagic   = "DOHYOWAL"
	segmentVersion = 1
	segmentHdrSize = 32
	recordHdrSize  = 16

	flagSyncedBefore = 1 << 31
	lengthMask       = 1<<30 - 1
	// maxRecordLimit is the largest payload the format can describe.
	maxRecordLimit = lengthMask

	segmentExt      = ".wal"
	tmpExt          = ".tmp"
	checkpointName  = "checkpoint"
	checkpointSize  = 16
	checkpointMagic = "DWCK"
	lockName        = "LOCK"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segmentName returns the file name of the segment whose first record has
// sequence first.
func segmentName(first uint64) string { return fmt.Sprintf("%020d%s", first, segmentExt) }

// parseSegmentName returns the first sequence encoded in a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(base) != 20 {
		return 0, false
	}
	first, err := strconv.ParseUint(base, 10, 64)
	if err != nil || first == 0 {
		return 0, false
	}
	return first, true
}

func appendSegmentHeader(dst []byte, first uint64) []byte {
	start := len(dst)
	dst = append(dst, segmentMagic...)
	dst = binary.LittleEndian.AppendUint32(dst, segmentVersion)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, first)
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	return dst
}

// checkSegmentHeader verifies a segment header and that it names first.
func checkSegmentHeader(h []byte, first uint64) error {
	if len(h) < segmentHdrSize {
		return errors.New("segment header truncated")
	}
	if string(h[:8]) != segmentMagic {
		return errors.New("not a WAL segment (bad magic)")
	}
	if got := binary.LittleEndian.Uint32(h[24:]); got != crc32.Checksum(h[:24], castagnoli) {
		return errors.New("segment header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(h[8:]); v != segmentVersion {
		return fmt.Errorf("unsupported segment version %d", v)
	}
	if got := binary.LittleEndian.Uint64(h[16:]); got != first {
		return fmt.Errorf("segment header says first sequence %d, file name says %d", got, first)
	}
	return nil
}

// recordHeader is a decoded record header.
type recordHeader struct {
	crc   uint32
	flags uint32
	size  int64 // payload length
	seq   uint64
}

func parseRecordHeader(h []byte) recordHeader {
	lf := binary.LittleEndian.Uint32(h[4:])
	return recordHeader{
		crc:   binary.LittleEndian.Uint32(h[0:]),
		flags: lf &^ lengthMask,
		size:  int64(lf & lengthMask),
		seq:   binary.LittleEndian.Uint64(h[8:]),
	}
}

// putRecordHeader fills the 16-byte header at h for a payload whose CRC32C is
// payloadCRC.
func putRecordHeader(h []byte, payloadCRC uint32, flags uint32, size int, seq uint64) {
	binary.LittleEndian.PutUint32(h[4:], flags|uint32(size))
	binary.LittleEndian.PutUint64(h[8:], seq)
	binary.LittleEndian.PutUint32(h[0:], crc32.Update(payloadCRC, castagnoli, h[4:recordHdrSize]))
}

// recordCRC is the checksum stored in a record header: the payload, then the
// header after the checksum field.
func recordCRC(h, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(payload, castagnoli), castagnoli, h[4:recordHdrSize])
}

// readCheckpoint returns the checkpoint stored in dir, or 0 if there is none.
func readCheckpoint(dir string) (uint64, error) {
	path := filepath.Join(dir, checkpointName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("wal: read checkpoint: %w", err)
	}
	if len(b) != checkpointSize || string(b[:4]) != checkpointMagic ||
		binary.LittleEndian.Uint32(b[12:]) != crc32.Checksum(b[:12], castagnoli) {
		return 0, fmt.Errorf("wal: checkpoint file %s is corrupt (%d bytes)", path, len(b))
	}
	return binary.LittleEndian.Uint64(b[4:]), nil
}

// writeCheckpoint replaces the checkpoint file atomically and durably.
func writeCheckpoint(dir string, seq uint64) error {
	b := make([]byte, 0, checkpointSize)
	b = append(b, checkpointMagic...)
	b = binary.LittleEndian.AppendUint64(b, seq)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	path := filepath.Join(dir, checkpointName)
	tmp := path + tmpExt
	if err := writeFileSync(tmp, b); err != nil {
		return fmt.Errorf("wal: write checkpoint %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("wal: write checkpoint: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("wal: write checkpoint: %w", err)
	}
	return nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir fsyncs a directory so that file creations, renames and removals in
// it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
