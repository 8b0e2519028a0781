package disasm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// This file decodes 32-bit ARM's T32 (Thumb-2) instruction set, which golang.org/x/arch
// does not: the encodings of the ARM Architecture Reference Manual ARMv7-A/R (ARM DDI
// 0406C, A6 "Thumb Instruction Set Encoding" and A8 "Instruction Details"), in the syntax
// GNU objdump (binutils 2.40) prints for them. It decodes every 16-bit instruction but
// CPS and SETEND, and of the 32-bit ones the loads and stores (single, dual, exclusive,
// unprivileged, multiple, and the VFP VLDR, VSTR, VLDM, VSTM, VPUSH, VPOP), the branches
// (B, BL, BLX, TBB, TBH), data processing with a modified or plain immediate or a shifted
// register, shifts by a register, extends, byte reversal, CLZ, SSAT/USAT, SEL, the
// parallel additions and subtractions, the multiplies and divides, PLD/PLI, the barriers
// and hints, MRC/MCR and VFP arithmetic. The rest is an ErrThumbUndecoded DecodeError
// that still has the instruction's length.
//
// One instruction is decoded without the IT state before it: inside an IT block objdump
// adds the block's condition to the name ("ldreq", "addeq" for a 16-bit "adds"), which
// the text of an instruction decoded alone lacks (the operands and memory accesses are
// the same). A run decoded in order (Window from the function's start, a function's
// listing) carries the state in a ThumbIT and has the conditions; ThumbITBefore finds
// the state at a pc for an instruction decoded alone.

// ErrThumbUndecoded is wrapped for a T32 instruction this package does not decode.
var ErrThumbUndecoded = errors.New("T32 instruction not decoded")

// thumbLen is the length of the T32 instruction whose first halfword is hw: 4 when bits
// 15:11 are 0b11101, 0b11110 or 0b11111 (DDI 0406C, A6.1), else 2.
func thumbLen(hw uint16) int {
	if hw>>11 >= 0x1d {
		return 4
	}
	return 2
}

// decodeThumb decodes the T32 instruction at the start of code, at pc.
func decodeThumb(code []byte, pc uint64) (Inst, error) {
	if len(code) < 2 {
		return Inst{}, &DecodeError{Arch: "arm", PC: pc, Bytes: head(code, 2), Err: ErrTruncated, Len: 2}
	}
	hw1 := binary.LittleEndian.Uint16(code)
	n := thumbLen(hw1)
	if len(code) < n {
		return Inst{}, &DecodeError{Arch: "arm", PC: pc, Bytes: head(code, n), Err: ErrTruncated, Len: n}
	}
	out := Inst{PC: pc, Len: n, Bytes: head(code, n)}
	d := thumbDec{in: &out, pc: pc}
	ok := false
	if n == 2 {
		ok = d.t16(hw1)
	} else {
		ok = d.t32(hw1, binary.LittleEndian.Uint16(code[2:]))
	}
	if !ok {
		return Inst{}, &DecodeError{Arch: "arm", PC: pc, Bytes: head(code, n), Err: ErrThumbUndecoded, Len: n}
	}
	d.flow()
	return out, nil
}

// thumbDec fills one Inst.
type thumbDec struct {
	in *Inst
	pc uint64
	// writesPC: the instruction writes the pc other than as a branch (a load, a pop, an
	// add or move to pc); flow classifies it.
	writesPC bool
	// cond: a conditional branch.
	cond bool
}

// tr is the GNU name of general register r.
func tr(r uint32) string { return armGNUReg(r & 15) }

// an is arch.ARM's name of general register r.
func an(r uint32) string { return fmt.Sprintf("r%d", r&15) }

// set sets the mnemonic and text ("ldr.w", "r0, [r1]").
func (d *thumbDec) set(name, ops string) {
	d.in.Mnemonic = strings.TrimSuffix(strings.TrimSuffix(name, ".w"), ".n")
	d.in.Text = name
	if ops != "" {
		d.in.Text += " " + ops
	}
}

// args appends general registers to RegArgs.
func (d *thumbDec) args(rs ...uint32) {
	for _, r := range rs {
		d.in.RegArgs = append(d.in.RegArgs, an(r))
	}
}

// dest sets the written register; a write of the pc is noted for flow.
func (d *thumbDec) dest(r uint32) {
	if r&15 == 15 {
		d.writesPC = true
		return
	}
	d.in.Dest = an(r)
}

func (d *thumbDec) imm(v int64) { d.in.Imm, d.in.HasImm = v, true }

// thumbRegList is "{r4, r5, lr}" for a register bit mask.
func thumbRegList(list uint32) string {
	var b strings.Builder
	b.WriteByte('{')
	for r := uint32(0); r < 16; r++ {
		if list&(1<<r) != 0 {
			if b.Len() > 1 {
				b.WriteString(", ")
			}
			b.WriteString(tr(r))
		}
	}
	b.WriteByte('}')
	return b.String()
}

// memImm is [base, #±imm] with pre- or post-indexing; a pc base is a literal whose pc
// value is Align(pc, 4) + 4.
func (d *thumbDec) memImm(base uint32, disp int64, size int, write, pre, post bool) {
	m := MemOperand{Base: an(base), Disp: disp, Size: size, Write: write, AddrSize: 32, PreIndex: pre, PostIndex: post}
	if base == 15 {
		m.Base, m.PCValue = "pc", (d.pc&^3)+4
	}
	d.in.Mem = append(d.in.Mem, m)
	if (pre || post) && base != 15 {
		d.in.AlsoWrites = append(d.in.AlsoWrites, an(base))
	}
}

// memReg is [base, index, lsl #shift].
func (d *thumbDec) memReg(base, index uint32, shift uint, size int, write bool) {
	m := MemOperand{Base: an(base), Index: an(index), Scale: 1 << shift, Size: size, Write: write, AddrSize: 32}
	if base == 15 {
		m.Base, m.PCValue = "pc", d.pc+4
	}
	d.in.Mem = append(d.in.Mem, m)
}

// multiple is the block a LDM/STM walks: ia from base (post-index when written back),
// db below it (pre-index).
func (d *thumbDec) multiple(base, list uint32, db, write, wback bool) {
	n := bits.OnesCount32(list)
	m := MemOperand{Base: an(base), Size: 4 * n, Write: write, AddrSize: 32}
	if db {
		m.Disp = int64(-4 * n)
	}
	if wback {
		m.PreIndex, m.PostIndex = db, !db
	}
	d.in.Mem = append(d.in.Mem, m)
	if !write {
		for r := uint32(0); r < 16; r++ {
			if list&(1<<r) == 0 {
				continue
			}
			if r == 15 {
				d.writesPC = true
			} else if d.in.Dest == "" {
				d.in.Dest = an(r)
			} else {
				d.in.AlsoWrites = append(d.in.AlsoWrites, an(r))
			}
		}
	}
	if wback {
		d.in.AlsoWrites = append(d.in.AlsoWrites, an(base))
	}
}

// branch sets a direct branch or call to target.
func (d *thumbDec) branch(name string, target uint64, call, cond bool) {
	target &= 0xffffffff
	d.set(name, fmt.Sprintf("%#x", target))
	if cond && strings.HasPrefix(name, "b") {
		d.in.Mnemonic = "b" // as A32's "beq": the operation without its condition
	}
	d.in.Target = target
	d.in.IsCall, d.in.IsBranch, d.cond = call, !call, cond
}

// flow sets returns (bx lr, mov pc, lr, a load of the pc from the stack), other writes
// of the pc as branches, and NoFallThrough.
func (d *thumbDec) flow() {
	in := d.in
	if d.writesPC && !in.IsBranch && !in.IsCall {
		fromStack := len(in.Mem) == 1 && in.Mem[0].Base == "r13" && !in.Mem[0].Write
		fromLR := in.Mnemonic == "mov" && len(in.RegArgs) == 2 && in.RegArgs[1] == "r14"
		if fromStack || fromLR {
			in.IsReturn = true
		} else {
			in.IsBranch = true
		}
	}
	in.NoFallThrough = !d.cond && (in.IsReturn || in.IsTrap || in.IsBranch)
	if in.IsReturn || in.IsBranch || in.IsCall {
		// As armDest: a return, branch or call writes no register but a written-back base.
		in.Dest = ""
		var also []string
		for _, r := range in.AlsoWrites {
			if len(in.Mem) == 1 && r == in.Mem[0].Base && (in.Mem[0].PreIndex || in.Mem[0].PostIndex) {
				also = append(also, r)
			}
		}
		in.AlsoWrites = also
	}
}

// sext sign-extends the low n bits of v.
func sext(v uint32, n uint) int64 { return int64(int32(v<<(32-n)) >> (32 - n)) }

// t16Names are the 16-bit data-processing operations (DDI 0406C A6.2.2) by opcode.
var t16Names = [16]string{"ands", "eors", "lsls", "lsrs", "asrs", "adcs", "sbcs", "rors", "tst", "negs", "cmp", "cmn", "orrs", "muls", "bics", "mvns"}

// t16LoadStore are the 16-bit load/store register-offset operations by opB (A6.2.4).
var t16LoadStore = [8]struct {
	name  string
	size  int
	write bool
}{{"str", 4, true}, {"strh", 2, true}, {"strb", 1, true}, {"ldrsb", 1, false}, {"ldr", 4, false}, {"ldrh", 2, false}, {"ldrb", 1, false}, {"ldrsh", 2, false}}

// t16 decodes a 16-bit instruction (DDI 0406C A6.2).
func (d *thumbDec) t16(hw uint16) bool {
	h := uint32(hw)
	lo3, mid3 := h&7, h>>3&7
	switch {
	case h>>13 == 0: // shift (immediate), add, subtract, move, compare
		switch op := h >> 11 & 3; {
		case op < 3:
			imm := h >> 6 & 31
			if op == 0 && imm == 0 {
				d.set("movs", tr(lo3)+", "+tr(mid3))
			} else {
				if op != 0 && imm == 0 {
					imm = 32
				}
				d.set([...]string{"lsls", "lsrs", "asrs"}[op], fmt.Sprintf("%s, %s, #%d", tr(lo3), tr(mid3), imm))
				d.imm(int64(imm))
			}
			d.args(lo3, mid3)
			d.dest(lo3)
		default:
			name := [...]string{"adds", "subs", "adds", "subs"}[h>>9&3]
			if h>>10&1 == 0 {
				d.set(name, fmt.Sprintf("%s, %s, %s", tr(lo3), tr(mid3), tr(h>>6&7)))
				d.args(lo3, mid3, h>>6&7)
			} else {
				d.set(name, fmt.Sprintf("%s, %s, #%d", tr(lo3), tr(mid3), h>>6&7))
				d.args(lo3, mid3)
				d.imm(int64(h >> 6 & 7))
			}
			d.dest(lo3)
		}
	case h>>13 == 1: // move, compare, add, subtract immediate
		rd, imm := h>>8&7, h&0xff
		name := [...]string{"movs", "cmp", "adds", "subs"}[h>>11&3]
		d.set(name, fmt.Sprintf("%s, #%d", tr(rd), imm))
		d.args(rd)
		d.imm(int64(imm))
		if name != "cmp" {
			d.dest(rd)
		}
	case h>>10 == 0x10: // data processing
		op := h >> 6 & 15
		name := t16Names[op]
		switch name {
		case "negs":
			d.set(name, tr(lo3)+", "+tr(mid3))
		default:
			d.set(name, tr(lo3)+", "+tr(mid3))
		}
		d.args(lo3, mid3)
		if name != "tst" && name != "cmp" && name != "cmn" {
			d.dest(lo3)
		}
	case h>>10 == 0x11: // special data processing, branch and exchange
		rm := h >> 3 & 15
		rdn := h>>4&8 | lo3
		switch h >> 8 & 3 {
		case 0:
			d.set("add", tr(rdn)+", "+tr(rm))
			d.args(rdn, rm)
			d.dest(rdn)
		case 1:
			d.set("cmp", tr(rdn)+", "+tr(rm))
			d.args(rdn, rm)
		case 2:
			d.set("mov", tr(rdn)+", "+tr(rm))
			if h == 0x46c0 {
				d.set("nop", "") // objdump's name for mov r8, r8
			}
			d.args(rdn, rm)
			d.dest(rdn)
		case 3:
			if lo3 != 0 {
				return false
			}
			if h>>7&1 == 1 {
				d.set("blx", tr(rm))
				d.in.IsCall = true
			} else {
				d.set("bx", tr(rm))
				if rm == 14 {
					d.in.IsReturn = true
				} else {
					d.in.IsBranch = true
				}
			}
			d.args(rm)
		}
	case h>>11 == 9: // LDR (literal)
		rt, imm := h>>8&7, (h&0xff)*4
		d.set("ldr", fmt.Sprintf("%s, [pc, #%d]", tr(rt), imm))
		d.args(rt)
		d.dest(rt)
		d.memImm(15, int64(imm), 4, false, false, false)
	case h>>12 == 5: // load/store register offset
		op := t16LoadStore[h>>9&7]
		rm := h >> 6 & 7
		d.set(op.name, fmt.Sprintf("%s, [%s, %s]", tr(lo3), tr(mid3), tr(rm)))
		d.args(lo3, mid3, rm)
		if !op.write {
			d.dest(lo3)
		}
		d.memReg(mid3, rm, 0, op.size, op.write)
	case h>>13 == 3 || h>>12 == 8: // load/store word, byte (0b011), halfword (0b1000) immediate
		load := h>>11&1 == 1
		size := 4
		switch {
		case h>>12 == 8:
			size = 2
		case h>>12&1 == 1:
			size = 1
		}
		imm := (h >> 6 & 31) * uint32(size)
		name := map[int]string{4: "str", 2: "strh", 1: "strb"}[size]
		if load {
			name = "ldr" + name[3:]
		}
		d.set(name, fmt.Sprintf("%s, [%s, #%d]", tr(lo3), tr(mid3), imm))
		d.args(lo3, mid3)
		if load {
			d.dest(lo3)
		}
		d.memImm(mid3, int64(imm), size, !load, false, false)
	case h>>12 == 9: // load/store SP-relative
		rt, imm := h>>8&7, (h&0xff)*4
		load := h>>11&1 == 1
		name := "str"
		if load {
			name = "ldr"
			d.dest(rt)
		}
		d.set(name, fmt.Sprintf("%s, [sp, #%d]", tr(rt), imm))
		d.args(rt, 13)
		d.memImm(13, int64(imm), 4, !load, false, false)
	case h>>11 == 0x14: // ADR
		rd, imm := h>>8&7, (h&0xff)*4
		d.set("add", fmt.Sprintf("%s, pc, #%d", tr(rd), imm))
		d.args(rd, 15)
		d.dest(rd)
		d.imm(int64(imm))
	case h>>11 == 0x15: // ADD (SP plus immediate)
		rd, imm := h>>8&7, (h&0xff)*4
		d.set("add", fmt.Sprintf("%s, sp, #%d", tr(rd), imm))
		d.args(rd, 13)
		d.dest(rd)
		d.imm(int64(imm))
	case h>>12 == 0xb:
		return d.t16Misc(h)
	case h>>12 == 0xc: // STM, LDM
		rn, list := h>>8&7, h&0xff
		if list == 0 {
			return false
		}
		load := h>>11&1 == 1
		wback := !load || list&(1<<rn) == 0
		name, bang := "stmia", "!"
		if load {
			name = "ldmia"
		}
		if !wback {
			bang = ""
		}
		d.set(name, fmt.Sprintf("%s%s, %s", tr(rn), bang, thumbRegList(list)))
		d.args(rn)
		d.multiple(rn, list, false, !load, wback)
	case h>>12 == 0xd: // conditional branch, UDF, SVC
		cond := h >> 8 & 15
		switch cond {
		case 14:
			d.set("udf", fmt.Sprintf("#%d", h&0xff))
			d.in.IsTrap = true
		case 15:
			d.set("svc", fmt.Sprintf("%d", h&0xff))
			d.imm(int64(h & 0xff))
		default:
			d.branch("b"+armCondNames[cond]+".n", d.pc+4+uint64(sext(h&0xff, 8)*2), false, true)
		}
	case h>>11 == 0x1c: // B (unconditional)
		d.branch("b.n", d.pc+4+uint64(sext(h&0x7ff, 11)*2), false, false)
	default:
		return false
	}
	return true
}

// t16Misc decodes the 16-bit miscellaneous instructions (A6.2.5).
func (d *thumbDec) t16Misc(h uint32) bool {
	lo3, mid3 := h&7, h>>3&7
	switch {
	case h>>8 == 0xb0: // ADD, SUB (SP minus immediate)
		imm := (h & 0x7f) * 4
		name := "add"
		if h>>7&1 == 1 {
			name = "sub"
		}
		d.set(name, fmt.Sprintf("sp, #%d", imm))
		d.args(13)
		d.dest(13)
		d.imm(int64(imm))
	case h>>8&5 == 1: // CBZ, CBNZ
		name := "cbz"
		if h>>11&1 == 1 {
			name = "cbnz"
		}
		d.branch(name, d.pc+4+uint64(h>>9&1<<6|h>>3&31<<1), false, true)
		d.in.Text = fmt.Sprintf("%s %s, %#x", name, tr(lo3), d.in.Target)
		d.args(lo3)
	case h>>8 == 0xb2: // extend
		name := [...]string{"sxth", "sxtb", "uxth", "uxtb"}[h>>6&3]
		d.set(name, tr(lo3)+", "+tr(mid3))
		d.args(lo3, mid3)
		d.dest(lo3)
	case h>>9 == 0x5a || h>>9 == 0x5e: // PUSH, POP
		list := h & 0xff
		pop := h>>11&1 == 1
		name := "push"
		if pop {
			name = "pop"
			list |= h >> 8 & 1 << 15
		} else {
			list |= h >> 8 & 1 << 14
		}
		if list == 0 {
			return false
		}
		d.set(name, thumbRegList(list))
		d.multiple(13, list, !pop, !pop, true)
	case h>>8 == 0xba: // REV, REV16, REVSH
		op := h >> 6 & 3
		if op == 2 {
			return false
		}
		d.set([...]string{"rev", "rev16", "", "revsh"}[op], tr(lo3)+", "+tr(mid3))
		d.args(lo3, mid3)
		d.dest(lo3)
	case h>>8 == 0xbe: // BKPT
		d.set("bkpt", fmt.Sprintf("0x%04x", h&0xff))
		d.in.IsTrap = true
	case h>>8 == 0xbf: // IT, hints
		mask, first := h&15, h>>4&15
		if mask == 0 {
			if first > 4 {
				return false
			}
			d.set([...]string{"nop", "yield", "wfe", "wfi", "sev"}[first], "")
			return true
		}
		if first == 15 || first == 14 && bits.OnesCount32(mask) != 1 {
			return false
		}
		name := "it"
		for k := 1; k < 4-bits.TrailingZeros32(mask); k++ {
			if mask>>(4-k)&1 == first&1 {
				name += "t"
			} else {
				name += "e"
			}
		}
		d.set(name, armCondNames[first])
		if first == 14 {
			d.in.Text = name + " al"
		}
	default:
		return false
	}
	return true
}

// thumbExpandImm is the constant of a T32 modified immediate i:imm3:imm8 (A6.3.2).
func thumbExpandImm(imm12 uint32) (uint32, bool) {
	if imm12>>10 == 0 {
		b := imm12 & 0xff
		switch imm12 >> 8 & 3 {
		case 0:
			return b, true
		case 1:
			return b<<16 | b, b != 0
		case 2:
			return b<<24 | b<<8, b != 0
		}
		return b<<24 | b<<16 | b<<8 | b, b != 0
	}
	return bits.RotateLeft32(0x80|imm12&0x7f, -int(imm12>>7)), true
}

// t32 decodes a 32-bit instruction (A6.3).
func (d *thumbDec) t32(hw1, hw2 uint16) bool {
	h1, h2 := uint32(hw1), uint32(hw2)
	op1, op2 := h1>>11&3, h1>>4&0x7f
	switch op1 {
	case 1:
		switch {
		case op2&0x64 == 0x00:
			return d.t32Multiple(h1, h2)
		case op2&0x64 == 0x04:
			return d.t32Dual(h1, h2)
		case op2&0x60 == 0x20:
			return d.t32ShiftedReg(h1, h2)
		default:
			return d.t32Coproc(h1, h2)
		}
	case 2:
		switch {
		case h2>>15 == 1:
			return d.t32Branch(h1, h2)
		case op2&0x20 == 0:
			return d.t32ModImm(h1, h2)
		default:
			return d.t32PlainImm(h1, h2)
		}
	case 3:
		switch {
		case op2&0x71 == 0x00 || op2&0x67 == 0x01 || op2&0x67 == 0x03 || op2&0x67 == 0x05:
			return d.t32LoadStore(h1, h2)
		case op2&0x70 == 0x20:
			return d.t32DataReg(h1, h2)
		case op2&0x78 == 0x30:
			return d.t32Mul(h1, h2)
		case op2&0x78 == 0x38:
			return d.t32LongMul(h1, h2)
		case op2&0x40 == 0x40:
			return d.t32Coproc(h1, h2)
		}
	}
	return false
}

// t32Multiple decodes LDM, STM, LDMDB, STMDB, PUSH.W and POP.W (A6.3.5).
func (d *thumbDec) t32Multiple(h1, h2 uint32) bool {
	op, w, l, rn := h1>>7&3, h1>>5&1 == 1, h1>>4&1 == 1, h1&15
	list := h2
	if op != 1 && op != 2 || list&(1<<13) != 0 || bits.OnesCount32(list) < 2 || !l && list&(1<<15) != 0 ||
		l && list&0xc000 == 0xc000 || w && list&(1<<rn) != 0 || rn == 15 {
		return false
	}
	db := op == 2
	bang := ""
	if w {
		bang = "!"
	}
	// objdump calls no 32-bit form pop.w or push.w: "ldmia.w sp!, {r4, pc}".
	name := map[[2]bool]string{{false, false}: "stmia.w", {true, false}: "ldmia.w", {false, true}: "stmdb", {true, true}: "ldmdb"}[[2]bool{l, db}]
	d.set(name, fmt.Sprintf("%s%s, %s", tr(rn), bang, thumbRegList(list)))
	d.args(rn)
	d.multiple(rn, list, db, !l, w)
	return true
}

// t32Dual decodes LDRD, STRD, the exclusives and TBB, TBH (A6.3.6).
func (d *thumbDec) t32Dual(h1, h2 uint32) bool {
	o1, o2, o3 := h1>>7&3, h1>>4&3, h2>>4&15
	rn, rt, rt2, rd := h1&15, h2>>12, h2>>8&15, h2&15
	switch {
	case o1 == 0 && o2 == 0: // STREX
		imm := (h2 & 0xff) * 4
		d.set("strex", fmt.Sprintf("%s, %s, %s", tr(rt2), tr(rt), thumbAddrImm(rn, imm)))
		d.args(rt2, rt, rn)
		d.in.Dest = an(rt2)
		d.memImm(rn, int64(imm), 4, true, false, false)
	case o1 == 0 && o2 == 1: // LDREX
		imm := (h2 & 0xff) * 4
		d.set("ldrex", fmt.Sprintf("%s, %s", tr(rt), thumbAddrImm(rn, imm)))
		d.args(rt, rn)
		d.dest(rt)
		d.memImm(rn, int64(imm), 4, false, false, false)
	case o1 == 1 && o2 == 0: // STREXB, STREXH, STREXD
		size := map[uint32]int{4: 1, 5: 2, 7: 8}[o3]
		if size == 0 {
			return false
		}
		name := map[int]string{1: "strexb", 2: "strexh", 8: "strexd"}[size]
		if size == 8 {
			d.set(name, fmt.Sprintf("%s, %s, %s, [%s]", tr(rd), tr(rt), tr(rt2), tr(rn)))
			d.args(rd, rt, rt2, rn)
		} else {
			d.set(name, fmt.Sprintf("%s, %s, [%s]", tr(rd), tr(rt), tr(rn)))
			d.args(rd, rt, rn)
		}
		d.in.Dest = an(rd)
		d.memImm(rn, 0, size, true, false, false)
	case o1 == 1 && o2 == 1 && (o3 == 0 || o3 == 1): // TBB, TBH
		if o3 == 0 {
			d.set("tbb", fmt.Sprintf("[%s, %s]", tr(rn), tr(rd)))
		} else {
			d.set("tbh", fmt.Sprintf("[%s, %s, lsl #1]", tr(rn), tr(rd)))
		}
		d.args(rn, rd)
		d.memReg(rn, rd, uint(o3), int(o3)+1, false)
		d.in.IsBranch = true
	case o1 == 1 && o2 == 1: // LDREXB, LDREXH, LDREXD
		size := map[uint32]int{4: 1, 5: 2, 7: 8}[o3]
		if size == 0 {
			return false
		}
		name := map[int]string{1: "ldrexb", 2: "ldrexh", 8: "ldrexd"}[size]
		if size == 8 {
			d.set(name, fmt.Sprintf("%s, %s, [%s]", tr(rt), tr(rt2), tr(rn)))
			d.args(rt, rt2, rn)
			d.dest(rt)
			d.in.AlsoWrites = append(d.in.AlsoWrites, an(rt2))
		} else {
			d.set(name, fmt.Sprintf("%s, [%s]", tr(rt), tr(rn)))
			d.args(rt, rn)
			d.dest(rt)
		}
		d.memImm(rn, 0, size, false, false, false)
	default: // LDRD, STRD (immediate, literal)
		p, u, w, l := h1>>8&1 == 1, h1>>7&1 == 1, h1>>5&1 == 1, h1>>4&1 == 1
		if !p && !w || rn == 15 && (w || !l) || h2&0xff == 0 && (w || !p) {
			return false // and the forms objdump writes oddly ("[sp]" for "[sp, #0]!")
		}
		imm := int64(h2&0xff) * 4
		if !u {
			imm = -imm
		}
		name := "strd"
		if l {
			name = "ldrd"
		}
		addr := thumbAddrPUW(rn, imm, p, u, w)
		if imm == 0 && !u {
			addr = fmt.Sprintf("[%s, #-0]", tr(rn))
		}
		d.set(name, fmt.Sprintf("%s, %s, %s", tr(rt), tr(rt2), addr))
		d.args(rt, rt2, rn)
		if l {
			d.dest(rt)
			d.in.AlsoWrites = append(d.in.AlsoWrites, an(rt2))
		}
		d.memImm(rn, imm, 8, !l, p && w, !p)
	}
	return true
}

// thumbAddrImm is "[rn, #imm]", "[rn]" when imm is 0.
func thumbAddrImm(rn, imm uint32) string {
	if imm == 0 {
		return "[" + tr(rn) + "]"
	}
	return fmt.Sprintf("[%s, #%d]", tr(rn), imm)
}

// thumbAddrPUW is the address of a load or store of a single register with an 8-bit
// immediate: "[rn, #-imm]", "[rn, #imm]!", "[rn], #imm", and with imm 0 as objdump
// writes it: "[rn]", "[rn]!", "[rn], #0".
func thumbAddrPUW(rn uint32, imm int64, p, u, w bool) string {
	sign := ""
	if !u && imm != 0 {
		sign = "-"
		imm = -imm
	}
	switch {
	case !p:
		return fmt.Sprintf("[%s], #%s%d", tr(rn), sign, imm)
	case imm == 0 && w:
		return fmt.Sprintf("[%s]!", tr(rn))
	case imm == 0:
		return fmt.Sprintf("[%s]", tr(rn))
	case w:
		return fmt.Sprintf("[%s, #%s%d]!", tr(rn), sign, imm)
	}
	return fmt.Sprintf("[%s, #%s%d]", tr(rn), sign, imm)
}

// t32Shift is the text of a shift of a register by a constant (DecodeImmShift, A8.4.3),
// "" for none.
func t32Shift(typ, imm uint32) string {
	switch {
	case typ == 0 && imm == 0:
		return ""
	case typ == 3 && imm == 0:
		return ", rrx"
	case imm == 0:
		imm = 32
	}
	return fmt.Sprintf(", %s #%d", [...]string{"lsl", "lsr", "asr", "ror"}[typ], imm)
}

// t32DPNames are the 32-bit data-processing operations with two register operands by
// op (A6.3.1, A6.3.11); "" for the others (and the compares and moves decoded apart).
var t32DPNames = [16]string{"and", "bic", "orr", "orn", "eor", "", "", "", "add", "", "adc", "sbc", "", "sub", "rsb", ""}

// t32ShiftedReg decodes data processing (shifted register) (A6.3.11).
func (d *thumbDec) t32ShiftedReg(h1, h2 uint32) bool {
	op, s, rn := h1>>5&15, h1>>4&1 == 1, h1&15
	rd, rm, typ, imm := h2>>8&15, h2&15, h2>>4&3, h2>>12&7<<2|h2>>6&3
	if h2>>15 != 0 {
		return false
	}
	sh := t32Shift(typ, imm)
	S := ""
	if s {
		S = "s"
	}
	switch {
	case op == 0 && rd == 15 && s:
		d.set("tst.w", fmt.Sprintf("%s, %s%s", tr(rn), tr(rm), sh))
		d.args(rn, rm)
	case op == 4 && rd == 15 && s:
		d.set("teq", fmt.Sprintf("%s, %s%s", tr(rn), tr(rm), sh))
		d.args(rn, rm)
	case op == 8 && rd == 15 && s:
		d.set("cmn.w", fmt.Sprintf("%s, %s%s", tr(rn), tr(rm), sh))
		d.args(rn, rm)
	case op == 13 && rd == 15 && s:
		d.set("cmp.w", fmt.Sprintf("%s, %s%s", tr(rn), tr(rm), sh))
		d.args(rn, rm)
	case op == 2 && rn == 15: // MOV and the shifts by a constant
		d.set("mov"+S+".w", fmt.Sprintf("%s, %s%s", tr(rd), tr(rm), sh))
		d.args(rd, rm)
		d.dest(rd)
	case op == 3 && rn == 15:
		d.set("mvn"+S+".w", fmt.Sprintf("%s, %s%s", tr(rd), tr(rm), sh))
		d.args(rd, rm)
		d.dest(rd)
	case t32DPNames[op] != "":
		name := t32DPNames[op] + S
		if op != 3 && op != 14 {
			name += ".w"
		}
		d.set(name, fmt.Sprintf("%s, %s, %s%s", tr(rd), tr(rn), tr(rm), sh))
		d.args(rd, rn, rm)
		d.dest(rd)
	default:
		return false
	}
	return true
}

// t32ModImm decodes data processing (modified immediate) (A6.3.1).
func (d *thumbDec) t32ModImm(h1, h2 uint32) bool {
	op, s, rn, rd := h1>>5&15, h1>>4&1 == 1, h1&15, h2>>8&15
	v, ok := thumbExpandImm(h1>>10&1<<11 | h2>>12&7<<8 | h2&0xff)
	if !ok {
		return false
	}
	S := ""
	if s {
		S = "s"
	}
	d.imm(int64(int32(v)))
	imm := fmt.Sprintf("#%d", v)
	switch {
	case op == 0 && rd == 15 && s:
		d.set("tst.w", tr(rn)+", "+imm)
		d.args(rn)
	case op == 4 && rd == 15 && s:
		d.set("teq", tr(rn)+", "+imm)
		d.args(rn)
	case op == 8 && rd == 15 && s:
		d.set("cmn.w", tr(rn)+", "+imm)
		d.args(rn)
	case op == 13 && rd == 15 && s:
		d.set("cmp.w", tr(rn)+", "+imm)
		d.args(rn)
	case op == 2 && rn == 15:
		d.set("mov"+S+".w", tr(rd)+", "+imm)
		d.args(rd)
		d.dest(rd)
	case op == 3 && rn == 15:
		d.set("mvn"+S+".w", tr(rd)+", "+imm)
		d.args(rd)
		d.dest(rd)
	case t32DPNames[op] != "":
		name := t32DPNames[op] + S
		if op != 3 && op != 14 {
			name += ".w"
		}
		d.set(name, fmt.Sprintf("%s, %s, %s", tr(rd), tr(rn), imm))
		d.args(rd, rn)
		d.dest(rd)
	default:
		return false
	}
	return true
}

// t32PlainImm decodes data processing (plain binary immediate) (A6.3.3): ADDW, SUBW, ADR,
// MOVW, MOVT, SBFX, UBFX, BFI, BFC.
func (d *thumbDec) t32PlainImm(h1, h2 uint32) bool {
	op, rn, rd := h1>>4&31, h1&15, h2>>8&15
	imm12 := h1>>10&1<<11 | h2>>12&7<<8 | h2&0xff
	lsb := h2>>12&7<<2 | h2>>6&3
	switch op {
	case 0, 10: // ADDW, SUBW, ADR
		name := "addw"
		if op == 10 {
			name = "subw"
		}
		if rn == 15 {
			return false
		}
		d.set(name, fmt.Sprintf("%s, %s, #%d", tr(rd), tr(rn), imm12))
		d.args(rd, rn)
		d.dest(rd)
		d.imm(int64(imm12))
	case 4, 12: // MOVW, MOVT
		v := h1&15<<12 | imm12
		name := "movw"
		if op == 12 {
			name = "movt"
		}
		d.set(name, fmt.Sprintf("%s, #%d", tr(rd), v))
		d.args(rd)
		d.dest(rd)
		d.imm(int64(v))
	case 20, 28: // SBFX, UBFX
		name := "sbfx"
		if op == 28 {
			name = "ubfx"
		}
		d.set(name, fmt.Sprintf("%s, %s, #%d, #%d", tr(rd), tr(rn), lsb, h2&31+1))
		d.args(rd, rn)
		d.dest(rd)
	case 16, 18, 24, 26: // SSAT, USAT
		sh, imm := h1>>5&1, lsb
		if sh == 1 && imm == 0 {
			return false // SSAT16, USAT16
		}
		sat := h2 & 31
		name := "usat"
		if op < 24 {
			name, sat = "ssat", sat+1
		}
		shift := ""
		switch {
		case sh == 1:
			shift = fmt.Sprintf(", asr #%d", imm)
		case imm != 0:
			shift = fmt.Sprintf(", lsl #%d", imm)
		}
		d.set(name, fmt.Sprintf("%s, #%d, %s%s", tr(rd), sat, tr(rn), shift))
		d.args(rd, rn)
		d.dest(rd)
	case 22: // BFI, BFC
		msb := h2 & 31
		if msb < lsb {
			return false
		}
		if rn == 15 {
			d.set("bfc", fmt.Sprintf("%s, #%d, #%d", tr(rd), lsb, msb-lsb+1))
			d.args(rd)
		} else {
			d.set("bfi", fmt.Sprintf("%s, %s, #%d, #%d", tr(rd), tr(rn), lsb, msb-lsb+1))
			d.args(rd, rn)
		}
		d.dest(rd)
	default:
		return false
	}
	return true
}

// thumbBarriers name the DMB, DSB and ISB options.
var thumbBarriers = map[uint32]string{15: "sy", 14: "st", 13: "ld", 11: "ish", 10: "ishst", 9: "ishld", 7: "nsh", 6: "nshst", 5: "nshld", 3: "osh", 2: "oshst", 1: "oshld"}

// t32Branch decodes branches and miscellaneous control (A6.3.4).
func (d *thumbDec) t32Branch(h1, h2 uint32) bool {
	o1 := h2 >> 12 & 7
	s := h1 >> 10 & 1
	j1, j2 := h2>>13&1, h2>>11&1
	switch {
	case o1&5 == 0 && h1>>7&7 != 7: // B<c>.W (T3)
		off := sext(s<<20|j2<<19|j1<<18|(h1&0x3f)<<12|(h2&0x7ff)<<1, 21)
		d.branch("b"+armCondNames[h1>>6&15]+".w", d.pc+4+uint64(off), false, true)
	case o1&5 == 0 && h1 == 0xf3af && h2&0xff00 == 0x8000: // hints
		if h2&0xff > 4 {
			return false
		}
		d.set([...]string{"nop.w", "yield.w", "wfe.w", "wfi.w", "sev.w"}[h2&0xff], "")
	case o1&5 == 0 && h1 == 0xf3bf && h2&0xff00 == 0x8f00: // CLREX, DSB, DMB, ISB
		opt := h2 & 15
		switch h2 >> 4 & 15 {
		case 2:
			d.set("clrex", "")
		case 4, 5:
			name, ok := thumbBarriers[opt]
			if !ok {
				return false
			}
			d.set([...]string{"dsb", "dmb"}[h2>>4&1], name)
		case 6:
			if opt != 15 {
				return false
			}
			d.set("isb", "sy")
		default:
			return false
		}
	case o1 == 2 && h1&0xfff0 == 0xf7f0: // UDF.W
		d.set("udf.w", fmt.Sprintf("#%d", h1&15<<12|h2&0xfff))
		d.in.IsTrap = true
	case o1&5 == 1 || o1&5 == 4 || o1&5 == 5: // B.W, BLX, BL
		i1, i2 := ^(j1^s)&1, ^(j2^s)&1
		off := sext(s<<24|i1<<23|i2<<22|(h1&0x3ff)<<12|(h2&0x7ff)<<1, 25)
		switch o1 & 5 {
		case 1:
			d.branch("b.w", d.pc+4+uint64(off), false, false)
		case 5:
			d.branch("bl", d.pc+4+uint64(off), true, false)
		default:
			if h2&1 != 0 {
				return false
			}
			d.branch("blx", (d.pc&^3)+4+uint64(off), true, false)
		}
	default:
		return false
	}
	return true
}

// t32LoadStore decodes the single loads and stores and memory hints (A6.3.7-A6.3.10).
func (d *thumbDec) t32LoadStore(h1, h2 uint32) bool {
	sign, size, load := h1>>8&1 == 1, 1<<(h1>>5&3), h1>>4&1 == 1
	rn, rt := h1&15, h2>>12
	if size == 8 || sign && (!load || size == 4) {
		return false
	}
	name := map[int]string{1: "b", 2: "h", 4: ""}[size]
	if sign {
		name = "s" + name
	}
	if load {
		name = "ldr" + name
	} else {
		name = "str" + name
	}
	if rt == 15 && size == 1 && load && rn != 15 {
		return d.t32Hint(h1, h2)
	}
	if rt == 15 && (size != 4 || !load) {
		return false // PLD, PLI (literal), unpredictable forms
	}
	var ops string
	switch {
	case rn == 15: // literal
		if !load {
			return false
		}
		imm := int64(h2 & 0xfff)
		if h1>>7&1 == 0 {
			if h2>>11&1 == 1 {
				return false // objdump reads these as the imm8 forms of pc
			}
			imm = -imm
		}
		ops = fmt.Sprintf("[pc, #%d]", imm)
		if imm == 0 {
			ops = "[pc]"
		}
		d.memImm(15, imm, size, false, false, false)
		name += ".w"
	case h1>>7&1 == 1: // imm12
		imm := h2 & 0xfff
		ops = thumbAddrImm(rn, imm)
		d.memImm(rn, int64(imm), size, !load, false, false)
		name += ".w"
	case h2>>6&0x3f == 0: // register
		rm, sh := h2&15, h2>>4&3
		if rm == 13 || rm == 15 {
			return false
		}
		ops = fmt.Sprintf("[%s, %s]", tr(rn), tr(rm))
		if sh != 0 {
			ops = fmt.Sprintf("[%s, %s, lsl #%d]", tr(rn), tr(rm), sh)
		}
		d.memReg(rn, rm, uint(sh), size, !load)
		name += ".w"
		d.args(rt, rn, rm)
		if load {
			d.dest(rt)
		}
		d.set(name, tr(rt)+", "+ops)
		return true
	case h2>>11&1 == 1: // imm8: negative offset, unprivileged, pre- and post-index
		puw := h2 >> 8 & 7
		imm := int64(h2 & 0xff)
		p, u, w := puw&4 != 0, puw&2 != 0, puw&1 != 0
		switch {
		case puw == 6: // T
			name += "t"
			ops = thumbAddrImm(rn, uint32(imm))
			d.memImm(rn, imm, size, !load, false, false)
		case puw == 4 || p && w || !p && w:
			if !u {
				imm = -imm
			}
			ops = thumbAddrPUW(rn, imm, p, u, w)
			if imm == 0 && puw == 4 {
				ops = "[" + tr(rn) + "]"
			}
			if rt == rn && w {
				return false
			}
			d.memImm(rn, imm, size, !load, p && w, !p)
			name += ".w"
		default:
			return false
		}
	default:
		return false
	}
	d.set(name, tr(rt)+", "+ops)
	d.args(rt, rn)
	if load {
		d.dest(rt)
	}
	return true
}

// t32Hint decodes the memory hints PLD and PLI (immediate and register; A6.3.8), which
// access no memory a fault could come from: no Mem.
func (d *thumbDec) t32Hint(h1, h2 uint32) bool {
	rn := h1 & 15
	name := "pld"
	if h1>>8&1 == 1 {
		name = "pli"
	}
	switch {
	case h1>>7&1 == 1: // imm12
		d.set(name, thumbAddrImm(rn, h2&0xfff))
	case h2>>8&15 == 0xc: // negative imm8
		d.set(name, thumbAddrPUW(rn, -int64(h2&0xff), true, false, false))
	case h2>>6&0x3f == 0 && h2&15 != 13 && h2&15 != 15: // register
		if sh := h2 >> 4 & 3; sh != 0 {
			d.set(name, fmt.Sprintf("[%s, %s, lsl #%d]", tr(rn), tr(h2&15), sh))
		} else {
			d.set(name, fmt.Sprintf("[%s, %s]", tr(rn), tr(h2&15)))
		}
		d.args(h2 & 15)
	default:
		return false
	}
	d.in.RegArgs = append([]string{an(rn)}, d.in.RegArgs...)
	return true
}

// t32Parallel are the parallel additions and subtractions by op1 (A6.3.13, A6.3.14).
var t32Parallel = [8]string{"add8", "add16", "asx", "", "sub8", "sub16", "sax", ""}

// t32DataReg decodes data processing (register) (A6.3.12) and miscellaneous operations
// (A6.3.16): shifts by a register, extends, byte reversal, CLZ.
func (d *thumbDec) t32DataReg(h1, h2 uint32) bool {
	rn, rd, rm := h1&15, h2>>8&15, h2&15
	if h2>>12 != 15 {
		return false
	}
	op1, op2 := h1>>4&15, h2>>4&15
	switch {
	case op1>>3 == 0 && op2 == 0: // LSL, LSR, ASR, ROR (register)
		name := [...]string{"lsl", "lsr", "asr", "ror"}[op1>>1&3]
		if op1&1 == 1 {
			name += "s"
		}
		d.set(name+".w", fmt.Sprintf("%s, %s, %s", tr(rd), tr(rn), tr(rm)))
		d.args(rd, rn, rm)
		d.dest(rd)
	case op1>>3 == 0 && op2>>3 == 1 && op1 <= 5: // extends
		names := [...]string{"sxth", "uxth", "sxtb16", "uxtb16", "sxtb", "uxtb"}
		name := names[op1]
		rot := ""
		if r := h2 >> 4 & 3; r != 0 {
			rot = fmt.Sprintf(", ror #%d", r*8)
		}
		if rn == 15 {
			if op1 == 0 || op1 == 1 || op1 == 4 || op1 == 5 {
				name += ".w"
			}
			d.set(name, fmt.Sprintf("%s, %s%s", tr(rd), tr(rm), rot))
			d.args(rd, rm)
		} else {
			name = name[:3] + "a" + name[3:]
			d.set(name, fmt.Sprintf("%s, %s, %s%s", tr(rd), tr(rn), tr(rm), rot))
			d.args(rd, rn, rm)
		}
		d.dest(rd)
	case op1>>3 == 1 && op2>>3 == 0 && op2&3 != 3 && t32Parallel[op1&7] != "": // parallel add/subtract
		prefix := [2][3]string{{"s", "q", "sh"}, {"u", "uq", "uh"}}[op2>>2&1][op2&3]
		d.set(prefix+t32Parallel[op1&7], fmt.Sprintf("%s, %s, %s", tr(rd), tr(rn), tr(rm)))
		d.args(rd, rn, rm)
		d.dest(rd)
	case op1 == 10 && op2 == 8: // SEL
		d.set("sel", fmt.Sprintf("%s, %s, %s", tr(rd), tr(rn), tr(rm)))
		d.args(rd, rn, rm)
		d.dest(rd)
	case op1>>2 == 2 && op2>>2 == 2: // REV, REV16, RBIT, REVSH, CLZ
		if rn != rm {
			return false
		}
		var name string
		switch op1 & 3 {
		case 1:
			name = [...]string{"rev.w", "rev16.w", "rbit", "revsh.w"}[op2&3]
		case 3:
			if op2&3 != 0 {
				return false
			}
			name = "clz"
		default:
			return false
		}
		d.set(name, tr(rd)+", "+tr(rm))
		d.args(rd, rm)
		d.dest(rd)
	default:
		return false
	}
	return true
}

// t32Mul decodes MUL, MLA and MLS (A6.3.16).
func (d *thumbDec) t32Mul(h1, h2 uint32) bool {
	op1, op2 := h1>>4&7, h2>>4&3
	rn, ra, rd, rm := h1&15, h2>>12, h2>>8&15, h2&15
	if op1 != 0 || op2 > 1 {
		return false
	}
	switch {
	case op2 == 0 && ra == 15:
		d.set("mul.w", fmt.Sprintf("%s, %s, %s", tr(rd), tr(rn), tr(rm)))
		d.args(rd, rn, rm)
	default:
		d.set([...]string{"mla", "mls"}[op2], fmt.Sprintf("%s, %s, %s, %s", tr(rd), tr(rn), tr(rm), tr(ra)))
		d.args(rd, rn, rm, ra)
	}
	d.dest(rd)
	return true
}

// t32LongMul decodes SMULL, UMULL, SMLAL, UMLAL, SDIV and UDIV (A6.3.17).
func (d *thumbDec) t32LongMul(h1, h2 uint32) bool {
	op1, op2 := h1>>4&7, h2>>4&15
	rn, lo, hi, rm := h1&15, h2>>12, h2>>8&15, h2&15
	switch {
	case (op1 == 1 || op1 == 3) && op2 == 15:
		if lo != 15 {
			return false
		}
		d.set([...]string{"sdiv", "udiv"}[op1>>1], fmt.Sprintf("%s, %s, %s", tr(hi), tr(rn), tr(rm)))
		d.args(hi, rn, rm)
		d.dest(hi)
	case op2 == 0 && (op1 == 0 || op1 == 2 || op1 == 4 || op1 == 6):
		name := map[uint32]string{0: "smull", 2: "umull", 4: "smlal", 6: "umlal"}[op1]
		d.set(name, fmt.Sprintf("%s, %s, %s, %s", tr(lo), tr(hi), tr(rn), tr(rm)))
		d.args(lo, hi, rn, rm)
		d.dest(lo)
		d.in.AlsoWrites = append(d.in.AlsoWrites, an(hi))
	default:
		return false
	}
	return true
}

// t32Coproc decodes the coprocessor space the VFP and MRC/MCR use: its encodings are
// A32's with the condition 0b1110 (A6.3.18), decoded by armCoproc and armasm; the
// pc-relative VLDR reads Align(pc, 4) + 4.
func (d *thumbDec) t32Coproc(h1, h2 uint32) bool {
	if h1>>12 != 0xe || h1>>8&0xe == 0x0e && h1>>8&0xf == 0xf {
		return false
	}
	enc := h1<<16 | h2
	if cp := enc >> 8 & 15; (cp == 14 || cp == 15) && enc>>12&15 != 15 && armCoproc(d.in, enc) {
		return true
	}
	vldr := enc>>24&1 == 1 && enc>>21&1 == 0
	if enc>>9&7 == 5 && enc>>25&7 == 6 && (enc>>16&15 == 15 && !vldr || enc&0xff == 0 && enc>>23&1 == 0) {
		return false // VLDM/VSTM of pc (objdump: vscclrm), VLDR/VSTR with #-0
	}
	if enc>>9&7 == 5 && armCoproc(d.in, enc) {
		return true
	}
	if enc>>9&7 != 5 { // coprocessors 10 and 11: VFP
		return false
	}
	in, err := armasmDecode(enc)
	if err != nil {
		return false
	}
	armFill(d.in, in, enc, d.pc+4)
	return d.in.Target == 0 && !d.in.IsBranch && !d.in.IsCall && !d.in.IsReturn
}

// t16FlagSetting are the 16-bit operations that set the flags outside an IT block and
// not inside one, where objdump drops their "s" ("adds" is "addeq"; DDI 0406C A6.2.1).
var t16FlagSetting = map[string]bool{"lsls": true, "lsrs": true, "asrs": true, "adds": true, "subs": true, "movs": true,
	"ands": true, "eors": true, "adcs": true, "sbcs": true, "rors": true, "negs": true, "orrs": true, "muls": true, "bics": true, "mvns": true}

// ThumbIT is the state of an IT block while a run of T32 instructions is decoded in
// order: the conditions of the instructions still to come in it.
type ThumbIT struct{ conds []string }

// Apply gives in, the next instruction of the run, the condition of the IT block it is
// in (as objdump writes it: "ldreq", "addeq" for the 16-bit "adds", "moveq.w") and makes
// a branch in it conditional; an IT instruction starts a block.
func (s *ThumbIT) Apply(in *Inst) {
	isIT := strings.HasPrefix(in.Mnemonic, "it") && in.Len == 2 && len(in.Bytes) == 2
	if len(s.conds) > 0 && !isIT { // an IT in a block starts another, as objdump reads it
		cond := s.conds[0]
		s.conds = s.conds[1:]
		if in.Mnemonic == "bkpt" {
			return // unconditional even here
		}
		name, rest, _ := strings.Cut(in.Text, " ")
		base, suffix, _ := strings.Cut(name, ".")
		if in.Len == 2 && t16FlagSetting[base] {
			base = strings.TrimSuffix(base, "s")
		}
		text := base + cond
		if suffix != "" {
			text += "." + suffix
		}
		if rest != "" {
			text += " " + rest
		}
		in.Text = text
		if in.IsBranch || in.IsReturn || in.IsTrap {
			in.NoFallThrough = false
		}
		return
	}
	if !isIT {
		return
	}
	first, mask := uint32(in.Bytes[0])>>4, uint32(in.Bytes[0])&15
	n := 4 - bits.TrailingZeros32(mask)
	s.conds = make([]string, n)
	for k := 0; k < n; k++ {
		c := first
		if k > 0 && mask>>(4-k)&1 != first&1 {
			c ^= 1
		}
		s.conds[k] = "al"
		if c < 14 {
			s.conds[k] = armCondNames[c]
		}
	}
}

// InBlock reports whether the next instruction is in an IT block.
func (s *ThumbIT) InBlock() bool { return len(s.conds) > 0 }

// Reset ends any IT block (undecoded bytes, data).
func (s *ThumbIT) Reset() { s.conds = nil }

// ThumbITBefore is the IT state in force at pc for T32 code decoded in order from start
// (code holds the bytes from start on; modeAt, which may be nil, marks literal pools as
// ModeData): what an instruction at pc decoded alone needs to read as objdump's. ok is
// false when the run does not land on pc (bytes missing, or start not an instruction's).
func ThumbITBefore(code []byte, start, pc uint64, modeAt func(uint64) Mode) (it ThumbIT, ok bool) {
	if pc < start || pc-start > uint64(len(code)) {
		return ThumbIT{}, false
	}
	off := uint64(0)
	for n := 0; off < pc-start && n < maxFuncBack; n++ {
		at := start + off
		if modeAt != nil && modeAt(at) == ModeData {
			it.Reset()
			off += 4
			continue
		}
		in, err := decodeThumb(code[off:], at)
		if err != nil {
			it.Reset()
			var de *DecodeError
			if !errors.As(err, &de) || de.Len == 0 || errors.Is(err, ErrTruncated) {
				return ThumbIT{}, false
			}
			off += uint64(de.Len)
			continue
		}
		it.Apply(&in)
		off += uint64(in.Len)
	}
	return it, off == pc-start
}

// ThumbITFromPSR is the IT state a thread's saved program status register holds: the
// conditions of the instruction at its pc and of the rest of its IT block. ITSTATE is
// CPSR bits 15:10 and 26:25 (ARM DDI 0406C A2.5.2); its high four bits are the current
// instruction's condition, and each instruction shifts the low five left until the low
// three are zero (ITAdvance). A fault saves the state of the faulting instruction, so
// this needs no decoding from the function's start. ok is false outside an IT block.
func ThumbITFromPSR(psr uint64) (it ThumbIT, ok bool) {
	state := uint32(psr>>10&0x3f)<<2 | uint32(psr>>25&3)
	for state&0xf != 0 && len(it.conds) < 4 {
		c := state >> 4
		name := "al"
		if c < 14 {
			name = armCondNames[c]
		}
		it.conds = append(it.conds, name)
		if state&7 == 0 {
			break
		}
		state = state&0xe0 | state<<1&0x1f
	}
	return it, len(it.conds) > 0
}
