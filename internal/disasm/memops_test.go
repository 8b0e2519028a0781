package disasm

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// memCase is one instruction as objdump shows it (bytes in memory order) and what Decode
// must make of it.
type memCase struct {
	hex, text, dest string
	also            []string
	pc              uint64
	mem             []MemOperand
}

func checkMemCases(t *testing.T, a *arch.Arch, cases []memCase) {
	t.Helper()
	checkMemCasesMode(t, a, ModeDefault, cases)
}

// checkMemCasesMode is checkMemCases for code in an instruction set.
func checkMemCasesMode(t *testing.T, a *arch.Arch, mode Mode, cases []memCase) {
	t.Helper()
	for _, c := range cases {
		code, err := hex.DecodeString(strings.ReplaceAll(c.hex, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		pc := c.pc
		if pc == 0 {
			pc = 0x1000
		}
		in, err := DecodeMode(a, code, pc, SyntaxDefault, mode)
		if err != nil {
			t.Errorf("%s: %v", c.hex, err)
			continue
		}
		if in.Len != len(code) || in.Text != c.text || in.Dest != c.dest || !reflect.DeepEqual(in.AlsoWrites, c.also) {
			t.Errorf("%s: len %d %q dest %q also %q, want %q dest %q also %q", c.hex, in.Len, in.Text, in.Dest, in.AlsoWrites, c.text, c.dest, c.also)
		}
		if !reflect.DeepEqual(in.Mem, c.mem) {
			t.Errorf("%s (%s): Mem\n got %+v\nwant %+v", c.hex, c.text, in.Mem, c.mem)
		}
	}
}

// Loads and stores of ppc64le, bytes from powerpc64le-linux-gnu-objdump -d of
// testdata/src/deref.c (gcc 12 -O0 and -O2), Debian's cross libc.so.6 (glibc 2.36)
// and, for the prefixed forms, g.c ("long g; long f(void) { return g; }") built with
// -O2 -mcpu=power10 -shared -fPIC.
func TestPPC64LEMemOperands(t *testing.T) {
	ld := func(base, index string, disp int64, size int, write bool) []MemOperand {
		m := MemOperand{Base: base, Index: index, Disp: disp, Size: size, Write: write, AddrSize: 64}
		if index != "" {
			m.Scale = 1
		}
		return []MemOperand{m}
	}
	checkMemCases(t, arch.PPC64LE, []memCase{
		// deref.c -O0 and -O2: the NULL dereference and the stack slot of p.
		{hex: "60 00 29 e9", text: "ld r9,96(r9)", dest: "r9", mem: ld("r9", "", 0x60, 8, false)},
		{hex: "60 00 63 e8", text: "ld r3,96(r3)", dest: "r3", mem: ld("r3", "", 0x60, 8, false)},
		{hex: "20 00 3f e9", text: "ld r9,32(r31)", dest: "r9", mem: ld("r31", "", 32, 8, false)},
		{hex: "20 00 7f f8", text: "std r3,32(r31)", mem: ld("r31", "", 32, 8, true)},
		{hex: "f8 ff e1 fb", text: "std r31,-8(r1)", mem: ld("r1", "", -8, 8, true)},
		// Update forms write the address back to RA: a store's Dest, a load's AlsoWrites.
		{hex: "c1 ff 21 f8", text: "stdu r1,-64(r1)", dest: "r1", mem: ld("r1", "", -64, 8, true)},
		{hex: "09 00 3d e9", text: "ldu r9,8(r29)", dest: "r9", also: []string{"r29"}, mem: ld("r29", "", 8, 8, false)},
		{hex: "04 00 ea 84", text: "lwzu r7,4(r10)", dest: "r7", also: []string{"r10"}, mem: ld("r10", "", 4, 4, false)},
		// No memory operand: register copy (mr is or RA,RS,RS) and add immediate.
		{hex: "78 0b 3f 7c", text: "or r31,r1,r1", dest: "r31"},
		{hex: "40 00 3f 38", text: "addi r1,r31,64", dest: "r1"},
		// D and DS forms of each size.
		{hex: "4a 00 4a e9", text: "lwa r10,72(r10)", dest: "r10", mem: ld("r10", "", 72, 4, false)},
		{hex: "80 ae 42 81", text: "lwz r10,-20864(r2)", dest: "r10", mem: ld("r2", "", -20864, 4, false)},
		{hex: "d0 be 08 a1", text: "lhz r8,-16688(r8)", dest: "r8", mem: ld("r8", "", -16688, 2, false)},
		{hex: "00 00 3f a9", text: "lha r9,0(r31)", dest: "r9", mem: ld("r31", "", 0, 2, false)},
		{hex: "be 72 22 89", text: "lbz r9,29374(r2)", dest: "r9", mem: ld("r2", "", 29374, 1, false)},
		{hex: "02 00 49 99", text: "stb r10,2(r9)", mem: ld("r9", "", 2, 1, true)},
		{hex: "0c 00 5f b1", text: "sth r10,12(r31)", mem: ld("r31", "", 12, 2, true)},
		{hex: "74 ae 22 91", text: "stw r9,-20876(r2)", mem: ld("r2", "", -20876, 4, true)},
		{hex: "00 00 69 c8", text: "lfd f3,0(r9)", dest: "f3", mem: ld("r9", "", 0, 8, false)},
		{hex: "00 00 9e d9", text: "stfd f12,0(r30)", mem: ld("r30", "", 0, 8, true)},
		// X forms: RA + RB, or RB alone when RA is r0 (which stands for 0).
		{hex: "ae 48 43 7d", text: "lbzx r10,r3,r9", dest: "r10", mem: ld("r3", "r9", 0, 1, false)},
		{hex: "2a 48 3c 7d", text: "ldx r9,r28,r9", dest: "r9", mem: ld("r28", "r9", 0, 8, false)},
		{hex: "2a a9 b7 7f", text: "stdx r29,r23,r21", mem: ld("r23", "r21", 0, 8, true)},
		{hex: "ae f1 a3 7c", text: "stbx r5,r3,r30", mem: ld("r3", "r30", 0, 1, true)},
		{hex: "28 1c c0 7c", text: "ldbrx r6,r0,r3", dest: "r6", mem: ld("r3", "", 0, 8, false)},
		{hex: "2d f9 40 7d", text: "stwcx. r10,r0,r31", mem: ld("r31", "", 0, 4, true)},
		{hex: "a9 48 60 7c", text: "ldarx r3,0,r9,1", dest: "r3", mem: ld("r9", "", 0, 8, false)},
		{hex: "98 36 0d 7c", text: "lxvd2x vs0,r13,r6", dest: "vs0", mem: ld("r13", "r6", 0, 16, false)},
		// RB = r0 is r0 itself.
		{hex: "ce 00 e1 7f", text: "lvx v31,r1,r0", dest: "v31", mem: ld("r1", "r0", 0, 16, false)},
		// dcbz zeroes a cache block of the implementation's size.
		{hex: "ec 37 0b 7c", text: "dcbz r11,r6", mem: ld("r11", "r6", 0, 0, true)},
		// Prefixed, R = 1: relative to the instruction's own address (0x680 + 129192 is
		// g's GOT slot at 0x1ff28).
		{hex: "01 00 10 04 a8 f8 20 e5", text: "pld r9,129192", dest: "r9", pc: 0x680,
			mem: []MemOperand{{Base: "pc", Disp: 129192, Size: 8, AddrSize: 64, PCValue: 0x680}}},
	})
}

// Storage operands of s390x, bytes from s390x-linux-gnu-objdump -d of deref.c (gcc 12
// -O0 and -O2), Debian's cross libc.so.6 (glibc 2.36) and g.c built -O2 -shared -fPIC.
func TestS390XMemOperands(t *testing.T) {
	mo := func(base, index string, disp int64, size int, write bool) MemOperand {
		m := MemOperand{Base: base, Index: index, Disp: disp, Size: size, Write: write, AddrSize: 64}
		if index != "" {
			m.Scale = 1
		}
		return m
	}
	one := func(base, index string, disp int64, size int, write bool) []MemOperand {
		return []MemOperand{mo(base, index, disp, size, write)}
	}
	checkMemCases(t, arch.S390X, []memCase{
		// deref.c -O0 and -O2.
		{hex: "e3 10 10 60 00 04", text: "lg %r1,96(%r1)", dest: "r1", mem: one("r1", "", 0x60, 8, false)},
		{hex: "e3 20 20 60 00 04", text: "lg %r2,96(%r2)", dest: "r2", mem: one("r2", "", 0x60, 8, false)},
		{hex: "e3 10 b0 a0 00 04", text: "lg %r1,160(%r11)", dest: "r1", mem: one("r11", "", 160, 8, false)},
		{hex: "e3 20 b0 a0 00 24", text: "stg %r2,160(%r11)", mem: one("r11", "", 160, 8, true)},
		// No storage operand: address arithmetic, copies, moves from floating-point
		// registers (which write a general one) and to them (which do not).
		{hex: "e3 f0 ff 58 ff 71", text: "lay %r15,-168(%r15)", dest: "r15"},
		{hex: "b9 04 00 bf", text: "lgr %r11,%r15", dest: "r11"},
		{hex: "b3 cd 00 f0", text: "lgdr %r15,%f0", dest: "r15"},
		{hex: "b3 c1 00 2b", text: "ldgr %f2,%r11"},
		{hex: "07 fe", text: "br %r14"},
		// RX and RXY with an index register; base and index 0 mean none.
		{hex: "e3 22 10 00 00 04", text: "lg %r2,0(%r2,%r1)", dest: "r2", mem: one("r1", "r2", 0, 8, false)},
		{hex: "e3 25 a0 1a 00 76", text: "lb %r2,26(%r5,%r10)", dest: "r2", mem: one("r10", "r5", 26, 1, false)},
		{hex: "50 21 30 00", text: "st %r2,0(%r1,%r3)", mem: one("r3", "r1", 0, 4, true)},
		{hex: "58 20 20 00", text: "l %r2,0(%r2)", dest: "r2", mem: one("r2", "", 0, 4, false)},
		{hex: "e3 20 f1 50 00 02", text: "ltg %r2,336(%r15)", dest: "r2", mem: one("r15", "", 336, 8, false)},
		{hex: "e3 10 b0 00 00 90", text: "llgc %r1,0(%r11)", dest: "r1", mem: one("r11", "", 0, 1, false)},
		// A negative 20-bit displacement (lgf %r1,-262144(%r1) is made up: the lowest).
		{hex: "e3 10 10 00 c0 14", text: "lgf %r1,-262144(%r1)", dest: "r1", mem: one("r1", "", -262144, 4, false)},
		// SI: the immediate's byte.
		{hex: "92 3a 20 00", text: "mvi 0(%r2),58", mem: one("r2", "", 0, 1, true)},
		{hex: "95 00 10 00", text: "cli 0(%r1),0", mem: one("r1", "", 0, 1, false)},
		{hex: "94 f8 b0 03", text: "ni 3(%r11),-8", mem: one("r11", "", 3, 1, true)},
		// SS: two operands of L+1 bytes, the first written (clc reads both).
		{hex: "d2 07 f0 30 10 08", text: "mvc 48(8,%r15),8(%r1)", mem: []MemOperand{mo("r15", "", 48, 8, true), mo("r1", "", 8, 8, false)}},
		{hex: "d5 07 f0 c0 a0 28", text: "clc 192(8,%r15),40(%r10)", mem: []MemOperand{mo("r15", "", 192, 8, false), mo("r10", "", 40, 8, false)}},
		{hex: "d7 97 f0 a0 f0 a0", text: "xc 160(152,%r15),160(%r15)", mem: []MemOperand{mo("r15", "", 160, 152, true), mo("r15", "", 160, 152, false)}},
		// RSY: load and store multiple, R1 to R3; compare and swap writes R1.
		{hex: "eb 9f f0 e8 00 04", text: "lmg %r9,%r15,232(%r15)", dest: "r9",
			also: []string{"r10", "r11", "r12", "r13", "r14", "r15"}, mem: one("r15", "", 232, 56, false)},
		{hex: "eb ef f0 70 00 24", text: "stmg %r14,%r15,112(%r15)", mem: one("r15", "", 112, 16, true)},
		{hex: "eb 23 10 00 00 30", text: "csg %r2,%r3,0(%r1)", dest: "r2", mem: one("r1", "", 0, 8, true)},
		// RIL relative long: halfwords from the instruction (0x598 + 0x1a48 = 0x1fe0).
		{hex: "c4 18 00 00 0d 24", text: "lgrl %r1,0x1fe0", dest: "r1", pc: 0x598,
			mem: []MemOperand{{Base: "pc", Disp: 0x1a48, Size: 8, AddrSize: 64, PCValue: 0x598}}},
	})
}

// The addresses the decoded operands evaluate to, from registers named as arch.PPC64LE
// and arch.S390X name them.
func TestPPC64LES390XEffectiveAddr(t *testing.T) {
	for _, c := range []struct {
		a    *arch.Arch
		hex  string
		regs map[string]uint64
		want uint64
	}{
		{arch.PPC64LE, "600029e9", map[string]uint64{"r9": 0}, 0x60},                                   // ld r9,96(r9)
		{arch.PPC64LE, "ae48437d", map[string]uint64{"r3": 0x1000, "r9": 0x20}, 0x1020},                // lbzx r10,r3,r9
		{arch.PPC64LE, "281cc07c", map[string]uint64{"r0": 0x5000, "r3": 0x2000}, 0x2000},              // ldbrx r6,r0,r3: r0 is 0
		{arch.PPC64LE, "f8ffe1fb", map[string]uint64{"r1": 0x7ffff000}, 0x7fffeff8},                    // std r31,-8(r1)
		{arch.S390X, "e31010600004", map[string]uint64{"r1": 0}, 0x60},                                 // lg %r1,96(%r1)
		{arch.S390X, "e325a01a0076", map[string]uint64{"r5": 0x10, "r10": 0x4000}, 0x4000 + 0x10 + 26}, // lb %r2,26(%r5,%r10)
	} {
		code, _ := hex.DecodeString(c.hex)
		in, err := Decode(c.a, code, 0x1000)
		if err != nil || len(in.Mem) == 0 {
			t.Fatalf("%s: %v %+v", c.hex, err, in)
		}
		ea, err := EffectiveAddr(c.a, in.Mem[0], regsOf(c.regs))
		if err != nil || ea != c.want {
			t.Errorf("%s (%s): EA %#x, %v; want %#x", c.hex, in.Text, ea, err, c.want)
		}
	}
}

// s390x's relative branches and calls have targets (bytes and addresses from
// s390x-linux-gnu-objdump -d of Debian's cross libc.so.6), compare-and-branch included,
// so that a backward walk sees the paths that join at a label.
func TestS390XBranchTargets(t *testing.T) {
	for _, c := range []struct {
		hex, text            string
		pc, target           uint64
		call, branch, noFall bool
	}{
		{"c0e500000006", "brasl %r14,0x2b1b8", 0x2b1ac, 0x2b1b8, true, false, false},
		{"a7740008", "jne 0x2b204", 0x2b1f4, 0x2b204, false, true, false},
		{"a7f40006", "j 0x2b31e", 0x2b312, 0x2b31e, false, true, true},
		{"c0f4ffffffe5", "jg 0x2ae18", 0x2ae4e, 0x2ae18, false, true, true},
		{"a7a4fff7", "jhe 0x2c30c", 0x2c31e, 0x2c30c, false, true, false},
		{"a7d70004", "brctg %r13,0x2b6f0", 0x2b6e8, 0x2b6f0, false, true, false},
		{"ec1500098076", "crje %r1,%r5,0x8bd62", 0x8bd50, 0x8bd62, false, true, false},
		{"ec480015007c", "cgije %r4,0,0xaa0aa", 0xaa080, 0xaa0aa, false, true, false},
	} {
		code, _ := hex.DecodeString(c.hex)
		in, err := Decode(arch.S390X, code, c.pc)
		if err != nil {
			t.Errorf("%s: %v", c.hex, err)
			continue
		}
		also := []string(nil)
		if strings.HasPrefix(c.text, "brctg") {
			also = []string{"r13"} // counted down
		}
		if in.Target != c.target || in.IsCall != c.call || in.IsBranch != c.branch || in.NoFallThrough != c.noFall || in.Dest != "" ||
			!reflect.DeepEqual(in.AlsoWrites, also) {
			t.Errorf("%s (%s): target %#x call %v branch %v nofall %v dest %q also %q; want %#x %v %v %v, no dest, also %q",
				c.hex, in.Text, in.Target, in.IsCall, in.IsBranch, in.NoFallThrough, in.Dest, in.AlsoWrites, c.target, c.call, c.branch, c.noFall, also)
		}
	}
}

// ppc64's addi and addis carry their immediate (addis shifted), for following an
// address computed from the TOC pointer (bytes from Debian's cross libc.so.6).
func TestPPC64LEAddImmediate(t *testing.T) {
	for _, c := range []struct {
		hex, text string
		regs      []string
		imm       int64
	}{
		{"ffff223d", "addis r9,r2,-1", []string{"r9", "r2"}, -0x10000},
		{"01002939", "addi r9,r9,1", []string{"r9", "r9"}, 1},
	} {
		code, _ := hex.DecodeString(c.hex)
		in, err := Decode(arch.PPC64LE, code, 0x1000)
		if err != nil || in.Text != c.text || !in.HasImm || in.Imm != c.imm || in.Dest != "r9" || !reflect.DeepEqual(in.RegArgs, c.regs) {
			t.Errorf("%s: %q imm %v %#x dest %q regs %q (%v); want %q imm %#x regs %q", c.hex, in.Text, in.HasImm, in.Imm, in.Dest, in.RegArgs, err, c.text, c.imm, c.regs)
		}
	}
}

// Loads and stores of 32-bit ARM's A32, bytes and text from arm-linux-gnueabihf-objdump
// -d of an object assembled with arm-linux-gnueabihf-as -march=armv7-a
// -mfpu=vfpv3-d16 (binutils 2.40), pc 0x1000: immediate and register offsets, pre- and
// post-index, the multiple loads and stores and their PUSH and POP aliases, VFP loads
// and stores, the literal pool (pc+8) and the exclusives.
func TestARMMemOperands(t *testing.T) {
	m := func(base string, disp int64, size int, write bool) MemOperand {
		return MemOperand{Base: base, Disp: disp, Size: size, Write: write, AddrSize: 32}
	}
	pre := func(o MemOperand) []MemOperand { o.PreIndex = true; return []MemOperand{o} }
	post := func(o MemOperand) []MemOperand { o.PostIndex = true; return []MemOperand{o} }
	one := func(o MemOperand) []MemOperand { return []MemOperand{o} }
	idx := func(base, index string, scale int, ext string, write bool) []MemOperand {
		return []MemOperand{{Base: base, Index: index, Scale: scale, Extend: ext, Size: 4, Write: write, AddrSize: 32}}
	}
	checkMemCasesMode(t, arch.ARM, ModeARM, []memCase{
		{hex: "60 30 93 e5", text: "ldr r3, [r3, #96]", dest: "r3", mem: one(m("r3", 0x60, 4, false))},
		{hex: "08 10 10 e5", text: "ldr r1, [r0, #-8]", dest: "r1", mem: one(m("r0", -8, 4, false))},
		{hex: "04 00 9d e5", text: "ldr r0, [sp, #4]", dest: "r0", mem: one(m("r13", 4, 4, false))},
		{hex: "03 20 d1 e5", text: "ldrb r2, [r1, #3]", dest: "r2", mem: one(m("r1", 3, 1, false))},
		{hex: "b6 20 d1 e1", text: "ldrh r2, [r1, #6]", dest: "r2", mem: one(m("r1", 6, 2, false))},
		{hex: "d1 20 d1 e1", text: "ldrsb r2, [r1, #1]", dest: "r2", mem: one(m("r1", 1, 1, false))},
		{hex: "f2 20 51 e1", text: "ldrsh r2, [r1, #-2]", dest: "r2", mem: one(m("r1", -2, 2, false))},
		{hex: "d8 20 c0 e1", text: "ldrd r2, [r0, #8]", dest: "r2", also: []string{"r3"}, mem: one(m("r0", 8, 8, false))},
		{hex: "f0 41 6d e1", text: "strd r4, [sp, #-16]!", also: []string{"r13"}, mem: pre(m("r13", -16, 8, true))},
		{hex: "03 11 82 e7", text: "str r1, [r2, r3, lsl #2]", mem: idx("r2", "r3", 4, "", true)},
		{hex: "02 00 11 e7", text: "ldr r0, [r1, -r2]", dest: "r0", mem: idx("r1", "r2", -1, "", false)},
		// From Go's runtime (GOARCH=arm): armasm's own table does not decode it.
		{hex: "0e c1 89 e7", text: "str ip, [r9, lr, lsl #2]", mem: idx("r9", "r14", 4, "", true)},
		{hex: "22 02 91 e7", text: "ldr r0, [r1, r2, lsr #4]", dest: "r0", mem: idx("r1", "r2", 1, "lsr", false)},
		{hex: "04 00 91 e4", text: "ldr r0, [r1], #4", dest: "r0", also: []string{"r1"}, mem: post(m("r1", 4, 4, false))},
		{hex: "04 00 a1 e5", text: "str r0, [r1, #4]!", also: []string{"r1"}, mem: pre(m("r1", 4, 4, true))},
		{hex: "14 f0 9d e4", text: "ldr pc, [sp], #20", also: []string{"r13"}, mem: post(m("r13", 20, 4, false))},
		{hex: "30 48 2d e9", text: "push {r4, r5, fp, lr}", also: []string{"r13"}, mem: pre(m("r13", -16, 16, true))},
		{hex: "30 88 bd e8", text: "pop {r4, r5, fp, pc}", also: []string{"r13"}, mem: post(m("r13", 0, 16, false))},
		{hex: "04 b0 2d e5", text: "push {fp}", also: []string{"r13"}, mem: pre(m("r13", -4, 4, true))},
		{hex: "04 b0 9d e4", text: "pop {fp}", dest: "r11", also: []string{"r13"}, mem: post(m("r13", 0, 4, false))},
		{hex: "0e 00 90 e8", text: "ldm r0, {r1, r2, r3}", dest: "r1", also: []string{"r2", "r3"}, mem: one(m("r0", 0, 12, false))},
		{hex: "06 00 20 e9", text: "stmdb r0!, {r1, r2}", also: []string{"r0"}, mem: pre(m("r0", -8, 8, true))},
		{hex: "06 00 90 e9", text: "ldmib r0, {r1, r2}", dest: "r1", also: []string{"r2"}, mem: one(m("r0", 4, 8, false))},
		{hex: "06 00 00 e8", text: "stmda r0, {r1, r2}", mem: one(m("r0", -4, 8, true))},
		{hex: "02 0b 91 ed", text: "vldr d0, [r1, #8]", dest: "d0", mem: one(m("r1", 8, 8, false))},
		{hex: "01 1a 01 ed", text: "vstr s2, [r1, #-4]", mem: one(m("r1", -4, 4, true))},
		{hex: "08 8b 2d ed", text: "vpush {d8-d11}", also: []string{"r13"}, mem: pre(m("r13", -32, 32, true))},
		{hex: "02 8b bd ec", text: "vpop {d8}", dest: "d8", also: []string{"r13"}, mem: post(m("r13", 0, 8, false))},
		{hex: "04 0a b0 ec", text: "vldmia r0!, {s0-s3}", dest: "s0", also: []string{"s1", "s2", "s3", "r0"}, mem: post(m("r0", 0, 16, false))},
		{hex: "08 00 9f e5", text: "ldr r0, [pc, #8]", dest: "r0", pc: 0x1070,
			mem: []MemOperand{{Base: "pc", Disp: 8, Size: 4, AddrSize: 32, PCValue: 0x1078}}},
		{hex: "9f 0f 91 e1", text: "ldrex r0, [r1]", dest: "r0", mem: one(m("r1", 0, 4, false))},
		{hex: "90 2f 81 e1", text: "strex r2, r0, [r1]", dest: "r2", mem: one(m("r1", 0, 4, true))},
		{hex: "01 00 c1 e5", text: "strb r0, [r1, #1]", mem: one(m("r1", 1, 1, true))},
		{hex: "b2 00 c1 e1", text: "strh r0, [r1, #2]", mem: one(m("r1", 2, 2, true))},
		{hex: "70 3f 1d ee", text: "mrc 15, 0, r3, cr13, cr0, {3}", dest: "r3"},
		{hex: "03 00 a0 e1", text: "mov r0, r3", dest: "r0"},
	})
}

// The addresses of 32-bit ARM operands wrap at 32 bits, a negative index subtracts, and
// the literal pool is read from the instruction's address plus 8.
func TestARMEffectiveAddr(t *testing.T) {
	regs := map[string]uint64{"r1": 0x1000, "r2": 0x10, "r3": 0xfffffff0, "r13": 0x3ffff740}
	get := func(n string) (uint64, bool) { v, ok := regs[n]; return v, ok }
	for _, tc := range []struct {
		hex  string
		pc   uint64
		want uint64
	}{
		{"02 00 11 e7", 0x1000, 0xff0},      // ldr r0, [r1, -r2]
		{"03 11 82 e7", 0x1000, 0xffffffd0}, // str r1, [r2, r3, lsl #2]: 0x10 + 0x3ffffffc0, 32 bits
		{"60 30 93 e5", 0x1000, 0x50},       // ldr r3, [r3, #96]: wraps
		{"08 00 9f e5", 0x1070, 0x1080},     // ldr r0, [pc, #8]
		{"30 48 2d e9", 0x1000, 0x3ffff730}, // push {r4, r5, fp, lr}
		{"04 00 91 e4", 0x1000, 0x1000},     // ldr r0, [r1], #4
	} {
		code, _ := hex.DecodeString(strings.ReplaceAll(tc.hex, " ", ""))
		in, err := DecodeMode(arch.ARM, code, tc.pc, SyntaxDefault, ModeARM)
		if err != nil || len(in.Mem) != 1 {
			t.Fatalf("%s: %v %+v", tc.hex, err, in)
		}
		got, err := EffectiveAddr(arch.ARM, in.Mem[0], get)
		if err != nil || got != tc.want {
			t.Errorf("%s (%s): %#x %v, want %#x", tc.hex, in.Text, got, err, tc.want)
		}
	}
}
