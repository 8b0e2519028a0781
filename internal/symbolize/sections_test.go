package symbolize

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/coredig/coredig/internal/elfx"
)

// A gcc -gz=zlib program's DWARF through the section reader: the compressed sections are
// decompressed into the section cache under their build-id, a second reader maps the
// copy instead of decompressing, a copy of the wrong size is ignored, and every section
// equals debug/elf's Data throughout.
func TestSectionCache(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is needed (scripts/deps.sh installs it): %v", err)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	defer func(n uint64) { minCachedSection = n }(minCachedSection)
	minCachedSection = 0 // the test program's sections are small
	dir := t.TempDir()
	src, exe := filepath.Join(dir, "t.c"), filepath.Join(dir, "t")
	os.WriteFile(src, []byte("struct s { int a; long b; };\nint f(struct s *p) { return p->a + (int)p->b; }\nint main(void) { struct s v = {1, -1}; return f(&v); }\n"), 0o644)
	if out, err := exec.Command("gcc", "-g", "-gz=zlib", "-Wl,--build-id", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	osf, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	ef, err := elf.NewFile(osf)
	if err != nil {
		t.Fatal(err)
	}
	im, err := elfx.ReadImage(osf)
	if err != nil || len(im.BuildID) == 0 {
		t.Fatalf("no build-id: %v", err)
	}
	read := func() (cached int) {
		mp, err := elfx.Map(osf)
		if err != nil {
			t.Fatal(err)
		}
		var kept []*elfx.Mapped
		r := sectionReaderFor(mp, im.BuildID, func(m *elfx.Mapped) { kept = append(kept, m) })
		for _, s := range ef.Sections {
			if !elfx.Compressed(s) {
				continue
			}
			want, err := s.Data()
			if err != nil {
				t.Fatal(err)
			}
			got, err := r(s, 1<<30)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: %d bytes, %v; want debug/elf's %d", s.Name, len(got), err, len(want))
			}
		}
		for _, m := range kept {
			m.Close()
		}
		mp.Close()
		return len(kept)
	}
	if n := read(); n == 0 {
		t.Fatal("no section reached the cache")
	}
	files, _ := filepath.Glob(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "coredig", "sections", "*", ".debug_*"))
	if len(files) == 0 {
		t.Fatal("nothing in the section cache")
	}
	if n := read(); n != len(files) {
		t.Errorf("second reader mapped %d cached sections, the cache has %d", n, len(files))
	}
	// A damaged copy (here: one byte short) is not used; the section is decompressed
	// and the copy rewritten.
	b, _ := os.ReadFile(files[0])
	os.WriteFile(files[0], b[:len(b)-1], 0o600)
	read()
	if c, _ := os.ReadFile(files[0]); !bytes.Equal(c, b) {
		t.Errorf("the short copy of %s was not replaced", filepath.Base(files[0]))
	}
}
