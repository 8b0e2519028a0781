package disasm

import (
	"encoding/binary"
	"strings"

	"golang.org/x/arch/ppc64/ppc64asm"
)

// decodePPC64LE decodes one little-endian Power ISA instruction with ppc64asm, in GNU
// syntax. Calls, returns and branches are told from the mnemonic (Power ISA book I, 2.4:
// the "l" forms set the link register). Memory operands are those of ppc64Mem's
// loads and stores (ppc64MemOp); Dest is the first register operand of instructions
// that write one (ppc64Dest).
func decodePPC64LE(code []byte, pc uint64) (Inst, error) {
	if len(code) < 4 {
		return Inst{}, &DecodeError{Arch: "ppc64le", PC: pc, Bytes: head(code, 4), Err: ErrTruncated}
	}
	in, err := ppc64asm.Decode(code, binary.LittleEndian)
	if err != nil || in.Len <= 0 || in.Len > len(code) {
		if err == nil {
			err = ErrTruncated
		}
		return Inst{}, &DecodeError{Arch: "ppc64le", PC: pc, Bytes: head(code, 4), Err: err}
	}
	text := ppc64asm.GNUSyntax(in, pc)
	mn := strings.Fields(text)[0]
	out := Inst{PC: pc, Len: in.Len, Bytes: head(code, in.Len), Text: text, Mnemonic: mn}
	switch {
	case mn == "blr":
		out.IsReturn = true
	case mn == "bl" || mn == "bla" || mn == "bctrl" || mn == "blrl" || strings.HasPrefix(mn, "bcl"):
		out.IsCall = true
	case strings.HasPrefix(mn, "b"):
		out.IsBranch = true
	case mn == "trap" || mn == "tw" || mn == "td" || strings.HasPrefix(mn, "tw") || strings.HasPrefix(mn, "td"):
		out.IsTrap = true
	}
	for _, a := range in.Args {
		if r, ok := a.(ppc64asm.PCRel); ok && (out.IsCall || out.IsBranch) {
			out.Target = pc + uint64(int64(r))
		}
	}
	out.NoFallThrough = out.IsReturn || mn == "b" || mn == "ba" || mn == "bctr"
	ppc64Operands(&out, in, pc)
	return out, nil
}

// ppc64Access is what a load or store reads or writes: Size bytes (0: unknown), Write
// for stores, and for the X-form (indexed) ones the argument index of RA (RB follows).
type ppc64Access struct {
	size  int
	write bool
	ra    int // X-form: index of RA in Args (RB follows); D, DS and DQ forms have an Offset instead
}

// ppc64MemOp lists the loads and stores by ppc64asm's operation name, with their access
// sizes from the Power ISA 3.1 book I chapter 3.3 (fixed-point), 4.6 (floating-point),
// 6 (vector) and 7 (VSX) instruction pages. The update forms ("u") and the prefixed
// forms ("p", ISA 3.1) take their entry from the base form. lvx and stvx ignore the low
// four bits of the address, which the operand does not model.
var ppc64MemOp = func() map[string]ppc64Access {
	m := map[string]ppc64Access{}
	add := func(size int, write bool, ra int, ops ...string) {
		for _, op := range ops {
			m[op] = ppc64Access{size: size, write: write, ra: ra}
		}
	}
	// D, DS and DQ forms: RT, D(RA|0).
	add(1, false, 0, "lbz", "lbzu")
	add(2, false, 0, "lhz", "lhzu", "lha", "lhau")
	add(4, false, 0, "lwz", "lwzu", "lwa", "lfs", "lfsu", "lxssp")
	add(8, false, 0, "ld", "ldu", "lfd", "lfdu", "lxsd")
	add(16, false, 0, "lq", "lfdp", "lxv")
	add(32, false, 0, "lxvp")
	add(1, true, 0, "stb", "stbu")
	add(2, true, 0, "sth", "sthu")
	add(4, true, 0, "stw", "stwu", "stfs", "stfsu", "stxssp")
	add(8, true, 0, "std", "stdu", "stfd", "stfdu", "stxsd")
	add(16, true, 0, "stq", "stfdp", "stxv")
	add(32, true, 0, "stxvp")
	// X forms: RT, RA|0, RB.
	add(1, false, 1, "lbzx", "lbzux", "lbarx", "lbzcix", "lxsibzx", "lvebx", "lxvrbx")
	add(2, false, 1, "lhzx", "lhzux", "lhax", "lhaux", "lhbrx", "lharx", "lhzcix", "lxsihzx", "lvehx", "lxvrhx")
	add(4, false, 1, "lwzx", "lwzux", "lwax", "lwaux", "lwbrx", "lwarx", "lwzcix", "lfsx", "lfsux", "lfiwax",
		"lfiwzx", "lxsiwax", "lxsiwzx", "lxsspx", "lvewx", "lxvrwx", "lxvwsx")
	add(8, false, 1, "ldx", "ldux", "ldbrx", "ldarx", "ldcix", "lfdx", "lfdux", "lxsdx", "lxvdsx", "lxvrdx")
	add(16, false, 1, "lqarx", "lfdpx", "lxvd2x", "lxvw4x", "lxvx", "lxvb16x", "lxvh8x", "lvx", "lvxl")
	add(32, false, 1, "lxvpx")
	add(1, true, 1, "stbx", "stbux", "stbcx.", "stbcix", "stxsibx", "stvebx", "stxvrbx")
	add(2, true, 1, "sthx", "sthux", "sthbrx", "sthcx.", "sthcix", "stxsihx", "stvehx", "stxvrhx")
	add(4, true, 1, "stwx", "stwux", "stwbrx", "stwcx.", "stwcix", "stfsx", "stfsux", "stfiwx", "stxsiwx",
		"stxsspx", "stvewx", "stxvrwx")
	add(8, true, 1, "stdx", "stdux", "stdbrx", "stdcx.", "stdcix", "stfdx", "stfdux", "stxsdx", "stxvrdx")
	add(16, true, 1, "stqcx.", "stfdpx", "stxvd2x", "stxvw4x", "stxvx", "stxvb16x", "stxvh8x", "stvx", "stvxl")
	add(32, true, 1, "stxvpx")
	// dcbz RA|0, RB zeroes a whole cache block, whose size the ISA leaves to the
	// implementation (128 bytes on POWER8 to POWER10).
	add(0, true, 0, "dcbz")
	// lmw and stmw: RT to r31, four bytes each (the size is set from RT).
	add(0, false, 0, "lmw")
	add(0, true, 0, "stmw")
	return m
}()

// ppc64Reg names a general, floating-point or vector register as arch.PPC64LE does
// ("r9", "f1"), "" for any other argument.
func ppc64Reg(a ppc64asm.Arg) string {
	r, ok := a.(ppc64asm.Reg)
	if !ok {
		return ""
	}
	return r.String()
}

// ppc64Operands fills Mem, RegArgs, Dest and AlsoWrites of out from the decoded
// arguments.
func ppc64Operands(out *Inst, in ppc64asm.Inst, pc uint64) {
	op := in.Op.String()
	acc, isMem := ppc64MemOp[op]
	prefixed := false
	if !isMem && strings.HasPrefix(op, "p") {
		acc, isMem = ppc64MemOp[op[1:]]
		prefixed = isMem
	}
	update := isMem && !prefixed && (strings.HasSuffix(op, "u") || strings.HasSuffix(op, "ux"))
	var addrArgs [6]bool // the arguments that make the address, not register operands
	if isMem {
		m := MemOperand{Size: acc.size, Write: acc.write, AddrSize: 64}
		ok := false
		for i, a := range in.Args {
			d, isOff := a.(ppc64asm.Offset)
			if !isOff || i+1 >= len(in.Args) {
				continue
			}
			// D(RA|0): RA = r0 stands for the value 0 (Power ISA book I, 1.10.3), except
			// in the update forms, where it is an invalid form.
			ra, _ := in.Args[i+1].(ppc64asm.Reg)
			m.Disp, ok = int64(d), true
			addrArgs[i], addrArgs[i+1] = true, true
			if prefixed && i+2 < len(in.Args) {
				if r, isImm := in.Args[i+2].(ppc64asm.Imm); isImm && r == 1 {
					// R = 1: pc-relative, from the address of the prefixed instruction.
					m.Base, m.PCValue = "pc", pc
					addrArgs[i+2] = true
					break
				}
				addrArgs[i+2] = true
			}
			if ra != ppc64asm.R0 || update {
				m.Base = ppc64Reg(ra)
			}
			break
		}
		if !ok && acc.ra+1 < len(in.Args) {
			ra, okA := in.Args[acc.ra].(ppc64asm.Reg)
			rb, okB := in.Args[acc.ra+1].(ppc64asm.Reg)
			if okA && okB {
				ok = true
				addrArgs[acc.ra], addrArgs[acc.ra+1] = true, true
				if ra == ppc64asm.R0 && !update {
					m.Base = ppc64Reg(rb) // (RA|0) + RB with RA = 0: RB alone
				} else {
					m.Base, m.Index, m.Scale = ppc64Reg(ra), ppc64Reg(rb), 1
				}
			}
		}
		if ok {
			if rt, isReg := in.Args[0].(ppc64asm.Reg); isReg && (op == "lmw" || op == "stmw") && rt >= ppc64asm.R0 && rt <= ppc64asm.R31 {
				m.Size = 4 * int(ppc64asm.R31-rt+1)
			}
			out.Mem = append(out.Mem, m)
		}
	}
	for i, a := range in.Args {
		if a == nil {
			break
		}
		if r := ppc64Reg(a); r != "" && !addrArgs[i] {
			out.RegArgs = append(out.RegArgs, r)
		}
	}
	if op == "or" && len(out.RegArgs) == 3 && out.RegArgs[1] == out.RegArgs[2] {
		out.RegArgs = out.RegArgs[:2] // mr RA, RS
	}
	switch op {
	case "addi", "addis", "li", "lis":
		// The signed immediate, shifted for the "s" forms (addis RT,RA,SI adds SI << 16).
		for _, a := range in.Args {
			if v, ok := a.(ppc64asm.Imm); ok {
				out.Imm, out.HasImm = int64(v), true
				if op == "addis" || op == "lis" {
					out.Imm <<= 16
				}
			}
		}
	}
	out.Dest = ppc64Dest(out, in, op, isMem, acc.write)
	if isMem && update && len(out.Mem) == 1 {
		// The update forms also write the address back to RA.
		if out.Mem[0].Write {
			out.Dest = out.Mem[0].Base
		} else if out.Mem[0].Base != out.Dest {
			out.AlsoWrites = append(out.AlsoWrites, out.Mem[0].Base)
		}
	}
	if op == "lmw" && out.Dest != "" {
		// lmw RT loads RT to r31.
		var rt ppc64asm.Reg
		if r, ok := in.Args[0].(ppc64asm.Reg); ok {
			rt = r
		}
		for r := rt + 1; r >= ppc64asm.R0 && r <= ppc64asm.R31; r++ {
			out.AlsoWrites = append(out.AlsoWrites, r.String())
		}
	}
}

// ppc64Dest is the register an instruction writes: its first argument, when that is a
// register and the instruction is no store, cache operation, trap, branch or
// move to a special register (whose first argument is the source).
func ppc64Dest(out *Inst, in ppc64asm.Inst, op string, isMem, write bool) string {
	if out.IsBranch || out.IsCall || out.IsReturn || out.IsTrap || isMem && write {
		return ""
	}
	if strings.HasPrefix(op, "dcb") || strings.HasPrefix(op, "icb") || strings.HasPrefix(op, "mt") && !strings.HasPrefix(op, "mtvsr") ||
		strings.HasPrefix(op, "st") || strings.HasPrefix(op, "pst") {
		return ""
	}
	return ppc64Reg(in.Args[0])
}
