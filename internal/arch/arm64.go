package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// ARM64 is aarch64. pr_reg is struct user_pt_regs (arch/arm64/include/uapi/asm/ptrace.h):
// x0..x30, sp, pc, pstate. DWARF numbers are from the AArch64 DWARF ABI (aadwarf64):
// x0..x30 are 0..30, sp is 31, pc is 32.
var ARM64 = func() *Arch {
	names := make([]string, 0, 34)
	for i := 0; i <= 30; i++ {
		names = append(names, fmt.Sprintf("x%d", i))
	}
	names = append(names, "sp", "pc", "pstate")
	a := &Arch{
		Name:      "aarch64",
		Machine:   elf.EM_AARCH64,
		Class:     elf.ELFCLASS64,
		ByteOrder: binary.LittleEndian,
		PtrSize:   8,
		RegNames:  names,
		DWARFRA:   30,
		// struct elf_prstatus on aarch64: the same 112-byte head as x86_64, pr_reg (34*8),
		// pr_fpvalid and padding: 392 bytes.
		PrStatus: PrStatusLayout{Size: 392, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 34 * 8, FPValid: 384},
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		PageSize: 4096,
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("pc"), a.Reg("sp"), a.Reg("x29"), a.Reg("x30"), -1
	m := map[int]string{31: "sp", 32: "pc"}
	for i := 0; i <= 30; i++ {
		m[i] = fmt.Sprintf("x%d", i)
	}
	a.DWARF = dwarfTable(a, m)
	return a
}()
