package disasm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// x86asm's GNU syntax follows binutils of about 2014 (retq, callq, cdqe, movsxd). These
// rewrite it to what GNU objdump 2.38+ prints, which is what people compare against.
var gnuRenames = map[string]string{
	"retq": "ret", "callq": "call", "leaveq": "leave", "jmpq": "jmp", "cdqe": "cltq",
	"movsxd": "movslq", "cqo": "cqto", "cdq": "cltd", "cwde": "cwtl", "cbw": "cbtw", "cwd": "cwtd",
	"pushq": "push", "popq": "pop", "lretq": "lret",
}

var (
	reNoBase     = regexp.MustCompile(`(^|[ ,:])\(,`)
	reNoScale    = regexp.MustCompile(`\((%[a-z0-9]+)?,(%[a-z0-9]+)\)`)
	reZeroDisp   = regexp.MustCompile(`(^|[ ,:*])\(%`)
	reNegAbs     = regexp.MustCompile(`(%[cdefgs]s:)-0x([0-9a-f]+)`)
	reNegImm     = regexp.MustCompile(`\$-0x([0-9a-f]+)`)
	reARM64Comma = regexp.MustCompile(`,(\S)`)
)

// objdumpATT rewrites x86asm's AT&T text of in to GNU objdump's current spelling.
func objdumpATT(in x86asm.Inst, text string) string {
	words := strings.SplitN(text, " ", 8)
	for i, w := range words {
		if r, ok := gnuRenames[w]; ok {
			words[i] = r
			break
		}
		if strings.ContainsAny(w, "%$(,") {
			break
		}
	}
	text = strings.Join(words, " ")
	immBits := in.DataSize
	memBits := 0
	zeroDisp := false
	for _, a := range in.Args {
		switch a := a.(type) {
		case x86asm.Reg:
			if a >= x86asm.AL && a <= x86asm.R15B {
				immBits = 8
			} else if a >= x86asm.AX && a <= x86asm.R15W {
				immBits = 16
			} else if a >= x86asm.EAX && a <= x86asm.R15L {
				immBits = 32
			} else if a >= x86asm.RAX && a <= x86asm.R15 {
				immBits = 64
			}
		case x86asm.Mem:
			memBits = in.MemBytes * 8
			if a.Disp == 0 {
				switch a.Base {
				case x86asm.RBP, x86asm.EBP, x86asm.R13, x86asm.R13L, x86asm.RIP, x86asm.EIP:
					zeroDisp = true
				}
				if in.Op == x86asm.NOP {
					zeroDisp = true
				}
			}
		}
	}
	if memBits != 0 && !hasRegArg(in) {
		immBits = memBits
	}
	text = reNoBase.ReplaceAllString(text, "${1}0x0(,")
	text = reNoScale.ReplaceAllString(text, "($1,$2,1)")
	if zeroDisp {
		text = reZeroDisp.ReplaceAllString(text, "${1}0x0(%")
	}
	text = reNegAbs.ReplaceAllStringFunc(text, func(s string) string {
		g := reNegAbs.FindStringSubmatch(s)
		v, err := strconv.ParseUint(g[2], 16, 64)
		if err != nil {
			return s
		}
		return fmt.Sprintf("%s%#x", g[1], -v)
	})
	if immBits > 0 && immBits <= 64 {
		text = reNegImm.ReplaceAllStringFunc(text, func(s string) string {
			v, err := strconv.ParseUint(s[4:], 16, 64)
			if err != nil {
				return s
			}
			v = -v
			if immBits < 64 {
				v &= 1<<uint(immBits) - 1
			}
			return fmt.Sprintf("$%#x", v)
		})
	}
	return text
}

func hasRegArg(in x86asm.Inst) bool {
	for _, a := range in.Args {
		if r, ok := a.(x86asm.Reg); ok && r >= x86asm.AL && r <= x86asm.R15 {
			return true
		}
	}
	return false
}

// arm64SysRegs names the system registers user code reads (Arm ARM D19), as objdump does.
var arm64SysRegs = map[string]string{
	"s3_3_c13_c0_2": "tpidr_el0", "s3_3_c13_c0_3": "tpidrro_el0", "s3_3_c4_c4_0": "fpcr",
	"s3_3_c4_c4_1": "fpsr", "s3_3_c4_c2_0": "nzcv", "s3_3_c14_c0_2": "cntvct_el0",
	"s3_3_c14_c0_0": "cntfrq_el0", "s3_0_c0_c0_0": "midr_el1", "s3_3_c0_c0_1": "ctr_el0",
	"s3_3_c0_c0_7": "dczid_el0", "s3_3_c4_c2_1": "daif",
}

// objdumpARM64 puts the space GNU objdump prints after every comma and names system
// registers.
func objdumpARM64(text string) string {
	text = reARM64Comma.ReplaceAllString(text, ", $1")
	if strings.HasPrefix(text, "mrs ") || strings.HasPrefix(text, "msr ") {
		for enc, name := range arm64SysRegs {
			text = strings.Replace(text, enc, name, 1)
		}
	}
	return text
}
