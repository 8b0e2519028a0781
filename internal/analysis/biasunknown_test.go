package analysis

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// dropHeaderPage copies a core, marking the PT_LOAD segment at vaddr as not dumped
// (p_filesz 0), as a core filtered by coredump_filter or cut short lacks a module's ELF
// header page.
func dropHeaderPage(t *testing.T, corePath string, vaddr uint64) string {
	t.Helper()
	b, err := os.ReadFile(corePath)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(corePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	phoff := binary.LittleEndian.Uint64(b[0x20:])
	phentsize := uint64(binary.LittleEndian.Uint16(b[0x36:]))
	found := false
	for i, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Vaddr == vaddr {
			binary.LittleEndian.PutUint64(b[phoff+uint64(i)*phentsize+32:], 0)
			found = true
		}
	}
	if !found {
		t.Fatalf("no PT_LOAD at %#x in %s", vaddr, corePath)
	}
	out := filepath.Join(t.TempDir(), "core")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// noFiles finds no file at all: the core is all there is.
type noFiles struct{}

func (noFiles) FindExecutable(string, []byte) (string, []symbolize.Attempt) { return "", nil }
func (noFiles) FindDebug(string, []byte, string, uint32) (string, []symbolize.Attempt) {
	return "", nil
}

// A module whose load bias cannot be known (its ELF header page is not in the core, its
// file is not found, and without the program headers at AT_PHDR neither is the dynamic
// linker's list) is still named module+offset with an offset from the module's first
// mapping, not the absolute pc: for a PIE or a shared library, whose first PT_LOAD is at
// 0, that is the link-time address, the same in every run whatever ASLR did. Two runs of
// deref.c give one signature.
func TestUnknownBiasModuleOffset(t *testing.T) {
	var sigs []string
	for _, name := range []string{"deref-x86_64-pie-nobias-1", "deref-x86_64-pie-nobias-2"} {
		spec := testcore.DerefPIE
		spec.Name = name
		c := testcore.Make(t, spec)
		// The offset with the bias known, from the intact core and its executable.
		a, _ := open(t, c.Path, symbolize.Options{})
		full := a.Full(FullOptions{})
		exe := findExe(t, full)
		want := uint64(crashFrame0(t, full).PC) - uint64(*exe.Bias)

		cut := dropHeaderPage(t, c.Path, uint64(exe.Start))
		a, _ = open(t, cut, symbolize.Options{Finder: noFiles{}})
		full = a.Full(FullOptions{})
		exe = findExe(t, full)
		if exe.Bias != nil {
			t.Fatalf("load bias %v known without the header page or the file (notes %q)", exe.Bias, exe.Notes)
		}
		f := crashFrame0(t, full)
		if f.Module != exe.Path || f.ModuleOffset == nil || uint64(*f.ModuleOffset) != want {
			t.Errorf("frame 0 %s +%v, want %s +%#x", f.Module, f.ModuleOffset, exe.Path, want)
		}
		if first := full.Signature.Frames[0]; first != fmt.Sprintf("deref+%#x", want) {
			t.Errorf("signature frame %q, want deref+%#x", first, want)
		}
		sigs = append(sigs, full.Signature.Text)
		t.Logf("%s: %s", name, full.Signature.Text)
	}
	if sigs[0] != sigs[1] {
		t.Errorf("two runs, two signatures:\n %s\n %s", sigs[0], sigs[1])
	}
}

func findExe(t *testing.T, r *report.Report) report.Module {
	t.Helper()
	for _, m := range r.Modules {
		if m.Executable {
			return m
		}
	}
	t.Fatalf("no executable among %d modules", len(r.Modules))
	return report.Module{}
}

// crashFrame0 is the crashing thread's first frame.
func crashFrame0(t *testing.T, r *report.Report) report.Frame {
	t.Helper()
	for _, th := range r.Threads {
		if r.CrashedTID != nil && th.TID == *r.CrashedTID && len(th.Frames) > 0 {
			return th.Frames[0]
		}
	}
	t.Fatalf("no crashing thread with frames")
	return report.Frame{}
}

// Cores whose modules map file page 0 twice, from linkers without separate code pages.
// elfutils' test-core.core (x86_64, Fedora 2012, prelinked glibc 2.16) was written by a
// kernel that dumped no text page, and test-core-lib.so comes from a linker without
// separate code pages: its data segment maps file page 0 again at +0x200000, and that
// page is the only copy of its ELF header in the core. Expected values from elfutils'
// tests: run-addrname-test.sh names 0x7f67f2aaf619 libfunc+0x9, and run-unstrip-n.sh
// lists test-core-lib.so once, at 0x7f67f2aaf000 (0x202000 bytes).
func TestOldLayoutLibraryCore(t *testing.T) {
	corePath := testcore.ElfutilsCore(t, "test-core.core")
	exe := testcore.ElfutilsCore(t, "test-core.exec")
	lib := testcore.ElfutilsCore(t, "test-core-lib.so")
	const libPath = "/home/jkratoch/redhat/elfutils-libregr/test-core-lib.so"
	module := func(r *report.Report, name string) report.Module {
		t.Helper()
		var found []report.Module
		for _, m := range r.Modules {
			if filepath.Base(m.Path) == name {
				found = append(found, m)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d modules named %s: %+v", len(found), name, found)
		}
		return found[0]
	}

	t.Run("core alone", func(t *testing.T) {
		a, _ := open(t, corePath, symbolize.Options{Finder: noFiles{}})
		r := a.Full(FullOptions{})
		m := module(r, "test-core-lib.so")
		if m.Path != libPath || m.Bias == nil || *m.Bias != 0x7f67f2aaf000 || m.Start != 0x7f67f2aaf000 || m.End != 0x7f67f2cb1000 {
			t.Errorf("test-core-lib.so: %+v", m)
		}
		// Neither libc's header nor its file nor (without the executable's program
		// headers) the link_map: its offset is from its first mapping.
		if m := module(r, "libc-2.16.so"); m.Bias != nil {
			t.Errorf("libc-2.16.so load bias %v without a header, a file or link_map", m.Bias)
		}
		want := "null_pointer_dereference @ test-core-lib.so+0x619 < test-core-main+0x68a < libc-2.16.so+0x21a05"
		if r.Signature == nil || r.Signature.Text != want {
			t.Errorf("signature %+v, want %s", r.Signature, want)
		}
	})

	// The same layout on aarch64 (64 KiB pages): testfile_aarch64_core's a.out maps file
	// page 0 at 0x400000 (not dumped) and again at 0x410000, where eu-unstrip -n reads
	// its build-id (c0b04d1b...@0x410214). One module, linked at its address (bias 0).
	t.Run("aarch64", func(t *testing.T) {
		a, _ := open(t, testcore.ElfutilsCore(t, "testfile_aarch64_core"), symbolize.Options{Finder: noFiles{}})
		r := a.Full(FullOptions{})
		m := module(r, "a.out")
		if m.Bias == nil || *m.Bias != 0 || m.Start != 0x400000 || m.End != 0x420000 || m.BuildID != "c0b04d1be94584a0f4f971796782099962d3e9d1" {
			t.Errorf("a.out: %+v", m)
		}
		want := "wild_pointer @ a.out+0x400548 < libc-2.17.so+0x20b38 < a.out+0x40040c"
		if r.Signature == nil || r.Signature.Text != want {
			t.Errorf("signature %+v, want %s", r.Signature, want)
		}
	})

	t.Run("with the files", func(t *testing.T) {
		// The library at its path under a sysroot; the executable given.
		sysroot := t.TempDir()
		dst := filepath.Join(sysroot, libPath)
		b, err := os.ReadFile(lib)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		a, _ := open(t, corePath, symbolize.Options{ExePath: exe, Finder: symbolize.PathFinder{Sysroot: sysroot}})
		r := a.Full(FullOptions{})
		f := crashFrame0(t, r)
		if f.PC != 0x7f67f2aaf619 || f.Function != "libfunc" || f.FunctionOffset == nil || *f.FunctionOffset != 0x9 ||
			f.ModuleOffset == nil || *f.ModuleOffset != 0x619 {
			t.Errorf("frame 0: %s+%v at %v (module offset %v), want libfunc+0x9 at 0x7f67f2aaf619", f.Function, f.FunctionOffset, f.PC, f.ModuleOffset)
		}
		// glibc 2.16 was prelinked: the dynamic linker's list gives l_addr 0, found by
		// the l_ld inside the module (NT_FILE's libc-2.16.so is link_map's libc.so.6).
		for _, name := range []string{"libc-2.16.so", "ld-2.16.so"} {
			if m := module(r, name); m.Bias == nil || *m.Bias != 0 {
				t.Errorf("%s load bias %v, want 0 from link_map (notes %q)", name, m.Bias, m.Notes)
			}
		}
		want := "null_pointer_dereference @ libfunc < main < libc-2.16.so+0x37efc21a05"
		if r.Signature == nil || r.Signature.Text != want {
			t.Errorf("signature %+v, want %s", r.Signature, want)
		}
	})
}
