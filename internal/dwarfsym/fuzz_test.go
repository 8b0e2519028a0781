package dwarfsym

import (
	"debug/elf"
	"encoding/binary"
	"testing"
)

// FuzzLookup feeds mutated .debug_info, .debug_abbrev, .debug_line, .debug_str and
// .debug_line_str to New and looks up addresses: it must return errors, never panic or hang.
// Seeds: the sections of testdata/inline.c built with gcc -O2 -g and -O0 -g at test time.
func FuzzLookup(f *testing.F) {
	for _, flags := range [][]string{{"-O2", "-g"}, {"-O0", "-g"}} {
		bin := compile(f, "gcc", "inline.c", flags...)
		ef, err := elf.Open(bin)
		if err != nil {
			f.Fatal(err)
		}
		sec := func(name string) []byte {
			s := ef.Section(name)
			if s == nil {
				f.Fatalf("%s: no %s", bin, name)
			}
			b, err := s.Data()
			if err != nil {
				f.Fatal(err)
			}
			return b
		}
		outer, _ := symbolAddr(f, ef, "outer")
		f.Add(sec(".debug_info"), sec(".debug_abbrev"), sec(".debug_line"), sec(".debug_str"), sec(".debug_line_str"), outer)
		ef.Close()
	}
	f.Fuzz(func(t *testing.T, info, abbrev, line, str, lineStr []byte, pc uint64) {
		ix, err := New(Sections{Info: info, Abbrev: abbrev, Line: line, Str: str, LineStr: lineStr}, nil)
		if err != nil {
			return
		}
		// The pc, the start of each unit span and a few bytes into each.
		pcs := []uint64{pc, pc + 1, pc - 1}
		for i, s := range ix.spans {
			if i == 32 {
				break
			}
			pcs = append(pcs, s.lo, s.lo+7, s.hi-1)
		}
		for _, p := range pcs {
			fr, err := ix.Lookup(p)
			if err == nil && len(fr) == 0 {
				t.Fatalf("Lookup(%#x): no frames and no error", p)
			}
		}
	})
}

// TestScanUnitsHeaders checks the unit header arithmetic on hand-made headers.
func TestScanUnitsHeaders(t *testing.T) {
	le := binary.LittleEndian
	var b []byte
	// DWARF 4, 32-bit: length 7+1 (header 7 bytes after length, one DIE byte).
	b = le.AppendUint32(b, 8)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint32(b, 0) // abbrev offset
	b = append(b, 8, 0)       // address size, DIE
	// zero-length unit, skipped as debug/dwarf does
	b = le.AppendUint32(b, 0)
	// DWARF 5 64-bit compile unit: 2+1+1+8 header + 1 DIE byte.
	b = le.AppendUint32(b, 0xffffffff)
	b = le.AppendUint64(b, 13)
	b = le.AppendUint16(b, 5)
	b = append(b, DW_UT_compile, 8)
	b = le.AppendUint64(b, 0)
	b = append(b, 0)
	units, err := scanUnits(b, le)
	if err != nil {
		t.Fatal(err)
	}
	want := []unitHeader{
		{off: 0, dieOff: 11, end: 12, vers: 4},
		{off: 16, dieOff: 16 + 12 + 12, end: 16 + 12 + 13, vers: 5, utype: DW_UT_compile},
	}
	if len(units) != len(want) || units[0] != want[0] || units[1] != want[1] {
		t.Fatalf("scanUnits = %+v, want %+v", units, want)
	}
	// A length past the end is an error naming the offset.
	if _, err := scanUnits(le.AppendUint32(nil, 100), le); err == nil {
		t.Fatal("scanUnits accepted a unit longer than the section")
	}
}

// TestAranges checks .debug_aranges decoding on a hand-made set.
func TestAranges(t *testing.T) {
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint32(b, 2+4+1+1+4+16*3) // header + padding to 16 + 3 tuples
	b = le.AppendUint16(b, 2)
	b = le.AppendUint32(b, 0x1234) // CU offset
	b = append(b, 8, 0)
	b = append(b, 0, 0, 0, 0) // pad to 16
	b = le.AppendUint64(b, 0x1000)
	b = le.AppendUint64(b, 0x20)
	b = le.AppendUint64(b, 0x2000)
	b = le.AppendUint64(b, 0x10)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint64(b, 0)
	got, err := parseAranges(b, le)
	if err != nil {
		t.Fatal(err)
	}
	want := []arange{{0x1000, 0x1020, 0x1234}, {0x2000, 0x2010, 0x1234}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("parseAranges = %+v, want %+v", got, want)
	}
}
