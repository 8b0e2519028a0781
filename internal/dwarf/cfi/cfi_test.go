package cfi

import (
	"errors"
	"testing"
)

func TestLibcX86EHFrameMatchesReadelf(t *testing.T) {
	libc := mustExist(t, "/lib/x86_64-linux-gnu/libc.so.6")
	tab, _ := openTable(t, libc, ".eh_frame", true)
	if !tab.HasHdrTable() {
		t.Fatal("libc's .eh_frame_hdr search table was not used")
	}
	n := compareWithReadelf(t, libc, ".eh_frame", true)
	if n < 2000 {
		t.Errorf("compared %d rows, want the libc's thousands", n)
	}
	t.Logf("%d rows of libc.so.6 match readelf", n)
}

func TestLibcX86SortedIndexMatchesReadelf(t *testing.T) {
	libc := mustExist(t, "/lib/x86_64-linux-gnu/libc.so.6")
	compareWithReadelf(t, libc, ".eh_frame", false)
}

func TestCompiledO2NoFramePointer(t *testing.T) {
	exe := compile(t, "gcc", "-O2", "-fomit-frame-pointer")
	if n := compareWithReadelf(t, exe, ".eh_frame", true); n < 10 {
		t.Errorf("compared %d rows", n)
	}
}

func TestCompiledO0(t *testing.T) {
	exe := compile(t, "gcc", "-O0", "-g")
	compareWithReadelf(t, exe, ".eh_frame", true)
}

func TestCompiledDebugFrame(t *testing.T) {
	for _, v := range []string{"-gdwarf-2", "-gdwarf-4", "-gdwarf-5"} {
		exe := compile(t, "gcc", "-O2", v, "-fno-asynchronous-unwind-tables", "-fno-exceptions")
		if n := compareWithReadelf(t, exe, ".debug_frame", false); n < 10 {
			t.Errorf("%s: compared %d rows", v, n)
		}
	}
}

func TestAArch64(t *testing.T) {
	libc := mustExist(t, "/usr/aarch64-linux-gnu/lib/libc.so.6")
	if n := compareWithReadelf(t, libc, ".eh_frame", true); n < 2000 {
		t.Errorf("compared %d rows", n)
	}
	exe := compile(t, "aarch64-linux-gnu-gcc", "-O2", "-fomit-frame-pointer")
	compareWithReadelf(t, exe, ".eh_frame", true)
}

// The .eh_frame_hdr search and the sorted index must find the same FDE for every pc.
func TestHdrAndIndexAgree(t *testing.T) {
	libc := mustExist(t, "/lib/x86_64-linux-gnu/libc.so.6")
	hdr, _ := openTable(t, libc, ".eh_frame", true)
	idx, _ := openTable(t, libc, ".eh_frame", false)
	n := 0
	err := idx.FDEs(func(f *FDE) bool {
		for _, pc := range []uint64{f.Begin, f.End - 1} {
			a, err1 := hdr.FDEForPC(pc)
			b, err2 := idx.FDEForPC(pc)
			if err1 != nil || err2 != nil || a.Offset != b.Offset {
				t.Errorf("pc %#x: hdr %v %v, index %v %v", pc, a, err1, b, err2)
			}
		}
		n++
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if idx.Skipped() != 0 {
		t.Errorf("index skipped %d FDEs", idx.Skipped())
	}
	if _, err := hdr.FDEForPC(0); !errors.Is(err, ErrNoFDE) {
		t.Errorf("pc 0: %v, want ErrNoFDE", err)
	}
	if _, err := idx.FDEForPC(^uint64(0)); !errors.Is(err, ErrNoFDE) {
		t.Errorf("pc max: %v, want ErrNoFDE", err)
	}
	t.Logf("%d FDEs", n)
}
