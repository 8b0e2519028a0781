package ehabi

import (
	"encoding/binary"
	"fmt"
)

// Core register numbers the opcodes treat specially.
const (
	SP = 13
	LR = 14
	PC = 15
)

// State is the virtual register set of §10: the core registers r0-r15 of a frame, with a
// mask of those whose value is known. vsp is R[SP].
type State struct {
	R     [16]uint32
	Known uint16 // bit n: R[n] is known
	// Set has a bit for each register Execute changed: those popped, SP (vsp) and PC.
	Set uint16
}

// OpError is an unwind opcode that could not be executed.
type OpError struct {
	Off int  // offset of the instruction in the opcodes
	Op  byte // its first byte
	Err error
}

func (e *OpError) Error() string {
	return fmt.Sprintf("unwind opcode %#02x at %d: %v", e.Op, e.Off, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// StackError is a pop whose stack words could not be read.
type StackError struct {
	Addr uint64
	Err  error
}

func (e *StackError) Error() string {
	return fmt.Sprintf("saved registers at %#x: %v", e.Addr, e.Err)
}

func (e *StackError) Unwrap() error { return e.Err }

// Execute runs unwind opcodes on s, a frame's registers, reading popped registers from
// stack (little-endian when order is nil). On success s holds the caller's registers:
// R[SP] is the final vsp (the caller's stack pointer, the frame's CFA) and R[PC] the return
// address, the popped r15, or else r14 (§10.3 remark c: "finish" is implied at the end).
// Registers nothing popped keep their values. An opcode error returns an *OpError (for
// ErrSpare, ErrCantUnwind, ErrTruncated, ErrRegister), a failed read a *StackError inside
// it; s is then partly updated.
func Execute(ops []byte, s *State, stack Memory, order binary.ByteOrder) error {
	if order == nil {
		order = binary.LittleEndian
	}
	if s.Known&(1<<SP) == 0 {
		return &OpError{Op: firstOr(ops), Err: fmt.Errorf("r13 (vsp): %w", ErrRegister)}
	}
	x := machine{s: s, stack: stack, order: order}
	for i := 0; i < len(ops); {
		op := ops[i]
		n, done, err := x.step(ops[i:])
		if err != nil {
			return &OpError{Off: i, Op: op, Err: err}
		}
		if done {
			break
		}
		i += n
	}
	s.Set |= 1<<SP | 1<<PC
	if x.pcSet {
		return nil
	}
	if s.Known&(1<<LR) == 0 {
		return &OpError{Off: len(ops), Op: 0xb0, Err: fmt.Errorf("return address r14: %w", ErrRegister)}
	}
	s.R[PC] = s.R[LR]
	s.Known |= 1 << PC
	return nil
}

func firstOr(ops []byte) byte {
	if len(ops) == 0 {
		return 0xb0
	}
	return ops[0]
}

type machine struct {
	s     *State
	stack Memory
	order binary.ByteOrder
	pcSet bool
}

// step executes the instruction at the start of ops and returns its length, or done for
// "finish".
func (x *machine) step(ops []byte) (n int, done bool, err error) {
	op := ops[0]
	operand := func() (byte, error) {
		if len(ops) < 2 {
			return 0, ErrTruncated
		}
		return ops[1], nil
	}
	s := x.s
	switch {
	case op&0xc0 == 0x00: // 00xxxxxx: vsp += (xxxxxx << 2) + 4
		s.R[SP] += uint32(op&0x3f)<<2 + 4
		return 1, false, nil
	case op&0xc0 == 0x40: // 01xxxxxx: vsp -= (xxxxxx << 2) + 4
		s.R[SP] -= uint32(op&0x3f)<<2 + 4
		return 1, false, nil
	case op&0xf0 == 0x80: // 1000iiii iiiiiiii: pop r4-r15 under a mask; 0x80 0x00 refuses
		b, err := operand()
		if err != nil {
			return 0, false, err
		}
		mask := uint16(op&0x0f)<<12 | uint16(b)<<4
		if mask == 0 {
			return 0, false, ErrCantUnwind
		}
		return 2, false, x.pop(mask)
	case op&0xf0 == 0x90: // 1001nnnn: vsp = r[nnnn]; 0x9d and 0x9f are reserved
		r := op & 0x0f
		if r == SP || r == PC {
			return 0, false, ErrSpare
		}
		if s.Known&(1<<r) == 0 {
			return 0, false, fmt.Errorf("vsp = r%d: %w", r, ErrRegister)
		}
		s.R[SP] = s.R[r]
		return 1, false, nil
	case op&0xf8 == 0xa0: // 10100nnn: pop r4-r[4+nnn]
		return 1, false, x.pop(uint16(1<<(op&7+1)-1) << 4)
	case op&0xf8 == 0xa8: // 10101nnn: pop r4-r[4+nnn], r14
		return 1, false, x.pop(uint16(1<<(op&7+1)-1)<<4 | 1<<LR)
	case op == 0xb0: // finish
		return 1, true, nil
	case op == 0xb1: // 10110001 0000iiii: pop r0-r3 under a mask
		b, err := operand()
		if err != nil {
			return 0, false, err
		}
		if b == 0 || b&0xf0 != 0 {
			return 0, false, ErrSpare
		}
		return 2, false, x.pop(uint16(b))
	case op == 0xb2: // 10110010 uleb128: vsp += 0x204 + (uleb128 << 2)
		v, k, err := uleb128(ops[1:])
		if err != nil {
			return 0, false, err
		}
		s.R[SP] += 0x204 + v<<2
		return 1 + k, false, nil
	case op == 0xb3: // 10110011 sssscccc: pop D[ssss]-D[ssss+cccc] saved by FSTMFDX
		b, err := operand()
		if err != nil {
			return 0, false, err
		}
		if b>>4+b&0xf > 15 {
			return 0, false, ErrSpare
		}
		s.R[SP] += 8*(uint32(b&0xf)+1) + 4
		return 2, false, nil
	case op&0xfc == 0xb4: // 101101nn: spare (was FPA)
		return 0, false, ErrSpare
	case op&0xf8 == 0xb8: // 10111nnn: pop D[8]-D[8+nnn] saved by FSTMFDX
		s.R[SP] += 8*(uint32(op&7)+1) + 4
		return 1, false, nil
	case op == 0xc6: // 11000110 sssscccc: pop wR[ssss]-wR[ssss+cccc]
		b, err := operand()
		if err != nil {
			return 0, false, err
		}
		if b>>4+b&0xf > 15 {
			return 0, false, ErrSpare
		}
		s.R[SP] += 8 * (uint32(b&0xf) + 1)
		return 2, false, nil
	case op == 0xc7: // 11000111 0000iiii: pop wCGR registers under a mask
		b, err := operand()
		if err != nil {
			return 0, false, err
		}
		if b == 0 || b&0xf0 != 0 {
			return 0, false, ErrSpare
		}
		s.R[SP] += 4 * uint32(popCount(uint16(b)))
		return 2, false, nil
	case op&0xf8 == 0xc0: // 11000nnn (nnn != 6, 7): pop wR[10]-wR[10+nnn]
		s.R[SP] += 8 * (uint32(op&7) + 1)
		return 1, false, nil
	case op == 0xc8, op == 0xc9: // pop D[16+ssss]-D[16+ssss+cccc] / D[ssss]-D[ssss+cccc] saved by VPUSH
		b, err := operand()
		if err != nil {
			return 0, false, err
		}
		if b>>4+b&0xf > 15 {
			return 0, false, ErrSpare
		}
		s.R[SP] += 8 * (uint32(b&0xf) + 1)
		return 2, false, nil
	case op&0xf8 == 0xd0: // 11010nnn: pop D[8]-D[8+nnn] saved by VPUSH
		s.R[SP] += 8 * (uint32(op&7) + 1)
		return 1, false, nil
	}
	// 11001yyy (yyy != 000, 001) and 11xxxyyy (xxx != 000, 001, 010).
	return 0, false, ErrSpare
}

// pop loads the registers of mask (bit n: rn) from consecutive words at vsp, the lowest
// register at the lowest address, and moves vsp past them, unless r13 is among them: then
// vsp is the value popped for it (§10.3 remark b).
func (x *machine) pop(mask uint16) error {
	s := x.s
	n := popCount(mask)
	var buf [16 * 4]byte
	b := buf[:4*n]
	vsp := uint64(s.R[SP])
	if x.stack == nil {
		return &StackError{Addr: vsp, Err: fmt.Errorf("no memory")}
	}
	k, err := x.stack.ReadAt(b, vsp)
	if k < len(b) {
		if err == nil {
			err = fmt.Errorf("short read at %#x", vsp)
		}
		return &StackError{Addr: vsp, Err: err}
	}
	j := 0
	for r := 0; r < 16; r++ {
		if mask&(1<<r) == 0 {
			continue
		}
		s.R[r] = x.order.Uint32(b[4*j:])
		j++
	}
	s.Known |= mask
	s.Set |= mask
	if mask&(1<<PC) != 0 {
		x.pcSet = true
	}
	if mask&(1<<SP) == 0 {
		s.R[SP] = uint32(vsp) + uint32(4*n)
	}
	return nil
}

func popCount(m uint16) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}

// uleb128 decodes the operand of 0xb2. vsp is 32 bits: a value that does not fit in 30
// bits (before the shift) is refused rather than wrapped.
func uleb128(b []byte) (v uint32, n int, err error) {
	var shift uint
	for i, c := range b {
		if shift >= 35 || shift == 28 && c&0x7f > 3 {
			return 0, 0, fmt.Errorf("uleb128 operand too large for a 32-bit vsp")
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
		shift += 7
	}
	return 0, 0, ErrTruncated
}
