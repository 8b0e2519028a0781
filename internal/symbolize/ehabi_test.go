package symbolize

import (
	"bytes"
	"debug/elf"
	"os"
	"testing"

	"github.com/coredig/coredig/internal/elfx"
)

// The armhf libc's index read from its SHT_ARM_EXIDX section and read through its
// PT_ARM_EXIDX program header (as from the memory of a core whose libc file is missing)
// give the same entries.
func TestEHABISectionAndSegment(t *testing.T) {
	const path = "/usr/arm-linux-gnueabihf/lib/libc.so.6" // libc6-armhf-cross (scripts/deps.sh)
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s is needed: %v", path, err)
	}
	defer f.Close()
	fromSection, err := exidxFromFile(f)
	if err != nil || fromSection == nil || fromSection.Len() != 817 {
		t.Fatalf("from the section: %v, %v", fromSection, err)
	}
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	im, err := elfx.ReadImage(r)
	if err != nil {
		t.Fatal(err)
	}
	fromSegment, err := exidxFromImage(im, loadMemory{f})
	if err != nil || fromSegment == nil || fromSegment.Len() != fromSection.Len() {
		t.Fatalf("from PT_ARM_EXIDX: %v, %v", fromSegment, err)
	}
	// raise (0x2d314, which abort calls), qsort (0x3036d), a routine 1 entry
	// (0x1e284), an EXIDX_CANTUNWIND (0x1e414) and a generic one (0x4e884).
	for _, pc := range []uint64{0x2d318, 0x1e290, 0x1e414, 0x4e890, 0x3036d} {
		a, errA := fromSection.Find(pc)
		b, errB := fromSegment.Find(pc)
		if a.Start != b.Start || a.Extab != b.Extab || a.Personality != b.Personality || !bytes.Equal(a.Ops, b.Ops) || (errA == nil) != (errB == nil) {
			t.Errorf("%#x: section %+v (%v), segment %+v (%v)", pc, a, errA, b, errB)
		}
		if errA != nil && pc != 0x1e414 {
			t.Errorf("%#x: %v", pc, errA)
		}
	}
	// A file without the table has none.
	x, err := elf.Open("/usr/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if tab, err := exidxFromFile(x); tab != nil || err != nil {
		t.Errorf("x86_64 file: %v %v", tab, err)
	}
}
