package arch

import (
	"encoding/binary"
	"reflect"
	"testing"
)

func halfwords(hs ...uint16) []byte {
	var b []byte
	for _, h := range hs {
		b = binary.LittleEndian.AppendUint16(b, h)
	}
	return b
}

func words32(ws ...uint32) []byte {
	var b []byte
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// The encodings are arm-linux-gnueabihf-as's (binutils 2.40) for the instructions named.
func TestARMPrologue(t *testing.T) {
	type save = PrologueSave
	for _, tc := range []struct {
		name  string
		code  []byte
		thumb bool
		size  uint64
		saved []save
		ok    bool
	}{
		{
			// push {r4, r5, r7, lr}; sub sp, #16; push.w {r4-r11, lr}; sub.w sp, sp, #256;
			// subw sp, sp, #291; vpush {d8-d9}; str.w r3, [sp, #-4]!; movs r0, #1;
			// bl; pop {r4, pc}; sub sp, #8 (after the pop: not counted).
			name: "thumb", thumb: true,
			code: halfwords(0xb5b0, 0xb084, 0xe92d, 0x4ff0, 0xf5ad, 0x7d80, 0xf2ad, 0x1d23, 0xed2d, 0x8b04,
				0xf84d, 0x3d04, 0x2001, 0xf7ff, 0xfff1, 0xbd10, 0xb082),
			size: 16 + 16 + 36 + 256 + 291 + 16 + 4,
			// The first save of a register holds the caller's value.
			saved: []save{{4, -16}, {5, -12}, {7, -8}, {14, -4}, {6, -60}, {8, -52}, {9, -48}, {10, -44}, {11, -40}, {3, -635}},
			ok:    true,
		},
		{
			// glibc 2.36 armhf abort: ldr r2, [pc, #312]; mrc 15, 0, r4, cr13, cr0, {3};
			// ldr r3, [pc, #312]; sub.w r4, r4, #1280; add r2, pc; ldr r0, [pc, #308];
			// push {r7, lr}; add r0, pc; ldr r3, [r2, r3]; sub sp, #144; ldr r3, [r3, #0].
			name: "thumb abort", thumb: true,
			code:  halfwords(0x4a4e, 0xee1d, 0x4f70, 0x4b4e, 0xf5a4, 0x64a0, 0x447a, 0x484d, 0xb580, 0x4478, 0x58d3, 0xb0a4, 0x681b),
			size:  8 + 144,
			saved: []save{{7, -8}, {14, -4}},
			ok:    true,
		},
		{
			// push {r4, fp, lr}; str r3, [sp, #-4]!; sub sp, sp, #1024; vpush {d8};
			// mov r0, #1; pop {r4, pc}; sub sp, sp, #8.
			name: "arm",
			code: words32(0xe92d4810, 0xe52d3004, 0xe24ddb01, 0xed2d8b02, 0xe3a00001, 0xe8bd8010, 0xe24dd008),
			size: 12 + 4 + 1024 + 8, saved: []save{{4, -12}, {11, -8}, {14, -4}, {3, -16}}, ok: true,
		},
		// A leaf: nothing pushed, the stack not moved.
		{name: "thumb leaf", thumb: true, code: halfwords(0x2001, 0x4770), ok: false},
		// A truncated 32-bit instruction at the end is ignored.
		{name: "thumb truncated", thumb: true, code: halfwords(0xb580, 0xe92d), size: 8, saved: []save{{7, -8}, {14, -4}}, ok: true},
	} {
		p, ok := armPrologue(tc.code, tc.thumb)
		if ok != tc.ok || ok && (p.Size != tc.size || !reflect.DeepEqual(p.Saved, tc.saved)) {
			t.Errorf("%s: %+v %v, want size %d saved %v %v", tc.name, p, ok, tc.size, tc.saved, tc.ok)
		}
	}
	for _, tc := range []struct{ imm12, want uint32 }{
		{0x0ab, 0xab}, {0x1ab, 0x00ab00ab}, {0x2ab, 0xab00ab00}, {0x3ab, 0xabababab}, {0xf80, 0x100}, {0x400, 0x80000000},
	} {
		if got := thumbExpandImm(tc.imm12); got != tc.want {
			t.Errorf("ThumbExpandImm(%#x) = %#x, want %#x", tc.imm12, got, tc.want)
		}
	}
}
