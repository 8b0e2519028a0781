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
	f.Fuzz(func(t *testing.T, data []byte, addr uint64, hdr []byte, hdrAddr uint64, pc uint64, debug bool) {
		fuzzBody(t, data, addr, hdr, hdrAddr, pc, debug)
	})
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
