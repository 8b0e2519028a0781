package python

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// testCore is a minimal core-backed Process for tests: memory from PT_LOAD
// segments, falling back to the mapped file (NT_FILE) for pages the kernel
// did not dump; threads from NT_PRSTATUS; symbols from the python executable
// and libpython named in NT_FILE. The real reader is internal/core.
type testCore struct {
	f       *os.File
	loads   []elf.ProgHeader
	maps    []fileMap
	files   map[string]*os.File
	threads []OSThread
	pid     uint64
	syms    map[string]uint64
}

type fileMap struct {
	start, end, off uint64
	path            string
}

const (
	ntPRSTATUS = 1
	ntFILE     = 0x46494c45
)

func openTestCore(path string) (*testCore, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, err
	}
	c := &testCore{f: f, files: map[string]*os.File{}, syms: map[string]uint64{}}
	for _, p := range ef.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			c.loads = append(c.loads, p.ProgHeader)
		case elf.PT_NOTE:
			data, err := io.ReadAll(p.Open())
			if err != nil {
				return nil, err
			}
			if err := c.notes(data); err != nil {
				return nil, err
			}
		}
	}
	if err := c.loadSymbols(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *testCore) notes(d []byte) error {
	le := binary.LittleEndian
	for len(d) >= 12 {
		nsz, dsz, typ := le.Uint32(d), le.Uint32(d[4:]), le.Uint32(d[8:])
		no := 12 + (int(nsz)+3)&^3
		if no+int(dsz) > len(d) {
			return fmt.Errorf("note overruns segment")
		}
		desc := d[no : no+int(dsz)]
		d = d[no+(int(dsz)+3)&^3:]
		switch typ {
		case ntPRSTATUS:
			if len(desc) < 112+27*8 {
				return fmt.Errorf("short NT_PRSTATUS")
			}
			tid := uint64(le.Uint32(desc[32:]))
			if c.pid == 0 {
				c.pid = tid
			}
			c.threads = append(c.threads, OSThread{TID: tid, FSBase: le.Uint64(desc[112+21*8:])})
		case ntFILE:
			n, page := le.Uint64(desc), le.Uint64(desc[8:])
			names := bytes.Split(desc[16+n*24:], []byte{0})
			for i := uint64(0); i < n; i++ {
				e := desc[16+i*24:]
				c.maps = append(c.maps, fileMap{start: le.Uint64(e), end: le.Uint64(e[8:]), off: le.Uint64(e[16:]) * page, path: string(names[i])})
			}
		}
	}
	return nil
}

func (c *testCore) loadSymbols() error {
	done := map[string]bool{}
	for _, m := range c.maps {
		base := filepath.Base(m.path)
		if done[m.path] || !(strings.HasPrefix(base, "python") || strings.HasPrefix(base, "libpython")) || m.off != 0 {
			continue
		}
		done[m.path] = true
		ef, err := elf.Open(m.path)
		if err != nil {
			return err
		}
		var first uint64 = ^uint64(0)
		for _, p := range ef.Progs {
			if p.Type == elf.PT_LOAD && p.Off == 0 {
				first = p.Vaddr &^ 0xfff
			}
		}
		bias := m.start - first
		syms, _ := ef.Symbols()
		dyn, _ := ef.DynamicSymbols()
		for _, s := range append(syms, dyn...) {
			if s.Value == 0 || s.Section == elf.SHN_UNDEF {
				continue
			}
			if _, ok := c.syms[s.Name]; !ok {
				c.syms[s.Name] = s.Value + bias
			}
		}
		ef.Close()
	}
	return nil
}

func (c *testCore) ReadAt(p []byte, addr uint64) (int, error) {
	n := 0
	for n < len(p) {
		k, err := c.readSome(p[n:], addr+uint64(n))
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (c *testCore) readSome(p []byte, addr uint64) (int, error) {
	for _, l := range c.loads {
		if addr >= l.Vaddr && addr < l.Vaddr+l.Filesz {
			k := min(uint64(len(p)), l.Vaddr+l.Filesz-addr)
			return c.f.ReadAt(p[:k], int64(l.Off+addr-l.Vaddr))
		}
	}
	for _, m := range c.maps {
		if addr >= m.start && addr < m.end {
			f := c.files[m.path]
			if f == nil {
				var err error
				if f, err = os.Open(m.path); err != nil {
					return 0, err
				}
				c.files[m.path] = f
			}
			k := min(uint64(len(p)), m.end-addr)
			return f.ReadAt(p[:k], int64(m.off+addr-m.start))
		}
	}
	return 0, fmt.Errorf("address %#x not in the core", addr)
}

func (c *testCore) Symbol(name string) (uint64, bool) {
	a, ok := c.syms[name]
	return a, ok
}

func (c *testCore) Threads() []OSThread { return c.threads }
func (c *testCore) PtrSize() int        { return 8 }

func (c *testCore) Modules() []Module {
	byPath := map[string]*Module{}
	var out []*Module
	for _, m := range c.maps {
		if mm := byPath[m.path]; mm != nil {
			mm.Start, mm.End = min(mm.Start, m.start), max(mm.End, m.end)
			continue
		}
		mm := &Module{Path: m.path, Start: m.start, End: m.end}
		byPath[m.path] = mm
		out = append(out, mm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	res := make([]Module, len(out))
	for i, m := range out {
		res[i] = *m
	}
	return res
}

func (c *testCore) Close() {
	c.f.Close()
	for _, f := range c.files {
		f.Close()
	}
}
