package symbolize

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
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
		// i386 position-independent code: "jmp *disp(%ebx)" in .plt and .plt.got, Elf32_Rel.
		{"objdump", "/usr/lib/i386-linux-gnu/libpython3.11.so.1.0"},
	} {
		t.Run(tc.file, func(t *testing.T) { comparePLT(t, tc.objdump, tc.file) })
	}
}

// An i386 position-dependent executable's stubs jump through absolute slot addresses
// ("jmp *slot").
func TestPLTI386NoPIE(t *testing.T) {
	dir := t.TempDir()
	src, exe := filepath.Join(dir, "plt.c"), filepath.Join(dir, "plt")
	code := "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n" +
		"int main(int argc, char **argv) { puts(argv[0]); if (strlen(argv[0]) > 1000) abort(); return atoi(\"1\") - 1; }\n"
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-m32", "-no-pie", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc -m32 -no-pie (apt-get install gcc-multilib): %v\n%s", err, out)
	}
	comparePLT(t, "objdump", exe)
}

// comparePLT checks the PLT symbols of file against objdump's, stub for stub.
func comparePLT(t *testing.T, objdump, file string) {
	t.Helper()
	out, err := exec.Command(objdump, "-d", "-j", ".plt", "-j", ".plt.sec", "-j", ".plt.got", file).Output()
	if err != nil {
		t.Fatalf("%s -d %s (apt-get install binutils binutils-aarch64-linux-gnu): %v", objdump, file, err)
	}
	want := map[uint64]string{}
	for _, m := range objdumpPLT.FindAllStringSubmatch(string(out), -1) {
		a, _ := strconv.ParseUint(m[1], 16, 64)
		want[a] = m[2]
	}
	f, err := elf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[uint64]string{}
	for _, s := range pltSyms(f) {
		got[s.addr] = s.name
	}
	if len(want) < 3 {
		t.Fatalf("objdump shows only %d PLT symbols", len(want))
	}
	// objdump numbers .rela.plt entries into PLT addresses in order, so it also
	// "names" the TLS descriptor trampoline after TLSDESC relocations, which are
	// no function stubs; readelf lists those relocations.
	rel, err := exec.Command("readelf", "-rW", file).Output()
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
	t.Logf("%d PLT symbols, objdump's", len(got))
}
