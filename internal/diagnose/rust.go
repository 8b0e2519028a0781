package diagnose

import (
	"fmt"
	"strings"
)

// rustPanicKinds names what a Rust panic was about from the core or std function that
// raised it (library/core/src/panicking.rs, option.rs, result.rs, slice/index.rs,
// str/mod.rs, library/alloc/src/alloc.rs). The message itself went to stderr.
var rustPanicKinds = []struct{ fn, kind string }{
	{"core::panicking::panic_bounds_check", "index out of bounds"},
	{"core::panicking::panic_null_pointer_dereference", "null pointer dereference, caught by a debug-build check"},
	{"core::panicking::panic_misaligned_pointer_dereference", "misaligned pointer dereference, caught by a debug-build check"},
	{"core::panicking::panic_cannot_unwind", "a panic in a function that cannot unwind"},
	{"core::panicking::panic_in_cleanup", "a panic while dropping values during unwinding"},
	{"core::option::unwrap_failed", "`Option::unwrap()` on a `None` value"},
	{"core::option::expect_failed", "`Option::expect()` on a `None` value"},
	{"core::result::unwrap_failed", "`Result::unwrap()` or `expect()` on an `Err` value"},
	{"core::slice::index::slice_start_index_len_fail", "slice index out of range"},
	{"core::slice::index::slice_end_index_len_fail", "slice index out of range"},
	{"core::slice::index::slice_index_order_fail", "slice index starts after it ends"},
	{"core::slice::index::slice_index_fail", "slice index out of range"},
	{"core::str::slice_error_fail", "string slice out of range or not on a char boundary"},
	{"alloc::alloc::handle_alloc_error", "memory allocation failed"},
	{"std::alloc::rust_oom", "memory allocation failed"},
}

// isRustRuntime reports whether a function belongs to Rust's standard library or its
// panic machinery rather than to the program.
func isRustRuntime(fn string) bool {
	fn = strings.TrimPrefix(fn, "<")
	for _, p := range []string{"std::", "core::", "alloc::", "panic_abort::", "panic_unwind::", "__rustc::", "__rust_", "rust_begin_unwind", "rust_panic"} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// isRustPanic reports whether the stack is Rust's panic machinery (a panic with
// panic=abort, or one that could not unwind).
func isRustPanic(fn string) bool {
	return fn == "rust_begin_unwind" || fn == "__rustc::rust_begin_unwind" || fn == "rust_panic" ||
		strings.HasPrefix(fn, "std::panicking::") || strings.HasPrefix(fn, "core::panicking::")
}

// rustPanic explains an abort by a Rust panic: what kind of panic, from which function
// of the program, and where.
func (f *Facts) rustPanic(d *Diagnosis) {
	kind := ""
	site, at := "", ""
	for i, fn := range f.Functions {
		if i >= 128 {
			break
		}
		if kind == "" {
			for _, k := range rustPanicKinds {
				if fn == k.fn {
					kind = k.kind
				}
			}
			if c, ok := strings.CutPrefix(fn, "core::panicking::panic_const::panic_const_"); ok {
				kind = "arithmetic: " + strings.ReplaceAll(c, "_", " ")
			}
		}
		if fn == "" || libcInternal[fn] || strings.HasPrefix(fn, "__GI_") || strings.HasPrefix(fn, "__pthread_kill") || isRustRuntime(fn) {
			continue
		}
		site = fn
		if i < len(f.Locations) {
			at = f.Locations[i]
		}
		break
	}
	if kind != "" {
		d.add("panic", "%s", kind)
	}
	where := ""
	if site != "" {
		d.add("panic_site", "%s", site)
		where = " in " + site
		if at != "" {
			d.add("panic_location", "%s", at)
			where += " at " + at
		}
	}
	what := "A Rust panic"
	if kind != "" {
		what = "A Rust panic (" + kind + ")"
	}
	d.Summary = fmt.Sprintf("%s%s aborted the process (panic=abort, or a panic that could not unwind); its message went to stderr.", what, where)
}
