package leb128

import "testing"

func TestDecode(t *testing.T) {
	// Examples from DWARF 5, figures 7.4 and 7.5.
	for _, tc := range []struct {
		b []byte
		u uint64
	}{{[]byte{2}, 2}, {[]byte{127}, 127}, {[]byte{0x80, 1}, 128}, {[]byte{0x81, 1}, 129}, {[]byte{0x82, 1}, 130}, {[]byte{0xb9, 0x64}, 12857}} {
		if v, n := Uint(tc.b); v != tc.u || n != len(tc.b) {
			t.Errorf("Uint(% x) = %d, %d; want %d, %d", tc.b, v, n, tc.u, len(tc.b))
		}
	}
	for _, tc := range []struct {
		b []byte
		s int64
	}{{[]byte{2}, 2}, {[]byte{0x7e}, -2}, {[]byte{0xff, 0}, 127}, {[]byte{0x81, 0x7f}, -127}, {[]byte{0x80, 1}, 128}, {[]byte{0x80, 0x7f}, -128}, {[]byte{0x81, 1}, 129}, {[]byte{0xff, 0x7e}, -129}} {
		if v, n := Int(tc.b); v != tc.s || n != len(tc.b) {
			t.Errorf("Int(% x) = %d, %d; want %d, %d", tc.b, v, n, tc.s, len(tc.b))
		}
	}
	if _, n := Uint([]byte{0x80, 0x80}); n != 0 {
		t.Errorf("an unterminated value must be incomplete, got %d bytes", n)
	}
	if v, n := Uint([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}); n != 11 || v != 1<<64-1 {
		t.Errorf("overlong value: %#x, %d", v, n)
	}
}
