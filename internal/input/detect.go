package input

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Compression names, as reported in Source.Compression.
const (
	None = "none"
	Zstd = "zstd"
	LZ4  = "lz4"
	XZ   = "xz"
	Gzip = "gzip"
)

// Magic numbers, from the format specifications:
// zstd RFC 8878 §3.1.1 (frame) and §3.1.2 (skippable frames, shared with
// LZ4), the LZ4 Frame Format 1.6.x (frame and legacy frame), the .xz File
// Format 1.2.0 §2.1.1.1, and gzip RFC 1952 §2.3.1 (ID1 ID2 and CM=8).
var (
	magicZstd      = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicLZ4       = []byte{0x04, 0x22, 0x4d, 0x18}
	magicLZ4Legacy = []byte{0x02, 0x21, 0x4c, 0x18}
	magicXZ        = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicGzip      = []byte{0x1f, 0x8b, 0x08}
)

// A skippable frame starts with a little-endian magic 0x184D2A50..5F and a
// 4-byte little-endian length of the data that follows.
const (
	skippableMask  = 0xfffffff0
	skippableMagic = 0x184d2a50
	skippableHdr   = 8
	// maxSkippable bounds the skippable frames stepped over when looking
	// for the first real frame.
	maxSkippable = 16
)

// ErrAmbiguous is returned when skippable frames run past what can be
// examined (the end of a stdin peek window) so zstd and LZ4 cannot be told
// apart.
var ErrAmbiguous = errors.New("input: cannot tell zstd from lz4: skippable frames run past the examined bytes")

// Detect returns the compression of the data in r (of the given size) by
// its first bytes: None when no known magic is present (the data is used
// as it is). Skippable frames, which both zstd and LZ4 allow at the start,
// are stepped over to find the first real frame; a stream made only of
// skippable frames counts as zstd.
func Detect(r io.ReaderAt, size int64) (string, error) {
	var b [8]byte
	off := int64(0)
	for i := 0; i <= maxSkippable; i++ {
		n, err := r.ReadAt(b[:], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("input: reading magic at offset %d: %w", off, err)
		}
		head := b[:n]
		switch {
		case bytes.HasPrefix(head, magicZstd):
			return Zstd, nil
		case bytes.HasPrefix(head, magicLZ4), bytes.HasPrefix(head, magicLZ4Legacy):
			return LZ4, nil
		case off == 0 && bytes.HasPrefix(head, magicXZ):
			return XZ, nil
		case off == 0 && bytes.HasPrefix(head, magicGzip):
			return Gzip, nil
		}
		if n < skippableHdr || binary.LittleEndian.Uint32(head)&skippableMask != skippableMagic {
			if off == 0 {
				return None, nil
			}
			// Skippable frames followed by something else: the zstd
			// decoder will report what is wrong with it.
			return Zstd, nil
		}
		off += skippableHdr + int64(binary.LittleEndian.Uint32(head[4:]))
		if off >= size {
			if off > size {
				return "", ErrAmbiguous
			}
			return Zstd, nil
		}
	}
	return "", fmt.Errorf("input: more than %d skippable frames at the start", maxSkippable)
}
