package dwarfsym

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"github.com/coredig/coredig/internal/dwarf/die"
	"io"
	"sort"

	"github.com/ianlancetaylor/demangle"
)

// Bounds for decoding one unit; see the package doc.
const (
	maxDepth     = 256
	maxDIEs      = 8 << 20
	maxLineRows  = 16 << 20
	maxNameHops  = 16
	maxLookupHop = 512 // inline nesting followed by one lookup
)

// DW_AT_MIPS_linkage_name, the pre-DWARF-4 spelling GCC still reads (DWARF 4 7.5.4 vendor range).
const attrMIPSLinkageName dwarf.Attr = 0x2007

// node is a subprogram or inlined subroutine with code.
type node struct {
	off        dwarf.Offset // the DIE, start of the name chain
	rStart     int32        // ranges are cu.ranges[rStart : rStart+rCount]
	rCount     int32
	parent     int32 // enclosing node, -1 for a concrete function
	firstChild int32 // -1 when none
	next       int32 // next sibling, -1 when none
	callFile   int32
	callLine   int32
	callCol    int32
	entry      uint64
	inlined    bool
}

// callSite is one DW_TAG_call_site (DWARF 5) or DW_TAG_GNU_call_site (DWARF 4).
type callSite struct {
	ret    uint64       // address after the call: DW_AT_call_return_pc, or the GNU low_pc
	origin dwarf.Offset // the called subprogram's DIE, 0 for an indirect call
	tail   bool         // DW_AT_call_tail_call / DW_AT_GNU_tail_call
	root   int32        // the concrete function node holding the call
}

// GNU call-site extensions of DWARF 4 (gcc -gdwarf-4).
const (
	tagGNUCallSite  dwarf.Tag  = 0x4109
	attrGNUTailCall dwarf.Attr = 0x2115
	maxCallSites               = 1 << 20
)

type row struct {
	addr uint64
	file int32
	line int32
	col  int32
}

// sequence is one line-table sequence: rows sorted by address, valid below end.
type sequence struct {
	lo, end    uint64
	start, num int32 // rows[start : start+num]
}

type funcName struct {
	name, linkage string
}

// cunit is one decoded unit.
type cunit struct {
	index  int32
	nodes  []node
	ranges [][2]uint64
	roots  []cuSpan // concrete functions by range, sorted by lo; unit field = node index
	files  []string
	rows   []row
	seqs   []sequence // sorted by lo
	names  map[dwarf.Offset]funcName
	scopes map[dwarf.Offset]string // C++ scope prefix of subprogram DIEs inside namespaces or classes
	sites  []callSite              // DW_TAG_call_site (and GNU) entries with a return address
	dieErr error                   // DIE tree decoding stopped early
	lnErr  error                   // line table decoding stopped early
	cost   int
	// callFileBase is where the line program's own file numbering starts in files.
	callFileBase int32
}

// decodeUnit decodes the DIE tree and line table of u. Errors are kept in the unit: what
// was decoded before them stays usable.
func decodeUnit(ix *Index, u unitHeader, index int32) *cunit {
	cu := &cunit{index: index, names: make(map[dwarf.Offset]funcName)}
	d, err := ix.Data(dwarf.Offset(u.dieOff))
	if err != nil {
		cu.dieErr = &FormatError{Section: ".debug_info", Offset: u.dieOff, Msg: "reading unit DIE", Err: err}
		return cu
	}
	r := die.NewReader(d)
	r.Seek(dwarf.Offset(u.dieOff))
	top, err := r.Next()
	if err != nil || top == nil {
		if err == nil {
			err = errors.New("no unit DIE")
		}
		cu.dieErr = &FormatError{Section: ".debug_info", Offset: u.dieOff, Msg: "reading unit DIE", Err: err}
		return cu
	}
	cu.decodeLines(ix, d, top, u)
	if top.Children {
		lang, _ := top.Val(dwarf.AttrLanguage).(int64)
		cu.decodeDIEs(d, r, u, isC(lang))
	}
	sort.Slice(cu.roots, func(a, b int) bool { return cu.roots[a].lo < cu.roots[b].lo })
	cu.cost = 256 + len(cu.sites)*32 + len(cu.nodes)*64 + len(cu.ranges)*16 + len(cu.roots)*24 + len(cu.rows)*20 + len(cu.seqs)*24
	for _, f := range cu.files {
		cu.cost += len(f) + 16
	}
	return cu
}

func (cu *cunit) decodeLines(ix *Index, d *dwarf.Data, top *dwarf.Entry, u unitHeader) {
	if off, ok := top.Val(dwarf.AttrStmtList).(int64); ok {
		if off < 0 {
			cu.lnErr = &FormatError{Section: ".debug_info", Offset: u.dieOff, Msg: "negative DW_AT_stmt_list"}
			return
		}
		if err := checkLineHeader(ix.sec.Line, uint64(off), ix.bo); err != nil {
			cu.lnErr = err
			return
		}
	}
	lr, err := d.LineReader(top)
	if err != nil {
		cu.lnErr = &FormatError{Section: ".debug_line", Offset: u.dieOff, Msg: "opening the line table of the unit at this .debug_info offset", Err: err}
		return
	}
	if lr == nil {
		return
	}
	fileIdx := make(map[*dwarf.LineFile]int32)
	var e dwarf.LineEntry
	seqStart := int32(0)
	for n := 0; ; n++ {
		if n >= maxLineRows {
			cu.lnErr = &FormatError{Section: ".debug_line", Offset: u.dieOff, Msg: fmt.Sprintf("more than %d rows", maxLineRows)}
			break
		}
		if err := lineNext(lr, &e); err != nil {
			if err != io.EOF {
				cu.lnErr = &FormatError{Section: ".debug_line", Offset: u.dieOff, Msg: "decoding the line program", Err: err}
			}
			break
		}
		if e.EndSequence {
			num := int32(len(cu.rows)) - seqStart
			if num > 0 && e.Address > cu.rows[seqStart].addr {
				cu.seqs = append(cu.seqs, sequence{lo: cu.rows[seqStart].addr, end: e.Address, start: seqStart, num: num})
			} else {
				cu.rows = cu.rows[:seqStart]
			}
			seqStart = int32(len(cu.rows))
			continue
		}
		if num := len(cu.rows) - int(seqStart); num > 0 && e.Address < cu.rows[len(cu.rows)-1].addr {
			// Addresses must not decrease inside a sequence (DWARF 5 6.2.5.1); drop the row.
			continue
		}
		fi := int32(-1)
		if e.File != nil {
			if v, ok := fileIdx[e.File]; ok {
				fi = v
			} else {
				fi = int32(len(cu.files))
				fileIdx[e.File] = fi
				cu.files = append(cu.files, e.File.Name)
			}
		}
		cu.rows = append(cu.rows, row{addr: e.Address, file: fi, line: int32(clampInt(e.Line)), col: int32(clampInt(e.Column))})
	}
	cu.rows = cu.rows[:seqStart] // rows of an unterminated sequence have no known end
	// Files for DW_AT_call_file are indexed as the line program numbers them.
	callFiles := lr.Files()
	base := int32(len(cu.files))
	for _, f := range callFiles {
		name := ""
		if f != nil {
			name = f.Name
		}
		cu.files = append(cu.files, name)
	}
	cu.callFileBase = base
	sort.SliceStable(cu.seqs, func(a, b int) bool { return cu.seqs[a].lo < cu.seqs[b].lo })
}

func clampInt(v int) int {
	if v < 0 {
		return 0
	}
	if v > 1<<31-1 {
		return 1<<31 - 1
	}
	return v
}

// DW_LANG_* values of C (DWARF 5 table 7.17; DW_LANG_C17 from DWARF 6, in GCC since 2021).
const (
	DW_LANG_C89 = 0x01
	DW_LANG_C   = 0x02
	DW_LANG_C99 = 0x0c
	DW_LANG_C11 = 0x1d
	DW_LANG_C17 = 0x2c
)

func isC(lang int64) bool {
	switch lang {
	case DW_LANG_C89, DW_LANG_C, DW_LANG_C99, DW_LANG_C11, DW_LANG_C17:
		return true
	}
	return false
}

// typeOnly reports whether the children of a DIE with tag t can hold no function, inlined
// call or call site, so the walk may skip them (by DW_AT_sibling when the producer gave
// one, as GCC does): enumerators, array bounds, parameter types and a call site's
// parameters always; members of structures and unions in C, which has no member
// functions. In a C unit most DIEs are types from headers, and this is most of decoding's
// time.
func typeOnly(t dwarf.Tag, c bool) bool {
	switch t {
	case dwarf.TagEnumerationType, dwarf.TagArrayType, dwarf.TagSubroutineType,
		dwarf.TagCallSite, tagGNUCallSite:
		return true
	case dwarf.TagStructType, dwarf.TagUnionType:
		return c
	}
	return false
}

// decodeDIEs walks the unit's DIEs after the unit DIE, iteratively, recording functions and
// inlined subroutines with code. c says the unit is C (see typeOnly).
func (cu *cunit) decodeDIEs(d *dwarf.Data, r *die.Reader, u unitHeader, c bool) {
	// stack[i] is the innermost node enclosing depth i+1, or -1.
	stack := []int32{-1}
	// scope[i] is the C++ scope ("ns::Class::") of the DIEs at depth i+1: gdb names a
	// function without a linkage name (an inlined static in a namespace) by its scope.
	scope := []string{""}
	lastChild := make(map[int32]int32)
	for n := 0; len(stack) > 0; n++ {
		if n >= maxDIEs {
			cu.dieErr = &FormatError{Section: ".debug_info", Offset: u.dieOff, Msg: fmt.Sprintf("unit has more than %d DIEs", maxDIEs)}
			return
		}
		e, err := r.Next()
		if err != nil {
			cu.dieErr = &FormatError{Section: ".debug_info", Offset: u.dieOff, Msg: "decoding DIEs of the unit", Err: err}
			return
		}
		if e == nil {
			return
		}
		if e.Tag == 0 {
			// Null entries carry no offset; they only close the current level.
			stack = stack[:len(stack)-1]
			scope = scope[:len(scope)-1]
			continue
		}
		if uint64(e.Offset) >= u.end || uint64(e.Offset) < u.dieOff {
			// Ran off the unit without closing its children: stop here.
			return
		}
		enclosing := stack[len(stack)-1]
		cur := enclosing
		prefix := scope[len(scope)-1]
		inner := prefix
		switch e.Tag {
		case dwarf.TagNamespace, dwarf.TagClassType, dwarf.TagStructType, dwarf.TagUnionType:
			name, _ := e.Val(dwarf.AttrName).(string)
			if name == "" && e.Tag == dwarf.TagNamespace {
				name = "(anonymous namespace)"
			}
			if name != "" && len(inner) < 1024 {
				inner = prefix + name + "::"
			}
		}
		if prefix != "" && e.Tag == dwarf.TagSubprogram && len(cu.scopes) < 1<<16 {
			if cu.scopes == nil {
				cu.scopes = make(map[dwarf.Offset]string)
			}
			cu.scopes[e.Offset] = prefix
		}
		switch e.Tag {
		case dwarf.TagCallSite, tagGNUCallSite:
			if enclosing >= 0 && len(cu.sites) < maxCallSites {
				cs := callSite{root: enclosing}
				for cs.root >= 0 && cu.nodes[cs.root].parent >= 0 {
					cs.root = cu.nodes[cs.root].parent
				}
				ret, ok := e.Val(dwarf.AttrCallReturnPC).(uint64)
				if !ok {
					ret, ok = e.Val(dwarf.AttrLowpc).(uint64)
				}
				cs.origin, _ = e.Val(dwarf.AttrCallOrigin).(dwarf.Offset)
				if cs.origin == 0 {
					cs.origin, _ = e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
				}
				t1, _ := e.Val(dwarf.AttrCallTailCall).(bool)
				t2, _ := e.Val(attrGNUTailCall).(bool)
				cs.ret, cs.tail = ret, t1 || t2
				if ok && ret != 0 {
					cu.sites = append(cu.sites, cs)
				}
			}
		case dwarf.TagSubprogram, dwarf.TagInlinedSubroutine:
			inl := e.Tag == dwarf.TagInlinedSubroutine
			rs, rerr := d.Ranges(e)
			if rerr != nil && cu.dieErr == nil {
				cu.dieErr = &FormatError{Section: ".debug_info", Offset: uint64(e.Offset), Msg: "reading ranges", Err: rerr}
			}
			if len(rs) == 0 || (inl && enclosing < 0) {
				break
			}
			idx := int32(len(cu.nodes))
			nd := node{off: e.Offset, rStart: int32(len(cu.ranges)), parent: -1, firstChild: -1, next: -1, inlined: inl}
			for _, rg := range rs {
				if rg[1] > rg[0] {
					cu.ranges = append(cu.ranges, rg)
					nd.rCount++
				}
			}
			if nd.rCount == 0 {
				break
			}
			if inl {
				nd.parent = enclosing
				nd.callFile = int32(attrInt(e, dwarf.AttrCallFile, -1))
				nd.callLine = int32(attrInt(e, dwarf.AttrCallLine, 0))
				nd.callCol = int32(attrInt(e, dwarf.AttrCallColumn, 0))
				if lc, ok := lastChild[enclosing]; ok {
					cu.nodes[lc].next = idx
				} else {
					cu.nodes[enclosing].firstChild = idx
				}
				lastChild[enclosing] = idx
			} else {
				if v, ok := e.Val(dwarf.AttrEntrypc).(uint64); ok {
					nd.entry = v
				} else if v, ok := e.Val(dwarf.AttrLowpc).(uint64); ok {
					nd.entry = v
				} else {
					nd.entry = rs[0][0]
				}
				for _, rg := range cu.ranges[nd.rStart : nd.rStart+nd.rCount] {
					cu.roots = append(cu.roots, cuSpan{lo: rg[0], hi: rg[1], unit: idx})
				}
			}
			cu.nodes = append(cu.nodes, nd)
			cur = idx
		}
		if e.Children && typeOnly(e.Tag, c) {
			r.SkipChildren()
			continue
		}
		if e.Children {
			if len(stack) >= maxDepth {
				cu.dieErr = &FormatError{Section: ".debug_info", Offset: uint64(e.Offset), Msg: fmt.Sprintf("DIEs nested deeper than %d", maxDepth)}
				return
			}
			stack = append(stack, cur)
			scope = append(scope, inner)
		}
	}
}

// attrInt returns an integer attribute, or def when absent or out of range.
func attrInt(e *dwarf.Entry, a dwarf.Attr, def int64) int64 {
	switch v := e.Val(a).(type) {
	case int64:
		if v >= 0 && v <= 1<<31-1 {
			return v
		}
	case uint64:
		if v <= 1<<31-1 {
			return int64(v)
		}
	}
	return def
}

func (cu *cunit) contains(n int32, pc uint64) bool {
	nd := &cu.nodes[n]
	for _, rg := range cu.ranges[nd.rStart : nd.rStart+nd.rCount] {
		if pc >= rg[0] && pc < rg[1] {
			return true
		}
	}
	return false
}

// line returns the line row for pc, or nil.
func (cu *cunit) line(pc uint64) *row {
	i := sort.Search(len(cu.seqs), func(k int) bool { return cu.seqs[k].lo > pc })
	// Sequences may overlap (e.g. functions in comdat sections); try the nearest few.
	for k := i - 1; k >= 0 && i-k <= maxOverlapScan; k-- {
		s := cu.seqs[k]
		if pc < s.lo || pc >= s.end {
			continue
		}
		rows := cu.rows[s.start : s.start+s.num]
		j := sort.Search(len(rows), func(k int) bool { return rows[k].addr > pc })
		if j > 0 {
			return &rows[j-1]
		}
	}
	return nil
}

func (cu *cunit) fileName(i int32) string {
	if i < 0 || int(i) >= len(cu.files) {
		return ""
	}
	return cu.files[i]
}

func (cu *cunit) callFileName(i int32) string {
	if i < 0 {
		return ""
	}
	return cu.fileName(cu.callFileBase + i)
}

// lookup answers pc within this unit. found reports that a function contains pc.
func (cu *cunit) lookup(ix *Index, pc uint64) (frames []Frame, found bool, err error) {
	err = cu.dieErr
	if err == nil {
		err = cu.lnErr
	}
	inner := Frame{}
	if rw := cu.line(pc); rw != nil {
		inner.File = cu.fileName(rw.file)
		inner.Line = int(rw.line)
		inner.Column = int(rw.col)
	} else if cu.lnErr != nil {
		err = cu.lnErr
	}
	// Concrete function: the innermost range start below pc that contains it.
	root := int32(-1)
	i := sort.Search(len(cu.roots), func(k int) bool { return cu.roots[k].lo > pc })
	for k := i - 1; k >= 0 && i-k <= maxOverlapScan; k-- {
		if pc >= cu.roots[k].lo && pc < cu.roots[k].hi {
			root = cu.roots[k].unit
			break
		}
	}
	if root < 0 {
		if inner.File == "" && inner.Line == 0 {
			return nil, false, err
		}
		return []Frame{inner}, false, err
	}
	// Descend through inlined subroutines containing pc.
	chain := []int32{root}
	for hop := 0; hop < maxLookupHop; hop++ {
		cur := chain[len(chain)-1]
		next := int32(-1)
		for c, steps := cu.nodes[cur].firstChild, 0; c >= 0 && steps < len(cu.nodes); c, steps = cu.nodes[c].next, steps+1 {
			if cu.contains(c, pc) {
				next = c
				break
			}
		}
		if next < 0 {
			break
		}
		chain = append(chain, next)
	}
	frames = make([]Frame, 0, len(chain))
	pos := inner
	for k := len(chain) - 1; k >= 0; k-- {
		nd := &cu.nodes[chain[k]]
		fn, nerr := ix.name(cu, nd.off)
		if nerr != nil && err == nil {
			err = nerr
		}
		f := Frame{Function: fn.display(), LinkageName: fn.linkage, File: pos.File, Line: pos.Line, Column: pos.Column, Inlined: nd.inlined}
		if !nd.inlined {
			f.Entry = nd.entry
		}
		frames = append(frames, f)
		pos = Frame{File: cu.callFileName(nd.callFile), Line: int(nd.callLine), Column: int(nd.callCol)}
	}
	return frames, true, err
}

func (fn funcName) display() string {
	if fn.linkage != "" {
		if s, err := demangle.ToString(fn.linkage, demangle.NoClones); err == nil {
			return s
		}
	}
	if fn.name != "" {
		return fn.name
	}
	return fn.linkage
}

// name resolves the name of the function DIE at off along abstract_origin/specification
// links, caching the answer in cu.
func (ix *Index) name(cu *cunit, off dwarf.Offset) (funcName, error) {
	if fn, ok := cu.names[off]; ok {
		return fn, nil
	}
	var fn funcName
	var err error
	seen := make(map[dwarf.Offset]bool, 4)
	cur := off
	for hop := 0; hop < maxNameHops && !seen[cur]; hop++ {
		seen[cur] = true
		d, derr := ix.Data(cur)
		if derr != nil {
			err = &FormatError{Section: ".debug_info", Offset: uint64(cur), Msg: "following a function name reference", Err: derr}
			break
		}
		r := die.NewReader(d)
		r.Seek(cur)
		e, rerr := r.Next()
		if rerr != nil || e == nil || e.Offset != cur {
			if rerr == nil {
				rerr = errors.New("no DIE at the referenced offset")
			}
			err = &FormatError{Section: ".debug_info", Offset: uint64(cur), Msg: "following a function name reference", Err: rerr}
			break
		}
		if fn.name == "" {
			if s, ok := e.Val(dwarf.AttrName).(string); ok {
				fn.name = cu.scopes[cur] + s
			}
		}
		if fn.linkage == "" {
			if s, ok := e.Val(dwarf.AttrLinkageName).(string); ok {
				fn.linkage = s
			} else if s, ok := e.Val(attrMIPSLinkageName).(string); ok {
				fn.linkage = s
			}
		}
		if fn.name != "" && fn.linkage != "" {
			break
		}
		nxt, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
		if !ok {
			nxt, ok = e.Val(dwarf.AttrSpecification).(dwarf.Offset)
		}
		if !ok {
			break
		}
		cur = nxt
	}
	if len(cu.names) < 1<<16 {
		cu.names[off] = fn
		c := 48 + len(fn.name) + len(fn.linkage)
		cu.cost += c
		ix.cacheBytes += c
	}
	return fn, err
}

// lineNext is lr.Next with debug/dwarf's panics turned into errors. Its line program
// reader converts DW_LNE_define_file's directory index from uint64 to int unchecked
// (line.go, readFileEntry), so a forged index is negative and indexes out of range;
// a fuzz campaign found it.
func lineNext(lr *dwarf.LineReader, e *dwarf.LineEntry) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("debug/dwarf: %v", r)
		}
	}()
	return lr.Next(e)
}
