package analysis

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// riscv64 cores, made under qemu-riscv64 through its gdbstub (testcore.ArchRISCV64: qemu
// 7.2 dumps no riscv64 core itself), compared with gdb-multiarch on the same core file:
// the signal, the threads, every general register of every thread, and each frame gdb
// shows: its pc, its function where gdb names one, and its file:line where gdb gives one.
// coredig may go on past gdb's last frame only where gdb gave up on a frame it could not
// name (glibc's start_thread, which Debian's riscv64 libc gives no CFI: coredig follows
// the frame pointer to __thread_start, whose CFI ends the stack).
func TestRISCV64MatchesGDB(t *testing.T) {
	if _, err := exec.LookPath("gdb-multiarch"); err != nil {
		t.Fatalf("gdb-multiarch is the oracle for this test (apt-get install gdb-multiarch): %v", err)
	}
	for _, tc := range []struct {
		spec testcore.Spec
		// top are the crashing thread's first frames: function and LINE marker.
		top [][2]string
		src string
		// kind and evidence are the diagnosis: computed_address is the fault address
		// computed from the faulting load or store and the registers (there is no
		// NT_SIGINFO to give it).
		kind     string
		evidence map[string]string
	}{
		{testcore.DerefRISCV64, [][2]string{{"deref", "deref"}, {"main", "main_calls_deref"}}, "deref.c",
			"null_pointer_dereference", map[string]string{"function": "deref", "computed_address": "0x60"}},
		// At -O2 deref is "ld a0, 96(a0); ret" and GCC 12 gives its first address three
		// rows (65 and 66 statements, 67 not); gdb says 66, coredig and addr2line 67,
		// which the loop above accepts: the marker is not asserted for frame 0.
		{testcore.DerefRISCV64O2, [][2]string{{"deref", ""}, {"main", "main_calls_deref"}}, "deref.c",
			"null_pointer_dereference", map[string]string{"function": "deref", "computed_address": "0x60"}},
		// The handler of a raised SIGUSR1 writes through NULL: the signal frame's siginfo
		// (SIGUSR1, SI_TKILL; riscv64 saves it without SA_SIGINFO too) is not the fault.
		{testcore.SigHandlerRISCV64, [][2]string{{"on_usr1", "null_write"}, {SignalHandlerCalled, ""}}, "sighandler.c",
			"null_pointer_dereference", map[string]string{"function": "on_usr1", "computed_address": "0x0"}},
		// The overflow: the prologue's store below the stack, then 199 more recurse frames
		// at the call (gdb and coredig both cut at 200).
		{testcore.RecurseRISCV64, [][2]string{{"recurse", ""}, {"recurse", "recurse_call"}, {"recurse", "recurse_call"}}, "recurse.c",
			"stack_overflow", map[string]string{"function": "recurse", "recursion": "recurse"}},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, r := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
			a.Backtraces(r, 200)
			out := gdbMultiarch(t, c.Exe, c.Path, c.Sysroot, "set backtrace past-main on", "set backtrace limit 200",
				"set print frame-arguments none", "set print frame-info location-and-address",
				"info threads", "thread apply all bt", "thread apply all info registers")

			if r.Process.Arch != "riscv64" || r.Signal == nil || r.Signal.Name != "SIGSEGV" ||
				!strings.Contains(out, "Program terminated with signal SIGSEGV") {
				t.Fatalf("arch %s, signal %+v; gdb:\n%s", r.Process.Arch, r.Signal, out)
			}
			// Modules from NT_FILE: the executable once (its data segment maps file page 0
			// again, right after the text), the dynamic linker and libc, each verified by
			// build-id against the file under the sysroot.
			execs := 0
			for _, m := range r.Modules {
				if m.Status != "verified" {
					t.Errorf("module %s: %s", m.Path, m.Status)
				}
				if m.Path == c.Exe {
					execs++
				}
			}
			if execs != 1 || len(r.Modules) != 3 {
				t.Errorf("%d modules, the executable %d times: %+v", len(r.Modules), execs, r.Modules)
			}
			frames, regs, order := parseGDBRISCV64(out)
			if len(r.Threads) != len(frames) || len(order) == 0 || r.CrashedTID == nil || *r.CrashedTID != order[0] || order[0] != c.PID {
				t.Fatalf("coredig: %d threads, crashed %v; gdb: %d threads, current %v; qemu pid %d", len(r.Threads), r.CrashedTID, len(frames), order, c.PID)
			}
			nregs, nframes, nlines, byAddr2line := 0, 0, 0, 0
			for _, th := range r.Threads {
				g, ok := frames[th.TID]
				if !ok {
					t.Errorf("thread %d: gdb has no such thread", th.TID)
					continue
				}
				for name, want := range regs[th.TID] {
					ours := name
					if name == "fp" {
						ours = "s0"
					}
					if got, ok := th.Registers[ours]; !ok || uint64(got) != want {
						t.Errorf("thread %d register %s: coredig %v, gdb %#x", th.TID, ours, got, want)
					}
					nregs++
				}
				if len(regs[th.TID]) != 32 {
					t.Errorf("thread %d: gdb printed %d general registers, want 32", th.TID, len(regs[th.TID]))
				}
				for i, gf := range g {
					if i >= len(th.Frames) {
						t.Errorf("thread %d: coredig stops after %d frames, gdb goes on with #%d %s (%s)\n%s", th.TID, len(th.Frames), i, gf.fn, th.Error, dump(th.Frames))
						break
					}
					f := th.Frames[i]
					if gf.pc != 0 && uint64(f.PC) != gf.pc {
						t.Errorf("thread %d frame %d: pc %#x, gdb %#x\n%s", th.TID, i, uint64(f.PC), gf.pc, dump(th.Frames))
					}
					if gf.fn != "??" && !sameFunction(a, f, gf.fn) {
						t.Errorf("thread %d frame %d: %q, gdb %q\n%s", th.TID, i, f.Function, gf.fn, dump(th.Frames))
					}
					if gf.line != 0 {
						switch {
						case filepath.Base(f.File) == filepath.Base(gf.file) && f.Line == gf.line:
						case f.Line == addr2line(t, r, f, i):
							// Several rows at one address: gdb takes the last is_stmt
							// row, coredig the last row, as addr2line does.
							byAddr2line++
						default:
							t.Errorf("thread %d frame %d: %s:%d, gdb %s:%d", th.TID, i, f.File, f.Line, gf.file, gf.line)
						}
						nlines++
					}
					nframes++
				}
				if extra := len(th.Frames) - len(g); extra > 0 && len(g) > 0 && g[len(g)-1].fn != "??" {
					t.Errorf("thread %d: coredig has %d frames past gdb's last (%s)\n%s", th.TID, extra, g[len(g)-1].fn, dump(th.Frames))
				}
			}
			crashed := r.Threads[0]
			for i, want := range tc.top {
				f := crashed.Frames[i]
				if f.Function != want[0] || want[1] != "" && f.Line != testcore.Line(t, tc.src, want[1]) {
					t.Errorf("crashing thread frame %d: %s line %d, want %s at LINE %s\n%s", i, f.Function, f.Line, want[0], want[1], dump(crashed.Frames))
				}
			}
			// The fault explained from the decoded instruction (riscv64asm) and registers.
			d := a.Full(FullOptions{}).Diagnosis
			if d == nil || d.Kind != tc.kind || d.Original != nil {
				t.Fatalf("diagnosis %+v, want %s", d, tc.kind)
			}
			for k, v := range tc.evidence {
				if d.Evidence[k] != v {
					t.Errorf("diagnosis evidence %s = %q, want %q (%v)", k, d.Evidence[k], v, d.Evidence)
				}
			}
			t.Logf("%d threads, %d registers, %d frames (%d with lines, %d of them as addr2line has it) agree with gdb-multiarch",
				len(r.Threads), nregs, nframes, nlines, byAddr2line)
		})
	}
}

// sameFunction: coredig's name is gdb's, or both name symbols at one address (glibc's
// nanosleep and __nanosleep).
func sameFunction(a *Analysis, f report.Frame, gdbFn string) bool {
	if f.Function == gdbFn || f.Function == SignalHandlerCalled && gdbFn == "<signal" {
		return true
	}
	if f.FunctionOffset == nil || f.Inlined {
		return false
	}
	addr, _, ok := a.Modules.FindSymbol(gdbFn)
	return ok && addr == uint64(f.PC)-uint64(*f.FunctionOffset)
}

// addr2line asks riscv64-linux-gnu-addr2line for the line of frame i (its call
// instruction for a caller frame) in the module that holds it; 0 if it cannot tell.
func addr2line(t *testing.T, r *report.Report, f report.Frame, i int) int {
	for _, m := range r.Modules {
		if m.Bias == nil || uint64(f.PC) < uint64(m.Start) || uint64(f.PC) >= uint64(m.End) {
			continue
		}
		file := m.File
		if file == "" {
			file = m.Path
		}
		pc := uint64(f.PC) - uint64(*m.Bias)
		if i > 0 {
			pc--
		}
		out, err := exec.Command("riscv64-linux-gnu-addr2line", "-e", file, strconv.FormatUint(pc, 16)).Output()
		if err != nil {
			t.Fatalf("riscv64-linux-gnu-addr2line: %v", err)
		}
		if _, l, ok := strings.Cut(strings.TrimSpace(string(out)), ":"); ok {
			if n, err := strconv.Atoi(strings.Fields(l + " x")[0]); err == nil {
				return n
			}
		}
	}
	return 0
}

type gdbRVFrame struct {
	pc   uint64 // 0 for a frame gdb prints without one (<signal handler called>)
	fn   string
	file string
	line int
}

var (
	gdbRVFrameLine = regexp.MustCompile(`^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+)(?: \(.*?\))?(?: at (\S+):(\d+))?`)
	gdbRVReg       = regexp.MustCompile(`^(\w+)\s+(0x[0-9a-f]+)\s`)
	gdbRVCurrent   = regexp.MustCompile(`^\* \d+\s+Thread \S+ \(LWP (\d+)\)`)
)

// parseGDBRISCV64 parses `info threads`, `thread apply all bt` and `thread apply all info
// registers`: frames and general registers per LWP, and the LWPs with the current
// (crashing) one first.
func parseGDBRISCV64(out string) (map[int][]gdbRVFrame, map[int]map[string]uint64, []int) {
	frames := map[int][]gdbRVFrame{}
	regs := map[int]map[string]uint64{}
	var order []int
	tid, inRegs := 0, map[int]bool{}
	for _, line := range strings.Split(out, "\n") {
		if m := gdbRVCurrent.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			order = append([]int{n}, order...)
			continue
		}
		if m := gdbThreadHdr.FindStringSubmatch(line); m != nil {
			tid, _ = strconv.Atoi(m[2])
			if _, seen := frames[tid]; seen {
				inRegs[tid] = true // the second listing is the registers'
			} else {
				frames[tid] = nil
			}
			continue
		}
		if tid == 0 {
			continue
		}
		if inRegs[tid] {
			if m := gdbRVReg.FindStringSubmatch(line); m != nil && m[1] != "zero" {
				v, _ := strconv.ParseUint(m[2], 0, 64)
				if regs[tid] == nil {
					regs[tid] = map[string]uint64{}
				}
				regs[tid][m[1]] = v
			}
			continue
		}
		if m := gdbRVFrameLine.FindStringSubmatch(line); m != nil {
			f := gdbRVFrame{fn: m[3], file: m[4]}
			f.pc, _ = strconv.ParseUint(m[2], 0, 64)
			f.line, _ = strconv.Atoi(m[5])
			frames[tid] = append(frames[tid], f)
		}
	}
	return frames, regs, order
}
