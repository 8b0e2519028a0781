package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// I386 is 32-bit x86, natively or as a compat process of an x86_64 kernel (whose cores use
// the same compat layouts). pr_reg is struct user_regs_struct of
// arch/x86/include/asm/user_32.h: ebx, ecx, edx, esi, edi, ebp, eax, xds, xes, xfs, xgs,
// orig_eax, eip, xcs, eflags, esp, xss. DWARF numbers are from the System V i386 psABI
// (table 2.14): eax 0, ecx 1, edx 2, ebx 3, esp 4, ebp 5, esi 6, edi 7, eip 8 (the
// return address column), eflags 9, es 40, cs 41, ss 42, ds 43, fs 44, gs 45.
var I386 = func() *Arch {
	a := &Arch{
		Name:      "i386",
		GOARCH:    "386",
		Machine:   elf.EM_386,
		Class:     elf.ELFCLASS32,
		ByteOrder: binary.LittleEndian,
		PtrSize:   4,
		RegNames: []string{"ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es", "fs", "gs",
			"orig_eax", "eip", "cs", "eflags", "esp", "ss"},
		DisplayRegs: []string{"eip", "esp", "ebp", "eax", "ebx", "ecx", "edx", "esi", "edi", "eflags",
			"orig_eax", "cs", "ss", "ds", "es", "fs", "gs", "gs_base", "fctrl", "fstat", "fiseg", "fioff",
			"foseg", "fooff", "fop", "mxcsr"},
		TLSName:       "gs_base",
		ThreadPointer: i386ThreadPointer,
		ExtraRegs:     i386ExtraRegs(),
		DWARFRA:       8,
		// struct elf_prstatus with 32-bit longs (include/uapi/linux/elfcore.h, and
		// compat_elf_prstatus of an x86_64 kernel): siginfo header (12), cursig (2, padded
		// to 4), sigpend and sighold (4 each) at 16 and 20, pid/ppid/pgrp/sid at 24, four
		// struct timeval of two 32-bit words (8 each) from 40, pr_reg (17*4) at 72,
		// pr_fpvalid at 140: 144 bytes.
		PrStatus: PrStatusLayout{Size: 144, CurSig: 12, SigPend: 16, SigHold: 20, PID: 24,
			TimevalLen: 8, Regs: 72, RegsSize: 17 * 4, FPValid: 140},
		// struct elf_prpsinfo on i386: pr_flag is a 32-bit long at 4, pr_uid and pr_gid
		// are 16-bit (__kernel_uid_t, compat_uid_t) at 8 and 10, pids from 12, pr_fname
		// at 28, pr_psargs at 44: 124 bytes.
		PrPsInfo: PrPsInfoLayout{Size: 124, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 4,
			UID: 8, UIDSize: 2, GID: 10, PID: 12, FName: 28, PsArgs: 44},
		PageSize: 4096,
		// System V i386 psABI §2.2: arguments go on the stack (none in registers), the
		// result in eax; ebx, esi, edi, ebp and esp are callee-saved. GCC keeps the stack
		// 16-byte aligned at calls; there is no red zone.
		ABI: ABI{
			Return:      "eax",
			CalleeSaved: []string{"ebx", "esi", "edi", "ebp", "esp", "cs", "ss", "ds", "es", "fs", "gs"},
			StackAlign:  16,
		},
		Syscall:          i386Syscall,
		Pthread:          i386Pthread,
		RAOnStack:        true,
		CallBefore:       amd64CallBefore, // call rel32 (e8) and call r/m32 (ff /2) encode as on x86_64
		BreakpointBefore: []byte{0xcc},
		// i386 has no pc-relative addressing: PIC code calls a thunk that returns its
		// return address in a register (GCC's __x86.get_pc_thunk.<reg>), then adds the
		// distance to the GOT.
		PCThunks: map[string]string{"__x86.get_pc_thunk.ax": "eax", "__x86.get_pc_thunk.bx": "ebx",
			"__x86.get_pc_thunk.cx": "ecx", "__x86.get_pc_thunk.dx": "edx", "__x86.get_pc_thunk.si": "esi",
			"__x86.get_pc_thunk.di": "edi", "__x86.get_pc_thunk.bp": "ebp"},
		PLT: PLTLayout{Stubs: i386PLTStubs,
			GOTRelocs: []uint32{uint32(elf.R_386_JMP_SLOT), uint32(elf.R_386_GLOB_DAT)}},
		Signals: []SignalLayout{{
			// __kernel_rt_sigreturn of the 32-bit vDSO (arch/x86/entry/vdso/vdso32/sigreturn.S)
			// and glibc's __restore_rt: mov $173,%eax (rt_sigreturn); int $0x80.
			Trampoline: []byte{0xb8, 0xad, 0x00, 0x00, 0x00, 0xcd, 0x80},
			// At the trampoline the handler has returned past pretcode, so sp points at
			// the rest of struct rt_sigframe (arch/x86/include/asm/sigframe.h, ia32): sig,
			// pinfo, puc (4 each), struct siginfo (128) at 12, then struct ucontext at
			// 140: uc_flags, uc_link (4 each), uc_stack (12), uc_mcontext (struct
			// sigcontext_32) at 160.
			SigInfo: 12,
			Context: 160,
			Regs:    i386SigcontextRegs(),
			Fault:   i386Fault,
		}, {
			// __kernel_sigreturn of the 32-bit vDSO and glibc's __restore, for a handler
			// installed without SA_SIGINFO: pop %eax; mov $119,%eax (sigreturn); int $0x80.
			Trampoline: []byte{0x58, 0xb8, 0x77, 0x00, 0x00, 0x00, 0xcd, 0x80},
			// At the trampoline sp points at the rest of struct sigframe_ia32 past
			// pretcode: sig (4), then struct sigcontext_32 at 4. It saves no siginfo.
			NoSigInfo: true,
			Context:   4,
			Regs:      i386SigcontextRegs(),
			Fault:     i386Fault,
		}},
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("eip"), a.Reg("esp"), a.Reg("ebp"), -1, -1
	return a.finish(map[int]string{
		0: "eax", 1: "ecx", 2: "edx", 3: "ebx", 4: "esp", 5: "ebp", 6: "esi", 7: "edi",
		8: "eip", 9: "eflags", 40: "es", 41: "cs", 42: "ss", 43: "ds", 44: "fs", 45: "gs",
	}, i386SubRegs())
}()

// i386PLTStubs finds the 16-byte stubs of .plt and .plt.sec and the 8- or 16-byte ones of
// .plt.got (the i386 psABI's PLT, §5.2, and binutils' IBT and .plt.got variants), after an
// optional endbr32: "jmp *slot" (ff 25 abs32) in position-dependent executables, "jmp
// *disp(%ebx)" (ff a3 disp32) with %ebx holding the GOT's address in position-independent
// code.
func i386PLTStubs(section string, entsize uint64, b []byte, addr, got uint64, found func(stub, size, slot uint64)) {
	step := 16
	if section == ".plt.got" && entsize == 8 {
		step = 8
	}
	for off := 0; off+step <= len(b); off += step {
		stub := b[off : off+step]
		for i := 0; i+6 <= len(stub) && i <= 6; i++ {
			if stub[i] != 0xff || stub[i+1] != 0x25 && stub[i+1] != 0xa3 {
				continue
			}
			v := binary.LittleEndian.Uint32(stub[i+2:])
			slot := uint64(v) // absolute
			if stub[i+1] == 0xa3 {
				if got == 0 {
					break
				}
				slot = uint64(uint32(got) + v) // 32-bit address arithmetic
			}
			found(addr+uint64(off), uint64(step), slot)
			break
		}
	}
}

// i386SubRegs names the 16- and 8-bit parts of the general registers (Intel SDM vol. 1,
// 3.4.1).
func i386SubRegs() map[string]RegPart {
	m := map[string]RegPart{}
	for _, r := range []struct{ d, w, b, h string }{
		{"eax", "ax", "al", "ah"}, {"ecx", "cx", "cl", "ch"}, {"edx", "dx", "dl", "dh"}, {"ebx", "bx", "bl", "bh"},
		{"ebp", "bp", "", ""}, {"esi", "si", "", ""}, {"edi", "di", "", ""},
	} {
		m[r.w] = RegPart{Reg: r.d, Width: 2}
		if r.b != "" {
			m[r.b] = RegPart{Reg: r.d, Width: 1}
			m[r.h] = RegPart{Reg: r.d, Width: 1, Off: 1}
		}
	}
	return m
}

// i386SigcontextRegs is struct sigcontext_32 (arch/x86/include/uapi/asm/sigcontext.h):
// gs, fs, es, ds (16-bit, each padded to 4), edi, esi, ebp, esp, ebx, edx, ecx, eax,
// trapno, err, eip, cs (padded), eflags, esp_at_signal, ss (padded), fpstate, oldmask,
// cr2.
func i386SigcontextRegs() []SavedReg {
	out := []SavedReg{{"gs", 0, 2}, {"fs", 4, 2}, {"es", 8, 2}, {"ds", 12, 2}}
	for i, n := range []string{"edi", "esi", "ebp", "esp", "ebx", "edx", "ecx", "eax"} {
		out = append(out, SavedReg{Name: n, Off: 16 + 4*i, Size: 4})
	}
	return append(out, SavedReg{"eip", 56, 4}, SavedReg{"cs", 60, 2}, SavedReg{"eflags", 64, 4}, SavedReg{"ss", 72, 2})
}

// i386Fault reconstructs the fault from struct sigcontext_32: trapno at 48, err at 52,
// eip at 56, cr2 at 84, with the CPU's exception vectors mapped to signals as on x86_64.
func i386Fault(read ReadFunc, ctx uint64, _ int, _ func(uint64) bool) (ContextFault, bool) {
	var mc [88]byte
	if err := read(mc[:], ctx); err != nil {
		return ContextFault{}, false
	}
	le := binary.LittleEndian
	return x86Trap(uint64(le.Uint32(mc[48:])), uint64(le.Uint32(mc[52:])), uint64(le.Uint32(mc[56:])), uint64(le.Uint32(mc[84:])))
}

// i386ThreadPointer reads the thread pointer, the base of the segment %gs selects, from
// NT_386_TLS (regset_tls_get, arch/x86/kernel/tls.c): the thread's GDT TLS entries as
// struct user_desc (arch/x86/include/uapi/asm/ldt.h: entry_number, base_addr, limit,
// flags; 16 bytes each). The selector's index (gs >> 3) names the entry.
func i386ThreadPointer(note uint32, desc []byte, regs []uint64) (uint64, bool) {
	const gs = 10                                            // RegNames
	if note != 0x200 || len(regs) <= gs || regs[gs]&4 != 0 { // a selector of the LDT
		return 0, false
	}
	idx := uint32(regs[gs] >> 3)
	for off := 0; off+16 <= len(desc) && off < 16*16; off += 16 {
		if binary.LittleEndian.Uint32(desc[off:]) == idx {
			return uint64(binary.LittleEndian.Uint32(desc[off+4:])), true
		}
	}
	return 0, false
}

// i386ExtraRegs are the x87 and SSE registers of NT_PRXFPREG, the FXSAVE area
// (xfpregs_get, arch/x86/kernel/fpu/regset.c; struct user_fxsr_struct of
// arch/x86/include/asm/user_32.h): cwd, swd, twd (abridged), fop at 0, 2, 4, 6; fip,
// fcs, foo, fos at 8, 12, 16, 20; mxcsr at 24; st0-st7 in 16-byte slots from 32 (80 bits
// each); xmm0-xmm7 from 160. Names are gdb's; fop keeps its 11 bits. gdb's ftag, which it
// rebuilds from the abridged tags and the registers' contents, is not shown.
func i386ExtraRegs() []ExtraReg {
	const note = 0x46e62b7f
	out := []ExtraReg{extra("fctrl", note, 0, 2), extra("fstat", note, 2, 2), extra("fiseg", note, 12, 2),
		extra("fioff", note, 8, 4), extra("foseg", note, 20, 2), extra("fooff", note, 16, 4),
		{Name: "fop", Parts: []NotePart{{Note: note, Off: 6, Size: 2, Bits: 11}}}, extra("mxcsr", note, 24, 4)}
	for i := 0; i < 8; i++ {
		out = append(out, extra(fmt.Sprintf("st%d", i), note, 32+16*i, 10))
	}
	for i := 0; i < 8; i++ {
		out = append(out, extra(fmt.Sprintf("xmm%d", i), note, 160+16*i, 16))
	}
	return out
}
