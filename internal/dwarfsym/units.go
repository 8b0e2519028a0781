package dwarfsym

import (
	"encoding/binary"
	"fmt"
)

// FormatError reports malformed DWARF: the section, the byte offset inside it and what was
// wrong. Err, when set, is the underlying error (often a debug/dwarf DecodeError).
type FormatError struct {
	Section string
	Offset  uint64
	Msg     string
	Err     error
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("dwarfsym: %s at offset %#x: %s", e.Section, e.Offset, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// unitHeader is one unit of .debug_info as its header describes it.
type unitHeader struct {
	off    uint64 // offset of the unit header
	dieOff uint64 // offset of the unit's first DIE
	end    uint64 // offset one past the unit
	vers   int
	utype  uint8  // DWARF 5 unit type, 0 before version 5
	abbrev uint64 // offset of the unit's abbreviation table in .debug_abbrev
}

// DWARF 5 section 7.5.1 unit types.
const (
	DW_UT_compile       = 0x01
	DW_UT_type          = 0x02
	DW_UT_partial       = 0x03
	DW_UT_skeleton      = 0x04
	DW_UT_split_compile = 0x05
	DW_UT_split_type    = 0x06
)

// maxUnits caps the number of units indexed in one module.
const maxUnits = 1 << 20

// sniffOrder guesses the byte order of .debug_info from the first unit's version field,
// as debug/dwarf does.
func sniffOrder(info []byte) (binary.ByteOrder, error) {
	off := 4
	if len(info) >= 4 && info[0] == 0xff && info[1] == 0xff && info[2] == 0xff && info[3] == 0xff {
		off = 12
	}
	if len(info) < off+2 {
		return nil, &FormatError{Section: ".debug_info", Offset: 0, Msg: "too short for a unit header"}
	}
	x, y := info[off], info[off+1]
	switch {
	case x == 0 && y >= 2 && y <= 5:
		return binary.BigEndian, nil
	case y == 0 && x >= 2 && x <= 5:
		return binary.LittleEndian, nil
	}
	return nil, &FormatError{Section: ".debug_info", Offset: uint64(off), Msg: fmt.Sprintf("unsupported DWARF version bytes %#x %#x", x, y)}
}

// scanUnits lists the units of .debug_info following DWARF 5 section 7.5.1 (and DWARF 4
// 7.5.1.1 for versions 2-4). Zero-length units are skipped as debug/dwarf skips them, so
// the offsets agree with it. A malformed header ends the scan with the units so far and
// an error.
func scanUnits(info []byte, bo binary.ByteOrder) ([]unitHeader, error) {
	var units []unitHeader
	off := uint64(0)
	n := uint64(len(info))
	for off < n {
		if len(units) >= maxUnits {
			return units, &FormatError{Section: ".debug_info", Offset: off, Msg: fmt.Sprintf("more than %d units", maxUnits)}
		}
		start := off
		if n-off < 4 {
			return units, &FormatError{Section: ".debug_info", Offset: off, Msg: "truncated unit length"}
		}
		length := uint64(bo.Uint32(info[off:]))
		off += 4
		is64 := false
		if length == 0xffffffff {
			if n-off < 8 {
				return units, &FormatError{Section: ".debug_info", Offset: off, Msg: "truncated 64-bit unit length"}
			}
			length = bo.Uint64(info[off:])
			off += 8
			is64 = true
		} else if length >= 0xfffffff0 {
			return units, &FormatError{Section: ".debug_info", Offset: start, Msg: fmt.Sprintf("reserved unit length %#x", length)}
		}
		if length > n-off {
			return units, &FormatError{Section: ".debug_info", Offset: start, Msg: fmt.Sprintf("unit length %#x runs past the section end %#x", length, n)}
		}
		end := off + length
		if length == 0 {
			off = end
			continue
		}
		u := unitHeader{off: start, end: end}
		if end-off < 2 {
			return units, &FormatError{Section: ".debug_info", Offset: off, Msg: "unit too short for a version"}
		}
		u.vers = int(bo.Uint16(info[off:]))
		off += 2
		if u.vers < 2 || u.vers > 5 {
			return units, &FormatError{Section: ".debug_info", Offset: start, Msg: fmt.Sprintf("unsupported DWARF version %d", u.vers)}
		}
		offSize := uint64(4)
		if is64 {
			offSize = 8
		}
		hdr := offSize + 1 // debug_abbrev_offset + address_size
		if u.vers >= 5 {
			if end-off < 1 {
				return units, &FormatError{Section: ".debug_info", Offset: start, Msg: "unit too short for its type"}
			}
			u.utype = info[off]
			hdr++
			switch u.utype {
			case DW_UT_skeleton, DW_UT_split_compile:
				hdr += 8
			case DW_UT_type, DW_UT_split_type:
				hdr += 8 + offSize
			}
		}
		if end-off < hdr {
			return units, &FormatError{Section: ".debug_info", Offset: start, Msg: "unit too short for its header"}
		}
		u.dieOff = off + hdr
		ao := off // debug_abbrev_offset: after the version, and unit type and address size (5)
		if u.vers >= 5 {
			ao += 2
		}
		if is64 {
			u.abbrev = bo.Uint64(info[ao:])
		} else {
			u.abbrev = uint64(bo.Uint32(info[ao:]))
		}
		units = append(units, u)
		off = end
	}
	return units, nil
}

// arange is one address range that .debug_aranges attributes to the unit at cuOff.
type arange struct {
	lo, hi uint64
	cuOff  uint64
}

// maxAranges caps the number of ranges read from .debug_aranges.
const maxAranges = 1 << 22

// parseAranges reads .debug_aranges (DWARF 5 section 6.1.2). Sets with an unsupported
// version or address size are skipped; the first structural error stops the parse and is
// returned with the ranges read so far.
func parseAranges(b []byte, bo binary.ByteOrder) ([]arange, error) {
	var out []arange
	off := uint64(0)
	n := uint64(len(b))
	for off < n {
		start := off
		if n-off < 4 {
			return out, &FormatError{Section: ".debug_aranges", Offset: off, Msg: "truncated set length"}
		}
		length := uint64(bo.Uint32(b[off:]))
		off += 4
		is64 := false
		if length == 0xffffffff {
			if n-off < 8 {
				return out, &FormatError{Section: ".debug_aranges", Offset: off, Msg: "truncated 64-bit set length"}
			}
			length = bo.Uint64(b[off:])
			off += 8
			is64 = true
		}
		if length > n-off {
			return out, &FormatError{Section: ".debug_aranges", Offset: start, Msg: fmt.Sprintf("set length %#x runs past the section end", length)}
		}
		end := off + length
		hdr := uint64(2 + 4 + 1 + 1)
		if is64 {
			hdr += 4
		}
		if length < hdr {
			return out, &FormatError{Section: ".debug_aranges", Offset: start, Msg: "set too short for its header"}
		}
		vers := bo.Uint16(b[off:])
		p := off + 2
		var cuOff uint64
		if is64 {
			cuOff = bo.Uint64(b[p:])
			p += 8
		} else {
			cuOff = uint64(bo.Uint32(b[p:]))
			p += 4
		}
		asize := uint64(b[p])
		segSize := uint64(b[p+1])
		p += 2
		if vers != 2 || (asize != 4 && asize != 8) || segSize != 0 {
			off = end
			continue
		}
		// Tuples start at a multiple of twice the address size from the set start.
		tuple := 2 * asize
		if rem := (p - start) % tuple; rem != 0 {
			p += tuple - rem
		}
		for p+tuple <= end {
			var lo, ln uint64
			if asize == 8 {
				lo, ln = bo.Uint64(b[p:]), bo.Uint64(b[p+8:])
			} else {
				lo, ln = uint64(bo.Uint32(b[p:])), uint64(bo.Uint32(b[p+4:]))
			}
			p += tuple
			if lo == 0 && ln == 0 {
				break
			}
			if ln == 0 || lo+ln < lo {
				continue
			}
			if len(out) >= maxAranges {
				return out, &FormatError{Section: ".debug_aranges", Offset: p, Msg: fmt.Sprintf("more than %d ranges", maxAranges)}
			}
			out = append(out, arange{lo: lo, hi: lo + ln, cuOff: cuOff})
		}
		off = end
	}
	return out, nil
}
