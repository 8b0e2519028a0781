package goruntime

import "fmt"

// Fault is the fault the Go runtime caught and turned into a panic. Its signal handler
// records the signal in the goroutine (runtime.sighandler sets g.sig, g.sigcode0,
// g.sigcode1 = the fault address, g.sigpc) before injecting the call to runtime.sigpanic;
// the runtime's panic message, "[signal SIGSEGV ... addr=0x60]", comes from those fields
// and only reaches stderr.
type Fault struct {
	Goid        uint64
	Signo, Code int    // g.sig; g.sigcode0 as the int32 si_code it holds
	Addr, PC    uint64 // g.sigcode1, g.sigpc
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
		found = append(found, &Fault{Signo: int(g.Sig), Code: int(int32(g.SigCode0)), Addr: g.SigCode1, PC: g.SigPC, Goid: g.Goid})
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
