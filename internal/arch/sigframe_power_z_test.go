package arch

import (
	"encoding/binary"
	"testing"
)

// The signal frames of ppc64le (the kernel's and qemu-user's) and s390x (rt_sigframe and
// the older sigframe), with the offsets worked out in ppc64le.go and s390x.go.
func TestSignalLayoutPPC64S390X(t *testing.T) {
	for _, tc := range []struct {
		a                *Arch
		i                int
		siginfo, context uint64
		noSigInfo        bool
		nRegs            int
		pcOff, spOff     int
	}{
		{PPC64LE, 0, 0, 128 + 168, false, 44, 64 + 8*32, 64 + 8},
		{PPC64LE, 1, 128 + 16 + 1752, 128 + 16 + 168, false, 44, 64 + 8*32, 64 + 8},
		{S390X, 0, 168, 336, false, 2 + 16 + 16 + 1 + 16, 8, 16 + 8*15},
		{S390X, 1, 0, 176, true, 2 + 16 + 16 + 1 + 16, 8, 16 + 8*15},
	} {
		l := tc.a.Signals[tc.i]
		if l.SigInfo != tc.siginfo || l.Context != tc.context || l.NoSigInfo != tc.noSigInfo || len(l.Regs) != tc.nRegs {
			t.Errorf("%s #%d: signal layout siginfo %d context %d nosiginfo %v regs %d", tc.a.Name, tc.i, l.SigInfo, l.Context, l.NoSigInfo, len(l.Regs))
		}
		for _, r := range l.Regs {
			if r.Name == tc.a.RegNames[tc.a.PC] && r.Off != tc.pcOff || r.Name == tc.a.RegNames[tc.a.SP] && r.Off != tc.spOff {
				t.Errorf("%s #%d: %s saved at %d", tc.a.Name, tc.i, r.Name, r.Off)
			}
		}
		if got := tc.a.SignalFrameAt(append(append([]byte{}, l.Trampoline...), 0, 0)); got != &tc.a.Signals[tc.i] {
			t.Errorf("%s #%d: trampoline not recognised", tc.a.Name, tc.i)
		}
		if tc.a.SignalFrameAt(l.Trampoline[1:]) != nil {
			t.Errorf("%s #%d: a cut trampoline was recognised", tc.a.Name, tc.i)
		}
	}
	// The kernel's trampoline (addi r1,r1,128 first) is not qemu's, whose "li r0,172; sc"
	// it contains.
	if PPC64LE.SignalFrameAt(PPC64LE.Signals[0].Trampoline) != &PPC64LE.Signals[0] {
		t.Error("ppc64le: the kernel's trampoline is taken for qemu's")
	}
	if S390X.CFABias != 160 || PPC64LE.CFABias != 0 {
		t.Errorf("CFA bias s390x %d ppc64le %d", S390X.CFABias, PPC64LE.CFABias)
	}
}

// ppc64's siginfo is found by pinfo and puc pointing into their own frame, at the place
// the kernel's configuration gives them.
func TestPPC64SigInfo(t *testing.T) {
	le := binary.LittleEndian
	const sp = 0x10000
	frame := uint64(sp + 128)
	for _, pinfo := range []uint64{1744, 3440} { // without and with CONFIG_PPC_TRANSACTIONAL_MEM
		b := make([]byte, 128+4096)
		le.PutUint64(b[128+pinfo:], frame+pinfo+16)
		le.PutUint64(b[128+pinfo+8:], frame)
		got, ok := PPC64LE.Signals[0].SigInfoAt(mem{sp: b}.read, sp)
		if !ok || got != frame+pinfo+16 {
			t.Errorf("pinfo at %d: siginfo %#x %v, want %#x", pinfo, got, ok, frame+pinfo+16)
		}
		le.PutUint64(b[128+pinfo+8:], frame+8) // puc not the frame: no guess
		if got, ok := PPC64LE.Signals[0].SigInfoAt(mem{sp: b}.read, sp); ok {
			t.Errorf("pinfo at %d with a wrong puc: siginfo %#x", pinfo, got)
		}
	}
}

// ppc64's sigcontext keeps the trap number, dar and dsisr of the interrupt.
func TestPPC64Fault(t *testing.T) {
	le := binary.LittleEndian
	sc := make([]byte, 64+48*8)
	le.PutUint64(sc[64+32*8:], 0x10000848) // nip
	set := func(trap, dar uint64) {
		le.PutUint64(sc[64+40*8:], trap)
		le.PutUint64(sc[64+41*8:], dar)
	}
	fault := func(mapped bool) (ContextFault, bool) {
		return PPC64LE.Signals[0].Fault(mem{0x3000: sc}.read, 0x3000, 11, func(uint64) bool { return mapped })
	}
	set(0x300, 0x60) // data storage interrupt at dar
	if f, ok := fault(false); !ok || f != (ContextFault{Signo: 11, Code: 1, Addr: 0x60, HasAddr: true, Source: "dar, trap 0x300"}) {
		t.Errorf("data storage: %+v %v", f, ok)
	}
	if f, ok := fault(true); !ok || f.Code != 2 {
		t.Errorf("data storage at a mapped address: %+v %v", f, ok)
	}
	set(0x401, 0) // instruction storage, with the kernel's flag bit: at nip
	if f, ok := fault(false); !ok || f != (ContextFault{Signo: 11, Code: 1, Addr: 0x10000848, HasAddr: true, Source: "nip, trap 0x400"}) {
		t.Errorf("instruction storage: %+v %v", f, ok)
	}
	set(0, 0) // qemu-user saves no trap
	if f, ok := fault(false); ok {
		t.Errorf("no trap: %+v", f)
	}
}

// s390x's floating-point registers have DWARF numbers 16-31 in the ABI's order and follow
// pr_reg's registers; f8-f15 are callee-saved.
func TestS390XFPRegs(t *testing.T) {
	a := S390X
	for n, want := range map[uint64]string{15: "r15", 16: "f0", 17: "f2", 20: "f1", 24: "f8", 28: "f9", 31: "f15"} {
		if i := a.FromDWARF(n); i < 0 || a.RegNames[i] != want {
			t.Errorf("DWARF %d maps to %d, want %s", n, i, want)
		}
	}
	if a.Reg("fpc") != a.PrRegs() || a.Reg("f15") != len(a.RegNames)-1 || a.PrRegs() != 35 {
		t.Errorf("fpc at %d, f15 at %d, pr_reg registers %d", a.Reg("fpc"), a.Reg("f15"), a.PrRegs())
	}
	if !a.IsCalleeSaved("f8") || a.IsCalleeSaved("f7") || a.CalleeSavedMask()&(1<<uint(a.Reg("f15"))) == 0 {
		t.Error("f8-f15 are callee-saved, f0-f7 not")
	}
	if PPC64LE.PrRegs() != 44 || PPC64LE.Reg("fpscr") != 44+32 {
		t.Errorf("ppc64le: pr_reg registers %d, fpscr at %d", PPC64LE.PrRegs(), PPC64LE.Reg("fpscr"))
	}
}
