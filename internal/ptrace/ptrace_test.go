package ptrace

import (
	"errors"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/arch"
)

// Seize, interrupt, read registers and let go of a child, from one locked thread.
func TestSeizeInterruptDetach(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGKILL)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("process %d not reaped", pid)
		}
	})
	if err := Seize(pid, O_TRACEEXIT); err != nil {
		t.Fatal(err)
	}
	if err := Interrupt(pid); err != nil {
		t.Fatal(err)
	}
	wpid, ws, err := Wait(pid, 0)
	if err != nil || wpid != pid || !ws.Stopped() || Event(ws) != EventStop || ws.StopSignal() != syscall.SIGTRAP {
		t.Fatalf("wait: pid %d status %#x (event %d) %v; want an interrupt stop", wpid, uint32(ws), Event(ws), err)
	}
	var a *arch.Arch
	switch runtime.GOARCH {
	case "amd64":
		a = arch.AMD64
	case "arm64":
		a = arch.ARM64
	default:
		t.Skipf("no register layout for GOARCH %s", runtime.GOARCH)
	}
	regs := make([]byte, a.PrStatus.RegsSize+64)
	n, err := RegSet(pid, 1, regs) // NT_PRSTATUS
	if err != nil || n != a.PrStatus.RegsSize {
		t.Fatalf("NT_PRSTATUS: %d bytes, %v; want %d", n, err, a.PrStatus.RegsSize)
	}
	if sp := a.ByteOrder.Uint64(regs[8*a.SP:]); sp == 0 {
		t.Errorf("stack pointer is 0")
	}
	// A second tracer is refused with EPERM.
	if err := Seize(pid, 0); !errors.Is(err, syscall.EPERM) {
		t.Errorf("second seize: %v, want EPERM", err)
	}
	var pe *Error
	if err := Cont(1<<30, 0); !errors.As(err, &pe) || pe.Op != "PTRACE_CONT" || !errors.Is(err, syscall.ESRCH) {
		t.Errorf("cont of no thread: %v", err)
	}
	if err := Detach(pid, 0); err != nil {
		t.Fatal(err)
	}
}
