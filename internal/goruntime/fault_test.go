package goruntime

import (
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// faultProc has three goroutines: 1 panicking from a SIGSEGV at 0x60 (pc 0x401000),
// 2 with a signal recorded but no panic, 3 panicking from a SIGBUS at pc 0x402000 when
// both is set.
func faultProc(both bool) *fakeProc {
	p := newFake()
	p.setAllgs(0x10000, 0x20000, 0x30000)
	for i, g := range []uint64{0x10000, 0x20000, 0x30000} {
		p.addG(g, uint64(i+1), Gwaiting)
	}
	p.put32(0x10000+offSig, 11)
	p.put64(0x10000+offSigCode0, 1) // SEGV_MAPERR
	p.put64(0x10000+offSigCode1, 0x60)
	p.put64(0x10000+offSigPC, 0x401000)
	p.put64(0x10000+offPanic, 0xc000100000)

	p.put32(0x20000+offSig, 11)
	p.put64(0x20000+offSigPC, 0x401000) // no _panic: not panicking

	if both {
		p.put32(0x30000+offSig, 7)
		p.put64(0x30000+offSigCode0, 0xfffffffa) // SI_TKILL (-6) as the runtime stores it
		p.put64(0x30000+offSigPC, 0x402000)
		p.put64(0x30000+offPanic, 0xc000200000)
	}
	return p
}

func TestFault(t *testing.T) {
	segv := &Fault{Goid: 1, Signo: 11, Code: 1, Addr: 0x60, PC: 0x401000}
	bus := &Fault{Goid: 3, Signo: 7, Code: -6, PC: 0x402000}
	for _, tc := range []struct {
		name string
		both bool
		hint uint64
		want *Fault
		err  string
	}{
		{"one, no hint", false, 0, segv, ""},
		{"one, hint agrees", false, 0x401000, segv, ""},
		{"one, hint disagrees", false, 0x401004, nil, "no goroutine among 3 is panicking from a signal at 0x401004"},
		{"two, no hint", true, 0, nil, "2 goroutines are panicking from a signal"},
		{"two, hint picks one", true, 0x401000, segv, ""},
		{"two, hint picks the other", true, 0x402000, bus, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := fakeRuntime(faultProc(tc.both), arch.AMD64).Fault(tc.hint)
			switch {
			case tc.err != "":
				if f != nil || err == nil || err.Error() != tc.err {
					t.Errorf("fault %+v, error %v; want error %q", f, err, tc.err)
				}
			case err != nil || f == nil || *f != *tc.want:
				t.Errorf("fault %+v, error %v; want %+v", f, err, tc.want)
			}
		})
	}
}

// No goroutine panicking, and no goroutine list at all.
func TestFaultNone(t *testing.T) {
	p := newFake()
	p.setAllgs(0x10000)
	p.addG(0x10000, 1, Grunning)
	if f, err := fakeRuntime(p, arch.AMD64).Fault(0); f != nil || err == nil || err.Error() != "no goroutine among 1 is panicking from a signal" {
		t.Errorf("fault %+v, error %v", f, err)
	}
	if f, err := fakeRuntime(newFake(), arch.AMD64).Fault(0); f != nil || err == nil || err.Error() != "reading runtime.allgs: 0x1000 is unmapped" {
		t.Errorf("fault %+v, error %v", f, err)
	}
}
