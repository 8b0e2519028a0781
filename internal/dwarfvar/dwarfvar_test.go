package dwarfvar

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/dwarfsym"
)

// reader opens f's DWARF the way coredig does: through a dwarfsym index.
func reader(t *testing.T, f *elf.File) *Reader {
	t.Helper()
	ix, err := dwarfsym.NewFromELF(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	info, addr, order := ix.Raw()
	r := New(ix, info, addr, order, f, nil)
	r.UseUnitIndex(ix.UnitsAt)
	return r
}

// compile builds testdata/types.c into a shared library with gcc (linked, so its DWARF
// addresses are final) and opens it.
func compile(t *testing.T, flags ...string) *elf.File {
	t.Helper()
	obj := filepath.Join(t.TempDir(), "types.so")
	args := append(append([]string{"-shared", "-fPIC", "-g"}, flags...), "-o", obj, filepath.Join("testdata", "types.c"))
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc is needed to build the DWARF under test (scripts/deps.sh installs it): %v\n%s", err, out)
	}
	f, err := elf.Open(obj)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func funcAddr(t *testing.T, f *elf.File, name string) uint64 {
	t.Helper()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("no symbol %s", name)
	return 0
}

// The types of types.c laid out by gcc: every offset names the field it falls in.
func TestFieldPathAndTypeName(t *testing.T) {
	f := compile(t, "-O0")
	r := reader(t, f)
	use := funcAddr(t, f, "use")
	g, err := r.Global(use, "gp")
	if err != nil {
		t.Fatal(err)
	}
	if got := TypeName(g.Type); got != "outer_t * volatile" {
		t.Errorf("type of gp %q", got)
	}
	outer := Pointee(g.Type)
	if TypeName(outer) != "outer_t" {
		t.Fatalf("pointee %q", TypeName(outer))
	}
	for _, c := range []struct {
		off  int64
		path string
		ok   bool
	}{
		{0, ".x", true},
		{4, ".x", false}, // inside x, not at its start: a scalar has no field there
		{8, ".in[0].a", true},
		{12, ".in[0].b[0]", true},
		{40, ".in[2].b[4]", true},
		{42, ".in[2]", false}, // padding at the end of struct inner
		{48, ".vp", true},
		{56, ".flag", true},
		{64, "", false}, // past the end
	} {
		path, ok := FieldPath(outer, c.off)
		if path != c.path || ok != c.ok {
			t.Errorf("FieldPath(outer_t, %#x) = %q, %v; want %q, %v", c.off, path, ok, c.path, c.ok)
		}
	}
}

// Variables in scope with their location at a pc: an -O0 parameter on the stack, and an
// -O2 parameter whose location list moves it from rdi to a callee-saved register across
// the call, in DWARF 5 (.debug_loclists) and DWARF 4 (.debug_loc).
func TestScopeAt(t *testing.T) {
	f := compile(t, "-O0")
	r := reader(t, f)
	sc, err := r.ScopeAt(funcAddr(t, f, "use") + 8)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Function != "use" || len(sc.FrameBase) != 1 || sc.FrameBase[0] != 0x9c {
		t.Errorf("scope %q frame base % x, want use with DW_OP_call_frame_cfa", sc.Function, sc.FrameBase)
	}
	names := map[string]Var{}
	for _, v := range sc.Vars {
		names[v.Name] = v
	}
	if p := names["p"]; !p.Param || TypeName(p.Type) != "outer_t *" || len(p.Expr) < 2 || p.Expr[0] != 0x91 {
		t.Errorf("p = %+v, want a parameter outer_t * at DW_OP_fbreg", p)
	}
	if _, ok := names["r"]; !ok {
		t.Errorf("local r missing from %v", sc.Vars)
	}

	for _, dw := range []string{"-gdwarf-5", "-gdwarf-4"} {
		t.Run(dw, func(t *testing.T) {
			f := compile(t, "-O2", dw)
			r := reader(t, f)
			use := funcAddr(t, f, "use")
			// At the entry p is in rdi (DWARF 5); after the call it must be elsewhere.
			sc, err := r.ScopeAt(use)
			if err != nil {
				t.Fatal(err)
			}
			p := find(sc, "p")
			if p == nil || !bytes.Equal(p.Expr, []byte{0x55}) {
				t.Fatalf("p at entry: %+v, want DW_OP_reg5 (rdi)", p)
			}
			call := callAfter(t, f, use)
			sc, err = r.ScopeAt(call)
			if err != nil {
				t.Fatal(err)
			}
			p = find(sc, "p")
			if p == nil || len(p.Expr) == 0 || bytes.Equal(p.Expr, []byte{0x55}) {
				t.Errorf("p after the call: %+v, want a location other than rdi", p)
			}
		})
	}
}

func find(sc *Scope, name string) *Var {
	for i := range sc.Vars {
		if sc.Vars[i].Name == name {
			return &sc.Vars[i]
		}
	}
	return nil
}

// callAfter returns the address just after the first call instruction (e8 rel32) in
// the function at start.
func callAfter(t *testing.T, f *elf.File, start uint64) uint64 {
	t.Helper()
	text := f.Section(".text")
	b, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	for i := int(start - text.Addr); i+5 <= len(b); i++ {
		if b[i] == 0xe8 || b[i] == 0xff && b[i+1] == 0x15 { // call rel32, call *rel32(%rip)
			if b[i] == 0xff {
				return text.Addr + uint64(i) + 6
			}
			return text.Addr + uint64(i) + 5
		}
	}
	t.Fatal("no call in use")
	return 0
}

// 32-bit targets' location lists hold 4-byte addresses: the list GCC 12 wrote for deref's
// parameter p in deref.c built with arm-linux-gnueabihf-gcc -O2 -g -marm (eu-readelf
// --debug-dump=loc: base_address 0x87c; offset_pair 0, 4: reg0; offset_pair 4, 8:
// entry_value(reg0), stack_value), preceded by the view pairs of the list before it,
// and a DWARF 4 list of 4-byte pairs whose base selection is 0xffffffff.
func TestLocList32(t *testing.T) {
	v5 := []byte{lleGNUViewPair, 0, 0, lleGNUViewPair, 0, 0,
		lleBaseAddress, 0x7c, 0x08, 0, 0,
		lleOffsetPair, 0, 4, 1, 0x50,
		lleOffsetPair, 4, 8, 4, 0xa3, 0x01, 0x50, 0x9f,
		lleEndOfList}
	v4 := []byte{0xff, 0xff, 0xff, 0xff, 0x00, 0x10, 0, 0, // base selection: 0x1000
		0x00, 0, 0, 0, 0x08, 0, 0, 0, 1, 0, 0x51, // [0x1000, 0x1008): reg1
		0, 0, 0, 0, 0, 0, 0, 0}
	r := &Reader{order: binary.LittleEndian, loclists: v5, loc: v4, addrSize: 4}
	r.listOnce.Do(func() {})
	for _, tc := range []struct {
		version int
		pc      uint64
		want    string
	}{
		{5, 0x87c, "50"}, {5, 0x87f, "50"}, {5, 0x880, "a301509f"}, {5, 0x888, ""}, {5, 0x878, ""},
		{4, 0x1000, "51"}, {4, 0x1007, "51"}, {4, 0x1008, ""},
	} {
		got := r.locListAt(0, tc.pc, unitCtx{version: tc.version}, false)
		if fmt.Sprintf("%x", got) != tc.want {
			t.Errorf("DWARF %d at %#x: %x, want %s", tc.version, tc.pc, got, tc.want)
		}
	}
}

// FuzzLocList reads arbitrary bytes as location lists, both versions and both
// addressing forms: never a panic, never a hang.
func FuzzLocList(f *testing.F) {
	f.Add([]byte{lleOffsetPair, 0x00, 0x10, 0x01, 0x55, lleEndOfList}, uint64(0), uint64(4))
	f.Add([]byte{lleBaseAddressx, 0x00, lleStartxLength, 0x01, 0x20, 0x01, 0x53, 0}, uint64(0), uint64(0x1008))
	f.Add(append(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 0), 0x10), 1, 0, 0x55), uint64(0), uint64(4))
	f.Fuzz(func(t *testing.T, data []byte, off, pc uint64) {
		for _, size := range []int{8, 4} {
			r := &Reader{order: binary.LittleEndian, loclists: data, loc: data, addr: data, addrSize: size}
			for _, u := range []unitCtx{{version: 5}, {version: 4}, {version: 5, loclistsBase: 4, addrBase: 8}} {
				r.locListAt(off%uint64(len(data)+1), pc, u, false)
				r.locListAt(off%64, pc, u, true)
			}
		}
	})
}

// FuzzScope reads variables and types from mutated DWARF: a real library's ELF file
// with bytes changed. It must never panic or hang (an input running 10 s fails). The
// inputs are whole ELF files, so give minimization a short budget:
//
//	go test ./internal/dwarfvar -run XXX -fuzz FuzzScope -fuzzminimizetime 1s
func FuzzScope(f *testing.F) {
	lib := filepath.Join(f.TempDir(), "types.so")
	if out, err := exec.Command("gcc", "-shared", "-fPIC", "-g", "-O2", "-o", lib, filepath.Join("testdata", "types.c")).CombinedOutput(); err != nil {
		f.Fatalf("gcc is needed to build the seed (scripts/deps.sh installs it): %v\n%s", err, out)
	}
	seed, err := os.ReadFile(lib)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, uint64(0x1110))
	f.Fuzz(func(t *testing.T, data []byte, pc uint64) {
		watchdog := time.AfterFunc(10*time.Second, func() { panic("FuzzScope: one input ran for 10 s") })
		defer watchdog.Stop()
		ef, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		ix, err := dwarfsym.NewFromELF(ef, nil)
		if err != nil {
			return
		}
		info, addr, order := ix.Raw()
		r := New(ix, info, addr, order, ef, nil)
		if pc&1 != 0 {
			r.UseUnitIndex(ix.UnitsAt)
		}
		for _, at := range []uint64{pc, 0x1110, 0x1118} {
			if sc, err := r.ScopeAt(at); err == nil {
				for _, v := range sc.Vars {
					TypeName(v.Type)
					FieldPath(Pointee(v.Type), 8)
				}
			}
		}
		if g, err := r.Global(pc, "gp"); err == nil {
			FieldPath(Pointee(g.Type), 40)
		}
	})
}

// Type names as the source language writes them, for types debug/dwarf builds by hand.
func TestTypeNameForms(t *testing.T) {
	i := &dwarf.IntType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{Name: "int", ByteSize: 4}}}
	ch := &dwarf.CharType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{Name: "char", ByteSize: 1}}}
	goT := &dwarf.StructType{StructName: "main.T", Kind: "struct"}
	goT.Name = "main.T"
	for _, c := range []struct {
		t    dwarf.Type
		want string
	}{
		{&dwarf.PtrType{Type: &dwarf.PtrType{Type: ch}}, "char **"},
		{&dwarf.QualType{Qual: "const", Type: ch}, "const char"},
		{&dwarf.QualType{Qual: "volatile", Type: &dwarf.PtrType{Type: i}}, "int * volatile"},
		{&dwarf.ArrayType{Type: i, Count: 3}, "int [3]"},
		{&dwarf.PtrType{Type: &dwarf.FuncType{ReturnType: i, ParamType: []dwarf.Type{i}}}, "int (*)(int)"},
		{&dwarf.PtrType{Type: &dwarf.FuncType{}}, "void (*)(void)"},
		{&dwarf.PtrType{}, "void *"},
		{&dwarf.PtrType{Type: &dwarf.TypedefType{CommonType: dwarf.CommonType{Name: "main.T"}, Type: goT}}, "*main.T"},
	} {
		if got := TypeName(c.t); got != c.want {
			t.Errorf("TypeName = %q, want %q", got, c.want)
		}
	}
}

// Readers on several goroutines share one index's dwarf.Data, as the analyses of
// coredig triage do: with the index as their Source (types read through it), go test -race finds
// nothing, and every reader sees what one reader alone sees.
func TestSharedData(t *testing.T) {
	f := compile(t, "-O2", "-gdwarf-5")
	ix, err := dwarfsym.NewFromELF(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	use := funcAddr(t, f, "use")
	pcs := []uint64{use, callAfter(t, f, use)}
	describe := func(r *Reader) string {
		var b bytes.Buffer
		for _, pc := range pcs {
			sc, err := r.ScopeAt(pc)
			if err != nil {
				t.Error(err)
				return ""
			}
			for _, v := range sc.Vars {
				b.WriteString(v.Name + " " + TypeName(v.Type) + "\n")
			}
		}
		return b.String()
	}
	open := func() *Reader {
		info, addr, order := ix.Raw()
		r := New(ix, info, addr, order, f, nil)
		r.UseUnitIndex(ix.UnitsAt)
		return r
	}
	want := describe(reader(t, f))
	if want == "" {
		t.Fatal("no variables at use")
	}
	got := make([]string, 4)
	done := make(chan int)
	for i := range got {
		go func() {
			got[i] = describe(open())
			if _, err := ix.Lookup(pcs[i%2]); err != nil {
				t.Error(err)
			}
			done <- i
		}()
	}
	for range got {
		<-done
	}
	for i, g := range got {
		if g != want {
			t.Errorf("reader %d saw\n%s\nwant\n%s", i, g, want)
		}
	}
}
