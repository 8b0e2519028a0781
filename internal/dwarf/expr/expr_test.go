package expr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

type regs map[uint64]uint64

func (r regs) Reg(n uint64) (uint64, error) {
	v, ok := r[n]
	if !ok {
		return 0, fmt.Errorf("register %d unknown", n)
	}
	return v, nil
}

// mem is memory at base.
type mem struct {
	base uint64
	b    []byte
}

var errUnmapped = errors.New("unmapped")

func (m mem) ReadAt(p []byte, addr uint64) (int, error) {
	if addr < m.base || addr-m.base >= uint64(len(m.b)) {
		return 0, errUnmapped
	}
	n := copy(p, m.b[addr-m.base:])
	if n < len(p) {
		return n, errUnmapped
	}
	return n, nil
}

func testCtx() *Context {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint64(b[8:], 0x1122334455667788)
	binary.LittleEndian.PutUint64(b[16:], 0x7fff0000)
	return &Context{
		Regs:    regs{7: 0x1000, 6: 0x2000, 16: 0x400000},
		Mem:     mem{base: 0x1000, b: b},
		PtrSize: 8,
		Order:   binary.LittleEndian,
		CFA:     0x1010, HasCFA: true,
	}
}

func TestEval(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
		init []uint64
		want Result
	}{
		{"lit", []byte{DW_OP_lit0 + 5}, nil, Result{Value: 5}},
		{"breg7+8", []byte{DW_OP_breg0 + 7, 8}, nil, Result{Value: 0x1008}},
		{"breg7-8", []byte{DW_OP_breg0 + 7, 0x78}, nil, Result{Value: 0xff8}},
		{"bregx", []byte{DW_OP_bregx, 6, 0x10}, nil, Result{Value: 0x2010}},
		{"deref", []byte{DW_OP_breg0 + 7, 8, DW_OP_deref}, nil, Result{Value: 0x1122334455667788}},
		{"deref_size 4", []byte{DW_OP_breg0 + 7, 8, DW_OP_deref_size, 4}, nil, Result{Value: 0x55667788}},
		{"deref_size 1", []byte{DW_OP_breg0 + 7, 8, DW_OP_deref_size, 1}, nil, Result{Value: 0x88}},
		{"const1s", []byte{DW_OP_const1s, 0xff}, nil, Result{Value: ^uint64(0)}},
		{"const2u", []byte{DW_OP_const2u, 0x34, 0x12}, nil, Result{Value: 0x1234}},
		{"const4s", []byte{DW_OP_const4s, 0xfe, 0xff, 0xff, 0xff}, nil, Result{Value: ^uint64(1)}},
		{"const8u", []byte{DW_OP_const8u, 1, 2, 3, 4, 5, 6, 7, 8}, nil, Result{Value: 0x0807060504030201}},
		{"constu", []byte{DW_OP_constu, 0xe5, 0x8e, 0x26}, nil, Result{Value: 624485}},
		{"consts", []byte{DW_OP_consts, 0xc0, 0xbb, 0x78}, nil, Result{Value: uint64(0xffffffffffffffff - 123456 + 1)}},
		{"addr", []byte{DW_OP_addr, 0, 0x10, 0, 0, 0, 0, 0, 0}, nil, Result{Value: 0x1000}},
		{"plus_uconst", []byte{DW_OP_lit0 + 1, DW_OP_plus_uconst, 0x80, 0x01}, nil, Result{Value: 129}},
		{"initial CFA", []byte{DW_OP_lit0 + 8, DW_OP_minus}, []uint64{0x1010}, Result{Value: 0x1008}},
		{"call_frame_cfa", []byte{DW_OP_call_frame_cfa, DW_OP_lit0 + 16, DW_OP_plus}, nil, Result{Value: 0x1020}},
		{"dup plus", []byte{DW_OP_lit0 + 3, DW_OP_dup, DW_OP_plus}, nil, Result{Value: 6}},
		{"drop", []byte{DW_OP_lit0 + 3, DW_OP_lit0 + 4, DW_OP_drop}, nil, Result{Value: 3}},
		{"over", []byte{DW_OP_lit0 + 3, DW_OP_lit0 + 4, DW_OP_over}, nil, Result{Value: 3}},
		{"pick 2", []byte{DW_OP_lit0 + 1, DW_OP_lit0 + 2, DW_OP_lit0 + 3, DW_OP_pick, 2}, nil, Result{Value: 1}},
		{"swap", []byte{DW_OP_lit0 + 1, DW_OP_lit0 + 2, DW_OP_swap}, nil, Result{Value: 1}},
		// rot: top becomes third: 1 2 3 -> 3 1 2; top is 2.
		{"rot", []byte{DW_OP_lit0 + 1, DW_OP_lit0 + 2, DW_OP_lit0 + 3, DW_OP_rot}, nil, Result{Value: 2}},
		{"rot third", []byte{DW_OP_lit0 + 1, DW_OP_lit0 + 2, DW_OP_lit0 + 3, DW_OP_rot, DW_OP_drop, DW_OP_drop}, nil, Result{Value: 3}},
		{"abs", []byte{DW_OP_const1s, 0xfb, DW_OP_abs}, nil, Result{Value: 5}},
		{"neg", []byte{DW_OP_lit0 + 5, DW_OP_neg}, nil, Result{Value: ^uint64(4)}},
		{"not", []byte{DW_OP_lit0, DW_OP_not}, nil, Result{Value: ^uint64(0)}},
		{"and", []byte{DW_OP_lit0 + 12, DW_OP_lit0 + 10, DW_OP_and}, nil, Result{Value: 8}},
		{"or", []byte{DW_OP_lit0 + 12, DW_OP_lit0 + 10, DW_OP_or}, nil, Result{Value: 14}},
		{"xor", []byte{DW_OP_lit0 + 12, DW_OP_lit0 + 10, DW_OP_xor}, nil, Result{Value: 6}},
		{"mul", []byte{DW_OP_lit0 + 6, DW_OP_lit0 + 7, DW_OP_mul}, nil, Result{Value: 42}},
		{"div signed", []byte{DW_OP_const1s, 0xf9, DW_OP_lit0 + 2, DW_OP_div}, nil, Result{Value: ^uint64(2)}},
		{"mod", []byte{DW_OP_lit0 + 17, DW_OP_lit0 + 5, DW_OP_mod}, nil, Result{Value: 2}},
		{"shl", []byte{DW_OP_lit0 + 1, DW_OP_lit0 + 4, DW_OP_shl}, nil, Result{Value: 16}},
		{"shr", []byte{DW_OP_const1s, 0xf0, DW_OP_lit0 + 4, DW_OP_shr}, nil, Result{Value: 0x0fffffffffffffff}},
		{"shra", []byte{DW_OP_const1s, 0xf0, DW_OP_lit0 + 4, DW_OP_shra}, nil, Result{Value: ^uint64(0)}},
		{"shl 64", []byte{DW_OP_lit0 + 1, DW_OP_const1u, 64, DW_OP_shl}, nil, Result{Value: 0}},
		{"lt signed", []byte{DW_OP_const1s, 0xff, DW_OP_lit0, DW_OP_lt}, nil, Result{Value: 1}},
		{"gt", []byte{DW_OP_lit0 + 2, DW_OP_lit0 + 1, DW_OP_gt}, nil, Result{Value: 1}},
		{"ge", []byte{DW_OP_lit0 + 1, DW_OP_lit0 + 1, DW_OP_ge}, nil, Result{Value: 1}},
		{"le", []byte{DW_OP_lit0 + 2, DW_OP_lit0 + 1, DW_OP_le}, nil, Result{Value: 0}},
		{"eq", []byte{DW_OP_lit0 + 2, DW_OP_lit0 + 2, DW_OP_eq}, nil, Result{Value: 1}},
		{"ne", []byte{DW_OP_lit0 + 2, DW_OP_lit0 + 2, DW_OP_ne}, nil, Result{Value: 0}},
		{"skip", []byte{DW_OP_lit0 + 1, DW_OP_skip, 1, 0, DW_OP_lit0 + 9, DW_OP_nop}, nil, Result{Value: 1}},
		{"bra taken", []byte{DW_OP_lit0 + 7, DW_OP_lit0 + 1, DW_OP_bra, 1, 0, DW_OP_lit0 + 9}, nil, Result{Value: 7}},
		{"bra not taken", []byte{DW_OP_lit0 + 7, DW_OP_lit0, DW_OP_bra, 1, 0, DW_OP_lit0 + 9}, nil, Result{Value: 9}},
		{"stack_value", []byte{DW_OP_breg0 + 7, 0, DW_OP_stack_value}, nil, Result{Kind: Value, Value: 0x1000}},
		{"reg", []byte{DW_OP_reg0 + 3}, nil, Result{Kind: Register, Reg: 3}},
		{"regx", []byte{DW_OP_regx, 0x21}, nil, Result{Kind: Register, Reg: 33}},
		// glibc's x86_64 __restore_rt CFA: DW_OP_breg7 (rsp) 160; DW_OP_deref.
		{"restore_rt CFA", []byte{DW_OP_breg0 + 7, 0x10, DW_OP_deref}, nil, Result{Value: 0x7fff0000}},
	} {
		got, err := Eval(tc.code, testCtx(), tc.init...)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	loop := []byte{DW_OP_skip, 0xfd, 0xff} // jumps to itself
	deep := []byte{DW_OP_lit0, DW_OP_dup, DW_OP_skip, 0xfc, 0xff}
	for _, tc := range []struct {
		name   string
		code   []byte
		op     byte
		offset int
		want   error
	}{
		{"empty", nil, DW_OP_nop, 0, ErrEmpty},
		{"underflow", []byte{DW_OP_lit0, DW_OP_plus}, DW_OP_plus, 1, ErrStackUnderflow},
		{"truncated const", []byte{DW_OP_const4u, 1, 2}, DW_OP_const4u, 0, ErrTruncated},
		{"truncated uleb", []byte{DW_OP_constu, 0x80}, DW_OP_constu, 0, ErrTruncated},
		{"div zero", []byte{DW_OP_lit0 + 1, DW_OP_lit0, DW_OP_div}, DW_OP_div, 2, ErrDivideByZero},
		{"mod zero", []byte{DW_OP_lit0 + 1, DW_OP_lit0, DW_OP_mod}, DW_OP_mod, 2, ErrDivideByZero},
		{"budget", loop, DW_OP_skip, 0, ErrBudget},
		{"stack cap", deep, DW_OP_dup, 1, ErrStackOverflow},
		{"bad branch", []byte{DW_OP_skip, 0x10, 0}, DW_OP_skip, 0, ErrBadBranch},
		{"unsupported piece", []byte{DW_OP_lit0, DW_OP_piece, 8}, DW_OP_piece, 1, ErrUnsupported},
		{"unknown op", []byte{0xff}, 0xff, 0, ErrUnsupported},
		{"deref_size 9", []byte{DW_OP_lit0, DW_OP_deref_size, 9}, DW_OP_deref_size, 1, ErrBadSize},
		{"pick too deep", []byte{DW_OP_lit0, DW_OP_pick, 1}, DW_OP_pick, 1, ErrStackUnderflow},
	} {
		_, err := Eval(tc.code, testCtx())
		var e *Error
		if !errors.As(err, &e) || e.Op != tc.op || e.Offset != tc.offset || !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v from %s at %d", tc.name, err, tc.want, OpName(tc.op), tc.offset)
		}
	}
	// Memory and register errors keep their cause.
	_, err := Eval([]byte{DW_OP_lit0, DW_OP_deref}, testCtx())
	if !errors.Is(err, errUnmapped) {
		t.Errorf("deref of 0: %v, want the memory's error", err)
	}
	_, err = Eval([]byte{DW_OP_breg0 + 3, 0}, testCtx())
	if err == nil || err.Error() != "dwarf expression: DW_OP_breg3 at offset 0: register 3 unknown" {
		t.Errorf("unknown register: %v", err)
	}
	ctx := testCtx()
	ctx.HasCFA = false
	if _, err := Eval([]byte{DW_OP_call_frame_cfa}, ctx); !errors.Is(err, ErrNoCFA) {
		t.Errorf("call_frame_cfa without CFA: %v", err)
	}
}

func TestPtrSize4(t *testing.T) {
	ctx := testCtx()
	ctx.PtrSize = 4
	got, err := Eval([]byte{DW_OP_lit0, DW_OP_lit0 + 1, DW_OP_minus}, ctx)
	if err != nil || got.Value != 0xffffffff {
		t.Errorf("0-1 with 4-byte addresses: %#x, %v", got.Value, err)
	}
	got, err = Eval([]byte{DW_OP_addr, 0x78, 0x56, 0x34, 0x12}, ctx)
	if err != nil || got.Value != 0x12345678 {
		t.Errorf("DW_OP_addr with 4-byte addresses: %#x, %v", got.Value, err)
	}
}

func TestOpName(t *testing.T) {
	for op, want := range map[byte]string{DW_OP_breg0 + 7: "DW_OP_breg7", DW_OP_lit0 + 31: "DW_OP_lit31",
		DW_OP_reg0: "DW_OP_reg0", DW_OP_call_frame_cfa: "DW_OP_call_frame_cfa", 0xee: "DW_OP_0xee"} {
		if got := OpName(op); got != want {
			t.Errorf("OpName(%#x) = %s, want %s", op, got, want)
		}
	}
}
