package analysis

import (
	"errors"
	"fmt"
	"slices"

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
	} else if errors.Is(err, disasm.ErrModeUnknown) {
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
		name := sig.Name
		if sig.CodeName != "" {
			name += " " + sig.CodeName
		}
		rd.AddEvidence("go_field_offset", off+" (from the instruction)")
		if v, how, ok := a.goFaultBase(gf, access.Base); ok {
			addr := v + uint64(access.Disp)
			if a.Core.Arch.PtrSize == 4 {
				addr &= 0xffffffff
			}
			rd.AddEvidence("go_fault_registers", fmt.Sprintf("%s = %#x (%s)", access.Base, v, how))
			rd.AddEvidence("go_fault_address", fmt.Sprintf("%#x (computed from the instruction; the runtime recorded 0x0)", addr))
			if v == 0 {
				desc = fmt.Sprintf("a nil pointer dereference (%s at %#x, computed from the instruction: it %s and %s = 0x0, so it touched the field at offset %s of a nil pointer; the runtime recorded address 0x0: under qemu-user, whose core has no NT_SIGINFO, its handler gets no fault address)", name, addr, acc, access.Base, off)
			} else {
				desc = fmt.Sprintf("%s at %#x (computed from the instruction: it %s and %s = %#x; the runtime recorded address 0x0: under qemu-user, whose core has no NT_SIGINFO, its handler gets no fault address)", name, addr, acc, access.Base, v)
			}
			break
		}
		rd.AddEvidence("go_fault_address", fmt.Sprintf("unknown: the runtime recorded 0x0, not an address at %s+%s; %s's value at the fault is not in the core", access.Base, off, access.Base))
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

// goFaultBase recovers the value the faulting access's base register held when a Go
// program faulted, for a core whose registers do not hold it (the thread has gone on to
// the runtime's abort): the faulting frame's sp is runtime.sigpanic's CFA, found by
// unwinding from where the runtime started the panic (g._panic's startPC and startSP),
// plus what the signal handler pushed (goruntime.SigpanicPush); the register's value is
// then the stack slot the function last loaded it from, when nothing on the single path
// from that load to the fault moved sp or jumped. ok is false when any step fails.
func (a *Analysis) goFaultBase(gf *goruntime.Fault, base string) (val uint64, how string, ok bool) {
	c := a.Core.Arch
	push, ok := goruntime.SigpanicPush(c)
	if !ok || gf.PanicPC == 0 || gf.PanicSP == 0 {
		return 0, "", false
	}
	regs := make([]uint64, len(c.RegNames))
	regs[c.PC], regs[c.SP] = gf.PanicPC, gf.PanicSP
	walk, _ := a.unwindRegs(regs, 16, true)
	var sp uint64
	for i := 0; i+1 < len(walk); i++ {
		if a.Modules.Lookup(walk[i].PC).Function == "runtime.sigpanic" && walk[i].HasCFA && walk[i+1].PC == gf.PC {
			sp = walk[i].CFA + push
			break
		}
	}
	s := a.Modules.Lookup(gf.PC)
	if sp == 0 || s.Function == "" || gf.PC < s.FuncStart || gf.PC-s.FuncStart > 1<<16 {
		return 0, "", false
	}
	mode := a.codeMode(gf.PC, nil)
	var insts []disasm.Inst
	for pc := s.FuncStart; pc < gf.PC && len(insts) < MaxFunctionInsts; {
		in, err := a.decodeAt(pc, disasm.SyntaxDefault, mode)
		if err != nil || in.Len <= 0 {
			return 0, "", false
		}
		insts = append(insts, in)
		pc += uint64(in.Len)
	}
	family := c.Family(base)
	spName := c.RegNames[c.SP]
	for j := len(insts) - 1; j >= 0; j-- {
		in := insts[j]
		if in.IsBranch || in.IsCall || in.IsReturn || in.Dest != "" && c.Family(in.Dest) == spName || slices.Contains(in.AlsoWrites, spName) {
			return 0, "", false // not a single straight path, or sp moved
		}
		for _, b := range insts {
			if b.IsBranch && b.Target > in.PC && b.Target <= gf.PC {
				return 0, "", false // another path joins before the fault
			}
		}
		if in.Dest == "" || c.Family(in.Dest) != family {
			if slices.Contains(in.AlsoWrites, base) {
				return 0, "", false
			}
			continue
		}
		if len(in.Mem) != 1 || in.Mem[0].Write || c.Family(in.Mem[0].Base) != spName || in.Mem[0].Index != "" ||
			in.Mem[0].PreIndex || in.Mem[0].PostIndex || in.Mem[0].Size != c.PtrSize {
			return 0, "", false
		}
		slot := sp + uint64(in.Mem[0].Disp)
		buf := make([]byte, c.PtrSize)
		if n, _ := a.Core.ReadAt(buf, slot); n != len(buf) {
			return 0, "", false
		}
		return c.Word(buf), fmt.Sprintf("loaded from the stack slot at %s%+#x by %q at %#x, %s = %#x there (runtime.sigpanic's CFA, unwound from g._panic's start, plus the %d bytes the runtime pushed)",
			spName, in.Mem[0].Disp, in.Text, in.PC, spName, sp, push), true
	}
	return 0, "", false
}
