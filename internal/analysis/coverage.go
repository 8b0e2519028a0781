package analysis

import (
	"debug/elf"

	"github.com/coredig/coredig/internal/report"
)

// coverage reports, for a truncated core, which thread stacks and which modules' data
// the truncation cut. A stack is the range from the thread's stack pointer to the end of
// the segment holding it.
func (a *Analysis) coverage() *report.Coverage {
	c := a.Core
	cov := &report.Coverage{FileEnds: c.Size, Stacks: []report.StackCoverage{}}
	for _, t := range c.Threads {
		sp := t.SP(c.Arch)
		sc := report.StackCoverage{TID: t.TID, SP: report.Hex(sp)}
		s := c.SegmentFor(sp)
		if s == nil {
			sc.State = "unmapped"
			cov.Stacks = append(cov.Stacks, sc)
			continue
		}
		sc.End = report.Hex(s.End())
		rel := sp - s.Vaddr
		if rel < s.Filesz {
			sc.Bytes = s.Filesz - rel
		}
		if rel < s.Present {
			sc.Present = s.Present - rel
		}
		switch {
		case sc.Bytes == 0 || sc.Present == sc.Bytes:
			sc.State = "complete"
		case sc.Present == 0:
			sc.State = "lost"
		default:
			sc.State = "partial"
		}
		cov.Stacks = append(cov.Stacks, sc)
	}
	for _, m := range a.Modules.Modules {
		var bytes, present uint64
		for _, f := range m.Mappings {
			s := c.SegmentFor(f.Start)
			if s == nil || s.Flags&elf.PF_W == 0 || s.Filesz == 0 {
				continue
			}
			bytes += s.Filesz
			present += s.Present
		}
		if present < bytes {
			state := "partial"
			if present == 0 {
				state = "lost"
			}
			cov.Modules = append(cov.Modules, report.ModuleCoverage{Path: m.Name, Bytes: bytes, Present: present, State: state})
		}
	}
	return cov
}
