package ehabi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// stackMem is words at base, little-endian.
type stackMem struct {
	base uint64
	b    []byte
}

type memErr struct{ addr uint64 }

func (e *memErr) Error() string { return fmt.Sprintf("memory at %#x: not dumped", e.addr) }

func (m stackMem) ReadAt(p []byte, addr uint64) (int, error) {
	if addr < m.base || addr-m.base >= uint64(len(m.b)) {
		return 0, &memErr{addr}
	}
	n := copy(p, m.b[addr-m.base:])
	if n < len(p) {
		return n, &memErr{addr + uint64(n)}
	}
	return n, nil
}

// words lays out 32-bit words at base.
func words(base uint64, ws ...uint32) stackMem {
	b := make([]byte, 4*len(ws))
	for i, w := range ws {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return stackMem{base: base, b: b}
}

const sp0 = 0x40800100

// state0 is a frame with sp = sp0, lr = 0x10521 (a Thumb return address), r7 = sp0+8,
// r0 = 0xaaaa and nothing else known.
func state0() State {
	var s State
	s.R[SP], s.R[LR], s.R[7], s.R[0] = sp0, 0x10521, sp0+8, 0xaaaa
	s.Known = 1<<SP | 1<<LR | 1<<7 | 1<<0
	return s
}

// stack holds 16 words from sp0-0x10: 0x1000, 0x1001, ...: the word at sp0+4*i is
// 0x1004+i.
var stack = func() stackMem {
	ws := make([]uint32, 0x200)
	for i := range ws {
		ws[i] = 0x1000 + uint32(i)
	}
	return words(sp0-0x10, ws...)
}()

func TestExecute(t *testing.T) {
	type regs map[int]uint32
	for _, tc := range []struct {
		name string
		ops  []byte
		want regs // registers after, SP and PC included
		set  uint16
	}{
		// A leaf: nothing saved; the return address is lr.
		{"finish", []byte{0xb0, 0xb0, 0xb0}, regs{SP: sp0, PC: 0x10521, LR: 0x10521, 7: sp0 + 8}, 0},
		{"empty: finish implied", nil, regs{SP: sp0, PC: 0x10521}, 0},
		// 0x02: vsp += (2<<2)+4 = 12; 0x3f: += 0x100.
		{"vsp +=", []byte{0x02, 0x3f}, regs{SP: sp0 + 12 + 0x100}, 0},
		// 0x41: vsp -= (1<<2)+4 = 8; then 0x00: += 4.
		{"vsp -=", []byte{0x41, 0x00}, regs{SP: sp0 - 4}, 0},
		// GCC's Thumb-2 -O0 non-leaf: .save {r7, lr}; .pad #8; .setfp r7, sp, #0:
		// 0x97 vsp = r7 (sp0+8); 0x01 vsp += 8 (sp0+16); 0x84 0x08 pop {r7, lr} from
		// sp0+16: r7 = word 4 = 0x1008, lr = 0x1009; vsp = sp0+24; pc = lr.
		{"setfp, pad, pop r7 lr", []byte{0x97, 0x01, 0x84, 0x08}, regs{7: 0x1008, LR: 0x1009, PC: 0x1009, SP: sp0 + 24}, 1<<7 | 1<<LR},
		// 0x80 0x01: mask bit 0 of the low byte is r4: pop {r4}.
		{"pop r4 by mask", []byte{0x80, 0x01}, regs{4: 0x1004, SP: sp0 + 4, PC: 0x10521}, 1 << 4},
		// 0x8f 0xff: pop r4-r15: twelve words; r13 popped (0x100d) is the new vsp; pc
		// popped (0x100f), so lr does not become pc.
		{"pop r4-r15", []byte{0x8f, 0xff}, regs{4: 0x1004, 11: 0x100b, 12: 0x100c, SP: 0x100d, LR: 0x100e, PC: 0x100f}, 0xfff0},
		// 0x88 0x00: pop {pc} alone.
		{"pop pc", []byte{0x88, 0x00}, regs{PC: 0x1004, SP: sp0 + 4, LR: 0x10521}, 1 << PC},
		// 0xa2: pop r4-r6; 0xaa: pop r4-r6, r14.
		{"pop r4-r6", []byte{0xa2}, regs{4: 0x1004, 5: 0x1005, 6: 0x1006, SP: sp0 + 12, PC: 0x10521}, 0x70},
		{"pop r4-r6 lr", []byte{0xaa}, regs{4: 0x1004, 6: 0x1006, LR: 0x1007, PC: 0x1007, SP: sp0 + 16}, 0x70 | 1<<LR},
		{"pop r4-r11 lr", []byte{0xaf}, regs{4: 0x1004, 11: 0x100b, LR: 0x100c, PC: 0x100c, SP: sp0 + 36}, 0xff0 | 1<<LR},
		// 0xb1 0x05: pop {r0, r2}.
		{"pop r0 r2", []byte{0xb1, 0x05}, regs{0: 0x1004, 2: 0x1005, SP: sp0 + 8}, 0x5},
		// 0xb2 0x01: vsp += 0x204 + (1 << 2) = 0x208; 0xb2 0x81 0x01: uleb 129: 0x204+516.
		{"uleb128", []byte{0xb2, 0x01}, regs{SP: sp0 + 0x208}, 0},
		{"uleb128 two bytes", []byte{0xb2, 0x81, 0x01, 0x00}, regs{SP: sp0 + 0x204 + 129*4 + 4}, 0},
		// VFP: 0xb3 0x12 pops D1-D3 by FSTMFDX: 3*8+4; 0xb9 D8-D9 by FSTMFDX: 2*8+4;
		// 0xc9 0x03 D0-D3 by VPUSH: 32; 0xc8 0x01 D16-D17: 16; 0xd1 D8-D9: 16.
		{"vfp fstmfdx", []byte{0xb3, 0x12}, regs{SP: sp0 + 28}, 0},
		{"vfp d8 fstmfdx", []byte{0xb9}, regs{SP: sp0 + 20}, 0},
		{"vpush d0-d3", []byte{0xc9, 0x03}, regs{SP: sp0 + 32}, 0},
		{"vpush d16-d17", []byte{0xc8, 0x01}, regs{SP: sp0 + 16}, 0},
		{"vpush d8-d9 then pop r4 lr", []byte{0xd1, 0xa8}, regs{SP: sp0 + 16 + 8, 4: 0x1008, LR: 0x1009, PC: 0x1009}, 1<<4 | 1<<LR},
		// iWMMXt: 0xc2 wR10-wR12: 24; 0xc6 0x21 wR2-wR3: 16; 0xc7 0x03 wCGR0-1: 8.
		{"iwmmxt", []byte{0xc2, 0xc6, 0x21, 0xc7, 0x03}, regs{SP: sp0 + 24 + 16 + 8}, 0},
		// Instructions after finish are not run.
		{"after finish", []byte{0xb0, 0x3f}, regs{SP: sp0}, 0},
		// vsp = r0 (0xaaaa known).
		{"vsp = r0", []byte{0x90}, regs{SP: 0xaaaa}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := state0()
			if err := Execute(tc.ops, &s, stack, nil); err != nil {
				t.Fatal(err)
			}
			for r, v := range tc.want {
				if s.R[r] != v || s.Known&(1<<r) == 0 {
					t.Errorf("r%d = %#x (known %v), want %#x", r, s.R[r], s.Known&(1<<r) != 0, v)
				}
			}
			if want := tc.set | 1<<SP | 1<<PC; s.Set != want {
				t.Errorf("Set %#04x, want %#04x", s.Set, want)
			}
		})
	}
}

func TestExecuteErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []byte
		s    func(*State)
		want error
		off  int
	}{
		{"refuse", []byte{0x01, 0x80, 0x00}, nil, ErrCantUnwind, 1},
		{"reserved 0x9d", []byte{0x9d}, nil, ErrSpare, 0},
		{"reserved 0x9f", []byte{0x9f}, nil, ErrSpare, 0},
		{"spare b1 00", []byte{0xb1, 0x00}, nil, ErrSpare, 0},
		{"spare b1 10", []byte{0xb1, 0x10}, nil, ErrSpare, 0},
		{"spare b4", []byte{0x00, 0xb4}, nil, ErrSpare, 1},
		{"spare b7", []byte{0xb7}, nil, ErrSpare, 0},
		{"spare c7 00", []byte{0xc7, 0x00}, nil, ErrSpare, 0},
		{"spare c7 10", []byte{0xc7, 0x10}, nil, ErrSpare, 0},
		{"spare ca", []byte{0xca}, nil, ErrSpare, 0},
		{"spare cf", []byte{0xcf}, nil, ErrSpare, 0},
		{"spare d8", []byte{0xd8}, nil, ErrSpare, 0},
		{"spare ff", []byte{0xff}, nil, ErrSpare, 0},
		{"vfp past d15", []byte{0xc9, 0xf1}, nil, ErrSpare, 0},
		{"truncated mask", []byte{0x84}, nil, ErrTruncated, 0},
		{"truncated uleb", []byte{0xb2, 0x80}, nil, ErrTruncated, 0},
		{"vsp = unknown r5", []byte{0x95}, nil, ErrRegister, 0},
		{"no lr", []byte{0x01}, func(s *State) { s.Known &^= 1 << LR }, ErrRegister, 1},
		{"no sp", []byte{0xb0}, func(s *State) { s.Known &^= 1 << SP }, ErrRegister, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := state0()
			if tc.s != nil {
				tc.s(&s)
			}
			err := Execute(tc.ops, &s, stack, nil)
			var oe *OpError
			if !errors.Is(err, tc.want) || !errors.As(err, &oe) || oe.Off != tc.off {
				t.Fatalf("error %v, want %v at %d", err, tc.want, tc.off)
			}
		})
	}
	// A pop from unreadable memory keeps the memory's error.
	s := state0()
	s.R[SP] = 0x10
	err := Execute([]byte{0xa8}, &s, stack, nil)
	var se *StackError
	var me *memErr
	if !errors.As(err, &se) || se.Addr != 0x10 || !errors.As(err, &me) {
		t.Fatalf("error %v", err)
	}
}
