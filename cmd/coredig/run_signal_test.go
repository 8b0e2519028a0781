package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sigrecRun is `coredig run -- sigrec CATCH...` (cmd/coredig/testdata/sigrec.c) started by
// a test. Its stdout lines after "ready PID" arrive on lines. Both processes are killed
// and coredig reaped by PID at the end of the test, whatever happened.
type sigrecRun struct {
	cmd    *exec.Cmd
	pid    int // coredig
	child  int // sigrec, coredig's child
	lines  chan string
	stderr bytes.Buffer
	done   chan struct{}
}

func buildSigrec(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("testdata/sigrec.c")
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "sigrec")
	if out, err := exec.Command("gcc", "-O0", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return exe
}

// startSigrec starts coredig (exe) running sigrec in dir. coredig leads a process group
// of its own, as a shell starts a job, so that the test can signal the job (-pid); that
// group is never its terminal's foreground group, so coredig forwards SIGINT, SIGQUIT and
// SIGTSTP itself. (A session of its own would orphan the group, and the kernel ignores
// SIGTSTP in an orphaned group.)
func startSigrec(t *testing.T, exe, sigrec, dir string, catch ...syscall.Signal) *sigrecRun {
	t.Helper()
	args := []string{"run", "--core-dir", "cores", "--", sigrec}
	for _, s := range catch {
		args = append(args, fmt.Sprint(int(s)))
	}
	r := &sigrecRun{lines: make(chan string, 64), done: make(chan struct{})}
	r.cmd = exec.Command(exe, args...)
	r.cmd.Dir = dir
	r.cmd.Env = append(os.Environ(), "COREDIG_TEST_AS_MAIN=1")
	r.cmd.Stderr = &r.stderr
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.pid = r.cmd.Process.Pid
	ready := make(chan int, 1)
	go func() {
		defer close(r.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var pid int
			if _, err := fmt.Sscanf(sc.Text(), "ready %d", &pid); err == nil {
				ready <- pid
				continue
			}
			r.lines <- sc.Text()
		}
	}()
	go func() { r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		if r.child > 0 && strings.Contains(readComm(r.child), "sigrec") {
			syscall.Kill(r.child, syscall.SIGKILL)
		}
		syscall.Kill(r.pid, syscall.SIGKILL)
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Errorf("coredig %d not reaped 10s after SIGKILL", r.pid)
		}
	})
	select {
	case r.child = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("sigrec did not start in 30s; stderr:\n%s", r.stderr.String())
	}
	return r
}

func readComm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// wait returns coredig's exit status once it has exited.
func (r *sigrecRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("coredig did not end in 30s; stderr:\n%s", r.stderr.String())
	}
	if !r.cmd.ProcessState.Exited() {
		t.Fatalf("coredig itself ended by %v, want an exit", r.cmd.ProcessState)
	}
	return r.cmd.ProcessState.ExitCode()
}

// rest returns the lines sigrec printed until its stdout closed.
func (r *sigrecRun) rest(t *testing.T) []string {
	t.Helper()
	var got []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				return got
			}
			got = append(got, l)
		case <-timeout:
			t.Fatalf("stdout not closed in 30s; got %q", got)
		}
	}
}

// settle returns the lines sigrec printed within d.
func (r *sigrecRun) settle(d time.Duration) []string {
	var got []string
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				return got
			}
			got = append(got, l)
		case <-timeout:
			return got
		}
	}
}

// SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to coredig reach CMD exactly once. A CMD that
// catches one ends with its own status; one that does not dies of it, and coredig exits
// 128+N as a shell reports it; SIGQUIT dumps core, so its core is written too. Sent to
// the whole process group (kill(-PGID), as timeout(1) does), CMD gets it directly and
// coredig does not send it again.
func TestRunForwardsSignals(t *testing.T) {
	exe := selfAsCoredig(t)
	sigrec := buildSigrec(t)
	forwarded := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}
	for _, sig := range forwarded {
		for _, tc := range []struct {
			how         string
			caught, job bool
		}{{"caught", true, false}, {"default", false, false}, {"caught-by-job", true, true}} {
			caught := tc.caught
			t.Run(strings.ToUpper(unix(sig))+"/"+tc.how, func(t *testing.T) {
				dir := t.TempDir()
				var catch []syscall.Signal
				if caught {
					catch = forwarded
				}
				r := startSigrec(t, exe, sigrec, dir, catch...)
				target := r.pid
				if tc.job {
					target = -r.pid
				}
				if err := syscall.Kill(target, sig); err != nil {
					t.Fatal(err)
				}
				code := r.wait(t)
				lines := r.rest(t)
				cores, _ := filepath.Glob(filepath.Join(dir, "cores", "core.*"))
				wantLines, wantCode, wantCores := []string{}, 128+int(sig), 0
				if caught {
					wantLines, wantCode = []string{fmt.Sprintf("got %d", sig)}, 40+int(sig)
				} else if sig == syscall.SIGQUIT {
					wantCores = 1
				}
				if fmt.Sprint(lines) != fmt.Sprint(wantLines) {
					t.Errorf("sigrec printed %q, want %q", lines, wantLines)
				}
				if code != wantCode {
					t.Errorf("exit %d, want %d; stderr:\n%s", code, wantCode, r.stderr.String())
				}
				if len(cores) != wantCores {
					t.Errorf("cores %v, want %d", cores, wantCores)
				}
				if wantCores == 1 {
					want := fmt.Sprintf("core.sigrec.%d", r.child)
					if filepath.Base(cores[0]) != want || !strings.Contains(r.stderr.String(), "died of signal 3") {
						t.Errorf("core %s, want %s; stderr:\n%s", cores[0], want, r.stderr.String())
					}
				}
			})
		}
	}
}

func unix(sig syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGINT: "int", syscall.SIGTERM: "term", syscall.SIGHUP: "hup", syscall.SIGQUIT: "quit"}[sig]
}

// Stopping and continuing behave as without coredig. A job (coredig's process group, as a
// shell makes one) stopped by SIGTSTP or SIGSTOP stops CMD and coredig and stays stopped;
// SIGCONT to the job runs both again and CMD sees that SIGCONT once. SIGTSTP and SIGCONT
// sent to coredig alone stop and continue CMD as they would CMD itself, and coredig stops
// with it. CMD stopped and continued on its own leaves coredig running. After all of it
// coredig still follows CMD: a SIGINT reaches it and its status is coredig's.
func TestRunJobControl(t *testing.T) {
	exe := selfAsCoredig(t)
	sigrec := buildSigrec(t)
	r := startSigrec(t, exe, sigrec, t.TempDir(), syscall.SIGINT, syscall.SIGCONT)
	stopped := func(s byte) bool { return s == 'T' || s == 't' }
	running := func(s byte) bool { return s == 'S' || s == 'R' }
	await := func(what string, pid int, ok func(byte) bool) {
		t.Helper()
		for i := 0; i < 500; i++ {
			if ok(procState(pid)) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: process %d is in state %q; stderr:\n%s", what, pid, procState(pid), r.stderr.String())
	}
	for _, step := range []struct {
		name          string
		stop, cont    func() error
		coredigStops  bool
		contSeenByCMD bool
	}{
		{"job SIGTSTP", func() error { return syscall.Kill(-r.pid, syscall.SIGTSTP) },
			func() error { return syscall.Kill(-r.pid, syscall.SIGCONT) }, true, true},
		{"job SIGSTOP", func() error { return syscall.Kill(-r.pid, syscall.SIGSTOP) },
			func() error { return syscall.Kill(-r.pid, syscall.SIGCONT) }, true, true},
		{"coredig SIGTSTP", func() error { return syscall.Kill(r.pid, syscall.SIGTSTP) },
			func() error { return syscall.Kill(r.pid, syscall.SIGCONT) }, true, true},
		{"CMD SIGSTOP", func() error { return syscall.Kill(r.child, syscall.SIGSTOP) },
			func() error { return syscall.Kill(r.child, syscall.SIGCONT) }, false, true},
		{"CMD SIGTSTP", func() error { return syscall.Kill(r.child, syscall.SIGTSTP) },
			func() error { return syscall.Kill(r.child, syscall.SIGCONT) }, false, true},
	} {
		if err := step.stop(); err != nil {
			t.Fatal(err)
		}
		await(step.name+": CMD stops", r.child, stopped)
		if step.coredigStops {
			await(step.name+": coredig stops with the job", r.pid, stopped)
		}
		time.Sleep(300 * time.Millisecond)
		if s := procState(r.child); !stopped(s) {
			t.Fatalf("%s: CMD is in state %q 300ms later: it did not stay stopped", step.name, s)
		}
		if !step.coredigStops {
			if s := procState(r.pid); !running(s) {
				t.Errorf("%s: coredig is in state %q, want it running", step.name, s)
			}
		}
		if err := step.cont(); err != nil {
			t.Fatal(err)
		}
		await(step.name+": CMD runs again", r.child, running)
		await(step.name+": coredig runs again", r.pid, running)
		if got := r.settle(300 * time.Millisecond); fmt.Sprint(got) != "[got 18]" {
			t.Errorf("%s: after SIGCONT sigrec printed %q, want one \"got 18\"", step.name, got)
		}
	}
	if err := syscall.Kill(r.pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t); code != 42 {
		t.Errorf("exit %d, want 42 (sigrec's after SIGINT); stderr:\n%s", code, r.stderr.String())
	}
	if got := r.rest(t); fmt.Sprint(got) != "[got 2]" {
		t.Errorf("after SIGINT sigrec printed %q, want \"got 2\"", got)
	}
}

// In a terminal's foreground group the terminal signals the whole job itself: ^C reaches
// CMD once (coredig ignores it rather than forward a second), ^Z stops CMD and coredig
// (with SIGTSTP, as the shell expects of a job) and the shell's fg runs both again. The
// terminal is a pty made by script(1); in it sh with job control (set -m) runs coredig as
// a job, then, once the test has seen the job stopped and typed a line, `fg`. coredig
// tells the terminal's foreground group from its controlling terminal, so the same holds
// with its stdin redirected.
func TestRunTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatalf("script(1) from util-linux makes the terminal: %v", err)
	}
	exe := selfAsCoredig(t)
	sigrec := buildSigrec(t)
	for _, redirect := range []string{"", " </dev/null"} {
		name := "stdin-terminal"
		if redirect != "" {
			name = "stdin-redirected"
		}
		t.Run(name, func(t *testing.T) { testRunTerminal(t, exe, sigrec, redirect) })
	}
}

func testRunTerminal(t *testing.T, exe, sigrec, redirect string) {
	dir := t.TempDir()
	cmd := exec.Command("script", "-qefc", "set -m; "+exe+" run --core-dir cores -- "+sigrec+" 2 18"+redirect+"; read x; fg", "/dev/null")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COREDIG_TEST_AS_MAIN=1", "SHELL=/bin/sh")
	keys, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- strings.TrimRight(sc.Text(), "\r")
		}
	}()
	var child, coredig int
	t.Cleanup(func() {
		for _, pid := range []int{child, coredig} {
			if pid > 0 && (readComm(pid) == "sigrec" || readComm(pid) == "coredig") {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("script %d not reaped 10s after SIGKILL", cmd.Process.Pid)
		}
	})
	// next returns sigrec's "got N" lines within d (the terminal also shows the shell's
	// job messages and echoes ^Z, ^C and the typed line).
	next := func(d time.Duration) []string {
		var got []string
		timeout := time.After(d)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return got
				}
				if i := strings.Index(l, "got "); i >= 0 {
					got = append(got, l[i:])
				}
			case <-timeout:
				return got
			}
		}
	}
	start := time.After(30 * time.Second)
	for child == 0 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the terminal closed before sigrec started")
			}
			if i := strings.Index(l, "ready "); i >= 0 {
				fmt.Sscanf(l[i:], "ready %d", &child)
			}
		case <-start:
			t.Fatal("sigrec did not start in 30s")
		}
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	coredig, _ = strconv.Atoi(f[1])
	if readComm(coredig) != "coredig" {
		t.Fatalf("sigrec's parent %d is %q, not coredig", coredig, readComm(coredig))
	}
	await := func(what string, pid int, ok func(byte) bool) {
		t.Helper()
		for i := 0; i < 500; i++ {
			if ok(procState(pid)) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: process %d is in state %q", what, pid, procState(pid))
	}
	stopped := func(s byte) bool { return s == 'T' || s == 't' }
	running := func(s byte) bool { return s == 'S' || s == 'R' }

	keys.Write([]byte{0x1a}) // ^Z
	await("^Z: CMD stops", child, stopped)
	await("^Z: coredig stops", coredig, stopped)
	time.Sleep(300 * time.Millisecond)
	if s := procState(child); !stopped(s) {
		t.Fatalf("^Z: CMD is in state %q 300ms later: it did not stay stopped", s)
	}
	if s := procState(coredig); s != 'T' {
		t.Errorf("^Z: coredig is in state %q, want T", s)
	}
	keys.Write([]byte("fg\n")) // the shell's `read x` returns, and it runs fg
	await("fg: CMD runs again", child, running)
	await("fg: coredig runs again", coredig, running)
	if got := next(300 * time.Millisecond); fmt.Sprint(got) != "[got 18]" {
		t.Errorf("after fg sigrec printed %q, want one \"got 18\"", got)
	}
	keys.Write([]byte{0x03}) // ^C
	if got := next(2 * time.Second); fmt.Sprint(got) != "[got 2]" {
		t.Errorf("after ^C sigrec printed %q, want one \"got 2\"", got)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("script did not end in 30s")
	}
	if code := cmd.ProcessState.ExitCode(); code != 42 {
		t.Errorf("exit %d, want 42 (sigrec's after SIGINT)", code)
	}
}
