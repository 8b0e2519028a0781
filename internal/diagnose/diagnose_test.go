package diagnose

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/disasm"
)

// fakeMem is memory made of a few regions.
type fakeMem map[uint64][]byte

func (m fakeMem) ReadAt(p []byte, addr uint64) (int, error) {
	for base, b := range m {
		if addr >= base && addr < base+uint64(len(b)) {
			n := copy(p, b[addr-base:])
			if n < len(p) {
				return n, fmt.Errorf("unmapped at %#x", addr+uint64(n))
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("unmapped at %#x", addr)
}

func word(v uint64) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return b[:]
}

func inst(t *testing.T, a *arch.Arch, pc uint64, code ...byte) *disasm.Inst {
	t.Helper()
	in, err := disasm.Decode(a, code, pc)
	if err != nil {
		t.Fatal(err)
	}
	return &in
}

func arm(t *testing.T, pc uint64, enc uint32) *disasm.Inst {
	t.Helper()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], enc)
	return inst(t, arch.ARM64, pc, b[:]...)
}

// A realistic x86_64 process layout (PIE python3.12, libc, heap, main stack).
var x86Maps = []Mapping{
	{Start: 0x55d0c0000000, End: 0x55d0c0066000, Perms: "r--p", Name: "/usr/local/bin/python3.12"},
	{Start: 0x55d0c0066000, End: 0x55d0c037d000, Perms: "r-xp", Name: "/usr/local/bin/python3.12"},
	{Start: 0x55d0c037d000, End: 0x55d0c0500000, Perms: "r--p", Name: "/usr/local/bin/python3.12"},
	{Start: 0x55d0c0500000, End: 0x55d0c0540000, Perms: "rw-p", Name: "/usr/local/bin/python3.12"},
	{Start: 0x55d0c1000000, End: 0x55d0c1400000, Perms: "rw-p", Name: "[heap]"},
	{Start: 0x7f1200000000, End: 0x7f1200200000, Perms: "rw-p", Name: "/tmp/data.bin"},
	{Start: 0x7f1234000000, End: 0x7f1234028000, Perms: "r--p", Name: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	{Start: 0x7f1234028000, End: 0x7f123419d000, Perms: "r-xp", Name: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	{Start: 0x7f1235000000, End: 0x7f1235001000, Perms: "---p", Name: ""},
	{Start: 0x7f1235001000, End: 0x7f1235801000, Perms: "rw-p", Name: "", StackOf: 4242},
	{Start: 0x7ffd5a000000, End: 0x7ffd5a821000, Perms: "rw-p", Name: "[stack]"},
}

func x86Facts(signo, code int, addr uint64, regs map[string]uint64) *Facts {
	return &Facts{Arch: arch.AMD64, Signo: signo, Code: code, Addr: addr, HasAddr: faultCode(signo, code),
		PID: 630, TID: 630, Regs: regs, Mappings: x86Maps}
}

func check(t *testing.T, name string, d Diagnosis, kind string, summary []string, ev map[string]string) {
	t.Helper()
	if d.Kind != kind {
		t.Errorf("%s: kind %q, want %q (summary %q)", name, d.Kind, kind, d.Summary)
	}
	for _, s := range summary {
		if !strings.Contains(d.Summary, s) {
			t.Errorf("%s: summary %q lacks %q", name, d.Summary, s)
		}
	}
	for k, v := range ev {
		if got, ok := d.Get(k); !ok || got != v {
			t.Errorf("%s: evidence %s = %q (%v), want %q; all: %v", name, k, got, ok, v, d.Evidence)
		}
	}
}

func TestNullPointerIncident(t *testing.T) {
	pc := uint64(0x55d0c034cbb0)
	f := x86Facts(SIGSEGV, SEGV_MAPERR, 0x60, map[string]uint64{"rip": pc, "rax": 0, "rdx": 6, "rsp": 0x7ffd5a81f7f0})
	f.Inst = inst(t, arch.AMD64, pc, 0x48, 0x8b, 0x50, 0x60) // mov 0x60(%rax),%rdx
	f.Functions = []string{"PyOS_setsig", "faulthandler_disable", "_PyFaulthandler_Fini", "Py_FinalizeEx", "Py_RunMain", "main"}
	fin := true
	f.PythonFinalizing = &fin
	d := Diagnose(f, nil)
	check(t, "incident", d, KindNullPointer,
		[]string{"NULL pointer dereference in PyOS_setsig", "reads 8 bytes at rax+0x60; rax = 0x0", "offset 0x60"},
		map[string]string{"null_register": "rax", "field_offset": "0x60", "access": "reads 8 bytes at rax+0x60",
			"registers": "rax = 0x0", "computed_address": "0x60", "matches_fault_address": "true",
			"instruction": "mov 0x60(%rax),%rdx", "function": "PyOS_setsig", "fault_address": "0x60", "code": "SEGV_MAPERR (1)"})
	if len(d.Rules) != 1 || d.Rules[0].ID != "python-signal-handler-during-finalization" {
		t.Errorf("rules %+v", d.Rules)
	}
	// Not finalizing: the finalization rule must not fire.
	fin = false
	if d := Diagnose(f, nil); len(d.Rules) != 0 {
		t.Errorf("rules while not finalizing: %+v", d.Rules)
	}
}

func TestReraisedByFaulthandler(t *testing.T) {
	pc := uint64(0x55d0c034cbb0)
	fin := true
	orig := &Facts{Signo: SIGSEGV, Code: SEGV_MAPERR, Addr: 0x60, HasAddr: true,
		Regs: map[string]uint64{"rip": pc, "rax": 0, "rsp": 0x7ffd5a81f7f0}}
	orig.Inst = inst(t, arch.AMD64, pc, 0x48, 0x8b, 0x50, 0x60)
	f := x86Facts(SIGSEGV, SI_TKILL, 0, map[string]uint64{"rip": 0x7f123409e9fc, "rsp": 0x7ffd5a81e000})
	f.HasSender, f.SenderPID, f.SenderUID = true, 630, 1000
	f.Functions = []string{"__pthread_kill_implementation", "raise", "faulthandler_fatal_error", "__restore_rt",
		"PyOS_setsig", "faulthandler_disable", "Py_FinalizeEx", "main"}
	f.PythonFinalizing = &fin
	f.Original = orig
	d := Diagnose(f, nil)
	check(t, "reraise", d, KindNullPointer,
		[]string{"NULL pointer dereference in PyOS_setsig", "rax = 0x0", "faulthandler then re-raised it with SIGSEGV"},
		map[string]string{"reraised_by": "faulthandler", "reraised_signal": "SIGSEGV (SI_TKILL)", "field_offset": "0x60",
			"function": "PyOS_setsig"})
	ids := []string{}
	for _, r := range d.Rules {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "python-signal-handler-during-finalization,python-faulthandler-reraise" {
		t.Errorf("rules %v", ids)
	}
	// Without the original context: kind reraised, handler named.
	f.Original = nil
	check(t, "reraise-no-orig", Classify(f), KindReraised, []string{"raised by the process itself", "faulthandler"},
		map[string]string{"reraised_by": "faulthandler", "sender_pid": "630"})
}

func TestKinds(t *testing.T) {
	a := arch.AMD64
	pcText := uint64(0x55d0c0100000)
	for _, tc := range []struct {
		name    string
		f       func() *Facts
		kind    string
		summary []string
		ev      map[string]string
	}{
		{"wild", func() *Facts {
			f := x86Facts(SIGSEGV, SEGV_MAPERR, 0x55d0deadbef8, map[string]uint64{"rip": pcText, "rbx": 0x55d0deadbee8})
			f.Inst = inst(t, a, pcText, 0x48, 0x8b, 0x43, 0x10) // mov 0x10(%rbx),%rax
			return f
		}, KindWildPointer, []string{"not mapped", "reads 8 bytes at rbx+0x10; rbx = 0x55d0deadbee8"},
			map[string]string{"computed_address": "0x55d0deadbef8", "matches_fault_address": "true"}},
		{"non-canonical", func() *Facts {
			f := x86Facts(SIGSEGV, SI_KERNEL, 0, map[string]uint64{"rip": pcText, "rbx": 0xdead000000000000})
			f.HasAddr = false
			f.Inst = inst(t, a, pcText, 0x48, 0x8b, 0x43, 0x10)
			return f
		}, KindNonCanonical, []string{"General protection fault", "0xdead000000000010 is a non-canonical address"},
			map[string]string{"non_canonical_address": "0xdead000000000010"}},
		{"rodata", func() *Facts {
			f := x86Facts(SIGSEGV, SEGV_ACCERR, 0x55d0c0380010, map[string]uint64{"rip": pcText, "rax": 0x55d0c0380010})
			f.Inst = inst(t, a, pcText, 0xc6, 0x00, 0x48) // movb $0x48,(%rax)
			f.Functions = []string{"shout"}
			return f
		}, KindWriteReadOnly, []string{"Write to read-only memory in shout", "writes 1 byte at rax", "/usr/local/bin/python3.12"},
			map[string]string{"mapping": "/usr/local/bin/python3.12 [0x55d0c037d000-0x55d0c0500000 r--]"}},
		{"text-write", func() *Facts {
			f := x86Facts(SIGSEGV, SEGV_ACCERR, 0x55d0c0100000, map[string]uint64{"rip": pcText + 0x10, "rdi": pcText})
			f.Inst = inst(t, a, pcText+0x10, 0x48, 0x89, 0x07) // mov %rax,(%rdi)
			return f
		}, KindWriteReadOnly, []string{"code (text segment)"}, nil},
		{"null-call", func() *Facts {
			f := x86Facts(SIGSEGV, SEGV_MAPERR, 0, map[string]uint64{"rip": 0, "rsp": 0x7ffd5a81f000})
			f.Mem = fakeMem{0x7ffd5a81f000: word(pcText + 0x1a)}
			f.Symbolize = func(v uint64) string {
				if v == pcText+0x1a {
					return "main+0x1a"
				}
				return ""
			}
			f.InstErr = "pc 0x0 is not in any mapping"
			return f
		}, KindExecNonExecutable, []string{"NULL function pointer", "main+0x1a"},
			map[string]string{"caller": "main+0x1a", "return_address": "0x55d0c010001a (at sp 0x7ffd5a81f000)"}},
		{"exec-heap", func() *Facts {
			f := x86Facts(SIGSEGV, SEGV_ACCERR, 0x55d0c1000100, map[string]uint64{"rip": 0x55d0c1000100, "rsp": 0x7ffd5a81f000})
			return f
		}, KindExecNonExecutable, []string{"non-executable mapping [heap]"}, nil},
		{"stack-overflow-main", func() *Facts {
			sp := uint64(0x7ffd5a000010)
			f := x86Facts(SIGSEGV, SEGV_MAPERR, 0x7ffd59fffff8, map[string]uint64{"rip": pcText, "rsp": sp})
			f.Inst = inst(t, a, pcText, 0xe8, 0, 0, 0, 0) // call
			f.Functions = append([]string{"memset"}, repeat("recurse", 30000)...)
			return f
		}, KindStackOverflow, []string{"Stack overflow in memset", "0x8 below", "recurse recurses (30000 consecutive frames seen)"},
			map[string]string{"recursion": "recurse", "recursion_depth": "30000", "below_stack": "0x8"}},
		{"stack-overflow-thread-guard", func() *Facts {
			f := x86Facts(SIGSEGV, SEGV_ACCERR, 0x7f1235000ff0, map[string]uint64{"rip": pcText, "rsp": 0x7f1235001008})
			f.Functions = repeat2("a", "b", 50)
			return f
		}, KindStackOverflow, []string{"stack of thread 4242", "cycle"},
			map[string]string{"recursion_depth": "50"}},
		{"misaligned", func() *Facts {
			f := x86Facts(SIGBUS, BUS_ADRALN, 0x55d0c1000003, map[string]uint64{"rip": pcText, "rdi": 0x55d0c1000003})
			f.Inst = inst(t, a, pcText, 0x48, 0x8b, 0x07) // mov (%rdi),%rax
			return f
		}, KindMisaligned, []string{"not 8-byte aligned", "rdi = 0x55d0c1000003"}, nil},
		{"sigbus-file", func() *Facts {
			return x86Facts(SIGBUS, BUS_ADRERR, 0x7f1200100000, map[string]uint64{"rip": pcText})
		}, KindBusErrorMappedFile, []string{"/tmp/data.bin", "truncated"}, map[string]string{"file": "/tmp/data.bin"}},
		{"ud2", func() *Facts {
			f := x86Facts(SIGILL, ILL_ILLOPN, pcText, map[string]uint64{"rip": pcText})
			f.Inst = inst(t, a, pcText, 0x0f, 0x0b)
			return f
		}, KindTrap, []string{"ud2", "__builtin_trap"}, map[string]string{"trap_instruction": "ud2"}},
		{"illegal", func() *Facts {
			f := x86Facts(SIGILL, ILL_ILLOPC, pcText, map[string]uint64{"rip": pcText})
			f.Inst = inst(t, a, pcText, 0x62, 0xf1, 0x7c, 0x48, 0x10, 0x07) // vmovups (%rdi),%zmm0
			return f
		}, KindIllegalInstruction, []string{"AVX-512"}, nil},
		{"illegal-unknown-mode", func() *Facts {
			// 32-bit ARM code of no known instruction set, which disasm does not decode: no
			// claim about the bytes.
			f := x86Facts(SIGILL, ILL_ILLOPC, pcText, map[string]uint64{"rip": pcText})
			f.InstErr = "arm at 0x4000079e: " + disasm.ErrModeUnknown.Error()
			return f
		}, KindIllegalInstruction, []string{"the instruction is not shown: arm at 0x4000079e: 32-bit ARM code of unknown instruction set"}, nil},
		{"div", func() *Facts {
			f := x86Facts(SIGFPE, FPE_INTDIV, pcText, map[string]uint64{"rip": pcText, "rcx": 0xffffffff00000000})
			f.Inst = inst(t, a, pcText, 0xf7, 0xf9) // idiv %ecx
			return f
		}, KindDivideByZero, []string{"idiv %ecx divides by ecx, which is 0"}, map[string]string{"divisor": "ecx", "divisor_value": "0x0"}},
		{"div-mem", func() *Facts {
			f := x86Facts(SIGFPE, FPE_INTDIV, pcText, map[string]uint64{"rip": pcText, "rbp": 0x7ffd5a800000})
			f.Mem = fakeMem{0x7ffd5a7ffff8: {0, 0, 0, 0}}
			f.Inst = inst(t, a, pcText, 0xf7, 0x7d, 0xf8) // idivl -0x8(%rbp)
			return f
		}, KindDivideByZero, []string{"the 4-byte value at rbp-0x8"}, map[string]string{"divisor_value": "0x0"}},
		{"int-overflow", func() *Facts {
			f := x86Facts(SIGFPE, FPE_INTDIV, pcText, map[string]uint64{"rip": pcText, "rcx": 0xffffffff})
			f.Inst = inst(t, a, pcText, 0xf7, 0xf9)
			return f
		}, KindDivideByZero, []string{"overflow"}, nil},
		{"int3", func() *Facts {
			f := x86Facts(SIGTRAP, SI_KERNEL, 0, map[string]uint64{"rip": pcText + 1})
			f.Mem = fakeMem{pcText: {0xcc, 0x90}}
			f.Inst = inst(t, a, pcText+1, 0x90)
			return f
		}, KindBreakpoint, []string{"int3 at 0x55d0c0100000"}, nil},
		{"killed", func() *Facts {
			f := x86Facts(SIGQUIT, SI_USER, 0, map[string]uint64{"rip": pcText})
			f.HasSender, f.SenderPID, f.SenderUID = true, 1, 0
			return f
		}, KindKilledBySignal, []string{"SIGQUIT", "pid 1, uid 0"}, map[string]string{"sender_pid": "1"}},
		{"killed-segv", func() *Facts {
			f := x86Facts(SIGSEGV, SI_USER, 0, map[string]uint64{"rip": pcText})
			f.HasSender, f.SenderPID, f.SenderUID = true, 4000, 1000
			return f
		}, KindKilledBySignal, []string{"SIGSEGV sent with kill()", "pid 4000"}, nil},
		{"assert", func() *Facts {
			f := x86Facts(SIGABRT, SI_TKILL, 0, map[string]uint64{"rip": pcText})
			f.HasSender, f.SenderPID = true, 630
			f.AbortMessage = "assert: assert.c:17: check_value: Assertion `x == 42' failed.\n"
			f.Functions = []string{"__pthread_kill_implementation", "raise", "abort", "__assert_fail_base", "__assert_fail", "check_value", "main"}
			return f
		}, KindAbort, []string{"Assertion `x == 42' failed in check_value at assert.c:17"},
			map[string]string{"cause": "assertion", "assert_file": "assert.c", "assert_line": "17", "caller": "check_value"}},
		{"heap", func() *Facts {
			f := x86Facts(SIGABRT, SI_TKILL, 0, map[string]uint64{"rip": pcText})
			f.AbortMessage = "free(): double free detected in tcache 2\n"
			f.Functions = []string{"__pthread_kill_implementation", "raise", "abort", "__libc_message", "malloc_printerr", "_int_free", "free", "release", "main"}
			return f
		}, KindAbort, []string{"glibc detected heap corruption: \"free(): double free detected in tcache 2\" called from release"},
			map[string]string{"cause": "heap_corruption", "heap_check": "free(): double free detected in tcache 2"}},
		{"terminate", func() *Facts {
			f := x86Facts(SIGABRT, SI_TKILL, 0, map[string]uint64{"rip": pcText})
			f.Functions = []string{"raise", "abort", "__gnu_cxx::__verbose_terminate_handler()", "__cxxabiv1::__terminate(void (*)())", "std::terminate()", "__cxa_throw", "thrower", "main"}
			f.ExceptionType = "std::runtime_error"
			return f
		}, KindAbort, []string{"Uncaught C++ exception of type std::runtime_error"}, map[string]string{"cause": "uncaught_exception"}},
		{"py-fatal", func() *Facts {
			f := x86Facts(SIGABRT, SI_TKILL, 0, map[string]uint64{"rip": pcText})
			f.Functions = []string{"raise", "abort", "fatal_error_exit", "fatal_error", "_Py_FatalErrorFunc", "PyGILState_Release"}
			return f
		}, KindAbort, []string{"Py_FatalError"}, map[string]string{"cause": "python_fatal_error", "caller": "fatal_error_exit"}},
		{"plain-abort", func() *Facts {
			f := x86Facts(SIGABRT, SI_TKILL, 0, map[string]uint64{"rip": pcText})
			f.Functions = []string{"__pthread_kill_implementation", "raise", "abort", "do_abort", "main"}
			return f
		}, KindAbort, []string{"abort() was called from do_abort, with no message recorded."}, nil},
		{"plain-abort-i386", func() *Facts {
			f := x86Facts(SIGABRT, SI_TKILL, 0, map[string]uint64{"rip": pcText})
			// i386 enters the kernel through the vDSO: its frame is innermost.
			f.Functions = []string{"__kernel_vsyscall", "", "raise", "abort", "do_abort", "main"}
			return f
		}, KindAbort, []string{"abort() was called from do_abort, with no message recorded."}, nil},
		{"raise-sigabrt", func() *Facts {
			// raise(SIGABRT) called directly (elfutils' backtrace-child): no abort frame.
			f := x86Facts(SIGABRT, SI_TKILL, 0, map[string]uint64{"rip": pcText})
			f.Functions = []string{"raise", "sigusr2", "stdarg", "backtracegen", "start", "start_thread", "__clone"}
			return f
		}, KindAbort, []string{"sigusr2 called raise(SIGABRT) directly, not abort(), with no message recorded."}, map[string]string{"caller": "sigusr2"}},
		{"no-signal", func() *Facts { return &Facts{} }, KindUnknown, []string{"no signal information"}, nil},
		{"sigsys", func() *Facts { return x86Facts(SIGSYS, 1, 0, nil) }, KindUnknown, []string{"SIGSYS (SYS_SECCOMP)"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, tc.name, Classify(tc.f()), tc.kind, tc.summary, tc.ev)
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func repeat2(a, b string, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, a, b)
	}
	return out
}

func TestARM64Kinds(t *testing.T) {
	a := arch.ARM64
	maps := []Mapping{
		{Start: 0xaaaab0000000, End: 0xaaaab0010000, Perms: "r-x", Name: "/usr/bin/prog"},
		{Start: 0xfffff7000000, End: 0xfffff7800000, Perms: "rw-", Name: "[stack]"},
	}
	pc := uint64(0xaaaab0000800)
	f := &Facts{Arch: a, Signo: SIGSEGV, Code: SEGV_MAPERR, Addr: 0x60, HasAddr: true, Mappings: maps,
		Regs: map[string]uint64{"pc": pc, "x0": 0, "sp": 0xfffff77ff000}, Functions: []string{"deref"}}
	f.Inst = arm(t, pc, 0xf9403000) // ldr x0, [x0, #96]
	check(t, "arm-null", Classify(f), KindNullPointer, []string{"reads 8 bytes at x0+0x60; x0 = 0x0"}, map[string]string{"null_register": "x0"})

	f = &Facts{Arch: a, Signo: SIGTRAP, Code: TRAP_BRKPT, Addr: pc, HasAddr: true, Mappings: maps, Regs: map[string]uint64{"pc": pc}}
	f.Inst = arm(t, pc, 0xd4207d00) // brk #0x3e8
	check(t, "arm-trap", Classify(f), KindTrap, []string{"brk #0x3e8", "__builtin_trap"}, nil)

	f = &Facts{Arch: a, Signo: SIGSEGV, Code: SEGV_MAPERR, Addr: 0, HasAddr: true, Mappings: maps,
		Regs: map[string]uint64{"pc": 0, "x30": pc + 0x20, "sp": 0xfffff77ff000}}
	check(t, "arm-wildcall", Classify(f), KindExecNonExecutable, []string{"NULL function pointer", "0xaaaab0000820"},
		map[string]string{"link_register": "0xaaaab0000820"})
}

// A qemu-arm core of recurse.c has no NT_SIGINFO; were its faulting store not decoded,
// the fault address would be unknown; the stack pointer is in the PROT_NONE guard page below the
// stack (the layout and registers are those of the real core, checked against gdb-multiarch
// in analysis' TestRecurseARM), and that alone says the thread ran off its stack. The same
// fault with sp inside the stack is not explained by the stack: it stays a wild pointer.
func TestStackOverflowWithoutFaultAddress(t *testing.T) {
	maps := []Mapping{
		{Start: 0x10000, End: 0x11000, Perms: "r-x", Name: "/tmp/recurse"},
		{Start: 0x40000000, End: 0x40001000, Perms: "---", StackOf: 16166}, // the guard page, with the sp in it
		{Start: 0x40001000, End: 0x40801000, Perms: "rw-", Name: "[stack]"},
	}
	facts := func(sp uint64) *Facts {
		return &Facts{Arch: arch.ARM, Signo: SIGSEGV, NoSigInfo: true, PID: 16166, TID: 16166, Mappings: maps,
			Regs:      map[string]uint64{"r15": 0x10436, "r13": sp, "r3": sp + 4},
			Functions: repeat("recurse", 1024), InstErr: "disasm: unsupported architecture: arm"}
	}
	d := Classify(facts(0x40000f48))
	want := "Stack overflow in recurse: the stack pointer 0x40000f48 is 0xb8 below the lowest page of the stack of thread 16166, " +
		"outside any accessible mapping (the core records no fault address); recurse recurses (1024 consecutive frames seen)."
	if d.Kind != KindStackOverflow || d.Summary != want {
		t.Errorf("kind %s, summary\n%q\nwant\n%q", d.Kind, d.Summary, want)
	}
	check(t, "arm-sp-in-guard", d, KindStackOverflow, nil, map[string]string{"stack": "[stack] [0x40001000-0x40801000 rw-]",
		"below_stack": "0xb8", "sp": "0x40000f48", "recursion": "recurse", "recursion_depth": "1024"})
	if _, ok := d.Get("fault_address"); ok {
		t.Errorf("a fault address where the core has none: %v", d.Evidence)
	}

	// sp below an anonymous stack with nothing mapped there (a kernel core without
	// NT_SIGINFO).
	d = Classify(&Facts{Arch: arch.ARM, Signo: SIGSEGV, NoSigInfo: true, TID: 7, Mappings: []Mapping{maps[0], {Start: 0x40001000, End: 0x40801000, Perms: "rw-"}},
		Regs: map[string]uint64{"r15": 0x10436, "r13": 0x40000ff0}, Functions: []string{"f"}})
	check(t, "arm-sp-unmapped", d, KindStackOverflow, nil, map[string]string{"below_stack": "0x10", "sp": "0x40000ff0"})
	if want := "Stack overflow in f: the stack pointer 0x40000ff0 is 0x10 below the lowest page of the stack of thread 7, outside any accessible mapping (the core records no fault address)."; d.Summary != want {
		t.Errorf("summary %q, want %q", d.Summary, want)
	}

	// sp inside the stack: the access is unknown, and the stack does not explain it.
	d = Classify(facts(0x40800f48))
	if d.Kind != KindWildPointer || d.Summary != "Segmentation fault in recurse with no fault address recorded." {
		t.Errorf("sp inside the stack: %s %q", d.Kind, d.Summary)
	}
	// sp far below the stack (more than the guard gap): not this stack's overflow.
	d = Classify(facts(0x40000000 - guardGap - 0x1000))
	if d.Kind != KindWildPointer {
		t.Errorf("sp %#x below the guard gap: %s %q", 0x40000000-guardGap-0x1000, d.Kind, d.Summary)
	}
}

func TestAbortMessage(t *testing.T) {
	msg := "free(): double free detected in tcache 2\n"
	blk := make([]byte, 4096)
	binary.LittleEndian.PutUint32(blk, 4096)
	copy(blk[4:], msg)
	mem := fakeMem{0x7f0000001000: word(0x7f0000100000), 0x7f0000100000: blk, 0x7f0000002000: word(0)}
	got, err := AbortMessage(mem, 0x7f0000001000)
	if err != nil || got != msg {
		t.Errorf("AbortMessage = %q, %v", got, err)
	}
	if _, err := AbortMessage(mem, 0x7f0000002000); !errors.Is(err, ErrNoAbortMessage) {
		t.Errorf("NULL __abort_msg: %v", err)
	}
	var me *MessageError
	if _, err := AbortMessage(mem, 0x1234); !errors.As(err, &me) || me.What != "__abort_msg" {
		t.Errorf("unmapped: %v", err)
	}
	// An unterminated message that runs into unmapped memory: bounded, error says where.
	blk2 := make([]byte, 64)
	binary.LittleEndian.PutUint32(blk2, 0xffffffff)
	for i := 4; i < len(blk2); i++ {
		blk2[i] = 'A'
	}
	mem[0x7f0000003000] = word(0x7f0000200000)
	mem[0x7f0000200000] = blk2
	if _, err := AbortMessage(mem, 0x7f0000003000); !errors.As(err, &me) || me.What != "abort_msg_s.msg" {
		t.Errorf("unterminated: %v", err)
	}
	m, ok := FindMessage(mem, []uint64{0, 0x7f0000001000, 0x7f0000100004})
	if !ok || m.Cause != "heap_corruption" || m.Text != strings.TrimSpace(msg) {
		t.Errorf("FindMessage = %+v, %v", m, ok)
	}
}

func TestParseMessage(t *testing.T) {
	m := ParseMessage("python3: Objects/obj.c:123: f: Assertion `a: b' failed.")
	if m.Cause != "assertion" || m.Program != "python3" || m.File != "Objects/obj.c" || m.Line != 123 || m.Function != "f" || m.Expr != "a: b" {
		t.Errorf("%+v", m)
	}
	for s, cause := range map[string]string{
		"malloc(): corrupted top size":                                                         "heap_corruption",
		"corrupted size vs. prev_size":                                                         "heap_corruption",
		"*** stack smashing detected ***: terminated":                                          "stack_smashing",
		"*** buffer overflow detected ***: terminated":                                         "fortify",
		"Fatal Python error: PyThreadState_Get: the function must be called with the GIL held": "python_fatal_error",
		"hello": "",
	} {
		if got := ParseMessage(s).Cause; got != cause {
			t.Errorf("%q: cause %q, want %q", s, got, cause)
		}
	}
}

func TestRules(t *testing.T) {
	if embeddedErr != nil {
		t.Fatalf("embedded rules: %v", embeddedErr)
	}
	if n := len(DefaultRules()); n != 4 {
		t.Errorf("%d embedded rules", n)
	}
	dir := t.TempDir()
	user := filepath.Join(dir, "rules.json")
	os.WriteFile(user, []byte(`{"rules":[{"id":"grpc-atexit","title":"grpc at exit","explanation":"x",
		"match":{"modules":["cygrpc*.so"],"signals":["SIGSEGV"]},"references":["https://example.org"]}]}`), 0o644)
	rs, err := LoadRules(user)
	if err != nil || len(rs) != 1 || rs[0].Source != user {
		t.Fatalf("LoadRules: %v %+v", err, rs)
	}
	f := x86Facts(SIGSEGV, SEGV_MAPERR, 0x60, map[string]uint64{"rip": 0x55d0c0100000})
	f.Modules = []string{"/venv/lib/grpc/_cython/cygrpc.cpython-312-x86_64-linux-gnu.so"}
	d := Diagnose(f, append(DefaultRules(), rs...))
	if len(d.Rules) != 1 || d.Rules[0].ID != "grpc-atexit" || d.Rules[0].Source != user {
		t.Errorf("matches %+v", d.Rules)
	}
	for _, bad := range []string{
		`{"rules":[{"id":"a","title":"t","explanation":"e","match":{}}]}`,
		`{"rules":[{"id":"a","title":"t","explanation":"e","match":{"signals":["SIGFOO"]}}]}`,
		`{"rules":[{"id":"a","title":"t","explanation":"e","match":{"signal":["SIGSEGV"]}}]}`,
		`{"rules":[{"id":"a","title":"t","explanation":"e","match":{"kinds":["x"]}},{"id":"a","title":"t","explanation":"e","match":{"kinds":["x"]}}]}`,
		`{"rules":[`,
	} {
		var re *RuleError
		if _, err := ParseRules([]byte(bad), "bad.json"); !errors.As(err, &re) || re.Source != "bad.json" {
			t.Errorf("%s: error %v", bad, err)
		}
	}
	for _, tc := range []struct {
		p, s string
		ok   bool
	}{{"faulthandler_*", "faulthandler_disable", true}, {"*", "", true}, {"a?c", "abc", true}, {"a*b*c", "aXbYc", true},
		{"a*b", "ac", false}, {"PyOS_setsig", "PyOS_setsig2", false}, {"*libpython3*.so*", "/usr/lib/libpython3.12.so.1.0", true}} {
		if glob(tc.p, tc.s) != tc.ok {
			t.Errorf("glob(%q, %q) != %v", tc.p, tc.s, tc.ok)
		}
	}
}

// Rust panics that abort, named from the stacks rustc's std leaves: the kind from the
// function that raised the panic, the site from the first frame of the program.
func TestRustPanic(t *testing.T) {
	abort := []string{"__pthread_kill_implementation", "__GI_raise", "__GI_abort", "std::sys::pal::unix::abort_internal", "std::process::abort",
		"panic_abort::__rust_start_panic::abort", "__rustc::rust_panic", "std::panicking::panic_with_hook", "__rustc::rust_begin_unwind", "core::panicking::panic_fmt"}
	for _, c := range []struct {
		raise   []string
		kind    string
		summary string
	}{
		{[]string{"core::option::unwrap_failed"}, "`Option::unwrap()` on a `None` value", "A Rust panic (`Option::unwrap()` on a `None` value) in app::load at src/main.rs:12 aborted"},
		{[]string{"core::panicking::panic_const::panic_const_add_overflow"}, "arithmetic: add overflow", "A Rust panic (arithmetic: add overflow) in app::load at src/main.rs:12 aborted"},
		{[]string{"<core::option::Option<T>>::expect", "core::option::expect_failed"}, "`Option::expect()` on a `None` value", "A Rust panic (`Option::expect()` on a `None` value) in app::load"},
		{nil, "", "A Rust panic in app::load at src/main.rs:12 aborted"},
	} {
		fns := append(append(append([]string{}, abort...), c.raise...), "app::load", "app::main", "std::rt::lang_start", "main")
		locs := make([]string, len(fns))
		locs[len(fns)-4] = "src/main.rs:12"
		f := &Facts{Functions: fns, Locations: locs}
		var d Diagnosis
		f.abort(&d)
		if got, _ := d.Get("cause"); got != "rust_panic" {
			t.Errorf("%v: cause %q", c.raise, got)
		}
		if got, _ := d.Get("panic"); got != c.kind {
			t.Errorf("%v: panic %q, want %q", c.raise, got, c.kind)
		}
		if got, _ := d.Get("panic_site"); got != "app::load" {
			t.Errorf("%v: panic_site %q", c.raise, got)
		}
		if !strings.HasPrefix(d.Summary, c.summary) {
			t.Errorf("%v: summary %q, want it to start %q", c.raise, d.Summary, c.summary)
		}
	}
}

// TestHardwareMemoryError: SIGBUS with BUS_MCEERR_AR or _AO is the machine's fault, not
// the program's (mm/memory-failure.c kills with them; no kernel here has
// CONFIG_MEMORY_FAILURE to make a real core).
func TestHardwareMemoryError(t *testing.T) {
	const pc = 0x55d0c0100000
	f := x86Facts(SIGBUS, BUS_MCEERR_AR, 0x55d0c1002000, map[string]uint64{"rip": pc, "rdi": 0x55d0c1002000})
	f.Inst = inst(t, arch.AMD64, pc, 0x48, 0x8b, 0x07) // mov (%rdi),%rax
	f.Functions = []string{"checksum"}
	check(t, "consumed", Classify(f), KindHardwareMemory, []string{
		"Hardware memory error in checksum: the thread used a page the machine reported as corrupt (a machine check, BUS_MCEERR_AR) at 0x55d0c1002000, in the mapping [heap] [0x55d0c1000000-0x55d0c1400000 rw-] (the instruction reads 8 bytes at rdi; rdi = 0x55d0c1002000). The memory is faulty, not the program: check the machine's EDAC or mcelog records before debugging the code."},
		map[string]string{"mapping": "[heap] [0x55d0c1000000-0x55d0c1400000 rw-]", "fault_address": "0x55d0c1002000"})
	f.Code = BUS_MCEERR_AO
	check(t, "early kill", Classify(f), KindHardwareMemory, []string{
		"Hardware memory error: the kernel found a corrupt page at 0x55d0c1002000, in the mapping [heap] [0x55d0c1000000-0x55d0c1400000 rw-], before the thread used it (BUS_MCEERR_AO, early kill)."}, nil)
}

// TestControlProtectionAndTags: SEGV_CPERR and the MTE codes name their mechanism; a
// shadow-stack fault has no address and must not be called a NULL dereference. (No
// machine here has CET, GCS or MTE hardware for a real core.)
func TestControlProtectionAndTags(t *testing.T) {
	const pc, sp = 0x55d0c0100000, 0x7ffd5a800000
	f := x86Facts(SIGSEGV, SEGV_CPERR, 0, map[string]uint64{"rip": pc, "rsp": sp})
	f.Inst = inst(t, arch.AMD64, pc, 0xc3) // ret
	f.Functions = []string{"parse_request"}
	f.Mem = fakeMem{sp: word(0x4141414141414141)}
	check(t, "shadow stack", Classify(f), KindControlProtection, []string{
		"Control-protection fault in parse_request: the return to 0x4141414141414141 does not match the shadow stack's copy of the return address. The return address on the stack was overwritten"},
		map[string]string{"return_address": "0x4141414141414141"})
	f.Inst = inst(t, arch.AMD64, pc, 0xff, 0xd0) // call *%rax
	check(t, "branch tracking", Classify(f), KindControlProtection, []string{
		"Control-protection fault in parse_request: the indirect branch call *%rax went to an instruction that is not a branch target"}, nil)

	g := &Facts{Arch: arch.ARM64, Signo: SIGSEGV, Code: SEGV_MTESERR, Addr: 0x0b00ffff80001010, HasAddr: true,
		Regs: map[string]uint64{"pc": 0x400000}, Functions: []string{"use_after_free"}}
	check(t, "MTE sync", Classify(g), KindTagMismatch, []string{
		"Memory tag mismatch (MTE) in use_after_free: the access at 0xb00ffff80001010 used a pointer tagged 0xb, which is not the tag of the memory there"},
		map[string]string{"pointer_tag": "0xb"})
	g.Code, g.Addr = SEGV_MTEAERR, 0
	check(t, "MTE async", Classify(g), KindTagMismatch, []string{"Memory tag mismatch (MTE, asynchronous) in use_after_free: an access before this point"}, nil)
}
