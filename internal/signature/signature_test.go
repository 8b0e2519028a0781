package signature

import (
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/report"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain C", "deref", "deref"},
		{"isra", "parse_header.isra.0", "parse_header"},
		{"constprop", "compute.constprop.3", "compute"},
		{"part then isra", "walk.part.0.isra.0", "walk"},
		{"cold", "handle_error.cold", "handle_error"},
		{"cold numbered", "handle_error.cold.7", "handle_error"},
		{"lto_priv", "helper.lto_priv.0", "helper"},
		{"llvm", "helper.llvm.1234567890", "helper"},
		{"demangler clone", "foo(int) [clone .isra.0]", "foo"},
		{"demangler clone cold", "ns::foo(char const*) [clone .cold]", "ns::foo"},
		{"GI alias", "__GI___pthread_kill", "__pthread_kill"},
		{"GI raise", "__GI_raise", "raise"},
		{"libc alias kept", "__libc_pause", "__libc_pause"},
		{"C++ parameters", "crasher::level3(int, char const*)", "crasher::level3"},
		{"C++ const method", "Foo::get() const", "Foo::get"},
		{"C++ ref-qualified", "Foo::take() &&", "Foo::take"},
		{"template collapsed", "std::vector<int, std::allocator<int> >::at(unsigned long)", "std::vector<...>::at"},
		{"template function with return type", "void ns::apply<Foo>(Foo&)", "ns::apply<...>"},
		{"return type with spaces", "unsigned long ns::count<int>(int const*)", "ns::count<...>"},
		{"nested template", "std::_Hashtable<K, std::pair<K const, V>, A>::find(K const&)", "std::_Hashtable<...>::find"},
		{"call operator", "Foo::operator()(int) const", "Foo::operator()"},
		{"less-than operator", "Foo::operator<(Foo const&) const", "Foo::operator<"},
		{"shift operator", "operator<<(std::ostream&, Foo const&)", "operator<<"},
		{"operator new", "operator new(unsigned long)", "operator new"},
		{"anonymous namespace", "(anonymous namespace)::helper(int)", "(anonymous namespace)::helper"},
		{"lambda in function", "run(int)::{lambda(int)#1}::operator()(int) const", "run::{lambda(int)#1}::operator()"},
		{"Rust hash", "panic::pick::h0123456789abcdef", "panic::pick"},
		{"Rust generic", "core::ptr::drop_in_place<alloc::vec::Vec<u8>>", "core::ptr::drop_in_place<...>"},
		{"Rust trait impl", "<&dyn core::ops::function::Fn<(), Output = i32> as core::ops::function::FnOnce<()>>::call_once", "<...>::call_once"},
		{"Rust closure", "std::rt::lang_start::{{closure}}", "std::rt::lang_start::{{closure}}"},
		{"Go method", "main.(*Server).handle", "main.(*Server).handle"},
		{"Go closure", "main.main.func1", "main.main.func1"},
		{"Go generic", "main.Map[...]", "main.Map[...]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Normalize(tc.in); got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPythonModule(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/work/app/threads6.py", "threads6"},
		{"/root/.pyenv/versions/3.12.1/lib/python3.12/ctypes/__init__.py", "ctypes"},
		{"/usr/lib/python3.11/json/decoder.py", "json.decoder"},
		{"/venv/lib/python3.12/site-packages/numpy/core/numeric.py", "numpy.core.numeric"},
		{"/usr/lib/python3/dist-packages/grpc/__init__.py", "grpc"},
		{"/usr/lib/python3.13t/threading.py", "threading"},
		{"/srv/pkg/__init__.py", "pkg"},
		{"<frozen importlib._bootstrap>", "importlib._bootstrap"},
		{"<string>", "<string>"},
		{"script.py", "script"},
	} {
		if got := PythonModule(tc.in); got != tc.want {
			t.Errorf("PythonModule(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestScrub(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"x == 42", "x == N"},
		{"free(): double free detected in tcache 2", "free(): double free detected in tcache N"},
		{"bad pointer 0x7ffd1234abcd\tin\nslot 17", "bad pointer 0x? in slot N"},
		{"utf8 decoder", "utf8 decoder"},
	} {
		if got := Scrub(tc.in); got != tc.want {
			t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// fr builds a frame: "function@module" or "@module+0xoffset" for an unnamed one.
func fr(spec string) report.Frame {
	fn, mod, _ := strings.Cut(spec, "@")
	f := report.Frame{Function: fn}
	if m, off, ok := strings.Cut(mod, "+"); ok {
		mod = m
		var v uint64
		for _, c := range strings.TrimPrefix(off, "0x") {
			v = v*16 + uint64(strings.IndexRune("0123456789abcdef", c))
		}
		f.ModuleOffset = report.HexPtr(v)
	} else if mod != "" {
		f.ModuleOffset = report.HexPtr(0x1000)
	}
	if mod != "" {
		f.Module = "/usr/lib/" + mod
	}
	return f
}

func frs(specs ...string) []report.Frame {
	var out []report.Frame
	for _, s := range specs {
		out = append(out, fr(s))
	}
	return out
}

func TestFrames(t *testing.T) {
	py := func(f report.Frame, pys ...report.PythonFrame) report.Frame { f.Python = pys; return f }
	for _, tc := range []struct {
		name     string
		frames   []report.Frame
		reraised bool
		want     string
	}{
		{"i386 system call through the vDSO", frs("__kernel_vsyscall@[vdso]", "write@libc.so.6", "log_line@prog", "main@prog"), false, "write < log_line < main"},
		{"plain", frs("deref@deref", "main@deref", "__libc_start_call_main@libc.so.6", "_start@deref"), false, "deref < main"},
		{"abort path on x86_64", frs("__pthread_kill_implementation@libc.so.6", "__pthread_kill_internal@libc.so.6", "__GI___pthread_kill@libc.so.6",
			"__GI_raise@libc.so.6", "__GI_abort@libc.so.6", "do_abort@abort", "main@abort", "__libc_start_call_main@libc.so.6"), false, "do_abort < main"},
		{"unnamed libc frames inside raise and before the entry", frs("@libc.so.6+0x80990", "raise@libc.so.6", "abort@libc.so.6", "do_abort@abort",
			"main@abort", "@libc.so.6+0x27780", "__libc_start_main@libc.so.6"), false, "do_abort < main"},
		{"unnamed frame of the program stays", frs("@prog+0x1234", "main@prog", "_start@prog"), false, "prog+0x1234 < main"},
		{"wild pc", frs("", "call_it@wildcall", "main@wildcall"), false, "call_it < main"},
		{"fault in a signal handler", frs("on_usr1@sig", "<signal handler called>@libc.so.6", "@libc.so.6+0x80990", "raise@libc.so.6",
			"send_usr1@sig", "main@sig"), false, "on_usr1 < send_usr1 < main"},
		{"crash handler re-raised", frs("__GI_raise@libc.so.6", "my_crash_handler@prog", "<signal handler called>@libc.so.6",
			"parse@prog", "main@prog"), true, "parse < main"},
		{"faulthandler", frs("__GI_raise@libc.so.6", "faulthandler_fatal_error@libpython3.12.so.1.0", "<signal handler called>@libc.so.6",
			"bad@ext.so", "caller@ext.so"), true, "bad < caller"},
		{"string routine", frs("__strlen_evex@libc.so.6", "copy_name@prog", "main@prog"), false, "copy_name < main"},
		{"memmove variant", frs("__memmove_avx_unaligned_erms@libc.so.6", "fill@prog", "main@prog"), false, "fill < main"},
		{"user function named like a routine", frs("strlen_checked@prog", "main@prog"), false, "strlen_checked < main"},
		{"malloc internals", frs("__GI_raise@libc.so.6", "__GI_abort@libc.so.6", "__libc_message@libc.so.6", "malloc_printerr@libc.so.6",
			"_int_free@libc.so.6", "__GI___libc_free@libc.so.6", "release@prog", "main@prog"), false, "release < main"},
		{"C++ throw", frs("__GI_abort@libc.so.6", "@libstdc++.so.6+0x9d919", "@libstdc++.so.6+0xa8e1a", "std::terminate()@libstdc++.so.6",
			"__cxa_throw@libstdc++.so.6", "crasher::level3@throw", "crasher::level2@throw", "crasher::level1@throw", "main@throw"), false,
			"crasher::level3 < crasher::level2 < crasher::level1"},
		{"Rust panic", frs("__GI_abort@libc.so.6", "std::sys::pal::unix::abort_internal@p", "std::process::abort@p", "__rustc::__rust_abort@p",
			"std::panicking::panic_with_hook@p", "my_hook@p", "std::panicking::panic_handler::{closure#0}@p", "core::panicking::panic_bounds_check@p",
			"panic::pick::h0123456789abcdef@p", "panic::main@p", "core::ops::function::FnOnce::call_once@p",
			"std::sys::backtrace::__rust_begin_short_backtrace<fn(), ()>@p", "std::rt::lang_start::{{closure}}@p",
			"std::panicking::catch_unwind::do_call<i32>@p", "std::rt::lang_start_internal@p", "main@p"), false,
			"panic::pick < panic::main < main"},
		{"Go runtime", frs("runtime.raise@crash", "runtime.dieFromSignal@crash", "<signal handler called>@crash", "runtime.raise@crash",
			"runtime.fatalpanic@crash", "runtime.gopanic@crash", "runtime.sigpanic@crash", "main.readField@crash", "main.main@crash",
			"runtime.main@crash", "runtime.goexit@crash"), true, "main.readField < main.main"},
		{"sanitizer", frs("__sanitizer::Die@libasan.so.8", "@libasan.so.8+0x1234", "__asan_report_load4@libasan.so.8", "lookup@prog", "main@prog"), false,
			"lookup < main"},
		{"recursion counts once", frs("recurse@r", "recurse@r", "recurse@r", "recurse@r"), false, "recurse"},
		{"inlined and concrete of one name", frs("__strlen_evex@libc.so.6", "string_at@_ctypes.cpython-312-x86_64-linux-gnu.so",
			"ffi_call@libffi.so.8", "caller@prog", "main@prog"), false, "caller < main"},
		{"Python through ctypes", []report.Frame{fr("__strlen_evex@libc.so.6"), fr("string_at@_ctypes.cpython-312-x86_64-linux-gnu.so"),
			fr("@libffi.so.8.1.2+0x6f7a"), fr("ffi_call@libffi.so.8.1.2"), fr("PyCFuncPtr_call@_ctypes.cpython-312-x86_64-linux-gnu.so"),
			fr("_PyObject_MakeTpCall@libpython3.12.so.1.0"),
			py(fr("_PyEval_EvalFrameDefault@libpython3.12.so.1.0"),
				report.PythonFrame{Function: "string_at", QualName: "string_at", File: "/usr/lib/python3.12/ctypes/__init__.py"},
				report.PythonFrame{Function: "crash_now", QualName: "crash_now", File: "/srv/threads6.py"},
				report.PythonFrame{Function: "main", File: "/srv/threads6.py"}),
			fr("PyEval_EvalCode@libpython3.12.so.1.0"), fr("Py_BytesMain@libpython3.12.so.1.0"), fr("__libc_start_call_main@libc.so.6")},
			false, "ctypes.string_at < threads6.crash_now < threads6.main"},
		{"Python method under an executable interpreter", []report.Frame{fr("bad_ext_call@ext.so"),
			py(fr("_PyEval_EvalFrameDefault@python3.12"), report.PythonFrame{Function: "__del__", QualName: "Boom.__del__", File: "/srv/fin.py"}),
			fr("slot_tp_finalize@python3.12"), fr("Py_FinalizeEx@python3.12")}, false, "bad_ext_call < fin.Boom.__del__"},
		{"interpreter without Python frames", frs("__strlen_evex@libc.so.6", "_PyObject_MakeTpCall@libpython3.14.so.1.0",
			"_PyEval_EvalFrameDefault@libpython3.14.so.1.0", "Py_RunMain@libpython3.14.so.1.0", "__libc_start_call_main@libc.so.6"), false,
			"_PyObject_MakeTpCall < _PyEval_EvalFrameDefault < Py_RunMain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(Frames(tc.frames, Depth, tc.reraised), " < ")
			if got != tc.want {
				t.Errorf("Frames = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClass(t *testing.T) {
	sig := func(name string) *report.Signal { return &report.Signal{Name: name} }
	diag := func(kind string, kv ...string) *report.Diagnosis {
		d := &report.Diagnosis{Kind: kind}
		for i := 0; i+1 < len(kv); i += 2 {
			d.AddEvidence(kv[i], kv[i+1])
		}
		return d
	}
	for _, tc := range []struct {
		name string
		d    *report.Diagnosis
		s    *report.Signal
		want string
	}{
		{"kind", diag("null_pointer_dereference"), sig("SIGSEGV"), "null_pointer_dereference"},
		{"no diagnosis", nil, sig("SIGBUS"), "signal: SIGBUS"},
		{"nothing", nil, nil, "unknown"},
		{"assertion", diag("abort", "cause", "assertion", "assertion", "n < 4096 && p != 0x0"), sig("SIGABRT"), "assertion_failed: n < N && p != 0x?"},
		{"heap check", diag("abort", "cause", "heap_corruption", "heap_check", "free(): double free detected in tcache 2"), sig("SIGABRT"),
			"heap_corruption: free(): double free detected in tcache N"},
		{"exception", diag("abort", "cause", "uncaught_exception", "exception_type", "std::runtime_error"), sig("SIGABRT"), "uncaught_exception: std::runtime_error"},
		{"exception of unknown type", diag("abort", "cause", "uncaught_exception"), sig("SIGABRT"), "uncaught_exception"},
		{"rust", diag("abort", "cause", "rust_panic", "panic", "index out of bounds"), sig("SIGABRT"), "rust_panic: index out of bounds"},
		{"go nil", diag("abort", "cause", "go_runtime", "go_signal", "SIGSEGV SEGV_MAPERR at 0x60 (goroutine 1)"), sig("SIGABRT"), "go_panic: nil pointer dereference"},
		{"go wild", diag("abort", "cause", "go_runtime", "go_signal", "SIGSEGV SEGV_MAPERR at 0xdead0000 (goroutine 7)"), sig("SIGABRT"), "go_panic: SIGSEGV SEGV_MAPERR"},
		{"go panic", diag("abort", "cause", "go_runtime"), sig("SIGABRT"), "go_panic"},
		{"abort message", diag("abort", "abort_message", "corrupted size vs. prev_size at 0x55d0c0"), sig("SIGABRT"), "abort: corrupted size vs. prev_size at 0x?"},
		{"plain abort", diag("abort"), sig("SIGABRT"), "abort"},
		{"os.abort", diag("abort", "cause", "python_os_abort"), sig("SIGABRT"), "python_os_abort"},
		{"stack smashing", diag("abort", "cause", "stack_smashing"), sig("SIGABRT"), "stack_smashing"},
		{"killed", diag("killed_by_signal"), sig("SIGQUIT"), "killed_by_signal: SIGQUIT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Class(tc.d, tc.s); got != tc.want {
				t.Errorf("Class = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOf(t *testing.T) {
	tid := 7
	r := &report.Report{
		CrashedTID: &tid,
		Signal:     &report.Signal{Name: "SIGSEGV"},
		Diagnosis:  &report.Diagnosis{Kind: "null_pointer_dereference"},
		Threads: []report.Thread{
			{TID: 3, Frames: frs("sleep@libc.so.6", "worker@prog")},
			{TID: 7, Crashed: true, Frames: frs("deref@prog", "main@prog", "_start@prog")},
		},
	}
	got := Of(r, 0)
	want := report.Signature{Text: "null_pointer_dereference @ deref < main", Class: "null_pointer_dereference", Frames: []string{"deref", "main"}}
	if got.Text != want.Text || got.Class != want.Class || strings.Join(got.Frames, ",") != strings.Join(want.Frames, ",") {
		t.Errorf("Of = %+v, want %+v", *got, want)
	}
	killed := *r
	killed.Diagnosis = &report.Diagnosis{Kind: "killed_by_signal"}
	killed.Signal = &report.Signal{Name: "SIGQUIT"}
	killed.Process.Executable = "/usr/bin/worker"
	if got := Of(&killed, 0); got.Text != "killed_by_signal: SIGQUIT in worker" || len(got.Frames) != 0 {
		t.Errorf("Of killed = %+v, want the signal and the program without frames", *got)
	}
	r.Threads[1].Frames = nil
	if got := Of(r, 0); got.Text != "null_pointer_dereference" || got.Frames == nil || len(got.Frames) != 0 {
		t.Errorf("Of without frames = %+v, want the class alone and an empty frame list", *got)
	}
	r.Process.Command = "deref"
	if got := Of(r, 0); got.Text != "null_pointer_dereference in deref" || got.Class != "null_pointer_dereference" {
		t.Errorf("Of without frames = %+v, want the class and the program", *got)
	}
}

// TestOfHang: a hang is named by where its threads blocked, sorted and each once, not by
// the thread the watchdog's signal landed on; a deadlock only by its cycle's threads.
func TestOfHang(t *testing.T) {
	w := func(where string) *report.Waiting { return &report.Waiting{Kind: "mutex", Where: where} }
	g7 := uint64(7)
	g9 := uint64(9)
	main := report.Thread{TID: 1, Crashed: true, Frames: frs("write@libc.so.6", "main@prog"), Waiting: &report.Waiting{Kind: "syscall", Where: "main at prog.c:80"}}
	for _, tc := range []struct {
		name string
		r    report.Report
		want string
	}{
		{"deadlock: the cycle's threads", report.Report{
			Diagnosis: &report.Diagnosis{Kind: "deadlock", Cycle: []report.CycleEdge{{TID: 12, WaitsForTID: 11}, {TID: 11, WaitsForTID: 12}}},
			Threads:   []report.Thread{main, {TID: 12, Waiting: w("thread_b at a.c:43")}, {TID: 11, Waiting: w("thread_a at a.c:31")}},
		}, "deadlock @ thread_a | thread_b"},
		{"blocked: every waiting thread, once", report.Report{
			Diagnosis: &report.Diagnosis{Kind: "blocked"},
			Threads: []report.Thread{{TID: 2, Waiting: w("Worker.run at pool.py:20")}, {TID: 3, Waiting: w("Worker.run at pool.py:20")},
				{TID: 4, Waiting: w("reader at r.c:9")}, {TID: 5}},
		}, "blocked @ Worker.run | reader"},
		{"deadlock of goroutines", report.Report{
			Diagnosis: &report.Diagnosis{Kind: "deadlock", Cycle: []report.CycleEdge{{Goroutine: &g7, WaitsForGoroutine: &g9}, {Goroutine: &g9, WaitsForGoroutine: &g7}}},
			Threads:   []report.Thread{main},
			Go: &report.Go{Goroutines: []report.Goroutine{{ID: 1, Waiting: w("main.main at m.go:5")}, {ID: 7, Waiting: w("main.lockBoth at m.go:30")},
				{ID: 9, Waiting: w("main.lockBoth at m.go:30")}}},
		}, "deadlock @ main.lockBoth"},
	} {
		if got := Of(&tc.r, 0); got.Text != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got.Text, tc.want)
		}
	}
}
