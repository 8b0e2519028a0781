package disasm

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// Calls, branches, returns and traps of A32 (objdump's bytes, as TestARMMemOperands),
// Go's return "add pc, lr, #0" and epilogue "ldr pc, [sp], #20" among them.
func TestARMFlow(t *testing.T) {
	for _, tc := range []struct {
		hex, text                     string
		pc, target                    uint64
		call, branch, ret, trap, stop bool
	}{
		{hex: "00 f0 8e e2", text: "add pc, lr, #0", ret: true, stop: true},
		{hex: "14 f0 9d e4", text: "ldr pc, [sp], #20", ret: true, stop: true},
		{hex: "30 88 bd e8", text: "pop {r4, r5, fp, pc}", ret: true, stop: true},
		{hex: "1e ff 2f e1", text: "bx lr", ret: true, stop: true},
		{hex: "d6 ff ff eb", text: "bl 0x1000", pc: 0x10a0, target: 0x1000, call: true},
		{hex: "33 ff 2f e1", text: "blx r3", call: true},
		{hex: "d4 ff ff 0a", text: "beq 0x1000", pc: 0x10a8, target: 0x1000, branch: true},
		{hex: "d3 ff ff ea", text: "b 0x1000", pc: 0x10ac, target: 0x1000, branch: true, stop: true},
		{hex: "f0 00 f0 e7", text: "udf #0", trap: true, stop: true},
		{hex: "71 00 20 e1", text: "bkpt 0x0001", trap: true, stop: true},
		{hex: "00 f0 20 e3", text: "nop {0}"},
	} {
		code, _ := hex.DecodeString(strings.ReplaceAll(tc.hex, " ", ""))
		pc := tc.pc
		if pc == 0 {
			pc = 0x1000
		}
		in, err := DecodeMode(arch.ARM, code, pc, SyntaxDefault, ModeARM)
		if err != nil {
			t.Fatalf("%s: %v", tc.hex, err)
		}
		if in.Text != tc.text || in.Target != tc.target || in.IsCall != tc.call || in.IsBranch != tc.branch ||
			in.IsReturn != tc.ret || in.IsTrap != tc.trap || in.NoFallThrough != tc.stop {
			t.Errorf("%s: %q target %#x call %v branch %v ret %v trap %v stop %v, want %+v", tc.hex, in.Text, in.Target,
				in.IsCall, in.IsBranch, in.IsReturn, in.IsTrap, in.NoFallThrough, tc)
		}
	}
}

// 32-bit ARM code is decoded only when something says which instruction set it is: code
// of no known instruction set is refused plainly, in Decode and in Window alike, while
// the same bytes as Thumb decode.
func TestARMModes(t *testing.T) {
	code := []byte{0x1b, 0x6e, 0x18, 0x46} // deref.c's Thumb-2 "ldr r3, [r3, #96]; mov r0, r3"
	if _, err := Decode(arch.ARM, code, 0x4000079e); !errors.Is(err, ErrModeUnknown) {
		t.Errorf("default mode: %v, want ErrModeUnknown", err)
	}
	if in, err := DecodeMode(arch.ARM, code, 0x4000079e, SyntaxDefault, ModeThumb); err != nil || in.Text != "ldr r3, [r3, #96]" || in.Len != 2 {
		t.Errorf("Thumb: %q %d %v", in.Text, in.Len, err)
	}
	if in, err := DecodeMode(arch.AMD64, []byte{0x48, 0x8b, 0x50, 0x60}, 0x1000, SyntaxDefault, ModeThumb); err != nil || in.Text != "mov 0x60(%rax),%rdx" {
		t.Errorf("x86_64 ignores the mode: %q %v", in.Text, err)
	}
	mem := memBytes{0x4000079e, code}
	lines, err := WindowWith(arch.ARM, mem, 0x4000079e, WindowConfig{Before: 2, After: 2, Mode: ModeThumb})
	if err != nil || len(lines) != 2 || lines[0].Text != "ldr r3, [r3, #96]" || !lines[0].Current || lines[1].Text != "mov r0, r3" {
		t.Errorf("Thumb window: %+v %v", lines, err)
	}
	if _, err = WindowWith(arch.ARM, mem, 0x4000079e, WindowConfig{Before: 2, After: 2}); !errors.Is(err, ErrModeUnknown) {
		t.Errorf("window of unknown mode: %v", err)
	}
	// deref.c -O0 -marm's deref, at 0x400007f0 in its qemu-arm core.
	a32, _ := hex.DecodeString("04b02de500b08de20cd04de208000be508301be5603093e50300a0e100d08be204b09de41eff2fe1")
	lines, err = WindowWith(arch.ARM, memBytes{0x400007f0, a32}, 0x40000804, WindowConfig{Before: 2, After: 1, Mode: ModeARM})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, strings.Join(strings.Fields(l.String()), " "))
	}
	want := []string{"0x400007fc 08 00 0b e5 str r0, [fp, #-8]", "0x40000800 08 30 1b e5 ldr r3, [fp, #-8]",
		"=> 0x40000804 60 30 93 e5 ldr r3, [r3, #96]", "0x40000808 03 00 a0 e1 mov r0, r3"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("window\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tc := range []struct {
		cpsr uint64
		want Mode
	}{{0x600c0010, ModeARM}, {0x600c0030, ModeThumb}} {
		if m := ThreadMode(arch.ARM, func(n string) (uint64, bool) { return tc.cpsr, n == "cpsr" }); m != tc.want {
			t.Errorf("cpsr %#x: %v, want %v", tc.cpsr, m, tc.want)
		}
	}
	if m := ThreadMode(arch.ARM, func(string) (uint64, bool) { return 0, false }); m != ModeDefault {
		t.Errorf("no cpsr: %v", m)
	}
	if SymbolMode(arch.ARM, 1) != ModeThumb || SymbolMode(arch.ARM, 0) != ModeARM || SymbolMode(arch.ARM64, 1) != ModeDefault {
		t.Error("SymbolMode")
	}
	if MappingMode("$a") != ModeARM || MappingMode("$t.x") != ModeThumb || MappingMode("$d") != ModeData || MappingMode("main") != ModeDefault {
		t.Error("MappingMode")
	}
	// A literal pool ($d) inside an A32 window: words, as objdump shows them.
	lines, err = WindowWith(arch.ARM, memBytes{0x400007ec, append([]byte{0x9c, 0x18, 0, 0}, a32...)}, 0x400007f4,
		WindowConfig{Before: 2, After: 0, Mode: ModeARM, ModeAt: func(pc uint64) Mode {
			if pc < 0x400007f0 {
				return ModeData
			}
			return ModeARM
		}})
	if err != nil || len(lines) != 3 || lines[0].Text != ".word 0x0000189c" || lines[1].Text != "push {fp}" || lines[2].Text != "add fp, sp, #0" {
		t.Errorf("window with a literal pool: %v %+v", err, lines)
	}
}
