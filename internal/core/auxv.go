package core

import "fmt"

// Auxiliary vector tags (linux/include/uapi/linux/auxvec.h, arch auxvec.h).
const (
	AT_NULL              = 0
	AT_IGNORE            = 1
	AT_EXECFD            = 2
	AT_PHDR              = 3
	AT_PHENT             = 4
	AT_PHNUM             = 5
	AT_PAGESZ            = 6
	AT_BASE              = 7
	AT_FLAGS             = 8
	AT_ENTRY             = 9
	AT_NOTELF            = 10
	AT_UID               = 11
	AT_EUID              = 12
	AT_GID               = 13
	AT_EGID              = 14
	AT_PLATFORM          = 15
	AT_HWCAP             = 16
	AT_CLKTCK            = 17
	AT_SECURE            = 23
	AT_BASE_PLATFORM     = 24
	AT_RANDOM            = 25
	AT_HWCAP2            = 26
	AT_RSEQ_FEATURE_SIZE = 27
	AT_RSEQ_ALIGN        = 28
	AT_HWCAP3            = 29
	AT_HWCAP4            = 30
	AT_EXECFN            = 31
	AT_SYSINFO           = 32
	AT_SYSINFO_EHDR      = 33
	AT_MINSIGSTKSZ       = 51

	// powerpc (arch/powerpc/include/uapi/asm/auxvec.h); 40-47 also riscv
	// (arch/riscv/include/uapi/asm/auxvec.h).
	AT_DCACHEBSIZE       = 19
	AT_ICACHEBSIZE       = 20
	AT_UCACHEBSIZE       = 21
	AT_IGNOREPPC         = 22
	AT_L1I_CACHESIZE     = 40
	AT_L1I_CACHEGEOMETRY = 41
	AT_L1D_CACHESIZE     = 42
	AT_L1D_CACHEGEOMETRY = 43
	AT_L2_CACHESIZE      = 44
	AT_L2_CACHEGEOMETRY  = 45
	AT_L3_CACHESIZE      = 46
	AT_L3_CACHEGEOMETRY  = 47
)

var auxvNames = map[uint64]string{
	AT_IGNORE: "AT_IGNORE", AT_EXECFD: "AT_EXECFD", AT_PHDR: "AT_PHDR", AT_PHENT: "AT_PHENT",
	AT_PHNUM: "AT_PHNUM", AT_PAGESZ: "AT_PAGESZ", AT_BASE: "AT_BASE", AT_FLAGS: "AT_FLAGS",
	AT_ENTRY: "AT_ENTRY", AT_NOTELF: "AT_NOTELF", AT_UID: "AT_UID", AT_EUID: "AT_EUID",
	AT_GID: "AT_GID", AT_EGID: "AT_EGID", AT_PLATFORM: "AT_PLATFORM", AT_HWCAP: "AT_HWCAP",
	AT_CLKTCK: "AT_CLKTCK", AT_SECURE: "AT_SECURE", AT_BASE_PLATFORM: "AT_BASE_PLATFORM",
	AT_RANDOM: "AT_RANDOM", AT_HWCAP2: "AT_HWCAP2", AT_RSEQ_FEATURE_SIZE: "AT_RSEQ_FEATURE_SIZE",
	AT_RSEQ_ALIGN: "AT_RSEQ_ALIGN", AT_HWCAP3: "AT_HWCAP3", AT_HWCAP4: "AT_HWCAP4",
	AT_EXECFN: "AT_EXECFN", AT_SYSINFO: "AT_SYSINFO", AT_SYSINFO_EHDR: "AT_SYSINFO_EHDR",
	AT_MINSIGSTKSZ: "AT_MINSIGSTKSZ",
	AT_DCACHEBSIZE: "AT_DCACHEBSIZE", AT_ICACHEBSIZE: "AT_ICACHEBSIZE", AT_UCACHEBSIZE: "AT_UCACHEBSIZE",
	AT_IGNOREPPC: "AT_IGNOREPPC", AT_L1I_CACHESIZE: "AT_L1I_CACHESIZE", AT_L1I_CACHEGEOMETRY: "AT_L1I_CACHEGEOMETRY",
	AT_L1D_CACHESIZE: "AT_L1D_CACHESIZE", AT_L1D_CACHEGEOMETRY: "AT_L1D_CACHEGEOMETRY",
	AT_L2_CACHESIZE: "AT_L2_CACHESIZE", AT_L2_CACHEGEOMETRY: "AT_L2_CACHEGEOMETRY",
	AT_L3_CACHESIZE: "AT_L3_CACHESIZE", AT_L3_CACHEGEOMETRY: "AT_L3_CACHEGEOMETRY",
}

// AuxvName names an auxv tag ("AT_ENTRY"), or "AT_<n>" when unknown.
func AuxvName(tag uint64) string {
	if n, ok := auxvNames[tag]; ok {
		return n
	}
	return fmt.Sprintf("AT_%d", tag)
}

// AuxvIsString reports whether the tag's value points to a NUL-terminated string.
func AuxvIsString(tag uint64) bool {
	return tag == AT_EXECFN || tag == AT_PLATFORM || tag == AT_BASE_PLATFORM
}

// AuxvValue returns the value of the first entry with the tag.
func (c *Core) AuxvValue(tag uint64) (uint64, bool) {
	for _, e := range c.Auxv {
		if e.Tag == tag {
			return e.Value, true
		}
	}
	return 0, false
}
