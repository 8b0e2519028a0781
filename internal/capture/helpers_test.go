package capture

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildC compiles a test program of testdata with gcc.
func buildC(t *testing.T, src string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is needed to build %s: %v", src, err)
	}
	exe := filepath.Join(t.TempDir(), strings.TrimSuffix(src, ".c"))
	out, err := exec.Command("gcc", "-O0", "-g", "-pthread", "-o", exe, filepath.Join("testdata", src)).CombinedOutput()
	if err != nil {
		t.Fatalf("gcc %s: %v\n%s", src, err, out)
	}
	return exe
}

// startReady starts a program and waits until it prints a line starting with "ready";
// the rest of its output is returned by lines. It is killed and reaped, by PID, when the
// test ends.
func startReady(t *testing.T, name string, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reap(t, cmd)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	ready := make(chan bool, 1)
	go func() {
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready") {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("%s ended before it was ready", name)
		}
		// The line is read before the write that printed it has returned: give the
		// program time to get where it stays (pause, sleep).
		time.Sleep(200 * time.Millisecond)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not ready after 30s", name)
	}
	return cmd, sc
}

// reap kills and waits for a started command when the test ends, whatever happened.
func reap(t *testing.T, cmd *exec.Cmd) {
	t.Cleanup(func() {
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("process %d not reaped 10s after SIGKILL", cmd.Process.Pid)
		}
	})
}

// running reports whether a process exists and is not stopped or a zombie.
func running(t *testing.T, pid int) bool {
	t.Helper()
	st, err := readStat("/proc/" + itoa(pid) + "/stat")
	return err == nil && (st.state == 'S' || st.state == 'R')
}

func itoa(n int) string { return strconv.Itoa(n) }
