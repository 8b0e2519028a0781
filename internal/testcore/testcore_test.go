//go:build linux

package testcore

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestCoreGlob(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		usesPID bool
		pid     int
		want    string
		wantErr error
	}{
		{"plain", "core", false, 42, "core", nil},
		{"plain with newline", "core\n", false, 42, "core", nil},
		{"uses pid appends", "core", true, 42, "core.42", nil},
		{"pid in pattern", "core.%p", true, 42, "core.42", nil},
		{"host pid is not pid", "core.%P", true, 42, "core.*.42", nil},
		{"absolute with exe and time", "/var/crash/%e.%t.core", false, 7, "/var/crash/*.*.core", nil},
		{"adjacent specifiers collapse", "/c/%e%p%u%g", false, 7, "/c/*7*", nil},
		{"percent literal", "core%%%p", false, 7, "core%7", nil},
		{"unknown specifier dropped", "core%z.%p", false, 7, "core.7", nil},
		{"trailing percent dropped", "core%", false, 7, "core", nil},
		{"glob metacharacters quoted", "c*[?]", false, 7, `c\*\[\?]`, nil},
		{"systemd pipe", "|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h", false, 7, "", ErrPipePattern},
		{"empty", "", false, 7, "", ErrEmptyPattern},
		{"only newline", "\n", false, 7, "", ErrEmptyPattern},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := coreGlob(tt.pattern, tt.usesPID, tt.pid)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("coreGlob(%q) error = %v, want %v", tt.pattern, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("coreGlob(%q, %v, %d) = %q, %v; want %q", tt.pattern, tt.usesPID, tt.pid, got, err, tt.want)
			}
		})
	}
}

func FuzzCoreGlob(f *testing.F) {
	for _, s := range []string{"core", "core.%p", "|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E",
		"|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h", "/tmp/cores/core.%e.%p.%h.%t", "%", "%%", ""} {
		f.Add(s, true, 1234)
	}
	f.Fuzz(func(t *testing.T, pattern string, usesPID bool, pid int) {
		got, err := coreGlob(pattern, usesPID, pid)
		if err != nil {
			return
		}
		if _, err := filepath.Match(got, "x"); err != nil {
			t.Fatalf("coreGlob(%q) = %q, not a valid glob: %v", pattern, got, err)
		}
	})
}

func TestParseLines(t *testing.T) {
	src := "int x; /* LINE: first */\nno marker\n  # LINE: py_2 trailing\n// LINE:bad spacing is no marker\n" +
		" * quoted \"LINE: first\" in a header is no marker\n"
	got, err := parseLines([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["first"] != 1 || got["py_2"] != 3 {
		t.Fatalf("parseLines = %v, want map[first:1 py_2:3]", got)
	}
	if _, err := parseLines([]byte("a // LINE: x\nb // LINE: x\n")); err == nil || !strings.Contains(err.Error(), `marker "x" already on line 1`) {
		t.Fatalf("duplicate marker: err = %v", err)
	}
	if _, err := parseLines([]byte("a // LINE: \n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("empty marker: err = %v", err)
	}
}

func FuzzParseLines(f *testing.F) {
	for _, s := range []string{"deref.c", "threads6.py", "crash.go", "throw.cc"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "src", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseLines(data)
		if err != nil {
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		for name, n := range m {
			if name == "" || n < 1 || n > lines {
				t.Fatalf("marker %q at line %d of %d", name, n, lines)
			}
		}
	})
}

func FuzzParseNotes(f *testing.F) {
	c := Make(f, Abort)
	ef, err := elf.Open(c.Path)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_NOTE && p.Filesz < 1<<20 {
			data := make([]byte, p.Filesz)
			if _, err := p.ReadAt(data, 0); err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	ef.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		notes, _ := parseNotes(data, binary.LittleEndian)
		for _, n := range notes {
			if len(n.desc) > len(data) {
				t.Fatalf("desc of %d bytes from %d bytes of input", len(n.desc), len(data))
			}
		}
	})
}

func TestLinesOfSources(t *testing.T) {
	want := map[string][]string{
		"deref.c":           {"deref", "main_calls_deref", "worker_sleep", "worker_wait", "worker_spin"},
		"threads20.c":       {"block_sleep", "block_cond", "block_read", "crash_main", "main_calls_crash"},
		"threads6.py":       {"py_sleep", "py_lock", "py_spin", "py_event", "py_queue", "py_read", "py_crash", "py_main_calls"},
		"throw.cc":          {"throw", "level2_calls", "level1_calls", "main_calls"},
		"crash.go":          {"read_field", "main_calls"},
		"atexit_crash.py":   {"py_crash"},
		"finalize_crash.py": {"py_crash"},
		"pyself.py":         {"py_nap", "py_abort", "py_middle", "py_main"},
	}
	for src, markers := range want {
		got := Lines(t, src)
		for _, m := range markers {
			if got[m] == 0 {
				t.Errorf("%s: no LINE: %s marker", src, m)
			}
		}
	}
	if got, want := Line(t, "deref.c", "deref"), 66; got != want {
		t.Errorf("deref.c LINE: deref = %d, want %d", got, want)
	}
}

func TestValidate(t *testing.T) {
	for _, s := range []Spec{
		{Source: "deref.c"},
		{Name: "a b", Source: "deref.c"},
		{Name: "x", Source: "../deref.c"},
		{Name: "x", Source: "deref.c", Arch: "mips"},
	} {
		if err := validate(&s); err == nil {
			t.Errorf("validate(%+v) = nil, want an error", s)
		}
	}
	s := Spec{Name: "x", Source: "deref.c"}
	if err := validate(&s); err != nil || s.Arch != ArchX86_64 || s.Timeout != DefaultTimeout {
		t.Fatalf("validate defaults: %v, %+v", err, s)
	}
}

func TestCacheByName(t *testing.T) {
	a := Make(t, DerefPIE)
	b := Make(t, DerefPIE)
	if a != b {
		t.Fatalf("Make(DerefPIE) twice gave two cores: %s and %s", a.Path, b.Path)
	}
	other := DerefPIE
	other.CFlags = []string{"-O1"}
	if _, err := make1(other); err == nil || !strings.Contains(err.Error(), "already used by a different spec") {
		t.Fatalf("same name, other flags: err = %v", err)
	}
}

// expectation is what the catalogue's cores must show.
type expectation struct {
	spec    Spec
	machine elf.Machine
	signo   int32
	code    int32   // si_code
	addr    *uint64 // fault address, when the code is a fault code and it is known
	threads int     // NT_PRSTATUS count; -1: at least 2 (Go runtime threads vary)
	stdout  string  // exact, when not "-"; a prefix when it ends in "*"
	stderr  string  // substring
}

func addr(a uint64) *uint64 { return &a }

const (
	siUser     = 0
	siTkill    = -6
	siKernel   = 0x80
	segvMaperr = 1
	segvAccerr = 2
	fpeIntdiv  = 1
	illIllopn  = 2
)

func TestCatalog(t *testing.T) {
	x86, arm := elf.EM_X86_64, elf.EM_AARCH64
	tests := []expectation{
		{DerefPIE, x86, 11, segvMaperr, addr(0x60), 4, "ready\n", ""},
		{DerefNoPIE, x86, 11, segvMaperr, addr(0x60), 4, "ready\n", ""},
		{DerefO2NoFP, x86, 11, segvMaperr, addr(0x60), 4, "ready\n", ""},
		{DerefAArch64, arm, 11, segvMaperr, addr(0x60), 4, "ready\n", ""},
		{SigHandlerAArch64, arm, 11, 0, nil, 1, "", ""},
		{AbortAArch64, arm, 6, 0, nil, 1, "", ""},
		{StaticAArch64, arm, 11, 0, nil, 1, "", ""},
		{WildCallAArch64, arm, 11, 0, nil, 1, "", ""},
		{Abort, x86, 6, siTkill, nil, 1, "", ""},
		{Assert, x86, 6, siTkill, nil, 1, "", "check_value: Assertion `x == 42' failed."},
		{KillQuit, x86, 3, siUser, nil, 1, "-", ""},
		{KillSegv, x86, 11, siUser, nil, 1, "-", ""},
		{Threads20, x86, 11, segvMaperr, addr(0), 21, "ready\n", ""},
		{Recurse, x86, 11, segvMaperr, nil, 1, "", ""},
		{SigHandler, x86, 11, segvMaperr, addr(0), 1, "", ""},
		{RseqClobber, x86, 11, siKernel, nil, 1, "area 0x7f*", ""},
		{RseqClobberHandler, x86, 11, siKernel, nil, 1, "area 0x7f*", ""},
		{SSEMisaligned, x86, 11, siKernel, nil, 1, "target 0x*", ""},
		{SSEMisalignedStack, x86, 11, siKernel, nil, 1, "", ""},
		{Throw, x86, 6, siTkill, nil, 1, "", "terminate called after throwing an instance of 'std::runtime_error'\n  what():  boom from level3\n"},
		{Static, x86, 11, segvMaperr, addr(0x60), 1, "", ""},
		{DivZero, x86, 8, fpeIntdiv, nil, 1, "", ""},
		{Trap, x86, 4, illIllopn, nil, 1, "", ""},
		{WildCall, x86, 11, segvMaperr, addr(0), 1, "", ""},
		{Rodata, x86, 11, segvAccerr, nil, 1, "", ""},
		{HeapCorrupt, x86, 6, siTkill, nil, 1, "", "free(): double free detected in tcache 2\n"},
		{GoCrash, x86, 6, siTkill, nil, -1, "ready\n", "[signal SIGSEGV: segmentation violation code=0x1 addr=0x60 pc="},
		{GoCrashAArch64, arm, 6, 0, nil, -1, "ready\n", "[signal SIGSEGV: segmentation violation code=0x1 addr=0x60 pc="},
		{RustPanic, x86, 6, siTkill, nil, 1, "", "index out of bounds: the len is 3 but the index is 7"},
		{Threads6Py, x86, 11, segvMaperr, addr(0x60), 7, "ready\n", ""},
		{AbortPy, x86, 6, siTkill, nil, 1, "", ""},
		{AtexitPy, x86, 11, segvMaperr, addr(0x60), 1, "ready\n", ""},
		{FinalizePy, x86, 11, segvMaperr, addr(0x60), 1, "ready\n", ""},
	}
	if len(tests) != len(Catalog()) {
		t.Fatalf("%d expectations for %d catalogue specs", len(tests), len(Catalog()))
	}
	for _, tt := range tests {
		t.Run(tt.spec.Name, func(t *testing.T) {
			c := Make(t, tt.spec)
			checkCore(t, c, tt)
		})
	}
}

func checkCore(t *testing.T, c *Core, tt expectation) {
	t.Helper()
	ci := readCoreInfo(t, c.Path)
	t.Logf("%s: %d bytes, exe %s, pid %d", c.Path, c.Size, c.Exe, c.PID)
	if ci.typ != elf.ET_CORE || ci.machine != tt.machine {
		t.Fatalf("ELF type %v machine %v, want ET_CORE %v", ci.typ, ci.machine, tt.machine)
	}
	if c.Signal != syscall.Signal(tt.signo) {
		t.Errorf("wait status signal %v, want %d", c.Signal, tt.signo)
	}
	n := ci.count(ntPRSTATUS)
	if tt.threads >= 0 && n != tt.threads || tt.threads < 0 && n < 2 {
		t.Errorf("%d NT_PRSTATUS notes, want %d", n, tt.threads)
	}
	var tids []int32
	for _, n := range ci.notes {
		if n.typ != ntPRSTATUS {
			continue
		}
		pr, err := parsePrstatus(n.desc, binary.LittleEndian)
		if err != nil {
			t.Fatal(err)
		}
		if len(tids) == 0 && int32(pr.cursig) != tt.signo {
			t.Errorf("first NT_PRSTATUS pr_cursig %d, want %d", pr.cursig, tt.signo)
		}
		tids = append(tids, pr.pid)
	}
	// The kernel writes the dumping thread's NT_PRSTATUS first. The Go
	// runtime may die on any of its threads, so only require the main
	// thread (tid == pid) to be present there.
	switch {
	case tt.spec.Source == "crash.go":
		if !slices.Contains(tids, int32(c.PID)) {
			t.Errorf("NT_PRSTATUS tids %v do not include the pid %d", tids, c.PID)
		}
	case len(tids) == 0 || tids[0] != int32(c.PID):
		t.Errorf("NT_PRSTATUS tids %v, want the crashed pid %d first", tids, c.PID)
	}
	if tt.machine == elf.EM_AARCH64 {
		// qemu-aarch64 writes no NT_SIGINFO (linux-user/elfload.c).
		if n := ci.count(ntSIGINFO); n != 0 {
			t.Errorf("qemu core has %d NT_SIGINFO notes, want 0", n)
		}
		return
	}
	si, err := parseSiginfo(ci.first(ntSIGINFO), binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	if si.signo != tt.signo || si.code != tt.code {
		t.Errorf("NT_SIGINFO signo %d code %d, want %d %d", si.signo, si.code, tt.signo, tt.code)
	}
	if tt.addr != nil && si.addr != *tt.addr {
		t.Errorf("NT_SIGINFO si_addr %#x, want %#x", si.addr, *tt.addr)
	}
	if tt.spec.KillWith != 0 {
		if c.SenderPID != os.Getpid() || si.pid != int32(os.Getpid()) {
			t.Errorf("sender pid: Core %d, NT_SIGINFO si_pid %d, want %d", c.SenderPID, si.pid, os.Getpid())
		}
		if want := "ready " + itoa(c.PID) + "\n"; c.Stdout != want {
			t.Errorf("stdout %q, want %q", c.Stdout, want)
		}
	} else if pre, ok := strings.CutSuffix(tt.stdout, "*"); ok && !strings.HasPrefix(c.Stdout, pre) || !ok && c.Stdout != tt.stdout {
		t.Errorf("stdout %q, want %q", c.Stdout, tt.stdout)
	}
	if !strings.Contains(c.Stderr, tt.stderr) {
		t.Errorf("stderr %q does not contain %q", c.Stderr, tt.stderr)
	}
}

func itoa(n int) string {
	var b []byte
	if n == 0 {
		return "0"
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// TestDerefLineInDWARF checks that the "LINE: deref" marker names the line
// the compiler attributes to the faulting load: a row of deref's line table
// range has that line.
func TestDerefLineInDWARF(t *testing.T) {
	c := Make(t, DerefNoPIE)
	f, err := elf.Open(c.Exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var lo, hi uint64
	for _, s := range syms {
		if s.Name == "deref" && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			lo, hi = s.Value, s.Value+s.Size
		}
	}
	if lo == 0 {
		t.Fatal("no deref function symbol")
	}
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	want := c.Line(t, "deref")
	r := d.Reader()
	found := false
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		lr, err := d.LineReader(e)
		if err != nil || lr == nil {
			r.SkipChildren()
			continue
		}
		var le dwarf.LineEntry
		for lr.Next(&le) == nil {
			if le.Address >= lo && le.Address < hi && le.Line == want && le.File.Name == c.Source {
				found = true
			}
		}
		r.SkipChildren()
	}
	if !found {
		t.Fatalf("no line table row %s:%d inside deref [%#x, %#x)", c.Source, want, lo, hi)
	}
}

// TestThreads6AllPythons makes threads6.py cores under every pyenv CPython
// 3: seven threads, crash at 0x60 in the main thread.
func TestThreads6AllPythons(t *testing.T) {
	for _, v := range PyenvVersions {
		t.Run(v, func(t *testing.T) {
			s := PythonSpec("threads6.py", v)
			checkCore(t, Make(t, s), expectation{s, elf.EM_X86_64, 11, segvMaperr, addr(0x60), 7, "ready\n", ""})
		})
	}
}

// TestPySelfI386 makes pyself.py's core under the i386 interpreter testcore builds
// around Debian's libpython3.11:i386: an i386 kernel core of the interpreter in the
// spec's directory, two threads (the main thread and the napper), SIGABRT, and the
// script's own report on stdout.
func TestPySelfI386(t *testing.T) {
	c := Make(t, PySelfI386)
	ci := readCoreInfo(t, c.Path)
	if ci.typ != elf.ET_CORE || ci.machine != elf.EM_386 {
		t.Fatalf("ELF type %v machine %v, want ET_CORE EM_386", ci.typ, ci.machine)
	}
	if c.Signal != syscall.SIGABRT || ci.count(ntPRSTATUS) != 2 {
		t.Errorf("signal %v, %d NT_PRSTATUS notes; want SIGABRT, 2", c.Signal, ci.count(ntPRSTATUS))
	}
	if c.Exe != filepath.Join(c.Dir, "python3.11") || c.Source != SourcePath(t, "pyself.py") {
		t.Errorf("exe %s, source %s; want %s/python3.11 running pyself.py", c.Exe, c.Source, c.Dir)
	}
	f, err := elf.Open(c.Exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, _ := f.ImportedLibraries()
	if f.Machine != elf.EM_386 || !slices.Contains(libs, "libpython3.11.so.1.0") {
		t.Errorf("interpreter: machine %v, needs %v; want EM_386 and libpython3.11.so.1.0", f.Machine, libs)
	}
	if !strings.HasPrefix(c.Stdout, "stacks {\"version\": \"3.11.") || c.Stderr != "" {
		t.Errorf("stdout %q, stderr %q", c.Stdout, c.Stderr)
	}
}

// TestPySelfForeign makes pyself.py's core under the interpreters testcore builds with
// the cross compilers around Debian's libpython3.11 of ppc64el, s390x and armhf: qemu's
// core of the interpreter in the spec's directory, of the architecture, two threads,
// SIGABRT, the script's report on stdout, and the root qemu was given as Sysroot.
func TestPySelfForeign(t *testing.T) {
	for _, tt := range []struct {
		spec    Spec
		machine elf.Machine
		root    string
	}{
		{PySelfPPC64LE, elf.EM_PPC64, "/"},
		{PySelfS390X, elf.EM_S390, strings.TrimSuffix(S390XLibPython311, "/usr/lib/s390x-linux-gnu/libpython3.11.so.1.0")},
		{PySelfARM, elf.EM_ARM, "/"},
	} {
		t.Run(tt.spec.Name, func(t *testing.T) {
			c := Make(t, tt.spec)
			ci := readCoreInfo(t, c.Path)
			if ci.typ != elf.ET_CORE || ci.machine != tt.machine {
				t.Fatalf("ELF type %v machine %v, want ET_CORE %v", ci.typ, ci.machine, tt.machine)
			}
			if c.Signal != syscall.SIGABRT || ci.count(ntPRSTATUS) != 2 || c.Sysroot != tt.root {
				t.Errorf("signal %v, %d NT_PRSTATUS notes, sysroot %q; want SIGABRT, 2, %q", c.Signal, ci.count(ntPRSTATUS), c.Sysroot, tt.root)
			}
			f, err := elf.Open(c.Exe)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			libs, _ := f.ImportedLibraries()
			if c.Exe != filepath.Join(c.Dir, "python3.11") || f.Machine != tt.machine || !slices.Contains(libs, "libpython3.11.so.1.0") {
				t.Errorf("interpreter %s: machine %v, needs %v; want %v and libpython3.11.so.1.0", c.Exe, f.Machine, libs, tt.machine)
			}
			if !strings.HasPrefix(c.Stdout, "stacks {\"version\": \"3.11.") {
				t.Errorf("stdout %q, stderr %q", c.Stdout, c.Stderr)
			}
		})
	}
}

func TestNoSignalIsAnError(t *testing.T) {
	// "-c pass" runs before the script and exits 0.
	s := Spec{Name: "exits-cleanly", Source: "abort.py", Python: PyenvPython("3.12.1"), PyFlags: []string{"-c", "pass"}}
	_, err := make1(s)
	if err == nil || !strings.Contains(err.Error(), "exited with status 0 instead of dying by a signal") {
		t.Fatalf("err = %v", err)
	}
}

func TestTimeoutIsAnError(t *testing.T) {
	s := Spec{Name: "never-dies", Source: "killme.c", Timeout: 500 * time.Millisecond}
	_, err := make1(s)
	if err == nil || !strings.Contains(err.Error(), "did not die within 500ms; killed it") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewestMatch(t *testing.T) {
	dir := t.TempDir()
	since := time.Now()
	old := filepath.Join(dir, "core.1")
	if err := os.WriteFile(old, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(old, since.Add(-time.Hour), since.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := newestMatch(filepath.Join(dir, "core.*"), since); err == nil {
		t.Fatal("an hour-old core was accepted")
	}
	if err := os.Mkdir(filepath.Join(dir, "core.3"), 0o755); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "core.2")
	if err := os.WriteFile(fresh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := newestMatch(filepath.Join(dir, "core.*"), since)
	if err != nil || got != fresh {
		t.Fatalf("newestMatch = %q, %v; want %q", got, err, fresh)
	}
}

func TestSweepStale(t *testing.T) {
	dir := t.TempDir()
	// pid 0x7ffffffe is above pid_max: never running.
	dead := filepath.Join(dir, rootPrefix+"2147483646-123")
	live := filepath.Join(dir, rootPrefix+itoa(os.Getpid())+"-456")
	other := filepath.Join(dir, rootPrefix+"notapid")
	kept := filepath.Join(dir, keptPrefix+"2147483646-789")
	for _, d := range []string{dead, live, other, kept} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sweepStale(dir)
	for d, want := range map[string]bool{dead: false, live: true, other: true, kept: true} {
		_, err := os.Stat(d)
		if got := err == nil; got != want {
			t.Errorf("%s exists = %v, want %v", filepath.Base(d), got, want)
		}
	}
}

func TestConcurrentMake(t *testing.T) {
	s := Spec{Name: "concurrent-abort", Source: "abort.c"}
	cores := make(chan *Core, 4)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			c, err := make1(s)
			cores <- c
			errs <- err
		}()
	}
	first := <-cores
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < 4; i++ {
		if c := <-cores; c != first {
			t.Fatalf("concurrent Make gave two cores: %s and %s", c.Path, first.Path)
		}
	}
	if first.Signal != syscall.SIGABRT {
		t.Fatalf("signal %v, want SIGABRT", first.Signal)
	}
}
