package origin

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/dwarfvar"
)

// The backward search's control flow on hand-made x86_64 code: the one predecessor
// across a branch, padding after a jump skipped, two paths refused, a loop stopped.
func TestWalkPredecessors(t *testing.T) {
	s := &Search{Arch: arch.AMD64}
	mov := func(pc uint64, dst string) disasm.Inst {
		return disasm.Inst{PC: pc, Len: 3, Mnemonic: "mov", Text: "mov $1,%" + dst, RegArgs: []string{dst}, Dest: dst}
	}
	jmp := func(pc, target uint64, mnem string) disasm.Inst {
		return disasm.Inst{PC: pc, Len: 2, Mnemonic: mnem, Text: mnem, IsBranch: true, Target: target, NoFallThrough: mnem == "jmp"}
	}
	nop := disasm.Inst{PC: 0x106, Len: 1, Mnemonic: "nop", Text: "nop"}
	// 0x100 mov rbx; 0x103 je 0x107; 0x105 (jmp 0x110); 0x106 nop (padding); 0x107 mov rdi
	insts := []disasm.Inst{mov(0x100, "rbx"), jmp(0x103, 0x107, "je"), jmp(0x105, 0x110, "jmp"), nop, mov(0x107, "rdi")}
	w := s.newWalk(insts, nil, nil, 0, nil, 0)
	if p, err := w.pred(4); err != nil || p != 1 {
		t.Errorf("pred of 0x107 = %d, %v; want the je (1): the padding after the jmp never runs", p, err)
	}
	if p, err := w.pred(0); err != nil || p != -1 {
		t.Errorf("pred of the entry = %d, %v", p, err)
	}
	// A second branch to 0x107 from 0x100's successor: two paths.
	insts2 := []disasm.Inst{mov(0x100, "rbx"), jmp(0x103, 0x107, "je"), jmp(0x105, 0x107, "jne"), mov(0x107, "rdi")}
	w = s.newWalk(insts2, nil, nil, 0, nil, 0)
	if _, err := w.pred(3); err == nil {
		t.Error("two paths into 0x107 were not refused")
	} else if err.Error() != "set on more than one path" {
		t.Errorf("two paths: %v", err)
	}
	// A cycle that no path enters (after a ret): each step has one predecessor, round
	// and round; the search must stop.
	ret := disasm.Inst{PC: 0x100, Len: 2, Mnemonic: "ret", Text: "ret", IsReturn: true, NoFallThrough: true}
	loop := []disasm.Inst{ret, mov(0x102, "rax"), jmp(0x105, 0x102, "jmp")}
	w = s.newWalk(loop, nil, nil, 0, nil, 0)
	if v := w.trace(1, "rdi", 0); v.present || v.how != "set inside a loop" {
		t.Errorf("trace in a loop = %+v", v)
	}
	// Straight code: the register is an argument never set.
	w = s.newWalk(insts[:2], nil, nil, 0, nil, 0)
	if v := w.trace(2, "rdi", 0); v.arg != 1 {
		t.Errorf("rdi at the top of a function = %+v, want argument 1", v)
	}
	if v := w.trace(2, "rdi", 0); v.how != "not set in this function: argument 1, passed in rdi by the caller" {
		t.Errorf("rdi at the top of a function: how %q", v.how)
	}
	if v := w.trace(2, "r10", 0); v.arg != 0 || v.how != "not set in this function before the fault" {
		t.Errorf("r10 at the top of a function = %+v", v)
	}
}

// Hand-made C types, as debug/dwarf would read them.
var (
	tInt  = &dwarf.IntType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 4, Name: "int"}}}
	tLong = &dwarf.IntType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 8, Name: "long int"}}}
	// struct range { long lo, hi; }; struct range limits[4];
	tRange = &dwarf.StructType{CommonType: dwarf.CommonType{ByteSize: 16}, StructName: "range", Kind: "struct",
		Field: []*dwarf.StructField{{Name: "lo", Type: tLong, ByteOffset: 0}, {Name: "hi", Type: tLong, ByteOffset: 8}}}
	tLimits = &dwarf.ArrayType{CommonType: dwarf.CommonType{ByteSize: 64}, Type: tRange, Count: 4}
	// struct handler { int tripped; long count; };
	// struct signal_state { int depth; struct handler handlers[8]; };
	tHandler = &dwarf.StructType{CommonType: dwarf.CommonType{ByteSize: 16}, StructName: "handler", Kind: "struct",
		Field: []*dwarf.StructField{{Name: "tripped", Type: tInt, ByteOffset: 0}, {Name: "count", Type: tLong, ByteOffset: 8}}}
	tSignals = &dwarf.StructType{CommonType: dwarf.CommonType{ByteSize: 136}, StructName: "signal_state", Kind: "struct",
		Field: []*dwarf.StructField{{Name: "depth", Type: tInt, ByteOffset: 0},
			{Name: "handlers", Type: &dwarf.ArrayType{CommonType: dwarf.CommonType{ByteSize: 128}, Type: tHandler, Count: 8}, ByteOffset: 8}}}
	tSignalsPtr = ptrTo(tSignals)
	tIntPtr     = ptrTo(tInt)
	// struct node { long v; struct node *next; };
	tNode    = &dwarf.StructType{CommonType: dwarf.CommonType{ByteSize: 16}, StructName: "node", Kind: "struct"}
	tNodePtr = ptrTo(tNode)
)

func init() {
	tNode.Field = []*dwarf.StructField{{Name: "v", Type: tLong, ByteOffset: 0}, {Name: "next", Type: tNodePtr, ByteOffset: 8}}
}

func ptrTo(t dwarf.Type) *dwarf.PtrType {
	return &dwarf.PtrType{CommonType: dwarf.CommonType{ByteSize: 8}, Type: t}
}

func TestDescribe(t *testing.T) {
	signals := &dwarfvar.Var{Name: "runtime_signals", Type: tSignalsPtr}
	limits := &dwarfvar.Var{Name: "limits", Type: tLimits}
	for _, tc := range []struct {
		val  value
		disp int64
		want Access
		err  string
	}{
		{value{v: signals, how: "h"}, 8 + 6*16, Access{Pointer: "runtime_signals", Type: "struct signal_state *", Expr: "runtime_signals->handlers[6].tripped", How: "h"}, ""},
		{value{v: signals, how: "h"}, 8 + 6*16 + 8, Access{Pointer: "runtime_signals", Type: "struct signal_state *", Expr: "runtime_signals->handlers[6].count", How: "h"}, ""},
		{value{v: &dwarfvar.Var{Name: "ptr", Type: tIntPtr}, how: "h"}, 0, Access{Pointer: "ptr", Type: "int *", Expr: "*ptr", How: "h"}, ""},
		{value{v: &dwarfvar.Var{Name: "n", Type: tNodePtr}}, 8, Access{Pointer: "n", Type: "struct node *", Expr: "n->next"}, ""},
		{value{v: &dwarfvar.Var{Name: "a", Type: ptrTo(tLimits)}}, 16, Access{Pointer: "a", Type: "struct range [4] *", Expr: "a[1].lo"}, ""},
		{value{v: limits, addrOf: true, how: "h"}, 2*16 + 8, Access{Pointer: "&limits", Type: "struct range [4] *", Expr: "limits[2].hi", How: "h"}, ""},
		{value{v: limits, addrOf: true}, 64, Access{}, "offset 0x40 is outside limits"},
		{value{v: &dwarfvar.Var{Name: "ptr", Type: tIntPtr}}, 12, Access{}, "offset 0xc is outside int"},
		{value{v: &dwarfvar.Var{Name: "x", Type: tLong}}, 0, Access{}, "x is not a pointer (long int)"},
	} {
		got, err := describe(tc.val, tc.disp)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err || got != nil {
				t.Errorf("%s%+d: %+v, %v; want error %q", tc.val.v.Name, tc.disp, got, err, tc.err)
			}
			continue
		}
		if err != nil || *got != tc.want {
			t.Errorf("%s%+d: %+v, %v; want %+v", tc.val.v.Name, tc.disp, got, err, tc.want)
		}
	}
}

func TestVarInRegisterAt(t *testing.T) {
	sc := &dwarfvar.Scope{Vars: []dwarfvar.Var{
		{Name: "slot", Type: tLong, Expr: []byte{0x91, 0x6c}}, // DW_OP_fbreg -20
		{Name: "untyped", Expr: []byte{0x55}},                 // DW_OP_reg5 without a type: skipped
		{Name: "p", Type: tIntPtr, Expr: []byte{0x55}},        // DW_OP_reg5 (x86_64 rdi, aarch64 x5)
		{Name: "n", Type: tNodePtr, Expr: []byte{0x90, 0x0c}}, // DW_OP_regx 12 (r12, x12)
		{Name: "q", Type: tIntPtr, Expr: []byte{0x53, 0x9f}},  // DW_OP_reg3 DW_OP_stack_value: not just a register
		{Name: "x19", Type: tIntPtr, Expr: []byte{0x50 + 19}}, // DW_OP_reg19 (aarch64 x19)
		{Name: "gone", Type: tIntPtr},                         // optimized out
	}}
	for _, tc := range []struct {
		a    *arch.Arch
		reg  string
		want string
	}{
		{arch.AMD64, "rdi", "p"}, {arch.AMD64, "r12", "n"}, {arch.AMD64, "rbx", ""}, {arch.AMD64, "edi", ""},
		{arch.AMD64, "rax", ""}, {arch.ARM64, "x5", "p"}, {arch.ARM64, "x12", "n"}, {arch.ARM64, "x19", "x19"},
		{arch.ARM64, "x3", ""},
	} {
		got := ""
		if v := varInRegisterAt(tc.a, sc, tc.reg); v != nil {
			got = v.Name
		}
		if got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.a.Name, tc.reg, got, tc.want)
		}
	}
	if v := varInRegisterAt(arch.AMD64, nil, "rdi"); v != nil {
		t.Errorf("no scope: %+v", v)
	}
}

func TestFrameBase(t *testing.T) {
	regs := map[string]uint64{"rbp": 0x7ffe0ff0, "rsp": 0x7ffe0fc0, "x29": 0x7fff0010}
	for _, tc := range []struct {
		name string
		a    *arch.Arch
		fb   []byte
		cfa  uint64
		want uint64
		ok   bool
	}{
		{"call_frame_cfa", arch.AMD64, []byte{0x9c}, 0x7ffe1000, 0x7ffe1000, true},
		{"call_frame_cfa unknown", arch.AMD64, []byte{0x9c}, 0, 0, false},
		{"breg6 +16 (rbp)", arch.AMD64, []byte{0x76, 0x10}, 0, 0x7ffe1000, true},
		{"breg7 -8 (rsp)", arch.AMD64, []byte{0x77, 0x78}, 0, 0x7ffe0fb8, true},
		{"breg29 +0 (x29)", arch.ARM64, []byte{0x70 + 29, 0x00}, 0, 0x7fff0010, true},
		{"reg6 (rbp)", arch.AMD64, []byte{0x56}, 0, 0x7ffe0ff0, true},
		{"breg3 (rbx) not known in the frame", arch.AMD64, []byte{0x73, 0x00}, 0, 0, false},
		{"breg17 (xmm0) not a general register", arch.AMD64, []byte{0x70 + 17, 0x00}, 0, 0, false},
		{"breg6 with trailing bytes", arch.AMD64, []byte{0x76, 0x10, 0x06}, 0, 0, false},
		{"breg6 offset cut off", arch.AMD64, []byte{0x76, 0x80}, 0, 0, false},
		{"empty", arch.AMD64, nil, 0x7ffe1000, 0, false},
	} {
		got, ok := frameBase(tc.a, tc.fb, tc.cfa, regs)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %#x, %v; want %#x, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSlotVariable(t *testing.T) {
	sc := &dwarfvar.Scope{FrameBase: []byte{0x9c}, Vars: []dwarfvar.Var{
		{Name: "reg", Type: tIntPtr, Expr: []byte{0x55}},        // DW_OP_reg5: no slot
		{Name: "untyped", Expr: []byte{0x91, 0x58}},             // DW_OP_fbreg -40 without a type: skipped
		{Name: "p", Type: tNodePtr, Expr: []byte{0x91, 0x58}},   // DW_OP_fbreg -40
		{Name: "i", Type: tInt, Expr: []byte{0x91, 0x6c}},       // DW_OP_fbreg -20
		{Name: "junk", Type: tInt, Expr: []byte{0x91, 0x50, 0}}, // DW_OP_fbreg -48, trailing byte: skipped
	}}
	const cfa = 0x7ffe1000
	for _, tc := range []struct {
		addr uint64
		want string
	}{{cfa - 40, "p"}, {cfa - 20, "i"}, {cfa - 48, ""}, {cfa - 8, ""}} {
		got := ""
		if v := slotVariable(arch.AMD64, sc, tc.addr, cfa, nil); v != nil {
			got = v.Name
		}
		if got != tc.want {
			t.Errorf("slot cfa-%d: %q, want %q", cfa-tc.addr, got, tc.want)
		}
	}
	if v := slotVariable(arch.AMD64, sc, cfa-40, 0, nil); v != nil {
		t.Errorf("no CFA: %s", v.Name)
	}
	// The same slot from a frame base of rbp+16.
	sc.FrameBase = []byte{0x76, 0x10}
	if v := slotVariable(arch.AMD64, sc, cfa-40, 0, map[string]uint64{"rbp": cfa - 16}); v == nil || v.Name != "p" {
		t.Errorf("rbp frame base: %+v", v)
	}
	if v := slotVariable(arch.AMD64, nil, cfa-40, cfa, nil); v != nil {
		t.Errorf("no scope: %+v", v)
	}
}

func TestImmediateAndLoad(t *testing.T) {
	for _, tc := range []struct {
		text string
		v    uint64
		ok   bool
	}{{"add x0, x0, #0x40", 0x40, true}, {"add x1, x1, #16", 16, true}, {"add %rbx,%rax", 0, false}, {"add x0, x0, #zz", 0, false}} {
		if v, ok := immediate(tc.text); v != tc.v || ok != tc.ok {
			t.Errorf("immediate(%q) = %#x, %v", tc.text, v, ok)
		}
	}
	load := disasm.Inst{Mnemonic: "ldr", Mem: []disasm.MemOperand{{Base: "x0"}}}
	store := disasm.Inst{Mnemonic: "mov", Mem: []disasm.MemOperand{{Base: "rax", Write: true}}}
	pop := disasm.Inst{Mnemonic: "mov", Mem: []disasm.MemOperand{{Base: "rsp", Implicit: true}}}
	add := disasm.Inst{Mnemonic: "add", Mem: []disasm.MemOperand{{Base: "rax"}}}
	if !isLoad(load) || isLoad(store) || isLoad(pop) || isLoad(add) || isLoad(disasm.Inst{Mnemonic: "mov"}) {
		t.Error("isLoad")
	}
}

// fakeProgram is a program of hand-assembled functions, symbols and DWARF variables.
type fakeProgram struct {
	mem     map[uint64][]byte // region start -> bytes
	funcs   []fakeFunc
	data    map[uint64]string // address -> Data's answer
	noVars  bool
	scopes  map[uint64]*dwarfvar.Scope // link-time pc -> scope there
	globals map[string]*dwarfvar.Var
}

type fakeFunc struct {
	name       string
	start, end uint64
}

func (p *fakeProgram) ReadAt(b []byte, addr uint64) (int, error) {
	for start, m := range p.mem {
		if addr >= start && addr < start+uint64(len(m)) {
			n := copy(b, m[addr-start:])
			if n < len(b) {
				return n, fmt.Errorf("%#x: cut off", addr+uint64(n))
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%#x: unmapped", addr)
}

func (p *fakeProgram) Func(pc uint64) (string, uint64) {
	for _, f := range p.funcs {
		if pc >= f.start && pc < f.end {
			return f.name, f.start
		}
	}
	return "", 0
}

func (p *fakeProgram) Data(addr uint64) string { return p.data[addr] }

func (p *fakeProgram) Module(pc uint64) (Module, bool) {
	if p.noVars {
		return Module{Usable: true, VarsErr: fmt.Errorf("no debug information for /bin/x")}, true
	}
	return Module{Usable: true, Vars: fakeVars{p}}, true
}

type fakeVars struct{ p *fakeProgram }

func (v fakeVars) ScopeAt(pc uint64) (*dwarfvar.Scope, error) {
	if sc, ok := v.p.scopes[pc]; ok {
		return sc, nil
	}
	return nil, fmt.Errorf("no scope at %#x", pc)
}

func (v fakeVars) Global(_ uint64, name string) (*dwarfvar.Var, error) {
	if g, ok := v.p.globals[name]; ok {
		return g, nil
	}
	return nil, fmt.Errorf("no global %s", name)
}

// code lays instructions end to end from start.
func code(insts ...[]byte) []byte {
	var b []byte
	for _, in := range insts {
		b = append(b, in...)
	}
	return b
}

func a64(encs ...uint32) []byte {
	var b []byte
	for _, e := range encs {
		b = binary.LittleEndian.AppendUint32(b, e)
	}
	return b
}

// Whole searches through hand-assembled functions (encodings as GNU as writes them):
// each way a pointer is found, with the exact How.
func TestSearch(t *testing.T) {
	limits := &dwarfvar.Var{Name: "limits", Type: tLimits}
	globals := map[string]*dwarfvar.Var{"limits": limits}
	const fn, cfa = 0x401000, 0x7ffe1000
	memAt := func(base string, disp int64) disasm.MemOperand { return disasm.MemOperand{Base: base, Disp: disp} }
	for _, tc := range []struct {
		name   string
		a      *arch.Arch
		code   []byte
		pc     uint64 // the faulting instruction
		mem    disasm.MemOperand
		regs   map[string]uint64
		scope  *dwarfvar.Scope // at pc
		data   map[uint64]string
		mem2   map[uint64][]byte // more memory
		noVars bool
		want   Access
		err    string
	}{
		{
			name: "stack slot",
			a:    arch.AMD64,
			code: code([]byte{0x55}, // push %rbp
				[]byte{0x48, 0x89, 0xe5},        // mov %rsp,%rbp
				[]byte{0x48, 0x89, 0x7d, 0xd8},  // mov %rdi,-0x28(%rbp)
				[]byte{0x48, 0x8b, 0x45, 0xd8},  // mov -0x28(%rbp),%rax
				[]byte{0x48, 0x8b, 0x40, 0x08}), // mov 0x8(%rax),%rax
			pc: fn + 12, mem: memAt("rax", 8), regs: map[string]uint64{"rbp": cfa - 16},
			// n at DW_OP_fbreg -56 over DW_OP_call_frame_cfa: rbp-0x28 with rbp = cfa-16.
			scope: &dwarfvar.Scope{FrameBase: []byte{0x9c}, Vars: []dwarfvar.Var{{Name: "n", Type: tNodePtr, Param: true, Expr: []byte{0x91, 0x48}}}},
			want:  Access{Pointer: "n", Type: "struct node *", Expr: "n->next", How: "loaded from n's stack slot at 0x401008"},
		},
		{
			name: "stack slot no variable claims",
			a:    arch.AMD64,
			code: code([]byte{0x48, 0x8b, 0x45, 0xd0}, // mov -0x30(%rbp),%rax
				[]byte{0x48, 0x8b, 0x40, 0x08}), // mov 0x8(%rax),%rax
			pc: fn + 4, mem: memAt("rax", 8), regs: map[string]uint64{"rbp": cfa - 16},
			scope: &dwarfvar.Scope{FrameBase: []byte{0x9c}, Vars: []dwarfvar.Var{{Name: "n", Type: tNodePtr, Expr: []byte{0x91, 0x58}}}},
			err:   "rax: loaded at 0x401000 from a stack slot no variable claims",
		},
		{
			name: "stack slot whose frame register changed since",
			a:    arch.AMD64,
			code: code([]byte{0x48, 0x8b, 0x45, 0xd8}, // mov -0x28(%rbp),%rax
				[]byte{0x5d},                    // pop %rbp
				[]byte{0x48, 0x8b, 0x40, 0x08}), // mov 0x8(%rax),%rax
			pc: fn + 5, mem: memAt("rax", 8), regs: map[string]uint64{"rbp": cfa - 16},
			scope: &dwarfvar.Scope{FrameBase: []byte{0x9c}, Vars: []dwarfvar.Var{{Name: "n", Type: tNodePtr, Expr: []byte{0x91, 0x48}}}},
			err:   "rax: loaded from a stack slot that moved",
		},
		{
			name: "DWARF location at the pc",
			a:    arch.AMD64,
			code: []byte{0x48, 0x8b, 0x47, 0x60}, // mov 0x60(%rdi),%rax
			pc:   fn, mem: memAt("rdi", 0x68),
			scope: &dwarfvar.Scope{Vars: []dwarfvar.Var{{Name: "runtime_signals", Type: tSignalsPtr, Expr: []byte{0x55}}}},
			want:  Access{Pointer: "runtime_signals", Type: "struct signal_state *", Expr: "runtime_signals->handlers[6].tripped", How: "DWARF location at the pc"},
		},
		{
			name: "copy of a variable's home, kept across a call (r12 is callee-saved)",
			a:    arch.AMD64,
			code: code([]byte{0x4d, 0x89, 0xe7}, // mov %r12,%r15
				[]byte{0xe8, 0x00, 0x00, 0x00, 0x00}, // call 0x401008
				[]byte{0x49, 0x8b, 0x47, 0x08}),      // mov 0x8(%r15),%rax
			pc: fn + 8, mem: memAt("r15", 8),
			scope: &dwarfvar.Scope{Vars: []dwarfvar.Var{{Name: "n", Type: tNodePtr, Expr: []byte{0x5c}}}},
			want:  Access{Pointer: "n", Type: "struct node *", Expr: "n->next", How: "copied from r12, n's DWARF location (at 0x401000)"},
		},
		{
			name: "returned by the call",
			a:    arch.AMD64,
			code: code([]byte{0xe8, 0x00, 0x00, 0x00, 0x00}, // call 0x401005
				[]byte{0x48, 0x8b, 0x40, 0x60}), // mov 0x60(%rax),%rax
			pc: fn + 5, mem: memAt("rax", 0x60),
			err: "rax: returned by the call at 0x401000",
		},
		{
			name: "GOT slot named by its relocation",
			a:    arch.AMD64,
			code: code([]byte{0x48, 0x8b, 0x05, 0xf9, 0x0f, 0x00, 0x00}, // mov 0xff9(%rip),%rax: 0x402000
				[]byte{0x48, 0x8b, 0x40, 0x28}), // mov 0x28(%rax),%rax
			pc: fn + 7, mem: memAt("rax", 0x28),
			data: map[uint64]string{0x402000: "limits@got"},
			want: Access{Pointer: "&limits", Type: "struct range [4] *", Expr: "limits[2].hi", How: "address of limits from the GOT (at 0x401000)"},
		},
		{
			name: "GOT slot resolved by the linker, read from the core",
			a:    arch.AMD64,
			code: code([]byte{0x48, 0x8b, 0x05, 0xf9, 0x0f, 0x00, 0x00}, // mov 0xff9(%rip),%rax: 0x402000
				[]byte{0x48, 0x8b, 0x40, 0x28}), // mov 0x28(%rax),%rax
			pc: fn + 7, mem: memAt("rax", 0x28),
			data: map[uint64]string{0x404040: "limits"},
			mem2: map[uint64][]byte{0x402000: binary.LittleEndian.AppendUint64(nil, 0x404040)},
			want: Access{Pointer: "&limits", Type: "struct range [4] *", Expr: "limits[2].hi", How: "address of limits from the GOT slot at 0x402000 (at 0x401000)"},
		},
		{
			name: "GOT load relaxed to lea",
			a:    arch.AMD64,
			code: code([]byte{0x48, 0x8d, 0x05, 0xf9, 0x0f, 0x00, 0x00}, // lea 0xff9(%rip),%rax: 0x402000
				[]byte{0x48, 0x8b, 0x40, 0x18}), // mov 0x18(%rax),%rax
			pc: fn + 7, mem: memAt("rax", 0x18),
			data: map[uint64]string{0x402000: "limits"},
			want: Access{Pointer: "&limits", Type: "struct range [4] *", Expr: "limits[1].hi", How: "address of limits (lea at 0x401000)"},
		},
		{
			name: "global addressed relative to the pc",
			a:    arch.AMD64,
			code: []byte{0x48, 0x8b, 0x05, 0x21, 0x10, 0x00, 0x00}, // mov 0x1021(%rip),%rax: 0x402028
			pc:   fn, mem: disasm.MemOperand{Base: "rip", Disp: 0x1021, PCValue: fn + 7},
			data: map[uint64]string{0x402028: "limits+0x28"},
			want: Access{Pointer: "&limits", Type: "struct range [4] *", Expr: "limits[2].hi", How: "the global limits, addressed relative to the pc"},
		},
		{
			name: "global addressed relative to the pc without DWARF",
			a:    arch.AMD64,
			code: []byte{0x48, 0x8b, 0x05, 0x21, 0x10, 0x00, 0x00}, // mov 0x1021(%rip),%rax: 0x402028
			pc:   fn, mem: disasm.MemOperand{Base: "rip", Disp: 0x1021, PCValue: fn + 7},
			data:   map[uint64]string{0x402028: "limits+0x28"},
			noVars: true,
			err:    "no debug information for /bin/x",
		},
		{
			name: "a register set on no path is an argument; without frames it stays one",
			a:    arch.AMD64,
			code: []byte{0x48, 0x8b, 0x47, 0x08}, // mov 0x8(%rdi),%rax
			pc:   fn, mem: memAt("rdi", 8),
			err: "rdi: not set in this function: argument 1, passed in rdi by the caller",
		},
		{
			name: "too many copies to follow",
			a:    arch.AMD64,
			code: code([]byte{0x48, 0x89, 0xf2}, // mov %rsi,%rdx
				[]byte{0x48, 0x89, 0xd1},        // mov %rdx,%rcx
				[]byte{0x48, 0x89, 0xcb},        // mov %rcx,%rbx
				[]byte{0x48, 0x89, 0xd8},        // mov %rbx,%rax
				[]byte{0x49, 0x89, 0xc0},        // mov %rax,%r8
				[]byte{0x49, 0x8b, 0x40, 0x08}), // mov 0x8(%r8),%rax
			pc: fn + 15, mem: memAt("r8", 8),
			err: "r8: too many loads to follow",
		},
		{
			name: "computed",
			a:    arch.AMD64,
			code: code([]byte{0x48, 0x01, 0xd8}, // add %rbx,%rax
				[]byte{0x48, 0x8b, 0x40, 0x08}), // mov 0x8(%rax),%rax
			pc: fn + 3, mem: memAt("rax", 8),
			err: `rax: computed by "add %rbx,%rax" at 0x401000`,
		},
		{
			name: "aarch64 adrp and add",
			a:    arch.ARM64,
			code: a64(0x90000080, // adrp x0, 0x411000
				0x91010000,  // add x0, x0, #0x40
				0xf9400401), // ldr x1, [x0, #8]
			pc: fn + 8, mem: memAt("x0", 8),
			data: map[uint64]string{0x411040: "limits"},
			want: Access{Pointer: "&limits", Type: "struct range [4] *", Expr: "limits[0].hi", How: "address of limits (at 0x401004)"},
		},
		{
			name: "aarch64 copy of a parameter's home through w registers",
			a:    arch.ARM64,
			code: a64(0xaa1303e1, // mov x1, x19
				0xb9400020), // ldr w0, [x1]
			pc: fn + 4, mem: memAt("x1", 0),
			scope: &dwarfvar.Scope{Vars: []dwarfvar.Var{{Name: "ptr", Type: tIntPtr, Param: true, Expr: []byte{0x50 + 19}}}},
			want:  Access{Pointer: "ptr", Type: "int *", Expr: "*ptr", How: "copied from x19, ptr's DWARF location (at 0x401000)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakeProgram{mem: map[uint64][]byte{fn: tc.code}, funcs: []fakeFunc{{"use", fn, fn + uint64(len(tc.code))}},
				data: tc.data, noVars: tc.noVars, scopes: map[uint64]*dwarfvar.Scope{}, globals: globals}
			for a, b := range tc.mem2 {
				p.mem[a] = b
			}
			if tc.scope != nil {
				p.scopes[tc.pc] = tc.scope
			}
			s := &Search{Arch: tc.a, Prog: p}
			got, err := s.Access(tc.pc, tc.mem, tc.regs, cfa)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("%+v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || *got != tc.want {
				t.Errorf("%+v, %v;\nwant %+v", got, err, tc.want)
			}
		})
	}
}

// An argument the function never set is followed into its caller, to the call, with
// the caller's frame from the unwound stack.
func TestSearchCaller(t *testing.T) {
	const use, main = 0x401000, 0x401100
	p := &fakeProgram{
		mem: map[uint64][]byte{
			use: {0x48, 0x8b, 0x47, 0x08}, // use: mov 0x8(%rdi),%rax
			main: code([]byte{0x48, 0x8d, 0x3d, 0xf9, 0x0e, 0x00, 0x00}, // main: lea 0xef9(%rip),%rdi: 0x402000
				[]byte{0xe8, 0xf4, 0xfe, 0xff, 0xff}, // call 0x401000 <use>
				[]byte{0x31, 0xc0}),                  // xor %eax,%eax
		},
		funcs:   []fakeFunc{{"use", use, use + 4}, {"main", main, main + 14}},
		data:    map[uint64]string{0x402000: "limits"},
		scopes:  map[uint64]*dwarfvar.Scope{},
		globals: map[string]*dwarfvar.Var{"limits": {Name: "limits", Type: tLimits}},
	}
	frames := []Frame{
		{PC: use, Regs: map[string]uint64{"rdi": 0x402000}},
		{PC: main + 12, ReturnAddress: true, Regs: map[string]uint64{}, CFA: 0x7ffe1000},
	}
	s := &Search{Arch: arch.AMD64, Prog: p, Frames: frames}
	got, err := s.Access(use, disasm.MemOperand{Base: "rdi", Disp: 8}, frames[0].Regs, 0)
	want := Access{Pointer: "&limits", Type: "struct range [4] *", Expr: "limits[0].hi", Caller: "main",
		How: "passed in rdi by main, which called use at 0x401107; there: address of limits (lea at 0x401100)"}
	if err != nil || *got != want {
		t.Errorf("%+v, %v;\nwant %+v", got, err, want)
	}
	// The caller frame found by a stack scan is no return address: no caller to ask.
	s.Frames = []Frame{frames[0], {PC: main + 12}}
	if _, err := s.Access(use, disasm.MemOperand{Base: "rdi", Disp: 8}, frames[0].Regs, 0); err == nil ||
		err.Error() != "rdi: not set in this function: argument 1, passed in rdi by the caller" {
		t.Errorf("caller without a return address: %v", err)
	}
	// A frame a signal interrupted is where the fault happened, deeper in the stack.
	s.Frames = []Frame{{PC: 0x7f0000001000}, {PC: use, Interrupted: true}, frames[1]}
	if got, err := s.Access(use, disasm.MemOperand{Base: "rdi", Disp: 8}, frames[0].Regs, 0); err != nil || got.Caller != "main" {
		t.Errorf("after a signal frame: %+v, %v", got, err)
	}
}

// Registers an instruction writes besides Dest end the walk there: s390x's dsgr writes
// the even/odd pair r2, r3, so r3 at the fault is its quotient, not the caller's second
// argument; and ppc64's ldu writes its base back.
func TestWalkAlsoWrites(t *testing.T) {
	for _, c := range []struct {
		a         *arch.Arch
		code      []byte
		reg, want string
	}{
		// dsgr %r2,%r4 (b9 0d 00 24)
		{arch.S390X, []byte{0xb9, 0x0d, 0x00, 0x24}, "r3", `computed by "dsgr %r2,%r4" at 0x1000`},
		// ldu r9,8(r29) (little-endian 09 00 3d e9)
		{arch.PPC64LE, []byte{0x09, 0x00, 0x3d, 0xe9}, "r29", `computed by "ldu r9,8(r29)" at 0x1000`},
	} {
		in, err := disasm.Decode(c.a, c.code, 0x1000)
		if err != nil {
			t.Fatal(err)
		}
		s := &Search{Arch: c.a}
		w := s.newWalk([]disasm.Inst{in}, nil, nil, 0, nil, 0)
		if v := w.trace(1, c.reg, 0); v.present || v.arg != 0 || v.how != c.want {
			t.Errorf("%s after %q: %+v, want %s", c.reg, in.Text, v, c.want)
		}
		if !w.written([]disasm.Inst{in}, c.reg) {
			t.Errorf("%q does not count as writing %s", in.Text, c.reg)
		}
	}
}
