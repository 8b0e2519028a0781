package elfx

import (
	"encoding/binary"
	"io"

	"github.com/coredig/coredig/internal/dwarf/leb128"
)

// Cursor decodes fixed-size fields from a byte slice with a sticky error: the first read
// past the end records io.ErrUnexpectedEOF and every later read returns zero. Check Err
// once after a run of fields (the pattern of debug/dwarf's buf).
type Cursor struct {
	b     []byte
	off   int
	order binary.ByteOrder
	is64  bool
	err   error
}

// NewCursor returns a cursor over b. is64 selects the size of Addr (8 or 4 bytes).
func NewCursor(b []byte, order binary.ByteOrder, is64 bool) *Cursor {
	return &Cursor{b: b, order: order, is64: is64}
}

// Err returns the first error.
func (c *Cursor) Err() error { return c.err }

// Off returns the current offset.
func (c *Cursor) Off() int { return c.off }

// Len returns the bytes left.
func (c *Cursor) Len() int { return len(c.b) - c.off }

func (c *Cursor) take(n int) []byte {
	if c.err != nil || n < 0 || n > len(c.b)-c.off {
		if c.err == nil {
			c.err = io.ErrUnexpectedEOF
		}
		return nil
	}
	s := c.b[c.off : c.off+n]
	c.off += n
	return s
}

// Skip advances n bytes.
func (c *Cursor) Skip(n int) { c.take(n) }

// Bytes returns the next n bytes (aliasing the input).
func (c *Cursor) Bytes(n int) []byte { return c.take(n) }

// U8 reads one byte.
func (c *Cursor) U8() uint8 {
	if b := c.take(1); b != nil {
		return b[0]
	}
	return 0
}

// U16 reads a 16-bit value.
func (c *Cursor) U16() uint16 {
	if b := c.take(2); b != nil {
		return c.order.Uint16(b)
	}
	return 0
}

// U32 reads a 32-bit value.
func (c *Cursor) U32() uint32 {
	if b := c.take(4); b != nil {
		return c.order.Uint32(b)
	}
	return 0
}

// U64 reads a 64-bit value.
func (c *Cursor) U64() uint64 {
	if b := c.take(8); b != nil {
		return c.order.Uint64(b)
	}
	return 0
}

// Addr reads a word of the file's class (unsigned long in the kernel's structures).
func (c *Cursor) Addr() uint64 {
	if c.is64 {
		return c.U64()
	}
	return uint64(c.U32())
}

// ULEB reads an unsigned LEB128 value.
func (c *Cursor) ULEB() uint64 {
	if c.err != nil {
		return 0
	}
	v, n := leb128.Uint(c.b[c.off:])
	if n == 0 {
		c.err = io.ErrUnexpectedEOF
		return 0
	}
	c.off += n
	return v
}
