//go:build linux

package analysis

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// gdbVars parses gdb's "info args" and "info locals" output: name -> value.
func gdbVars(out string) map[string]string {
	vars := map[string]string{}
	re := regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*) = (.*)$`)
	for _, line := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			vars[m[1]] = m[2]
		}
	}
	return vars
}

// The crashing thread's variables against gdb's "info args" and "info locals" in the
// same frames: every variable gdb prints as a number, a character, a pointer or an enum
// has that value in coredig too.
func TestLocalsMatchGDB(t *testing.T) {
	tc := testcore.Make(t, testcore.Spec{Name: "locals-x86_64", Source: "locals.c"})
	compareLocals(t, tc, []string{"fill", "main"}, 12)
	a, _ := open(t, tc.Path, symbolize.Options{})
	frames := a.Full(FullOptions{}).Threads[0].Frames
	// The ones whose form coredig chose itself.
	want := map[string]string{"label": `0x`, "ch": `81 'Q'`, "c": "BLUE", "fn": "<twice>", "pt": "{...}"}
	got := map[string]string{}
	for _, l := range frames[0].Locals {
		got[l.Name] = l.Value
	}
	for name, w := range want {
		if !strings.Contains(got[name], w) {
			t.Errorf("%s = %q, want it to contain %q", name, got[name], w)
		}
	}
	if !strings.HasSuffix(got["label"], `"hello"`) {
		t.Errorf("label = %q, want the string", got["label"])
	}
}

// compareLocals checks the crashing thread's first frames (the functions fns) against gdb, and
// that at least min variables were compared.
func compareLocals(t *testing.T, tc *testcore.Core, fns []string, min int) {
	t.Helper()
	a, _ := open(t, tc.Path, symbolize.Options{})
	r := a.Full(FullOptions{})
	frames := r.Threads[0].Frames
	compared := 0
	for level, fn := range fns {
		if level >= len(frames) || frames[level].Function != fn {
			t.Fatalf("frame %d is not %s: %+v", level, fn, frames)
		}
		ours := map[string]string{}
		for _, l := range frames[level].Locals {
			ours[l.Name] = l.Value
		}
		out := gdb(t, tc.Exe, tc.Path, fmt.Sprintf("frame %d", level), "info args", "info locals")
		for name, gv := range gdbVars(out) {
			first := strings.Fields(gv)[0]
			simple := regexp.MustCompile(`^(-?[0-9][0-9.e+]*|0x[0-9a-f]+|true|false|[A-Z]+)$`).MatchString(first)
			if !simple {
				continue // aggregates: coredig prints {...}
			}
			ov, ok := ours[name]
			if ok && ov == "" {
				ov = "<none>"
			}
			if !ok {
				t.Errorf("%s: gdb shows %s = %s, coredig has no such variable (%v)", fn, name, gv, ours)
				continue
			}
			if strings.Fields(ov)[0] != first {
				t.Errorf("%s: %s = %q in coredig, gdb says %q", fn, name, ov, gv)
			}
			compared++
		}
	}
	if compared < min {
		t.Errorf("only %d variables compared with gdb", compared)
	}
}

// The same at -O2: variables in registers through location lists, values gdb can show
// only from the call site; where gdb prints a value, coredig must print the same.
func TestLocalsMatchGDBOptimized(t *testing.T) {
	tc := testcore.Make(t, testcore.Spec{Name: "locals-x86_64-o2", Source: "locals.c", CFlags: []string{"-O2", "-g"}})
	compareLocals(t, tc, []string{"fill"}, 5)
}

// Variables of inlined calls go to their own inlined frames, as gdb shows them: throw.cc
// inlines level3 into level2 into level1, each with its parameter x.
func TestLocalsOfInlinedFrames(t *testing.T) {
	tc := testcore.Make(t, testcore.Throw)
	a, _ := open(t, tc.Path, symbolize.Options{})
	got := map[string][]string{}
	for _, f := range a.Full(FullOptions{}).Threads[0].Frames {
		if strings.HasPrefix(f.Function, "crasher::level") {
			for _, l := range f.Locals {
				got[f.Function] = append(got[f.Function], l.Name)
			}
		}
	}
	for _, fn := range []string{"crasher::level3", "crasher::level2", "crasher::level1(int)"} {
		if strings.Join(got[fn], ",") != "x" {
			t.Errorf("%s has locals %v, want [x]", fn, got[fn])
		}
	}
}
