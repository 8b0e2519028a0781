package symbolize

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/ehabi"
	"github.com/coredig/coredig/internal/elfx"
)

// SHT_ARM_EXIDX and PT_ARM_EXIDX mark the EHABI index table of a 32-bit ARM binary, as a
// section and as the program header that keeps it findable once sections are stripped
// ("ELF for the Arm Architecture", ARM IHI 0044, §5.3.4 and §5.7.1). debug/elf has neither.
const (
	SHT_ARM_EXIDX = elf.SectionType(0x70000001)
	PT_ARM_EXIDX  = elf.ProgType(0x70000001)
)

// EHABI returns the EHABI index table (.ARM.exidx) of the module holding run-time address
// pc, with the module's load bias to add to its addresses; nil when it has none. The
// table is read once per module: from the module's file (the SHT_ARM_EXIDX section, else
// the PT_ARM_EXIDX segment), or, when no file is usable, from the core's memory through
// the PT_ARM_EXIDX program header of the loaded image, when the core holds those pages.
// .ARM.extab entries are read from the same place when a pc needs them.
func (t *Table) EHABI(pc uint64) (*ehabi.Table, uint64) {
	m := t.ModuleFor(pc)
	if m == nil {
		return nil, 0
	}
	m.ehabiOnce.Do(func() { m.ehabi = m.loadEHABI(t) })
	return m.ehabi, m.Bias
}

func (m *Module) loadEHABI(t *Table) *ehabi.Table {
	if m.file != nil {
		tab, err := exidxFromFile(m.file)
		if err != nil {
			m.Notes = append(m.Notes, fmt.Sprintf(".ARM.exidx: %v", err))
		}
		return tab
	}
	if m.image == nil || !m.BiasKnown {
		return nil
	}
	tab, err := exidxFromImage(m.image, coreAt{t.core, m.Bias})
	if err != nil {
		m.Notes = append(m.Notes, fmt.Sprintf(".ARM.exidx from core memory: %v", err))
	}
	return tab
}

// exidxFromFile reads a file's index: its SHT_ARM_EXIDX section, else the PT_ARM_EXIDX
// segment of a file without section headers. nil, nil when it has neither.
func exidxFromFile(f *elf.File) (*ehabi.Table, error) {
	mem := loadMemory{f}
	for _, s := range f.Sections {
		if s.Type != SHT_ARM_EXIDX {
			continue
		}
		if s.Size > ehabi.MaxIndexBytes {
			return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit", s.Name, s.Size, ehabi.MaxIndexBytes)
		}
		b, err := s.Data()
		if err != nil {
			return nil, err
		}
		return ehabi.New(ehabi.Config{Data: b, Addr: s.Addr, Order: f.ByteOrder, Extab: mem})
	}
	for _, p := range f.Progs {
		if p.Type == PT_ARM_EXIDX {
			return exidxAt(p.Vaddr, p.Filesz, f.ByteOrder, mem)
		}
	}
	return nil, nil
}

// exidxFromImage reads the index of a loaded image through its PT_ARM_EXIDX program
// header; mem reads link-time addresses of the image.
func exidxFromImage(im *elfx.Image, mem ehabi.Memory) (*ehabi.Table, error) {
	p, ok := im.Prog(PT_ARM_EXIDX)
	if !ok {
		return nil, nil
	}
	return exidxAt(p.Vaddr, p.Memsz, im.Header.ByteOrder, mem)
}

func exidxAt(addr, size uint64, order binary.ByteOrder, mem ehabi.Memory) (*ehabi.Table, error) {
	if size > ehabi.MaxIndexBytes {
		return nil, fmt.Errorf("PT_ARM_EXIDX is %d bytes, over the %d-byte limit", size, ehabi.MaxIndexBytes)
	}
	b := make([]byte, size)
	if n, err := mem.ReadAt(b, addr); uint64(n) < size {
		return nil, fmt.Errorf("reading PT_ARM_EXIDX at %#x: %w", addr+uint64(n), err)
	}
	return ehabi.New(ehabi.Config{Data: b, Addr: addr, Order: order, Extab: mem})
}

// loadMemory reads a file's loadable segments by link-time address, up to each one's file
// size.
type loadMemory struct{ f *elf.File }

func (m loadMemory) ReadAt(p []byte, addr uint64) (int, error) {
	for _, pr := range m.f.Progs {
		if pr.Type != elf.PT_LOAD || addr < pr.Vaddr || addr-pr.Vaddr >= pr.Filesz {
			continue
		}
		n := min(uint64(len(p)), pr.Filesz-(addr-pr.Vaddr))
		k, err := pr.ReadAt(p[:n], int64(addr-pr.Vaddr))
		if k == len(p) {
			return k, nil
		}
		if err == nil || err == io.EOF {
			err = fmt.Errorf("%#x is past the file's part of its segment", addr+uint64(k))
		}
		return k, err
	}
	return 0, fmt.Errorf("%#x is in no loadable segment of the file", addr)
}

// coreAt reads a module's link-time addresses from core memory, at their run-time
// addresses (plus the load bias); the core's errors say why a read falls short.
type coreAt struct {
	c    *core.Core
	bias uint64
}

func (m coreAt) ReadAt(p []byte, addr uint64) (int, error) { return m.c.ReadAt(p, addr+m.bias) }
