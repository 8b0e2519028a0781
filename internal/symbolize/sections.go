package symbolize

import (
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/coredig/coredig/internal/diskcache"
	"github.com/coredig/coredig/internal/elfx"
)

// ReadSectionFunc returns a section's decompressed bytes, at most limit of them.
type ReadSectionFunc func(s *elf.Section, limit uint64) ([]byte, error)

// minCachedSection is the smallest decompressed section worth a file in the section
// cache: below it decompressing costs less than opening a file. A variable for tests.
var minCachedSection uint64 = 64 << 10

// sectionReader returns how the DWARF sections of f (the module's file or its debug
// file) are read. The file is mapped once: an uncompressed section is a slice of the
// mapping, not a copy on the heap. A compressed one (Debian's debug files compress
// theirs) is decompressed once per machine into the section cache,
// $XDG_CACHE_HOME/coredig/sections/<build-id>/, and mapped from there: at fleet scale
// the same libc's debug info is read for every core. The cache is kept within
// internal/diskcache's bound, shared with decompressed cores. Without a mapping, or when the
// cache cannot be written, it falls back to reading onto the heap.
func (m *Module) sectionReader(t *Table, f *elf.File) ReadSectionFunc {
	data := func(s *elf.Section, _ uint64) ([]byte, error) { return s.Data() }
	m.mapMu.Lock()
	defer m.mapMu.Unlock()
	var osf *os.File
	switch f {
	case m.file:
		osf = m.osFile
	case m.debug:
		osf = m.debugFile
	}
	if osf == nil {
		return data
	}
	mp, ok := m.maps[f]
	if !ok {
		var err error
		mp, err = elfx.Map(osf)
		if err != nil {
			mp = nil
		}
		if m.maps == nil {
			m.maps = map[*elf.File]*elfx.Mapped{}
		}
		m.maps[f] = mp
	}
	if mp == nil {
		return data
	}
	return sectionReaderFor(mp, m.buildID(), func(c *elfx.Mapped) {
		m.mapMu.Lock()
		m.cached = append(m.cached, c)
		m.mapMu.Unlock()
	})
}

// buildID is the build-id that names the module's cached sections.
func (m *Module) buildID() []byte {
	if m.FileBuildID != nil {
		return m.FileBuildID
	}
	return m.BuildID
}

// sectionReaderFor reads sections from the mapping mp of a file with build-id id: see
// sectionReader. keep receives each cached section's mapping, to close with its owner.
func sectionReaderFor(mp *elfx.Mapped, id []byte, keep func(*elfx.Mapped)) ReadSectionFunc {
	return func(s *elf.Section, limit uint64) ([]byte, error) {
		if !elfx.Compressed(s) || len(id) == 0 {
			return mp.Section(s, limit)
		}
		raw, err := mp.Raw(s)
		if err != nil {
			return nil, err
		}
		size, err := mp.DecompressedSize(s, raw)
		if err != nil {
			return nil, err
		}
		if size < minCachedSection || size > limit {
			return mp.Decompress(s, raw, limit)
		}
		path := sectionCachePath(id, s)
		if path == "" {
			return mp.Decompress(s, raw, limit)
		}
		if b := mapCached(path, size, keep); b != nil {
			diskcache.Touch(filepath.Dir(path))
			return b, nil
		}
		b, err := mp.Decompress(s, raw, limit)
		if err != nil {
			return nil, err
		}
		if storeCached(path, b) == nil {
			if max, _ := diskcache.Max(); max > 0 {
				// path is <root>/sections/<build-id>/<section>.
				diskcache.Prune(filepath.Dir(filepath.Dir(filepath.Dir(path))), max, filepath.Dir(path))
			}
			if c := mapCached(path, size, keep); c != nil {
				return c, nil // the cached copy is off the heap; b is garbage now
			}
		}
		return b, nil
	}
}

// sectionCachePath names the cached copy of compressed section s of the file with
// build-id id: the section's name, file offset and stored size tell apart two sections
// of files that share a build-id. "" when there is no cache directory.
func sectionCachePath(id []byte, s *elf.Section) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == 0 {
			return '_' // the name comes from the file: it must not leave the directory
		}
		return r
	}, s.Name)
	return filepath.Join(dir, "coredig", "sections", hex.EncodeToString(id), fmt.Sprintf("%s-%x-%x", name, s.Offset, s.FileSize))
}

// mapCached maps the cached section at path when it exists with the expected size, and
// hands the mapping to keep.
func mapCached(path string, size uint64, keep func(*elfx.Mapped)) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || uint64(st.Size()) != size {
		return nil
	}
	mp, err := elfx.Map(f)
	if err != nil {
		return nil
	}
	keep(mp)
	return mp.Bytes()
}

// storeCached writes b to path through a temporary file and a rename, so that a reader
// never sees a partial copy.
func storeCached(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}

// closeMaps unmaps the module's files and cached sections.
func (m *Module) closeMaps() {
	m.mapMu.Lock()
	defer m.mapMu.Unlock()
	for _, mp := range m.maps {
		mp.Close()
	}
	for _, mp := range m.cached {
		mp.Close()
	}
	m.maps, m.cached = nil, nil
}
