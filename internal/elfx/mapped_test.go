package elfx

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// A C program built with gcc -g and its DWARF compressed each way gcc can
// (-gz=zlib: SHF_COMPRESSED; -gz=zlib-gnu: .zdebug_*): every section read through the
// mapping equals debug/elf's Data.
func TestMappedSections(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is needed (scripts/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "t.c")
	if err := os.WriteFile(src, []byte("int answer(int x) { return x * 6; }\nint main(void) { return answer(7) - 42; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, gz := range []string{"none", "zlib", "zlib-gnu"} {
		t.Run(gz, func(t *testing.T) {
			exe := filepath.Join(dir, "t-"+gz)
			if out, err := exec.Command("gcc", "-g", "-gz="+gz, "-o", exe, src).CombinedOutput(); err != nil {
				t.Fatalf("gcc -gz=%s: %v\n%s", gz, err, out)
			}
			checkMapped(t, exe, gz != "none")
		})
	}
}

func checkMapped(t *testing.T, path string, wantCompressed bool) {
	osf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	ef, err := elf.NewFile(osf)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := Map(osf)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	compressed := 0
	for _, s := range ef.Sections {
		if s.Type == elf.SHT_NOBITS || s.Type == elf.SHT_NULL {
			continue
		}
		want, err := s.Data()
		if err != nil {
			t.Fatalf("%s: Data: %v", s.Name, err)
		}
		got, err := mp.Section(s, 1<<30)
		if err != nil {
			t.Fatalf("%s: Section: %v", s.Name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes through the mapping differ from Data's %d", s.Name, len(got), len(want))
		}
		if !Compressed(s) {
			continue
		}
		compressed++
		raw, _ := mp.Raw(s)
		if n, err := mp.DecompressedSize(s, raw); err != nil || n != uint64(len(want)) {
			t.Errorf("%s: DecompressedSize %d, %v; want %d", s.Name, n, err, len(want))
		}
		if _, err := mp.Section(s, uint64(len(want))-1); err == nil {
			t.Errorf("%s: a limit below the declared size was not refused", s.Name)
		}
		if _, err := mp.Decompress(s, raw[:len(raw)-8], 1<<30); err == nil {
			t.Errorf("%s: a cut stream decompressed without an error", s.Name)
		}
	}
	if (compressed > 0) != wantCompressed {
		t.Errorf("%s: %d compressed sections", path, compressed)
	}
}

// ELFCOMPRESS_ZSTD, which gcc here cannot make: an Elf64_Chdr and a zstd frame.
func TestDecompressZstd(t *testing.T) {
	want := bytes.Repeat([]byte("DW_TAG_subprogram "), 1000)
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 24)
	binary.LittleEndian.PutUint32(raw, ELFCOMPRESS_ZSTD)
	binary.LittleEndian.PutUint64(raw[8:], uint64(len(want)))
	raw = enc.EncodeAll(want, raw)
	m := &Mapped{class: elf.ELFCLASS64, order: binary.LittleEndian}
	s := &elf.Section{SectionHeader: elf.SectionHeader{Name: ".debug_info", Flags: elf.SHF_COMPRESSED}}
	got, err := m.Decompress(s, raw, 1<<20)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, %v; want %d", len(got), err, len(want))
	}
	binary.LittleEndian.PutUint64(raw[8:], uint64(len(want))+1)
	if _, err := m.Decompress(s, raw, 1<<20); err == nil {
		t.Errorf("a frame shorter than the header's size was accepted")
	}
	if _, err := m.Decompress(s, raw[:20], 1<<20); err == nil {
		t.Errorf("a cut header was accepted")
	}
}

// FuzzDecompress: compression headers and streams from the input, under both ELF classes
// and the .zdebug form, never panic, and never give more bytes than the limit.
func FuzzDecompress(f *testing.F) {
	want := bytes.Repeat([]byte("DW_AT_name "), 50)
	enc, _ := zstd.NewWriter(nil)
	z := make([]byte, 24)
	binary.LittleEndian.PutUint32(z, ELFCOMPRESS_ZSTD)
	binary.LittleEndian.PutUint64(z[8:], uint64(len(want)))
	f.Add(enc.EncodeAll(want, z), uint8(0))
	var zl bytes.Buffer
	w := zlib.NewWriter(&zl)
	w.Write(want)
	w.Close()
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h, ELFCOMPRESS_ZLIB)
	binary.LittleEndian.PutUint64(h[8:], uint64(len(want)))
	f.Add(append(h, zl.Bytes()...), uint8(0))
	g := append([]byte("ZLIB\x00\x00\x00\x00\x00\x00\x02\x26"), zl.Bytes()...)
	f.Add(g, uint8(2))
	f.Fuzz(func(t *testing.T, raw []byte, form uint8) {
		const limit = 1 << 16
		m := &Mapped{class: elf.ELFCLASS64, order: binary.LittleEndian}
		s := &elf.Section{SectionHeader: elf.SectionHeader{Name: ".debug_info", Flags: elf.SHF_COMPRESSED}}
		switch form % 3 {
		case 1:
			m.class = elf.ELFCLASS32
		case 2:
			s.Name, s.Flags = ".zdebug_info", 0
		}
		if b, err := m.Decompress(s, raw, limit); err == nil && len(b) > limit {
			t.Fatalf("%d bytes over the %d limit", len(b), limit)
		}
		m.DecompressedSize(s, raw)
	})
}
