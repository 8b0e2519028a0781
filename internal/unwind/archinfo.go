package unwind

import (
	"bytes"
	"debug/elf"
	"fmt"

	"github.com/coredig/coredig/internal/arch"
)

// archInfo is what the unwinder needs to know of an architecture beyond package arch:
// the callee-saved registers, call instruction shapes, the signal trampoline and the
// kernel's signal frame layout.
type archInfo struct {
	a           *arch.Arch
	calleeSaved uint64 // mask of RegNames indices preserved across calls
	// callBefore reports whether the bytes just before a return address (code ends at it)
	// decode as a call instruction.
	callBefore func(code []byte) bool
	// trampoline are the bytes of the rt_sigreturn trampoline at its first instruction.
	trampoline []byte
	// sigFrame reads the kernel's rt_sigframe given the stack pointer at the trampoline.
	sigFrame func(u *Unwinder, sp uint64) (*SignalFrame, error)
	// raAtSP: a call pushes the return address on the stack (x86); else it goes to LR.
	raAtSP bool
}

var infoX86_64 = newInfoX86_64()
var infoAArch64 = newInfoAArch64()

func infoFor(a *arch.Arch) *archInfo {
	if a == nil {
		return nil
	}
	switch a.Machine {
	case elf.EM_X86_64:
		if a == arch.AMD64 {
			return infoX86_64
		}
	case elf.EM_AARCH64:
		if a == arch.ARM64 {
			return infoAArch64
		}
	}
	return nil
}

func mask(a *arch.Arch, names ...string) uint64 {
	var m uint64
	for _, n := range names {
		if i := a.Reg(n); i >= 0 && i < 64 {
			m |= 1 << uint(i)
		}
	}
	return m
}

func newInfoX86_64() *archInfo {
	a := arch.AMD64
	return &archInfo{
		a: a,
		// System V AMD64 psABI §3.2.1: rbx, rbp, r12-r15 (and rsp) are callee-saved; the
		// segment and TLS bases do not change across a call either.
		calleeSaved: mask(a, "rbx", "rbp", "r12", "r13", "r14", "r15", "rsp",
			"cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base"),
		callBefore: x86CallBefore,
		// __restore_rt: mov $0xf,%rax (rt_sigreturn); syscall.
		trampoline: []byte{0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05},
		sigFrame:   x86SigFrame,
		raAtSP:     true,
	}
}

func newInfoAArch64() *archInfo {
	a := arch.ARM64
	return &archInfo{
		a: a,
		// AAPCS64 §6.1.1: x19-x28, the frame pointer x29 and sp are callee-saved.
		calleeSaved: mask(a, "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26",
			"x27", "x28", "x29", "sp"),
		callBefore: arm64CallBefore,
		// __kernel_rt_sigreturn: mov x8, #139 (rt_sigreturn); svc #0.
		trampoline: []byte{0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4},
		sigFrame:   arm64SigFrame,
	}
}

// x86CallBefore recognises "call rel32" (e8) and "call r/m64" (ff /2, with an optional REX
// prefix) ending exactly where code ends.
func x86CallBefore(code []byte) bool {
	n := len(code)
	if n >= 5 && code[n-5] == 0xe8 {
		return true
	}
	for k := 2; k <= 7 && k <= n; k++ {
		if code[n-k] != 0xff {
			continue
		}
		modrm := code[n-k+1]
		if (modrm>>3)&7 != 2 {
			continue
		}
		l := 2
		mod, rm := modrm>>6, modrm&7
		if mod != 3 {
			if rm == 4 {
				if n-k+2 >= n {
					continue
				}
				sib := code[n-k+2]
				l++
				if mod == 0 && sib&7 == 5 {
					l += 4
				}
			}
			switch {
			case mod == 0 && rm == 5:
				l += 4 // rip-relative
			case mod == 1:
				l++
			case mod == 2:
				l += 4
			}
		}
		if l == k {
			return true
		}
	}
	return false
}

// arm64CallBefore recognises BL, BLR, BLRAA/BLRAB and BLRAAZ/BLRABZ as the instruction
// before the return address.
func arm64CallBefore(code []byte) bool {
	n := len(code)
	if n < 4 {
		return false
	}
	i := uint32(code[n-4]) | uint32(code[n-3])<<8 | uint32(code[n-2])<<16 | uint32(code[n-1])<<24
	switch {
	case i&0xfc000000 == 0x94000000: // BL imm26
		return true
	case i&0xfffffc1f == 0xd63f0000: // BLR Xn
		return true
	case i&0xfefff800 == 0xd63f0800: // BLRAA, BLRAB, BLRAAZ, BLRABZ
		return true
	}
	return false
}

// x86_64 signal frame: at __restore_rt the handler has returned past pretcode, so sp points
// at struct ucontext: uc_flags (8), uc_link (8), uc_stack (stack_t, 24), uc_mcontext (struct
// sigcontext, 256), uc_sigmask (8): 304 bytes, then struct siginfo.
const (
	x86UcMcontext = 40
	x86UcSize     = 304
	x86ScSize     = 256
)

var x86ScRegs = []string{"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi", "rsi",
	"rbp", "rbx", "rdx", "rax", "rcx", "rsp", "rip", "eflags"}

func x86SigFrame(u *Unwinder, sp uint64) (*SignalFrame, error) {
	a := u.cfg.Arch
	buf := make([]byte, x86ScSize)
	ctx := sp + x86UcMcontext
	if err := u.read(buf, ctx); err != nil {
		return nil, fmt.Errorf("reading the x86_64 sigcontext at %#x: %w", ctx, err)
	}
	r := newRegisters(len(a.RegNames))
	for i, n := range x86ScRegs {
		r.Set(a.Reg(n), a.ByteOrder.Uint64(buf[8*i:]))
	}
	// cs, gs, fs, ss (__pad0 before Linux 4.8) as 16-bit fields after eflags.
	for i, n := range []string{"cs", "gs", "fs"} {
		r.Set(a.Reg(n), uint64(a.ByteOrder.Uint16(buf[8*len(x86ScRegs)+2*i:])))
	}
	return &SignalFrame{Regs: r, Context: ctx, SigInfo: sp + x86UcSize}, nil
}

// aarch64 signal frame: at __kernel_rt_sigreturn sp points at struct rt_sigframe: struct
// siginfo (128 bytes), then struct ucontext: uc_flags (8), uc_link (8), uc_stack (24),
// uc_sigmask (8), __unused (120), uc_mcontext (struct sigcontext, 16-byte aligned, at 176):
// fault_address, regs[31], sp, pc, pstate.
const (
	arm64SigInfoSize = 128
	arm64UcMcontext  = 176
)

func arm64SigFrame(u *Unwinder, sp uint64) (*SignalFrame, error) {
	a := u.cfg.Arch
	ctx := sp + arm64SigInfoSize + arm64UcMcontext
	buf := make([]byte, 8*(1+31+3))
	if err := u.read(buf, ctx); err != nil {
		return nil, fmt.Errorf("reading the aarch64 sigcontext at %#x: %w", ctx, err)
	}
	r := newRegisters(len(a.RegNames))
	for i := 0; i < 34; i++ { // x0..x30, sp, pc, pstate: the order of arch.RegNames
		r.Set(i, a.ByteOrder.Uint64(buf[8+8*i:]))
	}
	return &SignalFrame{Regs: r, Context: ctx, SigInfo: sp}, nil
}

func (ai *archInfo) isTrampoline(code []byte) bool {
	return len(ai.trampoline) > 0 && bytes.HasPrefix(code, ai.trampoline)
}
