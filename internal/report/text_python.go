package report

import (
	"fmt"
	"strings"
)

func (p *printer) python(r *Report) {
	py := r.Python
	if py == nil {
		return
	}
	title := "Python " + py.Version
	if py.Error != "" {
		title += " (not readable)"
	}
	p.heading(title)
	p.fence()
	if py.Error != "" {
		p.f("the interpreter state could not be read: %s\n", py.Error)
		p.fence()
		return
	}
	fin := "no"
	if py.Finalizing == nil {
		fin = "unknown (its state could not be read; see the warnings)"
	} else if *py.Finalizing {
		fin = p.style("31;1", "YES: the interpreter is shutting down")
		if py.FinalizingTID != nil {
			fin += fmt.Sprintf(" (thread %d)", *py.FinalizingTID)
		}
	}
	if py.Finalizing != nil && !*py.Finalizing && py.ShutdownStage != "" {
		fin = "no: the runtime's flag is not set yet, but the interpreter is shutting down (below)"
	}
	p.f("%-12s %s\n", "finalizing", fin)
	if py.ShutdownStage != "" {
		p.f("%-12s %s (%s)\n", "shutdown", p.style("31;1", py.ShutdownStage), py.ShutdownEvidence)
		if py.ShutdownRan != "" {
			p.f("%-12s %s\n", "  it ran", py.ShutdownRan)
		}
	}
	gil := "nobody (or unknown)"
	if py.GILHolderTID != nil {
		gil = fmt.Sprintf("thread %d", *py.GILHolderTID)
	}
	p.f("%-12s %s\n", "GIL held by", gil)
	if py.GCCollecting != nil {
		gc := "no"
		if *py.GCCollecting {
			gc = "yes: a garbage collection is running"
		}
		p.f("%-12s %s\n", "gc running", gc)
	}
	p.f("%-12s %s; offsets from %s\n", "version from", py.VersionSource, py.LayoutSource)
	// Threads with the same Python stack (and no error) print once, with their tids.
	type group struct {
		t    PythonThread
		tids []string
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, t := range py.Threads {
		if p.o.Thread != 0 && (t.TID == nil || int(*t.TID) != p.o.Thread) {
			continue
		}
		tid := "?"
		if t.TID != nil {
			tid = fmt.Sprintf("%d", *t.TID)
		}
		key := pyStackKey(t)
		if g := byKey[key]; g != nil && !p.o.Full && key != "" {
			g.tids = append(g.tids, tid)
			continue
		}
		g := &group{t: t, tids: []string{tid}}
		groups = append(groups, g)
		if key != "" {
			byKey[key] = g
		}
	}
	for _, g := range groups {
		t := g.t
		who := "thread " + g.tids[0]
		if len(g.tids) > 1 {
			list := g.tids
			if len(list) > 12 {
				list = append(append([]string(nil), list[:12]...), fmt.Sprintf("… (%d more)", len(g.tids)-12))
			}
			who = fmt.Sprintf("%d threads with this Python stack: %s", len(g.tids), strings.Join(list, ", "))
		}
		var tags []string
		if t.GILHolder {
			tags = append(tags, "holds the GIL")
		}
		if py.Interpreters > 1 {
			tags = append(tags, fmt.Sprintf("interpreter %d", t.Interpreter))
		}
		tag := ""
		if len(tags) > 0 {
			tag = " (" + strings.Join(tags, ", ") + ")"
		}
		p.f("\n%s%s: %d Python frames\n", who, tag, len(t.Frames))
		for i, f := range t.Frames {
			name := f.Function
			if f.QualName != "" {
				name = f.QualName
			}
			line := fmt.Sprintf("%d", f.Line)
			if f.Line <= 0 {
				line = "?"
			}
			p.f("  #%-3d %-32s %s:%s\n", i, name, f.File, line)
			if f.Error != "" {
				p.f("        error: %s\n", f.Error)
			}
			// A thread's innermost frame shows its locals (every frame with --full);
			// a group of threads would show only its first thread's.
			if len(g.tids) == 1 && (i == 0 || p.o.Full) {
				for _, l := range f.Locals {
					val := l.Value
					if l.Error != "" {
						val = "<" + l.Error + ">"
					}
					typ := ""
					if l.Type != "" {
						typ = "  " + p.style("2", "("+l.Type+")")
					}
					p.f("        %s = %s%s\n", p.style("1", l.Name), val, typ)
				}
			}
		}
		if t.Error != "" {
			p.f("  (stack incomplete: %s)\n", t.Error)
		}
	}
	for _, w := range py.Warnings {
		p.f("warning: %s\n", w)
	}
	p.fence()
}

// pyStackKey identifies a Python stack for grouping; "" for stacks that must print alone
// (the GIL holder, stacks with errors).
func pyStackKey(t PythonThread) string {
	if t.GILHolder || t.Error != "" {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d|", t.Interpreter)
	for _, f := range t.Frames {
		if f.Error != "" {
			return ""
		}
		fmt.Fprintf(&b, "%s:%s:%s:%d|", f.QualName, f.Function, f.File, f.Line)
	}
	return b.String()
}
