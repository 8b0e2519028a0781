package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// PPC64LE is 64-bit little-endian PowerPC with the ELFv2 ABI. pr_reg is struct pt_regs
// (arch/powerpc/include/uapi/asm/ptrace.h): gpr[32], nip, msr, orig_gpr3, ctr, link,
// xer, ccr, softe, trap, dar, dsisr, result, in ELF_NGREG (48) slots. DWARF numbers are
// from the 64-bit ELF V2 ABI (§2.4): r0-r31 are 0-31, the link register 65 (the return
// address column GCC's CFI uses) and ctr 66.
var PPC64LE = func() *Arch {
	names := make([]string, 0, 44)
	for i := 0; i < 32; i++ {
		names = append(names, fmt.Sprintf("r%d", i))
	}
	names = append(names, "nip", "msr", "orig_r3", "ctr", "link", "xer", "ccr", "softe", "trap", "dar", "dsisr", "result")
	display := []string{"nip", "r1", "link", "ctr"}
	for i := 0; i < 32; i++ {
		if i != 1 {
			display = append(display, fmt.Sprintf("r%d", i))
		}
	}
	display = append(display, "msr", "ccr", "xer", "trap", "dar", "dsisr", "orig_r3", "softe", "result")
	a := &Arch{
		Name:        "ppc64le",
		GOARCH:      "ppc64le",
		Machine:     elf.EM_PPC64,
		Class:       elf.ELFCLASS64,
		ByteOrder:   binary.LittleEndian,
		PtrSize:     8,
		RegNames:    names,
		DisplayRegs: display,
		DWARFRA:     65,
		// struct elf_prstatus with 64-bit longs: the same 112-byte head as x86_64, pr_reg
		// (48*8) at 112, pr_fpvalid at 496: 504 bytes.
		PrStatus: PrStatusLayout{Size: 504, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 48 * 8, FPValid: 496},
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		PageSize: 4096,
		InstLen:  4,
		// ELFv2 ABI §2.2: arguments in r3-r10, the result in r3; r14-r31, the stack pointer
		// r1 and the TOC pointer r2 (restored by the caller after a call) keep their values;
		// 288 bytes below r1 are a protected zone; the stack is 16-byte aligned.
		ABI: ABI{
			Args:   []string{"r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10"},
			Return: "r3",
			CalleeSaved: []string{"r1", "r2", "r13", "r14", "r15", "r16", "r17", "r18", "r19", "r20", "r21", "r22",
				"r23", "r24", "r25", "r26", "r27", "r28", "r29", "r30", "r31"},
			RedZone:    288,
			StackAlign: 16,
		},
		CallBefore: ppc64CallBefore,
	}
	// The ABI has no frame pointer register (frames chain through the back chain word
	// at 0(r1)); r13 is the thread pointer.
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("nip"), a.Reg("r1"), -1, a.Reg("link"), a.Reg("r13")
	m := map[int]string{65: "link", 66: "ctr"}
	for i := 0; i < 32; i++ {
		m[i] = fmt.Sprintf("r%d", i)
	}
	return a.finish(m, nil)
}()

// ppc64CallBefore recognises bl/bla (I-form, LK=1), bctrl and blrl (Power ISA book I,
// 2.4) as the instruction before a return address.
func ppc64CallBefore(code []byte) bool {
	n := len(code)
	if n < 4 {
		return false
	}
	i := binary.LittleEndian.Uint32(code[n-4:])
	return i&0xfc000001 == 0x48000001 || i == 0x4e800421 || i == 0x4e800021
}
