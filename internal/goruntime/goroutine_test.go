package goruntime

import (
	"slices"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

func TestStatusName(t *testing.T) {
	for _, tc := range []struct {
		status uint32
		want   string
	}{
		{0, "idle"},
		{1, "runnable"},
		{2, "running"},
		{3, "syscall"},
		{4, "waiting"},
		{5, "status 5"}, // _Gmoribund_unused
		{6, "dead"},
		{7, "status 7"}, // _Genqueue_unused
		{8, "copystack"},
		{9, "preempted"},
		{10, "status 10"},     // _Gleaked (Go 1.26)
		{0x1001, "runnable"},  // _Gscanrunnable
		{0x1004, "waiting"},   // _Gscanwaiting
		{0x1000, "idle"},      // _Gscan alone
		{0x100b, "status 11"}, // _Gscan|_Gdeadextra
	} {
		if got := StatusName(tc.status); got != tc.want {
			t.Errorf("StatusName(%#x) = %q, want %q", tc.status, got, tc.want)
		}
	}
}

func TestGTID(t *testing.T) {
	for _, tc := range []struct {
		thread uint64
		tid    int
		ok     bool
	}{
		{0, 0, false},
		{1, 1, true},
		{1<<31 - 1, 1<<31 - 1, true},
		{1 << 31, 0, false},
		{^uint64(0), 0, false},
	} {
		g := G{Thread: tc.thread}
		if tid, ok := g.TID(); tid != tc.tid || ok != tc.ok {
			t.Errorf("TID of m.procid %#x = %d, %v; want %d, %v", tc.thread, tid, ok, tc.tid, tc.ok)
		}
	}
}

// Goroutines reads each g of runtime.allgs; nil entries and gs whose status cannot be
// read are skipped, other unreadable fields read as zero.
func TestGoroutines(t *testing.T) {
	p := newFake()
	p.setAllgs(0x10000, 0, 0x20000, 0x30000, 0xdead0000)
	p.addG(0x10000, 1, Grunning)
	p.put64(0x10000+offM, 0x50000)
	p.mapRegion(0x50000, 0x50)
	p.put64(0x50000+offProcID, 4242)
	p.put64(0x10000+offPanic, 0x60000)
	p.put32(0x10000+offSig, 11)
	p.put64(0x10000+offSigCode0, 1)
	p.put64(0x10000+offSigCode1, 0x60)
	p.put64(0x10000+offSigPC, 0x401234)

	p.addG(0x20000, 7, Gscan|Gwaiting)
	p.put8(0x20000+offWaitReason, 14)
	p.put64(0x20000+offSched, 0xc000050000)    // sp
	p.put64(0x20000+offSched+8, 0x43a000)      // pc
	p.put64(0x20000+offSched+32, 0x43b000)     // lr
	p.put64(0x20000+offSched+40, 0xc000050100) // bp
	p.put64(0x20000+offM, 0x70000)             // an M that is not mapped: Thread 0

	p.regions[0x30000] = make([]byte, offStatus) // cut before atomicstatus: skipped

	rt := fakeRuntime(p, arch.AMD64)
	gs, err := rt.Goroutines()
	if err != nil {
		t.Fatal(err)
	}
	want := []G{
		{Addr: 0x10000, Goid: 1, Status: Grunning, Thread: 4242, Sig: 11, SigCode0: 1, SigCode1: 0x60, SigPC: 0x401234, Panic: 0x60000},
		{Addr: 0x20000, Goid: 7, Status: Gscan | Gwaiting, WaitReason: 14, Sched: Sched{PC: 0x43a000, SP: 0xc000050000, BP: 0xc000050100, LR: 0x43b000}},
	}
	if !slices.Equal(gs, want) {
		t.Errorf("goroutines\n%+v\nwant\n%+v", gs, want)
	}
	if gs[1].State() != Gwaiting || !gs[1].HasContext() || gs[0].HasContext() {
		t.Errorf("state %#x, has context %v %v", gs[1].State(), gs[0].HasContext(), gs[1].HasContext())
	}
}

// An unreadable allgs entry ends the walk with the goroutines read before it.
func TestGoroutinesCut(t *testing.T) {
	p := newFake()
	p.setAllgs(0x10000, 0x20000)
	p.addG(0x10000, 1, Gwaiting)
	p.regions[fakeArray] = p.regions[fakeArray][:8]
	gs, err := fakeRuntime(p, arch.AMD64).Goroutines()
	if err == nil || err.Error() != "reading runtime.allgs[1]: 0x2008 is unmapped" {
		t.Errorf("error %v", err)
	}
	if len(gs) != 1 || gs[0].Goid != 1 {
		t.Errorf("goroutines %+v, want goroutine 1", gs)
	}
}

// len(runtime.allgs) is bounded by MaxGoroutines.
func TestGoroutinesBound(t *testing.T) {
	if MaxGoroutines != 1<<20 {
		t.Errorf("MaxGoroutines = %d", MaxGoroutines)
	}
	p := newFake()
	p.setAllgs()
	p.put64(fakeAllgs+8, MaxGoroutines+1)
	gs, err := fakeRuntime(p, arch.AMD64).Goroutines()
	if gs != nil || err == nil || err.Error() != "len(runtime.allgs) = 1048577 is not believable" {
		t.Errorf("goroutines %v, error %v", gs, err)
	}
	// At the bound the walk starts (and stops at the first entry, which is not there).
	p.put64(fakeAllgs+8, MaxGoroutines)
	if _, err := fakeRuntime(p, arch.AMD64).Goroutines(); err == nil || err.Error() != "reading runtime.allgs[0]: 0x2000 is unmapped" {
		t.Errorf("error %v", err)
	}
	p = newFake()
	if _, err := fakeRuntime(p, arch.AMD64).Goroutines(); err == nil || err.Error() != "reading runtime.allgs: 0x1000 is unmapped" {
		t.Errorf("error %v", err)
	}
}

// Wait reasons are read from runtime.waitReasonStrings within its length; strings are
// read when 1 to 256 bytes long.
func TestWaitReason(t *testing.T) {
	p := newFake()
	const table, data = 0x8000, 0x9000
	p.mapRegion(table, 5*16)
	p.mapRegion(data, 0x1000)
	p.putString(table, data, "") // waitReasonZero
	p.putString(table+16, data, "GC assist marking")
	p.putString(table+32, data+0x100, "chan receive")
	p.putString(table+48, data+0x200, string(make([]byte, 256)))
	p.putString(table+64, data+0x400, string(make([]byte, 257)))
	rt := fakeRuntime(p, arch.AMD64)
	rt.waitReasons, rt.nWaitReason = table, 5
	for _, tc := range []struct {
		r    uint8
		want string
	}{
		{0, ""},
		{1, "GC assist marking"},
		{2, "chan receive"},
		{3, string(make([]byte, 256))},
		{4, ""}, // 257 bytes: not believable
		{5, ""}, // beyond len(waitReasonStrings)
		{255, ""},
	} {
		if got := rt.WaitReason(tc.r); got != tc.want {
			t.Errorf("WaitReason(%d) = %q, want %q", tc.r, got, tc.want)
		}
	}
	rt.nWaitReason = 2
	if got := rt.WaitReason(2); got != "" {
		t.Errorf("WaitReason(2) beyond the array = %q", got)
	}
	rt.waitReasons = 0
	if got := rt.WaitReason(1); got != "" {
		t.Errorf("WaitReason(1) without the array = %q", got)
	}
	// An unreadable string's bytes.
	p.put64(table+16, 0x7000)
	rt.waitReasons, rt.nWaitReason = table, 5
	if got := rt.WaitReason(1); got != "" {
		t.Errorf("WaitReason(1) of unreadable bytes = %q", got)
	}
}

func TestVersion(t *testing.T) {
	p := newFake()
	p.mapRegion(0x8000, 16)
	p.mapRegion(0x9000, 16)
	p.putString(0x8000, 0x9000, "go1.22.1")
	rt := fakeRuntime(p, arch.AMD64)
	if v := rt.Version(); v != "" {
		t.Errorf("version without runtime.buildVersion: %q", v)
	}
	rt.version = 0x8000
	if v := rt.Version(); v != "go1.22.1" {
		t.Errorf("version %q", v)
	}
}

// Context puts g.sched into the registers of each architecture; its pc is a return
// address unless it is a function's entry.
func TestContext(t *testing.T) {
	g := &G{Sched: Sched{PC: 0x43a010, SP: 0xc000050000, BP: 0xc000050100, LR: 0x43b000}}
	for _, tc := range []struct {
		arch  *arch.Arch
		start map[uint64]uint64
		regs  map[string]uint64
		ret   bool
	}{
		{arch.AMD64, map[uint64]uint64{0x43a010: 0x43a000}, map[string]uint64{"rip": 0x43a010, "rsp": 0xc000050000, "rbp": 0xc000050100}, true},
		{arch.AMD64, map[uint64]uint64{0x43a010: 0x43a010}, map[string]uint64{"rip": 0x43a010, "rsp": 0xc000050000, "rbp": 0xc000050100}, false},
		{arch.AMD64, nil, map[string]uint64{"rip": 0x43a010, "rsp": 0xc000050000, "rbp": 0xc000050100}, true},
		{arch.ARM64, map[uint64]uint64{0x43a010: 0x43a000}, map[string]uint64{"pc": 0x43a010, "sp": 0xc000050000, "x29": 0xc000050100, "x30": 0x43b000}, true},
		{arch.ARM64, map[uint64]uint64{0x43a010: 0x43a010}, map[string]uint64{"pc": 0x43a010, "sp": 0xc000050000, "x29": 0xc000050100, "x30": 0x43b000}, false},
	} {
		p := newFake()
		p.starts = tc.start
		regs, ret := fakeRuntime(p, tc.arch).Context(g)
		want := make([]uint64, len(tc.arch.RegNames))
		for name, v := range tc.regs {
			i := tc.arch.Reg(name)
			if i < 0 {
				t.Fatalf("%s has no register %s", tc.arch.Name, name)
			}
			want[i] = v
		}
		if !slices.Equal(regs, want) || ret != tc.ret {
			t.Errorf("%s with starts %v: regs %#x return %v, want %#x return %v", tc.arch.Name, tc.start, regs, ret, want, tc.ret)
		}
	}
}
