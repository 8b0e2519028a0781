package analysis

import (
	"bytes"
	"debug/elf"
	"errors"
	"strings"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/diagnose"
	"github.com/coredig/coredig/internal/disasm"
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
		o.Signo, o.Code = sig.Number, sig.Code
		if sig.Address != nil {
			o.Addr, o.HasAddr = uint64(*sig.Address), true
		}
		if strings.HasPrefix(sig.Source, "signal frame machine context") && !a.consistentWithTrap(o, sig) {
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
				s := &report.Signal{Number: si.Signo, Name: core.SignalName(si.Signo), Meaning: core.SignalMeaning(si.Signo),
					Code: si.Code, CodeName: core.CodeName(si.Signo, si.Code), CodeMeaning: core.CodeMeaning(si.Signo, si.Code), Source: "signal frame siginfo"}
				if si.HasAddr {
					s.Address = report.HexPtr(si.Addr)
				}
				return s
			}
		}
	}
	if sf.Context == 0 || c.Arch.Signal.Fault == nil {
		return nil
	}
	mapped := func(addr uint64) bool { return c.SegmentFor(addr) != nil }
	cf, ok := c.Arch.Signal.Fault(c.ReadFull, sf.Context, reraised, mapped)
	if !ok {
		return nil
	}
	s := &report.Signal{Number: cf.Signo, Name: core.SignalName(cf.Signo), Meaning: core.SignalMeaning(cf.Signo), Code: cf.Code,
		CodeName: core.CodeName(cf.Signo, cf.Code), CodeMeaning: core.CodeMeaning(cf.Signo, cf.Code),
		Source: "signal frame machine context (" + cf.Source + ")"}
	if cf.HasAddr {
		s.Address = report.HexPtr(cf.Addr)
	}
	return s
}

// redeliveredFault recognises a fault whose handler re-raised the signal without
// SA_NODEFER: the raised signal stays blocked until the handler returns, then is
// delivered at the faulting instruction again, so the core's own registers are the
// original context. It applies when the instruction at the pc accesses memory the
// process cannot access, and the fault address is the one the registers compute.
func (a *Analysis) redeliveredFault(r *report.Report, f *diagnose.Facts) (*diagnose.Facts, *report.Signal) {
	if f.Inst == nil || r.Signal.Number != 11 || r.Signal.SenderIsSelf == nil || !*r.Signal.SenderIsSelf {
		return nil, nil
	}
	for _, op := range f.Inst.Mem {
		addr, err := disasm.EffectiveAddr(op, func(n string) (uint64, bool) { v, ok := f.Regs[n]; return v, ok })
		if err != nil {
			continue
		}
		seg := a.Core.SegmentFor(addr)
		code := 0
		switch {
		case seg == nil:
			code = 1 // SEGV_MAPERR
		case op.Write && seg.Flags&elf.PF_W == 0:
			code = 2 // SEGV_ACCERR
		default:
			continue
		}
		o := *f
		o.Signo, o.Code, o.Addr, o.HasAddr = 11, code, addr, true
		o.HasSender, o.Original = false, nil
		sig := &report.Signal{Number: 11, Name: "SIGSEGV", Meaning: core.SignalMeaning(11), Code: code,
			CodeName: core.CodeName(11, code), CodeMeaning: core.CodeMeaning(11, code), Address: report.HexPtr(addr),
			Source: "the crashing thread's registers: the handler returned and the signal was delivered again at the faulting instruction"}
		return &o, sig
	}
	return nil, nil
}

// consistentFault reports whether the instruction at the context's pc could have faulted
// at its fault address: one of its memory operands computes to the same page, or the pc
// itself is the address (a jump to unmapped or non-executable memory).
func (a *Analysis) consistentFault(o *diagnose.Facts) bool {
	pc := o.Regs[a.Core.Arch.RegNames[a.Core.Arch.PC]]
	if pc&^0xfff == o.Addr&^0xfff {
		return true
	}
	if o.Inst == nil {
		return false
	}
	for _, op := range o.Inst.Mem {
		addr, err := disasm.EffectiveAddr(op, func(n string) (uint64, bool) { v, ok := o.Regs[n]; return v, ok })
		if err == nil && addr&^0xfff == o.Addr&^0xfff {
			return true
		}
	}
	return false
}

// consistentWithTrap reports whether the instruction at the context's pc could have raised
// the fault reconstructed from the machine context.
func (a *Analysis) consistentWithTrap(o *diagnose.Facts, sig *report.Signal) bool {
	regs := func(n string) (uint64, bool) { v, ok := o.Regs[n]; return v, ok }
	mem := func(ok func(addr uint64, op disasm.MemOperand) bool) bool {
		if o.Inst == nil {
			return false
		}
		for _, op := range o.Inst.Mem {
			if addr, err := disasm.EffectiveAddr(op, regs); err == nil && ok(addr, op) {
				return true
			}
		}
		return false
	}
	mnemonic := ""
	if o.Inst != nil {
		mnemonic = o.Inst.Mnemonic
	}
	switch {
	case sig.Number == 11 && sig.Address != nil:
		return a.consistentFault(o)
	case sig.Number == 11: // #GP: a non-canonical address
		return mem(func(addr uint64, _ disasm.MemOperand) bool { return !a.Core.Arch.Canonical(addr) })
	case sig.Number == 8: // #DE
		m := strings.ToLower(mnemonic)
		return strings.HasPrefix(m, "div") || strings.HasPrefix(m, "idiv")
	case sig.Number == 4: // #UD
		m := strings.ToLower(mnemonic)
		return o.Inst == nil || strings.HasPrefix(m, "ud")
	case sig.Number == 5: // #BP: the pc is just after a breakpoint instruction (int3)
		pc := o.Regs[a.Core.Arch.RegNames[a.Core.Arch.PC]]
		bp := a.Core.Arch.BreakpointBefore
		b := make([]byte, len(bp))
		return len(bp) > 0 && a.Core.ReadFull(b, pc-uint64(len(bp))) == nil && bytes.Equal(b, bp)
	case sig.Number == 7: // #AC: a misaligned access
		return mem(func(addr uint64, op disasm.MemOperand) bool { return op.Size > 1 && addr%uint64(op.Size) != 0 })
	}
	return false
}
