package analysis

import (
	"fmt"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/report"
)

// goFault is the fault the Go runtime caught and turned into a panic. Its signal
// handler records the signal in the goroutine (runtime.sighandler sets g.sig,
// g.sigcode0, g.sigcode1 = the fault address, g.sigpc) before injecting the call to
// runtime.sigpanic; the runtime's panic message, "[signal SIGSEGV ... addr=0x60]",
// comes from those fields and only reaches stderr.
type goFault struct {
	Goid        uint64
	Signo, Code int
	Addr, PC    uint64
}

// goFaultOf finds the goroutine that is panicking from a signal: g.sig is set and
// g._panic is not nil. When the unwinder reached runtime.sigpanic, hint is the faulting
// pc it found and the goroutine must agree; with no hint (a stack the unwinder could
// not follow through the signal handler) exactly one goroutine must qualify.
// errNotGo says the program is not a Go program.
func (a *Analysis) goFaultOf(hint uint64) (*goFault, error) {
	rt, err := a.goRuntimeOf()
	if err != nil {
		return nil, err
	}
	gs, err := a.goroutines(rt)
	if err != nil && len(gs) == 0 {
		return nil, err
	}
	var found []*goFault
	for _, g := range gs {
		if g.sig == 0 || g.panicPtr == 0 || hint != 0 && g.sigpc != hint {
			continue
		}
		found = append(found, &goFault{Signo: int(g.sig), Code: int(int32(g.sigcode0)), Addr: g.sigcode1, PC: g.sigpc, Goid: g.goid})
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return nil, fmt.Errorf("%d goroutines are panicking from a signal", len(found))
	case hint != 0:
		return nil, fmt.Errorf("no goroutine among %d is panicking from a signal at %#x", len(gs), hint)
	}
	return nil, fmt.Errorf("no goroutine among %d is panicking from a signal", len(gs))
}

// signal describes the caught fault as a report.Signal.
func (f *goFault) signal() *report.Signal {
	s := &report.Signal{
		Number: f.Signo, Name: core.SignalName(f.Signo), Meaning: core.SignalMeaning(f.Signo),
		Code: f.Code, CodeName: core.CodeName(f.Signo, f.Code), CodeMeaning: core.CodeMeaning(f.Signo, f.Code),
		Source: fmt.Sprintf("Go runtime: g.sig of goroutine %d", f.Goid),
	}
	if core.HasFaultAddr(f.Signo, f.Code) || f.Addr != 0 {
		s.Address = report.HexPtr(f.Addr)
	}
	return s
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
	gf, err := a.goFaultOf(hint)
	if err != nil && (ff == nil || err == errNotGo) {
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
	sig := gf.signal()
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
