//go:build linux

// Package testcore makes real Linux kernel core dumps at test time, for the
// tests of the other coredig packages. It is imported only by _test.go files.
//
// Make builds one crasher program from testdata/src (gcc, g++, go build, or
// aarch64-linux-gnu-gcc for aarch64), runs it with RLIMIT_CORE raised, waits
// for it to die by a signal and returns the core file the kernel (or, for
// aarch64, qemu-aarch64) wrote. Catalog specs (DerefPIE, Threads6Py, ...)
// name the crashers the repository ships; each source file's header comment
// lists the values a test may assert, and "LINE: name" markers in it give the
// line numbers (Lines, Core.Line).
//
// # Where cores come from
//
// The kernel names the core after /proc/sys/kernel/core_pattern (see
// core(5) and Documentation/admin-guide/sysctl/kernel.rst): a plain pattern
// such as "core" is a file in the crashing process's working directory, with
// ".PID" appended when kernel.core_uses_pid is 1 and the pattern has no %p;
// % specifiers expand as in fs/coredump.c format_corename. A pattern that
// starts with "|" pipes the core to a program (systemd-coredump, apport) and
// leaves no file here: Make then fails the test and says which sysctl to
// change; it never skips. qemu-aarch64 (linux-user/elfload.c) writes the
// guest's core itself, as qemu_<prog>_<YYYYMMDD>-<HHMMSS>_<pid>.core in the
// working directory, when RLIMIT_CORE allows; the host core that qemu then
// also dumps of itself is deleted. qemu-riscv64 7.2 writes no core at all: a
// riscv64 program runs under qemu's gdbstub, and its core is written from what
// gdb-multiarch reads at the first core-dumping signal (see gdbstub.go).
//
// # Caching and cleanup
//
// Cores are cached per test process by Spec.Name: the first Make of a name
// builds and crashes, later calls (from any test, any goroutine) return the
// same *Core. Everything lives in one directory per process,
// $TMPDIR/coredig-testcore-<pid>-<random>, removed by Main (call it from
// TestMain) or, failing that, by the next test process that uses testcore,
// which removes such directories whose owning pid is gone. Set
// COREDIG_TESTCORE_KEEP=1 to keep the directory for inspection: Main then
// renames it to $TMPDIR/coredig-testcore-kept-<pid>-<random> (never swept;
// remove it yourself) and prints its name on stderr.
//
// # Limits
//
// Only linux/amd64 hosts are supported (aarch64 cores come from qemu-user).
// Python crashers run under an x86_64 interpreter given by Spec.Python
// (pyenv builds at /root/.pyenv/versions/*/bin), or, for i386, ppc64le, s390x
// and arm, under an interpreter testcore builds around Debian's libpython3.11 of
// the architecture (I386LibPython311, PPC64LELibPython311, S390XLibPython311,
// ARMLibPython311; see buildForeignPython), the emulated ones under qemu-user
// with -L the root of their libraries (Core.Sysroot). Each run is bounded by
// Spec.Timeout (default 2 minutes); its stdout and stderr are kept up to
// 1 MiB each.
package testcore
