package report

import (
	"fmt"
	"path/filepath"
	"strings"
)

func (p *printer) threads(r *Report, sel which) {
	if r.Groups == nil {
		// Notes-only report: one line per thread with its pc.
		p.heading(fmt.Sprintf("Threads (%d)", len(r.Threads)))
		p.fence()
		for _, t := range r.Threads {
			if p.o.Thread != 0 && t.TID != p.o.Thread {
				continue
			}
			mark := " "
			if t.Crashed {
				mark = "*"
			}
			top := "no frames"
			if len(t.Frames) > 0 {
				top = fmt.Sprintf("0x%012x  %s", uint64(t.Frames[0].PC), frameText(t.Frames[0]))
			}
			p.f("%s %-8d %s\n", mark, t.TID, top)
		}
		p.fence()
		return
	}
	if p.o.Full || p.o.Thread != 0 {
		for _, t := range r.Threads {
			if p.o.Thread != 0 && t.TID != p.o.Thread || !sel.wants(t.Crashed) {
				continue
			}
			title := fmt.Sprintf("Thread %d", t.TID)
			if t.Crashed {
				title += " (crashed)"
			}
			p.heading(title)
			p.fence()
			p.stack(t.Frames, t.Error)
			p.fence()
		}
		return
	}
	for _, g := range r.Groups {
		if !sel.wants(g.Crashed) {
			continue
		}
		var title string
		switch {
		case g.Crashed:
			title = fmt.Sprintf("Crashing thread %d", g.TIDs[0])
		case g.Count == 1:
			title = fmt.Sprintf("Thread %d", g.TIDs[0])
		default:
			title = fmt.Sprintf("%d threads with this stack: %s", g.Count, tidList(g.TIDs))
		}
		p.heading(title)
		p.fence()
		errText := ""
		for _, t := range r.Threads {
			if t.TID == g.TIDs[0] {
				errText = t.Error
			}
		}
		p.stack(g.Frames, errText)
		p.fence()
	}
}

func (w which) wants(crashed bool) bool {
	return w == allThreads || (w == crashedOnly) == crashed
}

func tidList(tids []int) string {
	var b strings.Builder
	for i, t := range tids {
		if i == 12 {
			fmt.Fprintf(&b, " … (%d more)", len(tids)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", t)
	}
	return b.String()
}

func (p *printer) stack(frames []Frame, errText string) {
	for _, f := range frames {
		name := "??"
		if f.Function != "" {
			name = f.Function
			if f.FunctionOffset != nil && !f.Inlined {
				name += fmt.Sprintf("+%#x", uint64(*f.FunctionOffset))
			}
		}
		if f.Inlined {
			name += " (inlined)"
		}
		mod := ""
		if f.Module != "" {
			mod = " (" + filepath.Base(f.Module)
			if f.ModuleOffset != nil {
				mod += fmt.Sprintf(" +%#x", uint64(*f.ModuleOffset))
			}
			mod += ")"
		}
		src := ""
		if f.File != "" {
			src = fmt.Sprintf(" at %s:%d", f.File, f.Line)
		}
		how := f.FoundBy
		if f.FoundBy == "scan" {
			how = p.style("33", "scan: guessed")
		}
		unv := ""
		if f.Unverified {
			unv = " " + p.style("33", "[unverified: build-id mismatch]")
		}
		p.f("#%-3d 0x%016x %s%s%s  [%s]%s\n", f.Index, uint64(f.PC), p.style("1", name), mod, src, how, unv)
		if f.Error != "" {
			p.f("      %s\n", p.style("31", "stops here: "+f.Error))
		}
		for _, pf := range f.Python {
			name := pf.Function
			if pf.QualName != "" {
				name = pf.QualName
			}
			line := "?"
			if pf.Line > 0 {
				line = fmt.Sprintf("%d", pf.Line)
			}
			p.f("     %s %s  %s:%s\n", p.style("36", "(Python)"), p.style("1", name), pf.File, line)
		}
	}
	if errText != "" && (len(frames) == 0 || frames[len(frames)-1].Error == "") {
		p.f("      %s\n", p.style("31", "stack incomplete: "+errText))
	}
}
