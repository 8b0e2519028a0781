package symbolize

import (
	"debug/elf"
	"testing"
)

func TestBuildSymtabAliasesAndSizes(t *testing.T) {
	st := buildSymtab([]sym{
		{addr: 0x1000, size: 0x40, name: "__GI_raise", bind: elf.STB_LOCAL},
		{addr: 0x1000, size: 0x40, name: "raise", bind: elf.STB_GLOBAL},
		{addr: 0x1000, size: 0x40, name: "gsignal", bind: elf.STB_WEAK},
		{addr: 0x1100, size: 0, name: "marker", bind: elf.STB_GLOBAL},
		{addr: 0x1200, size: 0x10, name: "_Z3fooi", bind: elf.STB_GLOBAL},
	})
	if len(st.syms) != 3 || st.syms[0].name != "raise" {
		t.Fatalf("symtab %+v: want 3 entries, raise preferred at 0x1000", st.syms)
	}
}

func TestLookupOnlyInsideSize(t *testing.T) {
	m := &Module{Name: "libx.so", Start: 0x7f0000000000, End: 0x7f0000010000, Bias: 0x7f0000000000, BiasKnown: true}
	m.syms = buildSymtab([]sym{
		{addr: 0x1000, size: 0x40, name: "raise", bind: elf.STB_GLOBAL},
		{addr: 0x1200, size: 0x10, name: "_ZN7crasher6level1Ei", bind: elf.STB_GLOBAL},
	})
	m.symOnce.Do(func() {}) // symbols are set; do not load from a file
	m.file = &elf.File{}
	tab := &Table{Modules: []*Module{m}}
	for _, tc := range []struct {
		addr uint64
		fn   string
		off  uint64
	}{
		{0x7f0000001000, "raise", 0},
		{0x7f000000103f, "raise", 0x3f},
		{0x7f0000001040, "", 0},                     // just past raise: no name, never a wrong one
		{0x7f0000001204, "crasher::level1(int)", 4}, // demangled with parameters
		{0x7f00000011ff, "", 0},                     // in a gap
		{0x7f0000000500, "", 0},                     // before any symbol
	} {
		s := tab.Lookup(tc.addr)
		if s.Module != m || s.Function != tc.fn || s.FuncOffset != tc.off || s.ModuleOffset != tc.addr-m.Bias {
			t.Errorf("Lookup(%#x) = %q+%#x (module offset %#x), want %q+%#x", tc.addr, s.Function, s.FuncOffset, s.ModuleOffset, tc.fn, tc.off)
		}
	}
	if s := tab.Lookup(0x1000); s.Module != nil {
		t.Errorf("an address outside every module has no module, got %s", s.Module.Name)
	}
}

// A symbol without a size names the addresses after it up to the next symbol, within its
// section, and only where no sized symbol covers them, as gdb and addr2line name crt1's
// _start on 32-bit ARM (a FUNC of size 0): "_start+0x1c".
func TestLookupZeroSize(t *testing.T) {
	m := &Module{Name: "prog", Start: 0x10000, End: 0x20000, BiasKnown: true}
	m.syms = buildSymtab([]sym{
		{addr: 0x10548, size: 0, name: "_start", bind: elf.STB_GLOBAL, mode: 1, secEnd: 0x1078c},
		{addr: 0x1057c, size: 0, name: "call_weak_fn", bind: elf.STB_LOCAL, secEnd: 0x1078c},
		{addr: 0x10600, size: 0x100, name: "outer", bind: elf.STB_GLOBAL, secEnd: 0x1078c},
		{addr: 0x10640, size: 0, name: "inner_label", bind: elf.STB_LOCAL, secEnd: 0x1078c},
		{addr: 0x10740, size: 0, name: "tail", bind: elf.STB_LOCAL, secEnd: 0x1078c},
		{addr: 0x10800, size: 0, name: "nosection", bind: elf.STB_LOCAL}, // section unknown
	})
	m.symOnce.Do(func() {})
	m.file = &elf.File{}
	tab := &Table{Modules: []*Module{m}}
	for _, tc := range []struct {
		addr uint64
		fn   string
		off  uint64
	}{
		{0x10548, "_start", 0},
		{0x10564, "_start", 0x1c},       // gdb: _start+28
		{0x1057b, "_start", 0x33},       // the last byte before the next symbol
		{0x1057c, "call_weak_fn", 0},    // the next symbol
		{0x105ff, "call_weak_fn", 0x83}, // up to outer
		{0x10650, "outer", 0x50},        // a sized symbol covers it: not inner_label
		{0x10700, "inner_label", 0xc0},  // past outer's size: the zero-size symbol after outer's start, as gdb takes it
		{0x10788, "tail", 0x48},         // to the end of the section
		{0x1078c, "", 0},                // past the section's end
		{0x10800, "nosection", 0},       // its own address only
		{0x10804, "", 0},
	} {
		s := tab.Lookup(tc.addr)
		if s.Function != tc.fn || s.FuncOffset != tc.off {
			t.Errorf("Lookup(%#x) = %q+%#x, want %q+%#x", tc.addr, s.Function, s.FuncOffset, tc.fn, tc.off)
		}
		if tc.fn == "_start" && (s.FuncStart != 0x10548 || s.FuncSize != 0 || s.FuncMode != 1) {
			t.Errorf("Lookup(%#x): start %#x size %d mode %d, want 0x10548, 0, 1", tc.addr, s.FuncStart, s.FuncSize, s.FuncMode)
		}
	}
}

// Preceding names the nearest symbol below an address whatever its size: 32-bit ARM
// glibc's clone child follows __clone's 56-byte body (Debian 12 armhf libc.so.6: __clone
// at 0xb36a0, the child's return address from blx ip at 0xb36e0, umount at 0xb36e8).
func TestPreceding(t *testing.T) {
	m := &Module{Name: "libc.so.6", Start: 0x3febc000, End: 0x3ffc6000, Bias: 0x3febc000, BiasKnown: true}
	m.syms = buildSymtab([]sym{
		{addr: 0xb36a0, size: 56, name: "__clone", bind: elf.STB_GLOBAL, mode: 1},
		{addr: 0xb36a0, size: 56, name: "clone", bind: elf.STB_WEAK, mode: 1},
		{addr: 0xb36e8, size: 6, name: "umount", bind: elf.STB_GLOBAL, mode: 1},
	})
	m.symOnce.Do(func() {})
	m.file = &elf.File{}
	tab := &Table{Modules: []*Module{m}}
	if s := tab.Lookup(0x3febc000 + 0xb36df); s.Function != "" {
		t.Errorf("Lookup past __clone's size: %q", s.Function)
	}
	s := tab.Preceding(0x3febc000 + 0xb36df)
	if s.RawName != "__clone" || s.FuncStart != 0x3febc000+0xb36a0 || s.FuncSize != 56 || s.FuncOffset != 0x3f || s.FuncMode != 1 {
		t.Errorf("Preceding = %+v, want __clone+0x3f of size 56", s)
	}
	if s := tab.Preceding(0x3febc000 + 0xb36e8); s.RawName != "umount" || s.FuncOffset != 0 {
		t.Errorf("Preceding at umount = %q+%#x", s.RawName, s.FuncOffset)
	}
	if s := tab.Preceding(0x3febc000 + 0x1000); s.Module != m || s.Function != "" {
		t.Errorf("Preceding below every symbol = %+v", s)
	}
}

func TestDemangle(t *testing.T) {
	for in, want := range map[string]string{
		"_ZN7crasher6level1Ei":                                       "crasher::level1(int)",
		"_ZSt9terminatev":                                            "std::terminate()",
		"_ZNKSt5ctypeIcE8do_widenEc":                                 "std::ctype<char>::do_widen(char) const",
		"_ZN7crasher6level1Ei.cold":                                  "crasher::level1(int)",
		"_ZNSt6vectorIiSaIiEE9push_backERKi":                         "std::vector<int, std::allocator<int> >::push_back(int const&)",
		"_ZN4core9panicking18panic_bounds_check17h0123456789abcdefE": "core::panicking::panic_bounds_check",
		"_RNvCs1234_7mycrate3foo":                                    "mycrate::foo",
		"main":                                                       "main",
		"_Znot-a-mangled-name":                                       "_Znot-a-mangled-name",
	} {
		if got := Demangle(in); got != want {
			t.Errorf("Demangle(%q) = %q, want %q", in, got, want)
		}
	}
}
