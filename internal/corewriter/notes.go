package corewriter

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/coredig/coredig/internal/arch"
)

// noteBuf appends ELF notes: namesz, descsz, type, the name with its NUL padded to 4
// bytes, the descriptor padded to 4 bytes (linux/fs/binfmt_elf.c writenote).
type noteBuf struct {
	a   *arch.Arch
	b   bytes.Buffer
	err error
}

func (w *noteBuf) add(name string, typ uint32, desc []byte) {
	if len(desc) > maxDesc {
		if w.err == nil {
			w.err = fmt.Errorf("%w: note %s type %#x has %d bytes (at most %d)", ErrLayout, name, typ, len(desc), maxDesc)
		}
		return
	}
	bo := w.a.ByteOrder
	var h [12]byte
	bo.PutUint32(h[0:], uint32(len(name)+1))
	bo.PutUint32(h[4:], uint32(len(desc)))
	bo.PutUint32(h[8:], typ)
	w.b.Write(h[:])
	w.b.WriteString(name)
	w.b.Write(make([]byte, pad4(len(name)+1)-len(name)))
	w.b.Write(desc)
	w.b.Write(make([]byte, pad4(len(desc))-len(desc)))
}

func pad4(n int) int { return (n + 3) &^ 3 }

func buildNotes(p *Process) ([]byte, error) {
	w := &noteBuf{a: p.Arch}
	for i, t := range p.Threads {
		d, err := prstatus(p.Arch, &t)
		if err != nil {
			return nil, err
		}
		w.add("CORE", NT_PRSTATUS, d)
		if i == 0 {
			w.add("CORE", NT_PRPSINFO, prpsinfo(p.Arch, &p.PsInfo))
			if p.SigInfo != nil {
				if len(p.SigInfo) != siginfoSize {
					return nil, fmt.Errorf("%w: siginfo of %d bytes (want %d)", ErrLayout, len(p.SigInfo), siginfoSize)
				}
				w.add("CORE", NT_SIGINFO, p.SigInfo)
			}
			if p.Auxv != nil {
				w.add("CORE", NT_AUXV, p.Auxv)
			}
			if f := fileNote(p.Arch, p.Mappings); f != nil {
				w.add("CORE", NT_FILE, f)
			}
		}
		for _, rs := range t.RegSets {
			name := "LINUX"
			if rs.Type == NT_PRFPREG {
				name = "CORE"
			}
			w.add(name, rs.Type, rs.Data)
		}
	}
	for _, n := range p.Extra {
		w.add(n.Name, n.Type, n.Desc)
	}
	return w.b.Bytes(), w.err
}

// prstatus encodes struct elf_prstatus (fill_prstatus): pr_info.si_signo and pr_cursig
// are the signal, pr_pid the thread id.
func prstatus(a *arch.Arch, t *Thread) ([]byte, error) {
	l := a.PrStatus
	if len(t.Regs) != l.RegsSize {
		return nil, fmt.Errorf("%w: thread %d has %d bytes of general registers (want %d)", ErrLayout, t.TID, len(t.Regs), l.RegsSize)
	}
	bo := a.ByteOrder
	d := make([]byte, l.Size)
	bo.PutUint32(d[0:], uint32(t.Signal))
	bo.PutUint16(d[l.CurSig:], uint16(t.Signal))
	putWord(a, d[l.SigPend:], t.SigPend)
	putWord(a, d[l.SigHold:], t.SigHold)
	for i, v := range []int{t.TID, t.PPID, t.PGRP, t.SID} {
		bo.PutUint32(d[l.PID+4*i:], uint32(int32(v)))
	}
	tv := l.PID + 16
	for i, v := range []time.Duration{t.UTime, t.STime, t.CUTime, t.CSTime} {
		putWord(a, d[tv+i*l.TimevalLen:], uint64(v/time.Second))
		putWord(a, d[tv+i*l.TimevalLen+l.TimevalLen/2:], uint64(v%time.Second/time.Microsecond))
	}
	copy(d[l.Regs:], t.Regs)
	for _, rs := range t.RegSets {
		for _, c := range a.CoreRegSets {
			if c.Type == rs.Type && c.FP {
				bo.PutUint32(d[l.FPValid:], 1)
			}
		}
	}
	return d, nil
}

func putWord(a *arch.Arch, b []byte, v uint64) {
	if a.PtrSize == 4 {
		a.ByteOrder.PutUint32(b, uint32(v))
		return
	}
	a.ByteOrder.PutUint64(b, v)
}

// stateLetters is fill_psinfo's table: pr_state is the index of the lowest set task
// state bit plus one (0 when running), pr_sname the letter at that index.
const stateLetters = "RSDTZW"

// prpsinfo encodes struct elf_prpsinfo (fill_psinfo).
func prpsinfo(a *arch.Arch, p *PsInfo) []byte {
	l := a.PrPsInfo
	bo := a.ByteOrder
	d := make([]byte, l.Size)
	sname := p.SName
	if sname == 't' { // traced: /proc says 't', the kernel's table has no letter for it
		sname = 'T'
	}
	if i := strings.IndexByte(stateLetters, sname); i >= 0 {
		d[l.State] = byte(i)
	}
	d[l.SName] = sname
	if sname == 'Z' {
		d[l.Zomb] = 1
	}
	d[l.Nice] = byte(int8(p.Nice))
	putWord(a, d[l.Flag:], p.Flag)
	if l.UIDSize == 2 {
		bo.PutUint16(d[l.UID:], uint16(p.UID))
		bo.PutUint16(d[l.GID:], uint16(p.GID))
	} else {
		bo.PutUint32(d[l.UID:], p.UID)
		bo.PutUint32(d[l.GID:], p.GID)
	}
	for i, v := range []int{p.PID, p.PPID, p.PGRP, p.SID} {
		bo.PutUint32(d[l.PID+4*i:], uint32(int32(v)))
	}
	copy(d[l.FName:l.FName+15], p.FName)
	// pr_psargs: the command line, NULs as spaces, at most ELF_PRARGSZ-1 bytes.
	args := p.Args
	if len(args) > 79 {
		args = args[:79]
	}
	args = bytes.TrimRight(args, "\x00")
	for i, c := range args {
		if c == 0 {
			c = ' '
		}
		d[l.PsArgs+i] = c
	}
	return d
}

// fileNote encodes NT_FILE (fill_files_note): count and page size, then start, end and
// offset in pages for each file mapping, then their names, each NUL-terminated.
func fileNote(a *arch.Arch, ms []Mapping) []byte {
	var files []Mapping
	for _, m := range ms {
		if m.File != "" {
			files = append(files, m)
		}
	}
	if len(files) == 0 {
		return nil
	}
	w := a.PtrSize
	d := make([]byte, (2+3*len(files))*w)
	putWord(a, d[0:], uint64(len(files)))
	putWord(a, d[w:], a.PageSize)
	for i, m := range files {
		e := d[(2+3*i)*w:]
		putWord(a, e[0:], m.Start)
		putWord(a, e[w:], m.End)
		putWord(a, e[2*w:], m.Offset/a.PageSize)
	}
	for _, m := range files {
		d = append(d, m.File...)
		d = append(d, 0)
	}
	return d
}
