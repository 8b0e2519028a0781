package analysis

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/diagnose"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/dwarf/leb128"
	"github.com/coredig/coredig/internal/dwarfvar"
	"github.com/coredig/coredig/internal/report"
)

// Limits of the backward search for where a register got its value.
const (
	maxOriginInsts = 4096 // instructions decoded from the function's start
	maxOriginHops  = 4    // loads followed back through registers
)

// accessOrigin says, in source terms, what the faulting access read or wrote: the
// variable the base register held (from its DWARF location at the pc, or from the load
// that last set the register: a local's stack slot, a global through the GOT), its type,
// and the field at the displacement ("runtime_signals->handlers[6].tripped").
type accessOrigin struct {
	Pointer string // the pointer variable: "runtime_signals", "p"
	Type    string // its C type: "struct signal_state *"
	Access  string // the expression accessed: "runtime_signals->handlers[6].tripped"
	How     string // how the pointer was found: "DWARF location", "loaded from ..."
	Caller  string // the function that passed the pointer as an argument, if it came from there
}

// value is what a register is known to hold during the backward search.
type value struct {
	v       *dwarfvar.Var
	addrOf  bool // the register holds the variable's address, not its value
	how     string
	present bool
	// fixed is an address the code computed into the register without reading memory
	// (aarch64 adrp and add, x86 rip-relative lea), when isFixed.
	fixed   uint64
	isFixed bool
	// arg is the argument position when the register was not set in the function: the
	// caller passed it.
	arg int
}

// originOf explains the memory operand mem of the instruction at pc, with the crashing
// frame's registers and CFA. A pointer the function received as an argument is followed
// into its caller, to the call.
func (a *Analysis) originOf(pc uint64, mem disasm.MemOperand, regs map[string]uint64, cfa uint64) (*accessOrigin, error) {
	c := a.Core.Arch
	base := mem.Base
	if (base == "rip" || base == "pc") && mem.Index == "" {
		return a.pcRelativeOrigin(pc, mem.PCValue+uint64(mem.Disp))
	}
	if base == "" || base == "rip" || base == "pc" {
		return nil, fmt.Errorf("the access has no base register")
	}
	reg := regFamily(c, base)
	val := a.regOrigin(pc, reg, regs, cfa, false)
	caller := ""
	if !val.present && val.arg > 0 {
		if cv, fn, ok := a.callerOrigin(pc, reg); ok {
			val, caller = cv, fn
		}
	}
	if !val.present {
		return nil, fmt.Errorf("%s: %s", base, val.how)
	}
	o, err := describeOrigin(val, mem.Disp)
	if o != nil {
		o.Caller = caller
	}
	return o, err
}

// pcRelativeOrigin names a global the instruction at pc addresses relative to itself,
// and the field inside it at addr.
func (a *Analysis) pcRelativeOrigin(pc, addr uint64) (*accessOrigin, error) {
	name := a.Modules.LookupData(addr)
	if name == "" || strings.HasSuffix(name, "@got") {
		return nil, fmt.Errorf("%#x is inside no global variable", addr)
	}
	var off uint64
	if g, o, ok := strings.Cut(name, "+"); ok {
		v, err := strconv.ParseUint(o, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("symbol %q", name)
		}
		name, off = g, v
	}
	m := a.Modules.ModuleFor(pc)
	if m == nil {
		return nil, fmt.Errorf("no module for %#x", pc)
	}
	rd, err := a.varReader(m.Path)
	if err != nil {
		return nil, err
	}
	v := a.globalNamed(name, rd, pc-m.Bias)
	if v == nil {
		return nil, fmt.Errorf("no DWARF for the global %s", name)
	}
	return describeOrigin(value{v: v, addrOf: true, how: fmt.Sprintf("the global %s, addressed relative to the pc", name), present: true}, int64(off))
}

// regOrigin finds what register reg held just before the instruction at pc, in a frame
// with registers regs and CFA cfa. atCall says pc is a call instruction in a caller.
func (a *Analysis) regOrigin(pc uint64, reg string, regs map[string]uint64, cfa uint64, atCall bool) value {
	c := a.Core.Arch
	m := a.Modules.ModuleFor(pc)
	if m == nil || !m.Usable() {
		return value{how: fmt.Sprintf("no module file for %#x", pc)}
	}
	lpc := pc - m.Bias
	// Without DWARF for this function the instructions still say where the register
	// came from; only variables cannot be named.
	rd, _ := a.varReader(m.Path)
	var sc *dwarfvar.Scope
	if rd != nil {
		sc, _ = rd.ScopeAt(lpc)
	}
	// 1. A variable whose DWARF location at pc is the register.
	if v := varInRegisterAt(c, sc, reg); v != nil {
		how := "DWARF location at the pc"
		if atCall {
			how = "DWARF location at the call"
		}
		return value{v: v, how: how, present: true}
	}
	// 2. The last instruction before pc that set the register, followed back.
	sym := a.Modules.Lookup(pc)
	if sym.Function == "" || sym.FuncStart > pc || pc-sym.FuncStart > 1<<20 {
		return value{how: fmt.Sprintf("no function start for %#x", pc)}
	}
	insts, err := a.decodeRange(sym.FuncStart, pc)
	if err != nil {
		return value{how: err.Error()}
	}
	return a.newWalk(insts, sc, rd, lpc, regs, cfa).trace(len(insts), reg, 0)
}

// callerOrigin follows an argument register from the faulting function at pc to the
// call in its caller: what the caller had put in the register when it called.
func (a *Analysis) callerOrigin(pc uint64, reg string) (value, string, bool) {
	fi := -1
	for i, f := range a.crashWalk {
		if f.PC == pc && (i == 0 || a.crashWalk[i-1].Signal != nil) {
			fi = i
			break
		}
	}
	if fi < 0 || fi+1 >= len(a.crashWalk) {
		return value{}, "", false
	}
	caller := a.crashWalk[fi+1]
	if !caller.ReturnAddress {
		return value{}, "", false
	}
	sym := a.Modules.Lookup(caller.PC - 1)
	if sym.Function == "" || sym.FuncStart >= caller.PC {
		return value{}, "", false
	}
	insts, err := a.decodeRange(sym.FuncStart, caller.PC)
	if err != nil || len(insts) == 0 || !insts[len(insts)-1].IsCall {
		return value{}, "", false
	}
	call := insts[len(insts)-1]
	names := a.Core.Arch.RegNames
	regs := map[string]uint64{}
	for i, n := range names {
		if v, ok := caller.Regs.Get(i); ok {
			regs[n] = v
		}
	}
	var cfa uint64
	if caller.HasCFA {
		cfa = caller.CFA
	}
	v := a.regOrigin(call.PC, reg, regs, cfa, true)
	if !v.present {
		return value{}, "", false
	}
	callee := a.Modules.Lookup(pc).Function
	v.how = fmt.Sprintf("passed in %s by %s, which called %s at %#x; there: %s", reg, sym.Function, callee, call.PC, v.how)
	return v, sym.Function, true
}

func describeOrigin(val value, disp int64) (*accessOrigin, error) {
	v := val.v
	if val.addrOf {
		// The register holds &v: the access is inside v itself.
		path, ok := dwarfvar.FieldPath(v.Type, disp)
		if !ok {
			return nil, fmt.Errorf("offset %#x is outside %s", disp, v.Name)
		}
		return &accessOrigin{Pointer: "&" + v.Name, Type: dwarfvar.TypeName(v.Type) + " *", Access: v.Name + path, How: val.how}, nil
	}
	pointee := dwarfvar.Pointee(v.Type)
	if pointee == nil {
		return nil, fmt.Errorf("%s is not a pointer (%s)", v.Name, dwarfvar.TypeName(v.Type))
	}
	path, ok := dwarfvar.FieldPath(pointee, disp)
	if !ok {
		return nil, fmt.Errorf("offset %#x is outside %s", disp, dwarfvar.TypeName(pointee))
	}
	access := "*" + v.Name
	if path != "" {
		if strings.HasPrefix(path, ".") {
			access = v.Name + "->" + path[1:]
		} else {
			access = v.Name + path // an array index: p[3]
		}
	}
	return &accessOrigin{Pointer: v.Name, Type: dwarfvar.TypeName(v.Type), Access: access, How: val.how}, nil
}

// varReader opens a module's DWARF for variables, once.
func (a *Analysis) varReader(path string) (*dwarfvar.Reader, error) {
	if a.varReaders == nil {
		a.varReaders = map[string]*varReaderEntry{}
	}
	if e, ok := a.varReaders[path]; ok {
		return e.r, e.err
	}
	e := &varReaderEntry{}
	if ix, f := a.Modules.DWARFFor(path); ix != nil {
		d, info, addr, order := ix.Raw()
		e.r = dwarfvar.New(d, info, addr, order, f)
	} else {
		e.err = fmt.Errorf("no debug information for %s", path)
	}
	a.varReaders[path] = e
	return e.r, e.err
}

type varReaderEntry struct {
	r   *dwarfvar.Reader
	err error
}

// decodeRange decodes the instructions from start up to (not including) end.
func (a *Analysis) decodeRange(start, end uint64) ([]disasm.Inst, error) {
	var out []disasm.Inst
	for pc := start; pc < end; {
		if len(out) >= maxOriginInsts {
			return nil, fmt.Errorf("function too long to follow")
		}
		in, err := a.decodeAt(pc, disasm.SyntaxATT)
		if err != nil || in.Len <= 0 {
			return nil, fmt.Errorf("decoding at %#x: %v", pc, err)
		}
		out = append(out, in)
		pc += uint64(in.Len)
	}
	return out, nil
}

// walk is one backward search through a function's instructions.
type walk struct {
	a       *Analysis
	insts   []disasm.Inst
	targets map[uint64][]int // branch target -> the branches to it
	sc      *dwarfvar.Scope  // variables at the pc the search started from; nil without DWARF
	rd      *dwarfvar.Reader
	lpc     uint64
	regs    map[string]uint64 // the frame's registers at that pc
	cfa     uint64
	steps   int
}

func (a *Analysis) newWalk(insts []disasm.Inst, sc *dwarfvar.Scope, rd *dwarfvar.Reader, lpc uint64, regs map[string]uint64, cfa uint64) *walk {
	w := &walk{a: a, insts: insts, targets: map[uint64][]int{}, sc: sc, rd: rd, lpc: lpc, regs: regs, cfa: cfa}
	for k, in := range insts {
		if in.IsBranch && in.Target != 0 {
			w.targets[in.Target] = append(w.targets[in.Target], k)
		}
	}
	return w
}

// endsFlow reports whether execution never falls through to the next instruction.
func endsFlow(c *arch.Arch, in disasm.Inst) bool {
	if in.IsReturn || in.IsTrap {
		return true
	}
	if c.Name == "x86_64" {
		return in.Mnemonic == "jmp"
	}
	return in.Mnemonic == "br" || in.Mnemonic == "b" && !strings.HasPrefix(in.Text, "b.")
}

// reachable reports whether instruction k can run: the function's first instruction,
// one the previous falls into, or a branch target (alignment padding after a jump is not).
func (w *walk) reachable(k int) bool {
	c := w.a.Core.Arch
	return k == 0 || !endsFlow(c, w.insts[k-1]) || len(w.targets[w.insts[k].PC]) > 0
}

// pred returns the one instruction that runs before instruction p, -1 at the function's
// entry, or an error when several paths lead to p.
func (w *walk) pred(p int) (int, error) {
	c := w.a.Core.Arch
	var preds []int
	if p > 0 && !endsFlow(c, w.insts[p-1]) && w.reachable(p-1) {
		preds = append(preds, p-1)
	}
	if p < len(w.insts) {
		for _, k := range w.targets[w.insts[p].PC] {
			if w.reachable(k) {
				preds = append(preds, k)
			}
		}
	}
	switch len(preds) {
	case 0:
		return -1, nil
	case 1:
		return preds[0], nil
	}
	return 0, fmt.Errorf("set on more than one path")
}

// trace finds what register reg held just before instruction i, by the instruction
// that last set it on the way to i.
func (w *walk) trace(i int, reg string, hop int) value {
	if hop > maxOriginHops {
		return value{how: "too many loads to follow"}
	}
	a, c := w.a, w.a.Core.Arch
	seen := map[int]bool{}
	for p := i; ; w.steps++ {
		if w.steps >= maxOriginInsts {
			return value{how: "the search went too far back"}
		}
		j, err := w.pred(p)
		if err != nil {
			return value{how: err.Error()}
		}
		if j < 0 {
			break
		}
		if seen[j] {
			return value{how: "set inside a loop"}
		}
		seen[j] = true
		p = j
		in := w.insts[j]
		if in.IsCall {
			if reg == c.RegNames[0] || reg == "rax" { // the return value register
				return value{how: fmt.Sprintf("returned by the call at %#x", in.PC)}
			}
			continue
		}
		dst := destRegister(c, in)
		if dst == "" || regFamily(c, dst) != reg {
			continue
		}
		switch {
		case in.Address != 0: // aarch64 adr, adrp; x86 lea of a rip-relative address
			if v := a.globalAt(in.Address, w.rd, w.lpc); v != nil {
				return value{v: v, addrOf: true, fixed: in.Address, isFixed: true, how: fmt.Sprintf("address of %s (%s at %#x)", v.Name, in.Mnemonic, in.PC), present: true}
			}
			return value{fixed: in.Address, isFixed: true, how: fmt.Sprintf("address %#x (%s at %#x)", in.Address, in.Mnemonic, in.PC)}
		case in.Mnemonic == "add" && len(in.RegArgs) == 2 && len(in.Mem) == 0:
			imm, ok := immediate(in.Text)
			if !ok {
				return value{how: fmt.Sprintf("computed by %q at %#x", in.Text, in.PC)}
			}
			inner := w.trace(j, regFamily(c, in.RegArgs[1]), hop+1)
			if !inner.isFixed {
				return value{how: fmt.Sprintf("computed by %q at %#x", in.Text, in.PC)}
			}
			addr := inner.fixed + imm
			if v := a.globalAt(addr, w.rd, w.lpc); v != nil {
				return value{v: v, addrOf: true, how: fmt.Sprintf("address of %s (at %#x)", v.Name, in.PC), present: true}
			}
			return value{fixed: addr, isFixed: true, how: fmt.Sprintf("address %#x (at %#x)", addr, in.PC)}
		case isLoad(in) && len(in.Mem) == 1:
			return w.load(in, j, i, hop)
		case in.Mnemonic == "mov" && len(in.Mem) == 0 && len(in.RegArgs) == 2:
			// A register copy: the source may be a variable's home at the start pc.
			src := regFamily(c, in.RegArgs[1])
			if !written(c, w.insts[j+1:i], src) {
				if v := varInRegisterAt(c, w.sc, src); v != nil {
					return value{v: v, how: fmt.Sprintf("copied from %s, %s's DWARF location (at %#x)", src, v.Name, in.PC), present: true}
				}
			}
			return w.trace(j, src, hop+1)
		default:
			return value{how: fmt.Sprintf("computed by %q at %#x", in.Text, in.PC)}
		}
	}
	if n := argumentIndex(c, reg); n > 0 {
		return value{arg: n, how: fmt.Sprintf("not set in this function: argument %d, passed in %s by the caller", n, reg)}
	}
	return value{how: "not set in this function before the fault"}
}

// load says what the load instruction in (at index j, on the way to i) put in its
// register.
func (w *walk) load(in disasm.Inst, j, i, hop int) value {
	a, c := w.a, w.a.Core.Arch
	mo := in.Mem[0]
	switch {
	case mo.Base == "rip" || mo.Base == "pc":
		return a.loadFrom(mo.PCValue+uint64(mo.Disp), in.PC, w.rd, w.lpc)
	case isFrameRegister(c, mo.Base) && mo.Index == "":
		// A stack slot: its address now, if the frame register was not changed since.
		bv, ok := w.regs[regFamily(c, mo.Base)]
		if !ok || written(c, w.insts[j+1:i], mo.Base) {
			return value{how: "loaded from a stack slot that moved"}
		}
		slot := bv + uint64(mo.Disp)
		if v := slotVariable(c, w.sc, slot, w.cfa, w.regs); v != nil {
			return value{v: v, how: fmt.Sprintf("loaded from %s's stack slot at %#x", v.Name, in.PC), present: true}
		}
		return value{how: fmt.Sprintf("loaded at %#x from a stack slot no variable claims", in.PC)}
	}
	// A load through another register: if that one held &v, this is v (at offset 0).
	inner := w.trace(j, regFamily(c, mo.Base), hop+1)
	if inner.isFixed && mo.Index == "" {
		return a.loadFrom(inner.fixed+uint64(mo.Disp), in.PC, w.rd, w.lpc)
	}
	if !inner.present {
		return value{how: fmt.Sprintf("loaded at %#x through %s (%s)", in.PC, mo.Base, inner.how)}
	}
	if inner.addrOf && mo.Disp == 0 && mo.Index == "" {
		return value{v: inner.v, how: inner.how + ", then read", present: true}
	}
	return value{how: fmt.Sprintf("loaded at %#x from memory reached through %s", in.PC, mo.Base)}
}

// argumentIndex is the 1-based position of an integer argument register in the calling
// convention (System V AMD64: rdi, rsi, rdx, rcx, r8, r9; AAPCS64: x0-x7), or 0.
func argumentIndex(c *arch.Arch, reg string) int {
	var regs []string
	if c.Name == "x86_64" {
		regs = []string{"rdi", "rsi", "rdx", "rcx", "r8", "r9"}
	} else {
		regs = []string{"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"}
	}
	for i, r := range regs {
		if r == reg {
			return i + 1
		}
	}
	return 0
}

// loadFrom says what a load from the fixed address addr (by the instruction at pc) put
// in its register: a global's value, or a global's address from its GOT slot, named
// by the slot's relocation or, when the linker resolved it (a PIE's own globals), by
// the address the slot holds in the core.
func (a *Analysis) loadFrom(addr, pc uint64, rd *dwarfvar.Reader, lpc uint64) value {
	if g, ok := strings.CutSuffix(a.Modules.LookupData(addr), "@got"); ok {
		if v := a.globalNamed(g, rd, lpc); v != nil {
			return value{v: v, addrOf: true, how: fmt.Sprintf("address of %s from the GOT (at %#x)", g, pc), present: true}
		}
	}
	if v := a.globalAt(addr, rd, lpc); v != nil {
		return value{v: v, how: fmt.Sprintf("loaded from %s at %#x", v.Name, pc), present: true}
	}
	if p, err := a.Core.ReadPtr(addr); err == nil {
		if v := a.globalAt(p, rd, lpc); v != nil {
			return value{v: v, addrOf: true, how: fmt.Sprintf("address of %s from the GOT slot at %#x (at %#x)", v.Name, addr, pc), present: true}
		}
	}
	return value{how: fmt.Sprintf("loaded at %#x from %#x, which names no variable", pc, addr)}
}

// immediate reads the last "#imm" operand of an aarch64 instruction's text.
func immediate(text string) (uint64, bool) {
	i := strings.LastIndex(text, "#")
	if i < 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(text[i+1:]), 0, 64)
	return v, err == nil
}

// isLoad reports whether the instruction reads memory into its destination register.
func isLoad(in disasm.Inst) bool {
	if len(in.Mem) != 1 || in.Mem[0].Write || in.Mem[0].Implicit {
		return false
	}
	switch in.Mnemonic {
	case "mov", "movzx", "movsx", "movsxd", "ldr", "ldur", "ldrsw":
		return true
	}
	return false
}

// destRegister is the register an instruction writes, "" when none is known. The
// x86 decoder lists register operands in Intel order (destination first) and gives
// memory operands separately: a register is the destination when the memory operand,
// if any, is only read.
func destRegister(c *arch.Arch, in disasm.Inst) string {
	if len(in.RegArgs) == 0 || in.IsBranch || in.IsReturn {
		return ""
	}
	if c.Name == "x86_64" {
		switch in.Mnemonic {
		case "cmp", "test", "push", "nop":
			return ""
		}
		if len(in.Mem) > 0 && in.Mem[0].Write && !in.Mem[0].Implicit {
			return "" // a store
		}
	} else {
		switch in.Mnemonic {
		case "str", "stur", "stp", "strb", "strh", "cmp", "cmn", "tst", "nop":
			return ""
		}
	}
	return in.RegArgs[0]
}

// regFamily names the full register an alias belongs to: eax -> rax, r8d -> r8 on
// x86_64; w3 -> x3, wsp -> sp on aarch64.
func regFamily(c *arch.Arch, r string) string {
	if c.Name != "x86_64" {
		switch {
		case r == "wsp":
			return "sp"
		case len(r) >= 2 && r[0] == 'w' && r[1] >= '0' && r[1] <= '9':
			return "x" + r[1:]
		}
		return r
	}
	if len(r) >= 2 && r[0] == 'r' && r[1] >= '0' && r[1] <= '9' {
		return strings.TrimRight(r, "dwb")
	}
	if f, ok := x86Families[r]; ok {
		return f
	}
	return r
}

var x86Families = map[string]string{
	"eax": "rax", "ax": "rax", "al": "rax", "ah": "rax", "ebx": "rbx", "bx": "rbx", "bl": "rbx", "bh": "rbx",
	"ecx": "rcx", "cx": "rcx", "cl": "rcx", "ch": "rcx", "edx": "rdx", "dx": "rdx", "dl": "rdx", "dh": "rdx",
	"esi": "rsi", "si": "rsi", "sil": "rsi", "edi": "rdi", "di": "rdi", "dil": "rdi",
	"ebp": "rbp", "bp": "rbp", "bpl": "rbp", "esp": "rsp", "sp": "rsp", "spl": "rsp",
}

func isFrameRegister(c *arch.Arch, r string) bool {
	r = regFamily(c, r)
	return r == "rbp" || r == "rsp" || r == "x29" || r == "sp"
}

// written reports whether any of the instructions writes r, calls included for the
// registers a call may clobber.
func written(c *arch.Arch, insts []disasm.Inst, r string) bool {
	r = regFamily(c, r)
	for _, in := range insts {
		if d := destRegister(c, in); d != "" && regFamily(c, d) == r {
			return true
		}
		if in.IsCall && !calleeSaved(c, r) {
			return true
		}
	}
	return false
}

// calleeSaved reports whether a call preserves r (System V AMD64 psABI §3.2.1, AAPCS64
// §6.1.1).
func calleeSaved(c *arch.Arch, r string) bool {
	if c.Name == "x86_64" {
		switch r {
		case "rbx", "rbp", "rsp", "r12", "r13", "r14", "r15":
			return true
		}
		return false
	}
	if r == "sp" {
		return true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(r, "x"))
	return err == nil && strings.HasPrefix(r, "x") && n >= 19 && n <= 29
}

// dwarfRegNumber is the DWARF number of a register name, -1 if none.
func dwarfRegNumber(c *arch.Arch, name string) int {
	for n, idx := range c.DWARF {
		if idx >= 0 && idx < len(c.RegNames) && c.RegNames[idx] == name {
			return n
		}
	}
	return -1
}

// varInRegisterAt finds a variable whose location at the scope's pc is exactly the
// register; nil without a scope.
func varInRegisterAt(c *arch.Arch, sc *dwarfvar.Scope, reg string) *dwarfvar.Var {
	n := dwarfRegNumber(c, reg)
	if n < 0 || sc == nil {
		return nil
	}
	for i := range sc.Vars {
		v := &sc.Vars[i]
		if len(v.Expr) == 0 || v.Type == nil {
			continue
		}
		op := v.Expr[0]
		switch {
		case op >= 0x50 && op <= 0x6f && len(v.Expr) == 1 && int(op-0x50) == n: // DW_OP_reg0..31
			return v
		case op == 0x90: // DW_OP_regx
			if r, k := leb128.Uint(v.Expr[1:]); k > 0 && 1+k == len(v.Expr) && int(r) == n {
				return v
			}
		}
	}
	return nil
}

// slotVariable finds the local whose location is the stack slot at addr: DW_OP_fbreg
// against a frame base of DW_OP_call_frame_cfa or a register plus offset.
func slotVariable(c *arch.Arch, sc *dwarfvar.Scope, addr, cfa uint64, regs map[string]uint64) *dwarfvar.Var {
	if sc == nil {
		return nil
	}
	fb, ok := frameBase(c, sc.FrameBase, cfa, regs)
	if !ok {
		return nil
	}
	for i := range sc.Vars {
		v := &sc.Vars[i]
		if len(v.Expr) < 2 || v.Expr[0] != 0x91 || v.Type == nil { // DW_OP_fbreg
			continue
		}
		off, k := leb128.Int(v.Expr[1:])
		if k <= 0 || 1+k != len(v.Expr) {
			continue
		}
		if fb+uint64(off) == addr {
			return v
		}
	}
	return nil
}

// frameBase evaluates the simple frame base expressions compilers emit.
func frameBase(c *arch.Arch, expr []byte, cfa uint64, regs map[string]uint64) (uint64, bool) {
	switch {
	case len(expr) == 1 && expr[0] == 0x9c: // DW_OP_call_frame_cfa
		return cfa, cfa != 0
	case len(expr) >= 2 && expr[0] >= 0x70 && expr[0] <= 0x8f: // DW_OP_breg0..31
		off, k := leb128.Int(expr[1:])
		if k <= 0 || 1+k != len(expr) {
			return 0, false
		}
		n := int(expr[0] - 0x70)
		if n >= len(c.DWARF) || c.DWARF[n] < 0 {
			return 0, false
		}
		v, ok := regs[c.RegNames[c.DWARF[n]]]
		return v + uint64(off), ok
	case len(expr) == 1 && expr[0] >= 0x50 && expr[0] <= 0x6f: // DW_OP_reg0..31
		n := int(expr[0] - 0x50)
		if n >= len(c.DWARF) || c.DWARF[n] < 0 {
			return 0, false
		}
		v, ok := regs[c.RegNames[c.DWARF[n]]]
		return v, ok
	}
	return 0, false
}

// globalAt names the global variable at a run-time address by its symbol, typed from DWARF.
func (a *Analysis) globalAt(addr uint64, rd *dwarfvar.Reader, lpc uint64) *dwarfvar.Var {
	name := a.Modules.LookupData(addr)
	if name == "" || strings.ContainsAny(name, "+@") {
		return nil
	}
	return a.globalNamed(name, rd, lpc)
}

func (a *Analysis) globalNamed(name string, rd *dwarfvar.Reader, lpc uint64) *dwarfvar.Var {
	if rd == nil {
		return nil
	}
	v, err := rd.Global(lpc, name)
	if err != nil {
		return nil
	}
	return v
}

// accessKinds are the classifications whose faulting access went through a pointer.
var accessKinds = map[string]bool{"null_pointer_dereference": true, "wild_pointer": true, "non_canonical_address": true,
	"write_to_readonly": true, "misaligned_access": true, "bus_error_mapped_file": true}

// explainAccess names, from DWARF, what the faulting access went through: the pointer
// variable, its type and the field ("runtime_signals->handlers[6].tripped").
func (a *Analysis) explainAccess(rd *report.Diagnosis, f *diagnose.Facts) {
	if !accessKinds[rd.Kind] {
		return
	}
	ctx := f
	if f.Original != nil {
		ctx = f.Original
	}
	if ctx.Inst == nil {
		return
	}
	var mem *disasm.MemOperand
	for i := range ctx.Inst.Mem {
		if m := &ctx.Inst.Mem[i]; !m.Implicit && m.Base != "" {
			mem = m
			break
		}
	}
	if mem == nil {
		return
	}
	pc := ctx.Regs[a.Core.Arch.RegNames[a.Core.Arch.PC]]
	o, err := a.originOf(pc, *mem, ctx.Regs, a.faultCFA(pc))
	if err != nil {
		rd.AddEvidence("source_access", "unknown: "+err.Error())
		return
	}
	rd.AddEvidence("source_access", o.Access)
	rd.AddEvidence("pointer", o.Pointer+" ("+o.Type+")")
	rd.AddEvidence("pointer_source", o.How)
	via := ""
	if o.Caller != "" {
		via = ", passed by " + o.Caller
	}
	rd.Summary += fmt.Sprintf(" In the source: %s, through %s (%s)%s.", o.Access, o.Pointer, o.Type, via)
}

// faultCFA is the CFA of the frame executing the faulting pc: the crashing frame, or the
// frame interrupted by the signal a handler re-raised.
func (a *Analysis) faultCFA(pc uint64) uint64 {
	for i, f := range a.crashWalk {
		if f.PC == pc && (i == 0 || a.crashWalk[i-1].Signal != nil) && f.HasCFA {
			return f.CFA
		}
	}
	return 0
}
