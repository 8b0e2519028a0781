package symbolize

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/ianlancetaylor/demangle"
	"github.com/ulikunitz/xz"
)

// maxSymbols caps one module's symbol table.
const maxSymbols = 4 << 20

type sym struct {
	addr, size uint64 // link-time address
	name       string
	bind       elf.SymBind
	mode       uint64 // the instruction-set bit of the symbol's value, cleared from addr
	// secEnd is the link-time end of the symbol's section, 0 when unknown: a symbol
	// without a size (crt1's _start on ARM) names addresses up to the next symbol, within
	// its section.
	secEnd uint64
}

type symtab struct {
	syms []sym // sorted by addr; aliases collapsed to the preferred name
}

// Symbol is the answer for one address.
type Symbol struct {
	Module       *Module
	ModuleOffset uint64 // link-time address (addr - bias)
	Function     string // demangled; "" when no symbol covers the address
	RawName      string // the name as in the symbol table
	FuncOffset   uint64
	FuncStart    uint64 // run-time address of the function
	FuncSize     uint64
	// FuncMode is the bit of the function symbol's value that selects its instruction set
	// rather than an address (32-bit ARM: 1 for a Thumb function), cleared from FuncStart.
	FuncMode uint64
}

// Lookup maps a run-time address to module, offset and function. The nearest preceding
// function symbol is used when the address falls inside its size; a symbol without a size
// (assembly such as crt1's _start on 32-bit ARM) names the addresses from its own up to
// the next symbol or the end of its section, as gdb's minimal symbols and addr2line do,
// when no sized symbol covers the address.
func (t *Table) Lookup(addr uint64) Symbol {
	s, st, i := t.below(addr)
	if st == nil {
		return s
	}
	rel := s.ModuleOffset
	// Walk back over zero-size or non-covering symbols at most a few steps: a covering
	// symbol can precede a smaller one that ends before rel (nested or overlapping sizes).
	for j, k := i, 0; j >= 0 && k < 8; j, k = j-1, k+1 {
		y := st.syms[j]
		if rel >= y.addr && rel < y.addr+y.size || y.size == 0 && rel == y.addr {
			return s.named(y)
		}
	}
	// No sized symbol covers rel: the nearest symbol below it, if it has no size, runs up
	// to the next symbol (whose address is above rel) or the end of its section.
	if i >= 0 && st.syms[i].size == 0 && rel < st.syms[i].secEnd {
		return s.named(st.syms[i])
	}
	return s
}

// Preceding returns the nearest function symbol at or below a run-time address in its
// module, whether or not its size covers the address (Function is "" when there is none).
// It is for code known to follow a symbol's sized body, such as 32-bit ARM glibc's clone
// child after __clone; Lookup is what names an address.
func (t *Table) Preceding(addr uint64) Symbol {
	s, st, i := t.below(addr)
	if st == nil || i < 0 {
		return s
	}
	return s.named(st.syms[i])
}

// below finds addr's module and the index of the last of its symbols at or below addr
// (-1 when none is); s names the module and the offset only. st is nil without a module
// or symbols.
func (t *Table) below(addr uint64) (s Symbol, st *symtab, i int) {
	m := t.ModuleFor(addr)
	if m == nil {
		return Symbol{}, nil, -1
	}
	s = Symbol{Module: m, ModuleOffset: addr - m.Bias}
	if st = m.symbols(t); st == nil {
		return s, nil, -1
	}
	rel := s.ModuleOffset
	return s, st, sort.Search(len(st.syms), func(i int) bool { return st.syms[i].addr > rel }) - 1
}

// named is s with its function taken from symbol y of s's module.
func (s Symbol) named(y sym) Symbol {
	s.RawName, s.Function, s.FuncOffset = y.name, Demangle(y.name), s.ModuleOffset-y.addr
	s.FuncStart, s.FuncSize, s.FuncMode = y.addr+s.Module.Bias, y.size, y.mode
	return s
}

// FindSymbol returns the run-time address of a named function or object symbol in any
// module, searching the executable first.
func (t *Table) FindSymbol(name string) (uint64, *Module, bool) {
	order := make([]*Module, 0, len(t.Modules))
	if e := t.Executable(); e != nil {
		order = append(order, e)
	}
	for _, m := range t.Modules {
		if !m.IsExec {
			order = append(order, m)
		}
	}
	for _, m := range order {
		if addr, ok := m.findByName(t, name); ok {
			return addr, m, true
		}
	}
	return 0, nil, false
}

// FindSymbolIn is FindSymbol restricted to one module, so that asking does not load
// every module's symbol table.
func (t *Table) FindSymbolIn(m *Module, name string) (uint64, bool) {
	return m.findByName(t, name)
}

func (m *Module) findByName(t *Table, name string) (uint64, bool) {
	m.namesOnce.Do(func() {
		if m.symbols(t) == nil {
			return
		}
		m.names = map[string]uint64{}
		add := func(get func() ([]elf.Symbol, error)) {
			syms, _ := get()
			for _, y := range syms {
				if y.Section == elf.SHN_UNDEF || y.Name == "" || len(m.names) >= maxSymbols {
					continue
				}
				if _, ok := m.names[y.Name]; !ok {
					m.names[y.Name] = y.Value
					if elf.ST_TYPE(y.Info) == elf.STT_FUNC {
						m.names[y.Name] &^= modeMask(m.file)
					}
				}
			}
		}
		add(m.file.DynamicSymbols)
		add(m.file.Symbols)
		if dbg := m.debugELF(t); dbg != nil {
			add(dbg.Symbols) // internal names (__GI_*, static functions) live only here
		}
	})
	v, ok := m.names[name]
	return v + m.Bias, ok
}

// Demangle returns the demangled C++ or Rust name, or name itself. A C++ name keeps its
// parameter types and qualifiers ("crasher::level1(int)", "std::ctype<char>::do_widen(char)
// const"), as eu-stack and gdb print them: overloads differ only there. GCC's clone
// suffixes (" [clone .cold]") are dropped: the part of a function GCC split off is still
// that function.
func Demangle(name string) string {
	if !strings.HasPrefix(name, "_Z") && !strings.HasPrefix(name, "_R") {
		return name
	}
	if d, err := demangle.ToString(name, demangle.NoClones); err == nil {
		return d
	}
	return name
}

// symbols loads the module's function symbols once: the separate debug file's .symtab
// when found (it names internal functions such as libc's __strlen_evex), the file's
// .symtab, and .dynsym, merged.
func (m *Module) symbols(t *Table) *symtab {
	m.symOnce.Do(func() {
		if m.file == nil {
			return
		}
		e := t.opts.Shared.file(m.osFile)
		if e == nil {
			m.buildSymbols(t)
			return
		}
		dbgPath := ""
		if m.debugELF(t) != nil {
			dbgPath = m.debugPath
		}
		built := false
		e.symOnce.Do(func() {
			built = true
			n := len(m.Notes)
			m.buildSymbols(t)
			e.debugPath, e.syms, e.source = dbgPath, m.syms, m.SymbolSource
			e.notes = append([]string(nil), m.Notes[n:]...)
		})
		switch {
		case built:
		case e.debugPath == dbgPath:
			m.syms, m.SymbolSource = e.syms, e.source
			m.Notes = append(m.Notes, e.notes...)
		default: // another debug file was found for the same file: not the same symbols
			m.buildSymbols(t)
		}
	})
	return m.syms
}

// buildSymbols reads the module's function symbols (see symbols).
func (m *Module) buildSymbols(t *Table) {
	var all []sym
	var sources []string
	mask := modeMask(m.file)
	if dbg := m.debugELF(t); dbg != nil {
		if s := funcSyms(dbg.Symbols, mask, dbg.Sections); len(s) > 0 {
			all = append(all, s...)
			sources = append(sources, "debug file .symtab")
		}
	}
	if s := funcSyms(m.file.Symbols, mask, m.file.Sections); len(s) > 0 {
		all = append(all, s...)
		sources = append(sources, ".symtab")
	} else if mini, err := miniDebugInfo(m.file); mini != nil {
		if s := funcSyms(mini.Symbols, mask, mini.Sections); len(s) > 0 {
			all = append(all, s...)
			sources = append(sources, "MiniDebugInfo .symtab")
		}
	} else if err != nil {
		m.Notes = append(m.Notes, err.Error())
	}
	if s := funcSyms(m.file.DynamicSymbols, mask, m.file.Sections); len(s) > 0 {
		all = append(all, s...)
		sources = append(sources, ".dynsym")
	}
	if s := pltSyms(m.file); len(s) > 0 {
		all = append(all, s...)
		sources = append(sources, "PLT")
	}
	m.SymbolSource = strings.Join(sources, " + ")
	if len(all) == 0 {
		m.SymbolSource = "none"
	}
	m.syms = buildSymtab(all)
}

// debugELF returns the module's separate debug file, opened once and kept.
func (m *Module) debugELF(t *Table) *elf.File {
	m.debugOnce.Do(func() { m.debug = m.openDebug(t) })
	return m.debug
}

// openDebug finds and opens the separate debug file for the module, recording the trail.
func (m *Module) openDebug(t *Table) *elf.File {
	id := m.FileBuildID
	if id == nil {
		id = m.BuildID
	}
	link, crc := debuglink(m.file)
	path, trail := t.opts.Finder.FindDebug(m.Path, id, link, crc)
	m.Trail = append(m.Trail, trail...)
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		f.Close()
		return nil
	}
	m.debugPath, m.debugFile = path, f
	return ef
}

// debuglink returns the .gnu_debuglink file name and CRC, if any.
func debuglink(f *elf.File) (string, uint32) {
	s := f.Section(".gnu_debuglink")
	if s == nil || s.Size > 4096 {
		return "", 0
	}
	b, err := s.Data()
	if err != nil {
		return "", 0
	}
	i := 0
	for i < len(b) && b[i] != 0 {
		i++
	}
	name := string(b[:i])
	off := (i + 4) &^ 3
	if off+4 > len(b) {
		return name, 0
	}
	return name, f.ByteOrder.Uint32(b[off:])
}

// modeMask is the bit of a function symbol's value that is not part of its address: bit 0
// on 32-bit ARM, set for Thumb code ("ELF for the Arm Architecture", ARM IHI 0044, §5.5.3).
func modeMask(f *elf.File) uint64 {
	if f.Machine == elf.EM_ARM {
		return 1
	}
	return 0
}

// funcSyms returns the function symbols of a table, with the bits of mask (modeMask)
// moved from their values to their mode, and the end of each one's section from secs (the
// section headers of the file the table is in).
func funcSyms(get func() ([]elf.Symbol, error), mask uint64, secs []*elf.Section) []sym {
	syms, err := get()
	if err != nil {
		return nil
	}
	var out []sym
	for _, y := range syms {
		typ := elf.ST_TYPE(y.Info)
		// An untyped symbol in code is an assembly label (glibc's s390x clone.S
		// thread_start, the clone child), which gdb's minimal symbols and eu-stack name
		// too; it names only what no sized function covers (Lookup). "$"-names are the
		// Arm ELF ABI's mapping symbols ($a, $t, $d, $x), not labels.
		label := typ == elf.STT_NOTYPE && y.Size == 0 && !strings.HasPrefix(y.Name, "$")
		if (typ != elf.STT_FUNC && typ != elf.STT_GNU_IFUNC && !label) || y.Section == elf.SHN_UNDEF || y.Value == 0 || y.Name == "" {
			continue
		}
		v := sym{addr: y.Value &^ mask, size: y.Size, name: y.Name, bind: elf.ST_BIND(y.Info), mode: y.Value & mask}
		if n := int(y.Section); y.Section < elf.SHN_LORESERVE && n < len(secs) {
			if sec := secs[n]; sec.Flags&elf.SHF_EXECINSTR != 0 && sec.Addr <= v.addr && v.addr < sec.Addr+sec.Size {
				v.secEnd = sec.Addr + sec.Size
			}
		}
		if label && v.secEnd == 0 {
			continue // not in a code section (linker-defined markers such as _end)
		}
		out = append(out, v)
		if len(out) >= maxSymbols {
			break
		}
	}
	return out
}

func bindRank(b elf.SymBind) int {
	switch b {
	case elf.STB_GLOBAL:
		return 0
	case elf.STB_WEAK:
		return 1
	}
	return 2
}

// buildSymtab sorts symbols and collapses aliases at one address: the largest size wins,
// then global over weak over local, then the name without leading underscores.
func buildSymtab(all []sym) *symtab {
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.addr != b.addr {
			return a.addr < b.addr
		}
		if a.size != b.size {
			return a.size > b.size
		}
		if bindRank(a.bind) != bindRank(b.bind) {
			return bindRank(a.bind) < bindRank(b.bind)
		}
		ua, ub := strings.HasPrefix(a.name, "_"), strings.HasPrefix(b.name, "_")
		if ua != ub {
			return !ua
		}
		return a.name < b.name
	})
	out := all[:0]
	for i, y := range all {
		if i > 0 && y.addr == out[len(out)-1].addr {
			continue
		}
		out = append(out, y)
	}
	return &symtab{syms: out}
}

// maxMiniDebugInfo caps the decompressed size of a .gnu_debugdata section.
const maxMiniDebugInfo = 256 << 20

// miniDebugInfo opens the xz-compressed ELF file in .gnu_debugdata (Fedora's
// MiniDebugInfo: a .symtab of the functions .dynsym lacks), or returns nil when there is
// none.
func miniDebugInfo(f *elf.File) (*elf.File, error) {
	sec := f.Section(".gnu_debugdata")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	if sec.Size > maxMiniDebugInfo {
		return nil, fmt.Errorf(".gnu_debugdata is %d bytes, over the limit", sec.Size)
	}
	return openMiniDebugInfo(sec.Open())
}

// openMiniDebugInfo decompresses the xz stream of a .gnu_debugdata section, at most
// maxMiniDebugInfo bytes of it, and reads it as an ELF file.
func openMiniDebugInfo(r io.Reader) (*elf.File, error) {
	zr, err := xz.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf(".gnu_debugdata: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, maxMiniDebugInfo+1))
	if err != nil {
		return nil, fmt.Errorf(".gnu_debugdata: %w", err)
	}
	if len(b) > maxMiniDebugInfo {
		return nil, fmt.Errorf(".gnu_debugdata decompresses to more than %d bytes", maxMiniDebugInfo)
	}
	mini, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf(".gnu_debugdata: %w", err)
	}
	return mini, nil
}

// Section names the allocated ELF section of the module file that holds a run-time
// address (".text", ".rodata", ".data.rel.ro"), or "" when unknown.
func (t *Table) Section(addr uint64) string {
	m := t.ModuleFor(addr)
	if m == nil || m.file == nil {
		return ""
	}
	rel := addr - m.Bias
	for _, s := range m.file.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NULL && rel >= s.Addr && rel < s.Addr+s.Size {
			return s.Name
		}
	}
	return ""
}

// LookupData names the data object (STT_OBJECT) holding a run-time address
// ("runtime_signals", "runtime_signals+0x8"), or the GOT slot it is ("runtime_signals@got"),
// or "" when neither.
func (t *Table) LookupData(addr uint64) string {
	m := t.ModuleFor(addr)
	if m == nil || m.file == nil {
		return ""
	}
	m.objOnce.Do(func() {
		var all []sym
		for _, get := range []func() ([]elf.Symbol, error){m.file.DynamicSymbols, m.file.Symbols} {
			syms, _ := get()
			for _, y := range syms {
				if elf.ST_TYPE(y.Info) == elf.STT_OBJECT && y.Section != elf.SHN_UNDEF && y.Size > 0 && y.Name != "" && len(all) < maxSymbols {
					all = append(all, sym{addr: y.Value, size: y.Size, name: y.Name, bind: elf.ST_BIND(y.Info)})
				}
			}
		}
		m.objs = buildSymtab(all)
		m.got = gotSlots(m.file)
	})
	rel := addr - m.Bias
	if name, ok := m.got[rel]; ok {
		return name + "@got" // the GOT slot a PIC load goes through
	}
	syms := m.objs.syms
	i := sort.Search(len(syms), func(i int) bool { return syms[i].addr > rel }) - 1
	if i < 0 || rel >= syms[i].addr+syms[i].size {
		return ""
	}
	if rel == syms[i].addr {
		return syms[i].name
	}
	return fmt.Sprintf("%s+%#x", syms[i].name, rel-syms[i].addr)
}

// mappingSym is one 32-bit ARM mapping symbol: kind 'a' (A32), 't' (Thumb) or 'd' (data)
// from link-time addr on, in section shndx.
type mappingSym struct {
	addr  uint64
	kind  byte
	shndx elf.SectionIndex
}

// MappingSymbol names the 32-bit ARM mapping symbol that governs a run-time address:
// "$a" (A32 code), "$t" (Thumb code) or "$d" (data, such as a literal pool), the nearest
// at or before it in the same section of its module's symbol table ("ELF for the Arm
// Architecture", IHI 0044, 5.5.5; a ".suffix" is dropped). "" when there is none: a
// stripped file, or another architecture.
func (t *Table) MappingSymbol(addr uint64) string {
	m := t.ModuleFor(addr)
	if m == nil || m.file == nil || m.file.Machine != elf.EM_ARM {
		return ""
	}
	m.mapOnce.Do(func() {
		syms, _ := m.file.Symbols()
		for _, y := range syms {
			if len(m.armMaps) >= maxSymbols {
				break
			}
			base, _, _ := strings.Cut(y.Name, ".")
			if len(base) != 2 || base[0] != '$' || (base[1] != 'a' && base[1] != 't' && base[1] != 'd') ||
				elf.ST_TYPE(y.Info) != elf.STT_NOTYPE || y.Section == elf.SHN_UNDEF || y.Section >= elf.SHN_LORESERVE {
				continue
			}
			m.armMaps = append(m.armMaps, mappingSym{addr: y.Value, kind: base[1], shndx: y.Section})
		}
		sort.SliceStable(m.armMaps, func(i, j int) bool { return m.armMaps[i].addr < m.armMaps[j].addr })
	})
	rel := addr - m.Bias
	i := sort.Search(len(m.armMaps), func(i int) bool { return m.armMaps[i].addr > rel }) - 1
	if i < 0 {
		return ""
	}
	y := m.armMaps[i]
	if int(y.shndx) >= len(m.file.Sections) {
		return ""
	}
	if sec := m.file.Sections[y.shndx]; rel < sec.Addr || rel-sec.Addr >= sec.Size {
		return "" // the symbol's section ends before the address
	}
	return "$" + string(y.kind)
}
