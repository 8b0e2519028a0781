package analysis

import (
	"os"
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

// kernelCore is one of elfutils' test cores (written by real kernels: scripts/
// elfutils-cores.sh), with its executable when elfutils ships it.
type kernelCore struct {
	core, exe string
	signal    string
	// frames, for the backtrace.* cores, are the functions elfutils' backtrace.c expects
	// (its callback_verify; run-backtrace-*core*.sh), as coredig names them: the crashing
	// thread first, then the main thread. Every one must be found by CFI, the frame
	// pointer or the back chain (no scan) and each stack must end without an error.
	frames [][]string
	// gdbWrongFrom: for a thread, the frame from which gdb-multiarch's backtrace is
	// known wrong (see the case's comment); frames from there are held to frames only.
	gdbWrongFrom map[int]int
	// frame0Only: elfutils ships no executable or libraries for the core, so gdb's frames
	// past #0 are its heuristics over unnamed memory (stack addresses taken for pcs); the
	// signal, the threads, the registers and frame #0 are compared with gdb's, and the
	// frames eu-stack --core finds (by CFI in the core, frame pointers and aarch64's link
	// register) are coredig's first ones, at the same pcs.
	frame0Only bool
	// sysroot maps paths the core names to elfutils' files, laid out under a sysroot.
	sysroot map[string]string
}

// The threads of the backtrace.* cores, in backtrace.c: the thread running start()
// raised SIGABRT (--gencore) from sigusr2, which stdarg called directly; the main thread
// waits in pthread_join.
func elfutilsBacktrace(crash0, join0 []string, crashEnd, mainEnd []string) [][]string {
	crash := append(append(append([]string{}, crash0...), "raise", "sigusr2", "stdarg", "backtracegen", "start", "start_thread"), crashEnd...)
	main := append(append(append([]string{}, join0...), "pthread_join", "main"), mainEnd...)
	return [][]string{crash, main}
}

// TestKernelCoresMatchGDB reads elfutils' test cores, which real kernels of ppc64le,
// s390x, aarch64, i386, x86_64 (and x32), riscv64 and 32-bit ARM wrote, and compares coredig with
// gdb-multiarch on the same core: the signal, every thread (its LWP, the crashing one
// first), every register gdb prints that coredig has (by gdb's name or its alias), and
// every frame's pc, function and file:line where gdb gives them. The backtrace.* cores
// also give exactly the frames elfutils' backtrace.c expects.
func TestKernelCoresMatchGDB(t *testing.T) {
	if _, err := exec.LookPath("gdb-multiarch"); err != nil {
		t.Fatalf("gdb-multiarch is the oracle for this test (apt-get install gdb-multiarch; scripts/deps.sh): %v", err)
	}
	libcEnd := []string{"__libc_start_main", "_start"}
	cases := []kernelCore{
		// Built without CFI for its own functions (-fno-asynchronous-unwind-tables,
		// -fno-omit-frame-pointer): stdarg..start_thread come from ppc64's back chain.
		// Static glibc's _start branches (no link) to __libc_start_main, whose caller's
		// LR save word is 0: gdb prints that 0 as a last "?? ()" frame; coredig ends.
		{core: "backtrace.ppc64le.fp", signal: "SIGABRT",
			frames: elfutilsBacktrace(nil, nil, []string{"__clone"}, []string{"generic_start_main", "__libc_start_main"})},
		// gdb-multiarch's "thread apply all bt" prints none of the crashing thread's
		// frames: it fails past thread_start ("PC not saved") and drops them all. Its
		// "bt 7" gives raise .. thread_start at coredig's pcs (checked by hand, as is
		// eu-stack --core); the frames are held to elfutils' list (thread_start is
		// clone.S's label, as gdb and eu-stack name it).
		{core: "backtrace.s390x", signal: "SIGABRT",
			frames: elfutilsBacktrace(nil, nil, []string{"thread_start"}, libcEnd)},
		{core: "backtrace.aarch64", signal: "SIGABRT",
			frames: elfutilsBacktrace(nil, nil, []string{"__clone"}, libcEnd)},
		// gdb stops the main thread after main ("previous frame identical to this
		// frame"): __libc_start_main and _start are elfutils' (and eu-stack's).
		{core: "backtrace.aarch64.fp", signal: "SIGABRT",
			frames: elfutilsBacktrace(nil, nil, []string{"__clone"}, libcEnd)},
		{core: "backtrace.i386", signal: "SIGABRT",
			frames: elfutilsBacktrace([]string{"__kernel_vsyscall"}, []string{"__kernel_vsyscall"}, []string{"__clone"}, libcEnd)},
		{core: "backtrace.i386.fp", signal: "SIGABRT",
			frames: elfutilsBacktrace([]string{"__kernel_vsyscall"}, []string{"__kernel_vsyscall"}, []string{"__clone"}, libcEnd)},
		{core: "backtrace.x86_64", signal: "SIGABRT",
			frames: elfutilsBacktrace(nil, nil, []string{"__clone"}, libcEnd)},
		// gdb 13 reads a 0 return address above stdarg (which has no CFI and, being
		// noreturn, ends in a call): its #3 is "0x0 in ?? ()". eu-stack --core gives
		// backtracegen, start, start_thread and __clone at coredig's pcs.
		{core: "backtrace.x86_64.fp", signal: "SIGABRT", gdbWrongFrom: map[int]int{28872: 3},
			frames: elfutilsBacktrace(nil, nil, []string{"__clone"}, libcEnd)},

		// x32 (static glibc, CFI throughout): x86_64's registers, DWARF and code with
		// 32-bit pointers in 8-byte stack slots. gdb stops the main thread after main;
		// __libc_start_main and _start are elfutils' (and eu-stack's).
		{core: "backtrace.x32", signal: "SIGABRT",
			frames: elfutilsBacktrace(nil, nil, []string{"__clone"}, libcEnd)},
		{core: "testfile-x32-core", signal: "SIGSEGV", frame0Only: true},
		{core: "testfile_aarch64_core", signal: "SIGSEGV", frame0Only: true},
		{core: "testfile_i686_core", signal: "SIGSEGV", frame0Only: true},
		{core: "testfile-riscv64-core", signal: "SIGSEGV", frame0Only: true},
		// 32-bit ARM, truncated to its first 4 KiB: the notes survive, the stack does not.
		{core: "testfile63", signal: "SIGSEGV", frame0Only: true},
		{core: "testfile67", signal: "SIGILL", frame0Only: true}, // s390x
		{core: "testfiledwarfinlines.core", signal: "SIGFPE", frame0Only: true},
		{core: "testfile-backtrace-demangle.core", signal: "SIGSEGV", frame0Only: true},
		{core: "testfile69.core", signal: "SIGSEGV", frame0Only: true},
		{core: "testfile70.core", exe: "testfile70.exec", signal: "SIGSEGV"},
		{core: "testfile71", signal: "SIGSEGV", frame0Only: true},
		{core: "testfile65", signal: "SIGSEGV", frame0Only: true},
		{core: "linkmap-cut.core", signal: "SIGSEGV", frame0Only: true},
		{core: "test-core.core", exe: "test-core.exec", signal: "SIGSEGV", frame0Only: true,
			sysroot: map[string]string{"/home/jkratoch/redhat/elfutils-libregr/test-core-lib.so": "test-core-lib.so"}},
	}
	for _, tc := range cases {
		t.Run(tc.core, func(t *testing.T) {
			corePath, exe := "", ""
			if strings.HasPrefix(tc.core, "backtrace.") {
				corePath = testcore.ElfutilsCore(t, tc.core+".core")
				exe = testcore.ElfutilsCore(t, tc.core+".exec")
			} else {
				corePath = testcore.ElfutilsCore(t, tc.core)
				if tc.exe != "" {
					exe = testcore.ElfutilsCore(t, tc.exe)
				}
			}
			opts := symbolize.Options{ExePath: exe}
			if tc.sysroot != nil {
				// The core names its files by the paths they had on the machine that
				// wrote it: lay elfutils' copies out under a sysroot there.
				dir := t.TempDir()
				for path, name := range tc.sysroot {
					if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755); err != nil {
						t.Fatal(err)
					}
					b, err := os.ReadFile(testcore.ElfutilsCore(t, name))
					if err == nil {
						err = os.WriteFile(filepath.Join(dir, path), b, 0o644)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				opts.Finder = symbolize.PathFinder{Sysroot: dir}
			}
			a, r := open(t, corePath, opts)
			a.Backtraces(r, 200)
			out := gdbKernelCore(t, exe, corePath)
			g := parseGDBKernelCore(out)

			if r.Signal == nil || r.Signal.Name != tc.signal || g.signal != tc.signal {
				t.Fatalf("signal: coredig %+v, gdb %q, want %s\n%s", r.Signal, g.signal, tc.signal, out)
			}
			if len(r.Threads) != len(g.order) || r.CrashedTID == nil || len(g.order) == 0 || *r.CrashedTID != g.order[0] {
				t.Fatalf("threads: coredig %d, crashed %v; gdb %v (current first)\n%s", len(r.Threads), r.CrashedTID, g.order, out)
			}
			if r.Threads[0].TID != *r.CrashedTID {
				t.Errorf("the crashing thread %d is not listed first", *r.CrashedTID)
			}
			nregs, nframes := 0, 0
			for _, th := range r.Threads {
				if _, ok := g.frames[th.TID]; !ok && !g.noFrames[th.TID] {
					t.Errorf("thread %d: gdb has no such thread", th.TID)
					continue
				}
				nregs += compareKernelRegs(t, r.Process.Arch, th, g.regs[th.TID])
				gf := g.frames[th.TID]
				if tc.frame0Only && len(gf) > 1 {
					gf = gf[:1]
				}
				if n, ok := tc.gdbWrongFrom[th.TID]; ok && len(gf) > n {
					gf = gf[:n]
				}
				// gdb's last frame at pc 0 is the zero return address that ends the
				// stack; coredig ends without showing it.
				ended := false
				if k := len(gf); k > 0 && gf[k-1].pc == 0 && gf[k-1].fn == "??" && !tc.frame0Only {
					gf, ended = gf[:k-1], true
				}
				for i, f := range gf {
					if i >= len(th.Frames) {
						t.Errorf("thread %d: coredig stops after %d frames, gdb goes on with #%d %s (%s)\n%s", th.TID, len(th.Frames), i, f.fn, th.Error, dump(th.Frames))
						break
					}
					c := th.Frames[i]
					if f.pc != 0 && uint64(c.PC) != f.pc {
						t.Errorf("thread %d frame %d: pc %#x, gdb %#x\n%s", th.TID, i, uint64(c.PC), f.pc, dump(th.Frames))
					}
					if f.fn != "??" && !sameFunction(a, c, f.fn) {
						t.Errorf("thread %d frame %d: %q, gdb %q\n%s", th.TID, i, c.Function, f.fn, dump(th.Frames))
					}
					if f.line != 0 && (filepath.Base(c.File) != filepath.Base(f.file) || c.Line != f.line) {
						t.Errorf("thread %d frame %d: %s:%d, gdb %s:%d", th.TID, i, c.File, c.Line, f.file, f.line)
					}
					nframes++
				}
				if ended && len(th.Frames) != len(gf) {
					t.Errorf("thread %d: gdb ends at a zero return address after %d frames, coredig has %d\n%s", th.TID, len(gf), len(th.Frames), dump(th.Frames))
				}
				if !tc.frame0Only && tc.frames == nil && !g.stopped[th.TID] && len(th.Frames) > len(gf) {
					t.Errorf("thread %d: coredig has %d frames past gdb's last\n%s", th.TID, len(th.Frames)-len(gf), dump(th.Frames))
				}
			}
			if tc.frames != nil {
				for i, th := range r.Threads {
					var names []string
					for _, f := range th.Frames {
						names = append(names, f.Function)
						if f.FoundBy == "scan" {
							t.Errorf("thread %d frame %d %s was found by a scan\n%s", th.TID, f.Index, f.Function, dump(th.Frames))
						}
					}
					if i >= len(tc.frames) || strings.Join(names, " ") != strings.Join(tc.frames[i], " ") {
						t.Errorf("thread %d: frames %v, elfutils' backtrace.c expects %v", th.TID, names, tc.frames[min(i, len(tc.frames)-1)])
					}
					if th.Error != "" {
						t.Errorf("thread %d: the stack ends with an error: %s\n%s", th.TID, th.Error, dump(th.Frames))
					}
				}
			}
			// Every module lies where the core has a mapping: none is taken from a file
			// that is not the process's (testfile69's list names the host's ld.so,
			// whose entry there has no dynamic section to place it by).
			for _, m := range r.Modules {
				mapped := false
				for _, s := range a.Core.Segments {
					mapped = mapped || uint64(m.Start) < s.End() && s.Vaddr < uint64(m.End)
				}
				if !mapped {
					t.Errorf("module %s at %#x-%#x: no mapping of the core is there", m.Path, uint64(m.Start), uint64(m.End))
				}
			}
			// The dynamic linker's list agrees with NT_FILE on every core: backtrace.c's
			// static executables have none beyond their own entry, whose bias is 0
			// (not 0x14 on i386); test-core's prelinked ld.so has l_addr 0 and no file
			// here to tell its bias.
			for _, w := range r.Warnings {
				if strings.Contains(w, "dynamic linker lists") {
					t.Errorf("warning: %s", w)
				}
			}
			neu := 0
			if tc.frame0Only {
				eu := euStackPCs(t, exe, corePath)
				for _, th := range r.Threads {
					for i, pc := range eu[th.TID] {
						if i >= len(th.Frames) || uint64(th.Frames[i].PC) != pc {
							t.Errorf("thread %d frame %d: eu-stack has %#x\n%s", th.TID, i, pc, dump(th.Frames))
							break
						}
						neu++
					}
				}
			}
			t.Logf("%s: %d threads, %d registers and %d frames agree with gdb-multiarch, %d with eu-stack", r.Process.Arch, len(r.Threads), nregs, nframes, neu)
		})
	}
}

// kernelRegAlias maps gdb-multiarch's register names to coredig's where they differ;
// gdb's registers that coredig does not keep (s390x last_break and cc, ppc64 vscr and
// vrsave, aarch64 fpsr and fpcr) are not compared.
var kernelRegAlias = map[string]map[string]string{
	"ppc64le": {"pc": "nip", "lr": "link", "cr": "ccr"},
	"s390x": {"acr0": "a0", "acr1": "a1", "acr2": "a2", "acr3": "a3", "acr4": "a4", "acr5": "a5", "acr6": "a6",
		"acr7": "a7", "acr8": "a8", "acr9": "a9", "acr10": "a10", "acr11": "a11", "acr12": "a12", "acr13": "a13",
		"acr14": "a14", "acr15": "a15", "pc": ""},
	"aarch64": {"cpsr": "pstate", "tpidr": "tpidr_el0"},
	"riscv64": {"fp": "s0"},
	"arm":     {"sp": "r13", "lr": "r14", "pc": "r15"},
}

// kernelMinRegs is how many registers gdb prints for a thread that coredig must match
// at the least: every general register of the architecture.
var kernelMinRegs = map[string]int{"x86_64": 24, "i386": 16, "aarch64": 34, "ppc64le": 37,
	"s390x": 34, "riscv64": 32, "arm": 17}

func compareKernelRegs(t *testing.T, arch string, th report.Thread, gdb map[string]uint64) int {
	t.Helper()
	n := 0
	for name, want := range gdb {
		ours := name
		if al, ok := kernelRegAlias[arch][name]; ok {
			ours = al
		}
		got, ok := th.Registers[ours]
		if ours == "" || !ok {
			continue
		}
		if uint64(got) != want {
			t.Errorf("thread %d register %s: coredig %#x, gdb %s %#x", th.TID, ours, uint64(got), name, want)
		}
		n++
	}
	if n < kernelMinRegs[arch] {
		t.Errorf("thread %d: %d registers compared with gdb's, want at least %d (gdb: %v)", th.TID, n, kernelMinRegs[arch], gdb)
	}
	return n
}

// gdbKernelCore runs gdb-multiarch on a core (and its executable when there is one).
func gdbKernelCore(t *testing.T, exe, corePath string) string {
	t.Helper()
	args := []string{"-nx", "-batch", "-ex", "set backtrace past-main on", "-ex", "set backtrace limit 200",
		"-ex", "set print frame-arguments none", "-ex", "set solib-search-path " + filepath.Dir(corePath)}
	if exe != "" {
		args = append(args, "-ex", "file "+exe)
	}
	args = append(args, "-ex", "core-file "+corePath, "-ex", "info threads", "-ex", "thread apply all bt",
		"-ex", "thread apply all info registers")
	out, _ := exec.Command("gdb-multiarch", args...).CombinedOutput() // exit status 1 when an unwinder gives up
	return string(out)
}

type gdbKernel struct {
	signal   string
	order    []int // LWPs, the current (crashing) one first
	frames   map[int][]gdbRVFrame
	regs     map[int]map[string]uint64
	stopped  map[int]bool // gdb gave up on the stack ("Backtrace stopped", "PC not saved")
	noFrames map[int]bool
}

var (
	gdbKSignal  = regexp.MustCompile(`Program terminated with signal (SIG\w+)`)
	gdbKThread  = regexp.MustCompile(`^(\*)?\s+\d+\s+(?:Thread \S+ \()?LWP (\d+)\)?\s`)
	gdbKStopped = regexp.MustCompile(`^(Backtrace stopped|PC not saved|Python Exception .*PC not saved)`)
)

func parseGDBKernelCore(out string) gdbKernel {
	g := gdbKernel{frames: map[int][]gdbRVFrame{}, regs: map[int]map[string]uint64{}, stopped: map[int]bool{}, noFrames: map[int]bool{}}
	if m := gdbKSignal.FindStringSubmatch(out); m != nil {
		g.signal = m[1]
	}
	tid, inRegs, seen := 0, map[int]bool{}, map[int]bool{}
	listing := true
	for _, line := range strings.Split(out, "\n") {
		if listing {
			if m := gdbKThread.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[2])
				if m[1] == "*" {
					g.order = append([]int{n}, g.order...)
				} else {
					g.order = append(g.order, n)
				}
				continue
			}
		}
		if m := gdbThreadHdr.FindStringSubmatch(line); m != nil {
			listing = false
			tid, _ = strconv.Atoi(m[2])
			if seen[tid] {
				inRegs[tid] = true // the second listing is the registers'
			} else {
				seen[tid] = true
				g.noFrames[tid] = true
			}
			continue
		}
		if tid == 0 {
			continue
		}
		if inRegs[tid] {
			if m := gdbRVReg.FindStringSubmatch(line); m != nil {
				v, _ := strconv.ParseUint(m[2], 0, 64)
				if g.regs[tid] == nil {
					g.regs[tid] = map[string]uint64{}
				}
				g.regs[tid][m[1]] = v
			}
			continue
		}
		if gdbKStopped.MatchString(line) {
			g.stopped[tid] = true
			continue
		}
		if m := gdbRVFrameLine.FindStringSubmatch(line); m != nil {
			f := gdbRVFrame{fn: m[3], file: m[4]}
			f.pc, _ = strconv.ParseUint(m[2], 0, 64)
			f.line, _ = strconv.Atoi(m[5])
			g.frames[tid] = append(g.frames[tid], f)
			delete(g.noFrames, tid)
		}
	}
	return g
}

var (
	euTID   = regexp.MustCompile(`^TID (\d+):`)
	euFrame = regexp.MustCompile(`^#\d+\s+(0x[0-9a-f]+)`)
)

// euStackPCs runs eu-stack on a core: the pcs of each thread's frames.
func euStackPCs(t *testing.T, exe, corePath string) map[int][]uint64 {
	t.Helper()
	if _, err := exec.LookPath("eu-stack"); err != nil {
		t.Fatalf("eu-stack is an oracle for this test (apt-get install elfutils; scripts/deps.sh): %v", err)
	}
	args := []string{"--core", corePath}
	if exe != "" {
		args = append(args, "-e", exe)
	}
	out, _ := exec.Command("eu-stack", args...).CombinedOutput() // exit status 1 where it gives up on a frame
	pcs := map[int][]uint64{}
	tid := 0
	for _, line := range strings.Split(string(out), "\n") {
		if m := euTID.FindStringSubmatch(line); m != nil {
			tid, _ = strconv.Atoi(m[1])
		} else if m := euFrame.FindStringSubmatch(line); m != nil && tid != 0 {
			v, _ := strconv.ParseUint(m[1], 0, 64)
			pcs[tid] = append(pcs[tid], v)
		}
	}
	if len(pcs) == 0 {
		t.Fatalf("eu-stack gave no frames:\n%s", out)
	}
	for tid, p := range pcs {
		if k := len(p); k > 1 && p[k-1] == 0 {
			pcs[tid] = p[:k-1] // the zero return address that ends the stack
		}
	}
	return pcs
}
