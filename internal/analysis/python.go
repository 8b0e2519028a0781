package analysis

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/coredig/coredig/internal/python"
	"github.com/coredig/coredig/internal/report"
)

// pyProcess presents the core to the CPython walker.
type pyProcess struct{ a *Analysis }

func (p pyProcess) ReadAt(b []byte, addr uint64) (int, error) { return p.a.Core.ReadAt(b, addr) }
func (p pyProcess) PtrSize() int                              { return p.a.Core.Arch.PtrSize }

func (p pyProcess) Symbol(name string) (uint64, bool) {
	addr, _, ok := p.a.Modules.FindSymbol(name)
	return addr, ok
}

func (p pyProcess) Threads() []python.OSThread {
	var out []python.OSThread
	for _, t := range p.a.Core.Threads {
		o := python.OSThread{TID: uint64(t.TID)}
		if t.HasTLS {
			if p.a.Core.Arch.TLS >= 0 {
				o.FSBase = t.TLS
			} else {
				o.TPIDR = t.TLS
			}
		}
		out = append(out, o)
	}
	return out
}

func (p pyProcess) Modules() []python.Module {
	var out []python.Module
	for _, m := range p.a.Modules.Modules {
		out = append(out, python.Module{Path: m.Name, Start: m.Start, End: m.End})
	}
	return out
}

// hasPython reports whether a CPython interpreter is mapped: a python executable or a
// libpython shared library.
func (a *Analysis) hasPython() bool {
	for _, m := range a.Modules.Modules {
		base := filepath.Base(m.Name)
		if strings.HasPrefix(base, "libpython") || (m.IsExec && strings.HasPrefix(base, "python")) {
			return true
		}
	}
	_, _, ok := a.Modules.FindSymbol("_PyRuntime")
	return ok
}

// Python reads the interpreter state, or returns nil when the process is not CPython.
// The result is computed once.
func (a *Analysis) Python() *report.Python {
	a.pyOnce.Do(func() { a.py = a.python() })
	return a.py
}

func (a *Analysis) python() *report.Python {
	if !a.hasPython() {
		return nil
	}
	st, err := python.Analyze(pyProcess{a})
	if err != nil {
		if errors.Is(err, python.ErrNoPython) {
			return nil
		}
		r := &report.Python{Error: err.Error(), Threads: []report.PythonThread{}}
		if st != nil {
			r.Version = st.Version
		}
		return r
	}
	r := &report.Python{Version: st.Version, VersionSource: st.VersionSource, LayoutSource: st.LayoutSource,
		Finalizing: st.Finalizing, FinalizingTID: st.FinalizingTID, GILHolderTID: st.GILHolderTID,
		GCCollecting: st.GCCollecting, Interpreters: len(st.Interpreters), Warnings: st.Warnings,
		Threads: []report.PythonThread{}}
	for _, in := range st.Interpreters {
		if in.Err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("interpreter %d: %v", in.ID, in.Err))
		}
		for _, t := range in.Threads {
			pt := report.PythonThread{ThreadState: report.Hex(t.Addr), Interpreter: in.ID, GILHolder: t.IsGILHolder, Frames: []report.PythonFrame{}}
			if t.TIDSource != "" {
				tid := t.TID
				pt.TID, pt.TIDSource = &tid, t.TIDSource
			}
			if t.Err != nil {
				pt.Error = t.Err.Error()
			}
			for _, f := range t.Frames {
				pf := report.PythonFrame{Function: f.Function, QualName: f.QualName, File: f.File, Line: f.Line, FirstLine: f.FirstLine}
				if f.Err != nil {
					pf.Error = f.Err.Error()
				}
				pt.Frames = append(pt.Frames, pf)
			}
			r.Threads = append(r.Threads, pt)
		}
	}
	return r
}
