package buildid

import (
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const testProgram = `int helper(int x) { return x * 3; }
int main(int argc, char **argv) { (void)argv; return helper(argc); }
`

// Build-ids given to the linker, so expected values are known exactly.
const (
	idA = "0123456789abcdef0123456789abcdef01234567"
	idB = "fedcba9876543210fedcba9876543210fedcba98"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildC compiles testProgram with debug info and the given build-id
// (hex, or "none" for no build-id note) into dir/name.
func buildC(t *testing.T, dir, name, id string) string {
	t.Helper()
	src := filepath.Join(dir, name+".c")
	if err := os.WriteFile(src, []byte(testProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	flag := "-Wl,--build-id=0x" + id
	if id == "none" {
		flag = "-Wl,--build-id=none"
	}
	cmd := exec.Command("gcc", "-g", "-O0", flag, "-o", out, src)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc is needed to build test binaries: %v\n%s", err, b)
	}
	return out
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// stdlibBuildID extracts the build-id with debug/elf, independently of
// the code under test.
func stdlibBuildID(t *testing.T, p string) string {
	t.Helper()
	f, err := elf.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		t.Fatalf("%s has no .note.gnu.build-id", p)
	}
	b, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	namesz := binary.LittleEndian.Uint32(b)
	descsz := binary.LittleEndian.Uint32(b[4:])
	off := 12 + (namesz+3)&^3
	return hex.EncodeToString(b[off : off+descsz])
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	a := buildC(t, dir, "a", idA)
	none := buildC(t, dir, "none", "none")

	info, err := ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(info.BuildID); got != idA {
		t.Errorf("build-id = %s, want %s", got, idA)
	}
	if info.Class != 64 || info.Machine != uint16(elf.EM_X86_64) || !info.HasDWARF || info.Debuglink != "" || len(info.Problems) != 0 {
		t.Errorf("info = %+v, want class 64, EM_X86_64, DWARF, no debuglink, no problems", info)
	}

	info, err = ReadFile(none)
	if err != nil {
		t.Fatal(err)
	}
	if info.BuildID != nil {
		t.Errorf("build-id of a --build-id=none binary = %x, want nil", info.BuildID)
	}

	libc := "/lib/x86_64-linux-gnu/libc.so.6"
	info, err = ReadFile(libc)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(info.BuildID), stdlibBuildID(t, libc); got != want {
		t.Errorf("libc build-id = %s, debug/elf says %s", got, want)
	}

	_, err = ReadFile(filepath.Join(dir, "a.c"))
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Off != 0 || fe.Msg != "bad magic" {
		t.Errorf("ReadFile(C source) error = %v, want FormatError bad magic at 0", err)
	}
}

func TestSegmentNotesWithoutSections(t *testing.T) {
	// A file whose section header table is gone (e_shoff = 0) still
	// yields its build-id from PT_NOTE.
	dir := t.TempDir()
	a := buildC(t, dir, "a", idA)
	b, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(b[40:], 0) // e_shoff
	binary.LittleEndian.PutUint16(b[60:], 0) // e_shnum
	p := filepath.Join(dir, "noshdr")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(info.BuildID); got != idA || info.HasDWARF {
		t.Errorf("build-id = %s, HasDWARF = %v; want %s, false", got, info.HasDWARF, idA)
	}
}

func TestFindExecutable(t *testing.T) {
	dir := t.TempDir()
	orig := buildC(t, filepath.Join(dir), "crasher", idA)
	search := filepath.Join(dir, "search")
	renamed := filepath.Join(search, "deep", "renamed-app")
	copyFile(t, orig, renamed)
	// A rebuilt binary with another build-id sits at the path the core names.
	rebuilt := buildC(t, dir, "rebuilt", idB)
	named := filepath.Join(dir, "opt", "app", "crasher")
	copyFile(t, rebuilt, named)
	// Noise in the search directory: a non-ELF file and a binary without build-id.
	if err := os.WriteFile(filepath.Join(search, "README"), []byte("not elf"), 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, buildC(t, dir, "none", "none"), filepath.Join(search, "nobuildid"))

	l := &Locator{Search: []string{search}}
	found, trail := l.FindExecutable(named, mustHex(t, idA))
	if found != renamed {
		t.Errorf("found %q, want %q", found, renamed)
	}
	want := []Attempt{
		{Path: named, Source: SourcePath, Result: ResultWrongBuildID + ": " + idB},
		{Path: renamed, Source: SourceSearch, Result: ResultMatch, OK: true},
	}
	if !reflect.DeepEqual(trail, want) {
		t.Errorf("trail:\n got %+v\nwant %+v", trail, want)
	}
	ix := l.Index()
	if ix.Files != 3 || ix.ELFs != 2 || ix.Indexed != 1 {
		t.Errorf("index counts files=%d elfs=%d indexed=%d, want 3 2 1", ix.Files, ix.ELFs, ix.Indexed)
	}

	// Missing everywhere: every place is in the trail.
	l2 := &Locator{Search: []string{search}}
	found, trail = l2.FindExecutable(filepath.Join(dir, "gone"), mustHex(t, "00112233"))
	want = []Attempt{{Path: filepath.Join(dir, "gone"), Source: SourcePath, Result: ResultNotFound}}
	if found != "" || !reflect.DeepEqual(trail, want) {
		t.Errorf("missing: found %q trail %+v, want \"\" %+v", found, trail, want)
	}

	// Nothing matches but a rebuilt binary sits at the named path: it is
	// returned, its attempt not OK, so that the caller can report a
	// mismatch instead of a missing file.
	var l3 Locator
	found, trail = l3.FindExecutable(named, mustHex(t, idA))
	want = []Attempt{{Path: named, Source: SourcePath, Result: ResultWrongBuildID + ": " + idB}}
	if found != named || !reflect.DeepEqual(trail, want) {
		t.Errorf("mismatch only: found %q trail %+v, want %q %+v", found, trail, named, want)
	}

	// No build-id in the core: the named path is accepted, unverified.
	found, trail = l2.FindExecutable(named, nil)
	want = []Attempt{{Path: named, Source: SourcePath, Result: ResultUnverified, OK: true}}
	if found != named || !reflect.DeepEqual(trail, want) {
		t.Errorf("no build-id: found %q trail %+v, want %q %+v", found, trail, named, want)
	}
}

func TestFindExecutableSysroot(t *testing.T) {
	dir := t.TempDir()
	orig := buildC(t, dir, "crasher", idA)
	root := filepath.Join(dir, "root")
	copyFile(t, orig, filepath.Join(root, "usr", "lib", "app", "crasher"))
	// Absolute symlinks, as in a docker export: /lib -> /usr/lib and
	// /usr/lib/app/current -> /usr/lib/app/crasher must resolve inside root.
	if err := os.Symlink("/usr/lib", filepath.Join(root, "lib")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/lib/app/crasher", filepath.Join(root, "usr", "lib", "app", "current")); err != nil {
		t.Fatal(err)
	}
	l := &Locator{Sysroot: root}
	want := filepath.Join(root, "usr", "lib", "app", "crasher")
	found, trail := l.FindExecutable("/lib/app/current", mustHex(t, idA))
	wantTrail := []Attempt{{Path: want, Source: SourceSysroot, Result: ResultMatch, OK: true}}
	if found != want || !reflect.DeepEqual(trail, wantTrail) {
		t.Errorf("found %q trail %+v, want %q %+v", found, trail, want, wantTrail)
	}
	// ".." cannot climb out of the sysroot.
	got, err := ResolveIn(root, "/../../../lib/app/crasher")
	if err != nil || got != want {
		t.Errorf("ResolveIn(..) = %q, %v; want %q", got, err, want)
	}
	// A symlink loop is bounded.
	if err := os.Symlink("/loop", filepath.Join(root, "loop")); err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveIn(root, "/loop/x"); err == nil || !strings.Contains(err.Error(), "more than 40 symbolic links") {
		t.Errorf("ResolveIn(loop) error = %v, want symbolic link limit", err)
	}
}

func TestFindDebugDebuglink(t *testing.T) {
	dir := t.TempDir()
	exe := buildC(t, dir, "crasher", idA)
	dbg := exe + ".debug"
	run(t, "objcopy", "--only-keep-debug", exe, dbg)
	run(t, "objcopy", "--strip-debug", "--add-gnu-debuglink="+dbg, exe)
	dbgBytes, err := os.ReadFile(dbg)
	if err != nil {
		t.Fatal(err)
	}
	wantCRC := crc32.ChecksumIEEE(dbgBytes)

	info, err := ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if info.Debuglink != "crasher.debug" || info.DebuglinkCRC != wantCRC || info.HasDWARF {
		t.Fatalf("stripped exe: debuglink %q crc %#x DWARF %v; want crasher.debug %#x false", info.Debuglink, info.DebuglinkCRC, info.HasDWARF, wantCRC)
	}
	if got, err := FileCRC(dbg); err != nil || got != wantCRC {
		t.Fatalf("FileCRC = %#x, %v; want %#x", got, err, wantCRC)
	}
	// Move the debug file into the .debug subdirectory.
	sub := filepath.Join(dir, ".debug", "crasher.debug")
	copyFile(t, dbg, sub)
	if err := os.Remove(dbg); err != nil {
		t.Fatal(err)
	}
	debugDir := filepath.Join(dir, "debugroot")
	l := &Locator{DebugDirs: []string{debugDir}}
	found, trail := l.FindDebug(exe, info.BuildID, info.Debuglink, info.DebuglinkCRC)
	want := []Attempt{
		{Path: filepath.Join(debugDir, ".build-id", "01", "23456789abcdef0123456789abcdef01234567.debug"), Source: SourceBuildIDDir, Result: ResultNotFound},
		{Path: dbg, Source: SourceDebuglink, Result: ResultNotFound},
		{Path: sub, Source: SourceDebuglink, Result: ResultCRCMatch, OK: true},
	}
	if found != sub || !reflect.DeepEqual(trail, want) {
		t.Errorf("found %q, trail:\n got %+v\nwant %q %+v", found, trail, sub, want)
	}

	// Corrupt one byte of the debug file: the CRC no longer matches, and
	// the search goes on to DEBUGDIR/<dir>/crasher.debug.
	dbgBytes[len(dbgBytes)-1] ^= 0xff
	if err := os.WriteFile(sub, dbgBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	badCRC := crc32.ChecksumIEEE(dbgBytes)
	found, trail = l.FindDebug(exe, info.BuildID, info.Debuglink, info.DebuglinkCRC)
	want = []Attempt{
		want[0], want[1],
		{Path: sub, Source: SourceDebuglink, Result: "CRC mismatch: file " + hex8(badCRC) + ", debuglink " + hex8(wantCRC)},
		{Path: filepath.Join(debugDir, dir, "crasher.debug"), Source: SourceDebuglink, Result: ResultNotFound},
	}
	if found != "" || !reflect.DeepEqual(trail, want) {
		t.Errorf("corrupt: found %q, trail:\n got %+v\nwant %+v", found, trail, want)
	}
}

func hex8(v uint32) string {
	const digits = "0123456789abcdef"
	b := []byte("0x00000000")
	for i := 9; i >= 2; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b)
}

func TestFindDebugBuildIDDirAndSearch(t *testing.T) {
	dir := t.TempDir()
	exe := buildC(t, dir, "crasher", idA)
	debugDir := filepath.Join(dir, "debug")
	// A stripped copy under the build-id path is rejected (no DWARF); the
	// real debug file in a search directory is then used.
	stripped := filepath.Join(debugDir, ".build-id", "01", "23456789abcdef0123456789abcdef01234567.debug")
	copyFile(t, exe, stripped)
	run(t, "strip", "--strip-debug", stripped)
	search := filepath.Join(dir, "search")
	full := filepath.Join(search, "anything.bin")
	copyFile(t, exe, full)
	l := &Locator{DebugDirs: []string{debugDir}, Search: []string{search}}
	found, trail := l.FindDebug("", mustHex(t, idA), "", 0)
	want := []Attempt{
		{Path: stripped, Source: SourceBuildIDDir, Result: ResultNoDebugInfo + " (build-id matches but no .debug_info)"},
		{Path: full, Source: SourceSearch, Result: ResultMatch, OK: true},
	}
	if found != full || !reflect.DeepEqual(trail, want) {
		t.Errorf("found %q trail:\n got %+v\nwant %q %+v", found, trail, full, want)
	}

	// When that unstripped file is the executable itself (found by --search),
	// it is not its own separate debug file: nothing is found.
	found, trail = l.FindDebug(full, mustHex(t, idA), "", 0)
	want = want[:1]
	if found != "" || !reflect.DeepEqual(trail, want) {
		t.Errorf("executable as its own debug file: found %q trail:\n got %+v\nwant \"\" %+v", found, trail, want)
	}
}

func TestFindDebugLibc(t *testing.T) {
	// libc6-dbg installs libc's debug file under its build-id.
	libc := "/lib/x86_64-linux-gnu/libc.so.6"
	h := stdlibBuildID(t, libc)
	want := "/usr/lib/debug/.build-id/" + h[:2] + "/" + h[2:] + ".debug"
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("libc6-dbg must be installed for this test (apt-get install libc6-dbg): %v", err)
	}
	info, err := ReadFile(libc)
	if err != nil {
		t.Fatal(err)
	}
	var l Locator
	found, trail := l.FindDebug(libc, info.BuildID, info.Debuglink, info.DebuglinkCRC)
	wantTrail := []Attempt{{Path: want, Source: SourceBuildIDDir, Result: ResultMatch, OK: true}}
	if found != want || !reflect.DeepEqual(trail, wantTrail) {
		t.Errorf("found %q trail %+v, want %q %+v", found, trail, want, wantTrail)
	}
	// Under a sysroot without debug files, the sysroot's debug directory is
	// tried first, then the host's.
	root := t.TempDir()
	l = Locator{Sysroot: root}
	found, trail = l.FindDebug(libc, info.BuildID, "", 0)
	wantTrail = []Attempt{
		{Path: filepath.Join(root, "usr", "lib", "debug", ".build-id", h[:2], h[2:]+".debug"), Source: SourceBuildIDDir, Result: ResultNotFound},
		{Path: want, Source: SourceBuildIDDir, Result: ResultMatch, OK: true},
	}
	if found != want || !reflect.DeepEqual(trail, wantTrail) {
		t.Errorf("sysroot: found %q trail:\n got %+v\nwant %q %+v", found, trail, want, wantTrail)
	}
}

func TestFindExecutableAarch64Sysroot(t *testing.T) {
	// The cross toolchain's libraries, as a qemu-aarch64 -L sysroot: the
	// core names guest paths such as /lib/libc.so.6.
	root := "/usr/aarch64-linux-gnu"
	for _, guest := range []string{"/lib/libc.so.6", "/lib/ld-linux-aarch64.so.1"} {
		host := filepath.Join(root, guest)
		if _, err := os.Stat(host); err != nil {
			t.Fatalf("gcc-aarch64-linux-gnu's libc6-arm64-cross must be installed for this test: %v", err)
		}
		id := mustHex(t, stdlibBuildID(t, host))
		l := &Locator{Sysroot: root}
		found, trail := l.FindExecutable(guest, id)
		want := []Attempt{{Path: host, Source: SourceSysroot, Result: ResultMatch, OK: true}}
		if found != host || !reflect.DeepEqual(trail, want) {
			t.Errorf("%s: found %q trail %+v, want %q %+v", guest, found, trail, host, want)
		}
		info, err := ReadFile(found)
		if err != nil || info.Machine != uint16(elf.EM_AARCH64) {
			t.Errorf("%s: machine %v, %v; want EM_AARCH64", found, info, err)
		}
	}
	// Without the sysroot, the host has no /lib/libc.so.6 of that build-id.
	id := mustHex(t, stdlibBuildID(t, filepath.Join(root, "lib/libc.so.6")))
	var l Locator
	found, trail := l.FindExecutable("/lib/libc.so.6", id)
	switch {
	case len(trail) != 1:
		t.Errorf("no sysroot: trail %+v, want one attempt", trail)
	case strings.HasPrefix(trail[0].Result, ResultNotFound) && found == "":
	case strings.HasPrefix(trail[0].Result, ResultWrongBuildID) && found == "/lib/libc.so.6" && !trail[0].OK:
		// the host's own file, returned only to be reported as a mismatch
	default:
		t.Errorf("no sysroot: found %q trail %+v, want nothing (or the host file as a mismatch)", found, trail)
	}
}
