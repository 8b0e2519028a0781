package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/coredig/coredig/internal/testcore"
)

var updateCatalogue = flag.Bool("update-catalogue", false,
	"make every catalogue core anew (testcore.Make), rewrite testdata/catalogue and the catalogue goldens")

// The committed catalogue cores and how to open them: see testdata/catalogue/README.md.
const (
	catalogueDir      = "../../testdata/catalogue"
	catalogueManifest = "manifest.txt"
	catalogueGoldens  = "testdata/catalogue"
	// exeDirToken stands for the temporary directory an executable fixture is
	// decompressed into, in the manifest and in the goldens.
	exeDirToken = "EXEDIR"
	// coreToken stands for testdata/catalogue/<name>.core.zst in the manifest.
	coreToken = "CORE"
)

// catalogueEntry is one line of the manifest: the core's name, the exit status
// of coredig on it, and its arguments after the output flags.
type catalogueEntry struct {
	name string
	exit int
	args []string
}

// TestCatalogueReports renders the full JSON and text report of every core of
// testcore.Catalog(), as committed in testdata/catalogue, and compares them with
// testdata/catalogue/<name>.{json,txt}.golden and the exit status in the manifest.
// The cores are fixed (made once, see testdata/catalogue/README.md), so the goldens
// say byte for byte what coredig reports on them: a refactor must leave them as they
// are. The JSON run decompresses each core into the cache, the text run reuses it.
//
//	go test ./cmd/coredig -run TestCatalogueReports -update             rewrites the goldens and exit statuses
//	go test ./cmd/coredig -run TestCatalogueReports -update-catalogue   makes the cores anew, then the same
func TestCatalogueReports(t *testing.T) {
	if *updateCatalogue {
		makeCatalogue(t)
	}
	entries := readManifest(t)
	var want []string
	for _, s := range testcore.Catalog() {
		want = append(want, s.Name)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the manifest lists %q but testcore.Catalog() is %q: run go test ./cmd/coredig -run TestCatalogueReports -update-catalogue", got, want)
	}
	// Nothing from the host's cache or network.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("DEBUGINFOD_URLS", "")

	for i := range entries {
		e := &entries[i]
		t.Run(e.name, func(t *testing.T) {
			args := catalogueArgs(t, e)
			code := exitOK
			for _, out := range []struct{ golden, format string }{
				{e.name + ".json.golden", "json"},
				{e.name + ".txt.golden", "text"},
			} {
				flags := []string{"--format", out.format}
				if out.format == "text" {
					flags = []string{"--color", "never"}
				}
				c, stdout, stderr := runCmd(append(flags, args.argv...)...)
				if stderr != "" {
					t.Errorf("%s: stderr %q", out.format, stderr)
				}
				if out.format == "json" {
					code = c
				} else if c != code {
					t.Errorf("exit %d with text output, %d with JSON", c, code)
				}
				compareGolden(t, filepath.Join(catalogueGoldens, out.golden), args.normalise(stdout))
			}
			if *update || *updateCatalogue {
				e.exit = code
			} else if code != e.exit {
				t.Errorf("exit %d, the manifest says %d", code, e.exit)
			}
		})
	}
	if *update || *updateCatalogue {
		writeManifest(t, entries)
	}
}

// resolvedArgs are an entry's arguments with its fixtures in place.
type resolvedArgs struct {
	argv   []string
	exeDir string
}

// normalise hides what is not a property of the core: where the executable was
// decompressed and where the core's decompressed copy is cached.
func (r resolvedArgs) normalise(out string) string {
	out = cachePath.ReplaceAllString(out, "decompressed to cache CACHE")
	if r.exeDir != "" {
		out = strings.ReplaceAll(out, r.exeDir, exeDirToken)
	}
	return out
}

// catalogueArgs replaces CORE by the committed core and EXEDIR/<file> by the
// executable fixture, decompressed into a temporary directory.
func catalogueArgs(t *testing.T, e *catalogueEntry) resolvedArgs {
	t.Helper()
	var r resolvedArgs
	for _, a := range e.args {
		switch {
		case a == coreToken:
			a = filepath.Join(catalogueDir, e.name+".core.zst")
		case strings.HasPrefix(a, exeDirToken+"/"):
			r.exeDir = t.TempDir()
			dst := filepath.Join(r.exeDir, strings.TrimPrefix(a, exeDirToken+"/"))
			unzstd(t, filepath.Join(catalogueDir, e.name+".exe.zst"), dst)
			a = dst
		}
		r.argv = append(r.argv, a)
	}
	return r
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update || *updateCatalogue {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/coredig -run TestCatalogueReports -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test ./cmd/coredig -run TestCatalogueReports -update rewrites it):\n%s",
			path, lineDiff(string(want), got))
	}
}

// lineDiff shows the first differing lines of want and got with a little
// context: the reports run to thousands of lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (want %d lines, got %d)\n", i+1, len(w), len(g))
	from := max(i-3, 0)
	for j := from; j < i; j++ {
		fmt.Fprintf(&b, "  %s\n", w[j])
	}
	for j := i; j < min(i+5, len(w)); j++ {
		fmt.Fprintf(&b, "- %s\n", w[j])
	}
	for j := i; j < min(i+5, len(g)); j++ {
		fmt.Fprintf(&b, "+ %s\n", g[j])
	}
	return b.String()
}

func unzstd(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	d, err := zstd.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, d); err != nil {
		out.Close()
		t.Fatalf("decompressing %s: %v", src, err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

const manifestHeader = `# The catalogue cores (README.md): one line per testcore.Catalog() spec.
# name, exit status of coredig, arguments after --format json or --color never.
# CORE is <name>.core.zst here; EXEDIR/<file> is <name>.exe.zst decompressed as <file>
# into a temporary directory, and EXEDIR stands for that directory in the goldens.
# Written by go test ./cmd/coredig -run TestCatalogueReports -update-catalogue
# (-update rewrites only the exit statuses).
`

func readManifest(t *testing.T) []catalogueEntry {
	t.Helper()
	path := filepath.Join(catalogueDir, catalogueManifest)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/coredig -run TestCatalogueReports -update-catalogue makes it)", err)
	}
	defer f.Close()
	var entries []catalogueEntry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			t.Fatalf("%s:%d: want name, exit status and arguments: %q", path, n, line)
		}
		code, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatalf("%s:%d: exit status: %v", path, n, err)
		}
		entries = append(entries, catalogueEntry{name: fields[0], exit: code, args: fields[2:]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return entries
}

func writeManifest(t *testing.T, entries []catalogueEntry) {
	t.Helper()
	var b strings.Builder
	b.WriteString(manifestHeader)
	for _, e := range entries {
		fmt.Fprintf(&b, "%-24s %d %s\n", e.name, e.exit, strings.Join(e.args, " "))
	}
	if err := os.WriteFile(filepath.Join(catalogueDir, catalogueManifest), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeCatalogue makes every catalogue core with testcore.Make and writes it, with
// its executable unless that is the pyenv interpreter, zstd -19 compressed, and a
// manifest whose exit statuses the test then fills in.
func makeCatalogue(t *testing.T) {
	need(t, "zstd")
	cleanEnv(t)
	var entries []catalogueEntry
	for _, s := range testcore.Catalog() {
		tc := testcore.Make(t, s)
		compress(t, tc.Path, filepath.Join(catalogueDir, s.Name+".core.zst"))
		var args []string
		if tc.Sysroot != "" {
			args = append(args, "--sysroot", tc.Sysroot)
		}
		args = append(args, coreToken)
		if s.Python != "" {
			args = append(args, tc.Exe)
		} else {
			compress(t, tc.Exe, filepath.Join(catalogueDir, s.Name+".exe.zst"))
			args = append(args, exeDirToken+"/"+filepath.Base(tc.Exe))
		}
		entries = append(entries, catalogueEntry{name: s.Name, exit: -1, args: args})
	}
	writeManifest(t, entries)
}

// catalogueEnv are the variables kept for the crashers that make the catalogue:
// the environment is copied onto their stacks, and variables such as
// PYTHONUNBUFFERED change how they run, so everything else is dropped.
var catalogueEnv = []string{"PATH", "HOME", "GOROOT"}

// cleanEnv leaves only catalogueEnv and LANG=C.UTF-8 in the environment until t ends.
func cleanEnv(t *testing.T) {
	saved := os.Environ()
	t.Cleanup(func() {
		os.Clearenv()
		for _, kv := range saved {
			k, v, _ := strings.Cut(kv, "=")
			os.Setenv(k, v)
		}
	})
	keep := map[string]string{"LANG": "C.UTF-8"}
	for _, k := range catalogueEnv {
		if v, ok := os.LookupEnv(k); ok {
			keep[k] = v
		}
	}
	os.Clearenv()
	for k, v := range keep {
		os.Setenv(k, v)
	}
}

func compress(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("zstd", "-q", "-19", "-f", src, "-o", dst).CombinedOutput(); err != nil {
		t.Fatalf("zstd -19 %s: %v\n%s", src, err, out)
	}
}
