package disasm

import (
	"encoding/binary"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// FuzzDecode decodes random bytes as every architecture of arch.All and evaluates every
// memory operand against registers derived from the input: nothing may panic, lengths must be
// sane and a decoded instruction's bytes must be the input's prefix.
func FuzzDecode(f *testing.F) {
	// Seeds: real instructions from the sample program (see TestObjdumpX86/ARM64).
	for _, s := range [][]byte{
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
	} {
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
				in, err := DecodeSyntax(a, code, pc, syn)
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
		// The window over the same bytes as memory.
		mem := memBytes{pc, code}
		if len(code) > 0 {
			mid := pc + uint64(binary.LittleEndian.Uint16(append(code, 0, 0)[:2]))%uint64(len(code))
			for _, a := range arch.All {
				lines, err := WindowWith(a, mem, mid, WindowConfig{Before: 4, After: 4, FuncStart: pc, Symbolize: func(uint64) string { return "f" }})
				if err == nil && len(lines) > 9 {
					t.Fatalf("%d lines", len(lines))
				}
			}
		}
	})
}
