package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// ARM is 32-bit ARM with the EABI (armel and armhf: the core layouts do not depend on the
// float ABI). pr_reg is struct user_regs (arch/arm/include/asm/user.h): r0-r15, cpsr,
// orig_r0. DWARF numbers are from the ARM DWARF ABI (aadwarf32): r0-r15 are 0-15, and
// CFI's return address column is 14 (lr).
var ARM = func() *Arch {
	names := make([]string, 0, 18)
	for i := 0; i <= 15; i++ {
		names = append(names, fmt.Sprintf("r%d", i))
	}
	names = append(names, "cpsr", "orig_r0")
	display := []string{"r15", "r13", "r14", "r11", "r7"}
	for i := 0; i <= 12; i++ {
		if i != 7 && i != 11 {
			display = append(display, fmt.Sprintf("r%d", i))
		}
	}
	display = append(display, "cpsr", "orig_r0", "fpscr")
	// NT_ARM_VFP (arch/arm/kernel/ptrace.c vfp_get: struct user_vfp of
	// arch/arm/include/asm/user.h): d0-d31 (8 bytes each), then fpscr (4), with gdb's
	// names. The FPA emulator's NT_PRFPREG (struct user_fp) is not read.
	var extras []ExtraReg
	// d16-d31 exist only on a CPU with HWCAP_VFPD32 (1<<19,
	// arch/arm/include/uapi/asm/hwcap.h).
	for i := 0; i < 32; i++ {
		r := extra(fmt.Sprintf("d%d", i), 0x400, 8*i, 8)
		if i >= 16 {
			r.HWCap = 1 << 19
		}
		extras = append(extras, r)
		display = append(display, fmt.Sprintf("d%d", i))
	}
	extras = append(extras, extra("fpscr", 0x400, 256, 4))
	a := &Arch{
		Name:        "arm",
		GOARCH:      "arm",
		Machine:     elf.EM_ARM,
		Class:       elf.ELFCLASS32,
		ByteOrder:   binary.LittleEndian,
		PtrSize:     4,
		RegNames:    names,
		DisplayRegs: display,
		ExtraRegs:   extras,
		DWARFRA:     14,
		// struct elf_prstatus with 32-bit longs, as on i386: pr_reg (18*4) at 72,
		// pr_fpvalid at 144: 148 bytes.
		PrStatus: PrStatusLayout{Size: 148, CurSig: 12, SigPend: 16, SigHold: 20, PID: 24,
			TimevalLen: 8, Regs: 72, RegsSize: 18 * 4, FPValid: 144},
		// struct elf_prpsinfo with 16-bit uids (arch/arm/include/uapi/asm/posix_types.h),
		// as on i386: 124 bytes.
		PrPsInfo: PrPsInfoLayout{Size: 124, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 4,
			UID: 8, UIDSize: 2, GID: 10, PID: 12, FName: 28, PsArgs: 44},
		GoPanicPush: 4, // runtime/signal_arm.go
		PageSize:    4096,
		// AAPCS §6.1: arguments in r0-r3, the result in r0; r4-r11 and sp keep their
		// values; no red zone; 8-byte stack alignment at public interfaces.
		HWCap:  armHWCap,
		HWCap2: armHWCap2,
		ABI: ABI{
			Args:        []string{"r0", "r1", "r2", "r3"},
			Return:      "r0",
			CalleeSaved: []string{"r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r13"},
			StackAlign:  8,
		},
		CallBefore:   armCallBefore,
		ReadPrologue: armPrologue,
		ModeBit:      1,
		Signals: append([]SignalLayout{{
			// glibc's __default_rt_sa_restorer (Thumb-2: mov.w r7, #173; svc 0), for a
			// handler with SA_SIGINFO. At it sp points at struct rt_sigframe
			// (arch/arm/kernel/signal.c): struct siginfo (128), then struct sigframe:
			// struct ucontext with uc_mcontext (struct sigcontext) after uc_flags,
			// uc_link and uc_stack (20 bytes).
			Trampoline: []byte{0x4f, 0xf0, 0xad, 0x07, 0x00, 0xdf},
			SigInfo:    0,
			Context:    128 + 20,
			Regs:       armSigcontextRegs(),
			Fault:      armFault,
		}, {
			// glibc's __default_sa_restorer (mov.w r7, #119; svc 0): struct sigframe,
			// no siginfo.
			Trampoline: []byte{0x4f, 0xf0, 0x77, 0x07, 0x00, 0xdf},
			NoSigInfo:  true,
			Context:    20,
			Regs:       armSigcontextRegs(),
			Fault:      armFault,
		}}, armKernelReturnCodes()...),
	}
	// The frame pointer is r11 in ARM code and r7 in Thumb code, with records laid out
	// differently by each compiler: no frame-pointer unwinding.
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("r15"), a.Reg("r13"), -1, a.Reg("r14"), -1
	m := map[int]string{}
	for i := 0; i <= 15; i++ {
		m[i] = fmt.Sprintf("r%d", i)
	}
	return a.finish(m, nil)
}()

// armCallBefore recognises, before a return address, the A32 BL and BLX (immediate and
// register) and the T32 BL, BLX (immediate) and 16-bit BLX (register) instructions (Arm
// ARM for A-profile, A32/T32 instruction sets).
func armCallBefore(code []byte) bool {
	n := len(code)
	if n >= 4 {
		i := binary.LittleEndian.Uint32(code[n-4:])
		if i&0x0f000000 == 0x0b000000 && i>>28 != 0xf || i&0xfe000000 == 0xfa000000 || i&0x0ffffff0 == 0x012fff30 {
			return true // A32 BL, BLX (immediate), BLX (register)
		}
		hw1 := binary.LittleEndian.Uint16(code[n-4:])
		hw2 := binary.LittleEndian.Uint16(code[n-2:])
		if hw1&0xf800 == 0xf000 && (hw2&0xd000 == 0xd000 || hw2&0xd001 == 0xc000) {
			return true // T32 BL, BLX (immediate)
		}
	}
	if n >= 2 && binary.LittleEndian.Uint16(code[n-2:])&0xff87 == 0x4780 {
		return true // T16 BLX (register)
	}
	return false
}

// armSigcontextRegs is struct sigcontext (arch/arm/include/uapi/asm/sigcontext.h):
// trap_no, error_code, oldmask, then arm_r0 .. arm_r10, arm_fp, arm_ip, arm_sp, arm_lr,
// arm_pc, arm_cpsr, fault_address, 4 bytes each.
func armSigcontextRegs() []SavedReg {
	out := make([]SavedReg, 0, 17)
	for i := 0; i <= 15; i++ {
		out = append(out, SavedReg{Name: fmt.Sprintf("r%d", i), Off: 12 + 4*i, Size: 4})
	}
	return append(out, SavedReg{Name: "cpsr", Off: 76, Size: 4})
}

// armFault reconstructs a SIGSEGV from struct sigcontext's fault_address (at 80); the
// code is inferred from whether the address is mapped, as on aarch64 without ESR.
func armFault(read ReadFunc, ctx uint64, signo int, mapped func(uint64) bool) (ContextFault, bool) {
	if signo != 11 {
		return ContextFault{}, false
	}
	var b [4]byte
	if err := read(b[:], ctx+80); err != nil {
		return ContextFault{}, false
	}
	addr := uint64(binary.LittleEndian.Uint32(b[:]))
	f := ContextFault{Signo: 11, Code: 1, Addr: addr, HasAddr: true, Source: "fault_address"}
	if mapped != nil && mapped(addr) {
		f.Code = 2
	}
	return f, true
}

// armKernelReturnCodes are the rt_sigreturn and sigreturn trampolines a handler installed
// without SA_RESTORER returns to (Go's runtime installs its handlers so), and glibc's
// A32 restorers. Each is "mov r7, #NR; svc #imm" in A32, or "movs r7, #NR; svc 0" in
// Thumb. The svc immediate differs: 0 in glibc's restorers, NR|0x900000 in a 32-bit ARM
// kernel's vectors page (arch/arm/kernel/sigreturn_codes.S, which qemu-arm copies), NR
// in an arm64 kernel's compat page (arch/arm64/kernel/sigreturn32.S).
func armKernelReturnCodes() []SignalLayout {
	var out []SignalLayout
	for _, call := range []struct {
		nr      byte
		rt      bool
		context uint64
	}{{173, true, 128 + 20}, {119, false, 20}} {
		mov := []byte{call.nr, 0x70, 0xa0, 0xe3} // mov r7, #nr
		for _, svc := range [][]byte{
			{0x00, 0x00, 0x00, 0xef},    // svc #0
			{call.nr, 0x00, 0x90, 0xef}, // svc #(0x900000|nr)
			{call.nr, 0x00, 0x00, 0xef}, // svc #nr
		} {
			out = append(out, SignalLayout{Trampoline: append(append([]byte{}, mov...), svc...), NoSigInfo: !call.rt,
				Context: call.context, Regs: armSigcontextRegs(), Fault: armFault})
		}
		// Thumb: movs r7, #nr; svc 0.
		out = append(out, SignalLayout{Trampoline: []byte{call.nr, 0x27, 0x00, 0xdf}, NoSigInfo: !call.rt,
			Context: call.context, Regs: armSigcontextRegs(), Fault: armFault})
	}
	return out
}
