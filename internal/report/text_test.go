package report

import (
	"strings"
	"testing"
)

func TestShellJoin(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"/usr/bin/python3", "-X", "dev", "a=b,c:d@e%f+g"}, "/usr/bin/python3 -X dev a=b,c:d@e%f+g"},
		{[]string{"two words", ""}, "'two words' ''"},
		{[]string{"it's", "$HOME", "ünï"}, `'it'\''s' '$HOME' ünï`},
		{[]string{"tab\there", "bad\xffbyte", "c1\u0085"}, `$'tab\x09here' $'bad\xffbyte' $'c1\xc2\x85'`},
	} {
		if got := shellJoin(c.args); got != c.want {
			t.Errorf("shellJoin(%q) = %s, want %s", c.args, got, c.want)
		}
	}
}

// A frame's unwind error is where the stack stops; a symbolization error is not, and the
// text view says which is which.
func TestStackErrors(t *testing.T) {
	var b strings.Builder
	p := &printer{w: &b, word: 8}
	off := Hex(0x1c)
	p.stack([]Frame{
		{Index: 0, PC: 0x10436, Module: "/tmp/prog", Function: "f", FunctionOffset: &off, FoundBy: "context",
			SymbolError: "dwarf: decoding unit at 0x1a2: bad abbreviation"},
		{Index: 1, PC: 0x10570, Module: "/tmp/prog", FoundBy: "cfi",
			Error: "stack memory at 0x40800000 is not in the core"},
	}, "")
	want := "#0   0x00010436 f+0x1c (prog)  [context]\n" +
		"      not symbolized: dwarf: decoding unit at 0x1a2: bad abbreviation\n" +
		"#1   0x00010570 ?? (prog)  [cfi]\n" +
		"      stops here: stack memory at 0x40800000 is not in the core\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// regs shows the registers of a word or less padded to the word, wider ones of at most 64
// bits (32-bit ARM's d0-d31) to their width, and those wider than 64 bits after them,
// two to a line, padded to their width, in the architecture's order.
func TestRegsWide(t *testing.T) {
	var b strings.Builder
	r := &Report{Process: Process{Arch: "arm"}, Threads: []Thread{{TID: 7, Crashed: true,
		Registers: map[string]Hex{"r15": 0x8500, "fpscr": 0x3000000, "d1": 0x3ff0000000000000}}}}
	if err := Text(&b, r, Options{View: ViewRegs}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "r15      0x00008500  fpscr    0x03000000  d1       0x3ff0000000000000\n") {
		t.Errorf("arm regs:\n%s", b.String())
	}
	b.Reset()
	r = &Report{Process: Process{Arch: "ppc64le"}, Threads: []Thread{{TID: 7, Registers: map[string]Hex{"vrsave": 0xffffffff},
		WideRegisters: map[string]string{"vr0": "0x0", "vr1": "0x100f0e0d0c0b0a090807060504030201", "vs0": "0x1"},
		WideOrder:     []string{"vr0", "vr1", "vs0"}}}}
	if err := Text(&b, r, Options{View: ViewRegs}); err != nil {
		t.Fatal(err)
	}
	want := "vrsave   0x00000000ffffffff\n" +
		"vr0      0x00000000000000000000000000000000  vr1      0x100f0e0d0c0b0a090807060504030201\n" +
		"vs0      0x00000000000000000000000000000001\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("ppc64le regs:\n%s\nwant\n%s", b.String(), want)
	}
}

// A negative load bias (i386's vDSO, linked at 0xffffe000 and loaded at 0xf77f7000 in
// elfutils' backtrace.i386.core) is shown signed in a 32-bit process; a 64-bit one
// keeps its hex value, whatever its sign.
func TestBiasText(t *testing.T) {
	for _, tc := range []struct {
		bias, end Hex
		want      string
	}{
		{0xfffffffff77f9000, 0xf77f8000, "-0x8807000"},
		{0x56555000, 0x56558000, "0x56555000"},
		{0x7fff1c6cc000, 0x7fff1bdce000, "0x7fff1c6cc000"},
		{0xffffffffff000000, 0x7fff1bdce000, "0xffffffffff000000"},
	} {
		if got := biasText(tc.bias, tc.end); got != tc.want {
			t.Errorf("biasText(%v, %v) = %s, want %s", tc.bias, tc.end, got, tc.want)
		}
	}
}
