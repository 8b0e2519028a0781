// Package corewriter lays out and writes a Linux ELF core dump in the kernel's format
// from a description of a process: its threads with their register sets, the process and
// signal information, the auxiliary vector, the mappings with how much of each to dump,
// and a source of the process's memory. It knows nothing of ptrace or /proc; package
// capture fills the description from a live process.
//
// How: NewImage computes the whole layout up front (ELF header, program headers, the note
// segment, then one PT_LOAD per mapping at page-aligned offsets) and keeps only the
// headers and notes in memory. The Image is an io.ReaderAt over the core file that would
// be written: header and note bytes come from the buffer, segment bytes are read from
// the Memory source when asked, so the same Image is written to a file (WriteTo) or read
// lazily in place by package core (a live process analysed without copying its address
// space). Memory that cannot be read reads as zeros, as the kernel leaves a hole for a
// page it cannot get (dump_skip in fs/coredump.c).
//
// Notes are written in the order of fill_note_info and write_note_info: the first
// thread's NT_PRSTATUS, then NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE, then the first
// thread's other register sets, then each further thread's NT_PRSTATUS and register
// sets. Register sets are named "CORE" when NT_PRFPREG, else "LINUX"; extra notes (the
// COREDIG notes) follow the threads.
//
// Bounds: at most 65534 mappings (the writer does not use extended program-header
// numbering, PN_XNUM); note descriptors are limited to 4 MiB each (the kernel's NT_FILE limit).
//
// Sources: linux/fs/binfmt_elf.c (elf_core_dump, fill_note_info, write_note_info,
// fill_prstatus, fill_psinfo, fill_files_note, fill_elf_note_phdr),
// linux/fs/coredump.c (vma_dump_size, dump_user_range),
// linux/include/uapi/linux/elfcore.h and the layouts in package arch.
package corewriter

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/coredig/coredig/internal/arch"
)

// Note types written here (linux/include/uapi/linux/elf.h).
const (
	NT_PRSTATUS = 1
	NT_PRFPREG  = 2
	NT_PRPSINFO = 3
	NT_AUXV     = 6
	NT_SIGINFO  = 0x53494749
	NT_FILE     = 0x46494c45
)

// COREDIG notes: facts the kernel's format has no place for, under an owner other tools
// ignore.
const (
	// NoteOwner is the name of coredig's own notes.
	NoteOwner = "COREDIG"
	// NT_COREDIG_FIRST_SIGINFO is the siginfo_t of the first delivery of the fatal
	// signal, which a handler caught before the process died of a re-raise; its
	// descriptor is the 128-byte siginfo followed by the thread id (int32).
	NT_COREDIG_FIRST_SIGINFO = 1
	// NT_COREDIG_FIRST_REGS is that thread's general registers at that moment, laid out
	// as pr_reg.
	NT_COREDIG_FIRST_REGS = 2
	// NT_COREDIG_FILES says what each open file descriptor of the process was when the
	// snapshot was taken, read from /proc: its descriptor is text, one line per
	// descriptor, "N\tdescription\n" ("3\tpipe:[123456] (read end)",
	// "5\tsocket:[789] TCP 127.0.0.1:40000 -> 127.0.0.1:8080 (ESTABLISHED)",
	// "1\t/dev/pts/0").
	NT_COREDIG_FILES = 3
)

const (
	maxMappings = 65534
	maxDesc     = 4 << 20 // MAX_FILE_NOTE_SIZE in fs/binfmt_elf.c
	siginfoSize = 128
)

// Process describes the process to write.
type Process struct {
	Arch *arch.Arch
	// Threads in note order: the thread that received the signal first.
	Threads []Thread
	PsInfo  PsInfo
	// SigInfo is the siginfo_t of NT_SIGINFO (128 bytes); nil writes none.
	SigInfo []byte
	// Auxv is the raw auxiliary vector (/proc/PID/auxv); nil writes none.
	Auxv     []byte
	Mappings []Mapping
	// Extra notes written after the threads.
	Extra []Note
}

// Thread is one thread.
type Thread struct {
	TID              int
	Signal           int // pr_cursig and pr_info.si_signo
	SigPend, SigHold uint64
	PPID, PGRP, SID  int // pr_pid is TID
	UTime, STime     time.Duration
	CUTime, CSTime   time.Duration
	// Regs is pr_reg as PTRACE_GETREGSET NT_PRSTATUS returns it (Arch.PrStatus.RegsSize).
	Regs []byte
	// RegSets are the other register sets, in Arch.CoreRegSets order.
	RegSets []RegSet
}

// RegSet is one register set note of a thread.
type RegSet struct {
	Type uint32
	Data []byte
}

// PsInfo is what NT_PRPSINFO holds.
type PsInfo struct {
	SName     byte // state letter from /proc/PID/stat ('R', 'S', 't', ...)
	Nice      int
	Flag      uint64
	UID, GID  uint32
	PID, PPID int
	PGRP, SID int
	FName     string // at most 15 bytes are kept
	Args      []byte // the command line, NUL-separated; at most 79 bytes are kept
}

// Mapping is one memory mapping: one PT_LOAD and, when File is set, one NT_FILE entry.
type Mapping struct {
	Start, End uint64
	Flags      elf.ProgFlag
	// Dump is how many bytes from Start the core holds (0, a page, or End-Start).
	Dump uint64
	// File is the mapped file's name as /proc/PID/maps shows it, "" for anonymous memory.
	File   string
	Offset uint64 // byte offset in File
}

// Note is an extra note.
type Note struct {
	Name string
	Type uint32
	Desc []byte
}

// Memory reads process memory. A short read with an error leaves a hole of zeros.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// Image is a laid-out core.
type Image struct {
	head     []byte // ELF header, program headers, notes, padding to the first segment
	segments []segment
	size     int64
	mem      Memory
	// Unreadable counts the bytes of dumped mappings that read as zeros because
	// Memory could not read them, up to now.
	Unreadable uint64
}

type segment struct {
	off, vaddr, size uint64
}

// Size is the size of the core file.
func (im *Image) Size() int64 { return im.size }

// ErrLayout is wrapped by errors about a description that cannot be written.
var ErrLayout = errors.New("corewriter: cannot lay out the core")

// NewImage lays out the core of p, whose memory mem supplies.
func NewImage(p *Process, mem Memory) (*Image, error) {
	a := p.Arch
	if a == nil || a.Class != elf.ELFCLASS64 {
		return nil, fmt.Errorf("%w: only 64-bit architectures are written", ErrLayout)
	}
	if len(p.Threads) == 0 {
		return nil, fmt.Errorf("%w: no threads", ErrLayout)
	}
	if len(p.Mappings) > maxMappings {
		return nil, fmt.Errorf("%w: %d mappings (at most %d)", ErrLayout, len(p.Mappings), maxMappings)
	}
	for i, m := range p.Mappings {
		if m.End < m.Start || m.Dump > m.End-m.Start {
			return nil, fmt.Errorf("%w: mapping %d [%#x, %#x) dumps %#x bytes", ErrLayout, i, m.Start, m.End, m.Dump)
		}
	}
	notes, err := buildNotes(p)
	if err != nil {
		return nil, err
	}
	bo := a.ByteOrder
	const ehsize, phsize = 64, 56
	phnum := 1 + len(p.Mappings)
	noteOff := uint64(ehsize + phsize*phnum)
	dataOff := roundUp(noteOff+uint64(len(notes)), a.PageSize)
	head := make([]byte, dataOff)
	// ELF header (fill_elf_header).
	copy(head, elf.ELFMAG)
	head[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	head[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	if bo == binary.BigEndian {
		head[elf.EI_DATA] = byte(elf.ELFDATA2MSB)
	}
	head[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	bo.PutUint16(head[16:], uint16(elf.ET_CORE))
	bo.PutUint16(head[18:], uint16(a.Machine))
	bo.PutUint32(head[20:], uint32(elf.EV_CURRENT))
	bo.PutUint64(head[32:], ehsize) // e_phoff
	bo.PutUint16(head[52:], ehsize)
	bo.PutUint16(head[54:], phsize)
	bo.PutUint16(head[56:], uint16(phnum))
	// PT_NOTE (fill_elf_note_phdr).
	ph := head[ehsize:]
	bo.PutUint32(ph[0:], uint32(elf.PT_NOTE))
	bo.PutUint64(ph[8:], noteOff)
	bo.PutUint64(ph[32:], uint64(len(notes)))
	bo.PutUint64(ph[48:], 4)
	copy(head[noteOff:], notes)
	im := &Image{head: head, mem: mem}
	off := dataOff
	for i, m := range p.Mappings {
		ph := head[ehsize+phsize*(i+1):]
		bo.PutUint32(ph[0:], uint32(elf.PT_LOAD))
		bo.PutUint32(ph[4:], uint32(m.Flags))
		bo.PutUint64(ph[8:], off)
		bo.PutUint64(ph[16:], m.Start)
		bo.PutUint64(ph[32:], m.Dump)
		bo.PutUint64(ph[40:], m.End-m.Start)
		bo.PutUint64(ph[48:], a.PageSize)
		if m.Dump > 0 {
			im.segments = append(im.segments, segment{off: off, vaddr: m.Start, size: m.Dump})
		}
		off += m.Dump
	}
	im.size = int64(off)
	return im, nil
}

func roundUp(n, to uint64) uint64 { return (n + to - 1) / to * to }

// ReadAt reads the core file's bytes at off.
func (im *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("corewriter: negative offset %d", off)
	}
	n := 0
	for n < len(p) {
		o := uint64(off) + uint64(n)
		if o >= uint64(im.size) {
			return n, io.EOF
		}
		if o < uint64(len(im.head)) {
			n += copy(p[n:], im.head[o:])
			continue
		}
		s := im.segmentAt(o)
		if s == nil { // between segments cannot happen: they are contiguous
			return n, fmt.Errorf("corewriter: offset %#x is in no segment", o)
		}
		rel := o - s.off
		k := int(min(uint64(len(p)-n), s.size-rel))
		im.readMem(p[n:n+k], s.vaddr+rel)
		n += k
	}
	return n, nil
}

func (im *Image) segmentAt(off uint64) *segment {
	lo, hi := 0, len(im.segments)
	for lo < hi {
		m := (lo + hi) / 2
		if im.segments[m].off+im.segments[m].size <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(im.segments) && im.segments[lo].off <= off {
		return &im.segments[lo]
	}
	return nil
}

// readMem fills p from memory page by page, zeros where it cannot.
func (im *Image) readMem(p []byte, addr uint64) {
	for len(p) > 0 {
		k, err := im.mem.ReadAt(p, addr)
		if k >= len(p) {
			return
		}
		if k < 0 || err == nil && k == 0 {
			k = 0
		}
		p, addr = p[k:], addr+uint64(k)
		// Skip the rest of the unreadable page.
		skip := int(min(uint64(len(p)), 4096-addr%4096))
		clear(p[:skip])
		im.Unreadable += uint64(skip)
		p, addr = p[skip:], addr+uint64(skip)
	}
}

// WriteTo writes the whole core to w.
func (im *Image) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, 1<<20)
	var total int64
	for total < im.size {
		k := int(min(int64(len(buf)), im.size-total))
		n, err := im.ReadAt(buf[:k], total)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err != nil && err != io.EOF {
			return total, err
		}
	}
	return total, nil
}
