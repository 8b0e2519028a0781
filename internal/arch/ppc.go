package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// PPC is 32-bit big-endian PowerPC, natively or as a compat process of a ppc64 kernel,
// read from its cores' notes only (NotesOnly). pr_reg is struct pt_regs of
// arch/powerpc/include/uapi/asm/ptrace.h with 32-bit words (compat_elf_gregset_t,
// ELF_NGREG 48 slots): gpr[32], nip, msr, orig_gpr3, ctr, link, xer, ccr, mq (where
// ppc64 keeps softe), trap, dar, dsisr, result. NT_PRFPREG is elf_fpregset_t (33 doubles:
// f0-f31, then fpscr in the last one), as on ppc64.
var PPC = func() *Arch {
	names, noteRegs, display := powerRegs("mq")
	a := &Arch{
		Name:        "ppc",
		Machine:     elf.EM_PPC,
		Class:       elf.ELFCLASS32,
		ByteOrder:   binary.BigEndian,
		PtrSize:     4,
		RegNames:    names,
		NoteRegs:    noteRegs,
		RegSizes:    powerRegSizes(4, len(names)-len(noteRegs), noteRegs),
		DisplayRegs: display,
		NotesOnly:   notesOnly("ppc"),
		// struct elf_prstatus with 32-bit longs (include/uapi/linux/elfcore.h, and
		// compat_elf_prstatus of a ppc64 kernel): the 72-byte head of i386, pr_reg
		// (48*4) at 72, pr_fpvalid at 264: 268 bytes.
		PrStatus: PrStatusLayout{Size: 268, CurSig: 12, SigPend: 16, SigHold: 20, PID: 24,
			TimevalLen: 8, Regs: 72, RegsSize: 48 * 4, FPValid: 264},
		// struct elf_prpsinfo with a 32-bit pr_flag and 32-bit uid and gid
		// (__kernel_uid_t and compat_uid_t are unsigned int on powerpc): pids from 16,
		// pr_fname at 32, pr_psargs at 48: 128 bytes.
		PrPsInfo: PrPsInfoLayout{Size: 128, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 4,
			UID: 8, UIDSize: 4, GID: 12, PID: 16, FName: 32, PsArgs: 48},
		PageSize: 4096,
		InstLen:  4,
		// The 32-bit PowerPC SysV ABI: arguments in r3-r10, the result in r3; r1 is the
		// stack pointer, r14-r31 keep their values across a call.
		ABI: ABI{Args: []string{"r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10"}, Return: "r3", StackAlign: 16},
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("nip"), a.Reg("r1"), -1, a.Reg("link"), -1
	return a.finish(map[int]string{}, nil)
}()

// powerRegs names 32- and 64-bit PowerPC's pt_regs (arch/powerpc/include/uapi/asm/ptrace.h)
// in pr_reg order, with slot8 for the ninth special register (ppc32 mq, ppc64 softe), then
// the registers of NT_PRFPREG (f0-f31 and fpscr, 8 bytes each); and the display order.
func powerRegs(slot8 string) (names []string, noteRegs []NoteReg, display []string) {
	for i := 0; i < 32; i++ {
		names = append(names, fmt.Sprintf("r%d", i))
	}
	names = append(names, "nip", "msr", "orig_r3", "ctr", "link", "xer", "ccr", slot8, "trap", "dar", "dsisr", "result")
	for i := 0; i < 32; i++ {
		noteRegs = append(noteRegs, NoteReg{Name: fmt.Sprintf("f%d", i), Note: 2, Off: 8 * i, Size: 8})
	}
	noteRegs = append(noteRegs, NoteReg{Name: "fpscr", Note: 2, Off: 256, Size: 8})
	for _, r := range noteRegs {
		names = append(names, r.Name)
	}
	display = []string{"nip", "r1", "link", "ctr"}
	for i := 0; i < 32; i++ {
		if i != 1 {
			display = append(display, fmt.Sprintf("r%d", i))
		}
	}
	display = append(display, "msr", "ccr", "xer", "trap", "dar", "dsisr", "orig_r3", slot8, "result", "fpscr")
	for i := 0; i < 32; i++ {
		display = append(display, fmt.Sprintf("f%d", i))
	}
	return names, noteRegs, display
}

// powerRegSizes gives pr_reg's n registers word bytes each, then the note registers'
// sizes.
func powerRegSizes(word, n int, noteRegs []NoteReg) []int {
	sizes := make([]int, 0, n+len(noteRegs))
	for i := 0; i < n; i++ {
		sizes = append(sizes, word)
	}
	for _, r := range noteRegs {
		sizes = append(sizes, r.Size)
	}
	return sizes
}

// notesOnly is the NotesOnly reason of an architecture coredig has no unwinder for.
func notesOnly(name string) string { return "no unwinder for " + name }
