package hangs

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

const (
	goMuA      = dataBase + 0x10
	goMuB      = dataBase + 0x18
	goUnlock   = 0x401000 // main.f.deferwrap1
	goOther    = 0x402000 // main.other
	goStackA   = 0x80000
	goStackB   = 0x81000
	goStackLen = 0x100
)

// goFuncName names the fake program's functions.
func goFuncName(pc uint64) string {
	switch pc {
	case goUnlock:
		return "main.f.deferwrap1"
	case goOther:
		return "main.other"
	}
	return ""
}

// goStack is a goroutine's stack holding a deferred closure {code, mutex} at offset 0x40.
func goStack(code, mutex uint64) []byte {
	b := make([]byte, goStackLen)
	binary.LittleEndian.PutUint64(b[0x40:], code)
	binary.LittleEndian.PutUint64(b[0x48:], mutex)
	return b
}

func goABBA(codeA, codeB uint64, lockedB bool) *GoProcess {
	mem := fakeMem{goStackA: goStack(codeA, goMuA), goStackB: goStack(codeB, goMuB)}
	g := func(id uint64, waitsFor uint64, locked bool, stack uint64) Goroutine {
		return Goroutine{ID: id, Status: "waiting", WaitReason: "sync.Mutex.Lock", Kind: KindMutex, Address: waitsFor,
			HasAddress: true, Locked: locked, Where: "main.f", StackLo: stack, StackHi: stack + goStackLen}
	}
	return &GoProcess{Arch: arch.AMD64, Mem: mem, FuncName: goFuncName, Goroutines: []Goroutine{
		{ID: 1, Status: "waiting", WaitReason: "sleep"},
		{ID: 2, Status: "waiting", WaitReason: "force gc (idle)", System: true},
		g(8, goMuA, true, goStackB), // holds B (its deferred closure), waits for A
		g(7, goMuB, lockedB, goStackA),
	}}
}

func TestExplainGoDeadlock(t *testing.T) {
	res := ExplainGo(goABBA(goUnlock, goUnlock, true))
	d := res.Diagnosis
	if d == nil || d.Kind != KindDeadlock {
		t.Fatalf("diagnosis %+v, want deadlock", d)
	}
	want := []Edge{{TID: 7, WaitsFor: 8, Lock: goMuB, HasLock: true, Kind: KindMutex, Goroutine: true},
		{TID: 8, WaitsFor: 7, Lock: goMuA, HasLock: true, Kind: KindMutex, Goroutine: true}}
	if len(d.Cycle) != 2 || d.Cycle[0] != want[0] || d.Cycle[1] != want[1] {
		t.Errorf("cycle %+v, want %+v", d.Cycle, want)
	}
	if w := res.Waits[7]; w.OwnerGoroutine != 8 || w.Text != "waiting for sync.Mutex 0x10018 held by goroutine 8" {
		t.Errorf("goroutine 7 waits %+v", w)
	}
	if !strings.Contains(d.Summary, "goroutine 7 (main.f) waits for sync.Mutex 0x10018 held by goroutine 8") {
		t.Errorf("summary %q", d.Summary)
	}
}

// Without a deferred Unlock bound to the mutex, or with an unlocked mutex, there is no
// holder, and with a goroutine asleep in time.Sleep, no deadlock.
func TestExplainGoNoHolder(t *testing.T) {
	for name, p := range map[string]*GoProcess{
		"other closure": goABBA(goUnlock, goOther, true),
		"unlocked":      goABBA(goUnlock, goUnlock, false),
	} {
		res := ExplainGo(p)
		if res.Diagnosis != nil {
			t.Errorf("%s: diagnosis %+v, want none", name, res.Diagnosis)
		}
		if w := res.Waits[7]; w.OwnerGoroutine != 0 {
			t.Errorf("%s: goroutine 7 has owner %d", name, w.OwnerGoroutine)
		}
	}
	// Two goroutines with a deferred Unlock bound to one mutex: ambiguous, no holder.
	p := goABBA(goUnlock, goUnlock, true)
	p.Mem.(fakeMem)[0x90000] = goStack(goUnlock, goMuB)
	p.Goroutines = append(p.Goroutines, Goroutine{ID: 9, Status: "waiting", WaitReason: "chan receive", StackLo: 0x90000, StackHi: 0x90000 + goStackLen})
	res := ExplainGo(p)
	if w := res.Waits[7]; w.OwnerGoroutine != 0 || !strings.Contains(w.Detail, "goroutines 8, 9 each have a deferred Unlock") {
		t.Errorf("ambiguous holder: %+v", w)
	}
}

// The Go runtime's rule: every goroutine of the program blocked on locks or channels,
// the runtime's own aside, is a deadlock even without holders.
func TestExplainGoAllAsleep(t *testing.T) {
	p := goABBA(goOther, goOther, true)
	p.Goroutines[0].WaitReason = "chan receive"
	if d := ExplainGo(p).Diagnosis; d != nil {
		t.Errorf("timers unknown: diagnosis %+v, want none", d)
	}
	p.TimersKnown, p.Timers = true, 1
	if d := ExplainGo(p).Diagnosis; d != nil {
		t.Errorf("a timer pending: diagnosis %+v, want none", d)
	}
	p.Timers = 0
	d := ExplainGo(p).Diagnosis
	if d == nil || d.Kind != KindDeadlock || len(d.Cycle) != 0 || !strings.Contains(d.Summary, "all 3 goroutines") {
		t.Fatalf("diagnosis %+v, want a deadlock of 3 goroutines without a cycle", d)
	}
	p.Goroutines = append(p.Goroutines, Goroutine{ID: 10, Status: "runnable"})
	if d := ExplainGo(p).Diagnosis; d != nil {
		t.Errorf("a runnable goroutine: diagnosis %+v, want none", d)
	}
}

// Two goroutines wait for a mutex whose holder, inferred from its deferred Unlock, sleeps
// in a system call: blocked behind it.
func TestExplainGoBlocked(t *testing.T) {
	mem := fakeMem{goStackA: goStack(goUnlock, goMuA)}
	w := func(id uint64) Goroutine {
		return Goroutine{ID: id, Status: "waiting", WaitReason: "sync.Mutex.Lock", Kind: KindMutex, Address: goMuA, HasAddress: true, Locked: true}
	}
	p := &GoProcess{Arch: arch.AMD64, Mem: mem, FuncName: goFuncName, Goroutines: []Goroutine{
		{ID: 5, Status: "syscall", Where: "main.readAll at x.go:10", StackLo: goStackA, StackHi: goStackA + goStackLen},
		w(6), w(7),
	}}
	d := ExplainGo(p).Diagnosis
	if d == nil || d.Kind != KindBlocked || d.Root != 5 {
		t.Fatalf("diagnosis %+v, want blocked behind goroutine 5", d)
	}
	want := "Blocked: 2 goroutines wait behind goroutine 5 (main.readAll at x.go:10), which holds the sync.Mutex they wait for and is in a system call, outside the program's locks."
	if d.Summary != want {
		t.Errorf("summary %q, want %q", d.Summary, want)
	}
	// The holder waits on a channel of the program: no chain ends outside.
	p.Goroutines[0].Status, p.Goroutines[0].WaitReason = "waiting", "chan receive"
	if d := ExplainGo(p).Diagnosis; d != nil {
		t.Errorf("holder in a chan receive: diagnosis %+v, want none", d)
	}
}
