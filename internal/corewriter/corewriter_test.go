package corewriter

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/core"
)

// fakeMemory holds bytes at addresses; everything else fails to read.
type fakeMemory map[uint64][]byte

func (m fakeMemory) ReadAt(p []byte, addr uint64) (int, error) {
	for base, b := range m {
		if addr >= base && addr < base+uint64(len(b)) {
			return copy(p, b[addr-base:]), nil
		}
	}
	return 0, errors.New("unreadable")
}

func sampleProcess(a *arch.Arch) (*Process, fakeMemory) {
	regs := func(seed uint64) []byte {
		b := make([]byte, a.PrStatus.RegsSize)
		for i := 0; i < len(a.RegNames); i++ {
			a.ByteOrder.PutUint64(b[8*i:], seed+uint64(i))
		}
		return b
	}
	var sets []RegSet
	for _, rs := range a.CoreRegSets {
		sets = append(sets, RegSet{Type: rs.Type, Data: bytes.Repeat([]byte{byte(rs.Type)}, min(rs.MaxSize, 64))})
	}
	si := make([]byte, 128)
	a.ByteOrder.PutUint32(si[0:], 11) // SIGSEGV
	a.ByteOrder.PutUint32(si[8:], 1)  // SEGV_MAPERR
	a.ByteOrder.PutUint64(si[16:], 0x10)
	auxv := make([]byte, 32)
	a.ByteOrder.PutUint64(auxv[0:], 6) // AT_PAGESZ
	a.ByteOrder.PutUint64(auxv[8:], 4096)
	text := append([]byte("\x7fELF"), bytes.Repeat([]byte{0xcc}, 4092)...)
	heap := bytes.Repeat([]byte("heap"), 2048) // 8 KiB
	p := &Process{
		Arch: a,
		Threads: []Thread{
			{TID: 102, Signal: 11, SigPend: 0x100, SigHold: 0x200, PPID: 1, PGRP: 100, SID: 100, Regs: regs(1000), RegSets: sets},
			{TID: 100, Signal: 11, PPID: 1, PGRP: 100, SID: 100, Regs: regs(2000), RegSets: sets},
		},
		PsInfo: PsInfo{SName: 'R', UID: 1000, GID: 1001, PID: 100, PPID: 1, PGRP: 100, SID: 100,
			FName: "a-very-long-command-name", Args: []byte("prog\x00arg1\x00arg2\x00")},
		SigInfo: si,
		Auxv:    auxv,
		Mappings: []Mapping{
			{Start: 0x400000, End: 0x402000, Flags: elf.PF_R | elf.PF_X, Dump: 4096, File: "/usr/bin/prog"},
			{Start: 0x600000, End: 0x602000, Flags: elf.PF_R | elf.PF_W, Dump: 0x2000},
			{Start: 0x700000, End: 0x701000, Flags: elf.PF_R, Dump: 0, File: "/lib/libx.so", Offset: 0x3000},
			{Start: 0x800000, End: 0x802000, Flags: elf.PF_R | elf.PF_W, Dump: 0x2000}, // second page unreadable
		},
	}
	first := append(append([]byte{}, si...), 0, 0, 0, 0)
	a.ByteOrder.PutUint32(first[128:], 102)
	p.Extra = []Note{{Name: NoteOwner, Type: NT_COREDIG_FIRST_SIGINFO, Desc: first},
		{Name: NoteOwner, Type: NT_COREDIG_FIRST_REGS, Desc: regs(3000)}, {Name: "OTHER", Type: 7, Desc: []byte{1}}}
	mem := fakeMemory{0x400000: text, 0x600000: heap, 0x800000: bytes.Repeat([]byte{7}, 4096)}
	return p, mem
}

func TestRoundTrip(t *testing.T) {
	for _, a := range arch.All {
		if a.Class != elf.ELFCLASS64 {
			// coredig captures no 32-bit process live (it reads their cores only; x32's
			// too): the writer must refuse one rather than write a wrong core.
			if _, err := NewImage(&Process{Arch: a}, fakeMemory{}); err == nil {
				t.Errorf("%s: NewImage wrote a 64-bit core for a 32-bit architecture", a.Name)
			}
			continue
		}
		if a.CoreRegSets == nil {
			continue // not an architecture coredig captures live
		}
		t.Run(a.Name, func(t *testing.T) {
			p, mem := sampleProcess(a)
			im, err := NewImage(p, mem)
			if err != nil {
				t.Fatal(err)
			}
			// Through a file, as gcore writes it.
			path := filepath.Join(t.TempDir(), "core")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := im.WriteTo(f); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if im.Unreadable != 4096 {
				t.Errorf("Unreadable = %d, want 4096 (one page of the last mapping)", im.Unreadable)
			}
			c, err := core.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			checkCore(t, a, c, p)
			// debug/elf agrees on the layout.
			ef, err := elf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer ef.Close()
			if ef.Type != elf.ET_CORE || ef.Machine != a.Machine || len(ef.Progs) != 5 || ef.Progs[0].Type != elf.PT_NOTE {
				t.Errorf("debug/elf: type %v machine %v, %d program headers", ef.Type, ef.Machine, len(ef.Progs))
			}
			for _, pr := range ef.Progs[1:] {
				if pr.Filesz > 0 && pr.Off%4096 != 0 {
					t.Errorf("PT_LOAD at %#x has file offset %#x, not page-aligned", pr.Vaddr, pr.Off)
				}
			}
		})
	}
}

func checkCore(t *testing.T, a *arch.Arch, c *core.Core, p *Process) {
	t.Helper()
	if c.Size != c.ExpectedSize {
		t.Errorf("size %d, headers say %d", c.Size, c.ExpectedSize)
	}
	if len(c.Threads) != 2 || c.Threads[0].TID != 102 || c.Threads[1].TID != 100 {
		t.Fatalf("threads %+v", c.Threads)
	}
	t0 := c.Threads[0]
	if t0.Signal != 11 || t0.SigPend != 0x100 || t0.SigHold != 0x200 || t0.PPID != 1 || t0.PGRP != 100 || !t0.FPValid {
		t.Errorf("thread 0: %+v", t0)
	}
	for i, v := range t0.Regs {
		if v != 1000+uint64(i) {
			t.Errorf("thread 0 %s = %#x, want %#x", a.RegNames[i], v, 1000+i)
		}
	}
	if c.Threads[1].Regs[a.PC] != 2000+uint64(a.PC) {
		t.Errorf("thread 1 pc %#x", c.Threads[1].Regs[a.PC])
	}
	ps := c.PsInfo
	if ps == nil || ps.PID != 100 || ps.UID != 1000 || ps.GID != 1001 || ps.FName != "a-very-long-com" || ps.Args != "prog arg1 arg2" || ps.SName != 'R' {
		t.Errorf("psinfo %+v", ps)
	}
	if s := c.SigInfo; s == nil || s.Signo != 11 || s.Code != 1 || s.Addr != 0x10 {
		t.Errorf("siginfo %+v", c.SigInfo)
	}
	if len(c.Auxv) != 1 || c.Auxv[0].Tag != 6 || c.Auxv[0].Value != 4096 {
		t.Errorf("auxv %+v", c.Auxv)
	}
	want := []core.FileMapping{{Start: 0x400000, End: 0x402000, Name: "/usr/bin/prog"}, {Start: 0x700000, End: 0x701000, FileOff: 0x3000, Name: "/lib/libx.so"}}
	if fmt.Sprint(c.Files) != fmt.Sprint(want) {
		t.Errorf("files %+v, want %+v", c.Files, want)
	}
	if c.Notes.FPRegs != min(a.CoreRegSets[0].MaxSize, 64) || c.Notes.Unknown != 1 {
		t.Errorf("notes %+v", c.Notes)
	}
	if ff := c.FirstFault; ff == nil || ff.TID != 102 || ff.SigInfo == nil || ff.SigInfo.Signo != 11 || ff.SigInfo.Addr != 0x10 || len(ff.Regs) != len(a.RegNames) || ff.Regs[a.PC] != 3000+uint64(a.PC) {
		t.Errorf("first fault %+v", c.FirstFault)
	}
	var b [4]byte
	if err := c.ReadFull(b[:], 0x400000); err != nil || string(b[:]) != "\x7fELF" {
		t.Errorf("text header: %q %v", b, err)
	}
	if err := c.ReadFull(b[:], 0x401000); !core.IsMemError(err, core.NotDumped) {
		t.Errorf("text past its first page: %v, want not dumped", err)
	}
	if err := c.ReadFull(b[:], 0x601ffc); err != nil || string(b[:]) != "heap" {
		t.Errorf("heap end: %q %v", b, err)
	}
	if err := c.ReadFull(b[:], 0x801000); err != nil || b != [4]byte{} {
		t.Errorf("unreadable page: %q %v, want zeros", b, err)
	}
	if err := c.ReadFull(b[:], 0x500000); !core.IsMemError(err, core.Unmapped) {
		t.Errorf("gap: %v, want unmapped", err)
	}
}

// The Image serves core.NewCore in place, without a file.
func TestImageInPlace(t *testing.T) {
	p, mem := sampleProcess(arch.AMD64)
	im, err := NewImage(p, mem)
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.NewCore(im, im.Size(), "live")
	if err != nil {
		t.Fatal(err)
	}
	checkCore(t, arch.AMD64, c, p)
}

func TestLayoutErrors(t *testing.T) {
	p, mem := sampleProcess(arch.AMD64)
	p.Threads[1].Regs = p.Threads[1].Regs[:8]
	if _, err := NewImage(p, mem); !errors.Is(err, ErrLayout) {
		t.Errorf("short registers: %v", err)
	}
	p, _ = sampleProcess(arch.AMD64)
	p.Mappings[0].Dump = 0x10000
	if _, err := NewImage(p, mem); !errors.Is(err, ErrLayout) {
		t.Errorf("dump beyond the mapping: %v", err)
	}
	p, _ = sampleProcess(arch.AMD64)
	p.SigInfo = p.SigInfo[:100]
	if _, err := NewImage(p, mem); !errors.Is(err, ErrLayout) {
		t.Errorf("short siginfo: %v", err)
	}
}
