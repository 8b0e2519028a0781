package symbolize

import (
	"debug/elf"
	"fmt"

	"github.com/coredig/coredig/internal/elfx"
)

// ReadFile reads module bytes at run-time address addr from the module's file on disk.
// It refuses when the file is not verified against the core (a mismatched file is used
// only when the caller allowed it). The file offset comes from the NT_FILE mapping that
// covers addr, else from the program headers.
func (m *Module) ReadFile(p []byte, addr uint64) (int, error) {
	if m.file == nil || m.ra == nil {
		switch m.Status {
		case Mismatch:
			return 0, fmt.Errorf("%s has a different build-id than the core", m.Name)
		case FileMissing:
			return 0, fmt.Errorf("%s was not found", m.Name)
		}
		return 0, fmt.Errorf("%s: no usable file (%s)", m.Name, m.Status)
	}
	off, avail, ok := m.fileOffset(addr)
	if !ok {
		return 0, fmt.Errorf("%#x is not backed by %s", addr, m.Name)
	}
	n := min(uint64(len(p)), avail)
	k, err := m.ra.ReadAt(p[:n], int64(off))
	if k < len(p) && err == nil {
		err = fmt.Errorf("%s ends at file offset %#x", m.Name, off+uint64(k))
	}
	return k, err
}

// fileOffset maps a run-time address to the module file: through the NT_FILE mapping
// that covers it (page-granular, as the process saw the file), else through the program
// headers. avail is how many bytes from there belong to the same mapping.
func (m *Module) fileOffset(addr uint64) (off, avail uint64, ok bool) {
	for _, f := range m.Mappings {
		if addr >= f.Start && addr < f.End {
			return f.FileOff + (addr - f.Start), f.End - addr, true
		}
	}
	if m.image == nil || !m.BiasKnown {
		return 0, 0, false
	}
	if p, ok := progAt(m.image.Progs, addr-m.Bias); ok {
		fo := p.Off + (addr - m.Bias - p.Vaddr)
		return fo, p.Off + p.Filesz - fo, true
	}
	return 0, 0, false
}

// progAt returns the PT_LOAD whose file-backed part holds link-time address v.
func progAt(progs []elfx.Prog, v uint64) (elfx.Prog, bool) {
	for _, p := range progs {
		if p.Type == elf.PT_LOAD && v >= p.Vaddr && v < p.Vaddr+p.Filesz {
			return p, true
		}
	}
	return elfx.Prog{}, false
}
