// Package origin says, in source terms, what a faulting memory access went through: the
// pointer variable the base register held, its C type, and the field at the
// displacement ("runtime_signals->handlers[6].tripped", "p->field_at_0x60", "*ptr").
//
// It reads the crashed program through Program (memory, function and data symbols, each
// module's DWARF variables) and asks the architecture value (package arch) for its
// calling convention and register names; it knows nothing of reports or output.
//
// A pointer is found, for the register the access is based on, in the first of these
// ways that answers (Access.How says which, with the pcs involved):
//   - "DWARF location at the pc": a variable or parameter whose location at the pc is
//     exactly that register (DW_OP_reg0..31, DW_OP_regx);
//   - a backward walk over the function's instructions, decoded from its start, to the
//     one that last set the register on the single path to the pc (a branch target with
//     two live predecessors, or a loop, ends it):
//   - "loaded from X's stack slot": a load from the stack or frame pointer plus a
//     displacement, matched against the locals whose location is DW_OP_fbreg over a
//     frame base of DW_OP_call_frame_cfa, DW_OP_bregN or DW_OP_regN; so is a load
//     through any other register nothing wrote since, when its value plus the
//     displacement is such a local's slot (GCC's -O0 frame pointers that are not the
//     ABI's: ppc64's r31, s390x's r11);
//   - "address of X from the GOT", "address of X from the GOT slot": a load of a GOT
//     slot, named by its relocation ("name@got") or, when the linker resolved it, by
//     the address the slot holds in the core; "loaded from X": a load of a global;
//   - "address of X": an address computed without reading memory (x86 rip-relative
//     lea, aarch64 adr, adrp and adrp+add, linker-relaxed GOT loads included);
//   - "copied from R, X's DWARF location": a register copy whose source is a
//     variable's home at the pc, else the walk goes on from the source;
//   - a load through another register that held &X reads X ("..., then read");
//   - the walk goes on across a call, except for the psABI's return-value register,
//     which the call set ("returned by the call at ..."); a stack slot's frame register
//     or a copy's source is trusted only when nothing since wrote it, a call included
//     unless the psABI says the callee saves it;
//   - "passed in R by F, which called G at ...": a register the function never set
//     and the psABI passes an argument in is followed into the caller, at its call,
//     with the caller's registers and CFA from the crashing thread's unwound frames
//     (Search.Frames);
//   - "the global X, addressed relative to the pc": an access with no base register but
//     the pc; "the global X, at R = address ...": a base register that holds an address
//     the code computed without reading memory (ppc64 from its TOC pointer, the
//     psABI's global pointer, through addis and addi; s390x larl), plus the displacement,
//     inside the global X.
//
// When none answers, Search.Access returns an error that says where the search stopped
// ("rdi: set on more than one path", "rax: returned by the call at 0x401136").
//
// Bounds: at most maxOriginInsts (4096) instructions are decoded from a function's start
// (and a function more than 1 MiB before the pc is not searched); the walk takes at most
// maxOriginInsts steps in all and follows at most maxOriginHops (4) loads or copies back
// through other registers; each instruction is visited once per register, so a loop ends
// it. Only the crashing function and, for an argument, its direct caller are searched.
//
// Sources: DWARF 5 §2.5.1.2 (DW_OP_fbreg, DW_OP_bregN), §2.5.1.3 (DW_OP_call_frame_cfa),
// §2.6.1.1.3 (register location descriptions DW_OP_regN, DW_OP_regx) and §3.3.5
// (DW_AT_frame_base); the System V AMD64 psABI
// §3.2.1 and §3.2.3 and AAPCS64 §6.1.1 for argument, return and callee-saved registers
// (through package arch); the psABIs' GOT and the linkers' relaxation of GOT loads to
// lea (x86_64 R_X86_64_REX_GOTPCRELX) and adrp+add (aarch64) for globals.
package origin

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/dwarfvar"
)

// Limits of the backward search for where a register got its value.
const (
	maxOriginInsts = 4096 // instructions decoded from the function's start, and walk steps
	maxOriginHops  = 4    // loads and copies followed back through other registers
)

// Program is the crashed program as the search reads it.
type Program interface {
	// ReadAt reads memory as the process had it: data, and code (from the core or the
	// module file it maps). When n < len(p) the error says why.
	ReadAt(p []byte, addr uint64) (n int, err error)
	// Func names the function holding pc and gives its start; name is "" when no symbol
	// covers pc.
	Func(pc uint64) (name string, start uint64)
	// Data names the data object at addr from the symbol tables: "name" at its start,
	// "name+0xoff" inside it, "name@got" for the GOT slot of name, "" when none.
	Data(addr uint64) string
	// Module describes the module mapped at pc; ok is false when none is.
	Module(pc uint64) (m Module, ok bool)
}

// Module is what the search needs of the module mapped at a pc.
type Module struct {
	// Bias is the load bias: a run-time address minus the link-time address.
	Bias uint64
	// Usable says the module's file was found and can be read.
	Usable bool
	// Vars are the module's DWARF variables; nil when it has none, VarsErr says why.
	Vars    Vars
	VarsErr error
}

// Vars reads a module's DWARF variables (a *dwarfvar.Reader). Both take link-time pcs.
type Vars interface {
	// ScopeAt returns the variables visible at pc with their locations there.
	ScopeAt(pc uint64) (*dwarfvar.Scope, error)
	// Global returns the global variable name as the unit holding pc sees it.
	Global(pc uint64, name string) (*dwarfvar.Var, error)
}

// Frame is one unwound frame of the crashing thread, innermost first.
type Frame struct {
	PC uint64
	// ReturnAddress says PC is a return address: the frame is stopped at its call.
	ReturnAddress bool
	// Regs are the registers known in the frame, by their names in arch.RegNames.
	Regs map[string]uint64
	// CFA is the frame's canonical frame address, 0 when unknown.
	CFA uint64
	// Interrupted says a signal interrupted the frame: the frame before it is the
	// kernel's signal frame, so PC is where it stopped, as for the innermost frame.
	Interrupted bool
}

// Search is one program's access search.
type Search struct {
	Arch *arch.Arch
	Prog Program
	// Frames are the crashing thread's frames, for following an argument to its caller;
	// nil leaves arguments unexplained.
	Frames []Frame
	// Mode says which instruction set the code at a pc is in, for an architecture with
	// more than one (32-bit ARM); nil, or disasm.ModeDefault, is the architecture's
	// default, with which no 32-bit ARM code is decoded.
	Mode func(pc uint64) disasm.Mode
}

// Access is what a faulting access went through, in source terms.
type Access struct {
	Pointer string // the pointer variable: "runtime_signals", "p", "&limits"
	Type    string // its C type: "struct signal_state *"
	Expr    string // the expression accessed: "runtime_signals->handlers[6].tripped"
	How     string // how the pointer was found: "DWARF location at the pc", "loaded from ..."
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

// Access explains the memory operand mem of the instruction at pc, with the frame's
// registers regs (by name) and CFA cfa (0 when unknown). A pointer the function received
// as an argument is followed into its caller, to the call.
func (s *Search) Access(pc uint64, mem disasm.MemOperand, regs map[string]uint64, cfa uint64) (*Access, error) {
	base := mem.Base
	if (base == "rip" || base == "pc") && mem.Index == "" {
		return s.pcRelative(pc, mem.PCValue+uint64(mem.Disp))
	}
	if base == "" || base == "rip" || base == "pc" {
		return nil, fmt.Errorf("the access has no base register")
	}
	reg := s.Arch.Family(base)
	val := s.regOrigin(pc, reg, regs, cfa, false)
	caller := ""
	if !val.present && val.arg > 0 {
		if cv, fn, ok := s.callerOrigin(pc, reg); ok {
			val, caller = cv, fn
		}
	}
	if !val.present && val.isFixed {
		// An address the code computed without reading memory (ppc64's TOC pointer plus
		// an offset, s390x's larl to inside a table): the global it lands in.
		if o, err := s.global(pc, val.fixed+uint64(mem.Disp), "at "+base+" = "+val.how); err == nil {
			return o, nil
		}
	}
	if !val.present {
		return nil, fmt.Errorf("%s: %s", base, val.how)
	}
	o, err := describe(val, mem.Disp)
	if o != nil {
		o.Caller = caller
	}
	return o, err
}

// pcRelative names a global the instruction at pc addresses relative to itself, and the
// field inside it at addr.
func (s *Search) pcRelative(pc, addr uint64) (*Access, error) {
	return s.global(pc, addr, "addressed relative to the pc")
}

// global names the global variable holding addr, which the instruction at pc accesses,
// and the field inside it; how says how the code addressed it.
func (s *Search) global(pc, addr uint64, how string) (*Access, error) {
	name := s.Prog.Data(addr)
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
	m, ok := s.Prog.Module(pc)
	if !ok {
		return nil, fmt.Errorf("no module for %#x", pc)
	}
	if m.Vars == nil {
		if m.VarsErr != nil {
			return nil, m.VarsErr
		}
		return nil, fmt.Errorf("no debug information for %#x", pc)
	}
	v := globalNamed(name, m.Vars, pc-m.Bias)
	if v == nil {
		return nil, fmt.Errorf("no DWARF for the global %s", name)
	}
	return describe(value{v: v, addrOf: true, how: fmt.Sprintf("the global %s, %s", name, how), present: true}, int64(off))
}

// regOrigin finds what register reg held just before the instruction at pc, in a frame
// with registers regs and CFA cfa. atCall says pc is a call instruction in a caller.
func (s *Search) regOrigin(pc uint64, reg string, regs map[string]uint64, cfa uint64, atCall bool) value {
	m, ok := s.Prog.Module(pc)
	if !ok || !m.Usable {
		return value{how: fmt.Sprintf("no module file for %#x", pc)}
	}
	lpc := pc - m.Bias
	// Without DWARF for this function the instructions still say where the register
	// came from; only variables cannot be named.
	var sc *dwarfvar.Scope
	if m.Vars != nil {
		sc, _ = m.Vars.ScopeAt(lpc)
	}
	// 1. A variable whose DWARF location at pc is the register.
	if v := varInRegisterAt(s.Arch, sc, reg); v != nil {
		how := "DWARF location at the pc"
		if atCall {
			how = "DWARF location at the call"
		}
		return value{v: v, how: how, present: true}
	}
	// 2. The last instruction before pc that set the register, followed back.
	fn, start := s.Prog.Func(pc)
	if fn == "" || start > pc || pc-start > 1<<20 {
		return value{how: fmt.Sprintf("no function start for %#x", pc)}
	}
	insts, err := s.decodeRange(start, pc)
	if err != nil {
		return value{how: err.Error()}
	}
	return s.newWalk(insts, sc, m.Vars, lpc, regs, cfa).trace(len(insts), reg, 0)
}

// callerOrigin follows an argument register from the faulting function at pc to the
// call in its caller: what the caller had put in the register when it called.
func (s *Search) callerOrigin(pc uint64, reg string) (value, string, bool) {
	fi := -1
	for i, f := range s.Frames {
		if f.PC == pc && (i == 0 || f.Interrupted) {
			fi = i
			break
		}
	}
	if fi < 0 || fi+1 >= len(s.Frames) {
		return value{}, "", false
	}
	caller := s.Frames[fi+1]
	if !caller.ReturnAddress {
		return value{}, "", false
	}
	fn, start := s.Prog.Func(caller.PC - 1)
	if fn == "" || start >= caller.PC {
		return value{}, "", false
	}
	insts, err := s.decodeRange(start, caller.PC)
	if err != nil || len(insts) == 0 || !insts[len(insts)-1].IsCall {
		return value{}, "", false
	}
	call := insts[len(insts)-1]
	v := s.regOrigin(call.PC, reg, caller.Regs, caller.CFA, true)
	if !v.present {
		return value{}, "", false
	}
	callee, _ := s.Prog.Func(pc)
	v.how = fmt.Sprintf("passed in %s by %s, which called %s at %#x; there: %s", reg, fn, callee, call.PC, v.how)
	return v, fn, true
}

// describe names the access at displacement disp from what the base register held.
func describe(val value, disp int64) (*Access, error) {
	v := val.v
	if val.addrOf {
		// The register holds &v: the access is inside v itself.
		path, ok := dwarfvar.FieldPath(v.Type, disp)
		if !ok {
			return nil, fmt.Errorf("offset %#x is outside %s", disp, v.Name)
		}
		return &Access{Pointer: "&" + v.Name, Type: dwarfvar.TypeName(v.Type) + " *", Expr: v.Name + path, How: val.how}, nil
	}
	pointee := dwarfvar.Pointee(v.Type)
	if pointee == nil {
		return nil, fmt.Errorf("%s is not a pointer (%s)", v.Name, dwarfvar.TypeName(v.Type))
	}
	path, ok := dwarfvar.FieldPath(pointee, disp)
	if !ok {
		return nil, fmt.Errorf("offset %#x is outside %s", disp, dwarfvar.TypeName(pointee))
	}
	expr := "*" + v.Name
	if path != "" {
		if strings.HasPrefix(path, ".") {
			expr = v.Name + "->" + path[1:]
		} else {
			expr = v.Name + path // an array index: p[3]
		}
	}
	return &Access{Pointer: v.Name, Type: dwarfvar.TypeName(v.Type), Expr: expr, How: val.how}, nil
}

// decodeRange decodes the instructions from start up to (not including) end.
func (s *Search) decodeRange(start, end uint64) ([]disasm.Inst, error) {
	var out []disasm.Inst
	for pc := start; pc < end; {
		if len(out) >= maxOriginInsts {
			return nil, fmt.Errorf("function too long to follow")
		}
		in, err := s.decodeAt(pc)
		if err != nil || in.Len <= 0 {
			return nil, fmt.Errorf("decoding at %#x: %v", pc, err)
		}
		out = append(out, in)
		pc += uint64(in.Len)
	}
	return out, nil
}

// decodeAt decodes the instruction at pc, in AT&T syntax on x86_64 (the syntax of the
// instruction texts in Access.How).
func (s *Search) decodeAt(pc uint64) (disasm.Inst, error) {
	buf := make([]byte, disasm.MaxInstLen+1)
	n, err := s.Prog.ReadAt(buf, pc)
	if n == 0 {
		return disasm.Inst{}, fmt.Errorf("no code bytes at the pc: %v", err)
	}
	mode := disasm.ModeDefault
	if s.Mode != nil {
		mode = s.Mode(pc)
	}
	return disasm.DecodeMode(s.Arch, buf[:n], pc, disasm.SyntaxATT, mode)
}

// readPtr reads a pointer-sized word at addr.
func (s *Search) readPtr(addr uint64) (uint64, error) {
	var b [8]byte
	n := s.Arch.PtrSize
	if n != 4 && n != 8 {
		return 0, fmt.Errorf("pointer size %d", n)
	}
	if k, err := s.Prog.ReadAt(b[:n], addr); k < n {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	return s.Arch.Word(b[:n]), nil
}

// loadFrom says what a load from the fixed address addr (by the instruction at pc) put
// in its register: a global's value, or a global's address from its GOT slot, named
// by the slot's relocation or, when the linker resolved it (a PIE's own globals), by
// the address the slot holds in the core.
func (s *Search) loadFrom(addr, pc uint64, vars Vars, lpc uint64) value {
	if g, ok := strings.CutSuffix(s.Prog.Data(addr), "@got"); ok {
		if v := globalNamed(g, vars, lpc); v != nil {
			return value{v: v, addrOf: true, how: fmt.Sprintf("address of %s from the GOT (at %#x)", g, pc), present: true}
		}
	}
	if v := s.globalAt(addr, vars, lpc); v != nil {
		return value{v: v, how: fmt.Sprintf("loaded from %s at %#x", v.Name, pc), present: true}
	}
	if p, err := s.readPtr(addr); err == nil {
		if v := s.globalAt(p, vars, lpc); v != nil {
			return value{v: v, addrOf: true, how: fmt.Sprintf("address of %s from the GOT slot at %#x (at %#x)", v.Name, addr, pc), present: true}
		}
	}
	return value{how: fmt.Sprintf("loaded at %#x from %#x, which names no variable", pc, addr)}
}

// globalAt names the global variable at a run-time address by its symbol, typed from DWARF.
func (s *Search) globalAt(addr uint64, vars Vars, lpc uint64) *dwarfvar.Var {
	name := s.Prog.Data(addr)
	if name == "" || strings.ContainsAny(name, "+@") {
		return nil
	}
	return globalNamed(name, vars, lpc)
}

// globalNamed is the global variable name as seen from the link-time pc lpc, nil when
// there is no DWARF or it has none.
func globalNamed(name string, vars Vars, lpc uint64) *dwarfvar.Var {
	if vars == nil {
		return nil
	}
	v, err := vars.Global(lpc, name)
	if err != nil {
		return nil
	}
	return v
}
