package arch

import (
	"debug/elf"
	"encoding/binary"
)

// AMD64 is x86_64. pr_reg is struct user_regs_struct (arch/x86/include/asm/user_64.h);
// DWARF numbers are from the System V AMD64 psABI, figure 3.36.
var AMD64 = func() *Arch {
	a := &Arch{
		Name:      "x86_64",
		Machine:   elf.EM_X86_64,
		Class:     elf.ELFCLASS64,
		ByteOrder: binary.LittleEndian,
		PtrSize:   8,
		RegNames: []string{
			"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10",
			"r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax",
			"rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base",
			"ds", "es", "fs", "gs",
		},
		DWARFRA: 16,
		// struct elf_prstatus on x86_64: siginfo header (12) + cursig (2, padded to 4),
		// sigpend, sighold (8 each), pid/ppid/pgrp/sid (4 each), four struct timeval
		// (16 each), pr_reg (27*8), pr_fpvalid (4) and tail padding: 336 bytes.
		PrStatus: PrStatusLayout{Size: 336, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 27 * 8, FPValid: 328},
		// struct elf_prpsinfo on x86_64: 136 bytes, 32-bit uid/gid.
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		PageSize: 4096,
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("rip"), a.Reg("rsp"), a.Reg("rbp"), -1, a.Reg("fs_base")
	a.DWARF = dwarfTable(a, map[int]string{
		0: "rax", 1: "rdx", 2: "rcx", 3: "rbx", 4: "rsi", 5: "rdi", 6: "rbp", 7: "rsp",
		8: "r8", 9: "r9", 10: "r10", 11: "r11", 12: "r12", 13: "r13", 14: "r14", 15: "r15",
		16: "rip", 49: "eflags", 50: "es", 51: "cs", 52: "ss", 53: "ds", 54: "fs", 55: "gs",
		58: "fs_base", 59: "gs_base",
	})
	return a
}()
