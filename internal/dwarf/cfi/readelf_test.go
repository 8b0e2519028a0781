package cfi

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readelfRow is one "LOC CFA regs..." line of readelf --debug-dump=frames-interp.
type readelfRow struct {
	loc  uint64
	cols map[string]string // "CFA", "rbx", "ra", ...
}

// readelfFDE is one FDE block: its range and its rows (the CIE's rows when it has none).
type readelfFDE struct {
	off        uint64
	begin, end uint64
	rows       []readelfRow
}

// readelfFrames runs readelf and returns the FDEs of the named section.
func readelfFrames(t *testing.T, path, section string) []readelfFDE {
	t.Helper()
	// readelf exits 1 on some files (libc.so.6 here) after printing everything; judge it
	// by its output.
	out, err := exec.Command("readelf", "--debug-dump=frames-interp", path).Output()
	if err != nil && !strings.Contains(string(out), "Contents of the ") {
		t.Fatalf("readelf --debug-dump=frames-interp %s: %v (binutils is required for this test)", path, err)
	}
	var (
		fdes    []readelfFDE
		cieRows = map[uint64][]readelfRow{}
		cur     *readelfFDE
		curCIE  uint64
		inCIE   bool
		header  []string
		in      bool
	)
	flush := func() {
		if cur != nil {
			if len(cur.rows) == 0 {
				cur.rows = nil
			}
			fdes = append(fdes, *cur)
			cur = nil
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var fdeCIE []uint64
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Contents of the ") {
			flush()
			in = strings.HasPrefix(line, "Contents of the "+section+" section")
			continue
		}
		if !in {
			continue
		}
		f := joinParens(strings.Fields(line))
		switch {
		case len(f) >= 4 && f[3] == "CIE":
			flush()
			off, _ := strconv.ParseUint(f[0], 16, 64)
			curCIE, inCIE = off, true
		case len(f) >= 6 && f[3] == "FDE":
			flush()
			inCIE = false
			off, _ := strconv.ParseUint(f[0], 16, 64)
			cie, _ := strconv.ParseUint(strings.TrimPrefix(f[4], "cie="), 16, 64)
			rng := strings.Split(strings.TrimPrefix(f[5], "pc="), "..")
			b, _ := strconv.ParseUint(rng[0], 16, 64)
			e, _ := strconv.ParseUint(rng[1], 16, 64)
			cur = &readelfFDE{off: off, begin: b, end: e}
			fdeCIE = append(fdeCIE, cie)
		case len(f) >= 2 && f[0] == "LOC":
			header = f[1:]
		case len(f) >= 2 && len(f[0]) == 16 && header != nil:
			loc, err := strconv.ParseUint(f[0], 16, 64)
			if err != nil || len(f)-1 != len(header) {
				continue
			}
			row := readelfRow{loc: loc, cols: map[string]string{}}
			for i, h := range header {
				row.cols[h] = f[i+1]
			}
			if inCIE {
				cieRows[curCIE] = append(cieRows[curCIE], row)
			} else if cur != nil {
				cur.rows = append(cur.rows, row)
			}
		}
	}
	flush()
	for i := range fdes {
		if len(fdes[i].rows) == 0 {
			rows := cieRows[fdeCIE[i]]
			if len(rows) > 0 {
				r := rows[len(rows)-1]
				fdes[i].rows = []readelfRow{{loc: fdes[i].begin, cols: r.cols}}
			}
		}
	}
	return fdes
}

var readelfNames = map[elf.Machine]map[string]uint64{
	elf.EM_X86_64: func() map[string]uint64 {
		m := map[string]uint64{}
		for i, n := range []string{"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
			"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"} {
			m[n] = uint64(i)
		}
		return m
	}(),
	elf.EM_AARCH64: func() map[string]uint64 {
		m := map[string]uint64{"sp": 31}
		for i := 0; i <= 30; i++ {
			m[fmt.Sprintf("x%d", i)] = uint64(i)
		}
		for i := 0; i < 32; i++ {
			m[fmt.Sprintf("v%d", i)] = uint64(64 + i)
		}
		return m
	}(),
}

func regName(m elf.Machine, reg uint64) string {
	for n, r := range readelfNames[m] {
		if r == reg {
			return n
		}
	}
	return fmt.Sprintf("r%d", reg)
}

// render formats a rule the way readelf's frame_display_row does.
func render(m elf.Machine, r Rule) string {
	switch r.Kind {
	case Unspecified, Undefined:
		return "u"
	case SameValue:
		return "s"
	case Offset:
		return fmt.Sprintf("c%+d", r.Offset)
	case ValOffset:
		return fmt.Sprintf("v%+d", r.Offset)
	case Register:
		return fmt.Sprintf("r%d (%s)", r.Reg, regName(m, r.Reg))
	case Expression:
		return "exp"
	case ValExpression:
		return "vexp"
	}
	return "?"
}

func renderCFA(m elf.Machine, c CFARule) string {
	if c.Kind == CFAExpression {
		return "exp"
	}
	return fmt.Sprintf("%s%+d", regName(m, c.Reg), c.Offset)
}

// openTable builds a Table for a section of an ELF file ("eh_frame" uses .eh_frame_hdr
// when withHdr).
func openTable(t *testing.T, path, section string, withHdr bool) (*Table, elf.Machine) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	s := f.Section(section)
	if s == nil {
		t.Fatalf("%s has no %s section", path, section)
	}
	data, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Data: data, Addr: s.Addr, PtrSize: 8, Order: f.ByteOrder}
	if section == ".debug_frame" {
		cfg.Section = DebugFrame
		cfg.Addr = 0
	}
	if h := f.Section(".eh_frame_hdr"); h != nil && withHdr && section == ".eh_frame" {
		cfg.Hdr, err = h.Data()
		if err != nil {
			t.Fatal(err)
		}
		cfg.HdrAddr = h.Addr
	}
	tab, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tab, f.Machine
}

// compareWithReadelf checks every row readelf prints for section against RowForPC at the
// row's location and at the last byte before the next row, and returns the number of rows.
func compareWithReadelf(t *testing.T, path, section string, withHdr bool) int {
	t.Helper()
	tab, mach := openTable(t, path, section, withHdr)
	names := readelfNames[mach]
	fdes := readelfFrames(t, path, section)
	if len(fdes) == 0 {
		t.Fatalf("readelf shows no FDE in %s of %s", section, path)
	}
	rows, bad := 0, 0
	for _, fd := range fdes {
		if fd.begin == fd.end {
			continue
		}
		for i, want := range fd.rows {
			end := fd.end
			if i+1 < len(fd.rows) {
				end = fd.rows[i+1].loc
			}
			if end == want.loc {
				continue // an empty row: a later row at the same location wins
			}
			for _, pc := range []uint64{want.loc, end - 1} {
				got, err := tab.RowForPC(pc)
				if err != nil {
					t.Errorf("%s FDE %#x pc %#x: %v", section, fd.off, pc, err)
					bad++
					continue
				}
				if got.FDE.Offset != fd.off || got.FDE.Begin != fd.begin || got.FDE.End != fd.end {
					t.Errorf("pc %#x: FDE %#x [%#x,%#x), readelf %#x [%#x,%#x)", pc, got.FDE.Offset,
						got.FDE.Begin, got.FDE.End, fd.off, fd.begin, fd.end)
					bad++
				}
				for col, w := range want.cols {
					var g string
					switch col {
					case "CFA":
						g = renderCFA(mach, got.CFA)
					case "ra":
						g = render(mach, got.Rule(got.RA))
					default:
						reg, ok := names[col]
						if !ok {
							t.Fatalf("readelf column %q has no DWARF number in this test", col)
						}
						g = render(mach, got.Rule(reg))
					}
					if g != w {
						t.Errorf("%s FDE %#x pc %#x column %s: got %s, readelf %s", section, fd.off, pc, col, g, w)
						bad++
					}
				}
				if bad > 20 {
					t.Fatalf("too many mismatches")
				}
			}
			rows++
		}
	}
	return rows
}

func compile(t *testing.T, cc string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		t.Fatalf("%s is required for this test: %v", cc, err)
	}
	out := filepath.Join(t.TempDir(), "frames")
	src, err := filepath.Abs("testdata/frames.c")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cc, append(args, "-o", out, src)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", cc, args, err, b)
	}
	return out
}

func mustExist(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is required for this test: %v", path, err)
	}
	return path
}

// joinParens glues readelf's "r9 (r9)" register names back into one field.
func joinParens(f []string) []string {
	var out []string
	for _, s := range f {
		if strings.HasPrefix(s, "(") && len(out) > 0 {
			out[len(out)-1] += " " + s
			continue
		}
		out = append(out, s)
	}
	return out
}
