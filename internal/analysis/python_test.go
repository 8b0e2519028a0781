package analysis

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

func pyThread(t *testing.T, py *report.Python, tid int) report.PythonThread {
	t.Helper()
	for _, th := range py.Threads {
		if th.TID != nil && int(*th.TID) == tid {
			return th
		}
	}
	t.Fatalf("no Python thread with tid %d", tid)
	return report.PythonThread{}
}

// The Python view through the real core reader and module table (internal/python has
// its own exhaustive per-version tests over a stand-in reader).
func TestPythonThreads6(t *testing.T) {
	tc := testcore.Make(t, testcore.Threads6Py)
	a, _ := open(t, tc.Path, symbolize.Options{})
	r := a.Full(FullOptions{})
	py := r.Python
	if py == nil || py.Version != "3.12.1" || py.Error != "" {
		t.Fatalf("python %+v", py)
	}
	if py.Finalizing == nil || *py.Finalizing || py.GILHolderTID == nil || int(*py.GILHolderTID) != tc.PID || len(py.Threads) != 7 {
		t.Fatalf("finalizing %v, GIL %v (pid %d), %d threads", py.Finalizing != nil && *py.Finalizing, py.GILHolderTID, tc.PID, len(py.Threads))
	}
	main := pyThread(t, py, tc.PID)
	want := []struct {
		fn   string
		line int
	}{{"string_at", 0}, {"crash_now", tc.Line(t, "py_crash")}, {"main", tc.Line(t, "py_main_calls")}, {"<module>", 0}}
	if len(main.Frames) != len(want) || !main.GILHolder {
		t.Fatalf("main thread frames %+v", main.Frames)
	}
	for i, w := range want {
		f := main.Frames[i]
		if f.Function != w.fn || (w.line != 0 && f.Line != w.line) {
			t.Errorf("frame %d = %s:%d, want %s:%d", i, f.Function, f.Line, w.fn, w.line)
		}
		if i > 0 && f.File != tc.Source {
			t.Errorf("frame %d file %s, want %s", i, f.File, tc.Source)
		}
	}
	// The diagnosis names the C caller that passed the pointer to libc, and the Python code.
	d := r.Diagnosis
	if d == nil || !strings.HasPrefix(d.Evidence["called_from"], "string_at (_ctypes.cpython-312-x86_64-linux-gnu.so) at ") {
		t.Errorf("called_from %q", d.Evidence["called_from"])
	}
	if want := "crash_now (" + tc.Source + ":" + strconv.Itoa(tc.Line(t, "py_crash")) + ")"; d == nil || !strings.Contains(d.Evidence["python_stack"], want) {
		t.Errorf("python_stack %q lacks %q", d.Evidence["python_stack"], want)
	}
	// Every worker runs its own function at its marker line.
	found := map[string]bool{}
	for _, th := range py.Threads {
		for _, f := range th.Frames {
			if f.File == tc.Source {
				found[f.Function] = true
				break
			}
		}
	}
	for _, fn := range []string{"sleeper", "locker", "spinner", "eventer", "queuer", "reader"} {
		if !found[fn] {
			t.Errorf("no thread runs %s", fn)
		}
	}
}

func TestPythonFinalizing(t *testing.T) {
	tc := testcore.Make(t, testcore.FinalizePy)
	a, _ := open(t, tc.Path, symbolize.Options{})
	py := a.Python()
	if py == nil || py.Finalizing == nil || !*py.Finalizing || py.FinalizingTID == nil || int(*py.FinalizingTID) != tc.PID {
		t.Fatalf("python %+v: want finalizing by %d", py, tc.PID)
	}
	th := pyThread(t, py, tc.PID)
	if len(th.Frames) == 0 || th.Frames[len(th.Frames)-1].QualName != "Boom.__del__" || th.Frames[len(th.Frames)-1].Line != tc.Line(t, "py_crash") {
		t.Errorf("finalizing thread frames %+v", th.Frames)
	}
}

func TestNoPythonInCProgram(t *testing.T) {
	tc := testcore.Make(t, testcore.DerefPIE)
	a, _ := open(t, tc.Path, symbolize.Options{})
	if py := a.Python(); py != nil {
		t.Errorf("a C program has no Python state, got %+v", py)
	}
}

// The merged view: each native _PyEval_EvalFrameDefault frame of the crashing thread
// carries the Python frames it ran, and together they are exactly the thread's Python
// stack, in order, for every supported CPython.
func TestMergedPythonStack(t *testing.T) {
	for _, v := range []string{"3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"} {
		t.Run(v, func(t *testing.T) {
			tc := testcore.Make(t, testcore.PythonSpec("threads6.py", v))
			a, _ := open(t, tc.Path, symbolize.Options{})
			r := a.Full(FullOptions{})
			if r.Python == nil || r.Python.Error != "" {
				t.Fatalf("python: %+v", r.Python)
			}
			for _, w := range r.Warnings {
				t.Errorf("warning: %s", w)
			}
			crashed := r.Threads[0]
			py := pyThread(t, r.Python, crashed.TID)
			var merged []string
			evals := 0
			for _, f := range crashed.Frames {
				if f.Function == "_PyEval_EvalFrameDefault" && !f.Inlined {
					evals++
					if len(f.Python) == 0 {
						t.Errorf("native eval frame #%d carries no Python frame", f.Index)
					}
				}
				for _, pf := range f.Python {
					merged = append(merged, pf.Function+":"+strconv.Itoa(pf.Line))
				}
			}
			var want []string
			for _, pf := range py.Frames {
				want = append(want, pf.Function+":"+strconv.Itoa(pf.Line))
			}
			if strings.Join(merged, " ") != strings.Join(want, " ") || evals == 0 {
				t.Errorf("merged %v over %d eval frames, want %v", merged, evals, want)
			}
			if want[1] != "crash_now:"+strconv.Itoa(tc.Line(t, "py_crash")) {
				t.Errorf("second Python frame %s, want crash_now at the py_crash marker", want[1])
			}
		})
	}
}

// Interpreters coredig cannot read say so, with their version, and the native report
// stays whole.
func TestPythonUnsupportedVersions(t *testing.T) {
	for _, tc := range []struct {
		spec    testcore.Spec
		version string
		err     string
	}{
		{testcore.PythonSpec("threads6.py", "3.7.16"), "3.7.16", "unsupported version 3.7.16"},
		{testcore.Spec{Name: "string_at-py2.7.18", Source: "abort.py", Python: "/root/.pyenv/versions/2.7.18/bin/python2.7",
			PyFlags: []string{"-c", "import ctypes; ctypes.string_at(0x60)"}}, "2.7", "unsupported version 2.7: python2.7 has no _PyRuntime symbol"},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, _ := open(t, c.Path, symbolize.Options{})
			r := a.Full(FullOptions{})
			if r.Python == nil || r.Python.Version != tc.version || !strings.Contains(r.Python.Error, tc.err) || len(r.Python.Threads) != 0 {
				t.Fatalf("python %+v: want version %s and error %q", r.Python, tc.version, tc.err)
			}
			if r.Diagnosis == nil || r.Diagnosis.Kind != "null_pointer_dereference" && r.Diagnosis.Kind != "wild_pointer" || len(r.Threads[0].Frames) < 5 {
				t.Errorf("native report: diagnosis %+v, %d frames", r.Diagnosis, len(r.Threads[0].Frames))
			}
		})
	}
}

// Subinterpreters are listed with their own thread states and stacks.
func TestPythonSubinterpreter(t *testing.T) {
	tc := testcore.Make(t, testcore.PythonSpec("subinterp.py", "3.12.1"))
	a, _ := open(t, tc.Path, symbolize.Options{})
	py := a.Python()
	if py == nil || py.Interpreters != 2 {
		t.Fatalf("python %+v: want 2 interpreters", py)
	}
	var sub, main *report.PythonThread
	for i := range py.Threads {
		th := &py.Threads[i]
		if th.Interpreter == 1 && len(th.Frames) == 2 {
			sub = th
		}
		if th.GILHolder {
			main = th
		}
	}
	if sub == nil || sub.Frames[0].Function != "sub_sleeper" || sub.Frames[0].File != "<string>" || sub.Frames[0].Line != 4 || sub.Frames[1].Function != "<module>" || sub.Frames[1].Line != 5 {
		t.Errorf("subinterpreter thread %+v", sub)
	}
	if main == nil || main.Interpreter != 0 || int(*main.TID) != tc.PID || main.Frames[len(main.Frames)-1].Line != tc.Line(t, "py_crash") {
		t.Errorf("main thread %+v", main)
	}
	// The subinterpreter's thread state was created by the main thread: it names it.
	if sub != nil && (sub.TID == nil || int(*sub.TID) != tc.PID || !strings.Contains(sub.TIDSource, "shared with another thread state")) {
		t.Errorf("subinterpreter thread id %v (%s)", sub.TID, sub.TIDSource)
	}
	warned := false
	for _, w := range py.Warnings {
		warned = warned || strings.Contains(w, "2 thread states name OS thread "+strconv.Itoa(tc.PID))
	}
	if !warned {
		t.Errorf("no warning about the shared thread id: %v", py.Warnings)
	}
}

// Debian's /usr/bin/python3.11 has only .dynsym: the Python view comes from the generated
// 3.11 layout, with no debug information at all, through the whole pipeline.
func TestPythonDebianStripped(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3.11"); err != nil {
		t.Fatalf("Debian's python3.11 is needed (scripts/deps.sh installs it): %v", err)
	}
	tc := testcore.Make(t, testcore.Spec{Name: "threads6-debian-python3.11", Source: "threads6.py", Python: "/usr/bin/python3.11"})
	a, _ := open(t, tc.Path, symbolize.Options{})
	r := a.Full(FullOptions{})
	py := r.Python
	if py == nil || !strings.HasPrefix(py.Version, "3.11.") || !strings.Contains(py.LayoutSource, "3.11") || len(py.Threads) != 7 {
		t.Fatalf("python %+v", py)
	}
	if py.GILHolderTID == nil || int(*py.GILHolderTID) != tc.PID {
		t.Errorf("GIL holder %v, want %d", py.GILHolderTID, tc.PID)
	}
	main := pyThread(t, py, tc.PID)
	if len(main.Frames) != 4 || main.Frames[1].Function != "crash_now" || main.Frames[1].Line != tc.Line(t, "py_crash") || main.Frames[1].File != tc.Source {
		t.Errorf("main thread %+v", main.Frames)
	}
	exe := module(t, r, "/usr/bin/python3.11")
	if exe.Status != "verified" || strings.Contains(exe.SymbolSource, ".symtab") {
		t.Errorf("executable module %+v: want verified, with no .symtab", exe)
	}
}

// A core cut before _PyRuntime's page: the interpreter state is unknown, not "no".
func TestPythonTruncatedRuntime(t *testing.T) {
	tc := testcore.Make(t, testcore.Threads6Py)
	a, _ := open(t, tc.Path, symbolize.Options{})
	rt, _, ok := a.Modules.FindSymbol("_PyRuntime")
	seg := a.Core.SegmentFor(rt)
	if !ok || seg == nil || seg.Filesz == 0 {
		t.Fatalf("_PyRuntime at %#x is not in a dumped segment", rt)
	}
	full, err := os.ReadFile(tc.Path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "core")
	if err := os.WriteFile(cut, full[:seg.Off], 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := open(t, cut, symbolize.Options{})
	py := b.Python()
	if py == nil || py.Version != "3.12.1" || py.Finalizing != nil || len(py.Threads) != 0 {
		t.Fatalf("python %+v: want version 3.12.1, finalizing unknown, no threads", py)
	}
	found := false
	for _, w := range py.Warnings {
		found = found || strings.Contains(w, "_PyRuntimeState._finalizing") && strings.Contains(w, "cut off by truncation")
	}
	if !found {
		t.Errorf("warnings %v do not say the runtime was cut off", py.Warnings)
	}
}

// The locals of a Python frame against CPython's own gdb extension (py-locals of the
// python-gdb.py of the same build) on pylocals.py, 3.8 to 3.13: every value py-locals
// prints in full (ints, str, bytes, bools, None) is the same in coredig. Floats and
// containers, which py-locals shows only by address, and closure cells, which it does
// not open, are checked against the script.
func TestPythonLocals(t *testing.T) {
	for _, v := range []string{"3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"} {
		t.Run(v, func(t *testing.T) {
			tc := testcore.Make(t, testcore.PythonSpec("pylocals.py", v))
			short := v[:strings.LastIndexByte(v, '.')]
			gdbPy := filepath.Join(filepath.Dir(tc.Exe), "python"+short+"-gdb.py")
			out, err := exec.Command("gdb", "-batch", "-nx", "-iex", "set auto-load off", "-ex", "source "+gdbPy,
				"-ex", "py-up", "-ex", "py-locals", tc.Exe, tc.Path).CombinedOutput()
			if err != nil {
				t.Fatalf("gdb py-locals (the oracle) failed: %v\n%s", err, out)
			}
			want := map[string]string{}
			scalar := regexp.MustCompile(`^(-?\d+|True|False|None|b?'.*'|b?".*")$`)
			in := false
			for _, line := range strings.Split(string(out), "\n") {
				// py-up prints the probe frame; py-locals then lists its locals, under a
				// "Locals for probe" heading in newer python-gdb.py versions.
				if strings.Contains(line, "Frame 0x") {
					in = strings.Contains(line, ", in probe (")
					continue
				}
				if strings.HasPrefix(line, "Locals for ") {
					in = line == "Locals for probe"
					continue
				}
				if k, val, ok := strings.Cut(line, " = "); ok && in && scalar.MatchString(val) {
					want[k] = val
				}
			}
			if len(want) < 7 {
				t.Fatalf("py-locals printed %d scalar locals of probe:\n%s", len(want), out)
			}
			a, _ := open(t, tc.Path, symbolize.Options{})
			py := a.Python()
			got := map[string]string{}
			for _, th := range py.Threads {
				for _, f := range th.Frames {
					if f.Function == "probe" {
						for _, l := range f.Locals {
							got[l.Name] = l.Value
						}
					}
				}
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s = %q, py-locals says %q", k, got[k], w)
				}
			}
			for k, w := range map[string]string{"ratio": "0.25", "whole": "3.0", "huge": "1208925819614629174706179", "text": `"héllo 'q'"`, "raw": `b'\x00ab\xff'`} {
				if got[k] != w {
					t.Errorf("%s = %q, want %q", k, got[k], w)
				}
			}
			if !strings.HasPrefix(got["items"], "<list, 3 items, at 0x") || !strings.HasPrefix(got["table"], "<dict, 1 items, at 0x") {
				t.Errorf("items %q, table %q", got["items"], got["table"])
			}
			if short != "3.8" && short != "3.9" && short != "3.10" && (got["small"] != "7" || got["count"] != "42") {
				t.Errorf("closure cells: small %q, count %q, want 7 and 42", got["small"], got["count"])
			}
		})
	}
}
