package symbolize

import (
	"debug/elf"
	"fmt"

	"github.com/coredig/coredig/internal/dwarf/cfi"
)

// maxCFISection caps one .eh_frame or .debug_frame section read into memory.
const maxCFISection = 256 << 20

// CFI returns the call frame tables that may describe run-time address pc, best first:
// the module's .eh_frame (with .eh_frame_hdr), then the .debug_frame of the module or of
// its separate debug file. Addresses in the tables are link-time; add the module's Bias.
func (t *Table) CFI(pc uint64) ([]*cfi.Table, uint64) {
	m := t.ModuleFor(pc)
	if m == nil || m.file == nil {
		return nil, 0
	}
	m.cfiOnce.Do(func() { m.cfi = m.loadCFI(t) })
	return m.cfi, m.Bias
}

func (m *Module) loadCFI(t *Table) []*cfi.Table {
	var out []*cfi.Table
	ptr := 8
	if m.file.Class == elf.ELFCLASS32 {
		ptr = 4
	}
	if eh := m.file.Section(".eh_frame"); eh != nil && eh.Type != elf.SHT_NOBITS {
		cfg := cfi.Config{Section: cfi.EHFrame, Addr: eh.Addr, PtrSize: ptr, Order: m.file.ByteOrder}
		var err error
		if cfg.Data, err = sectionData(eh); err == nil {
			if hdr := m.file.Section(".eh_frame_hdr"); hdr != nil && hdr.Type != elf.SHT_NOBITS {
				if b, err := sectionData(hdr); err == nil {
					cfg.Hdr, cfg.HdrAddr = b, hdr.Addr
				}
			}
			if got := m.file.Section(".got"); got != nil {
				cfg.DataAddr = got.Addr
			}
			if text := m.file.Section(".text"); text != nil {
				cfg.TextAddr = text.Addr
			}
			if tab, err := cfi.New(cfg); err == nil {
				out = append(out, tab)
			} else {
				m.Notes = append(m.Notes, fmt.Sprintf(".eh_frame: %v", err))
			}
		}
	}
	for _, f := range []*elf.File{m.file, m.debugELF(t)} {
		if f == nil {
			continue
		}
		df := f.Section(".debug_frame")
		if df == nil || df.Type == elf.SHT_NOBITS {
			continue
		}
		b, err := sectionData(df)
		if err != nil {
			continue
		}
		if tab, err := cfi.New(cfi.Config{Section: cfi.DebugFrame, Data: b, PtrSize: ptr, Order: f.ByteOrder}); err == nil {
			out = append(out, tab)
		}
	}
	return out
}

func sectionData(s *elf.Section) ([]byte, error) {
	if s.Size > maxCFISection {
		return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit", s.Name, s.Size, maxCFISection)
	}
	return s.Data()
}
