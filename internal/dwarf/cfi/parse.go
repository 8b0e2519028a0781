package cfi

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/coredig/coredig/internal/dwarf/leb128"
)

// Table answers lookups in one call frame section. It is safe for concurrent use.
type Table struct {
	cfg Config

	hdr hdrTable // usable when hdr.count > 0

	mu       sync.Mutex
	cies     map[uint64]*CIE
	index    []indexEntry // sorted by begin; built once when there is no usable hdr
	indexErr error
	built    bool
	skipped  int // malformed FDEs left out of the index
}

type indexEntry struct {
	begin, end uint64
	off        uint64
}

// New checks the configuration and, for .eh_frame, the .eh_frame_hdr table. It does not
// parse entries: lookups parse what they need.
func New(cfg Config) (*Table, error) {
	if cfg.PtrSize != 4 && cfg.PtrSize != 8 {
		return nil, fmt.Errorf("%s: pointer size %d: want 4 or 8", cfg.Section, cfg.PtrSize)
	}
	if cfg.Order == nil {
		cfg.Order = binary.LittleEndian
	}
	t := &Table{cfg: cfg, cies: map[uint64]*CIE{}}
	if cfg.Section == EHFrame && len(cfg.Hdr) > 0 {
		// An unusable header is not fatal: lookups fall back to the sorted index.
		if h, err := parseHdr(&t.cfg); err == nil {
			t.hdr = h
		}
	}
	return t, nil
}

// HasHdrTable reports whether lookups use the .eh_frame_hdr binary search table.
func (t *Table) HasHdrTable() bool { return t.hdr.count > 0 }

// Skipped returns how many malformed FDEs the sorted index left out (0 before the index
// is built or when the .eh_frame_hdr table is used).
func (t *Table) Skipped() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.skipped
}

func (t *Table) errorf(off uint64, err error, format string, args ...any) error {
	return &FormatError{Section: t.cfg.Section, Offset: off, What: fmt.Sprintf(format, args...), Err: err}
}

// reader is a sticky-error cursor over one entry of the section.
type reader struct {
	t   *Table
	b   []byte // the whole section
	off int    // current offset
	end int    // end of the entry
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = ErrTruncated
	}
	r.off = r.end
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.end-r.off < n {
		r.fail()
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *reader) u8() uint8 {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u16() uint64 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return uint64(r.t.cfg.Order.Uint16(b))
}

func (r *reader) u32() uint64 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return uint64(r.t.cfg.Order.Uint32(b))
}

func (r *reader) u64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return r.t.cfg.Order.Uint64(b)
}

func (r *reader) uleb() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := leb128.Uint(r.b[r.off:r.end])
	if n == 0 {
		r.fail()
		return 0
	}
	r.off += n
	return v
}

func (r *reader) sleb() int64 {
	if r.err != nil {
		return 0
	}
	v, n := leb128.Int(r.b[r.off:r.end])
	if n == 0 {
		r.fail()
		return 0
	}
	r.off += n
	return v
}

func (r *reader) cstring() string {
	if r.err != nil {
		return ""
	}
	for i := r.off; i < r.end; i++ {
		if r.b[i] == 0 {
			s := string(r.b[r.off:i])
			r.off = i + 1
			return s
		}
	}
	r.fail()
	return ""
}

func (r *reader) addr(size int) uint64 {
	switch size {
	case 2:
		return r.u16()
	case 4:
		return r.u32()
	case 8:
		return r.u64()
	}
	if r.err == nil {
		r.err = fmt.Errorf("address size %d: %w", size, ErrUnsupported)
	}
	return 0
}

// ptrBases are the bases of relative pointer encodings.
type ptrBases struct {
	sectionAddr uint64 // address of b[0] (pcrel)
	text, data  uint64
	fn          uint64
}

// encoded reads a DW_EH_PE-encoded pointer. indirect reports the DW_EH_PE_indirect flag
// (the value is then the address of the pointer).
func (r *reader) encoded(enc uint8, ptrSize int, bases ptrBases) (v uint64, indirect bool) {
	if enc == DW_EH_PE_omit {
		return 0, false
	}
	fieldAddr := bases.sectionAddr + uint64(r.off)
	if enc&0x70 == DW_EH_PE_aligned {
		a := uint64(ptrSize)
		pad := (a - fieldAddr%a) % a
		r.take(int(pad))
		fieldAddr += pad
	}
	switch enc & 0x0f {
	case DW_EH_PE_absptr:
		v = r.addr(ptrSize)
	case DW_EH_PE_uleb128:
		v = r.uleb()
	case DW_EH_PE_udata2:
		v = r.u16()
	case DW_EH_PE_udata4:
		v = r.u32()
	case DW_EH_PE_udata8:
		v = r.u64()
	case DW_EH_PE_signed:
		v = r.addr(ptrSize)
		if ptrSize == 4 {
			v = uint64(int64(int32(v)))
		}
	case DW_EH_PE_sleb128:
		v = uint64(r.sleb())
	case DW_EH_PE_sdata2:
		v = uint64(int64(int16(r.u16())))
	case DW_EH_PE_sdata4:
		v = uint64(int64(int32(r.u32())))
	case DW_EH_PE_sdata8:
		v = r.u64()
	default:
		if r.err == nil {
			r.err = fmt.Errorf("pointer encoding %#x: %w", enc, ErrUnsupported)
		}
		return 0, false
	}
	switch enc & 0x70 {
	case DW_EH_PE_absptr, DW_EH_PE_aligned:
	case DW_EH_PE_pcrel:
		v += fieldAddr
	case DW_EH_PE_textrel:
		v += bases.text
	case DW_EH_PE_datarel:
		v += bases.data
	case DW_EH_PE_funcrel:
		v += bases.fn
	default:
		if r.err == nil {
			r.err = fmt.Errorf("pointer application %#x: %w", enc&0x70, ErrUnsupported)
		}
	}
	if ptrSize == 4 {
		v &= 0xffffffff
	}
	return v, enc&DW_EH_PE_indirect != 0
}

// header is the common head of a CIE or FDE.
type header struct {
	off    uint64 // entry start
	next   uint64 // offset of the next entry
	is64   bool
	isCIE  bool
	ciePtr uint64 // for an FDE: the CIE's offset in the section
	body   int    // offset just after the id/pointer field
	end    int    // end of the entry
	zero   bool   // a zero terminator (.eh_frame)
}

func (t *Table) header(off uint64) (header, error) {
	data := t.cfg.Data
	h := header{off: off}
	if off >= uint64(len(data)) || uint64(len(data))-off < 4 {
		return h, t.errorf(off, ErrTruncated, "entry length")
	}
	r := &reader{t: t, b: data, off: int(off), end: len(data)}
	length := r.u32()
	if length == 0 {
		h.zero = true
		h.next = off + 4
		return h, nil
	}
	if length == 0xffffffff {
		h.is64 = true
		length = r.u64()
	} else if length >= 0xfffffff0 {
		return h, t.errorf(off, ErrUnsupported, "reserved length %#x", length)
	}
	if r.err != nil || length > uint64(len(data)-r.off) {
		return h, t.errorf(off, ErrTruncated, "entry length %#x past the end of the section (%#x bytes)", length, len(data))
	}
	h.end = r.off + int(length)
	h.next = uint64(h.end)
	r.end = h.end
	idOff := r.off
	var id uint64
	if h.is64 {
		id = r.u64()
	} else {
		id = r.u32()
	}
	if r.err != nil {
		return h, t.errorf(off, r.err, "CIE id")
	}
	h.body = r.off
	if t.cfg.Section == EHFrame {
		if id == 0 {
			h.isCIE = true
		} else {
			if id > uint64(idOff) {
				return h, t.errorf(off, nil, "CIE pointer %#x points before the section", id)
			}
			h.ciePtr = uint64(idOff) - id
		}
	} else {
		if (!h.is64 && id == 0xffffffff) || (h.is64 && id == ^uint64(0)) {
			h.isCIE = true
		} else {
			h.ciePtr = id
		}
	}
	return h, nil
}

// cie returns the CIE at off, parsing it once.
func (t *Table) cie(off uint64) (*CIE, error) {
	t.mu.Lock()
	c, ok := t.cies[off]
	t.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := t.parseCIE(off)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if len(t.cies) < 1<<16 {
		t.cies[off] = c
	}
	t.mu.Unlock()
	return c, nil
}

func (t *Table) parseCIE(off uint64) (*CIE, error) {
	h, err := t.header(off)
	if err != nil {
		return nil, err
	}
	if h.zero || !h.isCIE {
		return nil, t.errorf(off, nil, "expected a CIE")
	}
	r := &reader{t: t, b: t.cfg.Data, off: h.body, end: h.end}
	c := &CIE{Offset: off, is64: h.is64, LSDAEncoding: DW_EH_PE_omit, AddrSize: uint8(t.cfg.PtrSize)}
	c.Version = r.u8()
	switch {
	case t.cfg.Section == EHFrame && (c.Version == 1 || c.Version == 3):
	case t.cfg.Section == DebugFrame && (c.Version == 1 || c.Version == 3 || c.Version == 4):
	default:
		if r.err == nil {
			return nil, t.errorf(off, ErrUnsupported, "CIE version %d", c.Version)
		}
	}
	c.Augmentation = r.cstring()
	if len(c.Augmentation) >= 2 && c.Augmentation[:2] == "eh" {
		r.addr(t.cfg.PtrSize) // the old GCC "eh" data pointer
	}
	if c.Version >= 4 {
		c.AddrSize = r.u8()
		c.SegSize = r.u8()
		if r.err == nil && c.AddrSize != 2 && c.AddrSize != 4 && c.AddrSize != 8 {
			return nil, t.errorf(off, ErrUnsupported, "CIE address size %d", c.AddrSize)
		}
		if r.err == nil && c.SegSize > 8 {
			return nil, t.errorf(off, ErrUnsupported, "CIE segment selector size %d", c.SegSize)
		}
	}
	c.CodeAlign = r.uleb()
	c.DataAlign = r.sleb()
	if c.Version == 1 {
		c.RA = uint64(r.u8())
	} else {
		c.RA = r.uleb()
	}
	if t.cfg.Section == DebugFrame {
		c.FDEEncoding = DW_EH_PE_absptr
	}
	aug := c.Augmentation
	if len(aug) > 0 && aug[0] == 'z' {
		c.hasAugData = true
		n := r.uleb()
		if r.err == nil && n > uint64(r.end-r.off) {
			return nil, t.errorf(off, ErrTruncated, "augmentation data length %d", n)
		}
		augEnd := r.off + int(n)
		ar := &reader{t: t, b: r.b, off: r.off, end: augEnd}
		bases := t.bases()
	loop:
		for i := 1; i < len(aug); i++ {
			switch aug[i] {
			case 'L':
				c.LSDAEncoding = ar.u8()
			case 'R':
				c.FDEEncoding = ar.u8()
			case 'P':
				enc := ar.u8()
				c.Personality, c.PersonalityIndirect = ar.encoded(enc, t.cfg.PtrSize, bases)
				c.HasPersonality = true
			case 'S':
				c.SignalFrame = true
			case 'B', 'G':
				// AArch64 B-key pointer authentication / MTE tagged frames: no data.
			default:
				// An unknown letter: the "z" length still lets us find the instructions.
				break loop
			}
		}
		if ar.err != nil {
			return nil, t.errorf(off, ar.err, "CIE augmentation %q data", aug)
		}
		r.off = augEnd
	} else if aug != "" && aug != "eh" {
		return nil, t.errorf(off, ErrUnsupported, "CIE augmentation %q without 'z'", aug)
	}
	if r.err != nil {
		return nil, t.errorf(off, r.err, "CIE fields")
	}
	c.Initial = t.cfg.Data[r.off:h.end]
	return c, nil
}

func (t *Table) bases() ptrBases {
	return ptrBases{sectionAddr: t.cfg.Addr, text: t.cfg.TextAddr, data: t.cfg.DataAddr}
}

// fdeAt parses the FDE at off.
func (t *Table) fdeAt(off uint64) (*FDE, error) {
	h, err := t.header(off)
	if err != nil {
		return nil, err
	}
	if h.zero || h.isCIE {
		return nil, t.errorf(off, nil, "expected an FDE")
	}
	return t.parseFDE(h)
}

func (t *Table) parseFDE(h header) (*FDE, error) {
	if h.ciePtr == h.off {
		return nil, t.errorf(h.off, nil, "FDE points to itself as its CIE")
	}
	c, err := t.cie(h.ciePtr)
	if err != nil {
		return nil, t.errorf(h.off, err, "CIE at %#x of FDE", h.ciePtr)
	}
	r := &reader{t: t, b: t.cfg.Data, off: h.body, end: h.end}
	f := &FDE{Offset: h.off, CIE: c}
	if c.SegSize > 0 {
		r.take(int(c.SegSize))
	}
	bases := t.bases()
	size := int(c.AddrSize)
	var ind bool
	f.Begin, ind = r.encoded(c.FDEEncoding, size, bases)
	if ind && r.err == nil {
		return nil, t.errorf(h.off, ErrUnsupported, "indirect FDE initial location")
	}
	rng, _ := r.encoded(c.FDEEncoding&0x0f, size, bases)
	f.End = f.Begin + rng
	if r.err == nil && f.End < f.Begin {
		return nil, t.errorf(h.off, nil, "FDE range %#x+%#x wraps", f.Begin, rng)
	}
	if c.hasAugData {
		n := r.uleb()
		if r.err == nil && n > uint64(r.end-r.off) {
			return nil, t.errorf(h.off, ErrTruncated, "FDE augmentation data length %d", n)
		}
		augEnd := r.off + int(n)
		if c.LSDAEncoding != DW_EH_PE_omit && n > 0 {
			ar := &reader{t: t, b: r.b, off: r.off, end: augEnd}
			bases.fn = f.Begin
			f.LSDA, _ = ar.encoded(c.LSDAEncoding, size, bases)
			f.HasLSDA = ar.err == nil
		}
		if r.err == nil {
			r.off = augEnd
		}
	}
	if r.err != nil {
		return nil, t.errorf(h.off, r.err, "FDE fields")
	}
	f.Instructions = t.cfg.Data[r.off:h.end]
	return f, nil
}
