package disasm

import (
	"encoding/binary"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// NoFallThrough and Dest on real encodings of both decoders (bytes as GNU as writes
// them; texts as objdump -d prints them).
func TestFlowAndDest(t *testing.T) {
	le := func(enc uint32) []byte { return binary.LittleEndian.AppendUint32(nil, enc) }
	for _, tc := range []struct {
		a      *arch.Arch
		code   []byte
		text   string
		noFall bool
		dest   string
	}{
		{arch.AMD64, []byte{0x48, 0x8b, 0x50, 0x60}, "mov 0x60(%rax),%rdx", false, "rdx"},                   // load
		{arch.AMD64, []byte{0x48, 0x89, 0x50, 0x60}, "mov %rdx,0x60(%rax)", false, ""},                      // store
		{arch.AMD64, []byte{0x89, 0xf8}, "mov %edi,%eax", false, "eax"},                                     // copy, a part of rax
		{arch.AMD64, []byte{0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00}, "lea 0x10(%rip),%rax", false, "rax"}, // no access
		{arch.AMD64, []byte{0x48, 0x83, 0xc4, 0x08}, "add $0x8,%rsp", false, "rsp"},
		{arch.AMD64, []byte{0x48, 0x39, 0xf7}, "cmp %rsi,%rdi", false, ""},
		{arch.AMD64, []byte{0x85, 0xc0}, "test %eax,%eax", false, ""},
		{arch.AMD64, []byte{0x53}, "push %rbx", false, ""},
		{arch.AMD64, []byte{0x5b}, "pop %rbx", false, "rbx"},
		{arch.AMD64, []byte{0x0f, 0x1f, 0x40, 0x00}, "nopl 0x0(%rax)", false, ""},
		{arch.AMD64, []byte{0xeb, 0x05}, "jmp 0x1007", true, ""},
		{arch.AMD64, []byte{0xff, 0xe0}, "jmp *%rax", true, ""},
		{arch.AMD64, []byte{0x74, 0x05}, "je 0x1007", false, ""},
		{arch.AMD64, []byte{0xe8, 0x00, 0x00, 0x00, 0x00}, "call 0x1005", false, ""},
		{arch.AMD64, []byte{0xff, 0xd3}, "call *%rbx", false, ""}, // the call reads rbx
		{arch.AMD64, []byte{0xc3}, "ret", true, ""},
		{arch.AMD64, []byte{0x0f, 0x0b}, "ud2", true, ""},
		{arch.AMD64, []byte{0xcc}, "int3", true, ""},

		{arch.ARM64, le(0xf9403000), "ldr x0, [x0, #96]", false, "x0"},
		{arch.ARM64, le(0xb9400001), "ldr w1, [x0]", false, "w1"},
		{arch.ARM64, le(0xf9003020), "str x0, [x1, #96]", false, ""},
		{arch.ARM64, le(0x39000001), "strb w1, [x0]", false, ""},
		{arch.ARM64, le(0xa9bf7bfd), "stp x29, x30, [sp, #-16]!", false, ""},
		{arch.ARM64, le(0xaa0003f3), "mov x19, x0", false, "x19"},
		{arch.ARM64, le(0x90000000), "adrp x0, 0x1000", false, "x0"},
		{arch.ARM64, le(0x91004000), "add x0, x0, #0x10", false, "x0"},
		{arch.ARM64, le(0xeb01001f), "cmp x0, x1", false, ""},
		{arch.ARM64, le(0x7200001f), "tst w0, #0x1", false, ""},
		{arch.ARM64, le(0xd503201f), "nop ", false, ""}, // the text as arm64asm gives it today
		{arch.ARM64, le(0x14000002), "b 0x1008", true, ""},
		{arch.ARM64, le(0x54000040), "b.eq 0x1008", false, ""},
		{arch.ARM64, le(0xb4000040), "cbz x0, 0x1008", false, ""},
		{arch.ARM64, le(0xd61f0200), "br x16", true, ""},
		{arch.ARM64, le(0x94000000), "bl 0x1000", false, ""},
		{arch.ARM64, le(0xd63f0020), "blr x1", false, ""}, // the call reads x1
		{arch.ARM64, le(0xd65f03c0), "ret", true, ""},
		{arch.ARM64, le(0xd4207d00), "brk #0x3e8", true, ""},
		{arch.ARM64, le(0x00000000), "udf #0", true, ""},
	} {
		in, err := DecodeSyntax(tc.a, tc.code, 0x1000, SyntaxATT)
		if err != nil || in.Text != tc.text {
			t.Errorf("%s % x: %q, %v; want %q", tc.a.Name, tc.code, in.Text, err, tc.text)
			continue
		}
		if in.NoFallThrough != tc.noFall || in.Dest != tc.dest {
			t.Errorf("%s %s: NoFallThrough %v, Dest %q; want %v, %q", tc.a.Name, tc.text, in.NoFallThrough, in.Dest, tc.noFall, tc.dest)
		}
	}
}
