package symbolize

import (
	"debug/elf"
	"testing"

	"github.com/coredig/coredig/internal/elfx"
)

// A link_map entry's file is taken only where its dynamic section lands on l_ld.
func TestDynamicAt(t *testing.T) {
	withDyn := &elfx.Image{Progs: []elfx.Prog{{Type: elf.PT_LOAD}, {Type: elf.PT_DYNAMIC, Vaddr: 0x21e00}}}
	noDyn := &elfx.Image{Progs: []elfx.Prog{{Type: elf.PT_LOAD}}}
	for _, tc := range []struct {
		name       string
		im         *elfx.Image
		laddr, lld uint64
		want       bool
	}{
		{"moved library", withDyn, 0x7f0000000000, 0x7f0000021e00, true},
		{"prelinked library (l_addr 0)", withDyn, 0, 0x21e00, true},
		{"another file", withDyn, 0, 0x326c421e00, false},
		{"no l_ld to tell", withDyn, 0, 0, true},
		{"no dynamic section to tell", noDyn, 0, 0x326c421e00, true},
	} {
		if got := dynamicAt(tc.im, tc.laddr, tc.lld); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if ehdrSize(elf.ELFCLASS32) != 52 || ehdrSize(elf.ELFCLASS64) != 64 {
		t.Errorf("ELF header sizes %d, %d", ehdrSize(elf.ELFCLASS32), ehdrSize(elf.ELFCLASS64))
	}
}
