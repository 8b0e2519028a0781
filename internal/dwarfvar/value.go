package dwarfvar

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/coredig/coredig/internal/dwarf/expr"
	"github.com/coredig/coredig/internal/dwarf/leb128"
)

// Bounds of a value read.
const (
	maxCString    = 64  // bytes of a char * shown
	maxValueBytes = 256 // a variable larger than this is shown as {...}
)

// Target is the process values are read from.
type Target struct {
	Mem     expr.Memory
	PtrSize int
	Order   binary.ByteOrder
	// ReadCString reads a NUL-terminated string of at most max bytes, and whether it
	// was cut at max.
	ReadCString func(addr uint64, max int) (string, bool, error)
	// Symbolize names a code address ("main+0x10"), "" when unknown: a function
	// pointer's value shows it.
	Symbolize func(addr uint64) string
}

// Frame is the frame a variable is read in: its registers by DWARF number, and its CFA
// (DW_OP_call_frame_cfa) when known.
type Frame struct {
	Regs   expr.Registers
	CFA    uint64
	HasCFA bool
}

// Value reads variable v of scope sc in frame f and formats it as gdb prints a C value:
// integers, characters, booleans, enumerators, floats to 9 and 17 significant digits,
// pointers in hex (with the function a code pointer names and the string a char *
// points to), aggregates as {...}. bias is the module's load bias, for statics
// (DW_OP_addr). The error says why there is no value: optimized out, unreadable memory,
// a register the frame did not save.
func (t *Target) Value(v Var, sc *Scope, f Frame, bias uint64) (string, error) {
	if v.Const != nil && v.Type != nil {
		return t.format(Strip(v.Type), v.Const)
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
	ty := Strip(v.Type)
	size := ty.Size()
	regs := f.Regs
	var addr uint64
	switch op := v.Expr[0]; {
	case op == 0x91: // DW_OP_fbreg
		off, k := leb128.Int(v.Expr[1:])
		if k <= 0 || 1+k != len(v.Expr) {
			return "", fmt.Errorf("unsupported location")
		}
		base, err := t.frameBase(sc.FrameBase, f)
		if err != nil {
			return "", err
		}
		addr = base + uint64(off)
	case op == 0x03 && len(v.Expr) == 1+t.PtrSize: // DW_OP_addr: a static, in the module
		addr = bias
		if t.PtrSize == 4 {
			addr += uint64(t.Order.Uint32(v.Expr[1:]))
		} else {
			addr += t.Order.Uint64(v.Expr[1:])
		}
	default:
		if hasPiece(v.Expr) {
			return "", fmt.Errorf("split across locations")
		}
		res, err := expr.Eval(v.Expr, t.context(f))
		if err != nil {
			return "", unavailable(err)
		}
		switch res.Kind {
		case expr.Register:
			rv, err := regs.Reg(res.Reg)
			if err != nil {
				return "", err
			}
			return t.format(ty, regBytes(t.Order, rv, size))
		case expr.Value:
			return t.format(ty, regBytes(t.Order, res.Value, size))
		}
		addr = res.Value
	}
	if size <= 0 || size > maxValueBytes {
		if _, ok := ty.(*dwarf.StructType); ok || size > maxValueBytes {
			return fmt.Sprintf("{...} at %#x", addr), nil
		}
		return "", fmt.Errorf("no size")
	}
	b := make([]byte, size)
	if _, err := t.Mem.ReadAt(b, addr); err != nil {
		return "", fmt.Errorf("unreadable at %#x", addr)
	}
	return t.format(ty, b)
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

// frameBase evaluates a function's frame base (DW_AT_frame_base) in frame f.
func (t *Target) frameBase(fb []byte, f Frame) (uint64, error) {
	if len(fb) == 1 && fb[0] == 0x9c { // DW_OP_call_frame_cfa
		if !f.HasCFA {
			return 0, fmt.Errorf("frame base unknown (no CFA)")
		}
		return f.CFA, nil
	}
	res, err := expr.Eval(fb, t.context(f))
	if err != nil {
		return 0, fmt.Errorf("frame base: %w", err)
	}
	if res.Kind == expr.Register {
		return f.Regs.Reg(res.Reg)
	}
	return res.Value, nil
}

// context is the expression machine's view of frame f.
func (t *Target) context(f Frame) *expr.Context {
	return &expr.Context{Regs: f.Regs, Mem: t.Mem, PtrSize: t.PtrSize, Order: t.Order, CFA: f.CFA, HasCFA: f.HasCFA}
}

// format prints the bytes of a value of type ty as C would.
func (t *Target) format(ty dwarf.Type, b []byte) (string, error) {
	order := t.Order
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
	switch x := ty.(type) {
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
		if _, ok := Strip(x.Type).(*dwarf.FuncType); ok && p != 0 && t.Symbolize != nil {
			if name := t.Symbolize(p); name != "" {
				s += " <" + name + ">"
			}
		}
		if isChar(x.Type) && p != 0 && t.ReadCString != nil {
			if str, trunc, err := t.ReadCString(p, maxCString); err == nil {
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
	switch Strip(t).(type) {
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
