package elfx

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"testing"
)

func TestLoadBias(t *testing.T) {
	pie := []Prog{ // a PIE executable as gcc 12 lays it out
		{Type: elf.PT_PHDR, Off: 0x40, Vaddr: 0x40},
		{Type: elf.PT_LOAD, Off: 0, Vaddr: 0, Filesz: 0x6a0, Memsz: 0x6a0},
		{Type: elf.PT_LOAD, Off: 0x1000, Vaddr: 0x1000, Filesz: 0x2b5, Memsz: 0x2b5},
		{Type: elf.PT_LOAD, Off: 0x2db8, Vaddr: 0x3db8, Filesz: 0x260, Memsz: 0x268},
	}
	nopie := []Prog{
		{Type: elf.PT_LOAD, Off: 0, Vaddr: 0x400000, Filesz: 0x6a0, Memsz: 0x6a0},
		{Type: elf.PT_LOAD, Off: 0x1000, Vaddr: 0x401000, Filesz: 0x2b5, Memsz: 0x2b5},
	}
	for _, tc := range []struct {
		name           string
		progs          []Prog
		start, fileOff uint64
		want           uint64
		ok             bool
	}{
		{"PIE, header mapping", pie, 0x55d0c0000000, 0, 0x55d0c0000000, true},
		{"PIE, text mapping first", pie, 0x55d0c0001000, 0x1000, 0x55d0c0000000, true},
		{"PIE, data page (offset rounded down)", pie, 0x55d0c0003000, 0x2000, 0x55d0c0000000, true},
		{"non-PIE: bias 0", nopie, 0x400000, 0, 0, true},
		{"non-PIE text", nopie, 0x401000, 0x1000, 0, true},
		{"offset past every segment", nopie, 0x500000, 0x9000, 0, false},
	} {
		got, ok := LoadBias(tc.progs, tc.start, tc.fileOff)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: LoadBias = %#x, %v; want %#x, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// libc is on every machine the tests run on; debug/elf is the oracle for its program
// headers and its .note.gnu.build-id section.
func TestReadImageLibc(t *testing.T) {
	const exe = "/lib/x86_64-linux-gnu/libc.so.6"
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	im, err := ReadImage(f)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	if im.Header.Machine != ef.Machine || len(im.Progs) != len(ef.Progs) {
		t.Fatalf("machine %v progs %d; debug/elf says %v, %d", im.Header.Machine, len(im.Progs), ef.Machine, len(ef.Progs))
	}
	for i, p := range ef.Progs {
		q := im.Progs[i]
		if q.Type != p.Type || q.Off != p.Off || q.Vaddr != p.Vaddr || q.Filesz != p.Filesz || q.Memsz != p.Memsz || q.Flags != p.Flags {
			t.Errorf("prog %d: %+v, debug/elf %+v", i, q, p.ProgHeader)
		}
	}
	var want []byte
	for _, s := range ef.Sections {
		if s.Type == elf.SHT_NOTE {
			b, _ := s.Data()
			notes, _ := ParseNotes(b, binary.LittleEndian, 0)
			if id := BuildID(notes); id != nil {
				want = id
			}
		}
	}
	if len(want) != 20 || !bytes.Equal(im.BuildID, want) {
		t.Errorf("build-id %x, sections say %x", im.BuildID, want)
	}
}

func TestParseNotesBounds(t *testing.T) {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, []uint32{4, 3, NT_GNU_BUILD_ID})
	b.WriteString("GNU\x00\xaa\xbb\xcc")
	b.WriteByte(0)
	notes, err := ParseNotes(b.Bytes(), binary.LittleEndian, 0x100)
	if err != nil || len(notes) != 1 || !bytes.Equal(BuildID(notes), []byte{0xaa, 0xbb, 0xcc}) {
		t.Fatalf("notes %+v, err %v", notes, err)
	}
	over := append([]byte(nil), b.Bytes()...)
	binary.LittleEndian.PutUint32(over[4:], 0xffffffff)
	if _, err := ParseNotes(over, binary.LittleEndian, 0x100); err == nil || err.Error() != "note at offset 0x100: name size 4 and descriptor size 4294967295 overrun the 20-byte segment" {
		t.Errorf("oversized descriptor: %v", err)
	}
}

func FuzzParseNotes(f *testing.F) {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, []uint32{5, 8, 1})
	b.WriteString("CORE\x00\x00\x00\x00")
	b.Write(make([]byte, 8))
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		notes, _ := ParseNotes(data, binary.LittleEndian, 0)
		for _, n := range notes {
			if len(n.Desc) > len(data) {
				t.Fatalf("descriptor longer than the input")
			}
		}
	})
}

// tinyImage is a whole ELF image in a few hundred bytes: header, a PT_LOAD and a PT_NOTE
// holding a GNU build-id, 64-bit little-endian or 32-bit big-endian.
func tinyImage(is64 bool) []byte {
	var note bytes.Buffer
	var order binary.ByteOrder = binary.LittleEndian
	if !is64 {
		order = binary.BigEndian
	}
	binary.Write(&note, order, []uint32{4, 20, 3}) // NT_GNU_BUILD_ID
	note.WriteString("GNU\x00")
	for i := 0; i < 20; i++ {
		note.WriteByte(byte(0xa0 + i))
	}
	var b bytes.Buffer
	if is64 {
		const phoff, noteOff = 64, 64 + 2*56
		binary.Write(&b, order, elf.Header64{
			Ident: [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
			Type:  uint16(elf.ET_DYN), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
			Phoff: phoff, Ehsize: 64, Phentsize: 56, Phnum: 2,
		})
		binary.Write(&b, order, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
			Filesz: noteOff + uint64(note.Len()), Memsz: noteOff + uint64(note.Len()), Align: 0x1000})
		binary.Write(&b, order, elf.Prog64{Type: uint32(elf.PT_NOTE), Flags: uint32(elf.PF_R), Off: noteOff,
			Vaddr: noteOff, Filesz: uint64(note.Len()), Memsz: uint64(note.Len()), Align: 4})
	} else {
		const phoff, noteOff = 52, 52 + 2*32
		binary.Write(&b, order, elf.Header32{
			Ident: [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS32), byte(elf.ELFDATA2MSB), byte(elf.EV_CURRENT)},
			Type:  uint16(elf.ET_EXEC), Machine: uint16(elf.EM_ARM), Version: uint32(elf.EV_CURRENT),
			Phoff: phoff, Ehsize: 52, Phentsize: 32, Phnum: 2,
		})
		binary.Write(&b, order, elf.Prog32{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
			Filesz: noteOff + uint32(note.Len()), Memsz: noteOff + uint32(note.Len()), Align: 0x1000})
		binary.Write(&b, order, elf.Prog32{Type: uint32(elf.PT_NOTE), Flags: uint32(elf.PF_R), Off: noteOff,
			Vaddr: noteOff, Filesz: uint32(note.Len()), Memsz: uint32(note.Len()), Align: 4})
	}
	b.Write(note.Bytes())
	return b.Bytes()
}

func TestTinyImage(t *testing.T) {
	for _, is64 := range []bool{true, false} {
		im, err := ReadImage(bytes.NewReader(tinyImage(is64)))
		if err != nil || len(im.Progs) != 2 || len(im.BuildID) != 20 || im.BuildID[0] != 0xa0 {
			t.Fatalf("64-bit %v: %+v, %v", is64, im, err)
		}
	}
}

// FuzzReadImage reads arbitrary bytes as an ELF image. Seeds: the two tiny images, a few
// hundred bytes each, and the 8 KiB head of this test binary.
func FuzzReadImage(f *testing.F) {
	f.Add(tinyImage(true))
	f.Add(tinyImage(false))
	exe, err := os.Executable()
	if err == nil {
		if b, err := os.ReadFile(exe); err == nil {
			f.Add(b[:min(len(b), 8192)])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadImage(bytes.NewReader(data))
	})
}
