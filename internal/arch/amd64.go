package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// AMD64 is x86_64. pr_reg is struct user_regs_struct (arch/x86/include/asm/user_64.h);
// DWARF numbers are from the System V AMD64 psABI, figure 3.36.
var AMD64 = func() *Arch {
	a := &Arch{
		Name:      "x86_64",
		GOARCH:    "amd64",
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
		DisplayRegs: []string{"rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
			"r11", "r12", "r13", "r14", "r15", "eflags", "orig_rax", "fs_base", "gs_base", "cs", "ss", "ds", "es", "fs", "gs"},
		DWARFRA: 16,
		// struct elf_prstatus on x86_64: siginfo header (12) + cursig (2, padded to 4),
		// sigpend, sighold (8 each), pid/ppid/pgrp/sid (4 each), four struct timeval
		// (16 each), pr_reg (27*8), pr_fpvalid (4) and tail padding: 336 bytes.
		PrStatus: PrStatusLayout{Size: 336, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 27 * 8, FPValid: 328},
		// struct elf_prpsinfo on x86_64: 136 bytes, 32-bit uid/gid.
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		// x86_64_regsets (arch/x86/kernel/ptrace.c): user_i387_struct (512 bytes), then
		// the XSAVE area, whose size the CPU's features set (CPUID 0xd; 11008 bytes
		// with AMX). The I/O permission bitmap and the shadow-stack pointer are only
		// written for tasks that use them, which coredig's writer leaves out.
		CoreRegSets: []RegSetNote{
			{Type: 2, Name: "NT_PRFPREG", MaxSize: 512, FP: true},
			{Type: 0x202, Name: "NT_X86_XSTATE", MaxSize: 16 << 10},
		},
		PageSize: 4096,
		// System V AMD64 psABI §3.2.1 (registers), §3.2.2 (the stack frame: 16-byte
		// alignment at a call, a 128-byte red zone below rsp) and §3.2.3 (arguments in
		// rdi, rsi, rdx, rcx, r8, r9; the result in rax). rbx, rbp, r12-r15 and rsp are
		// callee-saved; the segment registers and bases do not change across a call.
		ABI: ABI{
			Args:        []string{"rdi", "rsi", "rdx", "rcx", "r8", "r9"},
			Return:      "rax",
			CalleeSaved: []string{"rbx", "rbp", "r12", "r13", "r14", "r15", "rsp", "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base"},
			RedZone:     128,
			StackAlign:  16,
		},
		RAOnStack:        true,
		CallBefore:       amd64CallBefore,
		BreakpointBefore: []byte{0xcc}, // int3: the trap's pc is the next instruction
		Signals: []SignalLayout{{
			// __restore_rt (glibc sysdeps/unix/sysv/linux/x86_64/libc_sigaction.c):
			// mov $0xf,%rax (rt_sigreturn); syscall.
			Trampoline: []byte{0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05},
			// At __restore_rt the handler has returned past pretcode, so sp points at
			// struct ucontext (arch/x86/include/asm/sigframe.h rt_sigframe): uc_flags (8),
			// uc_link (8), uc_stack (stack_t, 24), uc_mcontext (struct sigcontext, 256),
			// uc_sigmask (8): 304 bytes, then struct siginfo.
			SigInfo: 304,
			Context: 40,
			Regs:    amd64SigcontextRegs(),
			Fault:   amd64Fault,
		}},
		Syscall: amd64Syscall,
		Pthread: amd64Pthread,
		PLT: PLTLayout{Stubs: amd64PLTStubs,
			GOTRelocs: []uint32{uint32(elf.R_X86_64_JMP_SLOT), uint32(elf.R_X86_64_GLOB_DAT)}},
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("rip"), a.Reg("rsp"), a.Reg("rbp"), -1, a.Reg("fs_base")
	return a.finish(amd64DWARFRegs(), amd64SubRegs())
}()

// amd64DWARFRegs are the psABI's DWARF register numbers (x86_64 and x32).
func amd64DWARFRegs() map[int]string {
	return map[int]string{
		0: "rax", 1: "rdx", 2: "rcx", 3: "rbx", 4: "rsi", 5: "rdi", 6: "rbp", 7: "rsp",
		8: "r8", 9: "r9", 10: "r10", 11: "r11", 12: "r12", 13: "r13", 14: "r14", 15: "r15",
		16: "rip", 49: "eflags", 50: "es", 51: "cs", 52: "ss", 53: "ds", 54: "fs", 55: "gs",
		58: "fs_base", 59: "gs_base",
	}
}

// amd64SubRegs names the parts of the general registers (Intel SDM vol. 1, 3.4.1): eax,
// ax, al and ah of rax, and r8d, r8w, r8b of r8; eip of rip. The 16-bit "sp" is left
// out: no x86-64 address uses it, and aarch64's "sp" is a whole register.
func amd64SubRegs() map[string]RegPart {
	m := map[string]RegPart{"eip": {Reg: "rip", Width: 4}}
	for _, r := range []struct{ q, d, w, b, h string }{
		{"rax", "eax", "ax", "al", "ah"}, {"rcx", "ecx", "cx", "cl", "ch"}, {"rdx", "edx", "dx", "dl", "dh"},
		{"rbx", "ebx", "bx", "bl", "bh"}, {"rsp", "esp", "", "spl", ""}, {"rbp", "ebp", "bp", "bpl", ""},
		{"rsi", "esi", "si", "sil", ""}, {"rdi", "edi", "di", "dil", ""},
	} {
		m[r.d] = RegPart{Reg: r.q, Width: 4}
		if r.w != "" {
			m[r.w] = RegPart{Reg: r.q, Width: 2}
		}
		m[r.b] = RegPart{Reg: r.q, Width: 1}
		if r.h != "" {
			m[r.h] = RegPart{Reg: r.q, Width: 1, Off: 1}
		}
	}
	for i := 8; i <= 15; i++ {
		q := fmt.Sprintf("r%d", i)
		m[q+"d"] = RegPart{Reg: q, Width: 4}
		m[q+"w"] = RegPart{Reg: q, Width: 2}
		m[q+"b"] = RegPart{Reg: q, Width: 1}
	}
	return m
}

// amd64SigcontextRegs is the general-register part of struct sigcontext
// (arch/x86/include/uapi/asm/sigcontext.h, x86_64): r8-r15, rdi, rsi, rbp, rbx, rdx,
// rax, rcx, rsp, rip, eflags as 8-byte words, then cs, gs, fs (and ss, __pad0 before
// Linux 4.8) as 16-bit fields.
func amd64SigcontextRegs() []SavedReg {
	var out []SavedReg
	for i, n := range []string{"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi", "rsi",
		"rbp", "rbx", "rdx", "rax", "rcx", "rsp", "rip", "eflags"} {
		out = append(out, SavedReg{Name: n, Off: 8 * i, Size: 8})
	}
	for i, n := range []string{"cs", "gs", "fs"} {
		out = append(out, SavedReg{Name: n, Off: 8*18 + 2*i, Size: 2})
	}
	return out
}

// amd64Fault reconstructs the fault from struct sigcontext: rip at 128, err at 152,
// trapno at 160, cr2 at 176.
func amd64Fault(read ReadFunc, ctx uint64, _ int, _ func(uint64) bool) (ContextFault, bool) {
	var mc [184]byte
	if err := read(mc[:], ctx); err != nil {
		return ContextFault{}, false
	}
	le := binary.LittleEndian
	return x86Trap(le.Uint64(mc[160:]), le.Uint64(mc[152:]), le.Uint64(mc[128:]), le.Uint64(mc[176:]))
}

// x86Trap is the fault an x86 trap number, error code, instruction pointer and cr2
// stand for. Trap numbers are the CPU's exception vectors (Intel SDM vol. 3, 6.15) and
// map to signals as arch/x86/kernel/traps.c and fault.c do.
func x86Trap(trapno, errCode, ip, cr2 uint64) (ContextFault, bool) {
	src := fmt.Sprintf("trapno %d", trapno)
	at := func(signo, code int, addr uint64) (ContextFault, bool) {
		return ContextFault{Signo: signo, Code: code, Addr: addr, HasAddr: true, Source: src}, true
	}
	switch trapno {
	case 14: // #PF: cr2 is the address; error code bit 0 set means a protection violation
		code := 1 // SEGV_MAPERR
		if errCode&1 != 0 {
			code = 2 // SEGV_ACCERR
		}
		return ContextFault{Signo: 11, Code: code, Addr: cr2, HasAddr: true, Source: "cr2, " + src}, true
	case 13: // #GP: a non-canonical address or a privileged instruction; no address
		return ContextFault{Signo: 11, Code: siKernel, Source: src}, true
	case 0: // #DE
		return at(8, 1, ip) // FPE_INTDIV
	case 6: // #UD
		return at(4, 2, ip) // ILL_ILLOPN
	case 3: // #BP
		return ContextFault{Signo: 5, Code: siKernel, Source: src}, true
	case 17: // #AC
		return at(7, 1, ip) // BUS_ADRALN
	}
	return ContextFault{}, false
}

// amd64CallBefore recognises "call rel32" (e8) and "call r/m64" (ff /2, with an optional
// REX prefix) ending exactly where code ends.
func amd64CallBefore(code []byte) bool {
	n := len(code)
	if n >= 5 && code[n-5] == 0xe8 {
		return true
	}
	for k := 2; k <= 7 && k <= n; k++ {
		if code[n-k] != 0xff {
			continue
		}
		modrm := code[n-k+1]
		if (modrm>>3)&7 != 2 {
			continue
		}
		l := 2
		mod, rm := modrm>>6, modrm&7
		if mod != 3 {
			if rm == 4 {
				if n-k+2 >= n {
					continue
				}
				sib := code[n-k+2]
				l++
				if mod == 0 && sib&7 == 5 {
					l += 4
				}
			}
			switch {
			case mod == 0 && rm == 5:
				l += 4 // rip-relative
			case mod == 1:
				l++
			case mod == 2:
				l += 4
			}
		}
		if l == k {
			return true
		}
	}
	return false
}

// amd64PLTStubs finds the 16-byte stubs of .plt and .plt.sec, and the 8- or 16-byte ones
// of .plt.got, whose "jmp *disp32(%rip)" (ff 25, after an optional endbr64 or bnd prefix)
// names a GOT slot.
func amd64PLTStubs(section string, entsize uint64, b []byte, addr, _ uint64, found func(stub, size, slot uint64)) {
	step := 16
	if section == ".plt.got" && entsize == 8 {
		step = 8
	}
	for off := 0; off+step <= len(b); off += step {
		stub := b[off : off+step]
		for i := 0; i+6 <= len(stub) && i <= 6; i++ {
			if stub[i] == 0xff && stub[i+1] == 0x25 {
				disp := int32(binary.LittleEndian.Uint32(stub[i+2:]))
				at := addr + uint64(off)
				found(at, uint64(step), at+uint64(i)+6+uint64(int64(disp)))
				break
			}
		}
	}
}
