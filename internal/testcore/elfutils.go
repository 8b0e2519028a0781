package testcore

import (
	"os"
	"path/filepath"
	"testing"
)

// ElfutilsCore returns the path of a file from elfutils' test suite (a core written by a
// real kernel of another architecture, such as "backtrace.ppc64le.fp.core", or the
// executable beside it), as scripts/elfutils-cores.sh unpacks them from Debian's elfutils
// source package into the user's cache. A missing file fails the test with that pointer:
// these cores are the only ones here that kernels other than x86_64's wrote.
func ElfutilsCore(t testing.TB, name string) string {
	t.Helper()
	dir := userCache()
	if dir == "" {
		t.Fatalf("testcore: elfutils cores: neither $XDG_CACHE_HOME nor $HOME is set")
	}
	path := filepath.Join(dir, "coredig", "elfutils-cores", name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("testcore: %v (run scripts/elfutils-cores.sh, which scripts/deps.sh calls, to fetch elfutils' test cores)", err)
	}
	return path
}

// userCache is $XDG_CACHE_HOME, else $HOME/.cache ("" when neither is known).
func userCache() string {
	if dir := os.Getenv("XDG_CACHE_HOME"); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache")
}
