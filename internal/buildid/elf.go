package buildid

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// ELF constants, spelled as in the System V gABI and glibc <elf.h>.
const (
	elfClass32  = 1
	elfClass64  = 2
	elfData2LSB = 1
	elfData2MSB = 2

	SHT_NOTE   = 7
	SHT_NOBITS = 8
	PT_NOTE    = 4

	// NT_GNU_BUILD_ID is the type of the "GNU" note holding the build-id
	// (glibc <elf.h>).
	NT_GNU_BUILD_ID = 3

	shnXindex = 0xffff // SHN_XINDEX
	pnXnum    = 0xffff // PN_XNUM
)

// Bounds on what is read from a file that claims to be ELF. Real binaries
// stay far below each of them; anything above is treated as hostile.
const (
	maxSections    = 1 << 16   // section headers examined
	maxHeaderBytes = 4 << 20   // bytes of section or program header table
	maxShstrtab    = 1 << 20   // bytes of the section-name string table
	maxNoteBytes   = 64 << 10  // bytes read from one note section or segment
	maxNoteRegions = 64        // note sections or segments examined
	maxNotes       = 1024      // notes walked in one region
	maxBuildIDLen  = 64        // longest build-id accepted (sha1 is 20)
	maxDebuglink   = 4096      // bytes read from .gnu_debuglink
	maxPhdrs       = 1 << 16   // program headers examined
	minELFSize     = 52        // size of an ELF32 header
	elfHeaderBytes = 64        // size of an ELF64 header
	noteHeaderLen  = 12        // namesz, descsz, type
	gnuNoteName    = "GNU\x00" // owner of NT_GNU_BUILD_ID
)

// Info is what one ELF file says about its identity and its debug data.
type Info struct {
	// BuildID is the descriptor of the NT_GNU_BUILD_ID note; nil when the
	// file has none.
	BuildID []byte
	// Debuglink is the file name in .gnu_debuglink and DebuglinkCRC its
	// CRC32; Debuglink is "" when the section is absent.
	Debuglink    string
	DebuglinkCRC uint32
	// HasDWARF is true when .debug_info (or .zdebug_info) has bytes in the
	// file (not SHT_NOBITS, as in a stripped binary's placeholder).
	HasDWARF bool
	// HasDebugData is true when .gnu_debugdata (MiniDebugInfo) is present.
	HasDebugData bool
	// Machine is e_machine; Class is 32 or 64.
	Machine uint16
	Class   int
	// Problems lists malformed notes or debug links that were skipped;
	// the rest of the file was still read.
	Problems []error
}

// FormatError says which structure of an ELF file was malformed and where.
type FormatError struct {
	Off int64  // file offset of the structure
	Msg string // what was wrong
	Err error  // underlying I/O error, if any
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("elf: %s at offset %#x", e.Msg, e.Off)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// ErrNotELF is returned (wrapped in a FormatError) for files without the
// ELF magic.
var ErrNotELF = errors.New("not an ELF file")

// ReadFile opens path and returns its Info.
func ReadFile(path string) (*Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	info, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// elfReader holds the decoded ELF header fields used below.
type elfReader struct {
	r     io.ReaderAt
	size  int64
	order binary.ByteOrder
	class int

	shoff, phoff         uint64
	shentsize, phentsize uint64
	shnum, phnum         uint64
	shstrndx             uint64
}

type section struct {
	name    uint32
	typ     uint32
	off     uint64
	size    uint64
	link    uint32
	info    uint32
	align   uint64
	nameStr string
}

// readAt reads exactly len(p) bytes at off, failing with a FormatError
// naming what for when the file is too short.
func (e *elfReader) readAt(p []byte, off uint64, what string) error {
	if off > uint64(e.size) || uint64(len(p)) > uint64(e.size)-off {
		return &FormatError{Off: int64(min(off, uint64(e.size))), Msg: fmt.Sprintf("%s (%d bytes) extends past end of file (size %d)", what, len(p), e.size)}
	}
	if _, err := e.r.ReadAt(p, int64(off)); err != nil {
		return &FormatError{Off: int64(off), Msg: "reading " + what, Err: err}
	}
	return nil
}

// Read parses the ELF header, section headers, note sections and
// .gnu_debuglink of the file in r. It reads at most a few MiB whatever the
// file claims. A missing build-id is not an error (Info.BuildID is nil).
func Read(r io.ReaderAt, size int64) (*Info, error) {
	if size < minELFSize {
		return nil, &FormatError{Off: 0, Msg: fmt.Sprintf("file too small for an ELF header (%d bytes)", size), Err: ErrNotELF}
	}
	var hdr [elfHeaderBytes]byte
	n := min(int64(len(hdr)), size)
	if _, err := r.ReadAt(hdr[:n], 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, &FormatError{Off: 0, Msg: "reading ELF header", Err: err}
	}
	if !bytes.Equal(hdr[:4], []byte("\x7fELF")) {
		return nil, &FormatError{Off: 0, Msg: "bad magic", Err: ErrNotELF}
	}
	e := &elfReader{r: r, size: size}
	switch hdr[5] {
	case elfData2LSB:
		e.order = binary.LittleEndian
	case elfData2MSB:
		e.order = binary.BigEndian
	default:
		return nil, &FormatError{Off: 5, Msg: fmt.Sprintf("unknown EI_DATA %d", hdr[5])}
	}
	info := &Info{}
	o := e.order
	switch hdr[4] {
	case elfClass32:
		e.class, info.Class = 32, 32
		e.phoff = uint64(o.Uint32(hdr[28:]))
		e.shoff = uint64(o.Uint32(hdr[32:]))
		e.phentsize = uint64(o.Uint16(hdr[42:]))
		e.phnum = uint64(o.Uint16(hdr[44:]))
		e.shentsize = uint64(o.Uint16(hdr[46:]))
		e.shnum = uint64(o.Uint16(hdr[48:]))
		e.shstrndx = uint64(o.Uint16(hdr[50:]))
	case elfClass64:
		if size < elfHeaderBytes {
			return nil, &FormatError{Off: 0, Msg: fmt.Sprintf("file too small for an ELF64 header (%d bytes)", size)}
		}
		e.class, info.Class = 64, 64
		e.phoff = o.Uint64(hdr[32:])
		e.shoff = o.Uint64(hdr[40:])
		e.phentsize = uint64(o.Uint16(hdr[54:]))
		e.phnum = uint64(o.Uint16(hdr[56:]))
		e.shentsize = uint64(o.Uint16(hdr[58:]))
		e.shnum = uint64(o.Uint16(hdr[60:]))
		e.shstrndx = uint64(o.Uint16(hdr[62:]))
	default:
		return nil, &FormatError{Off: 4, Msg: fmt.Sprintf("unknown EI_CLASS %d", hdr[4])}
	}
	info.Machine = o.Uint16(hdr[18:])

	secs, err := e.sections()
	if err != nil {
		return nil, err
	}
	regions := 0
	for i := range secs {
		s := &secs[i]
		switch {
		case s.typ == SHT_NOTE && info.BuildID == nil && regions < maxNoteRegions:
			regions++
			id, err := e.noteRegion(s.off, s.size, s.align)
			if err != nil {
				info.Problems = append(info.Problems, fmt.Errorf("section %d (%s): %w", i, s.nameStr, err))
				continue
			}
			info.BuildID = id
		case s.nameStr == ".debug_info" || s.nameStr == ".zdebug_info":
			if s.typ != SHT_NOBITS && s.size > 0 {
				info.HasDWARF = true
			}
		case s.nameStr == ".gnu_debugdata":
			if s.typ != SHT_NOBITS && s.size > 0 {
				info.HasDebugData = true
			}
		case s.nameStr == ".gnu_debuglink" && s.typ != SHT_NOBITS:
			name, crc, err := e.debuglink(s.off, s.size)
			if err != nil {
				info.Problems = append(info.Problems, fmt.Errorf("section %d (.gnu_debuglink): %w", i, err))
				continue
			}
			info.Debuglink, info.DebuglinkCRC = name, crc
		}
	}
	if info.BuildID == nil {
		// No section headers (stripped with sstrip, or a memory image):
		// fall back to PT_NOTE segments.
		id, err := e.segmentNotes(secs, info)
		if err != nil {
			return nil, err
		}
		info.BuildID = id
	}
	return info, nil
}

// sections reads the section header table and the names of the sections.
func (e *elfReader) sections() ([]section, error) {
	if e.shoff == 0 {
		return nil, nil
	}
	want := uint64(40)
	if e.class == 64 {
		want = 64
	}
	if e.shentsize < want {
		return nil, &FormatError{Off: int64(min(e.shoff, uint64(e.size))), Msg: fmt.Sprintf("e_shentsize %d smaller than %d", e.shentsize, want)}
	}
	shnum := e.shnum
	shstrndx := e.shstrndx
	if shnum == 0 || shstrndx == shnXindex {
		// Extended numbering: the real values live in section 0.
		s0, err := e.sectionHeader(0)
		if err != nil {
			return nil, err
		}
		if shnum == 0 {
			shnum = s0.size
		}
		if shstrndx == shnXindex {
			shstrndx = uint64(s0.link)
		}
	}
	if shnum > maxSections || shnum*e.shentsize > maxHeaderBytes {
		return nil, &FormatError{Off: int64(min(e.shoff, uint64(e.size))), Msg: fmt.Sprintf("%d section headers of %d bytes exceed the limit", shnum, e.shentsize)}
	}
	table := make([]byte, shnum*e.shentsize)
	if err := e.readAt(table, e.shoff, "section header table"); err != nil {
		return nil, err
	}
	secs := make([]section, shnum)
	for i := range secs {
		secs[i] = e.decodeSection(table[uint64(i)*e.shentsize:])
	}
	if shstrndx != 0 && shstrndx < shnum && secs[shstrndx].typ != SHT_NOBITS {
		st := secs[shstrndx]
		if st.size > maxShstrtab {
			return nil, &FormatError{Off: int64(min(st.off, uint64(e.size))), Msg: fmt.Sprintf("section name table of %d bytes exceeds the limit", st.size)}
		}
		names := make([]byte, st.size)
		if err := e.readAt(names, st.off, "section name table"); err != nil {
			return nil, err
		}
		for i := range secs {
			secs[i].nameStr = cstring(names, uint64(secs[i].name))
		}
	}
	return secs, nil
}

func (e *elfReader) sectionHeader(i uint64) (section, error) {
	b := make([]byte, e.shentsize)
	if err := e.readAt(b, e.shoff+i*e.shentsize, "section header"); err != nil {
		return section{}, err
	}
	return e.decodeSection(b), nil
}

// decodeSection decodes one Elf32_Shdr or Elf64_Shdr; b holds at least
// e_shentsize bytes, checked to be no less than the struct size.
func (e *elfReader) decodeSection(b []byte) section {
	o := e.order
	if e.class == 32 {
		return section{
			name: o.Uint32(b[0:]), typ: o.Uint32(b[4:]),
			off: uint64(o.Uint32(b[16:])), size: uint64(o.Uint32(b[20:])),
			link: o.Uint32(b[24:]), info: o.Uint32(b[28:]), align: uint64(o.Uint32(b[32:])),
		}
	}
	return section{
		name: o.Uint32(b[0:]), typ: o.Uint32(b[4:]),
		off: o.Uint64(b[24:]), size: o.Uint64(b[32:]),
		link: o.Uint32(b[40:]), info: o.Uint32(b[44:]), align: o.Uint64(b[48:]),
	}
}

// segmentNotes looks for the build-id in PT_NOTE program headers.
func (e *elfReader) segmentNotes(secs []section, info *Info) ([]byte, error) {
	if e.phoff == 0 || e.phnum == 0 {
		return nil, nil
	}
	want := uint64(32)
	if e.class == 64 {
		want = 56
	}
	if e.phentsize < want {
		return nil, &FormatError{Off: int64(min(e.phoff, uint64(e.size))), Msg: fmt.Sprintf("e_phentsize %d smaller than %d", e.phentsize, want)}
	}
	phnum := e.phnum
	if phnum == pnXnum && len(secs) > 0 {
		phnum = uint64(secs[0].info)
	}
	if phnum > maxPhdrs || phnum*e.phentsize > maxHeaderBytes {
		return nil, &FormatError{Off: int64(min(e.phoff, uint64(e.size))), Msg: fmt.Sprintf("%d program headers of %d bytes exceed the limit", phnum, e.phentsize)}
	}
	table := make([]byte, phnum*e.phentsize)
	if err := e.readAt(table, e.phoff, "program header table"); err != nil {
		return nil, err
	}
	o := e.order
	regions := 0
	for i := uint64(0); i < phnum && regions < maxNoteRegions; i++ {
		b := table[i*e.phentsize:]
		var typ uint32
		var off, filesz, align uint64
		if e.class == 32 {
			typ, off, filesz, align = o.Uint32(b[0:]), uint64(o.Uint32(b[4:])), uint64(o.Uint32(b[16:])), uint64(o.Uint32(b[28:]))
		} else {
			typ, off, filesz, align = o.Uint32(b[0:]), o.Uint64(b[8:]), o.Uint64(b[32:]), o.Uint64(b[48:])
		}
		if typ != PT_NOTE {
			continue
		}
		regions++
		id, err := e.noteRegion(off, filesz, align)
		if err != nil {
			info.Problems = append(info.Problems, fmt.Errorf("program header %d (PT_NOTE): %w", i, err))
			continue
		}
		if id != nil {
			return id, nil
		}
	}
	return nil, nil
}

// noteRegion reads one note section or segment and returns the build-id
// found in it, or nil.
func (e *elfReader) noteRegion(off, size, align uint64) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	if size > maxNoteBytes {
		// A build-id note sits in its own small section; a huge note
		// region is read only up to the limit.
		size = maxNoteBytes
	}
	b := make([]byte, size)
	if err := e.readAt(b, off, "note"); err != nil {
		return nil, err
	}
	id, err := ParseNotes(b, e.order, align)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Off += int64(off)
		}
		return nil, err
	}
	return id, nil
}

// ParseNotes walks the ELF notes in b (encoded in order, entries padded to
// align, which is 4 or 8; other values mean 4) and returns the descriptor
// of the first NT_GNU_BUILD_ID note owned by "GNU", or nil if there is
// none. Offsets in the returned FormatError are relative to b.
func ParseNotes(b []byte, order binary.ByteOrder, align uint64) ([]byte, error) {
	if align != 8 {
		align = 4
	}
	pos := uint64(0)
	for n := 0; n < maxNotes && pos+noteHeaderLen <= uint64(len(b)); n++ {
		namesz := uint64(order.Uint32(b[pos:]))
		descsz := uint64(order.Uint32(b[pos+4:]))
		typ := order.Uint32(b[pos+8:])
		nameOff := pos + noteHeaderLen
		// Padding is relative to the note's start: 12+namesz rounded up,
		// which for 8-byte notes (.note.gnu.property) is not 12+round(namesz).
		descOff := pos + alignUp(noteHeaderLen+namesz, align)
		end := descOff + alignUp(descsz, align)
		if namesz > uint64(len(b)) || descsz > uint64(len(b)) || descOff+descsz > uint64(len(b)) {
			return nil, &FormatError{Off: int64(pos), Msg: fmt.Sprintf("note %d (namesz %d, descsz %d) overruns its %d-byte region", n, namesz, descsz, len(b))}
		}
		if typ == NT_GNU_BUILD_ID && string(b[nameOff:nameOff+namesz]) == gnuNoteName {
			if descsz == 0 || descsz > maxBuildIDLen {
				return nil, &FormatError{Off: int64(pos), Msg: fmt.Sprintf("build-id note with %d-byte descriptor (want 1..%d)", descsz, maxBuildIDLen)}
			}
			return bytes.Clone(b[descOff : descOff+descsz]), nil
		}
		pos = end
	}
	return nil, nil
}

// debuglink decodes .gnu_debuglink: a NUL-terminated file name, padding to
// a 4-byte boundary, then the CRC32 of the debug file in file byte order.
func (e *elfReader) debuglink(off, size uint64) (string, uint32, error) {
	if size > maxDebuglink {
		return "", 0, &FormatError{Off: int64(min(off, uint64(e.size))), Msg: fmt.Sprintf(".gnu_debuglink of %d bytes exceeds the limit", size)}
	}
	b := make([]byte, size)
	if err := e.readAt(b, off, ".gnu_debuglink"); err != nil {
		return "", 0, err
	}
	i := bytes.IndexByte(b, 0)
	if i <= 0 {
		return "", 0, &FormatError{Off: int64(off), Msg: ".gnu_debuglink has no NUL-terminated name"}
	}
	crcOff := alignUp(uint64(i)+1, 4)
	if crcOff+4 > size {
		return "", 0, &FormatError{Off: int64(off), Msg: ".gnu_debuglink too short for its CRC"}
	}
	return string(b[:i]), e.order.Uint32(b[crcOff:]), nil
}

func alignUp(v, a uint64) uint64 {
	// a is 4 or 8; v is bounded by the region size, so no overflow.
	return (v + a - 1) &^ (a - 1)
}

func cstring(b []byte, off uint64) string {
	if off >= uint64(len(b)) {
		return ""
	}
	b = b[off:]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
