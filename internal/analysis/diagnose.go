package analysis

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/diagnose"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/owner"
	"github.com/coredig/coredig/internal/report"
)

// DiagnoseOptions control the explanation.
type DiagnoseOptions struct {
	// Rules replace the embedded rules when not nil (the caller appends user rules to
	// diagnose.DefaultRules()).
	Rules []diagnose.Rule
	// Syntax selects the x86 disassembly syntax.
	Syntax disasm.Syntax
	// Window is how many instructions to show before and after the pc.
	Window int
	// Owners answers who ships the culprit's code; nil asks this machine's databases.
	Owners *owner.Finder
}

// Diagnose explains the crash of r (a report with backtraces and Python state) and
// stores the explanation in r.Diagnosis.
func (a *Analysis) Diagnose(r *report.Report, opts DiagnoseOptions) {
	t := a.CrashedThread()
	if t == nil || r.Signal == nil {
		return
	}
	if !core.DumpsCore(r.Signal.Number) {
		// No kernel writes a core for this signal: the core is a snapshot of a live
		// process (gdb's gcore records the SIGSTOP it stopped the process with).
		r.Diagnosis = &report.Diagnosis{Kind: "snapshot",
			Summary:  fmt.Sprintf("Not a crash: %s does not make the kernel dump core, so this core is a snapshot of a running process (as gdb's gcore writes); its threads show what the process was doing.", r.Signal.Name),
			Evidence: map[string]string{"signal": fmt.Sprintf("%s (%d)", r.Signal.Name, r.Signal.Number)}, EvidenceOrder: []string{"signal"}}
		return
	}
	var crashed *report.Thread
	for i := range r.Threads {
		if r.Threads[i].Crashed {
			crashed = &r.Threads[i]
		}
	}
	f := a.facts(r, t.Regs, crashed.Frames)
	si := a.Core.SigInfo
	f.Signo = r.Signal.Number
	if si == nil {
		f.NoSigInfo = true
	} else {
		f.Code = si.Code
		f.Addr, f.HasAddr = si.Addr, si.HasAddr
		f.SenderPID, f.SenderUID, f.HasSender = si.SenderPID, int(si.SenderUID), si.HasSender
		if f.Signo == diagnose.SIGSEGV && f.Code == diagnose.SI_KERNEL {
			// Only the kernel's own SIGSEGV can come from its rseq check; looking
			// the symbols up may read every module's symbol table.
			f.Rseq = a.rseqArea(t)
		}
	}
	if f.Signo == 6 {
		f.AbortMessage = a.abortMessage()
		if exc, ok := diagnose.FindException(a.Core, a.stackWords(t.SP(a.Core.Arch), 8192)); ok {
			f.ExceptionType = exc.Type
		}
	}
	var original *report.Signal
	// A signal the process sent itself may be a crash handler's re-raise; so may any
	// signal of a core without NT_SIGINFO (qemu-user), where the sender is unknown.
	if ff := a.Core.FirstFault; ff != nil && ff.SigInfo != nil && ff.Regs != nil && len(ff.Regs) == len(a.Core.Arch.RegNames) {
		// coredig run recorded the first delivery, which a handler caught: that is the
		// fault, with its own siginfo and registers.
		f.Original, original = a.recordedFault(r, ff)
	} else if r.Signal.SenderIsSelf != nil && *r.Signal.SenderIsSelf || r.Signal.Source == "NT_PRSTATUS" {
		if o, sig := a.originalFault(r, t); o != nil {
			f.Original, original = o, sig
		} else if o, sig := a.redeliveredFault(r, f); o != nil {
			f.Original, original = o, sig
		}
	}
	var d diagnose.Diagnosis
	if f.NoSigInfo && f.Original != nil {
		// Nothing in the core tells the re-raise apart from the fault; the signal frame's
		// context is the fault, so explain that one.
		d = diagnose.Diagnose(f.Original, opts.Rules)
		d.Evidence = append(d.Evidence, diagnose.Item{Key: "handler", Value: "a signal handler was running on this thread when the process died; the fault is the one it was handling"})
	} else {
		d = diagnose.Diagnose(f, opts.Rules)
	}
	rd := &report.Diagnosis{Kind: d.Kind, Summary: d.Summary, Evidence: d.EvidenceMap(), Original: original}
	for _, it := range d.Evidence {
		rd.EvidenceOrder = append(rd.EvidenceOrder, it.Key)
	}
	a.explainAccess(rd, f)
	if original == nil && !f.NoSigInfo && f.Code > 0 && core.IsFaultSignal(f.Signo) {
		a.nestedFault(r, t, crashed.Frames, rd)
	}
	if c := callerOutsideLibc(crashed.Frames); c != "" && original == nil && f.HasAddr {
		rd.AddEvidence("called_from", c)
	}
	if ps := pythonContext(r, t.TID); ps != "" {
		rd.AddEvidence("python_stack", ps)
	}
	goPC := a.explainGoFault(rd, crashed.Frames, opts.Syntax)
	if d.Kind == "stack_overflow" {
		if fn, n := pythonRecursion(r, t.TID); n > 1 {
			rd.AddEvidence("python_recursion", fmt.Sprintf("%s (%d Python frames)", fn, n))
			rd.Summary += fmt.Sprintf(" The Python function %s recursed %d times.", fn, n)
		}
	}
	if s := shutdownSummary(r.Python); s != "" {
		rd.Summary += " " + s
		rd.AddEvidence("python_shutdown", fmt.Sprintf("%s (%s)", r.Python.ShutdownStage, r.Python.ShutdownEvidence))
	}
	for _, m := range d.Rules {
		rd.Rules = append(rd.Rules, report.RuleMatch(m))
	}
	pc := t.PC(a.Core.Arch)
	if f.Original != nil {
		pc = f.Original.Regs[a.Core.Arch.RegNames[a.Core.Arch.PC]]
	}
	if goPC != 0 {
		pc = goPC // the runtime's own abort is not where the program went wrong
	}
	var modeRegs map[string]uint64
	if goPC == 0 {
		modeRegs = f.Regs
		if f.Original != nil {
			modeRegs = f.Original.Regs
		}
	}
	rd.Disassembly = a.disassemble(pc, opts.Window, opts.Window, opts.Syntax, a.codeMode(pc, modeRegs))
	owners := opts.Owners
	if owners == nil {
		owners = owner.New("")
	}
	rd.Culprit = a.culprit(r, crashed, owners)
	r.Diagnosis = rd
}

// facts gathers what diagnose needs about one register context and its stack.
func (a *Analysis) facts(r *report.Report, regs []uint64, frames []report.Frame) *diagnose.Facts {
	c := a.Core
	f := &diagnose.Facts{Arch: c.Arch, Regs: map[string]uint64{}, Mem: c, Symbolize: a.symbolizeAddr, Section: a.Modules.Section}
	if ps := c.PsInfo; ps != nil {
		f.PID = ps.PID
	}
	if t := a.CrashedThread(); t != nil {
		f.TID = t.TID
	}
	for i, n := range c.Arch.RegNames {
		if i < len(regs) {
			f.Regs[n] = regs[i]
		}
	}
	pc := regs[c.Arch.PC]
	if inst, err := a.decodeAt(pc, disasm.SyntaxDefault, a.codeMode(pc, f.Regs)); err != nil {
		f.InstErr = err.Error()
	} else {
		f.Inst = &inst
	}
	for _, m := range r.Mappings {
		dm := diagnose.Mapping{Start: uint64(m.Start), End: uint64(m.End), Perms: m.Perms, Name: m.Name}
		for _, th := range c.Threads {
			if sp := th.SP(c.Arch); sp >= dm.Start && sp < dm.End {
				dm.StackOf = th.TID
			}
		}
		f.Mappings = append(f.Mappings, dm)
	}
	for _, fr := range frames {
		f.Functions = append(f.Functions, fr.Function)
		loc := ""
		if fr.File != "" && fr.Line > 0 {
			loc = fmt.Sprintf("%s:%d", fr.File, fr.Line)
		}
		f.Locations = append(f.Locations, loc)
	}
	for _, m := range a.Modules.Modules {
		f.Modules = append(f.Modules, m.Name)
	}
	if r.Python != nil && r.Python.Error == "" {
		f.PythonFinalizing = r.Python.Finalizing
		if r.Python.ShutdownStage != "" {
			// Atexit callbacks run before the flag is set: shutting down is what rules
			// about finalization mean.
			on := true
			f.PythonFinalizing = &on
		}
		if strings.Contains(" "+strings.Join(r.Process.Args, " ")+" ", " -X faulthandler ") || strings.Contains(strings.Join(r.Process.Args, " "), "-Xfaulthandler") {
			on := true
			f.PythonFaulthandler = &on
		}
	}
	return f
}

// decodeAt decodes the instruction at pc, in the instruction set mode (codeMode), from
// the core, or the verified file on disk.
func (a *Analysis) decodeAt(pc uint64, syntax disasm.Syntax, mode disasm.Mode) (disasm.Inst, error) {
	buf := make([]byte, 16)
	n, err := a.Core.ReadAt(buf, pc)
	if n == 0 {
		return disasm.Inst{}, fmt.Errorf("no code bytes at the pc: %v", err)
	}
	inst, err := disasm.DecodeMode(a.Core.Arch, buf[:n], pc, syntax, mode)
	if it, ok := a.crashIT(pc, mode); ok && err == nil {
		// The crashing thread's own IT state, from its CPSR: exact, with or without a
		// function start to decode from.
		it.Apply(&inst)
	} else if err == nil && mode == disasm.ModeThumb {
		// The condition of an IT block the instruction is in, from the function's start.
		if s := a.Modules.Lookup(pc); s.Function != "" && s.FuncStart <= pc && pc-s.FuncStart <= 4096 {
			code := make([]byte, pc-s.FuncStart)
			if k, _ := a.Core.ReadAt(code, s.FuncStart); k == len(code) {
				if it, ok := disasm.ThumbITBefore(code, s.FuncStart, pc, a.mappingMode); ok {
					it.Apply(&inst)
				}
			}
		}
	}
	return inst, err
}

// crashIT is the IT state (Thumb-2) of the crashing thread's instruction when pc is its
// pc in T32 code, from the thread's CPSR, where the processor keeps it; ok is false
// otherwise. Outside an IT block it is the empty state.
func (a *Analysis) crashIT(pc uint64, mode disasm.Mode) (disasm.ThumbIT, bool) {
	t, psr := a.CrashedThread(), a.Core.Arch.Reg("cpsr")
	if t == nil || mode != disasm.ModeThumb || psr < 0 || psr >= len(t.Regs) || t.PC(a.Core.Arch) != pc {
		return disasm.ThumbIT{}, false
	}
	it, _ := disasm.ThumbITFromPSR(t.Regs[psr])
	return it, true
}

// codeMode is the instruction set of the code at pc, for an architecture with more than
// one (32-bit ARM: A32 or Thumb-2): that of regs (a thread's registers at pc, nil when
// none) if they say, else that of a thread whose pc it is, else the mapping symbol ($a,
// $t) before pc, else the mode bits of the function symbol covering pc.
// disasm.ModeDefault when nothing says.
func (a *Analysis) codeMode(pc uint64, regs map[string]uint64) disasm.Mode {
	c := a.Core
	if c.Arch.ModeBit == 0 {
		return disasm.ModeDefault // one instruction set
	}
	if regs != nil {
		if m := disasm.ThreadMode(c.Arch, func(n string) (uint64, bool) { v, ok := regs[n]; return v, ok }); m != disasm.ModeDefault {
			return m
		}
	}
	for _, t := range c.Threads {
		if t.PC(c.Arch) != pc {
			continue
		}
		if m := disasm.ThreadMode(c.Arch, func(n string) (uint64, bool) {
			i := c.Arch.Reg(n)
			if i < 0 || i >= len(t.Regs) {
				return 0, false
			}
			return t.Regs[i], true
		}); m != disasm.ModeDefault {
			return m
		}
	}
	if m := disasm.MappingMode(a.Modules.MappingSymbol(pc)); m == disasm.ModeARM || m == disasm.ModeThumb {
		return m
	}
	if s := a.Modules.Lookup(pc); s.Function != "" {
		return disasm.SymbolMode(c.Arch, s.FuncMode)
	}
	return disasm.ModeDefault
}

// dataMode says disasm.ModeData for 32-bit ARM data among code (a "$d" mapping symbol:
// a literal pool), else disasm.ModeDefault.
func (a *Analysis) dataMode(pc uint64) disasm.Mode {
	if m := a.mappingMode(pc); m == disasm.ModeData {
		return m
	}
	return disasm.ModeDefault
}

// mappingMode is the instruction set 32-bit ARM's mapping symbols ($a, $t, $d) say the
// code at pc is in, disasm.ModeDefault when none does: a window crosses from Thumb code
// into its literal pool and into the A32 code of the next section (crti's _fini).
func (a *Analysis) mappingMode(pc uint64) disasm.Mode {
	if a.Core.Arch.ModeBit == 0 {
		return disasm.ModeDefault
	}
	return disasm.MappingMode(a.Modules.MappingSymbol(pc))
}

// symbolizeAddr names an address "function+0xoff", or "".
func (a *Analysis) symbolizeAddr(addr uint64) string {
	s := a.Modules.Lookup(addr)
	if s.Function == "" {
		return ""
	}
	if addr == s.FuncStart {
		return s.Function
	}
	return fmt.Sprintf("%s+%#x", s.Function, addr-s.FuncStart)
}

// Disassemble returns a window of instructions around pc, decoding forward from the start
// of the function that holds it when that is known.
func (a *Analysis) Disassemble(pc uint64, before, after int, syntax disasm.Syntax) []report.DisasmLine {
	return a.disassemble(pc, before, after, syntax, a.codeMode(pc, nil))
}

// disassemble is Disassemble of code in the instruction set mode.
func (a *Analysis) disassemble(pc uint64, before, after int, syntax disasm.Syntax, mode disasm.Mode) []report.DisasmLine {
	if before <= 0 && after <= 0 {
		before, after = 6, 4
	}
	cfg := disasm.WindowConfig{Before: before, After: after, Symbolize: a.symbolizeAddr, Syntax: syntax, Mode: mode, ModeAt: a.mappingMode}
	if s := a.Modules.Lookup(pc); s.Function != "" {
		cfg.FuncStart = s.FuncStart
	}
	if it, ok := a.crashIT(pc, mode); ok {
		cfg.ITAtPC = &it
	}
	lines, err := disasm.WindowWith(a.Core.Arch, a.Core, pc, cfg)
	var out []report.DisasmLine
	for _, l := range lines {
		dl := report.DisasmLine{PC: report.Hex(l.PC), Bytes: fmt.Sprintf("% x", l.Bytes), Text: l.Text, Target: l.TargetName, Current: l.Current}
		if dl.Target == "" {
			dl.Target = a.pcRelativeData(l.Inst)
		}
		if l.Err != nil {
			dl.Error = l.Err.Error()
		}
		out = append(out, dl)
	}
	if len(out) == 0 && err != nil {
		out = append(out, report.DisasmLine{PC: report.Hex(pc), Error: err.Error(), Current: true})
	}
	return out
}

// nestedFault says so when the crash happened inside a signal handler that was handling
// an earlier fault (a crash reporter that faulted, or a kernel check that killed it): the
// earlier fault, from the signal frame on the stack, is often the bug.
func (a *Analysis) nestedFault(r *report.Report, t *core.Thread, frames []report.Frame, rd *report.Diagnosis) {
	o, sig := a.originalFault(r, t)
	// Only a fault's: a timer's SIGALRM or a profiler's SIGPROF also has a positive
	// si_code (SI_KERNEL).
	if o == nil || sig.Code <= 0 || !core.IsFaultSignal(sig.Number) {
		return
	}
	od := diagnose.Classify(o)
	rd.Original = sig
	rd.AddEvidence("earlier_fault", od.Summary)
	handler, faulted := "a signal handler", ""
	for i, fr := range frames {
		if fr.Function == SignalHandlerCalled {
			if i > 0 && frames[i-1].Function != "" {
				handler = "the signal handler " + frames[i-1].Function
			}
			break
		}
	}
	if len(o.Functions) > 0 && o.Functions[0] != "" {
		faulted = " in " + o.Functions[0]
	}
	rd.Summary += fmt.Sprintf(" It happened inside %s, which was handling an earlier %s%s (see earlier fault).", handler, sig.Name, faulted)
}

// rseqArea finds the restartable-sequence area glibc registered for thread t: the thread
// pointer plus __rseq_offset (both symbols are ld.so's, glibc 2.35 and later). It is nil
// when glibc registered none (__rseq_size 0: an older kernel, or the glibc.pthread.rseq
// tunable off) or the symbols or their values are not at hand.
func (a *Analysis) rseqArea(t *core.Thread) *diagnose.RseqArea {
	if !t.HasTLS {
		return nil
	}
	sizeAt, _, ok := a.Modules.FindSymbol("__rseq_size")
	if !ok {
		return nil
	}
	offAt, _, ok := a.Modules.FindSymbol("__rseq_offset")
	if !ok {
		return nil
	}
	c := a.Core
	var size [4]byte
	off := make([]byte, c.Arch.PtrSize)
	if c.ReadFull(size[:], sizeAt) != nil || c.Arch.ByteOrder.Uint32(size[:]) == 0 || c.ReadFull(off, offAt) != nil {
		return nil
	}
	o := int64(c.Arch.Word(off))
	if c.Arch.PtrSize == 4 {
		o = int64(int32(o))
	}
	return &diagnose.RseqArea{Addr: t.TLS + uint64(o), TP: t.TLS, Offset: o}
}

// abortMessage reads glibc's __abort_msg (set by assert and the malloc checks).
func (a *Analysis) abortMessage() string {
	addr, _, ok := a.Modules.FindSymbol("__abort_msg")
	if !ok {
		return ""
	}
	msg, err := diagnose.AbortMessage(a.Core, addr)
	if err != nil {
		return ""
	}
	return msg
}

// stackWords reads up to n pointer-sized words from sp.
func (a *Analysis) stackWords(sp uint64, n int) []uint64 {
	w := a.Core.Arch.PtrSize
	buf := make([]byte, n*w)
	k, _ := a.Core.ReadAt(buf, sp)
	out := make([]uint64, 0, k/w)
	for i := 0; i+w <= k; i += w {
		out = append(out, a.Core.Arch.Word(buf[i:]))
	}
	return out
}

// MaxFunctionInsts caps the instructions DisassembleFunction decodes.
const MaxFunctionInsts = 4096

// DisassembleFunction decodes [start, start+size) instruction by instruction, naming
// branch and call targets. An undecodable byte is shown and skipped.
func (a *Analysis) DisassembleFunction(start, size uint64, syntax disasm.Syntax) []report.DisasmLine {
	var out []report.DisasmLine
	pc := start
	mode := a.codeMode(start, nil)
	var it disasm.ThumbIT // Thumb-2: the IT block's condition on the instructions in it
	for len(out) < MaxFunctionInsts && pc < start+size {
		buf := make([]byte, 16)
		n, err := a.Core.ReadAt(buf, pc)
		if n == 0 {
			out = append(out, report.DisasmLine{PC: report.Hex(pc), Error: err.Error()})
			break
		}
		m := mode
		if a.dataMode(pc) == disasm.ModeData && (mode == disasm.ModeARM || mode == disasm.ModeThumb) {
			m = disasm.ModeData
		}
		inst, err := disasm.DecodeMode(a.Core.Arch, buf[:n], pc, syntax, m)
		if err == nil && m == disasm.ModeThumb {
			it.Apply(&inst)
		} else {
			it.Reset()
		}
		if errors.Is(err, disasm.ErrModeUnknown) {
			// Every byte of the function would fail alike.
			out = append(out, report.DisasmLine{PC: report.Hex(pc), Error: err.Error()})
			break
		}
		if err != nil || inst.Len == 0 {
			k := 1
			var de *disasm.DecodeError
			if errors.As(err, &de) && de.Len > 0 && de.Len <= n {
				k = de.Len // a T32 instruction not decoded: its length is known
			}
			out = append(out, report.DisasmLine{PC: report.Hex(pc), Bytes: fmt.Sprintf("% x", buf[:k]), Error: fmt.Sprint(err)})
			pc += uint64(k)
			continue
		}
		l := report.DisasmLine{PC: report.Hex(pc), Bytes: fmt.Sprintf("% x", inst.Bytes), Text: inst.Text}
		if inst.Target != 0 {
			l.Target = a.symbolizeAddr(inst.Target)
		}
		out = append(out, l)
		pc += uint64(inst.Len)
	}
	return out
}

// pythonRecursion returns the Python function that fills most of a thread's Python stack
// ("descend at recurse.py:4") and how many frames it has.
func pythonRecursion(r *report.Report, tid int) (string, int) {
	if r.Python == nil {
		return "", 0
	}
	for _, t := range r.Python.Threads {
		if t.TID == nil || int(*t.TID) != tid {
			continue
		}
		counts := map[string]int{}
		best, n := "", 0
		for _, f := range t.Frames {
			name := f.QualName
			if name == "" {
				name = f.Function
			}
			key := fmt.Sprintf("%s at %s:%d", name, f.File, f.Line)
			counts[key]++
			if counts[key] > n {
				best, n = key, counts[key]
			}
		}
		return best, n
	}
	return "", 0
}

// pcRelativeData names the data object a pc-relative memory operand refers to
// ("mov 0x2ed1(%rip),%rax" reads runtime_signals), or "".
func (a *Analysis) pcRelativeData(inst disasm.Inst) string {
	for _, op := range inst.Mem {
		if op.Base != "rip" && op.Base != "pc" || op.Index != "" {
			continue
		}
		if name := a.Modules.LookupData(op.PCValue + uint64(op.Disp)); name != "" {
			return name
		}
	}
	return ""
}

// callerOutsideLibc names the first frame outside the C library and the dynamic loader
// when the crash is inside them (a strlen or memcpy handed a bad pointer): that caller
// passed the pointer. "" when frame 0 is not in libc.
func callerOutsideLibc(frames []report.Frame) string {
	inLibc := func(f report.Frame) bool {
		return isSystemLayer(f, false)
	}
	if len(frames) == 0 || !inLibc(frames[0]) {
		return ""
	}
	for _, f := range frames[1:] {
		if inLibc(f) || f.Function == SignalHandlerCalled {
			continue
		}
		s := f.Function
		if s == "" {
			s = "??"
		}
		s += " (" + filepath.Base(f.Module) + ")"
		if f.File != "" {
			s += fmt.Sprintf(" at %s:%d", f.File, f.Line)
		}
		return s
	}
	return ""
}

// pythonContext renders the innermost Python frames of a thread:
// "string_at (ctypes/__init__.py:525) <- crash_now (bigcore.py:59)".
func pythonContext(r *report.Report, tid int) string {
	if r.Python == nil {
		return ""
	}
	for _, t := range r.Python.Threads {
		if t.TID == nil || int(*t.TID) != tid || len(t.Frames) == 0 {
			continue
		}
		var parts []string
		for i, f := range t.Frames {
			if i == 3 {
				parts = append(parts, "…")
				break
			}
			name := f.QualName
			if name == "" {
				name = f.Function
			}
			parts = append(parts, fmt.Sprintf("%s (%s:%d)", name, f.File, f.Line))
		}
		return strings.Join(parts, " <- ")
	}
	return ""
}
