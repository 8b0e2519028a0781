package dwarfsym

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// compile builds testdata/src with the given compiler and flags into a temp dir.
func compile(t testing.TB, compiler, src string, flags ...string) string {
	t.Helper()
	if _, err := exec.LookPath(compiler); err != nil {
		t.Fatalf("%s is required to build test programs (apt-get install gcc g++): %v", compiler, err)
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), filepath.Ext(src)))
	args := append(append([]string{}, flags...), "-o", out, filepath.Join("testdata", src))
	cmd := exec.Command(compiler, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", compiler, args, err, b)
	}
	return out
}

// markerLine returns the 1-based line of testdata/src containing /* name */.
func markerLine(t testing.TB, src, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", src))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "/* "+name+" */") {
			return i + 1
		}
	}
	t.Fatalf("marker %s not in %s", name, src)
	return 0
}

func openIndex(t testing.TB, path string) (*Index, *elf.File) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	ix, err := NewFromELF(f, nil)
	if err != nil {
		t.Fatalf("NewFromELF(%s): %v", path, err)
	}
	return ix, f
}

// symbolAddr returns the value of the function symbol name.
func symbolAddr(t testing.TB, f *elf.File, name string) (uint64, uint64) {
	t.Helper()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			return s.Value, s.Size
		}
	}
	t.Fatalf("no function symbol %q", name)
	return 0, 0
}

// a2lFrame is one frame as addr2line prints it.
type a2lFrame struct {
	fn   string
	file string // base name
	line int
}

func (f a2lFrame) String() string { return fmt.Sprintf("%s %s:%d", f.fn, f.file, f.line) }

var discriminator = regexp.MustCompile(` \(discriminator \d+\)$`)

// addr2line runs `addr2line -a -f -i -C -e path` on addrs and returns the frames per address.
func addr2line(t testing.TB, path string, addrs []uint64) map[uint64][]a2lFrame {
	t.Helper()
	if _, err := exec.LookPath("addr2line"); err != nil {
		t.Fatalf("addr2line (binutils) is the oracle for this test and is missing: %v", err)
	}
	var in bytes.Buffer
	for _, a := range addrs {
		fmt.Fprintf(&in, "%#x\n", a)
	}
	cmd := exec.Command("addr2line", "-a", "-f", "-i", "-C", "-e", path)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("addr2line: %v", err)
	}
	res := make(map[uint64][]a2lFrame)
	var cur uint64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "0x") {
			v, err := strconv.ParseUint(l[2:], 16, 64)
			if err != nil {
				t.Fatalf("addr2line address line %q: %v", l, err)
			}
			cur = v
			res[cur] = nil
			continue
		}
		fn := l
		if !sc.Scan() {
			t.Fatalf("addr2line: function %q without location", fn)
		}
		loc := discriminator.ReplaceAllString(sc.Text(), "")
		i := strings.LastIndexByte(loc, ':')
		file, lineStr := loc[:i], loc[i+1:]
		ln, _ := strconv.Atoi(lineStr)
		res[cur] = append(res[cur], a2lFrame{fn: fn, file: filepath.Base(file), line: ln})
	}
	return res
}

// ours converts Lookup frames to the addr2line shape ("??" for unknown, as addr2line).
func ours(fr []Frame) []a2lFrame {
	var out []a2lFrame
	for _, f := range fr {
		a := a2lFrame{fn: f.Function, file: filepath.Base(f.File), line: f.Line}
		if a.fn == "" {
			a.fn = "??"
		}
		if f.File == "" {
			a.file = "??"
		}
		out = append(out, a)
	}
	return out
}

// textFuncs lists function symbols of f with a size, sorted by address.
func textFuncs(t testing.TB, f *elf.File) []elf.Symbol {
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var out []elf.Symbol
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Size > 0 && s.Value != 0 {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Value < out[b].Value })
	return out
}
