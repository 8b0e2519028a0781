package disasm

import (
	"fmt"
	"strings"

	"golang.org/x/arch/s390x/s390xasm"
)

// s390xText renders in in GNU syntax. s390xasm's extended-mnemonic table assumes operands
// the decoder may not have filled for a malformed vector instruction (e7 00 00 10 00 5c
// panics on a nil mask in x/arch v0.33.0's HandleExtndMnemonic); such bytes are no
// instruction coredig can show.
func s390xText(in s390xasm.Inst, pc uint64) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("s390xasm cannot render it: %v", r)
		}
	}()
	return s390xasm.GNUSyntax(in, pc), nil
}

// decodeS390X decodes one z/Architecture instruction (2, 4 or 6 bytes) with s390xasm, in
// GNU syntax. Calls (brasl, bras, basr, bas) and the return (br %r14) are told from the
// mnemonic. Memory operands are those of s390xMemOp's instructions, each D(X,B) or
// D(L,B) operand of them one MemOperand; Dest is the first operand of instructions
// that write a general register (s390xDest); Target is the destination of a relative
// branch or call (compare-and-branch ones included: they are branches). Branches
// through a register or D(X,B) have no Target.
func decodeS390X(code []byte, pc uint64) (Inst, error) {
	// The first two bits of the opcode give the length: 00 two bytes, 01 and 10 four,
	// 11 six (z/Architecture Principles of Operation, 5-5). s390xasm reads past the end
	// of a shorter buffer, so the length is checked first.
	if len(code) == 0 || len(code) < [4]int{2, 4, 4, 6}[code[0]>>6] {
		return Inst{}, &DecodeError{Arch: "s390x", PC: pc, Bytes: head(code, 6), Err: ErrTruncated}
	}
	in, err := s390xasm.Decode(code)
	if err != nil || in.Len <= 0 || in.Len > len(code) {
		if err == nil {
			err = ErrTruncated
		}
		return Inst{}, &DecodeError{Arch: "s390x", PC: pc, Bytes: head(code, 6), Err: err}
	}
	text, err := s390xText(in, pc)
	if err != nil {
		return Inst{}, &DecodeError{Arch: "s390x", PC: pc, Bytes: head(code, in.Len), Err: err}
	}
	f := strings.Fields(text)
	if len(f) == 0 {
		return Inst{}, &DecodeError{Arch: "s390x", PC: pc, Bytes: head(code, in.Len), Err: ErrTruncated}
	}
	mn := f[0]
	out := Inst{PC: pc, Len: in.Len, Bytes: head(code, in.Len), Text: text, Mnemonic: mn}
	switch {
	case mn == "br" && strings.HasSuffix(text, "%r14"):
		out.IsReturn = true
	case mn == "brasl" || mn == "bras" || mn == "basr" || mn == "bas":
		out.IsCall = true
	case strings.HasPrefix(mn, "j") || strings.HasPrefix(mn, "br") || strings.HasPrefix(mn, "bc"):
		out.IsBranch = true
	}
	out.NoFallThrough = out.IsReturn || mn == "j" || mn == "jg" || mn == "br"
	s390xOperands(&out, in, pc)
	return out, nil
}

// s390xAccess is how an instruction uses its storage operands: size bytes each (0:
// unknown or variable; s390xSizeLen: the SS format's length field plus one; s390xSizeRegs:
// size times the registers R1 to R3), first the operand written or read-modified-written
// when write, and for the SS format whether the second operand is also written (never).
type s390xAccess struct {
	size  int
	write bool // the first storage operand is written (stores, SI and SS moves, atomics)
	regs  bool // size is per register of R1..R3 (lm, stm and their forms)
}

// s390xSizeLen marks the SS format's operands, whose size is in the instruction.
const s390xSizeLen = -1

// s390xMemOp lists the instructions whose D(X,B) operands are storage accesses, by
// s390xasm's operation name, with sizes from the z/Architecture Principles of Operation
// (SA22-7832-13) instruction pages. Address computations (la, lay), shifts (whose
// D(B) is an amount), branches and prefetches are not here: they read no storage.
var s390xMemOp = func() map[string]s390xAccess {
	m := map[string]s390xAccess{}
	add := func(size int, write bool, ops ...string) {
		for _, op := range ops {
			m[op] = s390xAccess{size: size, write: write}
		}
	}
	// Loads and arithmetic, compares and logic with a storage source.
	add(1, false, "ic", "icy", "lb", "lgb", "llc", "llgc", "cli", "cliy", "tm", "tmy")
	add(2, false, "lh", "lhy", "lgh", "llh", "llgh", "lrvh", "ah", "ahy", "sh", "shy", "ch", "chy", "cgh",
		"mh", "mhy", "clhhsi", "chhsi", "lhrl", "lghrl", "llhrl", "llghrl", "chrl", "cghrl", "clhrl", "clghrl")
	add(4, false, "l", "ly", "lgf", "llgf", "lt", "ltgf", "llgt", "lrv", "le", "ley", "lde", "ldeb", "lat",
		"llgtat", "a", "ay", "agf", "al", "aly", "algf", "s", "sy", "sgf", "sl", "sly", "slgf", "n", "ny",
		"o", "oy", "x", "xy", "c", "cy", "cgf", "cl", "cly", "clgf", "ms", "msy", "msgf", "m", "mfy", "ml",
		"d", "dl", "dsgf", "alc", "slb", "aeb", "seb", "meeb", "deb", "ceb", "chsi", "clfhsi", "lrl", "lgfrl",
		"llgfrl", "crl", "cgfrl", "clrl", "clgfrl")
	add(8, false, "lg", "ltg", "lrvg", "ld", "ldy", "lgat", "ag", "alg", "sg", "slg", "ng", "og", "xg", "cg",
		"clg", "msg", "mg", "mlg", "dsg", "dlg", "alcg", "slbg", "adb", "sdb", "mdb", "ddb", "cdb", "cghsi",
		"clghsi", "lgrl", "cgrl", "clgrl")
	add(16, false, "lpq", "vl")
	// Stores.
	add(1, true, "stc", "stcy", "mvi", "mviy")
	add(2, true, "sth", "sthy", "strvh", "mvhhi", "sthrl")
	add(4, true, "st", "sty", "strv", "ste", "stey", "mvhi", "strl")
	add(8, true, "stg", "strvg", "std", "stdy", "mvghi", "stgrl")
	add(16, true, "stpq", "vst")
	// Read-modify-write: SI logic, storage-immediate adds, interlocked updates.
	add(1, true, "ni", "niy", "oi", "oiy", "xi", "xiy")
	add(4, true, "asi", "alsi", "cs", "csy", "laa", "laal", "lan", "lao", "lax")
	add(8, true, "agsi", "algsi", "csg", "cds", "cdsy", "laag", "laalg", "lang", "laog", "laxg")
	add(16, true, "cdsg")
	// The SS format's first operand, L+1 bytes; the second is read.
	add(s390xSizeLen, true, "mvc", "nc", "oc", "xc")
	add(s390xSizeLen, false, "clc")
	// Vector loads and stores whose length is in a register or up to a block boundary.
	add(0, false, "vlbb", "vll", "vlrep")
	add(0, true, "vstl")
	for _, op := range []string{"lm", "lmy", "lmh"} {
		m[op] = s390xAccess{size: 4, regs: true}
	}
	for _, op := range []string{"stm", "stmy", "stmh"} {
		m[op] = s390xAccess{size: 4, write: true, regs: true}
	}
	m["lmg"] = s390xAccess{size: 8, regs: true}
	m["stmg"] = s390xAccess{size: 8, write: true, regs: true}
	return m
}()

// s390xRelBranch are the relative branches and calls, by s390xasm's operation name:
// branch relative on condition (the j* mnemonics), on count and on index, compare and
// branch relative, and branch relative and save (calls).
var s390xRelBranch = map[string]bool{"brc": true, "brcl": true, "brct": true, "brctg": true, "brcth": true,
	"brxh": true, "brxle": true, "brxhg": true, "brxlg": true, "crj": true, "cgrj": true, "cij": true,
	"cgij": true, "clrj": true, "clgrj": true, "clij": true, "clgij": true, "bras": true, "brasl": true}

// s390xRel is the signed value of a relative-offset argument, in halfwords.
func s390xRel(a s390xasm.Arg) int64 {
	switch a := a.(type) {
	case s390xasm.RegIm12:
		return int64(int16(uint16(a)<<4) >> 4)
	case s390xasm.RegIm16:
		return int64(int16(a))
	case s390xasm.RegIm24:
		return int64(int32(uint32(a)<<8) >> 8)
	case s390xasm.RegIm32:
		return int64(int32(a))
	}
	return 0
}

// s390xPairOps write the even/odd register pair R1, R1+1 (POP, chapter 7: divide and
// multiply into a pair, load pair, compare double and swap).
var s390xPairOps = map[string]bool{"d": true, "dr": true, "dl": true, "dlr": true, "dlg": true, "dlgr": true,
	"dsg": true, "dsgr": true, "dsgf": true, "dsgfr": true, "m": true, "mr": true, "mfy": true, "ml": true,
	"mlr": true, "mg": true, "mgrk": true, "mlg": true, "mlgr": true, "lpq": true, "cds": true, "cdsy": true,
	"cdsg": true}

// s390xGPR names a general register argument as arch.S390X does ("r1"), "" for any
// other argument (floating-point, access and control registers included).
func s390xGPR(a s390xasm.Arg) string {
	if r, ok := a.(s390xasm.Reg); ok && r <= s390xasm.R15 {
		return strings.TrimPrefix(r.String(0), "%")
	}
	return ""
}

// s390xOperands fills Mem, RegArgs, Dest, AlsoWrites and Address of out.
func s390xOperands(out *Inst, in s390xasm.Inst, pc uint64) {
	op := in.Op.String()
	acc, isMem := s390xMemOp[op]
	var mems []MemOperand
	var regs []s390xasm.Reg
	var m3 int64 = -1 // the last immediate (a vector instruction's element size, M3)
	length := 0       // the SS format's L+1, which both its operands have
	args := in.Args[:]
	for i := 0; i < len(args) && args[i] != nil; i++ {
		switch a := args[i].(type) {
		case s390xasm.Reg:
			regs = append(regs, a)
			if r := s390xGPR(a); r != "" {
				out.RegArgs = append(out.RegArgs, r)
			}
		case s390xasm.Imm:
			m3 = int64(a)
		case s390xasm.RegIm12, s390xasm.RegIm16, s390xasm.RegIm24, s390xasm.RegIm32:
			// Relative (RI, RIE, RIL, MII): a signed halfword offset from the instruction's
			// address.
			off := 2 * s390xRel(a)
			switch {
			case op == "larl":
				out.Address = pc + uint64(off)
			case isMem:
				mems = append(mems, MemOperand{Base: "pc", PCValue: pc, Disp: off})
			case s390xRelBranch[op]:
				out.Target = pc + uint64(off)
				if !out.IsCall {
					out.IsBranch = true
				}
			}
		case s390xasm.Disp12, s390xasm.Disp20:
			// D(X,B), D(B), D(L,B) or D(V,B): the operand runs to its Base.
			var mo MemOperand
			if d, ok := a.(s390xasm.Disp20); ok {
				mo.Disp = int64(int32(uint32(d)<<12) >> 12) // 20 bits, signed
			} else {
				mo.Disp = int64(a.(s390xasm.Disp12))
			}
		operand:
			for i+1 < len(args) && args[i+1] != nil {
				switch b := args[i+1].(type) {
				case s390xasm.Index:
					if b != s390xasm.X0 { // index register 0 means none
						mo.Index, mo.Scale = s390xGPR(s390xasm.R0+s390xasm.Reg(b)), 1
					}
				case s390xasm.Len:
					length = int(b) + 1
				case s390xasm.VReg:
				case s390xasm.Base:
					if b != s390xasm.B0 { // base register 0 means none
						mo.Base = s390xGPR(s390xasm.R0 + s390xasm.Reg(b))
					}
					i++
					break operand
				default:
					break operand
				}
				i++
			}
			if mo.Base == "" && mo.Index != "" {
				mo.Base, mo.Index, mo.Scale = mo.Index, "", 0
			}
			mems = append(mems, mo)
		}
	}
	if isMem {
		for k := range mems {
			m := mems[k]
			m.AddrSize = 64
			m.Size = acc.size
			if acc.size == s390xSizeLen {
				m.Size = length
			}
			if acc.regs && len(regs) >= 2 && regs[0] <= s390xasm.R15 && regs[1] <= s390xasm.R15 {
				m.Size = acc.size * (int(regs[1]-regs[0])&15 + 1)
			}
			if op == "vlrep" && m3 >= 0 && m3 <= 3 {
				m.Size = 1 << m3
			}
			m.Write = acc.write && k == 0
			out.Mem = append(out.Mem, m)
		}
	}
	out.Dest = s390xDest(out, op, s390xGPR(in.Args[0]))
	if strings.HasPrefix(op, "brct") || strings.HasPrefix(op, "brx") {
		// Branch on count and on index count R1 down or step it.
		if r := s390xGPR(in.Args[0]); r != "" {
			out.AlsoWrites = append(out.AlsoWrites, r)
		}
	}
	if out.Dest == "" || len(regs) == 0 || regs[0] > s390xasm.R15 {
		return
	}
	r1 := regs[0]
	switch {
	case s390xPairOps[op]:
		out.AlsoWrites = append(out.AlsoWrites, s390xGPR(s390xasm.R0+(r1+1)&15))
	case acc.regs && len(regs) >= 2: // lm, lmg: R1 to R3, wrapping at r15
		for r := (r1 + 1) & 15; r != (regs[1]+1)&15; r = (r + 1) & 15 {
			out.AlsoWrites = append(out.AlsoWrites, s390xGPR(s390xasm.R0+r))
		}
	case op == "mvcl" || op == "clcl" || op == "mvcle" || op == "clcle":
		// Both register pairs step through the operands.
		out.AlsoWrites = append(out.AlsoWrites, s390xGPR(s390xasm.R0+(r1+1)&15))
		if len(regs) >= 2 && regs[1] <= s390xasm.R15 {
			out.AlsoWrites = append(out.AlsoWrites, s390xGPR(regs[1]), s390xGPR(s390xasm.R0+(regs[1]+1)&15))
		}
	case op == "mvst" || op == "clst" || op == "srst" || op == "srstu" || op == "cuse" || op == "cksm":
		if len(regs) >= 2 && regs[1] <= s390xasm.R15 {
			out.AlsoWrites = append(out.AlsoWrites, s390xGPR(regs[1]))
		}
	}
}

// s390xDest is the general register an instruction writes: its first operand when that
// is one (not f2 of "ldgr %f2,%r11"), unless the instruction is a store (its first operand is the source), a
// compare or test, a branch, call or return, or execute. Compare and swap, compare
// double and swap and convert to binary do write theirs.
func s390xDest(out *Inst, op, first string) string {
	if first == "" || out.IsBranch || out.IsCall || out.IsReturn {
		return ""
	}
	if acc, ok := s390xMemOp[op]; ok && acc.write && !strings.HasPrefix(op, "c") && !strings.HasPrefix(op, "la") {
		return "" // stores; interlocked loads (laa ...) and compare and swap write R1
	}
	switch {
	case op == "cs" || op == "csy" || op == "csg" || op == "cds" || op == "cdsy" || op == "cdsg" ||
		strings.HasPrefix(op, "cvb") || op == "clcl" || op == "clcle" || op == "clst" || op == "cuse" || op == "cksm":
	case strings.HasPrefix(op, "st"), strings.HasPrefix(op, "c"), strings.HasPrefix(op, "tm"),
		strings.HasPrefix(op, "b"), strings.HasPrefix(op, "j"), strings.HasPrefix(op, "ex"),
		strings.HasPrefix(op, "pfd"), op == "mvc", op == "mvi", op == "mviy":
		return ""
	}
	return first
}
