// Package hangs explains why the threads of a process do not make progress: for each
// thread, what it waits for (the system call it is blocked in, with its arguments
// decoded, and the lock behind it), who holds that lock, the wait-for graph across the
// threads, and one diagnosis of the whole process: "deadlock" (a cycle in the graph),
// "orphaned_lock" (a lock whose owner is no thread of the process: held across fork(),
// or its owner exited without unlocking), "gil_held" (one thread keeps CPython's GIL in
// native code while others wait for it) or "blocked" (the chain of waits ends at a thread
// that waits on something outside the process: a read, a child, a sleep; not an event
// loop waiting for work in epoll_wait, select or a poll of many descriptors, which is an
// idle server).
//
// How: a thread is in a system call when the instruction that ends at its pc is the
// architecture's system call instruction and the number register holds a known call
// (arch.SyscallABI; the kernel's core of a thread blocked in a call shows the pc after
// the instruction, the number in orig_rax or x8) and the result register holds the
// code of a call the signal interrupted (-ERESTARTSYS and its kin, or -EINTR, in rax or
// x0): a call that had completed, caught on its way back to user space, holds its
// result there instead, and that thread was running. A futex wait is then told apart by the native frames around it:
// glibc's pthread_mutex_lock and __lll_lock_wait (the futex word is the mutex's __lock,
// the owner's tid is in __owner, or in the word itself for robust and priority-inheriting
// mutexes), pthread_rwlock_*lock (the writer's tid is __cur_writer), pthread_cond_*wait
// and sem_*wait (no owner), pthread_join (the futex word is the joined thread's tid),
// CPython's take_gil (the holder is the interpreter's GIL holder, found by package
// python) and PyThread_acquire_lock_timed (a threading.Lock or RLock; an RLock's owner is
// its rlock_owner, a pthread_t, found by looking on the waiting thread's stack for the
// RLock object whose lock is the semaphore waited on). A thread on the CPU inside
// take_gil, between two of its 5 ms timed waits, waits for the GIL too. Nothing needs debug symbols: the
// exported and GLIBC_PRIVATE symbols of libc name the frames, and the layouts come from
// the glibc and CPython headers below.
//
// A Go program's goroutines get the same treatment (goroutines.go, ExplainGo): the caller
// says what each parked goroutine waits on (a sync.Mutex, a sync.RWMutex, channels, from
// package goruntime); a sync.Mutex records no owner, so its holder is inferred from the
// pending deferred Unlock bound to it on a goroutine's stack or g._defer list; the
// diagnosis is a cycle of goroutines, or, without holders, the Go runtime's own
// "all goroutines are asleep" rule.
//
// Bounds: every read of the process's memory is a small fixed size; the stack search for
// a Python lock object looks at most MaxStackWords words; the graph has one edge per
// thread, so following it is linear.
//
// Sources, for goroutines: Go 1.26 src/runtime/proc.go checkdead (the all-asleep rule),
// cmd/compile's wrapping of `defer f(x)` into a closure (the deferwrap functions, whose
// captured variables follow the code pointer). For threads: glibc 2.36 sysdeps/nptl/bits/struct_mutex.h, sysdeps/x86/nptl/bits/
// struct_rwlock.h, nptl/pthread_mutex_lock.c, nptl/lowlevellock.c (__lll_lock_wait waits
// on the mutex word itself), nptl/pthread_mutex_conf.h and sysdeps/nptl/pthread.h (kinds:
// PTHREAD_MUTEX_ROBUST_NORMAL_NP 16, PTHREAD_MUTEX_PRIO_INHERIT_NP 32,
// PTHREAD_MUTEX_PRIO_PROTECT_NP 64, PTHREAD_MUTEX_PSHARED_BIT 128), nptl/sem_waitcommon.c
// (a 64-bit sem_t's futex word is its first word), nptl/pthread_join_common.c (the joiner
// waits on the joined thread's tid); linux include/uapi/linux/futex.h (operations,
// FUTEX_PRIVATE_FLAG 128, FUTEX_CLOCK_REALTIME 256, FUTEX_WAITERS 0x80000000,
// FUTEX_OWNER_DIED 0x40000000, FUTEX_TID_MASK 0x3fffffff); CPython 3.8-3.13
// Modules/_threadmodule.c (lockobject and rlockobject: PyObject_HEAD, then the
// PyThread_type_lock at 16 and, for an RLock, rlock_owner at 24 and rlock_count at 32)
// and Python/ceval_gil.c (take_gil).
package hangs
