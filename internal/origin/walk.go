package origin

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/dwarfvar"
)

// walk is one backward search through a function's instructions.
type walk struct {
	s       *Search
	insts   []disasm.Inst
	targets map[uint64][]int  // branch target -> the branches to it
	sc      *dwarfvar.Scope   // variables at the pc the search started from; nil without DWARF
	vars    Vars              // the module's DWARF variables; nil without DWARF
	lpc     uint64            // the link-time pc the search started from
	regs    map[string]uint64 // the frame's registers at that pc
	cfa     uint64
	steps   int
}

func (s *Search) newWalk(insts []disasm.Inst, sc *dwarfvar.Scope, vars Vars, lpc uint64, regs map[string]uint64, cfa uint64) *walk {
	w := &walk{s: s, insts: insts, targets: map[uint64][]int{}, sc: sc, vars: vars, lpc: lpc, regs: regs, cfa: cfa}
	for k, in := range insts {
		if in.IsBranch && in.Target != 0 {
			w.targets[in.Target] = append(w.targets[in.Target], k)
		}
	}
	return w
}

// reachable reports whether instruction k can run: the function's first instruction,
// one the previous falls into, or a branch target (alignment padding after a jump is not).
func (w *walk) reachable(k int) bool {
	return k == 0 || !w.insts[k-1].NoFallThrough || len(w.targets[w.insts[k].PC]) > 0
}

// pred returns the one instruction that runs before instruction p, -1 at the function's
// entry, or an error when several paths lead to p.
func (w *walk) pred(p int) (int, error) {
	var preds []int
	if p > 0 && !w.insts[p-1].NoFallThrough && w.reachable(p-1) {
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
	s, c := w.s, w.s.Arch
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
			if r, ok := c.PCThunks[s.funcName(in.Target)]; ok && r == reg && in.Target != 0 {
				next := in.PC + uint64(in.Len) // the thunk returns its return address
				return value{fixed: next, isFixed: true, how: fmt.Sprintf("address %#x (call of a pc thunk at %#x)", next, in.PC)}
			}
			if reg == c.ABI.Return {
				return value{how: fmt.Sprintf("returned by the call at %#x", in.PC)}
			}
			continue
		}
		if in.Dest == "" || c.Family(in.Dest) != reg {
			for _, r := range in.AlsoWrites {
				if c.Family(r) == reg {
					return value{how: fmt.Sprintf("computed by %q at %#x", in.Text, in.PC)}
				}
			}
			continue
		}
		switch {
		case in.Address != 0: // aarch64 adr, adrp; x86 lea of a rip-relative address
			if v := s.globalAt(in.Address, w.vars, w.lpc); v != nil {
				return value{v: v, addrOf: true, fixed: in.Address, isFixed: true, how: fmt.Sprintf("address of %s (%s at %#x)", v.Name, in.Mnemonic, in.PC), present: true}
			}
			return value{fixed: in.Address, isFixed: true, how: fmt.Sprintf("address %#x (%s at %#x)", in.Address, in.Mnemonic, in.PC)}
		case in.Mnemonic == "add" && len(in.Mem) == 0 && (len(in.RegArgs) == 2 || len(in.RegArgs) == 1 && in.HasImm),
			(in.Mnemonic == "addi" || in.Mnemonic == "addis") && len(in.RegArgs) == 2 && in.HasImm:
			// aarch64 add xd, xn, #imm; x86 add $imm, reg (the register is also the source);
			// ppc64 addi and addis rt, ra, imm
			imm, ok := uint64(in.Imm), in.HasImm
			if !ok {
				imm, ok = immediate(in.Text)
			}
			if !ok {
				return value{how: fmt.Sprintf("computed by %q at %#x", in.Text, in.PC)}
			}
			src := c.Family(in.RegArgs[len(in.RegArgs)-1])
			var inner value
			if v, ok := w.regs[src]; ok && src == c.ABI.GlobalPointer && !w.written(w.insts[j+1:], src) {
				// The global pointer (ppc64's TOC) has kept its value from here to the
				// fault: the frame's.
				inner = value{fixed: v, isFixed: true}
			} else {
				inner = w.trace(j, src, hop+1)
			}
			if !inner.isFixed {
				return value{how: fmt.Sprintf("computed by %q at %#x", in.Text, in.PC)}
			}
			addr := inner.fixed + imm
			if v := s.globalAt(addr, w.vars, w.lpc); v != nil {
				return value{v: v, addrOf: true, how: fmt.Sprintf("address of %s (at %#x)", v.Name, in.PC), present: true}
			}
			return value{fixed: addr, isFixed: true, how: fmt.Sprintf("address %#x (at %#x)", addr, in.PC)}
		case isLoad(in) && len(in.Mem) == 1:
			return w.load(in, j, hop, w.between(j, i, seen))
		case (in.Mnemonic == "mov" || in.Mnemonic == "lgr") && len(in.Mem) == 0 && len(in.RegArgs) == 2:
			// A register copy: the source may be a variable's home at the start pc.
			src := c.Family(in.RegArgs[1])
			if !w.written(w.between(j, i, seen), src) {
				if v := varInRegisterAt(c, w.sc, src); v != nil {
					return value{v: v, how: fmt.Sprintf("copied from %s, %s's DWARF location (at %#x)", src, v.Name, in.PC), present: true}
				}
			}
			return w.trace(j, src, hop+1)
		default:
			return value{how: fmt.Sprintf("computed by %q at %#x", in.Text, in.PC)}
		}
	}
	if n := c.ArgIndex(reg); n > 0 {
		return value{arg: n, how: fmt.Sprintf("not set in this function: argument %d, passed in %s by the caller", n, reg)}
	}
	return value{how: "not set in this function before the fault"}
}

// between are the instructions the walk passed from j to i, neither included: those
// between them in the code when j comes first (what a forward jump skipped is counted
// too, which only makes the answer more careful); when a backward jump led from j to i,
// the ones it visited (seen holds them and j).
func (w *walk) between(j, i int, seen map[int]bool) []disasm.Inst {
	if j < i {
		return w.insts[j+1 : i]
	}
	var out []disasm.Inst
	for k := range seen {
		if k != j {
			out = append(out, w.insts[k])
		}
	}
	return out
}

// load says what the load instruction in (at index j, followed on the way to the
// instruction traced by the instructions passed) put in its register.
func (w *walk) load(in disasm.Inst, j, hop int, passed []disasm.Inst) value {
	s, c := w.s, w.s.Arch
	mo := in.Mem[0]
	switch {
	case mo.Base == "rip" || mo.Base == "pc":
		return s.loadFrom(mo.PCValue+uint64(mo.Disp), in.PC, w.vars, w.lpc)
	case c.IsFrameRegister(mo.Base) && mo.Index == "":
		// A stack slot: its address now, if the frame register was not changed since.
		bv, ok := w.regs[c.Family(mo.Base)]
		if !ok || w.written(passed, mo.Base) {
			return value{how: "loaded from a stack slot that moved"}
		}
		slot := bv + uint64(mo.Disp)
		if v := slotVariable(c, w.sc, slot, w.cfa, w.regs); v != nil {
			return value{v: v, how: fmt.Sprintf("loaded from %s's stack slot at %#x", v.Name, in.PC), present: true}
		}
		return value{how: fmt.Sprintf("loaded at %#x from a stack slot no variable claims", in.PC)}
	}
	// Any other base register that kept its value since the load and points at a
	// local's stack slot (the frame pointers GCC keeps at -O0 that are no arch.FP:
	// ppc64's r31, s390x's r11): that local.
	if mo.Index == "" && !w.written(w.insts[j+1:], mo.Base) {
		if bv, ok := w.regs[c.Family(mo.Base)]; ok { // its value at the fault
			if v := slotVariable(c, w.sc, bv+uint64(mo.Disp), w.cfa, w.regs); v != nil {
				return value{v: v, how: fmt.Sprintf("loaded from %s's stack slot at %#x", v.Name, in.PC), present: true}
			}
		}
	}
	// A load through another register: if that one held &v, this is v (at offset 0).
	inner := w.trace(j, c.Family(mo.Base), hop+1)
	if inner.isFixed && mo.Index == "" {
		return s.loadFrom(inner.fixed+uint64(mo.Disp), in.PC, w.vars, w.lpc)
	}
	if !inner.present {
		return value{how: fmt.Sprintf("loaded at %#x through %s (%s)", in.PC, mo.Base, inner.how)}
	}
	if inner.addrOf && mo.Disp == 0 && mo.Index == "" {
		return value{v: inner.v, how: inner.how + ", then read", present: true}
	}
	return value{how: fmt.Sprintf("loaded at %#x from memory reached through %s", in.PC, mo.Base)}
}

// written reports whether any of the instructions writes r, calls included for the
// registers a call may clobber (those the psABI does not have the callee save).
func (w *walk) written(insts []disasm.Inst, r string) bool {
	c := w.s.Arch
	r = c.Family(r)
	for _, in := range insts {
		if in.Dest != "" && c.Family(in.Dest) == r {
			return true
		}
		for _, aw := range in.AlsoWrites {
			if c.Family(aw) == r {
				return true
			}
		}
		if in.IsCall && !c.IsCalleeSaved(r) {
			return true
		}
	}
	return false
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
	case "mov", "movzx", "movsx", "movsxd", "ldr", "ldur", "ldrsw",
		// ppc64 loads that set the whole register (not the update forms, which also
		// change their base), prefixed pld included
		"ld", "ldx", "pld", "lwz", "lwzx", "lwa", "lwax", "lhz", "lhzx", "lha", "lhax", "lbz", "lbzx",
		// s390x loads that set all 64 bits (l, lh and ic keep the high half)
		"lg", "lgrl", "ltg", "lgf", "llgf", "lgh", "llgh", "lgb", "llgc":
		return true
	}
	return false
}

// funcName names the function that starts at or holds pc, "" when none.
func (s *Search) funcName(pc uint64) string {
	if pc == 0 {
		return ""
	}
	name, _ := s.Prog.Func(pc)
	return name
}
