package dwarfsym

import (
	"encoding/binary"
	"fmt"

	"github.com/coredig/coredig/internal/dwarf/leb128"
)

// checkLineHeader validates the directory and file counts of a DWARF 5 line program header
// (DWARF 5 section 6.2.4, items 14-20) before debug/dwarf reads it: debug/dwarf allocates
// a slice of the declared count up front, so a forged count would exhaust memory or spin.
// Each count must fit in the bytes the header declares. Versions 2-4 use terminated lists
// and need no check.
func checkLineHeader(line []byte, off uint64, bo binary.ByteOrder) error {
	c := &cursor{b: line, off: off, bo: bo}
	if off >= uint64(len(line)) {
		return &FormatError{Section: ".debug_line", Offset: off, Msg: "DW_AT_stmt_list past the section end"}
	}
	// The unit length itself is not needed: the header length bounds what is checked.
	offSize := uint64(4)
	if c.u32() == 0xffffffff {
		c.skip(8)
		offSize = 8
	}
	vers := c.u16()
	if c.err != nil || vers != 5 {
		return c.err
	}
	c.skip(2) // address_size, segment_selector_size
	var hdrLen uint64
	if offSize == 8 {
		hdrLen = c.u64()
	} else {
		hdrLen = uint64(c.u32())
	}
	hdrEnd := c.off + hdrLen
	if c.err != nil || hdrLen > uint64(len(line))-c.off {
		return &FormatError{Section: ".debug_line", Offset: off, Msg: fmt.Sprintf("header length %#x runs past the section", hdrLen)}
	}
	c.skip(5) // minimum_instruction_length .. line_range
	opBase := c.u8()
	if opBase > 0 {
		c.skip(uint64(opBase) - 1)
	}
	for _, what := range []string{"directory", "file name"} {
		nfmt := c.u8()
		forms := make([]uint64, 0, nfmt)
		for i := 0; i < int(nfmt); i++ {
			c.uleb() // content type
			forms = append(forms, c.uleb())
		}
		count := c.uleb()
		if c.err != nil {
			return c.err
		}
		if count > hdrLen || (nfmt == 0 && count > 0) {
			return &FormatError{Section: ".debug_line", Offset: off, Msg: fmt.Sprintf("%s count %d does not fit the %d-byte header", what, count, hdrLen)}
		}
		for i := uint64(0); i < count && c.err == nil; i++ {
			for _, f := range forms {
				c.skipForm(f, offSize)
			}
			if c.off > hdrEnd {
				return &FormatError{Section: ".debug_line", Offset: off, Msg: fmt.Sprintf("%s entries run past the header", what)}
			}
		}
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

// cursor is a sticky-error reader over one section.
type cursor struct {
	b   []byte
	off uint64
	bo  binary.ByteOrder
	err error
}

func (c *cursor) need(n uint64) bool {
	if c.err != nil {
		return false
	}
	if n > uint64(len(c.b)) || c.off > uint64(len(c.b))-n {
		c.err = &FormatError{Section: ".debug_line", Offset: c.off, Msg: "line program header truncated"}
		return false
	}
	return true
}

func (c *cursor) skip(n uint64) {
	if c.need(n) {
		c.off += n
	}
}

func (c *cursor) u8() uint8 {
	if !c.need(1) {
		return 0
	}
	v := c.b[c.off]
	c.off++
	return v
}

func (c *cursor) u16() uint16 {
	if !c.need(2) {
		return 0
	}
	v := c.bo.Uint16(c.b[c.off:])
	c.off += 2
	return v
}

func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	v := c.bo.Uint32(c.b[c.off:])
	c.off += 4
	return v
}

func (c *cursor) u64() uint64 {
	if !c.need(8) {
		return 0
	}
	v := c.bo.Uint64(c.b[c.off:])
	c.off += 8
	return v
}

func (c *cursor) uleb() uint64 {
	if c.err != nil {
		return 0
	}
	if c.off > uint64(len(c.b)) {
		c.need(1)
		return 0
	}
	v, n := leb128.Uint(c.b[c.off:])
	if n == 0 {
		c.need(uint64(len(c.b)) - c.off + 1) // records the truncation error
		return 0
	}
	c.off += uint64(n)
	return v
}

// DWARF 5 section 7.5.6 form codes that line headers use.
const (
	DW_FORM_block2    = 0x03
	DW_FORM_block4    = 0x04
	DW_FORM_data2     = 0x05
	DW_FORM_data4     = 0x06
	DW_FORM_data8     = 0x07
	DW_FORM_string    = 0x08
	DW_FORM_block     = 0x09
	DW_FORM_block1    = 0x0a
	DW_FORM_data1     = 0x0b
	DW_FORM_udata     = 0x0f
	DW_FORM_strp      = 0x0e
	DW_FORM_strx      = 0x1a
	DW_FORM_data16    = 0x1e
	DW_FORM_line_strp = 0x1f
	DW_FORM_strx1     = 0x25
	DW_FORM_strx2     = 0x26
	DW_FORM_strx3     = 0x27
	DW_FORM_strx4     = 0x28
)

func (c *cursor) skipForm(form, offSize uint64) {
	switch form {
	case DW_FORM_data1, DW_FORM_strx1:
		c.skip(1)
	case DW_FORM_data2, DW_FORM_strx2:
		c.skip(2)
	case DW_FORM_strx3:
		c.skip(3)
	case DW_FORM_data4, DW_FORM_strx4:
		c.skip(4)
	case DW_FORM_data8:
		c.skip(8)
	case DW_FORM_data16:
		c.skip(16)
	case DW_FORM_strp, DW_FORM_line_strp:
		c.skip(offSize)
	case DW_FORM_udata, DW_FORM_strx:
		c.uleb()
	case DW_FORM_string:
		for c.err == nil && c.u8() != 0 {
		}
	case DW_FORM_block:
		c.skip(c.uleb())
	case DW_FORM_block1:
		c.skip(uint64(c.u8()))
	case DW_FORM_block2:
		c.skip(uint64(c.u16()))
	case DW_FORM_block4:
		c.skip(uint64(c.u32()))
	default:
		if c.err == nil {
			c.err = &FormatError{Section: ".debug_line", Offset: c.off, Msg: fmt.Sprintf("form %#x in a line header entry format", form)}
		}
	}
}
