package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/testcore"
)

// An architecture read from the notes only (a real sparc64 kernel's core from elfutils'
// tests) answers every view with what the notes hold, says what it leaves out, and exits
// with the status of a partial answer.
func TestNotesOnlyArchitecture(t *testing.T) {
	core := testcore.ElfutilsCore(t, "backtrace.sparc.core")
	exe := testcore.ElfutilsCore(t, "backtrace.sparc.exec")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"summary", core}, []string{"arch         sparc64, big-endian (no unwinder for sparc64: notes only)",
			"process      pid 21611, ppid 19780, uid 500, gid 500", "signal       SIGABRT (6)", "command      ./backtrace-child --gencore"}},
		{[]string{"regs", "--thread", "21611", core}, []string{"pc       0x0000000000103920", "npc      0x0000000000103924"}},
		{[]string{"modules", core, exe}, []string{"backtrace-child"}},
		{[]string{"bt", core, exe}, []string{"#0   0x000000000010c488 raise+0x28 (backtrace-child +0x10c488)  [context]",
			"#0   0x0000000000103920 pthread_join+0xa0 (backtrace-child +0x103920)  [context]",
			"stack incomplete: no unwinder for sparc64: the stack is not walked past the pc"}},
		{[]string{core, exe}, []string{"Crashing thread 21612", "is read from its notes only"}},
	} {
		code, out, errs := runCmd(tc.args...)
		if code != exitWarnings {
			t.Errorf("%v: exit %d, want %d (a partial answer); stderr %q", tc.args, code, exitWarnings, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
	code, out, _ := runCmd("--format", "json", core, exe)
	var r struct {
		Process struct {
			Arch      string `json:"arch"`
			ArchLimit struct {
				Support, Reason string
				ByteOrder       string `json:"byte_order"`
			} `json:"arch_limit"`
		} `json:"process"`
		Threads []struct {
			TID   int    `json:"tid"`
			Error string `json:"error"`
		} `json:"threads"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitWarnings {
		t.Fatalf("json: exit %d, %v", code, err)
	}
	l := r.Process.ArchLimit
	if r.Process.Arch != "sparc64" || l.Support != "notes_only" || l.Reason != "no unwinder for sparc64" || l.ByteOrder != "big-endian" {
		t.Errorf("process %+v", r.Process)
	}
	if len(r.Threads) != 2 || r.Threads[0].TID != 21612 || !strings.HasPrefix(r.Threads[0].Error, "no unwinder for sparc64") {
		t.Errorf("threads %+v", r.Threads)
	}
}

// A machine coredig has no layout for is refused in one line that names it, exit
// status 2: minimal ELF core headers of MIPS (both byte orders) and Alpha.
func TestUnknownMachineRefused(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		class   elf.Class
		data    elf.Data
		machine elf.Machine
		want    string
	}{
		{"mips-be", elf.ELFCLASS32, elf.ELFDATA2MSB, elf.EM_MIPS, "unsupported architecture MIPS (EM_MIPS, 32-bit big-endian)"},
		{"mips-le", elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_MIPS, "unsupported architecture MIPS (EM_MIPS, 32-bit little-endian)"},
		{"mips64", elf.ELFCLASS64, elf.ELFDATA2MSB, elf.EM_MIPS, "unsupported architecture MIPS (EM_MIPS, 64-bit big-endian)"},
		{"alpha", elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_ALPHA, "unsupported architecture Alpha (EM_ALPHA, 64-bit little-endian)"},
		{"ppc64le-as-be32", elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_PPC, "unsupported architecture PowerPC (EM_PPC, 32-bit little-endian)"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, coreHeader(tc.class, tc.data, tc.machine), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errs := runCmd("summary", path)
		if code != exitBad || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and one line with %q", tc.name, code, out, errs, exitBad, tc.want)
		}
	}
}

// coreHeader is the ELF header of a core with no program headers.
func coreHeader(class elf.Class, data elf.Data, m elf.Machine) []byte {
	var o binary.ByteOrder = binary.LittleEndian
	if data == elf.ELFDATA2MSB {
		o = binary.BigEndian
	}
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(class), byte(data), byte(elf.EV_CURRENT)}
	var b bytes.Buffer
	if class == elf.ELFCLASS64 {
		binary.Write(&b, o, elf.Header64{Ident: ident, Type: uint16(elf.ET_CORE), Machine: uint16(m), Version: uint32(elf.EV_CURRENT),
			Phoff: 64, Ehsize: 64, Phentsize: 56})
	} else {
		binary.Write(&b, o, elf.Header32{Ident: ident, Type: uint16(elf.ET_CORE), Machine: uint16(m), Version: uint32(elf.EV_CURRENT),
			Phoff: 52, Ehsize: 52, Phentsize: 32})
	}
	return b.Bytes()
}

// A static glibc program that sends itself SIGABRT from a signal handler (elfutils'
// backtrace-child, on real kernels' cores of four architectures): the report says raise was
// called directly, not abort(), and the culprit frame is the handler, not the C library's
// raise linked into the program.
func TestStaticRaiseCulprit(t *testing.T) {
	for _, name := range []string{"backtrace.x86_64", "backtrace.i386", "backtrace.aarch64", "backtrace.s390x"} {
		core := testcore.ElfutilsCore(t, name+".core")
		exe := testcore.ElfutilsCore(t, name+".exec")
		_, out, errs := runCmd(core, exe)
		for _, w := range []string{
			"sigusr2 called raise(SIGABRT) directly, not abort(), with no message recorded.",
			"culprit frame          sigusr2 (",
			"signature    abort @ sigusr2 < stdarg < backtracegen",
		} {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q (stderr %q):\n%s", name, w, errs, out)
			}
		}
	}
}
