package unwind

import (
	"errors"
	"fmt"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/dwarf/cfi"
	"github.com/coredig/coredig/internal/dwarf/expr"
)

// read reads len(p) bytes or returns the Memory's reason.
func (u *Unwinder) read(p []byte, addr uint64) error {
	if u.cfg.Mem == nil {
		return fmt.Errorf("no memory to read %#x", addr)
	}
	n, err := u.cfg.Mem.ReadAt(p, addr)
	if n < len(p) {
		if err == nil {
			err = fmt.Errorf("short read at %#x", addr)
		}
		return err
	}
	return nil
}

func (u *Unwinder) readPtr(addr uint64) (uint64, error) {
	var b [8]byte
	size := u.cfg.Arch.PtrSize
	if err := u.read(b[:size], addr); err != nil {
		return 0, err
	}
	return u.cfg.Arch.Word(b[:size]), nil
}

func (u *Unwinder) executable(addr uint64) bool {
	return u.cfg.Modules != nil && u.cfg.Modules.Executable(addr)
}

// step finds the caller of f. It returns (nil, nil) at the outermost frame. It sets f.CFA
// when it learns it and f.Signal when f is a signal trampoline.
func (u *Unwinder) step(f *Frame) (*Frame, error) {
	if f.PC == 0 && f.Index > 0 {
		return nil, nil // a zeroed return address ends some thread stacks
	}
	if f.Index > 0 && f.ReturnAddress && u.cfg.Outermost != nil && u.cfg.Outermost(f.LookupPC()&^u.cfg.Arch.ModeBit) {
		return nil, nil // _start or the clone child: nothing called it
	}
	if next, ok, err := u.stepSignal(f); ok || err != nil {
		return next, err
	}
	next, covered, cfiErr := u.stepCFI(f)
	inPrologue := !covered && u.inPrologue(f)
	if inPrologue {
		// Before its prologue finished, a function is as its code says, not as its
		// EHABI entry says (which holds at its call sites).
		if next := u.stepPrologue(f); next != nil {
			return next, nil
		}
	} else if !covered {
		// No CFI describes the pc: the module's EHABI table may (32-bit ARM).
		var ehErr error
		next, covered, ehErr = u.stepEHABI(f)
		if cfiErr == nil {
			cfiErr = ehErr
		}
	}
	if next == nil && cfiErr == nil && covered {
		// The CFI says this is the outermost frame. Runtimes say so of their signal
		// handlers (Go's runtime.sigtramp on arm64), though the kernel entered them with
		// the return address at the rt_sigreturn trampoline: follow it when it is there.
		next = u.stepToTrampoline(f)
	}
	if next != nil || (cfiErr == nil && covered) {
		return next, nil // found, or the CFI says this is the outermost frame
	}
	if !covered && !inPrologue {
		// No table at all: what the function's prologue did (32-bit ARM).
		if next := u.stepPrologue(f); next != nil {
			return next, nil
		}
	}
	if u.cfg.Arch.BackChain != nil && f.ReturnAddress {
		// A function that called has set up its frame and saved its return address
		// (frame 0 and an interrupted frame may not have yet: the scan's link
		// register is for them).
		next, end, err := u.stepBackChain(f)
		if next != nil || end {
			return next, nil
		} else if cfiErr == nil {
			cfiErr = err
		}
	}
	if next := u.stepLeaf(f); next != nil {
		return next, nil
	}
	// A context frame whose pc is not code (a call through a bad pointer) has its return
	// address at the top of the stack or in the link register: the scan finds it first.
	if f.Index > 0 || u.executable(f.PC) {
		if next, err := u.stepFramePointer(f); next != nil {
			return next, nil
		} else if cfiErr == nil {
			cfiErr = err
		}
	}
	// A frame pointer chain ends with a zero frame pointer (System V AMD64 psABI §3.4.1:
	// the deepest frame sets %rbp to 0; AAPCS64 §6.2.3 ends the frame record chain with 0).
	if fp, ok := f.Regs.Get(u.cfg.Arch.FP); ok && fp == 0 && f.FoundBy == FoundByFramePointer {
		return nil, nil
	}
	if next := u.stepScan(f); next != nil {
		if u.cfg.ThreadStart != nil && u.cfg.ThreadStart(next.PC&^u.cfg.Arch.ModeBit-1) {
			return nil, nil // f was called by the code that starts its thread: the outermost frame
		}
		return next, nil
	}
	if f.ReturnAddress && errors.Is(cfiErr, errCantUnwind) {
		return nil, nil // a caller's table ends the stack (_start)
	}
	if cfiErr != nil {
		return nil, cfiErr
	}
	return nil, fmt.Errorf("frame %d at %#x: %w", f.Index, f.PC, ErrNoCaller)
}

// stepSignal recognises the rt_sigreturn trampoline at f.PC and returns the interrupted
// frame from the kernel's signal frame.
func (u *Unwinder) stepSignal(f *Frame) (*Frame, bool, error) {
	a := u.cfg.Arch
	l := u.trampolineAt(f.PC)
	if l == nil {
		return nil, false, nil
	}
	sf, err := u.sigFrame(l, f.SP)
	if err != nil {
		return nil, true, fmt.Errorf("frame %d: signal frame: %w", f.Index, err)
	}
	f.Signal = sf
	f.CFA, f.HasCFA = sf.Context, true
	pc, _ := sf.Regs.Get(a.PC)
	sp, _ := sf.Regs.Get(a.SP)
	return &Frame{Index: f.Index + 1, PC: pc, SP: sp, FoundBy: FoundBySignalFrame, Regs: sf.Regs}, true, nil
}

// trampolineAt returns the signal frame layout whose trampoline is at pc, or nil.
func (u *Unwinder) trampolineAt(pc uint64) *arch.SignalLayout {
	n := u.cfg.Arch.TrampolineLen()
	if n == 0 || pc == 0 || u.cfg.Mem == nil {
		return nil
	}
	code := make([]byte, n)
	k, _ := u.cfg.Mem.ReadAt(code, pc&^u.cfg.Arch.ModeBit)
	return u.cfg.Arch.SignalFrameAt(code[:max(k, 0)])
}

// sigFrame reads the registers the kernel saved in its signal frame of layout l, given
// the stack pointer at its trampoline.
func (u *Unwinder) sigFrame(l *arch.SignalLayout, sp uint64) (*SignalFrame, error) {
	a := u.cfg.Arch
	size := 0
	for _, r := range l.Regs {
		size = max(size, r.Off+r.Size)
	}
	ctx := sp + l.Context
	buf := make([]byte, size)
	if err := u.read(buf, ctx); err != nil {
		return nil, fmt.Errorf("reading the %s sigcontext at %#x: %w", a.Name, ctx, err)
	}
	r := newRegisters(len(a.RegNames))
	for _, sr := range l.Regs {
		var v uint64
		switch sr.Size {
		case 2:
			v = uint64(a.ByteOrder.Uint16(buf[sr.Off:]))
		case 4:
			v = uint64(a.ByteOrder.Uint32(buf[sr.Off:]))
		case 8:
			v = a.ByteOrder.Uint64(buf[sr.Off:])
		}
		r.Set(a.Reg(sr.Name), v)
	}
	sf := &SignalFrame{Regs: r, Context: ctx, Layout: l}
	switch {
	case l.SigInfoAt != nil:
		sf.SigInfo, _ = l.SigInfoAt(func(p []byte, addr uint64) error { return u.read(p, addr) }, sp)
	case !l.NoSigInfo:
		sf.SigInfo = sp + l.SigInfo
	}
	return sf, nil
}

// maxHandlerWords bounds the search of a signal handler's frame for its return address.
const maxHandlerWords = 128

// stepToTrampoline looks, in a frame whose CFI ends the stack, for a return address that
// leads to the rt_sigreturn trampoline: the link register, then the words of the frame
// from its stack pointer up to its CFA, where a handler's prologue saved it. The
// trampoline's own frame then starts at the CFA (less Arch.CFABias), where the kernel put
// the rt_sigframe.
//
// Go's 32-bit ARM runtime.sigtramp pushes r4-r11 with a MOVM the assembler's CFI does
// not count, so its CFA is 32 bytes low and its saved return address lies above it, at
// the top of the handler's frame. Failing the first search, the words above the CFA are
// searched too (within maxHandlerWords of the stack pointer), and a trampoline found
// there starts its frame just above the word that held its address.
func (u *Unwinder) stepToTrampoline(f *Frame) *Frame {
	a := u.cfg.Arch
	if a.TrampolineLen() == 0 || !f.HasCFA || f.CFA <= f.SP || (f.CFA-f.SP)/uint64(a.PtrSize) > maxHandlerWords {
		return nil
	}
	at := func(pc, sp uint64) *Frame {
		regs := newRegisters(len(a.RegNames))
		regs.Set(a.PC, pc)
		regs.Set(a.SP, sp)
		return &Frame{Index: f.Index + 1, PC: pc, SP: sp, FoundBy: FoundByScan, Regs: regs}
	}
	isTramp := func(pc uint64) bool { return u.trampolineAt(pc) != nil }
	if a.LR >= 0 {
		if lr, ok := f.Regs.Get(a.LR); ok && isTramp(stripPAC(lr)) {
			return at(stripPAC(lr), f.CFA-a.CFABias)
		}
	}
	w := uint64(a.Slot())
	buf := make([]byte, maxHandlerWords*w)
	n, _ := u.cfg.Mem.ReadAt(buf, f.SP)
	for off := uint64(0); off+w <= uint64(max(n, 0)); off += w {
		pc := stripPAC(a.Word(buf[off:]))
		if !isTramp(pc) {
			continue
		}
		if f.SP+off < f.CFA {
			return at(pc, f.CFA-a.CFABias)
		}
		return at(pc, f.SP+off+w)
	}
	return nil
}

// dwarfRegs gives expr access to a frame's registers by DWARF number.
type dwarfRegs struct {
	u *Unwinder
	r *Registers
}

func (d dwarfRegs) Reg(n uint64) (uint64, error) {
	i := d.u.cfg.Arch.FromDWARF(n)
	v, ok := d.r.Get(i)
	if !ok {
		return 0, &RegisterError{DWARF: n}
	}
	return v, nil
}

// stepCFI applies the first CFI row found for f. covered says whether a table had an FDE
// for the pc; next is nil when none did or when the row ends the stack (undefined return
// address).
func (u *Unwinder) stepCFI(f *Frame) (next *Frame, covered bool, err error) {
	if u.cfg.Modules == nil {
		return nil, false, nil
	}
	pc := f.LookupPC()
	var firstErr error
	for _, t := range u.cfg.Modules.CFI(pc) {
		if t.Table == nil {
			continue
		}
		row, err := t.Table.RowForPC(pc - t.Bias)
		if errors.Is(err, cfi.ErrNoFDE) {
			continue
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("frame %d at %#x: %w", f.Index, f.PC, err)
			}
			continue
		}
		covered = true
		next, err := u.applyRow(f, &row)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("frame %d at %#x: %w", f.Index, f.PC, err)
			}
			continue
		}
		return next, true, nil
	}
	return nil, covered, firstErr
}

func (u *Unwinder) applyRow(f *Frame, row *cfi.Row) (*Frame, error) {
	a := u.cfg.Arch
	regs := dwarfRegs{u: u, r: &f.Regs}
	ectx := &expr.Context{Regs: regs, Mem: u.cfg.Mem, PtrSize: a.PtrSize, Order: a.ByteOrder}
	var cfa uint64
	switch row.CFA.Kind {
	case cfi.CFARegOffset:
		v, err := regs.Reg(row.CFA.Reg)
		if err != nil {
			return nil, fmt.Errorf("CFA rule: %w", err)
		}
		cfa = v + uint64(row.CFA.Offset)
	case cfi.CFAExpression:
		res, err := expr.Eval(row.CFA.Expr, ectx)
		if err != nil {
			return nil, fmt.Errorf("CFA expression: %w", err)
		}
		if res.Kind == expr.Register {
			v, err := regs.Reg(res.Reg)
			if err != nil {
				return nil, fmt.Errorf("CFA expression: %w", err)
			}
			cfa = v
		} else {
			cfa = res.Value
		}
	default:
		return nil, fmt.Errorf("FDE at %#x: no CFA rule", row.FDE.Offset)
	}
	ectx.CFA, ectx.HasCFA = cfa, true

	// The caller's registers: callee-saved values carry over unless a rule says otherwise.
	next := f.Regs.clone()
	next.Known &= u.cfg.Arch.CalleeSavedMask()
	raIdx := a.FromDWARF(row.RA)
	if raIdx >= 0 && raIdx != a.PC {
		// The return address column (aarch64 x30) keeps its value when it has no rule.
		if v, ok := f.Regs.Get(raIdx); ok {
			next.Set(raIdx, v)
		}
	}
	var ra uint64
	raKnown := false
	if raIdx >= 0 {
		ra, raKnown = f.Regs.Get(raIdx)
		if raIdx == a.PC {
			raKnown = false // x86_64: rip has no "same value" in the caller
		}
	}
	var raErr error
	for _, rr := range row.Rules {
		idx := a.FromDWARF(rr.Reg)
		isRA := rr.Reg == row.RA
		if idx < 0 && !isRA {
			continue
		}
		v, known, err := u.ruleValue(rr.Rule, rr.Reg, &f.Regs, cfa, ectx)
		if rr.Rule.Kind == cfi.Undefined && isRA {
			f.CFA, f.HasCFA = cfa, true
			return nil, nil // the outermost frame
		}
		if isRA {
			ra, raKnown, raErr = v, known, err
		}
		if idx >= 0 {
			if known {
				next.Set(idx, v)
			} else {
				next.Clear(idx)
			}
		}
	}
	f.CFA, f.HasCFA = cfa, true
	if raErr != nil {
		return nil, fmt.Errorf("return address: %w", raErr)
	}
	if !raKnown {
		return nil, fmt.Errorf("return address column %d has no value", row.RA)
	}
	if row.RAMangled {
		ra = stripPAC(ra)
	}
	if ra == 0 {
		return nil, nil
	}
	sp := cfa - a.CFABias
	faultEntry := u.cfg.FaultEntry != nil && u.cfg.FaultEntry(f.PC)
	if faultEntry && a.LR >= 0 {
		// On a link-register machine the runtime made room on the stack and saved the
		// faulting code's link register there before it faked the call (Go's arm64
		// preparePanic: sp -= 16; *sp = lr; 4 bytes on 32-bit ARM): undo both.
		lr, err := u.readPtr(cfa)
		if err != nil {
			return nil, fmt.Errorf("link register saved by the runtime at %#x: %w", cfa, err)
		}
		next.Set(a.LR, lr)
		sp = cfa + a.GoPanicPush
	}
	next.Set(a.SP, sp)
	next.Set(a.PC, ra)
	return &Frame{Index: f.Index + 1, PC: ra, SP: sp, FoundBy: FoundByCFI,
		ReturnAddress: !row.SignalFrame && !faultEntry, Regs: next}, nil
}

// stripPAC removes a pointer authentication code from a user-space aarch64 address (48-bit
// virtual addresses, top byte possibly tagged).
func stripPAC(v uint64) uint64 { return v & (1<<48 - 1) }

// ruleValue evaluates one register rule.
func (u *Unwinder) ruleValue(r cfi.Rule, reg uint64, cur *Registers, cfa uint64, ectx *expr.Context) (uint64, bool, error) {
	regs := dwarfRegs{u: u, r: cur}
	switch r.Kind {
	case cfi.Unspecified, cfi.SameValue:
		v, err := regs.Reg(reg)
		return v, err == nil, nil
	case cfi.Undefined:
		return 0, false, nil
	case cfi.Offset:
		addr := cfa + uint64(r.Offset)
		v, err := u.readPtr(addr)
		if err != nil {
			return 0, false, fmt.Errorf("saved register %d at %#x: %w", reg, addr, err)
		}
		return v, true, nil
	case cfi.ValOffset:
		return cfa + uint64(r.Offset), true, nil
	case cfi.Register:
		v, err := regs.Reg(r.Reg)
		return v, err == nil, err
	case cfi.Expression, cfi.ValExpression:
		res, err := expr.Eval(r.Expr, ectx, cfa)
		if err != nil {
			return 0, false, err
		}
		if res.Kind == expr.Register {
			v, err := regs.Reg(res.Reg)
			return v, err == nil, err
		}
		if r.Kind == cfi.ValExpression || res.Kind == expr.Value {
			return res.Value, true, nil
		}
		v, err := u.readPtr(res.Value)
		if err != nil {
			return 0, false, fmt.Errorf("saved register %d at %#x: %w", reg, res.Value, err)
		}
		return v, true, nil
	}
	return 0, false, nil
}

// stepFramePointer follows the {saved fp, return address} record at the frame pointer
// (Arch.FrameRecord from it).
func (u *Unwinder) stepFramePointer(f *Frame) (*Frame, error) {
	a := u.cfg.Arch
	fp, ok := f.Regs.Get(a.FP)
	if !ok || fp == 0 || fp%uint64(a.PtrSize) != 0 {
		return nil, nil
	}
	fp += uint64(a.FrameRecord)
	if fp < f.SP {
		return nil, nil
	}
	ps := uint64(a.Slot())
	savedFP, err := u.readPtr(fp)
	if err != nil {
		return nil, fmt.Errorf("frame %d: frame record at %#x: %w", f.Index, fp, err)
	}
	ra, err := u.readPtr(fp + ps)
	if err != nil {
		return nil, fmt.Errorf("frame %d: return address at %#x: %w", f.Index, fp+ps, err)
	}
	if ra == 0 || !u.executable(ra) {
		return nil, nil
	}
	cfa := fp + 2*ps
	next := f.Regs.clone()
	next.Known &= u.cfg.Arch.CalleeSavedMask()
	next.Set(a.FP, savedFP)
	next.Set(a.SP, cfa)
	next.Set(a.PC, ra)
	f.CFA, f.HasCFA = cfa, true
	return &Frame{Index: f.Index + 1, PC: ra, SP: cfa, FoundBy: FoundByFramePointer,
		ReturnAddress: true, Regs: next}, nil
}

// stepLeaf finds the caller of an innermost or interrupted frame that no table describes,
// on an architecture whose calls leave the return address in a link register and whose
// frames link frame records (aarch64, riscv64): when the record at the frame pointer does
// not hold the link register, the function has not saved it there (a leaf, or code
// before its prologue), so the link register is its return address and the frame pointer
// and stack pointer are still the caller's. The link register must point just after a
// call (when its code is in the core) and not back into the frame's own function (a
// stale one from an earlier call). The frame is marked as found by the scan: nothing
// but this reasoning says the function is a leaf.
func (u *Unwinder) stepLeaf(f *Frame) *Frame {
	a := u.cfg.Arch
	if f.ReturnAddress || f.Signal != nil || a.RAOnStack || a.LR < 0 || a.FP < 0 {
		return nil
	}
	lr, ok := f.Regs.Get(a.LR)
	lr = stripPAC(lr)
	if !ok || lr == 0 || lr == f.PC || !u.executable(lr) {
		return nil
	}
	code := make([]byte, arch.MaxCallLen)
	if u.read(code, lr-arch.MaxCallLen) == nil && !a.CallBefore(code) {
		return nil
	}
	if fs, ok := u.cfg.Modules.(FunctionStarts); ok {
		s1, ok1 := fs.FunctionStart(f.PC)
		s2, ok2 := fs.FunctionStart(lr - 1)
		if ok1 && ok2 && s1 == s2 {
			return nil
		}
	}
	if fp, ok := f.Regs.Get(a.FP); ok && fp != 0 {
		if ra, err := u.readPtr(fp + uint64(a.FrameRecord) + uint64(a.PtrSize)); err == nil && stripPAC(ra) == lr {
			return nil // saved in its frame record: the frame pointer step follows it
		}
	}
	next := f.Regs.clone()
	next.Known &= a.CalleeSavedMask()
	next.Set(a.PC, lr)
	return &Frame{Index: f.Index + 1, PC: lr, SP: f.SP, FoundBy: FoundByScan, ReturnAddress: true, Regs: next}
}

// stepBackChain follows the back chain (Arch.BackChain): the word at f's stack pointer
// is its caller's stack pointer, and f's return address is saved at BackChain.RA above
// that. end is true when the chain or the saved return address is 0, which is how the
// outermost frame (the kernel's initial frame, glibc's _start and clone child) ends it.
func (u *Unwinder) stepBackChain(f *Frame) (next *Frame, end bool, err error) {
	a := u.cfg.Arch
	bc := a.BackChain
	if f.SP == 0 || f.SP%bc.Align != 0 {
		return nil, false, nil
	}
	caller, err := u.readPtr(f.SP)
	if err != nil {
		return nil, false, fmt.Errorf("frame %d: back chain at %#x: %w", f.Index, f.SP, err)
	}
	if caller == 0 {
		return nil, true, nil
	}
	if caller <= f.SP || caller%bc.Align != 0 {
		return nil, false, nil // not a chain: the frame did not store one
	}
	slot := caller + uint64(bc.RA)
	ra, err := u.readPtr(slot)
	if err != nil {
		return nil, false, fmt.Errorf("frame %d: return address at %#x: %w", f.Index, slot, err)
	}
	if ra == 0 {
		f.CFA, f.HasCFA = caller+a.CFABias, true
		return nil, true, nil
	}
	if !u.isReturnAddress(ra) {
		return nil, false, nil
	}
	// The chain says nothing of where f saved the callee-saved registers it used (GCC's
	// frame pointer r31 among them, which the caller's CFI may define its CFA by): the
	// caller knows its stack pointer and pc only.
	regs := newRegisters(len(a.RegNames))
	regs.Set(a.SP, caller)
	regs.Set(a.PC, ra)
	f.CFA, f.HasCFA = caller+a.CFABias, true
	return &Frame{Index: f.Index + 1, PC: ra, SP: caller, FoundBy: FoundByFramePointer,
		ReturnAddress: true, Regs: regs}, false, nil
}

// stepScan looks up the stack for a word that is a return address.
func (u *Unwinder) stepScan(f *Frame) *Frame {
	a := u.cfg.Arch
	if u.cfg.ScanWords < 0 {
		return nil
	}
	ps := uint64(a.Slot())
	start := f.SP
	if f.HasCFA && f.CFA > start {
		start = f.CFA - ps // a CFI frame's return address slot is just below its CFA
	}
	// aarch64 leaf functions keep the return address in the link register.
	if f.Index == 0 && !a.RAOnStack && a.LR >= 0 {
		if lr, ok := f.Regs.Get(a.LR); ok && lr != f.PC && u.isReturnAddress(stripPAC(lr)) {
			next := f.Regs.clone()
			next.Known &= u.cfg.Arch.CalleeSavedMask()
			next.Set(a.PC, stripPAC(lr))
			return &Frame{Index: 1, PC: stripPAC(lr), SP: f.SP, FoundBy: FoundByScan,
				ReturnAddress: true, Regs: next}
		}
	}
	const chunkWords = 64
	buf := make([]byte, chunkWords*ps)
	for w := 0; w < u.cfg.ScanWords; w += chunkWords {
		base := start + uint64(w)*ps
		n, _ := u.cfg.Mem.ReadAt(buf, base)
		for i := 0; i+int(ps) <= n && w+i/int(ps) < u.cfg.ScanWords; i += int(ps) {
			var v uint64
			if ps == 4 {
				v = uint64(a.ByteOrder.Uint32(buf[i:]))
			} else {
				v = a.ByteOrder.Uint64(buf[i:])
			}
			if v == 0 || !u.isReturnAddress(v) {
				continue
			}
			slot := base + uint64(i)
			cfa := slot + ps
			next := f.Regs.clone()
			next.Known &= u.cfg.Arch.CalleeSavedMask()
			next.Clear(a.FP) // unknown: the scan does not know where it was saved
			next.Set(a.SP, cfa)
			next.Set(a.PC, v)
			f.CFA, f.HasCFA = cfa, true
			return &Frame{Index: f.Index + 1, PC: v, SP: cfa, FoundBy: FoundByScan,
				ReturnAddress: true, Regs: next}
		}
		if n < len(buf) {
			break
		}
	}
	return nil
}

// isReturnAddress reports whether v points just after a call instruction in executable
// memory.
func (u *Unwinder) isReturnAddress(v uint64) bool {
	v &^= u.cfg.Arch.ModeBit // the call ends at the address, not at the Thumb bit
	if v < 8 || !u.executable(v) {
		return false
	}
	code := make([]byte, arch.MaxCallLen)
	if u.read(code, v-arch.MaxCallLen) != nil {
		// The call may start near the beginning of a mapping: try the short forms.
		code = code[4:]
		if u.read(code, v-4) != nil {
			return false
		}
	}
	return u.cfg.Arch.CallBefore(code)
}
