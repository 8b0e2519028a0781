package analysis

import (
	"fmt"

	"github.com/coredig/coredig/internal/dwarfvar"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/unwind"
)

// Bounds of the locals shown for the crashing thread.
const (
	maxLocalFrames = 16 // physical frames given locals
	maxLocals      = 32 // variables per frame
)

// addLocals gives the first frames of the crashing thread their variables, read from
// DWARF at each frame's pc with the registers and CFA the unwinder found there.
// spans[i] is where walk[i]'s report frames sit in frames.
func (a *Analysis) addLocals(frames []report.Frame, walk []*unwind.Frame, spans [][2]int) {
	for i, f := range walk {
		if i >= maxLocalFrames || i >= len(spans) {
			break
		}
		if f.Signal != nil || f.FoundBy == unwind.FoundByScan {
			continue
		}
		pc := f.PC
		if f.ReturnAddress && pc > 0 {
			pc-- // the call, where the caller's variables are as they were
		}
		a.placeLocals(frames[spans[i][0]:spans[i][1]], pc, f)
	}
}

// placeLocals reads the variables at pc in frame f and gives each to its report frame:
// an inlined call's variables to that inlined frame, the function's own to the concrete
// frame (report frames for one pc run innermost inlined call first, concrete last).
func (a *Analysis) placeLocals(group []report.Frame, pc uint64, f *unwind.Frame) {
	if len(group) == 0 {
		return
	}
	locals, inline, depth := a.frameLocals(pc, f)
	for k, l := range locals {
		// The concrete frame is the last of the group; each inlining level is one
		// frame further in, unless the DWARF scopes and the frames do not line up.
		j := len(group) - 1 - inline[k]
		if len(group) != depth+1 || j < 0 {
			j = 0
		}
		if len(group[j].Locals) < maxLocals {
			group[j].Locals = append(group[j].Locals, l)
		}
	}
}

// frameLocals reads the variables visible at pc in frame f, with each one's inlining
// level and the depth of inlined calls at pc.
func (a *Analysis) frameLocals(pc uint64, f *unwind.Frame) (out []report.Local, inline []int, depth int) {
	m := a.Modules.ModuleFor(pc)
	if m == nil || !m.Usable() {
		return nil, nil, 0
	}
	rd, err := a.varReader(m.Path)
	if err != nil {
		return nil, nil, 0
	}
	sc, err := rd.ScopeAt(pc - m.Bias)
	if err != nil || sc == nil {
		return nil, nil, 0
	}
	for _, v := range sc.Vars {
		if len(out) >= 4*maxLocals || v.Name == "" {
			continue
		}
		l := report.Local{Name: v.Name, Type: dwarfvar.TypeName(v.Type), Param: v.Param}
		l.Value, err = a.valueTarget().Value(v, sc, dwarfvar.Frame{Regs: frameRegs{a, f}, CFA: f.CFA, HasCFA: f.HasCFA}, m.Bias)
		if err != nil {
			l.Value, l.Error = "", err.Error()
		}
		out = append(out, l)
		inline = append(inline, v.Inline)
	}
	return out, inline, sc.Inlines
}

// frameRegs gives DWARF expressions the registers the unwinder knows in a frame.
type frameRegs struct {
	a *Analysis
	f *unwind.Frame
}

func (r frameRegs) Reg(n uint64) (uint64, error) {
	i := r.a.Core.Arch.FromDWARF(n)
	if v, ok := r.f.Regs.Get(i); ok && i >= 0 {
		return v, nil
	}
	return 0, fmt.Errorf("register %d not saved in this frame", n)
}

// valueTarget is the core as dwarfvar reads variables' values from it.
func (a *Analysis) valueTarget() *dwarfvar.Target {
	c := a.Core
	return &dwarfvar.Target{Mem: c, PtrSize: c.Arch.PtrSize, Order: c.Arch.ByteOrder, ReadCString: c.ReadCString, Symbolize: a.symbolizeAddr}
}
