package symbolize

import (
	"debug/elf"
	"errors"

	"github.com/coredig/coredig/internal/dwarfsym"
)

// SourceFrame is one function activation at an address from DWARF: an inlined call or
// the concrete function.
type SourceFrame struct {
	Function string // without parameters, as gdb's backtrace names it
	File     string
	Line     int
	Inlined  bool
	Entry    uint64 // run-time entry of the concrete function (last frame), 0 when unknown
}

// Source returns the DWARF frames at a run-time address, innermost first, from the
// module's separate debug file or the module itself. It returns nil when there is no
// debug information for the address.
func (t *Table) Source(addr uint64) ([]SourceFrame, error) {
	m := t.ModuleFor(addr)
	if m == nil || m.file == nil {
		return nil, nil
	}
	ix, err := m.dwarfIndex(t)
	if ix == nil {
		return nil, err
	}
	frames, err := ix.Lookup(addr - m.Bias)
	if len(frames) == 0 {
		if errors.Is(err, dwarfsym.ErrUnknownPC) { // wrapped with the address: not an error here
			err = nil
		}
		return nil, err
	}
	out := make([]SourceFrame, 0, len(frames))
	for _, f := range frames {
		name := f.Function
		if f.LinkageName != "" {
			name = Demangle(f.LinkageName)
		}
		sf := SourceFrame{Function: name, File: f.File, Line: f.Line, Inlined: f.Inlined}
		if f.Entry != 0 {
			sf.Entry = f.Entry + m.Bias
		}
		out = append(out, sf)
	}
	return out, err
}

// dwarfIndex opens the module's DWARF once: the debug file's when it has any, else the
// module file's own.
func (m *Module) dwarfIndex(t *Table) (*dwarfsym.Index, error) {
	m.dwarfOnce.Do(func() {
		for _, f := range []*elf.File{m.debugELF(t), m.file} {
			if f == nil || !hasDWARF(f) {
				continue
			}
			m.dwarf, m.dwarfErr = m.newIndex(t, f)
			if m.dwarf != nil {
				m.dwarfFile = f
				return
			}
		}
	})
	return m.dwarf, m.dwarfErr
}

func hasDWARF(f *elf.File) bool {
	for _, name := range []string{".debug_info", ".zdebug_info"} {
		if s := f.Section(name); s != nil && s.Type != elf.SHT_NOBITS && s.Size > 0 {
			return true
		}
	}
	return false
}

// DWARFFor returns the DWARF index of the module at path, the ELF file it was read
// from (the separate debug file or the module itself) and how to read that file's other
// sections, or nil when it has none. The sections read are valid until Close.
func (t *Table) DWARFFor(path string) (*dwarfsym.Index, *elf.File, ReadSectionFunc) {
	for _, m := range t.Modules {
		if m.Path != path || m.file == nil {
			continue
		}
		if ix, _ := m.dwarfIndex(t); ix != nil {
			return ix, m.dwarfFile, m.sectionReader(t, m.dwarfFile)
		}
	}
	return nil, nil, nil
}
