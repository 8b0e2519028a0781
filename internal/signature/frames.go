package signature

import (
	"fmt"
	"path"
	"strings"

	"github.com/coredig/coredig/internal/report"
)

// signalTrampoline is the name analysis gives the kernel's signal trampoline frame.
const signalTrampoline = "<signal handler called>"

// maxFrames bounds the frames looked at.
const maxFrames = 4096

// role is what a frame is to the signature.
type role int

const (
	// code is a frame that may identify a bug.
	code role = iota
	// skip is machinery that never does; its caller is named instead.
	skip
	// terminal is machinery a bug calls to die (raise, abort, __cxa_throw, a panic, a
	// sanitizer's report): every frame it called in turn is machinery too.
	terminal
	// entry is where a process or thread starts (_start, __libc_start_main,
	// start_thread): nothing below it identifies a bug.
	entry
	// trampoline is the kernel's signal frame: the frames above it ran in a signal
	// handler.
	trampoline
	// interpreter is a frame of the CPython interpreter, named by the Python code it ran.
	interpreter
)

// Frames returns the names of the top depth frames of a crashing stack (innermost
// first) that may identify a bug. reraised says the signal handler on the stack
// re-raised a fault it caught (a crash handler): the frames above its signal trampoline
// are then the handler's, not the bug's.
//
// Machinery is skipped and its caller named instead: signal trampolines and crash
// handlers, libc's abort path and string and memory routines, glibc's malloc checks,
// C++ throw and terminate, Rust's panic machinery, the Go runtime, sanitizer runtimes,
// foreign-function machinery (libffi, _ctypes, _cffi_backend) and the process's entry
// frames. A run of CPython interpreter frames (the python executable or libpython)
// becomes the Python functions it was running ("module.qualname"). A frame without a
// name is "module+0xoffset" with the link-time offset; a frame with neither name nor
// module (a wild pc) is skipped. Repeats (recursion, an inlined call and its concrete
// frame of one name) count once.
func Frames(frames []report.Frame, depth int, reraised bool) []string {
	out, sawInterpreter := walk(frames, reraised, true)
	if len(out) == 0 && sawInterpreter {
		// The interpreter's frames carry no Python frames (an unsupported version, an
		// unreadable state): its own native frames are better than no frame at all.
		out, _ = walk(frames, reraised, false)
	}
	return names(out, depth)
}

// walk collects the named frames of a stack; python says whether interpreter frames
// are replaced by their Python frames (else they count as code).
func walk(frames []report.Frame, reraised, python bool) (out []cand, sawInterpreter bool) {
	ctx := 0 // where the current signal context starts in out
	seenTrampoline := false
	for i := range frames {
		if i >= maxFrames {
			break
		}
		f := &frames[i]
		switch roleOf(f) {
		case skip:
			continue
		case terminal:
			out = out[:ctx]
			continue
		case trampoline:
			if reraised && !seenTrampoline {
				out = out[:0]
			}
			seenTrampoline = true
			ctx = len(out)
			continue
		case entry:
			mod := path.Base(f.Module)
			for len(out) > ctx && out[len(out)-1].unnamed && out[len(out)-1].module == mod {
				out = out[:len(out)-1]
			}
			return out, sawInterpreter
		case interpreter:
			sawInterpreter = true
			if python {
				for _, pf := range f.Python {
					out = add(out, cand{name: pythonName(pf)})
				}
				continue
			}
		}
		c, ok := frameName(f)
		if ok {
			out = add(out, c)
		}
	}
	return out, sawInterpreter
}

// cand is one named frame.
type cand struct {
	name    string
	module  string // base name, for an unnamed frame
	unnamed bool
}

func add(out []cand, c cand) []cand {
	if len(out) > 0 && out[len(out)-1].name == c.name {
		return out
	}
	return append(out, c)
}

func names(out []cand, depth int) []string {
	if len(out) > depth {
		out = out[:depth]
	}
	s := make([]string, 0, len(out))
	for _, c := range out {
		s = append(s, c.name)
	}
	return s
}

func frameName(f *report.Frame) (cand, bool) {
	if f.Function != "" {
		if n := Normalize(f.Function); n != "" {
			return cand{name: n}, true
		}
	}
	if f.Module == "" || f.ModuleOffset == nil {
		return cand{}, false
	}
	mod := path.Base(f.Module)
	return cand{name: fmt.Sprintf("%s+%#x", mod, uint64(*f.ModuleOffset)), module: mod, unnamed: true}, true
}

func pythonName(pf report.PythonFrame) string {
	q := pf.QualName
	if q == "" {
		q = pf.Function
	}
	if q == "" {
		q = "?"
	}
	return PythonModule(pf.File) + "." + q
}

// roleOf classifies one frame by its function and module names.
func roleOf(f *report.Frame) role {
	fn, mod := f.Function, path.Base(f.Module)
	if f.Module == "" {
		mod = ""
	}
	if fn == signalTrampoline {
		return trampoline
	}
	switch {
	case isPythonInterpreter(mod):
		return interpreter
	case isFFI(mod):
		return skip
	case isSanitizerModule(mod):
		return terminal
	case isVDSO(mod):
		return skip // the kernel's system call entry (i386 __kernel_vsyscall) and clocks
	}
	if fn == "" {
		return code
	}
	bare := strings.TrimPrefix(fn, "__GI_")
	base := Normalize(fn)
	switch {
	case entryFuncs[base]:
		return entry
	case terminalFuncs[base] || strings.HasPrefix(bare, "__pthread_kill"):
		return terminal
	case skipFuncs[base]:
		return skip
	case strings.HasPrefix(fn, "faulthandler_"):
		return skip
	case strings.HasPrefix(fn, "runtime."):
		return skip // the Go runtime
	case isSanitizer(fn):
		return terminal
	case isCXXMachinery(fn):
		return terminal
	case isRustPanic(fn):
		return terminal
	case isRustRuntime(fn):
		return skip
	case isStringRoutine(bare, mod):
		return skip
	}
	return code
}

// isVDSO reports whether a module (its base name) is the kernel's vDSO, by the names
// cores give it.
func isVDSO(mod string) bool {
	return strings.HasPrefix(mod, "[vdso") || strings.HasPrefix(mod, "linux-vdso") || strings.HasPrefix(mod, "linux-gate")
}

// entryFuncs start a process or thread (glibc csu/libc-start.c, nptl/pthread_create.c,
// sysdeps/unix/sysv/linux/*/clone*.S).
var entryFuncs = map[string]bool{
	"_start": true, "__libc_start_main": true, "__libc_start_main_impl": true, "__libc_start_call_main": true,
	"__libc_start_main_alias_2": true, "start_thread": true, "thread_start": true, "clone": true, "clone3": true,
	"__clone": true, "__clone3": true, "__clone_internal": true, "_dl_start_user": true,
}

// terminalFuncs are glibc's paths to a deliberate death: raise and abort, assert, the
// fortify and stack-protector checks, fatal messages and malloc's consistency checks
// (assert/assert.c, stdlib/abort.c, debug/*.c, sysdeps/posix/libc_fatal.c,
// malloc/malloc.c).
var terminalFuncs = map[string]bool{
	"raise": true, "__raise": true, "gsignal": true, "abort": true, "__abort": true,
	"__assert_fail": true, "__assert_fail_base": true, "__assert_perror_fail": true, "__assert": true,
	"__stack_chk_fail": true, "__stack_chk_fail_local": true, "__chk_fail": true, "__fortify_fail": true,
	"__fortify_fail_abort": true, "__libc_message": true, "__libc_message_impl": true, "__libc_fatal": true,
	"malloc_printerr": true, "pthread_kill": true, "tgkill": true, "kill": true,
}

// skipFuncs are glibc's allocator entry points and internals: a crash inside them is a
// heap corrupted by their caller, and their names say nothing about which bug.
var skipFuncs = map[string]bool{
	"malloc": true, "__libc_malloc": true, "_int_malloc": true, "free": true, "__libc_free": true, "cfree": true,
	"_int_free": true, "_int_free_merge_chunk": true, "_int_free_create_chunk": true, "_int_free_maybe_consolidate": true,
	"realloc": true, "__libc_realloc": true, "_int_realloc": true, "calloc": true, "__libc_calloc": true,
	"malloc_consolidate": true, "tcache_double_free_verify": true, "unlink_chunk": true, "sysmalloc": true,
	"__libc_memalign": true, "_int_memalign": true, "posix_memalign": true, "aligned_alloc": true,
}

// stringRoutines are libc's string and memory functions; their optimized variants add a
// suffix (__strlen_evex, __memmove_avx_unaligned_erms: sysdeps/x86_64/multiarch).
var stringRoutines = map[string]bool{
	"strlen": true, "strnlen": true, "strcpy": true, "strncpy": true, "stpcpy": true, "stpncpy": true,
	"strcat": true, "strncat": true, "strcmp": true, "strncmp": true, "strcasecmp": true, "strncasecmp": true,
	"strchr": true, "strchrnul": true, "strrchr": true, "strstr": true, "strcasestr": true, "strspn": true,
	"strcspn": true, "strpbrk": true, "strdup": true, "strndup": true, "strtok": true, "strcoll": true,
	"memcpy": true, "mempcpy": true, "memmove": true, "memset": true, "memcmp": true, "bcmp": true,
	"memchr": true, "memrchr": true, "rawmemchr": true, "memmem": true, "wmemset": true, "wmemcpy": true,
	"wmemchr": true, "wcslen": true, "wcsnlen": true, "wcscpy": true, "wcscmp": true, "wcschr": true, "bzero": true,
}

// CLibraryMachinery reports whether fn is one of the C library's functions that never
// identify a bug, by name alone: the paths to a deliberate death (raise, abort, assert, the
// fortify and stack-protector checks), the allocator's entry points and the string and
// memory routines. A static binary carries them inside the program itself, where no
// module name says they are the C library's.
func CLibraryMachinery(fn string) bool {
	return terminalFuncs[fn] || skipFuncs[fn] || isStringRoutine(fn, "")
}

// isStringRoutine reports whether fn is a libc string or memory routine: by its exact
// name anywhere (static binaries carry them), or as an optimized variant in libc or
// spelled with glibc's reserved leading underscores.
func isStringRoutine(fn, mod string) bool {
	if stringRoutines[fn] {
		return true
	}
	trimmed := strings.TrimLeft(fn, "_")
	stem, _, _ := strings.Cut(trimmed, "_")
	if !stringRoutines[stem] {
		return false
	}
	return trimmed != fn || isLibc(mod)
}

// isPythonInterpreter reports whether a module is CPython itself: libpython, or a
// python executable ("python3.12", "python3", "python").
func isPythonInterpreter(mod string) bool {
	if strings.HasPrefix(mod, "libpython") {
		return true
	}
	rest, ok := strings.CutPrefix(mod, "python")
	return ok && strings.Trim(rest, "0123456789.dmut") == ""
}

// isFFI reports whether a module is foreign-function machinery: libffi, ctypes' C
// module, cffi's backend.
func isFFI(mod string) bool {
	return strings.HasPrefix(mod, "libffi") || strings.HasPrefix(mod, "_ctypes") || strings.HasPrefix(mod, "_cffi_backend")
}

// isSanitizerModule reports whether a module is a sanitizer runtime (libasan.so.8,
// libubsan.so.1, libtsan.so.2, ...).
func isSanitizerModule(mod string) bool {
	for _, p := range []string{"libasan", "libubsan", "libtsan", "libmsan", "liblsan", "libhwasan", "libclang_rt."} {
		if strings.HasPrefix(mod, p) {
			return true
		}
	}
	return false
}

// isSanitizer reports whether fn belongs to a sanitizer runtime (compiler-rt's
// __asan_report_load4, __sanitizer::Die, __ubsan_handle_*; linked statically with
// -static-libasan or clang's default).
func isSanitizer(fn string) bool {
	for _, p := range []string{"__asan", "__sanitizer", "__ubsan", "__tsan", "__msan", "__lsan", "__hwasan", "__interceptor_", "___interceptor_"} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// isCXXMachinery reports whether fn is the C++ runtime's throw, terminate or unwind
// machinery (libstdc++ libsupc++/eh_*.cc, libgcc unwind-dw2.c).
func isCXXMachinery(fn string) bool {
	for _, p := range []string{"__cxa_throw", "__cxa_rethrow", "__cxa_bad_", "__cxa_call_terminate", "__cxa_call_unexpected",
		"std::terminate", "std::rethrow_exception", "std::__throw_", "__cxxabiv1::", "__gnu_cxx::__verbose_terminate_handler",
		"_Unwind_", "__gxx_personality"} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// isRustPanic reports whether fn is Rust's panic path, from the panic to the abort
// (library/core/src/panicking.rs, library/std/src/panicking.rs, panic_abort).
func isRustPanic(fn string) bool {
	if strings.HasPrefix(fn, "std::panicking::") {
		// catch_unwind and try run the program (outer frames): not the panic.
		return !strings.Contains(fn, "catch_unwind") && !strings.Contains(fn, "::try")
	}
	for _, p := range []string{"core::panicking::", "rust_panic", "__rust_start_panic", "rust_begin_unwind", "__rustc::",
		"__rust_abort", "std::process::abort", "std::sys::pal::unix::abort_internal", "core::option::unwrap_failed",
		"core::option::expect_failed", "core::result::unwrap_failed", "core::slice::index::slice_", "core::str::slice_error_fail",
		"alloc::alloc::handle_alloc_error", "std::alloc::rust_oom", "panic_abort::", "panic_unwind::"} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// isRustRuntime reports whether fn is the Rust runtime around the program: std::rt
// (lang_start), std::sys, std::panic::catch_unwind, the FnOnce shims main goes through.
func isRustRuntime(fn string) bool {
	fn = strings.TrimPrefix(fn, "<")
	fn = strings.TrimPrefix(fn, "&")
	fn = strings.TrimPrefix(fn, "dyn ")
	for _, p := range []string{"std::rt::", "std::sys::", "std::panic::", "std::panicking::", "core::ops::function::", "__rust_begin_short_backtrace"} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}
