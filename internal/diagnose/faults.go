package diagnose

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/coredig/coredig/internal/disasm"
)

func (f *Facts) bus(d *Diagnosis) {
	acc := accesses(f)
	desc := ""
	if len(acc) > 0 {
		a := acc[0]
		d.add("access", "%s", accessText(a.op))
		desc = accessText(a.op)
		if r := regsText(f.Arch, a.op, f.Regs); r != "" {
			d.add("registers", "%s", r)
			desc += "; " + r
		}
	}
	switch f.Code {
	case BUS_ADRALN:
		d.Kind = KindMisaligned
		addr := f.Addr
		if addr == 0 && len(acc) > 0 && acc[0].err == nil {
			// x86 #AC reports no address (arch/x86/kernel/traps.c do_alignment_check).
			addr = acc[0].ea
			d.add("computed_address", "%s", hex(addr))
		}
		align := ""
		if len(acc) > 0 && acc[0].op.Size > 1 {
			align = fmt.Sprintf(", not %d-byte aligned", acc[0].op.Size)
		}
		d.Summary = fmt.Sprintf("Misaligned access%s at %s%s (alignment checking is on: the AC flag, or an instruction that requires alignment)%s.", f.in(), hex(addr), align, semi(desc))
		return
	case BUS_MCEERR_AR, BUS_MCEERR_AO:
		d.Kind = KindHardwareMemory
		where := "memory"
		if m := mappingAt(f.Mappings, f.Addr); m != nil {
			d.add("mapping", "%s", mappingText(m))
			where = "the mapping " + mappingText(m)
		}
		if f.Code == BUS_MCEERR_AR {
			if desc != "" {
				where += " (the instruction " + desc + ")"
			}
			d.Summary = fmt.Sprintf("Hardware memory error%s: the thread used a page the machine reported as corrupt (a machine check, BUS_MCEERR_AR) at %s, in %s. The memory is faulty, not the program: check the machine's EDAC or mcelog records before debugging the code.", f.in(), hex(f.Addr), where)
		} else {
			d.Summary = fmt.Sprintf("Hardware memory error: the kernel found a corrupt page at %s, in %s, before the thread used it (BUS_MCEERR_AO, early kill). The memory is faulty, not the program: check the machine's EDAC or mcelog records.", hex(f.Addr), where)
		}
		return
	case BUS_ADRERR, BUS_OBJERR:
		if m := mappingAt(f.Mappings, f.Addr); m != nil && m.Name != "" && !strings.HasPrefix(m.Name, "[") {
			d.Kind = KindBusErrorMappedFile
			d.add("mapping", "%s", mappingText(m))
			d.add("file", "%s", m.Name)
			d.Summary = fmt.Sprintf("Bus error%s: access at %s in the memory-mapped file %s, beyond the end of the file (it was truncated or shrunk after mmap, or the disk/NFS read failed)%s.", f.in(), hex(f.Addr), m.Name, semi(desc))
			return
		}
	}
	d.Kind = KindBusError
	d.Summary = fmt.Sprintf("Bus error (%s)%s at %s%s.", codeOrNumber(f.Signo, f.Code), f.in(), hex(f.Addr), semi(desc))
}

// trapText names a trap instruction's usual source.
func trapText(mn, text string) string {
	switch mn {
	case "ud2", "udf", "ud1", "ud0":
		return "__builtin_trap(), a Rust panic with panic=abort, or code the compiler marked unreachable"
	case "brk":
		if strings.HasSuffix(text, "#0x3e8") {
			return "__builtin_trap() (brk #0x3e8, as GCC and Clang emit it on aarch64)"
		}
		if strings.HasSuffix(text, "#0xf000") {
			return "a debugger breakpoint (brk #0xf000) or __builtin_debugtrap()"
		}
		return "an explicit brk (Rust, Go and Swift runtimes use brk #1 for panics)"
	case "hlt":
		return "hlt (an explicit stop)"
	case "int3":
		return "a breakpoint (int3) left in the code, or raise(SIGTRAP)/__builtin_debugtrap()"
	}
	return "an explicit trap instruction"
}

func (f *Facts) ill(d *Diagnosis) {
	if f.Inst != nil && f.Inst.IsTrap {
		d.Kind = KindTrap
		d.add("trap_instruction", "%s", f.Inst.Text)
		d.Summary = fmt.Sprintf("Trap instruction %s%s: %s.", f.Inst.Text, f.in(), trapText(f.Inst.Mnemonic, f.Inst.Text))
		return
	}
	d.Kind = KindIllegalInstruction
	switch {
	case f.Inst != nil:
		d.Summary = fmt.Sprintf("Illegal instruction %s%s (%s): the CPU does not support it (e.g. AVX-512 or a newer ISA extension), or it needs privilege.", f.Inst.Text, f.in(), codeOrNumber(f.Signo, f.Code))
	case strings.Contains(f.InstErr, disasm.ErrModeUnknown.Error()):
		// Nothing was decoded: the bytes say nothing either way.
		d.Summary = fmt.Sprintf("Illegal instruction%s (%s); the instruction is not shown: %s.", f.in(), codeOrNumber(f.Signo, f.Code), f.InstErr)
	case f.InstErr != "":
		d.Summary = fmt.Sprintf("Illegal instruction%s (%s): the bytes at the pc do not decode (%s): execution likely went into data or the middle of an instruction.", f.in(), codeOrNumber(f.Signo, f.Code), f.InstErr)
	default:
		d.Summary = fmt.Sprintf("Illegal instruction%s (%s).", f.in(), codeOrNumber(f.Signo, f.Code))
	}
}

func (f *Facts) trap(d *Diagnosis) {
	if f.Inst != nil && f.Inst.IsTrap && f.Inst.Mnemonic != "int" {
		if f.Inst.Mnemonic == "brk" && strings.HasSuffix(f.Inst.Text, "#0x3e8") || f.Inst.Mnemonic == "udf" || f.Inst.Mnemonic == "ud2" {
			d.Kind = KindTrap
		} else {
			d.Kind = KindBreakpoint
		}
		d.add("trap_instruction", "%s", f.Inst.Text)
		d.Summary = fmt.Sprintf("%s %s%s: %s.", map[string]string{KindTrap: "Trap instruction", KindBreakpoint: "Breakpoint"}[d.Kind], f.Inst.Text, f.in(), trapText(f.Inst.Mnemonic, f.Inst.Text))
		return
	}
	// x86 int3 leaves the pc after the instruction.
	if pc, ok := f.reg(f.pcName()); ok && f.Arch != nil && len(f.Arch.BreakpointBefore) > 0 && f.Mem != nil && pc > 0 {
		bp := f.Arch.BreakpointBefore
		at := pc - uint64(len(bp))
		b := make([]byte, len(bp))
		if n, err := f.Mem.ReadAt(b, at); err == nil && n == len(b) && bytes.Equal(b, bp) {
			d.Kind = KindBreakpoint
			d.add("trap_instruction", "int3 at %s", hex(at))
			d.Summary = fmt.Sprintf("Breakpoint int3 at %s%s: %s.", hex(at), f.in(), trapText("int3", "int3"))
			return
		}
	}
	d.Kind = KindBreakpoint
	d.Summary = fmt.Sprintf("Trace/breakpoint trap (%s)%s: a breakpoint, single-step or raise(SIGTRAP) with no debugger attached.", codeOrNumber(f.Signo, f.Code), f.in())
}

func (f *Facts) fpe(d *Diagnosis) {
	if f.Code != FPE_INTDIV && f.Code != FPE_INTOVF {
		d.Kind = KindArithmetic
		d.Summary = fmt.Sprintf("Floating-point exception %s%s (floating-point traps were enabled with feenableexcept).", codeOrNumber(f.Signo, f.Code), f.in())
		return
	}
	d.Kind = KindDivideByZero
	if f.Inst == nil {
		d.Summary = fmt.Sprintf("Integer division by zero%s (%s); the instruction is not available to name the divisor.", f.in(), codeOrNumber(f.Signo, f.Code))
		return
	}
	div := ""
	var val uint64
	known := false
	switch mn := f.Inst.Mnemonic; {
	case (mn == "div" || mn == "idiv") && len(f.Inst.Mem) > 0:
		acc := accesses(f)
		a := acc[0]
		div = fmt.Sprintf("the %d-byte value at %s", a.op.Size, operandText(a.op))
		if a.err == nil && f.Mem != nil && a.op.Size > 0 && a.op.Size <= 8 {
			var b [8]byte
			if n, err := f.Mem.ReadAt(b[:a.op.Size], a.ea); err == nil && n == a.op.Size {
				for i := a.op.Size - 1; i >= 0; i-- {
					val = val<<8 | uint64(b[i])
				}
				known = true
			}
		}
	case (mn == "div" || mn == "idiv") && len(f.Inst.RegArgs) > 0:
		r := f.Inst.RegArgs[len(f.Inst.RegArgs)-1]
		div = r
		full, width := disasm.FullReg(f.Arch, r)
		if v, ok := f.Regs[full]; ok {
			if width < 8 {
				v &= 1<<(8*uint(width)) - 1
			}
			val, known = v, true
		}
	}
	d.add("divisor", "%s", div)
	if known {
		d.add("divisor_value", "%s", hex(val))
	}
	if known && val != 0 && f.Inst.Mnemonic == "idiv" {
		d.Summary = fmt.Sprintf("Integer division overflow%s: %s divides by %s = %s, and the quotient does not fit (the most negative value divided by -1).", f.in(), f.Inst.Text, div, hex(val))
		return
	}
	if div != "" {
		d.Summary = fmt.Sprintf("Integer division by zero%s: %s divides by %s, which is 0.", f.in(), f.Inst.Text, div)
		return
	}
	d.Summary = fmt.Sprintf("Integer division by zero%s at %s.", f.in(), f.Inst.Text)
}

// requiredAlignment is the alignment an x86 instruction demands of its memory operand
// op, 0 when it demands none. Misaligning it raises #GP, not #AC, so Linux sends SIGSEGV
// with SI_KERNEL and no address (Intel SDM vol. 1, 14.9 and 15.7; vol. 2, each
// instruction's "Protected Mode Exceptions"): legacy SSE instructions with a 16-byte
// memory operand, except the unaligned moves; the VEX and EVEX aligned moves (vmovaps,
// vmovdqa, the non-temporal stores), by their operand's size; cmpxchg16b; fxsave and
// fxrstor (16 bytes); the xsave family (64 bytes).
func requiredAlignment(a string, inst *disasm.Inst, op disasm.MemOperand) int {
	if inst == nil || (a != "x86_64" && a != "i386" && a != "x32") {
		return 0
	}
	mn := inst.Mnemonic
	switch mn {
	case "movups", "movupd", "movdqu", "lddqu", "maskmovdqu":
		return 0
	case "cmpxchg16b", "fxsave", "fxrstor", "fxsave64", "fxrstor64":
		return 16
	case "xsave", "xsave64", "xsaveopt", "xsaveopt64", "xsavec", "xsavec64", "xsaves", "xsaves64",
		"xrstor", "xrstor64", "xrstors", "xrstors64":
		return 64
	case "vmovaps", "vmovapd", "vmovdqa", "vmovdqa32", "vmovdqa64", "vmovntps", "vmovntpd", "vmovntdq", "vmovntdqa":
		if op.Size >= 16 {
			return op.Size
		}
		return 0
	}
	if strings.HasPrefix(mn, "v") || op.Size != 16 || op.Implicit {
		return 0
	}
	return 16
}

// alignedGP explains a general protection fault from an instruction that needs an
// aligned operand at a misaligned address; it returns false when that is not the case.
func (f *Facts) alignedGP(d *Diagnosis, a *access) bool {
	if a == nil || a.err != nil || f.Arch == nil {
		return false
	}
	need := requiredAlignment(f.Arch.Name, f.Inst, a.op)
	if need == 0 || a.ea%uint64(need) == 0 {
		return false
	}
	off := a.ea % uint64(need)
	d.Kind = KindMisaligned
	d.add("required_alignment", "%d", need)
	d.add("misaligned_by", "%s", hex(off))
	regs := ""
	if r := regsText(f.Arch, a.op, f.Regs); r != "" && (a.op.Disp != 0 || a.op.Index != "") {
		regs = " (" + r + ")"
	}
	d.Summary = fmt.Sprintf("General protection fault%s: %s needs a %d-byte aligned address, but the instruction %s = %s%s, %d bytes past a %d-byte boundary.", f.in(), f.Inst.Mnemonic, need, accessText(a.op), hex(a.ea), regs, off, need)
	if base := a.op.Base; (base == "rsp" || base == "esp") && a.op.Index == "" && uint64(a.op.Disp)%uint64(need) == 0 {
		sp := f.Regs[base]
		d.add("sp", "%s", hex(sp))
		d.Summary += fmt.Sprintf(" The stack pointer %s is misaligned: the ABI wants it 16-byte aligned at every call, so this function was entered with a misaligned stack (hand-written assembly, a JIT, or a thread or signal entry that skipped the alignment).", hex(sp))
	}
	return true
}

// privilegedInsts are x86 instructions a user-space program may not execute: the
// processor raises #GP and Linux sends SIGSEGV with SI_KERNEL (Intel SDM vol. 3, 2.8:
// the system instructions; in, out and the string forms need ioperm or iopl).
var privilegedInsts = map[string]string{
	"hlt": "halts the processor", "cli": "disables interrupts", "sti": "enables interrupts",
	"in": "reads an I/O port", "out": "writes an I/O port", "insb": "reads an I/O port", "insw": "reads an I/O port",
	"insd": "reads an I/O port", "outsb": "writes an I/O port", "outsw": "writes an I/O port", "outsd": "writes an I/O port",
	"lgdt": "loads the GDT", "lidt": "loads the IDT", "lldt": "loads the LDT", "ltr": "loads the task register",
	"lmsw": "writes CR0", "clts": "writes CR0", "invd": "invalidates caches", "wbinvd": "writes back caches",
	"invlpg": "invalidates a TLB entry", "rdmsr": "reads a model-specific register", "wrmsr": "writes a model-specific register",
	"swapgs": "swaps the GS base", "sysret": "returns from a system call", "sysexit": "returns from a system call",
}

// privileged explains a general protection fault from an instruction user space may
// not execute; it returns false for any other instruction.
func (f *Facts) privileged(d *Diagnosis) bool {
	if f.Inst == nil || f.Arch == nil || (f.Arch.Name != "x86_64" && f.Arch.Name != "i386" && f.Arch.Name != "x32") {
		return false
	}
	mn, why := f.Inst.Mnemonic, ""
	switch {
	case privilegedInsts[mn] != "":
		why = fmt.Sprintf("%s %s, which only the kernel may do", mn, privilegedInsts[mn])
	case mn == "mov" && len(f.Inst.RegArgs) > 0 && slices.ContainsFunc(f.Inst.RegArgs, func(r string) bool {
		return strings.HasPrefix(r, "cr") || strings.HasPrefix(r, "dr")
	}):
		why = "a move to or from a control or debug register is for the kernel only"
	case mn == "int" && f.Inst.HasImm && f.Inst.Imm != 3 && f.Inst.Imm != 0x80 && f.Inst.Imm != 4:
		why = fmt.Sprintf("int $%#x goes through an interrupt gate user space may not use (only int3, into and int $0x80 are open)", f.Inst.Imm)
	default:
		return false
	}
	d.Kind = KindIllegalInstruction
	d.add("privileged_instruction", "%s", f.Inst.Text)
	d.Summary = fmt.Sprintf("General protection fault%s: the instruction %s is privileged: %s.", f.in(), f.Inst.Text, why)
	if mn == "hlt" {
		d.Summary += " glibc executes hlt as its last resort when abort() or _exit() did not end the process; anywhere else the program ran into data or through a corrupted code pointer."
	} else if strings.HasPrefix(mn, "in") && mn != "int" && mn != "invd" && mn != "invlpg" || strings.HasPrefix(mn, "out") {
		d.Summary += " Port I/O needs ioperm(2) or iopl(2) first; a program that never asked for it ran into data or through a corrupted code pointer."
	} else {
		d.Summary += " User space never runs it on purpose: the program ran into data or through a corrupted code pointer."
	}
	return true
}

// controlProtection explains SEGV_CPERR: the processor's control-flow protection stopped
// a return or an indirect branch (x86 CET: arch/x86/kernel/cet.c reports no address;
// arm64 GCS reports the pc).
func (f *Facts) controlProtection(d *Diagnosis) {
	d.Kind = KindControlProtection
	if f.Inst != nil && f.Inst.IsReturn {
		sp, _ := f.reg(f.spName())
		ret, ok := f.readWord(sp)
		to := ""
		if ok {
			d.add("return_address", "%s", hex(ret))
			to = " to " + hex(ret)
			if f.Symbolize != nil {
				if s := f.Symbolize(ret); s != "" {
					to += " (" + s + ")"
				}
			}
		}
		d.Summary = fmt.Sprintf("Control-protection fault%s: the return%s does not match the shadow stack's copy of the return address. The return address on the stack was overwritten (a stack buffer overflow, or a return-oriented exploit), or the stack was switched behind the shadow stack's back (a hand-written longjmp or coroutine switch).", f.in(), to)
		return
	}
	if f.Inst != nil && (f.Inst.IsCall || f.Inst.IsBranch) {
		d.Summary = fmt.Sprintf("Control-protection fault%s: the indirect branch %s went to an instruction that is not a branch target (no endbr64 or bti): a corrupted function pointer, or code built without branch-target marks.", f.in(), f.Inst.Text)
		return
	}
	d.Summary = fmt.Sprintf("Control-protection fault%s: the shadow stack or branch tracking stopped a return or an indirect branch (a corrupted return address or function pointer).", f.in())
}

// tagMismatch explains arm64 memory tagging (MTE) faults: the pointer's tag, its top
// byte's low nibble, differs from the tag of the memory it reaches. Allocators that tag
// memory give freed and neighbouring blocks other tags, so the mismatch is a use after
// free or an overflow. The asynchronous mode reports no address, and the thread has run
// on past the access.
func (f *Facts) tagMismatch(d *Diagnosis) {
	d.Kind = KindTagMismatch
	if f.Code == SEGV_MTEAERR {
		d.Summary = fmt.Sprintf("Memory tag mismatch (MTE, asynchronous)%s: an access before this point used a pointer whose tag does not match its memory's, a use after free or a buffer overflow; the asynchronous mode records neither the address nor the instruction.", f.in())
		return
	}
	tag := f.Addr >> 56 & 0xf
	d.add("pointer_tag", "%#x", tag)
	d.Summary = fmt.Sprintf("Memory tag mismatch (MTE)%s: the access at %s used a pointer tagged %#x, which is not the tag of the memory there: a use after free or a buffer overflow.", f.in(), hex(f.Addr), tag)
}

// failedSigreturn explains the SIGSEGV (SI_KERNEL) the kernel sends when rt_sigreturn, or
// i386's sigreturn, cannot read the signal frame it is to restore the thread from
// (arch/x86/kernel/signal_64.c: badframe, signal_fault, force_sig). The kernel reads the
// frame before it changes any register, so the core shows the thread just after its
// system call instruction, the call's number still in orig_rax (orig_eax), and the sp
// the handler returned with; a frame it read and then rejected (its FPU state) would have
// set orig_rax to -1 and the pc to the frame's. It returns false for any other SI_KERNEL.
func (f *Facts) failedSigreturn(d *Diagnosis) bool {
	if f.Arch == nil || f.Signo != SIGSEGV || f.Arch.Syscall.Sigreturn == nil {
		return false
	}
	sys := &f.Arch.Syscall
	nr, ok := f.reg(sys.Nr)
	if !ok || f.Arch.PtrSize == 4 && nr > 0xffffffff {
		return false
	}
	call, ok := sys.Sigreturn[int(nr)]
	if !ok {
		return false
	}
	pc, _ := f.reg(f.pcName())
	sp, _ := f.reg(f.spName())
	at := "just before the pc"
	if code := make([]byte, len(sys.Inst)); f.Mem != nil && pc >= uint64(len(code)) {
		if n, err := f.Mem.ReadAt(code, pc-uint64(len(code))); err == nil && n == len(code) {
			if !sys.InSyscall(code) {
				return false // the number is stale: the thread is not at a system call's return
			}
			at = "at " + hex(pc-uint64(len(code)))
		}
	}
	frame := sp - call.Below
	var problem string
	switch m := mappingAt(f.Mappings, frame); {
	case len(f.Mappings) == 0:
		problem = "which the kernel could not read"
	case m == nil:
		problem = "which is in no mapping: the stack pointer does not point at a signal frame"
	case !m.Readable():
		problem = fmt.Sprintf("which is in %s, not readable", mappingText(m))
	case m.End-frame < call.Size:
		problem = fmt.Sprintf("whose %d bytes run past the end of %s", call.Size, mappingText(m))
	default:
		problem = fmt.Sprintf("in %s, readable in the core; coredig cannot tell why the kernel could not read it", mappingText(m))
	}
	d.Kind = KindFailedSigreturn
	d.add("sigreturn_call", "%s (%s = %d), the system call instruction %s", call.Name, sys.Nr, nr, at)
	d.add("signal_frame", "%s (%s %s - %#x)", hex(frame), f.spName(), hex(sp), call.Below)
	d.Summary = fmt.Sprintf("The thread%s called %s, the return from a signal handler, and the kernel killed it with SIGSEGV (SI_KERNEL): the signal frame it had to restore the thread from is at %s, %s. "+
		"The handler returned on a stack other than the one the signal was delivered on: it switched stacks (a coroutine or green-thread switch, a longjmp into a handler's frame), its stack pointer was overwritten, or %s was called by hand on a forged frame (sigreturn-oriented programming).",
		f.in(), call.Name, hex(frame), problem, call.Name)
	return true
}

// segmentRegs are the x86 segment registers a mov can load.
var segmentRegs = map[string]bool{"ds": true, "es": true, "fs": true, "gs": true, "ss": true}

// segmentLoad explains a general protection fault on a mov into a segment register: the
// processor checks the selector against its descriptor table as it loads it, and a
// selector past the table's end, of another privilege level or naming a descriptor the
// register may not hold raises #GP. Linux programs keep the selectors the kernel gave
// them; loading another is a corrupted value or code that was never meant to run.
func (f *Facts) segmentLoad(d *Diagnosis) bool {
	if f.Inst == nil || f.Arch == nil || (f.Arch.Name != "x86_64" && f.Arch.Name != "i386") ||
		f.Inst.Mnemonic != "mov" || len(f.Inst.RegArgs) == 0 || !segmentRegs[f.Inst.RegArgs[0]] {
		return false
	}
	seg := f.Inst.RegArgs[0]
	d.Kind = KindGeneralProtection
	selector, from := uint64(0), ""
	if len(f.Inst.RegArgs) > 1 {
		if p, ok := f.Arch.Part(f.Inst.RegArgs[1]); ok {
			if v, ok := f.reg(p.Reg); ok {
				selector, from = v>>(8*p.Off)&0xffff, fmt.Sprintf(" (the low 16 bits of %s)", f.Inst.RegArgs[1])
			}
		}
	}
	if from == "" {
		d.Summary = fmt.Sprintf("General protection fault%s: the instruction %s loads the segment register %s, and the processor rejected the selector. Linux programs keep the selectors the kernel gave them: loading another is a corrupted value, or code that was never meant to run.", f.in(), f.Inst.Text, seg)
		return true
	}
	table := "GDT"
	if selector&4 != 0 {
		table = "LDT"
	}
	d.add("segment_selector", "%#x: %s index %d, requested privilege level %d", selector, table, selector>>3, selector&3)
	var why string
	switch {
	case seg == "ss" && selector&^3 == 0:
		why = "ss may not hold the null selector"
	case seg == "ss" && selector&3 != 3:
		why = fmt.Sprintf("ss needs the requested privilege level of user mode, 3, not %d", selector&3)
	case selector&4 != 0:
		why = "it points into the local descriptor table, which a Linux process has only after modify_ldt(2), and then only at the entries it set"
	default:
		why = fmt.Sprintf("GDT entry %d is not a segment user code may load into %s", selector>>3, seg)
	}
	d.Summary = fmt.Sprintf("General protection fault%s: the instruction %s loads the segment register %s with the selector %#x%s, and the processor rejected it: %s. Linux programs keep the selectors the kernel gave them: loading another is a corrupted value, or code that was never meant to run.",
		f.in(), f.Inst.Text, seg, selector, from, why)
	return true
}
