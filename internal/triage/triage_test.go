//go:build linux

package triage

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/coredig/coredig/internal/analysis"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

func TestMain(m *testing.M) { os.Exit(testcore.Main(m)) }

func write(t *testing.T, path string, data []byte, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func zstdBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(data, nil)
}

func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// jsonReport is coredig's full JSON report of a core, as `coredig --format json` writes.
func jsonReport(t *testing.T, tc *testcore.Core) []byte {
	t.Helper()
	c, err := core.Open(tc.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := analysis.New(c, symbolize.Options{})
	defer a.Close()
	var b bytes.Buffer
	if err := report.JSON(&b, a.Full(analysis.FullOptions{})); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// setXattr sets a systemd-coredump attribute, failing loudly where the file system
// has no user extended attributes.
func setXattr(t *testing.T, path, name, value string) {
	t.Helper()
	if err := syscall.Setxattr(path, "user.coredump."+name, []byte(value), 0); err != nil {
		if errors.Is(err, syscall.ENOTSUP) {
			t.Fatalf("the file system of %s has no user extended attributes (mount it with user_xattr, or set TMPDIR to one that has): %v", path, err)
		}
		t.Fatal(err)
	}
}

// TestTriageFolder triages one folder mixing every kind of input: plain, zstd and gzip
// cores, a systemd-coredump file with its xattrs, an apport report, a coredig JSON
// report, and files that are not crashes (empty, truncated, text, foreign JSON).
func TestTriageFolder(t *testing.T) {
	deref := testcore.Make(t, testcore.DerefPIE)
	derefNoPIE := testcore.Make(t, testcore.DerefNoPIE)
	abort := testcore.Make(t, testcore.Abort)
	assert := testcore.Make(t, testcore.Assert)

	dir := t.TempDir()
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }

	write(t, filepath.Join(dir, "a", "deref.core"), read(t, deref.Path), at(5))
	write(t, filepath.Join(dir, "a", "deref-nopie.core.zst"), zstdBytes(t, read(t, derefNoPIE.Path)), at(1))
	write(t, filepath.Join(dir, "b", "abort.core.gz"), gzipBytes(read(t, abort.Path)), at(2))
	write(t, filepath.Join(dir, "b", "abort.json"), jsonReport(t, abort), at(7))

	// systemd-coredump's store: the name and the xattrs it sets (systemd-coredump(8)).
	sysd := filepath.Join(dir, "coredump", "core.assert.0.0123456789abcdef0123456789abcdef."+strconv.Itoa(assert.PID)+".1772359200000000.zst")
	write(t, sysd, zstdBytes(t, read(t, assert.Path)), at(9))
	setXattr(t, sysd, "timestamp", strconv.FormatInt(at(3).UnixMicro(), 10))
	setXattr(t, sysd, "exe", "/opt/app/assert")
	setXattr(t, sysd, "pid", strconv.Itoa(assert.PID))

	// An apport report of the deref core, dated an hour before everything else.
	apportDate := at(-1).In(time.Local).Format(time.ANSIC)
	write(t, filepath.Join(dir, "crash", "_opt_app_deref.0.crash"), apportReport([][2]string{{"ProblemType", "Crash"},
		{"Date", apportDate}, {"ExecutablePath", "/opt/app/deref"}, {"Signal", "11"}}, read(t, deref.Path)), at(8))

	write(t, filepath.Join(dir, "junk", "empty"), nil, at(0))
	full := read(t, deref.Path)
	write(t, filepath.Join(dir, "junk", "truncated.core"), full[:len(full)/2], at(0))
	write(t, filepath.Join(dir, "junk", "notes.txt"), []byte("not a core\n"), at(0))
	write(t, filepath.Join(dir, "junk", "other.json"), []byte(`{"schema":"other/2"}`), at(0))

	got := Run([]string{dir}, Options{Workers: 2, Known: map[string]string{"abort @ do_abort < main": "https://tracker/issues/1"}})

	rel := func(p string) string { r, _ := filepath.Rel(dir, p); return r }
	for i := range got.Groups {
		g := &got.Groups[i]
		for j := range g.Cores {
			g.Cores[j] = rel(g.Cores[j])
		}
		g.Example = rel(g.Example)
	}
	for i := range got.Errors {
		got.Errors[i].Path = rel(got.Errors[i].Path)
	}
	rfc := func(h int) string { return at(h).UTC().Format(time.RFC3339) }
	want := &report.Triage{
		Schema: "coredig-triage/1",
		Groups: []report.TriageGroup{
			{Signature: "null_pointer_dereference @ deref < main", Class: "null_pointer_dereference", Frames: []string{"deref", "main"}, Count: 3,
				Cores:       []string{"a/deref-nopie.core.zst", "a/deref.core", "crash/_opt_app_deref.0.crash"},
				Executables: sorted(derefNoPIE.Exe, deref.Exe, "/opt/app/deref"), First: rfc(-1), Last: rfc(5), Example: "a/deref-nopie.core.zst"},
			{Signature: "abort @ do_abort < main", Class: "abort", Frames: []string{"do_abort", "main"}, Count: 2,
				Cores: []string{"b/abort.core.gz", "b/abort.json"}, Executables: []string{abort.Exe}, First: rfc(2), Last: rfc(7),
				Example: "b/abort.core.gz", Known: true, Note: "https://tracker/issues/1"},
			{Signature: "assertion_failed: x == N @ check_value < main", Class: "assertion_failed: x == N", Frames: []string{"check_value", "main"},
				Count: 1, Cores: []string{rel(sysd)}, Executables: []string{"/opt/app/assert"}, First: rfc(3), Last: rfc(3), Example: rel(sysd)},
		},
		Errors: []report.TriageError{
			{Path: "junk/empty", Reason: "empty file"},
			{Path: "junk/notes.txt", Reason: `not an ELF file (no \x7fELF magic)`},
			{Path: "junk/other.json", Reason: `JSON, but not a coredig/1 report with a signature (schema "other/2")`},
		},
	}
	// The truncated core's reason names its sizes, which vary with the run.
	var truncated string
	errs := got.Errors[:0]
	for _, e := range got.Errors {
		if e.Path == "junk/truncated.core" {
			truncated = e.Reason
			continue
		}
		errs = append(errs, e)
	}
	got.Errors = errs
	wantTrunc := "truncated core: " + strconv.Itoa(len(full)/2) + " of " + strconv.Itoa(len(full)) + " bytes, the crashing thread's stack is cut off"
	if truncated != wantTrunc {
		t.Errorf("truncated core: %q, want %q", truncated, wantTrunc)
	}
	// diagnosis.culprit (added by the owner analysis, when the branch has it) names
	// the example's program.
	culpritModule := map[string]string{want.Groups[0].Signature: derefNoPIE.Exe, want.Groups[1].Signature: abort.Exe, want.Groups[2].Signature: assert.Exe}
	for i := range got.Groups {
		g := &got.Groups[i]
		if len(g.Culprit) == 0 {
			continue
		}
		var c struct {
			Module string `json:"module"`
		}
		if err := json.Unmarshal(g.Culprit, &c); err != nil || c.Module != culpritModule[g.Signature] {
			t.Errorf("group %q: culprit %s, want module %s", g.Signature, g.Culprit, culpritModule[g.Signature])
		}
		g.Culprit = nil
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("triage:\n%s\nwant:\n%s", g, w)
	}
	if !New(got) {
		t.Errorf("New = false with two unknown groups")
	}
}

func sorted(s ...string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestTriageMissingPath(t *testing.T) {
	got := Run([]string{"/nonexistent/cores"}, Options{})
	want := []report.TriageError{{Path: "/nonexistent/cores", Reason: "stat /nonexistent/cores: no such file or directory"}}
	if len(got.Groups) != 0 || !reflect.DeepEqual(got.Errors, want) || !strings.HasPrefix(got.Schema, "coredig-triage/") {
		t.Errorf("triage %+v", got)
	}
}

// TestTriageJSONCulprit takes a coredig report's signature and diagnosis.culprit as they
// are, and renders the culprit in the text table.
func TestTriageJSONCulprit(t *testing.T) {
	dir := t.TempDir()
	doc := `{"schema":"coredig/1","process":{"executable":"/usr/bin/python3.12","arch":"x86_64"},
	  "core":{"path":"c","size":1,"expected_size":1,"truncated":false,"metadata":{"timestamp":"1772359200000000"}},
	  "signature":{"text":"null_pointer_dereference @ grpc._cython.cygrpc.poll","class":"null_pointer_dereference","frames":["grpc._cython.cygrpc.poll"]},
	  "diagnosis":{"kind":"null_pointer_dereference","summary":"s","evidence":{},
	    "culprit":{"module":"cygrpc.cpython-312-x86_64-linux-gnu.so","package":"grpcio","version":"1.62.0","source":"python-dist"}},
	  "threads":[],"modules":[],"warnings":[]}`
	for _, name := range []string{"one.json", "two.json"} {
		write(t, filepath.Join(dir, name), []byte(doc), time.Unix(0, 0))
	}
	got := Run([]string{dir}, Options{})
	if len(got.Groups) != 1 || len(got.Errors) != 0 {
		t.Fatalf("triage %+v", got)
	}
	g := got.Groups[0]
	wantCulprit := `{"module":"cygrpc.cpython-312-x86_64-linux-gnu.so","package":"grpcio","version":"1.62.0","source":"python-dist"}`
	if g.Count != 2 || g.Signature != "null_pointer_dereference @ grpc._cython.cygrpc.poll" || string(g.Culprit) != wantCulprit ||
		g.First != "2026-03-01T10:00:00Z" || g.Last != g.First || !reflect.DeepEqual(g.Executables, []string{"/usr/bin/python3.12"}) {
		t.Errorf("group %+v, culprit %s", g, g.Culprit)
	}
	var text bytes.Buffer
	if err := report.TriageText(&text, got, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "  culprit  grpcio 1.62.0 cygrpc.cpython-312-x86_64-linux-gnu.so (python-dist)\n") {
		t.Errorf("text lacks the culprit:\n%s", text.String())
	}
}
