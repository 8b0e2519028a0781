package analysis

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/testcore"
)

// CPython on ppc64le, s390x and 32-bit ARM: Debian's libpython3.11 of the architecture
// (multiarch) in an interpreter built with the cross compiler, run under qemu-user,
// which writes the core. As on i386 (checkPySelf), every Python thread's stack is
// exactly what the process printed about itself before os.abort(), the GIL holder is
// the aborting thread, middle's locals are read, and the crashing thread's
// _PyEval_EvalFrameDefault frames carry its Python frames; the native frames around
// them are the ones os.abort() and the interpreter's entry make (checkPySelfNative).

func TestPythonPPC64LE(t *testing.T) {
	tc := testcore.Make(t, testcore.PySelfPPC64LE)
	r := checkPySelf(t, tc, "ppc64le", testcore.PPC64LELibPython311)
	checkPySelfNative(t, tc, r, pySelfNative)
}

// pySelfNative is the aborting thread's native stack, innermost first: glibc's
// pthread_kill internals (unnamed: Debian's libc6 of the architecture has no debug file
// here), raise, abort, libpython's os_abort and cfunction_vectorcall (static), the call
// into the eval loop and its Python frames, _PyEval_Vector (static), PyEval_EvalCode,
// run_mod and friends, the interpreter's entry, main and __libc_start_call_main
// (static).
var pySelfNative = []string{
	"?", "raise", "abort", "?", "?", "PyObject_Vectorcall",
	"_PyEval_EvalFrameDefault[crash_now middle main <module>]",
	"?", "PyEval_EvalCode", "?", "_PyRun_SimpleFileObject", "_PyRun_AnyFileObject",
	"Py_RunMain", "Py_BytesMain", "main@python-main.c:2", "?", "__libc_start_main",
}

// checkPySelfNative checks the native frames of pyself.py's aborting thread, outermost
// last: libc's raise and abort, libpython's os.abort and calls, the eval loop carrying
// the four Python frames, the interpreter's entry down to main (python-main.c:2) and
// __libc_start_main. libpython's static functions have no name (their symbols are in
// Debian's python3.11-dbg, which cannot be installed beside the host's python3.11);
// unnamed frames are "?", a frame's Python frames follow in brackets.
func checkPySelfNative(t *testing.T, tc *testcore.Core, r *report.Report, want []string) {
	checkPySelfNativeIn(t, tc, r, want, false)
}

// checkPySelfNativeIn is checkPySelfNative; with inOrder, want need only appear in the
// stack in order, other frames between them.
func checkPySelfNativeIn(t *testing.T, tc *testcore.Core, r *report.Report, want []string, inOrder bool) {
	t.Helper()
	var crashed *report.Thread
	for i := range r.Threads {
		if r.Threads[i].Crashed {
			crashed = &r.Threads[i]
		}
	}
	if crashed == nil {
		t.Fatal("no crashed thread")
	}
	var got []string
	for _, f := range crashed.Frames {
		name := f.Function
		if name == "" {
			name = "?"
		}
		if len(f.Python) > 0 {
			var py []string
			for _, pf := range f.Python {
				py = append(py, pf.Function)
			}
			name += "[" + strings.Join(py, " ") + "]"
		}
		if f.File != "" {
			name += fmt.Sprintf("@%s:%d", strings.TrimPrefix(f.File, tc.Dir+"/"), f.Line)
		}
		got = append(got, name)
	}
	ok := strings.Join(got, "\n") == strings.Join(want, "\n")
	if inOrder {
		i := 0
		for _, g := range got {
			if i < len(want) && g == want[i] {
				i++
			}
		}
		ok = i == len(want)
	}
	if !ok || crashed.TID != tc.PID {
		t.Errorf("thread %d (pid %d) native frames:\n  %s\nwant\n  %s", crashed.TID, tc.PID, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// s390x: a big-endian process (bookworm's libpython3.11:s390x, unpacked by
// scripts/python-s390x.sh), read with the layout of that build, whose str state bit
// fields count from the most significant bit; Py_Version, an unsigned long, has its
// version in its last four bytes.
func TestPythonS390X(t *testing.T) {
	tc := testcore.Make(t, testcore.PySelfS390X)
	// The layout names the library as go generate read it (internal/python/layout.go).
	r := checkPySelf(t, tc, "s390x", "/root/.cache/coredig/python3.11-s390x/usr/lib/s390x-linux-gnu/libpython3.11.so.1.0")
	if py := r.Python; py != nil && !strings.HasPrefix(py.VersionSource, "Py_Version symbol at ") {
		t.Errorf("version from %q, want the Py_Version symbol", py.VersionSource)
	}
	// s390x's _start has CFI, so the stack goes on to it.
	checkPySelfNative(t, tc, r, append(pySelfNative[:len(pySelfNative):len(pySelfNative)], "_start"))
}

// 32-bit ARM: an ILP32 process whose ABI aligns 8-byte members to 8 (unlike i386),
// read with the layout of Debian's armhf build; the same frames as on ppc64le.
func TestPythonARM(t *testing.T) {
	tc := testcore.Make(t, testcore.PySelfARM)
	r := checkPySelf(t, tc, "arm", testcore.ARMLibPython311)
	checkPySelfNativeIn(t, tc, r, pySelfNativeARM, true)
}

// pySelfNativeARM are the named frames of pySelfNative, in order, which the ARM stack
// must contain. Debian's armhf libpython3.11 has no unwind tables (its .ARM.exidx holds
// one entry, its .eh_frame none; its .debug_frame is in python3.11-dbg:armhf), so its
// frames are found by Thumb-2 prologue analysis and stack scans (marked guessed); a
// scan may add a stale frame between two of them (libc's _IO_file_close_it between two
// unnamed libpython frames above _PyRun_SimpleFileObject, seen here), and glibc's armhf
// pthread_kill shows two unnamed frames.
var pySelfNativeARM = []string{
	"raise", "abort", "PyObject_Vectorcall",
	"_PyEval_EvalFrameDefault[crash_now middle main <module>]",
	"PyEval_EvalCode", "_PyRun_SimpleFileObject", "_PyRun_AnyFileObject",
	"Py_RunMain", "Py_BytesMain", "main@python-main.c:2", "__libc_start_main",
}

// threads6.py under CPython 3.11 of ppc64le, s390x and 32-bit ARM: a NULL+0x60 read in
// ctypes.string_at, seven Python threads each at its own line, the crashing thread's
// Python stack merged into its native one (checkThreads6, as on i386). qemu-user writes
// no NT_SIGINFO: the signal is from NT_PRSTATUS.
func TestPythonThreads6Foreign(t *testing.T) {
	for _, spec := range []testcore.Spec{testcore.Threads6PPC64LE, testcore.Threads6S390X, testcore.Threads6ARM} {
		t.Run(spec.Name, func(t *testing.T) {
			checkThreads6(t, testcore.Make(t, spec))
		})
	}
}
