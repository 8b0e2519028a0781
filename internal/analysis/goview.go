package analysis

import (
	"errors"
	"strconv"
	"strings"

	"github.com/coredig/coredig/internal/report"
)

// maxGoroutineStacks bounds how many goroutines are unwound; the rest are listed with
// their state only.
const maxGoroutineStacks = 10000

// GoView reads a Go program's goroutines: state, wait reason, the thread running it,
// and the stack unwound from its saved context (g.sched). It returns nil when the
// program is not a Go program.
func (a *Analysis) GoView(maxDepth int) *report.Go {
	rt, err := a.goRuntimeOf()
	if errors.Is(err, errNotGo) {
		return nil
	}
	out := &report.Go{Goroutines: []report.Goroutine{}}
	if err != nil {
		out.Error = err.Error()
		return out
	}
	if rt.version != 0 {
		out.Version = a.goString(rt.version)
	}
	gs, err := a.goroutines(rt)
	if err != nil {
		out.Error = err.Error()
	}
	arch := a.Core.Arch
	unwound := 0
	for _, g := range gs {
		st := g.status &^ 0x1000
		if st == 6 || st == 0 { // dead or never used: nothing to show
			continue
		}
		rg := report.Goroutine{ID: g.goid, Status: goStatus(g.status), Frames: []report.Frame{}}
		if st == 4 || st == 3 || st == 1 {
			rg.WaitReason = a.goWaitReason(rt, g.waitReason)
			if st != 4 {
				rg.WaitReason = ""
			}
		}
		if g.mProcID != 0 && g.mProcID < 1<<31 {
			tid := int(g.mProcID)
			rg.TID = &tid
		}
		switch {
		case st == 2:
			// Running: g.sched is stale; the goroutine's stack is its thread's.
		case g.schedPC == 0 || g.schedSP == 0:
			rg.Error = "no saved context (g.sched is empty)"
		case unwound >= maxGoroutineStacks:
			rg.Error = "not unwound: more than " + strconv.Itoa(maxGoroutineStacks) + " goroutines"
		default:
			unwound++
			regs := make([]uint64, len(arch.RegNames))
			regs[arch.PC], regs[arch.SP] = g.schedPC, g.schedSP
			if arch.FP >= 0 {
				regs[arch.FP] = g.schedBP
			}
			if arch.LR >= 0 {
				regs[arch.LR] = g.schedLR
			}
			// g.sched.pc is where the goroutine will resume: a return address (after
			// the call into mcall or gosave), unless it is a function's entry (a
			// goroutine that never ran).
			sym := a.Modules.Lookup(g.schedPC)
			isReturn := sym.Function == "" || sym.FuncStart != g.schedPC
			walk, werr := a.unwindRegs(regs, maxDepth, isReturn)
			rg.Frames, _, rg.Error = a.symbolizeWalk(walk, werr)
			if rg.Frames == nil {
				rg.Frames = []report.Frame{}
			}
		}
		out.Goroutines = append(out.Goroutines, rg)
	}
	out.Groups = groupGoroutines(out.Goroutines)
	return out
}

// groupGoroutines collects goroutines with one status, wait reason and list of
// functions, in order of their first goroutine.
func groupGoroutines(gs []report.Goroutine) []report.GoroutineGroup {
	var out []report.GoroutineGroup
	index := map[string]int{}
	for _, g := range gs {
		var b strings.Builder
		b.WriteString(g.Status + "\x00" + g.WaitReason)
		if g.Status == "running" {
			b.WriteString("\x00" + strconv.FormatUint(g.ID, 10)) // each on its own thread
		}
		for _, f := range g.Frames {
			b.WriteString("\x00" + f.Function + ":" + strconv.Itoa(f.Line))
		}
		k := b.String()
		if i, ok := index[k]; ok {
			out[i].Count++
			out[i].IDs = append(out[i].IDs, g.ID)
			continue
		}
		index[k] = len(out)
		out = append(out, report.GoroutineGroup{Count: 1, IDs: []uint64{g.ID}, Status: g.Status, WaitReason: g.WaitReason, Frames: g.Frames})
	}
	return out
}
