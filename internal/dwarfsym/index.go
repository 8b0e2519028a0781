package dwarfsym

import (
	"container/list"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/coredig/coredig/internal/dwarf/die"
	"sort"
	"sync"
)

// ErrNoDebugInfo is returned by NewFromELF when the file has no .debug_info.
var ErrNoDebugInfo = errors.New("dwarfsym: no .debug_info section")

// ErrUnknownPC is returned (wrapped) by Lookup when no unit of the module covers the address.
var ErrUnknownPC = errors.New("dwarfsym: address not covered by DWARF")

// Sections holds the raw, already decompressed bytes of one module's DWARF sections.
// Info and Abbrev are required; the rest may be nil. The slices are retained by the Index
// and must not be modified afterwards.
type Sections struct {
	Info, Abbrev, Line, Str, LineStr, StrOffsets, Addr, Ranges, RngLists, Aranges []byte
}

// Options tunes an Index. The zero value (or nil) selects the defaults.
type Options struct {
	// CacheBytes bounds the approximate memory of decoded units kept for later lookups
	// (default 64 MiB). At least the most recently used unit is always kept.
	CacheBytes int
	// MaxSectionSize bounds each DWARF section NewFromELF reads, after decompression
	// (default 1 GiB).
	MaxSectionSize uint64
	// ReadSection, when set, gives NewFromELF a section's decompressed bytes, at most
	// limit of them, instead of (*elf.Section).Data: a slice of a mapped file, for
	// instance, so that the sections are neither copied nor kept on the heap.
	ReadSection func(s *elf.Section, limit uint64) ([]byte, error)
}

const (
	defaultCacheBytes     = 64 << 20
	defaultMaxSectionSize = 1 << 30
)

// Frame is one function activation at an address: an inlined copy or the concrete function.
type Frame struct {
	// Function is the function's name, demangled when the linkage name is C++ or Rust
	// (with parameters, as addr2line -C and gdb print it), else DW_AT_name. Empty when the
	// DWARF names none.
	Function string
	// LinkageName is the raw DW_AT_linkage_name, empty when there is none.
	LinkageName string
	// File is the source path as the line table records it (directory joined), "" if unknown.
	File string
	// Line and Column locate the address (innermost frame) or the call of the next inner
	// frame (outer frames); 0 means unknown.
	Line, Column int
	// Inlined reports that this frame is an inlined copy inside the next frame of the slice.
	Inlined bool
	// Entry is the entry address of the concrete function (DW_AT_entry_pc, else DW_AT_low_pc,
	// else the first range). Set on the last frame only; 0 when unknown.
	Entry uint64
}

// cuSpan is an address range of one unit in the module-wide table.
type cuSpan struct {
	lo, hi uint64
	unit   int32
}

// Index answers address queries for one module. It is safe for concurrent use.
type Index struct {
	sec    Sections // the raw sections; Abbrev only through views (views.go)
	abbrev []byte
	units  []unitHeader
	spans  []cuSpan // sorted by lo
	warns  []error
	// partial: some unit is not in spans for a reason other than having no ranges (a
	// type or skeleton unit, an unreadable DIE), so UnitsAt cannot speak for all units.
	partial bool
	bo      binary.ByteOrder

	typeMu sync.Mutex // guards the type caches of the views' Data (see Type)

	// The views of views.go, guarded by viewMu: shadow is .debug_abbrev with the
	// tables of the units in incl copied in (tables: the copied ones, whether they
	// allow cross-unit references), cur the newest view, all the view of every unit
	// once AllData has built it.
	viewMu sync.Mutex
	shadow []byte
	incl   []bool
	tables map[uint64]bool
	cur    *dwarf.Data
	all    *dwarf.Data

	mu         sync.Mutex
	cache      map[int32]*list.Element // unit index -> element holding *cunit
	lru        list.List               // front = most recently used
	cacheBytes int
	cacheLimit int
}

// Raw returns the raw .debug_info and .debug_addr the Index was built from, and their
// byte order, for readers of other DWARF facts (variables, types) that should not
// decompress the sections a second time; they get parsed DWARF from Data and AllData,
// and types from Type.
func (ix *Index) Raw() (info, addr []byte, order binary.ByteOrder) {
	return ix.sec.Info, ix.sec.Addr, ix.bo
}

// Type reads the type at off, as (*dwarf.Data).Type does, in a view that decodes its
// unit, holding the lock that makes it safe to call from several goroutines: debug/dwarf
// keeps the types it has read in a map inside the Data. The types it returns are complete
// and never changed afterwards.
func (ix *Index) Type(off dwarf.Offset) (dwarf.Type, error) {
	d, err := ix.Data(off)
	if err != nil {
		return nil, err
	}
	ix.typeMu.Lock()
	defer ix.typeMu.Unlock()
	return d.Type(off)
}

// Warnings lists problems found while building the unit table (a unit whose ranges could
// not be read, a bad .debug_aranges). The affected units are left out, the rest works.
func (ix *Index) Warnings() []error { return ix.warns }

// New builds an Index from raw DWARF sections.
func New(s Sections, opts *Options) (*Index, error) {
	bo, err := sniffOrder(s.Info)
	if err != nil {
		return nil, err
	}
	units, scanErr := scanUnits(s.Info, bo)
	if scanErr != nil {
		// debug/dwarf refuses the whole section on the same errors.
		return nil, scanErr
	}
	ix := &Index{sec: s, abbrev: s.Abbrev, units: units, bo: bo, cache: make(map[int32]*list.Element), cacheLimit: defaultCacheBytes}
	// The unit table reads each unit's DIE in a view whose abbreviation tables hold only
	// the unit DIEs' entries (views.go); the view is dropped once the table is built.
	d, err := ix.newData(ix.unitDIEAbbrev())
	if err != nil {
		return nil, err
	}
	if opts != nil && opts.CacheBytes > 0 {
		ix.cacheLimit = opts.CacheBytes
	}
	var ar []arange
	if len(s.Aranges) > 0 {
		var aerr error
		ar, aerr = parseAranges(s.Aranges, bo)
		if aerr != nil {
			ix.warns = append(ix.warns, aerr)
		}
	}
	ix.buildSpans(d, ar)
	return ix, nil
}

// buildSpans reads each unit's first DIE and its ranges, in d, into the sorted unit table.
func (ix *Index) buildSpans(d *dwarf.Data, ar []arange) {
	byCU := make(map[uint64][]arange)
	for _, a := range ar {
		byCU[a.cuOff] = append(byCU[a.cuOff], a)
	}
	r := die.NewReader(d)
	for i, u := range ix.units {
		r.Seek(dwarf.Offset(u.dieOff))
		if u.utype == DW_UT_type || u.utype == DW_UT_split_type {
			ix.partial = true
			continue
		}
		e, err := r.Next()
		if err != nil || e == nil {
			if err == nil {
				err = errors.New("no unit DIE")
			}
			ix.warns = append(ix.warns, &FormatError{Section: ".debug_info", Offset: u.dieOff, Msg: "reading unit DIE", Err: err})
			ix.partial = true
			continue
		}
		switch e.Tag {
		case dwarf.TagCompileUnit, dwarf.TagPartialUnit:
		default:
			ix.partial = true
			continue
		}
		rs, err := d.Ranges(e)
		if err != nil {
			ix.warns = append(ix.warns, &FormatError{Section: ".debug_info", Offset: u.dieOff, Msg: "reading unit ranges", Err: err})
			ix.partial = true
		}
		n := 0
		for _, rg := range rs {
			if rg[1] > rg[0] {
				ix.spans = append(ix.spans, cuSpan{lo: rg[0], hi: rg[1], unit: int32(i)})
				n++
			}
		}
		if n == 0 {
			for _, a := range byCU[u.off] {
				ix.spans = append(ix.spans, cuSpan{lo: a.lo, hi: a.hi, unit: int32(i)})
			}
		}
	}
	sort.Slice(ix.spans, func(a, b int) bool {
		if ix.spans[a].lo != ix.spans[b].lo {
			return ix.spans[a].lo < ix.spans[b].lo
		}
		return ix.spans[a].hi < ix.spans[b].hi
	})
}

// maxOverlapScan bounds how many earlier spans are checked when ranges overlap.
const maxOverlapScan = 64

// unitsFor returns up to a few unit indexes whose ranges contain pc, best first
// (the range starting closest below pc).
func (ix *Index) unitsFor(pc uint64) []int32 {
	i := sort.Search(len(ix.spans), func(k int) bool { return ix.spans[k].lo > pc })
	var out []int32
	for k := i - 1; k >= 0 && i-k <= maxOverlapScan; k-- {
		s := ix.spans[k]
		if pc >= s.lo && pc < s.hi {
			dup := false
			for _, o := range out {
				if o == s.unit {
					dup = true
				}
			}
			if !dup {
				out = append(out, s.unit)
			}
			if len(out) == 4 {
				break
			}
		}
	}
	return out
}

// UnitsAt returns the offsets of the unit DIEs whose ranges (or .debug_aranges entries)
// hold pc, a link-time address, in section order: the candidates a reader of other
// DWARF facts checks instead of reading every unit's DIE, as debug/dwarf's SeekPC does.
// complete is false when the index cannot speak for every unit (some were left out, or
// more overlap at pc than it returns); the reader should then scan.
func (ix *Index) UnitsAt(pc uint64) (offs []dwarf.Offset, complete bool) {
	units := ix.unitsFor(pc)
	for _, ui := range units {
		offs = append(offs, dwarf.Offset(ix.units[ui].dieOff))
	}
	sort.Slice(offs, func(a, b int) bool { return offs[a] < offs[b] })
	return offs, !ix.partial && len(units) < 4
}

// NewFromELF builds an Index from the DWARF sections of an ELF file, decompressing
// SHF_COMPRESSED (zlib, zstd) and .zdebug_* sections.
func NewFromELF(f *elf.File, opts *Options) (*Index, error) {
	if f.Type == elf.ET_REL {
		return nil, fmt.Errorf("dwarfsym: relocatable object: DWARF relocations are not applied")
	}
	limit := uint64(defaultMaxSectionSize)
	if opts != nil && opts.MaxSectionSize > 0 {
		limit = opts.MaxSectionSize
	}
	read := func(s *elf.Section, _ uint64) ([]byte, error) { return s.Data() }
	if opts != nil && opts.ReadSection != nil {
		read = opts.ReadSection
	}
	var s Sections
	dst := map[string]*[]byte{
		"info": &s.Info, "abbrev": &s.Abbrev, "line": &s.Line, "str": &s.Str, "line_str": &s.LineStr,
		"str_offsets": &s.StrOffsets, "addr": &s.Addr, "ranges": &s.Ranges, "rnglists": &s.RngLists, "aranges": &s.Aranges,
	}
	for _, sec := range f.Sections {
		var suffix string
		switch {
		case len(sec.Name) > 7 && sec.Name[:7] == ".debug_":
			suffix = sec.Name[7:]
		case len(sec.Name) > 8 && sec.Name[:8] == ".zdebug_":
			suffix = sec.Name[8:]
		default:
			continue
		}
		p, ok := dst[suffix]
		if !ok || *p != nil {
			continue
		}
		if sec.Type == elf.SHT_NOBITS {
			continue
		}
		if sec.Size > limit {
			return nil, &FormatError{Section: sec.Name, Msg: fmt.Sprintf("size %d exceeds the limit %d", sec.Size, limit)}
		}
		b, err := read(sec, limit)
		if err != nil {
			return nil, &FormatError{Section: sec.Name, Msg: "reading section", Err: err}
		}
		*p = b
	}
	if s.Info == nil {
		return nil, ErrNoDebugInfo
	}
	return New(s, opts)
}

// Lookup returns the frames at pc, innermost first; the last frame is the concrete function.
// When the unit covering pc names no function there, the result is one frame with only
// File/Line. A non-nil error together with frames means a partial answer (for example a
// corrupt line table: frames without file:line); with no frames it is the reason, wrapping
// ErrUnknownPC when no unit covers pc.
func (ix *Index) Lookup(pc uint64) ([]Frame, error) {
	units := ix.unitsFor(pc)
	if len(units) == 0 {
		return nil, fmt.Errorf("%w: %#x", ErrUnknownPC, pc)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var firstErr error
	var fallback []Frame
	for _, ui := range units {
		cu := ix.unit(ui)
		frames, found, err := cu.lookup(ix, pc)
		if found {
			return frames, err
		}
		if fallback == nil && len(frames) > 0 {
			fallback = frames
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if fallback != nil {
		return fallback, firstErr
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, fmt.Errorf("%w: %#x (no function or line row in its unit)", ErrUnknownPC, pc)
}

// unit returns the decoded unit ui, decoding it and updating the LRU cache. ix.mu is held.
func (ix *Index) unit(ui int32) *cunit {
	if el, ok := ix.cache[ui]; ok {
		ix.lru.MoveToFront(el)
		return el.Value.(*cunit)
	}
	cu := decodeUnit(ix, ix.units[ui], ui)
	ix.cache[ui] = ix.lru.PushFront(cu)
	ix.cacheBytes += cu.cost
	for ix.cacheBytes > ix.cacheLimit && ix.lru.Len() > 1 {
		el := ix.lru.Back()
		old := el.Value.(*cunit)
		ix.lru.Remove(el)
		delete(ix.cache, old.index)
		ix.cacheBytes -= old.cost
	}
	return cu
}
