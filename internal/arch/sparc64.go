package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// SPARC64 is 64-bit SPARC (SPARC V9, big-endian), read from its cores' notes only
// (NotesOnly): register windows and the 2047-byte stack bias are not unwound. pr_reg is
// elf_gregset_t of arch/sparc/include/asm/elf_64.h (ELF_NGREG 36 slots of 8 bytes): the
// globals g0-g7, outs o0-o7, locals l0-l7 and ins i0-i7 (the kernel copies the locals
// and ins from the window save area at the stack pointer), then tstate, tpc, tnpc and y,
// named as gdb names them: state, pc, npc, y. o6 is the (biased) stack pointer, o7 the
// return address of a call, i6 the frame pointer. Signal numbers are SPARC's own
// (arch/sparc/include/uapi/asm/signal.h).
var SPARC64 = func() *Arch {
	var names []string
	for _, g := range "goli" {
		for i := 0; i < 8; i++ {
			names = append(names, fmt.Sprintf("%c%d", g, i))
		}
	}
	names = append(names, "state", "pc", "npc", "y")
	display := append([]string{"pc", "npc", "o6", "o7", "i6", "i7"}, names[:32]...)
	display = append(display, "state", "y")
	a := &Arch{
		Name:        "sparc64",
		Machine:     elf.EM_SPARCV9,
		Class:       elf.ELFCLASS64,
		ByteOrder:   binary.BigEndian,
		PtrSize:     8,
		RegNames:    names,
		DisplayRegs: dedupe(display),
		NotesOnly:   notesOnly("sparc64"),
		// struct elf_prstatus with 64-bit longs (the x86_64 head; sparc64's timeval has a
		// 4-byte tv_usec padded to 8), pr_reg (36*8) at 112, pr_fpvalid at 400: 408 bytes.
		PrStatus: PrStatusLayout{Size: 408, CurSig: 12, SigPend: 16, SigHold: 24, PID: 32,
			TimevalLen: 16, Regs: 112, RegsSize: 36 * 8, FPValid: 400},
		// struct elf_prpsinfo with 32-bit uid and gid: 136 bytes, as on x86_64.
		PrPsInfo: PrPsInfoLayout{Size: 136, State: 0, SName: 1, Zomb: 2, Nice: 3, Flag: 8,
			UID: 16, UIDSize: 4, GID: 20, PID: 24, FName: 40, PsArgs: 56},
		PageSize: 8192,
		InstLen:  4,
		// SPARC V9 ABI: arguments in o0-o5 (the callee's i0-i5), the result in o0.
		ABI:         ABI{Args: []string{"o0", "o1", "o2", "o3", "o4", "o5"}, Return: "o0", StackAlign: 16},
		SignalNames: sparcSignals,
	}
	a.PC, a.SP, a.FP, a.LR, a.TLS = a.Reg("pc"), a.Reg("o6"), -1, a.Reg("o7"), -1
	return a.finish(map[int]string{}, nil)
}()

// sparcSignals are the signal numbers of arch/sparc/include/uapi/asm/signal.h that
// differ from asm-generic's.
var sparcSignals = map[int]string{
	7: "SIGEMT", 10: "SIGBUS", 12: "SIGSYS", 16: "SIGURG", 17: "SIGSTOP", 18: "SIGTSTP",
	19: "SIGCONT", 20: "SIGCHLD", 23: "SIGIO", 29: "SIGPWR", 30: "SIGUSR1", 31: "SIGUSR2",
}

// dedupe keeps the first of each name.
func dedupe(names []string) []string {
	seen := map[string]bool{}
	out := names[:0:0]
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
