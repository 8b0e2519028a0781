package dwarfvar

import "github.com/coredig/coredig/internal/elfx"

// unitCtx is what a compile unit contributes to reading its location lists.
type unitCtx struct {
	base         uint64 // DW_AT_low_pc: base address of offset pairs
	loclistsBase uint64 // DW_AT_loclists_base
	addrBase     uint64 // DW_AT_addr_base
	version      int
}

// DWARF 5 location list entry kinds (DWARF 5 §7.7.3).
const (
	lleEndOfList       = 0x00
	lleBaseAddressx    = 0x01
	lleStartxEndx      = 0x02
	lleStartxLength    = 0x03
	lleOffsetPair      = 0x04
	lleDefaultLocation = 0x05
	lleBaseAddress     = 0x06
	lleStartEnd        = 0x07
	lleStartLength     = 0x08
	lleGNUViewPair     = 0x09 // GCC's location views: two view numbers, then the entry they qualify
)

// cursorAt returns a cursor at off in b, or one that has already failed.
func (r *Reader) cursorAt(b []byte, off uint64) *elfx.Cursor {
	if off > uint64(len(b)) {
		c := elfx.NewCursor(nil, r.order, true)
		c.Skip(1)
		return c
	}
	return elfx.NewCursor(b[off:], r.order, true)
}

// addrx reads entry i of .debug_addr for the unit.
func (r *Reader) addrx(u unitCtx, i uint64) (uint64, bool) {
	if i > uint64(len(r.addr)) {
		return 0, false
	}
	c := r.cursorAt(r.addr, u.addrBase+i*uint64(r.addrBytes()))
	v := r.address(c)
	return v, c.Err() == nil
}

// address reads one target address (DWARF 5 §7.5.1.1: the unit's address size, which
// GCC and Clang make the ELF class's).
func (r *Reader) address(c *elfx.Cursor) uint64 {
	if r.addrBytes() == 4 {
		return uint64(c.U32())
	}
	return c.U64()
}

// addrBytes is the size of a target address: 4 or 8.
func (r *Reader) addrBytes() int {
	if r.addrSize == 4 {
		return 4
	}
	return 8
}

// locListAt returns the location expression that holds at pc in the list at off (an
// index into the unit's offset table when indexed), or nil.
func (r *Reader) locListAt(off, pc uint64, u unitCtx, indexed bool) []byte {
	r.lists()
	if u.version < 5 && !indexed {
		return r.locListV4(off, pc, u)
	}
	if indexed {
		if off > uint64(len(r.loclists)) {
			return nil
		}
		c := r.cursorAt(r.loclists, u.loclistsBase+off*4)
		rel := c.U32()
		if c.Err() != nil {
			return nil
		}
		off = u.loclistsBase + uint64(rel)
	}
	c := r.cursorAt(r.loclists, off)
	base := u.base
	for n := 0; n < maxListEnts; n++ {
		kind := uint64(c.U8())
		if c.Err() != nil || kind == lleEndOfList {
			return nil
		}
		var lo, hi uint64
		ranged := true
		switch kind {
		case lleBaseAddressx:
			v, ok := r.addrx(u, c.ULEB())
			if !ok {
				return nil
			}
			base, ranged = v, false
		case lleStartxEndx:
			a, ok1 := r.addrx(u, c.ULEB())
			b, ok2 := r.addrx(u, c.ULEB())
			if !ok1 || !ok2 {
				return nil
			}
			lo, hi = a, b
		case lleStartxLength:
			a, ok := r.addrx(u, c.ULEB())
			if !ok {
				return nil
			}
			lo = a
			hi = a + c.ULEB()
		case lleOffsetPair:
			lo = base + c.ULEB()
			hi = base + c.ULEB()
		case lleDefaultLocation:
			lo, hi = 0, ^uint64(0)
		case lleBaseAddress:
			base, ranged = r.address(c), false
		case lleStartEnd:
			lo, hi = r.address(c), r.address(c)
		case lleStartLength:
			lo = r.address(c)
			hi = lo + c.ULEB()
		case lleGNUViewPair:
			c.ULEB()
			c.ULEB()
			ranged = false
		default:
			return nil
		}
		if !ranged {
			continue
		}
		n := c.ULEB()
		if n > uint64(c.Len()) {
			return nil
		}
		expr := c.Bytes(int(n))
		if c.Err() != nil {
			return nil
		}
		if pc >= lo && pc < hi {
			return expr
		}
	}
	return nil
}

// locListV4 reads a DWARF 4 .debug_loc list: address pairs relative to the unit's base
// (a pair whose start is all ones, of the address size, selects a new base), each followed by a 2-byte length
// and the expression; (0, 0) ends it.
func (r *Reader) locListV4(off, pc uint64, u unitCtx) []byte {
	c := r.cursorAt(r.loc, off)
	base := u.base
	for n := 0; n < maxListEnts; n++ {
		lo, hi := r.address(c), r.address(c)
		if c.Err() != nil || lo == 0 && hi == 0 {
			return nil
		}
		if lo == ^uint64(0)>>(64-8*r.addrBytes()) {
			base = hi
			continue
		}
		expr := c.Bytes(int(c.U16()))
		if c.Err() != nil {
			return nil
		}
		if pc >= base+lo && pc < base+hi {
			return expr
		}
	}
	return nil
}
