package disasm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/coredig/coredig/internal/arch"
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

// FullReg maps a register name as it appears in a MemOperand decoded for architecture a
// to the full register of a.RegNames and the width in bytes of the named part, from the
// architecture's register parts (arch.Arch.Part): "eax" -> ("rax", 4) on x86_64 and
// ("eax", 4) on i386, "r9d" -> ("r9", 4), "w3" -> ("x3", 4), "wsp" -> ("sp", 4),
// "x1" -> ("x1", 8). Zero registers (xzr, wzr) return ("", 8) or ("", 4); unknown names
// and parts that do not start at bit 0 (ah) return ("", 0). A nil a tries every
// architecture in arch.All.
func FullReg(a *arch.Arch, name string) (string, int) {
	switch name {
	case "xzr", "zero": // aarch64's and riscv64's zero registers
		return "", 8
	case "wzr":
		return "", 4
	}
	archs := arch.All
	if a != nil {
		archs = []*arch.Arch{a}
	}
	for _, a := range archs {
		if p, ok := a.Part(name); ok && p.Off == 0 {
			return p.Reg, p.Width
		}
	}
	return "", 0
}

// EffectiveAddr evaluates the address op, decoded for architecture a, accesses from
// register values. regs is asked
// for full register names as in arch.RegNames ("rax", "x1", "sp") and for "fs_base" /
// "gs_base" for fs:/gs: segment overrides; a pc-relative base uses op.PCValue. The
// address of a post-indexed aarch64 access is the base alone.
func EffectiveAddr(a *arch.Arch, op MemOperand, regs func(name string) (uint64, bool)) (uint64, error) {
	get := func(name string) (uint64, int, error) {
		if name == "rip" || name == "pc" {
			return op.PCValue, 8, nil
		}
		if name == "eip" {
			return op.PCValue & 0xffffffff, 4, nil
		}
		full, width := FullReg(a, name)
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
