package symbolize

import (
	"os"
	"path/filepath"
)

// PathFinder finds a module's file at the path the core names, under Sysroot when set,
// and its debug file by build-id under the standard debug directory.
type PathFinder struct {
	Sysroot string
}

// FindExecutable implements Finder. With a sysroot, the path under it is tried first and
// then the path itself (the executable of a qemu-user core lives on the host); the
// caller rejects a file of the wrong architecture or build-id.
func (p PathFinder) FindExecutable(name string, buildID []byte) (string, []Attempt) {
	if name == "" || name[0] == '[' {
		return "", nil
	}
	cands := []string{name}
	if p.Sysroot != "" {
		cands = []string{filepath.Join(p.Sysroot, name), name}
	}
	var trail []Attempt
	for _, path := range cands {
		if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
			trail = append(trail, Attempt{Path: path, What: "executable", Result: "not found"})
			continue
		}
		return path, append(trail, Attempt{Path: path, What: "executable", Result: "found", OK: true})
	}
	return "", trail
}

// FindDebug implements Finder.
func (p PathFinder) FindDebug(path string, buildID []byte, debuglink string, crc uint32) (string, []Attempt) {
	if len(buildID) < 2 {
		return "", nil
	}
	h := hexString(buildID)
	cand := filepath.Join(p.Sysroot, "/usr/lib/debug/.build-id", h[:2], h[2:]+".debug")
	if _, err := os.Stat(cand); err != nil {
		return "", []Attempt{{Path: cand, What: "debug", Result: "not found"}}
	}
	return cand, []Attempt{{Path: cand, What: "debug", Result: "found", OK: true}}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 2*len(b))
	for i, c := range b {
		s[2*i], s[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(s)
}
