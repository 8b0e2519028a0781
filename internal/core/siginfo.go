package core

import (
	"fmt"

	"github.com/coredig/coredig/internal/arch"
)

// SigInfo is a decoded siginfo_t (linux/include/uapi/asm-generic/siginfo.h). Which union
// member is meaningful depends on the signal and si_code; the Has* fields say which were set.
type SigInfo struct {
	Signo int
	Errno int
	Code  int

	// Addr is si_addr, set for fault codes (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP with
	// a positive si_code other than SI_KERNEL).
	Addr    uint64
	HasAddr bool

	// SenderPID and SenderUID are si_pid and si_uid for SI_USER, SI_TKILL, SI_QUEUE and
	// SIGCHLD.
	SenderPID int
	SenderUID uint32
	HasSender bool

	// Value is si_value for SI_QUEUE, SI_TIMER and SI_MESGQ.
	Value    uint64
	HasValue bool
}

// Signal numbers shared by x86_64, aarch64 and the other asm-generic architectures.
var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
	14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
	20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

var signalMeanings = map[int]string{
	4: "illegal instruction", 5: "trace/breakpoint trap", 6: "aborted", 7: "bus error",
	8: "arithmetic exception", 11: "segmentation fault", 3: "quit", 31: "bad system call",
	24: "CPU time limit exceeded", 25: "file size limit exceeded",
}

// SignalName returns "SIGSEGV" for 11, "SIGRTMIN+3" for real-time signals, "signal N" otherwise.
func SignalName(n int) string {
	if n > 0 && n < len(signalNames) && signalNames[n] != "" {
		return signalNames[n]
	}
	if n >= 32 && n <= 64 {
		return fmt.Sprintf("SIGRTMIN+%d", n-32)
	}
	return fmt.Sprintf("signal %d", n)
}

// ArchSignalName names signal n as architecture a numbers it (SPARC's numbers differ from
// the asm-generic ones SignalName knows).
func ArchSignalName(a *arch.Arch, n int) string {
	if name, ok := a.SignalNames[n]; ok {
		return name
	}
	return SignalName(n)
}

// GenericSigno is the asm-generic number of architecture a's signal n, the number
// SignalMeaning, CodeName and HasFaultAddr know it by: n itself where a numbers signals
// as asm-generic does, 0 for a signal asm-generic lacks (SPARC's SIGEMT).
func GenericSigno(a *arch.Arch, n int) int {
	name, ok := a.SignalNames[n]
	if !ok {
		return n
	}
	for i, s := range signalNames {
		if s == name {
			return i
		}
	}
	return 0
}

// SignalMeaning returns a short description of what a core-dumping signal means, or "".
func SignalMeaning(n int) string { return signalMeanings[n] }

// si_code values common to all signals.
const (
	SI_USER     = 0
	SI_KERNEL   = 0x80
	SI_QUEUE    = -1
	SI_TIMER    = -2
	SI_MESGQ    = -3
	SI_ASYNCIO  = -4
	SI_SIGIO    = -5
	SI_TKILL    = -6
	SI_DETHREAD = -7
	SI_ASYNCNL  = -60
)

var genericCodes = map[int]string{
	SI_USER: "SI_USER", SI_KERNEL: "SI_KERNEL", SI_QUEUE: "SI_QUEUE", SI_TIMER: "SI_TIMER",
	SI_MESGQ: "SI_MESGQ", SI_ASYNCIO: "SI_ASYNCIO", SI_SIGIO: "SI_SIGIO", SI_TKILL: "SI_TKILL",
	SI_DETHREAD: "SI_DETHREAD", SI_ASYNCNL: "SI_ASYNCNL",
}

var genericCodeMeanings = map[int]string{
	SI_USER: "sent by kill()", SI_KERNEL: "sent by the kernel", SI_QUEUE: "sent by sigqueue()",
	SI_TIMER: "POSIX timer expired", SI_MESGQ: "message queue state changed",
	SI_ASYNCIO: "asynchronous I/O completed", SI_SIGIO: "queued SIGIO",
	SI_TKILL: "sent by tkill()/tgkill() (raise, abort, pthread_kill)", SI_DETHREAD: "sent by execve() killing subsidiary threads",
}

var faultCodes = map[int][]string{ // signal -> names by si_code (index 0 unused)
	4:  {"", "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK", "ILL_BADIADDR"},
	8:  {"", "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB", "", "", "", "", "", "FPE_FLTUNK", "FPE_CONDTRAP"},
	11: {"", "SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR", "SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR", "SEGV_MTESERR", "SEGV_CPERR"},
	7:  {"", "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"},
	5:  {"", "TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK", "TRAP_PERF"},
	17: {"", "CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"},
	29: {"", "POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP"},
	31: {"", "SYS_SECCOMP", "SYS_USER_DISPATCH"},
}

var faultCodeMeanings = map[string]string{
	"SEGV_MAPERR": "address not mapped to object", "SEGV_ACCERR": "invalid permissions for mapped object",
	"SEGV_BNDERR": "failed address bound checks", "SEGV_PKUERR": "failed protection key checks",
	"SEGV_MTEAERR": "asynchronous MTE tag check fault", "SEGV_MTESERR": "synchronous MTE tag check fault",
	"SEGV_CPERR": "control protection fault",
	"BUS_ADRALN": "invalid address alignment", "BUS_ADRERR": "non-existent physical address (e.g. beyond the end of a mapped file)",
	"BUS_OBJERR": "object-specific hardware error", "BUS_MCEERR_AR": "hardware memory error consumed",
	"BUS_MCEERR_AO": "hardware memory error detected",
	"ILL_ILLOPC":    "illegal opcode", "ILL_ILLOPN": "illegal operand", "ILL_ILLADR": "illegal addressing mode",
	"ILL_ILLTRP": "illegal trap", "ILL_PRVOPC": "privileged opcode", "ILL_PRVREG": "privileged register",
	"ILL_COPROC": "coprocessor error", "ILL_BADSTK": "internal stack error",
	"FPE_INTDIV": "integer divide by zero", "FPE_INTOVF": "integer overflow", "FPE_FLTDIV": "floating-point divide by zero",
	"FPE_FLTOVF": "floating-point overflow", "FPE_FLTUND": "floating-point underflow", "FPE_FLTRES": "floating-point inexact result",
	"FPE_FLTINV": "floating-point invalid operation", "FPE_FLTSUB": "subscript out of range",
	"TRAP_BRKPT": "process breakpoint", "TRAP_TRACE": "process trace trap", "TRAP_BRANCH": "branch trap",
	"TRAP_HWBKPT": "hardware breakpoint/watchpoint",
}

// IsFaultSignal reports whether the signal carries si_addr for kernel-generated codes.
func IsFaultSignal(signo int) bool {
	switch signo {
	case 4, 5, 7, 8, 11:
		return true
	}
	return false
}

// CodeName names si_code for the signal: "SEGV_MAPERR", "SI_TKILL", or "" when unknown.
func CodeName(signo, code int) string {
	if code > 0 && code != SI_KERNEL {
		if names, ok := faultCodes[signo]; ok && code < len(names) && names[code] != "" {
			return names[code]
		}
	}
	return genericCodes[code]
}

// CodeMeaning describes si_code in words, or "".
func CodeMeaning(signo, code int) string {
	if m, ok := faultCodeMeanings[CodeName(signo, code)]; ok {
		return m
	}
	return genericCodeMeanings[code]
}

// HasFaultAddr reports whether si_addr is meaningful for this signal and code.
func HasFaultAddr(signo, code int) bool {
	return IsFaultSignal(signo) && code > 0 && code != SI_KERNEL
}

// SigInfoSize is the size of siginfo_t on every Linux architecture.
const SigInfoSize = 128

// DecodeSigInfo decodes a 128-byte siginfo_t. It is also used for siginfo found on the
// stack in a signal frame.
func DecodeSigInfo(a *arch.Arch, d []byte) (*SigInfo, error) {
	if len(d) != SigInfoSize {
		return nil, fmt.Errorf("descriptor is %d bytes, want %d", len(d), SigInfoSize)
	}
	o := a.ByteOrder
	s := &SigInfo{
		Signo: int(int32(o.Uint32(d[0:]))),
		Errno: int(int32(o.Uint32(d[4:]))),
		Code:  int(int32(o.Uint32(d[8:]))),
	}
	// The union starts after the three ints, aligned to the word size.
	u := 12
	if a.PtrSize == 8 {
		u = 16
	}
	word := func(off int) uint64 {
		if a.PtrSize == 8 {
			return o.Uint64(d[off:])
		}
		return uint64(o.Uint32(d[off:]))
	}
	g := GenericSigno(a, s.Signo)
	switch {
	case HasFaultAddr(g, s.Code):
		s.Addr, s.HasAddr = word(u), true
	case s.Code == SI_USER || s.Code == SI_TKILL || s.Code == SI_QUEUE || g == 17 && s.Code > 0:
		s.SenderPID = int(int32(o.Uint32(d[u:])))
		s.SenderUID = o.Uint32(d[u+4:])
		s.HasSender = true
		if s.Code == SI_QUEUE {
			s.Value, s.HasValue = word(u+8), true
		}
	case s.Code == SI_TIMER:
		s.Value, s.HasValue = word(u+8), true
	case s.Code == SI_MESGQ:
		s.SenderPID = int(int32(o.Uint32(d[u:])))
		s.SenderUID = o.Uint32(d[u+4:])
		s.HasSender = true
		s.Value, s.HasValue = word(u+8), true
	}
	return s, nil
}

// DumpsCore reports whether the signal's default action writes a core (signal(7): SIGQUIT,
// SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS). A core
// whose signal is none of these was not written by the kernel for a crash: gdb's gcore,
// for one, records the signal that stopped the process.
func DumpsCore(signo int) bool {
	switch signo {
	case 3, 4, 5, 6, 7, 8, 11, 24, 25, 31:
		return true
	}
	return false
}
