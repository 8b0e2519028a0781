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
}

// value is what a register is known to hold during the backward search.
type value struct {
	v       *dwarfvar.Var
	addrOf  bool // the register holds the variable's address, not its value
	how     string
	present bool
	// konst is a constant address the register holds (aarch64 adrp, then add), when
	// isKonst; it names no variable yet.
	konst   uint64
	isKonst bool
}

// originOf explains the memory operand mem of the instruction at pc, with the crashing
// frame's registers and CFA.
func (a *Analysis) originOf(pc uint64, mem disasm.MemOperand, regs map[string]uint64, cfa uint64) (*accessOrigin, error) {
	m := a.Modules.ModuleFor(pc)
	if m == nil || !m.Usable() {
		return nil, fmt.Errorf("no module file for %#x", pc)
	}
	rd, err := a.varReader(m.Path)
	if err != nil {
		return nil, err
	}
	lpc := pc - m.Bias
	sc, err := rd.ScopeAt(lpc)
	if err != nil {
		return nil, err
	}
	c := a.Core.Arch
	base := mem.Base
	if base == "" || base == "rip" || base == "pc" {
		return nil, fmt.Errorf("the access has no base register")
	}
	// 1. A variable whose DWARF location at pc is the base register.
	if v := varInRegister(c, sc, regFamily(c, base)); v != nil {
		return describeOrigin(value{v: v, how: "DWARF location at the pc", present: true}, mem.Disp)
	}
	// 2. The last instruction before pc that set the register, followed back.
	sym := a.Modules.Lookup(pc)
	if sym.Function == "" || sym.FuncStart > pc || pc-sym.FuncStart > 1<<20 {
		return nil, fmt.Errorf("no function start for %#x", pc)
	}
	insts, err := a.decodeRange(sym.FuncStart, pc)
	if err != nil {
		return nil, err
	}
	val := a.traceRegister(insts, len(insts), regFamily(c, base), sc, rd, lpc, m.Bias, regs, cfa, 0)
	if !val.present {
		return nil, fmt.Errorf("%s: %s", base, val.how)
	}
	return describeOrigin(val, mem.Disp)
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

// traceRegister finds what register reg held after instruction i-1, by the last
// instruction before i that set it.
func (a *Analysis) traceRegister(insts []disasm.Inst, i int, reg string, sc *dwarfvar.Scope, rd *dwarfvar.Reader, lpc, bias uint64, regs map[string]uint64, cfa uint64, hop int) value {
	if hop > maxOriginHops {
		return value{how: "too many loads to follow"}
	}
	c := a.Core.Arch
	for j := i - 1; j >= 0; j-- {
		in := insts[j]
		// A branch into the instructions after j means another path may set reg.
		for _, b := range insts {
			if b.IsBranch && b.Target > in.PC && b.Target <= insts[i-1].PC+uint64(insts[i-1].Len)-1 && b.Target != in.PC {
				return value{how: "set on more than one path"}
			}
		}
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
		case in.Address != 0: // aarch64 adr, adrp
			if v := a.globalAt(in.Address, rd, lpc); v != nil {
				return value{v: v, addrOf: true, konst: in.Address, isKonst: true, how: fmt.Sprintf("address of %s (%s at %#x)", v.Name, in.Mnemonic, in.PC), present: true}
			}
			return value{konst: in.Address, isKonst: true, how: fmt.Sprintf("address %#x (%s at %#x)", in.Address, in.Mnemonic, in.PC)}
		case in.Mnemonic == "add" && len(in.RegArgs) == 2 && len(in.Mem) == 0:
			imm, ok := immediate(in.Text)
			if !ok {
				return value{how: fmt.Sprintf("computed by %q at %#x", in.Text, in.PC)}
			}
			inner := a.traceRegister(insts, j, regFamily(c, in.RegArgs[1]), sc, rd, lpc, bias, regs, cfa, hop+1)
			if !inner.isKonst {
				return value{how: fmt.Sprintf("computed by %q at %#x", in.Text, in.PC)}
			}
			addr := inner.konst + imm
			if v := a.globalAt(addr, rd, lpc); v != nil {
				return value{v: v, addrOf: true, how: fmt.Sprintf("address of %s (at %#x)", v.Name, in.PC), present: true}
			}
			return value{konst: addr, isKonst: true, how: fmt.Sprintf("address %#x (at %#x)", addr, in.PC)}
		case isLoad(in) && len(in.Mem) == 1:
			mo := in.Mem[0]
			switch {
			case mo.Base == "rip" || mo.Base == "pc":
				return a.loadFrom(mo.PCValue+uint64(mo.Disp), in.PC, rd, lpc)
			case isFrameRegister(c, mo.Base) && mo.Index == "":
				// A stack slot: its address now, if the frame register was not changed since.
				bv, ok := regs[regFamily(c, mo.Base)]
				if !ok || frameRegisterChanged(c, insts[j+1:i], mo.Base) {
					return value{how: "loaded from a stack slot that moved"}
				}
				slot := bv + uint64(mo.Disp)
				if v := slotVariable(c, sc, slot, cfa, regs); v != nil {
					return value{v: v, how: fmt.Sprintf("loaded from %s's stack slot at %#x", v.Name, in.PC), present: true}
				}
				return value{how: fmt.Sprintf("loaded at %#x from a stack slot no variable claims", in.PC)}
			default:
				// A load through another register: if that one held &v, this is a
				// field of v (or v itself at offset 0).
				inner := a.traceRegister(insts, j, regFamily(c, mo.Base), sc, rd, lpc, bias, regs, cfa, hop+1)
				if inner.isKonst && mo.Index == "" {
					return a.loadFrom(inner.konst+uint64(mo.Disp), in.PC, rd, lpc)
				}
				if !inner.present {
					if v := varInRegisterAt(c, sc, regFamily(c, mo.Base)); v != nil {
						inner = value{v: v, how: "DWARF location", present: true}
					} else {
						return value{how: fmt.Sprintf("loaded at %#x through %s (%s)", in.PC, mo.Base, inner.how)}
					}
				}
				if inner.addrOf && mo.Disp == 0 && mo.Index == "" {
					return value{v: inner.v, how: inner.how + ", then read", present: true}
				}
				return value{how: fmt.Sprintf("loaded at %#x from memory reached through %s", in.PC, mo.Base)}
			}
		case in.Mnemonic == "mov" && len(in.Mem) == 0 && len(in.RegArgs) == 2:
			// A register copy: follow the source.
			return a.traceRegister(insts, j, regFamily(c, in.RegArgs[1]), sc, rd, lpc, bias, regs, cfa, hop+1)
		default:
			return value{how: fmt.Sprintf("computed by %q at %#x", in.Text, in.PC)}
		}
	}
	if n := argumentIndex(c, reg); n > 0 {
		return value{how: fmt.Sprintf("not set in this function: argument %d, passed in %s by the caller", n, reg)}
	}
	return value{how: "not set in this function before the fault"}
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

// frameRegisterChanged reports whether any instruction writes r.
func frameRegisterChanged(c *arch.Arch, insts []disasm.Inst, r string) bool {
	for _, in := range insts {
		if d := destRegister(c, in); d != "" && regFamily(c, d) == regFamily(c, r) {
			return true
		}
		if in.IsCall && regFamily(c, r) != "rbp" && regFamily(c, r) != "x29" {
			return true
		}
	}
	return false
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

// varInRegister finds a variable whose location at the pc is exactly the register.
func varInRegister(c *arch.Arch, sc *dwarfvar.Scope, reg string) *dwarfvar.Var {
	return varInRegisterAt(c, sc, reg)
}

func varInRegisterAt(c *arch.Arch, sc *dwarfvar.Scope, reg string) *dwarfvar.Var {
	n := dwarfRegNumber(c, reg)
	if n < 0 {
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
		if m := &ctx.Inst.Mem[i]; !m.Implicit && m.Base != "" && m.Base != "rip" && m.Base != "pc" {
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
	rd.Summary += fmt.Sprintf(" In the source: %s, through %s (%s).", o.Access, o.Pointer, o.Type)
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
