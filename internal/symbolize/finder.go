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

// FindExecutable implements Finder.
func (p PathFinder) FindExecutable(name string, buildID []byte) (string, []Attempt) {
	if name == "" || name[0] == '[' {
		return "", nil
	}
	path := name
	if p.Sysroot != "" {
		path = filepath.Join(p.Sysroot, name)
	}
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return "", []Attempt{{Path: path, What: "executable", Result: "not found"}}
	}
	return path, []Attempt{{Path: path, What: "executable", Result: "found", OK: true}}
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
