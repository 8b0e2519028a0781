package goruntime

import (
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// A made-up layout of the structures waits read, for the fake memory.
const (
	fakeSemtable = 0x5000 // runtime.semtable: 4 roots of 0x40 bytes, treap at 8
	fakeSudogs   = 0x6000
	fakeMutex    = 0x7000 // a sync.Mutex: state, then sema
	fakeChan     = 0x7100
)

func fakeWaitRuntime(p *fakeProc) *Runtime {
	rt := fakeRuntime(p, arch.AMD64)
	rt.g["waiting"], rt.g["stack"], rt.g["_defer"] = 0xd0, 0, 0xd8
	rt.mod = newModule(map[string]uint64{"runtime.semtable": fakeSemtable})
	rt.wl = &waitLayout{
		stack:    map[string]int64{"lo": 0, "hi": 8},
		sudog:    map[string]int64{"g": 0, "next": 8, "prev": 16, "elem": 24, "waitlink": 48, "c": 56},
		semaRoot: map[string]int64{"treap": 8},
		deferRec: map[string]int64{"fn": 24, "link": 32},
		hchan:    map[string]int64{"qcount": 0, "dataqsiz": 8, "closed": 16},
		mutex:    map[string]int64{"state": 0, "sema": 4},
		rwmutex:  map[string]int64{"writerSem": 8, "readerSem": 12},
		semCount: 4, semSize: 0x40, traceable: 8,
	}
	return rt
}

// putSudog writes a sudog for g waiting on elem (a maybeTraceablePtr: vu at +8).
func (p *fakeProc) putSudog(s, g, elem, prev, next, waitlink, c uint64) {
	p.put64(s, g)
	p.put64(s+8, next)
	p.put64(s+16, prev)
	p.put64(s+24+8, elem)
	p.put64(s+48, waitlink)
	p.put64(s+56+8, c)
}

// Two goroutines on one mutex (a treap node and its waitlink), one on another address
// (the node's child), and one in a channel receive.
func TestWaits(t *testing.T) {
	p := newFake()
	p.mapRegion(fakeSemtable, 4*0x40)
	p.mapRegion(fakeSudogs, 0x400)
	p.mapRegion(fakeMutex, 0x200)
	p.mapRegion(0x9000, 0x400)
	s0, s1, s2, s3 := uint64(fakeSudogs), uint64(fakeSudogs+0x80), uint64(fakeSudogs+0x100), uint64(fakeSudogs+0x180)
	p.put64(fakeSemtable+2*0x40+8, s0)
	p.putSudog(s0, 0x9000, fakeMutex+4, s2, 0, s1, 0)
	p.putSudog(s1, 0x9100, fakeMutex+4, 0, 0, 0, 0)
	p.putSudog(s2, 0x9200, fakeMutex+0x40+8, 0, 0, 0, 0)
	p.put32(fakeMutex, 1|2<<3)
	rt := fakeWaitRuntime(p)
	got, err := rt.SemaWaits()
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]uint64{0x9000: fakeMutex + 4, 0x9100: fakeMutex + 4, 0x9200: fakeMutex + 0x48}
	if len(got) != len(want) {
		t.Errorf("sema waits %v, want %v", got, want)
	}
	for g, s := range want {
		if got[g] != s {
			t.Errorf("g %#x waits on %#x, want %#x", g, got[g], s)
		}
	}
	m, err := rt.MutexOfSema(fakeMutex + 4)
	if err != nil || m.Addr != fakeMutex || !m.Locked() || m.Waiters() != 2 {
		t.Errorf("mutex %+v (%v), want %#x locked with 2 waiters", m, err, fakeMutex)
	}
	if rw, err := rt.RWMutexOfSema(fakeMutex+0x48, true); err != nil || rw != fakeMutex+0x40 {
		t.Errorf("rwmutex %#x (%v), want %#x", rw, err, fakeMutex+0x40)
	}
	// A channel receive: g.waiting is s3, on fakeChan, a buffer of 3 holding 0.
	p.put64(0x9300+0xd0, s3)
	p.putSudog(s3, 0x9300, 0, 0, 0, 0, fakeChan)
	p.put64(fakeChan+8, 3)
	cs, err := rt.Channels(&G{Addr: 0x9300})
	if err != nil || len(cs) != 1 || cs[0] != fakeChan {
		t.Fatalf("channels %#x (%v), want [%#x]", cs, err, fakeChan)
	}
	if c, err := rt.ChanOf(fakeChan); err != nil || c.Len != 0 || c.Cap != 3 || c.Closed {
		t.Errorf("chan %+v (%v)", c, err)
	}
	// A treap whose child points back at its root ends.
	p.put64(s2+16, s0)
	if _, err := rt.SemaWaits(); err != nil {
		t.Errorf("a looping treap: %v", err)
	}
}

// waitsSeed is TestWaits' memory folded into the one region FuzzWaits maps at both
// fakeSemtable and fakeSudogs: a treap root whose node has a waitlink and a child, on a
// locked mutex, and a goroutine at fakeSudogs whose g.waiting is a channel receive.
func waitsSeed() []byte {
	m := make([]byte, 0x400)
	p := newFake()
	p.regions[fakeSemtable], p.regions[fakeSudogs] = m, m
	s0, s1, s2, s3 := uint64(fakeSudogs+0x200), uint64(fakeSudogs+0x280), uint64(fakeSudogs+0x300), uint64(fakeSudogs+0x180)
	mutex, ch := uint64(fakeSudogs+0x380), uint64(fakeSudogs+0x3e0)
	p.put64(fakeSemtable+2*0x40+8, s0)
	p.putSudog(s0, 0x9000, mutex+4, s2, 0, s1, 0)
	p.putSudog(s1, 0x9100, mutex+4, 0, 0, 0, 0)
	p.putSudog(s2, 0x9200, mutex+0x40+8, 0, 0, 0, 0)
	p.put32(mutex, 1|2<<3)
	p.put64(fakeSudogs+0xd0, s3)
	p.putSudog(s3, fakeSudogs, 0, 0, 0, 0, ch)
	p.put64(ch+8, 3)
	return m
}

// FuzzWaits walks runtime.semtable treaps, g.waiting lists and g._defer lists laid out
// in arbitrary memory: nothing may panic, and every walk ends.
func FuzzWaits(f *testing.F) {
	f.Add(make([]byte, 0x400), uint64(fakeSudogs))
	f.Add(waitsSeed(), uint64(fakeSudogs))
	f.Add([]byte{}, uint64(0))
	f.Fuzz(func(t *testing.T, mem []byte, g uint64) {
		if len(mem) > 1<<14 {
			return
		}
		p := newFake()
		p.regions[fakeSemtable] = mem
		p.regions[fakeSudogs] = mem
		rt := fakeWaitRuntime(p)
		ws, _ := rt.SemaWaits()
		if len(ws) > MaxGoroutines {
			t.Fatalf("%d waits", len(ws))
		}
		for _, a := range []uint64{g, fakeSudogs, fakeSemtable} {
			x := &G{Addr: a}
			_, _ = rt.Channels(x)
			_, _ = rt.Defers(x)
			_, _ = rt.StackOf(x)
			_, _ = rt.MutexOfSema(a)
			_, _ = rt.ChanOf(a)
		}
	})
}
