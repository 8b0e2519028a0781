package symbolize

import "github.com/coredig/coredig/internal/dwarfsym"

// maxTailChain bounds the tail-call chains TailCallChain searches.
const maxTailChain = 6

// TailCallChain finds the functions that tail-called their way from the function called at
// a caller's return address ret (run-time) to callee, the function at calleePC, using DWARF
// call-site information as gdb does: the call at ret names its target; when the target is
// not callee, the target's tail calls, followed for at most maxTailChain steps, must lead
// to callee by exactly one path. A call site names its target as the source does (free,
// raise), and the callee may carry another name at the same address (glibc's
// __GI___libc_free, __GI_raise) in another module: then the target's address must be the
// callee's entry. It returns the run-time return addresses of those tail calls, the one
// nearest the callee first, or nil when there is no such chain or more than one.
func (t *Table) TailCallChain(ret uint64, callee string, calleePC uint64) []uint64 {
	m := t.ModuleFor(ret)
	if m == nil || m.file == nil || callee == "" {
		return nil
	}
	calleeEntry := uint64(0)
	isCallee := func(c dwarfsym.CallSite) bool {
		if siteName(c) == callee {
			return true
		}
		if calleeEntry == 0 {
			calleeEntry = t.Lookup(calleePC).FuncStart
		}
		for _, n := range []string{c.TargetLinkage, c.Target} {
			if n == "" || calleeEntry == 0 {
				continue
			}
			if a, _, ok := t.FindSymbol(n); ok {
				return a == calleeEntry
			}
		}
		return false
	}
	ix, _ := m.dwarfIndex(t)
	if ix == nil {
		return nil
	}
	cs, ok := ix.CallSiteAt(ret - m.Bias)
	if !ok || cs.Target == "" && cs.TargetLinkage == "" || isCallee(cs) {
		return nil
	}
	type step struct {
		fn   dwarfsym.CallSite // the call into this function
		path []uint64          // return addresses of the tail calls so far, outermost first
	}
	var found [][]uint64
	queue := []step{{fn: cs}}
	seen := map[string]bool{}
	for len(queue) > 0 && len(found) < 2 {
		s := queue[0]
		queue = queue[1:]
		name := siteName(s.fn)
		if seen[name] || len(s.path) >= maxTailChain {
			continue
		}
		seen[name] = true
		entry, ok := m.entryOf(t, s.fn)
		if !ok {
			continue
		}
		for _, tc := range ix.TailCalls(entry - m.Bias) {
			path := append(append([]uint64(nil), s.path...), tc.ReturnPC+m.Bias)
			if isCallee(tc) {
				found = append(found, path)
				continue
			}
			if tc.Target != "" || tc.TargetLinkage != "" {
				queue = append(queue, step{fn: tc, path: path})
			}
		}
	}
	if len(found) != 1 {
		return nil
	}
	chain := found[0]
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// siteName is the name a call site's target gets in frames: the demangled linkage name
// without parameters, else the DWARF name.
func siteName(c dwarfsym.CallSite) string {
	if c.TargetLinkage != "" {
		return Demangle(c.TargetLinkage)
	}
	return c.Target
}

// entryOf finds the run-time entry of a call site's target in the module, by linkage name
// and then by name.
func (m *Module) entryOf(t *Table, c dwarfsym.CallSite) (uint64, bool) {
	for _, n := range []string{c.TargetLinkage, c.Target} {
		if n == "" {
			continue
		}
		if a, ok := m.findByName(t, n); ok {
			return a, true
		}
	}
	return 0, false
}
