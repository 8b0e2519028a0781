package disasm

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// first decodes the first instruction of fn whose mnemonic is mn.
func first(t *testing.T, a *arch.Arch, b *built, fn, mn string) Inst {
	t.Helper()
	code, addr := b.code(t, fn)
	for off := 0; off < len(code); {
		in, err := Decode(a, code[off:], addr+uint64(off))
		if err != nil {
			t.Fatalf("%s+%#x: %v", fn, off, err)
		}
		if in.Mnemonic == mn {
			return in
		}
		off += in.Len
	}
	t.Fatalf("%s: no %s instruction", fn, mn)
	return Inst{}
}

func regsOf(m map[string]uint64) func(string) (uint64, bool) {
	return func(n string) (uint64, bool) { v, ok := m[n]; return v, ok }
}

func TestX86Semantics(t *testing.T) {
	b := compile(t, "gcc", "-O2")
	a := arch.AMD64

	in := first(t, a, b, "deref", "mov")
	if in.Text != "mov 0x60(%rdi),%rax" || len(in.Mem) != 1 {
		t.Fatalf("deref: %q %+v", in.Text, in.Mem)
	}
	m := in.Mem[0]
	if m.Base != "rdi" || m.Disp != 0x60 || m.Size != 8 || m.Write || m.Index != "" {
		t.Errorf("deref operand %+v", m)
	}
	if ea, err := EffectiveAddr(arch.AMD64, m, regsOf(map[string]uint64{"rdi": 0})); err != nil || ea != 0x60 {
		t.Errorf("deref EA = %#x, %v; want 0x60", ea, err)
	}
	var re *RegisterError
	if _, err := EffectiveAddr(arch.AMD64, m, regsOf(nil)); !errors.As(err, &re) || re.Name != "rdi" {
		t.Errorf("missing register error = %v", err)
	}

	in = first(t, a, b, "store", "mov")
	if m := in.Mem[0]; !m.Write || m.Size != 8 || m.Disp != 0x60 || m.Base != "rdi" {
		t.Errorf("store operand %+v", m)
	}

	in = first(t, a, b, "indexed", "mov")
	m = in.Mem[0]
	if m.Base != "rdi" || m.Index != "rsi" || m.Scale != 4 || m.Disp != 0x68 || m.Size != 4 {
		t.Errorf("indexed operand %+v", m)
	}
	if ea, _ := EffectiveAddr(arch.AMD64, m, regsOf(map[string]uint64{"rdi": 0x1000, "rsi": 3})); ea != 0x1000+0x68+12 {
		t.Errorf("indexed EA %#x", ea)
	}

	in = first(t, a, b, "tls", "mov")
	m = in.Mem[0]
	if m.Segment != "fs" || m.Disp != -8 || m.Base != "" {
		t.Errorf("tls operand %+v (%s)", m, in.Text)
	}
	if ea, _ := EffectiveAddr(arch.AMD64, m, regsOf(map[string]uint64{"fs_base": 0x7f0000001000})); ea != 0x7f0000000ff8 {
		t.Errorf("tls EA %#x", ea)
	}

	in = first(t, a, b, "trap", "ud2")
	if !in.IsTrap || in.Text != "ud2" || in.Len != 2 {
		t.Errorf("trap: %+v", in)
	}
	in = first(t, a, b, "divide", "idiv")
	if len(in.RegArgs) != 1 || in.RegArgs[0] != "rsi" {
		t.Errorf("idiv operands %v", in.RegArgs)
	}
	in = first(t, a, b, "calls", "call")
	if !in.IsCall || in.Target != b.syms["deref"].Value {
		t.Errorf("call target %#x, deref at %#x", in.Target, b.syms["deref"].Value)
	}
	if len(in.Mem) != 1 || !in.Mem[0].Implicit || !in.Mem[0].Write || in.Mem[0].Disp != -8 {
		t.Errorf("call stack write %+v", in.Mem)
	}
	in = first(t, a, b, "deref", "ret")
	if !in.IsReturn || in.Mem[0].Base != "rsp" || in.Mem[0].Write {
		t.Errorf("ret %+v", in)
	}
	in, err := DecodeSyntax(a, []byte{0x48, 0x8b, 0x50, 0x60}, 0x1000, SyntaxIntel)
	if err != nil || in.Text != "mov rdx, qword ptr [rax+0x60]" {
		t.Errorf("intel: %q %v", in.Text, err)
	}
}

func TestX86HandEncoded(t *testing.T) {
	a := arch.AMD64
	for _, tc := range []struct {
		code []byte
		text string
		ea   uint64
		size int
	}{
		// mov 0x60(%rax),%rdx: the incident's instruction.
		{[]byte{0x48, 0x8b, 0x50, 0x60}, "mov 0x60(%rax),%rdx", 0xffffffff_00000060, 8},
		// mov 0x10(%eax),%edx with the 0x67 address-size prefix: 32-bit wrap.
		{[]byte{0x67, 0x8b, 0x50, 0x10}, "mov 0x10(%eax),%edx", 0x10, 4},
		// lea is not an access; movl $0x1,0x2f(%rip) writes 4 bytes at next pc + 0x2f.
		{[]byte{0xc7, 0x05, 0x2f, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}, "movl $0x1,0x2f(%rip)", 0x1000 + 10 + 0x2f, 4},
	} {
		in, err := Decode(a, tc.code, 0x1000)
		if err != nil || in.Text != tc.text || len(in.Mem) != 1 {
			t.Errorf("% x: %q %+v %v", tc.code, in.Text, in.Mem, err)
			continue
		}
		ea, err := EffectiveAddr(arch.AMD64, in.Mem[0], regsOf(map[string]uint64{"rax": 0xffffffff_00000000}))
		if err != nil || ea != tc.ea || in.Mem[0].Size != tc.size {
			t.Errorf("%s: EA %#x size %d, want %#x %d (%v)", tc.text, ea, in.Mem[0].Size, tc.ea, tc.size, err)
		}
	}
	if in, _ := Decode(a, []byte{0x48, 0x8d, 0x44, 0x24, 0x08}, 0); len(in.Mem) != 0 {
		t.Errorf("lea reports an access: %+v", in.Mem)
	}
	if in, _ := Decode(a, []byte{0xcc}, 0); !in.IsTrap || in.Text != "int3" {
		t.Errorf("int3: %+v", in)
	}
	var de *DecodeError
	if _, err := Decode(a, []byte{0x48, 0x8b}, 0x40); !errors.As(err, &de) || de.PC != 0x40 || !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated: %v", err)
	}
}

func TestARM64Semantics(t *testing.T) {
	a := arch.ARM64
	b := compile(t, "aarch64-linux-gnu-gcc", "-O2")
	in := first(t, a, b, "deref", "ldr")
	if in.Text != "ldr x0, [x0, #96]" || in.Mem[0].Base != "x0" || in.Mem[0].Disp != 96 || in.Mem[0].Size != 8 {
		t.Errorf("deref: %q %+v", in.Text, in.Mem)
	}
	in = first(t, a, b, "store", "str")
	if !in.Mem[0].Write || in.Mem[0].Disp != 96 {
		t.Errorf("store %+v", in.Mem)
	}
	in = first(t, a, b, "sw", "ldr")
	m := in.Mem[0]
	if in.Text != "ldr w0, [x1, w0, uxtw #2]" || m.Index != "w0" || m.Extend != "uxtw" || m.Scale != 4 || m.Size != 4 {
		t.Errorf("sw: %q %+v", in.Text, m)
	}
	if ea, _ := EffectiveAddr(arch.ARM64, m, regsOf(map[string]uint64{"x1": 0x4000, "x0": 0xffffffff_00000003})); ea != 0x4000+12 {
		t.Errorf("uxtw EA %#x", ea)
	}
	in = first(t, a, b, "calls", "stp")
	m = in.Mem[0]
	if !m.PreIndex || m.Disp != -16 && m.Disp != -32 && m.Disp != -48 || m.Size != 16 || !m.Write || m.Base != "sp" {
		t.Errorf("stp %q %+v", in.Text, m)
	}
	if ea, _ := EffectiveAddr(arch.ARM64, m, regsOf(map[string]uint64{"sp": 0x8000})); ea != uint64(0x8000+m.Disp) {
		t.Errorf("pre-index EA %#x", ea)
	}
	in = first(t, a, b, "calls", "ldp")
	if m := in.Mem[0]; !m.PostIndex || m.Size != 16 || m.Write {
		t.Errorf("ldp %q %+v", in.Text, m)
	} else if ea, _ := EffectiveAddr(arch.ARM64, m, regsOf(map[string]uint64{"sp": 0x8000})); ea != 0x8000 {
		t.Errorf("post-index EA %#x", ea)
	}
	in = first(t, a, b, "trap", "brk")
	if !in.IsTrap || in.Text != "brk #0x3e8" {
		t.Errorf("brk %+v", in)
	}
	in = first(t, a, b, "calls", "bl")
	if !in.IsCall || in.Target != b.syms["deref"].Value {
		t.Errorf("bl target %#x want %#x", in.Target, b.syms["deref"].Value)
	}
}

func TestARM64HandEncoded(t *testing.T) {
	a := arch.ARM64
	for _, tc := range []struct {
		enc  uint32
		text string
		ea   uint64
		size int
	}{
		{0xf8627820, "ldr x0, [x1, x2, lsl #3]", 0x1000 + 8*0x10, 8}, // register offset, shifted
		{0xb862d820, "ldr w0, [x1, w2, sxtw #2]", 0x1000 - 8, 4},     // sign-extended w2 = -2
		{0x39400020, "ldrb w0, [x1]", 0x1000, 1},                     // byte load
		{0xf9003020, "str x0, [x1, #96]", 0x1060, 8},                 // store
		{0x58000040, "ldr x0, 0x2008", 0x2008, 8},                    // literal at pc+8
		{0x00000000, "udf #0", 0, 0},                                 // permanently undefined
	} {
		code := []byte{byte(tc.enc), byte(tc.enc >> 8), byte(tc.enc >> 16), byte(tc.enc >> 24)}
		in, err := Decode(a, code, 0x2000)
		if err != nil || in.Text != tc.text {
			t.Errorf("%#08x: %q, %v; want %q", tc.enc, in.Text, err, tc.text)
			continue
		}
		if tc.size == 0 {
			if !in.IsTrap || len(in.Mem) != 0 {
				t.Errorf("%s: %+v", tc.text, in)
			}
			continue
		}
		ea, err := EffectiveAddr(arch.ARM64, in.Mem[0], regsOf(map[string]uint64{"x1": 0x1000, "x2": 0xfffffffe_00000010&^0xffffffff_00000000 | 0x10}))
		if tc.text == "ldr w0, [x1, w2, sxtw #2]" {
			ea, err = EffectiveAddr(arch.ARM64, in.Mem[0], regsOf(map[string]uint64{"x1": 0x1000, "x2": 0x12345678_fffffffe}))
		}
		if err != nil || ea != tc.ea || in.Mem[0].Size != tc.size {
			t.Errorf("%s: EA %#x size %d (%v), want %#x %d", tc.text, ea, in.Mem[0].Size, err, tc.ea, tc.size)
		}
	}
}

type memBytes struct {
	base uint64
	b    []byte
}

func (m memBytes) ReadAt(p []byte, addr uint64) (int, error) {
	if addr < m.base || addr >= m.base+uint64(len(m.b)) {
		return 0, fmt.Errorf("unmapped %#x", addr)
	}
	n := copy(p, m.b[addr-m.base:])
	if n < len(p) {
		return n, fmt.Errorf("short")
	}
	return n, nil
}

func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		cc string
		a  *arch.Arch
	}{{"gcc", arch.AMD64}, {"aarch64-linux-gnu-gcc", arch.ARM64}} {
		b := compile(t, tc.cc, "-O0")
		text := b.file.Section(".text")
		data, _ := text.Data()
		mem := memBytes{text.Addr, data}
		fn := b.syms["calls"]
		call := first(t, tc.a, b, "calls", map[bool]string{true: "call", false: "bl"}[tc.a == arch.AMD64])
		pc := call.PC + uint64(call.Len) // the return address: the classic window centre
		sym := func(addr uint64) string {
			for name, s := range b.syms {
				if addr >= s.Value && addr < s.Value+s.Size {
					return fmt.Sprintf("%s+%#x", name, addr-s.Value)
				}
			}
			return ""
		}
		for _, start := range []uint64{0, fn.Value} {
			lines, err := WindowWith(tc.a, mem, pc, WindowConfig{Before: 3, After: 2, FuncStart: start, Symbolize: sym})
			if err != nil || len(lines) != 6 {
				t.Fatalf("%s start %#x: %d lines, %v", tc.a.Name, start, len(lines), err)
			}
			if !lines[3].Current || lines[3].PC != pc || lines[2].PC != call.PC || lines[2].TargetName != "deref+0x0" {
				t.Errorf("%s start %#x: window %+v", tc.a.Name, start, lines)
			}
			if s := lines[2].String(); !strings.HasPrefix(s, "   0x") || !strings.HasSuffix(s, " <deref+0x0>") {
				t.Errorf("call line renders as %q", s)
			}
			if s := lines[3].String(); !strings.HasPrefix(s, "=> ") {
				t.Errorf("current line renders as %q", s)
			}
			for i := 1; i < len(lines); i++ {
				if lines[i].Err != nil || lines[i-1].PC+uint64(lines[i-1].Len) != lines[i].PC {
					t.Errorf("%s: line %d not contiguous: %+v", tc.a.Name, i, lines[i])
				}
			}
		}
	}
}
