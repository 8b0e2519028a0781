package unwind

import (
	"github.com/coredig/coredig/internal/arch"
)

// FunctionStarts is implemented by Modules that know where functions start, from symbol
// tables. The unwinder then reads the prologue (arch.Arch.ReadPrologue) of a function that
// no table describes.
type FunctionStarts interface {
	// FunctionStart returns the start of the function holding run-time address pc, as its
	// symbol gives it: with the architecture's ModeBit set for a Thumb function (ELF for
	// the Arm Architecture §5.5.3).
	FunctionStart(pc uint64) (uint64, bool)
}

// stepPrologue finds f's caller from what its function's prologue pushed and how far it
// moved the stack pointer, for a pc no CFI or EHABI entry describes: the CFA is the stack
// pointer plus the prologue's frame size, the saved registers are at their offsets from
// it, and the return address is the saved link register (or, in a frame whose registers
// are the thread's or a signal's, the link register itself). It gives up (nil) when the
// architecture has no prologue reader, the function's start is unknown, the prologue did
// nothing, or memory cannot be read. Code that moves the stack pointer after its
// prologue (alloca) defeats it, as it does gdb's prologue analysers.
func (u *Unwinder) stepPrologue(f *Frame) *Frame {
	a := u.cfg.Arch
	fs, ok := u.cfg.Modules.(FunctionStarts)
	if !ok || a.ReadPrologue == nil || a.LR < 0 {
		return nil
	}
	start, ok := fs.FunctionStart(f.LookupPC())
	if !ok {
		return nil
	}
	begin, pc := start&^a.ModeBit, f.PC&^a.ModeBit
	if pc <= begin {
		return nil
	}
	code := make([]byte, min(pc-begin, arch.MaxPrologueLen))
	if u.read(code, begin) != nil {
		return nil
	}
	pf, ok := a.ReadPrologue(code, start&a.ModeBit != 0)
	if !ok {
		return nil
	}
	cfa := f.SP + pf.Size
	next := f.Regs.clone()
	next.Known &= a.CalleeSavedMask()
	ra, raKnown := uint64(0), false
	if !f.ReturnAddress {
		ra, raKnown = f.Regs.Get(a.LR)
	}
	for _, s := range pf.Saved {
		v, err := u.readPtr(cfa + uint64(s.Off))
		if err != nil {
			return nil
		}
		next.Set(s.Reg, v)
		if s.Reg == a.LR {
			ra, raKnown = v, true
		}
	}
	if !raKnown || ra == 0 || !u.executable(ra&^a.ModeBit) {
		return nil
	}
	f.CFA, f.HasCFA = cfa, true
	next.Set(a.SP, cfa)
	next.Set(a.PC, ra)
	return &Frame{Index: f.Index + 1, PC: ra, SP: cfa, FoundBy: FoundByPrologue, ReturnAddress: true, Regs: next}
}

// inPrologue reports whether f, a frame whose pc is not a return address (the thread's
// own, or one a signal interrupted), stopped before its function's prologue finished:
// the prologue read up to the pc pushed less, or moved the stack pointer less, than the
// whole prologue does. Unwind tables such as EHABI describe a function at its call sites,
// after the prologue, so such a frame is unwound from its prologue instead, as gdb does
// (arm_exidx_unwind_sniffer trusts the table in the innermost frame only at a call or a
// system call). A stack overflow faults at a prologue's push.
func (u *Unwinder) inPrologue(f *Frame) bool {
	a := u.cfg.Arch
	fs, ok := u.cfg.Modules.(FunctionStarts)
	if f.ReturnAddress || !ok || a.ReadPrologue == nil {
		return false
	}
	start, ok := fs.FunctionStart(f.PC)
	begin, pc := start&^a.ModeBit, f.PC&^a.ModeBit
	if !ok || pc < begin || pc-begin >= arch.MaxPrologueLen {
		return false
	}
	code := make([]byte, arch.MaxPrologueLen)
	n, _ := u.cfg.Mem.ReadAt(code, begin)
	if uint64(n) < pc-begin {
		return false
	}
	mode := start&a.ModeBit != 0
	whole, ok := a.ReadPrologue(code[:n], mode)
	if !ok {
		return false
	}
	part, _ := a.ReadPrologue(code[:pc-begin], mode)
	return part.Size < whole.Size || len(part.Saved) < len(whole.Saved)
}
