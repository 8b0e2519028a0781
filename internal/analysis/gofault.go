package analysis

import (
	"errors"
	"fmt"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/diagnose"
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
	var access *disasm.MemOperand
	if inst, err := a.decodeAt(pc, syntax, a.codeMode(pc, nil)); err == nil {
		rd.AddEvidence("go_fault_instruction", inst.Text)
		what = " (" + inst.Text + ")"
		for i := range inst.Mem {
			if m := &inst.Mem[i]; !m.Implicit && m.Base != "" && m.Base != "pc" && m.Base != "rip" {
				access = m
				rd.AddEvidence("go_fault_access", diagnose.AccessText(*m))
				break
			}
		}
	} else if errors.Is(err, disasm.ErrThumb) || errors.Is(err, disasm.ErrModeUnknown) {
		rd.AddEvidence("go_fault_instruction", "unavailable: "+err.Error())
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
	switch {
	case gf.Signo == 11 && gf.Addr == 0 && a.Core.SigInfo == nil && access != nil && access.Disp > 0 && !access.PostIndex && access.Index == "":
		// Under qemu-user (no NT_SIGINFO) the runtime's record says 0 for every fault
		// (qemu-arm passes no fault address to the guest's handler), while the
		// instruction's displacement says where in the struct it was: the offset comes
		// from the instruction, and the base register's value is not in the core.
		off := fmt.Sprintf("%#x", access.Disp)
		acc := diagnose.AccessText(*access)
		rd.AddEvidence("go_fault_address", fmt.Sprintf("unknown: the runtime recorded 0x0, not an address at %s+%s; %s's value at the fault is not in the core", access.Base, off, access.Base))
		rd.AddEvidence("go_field_offset", off+" (from the instruction)")
		name := sig.Name
		if sig.CodeName != "" {
			name += " " + sig.CodeName
		}
		desc = fmt.Sprintf("a nil pointer dereference (%s; the runtime recorded address 0x0, but the faulting instruction %s: the field at offset %s if %s was nil; under qemu-user, whose core has no NT_SIGINFO, the runtime's handler got no fault address)", name, acc, off, access.Base)
	case gf.Signo == 11 && sig.Address != nil && gf.Addr < 4096:
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
