package dwarfsym

import (
	"encoding/binary"
	"fmt"

	"github.com/coredig/coredig/internal/elfx"
)

// checkLineHeader validates the directory and file counts of a DWARF 5 line program header
// (DWARF 5 section 6.2.4, items 14-20) before debug/dwarf reads it: debug/dwarf allocates
// a slice of the declared count up front, so a forged count would exhaust memory or spin.
// Each count must fit in the bytes the header declares. Versions 2-4 use terminated lists
// and need no check.
func checkLineHeader(line []byte, off uint64, bo binary.ByteOrder) error {
	if off >= uint64(len(line)) {
		return &FormatError{Section: ".debug_line", Offset: off, Msg: "DW_AT_stmt_list past the section end"}
	}
	c := elfx.NewCursor(line[off:], bo, true)
	at := func() uint64 { return off + uint64(c.Off()) }
	truncated := func() error {
		return &FormatError{Section: ".debug_line", Offset: at(), Msg: "line program header truncated"}
	}
	// The unit length itself is not needed: the header length bounds what is checked.
	offSize := uint64(4)
	if c.U32() == 0xffffffff {
		c.Skip(8)
		offSize = 8
	}
	vers := c.U16()
	if c.Err() != nil {
		return truncated()
	}
	if vers != 5 {
		return nil
	}
	c.Skip(2) // address_size, segment_selector_size
	var hdrLen uint64
	if offSize == 8 {
		hdrLen = c.U64()
	} else {
		hdrLen = uint64(c.U32())
	}
	hdrEnd := at() + hdrLen
	if c.Err() != nil || hdrLen > uint64(c.Len()) {
		return &FormatError{Section: ".debug_line", Offset: off, Msg: fmt.Sprintf("header length %#x runs past the section", hdrLen)}
	}
	c.Skip(5) // minimum_instruction_length .. line_range
	if opBase := c.U8(); opBase > 0 {
		c.Skip(int(opBase) - 1)
	}
	for _, what := range []string{"directory", "file name"} {
		nfmt := c.U8()
		forms := make([]uint64, 0, nfmt)
		for i := 0; i < int(nfmt); i++ {
			c.ULEB() // content type
			forms = append(forms, c.ULEB())
		}
		count := c.ULEB()
		if c.Err() != nil {
			return truncated()
		}
		if count > hdrLen || (nfmt == 0 && count > 0) {
			return &FormatError{Section: ".debug_line", Offset: off, Msg: fmt.Sprintf("%s count %d does not fit the %d-byte header", what, count, hdrLen)}
		}
		for i := uint64(0); i < count && c.Err() == nil; i++ {
			for _, f := range forms {
				if !skipForm(c, f, offSize) {
					return &FormatError{Section: ".debug_line", Offset: at(), Msg: fmt.Sprintf("form %#x in a line header entry format", f)}
				}
			}
			if at() > hdrEnd {
				return &FormatError{Section: ".debug_line", Offset: off, Msg: fmt.Sprintf("%s entries run past the header", what)}
			}
		}
		if c.Err() != nil {
			return truncated()
		}
	}
	return nil
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

// skipForm skips one value of form as debug/dwarf's LineReader reads it; false for a form
// it does not read.
func skipForm(c *elfx.Cursor, form, offSize uint64) bool {
	skip := func(n uint64) {
		if n > uint64(c.Len()) {
			n = uint64(c.Len()) + 1 // records the truncation
		}
		c.Skip(int(n))
	}
	switch form {
	case DW_FORM_data1, DW_FORM_strx1:
		skip(1)
	case DW_FORM_data2, DW_FORM_strx2:
		skip(2)
	case DW_FORM_strx3:
		skip(3)
	case DW_FORM_data4, DW_FORM_strx4:
		skip(4)
	case DW_FORM_data8:
		skip(8)
	case DW_FORM_data16:
		skip(16)
	case DW_FORM_strp, DW_FORM_line_strp:
		skip(offSize)
	case DW_FORM_udata, DW_FORM_strx:
		c.ULEB()
	case DW_FORM_string:
		for c.Err() == nil && c.U8() != 0 {
		}
	case DW_FORM_block:
		skip(c.ULEB())
	default:
		// Other forms, DW_FORM_block1, block2 and block4 among them, debug/dwarf's
		// readLNCT passes over without reading a byte: the header it then reads is not
		// the one checked here, and its counts are not checked at all.
		return false
	}
	return true
}
