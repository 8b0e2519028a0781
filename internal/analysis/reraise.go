package analysis

import (
	"errors"
	"fmt"
	"strings"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/diagnose"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/unwind"
)

// The original fault behind a re-raised signal: from the kernel's signal frame on the
// crashing thread's stack (its siginfo, or the saved machine context), or, when the
// handler returned and the signal was delivered again, from the core's own registers.

// originalFault finds the kernel's signal frame on the crashing thread's stack (the
// fault a crash handler caught before re-raising) and returns the facts of the original
// fault: its siginfo when the handler was installed with SA_SIGINFO, else what the saved
// machine context says (x86_64: cr2, trapno and the page-fault error code).
func (a *Analysis) originalFault(r *report.Report, t *core.Thread) (*diagnose.Facts, *report.Signal) {
	frames := a.crashWalk
	if frames == nil || errors.Is(a.crashWalkErr, unwind.ErrMaxDepth) {
		frames, _ = a.Unwind(t, 0) // not walked yet, or cut short by --max-depth
	}
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
		sig := a.savedSigInfo(sf, r.Signal.Number)
		if sig == nil {
			return nil, nil
		}
		if sig.Number != r.Signal.Number && sig.Code <= 0 && strings.HasPrefix(sig.Source, "signal frame siginfo") {
			// The handler was handling a signal that something sent (a kill, a raise:
			// si_code <= 0), not a fault, and the process died of another signal: it
			// faulted in the handler itself. riscv64 saves the siginfo in every frame,
			// SA_SIGINFO or not, so a core without NT_SIGINFO shows it.
			return nil, nil
		}
		o.Signo, o.Code = sig.Number, sig.Code
		if sig.Address != nil {
			o.Addr, o.HasAddr = uint64(*sig.Address), true
		}
		if strings.HasPrefix(sig.Source, "signal frame machine context") && !diagnose.TrapFits(o) {
			// The machine context keeps the thread's last trap even when the signal
			// being handled was not a fault (a kill, a timer): believe it only when the
			// interrupted instruction could have raised it.
			return nil, nil
		}
		return o, sig
	}
	return nil, nil
}

// savedSigInfo decodes the siginfo the kernel saved in a signal frame, or, when the
// handler did not ask for it (no SA_SIGINFO: the slot is not written), reconstructs the
// fault from the saved machine context.
func (a *Analysis) savedSigInfo(sf *unwind.SignalFrame, reraised int) *report.Signal {
	c := a.Core
	buf := make([]byte, core.SigInfoSize)
	if sf.SigInfo != 0 {
		if err := c.ReadFull(buf, sf.SigInfo); err == nil {
			if si, err := core.DecodeSigInfo(c.Arch, buf); err == nil && si.Signo > 0 && si.Signo < 65 {
				return newSignal(si.Signo, si.Code, si.HasAddr, si.Addr, "signal frame siginfo")
			}
		}
	}
	if sf.Context == 0 || sf.Layout == nil || sf.Layout.Fault == nil {
		return nil
	}
	mapped := func(addr uint64) bool { return c.SegmentFor(addr) != nil }
	cf, ok := sf.Layout.Fault(c.ReadFull, sf.Context, reraised, mapped)
	if !ok {
		return nil
	}
	return newSignal(cf.Signo, cf.Code, cf.HasAddr, cf.Addr, "signal frame machine context ("+cf.Source+")")
}

// redeliveredFault recognises a fault whose handler re-raised the signal without
// SA_NODEFER, so that the core's own registers are the original context
// (diagnose.Redelivered), and describes it as a signal.
func (a *Analysis) redeliveredFault(r *report.Report, f *diagnose.Facts) (*diagnose.Facts, *report.Signal) {
	if r.Signal.SenderIsSelf == nil || !*r.Signal.SenderIsSelf {
		return nil, nil
	}
	o := diagnose.Redelivered(f)
	if o == nil {
		return nil, nil
	}
	return o, newSignal(o.Signo, o.Code, true, o.Addr,
		"the crashing thread's registers: the handler returned and the signal was delivered again at the faulting instruction")
}

// recordedFault describes the first delivery of the fatal signal that coredig run kept
// in COREDIG notes: its siginfo, and the stack walked from that thread's registers.
func (a *Analysis) recordedFault(r *report.Report, ff *core.FirstFault) (*diagnose.Facts, *report.Signal) {
	frames, err := a.unwindRegs(ff.Regs, 0, false)
	out, _, _ := a.symbolizeWalk(frames, err)
	o := a.facts(r, ff.Regs, out)
	si := ff.SigInfo
	o.Signo, o.Code = si.Signo, si.Code
	o.Addr, o.HasAddr = si.Addr, si.HasAddr
	return o, newSignal(si.Signo, si.Code, si.HasAddr, si.Addr,
		fmt.Sprintf("COREDIG note: the first delivery, to thread %d, which a handler caught (recorded by coredig run)", ff.TID))
}
