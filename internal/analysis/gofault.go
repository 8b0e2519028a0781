package analysis

import (
	"fmt"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/goruntime"
	"github.com/coredig/coredig/internal/report"
)

// goFault finds the fault a Go program panicked from (goruntime.Runtime.Fault);
// goruntime.ErrNotGo says the program is not a Go program.
func (a *Analysis) goFault(hint uint64) (*goruntime.Fault, error) {
	rt, err := a.goRuntime()
	if err != nil {
		return nil, err
	}
	return rt.Fault(hint)
}

// goSignal describes the fault the Go runtime caught as a report.Signal.
func goSignal(f *goruntime.Fault) *report.Signal {
	return newSignal(f.Signo, f.Code, core.HasFaultAddr(f.Signo, f.Code) || f.Addr != 0, f.Addr,
		fmt.Sprintf("Go runtime: g.sig of goroutine %d", f.Goid))
}

// explainGoFault adds the fault a Go program panicked from to the diagnosis: the signal
// the runtime recorded in the goroutine, and where it hit (from the goroutine, or the
// frame below runtime.sigpanic). It returns the faulting pc, or 0.
func (a *Analysis) explainGoFault(rd *report.Diagnosis, frames []report.Frame, syntax disasm.Syntax) uint64 {
	var hint uint64
	ff := goFaultFrame(frames)
	if ff != nil {
		hint = uint64(ff.PC)
	}
	gf, err := a.goFault(hint)
	if err != nil && (ff == nil || err == goruntime.ErrNotGo) {
		return 0
	}
	pc := hint
	if gf != nil {
		pc = gf.PC
	}
	at := a.symbolizeAddr(pc)
	if at == "" {
		at = fmt.Sprintf("%#x", pc)
	}
	if src, _ := a.Modules.Source(pc); len(src) > 0 {
		at = src[0].Function
		if src[0].File != "" {
			at += fmt.Sprintf(" at %s:%d", src[0].File, src[0].Line)
		}
	}
	rd.AddEvidence("go_fault", at)
	what := ""
	if inst, err := a.decodeAt(pc, syntax); err == nil {
		rd.AddEvidence("go_fault_instruction", inst.Text)
		what = " (" + inst.Text + ")"
	}
	if gf == nil {
		rd.AddEvidence("go_signal", "unknown: "+err.Error())
		rd.Summary += fmt.Sprintf(" The panic came from a fault the runtime caught in %s%s.", at, what)
		return pc
	}
	sig := goSignal(gf)
	rd.Original = sig
	desc := sig.Name
	if sig.CodeName != "" {
		desc += " " + sig.CodeName
	}
	if sig.Address != nil {
		desc += fmt.Sprintf(" at %#x", gf.Addr)
	}
	rd.AddEvidence("go_signal", fmt.Sprintf("%s (goroutine %d)", desc, gf.Goid))
	if gf.Signo == 11 && sig.Address != nil && gf.Addr < 4096 {
		desc = fmt.Sprintf("a nil pointer dereference (%s, field offset %#x)", desc, gf.Addr)
	}
	rd.Summary += fmt.Sprintf(" The panic came from %s, caught by the runtime in %s%s, in goroutine %d.", desc, at, what, gf.Goid)
	return pc
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
