package buildid

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"testing"
)

func TestTinyFixture(t *testing.T) {
	info, err := ReadFile("testdata/tiny.elf")
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(info.BuildID); got != idA {
		t.Errorf("build-id %s, want %s", got, idA)
	}
	if info.Debuglink != "tiny.debug" || info.DebuglinkCRC != 0x6ca547a7 || info.HasDWARF || info.HasDebugData || len(info.Problems) != 0 {
		t.Errorf("info %+v, want debuglink tiny.debug crc 0x6ca547a7, no DWARF, no problems", info)
	}
}

// FuzzRead feeds arbitrary bytes as an ELF file: no panic, bounded work,
// and a build-id, when found, within the accepted length.
func FuzzRead(f *testing.F) {
	seed, err := os.ReadFile("testdata/tiny.elf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:64])
	f.Add(seed[:len(seed)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if len(info.BuildID) > maxBuildIDLen {
			t.Fatalf("build-id of %d bytes", len(info.BuildID))
		}
	})
}

// FuzzParseNotes feeds arbitrary note regions, seeded with the real
// .note.gnu.build-id of tiny.elf.
func FuzzParseNotes(f *testing.F) {
	seed, err := os.ReadFile("testdata/tiny.elf")
	if err != nil {
		f.Fatal(err)
	}
	const noteOff, noteLen = 0x158, 36 // from readelf -S: .note.gnu.build-id
	note := seed[noteOff : noteOff+noteLen]
	if id, err := ParseNotes(note, binary.LittleEndian, 4); err != nil || hex.EncodeToString(id) != idA {
		f.Fatalf("seed note: %x, %v", id, err)
	}
	f.Add(note, uint8(4), false)
	f.Add(note, uint8(8), true)
	f.Fuzz(func(t *testing.T, b []byte, align uint8, big bool) {
		var order binary.ByteOrder = binary.LittleEndian
		if big {
			order = binary.BigEndian
		}
		id, err := ParseNotes(b, order, uint64(align))
		if err == nil && len(id) > maxBuildIDLen {
			t.Fatalf("build-id of %d bytes", len(id))
		}
	})
}
