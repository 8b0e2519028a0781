package analysis

import (
	"debug/elf"
	"fmt"
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

// exidxSpec is exidx.c for 32-bit ARM at optimisation opt, run with mode as its argument.
// -funwind-tables makes gcc emit .ARM.exidx/.ARM.extab for the program; -no-pie keeps it
// where gdb-multiarch can find it in a qemu-user core (which has no NT_FILE and no text
// pages, so gdb cannot compute a PIE's load address).
func exidxSpec(opt, mode string) testcore.Spec {
	s := testcore.Spec{Name: "exidx-arm-" + opt, Source: "exidx.c", Arch: testcore.ArchARM,
		CFlags: []string{"-" + opt, "-g", "-funwind-tables", "-no-pie"}}
	if mode != "" {
		s.Name += "-" + mode
		s.Args = []string{mode}
	}
	return s
}

// withoutDebugFrame copies the program without its .debug_frame (objcopy keeps the
// build-id), so that its only unwind tables are EHABI ones, and checks that it has no
// .eh_frame beyond the 4-byte terminator either.
func withoutDebugFrame(t *testing.T, exe string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(exe))
	if b, err := exec.Command("arm-linux-gnueabihf-objcopy", "--remove-section=.debug_frame", exe, out).CombinedOutput(); err != nil {
		t.Fatalf("arm-linux-gnueabihf-objcopy (binutils-arm-linux-gnueabihf, with the cross compiler): %v\n%s", err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s := f.Section(".ARM.exidx"); s == nil || s.Type != symbolize.SHT_ARM_EXIDX {
		t.Fatalf("%s has no .ARM.exidx", out)
	}
	if f.Section(".debug_frame") != nil || f.Section(".ARM.extab") == nil {
		t.Fatalf("%s: .debug_frame still there, or no .ARM.extab", out)
	}
	if s := f.Section(".eh_frame"); s != nil && s.Size > 4 {
		t.Fatalf("%s has a %d-byte .eh_frame", out, s.Size)
	}
	return out
}

// gdbArmFrame is one frame of gdb-multiarch's bt.
type gdbArmFrame struct {
	pc       uint64 // 0 when gdb printed none (frame 0 at the start of a line)
	fn       string // "??" when gdb names none
	file     string
	line     int
	fromFile string // the library gdb names with "from"
}

var (
	gdbArmFrameLine = regexp.MustCompile(`^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+) \(`)
	gdbArmAt        = regexp.MustCompile(` at (\S+):(\d+)$`)
	gdbArmFrom      = regexp.MustCompile(` from (\S+)$`)
)

// gdbMultiarchBT runs gdb-multiarch's `thread apply all bt` on a qemu-user core with the
// sysroot's libraries, past main (to _start), and parses it: frames by LWP.
func gdbMultiarchBT(t *testing.T, sysroot, exe, corePath string) (map[int][]gdbArmFrame, string) {
	t.Helper()
	if _, err := exec.LookPath("gdb-multiarch"); err != nil {
		t.Fatalf("gdb-multiarch is the oracle for this test (apt-get install gdb-multiarch): %v", err)
	}
	args := []string{"-nx", "-batch", "-ex", "set sysroot " + sysroot, "-ex", "set backtrace past-main on",
		"-ex", "file " + exe, "-ex", "core-file " + corePath, "-ex", "thread apply all bt"}
	b, err := exec.Command("gdb-multiarch", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb-multiarch: %v\n%s", err, b)
	}
	out := string(b)
	threads := map[int][]gdbArmFrame{}
	tid := 0
	for _, line := range strings.Split(out, "\n") {
		if m := gdbThreadHdr.FindStringSubmatch(line); m != nil {
			tid, _ = strconv.Atoi(m[2])
			continue
		}
		m := gdbArmFrameLine.FindStringSubmatch(line)
		if m == nil || tid == 0 {
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n != len(threads[tid]) {
			t.Fatalf("gdb-multiarch frame %d of LWP %d out of order:\n%s", n, tid, out)
		}
		f := gdbArmFrame{fn: m[3]}
		if m[2] != "" {
			f.pc, _ = strconv.ParseUint(m[2][2:], 16, 64)
		}
		if a := gdbArmAt.FindStringSubmatch(line); a != nil {
			f.file = filepath.Base(a[1])
			f.line, _ = strconv.Atoi(a[2])
		}
		if a := gdbArmFrom.FindStringSubmatch(line); a != nil {
			f.fromFile = filepath.Base(a[1])
		}
		threads[tid] = append(threads[tid], f)
	}
	return threads, out
}

// compareArmFrames checks coredig's frames against gdb's, frame by frame: the pc where gdb
// prints one, the function name where gdb has one (gdb's name may be another symbol at the
// same address, such as nanosleep for __nanosleep), file:line, and that every frame after the first was found by
// EHABI or, where the program's .debug_frame covers the function, by CFI.
func compareArmFrames(t *testing.T, a *Analysis, frames []report.Frame, gf []gdbArmFrame, allowCFI bool) {
	t.Helper()
	for i, g := range gf {
		f := frames[i]
		switch {
		case i == 0 && f.FoundBy != "context",
			i > 0 && f.FoundBy != "exidx" && !(allowCFI && f.FoundBy == "cfi"),
			f.Inlined:
			t.Errorf("frame %d (%s) found by %s (inlined %v)", i, f.Function, f.FoundBy, f.Inlined)
		}
		if g.pc != 0 && uint64(f.PC) != g.pc {
			t.Errorf("frame %d: pc %#x, gdb %#x", i, uint64(f.PC), g.pc)
		}
		switch {
		case g.fn == "??" && f.Function != "":
			t.Errorf("frame %d: %s, gdb names none", i, f.Function)
		case g.fn != "??" && f.Function != g.fn && !armAlias(a, f, g.fn):
			t.Errorf("frame %d: %q, gdb %q", i, f.Function, g.fn)
		}
		if g.file != "" && (filepath.Base(f.File) != g.file || f.Line != g.line) {
			t.Errorf("frame %d (%s): %s:%d, gdb %s:%d", i, f.Function, filepath.Base(f.File), f.Line, g.file, g.line)
		}
		if g.file == "" && f.Line != 0 {
			t.Errorf("frame %d (%s): line %d, gdb has none", i, f.Function, f.Line)
		}
	}
}

// TestEHABIBacktraceMatchesGDB unwinds real qemu-arm cores of exidx.c, at -O0 and -O2,
// whose program has only .ARM.exidx/.ARM.extab (no .eh_frame, .debug_frame removed) and
// whose libc is Debian's armhf one (EHABI tables, no CFI): every frame after the first is
// found by EHABI ("exidx"), from the crash through the recursion and main, libc's
// __libc_start_main, to _start, whose EXIDX_CANTUNWIND ends the stack without an error;
// only abort, which has no table, gives its caller from its prologue ("prologue").
// gdb-multiarch's bt on the same core (past main) is the oracle: the same number of
// frames, the same pcs, the same function names where gdb has one, and the same file:line.
// The "abort" core starts in libc (pthread_kill's implementation, raise, abort, all
// through libc's own table); the "qsort" core has libc's qsort frames between the crashing
// comparator and the program.
func TestEHABIBacktraceMatchesGDB(t *testing.T) {
	line := func(marker string) int { return testcore.Line(t, "exidx.c", marker) }
	for _, tc := range []struct {
		opt, mode string
		// top are the program's frames expected from the top, after any libc frames:
		// function and line marker.
		top        [][2]string
		signal     string
		libcOnTop  []string // names of the libc frames on top, "" for unnamed ones
		libcMiddle int      // libc frames between the comparator and recurse (at least)
		// byPrologue is the frame found from its callee's prologue, not by EHABI (0: none).
		byPrologue int
	}{
		{opt: "O0", signal: "SIGSEGV", top: [][2]string{{"leaf", "leaf_write"}, {"recurse", "call_leaf"}}},
		{opt: "O2", signal: "SIGSEGV", top: [][2]string{{"leaf", "leaf_write"}, {"recurse", "call_leaf"}}},
		// Debian's armhf glibc builds abort.c without unwind tables, and the linker put
		// its .text.unlikely code below the first .ARM.exidx entry (so not even an
		// EXIDX_CANTUNWIND covers it): abort's caller comes from its Thumb-2 prologue
		// (push {r7, lr}; sub sp, #144), as gdb finds it.
		{opt: "O0", mode: "abort", signal: "SIGABRT", libcOnTop: []string{"", "", "raise", "abort"}, top: [][2]string{{"recurse", "call_abort"}}, byPrologue: 4},
		{opt: "O2", mode: "abort", signal: "SIGABRT", libcOnTop: []string{"", "", "raise", "abort"}, top: [][2]string{{"recurse", "call_abort"}}, byPrologue: 4},
		{opt: "O2", mode: "qsort", signal: "SIGSEGV", top: [][2]string{{"compare", "compare_write"}}, libcMiddle: 2},
	} {
		spec := exidxSpec(tc.opt, tc.mode)
		t.Run(spec.Name, func(t *testing.T) {
			c := testcore.Make(t, spec)
			exe := withoutDebugFrame(t, c.Exe)
			a, r := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}, ExePath: exe})
			if r.Signal == nil || r.Signal.Name != tc.signal {
				t.Fatalf("signal %+v, want %s", r.Signal, tc.signal)
			}
			frames, errText := a.Backtrace(a.Core.Threads[0], 0)
			if errText != "" {
				t.Errorf("the walk stopped: %s\n%s", errText, dumpArm(frames))
			}
			threads, gout := gdbMultiarchBT(t, c.Sysroot, exe, c.Path)
			gf := threads[c.PID]
			if len(gf) != len(frames) {
				t.Fatalf("%d frames, gdb-multiarch %d:\n%s\ngdb:\n%s", len(frames), len(gf), dumpArm(frames), gout)
			}
			if tc.byPrologue > 0 {
				if frames[tc.byPrologue].FoundBy != "prologue" {
					t.Errorf("frame %d found by %s, want prologue", tc.byPrologue, frames[tc.byPrologue].FoundBy)
				}
				frames[tc.byPrologue].FoundBy = "exidx" // for compareArmFrames
			}
			compareArmFrames(t, a, frames, gf, false)
			compareArmOffsets(t, a, c.Sysroot, exe, c.Path, frames)
			// The expected shape, from the source.
			k := 0
			for _, name := range tc.libcOnTop {
				if k >= len(frames) || filepath.Base(frames[k].Module) != "libc.so.6" || frames[k].Function != name {
					t.Fatalf("frame %d: want libc's %q:\n%s", k, name, dumpArm(frames))
				}
				k++
			}
			for _, w := range tc.top {
				if k >= len(frames) || frames[k].Function != w[0] || frames[k].Line != line(w[1]) {
					t.Fatalf("frame %d: want %s at line %d:\n%s", k, w[0], line(w[1]), dumpArm(frames))
				}
				k++
			}
			if tc.libcMiddle > 0 {
				n := 0
				for ; k < len(frames) && filepath.Base(frames[k].Module) == "libc.so.6"; k++ {
					n++
				}
				if n < tc.libcMiddle || k >= len(frames) || frames[k].Function != "recurse" || frames[k].Line != line("call_qsort") {
					t.Fatalf("%d libc frames, then frame %d: want recurse at line %d:\n%s", n, k, line("call_qsort"), dumpArm(frames))
				}
				k++
			}
			for n := 0; n < 3; n++ {
				if k >= len(frames) || frames[k].Function != "recurse" || frames[k].Line != line("recurse_self") {
					t.Fatalf("frame %d: want recurse at line %d:\n%s", k, line("recurse_self"), dumpArm(frames))
				}
				k++
			}
			if k >= len(frames) || frames[k].Function != "main" || frames[k].Line != line("main_calls") {
				t.Fatalf("frame %d: want main at line %d:\n%s", k, line("main_calls"), dumpArm(frames))
			}
			k++
			// Past main: libc's __libc_start_call_main (a local symbol of a stripped
			// library: unnamed) and __libc_start_main, then _start in the program.
			if len(frames)-k != 3 || frames[k+1].Function != "__libc_start_main" || frames[k+2].Function != "_start" || filepath.Base(frames[k+2].Module) != filepath.Base(exe) {
				t.Errorf("past main:\n%s", dumpArm(frames[k:]))
			}
			t.Logf("%d frames agree with gdb-multiarch:\n%s", len(frames), dumpArm(frames))
		})
	}
}

// compareArmOffsets checks each named frame's function offset against gdb-multiarch's
// `info symbol`, which clears the Thumb bit of ARM function symbols as coredig does.
func compareArmOffsets(t *testing.T, a *Analysis, sysroot, exe, corePath string, frames []report.Frame) {
	t.Helper()
	args := []string{"-nx", "-batch", "-ex", "set sysroot " + sysroot, "-ex", "file " + exe, "-ex", "core-file " + corePath}
	var named []report.Frame
	for _, f := range frames {
		if f.Function != "" && f.FunctionOffset != nil && !f.Inlined && f.Function != SignalHandlerCalled {
			named = append(named, f)
			args = append(args, "-ex", fmt.Sprintf("info symbol %#x", uint64(f.PC)))
		}
	}
	b, err := exec.Command("gdb-multiarch", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb-multiarch: %v\n%s", err, b)
	}
	var answers [][2]string
	for _, line := range strings.Split(string(b), "\n") {
		if m := gdbSymbol.FindStringSubmatch(line); m != nil {
			answers = append(answers, [2]string{m[1], m[2]})
		} else if m := gdbSymbol0.FindStringSubmatch(line); m != nil {
			answers = append(answers, [2]string{m[1], "0"})
		}
	}
	if len(answers) != len(named) {
		t.Fatalf("gdb-multiarch answered %d of %d info symbol:\n%s", len(answers), len(named), b)
	}
	for i, f := range named {
		off, _ := strconv.ParseUint(answers[i][1], 10, 64)
		if (answers[i][0] != f.Function && !armAlias(a, f, answers[i][0])) || off != uint64(*f.FunctionOffset) {
			t.Errorf("%#x: %s+%#x, gdb %s + %d", uint64(f.PC), f.Function, uint64(*f.FunctionOffset), answers[i][0], off)
		}
	}
}

// armAlias reports whether name is a symbol at the start of the function f names.
func armAlias(a *Analysis, f report.Frame, name string) bool {
	if f.FunctionOffset == nil || f.Inlined {
		return false
	}
	addr, _, ok := a.Modules.FindSymbol(name)
	return ok && addr == uint64(f.PC)-uint64(*f.FunctionOffset)
}

func dumpArm(frames []report.Frame) string {
	var b strings.Builder
	for _, f := range frames {
		fmt.Fprintf(&b, "  #%d %#x %s (%s) %s:%d [%s] %s\n", f.Index, uint64(f.PC), f.Function, filepath.Base(f.Module), filepath.Base(f.File), f.Line, f.FoundBy, f.Error)
	}
	return b.String()
}

// deref.c's four threads on 32-bit ARM, built as TestForeignArchitectures builds it but
// without PIE, so that gdb-multiarch can read the qemu core: the program's frames come
// from its .debug_frame (CFI), libc's from its .ARM.exidx. Every frame gdb-multiarch shows
// (it stops at start_thread, and at _start past main) is the same in coredig's stack: the
// sleeping thread's __clock_nanosleep_time64, nanosleep and sleep and the waiting one's
// pthread_cond_wait and its two unnamed callees are found by EHABI. coredig stops where
// gdb does, without an error: start_thread (a local symbol of the stripped libc, under an
// EXIDX_CANTUNWIND) is the last frame of each thread, as the return address a scan finds
// above it is in __clone's child, the code that starts the thread; _start ends the main
// thread.
func TestEHABIThreadsMatchGDB(t *testing.T) {
	c := testcore.Make(t, testcore.Spec{Name: "deref-arm-nopie", Source: "deref.c", Arch: testcore.ArchARM,
		CFlags: []string{"-O0", "-g", "-no-pie"}})
	a, r := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
	threads, gout := gdbMultiarchBT(t, c.Sysroot, c.Exe, c.Path)
	if len(threads) != 4 || len(r.Threads) != 4 {
		t.Fatalf("%d threads, gdb-multiarch %d:\n%s", len(r.Threads), len(threads), gout)
	}
	exidx := 0
	for _, th := range a.Core.Threads {
		frames, errText := a.Backtrace(th, 0)
		gf := threads[th.TID]
		if len(gf) == 0 || len(frames) != len(gf) || errText != "" {
			t.Errorf("thread %d: %d frames (%q), gdb-multiarch %d:\n%s", th.TID, len(frames), errText, len(gf), dumpArm(frames))
			continue
		}
		if th.TID != c.PID && filepath.Base(frames[len(frames)-1].Module) != "libc.so.6" {
			t.Errorf("thread %d ends outside libc's start_thread:\n%s", th.TID, dumpArm(frames))
		}
		compareArmFrames(t, a, frames, gf, true)
		for _, f := range frames[:len(gf)] {
			if f.FoundBy == "exidx" {
				exidx++
			}
		}
		if t.Failed() {
			t.Logf("thread %d:\n%s", th.TID, dumpArm(frames))
		}
	}
	// Main thread: __libc_start_main, _start; sleep: 4; wait: 4.
	if exidx < 10 {
		t.Errorf("%d frames found by EHABI, want at least 10\n%s", exidx, gout)
	}
}

// sighandler.c on 32-bit ARM with only EHABI tables: the handler's entry (a leaf: the
// return address is lr) leads to glibc's Thumb-2 restorer, the kernel's signal frame gives
// the interrupted registers in libc's pthread_kill, and EHABI goes on from there through
// raise to the program and _start. gdb-multiarch loses this stack after the signal frame
// (it shows pc 0 there), so the source is the oracle.
func TestSignalFrameEHABI(t *testing.T) {
	c := testcore.Make(t, testcore.Spec{Name: "sighandler-arm-exidx", Source: "sighandler.c", Arch: testcore.ArchARM,
		CFlags: []string{"-O0", "-g", "-funwind-tables", "-no-pie"}})
	exe := withoutDebugFrame(t, c.Exe)
	a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}, ExePath: exe})
	frames, errText := a.Backtrace(a.Core.Threads[0], 0)
	line := func(marker string) int { return testcore.Line(t, "sighandler.c", marker) }
	want := []struct {
		fn, module, by string
		line           int
	}{
		{"on_usr1", "exe", "context", line("null_write")},
		{SignalHandlerCalled, "libc.so.6", "exidx", 0},
		{"", "libc.so.6", "signal_frame", 0}, // pthread_kill's implementation, at its svc
		{"", "libc.so.6", "exidx", 0},
		{"raise", "libc.so.6", "exidx", 0},
		{"send_usr1", "exe", "exidx", line("raise")},
		{"main", "exe", "exidx", line("main_calls_send")},
		{"", "libc.so.6", "exidx", 0}, // __libc_start_call_main
		{"__libc_start_main", "libc.so.6", "exidx", 0},
		{"_start", "exe", "exidx", 0}, // a symbol of size 0, named up to the next one
	}
	if len(frames) != len(want) || errText != "" {
		t.Fatalf("%d frames (%s), want %d:\n%s", len(frames), errText, len(want), dumpArm(frames))
	}
	for i, w := range want {
		f := frames[i]
		mod := filepath.Base(f.Module)
		if mod == filepath.Base(exe) {
			mod = "exe"
		}
		if f.Function != w.fn || mod != w.module || f.FoundBy != w.by || f.Line != w.line {
			t.Errorf("frame %d: %s (%s) [%s] line %d, want %s (%s) [%s] line %d", i, f.Function, mod, f.FoundBy, f.Line, w.fn, w.module, w.by, w.line)
		}
	}
	if t.Failed() {
		t.Log(dumpArm(frames))
	}
}

// recurseARMBothWays makes recurse.c's stack overflow on 32-bit ARM twice, built with
// cflags, once with each of the two writes of recurse's prologue meeting the guard page
// below qemu-arm's stack: [0] the store of depth just above the frame's bottom (the
// frame's sp, 272 bytes below the entry sp, lies in the guard page), [1] the push of the
// frame pointer and lr (the entry sp is the stack's lowest address, and the push writes
// the 8 bytes below it). Which of the two happens depends only on where the stack starts,
// which moves with the size of the environment: qemu aligns the initial sp to 16 bytes,
// so the entry sp takes 17 positions relative to the boundary in recurse's 272-byte frame,
// and one of them is the push's. So the first run sets RECURSE_PAD empty; from its sp the
// second run's RECURSE_PAD is the length that moves every frame down onto the other
// position. Both runs' exe paths have the same length (their names do), so the shift is
// exact. It returns the cores and their sps, which the tests check against gdb-multiarch.
func recurseARMBothWays(t *testing.T, name string, cflags []string) ([2]*testcore.Core, [2]uint64) {
	t.Helper()
	const frame = 272 // push {fp, lr} (or {r7, lr}), then sub sp, sp, #264
	run := func(i, pad int) (*testcore.Core, uint64) {
		c := testcore.Make(t, testcore.Spec{Name: fmt.Sprintf("%s-%d", name, i), Source: "recurse.c", Arch: testcore.ArchARM,
			CFlags: cflags, Env: []string{"RECURSE_PAD=" + strings.Repeat("x", pad)}})
		a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
		return c, a.Core.Threads[0].SP(a.Core.Arch)
	}
	c0, sp0 := run(0, 0)
	pad := 16 // the push's position (the sp on a page boundary) moves 16 bytes down onto a store's
	if sp0%0x1000 != 0 {
		// The store's: the entry sp was sp0+frame, pad bytes above the stack's lowest page.
		pad = int(sp0 + frame - (sp0&^0xfff + 0x1000))
		if pad <= 0 || pad >= frame || pad%16 != 0 {
			t.Fatalf("sp %#x: the entry sp is %d bytes above the stack's lowest page, not a multiple of 16 within recurse's frame", sp0, pad)
		}
	}
	c1, sp1 := run(1, pad)
	if sp0%0x1000 == 0 {
		c0, sp0, c1, sp1 = c1, sp1, c0, sp0
	}
	if sp0%0x1000 == 0 || sp1%0x1000 != 0 {
		t.Fatalf("sps %#x (want one below a page boundary) and %#x (want one on it): the stack did not move as expected", sp0, sp1)
	}
	t.Logf("%s: RECURSE_PAD of %d bytes moved the fault from one write to the other (sps %#x and %#x)", name, pad, sp0, sp1)
	return [2]*testcore.Core{c0, c1}, [2]uint64{sp0, sp1}
}

// recurse.c on 32-bit ARM (Thumb-2): qemu-arm's core has no NT_SIGINFO, so the fault
// address is computed from the decoded write below the lowest page of the stack, both
// ways recurseARMBothWays makes it: the prologue's store of depth ("str r0, [r3, #0]",
// r3 = sp+4, as gdb-multiarch reads r3) and its push ("push {r7, lr}", 8 bytes below the
// sp, which is the stack's lowest address). gdb-multiarch on the same core gives the sp
// and the frames: recurse at its entry's line, then recurse at the recursive call.
func TestRecurseARM(t *testing.T) {
	cores, sps := recurseARMBothWays(t, "recurse-arm", testcore.RecurseARM.CFlags)
	for i, write := range []string{"str", "push"} {
		t.Run(write, func(t *testing.T) { checkRecurseARM(t, cores[i], sps[i], write == "push") })
	}
}

func checkRecurseARM(t *testing.T, c *testcore.Core, sp uint64, push bool) {
	a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
	r := a.Full(FullOptions{})
	out := gdbMultiarch(t, c.Exe, c.Path, c.Sysroot, "set print frame-arguments none", "info registers sp r3", "bt 4")
	gdbSP := regexp.MustCompile(`(?m)^sp\s+(0x[0-9a-f]+)`).FindStringSubmatch(out)
	gdbR3 := regexp.MustCompile(`(?m)^r3\s+(0x[0-9a-f]+)`).FindStringSubmatch(out)
	if gdbSP == nil || gdbR3 == nil {
		t.Fatalf("no sp or r3 from gdb-multiarch:\n%s", out)
	}
	if s, _ := strconv.ParseUint(gdbSP[1][2:], 16, 64); s != sp {
		t.Fatalf("gdb-multiarch: sp %#x, want %#x", s, sp)
	}
	fault := sp - 8
	evidence := map[string]string{"instruction": "push {r7, lr}", "access": "writes 8 bytes at r13-0x8", "registers": fmt.Sprintf("r13 = %#x", sp)}
	if !push {
		fault = sp + 4
		if r3, _ := strconv.ParseUint(gdbR3[1][2:], 16, 64); r3 != fault {
			t.Errorf("gdb: r3 %#x, sp %#x: the store is not at sp+4", r3, sp)
		}
		evidence = map[string]string{"instruction": "str r0, [r3, #0]", "access": "writes 4 bytes at r3", "registers": fmt.Sprintf("r3 = %#x", fault)}
	}
	stack := uint64(0)
	for _, m := range r.Mappings {
		if uint64(m.Start) == fault&^0xfff+0x1000 && m.Perms == "rw-" {
			stack = uint64(m.Start)
		}
	}
	if stack == 0 {
		t.Fatalf("no rw- stack mapping just above the page of the fault address %#x: %+v", fault, r.Mappings)
	}
	// The maps name the stack [stack], not the guard page the sp ran into.
	for _, m := range r.Mappings {
		if named, want := m.Name == "[stack]", uint64(m.Start) == stack; named != want {
			t.Errorf("mapping %#x-%#x %s named %q", uint64(m.Start), uint64(m.End), m.Perms, m.Name)
		}
	}
	d := r.Diagnosis
	want := fmt.Sprintf("Stack overflow in recurse: access at %#x, %#x below the lowest page of the stack of thread %d; "+
		"recurse recurses (1024 consecutive frames seen).", fault, stack-fault, c.PID)
	if d == nil || d.Kind != "stack_overflow" || d.Summary != want {
		t.Fatalf("diagnosis %+v\nwant summary %q", d, want)
	}
	for k, v := range map[string]string{"sp": fmt.Sprintf("%#x", sp), "below_stack": fmt.Sprintf("%#x", stack-fault),
		"recursion": "recurse", "recursion_depth": "1024", "function": "recurse", "fault_address": fmt.Sprintf("%#x", fault),
		"fault_address_source": "computed from the instruction (no NT_SIGINFO)"} {
		evidence[k] = v
	}
	for k, v := range evidence {
		if d.Evidence[k] != v {
			t.Errorf("evidence %s = %q, want %q", k, d.Evidence[k], v)
		}
	}
	if s := r.Signature; s == nil || s.Text != "stack_overflow @ recurse" {
		t.Errorf("signature %+v, want stack_overflow @ recurse", s)
	}
	frames := r.Threads[0].Frames
	line := func(marker string) int { return testcore.Line(t, "recurse.c", marker) }
	var gf [][3]string // pc, function, line
	for _, l := range strings.Split(out, "\n") {
		if m := gdbBTLine.FindStringSubmatch(l); m != nil {
			gf = append(gf, [3]string{m[2], m[3], m[4]})
		}
	}
	if len(gf) < 5 { // frame 0 twice: when gdb loads the core, then in bt
		t.Fatalf("gdb-multiarch bt:\n%s", out)
	}
	gf = gf[1:]
	for i, g := range gf {
		f := frames[i]
		wantLine := line("recurse_call")
		if i == 0 {
			wantLine = line("recurse_entry") // the prologue's push, or its store of depth
		}
		if f.Function != "recurse" || g[1] != "recurse" || strconv.Itoa(f.Line) != g[2] || f.Line != wantLine ||
			g[0] != "" && fmt.Sprintf("0x%08x", uint64(f.PC)) != g[0] {
			t.Errorf("frame %d: %#x %s line %d; gdb %s %s line %s; want line %d", i, uint64(f.PC), f.Function, f.Line, g[0], g[1], g[2], wantLine)
		}
	}
}

// A frame no symbol names, in a module with DWARF that does not cover it (crt1's _start,
// its symbol stripped), is the stack's end here, not a failure: no frame error (the text
// view prints an error as "stops here"), no symbolization error either, and no thread
// error. The unwind ends at _start's EXIDX_CANTUNWIND, where gdb-multiarch ends it.
func TestUnnamedFrameIsNotAnError(t *testing.T) {
	c := testcore.Make(t, testcore.Spec{Name: "deref-arm-nopie", Source: "deref.c", Arch: testcore.ArchARM,
		CFlags: []string{"-O0", "-g", "-no-pie"}})
	exe := filepath.Join(t.TempDir(), filepath.Base(c.Exe))
	if b, err := exec.Command("arm-linux-gnueabihf-objcopy", "--strip-symbol=_start", c.Exe, exe).CombinedOutput(); err != nil {
		t.Fatalf("arm-linux-gnueabihf-objcopy: %v\n%s", err, b)
	}
	a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}, ExePath: exe})
	frames, errText := a.Backtrace(a.Core.Threads[0], 0)
	threads, gout := gdbMultiarchBT(t, c.Sysroot, exe, c.Path)
	gf := threads[c.PID]
	if len(frames) != len(gf) || errText != "" {
		t.Fatalf("%d frames (%q), gdb-multiarch %d:\n%s\ngdb:\n%s", len(frames), errText, len(gf), dumpArm(frames), gout)
	}
	last := frames[len(frames)-1]
	if last.Function != "" || filepath.Base(last.Module) != filepath.Base(exe) || last.FoundBy != "exidx" || uint64(last.PC) != gf[len(gf)-1].pc {
		t.Errorf("last frame %s (%s) [%s] at %#x, want the unnamed _start [exidx] at gdb's %#x", last.Function, last.Module, last.FoundBy, uint64(last.PC), gf[len(gf)-1].pc)
	}
	for _, f := range frames {
		if f.Error != "" || f.SymbolError != "" {
			t.Errorf("frame %d (%s): error %q, symbol error %q", f.Index, f.Function, f.Error, f.SymbolError)
		}
	}
}
