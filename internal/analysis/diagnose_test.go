package analysis

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// The incident's shape (testdata/src/incident.py and incident.c), explained end to end:
// a faulthandler-reraised SIGSEGV in PyOS_setsig at NULL+0x60 during finalization.
func TestIncidentEndToEnd(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "incident.so")
	src := testcore.SourcePath(t, "incident.c")
	if out, err := exec.Command("gcc", "-O0", "-g", "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("building the incident library: %v\n%s", err, out)
	}
	tc := testcore.Make(t, testcore.Spec{Name: "incident-analysis-py3.12.1", Source: "incident.py",
		Python: testcore.PyenvPython("3.12.1"), PyFlags: []string{"-X", "faulthandler"},
		Env: []string{"COREDIG_INCIDENT_LIB=" + lib}})
	a, _ := open(t, tc.Path, symbolize.Options{})
	r := a.Full(FullOptions{})
	if r.Signal.Name != "SIGSEGV" || r.Signal.CodeName != "SI_TKILL" || !*r.Signal.SenderIsSelf {
		t.Fatalf("core signal %+v: want SIGSEGV SI_TKILL from the process itself", r.Signal)
	}
	if r.Python == nil || r.Python.Finalizing == nil || !*r.Python.Finalizing || r.Python.FinalizingTID == nil || int(*r.Python.FinalizingTID) != tc.PID {
		t.Fatalf("python %+v: want finalizing by %d", r.Python, tc.PID)
	}
	d := r.Diagnosis
	if d == nil {
		t.Fatal("no diagnosis")
	}
	o := d.Original
	if o == nil || o.Name != "SIGSEGV" || o.CodeName != "SEGV_MAPERR" || o.Address == nil || *o.Address != 0x60 {
		t.Fatalf("original signal %+v: want SIGSEGV SEGV_MAPERR at 0x60 from the signal frame", o)
	}
	if d.Kind != "null_pointer_dereference" {
		t.Errorf("kind %s", d.Kind)
	}
	for _, want := range []string{"PyOS_setsig", "rax = 0x0", "0x60", "faulthandler"} {
		if !strings.Contains(d.Summary, want) {
			t.Errorf("summary %q lacks %q", d.Summary, want)
		}
	}
	// What the incident's engineer worked out by hand: 0x60 is the SIGABRT slot of the
	// handlers array, reached through a NULL runtime-state pointer.
	for k, v := range map[string]string{"function": "PyOS_setsig", "null_register": "rax", "field_offset": "0x60", "reraised_by": "faulthandler", "fault_address": "0x60",
		"source_access": "runtime_signals->handlers[6].tripped", "pointer": "runtime_signals (struct signal_state * volatile)"} {
		if d.Evidence[k] != v {
			t.Errorf("evidence %s = %q, want %q", k, d.Evidence[k], v)
		}
	}
	var ids []string
	for _, m := range d.Rules {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "python-signal-handler-during-finalization,python-faulthandler-reraise" {
		t.Errorf("rules %v", ids)
	}
	var cur string
	for _, l := range d.Disassembly {
		if l.Current {
			cur = l.Text
		}
	}
	if cur != "mov 0x60(%rax),%rax" {
		t.Errorf("faulting instruction in the window %q", cur)
	}
	// The pointer came from the library's global, loaded through its GOT slot.
	got := false
	for _, l := range d.Disassembly {
		got = got || l.Target == "runtime_signals@got"
	}
	if !got {
		t.Errorf("no instruction of the window names runtime_signals@got: %+v", d.Disassembly)
	}
}

// hexes stands for the addresses of a run in expected evidence ("0x?").
var hexes = regexp.MustCompile(`0x[0-9a-f]{6,}`)

// Every crash class the test-core catalogue makes, explained through the whole pipeline
// (core reader, modules, unwinder, symbolizer, Python reader, diagnose): the exact kind
// and the key evidence.
func TestDiagnosisCatalogue(t *testing.T) {
	for _, tc := range []struct {
		spec     testcore.Spec
		kind     string
		evidence map[string]string
		rule     string
	}{
		{testcore.DerefPIE, "null_pointer_dereference", map[string]string{"function": "deref", "null_register": "rax", "field_offset": "0x60", "instruction": "mov 0x60(%rax),%rax", "matches_fault_address": "true",
			"source_access": "p->field_at_0x60", "pointer": "p (struct S *)"}, ""},
		{testcore.DerefAArch64, "null_pointer_dereference", map[string]string{"function": "deref", "null_register": "x0", "field_offset": "0x60", "source_access": "p->field_at_0x60"}, ""},
		{testcore.Static, "null_pointer_dereference", map[string]string{"function": "read_field", "null_register": "rdi", "field_offset": "0x60", "source_access": "p->field_at_0x60", "pointer_source": "DWARF location at the pc"}, ""},
		{testcore.SigHandler, "null_pointer_dereference", map[string]string{"function": "on_usr1", "null_register": "rax", "field_offset": "0x0", "source_access": "*nowhere", "pointer": "nowhere (int * volatile)"}, ""},
		{testcore.SigHandlerAArch64, "null_pointer_dereference", map[string]string{"function": "on_usr1", "source_access": "*nowhere", "pointer": "nowhere (int * volatile)"}, ""},
		{testcore.Spec{Name: "gotnull-x86_64", Source: "gotnull.c", CFlags: []string{"-O0", "-g", "-fPIC"}}, "null_pointer_dereference",
			map[string]string{"function": "PyOS_setsig", "source_access": "runtime_signals->handlers[6].tripped", "pointer": "runtime_signals (struct signal_state * volatile)"}, ""},
		{testcore.Spec{Name: "gotnull-aarch64", Source: "gotnull.c", Arch: testcore.ArchAArch64, CFlags: []string{"-O0", "-g", "-fPIC"}}, "null_pointer_dereference",
			map[string]string{"function": "PyOS_setsig", "source_access": "runtime_signals->handlers[6].tripped", "pointer": "runtime_signals (struct signal_state * volatile)"}, ""},
		{testcore.Spec{Name: "argnull-x86_64", Source: "argnull.c"}, "null_pointer_dereference",
			map[string]string{"function": "read_at_0x60", "source_access": "s->name", "pointer": "s (struct S *)",
				"pointer_source": "passed in rdi by lookup, which called read_at_0x60 at 0x?; there: loaded from s's stack slot at 0x?"}, ""},
		{testcore.Spec{Name: "argnull-aarch64", Source: "argnull.c", Arch: testcore.ArchAArch64}, "null_pointer_dereference",
			map[string]string{"function": "read_at_0x60", "source_access": "s->name", "pointer": "s (struct S *)"}, ""},
		{testcore.Spec{Name: "constwrite-x86_64-o2", Source: "constwrite.c", CFlags: []string{"-O2", "-g"}}, "write_to_readonly",
			map[string]string{"function": "poke", "source_access": "limits[2].hi", "pointer": "&limits (const struct limit [4] *)"}, ""},
		{testcore.Recurse, "stack_overflow", map[string]string{"function": "recurse", "recursion": "recurse", "recursion_depth": "1024", "matches_fault_address": "true"}, ""},
		// A SIGSEGV handler without an alternate stack: the kernel cannot deliver the
		// overflow's SIGSEGV to it and sends SI_KERNEL.
		{testcore.Spec{Name: "recurse-handler-x86_64", Source: "recurse.c", Args: []string{"handler"}}, "stack_overflow", map[string]string{"function": "recurse", "recursion": "recurse",
			"code": "SI_KERNEL (128)", "signal_delivery": "failed: no room for the signal frame on the stack"}, ""},
		{testcore.Spec{Name: "recurse-handler-i386", Source: "recurse.c", Arch: testcore.ArchI386, Args: []string{"handler"}}, "stack_overflow", map[string]string{"function": "recurse", "recursion": "recurse",
			"code": "SI_KERNEL (128)", "signal_delivery": "failed: no room for the signal frame on the stack"}, ""},
		{testcore.Rodata, "write_to_readonly", map[string]string{"function": "shout", "section": ".rodata", "access": "writes 1 byte at rax", "source_access": "*s"}, ""},
		{testcore.DivZero, "divide_by_zero", map[string]string{"function": "divide", "instruction": "idivl -0x8(%rbp)", "divisor_value": "0x0"}, ""},
		{testcore.Trap, "trap", map[string]string{"function": "do_trap", "trap_instruction": "ud2"}, ""},
		{testcore.WildCall, "execute_non_executable", map[string]string{"pc": "0x0", "caller": "call_it+0xd"}, ""},
		{testcore.Assert, "abort", map[string]string{"cause": "assertion", "assertion": "x == 42", "assert_function": "check_value"}, ""},
		{testcore.HeapCorrupt, "abort", map[string]string{"cause": "heap_corruption", "heap_check": "free(): double free detected in tcache 2"}, "glibc-heap-corruption"},
		{testcore.Throw, "abort", map[string]string{"exception_type": "std::runtime_error"}, ""},
		{testcore.KillSegv, "killed_by_signal", map[string]string{"signal": "SIGSEGV (11)", "code": "SI_USER (0)"}, ""},
		{testcore.Spec{Name: "misaligned-x86_64", Source: "misaligned.c"}, "misaligned_access", map[string]string{"function": "load_odd"}, ""},
		{testcore.Spec{Name: "noncanon-x86_64", Source: "noncanon.c"}, "non_canonical_address", map[string]string{"function": "poisoned", "non_canonical_address": "0xdead000000000010", "access": "reads 8 bytes at rax+0x10", "source_access": "n->c"}, ""},
		{testcore.Spec{Name: "hlt-x86_64", Source: "hlt.c"}, "illegal_instruction", map[string]string{"function": "halt", "code": "SI_KERNEL (128)", "privileged_instruction": "hlt"}, ""},
		// A selector in the LDT, which the process never set up: #GP as ds is loaded.
		{testcore.Spec{Name: "badselector-x86_64", Source: "badselector.c"}, "general_protection", map[string]string{"function": "load_selector", "code": "SI_KERNEL (128)",
			"instruction": "mov %eax,%ds", "segment_selector": "0x1234: LDT index 582, requested privilege level 0"}, ""},
		{testcore.Spec{Name: "badselector-i386", Source: "badselector.c", Arch: testcore.ArchI386}, "general_protection", map[string]string{"function": "load_selector", "code": "SI_KERNEL (128)",
			"instruction": "mov %eax,%ds", "segment_selector": "0x1234: LDT index 582, requested privilege level 0"}, ""},
		{testcore.Spec{Name: "int3-x86_64", Source: "int3.c"}, "breakpoint", map[string]string{"function": "debug_hook"}, ""},
		{testcore.Spec{Name: "wild-x86_64", Source: "wild.c"}, "wild_pointer", map[string]string{"function": "chase", "fault_address": "0x123456789008", "source_access": "n->next"}, ""},
		{testcore.Spec{Name: "threadoverflow-x86_64", Source: "threadoverflow.c"}, "stack_overflow", map[string]string{"recursion": "descend"}, ""},
		{testcore.Spec{Name: "mmapbus-x86_64", Source: "mmapbus.c", Args: []string{"mapped.bin"}}, "bus_error_mapped_file", map[string]string{"function": "read_mapped"}, ""},
		{testcore.GoCrash, "abort", map[string]string{"signal": "SIGABRT (6)", "go_fault_instruction": "mov 0x60(%rax),%rax", "go_signal": "SIGSEGV SEGV_MAPERR at 0x60 (goroutine 1)"}, ""},
		{testcore.GoCrashAArch64, "abort", map[string]string{"go_fault_instruction": "ldr x0, [x0, #96]", "go_signal": "SIGSEGV SEGV_MAPERR at 0x60 (goroutine 1)"}, ""},
		{testcore.RustPanic, "abort", map[string]string{"cause": "rust_panic", "panic": "index out of bounds", "panic_site": "panic::pick"}, ""},
		{testcore.AbortPy, "abort", map[string]string{"signal": "SIGABRT (6)", "code": "SI_TKILL (-6)"}, ""},
		// i386 kernel cores (gcc -m32): the same explanations from the 32-bit decoder and
		// the i386 arch value.
		{testcore.DerefI386, "null_pointer_dereference", map[string]string{"function": "deref", "null_register": "eax", "field_offset": "0x60",
			"instruction": "mov 0x60(%eax),%eax", "access": "reads 4 bytes at eax+0x60", "matches_fault_address": "true",
			"source_access": "p->field_at_0x60", "pointer": "p (struct S *)", "pointer_source": "loaded from p's stack slot at 0x?"}, ""},
		{testcore.SigHandlerI386, "null_pointer_dereference", map[string]string{"function": "on_usr1", "field_offset": "0x0", "source_access": "*nowhere", "pointer": "nowhere (int * volatile)"}, ""},
		{testcore.GoCrashI386, "abort", map[string]string{"go_fault_instruction": "mov 0x60(%eax),%ecx", "go_signal": "SIGSEGV SEGV_MAPERR at 0x60 (goroutine 1)",
			"go_fault": "main.readField at " + testcore.SourcePath(t, "crash.go") + ":" + strconv.Itoa(testcore.Line(t, "crash.go", "read_field"))}, ""},
		{testcore.RecurseI386, "stack_overflow", map[string]string{"function": "recurse", "recursion": "recurse", "recursion_depth": "1024", "matches_fault_address": "true"}, ""},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			opts := symbolize.Options{}
			if c.Sysroot != "" {
				opts.Finder = symbolize.PathFinder{Sysroot: c.Sysroot}
			}
			a, _ := open(t, c.Path, opts)
			d := a.Full(FullOptions{}).Diagnosis
			if d == nil || d.Kind != tc.kind {
				t.Fatalf("diagnosis %+v, want kind %s", d, tc.kind)
			}
			for k, v := range tc.evidence {
				if got := hexes.ReplaceAllString(d.Evidence[k], "0x?"); got != v && d.Evidence[k] != v {
					t.Errorf("evidence %s = %q, want %q (summary: %s)", k, d.Evidence[k], v, d.Summary)
				}
			}
			if tc.spec.Source == "mmapbus.c" && d.Evidence["file"] != filepath.Join(filepath.Dir(c.Path), "mapped.bin") {
				t.Errorf("file %q, want the truncated mapped file", d.Evidence["file"])
			}
			if tc.spec.Name == testcore.Assert.Name && d.Evidence["assert_line"] != strconv.Itoa(c.Line(t, "assert")) {
				t.Errorf("assert_line %q, want the LINE: assert marker %d", d.Evidence["assert_line"], c.Line(t, "assert"))
			}
			want := map[string]string{testcore.AbortPy.Name: "os.abort()"}[tc.spec.Name]
			if tc.spec.Source == "panic.rs" {
				loc := c.Source + ":" + strconv.Itoa(c.Line(t, "index"))
				want = "A Rust panic (index out of bounds) in panic::pick at " + loc
				if d.Evidence["panic_location"] != loc {
					t.Errorf("panic_location %q, want %q", d.Evidence["panic_location"], loc)
				}
			}
			if tc.spec.Source == "crash.go" {
				want = "a nil pointer dereference (SIGSEGV SEGV_MAPERR at 0x60, field offset 0x60), caught by the runtime in main.readField at " + c.Source + ":" + strconv.Itoa(c.Line(t, "read_field"))
				if o := d.Original; o == nil || o.Name != "SIGSEGV" || o.Address == nil || *o.Address != 0x60 || o.Source != "Go runtime: g.sig of goroutine 1" {
					t.Errorf("original %+v, want the SIGSEGV at 0x60 the runtime recorded", o)
				}
				var cur []string
				for _, l := range d.Disassembly {
					if l.Current {
						cur = append(cur, l.Text)
					}
				}
				if len(cur) != 1 || cur[0] != d.Evidence["go_fault_instruction"] {
					t.Errorf("disassembly marks %q, want the faulting instruction %q", cur, d.Evidence["go_fault_instruction"])
				}
			}
			if want != "" && !strings.Contains(d.Summary, want) {
				t.Errorf("summary %q lacks %q", d.Summary, want)
			}
			// A signal sent with kill/tkill has no faulting instruction; a runtime's own
			// abort path is not "the caller".
			if _, ok := d.Evidence["instruction"]; ok && (tc.kind == "abort" || tc.kind == "killed_by_signal") {
				t.Errorf("an %s carries instruction evidence %q", tc.kind, d.Evidence["instruction"])
			}
			if c, ok := d.Evidence["caller"]; ok && (tc.spec.Source == "crash.go" || tc.spec.Source == "panic.rs") {
				t.Errorf("caller %q for a runtime's abort", c)
			}
			if tc.rule != "" && (len(d.Rules) == 0 || d.Rules[0].ID != tc.rule) {
				t.Errorf("rules %+v, want %s", d.Rules, tc.rule)
			}
			if d.Summary == "" || len(d.Disassembly) == 0 && tc.kind != "execute_non_executable" && tc.kind != "abort" && tc.kind != "killed_by_signal" {
				t.Errorf("summary %q, %d disassembly lines", d.Summary, len(d.Disassembly))
			}
		})
	}
}

// The rule for Python recursion that exhausts the C stack, on a real CPython 3.10 core.
func TestPythonRecursionOverflow(t *testing.T) {
	tc := testcore.Make(t, testcore.Spec{Name: "pyrecurse-py3.10.13", Source: "pyrecurse.py", Python: testcore.PyenvPython("3.10.13")})
	a, _ := open(t, tc.Path, symbolize.Options{})
	r := a.Full(FullOptions{MaxDepth: 300})
	d := r.Diagnosis
	if d == nil || d.Kind != "stack_overflow" || len(d.Rules) != 1 || d.Rules[0].ID != "python-recursion-stack-overflow" {
		t.Fatalf("diagnosis %+v", d)
	}
	want := "descend at " + tc.Source + ":" + strconv.Itoa(tc.Line(t, "py_recurse"))
	if got := d.Evidence["python_recursion"]; !strings.HasPrefix(got, want+" (") {
		t.Errorf("python_recursion %q, want %q (N Python frames)", got, want)
	}
	if !strings.Contains(d.Evidence["recursion"], "_PyEval_EvalFrameDefault") {
		t.Errorf("native recursion %q", d.Evidence["recursion"])
	}
}

// A faulthandler-shaped crash handler (plain sa_handler, so no siginfo in the signal
// frame) re-raises: the original fault comes from the saved machine context, on x86_64
// (cr2, trapno) and on aarch64 (fault_address).
func TestReraisePlainHandler(t *testing.T) {
	for _, tc := range []struct {
		spec   testcore.Spec
		source string
	}{
		{testcore.Spec{Name: "reraise-nodefer-x86_64", Source: "reraise_plain.c", CFlags: []string{"-O0", "-g", "-DNODEFER"}}, "signal frame machine context (cr2, trapno 14)"},
		{testcore.Spec{Name: "reraise-plain-x86_64", Source: "reraise_plain.c"}, "the crashing thread's registers"},
		{testcore.Spec{Name: "reraise-nodefer-aarch64", Source: "reraise_plain.c", Arch: testcore.ArchAArch64, CFlags: []string{"-O0", "-g", "-DNODEFER"}}, "signal frame machine context (fault_address"},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			opts := symbolize.Options{}
			if c.Sysroot != "" {
				opts.Finder = symbolize.PathFinder{Sysroot: c.Sysroot}
			}
			a, _ := open(t, c.Path, opts)
			r := a.Full(FullOptions{})
			d := r.Diagnosis
			if d == nil || d.Kind != "null_pointer_dereference" || d.Evidence["function"] != "deref" || d.Evidence["field_offset"] != "0x60" {
				t.Fatalf("diagnosis %+v", d)
			}
			o := d.Original
			wantCode := "SI_TKILL"
			if c.Sysroot != "" {
				wantCode = "" // qemu writes no NT_SIGINFO: the signal frame is found all the same
			}
			if r.Signal.CodeName != wantCode || o == nil || o.Name != "SIGSEGV" || o.CodeName != "SEGV_MAPERR" || o.Address == nil || *o.Address != 0x60 || !strings.HasPrefix(o.Source, tc.source) {
				t.Errorf("core signal %+v, original %+v", r.Signal, o)
			}
		})
	}
}

// A handler that faults itself while handling a non-fault signal (SIGUSR1): the signal
// frame's machine context is not a fault and must not be explained as one.
func TestSignalFrameOfNonFault(t *testing.T) {
	// The kernel's SIGALRM has a positive si_code (SI_KERNEL), yet it is no fault either.
	alarm := testcore.Spec{Name: "sighandler-alarm-x86_64", Source: "sighandler.c", CFlags: []string{"-O0", "-g", "-DVIA_ALARM", "-DHANDLER_FLAGS=SA_SIGINFO"}}
	for _, spec := range []testcore.Spec{testcore.SigHandler, testcore.SigHandlerAArch64, alarm} {
		t.Run(spec.Name, func(t *testing.T) {
			c := testcore.Make(t, spec)
			opts := symbolize.Options{}
			if c.Sysroot != "" {
				opts.Finder = symbolize.PathFinder{Sysroot: c.Sysroot}
			}
			a, _ := open(t, c.Path, opts)
			d := a.Full(FullOptions{}).Diagnosis
			if d == nil || d.Original != nil || d.Kind != "null_pointer_dereference" || d.Evidence["function"] != "on_usr1" ||
				d.Evidence["earlier_fault"] != "" || strings.Contains(d.Summary, "earlier") {
				t.Fatalf("diagnosis %+v", d)
			}
		})
	}
}

// A handler (SA_NODEFER) re-raising a SIGSEGV that kill() sent: the signal frame's machine
// context holds a stale trap number, not a fault, and must not be explained as one.
func TestReraiseOfKill(t *testing.T) {
	c := testcore.Make(t, testcore.Spec{Name: "reraise-kill-x86_64", Source: "reraise_plain.c", CFlags: []string{"-O0", "-g", "-DNODEFER", "-DKILL"}})
	a, _ := open(t, c.Path, symbolize.Options{})
	d := a.Full(FullOptions{}).Diagnosis
	if d == nil || d.Original != nil || d.Kind != "reraised" || d.Evidence["called_from"] != "" {
		t.Fatalf("diagnosis %+v: want a re-raise with no original fault", d)
	}
}

// A Go panic from a nil dereference, on x86_64, i386, and arm64 and 32-bit ARM (under
// qemu): the crashing thread's stack goes from the runtime's abort, through its signal
// handler (whose CFI on arm64 and ARM ends the stack, so the unwinder follows the return
// address to the kernel's trampoline, which on ARM lies above the CFA Go's CFI gives)
// and the injected runtime.sigpanic call (after which the link register the runtime
// pushed, 16 bytes on arm64 and 4 on ARM, is popped), to the faulting main.readField
// and on to runtime.goexit.
func TestGoPanicBacktrace(t *testing.T) {
	for _, spec := range []testcore.Spec{testcore.GoCrash, testcore.GoCrashAArch64, testcore.GoCrashI386, testcore.GoCrashARM} {
		t.Run(spec.Name, func(t *testing.T) {
			tc := testcore.Make(t, spec)
			a, _ := open(t, tc.Path, symbolize.Options{})
			r := a.Full(FullOptions{})
			var names []string
			var readField *report.Frame
			for i, f := range r.Threads[0].Frames {
				if !f.Inlined {
					names = append(names, f.Function)
				}
				if f.Function == "main.readField" {
					readField = &r.Threads[0].Frames[i]
				}
			}
			want := []string{"runtime.raise", "runtime.dieFromSignal", "runtime.sigfwdgo", "runtime.sigtrampgo", "runtime.sigtramp", SignalHandlerCalled,
				"runtime.raise", "runtime.dieFromSignal", "runtime.fatalpanic", "runtime.gopanic", "runtime.sigpanic",
				"main.readField", "main.main", "runtime.main", "runtime.goexit"}
			if !slices.Equal(names, want) {
				t.Errorf("crashing stack\n%q\nwant\n%q", names, want)
			}
			if readField == nil || readField.Line != tc.Line(t, "read_field") {
				t.Fatalf("main.readField frame %+v, want line %d", readField, tc.Line(t, "read_field"))
			}
			// The frame's pc is the faulting load of p.b (offset 0x60), not a return
			// address: the first instruction with register arguments (amd64, arm64),
			// after p's load from the stack with stack arguments (386, arm).
			code := make([]byte, 16)
			n, _ := a.Core.ReadAt(code, uint64(readField.PC))
			mode := disasm.ModeDefault
			if a.Core.Arch.Name == "arm" {
				mode = disasm.ModeARM
			}
			in, err := disasm.DecodeMode(a.Core.Arch, code[:max(n, 0)], uint64(readField.PC), disasm.SyntaxDefault, mode)
			if err != nil || len(in.Mem) != 1 || in.Mem[0].Disp != 0x60 || in.Mem[0].Write {
				t.Errorf("main.readField at %v+%v: %q (%v), want the load at offset 0x60", readField.PC, readField.FunctionOffset, in.Text, err)
			}
			if e := r.Threads[0].Error; e != "" {
				t.Errorf("crashing thread error %q", e)
			}
		})
	}
}

// A Rust panic with panic=abort: the stack from glibc's abort through Rust's panic
// machinery to the program's own frames, with file:line from rustc's DWARF. Names are
// the demangled symbols, as Rust's own panic backtrace prints them (gdb prints generic
// functions with DWARF type names instead, so it is no oracle here).
func TestRustPanicBacktrace(t *testing.T) {
	tc := testcore.Make(t, testcore.RustPanic)
	a, _ := open(t, tc.Path, symbolize.Options{})
	r := a.Full(FullOptions{})
	fr := r.Threads[0].Frames
	at := -1
	for i, f := range fr {
		if f.Function == "core::panicking::panic_bounds_check" {
			at = i
			break
		}
	}
	if at < 0 || at+2 >= len(fr) {
		t.Fatalf("no core::panicking::panic_bounds_check followed by two frames\n%s", dump(fr))
	}
	pick, main := fr[at+1], fr[at+2]
	if pick.Function != "panic::pick" || pick.File != tc.Source || pick.Line != tc.Line(t, "index") {
		t.Errorf("frame after panic_bounds_check: %s at %s:%d, want panic::pick at %s:%d", pick.Function, pick.File, pick.Line, tc.Source, tc.Line(t, "index"))
	}
	if main.Function != "panic::main" || main.File != tc.Source {
		t.Errorf("caller %s at %s:%d, want panic::main in %s", main.Function, main.File, main.Line, tc.Source)
	}
	if fr[len(fr)-1].Function != "_start" || r.Threads[0].Error != "" {
		t.Errorf("stack ends at %s (%s)", fr[len(fr)-1].Function, r.Threads[0].Error)
	}
}

// A bad pointer handed to libc: CPython's ctypes.string_at(0x60) calls strlen on it. The
// pointer is strlen's first argument, so the analysis follows it into the caller and
// names string_at's variable.
func TestLibcArgumentOrigin(t *testing.T) {
	tc := testcore.Make(t, testcore.Threads6Py)
	a, _ := open(t, tc.Path, symbolize.Options{})
	d := a.Full(FullOptions{}).Diagnosis
	fn := d.Evidence["function"]
	if fn != "__strlen_evex" && fn != "__strlen_avx2" {
		t.Skipf("SKIPPED LOUDLY: this CPU runs glibc's %s, whose faulting register this test does not know (it knows __strlen_evex and __strlen_avx2, which fault on rdi)", fn)
	}
	want := map[string]string{"source_access": "*ptr", "pointer": "ptr (const char *)"}
	for k, v := range want {
		if d.Evidence[k] != v {
			t.Errorf("evidence %s = %q, want %q", k, d.Evidence[k], v)
		}
	}
	if !strings.HasPrefix(d.Evidence["pointer_source"], "passed in rdi by string_at, which called "+fn) || !strings.HasSuffix(d.Summary, "through ptr (const char *), passed by string_at.") {
		t.Errorf("pointer_source %q, summary %q", d.Evidence["pointer_source"], d.Summary)
	}
}
