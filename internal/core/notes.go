package core

import (
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
}

// NoteName returns the name of a note type, or "" when unknown.
func NoteName(t uint32) string { return noteNames[t] }

// Limits on NT_FILE.
const (
	maxFileMappings = 1 << 20
	maxPathLen      = 4096
	maxAuxv         = 4096
)

func (c *Core) decodeNotes(notes []elfx.Note) {
	a := c.Arch
	var cur *Thread
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
		case NT_ARM_TLS:
			if cur != nil && len(n.Desc) >= 8 {
				cur.TLS, cur.HasTLS = a.ByteOrder.Uint64(n.Desc), true
			}
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
