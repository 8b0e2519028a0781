package diagnose

import (
	"fmt"
	"strings"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/disasm"
)

// access is one memory operand of the faulting instruction, evaluated.
type access struct {
	op      disasm.MemOperand
	ea      uint64
	err     error // why ea could not be computed
	matches bool  // ea..ea+size covers the fault address
}

// regFunc returns the register lookup EffectiveAddr wants.
func regFunc(regs map[string]uint64) func(string) (uint64, bool) {
	return func(n string) (uint64, bool) {
		v, ok := regs[n]
		return v, ok
	}
}

// accesses evaluates every memory operand of f.Inst; the one matching the fault address
// (or, without one, the first explicit operand) comes first.
func accesses(f *Facts) []access {
	if f.Inst == nil {
		return nil
	}
	var out []access
	for i, op := range f.Inst.Mem {
		if i >= 8 {
			break
		}
		a := access{op: op}
		a.ea, a.err = disasm.EffectiveAddr(f.Arch, op, regFunc(f.Regs))
		if a.err == nil && f.HasAddr {
			size := uint64(max(op.Size, 1))
			a.matches = f.Addr >= a.ea && f.Addr-a.ea < size
		}
		out = append(out, a)
	}
	best := -1
	for i, a := range out {
		if a.matches {
			best = i
			break
		}
	}
	if best < 0 {
		for i, a := range out {
			if !a.op.Implicit {
				best = i
				break
			}
		}
	}
	if best > 0 {
		out[0], out[best] = out[best], out[0]
	}
	return out
}

// operandText renders an operand as an expression: "rax+0x60", "rdi+rsi*4+0x68",
// "fs:-0x8", "x1+w0(uxtw)*4", "sp" (post-indexed), "r1-r2".
func operandText(op disasm.MemOperand) string {
	var b strings.Builder
	if op.Segment == "fs" || op.Segment == "gs" {
		b.WriteString(op.Segment + ":")
	}
	b.WriteString(op.Base)
	if op.Index != "" {
		scale := op.Scale
		if scale < 0 { // 32-bit ARM's subtracted index: [r1, -r2]
			scale = -scale
			b.WriteByte('-')
		} else if b.Len() > 0 && op.Base != "" {
			b.WriteByte('+')
		}
		b.WriteString(op.Index)
		if op.Extend != "" && op.Extend != "lsl" {
			b.WriteString("(" + op.Extend + ")")
		}
		if scale > 1 {
			fmt.Fprintf(&b, "*%d", scale)
		}
	}
	if op.Disp != 0 && !op.PostIndex {
		if op.Disp < 0 {
			fmt.Fprintf(&b, "-%#x", uint64(-op.Disp))
		} else {
			if op.Base != "" || op.Index != "" {
				b.WriteByte('+')
			}
			fmt.Fprintf(&b, "%#x", op.Disp)
		}
	}
	if b.Len() == 0 {
		return "0x0"
	}
	return b.String()
}

// AccessText says what a memory operand accesses: "reads 8 bytes at rax+0x60".
func AccessText(op disasm.MemOperand) string { return accessText(op) }

// accessText is "reads 8 bytes at rax+0x60".
func accessText(op disasm.MemOperand) string {
	verb := "reads"
	if op.Write {
		verb = "writes"
	}
	if op.Size > 0 {
		unit := "bytes"
		if op.Size == 1 {
			unit = "byte"
		}
		return fmt.Sprintf("%s %d %s at %s", verb, op.Size, unit, operandText(op))
	}
	return fmt.Sprintf("%s at %s", verb, operandText(op))
}

// regsText lists the values of the registers an operand uses: "rax = 0x0".
func regsText(a *arch.Arch, op disasm.MemOperand, regs map[string]uint64) string {
	var parts []string
	for _, r := range []string{op.Base, op.Index} {
		if r == "" || r == "rip" || r == "pc" {
			continue
		}
		full, width := disasm.FullReg(a, r)
		if full == "" {
			continue
		}
		v, ok := regs[full]
		if !ok {
			parts = append(parts, r+" = unknown")
			continue
		}
		if width < 8 {
			v &= 1<<(8*uint(width)) - 1
		}
		parts = append(parts, fmt.Sprintf("%s = %#x", r, v))
	}
	if op.Segment == "fs" || op.Segment == "gs" {
		if v, ok := regs[op.Segment+"_base"]; ok {
			parts = append(parts, fmt.Sprintf("%s_base = %#x", op.Segment, v))
		}
	}
	return strings.Join(parts, ", ")
}

// hex formats an address.
func hex(v uint64) string { return fmt.Sprintf("%#x", v) }
