package report

import (
	"fmt"
	"strconv"
	"strings"
)

// GroupThreads collapses threads with identical stacks: the same native function list and the
// same Python functions. The crashing thread is never grouped with others.
func GroupThreads(threads []Thread) []Group {
	var groups []Group
	index := map[string]int{}
	for _, t := range threads {
		if t.Crashed {
			groups = append(groups, Group{Count: 1, TIDs: []int{t.TID}, Crashed: true, Frames: t.Frames})
			continue
		}
		key := stackKey(t.Frames)
		if i, ok := index[key]; ok {
			groups[i].Count++
			groups[i].TIDs = append(groups[i].TIDs, t.TID)
			continue
		}
		index[key] = len(groups)
		groups = append(groups, Group{Count: 1, TIDs: []int{t.TID}, Frames: t.Frames})
	}
	return groups
}

// stackKey is the function list of a stack, with the pc for frames without a name.
func stackKey(frames []Frame) string {
	var b strings.Builder
	for i, f := range frames {
		if f.Function != "" {
			b.WriteString(f.Function)
		} else if i == 0 {
			b.WriteString(f.Module)
		} else {
			fmt.Fprintf(&b, "%#x", uint64(f.PC))
		}
		for _, pf := range f.Python {
			b.WriteString(pf.QualName + ":" + pf.Function + ";")
		}
		b.WriteByte('|')
	}
	return b.String()
}

// GroupGoroutines collects goroutines with one status, wait reason and list of
// functions, in order of their first goroutine.
func GroupGoroutines(gs []Goroutine) []GoroutineGroup {
	var out []GoroutineGroup
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
		out = append(out, GoroutineGroup{Count: 1, IDs: []uint64{g.ID}, Status: g.Status, WaitReason: g.WaitReason, Frames: g.Frames})
	}
	return out
}
