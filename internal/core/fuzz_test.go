package core

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/corewriter"
	"github.com/coredig/coredig/internal/elfx"
)

// fixtureHead returns the first n bytes of a committed real core (ELF header, program
// headers and notes), the seed of the fuzz corpus.
func fixtureHead(t testing.TB, name string, n int) []byte {
	t.Helper()
	zf, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", name))
	if err != nil {
		t.Fatalf("seed fixture: %v", err)
	}
	d, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b, err := d.DecodeAll(zf, nil)
	if err != nil {
		t.Fatalf("decompress %s: %v", name, err)
	}
	return b[:min(n, len(b))]
}

// fixtureNotes returns the notes of a committed real core, and the core read whole.
func fixtureNotes(t testing.TB, name string) ([]elfx.Note, *Core) {
	t.Helper()
	whole := fixtureHead(t, name, 1<<30)
	r := bytes.NewReader(whole)
	h, err := elfx.ReadHeader(r)
	if err != nil {
		t.Fatal(err)
	}
	progs, err := elfx.ReadProgs(r, h)
	if err != nil {
		t.Fatal(err)
	}
	var notes []elfx.Note
	for _, p := range progs {
		if p.Type == elf.PT_NOTE {
			n, err := elfx.ParseNotes(whole[p.Off:p.Off+p.Filesz], h.ByteOrder, int64(p.Off))
			if err != nil {
				t.Fatal(err)
			}
			notes = append(notes, n...)
		}
	}
	c, err := NewCore(r, int64(len(whole)), name)
	if err != nil {
		t.Fatal(err)
	}
	return notes, c
}

// pickNotes keeps the first note of each of types, in that order, encoded as a note segment.
func pickNotes(notes []elfx.Note, types ...uint32) []byte {
	var b []byte
	le := binary.LittleEndian
	for _, typ := range types {
		for _, n := range notes {
			if n.Type != typ {
				continue
			}
			b = le.AppendUint32(b, uint32(len(n.Name)+1))
			b = le.AppendUint32(b, uint32(len(n.Desc)))
			b = le.AppendUint32(b, n.Type)
			b = append(b, n.Name...)
			b = append(b, make([]byte, 4-len(n.Name)%4)...) // NUL and padding to 4
			b = append(b, n.Desc...)
			b = append(b, make([]byte, (4-len(n.Desc)%4)%4)...)
			break
		}
	}
	return b
}

// miniCore is a small real core made from a committed one: an ELF header, a PT_NOTE with
// the notes given (copied from the fixture) and one PT_LOAD holding the 256 bytes of the
// first thread's stack from its stack pointer. A few hundred bytes to a few KiB, against
// the 16 KiB of a fixture's head, so mutations reach each note decoder and the memory
// reads quickly.
func miniCore(notes []elfx.Note, c *Core, types ...uint32) []byte {
	seg := pickNotes(notes, types...)
	stack := make([]byte, 256)
	sp := c.Threads[0].SP(c.Arch)
	c.ReadAt(stack, sp)
	const ehsize, phsize = 64, 56
	noteOff := uint64(ehsize + 2*phsize)
	loadOff := noteOff + uint64(len(seg))
	var b bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&b, le, elf.Header64{
		Ident:     [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:      uint16(elf.ET_CORE),
		Machine:   uint16(elf.EM_X86_64),
		Version:   uint32(elf.EV_CURRENT),
		Phoff:     ehsize,
		Ehsize:    ehsize,
		Phentsize: phsize,
		Phnum:     2,
	})
	binary.Write(&b, le, elf.Prog64{Type: uint32(elf.PT_NOTE), Off: noteOff, Filesz: uint64(len(seg))})
	binary.Write(&b, le, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: loadOff,
		Vaddr: sp, Filesz: uint64(len(stack)), Memsz: uint64(len(stack)), Align: 1})
	b.Write(seg)
	b.Write(stack)
	return b.Bytes()
}

// FuzzNewCore feeds arbitrary bytes to the core reader and then asks the questions the
// summary asks. It must never panic, hang or allocate without bound. The seeds are small
// cores made from the committed ones (see miniCore), and their 16 KiB heads. FuzzNotes is
// its sibling over the note decoders alone.
func FuzzNewCore(f *testing.F) {
	for _, name := range []string{"sample.core.zst", "static-deref/core.zst"} {
		notes, c := fixtureNotes(f, name)
		f.Add(miniCore(notes, c, NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV))
		f.Add(miniCore(notes, c, NT_PRSTATUS, NT_SIGINFO, NT_FILE))
		head := fixtureHead(f, name, 16<<10)
		f.Add(head)
		f.Add(head[:len(head)/3])
	}
	f.Add(coredigNotesSeed(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := NewCore(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		buf := make([]byte, 64)
		for _, th := range c.Threads {
			c.ReadAt(buf, th.SP(c.Arch))
			c.ReadAt(buf, th.PC(c.Arch))
		}
		if v, ok := c.AuxvValue(AT_EXECFN); ok {
			c.ReadCString(v, 4096)
		}
		c.Argv()
		for _, m := range c.Files {
			c.ReadAt(buf, m.Start)
		}
		if c.SigInfo != nil {
			CodeName(c.SigInfo.Signo, c.SigInfo.Code)
		}
		if ff := c.FirstFault; ff != nil && ff.SigInfo != nil {
			CodeName(ff.SigInfo.Signo, ff.SigInfo.Code)
		}
	})
}

// coredigNotesSeed is a small core such as coredig run writes, with COREDIG notes.
func coredigNotesSeed(t testing.TB) []byte {
	a := arch.AMD64
	si := make([]byte, SigInfoSize)
	a.ByteOrder.PutUint32(si, 11)
	first := append(append([]byte{}, si...), 7, 0, 0, 0)
	p := &corewriter.Process{Arch: a,
		Threads: []corewriter.Thread{{TID: 7, Signal: 11, Regs: make([]byte, a.PrStatus.RegsSize)}},
		SigInfo: si,
		Extra: []corewriter.Note{{Name: corewriter.NoteOwner, Type: corewriter.NT_COREDIG_FIRST_SIGINFO, Desc: first},
			{Name: corewriter.NoteOwner, Type: corewriter.NT_COREDIG_FIRST_REGS, Desc: make([]byte, a.PrStatus.RegsSize)},
			{Name: corewriter.NoteOwner, Type: corewriter.NT_COREDIG_FILES, Desc: []byte("0\t/dev/null\n3\tpipe:[42] (read end)\nbad line\n")}},
	}
	im, err := corewriter.NewImage(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, im.Size())
	if _, err := im.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

// encodeNotes lays out notes as a note segment in the given byte order.
func encodeNotes(order binary.AppendByteOrder, notes ...elfx.Note) []byte {
	var b []byte
	for _, n := range notes {
		b = order.AppendUint32(b, uint32(len(n.Name)+1))
		b = order.AppendUint32(b, uint32(len(n.Desc)))
		b = order.AppendUint32(b, n.Type)
		b = append(b, n.Name...)
		b = append(b, make([]byte, 4-len(n.Name)%4)...) // NUL and padding to 4
		b = append(b, n.Desc...)
		b = append(b, make([]byte, (4-len(n.Desc)%4)%4)...)
	}
	return b
}

// archIndex is a's place in arch.All, FuzzNotes' second argument.
func archIndex(a *arch.Arch) uint8 {
	for i, b := range arch.All {
		if a == b {
			return uint8(i)
		}
	}
	panic(a.Name)
}

// FuzzNotes decodes arbitrary note segments as the notes of a core of each architecture
// (arch.All[which]): the note layer of FuzzNewCore without the ELF headers and the memory
// reads. A thread has pr_reg's registers, or all of the architecture's when its
// NT_PRFPREG held the rest (decodeNoteRegs, s390x and ppc64le); the COREDIG notes give a
// first fault with every register or none, and descriptors with a number and a one-line
// description. Seeds: notes of the committed cores, one of each kind the decoders know,
// a whole thread's set; for the architectures without a committed core, notes of the
// kernel's sizes with a thread id, pc and sp; NT_PRFPREG of s390x and ppc64le as in
// TestNoteRegs; and the COREDIG notes of coredig run.
func FuzzNotes(f *testing.F) {
	amd64 := archIndex(arch.AMD64)
	for _, name := range []string{"sample.core.zst", "static-deref/core.zst"} {
		notes, _ := fixtureNotes(f, name)
		for _, typ := range []uint32{NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE} {
			f.Add(pickNotes(notes, typ), amd64)
		}
		f.Add(pickNotes(notes, NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE, NT_PRPSINFO, NT_SIGINFO), amd64)
	}
	for _, a := range arch.All {
		if a == arch.AMD64 {
			continue
		}
		o := a.ByteOrder
		st := make([]byte, a.PrStatus.Size)
		o.PutUint32(st[a.PrStatus.PID:], 4242)
		put := func(b []byte, v uint64) {
			if a.PtrSize == 4 {
				o.PutUint32(b, uint32(v))
			} else {
				o.PutUint64(b, v)
			}
		}
		put(st[a.PrStatus.Regs+a.PtrSize*a.PC:], 0x400100)
		put(st[a.PrStatus.Regs+a.PtrSize*a.SP:], 0xfffff000)
		ps := make([]byte, a.PrPsInfo.Size)
		copy(ps[a.PrPsInfo.FName:], "sample")
		notes := []elfx.Note{{Name: "CORE", Type: NT_PRSTATUS, Desc: st}, {Name: "CORE", Type: NT_PRPSINFO, Desc: ps}}
		switch a {
		case arch.ARM64:
			notes = append(notes, elfx.Note{Name: "LINUX", Type: NT_ARM_TLS, Desc: o.(binary.AppendByteOrder).AppendUint64(nil, 0xfffff7ff0000)})
		case arch.S390X: // s390_fp_regs: fpc, padding, fprs[16]
			fp := make([]byte, 136)
			o.PutUint32(fp[0:], 0x00080000)
			o.PutUint64(fp[8:], 0x3ff0000000000000)
			notes = append(notes, elfx.Note{Name: "CORE", Type: NT_PRFPREG, Desc: fp})
		case arch.PPC64LE: // elf_fpregset_t: fpr[32], fpscr
			fp := make([]byte, 264)
			o.PutUint64(fp[31*8:], 0x400921fb54442d18)
			o.PutUint64(fp[256:], 0x2000)
			notes = append(notes, elfx.Note{Name: "CORE", Type: NT_PRFPREG, Desc: fp})
		case arch.RISCV64: // __riscv_d_ext_state: f[32], fcsr; no register of RegNames
			notes = append(notes, elfx.Note{Name: "CORE", Type: NT_PRFPREG, Desc: make([]byte, 264)})
		}
		f.Add(encodeNotes(o.(binary.AppendByteOrder), notes...), archIndex(a))
	}
	// The COREDIG notes of coredig run (see coredigNotesSeed), of amd64 and of s390x,
	// big-endian.
	for _, a := range []*arch.Arch{arch.AMD64, arch.S390X} {
		si := make([]byte, SigInfoSize)
		a.ByteOrder.PutUint32(si, 11)
		o := a.ByteOrder.(binary.AppendByteOrder)
		first := o.AppendUint32(append([]byte{}, si...), 7)
		f.Add(encodeNotes(o,
			elfx.Note{Name: coredigOwner, Type: ntCoredigFirstSigInfo, Desc: first},
			elfx.Note{Name: coredigOwner, Type: ntCoredigFirstRegs, Desc: make([]byte, a.PrStatus.RegsSize)},
			elfx.Note{Name: coredigOwner, Type: ntCoredigFiles, Desc: []byte("0\t/dev/null\n1\t/tmp/bash_jobs.0/cf5a6129902c/stdout\n" +
				"3\tpipe:[788162] (read end)\n5\tsocket:[788157] TCP 127.0.0.1:53132 -> 127.0.0.1:39607 (ESTABLISHED)\nbad line\n")}),
			archIndex(a))
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		a := arch.All[int(which)%len(arch.All)]
		notes, _ := elfx.ParseNotes(data, a.ByteOrder, 0)
		c := &Core{Arch: a}
		c.Notes.ByType = map[string]int{}
		c.decodeNotes(notes)
		for _, th := range c.Threads {
			if len(th.Regs) != a.PrRegs() && len(th.Regs) != len(a.RegNames) {
				t.Fatalf("%s: %d registers, want %d or %d", a.Name, len(th.Regs), a.PrRegs(), len(a.RegNames))
			}
		}
		if ff := c.FirstFault; ff != nil && ff.Regs != nil && len(ff.Regs) != len(a.RegNames) {
			t.Fatalf("%s: first fault with %d registers, want %d", a.Name, len(ff.Regs), len(a.RegNames))
		}
		if len(c.Descriptors) > maxDescriptors {
			t.Fatalf("%d descriptors", len(c.Descriptors))
		}
		for fd, d := range c.Descriptors {
			if fd < 0 || d == "" || strings.Contains(d, "\n") {
				t.Fatalf("descriptor %d: %q", fd, d)
			}
		}
		if len(c.Auxv) > maxAuxv || len(c.Warnings) > 2*len(notes) {
			t.Fatalf("%d auxv entries, %d warnings from %d notes", len(c.Auxv), len(c.Warnings), len(notes))
		}
		if c.SigInfo != nil {
			CodeName(c.SigInfo.Signo, c.SigInfo.Code)
		}
	})
}

func TestFixtureNotes(t *testing.T) {
	head := fixtureHead(t, "sample.core.zst", 1<<30)
	c, err := NewCore(bytes.NewReader(head), int64(len(head)), "sample")
	if err != nil {
		t.Fatal(err)
	}
	// Values from testdata/fixtures/README.md (and `readelf -n` of the core).
	if c.Arch.Name != "x86_64" || len(c.Threads) != 4 || c.Threads[0].TID != 15327 || c.PsInfo.PID != 15327 {
		t.Fatalf("arch %s threads %d first tid %d", c.Arch.Name, len(c.Threads), c.Threads[0].TID)
	}
	want := []int{15327, 15328, 15329, 15330}
	got := map[int]bool{}
	for _, th := range c.Threads {
		got[th.TID] = true
	}
	for _, tid := range want {
		if !got[tid] {
			t.Errorf("thread %d missing", tid)
		}
	}
	s := c.SigInfo
	if s.Signo != 11 || s.Code != 1 || !s.HasAddr || s.Addr != 0x60 || s.HasSender {
		t.Errorf("siginfo %+v", s)
	}
	if CodeName(s.Signo, s.Code) != "SEGV_MAPERR" || SignalName(s.Signo) != "SIGSEGV" {
		t.Errorf("names %s %s", SignalName(s.Signo), CodeName(s.Signo, s.Code))
	}
	if c.PsInfo.FName != "sample" || c.PsInfo.Args != "./sample" {
		t.Errorf("psinfo %+v", c.PsInfo)
	}
	if c.Notes.ByType["NT_PRSTATUS"] != 4 || c.Notes.ByType["NT_FILE"] != 1 || c.Notes.ByType["NT_SIGINFO"] != 1 || c.Notes.XState == 0 {
		t.Errorf("note counts %+v", c.Notes)
	}
	if c.Files[0].Name != "/tmp/coredig-fixtures/sample/sample" || c.Files[0].FileOff != 0 {
		t.Errorf("first NT_FILE entry %+v", c.Files[0])
	}
	fn, _ := c.AuxvValue(AT_EXECFN)
	if s, _, err := c.ReadCString(fn, 4096); err != nil || s != "./sample" {
		t.Errorf("AT_EXECFN %q %v", s, err)
	}
	if args, err := c.Argv(); err != nil || len(args) != 1 || args[0] != "./sample" {
		t.Errorf("argv %q %v, want [./sample]", args, err)
	}
	// Text of a file-backed mapping is not in the core: the error says so.
	var text uint64
	for _, m := range c.Files {
		if m.FileOff == 0x1000 {
			text = m.Start
			break
		}
	}
	if _, err := c.ReadAt(make([]byte, 4), text); !IsMemError(err, NotDumped) {
		t.Errorf("text page read: %v, want not dumped", err)
	}
	if _, err := c.ReadAt(make([]byte, 4), 0x60); !IsMemError(err, Unmapped) {
		t.Errorf("read at 0x60: %v, want unmapped", err)
	}
	cut, err := NewCore(bytes.NewReader(head[:len(head)/2]), int64(len(head)/2), "half")
	if err != nil {
		t.Fatal(err)
	}
	if !cut.Truncated() {
		t.Error("half core not truncated")
	}
	if args, err := cut.Argv(); err == nil {
		t.Errorf("argv %q from a core cut before its stack", args)
	}
	last := cut.Segments[len(cut.Segments)-1]
	if _, err := cut.ReadAt(make([]byte, 4), last.Vaddr); !IsMemError(err, Truncated) {
		t.Errorf("read in the cut segment: %v, want cut off by truncation", err)
	}
}

// The small seed cores read back as the cores they were made from.
func TestMiniCore(t *testing.T) {
	notes, whole := fixtureNotes(t, "sample.core.zst")
	b := miniCore(notes, whole, NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV)
	c, err := NewCore(bytes.NewReader(b), int64(len(b)), "mini")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Threads) != 1 || c.Threads[0].TID != 15327 || c.PsInfo == nil || c.PsInfo.FName != "sample" ||
		c.SigInfo == nil || c.SigInfo.Addr != 0x60 || len(c.Auxv) == 0 || len(c.Warnings) != 0 {
		t.Fatalf("%d-byte core: threads %d, psinfo %+v, siginfo %+v, %d auxv, warnings %q",
			len(b), len(c.Threads), c.PsInfo, c.SigInfo, len(c.Auxv), c.Warnings)
	}
	sp := c.Threads[0].SP(c.Arch)
	got, want := make([]byte, 16), make([]byte, 16)
	whole.ReadAt(want, sp)
	if _, err := c.ReadAt(got, sp); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("stack at %#x: %x (%v), want %x", sp, got, err, want)
	}
	t.Logf("%d bytes", len(b))
}

// FuzzExtraRegs reads arbitrary notes as one thread's register notes of each
// architecture (arch.All[which]) with an arbitrary AT_HWCAP: every value it gives is
// as wide as its register, in ExtraRegs order, and a note is reported short at most
// once; the thread pointer hook takes any descriptor. Seeds: the sets of the kernels'
// cores of TestKernelCoreNoteRegisters (ppc64le VMX and VSX with f0-f31, s390x last
// break, system call and vectors, 32-bit ARM VFP, i386 FXSAVE and TLS, aarch64 FPSIMD,
// TLS and PAC mask), at their kernels' sizes, and short ones.
func FuzzExtraRegs(f *testing.F) {
	seed := func(a *arch.Arch, hwcap uint64, notes ...elfx.Note) {
		for i := range notes {
			notes[i].Name = "LINUX"
		}
		f.Add(encodeNotes(a.ByteOrder.(binary.AppendByteOrder), notes...), archIndex(a), hwcap)
	}
	fill := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + 1)
		}
		return b
	}
	seed(arch.PPC64LE, 0xdc0065c2, elfx.Note{Type: NT_PRFPREG, Desc: fill(264)}, elfx.Note{Type: NT_PPC_VMX, Desc: fill(544)},
		elfx.Note{Type: NT_PPC_VSX, Desc: fill(256)}, elfx.Note{Type: NT_PPC_TAR, Desc: fill(8)})
	seed(arch.PPC64LE, 0, elfx.Note{Type: NT_PPC_VMX, Desc: fill(520)}, elfx.Note{Type: NT_PPC_VSX, Desc: fill(256)})
	seed(arch.S390X, 0x37f, elfx.Note{Type: NT_PRFPREG, Desc: fill(136)}, elfx.Note{Type: NT_S390_LAST_BREAK, Desc: fill(8)},
		elfx.Note{Type: NT_S390_SYSTEM_CALL, Desc: fill(4)}, elfx.Note{Type: NT_S390_VXRS_LOW, Desc: fill(128)},
		elfx.Note{Type: NT_S390_VXRS_HIGH, Desc: fill(256)}, elfx.Note{Type: NT_S390_GS_CB, Desc: fill(32)})
	seed(arch.ARM, 0xe8d7, elfx.Note{Type: NT_ARM_VFP, Desc: fill(260)})
	seed(arch.I386, 0xbfebfbff, elfx.Note{Type: NT_PRXFPREG, Desc: fill(512)}, elfx.Note{Type: NT_386_TLS, Desc: fill(48)})
	seed(arch.ARM64, 7, elfx.Note{Type: NT_PRFPREG, Desc: fill(528)}, elfx.Note{Type: NT_ARM_TLS, Desc: fill(8)},
		elfx.Note{Type: NT_ARM_PAC_MASK, Desc: fill(12)})
	f.Fuzz(func(t *testing.T, data []byte, which uint8, hwcap uint64) {
		a := arch.All[int(which)%len(arch.All)]
		notes, _ := elfx.ParseNotes(data, a.ByteOrder, 0)
		vals, short := ExtraRegs(a, notes, hwcap)
		j := 0
		for _, v := range vals {
			for j < len(a.ExtraRegs) && a.ExtraRegs[j].Name != v.Name {
				j++
			}
			if j == len(a.ExtraRegs) {
				t.Fatalf("%s: register %s out of order or unknown", a.Name, v.Name)
			}
			if len(v.Value) != a.ExtraRegs[j].Size() {
				t.Fatalf("%s: %s is %d bytes, want %d", a.Name, v.Name, len(v.Value), a.ExtraRegs[j].Size())
			}
		}
		seen := map[uint32]bool{}
		for _, n := range short {
			if seen[n.Type] {
				t.Fatalf("%s: note %#x reported short twice", a.Name, n.Type)
			}
			seen[n.Type] = true
		}
		if a.ThreadPointer != nil {
			regs := make([]uint64, len(a.RegNames))
			for i := range regs {
				regs[i] = hwcap >> (i % 8)
			}
			for _, n := range notes {
				a.ThreadPointer(n.Type, n.Desc, regs)
			}
			a.ThreadPointer(NT_386_TLS, data, regs[:1])
		}
	})
}
