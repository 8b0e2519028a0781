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
// address column GCC's CFI uses) and ctr 66. The floating-point registers f0-f31 and
// fpscr follow from NT_PRFPREG (elf_fpregset_t: 33 doubles); they are past the 64
// registers an unwinder tracks and are shown, not unwound (no CFI of the ABI moves a
// general register into one).
var PPC64LE = func() *Arch {
	names := make([]string, 0, 44+33)
	for i := 0; i < 32; i++ {
		names = append(names, fmt.Sprintf("r%d", i))
	}
	names = append(names, "nip", "msr", "orig_r3", "ctr", "link", "xer", "ccr", "softe", "trap", "dar", "dsisr", "result")
	prRegs := len(names)
	var noteRegs []NoteReg
	for i := 0; i < 32; i++ {
		noteRegs = append(noteRegs, NoteReg{Name: fmt.Sprintf("f%d", i), Note: 2, Off: 8 * i, Size: 8})
	}
	noteRegs = append(noteRegs, NoteReg{Name: "fpscr", Note: 2, Off: 256, Size: 8})
	for _, r := range noteRegs {
		names = append(names, r.Name)
	}
	display := []string{"nip", "r1", "link", "ctr"}
	for i := 0; i < 32; i++ {
		if i != 1 {
			display = append(display, fmt.Sprintf("r%d", i))
		}
	}
	display = append(display, "msr", "ccr", "xer", "trap", "dar", "dsisr", "orig_r3", "softe", "result", "fpscr")
	for i := 0; i < 32; i++ {
		display = append(display, fmt.Sprintf("f%d", i))
	}
	display = append(display, "vscr", "vrsave", "tar", "ppr", "dscr", "ebbrr", "ebbhr", "bescr",
		"siar", "sdar", "sier", "mmcr2", "mmcr0")
	a := &Arch{
		Name:        "ppc64le",
		GOARCH:      "ppc64le",
		Machine:     elf.EM_PPC64,
		Class:       elf.ELFCLASS64,
		ByteOrder:   binary.LittleEndian,
		PtrSize:     8,
		RegNames:    names,
		NoteRegs:    noteRegs,
		ExtraRegs:   ppc64ExtraRegs(),
		DisplayRegs: display,
		DWARFRA:     65,
		// struct elf_prstatus with 64-bit longs: the same 112-byte head as x86_64, pr_reg
		// (48*8) at 112, pr_fpvalid at 496: 504 bytes.
		PrStatus: PrStatusLayout{Size: 504, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 48 * 8, FPValid: 496},
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		GoPanicPush: 32, // runtime/signal_ppc64x.go: sys.MinFrameSize
		PageSize:    4096,
		InstLen:     4,
		// ELFv2 ABI §2.2: arguments in r3-r10, the result in r3; r14-r31, the stack pointer
		// r1 and the TOC pointer r2 (restored by the caller after a call) keep their values;
		// 288 bytes below r1 are a protected zone; the stack is 16-byte aligned.
		HWCap:  ppc64HWCap,
		HWCap2: ppc64HWCap2,
		ABI: ABI{
			Args:   []string{"r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10"},
			Return: "r3",
			CalleeSaved: []string{"r1", "r2", "r13", "r14", "r15", "r16", "r17", "r18", "r19", "r20", "r21", "r22",
				"r23", "r24", "r25", "r26", "r27", "r28", "r29", "r30", "r31"},
			RedZone:    288,
			StackAlign: 16,
			// ELFv2 ABI §2.3.2.1: r2 is the TOC pointer, globals are reached from it.
			GlobalPointer: "r2",
		},
		CallBefore: ppc64CallBefore,
		// arch/powerpc/kernel/signal_64.c: below the interrupted r1 the kernel puts
		// struct rt_sigframe (struct ucontext first), and below it a dummy caller frame of
		// __SIGNAL_FRAMESIZE (128) bytes whose back chain points at the old r1; the handler
		// runs with r1 there and returns through the link register to the vDSO's
		// __kernel_start_sigtramp_rt64 just after its bctrl (older kernels:
		// __kernel_sigtramp_rt64; without a vDSO, the same code in the frame's tramp[]):
		// "addi r1,r1,128; li r0,172 (rt_sigreturn); sc". struct ucontext
		// (arch/powerpc/include/uapi/asm/ucontext.h): uc_flags, uc_link, uc_stack (24),
		// uc_sigmask, __unused[15], then uc_mcontext (struct sigcontext) at 168, whose
		// gp_regs (pt_regs order, 48 slots) are at 64.
		Signals: []SignalLayout{{
			Trampoline: []byte{0x80, 0x00, 0x21, 0x38, 0xac, 0x00, 0x00, 0x38, 0x02, 0x00, 0x00, 0x44},
			Context:    128 + 168,
			SigInfoAt:  ppc64SigInfo(128, []uint64{1744, 1736, 3440, 3432}),
			Regs:       ppc64GPRegs(names[:prRegs]),
			Fault:      ppc64Fault,
		}, {
			// qemu-user (linux-user/ppc/signal.c) differs: the handler returns to
			// "li r0,172; sc" in qemu's trampoline page, r1 lies __SIGNAL_FRAMESIZE + 16
			// bytes below the frame, and the frame is the kernel's without
			// uc_transact, with a tramp[] of 6 words and pinfo and puc left unset: info
			// is at 1752.
			Trampoline: []byte{0xac, 0x00, 0x00, 0x38, 0x02, 0x00, 0x00, 0x44},
			Context:    128 + 16 + 168,
			SigInfo:    128 + 16 + 1752,
			Regs:       ppc64GPRegs(names[:prRegs]),
			Fault:      ppc64Fault,
		}},
	}
	// The ABI has no frame pointer register: frames chain through the back chain
	// doubleword at 0(r1), which every function that sets up a frame stores with its
	// stdu (ELFv2 ABI §2.2.2.1, "The Stack Frame"), and a function that calls saves its
	// return address in the LR save doubleword at 16 bytes into its caller's frame
	// (before its own stdu: "mflr r0; std r0,16(r1)"). The stack pointer stays
	// quadword-aligned. The kernel's initial frame (and glibc's clone child) has a 0 back
	// chain. r13 is the thread pointer.
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("nip"), a.Reg("r1"), -1, a.Reg("link"), a.Reg("r13")
	a.BackChain = &BackChain{RA: 16, Align: 16}
	m := map[int]string{65: "link", 66: "ctr"}
	for i := 0; i < 32; i++ {
		m[i] = fmt.Sprintf("r%d", i)
	}
	return a.finish(m, nil)
}()

// ppc64ExtraRegs are the registers of ppc64's other register sets
// (arch/powerpc/kernel/ptrace/ptrace-view.c native_regsets), with gdb's names.
// NT_PPC_VMX (vr_get, ptrace-altivec.c): vr0-vr31 (16 bytes each), the 16-byte vscr
// whose word is at its start on little-endian, and vrsave in the first 4 bytes of the
// last 16. NT_PPC_VSX (vsr_get, ptrace-vsx.c): the low doubleword of vs0-vs31, whose
// high doubleword is f0-f31 (NT_PRFPREG); vs32-vs63 are vr0-vr31. NT_PPC_TAR, _PPR and
// _DSCR hold one register each; NT_PPC_EBB ebbrr, ebbhr, bescr; NT_PPC_PMU siar, sdar,
// sier, mmcr2, mmcr0 (ptrace-view.c). The transactional-memory checkpoints
// (NT_PPC_TM_*) are not read.
func ppc64ExtraRegs() []ExtraReg {
	var out []ExtraReg
	for i := 0; i < 32; i++ {
		out = append(out, extra(fmt.Sprintf("vr%d", i), 0x100, 16*i, 16))
	}
	out = append(out, extra("vscr", 0x100, 512, 4), extra("vrsave", 0x100, 528, 4))
	for i := 0; i < 32; i++ {
		out = append(out, ExtraReg{Name: fmt.Sprintf("vs%d", i),
			Parts: []NotePart{{Note: 2, Off: 8 * i, Size: 8}, {Note: 0x102, Off: 8 * i, Size: 8}}})
	}
	for i := 0; i < 32; i++ {
		out = append(out, extra(fmt.Sprintf("vs%d", 32+i), 0x100, 16*i, 16))
	}
	out = append(out, extra("tar", 0x103, 0, 8), extra("ppr", 0x104, 0, 8), extra("dscr", 0x105, 0, 8))
	for i, n := range []string{"ebbrr", "ebbhr", "bescr"} {
		out = append(out, extra(n, 0x106, 8*i, 8))
	}
	for i, n := range []string{"siar", "sdar", "sier", "mmcr2", "mmcr0"} {
		out = append(out, extra(n, 0x107, 8*i, 8))
	}
	return out
}

// ppc64GPRegs lays out struct sigcontext's gp_regs, at 64: the registers of pt_regs in
// the order of pr_reg.
func ppc64GPRegs(names []string) []SavedReg {
	out := make([]SavedReg, 0, len(names))
	for i, n := range names {
		out = append(out, SavedReg{Name: n, Off: 64 + 8*i, Size: 8})
	}
	return out
}

// ppc64SigInfo finds struct rt_sigframe's info from the stack pointer at the trampoline,
// frameOff below the frame. Its place depends on the kernel's configuration (a second
// ucontext, uc_transact, with CONFIG_PPC_TRANSACTIONAL_MEM; tramp[] of 6 words before
// Linux 4.x, 7 since): at each candidate offset of pinfo the frame must hold pinfo =
// &info (just after puc) and puc = &uc (the frame itself) for the guess to be taken.
func ppc64SigInfo(frameOff uint64, pinfoOffs []uint64) func(ReadFunc, uint64) (uint64, bool) {
	return func(read ReadFunc, sp uint64) (uint64, bool) {
		frame := sp + frameOff
		var b [16]byte
		for _, off := range pinfoOffs {
			if read(b[:], frame+off) != nil {
				continue
			}
			pinfo, puc := binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])
			if pinfo == frame+off+16 && puc == frame {
				return pinfo, true
			}
		}
		return 0, false
	}
}

// ppc64Fault reconstructs a fault from the trap number, dar and dsisr the sigcontext
// keeps in gp_regs (pt_regs slots 40-42; Power ISA book III, interrupt vectors): a data
// storage or segment interrupt (0x300, 0x380) faulted at dar, an instruction storage or
// segment interrupt (0x400, 0x480) at nip, an alignment interrupt (0x600) is a SIGBUS at
// dar. The kernel decides SEGV_MAPERR or SEGV_ACCERR from the mappings, and so does this.
// qemu-user saves no trap, dar or dsisr (zero): its frames tell nothing.
func ppc64Fault(read ReadFunc, ctx uint64, _ int, mapped func(uint64) bool) (ContextFault, bool) {
	var b [4 * 8]byte
	if err := read(b[:], ctx+64+32*8); err != nil { // nip .. ctr
		return ContextFault{}, false
	}
	nip := binary.LittleEndian.Uint64(b[:])
	if err := read(b[:], ctx+64+40*8); err != nil { // trap, dar, dsisr
		return ContextFault{}, false
	}
	trap := binary.LittleEndian.Uint64(b[:]) &^ 0xf // the low bits are the kernel's flags
	dar := binary.LittleEndian.Uint64(b[8:])
	segv := func(addr uint64, src string) (ContextFault, bool) {
		f := ContextFault{Signo: 11, Code: 1, Addr: addr, HasAddr: true, Source: src} // SEGV_MAPERR
		if mapped != nil && mapped(addr) {
			f.Code = 2 // SEGV_ACCERR
		}
		return f, true
	}
	switch trap {
	case 0x300, 0x380:
		return segv(dar, fmt.Sprintf("dar, trap %#x", trap))
	case 0x400, 0x480:
		return segv(nip, fmt.Sprintf("nip, trap %#x", trap))
	case 0x600:
		return ContextFault{Signo: 7, Code: 1, Addr: dar, HasAddr: true, Source: "dar, trap 0x600"}, true // BUS_ADRALN
	}
	return ContextFault{}, false
}

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
