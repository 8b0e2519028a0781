package dwarfsym

import (
	"debug/dwarf"
	"github.com/coredig/coredig/internal/dwarf/die"
	"sort"
)

// Views: debug/dwarf's New parses the abbreviation table of every unit before it returns,
// and keeps them all for the life of the Data. Debian's libc debug file has 2,063 units,
// each with its own table, and a backtrace decodes a handful of them; parsing them all
// cost about 17 MB that stayed live for a whole coredig run.
//
// So the Index never gives debug/dwarf the real .debug_abbrev. It gives it a shadow: a
// zeroed buffer of the same length into which only the tables of the units a question
// needs are copied, each at its own offset. Every other unit's table offset then reads
// as a 0 code, an empty table, which costs debug/dwarf next to nothing to parse.
// .debug_info and the other sections are the real ones, so every Offset (DW_FORM_ref_addr
// and cross-unit DW_AT_abstract_origin or DW_AT_specification included) means what it
// means in the file. A unit whose DIEs cannot be decoded in a view is one whose table was
// not copied; Data copies the tables of the units holding the offsets it is asked for,
// and of every unit those units refer to (below), before it builds the view.
//
// The shadow only grows: a table once copied stays, so a Data handed out earlier never
// sees its bytes change (debug/dwarf reads the abbreviations in New only, but a view
// stays right even if it read them later). Each growth builds a new Data over the same
// shadow; the old one stays valid for the units it had.
//
// Cross-unit references: a table with DW_FORM_ref_addr (or DW_FORM_indirect, which may
// name it) lets the unit's DIEs refer into other units: dwz's partial units reached by
// DW_TAG_imported_unit and DW_AT_abstract_origin, GCC's LTO units. The DIEs of such a
// unit are read once when it joins the view, and every unit a reference of theirs lands
// in joins too, so that debug/dwarf's own reference following (types, in d.Type) finds
// decodable DIEs. Units without such forms refer only inside themselves (DW_FORM_ref1-8,
// ref_udata are unit-relative) or to other files (DW_FORM_GNU_ref_alt, ref_sup), which
// debug/dwarf does not follow.
//
// The unit table is built the same way with a different shadow (unitDIEAbbrev): each
// table holds only the entry of its units' DIE, which is all that reading a unit DIE and
// its ranges needs.

// unitOf returns the index of the unit whose bytes (header included) hold off, or -1.
func (ix *Index) unitOf(off uint64) int32 {
	i := sort.Search(len(ix.units), func(k int) bool { return ix.units[k].off > off })
	if i == 0 || off >= ix.units[i-1].end {
		return -1
	}
	return int32(i - 1)
}

// Data returns parsed DWARF that decodes the units holding the .debug_info offsets offs,
// and the units those refer to. Offsets outside every unit are ignored (a Reader's Seek
// then says so, as with the whole section). DIEs of other units may not decode in it:
// ask again with their offsets, or use AllData.
//
// The Data may be shared with other callers on other goroutines: its Readers, Ranges and
// LineReader only read it; d.Type fills a cache inside it without a lock, so read types
// through ix.Type. The error is for a unit whose abbreviation table is malformed or that
// debug/dwarf refuses; the view then stays as it was, without that unit.
func (ix *Index) Data(offs ...dwarf.Offset) (*dwarf.Data, error) {
	ix.viewMu.Lock()
	defer ix.viewMu.Unlock()
	if ix.all != nil {
		return ix.all, nil
	}
	if ix.incl == nil {
		ix.incl = make([]bool, len(ix.units))
		ix.tables = make(map[uint64]bool)
		ix.shadow = make([]byte, len(ix.abbrev))
	}
	var add []int32
	for _, off := range offs {
		if ui := ix.unitOf(uint64(off)); ui >= 0 && !ix.incl[ui] {
			add = append(add, ui)
		}
	}
	if len(add) == 0 && ix.cur != nil {
		return ix.cur, nil
	}
	for round := 0; round == 0 || len(add) > 0; round++ {
		if round == maxViewRounds {
			// References that lead on and on (each view costs a pass over every unit
			// header): decode every unit instead.
			d, err := ix.allLocked()
			if err != nil {
				return ix.cur, err
			}
			return d, nil
		}
		d, crossed, err := ix.grow(add)
		if err != nil {
			if ix.cur == nil {
				// Nothing decodes, but offsets outside the failed units still answer
				// "not found" rather than a nil Data.
				if d0, err0 := ix.newData(ix.shadow); err0 == nil {
					ix.cur = d0
				}
			}
			return ix.cur, err
		}
		ix.cur = d
		add = add[:0]
		for _, ui := range crossed {
			add = append(add, ix.refsOutside(d, ui)...)
		}
	}
	return ix.cur, nil
}

// AllData returns parsed DWARF that decodes every unit, for a scan of all units: it costs
// what debug/dwarf's New costs on the whole sections, once per Index. Sharing is as for
// Data.
func (ix *Index) AllData() (*dwarf.Data, error) {
	ix.viewMu.Lock()
	defer ix.viewMu.Unlock()
	return ix.allLocked()
}

// maxViewRounds bounds the rounds of following cross-unit references for one Data call;
// past it the view is every unit.
const maxViewRounds = 16

// allLocked is AllData with ix.viewMu held.
func (ix *Index) allLocked() (*dwarf.Data, error) {
	if ix.all != nil {
		return ix.all, nil
	}
	d, err := ix.newData(ix.abbrev)
	if err != nil {
		return nil, err
	}
	r := die.NewReader(d)
	for _, u := range ix.units {
		r.Seek(dwarf.Offset(u.dieOff)) // see preseek
	}
	ix.all, ix.cur = d, d
	return d, nil
}

// grow copies the tables of units add into the shadow and builds a view with them. It
// returns the units of add whose tables allow cross-unit references. On an error the
// shadow and the set of units are as before. ix.viewMu is held.
func (ix *Index) grow(add []int32) (*dwarf.Data, []int32, error) {
	type copied struct{ off, end uint64 }
	var undo []copied
	var added, crossed []int32
	revert := func() {
		for _, c := range undo {
			clear(ix.shadow[c.off:c.end])
			delete(ix.tables, c.off)
		}
		for _, ui := range added {
			ix.incl[ui] = false
		}
	}
	for _, ui := range add {
		if ix.incl[ui] {
			continue
		}
		u := ix.units[ui]
		cross, ok := ix.tables[u.abbrev]
		if !ok {
			end, err := walkAbbrev(ix.abbrev, u.abbrev, func(e abbrevEntry) bool {
				cross = cross || e.crossRef
				return true
			})
			if err != nil {
				revert()
				return nil, nil, &FormatError{Section: ".debug_info", Offset: u.off, Msg: "the unit's abbreviation table", Err: err}
			}
			copy(ix.shadow[u.abbrev:end], ix.abbrev[u.abbrev:end])
			ix.tables[u.abbrev] = cross
			undo = append(undo, copied{u.abbrev, end})
		}
		ix.incl[ui] = true
		added = append(added, ui)
		if cross {
			crossed = append(crossed, ui)
		}
	}
	d, err := ix.newData(ix.shadow)
	if err != nil {
		revert()
		return nil, nil, err
	}
	ix.preseek(d)
	return d, crossed, nil
}

// preseek seeks d's Readers into each unit of the view and the unit after each (where a
// Reader that runs off a unit's end goes on): seeking into a DWARF 5 unit is what makes
// debug/dwarf read the unit's str_offsets, addr, rnglists and loclists bases, which it
// stores in the Data without a lock, so it is done before the Data is shared.
func (ix *Index) preseek(d *dwarf.Data) {
	r := die.NewReader(d)
	for i, u := range ix.units {
		if ix.incl[i] || i > 0 && ix.incl[i-1] {
			r.Seek(dwarf.Offset(u.dieOff))
		}
	}
}

// refsOutside reads the DIEs of unit ui in d and returns the units outside the view that
// their references land in.
func (ix *Index) refsOutside(d *dwarf.Data, ui int32) []int32 {
	u := ix.units[ui]
	r := die.NewReader(d)
	r.Seek(dwarf.Offset(u.dieOff))
	var out []int32
	for n := 0; n < maxDIEs; n++ {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag == 0 {
			continue
		}
		if uint64(e.Offset) < u.dieOff || uint64(e.Offset) >= u.end {
			break
		}
		for _, f := range e.Field {
			if f.Class != dwarf.ClassReference {
				continue
			}
			t, ok := f.Val.(dwarf.Offset)
			if !ok || uint64(t) >= u.off && uint64(t) < u.end {
				continue
			}
			if ti := ix.unitOf(uint64(t)); ti >= 0 && !ix.incl[ti] && !containsUnit(out, ti) {
				out = append(out, ti)
			}
		}
	}
	return out
}

func containsUnit(s []int32, ui int32) bool {
	for _, x := range s {
		if x == ui {
			return true
		}
	}
	return false
}

// newData runs debug/dwarf's New over abbrev and the Index's other sections.
func (ix *Index) newData(abbrev []byte) (*dwarf.Data, error) {
	s := ix.sec
	d, err := dwarf.New(abbrev, nil, nil, s.Info, s.Line, nil, s.Ranges, s.Str)
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
	return d, nil
}

// unitDIEAbbrev returns a shadow .debug_abbrev in which each unit's table holds only the
// entry that the unit's first DIE uses (the last entry of that code, as debug/dwarf keeps
// the last), at the table's own offset: enough to read each unit DIE and its ranges.
// It returns the real section when a table is malformed, a unit DIE's code is unreadable
// or tables overlap, so that debug/dwarf sees (and reports) what it would have seen.
func (ix *Index) unitDIEAbbrev() []byte {
	need := make(map[uint64][]uint64) // table offset -> codes of unit DIEs
	for _, u := range ix.units {
		code, ok := uleb128(ix.sec.Info[u.dieOff:u.end])
		if !ok {
			return ix.abbrev
		}
		if cs := need[u.abbrev]; !containsCode(cs, code) {
			need[u.abbrev] = append(cs, code)
		}
	}
	offs := make([]uint64, 0, len(need))
	for off := range need {
		offs = append(offs, off)
	}
	sort.Slice(offs, func(a, b int) bool { return offs[a] < offs[b] })
	out := make([]byte, len(ix.abbrev))
	for i, off := range offs {
		codes := need[off]
		last := make(map[uint64]abbrevEntry, len(codes))
		_, err := walkAbbrev(ix.abbrev, off, func(e abbrevEntry) bool {
			if containsCode(codes, e.code) {
				last[e.code] = e
			}
			return true
		})
		if err != nil {
			return ix.abbrev
		}
		limit := uint64(len(out))
		if i+1 < len(offs) {
			limit = offs[i+1]
		}
		p := off
		for _, c := range codes {
			e, ok := last[c]
			if !ok {
				continue // debug/dwarf will not find it either
			}
			n := e.end - e.start
			if p+n >= limit {
				return ix.abbrev
			}
			copy(out[p:], ix.abbrev[e.start:e.end])
			p += n
		}
		// out[p] is 0: the end of the table.
	}
	return out
}

func containsCode(s []uint64, c uint64) bool {
	for _, x := range s {
		if x == c {
			return true
		}
	}
	return false
}

// uleb128 decodes the ULEB128 at the start of b.
func uleb128(b []byte) (uint64, bool) {
	var v uint64
	for i, c := range b {
		if i < 10 {
			v |= uint64(c&0x7f) << (7 * uint(i))
		}
		if c&0x80 == 0 {
			return v, true
		}
	}
	return 0, false
}

// viewStats is for tests: how many units the current view decodes.
func (ix *Index) viewStats() (units int, all bool) {
	ix.viewMu.Lock()
	defer ix.viewMu.Unlock()
	for _, in := range ix.incl {
		if in {
			units++
		}
	}
	return units, ix.all != nil
}
