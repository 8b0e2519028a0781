package analysis

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// selfReport is what pyself.py prints about itself just before os.abort().
type selfReport struct {
	Version string
	GIL     int
	Threads map[int][][]any  // native tid -> [co_name, co_qualname, co_filename, f_lineno], innermost first
	Locals  map[string][]any // middle's locals: name -> [type name, repr, len or -1, id]
}

func parseSelfReport(t *testing.T, stdout string) selfReport {
	t.Helper()
	for _, line := range strings.Split(stdout, "\n") {
		if rest, ok := strings.CutPrefix(line, "stacks "); ok {
			var r selfReport
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				t.Fatalf("the script's own report: %v: %q", err, rest)
			}
			return r
		}
	}
	t.Fatalf("no \"stacks\" line in the script's stdout:\n%s", stdout)
	return selfReport{}
}

func formatPyFrames(fs []report.PythonFrame) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "    %s (%s) %s:%d", f.Function, f.QualName, f.File, f.Line)
		if f.Error != "" {
			fmt.Fprintf(&b, " error=%s", f.Error)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// A CPython process on i386 (Debian's libpython3.11:i386 in an interpreter built with
// gcc -m32; the kernel writes the core): every Python thread's stack is exactly what the
// process printed about itself from sys._current_frames() before os.abort(): function,
// qualified name, file and line of each frame; the GIL holder is the aborting thread;
// and the native stack of that thread carries the same Python frames, in order, under
// its _PyEval_EvalFrameDefault frames.
func TestPythonI386(t *testing.T) {
	tc := testcore.Make(t, testcore.PySelfI386)
	checkPySelf(t, tc, "i386", testcore.I386LibPython311)
}

// checkPySelf checks the Python view of a pyself.py core of the named architecture
// (as internal/arch names it), whose layout must come from the DWARF of layoutLib,
// against what the process printed about itself, and returns the report.
func checkPySelf(t *testing.T, tc *testcore.Core, arch, layoutLib string) *report.Report {
	self := parseSelfReport(t, tc.Stdout)
	opts := symbolize.Options{}
	if tc.Sysroot != "" {
		opts.Finder = symbolize.PathFinder{Sysroot: tc.Sysroot}
	}
	a, _ := open(t, tc.Path, opts)
	if a.Core.Arch.Name != arch {
		t.Fatalf("core of %s is of %s, want %s", tc.Exe, a.Core.Arch.Name, arch)
	}
	r := a.Full(FullOptions{})
	py := r.Python
	if py == nil || py.Error != "" {
		t.Fatalf("python %+v", py)
	}
	if py.Version != self.Version || py.VersionSource == "" || !strings.HasPrefix(py.LayoutSource, "DWARF of "+layoutLib+" ") {
		t.Errorf("version %q from %q, layout %q; want %s from the layout of %s", py.Version, py.VersionSource, py.LayoutSource, self.Version, layoutLib)
	}
	if len(py.Warnings) != 0 {
		t.Errorf("python warnings %q", py.Warnings)
	}
	if py.Finalizing == nil || *py.Finalizing || py.Interpreters != 1 {
		t.Errorf("finalizing %v, %d interpreters; want not finalizing, 1", py.Finalizing, py.Interpreters)
	}
	if py.GILHolderTID == nil || int(*py.GILHolderTID) != self.GIL || self.GIL != tc.PID {
		t.Errorf("GIL holder %v, want %d (the script's main thread, pid %d)", py.GILHolderTID, self.GIL, tc.PID)
	}
	if len(py.Threads) != len(self.Threads) || len(self.Threads) != 2 {
		t.Fatalf("%d Python threads, the script printed %d (want 2)", len(py.Threads), len(self.Threads))
	}
	t.Logf("version %s from %s; layout %s", py.Version, py.VersionSource, py.LayoutSource)
	for tid, want := range self.Threads {
		th := pyThread(t, py, tid)
		if th.GILHolder != (tid == self.GIL) || th.TIDSource != "native_thread_id" || th.Error != "" {
			t.Errorf("thread %d: GIL holder %v, tid from %q, error %q", tid, th.GILHolder, th.TIDSource, th.Error)
		}
		var got, exp []string
		for _, f := range th.Frames {
			got = append(got, fmt.Sprintf("%s %s %s:%d %s", f.Function, f.QualName, f.File, f.Line, f.Error))
		}
		for _, w := range want {
			if len(w) != 4 {
				t.Fatalf("thread %d: bad frame %v in the script's report", tid, w)
			}
			exp = append(exp, fmt.Sprintf("%s %s %s:%d ", w[0], w[1], w[2], int(w[3].(float64))))
		}
		t.Logf("thread %d (GIL %v):\n%s", tid, th.GILHolder, formatPyFrames(th.Frames))
		if strings.Join(got, "\n") != strings.Join(exp, "\n") {
			t.Errorf("thread %d frames:\n%s\nwant, as the process printed:\n  %s", tid, formatPyFrames(th.Frames), strings.Join(exp, "\n  "))
		}
	}
	// The script's own markers pin its frames too: the report above could only agree
	// with coredig on a wrong line if the script printed a wrong one.
	main := pyThread(t, py, tc.PID)
	for i, w := range []struct {
		fn     string
		marker string
	}{{"crash_now", "py_abort"}, {"middle", "py_middle"}, {"main", "py_main"}} {
		if i >= len(main.Frames) || main.Frames[i].Function != w.fn || main.Frames[i].Line != tc.Line(t, w.marker) || main.Frames[i].File != tc.Source {
			t.Errorf("main thread frame %d, want %s at %s:%d:\n%s", i, w.fn, tc.Source, tc.Line(t, w.marker), formatPyFrames(main.Frames))
			break
		}
	}

	// middle's locals, one of each kind, read through 4-byte object headers: simple values
	// as repr() shows them, containers with their size, others with their address (a
	// CPython id()).
	if len(main.Frames) < 2 || main.Frames[1].LocalsError != "" || len(main.Frames[1].Locals) != len(self.Locals) || len(self.Locals) != 10 {
		t.Fatalf("middle's locals %+v, the script printed %d (want 10)", main.Frames[1:2], len(self.Locals))
	}
	for _, l := range main.Frames[1].Locals {
		w, ok := self.Locals[l.Name]
		if !ok || len(w) != 4 {
			t.Errorf("local %s is not among the script's %v", l.Name, self.Locals)
			continue
		}
		typ, repr, n, id := w[0].(string), w[1].(string), int(w[2].(float64)), uint64(w[3].(float64))
		want := repr
		switch {
		case n >= 0:
			want = fmt.Sprintf("<%s, %d items, at %#x>", typ, n, id)
		case typ == "function":
			want = fmt.Sprintf("<%s object at %#x>", typ, id)
		}
		if l.Type != typ || l.Value != want || l.Error != "" {
			t.Errorf("local %s = %s %s (error %q), want %s %s", l.Name, l.Type, l.Value, l.Error, typ, want)
		}
	}

	// The crashing thread's native stack carries its Python frames, in order.
	var crashed *report.Thread
	for i := range r.Threads {
		if r.Threads[i].Crashed {
			crashed = &r.Threads[i]
		}
	}
	if crashed == nil || crashed.TID != tc.PID || r.Signal == nil || r.Signal.Name != "SIGABRT" {
		t.Fatalf("crashed thread %v, signal %+v; want the main thread %d, SIGABRT", crashed, r.Signal, tc.PID)
	}
	var merged, want []string
	evals := 0
	for _, f := range crashed.Frames {
		if f.Function == "_PyEval_EvalFrameDefault" && !f.Inlined {
			evals++
		}
		for _, pf := range f.Python {
			merged = append(merged, pf.Function+":"+strconv.Itoa(pf.Line))
		}
	}
	for _, pf := range main.Frames {
		want = append(want, pf.Function+":"+strconv.Itoa(pf.Line))
	}
	if strings.Join(merged, " ") != strings.Join(want, " ") || evals == 0 {
		t.Errorf("merged %v over %d eval frames, want %v\n%s", merged, evals, want, dump(crashed.Frames))
	}
	return r
}

// threads6.py under the i386 interpreter: a SIGSEGV at 0x60 inside ctypes.string_at,
// seven Python threads each at its own line, the crashing thread's Python stack merged
// into its native one, and the full report (hangs included) made without error.
func TestPythonI386Threads6(t *testing.T) {
	tc := testcore.Make(t, testcore.Threads6I386)
	r := checkThreads6(t, tc)
	if s := r.Signal; s == nil || s.Name != "SIGSEGV" || s.CodeName != "SEGV_MAPERR" || s.Address == nil || *s.Address != 0x60 {
		t.Errorf("signal %+v, want SIGSEGV SEGV_MAPERR at 0x60", r.Signal)
	}
}

// checkThreads6 checks the Python view of a threads6.py core of Debian's CPython 3.11
// (the ctypes module's path is the host's: the standard library is shared), and
// returns the report.
func checkThreads6(t *testing.T, tc *testcore.Core) *report.Report {
	t.Helper()
	opts := symbolize.Options{}
	if tc.Sysroot != "" {
		opts.Finder = symbolize.PathFinder{Sysroot: tc.Sysroot}
	}
	a, _ := open(t, tc.Path, opts)
	r := a.Full(FullOptions{})
	py := r.Python
	var warnings []string
	for _, w := range r.Warnings {
		// qemu-user's cores have no NT_FILE: that warning is expected of them.
		if tc.Sysroot == "" || w != "the core has no NT_FILE note; modules come from the dynamic linker's list in memory" {
			warnings = append(warnings, w)
		}
	}
	if py == nil || py.Error != "" || !strings.HasPrefix(py.Version, "3.11.") || len(py.Warnings) != 0 || len(warnings) != 0 {
		t.Fatalf("python %+v, warnings %q", py, warnings)
	}
	if s := r.Signal; s == nil || s.Name != "SIGSEGV" {
		t.Errorf("signal %+v, want SIGSEGV", r.Signal)
	}
	if py.GILHolderTID == nil || int(*py.GILHolderTID) != tc.PID || len(py.Threads) != 7 {
		t.Fatalf("GIL holder %v (pid %d), %d Python threads; want the main thread, 7", py.GILHolderTID, tc.PID, len(py.Threads))
	}
	ctypes := "/usr/lib/python3.11/ctypes/__init__.py"
	src, err := os.ReadFile(filepath.Join(tc.Sysroot, ctypes))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	stringAt := 0
	for i, inDef := 0, false; i < len(lines) && stringAt == 0; i++ {
		inDef = inDef || strings.HasPrefix(lines[i], "def string_at(")
		if inDef && strings.Contains(lines[i], "return _string_at(") {
			stringAt = i + 1
		}
	}
	main := pyThread(t, py, tc.PID)
	want := []string{
		fmt.Sprintf("string_at %s:%d", ctypes, stringAt),
		fmt.Sprintf("crash_now %s:%d", tc.Source, tc.Line(t, "py_crash")),
		fmt.Sprintf("main %s:%d", tc.Source, tc.Line(t, "py_main_calls")),
		fmt.Sprintf("<module> %s:%d", tc.Source, tc.Line(t, "py_main_calls")+4),
	}
	var got []string
	for _, f := range main.Frames {
		got = append(got, fmt.Sprintf("%s %s:%d", f.Function, f.File, f.Line))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || !main.GILHolder {
		t.Errorf("main thread (GIL %v):\n%s\nwant\n  %s", main.GILHolder, formatPyFrames(main.Frames), strings.Join(want, "\n  "))
	}
	// Each worker's innermost frame in the script is its function at its marker; the
	// spinner waits for the GIL at the loop's backward jump, on the "while True:" line
	// above its marker (CPython 3.10+).
	markers := map[string]int{"sleeper": tc.Line(t, "py_sleep"), "locker": tc.Line(t, "py_lock"),
		"spinner": tc.Line(t, "py_spin") - 1, "eventer": tc.Line(t, "py_event"),
		"queuer": tc.Line(t, "py_queue"), "reader": tc.Line(t, "py_read")}
	for _, th := range py.Threads {
		if th.TID == nil || int(*th.TID) == tc.PID {
			continue
		}
		var fn string
		var line int
		for _, f := range th.Frames {
			if f.File == tc.Source {
				fn, line = f.Function, f.Line
				break
			}
		}
		if markers[fn] == 0 || line != markers[fn] || th.GILHolder {
			t.Errorf("thread %d: %s at line %d (GIL %v)\n%s", *th.TID, fn, line, th.GILHolder, formatPyFrames(th.Frames))
		}
		delete(markers, fn)
	}
	if len(markers) != 0 {
		t.Errorf("no thread runs %v", markers)
	}
	var merged, mainStack []string
	for _, th := range r.Threads {
		if !th.Crashed {
			continue
		}
		for _, f := range th.Frames {
			for _, pf := range f.Python {
				merged = append(merged, pf.Function+":"+strconv.Itoa(pf.Line))
			}
		}
	}
	for _, f := range main.Frames {
		mainStack = append(mainStack, f.Function+":"+strconv.Itoa(f.Line))
	}
	if strings.Join(merged, " ") != strings.Join(mainStack, " ") {
		t.Errorf("merged %v, want %v", merged, mainStack)
	}
	return r
}
