package dwarfsym

import "fmt"

// An abbreviation table (DWARF 5 section 7.5.3) is a run of entries, each
//
//	code (ULEB128, 0 ends the table), tag (ULEB128), children (1 byte),
//	(attribute ULEB128, form ULEB128 [, value SLEB128 for DW_FORM_implicit_const])*,
//	0, 0
//
// debug/dwarf's New parses the table of every unit up front; this walker lets the Index
// find the extent of a table, the entry of one code and the forms a table uses without
// that, so that debug/dwarf is only shown the tables a question needs (see views.go).

// Forms the walker looks for (DWARF 5 section 7.5.6, table 7.6).
const (
	formRefAddr       = 0x10 // DW_FORM_ref_addr: a reference anywhere in .debug_info
	formIndirect      = 0x16 // DW_FORM_indirect: the form is in the DIE
	formImplicitConst = 0x21 // DW_FORM_implicit_const: the value is in the table
)

// Bounds on hostile tables.
const (
	maxAbbrevEntries = 1 << 20 // entries in one table
	maxAbbrevAttrs   = 1 << 16 // attribute specifications in one entry
)

// abbrevEntry is one entry of a table: its code and where its bytes are.
type abbrevEntry struct {
	code       uint64
	start, end uint64 // [start, end) holds the code through the closing 0, 0
	// crossRef: an attribute has DW_FORM_ref_addr or DW_FORM_indirect, so a DIE of this
	// shape may refer to another unit.
	crossRef bool
}

// walkAbbrev reads the table at off in b and calls fn for each entry until fn returns
// false. It returns the offset one past the table's terminating 0 code (when fn stopped
// it early, one past the last entry read) or, for a table that runs past the end of b or
// past the bounds, an error.
func walkAbbrev(b []byte, off uint64, fn func(abbrevEntry) bool) (uint64, error) {
	p := off
	uleb := func() (uint64, bool) {
		var v uint64
		for shift := uint(0); p < uint64(len(b)); shift += 7 {
			c := b[p]
			p++
			if shift < 64 {
				v |= uint64(c&0x7f) << shift
			}
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	bad := func(at uint64, msg string) error {
		return &FormatError{Section: ".debug_abbrev", Offset: at, Msg: msg}
	}
	if off >= uint64(len(b)) {
		return off, bad(off, fmt.Sprintf("table offset past the section end %#x", len(b)))
	}
	for n := 0; ; n++ {
		if n > maxAbbrevEntries {
			return p, bad(off, fmt.Sprintf("table has more than %d entries", maxAbbrevEntries))
		}
		e := abbrevEntry{start: p}
		code, ok := uleb()
		if !ok {
			return p, bad(e.start, "truncated abbreviation code")
		}
		if code == 0 {
			return p, nil
		}
		e.code = code
		if _, ok := uleb(); !ok { // tag
			return p, bad(e.start, "truncated tag")
		}
		if p >= uint64(len(b)) {
			return p, bad(e.start, "truncated children flag")
		}
		p++
		for k := 0; ; k++ {
			if k > maxAbbrevAttrs {
				return p, bad(e.start, fmt.Sprintf("entry has more than %d attributes", maxAbbrevAttrs))
			}
			attr, ok1 := uleb()
			form, ok2 := uleb()
			if !ok1 || !ok2 {
				return p, bad(e.start, "truncated attribute specification")
			}
			if attr == 0 && form == 0 {
				break
			}
			switch form {
			case formImplicitConst:
				if _, ok := uleb(); !ok { // an SLEB128 has the same extent
					return p, bad(e.start, "truncated implicit constant")
				}
			case formRefAddr, formIndirect:
				e.crossRef = true
			}
		}
		e.end = p
		if !fn(e) {
			return p, nil
		}
	}
}
