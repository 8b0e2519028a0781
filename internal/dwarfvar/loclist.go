package dwarfvar

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

// buf is a bounds-checked little cursor; any overrun sets bad.
type buf struct {
	r   *Reader
	b   []byte
	off uint64
	bad bool
}

func (c *buf) need(n uint64) bool {
	if c.bad || c.off+n > uint64(len(c.b)) || c.off+n < c.off {
		c.bad = true
		return false
	}
	return true
}

func (c *buf) u8() uint64 {
	if !c.need(1) {
		return 0
	}
	v := c.b[c.off]
	c.off++
	return uint64(v)
}

func (c *buf) u16() uint64 {
	if !c.need(2) {
		return 0
	}
	v := c.r.order.Uint16(c.b[c.off:])
	c.off += 2
	return uint64(v)
}

func (c *buf) u32() uint64 {
	if !c.need(4) {
		return 0
	}
	v := c.r.order.Uint32(c.b[c.off:])
	c.off += 4
	return uint64(v)
}

func (c *buf) u64() uint64 {
	if !c.need(8) {
		return 0
	}
	v := c.r.order.Uint64(c.b[c.off:])
	c.off += 8
	return v
}

func (c *buf) uleb() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		b := c.u8()
		if c.bad {
			return 0
		}
		v |= (b & 0x7f) << shift
		if b&0x80 == 0 {
			return v
		}
	}
	c.bad = true
	return 0
}

func (c *buf) bytes(n uint64) []byte {
	if !c.need(n) {
		return nil
	}
	v := c.b[c.off : c.off+n]
	c.off += n
	return v
}

// addrx reads entry i of .debug_addr for the unit.
func (r *Reader) addrx(u unitCtx, i uint64) (uint64, bool) {
	c := &buf{r: r, b: r.addr, off: u.addrBase + i*8}
	v := c.u64()
	return v, !c.bad
}

// locListAt returns the location expression that holds at pc in the list at off (an
// index into the unit's offset table when indexed), or nil.
func (r *Reader) locListAt(off, pc uint64, u unitCtx, indexed bool) []byte {
	if u.version < 5 && !indexed {
		return r.locListV4(off, pc, u)
	}
	if indexed {
		c := &buf{r: r, b: r.loclists, off: u.loclistsBase + off*4}
		rel := c.u32()
		if c.bad {
			return nil
		}
		off = u.loclistsBase + rel
	}
	c := &buf{r: r, b: r.loclists, off: off}
	base := u.base
	for n := 0; n < maxListEnts; n++ {
		kind := c.u8()
		if c.bad || kind == lleEndOfList {
			return nil
		}
		var lo, hi uint64
		ranged := true
		switch kind {
		case lleBaseAddressx:
			v, ok := r.addrx(u, c.uleb())
			if !ok {
				return nil
			}
			base, ranged = v, false
		case lleStartxEndx:
			a, ok1 := r.addrx(u, c.uleb())
			b, ok2 := r.addrx(u, c.uleb())
			if !ok1 || !ok2 {
				return nil
			}
			lo, hi = a, b
		case lleStartxLength:
			a, ok := r.addrx(u, c.uleb())
			if !ok {
				return nil
			}
			lo = a
			hi = a + c.uleb()
		case lleOffsetPair:
			lo = base + c.uleb()
			hi = base + c.uleb()
		case lleDefaultLocation:
			lo, hi = 0, ^uint64(0)
		case lleBaseAddress:
			base, ranged = c.u64(), false
		case lleStartEnd:
			lo, hi = c.u64(), c.u64()
		case lleStartLength:
			lo = c.u64()
			hi = lo + c.uleb()
		case lleGNUViewPair:
			c.uleb()
			c.uleb()
			ranged = false
		default:
			return nil
		}
		if !ranged {
			continue
		}
		expr := c.bytes(c.uleb())
		if c.bad {
			return nil
		}
		if pc >= lo && pc < hi {
			return expr
		}
	}
	return nil
}

// locListV4 reads a DWARF 4 .debug_loc list: address pairs relative to the unit's base
// (a pair whose start is all ones selects a new base), each followed by a 2-byte length
// and the expression; (0, 0) ends it.
func (r *Reader) locListV4(off, pc uint64, u unitCtx) []byte {
	c := &buf{r: r, b: r.loc, off: off}
	base := u.base
	for n := 0; n < maxListEnts; n++ {
		lo, hi := c.u64(), c.u64()
		if c.bad || lo == 0 && hi == 0 {
			return nil
		}
		if lo == ^uint64(0) {
			base = hi
			continue
		}
		expr := c.bytes(c.u16())
		if c.bad {
			return nil
		}
		if pc >= base+lo && pc < base+hi {
			return expr
		}
	}
	return nil
}
