package capture

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// PermissionError is ptrace refused: it names the cause and what would allow it.
type PermissionError struct {
	PID    int
	Cause  string // "process 123 belongs to uid 1000; coredig runs as uid 65534"
	Remedy string
	Err    error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("cannot trace process %d: %s; %s", e.PID, e.Cause, e.Remedy)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// remedy is what would allow tracing, whatever the cause.
const remedy = "run the program under `coredig run -- CMD`, add CAP_SYS_PTRACE (docker run --cap-add SYS_PTRACE), or set sysctl kernel.yama.ptrace_scope=1"

// explainSeize turns a refused PTRACE_SEIZE into a PermissionError with the likely cause:
// an existing tracer (/proc/PID/status TracerPid), another user, the Yama scope, or else
// a seccomp profile or a security module.
func explainSeize(pid int, err error) error {
	if !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EACCES) {
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("no process %d: %w", pid, err)
		}
		return err
	}
	pe := &PermissionError{PID: pid, Remedy: remedy, Err: err}
	st, serr := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	uid := os.Geteuid()
	yama, _ := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	scope := strings.TrimSpace(string(yama))
	switch {
	case pid == os.Getpid() || serr == nil && st.first("Tgid") == os.Getpid():
		pe.Cause = "it is coredig itself"
		pe.Remedy = "give the PID of another process"
	case serr == nil && st.first("TracerPid") > 0:
		pe.Cause = fmt.Sprintf("it is already traced by process %d (a debugger or another coredig)", st.first("TracerPid"))
		pe.Remedy = "detach that tracer first, or " + remedy
	case serr == nil && uid != 0 && st.first("Uid") != uid:
		pe.Cause = fmt.Sprintf("it belongs to uid %d and coredig runs as uid %d", st.first("Uid"), uid)
	case scope == "3":
		pe.Cause = "kernel.yama.ptrace_scope is 3: no process may be traced"
		pe.Remedy = "run the program under `coredig run -- CMD` is refused too; reboot with kernel.yama.ptrace_scope below 3"
	case scope == "2":
		pe.Cause = "kernel.yama.ptrace_scope is 2: only CAP_SYS_PTRACE may attach"
	case scope == "1" && uid != 0:
		pe.Cause = "kernel.yama.ptrace_scope is 1: only an ancestor may attach"
	case selfSeccomp() > 0:
		pe.Cause = "coredig runs under a seccomp filter, which may refuse ptrace"
	default:
		pe.Cause = "ptrace is refused (the process is not dumpable, e.g. setuid or prctl(PR_SET_DUMPABLE, 0), or a security module refuses it)"
	}
	return pe
}

func selfSeccomp() int {
	st, err := readStatus("/proc/self/status")
	if err != nil {
		return 0
	}
	return st.first("Seccomp")
}
