package symbolize

import (
	"debug/elf"
	"os"
	"sync"
	"syscall"

	"github.com/coredig/coredig/internal/dwarfsym"
	"github.com/coredig/coredig/internal/elfx"
)

// Bounds of a Shared: the files it keeps (past them, modules build their own tables), and
// the decoded DWARF units each shared index keeps (dwarfsym's default is 64 MiB for one
// analysis; a run keeps up to maxSharedFiles indexes for its whole length).
const (
	maxSharedFiles       = 128
	sharedDWARFUnitBytes = 16 << 20
)

// Shared holds what the Tables of many cores analysed in one process (coredig triage)
// can share: per module file, identified by device, inode, size and modification time,
// the DWARF index and the function symbols, each built once by the first Table that
// needs it. Across a fleet's cores the same libc and interpreter come back again and
// again; without it every core pays for their symbol tables and DWARF units anew.
//
// What a Module reports is unchanged: each Table still finds, opens and verifies its own
// files, and records its own search trail; only the parsed tables are shared. The symbol
// tables are read-only once built and a dwarfsym.Index is safe for concurrent use, so
// Tables on several goroutines may share them. The dwarf.Data inside an Index is shared
// with them: readers of it must read types through the Index's Type (see
// dwarfsym.Index.Raw). Close releases the mappings behind them, after the last Table
// using it is done.
type Shared struct {
	mu    sync.Mutex
	files map[fileID]*sharedFile
	maps  []*elfx.Mapped
}

// NewShared returns an empty Shared.
func NewShared() *Shared { return &Shared{files: map[fileID]*sharedFile{}} }

// Close unmaps the sections of the shared DWARF indexes. No Table using s may be used
// afterwards.
func (s *Shared) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, mp := range s.maps {
		mp.Close()
	}
	s.maps, s.files = nil, map[fileID]*sharedFile{}
}

func (s *Shared) keep(mp *elfx.Mapped) {
	s.mu.Lock()
	s.maps = append(s.maps, mp)
	s.mu.Unlock()
}

// fileID identifies a file's contents as far as stat can: a file replaced (by rename,
// as package managers do) or rewritten in place gets another.
type fileID struct {
	dev, ino    uint64
	size, mtime int64
}

type sharedFile struct {
	dwarfOnce sync.Once
	dwarf     *dwarfsym.Index
	dwarfErr  error

	symOnce   sync.Once
	debugPath string // the debug file the symbols were read with, "" for none
	syms      *symtab
	source    string
	notes     []string
}

// file returns the shared entry of the open file f, or nil when f cannot be identified
// or the Shared is full.
func (s *Shared) file(f *os.File) *sharedFile {
	if s == nil || f == nil {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	id := fileID{dev: uint64(sys.Dev), ino: sys.Ino, size: st.Size(), mtime: st.ModTime().UnixNano()}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.files[id]
	if e == nil {
		if len(s.files) >= maxSharedFiles {
			return nil
		}
		e = &sharedFile{}
		s.files[id] = e
	}
	return e
}

// osFileOf returns the open file behind f, the module's file or its debug file.
func (m *Module) osFileOf(f *elf.File) *os.File {
	switch f {
	case nil:
		return nil
	case m.file:
		return m.osFile
	case m.debug:
		return m.debugFile
	}
	return nil
}

// newIndex builds the DWARF index of f (the module's file or its debug file), or takes
// the one the Shared already has for that file.
func (m *Module) newIndex(t *Table, f *elf.File) (*dwarfsym.Index, error) {
	sh := t.opts.Shared
	if e := sh.file(m.osFileOf(f)); e != nil {
		e.dwarfOnce.Do(func() {
			read := ReadSectionFunc(func(s *elf.Section, _ uint64) ([]byte, error) { return s.Data() })
			if mp, err := elfx.Map(m.osFileOf(f)); err == nil {
				sh.keep(mp)
				read = sectionReaderFor(mp, m.buildID(), sh.keep)
			}
			e.dwarf, e.dwarfErr = dwarfsym.NewFromELF(f, &dwarfsym.Options{ReadSection: read, CacheBytes: sharedDWARFUnitBytes})
		})
		return e.dwarf, e.dwarfErr
	}
	return dwarfsym.NewFromELF(f, &dwarfsym.Options{ReadSection: m.sectionReader(t, f)})
}
