package goruntime

import "fmt"

// maxString bounds the Go strings read (the version, wait reasons).
const maxString = 256

// readFull reads len(b) bytes at addr or says why it could not.
func (rt *Runtime) readFull(b []byte, addr uint64) error {
	n, err := rt.p.ReadAt(b, addr)
	if err == nil && n < len(b) {
		err = fmt.Errorf("short read at %#x: %d of %d bytes", addr, n, len(b))
	}
	return err
}

// ptr reads a pointer-sized word.
func (rt *Runtime) ptr(addr uint64) (uint64, error) {
	var b [8]byte
	n := rt.arch.PtrSize
	if err := rt.readFull(b[:n], addr); err != nil {
		return 0, err
	}
	return rt.arch.Word(b[:n]), nil
}

func (rt *Runtime) u32(addr uint64) (uint32, error) {
	var b [4]byte
	if err := rt.readFull(b[:], addr); err != nil {
		return 0, err
	}
	return rt.arch.ByteOrder.Uint32(b[:]), nil
}

// goString reads a Go string header (pointer, length) at addr and its bytes; "" when
// either cannot be read or the length is 0 or above maxString.
func (rt *Runtime) goString(addr uint64) string {
	p, err1 := rt.ptr(addr)
	n, err2 := rt.ptr(addr + uint64(rt.arch.PtrSize))
	if err1 != nil || err2 != nil || n == 0 || n > maxString {
		return ""
	}
	b := make([]byte, n)
	if rt.readFull(b, p) != nil {
		return ""
	}
	return string(b)
}
