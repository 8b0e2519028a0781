package arch

// Names of the bits of AT_HWCAP and AT_HWCAP2, index = bit number, "" where the kernel
// names none. Each table cites its header; the names are those the kernel prints in
// /proc/cpuinfo (s390x, 32-bit ARM, aarch64) or glibc's LD_SHOW_AUXV (ppc64, whose
// kernel prints none).

// ppc64HWCap: PPC_FEATURE_* of arch/powerpc/include/uapi/asm/cputable.h (bit 31
// PPC_FEATURE_32 down to bit 0 PPC_FEATURE_PPC_LE), glibc's names
// (sysdeps/powerpc/dl-procinfo.c).
var ppc64HWCap = bitsHighFirst([]string{"ppc32", "ppc64", "ppc601", "altivec", "fpu", "mmu", "4xxmac",
	"ucache", "spe", "efpsingle", "efpdouble", "notb", "power4", "power5", "power5+", "cellbe", "booke",
	"smt", "ic_snoop", "arch_2_05", "pa6t", "dfp", "power6x", "arch_2_06", "vsx", "archpmu", "", "", "",
	"", "true_le", "ppcle"})

// ppc64HWCap2: PPC_FEATURE2_* of the same header, from bit 31 (PPC_FEATURE2_ARCH_2_07).
var ppc64HWCap2 = bitsHighFirst([]string{"arch_2_07", "htm", "dscr", "ebb", "isel", "tar", "vcrypto",
	"htm-nosc", "arch_3_00", "ieee128", "darn", "scv", "htm-no-suspend", "arch_3_1", "mma"})

// s390xHWCap: HWCAP_NR_* of arch/s390/include/asm/elf.h, named as hwcap_str of
// arch/s390/kernel/processor.c (and glibc's sysdeps/s390/dl-procinfo-s390.c).
var s390xHWCap = []string{"esan3", "zarch", "stfle", "msa", "ldisp", "eimm", "dfp", "edat", "etf3eh",
	"highgprs", "te", "vx", "vxd", "vxe", "gs", "vxe2", "vxp", "sort", "dflt", "vxp2", "nnpa", "pcimio", "sie"}

// armHWCap and armHWCap2: HWCAP_* and HWCAP2_* of arch/arm/include/uapi/asm/hwcap.h,
// named as hwcap_str and hwcap2_str of arch/arm/kernel/setup.c.
var armHWCap = []string{"swp", "half", "thumb", "26bit", "fastmult", "fpa", "vfp", "edsp", "java",
	"iwmmxt", "crunch", "thumbee", "neon", "vfpv3", "vfpv3d16", "tls", "vfpv4", "idiva", "idivt",
	"vfpd32", "lpae", "evtstrm", "fphp", "asimdhp", "asimddp", "asimdfhm", "asimdbf16", "i8mm"}
var armHWCap2 = []string{"aes", "pmull", "sha1", "sha2", "crc32", "sb", "ssbs"}

// arm64HWCap: HWCAP_* of arch/arm64/include/uapi/asm/hwcap.h, named as in
// arch/arm64/kernel/cpuinfo.c.
var arm64HWCap = []string{"fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32", "atomics",
	"fphp", "asimdhp", "cpuid", "asimdrdm", "jscvt", "fcma", "lrcpc", "dcpop", "sha3", "sm3", "sm4",
	"asimddp", "sha512", "sve", "asimdfhm", "dit", "uscat", "ilrcpc", "flagm", "ssbs", "sb", "paca", "pacg"}

// arm64HWCap2: HWCAP2_* of the same header, from bit 0 to 30 (later bits show as bitN).
var arm64HWCap2 = []string{"dcpodp", "sve2", "sveaes", "svepmull", "svebitperm", "svesha3", "svesm4",
	"flagm2", "frint", "svei8mm", "svef32mm", "svef64mm", "svebf16", "i8mm", "bf16", "dgh", "rng", "bti",
	"mte", "ecv", "afp", "rpres", "mte3", "sme", "smei16i64", "smef64f64", "smei8i32", "smef16f32",
	"smeb16f32", "smef32f32", "smefa64"}

// riscvHWCap: the kernel sets bit n of AT_HWCAP for the single-letter ISA extension
// 'a'+n (arch/riscv/include/uapi/asm/hwcap.h COMPAT_HWCAP_ISA_*).
var riscvHWCap = func() []string {
	out := make([]string, 26)
	for i := range out {
		out[i] = string(rune('a' + i))
	}
	return out
}()

// bitsHighFirst turns names listed from bit 31 down into a table indexed by bit.
func bitsHighFirst(names []string) []string {
	out := make([]string, 32)
	for i, n := range names {
		out[31-i] = n
	}
	return out
}

// HWCapNames names the bits set in v, the value of the auxv entry tag (AT_HWCAP 16,
// AT_HWCAP2 26), lowest bit first; a bit the architecture names none for is "bitN".
// It returns nil when the architecture has no table for the tag.
func (a *Arch) HWCapNames(tag, v uint64) []string {
	var table []string
	switch tag {
	case 16:
		table = a.HWCap
	case 26:
		table = a.HWCap2
	}
	if table == nil {
		return nil
	}
	out := []string{}
	for bit := 0; bit < 64; bit++ {
		if v&(1<<bit) == 0 {
			continue
		}
		if bit < len(table) && table[bit] != "" {
			out = append(out, table[bit])
		} else {
			out = append(out, "bit"+itoa(bit))
		}
	}
	return out
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
