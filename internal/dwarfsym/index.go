package dwarfsym

import (
	"container/list"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
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
	d     *dwarf.Data
	units []unitHeader
	spans []cuSpan // sorted by lo
	warns []error
	// partial: some unit is not in spans for a reason other than having no ranges (a
	// type or skeleton unit, an unreadable DIE), so UnitsAt cannot speak for all units.
	partial bool
	line    []byte // .debug_line, for checkLineHeader
	info    []byte // .debug_info and .debug_addr, for readers of other DWARF facts (Raw)
	addr    []byte
	bo      binary.ByteOrder

	typeMu sync.Mutex // guards d's type cache (see Type)

	mu         sync.Mutex
	cache      map[int32]*list.Element // unit index -> element holding *cunit
	lru        list.List               // front = most recently used
	cacheBytes int
	cacheLimit int
}

// Raw returns the parsed DWARF with the raw .debug_info and .debug_addr it was built
// from, for readers of other DWARF facts (variables, types) that should not decompress
// the sections a second time.
//
// d is shared with the Index and with every other caller of Raw, possibly on other
// goroutines. Its Readers (each caller its own), Ranges and LineReader only read it once
// New has returned; but d.Type fills a cache inside d without a lock, so read types
// through ix.Type instead.
func (ix *Index) Raw() (d *dwarf.Data, info, addr []byte, order binary.ByteOrder) {
	return ix.d, ix.info, ix.addr, ix.bo
}

// Type reads the type at off, as (*dwarf.Data).Type does, holding the lock that makes it
// safe to call from several goroutines: debug/dwarf keeps the types it has read in a map
// inside the Data. The types it returns are complete and never changed afterwards.
func (ix *Index) Type(off dwarf.Offset) (dwarf.Type, error) {
	ix.typeMu.Lock()
	defer ix.typeMu.Unlock()
	return ix.d.Type(off)
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
	d, err := dwarf.New(s.Abbrev, nil, nil, s.Info, s.Line, nil, s.Ranges, s.Str)
	if err != nil {
		return nil, &FormatError{Section: ".debug_info", Msg: "debug/dwarf refused the sections", Err: err}
	}
	for _, sec := range []struct {
		name string
		b    []byte
	}{{".debug_line_str", s.LineStr}, {".debug_str_offsets", s.StrOffsets}, {".debug_addr", s.Addr}, {".debug_rnglists", s.RngLists}} {
		if sec.b != nil {
			if err := d.AddSection(sec.name, sec.b); err != nil {
				return nil, &FormatError{Section: sec.name, Msg: "debug/dwarf refused the section", Err: err}
			}
		}
	}
	ix := &Index{d: d, units: units, line: s.Line, info: s.Info, addr: s.Addr, bo: bo, cache: make(map[int32]*list.Element), cacheLimit: defaultCacheBytes}
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
	ix.buildSpans(ar)
	return ix, nil
}

// buildSpans reads each unit's first DIE and its ranges into the sorted unit table.
func (ix *Index) buildSpans(ar []arange) {
	byCU := make(map[uint64][]arange)
	for _, a := range ar {
		byCU[a.cuOff] = append(byCU[a.cuOff], a)
	}
	r := ix.d.Reader()
	for i, u := range ix.units {
		// Seeking into a DWARF 5 unit is what makes debug/dwarf read the unit's
		// str_offsets, addr, rnglists and loclists bases, which it stores in the Data
		// without a lock. Every unit is sought here, type units included, so that no
		// Reader writes them once the Index is shared (see Raw).
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
		rs, err := ix.d.Ranges(e)
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
