package python

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/testcore"
)

func TestMain(m *testing.M) { os.Exit(testcore.Main(m)) }

// wantFrame is one expected Python frame, innermost first.
type wantFrame struct {
	fn, qual, file string
	line           int
}

// srcLine finds the line of the last anchor in file, each anchor searched
// after the previous one (e.g. "class Condition", "def wait(", "waiter.acquire()").
func srcLine(t *testing.T, file string, anchors ...string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading %s for expected lines: %v", file, err)
	}
	lines := strings.Split(string(data), "\n")
	i := 0
	for _, a := range anchors {
		for ; i < len(lines) && !strings.Contains(lines[i], a); i++ {
		}
		if i == len(lines) {
			t.Fatalf("%s: anchor %q not found after %v", file, a, anchors)
		}
		i++
	}
	return i
}

// expectThreads6 returns the expected stacks of threads6.py keyed by the
// innermost function name, with the stdlib lines read from the
// interpreter's own library.
func expectThreads6(t *testing.T, c *testcore.Core, lib string, minor int) map[string][]wantFrame {
	script := c.Source
	threading := filepath.Join(lib, "threading.py")
	q := filepath.Join(lib, "queue.py")
	ctypes := filepath.Join(lib, "ctypes", "__init__.py")
	qual := func(s string) string {
		if minor < 11 {
			return ""
		}
		return s
	}
	chain := []wantFrame{
		{"run", qual("Thread.run"), threading, srcLine(t, threading, "class Thread", "def run(", "self._target(*self._args, **self._kwargs)")},
		{"_bootstrap_inner", qual("Thread._bootstrap_inner"), threading, srcLine(t, threading, "class Thread", "def _bootstrap_inner(", "self.run()")},
		{"_bootstrap", qual("Thread._bootstrap"), threading, srcLine(t, threading, "class Thread", "def _bootstrap(", "self._bootstrap_inner()")},
	}
	condWait := wantFrame{"wait", qual("Condition.wait"), threading, srcLine(t, threading, "class Condition", "def wait(", "if timeout is None:", "waiter.acquire()")}
	w := func(fs ...wantFrame) []wantFrame { return append(fs, chain...) }
	// The spinner waits for the GIL in the eval breaker. 3.10+ checks it
	// only at the loop's backward jump, which carries the "while True:"
	// line above the marker; 3.8/3.9 emit no code for "while True:", so
	// every instruction of the loop is on the marker line.
	spin := c.Line(t, "py_spin")
	if minor >= 10 {
		spin--
	}
	mod := srcLine(t, script, `if __name__ == "__main__":`, "main()")
	return map[string][]wantFrame{
		"sleeper": w(wantFrame{"sleeper", qual("sleeper"), script, c.Line(t, "py_sleep")}),
		"locker":  w(wantFrame{"locker", qual("locker"), script, c.Line(t, "py_lock")}),
		"spinner": w(wantFrame{"spinner", qual("spinner"), script, spin}),
		"reader":  w(wantFrame{"reader", qual("reader"), script, c.Line(t, "py_read")}),
		"eventer": w(condWait,
			wantFrame{"wait", qual("Event.wait"), threading, srcLine(t, threading, "class Event", "def wait(", "self._cond.wait(timeout)")},
			wantFrame{"eventer", qual("eventer"), script, c.Line(t, "py_event")}),
		"queuer": w(condWait,
			wantFrame{"get", qual("Queue.get"), q, srcLine(t, q, "class Queue", "def get(", "self.not_empty.wait()")},
			wantFrame{"queuer", qual("queuer"), script, c.Line(t, "py_queue")}),
		"string_at": {
			{"string_at", qual("string_at"), ctypes, srcLine(t, ctypes, "def string_at(", "return _string_at(")},
			{"crash_now", qual("crash_now"), script, c.Line(t, "py_crash")},
			{"main", qual("main"), script, c.Line(t, "py_main_calls")},
			{"<module>", qual("<module>"), script, mod},
		},
	}
}

func formatFrames(fs []Frame) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "    %s (%s) %s:%d", f.Function, f.QualName, f.File, f.Line)
		if f.Err != nil {
			fmt.Fprintf(&b, " err=%v", f.Err)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func checkThreads6(t *testing.T, c *testcore.Core, lib string, minor int, wantVersion, wantVersionSrc, wantTIDSrc string) *State {
	t.Helper()
	p, err := openTestCore(c.Path)
	if err != nil {
		t.Fatalf("opening core %s: %v", c.Path, err)
	}
	defer p.Close()
	st, err := Analyze(p)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	t.Logf("version %s from %s; layout %s; warnings %q", st.Version, st.VersionSource, st.LayoutSource, st.Warnings)
	if st.Version != wantVersion {
		t.Errorf("version %q, want %q", st.Version, wantVersion)
	}
	if !strings.HasPrefix(st.VersionSource, wantVersionSrc) {
		t.Errorf("version source %q, want prefix %q", st.VersionSource, wantVersionSrc)
	}
	if len(st.Warnings) != 0 {
		t.Errorf("warnings: %q", st.Warnings)
	}
	if st.Finalizing || st.FinalizingTID != nil {
		t.Errorf("finalizing %v (tid %v), want false", st.Finalizing, st.FinalizingTID)
	}
	if st.GCCollecting == nil || *st.GCCollecting {
		t.Errorf("gc collecting %v, want false", st.GCCollecting)
	}
	if len(st.Interpreters) != 1 {
		t.Fatalf("%d interpreters, want 1", len(st.Interpreters))
	}
	in := st.Interpreters[0]
	if in.ID != 0 || !in.Main || in.Err != nil {
		t.Errorf("interpreter id %d main %v err %v, want 0 true nil", in.ID, in.Main, in.Err)
	}
	want := expectThreads6(t, c, lib, minor)
	osTIDs := map[uint64]bool{}
	for _, th := range p.Threads() {
		osTIDs[th.TID] = true
	}
	pid := uint64(c.PID)
	seenTID := map[uint64]bool{}
	seen := map[string]bool{}
	for _, th := range in.Threads {
		if len(th.Frames) == 0 {
			t.Errorf("thread %#x (tid %d) has no frames (err %v)", th.Addr, th.TID, th.Err)
			continue
		}
		// Key: the innermost frame in the script (the thread's function).
		key := th.Frames[0].Function
		for _, f := range th.Frames {
			if f.File == c.Source {
				key = f.Function
				break
			}
		}
		if key == "crash_now" {
			key = "string_at"
		}
		exp, ok := want[key]
		if !ok || seen[key] {
			t.Errorf("unexpected thread with innermost %q:\n%s", key, formatFrames(th.Frames))
			continue
		}
		seen[key] = true
		var got []wantFrame
		for _, f := range th.Frames {
			got = append(got, wantFrame{f.Function, f.QualName, f.File, f.Line})
			if f.Err != nil {
				t.Errorf("thread %s frame %s: %v", key, f.Function, f.Err)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Errorf("thread %s frames:\n got %v\nwant %v", key, got, exp)
		}
		if th.Err != nil {
			t.Errorf("thread %s: %v", key, th.Err)
		}
		if th.TIDSource != wantTIDSrc || !osTIDs[th.TID] || seenTID[th.TID] {
			t.Errorf("thread %s: tid %d from %q: want a distinct OS thread from %q", key, th.TID, th.TIDSource, wantTIDSrc)
		}
		seenTID[th.TID] = true
		isMain := key == "string_at"
		if isMain && th.TID != pid {
			t.Errorf("main thread tid %d, want the pid %d", th.TID, pid)
		}
		if th.IsGILHolder != isMain {
			t.Errorf("thread %s: IsGILHolder %v, want %v", key, th.IsGILHolder, isMain)
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("no thread with innermost frame %q", k)
		}
	}
	if st.GILHolderTID == nil || *st.GILHolderTID != pid {
		t.Errorf("GIL holder tid %v, want %d", st.GILHolderTID, pid)
	}
	return st
}

func TestThreads6Pyenv(t *testing.T) {
	for _, v := range []string{"3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			c := testcore.Make(t, testcore.PythonSpec("threads6.py", v))
			var minor int
			fmt.Sscanf(v, "3.%d", &minor)
			short := fmt.Sprintf("3.%d", minor)
			lib := filepath.Join("/root/.pyenv/versions", v, "lib", "python"+short)
			vsrc, tsrc := "Py_Version symbol", "native_thread_id"
			if minor < 11 {
				vsrc, tsrc = "version string \""+v+"\"", "pthread_t == fs_base"
			}
			st := checkThreads6(t, c, lib, minor, v, vsrc, tsrc)
			wantLayout := "DWARF of /root/.pyenv/versions/" + v
			if minor >= 13 {
				wantLayout = "_Py_DebugOffsets in memory"
			}
			if !strings.HasPrefix(st.LayoutSource, wantLayout) {
				t.Errorf("layout source %q, want prefix %q", st.LayoutSource, wantLayout)
			}
		})
	}
}

// TestThreads6DebianStripped runs threads6.py under Debian's stripped
// /usr/bin/python3.11 (only .dynsym): the generated 3.11 table must do.
func TestThreads6DebianStripped(t *testing.T) {
	const exe = "/usr/bin/python3.11"
	spec := testcore.Spec{Name: "threads6-debian-python3.11", Source: "threads6.py", Python: exe}
	c := testcore.Make(t, spec)
	st := checkThreads6(t, c, "/usr/lib/python3.11", 11, debianPython311Version(t), "Py_Version symbol", "native_thread_id")
	if !strings.HasPrefix(st.LayoutSource, "DWARF of /root/.pyenv/versions/3.11") {
		t.Errorf("layout source %q, want the generated 3.11 table", st.LayoutSource)
	}
}

// debianPython311Version asks the interpreter for its version (the test's
// expected value; the walker reads it from Py_Version in the core).
func debianPython311Version(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3.11", "-c", "import platform; print(platform.python_version())").Output()
	if err != nil {
		t.Fatalf("running /usr/bin/python3.11: %v", err)
	}
	return strings.TrimSpace(string(out))
}
