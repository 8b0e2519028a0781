package arch

import (
	"debug/elf"
	"encoding/binary"
)

// PPC64 is 64-bit big-endian PowerPC (the ELFv1 ABI of most big-endian distributions,
// or ELFv2 where the core's e_flags say 2), read from its cores' notes only (NotesOnly):
// its function descriptors and its signal trampoline's big-endian code are not
// described. The notes are laid out as on ppc64le (ppc64le.go), in big-endian byte
// order: pr_reg is struct pt_regs, 48 slots of 8 bytes (gpr[32], nip, msr, orig_gpr3,
// ctr, link, xer, ccr, softe, trap, dar, dsisr, result); NT_PRFPREG f0-f31 and fpscr.
var PPC64 = func() *Arch {
	names, noteRegs, display := powerRegs("softe")
	a := &Arch{
		Name:        "ppc64",
		GOARCH:      "ppc64",
		Machine:     elf.EM_PPC64,
		Class:       elf.ELFCLASS64,
		ByteOrder:   binary.BigEndian,
		PtrSize:     8,
		RegNames:    names,
		NoteRegs:    noteRegs,
		DisplayRegs: display,
		NotesOnly:   notesOnly("big-endian ppc64"),
		// As PPC64LE: the 112-byte head, pr_reg (48*8) at 112, pr_fpvalid at 496.
		PrStatus: PrStatusLayout{Size: 504, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 48 * 8, FPValid: 496},
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		PageSize: 4096,
		InstLen:  4,
		// The 64-bit PowerPC ELF ABI (v1 §3.2, as v2): arguments in r3-r10, the result in r3.
		ABI: ABI{Args: []string{"r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10"}, Return: "r3", StackAlign: 16},
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("nip"), a.Reg("r1"), -1, a.Reg("link"), -1
	return a.finish(map[int]string{}, nil)
}()
