package disasm

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// built is one compiled sample program.
type built struct {
	path string
	file *elf.File
	syms map[string]elf.Symbol
}

// compile builds testdata/sample.c with cc and flags (an -O level first) into a
// temporary directory.
func compile(t *testing.T, cc string, flags ...string) *built {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		t.Fatalf("%s is required to build the test program (apt-get install gcc gcc-aarch64-linux-gnu): %v", cc, err)
	}
	out := filepath.Join(t.TempDir(), "sample")
	cmd := exec.Command(cc, append(flags, "-g", "-o", out, "testdata/sample.c")...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	b := &built{path: out, file: f, syms: map[string]elf.Symbol{}}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Size > 0 {
			b.syms[s.Name] = s
		}
	}
	return b
}

// code returns the bytes of function name and its address.
func (b *built) code(t *testing.T, name string) ([]byte, uint64) {
	t.Helper()
	s, ok := b.syms[name]
	if !ok {
		t.Fatalf("%s: no function %s in the symbol table", b.path, name)
	}
	text := b.file.Section(".text")
	data, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	if s.Value < text.Addr || s.Value+s.Size > text.Addr+uint64(len(data)) {
		t.Fatalf("%s outside .text", name)
	}
	return data[s.Value-text.Addr : s.Value-text.Addr+s.Size], s.Value
}

var objLineRE = regexp.MustCompile(`^\s*([0-9a-f]+):\t([0-9a-f ]+)\t(.*)$`)

// objdump runs tool -d on the binary and returns the instructions by address.
func objdump(t *testing.T, tool, path string, extra ...string) map[uint64]string {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s is required to check the disassembly (apt-get install binutils binutils-aarch64-linux-gnu): %v", tool, err)
	}
	args := append([]string{"-d", "-w"}, extra...)
	out, err := exec.Command(tool, append(args, path)...).Output()
	if err != nil {
		t.Fatalf("%s -d %s: %v", tool, path, err)
	}
	m := map[uint64]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		g := objLineRE.FindStringSubmatch(sc.Text())
		if g == nil {
			continue
		}
		a, _ := strconv.ParseUint(g[1], 16, 64)
		m[a] = g[3]
	}
	return m
}

var (
	symAnnotRE   = regexp.MustCompile(`\s*<[^>]*>`)
	x86CommentRE = regexp.MustCompile(`\s+# .*$`)
	spaceRE      = regexp.MustCompile(`\s+`)
)

// normObjdump removes objdump's comments and symbol annotations and collapses spaces.
func normObjdump(s string) string {
	s = x86CommentRE.ReplaceAllString(s, "")
	if i := strings.Index(s, "//"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "\t@ "); i >= 0 { // 32-bit ARM's comments
		s = s[:i]
	}
	s = symAnnotRE.ReplaceAllString(s, "")
	return strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
}

// normMine writes direct targets as objdump does (bare hex) and collapses spaces.
func normMine(in Inst) string {
	s := in.Text
	if in.Target != 0 {
		s = strings.Replace(s, fmt.Sprintf("%#x", in.Target), fmt.Sprintf("%x", in.Target), 1)
	}
	s = pcRelRE.ReplaceAllString(s, ", $1") // aarch64 adr/adrp/ldr literal
	return strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
}

var pcRelRE = regexp.MustCompile(`, 0x([0-9a-f]+)$`)

var sampleFuncs = []string{"deref", "store", "indexed", "indexed32", "divide", "udivide", "trap",
	"bump", "calls", "copy", "fp", "loop", "sw", "tls", "pairs", "recurse", "main"}

func compareFuncs(t *testing.T, a *arch.Arch, b *built, want map[uint64]string, fix func(string) string) int {
	t.Helper()
	return compareFuncsMode(t, a, ModeDefault, b, want, fix)
}

// compareFuncsMode is compareFuncs for code in an instruction set.
func compareFuncsMode(t *testing.T, a *arch.Arch, mode Mode, b *built, want map[uint64]string, fix func(string) string) int {
	t.Helper()
	n := 0
	for _, fn := range sampleFuncs {
		code, addr := b.code(t, fn)
		for off := 0; off < len(code); {
			pc := addr + uint64(off)
			in, err := DecodeMode(a, code[off:], pc, SyntaxDefault, mode)
			w, ok := want[pc]
			if !ok {
				t.Errorf("%s+%#x (%#x): objdump has no instruction here (decoder out of sync)", fn, off, pc)
				break
			}
			if err != nil {
				t.Errorf("%s+%#x: %v; objdump: %s", fn, off, err, w)
				break
			}
			if strings.HasPrefix(w, ".word") {
				off += 4 // 32-bit ARM's literal pool: data by its $d mapping symbol
				continue
			}
			got, exp := normMine(in), normObjdump(w)
			if fix != nil {
				got, exp = fix(got), fix(exp)
			}
			if got != exp {
				t.Errorf("%s+%#x: got %q, objdump %q", fn, off, got, exp)
			}
			n++
			off += in.Len
		}
	}
	return n
}

func TestObjdumpX86(t *testing.T) {
	for _, opt := range []string{"-O0", "-O2"} {
		b := compile(t, "gcc", opt)
		want := objdump(t, "objdump", b.path)
		n := compareFuncs(t, arch.AMD64, b, want, nil)
		t.Logf("%s: %d instructions compared", opt, n)
	}
}

func TestObjdumpARM64(t *testing.T) {
	for _, opt := range []string{"-O0", "-O2"} {
		b := compile(t, "aarch64-linux-gnu-gcc", opt)
		want := objdump(t, "aarch64-linux-gnu-objdump", b.path)
		n := compareFuncs(t, arch.ARM64, b, want, nil)
		t.Logf("%s: %d instructions compared", opt, n)
	}
}

// TestObjdumpARM compares the A32 decoder with arm-linux-gnueabihf-objdump on sample.c
// built with -marm (A32; the compiler's default is Thumb-2) at -O0 and -O2.
func TestObjdumpARM(t *testing.T) {
	for _, opt := range []string{"-O0", "-O2"} {
		b := compile(t, "arm-linux-gnueabihf-gcc", opt, "-marm")
		want := objdump(t, "arm-linux-gnueabihf-objdump", b.path)
		n := compareFuncsMode(t, arch.ARM, ModeARM, b, want, nil)
		t.Logf("%s: %d instructions compared", opt, n)
	}
}

// TestObjdumpARMGo compares the A32 decoder with arm-linux-gnueabihf-objdump on all of
// the text of a Go program built for GOARCH=arm (Go's code is A32: testdata/src/crash.go
// of the repository, about 176,000 words). Go's linker writes no $d mapping symbols, so
// objdump decodes the literal pools among the code as instructions too: a word armasm
// rejects (constants such as 0xcccccccc, objdump's "stclgt 12, cr12, [ip], {204}") is
// counted, not compared, and must stay rare; every word that decodes must read as
// objdump's.
func TestObjdumpARMGo(t *testing.T) {
	goTool := "go" // $GOROOT/bin/go under "go test", as testcore finds it
	if g := os.Getenv("GOROOT"); g != "" {
		goTool = filepath.Join(g, "bin", "go")
	}
	out := filepath.Join(t.TempDir(), "crash")
	cmd := exec.Command(goTool, "build", "-o", out, "../../testdata/src/crash.go")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm", "GOARM=7", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	want := objdump(t, "arm-linux-gnueabihf-objdump", out)
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text := f.Section(".text")
	data, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	n, rejected := 0, 0
	for off := 0; off+4 <= len(data); off += 4 {
		pc := text.Addr + uint64(off)
		w, ok := want[pc]
		if !ok || strings.HasPrefix(w, ".word") || strings.Contains(w, "UNDEFINED") || strings.Contains(w, "UNPREDICTABLE") {
			continue
		}
		in, err := DecodeMode(arch.ARM, data[off:], pc, SyntaxDefault, ModeARM)
		if err != nil {
			rejected++
			continue
		}
		n++
		if got, exp := normMine(in), normObjdump(w); got != exp {
			t.Errorf("%#x: got %q, objdump %q", pc, got, exp)
		}
	}
	t.Logf("%d words compared, %d rejected", n, rejected)
	if n < 100000 || rejected > n/500 {
		t.Errorf("%d words compared, %d rejected by the decoder: more than data words", n, rejected)
	}
}
