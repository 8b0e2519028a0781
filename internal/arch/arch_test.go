package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

func TestLayouts(t *testing.T) {
	for _, tc := range []struct {
		a                *Arch
		nregs, pc, sp    int
		regsEnd, prsSize int
		ra               string
	}{
		{AMD64, 27, 16, 19, 112 + 216, 336, "rip"},
		{ARM64, 34, 32, 31, 112 + 272, 392, "x30"},
		{I386, 17, 12, 15, 72 + 68, 144, "eip"},
		{PPC64LE, 44, 32, 1, 112 + 384, 504, "link"},
		{S390X, 35, 1, 17, 112 + 216, 336, "r14"},
		{ARM, 18, 15, 13, 72 + 72, 148, "r14"},
	} {
		if tc.a.PrRegs() != tc.nregs || tc.a.PC != tc.pc || tc.a.SP != tc.sp {
			t.Errorf("%s: pr_reg registers %d pc %d sp %d", tc.a.Name, tc.a.PrRegs(), tc.a.PC, tc.a.SP)
		}
		if tc.a.PrStatus.Regs+tc.a.PrStatus.RegsSize != tc.regsEnd || tc.a.PrStatus.Size != tc.prsSize {
			t.Errorf("%s: prstatus layout %+v", tc.a.Name, tc.a.PrStatus)
		}
		if got := tc.a.RegNames[tc.a.FromDWARF(uint64(tc.a.DWARFRA))]; got != tc.ra {
			t.Errorf("%s: return address column maps to %s, want %s", tc.a.Name, got, tc.ra)
		}
	}
	if AMD64.RegNames[AMD64.FromDWARF(7)] != "rsp" || AMD64.RegNames[AMD64.FromDWARF(6)] != "rbp" {
		t.Error("x86_64 DWARF 6/7 are not rbp/rsp")
	}
	if AMD64.FromDWARF(17) != -1 || AMD64.FromDWARF(1000) != -1 {
		t.Error("untracked DWARF registers must map to -1")
	}
	if a, err := ForMachine(elf.EM_AARCH64, elf.ELFCLASS64, elf.ELFDATA2LSB); err != nil || a != ARM64 {
		t.Errorf("ForMachine(aarch64) = %v, %v", a, err)
	}
	if a, err := ForMachine(elf.EM_386, elf.ELFCLASS32, elf.ELFDATA2LSB); err != nil || a != I386 {
		t.Errorf("ForMachine(i386) = %v, %v", a, err)
	}
	if _, err := ForMachine(elf.EM_MIPS, elf.ELFCLASS32, elf.ELFDATA2LSB); err == nil {
		t.Error("mips is not supported and must say so")
	}
	if !AMD64.Canonical(0x7fff_ffff_f000) || AMD64.Canonical(0x8000_0000_0000) || !AMD64.Canonical(0xffff_8000_0000_0000) {
		t.Error("canonical address check is wrong")
	}
}

func TestABI(t *testing.T) {
	for _, tc := range []struct {
		a              *Arch
		part, family   string
		width, off     int
		arg            string
		argIndex       int
		saved, clobber string
		frameReg       string
	}{
		{AMD64, "r9d", "r9", 4, 0, "rcx", 4, "r12", "r11", "ebp"},
		{AMD64, "ah", "rax", 1, 1, "r9", 6, "rbx", "rax", "esp"},
		{ARM64, "w3", "x3", 4, 0, "x7", 8, "x19", "x18", "wsp"},
		{ARM64, "wsp", "sp", 4, 0, "x0", 1, "x29", "x30", "x29"},
	} {
		p, ok := tc.a.Part(tc.part)
		if !ok || p.Reg != tc.family || p.Width != tc.width || p.Off != tc.off || tc.a.Family(tc.part) != tc.family {
			t.Errorf("%s: Part(%s) = %+v %v, Family %s; want %s width %d off %d", tc.a.Name, tc.part, p, ok, tc.a.Family(tc.part), tc.family, tc.width, tc.off)
		}
		if got := tc.a.ArgIndex(tc.arg); got != tc.argIndex {
			t.Errorf("%s: ArgIndex(%s) = %d, want %d", tc.a.Name, tc.arg, got, tc.argIndex)
		}
		if !tc.a.IsCalleeSaved(tc.saved) || tc.a.IsCalleeSaved(tc.clobber) {
			t.Errorf("%s: callee-saved %s/%s wrong", tc.a.Name, tc.saved, tc.clobber)
		}
		if m := tc.a.CalleeSavedMask(); m&(1<<uint(tc.a.Reg(tc.saved))) == 0 || m&(1<<uint(tc.a.Reg(tc.clobber))) != 0 {
			t.Errorf("%s: callee-saved mask %#x", tc.a.Name, m)
		}
		if !tc.a.IsFrameRegister(tc.frameReg) || tc.a.IsFrameRegister(tc.arg) {
			t.Errorf("%s: frame register %s / %s", tc.a.Name, tc.frameReg, tc.arg)
		}
	}
	if AMD64.InstLen != 0 || ARM64.InstLen != 4 {
		t.Error("instruction lengths")
	}
	if AMD64.ABI.Return != "rax" || ARM64.ABI.Return != "x0" || AMD64.ABI.RedZone != 128 || ARM64.ABI.RedZone != 0 {
		t.Error("return register or red zone wrong")
	}
	if _, ok := AMD64.Part("w3"); ok || AMD64.Family("x3") != "x3" {
		t.Error("x86_64 must not know aarch64 register names")
	}
	if p, ok := AMD64.Part("rbx"); !ok || p.Reg != "rbx" || p.Width != 8 {
		t.Errorf("a whole register is itself: %+v", p)
	}
	if AMD64.DWARFNumber("rsp") != 7 || ARM64.DWARFNumber("sp") != 31 || AMD64.DWARFNumber("orig_rax") != -1 {
		t.Error("DWARFNumber")
	}
	if ByGOARCH("amd64") != AMD64 || ByGOARCH("386") != I386 || ByGOARCH("arm") != ARM || ByGOARCH("mips") != nil {
		t.Error("ByGOARCH")
	}
	if ByName("aarch64") != ARM64 || ByName("mips") != nil {
		t.Error("ByName")
	}
}

// mem is a sparse little-endian memory for the machine-context decoders.
type mem map[uint64][]byte

func (m mem) read(p []byte, addr uint64) error {
	for base, b := range m {
		if addr >= base && addr+uint64(len(p)) <= base+uint64(len(b)) {
			copy(p, b[addr-base:])
			return nil
		}
	}
	return fmt.Errorf("unmapped %#x", addr)
}

func TestContextFault(t *testing.T) {
	le := binary.LittleEndian
	// x86_64: a page fault (trapno 14) with a protection-violation error code at cr2 0x60.
	mc := make([]byte, 256)
	le.PutUint64(mc[128:], 0x401000) // rip
	le.PutUint64(mc[152:], 7)        // err: present, write, user
	le.PutUint64(mc[160:], 14)       // trapno
	le.PutUint64(mc[176:], 0x60)     // cr2
	f, ok := AMD64.Signals[0].Fault(mem{0x1000: mc}.read, 0x1000, 11, nil)
	if !ok || f != (ContextFault{Signo: 11, Code: 2, Addr: 0x60, HasAddr: true, Source: "cr2, trapno 14"}) {
		t.Errorf("x86_64 #PF: %+v %v", f, ok)
	}
	le.PutUint64(mc[160:], 0) // #DE: SIGFPE FPE_INTDIV at rip
	if f, ok := AMD64.Signals[0].Fault(mem{0x1000: mc}.read, 0x1000, 11, nil); !ok || f != (ContextFault{Signo: 8, Code: 1, Addr: 0x401000, HasAddr: true, Source: "trapno 0"}) {
		t.Errorf("x86_64 #DE: %+v %v", f, ok)
	}
	le.PutUint64(mc[160:], 13) // #GP: no address
	if f, ok := AMD64.Signals[0].Fault(mem{0x1000: mc}.read, 0x1000, 11, nil); !ok || f.HasAddr || f.Code != 0x80 {
		t.Errorf("x86_64 #GP: %+v %v", f, ok)
	}
	le.PutUint64(mc[160:], 99)
	if _, ok := AMD64.Signals[0].Fault(mem{0x1000: mc}.read, 0x1000, 11, nil); ok {
		t.Error("x86_64: an unknown trap number must not give a fault")
	}
	// aarch64: fault_address 0x60 and an esr_context record saying a data abort with a
	// permission fault, after a 528-byte fpsimd record.
	ctx := make([]byte, 288+4096)
	le.PutUint64(ctx, 0x60)
	le.PutUint32(ctx[288:], 0x46508001) // FPSIMD_MAGIC
	le.PutUint32(ctx[292:], 528)
	le.PutUint32(ctx[288+528:], 0x45535201) // ESR_MAGIC
	le.PutUint32(ctx[288+528+4:], 16)
	le.PutUint64(ctx[288+528+8:], 0x25<<26|0x0f) // EC data abort, DFSC permission fault level 3
	f, ok = ARM64.Signals[0].Fault(mem{0x2000: ctx}.read, 0x2000, 11, nil)
	if !ok || f != (ContextFault{Signo: 11, Code: 2, Addr: 0x60, HasAddr: true, Source: "fault_address, ESR"}) {
		t.Errorf("aarch64 ESR: %+v %v", f, ok)
	}
	if _, ok := ARM64.Signals[0].Fault(mem{0x2000: ctx}.read, 0x2000, 6, nil); ok {
		t.Error("aarch64: only a SIGSEGV is told from fault_address")
	}
	// Without an ESR record, a mapped address is an access error.
	le.PutUint32(ctx[288+528:], 0)
	f, ok = ARM64.Signals[0].Fault(mem{0x2000: ctx}.read, 0x2000, 11, func(a uint64) bool { return a == 0x60 })
	if !ok || f != (ContextFault{Signo: 11, Code: 2, Addr: 0x60, HasAddr: true, Source: "fault_address"}) {
		t.Errorf("aarch64 without ESR: %+v %v", f, ok)
	}
}

func TestSignalLayout(t *testing.T) {
	for _, tc := range []struct {
		a                *Arch
		i                int
		siginfo, context uint64
		noSigInfo        bool
		nRegs            int
		pcOff            int
	}{
		{AMD64, 0, 304, 40, false, 21, 128},
		{ARM64, 0, 0, 304, false, 34, 8 + 8*32},
		{I386, 0, 12, 160, false, 12 + 4, 56},
		{I386, 1, 0, 4, true, 12 + 4, 56},
		{ARM, 0, 0, 148, false, 17, 72},
		{ARM, 1, 0, 20, true, 17, 72},
	} {
		l := tc.a.Signals[tc.i]
		if l.SigInfo != tc.siginfo || l.Context != tc.context || l.NoSigInfo != tc.noSigInfo || len(l.Regs) != tc.nRegs {
			t.Errorf("%s #%d: signal layout siginfo %d context %d nosiginfo %v regs %d", tc.a.Name, tc.i, l.SigInfo, l.Context, l.NoSigInfo, len(l.Regs))
		}
		pc := tc.a.RegNames[tc.a.PC]
		for _, r := range l.Regs {
			if r.Name == pc && r.Off != tc.pcOff {
				t.Errorf("%s: %s saved at %d, want %d", tc.a.Name, pc, r.Off, tc.pcOff)
			}
		}
		if got := tc.a.SignalFrameAt(append(append([]byte{}, l.Trampoline...), 0x90)); got != &tc.a.Signals[tc.i] {
			t.Errorf("%s #%d: trampoline not recognised", tc.a.Name, tc.i)
		}
		if tc.a.SignalFrameAt(l.Trampoline[1:]) != nil {
			t.Errorf("%s #%d: a cut trampoline was recognised", tc.a.Name, tc.i)
		}
	}
	if I386.TrampolineLen() != 8 || AMD64.TrampolineLen() != 9 {
		t.Errorf("trampoline lengths %d %d", I386.TrampolineLen(), AMD64.TrampolineLen())
	}
}

func TestPLTStubs(t *testing.T) {
	type stub struct{ at, size, slot uint64 }
	collect := func(a *Arch, sec string, entsize uint64, b []byte, addr uint64) []stub {
		var out []stub
		a.PLT.Stubs(sec, entsize, b, addr, 0, func(at, size, slot uint64) { out = append(out, stub{at, size, slot}) })
		return out
	}
	// x86_64 .plt.sec: endbr64; bnd jmp *0x2fe2(%rip); nopl 0x0(%rax,%rax,1).
	x := []byte{0xf3, 0x0f, 0x1e, 0xfa, 0xf2, 0xff, 0x25, 0xe2, 0x2f, 0x00, 0x00, 0x0f, 0x1f, 0x44, 0x00, 0x00}
	if got := collect(AMD64, ".plt.sec", 16, x, 0x1030); len(got) != 1 || got[0] != (stub{0x1030, 16, 0x1030 + 5 + 6 + 0x2fe2}) {
		t.Errorf("x86_64 stub: %+v", got)
	}
	// aarch64: adrp x16, 0x10000; ldr x17, [x16, #0xf80]; add x16, x16, #0xf80; br x17
	// at 0x5f0.
	arm := make([]byte, 16)
	binary.LittleEndian.PutUint32(arm[0:], 0x90000090)  // adrp x16, 0x10000 (immhi 4, immlo 0: 16 pages)
	binary.LittleEndian.PutUint32(arm[4:], 0xf947c211)  // ldr x17, [x16, #0xf80]
	binary.LittleEndian.PutUint32(arm[8:], 0x913e0210)  // add x16, x16, #0xf80
	binary.LittleEndian.PutUint32(arm[12:], 0xd61f0220) // br x17
	got := collect(ARM64, ".plt", 0, arm, 0x5f0)
	if len(got) != 1 || got[0] != (stub{0x5f0, 16, 0x10000 + 0xf80}) {
		t.Errorf("aarch64 stub: %+v", got)
	}
	if AMD64.PLT.GOTRelocs[0] != uint32(elf.R_X86_64_JMP_SLOT) || ARM64.PLT.GOTRelocs[1] != uint32(elf.R_AARCH64_GLOB_DAT) {
		t.Error("GOT relocation types")
	}
}

func TestCallBefore(t *testing.T) {
	for _, tc := range []struct {
		code []byte
		want bool
	}{
		{[]byte{0xe8, 1, 2, 3, 4}, true},             // call rel32
		{[]byte{0xff, 0xd0}, true},                   // call *%rax
		{[]byte{0x41, 0xff, 0xd3}, true},             // call *%r11
		{[]byte{0xff, 0x15, 1, 2, 3, 4}, true},       // call *disp32(%rip)
		{[]byte{0xff, 0x14, 0x24}, true},             // call *(%rsp)
		{[]byte{0xff, 0x54, 0x24, 0x08}, true},       // call *8(%rsp)
		{[]byte{0xff, 0x50, 0x10}, true},             // call *0x10(%rax)
		{[]byte{0xff, 0x90, 1, 2, 3, 4}, true},       // call *disp32(%rax)
		{[]byte{0xff, 0x94, 0x24, 1, 2, 3, 4}, true}, // call *disp32(%rsp)
		{[]byte{0xe9, 1, 2, 3, 4}, false},            // jmp rel32
		{[]byte{0xff, 0xe0}, false},                  // jmp *%rax
		{[]byte{0x48, 0x89, 0xc7}, false},            // mov %rax,%rdi
		{[]byte{0xff, 0x15, 1, 2, 3}, false},         // too short for its form
		{[]byte{0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90}, false},
	} {
		if got := AMD64.CallBefore(tc.code); got != tc.want {
			t.Errorf("x86 % x: %v, want %v", tc.code, got, tc.want)
		}
	}
	for _, tc := range []struct {
		insn uint32
		want bool
	}{
		{0x94000010, true},  // bl
		{0x97ffffff, true},  // bl backwards
		{0xd63f0020, true},  // blr x1
		{0xd63f081f, true},  // blraaz x0
		{0xd63f0c1f, true},  // blrabz x0
		{0xd73f0820, true},  // blraa x1, x0
		{0xd61f0020, false}, // br x1
		{0xd65f03c0, false}, // ret
		{0x14000010, false}, // b
	} {
		b := binary.LittleEndian.AppendUint32(nil, tc.insn)
		if got := ARM64.CallBefore(b); got != tc.want {
			t.Errorf("aarch64 %08x: %v, want %v", tc.insn, got, tc.want)
		}
	}
}

func TestForeignCallBefore(t *testing.T) {
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	for _, tc := range []struct {
		a    *Arch
		code []byte
		want bool
	}{
		{PPC64LE, le32(0x4bfffe6d), true},                         // bl (backwards)
		{PPC64LE, le32(0x4e800421), true},                         // bctrl
		{PPC64LE, le32(0x4e800020), false},                        // blr
		{PPC64LE, le32(0x4bfffe6c), false},                        // b
		{S390X, []byte{0xc0, 0xe5, 0xff, 0xff, 0xff, 0x50}, true}, // brasl %r14,...
		{S390X, []byte{0x0d, 0xe1}, true},                         // basr %r14,%r1
		{S390X, []byte{0x07, 0xfe}, false},                        // br %r14
		{ARM, le32(0xebfffff0), true},                             // A32 bl
		{ARM, le32(0xe12fff33), true},                             // A32 blx r3
		{ARM, []byte{0xff, 0xf7, 0xe0, 0xff}, true},               // T32 bl
		{ARM, []byte{0x98, 0x47}, true},                           // T16 blx r3
		{ARM, []byte{0x70, 0x47}, false},                          // T16 bx lr
	} {
		if got := tc.a.CallBefore(tc.code); got != tc.want {
			t.Errorf("%s % x: %v, want %v", tc.a.Name, tc.code, got, tc.want)
		}
	}
	if S390X.RegSizes[S390X.Reg("a3")] != 4 || S390X.RegSizes[S390X.Reg("orig_r2")] != 8 || S390X.ByteOrder != binary.BigEndian {
		t.Error("s390x register sizes or byte order")
	}
}

// A ppc64 core is read with the layouts of its byte order: big-endian ones (ELFv1) are
// not ppc64le's. Each notes-only architecture says why.
func TestForMachineByteOrder(t *testing.T) {
	for _, tc := range []struct {
		m    elf.Machine
		c    elf.Class
		d    elf.Data
		want *Arch
	}{
		{elf.EM_PPC64, elf.ELFCLASS64, elf.ELFDATA2LSB, PPC64LE},
		{elf.EM_PPC64, elf.ELFCLASS64, elf.ELFDATA2MSB, PPC64},
		{elf.EM_PPC, elf.ELFCLASS32, elf.ELFDATA2MSB, PPC},
		{elf.EM_S390, elf.ELFCLASS64, elf.ELFDATA2MSB, S390X},
		{elf.EM_S390, elf.ELFCLASS32, elf.ELFDATA2MSB, S390},
		{elf.EM_SPARCV9, elf.ELFCLASS64, elf.ELFDATA2MSB, SPARC64},
		{elf.EM_X86_64, elf.ELFCLASS32, elf.ELFDATA2LSB, X32},
		{elf.EM_68K, elf.ELFCLASS32, elf.ELFDATA2MSB, M68K},
	} {
		a, err := ForMachine(tc.m, tc.c, tc.d)
		if err != nil || a != tc.want {
			t.Errorf("ForMachine(%v, %v, %v) = %v, %v; want %s", tc.m, tc.c, tc.d, a, err, tc.want.Name)
		}
	}
	if _, err := ForMachine(elf.EM_X86_64, elf.ELFCLASS64, elf.ELFDATA2MSB); err == nil {
		t.Error("a big-endian x86_64 core was accepted")
	}
	for _, a := range []*Arch{PPC64, PPC, S390, SPARC64, X32, M68K} {
		if a != X32 && !strings.HasPrefix(a.NotesOnly, "no unwinder for ") { // x32 is unwound; its pr_reg is still checked
			t.Errorf("%s: NotesOnly %q", a.Name, a.NotesOnly)
		}
		// pr_reg's registers fit in it, at their sizes.
		n := 0
		for i := 0; i < a.PrRegs(); i++ {
			if a.RegSizes != nil {
				n += a.RegSizes[i]
			} else {
				n += a.PtrSize
			}
		}
		if n > a.PrStatus.RegsSize || a.PrStatus.Regs+a.PrStatus.RegsSize > a.PrStatus.FPValid || a.PrStatus.FPValid+4 > a.PrStatus.Size {
			t.Errorf("%s: %d bytes of registers in pr_reg of %d at %d, pr_fpvalid at %d, size %d", a.Name, n,
				a.PrStatus.RegsSize, a.PrStatus.Regs, a.PrStatus.FPValid, a.PrStatus.Size)
		}
	}
	for _, a := range []*Arch{AMD64, ARM64, I386, PPC64LE, S390X, ARM, RISCV64, X32} {
		if a.NotesOnly != "" {
			t.Errorf("%s is notes-only", a.Name)
		}
	}
}
