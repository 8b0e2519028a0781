package analysis

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// euStackFrame matches a frame line of eu-stack: "#7  0x0000557244e850d5 crasher::level1(int) [clone .cold]".
var euStackFrame = regexp.MustCompile(`^#\d+\s+0x[0-9a-f]+\s+(.+)$`)

// TestCxxNamesMatchEuStack: C++ functions are named with their parameter types, as
// eu-stack names them (from the mangled names of the symbol table or DW_AT_linkage_name);
// overloads differ only there. Every parameterised name eu-stack prints for the Throw
// core's crashing thread is in coredig's backtrace, GCC's clone suffix aside.
func TestCxxNamesMatchEuStack(t *testing.T) {
	tc := testcore.Make(t, testcore.Throw)
	out, err := exec.Command("eu-stack", "--core", tc.Path, "-e", tc.Exe).CombinedOutput()
	if err != nil {
		t.Fatalf("eu-stack (elfutils; scripts/deps.sh installs it): %v\n%s", err, out)
	}
	var want []string
	for _, line := range strings.Split(string(out), "\n") {
		m := euStackFrame.FindStringSubmatch(line)
		if m == nil || !strings.Contains(m[1], "(") {
			continue
		}
		want = append(want, strings.TrimSuffix(m[1], " [clone .cold]"))
	}
	if strings.Join(want, "|") != "std::terminate()|crasher::level1(int)" {
		t.Fatalf("eu-stack names %q, want std::terminate() and crasher::level1(int)\n%s", want, out)
	}
	a, _ := open(t, tc.Path, symbolize.Options{})
	r := a.Full(FullOptions{})
	got := map[string]bool{}
	for _, f := range r.Threads[0].Frames {
		got[f.Function] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("eu-stack names %q, coredig's frames do not:\n%s", w, dump(r.Threads[0].Frames))
		}
	}
	// The symbol table alone (the notes-only view) names level1's .cold part the same way.
	for _, f := range r.Threads[0].Frames {
		if f.Function == "crasher::level1(int)" {
			if s := a.Modules.Lookup(uint64(f.PC) - 1); s.Function != "crasher::level1(int)" {
				t.Errorf("symbol table name at %#x: %q, want crasher::level1(int)", uint64(f.PC)-1, s.Function)
			}
		}
	}
}
