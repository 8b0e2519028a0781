// Package ptrace is a thin layer over the ptrace(2) requests coredig needs to stop a
// process, copy its registers and let it go, and to follow a tree of processes it
// started: PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_GETREGSET, PTRACE_GETSIGINFO,
// PTRACE_GETEVENTMSG, PTRACE_CONT, PTRACE_LISTEN, PTRACE_DETACH, and wait4 with __WALL.
//
// The standard library's syscall package lacks the seize-era requests, so they are made
// with syscall.Syscall6 here; nothing else of golang.org/x/sys is needed.
//
// Linux attaches a tracee to the tracing thread, not the process: every request about a
// tracee must come from the OS thread that seized it. Callers lock a goroutine to its
// thread (runtime.LockOSThread) and make all requests from it.
//
// Errors are *Error, naming the request and the thread, and wrap the errno
// (errors.Is(err, syscall.EPERM)).
//
// Sources: linux/include/uapi/linux/ptrace.h (request and option numbers, events),
// man ptrace(2), linux/kernel/ptrace.c (ptrace_regset: the iovec's length is set to the
// size the kernel wrote), linux/include/uapi/linux/wait.h (__WALL).
package ptrace

import (
	"fmt"
	"syscall"
	"unsafe"
)

// Requests (linux/include/uapi/linux/ptrace.h).
const (
	PTRACE_CONT        = 7
	PTRACE_DETACH      = 17
	PTRACE_SETOPTIONS  = 0x4200
	PTRACE_GETEVENTMSG = 0x4201
	PTRACE_GETSIGINFO  = 0x4202
	PTRACE_GETREGSET   = 0x4204
	PTRACE_SEIZE       = 0x4206
	PTRACE_INTERRUPT   = 0x4207
	PTRACE_LISTEN      = 0x4208
)

// Options.
const (
	O_TRACESYSGOOD = 1
	O_TRACEFORK    = 1 << 1
	O_TRACEVFORK   = 1 << 2
	O_TRACECLONE   = 1 << 3
	O_TRACEEXEC    = 1 << 4
	O_TRACEEXIT    = 1 << 6
	O_EXITKILL     = 1 << 20
)

// Events, as status>>16 of a ptrace-event stop.
const (
	EventFork  = 1
	EventVfork = 2
	EventClone = 3
	EventExec  = 4
	EventExit  = 6
	EventStop  = 128 // group-stop or PTRACE_INTERRUPT stop of a seized tracee
)

// WALL waits for all children, clones included (__WALL).
const WALL = 0x40000000

// SigInfoSize is the size of siginfo_t on every Linux architecture.
const SigInfoSize = 128

// Error is a failed request.
type Error struct {
	Op  string // "PTRACE_SEIZE"
	TID int
	Err error // a syscall.Errno
}

func (e *Error) Error() string { return fmt.Sprintf("%s of thread %d: %v", e.Op, e.TID, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

func request(op string, req, tid int, addr, data uintptr) error {
	_, _, errno := syscall.Syscall6(syscall.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if errno != 0 {
		return &Error{Op: op, TID: tid, Err: errno}
	}
	return nil
}

// Seize attaches to a thread without stopping it, with the given options.
func Seize(tid int, options int) error {
	return request("PTRACE_SEIZE", PTRACE_SEIZE, tid, 0, uintptr(options))
}

// Interrupt stops a seized thread; it reports a PTRACE_EVENT_STOP to wait.
func Interrupt(tid int) error { return request("PTRACE_INTERRUPT", PTRACE_INTERRUPT, tid, 0, 0) }

// Cont resumes a stopped tracee, delivering sig (0 for none).
func Cont(tid, sig int) error { return request("PTRACE_CONT", PTRACE_CONT, tid, 0, uintptr(sig)) }

// Listen resumes a tracee in group-stop without letting it run: it stays stopped until
// SIGCONT, and wait reports that.
func Listen(tid int) error { return request("PTRACE_LISTEN", PTRACE_LISTEN, tid, 0, 0) }

// Detach lets a stopped tracee go, delivering sig (0 for none).
func Detach(tid, sig int) error {
	return request("PTRACE_DETACH", PTRACE_DETACH, tid, 0, uintptr(sig))
}

// SetOptions replaces a tracee's options.
func SetOptions(tid, options int) error {
	return request("PTRACE_SETOPTIONS", PTRACE_SETOPTIONS, tid, 0, uintptr(options))
}

// EventMsg returns the message of the last ptrace event: the new thread's id after a
// clone, fork or vfork, the exit status at PTRACE_EVENT_EXIT, the former thread id after
// an exec.
func EventMsg(tid int) (uint64, error) {
	var v uint64
	err := request("PTRACE_GETEVENTMSG", PTRACE_GETEVENTMSG, tid, 0, uintptr(unsafe.Pointer(&v)))
	return v, err
}

// SigInfo copies the siginfo_t of the signal the tracee stopped for.
func SigInfo(tid int) ([SigInfoSize]byte, error) {
	var b [SigInfoSize]byte
	err := request("PTRACE_GETSIGINFO", PTRACE_GETSIGINFO, tid, 0, uintptr(unsafe.Pointer(&b[0])))
	return b, err
}

// RegSet copies the register set of the given note type (NT_PRSTATUS, NT_PRFPREG, ...)
// into buf and returns how many bytes the kernel wrote.
func RegSet(tid int, typ uint32, buf []byte) (int, error) {
	if len(buf) == 0 {
		return 0, &Error{Op: "PTRACE_GETREGSET", TID: tid, Err: syscall.EINVAL}
	}
	iov := syscall.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	err := request("PTRACE_GETREGSET", PTRACE_GETREGSET, tid, uintptr(typ), uintptr(unsafe.Pointer(&iov)))
	if err != nil {
		return 0, err
	}
	return int(iov.Len), nil
}

// Wait waits for a state change of pid (-1: any child or tracee) with __WALL added to
// flags, retrying on EINTR.
func Wait(pid int, flags int) (int, syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		wpid, err := syscall.Wait4(pid, &ws, flags|WALL, nil)
		if err == syscall.EINTR {
			continue
		}
		return wpid, ws, err
	}
}

// Event returns the ptrace event of a stop status (status>>16), 0 when none.
func Event(ws syscall.WaitStatus) int { return int(ws>>16) & 0xff }

// Tgkill sends sig to one thread of a process.
func Tgkill(pid, tid int, sig syscall.Signal) error {
	return syscall.Tgkill(pid, tid, sig)
}
