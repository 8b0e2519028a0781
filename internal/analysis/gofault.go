package analysis

import (
	"fmt"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/report"
)

// goFault is the fault the Go runtime caught and turned into a panic. Its signal
// handler records the signal in the goroutine (runtime.sighandler sets g.sig,
// g.sigcode0, g.sigcode1 = the fault address, g.sigpc) before injecting the call to
// runtime.sigpanic; the runtime's panic message, "[signal SIGSEGV ... addr=0x60]",
// comes from those fields and only reaches stderr.
type goFault struct {
	Goid        uint64
	Signo, Code int
	Addr, PC    uint64
}

// goFaultOf finds the goroutine that is panicking from a signal: g.sig is set and
// g._panic is not nil. When the unwinder reached runtime.sigpanic, hint is the faulting
// pc it found and the goroutine must agree; with no hint (a stack the unwinder could
// not follow through the signal handler) exactly one goroutine must qualify.
// errNotGo says the program is not a Go program.
func (a *Analysis) goFaultOf(hint uint64) (*goFault, error) {
	rt, err := a.goRuntimeOf()
	if err != nil {
		return nil, err
	}
	gs, err := a.goroutines(rt)
	if err != nil && len(gs) == 0 {
		return nil, err
	}
	var found []*goFault
	for _, g := range gs {
		if g.sig == 0 || g.panicPtr == 0 || hint != 0 && g.sigpc != hint {
			continue
		}
		found = append(found, &goFault{Signo: int(g.sig), Code: int(int32(g.sigcode0)), Addr: g.sigcode1, PC: g.sigpc, Goid: g.goid})
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

// signal describes the caught fault as a report.Signal.
func (f *goFault) signal() *report.Signal {
	s := &report.Signal{
		Number: f.Signo, Name: core.SignalName(f.Signo), Meaning: core.SignalMeaning(f.Signo),
		Code: f.Code, CodeName: core.CodeName(f.Signo, f.Code), CodeMeaning: core.CodeMeaning(f.Signo, f.Code),
		Source: fmt.Sprintf("Go runtime: g.sig of goroutine %d", f.Goid),
	}
	if core.HasFaultAddr(f.Signo, f.Code) || f.Addr != 0 {
		s.Address = report.HexPtr(f.Addr)
	}
	return s
}
