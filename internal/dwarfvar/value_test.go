package dwarfvar

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

// fakeMem is a little memory of a few regions.
type fakeMem map[uint64][]byte

func (m fakeMem) ReadAt(p []byte, addr uint64) (int, error) {
	for base, b := range m {
		if addr >= base && addr < base+uint64(len(b)) {
			n := copy(p, b[addr-base:])
			if n < len(p) {
				return n, fmt.Errorf("short read at %#x", addr)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("unmapped %#x", addr)
}

type fakeRegs map[uint64]uint64

func (r fakeRegs) Reg(n uint64) (uint64, error) {
	if v, ok := r[n]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("register %d not saved in this frame", n)
}

func TestValue(t *testing.T) {
	le := binary.LittleEndian
	intT := &dwarf.IntType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 4, Name: "int"}}}
	charT := &dwarf.CharType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 1, Name: "char"}}}
	ptrT := &dwarf.PtrType{CommonType: dwarf.CommonType{ByteSize: 8}, Type: charT}
	fnPtrT := &dwarf.PtrType{CommonType: dwarf.CommonType{ByteSize: 8}, Type: &dwarf.FuncType{}}
	dblT := &dwarf.FloatType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 8, Name: "double"}}}
	enumT := &dwarf.EnumType{CommonType: dwarf.CommonType{ByteSize: 4}, Val: []*dwarf.EnumValue{{Name: "RED", Val: 0}, {Name: "BLUE", Val: 2}}}

	stack := make([]byte, 32)
	le.PutUint32(stack[8:], uint32(0xfffffffb)) // -5 at 0x7008
	mem := fakeMem{0x7000: stack, 0x2000: []byte("hi\x00")}
	tg := &Target{Mem: mem, PtrSize: 8, Order: le,
		ReadCString: func(addr uint64, max int) (string, bool, error) {
			b := make([]byte, 3)
			if _, err := mem.ReadAt(b, addr); err != nil {
				return "", false, err
			}
			return "hi", false, nil
		},
		Symbolize: func(addr uint64) string {
			if addr == 0x401000 {
				return "handler"
			}
			return ""
		}}
	f := Frame{Regs: fakeRegs{5: 0x2000, 3: 0x401000}, CFA: 0x7010, HasCFA: true}
	cfaBase := &Scope{FrameBase: []byte{0x9c}} // DW_OP_call_frame_cfa
	dbl := make([]byte, 8)
	le.PutUint64(dbl, math.Float64bits(0.1))
	for _, tc := range []struct {
		name string
		v    Var
		want string
		err  string
	}{
		{"fbreg", Var{Name: "n", Type: intT, Expr: []byte{0x91, 0x78}}, "-5", ""}, // DW_OP_fbreg -8
		{"char pointer in a register", Var{Name: "s", Type: ptrT, Expr: []byte{0x55}}, `0x2000 "hi"`, ""},
		{"function pointer", Var{Name: "cb", Type: fnPtrT, Expr: []byte{0x53}}, "0x401000 <handler>", ""},
		{"enum constant", Var{Name: "c", Type: enumT, Const: []byte{2, 0, 0, 0}}, "BLUE", ""},
		{"double constant", Var{Name: "d", Type: dblT, Const: dbl}, "0.10000000000000001", ""},
		{"char constant", Var{Name: "ch", Type: charT, Const: []byte{'A'}}, "65 'A'", ""},
		{"entry value", Var{Name: "x", Type: intT, Expr: []byte{0xa3, 1, 0x55, 0x9f}}, "", "optimized out (its value at the function's entry was not kept)"},
		{"no location", Var{Name: "y", Type: intT}, "", "optimized out"},
		{"unreadable", Var{Name: "z", Type: intT, Expr: []byte{0x91, 0x40}}, "", "unreadable at 0x6fd0"}, // DW_OP_fbreg -64
		{"register not saved", Var{Name: "r", Type: intT, Expr: []byte{0x50}}, "", "register 0 not saved in this frame"},
		{"pieces", Var{Name: "p", Type: intT, Expr: []byte{0x55, 0x93, 4}}, "", "split across locations"},
	} {
		got, err := tg.Value(tc.v, cfaBase, f, 0)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tc.want || gotErr != tc.err {
			t.Errorf("%s: %q, %q; want %q, %q", tc.name, got, gotErr, tc.want, tc.err)
		}
	}
	// Without a CFA the frame base is unknown.
	if _, err := tg.Value(Var{Name: "n", Type: intT, Expr: []byte{0x91, 0x78}}, cfaBase, Frame{Regs: fakeRegs{}}, 0); err == nil || err.Error() != "frame base unknown (no CFA)" {
		t.Errorf("no CFA: %v", err)
	}
}

// FuzzValue reads variables with arbitrary location expressions, frame bases and
// constant bytes, of every kind of type Value formats: it must never panic, and an error
// comes with no value.
func FuzzValue(f *testing.F) {
	f.Add([]byte{0x91, 0x78}, []byte{0x9c}, []byte{})
	f.Add([]byte{0x55}, []byte{0x76, 0x10}, []byte{})
	f.Add([]byte{0x03, 0, 0x70, 0, 0, 0, 0, 0, 0}, []byte{0x9c}, []byte{})
	f.Add([]byte{0x55, 0x93, 4}, []byte{0x9c}, []byte{})
	f.Add([]byte{}, []byte{}, []byte{2, 0, 0, 0, 0, 0, 0, 0})
	charT := &dwarf.CharType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 1, Name: "char"}}}
	types := []dwarf.Type{
		&dwarf.IntType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 4, Name: "int"}}},
		&dwarf.UintType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 8, Name: "unsigned long"}}},
		&dwarf.FloatType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 4, Name: "float"}}},
		&dwarf.BoolType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 1, Name: "_Bool"}}},
		&dwarf.PtrType{CommonType: dwarf.CommonType{ByteSize: 8}, Type: charT},
		&dwarf.PtrType{CommonType: dwarf.CommonType{ByteSize: 8}, Type: &dwarf.FuncType{}},
		&dwarf.EnumType{CommonType: dwarf.CommonType{ByteSize: 4}, Val: []*dwarf.EnumValue{{Name: "A", Val: 1}}},
		&dwarf.StructType{CommonType: dwarf.CommonType{ByteSize: 1 << 20}},
		&dwarf.ArrayType{CommonType: dwarf.CommonType{ByteSize: 16}, Type: charT, Count: 16},
	}
	stack := make([]byte, 4096)
	for i := range stack {
		stack[i] = byte(i * 7)
	}
	mem := fakeMem{0x7000: stack}
	tg := &Target{Mem: mem, PtrSize: 8, Order: binary.LittleEndian,
		ReadCString: func(addr uint64, max int) (string, bool, error) {
			b := make([]byte, max)
			n, err := mem.ReadAt(b, addr)
			return string(b[:n]), false, err
		},
		Symbolize: func(uint64) string { return "f" }}
	f.Fuzz(func(t *testing.T, loc, frameBase, konst []byte) {
		fr := Frame{Regs: fakeRegs{5: 0x7100, 6: 0x7800, 7: 0x7ff0}, CFA: 0x7400, HasCFA: true}
		for _, ty := range types {
			v := Var{Name: "v", Type: ty, Expr: loc}
			if len(konst) > 0 {
				v.Const = konst
			}
			s, err := tg.Value(v, &Scope{FrameBase: frameBase}, fr, 0x1000)
			if err != nil && s != "" {
				t.Fatalf("value %q with error %v", s, err)
			}
		}
	})
}
