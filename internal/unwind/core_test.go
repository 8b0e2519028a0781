package unwind

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/testcore"
)

// pastMain are the frames gdb hides below main ("set backtrace past-main off").
var pastMain = []string{"__libc_start_call_main", "__libc_start_main", "_start"}

// compareWithGDB unwinds every thread of a test core and asserts that each frame has
// gdb's pc and lies in the function gdb names.
func compareWithGDB(t *testing.T, spec testcore.Spec) ([]unwound, *testProcess) {
	t.Helper()
	return compareCoreWithGDB(t, testcore.Make(t, spec))
}

func compareCoreWithGDB(t *testing.T, tc *testcore.Core) ([]unwound, *testProcess) {
	t.Helper()
	p := openProcess(t, tc)
	got := unwindAll(t, p, 0)
	want := gdbBacktraces(t, tc.Exe, tc.Path, 0)
	if len(got) != len(want) {
		t.Errorf("%d threads, gdb shows %d", len(got), len(want))
	}
	for _, th := range got {
		w, ok := want[th.tid]
		if !ok {
			t.Errorf("thread %d is not in gdb's output", th.tid)
			continue
		}
		compareThread(t, p, th, w)
	}
	return got, p
}

// physicalOnly drops the frames gdb synthesizes for tail calls from DWARF call site
// information (DW_TAG_call_site with DW_AT_call_tail_call): their pc follows a jmp, not a
// call, and no return address for them is on the stack. Example: pthread_cond_wait calls
// __futex_abstimed_wait_cancelable64, which jumps to __futex_abstimed_wait_common; gdb
// shows the middle function at the address after the jmp. These are symbolization
// (internal/dwarf) material, not unwinding.
func physicalOnly(t *testing.T, p *testProcess, want []gdbFrame) []gdbFrame {
	var out []gdbFrame
	for i, g := range want {
		if i > 0 && g.hasPC && want[i-1].name() != "<signal handler called>" {
			code := make([]byte, 8)
			if _, err := p.c.ReadAt(code, g.pc-8); err == nil && !arch.AMD64.CallBefore(code) {
				t.Logf("gdb frame #%d %#x %s follows no call: a tail-call frame, left out", i, g.pc, g.name())
				continue
			}
		}
		out = append(out, g)
	}
	return out
}

func compareThread(t *testing.T, p *testProcess, th unwound, want []gdbFrame) {
	t.Helper()
	want = physicalOnly(t, p, want)
	bad := false
	for i, g := range want {
		if i >= len(th.frames) {
			bad = true
			break
		}
		f := th.frames[i]
		if g.hasPC && g.pc != f.PC {
			bad = true
		}
		if g.name() == "<signal handler called>" {
			bad = bad || f.Signal == nil
		} else if !p.sameFunction(f.LookupPC(), g.name()) {
			bad = bad || g.name() != "??" || p.funcName(f.LookupPC()) != "??"
		}
	}
	if extra := len(th.frames) - len(want); !bad && extra > 0 {
		if want[len(want)-1].name() != "main" || extra != len(pastMain) {
			bad = true
		} else {
			for i, name := range pastMain {
				f := th.frames[len(want)+i]
				bad = bad || !p.sameFunction(f.LookupPC(), name)
			}
		}
	}
	if bad {
		var gs []string
		for _, g := range want {
			gs = append(gs, fmt.Sprintf("%#x %s", g.pc, strings.Join(g.names, "/")))
		}
		t.Errorf("thread %d:\n got %s\ngdb %s", th.tid, describe(th), strings.Join(gs, " <- "))
	}
	if th.err != nil {
		t.Errorf("thread %d: %v", th.tid, th.err)
	}
}

func describe(w unwound) string {
	var b strings.Builder
	for i, f := range w.frames {
		if i > 0 {
			b.WriteString(" <- ")
		}
		fmt.Fprintf(&b, "%#x %s[%s]", f.PC, w.names[i], f.FoundBy)
	}
	return b.String()
}

func TestCoreO0(t *testing.T) {
	got, _ := compareWithGDB(t, testcore.DerefPIE)
	// The crashing thread: deref <- main, found by context then CFI.
	main := got[0]
	if len(main.names) < 2 || main.names[0] != "deref" || main.names[1] != "main" {
		t.Fatalf("crashing thread: %s", describe(main))
	}
	if main.frames[0].FoundBy != FoundByContext || main.frames[0].ReturnAddress ||
		main.frames[1].FoundBy != FoundByCFI || !main.frames[1].ReturnAddress {
		t.Errorf("frame kinds: %s", describe(main))
	}
}

func TestCoreO2NoFramePointer(t *testing.T) {
	got, _ := compareWithGDB(t, testcore.DerefO2NoFP)
	for _, th := range got {
		for _, f := range th.frames[1:] {
			if f.FoundBy != FoundByCFI {
				t.Errorf("thread %d: %s", th.tid, describe(th))
				break
			}
		}
	}
}

func TestCoreThreads20(t *testing.T) {
	got, _ := compareWithGDB(t, testcore.Threads20)
	if len(got) != 21 {
		t.Errorf("%d threads, want 21", len(got))
	}
}

func TestCoreSignalHandler(t *testing.T) {
	got, _ := compareWithGDB(t, testcore.SigHandler)
	sig := signalFrame(t, arch.AMD64, got[0])
	if sig.Signal.SigInfo != sig.SP+304 || sig.Signal.Context != sig.SP+40 {
		t.Errorf("signal frame at sp %#x: siginfo %#x, context %#x", sig.SP, sig.Signal.SigInfo, sig.Signal.Context)
	}
}

// signalFrame returns the thread's signal trampoline frame and checks the frame after it.
func signalFrame(t *testing.T, a *arch.Arch, th unwound) *Frame {
	t.Helper()
	for i, f := range th.frames {
		if f.Signal != nil && i+1 < len(th.frames) {
			next := th.frames[i+1]
			if next.FoundBy != FoundBySignalFrame || next.ReturnAddress || next.PC != next.Regs.Val[a.PC] {
				t.Errorf("frame after the signal frame: found by %s, return address %v", next.FoundBy, next.ReturnAddress)
			}
			return f
		}
	}
	t.Fatalf("no signal frame: %s", describe(th))
	return nil
}

// A crash handler on an alternate stack above the faulting frames re-raises: the unwinder
// crosses the signal frame although the CFA decreases there, and the siginfo saved in the
// rt_sigframe is the original fault.
func TestCoreReraiseOnAltStack(t *testing.T) {
	for _, flags := range [][]string{{"-O0", "-g"}, {"-O2", "-g", "-fomit-frame-pointer"}, {"aarch64", "-O0", "-g"}} {
		var th unwound
		var p *testProcess
		if flags[0] == "aarch64" {
			flags = flags[1:]
			tc := makeCore(t, testcore.ArchAArch64, "reraise.c", flags...)
			p = openProcess(t, tc)
			th = unwindAll(t, p, 0)[0]
			if want := "?? raise on_segv <signal handler called> fault_here call_fault main ?? __libc_start_main _start"; strings.Join(th.names, " ") != want || th.err != nil {
				t.Errorf("aarch64: %s (%v)\nwant %s", describe(th), th.err, want)
			}
		} else {
			tc := makeCore(t, testcore.ArchX86_64, "reraise.c", flags...)
			var got []unwound
			got, p = compareCoreWithGDB(t, tc)
			th = got[0]
		}
		sig := signalFrame(t, p.a, th)
		var names []string
		for i, f := range th.frames {
			if f.Index > sig.Index {
				names = append(names, th.names[i])
			}
		}
		want := "fault_here call_fault main " + strings.Join(pastMain, " ")
		if p.a == arch.ARM64 {
			want = "fault_here call_fault main ?? __libc_start_main _start"
		}
		if strings.Join(names, " ") != want {
			t.Errorf("%v: after the signal frame: %v, want %s", flags, names, want)
		}
		interrupted := th.frames[sig.Index+1]
		if interrupted.HasCFA && sig.HasCFA && interrupted.CFA >= sig.CFA {
			t.Errorf("%v: the alternate stack (CFA %#x) is not above the interrupted frame (CFA %#x): the test does not test the crossing", flags, sig.CFA, interrupted.CFA)
		}
		b := make([]byte, 24)
		if _, err := p.c.ReadAt(b, sig.Signal.SigInfo); err != nil {
			t.Fatal(err)
		}
		o := p.a.ByteOrder
		signo, code, addr := int32(o.Uint32(b)), int32(o.Uint32(b[8:])), o.Uint64(b[16:])
		if signo != 11 || code != 1 || addr != 0x60 {
			t.Errorf("%v: saved siginfo: signo %d code %d addr %#x, want 11, 1 (SEGV_MAPERR), 0x60", flags, signo, code, addr)
		}
		if p.c.SigInfo != nil && p.c.SigInfo.Code != -6 {
			t.Errorf("%v: the core's NT_SIGINFO should be the re-raise (SI_TKILL): %+v", flags, p.c.SigInfo)
		}
	}
}

func TestCoreDeepRecursion(t *testing.T) {
	tc := testcore.Make(t, testcore.Recurse)
	p := openProcess(t, tc)
	got := unwindAll(t, p, 0)
	if len(got) != 1 {
		t.Fatalf("%d threads", len(got))
	}
	th := got[0]
	if !errors.Is(th.err, ErrMaxDepth) || len(th.frames) != DefaultMaxDepth {
		t.Errorf("stopped after %d frames with %v, want %d and ErrMaxDepth", len(th.frames), th.err, DefaultMaxDepth)
	}
	want := gdbBacktraces(t, tc.Exe, tc.Path, DefaultMaxDepth)[th.tid]
	th.err = nil
	compareThread(t, p, th, want)
	// Without the depth cap the walk reaches main and the C runtime.
	all := unwindAll(t, p, 1<<20)[0]
	if all.err != nil {
		t.Fatalf("full walk: %v after %d frames", all.err, len(all.frames))
	}
	n := len(all.names)
	if n < 1000 || all.names[n-4] != "main" || all.names[n-5] != "recurse" {
		t.Errorf("full walk: %d frames ending %v", n, all.names[max(0, n-6):])
	}
	t.Logf("%d frames", n)
}

func TestCoreStatic(t *testing.T) { compareWithGDB(t, testcore.Static) }

func TestCoreCxxThrow(t *testing.T) { compareWithGDB(t, testcore.Throw) }

func TestCoreAbort(t *testing.T) { compareWithGDB(t, testcore.Abort) }

func TestCoreWildCall(t *testing.T) { compareWithGDB(t, testcore.WildCall) }

// aarch64 cores come from qemu-user (no gdb for them here). The Debian arm64 cross libc
// has no symbol table, so its static functions are "??": __libc_start_call_main,
// start_thread, thread_start (clone), __futex_abstimed_wait_common and
// __pthread_kill_implementation, as gdb shows on the x86_64 build of the same programs.
// Every frame must come from CFI (or the signal frame) and lie in the expected module.
func TestCoreAArch64(t *testing.T) {
	tc := testcore.Make(t, testcore.DerefAArch64)
	p := openProcess(t, tc)
	var got []string
	for _, th := range unwindAll(t, p, 0) {
		if th.err != nil {
			t.Errorf("thread %d: %v", th.tid, th.err)
		}
		for _, f := range th.frames[1:] {
			if f.FoundBy != FoundByCFI {
				t.Errorf("thread %d: %s", th.tid, describe(th))
				break
			}
		}
		got = append(got, strings.Join(th.names, " "))
	}
	want := []string{
		"deref main ?? __libc_start_main _start",
		"clock_nanosleep __nanosleep sleep worker_sleep ?? ??",
		"?? pthread_cond_wait worker_wait ?? ??",
		"worker_spin ?? ??",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCoreAArch64SignalHandler(t *testing.T) {
	tc := testcore.Make(t, testcore.Spec{Name: "sighandler-aarch64", Source: "sighandler.c", Arch: testcore.ArchAArch64})
	p := openProcess(t, tc)
	th := unwindAll(t, p, 0)[0]
	want := "on_usr1 <signal handler called> ?? raise send_usr1 main ?? __libc_start_main _start"
	if got := strings.Join(th.names, " "); got != want || th.err != nil {
		t.Fatalf("got %s (%v)\nwant %s", describe(th), th.err, want)
	}
	sig := th.frames[1]
	// The trampoline is the vDSO's __kernel_rt_sigreturn (qemu's vDSO here); the
	// interrupted pc is exact.
	if sig.Signal == nil || th.frames[2].FoundBy != FoundBySignalFrame || th.frames[2].ReturnAddress {
		t.Fatalf("signal frame: %s", describe(th))
	}
	if sig.Signal.SigInfo != sig.SP || sig.Signal.Context != sig.SP+128+176 {
		t.Errorf("sp %#x: siginfo %#x, context %#x", sig.SP, sig.Signal.SigInfo, sig.Signal.Context)
	}
	// sighandler.c installs its handler without SA_SIGINFO, so no siginfo was copied to the
	// frame (TestCoreReraiseOnAltStack checks one that was).
	if pc := th.frames[2].PC; p.module(pc) == nil || !strings.HasSuffix(p.module(pc).name, "libc.so.6") {
		t.Errorf("interrupted pc %#x is not in libc", pc)
	}
}

// CPython 3.12 (pyenv build with DWARF) with threads: frames through
// _PyEval_EvalFrameDefault up to main, as gdb shows them.
func TestCorePython312(t *testing.T) {
	got, _ := compareWithGDB(t, testcore.Threads6Py)
	if len(got) != 7 { // threads6.py: the main thread and six workers
		t.Errorf("%d threads, want 7", len(got))
	}
	evalFrames := 0
	for _, th := range got {
		for _, n := range th.names {
			if n == "_PyEval_EvalFrameDefault" {
				evalFrames++
			}
		}
	}
	if evalFrames < len(got) {
		t.Errorf("%d _PyEval_EvalFrameDefault frames in %d threads", evalFrames, len(got))
	}
}
