//go:build linux

package goruntime

import (
	"debug/elf"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

func TestMain(m *testing.M) { os.Exit(testcore.Main(m)) }

// The layout read from the DWARF of a real Go program, built by this toolchain for
// x86_64 and arm64. The leading fields of g and gobuf have not moved since Go 1.4 (the
// linker and libmach know them); m.procid follows m.g0, m.morebuf (a gobuf) and two
// uint32s; waitReasonStrings is a [N]string, 16 bytes an entry.
func TestLayout(t *testing.T) {
	for _, spec := range []testcore.Spec{testcore.GoGoroutines, testcore.GoGoroutinesAArch64} {
		t.Run(spec.Name, func(t *testing.T) {
			tc := testcore.Make(t, spec)
			f, err := elf.Open(tc.Exe)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			d, err := f.DWARF()
			if err != nil {
				t.Fatal(err)
			}
			l, err := readLayout(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what   string
				got    map[string]int64
				field  string
				offset int64
			}{
				{"g", l.g, "stack", 0},
				{"g", l.g, "stackguard0", 16},
				{"g", l.g, "_panic", 32},
				{"g", l.g, "_defer", 40},
				{"g", l.g, "m", 48},
				{"g", l.g, "sched", 56},
				{"gobuf", l.gobuf, "sp", 0},
				{"gobuf", l.gobuf, "pc", 8},
				{"gobuf", l.gobuf, "g", 16},
				{"m", l.m, "g0", 0},
				{"m", l.m, "morebuf", 8},
			} {
				if o, ok := c.got[c.field]; !ok || o != c.offset {
					t.Errorf("runtime.%s.%s at %d (%v), want %d", c.what, c.field, o, ok, c.offset)
				}
			}
			gobufSize := int64(0)
			for _, o := range l.gobuf {
				gobufSize = max(gobufSize, o+8)
			}
			if o := l.m["procid"]; o != 8+gobufSize+8 {
				t.Errorf("runtime.m.procid at %d, want %d (after a %d-byte gobuf)", o, 8+gobufSize+8, gobufSize)
			}
			for _, name := range []string{"goid", "atomicstatus", "waitreason", "sig", "sigcode0", "sigcode1", "sigpc"} {
				if o, ok := l.g[name]; !ok || o < 56+gobufSize {
					t.Errorf("runtime.g.%s at %d (%v), want after sched", name, o, ok)
				}
			}
			for _, name := range []string{"lr", "bp"} {
				if _, ok := l.gobuf[name]; !ok {
					t.Errorf("runtime.gobuf has no %s", name)
				}
			}
			var size uint64
			syms, _ := f.Symbols()
			for _, s := range syms {
				if s.Name == "runtime.waitReasonStrings" {
					size = s.Size
				}
			}
			if size == 0 || l.nWaitReason != int64(size/16) {
				t.Errorf("len(runtime.waitReasonStrings) = %d, symbol size %d", l.nWaitReason, size)
			}
			// What waits read: internal/sync.Mutex is {state int32; sema uint32} and
			// sync.Mutex wraps it after a zero-size noCopy; the stack is {lo, hi};
			// semtable has semTabSize 251 entries, each padded to a cache line pair.
			wl, err := readWaitLayout(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what   string
				got    map[string]int64
				field  string
				offset int64
			}{
				{"internal/sync.Mutex", wl.mutex, "state", 0},
				{"internal/sync.Mutex", wl.mutex, "sema", 4},
				{"stack", wl.stack, "lo", 0},
				{"stack", wl.stack, "hi", 8},
				{"sudog", wl.sudog, "g", 0},
				{"semaRoot", wl.semaRoot, "treap", 8},
			} {
				if o, ok := c.got[c.field]; !ok || o != c.offset {
					t.Errorf("%s.%s at %d (%v), want %d", c.what, c.field, o, ok, c.offset)
				}
			}
			for _, name := range []string{"elem", "c", "waitlink", "prev", "next"} {
				if _, ok := wl.sudog[name]; !ok {
					t.Errorf("runtime.sudog has no %s", name)
				}
			}
			if wl.mutexIn != 0 || wl.traceable != 8 || wl.semCount != 251 || wl.semSize <= 0 {
				t.Errorf("sync.Mutex.mu at %d, maybeTraceablePtr.vu at %d, semtable [%d] of %d bytes; want 0, 8, 251",
					wl.mutexIn, wl.traceable, wl.semCount, wl.semSize)
			}
		})
	}
}

// coreProc is the Process of a real core, as internal/analysis presents it.
type coreProc struct {
	c *core.Core
	t *symbolize.Table
}

func (p coreProc) ReadAt(b []byte, addr uint64) (int, error) { return p.c.ReadAt(b, addr) }

func (p coreProc) Modules() []Module {
	var out []Module
	for _, m := range p.t.Modules {
		if m.Usable() {
			out = append(out, coreModule{p.t, m})
		}
	}
	return out
}

func (p coreProc) FuncStart(pc uint64) (uint64, bool) {
	s := p.t.Lookup(pc)
	return s.FuncStart, s.Function != ""
}

type coreModule struct {
	t *symbolize.Table
	m *symbolize.Module
}

func (m coreModule) ELF() *elf.File                    { return m.m.ELF() }
func (m coreModule) Symbol(name string) (uint64, bool) { return m.t.FindSymbolIn(m.m, name) }

// backing reads not-dumped file-backed bytes from the modules' files.
type backing struct{ t *symbolize.Table }

func (b backing) ReadBacked(p []byte, addr uint64) (int, error) {
	m := b.t.ModuleFor(addr)
	if m == nil {
		return 0, os.ErrNotExist
	}
	return m.ReadFile(p, addr)
}

var tracebackHeader = regexp.MustCompile(`(?m)^goroutine (\d+) .*\[([^\],]+)[^\]]*\]:$`)

// The goroutines of a real core against the runtime's own traceback of the same moment
// (GOTRACEBACK=crash): every goroutine it lists is read, with its wait reason; the main
// goroutine runs on the crashing thread, and is the one panicking from the SIGSEGV at
// 0x60 in main.readField.
func TestCoreGoroutines(t *testing.T) {
	for _, spec := range []testcore.Spec{testcore.GoGoroutines, testcore.GoGoroutinesAArch64} {
		t.Run(spec.Name, func(t *testing.T) {
			tc := testcore.Make(t, spec)
			c, err := core.Open(tc.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tab := symbolize.Load(c, symbolize.Options{})
			defer tab.Close()
			c.SetBacking(backing{tab})
			p := coreProc{c, tab}
			rt, err := Find(p, c.Arch)
			if err != nil {
				t.Fatal(err)
			}
			if v := rt.Version(); v != runtime.Version() {
				t.Errorf("version %q, want %q (the toolchain that built it)", v, runtime.Version())
			}
			gs, err := rt.Goroutines()
			if err != nil {
				t.Fatal(err)
			}
			byID := map[uint64]*G{}
			for i := range gs {
				byID[gs[i].Goid] = &gs[i]
			}
			m := tracebackHeader.FindAllStringSubmatch(tc.Stderr, -1)
			if len(m) < 10 {
				t.Fatalf("%d goroutines in the runtime's traceback:\n%s", len(m), tc.Stderr)
			}
			// main.sleeper's time.Sleep keeps a timer; main.lockOn waits for the mutex
			// main locked, through runtime.semtable.
			if n, err := rt.Timers(); err != nil || n < 1 {
				t.Errorf("%d timers (%v), want at least main.sleeper's", n, err)
			}
			sema, err := rt.SemaWaits()
			if err != nil {
				t.Errorf("semtable: %v", err)
			}
			for i := range gs {
				if g := &gs[i]; g.State() == Gwaiting && rt.WaitReason(g.WaitReason) == "sync.Mutex.Lock" {
					mu, err := rt.MutexOfSema(sema[g.Addr])
					if err != nil || !mu.Locked() || mu.Waiters() != 1 {
						t.Errorf("goroutine %d waits for %+v (%v), want a locked sync.Mutex with one waiter", g.Goid, mu, err)
					}
				}
			}
			reasons := map[string]int{}
			for _, h := range m {
				id, _ := strconv.ParseUint(h[1], 10, 64)
				g := byID[id]
				if g == nil {
					t.Errorf("goroutine %s [%s] of the traceback is missing", h[1], h[2])
					continue
				}
				got := StatusName(g.Status)
				if g.State() == Gwaiting {
					got = rt.WaitReason(g.WaitReason)
				}
				if got != h[2] {
					t.Errorf("goroutine %d: %q, the runtime says %q", id, got, h[2])
				}
				reasons[got]++
				if g.State() != Grunning {
					if _, ret := rt.Context(g); !g.HasContext() || !ret {
						t.Errorf("goroutine %d: sched %+v, return address %v", id, g.Sched, ret)
					}
				}
			}
			if reasons["chan receive"] != 3 || reasons["sleep"] != 1 || reasons["sync.Mutex.Lock"] != 1 || reasons["running"] != 1 {
				t.Errorf("wait reasons %v", reasons)
			}
			g1 := byID[1]
			if tid, ok := g1.TID(); g1.State() != Grunning || !ok || tid != c.Threads[0].TID {
				t.Errorf("goroutine 1: status %#x on thread %d, want running on the crashing thread %d", g1.Status, g1.Thread, c.Threads[0].TID)
			}
			readField, _, ok := tab.FindSymbol("main.readField")
			if !ok {
				t.Fatal("no main.readField")
			}
			want := Fault{Goid: 1, Signo: 11, Code: 1, Addr: 0x60, PC: readField}
			for _, hint := range []uint64{0, readField} {
				f, err := rt.Fault(hint)
				if err != nil {
					t.Fatalf("fault with hint %#x: %v", hint, err)
				}
				// Where the runtime started the panic: in gopanic, on goroutine 1's stack.
				if fn := tab.Lookup(f.PanicPC).Function; fn != "runtime.gopanic" || f.PanicSP == 0 {
					t.Errorf("panic started at %#x (%s), sp %#x; want in runtime.gopanic", f.PanicPC, fn, f.PanicSP)
				}
				if got := (Fault{Goid: f.Goid, Signo: f.Signo, Code: f.Code, Addr: f.Addr, PC: f.PC}); got != want {
					t.Errorf("fault with hint %#x: %+v; want %+v", hint, f, want)
				}
			}
			if f, err := rt.Fault(readField + 4); f != nil || err == nil || !strings.HasPrefix(err.Error(), "no goroutine among ") {
				t.Errorf("fault with a wrong hint: %+v, %v", f, err)
			}
		})
	}
}
