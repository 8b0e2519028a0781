package disasm

import (
	"strings"

	"golang.org/x/arch/s390x/s390xasm"
)

// decodeS390X decodes one z/Architecture instruction (2, 4 or 6 bytes) with s390xasm, in
// GNU syntax. Calls (brasl, bras, basr, bas) and the return (br %r14) are told from the
// mnemonic; memory operands and branch targets are not modelled yet, so the fault
// explanations that evaluate them do not apply.
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
	text := s390xasm.GNUSyntax(in, pc)
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
	return out, nil
}
