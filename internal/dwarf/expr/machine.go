package expr

import (
	"fmt"

	"github.com/coredig/coredig/internal/dwarf/leb128"
)

// Operation encodings, DWARF 5 §7.7.1 (names keep the spec's spelling).
const (
	DW_OP_addr                = 0x03
	DW_OP_deref               = 0x06
	DW_OP_const1u             = 0x08
	DW_OP_const1s             = 0x09
	DW_OP_const2u             = 0x0a
	DW_OP_const2s             = 0x0b
	DW_OP_const4u             = 0x0c
	DW_OP_const4s             = 0x0d
	DW_OP_const8u             = 0x0e
	DW_OP_const8s             = 0x0f
	DW_OP_constu              = 0x10
	DW_OP_consts              = 0x11
	DW_OP_dup                 = 0x12
	DW_OP_drop                = 0x13
	DW_OP_over                = 0x14
	DW_OP_pick                = 0x15
	DW_OP_swap                = 0x16
	DW_OP_rot                 = 0x17
	DW_OP_xderef              = 0x18
	DW_OP_abs                 = 0x19
	DW_OP_and                 = 0x1a
	DW_OP_div                 = 0x1b
	DW_OP_minus               = 0x1c
	DW_OP_mod                 = 0x1d
	DW_OP_mul                 = 0x1e
	DW_OP_neg                 = 0x1f
	DW_OP_not                 = 0x20
	DW_OP_or                  = 0x21
	DW_OP_plus                = 0x22
	DW_OP_plus_uconst         = 0x23
	DW_OP_shl                 = 0x24
	DW_OP_shr                 = 0x25
	DW_OP_shra                = 0x26
	DW_OP_xor                 = 0x27
	DW_OP_bra                 = 0x28
	DW_OP_eq                  = 0x29
	DW_OP_ge                  = 0x2a
	DW_OP_gt                  = 0x2b
	DW_OP_le                  = 0x2c
	DW_OP_lt                  = 0x2d
	DW_OP_ne                  = 0x2e
	DW_OP_skip                = 0x2f
	DW_OP_lit0                = 0x30
	DW_OP_lit31               = 0x4f
	DW_OP_reg0                = 0x50
	DW_OP_reg31               = 0x6f
	DW_OP_breg0               = 0x70
	DW_OP_breg31              = 0x8f
	DW_OP_regx                = 0x90
	DW_OP_fbreg               = 0x91
	DW_OP_bregx               = 0x92
	DW_OP_piece               = 0x93
	DW_OP_deref_size          = 0x94
	DW_OP_xderef_size         = 0x95
	DW_OP_nop                 = 0x96
	DW_OP_push_object_address = 0x97
	DW_OP_call2               = 0x98
	DW_OP_call4               = 0x99
	DW_OP_call_ref            = 0x9a
	DW_OP_form_tls_address    = 0x9b
	DW_OP_call_frame_cfa      = 0x9c
	DW_OP_bit_piece           = 0x9d
	DW_OP_implicit_value      = 0x9e
	DW_OP_stack_value         = 0x9f
)

var opNames = map[byte]string{
	DW_OP_addr: "DW_OP_addr", DW_OP_deref: "DW_OP_deref", DW_OP_const1u: "DW_OP_const1u",
	DW_OP_const1s: "DW_OP_const1s", DW_OP_const2u: "DW_OP_const2u", DW_OP_const2s: "DW_OP_const2s",
	DW_OP_const4u: "DW_OP_const4u", DW_OP_const4s: "DW_OP_const4s", DW_OP_const8u: "DW_OP_const8u",
	DW_OP_const8s: "DW_OP_const8s", DW_OP_constu: "DW_OP_constu", DW_OP_consts: "DW_OP_consts",
	DW_OP_dup: "DW_OP_dup", DW_OP_drop: "DW_OP_drop", DW_OP_over: "DW_OP_over", DW_OP_pick: "DW_OP_pick",
	DW_OP_swap: "DW_OP_swap", DW_OP_rot: "DW_OP_rot", DW_OP_xderef: "DW_OP_xderef", DW_OP_abs: "DW_OP_abs",
	DW_OP_and: "DW_OP_and", DW_OP_div: "DW_OP_div", DW_OP_minus: "DW_OP_minus", DW_OP_mod: "DW_OP_mod",
	DW_OP_mul: "DW_OP_mul", DW_OP_neg: "DW_OP_neg", DW_OP_not: "DW_OP_not", DW_OP_or: "DW_OP_or",
	DW_OP_plus: "DW_OP_plus", DW_OP_plus_uconst: "DW_OP_plus_uconst", DW_OP_shl: "DW_OP_shl",
	DW_OP_shr: "DW_OP_shr", DW_OP_shra: "DW_OP_shra", DW_OP_xor: "DW_OP_xor", DW_OP_bra: "DW_OP_bra",
	DW_OP_eq: "DW_OP_eq", DW_OP_ge: "DW_OP_ge", DW_OP_gt: "DW_OP_gt", DW_OP_le: "DW_OP_le",
	DW_OP_lt: "DW_OP_lt", DW_OP_ne: "DW_OP_ne", DW_OP_skip: "DW_OP_skip", DW_OP_regx: "DW_OP_regx",
	DW_OP_fbreg: "DW_OP_fbreg", DW_OP_bregx: "DW_OP_bregx", DW_OP_piece: "DW_OP_piece",
	DW_OP_deref_size: "DW_OP_deref_size", DW_OP_xderef_size: "DW_OP_xderef_size", DW_OP_nop: "DW_OP_nop",
	DW_OP_push_object_address: "DW_OP_push_object_address", DW_OP_call2: "DW_OP_call2",
	DW_OP_call4: "DW_OP_call4", DW_OP_call_ref: "DW_OP_call_ref", DW_OP_form_tls_address: "DW_OP_form_tls_address",
	DW_OP_call_frame_cfa: "DW_OP_call_frame_cfa", DW_OP_bit_piece: "DW_OP_bit_piece",
	DW_OP_implicit_value: "DW_OP_implicit_value", DW_OP_stack_value: "DW_OP_stack_value",
}

// OpName returns the spec name of an opcode ("DW_OP_breg7"), or "DW_OP_0x.." when unknown.
func OpName(op byte) string {
	switch {
	case op >= DW_OP_lit0 && op <= DW_OP_lit31:
		return fmt.Sprintf("DW_OP_lit%d", op-DW_OP_lit0)
	case op >= DW_OP_reg0 && op <= DW_OP_reg31:
		return fmt.Sprintf("DW_OP_reg%d", op-DW_OP_reg0)
	case op >= DW_OP_breg0 && op <= DW_OP_breg31:
		return fmt.Sprintf("DW_OP_breg%d", op-DW_OP_breg0)
	}
	if n, ok := opNames[op]; ok {
		return n
	}
	return fmt.Sprintf("DW_OP_%#02x", op)
}

type machine struct {
	code     []byte
	pc       int
	ctx      *Context
	stack    []uint64
	maxSteps int
	maxStack int
	ptr      int
	order    interface {
		Uint16([]byte) uint16
		Uint32([]byte) uint32
		Uint64([]byte) uint64
	}
	err error // first operand decoding error of the current operation
}

func (m *machine) mask(v uint64) uint64 {
	if m.ptr == 4 {
		return v & 0xffffffff
	}
	return v
}

func (m *machine) take(n int) []byte {
	if m.err != nil {
		return nil
	}
	if n < 0 || len(m.code)-m.pc < n {
		m.err = ErrTruncated
		m.pc = len(m.code)
		return nil
	}
	b := m.code[m.pc : m.pc+n]
	m.pc += n
	return b
}

func (m *machine) u8() uint64 {
	b := m.take(1)
	if b == nil {
		return 0
	}
	return uint64(b[0])
}

func (m *machine) u16() uint64 {
	b := m.take(2)
	if b == nil {
		return 0
	}
	return uint64(m.order.Uint16(b))
}

func (m *machine) u32() uint64 {
	b := m.take(4)
	if b == nil {
		return 0
	}
	return uint64(m.order.Uint32(b))
}

func (m *machine) u64() uint64 {
	b := m.take(8)
	if b == nil {
		return 0
	}
	return m.order.Uint64(b)
}

func (m *machine) uleb() uint64 {
	if m.err != nil {
		return 0
	}
	v, n := leb128.Uint(m.code[m.pc:len(m.code)])
	if n == 0 {
		m.err = ErrTruncated
		m.pc = len(m.code)
		return 0
	}
	m.pc += n
	return v
}

func (m *machine) sleb() int64 {
	if m.err != nil {
		return 0
	}
	v, n := leb128.Int(m.code[m.pc:len(m.code)])
	if n == 0 {
		m.err = ErrTruncated
		m.pc = len(m.code)
		return 0
	}
	m.pc += n
	return v
}

func (m *machine) push(v uint64) error {
	if len(m.stack) >= m.maxStack {
		return ErrStackOverflow
	}
	m.stack = append(m.stack, m.mask(v))
	return nil
}

func (m *machine) need(n int) error {
	if len(m.stack) < n {
		return ErrStackUnderflow
	}
	return nil
}

func (m *machine) pop() uint64 {
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v
}

func (m *machine) reg(n uint64) (uint64, error) {
	if m.ctx.Regs == nil {
		return 0, ErrNoRegisters
	}
	return m.ctx.Regs.Reg(n)
}

func (m *machine) deref(addr uint64, size int) (uint64, error) {
	if size < 1 || size > 8 {
		return 0, ErrBadSize
	}
	if m.ctx.Mem == nil {
		return 0, ErrNoMemory
	}
	var buf [8]byte
	n, err := m.ctx.Mem.ReadAt(buf[:size], addr)
	if n < size {
		if err == nil {
			err = fmt.Errorf("short read of %d bytes at %#x", size, addr)
		}
		return 0, err
	}
	var v uint64
	if isBig(m.order) {
		for i := 0; i < size; i++ {
			v = v<<8 | uint64(buf[i])
		}
	} else {
		for i := size - 1; i >= 0; i-- {
			v = v<<8 | uint64(buf[i])
		}
	}
	return v, nil
}

func isBig(o interface{ Uint16([]byte) uint16 }) bool {
	return o.Uint16([]byte{1, 0}) == 0x100
}

func signExtend(v uint64, bytes int) uint64 {
	shift := uint(64 - 8*bytes)
	return uint64(int64(v<<shift) >> shift)
}

func bool2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (m *machine) run() (Result, error) {
	steps := 0
	for m.pc < len(m.code) {
		start := m.pc
		op := m.code[m.pc]
		m.pc++
		steps++
		if steps > m.maxSteps {
			return Result{}, &Error{Op: op, Offset: start, Err: ErrBudget}
		}
		res, done, err := m.step(op)
		if err == nil && m.err != nil {
			err = m.err
		}
		if err != nil {
			return Result{}, &Error{Op: op, Offset: start, Err: err}
		}
		if done {
			return res, nil
		}
	}
	if len(m.stack) == 0 {
		return Result{}, &Error{Op: DW_OP_nop, Offset: len(m.code), Err: ErrEmpty}
	}
	return Result{Kind: Address, Value: m.stack[len(m.stack)-1]}, nil
}

// step executes one operation whose opcode has been consumed. done is true when the
// operation ends the expression with a result (DW_OP_reg*, DW_OP_stack_value).
func (m *machine) step(op byte) (res Result, done bool, err error) {
	switch {
	case op >= DW_OP_lit0 && op <= DW_OP_lit31:
		return res, false, m.push(uint64(op - DW_OP_lit0))
	case op >= DW_OP_reg0 && op <= DW_OP_reg31:
		return m.regLocation(uint64(op - DW_OP_reg0))
	case op >= DW_OP_breg0 && op <= DW_OP_breg31:
		off := m.sleb()
		if m.err != nil {
			return res, false, m.err
		}
		v, err := m.reg(uint64(op - DW_OP_breg0))
		if err != nil {
			return res, false, err
		}
		return res, false, m.push(v + uint64(off))
	}
	switch op {
	case DW_OP_addr:
		var v uint64
		if m.ptr == 4 {
			v = m.u32()
		} else {
			v = m.u64()
		}
		return res, false, m.firstErr(m.push(v))
	case DW_OP_const1u:
		return res, false, m.firstErr(m.push(m.u8()))
	case DW_OP_const1s:
		return res, false, m.firstErr(m.push(signExtend(m.u8(), 1)))
	case DW_OP_const2u:
		return res, false, m.firstErr(m.push(m.u16()))
	case DW_OP_const2s:
		return res, false, m.firstErr(m.push(signExtend(m.u16(), 2)))
	case DW_OP_const4u:
		return res, false, m.firstErr(m.push(m.u32()))
	case DW_OP_const4s:
		return res, false, m.firstErr(m.push(signExtend(m.u32(), 4)))
	case DW_OP_const8u, DW_OP_const8s:
		return res, false, m.firstErr(m.push(m.u64()))
	case DW_OP_constu:
		return res, false, m.firstErr(m.push(m.uleb()))
	case DW_OP_consts:
		return res, false, m.firstErr(m.push(uint64(m.sleb())))
	case DW_OP_dup:
		if err := m.need(1); err != nil {
			return res, false, err
		}
		return res, false, m.push(m.stack[len(m.stack)-1])
	case DW_OP_drop:
		if err := m.need(1); err != nil {
			return res, false, err
		}
		m.pop()
		return res, false, nil
	case DW_OP_over:
		if err := m.need(2); err != nil {
			return res, false, err
		}
		return res, false, m.push(m.stack[len(m.stack)-2])
	case DW_OP_pick:
		i := m.u8()
		if m.err != nil {
			return res, false, m.err
		}
		if err := m.need(int(i) + 1); err != nil {
			return res, false, err
		}
		return res, false, m.push(m.stack[len(m.stack)-1-int(i)])
	case DW_OP_swap:
		if err := m.need(2); err != nil {
			return res, false, err
		}
		n := len(m.stack)
		m.stack[n-1], m.stack[n-2] = m.stack[n-2], m.stack[n-1]
		return res, false, nil
	case DW_OP_rot:
		if err := m.need(3); err != nil {
			return res, false, err
		}
		n := len(m.stack)
		// The top entry becomes the third, the second becomes the top, the third the second.
		m.stack[n-1], m.stack[n-2], m.stack[n-3] = m.stack[n-2], m.stack[n-3], m.stack[n-1]
		return res, false, nil
	case DW_OP_deref:
		if err := m.need(1); err != nil {
			return res, false, err
		}
		v, err := m.deref(m.pop(), m.ptr)
		if err != nil {
			return res, false, err
		}
		return res, false, m.push(v)
	case DW_OP_deref_size:
		size := int(m.u8())
		if m.err != nil {
			return res, false, m.err
		}
		if size < 1 || size > m.ptr {
			return res, false, ErrBadSize
		}
		if err := m.need(1); err != nil {
			return res, false, err
		}
		v, err := m.deref(m.pop(), size)
		if err != nil {
			return res, false, err
		}
		return res, false, m.push(v)
	case DW_OP_abs, DW_OP_neg, DW_OP_not:
		if err := m.need(1); err != nil {
			return res, false, err
		}
		v := m.pop()
		switch op {
		case DW_OP_abs:
			if int64(v) < 0 {
				v = -v
			}
		case DW_OP_neg:
			v = -v
		case DW_OP_not:
			v = ^v
		}
		return res, false, m.push(v)
	case DW_OP_and, DW_OP_div, DW_OP_minus, DW_OP_mod, DW_OP_mul, DW_OP_or, DW_OP_plus,
		DW_OP_shl, DW_OP_shr, DW_OP_shra, DW_OP_xor,
		DW_OP_eq, DW_OP_ge, DW_OP_gt, DW_OP_le, DW_OP_lt, DW_OP_ne:
		if err := m.need(2); err != nil {
			return res, false, err
		}
		b := m.pop()
		a := m.pop()
		v, err := binop(op, a, b, m.ptr)
		if err != nil {
			return res, false, err
		}
		return res, false, m.push(v)
	case DW_OP_plus_uconst:
		c := m.uleb()
		if m.err != nil {
			return res, false, m.err
		}
		if err := m.need(1); err != nil {
			return res, false, err
		}
		return res, false, m.push(m.pop() + c)
	case DW_OP_skip, DW_OP_bra:
		off := int64(int16(m.u16()))
		if m.err != nil {
			return res, false, m.err
		}
		jump := true
		if op == DW_OP_bra {
			if err := m.need(1); err != nil {
				return res, false, err
			}
			jump = m.pop() != 0
		}
		if jump {
			target := int64(m.pc) + off
			if target < 0 || target > int64(len(m.code)) {
				return res, false, ErrBadBranch
			}
			m.pc = int(target)
		}
		return res, false, nil
	case DW_OP_regx:
		n := m.uleb()
		if m.err != nil {
			return res, false, m.err
		}
		return m.regLocation(n)
	case DW_OP_bregx:
		n := m.uleb()
		off := m.sleb()
		if m.err != nil {
			return res, false, m.err
		}
		v, err := m.reg(n)
		if err != nil {
			return res, false, err
		}
		return res, false, m.push(v + uint64(off))
	case DW_OP_nop:
		return res, false, nil
	case DW_OP_call_frame_cfa:
		if !m.ctx.HasCFA {
			return res, false, ErrNoCFA
		}
		return res, false, m.push(m.ctx.CFA)
	case DW_OP_stack_value:
		if err := m.need(1); err != nil {
			return res, false, err
		}
		return Result{Kind: Value, Value: m.stack[len(m.stack)-1]}, true, nil
	}
	return res, false, ErrUnsupported
}

func (m *machine) firstErr(err error) error {
	if m.err != nil {
		return m.err
	}
	return err
}

// regLocation ends the expression with a register location; only valid as the whole
// expression (a lone DW_OP_regN), which is how CFI would use it.
func (m *machine) regLocation(n uint64) (Result, bool, error) {
	return Result{Kind: Register, Reg: n}, true, nil
}

func binop(op byte, a, b uint64, ptr int) (uint64, error) {
	bits := uint64(8 * ptr)
	switch op {
	case DW_OP_and:
		return a & b, nil
	case DW_OP_or:
		return a | b, nil
	case DW_OP_xor:
		return a ^ b, nil
	case DW_OP_plus:
		return a + b, nil
	case DW_OP_minus:
		return a - b, nil
	case DW_OP_mul:
		return a * b, nil
	case DW_OP_div:
		if b == 0 {
			return 0, ErrDivideByZero
		}
		sa, sb := signed(a, ptr), signed(b, ptr)
		if sb == -1 {
			return uint64(-sa), nil // avoids the MinInt64 / -1 trap
		}
		return uint64(sa / sb), nil
	case DW_OP_mod:
		if b == 0 {
			return 0, ErrDivideByZero
		}
		return a % b, nil
	case DW_OP_shl:
		if b >= bits {
			return 0, nil
		}
		return a << b, nil
	case DW_OP_shr:
		if b >= bits {
			return 0, nil
		}
		return a >> b, nil
	case DW_OP_shra:
		sa := signed(a, ptr)
		if b >= bits {
			b = bits - 1
		}
		return uint64(sa >> b), nil
	case DW_OP_eq:
		return bool2u(a == b), nil
	case DW_OP_ne:
		return bool2u(a != b), nil
	case DW_OP_ge:
		return bool2u(signed(a, ptr) >= signed(b, ptr)), nil
	case DW_OP_gt:
		return bool2u(signed(a, ptr) > signed(b, ptr)), nil
	case DW_OP_le:
		return bool2u(signed(a, ptr) <= signed(b, ptr)), nil
	case DW_OP_lt:
		return bool2u(signed(a, ptr) < signed(b, ptr)), nil
	}
	return 0, ErrUnsupported
}

func signed(v uint64, ptr int) int64 {
	if ptr == 4 {
		return int64(int32(uint32(v)))
	}
	return int64(v)
}
