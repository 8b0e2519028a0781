package arch

import "bytes"

// SyscallABI is how a thread's registers show the system call it is blocked in, as the
// kernel leaves them in a core: the pc just after the system call instruction, the call's
// number in Nr and its arguments in Args.
type SyscallABI struct {
	// Inst is the system call instruction; a thread is in a call when the bytes ending at
	// its pc are these.
	Inst []byte
	// Nr names the register that keeps the call's number while the kernel runs it
	// (x86_64 orig_rax, aarch64 x8).
	Nr string
	// Args are the argument registers in order (the kernel ABI, not the C one).
	Args []string
	// Ret is the register of the result; when it is Args[0] (aarch64 x0) the first
	// argument is lost once the call returned, as an interrupted call has.
	Ret string
	// Names maps a call number to its name (the calls a blocked thread is seen in).
	Names map[int]string
	// Time64 are the call numbers whose struct timespec has 64-bit fields where longs are
	// 32-bit; nil on 64-bit machines, where every timespec has 64-bit fields.
	Time64 map[int]bool
	// Sigreturn are the calls that return from a signal handler, by number, where the
	// kernel answers a frame it cannot read with SIGSEGV and si_code SI_KERNEL, leaving the
	// number in Nr (nil elsewhere: arm64 kernels report such a frame in ways that differ
	// between versions, and it is not recognised there).
	Sigreturn map[int]SigreturnCall
}

// SigreturnCall is a system call that restores a signal frame: the kernel reads the frame
// at sp - Below, Size bytes of it before it changes any register
// (arch/x86/kernel/signal_64.c sys_rt_sigreturn, arch/x86/kernel/signal_32.c).
type SigreturnCall struct {
	Name        string
	Below, Size uint64
}

// PthreadLayout gives glibc's NPTL structure offsets that differ between architectures
// (glibc 2.36 sysdeps/nptl/bits/struct_mutex.h, sysdeps/x86/nptl/bits/struct_rwlock.h
// and sysdeps/nptl/bits/struct_rwlock.h). The layouts are stable ABI: static
// initializers depend on them.
type PthreadLayout struct {
	// MutexLock (__lock, the futex word), MutexCount (__count), MutexOwner (__owner,
	// the owner's tid), MutexKind (__kind) inside struct __pthread_mutex_s.
	MutexLock, MutexCount, MutexOwner, MutexKind int
	// RwlockCurWriter is __cur_writer inside struct __pthread_rwlock_arch_t (the tid of
	// the writer holding it); RwlockFutexes are the offsets of the futex words a waiter
	// sleeps on (__readers, __wrphase_futex, __writers_futex).
	RwlockCurWriter int
	RwlockFutexes   []int
	// RwlockFlags is __flags (the reader/writer preference, 0..2).
	RwlockFlags, RwlockFlagsSize int
	// SelfIsTP: pthread_self() is the thread pointer (x86_64: %fs points at struct
	// pthread, TLS_TCB_AT_TP); false where the thread pointer sits after struct pthread,
	// whose size varies by glibc version (aarch64, TLS_DTV_AT_TP).
	SelfIsTP bool
}

// InSyscall reports whether code, the bytes that end at a thread's pc, is the system
// call instruction.
func (s *SyscallABI) InSyscall(code []byte) bool {
	return len(s.Inst) > 0 && bytes.HasSuffix(code, s.Inst)
}

// amd64Syscalls are the x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl) of the
// calls a blocked thread is seen in.
var amd64Syscalls = map[int]string{
	0: "read", 1: "write", 2: "open", 3: "close", 7: "poll", 16: "ioctl", 17: "pread64",
	18: "pwrite64", 19: "readv", 20: "writev", 23: "select", 24: "sched_yield", 34: "pause",
	35: "nanosleep", 42: "connect", 43: "accept", 44: "sendto", 45: "recvfrom", 46: "sendmsg",
	47: "recvmsg", 61: "wait4", 65: "semop", 69: "msgsnd", 70: "msgrcv", 72: "fcntl",
	73: "flock", 74: "fsync", 128: "rt_sigtimedwait", 130: "rt_sigsuspend", 202: "futex",
	208: "io_getevents", 219: "restart_syscall", 220: "semtimedop", 230: "clock_nanosleep", 232: "epoll_wait",
	247: "waitid", 257: "openat", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait",
	288: "accept4", 299: "recvmmsg", 318: "getrandom", 441: "epoll_pwait2", 449: "futex_waitv",
}

// arm64Syscalls are the asm-generic numbers (include/uapi/asm-generic/unistd.h) aarch64
// uses; it has no poll, select, pause or epoll_wait.
var arm64Syscalls = map[int]string{
	4: "io_getevents", 22: "epoll_pwait", 25: "fcntl", 29: "ioctl", 32: "flock", 56: "openat",
	57: "close", 63: "read", 64: "write", 65: "readv", 66: "writev", 67: "pread64",
	68: "pwrite64", 72: "pselect6", 73: "ppoll", 82: "fsync", 95: "waitid", 98: "futex",
	101: "nanosleep", 115: "clock_nanosleep", 124: "sched_yield", 128: "restart_syscall", 133: "rt_sigsuspend",
	137: "rt_sigtimedwait", 188: "msgrcv", 189: "msgsnd", 192: "semtimedop", 193: "semop",
	202: "accept", 203: "connect", 206: "sendto", 207: "recvfrom", 211: "sendmsg",
	212: "recvmsg", 242: "accept4", 243: "recvmmsg", 260: "wait4", 278: "getrandom",
	441: "epoll_pwait2", 449: "futex_waitv",
}

// i386Syscalls are the i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl) of the calls a
// blocked thread is seen in. The *_time64 calls of 32-bit glibc (2.34 and later use them
// where a timeout is passed) take the same arguments with a 64-bit struct timespec; they
// carry the classic name, with the timespec width from i386Time64.
var i386Syscalls = map[int]string{
	3: "read", 4: "write", 5: "open", 6: "close", 29: "pause", 54: "ioctl", 55: "fcntl",
	114: "wait4", 118: "fsync", 143: "flock", 145: "readv", 146: "writev", 158: "sched_yield",
	162: "nanosleep", 168: "poll", 177: "rt_sigtimedwait", 179: "rt_sigsuspend", 180: "pread64",
	181: "pwrite64", 221: "fcntl", 240: "futex", 247: "io_getevents", 256: "epoll_wait",
	265: "clock_nanosleep", 284: "waitid", 295: "openat", 308: "pselect6", 309: "ppoll",
	319: "epoll_pwait", 337: "recvmmsg", 355: "getrandom", 362: "connect", 364: "accept4",
	369: "sendto", 371: "recvfrom", 370: "sendmsg", 372: "recvmsg", 400: "msgsnd", 401: "msgrcv",
	407: "clock_nanosleep", 413: "pselect6", 414: "ppoll", 417: "recvmmsg", 420: "semtimedop",
	421: "rt_sigtimedwait", 422: "futex", 441: "epoll_pwait2", 449: "futex_waitv",
}

// i386Time64 are the i386 call numbers whose timeout is a 64-bit struct __kernel_timespec;
// the others take the 32-bit struct old_timespec32.
var i386Time64 = map[int]bool{407: true, 413: true, 414: true, 417: true, 420: true, 421: true, 422: true}

// amd64Syscall: "syscall" is 0f 05; the kernel ABI passes arguments in rdi, rsi, rdx,
// r10, r8, r9 (psABI A.2.1) and keeps the number in orig_rax.
// rt_sigreturn (15) reads struct rt_sigframe at rsp-8 (the restorer's return popped its
// pretcode), through uc_sigmask: pretcode, uc_flags, uc_link, uc_stack (24), uc_mcontext
// (256) and uc_sigmask, 312 bytes.
var amd64Syscall = SyscallABI{Inst: []byte{0x0f, 0x05}, Nr: "orig_rax",
	Args: []string{"rdi", "rsi", "rdx", "r10", "r8", "r9"}, Ret: "rax", Names: amd64Syscalls,
	Sigreturn: map[int]SigreturnCall{15: {Name: "rt_sigreturn", Below: 8, Size: 312}}}

// arm64Syscall: "svc #0" is d4000001 (little-endian 01 00 00 d4); the number is in x8,
// the arguments in x0..x5 and the result in x0 (syscall(2)).
var arm64Syscall = SyscallABI{Inst: []byte{0x01, 0x00, 0x00, 0xd4}, Nr: "x8",
	Args: []string{"x0", "x1", "x2", "x3", "x4", "x5"}, Ret: "x0", Names: arm64Syscalls}

// i386Syscall: glibc enters the kernel through the vDSO's __kernel_vsyscall (sysenter),
// and the kernel returns from it, as from a plain "int $0x80" (cd 80), to the landing pad
// just after that instruction (arch/x86/entry/entry_32.S, vdso32/system_call.S), so a
// blocked thread's eip follows cd 80 either way. The number stays in orig_eax, the
// arguments are in ebx, ecx, edx, esi, edi, ebp and the result in eax (syscall(2)).
// rt_sigreturn (173) reads struct rt_sigframe_ia32 at esp-4 through uc_sigmask: pretcode,
// sig, pinfo, puc, the siginfo (128), uc_flags, uc_link, uc_stack (12), uc_mcontext (88)
// and uc_sigmask, 260 bytes; sigreturn (119) reads struct sigframe_ia32 at esp-8:
// pretcode, sig and the sigcontext (88), 96 bytes (arch/x86/ia32/ia32_signal.c, and
// arch/x86/kernel/signal_32.c since 5.19).
var i386Syscall = SyscallABI{Inst: []byte{0xcd, 0x80}, Nr: "orig_eax",
	Args: []string{"ebx", "ecx", "edx", "esi", "edi", "ebp"}, Ret: "eax", Names: i386Syscalls, Time64: i386Time64,
	Sigreturn: map[int]SigreturnCall{173: {Name: "rt_sigreturn", Below: 4, Size: 260}, 119: {Name: "sigreturn", Below: 8, Size: 96}}}

// amd64Pthread: x86_64 has __nusers at 12 before __kind and __cur_writer after the pads.
var amd64Pthread = PthreadLayout{MutexLock: 0, MutexCount: 4, MutexOwner: 8, MutexKind: 16,
	RwlockCurWriter: 24, RwlockFutexes: []int{0, 8, 12}, RwlockFlags: 48, RwlockFlagsSize: 4, SelfIsTP: true}

// i386Pthread: the 32-bit struct __pthread_mutex_s has __kind at 12, before __nusers; the
// x86 32-bit rwlock has __flags (one byte) at 24 and __cur_writer at 28. pthread_self()
// is the thread pointer, the base of %gs (TLS_TCB_AT_TP), which a core keeps only in
// NT_386_TLS.
var i386Pthread = PthreadLayout{MutexLock: 0, MutexCount: 4, MutexOwner: 8, MutexKind: 12,
	RwlockCurWriter: 28, RwlockFutexes: []int{0, 8, 12}, RwlockFlags: 24, RwlockFlagsSize: 1, SelfIsTP: true}

// arm64Pthread: the generic 64-bit layout puts __nusers at 12 too; the generic rwlock
// has __flags (one byte) at 24 and __cur_writer at 28.
var arm64Pthread = PthreadLayout{MutexLock: 0, MutexCount: 4, MutexOwner: 8, MutexKind: 16,
	RwlockCurWriter: 28, RwlockFutexes: []int{0, 8, 12}, RwlockFlags: 24, RwlockFlagsSize: 1}
