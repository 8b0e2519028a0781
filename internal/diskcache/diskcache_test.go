package diskcache

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	coreA = "0123456789abcdef0123456789abcdef01234567.core"
	coreB = "1123456789abcdef0123456789abcdef01234567.core"
	coreC = "2123456789abcdef0123456789abcdef01234567.core"
)

// write makes a file of n bytes of data (allocated, not a hole) at root/name, last used
// age ago.
func write(t *testing.T, root, name string, n int, age time.Duration) string {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Repeat("x", n)), 0o600); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	if err := os.Chtimes(p, when, when); err != nil {
		t.Fatal(err)
	}
	return p
}

func age(t *testing.T, p string, d time.Duration) {
	t.Helper()
	when := time.Now().Add(-d)
	if err := os.Chtimes(p, when, when); err != nil {
		t.Fatal(err)
	}
}

func names(root string, paths []string) []string {
	var out []string
	for _, p := range paths {
		r, _ := filepath.Rel(root, p)
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// A cache of three cores (64 KiB each) and two build-ids' sections (64 and 128 KiB),
// plus files that are not entries. Bounded to 200 KiB, the oldest entries go first,
// the one in use stays whatever its age, and nothing else is touched.
func TestPrune(t *testing.T) {
	root := t.TempDir()
	const k64 = 64 << 10
	write(t, root, coreA, k64, 5*time.Hour)
	write(t, root, coreB, k64, 4*time.Hour)
	write(t, root, coreC, k64, 1*time.Hour)
	write(t, root, "sections/aaaa/.debug_info-1-2", k64, 3*time.Hour)
	age(t, filepath.Join(root, "sections/aaaa"), 3*time.Hour)
	write(t, root, "sections/bbbb/.debug_info-1-2", k64, 2*time.Hour)
	write(t, root, "sections/bbbb/.debug_line-3-4", k64, 2*time.Hour)
	age(t, filepath.Join(root, "sections/bbbb"), 30*time.Minute)
	// Not entries: test data, a temporary file being written, a core-like name that is
	// not 40 hex digits.
	write(t, root, "elfutils-cores/backtrace.x32.core", k64, 10*time.Hour)
	write(t, root, ".partial-123.core", k64, 10*time.Hour)
	write(t, root, "ABCDEF.core", k64, 10*time.Hour)

	entries := Entries(root)
	if len(entries) != 5 {
		t.Fatalf("%d entries, want 5: %+v", len(entries), entries)
	}
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	if total < 6*k64 {
		t.Fatalf("entries take %d bytes, want at least %d", total, 6*k64)
	}

	// coreA is in use: it stays. coreB (4 h) and sections/aaaa (3 h) go, which leaves
	// coreA, coreC and bbbb, 256 KiB, still over 200 KiB, so coreC (1 h) goes too.
	removed := Prune(root, 200<<10, filepath.Join(root, coreA))
	want := []string{coreB, coreC, "sections/aaaa"}
	if got := names(root, removed); !slices.Equal(got, want) {
		t.Errorf("removed %q, want %q", got, want)
	}
	for _, keep := range []string{coreA, "sections/bbbb/.debug_line-3-4", "elfutils-cores/backtrace.x32.core", ".partial-123.core", "ABCDEF.core"} {
		if _, err := os.Stat(filepath.Join(root, keep)); err != nil {
			t.Errorf("%s removed: %v", keep, err)
		}
	}
	if again := Prune(root, 200<<10); again != nil {
		t.Errorf("a second prune within the bound removed %q", again)
	}
	// Touch makes an entry the most recent: bounded to one entry's worth, the other goes.
	Touch(filepath.Join(root, coreA))
	if got := names(root, Prune(root, 100<<10)); !slices.Equal(got, []string{"sections/bbbb"}) {
		t.Errorf("after Touch removed %q, want sections/bbbb", got)
	}
	if got := Prune(root, 0); got != nil {
		t.Errorf("max 0 (off) removed %q", got)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1073741824", 1 << 30, true}, {"512M", 512 << 20, true}, {"8G", 8 << 30, true},
		{"2t", 2 << 40, true}, {"64k", 64 << 10, true}, {"off", 0, true}, {"OFF", 0, true},
		{"0", 0, true}, {"", 0, false}, {"G", 0, false}, {"-1", 0, false}, {"1.5G", 0, false},
		{"9999999999T", 0, false}, {"8GB", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	t.Setenv("COREDIG_CACHE_MAX", "")
	if n, err := Max(); n != DefaultMax || err != nil {
		t.Errorf("Max() unset = %d, %v", n, err)
	}
	t.Setenv("COREDIG_CACHE_MAX", "3G")
	if n, err := Max(); n != 3<<30 || err != nil {
		t.Errorf("Max() 3G = %d, %v", n, err)
	}
	t.Setenv("COREDIG_CACHE_MAX", "lots")
	if n, err := Max(); n != DefaultMax || err == nil {
		t.Errorf("Max() lots = %d, %v; want DefaultMax and an error", n, err)
	}
}

// FuzzParseSize: any string gives a size or an error, never a panic or a negative size.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"8G", "off", "1073741824", "-1", "9999999999T", "k", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}
