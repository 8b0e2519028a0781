package dwarfsym

import (
	"debug/elf"
	"testing"
)

// A hand-made table: code 1 (DW_TAG_compile_unit, children, DW_AT_name strp), code 2
// (DW_TAG_variable, DW_AT_decl_file implicit_const -3, DW_AT_type ref_addr), the end.
var handTable = []byte{
	0xff,                                     // a byte before the table
	0x01, 0x11, 0x01, 0x03, 0x0e, 0x00, 0x00, // entry 1: bytes 1..7
	0x02, 0x34, 0x00, 0x3a, 0x21, 0x7d, 0x49, 0x10, 0x00, 0x00, // entry 2: bytes 8..17
	0x00, // end of table: byte 18
}

func TestWalkAbbrev(t *testing.T) {
	var got []abbrevEntry
	end, err := walkAbbrev(handTable, 1, func(e abbrevEntry) bool { got = append(got, e); return true })
	if err != nil || end != 19 {
		t.Fatalf("walkAbbrev = %d, %v; want 19, nil", end, err)
	}
	want := []abbrevEntry{{code: 1, start: 1, end: 8}, {code: 2, start: 8, end: 18, crossRef: true}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("entries %+v, want %+v", got, want)
	}
	// Every cut short of the terminator is an error, never a panic.
	for n := 1; n < len(handTable)-1; n++ {
		if _, err := walkAbbrev(handTable[:n+1], 1, func(abbrevEntry) bool { return true }); err == nil {
			t.Errorf("table cut to %d bytes: no error", n)
		}
	}
	if _, err := walkAbbrev(handTable, 40, func(abbrevEntry) bool { return true }); err == nil {
		t.Error("offset past the end: no error")
	}
}

// FuzzAbbrev walks arbitrary bytes as an abbreviation table at an arbitrary offset: it must
// not panic, and the entries it reports are in order and inside the bytes. Seeds: the hand-
// made table and the .debug_abbrev of testdata/inline.c built with gcc -O2 -g at test time.
func FuzzAbbrev(f *testing.F) {
	f.Add(handTable, uint64(1))
	ef, err := elf.Open(compile(f, "gcc", "inline.c", "-O2", "-g"))
	if err != nil {
		f.Fatal(err)
	}
	b, err := ef.Section(".debug_abbrev").Data()
	ef.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, off uint64) {
		prev := off
		end, err := walkAbbrev(b, off, func(e abbrevEntry) bool {
			if e.start != prev || e.end <= e.start || e.end > uint64(len(b)) || e.code == 0 {
				t.Fatalf("entry %+v after %d in %d bytes", e, prev, len(b))
			}
			prev = e.end
			return true
		})
		if err == nil && (end <= prev || end > uint64(len(b))) {
			t.Fatalf("table ends at %d after an entry ending at %d, in %d bytes", end, prev, len(b))
		}
	})
}
