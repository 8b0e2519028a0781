package arch

import (
	"encoding/binary"
	"math/bits"
)

// armPrologue reads the start of a 32-bit ARM function (Thumb-2 when thumb, else A32)
// and adds up what it pushed and how far it moved the stack pointer, as gdb's
// thumb_analyze_prologue and arm_analyze_prologue do (gdb/arm-tdep.c) for code that no
// unwind table describes (Debian's armhf glibc builds most files without
// -funwind-tables). It recognises, from the Arm ARM (A-profile, T32 and A32 instruction
// sets):
//   - T16 PUSH {r0-r7, lr} (1011 010M rrrrrrrr) and SUB SP, SP, #imm7*4 (1011 0000 1iiiiiii);
//   - T32 PUSH.W / STMDB SP!, {list} (e92d, list), STR.W Rt, [SP, #-4]! (f84d, Rt d04),
//     SUB(W) SP, SP, #imm (f1ad/f2ad with Rd = sp) and VPUSH (ed2d, 0a/0b);
//   - A32 PUSH / STMDB SP!, {list} (x92d list), STR Rt, [SP, #-4]! (x52d t004),
//     SUB SP, SP, #imm (x24dd) and VPUSH (xd2d 0a/0b).
//
// It stops at the first instruction that reads the stack pointer back (a POP, an ADD to
// sp, a branch to lr), which would be an epilogue, and at the end of code. Other
// instructions are stepped over by their length.
func armPrologue(code []byte, thumb bool) (PrologueFrame, bool) {
	var p PrologueFrame
	var sp int64     // offset from the stack pointer at entry
	var saved uint32 // registers already saved: a later push saves what the function made of them
	push := func(mask uint32) {
		mask &= 0xffff
		sp -= 4 * int64(bits.OnesCount32(mask))
		at := sp
		for r := 0; r < 16; r++ { // r0-r15 are RegNames 0-15
			if mask&(1<<r) != 0 {
				if saved&(1<<r) == 0 {
					p.Saved = append(p.Saved, PrologueSave{Reg: r, Off: at})
				}
				saved |= 1 << r
				at += 4
			}
		}
	}
	found := false
	if thumb {
		for i := 0; i+2 <= len(code); {
			hw1 := uint32(binary.LittleEndian.Uint16(code[i:]))
			if hw1>>11 < 0x1d { // a 16-bit instruction
				i += 2
				switch {
				case hw1&0xfe00 == 0xb400: // PUSH {rlist, lr?}
					push(hw1&0xff | (hw1>>8&1)<<14)
					found = true
				case hw1&0xff80 == 0xb080: // SUB SP, SP, #imm7<<2
					sp -= int64(hw1&0x7f) << 2
					found = true
				case hw1&0xfe00 == 0xbc00, hw1&0xff80 == 0xb000, hw1 == 0x4770: // POP, ADD SP, BX LR
					return p.done(sp, found)
				}
				continue
			}
			if i+4 > len(code) {
				break
			}
			hw2 := uint32(binary.LittleEndian.Uint16(code[i+2:]))
			i += 4
			switch {
			case hw1 == 0xe92d && hw2&0xa000 == 0: // PUSH.W {list} (no sp, no pc)
				push(hw2)
				found = true
			case hw1 == 0xf84d && hw2&0x0fff == 0x0d04: // STR.W Rt, [SP, #-4]!
				push(1 << (hw2 >> 12))
				found = true
			case hw1&0xfbef == 0xf1ad && hw2&0x8f00 == 0x0d00: // SUB.W SP, SP, #const
				sp -= int64(thumbExpandImm(hw1>>10&1<<11 | hw2>>12&7<<8 | hw2&0xff))
				found = true
			case hw1&0xfbff == 0xf2ad && hw2&0x8f00 == 0x0d00: // SUBW SP, SP, #imm12
				sp -= int64(hw1>>10&1<<11 | hw2>>12&7<<8 | hw2&0xff)
				found = true
			case hw1&0xffbf == 0xed2d && hw2&0x0e00 == 0x0a00: // VPUSH {s/d list}
				sp -= int64(hw2&0xff) << 2
				found = true
			case hw1 == 0xe8bd, hw1 == 0xf85d && hw2&0x0fff == 0x0b04: // POP.W, LDR.W Rt, [SP], #4
				return p.done(sp, found)
			}
		}
		return p.done(sp, found)
	}
	for i := 0; i+4 <= len(code); i += 4 {
		w := binary.LittleEndian.Uint32(code[i:])
		if w>>28 == 0xf {
			continue // unconditional space: no prologue instruction
		}
		switch {
		case w&0x0fff0000 == 0x092d0000 && w&0xa000 == 0: // PUSH {list}
			push(w)
			found = true
		case w&0x0fff0fff == 0x052d0004: // STR Rt, [SP, #-4]!
			push(1 << (w >> 12 & 0xf))
			found = true
		case w&0x0ffff000 == 0x024dd000: // SUB SP, SP, #const
			rot := (w >> 8 & 0xf) * 2
			sp -= int64(bits.RotateLeft32(w&0xff, -int(rot)))
			found = true
		case w&0x0fbf0e00 == 0x0d2d0a00: // VPUSH
			sp -= int64(w&0xff) << 2
			found = true
		case w&0x0fff0000 == 0x08bd0000, w&0x0fff0fff == 0x049d0004, w&0x0ffff000 == 0x028dd000, w&0x0ffffff0 == 0x012fff10 && w&0xf == 14:
			return p.done(sp, found) // POP, LDR Rt, [SP], #4, ADD SP, BX LR
		}
	}
	return p.done(sp, found)
}

func (p PrologueFrame) done(sp int64, found bool) (PrologueFrame, bool) {
	p.Size = uint64(-sp)
	// Offsets from the entry stack pointer are offsets from the CFA (the caller's sp).
	return p, found && sp <= 0
}

// thumbExpandImm is ThumbExpandImm of the Arm ARM (T32 modified immediate constants) for
// a 12-bit i:imm3:imm8.
func thumbExpandImm(imm12 uint32) uint32 {
	imm8 := imm12 & 0xff
	if imm12>>10 == 0 {
		switch imm12 >> 8 & 3 {
		case 0:
			return imm8
		case 1:
			return imm8<<16 | imm8
		case 2:
			return imm8<<24 | imm8<<8
		}
		return imm8<<24 | imm8<<16 | imm8<<8 | imm8
	}
	return bits.RotateLeft32(0x80|imm12&0x7f, -int(imm12>>7))
}
