package goruntime

import (
	"debug/elf"
	"encoding/binary"
	"fmt"

	"github.com/coredig/coredig/internal/arch"
)

// fakeProc is a Process over a few regions of little-endian memory, for tests that need
// no core.
type fakeProc struct {
	regions map[uint64][]byte // start -> bytes
	starts  map[uint64]uint64 // pc -> its function's start
	modules []Module
}

func newFake() *fakeProc {
	return &fakeProc{regions: map[uint64][]byte{}, starts: map[uint64]uint64{}}
}

func (p *fakeProc) ReadAt(b []byte, addr uint64) (int, error) {
	for start, r := range p.regions {
		if addr >= start && addr-start < uint64(len(r)) {
			n := copy(b, r[addr-start:])
			if n < len(b) {
				return n, fmt.Errorf("%#x is unmapped", addr+uint64(n))
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%#x is unmapped", addr)
}

func (p *fakeProc) Modules() []Module { return p.modules }

func (p *fakeProc) FuncStart(pc uint64) (uint64, bool) {
	s, ok := p.starts[pc]
	return s, ok
}

// mapRegion maps n zero bytes at addr.
func (p *fakeProc) mapRegion(addr uint64, n int) { p.regions[addr] = make([]byte, n) }

func (p *fakeProc) at(addr uint64, n int) []byte {
	for start, r := range p.regions {
		if addr >= start && addr-start+uint64(n) <= uint64(len(r)) {
			return r[addr-start : addr-start+uint64(n)]
		}
	}
	panic(fmt.Sprintf("fake: %#x+%d is not mapped", addr, n))
}

func (p *fakeProc) put64(addr, v uint64) { binary.LittleEndian.PutUint64(p.at(addr, 8), v) }
func (p *fakeProc) put32(addr uint64, v uint32) {
	binary.LittleEndian.PutUint32(p.at(addr, 4), v)
}
func (p *fakeProc) put8(addr uint64, v uint8) { p.at(addr, 1)[0] = v }

// putString writes a Go string header at addr pointing at s, stored at data.
func (p *fakeProc) putString(addr, data uint64, s string) {
	copy(p.at(data, len(s)), s)
	p.put64(addr, data)
	p.put64(addr+8, uint64(len(s)))
}

// A made-up layout of runtime.g, runtime.gobuf and runtime.m, for the fake memory.
const (
	offPanic      = 0x20
	offM          = 0x30
	offSched      = 0x38
	offStatus     = 0x90
	offGoid       = 0x98
	offWaitReason = 0xa0
	offSig        = 0xa8
	offSigCode0   = 0xb0
	offSigCode1   = 0xb8
	offSigPC      = 0xc0
	gSize         = 0xc8
	offProcID     = 0x48

	fakeAllgs = 0x1000 // the []*g header
	fakeArray = 0x2000 // its backing array
)

// fakeRuntime is a Runtime over p with the made-up layout, allgs at fakeAllgs.
func fakeRuntime(p *fakeProc, a *arch.Arch) *Runtime {
	return &Runtime{p: p, arch: a, allgs: fakeAllgs,
		g: map[string]int64{"_panic": offPanic, "m": offM, "sched": offSched, "atomicstatus": offStatus,
			"goid": offGoid, "waitreason": offWaitReason, "sig": offSig, "sigcode0": offSigCode0,
			"sigcode1": offSigCode1, "sigpc": offSigPC},
		gobuf: map[string]int64{"sp": 0, "pc": 8, "lr": 32, "bp": 40},
		m:     map[string]int64{"procid": offProcID},
	}
}

// setAllgs maps runtime.allgs with the given g addresses.
func (p *fakeProc) setAllgs(gs ...uint64) {
	p.mapRegion(fakeAllgs, 24)
	p.mapRegion(fakeArray, 8*len(gs))
	p.put64(fakeAllgs, fakeArray)
	p.put64(fakeAllgs+8, uint64(len(gs)))
	p.put64(fakeAllgs+16, uint64(len(gs)))
	for i, g := range gs {
		p.put64(fakeArray+uint64(8*i), g)
	}
}

// addG maps a g at addr with the given goid and status.
func (p *fakeProc) addG(addr, goid uint64, status uint32) {
	p.mapRegion(addr, gSize)
	p.put64(addr+offGoid, goid)
	p.put32(addr+offStatus, status)
}

// fakeModule is a Module with a made-up file: its section names only.
type fakeModule struct {
	f    *elf.File
	syms map[string]uint64
}

func newModule(syms map[string]uint64, sections ...string) fakeModule {
	f := &elf.File{}
	for _, s := range sections {
		f.Sections = append(f.Sections, &elf.Section{SectionHeader: elf.SectionHeader{Name: s}})
	}
	return fakeModule{f: f, syms: syms}
}

func (m fakeModule) ELF() *elf.File { return m.f }

func (m fakeModule) Symbol(name string) (uint64, bool) {
	v, ok := m.syms[name]
	return v, ok
}
