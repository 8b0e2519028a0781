package hangs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/coredig/coredig/internal/arch"
)

// Goroutines: the waits of a Go program's goroutines, their wait-for graph and its
// deadlock. The caller reads the runtime (package goruntime) and says, for each
// goroutine, what it waits on: a sync.Mutex or sync.RWMutex (from runtime.semtable), the
// channels of a channel operation or select (from g.waiting), with the goroutine's wait
// reason. A sync.Mutex records no owner. Its holder is inferred, as a `with` block's
// is for a threading.Lock, from the idiom `mu.Lock(); defer mu.Unlock()`: the pending
// deferred call is a closure (the compiler's deferwrap, or a method value ending in
// "-fm") whose first word is its code and whose second is the mutex, kept on the
// goroutine's stack (an open-coded defer) or on its g._defer list. The only goroutine
// other than the waiters with such a closure bound to the mutex is its holder; none or
// several, and the holder is unknown, and said to be. Without holders, a deadlock is
// still diagnosed by the Go runtime's own rule (proc.go checkdead: "all goroutines are
// asleep"): every goroutine of the program waits on a lock or a channel, none runs, none
// sleeps, none waits for I/O or a system call, no timer is pending that would wake one,
// and none of the runtime's own goroutines counts. A chain of inferred holders that ends
// at a goroutine in a system call, I/O or a sleep is "blocked" behind it.

// Go wait kinds beside KindMutex and KindRwlock.
const (
	KindChannel = "channel"
	// KindGoSema is another wait on a runtime semaphore: sync.WaitGroup.Wait,
	// sync.Cond.Wait, a semacquire.
	KindGoSema = "semaphore"
)

// MaxGoStackWords bounds the words of a goroutine's stack searched for deferred calls.
const MaxGoStackWords = 1 << 16

// Goroutine is what the caller knows of one goroutine.
type Goroutine struct {
	ID         uint64
	Status     string // "waiting", "running", "runnable", "syscall", …
	WaitReason string // the runtime's: "sync.Mutex.Lock", "chan receive"
	// Kind is what it waits on: KindMutex (a sync.Mutex), KindRwlock (a sync.RWMutex),
	// KindChannel, KindGoSema; "" when nothing known.
	Kind       string
	Address    uint64 // the mutex, rwmutex, channel (its runtime.hchan) or semaphore
	HasAddress bool
	// Locked says a mutex's state word has mutexLocked set; Detail describes the lock
	// or the channels for people.
	Locked bool
	Detail string
	Where  string
	// Stack is the part of its stack searched for deferred calls: [SP, Hi), or the
	// whole stack of a goroutine whose sp is unknown (a running one); 0, 0 unknown.
	StackLo, StackHi uint64
	// Defers are the func values of its g._defer list.
	Defers []uint64
	// System marks the runtime's own goroutines (the runtime's isSystemGoroutine: its
	// start function is in package runtime).
	System bool
}

// GoProcess is the input of ExplainGo.
type GoProcess struct {
	Arch       *arch.Arch
	Mem        Memory
	Goroutines []Goroutine
	// FuncName names the function that contains pc, "" when none does.
	FuncName func(pc uint64) string
	// Timers is the count of timers pending in the runtime, TimersKnown whether it
	// could be read: a timer will wake a goroutine, so the all-asleep rule needs none.
	Timers      int
	TimersKnown bool
}

// GoWait is what one goroutine waits for.
type GoWait struct {
	Kind       string
	Address    uint64
	HasAddress bool
	// OwnerGoroutine holds the mutex, 0 when unknown or not a mutex.
	OwnerGoroutine uint64
	Text, Detail   string
	Where          string
}

// GoResult is what ExplainGo found.
type GoResult struct {
	Waits     map[uint64]*GoWait
	Diagnosis *Diagnosis
}

// asleep are the wait reasons of goroutines that only another goroutine can wake: the
// Go runtime's deadlock check counts no timer, no I/O and no system call among them.
var asleep = map[string]bool{
	"chan receive": true, "chan send": true, "select": true, "select (no cases)": true,
	"chan receive (nil chan)": true, "chan send (nil chan)": true,
	"sync.Mutex.Lock": true, "sync.RWMutex.Lock": true, "sync.RWMutex.RLock": true,
	"sync.Cond.Wait": true, "sync.WaitGroup.Wait": true, "semacquire": true,
}

// ExplainGo finds what every goroutine waits for, who holds the mutexes they wait for,
// and diagnoses a deadlock among them.
func ExplainGo(p *GoProcess) GoResult {
	res := GoResult{Waits: map[uint64]*GoWait{}}
	waiters := map[uint64][]uint64{} // mutex -> goroutines waiting for it
	for i := range p.Goroutines {
		g := &p.Goroutines[i]
		if g.Kind == "" {
			continue
		}
		w := &GoWait{Kind: g.Kind, Address: g.Address, HasAddress: g.HasAddress, Detail: g.Detail, Where: g.Where}
		res.Waits[g.ID] = w
		if g.Kind == KindMutex && g.HasAddress {
			waiters[g.Address] = append(waiters[g.Address], g.ID)
		}
	}
	edges := map[int]Edge{}
	if len(waiters) > 0 {
		holders := deferHolders(p, waiters)
		for i := range p.Goroutines {
			g := &p.Goroutines[i]
			w := res.Waits[g.ID]
			if w == nil || g.Kind != KindMutex || !g.HasAddress {
				continue
			}
			hs := holders[g.Address]
			switch {
			case !g.Locked:
				w.Detail += "; its state word says it is unlocked now: the waiter is about to be woken"
			case len(hs) == 1:
				w.OwnerGoroutine = hs[0]
				w.Detail += fmt.Sprintf("; held by goroutine %d, inferred from the deferred Unlock bound to this mutex on its stack (a sync.Mutex records no owner)", hs[0])
				edges[int(g.ID)] = Edge{TID: int(g.ID), WaitsFor: int(hs[0]), Lock: g.Address, HasLock: true, Kind: KindMutex, Goroutine: true}
			case len(hs) > 1:
				w.Detail += fmt.Sprintf("; a sync.Mutex records no owner, and goroutines %s each have a deferred Unlock bound to it", goidList(hs))
			default:
				w.Detail += "; a sync.Mutex records no owner, and no goroutine has a deferred Unlock bound to it: the holder is unknown"
			}
		}
	}
	for _, w := range res.Waits {
		w.Text = goWaitText(w)
	}
	var ids []int
	for _, g := range p.Goroutines {
		ids = append(ids, int(g.ID))
	}
	sort.Ints(ids)
	if c := findCycle(ids, edges); c != nil {
		res.Diagnosis = goDeadlock(p, res, c)
		return res
	}
	if d := allAsleep(p, res); d != nil {
		res.Diagnosis = d
		return res
	}
	res.Diagnosis = goBlocked(p, res, edges)
	return res
}

// goBlocked finds the goroutine the most goroutines wait behind, through the mutexes
// whose holders are inferred, when it waits for something outside the program's
// locks: a system call, I/O, a sleep. nil when no chain ends so.
func goBlocked(p *GoProcess, res GoResult, edges map[int]Edge) *Diagnosis {
	if len(edges) == 0 {
		return nil
	}
	byID := map[uint64]*Goroutine{}
	for i := range p.Goroutines {
		byID[p.Goroutines[i].ID] = &p.Goroutines[i]
	}
	behind := map[int][]int{}
	for id := range edges {
		x := id
		for steps := 0; steps <= len(edges); steps++ {
			e, ok := edges[x]
			if !ok {
				break
			}
			x = e.WaitsFor
		}
		behind[x] = append(behind[x], id)
	}
	best := -1
	for root, ws := range behind {
		g := byID[uint64(root)]
		if g == nil || g.Status == "waiting" && asleep[g.WaitReason] {
			continue // the chain ends at a goroutine waiting for a lock or channel of the program
		}
		if best < 0 || len(ws) > len(behind[best]) || len(ws) == len(behind[best]) && root < best {
			best = root
		}
	}
	if best < 0 {
		return nil
	}
	ws := behind[best]
	sort.Ints(ws)
	g := byID[uint64(best)]
	doing := g.Status
	switch {
	case g.Status == "syscall":
		doing = "in a system call"
	case g.WaitReason != "":
		doing = "parked (" + g.WaitReason + ")"
	}
	d := &Diagnosis{Kind: KindBlocked, Root: best}
	ids := make([]uint64, len(ws))
	for i, w := range ws {
		ids[i] = uint64(w)
	}
	d.Summary = fmt.Sprintf("Blocked: %d goroutines wait behind goroutine %d", len(ws), best)
	if g.Where != "" {
		d.Summary += " (" + g.Where + ")"
	}
	d.Summary += fmt.Sprintf(", which holds the sync.Mutex they wait for and is %s, outside the program's locks.", doing)
	d.Evidence = append(d.Evidence, Item{"root_goroutine", fmt.Sprint(best)}, Item{"root_state", doing},
		Item{"waiting_behind_it", goidList(ids)}, Item{"owner_inference", "a pending deferred call (mu.Lock(); defer mu.Unlock()) bound to the mutex, on the holder's stack or g._defer list"})
	for i, id := range ids {
		if i == maxEvidenceThreads {
			d.Evidence = append(d.Evidence, Item{"more_goroutines", fmt.Sprintf("%d more goroutines wait behind it", len(ids)-i)})
			break
		}
		if w := res.Waits[id]; w != nil {
			d.Evidence = append(d.Evidence, Item{fmt.Sprintf("goroutine_%d", id), w.Text})
		}
	}
	return d
}

func goidList(ids []uint64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

// deferHolders finds, for each mutex, the goroutines other than its waiters with a
// pending deferred call bound to it.
func deferHolders(p *GoProcess, waiters map[uint64][]uint64) map[uint64][]uint64 {
	out := map[uint64][]uint64{}
	ws := uint64(p.Arch.PtrSize)
	isUnlock := map[uint64]bool{} // code address -> a deferred-call wrapper
	unlockCode := func(pc uint64) bool {
		if v, ok := isUnlock[pc]; ok {
			return v
		}
		n := ""
		if p.FuncName != nil && pc != 0 {
			n = p.FuncName(pc)
		}
		v := strings.Contains(n, ".deferwrap") || strings.HasSuffix(n, "Unlock-fm")
		if len(isUnlock) < 1<<12 {
			isUnlock[pc] = v
		}
		return v
	}
	waiting := func(m, id uint64) bool {
		for _, w := range waiters[m] {
			if w == id {
				return true
			}
		}
		return false
	}
	for i := range p.Goroutines {
		g := &p.Goroutines[i]
		bound := map[uint64]bool{}
		// Closures of the g._defer list: code, then the captured mutex.
		for _, fn := range g.Defers {
			var b [16]byte
			if n, _ := p.Mem.ReadAt(b[:2*ws], fn); n == int(2*ws) && unlockCode(p.Arch.Word(b[:])) {
				if m := p.Arch.Word(b[ws:]); waiters[m] != nil {
					bound[m] = true
				}
			}
		}
		// Open-coded defers' closures, on the stack: a code word followed by the mutex.
		if g.StackHi > g.StackLo {
			n := min((g.StackHi-g.StackLo)/ws, MaxGoStackWords)
			buf := make([]byte, n*ws)
			got, _ := p.Mem.ReadAt(buf, g.StackLo)
			for off := 0; off+2*int(ws) <= got; off += int(ws) {
				m := p.Arch.Word(buf[off+int(ws):])
				if waiters[m] == nil || bound[m] {
					continue
				}
				if unlockCode(p.Arch.Word(buf[off:])) {
					bound[m] = true
				}
			}
		}
		for m := range bound {
			if !waiting(m, g.ID) {
				out[m] = append(out[m], g.ID)
			}
		}
	}
	for m := range out {
		sort.Slice(out[m], func(i, j int) bool { return out[m][i] < out[m][j] })
	}
	return out
}

// goLockName is "sync.Mutex 0x…", "channel 0x…".
func goLockName(w *GoWait) string {
	s := map[string]string{KindMutex: "sync.Mutex", KindRwlock: "sync.RWMutex", KindChannel: "channel", KindGoSema: "semaphore"}[w.Kind]
	if w.HasAddress {
		s += fmt.Sprintf(" %#x", w.Address)
	}
	return s
}

func goWaitText(w *GoWait) string {
	switch {
	case w.Kind == KindMutex && w.OwnerGoroutine != 0:
		return fmt.Sprintf("waiting for %s held by goroutine %d", goLockName(w), w.OwnerGoroutine)
	case w.Kind == KindMutex:
		return "waiting for " + goLockName(w) + " (a sync.Mutex records no owner; holder not inferred)"
	case w.Kind == KindChannel:
		return "waiting on " + goLockName(w) + " (a channel has no owner)"
	}
	return "waiting for " + goLockName(w) + " (no owner)"
}

func goWho(res GoResult, id uint64) string {
	if w := res.Waits[id]; w != nil && w.Where != "" {
		return fmt.Sprintf("goroutine %d (%s)", id, w.Where)
	}
	return fmt.Sprintf("goroutine %d", id)
}

func goDeadlock(p *GoProcess, res GoResult, cycle []Edge) *Diagnosis {
	d := &Diagnosis{Kind: KindDeadlock, Cycle: cycle}
	var parts []string
	for _, e := range cycle {
		w := res.Waits[uint64(e.TID)]
		parts = append(parts, fmt.Sprintf("%s waits for %s held by goroutine %d", goWho(res, uint64(e.TID)), goLockName(w), e.WaitsFor))
		d.Evidence = append(d.Evidence, Item{fmt.Sprintf("goroutine_%d", e.TID), w.Detail})
	}
	d.Summary = fmt.Sprintf("Deadlock: %d goroutines wait for each other in a cycle: %s. A sync.Mutex records no owner: each holder is inferred from the deferred Unlock bound to the mutex on its stack.",
		len(cycle), strings.Join(parts, "; "))
	d.Evidence = append(d.Evidence, Item{"owner_inference", "a pending deferred call (mu.Lock(); defer mu.Unlock()) bound to the mutex, on the holder's stack or g._defer list"})
	if n := asleepCount(p); n > 0 {
		d.Evidence = append(d.Evidence, Item{"goroutines_blocked", fmt.Sprint(n)})
	}
	return d
}

func asleepCount(p *GoProcess) int {
	n := 0
	for _, g := range p.Goroutines {
		if !g.System && g.Status == "waiting" && asleep[g.WaitReason] {
			n++
		}
	}
	return n
}

// allAsleep applies the Go runtime's rule: every goroutine of the program waits on a
// lock or a channel, and none can run.
func allAsleep(p *GoProcess, res GoResult) *Diagnosis {
	if !p.TimersKnown || p.Timers > 0 {
		return nil
	}
	var user []uint64
	for _, g := range p.Goroutines {
		if g.System {
			continue
		}
		if g.Status != "waiting" || !asleep[g.WaitReason] {
			return nil
		}
		user = append(user, g.ID)
	}
	if len(user) == 0 {
		return nil
	}
	d := &Diagnosis{Kind: KindDeadlock}
	d.Summary = fmt.Sprintf("Deadlock: all %d goroutines of the program are blocked on locks or channels, none can run and no timer is pending (the Go runtime's own rule: all goroutines are asleep). The wait-for cycle is not named: a sync.Mutex records no owner, and no holder could be inferred.", len(user))
	for i, id := range user {
		if i == maxEvidenceThreads {
			d.Evidence = append(d.Evidence, Item{"more_goroutines", fmt.Sprintf("%d more goroutines are blocked", len(user)-i)})
			break
		}
		if w := res.Waits[id]; w != nil {
			d.Evidence = append(d.Evidence, Item{fmt.Sprintf("goroutine_%d", id), w.Text})
		}
	}
	return d
}
