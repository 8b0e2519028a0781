package capture

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/core"
)

// gdbThreads runs gdb's "thread apply all bt" on a core and returns, per LWP, the
// function names of its frames, innermost first.
func gdbThreads(t *testing.T, exe, corePath string) map[int][]string {
	t.Helper()
	out, err := exec.Command("gdb", "-nx", "-batch", "-ex", "thread apply all bt", exe, corePath).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	threadRe := regexp.MustCompile(`^Thread \d+ \(.*LWP (\d+)\)`)
	frameRe := regexp.MustCompile(`^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(`)
	got := map[int][]string{}
	cur := -1
	for _, line := range strings.Split(string(out), "\n") {
		if m := threadRe.FindStringSubmatch(line); m != nil {
			fmt.Sscan(m[1], &cur)
			got[cur] = []string{}
			continue
		}
		if m := frameRe.FindStringSubmatch(line); m != nil && cur >= 0 {
			got[cur] = append(got[cur], m[1])
		}
	}
	return got
}

// gdb reads coredig's snapshot of a four-thread process as it reads its own gcore of the
// same process, and the process keeps running.
func TestGcoreMatchesGDB(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Fatalf("gdb is needed for the comparison: %v", err)
	}
	exe := buildC(t, "threads.c")
	cmd, _ := startReady(t, exe)
	pid := cmd.Process.Pid
	dir := t.TempDir()
	mine := filepath.Join(dir, "core.mine")
	s, err := Attach(pid)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := readStat(fmt.Sprintf("/proc/%d/stat", pid)); st.state != 't' {
		t.Errorf("while attached the process is in state %q, want 't' (stopped by the tracer)", st.state)
	}
	if err := s.WriteFile(mine); err != nil {
		t.Fatal(err)
	}
	if err := s.Detach(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if !running(t, pid) {
		t.Fatalf("process %d is not running after the snapshot", pid)
	}
	theirs := filepath.Join(dir, "core.gdb")
	if out, err := exec.Command("gdb", "-nx", "-batch", "-p", fmt.Sprint(pid), "-ex", "gcore "+theirs).CombinedOutput(); err != nil {
		t.Fatalf("gdb gcore: %v\n%s", err, out)
	}
	want, got := gdbThreads(t, exe, theirs), gdbThreads(t, exe, mine)
	if len(want) != 4 {
		t.Fatalf("gdb's own gcore shows %d threads, want 4: %v", len(want), want)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("gdb on coredig's core:\n%v\ngdb on gdb's core:\n%v", got, want)
	}
	for tid, fns := range got {
		t.Logf("LWP %d: %s", tid, strings.Join(fns, " < "))
	}

	// Package core reads the snapshot: every thread, the process's first, SIGSTOP, and
	// the same registers gdb recorded for threads that did not move in between.
	c, err := core.Open(mine)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g, err := core.Open(theirs)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	tids, _ := listThreads(pid)
	if len(c.Threads) != len(tids) || c.Threads[0].TID != pid {
		t.Fatalf("threads %v, want %v with %d first", c.Threads, tids, pid)
	}
	if c.SigInfo == nil || c.SigInfo.Signo != SIGSTOP || c.Threads[0].Signal != SIGSTOP || c.PsInfo.PID != pid || c.PsInfo.FName != "threads" {
		t.Errorf("siginfo %+v, signal %d, psinfo %+v", c.SigInfo, c.Threads[0].Signal, c.PsInfo)
	}
	a := c.Arch
	for _, th := range c.Threads {
		var gt *core.Thread
		for _, x := range g.Threads {
			if x.TID == th.TID {
				gt = x
			}
		}
		if gt == nil {
			t.Errorf("thread %d is not in gdb's core", th.TID)
			continue
		}
		if th.SP(a) != gt.SP(a) {
			t.Errorf("thread %d: sp %#x, gdb %#x", th.TID, th.SP(a), gt.SP(a))
		}
		if got[th.TID][0] != "spin" && th.PC(a) != gt.PC(a) {
			t.Errorf("thread %d: pc %#x, gdb %#x", th.TID, th.PC(a), gt.PC(a))
		}
		if !th.FPValid {
			t.Errorf("thread %d: no floating-point registers", th.TID)
		}
	}
	if c.Notes.FPRegs != 512 || c.Notes.XState == 0 {
		t.Errorf("notes %+v: want NT_PRFPREG of 512 bytes and an NT_X86_XSTATE", c.Notes)
	}
}

// The program headers of a snapshot are the kernel's for the same process: the same
// mappings, flags and, by the coredump_filter rules, the same dumped sizes.
func TestGcoreLayoutMatchesKernel(t *testing.T) {
	exe := buildC(t, "threads.c")
	dir := t.TempDir()
	cmd, _ := startReadyIn(t, dir, "ulimit -c unlimited && exec "+exe)
	pid := cmd.Process.Pid
	s, err := Attach(pid)
	if err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(t.TempDir(), "core.mine")
	err = s.WriteFile(mine)
	s.Detach()
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGABRT)
	cmd.Wait()
	kpath := filepath.Join(dir, "core")
	if _, err := os.Stat(kpath); err != nil {
		b, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
		t.Fatalf("the kernel wrote no core in %s (core_pattern %q): %v", dir, strings.TrimSpace(string(b)), err)
	}
	load := func(p string) []string {
		f, err := elf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out []string
		for _, pr := range f.Progs {
			if pr.Type == elf.PT_LOAD {
				out = append(out, fmt.Sprintf("%#x+%#x %v filesz %#x", pr.Vaddr, pr.Memsz, pr.Flags, pr.Filesz))
			}
		}
		return out
	}
	want, got := load(kpath), load(mine)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("PT_LOAD headers differ.\ncoredig:\n%s\nkernel:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// startReadyIn runs a shell command line in dir, as startReady does.
func startReadyIn(t *testing.T, dir, line string) (*exec.Cmd, error) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	cmd, _ := startReady(t, "/bin/sh", "-c", line)
	return cmd, nil
}

// A process already traced is refused with the cause named.
func TestAttachAlreadyTraced(t *testing.T) {
	exe := buildC(t, "threads.c")
	cmd, _ := startReady(t, exe)
	s, err := Attach(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Detach()
	_, err = Attach(cmd.Process.Pid)
	var pe *PermissionError
	if !errors.As(err, &pe) || !strings.Contains(pe.Cause, "already traced by process") || !errors.Is(err, syscall.EPERM) {
		t.Fatalf("second Attach: %v, want a PermissionError naming the tracer", err)
	}
}

func TestAttachNoProcess(t *testing.T) {
	_, err := Attach(1 << 30)
	if err == nil || !strings.Contains(err.Error(), "no process") {
		t.Fatalf("Attach of a missing process: %v", err)
	}
}

// coredig cannot trace itself, and says so.
func TestAttachSelf(t *testing.T) {
	_, err := Attach(os.Getpid())
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Cause != "it is coredig itself" {
		t.Fatalf("Attach of itself: %v", err)
	}
}
