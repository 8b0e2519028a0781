package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// S390 is 31-bit IBM S/390 (ELFCLASS32, big-endian), natively or as a compat process of
// an s390x kernel, read from its cores' notes only (NotesOnly). pr_reg is s390_regs of
// arch/s390/include/uapi/asm/ptrace.h with 32-bit words (s390_compat_regs on s390x): the
// PSW mask and address, gprs[16], acrs[16] and orig_gpr2, 4 bytes each; psw_t is 8-byte
// aligned, so the set is 144 bytes. NT_PRFPREG is s390_fp_regs (fpc, 4 bytes of padding,
// fprs[16] of 8 bytes), as on s390x. A compat process's upper register halves come in
// NT_S390_HIGH_GPRS, which is not read here.
var S390 = func() *Arch {
	names, sizes, noteRegs := s390Registers(4)
	display := []string{"pswa", "r15", "r14"}
	for i := 0; i < 14; i++ {
		display = append(display, fmt.Sprintf("r%d", i))
	}
	display = append(display, "pswm", "orig_r2")
	for i := 0; i < 16; i++ {
		display = append(display, fmt.Sprintf("a%d", i))
	}
	display = append(display, "fpc")
	for i := 0; i < 16; i++ {
		display = append(display, fmt.Sprintf("f%d", i))
	}
	a := &Arch{
		Name:        "s390",
		Machine:     elf.EM_S390,
		Class:       elf.ELFCLASS32,
		ByteOrder:   binary.BigEndian,
		PtrSize:     4,
		RegNames:    names,
		RegSizes:    sizes,
		NoteRegs:    noteRegs,
		DisplayRegs: display,
		NotesOnly:   notesOnly("31-bit s390"),
		// struct elf_prstatus with 32-bit longs: the 72-byte head of i386, pr_reg (144) at
		// 72, pr_fpvalid at 216, and padding to the 8-byte alignment of psw_t: 224 bytes.
		PrStatus: PrStatusLayout{Size: 224, CurSig: 12, SigPend: 16, SigHold: 20, PID: 24,
			TimevalLen: 8, Regs: 72, RegsSize: 144, FPValid: 216},
		// struct elf_prpsinfo with 16-bit uid and gid (__kernel_uid_t and compat_uid_t
		// are unsigned short on s390): the i386 layout, 124 bytes.
		PrPsInfo: PrPsInfoLayout{Size: 124, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 4,
			UID: 8, UIDSize: 2, GID: 10, PID: 12, FName: 28, PsArgs: 44},
		PageSize: 4096,
		// The PSW address's top bit selects 31-bit addressing (Principles of Operation,
		// "Program-Status Word"): gdb shows pswa 0x8040c4a2 at pc 0x40c4a2.
		PCMask: 0x7fffffff,
		// The s390 ELF ABI supplement: arguments in r2-r6, the result in r2, r15 the stack
		// pointer, r14 the return address.
		ABI: ABI{Args: []string{"r2", "r3", "r4", "r5", "r6"}, Return: "r2", StackAlign: 8},
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("pswa"), a.Reg("r15"), -1, a.Reg("r14"), -1
	return a.finish(map[int]string{}, nil)
}()
