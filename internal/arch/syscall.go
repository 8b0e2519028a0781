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
	208: "io_getevents", 220: "semtimedop", 230: "clock_nanosleep", 232: "epoll_wait",
	247: "waitid", 257: "openat", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait",
	288: "accept4", 299: "recvmmsg", 318: "getrandom", 441: "epoll_pwait2", 449: "futex_waitv",
}

// arm64Syscalls are the asm-generic numbers (include/uapi/asm-generic/unistd.h) aarch64
// uses; it has no poll, select, pause or epoll_wait.
var arm64Syscalls = map[int]string{
	4: "io_getevents", 22: "epoll_pwait", 25: "fcntl", 29: "ioctl", 32: "flock", 56: "openat",
	57: "close", 63: "read", 64: "write", 65: "readv", 66: "writev", 67: "pread64",
	68: "pwrite64", 72: "pselect6", 73: "ppoll", 82: "fsync", 95: "waitid", 98: "futex",
	101: "nanosleep", 115: "clock_nanosleep", 124: "sched_yield", 133: "rt_sigsuspend",
	137: "rt_sigtimedwait", 188: "msgrcv", 189: "msgsnd", 192: "semtimedop", 193: "semop",
	202: "accept", 203: "connect", 206: "sendto", 207: "recvfrom", 211: "sendmsg",
	212: "recvmsg", 242: "accept4", 243: "recvmmsg", 260: "wait4", 278: "getrandom",
	441: "epoll_pwait2", 449: "futex_waitv",
}

// amd64Syscall: "syscall" is 0f 05; the kernel ABI passes arguments in rdi, rsi, rdx,
// r10, r8, r9 (psABI A.2.1) and keeps the number in orig_rax.
var amd64Syscall = SyscallABI{Inst: []byte{0x0f, 0x05}, Nr: "orig_rax",
	Args: []string{"rdi", "rsi", "rdx", "r10", "r8", "r9"}, Ret: "rax", Names: amd64Syscalls}

// arm64Syscall: "svc #0" is d4000001 (little-endian 01 00 00 d4); the number is in x8,
// the arguments in x0..x5 and the result in x0 (syscall(2)).
var arm64Syscall = SyscallABI{Inst: []byte{0x01, 0x00, 0x00, 0xd4}, Nr: "x8",
	Args: []string{"x0", "x1", "x2", "x3", "x4", "x5"}, Ret: "x0", Names: arm64Syscalls}

// amd64Pthread: x86_64 has __nusers at 12 before __kind and __cur_writer after the pads.
var amd64Pthread = PthreadLayout{MutexLock: 0, MutexCount: 4, MutexOwner: 8, MutexKind: 16,
	RwlockCurWriter: 24, RwlockFutexes: []int{0, 8, 12}, RwlockFlags: 48, RwlockFlagsSize: 4, SelfIsTP: true}

// arm64Pthread: the generic 64-bit layout puts __nusers at 12 too; the generic rwlock
// has __flags (one byte) at 24 and __cur_writer at 28.
var arm64Pthread = PthreadLayout{MutexLock: 0, MutexCount: 4, MutexOwner: 8, MutexKind: 16,
	RwlockCurWriter: 28, RwlockFutexes: []int{0, 8, 12}, RwlockFlags: 24, RwlockFlagsSize: 1}
