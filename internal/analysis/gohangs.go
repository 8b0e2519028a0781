package analysis

import (
	"fmt"
	"strings"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/goruntime"
	"github.com/coredig/coredig/internal/hangs"
	"github.com/coredig/coredig/internal/report"
)

// goSemaReasons are the wait reasons of goroutines parked on a runtime semaphore, which
// runtime.semtable holds.
var goSemaReasons = map[string]string{
	"sync.Mutex.Lock": hangs.KindMutex, "sync.RWMutex.Lock": hangs.KindRwlock, "sync.RWMutex.RLock": hangs.KindRwlock,
	"sync.WaitGroup.Wait": hangs.KindGoSema, "semacquire": hangs.KindGoSema,
}

// goChanReasons are the wait reasons of goroutines parked in a channel operation or a
// select, whose sudogs g.waiting lists.
var goChanReasons = map[string]bool{"chan receive": true, "chan send": true, "select": true}

// goHangs records what every parked goroutine of r.Go waits for (Goroutine.Waiting) and
// returns the deadlock among them, or nil. r.Go has its goroutines and their stacks.
func (a *Analysis) goHangs(r *report.Report) *hangs.Diagnosis {
	if r.Go == nil || r.Go.Error != "" {
		return nil
	}
	// Nothing parked on a lock or a channel: no second pass over the DWARF.
	parked := false
	for _, g := range r.Go.Goroutines {
		_, sema := goSemaReasons[g.WaitReason]
		parked = parked || sema || goChanReasons[g.WaitReason]
	}
	if !parked {
		return nil
	}
	rt, err := a.goRuntime()
	if err != nil {
		return nil
	}
	gs, _ := rt.Goroutines()
	byID := map[uint64]*report.Goroutine{}
	for i := range r.Go.Goroutines {
		byID[r.Go.Goroutines[i].ID] = &r.Go.Goroutines[i]
	}
	var sema map[uint64]uint64
	var ps []*goruntime.G // the g of each of p.Goroutines
	p := &hangs.GoProcess{Arch: a.Core.Arch, Mem: a.Core, FuncName: func(pc uint64) string { return a.Modules.Lookup(pc).Function }}
	for i := range gs {
		g := &gs[i]
		rg := byID[g.Goid]
		st := g.State()
		if rg == nil || st == goruntime.Gdead || st == goruntime.Gidle {
			continue
		}
		hg := hangs.Goroutine{ID: g.Goid, Status: rg.Status, WaitReason: rg.WaitReason, Where: goWhere(rg.Frames), System: goSystem(rg.Frames)}
		if st == goruntime.Gwaiting {
			if kind, ok := goSemaReasons[rg.WaitReason]; ok {
				if sema == nil {
					sema, _ = rt.SemaWaits()
				}
				if s, ok := sema[g.Addr]; ok {
					goSemaWait(rt, &hg, kind, s)
				}
			} else if goChanReasons[rg.WaitReason] {
				goChanWait(rt, g, &hg)
			}
		}
		p.Goroutines = append(p.Goroutines, hg)
		ps = append(ps, g)
	}
	// The holders of the sync.Mutexes waited for are looked for in every goroutine's
	// stack and deferred calls.
	for i := range p.Goroutines {
		if p.Goroutines[i].Kind != hangs.KindMutex {
			continue
		}
		for j := range p.Goroutines {
			hg, g := &p.Goroutines[j], ps[j]
			if stk, err := rt.StackOf(g); err == nil {
				hg.StackLo, hg.StackHi = stk.Lo, stk.Hi
				if g.State() != goruntime.Grunning && g.Sched.SP >= stk.Lo && g.Sched.SP < stk.Hi {
					hg.StackLo = g.Sched.SP
				}
			}
			hg.Defers, _ = rt.Defers(g)
		}
		break
	}
	if n, err := rt.Timers(); err == nil {
		p.Timers, p.TimersKnown = n, true
	}
	res := hangs.ExplainGo(p)
	for id, w := range res.Waits {
		rg := byID[id]
		rw := &report.Waiting{Kind: w.Kind, Text: w.Text, Detail: w.Detail, Where: w.Where}
		if w.HasAddress {
			rw.Address = report.HexPtr(w.Address)
		}
		if w.OwnerGoroutine != 0 {
			o := w.OwnerGoroutine
			rw.OwnerGoroutine = &o
		}
		rg.Waiting = rw
	}
	return res.Diagnosis
}

// goSemaWait fills hg for a goroutine parked on the runtime semaphore at s.
func goSemaWait(rt *goruntime.Runtime, hg *hangs.Goroutine, kind string, s uint64) {
	hg.Kind = kind
	switch kind {
	case hangs.KindMutex:
		m, err := rt.MutexOfSema(s)
		if err != nil {
			hg.Kind, hg.Address, hg.HasAddress = hangs.KindGoSema, s, true
			hg.Detail = fmt.Sprintf("the semaphore at %#x (%v)", s, err)
			return
		}
		hg.Address, hg.HasAddress, hg.Locked = m.Addr, true, m.Locked()
		state := "unlocked"
		if m.Locked() {
			state = "locked"
		}
		if m.Starving() {
			state += ", starving"
		}
		hg.Detail = fmt.Sprintf("sync.Mutex at %#x, state %#x (%s, waiters %d), found in runtime.semtable by its semaphore %#x", m.Addr, m.State, state, m.Waiters(), s)
	case hangs.KindRwlock:
		writer := hg.WaitReason == "sync.RWMutex.Lock"
		rw, err := rt.RWMutexOfSema(s, writer)
		if err != nil {
			hg.Kind, hg.Address, hg.HasAddress = hangs.KindGoSema, s, true
			hg.Detail = fmt.Sprintf("the semaphore at %#x (%v)", s, err)
			return
		}
		want := "to read, behind a writer"
		if writer {
			want = "to write, for its readers to finish"
		}
		hg.Address, hg.HasAddress = rw, true
		hg.Detail = fmt.Sprintf("sync.RWMutex at %#x, waiting %s (a sync.RWMutex records no owner)", rw, want)
	default:
		hg.Address, hg.HasAddress = s, true
		hg.Detail = fmt.Sprintf("%s: the semaphore at %#x, found in runtime.semtable; a semaphore has no owner", hg.WaitReason, s)
	}
}

// goChanWait fills hg for a goroutine parked in a channel operation or a select.
func goChanWait(rt *goruntime.Runtime, g *goruntime.G, hg *hangs.Goroutine) {
	cs, err := rt.Channels(g)
	hg.Kind = hangs.KindChannel
	if len(cs) == 0 {
		hg.Detail = hg.WaitReason + ": its channels could not be read from g.waiting"
		if err != nil {
			hg.Detail += " (" + err.Error() + ")"
		}
		return
	}
	var parts []string
	for _, c := range cs {
		s := fmt.Sprintf("%#x", c)
		if ch, err := rt.ChanOf(c); err == nil {
			if ch.HasLen {
				if ch.Cap == 0 {
					s += " (unbuffered"
				} else {
					s += fmt.Sprintf(" (%d of %d buffered", ch.Len, ch.Cap)
				}
				if ch.Closed {
					s += ", closed"
				}
				s += ")"
			}
		}
		parts = append(parts, s)
	}
	if len(cs) == 1 {
		hg.Address, hg.HasAddress = cs[0], true
	}
	hg.Detail = fmt.Sprintf("%s on channel %s (runtime.hchan, from g.waiting); a channel has no owner", hg.WaitReason, strings.Join(parts, ", "))
}

// goWhere names the frame a goroutine blocked in: its innermost frame outside the
// runtime and the sync packages.
func goWhere(frames []report.Frame) string {
	for _, f := range frames {
		fn := f.Function
		if fn == "" || strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/") || strings.HasPrefix(fn, "sync.") {
			continue
		}
		if f.File != "" && f.Line > 0 {
			return fmt.Sprintf("%s at %s:%d", fn, f.File[strings.LastIndexByte(f.File, '/')+1:], f.Line)
		}
		return fn
	}
	return ""
}

// goSystem reports whether a goroutine is one of the runtime's own: its outermost frame
// below runtime.goexit is in package runtime (runtime/traceback.go isSystemGoroutine).
func goSystem(frames []report.Frame) bool {
	for i := len(frames) - 1; i >= 0; i-- {
		fn := frames[i].Function
		if fn == "runtime.goexit" || fn == "" {
			continue
		}
		return strings.HasPrefix(fn, "runtime.") && fn != "runtime.main"
	}
	return false
}

// goKilledBy finds the signal another process sent a Go program that the runtime caught
// and re-raised to die from it (GOTRACEBACK=crash: sighandler, crash, dieFromSignal): the
// siginfo of a signal frame on the crashing thread's stack whose sender is no thread of
// the process. nil when there is none.
func (a *Analysis) goKilledBy(r *report.Report) *report.Signal {
	if r.Go == nil || r.Signal == nil || r.Signal.SenderIsSelf == nil || !*r.Signal.SenderIsSelf {
		return nil
	}
	frames := a.crashWalk
	if frames == nil {
		if t := a.CrashedThread(); t != nil {
			frames, _ = a.Unwind(t, 0)
		}
	}
	c := a.Core
	for _, f := range frames {
		if f.Signal == nil || f.Signal.SigInfo == 0 {
			continue
		}
		buf := make([]byte, core.SigInfoSize)
		if c.ReadFull(buf, f.Signal.SigInfo) != nil {
			continue
		}
		si, err := core.DecodeSigInfo(c.Arch, buf)
		if err != nil || !si.HasSender || !hangSignals[si.Signo] || a.isOwnPID(si.SenderPID) {
			continue
		}
		s := newSignal(si.Signo, si.Code, false, 0, "signal frame siginfo: the signal the Go runtime caught before it re-raised it")
		pid, self := si.SenderPID, false
		s.SenderPID, s.SenderIsSelf = &pid, &self
		return s
	}
	return nil
}

// goKilled replaces the diagnosis of a Go program that another process killed, whose
// runtime caught the signal and re-raised it (GOTRACEBACK=crash), when no hang explained
// it: the abort is the runtime's answer to the signal, not a panic of the program.
func goKilled(r *report.Report, caught *report.Signal) {
	d := r.Diagnosis
	if caught == nil || d == nil || d.Kind != "abort" || d.Evidence["cause"] != "go_runtime" {
		return
	}
	nd := &report.Diagnosis{Kind: "killed_by_signal",
		Summary: fmt.Sprintf("Killed by %s sent by another process: pid %d; the Go runtime caught it and re-raised it to dump core (GOTRACEBACK=crash), printing every goroutine's stack on stderr; the program did not fault.", caught.Name, *caught.SenderPID)}
	nd.AddEvidence("killed_by", fmt.Sprintf("%s (%d) sent by pid %d (%s)", caught.Name, caught.Number, *caught.SenderPID, caught.Source))
	nd.Culprit = d.Culprit
	r.Diagnosis = nd
}

// goCheckdead reports whether the crashing thread is in the Go runtime's checkdead: the
// runtime itself found every goroutine asleep and ended the process (proc.go checkdead
// calls fatal("all goroutines are asleep - deadlock!")).
func goCheckdead(r *report.Report) bool {
	if r.Go == nil {
		return false
	}
	for _, t := range r.Threads {
		if !t.Crashed {
			continue
		}
		for _, f := range t.Frames {
			if f.Function == "runtime.checkdead" {
				return true
			}
		}
	}
	return false
}
