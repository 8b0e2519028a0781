package disasm

import (
	"encoding/binary"
	"strings"

	"golang.org/x/arch/ppc64/ppc64asm"
)

// decodePPC64LE decodes one little-endian Power ISA instruction with ppc64asm, in GNU
// syntax. Calls, returns and branches are told from the mnemonic (Power ISA book I, 2.4:
// the "l" forms set the link register); memory operands are not modelled yet, so the
// fault explanations that evaluate them do not apply.
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
	return out, nil
}
