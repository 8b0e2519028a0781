// Package elfx is a thin, bounded layer over the ELF format for the parts coredig reads
// itself rather than through debug/elf: the file header and program headers (including the
// PN_XNUM escape that cores with more than 65534 mappings use), note segments, and the GNU
// build-id. It works over any io.ReaderAt, so the same code reads a core file, a binary on
// disk, or an ELF image inside a core's memory. Sections that are read whole (DWARF) come
// from a read-only mapping of the file instead ([Map]): uncompressed ones are slices of it,
// compressed ones (SHF_COMPRESSED zlib or zstd, GNU .zdebug_*) are decompressed with their
// declared size checked first.
//
// Every count and size read from the input is checked against the input's size and fixed
// caps before anything is allocated. Errors are *FormatError values naming the structure
// and the offset.
//
// Source: the System V gABI (ELF header, program header, note layout) and
// linux/include/uapi/linux/elf.h.
package elfx

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits on what is read from untrusted input.
const (
	MaxProgs     = 1 << 20  // program headers (PN_XNUM allows up to 2^32)
	MaxNoteBytes = 64 << 20 // one PT_NOTE segment
	MaxNotes     = 1 << 20  // notes in one segment
)

// FormatError reports malformed input at a file offset.
type FormatError struct {
	What string // the structure being read
	Off  int64
	Err  error
}

func (e *FormatError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s at offset %#x: %v", e.What, e.Off, e.Err)
	}
	return fmt.Sprintf("%s at offset %#x", e.What, e.Off)
}

func (e *FormatError) Unwrap() error { return e.Err }

// ErrNotELF is returned when the input does not start with the ELF magic.
var ErrNotELF = errors.New("not an ELF file")

// Header is the part of the ELF file header coredig uses.
type Header struct {
	Class     elf.Class
	Data      elf.Data
	ByteOrder binary.ByteOrder
	Type      elf.Type
	Machine   elf.Machine
	Entry     uint64
	PhOff     uint64
	PhEntSize uint16
	PhNum     uint32 // after resolving PN_XNUM
	ShOff     uint64
	ShEntSize uint16
	ShNum     uint32
}

// Prog is a program header.
type Prog struct {
	Type   elf.ProgType
	Flags  elf.ProgFlag
	Off    uint64
	Vaddr  uint64
	Paddr  uint64
	Filesz uint64
	Memsz  uint64
	Align  uint64
}

// ReadHeader reads and checks the ELF header and, for PN_XNUM, section header 0.
func ReadHeader(r io.ReaderAt) (*Header, error) {
	var ident [elf.EI_NIDENT]byte
	if n, err := r.ReadAt(ident[:], 0); n < len(ident) {
		if n >= 4 && string(ident[:4]) != elf.ELFMAG {
			return nil, ErrNotELF
		}
		return nil, &FormatError{What: "ELF identification", Off: 0, Err: shortRead(err)}
	}
	if string(ident[:4]) != elf.ELFMAG {
		return nil, ErrNotELF
	}
	h := &Header{Class: elf.Class(ident[elf.EI_CLASS]), Data: elf.Data(ident[elf.EI_DATA])}
	switch h.Data {
	case elf.ELFDATA2LSB:
		h.ByteOrder = binary.LittleEndian
	case elf.ELFDATA2MSB:
		h.ByteOrder = binary.BigEndian
	default:
		return nil, &FormatError{What: "ELF data encoding", Off: elf.EI_DATA, Err: fmt.Errorf("unknown value %d", h.Data)}
	}
	var size int
	switch h.Class {
	case elf.ELFCLASS64:
		size = 64
	case elf.ELFCLASS32:
		size = 52
	default:
		return nil, &FormatError{What: "ELF class", Off: elf.EI_CLASS, Err: fmt.Errorf("unknown value %d", h.Class)}
	}
	buf := make([]byte, size)
	if n, err := r.ReadAt(buf, 0); n < size {
		return nil, &FormatError{What: "ELF header", Off: 0, Err: shortRead(err)}
	}
	c := NewCursor(buf[16:], h.ByteOrder, h.Class == elf.ELFCLASS64)
	h.Type = elf.Type(c.U16())
	h.Machine = elf.Machine(c.U16())
	c.U32() // e_version
	h.Entry = c.Addr()
	h.PhOff = c.Addr()
	h.ShOff = c.Addr()
	c.U32() // e_flags
	c.U16() // e_ehsize
	h.PhEntSize = c.U16()
	h.PhNum = uint32(c.U16())
	h.ShEntSize = c.U16()
	h.ShNum = uint32(c.U16())
	want := uint16(56)
	if h.Class == elf.ELFCLASS32 {
		want = 32
	}
	if h.PhNum > 0 && h.PhEntSize != want {
		return nil, &FormatError{What: "ELF header e_phentsize", Off: 0, Err: fmt.Errorf("%d, want %d", h.PhEntSize, want)}
	}
	if h.PhNum == 0xffff && h.ShOff != 0 { // PN_XNUM: the real count is sh_info of section 0
		var sh [64]byte
		infoOff := 44
		if h.Class == elf.ELFCLASS32 {
			infoOff = 28
		}
		if k, err := r.ReadAt(sh[:infoOff+4], int64(h.ShOff)); k < infoOff+4 {
			return nil, &FormatError{What: "section header 0 (PN_XNUM)", Off: int64(h.ShOff), Err: shortRead(err)}
		}
		h.PhNum = h.ByteOrder.Uint32(sh[infoOff:])
	}
	if h.PhNum > MaxProgs {
		return nil, &FormatError{What: "ELF header e_phnum", Off: 0, Err: fmt.Errorf("%d program headers exceeds the limit of %d", h.PhNum, MaxProgs)}
	}
	return h, nil
}

// ReadProgs reads all program headers.
func ReadProgs(r io.ReaderAt, h *Header) ([]Prog, error) {
	if h.PhNum == 0 {
		return nil, nil
	}
	ent := int64(h.PhEntSize)
	total := ent * int64(h.PhNum)
	buf := make([]byte, 0, min(total, 1<<20))
	// Read in bounded chunks so a lying e_phnum cannot make us allocate before we see data.
	for off := int64(0); off < total; {
		chunk := min(total-off, 1<<20)
		tmp := make([]byte, chunk)
		n, err := r.ReadAt(tmp, int64(h.PhOff)+off)
		if int64(n) < chunk {
			return nil, &FormatError{What: "program header table", Off: int64(h.PhOff) + off + int64(n), Err: shortRead(err)}
		}
		buf = append(buf, tmp...)
		off += chunk
	}
	progs := make([]Prog, h.PhNum)
	for i := range progs {
		c := NewCursor(buf[int64(i)*ent:int64(i+1)*ent], h.ByteOrder, h.Class == elf.ELFCLASS64)
		p := &progs[i]
		p.Type = elf.ProgType(c.U32())
		if h.Class == elf.ELFCLASS64 {
			p.Flags = elf.ProgFlag(c.U32())
			p.Off, p.Vaddr, p.Paddr, p.Filesz, p.Memsz, p.Align = c.U64(), c.U64(), c.U64(), c.U64(), c.U64(), c.U64()
		} else {
			p.Off, p.Vaddr, p.Paddr, p.Filesz, p.Memsz = uint64(c.U32()), uint64(c.U32()), uint64(c.U32()), uint64(c.U32()), uint64(c.U32())
			p.Flags = elf.ProgFlag(c.U32())
			p.Align = uint64(c.U32())
		}
	}
	return progs, nil
}

func shortRead(err error) error {
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
