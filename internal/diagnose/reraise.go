package diagnose

import (
	"bytes"
	"strings"

	"github.com/coredig/coredig/internal/disasm"
)

// Checks on the original fault behind a re-raised signal. A crash handler that catches a
// fault and raises the signal again leaves the core saying "sent by the process itself";
// the original fault is in the kernel's signal frame (its siginfo, or a machine context
// the caller reconstructs a fault from), or, when the handler returned and the signal was
// delivered again, in the crashing thread's own registers.

// Redelivered recognises a SIGSEGV whose handler re-raised it without SA_NODEFER: the
// raised signal stays blocked until the handler returns, then the faulting instruction
// runs again and faults again, so f's registers are the original context. It applies
// when an operand of the instruction at the pc computes to memory the process cannot
// access (unmapped, or written while not writable); it returns the facts of that fault
// (signal, code, address), or nil. The caller checks that the process sent the signal
// to itself.
func Redelivered(f *Facts) *Facts {
	if f.Inst == nil || f.Signo != SIGSEGV {
		return nil
	}
	for _, op := range f.Inst.Mem {
		addr, err := disasm.EffectiveAddr(f.Arch, op, regFunc(f.Regs))
		if err != nil {
			continue
		}
		m := mappingAt(f.Mappings, addr)
		code := 0
		switch {
		case m == nil:
			code = SEGV_MAPERR
		case op.Write && !m.Writable():
			code = SEGV_ACCERR
		default:
			continue
		}
		o := *f
		o.Signo, o.Code, o.Addr, o.HasAddr = SIGSEGV, code, addr, true
		o.HasSender, o.Original = false, nil
		return &o
	}
	return nil
}

// FaultFits reports whether the instruction at o's pc could have faulted at o.Addr: one
// of its memory operands computes to the same page, or the pc itself is the address (a
// jump to unmapped or non-executable memory).
func FaultFits(o *Facts) bool {
	pc := o.Regs[o.pcName()]
	if pc&^0xfff == o.Addr&^0xfff {
		return true
	}
	if o.Inst == nil {
		return false
	}
	for _, op := range o.Inst.Mem {
		addr, err := disasm.EffectiveAddr(o.Arch, op, regFunc(o.Regs))
		if err == nil && addr&^0xfff == o.Addr&^0xfff {
			return true
		}
	}
	return false
}

// TrapFits reports whether the instruction at o's pc could have raised the fault o
// describes (Signo, HasAddr), as reconstructed from a saved machine context. The context
// keeps the thread's last trap even when the signal being handled was not a fault (a
// kill, a timer), so it is believed only when the interrupted instruction fits.
func TrapFits(o *Facts) bool {
	mem := func(ok func(addr uint64, op disasm.MemOperand) bool) bool {
		if o.Inst == nil {
			return false
		}
		for _, op := range o.Inst.Mem {
			if addr, err := disasm.EffectiveAddr(o.Arch, op, regFunc(o.Regs)); err == nil && ok(addr, op) {
				return true
			}
		}
		return false
	}
	mnemonic := ""
	if o.Inst != nil {
		mnemonic = strings.ToLower(o.Inst.Mnemonic)
	}
	switch {
	case o.Signo == SIGSEGV && o.HasAddr:
		return FaultFits(o)
	case o.Signo == SIGSEGV: // #GP: a non-canonical address
		return o.Arch != nil && mem(func(addr uint64, _ disasm.MemOperand) bool { return !o.Arch.Canonical(addr) })
	case o.Signo == SIGFPE: // #DE
		return strings.HasPrefix(mnemonic, "div") || strings.HasPrefix(mnemonic, "idiv")
	case o.Signo == SIGILL: // #UD
		return o.Inst == nil || strings.HasPrefix(mnemonic, "ud")
	case o.Signo == SIGTRAP: // #BP: the pc is just after a breakpoint instruction (int3)
		if o.Arch == nil || len(o.Arch.BreakpointBefore) == 0 || o.Mem == nil {
			return false
		}
		bp := o.Arch.BreakpointBefore
		pc := o.Regs[o.pcName()]
		b := make([]byte, len(bp))
		n, err := o.Mem.ReadAt(b, pc-uint64(len(bp)))
		return err == nil && n == len(b) && bytes.Equal(b, bp)
	case o.Signo == SIGBUS: // #AC: a misaligned access
		return mem(func(addr uint64, op disasm.MemOperand) bool { return op.Size > 1 && addr%uint64(op.Size) != 0 })
	}
	return false
}
