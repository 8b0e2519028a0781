package symbolize

import (
	"debug/elf"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

var objdumpPLT = regexp.MustCompile(`(?m)^([0-9a-f]+) <([^>+]+@plt)>:$`)

// The synthesized PLT symbols equal objdump's, stub for stub.
func TestPLTMatchesObjdump(t *testing.T) {
	for _, tc := range []struct{ objdump, file string }{
		{"objdump", "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0"},
		{"objdump", "/usr/bin/gdb"},
		{"aarch64-linux-gnu-objdump", "/usr/aarch64-linux-gnu/lib/libstdc++.so.6"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out, err := exec.Command(tc.objdump, "-d", "-j", ".plt", "-j", ".plt.sec", "-j", ".plt.got", tc.file).Output()
			if err != nil {
				t.Fatalf("%s -d %s (apt-get install binutils binutils-aarch64-linux-gnu): %v", tc.objdump, tc.file, err)
			}
			want := map[uint64]string{}
			for _, m := range objdumpPLT.FindAllStringSubmatch(string(out), -1) {
				a, _ := strconv.ParseUint(m[1], 16, 64)
				want[a] = m[2]
			}
			f, err := elf.Open(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got := map[uint64]string{}
			for _, s := range pltSyms(f) {
				got[s.addr] = s.name
			}
			if len(want) < 10 {
				t.Fatalf("objdump shows only %d PLT symbols", len(want))
			}
			// objdump numbers .rela.plt entries into PLT addresses in order, so it also
			// "names" the TLS descriptor trampoline after TLSDESC relocations, which are
			// no function stubs; readelf lists those relocations.
			rel, err := exec.Command("readelf", "-rW", tc.file).Output()
			if err != nil {
				t.Fatal(err)
			}
			tlsdesc := map[string]bool{}
			for _, m := range regexp.MustCompile(`R_AARCH64_TLSDESC\s+\S+\s+(\S+?)(@\S+)?\s`).FindAllStringSubmatch(string(rel), -1) {
				tlsdesc[m[1]+"@plt"] = true
			}
			for a, n := range want {
				if got[a] == "" && tlsdesc[n] {
					continue
				}
				if got[a] != n {
					t.Errorf("%#x: %q, objdump says %q", a, got[a], n)
				}
			}
			for a, n := range got {
				if want[a] == "" {
					t.Errorf("%#x: %q that objdump does not show", a, n)
				}
			}
		})
	}
}
