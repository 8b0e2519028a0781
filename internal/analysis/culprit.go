package analysis

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/coredig/coredig/internal/owner"
	"github.com/coredig/coredig/internal/python"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/signature"
	"github.com/coredig/coredig/internal/symbolize"
)

// culpritFrame is one candidate frame: a native frame, or one of the Python frames a
// native eval frame ran.
type culpritFrame struct {
	native int // index in the thread's frames
	py     *report.PythonFrame
	nf     *report.Frame
}

// culprit names the crashing thread's frame that matters (owner.Pick) and who ships it
// (owner.Finder, the main executable or script). Python frames are looked at right after
// the native eval frame that ran them.
func (a *Analysis) culprit(r *report.Report, crashed *report.Thread, owners *owner.Finder) *report.Culprit {
	var cands []culpritFrame
	var frames []owner.Frame
	for i := range crashed.Frames {
		f := &crashed.Frames[i]
		cands = append(cands, culpritFrame{native: i, nf: f})
		frames = append(frames, owner.Frame{Module: f.Module, Function: f.Function, CLibrary: signature.CLibraryMachinery(f.Function)})
		for j := range f.Python {
			p := &f.Python[j]
			cands = append(cands, culpritFrame{native: i, py: p, nf: f})
			frames = append(frames, owner.Frame{Python: true, File: p.File, Function: pyName(*p)})
		}
	}
	if len(cands) == 0 {
		return nil
	}
	c := &report.Culprit{PythonCaller: pythonCaller(r, crashed.TID)}
	k := owner.Pick(frames)
	if k < 0 {
		// Every frame is runtime code: the innermost one is the answer, and says so.
		k = 0
		c.Runtime = owner.Runtime(frames[0])
	}
	cf := cands[k]
	c.FrameIndex = cf.native
	if cf.py != nil {
		c.Python, c.Module, c.Frame = true, cf.py.File, pyFrameText(*cf.py)
		a.pythonOwner(c, r.Process.Args, cf.py.File, owners)
	} else {
		c.Module, c.Frame = cf.nf.Module, nativeFrameText(*cf.nf)
		a.nativeOwner(c, cf.nf.Module, owners)
	}
	return c
}

// nativeOwner fills the package of an ELF module. The databases of this machine (or of
// the sysroot) describe the core's module only when its file there is the core's: found
// at its own path, with the same build-id.
func (a *Analysis) nativeOwner(c *report.Culprit, name string, owners *owner.Finder) {
	var m *symbolize.Module
	for _, x := range a.Modules.Modules {
		if x.Name == name {
			m = x
		}
	}
	if m == nil {
		c.Source, c.Error = owner.SourceUnknown, "the pc is in no module"
		return
	}
	var why string
	switch {
	case m.Status != symbolize.Verified:
		why = fmt.Sprintf("the module's file on this machine is not known to be the core's (%s), so its package is not looked up", m.Status)
	case !owners.AtItsPath(m.Name, m.Path):
		why = fmt.Sprintf("the module's file was found at %s, not at its own path, so its package is not looked up", m.Path)
	default:
		o, err := owners.Lookup(m.Name)
		if err == nil {
			setOwner(c, o)
			return
		}
		why = err.Error()
	}
	if m.IsExec {
		c.Source = owner.SourceProgram
		return
	}
	c.Source, c.Error = owner.SourceUnknown, why
}

// pythonOwner fills the package of a Python source file: a distribution's or a Debian
// package's file, else the main script (the program), else unknown. A Python file has no
// build-id: the databases are asked when the interpreter's own file is the core's.
func (a *Analysis) pythonOwner(c *report.Culprit, args []string, file string, owners *owner.Finder) {
	var why string
	interp := a.Modules.Executable()
	for _, m := range a.Modules.Modules {
		if strings.HasPrefix(filepath.Base(m.Name), "libpython") {
			interp = m
		}
	}
	switch {
	case !filepath.IsAbs(file):
		why = "the file name is relative"
	case interp == nil || interp.Status != symbolize.Verified:
		why = "the interpreter's file on this machine is not known to be the core's, so the Python packages here may not be the core's"
	default:
		o, err := owners.Lookup(file)
		if err == nil {
			setOwner(c, o)
			return
		}
		why = err.Error()
	}
	if s := python.MainScript(args); s != "" && (s == file || strings.HasSuffix(file, "/"+strings.TrimPrefix(s, "./"))) {
		c.Source = owner.SourceProgram
		return
	}
	c.Source, c.Error = owner.SourceUnknown, why
}

func setOwner(c *report.Culprit, o owner.Owner) {
	c.Package, c.Version, c.Source, c.Evidence = o.Package, o.Version, o.Source, o.Evidence
}

func pyName(f report.PythonFrame) string {
	if f.QualName != "" {
		return f.QualName
	}
	return f.Function
}

// pyFrameText renders a Python frame as "qualname (file:line)".
func pyFrameText(f report.PythonFrame) string {
	return fmt.Sprintf("%s (%s:%d)", pyName(f), f.File, f.Line)
}

// nativeFrameText renders a native frame as "function (file:line)", or with the module
// and offset when there is no line.
func nativeFrameText(f report.Frame) string {
	fn := f.Function
	if fn == "" {
		fn = "??"
	}
	if f.File != "" && f.Line > 0 {
		return fmt.Sprintf("%s (%s:%d)", fn, f.File, f.Line)
	}
	if f.ModuleOffset != nil {
		return fmt.Sprintf("%s (%s+%s)", fn, filepath.Base(f.Module), f.ModuleOffset)
	}
	return fmt.Sprintf("%s (%s)", fn, f.PC)
}

// pythonCaller is the innermost Python frame of thread tid, "qualname (file:line)".
func pythonCaller(r *report.Report, tid int) string {
	if r.Python == nil {
		return ""
	}
	for _, t := range r.Python.Threads {
		if t.TID != nil && int(*t.TID) == tid && len(t.Frames) > 0 {
			return pyFrameText(t.Frames[0])
		}
	}
	return ""
}
