package diagnose

import "fmt"

var signalNames = map[int]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
	14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
	20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

// SignalName returns "SIGSEGV" for 11, "SIGRTMIN+2" for 36, "signal 99" otherwise.
func SignalName(n int) string {
	if s, ok := signalNames[n]; ok {
		return s
	}
	if n >= 32 && n <= 64 {
		return fmt.Sprintf("SIGRTMIN+%d", n-32)
	}
	return fmt.Sprintf("signal %d", n)
}

// CodeName names si_code for a signal ("SEGV_MAPERR", "SI_TKILL"), or "" when unknown.
func CodeName(signo, code int) string {
	switch code {
	case SI_USER:
		return "SI_USER"
	case SI_KERNEL:
		return "SI_KERNEL"
	case SI_QUEUE:
		return "SI_QUEUE"
	case -2:
		return "SI_TIMER"
	case -3:
		return "SI_MESGQ"
	case -4:
		return "SI_ASYNCIO"
	case -5:
		return "SI_SIGIO"
	case SI_TKILL:
		return "SI_TKILL"
	}
	var names []string
	switch signo {
	case SIGSEGV:
		names = []string{"", "SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR", "SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR", "SEGV_MTESERR", "SEGV_CPERR"}
	case SIGBUS:
		names = []string{"", "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"}
	case SIGILL:
		names = []string{"", "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK", "ILL_BADIADDR"}
	case SIGFPE:
		names = []string{"", "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB", "FPE_FLTUNK", "FPE_CONDTRAP"}
	case SIGTRAP:
		names = []string{"", "TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK", "TRAP_PERF"}
	case SIGSYS:
		names = []string{"", "SYS_SECCOMP", "SYS_USER_DISPATCH"}
	}
	if code > 0 && code < len(names) {
		return names[code]
	}
	return ""
}

// faultCode reports whether si_code carries a fault address (kernel-generated faults).
func faultCode(signo, code int) bool {
	if code <= 0 {
		return false
	}
	switch signo {
	case SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP:
		return true
	}
	return false
}

// killCode reports whether si_code says another task sent the signal.
func killCode(code int) bool {
	return code == SI_USER || code == SI_TKILL || code == SI_QUEUE
}
