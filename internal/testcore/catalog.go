//go:build linux

package testcore

import "syscall"

// The catalogue: one Spec per crasher in testdata/src, as the repository's
// tests use them. The header comment of each source file lists what a test
// may assert about its core. Names end in the architecture and the build
// flavour so that variants can sit side by side.
var (
	// DerefPIE: deref.c, -O0 -g, position-independent executable; 4
	// threads, SIGSEGV at address 0x60 in deref.
	DerefPIE = Spec{Name: "deref-x86_64-pie", Source: "deref.c", CFlags: []string{"-O0", "-g", "-fPIE", "-pie"}}
	// DerefNoPIE: deref.c, -O0 -g, fixed-address executable (load bias 0).
	DerefNoPIE = Spec{Name: "deref-x86_64-nopie", Source: "deref.c", CFlags: []string{"-O0", "-g", "-fno-pie", "-no-pie"}}
	// DerefO2NoFP: deref.c, -O2 without frame pointers: only CFI unwinds it.
	DerefO2NoFP = Spec{Name: "deref-x86_64-o2-nofp", Source: "deref.c", CFlags: []string{"-O2", "-g", "-fomit-frame-pointer"}}
	// DerefAArch64: deref.c cross-compiled for aarch64 (-O0 -g, PIE), run
	// under qemu-aarch64; shared libraries under AArch64Sysroot.
	DerefAArch64 = Spec{Name: "deref-aarch64-pie", Source: "deref.c", Arch: ArchAArch64, CFlags: []string{"-O0", "-g"}}

	// SigHandlerAArch64: sighandler.c for aarch64 (the guest signal frame
	// is qemu's rt_sigframe, laid out as the arm64 kernel's).
	SigHandlerAArch64 = Spec{Name: "sighandler-aarch64", Source: "sighandler.c", Arch: ArchAArch64}
	// AbortAArch64: abort.c for aarch64.
	AbortAArch64 = Spec{Name: "abort-aarch64", Source: "abort.c", Arch: ArchAArch64}
	// StaticAArch64: static.c for aarch64, -O1 -g -static.
	StaticAArch64 = Spec{Name: "static-aarch64", Source: "static.c", Arch: ArchAArch64, CFlags: []string{"-O1", "-g", "-static"}}
	// WildCallAArch64: wildcall.c for aarch64 (PC 0, caller in x30).
	WildCallAArch64 = Spec{Name: "wildcall-aarch64", Source: "wildcall.c", Arch: ArchAArch64}

	// DerefI386: deref.c built with gcc -m32 (-O0 -g, PIE), run natively: the kernel
	// writes an i386 core.
	DerefI386 = Spec{Name: "deref-i386-pie", Source: "deref.c", Arch: ArchI386}
	// DerefI386O2: deref.c for i386 at -O2 without frame pointers.
	DerefI386O2 = Spec{Name: "deref-i386-o2-nofp", Source: "deref.c", Arch: ArchI386, CFlags: []string{"-O2", "-g", "-fomit-frame-pointer"}}
	// SigHandlerI386: sighandler.c for i386 (signal() installs the handler without
	// SA_SIGINFO: glibc's sigreturn frame).
	SigHandlerI386 = Spec{Name: "sighandler-i386", Source: "sighandler.c", Arch: ArchI386}
	// RecurseI386: recurse.c for i386, a stack overflow.
	RecurseI386 = Spec{Name: "recurse-i386", Source: "recurse.c", Arch: ArchI386}

	// GoCrashI386 and GoGoroutinesI386: crash.go and goroutines.go built with
	// GOARCH=386 and run natively (GOTRACEBACK=crash).
	GoCrashI386      = Spec{Name: "gocrash-i386", Source: "crash.go", Arch: ArchI386, Env: []string{"GOTRACEBACK=crash"}}
	GoGoroutinesI386 = Spec{Name: "gogoroutines-i386", Source: "goroutines.go", Arch: ArchI386, Env: []string{"GOTRACEBACK=crash"}}

	// DerefPPC64LE, DerefS390X and DerefARM: deref.c cross-compiled (-O0 -g) and run
	// under qemu-user, which writes the guest's core (no NT_SIGINFO, no NT_FILE).
	DerefPPC64LE = Spec{Name: "deref-ppc64le", Source: "deref.c", Arch: ArchPPC64LE}
	DerefS390X   = Spec{Name: "deref-s390x", Source: "deref.c", Arch: ArchS390X}
	DerefARM     = Spec{Name: "deref-arm", Source: "deref.c", Arch: ArchARM}
	// DerefARMA32 and DerefARMA32O2: deref.c for 32-bit ARM in A32 (-marm; the cross
	// compiler's default, and DerefARM's, is Thumb-2), -O0 and -O2.
	DerefARMA32   = Spec{Name: "deref-arm-a32", Source: "deref.c", Arch: ArchARM, CFlags: []string{"-O0", "-g", "-marm"}}
	DerefARMA32O2 = Spec{Name: "deref-arm-a32-o2", Source: "deref.c", Arch: ArchARM, CFlags: []string{"-O2", "-g", "-marm"}}
	// DerefARMO2: deref.c in the default Thumb-2 at -O2.
	DerefARMO2 = Spec{Name: "deref-arm-o2", Source: "deref.c", Arch: ArchARM, CFlags: []string{"-O2", "-g"}}
	// DerefPPC64LEO2 and DerefS390XO2: the same at -O2, where the faulting load's base
	// register is p's DWARF location (r3, r2) rather than a reload of its stack slot.
	DerefPPC64LEO2 = Spec{Name: "deref-ppc64le-o2", Source: "deref.c", Arch: ArchPPC64LE, CFlags: []string{"-O2", "-g"}}
	DerefS390XO2   = Spec{Name: "deref-s390x-o2", Source: "deref.c", Arch: ArchS390X, CFlags: []string{"-O2", "-g"}}
	// SigHandlerPPC64LE and SigHandlerS390X: sighandler.c for ppc64le and s390x under
	// qemu-user, which returns from the handler through its own trampoline page (qemu 7.2
	// has no vDSO for either). Not position-independent, so that gdb-multiarch, which
	// does not relocate a PIE in a qemu core, symbolizes them too.
	SigHandlerPPC64LE = Spec{Name: "sighandler-ppc64le", Source: "sighandler.c", Arch: ArchPPC64LE, CFlags: []string{"-O0", "-g", "-no-pie"}}
	SigHandlerS390X   = Spec{Name: "sighandler-s390x", Source: "sighandler.c", Arch: ArchS390X, CFlags: []string{"-O0", "-g", "-no-pie"}}
	// SigHandlerPPC64LEO2 and SigHandlerS390XO2: the same at -O2 (send_usr1 tail-calls
	// raise on s390x).
	SigHandlerPPC64LEO2 = Spec{Name: "sighandler-ppc64le-o2", Source: "sighandler.c", Arch: ArchPPC64LE, CFlags: []string{"-O2", "-g", "-no-pie"}}
	SigHandlerS390XO2   = Spec{Name: "sighandler-s390x-o2", Source: "sighandler.c", Arch: ArchS390X, CFlags: []string{"-O2", "-g", "-no-pie"}}
	// SigHandlerS390XSigInfo: with SA_SIGINFO, s390x's rt_sigframe ("svc 173").
	SigHandlerS390XSigInfo = Spec{Name: "sighandler-s390x-siginfo", Source: "sighandler.c", Arch: ArchS390X, CFlags: []string{"-O2", "-g", "-no-pie", "-DHANDLER_FLAGS=SA_SIGINFO"}}
	// DerefRISCV64 and DerefRISCV64O2: deref.c for riscv64 at -O0 and -O2 (-g), run under
	// qemu-riscv64; the core is written from gdb-multiarch's view over qemu's gdbstub
	// (no NT_SIGINFO), with NT_FILE from the guest's /proc/self/maps.
	DerefRISCV64   = Spec{Name: "deref-riscv64", Source: "deref.c", Arch: ArchRISCV64}
	DerefRISCV64O2 = Spec{Name: "deref-riscv64-o2", Source: "deref.c", Arch: ArchRISCV64, CFlags: []string{"-O2", "-g"}}
	// RecurseRISCV64: recurse.c for riscv64, a stack overflow (the gdbstub core's
	// helper calls run above the exhausted sp, and the stack is put back as it was).
	RecurseRISCV64 = Spec{Name: "recurse-riscv64", Source: "recurse.c", Arch: ArchRISCV64}
	// SigHandlerRISCV64: sighandler.c for riscv64 (qemu's rt_sigframe, laid out as the
	// kernel's, returning to its sigtramp page: li a7, 139; ecall).
	SigHandlerRISCV64 = Spec{Name: "sighandler-riscv64", Source: "sighandler.c", Arch: ArchRISCV64}
	// SigHandlerARM: sighandler.c for 32-bit ARM (glibc's Thumb-2 sigreturn restorer).
	SigHandlerARM = Spec{Name: "sighandler-arm", Source: "sighandler.c", Arch: ArchARM}
	// RecurseARM: recurse.c for 32-bit ARM, a stack overflow: qemu-arm puts a PROT_NONE
	// guard page below the 8 MiB stack, and the sp is in it. Not position-independent, so
	// that gdb-multiarch reads it too.
	RecurseARM = Spec{Name: "recurse-arm", Source: "recurse.c", Arch: ArchARM, CFlags: []string{"-O0", "-g", "-no-pie"}}

	// Abort: abort() in do_abort; SIGABRT.
	Abort = Spec{Name: "abort-x86_64", Source: "abort.c"}
	// Assert: failing assert in check_value; SIGABRT with an assertion message.
	Assert = Spec{Name: "assert-x86_64", Source: "assert.c"}
	// KillQuit: killme.c killed by SIGQUIT sent from the test process.
	KillQuit = Spec{Name: "killme-quit-x86_64", Source: "killme.c", KillWith: syscall.SIGQUIT}
	// KillSegv: killme.c killed by SIGSEGV sent with kill(2) (SI_USER, so
	// it has a sender pid and no fault address).
	KillSegv = Spec{Name: "killme-segv-x86_64", Source: "killme.c", KillWith: syscall.SIGSEGV}
	// Threads20: 21 threads in three groups; NULL read in crash_main.
	Threads20 = Spec{Name: "threads20-x86_64", Source: "threads20.c"}
	// Recurse: stack overflow by unbounded recursion.
	Recurse = Spec{Name: "recurse-x86_64", Source: "recurse.c"}
	// SigHandler: NULL write inside a SIGUSR1 handler (signal frame on stack).
	SigHandler = Spec{Name: "sighandler-x86_64", Source: "sighandler.c"}
	// RseqClobber: rseqclobber.c overwrites the thread's rseq area and sleeps, so the
	// kernel's rseq check sends SIGSEGV SI_KERNEL. RseqClobberHandler does it inside a
	// SIGSEGV handler, after a write to a read-only page.
	RseqClobber        = Spec{Name: "rseqclobber-x86_64", Source: "rseqclobber.c"}
	RseqClobberHandler = Spec{Name: "rseqclobber-handler-x86_64", Source: "rseqclobber.c", Args: []string{"handler"}}
	// RseqClobberI386: rseqclobber.c for i386 (the area's rseq_cs is still 64 bits).
	RseqClobberI386 = Spec{Name: "rseqclobber-i386", Source: "rseqclobber.c", Arch: ArchI386}
	// SSEMisaligned: sse_misaligned.c, movaps to an address 8 bytes off 16-byte alignment
	// (SIGSEGV SI_KERNEL); SSEMisalignedStack calls printf with a misaligned stack.
	SSEMisaligned      = Spec{Name: "sse-misaligned-x86_64", Source: "sse_misaligned.c"}
	SSEMisalignedStack = Spec{Name: "sse-misaligned-stack-x86_64", Source: "sse_misaligned.c", Args: []string{"stack"}}
	// Throw: uncaught C++ exception from an inlined chain (-O2 -g).
	Throw = Spec{Name: "throw-x86_64-o2", Source: "throw.cc", CFlags: []string{"-O2", "-g"}}
	// Static: statically linked NULL+0x60 read.
	Static = Spec{Name: "static-x86_64", Source: "static.c", CFlags: []string{"-O1", "-g", "-static"}}
	// DivZero: integer division by zero; SIGFPE FPE_INTDIV.
	DivZero = Spec{Name: "divzero-x86_64", Source: "divzero.c"}
	// Trap: __builtin_trap (ud2); SIGILL ILL_ILLOPN.
	Trap = Spec{Name: "trap-x86_64", Source: "trap.c"}
	// WildCall: call through a NULL function pointer; PC 0.
	WildCall = Spec{Name: "wildcall-x86_64", Source: "wildcall.c"}
	// Rodata: write to a string literal; SEGV_ACCERR.
	Rodata = Spec{Name: "rodata-x86_64", Source: "rodata.c"}
	// HeapCorrupt: double free detected by glibc's tcache; SIGABRT.
	HeapCorrupt = Spec{Name: "heapcorrupt-x86_64", Source: "heapcorrupt.c"}
	// GoCrash: Go nil dereference at offset 0x60 with GOTRACEBACK=crash.
	GoCrash = Spec{Name: "gocrash-x86_64", Source: "crash.go", Env: []string{"GOTRACEBACK=crash"}}
	// GoCrashAArch64: crash.go built for arm64 and run under qemu-aarch64.
	GoCrashAArch64 = Spec{Name: "gocrash-aarch64", Source: "crash.go", Arch: ArchAArch64, Env: []string{"GOTRACEBACK=crash"}}

	// GoGoroutines: goroutines.go, parked goroutines then a nil dereference
	// (GOTRACEBACK=crash, so stderr holds the runtime's traceback of every
	// goroutine).
	GoGoroutines = Spec{Name: "gogoroutines-x86_64", Source: "goroutines.go", Env: []string{"GOTRACEBACK=crash"}}
	// GoGoroutinesAArch64: goroutines.go for arm64 under qemu-aarch64.
	GoGoroutinesAArch64 = Spec{Name: "gogoroutines-aarch64", Source: "goroutines.go", Arch: ArchAArch64, Env: []string{"GOTRACEBACK=crash"}}
	// GoCrashARM: crash.go for 32-bit ARM (GOARCH=arm: Go's code is A32) under qemu-arm.
	GoCrashARM = Spec{Name: "gocrash-arm", Source: "crash.go", Arch: ArchARM, Env: []string{"GOTRACEBACK=crash"}}
	// GoGoroutinesARM: goroutines.go for 32-bit ARM (GOARCH=arm, GOARM's default) under
	// qemu-arm.
	GoGoroutinesARM = Spec{Name: "gogoroutines-arm", Source: "goroutines.go", Arch: ArchARM, Env: []string{"GOTRACEBACK=crash"}}

	// RustPanic: panic.rs built with -C panic=abort: an index out of bounds
	// aborts the process (SIGABRT).
	RustPanic = Spec{Name: "rustpanic-x86_64", Source: "panic.rs", CFlags: []string{"-g", "-C", "opt-level=0", "-C", "panic=abort"}}

	// Threads6Py: threads6.py under pyenv CPython 3.12.1.
	Threads6Py = PythonSpec("threads6.py", "3.12.1")
	// AbortPy: abort.py (os.abort) under pyenv CPython 3.12.1.
	AbortPy = PythonSpec("abort.py", "3.12.1")
	// AtexitPy: atexit_crash.py under pyenv CPython 3.12.1.
	AtexitPy = PythonSpec("atexit_crash.py", "3.12.1")
	// FinalizePy: finalize_crash.py under pyenv CPython 3.12.1.
	FinalizePy = PythonSpec("finalize_crash.py", "3.12.1")

	// PySelfI386: pyself.py under Debian's i386 CPython 3.11 (libpython3.11:i386 in an
	// interpreter testcore builds with gcc -m32): the kernel writes an i386 core.
	PySelfI386 = Spec{Name: "pyself-i386-py3.11", Source: "pyself.py", Arch: ArchI386, Python: I386LibPython311}
	// Threads6I386: threads6.py under the same i386 CPython 3.11.
	Threads6I386 = Spec{Name: "threads6-i386-py3.11", Source: "threads6.py", Arch: ArchI386, Python: I386LibPython311}

	// PySelfPPC64LE, PySelfS390X and PySelfARM: pyself.py under Debian's CPython 3.11 of
	// ppc64el, s390x and armhf (libpython3.11:ARCH in an interpreter testcore builds with
	// the cross compiler), run under qemu-user, which writes the core.
	PySelfPPC64LE = Spec{Name: "pyself-ppc64le-py3.11", Source: "pyself.py", Arch: ArchPPC64LE, Python: PPC64LELibPython311}
	PySelfS390X   = Spec{Name: "pyself-s390x-py3.11", Source: "pyself.py", Arch: ArchS390X, Python: S390XLibPython311}
	PySelfARM     = Spec{Name: "pyself-arm-py3.11", Source: "pyself.py", Arch: ArchARM, Python: ARMLibPython311}
	// Threads6PPC64LE, Threads6S390X and Threads6ARM: threads6.py under the same
	// interpreters: a NULL+0x60 read in ctypes.string_at with six other Python threads.
	Threads6PPC64LE = Spec{Name: "threads6-ppc64le-py3.11", Source: "threads6.py", Arch: ArchPPC64LE, Python: PPC64LELibPython311}
	Threads6S390X   = Spec{Name: "threads6-s390x-py3.11", Source: "threads6.py", Arch: ArchS390X, Python: S390XLibPython311}
	Threads6ARM     = Spec{Name: "threads6-arm-py3.11", Source: "threads6.py", Arch: ArchARM, Python: ARMLibPython311}
)

// Catalog lists every catalogue spec.
func Catalog() []Spec {
	return []Spec{DerefPIE, DerefNoPIE, DerefO2NoFP, DerefAArch64, SigHandlerAArch64,
		AbortAArch64, StaticAArch64, WildCallAArch64, Abort, Assert, KillQuit,
		KillSegv, Threads20, Recurse, SigHandler, RseqClobber, RseqClobberHandler, SSEMisaligned, SSEMisalignedStack, Throw, Static, DivZero, Trap, WildCall,
		Rodata, HeapCorrupt, GoCrash, GoCrashAArch64, RustPanic, Threads6Py, AbortPy, AtexitPy, FinalizePy}
}

// PythonSpec is the spec of a Python crasher script under the pyenv CPython
// of the given full version, named "<script stem>-py<version>".
func PythonSpec(script, version string) Spec {
	stem := script
	if n := len(stem); n > 3 && stem[n-3:] == ".py" {
		stem = stem[:n-3]
	}
	return Spec{Name: stem + "-py" + version, Source: script, Python: PyenvPython(version)}
}

// PyenvVersions are the pyenv CPython 3 versions installed on the project's
// machines (see the machine description); threads6.py supports all of them.
var PyenvVersions = []string{"3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"}
