package diagnose

import (
	"testing"

	"github.com/coredig/coredig/internal/disasm"
)

// Operands as the explanation writes them, 32-bit ARM's subtracted and shifted indexes
// among them (the operands disasm decodes from "ldr r0, [r1, -r2]" and "str r1, [r2, r3,
// lsl #2]").
func TestOperandText(t *testing.T) {
	for _, tc := range []struct {
		op   disasm.MemOperand
		want string
	}{
		{disasm.MemOperand{Base: "rax", Disp: 0x60}, "rax+0x60"},
		{disasm.MemOperand{Base: "r11", Disp: -8}, "r11-0x8"},
		{disasm.MemOperand{Base: "r1", Index: "r2", Scale: -1}, "r1-r2"},
		{disasm.MemOperand{Base: "r2", Index: "r3", Scale: 4}, "r2+r3*4"},
		{disasm.MemOperand{Base: "r1", Index: "r2", Scale: -4}, "r1-r2*4"},
		{disasm.MemOperand{Base: "r13", Disp: 20, PostIndex: true}, "r13"},
	} {
		if got := operandText(tc.op); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.op, got, tc.want)
		}
	}
}
