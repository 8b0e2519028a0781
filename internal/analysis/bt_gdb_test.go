package analysis

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// gdbFrame is one line of gdb's backtrace.
type gdbFrame struct {
	index   int
	fn      string // "??" when gdb resolves none
	hasAddr bool   // gdb printed "0x… in": a real return address, not a frame it synthesized
}

var (
	gdbThreadHdr = regexp.MustCompile(`^Thread (\d+) \((?:.*\()?LWP (\d+)\)`)
	gdbFrameLine = regexp.MustCompile(`^#(\d+)\s+(0x[0-9a-f]+ in )?(.+?)(?: \(.*)?$`)
)

// parseGDBBacktraces parses `thread apply all bt` output into frames per LWP, and gdb's
// thread numbers per LWP.
func parseGDBBacktraces(out string) (map[int][]gdbFrame, map[int]int) {
	res := map[int][]gdbFrame{}
	nums := map[int]int{}
	tid := 0
	for _, line := range strings.Split(out, "\n") {
		if m := gdbThreadHdr.FindStringSubmatch(line); m != nil {
			tid, _ = strconv.Atoi(m[2])
			nums[tid], _ = strconv.Atoi(m[1])
			continue
		}
		if tid == 0 {
			continue
		}
		m := gdbFrameLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		fn := m[3]
		if strings.HasPrefix(fn, "<signal handler called>") {
			fn = SignalHandlerCalled
		} else if i := strings.Index(fn, " "); i >= 0 {
			fn = fn[:i]
		}
		res[tid] = append(res[tid], gdbFrame{index: n, fn: fn, hasAddr: m[2] != ""})
	}
	return res, nums
}

// gdbTailCall asks gdb whether frame level of thread num is a frame it synthesized for a
// tail call (from DW_TAG_call_site with DW_AT_call_tail_call): no return address on the
// stack leads to such a frame.
func gdbTailCall(t *testing.T, exe, corePath string, num, level int) bool {
	out := gdb(t, exe, corePath, fmt.Sprintf("thread %d", num), fmt.Sprintf("frame %d", level), "info frame")
	return strings.Contains(out, "tail call frame")
}

// gdbName normalises a name for comparison: gdb prints C++ functions with their
// parameter lists when they come from the minimal symbol table and without them from
// DWARF; coredig always prints them (TestCxxNamesMatchEuStack checks them).
func gdbName(s string) string {
	if i := strings.Index(s, "("); i > 0 {
		s = s[:i]
	}
	return s
}

// TestBacktracesMatchGDB is the differential suite of issue 3: every frame where gdb
// resolves a function name must carry the same name in coredig's backtrace.
func TestBacktracesMatchGDB(t *testing.T) {
	specs := []testcore.Spec{
		testcore.DerefPIE, testcore.DerefO2NoFP, testcore.Recurse, testcore.SigHandler,
		testcore.Throw, testcore.Threads20, testcore.Static, testcore.Threads6Py,
		// i386, a kernel core of a gcc -m32 program: CFI, both signal frames, the overflow.
		testcore.DerefI386, testcore.DerefI386O2, testcore.SigHandlerI386, testcore.RecurseI386,
		// i386 CPython: Debian's libpython3.11:i386 under an interpreter built with gcc -m32.
		testcore.PySelfI386,
	}
	for _, spec := range specs {
		t.Run(spec.Name, func(t *testing.T) {
			tc := testcore.Make(t, spec)
			a, r := open(t, tc.Path, symbolize.Options{})
			a.Backtraces(r, 200)
			out := gdb(t, tc.Exe, tc.Path, "set backtrace limit 200", "set backtrace past-main on", "set backtrace past-entry on", "set print frame-arguments none", "thread apply all bt")
			want, nums := parseGDBBacktraces(out)
			if len(want) != len(r.Threads) {
				t.Fatalf("gdb shows %d threads, coredig %d\n%s", len(want), len(r.Threads), out)
			}
			compared, skipped, tailcalls, aliases := 0, 0, 0, 0
			for _, th := range r.Threads {
				g := want[th.TID]
				if len(g) == 0 {
					t.Errorf("thread %d: gdb printed no frames", th.TID)
					continue
				}
				ours := th.Frames
				i := 0
				tailPCs, tailMatched := map[uint64]bool{}, map[uint64]bool{}
				for _, f := range ours {
					if f.FoundBy == "tail_call" {
						tailPCs[uint64(f.PC)] = true
					}
				}
				defer func(tid int) {
					for pc := range tailPCs {
						if !tailMatched[pc] {
							t.Errorf("thread %d: coredig's tail-call frame at %#x matches none of gdb's", tid, pc)
						}
					}
				}(th.TID)
				defer func(tid int, g []gdbFrame, ours []report.Frame, i *int) {
					// Past gdb's outermost frame coredig must not invent more (unless gdb
					// hit its limit of 200).
					if len(g) < 200 && *i < len(ours) && !t.Failed() {
						t.Errorf("thread %d: coredig has %d frames after gdb's last (#%d %s)\n%s", tid, len(ours)-*i, g[len(g)-1].index, g[len(g)-1].fn, dump(ours))
					}
				}(th.TID, g, ours, &i)
				for j := 0; j < len(g); j++ {
					gf := g[j]
					if i >= len(ours) {
						t.Errorf("thread %d: coredig stops after %d frames, gdb goes on with #%d %s (coredig: %s)\n%s", th.TID, len(ours), gf.index, gf.fn, th.Error, dump(ours))
						break
					}
					if gf.fn == "??" {
						skipped++
						i++
						continue
					}
					if gdbName(gf.fn) == gdbName(ours[i].Function) {
						if ours[i].FoundBy == "tail_call" {
							tailMatched[uint64(ours[i].PC)] = true
						}
						compared++
						i++
						continue
					}
					// coredig expands the inlined calls at a tail call's site into frames
					// of their own, as at any other pc; gdb shows a tail-call frame as its
					// innermost function only. Such extra frames are skipped here, but
					// every tail-call site must match one of gdb's frames (checked below).
					if ours[i].FoundBy == "tail_call" {
						tailPCs[uint64(ours[i].PC)] = true
						i++
						j--
						continue
					}
					// Two names for one function (glibc's __libc_start_main and
					// __libc_start_main_impl): gdb's name must be a symbol at the same
					// address as the function coredig names.
					if f := ours[i]; f.FunctionOffset != nil && !f.Inlined {
						if addr, _, ok := a.Modules.FindSymbol(gdbName(gf.fn)); ok && addr == uint64(f.PC)-uint64(*f.FunctionOffset) {
							aliases++
							compared++
							i++
							continue
						}
					}
					// gdb synthesizes a frame for a function that tail-called the next one
					// (from DW_TAG_call_site with DW_AT_call_tail_call): no return address
					// on the stack leads to it. coredig shows only frames the stack proves,
					// so such a frame may be missing; gdb itself is asked whether it is one.
					// Any other disagreement fails.
					if gdbTailCall(t, tc.Exe, tc.Path, nums[th.TID], gf.index) {
						tailcalls++
						continue
					}
					t.Errorf("thread %d frame #%d: coredig %q, gdb #%d %q\n%s", th.TID, i, ours[i].Function, gf.index, gf.fn, dump(ours))
					break
				}
			}
			if compared == 0 {
				t.Fatalf("no frame compared")
			}
			t.Logf("%d frames agree with gdb (%d by an alias of the same address), %d unnamed by gdb, %d gdb tail-call frames not shown", compared, aliases, skipped, tailcalls)
		})
	}
}

func dump(frames []report.Frame) string {
	var b strings.Builder
	for _, f := range frames {
		fmt.Fprintf(&b, "  #%d %#x %s [%s] %s\n", f.Index, uint64(f.PC), f.Function, f.FoundBy, f.Error)
	}
	return b.String()
}

// gdb-multiarch cannot unwind or symbolize the qemu-user aarch64 core (no NT_FILE, text
// pages not dumped: it prints "?? ()" for every frame), so the aarch64 backtraces are
// checked against the program's source instead: exact function names per frame.
func TestBacktracesAArch64(t *testing.T) {
	tc := testcore.Make(t, testcore.DerefAArch64)
	a, r := open(t, tc.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: tc.Sysroot}})
	a.Backtraces(r, 0)
	want := map[string][]string{
		"deref":        {"deref", "main"},
		"worker_sleep": {"clock_nanosleep", "__nanosleep", "sleep", "worker_sleep"},
		"worker_wait":  {"", "pthread_cond_wait", "worker_wait"},
		"worker_spin":  {"worker_spin"},
	}
	seen := map[string]bool{}
	for _, th := range r.Threads {
		var names []string
		for _, f := range th.Frames {
			names = append(names, f.Function)
		}
		matched := ""
		for key, w := range want {
			if len(names) >= len(w) && strings.Join(names[:len(w)], ",") == strings.Join(w, ",") {
				matched = key
			}
		}
		if matched == "" {
			t.Errorf("thread %d: unexpected stack %q", th.TID, names)
			continue
		}
		seen[matched] = true
		if th.Crashed != (matched == "deref") {
			t.Errorf("thread %d (%s): crashed = %v", th.TID, matched, th.Crashed)
		}
		marker := map[string]string{"deref": "main_calls_deref", "worker_sleep": "worker_sleep", "worker_wait": "worker_wait"}[matched]
		f := th.Frames[len(want[matched])-1]
		if f.File != tc.Source || (marker != "" && f.Line != tc.Line(t, marker)) {
			t.Errorf("thread %d: %s at %s:%d, want %s:%d", th.TID, f.Function, f.File, f.Line, tc.Source, tc.Line(t, marker))
		}
		for i, f := range th.Frames {
			if i == 0 && f.FoundBy != "context" || i > 0 && f.FoundBy != "cfi" {
				t.Errorf("thread %d frame %d found by %s", th.TID, i, f.FoundBy)
			}
		}
	}
	if len(seen) != 4 {
		t.Errorf("stacks seen: %v", seen)
	}
}

// The CPython 3.12 crash unwinds through the interpreter loop to the program's entry,
// with libpython file:line from the pyenv build's DWARF. (The pyenv python's main
// tail-calls Py_BytesMain, so neither gdb nor coredig shows a main frame.)
func TestBacktracePython312(t *testing.T) {
	tc := testcore.Make(t, testcore.Threads6Py)
	a, r := open(t, tc.Path, symbolize.Options{})
	a.Backtraces(r, 0)
	fr := r.Threads[0].Frames
	want := map[string]string{
		"_PyEval_EvalFrameDefault": "Python/bytecodes.c",
		"PyEval_EvalCode":          "Python/ceval.c",
		"Py_RunMain":               "Modules/main.c",
		"Py_BytesMain":             "Modules/main.c",
	}
	found := map[string]bool{}
	for _, f := range fr {
		if file, ok := want[f.Function]; ok && !f.Inlined {
			if f.File != file || f.Line <= 0 || filepath.Base(f.Module) != "libpython3.12.so.1.0" {
				t.Errorf("%s at %s:%d in %s, want %s", f.Function, f.File, f.Line, f.Module, file)
			}
			found[f.Function] = true
		}
	}
	if len(found) != len(want) {
		t.Errorf("found %v of %v\n%s", found, want, dump(fr))
	}
	if last := fr[len(fr)-1]; last.Function != "_start" || filepath.Base(last.Module) != "python3.12" || r.Threads[0].Error != "" {
		t.Errorf("outermost frame %s in %s (error %q), want _start in python3.12", last.Function, last.Module, r.Threads[0].Error)
	}
}
