package symbolize

import (
	"debug/elf"
	"encoding/binary"
)

// Limits on PLT synthesis.
const (
	maxPLTBytes = 4 << 20
	maxRelocs   = 1 << 20
)

// pltSyms synthesizes "name@plt" symbols for the PLT stubs of a module, as objdump and
// gdb do: each stub's indirect jump names a GOT slot, and the JUMP_SLOT (or GLOB_DAT)
// relocation of that slot names the function. Stubs are read from .plt, .plt.sec and
// .plt.got; x86_64 (jmp *disp(%rip), after an optional endbr64/bnd) and aarch64
// (adrp x16; ldr x17, [x16, #off]) are understood.
func pltSyms(f *elf.File) []sym {
	slots := gotSlots(f)
	if len(slots) == 0 {
		return nil
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
		switch f.Machine {
		case elf.EM_X86_64:
			step := 16
			if name == ".plt.got" && s.Entsize == 8 {
				step = 8
			}
			for off := 0; off+step <= len(b); off += step {
				if slot, ok := amd64Slot(b[off:off+step], s.Addr+uint64(off)); ok {
					if n, ok := slots[slot]; ok {
						out = append(out, sym{addr: s.Addr + uint64(off), size: uint64(step), name: n + "@plt", bind: elf.STB_LOCAL})
					}
				}
			}
		case elf.EM_AARCH64:
			for off := 0; off+16 <= len(b); off += 4 {
				if slot, ok := arm64Slot(b[off:off+8], s.Addr+uint64(off)); ok {
					if n, ok := slots[slot]; ok {
						out = append(out, sym{addr: s.Addr + uint64(off), size: 16, name: n + "@plt", bind: elf.STB_LOCAL})
						off += 12
					}
				}
			}
		}
	}
	return out
}

// amd64Slot finds "jmp *disp32(%rip)" (ff 25) in one stub and returns the slot address.
func amd64Slot(b []byte, addr uint64) (uint64, bool) {
	for i := 0; i+6 <= len(b) && i <= 6; i++ {
		if b[i] == 0xff && b[i+1] == 0x25 {
			disp := int32(binary.LittleEndian.Uint32(b[i+2:]))
			return addr + uint64(i) + 6 + uint64(int64(disp)), true
		}
	}
	return 0, false
}

// arm64Slot decodes "adrp x16, page; ldr x17, [x16, #off]" and returns page+off.
func arm64Slot(b []byte, addr uint64) (uint64, bool) {
	adrp := binary.LittleEndian.Uint32(b)
	ldr := binary.LittleEndian.Uint32(b[4:])
	if adrp&0x9f00001f != 0x90000010 || ldr&0xffc003ff != 0xf9400211 {
		return 0, false
	}
	immlo := uint64(adrp>>29) & 3
	immhi := uint64(adrp>>5) & 0x7ffff
	imm := int64((immhi<<2|immlo)<<43) >> 31 // sign-extend the 21-bit page count, times 4096
	page := uint64(int64(addr&^0xfff) + imm)
	return page + uint64((ldr>>10)&0xfff)*8, true
}

// gotSlots maps GOT slot addresses to the names of the symbols their JUMP_SLOT and
// GLOB_DAT relocations refer to.
func gotSlots(f *elf.File) map[uint64]string {
	if f.Class != elf.ELFCLASS64 {
		return nil
	}
	dyn, err := f.DynamicSymbols()
	if err != nil || len(dyn) == 0 {
		return nil
	}
	slots := map[uint64]string{}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_RELA || s.Size > maxRelocs*24 {
			continue
		}
		b, err := s.Data()
		if err != nil {
			continue
		}
		for off := 0; off+24 <= len(b); off += 24 {
			r := f.ByteOrder.Uint64(b[off:])
			info := f.ByteOrder.Uint64(b[off+8:])
			typ, idx := uint32(info), info>>32
			if idx == 0 || idx > uint64(len(dyn)) {
				continue
			}
			switch {
			case s.Name == ".rela.plt": // every relocation there belongs to a PLT slot
				if name := dyn[idx-1].Name; name != "" {
					slots[r] = name
				}
			case f.Machine == elf.EM_X86_64 && (typ == uint32(elf.R_X86_64_JMP_SLOT) || typ == uint32(elf.R_X86_64_GLOB_DAT)),
				f.Machine == elf.EM_AARCH64 && (typ == uint32(elf.R_AARCH64_JUMP_SLOT) || typ == uint32(elf.R_AARCH64_GLOB_DAT)):
				if name := dyn[idx-1].Name; name != "" {
					slots[r] = name
				}
			}
		}
	}
	return slots
}
