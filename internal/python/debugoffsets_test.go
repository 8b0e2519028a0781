package python

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"testing"
)

// lib313 is the pyenv 3.13 build whose DWARF made the 3.13 table entry.
const lib313 = "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0"

// debugOffsetsImage reads the static initializer of _PyRuntime (whose first
// member is _Py_DebugOffsets) from the .data of a libpython file.
func debugOffsetsImage(t testing.TB, path string) []byte {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v (the pyenv CPython 3.13.0 build is needed)", path, err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != "_PyRuntime" {
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && s.Value >= p.Vaddr && s.Value+debugOffsetsMaxSize <= p.Vaddr+p.Filesz {
				b := make([]byte, debugOffsetsMaxSize)
				if _, err := p.ReadAt(b, int64(s.Value-p.Vaddr)); err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
	}
	t.Fatalf("%s: no initialized _PyRuntime", path)
	return nil
}

// TestDebugOffsetsMatchGeneratedTable checks the generator against
// CPython's own published offsets: the 3.13 table entry (from DWARF) and
// _Py_DebugOffsets (from offsetof in the same build) must agree.
func TestDebugOffsetsMatchGeneratedTable(t *testing.T) {
	d, ok, err := ParseDebugOffsets(debugOffsetsImage(t, lib313))
	if !ok || err != nil {
		t.Fatalf("ParseDebugOffsets: ok %v err %v", ok, err)
	}
	if d.Version != 0x030d00f0 {
		t.Errorf("version %#x, want 0x30d00f0", d.Version)
	}
	table, ok := LayoutFor(d.Version, 8, "", false)
	if !ok {
		t.Fatal("no generated 3.13 layout")
	}
	got := d.apply(table)
	got.Source, table.Source = "", ""
	if got != table {
		t.Errorf("layouts differ:\n_Py_DebugOffsets %+v\nDWARF table      %+v", got, table)
	}
}

func TestParseDebugOffsetsRejects(t *testing.T) {
	img := debugOffsetsImage(t, lib313)
	if _, ok, err := ParseDebugOffsets(img[:100]); !ok || err == nil {
		t.Errorf("short image: ok %v err %v, want cookie found and an error", ok, err)
	}
	bad := append([]byte(nil), img...)
	bad[8+2] = 20 // version 3.20
	if _, ok, err := ParseDebugOffsets(bad); !ok || err == nil {
		t.Errorf("3.20: ok %v err %v, want an UnsupportedError", ok, err)
	}
	if _, ok, _ := ParseDebugOffsets(make([]byte, 64)); ok {
		t.Error("zeros recognised as _Py_DebugOffsets")
	}
}

func FuzzParseDebugOffsets(f *testing.F) {
	f.Add(debugOffsetsImage(f, lib313))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Both byte orders: s390x's _Py_DebugOffsets is big-endian.
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			d, ok, err := ParseDebugOffsetsOrder(b, order)
			if ok && err == nil && (d.IFrameOwner >= d.IFrameSize || d.TstateCurrentFrame >= d.TstateSize) {
				t.Fatalf("accepted out-of-structure offsets (%v): %+v", order, d)
			}
		}
	})
}

// TestParseDebugOffsets314 feeds a 3.14 header whose every field holds its
// own index (fields in the order of CPython 3.14
// Include/internal/pycore_debug_offsets.h), so a misplaced field shows.
func TestParseDebugOffsets314(t *testing.T) {
	const fields = 89 // uint64 fields after the cookie in the 3.14 struct
	b := make([]byte, 8+8*fields)
	copy(b, DebugCookie)
	for i := 1; i < fields; i++ {
		binary.LittleEndian.PutUint64(b[8+8*i:], uint64(1000+i))
	}
	binary.LittleEndian.PutUint64(b[8:], 0x030e00f0)
	binary.LittleEndian.PutUint64(b[16:], 0) // not free-threaded
	// Sizes large enough for the range checks.
	// runtime, interp, tstate, iframe, code
	for _, i := range []int{2, 5, 19, 28, 35} {
		binary.LittleEndian.PutUint64(b[8+8*i:], 1<<20)
	}
	d, ok, err := ParseDebugOffsets(b)
	if !ok || err != nil {
		t.Fatalf("ok %v err %v", ok, err)
	}
	got := []uint64{d.RuntimeFinalizing, d.InterpThreadsHead, d.InterpThreadsMain, d.InterpGILHolder,
		d.TstateCurrentFrame, d.TstateNativeThreadID, d.IFrameInstrPtr, d.IFrameOwner,
		d.CodeQualname, d.CodeCodeAdaptive, d.BytesSval, d.UnicodeASCIISize, d.GCCollecting}
	want := []uint64{1003, 1008, 1009, 1018, 1023, 1025, 1031, 1033,
		1038, 1044, 1071, 1075, 1077}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fields %v, want %v", got, want)
	}
}
