package disasm

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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
		strings.HasPrefix(s, ".") || strings.Contains(s, "<illegal") || strings.Contains(s, "<und>")
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
	compared, undecoded, mismatches int
	inIT                            int            // of compared: in an IT block
	undecodedBy                     map[string]int // objdump's mnemonic
}

// compareThumbFile decodes every Thumb instruction objdump -d shows in the executable
// sections of path (those whose bytes it prints as halfwords, which the mapping symbols
// say are Thumb) and compares text and length with objdump's, in order, so that the
// instructions of an IT block get its condition (ThumbIT) as objdump's do.
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
	var it ThumbIT
	skip := 0
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
		in, err := DecodeMode(arch.ARM, code, pc, SyntaxDefault, ModeThumb)
		inIT := it.InBlock()
		if err == nil {
			it.Apply(&in)
		} else {
			it.Reset()
		}
		if m := objdumpIT.FindStringSubmatch(text); m != nil && err != nil {
			skip = 1 + len(m[1]) // an IT the decoder refuses (condition 0b1111) that objdump follows
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if objdumpDoubt(g[3]) || text == "" {
			continue
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Len != (len(g[2])+1)/5*2 {
				t.Errorf("%#x: %v without the instruction's length", pc, err)
			}
			st.undecoded++
			st.undecodedBy[strings.Fields(text)[0]]++
			continue
		}
		if inIT {
			st.inIT++
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

var objdumpIT = regexp.MustCompile(`^it([te]*)( |$)`)

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
	t.Logf("%d compared (%d of them in IT blocks), %d not decoded, %d mismatches; not decoded: %s",
		st.compared, st.inIT, st.undecoded, st.mismatches, st.topUndecoded(15))
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

// thumbHex turns objdump's halfwords ("f8d3 3060") into the bytes in memory order
// ("d3 f8 60 30").
func thumbHex(s string) string {
	var out []string
	for _, h := range strings.Fields(s) {
		out = append(out, h[2:4]+" "+h[0:2])
	}
	return strings.Join(out, " ")
}

// Loads and stores of T32, bytes and text from arm-linux-gnueabihf-objdump -d of an
// object assembled with arm-linux-gnueabihf-as -march=armv7-a -mfpu=vfpv3-d16 -mthumb
// (binutils 2.40) at 0x1000: every 16-bit form, the 32-bit immediate (imm12, negative,
// pre- and post-index), register and literal forms, LDRD/STRD, the exclusives, the
// unprivileged forms, the multiples with their PUSH and POP, VFP, TBB and TBH. A literal
// reads Align(pc, 4) + 4, TBB/TBH's pc base pc + 4 (DDI 0406C, A8.8.64, A8.8.238).
func TestThumbMemOperands(t *testing.T) {
	m := func(base string, disp int64, size int, write bool) MemOperand {
		return MemOperand{Base: base, Disp: disp, Size: size, Write: write, AddrSize: 32}
	}
	pre := func(o MemOperand) []MemOperand { o.PreIndex = true; return []MemOperand{o} }
	post := func(o MemOperand) []MemOperand { o.PostIndex = true; return []MemOperand{o} }
	one := func(o MemOperand) []MemOperand { return []MemOperand{o} }
	idx := func(base, index string, scale, size int, write bool) []MemOperand {
		return []MemOperand{{Base: base, Index: index, Scale: scale, Size: size, Write: write, AddrSize: 32}}
	}
	lit := func(disp int64, size int, pcv uint64) []MemOperand {
		return []MemOperand{{Base: "pc", Disp: disp, Size: size, AddrSize: 32, PCValue: pcv}}
	}
	cases := []memCase{
		{hex: "6e1b", text: "ldr r3, [r3, #96]", dest: "r3", mem: one(m("r3", 96, 4, false))},
		{hex: "9801", text: "ldr r0, [sp, #4]", dest: "r0", mem: one(m("r13", 4, 4, false))},
		{hex: "91ff", text: "str r1, [sp, #1020]", mem: one(m("r13", 1020, 4, true))},
		{hex: "78ca", text: "ldrb r2, [r1, #3]", dest: "r2", mem: one(m("r1", 3, 1, false))},
		{hex: "77ca", text: "strb r2, [r1, #31]", mem: one(m("r1", 31, 1, true))},
		{hex: "88ca", text: "ldrh r2, [r1, #6]", dest: "r2", mem: one(m("r1", 6, 2, false))},
		{hex: "87ca", text: "strh r2, [r1, #62]", mem: one(m("r1", 62, 2, true))},
		{hex: "5888", text: "ldr r0, [r1, r2]", dest: "r0", mem: idx("r1", "r2", 1, 4, false)},
		{hex: "5488", text: "strb r0, [r1, r2]", mem: idx("r1", "r2", 1, 1, true)},
		{hex: "5688", text: "ldrsb r0, [r1, r2]", dest: "r0", mem: idx("r1", "r2", 1, 1, false)},
		{hex: "5e88", text: "ldrsh r0, [r1, r2]", dest: "r0", mem: idx("r1", "r2", 1, 2, false)},
		{hex: "4a02", text: "ldr r2, [pc, #8]", dest: "r2", pc: 0x1016, mem: lit(8, 4, 0x1018)},
		{hex: "f8d3 3060", text: "ldr.w r3, [r3, #96]", dest: "r3", mem: one(m("r3", 96, 4, false))},
		{hex: "f8d7 3fff", text: "ldr.w r3, [r7, #4095]", dest: "r3", mem: one(m("r7", 4095, 4, false))},
		{hex: "f850 1c08", text: "ldr.w r1, [r0, #-8]", dest: "r1", mem: one(m("r0", -8, 4, false))},
		{hex: "f931 2c02", text: "ldrsh.w r2, [r1, #-2]", dest: "r2", mem: one(m("r1", -2, 2, false))},
		{hex: "f991 2001", text: "ldrsb.w r2, [r1, #1]", dest: "r2", mem: one(m("r1", 1, 1, false))},
		{hex: "f852 1f04", text: "ldr.w r1, [r2, #4]!", dest: "r1", also: []string{"r2"}, mem: pre(m("r2", 4, 4, false))},
		{hex: "f84d 1d04", text: "str.w r1, [sp, #-4]!", also: []string{"r13"}, mem: pre(m("r13", -4, 4, true))},
		{hex: "f851 0b04", text: "ldr.w r0, [r1], #4", dest: "r0", also: []string{"r1"}, mem: post(m("r1", 4, 4, false))},
		{hex: "f85d fb04", text: "ldr.w pc, [sp], #4", also: []string{"r13"}, mem: post(m("r13", 4, 4, false))},
		{hex: "f831 0902", text: "ldrh.w r0, [r1], #-2", dest: "r0", also: []string{"r1"}, mem: post(m("r1", -2, 2, false))},
		{hex: "f842 1023", text: "str.w r1, [r2, r3, lsl #2]", mem: idx("r2", "r3", 4, 4, true)},
		{hex: "f812 1003", text: "ldrb.w r1, [r2, r3]", dest: "r1", mem: idx("r2", "r3", 1, 1, false)},
		{hex: "f932 1013", text: "ldrsh.w r1, [r2, r3, lsl #1]", dest: "r1", mem: idx("r2", "r3", 2, 2, false)},
		{hex: "f85f 2008", text: "ldr.w r2, [pc, #-8]", dest: "r2", pc: 0x104c, mem: lit(-8, 4, 0x1050)},
		{hex: "f8df 2028", text: "ldr.w r2, [pc, #40]", dest: "r2", pc: 0x1050, mem: lit(40, 4, 0x1054)},
		{hex: "e9d0 2302", text: "ldrd r2, r3, [r0, #8]", dest: "r2", also: []string{"r3"}, mem: one(m("r0", 8, 8, false))},
		{hex: "e96d 4504", text: "strd r4, r5, [sp, #-16]!", also: []string{"r13"}, mem: pre(m("r13", -16, 8, true))},
		{hex: "e8f2 0102", text: "ldrd r0, r1, [r2], #8", dest: "r0", also: []string{"r1", "r2"}, mem: post(m("r2", 8, 8, false))},
		{hex: "e9df 0104", text: "ldrd r0, r1, [pc, #16]", dest: "r0", also: []string{"r1"}, pc: 0x1060, mem: lit(16, 8, 0x1064)},
		{hex: "e851 0f00", text: "ldrex r0, [r1]", dest: "r0", mem: one(m("r1", 0, 4, false))},
		{hex: "e851 0f02", text: "ldrex r0, [r1, #8]", dest: "r0", mem: one(m("r1", 8, 4, false))},
		{hex: "e841 0200", text: "strex r2, r0, [r1]", dest: "r2", mem: one(m("r1", 0, 4, true))},
		{hex: "e8d1 0f4f", text: "ldrexb r0, [r1]", dest: "r0", mem: one(m("r1", 0, 1, false))},
		{hex: "e8c1 0f52", text: "strexh r2, r0, [r1]", dest: "r2", mem: one(m("r1", 0, 2, true))},
		{hex: "e8d2 017f", text: "ldrexd r0, r1, [r2]", dest: "r0", also: []string{"r1"}, mem: one(m("r2", 0, 8, false))},
		{hex: "e8c2 0173", text: "strexd r3, r0, r1, [r2]", dest: "r3", mem: one(m("r2", 0, 8, true))},
		{hex: "f851 0e04", text: "ldrt r0, [r1, #4]", dest: "r0", mem: one(m("r1", 4, 4, false))},
		{hex: "f801 0e08", text: "strbt r0, [r1, #8]", mem: one(m("r1", 8, 1, true))},
		{hex: "f931 0e00", text: "ldrsht r0, [r1]", dest: "r0", mem: one(m("r1", 0, 2, false))},
		{hex: "b5b0", text: "push {r4, r5, r7, lr}", also: []string{"r13"}, mem: pre(m("r13", -16, 16, true))},
		{hex: "bdb0", text: "pop {r4, r5, r7, pc}", also: []string{"r13"}, mem: post(m("r13", 0, 16, false))},
		{hex: "b480", text: "push {r7}", also: []string{"r13"}, mem: pre(m("r13", -4, 4, true))},
		{hex: "bc80", text: "pop {r7}", dest: "r7", also: []string{"r13"}, mem: post(m("r13", 0, 4, false))},
		{hex: "c80e", text: "ldmia r0!, {r1, r2, r3}", dest: "r1", also: []string{"r2", "r3", "r0"}, mem: post(m("r0", 0, 12, false))},
		{hex: "c803", text: "ldmia r0, {r0, r1}", dest: "r0", also: []string{"r1"}, mem: one(m("r0", 0, 8, false))},
		{hex: "c006", text: "stmia r0!, {r1, r2}", also: []string{"r0"}, mem: post(m("r0", 0, 8, true))},
		{hex: "e92d 41f0", text: "stmdb sp!, {r4, r5, r6, r7, r8, lr}", also: []string{"r13"}, mem: pre(m("r13", -24, 24, true))},
		{hex: "e8bd 81f0", text: "ldmia.w sp!, {r4, r5, r6, r7, r8, pc}", also: []string{"r13"}, mem: post(m("r13", 0, 24, false))},
		{hex: "e890 000e", text: "ldmia.w r0, {r1, r2, r3}", dest: "r1", also: []string{"r2", "r3"}, mem: one(m("r0", 0, 12, false))},
		{hex: "e910 0006", text: "ldmdb r0, {r1, r2}", dest: "r1", also: []string{"r2"}, mem: one(m("r0", -8, 8, false))},
		{hex: "e920 0006", text: "stmdb r0!, {r1, r2}", also: []string{"r0"}, mem: pre(m("r0", -8, 8, true))},
		{hex: "ed91 0b02", text: "vldr d0, [r1, #8]", dest: "d0", mem: one(m("r1", 8, 8, false))},
		{hex: "ed01 1a01", text: "vstr s2, [r1, #-4]", mem: one(m("r1", -4, 4, true))},
		{hex: "ed2d 8b08", text: "vpush {d8-d11}", also: []string{"r13"}, mem: pre(m("r13", -32, 32, true))},
		{hex: "ecbd 8b02", text: "vpop {d8}", dest: "d8", also: []string{"r13"}, mem: post(m("r13", 0, 8, false))},
		{hex: "ecb0 0a04", text: "vldmia r0!, {s0-s3}", dest: "s0", also: []string{"s1", "s2", "s3", "r0"}, mem: post(m("r0", 0, 16, false))},
		{hex: "ed9f 7b02", text: "vldr d7, [pc, #8]", dest: "d7", pc: 0x10c2, mem: lit(8, 8, 0x10c4)},
		{hex: "e8d0 f001", text: "tbb [r0, r1]", mem: idx("r0", "r1", 1, 1, false)},
		{hex: "e8df f011", text: "tbh [pc, r1, lsl #1]", pc: 0x10ca,
			mem: []MemOperand{{Base: "pc", Index: "r1", Scale: 2, Size: 2, AddrSize: 32, PCValue: 0x10ce}}},
	}
	for i := range cases {
		cases[i].hex = thumbHex(cases[i].hex)
	}
	checkMemCasesMode(t, arch.ARM, ModeThumb, cases)
}

// Calls, branches, returns and traps of T32 (objdump's bytes and text): targets absolute,
// BLX to A32 from Align(pc, 4), CBZ/CBNZ and conditional branches falling through.
func TestThumbFlow(t *testing.T) {
	for _, tc := range []struct {
		hex, text                     string
		pc, target                    uint64
		call, branch, ret, trap, stop bool
	}{
		{hex: "4770", text: "bx lr", ret: true, stop: true},
		{hex: "bdb0", text: "pop {r4, r5, r7, pc}", ret: true, stop: true},
		{hex: "e8bd 81f0", text: "ldmia.w sp!, {r4, r5, r6, r7, r8, pc}", ret: true, stop: true},
		{hex: "f85d fb04", text: "ldr.w pc, [sp], #4", ret: true, stop: true},
		{hex: "46f7", text: "mov pc, lr", ret: true, stop: true},
		{hex: "4718", text: "bx r3", branch: true, stop: true},
		{hex: "4798", text: "blx r3", call: true},
		{hex: "f7ff fffe", text: "bl 0x1000", target: 0x1000, call: true},
		{hex: "f000 e802", text: "blx 0x1008", pc: 0x1002, target: 0x1008, call: true},
		{hex: "f7ff bffe", text: "b.w 0x1000", target: 0x1000, branch: true, stop: true},
		{hex: "f43f affe", text: "beq.w 0x1000", target: 0x1000, branch: true},
		{hex: "dd12", text: "ble.n 0x1028", target: 0x1028, branch: true},
		{hex: "e7fa", text: "b.n 0xff8", target: 0xff8, branch: true, stop: true},
		{hex: "b11b", text: "cbz r3, 0x100a", target: 0x100a, branch: true},
		{hex: "b93b", text: "cbnz r3, 0x1012", target: 0x1012, branch: true},
		{hex: "e8d0 f001", text: "tbb [r0, r1]", branch: true, stop: true},
		{hex: "deff", text: "udf #255", trap: true, stop: true},
		{hex: "f7f0 a000", text: "udf.w #0", trap: true, stop: true},
		{hex: "be01", text: "bkpt 0x0001", trap: true, stop: true},
		{hex: "df00", text: "svc 0"},
		{hex: "bf00", text: "nop"},
		{hex: "bf0c", text: "ite eq"},
	} {
		code, _ := hex.DecodeString(strings.ReplaceAll(thumbHex(tc.hex), " ", ""))
		pc := tc.pc
		if pc == 0 {
			pc = 0x1000
		}
		in, err := DecodeMode(arch.ARM, code, pc, SyntaxDefault, ModeThumb)
		if err != nil {
			t.Errorf("%s: %v", tc.hex, err)
			continue
		}
		if in.Text != tc.text || in.Target != tc.target || in.IsCall != tc.call || in.IsBranch != tc.branch ||
			in.IsReturn != tc.ret || in.IsTrap != tc.trap || in.NoFallThrough != tc.stop {
			t.Errorf("%s: %q target %#x call %v branch %v ret %v trap %v stop %v, want %+v", tc.hex, in.Text, in.Target,
				in.IsCall, in.IsBranch, in.IsReturn, in.IsTrap, in.NoFallThrough, tc)
		}
	}
}

// An instruction not decoded, or cut short, still says its length (2 or 4, from the
// first halfword), and a window steps over it.
func TestThumbUndecodedLength(t *testing.T) {
	for _, tc := range []struct {
		code []byte
		n    int
		err  error
	}{
		{[]byte{0x9f, 0xfa}, 4, ErrTruncated},                  // f a9f: a 32-bit first halfword alone
		{[]byte{0x80, 0xfa, 0x81, 0xf0}, 4, ErrThumbUndecoded}, // sadd8 r0, r0, r1 (f a80 f081)
		{[]byte{0x50, 0xb6}, 2, ErrThumbUndecoded},             // setend le (b650)
		{[]byte{0x50}, 2, ErrTruncated},
	} {
		_, err := DecodeMode(arch.ARM, tc.code, 0x1000, SyntaxDefault, ModeThumb)
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, tc.err) || de.Len != tc.n {
			t.Errorf("% x: %v, want %v of length %d", tc.code, err, tc.err, tc.n)
		}
	}
	code := []byte{0x80, 0xfa, 0x81, 0xf0, 0x1b, 0x6e, 0x70, 0x47}
	lines, err := WindowWith(arch.ARM, memBytes{0x1000, code}, 0x1004, WindowConfig{Before: 2, After: 1, FuncStart: 0x1000, Mode: ModeThumb})
	if err != nil || len(lines) != 3 || lines[0].Err == nil || lines[0].Len != 4 || lines[1].Text != "ldr r3, [r3, #96]" ||
		!lines[1].Current || lines[2].Text != "bx lr" {
		t.Errorf("window %+v %v", lines, err)
	}
}

// A window decoded forward from the function's start gives the instructions of an IT
// block its condition as objdump does (sample.c -O2's loop: "ite eq; moveq.w ip, #5;
// movne.w ip, #2"), and a branch in one falls through.
func TestThumbWindowIT(t *testing.T) {
	code := []byte{0x13, 0xf0, 0x03, 0x0f, 0x0c, 0xbf, 0x4f, 0xf0, 0x05, 0x0c, 0x4f, 0xf0, 0x02, 0x0c, 0x08, 0xbf, 0x70, 0x47, 0x00, 0xbf}
	lines, err := WindowWith(arch.ARM, memBytes{0x1000, code}, 0x100a, WindowConfig{Before: 4, After: 4, FuncStart: 0x1000, Mode: ModeThumb})
	var got []string
	for _, l := range lines {
		got = append(got, l.Text)
	}
	want := []string{"tst.w r3, #3", "ite eq", "moveq.w ip, #5", "movne.w ip, #2", "it eq", "bxeq lr", "nop"}
	if err != nil || strings.Join(got, "; ") != strings.Join(want, "; ") || !lines[3].Current {
		t.Fatalf("window %q (%v), want %q", got, err, want)
	}
	if !lines[5].IsReturn || lines[5].NoFallThrough {
		t.Errorf("bxeq lr: return %v, no fall-through %v", lines[5].IsReturn, lines[5].NoFallThrough)
	}
	// Alone, the same instruction has no condition: nothing says it is in a block; with
	// the state from the function's start it has.
	in, err := DecodeMode(arch.ARM, code[10:], 0x100a, SyntaxDefault, ModeThumb)
	if err != nil || in.Text != "mov.w ip, #2" {
		t.Errorf("alone: %q %v", in.Text, err)
	}
	it, ok := ThumbITBefore(code, 0x1000, 0x100a, nil)
	if it.Apply(&in); !ok || in.Text != "movne.w ip, #2" {
		t.Errorf("after ThumbITBefore: %q %v", in.Text, ok)
	}
	if _, ok := ThumbITBefore(code, 0x1000, 0x100b, nil); ok {
		t.Errorf("ThumbITBefore landed on an odd pc")
	}
}

// TestThumbITFromPSR: for every IT instruction (each first condition and mask), the
// conditions the program status register gives, as the processor keeps ITSTATE in it
// right after the IT, equal those of decoding the IT instruction, and each later
// instruction's ITSTATE (ITAdvance) gives the rest of the block; outside a block none.
func TestThumbITFromPSR(t *testing.T) {
	psrOf := func(state uint32) uint64 { return uint64(state>>2&0x3f)<<10 | uint64(state&3)<<25 | 0x30 }
	blocks := 0
	for first := uint32(0); first < 15; first++ {
		for mask := uint32(1); mask < 16; mask++ {
			if first == 14 && mask&(mask-1) != 0 {
				continue // AL takes only "then" instructions: ITE AL would be condition 15
			}
			it := []byte{byte(first<<4 | mask), 0xbf}
			in, err := DecodeMode(arch.ARM, it, 0x1000, SyntaxDefault, ModeThumb)
			if err != nil {
				t.Fatalf("%x: %v", it, err)
			}
			var fromIT ThumbIT
			fromIT.Apply(&in)
			state := first<<4 | mask
			for k := 0; k < len(fromIT.conds); k++ {
				got, ok := ThumbITFromPSR(psrOf(state))
				if want := fromIT.conds[k:]; !ok || !slices.Equal(got.conds, want) {
					t.Errorf("%s, instruction %d of its block: PSR %#x gives %v (%v), want %v", in.Text, k, psrOf(state), got.conds, ok, want)
				}
				if last := k == len(fromIT.conds)-1; last != (state&7 == 0) {
					t.Errorf("%s, instruction %d: ITSTATE %#x, and the block's last is %v", in.Text, k, state, last)
				}
				state = state&0xe0 | state<<1&0x1f // ITAdvance
			}
			blocks++
		}
	}
	if _, ok := ThumbITFromPSR(0x60000030); ok || blocks != 14*15+4 {
		t.Errorf("outside a block: %v; %d blocks", ok, blocks)
	}
}
