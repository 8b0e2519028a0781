package diagnose

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/testcore"
)

// The crashers in testdata/crashers cover classes internal/testcore's catalogue does not
// (alignment check, truncated mmap, #GP, int3, wild pointer, thread guard page). They are
// built and crashed here the way testcore does it: gcc, RLIMIT_CORE raised in this
// process (inherited by the child), and the core named by core_pattern in the child's
// working directory. A pattern that pipes cores elsewhere fails the test loudly.

var (
	ownMu    sync.Mutex
	ownCores = map[string]string{}
	// ownRoot is this test process's directory of cores, removed by TestMain.
	ownRoot string
)

// ownCore builds testdata/crashers/<name>.c and returns the path of its core and binary.
func ownCore(t *testing.T, name string, args ...string) (string, string) {
	t.Helper()
	ownMu.Lock()
	defer ownMu.Unlock()
	if ownRoot == "" {
		r, err := os.MkdirTemp("", "coredig-diagnose-cores-")
		if err != nil {
			t.Fatal(err)
		}
		ownRoot = r
	}
	dir := filepath.Join(ownRoot, name)
	exe := filepath.Join(dir, name)
	if p, ok := ownCores[name]; ok {
		return p, exe
	}
	pat, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil {
		t.Fatalf("cannot read core_pattern: %v", err)
	}
	if strings.HasPrefix(string(pat), "|") || strings.Contains(string(pat), "/") {
		t.Fatalf("core_pattern is %q: cores do not land in the working directory; run `sysctl kernel.core_pattern=core` to make real cores for these tests", strings.TrimSpace(string(pat)))
	}
	lim := syscall.Rlimit{Cur: ^uint64(0), Max: ^uint64(0)}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		t.Fatalf("cannot raise RLIMIT_CORE, so the kernel would write no core: %v", err)
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("gcc", "-O0", "-g", "-pthread", "-o", exe, filepath.Join("testdata", "crashers", name+".c"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	run := exec.Command(exe, args...)
	run.Dir = dir
	done := make(chan error, 1)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- run.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		run.Process.Kill()
		t.Fatalf("%s did not crash within a minute", name)
	}
	ws, _ := run.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || !ws.CoreDump() {
		t.Fatalf("%s: exit %v: want death by a signal with a core dump (core_pattern %q)", name, run.ProcessState, strings.TrimSpace(string(pat)))
	}
	for _, cand := range []string{filepath.Join(dir, "core"), filepath.Join(dir, "core."+itoa(run.Process.Pid))} {
		if _, err := os.Stat(cand); err == nil {
			ownCores[name] = cand
			return cand, exe
		}
	}
	t.Fatalf("%s dumped core but no core or core.%d is in %s (core_pattern %q)", name, run.Process.Pid, dir, strings.TrimSpace(string(pat)))
	return "", ""
}

func loadOwn(t *testing.T, name string, args ...string) *fixture {
	t.Helper()
	path, exe := ownCore(t, name, args...)
	return loadPath(t, path, exe, "", nil)
}

func TestOwnMisaligned(t *testing.T) {
	fx := loadOwn(t, "misaligned")
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindMisaligned, "Misaligned access in load_odd", "not 8-byte aligned")
	if v, _ := d.Get("access"); !strings.HasPrefix(v, "reads 8 bytes at ") {
		t.Errorf("access %q", v)
	}
	// The kernel gives no address for #AC: the computed one is odd and is the buffer+3.
	buf, ok := fx.syms.vars["buf"]
	if !ok {
		t.Fatal("no symbol buf")
	}
	mustEv(t, d, "computed_address", hex(buf+3))
	mustKind(t, d, KindMisaligned, "at "+hex(buf+3)+", not 8-byte aligned")
}

func TestOwnMmapBus(t *testing.T) {
	path, exe := ownCore(t, "mmapbus", "mapped.bin") // relative: created in the run directory
	file := filepath.Join(filepath.Dir(exe), "mapped.bin")
	fx := loadPath(t, path, exe, "", nil)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindBusErrorMappedFile, "Bus error in read_mapped", "memory-mapped file "+file)
	mustEv(t, d, "file", file)
}

func TestOwnNonCanonical(t *testing.T) {
	fx := loadOwn(t, "noncanon")
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindNonCanonical, "General protection fault in poisoned", "0xdead000000000010 is a non-canonical address")
	mustEv(t, d, "non_canonical_address", "0xdead000000000010")
	mustEv(t, d, "access", "reads 8 bytes at rax+0x10")
}

func TestOwnInt3(t *testing.T) {
	fx := loadOwn(t, "int3")
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindBreakpoint, "Breakpoint int3 at ", "in debug_hook")
}

func TestOwnWild(t *testing.T) {
	fx := loadOwn(t, "wild")
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindWildPointer, "Wild pointer in chase: access at 0x123456789008, which is not mapped", "reads 8 bytes at rax+0x8; rax = 0x123456789000")
}

func TestOwnThreadOverflow(t *testing.T) {
	fx := loadOwn(t, "threadoverflow")
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindStackOverflow, "Stack overflow in ", "the stack of thread ", "descend recurses")
	mustEv(t, d, "recursion", "descend")
}

func TestRealAArch64Trap(t *testing.T) {
	fx := load(t, testcore.Spec{Name: "trap-aarch64", Source: "trap.c", Arch: testcore.ArchAArch64})
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindTrap, "Trap instruction brk #0x3e8 in do_trap", "__builtin_trap")
}

func TestRealAArch64Rodata(t *testing.T) {
	fx := load(t, testcore.Spec{Name: "rodata-aarch64", Source: "rodata.c", Arch: testcore.ArchAArch64})
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindWriteReadOnly, "Write to read-only memory in shout", "writes 1 byte at x")
}
