package core

import (
	"encoding/binary"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/elfx"
)

// The floating-point registers of s390x and ppc64le come from each thread's NT_PRFPREG
// (s390_fp_regs: fpc, padding, fprs[16]; ppc64's elf_fpregset_t: fpr[32], fpscr) and
// follow pr_reg's registers; a thread without the note (qemu-user writes none) or with
// a short one keeps only pr_reg's.
func TestNoteRegs(t *testing.T) {
	// s390x, big-endian.
	a := arch.S390X
	be := binary.BigEndian
	st := make([]byte, a.PrStatus.Size)
	be.PutUint32(st[a.PrStatus.PID:], 7)
	be.PutUint64(st[a.PrStatus.Regs+8:], 0x1000744) // pswa
	fp := make([]byte, 136)
	be.PutUint32(fp[0:], 0x00080000)              // fpc
	be.PutUint64(fp[8:], 0x3ff0000000000000)      // f0 = 1.0
	be.PutUint64(fp[8+15*8:], 0x40000000003ff8a0) // f15
	c := &Core{Arch: a}
	c.Notes.ByType = map[string]int{}
	c.decodeNotes([]elfx.Note{
		{Name: "CORE", Type: NT_PRSTATUS, Desc: st}, {Name: "CORE", Type: NT_PRFPREG, Desc: fp},
		{Name: "CORE", Type: NT_PRSTATUS, Desc: st}, // a second thread, without NT_PRFPREG
		{Name: "CORE", Type: NT_PRSTATUS, Desc: st}, {Name: "CORE", Type: NT_PRFPREG, Desc: fp[:100]},
	})
	if len(c.Threads) != 3 {
		t.Fatalf("%d threads", len(c.Threads))
	}
	r := c.Threads[0].Regs
	if len(r) != len(a.RegNames) || r[a.PC] != 0x1000744 || r[a.Reg("fpc")] != 0x00080000 ||
		r[a.Reg("f0")] != 0x3ff0000000000000 || r[a.Reg("f15")] != 0x40000000003ff8a0 {
		t.Errorf("s390x thread with NT_PRFPREG: %d registers, pswa %#x fpc %#x f0 %#x f15 %#x", len(r), r[a.PC],
			r[a.Reg("fpc")], r[a.Reg("f0")], r[a.Reg("f15")])
	}
	if n := len(c.Threads[1].Regs); n != a.PrRegs() {
		t.Errorf("s390x thread without NT_PRFPREG has %d registers, want %d", n, a.PrRegs())
	}
	if n := len(c.Threads[2].Regs); n != a.PrRegs() || len(c.Warnings) != 1 {
		t.Errorf("s390x thread with a short NT_PRFPREG has %d registers, warnings %q", n, c.Warnings)
	}

	// ppc64le: f31 and fpscr at the end of the 264-byte set.
	a = arch.PPC64LE
	le := binary.LittleEndian
	st = make([]byte, a.PrStatus.Size)
	fp = make([]byte, 264)
	le.PutUint64(fp[31*8:], 0x4009_21fb_5444_2d18) // f31 = pi
	le.PutUint64(fp[256:], 0x2000)                 // fpscr
	c = &Core{Arch: a}
	c.Notes.ByType = map[string]int{}
	c.decodeNotes([]elfx.Note{{Name: "CORE", Type: NT_PRSTATUS, Desc: st}, {Name: "CORE", Type: NT_PRFPREG, Desc: fp}})
	if r := c.Threads[0].Regs; len(r) != len(a.RegNames) || r[a.Reg("f31")] != 0x400921fb54442d18 || r[a.Reg("fpscr")] != 0x2000 {
		t.Errorf("ppc64le NT_PRFPREG: %d registers, f31 %#x fpscr %#x", len(r), r[a.Reg("f31")], r[a.Reg("fpscr")])
	}
}
