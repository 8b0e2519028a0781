// Package arch describes, as plain values, everything coredig needs to know about a CPU
// architecture in order to read its Linux core dumps: the layout of the kernel's
// elf_prstatus and elf_prpsinfo notes, the general register set in NT_PRSTATUS order, the
// DWARF register numbering of the psABI, and the signal frame the kernel pushes.
//
// Architecture is a value, never a build tag: every build of coredig reads the cores of
// every architecture listed here. Adding one (i386, arm, ppc64le, s390x, riscv64) means
// adding one file with one *Arch value and listing it in All.
//
// Sources: linux/include/uapi/linux/elfcore.h (elf_prstatus, elf_prpsinfo),
// arch/x86/include/asm/user_64.h (user_regs_struct), arch/arm64/include/uapi/asm/ptrace.h
// (user_pt_regs), the System V x86-64 psABI §3.6.2 and the AArch64 DWARF ABI (aadwarf64)
// for DWARF register numbers.
package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// Arch is one architecture's description.
type Arch struct {
	Name      string // "x86_64", "aarch64": the name the JSON contract uses
	Machine   elf.Machine
	Class     elf.Class
	ByteOrder binary.ByteOrder
	PtrSize   int

	// RegNames are the general registers in the order of pr_reg in NT_PRSTATUS.
	RegNames []string
	// PC, SP and FP index RegNames. LR is the link register, or -1.
	PC, SP, FP, LR int
	// TLS indexes RegNames for the thread pointer when it is part of pr_reg (x86_64
	// fs_base); -1 when it comes from a separate note (aarch64 NT_ARM_TLS).
	TLS int

	// DWARF maps a DWARF register number to an index in RegNames, -1 when the register is
	// not a general register coredig tracks.
	DWARF []int
	// DWARFRA is the DWARF column of the return address in CFI (x86_64 16, aarch64 30).
	DWARFRA int

	// PrStatus describes struct elf_prstatus for this architecture.
	PrStatus PrStatusLayout
	// PrPsInfo describes struct elf_prpsinfo.
	PrPsInfo PrPsInfoLayout

	// PageSize is the smallest page size of the architecture (used for NULL-page checks).
	PageSize uint64
}

// PrStatusLayout gives the offsets inside struct elf_prstatus.
type PrStatusLayout struct {
	Size       int // total size of the note descriptor
	CurSig     int // pr_cursig (uint16)
	SigPend    int // pr_sigpend (ulong)
	SigHold    int // pr_sighold (ulong)
	PID        int // pr_pid (int32), then ppid, pgrp, sid
	Regs       int // pr_reg
	RegsSize   int
	FPValid    int // pr_fpvalid (int32)
	TimevalLen int // size of one struct timeval (utime, stime, cutime, cstime follow sid)
}

// PrPsInfoLayout gives the offsets inside struct elf_prpsinfo.
type PrPsInfoLayout struct {
	Size    int
	State   int // pr_state (int8)
	SName   int // pr_sname (char)
	Zomb    int
	Nice    int
	Flag    int // pr_flag (ulong)
	UID     int // pr_uid
	UIDSize int // 4 on 64-bit architectures, 2 on some 32-bit ones
	GID     int
	PID     int // pr_pid, then ppid, pgrp, sid (int32 each)
	FName   int // pr_fname[16]
	PsArgs  int // pr_psargs[80]
}

// All lists every supported architecture.
var All = []*Arch{AMD64, ARM64}

// ForMachine returns the architecture for an ELF machine and class.
func ForMachine(m elf.Machine, c elf.Class) (*Arch, error) {
	for _, a := range All {
		if a.Machine == m && a.Class == c {
			return a, nil
		}
	}
	return nil, fmt.Errorf("unsupported architecture %v (%v)", m, c)
}

// Reg returns the index of a register by name, or -1.
func (a *Arch) Reg(name string) int {
	for i, n := range a.RegNames {
		if n == name {
			return i
		}
	}
	return -1
}

// FromDWARF maps a DWARF register number to a RegNames index, or -1.
func (a *Arch) FromDWARF(n uint64) int {
	if n >= uint64(len(a.DWARF)) {
		return -1
	}
	return a.DWARF[n]
}

// Canonical reports whether addr is a valid user-space address shape for the architecture
// (x86_64 and aarch64 with 48-bit virtual addresses: the top 17 bits equal).
func (a *Arch) Canonical(addr uint64) bool {
	top := addr >> 47
	return top == 0 || top == 1<<17-1
}

func dwarfTable(a *Arch, byDWARF map[int]string) []int {
	max := 0
	for n := range byDWARF {
		if n > max {
			max = n
		}
	}
	t := make([]int, max+1)
	for i := range t {
		t[i] = -1
	}
	for n, name := range byDWARF {
		t[n] = a.Reg(name)
		if t[n] < 0 {
			panic("arch: DWARF table names unknown register " + name) // programming error in this package
		}
	}
	return t
}
