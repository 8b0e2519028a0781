package disasm

import (
	"errors"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

func noSym(uint64) (string, uint64) { return "", 0 }

// decodeX86 decodes one instruction in 64-bit mode (x86_64) or 32-bit protected mode
// (i386); name is the architecture's name for errors.
func decodeX86(code []byte, pc uint64, syn Syntax, mode int, name string) (Inst, error) {
	in, err := x86asm.Decode(code, mode)
	if err != nil {
		if errors.Is(err, x86asm.ErrTruncated) {
			err = ErrTruncated
		}
		return Inst{}, &DecodeError{Arch: name, PC: pc, Bytes: head(code, MaxInstLen), Err: err}
	}
	if in.Op == 0 {
		// x86asm returns a lone prefix as an instruction when what follows it is cut off
		// or invalid.
		err = ErrTruncated
		if len(code) >= MaxInstLen {
			err = ErrLonePrefix
		}
		return Inst{}, &DecodeError{Arch: name, PC: pc, Bytes: head(code, MaxInstLen), Err: err}
	}
	if in.Len <= 0 || in.Len > len(code) || in.Len > MaxInstLen {
		return Inst{}, &DecodeError{Arch: name, PC: pc, Bytes: head(code, MaxInstLen), Err: ErrTruncated}
	}
	out := Inst{PC: pc, Len: in.Len, Bytes: head(code, in.Len), Mnemonic: strings.ToLower(in.Op.String())}
	if syn == SyntaxIntel {
		out.Text = x86asm.IntelSyntax(in, pc, noSym)
	} else {
		out.Text = objdumpATT(in, x86asm.GNUSyntax(in, pc, noSym))
	}
	switch in.Op {
	case x86asm.CALL, x86asm.LCALL:
		out.IsCall = true
	case x86asm.JMP, x86asm.LJMP, x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE,
		x86asm.JG, x86asm.JGE, x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP,
		x86asm.JNS, x86asm.JO, x86asm.JP, x86asm.JS, x86asm.JCXZ, x86asm.JECXZ, x86asm.JRCXZ,
		x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
		out.IsBranch = true
	case x86asm.RET, x86asm.LRET, x86asm.IRET, x86asm.IRETD, x86asm.IRETQ:
		out.IsReturn = true
	case x86asm.UD0, x86asm.UD1, x86asm.UD2, x86asm.INT, x86asm.INTO, x86asm.ICEBP:
		out.IsTrap = true
	}
	if r, ok := in.Args[0].(x86asm.Rel); ok && (out.IsCall || out.IsBranch) {
		out.Target = pc + uint64(in.Len) + uint64(int64(r))
	}
	nargs := 0
	for _, a := range in.Args {
		if a == nil {
			break
		}
		nargs++
	}
	for i := 0; i < nargs; i++ {
		switch a := in.Args[i].(type) {
		case x86asm.Reg:
			out.RegArgs = append(out.RegArgs, x86RegName(a))
		case x86asm.Imm:
			out.Imm, out.HasImm = int64(a), true
		case x86asm.Mem:
			if in.Op == x86asm.LEA && (a.Base == x86asm.RIP || a.Base == x86asm.EIP) && a.Index == 0 {
				out.Address = pc + uint64(in.Len) + uint64(a.Disp)
			}
			if !x86Accesses(in.Op) {
				continue
			}
			m := MemOperand{
				Base: x86RegName(a.Base), Scale: int(a.Scale), Disp: a.Disp,
				Size: in.MemBytes, Segment: x86RegName(a.Segment), AddrSize: in.AddrSize,
				Write: i == 0 && x86WritesFirst(in.Op, nargs),
			}
			if a.Index != 0 {
				m.Index = x86RegName(a.Index)
			} else {
				m.Scale = 0
			}
			if m.Size == 0 {
				m.Size = in.DataSize / 8
			}
			if m.AddrSize == 0 {
				m.AddrSize = mode
			}
			switch a.Base {
			case x86asm.RIP, x86asm.EIP, x86asm.IP:
				m.PCValue = pc + uint64(in.Len)
			}
			out.Mem = append(out.Mem, m)
		}
	}
	out.NoFallThrough = out.IsReturn || out.IsTrap || in.Op == x86asm.JMP || in.Op == x86asm.LJMP
	out.Dest = x86Dest(in.Op, &out)
	// Implicit stack accesses (Intel SDM vol. 2: PUSH, CALL, POP, RET, LEAVE).
	word, sp, fp := 8, "rsp", "rbp"
	if mode == 32 {
		word, sp, fp = 4, "esp", "ebp"
	}
	stack := func(base string, disp int64, write bool) {
		out.Mem = append(out.Mem, MemOperand{Base: base, Disp: disp, Size: word, Write: write, AddrSize: mode, Implicit: true})
	}
	switch in.Op {
	case x86asm.PUSH, x86asm.CALL, x86asm.PUSHFQ, x86asm.PUSHFD:
		stack(sp, -int64(word), true)
	case x86asm.POP, x86asm.RET, x86asm.POPFQ, x86asm.POPFD:
		stack(sp, 0, false)
	case x86asm.LEAVE:
		stack(fp, 0, false)
	}
	return out, nil
}

// x86Dest is the register an instruction writes: the first register operand (Intel
// order puts the destination first) unless the instruction writes no register (cmp,
// test, push, nop, jumps, calls, returns) or its written operand is the memory one (a
// store).
func x86Dest(op x86asm.Op, in *Inst) string {
	if len(in.RegArgs) == 0 || in.IsBranch || in.IsCall || in.IsReturn {
		return ""
	}
	switch op {
	case x86asm.CMP, x86asm.TEST, x86asm.PUSH, x86asm.NOP:
		return ""
	}
	if len(in.Mem) > 0 && in.Mem[0].Write && !in.Mem[0].Implicit {
		return "" // a store
	}
	return in.RegArgs[0]
}

// x86Accesses reports whether a memory-shaped operand of op is really accessed.
func x86Accesses(op x86asm.Op) bool {
	switch op {
	case x86asm.LEA, x86asm.NOP, x86asm.PREFETCHNTA, x86asm.PREFETCHT0, x86asm.PREFETCHT1,
		x86asm.PREFETCHT2, x86asm.PREFETCHW:
		return false
	}
	return true
}

// x86WritesFirst reports whether the first (Intel-order) operand of op is written.
func x86WritesFirst(op x86asm.Op, nargs int) bool {
	name := op.String()
	if strings.HasPrefix(name, "F") && !strings.HasPrefix(name, "FX") {
		// x87: only the store forms write memory.
		return strings.HasPrefix(name, "FST") || strings.HasPrefix(name, "FIST") ||
			strings.HasPrefix(name, "FNST") || strings.HasPrefix(name, "FBSTP")
	}
	switch op {
	case x86asm.CMP, x86asm.TEST, x86asm.BT, x86asm.COMISS, x86asm.COMISD, x86asm.UCOMISS,
		x86asm.UCOMISD, x86asm.PTEST, x86asm.CMPSB, x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ,
		x86asm.PUSH, x86asm.CALL, x86asm.JMP, x86asm.LCALL, x86asm.LJMP, x86asm.MUL,
		x86asm.DIV, x86asm.IDIV, x86asm.IMUL, x86asm.LGDT, x86asm.LIDT, x86asm.CLFLUSH:
		return false
	case x86asm.FXSAVE, x86asm.FXSAVE64, x86asm.XSAVE, x86asm.XSAVE64, x86asm.STMXCSR:
		return true
	}
	if nargs == 1 {
		switch op {
		case x86asm.INC, x86asm.DEC, x86asm.NEG, x86asm.NOT, x86asm.POP:
			return true
		}
		return strings.HasPrefix(name, "SET")
	}
	return true
}

// x86RegName is the lower-case GNU name of a register without "%", "" for none.
func x86RegName(r x86asm.Reg) string {
	switch {
	case r == 0:
		return ""
	case r >= x86asm.R8L && r <= x86asm.R15L:
		return "r" + itoa(int(r-x86asm.R8L)+8) + "d"
	case r >= x86asm.R8B && r <= x86asm.R15B:
		return "r" + itoa(int(r-x86asm.R8B)+8) + "b"
	case r == x86asm.SPB:
		return "spl"
	case r == x86asm.BPB:
		return "bpl"
	case r == x86asm.SIB:
		return "sil"
	case r == x86asm.DIB:
		return "dil"
	}
	return strings.ToLower(r.String())
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}
