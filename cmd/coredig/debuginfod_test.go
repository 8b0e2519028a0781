package main

// Debug information from a debuginfod server, and systemd-coredump's extended attributes
// (issue 6).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/testcore"
)

// TestElsewhereDebuginfod serves one library's separate debug file from a local
// debuginfod server: file:line for the library's frame appears only with the server
// configured; with the server gone the run still finishes promptly and says so.
func TestElsewhereDebuginfod(t *testing.T) {
	need(t, "gcc", "objcopy", "strip", "readelf")
	t.Setenv("DEBUGINFOD_URLS", "")
	tmp := t.TempDir()
	srcDir, err := filepath.Abs(filepath.Join("testdata", "elsewhere"))
	if err != nil {
		t.Fatal(err)
	}
	libSrc := filepath.Join(srcDir, "libx.c")
	lib := filepath.Join(tmp, "libx.so")
	debug := filepath.Join(tmp, "libx.debug")
	command(t, tmp, "gcc", "-O0", "-g", "-fPIC", "-shared", "-Wl,--build-id", "-o", lib, libSrc)
	command(t, tmp, "objcopy", "--only-keep-debug", lib, debug)
	command(t, tmp, "strip", "--strip-debug", lib)
	if s := command(t, "", "readelf", "-S", lib); strings.Contains(s, ".debug_info") || strings.Contains(s, ".gnu_debuglink") {
		t.Fatalf("libx.so still has debug info or a debuglink:\n%s", s)
	}
	prog := filepath.Join(tmp, "usex")
	command(t, tmp, "gcc", "-O0", "-g", "-I", srcDir, "-o", prog, filepath.Join(srcDir, "usex.c"), "-L", tmp, "-lx", "-Wl,-rpath,$ORIGIN")
	runDir := filepath.Join(tmp, "run")
	if err := os.Mkdir(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prog)
	cmd.Dir = runDir
	corePath := crash(t, cmd, runDir)
	libID := readelfBuildID(t, lib)
	if got := readelfBuildID(t, debug); got != libID {
		t.Fatalf("debug file build-id %s, library %s", got, libID)
	}
	debugBytes, err := os.ReadFile(debug)
	if err != nil {
		t.Fatal(err)
	}
	line := markerLine(t, libSrc, "x_store")

	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.URL.Path)
		if r.URL.Path == "/buildid/"+libID+"/debuginfo" {
			w.Write(debugBytes)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server at %s, want 127.0.0.1", srv.URL)
	}

	frame0 := func(d jDoc) jFrame {
		c := d.crashed(t)
		if len(c.Frames) < 2 || c.Frames[0].Function != "x_store" || c.Frames[0].Module != lib || c.Frames[1].Function != "main" || c.Frames[1].Module != prog {
			t.Fatalf("crashing thread frames %+v, want x_store in %s then main", c.Frames, lib)
		}
		return c.Frames[0]
	}

	// Without debuginfod: the name from .symtab, no file:line.
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache0"))
	d, _ := runJSON(t, exitOK, "bt", corePath)
	if f := frame0(d); f.File != "" || f.Line != 0 {
		t.Errorf("without debuginfod x_store has %s:%d", f.File, f.Line)
	}
	if len(requests) != 0 {
		t.Errorf("requests without debuginfod configured: %q", requests)
	}

	// With it, fresh cache: the exact line.
	cache := filepath.Join(tmp, "cache1")
	t.Setenv("XDG_CACHE_HOME", cache)
	d, _ = runJSON(t, exitOK, "bt", "--debuginfod", srv.URL, corePath)
	if f := frame0(d); f.File != libSrc || f.Line != line {
		t.Errorf("with debuginfod x_store at %s:%d, want %s:%d", f.File, f.Line, libSrc, line)
	}
	if !contains(requests, "/buildid/"+libID+"/debuginfo") {
		t.Errorf("requests %q, want the library's debuginfo", requests)
	}
	m := d.module(t, lib)
	if m.Status != "verified" || m.BuildID != libID || !strings.HasPrefix(m.DebugFile, cache+"/") {
		t.Errorf("libx.so module: status %q build-id %q debug file %q; want verified, %s, under %s", m.Status, m.BuildID, m.DebugFile, libID, cache)
	}
	if got, err := os.ReadFile(m.DebugFile); err != nil || !bytes.Equal(got, debugBytes) {
		t.Errorf("cached debug file %s: %v, same bytes as served: %v", m.DebugFile, err, bytes.Equal(got, debugBytes))
	}
	okVia := false
	for _, s := range m.Search {
		if s.OK && s.What == "debug via debuginfod" && s.Path == srv.URL+"/buildid/"+libID+"/debuginfo" &&
			s.Result == "build-id matches (downloaded to "+m.DebugFile+")" {
			okVia = true
		}
	}
	if !okVia {
		t.Errorf("libx.so search %+v, want a successful 'debug via debuginfod' entry", m.Search)
	}

	// Server gone, fresh cache: finishes, says the server failed, no file:line.
	srv.Close()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache2"))
	start := time.Now()
	code, out, errs := runCmd("--format", "json", "--debuginfod", srv.URL, corePath)
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("with the server stopped the run took %v, bound 15s", el)
	}
	if code != exitOK && code != exitWarnings {
		t.Fatalf("server stopped: exit %d, %s", code, errs)
	}
	d = jDoc{} // a fresh value: Unmarshal keeps fields the new JSON omits
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if f := frame0(d); f.File != "" || f.Line != 0 {
		t.Errorf("server stopped: x_store has %s:%d; module %+v", f.File, f.Line, d.module(t, lib))
	}
	m = d.module(t, lib)
	failed := false
	for _, s := range m.Search {
		if strings.Contains(s.What, "debuginfod") && !s.OK && strings.Contains(s.Path, "127.0.0.1") && s.Result != "" {
			failed = true
		}
	}
	if !failed {
		t.Errorf("server stopped: libx.so search %+v, want a failed debuginfod entry naming the server", m.Search)
	}
}

// TestElsewhereXattrs sets systemd-coredump's extended attributes on a copy of a core:
// they show in core.metadata and in the text header.
func TestElsewhereXattrs(t *testing.T) {
	t.Setenv("DEBUGINFOD_URLS", "")
	tc := testcore.Make(t, testcore.DerefPIE)
	attrs := map[string]string{
		"pid":       strconv.Itoa(tc.PID),
		"signal":    "11",
		"comm":      "deref",
		"exe":       tc.Exe,
		"timestamp": "1764130000000000",
	}
	var p string
	var reasons []string
	for _, dir := range []string{t.TempDir(), "/dev/shm"} {
		d, err := os.MkdirTemp(dir, "xattr")
		if err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		cand := filepath.Join(d, "core")
		copyFile(t, tc.Path, cand)
		err = syscall.Setxattr(cand, "user.coredump.pid", []byte(attrs["pid"]), 0)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", dir, err))
			continue
		}
		p = cand
		break
	}
	if p == "" {
		t.Fatalf("no filesystem here accepts user.* extended attributes: %s", strings.Join(reasons, "; "))
	}
	for k, v := range attrs {
		if err := syscall.Setxattr(p, "user.coredump."+k, []byte(v), 0); err != nil {
			t.Fatal(err)
		}
	}
	// Another namespace's attribute and an unrelated user one are not metadata.
	if err := syscall.Setxattr(p, "user.other", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}

	d, _ := runJSON(t, exitOK, "summary", p)
	if !reflect.DeepEqual(d.Core.Metadata, attrs) {
		t.Errorf("core.metadata %v, want %v", d.Core.Metadata, attrs)
	}
	code, out, errs := runCmd("summary", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var want strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&want, "%-12s %s = %s\n", "coredump", k, attrs[k])
	}
	if !strings.Contains(out, want.String()) {
		t.Errorf("text header lacks the metadata lines\n%s\nin:\n%s", want.String(), out)
	}

	// The original core has none.
	d, _ = runJSON(t, exitOK, "summary", tc.Path)
	if d.Core.Metadata != nil {
		t.Errorf("core without attributes has metadata %v", d.Core.Metadata)
	}
}
