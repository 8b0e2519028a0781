package python

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/testcore"
)

var (
	gdbThreadRE = regexp.MustCompile(`^Thread \d+ \(Thread 0x[0-9a-f]+ \(LWP (\d+)\)\)`)
	gdbFrameRE  = regexp.MustCompile(`^  File "(.*)", line (\d+), in (.*)$`)
)

// pyBt runs gdb with CPython's own python-gdb.py on a core and returns, per
// LWP, the Python frames py-bt prints ("function file:line", innermost first).
func pyBt(t *testing.T, exe, gdbPy, core string) map[uint64][]string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "gdb", "-batch", "-nx", "-iex", "set auto-load off",
		"-ex", "source "+gdbPy, "-ex", "thread apply all py-bt", exe, core).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb py-bt (the oracle) failed: %v\n%s", err, out)
	}
	res := map[uint64][]string{}
	var cur uint64
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if m := gdbThreadRE.FindStringSubmatch(sc.Text()); m != nil {
			cur, _ = strconv.ParseUint(m[1], 10, 64)
			res[cur] = nil
		} else if m := gdbFrameRE.FindStringSubmatch(sc.Text()); m != nil && cur != 0 {
			res[cur] = append(res[cur], fmt.Sprintf("%s %s:%s", m[3], m[1], m[2]))
		}
	}
	return res
}

// TestPyBtOracle compares every thread's Python stack with gdb's py-bt
// (Tools/gdb/libpython.py of the same build) on the threads6.py cores.
func TestPyBtOracle(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Fatalf("gdb is needed for the py-bt oracle: %v", err)
	}
	for _, v := range []string{"3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"} {
		t.Run(v, func(t *testing.T) {
			c := testcore.Make(t, testcore.PythonSpec("threads6.py", v))
			short := v[:strings.LastIndexByte(v, '.')]
			gdbPy := filepath.Join("/root/.pyenv/versions", v, "bin", "python"+short+"-gdb.py")
			want := pyBt(t, c.Exe, gdbPy, c.Path)
			st, _ := analyzeCore(t, c)
			n := 0
			for _, th := range st.Interpreters[0].Threads {
				var got []string
				for _, f := range th.Frames {
					got = append(got, fmt.Sprintf("%s %s:%d", f.Function, f.File, f.Line))
				}
				w, ok := want[th.TID]
				if !ok {
					t.Errorf("thread %d: no such LWP in gdb's output", th.TID)
					continue
				}
				n++
				if strings.Join(got, "\n") != strings.Join(w, "\n") {
					t.Errorf("thread %d:\n got %q\nwant %q (py-bt)", th.TID, got, w)
				}
			}
			if n != 7 || len(want) != 7 {
				t.Errorf("compared %d threads, gdb saw %d; want 7 and 7", n, len(want))
			}
		})
	}
}
