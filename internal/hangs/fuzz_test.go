package hangs

import (
	"encoding/binary"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// FuzzExplain reads mutexes, rwlocks, Python lock objects and timeouts out of arbitrary
// memory, for threads blocked in arbitrary calls on arbitrary futex words, and builds
// the wait-for graph: nothing may panic, no thread may wait for itself, and a deadlock's
// cycle must be closed.
func FuzzExplain(f *testing.F) {
	seed := make([]byte, 0x200)
	putMutex(seed, 0x40, 2, 12, 0)
	putMutex(seed, 0x80, 2, 11, 16|128)
	binary.LittleEndian.PutUint64(seed[0x100+pyTpName:], dataBase+0x180)
	copy(seed[0x180:], "_thread.RLock\x00")
	f.Add(seed, []byte{0x40, 0x80, 0x00, 0x10}, uint8(0))
	f.Add([]byte{}, []byte{}, uint8(1))
	f.Fuzz(func(t *testing.T, mem []byte, addrs []byte, kind uint8) {
		if len(mem) > 1<<14 || len(addrs) > 64 {
			return
		}
		frameSets := [][]Frame{mutexFrames("f"),
			{{Function: "___pthread_rwlock_wrlock"}}, {{Function: "pthread_cond_wait"}},
			{{Function: "sem_wait"}}, {{Function: "pthread_join"}}, {{Function: "take_gil"}},
			{{Function: "PyThread_acquire_lock_timed"}}, {{Function: "__pthread_mutex_lock_full"}}, nil}
		for _, a := range arch.All {
			var threads []Thread
			for i, b := range addrs {
				r := make([]uint64, len(a.RegNames))
				r[a.SP] = dataBase
				// Architectures coredig reads without a syscall convention (i386, ppc64le,
				// s390x, ARM) get registers only: Explain must still answer.
				if a.Syscall.Nr != "" {
					r[a.Reg(a.Syscall.Nr)] = []uint64{202, 98, 0, 63, 230, 115}[(int(kind)+i)%6]
					r[a.Reg(a.Syscall.Args[0])] = dataBase + uint64(b)*4
					r[a.Reg(a.Syscall.Args[1])] = uint64(kind) & 0x8f
					r[a.Reg(a.Syscall.Args[2])] = dataBase + uint64(b)
					r[a.Reg(a.Syscall.Ret)] = uint64(-int64([]int{4, 512, 514, 516, 11}[i%5]))
				}
				threads = append(threads, Thread{TID: 11 + i, Regs: r, Code: a.Syscall.Inst,
					Frames: frameSets[(int(b)+i)%len(frameSets)], Ident: dataBase + uint64(i)*8,
					PyStacks: []uint64{dataBase + uint64(b), dataBase + uint64(kind)*8}})
			}
			p := &Process{Arch: a, Mem: fakeMem{dataBase: mem}, Threads: threads, Python: &Python{GILHolder: int(kind)}}
			res := Explain(p)
			for tid, e := range res.Edges {
				if e.TID != tid || e.WaitsFor == tid {
					t.Fatalf("edge %+v under %d", e, tid)
				}
			}
			if d := res.Diagnosis; d != nil && d.Kind == KindDeadlock {
				c := d.Cycle
				if len(c) < 2 || c[len(c)-1].WaitsFor != c[0].TID {
					t.Fatalf("open cycle %+v", c)
				}
				for i := 1; i < len(c); i++ {
					if c[i-1].WaitsFor != c[i].TID {
						t.Fatalf("broken cycle %+v", c)
					}
				}
			}
			for _, w := range res.Waits {
				_ = w.Text()
			}
		}
	})
}

// FuzzExplainGo infers mutex holders from deferred closures in arbitrary stacks, for
// goroutines waiting on arbitrary mutexes: nothing may panic, no goroutine may wait for
// itself, and a deadlock's cycle must be closed.
func FuzzExplainGo(f *testing.F) {
	f.Add(goStack(goUnlock, goMuA), []byte{0x10, 0x18, 0x10}, uint8(0))
	f.Add([]byte{}, []byte{}, uint8(1))
	f.Fuzz(func(t *testing.T, stack []byte, locks []byte, flags uint8) {
		if len(stack) > 1<<14 || len(locks) > 64 {
			return
		}
		var gs []Goroutine
		for i, l := range locks {
			g := Goroutine{ID: uint64(i + 1), Status: "waiting", WaitReason: "sync.Mutex.Lock", Kind: KindMutex,
				Address: dataBase + uint64(l), HasAddress: true, Locked: flags&1 == 0,
				StackLo: goStackA + uint64(i)*8, StackHi: goStackA + uint64(len(stack)), Defers: []uint64{goStackA + uint64(l)}}
			if (int(flags)+i)%3 == 0 {
				g.Kind, g.WaitReason = KindChannel, "chan receive"
			}
			gs = append(gs, g)
		}
		res := ExplainGo(&GoProcess{Arch: arch.AMD64, Mem: fakeMem{goStackA: stack}, Goroutines: gs, FuncName: goFuncName})
		for id, w := range res.Waits {
			if w.OwnerGoroutine == id {
				t.Fatalf("goroutine %d holds what it waits for", id)
			}
		}
		if d := res.Diagnosis; d != nil && len(d.Cycle) > 0 {
			c := d.Cycle
			if len(c) < 2 || c[len(c)-1].WaitsFor != c[0].TID {
				t.Fatalf("open cycle %+v", c)
			}
		}
	})
}
