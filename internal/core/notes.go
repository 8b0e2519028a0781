package core

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/elfx"
)

// Note types written into Linux cores (linux/include/uapi/linux/elf.h).
const (
	NT_PRSTATUS             = 1
	NT_PRFPREG              = 2
	NT_PRPSINFO             = 3
	NT_TASKSTRUCT           = 4
	NT_AUXV                 = 6
	NT_SIGINFO              = 0x53494749
	NT_FILE                 = 0x46494c45
	NT_PRXFPREG             = 0x46e62b7f
	NT_386_TLS              = 0x200
	NT_386_IOPERM           = 0x201
	NT_X86_XSTATE           = 0x202
	NT_X86_SHSTK            = 0x204
	NT_ARM_VFP              = 0x400
	NT_ARM_TLS              = 0x401
	NT_ARM_HW_BREAK         = 0x402
	NT_ARM_HW_WATCH         = 0x403
	NT_ARM_SYSTEM_CALL      = 0x404
	NT_ARM_SVE              = 0x405
	NT_ARM_PAC_MASK         = 0x406
	NT_ARM_PACA_KEYS        = 0x407
	NT_ARM_PACG_KEYS        = 0x408
	NT_ARM_TAGGED_ADDR_CTRL = 0x409
	NT_ARM_PAC_ENABLED_KEYS = 0x40a
	NT_ARM_SSVE             = 0x40b
	NT_ARM_ZA               = 0x40c
	NT_ARM_ZT               = 0x40d
	NT_ARM_FPMR             = 0x40e
	NT_ARM_POE              = 0x40f
	NT_ARM_GCS              = 0x410

	NT_PPC_VMX                = 0x100
	NT_PPC_SPE                = 0x101
	NT_PPC_VSX                = 0x102
	NT_PPC_TAR                = 0x103
	NT_PPC_PPR                = 0x104
	NT_PPC_DSCR               = 0x105
	NT_PPC_EBB                = 0x106
	NT_PPC_PMU                = 0x107
	NT_PPC_TM_CGPR            = 0x108
	NT_PPC_TM_CFPR            = 0x109
	NT_PPC_TM_CVMX            = 0x10a
	NT_PPC_TM_CVSX            = 0x10b
	NT_PPC_TM_SPR             = 0x10c
	NT_PPC_TM_CTAR            = 0x10d
	NT_PPC_TM_CPPR            = 0x10e
	NT_PPC_TM_CDSCR           = 0x10f
	NT_PPC_PKEY               = 0x110
	NT_PPC_DEXCR              = 0x111
	NT_PPC_HASHKEYR           = 0x112
	NT_S390_HIGH_GPRS         = 0x300
	NT_S390_TIMER             = 0x301
	NT_S390_TODCMP            = 0x302
	NT_S390_TODPREG           = 0x303
	NT_S390_CTRS              = 0x304
	NT_S390_PREFIX            = 0x305
	NT_S390_LAST_BREAK        = 0x306
	NT_S390_SYSTEM_CALL       = 0x307
	NT_S390_TDB               = 0x308
	NT_S390_VXRS_LOW          = 0x309
	NT_S390_VXRS_HIGH         = 0x30a
	NT_S390_GS_CB             = 0x30b
	NT_S390_GS_BC             = 0x30c
	NT_S390_RI_CB             = 0x30d
	NT_S390_PV_CPU_DATA       = 0x30e
	NT_RISCV_CSR              = 0x900
	NT_RISCV_VECTOR           = 0x901
	NT_RISCV_TAGGED_ADDR_CTRL = 0x902
)

var noteNames = map[uint32]string{
	NT_PRSTATUS: "NT_PRSTATUS", NT_PRFPREG: "NT_PRFPREG", NT_PRPSINFO: "NT_PRPSINFO",
	NT_TASKSTRUCT: "NT_TASKSTRUCT", NT_AUXV: "NT_AUXV", NT_SIGINFO: "NT_SIGINFO", NT_FILE: "NT_FILE",
	NT_PRXFPREG: "NT_PRXFPREG", NT_386_TLS: "NT_386_TLS", NT_386_IOPERM: "NT_386_IOPERM",
	NT_X86_XSTATE: "NT_X86_XSTATE", NT_X86_SHSTK: "NT_X86_SHSTK", NT_ARM_VFP: "NT_ARM_VFP",
	NT_ARM_TLS: "NT_ARM_TLS", NT_ARM_HW_BREAK: "NT_ARM_HW_BREAK", NT_ARM_HW_WATCH: "NT_ARM_HW_WATCH",
	NT_ARM_SYSTEM_CALL: "NT_ARM_SYSTEM_CALL", NT_ARM_SVE: "NT_ARM_SVE", NT_ARM_PAC_MASK: "NT_ARM_PAC_MASK",
	NT_ARM_PACA_KEYS: "NT_ARM_PACA_KEYS", NT_ARM_PACG_KEYS: "NT_ARM_PACG_KEYS",
	NT_ARM_TAGGED_ADDR_CTRL: "NT_ARM_TAGGED_ADDR_CTRL", NT_ARM_PAC_ENABLED_KEYS: "NT_ARM_PAC_ENABLED_KEYS",
	NT_ARM_SSVE: "NT_ARM_SSVE", NT_ARM_ZA: "NT_ARM_ZA", NT_ARM_ZT: "NT_ARM_ZT", NT_ARM_FPMR: "NT_ARM_FPMR",
	NT_ARM_POE: "NT_ARM_POE", NT_ARM_GCS: "NT_ARM_GCS",
	NT_PPC_VMX: "NT_PPC_VMX", NT_PPC_SPE: "NT_PPC_SPE", NT_PPC_VSX: "NT_PPC_VSX", NT_PPC_TAR: "NT_PPC_TAR",
	NT_PPC_PPR: "NT_PPC_PPR", NT_PPC_DSCR: "NT_PPC_DSCR", NT_PPC_EBB: "NT_PPC_EBB", NT_PPC_PMU: "NT_PPC_PMU",
	NT_PPC_TM_CGPR: "NT_PPC_TM_CGPR", NT_PPC_TM_CFPR: "NT_PPC_TM_CFPR", NT_PPC_TM_CVMX: "NT_PPC_TM_CVMX",
	NT_PPC_TM_CVSX: "NT_PPC_TM_CVSX", NT_PPC_TM_SPR: "NT_PPC_TM_SPR", NT_PPC_TM_CTAR: "NT_PPC_TM_CTAR",
	NT_PPC_TM_CPPR: "NT_PPC_TM_CPPR", NT_PPC_TM_CDSCR: "NT_PPC_TM_CDSCR", NT_PPC_PKEY: "NT_PPC_PKEY",
	NT_PPC_DEXCR: "NT_PPC_DEXCR", NT_PPC_HASHKEYR: "NT_PPC_HASHKEYR",
	NT_S390_HIGH_GPRS: "NT_S390_HIGH_GPRS", NT_S390_TIMER: "NT_S390_TIMER", NT_S390_TODCMP: "NT_S390_TODCMP",
	NT_S390_TODPREG: "NT_S390_TODPREG", NT_S390_CTRS: "NT_S390_CTRS", NT_S390_PREFIX: "NT_S390_PREFIX",
	NT_S390_LAST_BREAK: "NT_S390_LAST_BREAK", NT_S390_SYSTEM_CALL: "NT_S390_SYSTEM_CALL",
	NT_S390_TDB: "NT_S390_TDB", NT_S390_VXRS_LOW: "NT_S390_VXRS_LOW", NT_S390_VXRS_HIGH: "NT_S390_VXRS_HIGH",
	NT_S390_GS_CB: "NT_S390_GS_CB", NT_S390_GS_BC: "NT_S390_GS_BC", NT_S390_RI_CB: "NT_S390_RI_CB",
	NT_S390_PV_CPU_DATA: "NT_S390_PV_CPU_DATA",
	NT_RISCV_CSR:        "NT_RISCV_CSR", NT_RISCV_VECTOR: "NT_RISCV_VECTOR",
	NT_RISCV_TAGGED_ADDR_CTRL: "NT_RISCV_TAGGED_ADDR_CTRL",
}

// NoteName returns the name of a note type, or "" when unknown.
func NoteName(t uint32) string { return noteNames[t] }

// Limits on NT_FILE.
const (
	maxFileMappings = 1 << 20
	maxPathLen      = 4096
	maxAuxv         = 4096
	// maxThreadNotes bounds the notes kept per thread for its extra registers (a
	// kernel writes at most a few dozen register sets).
	maxThreadNotes = 64
)

func (c *Core) decodeNotes(notes []elfx.Note) {
	a := c.Arch
	var cur *Thread
	defer c.decodeExtraRegs()
	for _, n := range notes {
		c.Notes.Total++
		if n.Name == coredigOwner {
			c.decodeCoredigNote(n)
			continue
		}
		name := noteNames[n.Type]
		if name == "" || !(n.Name == "CORE" || n.Name == "LINUX") {
			c.Notes.Unknown++
			continue
		}
		c.Notes.ByType[name]++
		if cur != nil && n.Type != NT_PRSTATUS && len(cur.notes) < maxThreadNotes {
			cur.notes = append(cur.notes, n)
			if a.ThreadPointer != nil {
				if tp, ok := a.ThreadPointer(n.Type, n.Desc, cur.Regs); ok {
					cur.TLS, cur.HasTLS = tp, true
				}
			}
		}
		switch n.Type {
		case NT_PRSTATUS:
			t, err := decodePrStatus(a, n.Desc)
			if err != nil {
				c.warnf("NT_PRSTATUS at file offset %#x: %v; thread skipped", n.Off, err)
				cur = nil
				continue
			}
			if a.TLS >= 0 {
				t.TLS, t.HasTLS = t.Regs[a.TLS], true
			}
			c.Threads = append(c.Threads, t)
			cur = t
		case NT_PRPSINFO:
			p, err := decodePrPsInfo(a, n.Desc)
			if err != nil {
				c.warnf("NT_PRPSINFO at file offset %#x: %v", n.Off, err)
				continue
			}
			c.PsInfo = p
		case NT_SIGINFO:
			s, err := DecodeSigInfo(a, n.Desc)
			if err != nil {
				c.warnf("NT_SIGINFO at file offset %#x: %v", n.Off, err)
				continue
			}
			c.SigInfo = s
		case NT_AUXV:
			c.Auxv = decodeAuxv(a, n.Desc)
		case NT_FILE:
			files, err := decodeFile(a, n.Desc)
			if err != nil {
				c.warnf("NT_FILE at file offset %#x: %v", n.Off, err)
			}
			c.Files = files
		case NT_PRFPREG:
			c.Notes.FPRegs = len(n.Desc)
			if cur != nil {
				c.decodeNoteRegs(cur, n)
			}
		case NT_X86_XSTATE:
			c.Notes.XState = len(n.Desc)
		}
	}
}

// decodeNoteRegs reads the registers of Arch.NoteRegs that note n (a thread's
// NT_PRFPREG) holds into t.Regs, which grows to all of RegNames; a note too short for
// them is reported and left out.
func (c *Core) decodeNoteRegs(t *Thread, n elfx.Note) {
	a := c.Arch
	base := a.PrRegs()
	var vals []uint64
	for _, r := range a.NoteRegs {
		if r.Note != n.Type {
			continue
		}
		if r.Off < 0 || r.Off+r.Size > len(n.Desc) || (r.Size != 4 && r.Size != 8) {
			c.warnf("%s at file offset %#x is %d bytes: too short for %s", noteNames[n.Type], n.Off, len(n.Desc), r.Name)
			return
		}
		v := uint64(a.ByteOrder.Uint32(n.Desc[r.Off:]))
		if r.Size == 8 {
			v = a.ByteOrder.Uint64(n.Desc[r.Off:])
		}
		vals = append(vals, v)
	}
	if len(vals) == 0 || len(t.Regs) != base {
		return // no register of the architecture comes from this note, or seen twice
	}
	t.Regs = append(t.Regs, make([]uint64, len(a.NoteRegs))...)
	i := 0
	for j, r := range a.NoteRegs {
		if r.Note == n.Type {
			t.Regs[base+j] = vals[i]
			i++
		}
	}
}

// decodeExtraRegs reads each thread's values of Arch.ExtraRegs from the notes that
// followed its NT_PRSTATUS, and drops those notes. A note too short for a register is
// reported once; the registers it holds are left out.
func (c *Core) decodeExtraRegs() {
	hwcap, ok := c.AuxvValue(AT_HWCAP)
	if !ok {
		hwcap = ^uint64(0) // unknown: every register the notes hold
	}
	for _, t := range c.Threads {
		var short []elfx.Note
		t.Extra, short = ExtraRegs(c.Arch, t.notes, hwcap)
		for _, n := range short {
			c.warnf("%s at file offset %#x is %d bytes, too short for its registers; they are left out", noteNames[n.Type], n.Off, len(n.Desc))
		}
		t.notes = nil
	}
}

// ExtraRegs reads the values of a.ExtraRegs that a thread's notes hold (their first
// note of each type counts), leaving out those whose HWCap bit hwcap (AT_HWCAP, all ones
// when unknown) lacks. It returns the notes too short for a register they should hold,
// once each.
func ExtraRegs(a *arch.Arch, notes []elfx.Note, hwcap uint64) ([]ExtraValue, []elfx.Note) {
	if len(a.ExtraRegs) == 0 || len(notes) == 0 {
		return nil, nil
	}
	find := func(typ uint32) *elfx.Note {
		for i := range notes {
			if notes[i].Type == typ {
				return &notes[i]
			}
		}
		return nil
	}
	var out []ExtraValue
	var short []elfx.Note
	isShort := map[uint32]bool{}
regs:
	for _, r := range a.ExtraRegs {
		if r.HWCap != 0 && hwcap&r.HWCap == 0 {
			continue
		}
		for _, p := range r.Parts {
			if find(p.Note) == nil {
				continue regs // the thread lacks a note the register needs
			}
		}
		v := make([]byte, 0, r.Size())
		for _, p := range r.Parts {
			n := find(p.Note)
			if p.Off < 0 || p.Size <= 0 || p.Off+p.Size > len(n.Desc) {
				if !isShort[n.Type] {
					isShort[n.Type] = true
					short = append(short, *n)
				}
				continue regs
			}
			v = appendPart(v, n.Desc[p.Off:p.Off+p.Size], a.ByteOrder == binary.LittleEndian, p.Bits)
		}
		out = append(out, ExtraValue{Name: r.Name, Value: v})
	}
	return out, short
}

// appendPart appends b, a number in the given byte order, most significant byte first,
// keeping its low bits only when bits is not 0.
func appendPart(v, b []byte, little bool, bits int) []byte {
	start := len(v)
	if little {
		for i := len(b) - 1; i >= 0; i-- {
			v = append(v, b[i])
		}
	} else {
		v = append(v, b...)
	}
	if bits > 0 && bits < 8*len(b) {
		p := v[start:]
		for i := range p {
			keep := bits - 8*(len(p)-1-i) // low bits of this byte that stay
			switch {
			case keep <= 0:
				p[i] = 0
			case keep < 8:
				p[i] &= byte(1)<<keep - 1
			}
		}
	}
	return v
}

// COREDIG notes, written by coredig run and coredig's snapshots (package corewriter):
// type 1 is the siginfo of the first delivery of the fatal signal followed by the thread
// id (int32), type 2 that thread's registers laid out as pr_reg, type 3 what each file
// descriptor is, as text lines "N\tdescription".
const (
	coredigOwner          = "COREDIG"
	ntCoredigFirstSigInfo = 1
	ntCoredigFirstRegs    = 2
	ntCoredigFiles        = 3
	// maxDescriptors bounds the descriptors read from a files note.
	maxDescriptors = 1 << 16
)

func (c *Core) decodeCoredigNote(n elfx.Note) {
	a := c.Arch
	c.Notes.ByType["COREDIG"]++
	if c.FirstFault == nil && (n.Type == ntCoredigFirstSigInfo || n.Type == ntCoredigFirstRegs) {
		c.FirstFault = &FirstFault{}
	}
	switch n.Type {
	case ntCoredigFiles:
		c.decodeFilesNote(n)
	case ntCoredigFirstSigInfo:
		if len(n.Desc) != SigInfoSize+4 {
			c.warnf("COREDIG first-signal note at file offset %#x is %d bytes, want %d", n.Off, len(n.Desc), SigInfoSize+4)
			return
		}
		si, err := DecodeSigInfo(a, n.Desc[:SigInfoSize])
		if err != nil {
			c.warnf("COREDIG first-signal note at file offset %#x: %v", n.Off, err)
			return
		}
		c.FirstFault.SigInfo = si
		c.FirstFault.TID = int(int32(a.ByteOrder.Uint32(n.Desc[SigInfoSize:])))
	case ntCoredigFirstRegs:
		if len(n.Desc) != a.PrStatus.RegsSize {
			c.warnf("COREDIG first-registers note at file offset %#x is %d bytes, want %d", n.Off, len(n.Desc), a.PrStatus.RegsSize)
			return
		}
		regs := make([]uint64, len(a.RegNames))
		cur := elfx.NewCursor(n.Desc, a.ByteOrder, a.PtrSize == 8)
		for i := range regs {
			regs[i] = cur.Addr()
		}
		c.FirstFault.Regs = regs
	default:
		c.Notes.Unknown++
	}
}

func decodePrStatus(a *arch.Arch, d []byte) (*Thread, error) {
	l := a.PrStatus
	if len(d) != l.Size {
		return nil, fmt.Errorf("descriptor is %d bytes, want %d for %s", len(d), l.Size, a.Name)
	}
	o := a.ByteOrder
	t := &Thread{
		Signal:  int(o.Uint16(d[l.CurSig:])),
		SigPend: a.Word(d[l.SigPend:]),
		SigHold: a.Word(d[l.SigHold:]),
		TID:     int(int32(o.Uint32(d[l.PID:]))),
		PPID:    int(int32(o.Uint32(d[l.PID+4:]))),
		PGRP:    int(int32(o.Uint32(d[l.PID+8:]))),
		SID:     int(int32(o.Uint32(d[l.PID+12:]))),
		FPValid: o.Uint32(d[l.FPValid:]) != 0,
	}
	t.PID = t.TID // pr_pid is the thread id; the process id comes from NT_PRPSINFO
	// pr_reg holds one word (unsigned long) per register, but for RegSizes' exceptions
	// (s390x's 4-byte access registers, m68k's 2-byte sr, x32's 8-byte registers with
	// 4-byte longs); the registers of a.NoteRegs come with their own note
	// (decodeNoteRegs).
	n := a.PrRegs()
	t.Regs = make([]uint64, n)
	c := elfx.NewCursor(d[l.Regs:l.Regs+l.RegsSize], o, a.PtrSize == 8)
	for i := 0; i < n; i++ {
		size := a.PtrSize
		if a.RegSizes != nil {
			size = a.RegSizes[i]
		}
		switch size {
		case 2:
			t.Regs[i] = uint64(c.U16())
		case 4:
			t.Regs[i] = uint64(c.U32())
		default:
			t.Regs[i] = c.U64()
		}
	}
	if c.Err() != nil {
		return nil, fmt.Errorf("pr_reg: %d registers do not fit in %d bytes", n, l.RegsSize)
	}
	return t, nil
}

func decodePrPsInfo(a *arch.Arch, d []byte) (*PsInfo, error) {
	l := a.PrPsInfo
	if len(d) != l.Size {
		return nil, fmt.Errorf("descriptor is %d bytes, want %d for %s", len(d), l.Size, a.Name)
	}
	o := a.ByteOrder
	p := &PsInfo{
		State:  int(int8(d[l.State])),
		SName:  d[l.SName],
		Zombie: d[l.Zomb] != 0,
		Nice:   int(int8(d[l.Nice])),
		Flag:   a.Word(d[l.Flag:]),
		PID:    int(int32(o.Uint32(d[l.PID:]))),
		PPID:   int(int32(o.Uint32(d[l.PID+4:]))),
		PGRP:   int(int32(o.Uint32(d[l.PID+8:]))),
		SID:    int(int32(o.Uint32(d[l.PID+12:]))),
		FName:  cstring(d[l.FName : l.FName+16]),
	}
	if l.UIDSize == 2 {
		p.UID, p.GID = uint32(o.Uint16(d[l.UID:])), uint32(o.Uint16(d[l.GID:]))
	} else {
		p.UID, p.GID = o.Uint32(d[l.UID:]), o.Uint32(d[l.GID:])
	}
	args := d[l.PsArgs : l.PsArgs+80]
	// The kernel copies the argv block and replaces NULs with spaces, except the last one.
	p.Args = strings.TrimRight(strings.ReplaceAll(cstringN(args), "\x00", " "), " ")
	return p, nil
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// cstringN trims trailing NULs only.
func cstringN(b []byte) string {
	i := len(b)
	for i > 0 && b[i-1] == 0 {
		i--
	}
	return string(b[:i])
}

func decodeAuxv(a *arch.Arch, d []byte) []AuxvEntry {
	c := elfx.NewCursor(d, a.ByteOrder, a.PtrSize == 8)
	var out []AuxvEntry
	for c.Len() >= 2*a.PtrSize && len(out) < maxAuxv {
		tag, val := c.Addr(), c.Addr()
		if tag == AT_NULL {
			break
		}
		out = append(out, AuxvEntry{Tag: tag, Value: val})
	}
	return out
}

// decodeFile decodes NT_FILE: count, page size, count (start, end, page offset) triples,
// then count NUL-terminated names (linux/fs/binfmt_elf.c fill_files_note).
func decodeFile(a *arch.Arch, d []byte) ([]FileMapping, error) {
	w := uint64(a.PtrSize)
	c := elfx.NewCursor(d, a.ByteOrder, w == 8)
	count, pageSize := c.Addr(), c.Addr()
	if c.Err() != nil {
		return nil, fmt.Errorf("header: %w", c.Err())
	}
	if count > maxFileMappings || count*3*w > uint64(c.Len()) {
		return nil, fmt.Errorf("%d entries do not fit in %d bytes", count, len(d))
	}
	if pageSize == 0 || pageSize&(pageSize-1) != 0 || pageSize > 1<<30 {
		return nil, fmt.Errorf("page size %#x is not a power of two", pageSize)
	}
	files := make([]FileMapping, count)
	for i := range files {
		files[i].Start, files[i].End = c.Addr(), c.Addr()
		files[i].FileOff = c.Addr() * pageSize
	}
	names := d[c.Off():]
	for i := range files {
		j := 0
		for j < len(names) && names[j] != 0 {
			j++
		}
		if j == len(names) && i < len(files)-1 {
			return files[:i], fmt.Errorf("names end after %d of %d entries", i, count)
		}
		files[i].Name = string(names[:min(j, maxPathLen)])
		if j < len(names) {
			names = names[j+1:]
		} else {
			names = nil
		}
	}
	return files, nil
}

// decodeFilesNote reads the COREDIG files note: one "N\tdescription" line per
// descriptor. A malformed line is skipped and counted in one warning.
func (c *Core) decodeFilesNote(n elfx.Note) {
	bad := 0
	for _, line := range strings.Split(string(n.Desc), "\n") {
		if line == "" {
			continue
		}
		fd, d, ok := strings.Cut(line, "\t")
		v, err := strconv.Atoi(fd)
		if !ok || err != nil || v < 0 || d == "" {
			bad++
			continue
		}
		if c.Descriptors == nil {
			c.Descriptors = map[int]string{}
		}
		if len(c.Descriptors) >= maxDescriptors {
			c.warnf("COREDIG files note at file offset %#x: more than %d descriptors; the rest are left out", n.Off, maxDescriptors)
			break
		}
		c.Descriptors[v] = d
	}
	if bad > 0 {
		c.warnf("COREDIG files note at file offset %#x: %d malformed lines skipped", n.Off, bad)
	}
}
