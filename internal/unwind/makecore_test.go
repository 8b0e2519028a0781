package unwind

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/coredig/coredig/internal/testcore"
)

// makeCore builds testdata/<src> with gcc and flags, runs it in a temporary directory with
// RLIMIT_CORE raised and returns a testcore.Core for the core the kernel wrote there. It is
// for crashers this package needs and the shared catalogue (testcore) does not have.
func makeCore(t *testing.T, src string, flags ...string) *testcore.Core {
	t.Helper()
	pattern, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil {
		t.Fatalf("cannot read /proc/sys/kernel/core_pattern: %v", err)
	}
	if p := strings.TrimSpace(string(pattern)); strings.HasPrefix(p, "|") || strings.Contains(p, "/") {
		t.Fatalf("core_pattern is %q: cores are not written to the working directory; set it to \"core\" (sysctl kernel.core_pattern=core)", p)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: ^uint64(0), Max: ^uint64(0)}); err != nil {
		t.Fatalf("raising RLIMIT_CORE: %v", err)
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, strings.TrimSuffix(src, ".c"))
	abs, err := filepath.Abs(filepath.Join("testdata", src))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", append(flags, "-o", exe, abs)...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", flags, err, out)
	}
	cmd := exec.Command(exe)
	cmd.Dir = dir
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("%s did not crash: %v", exe, err)
	}
	ws := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || !ws.CoreDump() {
		t.Fatalf("%s: %v, no core dumped (check ulimit -c and core_pattern)", exe, ws)
	}
	for _, name := range []string{"core", "core." + strconv.Itoa(cmd.Process.Pid)} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil {
			return &testcore.Core{Path: p, Size: st.Size(), Exe: exe, Dir: dir, PID: cmd.Process.Pid, Signal: ws.Signal()}
		}
	}
	t.Fatalf("%s dumped core but no core file is in %s (core_pattern %q)", exe, dir, pattern)
	return nil
}
