package elfx

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// MaxMapped bounds the size of a file Map maps.
const MaxMapped = 8 << 30

// Mapped is a file mapped read-only into memory, for ELF sections that are read whole
// (DWARF). An uncompressed section is a slice of the mapping: nothing is copied, the
// bytes are not on the Go heap, and only the pages a reader touches are read from disk.
//
// Lifetime: slices returned by Raw and Section for uncompressed sections, and anything
// that aliases them (debug/dwarf's []byte attribute values, for instance), are valid
// until Close; using them afterwards faults. A file truncated while it is mapped makes
// reading past its new end fault too (SIGBUS); the files mapped here are installed
// binaries and debug files, which package managers replace by rename, not in place.
type Mapped struct {
	b     []byte
	class elf.Class
	order binary.ByteOrder
}

// Map maps f read-only. The file may be closed afterwards.
func Map(f *os.File) (*Mapped, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size <= 0 || size > MaxMapped {
		return nil, fmt.Errorf("elfx: %s: size %d is not mappable (limit %d)", f.Name(), size, int64(MaxMapped))
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("elfx: mapping %s: %w", f.Name(), err)
	}
	m := &Mapped{b: b}
	if len(b) > 6 {
		m.class = elf.Class(b[elf.EI_CLASS])
		if elf.Data(b[elf.EI_DATA]) == elf.ELFDATA2MSB {
			m.order = binary.BigEndian
		} else {
			m.order = binary.LittleEndian
		}
	}
	return m, nil
}

// Bytes returns the whole mapping.
func (m *Mapped) Bytes() []byte { return m.b }

// Close unmaps the file. Slices handed out before must not be used after it.
func (m *Mapped) Close() error {
	if m == nil || m.b == nil {
		return nil
	}
	b := m.b
	m.b = nil
	return syscall.Munmap(b)
}

// Raw returns the bytes of s as stored in the file (still compressed when s is).
func (m *Mapped) Raw(s *elf.Section) ([]byte, error) {
	if s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	end := s.Offset + s.FileSize
	if end < s.Offset || end > uint64(len(m.b)) {
		return nil, &FormatError{What: "section " + s.Name, Off: int64(s.Offset), Err: fmt.Errorf("%d bytes run past the end of the file (%d bytes)", s.FileSize, len(m.b))}
	}
	return m.b[s.Offset:end:end], nil
}

// Compressed reports whether s is stored compressed: SHF_COMPRESSED, or a GNU
// .zdebug_* section.
func Compressed(s *elf.Section) bool {
	return s.Flags&elf.SHF_COMPRESSED != 0 || len(s.Name) > 8 && s.Name[:8] == ".zdebug_"
}

// Section returns the contents of s: a slice of the mapping when s is stored
// uncompressed, else the decompressed bytes, at most limit of them, on the heap.
func (m *Mapped) Section(s *elf.Section, limit uint64) ([]byte, error) {
	raw, err := m.Raw(s)
	if err != nil || raw == nil {
		return raw, err
	}
	if !Compressed(s) {
		if uint64(len(raw)) > limit {
			return nil, fmt.Errorf("elfx: section %s is %d bytes, over the %d-byte limit", s.Name, len(raw), limit)
		}
		return raw, nil
	}
	return m.Decompress(s, raw, limit)
}

// ELF compression types (gABI, ch_type of Elf64_Chdr).
const (
	ELFCOMPRESS_ZLIB = 1
	ELFCOMPRESS_ZSTD = 2
)

// Decompress decompresses raw, the stored bytes of the compressed section s: an
// SHF_COMPRESSED section (Elf32_Chdr/Elf64_Chdr, then a zlib or zstd stream, gABI
// "Section Compression") or a GNU .zdebug_* section ("ZLIB", a big-endian 64-bit size,
// then a zlib stream). The declared size is checked against limit before anything is
// allocated, and the stream must produce that many bytes (as debug/elf reads them, bytes
// after them are not read).
func (m *Mapped) Decompress(s *elf.Section, raw []byte, limit uint64) ([]byte, error) {
	typ, size, body, err := m.header(s, raw)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return &FormatError{What: "compressed section " + s.Name, Off: int64(s.Offset), Err: fmt.Errorf(format, args...)}
	}
	if size > limit {
		return nil, bad("decompressed size %d is over the %d-byte limit", size, limit)
	}
	out := make([]byte, size)
	switch typ {
	case ELFCOMPRESS_ZLIB:
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, bad("zlib: %w", err)
		}
		defer zr.Close()
		if _, err := io.ReadFull(zr, out); err != nil {
			return nil, bad("zlib stream gave fewer than the %d bytes its header declares: %w", size, err)
		}
	case ELFCOMPRESS_ZSTD:
		zr, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(size+1))
		if err != nil {
			return nil, bad("zstd: %w", err)
		}
		defer zr.Close()
		got, err := zr.DecodeAll(body, out[:0])
		if err != nil {
			return nil, bad("zstd: %w", err)
		}
		if uint64(len(got)) != size {
			return nil, bad("zstd stream gave %d bytes, its header declares %d", len(got), size)
		}
		out = got
	default:
		return nil, bad("unknown compression type %d", typ)
	}
	return out, nil
}

// DecompressedSize returns the size the header of compressed section s declares; raw is
// its stored bytes.
func (m *Mapped) DecompressedSize(s *elf.Section, raw []byte) (uint64, error) {
	_, size, _, err := m.header(s, raw)
	return size, err
}

// header reads the compression header of s from raw: the compression type, the
// decompressed size and the compressed stream.
func (m *Mapped) header(s *elf.Section, raw []byte) (typ uint32, size uint64, body []byte, err error) {
	bad := func(format string, args ...any) error {
		return &FormatError{What: "compressed section " + s.Name, Off: int64(s.Offset), Err: fmt.Errorf(format, args...)}
	}
	switch {
	case s.Flags&elf.SHF_COMPRESSED != 0 && m.class == elf.ELFCLASS64:
		if len(raw) < 24 {
			return 0, 0, nil, bad("shorter than its 24-byte header")
		}
		return m.order.Uint32(raw), m.order.Uint64(raw[8:]), raw[24:], nil
	case s.Flags&elf.SHF_COMPRESSED != 0 && m.class == elf.ELFCLASS32:
		if len(raw) < 12 {
			return 0, 0, nil, bad("shorter than its 12-byte header")
		}
		return m.order.Uint32(raw), uint64(m.order.Uint32(raw[4:])), raw[12:], nil
	case s.Flags&elf.SHF_COMPRESSED != 0:
		return 0, 0, nil, bad("unknown ELF class %v", m.class)
	}
	if len(raw) < 12 || string(raw[:4]) != "ZLIB" {
		return 0, 0, nil, bad("no ZLIB header")
	}
	return ELFCOMPRESS_ZLIB, binary.BigEndian.Uint64(raw[4:]), raw[12:], nil
}
