package cfi

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"testing"
)

// sections returns a real binary's .eh_frame and .eh_frame_hdr with their addresses.
func sections(t testing.TB, path string) (eh []byte, ehAddr uint64, hdr []byte, hdrAddr uint64) {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s is needed for the fuzz seeds: %v", path, err)
	}
	defer f.Close()
	s, h := f.Section(".eh_frame"), f.Section(".eh_frame_hdr")
	if s == nil || h == nil {
		t.Fatalf("%s lacks .eh_frame or .eh_frame_hdr", path)
	}
	eh, _ = s.Data()
	hdr, _ = h.Data()
	return eh, s.Addr, hdr, h.Addr
}

func FuzzTable(f *testing.F) {
	eh, ehAddr, hdr, hdrAddr := sections(f, "/usr/bin/true")
	f.Add(eh, ehAddr, hdr, hdrAddr, ehAddr+0x100, false)
	f.Add(eh, ehAddr, []byte(nil), uint64(0), uint64(0x2000), false)
	libc, libcAddr, _, _ := sections(f, "/lib/x86_64-linux-gnu/libc.so.6")
	f.Add(libc[:1024], libcAddr, []byte(nil), uint64(0), uint64(0x27290), false)
	f.Add(synthDebugFrame(), uint64(0), []byte(nil), uint64(0), uint64(0x1040), true)
	// Small real tables: the first CIE and the FDEs after it, a few dozen bytes each, so
	// mutations land in the instructions rather than in kilobytes of other records.
	for _, n := range []int{2, 4} {
		small := firstRecords(eh, n)
		tab, err := New(Config{Data: small, Addr: ehAddr, PtrSize: 8, Order: binary.LittleEndian})
		if err != nil {
			f.Fatal(err)
		}
		pc := ehAddr
		tab.FDEs(func(fde *FDE) bool { pc = fde.Begin + (fde.End-fde.Begin)/2; return true })
		f.Add(small, ehAddr, []byte(nil), uint64(0), pc, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, addr uint64, hdr []byte, hdrAddr uint64, pc uint64, debug bool) {
		fuzzBody(t, data, addr, hdr, hdrAddr, pc, debug)
	})
}

// firstRecords returns the first n records of a .eh_frame (32-bit lengths) and a
// terminating zero length.
func firstRecords(eh []byte, n int) []byte {
	off := 0
	for i := 0; i < n && off+4 <= len(eh); i++ {
		off += 4 + int(binary.LittleEndian.Uint32(eh[off:]))
	}
	return append(append([]byte(nil), eh[:min(off, len(eh))]...), 0, 0, 0, 0)
}

func fuzzBody(t *testing.T, data []byte, addr uint64, hdr []byte, hdrAddr uint64, pc uint64, debug bool) {
	cfg := Config{Data: data, Addr: addr, PtrSize: 8, Order: binary.LittleEndian, Hdr: hdr, HdrAddr: hdrAddr}
	if debug {
		cfg.Section = DebugFrame
	}
	tab, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	check := func(err error) {
		var fe *FormatError
		if err != nil && !errors.Is(err, ErrNoFDE) && !errors.As(err, &fe) {
			t.Fatalf("untyped error: %v", err)
		}
	}
	row, err := tab.RowForPC(pc)
	check(err)
	if err == nil && (row.Start > pc || pc >= row.End || len(row.Rules) > MaxRegisters) {
		t.Fatalf("row [%#x,%#x) for pc %#x", row.Start, row.End, pc)
	}
	n := 0
	check(tab.FDEs(func(fde *FDE) bool {
		_, err := tab.Row(fde, fde.Begin)
		check(err)
		n++
		return n < 50
	}))
}
