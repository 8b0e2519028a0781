package python

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Memory is the process memory the walker reads. ReadAt returns an error
// that says why a range cannot be read (unmapped, not dumped, truncated).
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// ReadError says which CPython structure field could not be read, and why.
type ReadError struct {
	What string // e.g. "PyThreadState.next"
	Addr uint64
	Err  error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("python: reading %s at %#x: %v", e.What, e.Addr, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// CorruptError says a value read from memory is not plausible.
type CorruptError struct {
	What   string
	Addr   uint64
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("python: %s at %#x: %s", e.What, e.Addr, e.Reason)
}

// Bounds on anything whose size comes from the core.
const (
	MaxInterpreters = 256
	MaxThreads      = 10000
	MaxFrames       = 4096
	MaxTotalFrames  = 1 << 18 // frames visited over all threads
	MaxStringLen    = 1024    // characters of a str kept
	MaxLineTable    = 1 << 20 // bytes of a line table read
)

// mem wraps Memory with typed reads in the process's byte order. ptr is the size of a
// pointer in the process, 8 or 4 bytes; CPython's Py_ssize_t, size_t, uintptr_t and (on
// Linux) unsigned long are as wide (Include/pyport.h), so it is the size of every "word"
// field the walker reads. order is the byte order of every multi-byte value (nil:
// little-endian); s390x is big-endian.
type mem struct {
	m     Memory
	ptr   int
	order binary.ByteOrder
}

// bo returns r's byte order.
func (r mem) bo() binary.ByteOrder {
	if r.order == nil {
		return binary.LittleEndian
	}
	return r.order
}

// readChunk bounds each allocation: a size read from a corrupt core costs
// memory only as far as the bytes are really there.
const readChunk = 16 << 10

func (r mem) read(what string, addr uint64, n int) ([]byte, error) {
	b := make([]byte, 0, min(n, readChunk))
	for len(b) < n {
		k := min(n-len(b), readChunk)
		b = append(b, make([]byte, k)...)
		chunk := b[len(b)-k:]
		got, err := r.m.ReadAt(chunk, addr+uint64(len(b)-k))
		if err == nil && got < k {
			err = fmt.Errorf("short read: %d of %d bytes", len(b)-k+got, n)
		}
		if err != nil {
			return nil, &ReadError{What: what, Addr: addr, Err: err}
		}
	}
	return b, nil
}

func (r mem) u64(what string, addr uint64) (uint64, error) {
	b, err := r.read(what, addr, 8)
	if err != nil {
		return 0, err
	}
	return r.bo().Uint64(b), nil
}

// word reads a pointer-sized unsigned word: a pointer, size_t, uintptr_t or unsigned long.
func (r mem) word(what string, addr uint64) (uint64, error) {
	if r.ptr == 4 {
		v, err := r.u32(what, addr)
		return uint64(v), err
	}
	return r.u64(what, addr)
}

// ssize reads a Py_ssize_t, sign-extended to 64 bits.
func (r mem) ssize(what string, addr uint64) (int64, error) {
	if r.ptr == 4 {
		v, err := r.u32(what, addr)
		return int64(int32(v)), err
	}
	v, err := r.u64(what, addr)
	return int64(v), err
}

func (r mem) u32(what string, addr uint64) (uint32, error) {
	b, err := r.read(what, addr, 4)
	if err != nil {
		return 0, err
	}
	return r.bo().Uint32(b), nil
}

func (r mem) u8(what string, addr uint64) (uint8, error) {
	b, err := r.read(what, addr, 1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// field adds a layout offset to a base address; a missing field (-1) is an error.
func field(base uint64, off int64, what string) (uint64, error) {
	if off < 0 {
		return 0, &CorruptError{What: what, Addr: base, Reason: "field not in this version's layout"}
	}
	return base + uint64(off), nil
}

// ptrField reads a pointer-sized field: a pointer, size_t or unsigned long.
func (r mem) ptrField(base uint64, off int64, what string) (uint64, error) {
	a, err := field(base, off, what)
	if err != nil {
		return 0, err
	}
	return r.word(what, a)
}

// ssizeField reads a Py_ssize_t field, sign-extended.
func (r mem) ssizeField(base uint64, off int64, what string) (int64, error) {
	a, err := field(base, off, what)
	if err != nil {
		return 0, err
	}
	return r.ssize(what, a)
}

func (r mem) u32Field(base uint64, off int64, what string) (uint32, error) {
	a, err := field(base, off, what)
	if err != nil {
		return 0, err
	}
	return r.u32(what, a)
}

// str decodes a compact str object (PyASCIIObject / PyCompactUnicodeObject),
// keeping at most MaxStringLen characters.
func (r mem) str(l *Layout, addr uint64, what string) (string, error) {
	if addr == 0 {
		return "", &CorruptError{What: what, Addr: addr, Reason: "NULL str"}
	}
	state, err := r.u32Field(addr, l.UnicodeState, what+" state")
	if err != nil {
		return "", err
	}
	length, err := r.ssizeField(addr, l.UnicodeLength, what+" length")
	if err != nil {
		return "", err
	}
	kind := (state >> uint(l.UnicodeKindShift)) & (1<<uint(l.UnicodeKindBits) - 1)
	compact := state>>uint(l.UnicodeCompactShift)&1 != 0
	ascii := state>>uint(l.UnicodeASCIIShift)&1 != 0
	if !compact {
		return "", &CorruptError{What: what, Addr: addr, Reason: fmt.Sprintf("not a compact str (state %#x)", state)}
	}
	if kind != 1 && kind != 2 && kind != 4 {
		return "", &CorruptError{What: what, Addr: addr, Reason: fmt.Sprintf("bad str kind %d (state %#x)", kind, state)}
	}
	if length < 0 {
		return "", &CorruptError{What: what, Addr: addr, Reason: fmt.Sprintf("negative length %d", length)}
	}
	n := length
	truncated := false
	if n > MaxStringLen {
		n, truncated = MaxStringLen, true
	}
	data := addr + uint64(l.CompactUnicodeSize)
	if ascii {
		data = addr + uint64(l.ASCIISize)
	}
	b, err := r.read(what+" data", data, int(n)*int(kind))
	if err != nil {
		return "", err
	}
	var s string
	switch kind {
	case 1:
		if ascii {
			s = string(b)
		} else {
			rs := make([]rune, len(b))
			for i, c := range b {
				rs[i] = rune(c)
			}
			s = string(rs)
		}
	case 2:
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = r.bo().Uint16(b[2*i:])
		}
		s = string(utf16.Decode(u))
	case 4:
		buf := make([]byte, 0, len(b))
		for i := 0; i+4 <= len(b); i += 4 {
			c := rune(r.bo().Uint32(b[i:]))
			if !utf8.ValidRune(c) {
				c = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, c)
		}
		s = string(buf)
	}
	if truncated {
		s += "…"
	}
	return s, nil
}

// bytes reads a PyBytesObject's contents, at most max bytes.
func (r mem) bytes(l *Layout, addr uint64, max int, what string) ([]byte, error) {
	if addr == 0 {
		return nil, &CorruptError{What: what, Addr: addr, Reason: "NULL bytes object"}
	}
	n, err := r.ssizeField(addr, l.BytesSize, what+" ob_size")
	if err != nil {
		return nil, err
	}
	if n < 0 || n > int64(max) {
		return nil, &CorruptError{What: what, Addr: addr, Reason: fmt.Sprintf("size %d outside 0..%d", n, max)}
	}
	return r.read(what+" ob_sval", addr+uint64(l.BytesSval), int(n))
}
