package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/testcore"
)

// `coredig py CORE` on an i386 CPython core (Debian's libpython3.11:i386) gives every
// thread's Python stack exactly as the process printed it about itself before
// os.abort(), in JSON and in the text view.
func TestPyI386(t *testing.T) {
	checkPySelfCmd(t, testcore.Make(t, testcore.PySelfI386))
}

// The same for qemu-user's cores of Debian's CPython 3.11 on ppc64le, big-endian s390x
// and 32-bit ARM, read with --sysroot (the root qemu was given).
func TestPyForeign(t *testing.T) {
	for _, spec := range []testcore.Spec{testcore.PySelfPPC64LE, testcore.PySelfS390X, testcore.PySelfARM} {
		t.Run(spec.Name, func(t *testing.T) {
			checkPySelfCmd(t, testcore.Make(t, spec))
		})
	}
}

func checkPySelfCmd(t *testing.T, tc *testcore.Core) {
	t.Helper()
	args := []string{tc.Path}
	if tc.Sysroot != "" {
		args = append(args, "--sysroot", tc.Sysroot)
	}
	var self struct {
		Version string
		GIL     int
		Threads map[string][][]any
	}
	for _, line := range strings.Split(tc.Stdout, "\n") {
		if rest, ok := strings.CutPrefix(line, "stacks "); ok {
			if err := json.Unmarshal([]byte(rest), &self); err != nil {
				t.Fatalf("the script's own report: %v: %q", err, rest)
			}
		}
	}
	if len(self.Threads) != 2 {
		t.Fatalf("the script reported %d threads, want 2:\n%s", len(self.Threads), tc.Stdout)
	}
	code, out, errs := runCmd(append([]string{"py", "--format", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("coredig py: exit %d: %s", code, errs)
	}
	var doc struct {
		Python struct {
			Version      string
			GILHolderTID int `json:"gil_holder_tid"`
			Threads      []struct {
				TID    int
				Frames []struct {
					Function, File string
					Line           int
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string][][]any{}
	for _, th := range doc.Python.Threads {
		fs := [][]any{}
		for _, f := range th.Frames {
			fs = append(fs, []any{f.Function, f.File, float64(f.Line)})
		}
		got[strconv.Itoa(th.TID)] = fs
	}
	want := map[string][][]any{}
	for tid, fs := range self.Threads {
		for _, f := range fs {
			want[tid] = append(want[tid], []any{f[0], f[2], f[3]})
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("coredig py:\n%v\nthe process about itself:\n%v", got, want)
	}
	if doc.Python.Version != self.Version || doc.Python.GILHolderTID != self.GIL {
		t.Errorf("version %q, GIL holder %d; want %q, %d", doc.Python.Version, doc.Python.GILHolderTID, self.Version, self.GIL)
	}
	code, text, errs := runCmd(append([]string{"py"}, args...)...)
	if code != exitOK {
		t.Fatalf("coredig py: exit %d: %s", code, errs)
	}
	for _, w := range []string{"Python " + self.Version + "\n", fmt.Sprintf("thread %d (holds the GIL): 4 Python frames\n", self.GIL)} {
		if !strings.Contains(text, w) {
			t.Errorf("coredig py text lacks %q:\n%s", w, text)
		}
	}
}
