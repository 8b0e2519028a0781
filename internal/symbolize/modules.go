// Package symbolize turns a core's mappings into modules (the executable, shared libraries
// and the vDSO) with their load bias and build-ids, verifies each against the file found
// on disk, and maps addresses to module + offset + function.
//
// Modules come from NT_FILE when the core has it, else from the dynamic linker's own list
// in memory (AT_PHDR -> PT_DYNAMIC -> DT_DEBUG -> r_debug -> link_map); when both exist
// they are compared and disagreements reported. A file whose build-id differs from the
// one in the core's memory is never used for symbols or code bytes unless the caller asks
// for it (AllowMismatch), and then the module says so.
//
// Offsets: a module offset is the link-time address, addr - bias, the value that
// addr2line and objdump take for that file.
package symbolize

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/dwarf/cfi"
	"github.com/coredig/coredig/internal/dwarfsym"
	"github.com/coredig/coredig/internal/ehabi"
	"github.com/coredig/coredig/internal/elfx"
	"github.com/coredig/coredig/internal/pagecache"
)

// Status says whether a module's file on disk can be trusted.
type Status string

// fileCacheBytes bounds the cache of a module file's pages (code read for unwinding and
// disassembly when the core did not dump it).
const fileCacheBytes = 8 << 20

const (
	Verified        Status = "verified"            // build-ids in core and file are equal
	Mismatch        Status = "mismatch"            // build-ids differ: the file is not used
	NoBuildIDInCore Status = "no_build_id_in_core" // the core lacks the ELF header page or note
	NoBuildIDInFile Status = "no_build_id_in_file"
	FileMissing     Status = "file_missing" // no file found on disk
	Unreadable      Status = "unreadable"   // a file was found but could not be parsed
	InMemory        Status = "in_memory"    // the whole image is in the core (the vDSO)
)

// Module is one ELF object mapped into the process.
type Module struct {
	Name        string // path as the core names it (NT_FILE, or link_map's l_name)
	Path        string // file used on disk, "" when none
	Start, End  uint64 // run-time extent of its mappings
	Base        uint64 // run-time address of the ELF header (Bias + lowest PT_LOAD vaddr)
	Bias        uint64 // run-time minus link-time addresses
	BiasKnown   bool
	BuildID     []byte // from the core's memory
	FileBuildID []byte
	Status      Status
	Source      string // "NT_FILE", "link_map", "auxv"
	IsExec      bool
	IsVDSO      bool
	Mappings    []core.FileMapping
	// Trail lists every place searched for the file and its debug info, with the verdict.
	Trail []Attempt
	// Unverified is set when a mismatched file is used because the caller allowed it.
	Unverified bool
	// Notes are human-readable remarks (how the bias was found, disagreements).
	Notes []string

	image   *elfx.Image // program headers, from memory or file
	file    *elf.File   // the trusted file (or in-memory image), nil when unusable
	ra      io.ReaderAt // raw bytes of file
	closer  io.Closer
	symOnce sync.Once
	syms    *symtab
	// names maps every defined symbol (functions and objects) to its link-time value.
	objOnce   sync.Once
	objs      *symtab           // data objects, for naming pc-relative loads and stores
	got       map[uint64]string // GOT slot -> symbol, from JUMP_SLOT/GLOB_DAT relocations
	cfiOnce   sync.Once
	cfi       []*cfi.Table
	ehabiOnce sync.Once
	ehabi     *ehabi.Table
	mapOnce   sync.Once
	armMaps   []mappingSym // 32-bit ARM's mapping symbols, by address
	debugOnce sync.Once
	debug     *elf.File // separate debug file, nil when none
	dwarfOnce sync.Once
	dwarf     *dwarfsym.Index
	dwarfErr  error
	dwarfFile *elf.File // the file dwarf was read from
	namesOnce sync.Once
	names     map[string]uint64
	// The files behind file and debug, mapped on first use for their DWARF sections.
	osFile, debugFile *os.File
	mapMu             sync.Mutex
	maps              map[*elf.File]*elfx.Mapped
	cached            []*elfx.Mapped // decompressed sections from the section cache
	// SymbolSource describes where function names come from.
	SymbolSource string
	debugPath    string
}

// BuildIDHex returns the core's build-id in hex, or "".
func (m *Module) BuildIDHex() string { return hex.EncodeToString(m.BuildID) }

// Usable reports whether the module's file may be used for symbols and code bytes.
func (m *Module) Usable() bool { return m.file != nil }

// ELF returns the trusted ELF file of the module, or nil.
func (m *Module) ELF() *elf.File { return m.file }

// DebugPath returns the separate debug file used for the module's symbols, or "".
func (m *Module) DebugPath() string { return m.debugPath }

// Attempt records one candidate file examined for a module.
type Attempt struct {
	Path   string `json:"path"`
	What   string `json:"what"`   // "executable", "debug"
	Result string `json:"result"` // "used", "wrong build-id ...", "not found", ...
	OK     bool   `json:"ok"`
}

// Finder locates files for modules. The default checks the path the core names, under
// the sysroot when one is set.
type Finder interface {
	// FindExecutable returns a path to the module's file, preferring one whose build-id
	// equals buildID; when none matches it may return the file at the core's path, which
	// the table then checks and refuses as a mismatch. It also returns every attempt.
	FindExecutable(name string, buildID []byte) (string, []Attempt)
	// FindDebug returns a separate debug file for the module.
	FindDebug(path string, buildID []byte, debuglink string, crc uint32) (string, []Attempt)
}

// Options control how modules are resolved.
type Options struct {
	Finder        Finder
	AllowMismatch bool
	// ExePath is an executable given by the user; it overrides the core's name for the
	// main program (still checked by build-id).
	ExePath string
	// Shared, when set, is shared with the Tables of other cores analysed in the same
	// process, which then build each module file's symbols and DWARF index once.
	Shared *Shared
}

// Table is the set of modules of one core.
type Table struct {
	Modules  []*Module // sorted by Start
	Warnings []string
	core     *core.Core
	opts     Options
	// linkMap is every entry of the dynamic linker's list that could be read, with or
	// without an image: where a module's ELF header is in neither the core nor a file,
	// its l_addr is the load bias.
	linkMap []linkMapEntry
}

// linkMapEntry is one struct link_map: l_name, l_addr and l_ld.
type linkMapEntry struct {
	Name          string
	Addr, Dynamic uint64
}

// Close releases open files.
func (t *Table) Close() {
	for _, m := range t.Modules {
		if m.closer != nil {
			m.closer.Close()
		}
		m.closeMaps()
		if m.debugFile != nil {
			m.debugFile.Close()
		}
	}
}

// ModuleFor returns the module whose extent contains addr, or nil.
func (t *Table) ModuleFor(addr uint64) *Module {
	i := sort.Search(len(t.Modules), func(i int) bool { return t.Modules[i].End > addr })
	if i < len(t.Modules) && t.Modules[i].Start <= addr {
		return t.Modules[i]
	}
	return nil
}

// Executable returns the main program's module, or nil.
func (t *Table) Executable() *Module {
	for _, m := range t.Modules {
		if m.IsExec {
			return m
		}
	}
	return nil
}

func (t *Table) warnf(format string, args ...any) {
	t.Warnings = append(t.Warnings, fmt.Sprintf(format, args...))
}

// memReader adapts core memory at a base address to io.ReaderAt.
type memReader struct {
	c    *core.Core
	base uint64
}

func (r memReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset")
	}
	n, err := r.c.ReadAt(p, r.base+uint64(off))
	if n < len(p) && err == nil {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Load builds the module table of a core.
func Load(c *core.Core, opts Options) *Table {
	if opts.Finder == nil {
		opts.Finder = PathFinder{}
	}
	t := &Table{core: c, opts: opts}
	fromFile := t.modulesFromNTFile()
	fromLinkMap, lmErr := t.modulesFromLinkMap()
	switch {
	case len(fromFile) > 0:
		t.Modules = fromFile
	case len(fromLinkMap) > 0:
		t.Modules = fromLinkMap
		if c.Files == nil {
			t.warnf("the core has no NT_FILE note; modules come from the dynamic linker's list in memory")
		}
	default:
		if lmErr != nil {
			t.warnf("no modules: the core has no NT_FILE note and the dynamic linker's list could not be read: %v", lmErr)
		}
	}
	t.addVDSO()
	sort.Slice(t.Modules, func(i, j int) bool { return t.Modules[i].Start < t.Modules[j].Start })
	t.markExecutable()
	for _, m := range t.Modules {
		t.resolve(m)
	}
	if len(fromFile) > 0 && lmErr == nil {
		// After resolve: a module whose ELF header the core does not keep has its bias
		// from its file. (fromFile shares its array with t.Modules, which the vDSO was
		// added to and which was sorted since: take the NT_FILE modules from there.)
		var files []*Module
		for _, m := range t.Modules {
			if m.Source != "auxv" {
				files = append(files, m)
			}
		}
		t.compare(files, fromLinkMap)
	}
	t.biasFromLinkMap()
	return t
}

// biasUnknown ends the notes of a module whose load bias could not be found.
const biasUnknown = "; load bias unknown"

// setBias records a load bias found after the module was first read, replacing the note
// that said it was unknown with how, when given.
func (m *Module) setBias(b uint64, how string) {
	m.Bias, m.BiasKnown = b, true
	notes := m.Notes[:0]
	for _, n := range m.Notes {
		if !strings.HasSuffix(n, biasUnknown) {
			notes = append(notes, n)
		}
	}
	if how != "" {
		notes = append(notes, how)
	}
	m.Notes = notes
}

// biasFromLinkMap gives a module whose load bias is still unknown (no ELF header in the
// core, no file) the l_addr of the link_map entry whose dynamic section (l_ld) lies in
// it. l_ld, not the name, picks the entry: NT_FILE names resolve symlinks (libc-2.16.so)
// and link_map names do not (libc.so.6), and prelinked libraries share l_addr 0.
func (t *Table) biasFromLinkMap() {
	for _, m := range t.Modules {
		if m.BiasKnown || m.IsVDSO || m.Source != "NT_FILE" {
			continue
		}
		for _, e := range t.linkMap {
			if e.Dynamic >= m.Start && e.Dynamic < m.End && e.Addr <= m.Start {
				m.setBias(e.Addr, fmt.Sprintf("load bias %#x from the dynamic linker's list (%s), whose l_ld %#x lies in this module", e.Addr, e.Name, e.Dynamic))
				break
			}
		}
	}
}

// modulesFromNTFile groups NT_FILE mappings into ELF modules.
func (t *Table) modulesFromNTFile() []*Module {
	c := t.core
	var mods []*Module
	byName := map[string]*Module{}
	for _, f := range c.Files {
		m := byName[f.Name]
		// A mapping at file offset 0 after the module already has one starts a new
		// load of the same file (dlopen of a copy, or a data file mapped twice), unless
		// the loaded ELF image maps its first file page there too: where the linker
		// does not put code and data on pages of their own (riscv64 and 32-bit ARM
		// executables), the data segment's first page is file page 0 again.
		if m == nil || (f.FileOff == 0 && len(m.Mappings) > 0 && m.Mappings[0].FileOff == 0 && f.Start >= m.End &&
			!mapsFirstPageAt(c, m.Mappings[0].Start, f.Start)) {
			m = &Module{Name: f.Name, Start: f.Start, End: f.End, Source: "NT_FILE"}
			byName[f.Name] = m
			mods = append(mods, m)
		}
		m.Mappings = append(m.Mappings, f)
		m.Start = min(m.Start, f.Start)
		m.End = max(m.End, f.End)
	}
	var out []*Module
	for _, m := range mods {
		first := m.Mappings[0]
		for _, f := range m.Mappings {
			if f.FileOff < first.FileOff {
				first = f
			}
		}
		// Read the ELF header and program headers from the core's memory, where the
		// kernel normally dumps the first page of every ELF mapping.
		if first.FileOff == 0 {
			if im, err := elfx.ReadImage(memReader{c, first.Start}); err == nil {
				m.image = im
				m.BuildID = im.BuildID
			} else if at, im := headerCopy(c, m, first.Start); im != nil {
				m.image = im
				m.BuildID = im.BuildID
				m.Notes = append(m.Notes, fmt.Sprintf("ELF header read at %#x, where the data segment maps file page 0 again "+
					"(the page at %#x is not in the core)", at, first.Start))
			} else if !isNotELF(err) {
				m.Notes = append(m.Notes, fmt.Sprintf("ELF header in core memory: %v", err))
			} else {
				continue // a mapped data file, not an ELF module
			}
		}
		if m.image == nil {
			// The header page is missing (truncated or filtered): fall back to the file.
			if im := t.imageFromDisk(m.Name, false); im != nil {
				m.image = im
				m.Notes = append(m.Notes, "program headers read from the file on disk (the core lacks the ELF header page)")
			} else if t.executableMapping(m) {
				m.Notes = append(m.Notes, "ELF header not readable from the core or disk"+biasUnknown)
				m.Base = first.Start
				out = append(out, m)
				continue
			} else {
				continue // not known to be ELF: a data file such as locale-archive
			}
		}
		if b, ok := elfx.LoadBias(m.image.Progs, first.Start, first.FileOff); ok {
			m.Bias, m.BiasKnown = b, true
			if lo, ok := lowestLoad(m.image.Progs); ok {
				m.Base = b + lo
			}
		} else {
			m.Notes = append(m.Notes, fmt.Sprintf("no PT_LOAD covers file offset %#x", first.FileOff)+biasUnknown)
			m.Base = first.Start
		}
		out = append(out, m)
	}
	return out
}

// mapsFirstPageAt reports whether the ELF image whose header is at base, loaded with
// its first PT_LOAD there, maps file page 0 at addr through another PT_LOAD.
//
// The header is read at base, else (where the core lacks that page: a filtered core, or
// one whose first page of text was not dumped) from the page at addr itself, which is
// file page 0 too when the answer is yes.
func mapsFirstPageAt(c *core.Core, base, addr uint64) bool {
	im, err := elfx.ReadImage(memReader{c, base})
	if err != nil {
		if im, err = elfx.ReadImage(memReader{c, addr}); err != nil {
			return false
		}
	}
	lo, ok := lowestLoad(im.Progs)
	if !ok || base < lo {
		return false
	}
	bias := base - lo
	for _, p := range im.Progs {
		if p.Type == elf.PT_LOAD && p.Off < 0x1000 && p.Vaddr&^0xfff != lo && bias+p.Vaddr&^0xfff == addr {
			return true
		}
	}
	return false
}

// headerCopy reads a module's ELF image from another of its mappings of file page 0,
// when the one at base is not in the core. Old linkers (2 MiB max-page-size, no separate
// code pages) lay out the data segment's first page as file page 0, and the kernel dumps
// written data pages where it may skip text.
func headerCopy(c *core.Core, m *Module, base uint64) (uint64, *elfx.Image) {
	for _, f := range m.Mappings {
		if f.FileOff != 0 || f.Start == base {
			continue
		}
		if im, err := elfx.ReadImage(memReader{c, f.Start}); err == nil {
			return f.Start, im
		}
	}
	return 0, nil
}

// executableMapping reports whether any of the module's mappings is executable.
func (t *Table) executableMapping(m *Module) bool {
	for _, f := range m.Mappings {
		if seg := t.core.SegmentFor(f.Start); seg != nil && seg.Flags&elf.PF_X != 0 {
			return true
		}
	}
	return false
}

func isNotELF(err error) bool { return err == elfx.ErrNotELF }

func lowestLoad(progs []elfx.Prog) (uint64, bool) {
	var lo uint64
	found := false
	for _, p := range progs {
		if p.Type == elf.PT_LOAD && (!found || p.Vaddr < lo) {
			lo, found = p.Vaddr&^0xfff, true
		}
	}
	return lo, found
}

func (t *Table) imageFromDisk(name string, isExec bool) *elfx.Image {
	p, _ := t.findFile(name, isExec, nil)
	if p == "" {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	im, err := elfx.ReadImage(f)
	if err != nil || im.Header.Machine != t.core.Arch.Machine {
		return nil
	}
	return im
}

// addVDSO adds the vDSO from AT_SYSINFO_EHDR; its whole image is in the core.
func (t *Table) addVDSO() {
	c := t.core
	base, ok := c.AuxvValue(core.AT_SYSINFO_EHDR)
	if !ok || base == 0 {
		return
	}
	for _, m := range t.Modules {
		if m.Start <= base && base < m.End {
			m.IsVDSO = true
			return
		}
	}
	im, err := elfx.ReadImage(memReader{c, base})
	if err != nil {
		end := base + c.Arch.PageSize
		if seg := c.SegmentFor(base); seg != nil {
			end = seg.End()
		}
		t.Modules = append(t.Modules, &Module{Name: "[vdso]", Start: base, End: end, Base: base, Source: "auxv", IsVDSO: true,
			Status: Unreadable, Notes: []string{fmt.Sprintf("image not readable: %v", err)}})
		return
	}
	m := &Module{Name: "[vdso]", Start: base, End: base, Base: base, Source: "auxv", IsVDSO: true, image: im, BuildID: im.BuildID}
	lo, _ := lowestLoad(im.Progs)
	m.Bias, m.BiasKnown = base-lo, true
	for _, p := range im.Progs {
		if p.Type == elf.PT_LOAD {
			m.End = max(m.End, m.Bias+p.Vaddr+p.Memsz)
		}
	}
	if seg := c.SegmentFor(base); seg != nil {
		m.End = max(m.End, seg.End())
	}
	t.Modules = append(t.Modules, m)
}

// markExecutable marks the module holding AT_ENTRY (else AT_PHDR) as the executable.
func (t *Table) markExecutable() {
	for _, tag := range []uint64{core.AT_ENTRY, core.AT_PHDR} {
		if v, ok := t.core.AuxvValue(tag); ok {
			if m := t.ModuleFor(v); m != nil && !m.IsVDSO {
				m.IsExec = true
				return
			}
		}
	}
	if len(t.Modules) > 0 && !t.Modules[0].IsVDSO && t.core.Auxv == nil {
		t.Modules[0].IsExec = true
		t.Modules[0].Notes = append(t.Modules[0].Notes, "taken as the executable because it is mapped lowest (no auxv)")
	}
}

// resolve finds the module's file, checks its build-id and opens it.
func (t *Table) resolve(m *Module) {
	if m.IsVDSO && m.Source == "auxv" {
		if m.image == nil {
			return // recorded as unreadable by addVDSO
		}
		f, err := elf.NewFile(io.NewSectionReader(memReader{t.core, m.Base}, 0, int64(m.End-m.Base)))
		if err != nil {
			m.Status = Unreadable
			m.Notes = append(m.Notes, fmt.Sprintf("vDSO image: %v", err))
			return
		}
		m.file, m.Status = f, InMemory
		return
	}
	path, trail := t.findFile(m.Name, m.IsExec, m.BuildID)
	m.Trail = append(m.Trail, trail...)
	if path == "" {
		m.Status = FileMissing
		return
	}
	f, err := os.Open(path)
	if err != nil {
		m.Status = Unreadable
		m.Notes = append(m.Notes, err.Error())
		return
	}
	im, err := elfx.ReadImage(f)
	if err != nil {
		f.Close()
		m.Status = Unreadable
		m.Notes = append(m.Notes, fmt.Sprintf("%s: %v", path, err))
		return
	}
	if im.Header.Machine != t.core.Arch.Machine {
		f.Close()
		m.Status = FileMissing
		m.Trail = append(m.Trail, Attempt{Path: path, What: "executable", Result: fmt.Sprintf("rejected: %v, the core is %s", im.Header.Machine, t.core.Arch.Name)})
		return
	}
	m.Path = path
	m.FileBuildID = im.BuildID
	switch {
	case m.BuildID == nil:
		m.Status = NoBuildIDInCore
	case im.BuildID == nil:
		m.Status = NoBuildIDInFile
	case bytes.Equal(m.BuildID, im.BuildID):
		m.Status = Verified
	default:
		m.Status = Mismatch
	}
	if m.Status == Mismatch && !t.opts.AllowMismatch {
		f.Close()
		t.warnf("%s: build-id of %s is %x but the core has %x; the file is not used", m.Name, path, im.BuildID, m.BuildID)
		return
	}
	if m.Status == Mismatch {
		m.Unverified = true
	}
	if m.image == nil {
		m.image = im
		if b, ok := elfx.LoadBias(im.Progs, m.Mappings[0].Start, m.Mappings[0].FileOff); ok && len(m.Mappings) > 0 {
			m.setBias(b, "")
		}
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		f.Close()
		m.Status = Unreadable
		m.Notes = append(m.Notes, fmt.Sprintf("%s: %v", path, err))
		return
	}
	m.file, m.closer, m.osFile, m.ra = ef, f, f, pagecache.New(f, fileCacheBytes)
}

// compare reports disagreements between NT_FILE modules and the link_map list.
func (t *Table) compare(fromFile, fromLinkMap []*Module) {
	for _, lm := range fromLinkMap {
		if lm.Name == "" || strings.HasPrefix(lm.Name, "linux-vdso") || strings.HasPrefix(lm.Name, "linux-gate") {
			continue // the vDSO has no file mapping; it is added from AT_SYSINFO_EHDR
		}
		var match *Module
		unknown := false
		for _, m := range fromFile {
			if m.BiasKnown && m.Bias == lm.Bias {
				match = m
				break
			}
			// A module whose bias is unknown (neither its ELF header nor its file at
			// hand) may be this one: a prelinked library's l_addr is 0.
			unknown = unknown || !m.BiasKnown && !m.IsVDSO && m.Start >= lm.Bias
		}
		switch {
		case match == nil && unknown:
		case match == nil:
			t.warnf("the dynamic linker lists %s at bias %#x, which no NT_FILE mapping matches", lm.Name, lm.Bias)
		case filepath.Base(match.Name) != filepath.Base(lm.Name):
			// Symlinked names (libc.so.6 vs libc-2.36.so) are expected; only note them.
			match.Notes = append(match.Notes, fmt.Sprintf("the dynamic linker calls it %s", lm.Name))
		}
	}
}

// findFile locates a module's file: the executable the user named for the main program,
// else whatever the Finder finds.
func (t *Table) findFile(name string, isExec bool, buildID []byte) (string, []Attempt) {
	if isExec && t.opts.ExePath != "" {
		return t.opts.ExePath, []Attempt{{Path: t.opts.ExePath, What: "executable", Result: "given on the command line", OK: true}}
	}
	return t.opts.Finder.FindExecutable(name, buildID)
}
