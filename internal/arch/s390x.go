package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// S390X is 64-bit IBM Z (big-endian). pr_reg is s390_regs
// (arch/s390/include/uapi/asm/ptrace.h): the PSW mask and address, gprs[16] (8 bytes
// each), acrs[16] (4 bytes each) and orig_gpr2. DWARF numbers are from the s390x ELF
// ABI supplement (table 1.17): r0-r15 are 0-15; GCC's CFI keeps the return address in
// column 14 (r14).
var S390X = func() *Arch {
	names := []string{"pswm", "pswa"}
	sizes := []int{8, 8}
	for i := 0; i < 16; i++ {
		names, sizes = append(names, fmt.Sprintf("r%d", i)), append(sizes, 8)
	}
	for i := 0; i < 16; i++ {
		names, sizes = append(names, fmt.Sprintf("a%d", i)), append(sizes, 4)
	}
	names, sizes = append(names, "orig_r2"), append(sizes, 8)
	display := []string{"pswa", "r15", "r14", "r11"}
	for i := 0; i < 16; i++ {
		if i != 11 && i != 14 && i != 15 {
			display = append(display, fmt.Sprintf("r%d", i))
		}
	}
	display = append(display, "pswm", "orig_r2")
	for i := 0; i < 16; i++ {
		display = append(display, fmt.Sprintf("a%d", i))
	}
	a := &Arch{
		Name:        "s390x",
		GOARCH:      "s390x",
		Machine:     elf.EM_S390,
		Class:       elf.ELFCLASS64,
		ByteOrder:   binary.BigEndian,
		PtrSize:     8,
		RegNames:    names,
		RegSizes:    sizes,
		DisplayRegs: display,
		DWARFRA:     14,
		// struct elf_prstatus with 64-bit longs: the 112-byte head, s390_regs (216 bytes)
		// at 112, pr_fpvalid at 328: 336 bytes.
		PrStatus: PrStatusLayout{Size: 336, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 216, FPValid: 328},
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		PageSize: 4096,
		// s390x ELF ABI supplement §1.2: arguments in r2-r6, the result in r2; r6-r13 and
		// the stack pointer r15 keep their values across a call (r14 holds the return
		// address); no red zone (the caller provides a 160-byte register save area);
		// 8-byte stack alignment.
		ABI: ABI{
			Args:        []string{"r2", "r3", "r4", "r5", "r6"},
			Return:      "r2",
			CalleeSaved: []string{"r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13", "r15"},
			StackAlign:  8,
		},
		CallBefore: s390xCallBefore,
	}
	// GCC's frame pointer is r11, but it keeps no {fp, return address} record there: no
	// frame-pointer unwinding. The thread pointer is split over a0:a1.
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("pswa"), a.Reg("r15"), -1, a.Reg("r14"), -1
	m := map[int]string{}
	for i := 0; i < 16; i++ {
		m[i] = fmt.Sprintf("r%d", i)
	}
	return a.finish(m, nil)
}()

// s390xCallBefore recognises brasl (c0e5 with r14, 6 bytes), bras (a7e5, 4 bytes) and
// basr (0de*, 2 bytes) saving the return address in r14 (z/Architecture Principles of
// Operation, chapter 7), ending where code ends.
func s390xCallBefore(code []byte) bool {
	n := len(code)
	switch {
	case n >= 6 && code[n-6] == 0xc0 && code[n-5] == 0xe5:
		return true
	case n >= 4 && code[n-4] == 0xa7 && code[n-3] == 0xe5:
		return true
	case n >= 2 && code[n-2] == 0x0d && code[n-1]>>4 == 0xe:
		return true
	}
	return false
}
