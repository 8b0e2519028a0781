package dwarfsym

// CallSite is a call the compiler recorded in DWARF call-site information
// (DW_TAG_call_site, or DW_TAG_GNU_call_site before DWARF 5).
type CallSite struct {
	// ReturnPC is the link-time address after the call instruction (for a tail call, after
	// the jump).
	ReturnPC uint64
	// Target is the called function's DW_AT_name (with its C++ scope), and
	// TargetLinkage its raw linkage name; both "" for an indirect call.
	Target, TargetLinkage string
	// Tail marks a tail call: the caller's frame is replaced, so no return address on the
	// stack leads back to it.
	Tail bool
}

// CallSiteAt returns the call site whose return address is ret (a link-time address).
func (ix *Index) CallSiteAt(ret uint64) (CallSite, bool) {
	// The call instruction ends at ret, so its unit holds ret-1.
	units := ix.unitsFor(ret - 1)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, ui := range units {
		cu := ix.unit(ui)
		for _, s := range cu.sites {
			if s.ret == ret {
				return ix.callSite(cu, s), true
			}
		}
	}
	return CallSite{}, false
}

// TailCalls returns the tail calls made by the concrete function whose code holds pc.
func (ix *Index) TailCalls(pc uint64) []CallSite {
	units := ix.unitsFor(pc)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, ui := range units {
		cu := ix.unit(ui)
		root := int32(-1)
		for i := range cu.nodes {
			if cu.nodes[i].parent < 0 && cu.contains(int32(i), pc) {
				root = int32(i)
				break
			}
		}
		if root < 0 {
			continue
		}
		var out []CallSite
		for _, s := range cu.sites {
			if s.root == root && s.tail {
				out = append(out, ix.callSite(cu, s))
			}
		}
		return out
	}
	return nil
}

func (ix *Index) callSite(cu *cunit, s callSite) CallSite {
	c := CallSite{ReturnPC: s.ret, Tail: s.tail}
	if s.origin != 0 {
		if fn, err := ix.name(cu, s.origin); err == nil {
			c.Target, c.TargetLinkage = fn.name, fn.linkage
		}
	}
	return c
}
