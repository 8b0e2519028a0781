package disasm

import (
	"encoding/binary"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// riscv64 instructions from riscv64-linux-gnu-objdump -d of gcc 12 builds (deref.c and
// Debian's libc), with the text objdump prints (absolute targets, psABI register names).
func TestRISCV64(t *testing.T) {
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	le16 := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	for _, tc := range []struct {
		code          []byte
		pc            uint64
		text          string
		call, br, ret bool
		target        uint64
		mem           *MemOperand
		dest          string
		noFall, trap  bool
	}{
		{le32(0x06053503), 0xa20, "ld a0,96(a0)", false, false, false, 0, &MemOperand{Base: "a0", Disp: 96, Size: 8, AddrSize: 64}, "a0", false, false},
		{le16(0x7128), 0xa96, "ld a0,96(a0)", false, false, false, 0, &MemOperand{Base: "a0", Disp: 96, Size: 8, AddrSize: 64}, "a0", false, false},
		{le16(0xe406), 0x100, "sd ra,8(sp)", false, false, false, 0, &MemOperand{Base: "sp", Disp: 8, Size: 8, Write: true, AddrSize: 64}, "", false, false},
		{le32(0xfd3ff0ef), 0x736, "jal 0x708", true, false, false, 0x708, nil, "", false, false},
		{le16(0x9782), 0x6a51a, "jalr a5", true, false, false, 0, nil, "", false, false},
		{le16(0x8082), 0x6a51c, "ret", false, false, true, 0, nil, "", true, false},
		{le16(0xbfe5), 0xa94, "j 0xa8c", false, true, false, 0xa8c, nil, "", true, false},
		{le32(0x14078363), 0x6a50e, "beqz a5,0x6a654", false, true, false, 0x6a654, nil, "", false, false},
		{le32(0x000e0367), 0x638, "jalr t1,0(t3)", false, true, false, 0, nil, "", false, false},
		{le16(0x9002), 0x10, "ebreak", false, false, false, 0, nil, "", true, true},
		{le32(0x08b00893), 0x20, "li a7,139", false, false, false, 0, nil, "a7", false, false},
	} {
		in, err := Decode(arch.RISCV64, tc.code, tc.pc)
		if err != nil {
			t.Errorf("% x: %v", tc.code, err)
			continue
		}
		if in.Text != tc.text || in.Len != len(tc.code) || in.IsCall != tc.call || in.IsBranch != tc.br || in.IsReturn != tc.ret ||
			in.Target != tc.target || in.Dest != tc.dest || in.NoFallThrough != tc.noFall || in.IsTrap != tc.trap {
			t.Errorf("% x: %+v", tc.code, in)
		}
		if tc.mem == nil && len(in.Mem) != 0 || tc.mem != nil && (len(in.Mem) != 1 || in.Mem[0] != *tc.mem) {
			t.Errorf("% x: memory operands %+v", tc.code, in.Mem)
		}
	}
	if !Supported(arch.RISCV64) {
		t.Error("riscv64 must be supported")
	}
	// A 4-byte instruction cut to 2 bytes is truncated, not misread.
	if _, err := Decode(arch.RISCV64, []byte{0x03, 0x35}, 0); err == nil {
		t.Error("a cut 4-byte instruction must not decode")
	}
	// The NULL+0x60 load: the address from a0 = 0.
	in, _ := Decode(arch.RISCV64, le16(0x7128), 0)
	if addr, err := EffectiveAddr(arch.RISCV64, in.Mem[0], func(n string) (uint64, bool) { return 0, n == "a0" }); err != nil || addr != 0x60 {
		t.Errorf("effective address %#x, %v", addr, err)
	}
}
