// Package diskcache keeps coredig's cache directory within a size bound. Two kinds of
// entries live there ($XDG_CACHE_HOME/coredig): decompressed cores, <40 hex digits>.core
// at the top (internal/input), and the decompressed debug sections of one build-id,
// sections/<build-id>/ (internal/symbolize). Nothing else in the directory is an entry
// or is ever removed.
//
// An entry's last use is its modification time: writing one sets it, and Touch sets it
// again when a run reuses the entry. Prune removes the least recently used entries until
// the entries' allocated size (holes in sparse cores cost nothing) is within the bound.
// A removed file that another process has open or mapped stays readable to it (Linux
// frees it at the last close); a process that looks for it afterwards misses and
// decompresses again.
package diskcache

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultMax is the bound when COREDIG_CACHE_MAX does not set one: 8 GiB.
const DefaultMax int64 = 8 << 30

// maxEntries bounds how many entries Prune looks at, so a directory filled by something
// else cannot make it slow.
const maxEntries = 100000

// Max is the cache's size bound: COREDIG_CACHE_MAX, in bytes or with a K, M, G or T
// suffix (powers of 1024), "off" for none (0); DefaultMax when unset. A value that does
// not parse is an error, and DefaultMax is returned with it.
func Max() (int64, error) {
	v := strings.TrimSpace(os.Getenv("COREDIG_CACHE_MAX"))
	if v == "" {
		return DefaultMax, nil
	}
	n, err := ParseSize(v)
	if err != nil {
		return DefaultMax, fmt.Errorf("COREDIG_CACHE_MAX: %w", err)
	}
	return n, nil
}

// ParseSize reads "512M", "8G", "1073741824" or "off" (0).
func ParseSize(v string) (int64, error) {
	if strings.EqualFold(v, "off") {
		return 0, nil
	}
	mult := int64(1)
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		case 't', 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			v = v[:n-1]
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (bytes, or a number with K, M, G or T, or off)", v)
	}
	return n * mult, nil
}

// Touch marks the entry at path as used now.
func Touch(path string) {
	now := time.Now()
	_ = os.Chtimes(path, now, now)
}

// Entry is one cache entry: a decompressed core, or one build-id's sections.
type Entry struct {
	Path    string
	Size    int64 // allocated bytes
	Used    time.Time
	Section bool
}

// Entries lists the cache entries under root.
func Entries(root string) []Entry {
	var out []Entry
	names, _ := readNames(root)
	for _, n := range names {
		if len(out) >= maxEntries {
			break
		}
		if !isCoreName(n) {
			continue
		}
		p := filepath.Join(root, n)
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() {
			out = append(out, Entry{Path: p, Size: allocated(st), Used: st.ModTime()})
		}
	}
	sections := filepath.Join(root, "sections")
	ids, _ := readNames(sections)
	for _, id := range ids {
		if len(out) >= maxEntries {
			break
		}
		p := filepath.Join(sections, id)
		st, err := os.Lstat(p)
		if err != nil || !st.IsDir() || !isHex(id) {
			continue
		}
		e := Entry{Path: p, Used: st.ModTime(), Section: true}
		files, _ := readNames(p)
		for _, f := range files {
			if fst, err := os.Lstat(filepath.Join(p, f)); err == nil && fst.Mode().IsRegular() {
				e.Size += allocated(fst)
			}
		}
		out = append(out, e)
	}
	return out
}

// Prune removes the least recently used entries under root until the rest take at
// most max bytes; max 0 means no bound. The entries named in inUse (the one the caller
// has just written or is reading) are never removed. It returns what it removed.
func Prune(root string, max int64, inUse ...string) []string {
	if max <= 0 {
		return nil
	}
	entries := Entries(root)
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	if total <= max {
		return nil
	}
	sort.Slice(entries, func(i, j int) bool {
		if !entries[i].Used.Equal(entries[j].Used) {
			return entries[i].Used.Before(entries[j].Used)
		}
		return entries[i].Path < entries[j].Path
	})
	keep := map[string]bool{}
	for _, p := range inUse {
		keep[filepath.Clean(p)] = true
	}
	var removed []string
	for _, e := range entries {
		if total <= max {
			break
		}
		if keep[filepath.Clean(e.Path)] {
			continue
		}
		if err := os.RemoveAll(e.Path); err == nil {
			total -= e.Size
			removed = append(removed, e.Path)
		}
	}
	return removed
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(maxEntries)
}

// isCoreName matches internal/input's cache names: 40 lower-case hex digits and .core.
func isCoreName(n string) bool {
	key, ok := strings.CutSuffix(n, ".core")
	return ok && len(key) == 40 && isHex(key)
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
