package arch

import (
	"debug/elf"
	"encoding/binary"
)

// M68K is the Motorola 68000 family (680x0, big-endian), read from its cores' notes only
// (NotesOnly). m68k aligns 4-byte members to 2 bytes, so struct elf_prstatus packs its
// fields: pr_cursig at 12, pr_sigpend at 14, pr_sighold at 18, the pids from 22, the four
// timevals from 38 and pr_reg at 70. pr_reg is struct user_regs_struct of
// arch/m68k/include/asm/user.h (ELF_NGREG 20 slots, 80 bytes): d1-d7, a0-a6, d0, usp
// (the user stack pointer, a7), orig_d0 (4 bytes each), stkadj and sr (2 each), pc (4),
// fmtvec (2) and 2 bytes of fill.
var M68K = func() *Arch {
	names := []string{"d1", "d2", "d3", "d4", "d5", "d6", "d7", "a0", "a1", "a2", "a3", "a4", "a5", "a6",
		"d0", "usp", "orig_d0", "stkadj", "sr", "pc", "fmtvec"}
	sizes := []int{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 2, 4, 2}
	a := &Arch{
		Name:      "m68k",
		Machine:   elf.EM_68K,
		Class:     elf.ELFCLASS32,
		ByteOrder: binary.BigEndian,
		PtrSize:   4,
		RegNames:  names,
		RegSizes:  sizes,
		DisplayRegs: []string{"pc", "usp", "a6", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7",
			"a0", "a1", "a2", "a3", "a4", "a5", "sr", "orig_d0", "stkadj", "fmtvec"},
		NotesOnly: notesOnly("m68k"),
		// 154 bytes: pr_reg (80) at 70, pr_fpvalid at 150.
		PrStatus: PrStatusLayout{Size: 154, CurSig: 12, SigPend: 14, SigHold: 18, PID: 22,
			TimevalLen: 8, Regs: 70, RegsSize: 80, FPValid: 150},
		// struct elf_prpsinfo with a 4-byte pr_flag at 4 and 16-bit uid and gid
		// (__kernel_uid_t is unsigned short on m68k): the i386 layout, 124 bytes.
		PrPsInfo: PrPsInfoLayout{Size: 124, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 4,
			UID: 8, UIDSize: 2, GID: 10, PID: 12, FName: 28, PsArgs: 44},
		PageSize: 4096,
		// The m68k SysV ABI passes arguments on the stack and returns in d0 (pointers in
		// a0 too).
		ABI: ABI{Return: "d0", StackAlign: 4},
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("pc"), a.Reg("usp"), -1, -1, -1
	return a.finish(map[int]string{}, nil)
}()
