package origin

import (
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/dwarfvar"
)

// FuzzSearch runs the backward search through an arbitrary function body on both
// architectures, for an access through each argument register (the return register where
// the psABI passes none in registers), with a caller frame:
// it must never panic and must stay within its bounds, answering or saying why not.
func FuzzSearch(f *testing.F) {
	f.Add(code([]byte{0x48, 0x8b, 0x45, 0xf8}, []byte{0x48, 0x8b, 0x40, 0x60}), uint8(0))                       // mov -0x8(%rbp),%rax; mov 0x60(%rax),%rax
	f.Add(code([]byte{0x48, 0x8b, 0x05, 0x10, 0, 0, 0}, []byte{0x48, 0x8b, 0x78, 0x08}), uint8(1))              // mov g@got(%rip),%rax
	f.Add(a64(0x90000080, 0xf9400000, 0xf9403000), uint8(2))                                                    // adrp; ldr; ldr
	f.Add(code([]byte{0xeb, 0xfe}, []byte{0x48, 0x89, 0xf8}, []byte{0xc3}, []byte{0x48, 0x8b, 0x00}), uint8(3)) // a loop, a copy, a ret
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		if len(body) > 1<<12 {
			return
		}
		const fn = 0x401000
		for _, a := range arch.All {
			p := &fakeProgram{
				mem:   map[uint64][]byte{fn: body, 0x7ffe0000: make([]byte, 0x2000)},
				funcs: []fakeFunc{{name: "f", start: fn, end: fn + uint64(len(body)) + 1}, {name: "caller", start: 0x402000, end: 0x403000}},
				data:  map[uint64]string{fn + 0x20: "g@got", fn + 0x40: "g"},
				scopes: map[uint64]*dwarfvar.Scope{fn + uint64(len(body)): {FrameBase: []byte{0x9c},
					Vars: []dwarfvar.Var{{Name: "p", Type: tIntPtr, Expr: []byte{0x91, 0x70}}}}},
				globals: map[string]*dwarfvar.Var{"g": {Name: "g", Type: tIntPtr}},
			}
			args := a.ABI.Args
			if len(args) == 0 { // i386 passes arguments on the stack
				args = []string{a.ABI.Return}
			}
			reg := args[int(which)%len(args)]
			regs := map[string]uint64{reg: 0, a.RegNames[a.SP]: 0x7ffe1000}
			if a.FP >= 0 {
				regs[a.RegNames[a.FP]] = 0x7ffe1010
			}
			s := &Search{Arch: a, Prog: p, Frames: []Frame{
				{PC: fn + uint64(len(body)), Regs: regs, CFA: 0x7ffe1020},
				{PC: 0x402010, ReturnAddress: true, Regs: regs, CFA: 0x7ffe1100},
			}}
			acc, err := s.Access(fn+uint64(len(body)), disasm.MemOperand{Base: reg, Disp: int64(which)}, regs, 0x7ffe1020)
			if (acc == nil) == (err == nil) {
				t.Fatalf("%s: access %+v with error %v", a.Name, acc, err)
			}
		}
	})
}
