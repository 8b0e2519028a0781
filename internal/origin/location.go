package origin

import (
	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/dwarf/expr"
	"github.com/coredig/coredig/internal/dwarf/leb128"
	"github.com/coredig/coredig/internal/dwarfvar"
)

// varInRegisterAt finds a variable whose location at the scope's pc is exactly the
// register (DW_OP_regN or DW_OP_regx); nil without a scope.
func varInRegisterAt(c *arch.Arch, sc *dwarfvar.Scope, reg string) *dwarfvar.Var {
	n := c.DWARFNumber(reg)
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
		case op >= expr.DW_OP_reg0 && op <= expr.DW_OP_reg31 && len(v.Expr) == 1 && int(op-expr.DW_OP_reg0) == n:
			return v
		case op == expr.DW_OP_regx:
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
		if len(v.Expr) < 2 || v.Expr[0] != expr.DW_OP_fbreg || v.Type == nil {
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

// frameBase evaluates the simple frame base expressions compilers emit:
// DW_OP_call_frame_cfa (cfa, 0 when unknown), DW_OP_bregN offset and DW_OP_regN, with
// the frame's registers by name.
func frameBase(c *arch.Arch, fb []byte, cfa uint64, regs map[string]uint64) (uint64, bool) {
	switch {
	case len(fb) == 1 && fb[0] == expr.DW_OP_call_frame_cfa:
		return cfa, cfa != 0
	case len(fb) >= 2 && fb[0] >= expr.DW_OP_breg0 && fb[0] <= expr.DW_OP_breg31:
		off, k := leb128.Int(fb[1:])
		if k <= 0 || 1+k != len(fb) {
			return 0, false
		}
		i := c.FromDWARF(uint64(fb[0] - expr.DW_OP_breg0))
		if i < 0 {
			return 0, false
		}
		v, ok := regs[c.RegNames[i]]
		return v + uint64(off), ok
	case len(fb) == 1 && fb[0] >= expr.DW_OP_reg0 && fb[0] <= expr.DW_OP_reg31:
		i := c.FromDWARF(uint64(fb[0] - expr.DW_OP_reg0))
		if i < 0 {
			return 0, false
		}
		v, ok := regs[c.RegNames[i]]
		return v, ok
	}
	return 0, false
}
