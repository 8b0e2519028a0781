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
