package symbolize

import (
	"bufio"
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// mappingSrc has an A32 function whose global's GOT offset sits in a literal pool ($a
// then $d) and a Thumb-2 one ($t).
const mappingSrc = `
int g;
__attribute__((target("arm"), noinline)) int *a32(void) { return &g; }
__attribute__((target("thumb"), noinline)) unsigned t32(unsigned x) { return x + 3; }
`

// MappingSymbol against arm-linux-gnueabihf-nm on a shared library with A32 code, its
// literal pool and Thumb-2 code: at each mapping symbol, and one byte before the next,
// it names the symbol nm lists there; a run-time address is the link-time one plus the
// module's bias.
func TestMappingSymbol(t *testing.T) {
	dir := t.TempDir()
	src, lib := filepath.Join(dir, "m.c"), filepath.Join(dir, "libm32.so")
	if err := os.WriteFile(src, []byte(mappingSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("arm-linux-gnueabihf-gcc", "-O2", "-fPIC", "-shared", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("arm-linux-gnueabihf-gcc (gcc-arm-linux-gnueabihf, scripts/deps.sh): %v\n%s", err, b)
	}
	out, err := exec.Command("arm-linux-gnueabihf-nm", "-n", "--special-syms", lib).Output()
	if err != nil {
		t.Fatalf("arm-linux-gnueabihf-nm: %v", err)
	}
	f, err := elf.Open(lib)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text := f.Section(".text")
	type ms struct {
		addr uint64
		name string
	}
	var want []ms
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) != 3 || !strings.HasPrefix(fl[2], "$") {
			continue
		}
		v, _ := strconv.ParseUint(fl[0], 16, 64)
		if v >= text.Addr && v < text.Addr+text.Size {
			want = append(want, ms{v, fl[2][:2]})
		}
	}
	sort.Slice(want, func(i, j int) bool { return want[i].addr < want[j].addr })
	kinds := map[string]bool{}
	for _, w := range want {
		kinds[w.name] = true
	}
	if !kinds["$a"] || !kinds["$t"] || !kinds["$d"] {
		t.Fatalf("nm lists %v in .text, want $a, $t and $d", want)
	}
	const bias = 0x40000000
	m := &Module{Name: lib, Path: lib, file: f, Start: bias, End: bias + 0x100000, Bias: bias, BiasKnown: true}
	tab := &Table{Modules: []*Module{m}}
	for i, w := range want {
		end := text.Addr + text.Size
		if i+1 < len(want) {
			end = want[i+1].addr
		}
		for _, at := range []uint64{w.addr, end - 1} {
			if got := tab.MappingSymbol(bias + at); got != w.name {
				t.Errorf("MappingSymbol(%#x) = %q, nm: %s at %#x", at, got, w.name, w.addr)
			}
		}
	}
	// Data outside any section with mapping symbols: none.
	if got := tab.MappingSymbol(bias + f.Section(".dynstr").Addr + 1); got != "" {
		t.Errorf("in .dynstr: %q", got)
	}
}
