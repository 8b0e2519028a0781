package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// ARM64 is aarch64. pr_reg is struct user_pt_regs (arch/arm64/include/uapi/asm/ptrace.h):
// x0..x30, sp, pc, pstate. DWARF numbers are from the AArch64 DWARF ABI (aadwarf64):
// x0..x30 are 0..30, sp is 31, pc is 32.
var ARM64 = func() *Arch {
	names := make([]string, 0, 34)
	for i := 0; i <= 30; i++ {
		names = append(names, fmt.Sprintf("x%d", i))
	}
	names = append(names, "sp", "pc", "pstate")
	display := []string{"pc", "sp", "x29", "x30"}
	for i := 0; i <= 28; i++ {
		display = append(display, fmt.Sprintf("x%d", i))
	}
	display = append(display, "pstate", "tpidr_el0", "fpsr", "fpcr", "pauth_dmask", "pauth_cmask", "tag_ctl")
	a := &Arch{
		Name:        "aarch64",
		GOARCH:      "arm64",
		Machine:     elf.EM_AARCH64,
		Class:       elf.ELFCLASS64,
		ByteOrder:   binary.LittleEndian,
		PtrSize:     8,
		RegNames:    names,
		TLSName:     "tpidr_el0",
		DisplayRegs: display,
		ExtraRegs:   arm64ExtraRegs(),
		// NT_ARM_TLS (tls_get, arch/arm64/kernel/ptrace.c): tpidr_el0 first.
		ThreadPointer: func(note uint32, desc []byte, _ []uint64) (uint64, bool) {
			if note != 0x401 || len(desc) < 8 {
				return 0, false
			}
			return binary.LittleEndian.Uint64(desc), true
		},
		DWARFRA: 30,
		// struct elf_prstatus on aarch64: the same 112-byte head as x86_64, pr_reg (34*8),
		// pr_fpvalid and padding: 392 bytes.
		PrStatus: PrStatusLayout{Size: 392, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 34 * 8, FPValid: 384},
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		// aarch64_regsets (arch/arm64/kernel/ptrace.c): user_fpsimd_state (528 bytes),
		// the thread pointer, the system call number; SVE, PAC and the rest follow
		// in the kernel's cores only when the task uses them.
		CoreRegSets: []RegSetNote{
			{Type: 2, Name: "NT_PRFPREG", MaxSize: 528, FP: true},
			{Type: 0x401, Name: "NT_ARM_TLS", MaxSize: 16},
			{Type: 0x404, Name: "NT_ARM_SYSTEM_CALL", MaxSize: 4},
		},
		GoPanicPush: 16, // runtime/signal_arm64.go: sys.StackAlign
		PageSize:    4096,
		InstLen:     4, // A64 instructions are 32 bits (Arm ARM C1.2)
		// AAPCS64 §6.1.1 (x0-x7 carry arguments, x0 the result; x19-x28, the frame
		// pointer x29 and sp are callee-saved) and §6.2.2 (sp 16-byte aligned; no red
		// zone in the base standard, and Linux defines none).
		HWCap:  arm64HWCap,
		HWCap2: arm64HWCap2,
		ABI: ABI{
			Args:        []string{"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"},
			Return:      "x0",
			CalleeSaved: []string{"x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "sp"},
			StackAlign:  16,
		},
		CallBefore: arm64CallBefore,
		Signals: []SignalLayout{{
			// __kernel_rt_sigreturn (arch/arm64/kernel/vdso/sigreturn.S): mov x8, #139
			// (rt_sigreturn); svc #0.
			Trampoline: []byte{0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4},
			// At __kernel_rt_sigreturn sp points at struct rt_sigframe
			// (arch/arm64/kernel/signal.c): struct siginfo (128 bytes), then struct
			// ucontext: uc_flags (8), uc_link (8), uc_stack (24), uc_sigmask (8), __unused
			// (120), uc_mcontext (struct sigcontext, 16-byte aligned, at 176):
			// fault_address, regs[31], sp, pc, pstate.
			SigInfo: 0,
			Context: 128 + 176,
			Regs:    arm64SigcontextRegs(names),
			Fault:   arm64Fault,
		}},
		Syscall: arm64Syscall,
		Pthread: arm64Pthread,
		PLT: PLTLayout{Stubs: arm64PLTStubs,
			GOTRelocs: []uint32{uint32(elf.R_AARCH64_JUMP_SLOT), uint32(elf.R_AARCH64_GLOB_DAT)}},
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("pc"), a.Reg("sp"), a.Reg("x29"), a.Reg("x30"), -1
	m := map[int]string{31: "sp", 32: "pc"}
	sub := map[string]RegPart{"wsp": {Reg: "sp", Width: 4}}
	for i := 0; i <= 30; i++ {
		m[i] = fmt.Sprintf("x%d", i)
		sub[fmt.Sprintf("w%d", i)] = RegPart{Reg: fmt.Sprintf("x%d", i), Width: 4}
	}
	return a.finish(m, sub)
}()

// arm64ExtraRegs are the registers of aarch64's other register sets
// (arch/arm64/kernel/ptrace.c aarch64_regsets), with gdb's names: NT_PRFPREG is struct
// user_fpsimd_state (arch/arm64/include/uapi/asm/ptrace.h: vregs[32] of 16 bytes, fpsr,
// fpcr); NT_ARM_PAC_MASK struct user_pac_mask (data_mask, insn_mask); NT_ARM_TAGGED_ADDR_CTRL
// one long. The SVE and SME sets (NT_ARM_SVE, NT_ARM_ZA), whose size depends on the
// vector length, are not read.
func arm64ExtraRegs() []ExtraReg {
	var out []ExtraReg
	for i := 0; i < 32; i++ {
		out = append(out, extra(fmt.Sprintf("v%d", i), 2, 16*i, 16))
	}
	return append(out, extra("fpsr", 2, 512, 4), extra("fpcr", 2, 516, 4),
		extra("pauth_dmask", 0x406, 0, 8), extra("pauth_cmask", 0x406, 8, 8), extra("tag_ctl", 0x409, 0, 8))
}

// arm64SigcontextRegs: struct sigcontext (arch/arm64/include/uapi/asm/sigcontext.h)
// holds fault_address, then x0..x30, sp, pc, pstate, the order of RegNames.
func arm64SigcontextRegs(names []string) []SavedReg {
	out := make([]SavedReg, 0, len(names))
	for i, n := range names {
		out = append(out, SavedReg{Name: n, Off: 8 + 8*i, Size: 8})
	}
	return out
}

// arm64Fault reconstructs a SIGSEGV from struct sigcontext: fault_address at 0, and in
// __reserved (at 288) an esr_context record (magic 0x45535201) whose ESR gives the fault
// class (Arm ARM D17.2.37: EC 0x20/0x21 instruction abort, 0x24/0x25 data abort; DFSC
// 0b0011xx permission fault). Without an ESR record (qemu-user writes none) the address
// alone is reported, and the code is inferred from whether the address is mapped. Only a
// SIGSEGV can be told from fault_address.
func arm64Fault(read ReadFunc, ctx uint64, signo int, mapped func(uint64) bool) (ContextFault, bool) {
	if signo != 11 {
		return ContextFault{}, false
	}
	var b [8]byte
	if err := read(b[:], ctx); err != nil {
		return ContextFault{}, false
	}
	addr := binary.LittleEndian.Uint64(b[:])
	f := ContextFault{Signo: 11, Code: 1, Addr: addr, HasAddr: true, Source: "fault_address"} // SEGV_MAPERR
	if esr, ok := arm64ESR(read, ctx+288); ok {
		ec := esr >> 26
		if ec != 0x24 && ec != 0x25 && ec != 0x20 && ec != 0x21 { // data or instruction abort
			return ContextFault{}, false
		}
		if fsc := esr & 0x3c; fsc == 0x0c { // permission fault
			f.Code = 2 // SEGV_ACCERR
		}
		f.Source = "fault_address, ESR"
	} else if mapped != nil && mapped(addr) {
		f.Code = 2
	}
	return f, true
}

// arm64ESR walks the sigcontext's __reserved records (struct _aarch64_ctx: magic, size)
// for esr_context.
func arm64ESR(read ReadFunc, p uint64) (uint64, bool) {
	const esrMagic, maxRecords, reserved = 0x45535201, 32, 4096
	end := p + reserved
	for i := 0; i < maxRecords && p+8 <= end; i++ {
		var h [16]byte
		if err := read(h[:8], p); err != nil {
			return 0, false
		}
		magic, size := binary.LittleEndian.Uint32(h[:]), binary.LittleEndian.Uint32(h[4:])
		if magic == 0 || size < 8 || uint64(size) > end-p {
			return 0, false
		}
		if magic == esrMagic && size >= 16 {
			if err := read(h[8:16], p+8); err != nil {
				return 0, false
			}
			return binary.LittleEndian.Uint64(h[8:]), true
		}
		p += uint64(size)
	}
	return 0, false
}

// arm64CallBefore recognises BL, BLR, BLRAA/BLRAB and BLRAAZ/BLRABZ as the instruction
// before the return address (Arm ARM C6.2).
func arm64CallBefore(code []byte) bool {
	n := len(code)
	if n < 4 {
		return false
	}
	i := binary.LittleEndian.Uint32(code[n-4:])
	switch {
	case i&0xfc000000 == 0x94000000: // BL imm26
		return true
	case i&0xfffffc1f == 0xd63f0000: // BLR Xn
		return true
	case i&0xfefff800 == 0xd63f0800: // BLRAA, BLRAB, BLRAAZ, BLRABZ
		return true
	}
	return false
}

// arm64PLTStubs finds the 16-byte stubs that start "adrp x16, page; ldr x17, [x16,
// #off]" (the AArch64 ELF ABI's PLT sequence) and returns page+off as the slot.
func arm64PLTStubs(_ string, _ uint64, b []byte, addr, _ uint64, found func(stub, size, slot uint64)) {
	for off := 0; off+16 <= len(b); off += 4 {
		adrp := binary.LittleEndian.Uint32(b[off:])
		ldr := binary.LittleEndian.Uint32(b[off+4:])
		if adrp&0x9f00001f != 0x90000010 || ldr&0xffc003ff != 0xf9400211 {
			continue
		}
		at := addr + uint64(off)
		immlo := uint64(adrp>>29) & 3
		immhi := uint64(adrp>>5) & 0x7ffff
		imm := int64((immhi<<2|immlo)<<43) >> 31 // sign-extend the 21-bit page count, times 4096
		page := uint64(int64(at&^0xfff) + imm)
		found(at, 16, page+uint64((ldr>>10)&0xfff)*8)
		off += 12
	}
}
