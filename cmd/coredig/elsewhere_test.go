package main

// End-to-end tests of issue 6, "Cores from elsewhere": cores analysed away from where they
// were made (an extracted container root, renamed binaries, a rebuilt binary, a qemu-user
// aarch64 guest), compressed or fed on stdin, truncated, with debug info from a
// debuginfod server, and with systemd-coredump's extended attributes. Every test drives
// the command as a user would (run, flags, JSON) and checks exact values against an
// independent source: readelf for build-ids, debug/elf for file offsets, gdb for what a
// truncated core still shows, the crasher's source for function names and lines.

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
	"regexp"
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
