package disasm

import (
	"errors"
	"fmt"
	"strings"
)

// RegisterError says a register needed to evaluate an operand is not available.
type RegisterError struct {
	Name string // the full register asked for ("rax", "x1", "fs_base")
}

func (e *RegisterError) Error() string {
	return fmt.Sprintf("register %s is not available", e.Name)
}

// ErrBadOperand is wrapped when an operand names a register this package cannot evaluate.
var ErrBadOperand = errors.New("operand cannot be evaluated")

// FullReg maps a register name as it appears in a MemOperand to the full 64-bit register
// of arch.RegNames and the width in bytes of the named part: "eax" -> ("rax", 4),
// "r9d" -> ("r9", 4), "w3" -> ("x3", 4), "wsp" -> ("sp", 4), "x1" -> ("x1", 8).
// Zero registers (xzr, wzr) return ("", 8) or ("", 4); unknown names return ("", 0).
func FullReg(name string) (string, int) {
	if full, ok := x86Full[name]; ok {
		return full.name, full.width
	}
	switch name {
	case "xzr":
		return "", 8
	case "wzr":
		return "", 4
	case "sp", "rsp", "rip", "pc", "fs_base", "gs_base":
		return name, 8
	case "wsp":
		return "sp", 4
	}
	if len(name) >= 2 && len(name) <= 3 && (name[0] == 'x' || name[0] == 'w') {
		n := 0
		for _, c := range name[1:] {
			if c < '0' || c > '9' {
				return "", 0
			}
			n = n*10 + int(c-'0')
		}
		if n > 30 {
			return "", 0
		}
		if name[0] == 'w' {
			return "x" + name[1:], 4
		}
		return name, 8
	}
	return "", 0
}

type regPart struct {
	name  string
	width int
}

var x86Full = func() map[string]regPart {
	m := map[string]regPart{}
	for _, r := range []struct{ q, d, w, b string }{
		{"rax", "eax", "ax", "al"}, {"rcx", "ecx", "cx", "cl"}, {"rdx", "edx", "dx", "dl"},
		{"rbx", "ebx", "bx", "bl"}, {"rsp", "esp", "sp16", "spl"}, {"rbp", "ebp", "bp", "bpl"},
		{"rsi", "esi", "si", "sil"}, {"rdi", "edi", "di", "dil"},
	} {
		m[r.q] = regPart{r.q, 8}
		m[r.d] = regPart{r.q, 4}
		m[r.w] = regPart{r.q, 2}
		m[r.b] = regPart{r.q, 1}
	}
	for i := 8; i <= 15; i++ {
		q := "r" + itoa(i)
		m[q] = regPart{q, 8}
		m[q+"d"] = regPart{q, 4}
		m[q+"w"] = regPart{q, 2}
		m[q+"b"] = regPart{q, 1}
	}
	m["eip"] = regPart{"rip", 4}
	return m
}()

// EffectiveAddr evaluates the address op accesses from register values. regs is asked
// for full register names as in arch.RegNames ("rax", "x1", "sp") and for "fs_base" /
// "gs_base" for fs:/gs: segment overrides; a pc-relative base uses op.PCValue. The
// address of a post-indexed aarch64 access is the base alone.
func EffectiveAddr(op MemOperand, regs func(name string) (uint64, bool)) (uint64, error) {
	get := func(name string) (uint64, int, error) {
		if name == "rip" || name == "pc" {
			return op.PCValue, 8, nil
		}
		if name == "eip" {
			return op.PCValue & 0xffffffff, 4, nil
		}
		full, width := FullReg(name)
		if width == 0 {
			return 0, 0, fmt.Errorf("%w: unknown register %q", ErrBadOperand, name)
		}
		if full == "" { // zero register
			return 0, width, nil
		}
		v, ok := regs(full)
		if !ok {
			return 0, 0, &RegisterError{Name: full}
		}
		if width < 8 {
			v &= 1<<(8*uint(width)) - 1
		}
		return v, width, nil
	}
	var addr uint64
	if op.Base != "" {
		v, _, err := get(op.Base)
		if err != nil {
			return 0, err
		}
		addr = v
	}
	if op.Index != "" {
		v, width, err := get(op.Index)
		if err != nil {
			return 0, err
		}
		switch op.Extend {
		case "sxtw":
			v = uint64(int64(int32(uint32(v))))
		case "uxtw":
			v &= 0xffffffff
		case "sxtx", "uxtx", "lsl", "":
			if width == 4 && op.Extend != "" && strings.HasPrefix(op.Index, "w") {
				v &= 0xffffffff
			}
		default:
			return 0, fmt.Errorf("%w: index extension %q", ErrBadOperand, op.Extend)
		}
		scale := op.Scale
		if scale == 0 {
			scale = 1
		}
		addr += v * uint64(scale)
	}
	if !op.PostIndex {
		addr += uint64(op.Disp)
	}
	switch op.Segment {
	case "fs", "gs":
		v, ok := regs(op.Segment + "_base")
		if !ok {
			return 0, &RegisterError{Name: op.Segment + "_base"}
		}
		addr += v
	}
	if op.AddrSize == 32 {
		addr &= 0xffffffff
	}
	return addr, nil
}
