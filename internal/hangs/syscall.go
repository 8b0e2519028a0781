package hangs

import (
	"fmt"
	"strings"

	"github.com/coredig/coredig/internal/arch"
)

// Syscall is the system call a thread is blocked in.
type Syscall struct {
	Nr   int
	Name string
	Args [6]uint64
	// Ret is the result register when the core was written: -ERESTARTSYS (-512) or
	// -EINTR (-4) for a call interrupted by the fatal signal.
	Ret int64
	// Arg0Lost is set when the first argument's register also holds the result
	// (aarch64 x0), so Args[0] is no longer the argument.
	Arg0Lost bool
	// Restarted: the registers show restart_syscall, and Name is the call it restarts,
	// named by the C library function the thread is in (Restarted).
	Restarted bool
}

// Restarted names the call a thread in restart_syscall restarts. A call that sleeps
// with a timeout (poll, nanosleep and clock_nanosleep, a futex wait with a timeout)
// returns -ERESTART_RESTARTBLOCK when a signal or a ptrace stop interrupts it, and the
// kernel resumes it as restart_syscall (linux kernel/signal.c, fs/select.c
// do_restart_poll, kernel/time/hrtimer.c, kernel/futex/waitwake.c futex_wait_restart),
// with the other argument registers as the call left them: a process that was ever
// stopped (a snapshot, a debugger) shows it. The function the thread is in, innermost,
// names the call; false when it does not.
func (s *Syscall) Restart(frames []Frame) bool {
	if s.Name != "restart_syscall" || len(frames) == 0 {
		return false
	}
	fn := trimName(frames[0].Function)
	name := ""
	switch {
	case fn == "poll":
		name = "poll"
	case fn == "ppoll" || fn == "ppoll_time":
		name = "ppoll"
	case fn == "nanosleep", fn == "clock_nanosleep", fn == "sleep", fn == "usleep", fn == "thrd_sleep":
		name = "clock_nanosleep" // glibc 2.31+ sleeps with clock_nanosleep
	case fn == "futex" || strings.HasPrefix(fn, "futex_") || fn == "runtime.futex":
		name = "futex"
	default:
		return false
	}
	s.Name, s.Restarted = name, true
	return true
}

// SyscallOf returns the system call a thread with registers regs (in a.RegNames order) is
// in, given code, the bytes that end at its pc. ok is false when the thread is not in a
// system call (it was running, or stopped in user space).
func SyscallOf(a *arch.Arch, regs []uint64, code []byte) (Syscall, bool) {
	s := &a.Syscall
	if !s.InSyscall(code) {
		return Syscall{}, false
	}
	nrIdx := a.Reg(s.Nr)
	if nrIdx < 0 || nrIdx >= len(regs) {
		return Syscall{}, false
	}
	nr := int64(regs[nrIdx])
	name, known := s.Names[int(nr)]
	if !known || nr < 0 {
		return Syscall{}, false
	}
	out := Syscall{Nr: int(nr), Name: name, Arg0Lost: len(s.Args) > 0 && s.Args[0] == s.Ret}
	if j := a.Reg(s.Ret); j >= 0 && j < len(regs) {
		out.Ret = int64(regs[j])
		if a.PtrSize == 4 {
			out.Ret = int64(int32(regs[j])) // -ERESTARTSYS is 0xfffffe00 in a 32-bit eax
		}
	}
	// A call that had returned (the signal came as it went back to user space) leaves
	// its result: that thread was running, not waiting. A futex wait that just timed
	// out (-ETIMEDOUT, -110) is one turn of a wait loop such as take_gil's, which waits
	// again.
	if !interrupted(out.Ret) && !(name == "futex" && out.Ret == -110) {
		return Syscall{}, false
	}
	for i, r := range s.Args {
		if j := a.Reg(r); i < len(out.Args) && j >= 0 && j < len(regs) {
			out.Args[i] = regs[j]
		}
	}
	return out, true
}

// interrupted reports whether a result register shows a call the signal interrupted
// while it slept (linux include/linux/errno.h): -ERESTARTSYS (-512), -ERESTARTNOINTR
// (-513), -ERESTARTNOHAND (-514), -ERESTART_RESTARTBLOCK (-516), or -EINTR (-4) once
// the kernel converted one of them for a handler.
func interrupted(ret int64) bool {
	switch ret {
	case -4, -512, -513, -514, -516:
		return true
	}
	return false
}

// Futex operations and flags (linux include/uapi/linux/futex.h).
const (
	FUTEX_WAIT            = 0
	FUTEX_WAKE            = 1
	FUTEX_LOCK_PI         = 6
	FUTEX_WAIT_BITSET     = 9
	FUTEX_WAIT_REQUEUE_PI = 11
	FUTEX_LOCK_PI2        = 13
	FUTEX_PRIVATE_FLAG    = 128
	FUTEX_CLOCK_REALTIME  = 256
	FUTEX_CMD_MASK        = ^(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)

	FUTEX_WAITERS    = 0x80000000
	FUTEX_OWNER_DIED = 0x40000000
	FUTEX_TID_MASK   = 0x3fffffff
)

var futexOps = []string{"FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE",
	"FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI", "FUTEX_WAIT_BITSET",
	"FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI", "FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2"}

// FutexOpName names a futex operation word as strace does: "FUTEX_WAIT_PRIVATE",
// "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME".
func FutexOpName(op uint64) string {
	cmd := int(op) & FUTEX_CMD_MASK
	name := fmt.Sprintf("%#x", cmd)
	if cmd >= 0 && cmd < len(futexOps) {
		name = futexOps[cmd]
	}
	if op&FUTEX_PRIVATE_FLAG != 0 {
		name += "_PRIVATE"
	}
	if op&FUTEX_CLOCK_REALTIME != 0 {
		name += "|FUTEX_CLOCK_REALTIME"
	}
	return name
}

// FutexWait reports whether s waits on a futex word, and which: FUTEX_WAIT,
// FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_LOCK_PI and FUTEX_LOCK_PI2 block.
func (s Syscall) FutexWait() (addr uint64, cmd int, ok bool) {
	if s.Name != "futex" || s.Arg0Lost {
		return 0, 0, false
	}
	cmd = int(s.Args[1]) & FUTEX_CMD_MASK
	switch cmd {
	case FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_LOCK_PI, FUTEX_LOCK_PI2:
		return s.Args[0], cmd, true
	}
	return 0, 0, false
}

// external says what a blocking call other than a futex waits for outside the process:
// "input", "a child", "time", "a signal"; "" for a call that does not block for long.
func (s Syscall) external() string {
	switch s.Name {
	case "read", "readv", "pread64", "recvfrom", "recvmsg", "recvmmsg", "msgrcv", "io_getevents", "getrandom":
		return "input"
	case "write", "writev", "pwrite64", "sendto", "sendmsg", "msgsnd", "fsync":
		return "output"
	case "poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2":
		return "events"
	case "accept", "accept4":
		return "a connection"
	case "connect":
		return "a connection to be accepted"
	case "wait4", "waitid":
		return "a child process"
	case "nanosleep", "clock_nanosleep":
		return "time"
	case "pause", "rt_sigsuspend", "rt_sigtimedwait":
		return "a signal"
	case "flock", "fcntl", "semop", "semtimedop", "open", "openat", "ioctl":
		return "another process"
	}
	return ""
}

// eventLoop reports whether s is an event loop's wait for work: epoll_wait and its
// kin, select and pselect6, or poll and ppoll on more than one descriptor. A server's
// dispatcher idles there between requests, and may keep a lock across the wait by
// design (redis 7's main thread holds the mutexes that park its I/O threads while it
// waits in epoll_wait), so a chain of waits that ends there is an idle server, not a
// hang. A poll of one descriptor is a read with a timeout (CPython's socket.recv with
// a timeout polls its socket first) and is not one; nor is a select of no descriptors,
// a sleep (CPython 3.8-3.10's time.sleep).
func (s Syscall) eventLoop() bool {
	switch s.Name {
	case "epoll_wait", "epoll_pwait", "epoll_pwait2":
		return true
	case "select", "pselect6":
		return !s.Arg0Lost && s.Args[0] > 0
	case "poll", "ppoll":
		return s.Args[1] > 1
	}
	return false
}

// Describe renders the call as strace would show its arguments, reading nothing:
// "futex(0x55d0c4a2e040, FUTEX_WAIT_PRIVATE, 2, NULL)", "read(3, 0x7ffd…, 1)".
func (s Syscall) Describe() string {
	a := s.Args
	arg0 := func(f string) string {
		if s.Arg0Lost {
			return "?"
		}
		return fmt.Sprintf(f, a[0])
	}
	ptr := func(v uint64) string {
		if v == 0 {
			return "NULL"
		}
		return fmt.Sprintf("%#x", v)
	}
	var args []string
	switch s.Name {
	case "futex":
		val := fmt.Sprint(int32(a[2]))
		if int32(a[2]) < 0 {
			val = fmt.Sprintf("%#x", uint32(a[2])) // a lock word with FUTEX_WAITERS set
		}
		args = []string{arg0("%#x"), FutexOpName(a[1]), val, ptr(a[3])}
	case "read", "write", "pread64", "pwrite64", "recvfrom", "sendto", "readv", "writev":
		args = []string{arg0("%d"), ptr(a[1]), fmt.Sprint(a[2])}
	case "recvmsg", "sendmsg", "accept", "accept4", "connect", "flock", "fcntl", "ioctl", "fsync", "close":
		args = []string{arg0("%d"), ptr(a[1])}
	case "poll":
		args = []string{arg0("%#x"), fmt.Sprint(a[1]), fmt.Sprint(int32(a[2]))}
	case "ppoll":
		args = []string{arg0("%#x"), fmt.Sprint(a[1]), ptr(a[2])}
	case "epoll_wait", "epoll_pwait":
		args = []string{arg0("%d"), ptr(a[1]), fmt.Sprint(int32(a[2])), fmt.Sprint(int32(a[3]))}
	case "select", "pselect6":
		args = []string{arg0("%d"), ptr(a[1]), ptr(a[2]), ptr(a[3]), ptr(a[4])}
	case "nanosleep":
		args = []string{arg0("%#x"), ptr(a[1])}
	case "clock_nanosleep":
		args = []string{arg0("%d"), fmt.Sprint(a[1]), ptr(a[2]), ptr(a[3])}
	case "wait4":
		args = []string{arg0("%d"), ptr(a[1]), fmt.Sprint(a[2]), ptr(a[3])}
	case "waitid":
		args = []string{arg0("%d"), fmt.Sprint(a[1]), ptr(a[2]), fmt.Sprint(a[3])}
	case "pause", "sched_yield":
	default:
		args = []string{arg0("%#x"), fmt.Sprintf("%#x", a[1]), fmt.Sprintf("%#x", a[2])}
	}
	return s.Name + "(" + strings.Join(args, ", ") + ")"
}

// timeoutArg is the index of the argument that points at a struct timespec, or -1:
// futex's timeout (relative for FUTEX_WAIT, absolute for FUTEX_WAIT_BITSET), the
// requested time of nanosleep and clock_nanosleep, ppoll's, pselect6's and
// rt_sigtimedwait's.
func (s Syscall) timeoutArg() int {
	switch s.Name {
	case "futex":
		return 3
	case "nanosleep":
		return 0
	case "ppoll", "clock_nanosleep", "rt_sigtimedwait":
		return 2
	case "pselect6":
		return 4
	}
	return -1
}

// describeTimeout renders the struct timespec a call's timeout argument points at:
// "{tv_sec=600, tv_nsec=0}". Its fields are 64-bit on 64-bit Linux and in the *_time64
// calls of 32-bit machines, and 32-bit longs in the older 32-bit calls.
func describeTimeout(a *arch.Arch, m Memory, s Syscall) (int, string) {
	i := s.timeoutArg()
	if i < 0 || i == 0 && s.Arg0Lost || s.Args[i] == 0 {
		return -1, ""
	}
	var b [16]byte
	wide := a.PtrSize == 8 || a.Syscall.Time64[s.Nr]
	n := 8
	if wide {
		n = 16
	}
	if read(m, b[:n], s.Args[i], "timespec") != nil {
		return -1, ""
	}
	var sec, nsec int64
	if wide {
		sec, nsec = int64(a.ByteOrder.Uint64(b[:])), int64(a.ByteOrder.Uint64(b[8:]))
	} else {
		sec, nsec = int64(int32(a.ByteOrder.Uint32(b[:]))), int64(int32(a.ByteOrder.Uint32(b[4:])))
	}
	return i, fmt.Sprintf("{tv_sec=%d, tv_nsec=%d}", sec, nsec)
}

// DescribeMem is Describe with the timeout argument's struct timespec read from m.
func (s Syscall) DescribeMem(a *arch.Arch, m Memory) string {
	d := s.Describe()
	i, ts := describeTimeout(a, m, s)
	if i < 0 {
		return d
	}
	old := fmt.Sprintf("%#x", s.Args[i])
	// Replace the argument in place: the i-th argument of the rendered list.
	open := strings.IndexByte(d, '(')
	parts := strings.Split(d[open+1:len(d)-1], ", ")
	if i < len(parts) && parts[i] == old {
		parts[i] = ts
		return d[:open+1] + strings.Join(parts, ", ") + ")"
	}
	return d
}

// fd returns the descriptor argument of a call that takes one first, or -1.
func (s Syscall) fd() int {
	if s.Arg0Lost {
		return -1
	}
	switch s.Name {
	case "read", "write", "readv", "writev", "pread64", "pwrite64", "recvfrom", "recvmsg", "recvmmsg",
		"sendto", "sendmsg", "accept", "accept4", "connect", "epoll_wait", "epoll_pwait", "epoll_pwait2",
		"flock", "fsync":
		return int(int32(s.Args[0]))
	}
	return -1
}
