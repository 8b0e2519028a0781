package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// RISCV64 is 64-bit RISC-V (RV64GC, the LP64D ABI Linux distributions use). pr_reg is
// struct user_regs_struct (arch/riscv/include/uapi/asm/ptrace.h): pc, then x1..x31 by
// their ABI names (ra, sp, gp, tp, t0-t2, s0, s1, a0-a7, s2-s11, t3-t6); x0 is
// hard-wired to zero and has no slot. DWARF numbers are from the RISC-V ELF psABI
// ("DWARF Register Numbers"): x0-x31 are 0-31, f0-f31 32-63; GCC's CFI keeps the return
// address in column 1 (ra).
var RISCV64 = func() *Arch {
	names := []string{"pc", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1"}
	for i := 0; i <= 7; i++ {
		names = append(names, fmt.Sprintf("a%d", i))
	}
	for i := 2; i <= 11; i++ {
		names = append(names, fmt.Sprintf("s%d", i))
	}
	names = append(names, "t3", "t4", "t5", "t6")
	display := []string{"pc", "sp", "ra", "s0"}
	for _, n := range names {
		if n != "pc" && n != "sp" && n != "ra" && n != "s0" {
			display = append(display, n)
		}
	}
	extras := riscvFPRegs()
	display = append(display, "fcsr")
	for _, r := range extras[:32] {
		display = append(display, r.Name)
	}
	a := &Arch{
		Name:        "riscv64",
		GOARCH:      "riscv64",
		Machine:     elf.EM_RISCV,
		Class:       elf.ELFCLASS64,
		ByteOrder:   binary.LittleEndian,
		PtrSize:     8,
		RegNames:    names,
		DisplayRegs: display,
		ExtraRegs:   extras,
		DWARFRA:     1,
		// struct elf_prstatus with 64-bit longs (include/uapi/linux/elfcore.h): the same
		// 112-byte head as x86_64, pr_reg (ELF_NGREG 32 * 8) at 112, pr_fpvalid at 368,
		// padded to 8: 376 bytes.
		PrStatus: PrStatusLayout{Size: 376, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 32 * 8, FPValid: 368},
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		// riscv_user_regsets (arch/riscv/kernel/ptrace.c): the F/D state, struct
		// __riscv_d_ext_state (f[32] as 64-bit values and fcsr: 264 bytes with padding).
		// The vector state (NT_RISCV_VECTOR) follows only when the task uses V.
		CoreRegSets: []RegSetNote{
			{Type: 2, Name: "NT_PRFPREG", MaxSize: 264, FP: true},
		},
		GoPanicPush: 8, // runtime/signal_riscv64.go: goarch.PtrSize
		PageSize:    4096,
		// InstLen 0: with the C extension (every Linux distribution's baseline)
		// instructions are 2 or 4 bytes (RISC-V unprivileged ISA §1.5).
		//
		// psABI "Integer Calling Convention": arguments in a0-a7, the result in a0;
		// s0-s11 and sp are preserved across calls, and gp and tp are not allocatable;
		// the stack is 16-byte aligned; there is no red zone.
		HWCap:  riscvHWCap,
		HWCap2: nil,
		ABI: ABI{
			Args:   []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"},
			Return: "a0",
			CalleeSaved: []string{"sp", "gp", "tp", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7",
				"s8", "s9", "s10", "s11"},
			StackAlign: 16,
		},
		CallBefore: riscv64CallBefore,
		Signals: []SignalLayout{{
			// __vdso_rt_sigreturn (arch/riscv/kernel/vdso/rt_sigreturn.S): li a7, 139
			// (__NR_rt_sigreturn); ecall. qemu-user writes the same two instructions
			// (linux-user/riscv/signal.c setup_sigtramp).
			Trampoline: []byte{0x93, 0x08, 0xb0, 0x08, 0x73, 0x00, 0x00, 0x00},
			// At the trampoline sp points at struct rt_sigframe (arch/riscv/kernel/
			// signal.c): struct siginfo (128 bytes), then struct ucontext
			// (arch/riscv/include/uapi/asm/ucontext.h): uc_flags (8), uc_link (8),
			// uc_stack (24), uc_sigmask (8), __unused (120), uc_mcontext (struct
			// sigcontext, 16-byte aligned by its FP union, at 176): sc_regs, a struct
			// user_regs_struct in pr_reg order. The context saves no fault address
			// (stval is not in it), so only siginfo tells the fault.
			SigInfo: 0,
			Context: 128 + 176,
			Regs:    riscv64SigcontextRegs(names),
		}},
		Syscall: riscv64Syscall,
		Pthread: arm64Pthread, // glibc's generic 64-bit layouts, TLS_DTV_AT_TP as aarch64
		PLT: PLTLayout{Stubs: riscv64PLTStubs,
			GOTRelocs: []uint32{uint32(elf.R_RISCV_JUMP_SLOT), uint32(elf.R_RISCV_64)}},
	}
	// s0 is the frame pointer (psABI: "s0/fp"). GCC points it at the CFA and saves ra at
	// -8 and the caller's s0 at -16 from it (riscv_expand_prologue, and the psABI's
	// "Frame Pointer Convention"), so the frame record sits 16 bytes below.
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("pc"), a.Reg("sp"), a.Reg("s0"), a.Reg("ra"), a.Reg("tp")
	a.FrameRecord = -16
	m := map[int]string{}
	for i := 1; i < len(names); i++ {
		m[i] = names[i] // DWARF i is x i, which is pr_reg slot i
	}
	// "fp" is the assembler's other name for s0 (gdb prints it); the x-names are the
	// architectural ones.
	sub := map[string]RegPart{"fp": {Reg: "s0", Width: 8}}
	for i := 1; i < len(names); i++ {
		sub[fmt.Sprintf("x%d", i)] = RegPart{Reg: names[i], Width: 8}
	}
	return a.finish(m, sub)
}()

// riscv64SigcontextRegs: sc_regs is a struct user_regs_struct, pr_reg's order.
func riscv64SigcontextRegs(names []string) []SavedReg {
	out := make([]SavedReg, 0, len(names))
	for i, n := range names {
		out = append(out, SavedReg{Name: n, Off: 8 * i, Size: 8})
	}
	return out
}

// riscv64CallBefore recognises the instructions that write the return address to ra
// (RISC-V unprivileged ISA §2.5 and §16.4): jal ra (the "call" and "jal" of a direct
// call), jalr ra (the second half of auipc+jalr, and indirect calls) and c.jalr.
func riscv64CallBefore(code []byte) bool {
	n := len(code)
	if n >= 4 {
		i := binary.LittleEndian.Uint32(code[n-4:])
		if i&0xfff == 0x0ef || i&0x7fff == 0x0e7 { // jal ra, imm / jalr ra, imm(rs1)
			return true
		}
	}
	if n >= 2 {
		h := binary.LittleEndian.Uint16(code[n-2:])
		if h&0xf07f == 0x9002 && h&0x0f80 != 0 { // c.jalr rs1 (rs1 != 0; rs1 == 0 is c.ebreak)
			return true
		}
	}
	return false
}

// riscv64PLTStubs finds the 16-byte stubs the psABI's PLT holds after its 32-byte
// header ("Procedure Linkage Table"): auipc t3, %pcrel_hi(slot); ld t3, %pcrel_lo(t3);
// jalr t1, t3; nop. The slot is the auipc's address plus both offsets.
func riscv64PLTStubs(_ string, _ uint64, b []byte, addr, _ uint64, found func(stub, size, slot uint64)) {
	for off := 0; off+16 <= len(b); off += 4 {
		auipc := binary.LittleEndian.Uint32(b[off:])
		ld := binary.LittleEndian.Uint32(b[off+4:])
		if auipc&0xfff != 0xe17 || ld&0xfffff != 0xe3e03 { // auipc t3 / ld t3, imm(t3)
			continue
		}
		at := addr + uint64(off)
		hi := int64(int32(auipc & 0xfffff000))
		lo := int64(int32(ld) >> 20)
		found(at, 16, uint64(int64(at)+hi+lo))
		off += 12
	}
}

// riscv64Syscall: "ecall" is 00000073; the number is in a7, the arguments in a0..a5 and
// the result in a0 (syscall(2)). riscv64 uses the asm-generic numbers, as aarch64 does.
var riscv64Syscall = SyscallABI{Inst: []byte{0x73, 0x00, 0x00, 0x00}, Nr: "a7",
	Args: []string{"a0", "a1", "a2", "a3", "a4", "a5"}, Ret: "a0", Names: arm64Syscalls}

// riscvFPRegs are the registers of NT_PRFPREG, struct __riscv_d_ext_state
// (arch/riscv/include/uapi/asm/ptrace.h: f[32] as 64-bit values, then fcsr), f0-f31 by
// their psABI names as gdb shows them (ft0-ft7, fs0-fs1, fa0-fa7, fs2-fs11, ft8-ft11),
// then fcsr.
func riscvFPRegs() []ExtraReg {
	var names []string
	for i := 0; i <= 7; i++ {
		names = append(names, fmt.Sprintf("ft%d", i))
	}
	names = append(names, "fs0", "fs1")
	for i := 0; i <= 7; i++ {
		names = append(names, fmt.Sprintf("fa%d", i))
	}
	for i := 2; i <= 11; i++ {
		names = append(names, fmt.Sprintf("fs%d", i))
	}
	for i := 8; i <= 11; i++ {
		names = append(names, fmt.Sprintf("ft%d", i))
	}
	out := make([]ExtraReg, 0, 33)
	for i, n := range names {
		out = append(out, extra(n, 2, 8*i, 8))
	}
	return append(out, extra("fcsr", 2, 256, 4))
}
