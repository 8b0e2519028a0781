package symbolize

import (
	"bytes"
	"debug/elf"
	"testing"
)

// FuzzMiniDebugInfo reads arbitrary bytes as the xz stream of a .gnu_debugdata section,
// then the ELF file inside it and its function symbols, as a stripped module's symbols are
// found: never a panic, and the decompression stays within its limit. Seed: the section of
// a MiniDebugInfo binary built at test time (under 1 KiB of xz).
func FuzzMiniDebugInfo(f *testing.F) {
	prog := buildMiniDebugInfo(f)
	ef, err := elf.Open(prog)
	if err != nil {
		f.Fatal(err)
	}
	data, err := ef.Section(".gnu_debugdata").Data()
	ef.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		mini, err := openMiniDebugInfo(bytes.NewReader(data))
		if err != nil {
			return
		}
		st := buildSymtab(funcSyms(mini.Symbols, 0, mini.Sections))
		for i := 1; i < len(st.syms); i++ {
			if st.syms[i].addr <= st.syms[i-1].addr {
				t.Fatalf("symbols out of order at %d: %#x after %#x", i, st.syms[i].addr, st.syms[i-1].addr)
			}
		}
	})
}
