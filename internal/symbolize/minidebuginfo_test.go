package symbolize

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildMiniDebugInfo makes a binary the way Fedora ships them (GDB manual, "MiniDebugInfo"):
// stripped, with the .symtab of the functions .dynsym lacks in an xz-compressed ELF file in
// .gnu_debugdata.
func buildMiniDebugInfo(t testing.TB) string {
	t.Helper()
	for _, tool := range []string{"gcc", "objcopy", "strip", "xz", "nm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to build a MiniDebugInfo binary (apt-get install gcc binutils xz-utils): %v", tool, err)
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "prog.c")
	os.WriteFile(src, []byte(`__attribute__((noinline)) static int hidden_helper(int x) { return x * 3 + 1; }
int main(int argc, char **argv) { return hidden_helper(argc); }
`), 0o644)
	prog := filepath.Join(dir, "prog")
	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	run("gcc", "-O1", "-g", "-o", prog, src)
	var keep []string
	for _, line := range strings.Split(run("nm", "--format=posix", "--defined-only", prog), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[1] == "t" || f[1] == "T") {
			keep = append(keep, f[0])
		}
	}
	os.WriteFile(filepath.Join(dir, "keep"), []byte(strings.Join(keep, "\n")+"\n"), 0o644)
	run("objcopy", "--only-keep-debug", prog, "mini")
	run("objcopy", "-S", "--remove-section", ".gdb_index", "--remove-section", ".comment", "--keep-symbols=keep", "mini", "mini")
	run("strip", "--strip-all", "-R", ".comment", prog)
	run("xz", "mini")
	run("objcopy", "--add-section", ".gnu_debugdata=mini.xz", prog)
	return prog
}

func TestMiniDebugInfo(t *testing.T) {
	prog := buildMiniDebugInfo(t)
	f, err := elf.Open(prog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if syms, _ := f.Symbols(); len(syms) != 0 {
		t.Fatalf("the stripped binary still has %d .symtab entries", len(syms))
	}
	m := &Module{Name: prog, Path: prog, file: f, Start: 0x1000, End: 0x100000, Bias: 0, BiasKnown: true}
	tab := &Table{Modules: []*Module{m}, opts: Options{Finder: PathFinder{}}}
	st := m.symbols(tab)
	if !strings.HasPrefix(m.SymbolSource, "MiniDebugInfo .symtab") {
		t.Fatalf("symbol source %q", m.SymbolSource)
	}
	var addr uint64
	for _, y := range st.syms {
		if y.name == "hidden_helper" {
			addr = y.addr
		}
	}
	if addr == 0 {
		t.Fatalf("hidden_helper (a static function only MiniDebugInfo names) not found in %+v", st.syms)
	}
	if s := tab.Lookup(addr + 2); s.Function != "hidden_helper" || s.FuncOffset != 2 {
		t.Errorf("Lookup inside hidden_helper = %q+%#x", s.Function, s.FuncOffset)
	}
}
