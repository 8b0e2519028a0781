package arch

import (
	"debug/elf"
	"encoding/binary"
	"testing"
)

// The riscv64 layouts against the kernel's headers: user_regs_struct is pc then x1..x31,
// so pr_reg slot i is DWARF register i (i >= 1), and sc_regs in the signal frame is the
// same struct.
func TestRISCV64Layout(t *testing.T) {
	a := RISCV64
	if got, err := ForMachine(elf.EM_RISCV, elf.ELFCLASS64, elf.ELFDATA2LSB); err != nil || got != a {
		t.Fatalf("ForMachine(EM_RISCV, 64) = %v, %v", got, err)
	}
	if _, err := ForMachine(elf.EM_RISCV, elf.ELFCLASS32, elf.ELFDATA2LSB); err == nil {
		t.Error("riscv32 must be refused")
	}
	if ByName("riscv64") != a || ByGOARCH("riscv64") != a {
		t.Error("ByName/ByGOARCH")
	}
	if len(a.RegNames) != 32 || a.PrStatus.Regs+a.PrStatus.RegsSize != a.PrStatus.FPValid || a.PrStatus.Size != 376 {
		t.Errorf("prstatus %+v with %d registers", a.PrStatus, len(a.RegNames))
	}
	for _, tc := range []struct {
		name  string
		slot  int
		dwarf int
	}{
		{"pc", 0, -1}, {"ra", 1, 1}, {"sp", 2, 2}, {"gp", 3, 3}, {"tp", 4, 4}, {"t0", 5, 5},
		{"s0", 8, 8}, {"s1", 9, 9}, {"a0", 10, 10}, {"a7", 17, 17}, {"s2", 18, 18},
		{"s11", 27, 27}, {"t3", 28, 28}, {"t6", 31, 31},
	} {
		if got := a.Reg(tc.name); got != tc.slot {
			t.Errorf("%s at slot %d, want %d", tc.name, got, tc.slot)
		}
		if got := a.DWARFNumber(tc.name); got != tc.dwarf {
			t.Errorf("%s DWARF %d, want %d", tc.name, got, tc.dwarf)
		}
	}
	if a.FromDWARF(0) != -1 || a.FromDWARF(32) != -1 { // x0 (zero) and f0 are not tracked
		t.Error("x0 and f0 must map to -1")
	}
	if a.RegNames[a.PC] != "pc" || a.RegNames[a.SP] != "sp" || a.RegNames[a.FP] != "s0" ||
		a.RegNames[a.LR] != "ra" || a.RegNames[a.TLS] != "tp" || a.RegNames[a.FromDWARF(uint64(a.DWARFRA))] != "ra" {
		t.Error("pc, sp, fp, lr, tls or the return address column")
	}
	if a.RAOnStack || a.InstLen != 0 || a.ABI.RedZone != 0 || a.ABI.StackAlign != 16 {
		t.Error("return address in ra, 2- or 4-byte instructions, no red zone, 16-byte stack")
	}
	if a.ArgIndex("a0") != 1 || a.ArgIndex("a7") != 8 || a.ABI.Return != "a0" ||
		!a.IsCalleeSaved("s11") || !a.IsCalleeSaved("sp") || a.IsCalleeSaved("ra") || a.IsCalleeSaved("t0") {
		t.Error("psABI argument and callee-saved registers")
	}
	if a.Family("fp") != "s0" || a.Family("x10") != "a0" || !a.IsFrameRegister("fp") || !a.IsFrameRegister("x2") {
		t.Error("fp and x-names")
	}

	l := a.Signals[0]
	if l.SigInfo != 0 || l.Context != 304 || len(l.Regs) != 32 || l.Fault != nil {
		t.Errorf("signal layout %+v", l)
	}
	for i, r := range l.Regs {
		if r.Name != a.RegNames[i] || r.Off != 8*i || r.Size != 8 {
			t.Errorf("sc_regs slot %d: %+v", i, r)
		}
	}
	if a.SignalFrameAt([]byte{0x93, 0x08, 0xb0, 0x08, 0x73, 0x00, 0x00, 0x00, 0x01, 0x00}) != &a.Signals[0] ||
		a.SignalFrameAt([]byte{0x93, 0x08, 0xb0, 0x08}) != nil {
		t.Error("rt_sigreturn trampoline (li a7, 139; ecall)")
	}
	if !a.Syscall.InSyscall([]byte{0x01, 0x00, 0x73, 0x00, 0x00, 0x00}) || a.Syscall.Nr != "a7" || a.Syscall.Names[98] != "futex" {
		t.Error("syscall convention")
	}
}

func TestRISCV64CallBefore(t *testing.T) {
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	le16 := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	for _, tc := range []struct {
		code []byte
		want bool
	}{
		// From riscv64-linux-gnu-objdump -d of a gcc 12 build.
		{le32(0xfd3ff0ef), true},  // jal ra, depth
		{le32(0x000780e7), true},  // jalr ra, 0(a5)
		{le16(0x9782), true},      // c.jalr a5
		{le32(0x000e0367), false}, // jalr t1, t3 (the PLT's jump)
		{le32(0x00008067), false}, // ret (jalr zero, 0(ra))
		{le16(0x8082), false},     // c.jr ra (ret)
		{le16(0x9002), false},     // c.ebreak
		{le32(0xf8bff06f), false}, // j (jal zero)
	} {
		if got := RISCV64.CallBefore(tc.code); got != tc.want {
			t.Errorf("% x: %v, want %v", tc.code, got, tc.want)
		}
	}
}

func TestRISCV64PLTStubs(t *testing.T) {
	// pthread_create@plt of a gcc 12 PIE at 0x630: auipc t3, 0x2; ld t3, -1544(t3);
	// jalr t1, t3; nop; its GOT slot is 0x2028 (R_RISCV_JUMP_SLOT pthread_create).
	b := make([]byte, 0, 16)
	for _, i := range []uint32{0x00002e17, 0x9f8e3e03, 0x000e0367, 0x00000013} {
		b = binary.LittleEndian.AppendUint32(b, i)
	}
	type stub struct{ at, size, slot uint64 }
	var got []stub
	RISCV64.PLT.Stubs(".plt", 0, b, 0x630, 0, func(at, size, slot uint64) { got = append(got, stub{at, size, slot}) })
	if len(got) != 1 || got[0] != (stub{0x630, 16, 0x2028}) {
		t.Errorf("stubs %+v", got)
	}
	if RISCV64.PLT.GOTRelocs[0] != uint32(elf.R_RISCV_JUMP_SLOT) {
		t.Error("GOT relocation types")
	}
}
