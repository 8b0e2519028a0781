package disasm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"

	"golang.org/x/arch/arm/armasm"

	"github.com/coredig/coredig/internal/arch"
)

// Mode is the instruction set of the code at a pc, for an architecture that has more
// than one: 32-bit ARM runs A32 ("ARM state") or T32 (Thumb-2, "Thumb state").
type Mode int

const (
	// ModeDefault is the architecture's only instruction set. On 32-bit ARM it means the
	// instruction set is not known, and nothing is decoded: Thumb bytes read as A32 would
	// be wrong instructions, not undecodable ones.
	ModeDefault Mode = iota
	// ModeARM is 32-bit ARM's A32.
	ModeARM
	// ModeThumb is 32-bit ARM's T32 (Thumb-2), decoded by this package's own decoder
	// (thumb.go).
	ModeThumb
	// ModeData marks 32-bit ARM data among code (a "$d" mapping symbol: a literal pool),
	// shown as ".word 0x..." words, not decoded.
	ModeData
)

func (m Mode) String() string {
	switch m {
	case ModeARM:
		return "A32"
	case ModeThumb:
		return "Thumb"
	case ModeData:
		return "data"
	}
	return "default"
}

// ErrModeUnknown is wrapped for 32-bit ARM code whose instruction set is not known.
var ErrModeUnknown = errors.New("32-bit ARM code of unknown instruction set (A32 or Thumb-2: neither the registers nor a symbol say which): not decoded")

// armCPSRThumb is CPSR's T bit: set in Thumb state (Arm ARM for A-profile, DDI 0487,
// G1.9.3 "The Current Program Status Register, CPSR"; arch/arm/include/uapi/asm/ptrace.h
// PSR_T_BIT 0x20).
const armCPSRThumb = 1 << 5

// ThreadMode is the instruction set a thread was running, from its registers (regs asks
// for arch.RegNames' names): on 32-bit ARM the T bit of cpsr, ModeDefault when cpsr is
// unknown; ModeDefault on the other architectures, which have one.
func ThreadMode(a *arch.Arch, regs func(name string) (uint64, bool)) Mode {
	if a == nil || a.Name != arch.ARM.Name || regs == nil {
		return ModeDefault
	}
	cpsr, ok := regs("cpsr")
	if !ok {
		return ModeDefault
	}
	if cpsr&armCPSRThumb != 0 {
		return ModeThumb
	}
	return ModeARM
}

// SymbolMode is the instruction set of a function from the mode bits of its symbol's
// value (arch.Arch.ModeBit, moved out of the address by package symbolize): on 32-bit ARM
// bit 0, set for a Thumb function ("ELF for the Arm Architecture", IHI 0044, 5.5.3), so an
// even function symbol is A32; ModeDefault on the other architectures.
func SymbolMode(a *arch.Arch, modeBits uint64) Mode {
	if a == nil || a.Name != arch.ARM.Name {
		return ModeDefault
	}
	if modeBits&a.ModeBit != 0 {
		return ModeThumb
	}
	return ModeARM
}

// MappingMode is the instruction set a 32-bit ARM mapping symbol names ("$a" A32, "$t"
// Thumb, "$d" data, with or without a ".suffix"; IHI 0044, 5.5.5), ModeDefault for any
// other name.
func MappingMode(name string) Mode {
	base, _, _ := strings.Cut(name, ".")
	switch base {
	case "$a":
		return ModeARM
	case "$t":
		return ModeThumb
	case "$d":
		return ModeData
	}
	return ModeDefault
}

// modeRefused says why no code of a in mode is decoded (ErrModeUnknown), nil when it is.
func modeRefused(a *arch.Arch, mode Mode) error {
	if a.Name != arch.ARM.Name {
		return nil
	}
	switch mode {
	case ModeARM, ModeData, ModeThumb:
		return nil
	}
	return ErrModeUnknown
}

// instLenIn is the length of every instruction of a in mode when it has one length (A32:
// 4), 0 when they vary (T32: 2 or 4).
func instLenIn(a *arch.Arch, mode Mode) int {
	if a.Name == arch.ARM.Name && (mode == ModeARM || mode == ModeData) {
		return 4
	}
	if a.Name == arch.ARM.Name && mode == ModeThumb {
		return 0
	}
	return a.InstLen
}

// armDecodeMu serialises armasm.Decode, which records which table entries it used in a
// package variable (decoderCover) without a lock.
var armDecodeMu sync.Mutex

// decodeARM decodes one 32-bit ARM instruction in mode: A32 with armasm, T32 with
// decodeThumb, in the syntax GNU objdump prints (registers sl, fp, ip, sp, lr, pc; direct
// branch targets as absolute addresses); an unknown mode is refused with ErrModeUnknown.
// Memory operands are those of armMem; register names in Mem, RegArgs, Dest and
// AlsoWrites are arch.ARM's (r0-r15, and s0-s31, d0-d31 for VFP).
func decodeARM(code []byte, pc uint64, mode Mode) (Inst, error) {
	if err := modeRefused(arch.ARM, mode); err != nil {
		return Inst{}, &DecodeError{Arch: "arm", PC: pc, Bytes: head(code, 4), Err: err}
	}
	if mode == ModeThumb {
		return decodeThumb(code, pc)
	}
	if len(code) < 4 {
		return Inst{}, &DecodeError{Arch: "arm", PC: pc, Bytes: head(code, 4), Err: ErrTruncated}
	}
	enc := binary.LittleEndian.Uint32(code)
	out := Inst{PC: pc, Len: 4, Bytes: head(code, 4)}
	if mode == ModeData {
		out.Mnemonic, out.Text = ".word", fmt.Sprintf(".word 0x%08x", enc) // as objdump shows a literal pool
		return out, nil
	}
	if enc&0xfff000f0 == 0xe7f000f0 {
		// UDF #imm16 (permanently undefined, A32 encoding A1; GCC's __builtin_trap),
		// which armasm does not decode.
		out.Mnemonic, out.Text, out.IsTrap, out.NoFallThrough = "udf", fmt.Sprintf("udf #%d", enc>>4&0xfff0|enc&0xf), true, true
		return out, nil
	}
	if enc>>28 != 0xf {
		if ok := armCoproc(&out, enc); ok {
			return out, nil
		}
	}
	in, err := armasmDecode(enc)
	if err != nil && enc&0x0e100010 == 0x06000000 && enc&8 != 0 && enc>>21&0x9 != 0x1 {
		// STR and STRB (register) with an index register r8-r15: armasm's table entry
		// for them tests bit 3 (mask 0x0e500018), so "str ip, [r9, lr, lsl #2]" (Go's
		// code has it) would not decode. Decoded with r0-r7, then given its register.
		if in, err = armasmDecode(enc &^ 8); err == nil {
			for i, a := range in.Args {
				if m, ok := a.(armasm.Mem); ok && m.Sign != 0 {
					m.Index += 8
					in.Args[i] = m
				}
			}
		}
	}
	if err != nil {
		return Inst{}, &DecodeError{Arch: "arm", PC: pc, Bytes: head(code, 4), Err: err}
	}
	// A32 reads the pc as the instruction's address plus 8 (Arm ARM, "Use of the PC").
	armFill(&out, in, enc, pc+8)
	return out, nil
}

// armFill fills out from armasm's decoding in of the word enc, the pc reading as pcValue
// (A32: the instruction's address plus 8; T32: plus 4).
func armFill(out *Inst, in armasm.Inst, enc uint32, pcValue uint64) {
	op, cond := armOp(in.Op)
	out.Mnemonic = strings.ToLower(op)
	always := cond == "" // AL, or an unconditional encoding
	text := armasm.GNUSyntax(in)
	for _, a := range in.Args {
		switch a := a.(type) {
		case armasm.PCRel:
			target := uint32(pcValue) + uint32(int32(a))
			text = strings.Replace(text, fmt.Sprintf(".%+#x", int32(a)+4), fmt.Sprintf("%#x", target), 1)
			if isARMMemOp(op) {
				continue // LDRD's literal: a memory operand (armMem)
			}
			out.Target = uint64(target)
		case armasm.Reg:
			if n := armRegName(a); n != "" {
				out.RegArgs = append(out.RegArgs, n)
			}
		case armasm.RegShift:
			out.RegArgs = append(out.RegArgs, armRegName(a.Reg))
		case armasm.RegShiftReg:
			out.RegArgs = append(out.RegArgs, armRegName(a.Reg), armRegName(a.RegCount))
		case armasm.Imm:
			out.Imm, out.HasImm = int64(int32(a)), true
		case armasm.ImmAlt:
			out.Imm, out.HasImm = int64(a.Imm()), true
		}
	}
	out.Text = armObjdumpText(text, op, enc, in)
	if m, ok := armMem(op, in, pcValue); ok {
		out.Mem = append(out.Mem, m)
	}
	armFlow(out, op, in, always)
	armDest(out, op, in)
}

// armasmDecode decodes one A32 word with armasm.
func armasmDecode(enc uint32) (armasm.Inst, error) {
	b := binary.LittleEndian.AppendUint32(nil, enc)
	armDecodeMu.Lock()
	defer armDecodeMu.Unlock()
	return armasm.Decode(b, armasm.ModeARM)
}

// armBarrierOptions name the DMB, DSB and ISB options (Arm ARM, "DMB"), as objdump does.
var armBarrierOptions = map[string]string{"#15": "sy", "#14": "st", "#13": "ld", "#11": "ish", "#10": "ishst",
	"#9": "ishld", "#7": "nsh", "#6": "nshst", "#5": "nshld", "#3": "osh", "#2": "oshst", "#1": "oshld"}

// armObjdumpText rewrites armasm's GNU syntax where GNU objdump (binutils 2.40) spells
// an instruction otherwise: barrier options by name, "nop" for mov r0, r0 and the NOP
// hint ("nop {0}"), APSR_nzcv and CPSR in upper case, #0.0 for VFP compares with zero,
// "stmia" for STM with writeback, and "ldmfd"/"stmfd" for single-register LDM/STMDB of
// sp with writeback (which objdump does not call pop and push).
func armObjdumpText(text, op string, enc uint32, in armasm.Inst) string {
	switch {
	case op == "DMB" || op == "DSB" || op == "ISB":
		if f := strings.Fields(text); len(f) == 2 {
			if name, ok := armBarrierOptions[f[1]]; ok {
				return f[0] + " " + name
			}
		}
	case enc&0x0fffffff == 0x0320f000:
		return text + " {0}"
	case enc == 0xe1a00000:
		return "nop"
	case op == "VMRS":
		return strings.Replace(text, "apsr_nzcv", "APSR_nzcv", 1)
	case op == "MRS":
		return strings.Replace(text, "apsr", "CPSR", 1)
	case op == "MSR" && enc&0x0fb0fff0 == 0x0120f000:
		// MSR (register): the fields written, as binutils names them (f, s, x, c).
		fields := ""
		for i, c := range "fsxc" {
			if enc>>(19-uint(i))&1 == 1 {
				fields += string(c)
			}
		}
		return fmt.Sprintf("msr%s CPSR_%s, %s", armCondNames[enc>>28], fields, armGNUReg(enc&0xf))
	case strings.HasPrefix(op, "VCMP") && strings.HasSuffix(text, ", #0"):
		return text + ".0"
	case op == "STM" && armWriteback(in):
		return "stmia" + strings.TrimPrefix(text, "stm")
	case (op == "LDM" || op == "STMDB") && armWriteback(in) && enc>>16&0xf == 13 && bits.OnesCount16(uint16(enc)) == 1:
		if op == "LDM" {
			return "ldmfd" + strings.TrimPrefix(text, "ldm")
		}
		return "stmfd" + strings.TrimPrefix(text, "stmdb")
	}
	return text
}

// armConds are the condition suffixes armasm appends to an operation's name after a dot.
var armConds = map[string]bool{"EQ": true, "NE": true, "CS": true, "CC": true, "MI": true, "PL": true,
	"VS": true, "VC": true, "HI": true, "LS": true, "GE": true, "LT": true, "GT": true, "LE": true}

// armOp splits armasm's operation name ("LDR.EQ", "VLDR.F64", "ADD.S") into the
// operation without its condition and the condition ("EQ"; "" for always).
func armOp(o armasm.Op) (op, cond string) {
	s := o.String()
	if i := strings.LastIndexByte(s, '.'); i >= 0 && armConds[s[i+1:]] {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// armRegName is arch.ARM's name of a general register ("r0".."r15"), or the VFP
// register's ("s3", "d8"); "" for APSR and FPSCR.
func armRegName(r armasm.Reg) string {
	switch {
	case r <= armasm.R15:
		return fmt.Sprintf("r%d", int(r-armasm.R0))
	case r >= armasm.S0 && r <= armasm.S31:
		return fmt.Sprintf("s%d", int(r-armasm.S0))
	case r >= armasm.D0 && r <= armasm.D31:
		return fmt.Sprintf("d%d", int(r-armasm.D0))
	}
	return ""
}

// armAccess is the size of one load or store and whether it writes memory.
type armAccess struct {
	size  int
	write bool
}

// armMemOps are the A32 loads and stores by armasm's operation name (without the
// condition), with their access sizes, from the Arm ARM's A32 instruction pages (DDI
// 0487, F5): LDR, LDRB, LDRH, LDRSB, LDRSH, LDRD, the unprivileged (T) and exclusive (EX)
// forms, their stores, SWP and VLDR/VSTR (whose size comes from the register: 4 for
// sN, 8 for dN). Multiple loads and stores (LDM, STM, PUSH, POP) are armMultiple's.
var armMemOps = map[string]armAccess{
	"LDR": {4, false}, "LDRT": {4, false}, "LDREX": {4, false}, "LDRB": {1, false}, "LDRBT": {1, false},
	"LDREXB": {1, false}, "LDRSB": {1, false}, "LDRSBT": {1, false}, "LDRH": {2, false}, "LDRHT": {2, false},
	"LDREXH": {2, false}, "LDRSH": {2, false}, "LDRSHT": {2, false}, "LDRD": {8, false}, "LDREXD": {8, false},
	"STR": {4, true}, "STRT": {4, true}, "STREX": {4, true}, "STRB": {1, true}, "STRBT": {1, true},
	"STREXB": {1, true}, "STRH": {2, true}, "STRHT": {2, true}, "STREXH": {2, true}, "STRD": {8, true},
	"STREXD": {8, true}, "SWP": {4, true}, "SWP.B": {1, true},
	"VLDR": {0, false}, "VSTR": {0, true},
}

// isARMMemOp reports whether op (armasm's name without the condition) accesses memory.
func isARMMemOp(op string) bool {
	_, ok := armMemOps[op]
	return ok || armMultiple(op) != ""
}

// armMultiple says which way a multiple load or store walks from its base register: "ia"
// (increment after: LDM, STM, POP), "ib", "da", "db" (STMDB, PUSH), or "" for any other
// operation.
func armMultiple(op string) string {
	switch op {
	case "LDM", "STM", "POP":
		return "ia"
	case "LDMIB", "STMIB":
		return "ib"
	case "LDMDA", "STMDA":
		return "da"
	case "LDMDB", "STMDB", "PUSH":
		return "db"
	}
	return ""
}

// armMem is the memory operand of a load or store: [Rn, #±imm], [Rn, ±Rm, shift #n],
// pre-indexed (with "!") and post-indexed, pc-relative (the literal pool, with PCValue
// the instruction's address plus 8), and the block a multiple load or store covers
// (Size 4 per register, Disp where its lowest word lies from the base).
func armMem(op string, in armasm.Inst, pcValue uint64) (MemOperand, bool) {
	if dir := armMultiple(op); dir != "" {
		var list armasm.RegList
		var base armasm.Reg = armasm.SP
		writeback := op == "PUSH" || op == "POP"
		for _, a := range in.Args {
			switch a := a.(type) {
			case armasm.RegList:
				list = a
			case armasm.Reg:
				if op == "PUSH" || op == "POP" {
					list = 1 << uint(a) // push {rX}: str rX, [sp, #-4]!
				}
			case armasm.Mem:
				base = a.Base
				writeback = writeback || a.Mode == armasm.AddrLDM_WB
			}
		}
		n := bits.OnesCount16(uint16(list))
		if n == 0 {
			return MemOperand{}, false
		}
		m := MemOperand{Base: armRegName(base), Size: 4 * n, Write: strings.HasPrefix(op, "ST") || op == "PUSH", AddrSize: 32}
		switch dir {
		case "ib":
			m.Disp = 4
		case "da":
			m.Disp = int64(4 - 4*n)
		case "db":
			m.Disp = int64(-4 * n)
		}
		if writeback {
			// The base moves by the block's size: ia accesses from the old base
			// (post-index); ib, da and db from the base plus Disp.
			m.PostIndex = dir == "ia"
			m.PreIndex = dir != "ia"
		}
		return m, true
	}
	acc, ok := armMemOps[op]
	if !ok {
		return MemOperand{}, false
	}
	m := MemOperand{Size: acc.size, Write: acc.write, AddrSize: 32}
	if strings.HasPrefix(op, "V") {
		if r, ok := in.Args[0].(armasm.Reg); ok && r >= armasm.S0 && r <= armasm.S31 {
			m.Size = 4
		} else {
			m.Size = 8
		}
	}
	for _, a := range in.Args {
		switch a := a.(type) {
		case armasm.PCRel: // LDRD (literal)
			m.Base, m.Disp, m.PCValue = "pc", int64(int32(a)), pcValue
			return m, true
		case armasm.Mem:
			if a.Base == armasm.PC {
				m.Base, m.PCValue = "pc", pcValue&^3 // Align(PC, 4) for literals
			} else {
				m.Base = armRegName(a.Base)
			}
			if a.Sign != 0 {
				m.Index, m.Scale = armRegName(a.Index), 1
				switch {
				case a.Shift == armasm.ShiftLeft:
					m.Scale = 1 << a.Count
				default:
					// lsr, asr, ror or rrx: an index EffectiveAddr cannot evaluate.
					m.Extend = strings.ToLower(a.Shift.String())
				}
				if a.Sign < 0 {
					m.Scale = -m.Scale
				}
			} else {
				m.Disp = int64(a.Offset)
			}
			m.PreIndex = a.Mode == armasm.AddrPreIndex
			m.PostIndex = a.Mode == armasm.AddrPostIndex
			return m, true
		}
	}
	return MemOperand{}, false
}

// armFlow sets the calls, branches, returns and traps: B, BL, BLX (immediate and
// register), BX; a return is BX LR, a load of the pc from the stack (POP {..., pc}, LDM
// SP!, LDR PC, [SP], #n: Go's epilogue) and a move or add of LR to the pc (Go's "add pc,
// lr, #0"); any other write of the pc is a branch. BKPT and UDF trap.
func armFlow(out *Inst, op string, in armasm.Inst, always bool) {
	writesPC := false
	if r, ok := in.Args[0].(armasm.Reg); ok && r == armasm.PC {
		writesPC = true
	}
	if l, ok := in.Args[0].(armasm.RegList); ok && l&(1<<15) != 0 && (strings.HasPrefix(op, "LDM") || op == "POP") {
		writesPC = true
	}
	if len(in.Args) > 1 {
		if l, ok := in.Args[1].(armasm.RegList); ok && l&(1<<15) != 0 && strings.HasPrefix(op, "LDM") {
			writesPC = true
		}
	}
	fromStack := len(out.Mem) == 1 && out.Mem[0].Base == "r13" && !out.Mem[0].Write
	switch {
	case op == "BL" || op == "BLX":
		out.IsCall = true // BLX (immediate) calls Thumb code at Target
	case op == "B":
		out.IsBranch = true
	case op == "BX":
		if r, ok := in.Args[0].(armasm.Reg); ok && r == armasm.LR {
			out.IsReturn = true
		} else {
			out.IsBranch = true
		}
	case op == "BKPT" || op == "UNDEF":
		out.IsTrap = true
	case writesPC && fromStack:
		out.IsReturn = true
	case writesPC && (op == "MOV" || op == "ADD") && len(out.RegArgs) >= 2 && out.RegArgs[1] == "r14":
		out.IsReturn = true
	case writesPC && !strings.HasPrefix(op, "ST") && op != "PUSH" && op != "CMP" && op != "CMN" && op != "TST" && op != "TEQ":
		out.IsBranch = true
	}
	if !out.IsBranch && !out.IsCall {
		out.Target = 0
	}
	out.NoFallThrough = always && (out.IsReturn || out.IsTrap || out.IsBranch && op != "BL")
}

// armDest sets the register the instruction writes (its first register operand, but
// none for stores, compares, branches, calls, returns and NOP) and the others it writes:
// the second of LDRD and of the long multiplies, the registers of LDM and POP after the
// first, and a written-back base register.
func armDest(out *Inst, op string, in armasm.Inst) {
	store := strings.HasPrefix(op, "ST") || op == "PUSH" || op == "VSTR" || op == "SWP" || op == "SWP.B"
	switch {
	case out.IsBranch || out.IsCall || out.IsReturn || out.IsTrap:
	case store && strings.HasPrefix(op, "STREX"):
		out.Dest = firstOf(out.RegArgs) // the status register
	case store, op == "CMP", op == "CMN", op == "TST", op == "TEQ", op == "NOP", op == "SVC",
		op == "VCMP", op == "VCMP.E", op == "VMSR", op == "PLD", op == "PLI", op == "DMB", op == "DSB", op == "ISB":
	case armMultiple(op) != "":
		var list armasm.RegList
		for _, a := range in.Args {
			switch a := a.(type) {
			case armasm.RegList:
				list = a
			case armasm.Reg:
				if op == "POP" {
					list = 1 << uint(a)
				}
			}
		}
		for r := 0; r < 16; r++ {
			if list&(1<<r) == 0 {
				continue
			}
			if out.Dest == "" {
				out.Dest = fmt.Sprintf("r%d", r)
			} else {
				out.AlsoWrites = append(out.AlsoWrites, fmt.Sprintf("r%d", r))
			}
		}
	default:
		if r, ok := in.Args[0].(armasm.Reg); ok {
			out.Dest = armRegName(r)
		}
		switch op {
		case "LDRD", "LDREXD", "UMULL", "SMULL", "UMLAL", "SMLAL":
			if len(out.RegArgs) > 1 {
				out.AlsoWrites = append(out.AlsoWrites, out.RegArgs[1])
			}
		}
	}
	if len(out.Mem) == 1 && (out.Mem[0].PreIndex || out.Mem[0].PostIndex) && out.Mem[0].Base != "" && out.Mem[0].Base != "pc" {
		out.AlsoWrites = append(out.AlsoWrites, out.Mem[0].Base)
	} else if len(out.Mem) == 1 && (op == "PUSH" || op == "POP" || armMultiple(op) != "" && armWriteback(in)) {
		out.AlsoWrites = append(out.AlsoWrites, out.Mem[0].Base)
	}
}

// armWriteback reports whether a multiple load or store writes its base back ("r0!").
func armWriteback(in armasm.Inst) bool {
	for _, a := range in.Args {
		if m, ok := a.(armasm.Mem); ok && m.Mode == armasm.AddrLDM_WB {
			return true
		}
	}
	return false
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// armCondNames are the condition codes 0-13 as mnemonic suffixes (14, AL, has none).
var armCondNames = [15]string{"eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", ""}

// armCoproc decodes the A32 instructions armasm lacks that compiled code uses: MRC and
// MCR (GCC reads the thread pointer with "mrc 15, 0, rN, cr13, cr0, {3}"), and the VFP
// multiple loads and stores VLDM, VSTM, VPUSH and VPOP (the -O2 prologues and epilogues
// that save d8-d15), from the Arm ARM's encodings (DDI 0487, F5: MRC A1, MCR A1, VLDM T1/A1
// and VSTM A1; VPUSH and VPOP are VSTMDB and VLDMIA of sp with writeback). It reports
// whether enc was one of them.
func armCoproc(out *Inst, enc uint32) bool {
	cond := armCondNames[enc>>28]
	switch {
	case enc&0x0f000010 == 0x0e000010 && enc>>9&7 != 5:
		// MRC/MCR: cond 1110 opc1:3 L CRn Rt coproc opc2 1 CRm (coproc 10 and 11 are VFP).
		l := enc >> 20 & 1
		rt := enc >> 12 & 0xf
		name := "mcr"
		if l == 1 {
			name = "mrc"
			if rt != 15 {
				out.Dest = fmt.Sprintf("r%d", rt)
			}
		}
		out.Mnemonic = name
		out.Text = fmt.Sprintf("%s%s %d, %d, %s, cr%d, cr%d, {%d}", name, cond, enc>>8&0xf, enc>>21&7, armGNUReg(rt), enc>>16&0xf, enc&0xf, enc>>5&7)
		out.RegArgs = []string{fmt.Sprintf("r%d", rt)}
		return true
	case enc&0x0e000e00 == 0x0c000a00:
		// VLDM/VSTM: cond 110 P U D W L Rn Vd 101 sz imm8.
		p, u, w, l := enc>>24&1, enc>>23&1, enc>>21&1, enc>>20&1
		rn := enc >> 16 & 0xf
		imm8 := enc & 0xff
		double := enc>>8&1 == 1
		if p == u || p == 1 && w == 0 || imm8 == 0 || double && imm8&1 == 1 {
			return false // VLDR/VSTR (armasm's), FLDMX/FSTMX, or unpredictable
		}
		var first, n uint32
		kind, size := "s", 4
		if double {
			first, n, kind, size = enc>>22&1<<4|enc>>12&0xf, imm8/2, "d", 8
		} else {
			first, n = enc>>12&0xf<<1|enc>>22&1, imm8
		}
		if first+n > 32 {
			return false
		}
		list := fmt.Sprintf("{%s%d}", kind, first)
		if n > 1 {
			list = fmt.Sprintf("{%s%d-%s%d}", kind, first, kind, first+n-1)
		}
		m := MemOperand{Base: fmt.Sprintf("r%d", rn), Size: size * int(n), Write: l == 0, AddrSize: 32}
		name := "vstm"
		if l == 1 {
			name = "vldm"
		}
		switch {
		case rn == 13 && w == 1 && p == 1 && l == 0:
			out.Text = "vpush" + cond + " " + list
			out.Mnemonic = "vpush"
		case rn == 13 && w == 1 && p == 0 && l == 1:
			out.Text = "vpop" + cond + " " + list
			out.Mnemonic = "vpop"
		default:
			dir := "ia"
			if p == 1 {
				dir = "db"
			}
			bang := ""
			if w == 1 {
				bang = "!"
			}
			out.Mnemonic = name
			out.Text = fmt.Sprintf("%s%s%s %s%s, %s", name, dir, cond, armGNUReg(rn), bang, list)
		}
		if l == 1 {
			out.Dest = fmt.Sprintf("%s%d", kind, first)
			for r := first + 1; r < first+n; r++ {
				out.AlsoWrites = append(out.AlsoWrites, fmt.Sprintf("%s%d", kind, r))
			}
		}
		if p == 1 {
			m.Disp = -int64(m.Size)
		}
		if w == 1 {
			m.PreIndex, m.PostIndex = p == 1, p == 0
			out.AlsoWrites = append(out.AlsoWrites, m.Base)
		}
		out.Mem = []MemOperand{m}
		return true
	}
	return false
}

// armGNUReg is the name GNU objdump gives general register r: r0-r9, sl, fp, ip, sp, lr,
// pc.
func armGNUReg(r uint32) string {
	if r >= 10 && r <= 15 {
		return [...]string{"sl", "fp", "ip", "sp", "lr", "pc"}[r-10]
	}
	return fmt.Sprintf("r%d", r)
}
