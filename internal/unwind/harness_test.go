package unwind

import (
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

	"github.com/ianlancetaylor/demangle"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/dwarf/cfi"
	"github.com/coredig/coredig/internal/testcore"
)

func TestMain(m *testing.M) { os.Exit(testcore.Main(m)) }

// testModule is a minimal stand-in for internal/symbolize: one mapped ELF file with its
// load bias, CFI tables and function symbols (from the debug file found by build-id when
// there is one, as gdb does).
type testModule struct {
	name       string
	start, end uint64 // run-time range of its mappings
	bias       uint64
	tables     []CFI
	syms       []sym
}

type sym struct {
	addr, size uint64
	name       string
}

type testProcess struct {
	a    *arch.Arch
	c    *core.Core
	mods []*testModule
}

func (p *testProcess) module(pc uint64) *testModule {
	for _, m := range p.mods {
		if pc >= m.start && pc < m.end {
			return m
		}
	}
	return nil
}

func (p *testProcess) CFI(pc uint64) []CFI {
	if m := p.module(pc); m != nil {
		return m.tables
	}
	return nil
}

func (p *testProcess) Executable(addr uint64) bool {
	s := p.c.SegmentFor(addr)
	return s != nil && s.Flags&elf.PF_X != 0
}

// funcName names the function containing pc, "??" when unknown.
func (p *testProcess) funcName(pc uint64) string {
	m := p.module(pc)
	if m == nil {
		return "??"
	}
	a := pc - m.bias
	i := sort.Search(len(m.syms), func(i int) bool { return m.syms[i].addr > a }) - 1
	for ; i >= 0; i-- {
		s := m.syms[i]
		if a < s.addr+max(s.size, 1) {
			return s.name
		}
		if s.size != 0 {
			break
		}
	}
	return "??"
}

// fileBacking reads not-dumped file-backed pages from the mapped files (NT_FILE).
type fileBacking struct {
	files   []core.FileMapping
	sysroot string
}

func (b *fileBacking) ReadBacked(p []byte, addr uint64) (int, error) {
	for _, f := range b.files {
		if addr >= f.Start && addr < f.End {
			h, err := os.Open(hostPath(b.sysroot, f.Name))
			if err != nil {
				return 0, err
			}
			defer h.Close()
			n := min(uint64(len(p)), f.End-addr)
			return h.ReadAt(p[:n], int64(f.FileOff+addr-f.Start))
		}
	}
	return 0, fmt.Errorf("no file maps %#x", addr)
}

func hostPath(sysroot, name string) string {
	if sysroot != "" {
		if _, err := os.Stat(filepath.Join(sysroot, name)); err == nil {
			return filepath.Join(sysroot, name)
		}
		if _, err := os.Stat(filepath.Join(sysroot, "lib", filepath.Base(name))); err == nil {
			return filepath.Join(sysroot, "lib", filepath.Base(name))
		}
	}
	return name
}

// openProcess reads a test core with everything the unwinder needs.
func openProcess(t *testing.T, tc *testcore.Core) *testProcess {
	t.Helper()
	c, err := core.Open(tc.Path)
	if err != nil {
		t.Fatalf("core.Open(%s): %v", tc.Path, err)
	}
	t.Cleanup(func() { c.Close() })
	files := c.Files
	if len(files) == 0 {
		files = linkMapFiles(t, c, tc)
	}
	c.SetBacking(&fileBacking{files: files, sysroot: tc.Sysroot})
	p := &testProcess{a: c.Arch, c: c}
	byName := map[string][]core.FileMapping{}
	var names []string
	for _, f := range files {
		if _, ok := byName[f.Name]; !ok {
			names = append(names, f.Name)
		}
		byName[f.Name] = append(byName[f.Name], f)
	}
	for _, n := range names {
		maps := byName[n]
		m := &testModule{name: n, start: maps[0].Start, end: maps[0].End}
		base := uint64(0)
		for _, f := range maps {
			m.start, m.end = min(m.start, f.Start), max(m.end, f.End)
			if f.FileOff == 0 && base == 0 {
				base = f.Start
			}
		}
		ef, err := elf.Open(hostPath(tc.Sysroot, n))
		if err != nil {
			continue // not an ELF file (a data file mapping)
		}
		for _, prog := range ef.Progs {
			if prog.Type == elf.PT_LOAD && prog.Off == 0 {
				m.bias = base - prog.Vaddr&^(prog.Align-1)
				break
			}
		}
		m.tables = cfiTables(t, ef, 0)
		m.syms = symbols(ef)
		if dbg := debugFile(ef); dbg != nil {
			m.syms = append(symbols(dbg), m.syms...)
			m.tables = append(m.tables, cfiTables(t, dbg, 0)[1:]...) // its .debug_frame only
			dbg.Close()
		}
		sortSyms(m)
		ef.Close()
		setBias(m)
		p.mods = append(p.mods, m)
	}
	// The vDSO from the core's own memory.
	if v, ok := c.AuxvValue(33); ok && v != 0 { // AT_SYSINFO_EHDR
		if s := c.SegmentFor(v); s != nil {
			img := make([]byte, s.End()-v)
			if _, err := c.ReadAt(img, v); err == nil {
				if ef, err := elf.NewFile(bytes.NewReader(img)); err == nil {
					m := &testModule{name: "[vdso]", start: v, end: s.End()}
					for _, prog := range ef.Progs {
						if prog.Type == elf.PT_LOAD {
							m.bias = v - prog.Vaddr
							break
						}
					}
					m.tables = cfiTables(t, ef, 0)
					m.syms = symbols(ef)
					sortSyms(m)
					setBias(m)
					p.mods = append(p.mods, m)
				}
			}
		}
	}
	return p
}

func setBias(m *testModule) {
	for i := range m.tables {
		m.tables[i].Bias = m.bias
	}
}

func sortSyms(m *testModule) {
	sort.SliceStable(m.syms, func(i, j int) bool { return m.syms[i].addr < m.syms[j].addr })
}

// cfiTables returns [.eh_frame table (or nil), .debug_frame table...].
func cfiTables(t *testing.T, ef *elf.File, _ uint64) []CFI {
	t.Helper()
	out := []CFI{{}}
	ptr := 8
	if ef.Class == elf.ELFCLASS32 {
		ptr = 4
	}
	if s := ef.Section(".eh_frame"); s != nil && s.Type != elf.SHT_NOBITS {
		data, err := s.Data()
		if err == nil {
			cfg := cfi.Config{Section: cfi.EHFrame, Data: data, Addr: s.Addr, PtrSize: ptr, Order: ef.ByteOrder}
			if h := ef.Section(".eh_frame_hdr"); h != nil && h.Type != elf.SHT_NOBITS {
				cfg.Hdr, _ = h.Data()
				cfg.HdrAddr = h.Addr
			}
			tab, err := cfi.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			out[0] = CFI{Table: tab}
		}
	}
	if s := ef.Section(".debug_frame"); s != nil && s.Type != elf.SHT_NOBITS {
		data, err := s.Data()
		if err == nil {
			tab, err := cfi.New(cfi.Config{Section: cfi.DebugFrame, Data: data, PtrSize: ptr, Order: ef.ByteOrder})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, CFI{Table: tab})
		}
	}
	return out
}

func symbols(ef *elf.File) []sym {
	var out []sym
	for _, get := range []func() ([]elf.Symbol, error){ef.Symbols, ef.DynamicSymbols} {
		ss, _ := get()
		for _, s := range ss {
			if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
				out = append(out, sym{addr: s.Value, size: s.Size, name: s.Name})
			}
		}
	}
	return out
}

// debugFile opens /usr/lib/debug/.build-id/xx/yyyy.debug for ef, or returns nil.
func debugFile(ef *elf.File) *elf.File {
	s := ef.Section(".note.gnu.build-id")
	if s == nil {
		return nil
	}
	d, err := s.Data()
	if err != nil || len(d) < 16 {
		return nil
	}
	namesz := ef.ByteOrder.Uint32(d)
	descsz := ef.ByteOrder.Uint32(d[4:])
	off := 12 + (namesz+3)&^3
	if uint64(off)+uint64(descsz) > uint64(len(d)) || descsz < 2 {
		return nil
	}
	id := fmt.Sprintf("%x", d[off:off+descsz])
	f, err := elf.Open(filepath.Join("/usr/lib/debug/.build-id", id[:2], id[2:]+".debug"))
	if err != nil {
		return nil
	}
	return f
}

// unwound is one thread's unwinding result.
type unwound struct {
	tid    int
	frames []*Frame
	names  []string
	err    error
}

func unwindAll(t *testing.T, p *testProcess, maxDepth int) []unwound {
	t.Helper()
	var out []unwound
	for _, th := range p.c.Threads {
		u := New(Config{Arch: p.a, Mem: p.c, Modules: p, MaxDepth: maxDepth}, th.Regs)
		w := unwound{tid: th.TID}
		for u.Next() {
			f := u.Frame()
			w.frames = append(w.frames, f)
			name := p.funcName(f.LookupPC())
			if f.Signal != nil {
				name = "<signal handler called>"
			}
			w.names = append(w.names, name)
		}
		w.err = u.Err()
		out = append(out, w)
	}
	return out
}

var (
	gdbThreadRE = regexp.MustCompile(`^Thread \d+ \((?:Thread 0x[0-9a-f]+ )?\(?LWP (\d+)\)`)
	gdbFrameRE  = regexp.MustCompile(`^#(\d+)\s+(?:0x([0-9a-f]+) in )?(\S+)`)
)

// gdbFrame is one physical frame of gdb's backtrace: the frames gdb shows for functions
// inlined at that pc are folded into it (gdb prints no address for the outer frames of an
// inline chain, nor for frame #0 at the start of a line).
type gdbFrame struct {
	pc    uint64
	hasPC bool
	names []string // innermost (inlined) first; the last is the real function
}

func (g gdbFrame) name() string { return g.names[len(g.names)-1] }

// gdbBacktraces runs gdb on the core and returns each thread's physical frames by tid.
func gdbBacktraces(t *testing.T, exe, corePath string, limit int) map[int][]gdbFrame {
	t.Helper()
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Fatalf("gdb is the oracle of this test and is not installed: %v", err)
	}
	bt := "thread apply all bt"
	if limit > 0 {
		bt += " " + strconv.Itoa(limit)
	}
	cmd := exec.Command("gdb", "-nx", "-batch", "-ex", "set pagination off", "-ex", bt, exe, corePath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	res := map[int][]gdbFrame{}
	tid := -1
	for _, line := range strings.Split(string(out), "\n") {
		if m := gdbThreadRE.FindStringSubmatch(line); m != nil {
			tid, _ = strconv.Atoi(m[1])
			res[tid] = nil
			continue
		}
		m := gdbFrameRE.FindStringSubmatch(line)
		if m == nil || tid < 0 {
			continue
		}
		name := m[3]
		if strings.Contains(line, "<signal handler called>") {
			name = "<signal handler called>"
		}
		fr := res[tid]
		if m[2] == "" && len(fr) > 0 && name != "<signal handler called>" &&
			fr[len(fr)-1].name() != "<signal handler called>" {
			fr[len(fr)-1].names = append(fr[len(fr)-1].names, name)
			continue
		}
		g := gdbFrame{names: []string{name}}
		if m[2] != "" {
			g.pc, _ = strconv.ParseUint(m[2], 16, 64)
			g.hasPC = true
		}
		res[tid] = append(fr, g)
	}
	if len(res) == 0 {
		t.Fatalf("no thread in gdb's output:\n%s", out)
	}
	return res
}

// sameFunction reports whether gdb's name for a frame names the function that contains
// pc in our symbol tables (gdb prefers other aliases: __GI___clone3 is clone3).
func (p *testProcess) sameFunction(pc uint64, gdbName string) bool {
	if gdbName == p.funcName(pc) || plainName(gdbName) == plainName(p.funcName(pc)) {
		return true
	}
	m := p.module(pc)
	if m == nil {
		return false
	}
	start, ok := p.funcStart(pc)
	if !ok {
		return false
	}
	for _, s := range m.syms {
		if (s.name == gdbName || plainName(s.name) == plainName(gdbName)) && s.addr+m.bias == start {
			return true
		}
	}
	return false
}

func (p *testProcess) funcStart(pc uint64) (uint64, bool) {
	m := p.module(pc)
	if m == nil {
		return 0, false
	}
	a := pc - m.bias
	i := sort.Search(len(m.syms), func(i int) bool { return m.syms[i].addr > a }) - 1
	if i < 0 {
		return 0, false
	}
	return m.syms[i].addr + m.bias, true
}

// plainName demangles a C++ symbol and drops parameters and clone suffixes, as gdb's
// "std::terminate()" and the symbol "_ZN7crasher6level1Ei.cold" ("crasher::level1") differ.
func plainName(s string) string {
	if !strings.HasPrefix(s, "_Z") {
		// GCC's local clones: "pymain_run_python.constprop.0", "level1.cold".
		if i := strings.Index(s, "."); i > 0 {
			s = s[:i]
		}
	}
	s = demangle.Filter(s, demangle.NoParams)
	if i := strings.Index(s, " [clone"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "("); i > 0 {
		s = s[:i]
	}
	return s
}

// linkMapFiles rebuilds NT_FILE-like mappings from the dynamic linker's list of loaded
// objects (r_debug.r_map, <link.h>) for cores without NT_FILE (qemu-user writes none):
// the executable is found by AT_ENTRY, r_debug by its DT_DEBUG entry.
func linkMapFiles(t *testing.T, c *core.Core, tc *testcore.Core) []core.FileMapping {
	t.Helper()
	entry, ok := c.AuxvValue(9) // AT_ENTRY
	if !ok {
		t.Fatal("core has neither NT_FILE nor AT_ENTRY")
	}
	exe, err := elf.Open(tc.Exe)
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	bias := entry - exe.Entry
	files := loadMappings(tc.Exe, tc.Exe, bias)
	ptr := func(addr uint64) uint64 {
		v, err := c.ReadPtr(addr)
		if err != nil {
			t.Fatalf("reading the link map at %#x: %v", addr, err)
		}
		return v
	}
	var rdebug uint64
	for _, prog := range exe.Progs {
		if prog.Type != elf.PT_DYNAMIC {
			continue
		}
		for a := bias + prog.Vaddr; a < bias+prog.Vaddr+prog.Memsz; a += 16 {
			if tag := ptr(a); tag == 21 { // DT_DEBUG
				rdebug = ptr(a + 8)
			} else if tag == 0 {
				break
			}
		}
	}
	if rdebug == 0 {
		t.Fatal("no DT_DEBUG in the executable's dynamic section")
	}
	lm := ptr(rdebug + 8) // r_map
	for i := 0; lm != 0 && i < 100; i++ {
		addr, nameAddr := ptr(lm), ptr(lm+8)
		name, _, err := c.ReadCString(nameAddr, 4096)
		if err == nil && name != "" {
			if _, err := os.Stat(hostPath(tc.Sysroot, name)); err == nil {
				files = append(files, loadMappings(name, hostPath(tc.Sysroot, name), addr)...)
			}
		}
		lm = ptr(lm + 24) // l_next
	}
	return files
}

// loadMappings returns the page-aligned mappings of an ELF file's PT_LOAD segments.
func loadMappings(name, host string, bias uint64) []core.FileMapping {
	f, err := elf.Open(host)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []core.FileMapping
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_LOAD {
			continue
		}
		const page = 4096
		start := (bias + prog.Vaddr) &^ (page - 1)
		out = append(out, core.FileMapping{Start: start, End: bias + prog.Vaddr + prog.Filesz,
			FileOff: prog.Off &^ (page - 1), Name: name})
	}
	return out
}
