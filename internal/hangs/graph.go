package hangs

import (
	"fmt"
	"sort"
	"strings"
)

// Diagnosis kinds.
const (
	KindDeadlock     = "deadlock"
	KindOrphanedLock = "orphaned_lock"
	KindGILHeld      = "gil_held"
	KindBlocked      = "blocked"
)

// Edge is one wait in the wait-for graph: TID waits for WaitsFor through a lock. With
// Goroutine, TID and WaitsFor are goroutine ids.
type Edge struct {
	TID, WaitsFor int
	Lock          uint64
	HasLock       bool
	Kind          string
	Goroutine     bool
}

// Item is one piece of evidence.
type Item struct{ Key, Value string }

// Diagnosis explains a hang.
type Diagnosis struct {
	Kind    string
	Summary string
	// Cycle lists the edges of a deadlock, starting at its lowest tid.
	Cycle []Edge
	// Root is the thread the others wait behind (gil_held, blocked, orphaned_lock: the
	// waiter), 0 when none.
	Root     int
	Evidence []Item
	// Running: the root was running, not blocked in a call (gil_held by a holder in an
	// extension's native code). One look cannot tell a long C call from a short one: a
	// watchdog's kill says the process made no progress, a snapshot of a busy
	// interpreter (a thread in the json encoder while others wait their turn) does not.
	Running bool
}

// Result is what Explain found.
type Result struct {
	// Waits maps a tid to what the thread waits for; threads neither in a system call nor
	// in take_gil's loop have none.
	Waits map[int]*Wait
	// Edges are the waits whose owner is a thread of the process, by waiting tid.
	Edges map[int]Edge
	// Diagnosis is nil when the waits explain no hang: no cycle, no orphaned lock, no
	// GIL kept from waiters, no chain of waits that ends outside the process.
	Diagnosis *Diagnosis
}

// Explain finds what every thread of p waits for and diagnoses the hang, if any.
func Explain(p *Process) Result {
	tids := map[int]bool{}
	idents := map[uint64]int{}
	for _, t := range p.Threads {
		tids[t.TID] = true
		if t.Ident != 0 {
			idents[t.Ident] = t.TID
		}
	}
	isThread := func(tid int) bool { return tids[tid] }
	res := Result{Waits: map[int]*Wait{}, Edges: map[int]Edge{}}
	byTID := map[int]*Thread{}
	for i := range p.Threads {
		t := &p.Threads[i]
		byTID[t.TID] = t
		w := classify(p, t, isThread, idents)
		if w == nil {
			continue
		}
		res.Waits[t.TID] = w
		if w.OwnerTID != 0 && w.OwnerTID != t.TID && isThread(w.OwnerTID) {
			res.Edges[t.TID] = Edge{TID: t.TID, WaitsFor: w.OwnerTID, Lock: w.Address, HasLock: w.HasAddress, Kind: w.Kind}
		}
	}
	inferLockHolders(p, &res, isThread)
	res.Diagnosis = diagnose(p, &res, byTID)
	return res
}

// inferLockHolders names the holders of the threading.Locks threads wait for: a Lock
// records no owner, but a thread inside `with lock:` keeps the lock's bound __exit__ on
// its frame's value stack. The lock a thread itself waits for is left out of what it
// holds: CPython 3.8-3.11 store the __exit__ before they call __enter__.
func inferLockHolders(p *Process, res *Result, isThread func(int) bool) {
	var held map[int]map[uint64]bool
	for _, t := range p.Threads {
		w := res.Waits[t.TID]
		if w == nil || !w.plainPyLock || w.notify || w.OwnerTID != 0 {
			continue
		}
		if held == nil {
			held = map[int]map[uint64]bool{}
			for i := range p.Threads {
				h := HeldPyLocks(p.Arch, p.Mem, p.Threads[i].PyStacks)
				if ow := res.Waits[p.Threads[i].TID]; ow != nil && ow.Kind == KindPythonLock {
					delete(h, ow.Address)
				}
				held[p.Threads[i].TID] = h
			}
		}
		var holders []int
		for _, o := range p.Threads {
			if o.TID != t.TID && held[o.TID][w.Address] {
				holders = append(holders, o.TID)
			}
		}
		if len(holders) != 1 {
			continue
		}
		w.OwnerTID = holders[0]
		w.Detail += fmt.Sprintf("; held by thread %d, inferred from the `with` block whose __exit__ is on its Python value stack", holders[0])
		if isThread(w.OwnerTID) {
			res.Edges[t.TID] = Edge{TID: t.TID, WaitsFor: w.OwnerTID, Lock: w.Address, HasLock: w.HasAddress, Kind: w.Kind}
		}
	}
}

// order is the threads' tids in the order of the core.
func order(p *Process) []int {
	out := make([]int, 0, len(p.Threads))
	for _, t := range p.Threads {
		out = append(out, t.TID)
	}
	return out
}

func diagnose(p *Process, res *Result, byTID map[int]*Thread) *Diagnosis {
	if c := findCycle(order(p), res.Edges); c != nil {
		return deadlock(res, c)
	}
	if d := orphaned(p, res); d != nil {
		return d
	}
	if d := gilHeld(p, res, byTID); d != nil {
		return d
	}
	return blocked(p, res)
}

// findCycle returns the edges of the first cycle of the graph (each thread has at most
// one outgoing edge, so every walk ends or loops), rotated to start at its lowest tid.
func findCycle(tids []int, edges map[int]Edge) []Edge {
	state := map[int]int{} // 0 unseen, 1 on the current walk, 2 done
	for _, start := range tids {
		var path []int
		t := start
		for state[t] == 0 {
			state[t] = 1
			path = append(path, t)
			e, ok := edges[t]
			if !ok {
				break
			}
			t = e.WaitsFor
		}
		if state[t] == 1 {
			if _, ok := edges[t]; ok {
				i := 0
				for path[i] != t {
					i++
				}
				loop := path[i:]
				low := 0
				for j, x := range loop {
					if x < loop[low] {
						low = j
					}
				}
				var out []Edge
				for j := range loop {
					out = append(out, edges[loop[(low+j)%len(loop)]])
				}
				return out
			}
		}
		for _, x := range path {
			state[x] = 2
		}
	}
	return nil
}

// lockName is "mutex 0x…", "threading.RLock 0x…", "the GIL".
func lockName(w *Wait) string {
	var s string
	switch w.Kind {
	case KindGIL:
		return "the GIL"
	case KindPythonLock:
		s = "Python lock"
		if strings.HasPrefix(w.Detail, "threading.RLock") {
			s = "threading.RLock"
		} else if strings.HasPrefix(w.Detail, "threading.Lock") {
			s = "threading.Lock"
		}
	case KindJoin:
		return "a thread to exit"
	case KindCondvar:
		s = "condition variable"
	case KindSyscall:
		return w.Call
	default:
		s = w.Kind
	}
	if w.HasAddress {
		s += fmt.Sprintf(" %#x", w.Address)
	}
	return s
}

// Text is the one-line description of a wait, as a thread's header shows it:
// "waiting for mutex 0x55d0c4a2e040 held by thread 1234".
func (w *Wait) Text() string {
	switch w.Kind {
	case KindSyscall:
		return "blocked in " + w.Call + ", waiting for " + w.External
	case KindJoin:
		if w.OwnerTID != 0 {
			return fmt.Sprintf("waiting for thread %d to exit (pthread_join)", w.OwnerTID)
		}
		return "waiting for a thread to exit (pthread_join)"
	case KindCondvar, KindSemaphore:
		return "waiting on " + lockName(w) + " (no owner)"
	case KindFutex:
		if w.OwnerTID == 0 {
			s := "waiting on " + lockName(w)
			if w.Syscall != nil {
				s += " (" + FutexOpName(w.Syscall.Args[1]) + ")"
			}
			return s
		}
	}
	if w.Kind == KindPythonLock && w.notify {
		return "waiting in " + w.pyWait + " to be notified (no owner)"
	}
	s := "waiting for " + lockName(w)
	switch {
	case w.OwnerTID != 0 && w.OwnerOutside:
		s += fmt.Sprintf(" held by tid %d, which is no thread of this process", w.OwnerTID)
	case w.OwnerTID != 0:
		s += fmt.Sprintf(" held by thread %d", w.OwnerTID)
	case w.plainPyLock:
		s += " (a Lock records no owner)"
	default:
		s += " (owner unknown)"
	}
	if w.OwnerDied {
		s += ", owner died"
	}
	return s
}

func who(res *Result, tid int) string {
	if w := res.Waits[tid]; w != nil && w.Where != "" {
		return fmt.Sprintf("thread %d (%s)", tid, w.Where)
	}
	return fmt.Sprintf("thread %d", tid)
}

func deadlock(res *Result, cycle []Edge) *Diagnosis {
	d := &Diagnosis{Kind: KindDeadlock, Cycle: cycle}
	var parts []string
	for _, e := range cycle {
		w := res.Waits[e.TID]
		parts = append(parts, fmt.Sprintf("%s waits for %s held by thread %d", who(res, e.TID), lockName(w), e.WaitsFor))
		d.Evidence = append(d.Evidence, Item{fmt.Sprintf("thread_%d", e.TID), w.Text() + "; " + w.Detail})
	}
	d.Summary = fmt.Sprintf("Deadlock: %d threads wait for each other in a cycle: %s.", len(cycle), strings.Join(parts, "; "))
	return d
}

func orphaned(p *Process, res *Result) *Diagnosis {
	for _, tid := range order(p) {
		w := res.Waits[tid]
		if w == nil || w.OwnerTID == 0 || !w.OwnerOutside || w.Shared && !w.OwnerDied {
			continue
		}
		d := &Diagnosis{Kind: KindOrphanedLock, Root: tid}
		d.Summary = fmt.Sprintf("Orphaned lock: %s waits for %s held by tid %d, which is no thread of this process: the lock was held by another thread when the process forked (the child has only the forking thread), or its owner exited without unlocking it.",
			who(res, tid), lockName(w), w.OwnerTID)
		if w.OwnerDied {
			d.Summary = fmt.Sprintf("Orphaned lock: %s waits for %s whose owner (tid %d) died holding it (FUTEX_OWNER_DIED).", who(res, tid), lockName(w), w.OwnerTID)
		}
		d.Evidence = append(d.Evidence, Item{"waiter", fmt.Sprint(tid)}, Item{"lock", lockName(w)},
			Item{"owner_tid", fmt.Sprint(w.OwnerTID)}, Item{"lock_state", w.Detail}, Item{"call", w.Call})
		if n := behind(res, tid); n > 0 {
			d.Evidence = append(d.Evidence, Item{"waiting_behind_it", fmt.Sprintf("%d threads", n)})
		}
		return d
	}
	return nil
}

// behind counts the threads whose chain of waits leads to tid.
func behind(res *Result, tid int) int {
	n := 0
	for t := range res.Edges {
		for x, steps := t, 0; steps <= len(res.Edges); steps++ {
			e, ok := res.Edges[x]
			if !ok {
				break
			}
			if e.WaitsFor == tid {
				n++
				break
			}
			x = e.WaitsFor
		}
	}
	return n
}

func gilHeld(p *Process, res *Result, byTID map[int]*Thread) *Diagnosis {
	if p.Python == nil || p.Python.GILHolder == 0 {
		return nil
	}
	h := p.Python.GILHolder
	holder := byTID[h]
	if holder == nil {
		return nil
	}
	var waiters []int
	for _, tid := range order(p) {
		if w := res.Waits[tid]; w != nil && w.Kind == KindGIL && tid != h {
			waiters = append(waiters, tid)
		}
	}
	if len(waiters) == 0 {
		return nil
	}
	hw := res.Waits[h]
	// The holder running the eval loop is a busy interpreter, not a hang: it drops the
	// GIL on request. It keeps it only in a system call or native code.
	doing := ""
	switch {
	case hw != nil && hw.Kind == KindGIL:
		return nil
	case hw != nil:
		doing = hw.Call
		if hw.External != "" {
			doing += ", waiting for " + hw.External
		} else {
			doing += ", " + hw.Text()
		}
	case len(holder.Frames) > 0 && p.Python.Interpreter != nil && !p.Python.Interpreter(holder.Frames[0].Module) && inExtension(p, holder):
		f := holder.Frames[0]
		doing = "running native code in " + orUnknown(f.Function)
		if f.Module != "" {
			doing += " (" + f.Module[strings.LastIndexByte(f.Module, '/')+1:] + ")"
		}
	default:
		return nil
	}
	native := nativeCallee(p, holder)
	d := &Diagnosis{Kind: KindGILHeld, Root: h, Running: hw == nil}
	pyFrame := ""
	if len(holder.Python) > 0 {
		f := holder.Python[0]
		name := f.QualName
		if name == "" {
			name = f.Function
		}
		pyFrame = fmt.Sprintf("%s (%s:%d)", name, f.File, f.Line)
	}
	d.Summary = fmt.Sprintf("The GIL is held: thread %d keeps it while %s", h, doing)
	if native != "" {
		d.Summary += ", in " + native
	}
	if pyFrame != "" {
		d.Summary += ", called from the Python frame " + pyFrame
	}
	d.Summary += fmt.Sprintf("; %d other threads wait for the GIL (%s).", len(waiters), tidList(waiters))
	d.Evidence = append(d.Evidence, Item{"gil_holder", fmt.Sprint(h)}, Item{"holder_doing", doing})
	if native != "" {
		d.Evidence = append(d.Evidence, Item{"native_call", native})
	}
	if pyFrame != "" {
		d.Evidence = append(d.Evidence, Item{"python_frame", pyFrame})
	}
	d.Evidence = append(d.Evidence, Item{"gil_waiters", tidList(waiters)})
	if dr := p.Python.DropRequest; dr != nil {
		v := "not set"
		if *dr {
			v = "set: a waiter asked the holder to drop the GIL, and the holder, outside the eval loop, does not see it"
		}
		d.Evidence = append(d.Evidence, Item{"gil_drop_request", v})
	}
	return d
}

// inExtension reports whether a thread running native code got there through an
// extension module or ctypes (a frame outside the interpreter and the C runtime before
// the first interpreter frame): a long C call. The interpreter calling libc directly
// (memcpy, malloc) is the eval loop at work, and a snapshot that caught it is no hang.
func inExtension(p *Process, t *Thread) bool {
	for _, f := range t.Frames {
		if p.Python.Interpreter(f.Module) {
			return false
		}
		base := f.Module[strings.LastIndexByte(f.Module, '/')+1:]
		switch {
		case base == "", strings.HasPrefix(base, "libc.so"), strings.HasPrefix(base, "libc-"),
			strings.HasPrefix(base, "libm.so"), strings.HasPrefix(base, "libpthread"), strings.HasPrefix(base, "ld-linux"):
			continue
		}
		return true
	}
	return false
}

// nativeCallee names the outermost native frame called from the interpreter, the C
// function the Python code called into: "sleep (libc.so.6)".
func nativeCallee(p *Process, t *Thread) string {
	if p.Python == nil || p.Python.Interpreter == nil {
		return ""
	}
	last := -1
	for i, f := range t.Frames {
		if p.Python.Interpreter(f.Module) {
			break
		}
		if strings.HasPrefix(f.Module[strings.LastIndexByte(f.Module, '/')+1:], "libffi") || strings.Contains(f.Module, "_ctypes") {
			break
		}
		last = i
	}
	if last < 0 {
		return ""
	}
	f := t.Frames[last]
	return fmt.Sprintf("%s (%s)", orUnknown(f.Function), f.Module[strings.LastIndexByte(f.Module, '/')+1:])
}

func orUnknown(s string) string {
	if s == "" {
		return "??"
	}
	return s
}

// blocked finds chains of waits that end at a thread waiting outside the process; the
// root blocker is the end with the most threads behind it. A chain that ends at an
// event loop waiting for work (Syscall.eventLoop) is an idle server and ends nowhere.
func blocked(p *Process, res *Result) *Diagnosis {
	if len(res.Edges) == 0 {
		return nil
	}
	count := map[int]int{}
	for t := range res.Edges {
		x := t
		for steps := 0; steps <= len(res.Edges); steps++ {
			e, ok := res.Edges[x]
			if !ok {
				break
			}
			x = e.WaitsFor
		}
		count[x]++
	}
	best := 0
	for _, tid := range order(p) {
		w := res.Waits[tid]
		if count[tid] == 0 || w == nil || w.External == "" || w.Syscall != nil && w.Syscall.eventLoop() {
			continue
		}
		if best == 0 || count[tid] > count[best] {
			best = tid
		}
	}
	if best == 0 {
		return nil
	}
	w := res.Waits[best]
	var waiters []int
	for t := range res.Edges {
		if reaches(res, t, best) {
			waiters = append(waiters, t)
		}
	}
	sort.Ints(waiters)
	d := &Diagnosis{Kind: KindBlocked, Root: best}
	d.Summary = fmt.Sprintf("Blocked: %d threads wait behind %s, which is blocked in %s waiting for %s, outside the process.",
		len(waiters), who(res, best), w.Call, w.External)
	d.Evidence = append(d.Evidence, Item{"root_blocker", fmt.Sprint(best)}, Item{"root_call", w.Call},
		Item{"root_waits_for", w.External}, Item{"waiting_behind_it", shortTIDList(waiters)})
	for i, t := range waiters {
		if i == maxEvidenceThreads {
			d.Evidence = append(d.Evidence, Item{"more_threads", fmt.Sprintf("%d more threads wait behind it", len(waiters)-i)})
			break
		}
		d.Evidence = append(d.Evidence, Item{fmt.Sprintf("thread_%d", t), res.Waits[t].Text()})
	}
	return d
}

// maxEvidenceThreads bounds the threads whose waits a diagnosis lists one by one, so
// that it fits on the first screen.
const maxEvidenceThreads = 8

func reaches(res *Result, from, to int) bool {
	x := from
	for steps := 0; steps <= len(res.Edges); steps++ {
		e, ok := res.Edges[x]
		if !ok {
			return false
		}
		if e.WaitsFor == to {
			return true
		}
		x = e.WaitsFor
	}
	return false
}

// shortTIDList is tidList cut after a dozen tids.
func shortTIDList(tids []int) string {
	if len(tids) <= 12 {
		return tidList(tids)
	}
	return fmt.Sprintf("%s … (%d more)", tidList(tids[:12]), len(tids)-12)
}

func tidList(tids []int) string {
	s := make([]string, len(tids))
	for i, t := range tids {
		s[i] = fmt.Sprint(t)
	}
	return strings.Join(s, ", ")
}
