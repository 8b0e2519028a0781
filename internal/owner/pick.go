package owner

import (
	"path/filepath"
	"regexp"
	"strings"
)

// Frame is one frame of a crashing thread as Pick sees it, innermost first. A Python
// frame has Python set and File is its co_filename; a native frame has its module's path.
type Frame struct {
	Module   string
	Function string
	Python   bool
	File     string
	// CLibrary says the function is the C library's by its name (a static binary's raise
	// or memcpy), whatever module holds it.
	CLibrary bool
}

// runtimeModules are base-name prefixes of the shared objects every program runs on:
// the C library and its satellites (glibc, musl), the dynamic loader, the C++ and GCC
// runtimes, and libffi, the call trampoline of ctypes and cffi, which only passes on
// what its caller gave it.
var runtimeModules = []struct{ prefix, what string }{
	{"libc.so", "the C library"}, {"libc-", "the C library"}, {"libc.musl", "the C library"},
	{"libpthread", "the C library"}, {"libm.so", "the C library"}, {"libm-", "the C library"},
	{"libdl", "the C library"}, {"librt", "the C library"}, {"libresolv", "the C library"},
	{"libutil", "the C library"}, {"ld-linux", "the dynamic loader"}, {"ld-musl", "the dynamic loader"},
	{"ld64.so", "the dynamic loader"}, {"ld-2.", "the dynamic loader"},
	{"libstdc++", "the C++ runtime"}, {"libc++.so", "the C++ runtime"}, {"libc++abi", "the C++ runtime"},
	{"libgcc_s", "the GCC runtime"}, {"libffi", "libffi (a call trampoline)"},
	{"linux-vdso", "the vDSO"}, {"linux-gate", "the vDSO"}, {"[vdso]", "the vDSO"},
	{"libpython", "the Python interpreter"},
}

// pythonExe matches the name of a CPython executable: python, python3, python3.12,
// python3.13t, python3.11d.
var pythonExe = regexp.MustCompile(`^python\d*(\.\d+)?[a-z]*$`)

// pythonLib matches a CPython installation's standard library directory (lib/python3.12/,
// lib64/python3.11/); site-packages and dist-packages inside it are not the library.
var pythonLib = regexp.MustCompile(`/lib(64)?/python\d+(\.\d+)?[a-z]*/`)

// runtimeFunctions are function-name prefixes of language runtimes linked into the
// program itself: Go's runtime package and Rust's standard library and panic machinery
// (also as "<std::... as Trait>" impls); and the frame of a signal handler's trampoline.
var runtimeFunctions = []struct{ prefix, what string }{
	{"runtime.", "the Go runtime"}, {"runtime/", "the Go runtime"}, {"internal/runtime/", "the Go runtime"},
	{"std::", "the language's standard library"}, {"core::", "Rust's standard library"},
	{"alloc::", "Rust's standard library"}, {"panic_abort::", "Rust's standard library"},
	{"panic_unwind::", "Rust's standard library"}, {"__rustc::", "Rust's standard library"},
	{"__rust_", "Rust's standard library"}, {"rust_begin_unwind", "Rust's standard library"},
	{"rust_panic", "Rust's standard library"}, {"<signal handler called>", "a signal trampoline"},
}

// Runtime says which runtime a frame belongs to ("the C library", "the Python
// standard library"), or "" when it is the program's or one of its libraries' own code.
// A native frame outside every module (a call through a bad pointer) is "no module".
func Runtime(fr Frame) string {
	if fr.Python {
		f := fr.File
		if strings.HasPrefix(f, "<") {
			return "the Python standard library" // "<frozen importlib._bootstrap>"
		}
		if _, _, site := SiteDir(f); !site && pythonLib.MatchString(f) {
			return "the Python standard library"
		}
		return ""
	}
	fn := strings.TrimPrefix(fr.Function, "<")
	for _, r := range runtimeFunctions {
		if strings.HasPrefix(fn, r.prefix) || strings.HasPrefix(fr.Function, r.prefix) {
			return r.what
		}
	}
	if fr.CLibrary {
		return "the C library"
	}
	if fr.Module == "" {
		return "no module"
	}
	base := filepath.Base(fr.Module)
	for _, r := range runtimeModules {
		if strings.HasPrefix(base, r.prefix) {
			return r.what
		}
	}
	if pythonExe.MatchString(base) {
		return "the Python interpreter"
	}
	if strings.Contains(fr.Module, "/lib-dynload/") && pythonLib.MatchString(fr.Module) {
		return "the Python standard library" // _ctypes, _socket: CPython's own extensions
	}
	return ""
}

// Pick returns the index of the frame that matters: the first, innermost, that is not
// Runtime code. It is -1 when every frame is.
func Pick(frames []Frame) int {
	for i, f := range frames {
		if Runtime(f) == "" {
			return i
		}
	}
	return -1
}
