package arch

import (
	"debug/elf"
	"encoding/binary"
)

// X32 is the x32 ABI of x86_64: 64-bit registers, 32-bit pointers, ELFCLASS32 cores with
// EM_X86_64. The kernel writes them with the compat layouts of
// arch/x86/include/asm/compat.h: compat_elf_prstatus's 32-bit head with the full 64-bit
// struct user_regs_struct as pr_reg (compat_elf_gregset_t under CONFIG_X86_X32_ABI,
// PRSTATUS_SIZE 296), compat_elf_prpsinfo with 16-bit uid and gid, and 32-bit words in
// NT_AUXV, NT_FILE and the siginfo. Registers, their DWARF numbers and the instruction
// set are x86_64's; calls and pushes still move 8-byte slots (StackSlot), of which a
// 32-bit pointer is the low half. Not known here: x32's signal frame (rt_sigframe_x32
// with a compat ucontext) and glibc's x32 lock layouts.
var X32 = func() *Arch {
	sizes := make([]int, len(AMD64.RegNames))
	for i := range sizes {
		sizes[i] = 8
	}
	a := &Arch{
		Name:        "x32",
		Machine:     elf.EM_X86_64,
		Class:       elf.ELFCLASS32,
		ByteOrder:   binary.LittleEndian,
		PtrSize:     4,
		StackSlot:   8,
		RegNames:    AMD64.RegNames,
		RegSizes:    sizes,
		DisplayRegs: AMD64.DisplayRegs,
		DWARFRA:     AMD64.DWARFRA,
		// The 72-byte compat head (as i386), pr_reg (27*8) at 72, pr_fpvalid at 288,
		// padded to the 8-byte alignment of the registers: 296 bytes.
		PrStatus: PrStatusLayout{Size: 296, CurSig: 12, SigPend: 16, SigHold: 20, PID: 24,
			TimevalLen: 8, Regs: 72, RegsSize: 27 * 8, FPValid: 288},
		PrPsInfo: PrPsInfoLayout{Size: 124, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 4,
			UID: 8, UIDSize: 2, GID: 10, PID: 12, FName: 28, PsArgs: 44},
		// The FP and extended states are x86_64's (struct user_i387_struct, XSAVE).
		CoreRegSets: AMD64.CoreRegSets,
		PageSize:    4096,
		// The x32 psABI is the System V AMD64 psABI's calling convention.
		ABI:              AMD64.ABI,
		RAOnStack:        true,
		CallBefore:       amd64CallBefore,
		BreakpointBefore: AMD64.BreakpointBefore,
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("rip"), a.Reg("rsp"), a.Reg("rbp"), -1, a.Reg("fs_base")
	return a.finish(amd64DWARFRegs(), amd64SubRegs())
}()
