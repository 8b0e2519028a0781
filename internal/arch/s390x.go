package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// S390X is 64-bit IBM Z (big-endian). pr_reg is s390_regs
// (arch/s390/include/uapi/asm/ptrace.h): the PSW mask and address, gprs[16] (8 bytes
// each), acrs[16] (4 bytes each) and orig_gpr2. The floating-point registers follow, from
// NT_PRFPREG (s390_fp_regs: fpc, 4 bytes of padding, fprs[16]): GCC saves call-saved
// general registers in them in leaf functions, and its CFI says so (DW_CFA_register r15
// in f0). DWARF numbers are from the s390x ELF ABI supplement (table 1.17): r0-r15 are
// 0-15, f0-f15 are 16-31 in the order f0 f2 f4 f6 f1 f3 f5 f7 f8 f10 f12 f14 f9 f11 f13
// f15; GCC's CFI keeps the return address in column 14 (r14).
var S390X = func() *Arch {
	names, sizes, noteRegs := s390Registers(8)
	display := []string{"pswa", "r15", "r14", "r11"}
	for i := 0; i < 16; i++ {
		if i != 11 && i != 14 && i != 15 {
			display = append(display, fmt.Sprintf("r%d", i))
		}
	}
	display = append(display, "pswm", "orig_r2")
	for i := 0; i < 16; i++ {
		display = append(display, fmt.Sprintf("a%d", i))
	}
	display = append(display, "fpc")
	for i := 0; i < 16; i++ {
		display = append(display, fmt.Sprintf("f%d", i))
	}
	display = append(display, "last_break", "system_call", "gsd", "gssm", "gsepla", "bc_gsd", "bc_gssm", "bc_gsepla")
	a := &Arch{
		Name:        "s390x",
		GOARCH:      "s390x",
		Machine:     elf.EM_S390,
		Class:       elf.ELFCLASS64,
		ByteOrder:   binary.BigEndian,
		PtrSize:     8,
		RegNames:    names,
		RegSizes:    sizes,
		NoteRegs:    noteRegs,
		ExtraRegs:   s390xExtraRegs(),
		DisplayRegs: display,
		DWARFRA:     14,
		CFABias:     160,
		// struct elf_prstatus with 64-bit longs: the 112-byte head, s390_regs (216 bytes)
		// at 112, pr_fpvalid at 328: 336 bytes.
		PrStatus: PrStatusLayout{Size: 336, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 216, FPValid: 328},
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		GoPanicPush: 8, // runtime/signal_linux_s390x.go: sys.MinFrameSize
		PageSize:    4096,
		// s390x ELF ABI supplement §1.2: arguments in r2-r6, the result in r2; r6-r13,
		// the stack pointer r15 and f8-f15 keep their values across a call (r14 holds the
		// return address); no red zone (the caller provides a 160-byte register save
		// area); 8-byte stack alignment.
		HWCap:  s390xHWCap,
		HWCap2: nil,
		ABI: ABI{
			Args:   []string{"r2", "r3", "r4", "r5", "r6"},
			Return: "r2",
			CalleeSaved: []string{"r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13", "r15",
				"f8", "f9", "f10", "f11", "f12", "f13", "f14", "f15"},
			StackAlign: 8,
		},
		CallBefore: s390xCallBefore,
		// arch/s390/kernel/signal.c. The handler returns through r14 to sa_restorer, the
		// vDSO's __kernel_rt_sigreturn / __kernel_sigreturn
		// (arch/s390/kernel/vdso64/vdso_user_wrapper.S: the svc, then .word 0), or (no
		// vDSO, no SA_RESTORER) the svc the kernel wrote into the frame: "svc 173"
		// (rt_sigreturn) or "svc 119" (sigreturn). Either way r15 at the trampoline is the frame's address, where the
		// kernel stored the back chain; qemu-user (linux-user/s390x/signal.c) lays the
		// frames out alike and returns through svc instructions in its own trampoline page.
		Signals: []SignalLayout{{
			// SA_SIGINFO: struct rt_sigframe: callee_used_stack[160], svc_insn (2), struct
			// siginfo at 168 (128 bytes), struct ucontext_extended at 296: uc_flags,
			// uc_link, uc_stack (24), then uc_mcontext (_sigregs) at 336.
			Trampoline: []byte{0x0a, 173},
			SigInfo:    168,
			Context:    336,
			Regs:       s390xSigregs(),
		}, {
			// Without SA_SIGINFO: struct sigframe: callee_used_stack[160], struct
			// sigcontext (oldmask, the _sigregs pointer) at 160, _sigregs at 176. The
			// fault's code and address go to the handler in r4 and r5 only: no frame
			// keeps them, so there is no Fault.
			Trampoline: []byte{0x0a, 119},
			NoSigInfo:  true,
			Context:    176,
			Regs:       s390xSigregs(),
		}},
	}
	// GCC's frame pointer is r11, but it keeps no {fp, return address} record there: no
	// frame-pointer unwinding. Code built with -mbackchain stores the caller's r15 at
	// 0(r15) of every frame, and a function saves its r14 (the return address) in the
	// register save area its caller provides, at 8*14 = 112 bytes above the caller's
	// r15 (s390x ELF ABI supplement §1.2.2, "Stack Frame"; GCC's -mbackchain); r15 stays
	// 8-byte aligned. Without -mbackchain 0(r15) holds no chain, which the unwinder's
	// checks (a higher, aligned stack pointer; a return address after a call) reject.
	// The thread pointer is split over a0:a1.
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("pswa"), a.Reg("r15"), -1, a.Reg("r14"), -1
	a.BackChain = &BackChain{RA: 112, Align: 8}
	m := map[int]string{}
	for i := 0; i < 16; i++ {
		m[i] = fmt.Sprintf("r%d", i)
	}
	for i, f := range []int{0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15} {
		m[16+i] = fmt.Sprintf("f%d", f)
	}
	return a.finish(m, nil)
}()

// s390xSigregs is _sigregs (arch/s390/include/uapi/asm/sigcontext.h): _s390_regs_common
// (psw mask and address, gprs[16], acrs[16] of 4 bytes) at 0, then _s390_fp_regs (fpc,
// 4 bytes of padding, fprs[16]) at 208.
func s390xSigregs() []SavedReg {
	out := []SavedReg{{Name: "pswm", Off: 0, Size: 8}, {Name: "pswa", Off: 8, Size: 8}}
	for i := 0; i < 16; i++ {
		out = append(out, SavedReg{Name: fmt.Sprintf("r%d", i), Off: 16 + 8*i, Size: 8})
	}
	for i := 0; i < 16; i++ {
		out = append(out, SavedReg{Name: fmt.Sprintf("a%d", i), Off: 144 + 4*i, Size: 4})
	}
	out = append(out, SavedReg{Name: "fpc", Off: 208, Size: 4})
	for i := 0; i < 16; i++ {
		out = append(out, SavedReg{Name: fmt.Sprintf("f%d", i), Off: 216 + 8*i, Size: 8})
	}
	return out
}

// s390xCallBefore recognises brasl (c0e5 with r14, 6 bytes), bras (a7e5, 4 bytes) and
// basr (0de*, 2 bytes) saving the return address in r14 (z/Architecture Principles of
// Operation, chapter 7), ending where code ends.
func s390xCallBefore(code []byte) bool {
	n := len(code)
	switch {
	case n >= 6 && code[n-6] == 0xc0 && code[n-5] == 0xe5:
		return true
	case n >= 4 && code[n-4] == 0xa7 && code[n-3] == 0xe5:
		return true
	case n >= 2 && code[n-2] == 0x0d && code[n-1]>>4 == 0xe:
		return true
	}
	return false
}

// s390xExtraRegs are the registers of s390x's other register sets
// (arch/s390/kernel/ptrace.c s390_regsets), with gdb's names. NT_S390_LAST_BREAK: the
// last breaking-event address (8 bytes); NT_S390_SYSTEM_CALL: the system call being
// restarted (4 bytes); NT_S390_VXRS_LOW: the low doubleword of v0-v15, whose high
// doubleword is f0-f15 (NT_PRFPREG); NT_S390_VXRS_HIGH: v16-v31, 16 bytes each;
// NT_S390_GS_CB and NT_S390_GS_BC: struct gs_cb (arch/s390/include/uapi/asm/guarded_storage.h:
// reserved, gsd, gssm, gse_pla), the guarded-storage registers and their broadcast copy.
// The transaction diagnostic block (NT_S390_TDB) is not read: gdb shows it only when its
// format byte is 1, and the kernels' cores here hold an empty one; NT_S390_RI_CB neither.
func s390xExtraRegs() []ExtraReg {
	out := []ExtraReg{extra("last_break", 0x306, 0, 8), extra("system_call", 0x307, 0, 4)}
	for i := 0; i < 16; i++ {
		out = append(out, ExtraReg{Name: fmt.Sprintf("v%d", i),
			Parts: []NotePart{{Note: 2, Off: 8 + 8*i, Size: 8}, {Note: 0x309, Off: 8 * i, Size: 8}}})
	}
	for i := 0; i < 16; i++ {
		out = append(out, extra(fmt.Sprintf("v%d", 16+i), 0x30a, 16*i, 16))
	}
	for i, n := range []string{"gsd", "gssm", "gsepla"} {
		out = append(out, extra(n, 0x30b, 8+8*i, 8))
	}
	for i, n := range []string{"bc_gsd", "bc_gssm", "bc_gsepla"} {
		out = append(out, extra(n, 0x30c, 8+8*i, 8))
	}
	return out
}

// s390Registers lists pr_reg's registers (s390_regs, with words of the given size: 8 on
// s390x, 4 for 31-bit s390; the access registers are 4 bytes either way) followed by
// NT_PRFPREG's (s390_fp_regs: fpc, 4 bytes of padding, fprs[16] of 8 bytes).
func s390Registers(word int) (names []string, sizes []int, noteRegs []NoteReg) {
	names, sizes = []string{"pswm", "pswa"}, []int{word, word}
	for i := 0; i < 16; i++ {
		names, sizes = append(names, fmt.Sprintf("r%d", i)), append(sizes, word)
	}
	for i := 0; i < 16; i++ {
		names, sizes = append(names, fmt.Sprintf("a%d", i)), append(sizes, 4)
	}
	names, sizes = append(names, "orig_r2"), append(sizes, word)
	noteRegs = []NoteReg{{Name: "fpc", Note: 2, Off: 0, Size: 4}}
	for i := 0; i < 16; i++ {
		noteRegs = append(noteRegs, NoteReg{Name: fmt.Sprintf("f%d", i), Note: 2, Off: 8 + 8*i, Size: 8})
	}
	for _, r := range noteRegs {
		names, sizes = append(names, r.Name), append(sizes, r.Size)
	}
	return names, sizes, noteRegs
}
