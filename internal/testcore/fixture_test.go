//go:build linux

package testcore

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// maxFixtureCore bounds a decompressed committed core.
const maxFixtureCore = 64 << 20

func openZstdCore(t *testing.T, path string) *elf.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	data, err := io.ReadAll(io.LimitReader(d, maxFixtureCore+1))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(data) > maxFixtureCore {
		t.Fatalf("%s decompresses to more than %d bytes", path, maxFixtureCore)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ef
}

func buildID(t *testing.T, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		t.Fatalf("%s has no .note.gnu.build-id", path)
	}
	data, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	notes, err := parseNotes(data, f.ByteOrder)
	if err != nil || len(notes) != 1 || notes[0].name != "GNU" || notes[0].typ != 3 {
		t.Fatalf("%s: build-id note %+v, %v", path, notes, err)
	}
	return hex.EncodeToString(notes[0].desc)
}

// x86_64 struct user_regs_struct starts at offset 112 of elf_prstatus; rip
// is its 17th 8-byte field (arch/x86/include/asm/user_64.h).
const x86RIPOffset = 112 + 16*8

// TestCommittedFixtures checks the committed cores against the values their
// README promises.
func TestCommittedFixtures(t *testing.T) {
	dir := filepath.Join(RepoRoot(t), "testdata", "fixtures")
	tests := []struct {
		core, exe, buildID string
		pids               []int32 // NT_PRSTATUS order
		rip                uint64
	}{
		{"sample.core.zst", "sample", "ddbe994eec9e0d661e07f38c853ad033f6d51575",
			[]int32{15327, 15329, 15328, 15330}, 0x5575b5e1a280},
		{"static-deref/core.zst", "static-deref/static-deref", "549f554fe28833e5549aae55e69ada5b65a934af",
			[]int32{15317}, 0x401615},
	}
	for _, tt := range tests {
		t.Run(tt.core, func(t *testing.T) {
			if got := buildID(t, filepath.Join(dir, tt.exe)); got != tt.buildID {
				t.Errorf("%s build-id %s, want %s", tt.exe, got, tt.buildID)
			}
			ef := openZstdCore(t, filepath.Join(dir, tt.core))
			ci, err := coreInfoOf(ef)
			if err != nil {
				t.Fatal(err)
			}
			if ci.typ != elf.ET_CORE || ci.machine != elf.EM_X86_64 {
				t.Fatalf("type %v machine %v", ci.typ, ci.machine)
			}
			var pids []int32
			var rip uint64
			for _, n := range ci.notes {
				if n.typ != ntPRSTATUS {
					continue
				}
				pr, err := parsePrstatus(n.desc, binary.LittleEndian)
				if err != nil {
					t.Fatal(err)
				}
				if len(pids) == 0 && len(n.desc) >= x86RIPOffset+8 {
					rip = binary.LittleEndian.Uint64(n.desc[x86RIPOffset:])
				}
				pids = append(pids, pr.pid)
			}
			if len(pids) != len(tt.pids) {
				t.Fatalf("NT_PRSTATUS pids %v, want %v", pids, tt.pids)
			}
			for i := range pids {
				if pids[i] != tt.pids[i] {
					t.Fatalf("NT_PRSTATUS pids %v, want %v", pids, tt.pids)
				}
			}
			if rip != tt.rip {
				t.Errorf("crashing rip %#x, want %#x", rip, tt.rip)
			}
			si, err := parseSiginfo(ci.first(ntSIGINFO), binary.LittleEndian)
			if err != nil {
				t.Fatal(err)
			}
			if si.signo != 11 || si.code != segvMaperr || si.addr != 0x60 {
				t.Errorf("siginfo %+v, want SIGSEGV SEGV_MAPERR at 0x60", si)
			}
		})
	}
}
