package symbolize

import (
	"debug/elf"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/elfx"
)

// Limits for walking the dynamic linker's structures in a possibly corrupted process.
const (
	maxDynEntries = 4096
	maxLinkMaps   = 4096
	maxNameLen    = 4096
)

// modulesFromLinkMap walks AT_PHDR -> PT_DYNAMIC -> DT_DEBUG -> r_debug -> link_map
// (glibc elf/link.h; the layout of struct r_debug and struct link_map is part of the
// debugger interface and the same for every glibc and musl on 64-bit targets).
func (t *Table) modulesFromLinkMap() ([]*Module, error) {
	c := t.core
	a := c.Arch
	w := uint64(a.PtrSize)
	phdr, ok := c.AuxvValue(core.AT_PHDR)
	if !ok {
		return nil, fmt.Errorf("no AT_PHDR in the auxiliary vector")
	}
	phnum, _ := c.AuxvValue(core.AT_PHNUM)
	phent, _ := c.AuxvValue(core.AT_PHENT)
	if phnum == 0 || phnum > 4096 || (phent != 56 && phent != 32) {
		return nil, fmt.Errorf("AT_PHNUM %d / AT_PHENT %d are not plausible", phnum, phent)
	}
	exeName := ""
	if fn, ok := c.AuxvValue(core.AT_EXECFN); ok {
		exeName, _, _ = c.ReadCString(fn, maxNameLen)
	}
	if exeName == "" && c.PsInfo != nil && c.PsInfo.Args != "" {
		exeName = strings.Fields(c.PsInfo.Args)[0]
	}
	var progs []elfx.Prog
	h := &elfx.Header{Class: elf.ELFCLASS64, ByteOrder: a.ByteOrder, PhEntSize: uint16(phent), PhNum: uint32(phnum)}
	if w == 4 {
		h.Class = elf.ELFCLASS32
	}
	buf := make([]byte, phnum*phent)
	if err := c.ReadFull(buf, phdr); err == nil {
		if progs, err = elfx.ReadProgs(bytesReader(buf), h); err != nil {
			return nil, err
		}
	} else if im := t.imageFromDisk(exeName, true); im != nil {
		// qemu-user and filtered cores do not dump text pages: take the program
		// headers from the executable on disk (its build-id is checked later).
		progs, h = im.Progs, im.Header
	} else {
		return nil, fmt.Errorf("executable's program headers at %#x: %w (and %q was not found on disk)", phdr, err, exeName)
	}
	if _, ok := findProg(progs, elf.PT_LOAD); !ok {
		return nil, fmt.Errorf("the executable's program headers at %#x hold no PT_LOAD", phdr)
	}
	var exeBias uint64
	biasFound := false
	for _, p := range progs {
		if p.Type == elf.PT_PHDR {
			exeBias, biasFound = phdr-p.Vaddr, true
		}
	}
	if !biasFound {
		for _, p := range progs {
			if p.Type == elf.PT_LOAD && p.Off == 0 {
				// The program headers follow the ELF header in the first segment
				// (e_phoff is the header's size: 64 bytes for ELFCLASS64, 52 for
				// ELFCLASS32, as linkers lay them out; System V gABI, "ELF Header").
				exeBias, biasFound = phdr-(p.Vaddr+ehdrSize(h.Class)), true
				break
			}
		}
	}
	exe := &Module{Name: exeName, Source: "link_map", IsExec: true, Bias: exeBias, BiasKnown: biasFound, image: &elfx.Image{Header: h, Progs: progs}}
	setExtent(exe)
	if im, err := elfx.ReadImage(memReader{c, exe.Base}); err == nil {
		exe.BuildID = im.BuildID
	}
	mods := []*Module{exe}

	dyn, ok := findProg(progs, elf.PT_DYNAMIC)
	if !ok {
		return mods, nil // statically linked
	}
	var rdebug uint64
	for i := uint64(0); i < maxDynEntries; i++ {
		tag, err1 := c.ReadPtr(exeBias + dyn.Vaddr + i*2*w)
		val, err2 := c.ReadPtr(exeBias + dyn.Vaddr + i*2*w + w)
		if err1 != nil || err2 != nil {
			return mods, fmt.Errorf("dynamic section at %#x: %v", exeBias+dyn.Vaddr, firstErr(err1, err2))
		}
		if tag == uint64(elf.DT_NULL) {
			break
		}
		if tag == uint64(elf.DT_DEBUG) {
			rdebug = val
		}
	}
	if rdebug == 0 {
		return mods, fmt.Errorf("DT_DEBUG is 0: the dynamic linker had not started or the binary is static")
	}
	lm, err := c.ReadPtr(rdebug + w) // r_map follows the int r_version, padded to a word
	if err != nil {
		return mods, fmt.Errorf("r_debug at %#x: %w", rdebug, err)
	}
	seen := map[uint64]bool{}
	for i := 0; lm != 0 && i < maxLinkMaps; i++ {
		if seen[lm] {
			return mods, fmt.Errorf("link_map list loops at %#x", lm)
		}
		seen[lm] = true
		laddr, err1 := c.ReadPtr(lm)
		lname, err2 := c.ReadPtr(lm + w)
		lld, err4 := c.ReadPtr(lm + 2*w)
		next, err3 := c.ReadPtr(lm + 3*w)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return mods, fmt.Errorf("link_map entry at %#x: %w", lm, err)
		}
		name := ""
		if lname != 0 {
			name, _, _ = c.ReadCString(lname, maxNameLen)
		}
		if name == "" && i > 0 {
			// The loader's own entry points its name into the executable's .interp,
			// which is not dumped when text pages are not (qemu-user cores).
			if base, ok := c.AuxvValue(core.AT_BASE); ok && base == laddr {
				name = t.interpName(exeName, progs, exeBias)
			}
		}
		if i > 0 {
			t.linkMap = append(t.linkMap, linkMapEntry{Name: name, Addr: laddr, Dynamic: lld})
		}
		if i > 0 || name != "" { // the first entry, with an empty name, is the executable
			m := &Module{Name: name, Source: "link_map", Bias: laddr, BiasKnown: true}
			// Shared objects are linked at 0, so their ELF header usually sits at l_addr;
			// a prelinked one's (l_addr 0) is where its first segment was mapped.
			if im := t.linkMapImage(laddr, lld); im != nil {
				m.image, m.BuildID = im, im.BuildID
			} else if im := t.imageFromDisk(name, false); im != nil && lld != 0 && dynamicAt(im, laddr, lld) {
				// Only a file whose dynamic section lands on l_ld: every loaded object
				// has one, and a file that is not the process's (the host's ld.so for a
				// core from elsewhere) would otherwise be placed at a wrong address.
				m.image = im
			}
			setExtent(m)
			if m.image != nil {
				mods = append(mods, m)
			}
		}
		lm = next
	}
	return mods, nil
}

// ehdrSize is the size of the ELF header of a class (Elf64_Ehdr, Elf32_Ehdr).
func ehdrSize(c elf.Class) uint64 {
	if c == elf.ELFCLASS32 {
		return 52
	}
	return 64
}

func setExtent(m *Module) {
	if m.image == nil {
		m.Start, m.End, m.Base = m.Bias, m.Bias+1, m.Bias
		return
	}
	first := true
	for _, p := range m.image.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		lo, hi := m.Bias+p.Vaddr&^0xfff, m.Bias+p.Vaddr+p.Memsz
		if first || lo < m.Start {
			m.Start = lo
		}
		if first || hi > m.End {
			m.End = hi
		}
		first = false
	}
	m.Base = m.Start
}

// maxHeaderSearch bounds how many segments below its dynamic section linkMapImage looks
// at for a module's ELF header.
const maxHeaderSearch = 8

// linkMapImage reads the ELF image of a link_map entry from memory: at l_addr, else at
// the start of one of the segments at or below l_ld (a prelinked library's l_addr is 0,
// glibc elf/link.h), taking an image only when its PT_DYNAMIC, moved by l_addr, is l_ld.
func (t *Table) linkMapImage(laddr, lld uint64) *elfx.Image {
	c := t.core
	if im, err := elfx.ReadImage(memReader{c, laddr}); err == nil && (lld == 0 || dynamicAt(im, laddr, lld)) {
		return im
	}
	if lld == 0 {
		return nil
	}
	i := sort.Search(len(c.Segments), func(i int) bool { return c.Segments[i].End() > lld })
	for k := 0; k < maxHeaderSearch && i-k >= 0 && i-k < len(c.Segments); k++ {
		s := c.Segments[i-k]
		if im, err := elfx.ReadImage(memReader{c, s.Vaddr}); err == nil && dynamicAt(im, laddr, lld) {
			return im
		}
	}
	return nil
}

// dynamicAt reports whether an image's dynamic section lies at lld once moved by laddr
// (an image without one cannot be told wrong).
func dynamicAt(im *elfx.Image, laddr, lld uint64) bool {
	dyn, ok := findProg(im.Progs, elf.PT_DYNAMIC)
	return !ok || lld == 0 || laddr+dyn.Vaddr == lld
}

func findProg(progs []elfx.Prog, t elf.ProgType) (elfx.Prog, bool) {
	for _, p := range progs {
		if p.Type == t {
			return p, true
		}
	}
	return elfx.Prog{}, false
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

type bytesReader []byte

func (b bytesReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) {
		return 0, fmt.Errorf("offset %d out of range", off)
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, fmt.Errorf("short read")
	}
	return n, nil
}

// interpName returns the program interpreter named by PT_INTERP, from memory or from the
// executable on disk.
func (t *Table) interpName(exeName string, progs []elfx.Prog, bias uint64) string {
	p, ok := findProg(progs, elf.PT_INTERP)
	if !ok || p.Filesz == 0 || p.Filesz > maxNameLen {
		return ""
	}
	if s, _, err := t.core.ReadCString(bias+p.Vaddr, int(p.Filesz)); err == nil && s != "" {
		return s
	}
	path, _ := t.findFile(exeName, true, nil)
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, p.Filesz)
	if n, _ := f.ReadAt(b, int64(p.Off)); n < len(b) {
		return ""
	}
	return cstr(b)
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
