package unwind

import (
	"errors"
	"fmt"

	"github.com/coredig/coredig/internal/ehabi"
)

// EHABI is one module's ARM exception-handling index (.ARM.exidx, package ehabi) and the
// load bias to add to its addresses (0 when it was read from process memory at its
// run-time address).
type EHABI struct {
	Table *ehabi.Table
	Bias  uint64
}

// EHABIModules is implemented by Modules whose modules may carry EHABI tables instead of,
// or beside, CFI (32-bit ARM binaries, with SHT_ARM_EXIDX or PT_ARM_EXIDX). The unwinder
// asks it only for a pc that no CFI table covers.
type EHABIModules interface {
	// EHABI returns the table of the module holding run-time address pc, or nil.
	EHABI(pc uint64) *EHABI
}

// ehabiRegs is the number of core registers EHABI's virtual register set has: r0-r15,
// which are also DWARF registers 0-15 (ARM IHI 0040, aadwarf32 §4.1).
const ehabiRegs = 16

// errCantUnwind: the function's EHABI entry says it cannot be unwound.
var errCantUnwind = errors.New("the function's EHABI entry says it cannot be unwound (EXIDX_CANTUNWIND)")

// stepEHABI unwinds f by the opcodes of its function's EHABI entry. covered says whether
// an entry describes the pc. EXIDX_CANTUNWIND (and the opcode that refuses to unwind)
// counts as not covered, with an error wrapping errCantUnwind: glibc marks the outermost
// functions so (_start, and clone's child, in sysdeps/unix/sysv/linux/arm/clone.S), but
// the linker also gives it to code compiled without tables, so the frame pointer and the
// scan still get their chance. next is nil when the entry ends the stack (a zero return
// address).
func (u *Unwinder) stepEHABI(f *Frame) (next *Frame, covered bool, err error) {
	m, ok := u.cfg.Modules.(EHABIModules)
	if !ok {
		return nil, false, nil
	}
	pc := f.LookupPC()
	t := m.EHABI(pc)
	if t == nil || t.Table == nil {
		return nil, false, nil
	}
	ent, err := t.Table.Find(pc - t.Bias)
	if errors.Is(err, ehabi.ErrNoEntry) {
		return nil, false, nil
	}
	if errors.Is(err, ehabi.ErrCantUnwind) {
		return nil, false, fmt.Errorf("frame %d at %#x: %w", f.Index, f.PC, errCantUnwind)
	}
	if err != nil {
		return nil, true, fmt.Errorf("frame %d at %#x: %w", f.Index, f.PC, err)
	}
	a := u.cfg.Arch
	var s ehabi.State
	for n := 0; n < ehabiRegs; n++ {
		if v, ok := f.Regs.Get(a.FromDWARF(uint64(n))); ok {
			s.R[n] = uint32(v)
			s.Known |= 1 << n
		}
	}
	if err := ehabi.Execute(ent.Ops, &s, u.cfg.Mem, a.ByteOrder); errors.Is(err, ehabi.ErrCantUnwind) {
		return nil, false, fmt.Errorf("frame %d at %#x: %w", f.Index, f.PC, errCantUnwind)
	} else if err != nil {
		return nil, true, fmt.Errorf("frame %d at %#x: EHABI entry of the function at %#x: %w", f.Index, f.PC, ent.Start+t.Bias, err)
	}
	cfa, ra := uint64(s.R[ehabi.SP]), uint64(s.R[ehabi.PC])
	f.CFA, f.HasCFA = cfa, true
	if ra == 0 {
		return nil, true, nil
	}
	regs := f.Regs.clone()
	regs.Known &= a.CalleeSavedMask()
	for n := 0; n < ehabiRegs; n++ {
		if s.Set&(1<<n) != 0 {
			regs.Set(a.FromDWARF(uint64(n)), uint64(s.R[n]))
		}
	}
	return &Frame{Index: f.Index + 1, PC: ra, SP: cfa, FoundBy: FoundByEHABI, ReturnAddress: true, Regs: regs}, true, nil
}
