package python

import (
	"errors"
	"testing"
)

// 32-bit layouts serve only the machine they were generated for; the 64-bit ones of
// x86_64 builds every little-endian LP64 machine without an entry of its own; a
// big-endian process only big-endian entries.
func TestLayoutForPtrSizeAndMachine(t *testing.T) {
	tests := []struct {
		name    string
		hex     uint32
		ptr     int
		machine string
		big     bool
		want    string // Source prefix, "" for none
	}{
		{"x86_64 3.11", 0x030b07f0, 8, "x86_64", false, "DWARF of /root/.pyenv/versions/3.11."},
		{"aarch64 3.11 shares it", 0x030b07f0, 8, "aarch64", false, "DWARF of /root/.pyenv/versions/3.11."},
		{"ppc64le 3.11: Debian's", 0x030b02f0, 8, "ppc64le", false, "DWARF of /usr/lib/powerpc64le-linux-gnu/libpython3.11.so.1.0"},
		{"ppc64le 3.12 shares x86_64's", 0x030c01f0, 8, "ppc64le", false, "DWARF of /root/.pyenv/versions/3.12."},
		{"s390x 3.11: Debian's, big-endian", 0x030b02f0, 8, "s390x", true, "DWARF of /root/.cache/coredig/python3.11-s390x/"},
		{"s390x 3.12: no big-endian entry", 0x030c01f0, 8, "s390x", true, ""},
		{"i386 3.11", 0x030b02f0, 4, "i386", false, "DWARF of /usr/lib/i386-linux-gnu/libpython3.11.so.1.0"},
		{"arm 3.11: its own (8-byte members aligned to 8)", 0x030b02f0, 4, "arm", false, "DWARF of /usr/lib/arm-linux-gnueabihf/libpython3.11.so.1.0"},
		{"32-bit without a machine", 0x030b02f0, 4, "", false, ""},
		{"i386 3.12: not generated", 0x030c01f0, 4, "i386", false, ""},
		{"arm 3.12: not generated", 0x030c01f0, 4, "arm", false, ""},
	}
	for _, tt := range tests {
		l, ok := LayoutFor(tt.hex, tt.ptr, tt.machine, tt.big)
		got := ""
		if ok {
			got = l.Source[:min(len(l.Source), len(tt.want))]
		}
		if got != tt.want || ok && (l.PtrSize != tt.ptr || l.BigEndian != tt.big) {
			t.Errorf("%s: %v, %q (%d-byte pointers, big-endian %v); want %q", tt.name, ok, l.Source, l.PtrSize, l.BigEndian, tt.want)
		}
	}
}

// Debian's ppc64el and s390x builds lay out every structure the walker reads as the
// x86_64 build of the same minor version does; only the bit fields of a str's state
// count from the other end on big-endian s390x (the ABI allocates bit fields from the
// most significant bit: interned is bits 31-30, kind 29-27, compact 26, ascii 25,
// ready 24).
func TestLayoutLP64Machines(t *testing.T) {
	x86, _ := LayoutFor(0x030b0000, 8, "x86_64", false)
	ppc, _ := LayoutFor(0x030b0000, 8, "ppc64le", false)
	z, _ := LayoutFor(0x030b0000, 8, "s390x", true)
	strip := func(l Layout) Layout {
		l.Source, l.Machine, l.BigEndian, l.MinVersion, l.MaxVersion = "", "", false, 0, 0
		return l
	}
	if strip(ppc) != strip(x86) {
		t.Errorf("ppc64le 3.11 layout differs from x86_64's:\n%+v\n%+v", ppc, x86)
	}
	if got := [4]int64{z.UnicodeKindShift, z.UnicodeCompactShift, z.UnicodeASCIIShift, z.UnicodeReadyShift}; got != [4]int64{27, 26, 25, 24} || z.UnicodeKindBits != 3 {
		t.Errorf("s390x str state bits kind %d (%d bits), compact, ascii, ready %v; want 27 (3), 26, 25, 24", z.UnicodeKindShift, z.UnicodeKindBits, got)
	}
	z.UnicodeKindShift, z.UnicodeCompactShift, z.UnicodeASCIIShift, z.UnicodeReadyShift = x86.UnicodeKindShift, x86.UnicodeCompactShift, x86.UnicodeASCIIShift, x86.UnicodeReadyShift
	if strip(z) != strip(x86) {
		t.Errorf("s390x 3.11 layout differs from x86_64's beyond the str state bits:\n%+v\n%+v", z, x86)
	}
}

// A 32-bit process of a machine with no layout is refused, not read with another's.
func TestAnalyze32BitOtherMachine(t *testing.T) {
	l, ok := LayoutFor(0x030b0000, 4, "i386", false)
	if !ok {
		t.Fatal("no i386 3.11 layout")
	}
	_, err := Analyze(&imageProcess{base: imageBase, img: buildImage(l), version: 0x030b02f0, ptr: 4, machine: "mips"})
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Version != "3.11.2" {
		t.Fatalf("err %v, want an UnsupportedError for 3.11.2", err)
	}
	if want := `no generated layout for 32-bit builds of this version on "mips"`; ue.Reason != want {
		t.Errorf("reason %q, want %q", ue.Reason, want)
	}
}

// A big-endian process whose version has only little-endian layouts is refused, not
// read with the bit fields of another byte order.
func TestAnalyzeBigEndianWithoutLayout(t *testing.T) {
	l, ok := LayoutFor(0x030c0000, 8, "", false)
	if !ok {
		t.Fatal("no 3.12 layout")
	}
	p := layoutProcess(l, buildImage(l))
	p.machine, p.big = "s390x", true
	_, err := Analyze(p)
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Reason != `no generated layout for big-endian builds of this version on "s390x"` {
		t.Fatalf("err %v, want an UnsupportedError naming big-endian s390x", err)
	}
}
