package core

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/elfx"
)

// hexOf renders an ExtraValue as a number, as the report does.
func hexOf(v ExtraValue) string {
	s := fmt.Sprintf("%x", v.Value)
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return "0x" + s
}

func extraByName(vals []ExtraValue) map[string]string {
	m := map[string]string{}
	for _, v := range vals {
		m[v.Name] = hexOf(v)
	}
	return m
}

// The registers composed of two notes (ppc64's vs0-vs31: f0-f31 from NT_PRFPREG as the
// high doubleword, NT_PPC_VSX the low one; s390x's v0-v15 likewise from NT_PRFPREG and
// NT_S390_VXRS_LOW), in each byte order; vectors read as one 128-bit number; i386's fop
// keeps 11 bits; a register whose note is missing is absent, and a note too short for
// its registers is reported once.
func TestExtraRegs(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian

	// ppc64le.
	fp := make([]byte, 264)
	le.PutUint64(fp[8*3:], 0x400921fb54442d18) // f3 = pi
	vsx := make([]byte, 256)
	le.PutUint64(vsx[8*3:], 0x1122334455667788) // vs3's low doubleword
	vmx := make([]byte, 544)
	le.PutUint64(vmx[16*2:], 0x0807060504030201) // vr2, low half
	le.PutUint64(vmx[16*2+8:], 0x100f0e0d0c0b0a09)
	le.PutUint32(vmx[512:], 0x10000) // vscr NJ
	le.PutUint32(vmx[528:], 0xffffffff)
	tar := make([]byte, 8)
	le.PutUint64(tar, 0x10001234)
	got, short := ExtraRegs(arch.PPC64LE, []elfx.Note{
		{Type: NT_PRFPREG, Desc: fp}, {Type: NT_PPC_VMX, Desc: vmx}, {Type: NT_PPC_VSX, Desc: vsx}, {Type: NT_PPC_TAR, Desc: tar},
	}, ^uint64(0))
	m := extraByName(got)
	for name, want := range map[string]string{
		"vs3": "0x400921fb54442d181122334455667788", "vs0": "0x0", "vr2": "0x100f0e0d0c0b0a090807060504030201",
		"vs34": "0x100f0e0d0c0b0a090807060504030201", "vscr": "0x10000", "vrsave": "0xffffffff", "tar": "0x10001234",
	} {
		if m[name] != want {
			t.Errorf("ppc64le %s = %s, want %s", name, m[name], want)
		}
	}
	if len(got) != 32+2+64+1 || len(short) != 0 {
		t.Errorf("ppc64le: %d registers, short notes %v", len(got), short)
	}
	if _, ok := m["ppr"]; ok {
		t.Errorf("ppc64le: ppr without NT_PPC_PPR")
	}

	// s390x, big-endian.
	fp = make([]byte, 136)
	be.PutUint64(fp[8+8*5:], 0x4014000000000000) // f5 = 5.0
	low := make([]byte, 128)
	be.PutUint64(low[8*5:], 0xdeadbeefcafef00d)
	high := make([]byte, 256)
	be.PutUint64(high[16*15:], 0x0102030405060708) // v31
	be.PutUint64(high[16*15+8:], 0x090a0b0c0d0e0f10)
	lb := make([]byte, 8)
	be.PutUint64(lb, 0x80030cea)
	sc := []byte{0, 0, 0, 0xa2}
	got, short = ExtraRegs(arch.S390X, []elfx.Note{
		{Type: NT_PRFPREG, Desc: fp}, {Type: NT_S390_LAST_BREAK, Desc: lb}, {Type: NT_S390_SYSTEM_CALL, Desc: sc},
		{Type: NT_S390_VXRS_LOW, Desc: low}, {Type: NT_S390_VXRS_HIGH, Desc: high[:100]},
	}, ^uint64(0))
	m = extraByName(got)
	for name, want := range map[string]string{
		"v5": "0x4014000000000000deadbeefcafef00d", "last_break": "0x80030cea", "system_call": "0xa2",
	} {
		if m[name] != want {
			t.Errorf("s390x %s = %s, want %s", name, m[name], want)
		}
	}
	if _, ok := m["v31"]; ok || len(short) != 1 || short[0].Type != NT_S390_VXRS_HIGH {
		t.Errorf("s390x with a short NT_S390_VXRS_HIGH: v31 %q, short notes %v", m["v31"], short)
	}
	if len(got) != 2+16+6 {
		t.Errorf("s390x: %d registers, want %d", len(got), 2+16+6)
	}

	// i386: fop is the low 11 bits of its 16-bit slot; 32-bit ARM without VFPD32 has
	// d0-d15 only.
	fx := make([]byte, 512)
	le.PutUint16(fx[6:], 0xffff)
	le.PutUint32(fx[24:], 0x1f80)
	got, _ = ExtraRegs(arch.I386, []elfx.Note{{Type: NT_PRXFPREG, Desc: fx}}, ^uint64(0))
	if m = extraByName(got); m["fop"] != "0x7ff" || m["mxcsr"] != "0x1f80" || len(got) != 24 {
		t.Errorf("i386: fop %s mxcsr %s, %d registers", m["fop"], m["mxcsr"], len(got))
	}
	vfp := make([]byte, 260)
	le.PutUint32(vfp[256:], 0x03000000)
	got, _ = ExtraRegs(arch.ARM, []elfx.Note{{Type: NT_ARM_VFP, Desc: vfp}}, 0xe8d7)
	if m = extraByName(got); len(got) != 17 || m["fpscr"] != "0x3000000" {
		t.Errorf("arm without VFPD32: %d registers, fpscr %s", len(got), m["fpscr"])
	}
	if got, _ = ExtraRegs(arch.ARM, []elfx.Note{{Type: NT_ARM_VFP, Desc: vfp}}, 0xe8d7|1<<19); len(got) != 33 {
		t.Errorf("arm with VFPD32: %d registers, want 33", len(got))
	}

	// riscv64: f10 is fa0, f31 ft11, fcsr after f[32].
	rv := make([]byte, 264)
	le.PutUint64(rv[8*10:], 0x3ff8000000000000)
	le.PutUint64(rv[8*31:], 0x4000000000000000)
	le.PutUint32(rv[256:], 0xe1)
	got, _ = ExtraRegs(arch.RISCV64, []elfx.Note{{Type: NT_PRFPREG, Desc: rv}}, ^uint64(0))
	if m = extraByName(got); len(got) != 33 || m["fa0"] != "0x3ff8000000000000" || m["ft11"] != "0x4000000000000000" || m["fcsr"] != "0xe1" {
		t.Errorf("riscv64: %d registers, fa0 %s ft11 %s fcsr %s", len(got), m["fa0"], m["ft11"], m["fcsr"])
	}
}

// i386's thread pointer is the base of the NT_386_TLS entry %gs selects (gs 0x63: GDT
// entry 12); a %gs of 0, or one selecting the LDT, gives none.
func TestI386ThreadPointer(t *testing.T) {
	le := binary.LittleEndian
	tls := make([]byte, 48)
	for i, base := range []uint32{0xf77f6b40, 0, 0x1000} {
		le.PutUint32(tls[16*i:], uint32(12+i))
		le.PutUint32(tls[16*i+4:], base)
	}
	regs := make([]uint64, len(arch.I386.RegNames))
	gs := arch.I386.Reg("gs")
	for _, tc := range []struct {
		gs   uint64
		want uint64
		ok   bool
	}{{0x63, 0xf77f6b40, true}, {0x73, 0x1000, true}, {0, 0, false}, {0x67, 0, false}} {
		regs[gs] = tc.gs
		tp, ok := arch.I386.ThreadPointer(NT_386_TLS, tls, regs)
		if tp != tc.want || ok != tc.ok {
			t.Errorf("gs %#x: thread pointer %#x %v, want %#x %v", tc.gs, tp, ok, tc.want, tc.ok)
		}
	}
}
