package disasm

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// decodeSeeds are real instructions: from the sample program (see TestObjdumpX86/ARM64),
// from TestRISCV64, and one memory load of each other architecture.
var decodeSeeds = [][]byte{
	{0x48, 0x8b, 0x50, 0x60},                               // mov 0x60(%rax),%rdx (the incident)
	{0x8b, 0x44, 0xb7, 0x68},                               // mov 0x68(%rdi,%rsi,4),%eax
	{0x64, 0x48, 0x8b, 0x04, 0x25, 0xf8, 0xff, 0xff, 0xff}, // mov %fs:0xfffffffffffffff8,%rax
	{0x0f, 0x0b},                                  // ud2
	{0xe8, 0x10, 0x00, 0x00, 0x00},                // call
	{0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0}, // cs nopw
	{0x00, 0x30, 0x40, 0xf9},                      // ldr x0, [x0, #96]
	{0x01, 0xd8, 0x62, 0xb8},                      // ldr w1, [x0, w2, sxtw #2]
	{0xfd, 0x7b, 0xbf, 0xa9},                      // stp x29, x30, [sp, #-16]!
	{0x00, 0x7d, 0x20, 0xd4},                      // brk #0x3e8
	// riscv64, from TestRISCV64 (gcc 12 builds of deref.c and Debian's libc).
	{0x03, 0x35, 0x05, 0x06}, // ld a0,96(a0)
	{0x28, 0x71},             // c.ld a0,96(a0)
	{0x06, 0xe4},             // c.sdsp ra,8(sp)
	{0xef, 0xf0, 0x3f, 0xfd}, // jal 0x708
	{0x82, 0x97},             // c.jalr a5
	{0x02, 0x90},             // c.ebreak
	// ppc64le ld r9,96(r3); s390x lg %r1,96(%r2); i386 mov 0x60(%eax),%edx.
	{0x60, 0x00, 0x23, 0xe9},
	{0xe3, 0x10, 0x20, 0x60, 0x00, 0x04},
	{0x8b, 0x50, 0x60},
	// 32-bit ARM A32, from TestARMMemOperands and TestARMFlow: ldr r3, [r3, #96]; push
	// {r4, r5, fp, lr}; vpush {d8-d11}; mrc 15, 0, r3, cr13, cr0, {3}; ldr pc, [sp], #20;
	// ldr r0, [r1, -r2]; udf #0.
	{0x60, 0x30, 0x93, 0xe5},
	{0x30, 0x48, 0x2d, 0xe9},
	{0x08, 0x8b, 0x2d, 0xed},
	{0x70, 0x3f, 0x1d, 0xee},
	{0x14, 0xf0, 0x9d, 0xe4},
	{0x02, 0x00, 0x11, 0xe7},
	{0xf0, 0x00, 0xf0, 0xe7},
	// 32-bit ARM T32, from TestThumbMemOperands and TestThumbFlow: ldr r3, [r3, #96];
	// ldr.w r3, [r3, #96]; ldmia.w sp!, {r4-r8, pc}; vpush {d8-d11}; bl; tbh [pc, r1,
	// lsl #1]; ldr.w r1, [r2, #4]!; ite eq; and a 32-bit first halfword alone.
	{0x1b, 0x6e},
	{0xd3, 0xf8, 0x60, 0x30},
	{0xbd, 0xe8, 0xf0, 0x81},
	{0x2d, 0xed, 0x08, 0x8b},
	{0xff, 0xf7, 0xfe, 0xff},
	{0xdf, 0xe8, 0x11, 0xf0},
	{0x52, 0xf8, 0x04, 0x1f},
	{0x0c, 0xbf},
	{0xd3, 0xf8},
}

// fuzzModes are the instruction sets to try for a: 32-bit ARM's A32 and Thumb besides the
// default (refused); the one default elsewhere.
func fuzzModes(a *arch.Arch) []Mode {
	if a.Name == arch.ARM.Name {
		return []Mode{ModeDefault, ModeARM, ModeThumb}
	}
	return []Mode{ModeDefault}
}

// FuzzDecode decodes random bytes as every architecture of arch.All and evaluates every
// memory operand against registers derived from the input: nothing may panic, lengths must be
// sane and a decoded instruction's bytes must be the input's prefix.
//
// It runs under 1,000 executions a second on one worker (about 500-900, and about 1 ms
// per corpus entry replayed): each input is decoded by seven decoders in two syntaxes,
// and a window of each architecture decodes every offset before its pc, where
// s390xasm.Decode, which searches its instruction table linearly, takes a third of the
// time. FuzzDecodeOne is its fast sibling: one architecture's decoder alone.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add(s, uint64(0x401000), uint64(0))
	}
	f.Fuzz(func(t *testing.T, code []byte, pc, regSeed uint64) {
		regs := func(name string) (uint64, bool) {
			h := regSeed
			for i := 0; i < len(name); i++ {
				h = h*31 + uint64(name[i])
			}
			return h, h&7 != 0
		}
		for _, a := range arch.All {
			for _, syn := range []Syntax{SyntaxDefault, SyntaxIntel} {
				for _, mode := range fuzzModes(a) {
					in, err := DecodeMode(a, code, pc, syn, mode)
					if err != nil {
						continue
					}
					if in.Len <= 0 || in.Len > MaxInstLen || in.Len > len(code) || string(in.Bytes) != string(code[:in.Len]) {
						t.Fatalf("%s: bad length %d for % x", a.Name, in.Len, code)
					}
					if in.Text == "" || in.Mnemonic == "" {
						t.Fatalf("%s: empty text for % x", a.Name, code)
					}
					for _, m := range in.Mem {
						_, _ = EffectiveAddr(a, m, regs)
					}
				}
			}
		}
		// The window over the same bytes as memory.
		mem := memBytes{pc, code}
		if len(code) > 0 {
			mid := pc + uint64(binary.LittleEndian.Uint16(append(code, 0, 0)[:2]))%uint64(len(code))
			for _, a := range arch.All {
				for _, mode := range fuzzModes(a) {
					lines, err := WindowWith(a, mem, mid, WindowConfig{Before: 4, After: 4, FuncStart: pc, Symbolize: func(uint64) string { return "f" }, Mode: mode})
					if err == nil && len(lines) > 9 {
						t.Fatalf("%d lines", len(lines))
					}
				}
			}
		}
	})
}

// FuzzDecodeOne decodes random bytes as one architecture, arch.All[which&63], in one syntax
// (Intel when which >= 128) and, on 32-bit ARM, as A32 when which&64 is set and which <
// 128, as T32 when both which&64 and which&128 are (syntax means nothing there):
// FuzzDecode's inner layer without the windows and the other decoders. A decoded
// instruction is a non-empty prefix of the input with a text and a mnemonic, decoded again
// from its own bytes it is the same instruction, and its memory operands evaluate
// without panicking.
func FuzzDecodeOne(f *testing.F) {
	for _, s := range decodeSeeds {
		for i := range arch.All {
			f.Add(s, uint8(i), uint64(0x401000))
			if arch.All[i].Name == arch.ARM.Name {
				f.Add(s, uint8(i|64), uint64(0x401000))
				f.Add(s, uint8(i|192), uint64(0x401000))
			}
		}
	}
	f.Fuzz(func(t *testing.T, code []byte, which uint8, pc uint64) {
		a := arch.All[int(which&63)%len(arch.All)]
		syn := SyntaxDefault
		if which >= 128 {
			syn = SyntaxIntel
		}
		mode := ModeDefault
		if which&64 != 0 {
			mode = ModeARM
			if which&128 != 0 {
				mode = ModeThumb
			}
		}
		thumb := a.Name == arch.ARM.Name && mode == ModeThumb
		if thumb {
			_, _ = ThumbITBefore(code, pc, pc+uint64(len(code)/2), nil) // must not panic
		}
		in, err := DecodeMode(a, code, pc, syn, mode)
		if err != nil {
			var de *DecodeError
			if Supported(a) && !errors.As(err, &de) {
				t.Fatalf("%s: error %v (%T) is not a *DecodeError", a.Name, err, err)
			}
			if thumb && (de.Len != 2 && de.Len != 4 || len(code) >= 2 && de.Len != thumbLen(binary.LittleEndian.Uint16(code))) {
				t.Fatalf("T32: % x: %v of length %d", code, err, de.Len)
			}
			return
		}
		if thumb && (len(code) < 2 || in.Len != thumbLen(binary.LittleEndian.Uint16(code))) {
			t.Fatalf("T32: % x decoded with length %d", code, in.Len)
		}
		if in.Len <= 0 || in.Len > MaxInstLen || in.Len > len(code) || string(in.Bytes) != string(code[:in.Len]) ||
			in.Text == "" || in.Mnemonic == "" || in.PC != pc {
			t.Fatalf("%s: % x decoded as %+v", a.Name, code, in)
		}
		again, err := DecodeMode(a, in.Bytes, pc, syn, mode)
		if err != nil || again.Text != in.Text || again.Len != in.Len {
			t.Fatalf("%s: % x decoded as %q, its own %d bytes as %q (%v)", a.Name, code, in.Text, in.Len, again.Text, err)
		}
		for _, m := range in.Mem {
			_, _ = EffectiveAddr(a, m, func(name string) (uint64, bool) { return pc ^ uint64(len(name)), true })
		}
	})
}
