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
