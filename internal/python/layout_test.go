package python

import (
	"errors"
	"testing"
)

// 32-bit layouts serve only the machine they were generated for; 64-bit ones every
// LP64 machine.
func TestLayoutForPtrSizeAndMachine(t *testing.T) {
	tests := []struct {
		name    string
		hex     uint32
		ptr     int
		machine string
		want    string // Source prefix, "" for none
	}{
		{"x86_64 3.11", 0x030b07f0, 8, "x86_64", "DWARF of /root/.pyenv/versions/3.11."},
		{"aarch64 3.11 shares it", 0x030b07f0, 8, "aarch64", "DWARF of /root/.pyenv/versions/3.11."},
		{"i386 3.11", 0x030b02f0, 4, "i386", "DWARF of /usr/lib/i386-linux-gnu/libpython3.11.so.1.0"},
		{"arm 3.11: other alignment of 8-byte members", 0x030b02f0, 4, "arm", ""},
		{"32-bit without a machine", 0x030b02f0, 4, "", ""},
		{"i386 3.12: not generated", 0x030c01f0, 4, "i386", ""},
	}
	for _, tt := range tests {
		l, ok := LayoutFor(tt.hex, tt.ptr, tt.machine)
		got := ""
		if ok {
			got = l.Source[:min(len(l.Source), len(tt.want))]
		}
		if got != tt.want || ok && l.PtrSize != tt.ptr {
			t.Errorf("%s: %v, %q (%d-byte pointers); want %q", tt.name, ok, l.Source, l.PtrSize, tt.want)
		}
	}
}

// A 32-bit process of a machine with no layout is refused, not read with another's.
func TestAnalyze32BitOtherMachine(t *testing.T) {
	l, ok := LayoutFor(0x030b0000, 4, "i386")
	if !ok {
		t.Fatal("no i386 3.11 layout")
	}
	_, err := Analyze(&imageProcess{base: imageBase, img: buildImage(l), version: 0x030b02f0, ptr: 4, machine: "arm"})
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Version != "3.11.2" {
		t.Fatalf("err %v, want an UnsupportedError for 3.11.2", err)
	}
	if want := `no generated layout for 32-bit builds of this version on "arm"`; ue.Reason != want {
		t.Errorf("reason %q, want %q", ue.Reason, want)
	}
}
