package elfx

import (
	"encoding/binary"
	"fmt"
)

// Note is one ELF note. Desc aliases the buffer it was parsed from.
type Note struct {
	Name string
	Type uint32
	Desc []byte
	Off  int64 // file offset of the note header
}

// ParseNotes splits a note segment. base is the file offset of data, for error messages.
// It returns the notes decoded before the first malformed one, and an error describing it.
func ParseNotes(data []byte, order binary.ByteOrder, base int64) ([]Note, error) {
	var notes []Note
	off := 0
	for off < len(data) {
		if len(notes) >= MaxNotes {
			return notes, &FormatError{What: "note segment", Off: base + int64(off), Err: fmt.Errorf("more than %d notes", MaxNotes)}
		}
		if len(data)-off < 12 {
			// Trailing padding shorter than a header is tolerated.
			if allZero(data[off:]) {
				break
			}
			return notes, &FormatError{What: "note header", Off: base + int64(off), Err: fmt.Errorf("%d trailing bytes", len(data)-off)}
		}
		namesz := uint64(order.Uint32(data[off:]))
		descsz := uint64(order.Uint32(data[off+4:]))
		typ := order.Uint32(data[off+8:])
		p := uint64(off + 12)
		nameEnd := p + namesz
		descOff := align4(nameEnd)
		descEnd := descOff + descsz
		if nameEnd > uint64(len(data)) || descEnd > uint64(len(data)) {
			return notes, &FormatError{What: "note", Off: base + int64(off),
				Err: fmt.Errorf("name size %d and descriptor size %d overrun the %d-byte segment", namesz, descsz, len(data))}
		}
		name := data[p:nameEnd]
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		notes = append(notes, Note{Name: string(name), Type: typ, Desc: data[descOff:descEnd], Off: base + int64(off)})
		next := align4(descEnd)
		if next > uint64(len(data)) {
			next = uint64(len(data))
		}
		off = int(next)
	}
	return notes, nil
}

func align4(x uint64) uint64 { return (x + 3) &^ 3 }

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// NT_GNU_BUILD_ID is the GNU build-id note type (name "GNU").
const NT_GNU_BUILD_ID = 3

// MaxBuildIDLen caps a build-id; real ones are 16 (md5/uuid) or 20 (sha1) bytes.
const MaxBuildIDLen = 64

// BuildID returns the GNU build-id among notes, or nil.
func BuildID(notes []Note) []byte {
	for _, n := range notes {
		if n.Name == "GNU" && n.Type == NT_GNU_BUILD_ID && len(n.Desc) > 0 && len(n.Desc) <= MaxBuildIDLen {
			return n.Desc
		}
	}
	return nil
}
