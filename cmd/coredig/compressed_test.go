package main

// Compressed cores and cores on standard input, read as the plain core is (issue 6).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/testcore"
)

// TestElsewhereCompressed feeds the same core compressed by each CLI, with and without
// the extension in its name, and on stdin: the JSON is the plain core's apart from the
// core's path, compression and access.
func TestElsewhereCompressed(t *testing.T) {
	need(t, "zstd", "lz4", "xz", "gzip")
	t.Setenv("DEBUGINFOD_URLS", "")
	tmp := t.TempDir()
	cache := filepath.Join(tmp, "cache")
	t.Setenv("XDG_CACHE_HOME", cache)
	tc := testcore.Make(t, testcore.DerefPIE)

	decode := func(out string) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("JSON: %v", err)
		}
		return m
	}
	strip := func(m map[string]any) (path, compression, access string) {
		c := m["core"].(map[string]any)
		path, _ = c["path"].(string)
		compression, _ = c["compression"].(string)
		access, _ = c["access"].(string)
		delete(c, "path")
		delete(c, "compression")
		delete(c, "access")
		return
	}
	code, out, errs := runCmd("--format", "json", tc.Path)
	if code != exitOK {
		t.Fatalf("plain core: exit %d, %s", code, errs)
	}
	plain := decode(out)
	if p, c, a := strip(plain); p != tc.Path || c != "none" || a != "direct" {
		t.Errorf("plain core: path %q compression %q access %q", p, c, a)
	}
	if size := plain["core"].(map[string]any)["size"]; size != float64(tc.Size) {
		t.Errorf("plain core size %v, want %d", size, tc.Size)
	}

	for _, f := range []struct {
		name, ext string
		args      []string // the compressor reads the core on stdin and writes stdout
	}{
		{"zstd", ".zst", []string{"zstd", "-q", "-c"}},
		{"lz4", ".lz4", []string{"lz4", "-q", "-c"}},
		{"xz", ".xz", []string{"xz", "-T1", "-c"}},
		{"gzip", ".gz", []string{"gzip", "-c"}},
	} {
		t.Run(f.name, func(t *testing.T) {
			withExt := filepath.Join(tmp, "core"+f.ext)
			in, err := os.Open(tc.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			outf, err := os.Create(withExt)
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(f.args[0], f.args[1:]...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = in, outf, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s: %v %s", f.args, err, stderr.String())
			}
			outf.Close()
			noExt := filepath.Join(tmp, "stored-"+f.name)
			copyFile(t, withExt, noExt)

			for _, p := range []string{withExt, noExt} {
				code, out, errs := runCmd("--format", "json", p)
				if code != exitOK {
					t.Fatalf("%s: exit %d, %s", p, code, errs)
				}
				got := decode(out)
				gp, gc, ga := strip(got)
				// The copy without the extension holds the same bytes: it may reuse the
				// first one's decompressed file.
				cached, ok := strings.CutPrefix(ga, "decompressed to cache ")
				if !ok {
					cached, ok = strings.CutPrefix(ga, "reused cache ")
					ok = ok && p == noExt
				}
				if gp != p || gc != f.name || !ok || filepath.Dir(cached) != filepath.Join(cache, "coredig") {
					t.Errorf("%s: path %q compression %q access %q", p, gp, gc, ga)
				}
				if !reflect.DeepEqual(got, plain) {
					t.Errorf("%s: JSON differs from the plain core's:\n%s", p, jsonDiff(got, plain))
				}
				// The second run reuses the decompressed copy.
				code, out, _ = runCmd("--format", "json", p)
				again := decode(out)
				if _, _, a := strip(again); code != exitOK || a != "reused cache "+cached {
					t.Errorf("%s second run: exit %d access %q, want the cache reused (first: %q)", p, code, a, ga)
				}
			}

			// Standard input.
			stdin, err := os.Open(withExt)
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			var sout, serr bytes.Buffer
			if code := run([]string{"--format", "json", "-"}, stdin, &sout, &serr); code != exitOK {
				t.Fatalf("stdin: exit %d, %s", code, serr.String())
			}
			got := decode(sout.String())
			gp, gc, ga := strip(got)
			if gp != "-" || gc != f.name || !strings.HasPrefix(ga, "decompressed stdin to temporary ") || !strings.HasSuffix(ga, " (removed on close)") {
				t.Errorf("stdin: path %q compression %q access %q", gp, gc, ga)
			}
			if !reflect.DeepEqual(got, plain) {
				t.Errorf("stdin: JSON differs from the plain core's:\n%s", jsonDiff(got, plain))
			}
			tmpName := strings.TrimSuffix(strings.TrimPrefix(ga, "decompressed stdin to temporary "), " (removed on close)")
			if _, err := os.Stat(tmpName); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("stdin temporary %s still exists after the run (%v)", tmpName, err)
			}
		})
	}
}

// jsonDiff lists the top-level keys (and the core object's keys) whose values differ.
func jsonDiff(a, b map[string]any) string {
	var out []string
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for k := range keys {
		if !reflect.DeepEqual(a[k], b[k]) {
			ja, _ := json.Marshal(a[k])
			jb, _ := json.Marshal(b[k])
			out = append(out, fmt.Sprintf("%s:\n  got  %.600s\n  want %.600s", k, ja, jb))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
