package disasm

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

const armObjdump = "arm-linux-gnueabihf-objdump"

// objdumpThumbBlob runs arm-linux-gnueabihf-objdump on raw bytes as Thumb code at address
// 0 and returns its lines by address: the instruction's length and text.
func objdumpThumbBlob(t *testing.T, blob []byte) map[uint64]objLine {
	t.Helper()
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	return objdumpThumb(t, path, "-D", "-b", "binary", "-m", "arm", "-M", "force-thumb")
}

// objLine is one line of objdump's disassembly: the instruction's length and its text.
type objLine struct {
	n    int
	text string
}

var thumbLineRE = regexp.MustCompile(`^\s*([0-9a-f]+):\t([0-9a-f]{4}(?: [0-9a-f]{4})?|[0-9a-f]{8}) *\t(.*)$`)

// objdumpThumb runs arm-linux-gnueabihf-objdump with args on path.
func objdumpThumb(t *testing.T, path string, args ...string) map[uint64]objLine {
	t.Helper()
	if _, err := exec.LookPath(armObjdump); err != nil {
		t.Fatalf("%s is required to check the Thumb decoder (binutils-arm-linux-gnueabihf, scripts/deps.sh): %v", armObjdump, err)
	}
	out, err := exec.Command(armObjdump, append(append([]string{"-w"}, args...), path)...).Output()
	if err != nil {
		t.Fatalf("%s %v %s: %v", armObjdump, args, path, err)
	}
	m := map[uint64]objLine{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		g := thumbLineRE.FindStringSubmatch(sc.Text())
		if g == nil {
			continue
		}
		a, _ := strconv.ParseUint(g[1], 16, 64)
		n := 2
		if len(g[2]) > 4 {
			n = 4
		}
		m[a] = objLine{n, g[3]}
	}
	return m
}

// objdumpDoubt reports objdump lines that are not a plain instruction to compare with.
func objdumpDoubt(s string) bool {
	return strings.Contains(s, "UNDEFINED") || strings.Contains(s, "UNPREDICTABLE") || strings.Contains(s, "undefined") ||
		strings.HasPrefix(s, ".") || strings.Contains(s, "<illegal")
}

// compareThumbBlob decodes each instruction of blob (at the offsets at) and compares it
// with objdump's; it returns how many were compared and how many not decoded.
func compareThumbBlob(t *testing.T, blob []byte, at []int, max int) (compared, undecoded int) {
	t.Helper()
	want := objdumpThumbBlob(t, blob)
	bad := 0
	seen := map[string]bool{} // one message for each pair of mnemonics
	for _, off := range at {
		w, ok := want[uint64(off)]
		if !ok {
			t.Fatalf("objdump has no instruction at %#x", off)
		}
		in, err := DecodeMode(arch.ARM, blob[off:], uint64(off), SyntaxDefault, ModeThumb)
		n := thumbLen(binary.LittleEndian.Uint16(blob[off:]))
		if n != w.n {
			t.Errorf("%#x: length %d, objdump %d", off, n, w.n)
		}
		if objdumpDoubt(w.text) {
			continue
		}
		if err != nil {
			undecoded++
			continue
		}
		compared++
		got, exp := normMine(in), normObjdump(w.text)
		if in.Target != 0 { // objdump writes "0x" before targets in raw binary
			exp = strings.Replace(exp, "0x"+strconv.FormatUint(in.Target, 16), strconv.FormatUint(in.Target, 16), 1)
		}
		if got != exp {
			bad++
			key := strings.Fields(got)[0] + " " + strings.Fields(exp + " x")[0]
			if !seen[key] && len(seen) < max {
				seen[key] = true
				t.Errorf("%#x % x: got %q, objdump %q", off, in.Bytes, got, exp)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d mismatches", bad)
	}
	return compared, undecoded
}

// Every 16-bit Thumb encoding (but IT, which changes the next instructions' text) against
// objdump.
func TestObjdumpThumb16All(t *testing.T) {
	var blob []byte
	var at []int
	for h := 0; h < 0xe800; h++ {
		if h>>8 == 0xbf && h&15 != 0 {
			continue
		}
		at = append(at, len(blob))
		blob = binary.LittleEndian.AppendUint16(blob, uint16(h))
	}
	c, u := compareThumbBlob(t, blob, at, 40)
	t.Logf("%d compared, %d not decoded", c, u)
}

// Random 32-bit Thumb encodings against objdump, each after a nop so that none is in an
// IT block.
func TestObjdumpThumb32Random(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var blob []byte
	var at []int
	for i := 0; i < 200000; i++ {
		hw1 := uint16(0xe800 + r.Intn(0x1800))
		hw2 := uint16(r.Intn(0x10000))
		at = append(at, len(blob))
		blob = binary.LittleEndian.AppendUint16(blob, hw1)
		blob = binary.LittleEndian.AppendUint16(blob, hw2)
	}
	c, u := compareThumbBlob(t, blob, at, 60)
	t.Logf("%d compared, %d not decoded", c, u)
}

// thumbFileStats counts the Thumb instructions of a file compared with objdump.
type thumbFileStats struct {
	compared, undecoded, inIT, mismatches int
	undecodedBy                           map[string]int // objdump's mnemonic
}

var itRE = regexp.MustCompile(`^it([te]*)\s`)

// compareThumbFile decodes every Thumb instruction objdump -d shows in the executable
// sections of path (those whose bytes it prints as halfwords, which the mapping symbols
// say are Thumb) and compares text and length with objdump's. Instructions in an IT
// block are counted, not compared: objdump adds the block's condition, which one
// instruction decoded alone does not know.
func compareThumbFile(t *testing.T, path string) thumbFileStats {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type sect struct {
		addr uint64
		data []byte
	}
	var sects []sect
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_EXECINSTR != 0 && s.Type == elf.SHT_PROGBITS {
			d, err := s.Data()
			if err != nil {
				t.Fatal(err)
			}
			sects = append(sects, sect{s.Addr, d})
		}
	}
	bytesAt := func(a uint64) []byte {
		for _, s := range sects {
			if a >= s.addr && a < s.addr+uint64(len(s.data)) {
				return s.data[a-s.addr:]
			}
		}
		return nil
	}
	if _, err := exec.LookPath(armObjdump); err != nil {
		t.Fatalf("%s is required to check the Thumb decoder (binutils-arm-linux-gnueabihf, scripts/deps.sh): %v", armObjdump, err)
	}
	out, err := exec.Command(armObjdump, "-d", "-w", path).Output()
	if err != nil {
		t.Fatalf("%s -d %s: %v", armObjdump, path, err)
	}
	st := thumbFileStats{undecodedBy: map[string]int{}}
	seen := map[string]bool{}
	itLeft := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		g := thumbLineRE.FindStringSubmatch(sc.Text())
		if g == nil || len(g[2]) == 8 { // A32 or data
			continue
		}
		pc, _ := strconv.ParseUint(g[1], 16, 64)
		code := bytesAt(pc)
		if len(code) < 2 {
			t.Fatalf("%#x: no bytes", pc)
		}
		if n, want := thumbLen(binary.LittleEndian.Uint16(code)), (len(g[2])+1)/5*2; n != want {
			t.Errorf("%#x: length %d, objdump %d (%s)", pc, n, want, g[2])
		}
		text := normObjdump(g[3])
		if m := itRE.FindStringSubmatch(text + " "); m != nil {
			itLeft = 1 + len(m[1]) // objdump starts a new block at an IT inside one (data read as code)
		} else if itLeft > 0 {
			itLeft--
			st.inIT++
			continue
		}
		if objdumpDoubt(g[3]) || text == "" {
			continue
		}
		in, err := DecodeMode(arch.ARM, code, pc, SyntaxDefault, ModeThumb)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Len != (len(g[2])+1)/5*2 {
				t.Errorf("%#x: %v without the instruction's length", pc, err)
			}
			st.undecoded++
			st.undecodedBy[strings.Fields(text)[0]]++
			if strings.HasPrefix(text, "vldr") {
				t.Logf("%#x %v", pc, err)
			}
			continue
		}
		st.compared++
		if got := normMine(in); got != text {
			st.mismatches++
			if key := in.Mnemonic; !seen[key] && len(seen) < 40 {
				seen[key] = true
				t.Errorf("%#x % x: got %q, objdump %q", pc, in.Bytes, got, text)
			}
		}
	}
	return st
}

// topUndecoded lists the mnemonics objdump shows most often where the decoder had none.
func (st thumbFileStats) topUndecoded(n int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range st.undecodedBy {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].k < all[j].k })
	var parts []string
	for i := 0; i < len(all) && i < n; i++ {
		parts = append(parts, fmt.Sprintf("%s %d", all[i].k, all[i].v))
	}
	return strings.Join(parts, ", ")
}

// The Thumb text of Debian's armhf libc against objdump: every instruction decoded must
// read as objdump's, and the rest must still have objdump's length.
func TestObjdumpThumbLibc(t *testing.T) {
	const libc = "/usr/arm-linux-gnueabihf/lib/libc.so.6"
	if _, err := os.Stat(libc); err != nil {
		t.Fatalf("%s (libc6-armhf-cross, scripts/deps.sh): %v", libc, err)
	}
	st := compareThumbFile(t, libc)
	t.Logf("%d compared, %d not decoded, %d in IT blocks (not compared), %d mismatches; not decoded: %s",
		st.compared, st.undecoded, st.inIT, st.mismatches, st.topUndecoded(15))
	if st.mismatches != 0 {
		t.Errorf("%d mismatches", st.mismatches)
	}
	if st.compared < 100000 {
		t.Errorf("only %d instructions compared", st.compared)
	}
}

// Programs of the repository (testdata/src) and sample.c, compiled for Debian's default
// Thumb-2 at -O0 and -O2, against objdump.
func TestObjdumpThumbPrograms(t *testing.T) {
	cc := "arm-linux-gnueabihf-gcc"
	if _, err := exec.LookPath(cc); err != nil {
		t.Fatalf("%s is required to build the Thumb test programs (gcc-arm-linux-gnueabihf, scripts/deps.sh): %v", cc, err)
	}
	srcs := []string{"testdata/sample.c", "../../testdata/src/deref.c", "../../testdata/src/recurse.c", "../../testdata/src/wild.c",
		"../../testdata/src/locals.c", "../../testdata/src/heapcorrupt.c"}
	for _, opt := range []string{"-O0", "-O2"} {
		for _, src := range srcs {
			out := filepath.Join(t.TempDir(), "prog")
			cmd := exec.Command(cc, opt, "-g", "-o", out, src)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, b)
			}
			st := compareThumbFile(t, out)
			t.Logf("%s %s: %d compared, %d not decoded (%s), %d in IT blocks", filepath.Base(src), opt, st.compared, st.undecoded, st.topUndecoded(5), st.inIT)
			if st.mismatches != 0 || st.compared == 0 {
				t.Errorf("%s %s: %d mismatches of %d", src, opt, st.mismatches, st.compared)
			}
		}
	}
}
