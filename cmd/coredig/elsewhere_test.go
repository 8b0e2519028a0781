package main

// End-to-end tests of issue 6, "Cores from elsewhere": cores analysed away from where they
// were made (an extracted container root, renamed binaries, a rebuilt binary, a qemu-user
// aarch64 guest), compressed or fed on stdin, truncated, with debug info from a
// debuginfod server, and with systemd-coredump's extended attributes. Every test drives
// the command as a user would (run, flags, JSON) and checks exact values against an
// independent source: readelf for build-ids, debug/elf for file offsets, gdb for what a
// truncated core still shows, the crasher's source for function names and lines.

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/testcore"
)

// The parts of the coredig/1 JSON these tests read (doc/json-schema.md).
type (
	jFrame struct {
		Index        int    `json:"index"`
		PC           string `json:"pc"`
		Module       string `json:"module"`
		ModuleOffset string `json:"module_offset"`
		Function     string `json:"function"`
		File         string `json:"file"`
		Line         int    `json:"line"`
		Inlined      bool   `json:"inlined"`
		FoundBy      string `json:"found_by"`
		Error        string `json:"error"`
		Unverified   bool   `json:"unverified"`
	}
	jThread struct {
		TID       int               `json:"tid"`
		Crashed   bool              `json:"crashed"`
		Registers map[string]string `json:"registers"`
		Frames    []jFrame          `json:"frames"`
		Error     string            `json:"error"`
	}
	jSearch struct {
		Path   string `json:"path"`
		What   string `json:"what"`
		Result string `json:"result"`
		OK     bool   `json:"ok"`
	}
	jModule struct {
		Path        string    `json:"path"`
		File        string    `json:"file"`
		BuildID     string    `json:"build_id"`
		FileBuildID string    `json:"file_build_id"`
		Status      string    `json:"status"`
		DebugFile   string    `json:"debug_file"`
		Executable  bool      `json:"executable"`
		VDSO        bool      `json:"vdso"`
		Search      []jSearch `json:"search"`
	}
	jStack struct {
		TID     int    `json:"tid"`
		SP      string `json:"sp"`
		End     string `json:"end"`
		Bytes   uint64 `json:"bytes"`
		Present uint64 `json:"present"`
		State   string `json:"state"`
	}
	jDoc struct {
		Core struct {
			Path         string            `json:"path"`
			Size         int64             `json:"size"`
			ExpectedSize int64             `json:"expected_size"`
			Truncated    bool              `json:"truncated"`
			Compression  string            `json:"compression"`
			Access       string            `json:"access"`
			Metadata     map[string]string `json:"metadata"`
		} `json:"core"`
		Signal *struct {
			Number   int    `json:"number"`
			Name     string `json:"name"`
			CodeName string `json:"code_name"`
			Address  string `json:"address"`
		} `json:"signal"`
		CrashedTID int       `json:"crashed_tid"`
		Threads    []jThread `json:"threads"`
		Modules    []jModule `json:"modules"`
		Coverage   *struct {
			FileEnds int64    `json:"file_ends"`
			Stacks   []jStack `json:"stacks"`
		} `json:"coverage"`
		Warnings []string `json:"warnings"`
	}
)

// runJSON runs coredig with --format json and decodes its output; it fails the test
// when the exit status is not want.
func runJSON(t *testing.T, want int, args ...string) (jDoc, string) {
	t.Helper()
	code, out, errs := runCmd(append([]string{"--format", "json"}, args...)...)
	if code != want {
		t.Fatalf("coredig %q: exit %d, want %d; stderr %q", args, code, want, errs)
	}
	var d jDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("coredig %q: JSON: %v\n%.2000s", args, err, out)
	}
	return d, out
}

func (d jDoc) module(t *testing.T, path string) jModule {
	t.Helper()
	for _, m := range d.Modules {
		if m.Path == path {
			return m
		}
	}
	var names []string
	for _, m := range d.Modules {
		names = append(names, m.Path)
	}
	t.Fatalf("no module %s; modules %q", path, names)
	return jModule{}
}

func (d jDoc) crashed(t *testing.T) jThread {
	t.Helper()
	for _, th := range d.Threads {
		if th.Crashed {
			if th.TID != d.CrashedTID {
				t.Errorf("crashed thread %d but crashed_tid %d", th.TID, d.CrashedTID)
			}
			return th
		}
	}
	t.Fatalf("no crashed thread among %d", len(d.Threads))
	return jThread{}
}

// threadWith returns the thread one of whose frames is fn, failing when there is none.
func (d jDoc) threadWith(t *testing.T, fn string) (jThread, int) {
	t.Helper()
	for _, th := range d.Threads {
		for i, f := range th.Frames {
			if f.Function == fn {
				return th, i
			}
		}
	}
	t.Fatalf("no thread has a frame in %s", fn)
	return jThread{}, 0
}

func names(frames []jFrame) []string {
	out := make([]string, len(frames))
	for i, f := range frames {
		out[i] = f.Function
	}
	return out
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required by this test (scripts/deps.sh installs it): %v", tool, err)
		}
	}
}

func command(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

var readelfBuildIDRe = regexp.MustCompile(`Build ID: ([0-9a-f]+)`)

// readelfBuildID is the GNU build-id of an ELF file as readelf -n prints it.
func readelfBuildID(t *testing.T, p string) string {
	t.Helper()
	m := readelfBuildIDRe.FindStringSubmatch(command(t, "", "readelf", "-n", p))
	if m == nil {
		t.Fatalf("readelf -n %s shows no build-id", p)
	}
	return m[1]
}

// markerLine is the line of the "LINE: marker" comment in a source file.
func markerLine(t *testing.T, file, marker string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "LINE: "+marker+" ") || strings.HasSuffix(l, "LINE: "+marker) {
			return i + 1
		}
	}
	t.Fatalf("%s has no LINE: %s marker", file, marker)
	return 0
}

// crash runs cmd, which must die of SIGSEGV with a core dump, and returns the core the
// kernel wrote into coreDir (the host path of the process's working directory).
func crash(t *testing.T, cmd *exec.Cmd, coreDir string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil {
		t.Fatalf("reading core_pattern: %v", err)
	}
	pattern := strings.TrimSpace(string(b))
	switch {
	case pattern == "":
		t.Fatalf("kernel.core_pattern is empty: no core is written; run `sysctl kernel.core_pattern=core`")
	case strings.HasPrefix(pattern, "|"):
		t.Fatalf("kernel.core_pattern %q pipes cores to a program; these tests need a file in the working directory: run `sysctl kernel.core_pattern=core`", pattern)
	case strings.Contains(pattern, "/"):
		t.Fatalf("kernel.core_pattern %q names another directory; these tests need a file in the working directory: run `sysctl kernel.core_pattern=core`", pattern)
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Max < 1<<30 {
		t.Fatalf("the hard RLIMIT_CORE is %d bytes: raise it (`ulimit -Hc unlimited` as root)", rl.Max)
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &rl); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "LD_PRELOAD=")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not crash within a minute; output %q", cmd.Path, out.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("%s: %v, want a SIGSEGV; output %q", cmd.Path, err, out.String())
	}
	ws := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSEGV || !ws.CoreDump() {
		t.Fatalf("%s: %v (core dumped %v), want SIGSEGV with a core; output %q", cmd.Path, err, ws.CoreDump(), out.String())
	}
	cores, _ := filepath.Glob(filepath.Join(coreDir, "core*"))
	if len(cores) != 1 {
		t.Fatalf("want exactly one core in %s after the crash (core_pattern %q), found %q", coreDir, pattern, cores)
	}
	return cores[0]
}

// mirror copies the host file p into root at the same path, recreating on the way every
// directory and symbolic link the host has (Debian's /lib -> usr/lib, /lib64/ld-linux
// -> /lib/x86_64-linux-gnu/...), as a container image has them.
func mirror(t *testing.T, root, p string) {
	t.Helper()
	for hops := 0; ; hops++ {
		if hops > 40 {
			t.Fatalf("mirror %s: too many symbolic links", p)
		}
		comps := strings.Split(strings.Trim(filepath.Clean(p), "/"), "/")
		cur := "/"
		next := ""
		for i, c := range comps {
			host := filepath.Join(cur, c)
			st, err := os.Lstat(host)
			if err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(root, host)
			switch {
			case st.Mode()&fs.ModeSymlink != 0:
				target, err := os.Readlink(host)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Lstat(in); err != nil {
					if err := os.MkdirAll(filepath.Dir(in), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.Symlink(target, in); err != nil {
						t.Fatal(err)
					}
				}
				if !filepath.IsAbs(target) {
					target = filepath.Join(cur, target)
				}
				next = filepath.Join(append([]string{target}, comps[i+1:]...)...)
			case st.IsDir():
				if err := os.MkdirAll(in, 0o755); err != nil {
					t.Fatal(err)
				}
				cur = host
				continue
			default:
				copyFile(t, host, in)
			}
			break
		}
		if next == "" {
			return
		}
		p = next
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// lddLibraries lists the absolute paths ldd gives for the shared libraries exe loads
// (the dynamic loader included, the vDSO not).
func lddLibraries(t *testing.T, exe string) []string {
	t.Helper()
	var libs []string
	for _, l := range strings.Split(command(t, "", "ldd", exe), "\n") {
		l = strings.TrimSpace(l)
		if _, after, ok := strings.Cut(l, "=> "); ok {
			l = after
		}
		if p, _, ok := strings.Cut(l, " ("); ok && strings.HasPrefix(p, "/") {
			libs = append(libs, p)
		}
	}
	if len(libs) < 2 {
		t.Fatalf("ldd %s: want libc and the loader, got %q", exe, libs)
	}
	return libs
}

const appPath = "/opt/app/deref" // where the program lives in the container root

// TestElsewhereSysroot makes a core inside a small root filesystem (chroot: the core
// names /opt/app/deref and the libraries by their paths inside it, as a container's core
// does), moves the root, and finds every module under --sysroot; then finds the
// executable again by build-id under a new name with --search; then puts a rebuilt
// binary with another build-id in its place and checks that it is refused (and used,
// marked unverified, only with --allow-mismatch).
func TestElsewhereSysroot(t *testing.T) {
	need(t, "gcc", "ldd", "readelf")
	t.Setenv("DEBUGINFOD_URLS", "")
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	src := testcore.SourcePath(t, "deref.c")
	exe := filepath.Join(root, appPath)
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	command(t, "", "gcc", "-O0", "-g", "-pthread", "-o", exe, src)
	libs := lddLibraries(t, exe)
	for _, l := range libs {
		mirror(t, root, l)
	}
	if err := os.MkdirAll(filepath.Join(root, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(appPath)
	cmd.Dir = "/work"
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	made := crash(t, cmd, filepath.Join(root, "work"))
	corePath := filepath.Join(tmp, "core")
	if err := os.Rename(made, corePath); err != nil {
		t.Fatal(err)
	}
	exeID := readelfBuildID(t, exe)

	// The root moves: nothing the core names is where the core says.
	root2 := filepath.Join(tmp, "root2")
	if err := os.Rename(root, root2); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(appPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s exists on this host (%v): the test needs the core's path to be absent", appPath, err)
	}

	// The modules the core names: the program and the real paths of the libraries
	// (NT_FILE holds the path of the mapped file, symbolic links resolved).
	want := map[string]string{appPath: filepath.Join(root2, appPath)}
	for _, l := range libs {
		real, err := filepath.EvalSymlinks(l)
		if err != nil {
			t.Fatal(err)
		}
		want[real] = filepath.Join(root2, real)
	}

	var sysrootBT jDoc
	t.Run("sysroot", func(t *testing.T) {
		d, _ := runJSON(t, exitOK, "modules", "--sysroot", root2, corePath)
		if len(d.Modules) != len(want)+1 {
			t.Errorf("%d modules, want %d (%v and the vDSO)", len(d.Modules), len(want)+1, want)
		}
		for _, m := range d.Modules {
			if m.VDSO {
				if m.Status != "in_memory" || m.Path != "[vdso]" {
					t.Errorf("vDSO: %+v", m)
				}
				continue
			}
			file, ok := want[m.Path]
			if !ok {
				t.Errorf("unexpected module %s", m.Path)
				continue
			}
			id := readelfBuildID(t, file)
			if m.Status != "verified" || m.File != file || m.BuildID != id || m.FileBuildID != id || m.Executable != (m.Path == appPath) {
				t.Errorf("module %s: status %q file %q build-id %q file build-id %q executable %v; want verified, %s, %s",
					m.Path, m.Status, m.File, m.BuildID, m.FileBuildID, m.Executable, file, id)
			}
			if len(m.Search) == 0 || m.Search[0] != (jSearch{Path: file, What: "executable via sysroot", Result: "build-id matches", OK: true}) {
				t.Errorf("module %s: first search entry %+v, want the sysroot path matching", m.Path, m.Search)
			}
		}
		if d.module(t, appPath).BuildID != exeID {
			t.Errorf("executable build-id %s, readelf %s", d.module(t, appPath).BuildID, exeID)
		}

		sysrootBT, _ = runJSON(t, exitOK, "bt", "--sysroot", root2, corePath)
		checkDerefFrames(t, sysrootBT, src, false)
		// libc frames are symbolized from the file under the sysroot.
		th, i := sysrootBT.threadWith(t, "worker_sleep")
		for _, f := range th.Frames[:i] {
			if f.Module != "/usr/lib/x86_64-linux-gnu/libc.so.6" || f.Function == "" {
				t.Errorf("sleeping thread frame %d: module %q function %q, want a named libc frame", f.Index, f.Module, f.Function)
			}
		}
	})

	t.Run("no sysroot", func(t *testing.T) {
		d, _ := runJSON(t, exitOK, "modules", corePath)
		m := d.module(t, appPath)
		if m.Status != "file_missing" || m.File != "" || m.BuildID != exeID {
			t.Errorf("without --sysroot the executable is %+v, want file_missing with build-id %s", m, exeID)
		}
	})

	t.Run("search", func(t *testing.T) {
		dir := filepath.Join(tmp, "search")
		renamed := filepath.Join(dir, "nested", "renamed-binary")
		copyFile(t, filepath.Join(root2, appPath), renamed)
		d, _ := runJSON(t, exitOK, "modules", "--search", dir, corePath)
		m := d.module(t, appPath)
		// The unstripped binary carries its own DWARF: it is not reported as its own
		// separate debug file.
		if m.Status != "verified" || m.File != renamed || m.FileBuildID != exeID || m.DebugFile != "" {
			t.Errorf("executable %+v, want verified at %s with build-id %s and no separate debug file", m, renamed, exeID)
		}
		wantSearch := []jSearch{
			{Path: appPath, What: "executable via path", Result: "not found"},
			{Path: renamed, What: "executable via search", Result: "build-id matches", OK: true},
		}
		if len(m.Search) < 2 || !reflect.DeepEqual(m.Search[:2], wantSearch) {
			t.Errorf("search trail %+v, want it to start with %+v", m.Search, wantSearch)
		}
		bt, _ := runJSON(t, exitOK, "bt", "--search", dir, corePath)
		checkDerefFrames(t, bt, src, false)
		// The same frames as through the sysroot: the files are byte-identical.
		if sysrootBT.Threads != nil {
			for i := range bt.Threads {
				if a, b := bt.Threads[i].Frames, sysrootBT.Threads[i].Frames; !reflect.DeepEqual(a, b) {
					t.Errorf("thread %d: --search frames differ from --sysroot frames:\n%+v\n%+v", bt.Threads[i].TID, a, b)
				}
			}
		}
	})

	t.Run("mismatch", func(t *testing.T) {
		// A rebuilt program with another build-id in place of the original, in a root
		// that is otherwise the same.
		root3 := filepath.Join(tmp, "root3")
		for _, l := range libs {
			mirror(t, root3, l)
		}
		const otherID = "0123456789abcdef0123456789abcdef01234567"
		rebuilt := filepath.Join(root3, appPath)
		if err := os.MkdirAll(filepath.Dir(rebuilt), 0o755); err != nil {
			t.Fatal(err)
		}
		command(t, "", "gcc", "-O0", "-g", "-pthread", "-Wl,--build-id=0x"+otherID, "-o", rebuilt, src)
		if got := readelfBuildID(t, rebuilt); got != otherID || got == exeID {
			t.Fatalf("rebuilt build-id %s, want %s (original %s)", got, otherID, exeID)
		}
		d, _ := runJSON(t, exitOK, "modules", "--sysroot", root3, corePath)
		m := d.module(t, appPath)
		if m.Status != "mismatch" || m.BuildID != exeID || m.FileBuildID != otherID || m.File != rebuilt {
			t.Errorf("executable status %q build-id %q file build-id %q file %q; want mismatch, %s, %s, %s",
				m.Status, m.BuildID, m.FileBuildID, m.File, exeID, otherID, rebuilt)
		}
		wantTry := jSearch{Path: rebuilt, What: "executable via sysroot", Result: "wrong build-id: " + otherID}
		if len(m.Search) == 0 || m.Search[0] != wantTry {
			t.Errorf("search %+v, want first %+v", m.Search, wantTry)
		}
		warn := fmt.Sprintf("%s: build-id of %s is %s but the core has %s; the file is not used", appPath, rebuilt, otherID, exeID)
		if !contains(d.Warnings, warn) {
			t.Errorf("warnings %q, want %q", d.Warnings, warn)
		}

		// Frames in the refused file carry no names, never wrong ones.
		bt, _ := runJSON(t, exitOK, "bt", "--sysroot", root3, corePath)
		if !contains(bt.Warnings, warn) {
			t.Errorf("bt warnings %q, want %q", bt.Warnings, warn)
		}
		inExe := 0
		for _, th := range bt.Threads {
			for _, f := range th.Frames {
				if f.Module != appPath {
					continue
				}
				inExe++
				if f.Function != "" || f.File != "" || f.Line != 0 || f.Unverified {
					t.Errorf("thread %d frame %d in the mismatched program: function %q %s:%d unverified %v, want no symbol",
						th.TID, f.Index, f.Function, f.File, f.Line, f.Unverified)
				}
			}
		}
		c := bt.crashed(t)
		if inExe < 5 || c.Frames[0].Module != appPath || c.Frames[0].ModuleOffset != sysrootBT.crashed(t).Frames[0].ModuleOffset {
			t.Errorf("%d frames in the program; crashing frame %+v", inExe, c.Frames[0])
		}

		// --allow-mismatch: used, every frame from it marked.
		bt, _ = runJSON(t, exitOK, "bt", "--allow-mismatch", "--sysroot", root3, corePath)
		checkDerefFrames(t, bt, src, true)
		for _, th := range bt.Threads {
			for _, f := range th.Frames {
				if f.Unverified != (f.Module == appPath) {
					t.Errorf("thread %d frame %d (%s in %s): unverified %v", th.TID, f.Index, f.Function, f.Module, f.Unverified)
				}
			}
		}
		d, _ = runJSON(t, exitOK, "modules", "--allow-mismatch", "--sysroot", root3, corePath)
		if m := d.module(t, appPath); m.Status != "mismatch" || m.FileBuildID != otherID {
			t.Errorf("--allow-mismatch: executable %+v, want still mismatch", m)
		}

		// The same file given as the EXE argument is checked the same way.
		d, _ = runJSON(t, exitOK, "modules", corePath, rebuilt)
		if m := d.module(t, appPath); m.Status != "mismatch" || m.File != rebuilt || m.BuildID != exeID || m.FileBuildID != otherID {
			t.Errorf("EXE argument: executable %+v, want mismatch", m)
		}
		if warn := fmt.Sprintf("%s: build-id of %s is %s but the core has %s; the file is not used", appPath, rebuilt, otherID, exeID); !contains(d.Warnings, warn) {
			t.Errorf("EXE argument: warnings %q, want %q", d.Warnings, warn)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkDerefFrames checks the functions and lines deref.c's header promises.
func checkDerefFrames(t *testing.T, d jDoc, src string, unverified bool) {
	t.Helper()
	c := d.crashed(t)
	if len(c.Frames) < 2 {
		t.Fatalf("crashing thread has %d frames", len(c.Frames))
	}
	for i, w := range []struct{ fn, marker string }{{"deref", "deref"}, {"main", "main_calls_deref"}} {
		f := c.Frames[i]
		if f.Function != w.fn || f.File != src || f.Line != testcore.Line(t, "deref.c", w.marker) || f.Module != appPath || f.Unverified != unverified {
			t.Errorf("crashing frame %d: %s at %s:%d in %s (unverified %v), want %s at %s:%d in %s",
				i, f.Function, f.File, f.Line, f.Module, f.Unverified, w.fn, src, testcore.Line(t, "deref.c", w.marker), appPath)
		}
	}
	for _, fn := range []string{"worker_sleep", "worker_wait", "worker_spin"} {
		th, i := d.threadWith(t, fn)
		want := testcore.Line(t, "deref.c", fn)
		f := th.Frames[i]
		// The spinning thread stops anywhere in its two-line loop: the while
		// condition (the line before the marker) or the increment.
		if fn == "worker_spin" && f.Line == want-1 {
			want--
		}
		if f.File != src || f.Line != want {
			t.Errorf("thread %d: %s at %s:%d, want line %d", th.TID, fn, f.File, f.Line, want)
		}
	}
}

// TestElsewhereAArch64 reads a qemu-user aarch64 core whose modules are guest paths
// (/lib/libc.so.6) with the cross libc as the sysroot. qemu dumps no ELF header pages,
// so the core holds no build-ids: every module is no_build_id_in_core, with the file's
// build-id read from the file.
func TestElsewhereAArch64(t *testing.T) {
	need(t, "readelf")
	t.Setenv("DEBUGINFOD_URLS", "")
	tc := testcore.Make(t, testcore.DerefAArch64)
	d, _ := runJSON(t, exitOK, "modules", "--sysroot", testcore.AArch64Sysroot, tc.Path, tc.Exe)
	files := map[string]string{
		"/lib/libc.so.6":             filepath.Join(testcore.AArch64Sysroot, "lib/libc.so.6"),
		"/lib/ld-linux-aarch64.so.1": filepath.Join(testcore.AArch64Sysroot, "lib/ld-linux-aarch64.so.1"),
	}
	seen := 0
	for _, m := range d.Modules {
		if m.VDSO {
			continue
		}
		want := files[m.Path]
		if m.Executable {
			want = tc.Exe
		}
		if want == "" {
			t.Errorf("unexpected module %+v", m)
			continue
		}
		seen++
		id := readelfBuildID(t, want)
		if m.File != want || m.Status != "no_build_id_in_core" || m.BuildID != "" || m.FileBuildID != id {
			t.Errorf("module %s: file %q status %q build-id %q file build-id %q; want %s, no_build_id_in_core, none, %s",
				m.Path, m.File, m.Status, m.BuildID, m.FileBuildID, want, id)
		}
	}
	if seen != 3 {
		t.Errorf("%d modules with files, want 3 (program, libc, loader)", seen)
	}

	bt, _ := runJSON(t, exitOK, "bt", "--sysroot", testcore.AArch64Sysroot, tc.Path, tc.Exe)
	c := bt.crashed(t)
	if got := names(c.Frames); len(got) < 2 || got[0] != "deref" || got[1] != "main" ||
		c.Frames[0].Line != tc.Line(t, "deref") || c.Frames[1].Line != tc.Line(t, "main_calls_deref") {
		t.Errorf("crashing thread %q, want deref, main at their lines\n%+v", got, c.Frames)
	}
	th, i := bt.threadWith(t, "worker_sleep")
	if got := names(th.Frames[:i+1]); !reflect.DeepEqual(got, []string{"clock_nanosleep", "__nanosleep", "sleep", "worker_sleep"}) {
		t.Errorf("sleeping thread %q, want clock_nanosleep, __nanosleep, sleep, worker_sleep", got)
	}
	for _, f := range th.Frames[:i] {
		if f.Module != "/lib/libc.so.6" {
			t.Errorf("frame %d %s: module %q, want /lib/libc.so.6", f.Index, f.Function, f.Module)
		}
	}

	// Without the sysroot the guest libc is nowhere: its frames have no names.
	bt, _ = runJSON(t, exitOK, "bt", tc.Path, tc.Exe)
	th, i = bt.threadWith(t, "worker_sleep")
	for _, f := range th.Frames[:i] {
		if f.Function != "" {
			t.Errorf("no sysroot: libc frame %d named %q", f.Index, f.Function)
		}
	}
}

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

// TestElsewhereTruncated cuts a 21-thread core at ten evenly spaced points (and at the
// edges of its notes). The summary is the full core's every time; the coverage section
// says of each thread's stack exactly what the program headers say the cut left; threads
// whose stack is complete unwind as in the full core; gdb agrees on frame 0 and on the
// stacks it cannot read.
func TestElsewhereTruncated(t *testing.T) {
	need(t, "gdb")
	t.Setenv("DEBUGINFOD_URLS", "")
	tc := testcore.Make(t, testcore.Threads20)
	ef, err := elf.Open(tc.Path)
	if err != nil {
		t.Fatal(err)
	}
	progs := ef.Progs
	ef.Close()
	var note *elf.Prog
	for _, p := range progs {
		if p.Type == elf.PT_NOTE {
			note = p
			break
		}
	}
	if note == nil {
		t.Fatal("the core has no PT_NOTE")
	}

	fullSum, _ := runJSON(t, exitOK, "summary", tc.Path)
	full, _ := runJSON(t, exitOK, tc.Path)
	if len(fullSum.Threads) != 21 || fullSum.Signal == nil || fullSum.Signal.Name != "SIGSEGV" {
		t.Fatalf("full core: %d threads, signal %+v", len(fullSum.Threads), fullSum.Signal)
	}
	if full.Coverage != nil {
		t.Errorf("the complete core has a coverage section: %+v", full.Coverage)
	}
	fullFrames := map[int][]jFrame{}
	for _, th := range full.Threads {
		fullFrames[th.TID] = th.Frames
	}
	sps := map[int]uint64{}
	for _, th := range fullSum.Threads {
		sps[th.TID] = hexVal(t, th.Registers["rsp"])
	}

	// Cuts: ten evenly spaced points; the middle of the crashing thread's used stack
	// (none of the ten falls in a few KiB of stack: this one leaves it partial); the
	// end of the notes (all of them present, exit 1) and their start (none: exit 2).
	var cuts []int64
	for k := int64(10); k >= 1; k-- {
		cuts = append(cuts, tc.Size*k/11)
	}
	mainStack := expectStack(progs, fullSum.CrashedTID, sps[fullSum.CrashedTID], tc.Size)
	if mainStack.State != "complete" || mainStack.Bytes < 64 {
		t.Fatalf("crashing thread's stack in the full core: %+v", mainStack)
	}
	mid := stackOffset(progs, sps[fullSum.CrashedTID]) + int64(mainStack.Bytes/2)
	notesEnd := int64(note.Off + note.Filesz)
	cuts = append(cuts, notesEnd, int64(note.Off), mid)
	sort.Slice(cuts, func(i, j int) bool { return cuts[i] > cuts[j] })

	// One copy, cut shorter and shorter.
	cut := filepath.Join(t.TempDir(), "core")
	copyFile(t, tc.Path, cut)
	compared, stopped, partials := 0, 0, 0
	for _, n := range cuts {
		if err := os.Truncate(cut, n); err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("cut%d", n), func(t *testing.T) {
			if n <= int64(note.Off) {
				code, out, errs := runCmd("summary", "--format", "json", cut)
				if code != exitBad || out != "" || !strings.Contains(errs, "no notes") {
					t.Errorf("cut at the notes' start %#x: exit %d, stderr %q, stdout %.200q; want 2 and no notes", n, code, errs, out)
				}
				return
			}
			sum, _ := runJSON(t, exitWarnings, "summary", cut)
			if sum.Core.Size != n || !sum.Core.Truncated || sum.Core.ExpectedSize != tc.Size {
				t.Errorf("core size %d expected %d truncated %v; want %d of %d", sum.Core.Size, sum.Core.ExpectedSize, sum.Core.Truncated, n, tc.Size)
			}
			if !reflect.DeepEqual(sum.Signal, fullSum.Signal) || sum.CrashedTID != fullSum.CrashedTID {
				t.Errorf("signal %+v crashed %d, want %+v %d", sum.Signal, sum.CrashedTID, fullSum.Signal, fullSum.CrashedTID)
			}
			if got, want := frame0s(sum), frame0s(fullSum); !reflect.DeepEqual(got, want) {
				t.Errorf("threads and frame-0 pcs %v, want %v", got, want)
			}

			rep, _ := runJSON(t, exitWarnings, cut)
			if rep.Coverage == nil {
				t.Fatalf("no coverage section in the truncated core's report")
			}
			if rep.Coverage.FileEnds != n {
				t.Errorf("coverage file_ends %d, want %d", rep.Coverage.FileEnds, n)
			}
			states := map[int]string{}
			for _, st := range rep.Coverage.Stacks {
				want := expectStack(progs, st.TID, sps[st.TID], n)
				if st != want {
					t.Errorf("thread %d stack coverage %+v, want %+v", st.TID, st, want)
				}
				states[st.TID] = st.State
			}
			counts := map[string]int{}
			for _, s := range states {
				counts[s]++
			}
			t.Logf("cut at %#x of %#x: stacks %v", n, tc.Size, counts)
			partials += counts["partial"]
			if len(states) != len(sps) {
				t.Errorf("coverage lists %d stacks, want %d", len(states), len(sps))
			}
			for _, th := range rep.Threads {
				switch states[th.TID] {
				case "complete":
					if !reflect.DeepEqual(th.Frames, fullFrames[th.TID]) {
						t.Errorf("thread %d (stack complete): frames %q, full core %q", th.TID, names(th.Frames), names(fullFrames[th.TID]))
					}
				case "partial":
					// The frames the remaining stack gives, as in the full core; where
					// they stop, the error names the truncation.
					f := fullFrames[th.TID]
					if len(th.Frames) > len(f) || !reflect.DeepEqual(th.Frames, f[:len(th.Frames)]) ||
						len(th.Frames) < len(f) && !strings.Contains(th.Error, "truncation") {
						t.Errorf("thread %d (stack partial): frames %q error %q; full core %q", th.TID, names(th.Frames), th.Error, names(f))
					}
				case "lost":
					if len(th.Frames) == 0 || th.Frames[0].PC != fullFrames[th.TID][0].PC || !strings.Contains(th.Error, "truncation") {
						t.Errorf("thread %d (stack lost): frames %+v error %q; want frame 0 and an error naming the truncation", th.TID, th.Frames, th.Error)
					}
				}
			}

			// gdb on the same cut: its frame 0 is ours; a stack it cannot read is one
			// the coverage says the cut took.
			g := gdbThreads(t, tc.Exe, cut)
			if len(g) != len(sps) {
				t.Fatalf("gdb shows %d threads, want %d", len(g), len(sps))
			}
			for tid, gt := range g {
				ours := fullFrames[tid]
				if len(gt.frames) == 0 || len(ours) == 0 || gt.frames[0].pc != hexVal(t, ours[0].PC) {
					t.Errorf("thread %d: gdb frame 0 %+v, ours %+v", tid, gt.frames, ours)
					continue
				}
				compared++
				if fn := gt.frames[0].fn; fn != "??" && fn != rep.threadByTID(tid).Frames[0].Function {
					t.Errorf("thread %d: gdb names frame 0 %q, coredig %q", tid, fn, rep.threadByTID(tid).Frames[0].Function)
				}
				if gt.stoppedAt != 0 {
					sp := sps[tid]
					st := expectStack(progs, tid, sp, n)
					if end := hexVal(t, st.End); gt.stoppedAt >= sp && gt.stoppedAt < end {
						stopped++
						if states[tid] == "complete" {
							t.Errorf("thread %d: gdb cannot read %#x in its stack but coverage says complete", tid, gt.stoppedAt)
						}
					}
				}
			}
		})
	}
	t.Logf("gdb: %d frame-0 pcs agree, %d stacks gdb cannot read are the ones coverage says the cut took", compared, stopped)
	if partials == 0 {
		t.Errorf("no cut left a stack partial")
	}
	if compared == 0 || stopped == 0 {
		t.Errorf("gdb comparisons: %d frame-0 pcs, %d unreadable stacks; want some of each", compared, stopped)
	}
}

func (d jDoc) threadByTID(tid int) jThread {
	for _, th := range d.Threads {
		if th.TID == tid {
			return th
		}
	}
	return jThread{}
}

func hexVal(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return v
}

// frame0s maps each thread to its frame-0 pc.
func frame0s(d jDoc) map[int]string {
	out := map[int]string{}
	for _, th := range d.Threads {
		if len(th.Frames) > 0 {
			out[th.TID] = th.Frames[0].PC
		} else {
			out[th.TID] = ""
		}
	}
	return out
}

// expectStack computes, from the program headers alone, what a core cut at n bytes
// holds of the stack from sp to the end of the segment holding sp: lost when sp's file
// offset is at or past the cut, complete when the segment's end is within it.
func expectStack(progs []*elf.Prog, tid int, sp uint64, n int64) jStack {
	for _, p := range progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 || sp < p.Vaddr || sp >= p.Vaddr+p.Filesz {
			continue
		}
		end := p.Vaddr + p.Filesz
		off, endOff := int64(p.Off+(sp-p.Vaddr)), int64(p.Off+p.Filesz)
		st := jStack{TID: tid, SP: fmt.Sprintf("%#x", sp), End: fmt.Sprintf("%#x", end), Bytes: end - sp}
		switch {
		case off >= n:
			st.State = "lost"
		case endOff <= n:
			st.State, st.Present = "complete", st.Bytes
		default:
			st.State, st.Present = "partial", uint64(n-off)
		}
		return st
	}
	return jStack{TID: tid, SP: fmt.Sprintf("%#x", sp), State: "unmapped"}
}

// stackOffset is the file offset of address a in the core, from the program headers.
func stackOffset(progs []*elf.Prog, a uint64) int64 {
	for _, p := range progs {
		if p.Type == elf.PT_LOAD && p.Filesz > 0 && a >= p.Vaddr && a < p.Vaddr+p.Filesz {
			return int64(p.Off + (a - p.Vaddr))
		}
	}
	return -1
}

type gdbFrame struct {
	pc uint64
	fn string
}

type gdbThread struct {
	frames    []gdbFrame
	stoppedAt uint64 // "Backtrace stopped: Cannot access memory at address X"
}

var (
	gdbThreadRe  = regexp.MustCompile(`^Thread \d+ \((?:.*\()?LWP (\d+)\)`)
	gdbFrameRe   = regexp.MustCompile(`^#(\d+)\s+(?:0x([0-9a-f]+) in )?(\S+)`)
	gdbStoppedRe = regexp.MustCompile(`^Backtrace stopped: Cannot access memory at address 0x([0-9a-f]+)`)
	gdbPCRe      = regexp.MustCompile(`^(?:=> )?0x([0-9a-f]+)`)
)

// gdbThreads runs gdb's `thread apply all bt` on a core and parses it per LWP. A frame 0
// printed without its address (gdb omits it at the start of a line) gets its pc from
// `x/i $pc` in that thread.
func gdbThreads(t *testing.T, exe, corePath string) map[int]*gdbThread {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "gdb", "-nx", "-batch", "-ex", "set print frame-arguments none",
		"-ex", "set backtrace limit 100", "-ex", "thread apply all bt", "-ex", "thread apply all x/i $pc", exe, corePath).CombinedOutput()
	res := map[int]*gdbThread{}
	var cur *gdbThread
	inX := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := gdbThreadRe.FindStringSubmatch(line); m != nil {
			tid, _ := strconv.Atoi(m[1])
			if res[tid] != nil {
				inX = true // the second pass, x/i $pc
			} else {
				res[tid] = &gdbThread{}
			}
			cur = res[tid]
			continue
		}
		if cur == nil {
			continue
		}
		if inX {
			if m := gdbPCRe.FindStringSubmatch(line); m != nil && len(cur.frames) > 0 && cur.frames[0].pc == 0 {
				cur.frames[0].pc, _ = strconv.ParseUint(m[1], 16, 64)
			}
			continue
		}
		if m := gdbStoppedRe.FindStringSubmatch(line); m != nil {
			cur.stoppedAt, _ = strconv.ParseUint(m[1], 16, 64)
			continue
		}
		if m := gdbFrameRe.FindStringSubmatch(line); m != nil {
			pc, _ := strconv.ParseUint(m[2], 16, 64)
			cur.frames = append(cur.frames, gdbFrame{pc: pc, fn: m[3]})
		}
	}
	if len(res) == 0 {
		t.Fatalf("gdb printed no threads:\n%.3000s", out)
	}
	return res
}

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
