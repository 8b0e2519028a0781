package analysis

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

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

// TestHangThreeWays: the C ABBA at -O0, the Python RLock ABBA on the oldest and newest
// CPython, and the Go sync.Mutex ABBA, each explained from the live process, a coredig
// snapshot and the kernel's core after SIGABRT: the same deadlock, the same cycle, the
// one the program printed.
func TestHangThreeWays(t *testing.T) {
	type hang struct {
		name  string
		spec  testcore.Spec
		facts []string
		// want is the cycle the facts say; waits checks the waits of one report.
		want  func(f map[string]uint64) []report.CycleEdge
		waits func(t *testing.T, tc *testcore.Core, r *report.Report, f map[string]uint64)
	}
	py := func(v string) hang {
		spec := testcore.PythonSpec("hang_rlock.py", v)
		spec.Name += "-3ways"
		spec.KillWith = syscall.SIGABRT
		return hang{
			name: "python" + v, spec: spec, facts: []string{"rlock_a", "rlock_b", "tid_a", "tid_b"},
			want: func(f map[string]uint64) []report.CycleEdge {
				return abbaCycle(f["tid_a"], f["tid_b"], f["rlock_a"], f["rlock_b"], "python_lock")
			},
			waits: func(t *testing.T, _ *testcore.Core, r *report.Report, f map[string]uint64) {
				checkWait(t, r, f["tid_a"], "python_lock", f["rlock_b"], f["tid_b"])
				checkWait(t, r, f["tid_b"], "python_lock", f["rlock_a"], f["tid_a"])
			},
		}
	}
	goSpec := goHangSpec
	goSpec.Name += "-3ways"
	hangs := []hang{
		{
			name: "c-O0", spec: testcore.Spec{Name: "hang-abba-x86_64-o0-3ways", Source: "hang_abba.c", CFlags: []string{"-O0", "-g"}, KillWith: syscall.SIGABRT},
			facts: []string{"mutex_a", "mutex_b", "tid_a", "tid_b"},
			want: func(f map[string]uint64) []report.CycleEdge {
				return abbaCycle(f["tid_a"], f["tid_b"], f["mutex_a"], f["mutex_b"], "mutex")
			},
			waits: func(t *testing.T, _ *testcore.Core, r *report.Report, f map[string]uint64) {
				checkWait(t, r, f["tid_a"], "mutex", f["mutex_b"], f["tid_b"])
				checkWait(t, r, f["tid_b"], "mutex", f["mutex_a"], f["tid_a"])
			},
		},
		py("3.8.18"),
		py("3.13.0"),
		{
			name: "go", spec: goSpec, facts: goHangFacts, want: goABBACycle,
			waits: func(t *testing.T, tc *testcore.Core, r *report.Report, f map[string]uint64) {
				checkGoHang(t, r, f, tc.Line(t, "a_waits"), tc.Line(t, "b_waits"))
			},
		},
	}
	for _, h := range hangs {
		t.Run(h.name, func(t *testing.T) {
			tc, live, snap, kernel := threeWays(t, h.spec)
			f := stdoutFacts(t, tc, h.facts...)
			want := cycleText(h.want(f))
			for _, w := range []struct {
				way string
				r   *report.Report
			}{{"live", live}, {"snapshot", snap}, {"kernel core", kernel}} {
				t.Run(strings.ReplaceAll(w.way, " ", "-"), func(t *testing.T) {
					if w.r == nil {
						t.Fatal("no report")
					}
					d := w.r.Diagnosis
					if d == nil || d.Kind != "deadlock" {
						t.Fatalf("diagnosis %+v, want deadlock", d)
					}
					if got := cycleText(d.Cycle); got != want {
						t.Errorf("cycle %s, want %s", got, want)
					}
					if killed := strings.Contains(d.Summary, "killed by SIGABRT"); killed != (w.way == "kernel core") {
						t.Errorf("summary %q: says killed %v, want %v", d.Summary, killed, !killed)
					}
					h.waits(t, tc, w.r, f)
				})
			}
		})
	}
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
