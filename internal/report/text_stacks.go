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
			if t.Waiting != nil {
				title += ": " + t.Waiting.Text
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
		if w := groupWaiting(r.Threads, g.TIDs); w != "" {
			title += ": " + w
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

// groupWaiting is what the threads of a group wait for, when they all wait for the same
// thing (one line), else "".
func groupWaiting(threads []Thread, tids []int) string {
	in := map[int]bool{}
	for _, t := range tids {
		in[t] = true
	}
	text := ""
	for _, t := range threads {
		if !in[t.TID] {
			continue
		}
		if t.Waiting == nil || text != "" && t.Waiting.Text != text {
			return ""
		}
		text = t.Waiting.Text
	}
	return text
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

// systemLibraries are the runtime libraries whose frames' variables the text leaves to
// --full: their abort and unwinding machinery sits above the frame that matters.
var systemLibraries = []string{"libc.so", "ld-linux", "libpthread.so", "libstdc++.so", "libgcc_s.so"}

// localsFrame is the frame whose variables the text shows without --full: the first with
// variables that is not in a system library.
func localsFrame(frames []Frame) int {
	for i, f := range frames {
		if len(f.Locals) == 0 {
			continue
		}
		base := filepath.Base(f.Module)
		system := false
		for _, l := range systemLibraries {
			system = system || strings.HasPrefix(base, l)
		}
		if !system {
			return i
		}
	}
	return -1
}

func (p *printer) stack(frames []Frame, errText string) {
	first := localsFrame(frames)
	for i, f := range frames {
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
		p.f("#%-3d 0x%0*x %s%s%s  [%s]%s\n", f.Index, p.word, uint64(f.PC), p.style("1", name), mod, src, how, unv)
		if f.Error != "" {
			p.f("      %s\n", p.style("31", "stops here: "+f.Error))
		}
		if f.SymbolError != "" {
			p.f("      %s\n", p.style("2", "not symbolized: "+f.SymbolError))
		}
		// The variables of the program's innermost frame, of the one a signal
		// interrupted and of the one Go's runtime.sigpanic was injected into; of every
		// frame with --full.
		showLocals := p.o.Full || i == first || i > 0 && (frames[i-1].Function == "<signal handler called>" || frames[i-1].Function == "runtime.sigpanic")
		for _, l := range f.Locals {
			if !showLocals {
				break
			}
			val := l.Value
			if l.Error != "" {
				val = "<" + l.Error + ">"
			}
			p.f("      %s = %s  %s\n", p.style("1", l.Name), val, p.style("2", "("+l.Type+")"))
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

// goroutines prints a Go program's goroutines, grouped by state and stack (each one
// with --full).
func (p *printer) goroutines(r *Report) {
	g := r.Go
	if g == nil || p.o.Thread != 0 {
		return
	}
	title := fmt.Sprintf("Goroutines (%d", len(g.Goroutines))
	if g.Version != "" {
		title += ", " + g.Version
	}
	p.heading(title + ")")
	p.fence()
	defer p.fence()
	if g.Error != "" {
		p.f("%s\n", p.style("31", "goroutines could not all be read: "+g.Error))
	}
	state := func(status, reason string, tid *int) string {
		s := status
		if reason != "" {
			s += ": " + reason
		}
		if tid != nil {
			s += fmt.Sprintf(", on thread %d", *tid)
		}
		return s
	}
	if p.o.Full {
		for i, x := range g.Goroutines {
			title := fmt.Sprintf("goroutine %d [%s]", x.ID, state(x.Status, x.WaitReason, x.TID))
			if x.Waiting != nil {
				title += ": " + x.Waiting.Text
			}
			p.goroutineStack(i, title, x.Status, x.Frames, x.Error)
		}
		return
	}
	for i, gr := range g.Groups {
		var tid *int
		errText := ""
		for _, x := range g.Goroutines {
			if x.ID == gr.IDs[0] {
				tid, errText = x.TID, x.Error
			}
		}
		waiting := goroutinesWaiting(g.Goroutines, gr.IDs)
		title := fmt.Sprintf("goroutine %d [%s]", gr.IDs[0], state(gr.Status, gr.WaitReason, tid))
		if gr.Count > 1 {
			ids := make([]string, 0, min(len(gr.IDs), 13))
			for i, id := range gr.IDs {
				if i == 12 {
					ids = append(ids, fmt.Sprintf("… (%d more)", len(gr.IDs)-i))
					break
				}
				ids = append(ids, fmt.Sprint(id))
			}
			title = fmt.Sprintf("%d goroutines [%s]: %s", gr.Count, state(gr.Status, gr.WaitReason, nil), strings.Join(ids, ", "))
		}
		if waiting != "" {
			title += ": " + waiting
		}
		p.goroutineStack(i, title, gr.Status, gr.Frames, errText)
	}
}

// goroutinesWaiting is what the goroutines of a group wait for, when they all wait for
// the same thing, "" otherwise.
func goroutinesWaiting(gs []Goroutine, ids []uint64) string {
	in := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	text := ""
	for _, x := range gs {
		if !in[x.ID] {
			continue
		}
		if x.Waiting == nil || text != "" && x.Waiting.Text != text {
			return ""
		}
		text = x.Waiting.Text
	}
	return text
}

func (p *printer) goroutineStack(i int, title, status string, frames []Frame, errText string) {
	if i > 0 {
		p.f("\n")
	}
	p.f("%s\n", p.style("1", title))
	if status == "running" && len(frames) == 0 {
		p.f("      its stack is its thread's, above\n")
		return
	}
	p.stack(frames, errText)
}
