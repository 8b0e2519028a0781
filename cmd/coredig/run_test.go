package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/testcore"
)

// runTree runs `coredig run ARGS` (the test binary as coredig) through sh with
// `ulimit -c unlimited`, so the kernel also dumps the core of the same crash; as
// nobody when asNobody is set. It returns the exit status, stdout and stderr.
func runTree(t *testing.T, exe, dir string, nobody bool, env []string, args ...string) (int, string, string) {
	t.Helper()
	line := "ulimit -c unlimited && exec " + exe + " run"
	for _, a := range args {
		line += " '" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	argv := []string{"/bin/sh", "-c", line}
	if nobody {
		argv = append([]string{"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "COREDIG_TEST_AS_MAIN=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("coredig run %v did not end in 120s; stderr:\n%s", args, errb.String())
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// worldDir is a directory any user may write, removed at the end of the test.
func worldDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "coredig-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

func buildDeref(t *testing.T, dir string) string {
	t.Helper()
	src, err := filepath.Abs("../../testdata/src/deref.c")
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "deref")
	if out, err := exec.Command("gcc", "-O0", "-g", "-pthread", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	os.Chmod(exe, 0o755)
	return exe
}

func TestRunExitStatus(t *testing.T) {
	exe := selfAsCoredig(t)
	dir := worldDir(t)
	for _, tc := range []struct {
		name  string
		args  []string
		want  int
		cores int
		msg   string
	}{
		{"success", []string{"--", "true"}, 0, 0, ""},
		{"own status", []string{"--", "sh", "-c", "exit 7"}, 7, 0, ""},
		{"killed without core", []string{"--", "sh", "-c", "kill -TERM $$"}, 128 + 15, 0, ""},
		{"not found", []string{"--", filepath.Join(dir, "no-such-program")}, 125, 0, "no such file or directory"},
		{"not executable", []string{"--", "/etc/passwd"}, 125, 0, "permission denied"},
		{"flags after CMD are CMD's", []string{"--", "sh", "-c", "exit 3", "--timeout"}, 3, 0, ""},
		{"crash", []string{"--core-dir", "crash", "--", buildDeref(t, dir)}, 139, 1, "died of signal 11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runTree(t, exe, dir, false, nil, tc.args...)
			if code != tc.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.want, errs)
			}
			if !strings.Contains(errs, tc.msg) {
				t.Errorf("stderr lacks %q:\n%s", tc.msg, errs)
			}
			cores, _ := filepath.Glob(filepath.Join(dir, "crash", "core.*"))
			if tc.cores > 0 && len(cores) != tc.cores {
				t.Errorf("%d cores %v, want %d", len(cores), cores, tc.cores)
			}
		})
	}
}

type crashView struct {
	Signal struct {
		Number, Code int
		Address      string
	}
	CrashedTID int `json:"crashed_tid"`
	Threads    []struct {
		TID     int
		Crashed bool
		Frames  []struct{ Function string }
	}
}

func (v crashView) String() string {
	var ts []string
	for _, t := range v.Threads {
		var fs []string
		for _, f := range t.Frames {
			fs = append(fs, f.Function)
		}
		ts = append(ts, fmt.Sprintf("%d crashed=%v %s", t.TID, t.Crashed, strings.Join(fs, "<")))
	}
	sort.Strings(ts)
	return fmt.Sprintf("signal %d code %d addr %s crashed %d\n%s", v.Signal.Number, v.Signal.Code, v.Signal.Address, v.CrashedTID, strings.Join(ts, "\n"))
}

func coredigView(t *testing.T, corePath, exePath string) crashView {
	t.Helper()
	code, out, errs := runCmd(corePath, exePath, "--format", "json")
	if code != exitOK {
		t.Fatalf("coredig %s: exit %d: %s", corePath, code, errs)
	}
	var v crashView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// gdbBT is gdb's "thread apply all bt" function names per LWP, sorted by LWP.
func gdbBT(t *testing.T, exe, corePath string) string {
	t.Helper()
	out, err := exec.Command("gdb", "-nx", "-batch", "-ex", "thread apply all bt", exe, corePath).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	threadRe := regexp.MustCompile(`^Thread \d+ \(.*LWP (\d+)\)`)
	frameRe := regexp.MustCompile(`^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(`)
	var threads []string
	for _, line := range strings.Split(string(out), "\n") {
		if m := threadRe.FindStringSubmatch(line); m != nil {
			threads = append(threads, m[1]+":")
		} else if m := frameRe.FindStringSubmatch(line); m != nil && len(threads) > 0 {
			threads[len(threads)-1] += " " + m[1]
		}
	}
	sort.Strings(threads)
	return strings.Join(threads, "\n")
}

// The core `coredig run` writes of a crash is read as the kernel's core of the same
// crash: the same signal, code and address, the same threads and frame functions in
// coredig's JSON (and Python stacks), in gdb and in eu-stack, as root and as nobody.
// Both cores come from one run: coredig writes its core, then the signal takes its
// course and the kernel dumps core too (ulimit -c unlimited, core_pattern "core").
func TestRunMatchesKernelCore(t *testing.T) {
	for _, tool := range []string{"gdb", "eu-stack", "gcc", "g++"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed: %v", tool, err)
		}
	}
	if b, _ := os.ReadFile("/proc/sys/kernel/core_pattern"); strings.TrimSpace(string(b)) != "core" {
		t.Fatalf("the kernel's core is compared: core_pattern must be \"core\", it is %q", strings.TrimSpace(string(b)))
	}
	exe := selfAsCoredig(t)
	src := func(name string) string {
		p, err := filepath.Abs("../../testdata/src/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	build := func(t *testing.T, dir, tool string, args ...string) {
		cmd := exec.Command(tool, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", tool, err, out)
		}
	}
	type program struct {
		name   string
		nobody bool
		signal int
		make   func(t *testing.T, dir string) (exe string, argv []string, env []string)
	}
	progs := []program{
		{"c", false, 11, func(t *testing.T, dir string) (string, []string, []string) {
			e := buildDeref(t, dir)
			return e, []string{e}, nil
		}},
		{"c-nobody", true, 11, func(t *testing.T, dir string) (string, []string, []string) {
			e := buildDeref(t, dir)
			return e, []string{e}, nil
		}},
		{"c++", false, 6, func(t *testing.T, dir string) (string, []string, []string) {
			build(t, dir, "g++", "-O2", "-g", "-o", "throw", src("throw.cc"))
			e := filepath.Join(dir, "throw")
			return e, []string{e}, nil
		}},
		{"go", false, 6, func(t *testing.T, dir string) (string, []string, []string) {
			build(t, dir, "go", "build", "-o", "gocrash", src("crash.go"))
			e := filepath.Join(dir, "gocrash")
			return e, []string{e}, []string{"GOTRACEBACK=crash"}
		}},
	}
	for _, v := range testcore.PyenvVersions {
		var major, minor int
		fmt.Sscanf(v, "%d.%d", &major, &minor)
		if major != 3 || minor < 8 {
			continue
		}
		py := testcore.PyenvPython(v)
		progs = append(progs, program{"python" + v, false, 11, func(t *testing.T, dir string) (string, []string, []string) {
			script := "import ctypes\ndef crash_now():\n    ctypes.string_at(0)\ncrash_now()\n"
			os.WriteFile(filepath.Join(dir, "crash.py"), []byte(script), 0o644)
			return py, []string{py, "crash.py"}, nil
		}})
	}
	for _, p := range progs {
		t.Run(p.name, func(t *testing.T) {
			dir := worldDir(t)
			target, argv, env := p.make(t, dir)
			code, _, errs := runTree(t, exe, dir, p.nobody, env, append([]string{"--core-dir", "cores", "--"}, argv...)...)
			if code != 128+p.signal {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, 128+p.signal, errs)
			}
			mine, _ := filepath.Glob(filepath.Join(dir, "cores", "core.*"))
			kernel := filepath.Join(dir, "core")
			if len(mine) != 1 {
				t.Fatalf("coredig wrote %v, want one core", mine)
			}
			if _, err := os.Stat(kernel); err != nil {
				t.Fatalf("the kernel wrote no core: %v", err)
			}
			if p.nobody {
				if fi, err := os.Stat(mine[0]); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 65534 {
					t.Errorf("coredig's core is not owned by nobody: %v", err)
				}
			}
			got, want := coredigView(t, mine[0], target), coredigView(t, kernel, target)
			if got.String() != want.String() {
				t.Errorf("coredig on coredig's core:\n%s\ncoredig on the kernel's core:\n%s", got, want)
			}
			if got.Signal.Number != p.signal || len(got.Threads) == 0 {
				t.Errorf("got %s", got)
			}
			if g, k := gdbBT(t, target, mine[0]), gdbBT(t, target, kernel); g != k {
				t.Errorf("gdb on coredig's core:\n%s\ngdb on the kernel's core:\n%s", g, k)
			}
			if g, k := euStack(t, target, mine[0]), euStack(t, target, kernel); g != k {
				t.Errorf("eu-stack on coredig's core:\n%s\neu-stack on the kernel's core:\n%s", g, k)
			}
			t.Logf("%s", got)
		})
	}
}

// euStack is eu-stack's function names per thread, sorted by thread.
func euStack(t *testing.T, exe, corePath string) string {
	t.Helper()
	out, _ := exec.Command("eu-stack", "--core", corePath, "--executable", exe).CombinedOutput()
	var threads []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "TID":
			threads = append(threads, f[1])
		case len(f) >= 3 && strings.HasPrefix(f[0], "#") && len(threads) > 0:
			threads[len(threads)-1] += " " + f[2]
		}
	}
	if len(threads) == 0 {
		t.Fatalf("eu-stack printed no thread:\n%s", out)
	}
	sort.Strings(threads)
	return strings.Join(threads, "\n")
}

// A crash three processes deep (sh, python, a native program) is caught, and the
// parents go on.
func TestRunThreeDeep(t *testing.T) {
	exe := selfAsCoredig(t)
	dir := worldDir(t)
	deref := buildDeref(t, dir)
	py := testcore.PyenvPython("3.12.1")
	script := fmt.Sprintf("import subprocess; r = subprocess.run(['%s']); print('python goes on', r.returncode, flush=True)", deref)
	code, out, errs := runTree(t, exe, dir, false, nil, "--core-dir", "cores", "--report", "report.txt", "--",
		"sh", "-c", py+" -c \""+script+"\"; echo sh goes on $?")
	if code != 0 {
		t.Errorf("exit %d, want 0 (sh's); stderr:\n%s", code, errs)
	}
	if !strings.Contains(out, "python goes on -11\n") || !strings.Contains(out, "sh goes on 0\n") {
		t.Errorf("stdout %q: the parents did not go on", out)
	}
	cores, _ := filepath.Glob(filepath.Join(dir, "cores", "core.*"))
	if len(cores) != 1 || !strings.HasPrefix(filepath.Base(cores[0]), "core.deref.") {
		t.Fatalf("cores %v, want one of deref", cores)
	}
	rep, err := os.ReadFile(filepath.Join(dir, "report.txt"))
	if err != nil || !strings.Contains(string(rep), "NULL pointer dereference in deref") {
		t.Errorf("--report: %v\n%s", err, rep)
	}
}

// When faulthandler catches the fault and re-raises it, the core keeps the first
// delivery in COREDIG notes and the report shows that fault directly; it is the fault
// the kernel's core of the same crash gives through the signal frame.
func TestRunFaulthandlerFirstFault(t *testing.T) {
	exe := selfAsCoredig(t)
	dir := worldDir(t)
	py := testcore.PyenvPython("3.12.1")
	script := "import ctypes\ndef crash_now():\n    ctypes.string_at(0)\ncrash_now()\n"
	if err := os.WriteFile(filepath.Join(dir, "crash.py"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runTree(t, exe, dir, false, nil, "--core-dir", "cores", "--", py, "-X", "faulthandler", "crash.py")
	if code != 139 {
		t.Fatalf("exit %d, want 139; stderr:\n%s", code, errs)
	}
	if !strings.Contains(errs, "Fatal Python error: Segmentation fault") {
		t.Errorf("faulthandler did not run:\n%s", errs)
	}
	cores, _ := filepath.Glob(filepath.Join(dir, "cores", "core.python3.12.*"))
	if len(cores) != 1 {
		t.Fatalf("cores %v", cores)
	}
	type orig struct {
		Signal    struct{ Number, Code int }
		Diagnosis struct {
			Kind     string
			Original *struct {
				Number, Code int
				Address      string
				Source       string
			} `json:"original_signal"`
		}
	}
	read := func(p string) orig {
		code, out, errs := runCmd(p, "--format", "json")
		if code != exitOK {
			t.Fatalf("coredig %s: %d %s", p, code, errs)
		}
		var o orig
		if err := json.Unmarshal([]byte(out), &o); err != nil {
			t.Fatal(err)
		}
		if o.Diagnosis.Original == nil {
			t.Fatalf("%s: no original signal: %s", p, out[:min(len(out), 2000)])
		}
		return o
	}
	mine, kernel := read(cores[0]), read(filepath.Join(dir, "core"))
	m, k := mine.Diagnosis.Original, kernel.Diagnosis.Original
	if m.Number != 11 || m.Code != 1 || m.Address != "0x0" || !strings.HasPrefix(m.Source, "COREDIG note") {
		t.Errorf("original signal from coredig's core: %+v", *m)
	}
	if m.Number != k.Number || m.Code != k.Code || m.Address != k.Address || mine.Diagnosis.Kind != kernel.Diagnosis.Kind {
		t.Errorf("coredig's core: %+v %s; the kernel's: %+v %s", *m, mine.Diagnosis.Kind, *k, kernel.Diagnosis.Kind)
	}
	if mine.Signal.Number != 11 || mine.Signal.Code != -6 {
		t.Errorf("the core's own signal is %d code %d, want the re-raise: 11, SI_TKILL", mine.Signal.Number, mine.Signal.Code)
	}
}

// SIGTERM sent to coredig reaches CMD, which dies of it; a stopped CMD stays stopped
// until SIGCONT, as without coredig.
func TestRunSignals(t *testing.T) {
	exe := selfAsCoredig(t)
	dir := worldDir(t)
	cmd := exec.Command(exe, "run", "--", "sh", "-c", `trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.05; done`)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COREDIG_TEST_AS_MAIN=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reapCmd(t, cmd)
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("read %q %v", buf, err)
	}
	// The shell is coredig's child.
	child := 0
	for i := 0; i < 200 && child == 0; i++ {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		fmt.Sscan(string(b), &child)
		if child == 0 {
			ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", cmd.Process.Pid))
			for _, e := range ents {
				b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", cmd.Process.Pid, e.Name()))
				fmt.Sscan(string(b), &child)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if child == 0 {
		t.Fatal("no child of coredig found")
	}
	syscall.Kill(child, syscall.SIGSTOP)
	waitState := func(want byte) {
		t.Helper()
		for i := 0; i < 300; i++ {
			if procState(child) == want {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("child %d in state %q, want %q", child, procState(child), want)
	}
	waitState('t') // group-stopped, shown as traced-stopped
	time.Sleep(200 * time.Millisecond)
	if s := procState(child); s != 't' {
		t.Fatalf("the stopped child is in state %q after 200ms: it did not stay stopped", s)
	}
	syscall.Kill(child, syscall.SIGCONT)
	waitState('S')
	syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
	rest, _ := io.ReadAll(out)
	err = cmd.Wait()
	if cmd.ProcessState.ExitCode() != 42 || string(rest) != "got TERM\n" {
		t.Errorf("exit %d (%v), stdout %q; want 42 and the trap's message", cmd.ProcessState.ExitCode(), err, rest)
	}
}

// --timeout snapshots every live process of the tree, reports each, stops the tree and
// exits 124; a process that ignores SIGTERM is killed after --kill-after.
func TestRunTimeout(t *testing.T) {
	exe := selfAsCoredig(t)
	dir := worldDir(t)
	start := time.Now()
	code, _, errs := runTree(t, exe, dir, false, nil, "--core-dir", "cores", "--timeout", "500ms", "--kill-after", "1s", "--",
		"sh", "-c", "trap '' TERM; sleep 30 & wait; wait")
	if code != 124 {
		t.Fatalf("exit %d, want 124; stderr:\n%s", code, errs)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v: the tree was not stopped", d)
	}
	cores, _ := filepath.Glob(filepath.Join(dir, "cores", "core.*"))
	var names []string
	for _, c := range cores {
		names = append(names, strings.Split(filepath.Base(c), ".")[1])
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "sh,sleep" {
		t.Errorf("snapshots %v, want sh and sleep", cores)
	}
	if strings.Count(errs, "was still running at the timeout") != 2 || strings.Count(errs, "Not a crash: SIGSTOP") != 2 {
		t.Errorf("stderr lacks two snapshot reports:\n%s", errs)
	}
}

// With GITHUB_STEP_SUMMARY set, the markdown report is appended there and an ::error
// annotation names the crashing line in the checkout.
func TestRunGitHubSummary(t *testing.T) {
	exe := selfAsCoredig(t)
	dir := worldDir(t)
	src, _ := filepath.Abs("../../testdata/src/deref.c")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "deref.c"), b, 0o644)
	gcc := exec.Command("gcc", "-O0", "-g", "-pthread", "-o", "deref", "deref.c")
	gcc.Dir = dir
	if out, err := gcc.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	summary := filepath.Join(dir, "summary.md")
	os.WriteFile(summary, []byte("before\n"), 0o644)
	line := markerLine(t, filepath.Join(dir, "deref.c"), "deref")
	code, out, errs := runTree(t, exe, dir, false, []string{"GITHUB_STEP_SUMMARY=" + summary}, "--", "./deref")
	if code != 139 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := fmt.Sprintf("::error file=deref.c,line=%d::", line)
	if !strings.Contains(out, want) || !strings.Contains(out, "NULL pointer dereference in deref") {
		t.Errorf("stdout %q lacks %q", out, want)
	}
	md, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(md), "before\n") || !strings.Contains(string(md), "NULL pointer dereference in deref") || !strings.Contains(string(md), "```") {
		t.Errorf("summary:\n%s", md)
	}
}

// Signals a runtime survives write nothing: Go's preemption signal (SIGURG) and a nil
// dereference the program recovers from (the runtime's SIGSEGV handler catches it).
func TestRunSurvivedSignals(t *testing.T) {
	exe := selfAsCoredig(t)
	dir := worldDir(t)
	prog := `package main

import (
	"fmt"
	"sync"
)

type T struct{ pad [12]int64; f int64 }

func read(p *T) (v int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return p.f, nil
}

func main() {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ { // busy goroutines: the scheduler preempts them with SIGURG
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := 0
			for i := 0; i < 300000000; i++ {
				s += i
			}
			_ = s
		}()
	}
	wg.Wait()
	_, err := read(nil)
	fmt.Println("recovered:", err != nil)
}
`
	os.WriteFile(filepath.Join(dir, "survive.go"), []byte(prog), 0o644)
	build := exec.Command("go", "build", "-o", "survive", "survive.go")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	code, out, errs := runTree(t, exe, dir, false, nil, "--core-dir", "cores", "--", "./survive")
	if code != 0 || out != "recovered: true\n" {
		t.Errorf("exit %d, stdout %q; stderr:\n%s", code, out, errs)
	}
	if cores, _ := filepath.Glob(filepath.Join(dir, "cores", "*")); len(cores) != 0 {
		t.Errorf("cores written for a process that survived: %v", cores)
	}
	if strings.Contains(errs, "coredig:") {
		t.Errorf("coredig said something:\n%s", errs)
	}
}

// The incident's shape under pytest: pytest enables faulthandler, which catches the
// SIGSEGV, prints the Python traceback and re-raises. Under `coredig run` the report shows
// the original fault from the first delivery and the test function that led to it.
// Debian's python3 with python3-pytest (scripts/deps.sh) runs it.
func TestRunPytestIncident(t *testing.T) {
	if out, err := exec.Command("/usr/bin/python3", "-m", "pytest", "--version").CombinedOutput(); err != nil {
		t.Fatalf("Debian's python3 has no pytest (apt-get install python3-pytest, scripts/deps.sh does): %v\n%s", err, out)
	}
	exe := selfAsCoredig(t)
	dir := worldDir(t)
	test := "import ctypes\n\ndef read_field(addr):\n    return ctypes.string_at(addr, 8)\n\ndef test_reads_null_field():\n    assert read_field(0x60) == b\"\"\n"
	if err := os.WriteFile(filepath.Join(dir, "test_crash.py"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runTree(t, exe, dir, false, nil, "--core-dir", "cores", "--format", "json", "--",
		"/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_crash.py")
	if code != 139 {
		t.Fatalf("exit %d, want 139; stderr:\n%s", code, errs)
	}
	if !strings.Contains(errs, "Fatal Python error: Segmentation fault") {
		t.Errorf("pytest's faulthandler did not run:\n%s", errs)
	}
	cores, _ := filepath.Glob(filepath.Join(dir, "cores", "core.python3.*"))
	if len(cores) != 1 {
		t.Fatalf("cores %v", cores)
	}
	code, out, errs := runCmd(cores[0], "--format", "json")
	if code != exitOK {
		t.Fatalf("coredig %s: %d %s", cores[0], code, errs)
	}
	var r struct {
		Signal    struct{ Number, Code int }
		Diagnosis struct {
			Original *struct {
				Number, Code int
				Address      string
				Source       string
			} `json:"original_signal"`
			Evidence map[string]string
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	o := r.Diagnosis.Original
	if o == nil || o.Number != 11 || o.Code != 1 || o.Address != "0x60" || !strings.HasPrefix(o.Source, "COREDIG note") {
		t.Fatalf("original signal %+v, want SIGSEGV SEGV_MAPERR at 0x60 from the COREDIG note", o)
	}
	if r.Signal.Number != 11 || r.Signal.Code != -6 {
		t.Errorf("the core's signal is %d code %d, want faulthandler's re-raise: 11, SI_TKILL", r.Signal.Number, r.Signal.Code)
	}
	testFile := filepath.Join(dir, "test_crash.py")
	for _, want := range []string{"read_field (" + testFile + ":4)", "test_reads_null_field (" + testFile + ":7)"} {
		if !strings.Contains(r.Diagnosis.Evidence["python_stack"], want) {
			t.Errorf("python_stack %q lacks %q", r.Diagnosis.Evidence["python_stack"], want)
		}
	}
}

// A fault a handler caught before the process exec'd another program is not that
// program's: the core of the new program's crash carries no COREDIG first-fault notes
// (the tracer sees no exec; it tells programs apart by their AT_RANDOM bytes).
func TestRunCaughtFaultBeforeExec(t *testing.T) {
	exe := selfAsCoredig(t)
	dir := worldDir(t)
	deref := buildDeref(t, dir)
	py := testcore.PyenvPython("3.12.1")
	script := fmt.Sprintf("import os, signal\n"+
		"signal.signal(signal.SIGSEGV, lambda s, f: print('caught', s, flush=True))\n"+
		"signal.raise_signal(signal.SIGSEGV)\n"+
		"os.execv(%q, [%q])\n", deref, deref)
	code, out, errs := runTree(t, exe, dir, false, nil, "--core-dir", "cores", "--", py, "-c", script)
	if code != 139 || !strings.HasPrefix(out, "caught 11\n") {
		t.Fatalf("exit %d, stdout %q, want 139 and the caught SIGSEGV; stderr:\n%s", code, out, errs)
	}
	cores, _ := filepath.Glob(filepath.Join(dir, "cores", "core.deref.*"))
	if len(cores) != 1 {
		t.Fatalf("cores %v, want one of deref", cores)
	}
	code, js, errs := runCmd(cores[0], deref, "--format", "json")
	if code != exitOK {
		t.Fatalf("coredig %s: %d %s", cores[0], code, errs)
	}
	if strings.Contains(js, "COREDIG note") {
		t.Errorf("the core of deref carries python's caught fault:\n%s", js[:min(len(js), 3000)])
	}
}
