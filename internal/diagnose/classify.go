package diagnose

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/coredig/coredig/internal/disasm"
)

// nullLimit is the end of the never-mappable low region: vm.mmap_min_addr defaults to
// 65536 on Debian, Ubuntu and Fedora kernels (security/Kconfig DEFAULT_MMAP_MIN_ADDR).
const nullLimit = 0x10000

// guardGap is how far below a stack mapping a fault still counts as overflowing it: the
// kernel's stack_guard_gap (256 pages, mm/mmap.c) plus one page of slack for the access
// size of a large frame.
const guardGap = 256*4096 + 64*1024

// Classify classifies the crash described by f (rules are not matched; see Diagnose).
func Classify(f *Facts) Diagnosis {
	if f == nil || f.Signo == 0 {
		return Diagnosis{Kind: KindUnknown, Summary: "The core carries no signal information, so the cause of death is unknown."}
	}
	return classify(f, 0)
}

func classify(f *Facts, depth int) Diagnosis {
	var d Diagnosis
	d.add("signal", "%s (%d)", SignalName(f.Signo), f.Signo)
	if cn := CodeName(f.Signo, f.Code); cn != "" {
		d.add("code", "%s (%d)", cn, f.Code)
	} else {
		d.add("code", "%d", f.Code)
	}
	if f.HasAddr && faultCode(f.Signo, f.Code) {
		d.add("fault_address", "%s", hex(f.Addr))
	}
	if pc, ok := f.reg(f.pcName()); ok {
		d.add("pc", "%s", hex(pc))
	}
	if fn := f.where(); fn != "" {
		d.add("function", "%s", fn)
	}
	// The instruction matters when it caused the signal; a signal sent with kill or
	// tkill arrives wherever the thread was (abort's is just after the tgkill call).
	// Without NT_SIGINFO only a signal an instruction can raise may have come from it.
	if f.NoSigInfo && faultCode(f.Signo, 1) || faultCode(f.Signo, f.Code) || f.Code == SI_KERNEL {
		if f.Inst != nil {
			d.add("instruction", "%s", f.Inst.Text)
		} else if f.InstErr != "" {
			d.add("instruction", "unavailable: %s", f.InstErr)
		}
	}

	if f.NoSigInfo {
		d.add("code", "unknown (the core has no NT_SIGINFO)")
	} else if killCode(f.Code) || !faultCode(f.Signo, f.Code) && f.Code != SI_KERNEL {
		self := f.HasSender && f.PID != 0 && f.SenderPID == f.PID || !f.HasSender && f.Code == SI_TKILL
		if f.HasSender {
			d.add("sender_pid", "%d", f.SenderPID)
			d.add("sender_uid", "%d", f.SenderUID)
		}
		if f.Signo == SIGABRT && (self || !f.HasSender) {
			f.abort(&d)
			return d
		}
		if self {
			if f.Original != nil && depth == 0 {
				return f.reraised(d)
			}
			by := f.handler()
			d.Kind = KindReraised
			if by != "" {
				d.add("reraised_by", "%s", by)
				d.Summary = fmt.Sprintf("%s was raised by the process itself (%s) from %s; the original fault's context was not recovered, so its cause is not known.", SignalName(f.Signo), CodeName(f.Signo, f.Code), by)
			} else {
				d.Summary = fmt.Sprintf("%s was raised by the process itself (%s%s); no original fault context was found.", SignalName(f.Signo), CodeName(f.Signo, f.Code), f.in())
			}
			return d
		}
		if f.HasSender || killCode(f.Code) {
			d.Kind = KindKilledBySignal
			via := map[int]string{SI_USER: "kill()", SI_TKILL: "tgkill()", SI_QUEUE: "sigqueue()"}[f.Code]
			if f.HasSender {
				d.Summary = fmt.Sprintf("Killed by %s sent with %s by another process: pid %d, uid %d; the program did not fault.", SignalName(f.Signo), via, f.SenderPID, f.SenderUID)
			} else {
				d.Summary = fmt.Sprintf("Killed by %s sent with %s by another process; the program did not fault.", SignalName(f.Signo), via)
			}
			return d
		}
	}

	switch f.Signo {
	case SIGSEGV:
		f.segv(&d)
	case SIGBUS:
		f.bus(&d)
	case SIGILL:
		f.ill(&d)
	case SIGTRAP:
		f.trap(&d)
	case SIGFPE:
		f.fpe(&d)
	case SIGABRT:
		f.abort(&d)
	default:
		d.Kind = KindUnknown
		d.Summary = fmt.Sprintf("The process died of %s (%s)%s; it is not a memory or instruction fault coredig classifies.", SignalName(f.Signo), codeOrNumber(f.Signo, f.Code), f.in())
	}
	return d
}

func codeOrNumber(signo, code int) string {
	if n := CodeName(signo, code); n != "" {
		return n
	}
	return fmt.Sprintf("si_code %d", code)
}

func (f *Facts) pcName() string {
	if f.Arch != nil && f.Arch.PC >= 0 && f.Arch.PC < len(f.Arch.RegNames) {
		return f.Arch.RegNames[f.Arch.PC]
	}
	if _, ok := f.Regs["rip"]; ok {
		return "rip"
	}
	return "pc"
}

func (f *Facts) spName() string {
	if f.Arch != nil && f.Arch.SP >= 0 && f.Arch.SP < len(f.Arch.RegNames) {
		return f.Arch.RegNames[f.Arch.SP]
	}
	if _, ok := f.Regs["rsp"]; ok {
		return "rsp"
	}
	return "sp"
}

func (f *Facts) reg(name string) (uint64, bool) {
	v, ok := f.Regs[name]
	return v, ok
}

// where names the crashing function: the innermost frame, else the symbolized pc.
func (f *Facts) where() string {
	if len(f.Functions) > 0 && f.Functions[0] != "" {
		return f.Functions[0]
	}
	if pc, ok := f.reg(f.pcName()); ok && f.Symbolize != nil {
		return f.Symbolize(pc)
	}
	return ""
}

// in is " in NAME" or "".
func (f *Facts) in() string {
	if w := f.where(); w != "" {
		return " in " + w
	}
	return ""
}

func (f *Facts) readWord(addr uint64) (uint64, bool) {
	if f.Mem == nil {
		return 0, false
	}
	if f.Arch != nil {
		b := make([]byte, f.Arch.PtrSize)
		if n, err := f.Mem.ReadAt(b, addr); err != nil || n != len(b) {
			return 0, false
		}
		return f.Arch.Word(b), true
	}
	var b [8]byte
	n, err := f.Mem.ReadAt(b[:], addr)
	if err != nil || n != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b[:]), true
}

// handler names the crash handler that re-raised a signal, from the stack.
func (f *Facts) handler() string {
	if f.ReraisedBy != "" {
		return f.ReraisedBy
	}
	for i, fn := range f.Functions {
		if i >= 64 {
			break
		}
		switch {
		case strings.HasPrefix(fn, "faulthandler_"):
			return "faulthandler"
		case strings.HasPrefix(fn, "runtime.raise"), fn == "runtime.dieFromSignal", fn == "runtime.crash":
			return "the Go runtime"
		case strings.Contains(strings.ToLower(fn), "crashpad"), strings.Contains(strings.ToLower(fn), "breakpad"):
			return "a crash reporter (" + fn + ")"
		}
	}
	if f.PythonFaulthandler != nil && *f.PythonFaulthandler && (f.Signo == SIGSEGV || f.Signo == SIGBUS ||
		f.Signo == SIGFPE || f.Signo == SIGILL || f.Signo == SIGABRT) {
		return "faulthandler"
	}
	return ""
}

// reraised diagnoses the original fault and says who re-raised it.
func (f *Facts) reraised(outer Diagnosis) Diagnosis {
	o := *f.Original
	if o.Arch == nil {
		o.Arch = f.Arch
	}
	if o.PID == 0 {
		o.PID = f.PID
	}
	if o.Mem == nil {
		o.Mem = f.Mem
	}
	if o.Symbolize == nil {
		o.Symbolize = f.Symbolize
	}
	if o.PythonFinalizing == nil {
		o.PythonFinalizing = f.PythonFinalizing
	}
	if len(o.Mappings) == 0 {
		o.Mappings = f.Mappings
	}
	if len(o.Modules) == 0 {
		o.Modules = f.Modules
	}
	if len(o.Functions) == 0 {
		o.Functions = afterSignalFrame(f.Functions)
	}
	d := classify(&o, 1)
	by := f.handler()
	if by == "" {
		by = "a signal handler"
	}
	d.add("reraised_by", "%s", by)
	d.add("reraised_signal", "%s (%s)", SignalName(f.Signo), CodeName(f.Signo, f.Code))
	d.Summary = strings.TrimSuffix(d.Summary, ".") + fmt.Sprintf("; %s then re-raised it with %s.", by, SignalName(f.Signo))
	return d
}

// afterSignalFrame returns the frames interrupted by the signal: those after the
// kernel's signal trampoline.
func afterSignalFrame(fns []string) []string {
	for i, fn := range fns {
		if i >= 256 {
			break
		}
		switch fn {
		case "__restore_rt", "__kernel_rt_sigreturn", "<signal handler called>":
			return fns[i+1:]
		}
	}
	return nil
}

func (f *Facts) segv(d *Diagnosis) {
	switch f.Code {
	case SEGV_CPERR:
		f.controlProtection(d)
		return
	case SEGV_MTESERR, SEGV_MTEAERR:
		f.tagMismatch(d)
		return
	}
	pc, havePC := f.reg(f.pcName())
	acc := accesses(f)
	if !f.HasAddr && f.NoSigInfo && len(acc) > 0 && acc[0].err == nil {
		// Without siginfo the faulting address is the operand's: say it was inferred.
		if m := mappingAt(f.Mappings, pc); havePC && m != nil && m.Executable() {
			g := *f
			g.Addr, g.HasAddr, g.addrInferred = acc[0].ea, true, true
			d.add("fault_address", "%s", hex(g.Addr))
			d.add("fault_address_source", "computed from the instruction (no NT_SIGINFO)")
			g.segv(d)
			return
		}
	}
	var a *access
	if len(acc) > 0 {
		a = &acc[0]
	}
	describe := func() string { // "reads 8 bytes at rax+0x60; rax = 0x0"
		if a == nil {
			return ""
		}
		s := accessText(a.op)
		if r := regsText(f.Arch, a.op, f.Regs); r != "" {
			s += "; " + r
		}
		return s
	}
	if a != nil {
		d.add("access", "%s", accessText(a.op))
		if r := regsText(f.Arch, a.op, f.Regs); r != "" {
			d.add("registers", "%s", r)
		}
		if a.err == nil {
			d.add("computed_address", "%s", hex(a.ea))
			if f.HasAddr && !f.addrInferred {
				d.add("matches_fault_address", "%t", a.matches)
			}
		} else {
			d.add("computed_address", "unavailable: %v", a.err)
		}
	}

	// Execution outside executable memory: the pc itself faulted.
	if havePC {
		m := mappingAt(f.Mappings, pc)
		if (m == nil || !m.Executable()) && (len(f.Mappings) > 0 || pc < nullLimit) && (!f.HasAddr || f.Addr == pc || m == nil) {
			f.execFault(d, pc, m)
			return
		}
	}

	// x86 general protection: SI_KERNEL with no address (arch/x86/kernel/traps.c).
	if f.Code == SI_KERNEL {
		if f.failedSigreturn(d) || f.rseqFault(d, a) {
			return
		}
		d.Kind = KindNonCanonical
		if a != nil && a.err == nil && f.Arch != nil && !f.Arch.Canonical(a.ea) {
			d.add("non_canonical_address", "%s", hex(a.ea))
			d.Summary = fmt.Sprintf("General protection fault%s: the instruction %s, and %s is a non-canonical address (a corrupted, uninitialised or freed pointer).", f.in(), describe(), hex(a.ea))
			return
		}
		if f.deliveryOverflow(d, a) {
			return
		}
		if f.alignedGP(d, a) || f.privileged(d) || f.segmentLoad(d) {
			return
		}
		if a != nil && a.err == nil && f.Arch != nil && mappingAt(f.Mappings, a.ea) != nil {
			// The address is canonical and mapped: not a bad pointer.
			d.Kind = KindGeneralProtection
			d.Summary = fmt.Sprintf("General protection fault%s (the kernel gives no fault address): the instruction %s, and %s is a canonical, mapped address, so the processor rejected something else: a segment, a privileged or I/O instruction, or, when the thread was returning from the kernel, its saved context.", f.in(), describe(), hex(a.ea))
		} else if a != nil {
			d.Summary = fmt.Sprintf("General protection fault%s (the kernel gives no fault address): the instruction %s; a non-canonical pointer is the usual cause.", f.in(), describe())
		} else if f.Inst != nil {
			d.Kind = KindGeneralProtection
			d.Summary = fmt.Sprintf("General protection fault%s (the kernel gives no fault address): the instruction %s accesses no memory coredig can compute, so the cause is not known.", f.in(), f.Inst.Text)
		} else {
			d.Summary = fmt.Sprintf("General protection fault%s (the kernel gives no fault address): most often a non-canonical pointer (corrupted or freed); the faulting instruction is not available to check.", f.in())
		}
		return
	}
	if !f.HasAddr {
		if f.NoSigInfo && f.spOverflow(d) {
			return
		}
		d.Kind = KindWildPointer
		d.Summary = fmt.Sprintf("Segmentation fault%s with no fault address recorded.", f.in())
		return
	}
	addr := f.Addr
	if f.stackOverflow(d, addr, false) {
		return
	}
	target := mappingAt(f.Mappings, addr)
	if addr < nullLimit && target == nil {
		d.Kind = KindNullPointer
		if a != nil && a.err == nil && a.matches && a.op.Base != "" {
			base, _ := disasm.EffectiveAddr(f.Arch, disasm.MemOperand{Base: a.op.Base, PCValue: a.op.PCValue, AddrSize: 64}, regFunc(f.Regs))
			if base == 0 {
				off := addr
				d.add("null_register", "%s", a.op.Base)
				d.add("field_offset", "%s", hex(off))
				d.Summary = fmt.Sprintf("NULL pointer dereference%s: the instruction %s, so it touched the field at offset %s of a struct whose pointer %s is NULL.", f.in(), describe(), hex(off), a.op.Base)
				return
			}
		}
		if a != nil && a.matches {
			d.Summary = fmt.Sprintf("NULL pointer dereference%s: the instruction %s, which lands at %s, in the unmapped first 64 KiB.", f.in(), describe(), hex(addr))
			return
		}
		d.Summary = fmt.Sprintf("NULL pointer dereference%s: access at %s, in the unmapped first 64 KiB (a NULL pointer plus a field offset of %s).", f.in(), hex(addr), hex(addr))
		return
	}
	if f.Arch != nil && !f.Arch.Canonical(addr) {
		d.Kind = KindNonCanonical
		d.Summary = fmt.Sprintf("Access to the non-canonical address %s%s (a corrupted or tagged pointer)%s.", hex(addr), f.in(), semi(describe()))
		return
	}
	if target != nil {
		d.add("mapping", "%s", mappingText(target))
		write := a != nil && a.op.Write
		guard := !target.Readable() && !target.Writable() && !target.Executable()
		if write || f.Code == SEGV_ACCERR && target.Readable() && !target.Writable() {
			d.Kind = KindWriteReadOnly
			what := "read-only mapping " + mappingText(target)
			sec := ""
			if f.Section != nil {
				sec = f.Section(addr)
			}
			if sec != "" {
				d.add("section", "%s", sec)
			}
			if guard {
				what = "PROT_NONE guard page " + mappingText(target)
			} else if sec != "" {
				what = "section " + sec + " of " + mappingText(target)
			} else if target.Executable() {
				what = "code (text segment) of " + mappingText(target)
			} else if target.Name != "" && !strings.HasPrefix(target.Name, "[") {
				what = "read-only data (.rodata or RELRO) of " + mappingText(target)
			}
			verb := "writes to"
			if a == nil {
				verb = "probably writes to"
			}
			d.Summary = fmt.Sprintf("Write to read-only memory%s: the instruction %s %s, in the %s.", f.in(), verb, hex(addr), what)
			if a != nil {
				d.Summary = fmt.Sprintf("Write to read-only memory%s: the instruction %s, in the %s.", f.in(), describe(), what)
			}
			return
		}
		d.Kind = KindWildPointer
		if guard {
			d.Summary = fmt.Sprintf("Wild pointer%s: access at %s, inside the PROT_NONE guard mapping %s%s.", f.in(), hex(addr), mappingText(target), semi(describe()))
		} else {
			d.Summary = fmt.Sprintf("Access to %s denied (%s)%s, in mapping %s%s.", hex(addr), codeOrNumber(f.Signo, f.Code), f.in(), mappingText(target), semi(describe()))
		}
		return
	}
	d.Kind = KindWildPointer
	if below, above := neighbours(f.Mappings, addr); below != nil || above != nil {
		if below != nil {
			d.add("mapping_below", "%s (%s below)", mappingText(below), hex(addr-below.End+1))
		}
		if above != nil {
			d.add("mapping_above", "%s (%s above)", mappingText(above), hex(above.Start-addr))
		}
	}
	d.Summary = fmt.Sprintf("Wild pointer%s: access at %s, which is not mapped (a corrupted, uninitialised or freed pointer)%s.", f.in(), hex(addr), semi(describe()))
}

func semi(s string) string {
	if s == "" {
		return ""
	}
	return ": the instruction " + s
}

func mappingText(m *Mapping) string {
	name := m.Name
	if name == "" {
		name = "anonymous"
	}
	perms := m.Perms
	if len(perms) > 3 {
		perms = perms[:3]
	}
	return fmt.Sprintf("%s [%s-%s %s]", name, hex(m.Start), hex(m.End), perms)
}

func neighbours(ms []Mapping, addr uint64) (below, above *Mapping) {
	for i := range ms {
		m := &ms[i]
		if m.End <= addr && (below == nil || m.End > below.End) {
			below = m
		}
		if m.Start > addr && (above == nil || m.Start < above.Start) {
			above = m
		}
	}
	return below, above
}

// execFault explains a pc outside executable memory.
func (f *Facts) execFault(d *Diagnosis, pc uint64, m *Mapping) {
	d.Kind = KindExecNonExecutable
	var caller uint64
	have := false
	if f.Arch != nil && f.Arch.LR >= 0 {
		caller, have = f.reg(f.Arch.RegNames[f.Arch.LR])
		if have {
			d.add("link_register", "%s", hex(caller))
		}
	} else if sp, ok := f.reg(f.spName()); ok {
		caller, have = f.readWord(sp)
		if have {
			d.add("return_address", "%s (at sp %s)", hex(caller), hex(sp))
		}
	}
	from := ""
	if have {
		name := ""
		if f.Symbolize != nil {
			at := caller
			if f.Arch != nil {
				at &^= f.Arch.ModeBit // without 32-bit ARM's Thumb bit: lr 0x10401 returns to 0x10400
			}
			name = f.Symbolize(at)
		}
		if name != "" {
			d.add("caller", "%s", name)
			from = fmt.Sprintf("; the return address %s is in %s, the caller that made the call", hex(caller), name)
		} else {
			from = fmt.Sprintf("; the return address %s points at the caller", hex(caller))
		}
	}
	switch {
	case pc < nullLimit && m == nil:
		d.Summary = fmt.Sprintf("Call through a NULL function pointer: execution jumped to %s, which is not mapped%s.", hex(pc), from)
	case m == nil:
		d.Summary = fmt.Sprintf("Execution jumped to %s, which is not mapped (a corrupted function pointer or return address)%s.", hex(pc), from)
	default:
		d.add("mapping", "%s", mappingText(m))
		d.Summary = fmt.Sprintf("Execution jumped to %s in the non-executable mapping %s (a corrupted function pointer, return address or injected code)%s.", hex(pc), mappingText(m), from)
	}
}

// spOverflow explains a SIGSEGV whose fault address is unknown (no NT_SIGINFO, as in
// qemu-user cores, and no decoded access to compute it from) by the stack pointer alone:
// when sp is outside every readable or writable mapping, in the guard page or gap just
// below a stack, the thread ran off its stack, and whatever it touched next (a push, a
// store to its new frame, the callee's prologue) faulted there. A stack pointer inside a
// stack says nothing about the access, and the crash stays unexplained (wild_pointer).
func (f *Facts) spOverflow(d *Diagnosis) bool {
	sp, ok := f.reg(f.spName())
	if !ok {
		return false
	}
	if m := mappingAt(f.Mappings, sp); m != nil && (m.Readable() || m.Writable()) {
		return false
	}
	return f.stackOverflow(d, sp, true)
}

// deliveryOverflow explains a SIGSEGV with SI_KERNEL on a thread that overflowed its
// stack: the overflow's own SIGSEGV went to a handler, and the kernel could not write
// the handler's signal frame on the exhausted stack, so it killed the thread
// (signal_setup_done, force_sigsegv). Without a handler the overflow would have been a
// SEGV_MAPERR; with one on an alternate stack (sigaltstack) the handler would have run.
func (f *Facts) deliveryOverflow(d *Diagnosis, a *access) bool {
	if !(a != nil && a.err == nil && f.stackOverflow(d, a.ea, false)) && !f.spOverflow(d) {
		return false
	}
	d.Summary += " A signal handler was due to run (for this fault, or another signal), but the kernel could not write its signal frame on the exhausted stack (the handler has no alternate stack: sigaltstack(2)), so it killed the thread with SIGSEGV (SI_KERNEL) instead."
	d.add("signal_delivery", "failed: no room for the signal frame on the stack")
	return true
}

// stackOverflow reports a fault in or next to the guard gap below a stack. With fromSP,
// addr is the stack pointer, not a fault address (see spOverflow).
func (f *Facts) stackOverflow(d *Diagnosis, addr uint64, fromSP bool) bool {
	sp, haveSP := f.reg(f.spName())
	var stack *Mapping
	ms := f.Mappings
	for i := range ms {
		m := &ms[i]
		isStack := m.stack() || haveSP && m.Start <= sp && sp < m.End && m.Writable()
		if !isStack && haveSP && sp < m.Start && m.Start-sp <= guardGap && m.Writable() && addr < m.Start && m.Start-addr <= guardGap && m.Name == "" {
			isStack = true // sp already ran below this anonymous writable mapping
		}
		if !isStack || addr >= m.Start || m.Start-addr > guardGap {
			continue
		}
		if t := mappingAt(ms, addr); t != nil && (t.Readable() || t.Writable()) {
			continue
		}
		if stack == nil || m.Start < stack.Start {
			stack = m
		}
	}
	if stack == nil {
		return false
	}
	d.Kind = KindStackOverflow
	d.add("stack", "%s", mappingText(stack))
	d.add("below_stack", "%s", hex(stack.Start-addr))
	if haveSP {
		d.add("sp", "%s", hex(sp))
	}
	who := "the stack"
	switch {
	case stack.StackOf != 0:
		who = fmt.Sprintf("the stack of thread %d", stack.StackOf)
	case haveSP && f.TID != 0 && sp < stack.End && stack.Start-min(sp, stack.Start) <= guardGap:
		who = fmt.Sprintf("the stack of thread %d", f.TID) // sp is in it or just ran below it
	}
	rec := ""
	if name, period, reps := recursion(f.Functions); reps >= 3 {
		d.add("recursion", "%s", name)
		d.add("recursion_depth", "%d", reps)
		if period == 1 {
			rec = fmt.Sprintf("; %s recurses (%d consecutive frames seen)", name, reps)
		} else {
			rec = fmt.Sprintf("; the cycle %s repeats (%d times seen)", name, reps)
		}
	}
	if fromSP {
		d.Summary = fmt.Sprintf("Stack overflow%s: the stack pointer %s is %s below the lowest page of %s, outside any accessible mapping (the core records no fault address)%s.", f.in(), hex(addr), hex(stack.Start-addr), who, rec)
		return true
	}
	d.Summary = fmt.Sprintf("Stack overflow%s: access at %s, %s below the lowest page of %s%s.", f.in(), hex(addr), hex(stack.Start-addr), who, rec)
	return true
}

// recursion finds the longest repeating run of frames: it returns the cycle's functions
// ("f" or "f -> g"), its period and how many times it repeats consecutively.
func recursion(fns []string) (string, int, int) {
	n := min(len(fns), 1<<16)
	bestName, bestP, bestReps := "", 0, 0
	for start := 0; start < min(n, 16); start++ {
		for p := 1; p <= 8 && start+p <= n; p++ {
			run := 0
			for i := start; i+p < n && fns[i] == fns[i+p]; i++ {
				run++
			}
			reps := run/p + 1
			if run < p {
				continue
			}
			if reps > bestReps || reps == bestReps && p < bestP {
				cyc := make([]string, p)
				for j := 0; j < p; j++ {
					cyc[p-1-j] = fns[start+j] // outermost first reads as a call chain
				}
				bestName, bestP, bestReps = strings.Join(cyc, " -> "), p, reps
			}
		}
	}
	return bestName, bestP, bestReps
}
