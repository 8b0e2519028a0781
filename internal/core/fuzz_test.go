package core

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/corewriter"
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

// FuzzNewCore feeds arbitrary bytes to the core reader and then asks the questions the
// summary asks. It must never panic, hang or allocate without bound.
func FuzzNewCore(f *testing.F) {
	for _, name := range []string{"sample.core.zst", "static-deref/core.zst"} {
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
			{Name: corewriter.NoteOwner, Type: corewriter.NT_COREDIG_FIRST_REGS, Desc: make([]byte, a.PrStatus.RegsSize)}},
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
