//go:build linux

package testcore

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
)

// Just enough ELF core note parsing to check the cores this package makes;
// the real parser lives in internal/elfx and internal/core.

const (
	ntPRSTATUS = 1
	ntSIGINFO  = 0x53494749
	maxNotes   = 64 << 20
)

type coreNote struct {
	name string
	typ  uint32
	desc []byte
}

type coreInfo struct {
	machine elf.Machine
	typ     elf.Type
	notes   []coreNote
}

func (ci *coreInfo) count(typ uint32) int {
	n := 0
	for _, no := range ci.notes {
		if no.typ == typ && no.name == "CORE" {
			n++
		}
	}
	return n
}

func (ci *coreInfo) first(typ uint32) []byte {
	for _, no := range ci.notes {
		if no.typ == typ {
			return no.desc
		}
	}
	return nil
}

func readCoreInfo(t testing.TB, path string) *coreInfo {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	ci, err := coreInfoOf(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ci
}

func coreInfoOf(f *elf.File) (*coreInfo, error) {
	ci := &coreInfo{machine: f.Machine, typ: f.Type}
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		if p.Filesz > maxNotes {
			return nil, fmt.Errorf("PT_NOTE at offset %#x: %d bytes is too large", p.Off, p.Filesz)
		}
		data, err := io.ReadAll(io.LimitReader(p.Open(), int64(p.Filesz)))
		if err != nil {
			return nil, fmt.Errorf("PT_NOTE at offset %#x: %w", p.Off, err)
		}
		notes, err := parseNotes(data, f.ByteOrder)
		if err != nil {
			return nil, fmt.Errorf("PT_NOTE at offset %#x: %w", p.Off, err)
		}
		ci.notes = append(ci.notes, notes...)
	}
	return ci, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// parseNotes splits a core's note segment (Elf64_Nhdr, 4-byte aligned
// name and desc, as the kernel's fs/binfmt_elf.c writes them).
func parseNotes(data []byte, bo binary.ByteOrder) ([]coreNote, error) {
	var out []coreNote
	off := uint64(0)
	for off+12 <= uint64(len(data)) {
		namesz := uint64(bo.Uint32(data[off:]))
		descsz := uint64(bo.Uint32(data[off+4:]))
		typ := bo.Uint32(data[off+8:])
		nameOff := off + 12
		descOff := nameOff + align4(namesz)
		end := descOff + align4(descsz)
		if namesz > uint64(len(data)) || descsz > uint64(len(data)) || descOff+descsz > uint64(len(data)) {
			return out, fmt.Errorf("note at %#x: name %d + desc %d bytes run past the segment (%d)", off, namesz, descsz, len(data))
		}
		name := string(bytes.TrimRight(data[nameOff:nameOff+namesz], "\x00"))
		out = append(out, coreNote{name: name, typ: typ, desc: data[descOff : descOff+descsz]})
		off = end
	}
	return out, nil
}

// prstatus fields of struct elf_prstatus on LP64 (x86_64 and aarch64 share
// the layout up to pr_reg): elf_siginfo {signo, code, errno} at 0,
// pr_cursig at 12, pr_pid at 32.
type prstatus struct {
	cursig int16
	pid    int32
}

func parsePrstatus(d []byte, bo binary.ByteOrder) (prstatus, error) {
	if len(d) < 36 {
		return prstatus{}, fmt.Errorf("NT_PRSTATUS of %d bytes is shorter than 36", len(d))
	}
	return prstatus{cursig: int16(bo.Uint16(d[12:])), pid: int32(bo.Uint32(d[32:]))}, nil
}

// siginfo fields of the kernel's siginfo_t (include/uapi/asm-generic/siginfo.h)
// on LP64: si_signo 0, si_errno 4, si_code 8, union at 16 (si_addr for
// faults, si_pid then si_uid for kill).
type siginfo struct {
	signo, errno, code int32
	addr               uint64
	pid                int32
}

func parseSiginfo(d []byte, bo binary.ByteOrder) (siginfo, error) {
	if len(d) < 24 {
		return siginfo{}, fmt.Errorf("NT_SIGINFO of %d bytes is shorter than 24", len(d))
	}
	return siginfo{
		signo: int32(bo.Uint32(d[0:])), errno: int32(bo.Uint32(d[4:])), code: int32(bo.Uint32(d[8:])),
		addr: bo.Uint64(d[16:]), pid: int32(bo.Uint32(d[16:])),
	}, nil
}
