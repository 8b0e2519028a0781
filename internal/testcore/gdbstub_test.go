//go:build linux

package testcore

import (
	"debug/elf"
	"encoding/binary"
	"testing"
)

// The riscv64 core made through qemu's gdbstub has the notes of a kernel core but
// NT_SIGINFO, in the kernel's sizes for riscv64: NT_PRSTATUS of 376 bytes (pr_reg is
// user_regs_struct, 32 words) and NT_PRFPREG of 264 (struct __riscv_d_ext_state) for each
// thread, NT_PRPSINFO, NT_AUXV whose AT_PHDR lies in the executable's mapping, and
// NT_FILE; and its PT_LOADs hold the stack the crashing thread's sp points into.
func TestGDBStubCoreRISCV64(t *testing.T) {
	c := Make(t, DerefRISCV64)
	ci := readCoreInfo(t, c.Path)
	if ci.typ != elf.ET_CORE || ci.machine != elf.EM_RISCV || c.Signal != 11 || c.Stdout != "ready\n" {
		t.Fatalf("type %v machine %v signal %v stdout %q", ci.typ, ci.machine, c.Signal, c.Stdout)
	}
	count := map[uint32]int{}
	var sp, phdr uint64
	for _, n := range ci.notes {
		count[n.typ]++
		switch n.typ {
		case 6: // NT_AUXV
			for i := 0; i+16 <= len(n.desc); i += 16 {
				if binary.LittleEndian.Uint64(n.desc[i:]) == 3 { // AT_PHDR
					phdr = binary.LittleEndian.Uint64(n.desc[i+8:])
				}
			}
		case ntPRSTATUS:
			if len(n.desc) != 376 {
				t.Fatalf("NT_PRSTATUS of %d bytes", len(n.desc))
			}
			pr, err := parsePrstatus(n.desc, binary.LittleEndian)
			if err != nil {
				t.Fatal(err)
			}
			if count[ntPRSTATUS] == 1 {
				if pr.cursig != 11 || int(pr.pid) != c.PID {
					t.Errorf("first NT_PRSTATUS: cursig %d pid %d, want 11 and %d", pr.cursig, pr.pid, c.PID)
				}
				sp = binary.LittleEndian.Uint64(n.desc[112+2*8:]) // pr_reg[2]
			}
		case 2: // NT_PRFPREG
			if len(n.desc) != 264 {
				t.Errorf("NT_PRFPREG of %d bytes", len(n.desc))
			}
		}
	}
	if count[ntPRSTATUS] != 4 || count[2] != 4 || count[3] != 1 || count[6] != 1 || count[0x46494c45] != 1 || count[ntSIGINFO] != 0 {
		t.Errorf("notes by type %v", count)
	}
	f, err := elf.Open(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	held, phdrHeld := false, false
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && sp >= p.Vaddr && sp < p.Vaddr+p.Filesz && p.Flags&elf.PF_W != 0 {
			held = true
		}
		if p.Type == elf.PT_LOAD && phdr >= p.Vaddr && phdr < p.Vaddr+p.Filesz && p.Flags&elf.PF_X != 0 {
			phdrHeld = true // the executable's ELF header page, dumped as the kernel does
		}
	}
	if !held || !phdrHeld {
		t.Errorf("sp %#x in a writable PT_LOAD: %v; AT_PHDR %#x in the executable's first page: %v", sp, held, phdr, phdrHeld)
	}
}
