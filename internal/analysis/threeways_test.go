package analysis

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/capture"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// threeWays runs spec's hung program once and explains its hang three ways: the live
// process, analysed in place as `coredig PID` does (capture.Attach, every thread stopped
// for the time of the analysis); a snapshot, as `coredig gcore PID` writes it; and the
// kernel's core after the watchdog's signal (spec.KillWith). Make starts and reaps the
// program (Pdeathsig, and a kill on every error path); the live analysis and the
// snapshot happen in its BeforeKill, between the ready line and the kill.
func threeWays(t *testing.T, spec testcore.Spec) (tc *testcore.Core, live, snap, kernel *report.Report) {
	t.Helper()
	snapPath := filepath.Join(t.TempDir(), "snapshot.core")
	// BeforeKill runs once per spec name and process: a run of its own each call (go
	// test -count=2 calls again).
	spec.Name += fmt.Sprintf("-%d", threeWaysRuns.Add(1))
	spec.BeforeKill = func(pid int, _ string) error {
		s, err := capture.Attach(pid)
		if err != nil {
			return fmt.Errorf("attaching to %d: %w", pid, err)
		}
		c, err := core.NewCore(s.Image, s.Image.Size(), fmt.Sprintf("process %d", pid))
		if err == nil {
			a := New(c, symbolize.Options{})
			live = a.Full(FullOptions{})
			a.Close()
		}
		if derr := s.Detach(); err == nil {
			err = derr
		}
		if err != nil {
			return fmt.Errorf("live analysis of %d: %w", pid, err)
		}
		s, err = capture.Attach(pid)
		if err != nil {
			return fmt.Errorf("attaching to %d for the snapshot: %w", pid, err)
		}
		err = s.WriteFile(snapPath)
		if derr := s.Detach(); err == nil {
			err = derr
		}
		return err
	}
	tc = testcore.Make(t, spec)
	a, _ := open(t, snapPath, symbolize.Options{})
	snap = a.Full(FullOptions{})
	kernel = hangReport(t, tc, symbolize.Options{})
	return tc, live, snap, kernel
}

// threeWaysRuns numbers the runs of threeWays.
var threeWaysRuns atomic.Int64

// abbaCycle is the cycle of two threads that each hold one lock and wait for the other's,
// lowest tid first.
func abbaCycle(tidA, tidB, lockA, lockB uint64, kind string) []report.CycleEdge {
	a := report.CycleEdge{TID: int(tidA), WaitsForTID: int(tidB), Lock: report.HexPtr(lockB), Kind: kind}
	b := report.CycleEdge{TID: int(tidB), WaitsForTID: int(tidA), Lock: report.HexPtr(lockA), Kind: kind}
	if tidB < tidA {
		return []report.CycleEdge{b, a}
	}
	return []report.CycleEdge{a, b}
}

// TestHangThreeWays: every hung program of the hang tests, explained from the live
// process, a coredig snapshot and the kernel's core after the watchdog's signal: the
// same diagnosis, the same cycle (the one the program printed) or root, and the same wait
// on every thread. Only the kernel's core says the process was killed.
func TestHangThreeWays(t *testing.T) {
	type hang struct {
		name  string
		spec  testcore.Spec
		facts []string
		kind  string
		// want is the cycle the facts say (a deadlock); waits checks the waits of one
		// report against the facts.
		want  func(f map[string]uint64) []report.CycleEdge
		waits func(t *testing.T, tc *testcore.Core, r *report.Report, f map[string]uint64)
	}
	three := func(s testcore.Spec) testcore.Spec { s.Name += "-3ways"; return s }
	cABBA := func(name string, flags []string) hang {
		return hang{
			name: name, spec: three(testcore.Spec{Name: "hang-abba-x86_64-" + name, Source: "hang_abba.c", CFlags: flags, KillWith: syscall.SIGABRT}),
			facts: []string{"mutex_a", "mutex_b", "tid_a", "tid_b"}, kind: "deadlock",
			want: func(f map[string]uint64) []report.CycleEdge {
				return abbaCycle(f["tid_a"], f["tid_b"], f["mutex_a"], f["mutex_b"], "mutex")
			},
			waits: func(t *testing.T, _ *testcore.Core, r *report.Report, f map[string]uint64) {
				checkWait(t, r, f["tid_a"], "mutex", f["mutex_b"], f["tid_b"])
				checkWait(t, r, f["tid_b"], "mutex", f["mutex_a"], f["tid_a"])
			},
		}
	}
	py := func(script, prefix, v string) hang {
		spec := testcore.PythonSpec(script, v)
		spec.KillWith = syscall.SIGABRT
		return hang{
			name: strings.TrimSuffix(script, ".py") + v, spec: three(spec), facts: []string{prefix + "a", prefix + "b", "tid_a", "tid_b"}, kind: "deadlock",
			want: func(f map[string]uint64) []report.CycleEdge {
				return abbaCycle(f["tid_a"], f["tid_b"], f[prefix+"a"], f[prefix+"b"], "python_lock")
			},
			waits: func(t *testing.T, _ *testcore.Core, r *report.Report, f map[string]uint64) {
				checkWait(t, r, f["tid_a"], "python_lock", f[prefix+"b"], f["tid_b"])
				checkWait(t, r, f["tid_b"], "python_lock", f[prefix+"a"], f["tid_a"])
			},
		}
	}
	gil := testcore.PythonSpec("hang_gil.py", "3.12.1")
	gil.KillWith, gil.KillAfter = syscall.SIGABRT, 2500*time.Millisecond
	hangs := []hang{
		cABBA("o0", []string{"-O0", "-g"}),
		cABBA("o2", []string{"-O2", "-g"}),
		py("hang_rlock.py", "rlock_", "3.8.18"),
		py("hang_rlock.py", "rlock_", "3.13.0"),
		py("hang_lock.py", "lock_", "3.12.1"),
		{
			name: "cxx", spec: three(testcore.Spec{Name: "hang-cxx-x86_64-o0", Source: "hang_cxx.cc", KillWith: syscall.SIGABRT}),
			facts: []string{"ma", "mb", "sm", "tid_a", "tid_b", "tid_r"}, kind: "deadlock",
			want: func(f map[string]uint64) []report.CycleEdge {
				return abbaCycle(f["tid_a"], f["tid_b"], f["ma"], f["mb"], "mutex")
			},
			waits: func(t *testing.T, _ *testcore.Core, r *report.Report, f map[string]uint64) {
				checkWait(t, r, f["tid_r"], "rwlock", f["sm"], f["tid_a"])
			},
		},
		{
			name: "fork-robust", spec: three(testcore.Spec{Name: "hang-fork-x86_64-robust", Source: "hang_fork.c", Args: []string{"robust"}, KillWith: syscall.SIGABRT, KillChild: true}),
			facts: []string{"mutex", "tid_holder", "pid_child"}, kind: "orphaned_lock",
			waits: func(t *testing.T, _ *testcore.Core, r *report.Report, f map[string]uint64) {
				checkWait(t, r, f["pid_child"], "mutex", f["mutex"], f["tid_holder"])
			},
		},
		{
			name: "owner-exited", spec: three(testcore.Spec{Name: "hang-exited-x86_64", Source: "hang_exited.c", KillWith: syscall.SIGABRT}),
			facts: []string{"mutex", "tid_main", "tid_owner"}, kind: "orphaned_lock",
			waits: func(t *testing.T, _ *testcore.Core, r *report.Report, f map[string]uint64) {
				checkWait(t, r, f["tid_main"], "mutex", f["mutex"], f["tid_owner"])
			},
		},
		{
			name: "pipe", spec: three(testcore.Spec{Name: "hang-pipe-x86_64", Source: "hang_pipe.c", KillWith: syscall.SIGABRT}),
			facts: []string{"mutex", "fd", "tid_reader", "tid_worker1", "tid_worker2"}, kind: "blocked",
			waits: func(t *testing.T, _ *testcore.Core, r *report.Report, f map[string]uint64) {
				if got := r.Diagnosis.Evidence["root_blocker"]; got != fmt.Sprint(f["tid_reader"]) {
					t.Errorf("root blocker %s, want %d", got, f["tid_reader"])
				}
				checkWait(t, r, f["tid_worker1"], "mutex", f["mutex"], f["tid_reader"])
				checkWait(t, r, f["tid_worker2"], "mutex", f["mutex"], f["tid_reader"])
			},
		},
		{
			name: "gil", spec: three(gil), facts: []string{"tid_holder", "tid_worker1", "tid_worker2"}, kind: "gil_held",
			waits: func(t *testing.T, _ *testcore.Core, r *report.Report, f map[string]uint64) {
				if got := r.Diagnosis.Evidence["gil_holder"]; got != fmt.Sprint(f["tid_holder"]) {
					t.Errorf("gil holder %s, want %d", got, f["tid_holder"])
				}
				checkWait(t, r, f["tid_worker1"], "gil", 0, f["tid_holder"])
				checkWait(t, r, f["tid_worker2"], "gil", 0, f["tid_holder"])
			},
		},
		{
			name: "go", spec: three(goHangSpec), facts: goHangFacts, kind: "deadlock", want: goABBACycle,
			waits: func(t *testing.T, tc *testcore.Core, r *report.Report, f map[string]uint64) {
				checkGoHang(t, r, f, tc.Line(t, "a_waits"), tc.Line(t, "b_waits"))
			},
		},
	}
	for _, h := range hangs {
		t.Run(h.name, func(t *testing.T) {
			tc, live, snap, kernel := threeWays(t, h.spec)
			f := stdoutFacts(t, tc, h.facts...)
			ways := []struct {
				way string
				r   *report.Report
			}{{"live", live}, {"snapshot", snap}, {"kernel core", kernel}}
			for _, w := range ways {
				t.Run(strings.ReplaceAll(w.way, " ", "-"), func(t *testing.T) {
					if w.r == nil {
						t.Fatal("no report")
					}
					d := w.r.Diagnosis
					if d == nil || d.Kind != h.kind {
						t.Fatalf("diagnosis %+v, want %s", d, h.kind)
					}
					if h.want != nil {
						if got, want := cycleText(d.Cycle), cycleText(h.want(f)); got != want {
							t.Errorf("cycle %s, want %s", got, want)
						}
					}
					if killed := strings.Contains(d.Summary, "killed by SIGABRT"); killed != (w.way == "kernel core") {
						t.Errorf("summary %q: says killed %v, want %v", d.Summary, killed, !killed)
					}
					h.waits(t, tc, w.r, f)
				})
			}
			// The three agree on what each thread of the hang, and every goroutine,
			// waits for. (Others may move between the looks: main leaves printf for
			// pthread_join after the ready line, and a Go runtime's threads handle the
			// watchdog's signal before the kernel's core.)
			if live == nil || snap == nil || kernel == nil {
				return
			}
			named := map[int]bool{}
			for _, k := range h.facts {
				if strings.HasPrefix(k, "tid_") || strings.HasPrefix(k, "pid_") {
					named[int(f[k])] = true
				}
			}
			want := waitsText(kernel, named)
			for _, w := range ways[:2] {
				if got := waitsText(w.r, named); got != want {
					t.Errorf("%s waits:\n%s\nkernel core's:\n%s", w.way, got, want)
				}
			}
		})
	}
}

// waitsText lists what the threads in tids and every goroutine of a report wait for,
// sorted: kind, address and owner, which every way of looking at one hung process must
// agree on.
func waitsText(r *report.Report, tids map[int]bool) string {
	var lines []string
	line := func(who string, w *report.Waiting) {
		if w == nil {
			return
		}
		l := who + " " + w.Kind
		if w.Address != nil {
			l += " " + w.Address.String()
		}
		if w.OwnerTID != nil {
			l += fmt.Sprintf(" owner %d", *w.OwnerTID)
		}
		if w.OwnerGoroutine != nil {
			l += fmt.Sprintf(" owner goroutine %d", *w.OwnerGoroutine)
		}
		if w.OwnerOutside {
			l += " owner outside"
		}
		lines = append(lines, l)
	}
	for _, t := range r.Threads {
		if tids[t.TID] {
			line(fmt.Sprintf("thread %d", t.TID), t.Waiting)
		}
	}
	if r.Go != nil {
		for _, g := range r.Go.Goroutines {
			line(fmt.Sprintf("goroutine %d", g.ID), g.Waiting)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestHangDescriptors: a snapshot coredig takes, and a live analysis, say what each
// descriptor a blocked thread reads or polls is: the pipe with its inode and end, the
// TCP connection with its addresses and state, the unix socket; the kernel's core of
// the same process cannot, and does not.
func TestHangDescriptors(t *testing.T) {
	tc, live, snap, kernel := threeWays(t, testcore.Spec{Name: "hang-fds-x86_64", Source: "hang_fds.c", KillWith: syscall.SIGABRT})
	f := stdoutFacts(t, tc, "tid_pipe", "tid_sock", "tid_poll", "pipe_fd", "pipe_ino", "sock_fd", "sock_ino", "sock_port", "server_port", "unix_fd", "unix_ino")
	want := map[uint64]string{
		f["tid_pipe"]: fmt.Sprintf("fd %d is pipe:[%d] (read end)", f["pipe_fd"], f["pipe_ino"]),
		f["tid_sock"]: fmt.Sprintf("fd %d is socket:[%d] TCP 127.0.0.1:%d -> 127.0.0.1:%d (ESTABLISHED)", f["sock_fd"], f["sock_ino"], f["sock_port"], f["server_port"]),
		f["tid_poll"]: fmt.Sprintf("fd %d is socket:[%d] unix stream (unnamed)", f["unix_fd"], f["unix_ino"]),
	}
	for _, w := range []struct {
		way string
		r   *report.Report
	}{{"live", live}, {"snapshot", snap}, {"kernel core", kernel}} {
		for tid, s := range want {
			wt := thread(t, w.r, tid).Waiting
			if wt == nil || wt.Kind != "syscall" {
				t.Errorf("%s: thread %d waits %+v, want a system call; frames %+v", w.way, tid, wt, thread(t, w.r, tid).Frames[:2])
				continue
			}
			has := strings.HasSuffix(wt.Detail, "; "+s)
			if w.way == "kernel core" {
				if strings.Contains(wt.Detail, " is ") {
					t.Errorf("%s: thread %d: detail %q names a descriptor the kernel's core does not record", w.way, tid, wt.Detail)
				}
			} else if !has {
				t.Errorf("%s: thread %d: detail %q, want it to end with %q", w.way, tid, wt.Detail, s)
			}
		}
	}
}
