package diagnose

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/testcore"
)

// These crashers (testdata/src: int3.c, misaligned.c, mmapbus.c, noncanon.c,
// threadoverflow.c, wild.c) cover classes the testcore catalogue does not: alignment
// check, truncated mmap, #GP, int3, wild pointer, thread guard page. testcore builds
// and crashes them.

// ownCore makes the core of testdata/src/<name>.c (gcc -O0 -g) run with args, and
// returns the paths of the core and the binary.
func ownCore(t *testing.T, name string, args ...string) (string, string) {
	t.Helper()
	c := testcore.Make(t, testcore.Spec{Name: name + "-x86_64", Source: name + ".c", Args: args})
	return c.Path, c.Exe
}

func loadOwn(t *testing.T, name string, args ...string) *fixture {
	t.Helper()
	path, exe := ownCore(t, name, args...)
	return loadPath(t, path, exe, "", nil)
}

func TestOwnMisaligned(t *testing.T) {
	fx := loadOwn(t, "misaligned")
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindMisaligned, "Misaligned access in load_odd", "not 8-byte aligned")
	if v, _ := d.Get("access"); !strings.HasPrefix(v, "reads 8 bytes at ") {
		t.Errorf("access %q", v)
	}
	// The kernel gives no address for #AC: the computed one is odd and is the buffer+3.
	buf, ok := fx.syms.vars["buf"]
	if !ok {
		t.Fatal("no symbol buf")
	}
	mustEv(t, d, "computed_address", hex(buf+3))
	mustKind(t, d, KindMisaligned, "at "+hex(buf+3)+", not 8-byte aligned")
}

func TestOwnMmapBus(t *testing.T) {
	path, exe := ownCore(t, "mmapbus", "mapped.bin") // relative: created in the run directory
	file := filepath.Join(filepath.Dir(path), "mapped.bin")
	fx := loadPath(t, path, exe, "", nil)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindBusErrorMappedFile, "Bus error in read_mapped", "memory-mapped file "+file)
	mustEv(t, d, "file", file)
}

func TestOwnNonCanonical(t *testing.T) {
	fx := loadOwn(t, "noncanon")
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindNonCanonical, "General protection fault in poisoned", "0xdead000000000010 is a non-canonical address")
	mustEv(t, d, "non_canonical_address", "0xdead000000000010")
	mustEv(t, d, "access", "reads 8 bytes at rax+0x10")
}

func TestOwnInt3(t *testing.T) {
	fx := loadOwn(t, "int3")
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindBreakpoint, "Breakpoint int3 at ", "in debug_hook")
}

func TestOwnWild(t *testing.T) {
	fx := loadOwn(t, "wild")
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindWildPointer, "Wild pointer in chase: access at 0x123456789008, which is not mapped", "reads 8 bytes at rax+0x8; rax = 0x123456789000")
}

func TestOwnThreadOverflow(t *testing.T) {
	fx := loadOwn(t, "threadoverflow")
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindStackOverflow, "Stack overflow in ", "the stack of thread ", "descend recurses")
	mustEv(t, d, "recursion", "descend")
}

func TestRealAArch64Trap(t *testing.T) {
	fx := load(t, testcore.Spec{Name: "trap-aarch64", Source: "trap.c", Arch: testcore.ArchAArch64})
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindTrap, "Trap instruction brk #0x3e8 in do_trap", "__builtin_trap")
}

func TestRealAArch64Rodata(t *testing.T) {
	fx := load(t, testcore.Spec{Name: "rodata-aarch64", Source: "rodata.c", Arch: testcore.ArchAArch64})
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindWriteReadOnly, "Write to read-only memory in shout", "writes 1 byte at x")
}
