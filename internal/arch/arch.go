// Package arch describes, as plain values, everything coredig needs to know about a CPU
// architecture in order to read its Linux core dumps and explain them: the layout of the
// kernel's elf_prstatus and elf_prpsinfo notes, the general register set in NT_PRSTATUS
// order with its DWARF numbering and sub-register names, the psABI's calling convention
// (argument, return and callee-saved registers, red zone, stack alignment), where a call
// leaves its return address and how a call instruction is recognised for a stack scan,
// the signal frame the kernel pushes and how its saved machine context gives the fault,
// and the PLT stubs the static linker writes.
//
// Architecture is a value, never a build tag: every build of coredig reads the cores of
// every architecture listed here. Generic code asks the value and never compares an
// architecture's name. Adding one (mips, loongarch64) means adding one
// file with one *Arch value and listing it in All (plus a decoder in package disasm where
// golang.org/x/arch has one). An architecture whose notes are known but whose stacks
// coredig cannot walk (ppc, big-endian ppc64, 31-bit s390, sparc64, x32, m68k) is a value
// with NotesOnly set: its layouts of elf_prstatus and elf_prpsinfo, its registers and
// byte order, and nothing for unwinding; ForMachine refuses any other machine by name.
//
// Sources: linux/include/uapi/linux/elfcore.h (elf_prstatus, elf_prpsinfo),
// arch/x86/include/asm/user_64.h (user_regs_struct), arch/arm64/include/uapi/asm/ptrace.h
// (user_pt_regs), the System V x86-64 psABI §3.2 and §3.6.2 and the AArch64 procedure
// call standard (aapcs64) and DWARF ABI (aadwarf64) for calling conventions and DWARF
// register numbers, arch/x86/kernel/signal_64.c and arch/arm64/kernel/signal.c for the
// signal frames, arch/x86/include/uapi/asm/sigcontext.h and
// arch/arm64/include/uapi/asm/sigcontext.h for the machine contexts. Each file cites the
// part it uses.
package arch

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// Arch is one architecture's description.
type Arch struct {
	Name      string // "x86_64", "aarch64": the name the JSON contract uses
	GOARCH    string // the Go toolchain's name for it ("amd64", "arm64")
	Machine   elf.Machine
	Class     elf.Class
	ByteOrder binary.ByteOrder
	PtrSize   int

	// RegNames are the general registers in the order of pr_reg in NT_PRSTATUS, then the
	// registers of NoteRegs.
	RegNames []string
	// NoteRegs are registers another per-thread note holds (s390x's and ppc64le's
	// floating-point registers in NT_PRFPREG), in the order they follow pr_reg's in
	// RegNames. A thread without the note leaves them unknown.
	NoteRegs []NoteReg
	// ExtraRegs are the registers of the other per-thread notes that coredig shows and
	// never unwinds (vector registers, ppc64's tar, s390x's last breaking-event
	// address), in the order they are shown; a thread lacking one's note has no value
	// for it.
	ExtraRegs []ExtraReg
	// ThreadPointer, when set, reads the thread pointer from a thread's note of type
	// note that is not NT_PRSTATUS (aarch64's NT_ARM_TLS; i386's NT_386_TLS, whose
	// descriptor %gs selects), given the thread's registers.
	ThreadPointer func(note uint32, desc []byte, regs []uint64) (uint64, bool)
	// HWCap and HWCap2 name the bits of AT_HWCAP and AT_HWCAP2 (index = bit), nil where
	// coredig has no table.
	HWCap, HWCap2 []string
	// RegSizes are the sizes in bytes of RegNames' slots in pr_reg when they are not all
	// PtrSize (s390x's 4-byte access registers); nil when they are.
	RegSizes []int
	// PC, SP and FP index RegNames. LR is the link register, or -1.
	PC, SP, FP, LR int
	// FrameRecord is the offset from the frame pointer of the frame record, the saved
	// frame pointer followed by the return address: 0 where the frame pointer points at
	// it (x86_64, aarch64), -2*PtrSize where the frame pointer is the CFA and the record
	// sits just below it (riscv64).
	FrameRecord int64
	// BackChain, when set, says the ABI links every frame to its caller's through the
	// stack pointer (ppc64, s390x built with -mbackchain) rather than a frame pointer.
	BackChain *BackChain
	// TLS indexes RegNames for the thread pointer when it is part of pr_reg (x86_64
	// fs_base); -1 when it comes from a separate note (aarch64 NT_ARM_TLS).
	TLS int
	// TLSName names the thread pointer when it comes from a separate note ("tpidr_el0"),
	// "" when it is one of RegNames.
	TLSName string
	// DisplayRegs lists registers in the order people read them, the most telling first.
	DisplayRegs []string

	// NotesOnly, when set, says why coredig reads this architecture's cores from their
	// notes alone ("no unwinder for sparc64"): process, signal, threads and their
	// registers, auxiliary vector and NT_FILE. Each thread then shows its pc only, and
	// nothing reads the core's memory to explain the crash (no disassembler, runtime or
	// hang analysis).
	NotesOnly string
	// SignalNames are the signal numbers that differ from the asm-generic ones
	// (arch/sparc/include/uapi/asm/signal.h), by number; nil where all agree.
	SignalNames map[int]string

	// DWARF maps a DWARF register number to an index in RegNames, -1 when the register is
	// not a general register coredig tracks.
	DWARF []int
	// DWARFRA is the DWARF column of the return address in CFI (x86_64 16, aarch64 30).
	DWARFRA int
	// CFABias is how far the CFA lies above the caller's stack pointer: 0 where the CFA
	// is the stack pointer before the call, 160 on s390x, whose ELF ABI defines the CFA
	// as the caller's r15 plus its 160-byte register save area.
	CFABias uint64
	// GoPanicPush is how far Go's runtime moves the stack pointer, on a link-register
	// machine, to save the faulting code's link register before it fakes a call of
	// runtime.sigpanic (preparePanic in runtime/signal_<arch>.go): the stack alignment
	// on arm64, sys.MinFrameSize on ppc64 and s390x, a word on 32-bit ARM and riscv64.
	GoPanicPush uint64
	// StackSlot is the size of a return address or saved frame pointer on the stack when
	// it is not PtrSize: 8 on x32, whose 32-bit pointers are pushed and called with
	// 64-bit slots. 0 means PtrSize.
	StackSlot int

	// PrStatus describes struct elf_prstatus for this architecture.
	PrStatus PrStatusLayout
	// PrPsInfo describes struct elf_prpsinfo.
	PrPsInfo PrPsInfoLayout
	// CoreRegSets are the register sets the kernel writes after each thread's
	// NT_PRSTATUS, in its order (the regset view of the architecture, those with a
	// core_note_type). A core writer reads each with PTRACE_GETREGSET of the same type.
	CoreRegSets []RegSetNote

	// PageSize is the smallest page size of the architecture (used for NULL-page checks).
	PageSize uint64
	// ModeBit is the low bit of a code address that selects an instruction set rather
	// than a byte (32-bit ARM's Thumb bit in return addresses); cleared to read code.
	ModeBit uint64
	// PCMask, when not 0, keeps the bits of the pc register that are the address: 31-bit
	// s390's PSW address carries the addressing-mode bit at its top.
	PCMask uint64
	// InstLen is the length of every instruction when the architecture has one length
	// (aarch64: 4), 0 when instructions vary in length (x86_64).
	InstLen int

	// ABI is the psABI's calling convention.
	ABI ABI

	// RAOnStack: a call pushes the return address on the stack (x86); otherwise it goes
	// to the link register LR.
	RAOnStack bool
	// CallBefore reports whether the bytes just before a return address (code ends at
	// it) decode as a call instruction. Code holds up to MaxCallLen bytes.
	CallBefore func(code []byte) bool
	// PCThunks are the functions position-independent code calls to load the address
	// after the call into a register, by name (i386: __x86.get_pc_thunk.bx -> ebx).
	PCThunks map[string]string
	// ReadPrologue, when set, reads the code of a function from its start (at most
	// MaxPrologueLen bytes, ending at the pc) and says how it set up its frame, for a
	// function no unwind table describes. mode is the start address's ModeBit (Thumb).
	ReadPrologue func(code []byte, mode bool) (PrologueFrame, bool)
	// BreakpointBefore is the breakpoint instruction that leaves the pc just after
	// itself when it traps (x86 int3); nil when a trap's pc is the instruction's own.
	BreakpointBefore []byte

	// Signals describe the kernel's signal frames, one per trampoline that returns from
	// a handler (rt_sigreturn; on i386 also the older sigreturn).
	Signals []SignalLayout

	// PLT describes the static linker's PLT stubs.
	PLT PLTLayout

	// Syscall is the system call convention as a core shows it.
	Syscall SyscallABI
	// Pthread gives glibc's lock layouts on this architecture.
	Pthread PthreadLayout

	// subRegs maps the name of each part of a general register ("eax", "w3") to the
	// register and the part's width.
	subRegs map[string]RegPart
	// calleeSaved is ABI.CalleeSaved as a mask of RegNames indices.
	calleeSaved uint64
}

// MaxCallLen is the most bytes CallBefore looks at before a return address.
const MaxCallLen = 8

// MaxPrologueLen is the most bytes of a function's start ReadPrologue looks at.
const MaxPrologueLen = 96

// PrologueFrame is what a function's prologue did: it moved the stack pointer down by
// Size bytes (so the CFA, the caller's stack pointer, is the stack pointer plus Size once
// the prologue ran) and stored registers at offsets from the CFA.
type PrologueFrame struct {
	Size  uint64
	Saved []PrologueSave
}

// PrologueSave is one register a prologue stored: Reg indexes RegNames, Off is its
// offset from the CFA (negative).
type PrologueSave struct {
	Reg int
	Off int64
}

// BackChain describes a stack whose frames are linked through the stack pointer: the word
// at the stack pointer of a frame that has set itself up is the caller's stack pointer
// (the back chain; 0 in the outermost frame), and the function saved its return address
// RA bytes above that, in its caller's frame.
type BackChain struct {
	RA int64
	// Align is the alignment every stack pointer on the chain keeps.
	Align uint64
}

// ABI is the part of a psABI's calling convention that generic code asks about.
type ABI struct {
	// Args are the integer and pointer argument registers, in order.
	Args []string
	// Return is the register of an integer or pointer return value.
	Return string
	// CalleeSaved are the registers a call preserves (the stack pointer included, and on
	// x86_64 the segment registers and bases, which no call changes).
	CalleeSaved []string
	// RedZone is how many bytes below the stack pointer a leaf may use without moving it.
	RedZone uint64
	// StackAlign is the stack pointer's alignment at a call.
	StackAlign uint64
	// GlobalPointer is the register that holds a module's data base throughout its
	// code, from which globals are addressed (ppc64's TOC pointer r2), "" if none.
	GlobalPointer string
}

// RegPart is a named part of a general register: "eax" is the low 4 bytes of rax.
type RegPart struct {
	Reg   string // the full register, as in RegNames
	Width int    // bytes
	Off   int    // byte offset of the part inside the register (ah: 1)
}

// SignalLayout describes the frame the kernel builds on the stack to run a signal
// handler, as it is when the handler returns to the rt_sigreturn trampoline.
type SignalLayout struct {
	// Trampoline are the bytes of the rt_sigreturn trampoline at its first instruction.
	Trampoline []byte
	// SigInfo and Context are the offsets, from the stack pointer at the trampoline, of
	// the saved siginfo_t and of the saved machine context (struct sigcontext).
	SigInfo, Context uint64
	// NoSigInfo: the frame saves no siginfo_t (i386's sigreturn frame, for a handler
	// installed without SA_SIGINFO); SigInfo is then meaningless.
	NoSigInfo bool
	// SigInfoAt, when set, finds the saved siginfo_t from the stack pointer at the
	// trampoline instead of SigInfo, for frames where its place depends on the kernel's
	// configuration (ppc64's, after a second ucontext with CONFIG_PPC_TRANSACTIONAL_MEM).
	SigInfoAt func(read ReadFunc, sp uint64) (uint64, bool)
	// Regs are the registers the machine context saves, at offsets inside it.
	Regs []SavedReg
	// Fault reconstructs the fault the interrupted code took from the machine context
	// at ctx, for a handler that did not ask for a siginfo. signo is the signal the core
	// records; mapped says whether an address is mapped in the process. It returns false
	// when the context does not tell; it is nil when the context never does (riscv64).
	Fault func(read ReadFunc, ctx uint64, signo int, mapped func(addr uint64) bool) (ContextFault, bool)
}

// SavedReg is one register in a saved machine context.
type SavedReg struct {
	Name      string // as in RegNames
	Off, Size int
}

// NoteReg is one register of NoteRegs.
type NoteReg struct {
	Name      string // as in RegNames
	Note      uint32 // the note type (NT_PRFPREG)
	Off, Size int    // place in the note's descriptor
}

// ExtraReg is one register of ExtraRegs. Its value is the concatenation of its Parts,
// the most significant first, each a number read in the architecture's byte order: a
// 16-byte vector register is one 128-bit number, as gdb's uint128 shows it. A register
// of at most 8 bytes is shown with the general ones.
type ExtraReg struct {
	Name  string // gdb's name
	Parts []NotePart
	// HWCap, when not 0, is the bit of AT_HWCAP that says the CPU has the register; a
	// core whose auxv lacks it holds only a zeroed slot for it (32-bit ARM's d16-d31
	// without VFPD32), which is not shown, as gdb does not.
	HWCap uint64
}

// NotePart is Size bytes at Off in the descriptor of a thread's note of type Note; when
// Bits is not 0, only the low Bits bits of the number are the register's.
type NotePart struct {
	Note      uint32
	Off, Size int
	Bits      int
}

// Size is the register's size in bytes.
func (r ExtraReg) Size() int {
	n := 0
	for _, p := range r.Parts {
		n += p.Size
	}
	return n
}

// extra is a one-part ExtraReg.
func extra(name string, note uint32, off, size int) ExtraReg {
	return ExtraReg{Name: name, Parts: []NotePart{{Note: note, Off: off, Size: size}}}
}

// ReadFunc reads len(p) bytes at addr, all of them or an error.
type ReadFunc func(p []byte, addr uint64) error

// ContextFault is a fault reconstructed from a saved machine context.
type ContextFault struct {
	Signo, Code int
	Addr        uint64
	HasAddr     bool
	// Source says which fields of the context gave it ("cr2, trapno 14").
	Source string
}

// siKernel is si_code SI_KERNEL (include/uapi/asm-generic/siginfo.h).
const siKernel = 0x80

// PLTLayout describes the PLT stubs of a linked module.
type PLTLayout struct {
	// Stubs calls found for every stub of a PLT section (name, sh_entsize, contents,
	// address) whose indirect jump goes through a GOT slot: the stub's address and size
	// and the slot's address. got is the address of the module's GOT (.got.plt, which
	// i386 position-independent stubs address their slots from, through %ebx), 0 when
	// the module has none.
	Stubs func(section string, entsize uint64, code []byte, addr, got uint64, found func(stub, size, slot uint64))
	// GOTRelocs are the relocation types that fill a GOT slot with a symbol's address
	// (JUMP_SLOT, GLOB_DAT).
	GOTRelocs []uint32
}

// RegSetNote is one register set a core holds per thread.
type RegSetNote struct {
	Type uint32 // the note type, which is also PTRACE_GETREGSET's
	Name string // "NT_PRFPREG"
	// MaxSize bounds the set's size; the kernel says the actual size (the xstate area
	// depends on the CPU's features).
	MaxSize int
	// FP marks the set whose presence sets pr_fpvalid.
	FP bool
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

// All lists every supported architecture: those coredig analyses, then those it reads
// from the notes only (NotesOnly).
var All = []*Arch{AMD64, ARM64, I386, PPC64LE, S390X, ARM, RISCV64, PPC64, PPC, S390, SPARC64, X32, M68K}

// ForMachine returns the architecture for an ELF machine, class and byte order (d: the
// ELF header's EI_DATA; ppc64 cores come in both). An architecture coredig does not
// know is an error that names it.
func ForMachine(m elf.Machine, c elf.Class, d elf.Data) (*Arch, error) {
	for _, a := range All {
		if a.Machine == m && a.Class == c && a.ByteOrder == byteOrder(d) {
			return a, nil
		}
	}
	return nil, &UnsupportedError{Machine: m, Class: c, Data: d}
}

// UnsupportedError is a machine, class and byte order coredig has no architecture for.
type UnsupportedError struct {
	Machine elf.Machine
	Class   elf.Class
	Data    elf.Data
}

func (e *UnsupportedError) Error() string {
	order := "big-endian"
	if e.Data == elf.ELFDATA2LSB {
		order = "little-endian"
	} else if e.Data != elf.ELFDATA2MSB {
		order = e.Data.String()
	}
	name := machineNames[e.Machine]
	if name == "" {
		name = e.Machine.String()
	}
	bits := "32-bit"
	if e.Class == elf.ELFCLASS64 {
		bits = "64-bit"
	} else if e.Class != elf.ELFCLASS32 {
		bits = e.Class.String()
	}
	return fmt.Sprintf("unsupported architecture %s (%v, %s %s): coredig does not know this machine's core layout", name, e.Machine, bits, order)
}

// machineNames are the usual names of machines coredig refuses, for its message.
var machineNames = map[elf.Machine]string{
	elf.EM_MIPS: "MIPS", elf.EM_MIPS_RS3_LE: "MIPS", elf.EM_ALPHA: "Alpha", elf.EM_PARISC: "PA-RISC",
	elf.EM_SH: "SuperH", elf.EM_IA_64: "IA-64", elf.EM_LOONGARCH: "LoongArch", elf.EM_SPARC: "SPARC (32-bit)",
	elf.EM_SPARC32PLUS: "SPARC (32-bit, v8+)", elf.EM_SPARCV9: "SPARC v9", elf.EM_PPC: "PowerPC",
	elf.EM_PPC64: "PowerPC64", elf.EM_S390: "S/390", elf.EM_68K: "m68k", elf.EM_X86_64: "x86-64",
	elf.EM_386: "i386", elf.EM_ARM: "ARM", elf.EM_AARCH64: "AArch64", elf.EM_RISCV: "RISC-V",
	elf.EM_OPENRISC: "OpenRISC", elf.EM_XTENSA: "Xtensa", elf.EM_MICROBLAZE: "MicroBlaze",
	elf.EM_ARC_COMPACT: "ARC", elf.EM_ARC_COMPACT2: "ARC HS",
}

func byteOrder(d elf.Data) binary.ByteOrder {
	switch d {
	case elf.ELFDATA2LSB:
		return binary.LittleEndian
	case elf.ELFDATA2MSB:
		return binary.BigEndian
	}
	return nil
}

// ByName returns the architecture the JSON contract names name, or nil.
func ByName(name string) *Arch {
	for _, a := range All {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// ByGOARCH returns the architecture Go calls goarch (runtime.GOARCH), or nil.
func ByGOARCH(goarch string) *Arch {
	for _, a := range All {
		if a.GOARCH == goarch && goarch != "" {
			return a
		}
	}
	return nil
}

// PrRegs is the number of RegNames that pr_reg holds; NoteRegs follow them.
func (a *Arch) PrRegs() int { return len(a.RegNames) - len(a.NoteRegs) }

// Reg returns the index of a register by name, or -1.
func (a *Arch) Reg(name string) int {
	for i, n := range a.RegNames {
		if n == name {
			return i
		}
	}
	return -1
}

// extraReg returns the index of a register of ExtraRegs by name, or -1.
func (a *Arch) extraReg(name string) int {
	for i, r := range a.ExtraRegs {
		if r.Name == name {
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

// DWARFNumber is the DWARF number of a register of RegNames, -1 if it has none.
func (a *Arch) DWARFNumber(name string) int {
	for n, idx := range a.DWARF {
		if idx >= 0 && idx < len(a.RegNames) && a.RegNames[idx] == name {
			return n
		}
	}
	return -1
}

// Word reads one pointer-sized word at the start of b, in the architecture's byte order.
// b must hold PtrSize bytes.
func (a *Arch) Word(b []byte) uint64 {
	if a.PtrSize == 4 {
		return uint64(a.ByteOrder.Uint32(b))
	}
	return a.ByteOrder.Uint64(b)
}

// Canonical reports whether addr is a valid user-space address shape for the architecture
// (x86_64 and aarch64 with 48-bit virtual addresses: the top 17 bits equal).
func (a *Arch) Canonical(addr uint64) bool {
	top := addr >> 47
	return top == 0 || top == 1<<17-1
}

// Part says which register a register name is part of, and the part's width: "eax" is
// rax's low 4 bytes, "w3" x3's; a full register is itself at PtrSize bytes.
func (a *Arch) Part(name string) (RegPart, bool) {
	if p, ok := a.subRegs[name]; ok {
		return p, true
	}
	if a.Reg(name) >= 0 {
		return RegPart{Reg: name, Width: a.PtrSize}, true
	}
	return RegPart{}, false
}

// Family names the full register a register name belongs to ("eax" -> "rax", "w3" ->
// "x3"), or name itself when it is no part of one.
func (a *Arch) Family(name string) string {
	if p, ok := a.subRegs[name]; ok {
		return p.Reg
	}
	return name
}

// ArgIndex is the 1-based position of an argument register (by its full name) in the
// calling convention, or 0.
func (a *Arch) ArgIndex(reg string) int {
	for i, r := range a.ABI.Args {
		if r == reg {
			return i + 1
		}
	}
	return 0
}

// IsCalleeSaved reports whether a call preserves the register (by its full name).
func (a *Arch) IsCalleeSaved(reg string) bool {
	for _, r := range a.ABI.CalleeSaved {
		if r == reg {
			return true
		}
	}
	return false
}

// CalleeSavedMask is ABI.CalleeSaved as a bit mask of RegNames indices.
func (a *Arch) CalleeSavedMask() uint64 { return a.calleeSaved }

// IsFrameRegister reports whether the register (any part of it) is the stack pointer or
// the frame pointer, the registers stack slots are addressed from.
func (a *Arch) IsFrameRegister(name string) bool {
	i := a.Reg(a.Family(name))
	return i >= 0 && (i == a.SP || i == a.FP)
}

// SignalFrameAt returns the signal frame whose trampoline code starts with, or nil.
func (a *Arch) SignalFrameAt(code []byte) *SignalLayout {
	for i := range a.Signals {
		if t := a.Signals[i].Trampoline; len(t) > 0 && bytes.HasPrefix(code, t) {
			return &a.Signals[i]
		}
	}
	return nil
}

// Slot is the size of a stack slot holding a return address or a saved frame pointer.
func (a *Arch) Slot() int {
	if a.StackSlot > 0 {
		return a.StackSlot
	}
	return a.PtrSize
}

// TrampolineLen is the length of the longest signal trampoline: the bytes to read at a
// pc to recognise one.
func (a *Arch) TrampolineLen() int {
	n := 0
	for _, l := range a.Signals {
		n = max(n, len(l.Trampoline))
	}
	return n
}

// finish computes the derived tables of a; each architecture's value calls it once.
func (a *Arch) finish(byDWARF map[int]string, subRegs map[string]RegPart) *Arch {
	a.DWARF = dwarfTable(a, byDWARF)
	if a.CallBefore == nil {
		// A notes-only architecture: no call instruction is recognised.
		a.CallBefore = func([]byte) bool { return false }
	}
	a.subRegs = subRegs
	for _, n := range a.ABI.CalleeSaved {
		i := a.Reg(n)
		if i < 0 || i >= 64 {
			panic("arch: callee-saved register " + n + " is not a general register") // programming error in this package
		}
		a.calleeSaved |= 1 << uint(i)
	}
	for _, n := range append(append([]string{a.ABI.Return}, a.ABI.Args...), a.DisplayRegs...) {
		if a.Reg(n) < 0 && n != a.TLSName && a.extraReg(n) < 0 {
			panic("arch: " + a.Name + " names unknown register " + n) // programming error in this package
		}
	}
	if a.Syscall.Nr != "" {
		for _, n := range append([]string{a.Syscall.Nr, a.Syscall.Ret}, a.Syscall.Args...) {
			if a.Reg(n) < 0 {
				panic("arch: syscall convention names unknown register " + n) // programming error in this package
			}
		}
	}
	for i, r := range a.NoteRegs {
		if a.Reg(r.Name) != a.PrRegs()+i {
			panic("arch: note register " + r.Name + " is not at its place in RegNames") // programming error in this package
		}
	}
	for _, r := range a.ExtraRegs {
		if a.Reg(r.Name) >= 0 || len(r.Parts) == 0 || r.Size() > 64 {
			panic("arch: extra register " + r.Name + " is a general register, empty or too wide") // programming error in this package
		}
		for _, p := range r.Parts {
			if p.Off < 0 || p.Size <= 0 || p.Size > 16 {
				panic("arch: extra register " + r.Name + " has a bad part") // programming error in this package
			}
		}
	}
	for _, l := range a.Signals {
		for _, r := range l.Regs {
			if a.Reg(r.Name) < 0 {
				panic("arch: signal frame names unknown register " + r.Name) // programming error in this package
			}
		}
	}
	return a
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
