package analysis

import (
	"fmt"

	"github.com/coredig/coredig/internal/core"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/coredig/coredig/internal/hangs"
	"github.com/coredig/coredig/internal/owner"
	"github.com/coredig/coredig/internal/report"
)

// Hangs records what every thread of r waits for (Thread.Waiting) and returns the hang
// the waits explain, or nil. r has its backtraces and Python state.
func (a *Analysis) Hangs(r *report.Report) *hangs.Diagnosis {
	c := a.Core
	p := &hangs.Process{Arch: c.Arch, Mem: c, Descriptors: c.Descriptors}
	py := map[int][]report.PythonFrame{}
	if r.Python != nil && r.Python.Error == "" {
		hp := &hangs.Python{Interpreter: a.isInterpreter, DropRequest: a.pyDropRequest}
		if r.Python.GILHolderTID != nil {
			hp.GILHolder = int(*r.Python.GILHolderTID)
		}
		p.Python = hp
		for _, t := range r.Python.Threads {
			if t.TID != nil && (py[int(*t.TID)] == nil || t.GILHolder) {
				py[int(*t.TID)] = t.Frames
			}
		}
	}
	inst := len(c.Arch.Syscall.Inst)
	for i, t := range c.Threads {
		ht := hangs.Thread{TID: t.TID, Regs: t.Regs}
		if pc := t.PC(c.Arch); pc >= uint64(inst) {
			code := make([]byte, inst)
			if n, _ := c.ReadAt(code, pc-uint64(inst)); n == inst {
				ht.Code = code
			}
		}
		if c.Arch.Pthread.SelfIsTP && t.HasTLS {
			ht.Ident = t.TLS
		}
		if i < len(r.Threads) && r.Threads[i].TID == t.TID {
			for _, f := range r.Threads[i].Frames {
				ht.Frames = append(ht.Frames, hangs.Frame{Function: f.Function, Module: f.Module})
			}
			ht.Where = where(r.Threads[i].Frames, py[t.TID])
		}
		ht.PyStacks = a.pyStacks[t.TID]
		for _, f := range py[t.TID] {
			ht.Python = append(ht.Python, hangs.PyFrame{Function: f.Function, QualName: f.QualName, File: f.File, Line: f.Line})
		}
		p.Threads = append(p.Threads, ht)
	}
	res := hangs.Explain(p)
	for i := range r.Threads {
		w := res.Waits[r.Threads[i].TID]
		if w == nil {
			continue
		}
		rw := &report.Waiting{Kind: w.Kind, OwnerOutside: w.OwnerOutside, OwnerDied: w.OwnerDied,
			Call: w.Call, Text: w.Text(), Detail: w.Detail, Where: w.Where}
		if w.HasAddress {
			rw.Address = report.HexPtr(w.Address)
		}
		if w.OwnerTID != 0 {
			tid := w.OwnerTID
			rw.OwnerTID = &tid
		}
		if w.Syscall != nil {
			rw.Syscall = w.Syscall.Name
		}
		if w.Kind == hangs.KindCondvar && i < len(c.Threads) {
			if cond, m := a.condArgs(c.Threads[i]); m != "" {
				rw.Detail = fmt.Sprintf("a condition variable: no thread owns it; it waits to be signalled, and released mutex %s (the mutex argument of pthread_cond_wait, from DWARF)", m)
				if v, err := strconv.ParseUint(cond, 0, 64); err == nil {
					rw.Address = report.HexPtr(v)
				}
				rw.Text = fmt.Sprintf("waiting on condition variable %s (no owner), released mutex %s", rw.Address, m)
			}
		}
		r.Threads[i].Waiting = rw
	}
	d := res.Diagnosis
	// A Go program's threads wait in the scheduler; its goroutines say what the
	// program waits for.
	if gd := a.goHangs(r); gd != nil && (d == nil || d.Kind != hangs.KindDeadlock) {
		d = gd
	}
	return d
}

// isInterpreter reports whether a module is CPython's executable or libpython. Both
// count: a CPython built with --enable-shared (pyenv's, Debian's) runs its eval loop in
// libpython, called from a python executable that is mapped first.
func (a *Analysis) isInterpreter(module string) bool {
	if module == "" {
		return false
	}
	for _, m := range a.Modules.Modules {
		if m.Name != module {
			continue
		}
		base := filepath.Base(m.Name)
		if strings.HasPrefix(base, "libpython") || (m.IsExec && strings.HasPrefix(base, "python")) {
			return true
		}
	}
	return false
}

// where names the place a thread blocked, for people: its innermost Python frame, or
// its first native frame outside the C and C++ runtimes and their headers.
func where(frames []report.Frame, py []report.PythonFrame) string {
	if len(py) > 0 {
		f := py[0]
		name := f.QualName
		if name == "" {
			name = f.Function
		}
		return fmt.Sprintf("%s at %s:%d", name, filepath.Base(f.File), f.Line)
	}
	for _, f := range frames {
		if f.Function == "" || isSystemLayer(f, true) || strings.HasPrefix(f.File, "/usr/include/") {
			continue
		}
		if f.File != "" && f.Line > 0 {
			return fmt.Sprintf("%s at %s:%d", f.Function, filepath.Base(f.File), f.Line)
		}
		return f.Function
	}
	return ""
}

// isSystemLayer reports whether a native frame runs in the C library, the dynamic loader
// or the vDSO (and, with cxx, the C++ runtime): code that did what its caller asked, so
// the caller is the one to name.
func isSystemLayer(f report.Frame, cxx bool) bool {
	if f.Module == "" {
		return false
	}
	switch owner.Runtime(owner.Frame{Module: f.Module}) {
	case "the C library", "the dynamic loader", "the vDSO":
		return true
	case "the C++ runtime":
		return cxx
	}
	return false
}

// hangSignals are the signals a watchdog, a CI runner or an operator sends a hung
// process: SIGINT, SIGQUIT, SIGABRT, SIGKILL, SIGTERM.
var hangSignals = map[int]bool{2: true, 3: true, 6: true, 9: true, 15: true}

// explainHang replaces the diagnosis of a process that another process killed with a
// watchdog's signal, or of a snapshot, by the hang its threads' waits explain; a
// snapshot's only when its root is blocked, not running (hangs.Diagnosis.Running). A crash
// (a fault, or a signal the process sent itself) keeps its diagnosis, unless it is the
// Go runtime's own deadlock check (goDeadlock) and the waits explain a deadlock too.
// caught is the watchdog's signal when the process caught it and re-raised it to die
// (the Go runtime's GOTRACEBACK=crash), nil otherwise.
func explainHang(r *report.Report, hd *hangs.Diagnosis, snapshot bool, caught *report.Signal, goDeadlock bool) {
	if hd == nil || r.Signal == nil {
		return
	}
	s := r.Signal
	if caught != nil {
		s = caught
	}
	killed := hangSignals[s.Number] && s.SenderPID != nil && s.SenderIsSelf != nil && !*s.SenderIsSelf
	goDeadlock = goDeadlock && hd.Kind == hangs.KindDeadlock
	if !killed && !snapshot && !goDeadlock {
		return
	}
	if hd.Running && !killed {
		// A snapshot of a thread running native code with the GIL is a busy
		// interpreter until a watchdog says it ran too long.
		return
	}
	d := &report.Diagnosis{Kind: hd.Kind, Summary: hd.Summary}
	if goDeadlock {
		d.Summary += " The Go runtime found it too: its checkdead ended the process (\"fatal error: all goroutines are asleep - deadlock!\", on stderr), and GOTRACEBACK=crash dumped core."
		d.AddEvidence("go_runtime", "runtime.checkdead on the crashing thread: fatal error: all goroutines are asleep - deadlock!")
	}
	if killed {
		d.Summary += fmt.Sprintf(" The process was then killed by %s from pid %d.", s.Name, *s.SenderPID)
		d.AddEvidence("killed_by", fmt.Sprintf("%s (%d) sent by pid %d", s.Name, s.Number, *s.SenderPID))
	}
	for _, it := range hd.Evidence {
		d.AddEvidence(it.Key, it.Value)
	}
	if caught != nil && killed {
		d.Summary += " The Go runtime caught the signal and re-raised it to dump core (GOTRACEBACK=crash)."
	}
	for _, e := range hd.Cycle {
		ce := report.CycleEdge{TID: e.TID, WaitsForTID: e.WaitsFor, Kind: e.Kind}
		if e.Goroutine {
			g, w := uint64(e.TID), uint64(e.WaitsFor)
			ce = report.CycleEdge{Goroutine: &g, WaitsForGoroutine: &w, Kind: e.Kind}
		}
		if e.HasLock {
			ce.Lock = report.HexPtr(e.Lock)
		}
		d.Cycle = append(d.Cycle, ce)
	}
	r.Diagnosis = d
}

// condWaitFuncs are glibc's condition-wait functions whose "mutex" parameter is the mutex
// the wait released (nptl/pthread_cond_wait.c).
var condWaitFuncs = []string{"__pthread_cond_wait_common", "___pthread_cond_wait", "___pthread_cond_timedwait",
	"___pthread_cond_clockwait", "__pthread_cond_wait", "__pthread_cond_timedwait", "__pthread_cond_clockwait",
	"pthread_cond_wait", "pthread_cond_timedwait", "pthread_cond_clockwait"}

// condArgs reads the condition variable a thread waits on and the mutex its wait
// released from the DWARF variables of its pthread_cond_wait frame ("0x…" each); ""
// without libc's debug information or where the compiler kept no location for them.
func (a *Analysis) condArgs(t *core.Thread) (cond, mutex string) {
	walk, _ := a.Unwind(t, 12)
	for _, f := range walk {
		pc := f.PC
		if f.ReturnAddress && pc > 0 {
			pc--
		}
		fn := a.Modules.Lookup(pc).Function
		known := false
		for _, n := range condWaitFuncs {
			known = known || fn == n
		}
		if !known {
			continue
		}
		locals, _, _ := a.frameLocals(pc, f)
		for _, l := range locals {
			if l.Error != "" || !strings.HasPrefix(l.Value, "0x") {
				continue
			}
			switch l.Name {
			case "mutex":
				mutex = l.Value
			case "cond":
				cond = l.Value
			}
		}
		if mutex != "" {
			return cond, mutex
		}
	}
	return "", ""
}
