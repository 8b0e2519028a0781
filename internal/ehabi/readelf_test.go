package ehabi

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// armhfLibc is Debian's armhf C library (package libc6-armhf-cross, which scripts/deps.sh
// installs with the cross compiler): 817 .ARM.exidx entries, compact and generic.
const armhfLibc = "/usr/arm-linux-gnueabihf/lib/libc.so.6"

// fileMemory reads an ELF file's loadable segments by link-time address.
type fileMemory struct{ f *elf.File }

func (m fileMemory) ReadAt(p []byte, addr uint64) (int, error) {
	for _, pr := range m.f.Progs {
		if pr.Type == elf.PT_LOAD && addr >= pr.Vaddr && addr-pr.Vaddr < pr.Filesz {
			n := min(uint64(len(p)), pr.Filesz-(addr-pr.Vaddr))
			k, err := pr.ReadAt(p[:n], int64(addr-pr.Vaddr))
			if k < len(p) && err == nil {
				err = fmt.Errorf("%#x is past the segment's file size", addr+uint64(k))
			}
			return k, err
		}
	}
	return 0, fmt.Errorf("%#x is in no PT_LOAD", addr)
}

// openExidx reads a file's .ARM.exidx into a Table.
func openExidx(t testing.TB, path string) (*Table, *elf.File) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s is needed (scripts/deps.sh installs it): %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	s := f.Section(".ARM.exidx")
	if s == nil || s.Type != 0x70000001 /* SHT_ARM_EXIDX */ {
		t.Fatalf("%s has no SHT_ARM_EXIDX .ARM.exidx", path)
	}
	data, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := New(Config{Data: data, Addr: s.Addr, Order: f.ByteOrder, Extab: fileMemory{f}})
	if err != nil {
		t.Fatal(err)
	}
	return tab, f
}

var (
	readelfEntry = regexp.MustCompile(`^0x([0-9a-f]+)(?: <[^>]*>)?: (@0x([0-9a-f]+)|0x1 \[cantunwind\]|0x[0-9a-f]+)$`)
	readelfOp    = regexp.MustCompile(`^0x[0-9a-f]{2}$`)
)

// readelfUnwind is one entry of `readelf -u`.
type readelfUnwind struct {
	start, extab uint64
	cantUnwind   bool
	compact      int // -1 when readelf names a personality routine instead
	ops          []byte
}

// parseReadelfUnwind parses binutils' `readelf -u` (--unwind) of an ARM binary: each entry
// is "0xSTART: WORD" or "0xSTART: @0xEXTAB", then "Compact model index: N" and one line per
// opcode, its bytes first ("  0x84 0x00 pop {r14}").
func parseReadelfUnwind(out string) []readelfUnwind {
	var res []readelfUnwind
	for _, line := range strings.Split(out, "\n") {
		if m := readelfEntry.FindStringSubmatch(line); m != nil {
			e := readelfUnwind{compact: -1}
			e.start, _ = strconv.ParseUint(m[1], 16, 64)
			if m[3] != "" {
				e.extab, _ = strconv.ParseUint(m[3], 16, 64)
			}
			e.cantUnwind = strings.Contains(m[2], "cantunwind")
			res = append(res, e)
			continue
		}
		if len(res) == 0 {
			continue
		}
		e := &res[len(res)-1]
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "Compact model index: "); ok {
			e.compact, _ = strconv.Atoi(rest)
			continue
		}
		for _, tok := range strings.Fields(line) {
			if !readelfOp.MatchString(tok) {
				break
			}
			b, _ := strconv.ParseUint(tok[2:], 16, 8)
			e.ops = append(e.ops, byte(b))
		}
	}
	return res
}

// Every entry of Debian's armhf libc decodes as binutils' readelf decodes it: the same
// function starts, .ARM.extab addresses, compact routine indices and opcode bytes, and the
// EXIDX_CANTUNWIND entries. (readelf does not decode the opcodes after a generic
// personality routine in a stripped library; those entries are checked for their extab
// address and routine only.)
func TestReadelfOracle(t *testing.T) {
	tab, _ := openExidx(t, armhfLibc)
	out, err := exec.Command("readelf", "-u", armhfLibc).Output()
	if err != nil {
		t.Fatalf("readelf -u: %v", err)
	}
	want := parseReadelfUnwind(string(out))
	if len(want) != tab.Len() || len(want) < 800 {
		t.Fatalf("readelf lists %d entries, the table has %d", len(want), tab.Len())
	}
	counts := map[string]int{}
	for _, w := range want {
		e, err := tab.Find(w.start)
		switch {
		case w.cantUnwind:
			if !errors.Is(err, ErrCantUnwind) || e.Start != w.start {
				t.Errorf("%#x: %+v %v, want EXIDX_CANTUNWIND", w.start, e, err)
			}
			counts["cantunwind"]++
			continue
		case err != nil:
			t.Errorf("%#x: %v", w.start, err)
			continue
		}
		if e.Start != w.start || e.Extab != w.extab {
			t.Errorf("%#x: start %#x extab %#x, want %#x %#x", w.start, e.Start, e.Extab, w.start, w.extab)
		}
		if w.compact < 0 {
			if e.Personality != Generic || e.Routine == 0 {
				t.Errorf("%#x: routine %d at %#x, want a generic one", w.start, e.Personality, e.Routine)
			}
			counts["generic"]++
			continue
		}
		if e.Personality != w.compact || !bytes.Equal(e.Ops, w.ops) {
			t.Errorf("%#x: routine %d ops % x, readelf: %d % x", w.start, e.Personality, e.Ops, w.compact, w.ops)
		}
		counts[fmt.Sprintf("routine %d", w.compact)]++
	}
	t.Logf("%d entries: %v", len(want), counts)
}
