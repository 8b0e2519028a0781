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

// makeCore builds testdata/<src> with gcc (aarch64-linux-gnu-gcc, run under qemu-aarch64,
// for testcore.ArchAArch64) and flags, runs it in a temporary directory with RLIMIT_CORE
// raised and returns a testcore.Core for the core the kernel (or qemu, which names it
// qemu_<prog>_<date>-<time>_<pid>.core) wrote there. It is for crashers this package needs
// and the shared catalogue (testdata/src via testcore) does not have.
func makeCore(t *testing.T, archName, src string, flags ...string) *testcore.Core {
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
	cc, run := "gcc", []string{exe}
	sysroot := ""
	if archName == testcore.ArchAArch64 {
		sysroot = testcore.AArch64Sysroot
		cc, run = "aarch64-linux-gnu-gcc", []string{"qemu-aarch64", "-L", sysroot, exe}
	}
	if out, err := exec.Command(cc, append(flags, "-o", exe, abs)...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", cc, flags, err, out)
	}
	cmd := exec.Command(run[0], run[1:]...)
	cmd.Dir = dir
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("%s did not crash: %v", exe, err)
	}
	ws := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() {
		t.Fatalf("%s: %v, not killed by a signal", exe, ws)
	}
	if sysroot != "" {
		cores, _ := filepath.Glob(filepath.Join(dir, "qemu_*.core"))
		if len(cores) != 1 {
			t.Fatalf("qemu-aarch64 left %d guest cores in %s", len(cores), dir)
		}
		st, err := os.Stat(cores[0])
		if err != nil {
			t.Fatal(err)
		}
		return &testcore.Core{Path: cores[0], Size: st.Size(), Exe: exe, Dir: dir, Sysroot: sysroot,
			PID: cmd.Process.Pid, Signal: ws.Signal()}
	}
	if !ws.CoreDump() {
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
