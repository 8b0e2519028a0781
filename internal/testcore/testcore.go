//go:build linux

package testcore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Architectures accepted in Spec.Arch.
const (
	ArchX86_64  = "x86_64"
	ArchAArch64 = "aarch64"
	// ArchI386 builds with gcc -m32 (Debian's libc6-dev-i386 and lib32gcc-12-dev) and
	// runs natively: the x86_64 kernel writes the i386 core.
	ArchI386 = "i386"
	// ArchPPC64LE, ArchS390X and ArchARM build with Debian's cross compilers and run
	// under qemu-user, as ArchAArch64 does (see Emulated).
	ArchPPC64LE = "ppc64le"
	ArchS390X   = "s390x"
	ArchARM     = "arm"
	// ArchRISCV64 builds with Debian's riscv64 cross compiler and runs under
	// qemu-riscv64, whose core comes through its gdbstub (see Emulated.GDBStub).
	ArchRISCV64 = "riscv64"
)

// Emulated describes an architecture whose programs run under qemu-user: the qemu
// binary, the cross compilers' target triple and the sysroot qemu is given with -L
// (Debian's libc6-<arch>-cross), where the guest's shared libraries live on the host.
type Emulated struct {
	Qemu, Triple, Sysroot string
	// GDBStub: this qemu-user writes no core of its guest (qemu 7.2 for riscv64), so the
	// core is made from what gdb-multiarch reads over qemu's gdbstub at the first
	// core-dumping signal (crashUnderGDB).
	GDBStub bool
}

// emulated are the architectures built with a cross compiler and run under qemu-user.
var emulated = map[string]Emulated{
	ArchAArch64: {Qemu: "qemu-aarch64", Triple: "aarch64-linux-gnu", Sysroot: AArch64Sysroot},
	ArchPPC64LE: {Qemu: "qemu-ppc64le", Triple: "powerpc64le-linux-gnu", Sysroot: "/usr/powerpc64le-linux-gnu"},
	ArchS390X:   {Qemu: "qemu-s390x", Triple: "s390x-linux-gnu", Sysroot: "/usr/s390x-linux-gnu"},
	ArchARM:     {Qemu: "qemu-arm", Triple: "arm-linux-gnueabihf", Sysroot: "/usr/arm-linux-gnueabihf"},
	ArchRISCV64: {Qemu: "qemu-riscv64", Triple: "riscv64-linux-gnu", Sysroot: "/usr/riscv64-linux-gnu", GDBStub: true},
}

// AArch64Sysroot is the directory qemu-aarch64 is given with -L: the Debian
// cross libc (package libc6-arm64-cross). A core made under qemu names
// shared libraries by their guest path (/lib/ld-linux-aarch64.so.1); they
// live under this directory on the host.
const AArch64Sysroot = "/usr/aarch64-linux-gnu"

// DefaultTimeout bounds one crasher run when Spec.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Spec says how to build and crash one program.
type Spec struct {
	// Name is the cache key and directory name: unique per distinct spec,
	// e.g. "deref-x86_64-pie". Letters, digits, '.', '_' and '-' only.
	Name string
	// Source is a file under testdata/src: .c, .cc, .go, .rs or .py.
	Source string
	// Arch is ArchX86_64 (the default when empty), ArchI386, or an emulated
	// architecture: ArchAArch64, ArchPPC64LE, ArchS390X, ArchARM or ArchRISCV64.
	Arch string
	// CFlags are the compiler flags for .c and .cc sources (default
	// "-O0 -g"; "-pthread" is always added), extra "go build" flags for
	// .go sources, or rustc's flags for .rs sources (default "-g -C
	// opt-level=0").
	CFlags []string
	// Python is the interpreter for .py sources, e.g. PyenvPython("3.12.1"). For
	// another Arch it is Debian's libpython of that architecture (I386LibPython311,
	// PPC64LELibPython311, S390XLibPython311, ARMLibPython311) that testcore builds an
	// interpreter around: with gcc -m32 for i386, whose core the kernel writes; with
	// the cross compiler for ppc64le, s390x and arm, run under qemu-user (-L /), whose
	// core qemu writes.
	Python string
	// PyFlags are interpreter options put before the script, e.g.
	// {"-X", "faulthandler"} (which installs handlers that dump a Python
	// traceback first; without it CPython leaves SIGSEGV to the kernel).
	PyFlags []string
	// Args are the program's (or script's) arguments.
	Args []string
	// Env entries are added to the environment (after GOTRACEBACK,
	// GODEBUG, PYTHONFAULTHANDLER, PYTHONPATH, PYTHONHOME, PYTHONSTARTUP,
	// LD_PRELOAD, QEMU_LD_PREFIX, QEMU_STRACE, RUST_BACKTRACE and
	// RUST_LIB_BACKTRACE are removed from the test's own).
	Env []string
	// KillWith, when non-zero, is sent with kill(2) from the test process
	// once the program has printed a stdout line starting with "ready".
	KillWith syscall.Signal
	// KillAfter delays KillWith after the ready line, for a program that cannot
	// print once it is where the test wants it (a Python thread that keeps the
	// GIL while the others come to wait for it).
	KillAfter time.Duration
	// KillChild: the ready line is "ready PID", naming a child the program
	// forked. KillWith goes to that child, whose core Make returns (Core.PID
	// is the child's pid); the program must reap the child and then exit, with
	// any status.
	KillChild bool
	// Timeout bounds the run (DefaultTimeout when zero).
	Timeout time.Duration
	// BeforeKill, when set, is called once the ready line is read and before KillWith
	// is sent, with the pid that will be killed and the stdout read so far: a test
	// looks at the live process (ptrace, a snapshot) before the kernel's core is made
	// of it. An error fails the run (the program is killed and reaped). It runs once per
	// process, like the rest of Make, so give such a spec a name of its own; specs are
	// compared without it.
	BeforeKill func(pid int, stdout string) error
}

// Core is a core file made by Make. Treat it as read-only: it is shared by
// every test of the process that asks for the same Spec.Name.
type Core struct {
	Spec Spec
	// Path is the core file.
	Path string
	// Size is its apparent size in bytes.
	Size int64
	// Exe is the program that was dumped: the built binary, or the Python
	// interpreter for .py sources (for i386, the one built in Dir).
	Exe string
	// Source is the absolute path of the source under testdata/src (the
	// name compilers put in DWARF and CPython in co_filename).
	Source string
	// Dir is the spec's private directory (build outputs; run/ is the
	// working directory of the crashed process).
	Dir string
	// Sysroot is the emulated architecture's sysroot (AArch64Sysroot for aarch64
	// cores; "/" for a Python interpreter of another architecture, whose libraries are
	// Debian's multiarch ones at their host paths), "" for native ones.
	Sysroot string
	// PID is the pid of the crashed process (of qemu-aarch64 for aarch64
	// cores, which is also the guest's getpid()).
	PID int
	// Signal is the signal that ended the process, as reported by wait(2).
	Signal syscall.Signal
	// SenderPID is this test process's pid when Spec.KillWith was used,
	// else 0.
	SenderPID int
	// Stdout and Stderr are the program's output (at most 1 MiB each).
	Stdout, Stderr string
}

// Line returns the line of the "LINE: marker" comment in the core's source
// file, failing the test if there is none.
func (c *Core) Line(t testing.TB, marker string) int {
	t.Helper()
	return Line(t, c.Spec.Source, marker)
}

type entry struct {
	once sync.Once
	spec Spec
	core *Core
	err  error
}

var (
	mu      sync.Mutex
	entries = map[string]*entry{}
	rootDir string
	rootErr error
)

// Make returns the core for s, building and crashing the program on the
// first call for s.Name in this process. It fails the test, with the reason
// and what to change, when the core cannot be made.
func Make(t testing.TB, s Spec) *Core {
	t.Helper()
	c, err := make1(s)
	if err != nil {
		t.Fatalf("testcore: %s: %v", s.Name, err)
	}
	return c
}

func make1(s Spec) (*Core, error) {
	if err := validate(&s); err != nil {
		return nil, err
	}
	mu.Lock()
	e, ok := entries[s.Name]
	if !ok {
		e = &entry{spec: s}
		entries[s.Name] = e
	}
	mu.Unlock()
	a, b := e.spec, s
	a.BeforeKill, b.BeforeKill = nil, nil // a func is never DeepEqual to anything
	if !reflect.DeepEqual(a, b) {
		return nil, fmt.Errorf("spec name %q is already used by a different spec (%+v); give each spec its own name", s.Name, e.spec)
	}
	e.once.Do(func() {
		e.core, e.err = build(s)
	})
	return e.core, e.err
}

func validate(s *Spec) error {
	if s.Name == "" {
		return fmt.Errorf("spec has no Name")
	}
	for i := 0; i < len(s.Name); i++ {
		if !isNameByte(s.Name[i]) && s.Name[i] != '-' && s.Name[i] != '.' {
			return fmt.Errorf("spec name %q: byte %q is not a letter, digit, '.', '_' or '-'", s.Name, s.Name[i])
		}
	}
	if s.Source == "" || strings.ContainsRune(s.Source, '/') {
		return fmt.Errorf("source %q must be a file name under testdata/src", s.Source)
	}
	if s.Arch == "" {
		s.Arch = ArchX86_64
	}
	if _, ok := emulated[s.Arch]; !ok && s.Arch != ArchX86_64 && s.Arch != ArchI386 {
		return fmt.Errorf("arch %q: want %q, %q, %q, %q, %q, %q or %q", s.Arch, ArchX86_64, ArchI386, ArchAArch64, ArchPPC64LE, ArchS390X, ArchARM, ArchRISCV64)
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	return nil
}

// Main runs the tests and removes the process's core directory (unless
// COREDIG_TESTCORE_KEEP=1). Use it as
//
//	func TestMain(m *testing.M) { os.Exit(testcore.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	dir := rootDir
	mu.Unlock()
	if dir != "" {
		if os.Getenv("COREDIG_TESTCORE_KEEP") == "1" {
			// Renamed out of the coredig-testcore-<pid>- pattern so that
			// later test processes do not sweep it.
			kept := filepath.Join(filepath.Dir(dir), keptPrefix+filepath.Base(dir)[len(rootPrefix):])
			if err := os.Rename(dir, kept); err != nil {
				kept = dir
			}
			fmt.Fprintf(os.Stderr, "testcore: kept %s\n", kept)
		} else if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "testcore: %v\n", err)
		}
	}
	return code
}

const (
	rootPrefix = "coredig-testcore-"
	keptPrefix = "coredig-testcore-kept-"
)

// root returns the process-wide directory, creating it on first use after
// removing directories left by test processes that no longer exist.
func root() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if rootDir != "" || rootErr != nil {
		return rootDir, rootErr
	}
	sweepStale(os.TempDir())
	rootDir, rootErr = os.MkdirTemp("", rootPrefix+strconv.Itoa(os.Getpid())+"-")
	if rootErr != nil {
		rootErr = fmt.Errorf("making the core directory: %w", rootErr)
	}
	return rootDir, rootErr
}

// sweepStale removes dir/coredig-testcore-<pid>-* whose pid is not running.
func sweepStale(dir string) {
	names, err := filepath.Glob(filepath.Join(dir, rootPrefix+"*"))
	if err != nil {
		return
	}
	for i, name := range names {
		if i >= 1000 {
			return
		}
		rest := strings.TrimPrefix(filepath.Base(name), rootPrefix)
		pidStr, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + pidStr); err == nil {
			continue
		}
		_ = os.RemoveAll(name)
	}
}

// RepoRoot returns the repository root: the nearest directory above the
// working directory whose go.mod declares module github.com/coredig/coredig.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := repoRoot()
	if err != nil {
		t.Fatalf("testcore: %v", err)
	}
	return dir
}

const modulePath = "github.com/coredig/coredig"

func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	dir := wd
	for i := 0; i < 64; i++ {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("no go.mod of module %s above %s", modulePath, wd)
}

// SourcePath returns the absolute path of a file under testdata/src.
func SourcePath(t testing.TB, source string) string {
	t.Helper()
	r := RepoRoot(t)
	return filepath.Join(r, "testdata", "src", source)
}

// Lines returns the line of every "LINE: name" marker in a source file
// under testdata/src.
func Lines(t testing.TB, source string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(SourcePath(t, source))
	if err != nil {
		t.Fatalf("testcore: %v", err)
	}
	m, err := parseLines(data)
	if err != nil {
		t.Fatalf("testcore: %s: %v", source, err)
	}
	return m
}

// Line returns the line of the "LINE: marker" comment in a source file
// under testdata/src, failing the test if there is none.
func Line(t testing.TB, source, marker string) int {
	t.Helper()
	n, ok := Lines(t, source)[marker]
	if !ok {
		t.Fatalf("testcore: %s has no \"LINE: %s\" marker", source, marker)
	}
	return n
}

// PyenvPython returns the path of the pyenv CPython of the given full
// version ("3.12.1"): $PYENV_ROOT (default /root/.pyenv)
// /versions/V/bin/pythonMAJOR.MINOR. It does not check that it exists;
// Make does.
func PyenvPython(version string) string {
	r := os.Getenv("PYENV_ROOT")
	if r == "" {
		r = "/root/.pyenv"
	}
	short := version
	if parts := strings.SplitN(version, ".", 3); len(parts) >= 2 {
		short = parts[0] + "." + parts[1]
	}
	return filepath.Join(r, "versions", version, "bin", "python"+short)
}
