package analysis

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/coredig/coredig/internal/dwarf/expr"
	"github.com/coredig/coredig/internal/dwarf/leb128"
	"github.com/coredig/coredig/internal/dwarfvar"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/unwind"
)

// Bounds of the locals shown for the crashing thread.
const (
	maxLocalFrames = 16  // physical frames given locals
	maxLocals      = 32  // variables per frame
	maxCString     = 64  // bytes of a char * shown
	maxValueBytes  = 256 // a variable larger than this is shown as {...}
)

// addLocals gives the first frames of the crashing thread their variables, read from
// DWARF at each frame's pc with the registers and CFA the unwinder found there.
// spans[i] is where walk[i]'s report frames sit in frames.
func (a *Analysis) addLocals(frames []report.Frame, walk []*unwind.Frame, spans [][2]int) {
	for i, f := range walk {
		if i >= maxLocalFrames || i >= len(spans) {
			break
		}
		if f.Signal != nil || f.FoundBy == unwind.FoundByScan {
			continue
		}
		pc := f.PC
		if f.ReturnAddress && pc > 0 {
			pc-- // the call, where the caller's variables are as they were
		}
		a.placeLocals(frames[spans[i][0]:spans[i][1]], pc, f)
	}
}

// placeLocals reads the variables at pc in frame f and gives each to its report frame:
// an inlined call's variables to that inlined frame, the function's own to the concrete
// frame (report frames for one pc run innermost inlined call first, concrete last).
func (a *Analysis) placeLocals(group []report.Frame, pc uint64, f *unwind.Frame) {
	if len(group) == 0 {
		return
	}
	locals, inline, depth := a.frameLocals(pc, f)
	for k, l := range locals {
		// The concrete frame is the last of the group; each inlining level is one
		// frame further in, unless the DWARF scopes and the frames do not line up.
		j := len(group) - 1 - inline[k]
		if len(group) != depth+1 || j < 0 {
			j = 0
		}
		if len(group[j].Locals) < maxLocals {
			group[j].Locals = append(group[j].Locals, l)
		}
	}
}

// frameLocals reads the variables visible at pc in frame f, with each one's inlining
// level and the depth of inlined calls at pc.
func (a *Analysis) frameLocals(pc uint64, f *unwind.Frame) (out []report.Local, inline []int, depth int) {
	m := a.Modules.ModuleFor(pc)
	if m == nil || !m.Usable() {
		return nil, nil, 0
	}
	rd, err := a.varReader(m.Path)
	if err != nil {
		return nil, nil, 0
	}
	sc, err := rd.ScopeAt(pc - m.Bias)
	if err != nil || sc == nil {
		return nil, nil, 0
	}
	for _, v := range sc.Vars {
		if len(out) >= 4*maxLocals || v.Name == "" {
			continue
		}
		l := report.Local{Name: v.Name, Type: dwarfvar.TypeName(v.Type), Param: v.Param}
		l.Value, err = a.localValue(v, sc, f, m.Bias)
		if err != nil {
			l.Value, l.Error = "", err.Error()
		}
		out = append(out, l)
		inline = append(inline, v.Inline)
	}
	return out, inline, sc.Inlines
}

// frameRegs gives DWARF expressions the registers the unwinder knows in a frame.
type frameRegs struct {
	a *Analysis
	f *unwind.Frame
}

func (r frameRegs) Reg(n uint64) (uint64, error) {
	i := r.a.Core.Arch.FromDWARF(n)
	if v, ok := r.f.Regs.Get(i); ok && i >= 0 {
		return v, nil
	}
	return 0, fmt.Errorf("register %d not saved in this frame", n)
}

// localValue reads one variable and formats it.
func (a *Analysis) localValue(v dwarfvar.Var, sc *dwarfvar.Scope, f *unwind.Frame, bias uint64) (string, error) {
	if v.Const != nil && v.Type != nil {
		return formatValue(a, dwarfvar.Strip(v.Type), v.Const)
	}
	if len(v.Expr) == 0 {
		return "", fmt.Errorf("optimized out")
	}
	if v.Expr[0] == 0xa3 || v.Expr[0] == 0xf3 { // DW_OP_entry_value, DW_OP_GNU_entry_value
		return "", fmt.Errorf("optimized out (its value at the function's entry was not kept)")
	}
	if v.Type == nil {
		return "", fmt.Errorf("no type")
	}
	t := dwarfvar.Strip(v.Type)
	size := t.Size()
	c := a.Core.Arch
	regs := frameRegs{a, f}
	var addr uint64
	switch op := v.Expr[0]; {
	case op == 0x91: // DW_OP_fbreg
		off, k := leb128.Int(v.Expr[1:])
		if k <= 0 || 1+k != len(v.Expr) {
			return "", fmt.Errorf("unsupported location")
		}
		base, err := a.frameBaseOf(sc.FrameBase, f)
		if err != nil {
			return "", err
		}
		addr = base + uint64(off)
	case op == 0x03 && len(v.Expr) == 1+c.PtrSize: // DW_OP_addr: a static, in the module
		addr = c.ByteOrder.Uint64(v.Expr[1:]) + bias
	default:
		if hasPiece(v.Expr) {
			return "", fmt.Errorf("split across locations")
		}
		res, err := expr.Eval(v.Expr, &expr.Context{Regs: regs, Mem: a.Core, PtrSize: c.PtrSize, Order: c.ByteOrder, CFA: f.CFA, HasCFA: f.HasCFA})
		if err != nil {
			return "", unavailable(err)
		}
		switch res.Kind {
		case expr.Register:
			rv, err := regs.Reg(res.Reg)
			if err != nil {
				return "", err
			}
			return formatValue(a, t, regBytes(c.ByteOrder, rv, size))
		case expr.Value:
			return formatValue(a, t, regBytes(c.ByteOrder, res.Value, size))
		}
		addr = res.Value
	}
	if size <= 0 || size > maxValueBytes {
		if _, ok := t.(*dwarf.StructType); ok || size > maxValueBytes {
			return fmt.Sprintf("{...} at %#x", addr), nil
		}
		return "", fmt.Errorf("no size")
	}
	b := make([]byte, size)
	if err := a.Core.ReadFull(b, addr); err != nil {
		return "", fmt.Errorf("unreadable at %#x", addr)
	}
	return formatValue(a, t, b)
}

// unavailable shortens an expression error to what a reader needs.
func unavailable(err error) error {
	if strings.Contains(err.Error(), "unsupported") {
		return fmt.Errorf("location not supported (%v)", err)
	}
	return err
}

// hasPiece reports whether a location is composite (DW_OP_piece, DW_OP_bit_piece).
func hasPiece(e []byte) bool {
	for _, b := range e {
		if b == 0x93 || b == 0x9d {
			return true
		}
	}
	return false
}

func regBytes(order binary.ByteOrder, v uint64, size int64) []byte {
	b := make([]byte, 8)
	order.PutUint64(b, v)
	if size <= 0 || size > 8 {
		return b
	}
	if order == binary.BigEndian {
		return b[8-size:]
	}
	return b[:size]
}

// frameBaseOf evaluates a function's frame base in frame f.
func (a *Analysis) frameBaseOf(fb []byte, f *unwind.Frame) (uint64, error) {
	c := a.Core.Arch
	if len(fb) == 1 && fb[0] == 0x9c { // DW_OP_call_frame_cfa
		if !f.HasCFA {
			return 0, fmt.Errorf("frame base unknown (no CFA)")
		}
		return f.CFA, nil
	}
	res, err := expr.Eval(fb, &expr.Context{Regs: frameRegs{a, f}, Mem: a.Core, PtrSize: c.PtrSize, Order: c.ByteOrder, CFA: f.CFA, HasCFA: f.HasCFA})
	if err != nil {
		return 0, fmt.Errorf("frame base: %w", err)
	}
	if res.Kind == expr.Register {
		return frameRegs{a, f}.Reg(res.Reg)
	}
	return res.Value, nil
}

// formatValue prints the bytes of a value of type t as C would.
func formatValue(a *Analysis, t dwarf.Type, b []byte) (string, error) {
	order := a.Core.Arch.ByteOrder
	u := func() uint64 {
		var x [8]byte
		n := min(len(b), 8)
		if order == binary.BigEndian {
			copy(x[8-n:], b[:n])
			return binary.BigEndian.Uint64(x[:])
		}
		copy(x[:], b[:n])
		return binary.LittleEndian.Uint64(x[:])
	}
	signed := func() int64 {
		v, n := u(), len(b)
		if n < 8 {
			shift := uint(64 - 8*n)
			return int64(v<<shift) >> shift
		}
		return int64(v)
	}
	switch x := t.(type) {
	case *dwarf.BoolType:
		return strconv.FormatBool(u() != 0), nil
	case *dwarf.CharType:
		return charValue(signed()), nil
	case *dwarf.UcharType:
		return charValue(int64(u())), nil
	case *dwarf.IntType:
		return strconv.FormatInt(signed(), 10), nil
	case *dwarf.UintType:
		return strconv.FormatUint(u(), 10), nil
	case *dwarf.FloatType:
		switch len(b) {
		// As gdb prints them: 9 and 17 significant digits, trailing zeros dropped.
		case 4:
			return strconv.FormatFloat(float64(math.Float32frombits(uint32(u()))), 'g', 9, 32), nil
		case 8:
			return strconv.FormatFloat(math.Float64frombits(u()), 'g', 17, 64), nil
		}
	case *dwarf.EnumType:
		v := signed()
		for _, e := range x.Val {
			if e.Val == v {
				return e.Name, nil
			}
		}
		return strconv.FormatInt(v, 10), nil
	case *dwarf.PtrType:
		p := u()
		s := fmt.Sprintf("%#x", p)
		if _, ok := dwarfvar.Strip(x.Type).(*dwarf.FuncType); ok && p != 0 {
			if name := a.symbolizeAddr(p); name != "" {
				s += " <" + name + ">"
			}
		}
		if isChar(x.Type) && p != 0 {
			if str, trunc, err := a.Core.ReadCString(p, maxCString); err == nil {
				s += " " + strconv.Quote(str)
				if trunc {
					s += "..."
				}
			}
		}
		return s, nil
	case *dwarf.StructType, *dwarf.ArrayType:
		return "{...}", nil
	}
	return fmt.Sprintf("%#x", u()), nil
}

func isChar(t dwarf.Type) bool {
	switch dwarfvar.Strip(t).(type) {
	case *dwarf.CharType, *dwarf.UcharType:
		return true
	}
	return false
}

func charValue(v int64) string {
	if v >= 0x20 && v < 0x7f {
		return fmt.Sprintf("%d '%c'", v, rune(v))
	}
	return strconv.FormatInt(v, 10)
}
