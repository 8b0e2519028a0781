// Package disasm decodes single machine instructions of the architectures coredig reads
// (x86_64, i386, aarch64, riscv64, ppc64le, s390x, and 32-bit ARM's A32 and T32) into one small,
// architecture-neutral Inst: its text in the usual
// syntax (x86_64 AT&T as printed by GNU objdump, or Intel; GNU syntax elsewhere), whether
// it is a call, branch, return or trap, its direct target, and its memory operands in a
// form EffectiveAddr can evaluate against a thread's registers.
//
// The decoders are golang.org/x/arch's x86asm, arm64asm, riscv64asm, ppc64asm, s390xasm
// and armasm, and this package's own T32 (Thumb-2) decoder (thumb.go), which x/arch lacks;
// this package adds the classification, the memory-operand model and the window of
// instructions around a pc (Window). It never panics on any input bytes.
//
// Limits: x86 is decoded in 64-bit and 32-bit protected mode, aarch64 in A64 only, and
// 32-bit ARM in A32 and T32: code whose instruction set nobody said (Mode) is refused
// with ErrModeUnknown, never guessed. A T32 instruction decoded alone has no IT state,
// so inside an IT block its text lacks the condition objdump adds (a window decoded from
// the function's start has it: ThumbIT, ThumbITBefore); its Advanced SIMD, QADD family,
// halfword multiplies and system instructions are ErrThumbUndecoded errors whose
// DecodeError.Len is still the instruction's length. armasm has no VLDM, VSTM, VPUSH or
// VPOP; this package decodes them. Memory operands cover explicit operands and the implicit stack accesses of push/pop/call/ret
// (x86); vector structure loads and stores on aarch64 (ld1..ld4) report Size 0 (unknown). Access sizes and read/write
// direction follow the Intel SDM vol. 2 and the Arm ARM (DDI 0487) instruction pages.
// On ppc64le the loads and stores of the Power ISA 3.1 (D, DS, DQ, X and prefixed
// forms) have memory operands; on s390x the instructions of the z/Architecture
// Principles of Operation that read or write storage through D(X,B), D(L,B) or a
// relative-long offset (loads, stores, storage-operand arithmetic and compares, SI, SIL
// and SS moves and logic, load and store multiple, interlocked updates). Their string,
// block and other long-running instructions (mvcl, mvst, srst, ppc64 lswi) have none.
package disasm

import (
	"errors"
	"fmt"

	"github.com/coredig/coredig/internal/arch"
)

// Syntax selects the assembler syntax of Inst.Text.
type Syntax int

const (
	// SyntaxDefault is AT&T for x86_64 and GNU for aarch64.
	SyntaxDefault Syntax = iota
	// SyntaxATT is the AT&T syntax of GNU objdump (x86_64 only; aarch64 uses GNU).
	SyntaxATT
	// SyntaxIntel is the Intel syntax (x86_64 only; aarch64 uses GNU).
	SyntaxIntel
)

// MaxInstLen is the longest instruction of any supported architecture (x86: 15 bytes).
const MaxInstLen = 15

// Inst is one decoded instruction.
type Inst struct {
	PC    uint64
	Len   int
	Bytes []byte
	// Text is the whole instruction in the chosen syntax, mnemonic and operands separated
	// by one space (direct branch targets as absolute hex addresses).
	Text string
	// Mnemonic is the decoder's operation name in lower case ("mov", "div", "ldr", "ud2"),
	// independent of the syntax.
	Mnemonic string
	// Mem lists the memory locations the instruction accesses.
	Mem []MemOperand
	// RegArgs are the register operands in the architecture manual's operand order (Intel
	// order for x86: destination first), lower case as decoded ("eax", "w1").
	RegArgs  []string
	IsCall   bool
	IsBranch bool // jumps, conditional or not (calls and returns are not branches)
	IsReturn bool
	// Target is the destination of a direct branch or call, 0 if none.
	Target uint64
	// Imm is the instruction's immediate operand when HasImm (x86: "add $0x2e1f,%eax").
	Imm    int64
	HasImm bool
	// Address is the address an aarch64 adr or adrp, or an x86 rip-relative lea,
	// computes into its register; 0 if none.
	Address uint64
	// IsTrap is set for instructions whose purpose is to trap: ud2, int3, int n (x86),
	// brk, udf, hlt (aarch64).
	IsTrap bool
	// NoFallThrough: execution does not go on to the next instruction. It is set for
	// unconditional jumps (x86 jmp, ljmp; aarch64 b, br, braa, brab and their z forms),
	// returns, and traps (IsTrap, int n included: the program is not expected to come
	// back from one). Conditional branches and calls fall through.
	NoFallThrough bool
	// Dest is the register the instruction writes, as decoded ("eax", "w1"); "" when it
	// writes none or this package does not know it. It is the first register operand
	// except for branches, calls and returns, x86 stores (the first memory operand is
	// written), x86 cmp, test, push and nop, and aarch64 str, stur, stp, strb, strh,
	// cmp, cmn, tst and nop. The other aarch64 stores (stnp, stlr, sttr, ...) still
	// report their first register: a known gap. On ppc64 stores (the update forms'
	// Dest is their base), cache operations, moves to special registers and
	// compares (whose first operand is a condition field) write none; on s390x
	// stores, compares and tests, and moves to floating-point registers (ldgr) write
	// none, while compare and swap does write its first register.
	Dest string
	// AlsoWrites are the other registers the instruction writes besides Dest, where this
	// package knows them: the address register of ppc64 update-form loads, the
	// registers after the first of ppc64 lmw and s390x lm, lmg, the odd register of
	// s390x's even/odd register pairs (dsgr, mlgr, ...) and the counter of s390x's
	// branch on count and index (brctg).
	AlsoWrites []string
}

// MemOperand is one memory access of an instruction: Segment:[Base + Index*Scale + Disp]
// with the aarch64 addressing-mode details beside it.
type MemOperand struct {
	Base, Index string // register names as decoded ("rax", "eax", "rip", "x1", "w2", "sp"); "" if none
	Scale       int    // multiplier of Index (aarch64: 1 << shift amount)
	Disp        int64
	Size        int  // bytes accessed; 0 when unknown
	Write       bool // the access stores (read-modify-write instructions set it too)
	Segment     string
	// AddrSize is the address width in bits (64, or 32 with an x86 0x67 prefix).
	AddrSize int
	// PCValue is the value the pc-relative base ("rip", "pc") stands for: the next
	// instruction's address on x86_64, the instruction's own address on aarch64.
	PCValue uint64
	// Extend is the aarch64 index extension ("uxtw", "sxtw", "sxtx", "uxtx", "lsl"), "".
	Extend string
	// PostIndex: the access uses Base alone, then Base += Disp (aarch64 "[x0], #16").
	// PreIndex: the access uses Base+Disp and writes it back ("[x0, #16]!").
	PostIndex, PreIndex bool
	// Implicit marks accesses not written as an operand (x86 push/pop/call/ret stack).
	Implicit bool
}

// DecodeError says why bytes at a pc did not decode.
type DecodeError struct {
	Arch  string
	PC    uint64
	Bytes []byte
	Err   error
	// Len is the length of the instruction that did not decode when the bytes say it
	// (T32: 2 or 4 from the first halfword), 0 when unknown.
	Len int
}

func (e *DecodeError) Error() string {
	if errors.Is(e.Err, ErrModeUnknown) {
		// Not the bytes' fault: nothing was tried.
		return fmt.Sprintf("%s at %#x: %v", e.Arch, e.PC, e.Err)
	}
	return fmt.Sprintf("%s: cannot decode instruction at %#x (bytes % x): %v", e.Arch, e.PC, e.Bytes, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ErrTruncated is wrapped when the bytes end inside the instruction.
var ErrTruncated = errors.New("instruction truncated")

// ErrLonePrefix is wrapped when x86 prefix bytes are followed by no valid instruction.
var ErrLonePrefix = errors.New("prefix without an instruction")

// ErrUnsupportedArch is returned for an architecture this package does not decode.
var ErrUnsupportedArch = errors.New("unsupported architecture")

// Supported reports whether instructions of a can be decoded. On 32-bit ARM that needs
// the instruction set (DecodeMode with ModeARM for A32, ModeThumb for T32, the Thumb-2
// that Debian's armhf code mostly is); a T32 instruction alone has no IT-block state.
func Supported(a *arch.Arch) bool {
	switch a.Name {
	case arch.AMD64.Name, arch.X32.Name, arch.I386.Name, arch.ARM64.Name, arch.PPC64LE.Name, arch.S390X.Name, arch.RISCV64.Name, arch.ARM.Name:
		return true
	}
	return false
}

// Decode decodes the instruction at the start of code, which sits at address pc, in the
// default syntax.
func Decode(a *arch.Arch, code []byte, pc uint64) (Inst, error) {
	return DecodeSyntax(a, code, pc, SyntaxDefault)
}

// DecodeSyntax is Decode with a chosen syntax. On 32-bit ARM, whose instruction set it
// does not know, it decodes nothing (ErrModeUnknown): use DecodeMode.
func DecodeSyntax(a *arch.Arch, code []byte, pc uint64, syn Syntax) (Inst, error) {
	return DecodeMode(a, code, pc, syn, ModeDefault)
}

// DecodeMode is DecodeSyntax for code in a given instruction set (ThreadMode,
// SymbolMode): on 32-bit ARM, ModeARM decodes A32, ModeThumb T32, ModeData a ".word",
// and ModeDefault says ErrModeUnknown. The other architectures ignore mode.
func DecodeMode(a *arch.Arch, code []byte, pc uint64, syn Syntax, mode Mode) (Inst, error) {
	if a == nil {
		return Inst{}, fmt.Errorf("disasm: %w: nil architecture", ErrUnsupportedArch)
	}
	switch a.Name {
	case arch.AMD64.Name, arch.X32.Name:
		return decodeX86(code, pc, syn, 64, a.Name)
	case arch.I386.Name:
		return decodeX86(code, pc, syn, 32, a.Name)
	case arch.ARM64.Name:
		return decodeARM64(code, pc)
	case arch.PPC64LE.Name:
		return decodePPC64LE(code, pc)
	case arch.S390X.Name:
		return decodeS390X(code, pc)
	case arch.RISCV64.Name:
		return decodeRISCV64(code, pc)
	case arch.ARM.Name:
		return decodeARM(code, pc, mode)
	}
	return Inst{}, fmt.Errorf("disasm: %w: %s", ErrUnsupportedArch, a.Name)
}

func head(code []byte, n int) []byte {
	if len(code) > n {
		code = code[:n]
	}
	return append([]byte(nil), code...)
}
