package analysis

import (
	"testing"

	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// Cores of ppc64le, s390x and 32-bit ARM programs, made by qemu-user from Debian's cross
// compilers' output: the notes give the signal, every thread and its registers in the
// architecture's own layout (s390x big-endian, with 4-byte access registers; ARM with
// 32-bit words), modules come from the dynamic linker's list under the sysroot, and the
// program's frames unwind through CFI with file:line. gdb-multiarch cannot read these
// qemu cores (no NT_FILE, no ELF header pages), so the expected values are the source's.
func TestForeignArchitectures(t *testing.T) {
	line := func(marker string) int { return testcore.Line(t, "deref.c", marker) }
	for _, tc := range []struct {
		spec    testcore.Spec
		arch    string
		pcReg   string
		spReg   string
		threads int
	}{
		{testcore.DerefPPC64LE, "ppc64le", "nip", "r1", 4},
		{testcore.DerefS390X, "s390x", "pswa", "r15", 4},
		{testcore.DerefARM, "arm", "r15", "r13", 4},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, r := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
			if r.Process.Arch != tc.arch || r.Signal == nil || r.Signal.Name != "SIGSEGV" || r.Signal.Source != "NT_PRSTATUS" {
				t.Fatalf("arch %s, signal %+v", r.Process.Arch, r.Signal)
			}
			if len(r.Threads) != tc.threads || r.CrashedTID == nil || *r.CrashedTID != c.PID {
				t.Fatalf("%d threads, crashed %v, want %d threads and %d", len(r.Threads), r.CrashedTID, tc.threads, c.PID)
			}
			crashed := r.Threads[0]
			pc, ok := crashed.Registers[tc.pcReg]
			if !ok || uint64(pc) != uint64(crashed.Frames[0].PC) || crashed.Frames[0].Function != "deref" {
				t.Errorf("pc register %s = %v, frame 0 %+v", tc.pcReg, pc, crashed.Frames[0])
			}
			if sp, ok := crashed.Registers[tc.spReg]; !ok || sp == 0 {
				t.Errorf("no stack pointer %s in %v", tc.spReg, crashed.Registers)
			}
			frames, errText := a.Backtrace(a.Core.Threads[0], 0)
			if len(frames) < 2 {
				t.Fatalf("frames %+v (%s)", frames, errText)
			}
			for i, want := range []struct {
				fn, by string
				line   int
			}{{"deref", "context", line("deref")}, {"main", "cfi", line("main_calls_deref")}} {
				f := frames[i]
				if f.Function != want.fn || f.FoundBy != want.by || f.Line != want.line {
					t.Errorf("frame %d: %s %s line %d, want %s %s line %d", i, f.Function, f.FoundBy, f.Line, want.fn, want.by, want.line)
				}
			}
		})
	}
}

// The kernel's signal frame on 32-bit ARM, as qemu-user lays it out: the handler's return
// address leads to glibc's Thumb-2 restorer (its Thumb bit cleared to read it), and the
// frame gives the interrupted registers.
func TestSignalFrameARM(t *testing.T) {
	c := testcore.Make(t, testcore.SigHandlerARM)
	a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
	frames, errText := a.Backtrace(a.Core.Threads[0], 0)
	if len(frames) < 3 {
		t.Fatalf("frames %+v (%s)", frames, errText)
	}
	for i, want := range []struct{ fn, by string }{{"on_usr1", "context"}, {SignalHandlerCalled, "cfi"}, {"", "signal_frame"}} {
		if f := frames[i]; want.fn != "" && f.Function != want.fn || f.FoundBy != want.by {
			t.Errorf("frame %d: %s [%s], want %s [%s]", i, f.Function, f.FoundBy, want.fn, want.by)
		}
	}
	if frames[0].Line != testcore.Line(t, "sighandler.c", "null_write") {
		t.Errorf("frame 0 at line %d", frames[0].Line)
	}
}
