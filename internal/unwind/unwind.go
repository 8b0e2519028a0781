// Package unwind walks the native stack of one thread of a core dump, frame by frame, from
// the registers the kernel saved for it.
//
// Each frame says how it was found (FoundBy):
//   - "context": the thread's registers themselves (frame 0);
//   - "cfi": DWARF call frame information (.eh_frame or .debug_frame, package cfi), with the
//     expressions of package expr;
//   - "exidx": where no CFI covers the pc, the module's ARM EHABI table (.ARM.exidx and
//     .ARM.extab, package ehabi; Modules that implement EHABIModules give it): the
//     function's unwind opcodes pop the caller's registers and give its stack pointer;
//     the return address is the popped pc, else lr. EXIDX_CANTUNWIND leaves the frame to
//     the frame pointer and the scan, and ends the stack quietly in a caller (_start);
//   - "prologue": where no table describes the function at all, what its prologue pushed
//     and how far it moved the stack pointer (arch.Arch.ReadPrologue: 32-bit ARM's
//     Thumb-2 and A32 push, sub sp and vpush), from the function's start that Modules
//     implementing FunctionStarts give (Debian's armhf glibc has tables for a quarter of
//     its functions; abort has none). It is also preferred to an EHABI entry, which holds
//     at call sites, for a frame whose pc is not a return address and which stopped
//     before its prologue finished (a stack overflow faults at a push), as gdb does;
//   - "frame_pointer": the rbp (x86_64) or x29 (aarch64) chain, {saved fp, return address}
//     at fp, where no CFI covers the pc;
//   - "scan" also names the caller of an innermost or interrupted frame no table
//     describes, taken from the link register (aarch64 x30, riscv64 ra) when the frame
//     record at the frame pointer does not hold it (a leaf that saved nothing), the
//     link register points after a call and not into the frame's own function;
//   - "scan": last resort, a word on the stack that points just after a call instruction
//     in an executable mapping (arch.Arch.CallBefore: x86_64 call rel32 and call r/m64
//     "ff /2"; aarch64 BL, BLR, BLRAA/BLRAB and their Z forms); a return address into the
//     code that starts a thread (Config.ThreadStart: glibc's clone child) ends the stack
//     at the frame scanned from instead;
//   - "frame_pointer" also names a frame found through the back chain where the ABI
//     links frames by the stack pointer (arch.Arch.BackChain: ppc64's word at 0(r1) and
//     its LR save doubleword 16 bytes into the caller's frame; s390x's 0(r15) with
//     -mbackchain and r14 at 112 in the caller's register save area), for frames that
//     called (frame 0 and an interrupted frame may not have set up theirs yet). A zero
//     back chain or saved return address ends the stack;
//   - "signal_frame": the context the kernel saved in its rt_sigframe when it delivered a
//     signal. The frame before it is the signal trampoline (x86_64 __restore_rt,
//     "48 c7 c0 0f 00 00 00 0f 05" = mov $15,%rax; syscall; aarch64 vDSO
//     __kernel_rt_sigreturn, d2801168 d4000001 = mov x8,#139; svc #0; ppc64le
//     "addi r1,r1,128; li r0,172; sc"; s390x "svc 173" or "svc 119"), recognised by its
//     bytes; that frame ("<signal handler called>") keeps the FoundBy of how its pc was
//     found (usually "cfi") and carries a *SignalFrame with the interrupted registers and
//     the address of the saved siginfo. The kernel fills that siginfo only for handlers
//     installed with SA_SIGINFO (arch/x86/kernel/signal_64.c, arm64 signal.c); otherwise
//     its bytes are whatever was on the stack.
//
// Return addresses point after the call: symbolize Frame.LookupPC (pc-1) for them, the pc
// itself for the context frame and for frames interrupted by a signal. A return address's
// instruction-set bit (arch.Arch.ModeBit, 32-bit ARM's Thumb bit) is cleared from the
// frame's pc, as gdb shows it.
//
// The stack ends cleanly (no error) at a frame whose CFI makes the return address
// undefined, at a zero return address or back chain, at a zero frame pointer after a frame
// pointer step, and at a return address in the process's entry function or the clone
// child (Config.Outermost).
//
// Bounds: at most Config.MaxDepth frames (default 1024); unwinding stops when the CFA does
// not increase (a loop or a corrupt stack), except right after a signal frame, where the
// interrupted code may run on another stack (sigaltstack). A scan looks at most
// Config.ScanWords words. DWARF expressions have a step budget. An unreadable stack gives
// a frame whose Err keeps the Memory error (so errors.As finds the core's typed reason), and
// ends that thread's walk only; an Unwinder shares nothing with another thread's.
//
// Everything that differs by architecture comes from its *arch.Arch value: the register
// numbering, the callee-saved set a caller's frame keeps, where a call leaves its return
// address (RAOnStack, LR), how far the CFA lies above the caller's stack pointer
// (CFABias: s390x's 160-byte register save area), how a call instruction is recognised
// (CallBefore), and the signal frame (arch.SignalLayout: the trampoline's bytes, the
// offsets of the saved siginfo and struct sigcontext from the stack pointer at the
// trampoline, or a function that finds the siginfo, and the registers the context
// saves). The unwinder has no per-architecture code; package arch cites the kernel's
// layouts (arch/x86/include/asm/sigframe.h, arch/x86/include/uapi/asm/sigcontext.h,
// arch/arm64/kernel/signal.c, arch/arm64/include/uapi/asm/sigcontext.h,
// arch/powerpc/kernel/signal_64.c, arch/s390/kernel/signal.c) and the instruction
// encodings (Intel SDM vol. 2 CALL; Arm ARM BL, BLR, BLRAA).
package unwind

import (
	"errors"
	"fmt"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/dwarf/cfi"
)

// Memory reads process memory (io.ReaderAt with a 64-bit address). When n < len(p) the
// error says why; the unwinder keeps it wrapped in frame errors.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// CFI is one call frame table and the load bias to add to its addresses to get run-time
// addresses (0 when the table was read from process memory at its run-time address).
type CFI struct {
	Table *cfi.Table
	Bias  uint64
}

// Modules tells the unwinder about the code mapped in the process.
type Modules interface {
	// CFI returns the tables that may describe pc (a run-time address), best first:
	// typically the module's .eh_frame, then the .debug_frame of its debug file.
	CFI(pc uint64) []CFI
	// Executable reports whether addr lies in an executable mapping.
	Executable(addr uint64) bool
}

// FoundBy says how a frame was found.
type FoundBy string

const (
	FoundByContext      FoundBy = "context"
	FoundByCFI          FoundBy = "cfi"
	FoundByFramePointer FoundBy = "frame_pointer"
	FoundByScan         FoundBy = "scan"
	FoundBySignalFrame  FoundBy = "signal_frame"
	FoundByEHABI        FoundBy = "exidx"
	FoundByPrologue     FoundBy = "prologue"
)

// Registers holds register values in arch.RegNames order with a mask of the known ones.
type Registers struct {
	Val   []uint64
	Known uint64 // bit i set: Val[i] is known (arch register sets have at most 64 entries)
}

// Get returns register i and whether it is known.
func (r *Registers) Get(i int) (uint64, bool) {
	if i < 0 || i >= len(r.Val) || i >= 64 || r.Known&(1<<uint(i)) == 0 {
		return 0, false
	}
	return r.Val[i], true
}

// Set sets register i.
func (r *Registers) Set(i int, v uint64) {
	if i < 0 || i >= len(r.Val) || i >= 64 {
		return
	}
	r.Val[i] = v
	r.Known |= 1 << uint(i)
}

// Clear forgets register i.
func (r *Registers) Clear(i int) {
	if i >= 0 && i < 64 {
		r.Known &^= 1 << uint(i)
	}
}

func newRegisters(n int) Registers { return Registers{Val: make([]uint64, n)} }

func (r *Registers) clone() Registers {
	return Registers{Val: append([]uint64(nil), r.Val...), Known: r.Known}
}

// SignalFrame is what the kernel saved when it delivered a signal.
type SignalFrame struct {
	// Regs are the registers of the interrupted code (arch.RegNames order).
	Regs Registers
	// Context is the address of the saved struct sigcontext (uc_mcontext).
	Context uint64
	// SigInfo is the address of the saved siginfo_t: the signal that was being delivered,
	// which for a crash handler that re-raised is the original fault; 0 when the frame
	// saves none.
	SigInfo uint64
	// Layout is the architecture's description of this kind of signal frame.
	Layout *arch.SignalLayout
}

// Frame is one frame of a stack.
type Frame struct {
	Index int
	PC    uint64
	SP    uint64
	// CFA is the canonical frame address (the caller's stack pointer before the call),
	// known once the frame's caller was computed (HasCFA).
	CFA    uint64
	HasCFA bool
	// FoundBy says how PC and the registers were found.
	FoundBy FoundBy
	// ReturnAddress is true when PC is a return address (symbolize LookupPC = PC-1).
	ReturnAddress bool
	// Regs are the registers known in this frame.
	Regs Registers
	// Signal is set when this frame is the kernel's signal trampoline
	// ("<signal handler called>"); the next frame is the interrupted code.
	Signal *SignalFrame
	// Err says why this frame's caller could not be found, when that is an error
	// (unreadable memory, a malformed CFI entry, no strategy left); nil at a normal end.
	Err error
}

// LookupPC is the address to symbolize: PC-1 for a return address, else PC.
func (f *Frame) LookupPC() uint64 {
	if f.ReturnAddress && f.PC > 0 {
		return f.PC - 1
	}
	return f.PC
}

// Stop reasons returned by Unwinder.Err.
var (
	ErrMaxDepth       = errors.New("maximum depth reached")
	ErrCFANotIncrease = errors.New("the CFA did not increase: stack loop or corruption")
	ErrNoCaller       = errors.New("no unwinding strategy found a caller")
	ErrRegister       = errors.New("register not known in this frame")
)

// RegisterError is a rule that needs a register the frame does not know.
type RegisterError struct {
	DWARF uint64
}

func (e *RegisterError) Error() string {
	return fmt.Sprintf("DWARF register %d is not known in this frame", e.DWARF)
}

func (e *RegisterError) Unwrap() error { return ErrRegister }

// Defaults.
const (
	DefaultMaxDepth  = 1024
	DefaultScanWords = 256
)

// Config sets up an Unwinder.
type Config struct {
	Arch    *arch.Arch
	Mem     Memory
	Modules Modules
	// MaxDepth bounds the number of frames (DefaultMaxDepth when 0).
	MaxDepth int
	// ScanWords bounds a stack scan (DefaultScanWords when 0; negative disables scanning).
	ScanWords int
	// FaultEntry, when set, reports whether the function holding pc is entered by a
	// runtime that injected a call at a faulting instruction (Go's runtime.sigpanic): the
	// caller's pc found through its CFI is then the faulting instruction itself, not a
	// return address, and is looked up as it is.
	FaultEntry func(pc uint64) bool
	// ThreadStart, when set, reports whether a return address (its lookup pc, the
	// instruction-set bit cleared) is in the code that starts a thread: glibc's clone
	// child (sysdeps/unix/sysv/linux/*/clone.S, the code after the clone system call that
	// calls the thread's function and then exits; on 32-bit ARM it follows __clone's
	// sized body under an EXIDX_CANTUNWIND). A stack scan that finds such a return
	// address ends the stack at the frame it scanned from (start_thread), where gdb ends
	// it, instead of adding a guessed frame.
	ThreadStart func(pc uint64) bool
	// Outermost, when set, reports whether a return address (its lookup pc, the
	// instruction-set bit cleared) lies in code nothing called: the process's entry
	// function (the one holding AT_ENTRY, crt1's _start) or the code that starts a thread
	// (as ThreadStart). A frame there is the outermost one, whatever its CFI, back chain
	// or stack say beyond it (_start's CFI often leaves the return address column
	// unspecified, so its caller would repeat it or be read from the kernel's initial
	// stack); gdb stops there too unless told "set backtrace past-entry".
	Outermost func(pc uint64) bool
	// ContextIsReturn says the pc of the given registers is a return address (a saved
	// context such as a parked goroutine's g.sched): it is looked up at pc-1.
	ContextIsReturn bool
}

// Unwinder iterates over the frames of one thread:
//
//	u := unwind.New(cfg, thread.Regs)
//	for u.Next() {
//		f := u.Frame()
//	}
//	if err := u.Err(); err != nil { ... }
//
// Frames returned by Frame stay valid after Next.
type Unwinder struct {
	cfg  Config
	cur  *Frame
	next *Frame
	err  error
	done bool
	// crossing is true when the frame after cur may lie on another stack.
	crossing bool
	prevCFA  uint64
	hasPrev  bool
}

// New returns an Unwinder starting from regs (arch.RegNames order; missing trailing
// registers are unknown).
func New(cfg Config, regs []uint64) *Unwinder {
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.ScanWords == 0 {
		cfg.ScanWords = DefaultScanWords
	}
	u := &Unwinder{cfg: cfg}
	if cfg.Arch == nil || cfg.Arch.CallBefore == nil {
		u.err = fmt.Errorf("unwind: unsupported architecture")
		u.done = true
		return u
	}
	r := newRegisters(len(cfg.Arch.RegNames))
	for i := 0; i < len(regs) && i < len(r.Val); i++ {
		r.Set(i, regs[i])
	}
	pc, _ := r.Get(cfg.Arch.PC)
	sp, _ := r.Get(cfg.Arch.SP)
	u.next = &Frame{Index: 0, PC: pc, SP: sp, FoundBy: FoundByContext, Regs: r, ReturnAddress: cfg.ContextIsReturn}
	return u
}

// Next advances to the next frame and reports whether there is one.
func (u *Unwinder) Next() bool {
	if u.done || u.next == nil {
		u.done = true
		u.cur = nil
		return false
	}
	u.cur = u.next
	u.next = nil
	prevCrossing := u.crossing
	u.crossing = false
	if u.cur.Index+1 >= u.cfg.MaxDepth {
		u.err = ErrMaxDepth
		return true
	}
	next, err := u.step(u.cur)
	if err != nil {
		u.cur.Err = err
		u.err = err
		return true
	}
	if next == nil {
		return true // the outermost frame
	}
	// A return address keeps the bit that says which instruction set the caller runs
	// (32-bit ARM's Thumb bit in lr); the frame's pc is the address, as gdb shows it.
	if mb := u.cfg.Arch.ModeBit; mb != 0 {
		next.PC &^= mb
		if v, ok := next.Regs.Get(u.cfg.Arch.PC); ok {
			next.Regs.Set(u.cfg.Arch.PC, v&^mb)
		}
	}
	// The CFA must increase, unless a signal frame lies between (sigaltstack).
	if u.cur.Signal != nil {
		u.crossing = true
	} else if u.cur.HasCFA && !prevCrossing && u.hasPrev && u.cur.CFA <= u.prevCFA {
		u.cur.Err = fmt.Errorf("frame %d: CFA %#x after %#x: %w", u.cur.Index, u.cur.CFA, u.prevCFA, ErrCFANotIncrease)
		u.err = u.cur.Err
		return true
	}
	u.prevCFA, u.hasPrev = u.cur.CFA, u.cur.HasCFA
	u.next = next
	return true
}

// Frame returns the current frame.
func (u *Unwinder) Frame() *Frame { return u.cur }

// Err returns why the walk stopped before the outermost frame: a frame error, ErrMaxDepth or
// an error wrapping ErrCFANotIncrease. It is nil when the stack ended normally.
func (u *Unwinder) Err() error { return u.err }
