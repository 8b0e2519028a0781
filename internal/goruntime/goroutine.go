package goruntime

import "fmt"

// MaxGoroutines bounds the walk over runtime.allgs in a hostile core.
const MaxGoroutines = 1 << 20

// Goroutine states: runtime/runtime2.go's _G* constants, and the _Gscan bit the GC or-s
// into a state while it scans the goroutine's stack.
const (
	Gidle      = 0 // _Gidle: just allocated, not initialized
	Grunnable  = 1 // _Grunnable: on a run queue
	Grunning   = 2 // _Grunning: running on an M (its g.sched is stale)
	Gsyscall   = 3 // _Gsyscall: in a system call
	Gwaiting   = 4 // _Gwaiting: blocked; g.waitreason says on what
	Gdead      = 6 // _Gdead: unused (exited, or on a free list)
	Gcopystack = 8 // _Gcopystack: its stack is being moved
	Gpreempted = 9 // _Gpreempted: stopped itself for a suspendG preemption
	Gscan      = 0x1000
)

// statusNames are the names of the states above.
var statusNames = map[uint32]string{
	Gidle: "idle", Grunnable: "runnable", Grunning: "running", Gsyscall: "syscall",
	Gwaiting: "waiting", Gdead: "dead", Gcopystack: "copystack", Gpreempted: "preempted",
}

// StatusName names a goroutine status, ignoring the _Gscan bit: "waiting", or
// "status 10" for a state this package does not know.
func StatusName(s uint32) string {
	name, ok := statusNames[s&^Gscan]
	if !ok {
		name = fmt.Sprintf("status %d", s&^Gscan)
	}
	return name
}

// G is one goroutine as read from memory. A field that could not be read is zero.
type G struct {
	Addr       uint64 // the runtime.g
	Goid       uint64
	Status     uint32 // g.atomicstatus, the _Gscan bit included
	WaitReason uint8  // g.waitreason: an index into runtime.waitReasonStrings
	Sched      Sched
	// Thread is m.procid of the M running the goroutine (g.m): its OS thread id; 0 if
	// none.
	Thread uint64
	// The fault the signal handler recorded (runtime/signal_unix.go sighandler): g.sig,
	// g.sigcode0 (si_code), g.sigcode1 (the fault address), g.sigpc; and g._panic, the
	// innermost panic, nil when the goroutine is not panicking.
	Sig                       uint32
	SigCode0, SigCode1, SigPC uint64
	Panic                     uint64
}

// Sched is a goroutine's saved context, g.sched (runtime.gobuf). BP and LR are 0 when
// the gobuf has no such field.
type Sched struct {
	PC, SP, BP, LR uint64
}

// State is the goroutine's status without the _Gscan bit.
func (g *G) State() uint32 { return g.Status &^ Gscan }

// TID returns the OS thread running the goroutine, if it has one that can be a tid.
func (g *G) TID() (int, bool) {
	if g.Thread == 0 || g.Thread >= 1<<31 {
		return 0, false
	}
	return int(g.Thread), true
}

// HasContext reports whether g.sched holds a context to unwind from.
func (g *G) HasContext() bool { return g.Sched.PC != 0 && g.Sched.SP != 0 }

// Goroutines reads every goroutine of runtime.allgs. With an error, the goroutines read
// before it are returned too.
func (rt *Runtime) Goroutines() ([]G, error) {
	ps := uint64(rt.arch.PtrSize)
	// allgs is a []*g: pointer, length, capacity.
	base, err := rt.ptr(rt.allgs)
	if err != nil {
		return nil, fmt.Errorf("reading runtime.allgs: %w", err)
	}
	n, err := rt.ptr(rt.allgs + ps)
	if err != nil {
		return nil, fmt.Errorf("reading len(runtime.allgs): %w", err)
	}
	if n > MaxGoroutines {
		return nil, fmt.Errorf("len(runtime.allgs) = %d is not believable", n)
	}
	word := func(g uint64, off int64) uint64 {
		v, _ := rt.ptr(g + uint64(off))
		return v
	}
	out := make([]G, 0, min(n, 4096))
	for i := uint64(0); i < n; i++ {
		g, err := rt.ptr(base + i*ps)
		if err != nil {
			return out, fmt.Errorf("reading runtime.allgs[%d]: %w", i, err)
		}
		if g == 0 {
			continue
		}
		status, err := rt.u32(g + uint64(rt.g["atomicstatus"]))
		if err != nil {
			continue
		}
		x := G{Addr: g, Goid: word(g, rt.g["goid"]), Status: status}
		sched := rt.g["sched"]
		x.Sched.PC, x.Sched.SP = word(g, sched+rt.gobuf["pc"]), word(g, sched+rt.gobuf["sp"])
		if o, ok := rt.gobuf["bp"]; ok {
			x.Sched.BP = word(g, sched+o)
		}
		if o, ok := rt.gobuf["lr"]; ok {
			x.Sched.LR = word(g, sched+o)
		}
		if o, ok := rt.g["waitreason"]; ok {
			var b [1]byte
			if rt.readFull(b[:], g+uint64(o)) == nil {
				x.WaitReason = b[0]
			}
		}
		if o, ok := rt.g["m"]; ok {
			if m := word(g, o); m != 0 {
				if po, ok := rt.m["procid"]; ok {
					x.Thread = word(m, po)
				}
			}
		}
		x.Sig, _ = rt.u32(g + uint64(rt.g["sig"]))
		x.SigCode0, x.SigCode1 = word(g, rt.g["sigcode0"]), word(g, rt.g["sigcode1"])
		x.SigPC, x.Panic = word(g, rt.g["sigpc"]), word(g, rt.g["_panic"])
		out = append(out, x)
	}
	return out, nil
}

// WaitReason is the text of a wait reason ("chan receive"), from
// runtime.waitReasonStrings; "" when the index is out of its bounds or it cannot be read.
func (rt *Runtime) WaitReason(r uint8) string {
	if rt.waitReasons == 0 || int64(r) >= rt.nWaitReason {
		return ""
	}
	return rt.goString(rt.waitReasons + uint64(r)*2*uint64(rt.arch.PtrSize))
}

// Context returns the registers the goroutine's stack is unwound from (a vector indexed
// like the arch value's RegNames, with g.sched's pc, sp, bp and lr at PC, SP, FP and LR
// and every other register 0), and whether its pc is a return address: g.sched.pc is
// where the goroutine will resume, after the call into mcall or gosave, unless it is a
// function's entry (a goroutine that never ran). Use it when HasContext; a running
// goroutine's g.sched is stale.
func (rt *Runtime) Context(g *G) (regs []uint64, isReturn bool) {
	a := rt.arch
	regs = make([]uint64, len(a.RegNames))
	regs[a.PC], regs[a.SP] = g.Sched.PC, g.Sched.SP
	if a.FP >= 0 {
		regs[a.FP] = g.Sched.BP
	}
	if a.LR >= 0 {
		regs[a.LR] = g.Sched.LR
	}
	start, ok := rt.p.FuncStart(g.Sched.PC)
	return regs, !ok || start != g.Sched.PC
}
