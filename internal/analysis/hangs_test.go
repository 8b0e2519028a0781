package analysis

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/hangs"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// stdoutFacts parses the "name value" lines a hang crasher prints before it blocks.
func stdoutFacts(t *testing.T, tc *testcore.Core, names ...string) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	for _, line := range strings.Split(tc.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseUint(f[1], 0, 64)
		if err == nil {
			m[f[0]] = v
		}
	}
	for _, n := range names {
		if _, ok := m[n]; !ok {
			t.Fatalf("stdout of %s has no %q line:\n%s", tc.Spec.Name, n, tc.Stdout)
		}
	}
	return m
}

// noDebugFiles finds modules where the core names them but never a separate debug file,
// as on a machine without libc6-dbg.
type noDebugFiles struct{ symbolize.PathFinder }

func (noDebugFiles) FindDebug(string, []byte, string, uint32) (string, []symbolize.Attempt) {
	return "", nil
}

func hangReport(t *testing.T, tc *testcore.Core, opts symbolize.Options) *report.Report {
	t.Helper()
	a, _ := open(t, tc.Path, opts)
	r := a.Full(FullOptions{})
	if r.Diagnosis == nil {
		t.Fatalf("%s: no diagnosis", tc.Spec.Name)
	}
	return r
}

func thread(t *testing.T, r *report.Report, tid uint64) *report.Thread {
	t.Helper()
	for i := range r.Threads {
		if r.Threads[i].TID == int(tid) {
			return &r.Threads[i]
		}
	}
	t.Fatalf("no thread %d in the report", tid)
	return nil
}

// checkWait checks one thread's waiting against what the program printed.
func checkWait(t *testing.T, r *report.Report, tid uint64, kind string, addr, owner uint64) {
	t.Helper()
	w := thread(t, r, tid).Waiting
	if w == nil {
		t.Fatalf("thread %d: no waiting", tid)
	}
	if w.Kind != kind {
		t.Errorf("thread %d waits for %s %s, want kind %s", tid, w.Kind, w.Text, kind)
	}
	if addr != 0 && (w.Address == nil || uint64(*w.Address) != addr) {
		t.Errorf("thread %d waits at %v, want %#x (%s)", tid, w.Address, addr, w.Text)
	}
	if owner != 0 && (w.OwnerTID == nil || uint64(*w.OwnerTID) != owner) {
		t.Errorf("thread %d: owner %v, want %d (%s)", tid, w.OwnerTID, owner, w.Text)
	}
}

func btText(t *testing.T, r *report.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.Text(&b, r, report.Options{View: report.ViewBacktrace}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestHangABBA: two threads deadlocked on two pthread mutexes, at -O0 and -O2, with and
// without libc's debug file; the cycle must be exactly the one the program set up.
func TestHangABBA(t *testing.T) {
	for _, c := range []struct {
		arch  string
		flags []string
	}{
		{testcore.ArchX86_64, []string{"-O0", "-g"}}, {testcore.ArchX86_64, []string{"-O2", "-g"}},
		// i386: the kernel's compat core, the call in orig_eax behind int $0x80 and the
		// 32-bit mutex layout (__kind before __nusers).
		{testcore.ArchI386, []string{"-O2", "-g"}},
	} {
		flags := c.flags
		name := "hang-abba-" + c.arch + strings.ReplaceAll(flags[0], "-O", "-o")
		tc := testcore.Make(t, testcore.Spec{Name: name, Source: "hang_abba.c", Arch: c.arch, CFlags: flags, KillWith: syscall.SIGABRT})
		f := stdoutFacts(t, tc, "mutex_a", "mutex_b", "tid_a", "tid_b", "tid_main")
		for _, debug := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s%s/libc-debug=%v", c.arch, flags[0], debug), func(t *testing.T) {
				opts := symbolize.Options{}
				if !debug {
					opts.Finder = noDebugFiles{}
				}
				r := hangReport(t, tc, opts)
				d := r.Diagnosis
				if d.Kind != "deadlock" {
					t.Fatalf("kind %s (%s), want deadlock", d.Kind, d.Summary)
				}
				want := abbaCycle(f["tid_a"], f["tid_b"], f["mutex_a"], f["mutex_b"], "mutex")
				if got, w := cycleText(d.Cycle), cycleText(want); got != w {
					t.Errorf("cycle %s, want %s", got, w)
				}
				for _, s := range []string{
					fmt.Sprintf("thread_a at hang_abba.c:%d", tc.Line(t, "a_waits")),
					fmt.Sprintf("thread_b at hang_abba.c:%d", tc.Line(t, "b_waits")),
					"killed by SIGABRT",
				} {
					if !strings.Contains(d.Summary, s) {
						t.Errorf("summary %q lacks %q", d.Summary, s)
					}
				}
				checkWait(t, r, f["tid_a"], "mutex", f["mutex_b"], f["tid_b"])
				checkWait(t, r, f["tid_b"], "mutex", f["mutex_a"], f["tid_a"])
				// One signature for the one bug, whatever the flags, the machine and
				// the thread the watchdog's signal landed on.
				if got, want := r.Signature.Text, "deadlock @ thread_a | thread_b"; got != want {
					t.Errorf("signature %q, want %q", got, want)
				}
				bt := btText(t, r)
				for _, s := range []string{
					fmt.Sprintf("Thread %d: waiting for mutex %#x held by thread %d", f["tid_a"], f["mutex_b"], f["tid_b"]),
					fmt.Sprintf("Thread %d: waiting for mutex %#x held by thread %d", f["tid_b"], f["mutex_a"], f["tid_a"]),
				} {
					if !strings.Contains(bt, s) {
						t.Errorf("bt lacks %q:\n%s", s, bt)
					}
				}
			})
		}
	}
}

func cycleText(c []report.CycleEdge) string {
	var parts []string
	for _, e := range c {
		l := "-"
		if e.Lock != nil {
			l = e.Lock.String()
		}
		if e.Goroutine != nil && e.WaitsForGoroutine != nil {
			parts = append(parts, fmt.Sprintf("{goroutine %d->%d %s %s}", *e.Goroutine, *e.WaitsForGoroutine, l, e.Kind))
			continue
		}
		parts = append(parts, fmt.Sprintf("{%d->%d %s %s}", e.TID, e.WaitsForTID, l, e.Kind))
	}
	return strings.Join(parts, " ")
}

// TestHangOwnerExited: the owner of a mutex exited holding it; main waits for it forever.
func TestHangOwnerExited(t *testing.T) {
	tc := testcore.Make(t, testcore.Spec{Name: "hang-exited-x86_64", Source: "hang_exited.c", KillWith: syscall.SIGQUIT})
	f := stdoutFacts(t, tc, "mutex", "tid_main", "tid_owner")
	r := hangReport(t, tc, symbolize.Options{})
	d := r.Diagnosis
	if d.Kind != "orphaned_lock" {
		t.Fatalf("kind %s (%s), want orphaned_lock", d.Kind, d.Summary)
	}
	checkWait(t, r, f["tid_main"], "mutex", f["mutex"], f["tid_owner"])
	if w := thread(t, r, f["tid_main"]).Waiting; !w.OwnerOutside {
		t.Errorf("waiting %+v: want owner_outside", w)
	}
	for _, s := range []string{fmt.Sprintf("take at hang_exited.c:%d", tc.Line(t, "main_waits")), fmt.Sprint(f["tid_owner"]), "SIGQUIT"} {
		if !strings.Contains(d.Summary, s) {
			t.Errorf("summary %q lacks %q", d.Summary, s)
		}
	}
}

// TestHangFork: a mutex held by another thread when the process forked; the child's
// core (the child hangs on it).
func TestHangFork(t *testing.T) {
	for _, robust := range []bool{false, true} {
		spec := testcore.Spec{Name: "hang-fork-x86_64", Source: "hang_fork.c", KillWith: syscall.SIGABRT, KillChild: true}
		kind := "normal mutex"
		if robust {
			spec.Name, spec.Args, kind = spec.Name+"-robust", []string{"robust"}, "robust normal mutex"
		}
		t.Run(spec.Name, func(t *testing.T) {
			tc := testcore.Make(t, spec)
			f := stdoutFacts(t, tc, "mutex", "tid_holder", "pid_child", "pid_parent")
			if tc.PID != int(f["pid_child"]) {
				t.Fatalf("core of pid %d, want the child %d", tc.PID, f["pid_child"])
			}
			r := hangReport(t, tc, symbolize.Options{})
			d := r.Diagnosis
			if d.Kind != "orphaned_lock" {
				t.Fatalf("kind %s (%s), want orphaned_lock", d.Kind, d.Summary)
			}
			checkWait(t, r, f["pid_child"], "mutex", f["mutex"], f["tid_holder"])
			w := thread(t, r, f["pid_child"]).Waiting
			if !w.OwnerOutside || !strings.HasPrefix(w.Detail, kind) {
				t.Errorf("waiting %+v: want owner_outside, detail %q…", w, kind)
			}
			if s := fmt.Sprintf("child_main at hang_fork.c:%d", tc.Line(t, "child_waits")); !strings.Contains(d.Summary, s) {
				t.Errorf("summary %q lacks %q", d.Summary, s)
			}
		})
	}
}

// TestHangPipe: two workers wait for a mutex whose holder reads from a pipe nobody
// writes to: blocked, and the root blocker is that read.
func TestHangPipe(t *testing.T) {
	tc := testcore.Make(t, testcore.Spec{Name: "hang-pipe-x86_64", Source: "hang_pipe.c", KillWith: syscall.SIGQUIT})
	f := stdoutFacts(t, tc, "mutex", "fd", "tid_reader", "tid_worker1", "tid_worker2", "tid_main")
	r := hangReport(t, tc, symbolize.Options{})
	d := r.Diagnosis
	if d.Kind != "blocked" {
		t.Fatalf("kind %s (%s), want blocked", d.Kind, d.Summary)
	}
	if got := d.Evidence["root_blocker"]; got != fmt.Sprint(f["tid_reader"]) {
		t.Errorf("root blocker %s, want %d", got, f["tid_reader"])
	}
	call := fmt.Sprintf("read(%d, ", f["fd"])
	for _, s := range []string{call, fmt.Sprintf("reader at hang_pipe.c:%d", tc.Line(t, "read")), fmt.Sprintf("input on fd %d", f["fd"])} {
		if !strings.Contains(d.Summary, s) {
			t.Errorf("summary %q lacks %q", d.Summary, s)
		}
	}
	checkWait(t, r, f["tid_worker1"], "mutex", f["mutex"], f["tid_reader"])
	checkWait(t, r, f["tid_worker2"], "mutex", f["mutex"], f["tid_reader"])
	rw := thread(t, r, f["tid_reader"]).Waiting
	if rw == nil || rw.Kind != "syscall" || rw.Syscall != "read" || !strings.HasPrefix(rw.Call, call) {
		t.Errorf("reader waiting %+v: want syscall read on fd %d", rw, f["fd"])
	}
}

// TestHangPythonRLock: two Python threads deadlocked on two threading.RLocks; the
// owners come from the RLock objects' rlock_owner.
func TestHangPythonRLock(t *testing.T) {
	testHangPythonLocks(t, "hang_rlock.py", "rlock_", "threading.RLock")
}

// TestHangPythonLock: the same with threading.Locks in `with` blocks; a Lock records no
// owner, so the holders come from the `with` blocks' __exit__ on the value stacks.
func TestHangPythonLock(t *testing.T) {
	testHangPythonLocks(t, "hang_lock.py", "lock_", "threading.Lock")
}

func testHangPythonLocks(t *testing.T, script, prefix, lockType string) {
	for _, v := range []string{"3.12.1", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.13.0"} {
		t.Run(v, func(t *testing.T) {
			spec := testcore.PythonSpec(script, v)
			spec.KillWith = syscall.SIGABRT
			tc := testcore.Make(t, spec)
			f := stdoutFacts(t, tc, prefix+"a", prefix+"b", "tid_a", "tid_b", "tid_main")
			f["rlock_a"], f["rlock_b"] = f[prefix+"a"], f[prefix+"b"]
			r := hangReport(t, tc, symbolize.Options{})
			d := r.Diagnosis
			if d.Kind != "deadlock" {
				t.Fatalf("kind %s (%s), want deadlock", d.Kind, d.Summary)
			}
			want := abbaCycle(f["tid_a"], f["tid_b"], f["rlock_a"], f["rlock_b"], "python_lock")
			if got, w := cycleText(d.Cycle), cycleText(want); got != w {
				t.Errorf("cycle %s, want %s", got, w)
			}
			for _, s := range []string{
				fmt.Sprintf("thread_a at %s:%d", script, tc.Line(t, "a_waits")),
				fmt.Sprintf("thread_b at %s:%d", script, tc.Line(t, "b_waits")),
				lockType,
			} {
				if !strings.Contains(d.Summary, s) {
					t.Errorf("summary %q lacks %q", d.Summary, s)
				}
			}
			checkWait(t, r, f["tid_a"], "python_lock", f["rlock_b"], f["tid_b"])
			checkWait(t, r, f["tid_b"], "python_lock", f["rlock_a"], f["tid_a"])
		})
	}
}

// TestHangGIL: the main thread keeps the GIL in libc's sleep called through
// ctypes.PyDLL while two workers wait for it.
func TestHangGIL(t *testing.T) {
	for _, v := range []string{"3.12.1", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.13.0"} {
		t.Run(v, func(t *testing.T) { testHangGIL(t, v) })
	}
}

func testHangGIL(t *testing.T, version string) {
	spec := testcore.PythonSpec("hang_gil.py", version)
	spec.KillWith, spec.KillAfter = syscall.SIGABRT, 2500*time.Millisecond
	tc := testcore.Make(t, spec)
	f := stdoutFacts(t, tc, "tid_holder", "tid_worker1", "tid_worker2")
	r := hangReport(t, tc, symbolize.Options{})
	d := r.Diagnosis
	if d.Kind != "gil_held" {
		t.Fatalf("kind %s (%s), want gil_held", d.Kind, d.Summary)
	}
	if got := d.Evidence["gil_holder"]; got != fmt.Sprint(f["tid_holder"]) {
		t.Errorf("gil holder %s, want %d", got, f["tid_holder"])
	}
	for _, s := range []string{"clock_nanosleep", "sleep (libc.so.6)", fmt.Sprintf("<module> (%s:%d)", tc.Source, tc.Line(t, "holder_sleeps"))} {
		if !strings.Contains(d.Summary, s) {
			t.Errorf("summary %q lacks %q", d.Summary, s)
		}
	}
	checkWait(t, r, f["tid_worker1"], "gil", 0, f["tid_holder"])
	checkWait(t, r, f["tid_worker2"], "gil", 0, f["tid_holder"])
	if got := d.Evidence["gil_drop_request"]; !strings.HasPrefix(got, "set") {
		t.Errorf("gil_drop_request %q: the waiters have asked for the GIL for over a second", got)
	}
}

// TestHangCxx: std::mutex ABBA, and a reader of a std::shared_mutex the first thread
// holds exclusively.
func TestHangCxx(t *testing.T) {
	for _, flags := range [][]string{{"-O0", "-g"}, {"-O2", "-g"}} {
		t.Run(flags[0], func(t *testing.T) {
			name := "hang-cxx-x86_64" + strings.ReplaceAll(flags[0], "-O", "-o")
			tc := testcore.Make(t, testcore.Spec{Name: name, Source: "hang_cxx.cc", CFlags: flags, KillWith: syscall.SIGABRT})
			f := stdoutFacts(t, tc, "ma", "mb", "sm", "tid_a", "tid_b", "tid_r")
			r := hangReport(t, tc, symbolize.Options{})
			d := r.Diagnosis
			if d.Kind != "deadlock" {
				t.Fatalf("kind %s (%s), want deadlock", d.Kind, d.Summary)
			}
			want := abbaCycle(f["tid_a"], f["tid_b"], f["ma"], f["mb"], "mutex")
			if got, w := cycleText(d.Cycle), cycleText(want); got != w {
				t.Errorf("cycle %s, want %s", got, w)
			}
			for _, s := range []string{
				fmt.Sprintf("thread_a at hang_cxx.cc:%d", tc.Line(t, "a_waits")),
				fmt.Sprintf("thread_b at hang_cxx.cc:%d", tc.Line(t, "b_waits")),
			} {
				if !strings.Contains(d.Summary, s) {
					t.Errorf("summary %q lacks %q", d.Summary, s)
				}
			}
			checkWait(t, r, f["tid_r"], "rwlock", f["sm"], f["tid_a"])
		})
	}
}

// TestHangCondvarMutex: deref.c's worker waits in pthread_cond_wait(&cv, &mu); with libc's
// debug file the wait names the condition variable and the mutex it released.
func TestHangCondvarMutex(t *testing.T) {
	tc := testcore.Make(t, testcore.DerefPIE)
	for _, debug := range []bool{true, false} {
		opts := symbolize.Options{}
		if !debug {
			opts.Finder = noDebugFiles{}
		}
		a, _ := open(t, tc.Path, opts)
		r := a.Full(FullOptions{})
		cv, _, ok1 := a.Modules.FindSymbol("cv")
		mu, _, ok2 := a.Modules.FindSymbol("mu")
		if !ok1 || !ok2 {
			t.Fatal("deref.c's cv and mu are not in the symbol table")
		}
		var w *report.Waiting
		for _, th := range r.Threads {
			if th.Waiting != nil && th.Waiting.Kind == "condvar" {
				w = th.Waiting
			}
		}
		if w == nil {
			t.Fatal("no thread waits on a condition variable")
		}
		if debug {
			want := fmt.Sprintf("waiting on condition variable %#x (no owner), released mutex %#x", cv, mu)
			if w.Text != want || w.Address == nil || uint64(*w.Address) != cv {
				t.Errorf("with libc's debug file: %q at %v, want %q", w.Text, w.Address, want)
			}
		} else if strings.Contains(w.Text, "released mutex") || w.OwnerTID != nil {
			t.Errorf("without libc's debug file: %q names a mutex or an owner it cannot know", w.Text)
		}
	}
}

// TestHangSnapshot: the ABBA program, live, snapshotted by gdb's gcore (the process keeps
// running; the core records SIGSTOP): the same deadlock as from the kernel's core.
func TestHangSnapshot(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Fatalf("gdb makes the snapshot for this test and is not installed (apt-get install gdb): %v", err)
	}
	tc := testcore.Make(t, testcore.Spec{Name: "hang-abba-x86_64-o0", Source: "hang_abba.c", CFlags: []string{"-O0", "-g"}, KillWith: syscall.SIGABRT})
	cmd := exec.Command(tc.Exe)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	var stdout strings.Builder
	br := bufio.NewReader(out)
	for {
		line, err := br.ReadString('\n')
		stdout.WriteString(line)
		if strings.HasPrefix(line, "ready") {
			break
		}
		if err != nil {
			t.Fatalf("no ready line: %v\n%s", err, stdout.String())
		}
	}
	snap := filepath.Join(t.TempDir(), "snapshot.core")
	if b, err := exec.Command("gdb", "-nx", "-batch", "-p", fmt.Sprint(cmd.Process.Pid), "-ex", "gcore "+snap).CombinedOutput(); err != nil {
		t.Fatalf("gdb gcore: %v\n%s", err, b)
	}
	f := stdoutFacts(t, &testcore.Core{Spec: tc.Spec, Stdout: stdout.String()}, "mutex_a", "mutex_b", "tid_a", "tid_b")
	a, _ := open(t, snap, symbolize.Options{ExePath: tc.Exe})
	r := a.Full(FullOptions{})
	d := r.Diagnosis
	if d == nil || d.Kind != "deadlock" {
		t.Fatalf("diagnosis %+v, want deadlock", d)
	}
	want := abbaCycle(f["tid_a"], f["tid_b"], f["mutex_a"], f["mutex_b"], "mutex")
	if got, w := cycleText(d.Cycle), cycleText(want); got != w {
		t.Errorf("cycle %s, want %s", got, w)
	}
	if strings.Contains(d.Summary, "killed by") {
		t.Errorf("summary %q: a snapshot was not killed", d.Summary)
	}
}

// TestHangABBAKinds: the ABBA deadlock on priority-inheriting, robust, recursive and
// errorcheck mutexes; the owner comes from the futex word for the first two.
func TestHangABBAKinds(t *testing.T) {
	for kind, name := range map[string]string{"pi": "priority-inheriting normal", "robust": "robust normal", "recursive": "recursive", "errorcheck": "errorcheck"} {
		t.Run(kind, func(t *testing.T) {
			tc := testcore.Make(t, testcore.Spec{Name: "hang-abba-x86_64-" + kind, Source: "hang_abba.c", Args: []string{kind}, KillWith: syscall.SIGABRT})
			f := stdoutFacts(t, tc, "mutex_a", "mutex_b", "tid_a", "tid_b")
			r := hangReport(t, tc, symbolize.Options{})
			if d := r.Diagnosis; d.Kind != "deadlock" || len(d.Cycle) != 2 {
				t.Fatalf("diagnosis %s (%s), want a deadlock of two", d.Kind, d.Summary)
			}
			checkWait(t, r, f["tid_a"], "mutex", f["mutex_b"], f["tid_b"])
			checkWait(t, r, f["tid_b"], "mutex", f["mutex_a"], f["tid_a"])
			if w := thread(t, r, f["tid_a"]).Waiting; !strings.HasPrefix(w.Detail, name+" mutex") {
				t.Errorf("detail %q, want a %s mutex", w.Detail, name)
			}
		})
	}
}

// TestIsInterpreter: a CPython built with --enable-shared (pyenv's) maps its python
// executable first and runs its eval loop in libpython; both are the interpreter, so a
// snapshot that catches the GIL holder in libpython reads as a busy interpreter, not as
// gil_held. Extensions and the C library are not.
func TestIsInterpreter(t *testing.T) {
	a := &Analysis{Modules: &symbolize.Table{Modules: []*symbolize.Module{
		{Name: "/root/.pyenv/versions/3.12.1/bin/python3.12", IsExec: true},
		{Name: "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0"},
		{Name: "/root/.pyenv/versions/3.12.1/lib/python3.12/lib-dynload/math.cpython-312-x86_64-linux-gnu.so"},
		{Name: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		{Name: "/usr/lib/python3/dist-packages/python_helper.so"},
	}}}
	for name, want := range map[string]bool{
		"/root/.pyenv/versions/3.12.1/bin/python3.12":                                                  true,
		"/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0":                                        true,
		"/root/.pyenv/versions/3.12.1/lib/python3.12/lib-dynload/math.cpython-312-x86_64-linux-gnu.so": false,
		"/usr/lib/x86_64-linux-gnu/libc.so.6":                                                          false,
		"/usr/lib/python3/dist-packages/python_helper.so":                                              false, // named python*, but no executable
		"/usr/lib/libpython3.12.so.1.0":                                                                false, // not mapped
		"":                                                                                             false,
	} {
		if got := a.isInterpreter(name); got != want {
			t.Errorf("isInterpreter(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestExplainHangRunning: a GIL holder caught running an extension's native code reads
// as gil_held after a watchdog's kill, but a snapshot of it is a busy interpreter (four
// threads running json.dumps, analysed live 12 times, read as gil_held twice before);
// a holder blocked in a call reads as gil_held either way.
func TestExplainHangRunning(t *testing.T) {
	pid, self := 77, false
	for _, tc := range []struct {
		name            string
		signal          report.Signal
		snapshot        bool
		running, hangOK bool
	}{
		{"snapshot, running holder", report.Signal{Number: 19, Name: "SIGSTOP"}, true, true, false},
		{"snapshot, blocked holder", report.Signal{Number: 19, Name: "SIGSTOP"}, true, false, true},
		{"watchdog, running holder", report.Signal{Number: 6, Name: "SIGABRT", SenderPID: &pid, SenderIsSelf: &self}, false, true, true},
	} {
		r := &report.Report{Signal: &tc.signal, Diagnosis: &report.Diagnosis{Kind: "snapshot"}}
		explainHang(r, &hangs.Diagnosis{Kind: hangs.KindGILHeld, Summary: "The GIL is held", Running: tc.running}, tc.snapshot, nil, false)
		if got := r.Diagnosis.Kind == hangs.KindGILHeld; got != tc.hangOK {
			t.Errorf("%s: diagnosis %q, want gil_held %v", tc.name, r.Diagnosis.Kind, tc.hangOK)
		}
	}
}
