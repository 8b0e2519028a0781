package corewriter

import (
	"debug/elf"
	"encoding/binary"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/core"
)

// FuzzWriteRead lays out a core from fuzzed threads and mappings and reads it back with
// package core: whatever NewImage accepts, core must open with the same threads, the same
// registers and the same memory.
func FuzzWriteRead(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, uint8(2), uint8(3), "prog", false)
	f.Add([]byte{0xff, 0, 0xff, 0}, uint8(0), uint8(0), "", true)
	f.Fuzz(func(t *testing.T, seed []byte, nthreads, nmaps uint8, name string, arm bool) {
		a := arch.AMD64
		if arm {
			a = arch.ARM64
		}
		if len(seed) == 0 {
			seed = []byte{0}
		}
		at := func(i int) byte { return seed[i%len(seed)] }
		p := &Process{Arch: a, PsInfo: PsInfo{FName: name, Args: []byte(name)}}
		for i := 0; i < int(nthreads%8); i++ {
			regs := make([]byte, a.PrStatus.RegsSize)
			for j := range regs {
				regs[j] = at(i + j)
			}
			p.Threads = append(p.Threads, Thread{TID: 1000 + i, Signal: int(at(i)), Regs: regs})
		}
		addr := uint64(0x10000)
		for i := 0; i < int(nmaps%16); i++ {
			pages := uint64(at(i)%4) + 1
			m := Mapping{Start: addr, End: addr + pages*4096, Flags: elf.ProgFlag(at(i+1) % 8)}
			switch at(i+2) % 3 {
			case 1:
				m.Dump = 4096
			case 2:
				m.Dump = m.End - m.Start
			}
			if at(i+3)%2 == 1 {
				m.File = name + "\x01" // never empty
			}
			p.Mappings = append(p.Mappings, m)
			addr = m.End + uint64(at(i+4))*4096
		}
		mem := patternMemory{}
		im, err := NewImage(p, mem)
		if err != nil {
			t.Skip(err)
		}
		c, err := core.NewCore(im, im.Size(), "fuzz")
		if err != nil {
			t.Fatalf("written core does not open: %v", err)
		}
		if len(c.Threads) != len(p.Threads) {
			t.Fatalf("%d threads, wrote %d", len(c.Threads), len(p.Threads))
		}
		for i, th := range c.Threads {
			if th.TID != p.Threads[i].TID || th.Regs[a.PC] != binary.LittleEndian.Uint64(p.Threads[i].Regs[8*a.PC:]) {
				t.Fatalf("thread %d: tid %d pc %#x", i, th.TID, th.Regs[a.PC])
			}
		}
		for _, m := range p.Mappings {
			if m.Dump == 0 {
				continue
			}
			var b [8]byte
			if err := c.ReadFull(b[:], m.End-8); m.Dump == m.End-m.Start && (err != nil || b != patternAt(m.End-8)) {
				t.Fatalf("memory at %#x: %x %v", m.End-8, b, err)
			}
		}
	})
}

// patternMemory holds each address's low byte everywhere.
type patternMemory struct{}

func (patternMemory) ReadAt(p []byte, addr uint64) (int, error) {
	for i := range p {
		p[i] = byte(addr + uint64(i))
	}
	return len(p), nil
}

func patternAt(addr uint64) (b [8]byte) {
	patternMemory{}.ReadAt(b[:], addr)
	return b
}
