package disasm

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/coredig/coredig/internal/arch"
	"golang.org/x/arch/riscv64/riscv64asm"
)

// decodeRISCV64 decodes one RV64GC instruction (2 bytes compressed, else 4) with
// riscv64asm, which expands compressed instructions to their base form ("c.ldsp" is
// "ld"). The text is riscv64asm's GNU syntax with registers by their psABI names (a0,
// sp, s0) as objdump prints them, and direct branch targets as absolute addresses.
// Calls are jal and jalr that write ra; the return is jalr zero, 0(ra); loads and stores
// give one memory operand base+offset with its size (RISC-V unprivileged ISA §2.6, §12,
// §13, §16). Atomics (lr/sc/amo*) and vector accesses are not modelled as memory operands.
func decodeRISCV64(code []byte, pc uint64) (Inst, error) {
	if len(code) < 2 || code[0]&3 == 3 && len(code) < 4 {
		return Inst{}, &DecodeError{Arch: "riscv64", PC: pc, Bytes: head(code, 4), Err: ErrTruncated}
	}
	in, err := riscv64asm.Decode(code)
	if err != nil || in.Len <= 0 || in.Len > len(code) {
		if err == nil {
			err = ErrTruncated
		}
		return Inst{}, &DecodeError{Arch: "riscv64", PC: pc, Bytes: head(code, 4), Err: err}
	}
	text := riscv64asm.GNUSyntax(in)
	out := Inst{PC: pc, Len: in.Len, Bytes: head(code, in.Len)}
	rd, _ := in.Args[0].(riscv64asm.Reg)
	switch in.Op {
	case riscv64asm.JAL:
		off, _ := in.Args[1].(riscv64asm.Simm)
		out.Target = pc + uint64(int64(off.Imm))
		out.IsCall = rd == riscv64asm.X1
		out.IsBranch = !out.IsCall
		out.NoFallThrough = rd == riscv64asm.X0
		text = replaceLastArg(text, fmt.Sprintf("%#x", out.Target))
	case riscv64asm.JALR:
		ro, _ := in.Args[1].(riscv64asm.RegOffset)
		switch {
		case rd == riscv64asm.X1:
			out.IsCall = true
		case rd == riscv64asm.X0 && ro.OfsReg == riscv64asm.X1 && ro.Ofs.Imm == 0:
			out.IsReturn, out.NoFallThrough = true, true
		default:
			out.IsBranch, out.NoFallThrough = true, rd == riscv64asm.X0
		}
	case riscv64asm.BEQ, riscv64asm.BNE, riscv64asm.BLT, riscv64asm.BGE, riscv64asm.BLTU, riscv64asm.BGEU:
		off, _ := in.Args[2].(riscv64asm.Simm)
		out.Target = pc + uint64(int64(off.Imm))
		out.IsBranch = true
		text = replaceLastArg(text, fmt.Sprintf("%#x", out.Target))
	case riscv64asm.EBREAK:
		out.IsTrap, out.NoFallThrough = true, true
	}
	if size, write, ok := riscv64MemAccess(in.Op); ok {
		if ro, ok := in.Args[1].(riscv64asm.RegOffset); ok {
			out.Mem = []MemOperand{{Base: riscv64RegName(ro.OfsReg), Disp: int64(ro.Ofs.Imm), Size: size,
				Write: write, AddrSize: 64}}
		}
	}
	for _, a := range in.Args {
		if r, ok := a.(riscv64asm.Reg); ok {
			out.RegArgs = append(out.RegArgs, riscv64RegName(r))
		}
	}
	if _, write, ok := riscv64MemAccess(in.Op); !(ok && write) && !out.IsCall && !out.IsBranch && !out.IsReturn &&
		len(out.RegArgs) > 0 && in.Args[0] != nil {
		if r, ok := in.Args[0].(riscv64asm.Reg); ok && r != riscv64asm.X0 {
			out.Dest = riscv64RegName(r)
		}
	}
	out.Text = riscv64XReg.ReplaceAllStringFunc(text, func(x string) string {
		var n int
		fmt.Sscanf(x, "x%d", &n)
		return riscv64RegName(riscv64asm.X0 + riscv64asm.Reg(n))
	})
	out.Mnemonic = strings.Fields(out.Text)[0]
	return out, nil
}

var riscv64XReg = regexp.MustCompile(`\bx([0-9]|[12][0-9]|3[01])\b`)

// riscv64RegName is the psABI name of an integer register ("zero", "ra", "a0"), as
// arch.RISCV64 names it; other registers keep riscv64asm's name (f0, v0).
func riscv64RegName(r riscv64asm.Reg) string {
	switch {
	case r == riscv64asm.X0:
		return "zero"
	case r > riscv64asm.X0 && r <= riscv64asm.X31:
		return arch.RISCV64.RegNames[r-riscv64asm.X0]
	}
	return strings.ToLower(r.String())
}

// replaceLastArg replaces the text after the last comma (or the only operand) with s.
func replaceLastArg(text, s string) string {
	if i := strings.LastIndexAny(text, ", "); i >= 0 {
		return text[:i+1] + s
	}
	return text
}

// riscv64MemAccess gives the size and direction of a load or store.
func riscv64MemAccess(op riscv64asm.Op) (size int, write, ok bool) {
	switch op {
	case riscv64asm.LB, riscv64asm.LBU:
		return 1, false, true
	case riscv64asm.LH, riscv64asm.LHU:
		return 2, false, true
	case riscv64asm.LW, riscv64asm.LWU, riscv64asm.FLW:
		return 4, false, true
	case riscv64asm.LD, riscv64asm.FLD:
		return 8, false, true
	case riscv64asm.SB:
		return 1, true, true
	case riscv64asm.SH:
		return 2, true, true
	case riscv64asm.SW, riscv64asm.FSW:
		return 4, true, true
	case riscv64asm.SD, riscv64asm.FSD:
		return 8, true, true
	}
	return 0, false, false
}
