package analysis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/coredig/coredig/internal/python"
	"github.com/coredig/coredig/internal/report"
)

// pyProcess presents the core to the CPython walker.
type pyProcess struct{ a *Analysis }

func (p pyProcess) ReadAt(b []byte, addr uint64) (int, error) { return p.a.Core.ReadAt(b, addr) }
func (p pyProcess) PtrSize() int                              { return p.a.Core.Arch.PtrSize }

// Machine picks the CPython layouts generated for the architecture, when there are.
func (p pyProcess) Machine() string { return p.a.Core.Arch.Name }

// ByteOrder is the core's: s390x's interpreter memory is big-endian.
func (p pyProcess) ByteOrder() binary.ByteOrder { return p.a.Core.Arch.ByteOrder }

func (p pyProcess) Symbol(name string) (uint64, bool) {
	addr, _, ok := p.a.Modules.FindSymbol(name)
	return addr, ok
}

func (p pyProcess) Threads() []python.OSThread {
	var out []python.OSThread
	for _, t := range p.a.Core.Threads {
		o := python.OSThread{TID: uint64(t.TID)}
		if t.HasTLS {
			// Where pthread_self() is the thread pointer (x86_64's fs base, i386's gs
			// base from NT_386_TLS), it names the thread as PyThreadState.thread_id does.
			if p.a.Core.Arch.TLS >= 0 || p.a.Core.Arch.Pthread.SelfIsTP {
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

// pythonModule returns the path of the python executable or libpython module, or "".
func (a *Analysis) pythonModule() string {
	for _, m := range a.Modules.Modules {
		base := filepath.Base(m.Name)
		if strings.HasPrefix(base, "libpython") || (m.IsExec && strings.HasPrefix(base, "python")) {
			return m.Name
		}
	}
	return ""
}

var pyVersionInName = regexp.MustCompile(`python(\d+\.\d+)`)

// versionFromName reads "2.7" from "python2.7" or "libpython3.6m.so.1.0", or "".
func versionFromName(name string) string {
	if m := pyVersionInName.FindStringSubmatch(filepath.Base(name)); m != nil {
		return m[1]
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// hasPython reports whether a CPython interpreter is mapped: a python executable or a
// libpython shared library.
func (a *Analysis) hasPython() bool {
	if a.pythonModule() != "" {
		return true
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
	if a.Core.Arch.NotesOnly != "" || !a.hasPython() {
		return nil
	}
	st, err := python.Analyze(pyProcess{a})
	if err != nil {
		r := &report.Python{Error: err.Error(), Threads: []report.PythonThread{}}
		var ue *python.UnsupportedError
		switch {
		case errors.As(err, &ue):
			r.Version = ue.Version
		case errors.Is(err, python.ErrNoPython):
			// A python executable or libpython without _PyRuntime: CPython before 3.7
			// (or symbols stripped from .dynsym, which CPython exports).
			name := a.pythonModule()
			if name == "" {
				return nil
			}
			r.Version = versionFromName(name)
			r.Error = fmt.Sprintf("unsupported version %s: %s has no _PyRuntime symbol; coredig reads CPython 3.8 to 3.13 (3.14 through _Py_DebugOffsets)", orUnknown(r.Version), filepath.Base(name))
		}
		return r
	}
	a.pyDropRequest = st.GILDropRequest
	r := &report.Python{Version: st.Version, VersionSource: st.VersionSource, LayoutSource: st.LayoutSource,
		FinalizingTID: st.FinalizingTID, GILHolderTID: st.GILHolderTID,
		GCCollecting: st.GCCollecting, Interpreters: len(st.Interpreters), Warnings: st.Warnings,
		Threads: []report.PythonThread{}}
	if !st.FinalizingUnknown {
		fin := st.Finalizing
		r.Finalizing = &fin
	}
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
				if t.TIDSource != "" && f.Localsplus != 0 {
					if a.pyStacks == nil {
						a.pyStacks = map[int][]uint64{}
					}
					a.pyStacks[int(t.TID)] = append(a.pyStacks[int(t.TID)], f.Localsplus)
				}
				pf := report.PythonFrame{Function: f.Function, QualName: f.QualName, File: f.File, Line: f.Line, FirstLine: f.FirstLine, LastOfEval: f.LastOfEval}
				if f.Err != nil {
					pf.Error = f.Err.Error()
				}
				for _, l := range f.Locals {
					rl := report.Local{Name: l.Name, Type: l.Type, Value: l.Value}
					if l.Err != nil {
						rl.Value, rl.Error = "", l.Err.Error()
					}
					pf.Locals = append(pf.Locals, rl)
				}
				if f.LocalsErr != nil {
					pf.LocalsError = f.LocalsErr.Error()
				}
				pt.Frames = append(pt.Frames, pf)
			}
			r.Threads = append(r.Threads, pt)
		}
	}
	// A thread state keeps the id of the OS thread that created it; one created in one
	// thread and run in another (a 3.12 subinterpreter's first thread state, used by
	// run_string in a new thread) names the wrong thread. Say so when two claim one.
	claims := map[uint64]int{}
	for _, t := range r.Threads {
		if t.TID != nil {
			claims[*t.TID]++
		}
	}
	for i := range r.Threads {
		if t := &r.Threads[i]; t.TID != nil && claims[*t.TID] > 1 {
			t.TIDSource += " (shared with another thread state: it may have run on another thread)"
		}
	}
	for tid, n := range claims {
		if n > 1 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%d thread states name OS thread %d; a thread state created by one thread and run by another (a subinterpreter's, for instance) keeps its creator's id", n, tid))
		}
	}
	// The crashing thread first, then the GIL holder, then the rest as CPython lists them.
	crashed := -1
	if t := a.CrashedThread(); t != nil {
		crashed = t.TID
	}
	rank := func(t report.PythonThread) int {
		switch {
		case t.TID != nil && int(*t.TID) == crashed:
			return 0
		case t.GILHolder:
			return 1
		}
		return 2
	}
	sort.SliceStable(r.Threads, func(i, j int) bool { return rank(r.Threads[i]) < rank(r.Threads[j]) })
	return r
}

// evalFunction is the native function that runs Python frames.
const evalFunction = "_PyEval_EvalFrameDefault"

// MergePython attaches to each native _PyEval_EvalFrameDefault frame the Python frames
// that call was executing, so the native crash and the Python code that led to it read as
// one stack. Native eval calls and Python frame segments are matched innermost first; a
// thread whose counts disagree (a stack cut short) keeps what could be matched and says
// so in a warning.
func MergePython(r *report.Report) {
	if r.Python == nil {
		return
	}
	byTID := map[int]*report.PythonThread{}
	for i := range r.Python.Threads {
		t := &r.Python.Threads[i]
		if t.TID == nil {
			continue
		}
		// When two thread states name one thread, the GIL holder or the first listed
		// (the crashing thread's) is the one running there.
		if prev := byTID[int(*t.TID)]; prev == nil || t.GILHolder && !prev.GILHolder {
			byTID[int(*t.TID)] = t
		}
	}
	for i := range r.Threads {
		th := &r.Threads[i]
		pt := byTID[th.TID]
		if pt == nil || len(pt.Frames) == 0 {
			continue
		}
		segs := segments(pt.Frames)
		k := 0
		for j := range th.Frames {
			f := &th.Frames[j]
			if f.Function != evalFunction || f.Inlined {
				continue
			}
			if k < len(segs) {
				f.Python = segs[k]
				k++
			}
		}
		if k < len(segs) {
			r.Warnings = append(r.Warnings, fmt.Sprintf("thread %d: %d Python frames are not matched to a native %s frame (the native stack is incomplete)", th.TID, countFrames(segs[k:]), evalFunction))
		}
	}
}

// segments splits a thread's Python frames (innermost first) into the runs of one native
// eval call each.
func segments(frames []report.PythonFrame) [][]report.PythonFrame {
	var out [][]report.PythonFrame
	start := 0
	for i, f := range frames {
		if f.LastOfEval || i == len(frames)-1 {
			out = append(out, frames[start:i+1])
			start = i + 1
		}
	}
	return out
}

func countFrames(segs [][]report.PythonFrame) int {
	n := 0
	for _, s := range segs {
		n += len(s)
	}
	return n
}

// ShutdownStage fills r.Python's shutdown stage from the finalizing flag and the native
// stacks together (python.ShutdownStage): the crashing thread's first, then the
// finalizing thread's. Atexit callbacks and thread shutdown run before CPython sets the
// flag, so the stack is what shows them.
func ShutdownStage(r *report.Report) {
	py := r.Python
	if py == nil || py.Error != "" {
		return
	}
	tids := []int{}
	if r.CrashedTID != nil {
		tids = append(tids, *r.CrashedTID)
	}
	if py.FinalizingTID != nil {
		tids = append(tids, int(*py.FinalizingTID))
	}
	for _, tid := range tids {
		for _, th := range r.Threads {
			if th.TID != tid {
				continue
			}
			var fns []string
			var pyFrames []report.PythonFrame
			for _, f := range th.Frames {
				fns = append(fns, f.Function)
				pyFrames = append(pyFrames, f.Python...)
			}
			stage, fin, marker := python.ShutdownStage(fns)
			if stage == "" {
				continue
			}
			py.ShutdownStage = stage
			n := len(pyFrames)
			switch {
			case marker != "":
				py.ShutdownEvidence = fmt.Sprintf("%s in %s on thread %d", marker, fin, tid)
			case n > 0 && py.Finalizing != nil && !*py.Finalizing:
				// No symbol names the stage (a stripped interpreter): before the flag is
				// set, Python code under the finalizer is thread shutdown or atexit.
				py.ShutdownStage = python.StageBeforeFlag(pyFrames[n-1].Function, pyFrames[n-1].File)
				py.ShutdownEvidence = fmt.Sprintf("%s on thread %d running Python code before the finalizing flag is set; no symbol names the stage", fin, tid)
			default:
				py.ShutdownEvidence = fmt.Sprintf("%s on thread %d; no symbol names the stage", fin, tid)
			}
			if n > 0 {
				py.ShutdownRan = pyFrameText(pyFrames[n-1])
			}
			return
		}
	}
	if py.Finalizing != nil && *py.Finalizing {
		py.ShutdownStage, py.ShutdownEvidence = python.StageFinalizing, "the runtime's finalizing flag"
	}
}

// shutdownText describes a stage for the summary.
var shutdownText = map[string]string{
	python.StageThreadShutdown: ", waiting for its non-daemon threads (threading._shutdown)",
	python.StageAtexit:         ", running atexit callbacks, before the runtime's finalizing flag is set",
	python.StageModuleTeardown: ", tearing down modules, where module globals' __del__ methods run",
	python.StageFinalGC:        ", running its final garbage collection",
}

// shutdownSummary is the sentence the diagnosis adds when the interpreter was shutting
// down ("The Python interpreter was shutting down, tearing down modules, … (finalize_modules
// in Py_FinalizeEx on thread 7); it ran Boom.__del__ (crash.py:16)."), or "".
func shutdownSummary(py *report.Python) string {
	if py == nil || py.ShutdownStage == "" {
		return ""
	}
	s := fmt.Sprintf("The Python interpreter was shutting down%s (%s)", shutdownText[py.ShutdownStage], py.ShutdownEvidence)
	if py.ShutdownRan != "" {
		s += "; it ran " + py.ShutdownRan
	}
	return s + "."
}
