// Package core reads a Linux ELF core dump as a process: its threads and their registers,
// the process and signal information, the auxiliary vector, the file mappings and its
// memory. It knows nothing about symbols, unwinding or any language runtime; those
// packages build on it.
//
// The core is never read whole: the ELF header, program headers and note segments are read
// at Open, and memory is read on demand through ReadAt, which says precisely why bytes are
// missing (unmapped, not dumped, cut off by truncation).
//
// Sources: linux/fs/binfmt_elf.c (what the kernel writes and in which order),
// linux/include/uapi/linux/elfcore.h, linux/include/uapi/linux/elf.h (note types),
// linux/include/uapi/asm-generic/siginfo.h (siginfo layout and si_code values),
// linux/include/uapi/linux/auxvec.h.
package core

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/elfx"
	"github.com/coredig/coredig/internal/pagecache"
)

// Core is an opened core dump.
type Core struct {
	Path string
	Arch *arch.Arch
	// Size is the size of the core file as found; ExpectedSize is what its program headers
	// say it should be. Size < ExpectedSize means the file was truncated.
	Size, ExpectedSize int64

	Segments []Segment // PT_LOAD segments sorted by address
	Threads  []*Thread // in note order; the kernel writes the signalled thread first
	PsInfo   *PsInfo   // nil when the core has no NT_PRPSINFO
	SigInfo  *SigInfo  // nil when the core has no NT_SIGINFO
	Auxv     []AuxvEntry
	Files    []FileMapping // NT_FILE; nil when absent
	Notes    NoteStats
	// FirstFault is the first delivery of the fatal signal, which a handler caught
	// before the process died of a re-raise, as `coredig run` records it in COREDIG
	// notes; nil when the core has none.
	FirstFault *FirstFault
	// Descriptors says what each open file descriptor was ("pipe:[123] (read end)",
	// "socket:[45] TCP 127.0.0.1:40000 -> 127.0.0.1:8080 (ESTABLISHED)", a path), from
	// the COREDIG files note of a snapshot coredig took; nil when the core has none.
	Descriptors map[int]string

	// Warnings are problems found while reading; the core is still usable.
	Warnings []string

	r      io.ReaderAt
	closer io.Closer
	// backing supplies bytes of file-backed mappings that were not dumped.
	backing Backing
}

// Segment is one PT_LOAD segment of the core.
type Segment struct {
	Vaddr, Memsz uint64
	Off, Filesz  uint64
	Flags        elf.ProgFlag
	Present      uint64 // bytes of Filesz actually in the file (< Filesz when truncated)
}

// End returns the first address after the segment.
func (s *Segment) End() uint64 { return s.Vaddr + s.Memsz }

// Perms renders the flags as "rwx" with dashes.
func (s *Segment) Perms() string { return Perms(s.Flags) }

// Perms renders ELF segment flags as "rwx" with dashes.
func Perms(f elf.ProgFlag) string {
	b := []byte("---")
	if f&elf.PF_R != 0 {
		b[0] = 'r'
	}
	if f&elf.PF_W != 0 {
		b[1] = 'w'
	}
	if f&elf.PF_X != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// NoteStats counts what the note segments held.
type NoteStats struct {
	Total   int
	ByType  map[string]int // by name such as "NT_PRSTATUS"
	Unknown int
	// FPRegs is the size of one thread's NT_PRFPREG note, XState of NT_X86_XSTATE (0 when absent).
	FPRegs, XState int
}

// Thread is one thread of the process.
type Thread struct {
	TID     int
	Signal  int // pr_cursig: the signal being delivered to this thread, 0 if none
	SigPend uint64
	SigHold uint64
	PID     int
	PPID    int
	PGRP    int
	SID     int
	// Regs are the general registers in arch.RegNames order: pr_reg's, and the
	// architecture's NoteRegs when the thread's note for them (NT_PRFPREG) was read.
	Regs []uint64
	// TLS is the thread pointer (x86_64 fs_base, aarch64 tpidr_el0 from NT_ARM_TLS).
	TLS    uint64
	HasTLS bool
	// FPValid reports pr_fpvalid; FPSize the size of the floating-point notes seen.
	FPValid bool
	// Extra are the values of the architecture's ExtraRegs that the thread's notes
	// hold, in ExtraRegs order.
	Extra []ExtraValue

	// notes are the thread's notes other than NT_PRSTATUS, until the extra registers
	// are read from them.
	notes []elfx.Note
}

// ExtraValue is the value of one register of arch.Arch.ExtraRegs, most significant byte
// first, as wide as the register.
type ExtraValue struct {
	Name  string
	Value []byte
}

// Uint64 returns the value of a register of at most 8 bytes.
func (v ExtraValue) Uint64() uint64 {
	var x uint64
	for _, b := range v.Value {
		x = x<<8 | uint64(b)
	}
	return x
}

// PC returns the thread's program counter.
func (t *Thread) PC(a *arch.Arch) uint64 {
	if a.PCMask != 0 {
		return t.Regs[a.PC] & a.PCMask
	}
	return t.Regs[a.PC]
}

// SP returns the thread's stack pointer.
func (t *Thread) SP(a *arch.Arch) uint64 { return t.Regs[a.SP] }

// PsInfo is NT_PRPSINFO.
type PsInfo struct {
	State    int
	SName    byte
	Zombie   bool
	Nice     int
	Flag     uint64
	UID, GID uint32
	PID      int
	PPID     int
	PGRP     int
	SID      int
	FName    string // command name, at most 15 bytes
	Args     string // the argument string, at most 80 bytes, NULs replaced by spaces
}

// FirstFault is what the COREDIG notes say of a signal a handler caught first.
type FirstFault struct {
	TID     int
	SigInfo *SigInfo
	// Regs are that thread's general registers at the delivery, in arch.RegNames
	// order; nil when the core has no NT_COREDIG_FIRST_REGS note.
	Regs []uint64
}

// AuxvEntry is one auxiliary vector entry.
type AuxvEntry struct {
	Tag   uint64
	Value uint64
}

// FileMapping is one NT_FILE entry.
type FileMapping struct {
	Start, End uint64
	FileOff    uint64 // byte offset in the file
	Name       string
}

// Open opens the core file at path.
func Open(path string) (*Core, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory", path)
	}
	c, err := NewCore(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	c.closer = f
	return c, nil
}

// Close releases the file.
func (c *Core) Close() error {
	if c.closer != nil {
		return c.closer.Close()
	}
	return nil
}

// ErrNotCore is returned for an ELF file that is not a core dump.
var ErrNotCore = errors.New("not a core dump")

// memoryCacheBytes bounds the cache of core file pages that memory reads go through.
const memoryCacheBytes = 32 << 20

// NewCore reads a core from r, which holds size bytes. name is used in messages.
func NewCore(r io.ReaderAt, size int64, name string) (*Core, error) {
	h, err := elfx.ReadHeader(r)
	if err != nil {
		if errors.Is(err, elfx.ErrNotELF) {
			return nil, fmt.Errorf("not an ELF file (no \\x7fELF magic)")
		}
		return nil, err
	}
	if h.Type != elf.ET_CORE {
		return nil, fmt.Errorf("%w: ELF type is %v", ErrNotCore, h.Type)
	}
	a, err := arch.ForMachine(h.Machine, h.Class, h.Data)
	if err != nil {
		return nil, err
	}
	progs, err := elfx.ReadProgs(r, h)
	if err != nil {
		return nil, err
	}
	c := &Core{Path: name, Arch: a, Size: size, r: pagecache.New(r, memoryCacheBytes)}
	c.ExpectedSize = int64(h.PhOff) + int64(h.PhNum)*int64(h.PhEntSize)
	var noteProgs []elfx.Prog
	for _, p := range progs {
		end := p.Off + p.Filesz
		if end < p.Off { // overflow
			c.warnf("program header at file offset %#x has an impossible size %#x", p.Off, p.Filesz)
			continue
		}
		if int64(end) > c.ExpectedSize {
			c.ExpectedSize = int64(end)
		}
		switch p.Type {
		case elf.PT_LOAD:
			s := Segment{Vaddr: p.Vaddr, Memsz: p.Memsz, Off: p.Off, Filesz: min(p.Filesz, p.Memsz), Flags: p.Flags}
			if s.Vaddr+s.Memsz < s.Vaddr {
				c.warnf("PT_LOAD at %#x wraps around the address space; ignored", p.Vaddr)
				continue
			}
			switch {
			case int64(s.Off) >= size:
				s.Present = 0
			case int64(s.Off+s.Filesz) > size:
				s.Present = uint64(size) - s.Off
			default:
				s.Present = s.Filesz
			}
			c.Segments = append(c.Segments, s)
		case elf.PT_NOTE:
			noteProgs = append(noteProgs, p)
		}
	}
	sort.SliceStable(c.Segments, func(i, j int) bool { return c.Segments[i].Vaddr < c.Segments[j].Vaddr })
	c.Notes.ByType = map[string]int{}
	for _, p := range noteProgs {
		c.readNoteSegment(p, h)
	}
	if c.Notes.Total == 0 {
		// Nothing the kernel writes first survived: no threads, signal or mappings.
		reason := "the core has no PT_NOTE segment"
		if len(c.Warnings) > 0 {
			reason = c.Warnings[len(c.Warnings)-1]
		}
		return nil, fmt.Errorf("no notes: %s", reason)
	}
	if len(c.Threads) == 0 {
		c.warnf("the core has no NT_PRSTATUS note: no thread registers")
	}
	return c, nil
}

func (c *Core) warnf(format string, args ...any) {
	c.Warnings = append(c.Warnings, fmt.Sprintf(format, args...))
}

func (c *Core) readNoteSegment(p elfx.Prog, h *elfx.Header) {
	n := p.Filesz
	if n > elfx.MaxNoteBytes {
		c.warnf("note segment at file offset %#x is %d bytes; only the first %d are read", p.Off, n, elfx.MaxNoteBytes)
		n = elfx.MaxNoteBytes
	}
	if int64(p.Off) >= c.Size {
		c.warnf("note segment at file offset %#x is beyond the end of the file (%d bytes): the core is truncated before its notes", p.Off, c.Size)
		return
	}
	if int64(p.Off+n) > c.Size {
		c.warnf("note segment at file offset %#x is cut off by truncation after %d of %d bytes", p.Off, c.Size-int64(p.Off), n)
		n = uint64(c.Size - int64(p.Off))
	}
	buf := make([]byte, n)
	k, err := c.r.ReadAt(buf, int64(p.Off))
	if k < len(buf) {
		c.warnf("reading note segment at file offset %#x: %v", p.Off, err)
		buf = buf[:k]
	}
	notes, err := elfx.ParseNotes(buf, h.ByteOrder, int64(p.Off))
	if err != nil {
		c.warnf("%v; notes after it are lost", err)
	}
	c.decodeNotes(notes)
}
