// Package leb128 decodes the variable-length integers of DWARF (DWARF 5 §7.6): unsigned
// and signed LEB128. Bits past 64 are dropped rather than rejected, as readelf does; a
// value that runs off the end of its buffer is reported as incomplete.
package leb128

// Uint decodes an unsigned LEB128 from the start of b. n is the number of bytes used, 0
// when b ends before the last byte of the value.
func Uint(b []byte) (v uint64, n int) {
	var shift uint
	for i, c := range b {
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// Int decodes a signed LEB128 from the start of b. n is as for Uint.
func Int(b []byte) (v int64, n int) {
	var shift uint
	for i, c := range b {
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1
		}
	}
	return 0, 0
}
