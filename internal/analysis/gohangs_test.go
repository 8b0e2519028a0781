package analysis

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// goHangSpec is hang_go.go, killed by a watchdog's SIGABRT; GOTRACEBACK=crash makes
// the Go runtime dump core when it gets it.
var goHangSpec = testcore.Spec{Name: "hang-go-x86_64", Source: "hang_go.go", Env: []string{"GOTRACEBACK=crash"}, KillWith: syscall.SIGABRT}

// goHangFacts are the lines hang_go.go prints before "ready".
var goHangFacts = []string{"mu_a", "mu_b", "chan_r", "chan_s", "goid_a", "goid_b", "goid_r", "goid_s", "goid_main"}

func goroutine(t *testing.T, r *report.Report, id uint64) *report.Goroutine {
	t.Helper()
	if r.Go == nil {
		t.Fatal("no goroutines in the report")
	}
	for i := range r.Go.Goroutines {
		if r.Go.Goroutines[i].ID == id {
			return &r.Go.Goroutines[i]
		}
	}
	t.Fatalf("no goroutine %d in the report", id)
	return nil
}

// goABBACycle is the cycle hang_go.go sets up, lowest goroutine id first.
func goABBACycle(f map[string]uint64) []report.CycleEdge {
	ga, gb := f["goid_a"], f["goid_b"]
	a := report.CycleEdge{Goroutine: &ga, WaitsForGoroutine: &gb, Lock: report.HexPtr(f["mu_b"]), Kind: "mutex"}
	b := report.CycleEdge{Goroutine: &gb, WaitsForGoroutine: &ga, Lock: report.HexPtr(f["mu_a"]), Kind: "mutex"}
	if gb < ga {
		return []report.CycleEdge{b, a}
	}
	return []report.CycleEdge{a, b}
}

// checkGoHang checks a report of hang_go.go against the facts it printed: the deadlock
// of goroutines A and B on the two sync.Mutexes, with each holder inferred, and the
// channels the other two wait on.
func checkGoHang(t *testing.T, r *report.Report, f map[string]uint64, aLine, bLine int) {
	t.Helper()
	d := r.Diagnosis
	if d == nil || d.Kind != "deadlock" {
		t.Fatalf("diagnosis %+v, want deadlock", d)
	}
	if got, want := cycleText(d.Cycle), cycleText(goABBACycle(f)); got != want {
		t.Errorf("cycle %s, want %s", got, want)
	}
	for _, s := range []string{
		fmt.Sprintf("goroutine %d (main.lockBoth at hang_go.go:%d) waits for sync.Mutex %#x held by goroutine %d", f["goid_a"], aLine, f["mu_b"], f["goid_b"]),
		fmt.Sprintf("goroutine %d (main.lockBoth at hang_go.go:%d) waits for sync.Mutex %#x held by goroutine %d", f["goid_b"], bLine, f["mu_a"], f["goid_a"]),
	} {
		if !strings.Contains(d.Summary, s) {
			t.Errorf("summary %q lacks %q", d.Summary, s)
		}
	}
	for _, c := range []struct {
		g, addr, owner uint64
		kind, detail   string
	}{
		{f["goid_a"], f["mu_b"], f["goid_b"], "mutex", fmt.Sprintf("sync.Mutex at %#x, state 0x9 (locked, waiters 1)", f["mu_b"])},
		{f["goid_b"], f["mu_a"], f["goid_a"], "mutex", fmt.Sprintf("sync.Mutex at %#x, state 0x9 (locked, waiters 1)", f["mu_a"])},
		{f["goid_r"], f["chan_r"], 0, "channel", fmt.Sprintf("chan receive on channel %#x (unbuffered)", f["chan_r"])},
		{f["goid_s"], f["chan_s"], 0, "channel", fmt.Sprintf("chan send on channel %#x (unbuffered)", f["chan_s"])},
	} {
		w := goroutine(t, r, c.g).Waiting
		if w == nil {
			t.Errorf("goroutine %d: no waiting", c.g)
			continue
		}
		if w.Kind != c.kind || w.Address == nil || uint64(*w.Address) != c.addr || !strings.HasPrefix(w.Detail, c.detail) {
			t.Errorf("goroutine %d waits %s at %v (%s), want %s at %#x (%s…)", c.g, w.Kind, w.Address, w.Detail, c.kind, c.addr, c.detail)
		}
		switch {
		case c.owner == 0 && w.OwnerGoroutine != nil:
			t.Errorf("goroutine %d: owner %d, want none (a channel has no owner)", c.g, *w.OwnerGoroutine)
		case c.owner != 0 && (w.OwnerGoroutine == nil || *w.OwnerGoroutine != c.owner):
			t.Errorf("goroutine %d: owner %v, want goroutine %d", c.g, w.OwnerGoroutine, c.owner)
		}
	}
	if w := goroutine(t, r, f["goid_main"]).Waiting; w != nil {
		t.Errorf("main goroutine (sleeping) waits %+v, want nothing", w)
	}
}

// TestHangGo: goroutines deadlocked ABBA on two sync.Mutexes (each unlocked by a
// deferred call), and two blocked on channels; the core the Go runtime dumps when a
// watchdog sends SIGABRT.
func TestHangGo(t *testing.T) {
	tc := testcore.Make(t, goHangSpec)
	f := stdoutFacts(t, tc, goHangFacts...)
	r := hangReport(t, tc, symbolize.Options{})
	checkGoHang(t, r, f, tc.Line(t, "a_waits"), tc.Line(t, "b_waits"))
	d := r.Diagnosis
	for _, s := range []string{
		fmt.Sprintf("killed by SIGABRT from pid %d", os.Getpid()),
		"The Go runtime caught the signal and re-raised it",
	} {
		if !strings.Contains(d.Summary, s) {
			t.Errorf("summary %q lacks %q", d.Summary, s)
		}
	}
	bt := btText(t, r)
	for _, s := range []string{
		fmt.Sprintf("goroutine %d [waiting: sync.Mutex.Lock]: waiting for sync.Mutex %#x held by goroutine %d", f["goid_a"], f["mu_b"], f["goid_b"]),
		fmt.Sprintf("goroutine %d [waiting: sync.Mutex.Lock]: waiting for sync.Mutex %#x held by goroutine %d", f["goid_b"], f["mu_a"], f["goid_a"]),
		fmt.Sprintf("goroutine %d [waiting: chan receive]: waiting on channel %#x (a channel has no owner)", f["goid_r"], f["chan_r"]),
	} {
		if !strings.Contains(bt, s) {
			t.Errorf("bt lacks %q:\n%s", s, bt)
		}
	}
}

// TestHangGoCheckdead: hang_go.go's main blocks in select {} once the others are
// parked, and the Go runtime's checkdead ends the process itself (fatal error: all
// goroutines are asleep), dumping core with GOTRACEBACK=crash. coredig explains the same
// deadlock: with deferred Unlocks, the cycle; with explicit ones, no holder can be
// inferred, and the runtime's own rule makes it a deadlock of all five goroutines.
func TestHangGoCheckdead(t *testing.T) {
	for _, nodefer := range []bool{false, true} {
		spec := testcore.Spec{Name: "hang-go-select-x86_64", Source: "hang_go.go", Args: []string{"select"}, Env: []string{"GOTRACEBACK=crash"}}
		aLine, bLine := "a_waits", "b_waits"
		if nodefer {
			spec.Name, spec.Args = "hang-go-select-nodefer-x86_64", []string{"select", "nodefer"}
			aLine, bLine = "a_waits_nodefer", "b_waits_nodefer"
		}
		t.Run(spec.Name, func(t *testing.T) {
			tc := testcore.Make(t, spec)
			if !strings.Contains(tc.Stderr, "fatal error: all goroutines are asleep - deadlock!") {
				t.Fatalf("the runtime did not find the deadlock itself; stderr:\n%s", tc.Stderr)
			}
			f := stdoutFacts(t, tc, goHangFacts...)
			r := hangReport(t, tc, symbolize.Options{})
			d := r.Diagnosis
			if d.Kind != "deadlock" || !strings.Contains(d.Summary, "The Go runtime found it too") || d.Evidence["go_runtime"] == "" {
				t.Fatalf("diagnosis %s (%s), want a deadlock the runtime found too", d.Kind, d.Summary)
			}
			if !nodefer {
				checkGoHang(t, r, f, tc.Line(t, aLine), tc.Line(t, bLine))
				return
			}
			if len(d.Cycle) != 0 || !strings.Contains(d.Summary, "all 5 goroutines of the program are blocked") {
				t.Errorf("summary %q, cycle %s: want all 5 goroutines asleep and no cycle", d.Summary, cycleText(d.Cycle))
			}
			for _, c := range []struct{ g, addr uint64 }{{f["goid_a"], f["mu_b"]}, {f["goid_b"], f["mu_a"]}} {
				w := goroutine(t, r, c.g).Waiting
				if w == nil || w.Kind != "mutex" || w.Address == nil || uint64(*w.Address) != c.addr || w.OwnerGoroutine != nil ||
					w.Text != fmt.Sprintf("waiting for sync.Mutex %#x (a sync.Mutex records no owner; holder not inferred)", c.addr) {
					t.Errorf("goroutine %d waits %+v, want sync.Mutex %#x with no holder", c.g, w, c.addr)
				}
			}
			if w := goroutine(t, r, f["goid_main"]).Waiting; w != nil {
				t.Errorf("main (select {}) waits %+v, want nothing recorded", w)
			}
		})
	}
}

// TestGoKilledNoHang: hang_go.go with explicit Unlocks (no holder can be inferred) and
// main asleep (a timer is pending, so the runtime's own rule sees no deadlock either),
// killed by a watchdog's SIGABRT. The runtime caught the signal and re-raised it; the
// report says who sent it rather than blaming a fatal panic the program never had.
func TestGoKilledNoHang(t *testing.T) {
	spec := testcore.Spec{Name: "hang-go-nodefer-x86_64", Source: "hang_go.go", Args: []string{"nodefer"},
		Env: []string{"GOTRACEBACK=crash"}, KillWith: syscall.SIGABRT}
	tc := testcore.Make(t, spec)
	stdoutFacts(t, tc, goHangFacts...)
	r := hangReport(t, tc, symbolize.Options{})
	d := r.Diagnosis
	want := fmt.Sprintf("Killed by SIGABRT sent by another process: pid %d; the Go runtime caught it and re-raised it to dump core (GOTRACEBACK=crash), printing every goroutine's stack on stderr; the program did not fault.", os.Getpid())
	if d.Kind != "killed_by_signal" || d.Summary != want {
		t.Errorf("diagnosis %s %q, want killed_by_signal %q", d.Kind, d.Summary, want)
	}
	if got := r.Signature.Text; got != "killed_by_signal: SIGABRT in hang_go" {
		t.Errorf("signature %q, want the signal and the program", got)
	}
}
