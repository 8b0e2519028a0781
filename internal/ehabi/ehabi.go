// Package ehabi reads the unwind tables of the Exception Handling ABI for the Arm
// Architecture (EHABI): the .ARM.exidx index and the .ARM.extab entries it points to, which
// 32-bit ARM binaries carry instead of .eh_frame. For a pc it finds the function's entry
// and decodes its unwind opcodes; Execute runs them on a set of core registers to give the
// caller's.
//
// Scope:
//   - .ARM.exidx (ARM IHI 0038 §6): a table of 8-byte pairs sorted by function start, each
//     a prel31 offset to the function and then EXIDX_CANTUNWIND (1), an inline compact
//     entry (bit 31 set, personality routine 0, three opcode bytes), or a prel31 offset to
//     the function's .ARM.extab entry. A function's entry covers the addresses up to the
//     next entry's function; the last one covers everything above it.
//   - .ARM.extab (§7): compact entries for personality routines 0 (three opcode bytes),
//     1 and 2 (two opcode bytes, then as many 4-byte words of opcodes as the entry's count
//     byte says), and generic entries (a prel31 offset to a personality routine). After a
//     generic routine's offset comes the opcode data in the layout of routines 1 and 2 with
//     the count in the first byte: that is what GCC's and LLVM's C++ personality routines
//     read (libgcc unwind-arm-common.inc __gnu_unwind_frame, libunwind Unwind-EHABI.cpp),
//     the only generic routines a Linux binary has in practice.
//   - Every unwind opcode of §10.3 Table 4: vsp adjustments, pops of r4-r15 under a mask,
//     of r4-r[4+n] (with r14), of r0-r3 under a mask, vsp = r[n], the uleb128 vsp addition,
//     "finish", and the VFP and iWMMXt pops, which only move vsp (coredig tracks core
//     registers only). Spare and reserved opcodes and "refuse to unwind" are errors.
//
// Addresses: a Table's addresses (Config.Addr, Entry.Start, what Config.Extab reads) are
// in one address space: link-time ones, with the module's load bias added by the caller,
// or run-time ones when the bytes come from process memory.
//
// Bounds: the index is read from the byte slice it is given (at most MaxIndexBytes); an
// .ARM.extab entry is at most 3+255*4 opcode bytes, read through Config.Extab only when a
// pc needs it. Opcodes run straight through, each once: no step budget is needed. A
// malformed entry gives a *FormatError naming the table and the entry's address; the
// other entries stay usable.
//
// Sources: "Exception Handling ABI for the Arm Architecture" (ARM IHI 0038B and later),
// §5 (prel31), §6 (the index table), §7 (the exception-handling table), §9 and §10
// (the compact model and its unwind instructions, Table 4 and its remarks); libgcc's
// unwind-arm-common.inc for the layout after a generic personality routine.
package ehabi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Bounds.
const (
	// MaxIndexBytes caps an .ARM.exidx section (the armhf libc's is 6.5 KiB; 16 MiB is
	// two million functions). The sorted index takes twice its size.
	MaxIndexBytes = 16 << 20
	// maxExtabWords is the most 4-byte words of opcodes after an .ARM.extab entry's first
	// (the count is one byte).
	maxExtabWords = 255
)

// EXIDX_CANTUNWIND is the second word of an index entry for a function that cannot be
// unwound (§6: "the value 1").
const EXIDX_CANTUNWIND = 1

// Generic is Entry.Personality for a generic (non-compact) personality routine.
const Generic = -1

// Memory reads bytes at addresses of a Table's address space (.ARM.extab entries) or of
// the process (the stack, for Execute). When n < len(p) the error says why.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// Config describes an .ARM.exidx section to read.
type Config struct {
	Data  []byte           // the section's bytes
	Addr  uint64           // the section's address
	Order binary.ByteOrder // the target's byte order (nil: little-endian)
	// Extab reads .ARM.extab entries, at addresses of the same space as Addr; nil when
	// none can be read (then only inline entries decode).
	Extab Memory
}

// Table is one module's .ARM.exidx, sorted by function start.
type Table struct {
	cfg     Config
	entries []entry
}

type entry struct {
	start uint64 // the function's first address
	off   uint32 // the entry's offset in the section
}

// FormatError is a malformed table entry.
type FormatError struct {
	Addr uint64 // address of the .ARM.exidx or .ARM.extab word at fault
	What string
	Err  error
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("EHABI table at %#x: %s", e.Addr, e.What)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// Sentinel errors.
var (
	// ErrNoEntry: the pc lies below the table's first function. Not a format error: the
	// caller tries something else.
	ErrNoEntry = errors.New("no .ARM.exidx entry covers the address")
	// ErrCantUnwind: the function's entry is EXIDX_CANTUNWIND, or its opcodes refuse to
	// unwind (0x80 0x00).
	ErrCantUnwind = errors.New("the function cannot be unwound (EXIDX_CANTUNWIND)")
	// ErrSpare: a spare or reserved opcode.
	ErrSpare = errors.New("spare or reserved unwind opcode")
	// ErrTruncated: an opcode's operand byte is missing.
	ErrTruncated = errors.New("unwind opcodes end inside an instruction")
	// ErrPersonality: a compact personality routine index other than 0, 1 and 2.
	ErrPersonality = errors.New("reserved compact personality routine index")
	// ErrRegister: an opcode needs a register whose value is not known.
	ErrRegister = errors.New("register not known")
)

// New reads the index. Its size must be a multiple of 8 (a trailing partial entry is
// ignored); entries are sorted once if the linker did not.
func New(cfg Config) (*Table, error) {
	if cfg.Order == nil {
		cfg.Order = binary.LittleEndian
	}
	if len(cfg.Data) > MaxIndexBytes {
		return nil, &FormatError{Addr: cfg.Addr, What: fmt.Sprintf(".ARM.exidx is %d bytes, over the %d-byte limit", len(cfg.Data), MaxIndexBytes)}
	}
	n := len(cfg.Data) / 8
	t := &Table{cfg: cfg, entries: make([]entry, n)}
	sorted := true
	for i := 0; i < n; i++ {
		off := uint32(i * 8)
		w := cfg.Order.Uint32(cfg.Data[off:])
		t.entries[i] = entry{start: prel31(w, cfg.Addr+uint64(off)), off: off}
		if i > 0 && t.entries[i].start < t.entries[i-1].start {
			sorted = false
		}
	}
	if !sorted {
		sort.SliceStable(t.entries, func(i, j int) bool { return t.entries[i].start < t.entries[j].start })
	}
	return t, nil
}

// Len is the number of index entries.
func (t *Table) Len() int { return len(t.entries) }

// prel31 decodes a place-relative 31-bit signed offset (§5: bit 31 is not part of it) in
// the word at address at. Addresses are 32-bit: the sum wraps as the target's would.
func prel31(w uint32, at uint64) uint64 {
	off := int32(w<<1) >> 1
	return uint64(uint32(at) + uint32(off))
}

// Entry is the unwind information of the function that holds a pc.
type Entry struct {
	Start uint64 // the function's first address
	Index uint64 // address of its .ARM.exidx entry
	// Extab is the address of its .ARM.extab entry, 0 for an inline entry.
	Extab uint64
	// Personality is the compact personality routine's index (0, 1 or 2), or Generic.
	Personality int
	// Routine is the address of a generic personality routine.
	Routine uint64
	// Ops are the unwind opcodes.
	Ops []byte
}

// Find returns the entry of the function holding pc. It returns ErrNoEntry when pc lies
// below every function, an error wrapping ErrCantUnwind for EXIDX_CANTUNWIND (with the
// entry's Start and Index filled in), and a *FormatError for a malformed entry.
func (t *Table) Find(pc uint64) (Entry, error) {
	i := sort.Search(len(t.entries), func(i int) bool { return t.entries[i].start > pc }) - 1
	if i < 0 {
		return Entry{}, ErrNoEntry
	}
	e := t.entries[i]
	at := t.cfg.Addr + uint64(e.off)
	w := t.cfg.Order.Uint32(t.cfg.Data[e.off+4:])
	ent := Entry{Start: e.start, Index: at}
	switch {
	case w == EXIDX_CANTUNWIND:
		return ent, fmt.Errorf("function at %#x: %w", e.start, ErrCantUnwind)
	case w&0x80000000 != 0:
		// Inline: §6 allows only the compact model with routine 0 here.
		if idx := int(w >> 24 & 0xf); idx != 0 || w&0x70000000 != 0 {
			return ent, &FormatError{Addr: at + 4, What: fmt.Sprintf("inline entry %#08x is not personality routine 0", w), Err: ErrPersonality}
		}
		ent.Ops = []byte{byte(w >> 16), byte(w >> 8), byte(w)}
		return ent, nil
	}
	ent.Extab = prel31(w, at+4)
	if err := t.decodeExtab(&ent); err != nil {
		return ent, err
	}
	return ent, nil
}

// decodeExtab reads the .ARM.extab entry at ent.Extab and fills in its personality and
// opcodes.
func (t *Table) decodeExtab(ent *Entry) error {
	at := ent.Extab
	w, err := t.word(at)
	if err != nil {
		return err
	}
	var first uint32 // the word holding the count byte and the first opcodes
	var opsAt uint64
	if w&0x80000000 != 0 {
		if w&0x70000000 != 0 {
			return &FormatError{Addr: at, What: fmt.Sprintf("compact entry %#08x has bits 30-28 set", w)}
		}
		ent.Personality = int(w >> 24 & 0xf)
		switch ent.Personality {
		case 0:
			ent.Ops = []byte{byte(w >> 16), byte(w >> 8), byte(w)}
			return nil
		case 1, 2:
			first, opsAt = w, at
		default:
			return &FormatError{Addr: at, What: fmt.Sprintf("compact entry %#08x names routine %d", w, ent.Personality), Err: ErrPersonality}
		}
		n := int(first >> 16 & 0xff)
		ent.Ops = append(make([]byte, 0, 2+4*n), byte(first>>8), byte(first))
		return t.moreOps(ent, opsAt+4, n)
	}
	ent.Personality = Generic
	ent.Routine = prel31(w, at)
	opsAt = at + 4
	if first, err = t.word(opsAt); err != nil {
		return err
	}
	n := int(first >> 24)
	ent.Ops = append(make([]byte, 0, 3+4*n), byte(first>>16), byte(first>>8), byte(first))
	return t.moreOps(ent, opsAt+4, n)
}

// moreOps appends the opcodes of the n words at addr, most significant byte first.
func (t *Table) moreOps(ent *Entry, addr uint64, n int) error {
	if n == 0 {
		return nil
	}
	if n > maxExtabWords {
		return &FormatError{Addr: addr, What: fmt.Sprintf("%d opcode words", n)}
	}
	buf := make([]byte, 4*n)
	if err := t.read(buf, addr); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		w := t.cfg.Order.Uint32(buf[4*i:])
		ent.Ops = append(ent.Ops, byte(w>>24), byte(w>>16), byte(w>>8), byte(w))
	}
	return nil
}

func (t *Table) word(addr uint64) (uint32, error) {
	var b [4]byte
	if err := t.read(b[:], addr); err != nil {
		return 0, err
	}
	return t.cfg.Order.Uint32(b[:]), nil
}

func (t *Table) read(p []byte, addr uint64) error {
	if t.cfg.Extab == nil {
		return &FormatError{Addr: addr, What: "reading .ARM.extab", Err: errors.New("no .ARM.extab to read")}
	}
	n, err := t.cfg.Extab.ReadAt(p, addr)
	if n < len(p) {
		if err == nil {
			err = fmt.Errorf("short read at %#x", addr)
		}
		return &FormatError{Addr: addr, What: "reading .ARM.extab", Err: err}
	}
	return nil
}
