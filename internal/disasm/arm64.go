package disasm

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/arch/arm64/arm64asm"
)

func decodeARM64(code []byte, pc uint64) (Inst, error) {
	if len(code) < 4 {
		return Inst{}, &DecodeError{Arch: "aarch64", PC: pc, Bytes: head(code, 4), Err: ErrTruncated}
	}
	enc := binary.LittleEndian.Uint32(code)
	out := Inst{PC: pc, Len: 4, Bytes: head(code, 4)}
	if enc>>16 == 0 {
		// UDF #imm16 (permanently undefined; Arm ARM C6.2): arm64asm does not decode it.
		out.Mnemonic, out.Text, out.IsTrap, out.NoFallThrough = "udf", fmt.Sprintf("udf #%d", enc&0xffff), true, true
		return out, nil
	}
	in, err := arm64asm.Decode(code[:4])
	if err != nil {
		return Inst{}, &DecodeError{Arch: "aarch64", PC: pc, Bytes: head(code, 4), Err: err}
	}
	op := in.Op.String()
	out.Mnemonic = strings.ToLower(op)
	out.Text = objdumpARM64(arm64asm.GNUSyntax(in))
	switch in.Op {
	case arm64asm.BL, arm64asm.BLR:
		out.IsCall = true
	case arm64asm.B, arm64asm.BR, arm64asm.CBZ, arm64asm.CBNZ, arm64asm.TBZ, arm64asm.TBNZ:
		out.IsBranch = true
	case arm64asm.RET:
		out.IsReturn = true
	case arm64asm.BRK, arm64asm.HLT:
		out.IsTrap = true
	}
	switch out.Mnemonic {
	case "blraa", "blraaz", "blrab", "blrabz":
		out.IsCall = true
	case "braa", "braaz", "brab", "brabz":
		out.IsBranch = true
	case "retaa", "retab":
		out.IsReturn = true
	}
	_, cond := in.Args[0].(arm64asm.Cond)
	out.NoFallThrough = out.IsReturn || out.IsTrap || in.Op == arm64asm.BR || in.Op == arm64asm.B && !cond
	switch out.Mnemonic {
	case "braa", "braaz", "brab", "brabz":
		out.NoFallThrough = true
	}
	mem := arm64IsMem(op)
	lastReg := arm64asm.Reg(0)
	haveReg := false
	for _, a := range in.Args {
		if a == nil {
			break
		}
		switch a := a.(type) {
		case arm64asm.Reg:
			out.RegArgs = append(out.RegArgs, strings.ToLower(a.String()))
			lastReg, haveReg = a, true
		case arm64asm.RegSP:
			out.RegArgs = append(out.RegArgs, strings.ToLower(a.String()))
			lastReg, haveReg = arm64asm.Reg(a), true
		case arm64asm.PCRel:
			target := pc + uint64(int64(a))
			if in.Op == arm64asm.ADRP {
				target = pc&^0xfff + uint64(int64(a))
			}
			// Show the absolute address, as objdump does.
			out.Text = strings.Replace(out.Text, strings.ToLower(a.String()), fmt.Sprintf("%#x", target), 1)
			if out.IsCall || out.IsBranch {
				out.Target = target
			} else if in.Op == arm64asm.ADRP || in.Op == arm64asm.ADR {
				out.Address = target
			} else if mem {
				out.Mem = append(out.Mem, arm64Mem(op, lastReg, haveReg, MemOperand{Base: "pc", Disp: int64(a), PCValue: pc}))
			}
		case arm64asm.MemImmediate:
			if !mem {
				continue
			}
			m := MemOperand{Base: arm64RegSP(a.Base)}
			s := a.String()
			if a.Mode == arm64asm.AddrPostReg {
				// "[Xn], Xm": the post-increment is a register; the access is at Xn.
				m.PostIndex = true
			} else if i := strings.IndexByte(s, '#'); i >= 0 {
				j := i + 1
				for j < len(s) && (s[j] == '-' || s[j] >= '0' && s[j] <= '9') {
					j++
				}
				if v, err := strconv.ParseInt(s[i+1:j], 10, 64); err == nil {
					m.Disp = v
				}
				m.PostIndex = a.Mode == arm64asm.AddrPostIndex
				m.PreIndex = a.Mode == arm64asm.AddrPreIndex
			}
			out.Mem = append(out.Mem, arm64Mem(op, lastReg, haveReg, m))
		case arm64asm.MemExtend:
			if !mem {
				continue
			}
			m := MemOperand{Base: arm64RegSP(a.Base), Index: strings.ToLower(a.Index.String()), Scale: 1}
			m.Extend = strings.ToLower(a.Extend.String())
			if !a.ShiftMustBeZero && a.Amount > 0 && a.Amount < 8 {
				m.Scale = 1 << a.Amount
			}
			out.Mem = append(out.Mem, arm64Mem(op, lastReg, haveReg, m))
		}
	}
	out.Dest = arm64Dest(&out)
	return out, nil
}

// arm64Dest is the register an instruction writes: the first register operand (the
// Arm ARM's operand order puts the destination first) unless the instruction writes no
// register (stores, compares, tests, nop, branches, calls and returns).
func arm64Dest(in *Inst) string {
	if len(in.RegArgs) == 0 || in.IsBranch || in.IsCall || in.IsReturn {
		return ""
	}
	switch in.Mnemonic {
	case "str", "stur", "stp", "strb", "strh", "cmp", "cmn", "tst", "nop":
		return ""
	}
	return in.RegArgs[0]
}

// arm64IsMem reports whether op (arm64asm spelling) is a load, store or atomic memory
// operation whose memory argument is accessed (prefetches are not).
func arm64IsMem(op string) bool {
	if strings.HasPrefix(op, "PRFM") || strings.HasPrefix(op, "PRFUM") {
		return false
	}
	return strings.HasPrefix(op, "LD") || strings.HasPrefix(op, "ST") ||
		strings.HasPrefix(op, "CAS") || strings.HasPrefix(op, "SWP")
}

// arm64Mem fills Size and Write of m from the operation and its data register.
func arm64Mem(op string, data arm64asm.Reg, haveData bool, m MemOperand) MemOperand {
	m.AddrSize = 64
	m.Write = strings.HasPrefix(op, "ST") || strings.HasPrefix(op, "CAS") || strings.HasPrefix(op, "SWP")
	for _, p := range []string{"LDADD", "LDCLR", "LDEOR", "LDSET", "LDSMAX", "LDSMIN", "LDUMAX", "LDUMIN"} {
		if strings.HasPrefix(op, p) {
			m.Write = true
		}
	}
	size := 0
	if haveData {
		switch {
		case data >= arm64asm.W0 && data <= arm64asm.WZR:
			size = 4
		case data >= arm64asm.X0 && data <= arm64asm.XZR:
			size = 8
		case data >= arm64asm.B0 && data <= arm64asm.B31:
			size = 1
		case data >= arm64asm.H0 && data <= arm64asm.H31:
			size = 2
		case data >= arm64asm.S0 && data <= arm64asm.S31:
			size = 4
		case data >= arm64asm.D0 && data <= arm64asm.D31:
			size = 8
		case data >= arm64asm.Q0 && data <= arm64asm.Q31:
			size = 16
		}
	}
	switch {
	case strings.HasPrefix(op, "LD1") || strings.HasPrefix(op, "LD2") || strings.HasPrefix(op, "LD3") ||
		strings.HasPrefix(op, "LD4") || strings.HasPrefix(op, "ST1") || strings.HasPrefix(op, "ST2") ||
		strings.HasPrefix(op, "ST3") || strings.HasPrefix(op, "ST4"):
		size = 0 // vector structures: not modelled
	case strings.HasSuffix(op, "SW"):
		size = 4
	case strings.HasSuffix(op, "B") && size <= 8 && size != 1 && !strings.HasPrefix(op, "LDNP"):
		size = 1
	case strings.HasSuffix(op, "H") && size <= 8 && size != 2:
		size = 2
	}
	switch op {
	case "LDP", "STP", "LDNP", "STNP", "LDPSW", "LDXP", "LDAXP", "STXP", "STLXP", "CASP", "CASPA", "CASPL", "CASPAL":
		size *= 2
	}
	m.Size = size
	return m
}

func arm64RegSP(r arm64asm.RegSP) string {
	return strings.ToLower(r.String())
}
