package goruntime

import (
	"fmt"

	"github.com/coredig/coredig/internal/arch"
)

// Fault is the fault the Go runtime caught and turned into a panic. Its signal handler
// records the signal in the goroutine (runtime.sighandler sets g.sig, g.sigcode0,
// g.sigcode1 = the fault address, g.sigpc) before injecting the call to runtime.sigpanic;
// the runtime's panic message, "[signal SIGSEGV ... addr=0x60]", comes from those fields
// and only reaches stderr.
type Fault struct {
	Goid        uint64
	Signo, Code int    // g.sig; g.sigcode0 as the int32 si_code it holds
	Addr, PC    uint64 // g.sigcode1, g.sigpc
	// PanicPC and PanicSP are where the runtime started the panic, g._panic's startPC
	// and startSP (as in Go 1.26: the pc after gopanic's call of _panic.start, and gopanic's
	// sp there): a context to unwind the goroutine's stack from, down through
	// runtime.sigpanic to the faulting frame, when its thread's stack ends before it.
	// 0 when unknown.
	PanicPC, PanicSP uint64
}

// Fault finds the goroutine that is panicking from a signal: g.sig is set and g._panic
// is not nil. When the caller's unwinder reached runtime.sigpanic, hint is the faulting
// pc it found and the goroutine must agree; with no hint (a stack the unwinder could not
// follow through the signal handler) exactly one goroutine must qualify.
func (rt *Runtime) Fault(hint uint64) (*Fault, error) {
	gs, err := rt.Goroutines()
	if err != nil && len(gs) == 0 {
		return nil, err
	}
	var found []*Fault
	for _, g := range gs {
		if g.Sig == 0 || g.Panic == 0 || hint != 0 && g.SigPC != hint {
			continue
		}
		f := &Fault{Signo: int(g.Sig), Code: int(int32(g.SigCode0)), Addr: g.SigCode1, PC: g.SigPC, Goid: g.Goid}
		if pc, ok := rt.panic["startPC"]; ok {
			if sp, ok := rt.panic["startSP"]; ok {
				p1, err1 := rt.ptr(g.Panic + uint64(pc))
				p2, err2 := rt.ptr(g.Panic + uint64(sp))
				if err1 == nil && err2 == nil {
					f.PanicPC, f.PanicSP = p1, p2
				}
			}
		}
		found = append(found, f)
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return nil, fmt.Errorf("%d goroutines are panicking from a signal", len(found))
	case hint != 0:
		return nil, fmt.Errorf("no goroutine among %d is panicking from a signal at %#x", len(gs), hint)
	}
	return nil, fmt.Errorf("no goroutine among %d is panicking from a signal", len(gs))
}

// SigpanicPush is how many bytes the runtime's signal handler pushes below the faulting
// frame's stack pointer when it makes the frame call runtime.sigpanic (preparePanic):
// on 32-bit ARM the link register, 4 bytes (runtime/signal_arm.go), so the faulting
// frame's sp is runtime.sigpanic's CFA plus 4. ok is false for the other architectures,
// whose preparePanic is not followed here.
func SigpanicPush(a *arch.Arch) (n uint64, ok bool) {
	if a != nil && a.GOARCH == "arm" {
		return 4, true
	}
	return 0, false
}
