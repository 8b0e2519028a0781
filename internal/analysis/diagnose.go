package analysis

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/diagnose"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/unwind"
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
}

// Diagnose explains the crash of r (a report with backtraces and Python state) and
// stores the explanation in r.Diagnosis.
func (a *Analysis) Diagnose(r *report.Report, opts DiagnoseOptions) {
	t := a.CrashedThread()
	if t == nil || r.Signal == nil {
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
	}
	if f.Signo == 6 {
		f.AbortMessage = a.abortMessage()
		if exc, ok := diagnose.FindException(a.Core, a.stackWords(t.SP(a.Core.Arch), 8192)); ok {
			f.ExceptionType = exc.Type
		}
	}
	var original *report.Signal
	if r.Signal.SenderIsSelf != nil && *r.Signal.SenderIsSelf {
		if o, sig := a.originalFault(r, t); o != nil {
			f.Original, original = o, sig
		}
	}
	d := diagnose.Diagnose(f, opts.Rules)
	rd := &report.Diagnosis{Kind: d.Kind, Summary: d.Summary, Evidence: d.EvidenceMap(), Original: original}
	for _, it := range d.Evidence {
		rd.EvidenceOrder = append(rd.EvidenceOrder, it.Key)
	}
	if f := goFaultFrame(crashed.Frames); f != nil {
		at := f.Function
		if f.File != "" {
			at += fmt.Sprintf(" at %s:%d", f.File, f.Line)
		}
		rd.Evidence["go_fault"] = at
		rd.EvidenceOrder = append(rd.EvidenceOrder, "go_fault")
		what := ""
		if inst, err := a.decodeAt(uint64(f.PC), opts.Syntax); err == nil {
			rd.Evidence["go_fault_instruction"] = inst.Text
			rd.EvidenceOrder = append(rd.EvidenceOrder, "go_fault_instruction")
			what = " (" + inst.Text + ")"
		}
		rd.Summary += fmt.Sprintf(" The panic came from a fault the runtime caught in %s%s.", at, what)
	}
	if d.Kind == "stack_overflow" {
		if fn, n := pythonRecursion(r, t.TID); n > 1 {
			rd.Evidence["python_recursion"] = fmt.Sprintf("%s (%d Python frames)", fn, n)
			rd.EvidenceOrder = append(rd.EvidenceOrder, "python_recursion")
			rd.Summary += fmt.Sprintf(" The Python function %s recursed %d times.", fn, n)
		}
	}
	for _, m := range d.Rules {
		rd.Rules = append(rd.Rules, report.RuleMatch(m))
	}
	pc := t.PC(a.Core.Arch)
	if f.Original != nil {
		pc = f.Original.Regs[a.Core.Arch.RegNames[a.Core.Arch.PC]]
	}
	rd.Disassembly = a.Disassemble(pc, opts.Window, opts.Window, opts.Syntax)
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
	if inst, err := a.decodeAt(pc, disasm.SyntaxDefault); err != nil {
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
	}
	for _, m := range a.Modules.Modules {
		f.Modules = append(f.Modules, m.Name)
	}
	if r.Python != nil && r.Python.Error == "" {
		fin := r.Python.Finalizing
		f.PythonFinalizing = &fin
		if strings.Contains(" "+strings.Join(r.Process.Args, " ")+" ", " -X faulthandler ") || strings.Contains(strings.Join(r.Process.Args, " "), "-Xfaulthandler") {
			on := true
			f.PythonFaulthandler = &on
		}
	}
	return f
}

// decodeAt decodes the instruction at pc from the core, or the verified file on disk.
func (a *Analysis) decodeAt(pc uint64, syntax disasm.Syntax) (disasm.Inst, error) {
	buf := make([]byte, 16)
	n, err := a.Core.ReadAt(buf, pc)
	if n == 0 {
		return disasm.Inst{}, fmt.Errorf("no code bytes at the pc: %v", err)
	}
	return disasm.DecodeSyntax(a.Core.Arch, buf[:n], pc, syntax)
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
	if before <= 0 && after <= 0 {
		before, after = 6, 4
	}
	cfg := disasm.WindowConfig{Before: before, After: after, Symbolize: a.symbolizeAddr, Syntax: syntax}
	if s := a.Modules.Lookup(pc); s.Function != "" {
		cfg.FuncStart = s.FuncStart
	}
	lines, err := disasm.WindowWith(a.Core.Arch, a.Core, pc, cfg)
	var out []report.DisasmLine
	for _, l := range lines {
		dl := report.DisasmLine{PC: report.Hex(l.PC), Bytes: fmt.Sprintf("% x", l.Bytes), Text: l.Text, Target: l.TargetName, Current: l.Current}
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
		out = append(out, a.Core.Arch.ByteOrder.Uint64(buf[i:]))
	}
	return out
}

// originalFault finds the kernel's signal frame on the crashing thread's stack (the
// fault a crash handler caught before re-raising) and returns the facts of the original
// fault: its siginfo when the handler was installed with SA_SIGINFO, else what the saved
// machine context says (x86_64: cr2, trapno and the page-fault error code).
func (a *Analysis) originalFault(r *report.Report, t *core.Thread) (*diagnose.Facts, *report.Signal) {
	frames, _ := a.Unwind(t, 0)
	for i, f := range frames {
		if f.Signal == nil {
			continue
		}
		sf := f.Signal
		regs := make([]uint64, len(a.Core.Arch.RegNames))
		for j := range regs {
			regs[j], _ = sf.Regs.Get(j)
		}
		var after []report.Frame
		for _, g := range frames[i+1:] {
			after = append(after, a.SourceFrames(len(after), g.PC, g.ReturnAddress, string(g.FoundBy))...)
		}
		o := a.facts(r, regs, after)
		sig := a.savedSigInfo(sf)
		if sig == nil {
			return nil, nil
		}
		o.Signo, o.Code = sig.Number, sig.Code
		if sig.Address != nil {
			o.Addr, o.HasAddr = uint64(*sig.Address), true
		}
		return o, sig
	}
	return nil, nil
}

// savedSigInfo decodes the siginfo the kernel saved in a signal frame, or, when the
// handler did not ask for it (no SA_SIGINFO: the slot is not written), reconstructs the
// fault from the x86_64 machine context.
func (a *Analysis) savedSigInfo(sf *unwind.SignalFrame) *report.Signal {
	c := a.Core
	buf := make([]byte, core.SigInfoSize)
	if sf.SigInfo != 0 {
		if err := c.ReadFull(buf, sf.SigInfo); err == nil {
			if si, err := core.DecodeSigInfo(c.Arch, buf); err == nil && si.Signo > 0 && si.Signo < 65 {
				s := &report.Signal{Number: si.Signo, Name: core.SignalName(si.Signo), Meaning: core.SignalMeaning(si.Signo),
					Code: si.Code, CodeName: core.CodeName(si.Signo, si.Code), CodeMeaning: core.CodeMeaning(si.Signo, si.Code), Source: "signal frame siginfo"}
				if si.HasAddr {
					s.Address = report.HexPtr(si.Addr)
				}
				return s
			}
		}
	}
	if c.Arch != arch.AMD64 || sf.Context == 0 {
		return nil
	}
	// struct sigcontext (arch/x86/include/uapi/asm/sigcontext.h, x86_64): err at 152,
	// trapno at 160, cr2 at 176.
	var mc [184]byte
	if err := c.ReadFull(mc[:], sf.Context); err != nil {
		return nil
	}
	errCode := binary.LittleEndian.Uint64(mc[152:])
	trapno := binary.LittleEndian.Uint64(mc[160:])
	cr2 := binary.LittleEndian.Uint64(mc[176:])
	const pageFault = 14
	if trapno != pageFault {
		return nil
	}
	code := 1 // SEGV_MAPERR: the page was not present
	if errCode&1 != 0 {
		code = 2 // SEGV_ACCERR: protection violation
	}
	return &report.Signal{Number: 11, Name: "SIGSEGV", Meaning: core.SignalMeaning(11), Code: code,
		CodeName: core.CodeName(11, code), CodeMeaning: core.CodeMeaning(11, code),
		Address: report.HexPtr(cr2), Source: "signal frame machine context (cr2, trapno 14)"}
}

// MaxFunctionInsts caps the instructions DisassembleFunction decodes.
const MaxFunctionInsts = 4096

// DisassembleFunction decodes [start, start+size) instruction by instruction, naming
// branch and call targets. An undecodable byte is shown and skipped.
func (a *Analysis) DisassembleFunction(start, size uint64, syntax disasm.Syntax) []report.DisasmLine {
	var out []report.DisasmLine
	pc := start
	for len(out) < MaxFunctionInsts && pc < start+size {
		buf := make([]byte, 16)
		n, err := a.Core.ReadAt(buf, pc)
		if n == 0 {
			out = append(out, report.DisasmLine{PC: report.Hex(pc), Error: err.Error()})
			break
		}
		inst, err := disasm.DecodeSyntax(a.Core.Arch, buf[:n], pc, syntax)
		if err != nil || inst.Len == 0 {
			out = append(out, report.DisasmLine{PC: report.Hex(pc), Bytes: fmt.Sprintf("% x", buf[:1]), Error: fmt.Sprint(err)})
			pc++
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

// goFaultFrame returns the frame that faulted in a Go program: the Go runtime turns a
// SIGSEGV/SIGBUS in Go code into a call of runtime.sigpanic injected at the faulting
// instruction, so the frame after sigpanic is where the fault happened.
func goFaultFrame(frames []report.Frame) *report.Frame {
	for i := 0; i+1 < len(frames); i++ {
		if frames[i].Function == "runtime.sigpanic" && !frames[i].Inlined {
			return &frames[i+1]
		}
	}
	return nil
}
