package goruntime

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"github.com/coredig/coredig/internal/dwarf/die"
)

// What a parked goroutine waits on, read from the runtime's own bookkeeping:
//
//   - A goroutine blocked on a channel (chanrecv, chansend, selectgo) has g.waiting, a
//     list of runtime.sudog chained by waitlink (one per case of a select), each with c,
//     the runtime.hchan it waits on (runtime/chan.go: mysg.c.set(c); gp.waiting = mysg),
//     and elem, where the value goes.
//   - A goroutine blocked on a semaphore (sync.Mutex, sync.RWMutex, sync.WaitGroup,
//     sync.Cond's notify list aside) does not set g.waiting: its sudog sits in
//     runtime.semtable, an array of semaRoot, each the root of a treap of sudogs keyed by
//     the semaphore's address (runtime/sema.go semaRoot.queue: s.g = getg(),
//     s.elem.set(addr); prev and next are the treap's children, waitlink chains the
//     other waiters on the same address). The walk maps each waiting g to the address of
//     its semaphore. For a sync.Mutex that is &m.sema (internal/sync/mutex.go: type
//     Mutex struct { state int32; sema uint32 }, sync.Mutex wraps it as its field mu
//     since Go 1.24); for a sync.RWMutex, &rw.writerSem (Lock) or &rw.readerSem (RLock)
//     (sync/rwmutex.go).
//   - Go 1.26 keeps sudog.elem and sudog.c as maybeTraceablePtr {vp, vu}, where vu is
//     the source of truth (runtime2.go); before, they are plain pointers.
//   - A goroutine's pending deferred calls: the g._defer list (runtime._defer, chained
//     by link, its fn a func value: a pointer to a closure whose first word is the code)
//     holds the defers that are not open-coded; open-coded defers keep their closures in
//     their frame, which the caller finds on the stack.
//
// Bounds: at most MaxGoroutines sudogs per walk of the semtable, maxSelectCases per
// g.waiting list, maxDefers per g._defer list.

const (
	maxSelectCases = 1 << 16
	maxDefers      = 1 << 12
)

// waitLayout is what the DWARF says of the structures waits read; a map is nil when the
// type is not in the DWARF.
type waitLayout struct {
	stack, sudog, semaRoot, deferRec, hchan map[string]int64
	// p is runtime.p; timers is runtime.timers (Go 1.23+: p.timers is this struct, its
	// heap the slice of timers), nil before, when p.timers is the slice itself.
	p, timers map[string]int64
	// traceable is the offset of vu in runtime.maybeTraceablePtr (Go 1.26+), -1 when
	// sudog.elem and sudog.c are plain pointers.
	traceable int64
	// mutex is internal/sync.Mutex (Go 1.24+) or sync.Mutex (state, sema); mutexIn its
	// offset in sync.Mutex (the field mu, or 0).
	mutex   map[string]int64
	mutexIn int64
	rwmutex map[string]int64
	// semCount and semSize are len(runtime.semtable) and its element's size.
	semCount, semSize int64
}

// waitStructs are the types readWaitLayout looks for.
var waitStructs = []string{"runtime.stack", "runtime.sudog", "runtime.semaRoot", "runtime._defer",
	"runtime.hchan", "runtime.maybeTraceablePtr", "sync.Mutex", "internal/sync.Mutex", "sync.RWMutex",
	"runtime.p", "runtime.timers"}

// waitLayout reads the layouts waits need from the runtime's DWARF, once.
func (rt *Runtime) waitLayout() (*waitLayout, error) {
	if rt.wl != nil || rt.wlErr != nil {
		return rt.wl, rt.wlErr
	}
	if rt.dw == nil {
		rt.wlErr = errors.New("no DWARF for the runtime's wait structures")
		return nil, rt.wlErr
	}
	rt.wl, rt.wlErr = readWaitLayout(rt.dw)
	return rt.wl, rt.wlErr
}

func readWaitLayout(d *dwarf.Data) (*waitLayout, error) {
	want := map[string]bool{}
	for _, n := range waitStructs {
		want[n] = true
	}
	out := map[string]map[string]int64{}
	l := &waitLayout{traceable: -1}
	r := die.NewReader(d)
	for len(out) < len(want) || l.semCount == 0 {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading DWARF: %w", err)
		}
		if e == nil {
			break
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if e.Tag == dwarf.TagVariable && name == "runtime.semtable" {
			if at := arrayType(d, e); at != nil && at.Type.Size() > 0 {
				l.semCount, l.semSize = at.Count, at.Type.Size()
			}
		}
		if e.Tag != dwarf.TagStructType || !want[name] || out[name] != nil {
			if e.Tag != dwarf.TagCompileUnit && e.Children {
				r.SkipChildren()
			}
			continue
		}
		out[name] = members(r, e)
	}
	l.stack, l.sudog, l.semaRoot, l.deferRec, l.hchan = out["runtime.stack"], out["runtime.sudog"],
		out["runtime.semaRoot"], out["runtime._defer"], out["runtime.hchan"]
	if t := out["runtime.maybeTraceablePtr"]; t != nil {
		if o, ok := t["vu"]; ok {
			l.traceable = o
		}
	}
	l.mutex = out["sync.Mutex"]
	if in := out["internal/sync.Mutex"]; in != nil {
		l.mutex, l.mutexIn = in, l.mutex["mu"]
	}
	l.rwmutex = out["sync.RWMutex"]
	l.p, l.timers = out["runtime.p"], out["runtime.timers"]
	if l.sudog == nil || l.stack == nil {
		return l, errors.New("no runtime.sudog or runtime.stack in DWARF")
	}
	return l, nil
}

// members reads the member offsets of the struct entry e, whose children r reads next.
func members(r *die.Reader, e *dwarf.Entry) map[string]int64 {
	off := map[string]int64{}
	for e.Children {
		m, err := r.Next()
		if err != nil || m == nil || m.Tag == 0 {
			break
		}
		if o, ok := m.Val(dwarf.AttrDataMemberLoc).(int64); ok {
			if n, ok := m.Val(dwarf.AttrName).(string); ok {
				off[n] = o
			}
		}
		if m.Children {
			r.SkipChildren()
		}
	}
	return off
}

// arrayType is the array type of a variable's DWARF entry, through typedefs; nil when it
// is none.
func arrayType(d *dwarf.Data, e *dwarf.Entry) *dwarf.ArrayType {
	t, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
	if !ok {
		return nil
	}
	ty, err := d.Type(t)
	for i := 0; err == nil && i < 4; i++ {
		td, ok := ty.(*dwarf.TypedefType)
		if !ok {
			break
		}
		ty = td.Type
	}
	at, _ := ty.(*dwarf.ArrayType)
	return at
}

// Stack is a goroutine's stack, [Lo, Hi) (g.stack).
type Stack struct{ Lo, Hi uint64 }

// StackOf reads g.stack.
func (rt *Runtime) StackOf(g *G) (Stack, error) {
	l, err := rt.waitLayout()
	if err != nil {
		return Stack{}, err
	}
	base := g.Addr + uint64(rt.g["stack"])
	lo, err1 := rt.ptr(base + uint64(l.stack["lo"]))
	hi, err2 := rt.ptr(base + uint64(l.stack["hi"]))
	if err := errors.Join(err1, err2); err != nil {
		return Stack{}, fmt.Errorf("reading g.stack of goroutine %d: %w", g.Goid, err)
	}
	if lo >= hi {
		return Stack{}, fmt.Errorf("g.stack of goroutine %d is empty: [%#x, %#x)", g.Goid, lo, hi)
	}
	return Stack{lo, hi}, nil
}

// traceablePtr reads a sudog field that is a plain pointer, or a maybeTraceablePtr
// (Go 1.26+) whose vu is the address.
func (rt *Runtime) traceablePtr(l *waitLayout, addr uint64) (uint64, error) {
	if l.traceable >= 0 {
		addr += uint64(l.traceable)
	}
	return rt.ptr(addr)
}

// Channels returns the channels (runtime.hchan addresses) a goroutine blocked in a
// channel operation or a select waits on: the c of each sudog of its g.waiting list.
func (rt *Runtime) Channels(g *G) ([]uint64, error) {
	l, err := rt.waitLayout()
	if err != nil {
		return nil, err
	}
	wo, ok := rt.g["waiting"]
	co, ok2 := l.sudog["c"]
	if !ok || !ok2 {
		return nil, errors.New("no g.waiting or sudog.c in DWARF")
	}
	s, err := rt.ptr(g.Addr + uint64(wo))
	if err != nil {
		return nil, fmt.Errorf("reading g.waiting of goroutine %d: %w", g.Goid, err)
	}
	var out []uint64
	for i := 0; s != 0 && i < maxSelectCases; i++ {
		c, err := rt.traceablePtr(l, s+uint64(co))
		if err != nil {
			return out, fmt.Errorf("reading sudog.c at %#x: %w", s, err)
		}
		if c != 0 {
			out = append(out, c)
		}
		if s, err = rt.ptr(s + uint64(l.sudog["waitlink"])); err != nil {
			return out, fmt.Errorf("reading sudog.waitlink: %w", err)
		}
	}
	return out, nil
}

// SemaWaits walks runtime.semtable and returns, for each goroutine (by its g's address)
// waiting on a semaphore, the semaphore's address.
func (rt *Runtime) SemaWaits() (map[uint64]uint64, error) {
	l, err := rt.waitLayout()
	if err != nil {
		return nil, err
	}
	var semtable uint64
	ok := false
	if rt.mod != nil {
		semtable, ok = rt.mod.Symbol("runtime.semtable")
	}
	if !ok || l.semCount == 0 || l.semaRoot == nil {
		return nil, errors.New("no runtime.semtable, or its layout is not in DWARF")
	}
	treap, ok := l.semaRoot["treap"]
	if !ok {
		return nil, errors.New("runtime.semaRoot has no treap in DWARF")
	}
	out := map[uint64]uint64{}
	seen := map[uint64]bool{}
	var errs []error
	var visit func(s uint64, depth int)
	visit = func(s uint64, depth int) {
		if s == 0 || seen[s] || len(seen) >= MaxGoroutines || depth > 64 {
			return
		}
		seen[s] = true
		addr, err := rt.traceablePtr(l, s+uint64(l.sudog["elem"]))
		if err != nil {
			errs = append(errs, fmt.Errorf("reading sudog at %#x: %w", s, err))
			return
		}
		// s and the waiters on the same address after it (waitlink).
		for w, i := s, 0; w != 0 && i < MaxGoroutines; i++ {
			if g, err := rt.ptr(w + uint64(l.sudog["g"])); err == nil && g != 0 {
				out[g] = addr
			}
			next, err := rt.ptr(w + uint64(l.sudog["waitlink"]))
			if err != nil || next == w || (next != 0 && seen[next]) {
				break
			}
			if next != 0 {
				seen[next] = true
			}
			w = next
		}
		for _, child := range []string{"prev", "next"} {
			if c, err := rt.ptr(s + uint64(l.sudog[child])); err == nil {
				visit(c, depth+1)
			}
		}
	}
	for i := int64(0); i < l.semCount; i++ {
		root, err := rt.ptr(semtable + uint64(i*l.semSize) + uint64(treap))
		if err != nil {
			return out, fmt.Errorf("reading runtime.semtable[%d]: %w", i, err)
		}
		visit(root, 0)
	}
	return out, errors.Join(errs...)
}

// Mutex is a sync.Mutex's state word (internal/sync/mutex.go: mutexLocked 1,
// mutexWoken 2, mutexStarving 4, the count of waiters from bit mutexWaiterShift 3 up).
type Mutex struct {
	Addr  uint64
	State uint32
}

// Locked reports mutexLocked.
func (m Mutex) Locked() bool { return m.State&1 != 0 }

// Waiters is the count of goroutines blocked on it, as the state word keeps it.
func (m Mutex) Waiters() uint32 { return m.State >> 3 }

// Starving reports mutexStarving.
func (m Mutex) Starving() bool { return m.State&4 != 0 }

// MutexOfSema returns the sync.Mutex whose semaphore is at sema, with its state.
func (rt *Runtime) MutexOfSema(sema uint64) (Mutex, error) {
	l, err := rt.waitLayout()
	if err != nil {
		return Mutex{}, err
	}
	so, ok1 := l.mutex["sema"]
	st, ok2 := l.mutex["state"]
	if !ok1 || !ok2 {
		return Mutex{}, errors.New("sync.Mutex's state and sema are not in DWARF")
	}
	addr := sema - uint64(so) - uint64(l.mutexIn)
	s, err := rt.u32(addr + uint64(l.mutexIn) + uint64(st))
	if err != nil {
		return Mutex{}, fmt.Errorf("reading the state of sync.Mutex %#x: %w", addr, err)
	}
	return Mutex{Addr: addr, State: s}, nil
}

// RWMutexOfSema returns the sync.RWMutex whose writerSem (writer true) or readerSem is at
// sema.
func (rt *Runtime) RWMutexOfSema(sema uint64, writer bool) (uint64, error) {
	l, err := rt.waitLayout()
	if err != nil {
		return 0, err
	}
	field := "readerSem"
	if writer {
		field = "writerSem"
	}
	o, ok := l.rwmutex[field]
	if !ok {
		return 0, fmt.Errorf("sync.RWMutex.%s is not in DWARF", field)
	}
	return sema - uint64(o), nil
}

// Chan is what a runtime.hchan says of a channel.
type Chan struct {
	Addr             uint64
	Len, Cap         uint64 // qcount, dataqsiz
	Closed           bool
	HasLen, HasClose bool
}

// ChanOf reads the runtime.hchan at addr.
func (rt *Runtime) ChanOf(addr uint64) (Chan, error) {
	l, err := rt.waitLayout()
	if err != nil {
		return Chan{}, err
	}
	c := Chan{Addr: addr}
	if o, ok := l.hchan["qcount"]; ok {
		q, err1 := rt.ptr(addr + uint64(o))
		d, err2 := rt.ptr(addr + uint64(l.hchan["dataqsiz"]))
		if err := errors.Join(err1, err2); err != nil {
			return c, fmt.Errorf("reading hchan %#x: %w", addr, err)
		}
		c.Len, c.Cap, c.HasLen = q, d, true
	}
	if o, ok := l.hchan["closed"]; ok {
		v, err := rt.u32(addr + uint64(o))
		if err != nil {
			return c, fmt.Errorf("reading hchan %#x: %w", addr, err)
		}
		c.Closed, c.HasClose = v != 0, true
	}
	return c, nil
}

// Defers returns the func values of a goroutine's deferred calls that are not open-coded
// (g._defer, innermost first): each a pointer to a closure whose first word is its code.
func (rt *Runtime) Defers(g *G) ([]uint64, error) {
	l, err := rt.waitLayout()
	if err != nil {
		return nil, err
	}
	do, ok := rt.g["_defer"]
	fo, ok2 := l.deferRec["fn"]
	lo, ok3 := l.deferRec["link"]
	if !ok || !ok2 || !ok3 {
		return nil, errors.New("g._defer or runtime._defer's fn and link are not in DWARF")
	}
	d, err := rt.ptr(g.Addr + uint64(do))
	var out []uint64
	for i := 0; err == nil && d != 0 && i < maxDefers; i++ {
		var fn uint64
		if fn, err = rt.ptr(d + uint64(fo)); err == nil && fn != 0 {
			out = append(out, fn)
		}
		if err == nil {
			d, err = rt.ptr(d + uint64(lo))
		}
	}
	if err != nil {
		return out, fmt.Errorf("reading g._defer of goroutine %d: %w", g.Goid, err)
	}
	return out, nil
}

// maxPs bounds len(runtime.allp), GOMAXPROCS.
const maxPs = 1 << 16

// Timers counts the timers pending on all Ps (runtime.allp, each p's timer heap: the
// Go runtime's checkdead declares no deadlock while a P has a timer, since it will wake
// a goroutine). An error when they cannot be counted.
func (rt *Runtime) Timers() (int, error) {
	l, err := rt.waitLayout()
	if err != nil {
		return 0, err
	}
	allp, ok := uint64(0), false
	if rt.mod != nil {
		allp, ok = rt.mod.Symbol("runtime.allp")
	}
	to, ok2 := l.p["timers"]
	if !ok || !ok2 {
		return 0, errors.New("no runtime.allp or p.timers")
	}
	slice := uint64(to) // the []timer's header inside p
	if l.timers != nil {
		h, ok := l.timers["heap"]
		if !ok {
			return 0, errors.New("runtime.timers has no heap in DWARF")
		}
		slice += uint64(h)
	}
	base, err1 := rt.ptr(allp)
	n, err2 := rt.ptr(allp + uint64(rt.arch.PtrSize))
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("reading runtime.allp: %w", err)
	}
	if n > maxPs {
		return 0, fmt.Errorf("len(runtime.allp) = %d is not believable", n)
	}
	total := uint64(0)
	for i := uint64(0); i < n; i++ {
		p, err := rt.ptr(base + i*uint64(rt.arch.PtrSize))
		if err != nil {
			return 0, fmt.Errorf("reading runtime.allp[%d]: %w", i, err)
		}
		if p == 0 {
			continue
		}
		c, err := rt.ptr(p + slice + uint64(rt.arch.PtrSize))
		if err != nil {
			return 0, fmt.Errorf("reading the timers of runtime.allp[%d]: %w", i, err)
		}
		if c > MaxGoroutines {
			return 0, fmt.Errorf("runtime.allp[%d] has %d timers, not believable", i, c)
		}
		total += c
	}
	return int(total), nil
}
