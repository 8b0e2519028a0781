package expr

import (
	"debug/elf"
	"errors"
	"testing"

	"github.com/coredig/coredig/internal/dwarf/cfi"
)

// realExpressions returns the DWARF expressions of the CFI of a real library (glibc's
// signal trampoline and PLT entries use them).
func realExpressions(t testing.TB, path string) [][]byte {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s is needed for the fuzz seeds: %v", path, err)
	}
	defer f.Close()
	s := f.Section(".eh_frame")
	data, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := cfi.New(cfi.Config{Data: data, Addr: s.Addr, PtrSize: 8, Order: f.ByteOrder})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	tab.FDEs(func(fde *cfi.FDE) bool {
		for pc := fde.Begin; pc < fde.End && len(out) < 64; pc += 4 {
			row, err := tab.Row(fde, pc)
			if err != nil {
				break
			}
			if row.CFA.Kind == cfi.CFAExpression {
				out = append(out, row.CFA.Expr)
			}
			for _, r := range row.Rules {
				if len(r.Rule.Expr) > 0 {
					out = append(out, r.Rule.Expr)
				}
			}
			pc = max(pc, row.End-4)
		}
		return len(out) < 64
	})
	if len(out) == 0 {
		t.Fatalf("no DWARF expression in the CFI of %s", path)
	}
	return out
}

func FuzzEval(f *testing.F) {
	for _, e := range realExpressions(f, "/lib/x86_64-linux-gnu/libc.so.6") {
		f.Add(e, uint64(0x1010))
	}
	f.Add([]byte{DW_OP_breg0 + 7, 8, DW_OP_deref, DW_OP_lit0 + 1, DW_OP_bra, 0xfd, 0xff}, uint64(0))
	f.Fuzz(func(t *testing.T, code []byte, cfa uint64) {
		ctx := testCtx()
		ctx.MaxSteps = 2000
		_, err := Eval(code, ctx, cfa)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error %v is not an *Error", err)
		}
		if e != nil && (e.Offset < 0 || e.Offset > len(code)) {
			t.Fatalf("error offset %d outside the %d-byte expression", e.Offset, len(code))
		}
	})
}
