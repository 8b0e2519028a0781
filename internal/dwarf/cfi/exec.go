package cfi

import (
	"fmt"
)

// DW_CFA instruction encodings (DWARF 5 §7.24 and GNU/Arm extensions).
const (
	DW_CFA_advance_loc        = 0x40 // high 2 bits
	DW_CFA_offset             = 0x80 // high 2 bits
	DW_CFA_restore            = 0xc0 // high 2 bits
	DW_CFA_nop                = 0x00
	DW_CFA_set_loc            = 0x01
	DW_CFA_advance_loc1       = 0x02
	DW_CFA_advance_loc2       = 0x03
	DW_CFA_advance_loc4       = 0x04
	DW_CFA_offset_extended    = 0x05
	DW_CFA_restore_extended   = 0x06
	DW_CFA_undefined          = 0x07
	DW_CFA_same_value         = 0x08
	DW_CFA_register           = 0x09
	DW_CFA_remember_state     = 0x0a
	DW_CFA_restore_state      = 0x0b
	DW_CFA_def_cfa            = 0x0c
	DW_CFA_def_cfa_register   = 0x0d
	DW_CFA_def_cfa_offset     = 0x0e
	DW_CFA_def_cfa_expression = 0x0f
	DW_CFA_expression         = 0x10
	DW_CFA_offset_extended_sf = 0x11
	DW_CFA_def_cfa_sf         = 0x12
	DW_CFA_def_cfa_offset_sf  = 0x13
	DW_CFA_val_offset         = 0x14
	DW_CFA_val_offset_sf      = 0x15
	DW_CFA_val_expression     = 0x16
	DW_CFA_MIPS_advance_loc8  = 0x1d
	// DW_CFA_AArch64_negate_ra_state shares 0x2d with DW_CFA_GNU_window_save (SPARC).
	DW_CFA_AArch64_negate_ra_state      = 0x2d
	DW_CFA_GNU_args_size                = 0x2e
	DW_CFA_GNU_negative_offset_extended = 0x2f
)

type state struct {
	cfa       CFARule
	rules     []RegRule
	raMangled bool
	argsSize  uint64
}

func (s *state) clone() state {
	c := *s
	c.rules = append([]RegRule(nil), s.rules...)
	return c
}

func (s *state) set(reg uint64, r Rule) error {
	lo, hi := 0, len(s.rules)
	for lo < hi {
		m := (lo + hi) / 2
		if s.rules[m].Reg < reg {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(s.rules) && s.rules[lo].Reg == reg {
		s.rules[lo].Rule = r
		return nil
	}
	if len(s.rules) >= MaxRegisters {
		return fmt.Errorf("more than %d registers with rules", MaxRegisters)
	}
	s.rules = append(s.rules, RegRule{})
	copy(s.rules[lo+1:], s.rules[lo:])
	s.rules[lo] = RegRule{Reg: reg, Rule: r}
	return nil
}

func (s *state) get(reg uint64) Rule {
	r := Row{Rules: s.rules}
	return r.Rule(reg)
}

// Row computes the row of f in force at pc (which should lie in [f.Begin, f.End)).
func (t *Table) Row(f *FDE, pc uint64) (Row, error) {
	c := f.CIE
	var st state
	// The CIE's initial instructions: location advances there are meaningless and ignored.
	ex := executor{t: t, cie: c, stopAt: ^uint64(0), loc: f.Begin, ignoreLoc: true}
	if err := ex.run(c.Initial, &st, nil); err != nil {
		return Row{}, err
	}
	initial := st.clone()
	ex = executor{t: t, cie: c, fde: f, stopAt: pc, loc: f.Begin, end: f.End}
	if err := ex.run(f.Instructions, &st, &initial); err != nil {
		return Row{}, err
	}
	return Row{
		Start:       ex.loc,
		End:         ex.end,
		CFA:         st.cfa,
		Rules:       st.rules,
		RA:          c.RA,
		SignalFrame: c.SignalFrame,
		RAMangled:   st.raMangled,
		ArgsSize:    st.argsSize,
		FDE:         f,
	}, nil
}

type executor struct {
	t         *Table
	cie       *CIE
	fde       *FDE
	stopAt    uint64 // stop before an advance past this pc
	loc       uint64 // location of the current row
	end       uint64 // end of the current row, set when stopping
	ignoreLoc bool
}

// run executes code. initial is the state after the CIE (nil while running the CIE).
func (ex *executor) run(code []byte, st *state, initial *state) error {
	t := ex.t
	base := uint64(cap(t.cfg.Data) - cap(code)) // the section offset of code[0]
	r := &reader{t: t, b: code, end: len(code)}
	var stack []state
	fail := func(op uint8, at int, err error, what string, args ...any) error {
		return t.errorf(base+uint64(at), err, "DW_CFA %#02x: "+what, append([]any{op}, args...)...)
	}
	for r.off < r.end {
		at := r.off
		op := r.u8()
		var err error
		advance := func(delta uint64) bool {
			if ex.ignoreLoc {
				return false
			}
			next := ex.loc + delta*ex.cie.CodeAlign
			if next > ex.stopAt {
				ex.end = next
				return true
			}
			ex.loc = next
			return false
		}
		restore := func(reg uint64) error {
			if initial == nil {
				return st.set(reg, Rule{})
			}
			return st.set(reg, initial.get(reg))
		}
		switch op & 0xc0 {
		case DW_CFA_advance_loc:
			if advance(uint64(op & 0x3f)) {
				return nil
			}
			continue
		case DW_CFA_offset:
			off := int64(r.uleb()) * ex.cie.DataAlign
			if r.err == nil {
				err = st.set(uint64(op&0x3f), Rule{Kind: Offset, Offset: off})
			}
		case DW_CFA_restore:
			err = restore(uint64(op & 0x3f))
		default:
			switch op {
			case DW_CFA_nop:
			case DW_CFA_set_loc:
				v, _ := r.encoded(ex.cie.FDEEncoding, int(ex.cie.AddrSize), t.bases())
				if r.err == nil && !ex.ignoreLoc {
					if v < ex.loc {
						return fail(op, at, nil, "set_loc %#x goes backwards from %#x", v, ex.loc)
					}
					if v > ex.stopAt {
						ex.end = v
						return nil
					}
					ex.loc = v
				}
			case DW_CFA_advance_loc1:
				if d := r.u8(); r.err == nil && advance(uint64(d)) {
					return nil
				}
			case DW_CFA_advance_loc2:
				if d := r.u16(); r.err == nil && advance(d) {
					return nil
				}
			case DW_CFA_advance_loc4:
				if d := r.u32(); r.err == nil && advance(d) {
					return nil
				}
			case DW_CFA_MIPS_advance_loc8:
				if d := r.u64(); r.err == nil && advance(d) {
					return nil
				}
			case DW_CFA_offset_extended:
				reg, off := r.uleb(), int64(r.uleb())
				err = st.set(reg, Rule{Kind: Offset, Offset: off * ex.cie.DataAlign})
			case DW_CFA_offset_extended_sf:
				reg, off := r.uleb(), r.sleb()
				err = st.set(reg, Rule{Kind: Offset, Offset: off * ex.cie.DataAlign})
			case DW_CFA_GNU_negative_offset_extended:
				reg, off := r.uleb(), int64(r.uleb())
				err = st.set(reg, Rule{Kind: Offset, Offset: -off * ex.cie.DataAlign})
			case DW_CFA_val_offset:
				reg, off := r.uleb(), int64(r.uleb())
				err = st.set(reg, Rule{Kind: ValOffset, Offset: off * ex.cie.DataAlign})
			case DW_CFA_val_offset_sf:
				reg, off := r.uleb(), r.sleb()
				err = st.set(reg, Rule{Kind: ValOffset, Offset: off * ex.cie.DataAlign})
			case DW_CFA_restore_extended:
				err = restore(r.uleb())
			case DW_CFA_undefined:
				err = st.set(r.uleb(), Rule{Kind: Undefined})
			case DW_CFA_same_value:
				err = st.set(r.uleb(), Rule{Kind: SameValue})
			case DW_CFA_register:
				reg, reg2 := r.uleb(), r.uleb()
				err = st.set(reg, Rule{Kind: Register, Reg: reg2})
			case DW_CFA_remember_state:
				if len(stack) >= MaxStateStack {
					return fail(op, at, nil, "remember_state deeper than %d", MaxStateStack)
				}
				stack = append(stack, st.clone())
			case DW_CFA_restore_state:
				if len(stack) == 0 {
					return fail(op, at, nil, "restore_state with nothing remembered")
				}
				*st = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			case DW_CFA_def_cfa:
				reg, off := r.uleb(), r.uleb()
				st.cfa = CFARule{Kind: CFARegOffset, Reg: reg, Offset: int64(off)}
			case DW_CFA_def_cfa_sf:
				reg, off := r.uleb(), r.sleb()
				st.cfa = CFARule{Kind: CFARegOffset, Reg: reg, Offset: off * ex.cie.DataAlign}
			case DW_CFA_def_cfa_register:
				reg := r.uleb()
				if st.cfa.Kind != CFARegOffset {
					st.cfa = CFARule{Kind: CFARegOffset}
				}
				st.cfa.Reg = reg
			case DW_CFA_def_cfa_offset:
				off := r.uleb()
				if st.cfa.Kind != CFARegOffset {
					return fail(op, at, nil, "def_cfa_offset without a register CFA rule")
				}
				st.cfa.Offset = int64(off)
			case DW_CFA_def_cfa_offset_sf:
				off := r.sleb()
				if st.cfa.Kind != CFARegOffset {
					return fail(op, at, nil, "def_cfa_offset_sf without a register CFA rule")
				}
				st.cfa.Offset = off * ex.cie.DataAlign
			case DW_CFA_def_cfa_expression:
				n := r.uleb()
				if e := r.take(clampLen(n)); r.err == nil {
					st.cfa = CFARule{Kind: CFAExpression, Expr: e}
				}
			case DW_CFA_expression, DW_CFA_val_expression:
				reg, n := r.uleb(), r.uleb()
				if e := r.take(clampLen(n)); r.err == nil {
					k := Expression
					if op == DW_CFA_val_expression {
						k = ValExpression
					}
					err = st.set(reg, Rule{Kind: k, Expr: e})
				}
			case DW_CFA_GNU_args_size:
				st.argsSize = r.uleb()
			case DW_CFA_AArch64_negate_ra_state:
				st.raMangled = !st.raMangled
			default:
				return fail(op, at, ErrUnsupported, "unknown instruction")
			}
		}
		if r.err != nil {
			return fail(op, at, r.err, "operands")
		}
		if err != nil {
			return fail(op, at, nil, "%v", err)
		}
	}
	if ex.end == 0 {
		ex.end = ex.fdeEnd()
	}
	return nil
}

func (ex *executor) fdeEnd() uint64 {
	if ex.fde != nil {
		return ex.fde.End
	}
	return 0
}

// clampLen turns a length read from input into an int that take() will reject when too big.
func clampLen(n uint64) int {
	if n > 1<<30 {
		return -1
	}
	return int(n)
}
