package analysis

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

func TestMain(m *testing.M) { os.Exit(testcore.Main(m)) }

func open(t *testing.T, path string, opts symbolize.Options) (*Analysis, *report.Report) {
	t.Helper()
	c, err := core.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	a := New(c, opts)
	t.Cleanup(a.Close)
	return a, a.Summary()
}

// gdb runs gdb in batch mode on a core and returns its output. gdb is the oracle for
// symbols, thread ids and mappings; the tests fail loudly where it is missing.
func gdb(t *testing.T, exe, corePath string, cmds ...string) string {
	t.Helper()
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Fatalf("gdb is the oracle for this test and is not installed (apt-get install gdb): %v", err)
	}
	args := []string{"-nx", "-batch"}
	for _, c := range cmds {
		args = append(args, "-ex", c)
	}
	args = append(args, exe, corePath)
	out, err := exec.Command("gdb", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	return string(out)
}

var (
	gdbLWP     = regexp.MustCompile(`\[New LWP (\d+)\]`)
	gdbSymbol  = regexp.MustCompile(`(?m)^(\S+) \+ (\d+) in section`)
	gdbSymbol0 = regexp.MustCompile(`(?m)^(\S+) in section`)
)

// gdbTIDs returns the sorted LWP ids gdb reports.
func gdbTIDs(out string) []int {
	var tids []int
	for _, m := range gdbLWP.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		tids = append(tids, n)
	}
	sort.Ints(tids)
	return tids
}

// gdbPCSymbol parses `info symbol $pc`: "deref + 12 in section .text".
func gdbPCSymbol(t *testing.T, out string) (string, uint64) {
	t.Helper()
	if m := gdbSymbol.FindStringSubmatch(out); m != nil {
		off, _ := strconv.ParseUint(m[2], 10, 64)
		return m[1], off
	}
	if m := gdbSymbol0.FindStringSubmatch(out); m != nil {
		return m[1], 0
	}
	t.Fatalf("gdb gave no symbol for $pc:\n%s", out)
	return "", 0
}

func tids(r *report.Report) []int {
	var out []int
	for _, th := range r.Threads {
		out = append(out, th.TID)
	}
	sort.Ints(out)
	return out
}

// readelfBuildID returns the build-id `readelf -n` prints for a file.
func readelfBuildID(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("readelf", "-n", path).CombinedOutput()
	if err != nil {
		t.Fatalf("readelf -n %s: %v\n%s", path, err, out)
	}
	m := regexp.MustCompile(`Build ID: ([0-9a-f]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("readelf found no build-id in %s", path)
	}
	return string(m[1])
}

func module(t *testing.T, r *report.Report, path string) report.Module {
	t.Helper()
	for _, m := range r.Modules {
		if m.Path == path {
			return m
		}
	}
	t.Fatalf("no module %s among %d", path, len(r.Modules))
	return report.Module{}
}

func TestSummaryDerefX86(t *testing.T) {
	for _, spec := range []testcore.Spec{testcore.DerefPIE, testcore.DerefNoPIE} {
		t.Run(spec.Name, func(t *testing.T) {
			tc := testcore.Make(t, spec)
			_, r := open(t, tc.Path, symbolize.Options{})
			s := r.Signal
			if s == nil || s.Name != "SIGSEGV" || s.Number != 11 || s.CodeName != "SEGV_MAPERR" || s.Address == nil || *s.Address != 0x60 {
				t.Fatalf("signal = %+v, want SIGSEGV SEGV_MAPERR at 0x60", s)
			}
			if s.SenderPID != nil {
				t.Errorf("a fault has no sender, got pid %d", *s.SenderPID)
			}
			out := gdb(t, tc.Exe, tc.Path, "info symbol $pc", "info proc mappings")
			if got, want := tids(r), gdbTIDs(out); len(got) != 4 || !equalInts(got, want) {
				t.Errorf("threads %v, gdb has %v (want 4)", got, want)
			}
			fn, off := gdbPCSymbol(t, out)
			crashed := r.Threads[0]
			if !crashed.Crashed || r.CrashedTID == nil || *r.CrashedTID != crashed.TID || crashed.TID != *r.Process.PID {
				t.Errorf("crashed thread %d (crashed=%v), pid %v", crashed.TID, crashed.Crashed, r.Process.PID)
			}
			f := crashed.Frames[0]
			if f.Function != "deref" || fn != "deref" || f.FunctionOffset == nil || uint64(*f.FunctionOffset) != off {
				t.Errorf("crash frame %s+%v, gdb says %s+%#x", f.Function, f.FunctionOffset, fn, off)
			}
			if f.FoundBy != "context" || f.Module != tc.Exe {
				t.Errorf("frame 0 found by %q in %q", f.FoundBy, f.Module)
			}
			exe := module(t, r, tc.Exe)
			if exe.Status != "verified" || exe.BuildID != readelfBuildID(t, tc.Exe) || !exe.Executable {
				t.Errorf("executable module %+v, readelf build-id %s", exe, readelfBuildID(t, tc.Exe))
			}
			// The executable's base is the start of its mapping at file offset 0 in gdb's
			// `info proc mappings`; non-PIE binaries have a load bias of 0.
			base := regexp.MustCompile(`(?m)^\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x0\s+` + regexp.QuoteMeta(tc.Exe) + `$`).FindStringSubmatch(out)
			if base == nil {
				t.Fatalf("gdb maps no %s at offset 0:\n%s", tc.Exe, out)
			}
			want, _ := strconv.ParseUint(base[1], 0, 64)
			if uint64(exe.Base) != want {
				t.Errorf("executable base %#x, gdb maps it at %#x", uint64(exe.Base), want)
			}
			pie := spec.Name == testcore.DerefPIE.Name
			if exe.Bias == nil || (pie && uint64(*exe.Bias) != want) || (!pie && *exe.Bias != 0) {
				t.Errorf("load bias %v for pie=%v base %#x", exe.Bias, pie, want)
			}
			if *f.ModuleOffset != f.PC-*exe.Bias {
				t.Errorf("module offset %v is not pc %v - bias %v", f.ModuleOffset, f.PC, exe.Bias)
			}
			libc := module(t, r, "/usr/lib/x86_64-linux-gnu/libc.so.6")
			if libc.Status != "verified" || libc.BuildID != readelfBuildID(t, "/usr/lib/x86_64-linux-gnu/libc.so.6") {
				t.Errorf("libc %+v", libc)
			}
			if r.Core.Truncated || r.Core.Size != r.Core.ExpectedSize {
				t.Errorf("complete core reported as truncated: %+v", r.Core)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// nmAddr returns a symbol's link-time address from the binary's symbol table.
func nmAddr(t *testing.T, nm, bin, name string) uint64 {
	t.Helper()
	out, err := exec.Command(nm, bin).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v", nm, bin, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == name {
			v, _ := strconv.ParseUint(f[0], 16, 64)
			return v
		}
	}
	t.Fatalf("%s not in %s", name, bin)
	return 0
}

// The qemu-user aarch64 core has neither NT_FILE nor NT_SIGINFO, and its text pages
// are not dumped: modules come from link_map with program headers from the files.
func TestSummaryDerefAArch64(t *testing.T) {
	tc := testcore.Make(t, testcore.DerefAArch64)
	_, r := open(t, tc.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: tc.Sysroot}})
	if r.Process.Arch != "aarch64" || len(r.Threads) != 4 {
		t.Fatalf("arch %s, %d threads; want aarch64 and 4", r.Process.Arch, len(r.Threads))
	}
	s := r.Signal
	if s == nil || s.Name != "SIGSEGV" || s.Source != "NT_PRSTATUS" || s.Address != nil {
		t.Fatalf("signal %+v: want SIGSEGV from NT_PRSTATUS without an address (qemu writes no NT_SIGINFO)", s)
	}
	f := r.Threads[0].Frames[0]
	exe := module(t, r, tc.Exe)
	if exe.Bias == nil || exe.Source != "link_map" {
		t.Fatalf("executable %+v", exe)
	}
	want := nmAddr(t, "nm", tc.Exe, "deref")
	if f.Function != "deref" || uint64(f.PC)-uint64(*exe.Bias)-want != uint64(*f.FunctionOffset) {
		t.Errorf("frame %s+%v at %v, nm puts deref at %#x (bias %v)", f.Function, f.FunctionOffset, f.PC, want, exe.Bias)
	}
	// qemu does not dump the ELF header pages, so no build-id can be checked.
	if exe.Status != "no_build_id_in_core" || exe.FileBuildID != readelfBuildID(t, tc.Exe) {
		t.Errorf("exe status %s file build-id %s", exe.Status, exe.FileBuildID)
	}
	libc := module(t, r, "/lib/libc.so.6")
	if libc.File != filepath.Join(tc.Sysroot, "lib/libc.so.6") {
		t.Errorf("libc resolved to %q", libc.File)
	}
	var names []string
	for _, m := range r.Modules {
		names = append(names, filepath.Base(m.Path))
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "deref ld-linux-aarch64.so.1 libc.so.6" {
		t.Errorf("modules %v", names)
	}
}

func TestSummaryAbortPython(t *testing.T) {
	tc := testcore.Make(t, testcore.AbortPy)
	_, r := open(t, tc.Path, symbolize.Options{})
	s := r.Signal
	if s == nil || s.Name != "SIGABRT" || s.CodeName != "SI_TKILL" || s.Address != nil {
		t.Fatalf("signal %+v: want SIGABRT SI_TKILL without an address", s)
	}
	if s.SenderPID == nil || *s.SenderPID != tc.PID || s.SenderIsSelf == nil || !*s.SenderIsSelf {
		t.Errorf("sender %v self %v, want the process itself (%d)", s.SenderPID, s.SenderIsSelf, tc.PID)
	}
	fn, off := gdbPCSymbol(t, gdb(t, tc.Exe, tc.Path, "info symbol $pc"))
	f := r.Threads[0].Frames[0]
	if f.Function != fn || uint64(*f.FunctionOffset) != off || filepath.Base(f.Module) != "libc.so.6" {
		t.Errorf("crash frame %s+%v in %s; gdb says %s+%#x", f.Function, f.FunctionOffset, f.Module, fn, off)
	}
	// The exact argv comes from the stack, however long the paths are.
	wantArgs := []string{tc.Exe, tc.Source}
	if r.Process.Executable != tc.Exe || !slices.Equal(r.Process.Args, wantArgs) || r.Process.ArgsSource != "stack" || r.Process.ArgsTruncated {
		t.Errorf("process %+v, want args %q from the stack", r.Process, wantArgs)
	}
}

// The arguments come from the initial stack exactly: past pr_psargs's 80 bytes, with
// spaces and empty strings kept, on x86_64 and on an emulated aarch64 guest.
func TestSummaryArgv(t *testing.T) {
	long := strings.Repeat("x", 200)
	args := []string{"two words", "", long, "tail\tend", "ünïcode"}
	for _, s := range []testcore.Spec{
		{Name: "abort-args-x86_64", Source: "abort.c", Args: args},
		{Name: "abort-args-aarch64", Source: "abort.c", Arch: testcore.ArchAArch64, Args: args},
	} {
		t.Run(s.Name, func(t *testing.T) {
			tc := testcore.Make(t, s)
			_, r := open(t, tc.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: tc.Sysroot}})
			p := r.Process
			if len(p.Args) == 0 || !slices.Equal(p.Args[1:], args) || p.ArgsSource != "stack" || p.ArgsTruncated {
				t.Errorf("args %q (source %s, truncated %v), want program then %q", p.Args, p.ArgsSource, p.ArgsTruncated, args)
			}
			if len(p.Args) > 0 && filepath.Base(p.Args[0]) != "abort" {
				t.Errorf("argv[0] %q", p.Args[0])
			}
		})
	}
}

// A core cut to half its size still yields the whole notes-only summary, plus a
// truncation warning with the exact sizes.
func TestSummaryTruncatedHalf(t *testing.T) {
	tc := testcore.Make(t, testcore.AbortPy)
	full, err := os.ReadFile(tc.Path)
	if err != nil {
		t.Fatal(err)
	}
	half := filepath.Join(t.TempDir(), "core.half")
	if err := os.WriteFile(half, full[:len(full)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	_, want := open(t, tc.Path, symbolize.Options{})
	_, got := open(t, half, symbolize.Options{})
	if !got.Core.Truncated || got.Core.Size != int64(len(full)/2) || got.Core.ExpectedSize != int64(len(full)) {
		t.Fatalf("core info %+v, want truncated %d of %d", got.Core, len(full)/2, len(full))
	}
	if got.Signal.Name != want.Signal.Name || got.Signal.CodeName != want.Signal.CodeName || *got.Signal.SenderPID != *want.Signal.SenderPID {
		t.Errorf("signal differs after truncation: %+v vs %+v", got.Signal, want.Signal)
	}
	if !equalInts(tids(got), tids(want)) || got.Threads[0].Frames[0].Function != want.Threads[0].Frames[0].Function {
		t.Errorf("threads differ after truncation")
	}
	if len(got.Modules) != len(want.Modules) {
		t.Errorf("modules %d after truncation, %d before", len(got.Modules), len(want.Modules))
	}
	prefix := "core is truncated: " + strconv.Itoa(len(full)/2) + " of " + strconv.Itoa(len(full)) + " bytes present"
	if len(got.Warnings) == 0 || !strings.HasPrefix(got.Warnings[0], prefix) {
		t.Errorf("first warning %q, want prefix %q", got.Warnings, prefix)
	}
	var lost uint64
	for _, l := range got.Core.LostSegments {
		lost += l.Bytes - l.Present
	}
	if lost != uint64(len(full)-len(full)/2) {
		t.Errorf("lost segments account for %d bytes, the cut removed %d", lost, len(full)-len(full)/2)
	}
	var b bytes.Buffer
	if err := report.Text(&b, got, report.Options{View: report.ViewSummary}); err != nil || !strings.Contains(b.String(), "TRUNCATED") {
		t.Errorf("text summary does not say TRUNCATED (%v)", err)
	}
}
