package analysis

import (
	"debug/elf"
	"errors"
	"strconv"

	"github.com/coredig/coredig/internal/goruntime"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
)

// maxGoroutineStacks bounds how many goroutines are unwound; the rest are listed with
// their state only.
const maxGoroutineStacks = 10000

// goProcess presents the core and its modules to the Go runtime reader.
type goProcess struct{ a *Analysis }

func (p goProcess) ReadAt(b []byte, addr uint64) (int, error) { return p.a.Core.ReadAt(b, addr) }

func (p goProcess) Modules() []goruntime.Module {
	var out []goruntime.Module
	for _, m := range p.a.Modules.Modules {
		if m.Usable() {
			out = append(out, goModule{p.a.Modules, m})
		}
	}
	return out
}

func (p goProcess) FuncStart(pc uint64) (uint64, bool) {
	sym := p.a.Modules.Lookup(pc)
	return sym.FuncStart, sym.Function != ""
}

// goModule is one module as the Go runtime reader sees it.
type goModule struct {
	t *symbolize.Table
	m *symbolize.Module
}

func (m goModule) ELF() *elf.File { return m.m.ELF() }

func (m goModule) Symbol(name string) (uint64, bool) { return m.t.FindSymbolIn(m.m, name) }

// goRuntime finds the Go runtime in the program, once.
func (a *Analysis) goRuntime() (*goruntime.Runtime, error) {
	if a.goRT != nil || a.goRTErr != nil {
		return a.goRT, a.goRTErr
	}
	a.goRT, a.goRTErr = goruntime.Find(goProcess{a}, a.Core.Arch)
	return a.goRT, a.goRTErr
}

// GoView reads a Go program's goroutines: state, wait reason, the thread running it,
// and the stack unwound from its saved context (g.sched). It returns nil when the
// program is not a Go program.
func (a *Analysis) GoView(maxDepth int) *report.Go {
	rt, err := a.goRuntime()
	if errors.Is(err, goruntime.ErrNotGo) {
		return nil
	}
	out := &report.Go{Goroutines: []report.Goroutine{}}
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Version = rt.Version()
	gs, err := rt.Goroutines()
	if err != nil {
		out.Error = err.Error()
	}
	unwound := 0
	for i := range gs {
		g := &gs[i]
		st := g.State()
		if st == goruntime.Gdead || st == goruntime.Gidle { // nothing to show
			continue
		}
		rg := report.Goroutine{ID: g.Goid, Status: goruntime.StatusName(g.Status), Frames: []report.Frame{}}
		if st == goruntime.Gwaiting {
			rg.WaitReason = rt.WaitReason(g.WaitReason)
		}
		if tid, ok := g.TID(); ok {
			rg.TID = &tid
		}
		switch {
		case st == goruntime.Grunning:
			// Running: g.sched is stale; the goroutine's stack is its thread's.
		case !g.HasContext():
			rg.Error = "no saved context (g.sched is empty)"
		case unwound >= maxGoroutineStacks:
			rg.Error = "not unwound: more than " + strconv.Itoa(maxGoroutineStacks) + " goroutines"
		default:
			unwound++
			regs, isReturn := rt.Context(g)
			walk, werr := a.unwindRegs(regs, maxDepth, isReturn)
			rg.Frames, _, rg.Error = a.symbolizeWalk(walk, werr)
			if rg.Frames == nil {
				rg.Frames = []report.Frame{}
			}
		}
		out.Goroutines = append(out.Goroutines, rg)
	}
	out.Groups = report.GroupGoroutines(out.Goroutines)
	return out
}
