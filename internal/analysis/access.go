package analysis

import (
	"fmt"

	"github.com/coredig/coredig/internal/diagnose"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/dwarfvar"
	"github.com/coredig/coredig/internal/origin"
	"github.com/coredig/coredig/internal/report"
)

// accessKinds are the classifications whose faulting access went through a pointer.
var accessKinds = map[string]bool{"null_pointer_dereference": true, "wild_pointer": true, "non_canonical_address": true,
	"general_protection": true, "write_to_readonly": true, "misaligned_access": true, "bus_error_mapped_file": true}

// explainAccess names, from DWARF, what the faulting access went through: the pointer
// variable, its type and the field ("runtime_signals->handlers[6].tripped").
func (a *Analysis) explainAccess(rd *report.Diagnosis, f *diagnose.Facts) {
	if !accessKinds[rd.Kind] {
		return
	}
	ctx := f
	if f.Original != nil {
		ctx = f.Original
	}
	if ctx.Inst == nil {
		return
	}
	var mem *disasm.MemOperand
	for i := range ctx.Inst.Mem {
		if m := &ctx.Inst.Mem[i]; !m.Implicit && m.Base != "" {
			mem = m
			break
		}
	}
	if mem == nil {
		return
	}
	pc := ctx.Regs[a.Core.Arch.RegNames[a.Core.Arch.PC]]
	s := &origin.Search{Arch: a.Core.Arch, Prog: program{a}, Frames: a.originFrames(),
		Mode: func(at uint64) disasm.Mode {
			if at == pc {
				return a.codeMode(at, ctx.Regs)
			}
			return a.codeMode(at, nil)
		}}
	o, err := s.Access(pc, *mem, ctx.Regs, a.faultCFA(pc))
	if err != nil {
		rd.AddEvidence("source_access", "unknown: "+err.Error())
		return
	}
	rd.AddEvidence("source_access", o.Expr)
	rd.AddEvidence("pointer", o.Pointer+" ("+o.Type+")")
	rd.AddEvidence("pointer_source", o.How)
	via := ""
	if o.Caller != "" {
		via = ", passed by " + o.Caller
	}
	rd.Summary += fmt.Sprintf(" In the source: %s, through %s (%s)%s.", o.Expr, o.Pointer, o.Type, via)
}

// faultCFA is the CFA of the frame executing the faulting pc: the crashing frame, or the
// frame interrupted by the signal a handler re-raised.
func (a *Analysis) faultCFA(pc uint64) uint64 {
	for i, f := range a.crashWalk {
		if f.PC == pc && (i == 0 || a.crashWalk[i-1].Signal != nil) && f.HasCFA {
			return f.CFA
		}
	}
	return 0
}

// originFrames are the crashing thread's frames as the access search takes them.
func (a *Analysis) originFrames() []origin.Frame {
	names := a.Core.Arch.RegNames
	out := make([]origin.Frame, 0, len(a.crashWalk))
	for i, f := range a.crashWalk {
		of := origin.Frame{PC: f.PC, ReturnAddress: f.ReturnAddress, Regs: map[string]uint64{},
			Interrupted: i > 0 && a.crashWalk[i-1].Signal != nil}
		for k, n := range names {
			if v, ok := f.Regs.Get(k); ok {
				of.Regs[n] = v
			}
		}
		if f.HasCFA {
			of.CFA = f.CFA
		}
		out = append(out, of)
	}
	return out
}

// program is the process as the access search reads it: the core's memory (with the
// module files behind it), the modules' symbols and their DWARF variables.
type program struct{ a *Analysis }

func (p program) ReadAt(b []byte, addr uint64) (int, error) { return p.a.Core.ReadAt(b, addr) }

func (p program) Func(pc uint64) (string, uint64) {
	s := p.a.Modules.Lookup(pc)
	return s.Function, s.FuncStart
}

func (p program) Data(addr uint64) string { return p.a.Modules.LookupData(addr) }

func (p program) Module(pc uint64) (origin.Module, bool) {
	m := p.a.Modules.ModuleFor(pc)
	if m == nil {
		return origin.Module{}, false
	}
	om := origin.Module{Bias: m.Bias, Usable: m.Usable()}
	if rd, err := p.a.varReader(m.Path); rd != nil {
		om.Vars = rd // never a nil *dwarfvar.Reader in the interface
	} else {
		om.VarsErr = err
	}
	return om, true
}

// varReader opens a module's DWARF for variables, once.
func (a *Analysis) varReader(path string) (*dwarfvar.Reader, error) {
	if a.varReaders == nil {
		a.varReaders = map[string]*varReaderEntry{}
	}
	if e, ok := a.varReaders[path]; ok {
		return e.r, e.err
	}
	e := &varReaderEntry{}
	if ix, f, read := a.Modules.DWARFFor(path); ix != nil {
		info, addr, order := ix.Raw()
		e.r = dwarfvar.New(ix, info, addr, order, f, read) // ix may be shared with other analyses (triage)
		e.r.UseUnitIndex(ix.UnitsAt)
	} else {
		e.err = fmt.Errorf("no debug information for %s", path)
	}
	a.varReaders[path] = e
	return e.r, e.err
}

type varReaderEntry struct {
	r   *dwarfvar.Reader
	err error
}
