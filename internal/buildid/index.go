package buildid

import (
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Limits bound the walk that builds an Index. Zero fields take the
// defaults below.
type Limits struct {
	MaxDepth int // directory levels below each root; default 12
	MaxFiles int // regular files examined over all roots; default 200000
}

const (
	defaultMaxDepth = 12
	defaultMaxFiles = 200000
)

// Index maps build-ids to the files that carry them, built from a walk
// of directories. Entries keep walk order (roots in the order given,
// lexical within a directory).
type Index struct {
	byID map[string][]string
	// Files is the number of regular files examined, ELFs the number of
	// ELF files among them, Indexed the number with a build-id.
	Files, ELFs, Indexed int
	// Notes says what the walk could not do: unreadable directories,
	// malformed ELF files, limits reached. Bounded to maxNotes entries.
	Notes []string
}

// maxIndexNotes bounds Index.Notes.
const maxIndexNotes = 100

// BuildIndex walks dirs (not following symbolic links to directories,
// following those to files) and reads the build-id of every ELF file it
// meets.
func BuildIndex(dirs []string, lim Limits) *Index {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = defaultMaxDepth
	}
	if lim.MaxFiles <= 0 {
		lim.MaxFiles = defaultMaxFiles
	}
	ix := &Index{byID: map[string][]string{}}
	for _, root := range dirs {
		if ix.Files >= lim.MaxFiles {
			break
		}
		real, err := filepath.EvalSymlinks(root)
		if err != nil {
			ix.note("search directory %s: %v", root, err)
			continue
		}
		ix.walk(root, real, lim)
	}
	return ix
}

func (ix *Index) note(format string, args ...any) {
	if len(ix.Notes) < maxIndexNotes {
		ix.Notes = append(ix.Notes, fmt.Sprintf(format, args...))
	} else if len(ix.Notes) == maxIndexNotes {
		ix.Notes = append(ix.Notes, "further notes omitted")
	}
}

// walk indexes real (the resolved root) but records paths under root as
// the user spelled it.
func (ix *Index) walk(root, real string, lim Limits) {
	depth0 := strings.Count(real, string(filepath.Separator))
	err := filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			ix.note("%s: %v", p, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if strings.Count(p, string(filepath.Separator))-depth0 >= lim.MaxDepth {
				ix.note("%s: deeper than %d levels, not indexed", p, lim.MaxDepth)
				return fs.SkipDir
			}
			return nil
		}
		if ix.Files >= lim.MaxFiles {
			ix.note("stopped after %d files (limit)", lim.MaxFiles)
			return fs.SkipAll
		}
		if d.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(p)
			if err != nil || !st.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		ix.Files++
		shown := p
		if rel, err := filepath.Rel(real, p); err == nil {
			shown = filepath.Join(root, rel)
		}
		ix.add(shown)
		return nil
	})
	if err != nil {
		ix.note("%s: %v", root, err)
	}
}

func (ix *Index) add(p string) {
	f, err := os.Open(p)
	if err != nil {
		ix.note("%s: %v", p, err)
		return
	}
	defer f.Close()
	var magic [4]byte
	if n, _ := f.ReadAt(magic[:], 0); n < 4 || string(magic[:]) != "\x7fELF" {
		return
	}
	ix.ELFs++
	st, err := f.Stat()
	if err != nil {
		ix.note("%s: %v", p, err)
		return
	}
	info, err := Read(f, st.Size())
	if err != nil {
		ix.note("%s: %v", p, err)
		return
	}
	if info.BuildID == nil {
		return
	}
	ix.Indexed++
	k := hex.EncodeToString(info.BuildID)
	ix.byID[k] = append(ix.byID[k], p)
}

// Lookup returns the files whose build-id is id, in walk order.
func (ix *Index) Lookup(id []byte) []string {
	if ix == nil {
		return nil
	}
	return ix.byID[hex.EncodeToString(id)]
}
