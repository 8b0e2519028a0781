package goruntime

import (
	"encoding/binary"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// FuzzGoroutines reads goroutines, wait reasons, saved contexts and the recorded fault
// out of arbitrary memory laid out as runtime.allgs, its array and the g structures: the
// reader must never panic, and what it returns must come from the memory it was given.
func FuzzGoroutines(f *testing.F) {
	seed := make([]byte, 0x1000)
	le := binary.LittleEndian
	le.PutUint64(seed[0:], fakeAllgs+0x100) // allgs.array
	le.PutUint64(seed[8:], 2)               // len
	le.PutUint64(seed[16:], 2)              // cap
	le.PutUint64(seed[0x100:], fakeAllgs+0x200)
	le.PutUint64(seed[0x108:], fakeAllgs+0x400)
	for i, g := range []uint64{0x200, 0x400} {
		le.PutUint64(seed[g+offGoid:], uint64(i+1))
		le.PutUint32(seed[g+offStatus:], 4)
		seed[g+offWaitReason] = 2
		le.PutUint64(seed[g+offSched:], 0x7000)     // sp
		le.PutUint64(seed[g+offSched+8:], 0x401000) // pc
	}
	le.PutUint32(seed[0x400+offSig:], 11)
	le.PutUint64(seed[0x400+offPanic:], 1)
	le.PutUint64(seed[0x400+offSigCode1:], 0x60)
	le.PutUint64(seed[0x400+offSigPC:], 0x401000)
	f.Add(seed, uint64(0x401000))
	f.Add([]byte{}, uint64(0))
	f.Fuzz(func(t *testing.T, mem []byte, hint uint64) {
		if len(mem) > 1<<16 {
			return
		}
		p := newFake()
		p.regions[fakeAllgs] = mem
		for _, a := range arch.All {
			rt := fakeRuntime(p, a)
			rt.waitReasons, rt.nWaitReason = fakeAllgs+0x800, 40
			rt.version = fakeAllgs + 0x900
			_ = rt.Version()
			gs, _ := rt.Goroutines()
			if len(gs) > MaxGoroutines {
				t.Fatalf("%d goroutines", len(gs))
			}
			for i := range gs {
				g := &gs[i]
				_ = rt.WaitReason(g.WaitReason)
				if regs, _ := rt.Context(g); len(regs) != len(a.RegNames) {
					t.Fatalf("%s: context of %d registers", a.Name, len(regs))
				}
			}
			if fault, err := rt.Fault(hint); err == nil && (hint != 0 && fault.PC != hint) {
				t.Fatalf("fault at %#x, hint %#x", fault.PC, hint)
			}
		}
	})
}
