package analysis

import (
	"debug/dwarf"
	"errors"
	"fmt"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/report"
)

// maxGoroutines bounds the walk over runtime.allgs in a hostile core.
const maxGoroutines = 1 << 20

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

// gLayout is where runtime.g keeps the fields read, from the program's DWARF.
type gLayout struct {
	goid, panic, sig, sigcode0, sigcode1, sigpc int64
}

// goFaultOf finds the goroutine that is panicking from a signal: g.sig is set and
// g._panic is not nil. When the unwinder reached runtime.sigpanic, hint is the faulting
// pc it found and the goroutine must agree; with no hint (a stack the unwinder could
// not follow through the signal handler) exactly one goroutine must qualify.
// errNotGo says the program is not a Go program.
func (a *Analysis) goFaultOf(hint uint64) (*goFault, error) {
	allgs, m, ok := a.Modules.FindSymbol("runtime.allgs")
	if !ok || !m.Usable() {
		return nil, errNotGo
	}
	d, err := m.ELF().DWARF()
	if err != nil {
		return nil, fmt.Errorf("no DWARF for runtime.g: %w", err)
	}
	l, err := goGLayout(d)
	if err != nil {
		return nil, err
	}
	c := a.Core
	ps := uint64(c.Arch.PtrSize)
	// allgs is a []*g: pointer, length, capacity.
	base, err := c.ReadPtr(allgs)
	if err != nil {
		return nil, fmt.Errorf("reading runtime.allgs: %w", err)
	}
	n, err := c.ReadPtr(allgs + ps)
	if err != nil {
		return nil, fmt.Errorf("reading len(runtime.allgs): %w", err)
	}
	if n > maxGoroutines {
		return nil, fmt.Errorf("len(runtime.allgs) = %d is not believable", n)
	}
	var found []*goFault
	var u32 [4]byte
	for i := uint64(0); i < n; i++ {
		g, err := c.ReadPtr(base + i*ps)
		if err != nil || g == 0 {
			continue
		}
		if err := c.ReadFull(u32[:], g+uint64(l.sig)); err != nil {
			continue
		}
		sig := c.Arch.ByteOrder.Uint32(u32[:])
		if sig == 0 {
			continue
		}
		panicking, err1 := c.ReadPtr(g + uint64(l.panic))
		pc, err2 := c.ReadPtr(g + uint64(l.sigpc))
		code, err3 := c.ReadPtr(g + uint64(l.sigcode0))
		addr, err4 := c.ReadPtr(g + uint64(l.sigcode1))
		goid, err5 := c.ReadPtr(g + uint64(l.goid))
		if errors.Join(err1, err2, err3, err4, err5) != nil || panicking == 0 {
			continue
		}
		if hint != 0 && pc != hint {
			continue
		}
		found = append(found, &goFault{Signo: int(sig), Code: int(int32(code)), Addr: addr, PC: pc, Goid: goid})
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return nil, fmt.Errorf("%d goroutines are panicking from a signal", len(found))
	case hint != 0:
		return nil, fmt.Errorf("no goroutine among %d is panicking from a signal at %#x", n, hint)
	}
	return nil, fmt.Errorf("no goroutine among %d is panicking from a signal", n)
}

var errNotGo = errors.New("not a Go program")

// goGLayout reads the offsets of runtime.g's fields from DWARF.
func goGLayout(d *dwarf.Data) (gLayout, error) {
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return gLayout{}, fmt.Errorf("reading DWARF: %w", err)
		}
		if e == nil {
			return gLayout{}, errors.New("no runtime.g in DWARF")
		}
		if e.Tag != dwarf.TagStructType || e.Val(dwarf.AttrName) != "runtime.g" {
			if e.Tag != dwarf.TagCompileUnit && e.Children {
				r.SkipChildren()
			}
			continue
		}
		off := map[string]int64{}
		for e.Children {
			m, err := r.Next()
			if err != nil || m == nil || m.Tag == 0 {
				break
			}
			name, _ := m.Val(dwarf.AttrName).(string)
			if o, ok := m.Val(dwarf.AttrDataMemberLoc).(int64); ok {
				off[name] = o
			}
			if m.Children {
				r.SkipChildren()
			}
		}
		var l gLayout
		for _, f := range []struct {
			name string
			dst  *int64
		}{{"goid", &l.goid}, {"_panic", &l.panic}, {"sig", &l.sig}, {"sigcode0", &l.sigcode0}, {"sigcode1", &l.sigcode1}, {"sigpc", &l.sigpc}} {
			o, ok := off[f.name]
			if !ok {
				return gLayout{}, fmt.Errorf("runtime.g has no field %s", f.name)
			}
			*f.dst = o
		}
		return l, nil
	}
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
