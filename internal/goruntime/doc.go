// Package goruntime reads the state of a Go program's runtime out of the memory of a
// process (normally an ELF core): every goroutine with its state, wait reason, the OS
// thread running it and the register context its stack is unwound from, the Go version,
// and the fault the runtime recorded in a goroutine that panicked from a signal.
//
// It imports no other coredig package but internal/arch. The process is read through
// Process: memory (ReadAt), the mapped ELF modules (their files and symbols) and the start
// of the function that contains a pc. Unwinding and symbolizing a goroutine's stack are
// left to the caller, which owns an unwinder: Context gives the registers to start from.
//
// How:
//
//   - Find looks for the runtime only in a module the Go linker built (one with a
//     .go.buildinfo section, Go 1.18+, or .gopclntab), so that other programs never load
//     a module's symbol table for nothing; the module must define runtime.allgs.
//
//   - The layouts of runtime.g, runtime.gobuf, runtime.m and runtime._panic (member
//     offsets; _panic's startPC and startSP, read in Go 1.26, are optional) and the
//     length of runtime.waitReasonStrings come from that module's DWARF, in one pass
//     (Find fails when g lacks goid, atomicstatus, sched, _panic, sig, sigcode0,
//     sigcode1 or sigpc, or gobuf lacks sp or pc). g.waitreason, g.m, m.procid,
//     gobuf.bp and gobuf.lr are optional.
//
//   - Goroutines reads runtime.allgs, a []*g (pointer, length, capacity), and each g:
//     goid, atomicstatus, sched, waitreason, m.procid, sig, sigcode0, sigcode1, sigpc and
//     _panic. A g whose status cannot be read is skipped; other unreadable fields read as
//     zero.
//
//   - A goroutine's saved context is g.sched (runtime.gobuf): pc, sp, bp (the frame
//     pointer), lr (the link register on arm64). g.sched.pc is where the goroutine will
//     resume: a return address (after the call into mcall or gosave), unless it is a
//     function's entry (a goroutine that never ran: proc.go newproc1 and sys_x86.go /
//     sys_arm64.go gostartcall set sched.pc to its function's entry, with goexit's pc
//     as the return address).
//     A running goroutine's g.sched is stale; its stack is its thread's.
//
//   - Fault picks the goroutine that is panicking from a signal: g.sig is set and
//     g._panic is not nil; when the caller's unwinder reached runtime.sigpanic, the
//     faulting pc it found must equal g.sigpc.
//
//   - What a parked goroutine waits on (wait.go): a semaphore, from the treaps of
//     runtime.semtable, mapped back to its sync.Mutex or sync.RWMutex; the channels of
//     its g.waiting sudogs; its deferred calls (g._defer). These layouts are read from the
//     DWARF in a second pass, only when asked for.
//
// Bounds: len(runtime.allgs) above MaxGoroutines is refused as not believable; a Go
// string (the version, a wait reason) is read only when its length is 1 to 256 bytes; a
// wait reason index at or beyond len(runtime.waitReasonStrings) reads as "".
//
// Sources, from the Go tree (src/runtime unless named; wait.go cites its own):
//   - runtime2.go: type g (stack, _panic, m, sched, atomicstatus, goid, waitreason, sig,
//     sigcode0, sigcode1, sigpc), type gobuf (sp, pc, g, ctxt, lr, bp), type m (procid),
//     and the _G* states: _Gidle 0, _Grunnable 1, _Grunning 2, _Gsyscall 3, _Gwaiting 4,
//     _Gmoribund_unused 5, _Gdead 6, _Genqueue_unused 7, _Gcopystack 8, _Gpreempted 9,
//     and the _Gscan bit 0x1000 or-ed into a state while the GC scans the stack. States
//     this package does not name (5, 7, and Go 1.26's _Gleaked 10 and _Gdeadextra 11)
//     are shown as "status N". runtime2.go's waitReasonStrings is indexed by g.waitreason
//     (a uint8, type waitReason).
//   - signal_unix.go: sighandler records a synchronous signal in the goroutine
//     (gp.sig = sig, gp.sigcode0 = si_code, gp.sigcode1 = the fault address,
//     gp.sigpc = the faulting pc) before it injects the call to sigpanic (signal_amd64.go
//     and signal_arm64.go preparePanic); sigpanic panics, and panic.go dopanic_m
//     prints them as "[signal SIGSEGV: segmentation violation code=... addr=...
//     pc=...]", to stderr only.
//   - traceback.go: the runtime's own traceback (GOTRACEBACK=crash) starts the stack of
//     a goroutine that is not running at gp.sched.pc, sp and lr (unwinder.initAt), the
//     context Context returns; for one in a system call it starts at g.syscallpc and
//     g.syscallsp instead, which this package does not read.
package goruntime
