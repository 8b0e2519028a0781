package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/testcore"
)

// startReady starts cmd and waits for its first stdout line beginning with "ready",
// returning the rest of that line. The process is killed and reaped, by PID, when the
// test ends.
func startReady(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reapCmd(t, cmd)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "ready"); ok {
				line <- strings.TrimSpace(rest)
				io.Copy(io.Discard, out)
				return
			}
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			t.Fatalf("%s ended before it was ready", cmd.Path)
		}
		return l
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not ready after 60s", cmd.Path)
	}
	return ""
}

// reapCmd kills and waits for a started command when the test ends.
func reapCmd(t *testing.T, cmd *exec.Cmd) {
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

func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// `coredig py PID` gives every thread's Python stack exactly as the process reports it
// about itself with sys._current_frames(), and the process keeps running.
func TestLivePython(t *testing.T) {
	script, err := filepath.Abs("testdata/live_threads.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range testcore.PyenvVersions {
		var major, minor int
		fmt.Sscanf(v, "%d.%d", &major, &minor)
		if major != 3 || minor < 8 {
			continue // coredig reads CPython 3.8 and later
		}
		py := testcore.PyenvPython(v)
		t.Run(v, func(t *testing.T) {
			if _, err := os.Stat(py); err != nil {
				t.Fatalf("pyenv CPython %s is not installed at %s: %v", v, py, err)
			}
			cmd := exec.Command(py, script)
			line := startReady(t, cmd)
			var want map[string][][]any
			if err := json.Unmarshal([]byte(line), &want); err != nil {
				t.Fatalf("the process's own report: %v: %q", err, line)
			}
			pid := cmd.Process.Pid
			// The reporter thread prints, then ends: wait until it is gone.
			for i := 0; ; i++ {
				ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
				if len(ents) == len(want) {
					break
				}
				if i == 500 {
					t.Fatalf("the process has %d threads, want %d", len(ents), len(want))
				}
				time.Sleep(10 * time.Millisecond)
			}
			code, out, errs := runCmd("py", strconv.Itoa(pid), "--format", "json")
			if code != exitOK {
				t.Fatalf("coredig py %d: exit %d: %s", pid, code, errs)
			}
			var doc struct {
				Python struct {
					Version string
					Threads []struct {
						TID    int
						Frames []struct {
							Function, File string
							Line           int
						}
					}
				}
				Signal struct{ Name string }
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			got := map[string][][]any{}
			for _, th := range doc.Python.Threads {
				var fs [][]any
				for _, f := range th.Frames {
					fs = append(fs, []any{f.Function, f.File, float64(f.Line)})
				}
				got[strconv.Itoa(th.TID)] = fs
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("coredig py:\n%v\nthe process about itself:\n%v", got, want)
			}
			if !strings.HasPrefix(doc.Python.Version, v[:4]) || doc.Signal.Name != "SIGSTOP" {
				t.Errorf("version %q, signal %q", doc.Python.Version, doc.Signal.Name)
			}
			time.Sleep(50 * time.Millisecond)
			if s := procState(pid); s != 'S' && s != 'R' {
				t.Errorf("after coredig py the process is in state %q, want running", s)
			}
		})
	}
}
