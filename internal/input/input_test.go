//go:build linux

package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The real core committed by the fixtures (see testdata/fixtures/README.md
// at the repository root): 25628672 bytes once decompressed.
const (
	fixtureZst  = "../../testdata/fixtures/sample.core.zst"
	fixtureSize = 25628672
)

// compressors make each format from the plain file with the usual CLI.
var compressors = map[string][]string{
	Zstd: {"zstd", "-q", "-c"},
	LZ4:  {"lz4", "-q", "-c"},
	XZ:   {"xz", "-T2", "-c"},
	Gzip: {"gzip", "-c"},
}

// plainCore returns the fixture core decompressed by the zstd CLI, as the
// reference for every comparison.
func plainCore(t testing.TB) []byte {
	t.Helper()
	out, err := exec.Command("zstd", "-d", "-c", fixtureZst).Output()
	if err != nil {
		t.Fatalf("zstd CLI must decompress %s: %v", fixtureZst, err)
	}
	if len(out) != fixtureSize {
		t.Fatalf("fixture decompresses to %d bytes, README says %d", len(out), fixtureSize)
	}
	return out
}

// compress writes plain through the CLI for format into dir/name.
func compress(t testing.TB, format, plainPath, out string) {
	t.Helper()
	args := compressors[format]
	cmd := exec.Command(args[0], append(args[1:], plainPath)...)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s (the %s CLI is needed)", args, err, stderr.Bytes(), args[0])
	}
}

func readAll(t *testing.T, s *Source) []byte {
	t.Helper()
	b := make([]byte, s.Size())
	if _, err := s.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return b
}

func TestOpenPlainDirect(t *testing.T) {
	plain := plainCore(t)
	p := filepath.Join(t.TempDir(), "core")
	if err := os.WriteFile(p, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(p, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Compression != None || s.Method != "direct" || s.CachePath != "" || s.Size() != fixtureSize || s.InputSize != fixtureSize || s.Incomplete != nil {
		t.Errorf("plain: %+v", s)
	}
	var hdr [4]byte
	if _, err := s.ReadAt(hdr[:], 0); err != nil || string(hdr[:]) != "\x7fELF" {
		t.Errorf("first bytes %q, %v", hdr, err)
	}
}

func TestOpenCompressed(t *testing.T) {
	plain := plainCore(t)
	dir := t.TempDir()
	plainPath := filepath.Join(dir, "core")
	if err := os.WriteFile(plainPath, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{Zstd, LZ4, XZ, Gzip} {
		for _, name := range []string{"core." + map[string]string{Zstd: "zst", LZ4: "lz4", XZ: "xz", Gzip: "gz"}[format], "core-" + format + "-noext"} {
			t.Run(name, func(t *testing.T) {
				p := filepath.Join(dir, name)
				compress(t, format, plainPath, p)
				st, _ := os.Stat(p)
				cache := filepath.Join(t.TempDir(), "cache")
				s, err := Open(p, Options{CacheDir: cache})
				if err != nil {
					t.Fatal(err)
				}
				if s.Compression != format || s.Size() != fixtureSize || s.InputSize != st.Size() || s.Incomplete != nil {
					t.Errorf("compression %q size %d input %d incomplete %v; want %q %d %d nil", s.Compression, s.Size(), s.InputSize, s.Incomplete, format, fixtureSize, st.Size())
				}
				if filepath.Dir(s.CachePath) != cache || !strings.HasSuffix(s.CachePath, ".core") || s.Method != "decompressed to cache "+s.CachePath {
					t.Errorf("cache path %q method %q", s.CachePath, s.Method)
				}
				if got := readAll(t, s); !bytes.Equal(got, plain) {
					t.Errorf("decompressed bytes differ from the zstd CLI's")
				}
				// Zero blocks are holes: the fixture is mostly untouched pages.
				var sys syscall.Stat_t
				if err := syscall.Stat(s.CachePath, &sys); err == nil && sys.Blocks*512 >= fixtureSize/2 {
					t.Errorf("cache file uses %d bytes of disk for %d logical; want holes", sys.Blocks*512, fixtureSize)
				}
				first := s.CachePath
				s.Close()
				if _, err := os.Stat(first); err != nil {
					t.Fatalf("cache file gone after Close: %v", err)
				}

				s2, err := Open(p, Options{CacheDir: cache})
				if err != nil {
					t.Fatal(err)
				}
				defer s2.Close()
				if s2.CachePath != first || s2.Method != "reused cache "+first || s2.Elapsed != 0 || s2.Size() != fixtureSize {
					t.Errorf("second open: path %q method %q elapsed %v size %d; want reuse of %q", s2.CachePath, s2.Method, s2.Elapsed, s2.Size(), first)
				}
				ents, _ := os.ReadDir(cache)
				if len(ents) != 1 {
					t.Errorf("cache holds %d entries, want 1 (no leftover temporary files)", len(ents))
				}
			})
		}
	}
}

func TestOpenStdin(t *testing.T) {
	plain := plainCore(t)
	zst, err := os.ReadFile(fixtureZst)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	for _, tc := range []struct {
		name, format, verb string
		in                 []byte
	}{
		{"zstd", Zstd, "decompressed stdin", zst},
		{"plain", None, "copied stdin", plain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open("-", Options{CacheDir: cache, Stdin: bytes.NewReader(tc.in)})
			if err != nil {
				t.Fatal(err)
			}
			if s.Path != "-" || s.Compression != tc.format || s.InputSize != int64(len(tc.in)) || s.Size() != fixtureSize {
				t.Errorf("%+v", s)
			}
			if want := tc.verb + " to temporary " + s.CachePath + " (removed on close)"; s.Method != want {
				t.Errorf("method %q, want %q", s.Method, want)
			}
			if !bytes.Equal(readAll(t, s), plain) {
				t.Error("bytes differ")
			}
			s.Close()
			if _, err := os.Stat(s.CachePath); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("temporary %s still there after Close: %v", s.CachePath, err)
			}
		})
	}
}

func TestOpenCorrupt(t *testing.T) {
	plain := plainCore(t)
	dir := t.TempDir()
	plainPath := filepath.Join(dir, "core")
	if err := os.WriteFile(plainPath, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{Zstd, LZ4, XZ, Gzip} {
		t.Run(format, func(t *testing.T) {
			good := filepath.Join(dir, "good."+format)
			compress(t, format, plainPath, good)
			b, err := os.ReadFile(good)
			if err != nil {
				t.Fatal(err)
			}
			// Cut at two thirds: a CI artifact limit.
			cut := filepath.Join(dir, "cut."+format)
			if err := os.WriteFile(cut, b[:len(b)*2/3], 0o600); err != nil {
				t.Fatal(err)
			}
			cache := t.TempDir()
			_, err = Open(cut, Options{CacheDir: cache})
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Format != format || ce.InOffset <= 0 || ce.InOffset > int64(len(b)*2/3) || !strings.Contains(err.Error(), "input: "+format+" stream ") {
				t.Fatalf("cut stream: error %v, want a CorruptError for %s with an offset within the %d bytes", err, format, len(b)*2/3)
			}
			if ents, _ := os.ReadDir(cache); len(ents) != 0 {
				t.Errorf("%d files left in the cache after a failure", len(ents))
			}
			// With KeepPartial the readable prefix is returned.
			s, err := Open(cut, Options{CacheDir: cache, KeepPartial: true})
			if err != nil {
				t.Fatal(err)
			}
			if !errors.As(s.Incomplete, &ce) || s.Size() != ce.OutOffset || s.Size() >= fixtureSize {
				t.Errorf("partial: size %d incomplete %v", s.Size(), s.Incomplete)
			}
			if got := readAll(t, s); !bytes.Equal(got, plain[:len(got)]) {
				t.Error("partial prefix differs from the core")
			}
			if !strings.HasPrefix(s.Method, "decompressed the readable prefix to temporary ") {
				t.Errorf("method %q", s.Method)
			}
			s.Close()
		})
	}
}

func TestOpenLimits(t *testing.T) {
	_, err := Open(fixtureZst, Options{CacheDir: t.TempDir(), MaxSize: 1 << 20})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != 1<<20 || le.What != "decompressed size (Options.MaxSize)" {
		t.Fatalf("error %v, want LimitError at 1 MiB", err)
	}
	_, err = Open(filepath.Join(t.TempDir(), "missing"), Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestXattrs sets systemd-coredump's attributes on a compressed core and
// reads them back through Open.
func TestXattrs(t *testing.T) {
	zst, err := os.ReadFile(fixtureZst)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pid": "15327", "uid": "0", "gid": "0", "signal": "11",
		"timestamp": "1764131400000000", "rlimit": "18446744073709551615",
		"hostname": "build-7", "comm": "sample", "exe": "/tmp/coredig-fixtures/sample/sample",
	}
	var p string
	var tried []string
	for _, dir := range []string{t.TempDir(), "/dev/shm", "/var/tmp"} {
		f, err := os.CreateTemp(dir, "core.sample.*.zst")
		if err != nil {
			tried = append(tried, dir+": "+err.Error())
			continue
		}
		f.Write(zst)
		f.Close()
		t.Cleanup(func() { os.Remove(f.Name()) })
		err = syscall.Setxattr(f.Name(), "user.coredump.pid", []byte(want["pid"]), 0)
		if err != nil {
			tried = append(tried, dir+": "+err.Error())
			continue
		}
		p = f.Name()
		break
	}
	if p == "" {
		t.Fatalf("no directory here accepts user.* extended attributes, so systemd-coredump metadata cannot be tested: %v", tried)
	}
	for k, v := range want {
		if err := syscall.Setxattr(p, XattrPrefix+k, []byte(v), 0); err != nil {
			t.Fatal(err)
		}
	}
	// Not ours: must be ignored.
	if err := syscall.Setxattr(p, "user.mime_type", []byte("application/zstd"), 0); err != nil {
		t.Fatal(err)
	}
	got, err := CoredumpXattrs(p)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("CoredumpXattrs = %v, %v; want %v", got, err, want)
	}
	s, err := Open(p, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !reflect.DeepEqual(s.Xattrs, want) || s.XattrsErr != nil {
		t.Errorf("Source.Xattrs = %v, %v; want %v", s.Xattrs, s.XattrsErr, want)
	}
	// A file without attributes gives nil, nil.
	q := filepath.Join(filepath.Dir(p), filepath.Base(p)+".plain")
	if err := os.WriteFile(q, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(q)
	if got, err := CoredumpXattrs(q); got != nil || err != nil {
		t.Errorf("no attributes: %v, %v", got, err)
	}
}

func TestCacheKeyChangesWithContent(t *testing.T) {
	zst, err := os.ReadFile(fixtureZst)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "a.zst")
	if err := os.WriteFile(p, zst, 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(p)
	st, _ := f.Stat()
	k1, err := cacheKey(f, st.Size(), st.ModTime(), Zstd)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	zst[100] ^= 1
	q := filepath.Join(dir, "b.zst")
	if err := os.WriteFile(q, zst, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(q, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	g, _ := os.Open(q)
	k2, err := cacheKey(g, st.Size(), st.ModTime(), Zstd)
	g.Close()
	if err != nil || k1 == k2 || len(k1) != 40 {
		t.Errorf("keys %q %q (%v): want two different 40-digit keys", k1, k2, err)
	}
}

func TestSparseWriterLimits(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "sparse")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &sparseWriter{f: f, maxLogical: 1 << 20, maxPhysical: zeroBlock, dir: "D"}
	// Zero blocks cost no disk: 512 KiB of zeros pass a 64 KiB disk budget.
	if err := w.write(make([]byte, 512<<10)); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte{1}, zeroBlock)
	if err := w.write(data); err != nil {
		t.Fatal(err)
	}
	err = w.write(data)
	var le *LimitError
	if !errors.As(err, &le) || le.What != "free space in D (less a 512 MiB reserve)" || le.Limit != zeroBlock {
		t.Fatalf("over the disk budget: %v", err)
	}
	if w.off != 576<<10 || w.physical != zeroBlock {
		t.Errorf("logical %d physical %d, want %d %d", w.off, w.physical, 576<<10, zeroBlock)
	}
	w.maxPhysical = -1
	err = w.write(make([]byte, 512<<10))
	if !errors.As(err, &le) || le.What != "decompressed size (Options.MaxSize)" || le.Limit != 1<<20 {
		t.Fatalf("over MaxSize: %v", err)
	}
	if err := w.finish(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	b := make([]byte, 4)
	f.ReadAt(b, 512<<10-2)
	if st.Size() != 576<<10 || !bytes.Equal(b, []byte{0, 0, 1, 1}) {
		t.Errorf("file size %d bytes around the boundary %v", st.Size(), b)
	}
}

// The cache stays within its bound: three different compressed cores (the fixture, and
// two copies with one byte changed in their padding, so three cache keys) opened in turn
// with a bound of two cores' allocated size; the third open removes the least recently
// used one. The first was reused (touched) after the second was written, so the second
// goes.
func TestCacheBound(t *testing.T) {
	plain := plainCore(t)
	dir := t.TempDir()
	cache := filepath.Join(t.TempDir(), "cache")
	var paths []string
	for i := range 3 {
		b := append([]byte(nil), plain...)
		b[len(b)-1] ^= byte(i) // the last byte of the last segment: a different core
		p := filepath.Join(dir, fmt.Sprintf("core%d", i))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		compress(t, Zstd, p, p+".zst")
		paths = append(paths, p+".zst")
	}
	open := func(p string, max int64) *Source {
		t.Helper()
		s, err := Open(p, Options{CacheDir: cache, CacheMax: max})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		return s
	}
	first := open(paths[0], -1)
	var sys syscall.Stat_t
	if err := syscall.Stat(first.CachePath, &sys); err != nil {
		t.Fatal(err)
	}
	bound := 2*sys.Blocks*512 + 4096
	second := open(paths[1], bound)
	time.Sleep(10 * time.Millisecond) // mtimes must differ
	if again := open(paths[0], bound); again.Method != "reused cache "+first.CachePath {
		t.Fatalf("first core not reused: %s", again.Method)
	}
	third := open(paths[2], bound)
	if want := " (over the cache's bound of " + fmt.Sprint(bound) + " bytes: 1 least recently used entries removed)"; !strings.HasSuffix(third.Method, want) {
		t.Errorf("third open: method %q, want it to end %q", third.Method, want)
	}
	for _, c := range []struct {
		path string
		kept bool
	}{{first.CachePath, true}, {second.CachePath, false}, {third.CachePath, true}} {
		if _, err := os.Stat(c.path); (err == nil) != c.kept {
			t.Errorf("%s: exists %v, want %v", c.path, err == nil, c.kept)
		}
	}
}
