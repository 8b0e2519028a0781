package symbolize

import (
	"debug/elf"
	"slices"

	"github.com/coredig/coredig/internal/arch"
)

// Limits on PLT synthesis.
const (
	maxPLTBytes = 4 << 20
	maxRelocs   = 1 << 20
)

// pltSyms synthesizes "name@plt" symbols for the PLT stubs of a module, as objdump and
// gdb do: each stub's indirect jump names a GOT slot, and the JUMP_SLOT (or GLOB_DAT)
// relocation of that slot names the function. Stubs are read from .plt, .plt.sec and
// .plt.got, as the module's architecture lays them out (arch.PLTLayout).
func pltSyms(f *elf.File) []sym {
	a, err := arch.ForMachine(f.Machine, f.Class, f.Data)
	if err != nil || a.PLT.Stubs == nil {
		return nil
	}
	slots := gotSlots(f)
	if len(slots) == 0 {
		return nil
	}
	var got uint64 // _GLOBAL_OFFSET_TABLE_: the start of .got.plt, else of .got
	if s := f.Section(".got.plt"); s != nil {
		got = s.Addr
	} else if s := f.Section(".got"); s != nil {
		got = s.Addr
	}
	var out []sym
	for _, name := range []string{".plt", ".plt.sec", ".plt.got"} {
		s := f.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS || s.Size > maxPLTBytes {
			continue
		}
		b, err := s.Data()
		if err != nil {
			continue
		}
		a.PLT.Stubs(name, s.Entsize, b, s.Addr, got, func(stub, size, slot uint64) {
			if n, ok := slots[slot]; ok {
				out = append(out, sym{addr: stub, size: size, name: n + "@plt", bind: elf.STB_LOCAL})
			}
		})
	}
	return out
}

// gotSlots maps GOT slot addresses to the names of the symbols their JUMP_SLOT and
// GLOB_DAT relocations refer to: Elf64_Rela, and on 32-bit machines Elf32_Rel (i386) or
// Elf32_Rela (r_info: symbol index above the low 8 type bits).
func gotSlots(f *elf.File) map[uint64]string {
	dyn, err := f.DynamicSymbols()
	if err != nil || len(dyn) == 0 {
		return nil
	}
	var relocs []uint32 // beyond .rela.plt, the architecture's GOT-filling relocations
	if a, err := arch.ForMachine(f.Machine, f.Class, f.Data); err == nil {
		relocs = a.PLT.GOTRelocs
	}
	slots := map[uint64]string{}
	for _, s := range f.Sections {
		size := 24 // Elf64_Rela
		switch {
		case f.Class == elf.ELFCLASS32 && s.Type == elf.SHT_REL:
			size = 8
		case f.Class == elf.ELFCLASS32 && s.Type == elf.SHT_RELA:
			size = 12
		case f.Class != elf.ELFCLASS64 || s.Type != elf.SHT_RELA:
			continue
		}
		if s.Size > maxRelocs*uint64(size) {
			continue
		}
		b, err := s.Data()
		if err != nil {
			continue
		}
		for off := 0; off+size <= len(b); off += size {
			var r, idx uint64
			var typ uint32
			if size == 24 {
				r = f.ByteOrder.Uint64(b[off:])
				info := f.ByteOrder.Uint64(b[off+8:])
				typ, idx = uint32(info), info>>32
			} else {
				r = uint64(f.ByteOrder.Uint32(b[off:]))
				info := f.ByteOrder.Uint32(b[off+4:])
				typ, idx = info&0xff, uint64(info>>8)
			}
			if idx == 0 || idx > uint64(len(dyn)) {
				continue
			}
			switch {
			case s.Name == ".rela.plt" || s.Name == ".rel.plt": // every relocation there belongs to a PLT slot
				if name := dyn[idx-1].Name; name != "" {
					slots[r] = name
				}
			case slices.Contains(relocs, typ):
				if name := dyn[idx-1].Name; name != "" {
					slots[r] = name
				}
			}
		}
	}
	return slots
}
